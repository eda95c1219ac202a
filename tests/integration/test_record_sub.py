"""Recording the sub stream (docs/streams.md, docs/recording.md) against two
vigil-fakecams over RTSP on loopback, one for the main streams (1280x720) and
one for the sub streams (640x360, 2 s GOPs), so every check can tell the
streams apart by their size: record_stream "both" stores the sub stream in
each recording's sub/ folder (its own segments beginning with PAT, PMT and a
keyframe, its own playlist that ffmpeg decodes from disk, covering the main
stream's time, also across a split), indexed (sub_segments = files = playlist,
size_bytes counting both) and served through the API (sub_playlist,
?stream=sub); "sub" records only the sub stream; a camera without a sub
stream has sub_playlist null; bad ?stream= values; kill -9 and restart repair
sub/ too."""
import glob
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Fakecam, Vigil, wait_for
from test_record import ffmpeg_decode, parse_time, playlist_info, rec_dir, recordings

MAIN_SIZE = (1280, 720)
SUB_SIZE = (640, 360)
SUB_GOP_S = 2
# Two fakecams, the sub stream with its own GOP (as real cameras may have);
# --no-sub: neither needs fakecam's own sub streams.
MAIN_ARGS = ["--no-sub", "--size", "%dx%d" % MAIN_SIZE, "--fps", "15", "--gop", "1", "--bitrate", "1500",
             "--scene", "static"]
SUB_ARGS = ["--no-sub", "--size", "%dx%d" % SUB_SIZE, "--fps", "15", "--gop", str(SUB_GOP_S),
            "--bitrate", "400", "--scene", "static"]


def db_rows(vigil, sql, *args):
    db = sqlite3.connect(os.path.join(vigil.data_dir, "vigil.db"))
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def sub_index(vigil, rec_id):
    return db_rows(vigil, "SELECT seq, size_bytes FROM sub_segments WHERE recording = ? "
                          "ORDER BY seq", rec_id)


def main_index(vigil, rec_id):
    return db_rows(vigil, "SELECT seq, size_bytes FROM segments WHERE recording = ? "
                          "ORDER BY seq", rec_id)


