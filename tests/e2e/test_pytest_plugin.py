"""The pytest plugin of clients/python: a test file that uses the `protofarm` fixture is run by
pytest (as its users run it), once with `-p protofarm.pytest_plugin` from the source tree and once
from a venv the package was pip-installed into, where the entry point loads the plugin."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

SOURCE = Path(os.environ.get("PROTOFARM_SOURCE") or Path(__file__).resolve().parents[2])
CLIENT = SOURCE / "clients" / "python"
PROTOFARM = os.environ.get("PROTOFARM") or str(SOURCE / "build" / "protofarm")
PYTHON = "/usr/bin/python3"

# The test file the plugin's users would write. The scenario expects one session that says
# "hello"; the second test says "goodbye" instead, so its expectations are not met.
USER_TESTS = r'''
import socket

import pytest

SCENARIO = r"""
name: plugin-demo
servers:
  greeter:
    protocol: tcp
    banner: "hi\r\n"
    echo: true
expect:
  greeter:
    sessions: 1
    client: [hello]
"""

NO_EXPECT = r"""
name: plugin-no-expect
servers:
  greeter:
    protocol: tcp
    echo: true
"""


def greet(farm, line):
    with socket.create_connection(farm.address("greeter"), timeout=10) as sock:
        reader = sock.makefile("rb")
        assert reader.readline() == b"hi\r\n"
        sock.sendall(line + b"\r\n")
        assert reader.readline() == line + b"\r\n"


def test_meets_expectations(protofarm):
    farm = protofarm(SCENARIO)
    greet(farm, b"hello")
    assert farm.url("greeter") == "tcp://127.0.0.1:%d" % farm.port("greeter")


def test_misses_expectations(protofarm):
    greet(protofarm(SCENARIO), b"goodbye")


@pytest.mark.protofarm(verify=False)
def test_not_verified_when_the_marker_says_so(protofarm):
    greet(protofarm(SCENARIO), b"goodbye")


def test_no_expect_section_nothing_to_verify(protofarm):
    farm = protofarm(NO_EXPECT)
    assert farm.transcripts.exists()
'''


def pytest_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")}
    env.update(PROTOFARM=PROTOFARM, PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


class PytestPlugin(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        result = subprocess.run([PYTHON, "-c", "import pytest"], capture_output=True, timeout=60)
        if result.returncode != 0:
            raise AssertionError("python3-pytest is missing (tools/install-deps.sh test): "
                                 + result.stderr.decode(errors="replace"))

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="protofarm-pytest-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def run_pytest(self, python, tests, *args, env, timeout=240):
        test_file = self.tmp / "test_user.py"
        test_file.write_text(tests)
        result = subprocess.run([python, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-rA",
                                 f"--rootdir={self.tmp}", f"--basetemp={self.tmp / 'base'}",
                                 *args, str(test_file)],
                                cwd=self.tmp, env=env, capture_output=True, text=True,
                                timeout=timeout)
        return result, result.stdout + result.stderr

    def test_from_the_source_tree_passes_and_fails_with_the_report(self):
        result, output = self.run_pytest(PYTHON, USER_TESTS, "-p", "protofarm.pytest_plugin",
                                         env=pytest_env(PYTHONPATH=str(CLIENT)))
        self.assertEqual(result.returncode, 1, output)
        self.assertRegex(output, r"test_user\.py::test_meets_expectations PASSED")
        self.assertRegex(output, r"test_user\.py::test_not_verified_when_the_marker_says_so "
                                 r"PASSED")
        self.assertRegex(output, r"test_user\.py::test_no_expect_section_nothing_to_verify "
                                 r"PASSED")
        self.assertRegex(output, r"ERROR at teardown of test_misses_expectations")
        self.assertRegex(output, r"ERROR test_user\.py::test_misses_expectations")
        self.assertNotRegex(output, r"ERROR .*test_(meets|not_verified|no_expect)")
        # verify's report, readable, without a Python traceback of the plugin.
        failure = output[output.index("ERROR at teardown of test_misses_expectations"):]
        self.assertIn("protofarm: the expectations of", failure)
        self.assertIn("FAIL  greeter", failure)
        self.assertRegex(failure, r'expected "hello", recorded "goodbye"')
        self.assertNotIn("pytest_plugin.py", failure)
        self.assertRegex(output, r"\b4 passed, 1 error\b")
        # The transcripts stay under the test's tmp_path.
        transcripts = list((self.tmp / "base").glob(
            "test_misses_expectations0/protofarm-1/transcripts/sessions/greeter/1.json"))
        self.assertEqual(len(transcripts), 1, output)

    def test_ini_option_turns_verification_off(self):
        (self.tmp / "pytest.ini").write_text("[pytest]\nprotofarm_verify = false\n")
        result, output = self.run_pytest(PYTHON, USER_TESTS, "-p", "protofarm.pytest_plugin",
                                         env=pytest_env(PYTHONPATH=str(CLIENT)))
        self.assertEqual(result.returncode, 0, output)
        self.assertRegex(output, r"\b4 passed\b")

    def test_a_missing_binary_is_a_clear_error(self):
        result, output = self.run_pytest(
            PYTHON, USER_TESTS, "-p", "protofarm.pytest_plugin", "-k", "meets",
            f"--protofarm-binary={self.tmp / 'no-such-protofarm'}",
            env=pytest_env(PYTHONPATH=str(CLIENT)))
        self.assertEqual(result.returncode, 1, output)
        self.assertIn("no-such-protofarm", output)

    def test_pip_install_into_a_venv_registers_the_plugin(self):
        venv = self.tmp / "venv"
        subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", str(venv)], check=True,
                       capture_output=True, timeout=300)
        # Built from a copy, so that setuptools' build/ and egg-info never land in the source
        # tree (and parallel runs do not share them).
        source = self.tmp / "src"
        shutil.copytree(CLIENT, source,
                        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        env = pytest_env(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
                         PIP_NO_INPUT="1")
        pip = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-index",
                              "--no-build-isolation", str(source)],
                             capture_output=True, text=True, timeout=300, env=env, cwd=self.tmp)
        self.assertEqual(pip.returncode, 0, pip.stdout + pip.stderr)
        self.assertIn("Successfully installed protofarm", pip.stdout)

        probe = subprocess.run(
            [str(venv / "bin" / "python"), "-c",
             "import importlib.metadata as m, protofarm\n"
             "print(protofarm.__file__)\n"
             "print([e.value for e in m.entry_points(group='pytest11') if e.name == "
             "'protofarm'])"],
            capture_output=True, text=True, timeout=60, env=env, cwd=self.tmp)
        self.assertEqual(probe.returncode, 0, probe.stderr)
        where, entry = probe.stdout.splitlines()
        self.assertTrue(where.startswith(str(venv)), where)
        self.assertEqual(entry, "['protofarm.pytest_plugin']")

        # No -p, no PYTHONPATH: the entry point loads the plugin.
        result, output = self.run_pytest(str(venv / "bin" / "python"), USER_TESTS,
                                         "--trace-config", env=env)
        self.assertRegex(output, r"protofarm-[0-9.]+ at " + re.escape(str(venv)))
        self.assertRegex(output, r"test_user\.py::test_meets_expectations PASSED")
        self.assertRegex(output, r"ERROR at teardown of test_misses_expectations")
        self.assertIn("FAIL  greeter", output)
        self.assertRegex(output, r"\b4 passed, 1 error\b")
        self.assertEqual(result.returncode, 1, output)


if __name__ == "__main__":
    unittest.main()
