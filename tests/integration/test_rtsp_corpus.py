"""The RTSP corpus (issue 13): vigil against several unrelated RTSP stacks on
loopback and against quirkcam, a scripted camera that reproduces the quirks of
real ones. Each case checks what a user sees: the camera's status, a live.ts
that ffmpeg decodes without a single error, worded errors, recovery.

Servers: vigil-fakecam (gst-rtsp-server), VLC (`cvlc --sout #rtp{sdp=rtsp://}`,
UDP only), rtsp-server-perl fed by `ffmpeg -f rtsp` (UDP only), quirkcam.py.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness

from harness import (Fakecam, Vigil, capture_live_ts, cut_at_last_frame, ffprobe_frames,
                     free_port, wait_for)
from quirkcam import parse_adts

HERE = os.path.dirname(os.path.abspath(__file__))
QUIRKCAM = os.path.join(HERE, "quirkcam.py")
FPS = 25


def rtsp_status(url, method="DESCRIBE"):
    """The status code a bare RTSP request gets, or None (not answering)."""
    host, _, rest = url[len("rtsp://"):].partition("/")
    name, _, port = host.partition(":")
    try:
        with socket.create_connection((name, int(port or 554)), timeout=2) as s:
            s.sendall(f"{method} {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n"
                      .encode())
            head = s.recv(4096).decode("latin-1")
            m = re.match(r"RTSP/1.0 (\d+)", head)
            return int(m.group(1)) if m else None
    except OSError:
        return None


class Server:
    """A server process (plus optional helpers) whose output goes to a log
    file; stop() ends every process it started."""

    def __init__(self, tmp, name):
        self.log_path = os.path.join(tmp, name + ".log")
        self.procs = []

    def spawn(self, cmd, env=None, stdout=None):
        log = open(self.log_path, "ab")
        proc = subprocess.Popen(cmd, stdout=stdout or log, stderr=log, env=env)
        log.close()
        self.procs.append(proc)
        return proc

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if proc.stdout:
                proc.stdout.close()
        self.procs = []


class QuirkCam(Server):
    def __init__(self, tmp, *args, port=None):
        super().__init__(tmp, f"quirkcam-{free_port()}")
        self.args, self.port = list(args), port or free_port()

    def start(self):
        proc = self.spawn([sys.executable, QUIRKCAM, "--port", str(self.port), *self.args],
                          stdout=subprocess.PIPE)
        line = proc.stdout.readline().decode()
        m = re.search(r"serving (rtsp://\S+)", line)
        if not m:
            proc.wait(5)
            raise AssertionError("quirkcam did not start: " + self.log_text())
        self.url = m.group(1)
        return self


class CorpusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vigil-corpus-")
        os.chmod(cls.tmp, 0o755)  # VLC runs as nobody and reads the clip
        enc = ["-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate={FPS}",
               "-t", "4", "-pix_fmt", "yuv420p", "-g", str(FPS), "-bf", "0", "-b:v", "800k"]
        cls.h264 = os.path.join(cls.tmp, "clip.264")
        cls.h265 = os.path.join(cls.tmp, "clip.265")
        cls.aac = os.path.join(cls.tmp, "clip.aac")
        cls.mp4 = os.path.join(cls.tmp, "clip.mp4")
        subprocess.run(["ffmpeg", *enc, "-c:v", "libx264", "-f", "h264", cls.h264], check=True)
        subprocess.run(["ffmpeg", *enc, "-c:v", "libx265", "-x265-params",
                        "log-level=error:repeat-headers=1", "-f", "hevc", cls.h265], check=True)
        # Noise: every AAC frame differs, so a copy can be matched frame by frame.
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "anoisesrc=color=pink:sample_rate=48000:seed=7:amplitude=0.3", "-t", "4",
                        "-ac", "1", "-c:a", "aac", "-b:a", "64k", "-f", "adts", cls.aac],
                       check=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-r", str(FPS), "-i", cls.h264,
                        "-i", cls.aac, "-c", "copy", cls.mp4], check=True)
        for path in (cls.h264, cls.h265, cls.aac, cls.mp4):
            os.chmod(path, 0o644)
        cls.vigil = Vigil().start()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.servers = []
        self.cameras = []
        if self.vigil.proc.poll() is not None:
            # An earlier case crashed it (and failed for it): start afresh so
            # this case tests what it says.
            type(self).vigil = Vigil().start()

    def tearDown(self):
        crashed = self.vigil.proc.poll() is not None
        try:
            for cam_id in [] if crashed else self.cameras:
                self.vigil.request("DELETE", f"/api/v1/cameras/{cam_id}")
        finally:
            for server in self.servers:
                server.stop()
        if crashed:
            log = self.vigil.log_text()
            self.vigil.cleanup()
            self.fail(f"vigil exited with {self.vigil.proc.returncode} during this case; "
                      f"its log ends:\n{log[-4000:]}")

    # --- helpers

    def quirkcam(self, *args, codec="h264", port=None):
        video = self.h264 if codec == "h264" else self.h265
        cam = QuirkCam(self.tmp, "--video", video, "--codec", codec, "--fps", str(FPS), *args,
                       port=port)
        self.servers.append(cam)
        return cam.start()

    def add_camera(self, cam_id, source, **fields):
        self.cameras.append(cam_id)
        r = self.vigil.request("POST", "/api/v1/cameras",
                               {"id": cam_id, "name": cam_id, "source": source, **fields})
        self.assertEqual(r.status, 201, r.body)

    def status(self, cam_id):
        return self.vigil.camera(cam_id)["status"]

    def wait_streaming(self, cam_id, codec, width=640, height=360, timeout=15):
        def check():
            s = self.status(cam_id)
            ok = (s["state"] == "streaming" and s["codec"] == codec and s["width"] == width
                  and s["height"] == height)
            return s if ok else None
        try:
            return wait_for(check, timeout, what=f"{cam_id} streaming {codec} {width}x{height}")
        except AssertionError as e:
            raise AssertionError(f"{e}\nstatus now: {self.status(cam_id)}") from None

    def wait_error(self, cam_id, timeout=15):
        return wait_for(lambda: (lambda s: s if s["error"] else None)(self.status(cam_id)),
                        timeout, what=f"{cam_id} to show an error")

    def live_ts(self, cam_id, seconds):
        data = capture_live_ts(self.vigil, cam_id, seconds)
        path = os.path.join(self.tmp, f"{cam_id}-{time.monotonic_ns()}.ts")
        with open(path, "wb") as f:
            f.write(cut_at_last_frame(data))
        return path

    def assert_decodes(self, cam_id, codec, seconds=2.5, min_frames=None):
        """live.ts for @seconds: the right codec and size, every frame decoded
        without a single error message."""
        path = self.live_ts(cam_id, seconds)
        got, w, h, frames, errors = ffprobe_frames(path)
        self.assertEqual((got, w, h), ({"h264": "h264", "h265": "hevc"}[codec], 640, 360))
        self.assertEqual(errors, "", "ffmpeg found errors decoding live.ts")
        self.assertGreaterEqual(frames, min_frames if min_frames is not None
                                else (seconds - 0.5) * FPS)
        return path

    def stream_case(self, cam_id, server_url, codec="h264", **fields):
        self.add_camera(cam_id, server_url, **fields)
        s = self.wait_streaming(cam_id, codec)
        self.assertIsNone(s["error"])
        self.assert_decodes(cam_id, codec)
        return s

    # --- the stacks

    def test_fakecam_gst_rtsp_server_tcp(self):
        cam = Fakecam("--size", "640x360", "--fps", str(FPS), "--gop", "1", "--bitrate", "800")
        self.servers.append(cam)
        cam.start()
        self.stream_case("fakecam", cam.url(1))

    def vlc(self):
        port = free_port()
        url = f"rtsp://127.0.0.1:{port}/vlc"
        server = Server(self.tmp, "vlc")
        self.servers.append(server)
        # VLC plays the file from its start whether or not a client watches,
        # and at the end of the file (even with --loop) it ends the RTP
        # streams with RTCP BYE: give it a clip longer than a case.
        clip = os.path.join(self.tmp, "vlc.mp4")
        if not os.path.exists(clip):
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                            f"testsrc2=size=640x360:rate={FPS}", "-f", "lavfi", "-i",
                            "sine=frequency=440:sample_rate=48000", "-t", "60",
                            "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "veryfast",
                            "-g", str(FPS), "-bf", "0", "-b:v", "800k", "-c:a", "aac", "-ac", "1",
                            clip], check=True)
            os.chmod(clip, 0o644)
        cmd = ["cvlc", "-I", "dummy", "--no-interact", clip,
               "--sout", f"#rtp{{sdp={url}}}", "--sout-keep"]
        if os.geteuid() == 0:
            # VLC refuses to run as root; CI runs as root.
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", *cmd]
        server.spawn(cmd, env=dict(os.environ, HOME=self.tmp))
        wait_for(lambda: rtsp_status(url) == 200, 15, what="VLC to serve " + url)
        return url

    def test_vlc_udp(self):
        self.stream_case("vlc", self.vlc(), rtsp_transport="udp")

    def test_vlc_auto_transport_falls_back_to_udp(self):
        """VLC answers 461 to a TCP SETUP: with transport `auto` vigil must
        find the way to UDP by itself."""
        self.stream_case("vlcauto", self.vlc(), rtsp_transport="auto")

    def test_rtsp_server_perl_fed_by_ffmpeg_udp(self):
        client_port, source_port = free_port(), free_port()
        server = Server(self.tmp, "rtsp-server-perl")
        self.servers.append(server)
        rtp_ports = free_port() & ~1
        server.spawn(["rtsp-server-perl", "--clientport", str(client_port),
                      "--serverport", str(source_port), "--client_listen_address", "127.0.0.1",
                      "--source_listen_address", "127.0.0.1", "--rtp_start_port", str(rtp_ports)])
        url = f"rtsp://127.0.0.1:{client_port}/cam"
        wait_for(lambda: rtsp_status(url) == 404, 10, what="rtsp-server-perl to listen")
        # Before anyone publishes, the mount does not exist: a worded 404.
        self.add_camera("perl404", url, rtsp_transport="udp")
        self.assertEqual(self.wait_error("perl404")["error"],
                         "the camera has no stream at this path (404)")
        server.spawn(["ffmpeg", "-v", "error", "-re", "-stream_loop", "-1", "-i", self.mp4,
                      "-c", "copy", "-f", "rtsp", "-rtsp_transport", "udp",
                      f"rtsp://127.0.0.1:{source_port}/cam"])
        wait_for(lambda: rtsp_status(url) == 200, 10, what="ffmpeg to publish")
        self.stream_case("perl", url, rtsp_transport="udp")

    # --- quirkcam: plain serving

    def test_quirkcam_h264_tcp(self):
        self.stream_case("qtcp", self.quirkcam().url)

    def test_quirkcam_h264_udp(self):
        seen = len(self.vigil.log_text())
        self.stream_case("qudp", self.quirkcam().url, rtsp_transport="udp")
        # MTU-sized datagrams fit the slots vigil starts with.
        self.assertNotIn("sends UDP datagrams over", self.vigil.log_text()[seen:])

    def test_quirkcam_h264_udp_datagrams_over_the_mtu(self):
        """A camera whose RTP datagrams are larger than an Ethernet frame
        (IP fragments): vigil's slots for one datagram start MTU-sized, so
        the first large one is cut short, and from then on it takes them
        whole (src/rtsp/client-media.c)."""
        seen = len(self.vigil.log_text())
        cam = self.quirkcam("--mtu", "6000")
        self.stream_case("qbig", cam.url, rtsp_transport="udp")
        log = self.vigil.log_text()[seen:]
        self.assertIn("sends UDP datagrams over 2048 bytes: one lost, larger ones taken from now on",
                      log)
        self.assertEqual(log.count("sends UDP datagrams over"), 1, log)

    def test_quirkcam_h265_separate_vps_sps_pps_in_band_only(self):
        """H.265 with VPS, SPS and PPS each in its own RTP packet, and no
        sprop-* in the SDP: the client learns them from the stream."""
        self.stream_case("q265", self.quirkcam("--no-sprop", codec="h265").url, codec="h265")

    def test_quirkcam_h265_parameter_sets_only_in_sdp(self):
        cam = self.quirkcam("--no-inband-params", codec="h265")
        self.stream_case("q265oob", cam.url, codec="h265")

    def test_quirkcam_h264_parameter_sets_only_in_sdp(self):
        self.stream_case("q264oob", self.quirkcam("--no-inband-params").url)

    def test_quirkcam_no_content_base(self):
        """DESCRIBE without Content-Base and a URL without a trailing slash:
        the controls `trackID=N` must be set up as PATH/trackID=N (what
        rtsp-server-perl needs too), not /trackID=N."""
        cam = self.quirkcam("--no-content-base", "--audio", self.aac)
        self.stream_case("qnobase", cam.url)

    def test_quirkcam_interleaved_channels_not_0_1(self):
        """Like cameras that number interleaved channels per track whatever
        the client asked: video on 4-5, audio on 6-7."""
        cam = self.quirkcam("--interleaved", "4", "--audio", self.aac)
        s = self.stream_case("qil", cam.url)
        self.assertTrue(s["audio"])
        self.assertIn("answered 'RTP/AVP/TCP;unicast;interleaved=4-5'", cam.log_text())

    def test_aac_passes_through_bit_exact(self):
        cam = self.quirkcam("--audio", self.aac)
        self.add_camera("qaac", cam.url)
        self.wait_streaming("qaac", "h264")
        wait_for(lambda: self.status("qaac")["audio"], 5, what="status to show audio")
        path = self.live_ts("qaac", 5)
        adts = os.path.join(self.tmp, "qaac.aac")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-map", "0:a", "-c:a", "copy",
                        "-f", "adts", adts], check=True)
        with open(adts, "rb") as f:
            got = parse_adts(f.read())[0][:-1]  # the last may be cut with the capture
        with open(self.aac, "rb") as f:
            sent = parse_adts(f.read())[0]
        index = {frame: n for n, frame in enumerate(sent)}
        self.assertEqual(len(index), len(sent), "the source clip's AAC frames are not unique")
        self.assertGreater(len(got), 150)
        positions = [index.get(frame) for frame in got]
        self.assertNotIn(None, positions, "vigil served AAC frames the camera never sent")
        steps = {(b - a) % len(sent) for a, b in zip(positions, positions[1:])}
        self.assertEqual(steps, {1}, "AAC frames lost, repeated or reordered")

    # --- quirkcam: authentication

    def test_basic_auth(self):
        cam = self.quirkcam("--user", "viewer:right-pass", "--auth", "basic")
        self.add_camera("qbasic", cam.url, username="viewer", password="wrong-pass")
        s = self.wait_error("qbasic")
        self.assertEqual((s["state"], s["error"]), ("error", "camera refused the credentials"))
        r = self.vigil.request("PATCH", "/api/v1/cameras/qbasic", {"password": "right-pass"})
        self.assertEqual(r.status, 200, r.body)
        self.wait_streaming("qbasic", "h264")

    def test_digest_auth_wrong_password(self):
        cam = self.quirkcam("--user", "viewer:right-pass", "--auth", "digest")
        self.add_camera("qdigestbad", cam.url, username="viewer", password="wrong-pass")
        s = self.wait_error("qdigestbad")
        self.assertEqual((s["state"], s["error"]), ("error", "camera refused the credentials"))

    def test_digest_first_nonce_stale(self):
        """The connection's first nonce is answered 401 stale=TRUE: the
        client must take the new nonce and try once more, not give up.
        (libavformat gives up here: VIGIL_RTSP_FRONTEND=libav.)"""
        cam = self.quirkcam("--user", "viewer:right-pass", "--auth", "digest", "--stale-nonce")
        self.add_camera("qstale", cam.url, username="viewer", password="right-pass")
        self.wait_streaming("qstale", "h264")
        self.assertIn("answering stale=true", cam.log_text())

    def test_digest_nonce_expires_during_the_session(self):
        """Nonces live 3 s, sessions 6 s without keep-alive: the keep-alives
        meet stale nonces and must be retried, or the camera drops vigil."""
        cam = self.quirkcam("--user", "viewer:right-pass", "--auth", "digest",
                            "--nonce-lifetime", "3", "--session-timeout", "6",
                            "--keepalive", "rtsp")
        self.add_camera("qnonce", cam.url, username="viewer", password="right-pass")
        self.wait_streaming("qnonce", "h264")
        self.assert_streams_steadily("qnonce", 13, cam)
        print(f"stale nonce seen by the client: {'answering stale=true' in cam.log_text()}")

    # --- quirkcam: sessions and failures

    def assert_streams_steadily(self, cam_id, seconds, cam):
        """Over @seconds the camera never leaves `streaming` nor reconnects."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            s = self.status(cam_id)
            self.assertEqual((s["state"], s["reconnects"]), ("streaming", 0),
                             f"{s}\nserver log tail:\n{cam.log_text()[-1500:]}")
            time.sleep(0.5)
        self.assertNotIn("timed out", cam.log_text())

    def test_session_timeout_needs_keepalives(self):
        """Session timeout 6 s, only RTSP requests keep it (RTCP ignored, as
        some cameras do): still streaming after twice the timeout, no reconnect."""
        cam = self.quirkcam("--session-timeout", "6", "--keepalive", "rtsp")
        self.add_camera("qkeep", cam.url)
        self.wait_streaming("qkeep", "h264")
        self.assert_streams_steadily("qkeep", 13, cam)

    def test_server_that_answers_then_sends_nothing(self):
        """A session whose PLAY was answered but that never sends a packet is
        given up after 5 s, not the 10 s a stream that stops gets: the next
        session may well stream (docs/soak.md, the blackout)."""
        cam = self.quirkcam("--silent")
        t0 = time.monotonic()
        self.add_camera("qsilent", cam.url)
        s = wait_for(lambda: (lambda s: s if s["state"] in ("offline", "error") else None)(
            self.status("qsilent")), 16, what="qsilent offline")
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 4.5)
        self.assertLess(took, 9, "waited for the whole silence limit")
        self.assertEqual(s["state"], "offline")
        self.assertIn("sent no video for 5 s after PLAY", s["error"])
        # ... and it keeps trying: a new session is set up.
        wait_for(lambda: self.status("qsilent")["reconnects"] >= 1, 10, what="a reconnect")
        wait_for(lambda: cam.log_text().count("PLAY ") >= 2, 10, what="a second PLAY")

    def test_server_that_closes_mid_frame(self):
        """Every connection is cut in the middle of a fragmented frame after
        3 s: vigil reconnects and live.ts never shows a half picture."""
        cam = self.quirkcam("--close-mid-frame", "3")
        self.add_camera("qcut", cam.url)
        self.wait_streaming("qcut", "h264")
        path = self.assert_decodes("qcut", "h264", seconds=9, min_frames=3 * FPS)
        self.assertGreaterEqual(self.status("qcut")["reconnects"], 1)
        self.assertIn("in the middle of frame", cam.log_text())
        self.assertTrue(os.path.getsize(path) > 0)

    def test_camera_goes_away_and_comes_back(self):
        port = free_port()
        cam = self.quirkcam(port=port)
        self.add_camera("qback", cam.url)
        self.wait_streaming("qback", "h264")
        cam.stop()
        s = self.vigil.wait_state("qback", ("offline", "error"), 15)["status"]
        self.assertTrue(s["error"])
        self.quirkcam(port=port)
        s = self.wait_streaming("qback", "h264", timeout=20)
        self.assertGreaterEqual(s["reconnects"], 1)
        self.assertIsNone(s["error"])
        self.assert_decodes("qback", "h264", seconds=3)

    def test_garbage_does_not_kill_quirkcam(self):
        cam = self.quirkcam()
        with socket.create_connection(("127.0.0.1", cam.port)) as s:
            s.sendall(b"\x00\xffHELLO\r\n\r\n$\x01\x00")
        with socket.create_connection(("127.0.0.1", cam.port)) as s:
            s.sendall(b"DESCRIBE")  # and hang up mid-request
        self.assertEqual(rtsp_status(cam.url), 200)

    # --- worded errors

    def test_garbage_video_is_an_error_and_not_recorded(self):
        # Valid RTP, random payloads: a broken encoder. Not "streaming", and
        # nothing of it in the recordings, however long it lasts.
        cam = self.quirkcam("--garbage")
        self.add_camera("qjunk", cam.url, record="continuous")
        s = self.wait_error("qjunk")
        self.assertEqual(s["state"], "error")
        self.assertRegex(s["error"], r"^the camera sends video that cannot be decoded: "
                                     r"\d+ of its last \d+ pictures are not valid H\.264$")
        time.sleep(3)  # a reconnect or two: each ends the same way
        s = self.status("qjunk")
        self.assertNotEqual(s["state"], "streaming", s)
        self.assertFalse(s["recording"], s)
        r = self.vigil.request("GET", "/api/v1/recordings?camera=qjunk")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json(), [], "garbage was recorded")

    def test_no_stream_at_this_path(self):
        cam = self.quirkcam()
        self.add_camera("q404", cam.url.rsplit("/", 1)[0] + "/nothing-here")
        s = self.wait_error("q404")
        self.assertEqual(s["error"], "the camera has no stream at this path (404)")

    def test_connection_refused(self):
        self.add_camera("qrefused", f"rtsp://127.0.0.1:{free_port()}/stream")
        s = self.wait_error("qrefused")
        self.assertEqual(s["state"], "offline")
        self.assertIn("connection refused", s["error"])

    def test_host_name_not_found(self):
        self.add_camera("qnohost", "rtsp://no-such-camera.invalid:554/stream")
        s = self.wait_error("qnohost", timeout=20)
        self.assertEqual(s["error"], "host name not found")


if __name__ == "__main__":
    harness.main()
