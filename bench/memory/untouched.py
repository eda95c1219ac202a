#!/usr/bin/env python3
"""Names the call sites in a report of bench/memory/untouched.c (heap blocks
of 16 KiB or more allocated but not yet written to, by backtrace) and prints
them by untouched bytes, the largest first. Frames in vigil itself are named
with addr2line (function, file:line); frames in libraries as library+offset
(Debian's are stripped), the nearest exported symbol after it.

  python3 bench/memory/untouched.py /tmp/untouched.<pid>.<n> [--top 25]

With two reports of one process (an early and a late one), --diff shows which
sites' untouched bytes fell: where RSS grew into memory already allocated.
"""
import argparse
import bisect
import collections
import functools
import os
import subprocess


@functools.lru_cache(maxsize=None)
def exported(module):
    """Sorted (address, name) of the module's dynamic symbols."""
    try:
        out = subprocess.run(["nm", "-D", "--defined-only", module], capture_output=True,
                             text=True, check=False).stdout
    except OSError:
        return []
    syms = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWw":
            syms.append((int(parts[0], 16), parts[2]))
    return sorted(syms)


def name_frames(frames):
    """{frame: name} for 'module+0xoffset' frames."""
    by_module = collections.defaultdict(set)
    for f in frames:
        module, _, off = f.rpartition("+")
        by_module[module].add(off)
    names = {}
    for module, offs in by_module.items():
        offs = sorted(offs)
        base = os.path.basename(module)
        if module.endswith("/vigil") or "/build/" in module:
            out = subprocess.run(["addr2line", "-f", "-C", "-s", "-e", module, *offs],
                                 capture_output=True, text=True, check=False).stdout.splitlines()
            for i, off in enumerate(offs):
                fn, loc = (out[2 * i:2 * i + 2] + ["?", "?"])[:2]
                names[f"{module}+{off}"] = f"{fn} ({loc})"
            continue
        syms = exported(module)
        for off in offs:
            a = int(off, 16)
            i = bisect.bisect_right(syms, (a, "\uffff")) - 1
            near = f" ~{syms[i][1]}" if i >= 0 else ""
            names[f"{module}+{off}"] = f"{base}+{off}{near}"
    return names


def load(path):
    sites = {}
    with open(path) as f:
        header = f.readline().strip()
        for line in f:
            parts = line.split()
            untouched, size, count = map(int, parts[:3])
            sites[tuple(parts[3:])] = (untouched, size, count)
    return header, sites


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--diff", help="an earlier report of the same process")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--frames", type=int, default=6, help="frames shown per site")
    args = ap.parse_args()
    header, sites = load(args.report)
    print(header)
    if args.diff:
        _, before = load(args.diff)
        rows = []
        for stack in set(sites) | set(before):
            u1, s1, c1 = sites.get(stack, (0, 0, 0))
            u0, s0, c0 = before.get(stack, (0, 0, 0))
            rows.append((u0 - u1, s1 - s0, stack, u1, s1, c1))
        rows.sort(key=lambda r: -r[0])
        print("touched since (untouched fell, KiB) | allocated change KiB | now: untouched / allocated KiB, blocks")
    else:
        rows = sorted(((u, s, stack, u, s, c) for stack, (u, s, c) in sites.items()), key=lambda r: -r[0])
        print("untouched KiB | allocated KiB | blocks")
    rows = rows[:args.top]
    names = name_frames({f for r in rows for f in r[2][:args.frames]})
    for a, b, stack, u, s, c in rows:
        if args.diff:
            print(f"\n{a >> 10:+} | {b >> 10:+} | {u >> 10} / {s >> 10}, {c}")
        else:
            print(f"\n{u >> 10} | {s >> 10} | {c}")
        for f in stack[:args.frames]:
            print(f"    {names.get(f, f)}")


if __name__ == "__main__":
    main()
