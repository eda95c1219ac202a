"""PTZ through ONVIF (docs/onvif.md): a camera with "onvif" set against
vigil-fakecam --onvif 0 --ptz, whose camera 1 is drawn live as a viewport
that follows the PTZ state. A move then stop shifts the picture (measured on
snapshot.jpg); a preset stores a view that goto_preset brings back; presets
are listed and removed; home returns to the start; a relative move shifts
the picture by about what the click-to-centre mapping says, and a device
that cannot (--ptz-no-relative) gives 409 in words. Access: control needed
(403 with view only, 404 for a camera the user cannot see); 409 for a camera
without "onvif" and for a device without a PTZ service; bad bodies 400; the
"onvif" field is normalised, kept across a restart; the password never
reaches the log."""
import subprocess
import time
import unittest

import harness
from harness import Fakecam, Vigil, wait_for

PASSWORD = "ptz-Secret-pw-77"
W, H = 64, 36  # snapshots are compared at this size, in grey


def grey(jpeg):
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "-", "-vf", f"scale={W}:{H}", "-pix_fmt", "gray",
         "-f", "rawvideo", "-"], input=jpeg, capture_output=True, check=True).stdout
    assert len(out) == W * H, len(out)
    return out


def mean_abs_diff(a, b, shift=0):
    """Mean |b[y][x] - a[y][x + shift]| over the columns both have."""
    total = n = 0
    for y in range(H):
        for x in range(max(0, -shift), min(W, W - shift)):
            total += abs(b[y * W + x] - a[y * W + x + shift])
            n += 1
    return total / n


class OnvifPtzTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cam = Fakecam("--user", f"admin:{PASSWORD}", "--size", "640x360", "--no-sub",
                          "--fps", "10", "--gop", "0.5", "--onvif", "0", "--ptz").start()
        cls.plain = Fakecam("--size", "320x240", "--no-sub", "--fps", "5", "--onvif", "0").start()
        cls.vigil = Vigil().start()
        cls.create({"id": "dome", "name": "Dome", "source": cls.cam.url(1), "username": "admin",
                    "password": PASSWORD, "onvif": {"address": cls.cam.onvif}})
        # HOST:PORT, normalised to the device service URL.
        cls.create({"id": "fixed", "name": "Fixed", "source": cls.plain.url(1),
                    "onvif": {"address": cls.plain.onvif.split("/")[2]}})
        cls.create({"id": "bare", "name": "Bare", "source": cls.plain.url(1)})
        for name, cameras in (("vic", {"dome": ["view"]}), ("sam", {"bare": ["view", "control"]}),
                              ("otto", {"dome": ["view", "control"]})):
            r = cls.vigil.request("POST", "/api/v1/users", {
                "name": name, "password": f"{name}-pw-123456", "role": "operator",
                "cameras": cameras})
            assert r.status == 201, r.body
        cls.vigil.wait_state("dome", "streaming", 30)

    @classmethod
    def create(cls, body):
        r = cls.vigil.request("POST", "/api/v1/cameras", body)
        assert r.status == 201, r.body

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.cam.stop()
        cls.plain.stop()

    def ptz(self, body, cam="dome", auth=("admin", harness.ADMIN_PASSWORD)):
        return self.vigil.request("POST", f"/api/v1/cameras/{cam}/ptz", body, auth=auth,
                                  timeout=30)

    def ok(self, body):
        r = self.ptz(body)
        self.assertIn(r.status, (200, 204), (body, r.body))
        return r

    def snapshot(self):
        """The picture a little after the last command: the snapshot is the
        latest keyframe (every 0.5 s), so wait for two."""
        time.sleep(1.2)
        r = self.vigil.request("GET", "/api/v1/cameras/dome/snapshot.jpg")
        self.assertEqual(r.status, 200, r.body)
        return grey(r.body)

    def move(self, seconds, **speeds):
        self.ok({"action": "move", **speeds})
        time.sleep(seconds)
        self.ok({"action": "stop"})

    def test_move_shifts_picture(self):
        self.ok({"action": "home"})
        before = self.snapshot()
        self.assertLess(mean_abs_diff(before, self.snapshot()), 2.0, "the picture is not still")
        self.move(0.6, pan=1)  # to the right: the content moves left
        after = self.snapshot()
        diff = mean_abs_diff(before, after)
        shifts = {s: mean_abs_diff(before, after, s) for s in range(-30, 31)}
        best = min(shifts, key=shifts.get)
        print(f"# pan right: mean abs diff {diff:.1f}, best shift {best} px of {W} "
              f"(diff there {shifts[best]:.1f})")
        self.assertGreater(diff, 8)
        self.assertGreater(best, 3)
        self.assertLess(shifts[best], diff / 2)
        # Tilt up: the content moves down.
        self.ok({"action": "home"})
        before = self.snapshot()
        self.move(0.6, tilt=1)
        after = self.snapshot()
        print(f"# tilt up: mean abs diff {mean_abs_diff(before, after):.1f}")
        self.assertGreater(mean_abs_diff(before, after), 8)
        # Zoom in, then home brings the first picture back.
        self.move(0.5, zoom=1)
        zoomed = self.snapshot()
        self.assertGreater(mean_abs_diff(after, zoomed), 8)
        self.ok({"action": "home"})
        self.assertLess(mean_abs_diff(before, self.snapshot()), 3)

    def test_relative(self):
        self.ok({"action": "home"})
        before = self.snapshot()
        r = self.ok({"action": "relative", "pan": 0.5})
        self.assertEqual(r.status, 204)
        after = self.snapshot()
        diff = mean_abs_diff(before, after)
        shifts = {s: mean_abs_diff(before, after, s) for s in range(-30, 31)}
        best = min(shifts, key=shifts.get)
        # docs/onvif.md: at zoom 0 a pan of 0.5 is 0.5 / (5/3) of the half
        # frame, 0.15 of the frame: 9.6 px of 64.
        print(f"# relative pan 0.5: mean abs diff {diff:.1f}, best shift {best} px of {W} "
              f"(diff there {shifts[best]:.1f})")
        self.assertGreater(diff, 8)
        self.assertTrue(7 <= best <= 12, best)
        self.assertLess(shifts[best], diff / 2)
        # And back: the first picture again.
        self.ok({"action": "relative", "pan": -0.5})
        self.assertLess(mean_abs_diff(before, self.snapshot()), 3)
        self.ok({"action": "relative", "tilt": 0.4, "zoom": 0.3})
        self.assertGreater(mean_abs_diff(before, self.snapshot()), 8)
        self.ok({"action": "home"})

    def test_relative_not_supported(self):
        norel = Fakecam("--size", "160x90", "--no-sub", "--fps", "5", "--onvif", "0", "--ptz",
                        "--ptz-no-relative").start()
        self.create({"id": "norel", "name": "No relative", "source": norel.url(1),
                     "onvif": {"address": norel.onvif}})
        try:
            r = self.ptz({"action": "relative", "pan": 0.2}, cam="norel")
            self.assertEqual(r.status, 409, r.body)
            self.assertIn("the camera cannot move by a relative amount", r.json()["error"])
            # Its other moves still work.
            self.assertEqual(self.ptz({"action": "stop"}, cam="norel").status, 204)
        finally:
            self.vigil.request("DELETE", "/api/v1/cameras/norel")
            norel.stop()

    def test_presets(self):
        self.ok({"action": "home"})
        home = self.snapshot()
        self.move(0.5, pan=-0.8, tilt=0.6)
        view = self.snapshot()
        self.assertGreater(mean_abs_diff(home, view), 8)
        name = 'Gate & "door" <1>'
        r = self.ok({"action": "set_preset", "name": name})
        self.assertEqual(r.status, 200)
        token = r.json()["preset"]
        self.assertTrue(token)
        r = self.vigil.request("GET", "/api/v1/cameras/dome/ptz/presets", timeout=30)
        self.assertEqual(r.status, 200, r.body)
        self.assertIn({"token": token, "name": name}, r.json())
        # Same name twice: the device refuses, with words.
        r = self.ptz({"action": "set_preset", "name": name})
        self.assertEqual(r.status, 502, r.body)
        self.assertIn("exists already", r.json()["error"])

        self.move(0.5, pan=1, zoom=0.5)
        away = self.snapshot()
        self.assertGreater(mean_abs_diff(view, away), 8)
        self.ok({"action": "goto_preset", "preset": token})
        back = self.snapshot()
        print(f"# preset: away {mean_abs_diff(view, away):.1f}, back {mean_abs_diff(view, back):.1f}")
        self.assertLess(mean_abs_diff(view, back), 3)

        self.assertEqual(self.ok({"action": "remove_preset", "preset": token}).status, 204)
        r = self.vigil.request("GET", "/api/v1/cameras/dome/ptz/presets", timeout=30)
        self.assertNotIn(token, [p["token"] for p in r.json()])
        r = self.ptz({"action": "goto_preset", "preset": token})
        self.assertEqual(r.status, 502, r.body)
        self.assertIn("no such preset", r.json()["error"])
        self.ok({"action": "home"})

    def test_access(self):
        r = self.ptz({"action": "stop"}, auth=("vic", "vic-pw-123456"))
        self.assertEqual(r.status, 403, r.body)
        r = self.vigil.request("GET", "/api/v1/cameras/dome/ptz/presets",
                               auth=("vic", "vic-pw-123456"))
        self.assertEqual(r.status, 403, r.body)
        for path in ("/api/v1/cameras/dome/ptz", "/api/v1/cameras/nosuch/ptz"):
            r = self.vigil.request("POST", path, {"action": "stop"}, auth=("sam", "sam-pw-123456"))
            self.assertEqual(r.status, 404, r.body)
            self.assertEqual(r.json()["error"], "no such camera")
        r = self.ptz({"action": "stop"}, auth=None)
        self.assertEqual(r.status, 401, r.body)
        r = self.ptz({"action": "stop"}, auth=("otto", "otto-pw-123456"))
        self.assertEqual(r.status, 204, r.body)

    def test_no_ptz(self):
        for cam in ("bare", "fixed"):
            r = self.ptz({"action": "move", "pan": 0.5}, cam=cam)
            self.assertEqual(r.status, 409, (cam, r.body))
            self.assertEqual(r.json(), {"error": "camera has no PTZ"})
            r = self.vigil.request("GET", f"/api/v1/cameras/{cam}/ptz/presets", timeout=30)
            self.assertEqual(r.status, 409, (cam, r.body))

    def test_device_errors(self):
        # Wrong password: the probe's words, 502; unreachable device too.
        self.create({"id": "wrongpw", "name": "Wrong pw", "source": self.cam.url(1),
                     "username": "admin", "password": "wrong-pw-x91", "onvif": {"address": self.cam.onvif}})
        self.create({"id": "gone", "name": "Gone", "source": self.cam.url(1),
                     "onvif": {"address": f"127.0.0.1:{harness.free_port()}"}})
        try:
            r = self.ptz({"action": "stop"}, cam="wrongpw")
            self.assertEqual(r.status, 502, r.body)
            self.assertIn("wrong username or password", r.json()["error"])
            r = self.ptz({"action": "home"}, cam="gone")
            self.assertEqual(r.status, 502, r.body)
            self.assertIn("cannot reach the device", r.json()["error"])
            # The right password after a PATCH works at once.
            r = self.vigil.request("PATCH", "/api/v1/cameras/wrongpw", {"password": PASSWORD})
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(self.ptz({"action": "stop"}, cam="wrongpw").status, 204)
        finally:
            for cam in ("wrongpw", "gone"):
                self.vigil.request("DELETE", f"/api/v1/cameras/{cam}")
        self.assertNotIn("wrong-pw-x91", self.vigil.log_text())

    def test_bad_bodies(self):
        for body in ([], {}, {"action": "fly"}, {"action": 5}, {"action": "move", "pan": 2},
                     {"action": "move", "tilt": -1.01}, {"action": "move", "zoom": "in"},
                     {"action": "move", "speed": 1}, {"action": "stop", "pan": 1},
                     {"action": "goto_preset"}, {"action": "goto_preset", "preset": ""},
                     {"action": "remove_preset", "preset": 3}, {"action": "set_preset"},
                     {"action": "set_preset", "name": "x" * 65},
                     {"action": "set_preset", "name": "a\nb"}, {"action": "relative"},
                     {"action": "relative", "pan": 0, "tilt": 0, "zoom": 0},
                     {"action": "relative", "pan": 1.5}, {"action": "relative", "tilt": -2},
                     {"action": "relative", "zoom": "in"},
                     {"action": "relative", "pan": 0.1, "preset": "1"}):
            r = self.ptz(body)
            self.assertEqual(r.status, 400, (body, r.body))
            self.assertIn("error", r.json())
        r = self.vigil.request("POST", "/api/v1/cameras/dome/ptz", raw=b"{not json")
        self.assertEqual(r.status, 400, r.body)

    def test_camera_field(self):
        got = self.vigil.camera("fixed")["onvif"]
        self.assertEqual(got, {"address": self.plain.onvif, "profile": None,
                               "sub_profile": None, "motion_events": False,
                               "preset_on_event": None})
        self.assertIsNone(self.vigil.camera("bare")["onvif"])
        for bad in ({"address": "ftp://x/y"}, {"address": "h", "user": "x"}, {},
                    {"address": "h", "motion_events": "yes"}, "h"):
            r = self.vigil.request("PATCH", "/api/v1/cameras/bare", {"onvif": bad})
            self.assertEqual(r.status, 400, (bad, r.body))
        r = self.vigil.request("PATCH", "/api/v1/cameras/bare", {"onvif": {
            "address": "192.0.2.9:8080", "profile": "main", "motion_events": True}})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["onvif"], {
            "address": "http://192.0.2.9:8080/onvif/device_service", "profile": "main",
            "sub_profile": None, "motion_events": True, "preset_on_event": None})
        r = self.vigil.request("PATCH", "/api/v1/cameras/bare", {"onvif": None})
        self.assertIsNone(r.json()["onvif"])

    def test_probe_says_ptz(self):
        r = self.vigil.request("POST", "/api/v1/onvif/probe", {
            "address": self.cam.onvif, "username": "admin", "password": PASSWORD}, timeout=30)
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["ptz"])
        r = self.vigil.request("POST", "/api/v1/onvif/probe", {"address": self.plain.onvif},
                               timeout=30)
        self.assertFalse(r.json()["ptz"])

    def test_create_from_profiles(self):
        # No "source": the device's profiles give it (by token, else the largest).
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "id": "probed", "name": "Probed", "username": "admin", "password": PASSWORD,
            "onvif": {"address": self.cam.onvif}}, timeout=30)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["source"], self.cam.url(1))
        self.assertIsNone(r.json()["sub_source"])
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "id": "probed2", "name": "Probed 2", "username": "admin", "password": PASSWORD,
            "onvif": {"address": self.cam.onvif, "profile": "main"}}, timeout=30)
        self.assertEqual(r.status, 201, r.body)
        self.assertEqual(r.json()["source"], self.cam.url(1))
        for body, words in (
                ({"onvif": {"address": self.cam.onvif, "profile": "nosuch"}},
                 'no H.264 or H.265 profile "nosuch"'),
                ({"onvif": {"address": self.cam.onvif}, "password": "wrong"},
                 "wrong username or password"),
                ({"onvif": {"address": self.cam.onvif}, "retain_days": 0}, "retain_days")):
            r = self.vigil.request("POST", "/api/v1/cameras", {
                "name": "Nope", "username": "admin", "password": PASSWORD, **body}, timeout=30)
            self.assertEqual(r.status, 400, (body, r.body))
            self.assertIn(words, r.json()["error"])
        for cam in ("probed", "probed2"):
            self.assertEqual(
                self.vigil.request("DELETE", f"/api/v1/cameras/{cam}").status, 204)

    def test_zz_restart_and_log(self):
        # Last (zz): restarts the daemon.
        self.vigil.stop()
        self.vigil.start()
        self.assertEqual(self.vigil.camera("dome")["onvif"]["address"], self.cam.onvif)
        self.vigil.wait_state("dome", "streaming", 30)
        self.ok({"action": "stop"})
        self.assertNotIn(PASSWORD, self.vigil.log_text())


if __name__ == "__main__":
    harness.main()
