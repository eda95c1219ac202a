"""Live view against vigil-fakecam: the WebSocket stream (packet alignment,
first message, decodability), live.ts, live HLS, a stalled viewer that must
not hurt anyone else, 100 simultaneous viewers, /metrics."""
import base64
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import (ADMIN_PASSWORD, Fakecam, Vigil, WebSocket, capture_live_ts, cut_at_last_frame,
                     ffprobe_frames, ts_packets, wait_for)

FPS = 25
AUTH_HEADER = "Authorization: Basic " + base64.b64encode(
    f"admin:{ADMIN_PASSWORD}".encode()).decode()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def metric(text, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} ") or (not labels and line.startswith(name + " ")):
            return float(line.rsplit(" ", 1)[1])
    return None


def decode_errors(stderr):
    """ffmpeg's error lines, without the null muxer's complaints about two
    frames on one tick: those come from the camera's RTP clock jitter under
    load (the ingest's timestamps), not from decoding what vigil sent."""
    return [e for e in stderr.splitlines()
            if "non monotonically increasing dts to muxer" not in e]


def is_keyframe_packet(pkt, video_pid=0x100):
    """A video packet with random_access_indicator set."""
    pid = ((pkt[1] & 0x1F) << 8) | pkt[2]
    has_af = (pkt[3] & 0x20) != 0
    return pid == video_pid and has_af and pkt[4] > 0 and (pkt[5] & 0x40) != 0


class LiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fakecam = Fakecam("--size", "640x360", "--fps", str(FPS), "--gop", "1",
                              "--bitrate", "1000", "--scene", "motion:0").start()
        # 8 Mbps, to fill a stalled viewer's queue and socket buffers quickly.
        cls.fastcam = Fakecam("--size", "1280x720", "--fps", str(FPS), "--gop", "1",
                              "--bitrate", "8000", "--scene", "noise").start()
        cls.vigil = Vigil().start()
        for name, cam in (("cam", cls.fakecam), ("fast", cls.fastcam)):
            r = cls.vigil.request("POST", "/api/v1/cameras", {"name": name, "source": cam.url()})
            assert r.status == 201, r.body
        cls.vigil.wait_state("cam", "streaming", 30)
        cls.vigil.wait_state("fast", "streaming", 30)

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.fakecam.stop()
        cls.fastcam.stop()

    def ws_capture(self, seconds, cam="cam"):
        ws = WebSocket(self.vigil, f"/api/v1/cameras/{cam}/live")
        self.assertEqual(ws.status, 101, ws.headers)
        messages = []
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                op, payload = ws.recv()
                self.assertEqual(op, 2, "binary messages only")
                messages.append(payload)
        finally:
            ws.close()
        return messages

    def test_ws_stream_is_whole_packets_and_decodes(self):
        messages = self.ws_capture(5)
        self.assertGreater(len(messages), 5 * FPS * 0.8)
        for m in messages:
            self.assertEqual(len(m) % 188, 0, "every message is whole TS packets")
            self.assertTrue(all(m[i] == 0x47 for i in range(0, len(m), 188)), "sync bytes")
        first = messages[0]
        pids = [pid for pid, _ in ts_packets(first)]
        self.assertEqual(pids[0], 0, "the first packet is the PAT")
        # The PAT's first program gives the PMT's PID.
        pat = first[5:]
        pmt_pid = ((pat[10] & 0x1F) << 8) | pat[11]
        self.assertEqual(pids[1], pmt_pid, "the second packet is the PMT")
        self.assertTrue(any(is_keyframe_packet(first[i:i + 188])
                            for i in range(0, len(first), 188)), "first message holds a keyframe")
        data = cut_at_last_frame(b"".join(messages))
        with tempfile.NamedTemporaryFile(suffix=".ts") as f:
            f.write(data)
            f.flush()
            codec, w, h, frames, errors = ffprobe_frames(f.name)
        self.assertEqual((codec, w, h), ("h264", 640, 360))
        self.assertEqual(decode_errors(errors), [], "ffmpeg decodes without errors")
        # 5 s of video, plus the part of the current GOP (< 1 s) sent first.
        self.assertGreaterEqual(frames, 5 * FPS - 5)
        self.assertLessEqual(frames, 6 * FPS + 5)

    def test_ws_needs_credentials_and_same_origin(self):
        ws = WebSocket(self.vigil, "/api/v1/cameras/cam/live", auth=None)
        self.assertEqual(ws.status, 401)
        ws.sock.close()
        ws = WebSocket(self.vigil, "/api/v1/cameras/cam/live",
                       headers={"Origin": "http://evil.example"})
        self.assertEqual(ws.status, 403)
        ws.sock.close()
        ws = WebSocket(self.vigil, "/api/v1/cameras/nope/live")
        self.assertEqual(ws.status, 404)
        ws.sock.close()
        ws = WebSocket(self.vigil, "/api/v1/cameras/cam/live",
                       headers={"Origin": f"http://127.0.0.1:{self.vigil.port}"})
        self.assertEqual(ws.status, 101)
        ws.close()
        # Plain GET without the upgrade.
        self.assertEqual(self.vigil.request("GET", "/api/v1/cameras/cam/live").status, 400)

    def test_ws_ping_and_close(self):
        ws = WebSocket(self.vigil, "/api/v1/cameras/cam/live")
        ws.send_control(0x9, b"hi")
        deadline = time.monotonic() + 5
        pong = None
        while time.monotonic() < deadline and pong is None:
            op, payload = ws.recv()
            if op == 0xA:
                pong = payload
        self.assertEqual(pong, b"hi")
        ws.send_control(0x8, (1000).to_bytes(2, "big"))
        ops = []
        try:
            while True:
                op, _ = ws.recv()
                ops.append(op)
        except (EOFError, OSError):
            pass
        self.assertEqual(ops[-1:], [0x8], "the server answers close and closes")
        ws.sock.close()
        wait_for(lambda: self.vigil.camera("cam")["status"]["viewers"] == 0, 5,
                 what="viewer count back to 0")

    def test_live_ts_reads_with_ffprobe(self):
        data = cut_at_last_frame(capture_live_ts(self.vigil, "cam", 3))
        with tempfile.NamedTemporaryFile(suffix=".ts") as f:
            f.write(data)
            f.flush()
            codec, w, h, frames, errors = ffprobe_frames(f.name)
        self.assertEqual((codec, w, h), ("h264", 640, 360))
        self.assertGreater(frames, 2 * FPS)

    def test_hls(self):
        r = self.vigil.request("GET", "/api/v1/cameras/cam/live.m3u8", timeout=20)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "application/vnd.apple.mpegurl")
        text = r.body.decode()
        self.assertTrue(text.startswith("#EXTM3U\n"))
        target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1))
        self.assertIn(target, (1, 2))
        self.assertIsNotNone(re.search(r"#EXT-X-MEDIA-SEQUENCE:\d+", text))
        # Wait for a few segments.
        time.sleep(3)
        text = self.vigil.request("GET", "/api/v1/cameras/cam/live.m3u8").body.decode()
        segs = re.findall(r"^live/(\d+)\.ts$", text, re.M)
        durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+),", text)]
        self.assertGreaterEqual(len(segs), 3, text)
        self.assertTrue(all(0.9 <= d <= target for d in durations), durations)
        seg = self.vigil.request("GET", f"/api/v1/cameras/cam/live/{segs[-1]}.ts")
        self.assertEqual(seg.status, 200)
        self.assertEqual(seg.headers["Content-Type"], "video/mp2t")
        self.assertEqual(seg.body[0], 0x47)
        self.assertEqual(ts_packets(seg.body)[0][0], 0, "a segment starts with the PAT")
        self.assertEqual(self.vigil.request("GET", "/api/v1/cameras/cam/live/999999.ts").status,
                         404)
        url = f"{self.vigil.base}/api/v1/cameras/cam/live.m3u8"
        probe = subprocess.run(["ffprobe", "-v", "error", "-headers", AUTH_HEADER + "\r\n",
                                "-show_entries", "stream=codec_name,width,height", "-of",
                                "csv=p=0", url], capture_output=True, text=True, timeout=30)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        self.assertIn("h264,640,360", probe.stdout)
        play = subprocess.run(["ffmpeg", "-v", "error", "-headers", AUTH_HEADER + "\r\n",
                               "-i", url, "-t", "4", "-f", "null", "-"],
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(play.returncode, 0, play.stderr)
        self.assertEqual(decode_errors(play.stderr), [])
        m = self.vigil.request("GET", "/metrics").body.decode()
        self.assertGreaterEqual(metric(m, "vigil_live_viewers", camera="cam", transport="hls"), 1)

    def test_stalled_viewer_hurts_nobody(self):
        pid = self.vigil.proc.pid
        rss_before = rss_kib(pid)
        # A viewer that never reads, with the smallest receive buffer.
        stalled = WebSocket(self.vigil, "/api/v1/cameras/fast/live", rcvbuf=4096)
        self.assertEqual(stalled.status, 101)
        # And a live.ts client that never reads.
        stalled_ts = socket.create_connection(("127.0.0.1", self.vigil.port))
        stalled_ts.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled_ts.sendall(("GET /api/v1/cameras/fast/live.ts HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            + AUTH_HEADER + "\r\n\r\n").encode())
        good = WebSocket(self.vigil, "/api/v1/cameras/fast/live")
        got = 0
        peak = rss_before
        start = time.monotonic()
        closed = False
        next_check = start
        while time.monotonic() - start < 45:
            _, payload = good.recv()
            got += len(payload)
            if time.monotonic() >= next_check:
                next_check += 0.5
                peak = max(peak, rss_kib(pid))
                m = self.vigil.request("GET", "/metrics").body.decode()
                if metric(m, "vigil_live_slow_disconnects_total", camera="fast") >= 2:
                    closed = True
                    break
        elapsed = time.monotonic() - start
        good.close()
        stalled.sock.close()
        stalled_ts.close()
        m = self.vigil.request("GET", "/metrics").body.decode()
        self.assertTrue(closed, "both stalled viewers were closed after their grace period")
        self.assertEqual(metric(m, "vigil_live_viewers", camera="fast", transport="ts"), 0)
        self.assertGreater(metric(m, "vigil_live_gops_dropped_total", camera="fast"), 0)
        # The reading viewer kept receiving the full 8 Mbps stream meanwhile.
        self.assertGreater(got * 8 / elapsed, 0.7 * 8000 * 1000, (got, elapsed))
        # Bounded: the 4 MiB queue plus some slack, not the whole stream (45 s
        # at 8 Mbps would be 45 MB). ASan's quarantine keeps freed memory
        # resident, so RSS says nothing there.
        print(f"stalled viewer: RSS {rss_before} -> peak {peak} KiB, closed after {elapsed:.1f} s",
              file=sys.stderr)
        if "ASAN_OPTIONS" not in os.environ:
            self.assertLess(peak - rss_before, 24 * 1024, (rss_before, peak))

    def test_100_viewers(self):
        n = 100
        sockets = []
        for _ in range(n):
            ws = WebSocket(self.vigil, "/api/v1/cameras/cam/live")
            self.assertEqual(ws.status, 101)
            sockets.append(ws)
        wait_for(lambda: self.vigil.camera("cam")["status"]["viewers"] >= n, 5,
                 what="100 viewers counted")
        got = {ws.sock.fileno(): len(ws.buf) for ws in sockets}
        first = {ws.sock.fileno(): ws.buf[:1] for ws in sockets}
        for ws in sockets:
            ws.sock.setblocking(False)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            ready, _, _ = select.select([ws.sock for ws in sockets], [], [], 0.5)
            for s in ready:
                data = s.recv(1 << 16)
                got[s.fileno()] += len(data)
                if not first[s.fileno()]:
                    first[s.fileno()] = data[:3]
        for ws in sockets:
            ws.sock.close()
        # Every viewer got about 4 s of a 1 Mbps stream (plus the first GOP).
        low = min(got.values())
        self.assertGreater(low, 3 * 1000 * 1000 / 8 * 0.8, sorted(got.values())[:5])
        # The first frame of each is a binary message (0x82).
        self.assertTrue(all(f[:1] == b"\x82" for f in first.values()))
        wait_for(lambda: self.vigil.camera("cam")["status"]["viewers"] == 0, 10,
                 what="viewers gone")

    def test_metrics(self):
        r = self.vigil.request("GET", "/metrics", auth=None)
        self.assertEqual(r.status, 401)
        r = self.vigil.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
        text = r.body.decode()
        self.assertEqual(metric(text, "vigil_camera_state", camera="cam", state="streaming"), 1)
        self.assertIsNotNone(metric(text, "vigil_live_send_latency_seconds_count"))
        # The heap as the allocator (jemalloc, or glibc's) counts it
        # (docs/soak.md): in use within what it holds, both within the
        # process's whole address space. Built with AddressSanitizer (make
        # test-asan), malloc is ASan's and the lines are left out.
        in_use = metric(text, "vigil_heap_in_use_bytes")
        held = metric(text, "vigil_heap_held_bytes")
        with open(f"/proc/{self.vigil.proc.pid}/maps") as f:
            if "libasan" in f.read():
                self.assertEqual((in_use, held), (None, None), text)
                return
        with open(f"/proc/{self.vigil.proc.pid}/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        self.assertGreater(in_use, 1_000_000)
        self.assertLessEqual(in_use, held)
        self.assertLess(held, size)
        # SQLite's share of the heap in use (its page cache holds the schema
        # and the rows read so far at least).
        sqlite = metric(text, "vigil_heap_sqlite_bytes")
        self.assertGreater(sqlite, 10_000)
        self.assertLess(sqlite, in_use)
        # jemalloc says where the rest is (glibc's malloc does not), with
        # the relations its manual gives: the active pages hold what vigil
        # holds (its threads' caches among it) and are within what is
        # mapped and what is resident.
        names = ("active", "dirty", "metadata", "resident", "retained", "cached")
        parts = {n: metric(text, f"vigil_heap_{n}_bytes") for n in names}
        with open(f"/proc/{self.vigil.proc.pid}/maps") as f:
            jemalloc = "libjemalloc" in f.read()
        if not jemalloc:
            self.assertEqual(set(parts.values()), {None}, text)
            return
        self.assertNotIn(None, parts.values(), text)
        self.assertLessEqual(in_use, parts["active"])
        self.assertLess(parts["cached"], in_use)
        self.assertLessEqual(parts["active"], held)
        self.assertLessEqual(parts["active"], parts["resident"])
        self.assertGreater(parts["metadata"], 0)
        self.assertLess(parts["resident"] + parts["retained"], size)

    def test_web_assets(self):
        r = self.vigil.request("GET", "/live/cam")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn(b"live-page.js", r.body)
        r = self.vigil.request("GET", "/static/vendor/mpegts.js")
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/javascript"))
        self.assertGreater(len(r.body), 100000)
        etag = r.headers["ETag"]
        r = self.vigil.request("GET", "/static/vendor/mpegts.js", headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304)
        self.assertEqual(self.vigil.request("GET", "/static/../main.c").status, 404)
        # Pages hold no data (the API does): they load without a login.
        self.assertEqual(self.vigil.request("GET", "/live/cam", auth=None).status, 200)


if __name__ == "__main__":
    harness.main()
