"""Recording against vigil-fakecam over RTSP on loopback: continuous, manual
and event recordings with pre-roll, playlists that ffmpeg decodes from disk
and through the API, MP4 export, crash repair after kill -9, a full disk,
retention by age and by quota, and path traversal."""
import glob
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest
import urllib.request

import harness
from harness import ADMIN_PASSWORD, Fakecam, Vigil, capture_live_ts, wait_for


def parse_time(text):
    # 2026-11-25T13:45:01.250Z
    import datetime
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def playlist_info(text):
    """(total EXTINF seconds, [segment URIs], has ENDLIST, count of PROGRAM-DATE-TIME)."""
    total, uris, pdt = 0.0, [], 0
    for line in text.splitlines():
        if line.startswith("#EXTINF:"):
            total += float(line[8:].split(",")[0])
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pdt += 1
        elif line and not line.startswith("#"):
            uris.append(line)
    return total, uris, "#EXT-X-ENDLIST" in text, pdt


def ffmpeg_decode(url):
    """(exit code, error output) of a full decode. One message is left out:
    "non monotonically increasing dts" from the null muxer, which the live
    stream itself shows now and then with the current fakecam snapshot (the
    live.ts checks of test_ingest fail on it at commit 3666d05, before any
    recording code); recording copies the stream's bytes as they are."""
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", url, "-f", "null", "-"],
                       capture_output=True, text=True, timeout=120)
    errors = "".join(l + "\n" for l in r.stderr.splitlines()
                     if "non monotonically increasing dts" not in l)
    return r.returncode, errors


def rec_dir(vigil, rec):
    # The API does not expose the path; the index does.
    db = sqlite3.connect(os.path.join(vigil.data_dir, "vigil.db"))
    try:
        (path,) = db.execute("SELECT path FROM recordings WHERE id = ?", (rec["id"],)).fetchone()
    finally:
        db.close()
    return os.path.join(vigil.data_dir, "recordings", path)


def index_segments(vigil, rec_id):
    db = sqlite3.connect(os.path.join(vigil.data_dir, "vigil.db"))
    try:
        return db.execute("SELECT seq, size_bytes FROM segments WHERE recording = ? ORDER BY seq",
                          (rec_id,)).fetchall()
    finally:
        db.close()


def recordings(vigil, camera):
    r = vigil.request("GET", f"/api/v1/recordings?camera={camera}")
    assert r.status == 200, (r.status, r.body)
    return r.json()


FAKECAM_ARGS = ["--size", "640x360", "--fps", "25", "--gop", "1", "--bitrate", "800",
                "--scene", "static"]


