"""The camera's own motion over ONVIF events (docs/onvif.md, "Events"): a
camera with "onvif": {"motion_events": true} against vigil-fakecam --onvif 0
--onvif-motion-schedule ON,OFF subscribes to the device's pull point, and
the device's IsMotion true/false opens and closes vigil "motion" events
(and its line crossing an "object" event "line-crossing"). With keyframe
motion off (motion.enabled false) and no detection or barcodes, not one
keyframe is decoded (/metrics). A device without an events service and
wrong credentials give worded statuses; deleting or disabling the camera
unsubscribes (the fakecam logs Unsubscribe); the password never reaches
the log."""
import re
import time
import unittest

import harness
from harness import Fakecam, Vigil, wait_for

PASSWORD = "events-Secret-pw-58"
ON_S, OFF_S = 4, 5


def metric(text, name, camera, extra=""):
    m = re.search(r'^%s\{camera="%s"%s\} ([0-9.e+-]+)$' % (name, re.escape(camera), extra), text,
                  re.M)
    return float(m.group(1)) if m else None


class OnvifEventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cam = Fakecam("--user", f"admin:{PASSWORD}", "--size", "320x240", "--no-sub",
                          "--fps", "10", "--gop", "0.5", "--onvif", "0",
                          "--onvif-motion-schedule", f"{ON_S},{OFF_S}").start()
        cls.plain = Fakecam("--size", "320x240", "--no-sub", "--fps", "5", "--onvif", "0",
                            "--onvif-no-events").start()
        cls.vigil = Vigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.cam.stop()
        cls.plain.stop()

    def create(self, body):
        r = self.vigil.request("POST", "/api/v1/cameras", body)
        self.assertEqual(r.status, 201, r.body)
        self.addCleanup(lambda: self.vigil.request("DELETE", f"/api/v1/cameras/{body['id']}"))
        return r.json()

    def events(self, cam, type_="motion"):
        r = self.vigil.request("GET", f"/api/v1/events?camera={cam}&type={type_}")
        self.assertEqual(r.status, 200, r.body)
        return r.json()

    def fakecam_log(self, cam):
        cam.errors.seek(0)
        return cam.errors.read().decode(errors="replace")

    def wait_subscribed(self, cam_id):
        wait_for(lambda: self.onvif_status(cam_id) == "subscribed", 15,
                 what=f"{cam_id} subscribed (status {self.onvif_status(cam_id)!r})")

    def onvif_status(self, cam_id):
        return self.vigil.camera(cam_id)["status"]["onvif_events"]

    def test_motion_from_device(self):
        self.create({"id": "door", "name": "Door", "source": self.cam.url(1), "username": "admin",
                     "password": PASSWORD, "record": "events",
                     "motion": {"enabled": False},
                     "onvif": {"address": self.cam.onvif, "motion_events": True}})
        self.wait_subscribed("door")
        self.vigil.wait_state("door", "streaming", 30)
        # A motion event that starts and ends with the device's schedule.
        # The first may have started mid-way ("Initialized" true at subscription):
        # the second is a whole one.
        done = wait_for(lambda: (lambda ended: ended if len(ended) >= 2 else None)(
            [e for e in self.events("door") if e["end"]]),
            3 * (ON_S + OFF_S) + 10, interval=0.5, what="two ended motion events")
        e = done[0]  # newest first
        self.assertIsNone(e["label"])
        length = (harness_time(e["end"]) - harness_time(e["start"]))
        self.assertGreater(length, ON_S - 1.5, e)
        self.assertLess(length, ON_S + 1.5, e)
        # The line crossing the fake device reports with each motion start.
        crossings = self.events("door", "object")
        self.assertTrue(any(c["label"] == "line-crossing" for c in crossings), crossings)
        # Recording on events followed the device's motion.
        wait_for(lambda: self.vigil.request(
            "GET", "/api/v1/recordings?camera=door").json(), 20, what="a recording")
        # Not one keyframe decoded for it.
        m = self.vigil.request("GET", "/metrics").body.decode()
        self.assertEqual(metric(m, "vigil_analysis_keyframes_total", "door"), 0.0, m)
        self.assertEqual(metric(m, "vigil_analysis_barcode_keyframes_total", "door"), 0.0)
        self.assertEqual(metric(m, "vigil_analysis_seconds_total", "door", ',stage="decode"'), 0.0)
        # Delete: the device is told.
        before = self.fakecam_log(self.cam).count("Unsubscribe")
        r = self.vigil.request("DELETE", "/api/v1/cameras/door")
        self.assertEqual(r.status, 204, r.body)
        wait_for(lambda: self.fakecam_log(self.cam).count("Unsubscribe") > before, 10,
                 what="Unsubscribe on delete")
        self.assertNotIn(PASSWORD, self.vigil.log_text())

    def test_disable_unsubscribes(self):
        self.create({"id": "gate", "name": "Gate", "source": self.cam.url(1), "username": "admin",
                     "password": PASSWORD,
                     "onvif": {"address": self.cam.onvif, "motion_events": True}})
        self.wait_subscribed("gate")
        before = self.fakecam_log(self.cam).count("Unsubscribe")
        r = self.vigil.request("PATCH", "/api/v1/cameras/gate", {"enabled": False})
        self.assertEqual(r.status, 200, r.body)
        wait_for(lambda: self.fakecam_log(self.cam).count("Unsubscribe") > before, 10,
                 what="Unsubscribe on disable")
        self.assertIsNone(self.onvif_status("gate"))
        # Enabled again: subscribed again.
        r = self.vigil.request("PATCH", "/api/v1/cameras/gate", {"enabled": True})
        self.assertEqual(r.status, 200, r.body)
        self.wait_subscribed("gate")
        # motion_events off: unsubscribed, no status.
        r = self.vigil.request("PATCH", "/api/v1/cameras/gate", {
            "onvif": {"address": self.cam.onvif, "motion_events": False}})
        self.assertEqual(r.status, 200, r.body)
        self.assertIsNone(self.onvif_status("gate"))

    def test_no_events_service(self):
        self.create({"id": "plain", "name": "Plain", "source": self.plain.url(1),
                     "onvif": {"address": self.plain.onvif, "motion_events": True}})
        status = wait_for(lambda: (lambda s: s if s and s != "subscribing" else None)(
            self.onvif_status("plain")), 15, what="a status")
        self.assertIn("no events service", status)

    def test_wrong_password(self):
        self.create({"id": "wrong", "name": "Wrong", "source": self.cam.url(1),
                     "username": "admin", "password": "wrong-pw-x73",
                     "onvif": {"address": self.cam.onvif, "motion_events": True}})
        status = wait_for(lambda: (lambda s: s if s and s != "subscribing" else None)(
            self.onvif_status("wrong")), 15, what="a status")
        self.assertIn("wrong username or password", status)
        self.assertNotIn("wrong-pw-x73", self.vigil.log_text())

    def test_no_onvif_events(self):
        # A camera without motion_events has no subscription and a null status.
        self.create({"id": "nosub", "name": "No sub", "source": self.plain.url(1)})
        self.assertIsNone(self.onvif_status("nosub"))


