"""`protofarm show` end to end: a real farm and client, then what show prints for people."""

import os
import pty
import re
import select
import shutil
import socket
import subprocess
import tempfile
import unittest
from pathlib import Path

from farm import PROTOFARM, SCENARIOS, Farm, run

TIME = r"\s+\d+\.\d{3}"  # the t_ms column
BLANK = r" {10}"         # the t_ms column left empty on an event's later lines


def recv_until_closed(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def hello_conversation():
    """Runs DESIGN.md's hello-tcp once; returns the stopped farm."""
    with Farm(path=SCENARIOS / "hello-tcp.yaml") as farm:
        with socket.create_connection(farm.address("hello"), timeout=10) as sock:
            # Plain `assert` would vanish under python -O; these checks must not.
            greeting = sock.recv(100)
            if greeting != b"220 hello\r\n":
                raise AssertionError(f"hello-tcp greeted with {greeting!r}")
            sock.sendall(b"HELO alice\r\n")
            answer = recv_until_closed(sock)
            if answer != b"250 hi alice\r\n":
                raise AssertionError(f"hello-tcp answered {answer!r}")
        farm.wait_sessions("hello", 1)
    return farm


def run_in_pty(args, env):
    """Runs protofarm with stdout on a pseudo-terminal; returns (status, output)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([PROTOFARM, *map(str, args)], stdout=slave, stderr=subprocess.PIPE,
                            env=env)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            proc.kill()
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    return proc.wait(timeout=30), out.decode(errors="replace")


class ShowHello(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.farm = hello_conversation()

    def show(self, *args):
        return run("show", self.farm.transcripts, *args)

    def test_known_conversation(self):
        result = self.show()
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        patterns = [
            r"== hello session 1 \(tcp\)  127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+  \S+Z  close: server",
            TIME + r"  -- open peer=127\.0\.0\.1:\d+ local=127\.0\.0\.1:\d+ protocol=tcp",
            TIME + r"  S: 220 hello\\r\\n  \(step 0\)",
            TIME + r"  C: HELO alice\\r\\n  \(step 1\)",
            # Backslashes are escaped like any other byte, so "\\w" is the pattern's own "\w".
            TIME + r"  -- expect step=1 pattern=HELO \(\\\\w\+\)\\r\\n matched=true",
            TIME + r"  S: 250 hi alice\\r\\n  \(step 2\)",
            TIME + r"  -- close server",
        ]
        self.assertEqual(len(lines), len(patterns), result.stdout)
        for line, pattern in zip(lines, patterns):
            self.assertRegex(line, "^" + pattern + "$")

    def test_no_colour_when_piped(self):
        self.assertNotIn("\033[", self.show().stdout)
        self.assertNotIn("\033[", self.show("--color", "never").stdout)

    def test_colour_always(self):
        out = self.show("--color", "always").stdout
        self.assertIn("\033[1m== hello session 1", out)
        self.assertIn("\033[36mC: HELO alice\033[0m", out)
        self.assertIn("\033[33mS: 220 hello\033[0m", out)

    def test_colour_auto_on_a_terminal_and_no_color(self):
        env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
        status, out = run_in_pty(["show", self.farm.transcripts], env)
        self.assertEqual(status, 0, out)
        self.assertIn("\033[36mC: HELO alice", out)
        status, out = run_in_pty(["show", self.farm.transcripts], {**env, "NO_COLOR": "1"})
        self.assertEqual(status, 0, out)
        self.assertIn("C: HELO alice", out)
        self.assertNotIn("\033[", out)
        # An explicit --color always wins over NO_COLOR.
        status, out = run_in_pty(["show", self.farm.transcripts, "--color", "always"],
                                 {**env, "NO_COLOR": "1"})
        self.assertIn("\033[36mC: HELO alice", out)

    def test_unknown_server_and_session(self):
        result = self.show("--server", "nope")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no transcripts of server 'nope'", result.stderr)
        self.assertIn("(servers: hello)", result.stderr)
        result = self.show("--session", "7")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no session 7", result.stderr)

    def test_bad_colour_mode(self):
        self.assertEqual(self.show("--color", "sometimes").returncode, 2)


TWO_SERVERS = """
name: two-servers
servers:
  alpha:
    protocol: tcp
    banner: "alpha\\r\\n"
    rules: [{on: BYE, reply: bye, then: close}]
  beta:
    protocol: tcp
    framing: {delimiter: "\\r\\n.\\r\\n"}
    rules: [{on: DATA, reply: "250 stored", then: close}]
"""


class ShowFilters(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with Farm(TWO_SERVERS) as farm:
            for who in (b"one", b"two"):
                with socket.create_connection(farm.address("alpha"), timeout=10) as sock:
                    sock.recv(100)
                    sock.sendall(b"I am " + who + b"\r\nBYE\r\n")
                    recv_until_closed(sock)
                farm.wait_sessions("alpha", 1 if who == b"one" else 2)
            with socket.create_connection(farm.address("beta"), timeout=10) as sock:
                # One frame of several lines, with bytes that are not text.
                sock.sendall(b"DATA\r\nSubject: \x00\xff\x1b[31m\r\nbody\tline\r\n.\r\n")
                recv_until_closed(sock)
            farm.wait_sessions("beta", 1)
        cls.farm = farm

    def show(self, *args):
        result = run("show", self.farm.transcripts, *args)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_all_sessions_in_order(self):
        heads = [l for l in self.show().splitlines() if l.startswith("==")]
        self.assertEqual([h.split("  ")[0] for h in heads],
                         ["== alpha session 1 (tcp)", "== alpha session 2 (tcp)",
                          "== beta session 1 (tcp)"])

    def test_server_filter(self):
        out = self.show("--server", "alpha")
        self.assertIn("C: I am one", out)
        self.assertIn("C: I am two", out)
        self.assertNotIn("beta", out)

    def test_server_and_session_filter(self):
        out = self.show("--server", "alpha", "--session", "2")
        self.assertIn("== alpha session 2", out)
        self.assertIn("C: I am two", out)
        self.assertNotIn("I am one", out)

    def test_multi_line_event_and_escaped_binary(self):
        lines = self.show("--server", "beta").splitlines()
        start = next(i for i, l in enumerate(lines) if "C: DATA" in l)
        self.assertRegex(lines[start], "^" + TIME + r"  C: DATA\\r\\n$")
        self.assertEqual(lines[start + 1], " " * 10 + r"  C: Subject: \x00\xff\x1b[31m\r\n")
        self.assertEqual(lines[start + 2], " " * 10 + r"  C: body\tline\r\n")
        self.assertEqual(lines[start + 3], " " * 10 + r"  C: .\r\n")
        self.assertNotIn("\033", "\n".join(lines))  # the client's escape sequence is defused


class ShowBadInput(unittest.TestCase):
    def test_missing_directory(self):
        result = run("show", "/nonexistent/protofarm-transcripts")
        self.assertEqual(result.returncode, 2)
        self.assertIn("does not exist", result.stderr)

    def test_empty_directory(self):
        tmp = Path(tempfile.mkdtemp(prefix="protofarm-show-"))
        try:
            result = run("show", tmp)
            self.assertEqual(result.returncode, 2)
            self.assertIn("holds no transcripts", result.stderr)
            (tmp / "events.jsonl").write_text("")
            result = run("show", tmp)
            self.assertEqual(result.returncode, 2)
            self.assertIn("holds no sessions", result.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
