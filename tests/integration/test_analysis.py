"""Keyframe analysis against vigil-fakecam over RTSP on loopback: motion after
a still period (and none before it), no motion from still or noisy scenes,
one barcode event per QR code, the camera-dark alarm, the events API and its
SSE stream, and snapshot.jpg. All scenes run at once on one fakecam and one
vigil, so the whole file takes about as long as its longest wait (~65 s)."""
import json
import os
import subprocess
import tempfile
import time
import unittest
import urllib.request
from datetime import datetime

import harness
from harness import ADMIN_PASSWORD, Fakecam, SseReader, Vigil, wait_for

QR_TEXT = "vigil-QR test: 42/x?a=b&c"
STILL_S = 10
QUIET_S = 60
SCENES = {  # camera id -> fakecam scene
    "moving": f"motion:{STILL_S}",
    "still": "static",
    "noisy": "noise",
    "qr": f"qr:{QR_TEXT}",
    "dark": "dark",
    "zoned": f"motion:{STILL_S}",
}
# The motion scene's block (head included) stays below the top 0.19 of the frame.
ZONES = [{"name": "ceiling", "x": 0.0, "y": 0.0, "w": 1.0, "h": 0.12, "threshold": 0.02},
         {"name": "room", "x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0, "threshold": 0.05}]


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class AnalysisTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        args = ["--cameras", str(len(SCENES)), "--size", "640x360", "--fps", "15", "--gop", "1",
                "--bitrate", "800"]
        for scene in SCENES.values():
            args += ["--scene", scene]
        cls.fakecam = Fakecam(*args).start()
        cls.fakecam265 = Fakecam("--codec", "h265", *args[2:8], "--scene", "qr:H265").start()
        cls.vigil = Vigil().start()
        cls.sse = SseReader(cls.vigil)
        cls.sse.start()
        for n, cam_id in enumerate(SCENES, start=1):
            r = cls.vigil.request("POST", "/api/v1/cameras", {
                "id": cam_id, "name": cam_id, "source": cls.fakecam.url(n), "record": "off",
                "barcodes": cam_id in ("qr", "moving"),
                "motion": {"enabled": True, "threshold": 0.08,
                           "zones": ZONES if cam_id == "zoned" else []}})
            assert r.status == 201, (r.status, r.body)
        # A second camera on the dark scene, deleted by a test while its alarm is raised.
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "dark-gone", "name": "dark-gone", "source": cls.fakecam.url(5),
            "record": "off"})
        assert r.status == 201, (r.status, r.body)
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "qr265", "name": "qr265", "source": cls.fakecam265.url(1), "record": "off",
            "barcodes": True})
        assert r.status == 201, (r.status, r.body)
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "off", "name": "off", "source": cls.fakecam.url(1), "enabled": False})
        assert r.status == 201, (r.status, r.body)
        cls.streaming_since = {}
        for cam_id in SCENES:
            status = cls.vigil.wait_state(cam_id, "streaming", 30)["status"]
            cls.streaming_since[cam_id] = parse_time(status["since"])

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.fakecam.stop()
        cls.fakecam265.stop()

    def events(self, query=""):
        r = self.vigil.request("GET", "/api/v1/events" + query)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def wait_events(self, query, timeout, what):
        return wait_for(lambda: self.events(query), timeout, interval=0.5, what=what)

    def test_motion_after_still_period(self):
        found = self.wait_events("?camera=moving&type=motion", STILL_S + 20,
                                 "a motion event on the moving scene")
        first = found[-1]
        start = parse_time(first["start"])
        delay = start - self.streaming_since["moving"]
        # The block starts moving STILL_S after vigil connected (the scene's
        # first client); the event comes with the next keyframe or two.
        self.assertGreaterEqual(delay, STILL_S - 1.5, first)
        self.assertLessEqual(delay, STILL_S + 3.0, first)
        self.assertEqual(len(found), 1, found)
        self.assertEqual(first["camera"], "moving")
        self.assertIsNone(first["label"])
        self.assertGreater(first["score"], 0.08)
        self.assertIsNone(first["box"])
        self.assertIsNone(first["recording"])
        self.assertEqual(set(first), {"id", "camera", "type", "start", "end", "score", "label",
                                      "box", "data", "recording", "thumbnail"})
        level = self.vigil.camera("moving")["status"]["motion_level"]
        self.assertIsInstance(level, float)
        # The SSE stream delivered it too.
        wait_for(lambda: any(name == "event" and data["id"] == first["id"]
                             for name, data in self.sse.received()), 10,
                 what="the motion event on the SSE stream")

    def test_zones_label_their_events(self):
        found = self.wait_events("?camera=zoned&type=motion", STILL_S + 20,
                                 "a motion event in a zone")
        time.sleep(2)
        labels = {e["label"] for e in self.events("?camera=zoned&type=motion")}
        # Only the zone the block walks through; with zones, the whole frame
        # makes no events of its own.
        self.assertEqual(labels, {"room"}, found)

    def test_still_and_noisy_scenes_give_no_motion(self):
        deadline = max(self.streaming_since["still"], self.streaming_since["noisy"]) + QUIET_S
        time.sleep(max(0.0, deadline - time.time()))
        for cam_id in ("still", "noisy"):
            self.assertEqual(self.events(f"?camera={cam_id}&type=motion"), [], cam_id)
            level = self.vigil.camera(cam_id)["status"]["motion_level"]
            self.assertIsNotNone(level, cam_id)
            self.assertLess(level, 0.08, cam_id)
        # The static scene repeats byte-identical pictures: after 60 s it is a
        # frozen image; the noisy one never is.
        self.wait_events("?camera=still&type=alarm", 10, "frozen-image on the static scene")
        labels = [e["label"] for e in self.events("?camera=still&type=alarm")]
        self.assertEqual(labels, ["frozen-image"])
        self.assertEqual(self.events("?camera=noisy&type=alarm"), [])

    def test_qr_code_gives_one_barcode_event(self):
        self.wait_events("?camera=qr&type=barcode", 20, "a barcode event")
        time.sleep(5)  # five more keyframes with the code in view
        found = self.events("?camera=qr&type=barcode")
        self.assertEqual(len(found), 1, found)
        self.assertEqual(found[0]["data"], {"format": "QR-Code", "text": QR_TEXT})
        self.assertEqual(self.events("?camera=moving&type=barcode"), [])

    def test_h265_keyframes_are_analysed(self):
        found = self.wait_events("?camera=qr265&type=barcode", 20, "a barcode event from H.265")
        self.assertEqual(found[0]["data"], {"format": "QR-Code", "text": "H265"})
        wait_for(lambda: self.vigil.camera("qr265")["status"]["motion_level"] is not None, 10,
                 what="a motion level from H.265")
        r = self.vigil.request("GET", "/api/v1/cameras/qr265/snapshot.jpg")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body[:2], b"\xff\xd8")

    def test_dark_scene_raises_camera_dark(self):
        found = self.wait_events("?camera=dark&type=alarm", 20, "an alarm on the dark scene")
        dark = [e for e in found if e["label"] == "camera-dark"]
        self.assertEqual(len(dark), 1, found)
        self.assertIsNone(dark[0]["end"])  # still dark: not cleared
        for cam_id in ("moving", "still", "qr"):
            labels = [e["label"] for e in self.events(f"?camera={cam_id}&type=alarm")]
            self.assertNotIn("camera-dark", labels, cam_id)

    def test_deleting_a_camera_ends_its_alarm(self):
        found = self.wait_events("?camera=dark-gone&type=alarm", 20, "camera-dark on dark-gone")
        self.assertIsNone(found[0]["end"])
        self.assertEqual(self.vigil.request("DELETE", "/api/v1/cameras/dark-gone").status, 204)
        ended = self.events("?camera=dark-gone&type=alarm")[0]
        self.assertEqual(ended["id"], found[0]["id"])
        self.assertIsNotNone(ended["end"])
        self.assertGreaterEqual(parse_time(ended["end"]), parse_time(ended["start"]))

    def test_sse_stream(self):
        self.assertTrue(self.sse.content_type.startswith("text/event-stream"))
        wait_for(lambda: any(name == "camera" and data["camera"] == "qr" and
                             data["state"] == "streaming" for name, data in self.sse.received()),
                 30, what="a camera state change on the SSE stream")
        wait_for(lambda: any(name == "event" and data["type"] == "barcode"
                             for name, data in self.sse.received()), 30,
                 what="the barcode event on the SSE stream")
        r = self.vigil.request("GET", "/api/v1/events/stream", auth=None)
        self.assertEqual(r.status, 401)

    def test_snapshot(self):
        path = f"/api/v1/cameras/still/snapshot.jpg"
        r = self.vigil.request("GET", path)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.headers.get("Content-Type"), "image/jpeg")
        self.assertEqual(r.body[:2], b"\xff\xd8")
        with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
            f.write(r.body)
            f.flush()
            out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                                  "stream=width,height", "-of", "json", f.name],
                                 capture_output=True, text=True, check=True).stdout
        stream = json.loads(out)["streams"][0]
        self.assertEqual((stream["width"], stream["height"]), (640, 360))
        again = self.vigil.request("GET", path)
        self.assertEqual(again.status, 200)
        # No keyframe ever: 503 with a JSON error.
        r = self.vigil.request("GET", "/api/v1/cameras/off/snapshot.jpg")
        self.assertEqual(r.status, 503)
        self.assertIn("error", r.json())
        self.assertEqual(self.vigil.request("GET", "/api/v1/cameras/nope/snapshot.jpg").status, 404)
        self.assertEqual(self.vigil.request("POST", path, {}).status, 405)

    def test_events_api_filters_and_errors(self):
        self.wait_events("?camera=dark", 20, "an event on the dark scene")
        everything = self.events()
        self.assertIsInstance(everything, list)
        starts = [e["start"] for e in everything]
        self.assertEqual(starts, sorted(starts, reverse=True))
        self.assertEqual(len(self.events("?limit=1")), 1)
        self.assertEqual(self.events("?from=2999-01-01T00:00:00Z"), [])
        self.assertEqual(self.events("?to=2000-01-01T00:00:00Z"), [])
        for bad in ("?type=nothing", "?limit=0", "?limit=abc", "?from=yesterday",
                    "?camera=Not%20A%20Slug"):
            r = self.vigil.request("GET", "/api/v1/events" + bad)
            self.assertEqual(r.status, 400, bad)
            self.assertIn("error", r.json())
        self.assertEqual(self.vigil.request("GET", "/api/v1/events/nope").status, 404)
        self.assertEqual(self.vigil.request("POST", "/api/v1/events", {}).status, 405)


if __name__ == "__main__":
    harness.main()
