"""The REST API contract of SPEC.md against the real daemon: authentication,
camera CRUD, validation errors, settings, system, persistence, secrets."""
import json
import os
import stat
import unittest

import harness
from harness import ADMIN_PASSWORD, Vigil, wait_for

SECRET = "s3cret-Camera-Pw"


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.vigil = Vigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()

    def assertJsonError(self, r, status):
        self.assertEqual(r.status, status, r.body)
        self.assertEqual(r.headers.get("Content-Type"), "application/json")
        body = r.json()
        self.assertIsInstance(body.get("error"), str)
        self.assertTrue(body["error"])
        return body["error"]

    def test_health_is_open(self):
        r = self.vigil.request("GET", "/api/v1/health", auth=None)
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(body["status"], "ok")
        self.assertRegex(body["version"], r"^\d+\.\d+\.\d+")

    def test_everything_else_needs_credentials(self):
        for path in ("/api/v1/cameras", "/api/v1/system", "/api/v1/settings",
                     "/api/v1/cameras/x", "/api/v1/nothing-here"):
            r = self.vigil.request("GET", path, auth=None)
            self.assertJsonError(r, 401)
            self.assertIn("Basic", r.headers.get("WWW-Authenticate", ""))
        r = self.vigil.request("GET", "/api/v1/cameras", auth=("admin", "wrong"))
        self.assertJsonError(r, 401)
        r = self.vigil.request("GET", "/api/v1/cameras", auth=("nobody", ADMIN_PASSWORD))
        self.assertJsonError(r, 401)
        r = self.vigil.request("GET", "/api/v1/cameras", auth=None,
                               headers={"Authorization": "Basic !!!notbase64"})
        self.assertJsonError(r, 401)

    def test_unknown_paths_are_404(self):
        self.assertJsonError(self.vigil.request("GET", "/api/v1/nothing-here"), 404)
        self.assertJsonError(self.vigil.request("GET", "/api/v2/cameras"), 404)
        self.assertJsonError(self.vigil.request("GET", "/api/v1/cameras/no-such-cam"), 404)
        # libsoup itself refuses encoded slashes with 400; either way nothing leaks.
        r = self.vigil.request("GET", "/api/v1/cameras/..%2f..%2fetc")
        self.assertIn(r.status, (400, 404))
        self.assertNotIn(b"root:", r.body)

    def test_camera_lifecycle(self):
        r = self.vigil.request("POST", "/api/v1/cameras", {
            "name": "Front Door", "source": "rtsp://127.0.0.1:9/stream1",
            "username": "viewer", "password": SECRET})
        self.assertEqual(r.status, 201, r.body)
        cam = r.json()
        self.assertEqual(cam["id"], "front-door")
        self.assertEqual(cam["name"], "Front Door")
        self.assertTrue(cam["password_set"])
        self.assertNotIn("password", cam)
        self.assertNotIn(SECRET, r.body.decode())
        self.assertEqual(cam["record"], "events")
        self.assertEqual(cam["rtsp_transport"], "tcp")
        self.assertIn(cam["status"]["state"], ("connecting", "offline", "error"))
        for field in ("state", "error", "codec", "width", "height", "fps", "bitrate_kbps",
                      "keyframe_interval_s", "recording", "viewers", "reconnects", "since",
                      "motion_level"):
            self.assertIn(field, cam["status"])

        self.assertJsonError(self.vigil.request("POST", "/api/v1/cameras", {
            "id": "front-door", "name": "Again", "source": "test://"}), 409)

        r = self.vigil.request("PATCH", "/api/v1/cameras/front-door",
                               {"name": "Front door (new)", "motion": {"threshold": 0.1}})
        self.assertEqual(r.status, 200, r.body)
        cam = r.json()
        self.assertEqual(cam["name"], "Front door (new)")
        self.assertEqual(cam["motion"]["threshold"], 0.1)
        self.assertTrue(cam["motion"]["enabled"])
        self.assertTrue(cam["password_set"])

        r = self.vigil.request("GET", "/api/v1/cameras")
        self.assertEqual(r.status, 200)
        self.assertIn("front-door", [c["id"] for c in r.json()])
        self.assertNotIn(SECRET, r.body.decode())

        self.assertJsonError(self.vigil.request("PATCH", "/api/v1/cameras/front-door",
                                                {"id": "other"}), 400)
        r = self.vigil.request("DELETE", "/api/v1/cameras/front-door")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.body, b"")
        self.assertJsonError(self.vigil.request("GET", "/api/v1/cameras/front-door"), 404)
        self.assertJsonError(self.vigil.request("DELETE", "/api/v1/cameras/front-door"), 404)

    def test_bad_input_gets_4xx_and_harms_nothing(self):
        post = lambda body, **kw: self.vigil.request("POST", "/api/v1/cameras", body, **kw)
        cases = [
            (None, b"{not json"),
            (None, b""),
            (None, b"[1, 2, 3]"),
            (None, b"\xff\xfe garbage"),
            (None, b"[" * 100000 + b"]" * 100000),
            ({"name": "x", "source": "ftp://example.com/video"}, None),
            ({"name": "x", "source": "javascript:alert(1)"}, None),
            ({"name": "x", "source": "rtsp://"}, None),
            ({"name": "x", "source": "rtsp://host:99999/x"}, None),
            ({"id": "Bad_ID", "name": "x", "source": "test://"}, None),
            ({"id": "a" * 33, "name": "x", "source": "test://"}, None),
            ({"id": "../etc", "name": "x", "source": "test://"}, None),
            ({"name": "x"}, None),
            ({"source": "test://"}, None),
            ({"name": "x", "source": "test://", "bogus": 1}, None),
            ({"name": "x", "source": "test://", "pre_roll_s": -1}, None),
            ({"name": "x", "source": "test://", "pre_roll_s": "5"}, None),
            ({"name": "x", "source": "test://", "record": "sometimes"}, None),
            ({"name": "x", "source": "test://", "motion": {"threshold": 7}}, None),
            ({"name": "x", "source": "test://", "status": {"state": "streaming"}}, None),
            ({"name": "!!!", "source": "test://"}, None),
        ]
        for body, raw in cases:
            with self.subTest(body=body, raw=raw[:40] if raw else None):
                self.assertJsonError(post(body, raw=raw), 400)
        # Over the body limit: refused before it is read.
        self.assertJsonError(post(None, raw=b" " * (2 * 1024 * 1024)), 413)
        # Nothing was created and the server is fine.
        r = self.vigil.request("GET", "/api/v1/cameras")
        self.assertEqual([c for c in r.json() if c["name"] in ("x", "!!!")], [])
        self.assertEqual(self.vigil.request("GET", "/api/v1/health", auth=None).status, 200)

    def test_wrong_methods(self):
        r = self.vigil.request("PUT", "/api/v1/cameras", {"a": 1})
        self.assertJsonError(r, 405)
        self.assertIn("POST", r.headers.get("Allow", ""))
        self.assertJsonError(self.vigil.request("POST", "/api/v1/system", {}), 405)

    def test_settings(self):
        r = self.vigil.request("GET", "/api/v1/settings")
        self.assertEqual(r.status, 200)
        s = r.json()
        self.assertEqual(s["storage"], {"max_bytes": None, "min_free_percent": 10})
        self.assertIn("model", s["detect"])
        self.assertIs(s["detect"]["available"], False)
        self.assertIsInstance(s["detect"]["error"], str)

        r = self.vigil.request("PATCH", "/api/v1/settings",
                               {"storage": {"max_bytes": 50_000_000_000}})
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["storage"], {"max_bytes": 50_000_000_000,
                                               "min_free_percent": 10})
        for bad in ({"storage": {"max_bytes": -5}}, {"storage": {"min_free_percent": 95}},
                    {"storage": {"nope": 1}}, {"other": {}}, {"detect": {"available": True}},
                    {"detect": {"model": "../../etc/passwd"}}):
            with self.subTest(bad=bad):
                self.assertJsonError(self.vigil.request("PATCH", "/api/v1/settings", bad), 400)
        r = self.vigil.request("PATCH", "/api/v1/settings", {"storage": {"max_bytes": None}})
        self.assertEqual(r.json()["storage"]["max_bytes"], None)

        # The tests' fake detector is not in the daemon: "fake" is just the
        # name of an ONNX model that does not exist.
        r = self.vigil.request("PATCH", "/api/v1/settings", {"detect": {"model": "fake"}})
        self.assertEqual(r.status, 200, r.body)
        d = r.json()["detect"]
        self.assertEqual(d["model"], "fake")
        self.assertIs(d["available"], False, d)
        self.assertIn("fake.onnx", d["error"])
        r = self.vigil.request("PATCH", "/api/v1/settings", {"detect": {"model": None}})
        self.assertEqual(r.status, 200, r.body)

    def test_system(self):
        r = self.vigil.request("GET", "/api/v1/system")
        self.assertEqual(r.status, 200)
        s = r.json()
        self.assertGreater(s["disk"]["total_bytes"], 0)
        self.assertGreater(s["disk"]["free_bytes"], 0)
        self.assertGreaterEqual(s["disk"]["used_by_vigil_bytes"], 0)
        self.assertGreater(s["memory"]["rss_bytes"], 1_000_000)
        self.assertIn("process_percent", s["cpu"])
        self.assertIsInstance(s["cameras"], int)
        self.assertGreaterEqual(s["uptime_s"], 0)
        self.assertIn("min_free_percent", s["quota"])

    def test_database_is_private(self):
        mode = stat.S_IMODE(os.stat(os.path.join(self.vigil.data_dir, "vigil.db")).st_mode)
        self.assertEqual(mode, 0o600)


