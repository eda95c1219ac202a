"""Main and sub streams (docs/streams.md) against vigil-fakecam over RTSP on
loopback: the sub stream's status, live view of either stream over live.ts,
WebSocket and HLS, analysis moving to the sub stream (motion from it, barcodes
read from main keyframes at most every barcode_interval_s, nothing decoded
but a sample every 10 s when analysis is off), a failing sub stream that
leaves the camera alone, and the probe of a sub stream.

The main streams are 1280x720 and the sub streams 640x360 (a second
fakecam, or fakecam's own /camN_sub when it serves them), so every check
can tell which stream it got by its size."""
import os
import re
import tempfile
import time
import unittest

import harness
from harness import Fakecam, Vigil, WebSocket, capture_live_ts, free_port, wait_for

QR_TEXT = "vigil sub-stream test"
MAIN_SIZE = (1280, 720)
SUB_SIZE = (640, 360)
# camera id -> (main scene, sub scene)
SCENES = {
    "moving": ("motion:4", "motion:4"),
    "qr": (f"qr:{QR_TEXT}", "static"),
    "quiet": ("static", "static"),
}


def probe_size(data):
    with tempfile.NamedTemporaryFile(suffix=".ts") as f:
        f.write(harness.cut_at_last_frame(data))
        f.flush()
        codec, width, height, frames, _ = harness.ffprobe_frames(f.name)
    return codec, (width, height), frames


def metric(text, name, camera):
    m = re.search(rf'^{name}{{camera="{camera}"}} (\d+)', text, re.M)
    return int(m.group(1)) if m else None


class StreamsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Two fakecams (the QR code only in the main one's picture); neither
        # needs fakecam's own sub streams.
        common = ["--no-sub", "--cameras", str(len(SCENES)), "--fps", "15", "--gop", "1"]
        main_args = [*common, "--size", "%dx%d" % MAIN_SIZE, "--bitrate", "1500"]
        sub_args = [*common, "--size", "%dx%d" % SUB_SIZE, "--bitrate", "400"]
        for main, sub in SCENES.values():
            main_args += ["--scene", main]
            sub_args += ["--scene", sub]
        cls.main = Fakecam(*main_args).start()
        cls.sub = Fakecam(*sub_args).start()
        cls.vigil = Vigil().start()
        for n, cam_id in enumerate(SCENES, start=1):
            body = {"id": cam_id, "name": cam_id, "source": cls.main.url(n),
                    "sub_source": cls.sub.url(n), "record": "off",
                    "motion": {"enabled": cam_id != "quiet"}}
            if cam_id == "qr":
                body.update({"barcodes": True, "barcode_stream": "main",
                             "barcode_interval_s": 3, "motion": {"enabled": False}})
            r = cls.vigil.request("POST", "/api/v1/cameras", body)
            assert r.status == 201, (r.status, r.body)
        # One camera without a sub stream, one whose sub stream is unreachable.
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "single", "name": "single", "source": cls.main.url(3), "record": "off"})
        assert r.status == 201, (r.status, r.body)
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "subless", "name": "subless", "source": cls.main.url(3), "record": "off",
            "sub_source": f"rtsp://127.0.0.1:{free_port()}/nothing"})
        assert r.status == 201, (r.status, r.body)
        for cam_id in [*SCENES, "single"]:
            cls.wait_sub_streaming(cam_id)

    @classmethod
    def wait_sub_streaming(cls, cam_id):
        def ready():
            s = cls.vigil.camera(cam_id)["status"]
            sub_ok = s["sub"] is None or s["sub"]["state"] == "streaming"
            return s if s["state"] == "streaming" and sub_ok else None
        return wait_for(ready, 30, what=f"{cam_id} streaming")

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.main.stop()
        cls.sub.stop()

    def test_status_reports_both_streams(self):
        cam = self.vigil.camera("moving")
        self.assertEqual(cam["sub_source"], self.sub.url(1))
        self.assertIsNone(cam["sub_username"])
        self.assertFalse(cam["sub_password_set"])
        self.assertEqual(cam["record_stream"], "main")
        s = wait_for(lambda: (lambda s: s if s["sub"]["keyframe_interval_s"] else None)(
            self.vigil.camera("moving")["status"]), 15, what="sub stream measured")
        self.assertEqual((s["width"], s["height"]), MAIN_SIZE)
        sub = s["sub"]
        self.assertEqual(sorted(sub), sorted([
            "state", "error", "codec", "width", "height", "fps", "bitrate_kbps",
            "keyframe_interval_s", "viewers", "reconnects", "since"]))
        self.assertEqual((sub["state"], sub["codec"]), ("streaming", "h264"))
        self.assertEqual((sub["width"], sub["height"]), SUB_SIZE)
        self.assertAlmostEqual(sub["keyframe_interval_s"], 1.0, delta=0.2)
        self.assertEqual(s["analysis_stream"], "sub")
        single = self.vigil.camera("single")["status"]
        self.assertIsNone(single["sub"])
        self.assertEqual(single["analysis_stream"], "main")

    def test_live_ts_picks_the_stream(self):
        for cam_id, query, size in [("moving", "?stream=sub", SUB_SIZE),
                                    ("moving", "?stream=main", MAIN_SIZE),
                                    ("moving", "", MAIN_SIZE),
                                    ("single", "?stream=sub", MAIN_SIZE)]:
            with self.subTest(cam_id=cam_id, query=query):
                codec, got, frames = probe_size(capture_live_ts(self.vigil, cam_id, 2.5, query))
                self.assertEqual((codec, got), ("h264", size))
                self.assertGreater(frames, 10)
        for bad in ("?stream=both", "?stream=", "?stream=SUB"):
            r = self.vigil.request("GET", f"/api/v1/cameras/moving/live.ts{bad}")
            self.assertEqual(r.status, 400, bad)
            self.assertIn("stream must be main or sub", r.json()["error"])

    def test_snapshot_of_either_stream(self):
        # The grid's posters are sub-stream snapshots; the plain one stays the
        # main stream's. Each is cached until its own stream's next keyframe
        # (a sub keyframe does not make a new main JPEG, nor the reverse).
        for cam_id, query, size in [("moving", "", MAIN_SIZE),
                                    ("moving", "?stream=main", MAIN_SIZE),
                                    ("moving", "?stream=sub", SUB_SIZE),
                                    ("moving", "?stream=sub", SUB_SIZE),
                                    ("moving", "", MAIN_SIZE),
                                    ("moving", "?stream=sub&boxes=1", SUB_SIZE),
                                    ("single", "?stream=sub", MAIN_SIZE)]:
            with self.subTest(cam_id=cam_id, query=query):
                r = self.vigil.request("GET", f"/api/v1/cameras/{cam_id}/snapshot.jpg{query}")
                self.assertEqual(r.status, 200, r.body[:200])
                self.assertEqual(r.headers.get("Content-Type"), "image/jpeg")
                self.assertEqual(r.headers.get("Cache-Control"), "no-store")
                with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
                    f.write(r.body)
                    f.flush()
                    _, width, height, _, _ = harness.ffprobe_frames(f.name)
                self.assertEqual((width, height), size)
        for bad in ("?stream=both", "?stream=", "?stream=SUB"):
            r = self.vigil.request("GET", f"/api/v1/cameras/moving/snapshot.jpg{bad}")
            self.assertEqual(r.status, 400, bad)
            self.assertIn("stream must be main or sub", r.json()["error"])

    def test_viewers_counted_per_stream(self):
        ws = WebSocket(self.vigil, "/api/v1/cameras/qr/live?stream=sub")
        try:
            opcode, first = ws.recv()
            self.assertEqual((opcode, first[0]), (2, 0x47))  # binary, TS sync byte
            s = wait_for(lambda: (lambda s: s if s["sub"]["viewers"] == 1 else None)(
                self.vigil.camera("qr")["status"]), 10, what="a sub viewer")
            self.assertEqual(s["viewers"], 0)
        finally:
            ws.close()

    def test_hls_of_the_sub_stream(self):
        r = self.vigil.request("GET", "/api/v1/cameras/moving/live.m3u8?stream=sub", timeout=30)
        self.assertEqual(r.status, 200, r.body)
        segments = re.findall(r"^(live/\S+\.ts)$", r.body.decode(), re.M)
        self.assertTrue(segments and all(s.startswith("live/sub-") for s in segments), segments)
        seg = self.vigil.request("GET", f"/api/v1/cameras/moving/{segments[-1]}")
        self.assertEqual(seg.status, 200)
        self.assertEqual(probe_size(seg.body + b"\x47" + bytes(187))[1], SUB_SIZE)
        main = self.vigil.request("GET", "/api/v1/cameras/moving/live.m3u8", timeout=30)
        self.assertEqual(main.status, 200)
        self.assertNotIn("live/sub-", main.body.decode())
        r = self.vigil.request("GET", "/api/v1/cameras/single/live/sub-1.ts")
        self.assertEqual(r.status, 404)

    def test_motion_runs_on_the_sub_stream(self):
        # motion:4 on both streams: the sub stream's level crosses the threshold.
        def moving():
            r = self.vigil.request("GET", "/api/v1/events?camera=moving&type=motion")
            return r.json() or None
        wait_for(moving, 40, what="a motion event from the sub stream")
        log = self.vigil.log_text()
        self.assertRegex(log, r"camera moving: analysis now on the sub stream")

    def test_barcodes_from_main_keyframes(self):
        # The QR code is only in the main stream: found there, at most one main
        # keyframe per barcode_interval_s (3 s) decoded for it.
        def found():
            r = self.vigil.request("GET", "/api/v1/events?camera=qr&type=barcode")
            return r.json() or None
        events = wait_for(found, 30, what="a barcode event from the main stream")
        self.assertEqual(events[0]["data"]["text"], QR_TEXT)
        self.assertEqual(len(events), 1)
        text = self.vigil.request("GET", "/metrics").body.decode()
        scans0 = metric(text, "vigil_analysis_barcode_keyframes_total", "qr")
        t0 = time.monotonic()
        time.sleep(12)
        text = self.vigil.request("GET", "/metrics").body.decode()
        scans = metric(text, "vigil_analysis_barcode_keyframes_total", "qr") - scans0
        elapsed = time.monotonic() - t0
        self.assertGreaterEqual(scans, 2)
        self.assertLessEqual(scans, elapsed / 3 + 1)
        # Still one event: the code stays "seen" between the spaced-out scans.
        self.assertEqual(len(found()), 1)

    def test_nothing_decoded_when_analysis_is_off(self):
        # "quiet": motion, barcodes and detection off: one sub keyframe about
        # every 10 s for the dark and frozen alarms, no main keyframe at all.
        # 21 keyframes arrive in the window; depending on where the window
        # falls against the ~10 s sampling (and on how late a slow build
        # counts a decode), 1 to 3 of them are decoded.
        text = self.vigil.request("GET", "/metrics").body.decode()
        n0 = metric(text, "vigil_analysis_keyframes_total", "quiet")
        time.sleep(21)
        text = self.vigil.request("GET", "/metrics").body.decode()
        n = metric(text, "vigil_analysis_keyframes_total", "quiet") - n0
        self.assertIn(n, (1, 2, 3))
        self.assertEqual(metric(text, "vigil_analysis_barcode_keyframes_total", "quiet"), 0)

    def test_failing_sub_stream_leaves_the_camera_alone(self):
        s = wait_for(lambda: (lambda s: s if s["sub"]["state"] in ("offline", "error") else None)(
            self.vigil.camera("subless")["status"]), 30, what="sub stream failed")
        self.assertEqual(s["state"], "streaming")
        self.assertIsNone(s["error"])
        self.assertTrue(s["sub"]["error"])
        self.assertEqual(s["analysis_stream"], "main")
        # ?stream=sub while the sub stream is down: the main stream, so a grid
        # tile shows the camera rather than nothing.
        _, size, _ = probe_size(capture_live_ts(self.vigil, "subless", 2, "?stream=sub"))
        self.assertEqual(size, MAIN_SIZE)

    def test_sub_settings_reconnect_only_the_sub_stream(self):
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "id": "edit", "name": "edit", "source": self.main.url(3), "record": "off",
            "sub_source": self.sub.url(3)})
        self.assertEqual(r.status, 201, r.body)
        try:
            before = self.wait_sub_streaming("edit")
            r = self.vigil.request("PATCH", "/api/v1/cameras/edit", {
                "sub_username": "someone", "sub_password": "Sub-Secret-1"})
            self.assertEqual(r.status, 200, r.body)
            self.assertTrue(r.json()["sub_password_set"])
            self.assertNotIn(b"Sub-Secret-1", r.body)
            wait_for(lambda: self.vigil.camera("edit")["status"]["sub"]["reconnects"] >= 0 and
                     self.vigil.camera("edit")["status"]["sub"]["since"] != before["sub"]["since"],
                     20, what="the sub stream reconnected")
            self.wait_sub_streaming("edit")
            r = self.vigil.request("PATCH", "/api/v1/cameras/edit", {"sub_source": None})
            self.assertEqual(r.status, 200, r.body)
            s = r.json()["status"]
            self.assertIsNone(s["sub"])
            self.assertEqual(s["analysis_stream"], "main")
            # The main stream never dropped.
            self.assertEqual(s["state"], "streaming")
            self.assertEqual(s["since"], before["since"])
            self.assertEqual(s["reconnects"], 0)
            self.assertNotIn("Sub-Secret-1", self.vigil.log_text())
        finally:
            self.vigil.request("DELETE", "/api/v1/cameras/edit")

    def test_bad_sub_settings(self):
        for body, field in [({"sub_source": "ftp://x/y"}, "sub_source"),
                            ({"record_stream": "all"}, "record_stream"),
                            ({"barcode_stream": "both"}, "barcode_stream"),
                            ({"barcode_interval_s": 0}, "barcode_interval_s"),
                            ({"sub_password_set": True}, "sub_password_set")]:
            with self.subTest(body=body):
                r = self.vigil.request("PATCH", "/api/v1/cameras/moving", body)
                self.assertEqual(r.status, 400)
                self.assertIn(f'"{field}"', r.json()["error"])

    def test_probe_the_sub_stream(self):
        r = self.vigil.request("POST", "/api/v1/cameras/probe",
                               {"camera": "moving", "stream": "sub"}, timeout=20)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual((r.json()["width"], r.json()["height"]), SUB_SIZE)
        r = self.vigil.request("POST", "/api/v1/cameras/probe",
                               {"camera": "single", "stream": "sub"}, timeout=20)
        self.assertEqual(r.status, 400)
        self.assertIn("no sub stream", r.json()["error"])
        r = self.vigil.request("POST", "/api/v1/cameras/probe",
                               {"camera": "moving", "stream": "third"})
        self.assertEqual(r.status, 400)


if __name__ == "__main__":
    harness.main()
