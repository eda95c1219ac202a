"""The permission matrix over every endpoint that exists now (issue 9): WS live,
live.ts, live HLS (playlist and a segment), snapshots, manual recording,
recordings (list, one, keep, delete, playlist, segment, thumbnail, both
exports), events (list and SSE), /metrics and the web pages, for each role and
right; plus changing one's own password, and a scan of the daemon's log for
every secret used.

Rule checked everywhere: a camera the user may not see answers 404, byte for
byte like a missing camera (or a missing recording); a camera they see without
the needed right answers 403.

One daemon, vigil-fakecam with two cameras: cam-a (QR scene, so analysis makes
a barcode event quickly; recording continuously) and cam-b (streaming, not
recording, with camera credentials)."""
import base64
import http.client
import json
import os
import re
import sqlite3
import time
import unittest
import urllib.request
from datetime import datetime, timezone

import harness
from harness import ADMIN_PASSWORD, Fakecam, SseReader, Vigil, WebSocket, wait_for
from test_security import call, login

CAMERA_SECRET = "Cam-Matrix-Secret-7731"
PASSWORDS = {
    "admin": ADMIN_PASSWORD,
    "op-all": "op-all-Matrix-pw1",
    "op-a": "op-a-Matrix-pw1",
    "viewer-a": "viewer-a-Matrix-pw1",
    "viewer-pb": "viewer-pb-Matrix-pw1",
    "viewer-none": "viewer-none-Matrix-pw1",
}
USERS = [  # name, role, cameras (None: role default)
    ("op-all", "operator", None),
    ("op-a", "operator", {"cam-a": ["view", "control"]}),
    ("viewer-a", "viewer", {"cam-a": ["view"]}),
    ("viewer-pb", "viewer", {"cam-a": ["playback"]}),
    ("viewer-none", "viewer", {}),
]
# Rights each user holds on cam-a (cam-b: only admin and op-all see it).
RIGHTS_A = {
    "admin": {"view", "playback", "control"},
    "op-all": {"view", "playback", "control"},
    "op-a": {"view", "control"},
    "viewer-a": {"view"},
    "viewer-pb": {"playback"},
    "viewer-none": set(),
}
SEES_B = {"admin", "op-all"}
QR_TEXT = "vigil-matrix"


def expected(user, needs):
    """The status a request on cam-a needing @needs (a set) gets, or None = allowed."""
    rights = RIGHTS_A[user]
    if not rights:
        return 404
    return None if needs <= rights else 403


def iso(t):
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def req(vigil, method, path, user, body=None, read=True):
    return call(vigil, method, path, body, user=user, password=PASSWORDS[user], read=read)


class SecurityMatrixTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.secrets = [CAMERA_SECRET, *PASSWORDS.values()]
        cls.fakecam = Fakecam("--cameras", "2", "--size", "640x360", "--fps", "15", "--gop", "1",
                              "--bitrate", "800", "--scene", f"qr:{QR_TEXT}",
                              "--scene", "static").start()
        cls.vigil = v = Vigil().start()
        cls.started = time.time()
        for name, role, cameras in USERS:
            body = {"name": name, "password": PASSWORDS[name], "role": role}
            if cameras is not None:
                body["cameras"] = cameras
            r = req(v, "POST", "/api/v1/users", "admin", body)
            assert r.status == 201, (r.status, r.body)
        # One SSE listener per user, connected before the cameras exist, so
        # that each gets (or must not get) their state changes.
        cls.sse = {u: SseReader(v, u, PASSWORDS[u]) for u in PASSWORDS}
        for reader in cls.sse.values():
            reader.start()
        for body in ({"id": "cam-a", "name": "A", "source": cls.fakecam.url(1),
                      "record": "continuous", "barcodes": True},
                     {"id": "cam-b", "name": "B", "source": cls.fakecam.url(2), "record": "off",
                      "username": "camuser", "password": CAMERA_SECRET}):
            r = req(v, "POST", "/api/v1/cameras", "admin", body)
            assert r.status == 201, (r.status, r.body)
        v.wait_state("cam-a", "streaming", 30)
        v.wait_state("cam-b", "streaming", 30)

        def recording_with_segment():
            recs = req(v, "GET", "/api/v1/recordings?camera=cam-a", "admin").json()
            if not recs:
                return None
            pl = req(v, "GET", f"/api/v1/recordings/{recs[0]['id']}/playlist.m3u8", "admin")
            segs = re.findall(r"^(segments/\d{6}\.ts)$", pl.body.decode(), re.M)
            return (recs[0], segs[0]) if pl.status == 200 and segs else None
        cls.rec, cls.rec_segment = wait_for(recording_with_segment, 30,
                                            what="a recorded segment of cam-a")
        wait_for(lambda: req(v, "GET", "/api/v1/events?camera=cam-a&type=barcode",
                             "admin").json(), 20, what="a barcode event on cam-a")
        wait_for(lambda: req(v, "GET", "/api/v1/cameras/cam-a/snapshot.jpg",
                             "admin").status == 200, 20, what="a snapshot of cam-a")

        def live_segment():
            r = req(v, "GET", "/api/v1/cameras/cam-a/live.m3u8", "admin")
            segs = re.findall(r"^(live/\d+\.ts)$", r.body.decode(errors="replace"), re.M)
            return segs[-1] if r.status == 200 and segs else None
        cls.live_segment = wait_for(live_segment, 20, what="a live HLS segment of cam-a")

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.fakecam.stop()

    def check(self, method, sub, needs, ok=(200,), body=None, read=True):
        """@sub on cam-a for every user (needing the rights @needs), and on
        cam-b for the users who cannot see it (404 like a missing camera)."""
        v = self.vigil
        missing = req(v, method, f"/api/v1/cameras/no-such{sub}", "admin", body)
        self.assertEqual(missing.status, 404)
        for user in PASSWORDS:
            with self.subTest(sub=sub, method=method, user=user):
                r = req(v, method, f"/api/v1/cameras/cam-a{sub}", user, body, read=read)
                want = expected(user, needs)
                if want is None:
                    self.assertIn(r.status, ok, r.body[:200])
                else:
                    self.assertEqual(r.status, want, r.body[:200])
                    if want == 404:
                        self.assertEqual(r.body, missing.body)
                r = req(v, method, f"/api/v1/cameras/cam-b{sub}", user, body, read=read)
                if user in SEES_B:
                    # (cam-b may have no snapshot, recording or segment: 404 then.)
                    self.assertNotEqual(r.status, 403, r.body[:200])
                else:
                    self.assertEqual((r.status, r.body), (404, missing.body))
                self.assertNotIn(CAMERA_SECRET.encode(), r.body)

    # --- live (view) ---

    def test_live_ts(self):
        self.check("GET", "/live.ts", {"view"}, read=False)

    def test_live_hls(self):
        self.check("GET", "/live.m3u8", {"view"})
        seg = "/" + self.live_segment
        # The segment may leave the window meanwhile: allowed users get it or 404
        # "no such segment", never 403.
        self.check("GET", seg, {"view"}, ok=(200, 404), read=False)

    def test_snapshot(self):
        self.check("GET", "/snapshot.jpg", {"view"})
        r = req(self.vigil, "GET", "/api/v1/cameras/cam-a/snapshot.jpg", "viewer-a")
        self.assertEqual(r.body[:2], b"\xff\xd8")

    def test_websocket_live(self):
        v = self.vigil
        for cam, rights in (("cam-a", RIGHTS_A), ("cam-b", None)):
            for user in PASSWORDS:
                with self.subTest(cam=cam, user=user):
                    ws = WebSocket(v, f"/api/v1/cameras/{cam}/live", auth=(user, PASSWORDS[user]))
                    try:
                        if cam == "cam-a":
                            want = expected(user, {"view"}) or 101
                        else:
                            want = 101 if user in SEES_B else 404
                        self.assertEqual(ws.status, want, ws.headers[:300])
                        if want == 101:
                            opcode, payload = ws.recv()
                            self.assertIn(opcode, (1, 2))
                    finally:
                        ws.close()
        ws = WebSocket(v, "/api/v1/cameras/cam-a/live", auth=None)
        self.assertEqual(ws.status, 401)
        ws.close()

    # --- control ---

    def test_manual_recording(self):
        # An invalid action: allowed users get 400 (the check passed, nothing changes).
        self.check("POST", "/recording", {"control"}, ok=(400,), body={"action": "pause"})

    # --- playback ---

    def test_camera_export(self):
        q = f"?from={iso(self.started - 60)}&to={iso(time.time() + 60)}"
        self.check("GET", "/export.mp4" + q, {"playback"}, ok=(200, 404), read=False)
        r = req(self.vigil, "GET", "/api/v1/cameras/cam-a/export.mp4" + q, "viewer-pb", read=False)
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.body[4:8], b"ftyp")

    def test_recordings_list_is_filtered(self):
        for user in PASSWORDS:
            with self.subTest(user=user):
                for query in ("", "?camera=cam-a", "?camera=cam-b"):
                    r = req(self.vigil, "GET", "/api/v1/recordings" + query, user)
                    self.assertEqual(r.status, 200)
                    cams = {x["camera"] for x in r.json()}
                    if "playback" in RIGHTS_A[user] and query != "?camera=cam-b":
                        self.assertIn("cam-a", cams)
                    else:
                        self.assertNotIn("cam-a", cams)

    def rec_check(self, method, sub, needs, ok=(200,), body=None, read=True):
        v = self.vigil
        rid = self.rec["id"]
        missing = req(v, method, f"/api/v1/recordings/99999999{sub}", "admin", body)
        self.assertEqual(missing.status, 404)
        for user in PASSWORDS:
            with self.subTest(sub=sub, method=method, user=user):
                r = req(v, method, f"/api/v1/recordings/{rid}{sub}", user, body, read=read)
                want = expected(user, needs)
                if want is None:
                    self.assertIn(r.status, ok, r.body[:200])
                else:
                    self.assertEqual(r.status, want, r.body[:200])
                    if want == 404:
                        self.assertEqual(r.body, missing.body)

    def test_recording_get_and_files(self):
        self.rec_check("GET", "", {"playback"})
        self.rec_check("GET", "/playlist.m3u8", {"playback"})
        self.rec_check("GET", "/" + self.rec_segment, {"playback"}, read=False)
        # The thumbnail is written shortly after the recording starts: once
        # it exists, every user allowed to see it gets it.
        rid = self.rec["id"]
        wait_for(lambda: req(self.vigil, "GET", f"/api/v1/recordings/{rid}/thumbnail.jpg",
                             "admin").status == 200, 20, what="the recording's thumbnail")
        self.rec_check("GET", "/thumbnail.jpg", {"playback"})
        self.rec_check("GET", "/export.mp4", {"playback"}, read=False)

    def test_recording_keep(self):
        self.rec_check("PATCH", "", {"playback", "control"}, body={"keep": True})
        r = req(self.vigil, "GET", f"/api/v1/recordings/{self.rec['id']}", "viewer-pb")
        self.assertTrue(r.json()["keep"])
        req(self.vigil, "PATCH", f"/api/v1/recordings/{self.rec['id']}", "admin",
            body={"keep": False})

    def test_y_recording_delete(self):
        # Still being written: allowed users get 409 (or 204 if it was split).
        self.rec_check("DELETE", "", {"playback", "control"}, ok=(204, 409, 404))

    # --- events ---

    def test_events_list_is_filtered(self):
        for user in PASSWORDS:
            with self.subTest(user=user):
                r = req(self.vigil, "GET", "/api/v1/events?camera=cam-a", user)
                self.assertEqual(r.status, 200)
                if "playback" in RIGHTS_A[user]:
                    self.assertTrue(r.json())
                else:
                    self.assertEqual(r.json(), [])
                r = req(self.vigil, "GET", "/api/v1/events", user)
                self.assertEqual(r.status, 200)
                cams = {e.get("camera") for e in r.json()}
                self.assertEqual("cam-a" in cams, "playback" in RIGHTS_A[user])
                if user not in SEES_B:
                    self.assertNotIn("cam-b", cams)

    def test_events_stream_is_filtered(self):
        # Every listener saw its cameras start; admin saw the barcode event.
        wait_for(lambda: any(n == "event" and d.get("camera") == "cam-a"
                             for n, d in self.sse["admin"].received()), 10,
                 what="the barcode event on admin's stream")
        time.sleep(0.5)
        for user, reader in self.sse.items():
            with self.subTest(user=user):
                got = reader.received()
                states = {d.get("camera") for n, d in got if n == "camera"}
                events = {d.get("camera") for n, d in got if n == "event"}
                self.assertEqual("cam-a" in states, "view" in RIGHTS_A[user], got[:5])
                self.assertEqual("cam-a" in events, "playback" in RIGHTS_A[user], got[:5])
                self.assertEqual("cam-b" in states, user in SEES_B)
                if user not in SEES_B:
                    self.assertNotIn("cam-b", events)
                    self.assertNotIn("cam-b", json.dumps(got))
                self.assertNotIn(CAMERA_SECRET, json.dumps(got))

    # --- outside /api/v1 ---

    def test_metrics_admin_only(self):
        for user in PASSWORDS:
            with self.subTest(user=user):
                r = req(self.vigil, "GET", "/metrics", user)
                self.assertEqual(r.status, 200 if user == "admin" else 403, r.body[:200])
        self.assertEqual(call(self.vigil, "GET", "/metrics").status, 401)
        self.assertNotIn(CAMERA_SECRET.encode(), req(self.vigil, "GET", "/metrics", "admin").body)

    def test_web_pages_hold_no_data(self):
        # Pages, scripts and styles load without a login (the login page must);
        # they hold no camera data: that comes from the API, which needs one.
        for path in ("/", "/login", "/live/cam-a", "/static/js/ui.js"):
            with self.subTest(path=path):
                r = call(self.vigil, "GET", path)
                self.assertEqual(r.status, 200)
                self.assertNotIn(b"cam-a", r.body)
                self.assertNotIn(CAMERA_SECRET.encode(), r.body)
                for user in PASSWORDS:
                    self.assertEqual(req(self.vigil, "GET", path, user).status, 200)
        # The UI's own requests get no Basic challenge (no browser dialog).
        r = call(self.vigil, "GET", "/api/v1/cameras", headers={"X-Vigil-UI": "1"})
        self.assertEqual(r.status, 401)
        self.assertIsNone(r.header("WWW-Authenticate"))
        r = call(self.vigil, "GET", "/api/v1/cameras")
        self.assertTrue((r.header("WWW-Authenticate") or "").startswith("Basic"))

    # --- the route table ---

    def test_every_route_in_the_table(self):
        """Each row of src/http/routes.c, whatever its handler: without
        credentials 401 (200s only where OPEN); for a viewer of nothing 403 on
        admin and writer routes and 404 on anything of a camera; for a viewer
        of cam-a, 403 where a right beyond view is needed. A route added
        without the right access row shows here."""
        with open(os.path.join(os.path.dirname(__file__), "..", "..", "src", "http",
                               "routes.c")) as f:
            table = f.read()
        rows = re.findall(r'^\s*\{"([A-Z]+)", "(/[^"]*)", ([A-Z_]+)(?:\(([A-Z |]*)\))?,', table,
                          re.M)
        self.assertGreater(len(rows), 50)
        v = self.vigil
        event = req(v, "GET", "/api/v1/events?camera=cam-a", "admin").json()[0]["id"]
        def live_segment():  # asked each time: the live playlist rolls on
            r = req(v, "GET", "/api/v1/cameras/cam-a/live.m3u8", "admin")
            return re.findall(r"^live/(\d+\.ts)$", r.body.decode(errors="replace"), re.M)[-1]

        def path_of(pattern, access):
            ids = {"CAMERA": "cam-a", "RECORDING": str(self.rec["id"]), "EVENT": str(event)}
            p = pattern.replace("{id}", ids.get(access, "1"))
            if "{segment}" in p:
                p = p.replace("{segment}", live_segment())
            if "/recordings/" in p:
                p = p.replace("{name}", self.rec_segment.split("/")[-1])
            # Users and walls by name: someone else's.
            return p.replace("{name}", "op-all")

        def status(method, path, user):
            conn = http.client.HTTPConnection("127.0.0.1", v.port, timeout=5)
            h = {"Content-Type": "application/json"}
            if user:
                token = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
                h["Authorization"] = "Basic " + token
            try:
                body = b"{}" if method in ("POST", "PATCH", "PUT") else None
                conn.request(method, path, body=body, headers=h)
                return conn.getresponse().status  # headers only: streams stay open
            finally:
                conn.close()

        for method, pattern, access, rights in rows:
            if (method, pattern) == ("DELETE", "/api/v1/session"):
                continue  # (harmless, but a Basic request has no session)
            path = path_of(pattern, access)
            with self.subTest(route=f"{method} {pattern}", path=path):
                got = status(method, path, None)
                if access == "OPEN":
                    self.assertNotEqual(got, 401)
                    continue
                self.assertEqual(got, 401)
                got = status(method, path, "viewer-none")
                if access in ("CAMERA", "RECORDING", "EVENT"):
                    self.assertEqual(got, 404)
                elif access in ("ADMIN", "WALL_WRITER", "CAMERA_CREATOR", "SELF_OR_ADMIN"):
                    self.assertEqual(got, 403)
                elif (method, pattern) == ("POST", "/api/v1/cameras/probe"):
                    self.assertEqual(got, 403)  # control on "*": the handler checks
                else:
                    self.assertNotIn(got, (401, 403))
                if access in ("CAMERA", "RECORDING", "EVENT"):
                    got = status(method, path, "viewer-a")
                    needs = set((rights or "SEE").replace(" ", "").split("|")) - {"SEE", "VIEW"}
                    if needs:
                        self.assertEqual(got, 403)
                    else:
                        self.assertNotIn(got, (401, 403, 404))

    # --- one's own password ---

    def test_change_own_password(self):
        v = self.vigil
        old, new = "self-Old-pw-1234", "self-New-pw-5678"
        self.secrets.extend([old, new])
        r = req(v, "POST", "/api/v1/users", "admin",
                {"name": "selfie", "password": old, "role": "viewer"})
        self.assertEqual(r.status, 201, r.body)
        r, cookie = login(v, "selfie", password=old)
        self.assertEqual(r.status, 200)
        csrf = r.json()["csrf_token"]
        token = call(v, "POST", "/api/v1/tokens", {}, user="selfie", password=old).json()["token"]
        self.secrets.extend([cookie, csrf, token])

        def patch(body, **kw):
            kw.setdefault("user", "selfie")
            kw.setdefault("password", old)
            return call(v, "PATCH", "/api/v1/users/selfie", body, **kw)
        # Without current_password it is the admin-only path: 403, as before.
        self.assertEqual(patch({"password": new}).status, 403)
        self.assertEqual(patch({"role": "admin", "current_password": old}).status, 400)
        self.assertEqual(patch({"password": "short", "current_password": old}).status, 400)
        self.assertEqual(patch({"password": new, "current_password": old, "role": "admin"}).status,
                         400)
        self.assertEqual(patch({"password": new, "current_password": "wrong-pw-xx"}).status, 403)
        # Another user's password: admin-only (403), current_password or not.
        self.assertEqual(call(v, "PATCH", "/api/v1/users/viewer-a",
                              {"password": new, "current_password": old},
                              user="selfie", password=old).status, 403)
        # A cookie session needs the CSRF token like any change.
        self.assertEqual(patch({"password": new, "current_password": old}, user=None,
                               cookie=cookie).status, 403)
        r = patch({"password": new, "current_password": old}, user=None, cookie=cookie, csrf=csrf)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["name"], "selfie")
        self.assertEqual(r.json()["role"], "viewer")
        self.assertNotIn(new.encode(), r.body)
        # All sessions (this one included) and tokens end; old password dead.
        self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=cookie).status, 401)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", bearer=token).status, 401)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="selfie",
                              password=old).status, 401)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="selfie",
                              password=new).status, 200)
        # Admins change their own password the same way (and the admin way still works).
        r = call(v, "PATCH", "/api/v1/users/selfie", {"password": old}, user="admin")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="selfie",
                              password=old).status, 200)

    def test_zz_secrets_never_in_the_log(self):
        log = self.vigil.log_text()
        self.assertIn("cam-a", log)
        # Also the Basic header values (base64 of "user:password").
        self.secrets.extend(base64.b64encode(f"{u}:{p}".encode()).decode()
                            for u, p in PASSWORDS.items())
        for secret in self.secrets:
            with self.subTest(secret=secret[:6] + "…"):
                self.assertNotIn(secret, log)