class FirstStartTest(unittest.TestCase):
    def test_generated_admin_password(self):
        v = Vigil(env={"VIGIL_ADMIN_PASSWORD": ""})
        try:
            v.start()
            path = os.path.join(v.data_dir, "initial-admin-password")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            with open(path) as f:
                password = f.read().strip()
            self.assertGreaterEqual(len(password), 12)
            self.assertEqual(v.request("GET", "/api/v1/cameras",
                                       auth=("admin", password)).status, 200)
            self.assertEqual(v.request("GET", "/api/v1/cameras").status, 401)
        finally:
            v.cleanup()

    def test_restart_keeps_cameras_and_secrets_stay_out_of_logs(self):
        v = Vigil()
        try:
            v.start()
            for i in range(3):
                r = v.request("POST", "/api/v1/cameras", {
                    "name": f"Cam {i}", "source": f"rtsp://user:{SECRET}@127.0.0.1:9/s{i}",
                    "password": SECRET, "enabled": i != 1})
                self.assertEqual(r.status, 201, r.body)
                self.assertNotIn(SECRET, r.body.decode())
            self.assertEqual(v.stop(), 0)
            v.start()
            cams = v.request("GET", "/api/v1/cameras").json()
            self.assertEqual([c["id"] for c in cams], ["cam-0", "cam-1", "cam-2"])
            self.assertEqual([c["enabled"] for c in cams], [True, False, True])
            self.assertEqual(cams[1]["status"]["state"], "disabled")
            self.assertTrue(all(c["password_set"] for c in cams))
            self.assertTrue(cams[0]["source"].startswith("rtsp://user:***@"))
            wait_for(lambda: v.camera("cam-0")["status"]["reconnects"] >= 1, 15,
                     what="a reconnect attempt to be logged")
            self.assertEqual(v.stop(), 0)
            log = v.log_text()
            self.assertIn("cam-0", log)
            self.assertNotIn(SECRET, log)
        finally:
            v.cleanup()


if __name__ == "__main__":
    harness.main()
