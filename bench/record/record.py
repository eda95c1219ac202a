"""Recording benchmark (Python standard library only). See run.sh and
docs/recording.md. Prints a Markdown table and writes results.json.

Phases, for each N in --cameras:
1. vigil-fakecam with N 1920x1080 30 fps 4000 kbit/s H.264 cameras (1 s GOP,
   scene noise);
2. vigil recording all N continuously AND N `ffmpeg -rtsp_transport tcp -i URL
   -c copy -f segment -segment_time 2` on the same streams, at the same time;
   after a settle time, CPU (utime+stime from /proc/PID/stat) of vigil and of
   the ffmpegs over the window; vigil's bytes read/written (/proc/PID/io
   rchar/wchar) and the bytes its recordings grew by (index);
3. fsyncs and segments: vigil's /metrics counters over --fsync-window
   seconds;
4. export: a recording of --export-minutes built from recorded segments
   (ffmpeg -stream_loop ... -c copy -f segment), indexed by vigil's crash
   repair on restart, then GET /api/v1/recordings/{id}/export.mp4 timed.
"""
import argparse
import base64
import datetime
import glob
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

PW = "bench-pw"
HZ = os.sysconf("SC_CLK_TCK")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime (all threads)
    except OSError:
        return 0


def io(pid):
    out = {}
    with open(f"/proc/{pid}/io") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v)
    return out


def tcp_received(pid, port):
    """Bytes @pid's TCP sockets to 127.0.0.1:@port have received (ss -ti)."""
    out = subprocess.run(["ss", "-tinpH", "dst", f"127.0.0.1:{port}"], capture_output=True,
                         text=True).stdout
    total, mine = 0, False
    for line in out.splitlines():
        if "users:(" in line:
            mine = f"pid={pid}," in line
        for tok in line.split():
            if mine and tok.startswith("bytes_received:"):
                total += int(tok.split(":")[1])
    return total


