"""Security against the real daemon: the permission matrix (each role and right
against each endpoint of this branch), the users API, sessions and CSRF, API
tokens, login rate limiting, traversal attempts, TLS, secrets never in the log,
private database files.

Requests that are meant to fail authentication come from their own loopback
address (127.0.0.x), so they never add up to the per-address login limit for
the requests that must succeed."""
import base64
import http.client
import itertools
import json
import os
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import ADMIN_PASSWORD, Vigil, wait_for

CAMERA_SECRET = "Cam-Secret-0451"
PASSWORDS = {
    "op-all": "op-all-Passw0rd",
    "op-a": "op-a-Passw0rd",
    "viewer-a": "viewer-a-Passw0rd",
    "viewer-pb": "viewer-pb-Passw0rd",
    "viewer-none": "viewer-none-Passw0rd",
}
_addresses = itertools.count(10)


def fresh_address():
    """A loopback address of its own (counts logins separately)."""
    return f"127.0.0.{next(_addresses)}"


class Reply:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def header(self, name):
        values = self.header_all(name)
        return values[0] if values else None


def call(vigil, method, path, body=None, user=None, password=None, bearer=None, cookie=None,
         csrf=None, headers=None, source="127.0.0.1", raw=None, tls=False, read=True,
         timeout=10):
    """One HTTP request with http.client: raw paths, chosen source address."""
    host, port = "127.0.0.1", vigil.port
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=ctx,
                                           source_address=(source, 0))
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                          source_address=(source, 0))
    h = dict(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        h["Content-Type"] = "application/json"
    if user is not None:
        pw = password if password is not None else (
            ADMIN_PASSWORD if user == "admin" else PASSWORDS[user])
        h["Authorization"] = "Basic " + base64.b64encode(f"{user}:{pw}".encode()).decode()
    if bearer:
        h["Authorization"] = "Bearer " + bearer
    if cookie:
        h["Cookie"] = "vigil_session=" + cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    try:
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        if not read:
            first = r.read(188 * 4)
            return Reply(r.status, r.getheaders(), first)
        return Reply(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def login(vigil, user, password=None, source="127.0.0.1", tls=False):
    pw = password if password is not None else (
        ADMIN_PASSWORD if user == "admin" else PASSWORDS[user])
    r = call(vigil, "POST", "/api/v1/session", {"username": user, "password": pw},
             source=source, tls=tls)
    cookie = None
    for value in r.header_all("Set-Cookie"):
        if value.startswith("vigil_session="):
            cookie = value.split(";")[0].split("=", 1)[1]
    return r, cookie


class SecurityTest(unittest.TestCase):
    """One daemon, two cameras, one user per kind of permission."""

    @classmethod
    def setUpClass(cls):
        cls.secrets = [ADMIN_PASSWORD, CAMERA_SECRET, *PASSWORDS.values()]
        cls.vigil = Vigil().start()
        v = cls.vigil
        # cam-a streams (test pattern, small), cam-b is disabled.
        for body in ({"id": "cam-a", "name": "A", "source": "test://",
                      "username": "u", "password": CAMERA_SECRET},
                     {"id": "cam-b", "name": "B", "source": "rtsp://127.0.0.1:9/x",
                      "enabled": False, "password": CAMERA_SECRET}):
            r = call(v, "POST", "/api/v1/cameras", body, user="admin")
            assert r.status == 201, (r.status, r.body)
        users = [
            ("op-all", "operator", None),
            ("op-a", "operator", {"cam-a": ["view", "control"]}),
            ("viewer-a", "viewer", {"cam-a": ["view"]}),
            ("viewer-pb", "viewer", {"cam-a": ["playback"]}),
            ("viewer-none", "viewer", {}),
        ]
        for name, role, cameras in users:
            body = {"name": name, "password": PASSWORDS[name], "role": role}
            if cameras is not None:
                body["cameras"] = cameras
            r = call(v, "POST", "/api/v1/users", body, user="admin")
            assert r.status == 201, (r.status, r.body)

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()

    def remember(self, *secrets):
        self.secrets.extend(s for s in secrets if s)

    def assertError(self, r, status):
        self.assertEqual(r.status, status, r.body)
        self.assertIsInstance(r.json().get("error"), str)

    # --- the permission matrix ---

    def test_matrix_camera_list_and_get(self):
        expected = {"admin": ["cam-a", "cam-b"], "op-all": ["cam-a", "cam-b"],
                    "op-a": ["cam-a"], "viewer-a": ["cam-a"], "viewer-pb": ["cam-a"],
                    "viewer-none": []}
        missing = call(self.vigil, "GET", "/api/v1/cameras/no-such", user="admin")
        for user, ids in expected.items():
            with self.subTest(user=user):
                r = call(self.vigil, "GET", "/api/v1/cameras", user=user)
                self.assertEqual(r.status, 200)
                got = [c["id"] for c in r.json() if c["id"] in ("cam-a", "cam-b")]
                self.assertEqual(got, ids)
                self.assertNotIn(CAMERA_SECRET, r.body.decode())
                for cam in ("cam-a", "cam-b"):
                    r = call(self.vigil, "GET", f"/api/v1/cameras/{cam}", user=user)
                    if cam in ids:
                        self.assertEqual(r.status, 200, r.body)
                        self.assertEqual(r.json()["id"], cam)
                    else:
                        # Exactly like a camera that does not exist.
                        self.assertEqual((r.status, r.body), (missing.status, missing.body))

    def test_matrix_patch(self):
        expected = {"admin": (200, 200), "op-all": (200, 200), "op-a": (200, 404),
                    "viewer-a": (403, 404), "viewer-pb": (403, 404), "viewer-none": (404, 404)}
        for user, (status_a, status_b) in expected.items():
            with self.subTest(user=user):
                r = call(self.vigil, "PATCH", "/api/v1/cameras/cam-a",
                         {"name": f"A by {user}"}, user=user)
                self.assertError(r, status_a) if status_a != 200 else \
                    self.assertEqual(r.json()["name"], f"A by {user}")
                r = call(self.vigil, "PATCH", "/api/v1/cameras/cam-b",
                         {"name": f"B by {user}"}, user=user)
                self.assertError(r, status_b) if status_b != 200 else \
                    self.assertEqual(r.json()["name"], f"B by {user}")

    def test_matrix_create_and_delete(self):
        for user, status in (("viewer-a", 403), ("viewer-none", 403), ("op-a", 403),
                             ("op-all", 201), ("admin", 201)):
            with self.subTest(user=user):
                cam = f"tmp-{user}"
                r = call(self.vigil, "POST", "/api/v1/cameras",
                         {"id": cam, "name": cam, "source": "rtsp://127.0.0.1:9/x",
                          "enabled": False}, user=user)
                self.assertEqual(r.status, status, r.body)
                if status != 201:
                    continue
                # Users who cannot see it get 404; who see it without control, 403.
                self.assertError(call(self.vigil, "DELETE", f"/api/v1/cameras/{cam}",
                                      user="op-a"), 404)
                self.assertError(call(self.vigil, "DELETE", f"/api/v1/cameras/{cam}",
                                      user="viewer-none"), 404)
                r = call(self.vigil, "DELETE", f"/api/v1/cameras/{cam}", user=user)
                self.assertEqual(r.status, 204, r.body)
        self.assertError(call(self.vigil, "DELETE", "/api/v1/cameras/cam-a",
                              user="viewer-a"), 403)
        self.assertError(call(self.vigil, "DELETE", "/api/v1/cameras/cam-b",
                              user="viewer-a"), 404)
        self.assertEqual(call(self.vigil, "GET", "/api/v1/cameras/cam-a",
                              user="admin").status, 200)

    def test_matrix_live_ts(self):
        expected = {"admin": 200, "op-all": 200, "op-a": 200, "viewer-a": 200,
                    "viewer-pb": 403, "viewer-none": 404}
        self.vigil.wait_state("cam-a", "streaming", 30)
        for user, status in expected.items():
            with self.subTest(user=user):
                r = call(self.vigil, "GET", "/api/v1/cameras/cam-a/live.ts", user=user,
                         read=False)
                self.assertEqual(r.status, status, r.body[:200])
                if status == 200:
                    self.assertEqual(r.header("Content-Type"), "video/mp2t")
                    self.assertEqual(r.body[0], 0x47)
        for user in ("op-a", "viewer-a", "viewer-pb", "viewer-none"):
            with self.subTest(user=user, cam="cam-b"):
                self.assertError(call(self.vigil, "GET", "/api/v1/cameras/cam-b/live.ts",
                                      user=user), 404)

    def test_matrix_system_and_settings(self):
        counts = {"admin": 2, "op-all": 2, "op-a": 1, "viewer-a": 1, "viewer-pb": 1,
                  "viewer-none": 0}
        for user, count in counts.items():
            with self.subTest(user=user):
                r = call(self.vigil, "GET", "/api/v1/system", user=user)
                self.assertEqual(r.status, 200)
                s = r.json()
                self.assertGreaterEqual(s["cameras"], count)
                if user != "admin":
                    self.assertEqual(s["cameras"], count)
                    self.assertNotIn("path", s["disk"])
                else:
                    self.assertIn("path", s["disk"])
                r = call(self.vigil, "GET", "/api/v1/settings", user=user)
                self.assertEqual(r.status, 200)
                # Webhook URLs may carry tokens: admins only.
                self.assertEqual("notify" in r.json(), user == "admin")
                r = call(self.vigil, "GET", "/api/v1/notify/deliveries", user=user)
                self.assertEqual(r.status, 200 if user == "admin" else 403, r.body)
                r = call(self.vigil, "PATCH", "/api/v1/settings",
                         {"storage": {"min_free_percent": 11}}, user=user)
                self.assertEqual(r.status, 200 if user == "admin" else 403, r.body)

    def test_matrix_users_api_is_admin_only(self):
        for user in PASSWORDS:
            with self.subTest(user=user):
                self.assertError(call(self.vigil, "GET", "/api/v1/users", user=user), 403)
                self.assertError(call(self.vigil, "POST", "/api/v1/users",
                                      {"name": "x" + user, "password": "password-123",
                                       "role": "admin"}, user=user), 403)
                self.assertError(call(self.vigil, "PATCH", f"/api/v1/users/{user}",
                                      {"role": "admin"}, user=user), 403)
                self.assertError(call(self.vigil, "DELETE", "/api/v1/users/admin",
                                      user=user), 403)
                r = call(self.vigil, "GET", "/api/v1/session", user=user)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.json()["user"]["name"], user)
                self.assertIsNone(r.json()["csrf_token"])

    # --- users API ---

    def test_users_api(self):
        v = self.vigil
        r = call(v, "POST", "/api/v1/users",
                 {"name": "alice", "password": "alice-Passw0rd", "role": "viewer",
                  "cameras": {"cam-a": ["view", "playback"], "*": ["view"]}}, user="admin")
        self.assertEqual(r.status, 201, r.body)
        self.remember("alice-Passw0rd")
        u = r.json()
        self.assertEqual(u["name"], "alice")
        self.assertEqual(u["role"], "viewer")
        self.assertEqual(u["cameras"], {"cam-a": ["view", "playback"], "*": ["view"]})
        self.assertRegex(u["created"], r"^\d{4}-\d\d-\d\dT")
        self.assertNotIn("password", u)
        self.assertNotIn("argon2", r.body.decode())
        self.assertNotIn("alice-Passw0rd", r.body.decode())

        self.assertError(call(v, "POST", "/api/v1/users",
                              {"name": "alice", "password": "another-pw1", "role": "viewer"},
                              user="admin"), 409)
        bad = [
            {"name": "bad name", "password": "long-enough", "role": "viewer"},
            {"name": "a:b", "password": "long-enough", "role": "viewer"},
            {"name": "../x", "password": "long-enough", "role": "viewer"},
            {"name": "", "password": "long-enough", "role": "viewer"},
            {"name": "x" * 65, "password": "long-enough", "role": "viewer"},
            {"name": "bob", "password": "short", "role": "viewer"},
            {"name": "bob", "password": "p" * 1025, "role": "viewer"},
            {"name": "bob", "password": "long-enough", "role": "root"},
            {"name": "bob", "password": "long-enough"},
            {"name": "bob", "password": "long-enough", "role": "viewer", "extra": 1},
            {"name": "bob", "password": "long-enough", "role": "viewer",
             "cameras": {"cam-a": ["control"]}},
            {"name": "bob", "password": "long-enough", "role": "viewer",
             "cameras": {"Bad Id": ["view"]}},
            {"name": "bob", "password": "long-enough", "role": "viewer",
             "cameras": {"cam-a": ["fly"]}},
            {"name": "bob", "password": "long-enough", "role": "viewer", "cameras": ["cam-a"]},
            {"name": 5, "password": "long-enough", "role": "viewer"},
        ]
        for body in bad:
            with self.subTest(body=str(body)[:60]):
                self.assertError(call(v, "POST", "/api/v1/users", body, user="admin"), 400)
        r = call(v, "GET", "/api/v1/users", user="admin")
        self.assertEqual(r.status, 200)
        names = [x["name"] for x in r.json()]
        self.assertIn("alice", names)
        self.assertNotIn("bob", names)
        self.assertNotIn("argon2", r.body.decode())
        admin = [x for x in r.json() if x["name"] == "admin"][0]
        self.assertEqual(admin["cameras"], {"*": ["view", "playback", "control"]})

        # Default rights by role: a viewer views every camera, an operator does everything.
        r = call(v, "POST", "/api/v1/users",
                 {"name": "vdef", "password": "vdef-Passw0rd", "role": "viewer"}, user="admin")
        self.assertEqual(r.json()["cameras"], {"*": ["view"]})
        self.remember("vdef-Passw0rd")

        # PATCH: rights change at once; a name cannot change.
        r = call(v, "PATCH", "/api/v1/users/alice", {"cameras": {"cam-b": ["view"]}},
                 user="admin")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["cameras"], {"cam-b": ["view"]})
        r = call(v, "GET", "/api/v1/cameras", user="alice", password="alice-Passw0rd")
        self.assertEqual([c["id"] for c in r.json()], ["cam-b"])
        self.assertError(call(v, "PATCH", "/api/v1/users/alice", {"name": "alicia"},
                              user="admin"), 400)
        self.assertError(call(v, "PATCH", "/api/v1/users/nobody", {"role": "viewer"},
                              user="admin"), 404)

        # Password change: old password, old session and old token stop working.
        _, cookie = login(v, "alice", "alice-Passw0rd")
        r = call(v, "POST", "/api/v1/tokens", {"name": "t"}, user="alice",
                 password="alice-Passw0rd")
        token = r.json()["token"]
        self.remember(cookie, token)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=cookie).status, 200)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", bearer=token).status, 200)
        r = call(v, "PATCH", "/api/v1/users/alice", {"password": "alice-New-Passw0rd"},
                 user="admin")
        self.assertEqual(r.status, 200, r.body)
        self.remember("alice-New-Passw0rd")
        src = fresh_address()
        self.assertError(call(v, "GET", "/api/v1/cameras", user="alice",
                              password="alice-Passw0rd", source=src), 401)
        self.assertError(call(v, "GET", "/api/v1/cameras", cookie=cookie, source=src), 401)
        self.assertError(call(v, "GET", "/api/v1/cameras", bearer=token, source=src), 401)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="alice",
                              password="alice-New-Passw0rd").status, 200)

        # Delete: the user, their sessions and cached Basic credentials go.
        _, cookie = login(v, "alice", "alice-New-Passw0rd")
        self.remember(cookie)
        self.assertEqual(call(v, "DELETE", "/api/v1/users/alice", user="admin").status, 204)
        src = fresh_address()
        self.assertError(call(v, "GET", "/api/v1/cameras", user="alice",
                              password="alice-New-Passw0rd", source=src), 401)
        self.assertError(call(v, "GET", "/api/v1/cameras", cookie=cookie, source=src), 401)
        self.assertError(call(v, "DELETE", "/api/v1/users/alice", user="admin"), 404)
        r = call(v, "GET", "/api/v1/users/..%2fadmin", user="admin")
        self.assertIn(r.status, (400, 404))  # libsoup itself answers 400 to some
        self.assertNotIn(b"created", r.body)

    def test_last_admin_is_protected(self):
        v = self.vigil
        self.assertError(call(v, "DELETE", "/api/v1/users/admin", user="admin"), 409)
        self.assertError(call(v, "PATCH", "/api/v1/users/admin", {"role": "operator"},
                              user="admin"), 409)
        r = call(v, "POST", "/api/v1/users",
                 {"name": "admin2", "password": "admin2-Passw0rd", "role": "admin"},
                 user="admin")
        self.assertEqual(r.status, 201)
        self.remember("admin2-Passw0rd")
        # With two admins one may be demoted; then the other is the last again.
        r = call(v, "PATCH", "/api/v1/users/admin2", {"role": "viewer"}, user="admin")
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(r.json()["cameras"], {})
        self.assertError(call(v, "PATCH", "/api/v1/users/admin", {"role": "viewer"},
                              user="admin"), 409)
        self.assertEqual(call(v, "DELETE", "/api/v1/users/admin2", user="admin").status, 204)
        self.assertEqual(call(v, "GET", "/api/v1/users/admin", user="admin").json()["role"],
                         "admin")

    # --- sessions and CSRF ---

    def test_session_login_cookie_and_csrf(self):
        v = self.vigil
        r, cookie = login(v, "op-all")
        self.assertEqual(r.status, 200, r.body)
        body = r.json()
        csrf = body["csrf_token"]
        self.remember(cookie, csrf)
        self.assertEqual(body["user"]["name"], "op-all")
        self.assertEqual(body["user"]["role"], "operator")
        self.assertGreaterEqual(len(cookie), 32)
        set_cookie = [c for c in r.header_all("Set-Cookie") if c.startswith("vigil_session=")][0]
        attrs = [a.strip().lower() for a in set_cookie.split(";")[1:]]
        self.assertIn("httponly", attrs)
        self.assertIn("samesite=strict", attrs)
        self.assertIn("path=/", attrs)
        self.assertNotIn("secure", attrs)  # plain HTTP here; the TLS test checks Secure
        self.assertNotIn(cookie, r.body.decode())

        # Reads need no token; state changes do.
        self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=cookie).status, 200)
        r = call(v, "GET", "/api/v1/session", cookie=cookie)
        self.assertEqual(r.json()["csrf_token"], csrf)
        patch = lambda **kw: call(v, "PATCH", "/api/v1/cameras/cam-a", {"name": "A"},
                                  cookie=cookie, **kw)
        self.assertError(patch(), 403)
        self.assertError(patch(csrf="0" * len(csrf)), 403)
        self.assertError(patch(csrf=csrf[:-1]), 403)
        self.assertEqual(patch(csrf=csrf).status, 200)
        # Basic and Bearer need no token, but a foreign Origin is refused for all.
        self.assertEqual(call(v, "PATCH", "/api/v1/cameras/cam-a", {"name": "A"},
                              user="op-all").status, 200)
        self.assertError(call(v, "PATCH", "/api/v1/cameras/cam-a", {"name": "A"},
                              user="op-all", headers={"Origin": "http://evil.example"}), 403)
        self.assertError(patch(csrf=csrf, headers={"Origin": "http://evil.example"}), 403)
        # A WebSocket handshake from a foreign page is refused before routing.
        self.assertError(call(v, "GET", "/api/v1/cameras/cam-a/live.ts", user="op-all",
                              headers={"Origin": "http://evil.example", "Upgrade": "websocket",
                                       "Connection": "Upgrade"}), 403)
        same = f"http://127.0.0.1:{v.port}"
        self.assertEqual(patch(csrf=csrf, headers={"Origin": same}).status, 200)

        # Logout needs the token too, then the cookie is dead.
        self.assertError(call(v, "DELETE", "/api/v1/session", cookie=cookie), 403)
        r = call(v, "DELETE", "/api/v1/session", cookie=cookie, csrf=csrf)
        self.assertEqual(r.status, 204)
        cleared = [c for c in r.header_all("Set-Cookie") if c.startswith("vigil_session=")]
        self.assertTrue(cleared and "max-age=0" in cleared[0].lower())
        self.assertError(call(v, "GET", "/api/v1/cameras", cookie=cookie), 401)

    def test_session_bad_logins(self):
        v = self.vigil
        src = fresh_address()
        for body in ({"username": "op-all", "password": "wrong"},
                     {"username": "nobody", "password": "wrong"}):
            r = call(v, "POST", "/api/v1/session", body, source=src)
            self.assertError(r, 401)
            self.assertIsNone(r.header("Set-Cookie"))
        for raw in (b"{}", b"[]", b'{"username": 1, "password": "x"}', b"nope"):
            self.assertError(call(v, "POST", "/api/v1/session", raw=raw, source=src), 400)
        r = call(v, "POST", "/api/v1/session", {"username": "op-all",
                                                "password": PASSWORDS["op-all"]},
                 headers={"Origin": "http://evil.example"}, source=src)
        self.assertError(r, 403)
        self.assertIsNone(r.header("Set-Cookie"))
        self.assertError(call(v, "GET", "/api/v1/cameras", cookie="f" * 64, source=src), 401)
        self.assertError(call(v, "GET", "/api/v1/session", source=src), 401)

    # --- API tokens ---

    def test_api_tokens(self):
        v = self.vigil
        r = call(v, "POST", "/api/v1/tokens", {"name": "backup script"}, user="viewer-a")
        self.assertEqual(r.status, 201, r.body)
        t = r.json()
        token = t["token"]
        self.remember(token)
        self.assertEqual(t["name"], "backup script")
        self.assertIsNone(t["last_used"])
        r = call(v, "GET", "/api/v1/cameras", bearer=token)
        self.assertEqual(r.status, 200)
        self.assertEqual([c["id"] for c in r.json()], ["cam-a"])
        # The token acts as its user, nothing more.
        self.assertError(call(v, "PATCH", "/api/v1/cameras/cam-a", {"name": "x"},
                              bearer=token), 403)
        self.assertError(call(v, "GET", "/api/v1/cameras/cam-b", bearer=token), 404)
        self.assertError(call(v, "POST", "/api/v1/tokens", {}, bearer=token), 403)
        r = call(v, "GET", "/api/v1/tokens", user="viewer-a")
        listed = r.json()
        self.assertEqual([x["id"] for x in listed], [t["id"]])
        self.assertNotIn("token", listed[0])
        self.assertNotIn(token, r.body.decode())
        self.assertIsNotNone(listed[0]["last_used"])
        # Another user's token id: 404, and the token still works.
        self.assertError(call(v, "DELETE", f"/api/v1/tokens/{t['id']}", user="op-all"), 404)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", bearer=token).status, 200)
        self.assertError(call(v, "DELETE", "/api/v1/tokens/abc", user="viewer-a"), 404)
        self.assertEqual(call(v, "DELETE", f"/api/v1/tokens/{t['id']}",
                              user="viewer-a").status, 204)
        src = fresh_address()
        self.assertError(call(v, "GET", "/api/v1/cameras", bearer=token, source=src), 401)
        self.assertError(call(v, "GET", "/api/v1/cameras", bearer="vigil_" + "0" * 64,
                              source=src), 401)
        self.assertEqual(call(v, "GET", "/api/v1/tokens", user="viewer-a").json(), [])
        for bad in ({"name": 5}, {"name": "x" * 101}, {"other": 1}, []):
            self.assertError(call(v, "POST", "/api/v1/tokens", bad, user="viewer-a"), 400)

    # --- input ---

    def test_traversal_attempts(self):
        v = self.vigil
        paths = ["/api/v1/cameras/..%2f..%2fetc%2fpasswd", "/api/v1/../../etc/passwd",
                 "/api/v1/cameras/%2e%2e/%2e%2e/etc/passwd", "/../../../etc/passwd",
                 "/api/v1/cameras/cam-a/..%2f..%2f..%2fetc%2fpasswd",
                 "/api/v1/cameras/cam-a/%00", "/api/v1/users/..", "/api/v1/",
                 "/api/v1/cameras/cam-a/live.ts/../../x", "//etc/passwd",
                 "/api/v1/cameras/cam-a/%2e%2e%2f%2e%2e%2fusers"]
        for path in paths:
            with self.subTest(path=path):
                r = call(v, "GET", path, user="admin")
                self.assertIn(r.status, (400, 404), r.body[:200])
                self.assertNotIn(b"root:", r.body)
        # libsoup decodes %2F before routing: the permission check sees the
        # same camera and resource as with a literal slash.
        self.assertError(call(v, "GET", "/api/v1/cameras/cam-a%2flive.ts", user="viewer-pb"), 403)
        self.assertError(call(v, "GET", "/api/v1/cameras/cam-b%2flive.ts", user="viewer-a"), 404)
        self.assertEqual(call(v, "GET", "/api/v1/health").status, 200)

    def test_oversized_headers_and_bodies(self):
        v = self.vigil
        # libsoup refuses a huge header block on its own by closing the
        # connection, without an answer, as soon as it is too long (64 kB): the
        # request is never served, the daemon lives on. A header block under
        # the limit is served as usual.
        r = call(v, "GET", "/api/v1/cameras", user="admin", headers={"X-Big": "a" * (40 * 1024)})
        self.assertEqual(r.status, 200)
        with socket.create_connection(("127.0.0.1", v.port), timeout=5) as s:
            # Never ends the header block: only the size can make vigil stop reading.
            try:
                s.sendall(b"GET /api/v1/cameras HTTP/1.1\r\nHost: x\r\nX-Big: " +
                          b"a" * (200 * 1024))
                answer = s.recv(200)
            except (ConnectionResetError, BrokenPipeError):
                answer = b""
            except socket.timeout:
                self.fail("vigil kept reading a 200 kB header block")
        self.assertEqual(answer, b"", "no answer, the connection is closed")
        self.assertIsNone(v.proc.poll(), "vigil is still running")
        r = call(v, "POST", "/api/v1/users", raw=b"{" + b" " * (2 * 1024 * 1024) + b"}",
                 user="admin")
        self.assertError(r, 413)
        r = call(v, "POST", "/api/v1/users", raw=b"[" * 1000 + b"]" * 1000, user="admin")
        self.assertError(r, 400)
        self.assertEqual(call(v, "GET", "/api/v1/health").status, 200)

    def test_database_files_are_private(self):
        for name in ("vigil.db", "vigil.db-wal", "vigil.db-shm"):
            path = os.path.join(self.vigil.data_dir, name)
            if os.path.exists(path):
                with self.subTest(file=name):
                    self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        # Only hashes are stored: no session cookie or token in the database.
        _, cookie = login(self.vigil, "viewer-a")
        token = call(self.vigil, "POST", "/api/v1/tokens", {}, user="viewer-a").json()["token"]
        self.remember(cookie, token)
        blob = b""
        for name in ("vigil.db", "vigil.db-wal"):
            path = os.path.join(self.vigil.data_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    blob += f.read()
        self.assertNotIn(cookie.encode(), blob)
        self.assertNotIn(token.encode(), blob)
        self.assertNotIn(PASSWORDS["viewer-a"].encode(), blob)

    def test_zz_secrets_never_in_the_log(self):
        # Runs last (unittest sorts by name): every secret this class used.
        log = self.vigil.log_text()
        self.assertIn("cam-a", log)
        for secret in self.secrets:
            with self.subTest(secret=secret[:6] + "…"):
                self.assertNotIn(secret, log)


class RateLimitTest(unittest.TestCase):
    def test_password_checks_do_not_hold_up_others(self):
        """Argon2id (~145 ms each) runs on the password thread: a burst of
        uncached Basic requests does not stall the main loop, and requests
        with the same new credentials share one check."""
        v = Vigil().start()
        self.addCleanup(v.cleanup)
        r = call(v, "POST", "/api/v1/users",
                 {"name": "burst", "password": "burst-Passw0rd", "role": "viewer"}, user="admin")
        self.assertEqual(r.status, 201, r.body)
        order, lock = [], threading.Lock()

        def ask(tag, **kw):
            reply = call(v, "GET", "/api/v1/cameras", timeout=30, **kw)
            with lock:
                order.append((tag, reply.status))

        attacker = fresh_address()
        threads = [threading.Thread(target=ask, args=(f"wrong-{i}",),
                                    kwargs={"user": f"nobody-{i}", "password": f"guess-{i}",
                                            "source": attacker}) for i in range(6)]
        threads += [threading.Thread(target=ask, args=(f"burst-{i}",),
                                     kwargs={"user": "burst", "password": "burst-Passw0rd"})
                    for i in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.05)  # the checks are queued
        health = call(v, "GET", "/api/v1/health")
        with lock:
            order.append(("health", health.status))
        for t in threads:
            t.join()
        statuses = dict(order)
        self.assertEqual([statuses[f"wrong-{i}"] for i in range(6)], [401] * 6, order)
        self.assertEqual([statuses[f"burst-{i}"] for i in range(8)], [200] * 8, order)
        self.assertEqual(health.status, 200)
        # Seven distinct checks of ~145 ms one after another (6 wrong, 1 shared
        # right) take about a second; health was answered long before the last.
        tags = [tag for tag, _ in order]
        self.assertLess(tags.index("health"), len(tags) - 1, order)
        self.assertLess(tags.index("health"), max(tags.index(f"wrong-{i}") for i in range(6)),
                        order)

    def test_setting_passwords_does_not_hold_up_others(self):
        """Setting a password (a new user, an admin's change, a user's own
        change with its check of the current one) hashes on the password
        thread too: a health request sent after a burst of them is answered
        before the last, and every change takes effect."""
        v = Vigil().start()
        self.addCleanup(v.cleanup)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="admin").status, 200)  # cached
        r = call(v, "POST", "/api/v1/users",
                 {"name": "mover", "password": "mover-Passw0rd", "role": "viewer"}, user="admin")
        self.assertEqual(r.status, 201, r.body)
        order, lock = [], threading.Lock()

        def ask(tag, method, path, body, **kw):
            reply = call(v, method, path, body, timeout=30, **kw)
            with lock:
                order.append((tag, reply.status, reply.body))

        jobs = [(f"new-{i}", "POST", "/api/v1/users",
                 {"name": f"new-{i}", "password": f"new-{i}-Passw0rd", "role": "viewer"},
                 {"user": "admin"}) for i in range(5)]
        jobs.append(("admin-change", "PATCH", "/api/v1/users/mover",
                     {"password": "mover-Changed-1", "role": "operator"}, {"user": "admin"}))
        jobs.append(("own-wrong", "PATCH", "/api/v1/users/admin",
                     {"password": "whatever-Passw0rd", "current_password": "not-it-at-all"},
                     {"user": "admin"}))
        threads = [threading.Thread(target=ask, args=(tag, m, p, b), kwargs=kw)
                   for tag, m, p, b, kw in jobs]
        for t in threads:
            t.start()
        time.sleep(0.05)  # the hashes are queued
        health = call(v, "GET", "/api/v1/health")
        with lock:
            order.append(("health", health.status, b""))
        for t in threads:
            t.join()
        statuses = {tag: status for tag, status, _ in order}
        self.assertEqual([statuses[f"new-{i}"] for i in range(5)], [201] * 5, order)
        self.assertEqual(statuses["admin-change"], 200, order)
        self.assertEqual(statuses["own-wrong"], 403, order)
        self.assertEqual(health.status, 200)
        tags = [tag for tag, _, _ in order]
        self.assertLess(tags.index("health"), max(tags.index(f"new-{i}") for i in range(5)),
                        order)
        # Every change took effect: the new users and the changed password log in.
        for i in range(5):
            r = call(v, "GET", "/api/v1/cameras", user=f"new-{i}", password=f"new-{i}-Passw0rd")
            self.assertEqual(r.status, 200, (i, r.body))
        r = call(v, "GET", "/api/v1/users/mover", user="admin")
        self.assertEqual((r.status, json.loads(r.body)["role"]), (200, "operator"), r.body)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="mover",
                              password="mover-Changed-1").status, 200)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="mover",
                              password="mover-Passw0rd").status, 401)
        # A user's own change: the current password checked, then the new one
        # hashed, both off the main loop; a wrong current one is 403.
        own = {"user": "new-1", "password": "new-1-Passw0rd"}
        r = call(v, "PATCH", "/api/v1/users/new-1",
                 {"password": "new-1-Changed-22", "current_password": "wrong-one-here"}, **own)
        self.assertEqual(r.status, 403, r.body)
        self.assertIn(b"current password is wrong", r.body)
        r = call(v, "PATCH", "/api/v1/users/new-1",
                 {"password": "new-1-Changed-22", "current_password": "new-1-Passw0rd"}, **own)
        self.assertEqual(r.status, 200, r.body)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", user="new-1",
                              password="new-1-Changed-22").status, 200)
        self.assertEqual(call(v, "GET", "/api/v1/cameras", **own).status, 401)

    def test_failed_logins_get_429(self):
        v = Vigil().start()
        try:
            r = call(v, "POST", "/api/v1/users",
                     {"name": "victim", "password": "victim-Passw0rd", "role": "viewer"},
                     user="admin")
            self.assertEqual(r.status, 201)
            attacker = fresh_address()
            for i in range(10):
                r = call(v, "POST", "/api/v1/session",
                         {"username": "victim", "password": f"guess-{i}"}, source=attacker)
                self.assertEqual(r.status, 401, (i, r.body))
            # The name is blocked from everywhere, even with the right password...
            elsewhere = fresh_address()
            r = call(v, "POST", "/api/v1/session",
                     {"username": "victim", "password": "victim-Passw0rd"}, source=elsewhere)
            self.assertEqual(r.status, 429, r.body)
            retry = int(r.header("Retry-After"))
            self.assertTrue(500 <= retry <= 600, retry)
            r = call(v, "GET", "/api/v1/cameras", user="victim", password="victim-Passw0rd",
                     source=elsewhere)
            self.assertEqual(r.status, 429)
            self.assertIsNotNone(r.header("Retry-After"))
            # ...the address is blocked for every name...
            r = call(v, "GET", "/api/v1/cameras", user="admin", source=attacker)
            self.assertEqual(r.status, 429)
            r = call(v, "GET", "/api/v1/cameras", bearer="vigil_" + "1" * 64, source=attacker)
            self.assertEqual(r.status, 429)
            # ...and other names from other addresses are not.
            self.assertEqual(call(v, "GET", "/api/v1/cameras", user="admin",
                                  source=elsewhere).status, 200)

            # Failed Basic attempts count too.
            basic_attacker = fresh_address()
            for i in range(10):
                r = call(v, "GET", "/api/v1/cameras", user="nobody-" + str(i),
                         password="x", source=basic_attacker)
                self.assertEqual(r.status, 401)
            r = call(v, "GET", "/api/v1/cameras", user="admin", source=basic_attacker)
            self.assertEqual(r.status, 429)
            self.assertNotIn("victim-Passw0rd", v.log_text())
            self.assertNotIn("guess-3", v.log_text())
        finally:
            v.cleanup()


