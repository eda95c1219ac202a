#!/usr/bin/env python3
"""Benchmark of object detection (issue 7), one run:

1. Inference time per picture at the model's input size (the default
   CenterNet, 512x512, letterboxed from a 640x400 photo) with OpenCV using 1
   and 2 threads (VIGIL_DETECT_THREADS), through vigil's own detector code
   (build/bench/detect/detect-bench: letterbox + DNN + decode + NMS).
2. CPU of the vigil process per camera, 1920x1080 30 fps 4 Mbps H.264 with a
   1 s GOP, over a WINDOW_S window, for: detection off; detection on at
   interval_s 15 on a still scene; detection on during continuous motion
   (about one inference a second). The difference to "off" is detection's cost.

Usage: bench/detect/run.py [BUILD_DIR] (default build). Needs `make model`
(the model cache) and ffmpeg; prints a Markdown table for bench/RESULTS.md
(section "detect"). Run it on an otherwise idle machine.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, sys.argv[1] if len(sys.argv) > 1 else "build")
os.environ.setdefault("VIGIL_BIN", os.path.join(BUILD, "src", "vigil"))
os.environ.setdefault("FAKECAM_BIN", os.path.join(BUILD, "tools", "fakecam", "vigil-fakecam"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from harness import Fakecam, Vigil  # noqa: E402

PHOTO = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"
CACHE = os.environ.get("VIGIL_MODEL_CACHE",
                       os.path.join(os.path.expanduser("~"), ".cache", "vigil", "models"))
CAMERAS = 2
WINDOW_S = int(os.environ.get("WINDOW_S", "30"))
SETTLE_S = 8
TICK = os.sysconf("SC_CLK_TCK")


def proc_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def inference(threads, tmp):
    raw = os.path.join(tmp, "photo.rgb")
    if not os.path.exists(raw):
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", PHOTO, "-vf", "scale=640:400",
                        "-f", "rawvideo", "-pix_fmt", "rgb24", raw], check=True)
    env = dict(os.environ, VIGIL_DETECT_THREADS=str(threads))
    out = subprocess.run([os.path.join(BUILD, "bench", "detect", "detect-bench"), CACHE,
                          "centernet", raw, "640", "400", "20"],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def cpu_run(label, scene, detect):
    fakecam = Fakecam("--cameras", str(CAMERAS), "--size", "1920x1080", "--fps", "30",
                      "--bitrate", "4000", "--gop", "1", "--scene", scene).start()
    data = tempfile.mkdtemp(prefix="vigil-bench-detect-")
    os.makedirs(os.path.join(data, "models"))
    for f in ("centernet.onnx", "centernet.onnx.ini"):
        shutil.copy(os.path.join(CACHE, f), os.path.join(data, "models", f))
    vigil = Vigil(data_dir=data, extra_args=["--log-level", "info"]).start()
    try:
        for n in range(1, CAMERAS + 1):
            r = vigil.request("POST", "/api/v1/cameras", {
                "id": f"cam{n}", "name": f"cam{n}", "source": fakecam.url(n), "record": "off",
                "detect": detect, "motion": {"enabled": True, "threshold": 0.08, "zones": []}})
            assert r.status == 201, r.body
        for n in range(1, CAMERAS + 1):
            vigil.wait_state(f"cam{n}", "streaming", 30)
        time.sleep(SETTLE_S)
        t0, (b0, a0) = proc_ticks(vigil.proc.pid), machine_busy()
        time.sleep(WINDOW_S)
        t1, (b1, a1) = proc_ticks(vigil.proc.pid), machine_busy()
        cpu = (t1 - t0) / TICK / WINDOW_S * 100
        machine = (b1 - b0) / (a1 - a0) * 100 * os.cpu_count()
        return {"label": label, "cpu_per_camera": cpu / CAMERAS,
                "other": max(machine - cpu, 0)}
    finally:
        vigil.cleanup()
        shutil.rmtree(data, ignore_errors=True)
        fakecam.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="vigil-bench-detect-")
    print(f"- date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()}", flush=True)
    rows = []
    for threads in (1, 2):
        b0, a0 = machine_busy()
        r = inference(threads, tmp)
        b1, a1 = machine_busy()
        r["found"] = r["found"][:3]
        print(f"  other load during it: ~{(b1 - b0) / (a1 - a0) * 100 * os.cpu_count():.0f} % "
              "(this benchmark included)", flush=True)
        rows.append((f"inference 512x512, OpenCV {threads} thread(s)",
                     f"{r['median_ms']:.0f} ms median wall (min {r['min_ms']:.0f}, "
                     f"max {r['max_ms']:.0f}, n={r['n']}), {r['cpu_ms']:.0f} ms CPU"))
        print(rows[-1], r["found"][:3], flush=True)
    off = {"enabled": False}
    on = {"enabled": True, "classes": ["person", "dog", "cat"], "min_score": 0.5,
          "interval_s": 15}
    runs = [cpu_run("detection off, still scene", "static", off),
            cpu_run("detection on, interval_s 15, still scene", "static", on),
            cpu_run("detection off, continuous motion", "motion:0", off),
            cpu_run("detection on, continuous motion (~1/s)", "motion:0", on)]
    for r in runs:
        rows.append((f"vigil CPU per 1080p camera, {r['label']}",
                     f"{r['cpu_per_camera']:.2f} % of a core (other load {r['other']:.0f} %)"))
        print(rows[-1], flush=True)
    print()
    print("| measure | value |")
    print("|---|---|")
    for k, v in rows:
        print(f"| {k} | {v} |")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
