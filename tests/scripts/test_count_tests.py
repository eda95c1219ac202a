"""scripts/count-tests.py, the line CI is judged by, on testlog.json entries
of every shape it meets: TAP, verbose unittest, unittest without verbosity
(counted from its summary line), a program with no cases, skips, crashes."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts",
                      "count-tests.py")


def count(*entries):
    """count-tests.py's last line and exit status for a log of @entries."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    try:
        r = subprocess.run([sys.executable, SCRIPT, f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    return r.stdout.strip().splitlines()[-1], r.returncode


VERBOSE = ("test_a (t.T.test_a) ... ok\ntest_b (t.T.test_b) ... skipped 'no model'\n"
           "test_c (t.T.test_c) ... ok\n\nRan 3 tests in 1.0s\n\nOK (skipped=1)\n")


class CountTests(unittest.TestCase):
    def test_tap_cases(self):
        out = "ok 1 /a\nok 2 /b # SKIP no root\nok 3 /c\n"
        self.assertEqual(count({"result": "OK", "stdout": out}), ("2 passed, 0 failed, 1 skipped", 0))

    def test_tap_failure(self):
        out = "ok 1 /a\nnot ok 2 /b\n"
        self.assertEqual(count({"result": "FAIL", "stdout": out}), ("1 passed, 1 failed, 0 skipped", 1))

    def test_verbose_unittest(self):
        self.assertEqual(count({"result": "OK", "stdout": "", "stderr": VERBOSE}),
                         ("2 passed, 0 failed, 1 skipped", 0))

    def test_quiet_unittest_counted_from_its_summary(self):
        err = "..s.s\n------\nRan 5 tests in 3.2s\n\nOK (skipped=2)\n"
        self.assertEqual(count({"result": "OK", "stdout": "", "stderr": err}),
                         ("3 passed, 0 failed, 2 skipped", 0))

    def test_quiet_unittest_failures(self):
        err = "F.E.\n======\nRan 4 tests in 3.2s\n\nFAILED (failures=1, errors=1)\n"
        self.assertEqual(count({"result": "FAIL", "stdout": "", "stderr": err}),
                         ("2 passed, 2 failed, 0 skipped", 1))

    def test_quiet_unittest_killed_after_its_cases(self):
        err = "..\nRan 2 tests in 3.2s\n\nOK\n"
        self.assertEqual(count({"result": "TIMEOUT", "stdout": "", "stderr": err}),
                         ("2 passed, 1 failed, 0 skipped", 1))

    def test_no_case_found_is_a_failure(self):
        err = "\nRan 0 tests in 0.0s\n\nOK\n"
        self.assertEqual(count({"result": "OK", "stdout": "", "stderr": err}),
                         ("0 passed, 1 failed, 0 skipped", 1))

    def test_program_without_cases(self):
        self.assertEqual(count({"result": "OK", "stdout": "all laid out"},
                               {"result": "SKIP", "stdout": ""}),
                         ("1 passed, 0 failed, 1 skipped", 0))

    def test_nothing_ran_fails(self):
        self.assertEqual(count({"result": "SKIP", "stdout": ""}), ("0 passed, 0 failed, 1 skipped", 1))

    def test_missing_log_fails(self):
        r = subprocess.run([sys.executable, SCRIPT, "/nonexistent/testlog.json"],
                           capture_output=True, text=True)
        self.assertEqual((r.stdout.strip(), r.returncode), ("0 passed, 1 failed, 0 skipped", 1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