class PresetOnEventTest(unittest.TestCase):
    """onvif.preset_on_event: the device's motion sends the camera to a
    preset, and home return_after_s later."""

    @classmethod
    def setUpClass(cls):
        cls.cam = Fakecam("--user", f"admin:{PASSWORD}", "--size", "320x240", "--no-sub",
                          "--fps", "5", "--onvif", "0", "--ptz",
                          "--onvif-motion-schedule", "2,6").start()
        cls.vigil = Vigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.cam.stop()

    def ptz_calls(self, op):
        self.cam.errors.seek(0)
        return self.cam.errors.read().decode(errors="replace").count(f"onvif ptz: {op}\n")

    def test_preset_on_event(self):
        onvif = {"address": self.cam.onvif, "motion_events": True}
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "id": "dome", "name": "Dome", "source": self.cam.url(1), "username": "admin",
            "password": PASSWORD, "record": "off", "motion": {"enabled": False}, "onvif": onvif})
        self.assertEqual(r.status, 201, r.body)
        r = self.vigil.request("POST", "/api/v1/cameras/dome/ptz",
                               {"action": "set_preset", "name": "Driveway"})
        self.assertEqual(r.status, 200, r.body)
        token = r.json()["preset"]
        # Bad values are refused, naming the field.
        for bad, field in (({"preset": ""}, "onvif.preset_on_event.preset"),
                           ({"return_after_s": 5}, "onvif.preset_on_event.preset"),
                           ({"preset": token, "return_after_s": -1},
                            "onvif.preset_on_event.return_after_s"),
                           ({"preset": token, "speed": 1}, "onvif.preset_on_event.speed")):
            r = self.vigil.request("PATCH", "/api/v1/cameras/dome",
                                   {"onvif": dict(onvif, preset_on_event=bad)})
            self.assertEqual(r.status, 400, (bad, r.body))
            self.assertIn(field, r.json()["error"])
        goto, home = self.ptz_calls("GotoPreset"), self.ptz_calls("GotoHomePosition")
        r = self.vigil.request("PATCH", "/api/v1/cameras/dome", {"onvif": dict(
            onvif, preset_on_event={"preset": token, "return_after_s": 2})})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["onvif"]["preset_on_event"],
                         {"preset": token, "return_after_s": 2})
        wait_for(lambda: self.ptz_calls("GotoPreset") > goto, 20, what="GotoPreset on motion")
        t0 = time.monotonic()
        wait_for(lambda: self.ptz_calls("GotoHomePosition") > home, 10, what="home again")
        self.assertGreater(time.monotonic() - t0, 1.0)
        self.assertIn(f"going to preset {token}", self.vigil.log_text())
        # null: no more.
        r = self.vigil.request("PATCH", "/api/v1/cameras/dome",
                               {"onvif": dict(onvif, preset_on_event=None)})
        self.assertEqual(r.status, 200, r.body)
        self.assertIsNone(r.json()["onvif"]["preset_on_event"])


