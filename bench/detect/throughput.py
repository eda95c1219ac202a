#!/usr/bin/env python3
"""Detection throughput and latency of the whole daemon (issue 16), one run:

1. N cameras in continuous motion (vigil-fakecam `motion:0`, 640x360 10 fps,
   1 s GOP: the size of a sub stream), detection on with interval_s 1, i.e.
   due on every keyframe while the motion lasts. For N = 10 and N = 30 over
   WINDOW_S: inferences per second (all cameras), the share of keyframes
   that got a detection, keyframes dropped because the camera's previous one
   was still in the worker (vigil_analysis_dropped_total), and vigil's CPU.
   10 cameras must all be detected on every keyframe; 30 saturate the two
   cores and show the capacity.
2. Latency: the demo scene (a photo of a person walks in at 34 s of its
   48 s loop), detection on: for each pass, the time from the `motion`
   event's arrival on /api/v1/events/stream to the `object` event's, and the
   difference of their `start` (keyframe) times.

Usage: bench/detect/throughput.py [BUILD_DIR] (default build). Needs `make
model`. Prints a Markdown table for bench/RESULTS.md. Run it on an otherwise
idle machine.
"""
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ.setdefault("VIGIL_BIN", os.path.join(BUILD, "src", "vigil"))
os.environ.setdefault("FAKECAM_BIN", os.path.join(BUILD, "tools", "fakecam", "vigil-fakecam"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
from harness import Fakecam, SseReader, Vigil  # noqa: E402

WINDOW_S = int(os.environ.get("WINDOW_S", "30"))
LATENCY_PASSES = int(os.environ.get("LATENCY_PASSES", "2"))
TICK = os.sysconf("SC_CLK_TCK")
DETECT = {"enabled": True, "classes": ["person", "dog", "cat"], "min_score": 0.5,
          "interval_s": 1}


def proc_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def sums(vigil):
    """Totals over all cameras of the analysis counters in /metrics."""
    text = vigil.request("GET", "/metrics").body.decode()
    out = {}
    for name in ("vigil_detect_runs_total", "vigil_analysis_keyframes_total",
                 "vigil_analysis_dropped_total"):
        out[name] = sum(int(v) for v in re.findall(r"^%s\{[^}]*\} (\d+)$" % name, text, re.M))
    return out


def start(cameras, scene, size="640x360", fps="10"):
    fakecam = Fakecam("--cameras", str(cameras), "--size", size, "--fps", fps,
                      "--bitrate", "500", "--gop", "1", "--no-sub", "--scene", scene).start()
    data = harness.data_dir_with_model()
    vigil = Vigil(data_dir=data, extra_args=["--log-level", "info"]).start()
    for n in range(1, cameras + 1):
        r = vigil.request("POST", "/api/v1/cameras", {
            "id": f"cam{n}", "name": f"cam{n}", "source": fakecam.url(n), "record": "off",
            "detect": DETECT, "motion": {"enabled": True, "threshold": 0.08, "zones": []}})
        assert r.status == 201, r.body
    for n in range(1, cameras + 1):
        vigil.wait_state(f"cam{n}", "streaming", 60)
    return fakecam, vigil, data


def stop(fakecam, vigil, data):
    vigil.cleanup()
    shutil.rmtree(data, ignore_errors=True)
    fakecam.stop()


def throughput(cameras):
    fakecam, vigil, data = start(cameras, "motion:0")
    try:
        time.sleep(8)
        m0, t0, c0 = sums(vigil), time.monotonic(), proc_ticks(vigil.proc.pid)
        time.sleep(WINDOW_S)
        m1, t1, c1 = sums(vigil), time.monotonic(), proc_ticks(vigil.proc.pid)
        d = {k: m1[k] - m0[k] for k in m0}
        secs = t1 - t0
        keyframes = d["vigil_analysis_keyframes_total"] + d["vigil_analysis_dropped_total"]
        return {"cameras": cameras, "inferences_per_s": d["vigil_detect_runs_total"] / secs,
                "detected_share": d["vigil_detect_runs_total"] / max(keyframes, 1),
                "dropped": d["vigil_analysis_dropped_total"], "keyframes": keyframes,
                "cpu": (c1 - c0) / TICK / secs * 100}
    finally:
        stop(fakecam, vigil, data)


def latency():
    fakecam, vigil, data = start(1, "demo", size="1280x720", fps="15")
    sse = SseReader(vigil)
    sse.start()
    samples = []
    try:
        deadline = time.monotonic() + 50 * LATENCY_PASSES + 20
        seen = set()
        motion_at = None
        while time.monotonic() < deadline and len(samples) < LATENCY_PASSES:
            time.sleep(0.05)
            for name, ev in sse.received():
                key = (name, ev.get("id"), ev.get("end") is None)
                if key in seen or ev.get("end") is not None:
                    continue
                seen.add(key)
                now = time.monotonic()
                if ev.get("type") == "motion":
                    motion_at = (now, ev["start"])
                elif ev.get("type") == "object" and ev.get("label") == "person" and motion_at:
                    samples.append((now - motion_at[0], ev["start"], motion_at[1]))
                    motion_at = None
    finally:
        stop(fakecam, vigil, data)
    return samples


def main():
    print(f"- date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()}", flush=True)
    rows = []
    for n in (10, 30):
        r = throughput(n)
        print(r, flush=True)
        rows.append((f"{n} cameras in continuous motion (640x360, 1 s GOP), detection due "
                     "on every keyframe",
                     f"{r['inferences_per_s']:.1f} inferences/s; {r['detected_share'] * 100:.0f} % "
                     f"of {r['keyframes']} keyframes detected, {r['dropped']} dropped; vigil "
                     f"CPU {r['cpu']:.0f} % of a core"))
    for sse_s, obj_start, motion_start in latency():
        rows.append(("demo scene: motion event → person event on SSE",
                     f"{sse_s * 1000:.0f} ms (event starts: motion {motion_start}, "
                     f"object {obj_start})"))
        print(rows[-1], flush=True)
    print()
    print("| measure | value |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
