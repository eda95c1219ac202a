"""The web UI's delivery: the page table (every screen's path, 404 for the
rest), pages served without a login but holding no data, the UI's 401 without
a Basic challenge, gzip for clients that accept it (same bytes once
decompressed, its own ETag, Vary: Accept-Encoding, 304 per representation),
the grid's preload hints for its tiles' posters (only for a logged-in user,
only of what the user may view and what streams)."""
import gzip
import re
import unittest

import harness
from harness import Fakecam, Vigil, wait_for

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

    def test_pages_name_versioned_assets_kept_for_a_year(self):
        versions = set()
        for path, script in PAGES.items():
            with self.subTest(path=path):
                body = self.get(path).body.decode()
                self.assertNotRegex(body, r'"/static/(?!v/)', "an unversioned asset URL")
                for url in re.findall(r'"(/static/v/[^"]+)"', body):
                    version, rest = re.fullmatch(r"/static/v/([0-9a-f]{12})(/.+)", url).groups()
                    versions.add(version)
                    r = self.get(url)
                    self.assertEqual(r.status, 200, url)
                    self.assertEqual(r.headers["Cache-Control"], "public, max-age=31536000, immutable")
                    plain = self.get("/static" + rest)
                    self.assertEqual(plain.headers["Cache-Control"], "no-cache")
                    self.assertEqual(r.body, plain.body)
                    self.assertEqual(r.headers["ETag"], plain.headers["ETag"])
        self.assertEqual(len(versions), 1, versions)
        version = versions.pop()
        # Another binary's version: this binary's file, revalidated each time.
        other = "0" * 12 if version != "0" * 12 else "1" * 12
        r = self.get(f"/static/v/{other}/js/ui.js")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Cache-Control"], "no-cache")
        self.assertEqual(r.body, self.get("/static/js/ui.js").body)
        for path in (f"/static/v/{version}", f"/static/v/{version}/", f"/static/v/{version}/nope.js",
                     f"/static/v/{version}/../js/ui.js", f"/static/v/{version}//js/ui.js",
                     f"/static/v/{version}/%2e%2e/main.c", "/static/v/"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).status, 404)
        # The modules the pages load import each other relatively (they stay
        # under the page's version) or by a versioned path, never "/static/...".
        for path in ("/static/js/effects.js", "/static/js/playback-player.js",
                     "/static/js/live-player.js", "/static/js/pages/grid.js"):
            with self.subTest(path=path):
                self.assertNotIn(b"'/static/", self.get(path).body)

    def test_grid_preloads_its_posters(self):
        cam = Fakecam("--cameras", "2", "--size", "320x240", "--fps", "10", "--bitrate", "200",
                      "--sub-size", "160x120", "--sub-bitrate", "100").start()
        v = Vigil().start()
        try:
            def add(body):
                r = v.request("POST", "/api/v1/cameras", dict(body, record="off"))
                self.assertEqual(r.status, 201, r.body)
            add({"id": "dual", "name": "Dual", "source": cam.url(1), "sub_source": cam.sub_url(1)})
            add({"id": "single", "name": "Single", "source": cam.url(2)})
            add({"id": "off", "name": "Off", "source": cam.url(2), "enabled": False})
            add({"id": "gone", "name": "Gone", "source": "rtsp://127.0.0.1:9/nothing"})
            r = v.request("POST", "/api/v1/users", {"name": "viewer", "password": "viewer-pass-1",
                                                    "role": "viewer", "cameras": {"single": ["view"]}})
            self.assertEqual(r.status, 201, r.body)
            wait_for(lambda: v.camera("dual")["status"].get("sub", {}).get("state") == "streaming"
                     and v.camera("single")["status"]["state"] == "streaming", 30,
                     what="dual (both streams) and single streaming")

            def cookie_of(user, password):
                r = v.request("POST", "/api/v1/session", {"username": user, "password": password},
                              auth=None)
                self.assertEqual(r.status, 200, r.body)
                value = [c for c in r.headers.get_all("Set-Cookie") if c.startswith("vigil_session=")][0]
                return value.split(";")[0]

            def links(headers=None):
                r = v.request("GET", "/", auth=None, headers=headers)
                self.assertIn(r.status, (200, 304))
                return r.headers.get("Link")

            admin = {"Cookie": cookie_of("admin", harness.ADMIN_PASSWORD)}
            # The tiles' streams (sub where there is one), only those that
            # stream, in the grid's order; each one an image preload.
            self.assertEqual(links(admin),
                             "</api/v1/cameras/dual/snapshot.jpg?stream=sub>; rel=preload; as=image, "
                             "</api/v1/cameras/single/snapshot.jpg>; rel=preload; as=image")
            # A revalidated page gets them too (the browser takes a 304's headers).
            etag = v.request("GET", "/", auth=None).headers["ETag"]
            r = v.request("GET", "/", auth=None, headers=dict(admin, **{"If-None-Match": etag}))
            self.assertEqual(r.status, 304)
            self.assertIn("dual/snapshot.jpg?stream=sub", r.headers.get("Link") or "")
            # Nobody logged in, a bad cookie, Basic credentials (no browser
            # page is loaded with them), other pages: no hints.
            self.assertIsNone(links())
            self.assertIsNone(links({"Cookie": "vigil_session=" + "0" * 43}))
            self.assertIsNone(v.request("GET", "/").headers.get("Link"))
            self.assertIsNone(v.request("GET", "/system", auth=None, headers=admin).headers.get("Link"))
            # A user who sees one camera: a lone tile plays the main stream.
            viewer = {"Cookie": cookie_of("viewer", "viewer-pass-1")}
            self.assertEqual(links(viewer), "</api/v1/cameras/single/snapshot.jpg>; rel=preload; as=image")
            # Every hint is a snapshot that user may fetch.
            for path in ("/api/v1/cameras/dual/snapshot.jpg?stream=sub", "/api/v1/cameras/single/snapshot.jpg"):
                r = v.request("GET", path, auth=None, headers=admin)
                self.assertEqual((r.status, r.headers["Content-Type"]), (200, "image/jpeg"))
        finally:
            v.cleanup()
            cam.stop()


if __name__ == "__main__":
    harness.main()
