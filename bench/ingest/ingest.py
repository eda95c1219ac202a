#!/usr/bin/env python3
"""Ingest benchmark: vigil vs `ffmpeg -c copy`, N RTSP cameras each, over TCP
or UDP (--transport).

For every N in --cameras, in one run:
  1. start vigil-fakecam with N cameras (pre-encoded, looped), wait for it;
  2. for each RTSP front end in --frontends (vigil's own client, the default;
     libavformat with VIGIL_RTSP_FRONTEND=libav; rtspsrc with
     VIGIL_RTSP_FRONTEND=gstreamer): start vigil, add N
     cameras, wait until all are
     "streaming", settle, then measure over --window seconds: vigil's CPU
     (utime+stime from /proc/PID/stat, all threads), RSS, threads, CPU per
     thread name, fakecam's CPU, the bytes every client socket received (ss),
     the machine's total busy time (/proc/stat) and the cameras' status;
  3. optionally (--profile-cameras) perf-record vigil for --profile seconds;
  4. stop vigil, start N `ffmpeg -c copy -f segment` (2 s TS files, as vigil's
     continuous recording writes; --ffmpeg-output null: -f mpegts /dev/null)
     against the same fakecam, settle, and measure the same things summed over
     the ffmpegs. With UDP, received bytes are not counted (only TCP is).
Then print a table, and write results.json, table.md and perf reports to --out.

Python standard library only. Only processes this script started are signalled.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
ADMIN_PASSWORD = "bench-pw"

started = []  # every Popen this script started, stopped on exit


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc ----

def proc_cpu_ticks(pid):
    """utime+stime of a whole process (all its threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        # comm may contain spaces: the fields start after the last ')'.
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat(5)


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def rss_kib(pid):
    return int(proc_status(pid)["VmRSS"].split()[0])


def pss_kib(pid):
    """Proportional set size: shared library pages divided among sharers."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def threads(pid):
    return int(proc_status(pid)["Threads"])


def thread_ticks(pid):
    """{tid: (name, ticks)} for every thread of pid."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                data = f.read()
        except OSError:
            continue  # thread ended
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data.rsplit(")", 1)[1].split()
        out[tid] = (name, int(fields[11]) + int(fields[12]))
    return out


def ctx_switches(pid):
    """Context switches (voluntary + involuntary) summed over pid's threads:
    a thread hand-off per packet shows up here."""
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches:",
                                        "nonvoluntary_ctxt_switches:")):
                        total += int(line.split()[1])
        except OSError:
            continue  # thread ended
    return total


def system_ticks():
    """(busy, steal, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = vals[:8]
    busy = user + nice + system + irq + softirq
    return busy, steal, sum(vals[:8])


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def tcp_client_bytes(port):
    """{local_port: bytes_received} for established sockets to 127.0.0.1:port
    (the clients' side of every RTSP/TCP connection to fakecam)."""
    out = subprocess.run(
        ["ss", "-tinH", "state", "established", "dst", f"127.0.0.1:{port}"],
        capture_output=True, text=True, check=True).stdout
    result = {}
    local = None
    for line in out.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+\S+:(\d+)\s+\S+:(\d+)", line)
        if m:
            local = int(m.group(3))
            result[local] = {"recv_q": int(m.group(1)), "bytes": 0}
            continue
        m = re.search(r"bytes_received:(\d+)", line)
        if m and local is not None:
            result[local]["bytes"] = int(m.group(1))
    return result


# ------------------------------------------------------------ processes ----

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(args, out_path, env=None):
    f = open(out_path, "wb")
    p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env)
    f.close()
    started.append(p)
    return p


