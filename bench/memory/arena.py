#!/usr/bin/env python3
"""What do glibc's malloc arenas cost vigil, and does its RSS grow? Two (or
more) vigils side by side on the same cameras (one vigil-fakecam process
serving /cam1../camN with sub streams), each with its own environment
(--variant; default: vigil as it is, which limits itself to one arena per
core, and MALLOC_ARENA_MAX=16, glibc's own default on 2 cores), each
recording continuously with motion on; the
fakecam is restarted every --restart-every seconds (every camera reconnects,
as in the soak's faults). RSS, anonymous memory and threads are sampled every
--sample seconds; after --warmup minutes the least-squares slope of each is
printed per vigil, in MB per hour, and the CPU each used. Growth in all:
vigil keeps something (a leak or a cache); growth with many arenas only:
arena fragmentation.

  python3 bench/memory/arena.py --cameras 8 --minutes 35 --warmup 10 --out /tmp/arena
  python3 bench/memory/arena.py --variant "glibc defaults:MALLOC_ARENA_MAX=16" \
      --variant "2 arenas:MALLOC_ARENA_MAX=2"
  python3 bench/memory/arena.py --variant "as it is:" \
      --variant "before:VIGIL_BIN=/tmp/old/src/vigil"

Results go in bench/RESULTS.md ("memory"). Python standard library only;
uses tests/integration/harness.py to run vigil.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "bench", "soak"))
import harness  # noqa: E402
from run import slope_per_hour  # noqa: E402  (bench/soak/run.py)


def sample(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "RssAnon:", "Threads:")):
                    k, v = line.split(":")
                    out[k] = int(v.split()[0])
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out["cpu_s"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return out


def start_fakecam(args, port, log):
    cmd = [os.environ.get("FAKECAM_BIN", os.path.join(args.build_dir, "tools", "fakecam",
                                                        "vigil-fakecam")),
           "--port", str(port), "--cameras", str(args.cameras), "--size", "1920x1080",
           "--sub-size", "640x360", "--fps", "15", "--bitrate", "2000", "--scene", "motion",
           "--loop", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("vigil-fakecam exited")
        if "serving rtsp://" in line:
            proc.stdout.close()
            return proc
    raise RuntimeError("vigil-fakecam did not start")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--minutes", type=float, default=35)
    ap.add_argument("--warmup", type=float, default=10, help="minutes left out of the slopes")
    ap.add_argument("--sample", type=float, default=15, help="seconds between samples")
    ap.add_argument("--restart-every", type=float, default=180,
                    help="seconds between fakecam restarts (0: never)")
    ap.add_argument("--quota-mb", type=int, default=1500, help="each vigil's storage quota")
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    ap.add_argument("--out", default="/tmp/vigil-arena")
    ap.add_argument("--variant", action="append",
                    help="NAME:VAR=VALUE ... (environment of one vigil; give two or more; "
                         "VIGIL_BIN=PATH runs another build). "
                         "Default: vigil as it is, and MALLOC_ARENA_MAX=16 (glibc's own "
                         "default on 2 cores: 8 arenas per core)")
    args = ap.parse_args()
    if not args.variant:
        args.variant = ["vigil as it is:", "glibc default arenas:MALLOC_ARENA_MAX=16"]
    os.environ.setdefault("VIGIL_BIN", os.path.join(args.build_dir, "src", "vigil"))
    harness.VIGIL_BIN = os.environ["VIGIL_BIN"]
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    cam_port = harness.free_port()
    fake_log = open(os.path.join(args.out, "fakecam.log"), "ab")
    fake = start_fakecam(args, cam_port, fake_log)

    variants = {name: dict(kv.split("=", 1) for kv in env.split()) for name, env in
                (v.split(":", 1) for v in args.variant)}
    vigils = {}
    for name, env in variants.items():
        data = os.path.join(args.out, "data-%d" % len(vigils))
        os.makedirs(data)
        # VIGIL_BIN in a variant's environment: that vigil runs another build
        # (an older commit, side by side with this one).
        env = dict(env)
        harness.VIGIL_BIN = env.pop("VIGIL_BIN", os.environ["VIGIL_BIN"])
        v = harness.Vigil(data_dir=data, env=env, extra_args=["--log-level", "info"])
        v.start()
        r = v.request("PATCH", "/api/v1/settings", {"storage": {"max_bytes": args.quota_mb << 20}})
        assert r.status == 200, r.body
        for n in range(1, args.cameras + 1):
            r = v.request("POST", "/api/v1/cameras", {
                "id": f"c{n}", "name": f"c{n}", "source": f"rtsp://127.0.0.1:{cam_port}/cam{n}",
                "sub_source": f"rtsp://127.0.0.1:{cam_port}/cam{n}_sub", "record": "continuous",
                "motion": {"enabled": True}})
            assert r.status == 201, r.body
        vigils[name] = v
    for v in vigils.values():
        for n in range(1, args.cameras + 1):
            v.wait_state(f"c{n}", "streaming", 90)
    print(f"{args.cameras} cameras streaming on both vigils", flush=True)

    series = {name: [] for name in vigils}
    start = time.monotonic()
    next_restart = start + args.restart_every if args.restart_every else float("inf")
    restarts = 0
    try:
        while time.monotonic() - start < args.minutes * 60:
            now = time.monotonic()
            for name, v in vigils.items():
                s = sample(v.proc.pid)
                if s:
                    series[name].append((round(now - start, 1), s))
            if now >= next_restart:
                fake.send_signal(signal.SIGKILL)
                fake.wait()
                time.sleep(5)
                fake = start_fakecam(args, cam_port, fake_log)
                restarts += 1
                next_restart = time.monotonic() + args.restart_every
            time.sleep(max(0.0, args.sample - (time.monotonic() - now)))
    finally:
        fake.send_signal(signal.SIGKILL)
        fake.wait()
        for v in vigils.values():
            v.stop()

    result = {"cameras": args.cameras, "minutes": args.minutes, "warmup_min": args.warmup,
              "restarts": restarts, "variants": {}}
    print(f"\n{'variant':<22} {'RSS after warm-up':>18} {'RSS at end':>11} "
          f"{'RSS MB/h':>9} {'anon MB/h':>10} {'threads':>8} {'CPU after warm-up':>18}")
    for name, points in series.items():
        tail = [(t, s) for t, s in points if t >= args.warmup * 60]
        rss = slope_per_hour([(t, s["VmRSS"] / 1024) for t, s in tail])
        anon = slope_per_hour([(t, s.get("RssAnon", 0) / 1024) for t, s in tail])
        first, last = tail[0][1], tail[-1][1]
        result["variants"][name] = {
            "rss_mb_warm": first["VmRSS"] / 1024, "rss_mb_end": last["VmRSS"] / 1024,
            "rss_mb_per_h": rss, "anon_mb_per_h": anon, "threads_end": last["Threads"],
            "cpu_s_after_warmup": last["cpu_s"] - first["cpu_s"], "samples": points}
        print(f"{name:<22} {first['VmRSS'] / 1024:>15.1f} MB {last['VmRSS'] / 1024:>8.1f} MB "
              f"{rss:>9.2f} {anon:>10.2f} {last['Threads']:>8} "
              f"{last['cpu_s'] - first['cpu_s']:>16.1f} s")
    with open(os.path.join(args.out, "arena.json"), "w") as f:
        json.dump(result, f)
    print(f"\nfakecam restarts: {restarts}; samples in {args.out}/arena.json")


if __name__ == "__main__":
    main()
