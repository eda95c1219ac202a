#!/usr/bin/env python3
"""Where a process's RSS grew between two copies of its /proc/PID/smaps (the
soak saves one every 10 minutes: DIR/smaps-PID-MMMmin.txt).

Mappings are grouped by what they are: the main heap ([heap]), glibc's other
arenas (anonymous, read-write, 64 MB-aligned reservations of which only part
is mapped readable), thread stacks (anonymous with a guard page just below),
other anonymous memory, and file-backed mappings by file. The table lists RSS
per group in both copies, largest change first.

  bench/soak/smaps_diff.py /tmp/soak/smaps-1234-005min.txt /tmp/soak/smaps-1234-065min.txt
"""
import argparse
import collections
import re
import sys

HEADER = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \d+\s*(.*)$")


def parse(path):
    """[(start, end, perms, name, {field: kB})] in address order."""
    maps = []
    with open(path) as f:
        for line in f:
            m = HEADER.match(line)
            if m:
                maps.append([int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4).strip(), {}])
            elif maps and line.endswith(" kB\n"):
                key, value = line.split(":", 1)
                maps[-1][4][key] = int(value.split()[0])
    return maps


def classify(maps):
    """{group: RSS kB}, and {group: count of mappings}."""
    rss, count = collections.Counter(), collections.Counter()
    for i, (start, end, perms, name, fields) in enumerate(maps):
        if name == "[heap]":
            group = "main heap ([heap])"
        elif name.startswith("["):
            group = name
        elif name:
            group = name.rsplit("/", 1)[-1]
        else:
            prev = maps[i - 1] if i else None
            guard_below = prev and prev[1] == start and prev[2].startswith("---") and not prev[3]
            if start % (64 << 20) == 0 and perms.startswith("rw"):
                group = "malloc arenas (not the main one)"
            elif guard_below and (end - start) >= 1 << 20:
                group = "thread stacks"
            elif perms.startswith("rw"):
                group = "other anonymous (rw)"
            else:
                group = "other anonymous"
        rss[group] += fields.get("Rss", 0)
        count[group] += 1
    return rss, count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("--top", type=int, default=15, help="groups to list (default 15)")
    args = ap.parse_args()
    a, na = classify(parse(args.before))
    b, nb = classify(parse(args.after))
    groups = sorted(set(a) | set(b), key=lambda g: -abs(b[g] - a[g]))
    print("| mappings | RSS before kB | RSS after kB | change kB | count before → after |")
    print("|---|---|---|---|---|")
    for g in groups[:args.top]:
        print(f"| {g} | {a[g]} | {b[g]} | {b[g] - a[g]:+d} | {na[g]} → {nb[g]} |")
    print(f"| **all** | {sum(a.values())} | {sum(b.values())} | {sum(b.values()) - sum(a.values()):+d} | "
          f"{sum(na.values())} → {sum(nb.values())} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
