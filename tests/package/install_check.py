"""Installs vigil's .debs for real, in a private mount namespace whose /etc,
/var and /usr are throw-away overlays (tests/package/test_deb.py runs this
under `unshare --mount`): install, the vigil user and /var/lib/vigil, the unit
(systemd-analyze verify and security), a start as the service would do it
(user vigil, NOTIFY_SOCKET, WATCHDOG_USEC, no new privileges, memory never
writable and executable), the first admin password, an upgrade that keeps the
data, remove and purge. Nothing outlives the namespace.

usage: install_check.py TMPDIR VIGIL_DEB VIGIL_TOOLS_DEB"""
import base64
import ctypes
import json
import os
import pwd
import grp
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request

TMP, VIGIL_DEB, TOOLS_DEB = sys.argv[1:4]
DATA = "/var/lib/vigil"
UNIT = "/lib/systemd/system/vigil.service"
failures = []


def check(condition, what):
    print(("ok:   " if condition else "FAIL: ") + what, flush=True)
    if not condition:
        failures.append(what)
    return condition


def run(*cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        print(f"$ {' '.join(cmd)} -> {r.returncode}\n{r.stdout}{r.stderr}", flush=True)
    return r


def overlay_everything():
    """Overlays /etc, /var, /usr (and /bin, /sbin, /lib* when not merged into
    /usr). Exits before anything is installed unless every one is in place."""
    dirs = ["/etc", "/var", "/usr"]
    dirs += [d for d in ("/bin", "/sbin", "/lib", "/lib64") if os.path.isdir(d) and not os.path.islink(d)]
    for d in dirs:
        name = d.strip("/")
        up, work = os.path.join(TMP, name, "up"), os.path.join(TMP, name, "work")
        os.makedirs(up)
        os.makedirs(work)
        r = run("mount", "-t", "overlay", "overlay", "-o",
                f"lowerdir={d},upperdir={up},workdir={work}", d)
        if r.returncode != 0:
            sys.exit(f"cannot overlay {d}: nothing installed")
    with open("/proc/self/mountinfo") as f:
        mounted = {line.split()[4]: line.split(" - ")[1].split()[0] for line in f}
    for d in dirs:
        if mounted.get(d) != "overlay":
            sys.exit(f"{d} is not an overlay here: nothing installed")


def limits():
    """In the child before exec: what NoNewPrivileges= and
    MemoryDenyWriteExecute= enforce (prctl PR_SET_NO_NEW_PRIVS, PR_SET_MDWE)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(65, 1, 0, 0, 0) != 0:
        os._exit(99)


class Daemon:
    """/usr/bin/vigil as the unit starts it, with a notify socket of ours."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = f"vigil-package-test-{os.getpid()}-{time.monotonic_ns()}"
        self.sock.bind("\0" + name)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        user = pwd.getpwnam("vigil")
        env = {"PATH": "/usr/bin:/bin", "HOME": user.pw_dir, "LANG": "C.UTF-8",
               "NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "1000000"}
        self.log = open(os.path.join(TMP, "vigil.log"), "w+")
        self.proc = subprocess.Popen(
            ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups",
             "/usr/bin/vigil", "--data-dir", DATA, "--listen", f"127.0.0.1:{self.port}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, preexec_fn=limits,
            cwd="/")
        self.messages = []

    def wait_message(self, predicate, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.sock.settimeout(max(0.01, end - time.monotonic()))
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                break
            self.messages.append(msg)
            if predicate(msg):
                return msg
        return None

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        stopping = self.wait_message(lambda m: m == "STOPPING=1", 2)
        self.sock.close()
        return code, stopping


def get(port, path, password=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    if password:
        token = base64.b64encode(f"admin:{password}".encode()).decode()
        req.add_header("Authorization", "Basic " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, json.loads(r.read() or b"null")


def first_start():
    d = Daemon()
    try:
        ready = d.wait_message(lambda m: m == "READY=1", 90)
        check(ready, "READY=1 once the HTTP server listens")
        check(any(m.startswith("STATUS=0 cameras, listening on http://127.0.0.1:%d" % d.port)
                  for m in d.messages), f"STATUS= line before READY=1: {d.messages}")
        t0 = time.monotonic()
        n = 0
        while d.wait_message(lambda m: m == "WATCHDOG=1", 2.0) and n < 3:
            n += 1
        check(n >= 3, f"WATCHDOG=1 every half of WATCHDOG_USEC=1s ({n} in {time.monotonic() - t0:.1f} s)")
        status, body = get(d.port, "/api/v1/health")
        check(status == 200 and body.get("status") == "ok", f"GET /api/v1/health: {body}")
        path = os.path.join(DATA, "initial-admin-password")
        st = os.stat(path)
        check(stat.S_IMODE(st.st_mode) == 0o600 and pwd.getpwuid(st.st_uid).pw_name == "vigil",
              f"{path} is vigil's, mode 0600 (is {oct(stat.S_IMODE(st.st_mode))})")
        with open(path) as f:
            password = f.read().strip()
        check(f'created user "admin" with password {password}' in d.output(),
              "the first password is also logged (the journal)")
        status, _ = get(d.port, "/api/v1/system", password)
        check(status == 200, "admin logs in with it")
    finally:
        code, stopping = d.stop()
    check(code == 0, f"SIGTERM: clean stop (exit {code})")
    check(stopping, "STOPPING=1 on shutdown")
    if failures:
        print("vigil's output:\n" + d.output())
    return password


def main():
    overlay_everything()
    r = run("dpkg", "-i", TOOLS_DEB, VIGIL_DEB)
    check(r.returncode == 0, "dpkg -i vigil-tools vigil")
    if r.returncode:
        return
    try:
        user = pwd.getpwnam("vigil")
    except KeyError:
        check(False, "postinst made the system user vigil")
        return
    check(user.pw_uid < 1000 and user.pw_dir == DATA and user.pw_shell.endswith("nologin"),
          f"vigil is a system user at home in {DATA}: {user}")
    check(grp.getgrgid(user.pw_gid).gr_name == "vigil", "with its own group vigil")
    st = os.stat(DATA)
    check(st.st_uid == user.pw_uid and stat.S_IMODE(st.st_mode) == 0o750,
          f"{DATA} is vigil's, mode 0750 (is {oct(stat.S_IMODE(st.st_mode))})")
    check(os.path.islink("/etc/systemd/system/multi-user.target.wants/vigil.service"),
          "vigil.service enabled")

    r = run("systemd-analyze", "verify", UNIT)
    check(r.returncode == 0 and not r.stderr.strip(), f"systemd-analyze verify: {r.stderr.strip()}")
    r = run("systemd-analyze", "security", "--offline=yes", UNIT)
    m = re.search(r"Overall exposure level for vigil.service: ([0-9.]+) (\w+)", r.stdout)
    check(m and float(m.group(1)) <= 2.0,
          "systemd-analyze security: " + (m.group(0) if m else r.stdout[-300:]))

    password = first_start()

    # An upgrade (here the same version again: prerm upgrade, postinst
    # configure) keeps the data; the next start creates no second password.
    r = run("dpkg", "-i", VIGIL_DEB)
    check(r.returncode == 0, "dpkg -i vigil again (upgrade path)")
    with open(os.path.join(DATA, "initial-admin-password")) as f:
        check(f.read().strip() == password, "upgrade keeps /var/lib/vigil")
    check(os.path.exists(os.path.join(DATA, "vigil.db")), "and the database")
    d = Daemon()
    ready = d.wait_message(lambda m: m == "READY=1", 90)
    code, _ = d.stop()
    if not check(ready and code == 0 and "created user" not in d.output(),
                 f"starts again on the kept database, no new admin (exit {code})"):
        print("vigil's output:\n" + d.output())

    r = run("dpkg", "-r", "vigil")
    check(r.returncode == 0 and not os.path.exists("/usr/bin/vigil") and os.path.isdir(DATA),
          "dpkg -r: program gone, data kept")
    r = run("dpkg", "-P", "vigil", "vigil-tools")
    check(r.returncode == 0 and not os.path.exists(DATA), "dpkg -P: /var/lib/vigil gone")
    check(not os.path.exists("/usr/bin/vigil-fakecam"), "vigil-tools purged")


if __name__ == "__main__":
    main()
    print(f"install check: {len(failures)} failed", flush=True)
    sys.exit(1 if failures else 0)