def stop(procs, timeout=10):
    """SIGTERM the given processes (ours), then SIGKILL what is left."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def start_fakecam(args, n, out_dir):
    path = os.path.join(out_dir, f"fakecam-{n}.log")
    cmd = [os.path.join(args.build_dir, "tools/fakecam/vigil-fakecam"),
           "--port", "0", "--cameras", str(n), "--size", args.size,
           "--fps", str(args.fps), "--bitrate", str(args.bitrate),
           "--gop", str(args.gop), "--scene", args.scene]
    log(f"fakecam: {' '.join(cmd)}")
    p = spawn(cmd, path)
    deadline = time.monotonic() + 180  # it encodes the clip first
    urls = []
    while time.monotonic() < deadline:
        if p.poll() is not None:
            sys.exit(f"fakecam exited: see {path}")
        with open(path, errors="replace") as f:
            urls = re.findall(r"serving (rtsp://\S+/cam\d+)", f.read())
        if len(urls) >= n:
            break
        time.sleep(0.5)
    else:
        sys.exit(f"fakecam not ready after 180 s: see {path}")
    port = int(re.match(r"rtsp://[^/]*:(\d+)/", urls[0]).group(1))
    with open(path, errors="replace") as f:
        enc = re.search(r"encoded scene .*", f.read())
    return p, urls[:n], port, enc.group(0) if enc else None


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}/api/v1"
        token = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
        self.auth = {"Authorization": f"Basic {token}"}

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(self.auth)
        if data is not None:
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def healthy(self):
        try:
            urllib.request.urlopen(self.base + "/health", timeout=2).read()
            return True
        except (urllib.error.URLError, OSError):
            return False


def camera_summary(cams, fps_expected):
    st = [c["status"] for c in cams]
    streaming = [s for s in st if s["state"] == "streaming"]
    fps = [s["fps"] or 0.0 for s in streaming]
    kbps = [s["bitrate_kbps"] or 0 for s in streaming]
    return {
        "cameras": len(st),
        "streaming": len(streaming),
        "states": sorted({s["state"] for s in st}),
        "fps_min": min(fps) if fps else None,
        "fps_mean": statistics.mean(fps) if fps else None,
        "below_fps": sum(1 for f in fps if f < fps_expected * 0.97),
        "kbps_mean": statistics.mean(kbps) if kbps else None,
        "reconnects": sum(s.get("reconnects") or 0 for s in st),
        "errors": sorted({s["error"] for s in st if s.get("error")}),
    }


# ------------------------------------------------------------ measuring ----

def measure(pids, fakecam_pid, port, window, poll=None, poll_every=15):
    """CPU of pids (summed) and of fakecam over `window` seconds; memory and
    threads of pids at the end; bytes received by all client sockets."""
    def all_ticks():
        return sum(proc_cpu_ticks(p) for p in pids)

    polls = []
    t_threads0 = thread_ticks(pids[0]) if len(pids) == 1 else {}
    sys0 = system_ticks()
    net0 = tcp_client_bytes(port)
    x0 = sum(ctx_switches(p) for p in pids)
    c0, f0 = all_ticks(), proc_cpu_ticks(fakecam_pid)
    t0 = time.monotonic()
    next_poll = t0 + poll_every
    while True:
        now = time.monotonic()
        if now >= t0 + window:
            break
        if poll and now >= next_poll:
            polls.append(poll())
            next_poll += poll_every
        time.sleep(min(1.0, t0 + window - now))
    c1, f1 = all_ticks(), proc_cpu_ticks(fakecam_pid)
    elapsed = time.monotonic() - t0
    x1 = sum(ctx_switches(p) for p in pids)
    net1 = tcp_client_bytes(port)
    sys1 = system_ticks()
    t_threads1 = thread_ticks(pids[0]) if len(pids) == 1 else {}

    def pct(ticks):  # % of one core over the window
        return 100.0 * ticks / CLK_TCK / elapsed

    per_conn = [(net1[k]["bytes"] - net0.get(k, {"bytes": 0})["bytes"]) * 8 / 1000 / elapsed
                for k in net1]
    busy = pct(sys1[0] - sys0[0])
    by_name = {}
    for tid, (name, ticks) in t_threads1.items():
        d = ticks - t_threads0.get(tid, (name, 0))[1]
        key = re.sub(r"\d+", "#", name)
        by_name.setdefault(key, [0, 0])
        by_name[key][0] += 1
        by_name[key][1] += d
    threads_by_name = sorted(((k, v[0], pct(v[1])) for k, v in by_name.items()),
                             key=lambda x: -x[2])
    res = {
        "window_s": elapsed,
        "cpu_pct": pct(c1 - c0),
        "fakecam_cpu_pct": pct(f1 - f0),
        "rss_kib": sum(rss_kib(p) for p in pids),
        "pss_kib": sum(pss_kib(p) or 0 for p in pids),
        "hwm_kib": sum(int(proc_status(p)["VmHWM"].split()[0]) for p in pids),
        "threads": sum(threads(p) for p in pids),
        # Threads that ended during the window take their count with them.
        "ctx_switches_per_s": (x1 - x0) / elapsed,
        "connections": len(net1),
        "recv_kbps_per_conn_mean": statistics.mean(per_conn) if per_conn else 0,
        "recv_kbps_per_conn_min": min(per_conn) if per_conn else 0,
        "recv_q_bytes_end": sum(v["recv_q"] for v in net1.values()),
        "system_busy_pct": busy,
        "system_steal_pct": pct(sys1[1] - sys0[1]),
        "threads_by_name": threads_by_name,
        "polls": polls,
    }
    res["other_load_pct"] = busy - res["cpu_pct"] - res["fakecam_cpu_pct"]
    return res


def phase_vigil(args, n, urls, fc, port, out_dir, frontend="vigil"):
    api_port = free_port()
    data = tempfile.mkdtemp(prefix=f"vigil-bench-{n}-", dir=out_dir)
    env = dict(os.environ, VIGIL_ADMIN_PASSWORD=ADMIN_PASSWORD)
    env.pop("VIGIL_RTSP_FRONTEND", None)
    if frontend in ("libav", "gstreamer"):
        env["VIGIL_RTSP_FRONTEND"] = frontend
    log(f"vigil: RTSP front end {frontend}")
    cmd = [os.path.join(args.build_dir, "src/vigil"), "--data-dir", data,
           "--listen", f"127.0.0.1:{api_port}", "--log-level", "warning"]
    log(f"vigil: {' '.join(cmd)}")
    v = spawn(cmd, os.path.join(out_dir, f"vigil-{n}-{frontend}.log"), env)
    api = Api(api_port)
    deadline = time.monotonic() + 30
    while not api.healthy():
        if v.poll() is not None or time.monotonic() > deadline:
            sys.exit("vigil did not start: see its log in --out")
        time.sleep(0.2)
    base_rss = rss_kib(v.pid)
    base_threads = threads(v.pid)
    for i, url in enumerate(urls, 1):
        body = {"id": f"c{i}", "name": f"c{i}", "source": url,
                "rtsp_transport": args.transport}
        body.update(json.loads(args.camera_json))
        api.request("POST", "/cameras", body)
    t0 = time.monotonic()
    to_streaming = None
    while True:
        s = camera_summary(api.request("GET", "/cameras"), args.fps)
        if s["streaming"] == n:
            to_streaming = time.monotonic() - t0
            log(f"vigil: all {n} cameras streaming after {to_streaming:.1f} s")
            break
        if time.monotonic() - t0 > args.start_timeout:
            log(f"vigil: only {s['streaming']}/{n} streaming after {args.start_timeout} s;"
                " measuring anyway")
            break
        time.sleep(0.5)
    time.sleep(args.settle)
    log(f"vigil: measuring {args.window} s")
    poll = lambda: camera_summary(api.request("GET", "/cameras"), args.fps)
    res = measure([v.pid], fc.pid, port, args.window, poll)
    res["status_end"] = poll()
    res["base_rss_kib"] = base_rss
    res["base_threads"] = base_threads
    res["time_to_streaming_s"] = to_streaming
    if n in args.profile_cameras and args.profile > 0:
        res["profile"] = profile(args, n, v.pid, out_dir)
        res["status_after_profile"] = poll()
    stop([v])
    shutil.rmtree(data, ignore_errors=True)
    return res


def phase_ffmpeg(args, n, urls, fc, port, out_dir):
    procs = []
    seg_dir = tempfile.mkdtemp(prefix=f"ffmpeg-segments-{n}-", dir=out_dir)
    for i, url in enumerate(urls, 1):
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", args.transport,
               "-i", url, "-c", "copy"]
        if args.ffmpeg_output == "segment":
            # What vigil does with continuous recording: 2 s TS files on disk.
            cmd += ["-f", "segment", "-segment_time", "2", "-segment_format", "mpegts",
                    os.path.join(seg_dir, f"c{i}-%06d.ts")]
        else:
            cmd += ["-f", "mpegts", "-y", "/dev/null"]
        procs.append(spawn(cmd, os.path.join(out_dir, f"ffmpeg-{n}-{i}.log")))
    log(f"ffmpeg: started {n} × {' '.join(cmd)}")
    t0 = time.monotonic()
    while True:  # "streaming" = every connection has received video
        if args.transport == "udp":
            # RTP over UDP is not in the TCP byte counts: give them time.
            if time.monotonic() - t0 > 5:
                break
        else:
            conns = tcp_client_bytes(port)
            if sum(1 for c in conns.values() if c["bytes"] > 1_000_000) >= n:
                log(f"ffmpeg: {n} connections receiving after {time.monotonic() - t0:.1f} s")
                break
        if any(p.poll() is not None for p in procs):
            sys.exit("an ffmpeg exited early: see ffmpeg-*.log in --out")
        if time.monotonic() - t0 > args.start_timeout:
            log("ffmpeg: not all connections receiving; measuring anyway")
            break
        time.sleep(0.5)
    time.sleep(args.settle)
    log(f"ffmpeg: measuring {args.window} s")
    res = measure([p.pid for p in procs], fc.pid, port, args.window)
    res["exited"] = sum(1 for p in procs if p.poll() is not None)
    stop(procs)
    shutil.rmtree(seg_dir, ignore_errors=True)
    return res


def profile(args, n, pid, out_dir):
    """perf record of vigil with DWARF call graphs (Debian's libraries have no
    frame pointers; the VM has no hardware counters, so the event is the
    software cpu-clock), then summaries: self time by library, by symbol and
    by thread, and inclusive time of named (exported) functions and syscalls.
    Symbols show as hex where a library's static functions are stripped."""
    if not shutil.which("perf"):
        log("perf not found: no profile")
        return None
    data = os.path.join(out_dir, f"perf-{n}.data")
    log(f"perf: recording vigil ({n} cameras) for {args.profile} s")
    cg = ["--call-graph", "dwarf,16384"] if args.perf_callgraph == "dwarf" else ["-g"]
    subprocess.run(["perf", "record", "-e", "cpu-clock", "-F", str(args.perf_freq), *cg,
                    "-p", str(pid), "-o", data, "--", "sleep", str(args.profile)],
                   capture_output=True, check=True)
    reports = {}
    views = (
        ("dso", ["--no-children", "--sort", "dso"], None),
        ("symbol", ["--no-children", "--sort", "dso,symbol"], None),
        ("thread", ["--no-children", "--sort", "comm"], None),
        # Inclusive: what each named function costs with all it calls.
        ("inclusive", ["--children", "--sort", "dso,symbol"],
         lambda l: "[k]" not in l and " 0x0000" not in l),
        ("syscalls", ["--children", "--sort", "symbol"],
         lambda l: re.search(r"\[k\] (__x64_sys_\w+|schedule|asm_sysvec\w+|handle_softirqs)(\s|$)", l)),
    )
    for name, opts, keep in views:
        out = subprocess.run(["perf", "report", "-i", data, *opts, "--stdio", "-g", "none",
                              "--percent-limit", "0.3"],
                             capture_output=True, text=True).stdout
        header = [l for l in out.splitlines() if l.startswith("# Samples")]
        # Software events have no IPC: drop perf's empty IPC columns.
        lines = [re.sub(r"\s+-\s+-\s*$", "", l) for l in out.splitlines()
                 if l.strip() and not l.startswith("#")]
        if keep:
            lines = [l for l in lines if keep(l)]
        with open(os.path.join(out_dir, f"perf-{n}-{name}.txt"), "w") as f:
            f.write("\n".join(header + lines) + "\n")
        reports[name] = lines
    reports["samples"] = header
    return reports


