"""Shared helpers for vigil's integration tests: start the real daemon and
vigil-fakecam on loopback, talk to the API, wait for conditions.

Each test file is a plain unittest module run by meson; the binaries come from
the environment (VIGIL_BIN, FAKECAM_BIN), set by tests/integration/meson.build.
"""
import base64
import fcntl
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

VIGIL_BIN = os.environ.get("VIGIL_BIN", "build/src/vigil")
FAKECAM_BIN = os.environ.get("FAKECAM_BIN", "build/tools/fakecam/vigil-fakecam")
ADMIN_PASSWORD = "integration-test-pw"

# The real detection model (make model builds it) and a photo of a person
# (Debian's opencv-doc), for the tests that need objects detected.
PHOTO = "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"
MODEL_CACHE = os.environ.get("VIGIL_MODEL_CACHE",
                             os.path.join(os.path.expanduser("~"), ".cache", "vigil", "models"))
MODEL = os.path.join(MODEL_CACHE, "centernet.onnx")
# Why such a test cannot run here ([] when it can).
DETECTION_MISSING = (
    ([] if os.path.exists(MODEL) else [f"no model at {MODEL} (run make model)"]) +
    ([] if os.path.exists(PHOTO) else [f"no {PHOTO} (Debian package opencv-doc)"]))


def data_dir_with_model():
    """A new data directory whose models/ holds the detection model."""
    data_dir = tempfile.mkdtemp(prefix="vigil-test-")
    os.makedirs(os.path.join(data_dir, "models"))
    for f in ("centernet.onnx", "centernet.onnx.ini"):
        shutil.copy(os.path.join(MODEL_CACHE, f), os.path.join(data_dir, "models", f))
    return data_dir


# Ports handed out by free_port(), each held by a lock file for the life of
# this process, so that suites running side by side (meson runs some two at
# a time) never get the same one. They come from below the kernel's
# ephemeral range (32768-60999 by default), so no outgoing connection takes
# one between free_port() and the server's bind, as it could with bind(0).
PORT_LEASE_RANGE = (20000, 32000)
PORT_LEASE_DIR = os.path.join(tempfile.gettempdir(), "vigil-test-ports")
_port_leases = []


def _bindable(port):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port():
    """A port free on 127.0.0.1 (TCP and UDP) and leased to this process."""
    os.makedirs(PORT_LEASE_DIR, exist_ok=True)
    rng = random.Random()
    for _ in range(2000):
        port = rng.randrange(*PORT_LEASE_RANGE)
        f = open(os.path.join(PORT_LEASE_DIR, str(port)), "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            continue
        if _bindable(port):
            _port_leases.append(f)
            return port
        f.close()
    raise RuntimeError(f"no free port in {PORT_LEASE_RANGE} after 2000 tries")


def wait_for(predicate, timeout, interval=0.2, what="condition"):
    """Polls predicate() until it returns something truthy; returns it."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class Vigil:
    """A vigil daemon on a free loopback port with its own data directory."""

    def __init__(self, data_dir=None, extra_args=(), env=None):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="vigil-test-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.data_dir, "test-vigil.log")
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, VIGIL_ADMIN_PASSWORD=ADMIN_PASSWORD)
        # vigil --demo runs this same vigil-fakecam as its demo camera.
        if "VIGIL_FAKECAM_BIN" not in self.env and os.access(FAKECAM_BIN, os.X_OK):
            self.env["VIGIL_FAKECAM_BIN"] = os.path.abspath(FAKECAM_BIN)
        if env:
            self.env.update(env)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [VIGIL_BIN, "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}",
             "--log-level", "debug", *self.extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        wait_for(self._healthy, 15, what="vigil to answer /api/v1/health")
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"vigil exited with {self.proc.returncode}:\n{self.log_text()}")
        try:
            return self.request("GET", "/api/v1/health", auth=None).status == 200
        except OSError:
            return False

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("vigil did not stop within %d s" % timeout)
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def request(self, method, path, body=None, auth=("admin", ADMIN_PASSWORD), headers=None,
                raw=None, timeout=10):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            req.add_header("Authorization", "Basic " + token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def camera(self, cam_id):
        r = self.request("GET", f"/api/v1/cameras/{cam_id}")
        assert r.status == 200, (r.status, r.body)
        return r.json()

    def wait_state(self, cam_id, states, timeout):
        if isinstance(states, str):
            states = (states,)
        return wait_for(lambda: (lambda c: c if c["status"]["state"] in states else None)(
            self.camera(cam_id)), timeout, what=f"camera {cam_id} in {states}")


class Fakecam:
    """vigil-fakecam on a free port; .url(n) is camera n's RTSP URL and
    .sub_url(n) that of its sub stream (unless started with --no-sub)."""

    def __init__(self, *args, port=None):
        self.port = port or free_port()
        self.args = list(args)
        self.proc = None
        self.onvif = None  # with --onvif: the device service URL

    def start(self, timeout=60):
        # stderr to a file: an unread pipe could fill up and stall the camera.
        self.errors = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [FAKECAM_BIN, "--port", str(self.port), *self.args],
            stdout=subprocess.PIPE, stderr=self.errors, text=True, errors="replace")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait()
                self.errors.seek(0)
                raise AssertionError("vigil-fakecam exited: " + self.errors.read().decode())
            if line.startswith("vigil-fakecam: onvif "):
                self.onvif = line.split()[2]
            if "serving rtsp://" in line or "serving rtsps://" in line:
                return self
        raise AssertionError("vigil-fakecam did not start")

    def url(self, n=1):
        return f"rtsp://127.0.0.1:{self.port}/cam{n}"

    def sub_url(self, n=1):
        return f"rtsp://127.0.0.1:{self.port}/cam{n}_sub"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.errors.close()


def capture_live_ts(vigil, cam_id, seconds, query=""):
    """Reads GET /api/v1/cameras/{id}/live.ts[?query] for @seconds; returns the bytes."""
    token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    req = urllib.request.Request(f"{vigil.base}/api/v1/cameras/{cam_id}/live.ts{query}",
                                 headers={"Authorization": "Basic " + token})
    data = bytearray()
    deadline = time.monotonic() + seconds
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "video/mp2t"
        while time.monotonic() < deadline:
            block = r.read1(65536)
            if not block:
                break
            data += block
    return bytes(data)


def ts_packets(data):
    """The whole 188-byte packets of @data as (pid, payload_unit_start)."""
    return [(((data[i + 1] & 0x1F) << 8) | data[i + 2], bool(data[i + 1] & 0x40))
            for i in range(0, len(data) - len(data) % 188, 188)]


def cut_at_last_frame(data, video_pid=0x100):
    """@data up to the start of its last (possibly incomplete) video frame."""
    last = None
    for n, (pid, start) in enumerate(ts_packets(data)):
        if pid == video_pid and start:
            last = n
    return data[:last * 188]


def ffprobe_frames(path):
    """(codec, width, height, frames decoded, stderr of a full decode)."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,width,height,nb_read_frames", "-of", "json", path],
        capture_output=True, text=True, check=True)
    s = json.loads(out.stdout)["streams"][0]
    # -enc_time_base -1: frames keep the stream's 90 kHz clock. In ffmpeg's
    # default (1/frame rate) two frames less than a frame period apart (an
    # RTCP-rebased camera clock, a variable frame rate) would round onto the
    # same tick and be reported as "non monotonically increasing dts".
    decode = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-enc_time_base", "-1",
                             "-f", "null", "-"],
                            capture_output=True, text=True)
    return s["codec_name"], s["width"], s["height"], int(s["nb_read_frames"]), decode.stderr


