"""vigil's RTSP server (docs/restream.md) against vigil-fakecam on loopback:
ffprobe and ffmpeg read the cameras back over RTSP (TCP interleaved and UDP),
H.264 and H.265 frames are bit-identical to what vigil serves over live.ts at
the same moment, 20 clients share the camera's one connection, a stalled
client holds up nobody and resumes at a keyframe, Basic auth with the view
right (401, and the same 404 for an unknown camera and a hidden one), API
tokens as passwords, garbage and oversized requests, and the setting
switching the listener off and on.

No VLC here: Debian's VLC has no live555 module (its rtsp:// goes to the
SAT>IP client), so it cannot play any RTSP server's stream."""
import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness
from harness import ADMIN_PASSWORD, Fakecam, Vigil, free_port, wait_for

VIEWER = ("viewer-a", "viewer-a-Restream-pw1")
SUB_SIZE = (320, 180)


def nal_units(data):
    """The NAL units of an Annex B byte stream, start codes and trailing
    zero bytes removed."""
    units = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        nxt = data.find(b"\x00\x00\x01", start)
        end = nxt if nxt >= 0 else len(data)
        units.append(data[start:end].rstrip(b"\x00"))
        i = nxt
    return units


def nal_type(unit, codec):
    return (unit[0] >> 1) & 0x3F if codec == "hevc" else unit[0] & 0x1F


def slices(data, codec):
    """The picture slices (H.264 NAL types 1-5, H.265 0-31) of an Annex B stream."""
    vcl = range(0, 32) if codec == "hevc" else range(1, 6)
    return [u for u in nal_units(data) if len(u) > 1 and nal_type(u, codec) in vcl]


def parameter_sets(data, codec):
    kinds = (32, 33, 34) if codec == "hevc" else (7, 8)
    return {u for u in nal_units(data) if len(u) > 1 and nal_type(u, codec) in kinds}


def adts_frames(path):
    """The raw AAC frames of an ADTS file (headers stripped: ffmpeg writes
    its own)."""
    with open(path, "rb") as f:
        data = f.read()
    frames, off = [], 0
    while off + 7 <= len(data):
        assert data[off] == 0xFF and data[off + 1] & 0xF6 == 0xF0, off
        header = 7 if data[off + 1] & 1 else 9
        size = ((data[off + 3] & 3) << 11) | (data[off + 4] << 3) | (data[off + 5] >> 5)
        frames.append(data[off + header:off + size])
        off += size
    return frames


