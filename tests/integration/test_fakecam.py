"""vigil-fakecam itself: every camera's sub stream (its size, options and the
scene clock it shares with the main stream), the demo scene, and
`vigil --demo`, which runs the demo scene as its child.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse

import harness
from harness import FAKECAM_BIN, Fakecam, Vigil, wait_for

# The motion scene's block is drawn at luma 45 on a wall and floor of 120 and
# more: in a 160x90 grey picture the dark columns of a row through its body
# give its position, the same at every stream size.
PROBE_W, PROBE_H = 160, 90


def probe(url):
    """(codec, width, height) of the video of @url."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-select_streams", "v:0",
         "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", url],
        capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        return None
    codec, width, height = out.stdout.strip().split(",")
    return codec, int(width), int(height)


def block_positions(url, until, out):
    """Appends (arrival time, block position 0..1 or None) for each frame of
    @url to @out until the monotonic time @until."""
    proc = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-fflags", "nobuffer", "-flags",
         "low_delay", "-threads", "1", "-i", url, "-vf", f"scale={PROBE_W}:{PROBE_H}",
         "-pix_fmt", "gray", "-f", "rawvideo", "-"], stdout=subprocess.PIPE)
    size = PROBE_W * PROBE_H
    row = int(PROBE_H * 0.6) * PROBE_W
    try:
        while time.monotonic() < until:
            frame = proc.stdout.read(size)
            if len(frame) < size:
                break
            dark = [x for x in range(PROBE_W) if frame[row + x] < 90]
            out.append((time.monotonic(), sum(dark) / len(dark) / PROBE_W if dark else None))
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def startup_lines(*args):
    """Runs vigil-fakecam with @args until it serves; returns (its stdout
    lines, the seconds it took)."""
    t0 = time.monotonic()
    proc = subprocess.Popen([FAKECAM_BIN, "--port", "0", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        first = proc.stdout.readline()
        elapsed = time.monotonic() - t0
    finally:
        # All lines come in one flushed write: the rest is in the pipe.
        proc.terminate()
        rest = proc.stdout.read()
        proc.wait(10)
        proc.stdout.close()
    return (first + rest).splitlines(), elapsed


class SubStreamTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # The block never stands still (motion:0) and crosses the frame in 2 s.
        cls.cam = Fakecam("--size", "1280x720", "--fps", "30", "--gop", "1",
                          "--scene", "motion:0", "--loop", "4").start()

    @classmethod
    def tearDownClass(cls):
        cls.cam.stop()

    def test_main_and_sub_sizes(self):
        self.assertEqual(probe(self.cam.url(1)), ("h264", 1280, 720))
        self.assertEqual(probe(self.cam.sub_url(1)), ("h264", 640, 360))

    def test_sub_joins_the_main_stream_at_the_same_moment(self):
        # Open the main stream, then the sub stream 2.5 s later (its own
        # media, created then): both must show the block at the same place at
        # the same time, not the sub stream 2.5 s behind.
        main, sub = [], []
        until = time.monotonic() + 8
        t_main = threading.Thread(target=block_positions, args=(self.cam.url(1), until, main))
        t_main.start()
        time.sleep(2.5)
        t_sub = threading.Thread(target=block_positions, args=(self.cam.sub_url(1), until, sub))
        t_sub.start()
        t_main.join()
        t_sub.join()
        self.assertGreater(len(main), 100)
        self.assertGreater(len(sub), 60)
        # Skip the sub stream's first second (decoder start-up).
        diffs = sorted(abs(x - min(main, key=lambda f: abs(f[0] - t))[1])
                       for t, x in sub[30:] if x is not None)
        self.assertGreater(len(diffs), 40)
        median, p90 = diffs[len(diffs) // 2], diffs[len(diffs) * 9 // 10]
        print(f"main/sub block position difference: median {median:.4f}, 90 % {p90:.4f} "
              f"of the width (one frame moves it 0.013)")
        # Within two frames of movement; 2.5 s apart would be ~0.8.
        self.assertLess(median, 0.027)
        self.assertLess(p90, 0.04)

    def test_startup_lines_main_first(self):
        lines, _ = startup_lines("--cameras", "2", "--size", "320x180", "--sub-size", "160x90",
                                 "--scene", "static")
        port = urllib.parse.urlsplit(lines[0].split()[2]).port
        self.assertEqual(lines, [
            f"vigil-fakecam: serving rtsp://127.0.0.1:{port}/cam1 (static, h264, 320x180@30)",
            f"vigil-fakecam: serving rtsp://127.0.0.1:{port}/cam2 (static, h264, 320x180@30)",
            f"vigil-fakecam: serving rtsp://127.0.0.1:{port}/cam1_sub (static, h264, 160x90@30)",
            f"vigil-fakecam: serving rtsp://127.0.0.1:{port}/cam2_sub (static, h264, 160x90@30)",
        ])

    def test_sub_options(self):
        cam = Fakecam("--size", "320x180", "--fps", "15", "--sub-size", "256x144",
                      "--sub-bitrate", "200", "--codec", "h265").start()
        try:
            self.assertEqual(probe(cam.sub_url(1)), ("hevc", 256, 144))
        finally:
            cam.stop()
        cam = Fakecam("--size", "320x180", "--fps", "15", "--no-sub").start()
        try:
            self.assertEqual(probe(cam.url(1)), ("h264", 320, 180))
            self.assertIsNone(probe(cam.sub_url(1)))
        finally:
            cam.stop()
        lines, _ = startup_lines("--size", "320x180", "--no-sub")
        self.assertEqual(len(lines), 1)
        # A main stream no bigger than 640x360 gets a sub stream of half its size.
        lines, _ = startup_lines("--size", "320x240")
        self.assertRegex(lines[1], r"/cam1_sub \(static, h264, 160x120@30\)$")

    def test_bad_sub_arguments(self):
        for args, message in [
                (["--sub-size", "641x360"], "--sub-size must be even"),
                (["--sub-size", "big"], "--sub-size must look like 640x360, not 'big'"),
                (["--sub-bitrate", "10"], "--sub-bitrate must be 50..100000"),
                (["--no-sub", "--sub-size", "320x180"], "--no-sub cannot go with"),
        ]:
            out = subprocess.run([FAKECAM_BIN, "--port", "0", *args], capture_output=True,
                                 text=True, timeout=10)
            self.assertEqual(out.returncode, 2, args)
            self.assertIn(message, out.stderr)
            self.assertEqual(out.stderr.count("\n"), 1, out.stderr)


class DemoSceneTest(unittest.TestCase):
    def test_demo_scene_serves_both_streams(self):
        cam = Fakecam("--scene", "demo")
        t0 = time.monotonic()
        cam.start()
        try:
            print(f"demo scene encoded (1280x720 + 640x360) in {time.monotonic() - t0:.1f} s")
            self.assertEqual(probe(cam.url(1)), ("h264", 1280, 720))
            self.assertEqual(probe(cam.sub_url(1)), ("h264", 640, 360))
        finally:
            cam.stop()


def children_named(pid, name):
    """PIDs of @pid's child processes whose command is @name."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == pid and comm == name:
            found.append(int(entry))
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


class DemoCameraTest(unittest.TestCase):
    """vigil --demo across restarts of one data directory."""

    def start(self):
        vigil = Vigil(data_dir=self.data_dir, extra_args=["--demo"]).start()
        self.addCleanup(vigil.stop)
        return vigil

    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="vigil-demo-")
        self.addCleanup(shutil.rmtree, self.data_dir, True)

    def fakecam_child(self, vigil):
        return wait_for(lambda: children_named(vigil.proc.pid, "vigil-fakecam"), 10,
                        what="vigil-fakecam started by vigil")[0]

    def demo_camera(self, vigil, not_port=None):
        def ready():
            r = vigil.request("GET", "/api/v1/cameras/demo")
            if r.status != 200:
                return None
            cam = r.json()
            port = urllib.parse.urlsplit(cam["source"]).port
            return cam if port != not_port else None
        return wait_for(ready, 60, what="the demo camera on vigil-fakecam")

    def test_demo_camera_runs_on_a_child_fakecam(self):
        vigil = self.start()
        child = self.fakecam_child(vigil)
        cam = self.demo_camera(vigil)
        source = urllib.parse.urlsplit(cam["source"])
        self.assertEqual((source.scheme, source.hostname, source.path),
                         ("rtsp", "127.0.0.1", "/cam1"))
        self.assertEqual(cam["sub_source"],
                         f"rtsp://127.0.0.1:{source.port}/cam1_sub")
        self.assertEqual(cam["record"], "events")
        self.assertEqual(cam["retain_days"], 1)
        self.assertTrue(cam["motion"]["enabled"])
        self.assertTrue(cam["barcodes"])
        # The port is the child's.
        with open(f"/proc/{child}/cmdline", "rb") as f:
            self.assertEqual(f.read().split(b"\0")[1:5], [b"--port", b"0", b"--scene", b"demo"])
        listening = subprocess.run(["ss", "-Hltnp", f"sport = :{source.port}"],
                                   capture_output=True, text=True).stdout
        self.assertIn(f"pid={child},", listening)
        self.assertEqual(probe(cam["sub_source"]), ("h264", 640, 360))
        s = vigil.wait_state("demo", "streaming", 15)["status"]
        self.assertEqual((s["codec"], s["width"], s["height"]), ("h264", 1280, 720))
        sub = wait_for(lambda: (lambda st: st if st["sub"] and st["sub"]["state"] == "streaming"
                                and st["sub"]["width"] else None)(vigil.camera("demo")["status"]),
                       15, what="the demo camera's sub stream")
        self.assertEqual((sub["sub"]["codec"], sub["sub"]["width"], sub["sub"]["height"]),
                         ("h264", 640, 360))
        self.assertEqual(sub["analysis_stream"], "sub")
        # The scene walks the block through 8 s into the loop...
        wait_for(lambda: vigil.request("GET", "/api/v1/events?camera=demo&type=motion").json(),
                 30, what="a motion event on the demo camera")
        # and the QR card stands still in the middle from 23 to 27 s.
        barcodes = wait_for(
            lambda: vigil.request("GET", "/api/v1/events?camera=demo&type=barcode").json(), 40,
            what="a barcode event on the demo camera")
        self.assertEqual(barcodes[0]["data"]["text"], "https://vigil.example/demo")

        # Stopping vigil stops the child.
        self.assertEqual(vigil.stop(), 0)
        wait_for(lambda: not alive(child), 5, what="vigil-fakecam to stop with vigil")

        # The next start moves the camera to the new child's port.
        vigil = self.start()
        child = self.fakecam_child(vigil)
        moved = self.demo_camera(vigil, not_port=source.port)
        port = urllib.parse.urlsplit(moved["source"]).port
        self.assertEqual(moved["sub_source"], f"rtsp://127.0.0.1:{port}/cam1_sub")
        vigil.wait_state("demo", "streaming", 15)

        # A vigil killed outright takes the child with it (PR_SET_PDEATHSIG).
        vigil.proc.kill()
        vigil.proc.wait()
        wait_for(lambda: not alive(child), 5, what="vigil-fakecam to die with vigil")

    def test_a_dead_child_is_started_again(self):
        vigil = self.start()
        child = self.fakecam_child(vigil)
        cam = self.demo_camera(vigil)
        vigil.wait_state("demo", "streaming", 15)
        os.kill(child, signal.SIGKILL)
        # Started again after 1 s, on a new port the camera moves to.
        moved = self.demo_camera(vigil, not_port=urllib.parse.urlsplit(cam["source"]).port)
        again = wait_for(lambda: [p for p in children_named(vigil.proc.pid, "vigil-fakecam")
                                  if p != child], 10, what="a second vigil-fakecam")[0]
        port = urllib.parse.urlsplit(moved["source"]).port
        self.assertEqual(moved["sub_source"], f"rtsp://127.0.0.1:{port}/cam1_sub")
        vigil.wait_state("demo", "streaming", 20)
        # Repointed by the user, the camera is left alone: no third child.
        r = vigil.request("PATCH", "/api/v1/cameras/demo", {"source": "rtsp://192.0.2.1/stream"})
        self.assertEqual(r.status, 200, r.body)
        os.kill(again, signal.SIGKILL)
        wait_for(lambda: "not restarting it" in vigil.log_text(), 10,
                 what="vigil to decide not to restart vigil-fakecam")
        self.assertEqual([p for p in children_named(vigil.proc.pid, "vigil-fakecam")
                          if alive(p)], [])
        self.assertEqual(vigil.camera("demo")["source"], "rtsp://192.0.2.1/stream")

    def test_edited_repointed_or_deleted_demo_camera(self):
        vigil = self.start()
        cam = self.demo_camera(vigil)
        r = vigil.request("PATCH", "/api/v1/cameras/demo", {"sub_source": None})
        self.assertEqual(r.status, 200, r.body)
        vigil.stop()

        # A sub stream turned off stays off when the camera moves.
        vigil = self.start()
        moved = self.demo_camera(vigil, not_port=urllib.parse.urlsplit(cam["source"]).port)
        self.assertIsNone(moved["sub_source"])
        r = vigil.request("PATCH", "/api/v1/cameras/demo", {"source": "rtsp://192.0.2.1/stream"})
        self.assertEqual(r.status, 200, r.body)
        vigil.stop()

        vigil = self.start()
        time.sleep(1)
        self.assertEqual(children_named(vigil.proc.pid, "vigil-fakecam"), [])
        self.assertEqual(vigil.camera("demo")["source"], "rtsp://192.0.2.1/stream")
        self.assertEqual(vigil.request("DELETE", "/api/v1/cameras/demo").status, 204)
        vigil.stop()

        vigil = self.start()
        time.sleep(1)
        self.assertEqual(children_named(vigil.proc.pid, "vigil-fakecam"), [])
        self.assertEqual(vigil.request("GET", "/api/v1/cameras/demo").status, 404)

    def test_without_fakecam_the_demo_is_a_test_pattern(self):
        vigil = Vigil(data_dir=self.data_dir, extra_args=["--demo"],
                      env={"VIGIL_FAKECAM_BIN": "/nonexistent/vigil-fakecam"}).start()
        self.addCleanup(vigil.stop)
        self.assertEqual(vigil.camera("demo")["source"], "test://")
        warnings = [line for line in vigil.log_text().splitlines() if "WARNING" in line
                    and "vigil-fakecam" in line]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertIn("VIGIL_FAKECAM_BIN=/nonexistent/vigil-fakecam", warnings[0])


if __name__ == "__main__":
    harness.main()
