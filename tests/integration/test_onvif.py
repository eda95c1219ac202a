"""POST /api/v1/onvif/probe against vigil-fakecam's fake ONVIF device
(--onvif): identity and both profiles with their RTSP URIs, then a camera made
from them streams, from Media2 when the device has it (an H.265 device with
Media2 only included), from the ver10 Media service when it has only that or
when its Media2 faults; a wrong password, an unreachable address and a device
whose clock is off with wrong credentials answer 400 with words; a clock 180 s
off with the right credentials still works (the token's Created is
corrected); only admins may probe; the password never reaches the log."""
import unittest

import harness
from harness import Fakecam, Vigil, free_port

PROBE = "/api/v1/onvif/probe"
PASSWORD = "onvif-Secret-pw-42"


class OnvifTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cam = Fakecam("--user", f"admin:{PASSWORD}", "--size", "640x360", "--sub-size",
                          "320x180", "--onvif", "0").start()
        cls.skewed = Fakecam("--user", f"admin:{PASSWORD}", "--size", "320x240",
                             "--onvif", "0", "--onvif-clock-offset", "180").start()
        # An H.265 camera that describes its streams in Media2 only, and an
        # older one with the ver10 Media service only.
        cls.media2 = Fakecam("--user", f"admin:{PASSWORD}", "--codec", "h265", "--size", "640x360",
                             "--sub-size", "320x180", "--onvif", "0", "--onvif-media", "2").start()
        cls.media1 = Fakecam("--user", f"admin:{PASSWORD}", "--size", "320x240", "--no-sub",
                             "--onvif", "0", "--onvif-media", "1").start()
        cls.faulty2 = Fakecam("--user", f"admin:{PASSWORD}", "--size", "320x240", "--no-sub",
                              "--onvif", "0", "--onvif-media", "1+faulty2").start()
        cls.vigil = Vigil().start()
        r = cls.vigil.request("POST", "/api/v1/users", {
            "name": "vera", "password": "vera-pw-123456", "role": "operator",
            "cameras": {"*": ["view", "control"]}})
        assert r.status == 201, r.body

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.cam.stop()
        cls.skewed.stop()
        cls.media2.stop()
        cls.media1.stop()
        cls.faulty2.stop()

    def probe(self, body, **kwargs):
        return self.vigil.request("POST", PROBE, body, timeout=30, **kwargs)

    def test_probe_and_stream(self):
        r = self.probe({"address": self.cam.onvif, "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        got = r.json()
        print(f"# probe: {got}")
        self.assertEqual((got["manufacturer"], got["model"]), ("vigil", "fakecam"))
        self.assertFalse(got["ptz"])
        self.assertEqual(got["media_service"], "media2")  # asked first when there is one
        self.assertEqual(len(got["profiles"]), 2)
        main, sub = got["profiles"]
        self.assertEqual((main["codec"], main["width"], main["height"]), ("h264", 640, 360))
        self.assertEqual((sub["width"], sub["height"]), (320, 180))
        self.assertEqual(got["source"], self.cam.url(1))
        self.assertEqual(got["sub_source"], self.cam.sub_url(1))
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "id": "gate", "name": "Gate", "source": got["source"],
            "sub_source": got["sub_source"], "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 201, r.body)
        self.vigil.wait_state("gate", "streaming", 30)
        self.assertNotIn(PASSWORD, self.vigil.log_text())

    def test_media2_only_h265_device(self):
        r = self.probe({"address": self.media2.onvif, "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        got = r.json()
        self.assertEqual(got["media_service"], "media2")
        main, sub = got["profiles"]
        self.assertEqual((main["token"], main["name"], main["codec"], main["width"],
                          main["height"]), ("main", "Main stream", "h265", 640, 360))
        self.assertEqual((sub["codec"], sub["width"], sub["height"]), ("h265", 320, 180))
        self.assertEqual(got["source"], self.media2.url(1))
        self.assertEqual(got["sub_source"], self.media2.sub_url(1))
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "id": "hevc", "name": "HEVC", "source": got["source"],
            "sub_source": got["sub_source"], "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 201, r.body)
        self.vigil.wait_state("hevc", "streaming", 30)
        st = self.vigil.request("GET", "/api/v1/cameras/hevc").json()["status"]
        self.assertEqual(st["codec"], "h265", st)

    def test_media1_only_device(self):
        r = self.probe({"address": self.media1.onvif, "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        got = r.json()
        self.assertEqual(got["media_service"], "media")
        self.assertEqual([(p["codec"], p["width"]) for p in got["profiles"]], [("h264", 320)])
        self.assertEqual(got["source"], self.media1.url(1))
        self.assertIsNone(got["sub_source"])

    def test_faulty_media2_falls_back_to_media(self):
        r = self.probe({"address": self.faulty2.onvif, "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        got = r.json()
        self.assertEqual(got["media_service"], "media")
        self.assertEqual(got["source"], self.faulty2.url(1))
        self.assertIn("Media2 did not give the streams", self.vigil.log_text())

    def test_host_port_address(self):
        hostport = self.cam.onvif.split("/")[2]
        r = self.probe({"address": hostport, "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["source"], self.cam.url(1))

    def test_wrong_password(self):
        r = self.probe({"address": self.cam.onvif, "username": "admin", "password": "nope"})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("wrong username or password", r.json()["error"])

    def test_clock_offset_corrected(self):
        r = self.probe({"address": self.skewed.onvif, "username": "admin", "password": PASSWORD})
        self.assertEqual(r.status, 200, r.body)
        got = r.json()
        self.assertEqual(len(got["profiles"]), 2)
        self.assertEqual(got["source"], self.skewed.url(1))

    def test_clock_offset_wrong_password(self):
        r = self.probe({"address": self.skewed.onvif, "username": "admin", "password": "nope"})
        self.assertEqual(r.status, 400, r.body)
        self.assertRegex(r.json()["error"], r"clock is 1[78]\d s ahead")

    def test_unreachable(self):
        r = self.probe({"address": f"127.0.0.1:{free_port()}", "username": "admin",
                        "password": PASSWORD})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("cannot reach the device", r.json()["error"])

    def test_not_onvif(self):
        # vigil's own HTTP server answers, but no SOAP.
        r = self.probe({"address": f"http://127.0.0.1:{self.vigil.port}/onvif/device_service"})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("no ONVIF device service", r.json()["error"])

    def test_bad_input(self):
        for body in ({}, {"address": "ftp://x/y"}, {"address": 5}, {"address": "h", "x": 1},
                     {"address": "http://u:p@h/onvif/device_service"}):
            r = self.probe(body)
            self.assertEqual(r.status, 400, (body, r.body))

    def test_admin_only(self):
        r = self.probe({"address": self.cam.onvif}, auth=("vera", "vera-pw-123456"))
        self.assertEqual(r.status, 403, r.body)
        r = self.probe({"address": self.cam.onvif}, auth=None)
        self.assertEqual(r.status, 401, r.body)


if __name__ == "__main__":
    harness.main()
