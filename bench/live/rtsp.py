#!/usr/bin/env python3
"""bench/live/rtsp.py: fan-out CPU of vigil's RTSP server (docs/restream.md).

Starts vigil-fakecam (one 4 Mbps 1280x720 camera) and vigil with the RTSP
server on, then for each client count runs a load client (this script with
--client, its own process: selectors, one thread) that plays that many RTSP
sessions over TCP interleaved and reads and discards. vigil's CPU is measured
from /proc over the same window as the clients' byte counts; vigil's figure
includes the camera's ingest (~1 %).

  python3 bench/live/rtsp.py [--build build] [--seconds 15] [--clients 1,10,50,100]
"""
import argparse
import base64
import os
import selectors
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
WARMUP = 4


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def client(port, path, auth, n, seconds):
    token = base64.b64encode(auth.encode()).decode()
    url = f"rtsp://127.0.0.1:{port}/{path}"
    sel = selectors.DefaultSelector()
    counts = []
    for i in range(n):
        # vigil allows 32 connections per address: spread over 127.0.0.x.
        s = socket.create_connection(("127.0.0.1", port),
                                     source_address=(f"127.0.0.{2 + i // 30}", 0))
        s.sendall((f"SETUP {url}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Basic {token}\r\n"
                   "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        session = [l.split(b":", 1)[1].strip().split(b";")[0].decode()
                   for l in head.split(b"\r\n") if l.lower().startswith(b"session:")][0]
        s.sendall((f"PLAY {url} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Basic {token}\r\n"
                   f"Session: {session}\r\n\r\n").encode())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, i)
        counts.append(0)
    start = time.monotonic()
    marks = {}
    while True:
        now = time.monotonic()
        if WARMUP not in marks and now - start >= WARMUP:
            marks[WARMUP] = (now, list(counts))
            print("go", flush=True)
        if now - start >= WARMUP + seconds:
            break
        for key, _ in sel.select(0.2):
            try:
                data = key.fileobj.recv(262144)
            except BlockingIOError:
                continue
            counts[key.data] += len(data)
    t0, c0 = marks[WARMUP]
    span = time.monotonic() - t0
    slowest = min((c - b for c, b in zip(counts, c0)), default=0) * 8 / span / 1e6
    print(f"{slowest:.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", default="1,10,50,100")
    ap.add_argument("--client", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        port, path, auth, n, seconds = args.client
        client(int(port), path, auth, int(n), float(seconds))
        return
    os.environ.setdefault("VIGIL_BIN", os.path.join(args.build, "src", "vigil"))
    os.environ.setdefault("FAKECAM_BIN", os.path.join(args.build, "tools", "fakecam", "vigil-fakecam"))
    import harness

    cam = harness.Fakecam("--size", "1280x720", "--fps", "25", "--gop", "1", "--bitrate", "4000",
                          "--scene", "noise", "--no-sub").start()
    vigil = harness.Vigil(extra_args=["--log-level", "info"]).start()
    port = harness.free_port()
    try:
        vigil.request("POST", "/api/v1/cameras", {"id": "cam", "name": "cam", "source": cam.url(),
                                                  "record": "off"})
        vigil.wait_state("cam", "streaming", 30)
        vigil.request("PATCH", "/api/v1/settings",
                      {"rtsp_server": {"enabled": True, "listen": f"127.0.0.1:{port}"}})
        harness.wait_for(lambda: vigil.request("GET", "/api/v1/system").json()["rtsp_server"]
                         ["state"] == "listening", 10)
        time.sleep(3)
        print("| RTSP clients | camera Mbps | delivered Mbps per client (slowest) "
              "| vigil CPU % of one core | load client CPU % |")
        print("|---|---|---|---|---|")
        for n in [int(x) for x in args.clients.split(",")]:
            proc = subprocess.Popen([sys.executable, __file__, "--client", str(port), "cam",
                                     f"admin:{harness.ADMIN_PASSWORD}", str(n), str(args.seconds)],
                                    stdout=subprocess.PIPE, text=True)
            assert proc.stdout.readline().strip() == "go"
            v0, c0, t0 = cpu_seconds(vigil.proc.pid), cpu_seconds(proc.pid), time.monotonic()
            slowest = proc.stdout.readline().strip()
            v1, c1, t1 = cpu_seconds(vigil.proc.pid), cpu_seconds(proc.pid), time.monotonic()
            proc.wait()
            mbps = vigil.camera("cam")["status"].get("bitrate_kbps", 0) / 1000
            print(f"| {n} | {mbps:.2f} | {slowest} | {100 * (v1 - v0) / (t1 - t0):.1f} | "
                  f"{100 * (c1 - c0) / (t1 - t0):.1f} |", flush=True)
            time.sleep(2)
    finally:
        vigil.cleanup()
        cam.stop()


if __name__ == "__main__":
    main()
