#!/usr/bin/env python3
"""Where vigil's memory goes: N RTSP cameras from vigil-fakecam, one vigil per
variant (camera settings and environment), measured after a settle time.

For every variant, in turn:
  1. start vigil, measure it idle;
  2. add the cameras, wait until all stream, sample RSS every 5 s for
     --settle seconds; minor page faults per second and CPU over the settle
     time after its first 10 s; the analysis counters of GET /metrics;
  3. measure: /proc/PID/status, smaps_rollup, smaps grouped by kind of mapping
     (shared libraries, glibc's main heap, its other arenas, thread stacks,
     other anonymous mappings), and through gdb glibc's malloc_info() (what
     the allocator holds, what of it is free, its mmapped blocks) and
     malloc_stats() (into vigil's log);
  4. with --trim, call malloc_trim(0) through gdb and measure again: the RSS
     that was free memory the allocator held (--after-trim S: and whether it
     comes back within S seconds);
  5. stop vigil, print the breakdown of its RSS above idle.

vigil-fakecam (1920x1080, 30 fps, 4000 kbit/s, 1 s GOP) is started once, or
--fakecam-log names the log of one already running. Python standard library,
plus gdb for steps 3-4. Only processes this script started are signalled.
results.json, the smaps and malloc_info files go to --out.

  M='"motion":{"enabled":false}'
  bench/ingest/memory.py --build-dir /tmp/b-rss --cameras 8 --trim \
      --variant "continuous={$M,\"record\":\"continuous\"}" \
      --variant "arena2={$M,\"record\":\"continuous\"}@MALLOC_ARENA_MAX=2"
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ADMIN_PASSWORD = "bench-pw"
ARENA_SIZE = 64 * 1024 * 1024  # glibc's HEAP_MAX_SIZE on 64-bit
started = []


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def kib(pid, key):
    return int(status(pid)[key].split()[0])


def stat_counters(pid):
    """(minor faults, CPU ticks) of the whole process from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[7]), int(fields[11]) + int(fields[12])


