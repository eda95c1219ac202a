#!/usr/bin/env python3
"""Memory over a soak's run, from its soak.json (bench/soak/run.py --out DIR):
the median of RSS, the heap the allocator counts in use and the heap it
holds (with jemalloc, also where the difference is) in each window of N minutes (with the fault that began in it), and the slope of
each over a chosen stretch, least squares and Theil-Sen (the median of the
pairwise slopes, which one spike cannot move). Samples of the last vigil
process only (a kill -9 starts a new one).

  bench/soak/trend.py /tmp/soak100/soak.json --every 5 --from 5 --to 100
"""
import argparse
import importlib.util
import json
import os
import statistics
import sys

# The soak's own least-squares slope (y per hour), the one its RSS check uses.
_spec = importlib.util.spec_from_file_location(
    "soak_run", os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py"))
_soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_soak)
least_squares = _soak.slope_per_hour

KEYS = (("RSS", "rss_kb"), ("RSS anon", "rss_anon_kb"), ("heap in use", "heap_in_use_kb"),
        ("heap held", "heap_held_kb"), ("SQLite", "heap_sqlite_kb"),
        # jemalloc's breakdown (vigil_heap_* in /metrics): slab holes are
        # active - in use. "anon - jemalloc" is RSS anon - (active + dirty +
        # metadata): threads' stacks and what libraries map themselves, less
        # the pages jemalloc counts that were never written (not in RSS yet;
        # docs/soak.md, "Pages allocated, written later"), so it can be
        # negative. It rising while the heap stays put is such pages being
        # written. (jemalloc's own "resident" counts unwritten pages too.)
        ("holes", "heap_holes_kb"), ("cached", "heap_cached_kb"), ("dirty", "heap_dirty_kb"),
        ("metadata", "heap_metadata_kb"), ("anon - jemalloc", "anon_outside_kb"))


def theil_sen(points, most=400):
    """Median of the pairwise slopes per hour, over at most @most points
    (evenly thinned: the pairs grow with the square)."""
    if len(points) < 3:
        return None
    step = max(1, len(points) // most)
    p = points[::step]
    slopes = [(p[j][1] - p[i][1]) / (p[j][0] - p[i][0]) * 3600
              for i in range(len(p)) for j in range(i + 1, len(p)) if p[j][0] > p[i][0]]
    return statistics.median(slopes) if slopes else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("soak_json")
    ap.add_argument("--every", type=float, default=5, help="window, minutes (default 5)")
    ap.add_argument("--from", dest="start", type=float, default=0, help="stretch start, minutes")
    ap.add_argument("--to", dest="end", type=float, default=None, help="stretch end, minutes")
    args = ap.parse_args()
    with open(args.soak_json) as f:
        soak = json.load(f)
    samples = soak["samples"]
    if not samples:
        sys.exit("no samples")
    last_pid = samples[-1]["pid"]
    samples = [s for s in samples if s.get("pid") == last_pid and "rss_kb" in s]
    for s in samples:
        if "heap_active_kb" in s:
            s["heap_holes_kb"] = s["heap_active_kb"] - s["heap_in_use_kb"]
        if "heap_metadata_kb" in s and "rss_anon_kb" in s:
            s["anon_outside_kb"] = s["rss_anon_kb"] - (s["heap_active_kb"] + s["heap_dirty_kb"]
                                                       + s["heap_metadata_kb"])
    faults = soak.get("faults", [])
    keys = [(label, key) for label, key in KEYS if any(key in s for s in samples)]

    print(f"| min | fault | " + " | ".join(f"{label} MB" for label, _ in keys) + " |")
    print("|---|---|" + "---|" * len(keys))
    w = args.every * 60
    t = samples[0]["t"] - samples[0]["t"] % w
    while t <= samples[-1]["t"]:
        win = [s for s in samples if t <= s["t"] < t + w]
        began = sorted({x["kind"] for x in faults if t <= x["start"] < t + w})
        cells = []
        for _, key in keys:
            vals = [s[key] / 1024 for s in win if key in s]
            cells.append(f"{statistics.median(vals):.1f}" if vals else "")
        if win:
            print(f"| {t / 60:g} | {', '.join(began)} | " + " | ".join(cells) + " |")
        t += w

    lo = args.start * 60
    hi = args.end * 60 if args.end is not None else float("inf")
    stretch = [s for s in samples if lo <= s["t"] <= hi]
    if not stretch:
        sys.exit("no samples in that stretch")
    span = (stretch[-1]["t"] - stretch[0]["t"]) / 60
    print(f"\nslopes over {stretch[0]['t'] / 60:.1f}-{stretch[-1]['t'] / 60:.1f} min "
          f"({span:.1f} min, {len(stretch)} samples), MB/h:")
    for label, key in keys:
        pts = [(s["t"], s[key] / 1024) for s in stretch if key in s]
        ls, ts = least_squares(pts), theil_sen(pts)
        if ls is None:
            print(f"  {label}: no samples")
            continue
        print(f"  {label}: least squares {ls:+.2f}, Theil-Sen {ts:+.2f} "
              f"({pts[0][1]:.1f} -> {pts[-1][1]:.1f} MB)")


if __name__ == "__main__":
    main()
