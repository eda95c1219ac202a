#!/usr/bin/env python3
"""bench/soak: many cameras for a long time, with faults injected (issue 21).

Starts vigil (its data directory on a tmpfs of its own, so a disk can fill
up), one vigil-fakecam per camera (H.264 and H.265, 1080p and 720p, TCP and
UDP, audio on some, a sub stream on half; a quarter of them inside a network
namespace behind a veth pair so `tc netem` can impair their link), adds every
camera with continuous recording and motion on, starts viewers (WebSocket
viewers with bench/live's wsload, live.ts readers, a live HLS reader), then
injects faults on a schedule and samples vigil every few seconds (CPU, RSS,
fds, threads from /proc; camera states and reconnects and the live latency
histogram from the API). At the end it computes the checks (recorded
timeline gaps attributed to faults, kill -9 losses and index repair, disk
full recovery and quota, reconnect times, RSS/fd/thread trends, write
amplification, fsyncs) and writes OUT/soak.json, OUT/summary.md and SVG plots.
Exit status 1 when a check fails. Needs root (netns, tc, mount).

  python3 bench/soak/run.py --cameras 6 --minutes 10 --viewers 6 --fault-every 60 \
      --out /tmp/soak --build-dir build

docs/soak.md explains the faults, the checks and what is not done.
"""
import argparse
import base64
import http.client
import importlib.util
import json
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
HZ = os.sysconf("SC_CLK_TCK")
OUTAGE_S = 2.0  # a pause in a live.ts reader's pictures this long is an outage
T0 = time.time()


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')} +{time.time() - T0:6.0f}s] {msg}", flush=True)


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


# bench/live's /metrics histogram reader.
_spec = importlib.util.spec_from_file_location("live_run", os.path.join(ROOT, "bench", "live", "run.py"))
live = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(live)


# --- /proc ---------------------------------------------------------------

PROC_RSS_KEYS = {"VmRSS": "rss_kb", "RssAnon": "rss_anon_kb", "RssFile": "rss_file_kb",
                 "RssShmem": "rss_shmem_kb"}


def save_smaps(pid, path):
    """A copy of /proc/PID/smaps: bench/soak/smaps_diff.py compares two, mapping
    by mapping, to tell where RSS grew (the heap, a thread's stack, code)."""
    try:
        with open(f"/proc/{pid}/smaps") as src, open(path, "w") as dst:
            dst.write(src.read())
    except OSError:
        pass