# --------------------------------------------------------------- report ----

def recv(r, args):
    if args.transport == "udp":
        return "n/a (UDP)"
    return f"{r['recv_kbps_per_conn_mean']:.0f} (min {r['recv_kbps_per_conn_min']:.0f})"


def fmt_table(results, args):
    rows = []
    head = ("| N | consumer | CPU total (% of 1 core) | CPU/camera | RSS total MiB | RSS/camera MiB"
            " | threads | ctx switches/s per camera | fakecam CPU | recv kbit/s per cam "
            "| other load | streaming, fps |")
    rows.append(head)
    rows.append("|" + "---|" * (head.count("|") - 1))
    for n, r in results.items():
        f = r["ffmpeg"]
        for frontend, v in r["vigil"].items():
            s = v["status_end"]
            fps = (f"{s['streaming']}/{n} streaming, fps min {s['fps_min']:.1f} mean "
                   f"{s['fps_mean']:.1f}" if s["fps_min"] is not None
                   else f"{s['streaming']}/{n} streaming")
            if s["reconnects"]:
                fps += f", {s['reconnects']} reconnects"
            rows.append(f"| {n} | vigil ({frontend}) | {v['cpu_pct']:.1f} | {v['cpu_pct'] / n:.2f} | "
                        f"{v['rss_kib'] / 1024:.1f} | {v['rss_kib'] / 1024 / n:.2f} "
                        f"(above idle {(v['rss_kib'] - v['base_rss_kib']) / 1024 / n:.2f}) | "
                        f"{v['threads']} | {v['ctx_switches_per_s'] / n:.0f} | "
                        f"{v['fakecam_cpu_pct']:.1f} | {recv(v, args)} | "
                        f"{v['other_load_pct']:.1f} | {fps} |")
        rows.append(f"| {n} | ffmpeg ×{n} | {f['cpu_pct']:.1f} | {f['cpu_pct'] / n:.2f} | "
                    f"{f['rss_kib'] / 1024:.1f} (PSS {f['pss_kib'] / 1024:.1f}) | "
                    f"{f['rss_kib'] / 1024 / n:.2f} (PSS {f['pss_kib'] / 1024 / n:.2f}) | "
                    f"{f['threads']} | {f['ctx_switches_per_s'] / n:.0f} | "
                    f"{f['fakecam_cpu_pct']:.1f} | {recv(f, args)} | "
                    f"{f['other_load_pct']:.1f} | {f['exited']} exited |")
        for frontend, v in r["vigil"].items():
            rows.append(f"| {n} | **vigil ({frontend}) / ffmpeg** | | "
                        f"**{v['cpu_pct'] / f['cpu_pct']:.2f}** | "
                        f"**{v['rss_kib'] / f['rss_kib']:.2f}** (vs PSS "
                        f"{v['rss_kib'] / max(1, f['pss_kib']):.2f}) | | | | | | | |")
    return "\n".join(rows)