class RecordTest(unittest.TestCase):
    """One daemon, several cameras recording side by side."""

    @classmethod
    def setUpClass(cls):
        cls.cam = Fakecam("--cameras", "3", *FAKECAM_ARGS).start()
        cls.vigil = Vigil().start()
        cls.cont_created = time.time()
        r = cls.vigil.request("POST", "/api/v1/cameras", {
            "id": "cont", "name": "Continuous", "source": cls.cam.url(1), "record": "continuous"})
        assert r.status == 201, r.body
        cls.vigil.wait_state("cont", "streaming", 10)
        cls.cont_streaming = time.time()

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.cam.stop()

    def test_a_manual_start_stop(self):
        v = self.vigil
        r = v.request("POST", "/api/v1/cameras", {
            "id": "man", "name": "Manual", "source": self.cam.url(2), "record": "off"})
        self.assertEqual(r.status, 201, r.body)
        v.wait_state("man", "streaming", 10)
        self.assertFalse(v.camera("man")["status"]["recording"])
        time.sleep(1.5)
        self.assertEqual(recordings(v, "man"), [])  # nothing written while nothing records
        self.assertFalse(os.path.exists(os.path.join(v.data_dir, "recordings", "man")))

        # Bad bodies and rights.
        self.assertEqual(v.request("POST", "/api/v1/cameras/man/recording",
                                   {"action": "pause"}).status, 400)
        self.assertEqual(v.request("GET", "/api/v1/cameras/man/recording").status, 405)
        self.assertEqual(v.request("POST", "/api/v1/cameras/nope/recording",
                                   {"action": "start"}).status, 404)

        r = v.request("POST", "/api/v1/cameras/man/recording", {"action": "start"})
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["status"]["recording"])
        time.sleep(5)
        r = v.request("POST", "/api/v1/cameras/man/recording", {"action": "stop"})
        self.assertEqual(r.status, 200, r.body)
        self.assertFalse(r.json()["status"]["recording"])
        recs = wait_for(lambda: recordings(v, "man"), 10, what="the manual recording")
        self.assertEqual(len(recs), 1)
        rec = recs[0]
        self.assertEqual(rec["reason"], "manual")
        self.assertEqual(set(rec), {"id", "camera", "start", "end", "duration_s", "reason",
                                    "size_bytes", "keep", "thumbnail", "playlist",
                                    "sub_playlist", "events"})
        self.assertIsNone(rec["sub_playlist"])  # no sub stream (test_record_sub)
        self.assertGreater(rec["duration_s"], 3.5)
        self.assertLess(rec["duration_s"], 8)
        pl = wait_for(lambda: (lambda t: t if "#EXT-X-ENDLIST" in t else None)(
            v.request("GET", rec["playlist"]).body.decode()), 10, what="a closed playlist")
        self.assertIn("#EXT-X-PLAYLIST-TYPE:VOD", pl)
        # Thumbnail: a real JPEG.
        r = v.request("GET", rec["thumbnail"])
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "image/jpeg")
        self.assertEqual(r.body[:2], b"\xff\xd8")
        # keep / delete
        r = v.request("PATCH", f"/api/v1/recordings/{rec['id']}", {"keep": True})
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.json()["keep"])
        self.assertEqual(v.request("PATCH", f"/api/v1/recordings/{rec['id']}",
                                   {"keep": "yes"}).status, 400)
        self.assertEqual(v.request("PATCH", f"/api/v1/recordings/{rec['id']}",
                                   {"start": "x"}).status, 400)
        path = rec_dir(v, rec)
        self.assertTrue(os.path.isdir(path))
        # Export whose files vanished behind vigil's back: a clear error, no hang.
        r = v.request("GET", f"/api/v1/recordings/{rec['id']}/export.mp4")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.body[4:8], b"ftyp")
        for ts in glob.glob(os.path.join(path, "*.ts")):
            os.unlink(ts)
        r = v.request("GET", f"/api/v1/recordings/{rec['id']}/export.mp4", timeout=20)
        self.assertEqual(r.status, 404, r.body)
        self.assertEqual(v.request("DELETE", f"/api/v1/recordings/{rec['id']}").status, 204)
        self.assertFalse(os.path.exists(path))
        self.assertEqual(v.request("GET", f"/api/v1/recordings/{rec['id']}").status, 404)

    def test_b_events_with_pre_roll(self):
        v = self.vigil
        r = v.request("POST", "/api/v1/cameras", {
            "id": "ev", "name": "Events", "source": self.cam.url(3), "record": "events",
            "pre_roll_s": 3, "post_roll_s": 1})
        self.assertEqual(r.status, 201, r.body)
        v.wait_state("ev", "streaming", 10)
        time.sleep(5)  # fill the pre-roll
        trigger = time.time()
        self.assertEqual(v.request("POST", "/api/v1/cameras/ev/recording",
                                   {"action": "start"}).status, 200)
        time.sleep(3)
        self.assertEqual(v.request("POST", "/api/v1/cameras/ev/recording",
                                   {"action": "stop"}).status, 200)
        recs = wait_for(lambda: recordings(v, "ev"), 10, what="the event recording")
        start = parse_time(recs[0]["start"])
        # At least pre_roll_s before the trigger (whole GOPs: up to 1 GOP more).
        self.assertLessEqual(start, trigger - 3 + 0.1, (recs[0], trigger))
        self.assertGreater(start, trigger - 5.5)
        self.assertEqual(recs[0]["reason"], "manual")

    def test_c_traversal_rejected(self):
        v = self.vigil
        recs = wait_for(lambda: recordings(v, "cont"), 15, what="a continuous recording")
        rid = recs[0]["id"]
        base = f"/api/v1/recordings/{rid}"
        self.assertEqual(v.request("GET", base + "/segments/000001.ts").status, 200)
        for bad in ["/segments/../../../vigil.db", "/segments/..%2F..%2F..%2Fvigil.db",
                    "/segments/%2e%2e%2fvigil.db", "/segments/000001.ts/..",
                    "/segments/999999.ts", "/segments/00001.ts", "/segments/0000001.ts",
                    "/../../vigil.db", "/thumbnail.jpg/../../vigil.db"]:
            r = v.request("GET", base + bad)
            self.assertIn(r.status, (400, 404), bad)
            self.assertNotIn(b"SQLite", r.body, bad)
        for bad_id in ["0", "-1", "1e3", "..", "%2e%2e", "1.0", "99999999"]:
            self.assertEqual(v.request("GET", f"/api/v1/recordings/{bad_id}").status, 404, bad_id)
        # Raw request: urllib would normalise nothing, but be sure with a socket.
        import socket
        import base64
        s = socket.create_connection(("127.0.0.1", v.port))
        tok = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        s.sendall(f"GET {base}/segments/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Basic {tok}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            block = s.recv(65536)
            if not block:
                break
            data += block
        s.close()
        self.assertNotIn(b"root:", data)
        self.assertRegex(data.split(b"\r\n")[0], rb" (400|404) ")
        # Bad query strings.
        self.assertEqual(v.request("GET", "/api/v1/recordings?from=yesterday").status, 400)
        self.assertEqual(v.request("GET", "/api/v1/recordings?limit=0").status, 400)
        self.assertEqual(v.request("GET", "/api/v1/recordings?camera=../x").status, 400)

    def test_z_continuous_30_s(self):
        v = self.vigil
        # Let the continuous camera run ~30 s in all.
        time.sleep(max(0, 32 - (time.time() - self.cont_streaming)))
        self.assertTrue(v.camera("cont")["status"]["recording"])
        recs = recordings(v, "cont")
        self.assertEqual(len(recs), 1, recs)
        rec = recs[0]
        self.assertEqual(rec["reason"], "continuous")
        d = rec_dir(v, rec)
        with open(os.path.join(d, "playlist.m3u8")) as f:
            open_text = f.read()
        self.assertNotIn("#EXT-X-ENDLIST", open_text)  # still open
        # Grown by appends: whole entries, one time per segment, a target
        # duration (twice the longest at its first write) above every one.
        _, open_uris, _, open_pdt = playlist_info(open_text)
        self.assertGreaterEqual(len(open_uris), 10)
        self.assertEqual(open_pdt, len(open_uris))
        target = int(open_text.split("#EXT-X-TARGETDURATION:")[1].split()[0])
        self.assertTrue(all(round(float(l[8:].split(",")[0])) <= target
                            for l in open_text.splitlines() if l.startswith("#EXTINF:")))
        # What it cost the disk, from vigil's counters: 3 fsyncs a segment
        # (file, playlist, directory), and a few more for settings.
        m = {l.split()[0]: float(l.split()[1]) for l in v.request("GET", "/metrics").body.decode()
             .splitlines() if l.startswith(("vigil_fsyncs_total", "vigil_record_segments_total"))}
        self.assertGreaterEqual(m["vigil_record_segments_total"], len(open_uris))
        self.assertGreaterEqual(m["vigil_fsyncs_total"], 3 * m["vigil_record_segments_total"])
        # Mode "off" closes the recording at once.
        self.assertEqual(v.request("PATCH", "/api/v1/cameras/cont", {"record": "off"}).status, 200)
        closed_at = time.time()
        self.assertFalse(v.camera("cont")["status"]["recording"])
        wait_for(lambda: "#EXT-X-ENDLIST" in open(os.path.join(d, "playlist.m3u8")).read(), 10,
                 what="ENDLIST after record off")
        rec = v.request("GET", f"/api/v1/recordings/{rec['id']}").json()
        with open(os.path.join(d, "playlist.m3u8")) as f:
            disk_text = f.read()
        total, uris, closed, pdt = playlist_info(disk_text)
        self.assertTrue(closed)
        self.assertEqual(pdt, len(uris))
        # Total duration within 5 % of the wall time it recorded.
        wall = closed_at - parse_time(rec["start"])
        self.assertGreater(wall, 25)
        self.assertAlmostEqual(total, wall, delta=0.05 * wall)
        span = parse_time(rec["end"]) - parse_time(rec["start"])
        self.assertAlmostEqual(total, span, delta=0.05 * span)
        # Segments on disk match the index.
        on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, "*.ts")))
        indexed = index_segments(v, rec["id"])
        self.assertEqual([f"{seq:06d}.ts" for seq, _ in indexed], uris)
        self.assertEqual(on_disk, uris)
        for seq, size in indexed:
            self.assertEqual(os.path.getsize(os.path.join(d, f"{seq:06d}.ts")), size)
        self.assertEqual(sum(s for _, s in indexed), rec["size_bytes"])
        # Segments of about 2 s.
        durations = [float(l[8:].split(",")[0]) for l in disk_text.splitlines()
                     if l.startswith("#EXTINF:")]
        self.assertTrue(all(1.5 <= x <= 3.2 for x in durations[1:-1]), durations)

        rc, err = ffmpeg_decode(os.path.join(d, "playlist.m3u8"))
        self.assertEqual((rc, err), (0, ""))
        url = f"http://admin:{ADMIN_PASSWORD}@127.0.0.1:{v.port}{rec['playlist']}"
        rc, err = ffmpeg_decode(url)
        self.assertEqual((rc, err), (0, ""))
        api_text = v.request("GET", rec["playlist"]).body.decode()
        self.assertIn("segments/000001.ts", api_text)

        # MP4 export: the source's codec, profile and size, and it plays.
        out = os.path.join(v.data_dir, "export.mp4")
        r = v.request("GET", f"/api/v1/recordings/{rec['id']}/export.mp4", timeout=60)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "video/mp4")
        with open(out, "wb") as f:
            f.write(r.body)
        probe = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries",
             "stream=codec_name,profile,width,height:format=duration", "-of", "json", out],
            capture_output=True, text=True, check=True).stdout)
        src = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,profile,width,height",
             "-of", "json", os.path.join(d, "000001.ts")],
            capture_output=True, text=True, check=True).stdout)
        vs = [s for s in probe["streams"] if s.get("width")][0]
        ss = [s for s in src["streams"] if s.get("width")][0]
        self.assertEqual((vs["codec_name"], vs["profile"], vs["width"], vs["height"]),
                         (ss["codec_name"], ss["profile"], ss["width"], ss["height"]))
        self.assertAlmostEqual(float(probe["format"]["duration"]), total, delta=1.0)
        rc, err = ffmpeg_decode(out)
        self.assertEqual((rc, err), (0, ""))
        # The camera time range export.
        r = v.request("GET", f"/api/v1/cameras/cont/export.mp4?from={rec['start']}&to={rec['end']}",
                      timeout=60)
        self.assertEqual(r.status, 200)
        self.assertGreater(len(r.body), rec["size_bytes"] // 2)
        self.assertEqual(v.request("GET", "/api/v1/cameras/cont/export.mp4").status, 400)
        self.assertEqual(v.request(
            "GET", "/api/v1/cameras/cont/export.mp4?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z"
        ).status, 404)


class CrashTest(unittest.TestCase):
    def test_kill_9_and_restart(self):
        cam = Fakecam(*FAKECAM_ARGS).start()
        v = Vigil().start()
        try:
            v.request("POST", "/api/v1/cameras", {"id": "k", "name": "K", "source": cam.url(1),
                                                  "record": "continuous"})
            v.wait_state("k", "streaming", 10)
            time.sleep(8)
            v.proc.send_signal(signal.SIGKILL)
            v.proc.wait()
            v.log.close()
            first = glob.glob(os.path.join(v.data_dir, "recordings", "k", "*", "*"))
            self.assertEqual(len(first), 1)
            with open(os.path.join(first[0], "playlist.m3u8")) as f:
                self.assertNotIn("#EXT-X-ENDLIST", f.read())
            v2 = Vigil(data_dir=v.data_dir)
            v2.start()
            try:
                with open(os.path.join(first[0], "playlist.m3u8")) as f:
                    text = f.read()
                total, uris, closed, _ = playlist_info(text)
                self.assertTrue(closed)
                self.assertGreater(total, 3)
                on_disk = sorted(os.path.basename(p)
                                 for p in glob.glob(os.path.join(first[0], "*.ts")))
                self.assertEqual(on_disk, uris)  # the partial segment is gone
                rc, err = ffmpeg_decode(os.path.join(first[0], "playlist.m3u8"))
                self.assertEqual((rc, err), (0, ""))
                recs = wait_for(lambda: (lambda r: r if len(r) == 2 else None)(recordings(v2, "k")),
                                20, what="a new recording after the restart")
                old = recs[1]
                self.assertEqual([f"{s:06d}.ts" for s, _ in index_segments(v2, old["id"])], uris)
                self.assertIn("#EXT-X-ENDLIST", v2.request("GET", old["playlist"]).body.decode())
                self.assertTrue(v2.camera("k")["status"]["recording"])
                self.assertIn("repair", v2.log_text())
            finally:
                v2.stop()
        finally:
            v.cleanup()
            cam.stop()


class SplitTest(unittest.TestCase):
    def test_split_at_maximum_length_without_gap(self):
        cam = Fakecam(*FAKECAM_ARGS).start()
        v = Vigil(env={"VIGIL_RECORD_MAX_S": "5"}).start()
        try:
            v.request("POST", "/api/v1/cameras", {"id": "s", "name": "S", "source": cam.url(1),
                                                  "record": "continuous"})
            v.wait_state("s", "streaming", 10)
            wait_for(lambda: len(recordings(v, "s")) >= 3, 30, what="three recordings")
            v.request("PATCH", "/api/v1/cameras/s", {"record": "off"})
            time.sleep(1)
            recs = sorted(recordings(v, "s"), key=lambda r: r["start"])
            for a, b in zip(recs, recs[1:]):
                self.assertEqual(a["reason"], "continuous")
                self.assertAlmostEqual(a["duration_s"], 5, delta=0.5)
                # The next one starts where this one ended: no gap, no overlap.
                self.assertAlmostEqual(parse_time(b["start"]), parse_time(a["end"]), delta=0.05)
                rc, err = ffmpeg_decode(os.path.join(rec_dir(v, a), "playlist.m3u8"))
                self.assertEqual((rc, err), (0, ""))
        finally:
            v.cleanup()
            cam.stop()


FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


class ClockJumpTest(unittest.TestCase):
    """The wall clock stepped back and forward under a running vigil (NTP
    correcting a board without a battery-backed clock, an admin's `date -s`).
    Only vigil's clock moves: libfaketime (Debian's libfaketime) reads the
    offset from a file, the monotonic clock stays real. docs/recording.md,
    "Wall-clock steps"."""

    def test_wall_clock_steps_lose_nothing(self):
        harness.require(self, os.path.exists(FAKETIME_LIB), "libfaketime is not installed")
        # libfaketime initialises itself lazily, in the first clock call it
        # wraps, with dlsym(), which allocates. When that first call comes
        # from jemalloc inside a malloc (its decay clock), the dlsym's
        # malloc waits for jemalloc's lock, held by that same malloc: vigil
        # hangs as it starts (seen with Debian 12's libfaketime 0.9.10 and
        # jemalloc 5.3.0). So this test runs in make test-asan, whose build
        # never links jemalloc (the sanitizer's allocator answers malloc).
        ldd = subprocess.run(["ldd", harness.VIGIL_BIN], capture_output=True, text=True).stdout
        if "libjemalloc" in ldd:
            self.skipTest("vigil runs on jemalloc, which libfaketime deadlocks; "
                          "make test-asan (not on jemalloc) runs this test")
        work = tempfile.mkdtemp(prefix="vigil-clock-")
        offset = os.path.join(work, "offset")
        with open(offset, "w") as f:
            f.write("+0\n")
        cam = Fakecam(*FAKECAM_ARGS).start()
        v = Vigil(env={"VIGIL_RECORD_MAX_S": "6", "LD_PRELOAD": FAKETIME_LIB,
                       "FAKETIME_TIMESTAMP_FILE": offset, "FAKETIME_CACHE_DURATION": "1",
                       "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                       # An ASan build wants its runtime first; libfaketime
                       # only wraps the clock calls, ASan does not.
                       "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")
                       + ":verify_asan_link_order=0"}).start()

        def step(text):
            with open(offset, "w") as f:
                f.write(text + "\n")
            time.sleep(1.5)  # libfaketime reads the file at most once a second

        try:
            r = v.request("POST", "/api/v1/cameras", {"id": "c", "name": "C", "source": cam.url(1),
                                                      "record": "continuous"})
            self.assertEqual(r.status, 201, r.body)
            v.wait_state("c", "streaming", 20)
            started = time.monotonic()
            time.sleep(8)
            step("-1h")  # back an hour
            time.sleep(14)
            step("+0")  # and forward again
            time.sleep(12)
            elapsed = time.monotonic() - started
            cam_status = v.camera("c")["status"]
            self.assertEqual(cam_status["state"], "streaming")
            self.assertTrue(cam_status["recording"])
            # No reconnect: no timer of the camera runs on the wall clock.
            self.assertEqual(cam_status.get("reconnects", 0), 0, cam_status)
            self.assertEqual(v.request("PATCH", "/api/v1/cameras/c", {"record": "off"}).status, 200)
            wait_for(lambda: not v.camera("c")["status"]["recording"], 10, what="recording closed")
            # The last recording's index rows land once its writer is done.
            seen = []

            def settled():
                seen.append(sorted(recordings(v, "c"), key=lambda r: r["id"]))
                return len(seen) > 1 and seen[-1] == seen[-2]
            wait_for(settled, 20, interval=1.5, what="the recordings list settled")
            recs = seen[-1]
            self.assertGreaterEqual(len(recs), 5, recs)
            # Every recording is whole and plays; its times come from the
            # stream's own clock, so none is stretched or shrunk by a step.
            total = 0.0
            for rec in recs:
                span = parse_time(rec["end"]) - parse_time(rec["start"])
                self.assertAlmostEqual(span, rec["duration_s"], delta=0.1, msg=rec)
                self.assertLessEqual(rec["duration_s"], 6.5, rec)
                rc, err = ffmpeg_decode(os.path.join(rec_dir(v, rec), "playlist.m3u8"))
                self.assertEqual((rc, err), (0, ""), rec)
                total += rec["duration_s"]
            # Nothing lost: the recordings add up to the real time recorded.
            self.assertAlmostEqual(total, elapsed, delta=0.05 * elapsed + 2)
            # The recordings made while the clock was an hour behind carry
            # that clock's times; the ones before and after, the real time.
            starts = [parse_time(r["start"]) for r in recs]
            behind = [s for s in starts if s < time.time() - 1800]
            self.assertGreaterEqual(len(behind), 1, starts)
            self.assertLess(starts[0], time.time() - 20)
            self.assertGreater(starts[0], time.time() - 120)
            self.assertGreater(starts[-1], time.time() - 60)
            # A wrong step forward, past the 30 days the camera keeps
            # footage: deleting by age waits (the quota still applies), so
            # the clock can be put right before a month of footage goes.
            step("+40d")
            time.sleep(2.5 * 10)  # retention passes every 10 s
            after = sorted(recordings(v, "c"), key=lambda r: r["id"])
            self.assertEqual([r["id"] for r in after], [r["id"] for r in recs])
            self.assertIn("the wall clock stepped forward by 40 days", v.log_text())
            self.assertNotIn("CRITICAL", v.log_text())
        finally:
            v.cleanup()
            cam.stop()
            subprocess.run(["rm", "-rf", work])


