"""The farm's lifecycle with real clients: ready file, signals, kills, load, timeouts, --only,
several scenario files, and every kind of stream listener (DESIGN.md, "Command line" and
"Transcripts")."""

import json
import os
import resource
import signal
import socket
import tempfile
import threading
import time
import unittest
from pathlib import Path

from farm import Farm, FarmError, client_bytes, named_events, server_bytes

ECHO = """\
name: lifecycle
servers:
  echo:
    protocol: tcp
    banner: "hi\\n"
    echo: true
"""


GRACE = "\n".join([
    "name: grace",
    "servers:",
    "  slow:",
    "    protocol: tcp",
    "    rules:",
    "      - on: GO",
    "        pace: 4000B/s",
    '        reply: "%s"' % ("x" * 800),
    ""])


def recv_line(sock):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def recv_until_closed(sock):
    """Everything until the peer closes; a reset counts as a close."""
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def opened(farm, server, count=1):
    """Whether `count` sessions of `server` have recorded their open event."""
    return sum(1 for e in farm.events() if e.get("server") == server and
               e.get("event") == "open") >= count


def parse_ready_line(line):
    """{"name": (protocol, authority)} from 'protofarm ready: a=tcp://127.0.0.1:1 ...'."""
    prefix = "protofarm ready:"
    if not line.startswith(prefix):
        raise AssertionError(f"not a ready line: {line!r}")
    out = {}
    for item in line[len(prefix):].split():
        name, url = item.split("=", 1)
        protocol, authority = url.split("://", 1)
        out[name] = (protocol, authority)
    return out


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Signals(unittest.TestCase):
    def check_stop(self, sig):
        farm = Farm(ECHO).start()
        try:
            ready_file = farm.ready_file
            self.assertTrue(ready_file.exists())
            with socket.create_connection(farm.address("echo"), timeout=10) as idle, \
                    socket.create_connection(farm.address("echo"), timeout=10) as busy:
                self.assertEqual(recv_line(idle), b"hi\n")
                self.assertEqual(recv_line(busy), b"hi\n")
                busy.sendall(b"one\n")
                self.assertEqual(recv_line(busy), b"one\n")
                farm.wait_for(lambda: opened(farm, "echo", 2), what="two open sessions")
                self.assertEqual(farm.stop(sig), 0, farm.stderr)
                # The farm closed both connections before it exited.
                self.assertEqual(recv_until_closed(idle), b"")
                self.assertEqual(recv_until_closed(busy), b"")
        finally:
            farm.kill()
        self.assertFalse(ready_file.exists(), "the ready file outlived the farm")
        sessions = farm.sessions("echo")
        self.assertEqual(len(sessions), 2)
        for s in sessions:
            self.assertEqual(s["close"], "shutdown", s)
            self.assertEqual(s["events"][-1]["event"], "close")
            self.assertEqual(s["events"][-1]["close"], "shutdown")
        self.assertEqual(sorted(client_bytes(s) for s in sessions), [b"", b"one\n"])
        # events.jsonl has every event of both sessions, ending with their closes.
        closes = [e for e in farm.events() if e.get("event") == "close"]
        self.assertEqual(sorted(e["session"] for e in closes), [1, 2])

    def test_sigterm_finishes_every_transcript(self):
        self.check_stop(signal.SIGTERM)

    def test_sigint_finishes_every_transcript(self):
        self.check_stop(signal.SIGINT)

    def test_a_reply_in_flight_finishes_before_the_farm_stops(self):
        # SIGTERM gives open sessions a grace period (README): one waiting for its client ends
        # at once, one in the middle of a paced reply sends the rest of it first.
        farm = Farm(GRACE).start()
        try:
            with socket.create_connection(farm.address("slow"), timeout=10) as busy, \
                    socket.create_connection(farm.address("slow"), timeout=10) as idle:
                busy.sendall(b"GO\n")
                first = busy.recv(1)  # the paced reply has begun: 800 bytes at 4000 B/s
                self.assertEqual(first, b"x")
                farm.wait_for(lambda: opened(farm, "slow", 2), what="two open sessions")
                started = time.monotonic()
                farm.proc.send_signal(signal.SIGTERM)
                self.assertEqual(recv_until_closed(idle), b"")
                idle_closed = time.monotonic() - started
                rest = recv_until_closed(busy)
                self.assertEqual((first + rest).rstrip(b"\r\n"), b"x" * 800)
                self.assertEqual(farm.stop(signal.SIGTERM), 0, farm.stderr)
                self.assertLess(idle_closed, 0.15, "the idle session waited for the busy one")
        finally:
            farm.kill()
        self.assertNotIn("did not end in time", farm.stderr)
        sessions = farm.sessions("slow")
        self.assertEqual([s["close"] for s in sessions], ["shutdown", "shutdown"])
        self.assertIn(b"x" * 800, [server_bytes(s).rstrip(b"\r\n") for s in sessions])

    def test_sighup_finishes_every_transcript(self):
        # A closed terminal or a CI runner's hang-up: once the default death, with no session
        # documents and a ready file left pointing at dead ports (exit 129).
        self.check_stop(signal.SIGHUP)

    def test_stop_with_no_connection_ever(self):
        farm = Farm(ECHO).start()
        self.assertEqual(farm.stop(signal.SIGTERM), 0, farm.stderr)
        self.assertEqual(farm.sessions("echo"), [])
        self.assertEqual(farm.events(), [])
        self.assertFalse(farm.ready_file.exists())

    def test_sigkill_leaves_events_jsonl_intact_up_to_the_kill(self):
        farm = Farm(ECHO).start()
        try:
            with socket.create_connection(farm.address("echo"), timeout=10) as sock:
                self.assertEqual(recv_line(sock), b"hi\n")
                for i in range(20):
                    sock.sendall(b"line %d\n" % i)
                    self.assertEqual(recv_line(sock), b"line %d\n" % i)
                sock.sendall(b"last words\n")
                self.assertEqual(recv_line(sock), b"last words\n")
                # The echo is recorded right after it is written: wait for that line.
                farm.wait_for(lambda: any(e.get("from") == "server" and
                                          e.get("text") == "last words\n"
                                          for e in farm.events()), what="the last echo")
                farm.proc.send_signal(signal.SIGKILL)
                farm.proc.wait(timeout=10)
                farm.returncode = farm.proc.returncode
        finally:
            farm.kill()
        self.assertEqual(farm.returncode, -signal.SIGKILL)
        text = (farm.transcripts / "events.jsonl").read_text()
        self.assertTrue(text.endswith("\n"), "the last line was cut")
        events = [json.loads(line) for line in text.splitlines()]  # every line valid JSON
        self.assertEqual(events[0]["event"], "open")
        client = [e["text"] for e in events if e.get("from") == "client"]
        self.assertEqual(client, [f"line {i}\n" for i in range(20)] + ["last words\n"])
        self.assertEqual(events[-1], {**events[-1], "from": "server", "text": "last words\n"})
        self.assertFalse(any(e.get("event") == "close" for e in events))
        self.assertEqual(farm.sessions("echo"), [], "no session ended, so no session file")