def probe(path):
    """(width, height) of the video in @path, and whether its first frame is
    a keyframe."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
         "-show_entries", "stream=width,height:frame=key_frame", "-of", "json", path],
        capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    s = info["streams"][0]
    return (s["width"], s["height"]), info["frames"][0]["key_frame"] == 1


def first_pdt(text):
    for line in text.splitlines():
        if line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            return parse_time(line.split(":", 1)[1])
    return None


def check_segment_file(test, path, size):
    with open(path, "rb") as f:
        head = f.read(188 * 2)
    packets = list(harness.ts_packets(head))
    test.assertEqual(packets[0][0], 0, f"{path} does not begin with a PAT")
    got_size, key = probe(path)
    test.assertEqual(got_size, size, path)
    test.assertTrue(key, f"{path} does not begin with a keyframe")


class RecordSubTest(unittest.TestCase):
    """One daemon: "both" (split at 8 s), "sub" and a camera without a sub
    stream, all recording continuously."""

    @classmethod
    def setUpClass(cls):
        cls.main = Fakecam("--cameras", "3", *MAIN_ARGS).start()
        cls.sub = Fakecam("--cameras", "3", *SUB_ARGS).start()
        cls.vigil = Vigil(env={"VIGIL_RECORD_MAX_S": "8"}).start()
        cameras = {
            "both": {"sub_source": cls.sub.url(1), "record_stream": "both"},
            "subonly": {"sub_source": cls.sub.url(2), "record_stream": "sub"},
            "plain": {},
        }
        for n, (cam_id, extra) in enumerate(cameras.items(), start=1):
            body = {"id": cam_id, "name": cam_id, "source": cls.main.url(n),
                    "record": "continuous", **extra}
            r = cls.vigil.request("POST", "/api/v1/cameras", body)
            assert r.status == 201, (r.status, r.body)
        for cam_id in cameras:
            cls.vigil.wait_state(cam_id, "streaming", 15)
        wait_for(lambda: (lambda s: s and s["state"] == "streaming")(
            cls.vigil.camera("both")["status"]["sub"]), 15, what="the sub stream")
        # Two recordings of "both" (a split at 8 s) and part of a third.
        wait_for(lambda: len(recordings(cls.vigil, "both")) >= 2, 40, what="a split")
        time.sleep(4)
        for cam_id in cameras:
            r = cls.vigil.request("PATCH", f"/api/v1/cameras/{cam_id}", {"record": "off"})
            assert r.status == 200, (r.status, r.body)
        wait_for(lambda: not any(db_rows(cls.vigil, "SELECT 1 FROM recordings WHERE open = 1")),
                 10, what="every recording closed")

    @classmethod
    def tearDownClass(cls):
        cls.vigil.cleanup()
        cls.main.stop()
        cls.sub.stop()

    def test_both(self):
        v = self.vigil
        recs = sorted(recordings(v, "both"), key=lambda r: r["start"])
        self.assertGreaterEqual(len(recs), 2)
        for rec in recs:
            base = f"/api/v1/recordings/{rec['id']}"
            self.assertEqual(rec["sub_playlist"], base + "/playlist.m3u8?stream=sub")
            directory = rec_dir(v, rec)
            sub_dir = os.path.join(directory, "sub")

            # On disk: a closed playlist, files = playlist = index, each file
            # beginning with PAT, PMT and a keyframe, 640x360.
            with open(os.path.join(sub_dir, "playlist.m3u8")) as f:
                disk_text = f.read()
            total, uris, closed, _ = playlist_info(disk_text)
            self.assertTrue(closed)
            on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(sub_dir, "*.ts")))
            self.assertEqual(on_disk, uris)
            index = sub_index(v, rec["id"])
            self.assertEqual([f"{s:06d}.ts" for s, _ in index], uris)
            for seq, size in index:
                path = os.path.join(sub_dir, f"{seq:06d}.ts")
                self.assertEqual(os.path.getsize(path), size)
                check_segment_file(self, path, SUB_SIZE)
            check_segment_file(self, os.path.join(directory, "000001.ts"), MAIN_SIZE)
            self.assertEqual(rec["size_bytes"],
                             sum(s for _, s in index) + sum(s for _, s in main_index(v, rec["id"])))
            # Playable with no vigil: the sub playlist from disk decodes.
            rc, err = ffmpeg_decode(os.path.join(sub_dir, "playlist.m3u8"))
            self.assertEqual((rc, err), (0, ""))

            # Same time span as the main stream, give or take a sub GOP.
            start, end = parse_time(rec["start"]), parse_time(rec["end"])
            sub_start = first_pdt(disk_text)
            self.assertGreater(sub_start, start - SUB_GOP_S - 0.5)
            self.assertLess(sub_start, start + 0.5)
            self.assertAlmostEqual(sub_start + total, end, delta=SUB_GOP_S + 0.5)

            # Through the API: the same segments, each one served.
            r = v.request("GET", rec["sub_playlist"])
            self.assertEqual(r.status, 200)
            api_total, api_uris, api_closed, _ = playlist_info(r.body.decode())
            self.assertTrue(api_closed)
            self.assertEqual(api_uris, [f"segments/{u}?stream=sub" for u in uris])
            self.assertAlmostEqual(api_total, total, delta=0.01)
            r = v.request("GET", f"{base}/{api_uris[0]}")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"], "video/mp2t")
            with open(os.path.join(sub_dir, uris[0]), "rb") as f:
                self.assertEqual(r.body, f.read())
            # stream=main is the default playlist, the main stream's.
            main_pl = v.request("GET", base + "/playlist.m3u8").body
            self.assertEqual(v.request("GET", base + "/playlist.m3u8?stream=main").body, main_pl)
            self.assertNotIn(b"stream=sub", main_pl)
            with open(os.path.join(directory, "000001.ts"), "rb") as f:
                self.assertEqual(v.request("GET", base + "/segments/000001.ts").body, f.read())

        # The split leaves no gap in the sub stream either.
        for a, b in zip(recs, recs[1:]):
            with open(os.path.join(rec_dir(v, a), "sub", "playlist.m3u8")) as f:
                a_total, _, _, _ = playlist_info(f.read())
                f.seek(0)
                a_end = first_pdt(f.read()) + a_total
            with open(os.path.join(rec_dir(v, b), "sub", "playlist.m3u8")) as f:
                b_start = first_pdt(f.read())
            self.assertLessEqual(b_start, a_end + 0.2)

        # The whole-decode through the API, and the export stays on main.
        rec = recs[0]
        rc, err = ffmpeg_decode(v.base.replace("http://", "http://admin:%s@" % harness.ADMIN_PASSWORD)
                                + rec["sub_playlist"])
        self.assertEqual((rc, err), (0, ""))
        r = v.request("GET", f"/api/v1/recordings/{rec['id']}/export.mp4", timeout=60)
        self.assertEqual(r.status, 200)
        with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
            f.write(r.body)
            f.flush()
            self.assertEqual(probe(f.name)[0], MAIN_SIZE)

    def test_sub_only_and_none(self):
        v = self.vigil
        # "sub" records the main stream until the sub stream streams; then the
        # camera attaches the sub stream and the recorder goes on in a new
        # recording: one stream per recording, the sub stream's from then on.
        # (The new one begins with the sub stream's GOP in progress, so it may
        # begin a little before the main one ended: an overlap, never a gap.)
        recs = sorted(recordings(v, "subonly"), key=lambda r: r["start"])
        self.assertGreaterEqual(len(recs), 1)
        sizes = []
        for rec in recs:
            self.assertIsNone(rec["sub_playlist"])
            directory = rec_dir(v, rec)
            self.assertFalse(os.path.exists(os.path.join(directory, "sub")))
            files = sorted(glob.glob(os.path.join(directory, "*.ts")))
            size = probe(files[0])[0]
            check_segment_file(self, files[-1], size)
            sizes.append(size)
        what = [(r["start"], r["end"], size) for r, size in zip(recs, sizes)]
        self.assertEqual(sizes[-1], SUB_SIZE, what)
        mains = [r for r, size in zip(recs, sizes) if size == MAIN_SIZE]
        self.assertLessEqual(len(mains), 1, what)
        for m in mains:
            self.assertTrue(any(parse_time(r["start"]) <= parse_time(m["end"]) + 1.5 and
                                parse_time(r["end"]) > parse_time(m["end"])
                                for r, size in zip(recs, sizes) if size == SUB_SIZE), what)
        recs = recordings(v, "plain")
        self.assertGreaterEqual(len(recs), 1)
        for rec in recs:
            self.assertIsNone(rec["sub_playlist"])
            self.assertFalse(os.path.exists(os.path.join(rec_dir(v, rec), "sub")))
            base = f"/api/v1/recordings/{rec['id']}"
            self.assertEqual(v.request("GET", base + "/playlist.m3u8?stream=sub").status, 404)
            self.assertEqual(v.request("GET", base + "/segments/000001.ts?stream=sub").status, 404)
            self.assertEqual(v.request("GET", base + "/segments/000001.ts?stream=main").status, 200)

    def test_bad_queries(self):
        v = self.vigil
        rec = recordings(v, "both")[0]
        base = f"/api/v1/recordings/{rec['id']}"
        for q in ["stream=", "stream=both", "stream=SUB", "stream=..%2Fsub", "stream=sub%2F"]:
            for path in ["/playlist.m3u8", "/segments/000001.ts"]:
                r = v.request("GET", f"{base}{path}?{q}")
                self.assertEqual(r.status, 400, (path, q))
                self.assertEqual(r.json(), {"error": "stream must be main or sub"})
        # Only what the index lists, and never a path from the URL.
        for path in ["/segments/999999.ts?stream=sub", "/segments/..%2Fplaylist.m3u8?stream=sub",
                     "/sub/segments/000001.ts", "/segments/sub%2F000001.ts"]:
            self.assertIn(v.request("GET", base + path).status, (400, 404), path)


class CrashSubTest(unittest.TestCase):
    def test_kill_9_and_restart(self):
        main = Fakecam(*MAIN_ARGS).start()
        sub = Fakecam(*SUB_ARGS).start()
        v = Vigil().start()
        try:
            v.request("POST", "/api/v1/cameras", {
                "id": "k", "name": "K", "source": main.url(1), "sub_source": sub.url(1),
                "record": "continuous", "record_stream": "both"})
            v.wait_state("k", "streaming", 15)
            wait_for(lambda: glob.glob(os.path.join(v.data_dir, "recordings", "k", "*", "*",
                                                    "sub", "playlist.m3u8")),
                     20, what="a sub segment on disk")
            time.sleep(3)
            v.proc.send_signal(signal.SIGKILL)
            v.proc.wait()
            v.log.close()
            (first,) = glob.glob(os.path.join(v.data_dir, "recordings", "k", "*", "*"))
            sub_dir = os.path.join(first, "sub")
            with open(os.path.join(sub_dir, "playlist.m3u8")) as f:
                self.assertNotIn("#EXT-X-ENDLIST", f.read())
            v2 = Vigil(data_dir=v.data_dir).start()
            try:
                with open(os.path.join(sub_dir, "playlist.m3u8")) as f:
                    total, uris, closed, _ = playlist_info(f.read())
                self.assertTrue(closed)
                self.assertGreater(total, 1)
                on_disk = sorted(os.path.basename(p) for p in glob.glob(os.path.join(sub_dir, "*")))
                self.assertEqual(on_disk, sorted(uris + ["playlist.m3u8"]))  # partial, .tmp gone
                rc, err = ffmpeg_decode(os.path.join(sub_dir, "playlist.m3u8"))
                self.assertEqual((rc, err), (0, ""))
                recs = wait_for(lambda: (lambda r: r if len(r) == 2 and r[0]["sub_playlist"]
                                         else None)(recordings(v2, "k")),
                                30, what="a new recording with its sub stream after the restart")
                old = recs[1]
                self.assertEqual([f"{s:06d}.ts" for s, _ in sub_index(v2, old["id"])], uris)
                self.assertIn("#EXT-X-ENDLIST", v2.request("GET", old["sub_playlist"]).body.decode())
            finally:
                v2.stop()
        finally:
            v.cleanup()
            main.stop()
            sub.stop()


if __name__ == "__main__":
    harness.main()
