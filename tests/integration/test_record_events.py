"""Events and recordings linked both ways, against vigil-fakecam over RTSP on
loopback: a camera in `record: "events"` with a 3 s pre-roll watches
`motion:8` (still 8 s, then a moving block). Its motion event starts a
recording that begins at least the pre-roll before the event; the recording
lists the event in `events` and the event names the recording in
`recording`; the recording's thumbnail is a JPEG of the camera's picture
(320 px wide, aspect kept). A
`static` scene on a second camera in the same mode records nothing. Both
cameras run at once, so the file takes about 25 s."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from datetime import datetime

import harness
from harness import Fakecam, Vigil, wait_for

PRE_ROLL_S = 3
GOP_S = 1  # fakecam --gop, in seconds
STILL_S = 8
QUIET_S = 20
WIDTH, HEIGHT = 640, 360
THUMB_WIDTH = 320  # docs/recording.md


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class RecordEventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakecam = Fakecam("--cameras", "2", "--size", f"{WIDTH}x{HEIGHT}", "--fps", "15",
                              "--gop", str(GOP_S), "--bitrate", "800",
                              "--scene", f"motion:{STILL_S}", "--scene", "static").start()
        cls.vigil = Vigil().start()
        for n, cam_id in enumerate(("mot", "still"), start=1):
            r = cls.vigil.request("POST", "/api/v1/cameras", {
                "id": cam_id, "name": cam_id, "source": cls.fakecam.url(n), "record": "events",
                "pre_roll_s": PRE_ROLL_S, "post_roll_s": 2,
                "motion": {"enabled": True, "threshold": 0.08, "zones": []}})
            assert r.status == 201, (r.status, r.body)
        cls.vigil.wait_state("still", "streaming", 20)
        cls.still_since = time.monotonic()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.fakecam.stop()

    def events(self, cam_id, type_=None):
        path = f"/api/v1/events?camera={cam_id}" + (f"&type={type_}" if type_ else "")
        r = self.vigil.request("GET", path)
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def recordings(self, cam_id):
        r = self.vigil.request("GET", f"/api/v1/recordings?camera={cam_id}")
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def test_a_motion_event_and_its_recording_are_linked(self):
        v = self.vigil
        ev = wait_for(lambda: (self.events("mot", "motion") or [None])[-1], STILL_S + 20,
                      what="a motion event")
        # The first indexed segment (about 2 s) gives the recording its row.
        rec = wait_for(lambda: next((r for r in self.recordings("mot")
                                     if ev["id"] in r["events"]), None), 15,
                       what="a recording listing the motion event")
        self.assertEqual(rec["reason"], "motion")
        ev = next(e for e in self.events("mot", "motion") if e["id"] == ev["id"])
        self.assertEqual(ev["recording"], rec["id"], (ev, rec))
        r = v.request("GET", f"/api/v1/recordings/{rec['id']}")
        self.assertEqual(r.status, 200)
        self.assertIn(ev["id"], r.json()["events"])

        # Pre-roll: the recording begins at least PRE_ROLL_S before the
        # event. The event's time is its keyframe's arrival; the pre-roll
        # window is measured back from the newest chunk when the trigger
        # arrives, after that keyframe was decoded and analysed, which is at
        # most one keyframe interval later (a later keyframe replaces a
        # pending one), hence one GOP of tolerance. It begins at a keyframe,
        # so no more than one GOP (and a little slack) earlier than that.
        rec_start, ev_start = parse_time(rec["start"]), parse_time(ev["start"])
        print(f"recording starts {ev_start - rec_start:.2f} s before the motion event",
              file=sys.stderr)
        self.assertLessEqual(rec_start, ev_start - PRE_ROLL_S + GOP_S, (rec, ev))
        self.assertGreater(rec_start, ev_start - PRE_ROLL_S - 2 * GOP_S - 0.5, (rec, ev))

        # The thumbnail: a JPEG of the camera's picture, scaled to the
        # documented 320 px width with its aspect ratio kept.
        rec = wait_for(lambda: (lambda r: r if r["thumbnail"] else None)(
            v.request("GET", f"/api/v1/recordings/{rec['id']}").json()), 10,
            what="a thumbnail")
        r = v.request("GET", rec["thumbnail"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "image/jpeg")
        with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
            f.write(r.body)
            f.flush()
            out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                                  "stream=codec_name,width,height", "-of", "json", f.name],
                                 capture_output=True, text=True, check=True)
        stream = json.loads(out.stdout)["streams"][0]
        self.assertEqual((stream["codec_name"], stream["width"], stream["height"]),
                         ("mjpeg", THUMB_WIDTH, THUMB_WIDTH * HEIGHT // WIDTH))

    def test_b_static_scene_records_nothing(self):
        remaining = QUIET_S - (time.monotonic() - self.still_since)
        if remaining > 0:
            time.sleep(remaining)
        self.assertEqual(self.vigil.camera("still")["status"]["state"], "streaming")
        self.assertEqual(self.recordings("still"), [])
        self.assertEqual(self.events("still", "motion"), [])
        self.assertFalse(os.path.exists(os.path.join(self.vigil.data_dir, "recordings", "still")))


if __name__ == "__main__":
    harness.main()
