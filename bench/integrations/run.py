#!/usr/bin/env python3
"""bench/integrations: what MQTT and webhooks cost, and how fast they tell.

vigil-fakecam serves N cameras (1280x720, 25 fps, 2 Mbps, 1 s GOP, scene
`demo`: motion and a QR code every 48 s loop), vigil records on events with
motion on, and one WebSocket viewer per camera watches live (wsload.c from
bench/live). Then, on the same vigil process, phases of --seconds each, in
the order A B C A B C (the machine is shared: the pairs show the noise):

  A  MQTT disabled, no webhook                       (the reference)
  B  MQTT connected to a local mosquitto, and a webhook (JSON, JPEG attached,
     signed) to a local receiver that answers 200 at once
  C  the broker killed (MQTT enabled, reconnecting) and the receiver hanging
     (it never answers: every attempt runs into vigil's 10 s timeout)

For each phase: vigil's CPU (% of one core), the live view's server-added
latency p50 / p99 (vigil's /metrics histogram, chunk arrival -> last byte
written to the viewer), and in B the delay from an event's start (the
keyframe it was seen in) to its message on <prefix>/events ("new") and to
the webhook's arrival at the receiver.

  python3 bench/integrations/run.py [--build /tmp/build-bench] [--cameras 4] [--seconds 60]
"""
import argparse
import base64
import datetime
import http.server
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import test_mqtt  # noqa: E402  (its Broker)

# bench/live's /proc and /metrics readers.
_spec = importlib.util.spec_from_file_location("live_run", os.path.join(HERE, "..", "live", "run.py"))
live = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(live)
cpu_seconds, histogram = live.cpu_seconds, live.histogram