class SteeringPausesMotionTest(unittest.TestCase):
    """Keyframe motion makes no event while the camera is steered through
    vigil (the picture moves: the motion level shows it) nor just after."""

    @classmethod
    def setUpClass(cls):
        cls.cam = Fakecam("--size", "640x360", "--no-sub", "--fps", "10", "--gop", "0.5",
                          "--onvif", "0", "--ptz").start()
        cls.vigil = Vigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.cam.stop()

    def test_move_makes_no_motion_event(self):
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "id": "steer", "name": "Steer", "source": self.cam.url(1), "record": "off",
            "motion": {"enabled": True, "threshold": 0.08},
            "onvif": {"address": self.cam.onvif}})
        self.assertEqual(r.status, 201, r.body)
        self.vigil.wait_state("steer", "streaming", 30)
        wait_for(lambda: self.vigil.camera("steer")["status"]["motion_level"] is not None, 20,
                 what="a motion level")
        time.sleep(1)
        levels = []
        for speeds in ({"pan": 1}, {"pan": -1}):
            r = self.vigil.request("POST", "/api/v1/cameras/steer/ptz",
                                   dict(action="move", **speeds))
            self.assertEqual(r.status, 204, r.body)
            t_end = time.monotonic() + 1.2
            while time.monotonic() < t_end:
                levels.append(self.vigil.camera("steer")["status"]["motion_level"] or 0)
                time.sleep(0.1)
            r = self.vigil.request("POST", "/api/v1/cameras/steer/ptz", {"action": "stop"})
            self.assertEqual(r.status, 204, r.body)
        time.sleep(3)
        # The picture moved: without the pause these levels make motion events.
        self.assertGreater(max(levels), 0.08, levels)
        r = self.vigil.request("GET", "/api/v1/events?camera=steer&type=motion")
        self.assertEqual(r.json(), [])


def harness_time(iso):
    from datetime import datetime
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    harness.main()
