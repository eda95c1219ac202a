#!/usr/bin/env python3
"""bench/live: fan-out CPU and server-added latency of live view.

Starts vigil-fakecam (one 4 Mbps 1280x720 camera) and vigil, then for each
viewer count opens that many WebSocket viewers with the C load client
(wsload.c, built here) that read and discard. vigil's CPU and the client's CPU
are measured separately from /proc over the same window. The server-added
latency (chunk arrival from the camera -> last byte written to a viewer's
socket) comes from vigil's /metrics histogram, as the difference between the
histogram before and after the window.

  python3 bench/live/run.py [--build build] [--seconds 20] [--viewers 1,10,100,500]
"""
import argparse
import base64
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def histogram(vigil):
    return histogram_of(vigil.request("GET", "/metrics").body.decode())


def histogram_of(text):
    """The send-latency histogram's buckets in GET /metrics' text."""
    buckets = []
    for line in text.splitlines():
        if line.startswith("vigil_live_send_latency_seconds_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), int(line.rsplit(" ", 1)[1])))
    return buckets


def quantile(before, after, q):
    """Upper bound of the bucket holding quantile q of the window's samples."""
    counts = [(le, a - b) for (le, a), (_, b) in zip(after, before)]
    total = counts[-1][1]
    if total == 0:
        return None, 0
    for le, c in counts:
        if c >= q * total:
            return le, total
    return float("inf"), total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--viewers", default="1,10,100,500")
    args = ap.parse_args()
    os.environ.setdefault("VIGIL_BIN", os.path.join(args.build, "src", "vigil"))
    os.environ.setdefault("FAKECAM_BIN", os.path.join(args.build, "tools", "fakecam", "vigil-fakecam"))
    import harness

    wsload = os.path.join("/tmp", f"vigil-wsload-{os.getpid()}")
    subprocess.run(["gcc", "-O2", "-o", wsload, os.path.join(HERE, "wsload.c")], check=True)
    cam = harness.Fakecam("--size", "1280x720", "--fps", "25", "--gop", "1", "--bitrate", "4000",
                          "--scene", "noise").start()
    vigil = harness.Vigil(extra_args=["--log-level", "info"]).start()
    try:
        vigil.request("POST", "/api/v1/cameras", {"name": "cam", "source": cam.url()})
        vigil.wait_state("cam", "streaming", 30)
        time.sleep(3)
        token = base64.b64encode(f"admin:{harness.ADMIN_PASSWORD}".encode()).decode()
        print("| viewers | camera Mbps | delivered Mbps per viewer (slowest) | vigil CPU % of one core "
              "| load client CPU % | latency p50 | latency p99 | samples |")
        print("|---|---|---|---|---|---|---|---|")
        for n in [int(x) for x in args.viewers.split(",")]:
            client = subprocess.Popen([wsload, "127.0.0.1", str(vigil.port),
                                       "/api/v1/cameras/cam/live", token, str(n),
                                       str(args.seconds + 6)],
                                      stdout=subprocess.PIPE, text=True)
            # Let every viewer connect and get its first GOP before measuring.
            time.sleep(4)
            h0 = histogram(vigil)
            v0, c0, t0 = cpu_seconds(vigil.proc.pid), cpu_seconds(client.pid), time.monotonic()
            lines = []
            while time.monotonic() - t0 < args.seconds:
                lines.append(client.stdout.readline())
            v1, c1, t1 = cpu_seconds(vigil.proc.pid), cpu_seconds(client.pid), time.monotonic()
            h1 = histogram(vigil)
            client.wait()
            stats = vigil.camera("cam")["status"]
            # The slowest viewer's rate over the measured window.
            first = [l for l in lines if l.strip()][0].split()
            last = [l for l in lines if l.strip()][-1].split()
            span = float(last[0]) - float(first[0])
            slow_mbps = (int(last[4]) - int(first[4])) * 8 / span / 1e6 if span > 0 else 0
            p50, total = quantile(h0, h1, 0.50)
            p99, _ = quantile(h0, h1, 0.99)
            fmt = lambda s: "n/a" if s is None else (f"≤ {s * 1000:g} ms" if s != float("inf") else "> 1 s")
            print(f"| {n} | {stats.get('bitrate_kbps', 0) / 1000:.2f} | {slow_mbps:.2f} | "
                  f"{100 * (v1 - v0) / (t1 - t0):.1f} | {100 * (c1 - c0) / (t1 - t0):.1f} | "
                  f"{fmt(p50)} | {fmt(p99)} | {total} |", flush=True)
            time.sleep(2)
    finally:
        vigil.cleanup()
        cam.stop()
        os.unlink(wsload)


if __name__ == "__main__":
    main()