class StorageTest(unittest.TestCase):
    """A full disk on a small tmpfs, then retention by age and by quota."""

    def test_disk_full_and_retention(self):
        mnt = tempfile.mkdtemp(prefix="vigil-tmpfs-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt],
                           capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(mnt)
            # Root (as in CI) can always mount one: there this must run.
            if os.geteuid() == 0:
                self.fail("running as root, yet cannot mount a tmpfs: " + r.stderr.strip())
            harness.require(self, False, "cannot mount a tmpfs here: " + r.stderr.strip())
        cam = Fakecam("--cameras", "2", "--size", "640x360", "--fps", "25", "--gop", "1",
                      "--bitrate", "4000", "--scene", "noise").start()
        os.makedirs(os.path.join(mnt, "data"))
        v = Vigil(data_dir=os.path.join(mnt, "data"))
        try:
            v.start()
            # No free-space quota while we fill the disk on purpose.
            self.assertEqual(v.request("PATCH", "/api/v1/settings",
                                       {"storage": {"min_free_percent": 0}}).status, 200)
            v.request("POST", "/api/v1/cameras", {"id": "full", "name": "Full",
                                                  "source": cam.url(1), "record": "continuous"})
            v.request("POST", "/api/v1/cameras", {"id": "old", "name": "Old", "source": cam.url(2),
                                                  "record": "off"})
            v.wait_state("full", "streaming", 10)
            v.wait_state("old", "streaming", 10)
            # Three short closed recordings on "old" for retention.
            for _ in range(3):
                v.request("POST", "/api/v1/cameras/old/recording", {"action": "start"})
                time.sleep(2.5)
                v.request("POST", "/api/v1/cameras/old/recording", {"action": "stop"})
            olds = wait_for(lambda: (lambda r: r if len(r) == 3 else None)(recordings(v, "old")),
                            10, what="three recordings")
            wait_for(lambda: recordings(v, "full"), 10, what="recording on full")
            # Fill the disk to within ~6 MB (the writer keeps 4 MB in reserve).
            st = os.statvfs(mnt)
            free = st.f_bavail * st.f_frsize
            filler = os.path.join(mnt, "filler")
            with open(filler, "wb") as f:
                f.write(b"\0" * max(0, free - 6 * 1024 * 1024))
            status = wait_for(lambda: (lambda s: s if not s["recording"] else None)(
                v.camera("full")["status"]), 30, what="recording to stop on a full disk")
            self.assertEqual(status["state"], "streaming")
            self.assertIn("disk", v.log_text())
            self.assertIsNone(v.proc.poll())
            # The full disk is a "disk-low" alarm event (for the whole data
            # directory: no camera), raised once.
            alarms = wait_for(lambda: [e for e in v.request(
                "GET", "/api/v1/events?type=alarm").json() if e["label"] == "disk-low"], 10,
                what="a disk-low alarm event")
            self.assertEqual(len(alarms), 1)
            self.assertIsNone(alarms[0]["camera"])
            self.assertIsNone(alarms[0]["end"])
            # Live keeps working.
            self.assertGreater(len(capture_live_ts(v, "full", 1.5)), 10000)
            self.assertEqual(v.request("GET", "/api/v1/recordings").status, 200)
            # Space returns: recording resumes by itself.
            os.unlink(filler)
            try:
                wait_for(lambda: v.camera("full")["status"]["recording"], 20,
                         what="recording to resume")
            except AssertionError as e:
                # Failed once in CI under ASan (not reproduced): say why.
                log = v.log_text()
                raise AssertionError(f"{e}; status {v.camera('full')['status']}; df "
                                     f"{os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize}; "
                                     f"log tail:\n{log[-4000:]}") from None
            # ...and the alarm ends when recording works again.
            wait_for(lambda: all(e["end"] for e in v.request(
                "GET", "/api/v1/events?type=alarm").json() if e["label"] == "disk-low"), 10,
                what="the disk-low alarm to end")
            rec = recordings(v, "full")[0]
            n = len(index_segments(v, rec["id"]))
            wait_for(lambda: len(index_segments(v, rec["id"])) > n, 10, what="new segments")
            # The index matches the disk.
            db = sqlite3.connect(os.path.join(v.data_dir, "vigil.db"))
            for path, seq in db.execute(
                    "SELECT r.path, s.seq FROM segments s JOIN recordings r ON r.id = s.recording"):
                self.assertTrue(os.path.exists(os.path.join(v.data_dir, "recordings", path,
                                                            f"{seq:06d}.ts")), (path, seq))
            # Retention by age: backdate the oldest two, keep one of them.
            kept, aged = olds[-1], olds[-2]
            self.assertEqual(v.request("PATCH", f"/api/v1/recordings/{kept['id']}",
                                       {"keep": True}).status, 200)
            day = 86400 * 10**6
            db.execute("UPDATE recordings SET start_us = start_us - 40 * ?,"
                       " end_us = end_us - 40 * ? WHERE id IN (?, ?)",
                       (day, day, kept["id"], aged["id"]))
            db.commit()
            db.close()
            aged_dir = rec_dir(v, aged)
            wait_for(lambda: v.request("GET", f"/api/v1/recordings/{aged['id']}").status == 404,
                     15, what="retention by age")
            self.assertFalse(os.path.exists(aged_dir))
            self.assertEqual(v.request("GET", f"/api/v1/recordings/{kept['id']}").status, 200)
            self.assertEqual(len(recordings(v, "old")), 2)
            # Retention by quota: a quota below what is recorded deletes the
            # oldest closed recordings that are not kept.
            self.assertEqual(v.request("PATCH", "/api/v1/settings",
                                       {"storage": {"max_bytes": 1000}}).status, 200)
            wait_for(lambda: [r["id"] for r in recordings(v, "old")] == [kept["id"]], 15,
                     what="retention by quota")
            # The endless continuous recording is split so that its older part
            # can go too; recording goes on in a new one.
            rec_path = rec_dir(v, rec)
            wait_for(lambda: v.request("GET", f"/api/v1/recordings/{rec['id']}").status == 404,
                     40, what="the open recording's older part deleted by quota")
            self.assertFalse(os.path.exists(rec_path))
            self.assertTrue(v.camera("full")["status"]["recording"])
            # Without the quota, the recording after the split stays.
            self.assertEqual(v.request("PATCH", "/api/v1/settings",
                                       {"storage": {"max_bytes": None}}).status, 200)
            newer = wait_for(lambda: recordings(v, "full"), 10, what="the recording after")
            self.assertGreater(newer[0]["id"], rec["id"])
        finally:
            v.cleanup()
            cam.stop()
            subprocess.run(["umount", mnt])
            os.rmdir(mnt)


if __name__ == "__main__":
    harness.main()
