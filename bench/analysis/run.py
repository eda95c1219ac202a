#!/usr/bin/env python3
"""Benchmark of the keyframe analysis branch (issue 6), one run:

1. CPU of vigil's keyframe analysis per 1080p30 4 Mbps camera (1 s GOP),
   next to decoding every frame of the same RTSP stream in the same run
   (gst-launch rtspsrc ! depay ! parse ! avdec_h264 max-threads=1 ! scale to
   640 GRAY8, minus the same pipeline without the decoder).
2. Reaction time from the start of motion in the scene (fakecam motion:N
   starts moving N s after its first client; vigil's first keyframe from it
   marks that moment) to the event arriving on the SSE stream.
3. Decode, motion and zbar time per keyframe, from vigil's debug log.

Usage: bench/analysis/run.py [BUILD_DIR] (default build). Prints a Markdown
table for bench/RESULTS.md (section "analysis"). Needs an otherwise idle machine to mean much.
"""
import base64
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ.setdefault("VIGIL_BIN", os.path.join(BUILD, "src", "vigil"))
os.environ.setdefault("FAKECAM_BIN", os.path.join(BUILD, "tools", "fakecam", "vigil-fakecam"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import ADMIN_PASSWORD, Fakecam, Vigil, wait_for  # noqa: E402

CAMERAS = 4
STILL_S = 12
WINDOW_S = 30
TICK = os.sysconf("SC_CLK_TCK")


def thread_ticks(pid, name):
    if name is None:  # the whole process, threads that ended included
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if name is None or comm == name:
            total += int(fields[11]) + int(fields[12])
    return total


class Sse(threading.Thread):
    def __init__(self, vigil):
        super().__init__(daemon=True)
        token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        req = urllib.request.Request(f"{vigil.base}/api/v1/events/stream",
                                     headers={"Authorization": "Basic " + token})
        self.response = urllib.request.urlopen(req, timeout=300)
        self.events = []  # (receive time, event)

    def run(self):
        for raw in self.response:
            line = raw.decode().strip()
            if line.startswith("data: "):
                data = json.loads(line[6:])
                if "type" in data:
                    self.events.append((time.time(), data))


def main():
    fakecam = Fakecam("--cameras", str(CAMERAS), "--size", "1920x1080", "--fps", "30",
                      "--bitrate", "4000", "--gop", "1", "--loop", "6",
                      "--scene", f"motion:{STILL_S}").start(timeout=300)
    vigil = Vigil().start()
    sse = Sse(vigil)
    sse.start()
    procs = []
    try:
        for n in range(1, CAMERAS + 1):
            r = vigil.request("POST", "/api/v1/cameras", {
                "id": f"c{n}", "name": f"c{n}", "source": fakecam.url(n), "record": "off",
                "barcodes": True})
            assert r.status == 201, r.body
        for n in range(1, CAMERAS + 1):
            vigil.wait_state(f"c{n}", "streaming", 30)
        url = fakecam.url(1)
        decode = ("gst-launch-1.0 -q rtspsrc protocols=tcp latency=0 location=%s ! rtph264depay "
                  "! h264parse ! avdec_h264 max-threads=1 ! videoscale ! videoconvert "
                  "! video/x-raw,format=GRAY8,width=640,height=360 ! fakesink" % url)
        nodecode = ("gst-launch-1.0 -q rtspsrc protocols=tcp latency=0 location=%s ! rtph264depay "
                    "! h264parse ! fakesink" % url)
        procs = [subprocess.Popen(cmd.split(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for cmd in (decode, nodecode)]
        time.sleep(5)
        before = (thread_ticks(vigil.proc.pid, "pool-vigil"), thread_ticks(vigil.proc.pid, None),
                  thread_ticks(procs[0].pid, None), thread_ticks(procs[1].pid, None))
        t0 = time.monotonic()
        time.sleep(WINDOW_S)
        after = (thread_ticks(vigil.proc.pid, "pool-vigil"), thread_ticks(vigil.proc.pid, None),
                 thread_ticks(procs[0].pid, None), thread_ticks(procs[1].pid, None))
        elapsed = time.monotonic() - t0
        pct = [100.0 * (a - b) / TICK / elapsed for a, b in zip(after, before)]
        wait_for(lambda: sum(1 for _, e in sse.events if e["type"] == "motion") >= CAMERAS, 30,
                 what="a motion event per camera")
        load = open("/proc/loadavg").read().split()[:3]
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        vigil.stop()
        fakecam.stop()

    log = vigil.log_text()
    first_keyframe, last_keyframe, cpu_ms, timings = {}, {}, {}, []
    pat = re.compile(r"camera (c\d+): keyframe (\d+) \d+x\d+ level \S+ luma \S+ codes \d+ "
                     r"\(decode ([\d.]+) ms, motion ([\d.]+) ms, zbar ([\d.]+) ms, cpu ([\d.]+) ms\)")
    for m in pat.finditer(log):
        cam, t = m.group(1), int(m.group(2)) / 1e6
        first_keyframe.setdefault(cam, t)
        last_keyframe[cam] = t
        cpu_ms[cam] = cpu_ms.get(cam, 0.0) + float(m.group(6))
        timings.append(tuple(float(m.group(i)) for i in (3, 4, 5)))
    # Analysis CPU per camera: its threads' CPU time over the time it ran.
    analysis_pct = statistics.mean(
        100.0 * cpu_ms[c] / 1000.0 / max(1.0, last_keyframe[c] - first_keyframe[c] + 1.0)
        for c in cpu_ms)
    reactions, processing = [], []
    for received, e in sse.events:
        if e["type"] != "motion" or e["end"] is not None:
            continue
        scene_start = first_keyframe[e["camera"]] + STILL_S
        reactions.append(received - scene_start)
        start = e["start"].replace("Z", "+00:00")
        from datetime import datetime
        processing.append(received - datetime.fromisoformat(start).timestamp())
    vigil.cleanup()

    def ms(values):
        return f"{statistics.median(values) * 1000:.0f} ms (min {min(values) * 1000:.0f}, " \
               f"max {max(values) * 1000:.0f}, n={len(values)})"

    print(f"- machine: {os.cpu_count()} cores, load average during the run {' '.join(load)}")
    print(f"- {CAMERAS} cameras 1920x1080 30 fps 4 Mbps H.264, GOP 1 s, barcodes on; "
          f"CPU window {WINDOW_S} s\n")
    print("| measure | value |\n|---|---|")
    print(f"| vigil keyframe analysis (decode, scale, motion, zbar), per camera | "
          f"{analysis_pct:.2f} % of a core |")
    print(f"| vigil whole process, per camera (ingest, mux, analysis) | {pct[1] / CAMERAS:.2f} % |")
    print(f"| decoding every frame (gst avdec_h264, 1 thread, to 640 GRAY8) minus the same "
          f"without decoder | {pct[2] - pct[3]:.2f} % |")
    print(f"| ratio keyframe branch / every frame | {analysis_pct / (pct[2] - pct[3]):.3f} |")
    print(f"| reaction: motion start in the scene → event on SSE | {ms(reactions)} |")
    print(f"| of which keyframe arrival → event on SSE | {ms(processing)} |")
    d, m, z = zip(*timings)
    print(f"| per keyframe: decode 1080p + scale to 640x360 GRAY8 | "
          f"{statistics.median(d):.2f} ms median (n={len(d)}) |")
    print(f"| per keyframe: motion at 640x360 | {statistics.median(m):.2f} ms median |")
    print(f"| per keyframe: zbar at 640x360 | {statistics.median(z):.2f} ms median |")


if __name__ == "__main__":
    main()