def busy_seconds():
    """The machine's busy CPU seconds (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / os.sysconf("SC_CLK_TCK")


def iso_to_unix(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Receiver(http.server.ThreadingHTTPServer):
    """Records (arrival time, event id) of every webhook; hangs when told."""
    daemon_threads = True

    def __init__(self):
        self.arrivals = []
        self.hang = threading.Event()
        self.stop_hanging = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                t = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.hang.is_set():
                    receiver.stop_hanging.wait(30)
                    return
                start = body.find(b'"event":')
                try:
                    i = body.index(b'"id":', start) + 5
                    event_id = int(body[i:body.index(b",", i)])
                except ValueError:
                    event_id = None
                receiver.arrivals.append((t, event_id))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Broker(test_mqtt.Broker):
    """test_mqtt's mosquitto, and a subscriber that keeps when each new event
    arrived: (arrival unix time, event id, start unix time)."""

    def __init__(self, port):
        super().__init__(port)
        self.sub = None
        self.events = []

    def start(self):
        super().start()
        self.sub = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p",
                                     str(self.port), "-t", "vigil/events", "-F", "%U %p"],
                                    stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, args=(self.sub,), daemon=True).start()
        return self

    def _read(self, sub):
        for line in sub.stdout:
            stamp, payload = line.split(" ", 1)
            message = json.loads(payload)
            if message["type"] == "new":
                e = message["event"]
                self.events.append((float(stamp), e["id"], iso_to_unix(e["start"])))

    def kill(self):
        if self.sub and self.sub.poll() is None:
            self.sub.kill()
            self.sub.wait()
        super().kill()


def quantile(before, after, q):
    counts = [(le, a - b) for (le, a), (_, b) in zip(after, before)]
    total = counts[-1][1] if counts else 0
    if total == 0:
        return "n/a"
    for le, c in counts:
        if c >= q * total:
            return f"≤ {le * 1000:g} ms" if le != float("inf") else "> 1 s"
    return "> 1 s"


def patch(vigil, settings):
    r = vigil.request("PATCH", "/api/v1/settings", settings)
    if r.status != 200:
        raise SystemExit(f"PATCH /api/v1/settings: {r.status} {r.body!r}")


def ms(values):
    if not values:
        return "n/a"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"{statistics.median(values) * 1000:.0f} / {p95 * 1000:.0f} / {values[-1] * 1000:.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="/tmp/build-bench")
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    os.environ.setdefault("VIGIL_BIN", os.path.join(args.build, "src", "vigil"))
    os.environ.setdefault("FAKECAM_BIN", os.path.join(args.build, "tools", "fakecam", "vigil-fakecam"))
    import harness

    wsload = os.path.join("/tmp", f"vigil-wsload-{os.getpid()}")
    subprocess.run(["gcc", "-O2", "-o", wsload, os.path.join(HERE, "..", "live", "wsload.c")],
                   check=True)
    cam = harness.Fakecam("--cameras", str(args.cameras), "--size", "1280x720", "--fps", "25",
                          "--gop", "1", "--bitrate", "2000", "--scene", "demo").start()
    vigil = harness.Vigil(extra_args=["--log-level", "info"]).start()
    broker = Broker(harness.free_port())
    receiver = Receiver()
    viewers = []
    try:
        for n in range(1, args.cameras + 1):
            r = vigil.request("POST", "/api/v1/cameras", {
                "id": f"c{n}", "name": f"Camera {n}", "source": cam.url(n), "record": "events",
                "motion": {"enabled": True}, "barcodes": True})
            assert r.status == 201, r.body
        for n in range(1, args.cameras + 1):
            vigil.wait_state(f"c{n}", "streaming", 60)
        token = base64.b64encode(f"admin:{harness.ADMIN_PASSWORD}".encode()).decode()
        for n in range(1, args.cameras + 1):
            viewers.append(subprocess.Popen(
                [wsload, "127.0.0.1", str(vigil.port), f"/api/v1/cameras/c{n}/live", token, "1",
                 str(int(args.seconds * 7 + 120))], stdout=subprocess.DEVNULL))
        broker.start()
        hook = {"name": "bench", "url": f"http://127.0.0.1:{receiver.server_port}/hook",
                "snapshot": "attach", "secret": "bench-secret"}
        mqtt = {"host": "127.0.0.1", "port": broker.port}
        time.sleep(5)
        print(f"{args.cameras} cameras 1280x720 25 fps 2 Mbps (scene demo), one live viewer each, "
              f"{args.seconds:g} s per phase; delays median / p95 / max in ms")
        print("| phase | vigil CPU % of a core | other load % | live p50 | live p99 "
              "| events on MQTT | event → MQTT | event → webhook | webhooks | events stored |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for phase in "ABCABC":
            if phase == "A":
                receiver.hang.clear()
                receiver.stop_hanging.set()
                patch(vigil, {"mqtt": {"enabled": False, **mqtt}, "notify": []})
            elif phase == "B":
                if broker.proc.poll() is not None:
                    broker.start()
                receiver.stop_hanging.clear()
                patch(vigil, {"mqtt": {"enabled": True, **mqtt}, "notify": [hook]})
                harness.wait_for(lambda: vigil.request("GET", "/api/v1/system").json()["mqtt"]
                                 ["state"] == "connected", 30, what="mqtt connected")
            else:
                broker.kill()
                receiver.hang.set()
            time.sleep(3)
            mqtt_before, hooks_before = len(broker.events), len(receiver.arrivals)
            h0, v0, b0, t0 = histogram(vigil), cpu_seconds(vigil.proc.pid), busy_seconds(), time.monotonic()
            time.sleep(args.seconds)
            h1, v1, b1, t1 = histogram(vigil), cpu_seconds(vigil.proc.pid), busy_seconds(), time.monotonic()
            stored = [e for e in vigil.request("GET", "/api/v1/events?limit=1000").json()
                      if iso_to_unix(e["start"]) >= time.time() - args.seconds - 3]
            events = broker.events[mqtt_before:]
            arrivals = receiver.arrivals[hooks_before:]
            start_of = {eid: start for _, eid, start in broker.events}
            to_mqtt = [t - start for t, _, start in events]
            to_hook = [t - start_of[eid] for t, eid in arrivals if eid in start_of]
            vigil_pct = 100 * (v1 - v0) / (t1 - t0)
            other = 100 * (b1 - b0) / (t1 - t0) - vigil_pct
            print(f"| {phase} | {vigil_pct:.1f} | {other:.0f} | {quantile(h0, h1, 0.5)} | "
                  f"{quantile(h0, h1, 0.99)} | {len(events) if phase == 'B' else '–'} | "
                  f"{ms(to_mqtt) if phase == 'B' else '–'} | {ms(to_hook) if phase == 'B' else '–'} | "
                  f"{len(arrivals) if phase == 'B' else '–'} | {len(stored)} |", flush=True)
        deliveries = vigil.request("GET", "/api/v1/notify/deliveries").json()
        print(f"\ndelivery log at the end: queued {deliveries['queued']}, dropped "
              f"{deliveries['dropped']}")
    finally:
        receiver.stop_hanging.set()
        for v in viewers:
            v.kill()
        vigil.cleanup()
        cam.stop()
        broker.cleanup()
        receiver.shutdown()
        os.unlink(wsload)


if __name__ == "__main__":
    main()
