#!/usr/bin/env python3
"""Live heap of a vigil run by component, from heaptrack's leak report.

Run vigil under heaptrack, add the cameras, wait, and kill -9 it: what
heaptrack reports as "leaked" is then the heap in use at that moment (a clean
SIGTERM would free it first). Then:

  heaptrack_print -f vigil.zst -p 0 -a 0 -T 0 -l 1 -n 400 -s 400 > leaks.txt
  bench/ingest/heap-categories.py leaks.txt 8        # 8 = cameras

Each backtrace goes to the first category whose rule matches its function
names (vigil's own symbols and the libraries' exported ones); the rest is
"other". Python standard library only.
"""

import collections
import re
import sys

SKIP = ("MEMORY", "total", "calls", "temporary", "peak", "suppressed", "reading",
        "Debuggee", "finished")

RULES = [
    ("keyframe decoder: pictures (buffer pool)",
     lambda f: "avcodec_default_get_buffer2" in f and "analyse" in f),
    ("keyframe decoder: context, tables, swscale",
     lambda f: "analyse" in f and any(x in f for x in (
         "open_context", "avcodec_send_packet", "vigil_decoder_decode_gray", "decode_one",
         "sws_getCachedContext"))),
    ("alarm/motion state (previous pictures)",
     lambda f: any(x.startswith("vigil_motion") for x in f)),
    ("TS chunks alive (GOP cache, writer batches, pre-roll)",
     lambda f: "vigil_ts_mux_video" in f or "vigil_ts_mux_audio" in f),
    ("RTSP receive buffer", lambda f: "receive" in f and "vigil_rtsp_client_play" in f),
    ("RTP depayloader buffer", lambda f: "put" in f or any(x.startswith("depay") for x in f)),
    ("H.264/H.265 parser (picture size)", lambda f: "av_parser_parse2" in f),
    ("latest keyframe copy (snapshots, analysis queue)",
     lambda f: "gst_buffer_new_memdup" in f and "vigil_video_feed_push" in f),
    ("recording thumbnail", lambda f: "vigil_thumbnail_write" in f),
    ("segment writer", lambda f: any(x in f for x in (
        "writer_thread", "do_chunk", "close_segment", "write_playlist"))),
]


def size(text):
    m = re.match(r"([0-9.]+)([KMG]?)", text)
    return float(m.group(1)) * {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}[m.group(2)]


def entries(lines):
    """(bytes, [function names]) for every backtrace of the leak report."""
    out, cur, top = [], None, None
    for line in lines:
        if re.match(r"^([0-9.]+[KMG]?) leaked over (\d+) calls from$", line):
            top = None  # a new allocation function follows
            continue
        if line and not line[0].isspace() and top is None and not line.startswith(SKIP):
            top = line.strip()
            continue
        m = re.match(r"^([0-9.]+[KMG]?) leaked over (\d+) calls from:$", line)
        if m:
            cur = (size(m.group(1)), [top])
            out.append(cur)
            continue
        m = re.match(r"^  and ([0-9.]+[KMG]?) from (\d+) other places", line)
        if m:
            out.append((size(m.group(1)), [top, "(other places)"]))
            cur = None
            continue
        m = re.match(r"^    (\S.*)$", line)
        if m and cur is not None:
            cur[1].append(m.group(1).strip())
    return out


def main():
    with open(sys.argv[1]) as f:
        lines = f.read().split("\n")
    cameras = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    agg = collections.Counter()
    for nbytes, frames in entries(lines):
        for name, rule in RULES:
            if rule(frames):
                agg[name] += nbytes
                break
        else:
            agg["other (startup: GStreamer registry, SQLite, ...; small)"] += nbytes
    total = sum(agg.values())
    print(f"live heap {total / 2**20:.2f} MiB, {total / 2**20 / cameras:.2f} MiB per camera")
    for name, nbytes in agg.most_common():
        print(f"{nbytes / 2**20:8.2f} MiB {nbytes / 2**20 / cameras:6.2f} per camera  {name}")


if __name__ == "__main__":
    main()
