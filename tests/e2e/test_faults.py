"""Connection faults and rule shaping as a client sees them, on the raw tcp fake, with the
transcript checked too: resets (a rule's `then: reset`, `faults.reset_after` both ways),
fragmented writes arriving as separate reads, `delay`, `pace`, `latency`, `silence`, `refuse`,
`then: hang`, and a 1 MiB line sent to a line-framed server.

Durations are lower bounds measured with time.monotonic(): a timer waits at least as long as
scripted, never less. Sleeps are never used to wait for readiness; where silence must be
shown, the client waits a short, bounded time for bytes that must not come.
"""

import socket
import threading
import time
import unittest

from farm import (Farm, client_bytes, event_bytes, named_events, recv_exact, recv_until,
                  server_bytes)

TIMEOUT = 10  # seconds, for every socket
QUIET = 0.5   # seconds a client listens for bytes that must not arrive


def connect(farm, name, timeout=TIMEOUT):
    return socket.create_connection(farm.address(name), timeout=timeout)


def recv_until_reset(sock):
    """Reads until the connection is reset; returns what arrived before. A clean close (FIN)
    fails the test."""
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data
        if not chunk:
            raise AssertionError(f"clean close after {data!r}, expected a reset")
        data += chunk


def assert_nothing_arrives(test, sock, wait=QUIET):
    sock.settimeout(wait)
    try:
        data = sock.recv(4096)
    except (socket.timeout, TimeoutError):
        return
    finally:
        sock.settimeout(TIMEOUT)
    test.fail(f"expected silence, got {data!r}")


def server_events(session):
    return [e for e in session["events"] if e.get("from") == "server"]


def faults(session):
    return [e["fault"] for e in named_events(session, "fault")]


# --- resets ------------------------------------------------------------------------------------

RESETS = """
name: tcp-resets
servers:
  rule:
    protocol: tcp
    banner: "ready\\r\\n"
    rules:
      - name: boom
        on: BOOM
        reply: "going down"
        then: reset
  sent:
    protocol: tcp
    banner: "hi\\n"
    echo: true
    faults:
      reset_after: 12          # bytes the server sends: the banner and 9 bytes of the echo
  received:
    protocol: tcp
    echo: true
    faults:
      reset_after: {received: 10}
"""


