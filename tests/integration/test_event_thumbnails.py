"""Event thumbnails against vigil-fakecam: a motion event gets a small JPEG of
the camera's picture (320 px wide) under DATA/thumbnails/<camera>/<day>/,
announced again on the SSE stream with its URL, served by
GET /api/v1/events/{id}/thumbnail.jpg to users with playback only (403 to
those who see the camera without it, 404 to those who do not see it), and day
folders older than the camera's retain_days are deleted by retention."""
import json
import sys
import os
import struct
import time
import unittest
import urllib.request
import base64
from datetime import datetime, timezone

import harness
from harness import ADMIN_PASSWORD, Fakecam, Vigil, wait_for

PW = "thumbs-test-password"


def jpeg_size(data):
    """(width, height) from a JPEG's SOF marker."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(data):
        assert data[i] == 0xFF
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + length
    raise AssertionError("no SOF in the JPEG")


class EventThumbnailsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakecam = Fakecam("--cameras", "1", "--size", "640x360", "--fps", "15", "--gop", "1",
                              "--bitrate", "800", "--scene", "motion:3").start()
        cls.vigil = Vigil()
        # An old day folder for retention to delete, and today's to keep.
        today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        for day in ("2000-01-01", today):
            d = os.path.join(cls.vigil.data_dir, "thumbnails", "mot", day)
            os.makedirs(d)
            with open(os.path.join(d, "999999.jpg"), "wb") as f:
                f.write(b"\xff\xd8\xff\xd9")
        cls.today = today
        cls.vigil.start()
        # Listen on SSE before any event, to see it announced with its URL.
        req = urllib.request.Request(cls.vigil.base + "/api/v1/events/stream")
        token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
        cls.stream = urllib.request.urlopen(req, timeout=40)
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "mot", "name": "mot", "source": cls.fakecam.url(1), "record": "off",
            "retain_days": 7, "motion": {"enabled": True, "threshold": 0.08, "zones": []}})
        assert r.status == 201, r.body
        r = cls.vigil.request("POST", "/api/v1/users",
                              {"name": "live-only", "password": PW, "role": "viewer",
                               "cameras": {"mot": ["view"]}})
        assert r.status == 201, r.body
        r = cls.vigil.request("POST", "/api/v1/users",
                              {"name": "elsewhere", "password": PW, "role": "viewer",
                               "cameras": {"nothere": ["view", "playback"]}})
        assert r.status == 201, r.body

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.fakecam.stop()

    def test_thumbnail(self):
        v = self.vigil
        stream = self.stream

        def motion_with_thumbnail():
            r = v.request("GET", "/api/v1/events?camera=mot&type=motion")
            return next((e for e in r.json() if e["thumbnail"]), None)

        ev = wait_for(motion_with_thumbnail, 30, what="a motion event with a thumbnail")
        self.assertEqual(ev["thumbnail"], f"/api/v1/events/{ev['id']}/thumbnail.jpg")
        r = v.request("GET", ev["thumbnail"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "image/jpeg")
        self.assertEqual(jpeg_size(r.body), (320, 180))
        self.assertLess(len(r.body), 60000)
        print(f"event thumbnail: {len(r.body)} bytes", file=sys.stderr)
        day = ev["start"][:10]
        path = os.path.join(v.data_dir, "thumbnails", "mot", day, f"{ev['id']}.jpg")
        self.assertTrue(os.path.isfile(path), path)

        # The SSE stream carried the event again with its thumbnail.
        deadline = time.monotonic() + 20
        seen = None
        name = None
        while time.monotonic() < deadline and not seen:
            line = stream.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == "event":
                e = json.loads(line[6:])
                if e["type"] == "motion" and e["thumbnail"]:
                    seen = e
        stream.close()
        self.assertIsNotNone(seen, "no SSE event with a thumbnail")

        # Rights (SPEC): the camera seen without playback → 403; a camera the
        # user may not see → 404 byte for byte like a missing event; bad ids → 404.
        self.assertEqual(v.request("GET", ev["thumbnail"], auth=("live-only", PW)).status, 403)
        missing = v.request("GET", "/api/v1/events/99999999/thumbnail.jpg")
        self.assertEqual(missing.status, 404)
        hidden = v.request("GET", ev["thumbnail"], auth=("elsewhere", PW))
        self.assertEqual((hidden.status, hidden.body), (404, missing.body))
        self.assertEqual(v.request("GET", "/api/v1/events/abc/thumbnail.jpg").status, 404)
        self.assertIn(v.request("GET", "/api/v1/events/..%2f/thumbnail.jpg").status, (400, 404))
        self.assertEqual(v.request("GET", ev["thumbnail"], auth=None).status, 401)

    def test_retention(self):
        root = os.path.join(self.vigil.data_dir, "thumbnails", "mot")
        wait_for(lambda: not os.path.exists(os.path.join(root, "2000-01-01")), 25,
                 what="retention to delete the old day of thumbnails")
        self.assertTrue(os.path.exists(os.path.join(root, self.today, "999999.jpg")))


if __name__ == "__main__":
    harness.main()
