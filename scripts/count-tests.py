#!/usr/bin/env python3
"""Reads meson's testlog.json files (and the soak's soak.json) and prints the one line CI looks for:
'N passed, N failed, N skipped'. Exits 1 when anything failed or when no test
ran. Counts each GTest/TAP case and each unittest case (the Python suites run
verbose through harness.main(); a file run without verbosity is counted from
unittest's summary line), not just programs; a skipped case is a skip,
never a pass. A program that printed no case at all counts once."""
import json
import re
import sys

passed = failed = skipped = 0
for path in sys.argv[1:]:
    if path.endswith("soak.json"):
        # bench/soak/run.py's report (make test-soak): each check a case.
        try:
            with open(path) as f:
                checks = json.load(f)["checks"]
        except (FileNotFoundError, ValueError, KeyError):
            print(f"count-tests: {path} missing or unreadable (the soak did not finish)",
                  file=sys.stderr)
            failed += 1
            continue
        passed += sum(1 for c in checks if c["ok"])
        failed += sum(1 for c in checks if not c["ok"])
        continue
    try:
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        print(f"count-tests: {path} missing (that suite did not run)", file=sys.stderr)
        failed += 1
        continue
    for t in lines:
        result = t.get("result")
        out = t.get("stdout") or ""
        both = out + (t.get("stderr") or "")
        # Per-case counts where the runner printed them: TAP for GTest...
        tap_ok = len(re.findall(r"^ok \d+", out, re.M))
        tap_skip = len(re.findall(r"^ok \d+ .*# SKIP", out, re.M))
        tap_fail = len(re.findall(r"^not ok \d+", out, re.M))
        # ...and unittest's verbose lines for the Python integration tests.
        ut_ok = len(re.findall(r"\.\.\. ok$", both, re.M))
        ut_fail = len(re.findall(r"\.\.\. (FAIL|ERROR)$", both, re.M))
        ut_skip = len(re.findall(r"\.\.\. skipped", both, re.M))
        ran = re.search(r"^Ran (\d+) tests?\b", both, re.M)
        if result in ("SKIP",):
            skipped += 1
        elif re.search(r"^Ran 0 tests", both, re.M):
            failed += 1  # a unittest file that found no test case
        elif not (tap_ok + tap_fail + ut_ok + ut_fail) and ran:
            # A unittest file run without verbosity: its summary still says
            # how many cases ran, failed and were skipped.
            n = int(ran.group(1))
            tail = both[ran.end():]
            summary = re.search(r"^(OK|FAILED)\b(.*)$", tail, re.M)
            counts = dict((k, int(v)) for k, v in
                          re.findall(r"(\w+)=(\d+)", summary.group(2) if summary else ""))
            bad = counts.get("failures", 0) + counts.get("errors", 0) + \
                counts.get("unexpected_successes", 0)
            skip = counts.get("skipped", 0)
            passed += max(n - bad - skip, 0)
            skipped += skip
            failed += bad
            if result != "OK" and bad == 0:
                failed += 1  # crashed or timed out after its last case
        elif tap_ok + tap_fail + ut_ok + ut_fail:
            passed += tap_ok - tap_skip + ut_ok
            skipped += tap_skip + ut_skip
            failed += tap_fail + ut_fail
            if result != "OK" and tap_fail + ut_fail == 0:
                failed += 1  # crashed or timed out after its last case
        elif result == "OK":
            passed += 1
        else:
            failed += 1

print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or passed == 0 else 0)
