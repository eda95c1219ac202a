"""Webhook notifications (docs/webhooks.md) against a receiver in this test:
settings validated with worded 400s and secrets never shown (admin) or the
list left out (viewer); motion events from vigil-fakecam delivered as signed
JSON with the snapshot attached (multipart JPEG) and in ntfy's shape; a
receiver answering 500 retried; a per-camera cool-down; test deliveries; and
a receiver that hangs does not hold up the API."""
import email.parser
import email.policy
import hashlib
import hmac
import http.server
import json
import threading
import time
import unittest

import harness
from harness import Fakecam, Vigil, wait_for

SECRET = "webhook-hmac-key"
TOKEN = "bearer-token-xyz"
PW = "notify-viewer-pw"


class Receiver:
    """An HTTP server on loopback that records every request. Paths pick the
    answer: /flaky answers 500 twice then 200, /hang waits until released,
    anything else 200."""

    def __init__(self):
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.flaky_left = 2
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def handle_any(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.requests.append({"method": self.command, "path": self.path,
                                              "headers": self.headers, "body": body})
                    flaky = self.path.startswith("/flaky") and receiver.flaky_left > 0
                    if flaky:
                        receiver.flaky_left -= 1
                if self.path.startswith("/hang"):
                    receiver.release.wait(30)
                status = 500 if flaky else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = handle_any
            do_PUT = handle_any

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # vigil closing a kept-alive connection is not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def on(self, path):
        with self.lock:
            return [r for r in self.requests if r["path"].split("?")[0] == path]

    def stop(self):
        self.release.set()
        self.server.shutdown()


def signature(body):
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


class NotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.receiver = Receiver()
        # Three cameras, each still for 2 s then moving: one motion event each.
        cls.fakecam = Fakecam("--cameras", "3", "--size", "640x360", "--fps", "10", "--gop", "1",
                              "--bitrate", "600", "--scene", "motion:2").start()
        cls.vigil = Vigil().start()
        r = cls.vigil.request("POST", "/api/v1/users", {"name": "watcher", "password": PW,
                                                        "role": "viewer"})
        assert r.status == 201, r.body
        base = cls.receiver.base
        webhooks = [
            {"name": "signed", "url": base + "/json?key=q1", "secret": SECRET,
             "auth_token": TOKEN, "snapshot": "attach",
             "events": {"cameras": ["a"], "types": ["motion"]}},
            # a's events again, at most one per hour: a second event is held back.
            {"name": "cool", "url": base + "/cool", "cooldown_s": 3600,
             "events": {"cameras": ["a"]}},
            {"name": "control", "url": base + "/control", "events": {"cameras": ["a"]}},
            {"name": "phone", "url": base + "/ntfy/vigil-b", "format": "ntfy",
             "snapshot": "url", "events": {"cameras": ["b"]}},
            {"name": "flaky", "url": base + "/flaky", "events": {"cameras": ["c"]}},
            {"name": "hang", "url": base + "/hang", "enabled": False},
        ]
        r = cls.vigil.request("PATCH", "/api/v1/settings",
                              {"public_url": "https://nvr.example:8443", "notify": webhooks})
        assert r.status == 200, r.body
        for n, cam in enumerate("abc", 1):
            r = cls.vigil.request("POST", "/api/v1/cameras", {
                "id": cam, "name": f"Camera {cam.upper()}", "source": cls.fakecam.url(n),
                "record": "off", "motion": {"enabled": True, "threshold": 0.08, "zones": []}})
            assert r.status == 201, r.body

    @classmethod
    def tearDownClass(cls):
        cls.receiver.stop()
        cls.vigil.cleanup()
        cls.fakecam.stop()

    def deliveries(self):
        r = self.vigil.request("GET", "/api/v1/notify/deliveries")
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def test_1_settings_validation_and_secrets(self):
        v = self.vigil
        cases = [
            ({"notify": [{"name": "x", "url": "ftp://h/"}]},
             'field "notify[0].url" must be an http:// or https:// address'),
            ({"notify": [{"name": "x", "url": "http://u:p@h/"}]}, "notify[0].url"),
            ({"notify": [{"name": "x", "url": "http://h/", "format": "xml"}]},
             "notify[0].format"),
            ({"notify": [{"name": "x", "url": "http://h/"}, {"name": "x", "url": "http://h/"}]},
             'field "notify[1].name" must be unique'),
            ({"notify": [{"name": "x", "url": "http://h/", "colour": 1}]},
             'unknown field "notify[0].colour"'),
            ({"notify": [{"name": "x", "url": "http://h/", "events": {"types": ["fire"]}}]},
             "notify[0].events.types"),
            ({"public_url": None}, "set public_url"),  # webhook "phone" links to it
        ]
        before = v.request("GET", "/api/v1/settings").json()
        for body, message in cases:
            r = v.request("PATCH", "/api/v1/settings", body)
            self.assertEqual(r.status, 400, (body, r.body))
            self.assertIn(message, r.json()["error"])
        after = v.request("GET", "/api/v1/settings").json()
        self.assertEqual(after, before)

        text = json.dumps(after)
        self.assertNotIn(SECRET, text)
        self.assertNotIn(TOKEN, text)
        signed = next(w for w in after["notify"] if w["name"] == "signed")
        self.assertTrue(signed["secret_set"])
        self.assertTrue(signed["auth_token_set"])
        self.assertNotIn("secret", signed)
        self.assertEqual(signed["events"], {"cameras": ["a"], "types": ["motion"], "labels": [],
                                            "min_score": 0})
        # Viewers do not see the webhooks at all.
        r = v.request("GET", "/api/v1/settings", auth=("watcher", PW))
        self.assertEqual(r.status, 200)
        self.assertNotIn("notify", r.json())
        self.assertNotIn(self.receiver.base, r.body.decode())
        for method, path in (("GET", "/api/v1/notify/deliveries"),
                             ("POST", "/api/v1/notify/test")):
            r = v.request(method, path, {"name": "signed"} if method == "POST" else None,
                          auth=("watcher", PW))
            self.assertEqual(r.status, 403, (path, r.body))

    def test_2_signed_json_with_snapshot(self):
        req = wait_for(lambda: self.receiver.on("/json"), 30,
                       what="a motion event of camera a at the receiver")[0]
        self.assertEqual(req["method"], "POST")
        self.assertEqual(req["path"], "/json?key=q1")
        h = req["headers"]
        self.assertEqual(h["X-Vigil-Event"], "new")
        self.assertTrue(h["User-Agent"].startswith("vigil/"))
        self.assertEqual(h["Authorization"], "Bearer " + TOKEN)
        self.assertEqual(h["X-Vigil-Signature"], signature(req["body"]))
        ctype = h["Content-Type"]
        self.assertTrue(ctype.startswith("multipart/form-data"), ctype)
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req["body"])
        parts = {p.get_param("name", header="content-disposition"): p
                 for p in message.iter_parts()}
        payload = json.loads(parts["event"].get_content())
        self.assertEqual(payload["type"], "new")
        self.assertEqual(payload["camera"], {"id": "a", "name": "Camera A"})
        event = payload["event"]
        self.assertEqual(event["type"], "motion")
        self.assertEqual(event["camera"], "a")
        self.assertEqual(h["X-Vigil-Delivery"],
                         str(next(d["id"] for d in self.deliveries()["deliveries"]
                                  if d["event"] == event["id"] and d["webhook"] == "signed")))
        snapshot = parts["snapshot"]
        self.assertEqual(snapshot.get_content_type(), "image/jpeg")
        self.assertEqual(snapshot.get_filename(), f"event-{event['id']}.jpg")
        self.assertEqual(snapshot.get_content()[:3], b"\xff\xd8\xff")

    def test_3_ntfy(self):
        req = wait_for(lambda: self.receiver.on("/ntfy/vigil-b"), 30,
                       what="camera b's motion at the ntfy receiver")[0]
        self.assertEqual(req["method"], "POST")
        h = req["headers"]
        self.assertEqual(req["body"].decode(), "Motion in Camera B")
        self.assertEqual(h["Title"], "vigil: Camera B")
        self.assertEqual(h["Tags"], "motion")
        self.assertEqual(h["Click"], "https://nvr.example:8443/cameras/b")
        self.assertTrue(h["Content-Type"].startswith("text/plain"))
        self.assertNotIn("X-Vigil-Signature", h)
        # snapshot "url": the thumbnail's link when it came in time.
        if "Attach" in h:
            self.assertRegex(h["Attach"],
                             r"^https://nvr\.example:8443/api/v1/events/\d+/thumbnail\.jpg$")

    def test_4_retried_after_500(self):
        def third_attempt():
            rows = [d for d in self.deliveries()["deliveries"] if d["webhook"] == "flaky"]
            return len(rows) >= 3 and rows
        rows = wait_for(third_attempt, 40, what="three attempts to the flaky receiver")
        rows.sort(key=lambda d: d["attempt"])
        self.assertEqual([d["attempt"] for d in rows], [1, 2, 3])
        self.assertEqual(len({d["id"] for d in rows}), 1)
        self.assertEqual([d["status"] for d in rows], [500, 500, 200])
        self.assertIn("500", rows[0]["error"])
        self.assertNotIn("/flaky", rows[0]["error"])
        self.assertIsNone(rows[2]["error"])
        self.assertEqual(len(self.receiver.on("/flaky")), 3)

    def test_5_cooldown(self):
        v = self.vigil
        wait_for(lambda: self.receiver.on("/cool") and self.receiver.on("/control"), 30,
                 what="camera a's first event at both receivers")
        first = json.loads(self.receiver.on("/control")[0]["body"])["event"]["id"]
        # A threshold no picture reaches until the event ends, then the old one
        # again: a second event of camera a.
        r = v.request("PATCH", "/api/v1/cameras/a", {"motion": {"threshold": 1}})
        self.assertEqual(r.status, 200, r.body)

        def first_ended():
            events = v.request("GET", "/api/v1/events?camera=a&type=motion").json()
            return all(e["end"] for e in events)
        wait_for(first_ended, 20, what="camera a's motion event to end")
        r = v.request("PATCH", "/api/v1/cameras/a", {"motion": {"threshold": 0.08}})
        self.assertEqual(r.status, 200, r.body)

        def second_event():
            ids = [json.loads(r["body"])["event"]["id"] for r in self.receiver.on("/control")]
            return [i for i in ids if i != first]
        wait_for(second_event, 30, what="a second event of camera a at the control receiver")
        # "cool" comes before "control" in the list and in the queue: had it been
        # sent, it would be here already.
        self.assertEqual(len(self.receiver.on("/cool")), 1)

    def test_6_test_delivery(self):
        v = self.vigil
        r = v.request("POST", "/api/v1/notify/test", {"name": "control"})
        self.assertEqual(r.status, 202, r.body)
        delivery = r.json()["delivery"]

        def arrived():
            return [q for q in self.receiver.on("/control")
                    if q["headers"]["X-Vigil-Delivery"] == str(delivery)]
        req = wait_for(arrived, 15, what="the test delivery")[0]
        self.assertEqual(req["headers"]["X-Vigil-Event"], "test")
        payload = json.loads(req["body"])
        self.assertEqual(payload["type"], "test")
        self.assertIn(payload["camera"]["id"], ("a", "b", "c"))
        row = wait_for(lambda: [d for d in self.deliveries()["deliveries"]
                                if d["id"] == delivery], 10, what="the test in the log")[0]
        self.assertEqual(row["type"], "test")
        self.assertIsNone(row["event"])
        self.assertEqual(row["status"], 200)
        self.assertRegex(row["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        r = v.request("POST", "/api/v1/notify/test", {"name": "nobody"})
        self.assertEqual(r.status, 404)
        self.assertIn("nobody", r.json()["error"])
        for body in ({}, {"name": 5}, {"name": "control", "x": 1}, [1]):
            r = v.request("POST", "/api/v1/notify/test", body)
            self.assertEqual(r.status, 400, (body, r.body))

    def test_7_hanging_receiver_does_not_block(self):
        v = self.vigil
        r = v.request("POST", "/api/v1/notify/test", {"name": "hang"})
        self.assertEqual(r.status, 202, r.body)
        delivery = r.json()["delivery"]
        wait_for(lambda: self.receiver.on("/hang"), 15, what="the request to the hanging receiver")

        def rows():
            return sorted((d for d in self.deliveries()["deliveries"] if d["id"] == delivery),
                          key=lambda d: d["attempt"])
        try:
            for _ in range(5):
                started = time.monotonic()
                r = v.request("GET", "/api/v1/health")
                self.assertEqual(r.status, 200)
                self.assertLess(time.monotonic() - started, 1.0)
                self.assertGreaterEqual(self.deliveries()["queued"], 1)
            # Behind it the queue holds 64: the 65th waiting drops the oldest.
            dropped = self.deliveries()["dropped"]
            for _ in range(65):
                r = v.request("POST", "/api/v1/notify/test", {"name": "hang"})
                self.assertEqual(r.status, 202, r.body)
            log = self.deliveries()
            self.assertEqual(log["dropped"], dropped + 1)
            self.assertEqual(log["queued"], 65)
            # The attempt times out after 10 s, then it is tried again.
            first = wait_for(rows, 20, what="the hung attempt to time out")[0]
        finally:
            self.receiver.release.set()
        self.assertIsNone(first["status"])
        self.assertIn("no answer from 127.0.0.1 within 10 s", first["error"])
        self.assertGreaterEqual(first["duration_ms"], 9000)
        second = wait_for(lambda: len(rows()) >= 2 and rows()[1], 15,
                          what="the second attempt")
        self.assertEqual(second["attempt"], 2)
        self.assertEqual(second["status"], 200)
    def test_8_log(self):
        # After all deliveries: no secret, token or query string in the log.
        log = self.vigil.log_text()
        self.assertIn("webhook flaky: delivery", log)
        for secret in (SECRET, TOKEN, "key=q1", "CRITICAL"):
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    harness.main()