class Load(unittest.TestCase):
    CONNECTIONS = 1000

    def setUp(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        self.saved_limit = (soft, hard)
        need = self.CONNECTIONS + 200
        if hard != resource.RLIM_INFINITY and hard < need:
            self.skipTest(f"the hard limit on open files ({hard}) is below {need}")

    def tearDown(self):
        resource.setrlimit(resource.RLIMIT_NOFILE, self.saved_limit)

    def test_a_thousand_concurrent_connections_to_one_tcp_server(self):
        # The farm starts with a soft limit too low for 1,000 sessions; it must raise its own.
        soft, hard = self.saved_limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        try:
            farm = Farm(ECHO.replace("echo: true", "echo: true\n    idle_timeout: 60s")).start()
        finally:
            want = max(soft, self.CONNECTIONS + 200)
            if hard != resource.RLIM_INFINITY:
                want = min(want, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        socks = []
        try:
            address = farm.address("echo")
            deadline = time.monotonic() + 120
            for _ in range(self.CONNECTIONS):
                s = socket.create_connection(address, timeout=30)
                socks.append(s)
            # Every connection is served while all of them are open.
            for i, s in enumerate(socks):
                self.assertLess(time.monotonic(), deadline, "too slow")
                self.assertEqual(recv_line(s), b"hi\n", f"connection {i} got no banner")
            for i, s in enumerate(socks):
                s.sendall(b"ping %d\n" % i)
            for i, s in enumerate(socks):
                self.assertEqual(recv_line(s), b"ping %d\n" % i)
        finally:
            for s in socks:
                s.close()
        try:
            farm.wait_sessions("echo", self.CONNECTIONS, timeout=120)
        finally:
            self.assertEqual(farm.stop(), 0, farm.stderr)
        sessions = farm.sessions("echo")
        self.assertEqual(len(sessions), self.CONNECTIONS)
        self.assertEqual(sorted(s["session"] for s in sessions),
                         list(range(1, self.CONNECTIONS + 1)))
        self.assertTrue(all(s["close"] == "client" for s in sessions),
                        {s["close"] for s in sessions})
        pings = sorted(client_bytes(s) for s in sessions)
        self.assertEqual(pings, sorted(b"ping %d\n" % i for i in range(self.CONNECTIONS)))
        self.assertNotIn("accept failed", farm.stderr)


class Timeouts(unittest.TestCase):
    def test_idle_timeout_closes_a_silent_client(self):
        scenario = ECHO + "    idle_timeout: 300ms\n"
        with Farm(scenario) as farm:
            with socket.create_connection(farm.address("echo"), timeout=10) as sock:
                started = time.monotonic()
                self.assertEqual(recv_until_closed(sock), b"hi\n")
                waited = time.monotonic() - started
            farm.wait_sessions("echo", 1)
        self.assertGreaterEqual(waited, 0.25)
        session = farm.session("echo", 1)
        self.assertEqual(session["close"], "timeout")
        self.assertGreaterEqual(session["events"][-1]["t_ms"], 300)

    def test_input_resets_the_idle_timeout(self):
        scenario = ECHO + "    idle_timeout: 400ms\n"
        with Farm(scenario) as farm:
            with socket.create_connection(farm.address("echo"), timeout=10) as sock:
                self.assertEqual(recv_line(sock), b"hi\n")
                for i in range(4):
                    time.sleep(0.2)  # less than the idle timeout, each time
                    sock.sendall(b"%d\n" % i)
                    self.assertEqual(recv_line(sock), b"%d\n" % i)
                self.assertEqual(recv_until_closed(sock), b"")
            farm.wait_sessions("echo", 1)
        session = farm.session("echo", 1)
        self.assertEqual(session["close"], "timeout")
        self.assertEqual(client_bytes(session), b"0\n1\n2\n3\n")


class Selection(unittest.TestCase):
    TWO = """\
name: two
servers:
  a:
    protocol: tcp
    banner: "a\\n"
  b:
    protocol: tcp
    banner: "b\\n"
"""

    def test_only_serves_only_that_server(self):
        with Farm(self.TWO, only=["b"]) as farm:
            self.assertEqual(list(farm.ready["servers"]), ["b"])
            self.assertEqual(list(parse_ready_line(farm.ready_line)), ["b"])
            with socket.create_connection(farm.address("b"), timeout=10) as sock:
                self.assertEqual(recv_line(sock), b"b\n")
            farm.wait_sessions("b", 1)
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(farm.sessions("a"), [])
        self.assertFalse((farm.transcripts / "sessions" / "a").exists())

    def test_only_may_be_repeated(self):
        with Farm(self.TWO, only=["a", "b"]) as farm:
            self.assertEqual(sorted(farm.ready["servers"]), ["a", "b"])

    def test_two_scenario_files_in_one_run(self):
        second = Path(tempfile.mkdtemp(prefix="protofarm-e2e-")) / "second.yaml"
        second.write_text('name: second\nservers:\n  c:\n    protocol: tcp\n    banner: "c\\n"\n')
        with Farm(self.TWO, args=[str(second)]) as farm:
            self.assertEqual(sorted(farm.ready["servers"]), ["a", "b", "c"])
            for name in ("a", "c"):
                with socket.create_connection(farm.address(name), timeout=10) as sock:
                    self.assertEqual(recv_line(sock), name.encode() + b"\n")
            farm.wait_sessions("a", 1)
            farm.wait_sessions("c", 1)
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(server_bytes(farm.session("c", 1)), b"c\n")


class ReadyFile(unittest.TestCase):
    def test_ready_file_matches_the_ready_line(self):
        with Farm(Selection.TWO) as farm:
            ready = farm.ready
            line = parse_ready_line(farm.ready_line)
        self.assertEqual(ready["pid"], farm.proc.pid)
        self.assertEqual(ready["transcripts"], str(farm.transcripts))
        self.assertEqual(sorted(line), sorted(ready["servers"]))
        for name, entry in ready["servers"].items():
            self.assertEqual(entry["protocol"], "tcp")
            self.assertEqual(entry["host"], "127.0.0.1")
            self.assertGreater(entry["port"], 0)
            self.assertEqual(entry["tls"], "none")
            self.assertEqual(line[name], ("tcp", f"127.0.0.1:{entry['port']}"))

    def test_ready_file_is_written_atomically(self):
        # Read the ready file as fast as possible while the farm starts: every read that finds
        # it must find it whole, and no temporary file may stay behind.
        farm = Farm(ECHO)
        reads, torn = [], []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                try:
                    text = farm.ready_file.read_text()
                except FileNotFoundError:
                    continue
                reads.append(text)
                try:
                    json.loads(text)
                except ValueError:
                    torn.append(text)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            farm.start()
            farm.wait_for(lambda: len(reads) >= 20, timeout=10, what="reads of the ready file")
        finally:
            stop.set()
            watcher.join()
            farm.stop()
        self.assertEqual(torn, [])
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual([p.name for p in farm.tmp.iterdir() if p.name.startswith("ready")], [])

    def test_a_farm_that_fails_to_start_leaves_no_ready_file(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            farm = Farm(f"name: x\nservers:\n  a:\n    protocol: tcp\n"
                        f"    listen: 127.0.0.1:{port}\n")
            with self.assertRaises(FarmError):
                farm.start()
        self.assertEqual(farm.proc.returncode, 3)
        self.assertFalse(farm.ready_file.exists())


class Listeners(unittest.TestCase):
    def test_ipv6_loopback(self):
        if not ipv6_loopback_available():
            self.skipTest("no IPv6 loopback on this machine")
        scenario = ECHO.replace("banner:", "listen: '[::1]:0'\n    banner:")
        with Farm(scenario) as farm:
            entry = farm.server("echo")
            self.assertEqual(entry["host"], "::1")
            self.assertGreater(entry["port"], 0)
            self.assertEqual(parse_ready_line(farm.ready_line)["echo"],
                             ("tcp", f"[::1]:{entry['port']}"))
            with socket.create_connection(("::1", entry["port"]), timeout=10) as sock:
                self.assertEqual(recv_line(sock), b"hi\n")
                sock.sendall(b"v6\n")
                self.assertEqual(recv_line(sock), b"v6\n")
                client_port = sock.getsockname()[1]
            farm.wait_sessions("echo", 1)
        session = farm.session("echo", 1)
        self.assertEqual(session["peer"], f"[::1]:{client_port}")
        self.assertEqual(session["local"], f"[::1]:{entry['port']}")
        self.assertEqual(session["close"], "client")

    def test_unix_stream_socket(self):
        folder = Path(tempfile.mkdtemp(prefix="pf-"))  # short: socket paths are limited
        path = folder / "echo.sock"
        scenario = ECHO.replace("banner:", f"listen: unix:{path}\n    banner:")
        with Farm(scenario) as farm:
            entry = farm.server("echo")
            self.assertEqual(entry["path"], str(path))
            self.assertNotIn("port", entry)
            self.assertEqual(parse_ready_line(farm.ready_line)["echo"], ("tcp", f"unix:{path}"))
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(10)
                sock.connect(str(path))
                self.assertEqual(recv_line(sock), b"hi\n")
                sock.sendall(b"local\n")
                self.assertEqual(recv_line(sock), b"local\n")
            farm.wait_sessions("echo", 1)
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertFalse(path.exists(), "the socket file outlived the farm")
        session = farm.session("echo", 1)
        self.assertEqual(session["local"], f"unix:{path}")
        self.assertEqual(session["peer"], "unix:")
        self.assertEqual(client_bytes(session), b"local\n")
        os.rmdir(folder)

    def test_a_stale_unix_socket_file_is_replaced(self):
        folder = Path(tempfile.mkdtemp(prefix="pf-"))
        path = folder / "stale.sock"
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(str(path))
        stale.close()  # the file stays, nobody listens
        scenario = ECHO.replace("banner:", f"listen: unix:{path}\n    banner:")
        with Farm(scenario) as farm:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(10)
                sock.connect(str(path))
                self.assertEqual(recv_line(sock), b"hi\n")
        self.assertEqual(farm.returncode, 0, farm.stderr)
        os.rmdir(folder)


if __name__ == "__main__":
    unittest.main()