def system_busy():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4]  # all but idle and iowait


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.auth = "Basic " + base64.b64encode(f"admin:{PW}".encode()).decode()

    def req(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.base + path, data=data, method=method,
                                   headers={"Authorization": self.auth})
        with urllib.request.urlopen(r, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")

    def metrics(self):
        """The unlabelled samples of /metrics: {name: value}."""
        r = urllib.request.Request(self.base + "/metrics", headers={"Authorization": self.auth})
        with urllib.request.urlopen(r, timeout=30) as resp:
            text = resp.read().decode()
        return {line.split()[0]: float(line.split()[1]) for line in text.splitlines()
                if line and not line.startswith("#") and "{" not in line}


def start_vigil(build, data, port, log_path):
    env = dict(os.environ, VIGIL_ADMIN_PASSWORD=PW)
    p = subprocess.Popen([f"{build}/src/vigil", "--data-dir", data, "--listen",
                          f"127.0.0.1:{port}", "--log-level", "warning"],
                         stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, env=env)
    api = Api(port)
    for _ in range(100):
        try:
            api.req("GET", "/api/v1/cameras")
            return p, api
        except OSError:
            time.sleep(0.1)
    raise SystemExit("vigil did not start")


def recorded_bytes(data):
    db = sqlite3.connect(os.path.join(data, "vigil.db"))
    try:
        return db.execute("SELECT COALESCE(SUM(size_bytes), 0) FROM segments").fetchone()[0]
    finally:
        db.close()


def run(args, n, out):
    work = tempfile.mkdtemp(prefix="vigil-bench-record-", dir=args.tmp)
    data = os.path.join(work, "data")
    res = {"cameras": n}
    fport = free_port()
    fc = subprocess.Popen([f"{args.build_dir}/tools/fakecam/vigil-fakecam", "--port", str(fport),
                           "--cameras", str(n), "--size", "1920x1080", "--fps", "30",
                           "--bitrate", "4000", "--gop", "1", "--scene", "noise"],
                          stdout=subprocess.PIPE, stderr=open(f"{work}/fakecam.log", "wb"),
                          text=True)
    while "serving rtsp://" not in fc.stdout.readline():
        pass
    urls = [f"rtsp://127.0.0.1:{fport}/cam{i}" for i in range(1, n + 1)]
    port = free_port()
    vp, api = start_vigil(args.build_dir, data, port, f"{work}/vigil.log")
    for i, url in enumerate(urls, 1):
        api.req("POST", "/api/v1/cameras", {"id": f"c{i}", "name": f"c{i}", "source": url,
                                            "record": "continuous"})
    ff = []
    for i, url in enumerate(urls, 1):
        d = os.path.join(work, "ffmpeg", f"c{i}")
        os.makedirs(d)
        ff.append(subprocess.Popen(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp", "-i", url,
             "-c", "copy", "-f", "segment", "-segment_time", "2", "-segment_format", "mpegts",
             os.path.join(d, "%06d.ts")], stderr=open(f"{work}/ffmpeg-c{i}.log", "wb")))
    deadline = time.time() + 30
    while time.time() < deadline:
        cams = api.req("GET", "/api/v1/cameras")
        if all(c["status"]["recording"] for c in cams):
            break
        time.sleep(0.5)
    log(f"N={n}: all streaming and recording; settling {args.settle} s")
    time.sleep(args.settle)

    pids_ff = [p.pid for p in ff]
    t0, v0, f0, fc0, s0 = (time.time(), ticks(vp.pid), sum(ticks(p) for p in pids_ff),
                           ticks(fc.pid), system_busy())
    io0, rec0, rx0 = io(vp.pid), recorded_bytes(data), tcp_received(vp.pid, fport)
    ff_bytes0 = sum(os.path.getsize(p) for p in glob.glob(f"{work}/ffmpeg/*/*.ts"))
    time.sleep(args.window)
    t1, v1, f1, fc1, s1 = (time.time(), ticks(vp.pid), sum(ticks(p) for p in pids_ff),
                           ticks(fc.pid), system_busy())
    io1, rec1, rx1 = io(vp.pid), recorded_bytes(data), tcp_received(vp.pid, fport)
    ff_bytes1 = sum(os.path.getsize(p) for p in glob.glob(f"{work}/ffmpeg/*/*.ts"))
    el = t1 - t0
    pct = lambda d: 100.0 * d / HZ / el
    cams = api.req("GET", "/api/v1/cameras")
    res.update({
        "window_s": round(el, 1),
        "vigil_cpu_pct": round(pct(v1 - v0), 2),
        "vigil_cpu_pct_per_camera": round(pct(v1 - v0) / n, 3),
        "ffmpeg_cpu_pct": round(pct(f1 - f0), 2),
        "ffmpeg_cpu_pct_per_camera": round(pct(f1 - f0) / n, 3),
        "fakecam_cpu_pct": round(pct(fc1 - fc0), 2),
        "other_load_pct": round(pct(s1 - s0) - pct(v1 - v0) - pct(f1 - f0) - pct(fc1 - fc0), 1),
        "vigil_tcp_received": rx1 - rx0,
        "vigil_wchar": io1["wchar"] - io0["wchar"],
        "vigil_recorded_bytes": rec1 - rec0,
        "ffmpeg_written_bytes": ff_bytes1 - ff_bytes0,
        "bitrate_kbps_status": [c["status"]["bitrate_kbps"] for c in cams],
        "recording": all(c["status"]["recording"] for c in cams),
    })
    # Bytes written by write(2) (segments, playlists, thumbnails, SQLite)
    # per byte received from the cameras (RTSP interleaved RTP over TCP).
    res["written_per_received"] = round(res["vigil_wchar"] / max(1, res["vigil_tcp_received"]), 3)
    res["segments_per_received"] = round(res["vigil_recorded_bytes"] /
                                         max(1, res["vigil_tcp_received"]), 3)
    res["recorded_per_ffmpeg"] = round(res["vigil_recorded_bytes"] /
                                       max(1, res["ffmpeg_written_bytes"]), 3)
    log(f"N={n}: vigil {res['vigil_cpu_pct_per_camera']} %/camera, ffmpeg "
        f"{res['ffmpeg_cpu_pct_per_camera']} %/camera")
    for p in ff:
        p.send_signal(signal.SIGINT)
    for p in ff:
        p.wait(10)

    # The same cameras with recording off: what recording itself costs.
    for c in range(1, n + 1):
        api.req("PATCH", f"/api/v1/cameras/c{c}", {"record": "off"})
    time.sleep(3)
    t0, v0 = time.time(), ticks(vp.pid)
    time.sleep(args.window / 2)
    res["vigil_cpu_pct_per_camera_no_recording"] = round(
        100.0 * (ticks(vp.pid) - v0) / HZ / (time.time() - t0) / n, 3)
    log(f"N={n}: vigil without recording {res['vigil_cpu_pct_per_camera_no_recording']} %/camera")
    for c in range(1, n + 1):
        api.req("PATCH", f"/api/v1/cameras/c{c}", {"record": "continuous"})
    time.sleep(3)

    # fsyncs per minute per camera, from vigil's own counters (/metrics): no
    # strace, whose ptrace stops every system call of every thread (at 32
    # cameras ~11,000 recv a second) and so changes what it counts.
    m0 = api.metrics()
    time.sleep(args.fsync_window)
    m1 = api.metrics()
    calls = m1["vigil_fsyncs_total"] - m0["vigil_fsyncs_total"]
    segs = m1["vigil_record_segments_total"] - m0["vigil_record_segments_total"]
    res["fsyncs_per_min_per_camera"] = round(calls / (args.fsync_window / 60) / n, 1)
    res["segments_per_min_per_camera"] = round(segs / (args.fsync_window / 60) / n, 1)
    res["fsyncs_per_segment"] = round(calls / max(1, segs), 2)
    log(f"N={n}: {res['fsyncs_per_min_per_camera']} fsyncs/min/camera, "
        f"{res['segments_per_min_per_camera']} segments/min/camera, "
        f"{res['fsyncs_per_segment']} fsyncs/segment")

    # Export speed of a long recording.
    if args.export_minutes > 0 and n == args.cameras[0]:
        for c in range(1, n + 1):
            api.req("PATCH", f"/api/v1/cameras/c{c}", {"record": "off"})
        time.sleep(2)
        vp.send_signal(signal.SIGTERM)
        vp.wait(30)
        src = sorted(glob.glob(f"{data}/recordings/c1/*/*/0*.ts"))
        joined = os.path.join(work, "joined.ts")
        with open(joined, "wb") as out_f:
            for s in src:
                with open(s, "rb") as in_f:
                    shutil.copyfileobj(in_f, out_f)
        got = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                              "-of", "csv=p=0", joined], capture_output=True, text=True)
        dur = float(got.stdout.strip())
        loops = max(0, int(args.export_minutes * 60 / dur) - 1)
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
        rel = f"bench/{now:%Y-%m-%d}/{now:%Y%m%dT%H%M%SZ}"
        rdir = os.path.join(data, "recordings", rel)
        os.makedirs(rdir)
        log(f"building a {args.export_minutes}-minute recording from {dur:.0f} s x {loops + 1}")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-stream_loop", str(loops), "-i",
                        joined, "-c", "copy", "-f", "segment", "-segment_time", "2",
                        "-segment_format", "mpegts", "-segment_start_number", "1",
                        os.path.join(rdir, "%06d.ts")], check=True)
        segs = sorted(glob.glob(f"{rdir}/*.ts"))
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:3",
                 "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD", "# vigil-reason: manual"]
        t = now
        for s in segs:
            lines += [f"#EXT-X-PROGRAM-DATE-TIME:{t:%Y-%m-%dT%H:%M:%S}.000Z", "#EXTINF:2.000,",
                      os.path.basename(s)]
            t += datetime.timedelta(seconds=2)
        lines.append("#EXT-X-ENDLIST")
        with open(os.path.join(rdir, "playlist.m3u8"), "w") as f:
            f.write("\n".join(lines) + "\n")
        ts_bytes = sum(os.path.getsize(s) for s in segs)
        vp, api = start_vigil(args.build_dir, data, port, f"{work}/vigil.log")  # repair indexes it
        rec = api.req("GET", "/api/v1/recordings?camera=bench")[0]
        t0, c0 = time.time(), ticks(vp.pid)
        r = urllib.request.Request(f"{api.base}/api/v1/recordings/{rec['id']}/export.mp4",
                                   headers={"Authorization": api.auth})
        mp4 = os.path.join(work, "export.mp4")
        with urllib.request.urlopen(r, timeout=3600) as resp, open(mp4, "wb") as f:
            shutil.copyfileobj(resp, f, 1 << 20)
        el = time.time() - t0
        cpu = ticks(vp.pid) - c0
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                                "format=duration:stream=codec_name,width,height", "-of", "json",
                                mp4], capture_output=True, text=True)
        res["export"] = {
            "recording_s": round(rec["duration_s"]), "ts_bytes": ts_bytes,
            "mp4_bytes": os.path.getsize(mp4), "seconds": round(el, 2),
            "mb_per_s": round(ts_bytes / 1e6 / el, 1),
            "vigil_cpu_s": round(cpu / HZ, 2),
            "mp4_probe": json.loads(probe.stdout) if probe.returncode == 0 else probe.stderr,
        }
        log(f"export: {ts_bytes / 1e6:.0f} MB of TS in {el:.1f} s = "
            f"{res['export']['mb_per_s']} MB/s")
    vp.send_signal(signal.SIGTERM)
    vp.wait(30)
    fc.terminate()
    fc.wait(10)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--cameras", default="8", help="comma list, e.g. 8,32")
    ap.add_argument("--window", type=int, default=60)
    ap.add_argument("--settle", type=int, default=10)
    ap.add_argument("--fsync-window", type=int, default=30)
    ap.add_argument("--export-minutes", type=float, default=60)
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--out", default=None, help="directory for results.json")
    ap.add_argument("--keep", action="store_true", help="keep the recordings")
    args = ap.parse_args()
    args.cameras = [int(x) for x in args.cameras.split(",")]
    results = {"date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "uname": " ".join(os.uname()), "runs": []}
    for n in args.cameras:
        results["runs"].append(run(args, n, args.out))
    print("| N | vigil %/cam | vigil, recording off %/cam | ffmpeg segment %/cam | fakecam % | other load % | "
          "written/received | segments/received | vigil/ffmpeg bytes | fsyncs/min/cam | segments/min/cam | "
          "fsyncs/segment |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results["runs"]:
        print(f"| {r['cameras']} | {r['vigil_cpu_pct_per_camera']} | "
              f"{r['vigil_cpu_pct_per_camera_no_recording']} | "
              f"{r['ffmpeg_cpu_pct_per_camera']} | {r['fakecam_cpu_pct']} | "
              f"{r['other_load_pct']} | {r['written_per_received']} | "
              f"{r['segments_per_received']} | "
              f"{r['recorded_per_ffmpeg']} | {r['fsyncs_per_min_per_camera']} | "
              f"{r['segments_per_min_per_camera']} | {r['fsyncs_per_segment']} |")
        if "export" in r:
            e = r["export"]
            print(f"\nexport: {e['recording_s']} s recording, {e['ts_bytes'] / 1e6:.0f} MB TS → "
                  f"{e['mp4_bytes'] / 1e6:.0f} MB MP4 in {e['seconds']} s = {e['mb_per_s']} MB/s, "
                  f"vigil CPU {e['vigil_cpu_s']} s")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