def proc_sample(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        out = {"cpu_s": (int(fields[11]) + int(fields[12])) / HZ, "threads": int(fields[17])}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                # RSS and its parts: anonymous (the heap, stacks), file-backed
                # (code, mapped files) and shared memory.
                for key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    if line.startswith(key + ":"):
                        out[PROC_RSS_KEYS[key]] = int(line.split()[1])
        out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                k, v = line.split(":")
                out[k] = int(v)
        return out
    except (OSError, ValueError, IndexError):
        return None


# --- the network namespace ------------------------------------------------

class Netns:
    """A namespace with a veth pair: HOST_IP on our side, CAM_IP inside.
    netem on the inside end impairs what the cameras send (media)."""

    def __init__(self, tag):
        self.name = f"vsoak{tag}"
        self.host_if, self.ns_if = f"vsk{tag}h", f"vsk{tag}n"
        octet = 100 + tag % 100
        self.host_ip, self.cam_ip = f"10.213.{octet}.1", f"10.213.{octet}.2"
        self.impairment = None

    def up(self):
        sh("ip", "netns", "add", self.name)
        sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        sh("ip", "link", "set", self.ns_if, "netns", self.name)
        sh("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
        sh("ip", "link", "set", self.host_if, "up")
        self.ns("ip", "addr", "add", f"{self.cam_ip}/30", "dev", self.ns_if)
        self.ns("ip", "link", "set", self.ns_if, "up")
        self.ns("ip", "link", "set", "lo", "up")
        return self

    def ns(self, *cmd):
        return sh("ip", "netns", "exec", self.name, *cmd)

    def impair(self, spec):
        """spec: tc qdisc arguments for the cameras' side (e.g. tbf), "down"
        for a blackout (link down: every packet lost, connections kept),
        or None for a clean link. netem is not available on every kernel
        (docs/soak.md), tbf and link state are."""
        if self.impairment == "down":
            self.ns("ip", "link", "set", self.ns_if, "up")
        elif self.impairment:
            self.ns("tc", "qdisc", "del", "dev", self.ns_if, "root")
        if spec == "down":
            # Only the cameras' end: vigil's end keeps its route (marked
            # linkdown), so its packets die there (no route to host). With
            # both ends down they took the default route instead, and where
            # that leads to a proxy accepting every connection (as here) the
            # camera seemed to answer with something that is not RTSP.
            self.ns("ip", "link", "set", self.ns_if, "down")
        elif spec:
            self.ns("tc", "qdisc", "add", "dev", self.ns_if, "root", *spec)
        self.impairment = spec

    def down(self):
        sh("ip", "link", "del", self.host_if, check=False)
        sh("ip", "netns", "del", self.name, check=False)


# --- cameras ---------------------------------------------------------------

class Camera:
    def __init__(self, n, args, netns):
        self.id = f"c{n}"
        self.n = n
        self.big = n % 2 == 1
        self.size = "1920x1080" if self.big else "1280x720"
        self.bitrate = args.bitrate_1080 if self.big else args.bitrate_720
        self.codec = "h265" if n % 4 == 3 else "h264"
        self.audio = n % 3 == 1
        self.transport = "udp" if n % 2 == 0 else "tcp"
        self.sub = n % 2 == 1
        self.netns = netns if netns and n > args.cameras - max(2, args.cameras // 4) else None
        self.addr = self.netns.cam_ip if self.netns else "127.0.0.1"
        self.port = 20000 + (os.getpid() % 500) * 40 + n
        self.fps = args.fps
        self.proc = None
        self.stand_in = None  # a quirkcam while a silent/garbage fault lasts
        self.log_path = os.path.join(args.out, f"fakecam-{self.id}.log")

    def url(self, sub=False):
        return f"rtsp://{self.addr}:{self.port}/cam1{'_sub' if sub else ''}"

    def describe(self):
        return (f"{self.id}: {self.size} {self.codec} {self.bitrate} kbit/s {self.fps} fps "
                f"{self.transport}{' audio' if self.audio else ''}{' +sub' if self.sub else ''}"
                f"{' netns' if self.netns else ''}")

    def start(self, fakecam_bin):
        cmd = [fakecam_bin, "--port", str(self.port), "--address", self.addr, "--size", self.size,
               "--fps", str(self.fps), "--gop", "1", "--bitrate", str(self.bitrate), "--codec",
               self.codec, "--scene", "motion", "--loop", "4", "--sub-size", "640x360"]
        if self.audio:
            cmd.append("--audio")
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns.name, *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(self.log_path, "ab"),
                                     text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"fakecam {self.id} exited; see {self.log_path}")
            if "serving rtsp://" in line:
                # Keep draining stdout so the camera never blocks on it.
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return
        raise RuntimeError(f"fakecam {self.id} did not start")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# --- viewers ---------------------------------------------------------------

class Viewers:
    """Viewers that come back when vigil does (after a kill -9): wsload
    processes of one viewer each, live.ts readers and one HLS reader.
    .bytes() is what all of them received."""

    def __init__(self, state, wsload, token):
        self.state, self.wsload, self.token = state, wsload, token
        self.lock = threading.Lock()
        self.received = 0
        self.ws = []  # [proc]
        self.stop = threading.Event()
        self.ts_lag = []  # (t, camera, lag growth s) from the live.ts readers

    def add(self, n):
        self.received_lines = {}
        return n

    def bytes(self):
        with self.lock:
            return self.received

    def count(self, n):
        with self.lock:
            self.received += n

    def ws_loop(self, cam_id, slot):
        while not self.stop.is_set():
            v = self.state.vigil
            p = subprocess.Popen([self.wsload, "127.0.0.1", str(v.port), f"/api/v1/cameras/{cam_id}/live",
                                  self.token, "1", "60"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True)
            with self.lock:
                self.ws[slot] = p
            last = 0
            for line in p.stdout:
                parts = line.split()
                if len(parts) >= 3:
                    total = int(parts[2])
                    self.count(total - last)
                    last = total
            p.wait()
            self.stop.wait(1)

    def ts_loop(self, cam_id):
        """Reads live.ts; the lag growth is wall time elapsed minus video PTS
        advanced since the least-lagged moment (0 = no drift). vigil's output
        timeline runs on across a camera's outage (the first picture after it
        follows the last one before: docs/architecture.md), so the lag steps
        up by the outage: after a pause of more than OUTAGE_S in the pictures
        whose timestamps did not move on with it, the measure starts over (the
        outages are the reconnect check's; pictures vigil held back arrive with
        their timestamps and still count)."""
        while not self.stop.is_set():
            v = self.state.vigil
            try:
                req = urllib.request.Request(f"{v.base}/api/v1/cameras/{cam_id}/live.ts",
                                             headers={"Authorization": "Basic " + self.token})
                with urllib.request.urlopen(req, timeout=10) as r:
                    base = None
                    last_picture = None
                    next_report = time.monotonic() + 5
                    buf = b""
                    while not self.stop.is_set():
                        block = r.read1(65536)
                        if not block:
                            break
                        self.count(len(block))
                        buf += block
                        now = time.monotonic()
                        cut = len(buf) - len(buf) % 188
                        for i in range(0, cut, 188):
                            if buf[i + 1] & 0x40 and ((buf[i + 1] & 0x1F) << 8 | buf[i + 2]) == 0x100:
                                j = i + 4 + (buf[i + 4] + 1 if buf[i + 3] & 0x20 else 0)
                                if j + 14 <= i + 188 and buf[j:j + 3] == b"\0\0\1" and buf[j + 7] & 0x80:
                                    p = buf[j + 9:j + 14]
                                    pts = ((p[0] >> 1 & 7) << 30 | p[1] << 22 | (p[2] >> 1) << 15
                                           | p[3] << 7 | p[4] >> 1) / 90000
                                    lag = now - pts
                                    if (last_picture is not None and now - last_picture[0] > OUTAGE_S
                                            and pts - last_picture[1] < 1):
                                        base = None  # an outage, not vigil holding pictures back
                                    last_picture = (now, pts)
                                    base = lag if base is None else min(base, lag)
                                    if now >= next_report:
                                        self.ts_lag.append((time.time(), cam_id, round(lag - base, 3)))
                                        next_report = now + 5
                        buf = buf[cut:]
            except (OSError, ValueError, http.client.HTTPException):
                pass
            self.stop.wait(1)

    def hls_loop(self, cam_id):
        while not self.stop.is_set():
            v = self.state.vigil
            auth = {"Authorization": "Basic " + self.token}
            try:
                req = urllib.request.Request(f"{v.base}/api/v1/cameras/{cam_id}/live.m3u8", headers=auth)
                with urllib.request.urlopen(req, timeout=10) as r:
                    text = r.read().decode()
                segs = [l for l in text.splitlines() if l and not l.startswith("#")]
                for s in segs[-1:]:
                    url = s if s.startswith("http") else (
                        s if s.startswith("/") else f"/api/v1/cameras/{cam_id}/{s}")
                    with urllib.request.urlopen(urllib.request.Request(v.base + url, headers=auth),
                                                timeout=10) as r:
                        self.count(len(r.read()))
            except (OSError, ValueError, http.client.HTTPException):
                pass
            self.stop.wait(2)

    def start(self, cams, n):
        threads = []
        for i in range(n):
            cam = cams[i % len(cams)].id
            kind = i % 4
            if kind == 3 and i == 3:
                threads.append(threading.Thread(target=self.hls_loop, args=(cam,), daemon=True))
            elif kind == 1:
                threads.append(threading.Thread(target=self.ts_loop, args=(cam,), daemon=True))
            else:
                self.ws.append(None)
                threads.append(threading.Thread(target=self.ws_loop, args=(cam, len(self.ws) - 1),
                                                daemon=True))
        for t in threads:
            t.start()

    def browser_loop(self, cam_id, password):
        """bench/soak/browser.mjs: chromium's own delay behind the live edge."""
        self.browser = []
        while not self.stop.is_set():
            p = subprocess.Popen(["node", os.path.join(HERE, "browser.mjs"), self.state.vigil.base, cam_id,
                                  password], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            self.browser_proc = p
            for line in p.stdout:
                try:
                    self.browser.append(json.loads(line))
                except ValueError:
                    pass
                if self.stop.is_set():
                    break
            p.kill()
            p.wait()
            self.stop.wait(2)

    def ws_pids(self):
        with self.lock:
            return [p for p in self.ws if p and p.poll() is None]


# --- the run -----------------------------------------------------------------

class State:
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cameras", type=int, default=6)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--viewers", type=int, default=6)
    ap.add_argument("--fault-every", type=float, default=60, help="seconds between fault starts")
    ap.add_argument("--faults", default="restart,netem,kill9,silent,diskfull,sigstop,blackout,garbage,churn",
                    help="the fault cycle, in order")
    ap.add_argument("--out", default="/tmp/vigil-soak")
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--fps", type=int, default=15)
    ap.add_argument("--bitrate-1080", type=int, default=2000)
    ap.add_argument("--bitrate-720", type=int, default=1000)
    ap.add_argument("--tmpfs-mb", type=int, default=0,
                    help="data dir tmpfs size (default: what --minutes of all cameras needs, max 6000)")
    ap.add_argument("--churn-viewers", type=int, default=200)
    ap.add_argument("--no-browser", dest="browser", action="store_false",
                    help="no chromium page (bench/soak/browser.mjs) for the live delay")
    ap.add_argument("--max-browser-delay", type=float, default=0.3, help="median, s")
    ap.add_argument("--sample", type=float, default=5)
    ap.add_argument("--fsync-window", type=float, default=30)
    ap.add_argument("--fsync-unfiltered", action="store_true",
                    help="a second fsync window right after the first (the noise)")
    ap.add_argument("--warmup", type=float, default=60, help="seconds after the last restart before trends count")
    ap.add_argument("--max-rss-mb-per-hour", type=float, default=1.0)
    ap.add_argument("--max-fd-drift", type=int, default=10)
    ap.add_argument("--max-thread-drift", type=int, default=10)
    ap.add_argument("--max-reconnect-p99", type=float, default=15)
    ap.add_argument("--max-write-amp", type=float, default=1.02)
    ap.add_argument("--gap-slack", type=float, default=5)
    ap.add_argument("--vigil-env", action="append", default=[], metavar="VAR=VALUE",
                    help="environment for vigil alone (not the cameras or viewers), e.g. "
                         "LD_PRELOAD and DUMP_HEAPTRACK_OUTPUT for bench/memory/heapgrowth.py")
    args = ap.parse_args()
    vigil_env = dict(kv.split("=", 1) for kv in args.vigil_env)
    os.makedirs(args.out, exist_ok=True)
    args.out = os.path.abspath(args.out)
    build = os.path.abspath(args.build_dir)
    os.environ["VIGIL_BIN"] = os.path.join(build, "src", "vigil")
    os.environ["FAKECAM_BIN"] = os.path.join(build, "tools", "fakecam", "vigil-fakecam")
    import harness
    import test_rtsp_corpus

    st = State()
    st.faults, st.samples, st.reconnects, st.restarts = [], [], [], []
    st.segments = {}  # (camera, start_us) -> (camera, start s, duration s, size)
    st.pids = []
    tag = os.getpid() % 100
    work = tempfile.mkdtemp(prefix="vigil-soak-")
    data = os.path.join(work, "data")
    os.makedirs(data)
    total_kbps = sum((args.bitrate_1080 if n % 2 else args.bitrate_720) * (1.25 if n % 2 else 1)
                     for n in range(1, args.cameras + 1))
    need_mb = int(total_kbps / 8 * args.minutes * 60 / 1000 * 1.3) + 300
    tmpfs_mb = args.tmpfs_mb or min(6000, need_mb)
    sh("mount", "-t", "tmpfs", "-o", f"size={tmpfs_mb}m", "vigil-soak", data)
    # The quota retention must hold: 85 % of the tmpfs.
    quota = int(tmpfs_mb * 0.85) * 1024 * 1024
    netns = None
    cams = []
    viewers = None
    children = []
    exit_code = 1
    try:
        netns = Netns(tag).up()
        cams = [Camera(n, args, netns) for n in range(1, args.cameras + 1)]
        log(f"data dir {data} on a {tmpfs_mb} MB tmpfs (quota {quota >> 20} MiB); cameras:")
        for c in cams:
            log("  " + c.describe())
            c.start(os.environ["FAKECAM_BIN"])
        vport = harness.free_port()

        def start_vigil():
            v = harness.Vigil(data_dir=data, extra_args=["--log-level", "info"], env=vigil_env)
            v.port, v.base = vport, f"http://127.0.0.1:{vport}"
            v.log_path = os.path.join(args.out, "vigil.log")
            v.start()
            st.vigil = v
            st.pids.append((time.time(), v.proc.pid))
            return v

        v = start_vigil()
        r = v.request("PATCH", "/api/v1/settings", {"storage": {"max_bytes": quota}})
        if r.status != 200:
            # older settings shape
            log(f"settings: {r.status} {r.body[:200]!r}")
        for c in cams:
            body = {"id": c.id, "name": c.id, "source": c.url(), "record": "continuous",
                    "motion": {"enabled": True}, "rtsp_transport": c.transport}
            if c.sub:
                body["sub_source"] = c.url(sub=True)
            r = v.request("POST", "/api/v1/cameras", body)
            assert r.status == 201, (r.status, r.body)
        for c in cams:
            v.wait_state(c.id, "streaming", 90)
        log("all cameras streaming")

        wsload = os.path.join(work, "wsload")
        sh("gcc", "-O2", "-o", wsload, os.path.join(ROOT, "bench", "live", "wsload.c"))
        token = base64.b64encode(f"admin:{harness.ADMIN_PASSWORD}".encode()).decode()
        viewers = Viewers(st, wsload, token)
        viewers.start(cams, args.viewers)
        viewers.browser = []
        if args.browser and os.path.exists("/usr/bin/chromium") and \
                os.path.isdir(os.path.join(ROOT, "web", "node_modules", "playwright-core")):
            viewers.browser_started = True
            threading.Thread(target=viewers.browser_loop, args=(cams[0].id, harness.ADMIN_PASSWORD),
                             daemon=True).start()
        else:
            log("no browser viewer (--no-browser, or no chromium / web/node_modules/playwright-core)")

        clip = os.path.join(work, "clip.264")
        sh("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=15", "-t", "2",
           "-pix_fmt", "yuv420p", "-g", "15", "-bf", "0", "-c:v", "libx264", "-f", "h264", clip)

        run_s = args.minutes * 60
        start = time.time()
        end = start + run_s
        stop = threading.Event()
        lock = threading.Lock()

        def api(path, timeout=5):
            try:
                r = st.vigil.request("GET", path, timeout=timeout)
                return r.json() if r.status == 200 else None
            except (OSError, ValueError):
                return None

        def poll_segments():
            try:
                db = sqlite3.connect(f"file:{data}/vigil.db?mode=ro", uri=True, timeout=5)
                rows = db.execute("SELECT s.recording, s.seq, r.camera, s.start_us, s.duration_us, "
                                  "s.size_bytes FROM segments s JOIN recordings r ON r.id = s.recording"
                                  ).fetchall()
                total = db.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM recordings").fetchone()[0]
                db.close()
            except sqlite3.Error as e:
                log(f"segments: {e}")
                return None
            with lock:
                # Keyed by camera and start: SQLite reuses the id of a deleted
                # (retention) last recording.
                for rec, seq, cam, s0, d, size in rows:
                    st.segments[(cam, s0)] = (cam, s0 / 1e6, d / 1e6, size)
            return total

        def sampler():
            prev = None
            hist_prev = None
            next_seg = 0
            next_smaps = start
            while not stop.is_set():
                t = time.time()
                pid = st.vigil.proc.pid
                p = proc_sample(pid)
                if t >= next_smaps:
                    save_smaps(pid, os.path.join(args.out, f"smaps-{pid}-{int((t - start) // 60):03d}min.txt"))
                    next_smaps = t + 600
                s = {"t": round(t - start, 1), "pid": pid}
                if p:
                    s.update(p)
                    if prev and prev["pid"] == pid and "cpu_s" in prev:
                        s["cpu_pct"] = round(100 * (p["cpu_s"] - prev["cpu_s"]) / (t - prev["wall"]), 1)
                s["wall"] = t
                cams_json = api("/api/v1/cameras")
                if cams_json:
                    s["cams"] = {c["id"]: [c["status"]["state"], c["status"]["reconnects"],
                                           c["status"]["recording"]] for c in cams_json}
                try:
                    text = st.vigil.request("GET", "/metrics").body.decode()
                    h = live.histogram_of(text)
                    for line in text.splitlines():
                        # the allocator's view of the heap beside the kernel's RSS
                        # (in use, held, SQLite's share; jemalloc's breakdown)
                        if line.startswith("vigil_heap_") and line.split()[0].endswith("_bytes"):
                            name, value = line.split()
                            s[name[len("vigil_"):-len("_bytes")] + "_kb"] = int(value) >> 10
                    if hist_prev and len(h) == len(hist_prev) and h[-1][1] >= hist_prev[-1][1]:
                        p50, n = live.quantile(hist_prev, h, 0.5)
                        p99, _ = live.quantile(hist_prev, h, 0.99)
                        if n:
                            s["send_p50_ms"], s["send_p99_ms"] = p50 * 1000, p99 * 1000
                    hist_prev = h
                except (OSError, ValueError, IndexError):
                    hist_prev = None
                sv = os.statvfs(data)
                s["disk_used_mb"] = round((sv.f_blocks - sv.f_bfree) * sv.f_frsize / 2**20, 1)
                s["viewer_bytes"] = viewers.bytes()
                if t >= next_seg:
                    s["recorded_bytes"] = poll_segments()
                    next_seg = t + 30
                with lock:
                    st.samples.append(s)
                prev = s
                stop.wait(args.sample)

        def watch_recovery(fault, cam_ids, since):
            """Seconds from @since until each camera streams again."""
            pending = set(cam_ids)
            deadline = time.time() + 120
            while pending and time.time() < deadline and not stop.is_set():
                cj = api("/api/v1/cameras", timeout=3) or []
                for c in cj:
                    if c["id"] in pending and c["status"]["state"] == "streaming":
                        pending.discard(c["id"])
                        with lock:
                            st.reconnects.append({"fault": fault["kind"], "camera": c["id"],
                                                  "t": round(since - start, 1),
                                                  "seconds": round(time.time() - since, 2)})
                time.sleep(0.25)
            for cid in pending:
                with lock:
                    st.reconnects.append({"fault": fault["kind"], "camera": cid,
                                          "t": round(since - start, 1), "seconds": None})

        threading.Thread(target=sampler, daemon=True).start()

        # --- faults

        def pick(pred=lambda c: True):
            choice = [c for c in cams if pred(c) and not c.netns] or cams
            return random.choice(choice)

        def fault_restart(f):
            c = pick()
            f["cameras"] = [c.id]
            c.kill()
            time.sleep(5)
            c.start(os.environ["FAKECAM_BIN"])
            return [c.id]

        def fault_standin(f, quirk):
            c = pick(lambda c: c.codec == "h264")
            f["cameras"] = [c.id]
            c.kill()
            q = test_rtsp_corpus.QuirkCam(args.out, "--video", clip, "--fps", "15", "--path", "cam1",
                                          f"--{quirk}", "--transport", "any", port=c.port)
            q.start()
            time.sleep(30)
            q.stop()
            c.start(os.environ["FAKECAM_BIN"])
            return [c.id]

        def netem_spec():
            try:
                netns.ns("tc", "qdisc", "add", "dev", netns.ns_if, "root", "netem", "delay", "1ms")
                netns.ns("tc", "qdisc", "del", "dev", netns.ns_if, "root")
                return ["netem", "delay", "100ms", "50ms", "loss", "1%", "reorder", "10%"]
            except subprocess.CalledProcessError:
                kbit = int(0.85 * sum(c.bitrate * (1.3 if c.sub else 1.05) for c in cams if c.netns))
                return ["tbf", "rate", f"{kbit}kbit", "burst", "64kb", "latency", "150ms"]

        def fault_netem(f, spec, seconds):
            ids = [c.id for c in cams if c.netns]
            f["cameras"] = ids
            f["netem"] = spec if isinstance(spec, str) else " ".join(spec)
            netns.impair(spec)
            time.sleep(seconds)
            netns.impair(None)
            return ids

        def fault_diskfull(f):
            f["cameras"] = [c.id for c in cams]
            filler = os.path.join(data, "filler")
            # Leave nothing: write until ENOSPC.
            with open(filler, "wb") as fh:
                try:
                    block = b"\0" * (1 << 20)
                    while True:
                        fh.write(block)
                except OSError:
                    pass
            f["filled_mb"] = os.path.getsize(filler) >> 20
            time.sleep(30)
            # Recording must have resumed before the filler goes (retention
            # frees its quota's worth); note when every camera records again.
            cj = api("/api/v1/cameras") or []
            f["recording_before_filler_removed"] = sum(1 for c in cj if c["status"]["recording"])
            os.unlink(filler)
            return None

        def fault_kill9(f):
            f["cameras"] = [c.id for c in cams]
            f["pid_killed"] = st.vigil.proc.pid
            st.vigil.proc.kill()
            st.vigil.proc.wait()
            st.vigil.log.close()
            v = start_vigil()
            f["restart_s"] = round(time.time() - f["start_abs"], 2)
            st.restarts.append(time.time())
            return [c.id for c in cams]

        def fault_sigstop(f):
            pids = viewers.ws_pids()[:2]
            f["viewer_pids"] = [p.pid for p in pids]
            for p in pids:
                p.send_signal(signal.SIGSTOP)
            time.sleep(60)
            for p in pids:
                p.send_signal(signal.SIGCONT)
            f["cameras"] = []
            return None

        def fault_churn(f):
            f["cameras"] = []
            end_c = time.time() + 60
            rounds = 0
            while time.time() < end_c:
                cid = random.choice(cams).id
                p = subprocess.run([wsload, "127.0.0.1", str(st.vigil.port), f"/api/v1/cameras/{cid}/live",
                                    token, str(args.churn_viewers), "2"], capture_output=True, timeout=60)
                rounds += 1
            f["rounds"] = rounds
            return None

        faults = {
            "restart": fault_restart,
            "silent": lambda f: fault_standin(f, "silent"),
            "garbage": lambda f: fault_standin(f, "garbage"),
            # netem if the kernel has it, else a squeezed uplink (tbf): queueing
            # delay up to 150 ms and tail drops at 85 % of what the cameras send.
            "netem": lambda f: fault_netem(f, netem_spec(), 60),
            "blackout": lambda f: fault_netem(f, "down", 30),
            "diskfull": fault_diskfull,
            "kill9": fault_kill9,
            "sigstop": fault_sigstop,
            "churn": fault_churn,
        }
        cycle = [k.strip() for k in args.faults.split(",") if k.strip()]
        fsync_at = start + run_s * 0.75
        no_kill_after = start + run_s * 0.55
        fsync_done = False
        i = 0
        next_fault = start + args.fault_every
        while time.time() < end:
            if st.vigil.proc.poll() is not None:
                log(f"vigil exited by itself with {st.vigil.proc.returncode}!")
                st.crashed = st.vigil.proc.returncode
                break
            if not fsync_done and time.time() >= fsync_at:
                fsync_done = True
                st.fsync = measure_fsync(st, args, data, poll_segments, viewers, lock)
                next_fault = max(next_fault, time.time() + 5)
            if time.time() < next_fault:
                time.sleep(0.5)
                continue
            kind = cycle[i % len(cycle)]
            i += 1
            if kind == "kill9" and time.time() > no_kill_after:
                continue
            if time.time() + 70 > end:
                next_fault = end
                continue
            f = {"kind": kind, "start_abs": time.time(), "start": round(time.time() - start, 1)}
            log(f"fault {kind}")
            try:
                watched = faults[kind](f)
            except Exception as e:  # noqa: BLE001  a fault that could not be made is logged
                f["error"] = repr(e)
                watched = None
                log(f"fault {kind} failed: {e!r}")
            f["end_abs"] = time.time()
            f["end"] = round(f["end_abs"] - start, 1)
            st.faults.append(f)
            if watched:
                threading.Thread(target=watch_recovery, args=(f, watched, f["end_abs"]),
                                 daemon=True).start()
            next_fault = f["start_abs"] + args.fault_every
        if not fsync_done and getattr(st, "crashed", None) is None:
            st.fsync = measure_fsync(st, args, data, poll_segments, viewers, lock)
        time.sleep(3)
        stop.set()
        time.sleep(1)
        poll_segments()
        st.end = time.time()
        st.start = start
        exit_code = report(st, args, cams, data, quota, viewers, tmpfs_mb)
    finally:
        if viewers:
            viewers.stop.set()
            if getattr(viewers, "browser_proc", None):
                viewers.browser_proc.kill()
            for p in viewers.ws_pids():
                p.send_signal(signal.SIGCONT)
                p.kill()
        if hasattr(st, "vigil"):
            try:
                st.vigil.stop()
            except AssertionError as e:
                log(str(e))
        for c in cams:
            c.kill()
        if netns:
            netns.down()
        sh("umount", "-l", data, check=False)
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(exit_code)


def measure_fsync(st, args, data, poll_segments, viewers, lock):
    """The fsync window, and with --fsync-unfiltered a second one right after
    (was meant to compare strace with and without --seccomp-bpf; but strace
    cannot filter a process it attaches to with -p, so both stop every system
    call of every thread, as bench/record does: the pair shows the noise)."""
    res = measure_fsync_once(st, args, data, poll_segments, viewers, lock, True)
    if args.fsync_unfiltered:
        res["unfiltered_strace"] = measure_fsync_once(st, args, data, poll_segments, viewers, lock, False)
    return res


def measure_fsync_once(st, args, data, poll_segments, viewers, lock, seccomp):
    """fsync/fdatasync calls over a quiet window (strace -f -c -p: every
    system call of vigil stops for strace, the counted ones are these), the
    segments indexed in the same window, and the write amplification over it."""
    log(f"fsync and write window, {args.fsync_window:g} s{'' if seccomp else ' (again)'}")
    pid = st.vigil.proc.pid
    poll_segments()
    with lock:
        seg0 = dict(st.segments)
    def ingest_kbps():
        # What vigil receives: each stream's bitrate as vigil measures it at
        # ingest (rchar does not count recv(2) on sockets).
        try:
            total = 0
            for c in st.vigil.request("GET", "/api/v1/cameras").json():
                total += c["status"].get("bitrate_kbps") or 0
                total += (c["status"].get("sub") or {}).get("bitrate_kbps") or 0
            return total
        except (OSError, ValueError):
            return None

    k0 = ingest_kbps()
    io0, vb0, t0 = proc_sample(pid), viewers.bytes(), time.time()
    out = os.path.join(args.out, f"strace-fsync{'' if seccomp else '-unfiltered'}.txt")
    sp = subprocess.Popen(["strace", "-f", "-c", "-o", out, "-e",
                           "trace=fsync,fdatasync,sync_file_range", "-p", str(pid)],
                          stderr=subprocess.DEVNULL)
    time.sleep(args.fsync_window)
    sp.send_signal(signal.SIGINT)
    sp.wait(20)
    io1, vb1, t1 = proc_sample(pid), viewers.bytes(), time.time()
    k1 = ingest_kbps()
    poll_segments()
    with lock:
        new = {k: v for k, v in st.segments.items() if k not in seg0}
    calls = {}
    with open(out) as f:
        for line in f:
            parts = line.split()
            if parts and parts[-1] in ("fsync", "fdatasync", "sync_file_range"):
                calls[parts[-1]] = int(parts[3])
    res = {"window_s": round(t1 - t0, 1), "calls": calls, "segments": len(new),
           "segment_bytes": sum(v[3] for v in new.values())}
    res["fsyncs_per_segment"] = round(sum(calls.values()) / max(1, len(new)), 2)
    ncam = len({v[0] for v in new.values()}) or 1
    res["segments_per_min_per_camera"] = round(len(new) / (res["window_s"] / 60) / ncam, 1)
    res["fsyncs_per_min_per_camera"] = round(sum(calls.values()) / (res["window_s"] / 60) / ncam, 1)
    if io0 and io1:
        d = {k: io1[k] - io0[k] for k in ("rchar", "wchar", "write_bytes")}
        res.update({"rchar": d["rchar"], "wchar": d["wchar"], "write_bytes": d["write_bytes"],
                    "viewer_bytes": vb1 - vb0})
        # wchar counts write(2)/writev(2) to files, pipes and eventfds, not
        # send(2) to viewers' sockets: it is what vigil wrote to its disk.
        received = (k0 + k1) / 2 * 1000 / 8 * (t1 - t0) if k0 and k1 else None
        res["received_bytes_est"] = received and int(received)
        res["write_amp_vs_received"] = received and round(d["wchar"] / received, 3)
        res["write_amp_vs_segments"] = round(d["wchar"] / max(1, res["segment_bytes"]), 3)
    log(f"fsync window: {res}")
    return res


# --- the report ----------------------------------------------------------------

def pct(values, q):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


def slope_per_hour(points):
    """Least-squares slope of (t s, y) in y per hour."""
    if len(points) < 3:
        return None
    mt = statistics.fmean(t for t, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (y - my) for t, y in points) / den * 3600 if den else None


def svg_plot(path, title, series, unit, faults, duration):
    """series: [(label, [(t, y)])] drawn on one chart; fault windows shaded."""
    W, H, L, B = 760, 220, 60, 30
    pts = [p for _, s in series for p in s if p[1] is not None]
    if not pts:
        return
    ymax = max(y for _, y in pts) * 1.1 or 1
    ymin = min(0, min(y for _, y in pts))
    X = lambda t: L + (W - L - 10) * t / max(1, duration)
    Y = lambda y: H - B - (H - B - 20) * (y - ymin) / (ymax - ymin)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>', f'<text x="{L}" y="14">{title} ({unit})</text>']
    for f in faults:
        out.append(f'<rect x="{X(f["start"]):.1f}" y="20" width="{max(1, X(f["end"]) - X(f["start"])):.1f}" '
                   f'height="{H - B - 20}" fill="#f4d0d0"><title>{f["kind"]}</title></rect>')
    for k in range(5):
        y = ymin + (ymax - ymin) * k / 4
        out.append(f'<text x="2" y="{Y(y) + 4:.1f}">{y:.4g}</text>'
                   f'<line x1="{L}" x2="{W - 10}" y1="{Y(y):.1f}" y2="{Y(y):.1f}" stroke="#ddd"/>')
    for k in range(7):
        t = duration * k / 6
        out.append(f'<text x="{X(t) - 10:.1f}" y="{H - 10}">{t / 60:.0f} min</text>')
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
    for n, (label, s) in enumerate(series):
        line = " ".join(f"{X(t):.1f},{Y(y):.1f}" for t, y in s if y is not None)
        out.append(f'<polyline fill="none" stroke="{colors[n % 4]}" points="{line}"/>')
        out.append(f'<text x="{W - 200}" y="{14 + 12 * n}" fill="{colors[n % 4]}">{label}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out))


def report(st, args, cams, data, quota, viewers, tmpfs_mb):
    start, end = st.start, st.end
    checks = []

    def check(name, ok, detail):
        checks.append({"check": name, "ok": bool(ok), "detail": detail})
        log(f"{'PASS' if ok else 'FAIL'} {name}: {detail}")

    # Timelines per camera, from every segment the index ever listed.
    first_all = start  # faults start after fault_every; every camera was recording at start
    gaps = []
    faults = st.faults
    for c in cams:
        segs = sorted((s0, d) for cam, s0, d, _ in st.segments.values() if cam == c.id)
        segs = [s for s in segs if s[0] + s[1] >= first_all]
        cursor = first_all
        for s0, d in segs + [(end - 4, 0)]:
            if s0 - cursor > 1.0:
                gaps.append({"camera": c.id, "start": round(cursor - start, 1), "end": round(s0 - start, 1),
                             "seconds": round(s0 - cursor, 1)})
            cursor = max(cursor, s0 + d)
    unexplained, too_long = [], []
    for g in gaps:
        g0, g1 = g["start"], g["end"]
        hits = [f for f in faults if g["camera"] in (f.get("cameras") or [])
                and f["start"] - 3 <= g1 and g0 <= f["end"] + args.gap_slack + 15]
        if not hits:
            unexplained.append(g)
            continue
        allowed = sum(f["end"] - f["start"] for f in hits) + args.gap_slack
        g["fault"] = "+".join(f["kind"] for f in hits)
        g["allowed"] = round(allowed, 1)
        if g["seconds"] > allowed:
            too_long.append(g)
    check("every recording gap is made by a fault", not unexplained,
          f"{len(gaps)} gaps, {len(unexplained)} not explained: {unexplained[:5]}")
    check(f"each gap <= fault duration + {args.gap_slack:g} s", not too_long,
          f"{len(too_long)} too long: {too_long[:5]}")

    # kill -9: what each camera lost beyond the restart and reconnect.
    kills = [f for f in faults if f["kind"] == "kill9" and "error" not in f]
    kill_losses = []
    for f in kills:
        rec = [r["seconds"] for r in st.reconnects if r["fault"] == "kill9" and abs(r["t"] - f["end"]) < 1]
        for g in gaps:
            if g.get("fault", "").startswith("kill9") and f["start"] - 3 <= g["end"] and g["start"] <= f["end"] + 20:
                down = f["end"] - f["start"] + max([x for x in rec if x] or [0])
                kill_losses.append(round(g["seconds"] - down, 1))
    log_text = open(os.path.join(args.out, "vigil.log"), errors="replace").read()
    repairs = log_text.count("recordings repaired:")
    check("after each kill -9 at most one segment (~2 s) lost per camera beyond the restart",
          all(x <= 2.5 for x in kill_losses),
          f"{len(kills)} kills, {repairs} repair passes logged; seconds lost beyond restart+reconnect "
          f"per camera gap: max {max(kill_losses, default=0)}, all {sorted(kill_losses)[-10:]}")
    check("index repaired after every kill -9", repairs >= len(kills),
          f"{repairs} 'recordings repaired' lines for {len(kills)} kills")
    # Index = disk at the end (vigil stopped first? it still runs: compare closed recordings).
    mismatch = index_vs_disk(data)
    check("index matches the files of closed recordings", not mismatch, f"{mismatch[:5]}")

    # Disk full: recording resumed while the disk stayed full (retention), and the quota held.
    dfs = [f for f in faults if f["kind"] == "diskfull" and "error" not in f]
    after = []
    for f in dfs:
        busy = {cid for g in faults if g is not f and g["start"] - 5 <= f["end"] + 30 and g["end"] + 20 >= f["start"]
                for cid in (g.get("cameras") or []) if g["kind"] != "diskfull"}
        later = [s for s in st.samples if f["end"] + 20 <= s["t"] <= f["end"] + 40 and "cams" in s]
        if later:
            idle = [cid for cid, v in later[-1]["cams"].items() if not v[2] and cid not in busy]
            after.append(idle)
    check("recording resumes after disk full", all(not a for a in after),
          f"{len(dfs)} disk-full faults; cameras (not in another fault) not recording 20-40 s after: {after}; "
          f"recording while still full: {[f.get('recording_before_filler_removed') for f in dfs]}")
    over = [s["recorded_bytes"] for s in st.samples if s.get("recorded_bytes") and s["recorded_bytes"] > quota * 1.05]
    check("quota holds (index total <= max_bytes + 5 %)", not over,
          f"quota {quota >> 20} MiB, max indexed {max([s.get('recorded_bytes') or 0 for s in st.samples]) >> 20} MiB")

    # Reconnects.
    rec = [r["seconds"] for r in st.reconnects]
    never = sum(1 for r in rec if r is None)
    p50, p99 = pct(rec, 0.5), pct(rec, 0.99)
    check(f"reconnect p99 <= {args.max_reconnect_p99:g} s", never == 0 and (p99 or 0) <= args.max_reconnect_p99,
          f"{len(rec)} recoveries, p50 {p50} s, p99 {p99} s, max {pct(rec, 1)} s, never {never}")

    # Trends over the tail (after the last restart + warm-up).
    last_restart = max([t for t in st.restarts] or [start]) - start
    tail = [s for s in st.samples if s["t"] >= last_restart + args.warmup and "rss_kb" in s
            and s["pid"] == st.vigil.proc.pid]
    rss_slope = slope_per_hour([(s["t"], s["rss_kb"] / 1024) for s in tail])
    span = (tail[-1]["t"] - tail[0]["t"]) if tail else 0
    # What glibc counts in use over the same window: RSS rising while this
    # stays put is freed memory the allocator kept, not memory vigil holds.
    heap = [(s["t"], s["heap_in_use_kb"] / 1024) for s in tail if "heap_in_use_kb" in s]
    heap_slope = slope_per_hour(heap)
    heap_note = (f"; heap in use {heap[0][1]:.0f} -> {heap[-1][1]:.0f} MB, {heap_slope:.2f} MB/h"
                 if heap_slope is not None else "")
    check(f"RSS growth <= {args.max_rss_mb_per_hour:g} MB/h after warm-up",
          rss_slope is not None and rss_slope <= args.max_rss_mb_per_hour,
          f"{rss_slope and round(rss_slope, 2)} MB/h over {span / 60:.1f} min "
          f"({tail[0]['rss_kb'] >> 10 if tail else '?'} -> {tail[-1]['rss_kb'] >> 10 if tail else '?'} MB)"
          + heap_note)
    for key, lim in (("fds", args.max_fd_drift), ("threads", args.max_thread_drift)):
        if len(tail) >= 6:
            k = len(tail) // 3
            a, b = statistics.median(s[key] for s in tail[:k]), statistics.median(s[key] for s in tail[-k:])
            check(f"{key} flat (median of last third - first third <= {lim})", b - a <= lim,
                  f"{a:g} -> {b:g}, range {min(s[key] for s in tail)}-{max(s[key] for s in tail)}")
        else:
            check(f"{key} flat", False, "tail too short to tell")

    crashed = getattr(st, "crashed", None)
    san = [l for l in log_text.splitlines() if "AddressSanitizer" in l or "runtime error:" in l
           or "CRITICAL" in l]
    check("no crash, no sanitizer report, no CRITICAL", crashed is None and not san,
          f"exit {crashed}, {len(san)} lines: {san[:3]}")

    fs = getattr(st, "fsync", None) or {}
    wa = fs.get("write_amp_vs_received")
    check(f"write amplification <= {args.max_write_amp:g}", wa is not None and wa <= args.max_write_amp,
          f"bytes written (wchar) / bytes received (ingest bitrate x window) {wa}, written / segment bytes {fs.get('write_amp_vs_segments')}; "
          f"fsyncs {fs.get('calls')} = {fs.get('fsyncs_per_segment')} per segment, "
          f"{fs.get('fsyncs_per_min_per_camera')} per minute per camera")

    # Live: the server-added send latency and the live.ts readers' drift.
    p50s = [s["send_p50_ms"] for s in st.samples if "send_p50_ms" in s]
    p99s = [s["send_p99_ms"] for s in st.samples if "send_p99_ms" in s]
    lag = [x for _, _, x in viewers.ts_lag]
    live_res = {"send_p50_ms_median": pct(p50s, 0.5), "send_p99_ms_p99": pct(p99s, 0.99),
                "ts_lag_growth_s_median": pct(lag, 0.5), "ts_lag_growth_s_p99": pct(lag, 0.99)}
    check("live.ts readers do not drift behind (lag growth p50 < 0.3 s)",
          live_res["ts_lag_growth_s_median"] is not None and live_res["ts_lag_growth_s_median"] < 0.3,
          f"{live_res}")

    bd = [b["delay"] for b in viewers.browser if b.get("delay") is not None]
    live_res["browser_delay_s"] = {"n": len(bd), "p50": pct(bd, 0.5), "p90": pct(bd, 0.9),
                                   "max": pct(bd, 1)}
    if bd:
        k = max(1, len(bd) // 4)
        live_res["browser_delay_s"]["first_quarter_p50"] = pct(bd[:k], 0.5)
        live_res["browser_delay_s"]["last_quarter_p50"] = pct(bd[-k:], 0.5)
    if getattr(viewers, "browser_started", False):
        check(f"browser delay behind the live edge, median < {args.max_browser_delay:g} s", bd and
              pct(bd, 0.5) < args.max_browser_delay, f"{live_res['browser_delay_s']}" if bd
              else "no browser samples (vigil.log, node bench/soak/browser.mjs by hand)")
    cpu = [s["cpu_pct"] for s in st.samples if "cpu_pct" in s]
    summary = {
        "args": vars(args), "cameras": [c.describe() for c in cams], "tmpfs_mb": tmpfs_mb,
        "quota_bytes": quota, "duration_s": round(end - start), "faults": faults,
        "gaps": gaps, "reconnects": st.reconnects, "fsync": fs, "live": live_res,
        "kill_losses": kill_losses, "checks": checks, "samples": st.samples,
        "ts_lag": viewers.ts_lag, "browser": viewers.browser,
        "cpu_pct": {"median": pct(cpu, 0.5), "p95": pct(cpu, 0.95)},
        "pids": st.pids,
    }
    for f in faults:
        f.pop("start_abs", None)
        f.pop("end_abs", None)
    with open(os.path.join(args.out, "soak.json"), "w") as f:
        json.dump(summary, f, indent=1, default=str)
    dur = end - start
    for name, keys, unit in (("cpu", [("vigil CPU", "cpu_pct")], "% of a core"),
                             ("rss", [("RSS", "rss_kb"), ("heap in use", "heap_in_use_kb"),
                                     ("heap held", "heap_held_kb")], "kB"),
                             ("fds", [("fds", "fds"), ("threads", "threads")], "count"),
                             ("live", [("send p50", "send_p50_ms"), ("send p99", "send_p99_ms")], "ms")):
        svg_plot(os.path.join(args.out, f"{name}.svg"), name,
                 [(label, [(s["t"], s.get(k)) for s in st.samples if k in s]) for label, k in keys],
                 unit, faults, dur)
    svg_plot(os.path.join(args.out, "browser.svg"), "browser delay behind the live edge", [
        ("delay", [(b["t"] - start, b["delay"]) for b in viewers.browser if b.get("delay") is not None])],
        "s", faults, dur)
    svg_plot(os.path.join(args.out, "gaps.svg"), "recording gaps", [
        ("gap s", [(g["start"], g["seconds"]) for g in sorted(gaps, key=lambda g: g["start"])])],
        "s", faults, dur)
    passed = sum(1 for c in checks if c["ok"])
    failed = len(checks) - passed
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write(f"# soak: {len(cams)} cameras, {dur / 60:.1f} min, {args.viewers} viewers, "
                f"a fault every {args.fault_every:g} s\n\n")
        f.write("Cameras: " + "; ".join(c.describe() for c in cams) + "\n\n")
        f.write(f"vigil CPU median {pct(cpu, 0.5)} %, p95 {pct(cpu, 0.95)} % of a core; "
                f"RSS {st.samples[-1].get('rss_kb', 0) >> 10} MB at the end; "
                f"fds {st.samples[-1].get('fds')}; threads {st.samples[-1].get('threads')}\n\n")
        f.write("| fault | start s | end s | cameras | notes |\n|---|---|---|---|---|\n")
        for x in faults:
            notes = {k: v for k, v in x.items() if k not in ("kind", "start", "end", "cameras")}
            f.write(f"| {x['kind']} | {x['start']} | {x['end']} | {','.join(x.get('cameras') or [])} | {notes} |\n")
        f.write("\n| check | result | detail |\n|---|---|---|\n")
        for c in checks:
            f.write(f"| {c['check']} | {'pass' if c['ok'] else '**FAIL**'} | {c['detail']} |\n")
        f.write(f"\n{passed} passed, {failed} failed\n\n")
        f.write("![cpu](cpu.svg) ![rss](rss.svg) ![fds](fds.svg) ![live](live.svg) ![browser](browser.svg) ![gaps](gaps.svg)\n")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


def index_vs_disk(data):
    """Closed recordings whose indexed segments are not the .ts files on disk."""
    bad = []
    try:
        db = sqlite3.connect(f"file:{data}/vigil.db?mode=ro", uri=True, timeout=5)
        recs = db.execute("SELECT id, path FROM recordings WHERE open = 0").fetchall()
        for rid, path in recs:
            rows = {f"{seq:06d}.ts": size for seq, size in
                    db.execute("SELECT seq, size_bytes FROM segments WHERE recording = ?", (rid,))}
            d = os.path.join(data, "recordings", path) if not path.startswith("/") else path
            if not os.path.isdir(d):
                d = os.path.join(data, path)
            try:
                files = {n: os.path.getsize(os.path.join(d, n)) for n in os.listdir(d) if n.endswith(".ts")}
            except OSError:
                files = {}
            if files != rows:
                bad.append({"recording": path, "index": len(rows), "disk": len(files)})
        db.close()
    except sqlite3.Error as e:
        bad.append(str(e))
    return bad


if __name__ == "__main__":
    main()
