#!/usr/bin/env python3
"""Which call sites' heap grows over a long run? Reads the data heaptrack
records while vigil runs (every allocation and free, in time order) and
follows the bytes still allocated by each backtrace minute by minute, then
prints the backtraces whose live bytes grew the most after the warm-up
(least-squares slope, MB/h) with their first and last values. Unlike
`heaptrack_print --diff` of two runs, one run is enough and a call site whose
live bytes only swing (buffers in flight, queues) does not show as growth.

Record vigil in the soak's own scenario (no kill9 fault: one process):

  mkfifo /tmp/ht.fifo
  /usr/lib/heaptrack/libexec/heaptrack_interpret < /tmp/ht.fifo | zstd -1 -q > /tmp/ht.zst &
  python3 bench/soak/run.py --cameras 16 --minutes 40 --faults restart,netem,silent,... \\
      --vigil-env LD_PRELOAD=/usr/lib/heaptrack/libheaptrack_preload.so \\
      --vigil-env DUMP_HEAPTRACK_OUTPUT=/tmp/ht.fifo --out /tmp/soakht
  python3 bench/memory/heapgrowth.py /tmp/ht.zst --warmup 300

Results go in bench/RESULTS.md ("memory"). Python standard library and
`zstd` (or gzip) for the compressed file.
"""

import argparse
import array
import collections
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "soak"))
from run import slope_per_hour  # noqa: E402  (bench/soak/run.py)

# Frames of the allocators themselves: a call site is the first frame below them.
ALLOCATOR_FRAMES = ("malloc", "calloc", "realloc", "posix_memalign", "aligned_alloc",
                    "g_malloc", "g_malloc0", "g_realloc", "g_try_malloc", "g_malloc_n",
                    "g_malloc0_n", "g_realloc_n", "g_slice_alloc", "g_slice_alloc0",
                    "g_memdup2", "g_strdup", "g_strndup", "g_new", "av_malloc", "av_mallocz",
                    "av_realloc", "sqlite3MemMalloc", "sqlite3Malloc", "sqlite3MallocZero",
                    "sqlite3DbMallocRawNN", "sqlite3DbMallocRaw", "sqlite3DbMallocZero",
                    "sqlite3_malloc", "sqlite3_malloc64", "sqlite3Realloc", "sqlite3_realloc64",
                    "operator new")


def open_data(path):
    if path.endswith(".zst"):
        return subprocess.Popen(["zstd", "-dcq", path], stdout=subprocess.PIPE).stdout
    if path.endswith(".gz"):
        return subprocess.Popen(["gzip", "-dc", path], stdout=subprocess.PIPE).stdout
    return open(path, "rb")


class Trace:
    """heaptrack's string, instruction and backtrace tables, as read."""

    def __init__(self):
        self.strings = [""]
        self.ips = [None]     # ip index (1-based) -> (module, [(function, file, line)])
        self.nodes = [None]   # trace index (1-based) -> (ip index, parent trace index)

    def frames(self, trace, depth):
        out = []
        while trace and len(out) < depth:
            ip, trace = self.nodes[trace]
            module, inlined = self.ips[ip]
            name = os.path.basename(self.strings[module])
            if not inlined:
                out.append(f"?? ({name})")
            for function, file, line in inlined:
                where = f"{os.path.basename(self.strings[file])}:{line}" if file else name
                out.append(f"{self.strings[function] or '??'} ({where})")
        return out


