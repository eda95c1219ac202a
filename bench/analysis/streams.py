#!/usr/bin/env python3
"""Main and sub streams (issue 14): vigil recording the main stream with the
analysis on the sub stream, against `ffmpeg -c copy` and Debian's `motion`,
in one run on the same fakecam cameras.

Cameras: vigil-fakecam, N × 1920x1080 30 fps 4 Mbit/s H.264 (1 s GOP) main
streams and a 640x360 30 fps 512 kbit/s sub stream each, scene `motion:5`
(still for 5 s from a camera's first client, then a block walking all the
time). A fakecam with sub streams (`camN_sub`, `--sub-size`) serves both;
an older one gets a second fakecam process at 640x360 for the sub streams.
Everything over RTSP/TCP.

At the first N of --cameras (--compare-at), one phase after the other
against the same running fakecam(s), each settled and then measured over
--window seconds:

  ffmpeg       N × `ffmpeg -c copy -f segment` of the main stream (2 s TS
               files, what vigil's continuous recording writes);
  motion-main  one `motion` process, one camera file per camera: decodes the
               main stream (netcam_url = main, 1920x1080, framerate 30),
               detects motion and records movies of it (movie_passthrough);
  motion-dual  the same with motion's dual-stream setup: netcam_url = sub
               (640x360, detection), netcam_high_url = main (movies,
               movie_passthrough on);
  vigil-on     vigil, every camera with source = main, sub_source = sub,
               record continuous, motion on (analysis on the sub stream's
               keyframes: status.analysis_stream "sub" is checked);
  vigil-off    the same with motion off (one sub keyframe per 10 s for the
               dark/frozen alarms);
  decode       gst-launch decoding every frame of camera 1's main stream
               (rtspsrc ! depay ! parse ! avdec_h264 max-threads=1 ! scale
               to 640 GRAY8), minus the same without the decoder (as
               bench/analysis/run.py).

At every other N: vigil-on and vigil-off only.

Measured: CPU (utime+stime of every thread, from /proc/PID/stat) of the
consumer and of fakecam, the machine's busy time (other load = busy minus
both), the bytes every client socket to fakecam received (ss; a consumer
that falls behind receives less than the cameras send), vigil's
vigil_analysis_cpu_seconds_total and vigil_analysis_keyframes_total per
camera from GET /metrics (thread CPU time of the analysis), its cameras'
status, and motion's log (every camera connected, how often it reconnected).
Prints a Markdown table and the issue's targets; logs, motion configs,
results.json and table.md go to --out.

Python standard library, ffmpeg, ss (iproute2), motion (Debian `motion`),
gst-launch-1.0. Only processes this script started are signalled.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "ingest"))
import ingest as ing  # noqa: E402  (/proc readers, spawn/stop, the API client)

log = ing.log


# ---------------------------------------------------------------- fakecam ----

def fakecam_has_sub(binary):
    out = subprocess.run([binary, "--help"], capture_output=True, text=True)
    return "--sub-size" in out.stdout + out.stderr


def start_fakecam(binary, args_list, path, want, timeout=300):
    """Starts one fakecam, waits for `want` "serving" lines; returns the
    process and every served URL in order."""
    log(f"fakecam: {' '.join([binary] + args_list)}")
    p = ing.spawn([binary] + args_list, path)
    deadline = time.monotonic() + timeout  # it encodes its clips first
    while time.monotonic() < deadline:
        if p.poll() is not None:
            sys.exit(f"fakecam exited: see {path}")
        with open(path, errors="replace") as f:
            urls = re.findall(r"serving (rtsp://\S+)", f.read())
        if len(urls) >= want:
            return p, urls
        time.sleep(0.5)
    sys.exit(f"fakecam not ready after {timeout} s: see {path}")


def start_cameras(args, n, out_dir):
    """N main + N sub streams. Returns ([fakecam procs], mains, subs, ports)."""
    binary = os.path.join(args.build_dir, "tools/fakecam/vigil-fakecam")
    common = ["--port", "0", "--cameras", str(n), "--fps", "30", "--gop", "1",
              "--scene", args.scene]
    if fakecam_has_sub(binary):
        p, urls = start_fakecam(binary, common + [
            "--size", "1920x1080", "--bitrate", "4000",
            "--sub-size", "640x360", "--sub-bitrate", str(args.sub_bitrate)],
            os.path.join(out_dir, "fakecam.log"), 2 * n)
        mains = [u for u in urls if re.search(r"/cam\d+$", u)][:n]
        subs = [u for u in urls if re.search(r"/cam\d+_sub$", u)][:n]
        procs, how = [p], "one fakecam, camN and camN_sub"
    else:
        p1, mains = start_fakecam(binary, common + ["--size", "1920x1080", "--bitrate", "4000"],
                                  os.path.join(out_dir, "fakecam-main.log"), n)
        p2, subs = start_fakecam(binary, common + ["--size", "640x360", "--bitrate",
                                                   str(args.sub_bitrate)],
                                 os.path.join(out_dir, "fakecam-sub.log"), n)
        procs, how = [p1, p2], "two fakecams (this fakecam has no sub streams)"
    ports = sorted({int(re.match(r"rtsp://[^/]*:(\d+)/", u).group(1)) for u in mains + subs})
    log(f"cameras: {how}, ports {ports}")
    return procs, mains[:n], subs[:n], ports, how


# ------------------------------------------------------------------ /proc ----

def tcp_bytes(ports):
    """{local port: bytes received} of established sockets to fakecam."""
    expr = " or ".join(f"dport = :{p}" for p in ports)
    out = subprocess.run(["ss", "-tinH", "state", "established", f"( {expr} )"],
                         capture_output=True, text=True, check=True).stdout
    res, local = {}, None
    for line in out.splitlines():
        m = re.match(r"^\s*(\d+)\s+(\d+)\s+\S+:(\d+)\s+\S+:(\d+)", line)
        if m:
            local = int(m.group(3))
            res[local] = 0
            continue
        m = re.search(r"bytes_received:(\d+)", line)
        if m and local is not None:
            res[local] = int(m.group(1))
    return res


def tree_pids(pid):
    """pid and its descendants (gst-launch and motion start no children, but
    be safe)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def ticks(pids):
    total = 0
    for p in pids:
        try:
            total += ing.proc_cpu_ticks(p)
        except OSError:
            pass
    return total


