#!/usr/bin/env python3
"""Runs the test suites again and again and counts, per test, how often each
failed: the flaky-test hunt of issues 17 and 21 (README, Development).

  scripts/repeat-tests.py --runs 10 --clone          # make test on a fresh clone, 10 times
  scripts/repeat-tests.py --runs 20 --suite ui       # one suite of ./build, 20 times
  scripts/repeat-tests.py --runs 20 --test ui_app    # one test of ./build, 20 times

--clone clones the repository's HEAD into OUT/run-K and runs `make test` there
(its own build, as a newcomer would); otherwise each run is `meson test` on the
existing build directory. Every run's testlog.json is kept (OUT/run-K.json),
the clone itself only when the run failed. The report (OUT/summary.md, also
printed) lists each run's duration and result line (scripts/count-tests.py)
and, for every test that failed at least once, how many runs it failed in.
A run is green when its command exits 0 and count-tests.py counts it green
(some test passed, none failed). Exit status 1 when any run was not green."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def count_line(log):
    """count-tests.py's line for @log, and whether it counts the run green
    (something passed, nothing failed)."""
    r = subprocess.run([sys.executable, str(HERE / "count-tests.py"), str(log)],
                       capture_output=True, text=True)
    return (r.stdout.strip().splitlines() or ["(no count)"])[-1], r.returncode == 0


def failures(log):
    """Names of the tests in @log whose result is neither OK nor SKIP."""
    bad = []
    try:
        with open(log) as f:
            for line in f:
                if line.strip():
                    t = json.loads(line)
                    if t.get("result") not in ("OK", "SKIP", "EXPECTEDFAIL"):
                        bad.append(f'{t.get("name")} ({t.get("result")})')
    except FileNotFoundError:
        bad.append("(no testlog.json: the suites did not run)")
    return bad


def one_run(args, k, out):
    """Runs the suites once; returns (exit status, path of its testlog copy)."""
    log_copy = out / f"run-{k}.json"
    log_copy.unlink(missing_ok=True)  # an older loop's, in the same OUT
    out_txt = open(out / f"run-{k}.log", "w")
    if args.clone:
        tree = out / f"run-{k}"
        shutil.rmtree(tree, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", str(args.repo), str(tree)], check=True)
        cmd = ["make", "test"]
        cwd = tree
        log = tree / "build/meson-logs/testlog.json"
    else:
        cmd = ["meson", "test", "-C", str(args.build_dir), "--no-rebuild", "--print-errorlogs",
               "--num-processes", str(args.processes)]
        for s in args.suite:
            cmd += ["--suite", s]
        cmd += args.test
        cwd = REPO
        log = Path(args.build_dir) / "meson-logs/testlog.json"
        log.unlink(missing_ok=True)
    status = subprocess.run(cmd, cwd=cwd, stdout=out_txt, stderr=subprocess.STDOUT).returncode
    out_txt.close()
    if log.exists():
        shutil.copy(log, log_copy)
    return status, log_copy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--clone", action="store_true", help="make test on a fresh clone each run")
    ap.add_argument("--repo", default=str(REPO), help="what --clone clones (default: this one)")
    ap.add_argument("--build-dir", default=str(REPO / "build"))
    ap.add_argument("--suite", action="append", default=[], help="meson suite (repeatable)")
    ap.add_argument("--test", action="append", default=[], help="meson test name (repeatable)")
    ap.add_argument("--processes", type=int, default=3)
    ap.add_argument("--out", default="/tmp/vigil-repeat")
    ap.add_argument("--stop-on-failure", action="store_true")
    args = ap.parse_args()

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    head = subprocess.run(["git", "-C", str(args.repo), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    what = "make test on a fresh clone" if args.clone else \
        "meson test " + (" ".join([f"--suite {s}" for s in args.suite] + args.test) or "(every suite)")
    lines = [f"# {args.runs} runs of {what}",
             "",
             f"git `{head}`, started {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"VIGIL_CI={os.environ.get('VIGIL_CI', '(unset)')}",
             "",
             "| run | started (UTC) | seconds | exit | result | failed |",
             "|---|---|---|---|---|---|"]
    flaky = Counter()
    bad_runs = 0
    for k in range(1, args.runs + 1):
        started = time.strftime("%H:%M", time.gmtime())
        t0 = time.monotonic()
        status, log = one_run(args, k, out)
        secs = time.monotonic() - t0
        count, counted_green = count_line(log)
        green = status == 0 and counted_green
        bad = [] if green else failures(log)
        if not green and not bad:
            bad = ["(no test failed: see the run's log)"]
        flaky.update(bad)
        bad_runs += not green
        lines.append(f"| {k} | {started} | {secs:.0f} | {status} | {count} | "
                     f"{', '.join(bad) or '-'} |")
        print(lines[-1], flush=True)
        if args.clone and green:
            shutil.rmtree(out / f"run-{k}", ignore_errors=True)
        if not green and args.stop_on_failure:
            break
    ran = k
    lines += ["", f"**{ran - bad_runs} of {ran} runs green.**"]
    if flaky:
        lines += ["", "| test | runs failed |", "|---|---|"]
        lines += [f"| {name} | {n} of {ran} |" for name, n in flaky.most_common()]
    report = "\n".join(lines) + "\n"
    (out / "summary.md").write_text(report)
    print(report)
    sys.exit(1 if bad_runs else 0)


if __name__ == "__main__":
    main()