class SessionLifetimeTest(unittest.TestCase):
    def test_idle_and_absolute_expiry(self):
        v = Vigil(env={"VIGIL_SESSION_IDLE_S": "2", "VIGIL_SESSION_MAX_S": "5"}).start()
        try:
            # Idle: unused for more than 2 s.
            _, idle = login(v, "admin")
            self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=idle).status, 200)
            time.sleep(2.6)
            self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=idle).status, 401)
            # Absolute: used every 0.6 s (never idle), dead after 5 s.
            _, busy = login(v, "admin")
            started = time.monotonic()
            while time.monotonic() - started < 4.2:
                self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=busy).status, 200)
                time.sleep(0.6)
            time.sleep(max(0, 5.4 - (time.monotonic() - started)))
            self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=busy).status, 401)
        finally:
            v.cleanup()

    def test_sessions_survive_a_restart(self):
        v = Vigil().start()
        try:
            r, cookie = login(v, "admin")
            csrf = r.json()["csrf_token"]
            self.assertEqual(v.stop(), 0)
            v.start()
            self.assertEqual(call(v, "GET", "/api/v1/cameras", cookie=cookie).status, 200)
            r = call(v, "POST", "/api/v1/cameras",
                     {"name": "X", "source": "rtsp://127.0.0.1:9/x", "enabled": False},
                     cookie=cookie, csrf=csrf)
            self.assertEqual(r.status, 201, r.body)
        finally:
            v.cleanup()