class WebSocket:
    """A minimal WebSocket client (RFC 6455) for the live view tests: the
    handshake, unmasked server frames in, masked control frames out."""

    def __init__(self, vigil, path, auth=("admin", ADMIN_PASSWORD), headers=None, timeout=10,
                 rcvbuf=None):
        import os as _os
        self.sock = socket.create_connection(("127.0.0.1", vigil.port), timeout=timeout)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        key = base64.b64encode(_os.urandom(16)).decode()
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{vigil.port}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            lines.append("Authorization: Basic " + token)
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            block = self.sock.recv(4096)
            if not block:
                break
            self.buf += block
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n")[0].decode()
        self.status = int(status_line.split()[1])
        self.headers = head.decode(errors="replace")

    def _read(self, n):
        while len(self.buf) < n:
            block = self.sock.recv(max(65536, n - len(self.buf)))
            if not block:
                raise EOFError("WebSocket closed by the server")
            self.buf += block
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """The next frame as (opcode, payload)."""
        b0, b1 = self._read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self._read(2), "big")
        elif n == 127:
            n = int.from_bytes(self._read(8), "big")
        mask = self._read(4) if b1 & 0x80 else None
        payload = self._read(n)
        if mask:
            payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        return b0 & 0x0F, payload

    def send_control(self, opcode, payload=b""):
        import os as _os
        mask = _os.urandom(4)
        body = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body)

    def close(self):
        try:
            self.send_control(0x8, (1000).to_bytes(2, "big"))
        except OSError:
            pass
        self.sock.close()


class SseReader(threading.Thread):
    """Reads GET /api/v1/events/stream as one user (Basic) and keeps every
    (event, data) pair; start() it, then poll received()."""

    def __init__(self, vigil, user="admin", password=ADMIN_PASSWORD):
        super().__init__(daemon=True)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        req = urllib.request.Request(f"{vigil.base}/api/v1/events/stream",
                                     headers={"Authorization": "Basic " + token})
        self.response = urllib.request.urlopen(req, timeout=120)
        self.content_type = self.response.headers.get("Content-Type")
        self.messages = []
        self.lock = threading.Lock()

    def run(self):
        name, data = None, []
        try:
            for raw in self.response:
                line = raw.decode("utf-8").rstrip("\n")
                if line.startswith(":"):
                    continue
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    data.append(line[len("data: "):])
                elif line == "" and data:
                    with self.lock:
                        self.messages.append((name, json.loads("\n".join(data))))
                    name, data = None, []
        except (OSError, ValueError):
            pass

    def received(self):
        with self.lock:
            return list(self.messages)


# CI (.ci/run sets VIGIL_CI=1) installs everything the tests need: there a
# missing model, photo, tool or privilege is a failure, not a quiet skip.
IN_CI = bool(os.environ.get("VIGIL_CI"))


def require(test, condition, reason):
    """Skips @test when @condition is false, or fails it in CI."""
    if condition:
        return
    if IN_CI:
        test.fail(f"CI must run this test, but: {reason}")
    test.skipTest(reason)


def main():
    """Runs a test file with one line per case, which scripts/count-tests.py
    counts (passes, failures, skips)."""
    import unittest
    unittest.main(verbosity=2)