def measure(pids, fakecam_pids, ports, window, metrics=None, poll=None):
    """CPU of pids and of fakecam over the window (% of one core), machine
    busy, bytes received; metrics() before and after, poll() in between."""
    t_thr0 = ing.thread_ticks(pids[0]) if len(pids) == 1 else {}
    m0 = metrics() if metrics else None
    sys0, net0 = ing.system_ticks(), tcp_bytes(ports)
    c0, f0 = ticks(pids), ticks(fakecam_pids)
    t0 = time.monotonic()
    polls = []
    while time.monotonic() < t0 + window:
        time.sleep(min(1.0, t0 + window - time.monotonic()))
        if poll and not polls and time.monotonic() > t0 + window / 2:
            polls.append(poll())
    c1, f1 = ticks(pids), ticks(fakecam_pids)
    elapsed = time.monotonic() - t0
    sys1, net1 = ing.system_ticks(), tcp_bytes(ports)
    m1 = metrics() if metrics else None
    t_thr1 = ing.thread_ticks(pids[0]) if len(pids) == 1 else {}

    def pct(t):
        return 100.0 * t / ing.CLK_TCK / elapsed

    recv = [(net1[k] - net0.get(k, 0)) * 8 / 1000 / elapsed for k in net1]
    by_name, raw = {}, {}
    for tid, (name, t) in t_thr1.items():
        d = t - t_thr0.get(tid, (name, 0))[1]
        key = re.sub(r"\d+", "#", name)
        by_name[key] = by_name.get(key, 0) + d
        raw[name] = raw.get(name, 0) + d
    res = {
        "window_s": elapsed,
        "cpu_pct": pct(c1 - c0),
        "fakecam_cpu_pct": pct(f1 - f0),
        "busy_pct": pct(sys1[0] - sys0[0]),
        "steal_pct": pct(sys1[1] - sys0[1]),
        "connections": len(net1),
        "recv_kbps_total": sum(recv),
        "recv_kbps_each": sorted(recv),
        "rss_kib": sum(ing.rss_kib(p) for p in pids),
        "threads_by_name": sorted(((k, pct(v)) for k, v in by_name.items()), key=lambda x: -x[1]),
        "threads_raw": {k: pct(v) for k, v in raw.items()},
        "polls": polls,
    }
    res["other_load_pct"] = res["busy_pct"] - res["cpu_pct"] - res["fakecam_cpu_pct"]
    if m0 is not None:
        res["analysis_cpu_s"] = {c: m1["cpu"].get(c, 0) - m0["cpu"].get(c, 0) for c in m1["cpu"]}
        res["analysis_keyframes"] = {c: m1["kf"].get(c, 0) - m0["kf"].get(c, 0) for c in m1["kf"]}
        res["analysis_dropped"] = sum(m1["dropped"].values()) - sum(m0["dropped"].values())
        res["analysis_stage_s"] = {k: m1["stage"][k] - m0["stage"].get(k, 0) for k in m1["stage"]}
    return res


