"""The Debian packages (docs/install.md): scripts/deb.sh --prebuilt packages
this build tree with the debhelper steps of debian/ (make deb does the full
dpkg-buildpackage build, too slow for every test run); then lintian, the
contents and control data of the .debs, and a real install, start, upgrade
and purge on throw-away overlays (install_check.py)."""
import os
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import require

BUILD = os.path.abspath(os.environ.get("VIGIL_BUILD_DIR", "build"))
SOURCE = os.path.abspath(os.environ.get("VIGIL_SOURCE_DIR", "."))
VERSION = os.environ.get("VIGIL_VERSION", "")
HERE = os.path.dirname(os.path.abspath(__file__))


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", **kw)


class DebTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.missing = [t for t in ("dh", "dpkg-deb", "lintian", "systemd-analyze")
                       if not shutil.which(t)]
        cls.out = os.path.join(BUILD, "deb-test")
        cls.build = None
        if cls.missing:
            return
        cls.build = run(os.path.join(SOURCE, "scripts", "deb.sh"), "--prebuilt", BUILD,
                        "--out", cls.out, "--no-lintian", timeout=240)
        arch = run("dpkg", "--print-architecture").stdout.strip()
        cls.vigil_deb = os.path.join(cls.out, f"vigil_{VERSION}_{arch}.deb")
        cls.tools_deb = os.path.join(cls.out, f"vigil-tools_{VERSION}_{arch}.deb")

    def setUp(self):
        require(self, not self.missing, f"missing {' '.join(self.missing)} (scripts/deps.sh)")
        self.assertEqual(self.build.returncode, 0, self.build.stdout + self.build.stderr)

    def test_names_and_version(self):
        """vigil_<version>_<arch>.deb and vigil-tools_…, the version of
        meson.build and debian/changelog alike."""
        changelog = run("dpkg-parsechangelog", "-l", os.path.join(SOURCE, "debian", "changelog"),
                        "-S", "Version").stdout.strip()
        self.assertEqual(changelog, VERSION, "debian/changelog and meson.build disagree")
        for deb in (self.vigil_deb, self.tools_deb):
            self.assertTrue(os.path.isfile(deb), f"{deb} not built: {os.listdir(self.out)}")

    def test_contents(self):
        files = run("dpkg-deb", "-c", self.vigil_deb).stdout
        for path in ("./usr/bin/vigil", "./lib/systemd/system/vigil.service",
                     "./usr/share/man/man8/vigil.8.gz", "./usr/share/doc/vigil/copyright",
                     "./usr/share/doc/vigil/install.md"):
            self.assertIn(path + "\n", files + "\n", f"{path} missing from the package")
        self.assertNotIn("/usr/local", files)
        self.assertNotIn("vigil-fakecam", files)
        tools = run("dpkg-deb", "-c", self.tools_deb).stdout
        self.assertIn("./usr/bin/vigil-fakecam", tools)
        self.assertIn("./usr/share/man/man1/vigil-fakecam.1.gz", tools)

        depends = run("dpkg-deb", "-f", self.vigil_deb, "Depends").stdout
        for dep in ("adduser", "libsoup-3.0", "libsqlite3", "gstreamer1.0-plugins-good",
                    "libjemalloc2"):
            self.assertIn(dep, depends)
        info = run("dpkg-deb", "-I", self.vigil_deb).stdout
        for script in ("postinst", "postrm", "prerm"):
            self.assertIn(f" {script} ", info)
        postinst = run("dpkg-deb", "-I", self.vigil_deb, "postinst").stdout
        self.assertIn("adduser --system", postinst)
        self.assertIn("chmod 0750 /var/lib/vigil", postinst)
        self.assertIn("deb-systemd-helper", postinst, "dh_installsystemd's part")
        postrm = run("dpkg-deb", "-I", self.vigil_deb, "postrm").stdout
        self.assertRegex(postrm, r'if \[ "\$1" = "purge" \]; then\n\s+rm -rf /var/lib/vigil')

        unit = run("dpkg-deb", "--fsys-tarfile", self.vigil_deb)
        self.assertEqual(unit.returncode, 0)
        with open(os.path.join(SOURCE, "debian", "vigil.service")) as f:
            text = f.read()
        for line in ("Type=notify", "WatchdogSec=30", "User=vigil",
                     "ExecStart=/usr/bin/vigil --data-dir /var/lib/vigil --listen 0.0.0.0:8080"):
            self.assertIn(line + "\n", text)

    def test_lintian(self):
        """No error and no warning; infos are explained in docs/install.md."""
        r = run("lintian", "--fail-on", "error,warning", "--display-info",
                self.vigil_deb, self.tools_deb, timeout=180)
        print(r.stdout.strip())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertFalse([line for line in r.stdout.splitlines() if line[:2] in ("E:", "W:")])

    def test_install_start_upgrade_purge(self):
        require(self, os.geteuid() == 0, "installing needs root")
        require(self, shutil.which("unshare") is not None, "unshare (util-linux) missing")
        tmp = tempfile.mkdtemp(prefix="vigil-deb-root-")
        try:
            r = run("unshare", "--mount", "--propagation", "private", "python3",
                    os.path.join(HERE, "install_check.py"), tmp, self.vigil_deb, self.tools_deb,
                    timeout=240)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(r.stdout + r.stderr)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    harness.main()