class Resets(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.farm = Farm(RESETS).start()

    @classmethod
    def tearDownClass(cls):
        cls.farm.stop()

    def test_rule_then_reset(self):
        with connect(self.farm, "rule") as sock:
            self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
            sock.sendall(b"BOOM now\r\n")
            got = recv_until_reset(sock)
            # The reply went out before the reset; what of it arrived is a prefix.
            self.assertTrue(b"going down\r\n".startswith(got), got)
        [session] = self.farm.wait_sessions("rule", 1)
        self.assertEqual(session["close"], "reset")
        self.assertEqual(client_bytes(session), b"BOOM now\r\n")
        self.assertEqual(server_bytes(session), b"ready\r\ngoing down\r\n")
        self.assertEqual([e["rule"] for e in named_events(session, "rule")], ["boom"])

    def test_reset_after_sent_bytes(self):
        # The server writes only once it was asked, so the client is surely connected and
        # reading when the reset comes.
        with connect(self.farm, "sent") as sock:
            self.assertEqual(recv_exact(sock, 3), b"hi\n")
            sock.sendall(b"0123456789abcdefghij\n")
            got = recv_until_reset(sock)
            self.assertTrue(b"012345678".startswith(got), got)
        [session] = self.farm.wait_sessions("sent", 1)
        self.assertEqual(session["close"], "fault")
        self.assertEqual(client_bytes(session), b"0123456789abcdefghij\n")
        self.assertEqual(server_bytes(session), b"hi\n012345678")  # exactly 12 bytes went out
        [fault] = named_events(session, "fault")
        self.assertEqual((fault["fault"], fault["sent"]), ("reset_after", 12))

    def test_reset_after_received_bytes(self):
        with connect(self.farm, "received") as sock:
            sock.sendall(b"abc\n")
            self.assertEqual(recv_exact(sock, 4), b"abc\n")
            try:
                sock.sendall(b"defghijklmnop\n")  # crosses the 10-byte limit
            except (ConnectionResetError, BrokenPipeError):
                pass
            got = recv_until_reset(sock)
            self.assertEqual(got, b"")  # the line crossing the limit is never answered
        [session] = self.farm.wait_sessions("received", 1)
        self.assertEqual(session["close"], "fault")
        # The server took exactly 10 bytes: the first line and 6 bytes of the second.
        self.assertEqual(client_bytes(session), b"abc\ndefghi")
        self.assertEqual(server_bytes(session), b"abc\n")
        [fault] = named_events(session, "fault")
        self.assertEqual((fault["fault"], fault["received"]), ("reset_after", 10))


# --- fragments, pace, delay, latency --------------------------------------------------------

SHAPING = """
name: tcp-shaping
servers:
  frag:
    protocol: tcp
    idle_timeout: 20s
    rules:
      - name: slow-frags           # 20 bytes, 5 at a time, 150ms apart
        on: FRAG
        raw: "abcdefghijklmnopqrst"
        fragment: 5
        gap: 150ms
      - name: default-gap          # the default gap is 5ms
        on: QUICK
        raw: "0123456789"
        fragment: 2
      - name: paced                # 25 bytes at 50 B/s: one byte every 20ms
        on: PACE
        raw: "paced reply, 25 bytes...\\n"
        pace: 50B/s
      - name: late
        on: LATE
        delay: 300ms
        reply: "late"
  faulty:
    protocol: tcp
    idle_timeout: 20s
    banner: "hello there\\r\\n"
    echo: true
    faults:
      fragment: 3                  # every write, 3 bytes at a time
      gap: 100ms
      latency: 250ms               # and each write waits this long first
"""


class Shaping(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.farm = Farm(SHAPING).start()

    @classmethod
    def tearDownClass(cls):
        cls.farm.stop()

    def session_count(self, name):
        return len(self.farm.sessions(name))

    def test_fragments_arrive_as_separate_reads(self):
        before = self.session_count("frag")
        with connect(self.farm, "frag") as sock:
            sock.sendall(b"FRAG\r\n")
            reads, data = [], b""
            while len(data) < 20:
                chunk = sock.recv(64)  # room for more than one fragment
                self.assertTrue(chunk, data)
                reads.append(chunk)
                data += chunk
        self.assertEqual(data, b"abcdefghijklmnopqrst")
        # The server writes with TCP_NODELAY, 150ms apart: no read holds more than a fragment.
        self.assertTrue(all(len(r) <= 5 for r in reads), reads)
        self.assertGreaterEqual(len(reads), 4)
        session = self.farm.wait_sessions("frag", before + 1)[-1]
        sent = server_events(session)
        self.assertEqual([event_bytes(e) for e in sent],
                         [b"abcde", b"fghij", b"klmno", b"pqrst"])
        self.assertEqual({e["rule"] for e in sent}, {"slow-frags"})
        gaps = [b["t_ms"] - a["t_ms"] for a, b in zip(sent, sent[1:])]
        self.assertTrue(all(g >= 150 for g in gaps), gaps)

    def test_default_gap_is_5ms(self):
        before = self.session_count("frag")
        with connect(self.farm, "frag") as sock:
            sock.sendall(b"QUICK\r\n")
            self.assertEqual(recv_exact(sock, 10), b"0123456789")
        session = self.farm.wait_sessions("frag", before + 1)[-1]
        sent = server_events(session)
        self.assertEqual([event_bytes(e) for e in sent],
                         [b"01", b"23", b"45", b"67", b"89"])
        gaps = [b["t_ms"] - a["t_ms"] for a, b in zip(sent, sent[1:])]
        self.assertTrue(all(g >= 5 for g in gaps), gaps)

    def test_pace_is_no_faster_than_scripted(self):
        before = self.session_count("frag")
        payload = b"paced reply, 25 bytes...\n"
        with connect(self.farm, "frag") as sock:
            start = time.monotonic()
            sock.sendall(b"PACE\r\n")
            data = recv_exact(sock, len(payload))
            end = time.monotonic()
        self.assertEqual(data, payload)
        # 50 B/s: the first byte goes at once, each of the other 24 at least 20ms later.
        self.assertGreaterEqual(end - start, 24 / 50)
        session = self.farm.wait_sessions("frag", before + 1)[-1]
        sent = server_events(session)
        self.assertEqual(server_bytes(session), payload)
        self.assertEqual(len(sent), len(payload))  # one byte per write at this rate
        self.assertGreaterEqual(sent[-1]["t_ms"] - sent[0]["t_ms"], 24 / 50 * 1000)

    def test_delay_is_at_least_as_long_as_scripted(self):
        before = self.session_count("frag")
        with connect(self.farm, "frag") as sock:
            start = time.monotonic()
            sock.sendall(b"LATE\r\n")
            self.assertEqual(recv_exact(sock, 6), b"late\r\n")
            self.assertGreaterEqual(time.monotonic() - start, 0.3)
        session = self.farm.wait_sessions("frag", before + 1)[-1]
        [rule] = named_events(session, "rule")
        [sent] = server_events(session)
        self.assertGreaterEqual(sent["t_ms"] - rule["t_ms"], 300)
        self.assertEqual(client_bytes(session), b"LATE\r\n")

    def test_fault_latency_and_fragment_on_every_write(self):
        before = self.session_count("faulty")
        with connect(self.farm, "faulty") as sock:
            start = time.monotonic()
            banner = recv_exact(sock, 13)
            self.assertGreaterEqual(time.monotonic() - start, 0.25)  # latency before the banner
            self.assertEqual(banner, b"hello there\r\n")
            sock.sendall(b"echo me\n")
            sent_at = time.monotonic()
            reads, data = [], b""
            while len(data) < 8:
                chunk = sock.recv(64)
                self.assertTrue(chunk, data)
                reads.append(chunk)
                data += chunk
            self.assertGreaterEqual(time.monotonic() - sent_at, 0.25 + 2 * 0.1)
        self.assertEqual(data, b"echo me\n")
        self.assertTrue(all(len(r) <= 3 for r in reads), reads)
        session = self.farm.wait_sessions("faulty", before + 1)[-1]
        self.assertEqual([event_bytes(e) for e in server_events(session)],
                         [b"hel", b"lo ", b"the", b"re\r", b"\n", b"ech", b"o m", b"e\n"])
        self.assertEqual(client_bytes(session), b"echo me\n")
        open_event = session["events"][0]
        self.assertGreaterEqual(server_events(session)[0]["t_ms"] - open_event["t_ms"], 250)


# --- silence, refuse, hang ---------------------------------------------------------------------

QUIET_SERVERS = """
name: tcp-quiet
servers:
  silent:
    protocol: tcp
    banner: "ready\\r\\n"
    echo: true
    faults:
      silence: true
      times: 1                     # only the first session
  refusing:
    protocol: tcp
    banner: "ready\\r\\n"
    faults:
      refuse: true
      times: 1
  hanging:
    protocol: tcp
    banner: "ready\\r\\n"
    echo: true
    rules:
      - name: hang
        on: HANG
        reply: "hanging now"
        then: hang
"""


class QuietFaults(unittest.TestCase):
    def test_silence(self):
        with Farm(QUIET_SERVERS, only=["silent"]) as farm:
            with connect(farm, "silent") as sock:
                sock.sendall(b"anyone there?\r\n")
                assert_nothing_arrives(self, sock)  # no banner, no echo
            [first] = farm.wait_sessions("silent", 1)
            # The fault had `times: 1`: the next client is served.
            with connect(farm, "silent") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
                sock.sendall(b"echo\r\n")
                self.assertEqual(recv_until(sock, b"\r\n"), b"echo\r\n")
        self.assertEqual(faults(first), ["silence"])
        self.assertEqual(first["close"], "fault")
        self.assertEqual(client_bytes(first), b"anyone there?\r\n")
        self.assertEqual(server_bytes(first), b"")
        second = farm.session("silent", 2)
        self.assertEqual(faults(second), [])
        self.assertEqual(server_bytes(second), b"ready\r\necho\r\n")

    def test_refuse(self):
        with Farm(QUIET_SERVERS, only=["refusing"]) as farm:
            try:
                sock = connect(farm, "refusing")
            except ConnectionResetError:
                sock = None  # the reset came before connect() returned: seen all the same
            if sock:
                with sock:
                    self.assertEqual(recv_until_reset(sock), b"")
            [first] = farm.wait_sessions("refusing", 1)
            with connect(farm, "refusing") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
        self.assertEqual(faults(first), ["refuse"])
        self.assertEqual(first["close"], "fault")
        self.assertEqual(server_bytes(first), b"")
        self.assertEqual(client_bytes(first), b"")
        self.assertEqual(server_bytes(farm.session("refusing", 2)), b"ready\r\n")

    def test_hang(self):
        with Farm(QUIET_SERVERS, only=["hanging"]) as farm:
            with connect(farm, "hanging") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
                sock.sendall(b"HANG\r\n")
                self.assertEqual(recv_until(sock, b"\r\n"), b"hanging now\r\n")
                sock.sendall(b"hello?\r\n")  # recorded, never echoed
                assert_nothing_arrives(self, sock)
            [session] = farm.wait_sessions("hanging", 1)
        self.assertEqual(len(named_events(session, "hang")), 1)
        self.assertEqual(session["close"], "client")
        self.assertEqual(client_bytes(session), b"HANG\r\nhello?\r\n")
        self.assertEqual(server_bytes(session), b"ready\r\nhanging now\r\n")

    def test_hang_ends_at_shutdown(self):
        with Farm(QUIET_SERVERS, only=["hanging"]) as farm:
            sock = connect(farm, "hanging")
            recv_until(sock, b"\r\n")
            sock.sendall(b"HANG\r\n")
            recv_until(sock, b"\r\n")
            farm.wait_for(lambda: any(e.get("event") == "hang" for e in farm.events()),
                          what="the hang event")
        try:
            self.assertEqual(farm.returncode, 0, farm.stderr)
            self.assertEqual(farm.session("hanging", 1)["close"], "shutdown")
        finally:
            sock.close()


# --- a 1 MiB line ------------------------------------------------------------------------------

LONG_LINES = """
name: tcp-long-line
servers:
  lines:
    protocol: tcp
    banner: "ready\\r\\n"
    echo: true
  script:
    protocol: tcp
    max_line: 1KiB
    script:
      - send: "ready\\r\\n"
      - expect: '^HELLO'
      - send: "never\\r\\n"
"""

MIB = 1024 * 1024


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    # Returning 0 here would make the memory check below pass without measuring anything.
    raise AssertionError(f"no VmRSS line in /proc/{pid}/status")


def send_long_line(sock, size):
    """Sends `size` bytes without a line feed from a thread (the server stops reading part
    way, so the send may block until the reset); returns the thread and its outcome list."""
    outcome = []

    def send():
        try:
            sock.sendall(b"x" * size)
            outcome.append("sent")
        except OSError as e:  # reset, broken pipe, or the bounded timeout
            outcome.append(type(e).__name__)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    return thread, outcome


def recv_nothing_then_reset(sock, thread, outcome):
    """What the client receives while `thread` sends the long line: nothing, then a reset.
    The kernel reports a reset once, to whichever call meets it first: to this recv, or to the
    sender's send, after which recv sees only the end of the stream."""
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except ConnectionResetError:
            return data
        if not chunk:
            thread.join(TIMEOUT + 5)
            if outcome not in (["ConnectionResetError"], ["BrokenPipeError"]):
                raise AssertionError(f"clean close after {data!r}, and the sender saw {outcome}")
            return data
        data += chunk


class LongLine(unittest.TestCase):
    def assert_recorded_head(self, session, limit):
        """The over-long frame is recorded as its first `limit` bytes. What one socket read had
        brought in beyond that is recorded as `unread`; the rest was never read."""
        frames = [e for e in session["events"] if e.get("from") == "client"]
        self.assertEqual(event_bytes(frames[0]), b"x" * limit)
        self.assertNotIn("unread", frames[0])
        rest = frames[1:]
        self.assertTrue(all(e.get("unread") for e in rest), rest)
        self.assertLessEqual(len(b"".join(event_bytes(e) for e in rest)), 64 * 1024)

    def test_one_mib_without_newline(self):
        with Farm(LONG_LINES, only=["lines"]) as farm:
            pid = farm.ready["pid"]
            rss_before = rss_kib(pid)
            with connect(farm, "lines") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
                thread, outcome = send_long_line(sock, MIB)
                # nothing echoed, then a reset
                self.assertEqual(recv_nothing_then_reset(sock, thread, outcome), b"")
                thread.join(TIMEOUT + 5)
                self.assertFalse(thread.is_alive())
            [session] = farm.wait_sessions("lines", 1)
            # The farm is alive and serves the next client as before.
            self.assertIsNone(farm.proc.poll())
            with connect(farm, "lines") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
                sock.sendall(b"still here\n")
                self.assertEqual(recv_until(sock, b"\n"), b"still here\n")
            rss_after = rss_kib(pid)
        self.assertEqual(farm.returncode, 0, farm.stderr)
        [event] = named_events(session, "line_too_long")
        self.assertEqual(event["limit"], 64 * 1024)
        self.assertEqual(session["close"], "server")
        self.assert_recorded_head(session, 64 * 1024)
        self.assertEqual(server_bytes(session), b"ready\r\n")
        # Memory did not grow by anything like the line (generous bound: allocator noise).
        self.assertLess(rss_after - rss_before, 16 * 1024, (rss_before, rss_after))

    def test_long_line_in_a_script_expect(self):
        with Farm(LONG_LINES, only=["script"]) as farm:
            with connect(farm, "script") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
                thread, outcome = send_long_line(sock, MIB)
                # never "never", then a reset
                self.assertEqual(recv_nothing_then_reset(sock, thread, outcome), b"")
                thread.join(TIMEOUT + 5)
            [session] = farm.wait_sessions("script", 1)
            with connect(farm, "script") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"ready\r\n")
        [event] = named_events(session, "line_too_long")
        self.assertEqual(event["limit"], 1024)
        self.assertEqual(named_events(session, "expect"), [])
        self.assert_recorded_head(session, 1024)
        self.assertEqual(session["close"], "server")


if __name__ == "__main__":
    unittest.main()