def thread_ticks(pid):
    """{thread name with digits as #: CPU ticks} summed over pid's threads."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                data = f.read()
        except OSError:
            continue
        name = re.sub(r"\d+", "#", data[data.index("(") + 1:data.rindex(")")])
        fields = data.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0) + int(fields[11]) + int(fields[12])
    return out


def rollup(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            m = re.match(r"^(\w+):\s+(\d+) kB", line)
            if m:
                out[m.group(1)] = int(m.group(2))
    return out


def smaps(pid):
    """[(start, end, perms, path, {field: kB})] from /proc/PID/smaps."""
    maps = []
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$", line)
            if m:
                maps.append([int(m.group(1), 16), int(m.group(2), 16), m.group(3),
                             m.group(4).strip(), {}])
                continue
            m = re.match(r"^(\w+):\s+(\d+) kB", line)
            if m and maps:
                maps[-1][4][m.group(1)] = int(m.group(2))
    return maps


def classify(maps):
    """Groups mappings: {kind: {"n", "size", "rss", "pss", "anon"}} in kB.
    Arenas: glibc maps each non-main arena as a 64 MiB-aligned region, the
    part in use read-write and the rest PROT_NONE. Thread stacks: read-write
    mappings with a PROT_NONE guard page right below (glibc's pthread stacks)."""
    kinds = {}

    def add(kind, m):
        k = kinds.setdefault(kind, {"n": 0, "size": 0, "rss": 0, "pss": 0, "anon": 0})
        k["n"] += 1
        k["size"] += (m[1] - m[0]) // 1024
        k["rss"] += m[4].get("Rss", 0)
        k["pss"] += m[4].get("Pss", 0)
        k["anon"] += m[4].get("Anonymous", 0)

    for i, m in enumerate(maps):
        start, end, perms, path = m[0], m[1], m[2], m[3]
        prev = maps[i - 1] if i > 0 else None
        if path == "[heap]":
            add("main arena ([heap], brk)", m)
        elif path == "[stack]":
            add("main thread stack", m)
        elif path.startswith("["):
            add(f"kernel {path}", m)
        elif path:
            lib = ".so" in os.path.basename(path)
            add("files: shared libraries" if lib else f"files: other", m)
        elif perms.startswith("---"):
            add("anon: PROT_NONE (guards, arena reserve)", m)
        elif start % ARENA_SIZE == 0 and (end - start) <= ARENA_SIZE and (
                i + 1 < len(maps) and maps[i + 1][0] == end and maps[i + 1][2].startswith("---")
                and maps[i + 1][1] - start == ARENA_SIZE or end - start == ARENA_SIZE):
            add("anon: malloc arenas (threads)", m)
        elif prev and prev[1] == start and prev[2].startswith("---") and \
                prev[1] - prev[0] <= 64 * 1024 and (end - start) >= 1024 * 1024:
            add("anon: thread stacks", m)
        else:
            add("anon: other (mmap'd malloc blocks, libraries' own)", m)
    return kinds


def breakdown(idle, loaded):
    """RSS above idle by where it is, in MiB: the sum is the RSS above idle."""
    def k(snap, name):
        return snap["kinds"].get(name, {}).get("rss", 0) / 1024
    m = loaded["malloc"]
    heaps = ("main arena ([heap], brk)", "anon: malloc arenas (threads)")
    other = "anon: other (mmap'd malloc blocks, libraries' own)"
    in_use = (m["system"] - m["free"]) / 2**20  # "rest" includes each top chunk
    mmapped = m["mmap_bytes"] / 2**20
    arenas = sum(k(loaded, h) for h in heaps)
    stacks = ("anon: thread stacks", "main thread stack")
    rows = {
        "shared libraries (file pages and their data)":
            k(loaded, "files: shared libraries") - k(idle, "files: shared libraries"),
        "malloc: in use (arenas and mmapped blocks)": in_use + mmapped,
        "malloc: free but resident in arenas": arenas - in_use,
        "other anonymous mappings": k(loaded, other) - mmapped,
        "thread stacks": sum(k(loaded, s) - k(idle, s) for s in stacks),
        "other files": k(loaded, "files: other") - k(idle, "files: other"),
        "heap and anonymous mappings at idle (subtracted)":
            -sum(k(idle, h) for h in heaps) - k(idle, other),
    }
    rows["rest (kernel mappings)"] = (loaded["rss"] - idle["rss"]) / 1024 - sum(rows.values())
    return rows


def gdb_calls(pid, calls):
    """Runs `call EXPR` for each expression in pid through gdb (pauses it)."""
    cmd = ["gdb", "-p", str(pid), "-batch", "-nx", "-q"]
    for c in calls:
        cmd += ["-ex", c]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return r.stdout + r.stderr


def malloc_report(pid, out_dir, tag):
    """malloc_info() into a file, malloc_stats() into vigil's stderr (its log)."""
    xml = os.path.join(out_dir, f"malloc-info-{tag}.xml")
    gdb_calls(pid, [
        f'set $f = (void *) fopen("{xml}", "w")',
        "call (int) malloc_info(0, $f)",
        "call (int) fclose($f)",
        "call (void) malloc_stats()",
    ])
    try:
        with open(xml) as f:
            text = f.read()
    except OSError:
        return None
    heaps = []
    for h in re.finditer(r'<heap nr="(\d+)">(.*?)</heap>', text, re.S):
        body = h.group(2)
        free = sum(int(x) for x in re.findall(r'<total type="(?:fast|rest)" count="\d+" size="(\d+)"/>', body))
        cur = int(re.search(r'<system type="current" size="(\d+)"/>', body).group(1))
        heaps.append({"nr": int(h.group(1)), "system": cur, "free": free})
    tail = text[text.rfind("</heap>"):]
    mmap = re.search(r'<total type="mmap" count="(\d+)" size="(\d+)"/>', tail)
    return {"heaps": heaps,
            "arenas": len(heaps),
            "system": sum(h["system"] for h in heaps),
            "free": sum(h["free"] for h in heaps),
            "mmap_count": int(mmap.group(1)) if mmap else None,
            "mmap_bytes": int(mmap.group(2)) if mmap else None}


def snapshot(pid, out_dir, tag, with_malloc=True):
    s = status(pid)
    r = {"rss": kib(pid, "VmRSS"), "rss_anon": kib(pid, "RssAnon"),
         "rss_file": kib(pid, "RssFile"), "hwm": kib(pid, "VmHWM"),
         "threads": int(s["Threads"]), "rollup": rollup(pid),
         "kinds": classify(smaps(pid))}
    names = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                n = re.sub(r"\d+", "#", f.read().strip())
        except OSError:
            continue
        names[n] = names.get(n, 0) + 1
    r["thread_names"] = names
    shutil.copy(f"/proc/{pid}/smaps", os.path.join(out_dir, f"smaps-{tag}.txt"))
    if with_malloc:
        r["malloc"] = malloc_report(pid, out_dir, tag)
    return r


# --------------------------------------------------------------- running ----

def spawn(args, out_path, env=None):
    f = open(out_path, "wb")
    p = subprocess.Popen(args, stdout=f, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, env=env)
    f.close()
    started.append(p)
    return p


def stop(p, timeout=15):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fakecam_urls(path, n, p=None):
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if p is not None and p.poll() is not None:
            sys.exit(f"fakecam exited: see {path}")
        with open(path, errors="replace") as f:
            urls = re.findall(r"serving (rtsp://\S+/cam\d+)", f.read())
        if len(urls) >= n:
            return urls[:n]
        time.sleep(0.5)
    sys.exit(f"fakecam not ready: see {path}")


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
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")

    def metrics(self):
        """Sums of the Prometheus counters in GET /metrics, by name (and stage)."""
        req = urllib.request.Request(self.base.replace("/api/v1", "/metrics"), headers=self.auth)
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read().decode()
        out = {}
        for m in re.finditer(r'^(vigil_analysis_\w+)\{[^}]*?(?:stage="(\w+)")?\}\s+(\S+)$', text, re.M):
            key = m.group(1) + (f":{m.group(2)}" if m.group(2) else "")
            out[key] = out.get(key, 0.0) + float(m.group(3))
        return out

    def healthy(self):
        try:
            urllib.request.urlopen(self.base + "/health", timeout=2).read()
            return True
        except (urllib.error.URLError, OSError):
            return False


def run_variant(args, name, camera_json, env_extra, urls, out_dir):
    port = free_port()
    data = tempfile.mkdtemp(prefix=f"vigil-mem-{name}-", dir=out_dir)
    env = dict(os.environ, VIGIL_ADMIN_PASSWORD=ADMIN_PASSWORD)
    env.update(env_extra)
    cmd = [args.vigil or os.path.join(args.build_dir, "src/vigil"), "--data-dir", data,
           "--listen", f"127.0.0.1:{port}", "--log-level", "warning"]
    log(f"{name}: {' '.join(f'{k}={v}' for k, v in env_extra.items())} {' '.join(cmd)}")
    v = spawn(cmd, os.path.join(out_dir, f"vigil-{name}.log"), env)
    try:
        api = Api(port)
        deadline = time.monotonic() + 30
        while not api.healthy():
            if v.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"vigil did not start: see {out_dir}/vigil-{name}.log")
            time.sleep(0.2)
        idle = snapshot(v.pid, out_dir, f"{name}-idle", with_malloc=False)
        for i, url in enumerate(urls, 1):
            body = {"id": f"c{i}", "name": f"c{i}", "source": url, "rtsp_transport": args.transport}
            body.update(json.loads(camera_json))
            api.request("POST", "/cameras", body)
        t0 = time.monotonic()
        while True:
            cams = api.request("GET", "/cameras")
            streaming = sum(1 for c in cams if c["status"]["state"] == "streaming")
            if streaming == len(urls):
                break
            if time.monotonic() - t0 > 60:
                log(f"{name}: only {streaming}/{len(urls)} streaming after 60 s")
                break
            time.sleep(0.5)
        samples = []
        t1 = time.monotonic()
        counters0 = None
        while time.monotonic() - t1 < args.settle:
            time.sleep(5)
            samples.append(kib(v.pid, "VmRSS"))
            if counters0 is None and time.monotonic() - t1 >= 10:
                counters0 = (time.monotonic(), *stat_counters(v.pid))
                threads0 = thread_ticks(v.pid)
        t2, flt, ticks = time.monotonic(), *stat_counters(v.pid)
        threads1 = thread_ticks(v.pid)
        window = t2 - counters0[0]
        hz = os.sysconf("SC_CLK_TCK")
        cams = api.request("GET", "/cameras")
        metrics = api.metrics()
        res = {"name": name, "camera_json": camera_json, "env": env_extra, "idle": idle,
               "rss_samples_kib": samples,
               "streaming": sum(1 for c in cams if c["status"]["state"] == "streaming"),
               "fps": [c["status"]["fps"] for c in cams],
               "analysis_metrics": metrics,
               # Over the settle time after its first 10 s; CPU is noisy
               # on a shared machine, page faults are not.
               "minflt_per_s": (flt - counters0[1]) / window,
               "cpu_pct": 100.0 * (ticks - counters0[2]) / hz / window,
               # Threads that ended in the window take their ticks with them.
               "cpu_pct_by_thread": {k: 100.0 * (t - threads0.get(k, 0)) / hz / window
                                     for k, t in threads1.items()}}
        res["loaded"] = snapshot(v.pid, out_dir, f"{name}-loaded")
        if args.trim:
            gdb_calls(v.pid, ["call (int) malloc_trim(0)"])
            time.sleep(1)
            res["trimmed"] = snapshot(v.pid, out_dir, f"{name}-trimmed", with_malloc=False)
            if args.after_trim > 0:
                # Does the memory come back (churn: page faults) or stay free?
                t3, flt3, _ = time.monotonic(), *stat_counters(v.pid)
                time.sleep(args.after_trim)
                t4, flt4, _ = time.monotonic(), *stat_counters(v.pid)
                res["after_trim"] = {"s": t4 - t3, "rss": kib(v.pid, "VmRSS"),
                                     "minflt_per_s": (flt4 - flt3) / (t4 - t3)}
        log(f"{name}: RSS idle {idle['rss'] / 1024:.1f} MiB, loaded {res['loaded']['rss'] / 1024:.1f}"
            f" MiB ({(res['loaded']['rss'] - idle['rss']) / 1024 / len(urls):.2f}/camera)"
            + f", {res['minflt_per_s']:.0f} minor faults/s, CPU {res['cpu_pct']:.1f} %"
            + (f", decode {1000 * metrics['vigil_analysis_seconds_total:decode'] / metrics['vigil_analysis_keyframes_total']:.1f} ms"
               f" x {metrics['vigil_analysis_keyframes_total']:.0f}"
               if metrics.get("vigil_analysis_keyframes_total") else "")
            + (f", after malloc_trim {res['trimmed']['rss'] / 1024:.1f} MiB" if args.trim else "")
            + (f", {args.after_trim:.0f} s later {res['after_trim']['rss'] / 1024:.1f} MiB"
               f" ({res['after_trim']['minflt_per_s']:.0f} faults/s)" if "after_trim" in res else ""))
        res["breakdown_mib"] = breakdown(idle, res["loaded"])
        n = len(urls)
        for what, mib in res["breakdown_mib"].items():
            print(f"  {name}: {what:50s} {mib:7.1f} MiB {mib / n:6.2f} per camera",
                  file=sys.stderr)
        return res
    finally:
        stop(v)
        shutil.rmtree(data, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default="/tmp/build-bench")
    ap.add_argument("--vigil", help="vigil binary (default: BUILD_DIR/src/vigil)")
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--settle", type=float, default=60, help="s after all stream (60)")
    ap.add_argument("--transport", choices=("tcp", "udp"), default="tcp")
    ap.add_argument("--variant", action="append", required=True,
                    help="NAME=CAMERA_JSON[@ENV=VALUE,ENV=VALUE]")
    ap.add_argument("--trim", action="store_true", help="also measure after malloc_trim(0)")
    ap.add_argument("--after-trim", type=float, default=0,
                    help="s to wait after malloc_trim and measure again (0: no)")
    ap.add_argument("--fakecam-log", help="log of a running vigil-fakecam to use")
    ap.add_argument("--scene", default="noise")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out_dir = args.out or tempfile.mkdtemp(prefix="vigil-bench-memory-")
    os.makedirs(out_dir, exist_ok=True)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))
    fc = None
    try:
        if args.fakecam_log:
            urls = fakecam_urls(args.fakecam_log, args.cameras)
        else:
            path = os.path.join(out_dir, "fakecam.log")
            fc = spawn([os.path.join(args.build_dir, "tools/fakecam/vigil-fakecam"), "--port", "0",
                        "--cameras", str(args.cameras), "--size", "1920x1080", "--fps", "30",
                        "--bitrate", "4000", "--gop", "1", "--scene", args.scene], path)
            urls = fakecam_urls(path, args.cameras, fc)
        results = []
        for spec in args.variant:
            name, _, rest = spec.partition("=")
            camera_json, _, envs = rest.partition("@")
            env = dict(e.split("=", 1) for e in envs.split(",") if e)
            results.append(run_variant(args, name, camera_json, env, urls, out_dir))
            with open(os.path.join(out_dir, "results.json"), "w") as f:
                json.dump(results, f, indent=1)
        print(out_dir)
    finally:
        for p in started:
            stop(p)


if __name__ == "__main__":
    main()