def git(*args):
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    r = subprocess.run(["git", "-C", top, *args], capture_output=True, text=True)
    return r.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="/tmp/build-bench")
    ap.add_argument("--cameras", default="8,32", help="comma-separated N (default 8,32)")
    ap.add_argument("--window", type=float, default=60, help="measuring window, s (60)")
    ap.add_argument("--settle", type=float, default=10, help="wait before measuring, s (10)")
    ap.add_argument("--start-timeout", type=float, default=60,
                    help="max wait for all cameras to stream, s (60)")
    ap.add_argument("--profile", type=float, default=20, help="perf record length, s; 0 = none")
    ap.add_argument("--profile-cameras", default="8", help="N to profile at (8)")
    ap.add_argument("--perf-freq", type=int, default=1999, help="samples/s of CPU time (1999)")
    ap.add_argument("--perf-callgraph", choices=("dwarf", "fp"), default="dwarf")
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--bitrate", type=int, default=4000, help="kbit/s (4000)")
    ap.add_argument("--gop", type=float, default=1, help="s (1)")
    ap.add_argument("--scene", default="noise")
    ap.add_argument("--camera-json", default="{}",
                    help='extra camera fields, e.g. \'{"motion": {"enabled": false}, '
                         '"record": "off"}\' for ingest alone (default: vigil\'s '
                         'defaults, i.e. keyframe motion analysis on, record "events" '
                         'with a 5 s RAM pre-roll)')
    ap.add_argument("--transport", choices=("tcp", "udp"), default="tcp",
                    help="RTSP transport of vigil and ffmpeg (tcp)")
    ap.add_argument("--frontends", default="vigil",
                    help="vigil RTSP front ends to measure, comma list of vigil (its own "
                         "client, the default), libav (VIGIL_RTSP_FRONTEND=libav), gstreamer "
                         "(VIGIL_RTSP_FRONTEND=gstreamer, rtspsrc)")
    ap.add_argument("--ffmpeg-output", choices=("segment", "null"), default="segment",
                    help="segment: ffmpeg -c copy -f segment (2 s TS files, what continuous "
                         "recording does); null: -f mpegts /dev/null")
    ap.add_argument("--out", default=None, help="logs, perf data, results.json "
                    "(default: a new /tmp/vigil-bench-ingest-*)")
    args = ap.parse_args()
    args.cameras = [int(x) for x in args.cameras.split(",")]
    args.profile_cameras = [int(x) for x in args.profile_cameras.split(",") if x]
    out_dir = args.out or tempfile.mkdtemp(prefix="vigil-bench-ingest-")
    os.makedirs(out_dir, exist_ok=True)

    for tool in ("ffmpeg", "ss"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    meta = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "argv": sys.argv,
        "loadavg_start": loadavg(),
        "uname_r": os.uname().release,
        "git_head": git("rev-parse", "--short", "HEAD"),
        # Others edit the tree while benchmarks run: say what was measured.
        "git_dirty_src": git("status", "--porcelain", "--", "src", "tools").splitlines(),
    }
    log(f"load average at start: {' '.join(meta['loadavg_start'])}; results in {out_dir}")
    results = {}
    try:
        for n in args.cameras:
            fc, urls, port, enc = start_fakecam(args, n, out_dir)
            log(f"fakecam ready on port {port}: {enc}")
            time.sleep(1)
            r = {"fakecam_encode": enc}
            r["vigil"] = {}
            for frontend in args.frontends.split(","):
                r["vigil"][frontend] = phase_vigil(args, n, urls, fc, port, out_dir, frontend)
                time.sleep(2)  # let fakecam tear down vigil's sessions
            r["ffmpeg"] = phase_ffmpeg(args, n, urls, fc, port, out_dir)
            stop([fc])
            results[n] = r
    finally:
        stop([p for p in started if p.poll() is None])

    meta["loadavg_end"] = loadavg()
    table = fmt_table(results, args)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(table + "\n")

    print(f"\nvigil ingest vs ffmpeg -c copy -f {args.ffmpeg_output}; {args.size}@{args.fps} "
          f"{args.bitrate} kbit/s GOP {args.gop} s, RTSP/{args.transport.upper()}; window {args.window:.0f} s after {args.settle:.0f} s "
          f"settle; CPU in % of one core\n")
    print(table)
    for n, r in results.items():
        for frontend, v in r["vigil"].items():
            print(f"\nN={n} {frontend}: vigil idle RSS {v['base_rss_kib'] / 1024:.1f} MiB, "
                  f"{v['base_threads']} threads before cameras; peak RSS "
                  f"{v['hwm_kib'] / 1024:.1f} MiB; recv queue at end {v['recv_q_bytes_end']} B "
                  f"(ffmpeg {r['ffmpeg']['recv_q_bytes_end']} B); steal "
                  f"{v['system_steal_pct']:.1f} %; all streaming after "
                  f"{v['time_to_streaming_s'] or -1:.1f} s")
            print(f"N={n} {frontend}: status during window: " + "; ".join(
                f"{p['streaming']}/{p['cameras']} fps {p['fps_min']:.1f}-{p['fps_mean']:.1f}"
                if p["fps_min"] is not None else f"{p['streaming']}/{p['cameras']}"
                for p in v["polls"]))
            print(f"N={n} {frontend}: vigil CPU by thread name (count, % of one core): " +
                  ", ".join(f"{name} ×{count} {pct:.1f}"
                            for name, count, pct in v["threads_by_name"][:12]))
            prof = v.get("profile")
            if prof:
                print(f"\nN={n} {frontend}: perf {' '.join(prof['samples'])}")
                for name in ("dso", "symbol", "thread", "inclusive", "syscalls"):
                    print(f"\nN={n} {frontend}: perf {name} (top 30; self time unless "
                          "inclusive):")
                    print("\n".join(prof[name][:30]))
    print(f"\ngit {meta['git_head']}, uncommitted changes in src/ tools/: "
          f"{len(meta['git_dirty_src'])} files")
    print(f"\nload average start {' '.join(meta['loadavg_start'])}, end "
          f"{' '.join(meta['loadavg_end'])}; files in {out_dir}")


if __name__ == "__main__":
    main()
