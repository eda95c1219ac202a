"""POST /api/v1/cameras/probe (the camera form's "Test" button): a good source
answers codec, size and keyframe interval; a refused port, a wrong password
and a missing path answer 502 with a clear message; bad input 400; no
credentials 401; a viewer 403 (or 404 for a camera they cannot see); an
edit form probes a saved camera with its stored password; the password never
reaches the log."""
import unittest

import harness
from harness import Fakecam, Vigil, free_port

PROBE = "/api/v1/cameras/probe"
CAM_PASSWORD = "probe-Secret-pw-77"


class ProbeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakecam = Fakecam("--gop", "0.5", "--size", "640x360", "--fps", "25").start()
        cls.authcam = Fakecam("--user", f"cam:{CAM_PASSWORD}", "--codec", "h265",
                              "--size", "320x240").start()
        cls.vigil = Vigil().start()
        v = cls.vigil
        r = v.request("POST", "/api/v1/users", {"name": "vera", "password": "vera-pw-123456",
                                                "role": "viewer", "cameras": {"*": ["view"]}})
        assert r.status == 201, r.body
        r = v.request("POST", "/api/v1/users", {"name": "otto", "password": "otto-pw-123456",
                                                "role": "operator",
                                                "cameras": {"door": ["view", "control"]}})
        assert r.status == 201, r.body
        r = v.request("POST", "/api/v1/cameras",
                      {"id": "door", "name": "Door", "source": cls.authcam.url(1),
                       "username": "cam", "password": CAM_PASSWORD, "enabled": False})
        assert r.status == 201, r.body
        r = v.request("POST", "/api/v1/cameras",
                      {"id": "yard", "name": "Yard", "source": cls.fakecam.url(1),
                       "enabled": False})
        assert r.status == 201, r.body

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.fakecam.stop()
        cls.authcam.stop()

    def probe(self, body, auth=None, timeout=15):
        kwargs = {"auth": auth} if auth is not None else {}
        return self.vigil.request("POST", PROBE, body, timeout=timeout, **kwargs)

    def test_good_source(self):
        r = self.probe({"source": self.fakecam.url(1), "rtsp_transport": "tcp"})
        self.assertEqual(r.status, 200, r.body)
        got = r.json()
        print(f"# probe of a good source: {got}")
        self.assertEqual(got["codec"], "h264")
        self.assertEqual((got["width"], got["height"]), (640, 360))
        self.assertAlmostEqual(got["keyframe_interval_s"], 0.5, delta=0.1)
        self.assertAlmostEqual(got["fps"], 25, delta=3)
        self.assertGreater(got["bitrate_kbps"], 100)
        self.assertLess(got["elapsed_s"], 5)

    def test_refused_source(self):
        r = self.probe({"source": f"rtsp://127.0.0.1:{free_port()}/cam1"})
        self.assertEqual(r.status, 502, r.body)
        self.assertIn("refused", r.json()["error"])

    def test_missing_path(self):
        r = self.probe({"source": f"rtsp://127.0.0.1:{self.fakecam.port}/nope"})
        self.assertEqual(r.status, 502, r.body)
        self.assertIn("404", r.json()["error"])

    def test_bad_input(self):
        for body in ({"source": "ftp://example.com/x"}, {"source": "rtsp://"}, {"source": 5},
                     {}, {"source": self.fakecam.url(1), "name": "x"},
                     {"source": self.fakecam.url(1), "rtsp_transport": "pigeon"},
                     {"camera": 7}, ["rtsp://x"]):
            with self.subTest(body=body):
                r = self.probe(body)
                self.assertEqual(r.status, 400, r.body)
                self.assertTrue(r.json()["error"])
        r = self.vigil.request("POST", PROBE, raw=b"{not json")
        self.assertEqual(r.status, 400)

    def test_unauthorized(self):
        self.assertEqual(self.probe({"source": self.fakecam.url(1)}, auth=False).status, 401)
        viewer = ("vera", "vera-pw-123456")
        r = self.probe({"source": self.fakecam.url(1)}, auth=viewer)
        self.assertEqual(r.status, 403, r.body)
        r = self.probe({"camera": "door"}, auth=viewer)
        self.assertEqual(r.status, 403, r.body)
        # An operator controls "door" only: a new source or another camera is refused.
        otto = ("otto", "otto-pw-123456")
        self.assertEqual(self.probe({"source": self.fakecam.url(1)}, auth=otto).status, 403)
        self.assertEqual(self.probe({"camera": "yard"}, auth=otto).status, 404)
        self.assertEqual(self.probe({"camera": "nope"}).status, 404)
        # GET is not a probe (and "probe" is no camera).
        self.assertEqual(self.vigil.request("GET", PROBE).status, 404)

    def test_saved_camera_password(self):
        # The edit form never sees the stored password: "camera" fills it in.
        r = self.probe({"camera": "door"}, auth=("otto", "otto-pw-123456"))
        self.assertEqual(r.status, 200, r.body)
        got = r.json()
        self.assertEqual((got["codec"], got["width"], got["height"]), ("h265", 320, 240))
        # A wrong password given in the body replaces the stored one.
        r = self.probe({"camera": "door", "password": "wrong-one"})
        self.assertEqual(r.status, 502, r.body)
        self.assertNotIn("wrong-one", r.body.decode())
        # Without credentials at all.
        r = self.probe({"source": self.authcam.url(1)})
        self.assertEqual(r.status, 502, r.body)
        print(f"# probe without the camera's password: {r.json()['error']}")
        log = self.vigil.log_text()
        self.assertNotIn(CAM_PASSWORD, log)
        self.assertNotIn("wrong-one", log)
        self.assertIn("probes a rtsp source", log)


if __name__ == "__main__":
    harness.main()
