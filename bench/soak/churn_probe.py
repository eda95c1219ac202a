#!/usr/bin/env python3
"""Does a WebSocket viewer leave memory behind? One camera, then rounds of
200 viewers (bench/live/wsload.c) that connect, read 1 s and leave; prints
vigil's heap in use (/metrics, vigil_heap_in_use_bytes) after every 1000
viewers and the bytes retained per viewer. Build first (make build).

It found ~350 B per viewer: the GSocket that Debian 12's libsoup listener
never released (docs/security.md, "Connections"); since vigil accepts its
connections itself the figure is noise (within +-15 B per viewer).
tests/integration/test_connections.py checks the same in make test.

  python3 bench/soak/churn_probe.py
"""
import base64
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("VIGIL_BIN", os.path.join(ROOT, "build", "src", "vigil"))
os.environ.setdefault("FAKECAM_BIN", os.path.join(ROOT, "build", "tools", "fakecam", "vigil-fakecam"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
from harness import Fakecam, Vigil  # noqa: E402


def main():
    wsload = os.path.join(tempfile.mkdtemp(prefix="vigil-churn-"), "wsload")
    subprocess.run(["gcc", "-O2", "-o", wsload, os.path.join(ROOT, "bench", "live", "wsload.c")],
                   check=True)
    cam = Fakecam("--size", "640x360", "--fps", "15", "--gop", "1", "--bitrate", "600").start()
    v = Vigil().start()
    try:
        r = v.request("POST", "/api/v1/cameras", {"name": "cam", "source": cam.url()})
        assert r.status == 201, r.body
        v.wait_state("cam", "streaming", 30)
        token = base64.b64encode(f"admin:{harness.ADMIN_PASSWORD}".encode()).decode()

        def heap_kib():
            text = v.request("GET", "/metrics").body.decode()
            for line in text.splitlines():
                if line.startswith("vigil_heap_in_use_bytes "):
                    return int(line.split()[1]) / 1024
            sys.exit("no vigil_heap_in_use_bytes in /metrics (not glibc's malloc?)")

        def churn(rounds, n=200):
            for _ in range(rounds):
                subprocess.run([wsload, "127.0.0.1", str(v.port), "/api/v1/cameras/cam/live",
                                token, str(n), "1"], capture_output=True, timeout=60)
            time.sleep(2)

        churn(2)  # warm-up: first-use allocations
        h0 = heap_kib()
        for k in range(1, 5):
            churn(5)
            h = heap_kib()
            print(f"after {1000 * k} more viewers: heap in use {h:.0f} KiB ({h - h0:+.0f} KiB, "
                  f"{(h - h0) * 1024 / (1000 * k):.0f} B per viewer)", flush=True)
    finally:
        v.cleanup()
        cam.stop()


if __name__ == "__main__":
    main()