def established_to(port):
    """TCP connections accepted on loopback @port now (server side)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            if local_port == port and fields[3] == "01":
                count += 1
    return count


class RestreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-restream-")
        cls.fakecam = Fakecam("--cameras", "2", "--size", "640x360", "--sub-size",
                              "%dx%d" % SUB_SIZE, "--fps", "15", "--gop", "1", "--bitrate", "800",
                              "--scene", "motion:0").start()
        cls.hevc = Fakecam("--cameras", "1", "--codec", "h265", "--no-sub", "--size", "640x360",
                           "--fps", "15", "--gop", "1", "--bitrate", "800").start()
        cls.audiocam = Fakecam("--cameras", "1", "--audio", "--no-sub", "--size", "320x240",
                               "--fps", "15", "--gop", "1", "--bitrate", "300").start()
        # A small output bound, so that a stalled client reaches it in seconds.
        cls.vigil = v = Vigil(env={"VIGIL_RESTREAM_QUEUE_BYTES": "262144"}).start()
        r = v.request("POST", "/api/v1/users", {"name": VIEWER[0], "password": VIEWER[1],
                                                "role": "viewer", "cameras": {"cam1": ["view"]}})
        assert r.status == 201, (r.status, r.body)
        for body in ({"id": "cam1", "name": "one", "source": cls.fakecam.url(1),
                      "sub_source": cls.fakecam.sub_url(1), "record": "off"},
                     {"id": "cam2", "name": "two", "source": cls.fakecam.url(2), "record": "off"},
                     {"id": "hevc", "name": "hevc", "source": cls.hevc.url(1), "record": "off"},
                     {"id": "aud", "name": "aud", "source": cls.audiocam.url(1), "record": "off"}):
            r = v.request("POST", "/api/v1/cameras", body)
            assert r.status == 201, (r.status, r.body)
        for cam in ("cam1", "cam2", "hevc", "aud"):
            v.wait_state(cam, "streaming", 30)
        cls.port = free_port()
        r = v.request("PATCH", "/api/v1/settings",
                      {"rtsp_server": {"enabled": True, "listen": f"127.0.0.1:{cls.port}"}})
        assert r.status == 200, (r.status, r.body)
        assert r.json()["rtsp_server"] == {"enabled": True, "listen": f"127.0.0.1:{cls.port}"}
        wait_for(lambda: cls.status()["state"] == "listening", 10, what="RTSP listening")

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.fakecam.stop()
        cls.hevc.stop()
        cls.audiocam.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def status(cls):
        return cls.vigil.request("GET", "/api/v1/system").json()["rtsp_server"]

    def url(self, path, user="admin", password=ADMIN_PASSWORD):
        return f"rtsp://{user}:{password}@127.0.0.1:{self.port}/{path}"

    def probe(self, path, transport=("-rtsp_transport", "tcp")):
        out = subprocess.run(["ffprobe", "-v", "error", *transport, "-show_entries", "stream=codec_name,width,height", "-of", "json",
                              self.url(path)], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        s = json.loads(out.stdout)["streams"][0]
        return s["codec_name"], s["width"], s["height"]

    def rtsp(self, data, timeout=10):
        """Sends @data on a new connection; returns everything read until the
        server closes or goes quiet after an answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            got = b""
            try:
                while b"\r\n\r\n" not in got:
                    block = s.recv(65536)
                    if not block:
                        break
                    got += block
            except ConnectionResetError:
                pass
            return got

    def describe(self, path, auth=None):
        head = f"DESCRIBE rtsp://127.0.0.1:{self.port}/{path} RTSP/1.0\r\nCSeq: 2\r\n"
        if auth:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            head += f"Authorization: Basic {token}\r\n"
        return self.rtsp((head + "\r\n").encode()).decode("latin-1")

    def test_probe_main_sub_h265(self):
        self.assertEqual(self.probe("cam1"), ("h264", 640, 360))
        self.assertEqual(self.probe("cam1_sub"), ("h264", *SUB_SIZE))
        self.assertEqual(self.probe("hevc"), ("hevc", 640, 360))
        # ffmpeg's default is UDP unicast.
        self.assertEqual(self.probe("cam2", transport=()), ("h264", 640, 360))
        self.assertIn("plays cam2 over UDP", self.vigil.log_text())

    def test_udp(self):
        out = subprocess.run(
            ["ffmpeg", "-v", "error", "-rtsp_transport", "udp", "-i", self.url("cam1_sub"),
             "-c", "copy", "-frames:v", "45", "-f", "framemd5", "-"],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(len([l for l in out.stdout.splitlines()
                              if l and not l.startswith("#")]), 45)
        self.assertIn("plays cam1 (sub) over UDP", self.vigil.log_text())
        # Multicast is not served; a client offering only that is told so.
        auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        answer = self.rtsp((f"SETUP rtsp://127.0.0.1:{self.port}/cam1/trackID=0 RTSP/1.0\r\n"
                            f"CSeq: 1\r\nAuthorization: Basic {auth}\r\n"
                            "Transport: RTP/AVP;multicast;client_port=5000-5001\r\n\r\n").encode())
        self.assertTrue(answer.startswith(b"RTSP/1.0 461 "), answer)
        # cam2 has no sub stream: no such path.
        self.assertIn("404", self.describe("cam2_sub", ("admin", ADMIN_PASSWORD)).split("\r\n")[0])

    def check_bit_identical(self, cam, codec):
        """The same moment over live.ts (what vigil serves from the camera's
        stream) and over RTSP: every picture slice that RTSP delivers is
        byte for byte the one in live.ts, in the same order, none missing.

        live.ts must be flowing before the RTSP client connects, or it may
        start at a later keyframe than RTSP did and miss RTSP's first
        pictures (seen once at nice 19 on a loaded machine: the HTTP
        ffmpeg started after a keyframe the RTSP one already had). So the
        RTSP client starts once live.ts has written a picture, and live.ts
        runs until it holds RTSP's last picture, then is told to quit."""
        fmt = "hevc" if codec == "hevc" else "h264"
        ts_out = os.path.join(self.tmp, f"live-{cam}.es")
        rtsp_out = os.path.join(self.tmp, f"rtsp-{cam}.es")
        live = f"http://admin:{ADMIN_PASSWORD}@127.0.0.1:{self.vigil.port}/api/v1/cameras/{cam}/live.ts"

        def live_slices():
            with open(ts_out, "rb") as f:
                return slices(f.read(), codec)

        # -flush_packets: each picture reaches the file as it is copied.
        # At most 60 s of pictures (15 fps); "q" on stdin ends it sooner.
        http = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-i", live, "-c", "copy",
                                 "-frames:v", "900", "-flush_packets", "1", "-f", fmt, ts_out],
                                stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: os.path.exists(ts_out) and live_slices(), 30,
                     what="live.ts's first picture")
            rtsp = subprocess.run(
                ["ffmpeg", "-v", "error", "-y", "-rtsp_transport", "tcp", "-i", self.url(cam),
                 "-c", "copy", "-frames:v", "60", "-f", fmt, rtsp_out],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(rtsp.returncode, 0, rtsp.stderr)
            with open(rtsp_out, "rb") as f:
                rtsp_data = f.read()
            rtsp_slices = slices(rtsp_data, codec)
            self.assertGreaterEqual(len(rtsp_slices), 60)
            wait_for(lambda: http.poll() is not None or rtsp_slices[-1] in live_slices(), 30,
                     what="RTSP's last picture in live.ts")
            _, err = http.communicate("q", timeout=30)
        finally:
            if http.poll() is None:
                http.kill()
                http.wait()
        self.assertEqual(http.returncode, 0, err)
        with open(ts_out, "rb") as f:
            ts_data = f.read()
        ts_slices = slices(ts_data, codec)
        # The first RTSP picture is a keyframe (H.264 IDR, H.265 IRAP), at once.
        first = nal_type(rtsp_slices[0], codec)
        self.assertTrue(16 <= first <= 23 if codec == "hevc" else first == 5, first)
        self.assertIn(rtsp_slices[0], ts_slices, "RTSP's first picture is not in live.ts")
        start = ts_slices.index(rtsp_slices[0])
        self.assertEqual(rtsp_slices, ts_slices[start:start + len(rtsp_slices)])
        # Parameter sets too (in band, and those the SDP announced).
        self.assertTrue(parameter_sets(rtsp_data, codec))
        self.assertLessEqual(parameter_sets(rtsp_data, codec), parameter_sets(ts_data, codec))

    def test_frames_bit_identical_h264(self):
        self.check_bit_identical("cam1", "h264")

    def test_frames_bit_identical_h265(self):
        self.check_bit_identical("hevc", "hevc")

    def probe_streams(self, path, transport=("-rtsp_transport", "tcp")):
        out = subprocess.run(["ffprobe", "-v", "error", *transport, "-show_entries",
                              "stream=codec_name,sample_rate,channels", "-of", "json",
                              self.url(path)], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        return [{k: v for k, v in s.items() if k in ("codec_name", "sample_rate", "channels")}
                for s in json.loads(out.stdout)["streams"]]

    def test_audio_aac(self):
        """A camera with AAC: the SDP has an MPEG4-GENERIC track, ffprobe
        sees it over TCP and UDP, and every AAC frame that RTSP delivers is
        byte for byte the one live.ts serves, in order, none missing."""
        # Right after a keyframe of a stream nobody asked for yet, the GOP
        # cache may hold no audio chunk: the first DESCRIBE may lack audio.
        sdp = wait_for(lambda: (lambda d: d if "m=audio" in d else None)(
            self.describe("aud", ("admin", ADMIN_PASSWORD))), 10, what="m=audio")
        self.assertIn("a=rtpmap:97 MPEG4-GENERIC/48000/1\r\n", sdp)
        self.assertIn("mode=AAC-hbr; sizelength=13; indexlength=3; indexdeltalength=3; "
                      "config=1188\r\n", sdp)
        self.assertNotIn("m=audio", self.describe("cam1", ("admin", ADMIN_PASSWORD)))
        want = [{"codec_name": "h264"}, {"codec_name": "aac", "sample_rate": "48000", "channels": 1}]
        self.assertEqual(self.probe_streams("aud"), want)
        self.assertEqual(self.probe_streams("aud", transport=("-rtsp_transport", "udp")), want)
        ts_out = os.path.join(self.tmp, "live-aud.aac")
        rtsp_out = os.path.join(self.tmp, "rtsp-aud.aac")
        live = f"http://admin:{ADMIN_PASSWORD}@127.0.0.1:{self.vigil.port}/api/v1/cameras/aud/live.ts"
        http = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-i", live, "-map", "0:a",
                                 "-c", "copy", "-frames:a", "300", "-f", "adts", ts_out],
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        rtsp = subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-rtsp_transport", "tcp", "-i", self.url("aud"),
             "-map", "0:a", "-c", "copy", "-frames:a", "100", "-f", "adts", rtsp_out],
            capture_output=True, text=True, timeout=60)
        self.assertEqual(rtsp.returncode, 0, rtsp.stderr)
        _, err = http.communicate(timeout=60)
        self.assertEqual(http.returncode, 0, err)
        ts_frames, rtsp_frames = adts_frames(ts_out), adts_frames(rtsp_out)
        self.assertGreaterEqual(len(rtsp_frames), 100)
        # The tone repeats, so a frame may occur more than once: any start
        # from which the whole RTSP run matches.
        n = len(rtsp_frames)
        self.assertTrue(any(ts_frames[i:i + n] == rtsp_frames
                            for i in range(len(ts_frames) - n + 1)),
                        "RTSP's AAC frames are not a run of live.ts's")
        self.assertIn("plays aud over TCP with audio", self.vigil.log_text())

    def test_rtsps(self):
        """With settings "tls", the RTSP port also speaks RTSP over TLS:
        frames arrive over rtsps://, credentials are still needed, plain
        RTSP goes on working on the same port."""
        cert, key = os.path.join(self.tmp, "cert.pem"), os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
                        "-days", "2", "-keyout", key, "-out", cert],
                       check=True, capture_output=True, timeout=30)
        r = self.vigil.request("PATCH", "/api/v1/settings", {"tls": {"cert": cert, "key": key}})
        self.assertEqual(r.status, 200, r.body)
        try:
            url = self.url("cam1").replace("rtsp://", "rtsps://", 1)
            out = subprocess.run(
                # ffmpeg's TLS does not verify unless told (-tls_verify is
                # the tls protocol's option; rtsps does not take it).
                ["ffmpeg", "-v", "error", "-i", url, "-c", "copy",
                 "-frames:v", "30", "-f", "framemd5", "-"],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(len([l for l in out.stdout.splitlines()
                                  if l and not l.startswith("#")]), 30)
            self.assertIn("plays cam1 over TLS", self.vigil.log_text())
            bad = subprocess.run(
                ["ffprobe", "-v", "error", f"rtsps://127.0.0.1:{self.port}/cam1"],
                capture_output=True, text=True, timeout=30)
            self.assertNotEqual(bad.returncode, 0)
            self.assertIn("401", bad.stderr)
            self.assertEqual(self.probe("cam2"), ("h264", 640, 360))
            # A stalled client over TLS: skipped to the next keyframe too.
            self.check_stalled_client(tls=True)
        finally:
            r = self.vigil.request("PATCH", "/api/v1/settings", {"tls": {"cert": None, "key": None}})
            self.assertEqual(r.status, 200, r.body)

    def test_twenty_clients_one_camera_connection(self):
        connections = established_to(self.fakecam.port)
        self.assertEqual(connections, 3)  # cam1, its sub stream, cam2
        procs = [subprocess.Popen(
            ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", self.url("cam2"),
             "-c", "copy", "-frames:v", "75", "-f", "framemd5", "-"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(20)]
        try:
            wait_for(lambda: self.status()["clients"] >= 20, 20, what="20 RTSP clients")
            self.assertEqual(established_to(self.fakecam.port), connections)
            for p in procs:
                out, err = p.communicate(timeout=60)
                self.assertEqual(p.returncode, 0, err)
                frames = [l for l in out.splitlines() if l and not l.startswith("#")]
                self.assertEqual(len(frames), 75)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        wait_for(lambda: self.status()["clients"] == 0, 10, what="clients gone")

    def test_stalled_client_skips_to_keyframe(self):
        self.check_stalled_client()

    def check_stalled_client(self, tls=False):
        """A client that stops reading holds up nobody, and when it reads
        again it gets whole access units and, after the gap, a keyframe."""
        auth = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        noticed = self.vigil.log_text().count("is not keeping up")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.settimeout(10)
        sock.connect(("127.0.0.1", self.port))
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            sock = ctx.wrap_socket(sock)
        base = f"rtsp://127.0.0.1:{self.port}/cam1"
        sock.sendall((f"SETUP {base}/trackID=0 RTSP/1.0\r\nCSeq: 1\r\n"
                      f"Authorization: Basic {auth}\r\n"
                      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n").encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            buf += sock.recv(4096)
        head, buf = buf.split(b"\r\n\r\n", 1)
        self.assertTrue(head.startswith(b"RTSP/1.0 200 OK"), head)
        session = [l.split(b":", 1)[1].strip().split(b";")[0] for l in head.split(b"\r\n")
                   if l.lower().startswith(b"session:")][0].decode()
        sock.sendall((f"PLAY {base} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: Basic {auth}\r\n"
                      f"Session: {session}\r\n\r\n").encode())
        try:
            # Not reading: vigil notices, another client is served meanwhile.
            other = subprocess.run(
                ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i", self.url("cam1"),
                 "-c", "copy", "-frames:v", "30", "-f", "framemd5", "-"],
                capture_output=True, text=True, timeout=30)
            self.assertEqual(other.returncode, 0, other.stderr)
            self.assertEqual(len([l for l in other.stdout.splitlines()
                                  if l and not l.startswith("#")]), 30)
            wait_for(lambda: self.vigil.log_text().count("is not keeping up") > noticed, 30,
                     what="the stalled client noticed")
            # Read again: the PLAY answer, then RTP; find the sequence gap.
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(65536)
            head, buf = buf.split(b"\r\n\r\n", 1)
            self.assertTrue(head.startswith(b"RTSP/1.0 200 OK"), head)
            prev, after_gap, reports = None, None, 0
            while after_gap is None or not after_gap[1]:
                while len(buf) < 4 or len(buf) < 4 + int.from_bytes(buf[2:4], "big"):
                    block = sock.recv(65536)
                    self.assertTrue(block, "connection closed")
                    buf += block
                self.assertEqual(buf[0:1], b"$")
                size = int.from_bytes(buf[2:4], "big")
                channel, rtp, buf = buf[1], buf[4:4 + size], buf[4 + size:]
                if channel == 1:  # RTCP: a sender report (PT 200) first
                    self.assertEqual(rtp[1], 200)
                    reports += 1
                    continue
                self.assertEqual(channel, 0)
                seq, marker, payload = int.from_bytes(rtp[2:4], "big"), rtp[1] & 0x80, rtp[12:]
                nal = payload[0] & 0x1F
                if nal == 28:
                    nal = payload[1] & 0x1F
                if after_gap is not None:
                    after_gap[0].add(nal)
                    after_gap[1] = bool(marker)
                elif prev is not None and seq != (prev + 1) & 0xFFFF:
                    after_gap = [{nal}, bool(marker)]
                prev = seq
            self.assertLessEqual({7, 8, 5}, after_gap[0])  # SPS, PPS, IDR slice
            self.assertGreater(reports, 0)
        finally:
            sock.close()

    def test_auth(self):
        for path in ("cam1", "nothing"):
            for auth in (None, ("admin", "wrong-password"), ("nobody", "x")):
                answer = self.describe(path, auth)
                self.assertTrue(answer.startswith("RTSP/1.0 401 "), answer)
                self.assertIn('WWW-Authenticate: Basic realm="vigil"', answer)
        ok = self.describe("cam1", VIEWER)
        self.assertTrue(ok.startswith("RTSP/1.0 200 "), ok)
        self.assertIn("sprop-parameter-sets=", ok)
        self.assertIn("profile-level-id=", ok)
        # A camera the viewer may not see answers exactly like one that is not there.
        hidden, unknown = self.describe("cam2", VIEWER), self.describe("nothing", VIEWER)
        self.assertTrue(hidden.startswith("RTSP/1.0 404 "), hidden)
        self.assertEqual(hidden, unknown)
        self.assertEqual(self.describe("cam1_sub", VIEWER).split("\r\n")[0], "RTSP/1.0 200 OK")
        self.assertNotIn(VIEWER[1], self.vigil.log_text())
        self.assertNotIn("wrong-password", self.vigil.log_text())

    def test_password_checks_off_the_main_loop(self):
        """A DESCRIBE whose Basic credentials are not cached waits for its
        Argon2id check on the password thread (~145 ms each, one at a time):
        the main loop answers others meanwhile, a request pipelined behind it
        on the same connection is answered after it, in order, and a wrong
        password is counted once."""
        import threading
        r = self.vigil.request("POST", "/api/v1/users", {
            "name": "pipeline", "password": "pipeline-Restream-pw1", "role": "viewer",
            "cameras": {"cam1": ["view"]}})
        self.assertEqual(r.status, 201, r.body)

        def ask(data, source, last_cseq=2):
            """Reads until the answer to CSeq @last_cseq has its headers."""
            with socket.create_connection(("127.0.0.1", self.port), timeout=20,
                                          source_address=(source, 0)) as s:
                s.sendall(data)
                got, mark = b"", f"CSeq: {last_cseq}\r\n".encode()
                while mark not in got or b"\r\n\r\n" not in got[got.index(mark):]:
                    block = s.recv(65536)
                    if not block:
                        break
                    got += block
                return got.decode("latin-1")

        def describe(user, password, cseq=2):
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return (f"DESCRIBE rtsp://127.0.0.1:{self.port}/cam1 RTSP/1.0\r\nCSeq: {cseq}\r\n"
                    f"Authorization: Basic {token}\r\n\r\n").encode()

        order, lock = [], threading.Lock()

        def wrong(i):
            answer = ask(describe(f"nobody-{i}", f"guess-{i}"), f"127.0.1.{i + 1}")
            with lock:
                order.append((f"wrong-{i}", answer.split("\r\n")[0]))

        threads = [threading.Thread(target=wrong, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
        time.sleep(0.02)
        health = self.vigil.request("GET", "/api/v1/health")
        with lock:
            order.append(("health", health.status))
        for t in threads:
            t.join()
        self.assertEqual(health.status, 200)
        self.assertEqual(sorted(a for tag, a in order if tag != "health"),
                         ["RTSP/1.0 401 Unauthorized"] * 5, order)
        # Answered before any of the checks, each of which takes ~145 ms
        # (on the main loop, health waited for the one in progress at least).
        self.assertEqual(order[0][0], "health", order)

        # Pipelined: DESCRIBE (new credentials) then OPTIONS, in one write.
        options = f"OPTIONS rtsp://127.0.0.1:{self.port}/cam1 RTSP/1.0\r\nCSeq: 3\r\n\r\n"
        got = ask(describe("pipeline", "pipeline-Restream-pw1") + options.encode(), "127.0.1.9",
                  last_cseq=3)
        first, second = got.find("RTSP/1.0 200"), got.find("CSeq: 3")
        self.assertTrue(got.startswith("RTSP/1.0 200 OK"), got)
        self.assertIn("sprop-parameter-sets=", got)
        self.assertGreater(second, first, got)
        self.assertIn("Public: OPTIONS", got)

    def test_api_token_as_password(self):
        r = self.vigil.request("POST", "/api/v1/tokens", {"name": "rtsp"})
        self.assertEqual(r.status, 201, r.body)
        token = r.json()["token"]
        self.assertTrue(self.describe("cam1", ("admin", token)).startswith("RTSP/1.0 200 "))

    def test_garbage_and_oversized(self):
        answer = self.rtsp(bytes(range(256)) * 4 + b"\r\n\r\n")
        self.assertTrue(answer.startswith(b"RTSP/1.0 400 "), answer)
        answer = self.rtsp(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: " + b"a" * 20000)
        self.assertTrue(answer.startswith(b"RTSP/1.0 413 "), answer)
        answer = self.rtsp(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 99999999\r\n\r\n")
        self.assertTrue(answer.startswith(b"RTSP/1.0 413 "), answer)
        answer = self.rtsp(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertTrue(answer.startswith(b"RTSP/1.0 400 "), answer)
        # Blank lines before a request are skipped (a keep-alive habit).
        answer = self.rtsp(b"\r\n\r\nOPTIONS * RTSP/1.0\r\nCSeq: 8\r\n\r\n")
        self.assertTrue(answer.startswith(b"RTSP/1.0 200 OK\r\nCSeq: 8\r\n"), answer)
        # The server is still fine.
        answer = self.rtsp(b"OPTIONS * RTSP/1.0\r\nCSeq: 7\r\n\r\n")
        self.assertTrue(answer.startswith(b"RTSP/1.0 200 OK\r\nCSeq: 7\r\n"), answer)
        self.assertEqual(self.probe("cam2"), ("h264", 640, 360))

    def test_invalid_listen_is_400(self):
        r = self.vigil.request("PATCH", "/api/v1/settings", {"rtsp_server": {"listen": "8554"}})
        self.assertEqual(r.status, 400)
        self.assertIn("rtsp_server.listen", r.json()["error"])

    def test_z_disabled_refuses_connections(self):
        r = self.vigil.request("PATCH", "/api/v1/settings", {"rtsp_server": {"enabled": False}})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.status(), {"state": "disabled", "error": None, "clients": 0})
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
        r = self.vigil.request("PATCH", "/api/v1/settings", {"rtsp_server": {"enabled": True}})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.status()["state"], "listening")
        self.assertEqual(self.probe("cam2"), ("h264", 640, 360))


if __name__ == "__main__":
    harness.main()