def wait_receiving(ports, count, min_bytes, timeout, procs, what):
    """Until `count` client sockets have each received min_bytes."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if any(p.poll() is not None for p in procs):
            sys.exit(f"{what}: a process exited early: see its log in --out")
        conns = tcp_bytes(ports)
        if sum(1 for b in conns.values() if b >= min_bytes) >= count:
            log(f"{what}: {count} connections receiving after {time.monotonic() - t0:.1f} s")
            return True
        time.sleep(0.5)
    log(f"{what}: only {sum(1 for b in tcp_bytes(ports).values() if b >= min_bytes)}/{count} "
        f"connections receiving after {timeout} s; measuring anyway")
    return False


# ------------------------------------------------------------------ phases ----

def phase_ffmpeg(args, n, mains, fc, ports, out_dir):
    seg = tempfile.mkdtemp(prefix="ffmpeg-segments-", dir=out_dir)
    procs = []
    for i, url in enumerate(mains, 1):
        cmd = ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
               "-c", "copy", "-f", "segment", "-segment_time", "2", "-segment_format", "mpegts",
               os.path.join(seg, f"c{i}-%06d.ts")]
        procs.append(ing.spawn(cmd, os.path.join(out_dir, f"ffmpeg-{n}-{i}.log")))
    log(f"ffmpeg: {n} × {' '.join(cmd)}")
    wait_receiving(ports, n, 1_000_000, args.start_timeout, procs, "ffmpeg")
    time.sleep(args.settle)
    log(f"ffmpeg: measuring {args.window} s")
    res = measure([p.pid for p in procs], [p.pid for p in fc], ports, args.window)
    res["exited"] = sum(1 for p in procs if p.poll() is not None)
    res["expected_kbps"] = 4000 * n
    ing.stop(procs)
    shutil.rmtree(seg, ignore_errors=True)
    return res


MOTION_CONF = """\
# motion {mode}: written by bench/analysis/streams.py
daemon off
setup_mode off
log_file {dir}/motion.log
log_level 6
pid_file {dir}/motion.pid
target_dir {dir}
webcontrol_port 0
stream_port 0
# Capture and process every frame of the 30 fps stream (default 15).
framerate 30
# Detection as shipped (threshold 1500, despeckle, noise tuning: defaults).
picture_output off
snapshot_interval 0
# Movies of the main stream's own packets, no re-encoding.
movie_output on
movie_passthrough on
{cameras}
"""

CAMERA_CONF = """\
camera_id {id}
camera_name c{id}
target_dir {dir}
{streams}
"""


def phase_motion(args, n, mains, subs, fc, ports, out_dir, mode):
    """One motion process with a camera file per camera. mode main: it decodes
    the main stream; dual: detection on the sub stream, netcam_high_url the
    main stream for the movies."""
    d = tempfile.mkdtemp(prefix=f"motion-{mode}-{n}-", dir=out_dir)
    cams = []
    for i in range(1, n + 1):
        cdir = os.path.join(d, f"c{i}")
        os.makedirs(cdir)
        if mode == "main":
            streams = (f"netcam_url {mains[i - 1]}\nnetcam_params rtsp_transport=tcp\n"
                       "width 1920\nheight 1080")
        else:
            streams = (f"netcam_url {subs[i - 1]}\nnetcam_params rtsp_transport=tcp\n"
                       f"netcam_high_url {mains[i - 1]}\n"
                       "netcam_high_params rtsp_transport=tcp\nwidth 640\nheight 360")
        path = os.path.join(d, f"camera{i}.conf")
        with open(path, "w") as f:
            f.write(CAMERA_CONF.format(id=i, dir=cdir, streams=streams))
        cams.append(f"camera {path}")
    conf = os.path.join(d, "motion.conf")
    with open(conf, "w") as f:
        f.write(MOTION_CONF.format(mode=mode, dir=d, cameras="\n".join(cams)))
    # Keep the configs next to the results.
    shutil.copy(conf, os.path.join(out_dir, f"motion-{mode}.conf"))
    shutil.copy(os.path.join(d, "camera1.conf"), os.path.join(out_dir, f"motion-{mode}-camera1.conf"))
    cmd = ["motion", "-n", "-c", conf]
    log(f"motion {mode}: {' '.join(cmd)} ({n} camera files)")
    p = ing.spawn(cmd, os.path.join(out_dir, f"motion-{mode}-{n}.out"))
    conns = n if mode == "main" else 2 * n
    wait_receiving(ports, conns, 200_000, args.start_timeout, [p], f"motion {mode}")
    time.sleep(args.settle)
    log(f"motion {mode}: measuring {args.window} s")
    res = measure(tree_pids(p.pid), [q.pid for q in fc], ports, args.window)
    with open(os.path.join(d, "motion.log"), errors="replace") as f:
        text = f.read()
    shutil.copy(os.path.join(d, "motion.log"), os.path.join(out_dir, f"motion-{mode}-{n}.log"))
    res["connected_norm"] = len(re.findall(r"norm: Camera .* connected", text))
    res["connected_high"] = len(re.findall(r"highres: Camera .* connected", text))
    res["reconnects"] = len(re.findall(r"Reconnecting", text))
    res["events"] = len(re.findall(r"Motion detected - starting event", text))
    # Where motion's CPU goes: its threads are ml<N> (a camera's capture and
    # detection loop) and nc<N> (a stream's RTSP reader and decoder); the log
    # says which nc thread reads the normal and which the high stream.
    kind = {name: ("nc " + k) for name, k in
            re.findall(r"\[\d+:(nc\d+:[^\]]+)\] .*?(norm|highres):", text)}
    split = {}
    for name, share in res["threads_raw"].items():
        k = kind.get(name, re.sub(r"\d+(:.*)?", "", name))
        split[k] = split.get(k, 0) + share
    res["threads_split"] = sorted(split.items(), key=lambda x: -x[1])
    movies = []
    for root, _, files in os.walk(d):
        movies += [os.path.join(root, x) for x in files if x.endswith((".mp4", ".mkv"))]
    res["movies"] = len(movies)
    res["movie_bytes"] = sum(os.path.getsize(m) for m in movies)
    res["movie_cameras"] = len({os.path.dirname(m) for m in movies})
    res["expected_kbps"] = (4000 + args.sub_bitrate) * n if mode == "dual" else 4000 * n
    res["exited"] = int(p.poll() is not None)
    log(f"motion {mode}: {res['connected_norm']} normal + {res['connected_high']} high "
        f"connections logged, {res['reconnects']} reconnects, {res['events']} events, "
        f"{res['movies']} movies from {res['movie_cameras']} cameras")
    ing.stop([p], timeout=30)  # motion takes its time to close its cameras
    shutil.rmtree(d, ignore_errors=True)
    return res


def metrics_reader(api):
    def read():
        req = urllib.request.Request(api.base.replace("/api/v1", "") + "/metrics",
                                     headers=api.auth)
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        out = {"cpu": {}, "kf": {}, "dropped": {}, "stage": {}}
        for m in re.finditer(r'vigil_analysis_seconds_total\{camera="[^"]+",stage="(\w+)"\} '
                             r'([\d.eE+-]+)', text):
            out["stage"][m.group(1)] = out["stage"].get(m.group(1), 0) + float(m.group(2))
        for key, name in (("cpu", "vigil_analysis_cpu_seconds_total"),
                          ("kf", "vigil_analysis_keyframes_total"),
                          ("dropped", "vigil_analysis_dropped_total")):
            for m in re.finditer(name + r'\{camera="([^"]+)"\} ([\d.eE+-]+)', text):
                out[key][m.group(1)] = float(m.group(2))
        return out
    return read


def status_summary(cams):
    st = [c["status"] for c in cams]
    subs = [s.get("sub") or {} for s in st]
    fps = [s.get("fps") or 0 for s in st]
    sfps = [x.get("fps") or 0 for x in subs]
    return {
        "cameras": len(st),
        "streaming": sum(1 for s in st if s["state"] == "streaming"),
        "sub_streaming": sum(1 for x in subs if x.get("state") == "streaming"),
        "analysis_sub": sum(1 for s in st if s.get("analysis_stream") == "sub"),
        "fps_min": min(fps) if fps else None,
        "sub_fps_min": min(sfps) if sfps else None,
        "reconnects": sum((s.get("reconnects") or 0) + (x.get("reconnects") or 0)
                          for s, x in zip(st, subs)),
        "errors": sorted({e for s, x in zip(st, subs) for e in (s.get("error"), x.get("error"))
                          if e}),
    }


def phase_vigil(args, n, mains, subs, fc, ports, out_dir, motion):
    name = "vigil-on" if motion else "vigil-off"
    port = ing.free_port()
    data = tempfile.mkdtemp(prefix=f"vigil-{n}-", dir=out_dir)
    env = dict(os.environ, VIGIL_ADMIN_PASSWORD=ing.ADMIN_PASSWORD)
    env.pop("VIGIL_RTSP_FRONTEND", None)
    cmd = [os.path.join(args.build_dir, "src/vigil"), "--data-dir", data,
           "--listen", f"127.0.0.1:{port}", "--log-level", "warning"]
    log(f"{name}: {' '.join(cmd)}")
    v = ing.spawn(cmd, os.path.join(out_dir, f"{name}-{n}.log"), env)
    api = ing.Api(port)
    deadline = time.monotonic() + 30
    while not api.healthy():
        if v.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"vigil did not start: see {name}-{n}.log in --out")
        time.sleep(0.2)
    for i in range(1, n + 1):
        body = {"id": f"c{i}", "name": f"c{i}", "source": mains[i - 1],
                "sub_source": subs[i - 1], "rtsp_transport": "tcp", "record": "continuous",
                "motion": {"enabled": motion}}
        api.request("POST", "/cameras", body)
    log(f"{name}: {n} cameras, {json.dumps(body)}")
    t0 = time.monotonic()
    while True:
        s = status_summary(api.request("GET", "/cameras"))
        if s["streaming"] == n and s["sub_streaming"] == n and s["analysis_sub"] == n:
            log(f"{name}: all {n} cameras streaming, sub streams streaming, analysis_stream "
                f"sub after {time.monotonic() - t0:.1f} s")
            break
        if time.monotonic() - t0 > args.start_timeout:
            log(f"{name}: after {args.start_timeout} s only {s}; measuring anyway")
            break
        time.sleep(0.5)
    time.sleep(args.settle)
    log(f"{name}: measuring {args.window} s")
    poll = lambda: status_summary(api.request("GET", "/cameras"))  # noqa: E731
    res = measure([v.pid], [q.pid for q in fc], ports, args.window,
                  metrics=metrics_reader(api), poll=poll)
    res["status_end"] = poll()
    res["expected_kbps"] = (4000 + args.sub_bitrate) * n
    one = api.request("GET", "/cameras/c1")["status"]
    res["c1_analysis_stream"] = one.get("analysis_stream")
    res["c1_sub"] = {k: (one.get("sub") or {}).get(k)
                     for k in ("state", "width", "height", "fps", "keyframe_interval_s")}
    rec_dir = os.path.join(data, "recordings")
    res["recorded_bytes"] = sum(os.path.getsize(os.path.join(r, f))
                                for r, _, fs in os.walk(rec_dir) for f in fs
                                if f.endswith(".ts"))
    ing.stop([v], timeout=20)
    shutil.rmtree(data, ignore_errors=True)
    return res


def phase_decode(args, mains, fc, ports, out_dir):
    url = mains[0]
    decode = ("gst-launch-1.0 -q rtspsrc protocols=tcp latency=0 location=%s ! rtph264depay "
              "! h264parse ! avdec_h264 max-threads=1 ! videoscale ! videoconvert "
              "! video/x-raw,format=GRAY8,width=640,height=360 ! fakesink" % url)
    nodecode = ("gst-launch-1.0 -q rtspsrc protocols=tcp latency=0 location=%s ! rtph264depay "
                "! h264parse ! fakesink" % url)
    log(f"decode: {decode}")
    procs = [ing.spawn(c.split(), os.path.join(out_dir, f"gst-{i}.log"))
             for i, c in enumerate((decode, nodecode))]
    wait_receiving(ports, 2, 1_000_000, args.start_timeout, procs, "decode")
    time.sleep(args.settle)
    t0 = time.monotonic()
    a0 = [ticks(tree_pids(p.pid)) for p in procs]
    time.sleep(args.window)
    a1 = [ticks(tree_pids(p.pid)) for p in procs]
    el = time.monotonic() - t0
    pct = [100.0 * (b - a) / ing.CLK_TCK / el for a, b in zip(a0, a1)]
    ing.stop(procs)
    return {"decode_pct": pct[0], "nodecode_pct": pct[1], "every_frame_pct": pct[0] - pct[1]}


# ------------------------------------------------------------------ report ----

def per_cam_analysis(v, n):
    """(analysis % of one core per camera, keyframes/s per camera)."""
    cpu = sum(v["analysis_cpu_s"].values())
    kf = sum(v["analysis_keyframes"].values())
    return 100.0 * cpu / v["window_s"] / n, kf / v["window_s"] / n


def row(n, k, name, r, extra=""):
    recv = f"{r['recv_kbps_total'] / 1000:.1f} / {r['expected_kbps'] / 1000:.1f}"
    return (f"| {n} | {k} | {name} | {r['cpu_pct']:.1f} | {r['cpu_pct'] / n:.2f} | {extra} | "
            f"{r['fakecam_cpu_pct']:.1f} | {r['connections']}, {recv} | "
            f"{r['other_load_pct']:.0f} (steal {r.get('steal_pct', 0):.0f}) |")


def targets_of(n, r):
    """[(target, measured, ratio, bar)] of one round at N cameras."""
    out = []
    on, off = r.get("vigil-on"), r.get("vigil-off")
    if on:
        von = on["cpu_pct"] / n
        a_on, k_on = per_cam_analysis(on, n)
        if "motion-main" in r:
            m = r["motion-main"]["cpu_pct"] / n
            out.append(("vigil motion on ≤ 1/10 of motion decoding the main stream",
                        f"{von:.2f} / {m:.2f}", von / m, 0.1))
        if "motion-dual" in r:
            m = r["motion-dual"]["cpu_pct"] / n
            out.append(("vigil motion on ≤ 1/3 of motion dual-stream",
                        f"{von:.2f} / {m:.2f}", von / m, 1 / 3))
            out.append(("analysis (metrics, motion on) ≤ 1/20 of motion dual-stream",
                        f"{a_on:.3f} / {m:.2f}", a_on / m, 0.05))
            if off:
                diff = von - off["cpu_pct"] / n
                out.append(("analysis (vigil on − off) ≤ 1/20 of motion dual-stream",
                            f"{diff:.3f} / {m:.2f}", diff / m, 0.05))
        if "motion-main" in r:
            m = r["motion-main"]["cpu_pct"] / n
            out.append(("analysis (metrics, motion on) ≤ 1/20 of motion main-stream",
                        f"{a_on:.3f} / {m:.2f}", a_on / m, 0.05))
        out.append(("keyframe branch on sub ≤ 0.15 % of a core per camera (~1 keyframe/s)",
                    f"{k_on:.2f} kf/s", a_on, 0.15))
        if "decode" in r:
            e = r["decode"]["every_frame_pct"]
            out.append(("keyframe branch on sub ≤ 1/30 of decoding every main frame",
                        f"{a_on:.3f} / {e:.2f}", a_on / e, 1 / 30))
        out.append(("vigil motion on, % of one core (≤ 100), fakecam separately",
                    f"fakecam {on['fakecam_cpu_pct']:.1f} %", on["cpu_pct"], 100))
    if off:
        a_off, k_off = per_cam_analysis(off, n)
        voff = off["cpu_pct"] / n
        out.append(("analysis off: its analysis / the camera's whole cost ≤ 5 %",
                    f"{a_off:.4f} / {voff:.2f}, {k_off:.3f} kf/s", 100 * a_off / voff, 5))
    return out


def report(results):
    lines = ["| N | round | consumer | CPU (% of one core) | per camera | analysis per camera "
             "(metrics), keyframes/s | fakecam CPU | connections, received / sent Mbit/s "
             "| other load (steal) |", "|---|---|---|---|---|---|---|---|---|"]
    targets = {}
    for res in results:
        n, k, r = res["n"], res["round"], res["phases"]
        for key, label in (("ffmpeg", f"ffmpeg -c copy -f segment ×{n} (main)"),
                           ("motion-main", "motion, main stream decoded"),
                           ("motion-dual", "motion, dual stream (sub + high, passthrough)")):
            if key in r:
                x = r[key]
                extra = ""
                if key.startswith("motion"):
                    extra = (f"{x['connected_norm']}+{x['connected_high']} connected, "
                             f"{x['reconnects']} reconnects, {x['movie_cameras']}/{n} "
                             "cameras wrote movies")
                lines.append(row(n, k, label, x, extra))
        for key in ("vigil-on", "vigil-off"):
            if key in r:
                v = r[key]
                a, kf = per_cam_analysis(v, n)
                s = v["status_end"]
                extra = (f"{a:.3f} %, {kf:.2f}/s; {s['streaming']}/{n} streaming, "
                         f"{s['analysis_sub']}/{n} analysis on sub")
                label = ("vigil, continuous + motion on" if key == "vigil-on"
                         else "vigil, continuous + motion off")
                lines.append(row(n, k, label, v, extra))
        if "decode" in r:
            d = r["decode"]
            lines.append(f"| 1 | {k} | gst avdec_h264 every frame of main (1 thread, to 640 GRAY8) "
                         f"minus no decoder | {d['every_frame_pct']:.2f} | "
                         f"{d['every_frame_pct']:.2f} | {d['decode_pct']:.2f} − "
                         f"{d['nodecode_pct']:.2f} | | | |")
        for what, detail, value, bar in targets_of(n, r):
            targets.setdefault((n, what), []).append((detail, value, bar))
    t = ["| N | target | measured (each round) | bar | met |", "|---|---|---|---|---|"]
    for (n, what), vals in targets.items():
        ok = sum(1 for _, v, bar in vals if v <= bar)
        verdict = ("yes" if ok == len(vals) else "**no**" if ok == 0
                   else f"**at the bar** ({ok} of {len(vals)} rounds)")
        t.append(f"| {n} | {what} | " + "; ".join(f"**{v:.3g}** ({d})" for d, v, _ in vals)
                 + f" | {vals[0][2]:.3g} | {verdict} |")
    return "\n".join(lines), "\n".join(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="/tmp/build-bench")
    ap.add_argument("--cameras", default="8,32",
                    help="comma-separated N (default 8,32); the comparison at --compare-at")
    ap.add_argument("--compare-at", type=int, default=None,
                    help="N at which ffmpeg, motion and the decode run (default: the first N)")
    ap.add_argument("--window", type=float, default=30, help="measuring window, s (30)")
    ap.add_argument("--settle", type=float, default=10, help="wait before measuring, s (10)")
    ap.add_argument("--start-timeout", type=float, default=60)
    ap.add_argument("--scene", default="motion:5")
    ap.add_argument("--sub-bitrate", type=int, default=512, help="kbit/s (512)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the phases at --compare-at this many times (1)")
    ap.add_argument("--phases", default="ffmpeg,motion-main,motion-dual,vigil-on,vigil-off,decode",
                    help="phases at --compare-at, in this order")
    ap.add_argument("--out", default=None,
                    help="logs, configs, results (default: a new /tmp/vigil-bench-streams-*)")
    args = ap.parse_args()
    args.cameras = [int(x) for x in args.cameras.split(",")]
    compare_at = args.compare_at or args.cameras[0]
    out_dir = args.out or tempfile.mkdtemp(prefix="vigil-bench-streams-")
    os.makedirs(out_dir, exist_ok=True)
    for tool in ("ffmpeg", "ss", "motion", "gst-launch-1.0"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found (motion: apt-get install -y motion)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    motion_version = subprocess.run(["motion", "-h"], capture_output=True,
                                    text=True).stdout.splitlines()[0]
    meta = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "argv": sys.argv,
            "loadavg_start": ing.loadavg(), "git_head": ing.git("rev-parse", "--short", "HEAD"),
            "motion": motion_version}
    log(f"load average {' '.join(meta['loadavg_start'])}; {motion_version}; results in {out_dir}")
    results = []
    try:
        # One fakecam for all N: cameras nobody watches cost nothing.
        fc, mains, subs, ports, how = start_cameras(args, max(args.cameras), out_dir)
        meta["cameras"] = how
        time.sleep(1)
        for n in args.cameras:
            rounds = args.rounds if n == compare_at else 1
            for k in range(1, rounds + 1):
                r = {}
                results.append({"n": n, "round": k, "phases": r})
                phases = (args.phases.split(",") if n == compare_at
                          else ["vigil-on", "vigil-off"])
                for ph in phases:
                    if ph == "ffmpeg":
                        r[ph] = phase_ffmpeg(args, n, mains[:n], fc, ports, out_dir)
                    elif ph in ("motion-main", "motion-dual"):
                        r[ph] = phase_motion(args, n, mains[:n], subs[:n], fc, ports, out_dir,
                                             ph.split("-")[1])
                    elif ph in ("vigil-on", "vigil-off"):
                        r[ph] = phase_vigil(args, n, mains[:n], subs[:n], fc, ports, out_dir,
                                            ph == "vigil-on")
                    elif ph == "decode":
                        r[ph] = phase_decode(args, mains, fc, ports, out_dir)
                    else:
                        sys.exit(f"unknown phase {ph}")
                    time.sleep(3)  # let fakecam tear the sessions down
        ing.stop(fc)
    finally:
        ing.stop([p for p in ing.started if p.poll() is None], timeout=30)
    meta["loadavg_end"] = ing.loadavg()
    table, targets = report(results)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(table + "\n\n" + targets + "\n")
    print(f"\nmain 1920x1080@30 4000 kbit/s + sub 640x360@30 {args.sub_bitrate} kbit/s H.264, "
          f"GOP 1 s, scene {args.scene}, RTSP/TCP ({meta['cameras']}); window "
          f"{args.window:.0f} s after {args.settle:.0f} s settle; CPU in % of one core; "
          f"{motion_version}\n")
    print(table)
    print()
    print(targets)
    for res in results:
        n, r = f"{res['n']} round {res['round']}", res["phases"]
        for key in ("vigil-on", "vigil-off"):
            if key in r:
                v = r[key]
                print(f"\nN={n} {key}: threads (% of one core): " + ", ".join(
                    f"{k} {p:.2f}" for k, p in v["threads_by_name"][:10]))
                print(f"N={n} {key}: status mid-window {v['polls']}; end {v['status_end']}; "
                      f"c1 analysis_stream {v['c1_analysis_stream']}, sub {v['c1_sub']}; "
                      f"analysis dropped {v['analysis_dropped']:.0f}; wall ms per keyframe "
                      + ", ".join(f"{k} {1000 * t / max(1, sum(v['analysis_keyframes'].values())):.2f}"
                                  for k, t in v["analysis_stage_s"].items())
                      + f", CPU ms per keyframe {1000 * sum(v['analysis_cpu_s'].values()) / max(1, sum(v['analysis_keyframes'].values())):.2f}; recorded "
                      f"{v['recorded_bytes'] / 1e6:.0f} MB; RSS {v['rss_kib'] / 1024:.0f} MiB")
        for key in ("motion-main", "motion-dual"):
            if key in r:
                x = r[key]
                print(f"\nN={n} {key}: {x['connected_norm']} normal + {x['connected_high']} "
                      f"high-res connections in its log, {x['reconnects']} reconnects, "
                      f"{x['events']} events, {x['movies']} movies "
                      f"({x['movie_bytes'] / 1e6:.0f} MB) from {x['movie_cameras']}/{res['n']} cameras; "
                      f"per-socket kbit/s min {min(x['recv_kbps_each'] or [0]):.0f}; "
                      "CPU by thread kind (% of one core, ml = capture + detection loop, "
                      "nc = RTSP reader + decoder): " + ", ".join(
                          f"{k} {p:.1f}" for k, p in x["threads_split"]))
    print(f"\ngit {meta['git_head']}; load average start {' '.join(meta['loadavg_start'])}, "
          f"end {' '.join(meta['loadavg_end'])}; files in {out_dir}")


if __name__ == "__main__":
    main()