class PagingTest(unittest.TestCase):
    """A viewer who may play back 1 camera out of 20 gets full pages of that
    camera's recordings and events: the rights filter applies before the limit
    (issue 17; the lists used to cut at `limit` first and drop rows after)."""

    def test_viewer_pages_are_full(self):
        v = Vigil().start()
        try:
            ids = [f"cam{n:02d}" for n in range(20)]
            for cam in ids:  # never streams: the rows below are the data
                r = req(v, "POST", "/api/v1/cameras", "admin",
                        {"id": cam, "name": cam, "source": f"rtsp://127.0.0.1:9/{cam}",
                         "record": "off"})
                self.assertEqual(r.status, 201, r.body)
            pw = "pager-Matrix-pw1"
            r = req(v, "POST", "/api/v1/users", "admin",
                    {"name": "pager", "password": pw, "role": "viewer",
                     "cameras": {"cam07": ["view", "playback"]}})
            self.assertEqual(r.status, 201, r.body)
            # 5 recordings and 5 events per camera; cam07's are the oldest, so
            # the newest rows (the first page) all belong to other cameras.
            t0 = int(time.time() - 86400) * 1_000_000
            db = sqlite3.connect(os.path.join(v.data_dir, "vigil.db"), timeout=10)
            with db:
                for n, cam in enumerate(["cam07"] + [c for c in ids if c != "cam07"]):
                    for k in range(5):
                        start = t0 + (n * 5 + k) * 60_000_000
                        db.execute("INSERT INTO recordings (camera, start_us, end_us, reason,"
                                   " path, open) VALUES (?, ?, ?, 'manual', ?, 0)",
                                   (cam, start, start + 30_000_000, f"{cam}/r{k}"))
                        db.execute("INSERT INTO events (camera, type, start_us, end_us, label)"
                                   " VALUES (?, 'motion', ?, ?, 'motion')",
                                   (cam, start, start + 10_000_000))
            db.close()

            def get(path, user="pager", password=pw):
                r = call(v, "GET", path, user=user, password=password)
                self.assertEqual(r.status, 200, r.body)
                return r.json()

            for kind in ("recordings", "events"):
                with self.subTest(kind=kind):
                    self.assertEqual(len(get(f"/api/v1/{kind}?limit=100", "admin",
                                             ADMIN_PASSWORD)), 100)
                    page = get(f"/api/v1/{kind}?limit=3")
                    self.assertEqual([x["camera"] for x in page], ["cam07"] * 3)
                    page = get(f"/api/v1/{kind}?limit=10")
                    self.assertEqual([x["camera"] for x in page], ["cam07"] * 5)
                    self.assertEqual(len(get(f"/api/v1/{kind}")), 5)
                    self.assertEqual(get(f"/api/v1/{kind}?camera=cam03"), [])
        finally:
            v.cleanup()


if __name__ == "__main__":
    harness.main()
