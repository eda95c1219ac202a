"""Camera ingest against vigil-fakecam over real RTSP on loopback: status
measured from the stream, H.264 and H.265, TCP and UDP, credentials,
reconnection after the camera goes away, file and test sources."""
import base64
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness
from harness import (ADMIN_PASSWORD, Fakecam, Vigil, capture_live_ts, cut_at_last_frame, ffprobe_frames, free_port,
                     ts_packets, wait_for)


def approx(value, target, tolerance):
    return value is not None and abs(value - target) <= tolerance


class IngestTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        common = ["--size", "640x360", "--fps", "25", "--gop", "1", "--bitrate", "800"]
        cls.cam264 = Fakecam("--cameras", "2", *common, "--scene", "static").start()
        cls.cam265 = Fakecam("--codec", "h265", *common, "--scene", "static").start()
        cls.cam_auth = Fakecam("--user", "viewer:right-pass", *common).start()
        cls.tmp = tempfile.mkdtemp(prefix="vigil-ingest-")
        cls.vigil = Vigil(extra_args=["--demo"]).start()
        # The demo camera appears once its vigil-fakecam has encoded the scene.
        wait_for(lambda: cls.vigil.request("GET", "/api/v1/cameras/demo").status == 200, 60,
                 what="the demo camera")

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        for cam in (cls.cam264, cls.cam265, cls.cam_auth):
            cam.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def create(self, body, status=201):
        r = self.vigil.request("POST", "/api/v1/cameras", body)
        self.assertEqual(r.status, status, r.body)
        return r.json()

    def wait_measured(self, cam_id, codec, width, height, fps, timeout=10):
        """Waits until status shows the stream as the fakecam makes it."""
        def check():
            s = self.vigil.camera(cam_id)["status"]
            ok = (s["state"] == "streaming" and s["codec"] == codec and s["width"] == width
                  and s["height"] == height and approx(s["fps"], fps, 2.5)
                  and approx(s["keyframe_interval_s"], 1.0, 0.15)
                  and s["bitrate_kbps"] and s["bitrate_kbps"] > 50)
            return s if ok else None
        return wait_for(check, timeout, what=f"{cam_id} measured as {codec} {width}x{height}")

    def test_h264_over_tcp_streams_within_5_s(self):
        start = time.monotonic()
        self.create({"id": "tcp264", "name": "TCP 264", "source": self.cam264.url(1)})
        self.vigil.wait_state("tcp264", "streaming", 5)
        self.assertLess(time.monotonic() - start, 5)
        s = self.wait_measured("tcp264", "h264", 640, 360, 25)
        self.assertIsNone(s["error"])
        self.assertEqual(s["reconnects"], 0)

    def check_ts_stream(self, cam_id, codec, fps, seconds=5):
        """What a client of the camera's TS byte stream receives: whole packets,
        PAT+PMT+keyframe first, decodable with no errors, at the camera's rate."""
        data = capture_live_ts(self.vigil, cam_id, seconds)
        packets = ts_packets(data)
        self.assertGreater(len(packets), 100)
        self.assertTrue(all(data[i] == 0x47 for i in range(0, len(data) - 187, 188)))
        self.assertEqual([p[0] for p in packets[:3]], [0x0, 0x1000, 0x100])
        self.assertTrue(data[188 * 2 + 3] & 0x20 and data[188 * 2 + 5] & 0x40,
                        "first video packet carries random_access_indicator")
        path = os.path.join(self.tmp, f"{cam_id}.ts")
        with open(path, "wb") as f:
            f.write(cut_at_last_frame(data))
        got_codec, w, h, frames, errors = ffprobe_frames(path)
        self.assertEqual(got_codec, {"h264": "h264", "h265": "hevc"}[codec])
        self.assertEqual(errors, "")
        # The capture starts with the cached GOP (up to 1 s old) and runs
        # @seconds more; allow for the cut frame and scheduling.
        self.assertGreaterEqual(frames, (seconds - 0.5) * fps)
        self.assertLessEqual(frames, (seconds + 1.2) * fps)
        return w, h

    def test_ts_byte_stream_h264(self):
        self.create({"id": "ts264", "name": "TS 264", "source": self.cam264.url(1)})
        self.wait_measured("ts264", "h264", 640, 360, 25)
        self.assertEqual(self.check_ts_stream("ts264", "h264", 25), (640, 360))
        # An open live.ts counts as a viewer in status, and stops counting when
        # the client goes.
        token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        req = urllib.request.Request(f"{self.vigil.base}/api/v1/cameras/ts264/live.ts",
                                     headers={"Authorization": "Basic " + token})
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read1(1000)
            wait_for(lambda: self.vigil.camera("ts264")["status"]["viewers"] == 1, 5,
                     what="one viewer")
        wait_for(lambda: self.vigil.camera("ts264")["status"]["viewers"] == 0, 10,
                 what="no viewer")

    def test_ts_byte_stream_h265(self):
        self.create({"id": "ts265", "name": "TS 265", "source": self.cam265.url(1)})
        self.wait_measured("ts265", "h265", 640, 360, 25)
        self.assertEqual(self.check_ts_stream("ts265", "h265", 25), (640, 360))

    def test_h265(self):
        self.create({"id": "hevc", "name": "HEVC", "source": self.cam265.url(1)})
        self.vigil.wait_state("hevc", "streaming", 5)
        self.wait_measured("hevc", "h265", 640, 360, 25)

    def test_udp_transport(self):
        self.create({"id": "udp", "name": "UDP", "source": self.cam264.url(2),
                     "rtsp_transport": "udp"})
        self.vigil.wait_state("udp", "streaming", 8)
        self.wait_measured("udp", "h264", 640, 360, 25)

    def test_auto_transport(self):
        """rtsp_transport "auto" (rtspsrc protocols=udp+tcp)
        against fakecam streams like the fixed transports."""
        self.create({"id": "auto", "name": "Auto", "source": self.cam264.url(2),
                     "rtsp_transport": "auto"})
        self.assertEqual(self.vigil.camera("auto")["rtsp_transport"], "auto")
        self.vigil.wait_state("auto", "streaming", 8)
        self.wait_measured("auto", "h264", 640, 360, 25)
        self.check_ts_stream("auto", "h264", 25, seconds=3)

    def test_credentials(self):
        self.create({"id": "badpw", "name": "Bad password", "source": self.cam_auth.url(1),
                     "username": "viewer", "password": "wrong-pass"})
        s = wait_for(lambda: (lambda s: s if s["error"] else None)(
            self.vigil.camera("badpw")["status"]), 10, what="credentials error")
        self.assertEqual(s["state"], "error")
        self.assertEqual(s["error"], "camera refused the credentials")
        # Fixing the password in place reconnects at once.
        r = self.vigil.request("PATCH", "/api/v1/cameras/badpw", {"password": "right-pass"})
        self.assertEqual(r.status, 200, r.body)
        self.vigil.wait_state("badpw", "streaming", 8)
        self.assertNotIn("wrong-pass", self.vigil.log_text())
        self.assertNotIn("right-pass", self.vigil.log_text())

    def test_credentials_with_reserved_characters(self):
        """A password with URL-reserved characters reaches the camera intact
        (percent-encoded for the RTSP client), through Digest or Basic."""
        password = "p@ss:w/rd?#%20&x"
        cam = Fakecam("--user", "cam user:" + password, "--size", "320x240", "--fps", "15",
                      "--bitrate", "300").start()
        try:
            self.create({"id": "reserved", "name": "Reserved", "source": cam.url(1),
                         "username": "cam user", "password": password})
            self.vigil.wait_state("reserved", "streaming", 8)
            self.assertNotIn(password, self.vigil.log_text())
            self.assertNotIn("p%40ss", self.vigil.log_text())
        finally:
            cam.stop()

    def test_credentials_in_url(self):
        url = self.cam_auth.url(1).replace("rtsp://", "rtsp://viewer:right-pass@")
        self.create({"id": "inurl", "name": "In URL", "source": url})
        self.vigil.wait_state("inurl", "streaming", 8)
        self.assertNotIn("right-pass", self.vigil.log_text())
        self.assertNotIn("right-pass", self.vigil.request("GET", "/api/v1/cameras/inurl").body
                         .decode())

    def test_rtsps_with_self_signed_certificate(self):
        """rtsps:// encrypts; cameras present self-signed certificates, which
        vigil accepts (docs/architecture.md)."""
        key, cert, pem = (os.path.join(self.tmp, n) for n in ("k.pem", "c.pem", "cam.pem"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "2", "-subj", "/CN=camera.local"],
                       check=True, capture_output=True)
        with open(pem, "wb") as out:
            for part in (cert, key):
                with open(part, "rb") as f:
                    out.write(f.read())
        cam = Fakecam("--tls", pem, "--size", "320x240", "--fps", "15", "--bitrate", "300").start()
        try:
            url = cam.url(1).replace("rtsp://", "rtsps://")
            self.create({"id": "tls", "name": "TLS", "source": url})
            s = self.vigil.wait_state("tls", "streaming", 8)["status"]
            self.assertEqual((s["codec"], s["width"], s["height"]), ("h264", 320, 240))
            # Plain RTSP to the TLS port is not mistaken for a camera.
            self.create({"id": "notls", "name": "No TLS", "source": cam.url(1)})
            s = wait_for(lambda: (lambda s: s if s["error"] else None)(
                self.vigil.camera("notls")["status"]), 12, what="an error for plain RTSP")
            self.assertNotEqual(s["state"], "streaming")
        finally:
            cam.stop()

    def other_front_end_streams(self, frontend):
        vigil = Vigil(env={"VIGIL_RTSP_FRONTEND": frontend}).start()
        try:
            r = vigil.request("POST", "/api/v1/cameras",
                              {"id": frontend, "name": frontend, "source": self.cam264.url(1)})
            self.assertEqual(r.status, 201, r.body)
            vigil.wait_state(frontend, "streaming", 8)
            path = os.path.join(self.tmp, frontend + ".ts")
            with open(path, "wb") as f:
                f.write(cut_at_last_frame(capture_live_ts(vigil, frontend, 3)))
            codec, w, h, frames, errors = ffprobe_frames(path)
            self.assertEqual((codec, w, h, errors), ("h264", 640, 360, ""))
            self.assertGreaterEqual(frames, 2.5 * 25)
        finally:
            vigil.cleanup()

    def test_gstreamer_front_end_still_streams(self):
        """VIGIL_RTSP_FRONTEND=gstreamer keeps rtspsrc (for side-by-side
        benchmarks): it must stream the same camera."""
        self.other_front_end_streams("gstreamer")

    def test_libav_front_end_still_streams(self):
        """VIGIL_RTSP_FRONTEND=libav reads rtsp:// with libavformat (what
        rtsps:// always uses): it must stream the same camera."""
        self.other_front_end_streams("libav")

    def test_connection_refused(self):
        port = free_port()
        self.create({"id": "nobody", "name": "Nobody home",
                     "source": f"rtsp://127.0.0.1:{port}/x"})
        s = wait_for(lambda: (lambda s: s if s["state"] == "offline" else None)(
            self.vigil.camera("nobody")["status"]), 10, what="offline")
        self.assertIn("connection refused", s["error"])
        # Backoff: it keeps trying, but not in a tight loop.
        time.sleep(4)
        reconnects = self.vigil.camera("nobody")["status"]["reconnects"]
        self.assertGreaterEqual(reconnects, 1)
        self.assertLessEqual(reconnects, 4)

    def test_camera_that_goes_away_comes_back(self):
        port = free_port()
        cam = Fakecam("--size", "320x240", "--fps", "15", "--bitrate", "300", port=port).start()
        try:
            self.create({"id": "flaky", "name": "Flaky", "source": cam.url(1)})
            self.vigil.wait_state("flaky", "streaming", 5)
            cam.stop()
            t0 = time.monotonic()
            s = self.vigil.wait_state("flaky", ("offline", "error"), 15)["status"]
            self.assertTrue(s["error"])
            # Other cameras are not disturbed meanwhile.
            self.assertEqual(self.vigil.camera("demo")["status"]["state"], "streaming")
            cam = Fakecam("--size", "320x240", "--fps", "15", "--bitrate", "300",
                          port=port).start()
            t1 = time.monotonic()
            s = self.vigil.wait_state("flaky", "streaming", 15)["status"]
            self.assertLess(time.monotonic() - t1, 15)
            self.assertGreaterEqual(s["reconnects"], 1)
            self.assertIsNone(s["error"])
            print(f"offline noticed after {t1 - t0:.1f} s, back after {time.monotonic() - t1:.1f} s")
        finally:
            cam.stop()

    def test_silent_camera_counts_as_dropped(self):
        """A camera that keeps its TCP connection open but sends nothing (here:
        a frozen process) is declared offline after 10 s and reconnected."""
        cam = Fakecam("--size", "320x240", "--fps", "15", "--bitrate", "300").start()
        try:
            self.create({"id": "frozen", "name": "Frozen", "source": cam.url(1)})
            self.vigil.wait_state("frozen", "streaming", 5)
            cam.proc.send_signal(signal.SIGSTOP)
            t0 = time.monotonic()
            s = self.vigil.wait_state("frozen", ("offline", "error"), 16)["status"]
            silent_for = time.monotonic() - t0
            self.assertGreaterEqual(silent_for, 9)
            self.assertIn("10 s", s["error"])
            cam.proc.send_signal(signal.SIGCONT)
            self.vigil.wait_state("frozen", "streaming", 15)
        finally:
            cam.proc.send_signal(signal.SIGCONT)
            cam.stop()

    def test_file_source_loops(self):
        path = os.path.join(self.tmp, "clip.ts")
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        "testsrc=size=320x240:rate=20", "-t", "3", "-c:v", "libx264",
                        "-g", "20", "-pix_fmt", "yuv420p", "-y", path], check=True)
        self.create({"id": "clip", "name": "Clip", "source": "file://" + path})
        self.vigil.wait_state("clip", "streaming", 5)
        # Past the end of the 3 s file it is still streaming (looped).
        time.sleep(5)
        s = self.vigil.camera("clip")["status"]
        self.assertEqual(s["state"], "streaming")
        self.assertEqual((s["codec"], s["width"], s["height"]), ("h264", 320, 240))
        self.assertTrue(approx(s["fps"], 20, 3), s)
        self.assertEqual(s["reconnects"], 0)
        # The stream stays continuous across the loop: it decodes cleanly.
        self.check_ts_stream("clip", "h264", 20, seconds=5)

    def test_srt_source(self):
        port = free_port()
        sender = subprocess.Popen(
            ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=320,height=240,framerate=20/1", "!", "x264enc",
             "tune=zerolatency", "key-int-max=20", "bitrate=300", "!", "mpegtsmux", "!",
             "srtsink", f"uri=srt://127.0.0.1:{port}?mode=listener", "wait-for-connection=false"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.create({"id": "srt", "name": "SRT", "source": f"srt://127.0.0.1:{port}"})
            s = self.vigil.wait_state("srt", "streaming", 15)["status"]
            self.assertEqual((s["codec"], s["width"], s["height"]), ("h264", 320, 240))
            self.check_ts_stream("srt", "h264", 20, seconds=4)
        finally:
            sender.terminate()
            sender.wait()

    def test_srt_listener_source(self):
        """SRT listener mode: vigil listens, a caller pushes into it."""
        port = free_port()
        self.create({"id": "srtl", "name": "SRT listener",
                     "source": f"srt://127.0.0.1:{port}?mode=listener"})
        sender = subprocess.Popen(
            ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
             "video/x-raw,width=320,height=240,framerate=20/1", "!", "x264enc",
             "tune=zerolatency", "key-int-max=20", "bitrate=300", "!", "mpegtsmux", "!",
             "srtsink", f"uri=srt://127.0.0.1:{port}?mode=caller"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            s = self.vigil.wait_state("srtl", "streaming", 20)["status"]
            self.assertEqual((s["codec"], s["width"], s["height"]), ("h264", 320, 240))
            self.check_ts_stream("srtl", "h264", 20, seconds=4)
        finally:
            sender.terminate()
            sender.wait()

    def test_hls_source(self):
        site = os.path.join(self.tmp, "hls")
        os.makedirs(site)
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        "testsrc=size=320x240:rate=20", "-t", "20", "-c:v", "libx264",
                        "-g", "20", "-pix_fmt", "yuv420p", "-f", "hls", "-hls_time", "2",
                        "-hls_list_size", "0", os.path.join(site, "index.m3u8")], check=True)
        port = free_port()
        server = subprocess.Popen(["python3", "-m", "http.server", "--bind", "127.0.0.1",
                                   str(port)], cwd=site, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: subprocess.run(["curl", "-fs", f"http://127.0.0.1:{port}/index.m3u8"],
                                            capture_output=True).returncode == 0, 10,
                     what="http.server")
            self.create({"id": "hls", "name": "HLS",
                         "source": f"http://127.0.0.1:{port}/index.m3u8"})
            s = self.vigil.wait_state("hls", "streaming", 15)["status"]
            self.assertEqual((s["codec"], s["width"], s["height"]), ("h264", 320, 240))
            self.check_ts_stream("hls", "h264", 20, seconds=4)
        finally:
            server.terminate()
            server.wait()

    def test_aac_audio_passes_through(self):
        cam = Fakecam("--audio", "--size", "320x240", "--fps", "15", "--bitrate", "300").start()
        try:
            self.create({"id": "audio", "name": "Audio", "source": cam.url(1)})
            self.vigil.wait_state("audio", "streaming", 8)
            data = capture_live_ts(self.vigil, "audio", 4)
            path = os.path.join(self.tmp, "audio-live.ts")
            with open(path, "wb") as f:
                f.write(cut_at_last_frame(data))
            out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                                  "stream=codec_type,codec_name", "-of", "csv=p=0", path],
                                 capture_output=True, text=True, check=True).stdout.split()
            self.assertIn("h264,video", out)
            self.assertIn("aac,audio", out)
            decode = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"],
                                    capture_output=True, text=True)
            self.assertEqual(decode.stderr, "")
            self.assertTrue(self.vigil.camera("audio")["status"]["audio"])
        finally:
            cam.stop()

    def test_file_without_video(self):
        path = os.path.join(self.tmp, "audio.ts")
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440",
                        "-t", "2", "-c:a", "aac", "-y", path], check=True)
        self.create({"id": "novideo", "name": "No video", "source": "file://" + path})
        s = wait_for(lambda: (lambda s: s if s["error"] else None)(
            self.vigil.camera("novideo")["status"]), 10, what="no video error")
        self.assertEqual(s["error"], "no video track")

    def test_missing_file(self):
        self.create({"id": "gone", "name": "Gone", "source": "file:///nonexistent/x.mp4"})
        s = wait_for(lambda: (lambda s: s if s["error"] else None)(
            self.vigil.camera("gone")["status"]), 10, what="missing file error")
        self.assertIn(s["state"], ("error", "offline"))

    def test_demo_camera(self):
        self.vigil.wait_state("demo", "streaming", 10)
        self.wait_measured("demo", "h264", 1280, 720, 30)

    def test_switching_source_and_disabling_apply_at_once(self):
        self.create({"id": "switch", "name": "Switch", "source": self.cam264.url(1)})
        self.wait_measured("switch", "h264", 640, 360, 25)
        r = self.vigil.request("PATCH", "/api/v1/cameras/switch", {"source": self.cam265.url(1)})
        self.assertEqual(r.status, 200)
        self.wait_measured("switch", "h265", 640, 360, 25)
        r = self.vigil.request("PATCH", "/api/v1/cameras/switch", {"enabled": False})
        self.assertEqual(r.json()["status"]["state"], "disabled")
        r = self.vigil.request("PATCH", "/api/v1/cameras/switch", {"enabled": True})
        self.vigil.wait_state("switch", "streaming", 5)
        self.assertEqual(self.vigil.request("DELETE", "/api/v1/cameras/switch").status, 204)


if __name__ == "__main__":
    harness.main()