def read(path, every):
    """Returns (tables, alloc sizes, alloc traces, samples, rss) where samples
    is [(t seconds, [live count per allocation info])] every @every s and rss
    [(t seconds, pages)]."""
    tab = Trace()
    sizes, traces = [], []
    live = []
    samples, rss = [], []
    next_sample = every
    t = 0.0
    for raw in open_data(path):
        op = raw[:1]
        if op == b"+":
            live[int(raw[2:], 16)] += 1
        elif op == b"-":
            live[int(raw[2:], 16)] -= 1
        elif op == b"a":
            _, size, trace = raw.split()
            sizes.append(int(size, 16))
            traces.append(int(trace, 16))
            live.append(0)
        elif op == b"c":
            t = int(raw[2:], 16) / 1000
            if t >= next_sample:
                samples.append((t, array.array("q", live)))
                next_sample = t + every
        elif op == b"t":
            _, ip, parent = raw.split()
            tab.nodes.append((int(ip, 16), int(parent, 16)))
        elif op == b"i":
            f = raw.split()
            frames = []
            for k in range(3, len(f), 3):
                g = f[k:k + 3]
                frames.append((int(g[0], 16), int(g[1], 16) if len(g) > 1 else 0,
                               int(g[2], 16) if len(g) > 2 else 0))
            tab.ips.append((int(f[2], 16), frames))
        elif op == b"s":
            tab.strings.append(raw.rstrip(b"\n").split(b" ", 2)[2].decode(errors="replace"))
        elif op == b"R":
            rss.append((t, int(raw[2:], 16)))
    # Not the last seconds: a process stopped with SIGTERM frees its heap
    # on the way out, which is no trend.
    samples = [(ts, counts) for ts, counts in samples if ts <= t - 15]
    rss = [(ts, r) for ts, r in rss if ts <= t - 15]
    return tab, sizes, traces, samples, rss


def call_site(tab, trace):
    """The backtrace with the allocators' own frames taken off its top."""
    frames = tab.frames(trace, 40)
    k = 0
    while k < len(frames) - 1 and frames[k].split(" (")[0] in ALLOCATOR_FRAMES:
        k += 1
    return frames[k:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", help="heaptrack_interpret's output (.zst, .gz or plain)")
    ap.add_argument("--warmup", type=float, default=300, help="seconds left out of the slopes")
    ap.add_argument("--every", type=float, default=60, help="seconds between samples")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--depth", type=int, default=10, help="frames printed per call site")
    ap.add_argument("--key-depth", type=int, default=6,
                    help="frames below the allocators that make one call site")
    args = ap.parse_args()

    tab, sizes, traces, samples, rss = read(args.data, args.every)
    tail = [(t, counts) for t, counts in samples if t >= args.warmup]
    if len(tail) < 3:
        sys.exit(f"only {len(tail)} samples after the warm-up: the run is too short")

    # Live bytes per call site (its first --key-depth frames) at each sample.
    site_of = {}
    for a, trace in enumerate(traces):
        if trace not in site_of:
            site_of[trace] = tuple(call_site(tab, trace)[:args.key_depth])
    series = collections.defaultdict(lambda: [0] * len(tail))
    for k, (_, counts) in enumerate(tail):
        for a, n in enumerate(counts):
            if n:
                series[site_of[traces[a]]][k] += n * sizes[a]
    times = [t for t, _ in tail]
    total = [sum(s[k] for s in series.values()) for k in range(len(tail))]

    def mb_h(values):
        return slope_per_hour(list(zip(times, [v / 1048576 for v in values])))

    print(f"{len(samples)} samples, {times[0]:.0f}–{times[-1]:.0f} s after start counted; "
          f"heap in use {total[0] / 1048576:.2f} → {total[-1] / 1048576:.2f} MB, "
          f"{mb_h(total):+.3f} MB/h")
    if rss:
        pages = os.sysconf("SC_PAGE_SIZE")
        rss_tail = [(t, r * pages / 1048576) for t, r in rss if t >= args.warmup]
        if len(rss_tail) >= 3:
            print(f"RSS (heaptrack's samples) {rss_tail[0][1]:.1f} → {rss_tail[-1][1]:.1f} MB, "
                  f"{slope_per_hour(rss_tail):+.3f} MB/h")
    ranked = sorted(series.items(), key=lambda kv: mb_h(kv[1]), reverse=True)
    print(f"\n{'MB/h':>8} {'first KB':>10} {'last KB':>10}  call site (innermost first)")
    for site, values in ranked[:args.top]:
        print(f"{mb_h(values):>+8.3f} {values[0] / 1024:>10.1f} {values[-1] / 1024:>10.1f}  "
              + (site[0] if site else "??"))
        full = None
        for trace in site_of:
            if site_of[trace] == site:
                full = call_site(tab, trace)
                break
        for frame in (full or [])[1:args.depth]:
            print(f"{'':>32}{frame}")
    shrinking = sum(mb_h(v) for _, v in ranked if mb_h(v) < 0)
    print(f"\nall call sites: growing {sum(mb_h(v) for _, v in ranked if mb_h(v) > 0):+.3f} MB/h, "
          f"shrinking {shrinking:+.3f} MB/h")


if __name__ == "__main__":
    main()
