"""The web UI's delivery: the page table (every screen's path, 404 for the
rest), pages served without a login but holding no data, the UI's 401 without
a Basic challenge, gzip for clients that accept it (same bytes once
decompressed, its own ETag, Vary: Accept-Encoding, 304 per representation)."""
import gzip
import unittest

import harness
from harness import Vigil

PAGES = {
    "/": b"pages/grid.js", "/login": b"pages/login.js", "/cameras/new": b"pages/camera-edit.js",
    "/cameras/front-door": b"pages/camera.js", "/cameras/front-door/edit": b"pages/camera-edit.js",
    "/cameras/front-door/": b"pages/camera.js", "/system": b"pages/system.js",
    "/users": b"pages/users.js", "/live/cam": b"live-page.js", "/index.html": b"pages/grid.js",
    "/integrations": b"pages/integrations.js",
}
NOT_FOUND = ["/nope", "/cameras", "/cameras/a/b", "/cameras/../etc", "/cameras/%2e%2e/edit",
             "/static/../main.c", "/login/x", "/pages/grid.html", "/users/admin"]


class WebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.vigil = Vigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()

    def get(self, path, headers=None):
        return self.vigil.request("GET", path, auth=None, headers=headers)

    def test_page_table(self):
        for path, script in PAGES.items():
            with self.subTest(path=path):
                r = self.get(path)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
                self.assertIn(script, r.body)
        for path in NOT_FOUND:
            with self.subTest(path=path):
                self.assertEqual(self.get(path).status, 404)
        for path in ("/static/js/ui.js", "/static/css/app.css", "/static/img/favicon.svg",
                     "/static/vendor/mpegts.js"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).status, 200)

    def test_ui_requests_get_no_basic_challenge(self):
        r = self.get("/api/v1/session", headers={"X-Vigil-UI": "1"})
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.headers.get("WWW-Authenticate"))
        r = self.get("/api/v1/session")
        self.assertEqual(r.status, 401)
        self.assertTrue(r.headers["WWW-Authenticate"].startswith("Basic"))
        self.assertEqual(self.get("/metrics", headers={"X-Vigil-UI": "1"}).status, 401)

    def test_gzip(self):
        for path in ("/static/vendor/mpegts.js", "/static/js/ui.js", "/static/css/app.css", "/"):
            with self.subTest(path=path):
                plain = self.get(path, headers={"Accept-Encoding": "identity"})
                self.assertEqual(plain.status, 200)
                self.assertIsNone(plain.headers.get("Content-Encoding"))
                self.assertEqual(plain.headers["Vary"], "Accept-Encoding")
                gz = self.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
                self.assertEqual(gz.status, 200)
                self.assertEqual(gz.headers["Content-Encoding"], "gzip")
                self.assertEqual(gz.headers["Vary"], "Accept-Encoding")
                self.assertEqual(gzip.decompress(gz.body), plain.body)
                self.assertLess(len(gz.body), len(plain.body) * (0.4 if len(plain.body) > 10000 else 0.9))
                self.assertNotEqual(gz.headers["ETag"], plain.headers["ETag"])
                # Each representation revalidates with its own ETag.
                r = self.get(path, headers={"Accept-Encoding": "gzip",
                                            "If-None-Match": gz.headers["ETag"]})
                self.assertEqual(r.status, 304)
                r = self.get(path, headers={"If-None-Match": plain.headers["ETag"]})
                self.assertEqual(r.status, 304)
                r = self.get(path, headers={"Accept-Encoding": "gzip",
                                            "If-None-Match": plain.headers["ETag"]})
                self.assertEqual(r.status, 200)
                self.assertEqual(r.headers["Content-Encoding"], "gzip")
        # q=0 refuses gzip; images are never compressed.
        r = self.get("/static/js/ui.js", headers={"Accept-Encoding": "gzip;q=0"})
        self.assertIsNone(r.headers.get("Content-Encoding"))
        r = self.get("/static/img/favicon.svg", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.status, 200)


if __name__ == "__main__":
    harness.main()
