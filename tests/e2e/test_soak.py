"""The soak test inside `make test`: soak.py for 60 seconds with 1,000 hostile clients (junk,
over-long lines, slowloris, half-open, vanishing mid-transfer, TLS garbage) against one farm
with every fake, while a well-behaved client of each protocol must keep getting right answers
within 50 ms (median). soak.py asserts that, plus fds back to the baseline, a bounded RSS, a
clean SIGTERM, and every session document and events.jsonl line valid afterwards; this test
fails when it exits non-zero, and shows its report either way.

`make soak` runs the same script for longer. The environment can change the run:
    SOAK_SECONDS   how long the storm lasts (default 60)
    SOAK_CLIENTS   hostile clients open at once, at most (default 1000)
    SOAK_ARGS      more soak.py options, e.g. "--median-ms 500 --rss-mib 1024" for a sanitizer
                   build, whose figures are not comparable

Run it alone with
    ctest --test-dir build -R test_soak --output-on-failure
or, from tests/e2e,
    PROTOFARM=../../build/protofarm /usr/bin/python3 -m unittest -v test_soak
"""

import os
import shlex
import signal
import subprocess
import sys
import unittest
from pathlib import Path

SOAK = Path(__file__).resolve().parent / "soak.py"
SECONDS = float(os.environ.get("SOAK_SECONDS") or 60)
CLIENTS = int(os.environ.get("SOAK_CLIENTS") or 1000)
EXTRA = shlex.split(os.environ.get("SOAK_ARGS") or "")
# Start-up, the wait for idle sessions to end, the last checks, reading every transcript and
# removing them (about 1 GiB a minute of storm: minutes on a busy disk) come on top of the
# storm; past this the run is stuck. CTest's TIMEOUT for this test must be longer.
OVERHEAD = 420


class Soak(unittest.TestCase):
    def test_the_farm_survives_a_storm_of_hostile_clients(self):
        cmd = [sys.executable, str(SOAK), "--seconds", f"{SECONDS:g}", "--clients", str(CLIENTS),
               *EXTRA]
        # Its own process group, so that a run that hangs is ended with the farm and the
        # hostile clients it started, not just the script.
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=SECONDS + OVERHEAD)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            self.fail(f"soak.py did not finish within {SECONDS + OVERHEAD:g}s:\n{stdout}\n"
                      f"{stderr}")
        result = subprocess.CompletedProcess(cmd, proc.returncode, stdout, stderr)
        report = result.stdout + (f"\nstderr:\n{result.stderr}" if result.stderr.strip() else "")
        print(report)  # the figures belong in the log of a passing run too
        self.assertEqual(result.returncode, 0,
                         f"soak.py exited {result.returncode}: {' '.join(cmd)}\n{report}")


if __name__ == "__main__":
    unittest.main()