class TlsTest(unittest.TestCase):
    def test_tls_from_settings_after_restart(self):
        v = Vigil().start()
        try:
            cert = os.path.join(v.data_dir, "cert.pem")
            key = os.path.join(v.data_dir, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                           check=True, capture_output=True)
            bad = {"tls": {"cert": "/nonexistent/cert.pem", "key": key}}
            r = call(v, "PATCH", "/api/v1/settings", bad, user="admin")
            self.assertEqual(r.status, 400, r.body)
            for bad in ({"tls": {"cert": cert}}, {"tls": {"cert": "relative.pem", "key": key}},
                        {"tls": {"active": True}}, {"tls": {"cert": 5, "key": key}}):
                self.assertEqual(call(v, "PATCH", "/api/v1/settings", bad,
                                      user="admin").status, 400)
            r = call(v, "PATCH", "/api/v1/settings", {"tls": {"cert": cert, "key": key}},
                     user="admin")
            self.assertEqual(r.status, 200, r.body)
            self.assertEqual(r.json()["tls"], {"cert": cert, "key": key, "active": False})
            # Applies at the next start.
            self.assertEqual(v.stop(), 0)
            v._healthy = lambda: _healthy_tls(v)
            v.start()
            r = call(v, "GET", "/api/v1/settings", user="admin", tls=True)
            self.assertEqual(r.status, 200)
            self.assertTrue(r.json()["tls"]["active"])
            r, cookie = login(v, "admin", tls=True)
            self.assertEqual(r.status, 200)
            set_cookie = [c for c in r.header_all("Set-Cookie")
                          if c.startswith("vigil_session=")][0]
            self.assertIn("secure", [a.strip().lower() for a in set_cookie.split(";")])
            # Plain HTTP is not served any more.
            with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
                r = call(v, "GET", "/api/v1/health", timeout=3)
                if r.status < 400:
                    raise AssertionError("plain HTTP answered %d" % r.status)
                raise ConnectionError("refused with an error status")
        finally:
            v.cleanup()


def _healthy_tls(v):
    if v.proc.poll() is not None:
        raise AssertionError(f"vigil exited with {v.proc.returncode}:\n{v.log_text()}")
    try:
        return call(v, "GET", "/api/v1/health", tls=True, timeout=2).status == 200
    except OSError:
        return False


if __name__ == "__main__":
    harness.main()
