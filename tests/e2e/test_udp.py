"""The udp fake with real datagram clients: rules that reply, stay silent, delay, duplicate and
truncate; one session per peer; idle timeout and shutdown; Unix datagram sockets; faults.

Silence is never proven by waiting: a client sends the datagram that must get no answer, then
a "sentinel" datagram that does get one. The server handles a peer's datagrams in order, so
when the sentinel's answer arrives the earlier datagram has been handled, and anything it had
sent would have arrived first.
"""

import os
import socket
import tempfile
import time
import unittest
from pathlib import Path

from farm import (SCENARIOS, Farm, client_bytes, event_bytes, named_events, run,
                  server_bytes)

SENTINEL = b"SENTINEL"
SENTINEL_RULE = """
      - name: sentinel
        match: '^SENTINEL$'
        reply: "ACK"
"""


def udp_client(timeout=10):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    sock.bind(("127.0.0.1", 0))
    return sock


def recv_until_sentinel(sock):
    """Every datagram received before the sentinel's ACK (the ACK itself excluded)."""
    got = []
    while True:
        data, _ = sock.recvfrom(65536)
        if data == b"ACK":
            return got
        got.append(data)


def server_datagrams(session):
    return [event_bytes(e) if "from" in e else b"" for e in session["events"]
            if e.get("from") == "server" or (e.get("event") == "empty_datagram"
                                             and e.get("side") == "server")]


def client_datagrams(session):
    return [event_bytes(e) if "from" in e else b"" for e in session["events"]
            if e.get("from") == "client" or (e.get("event") == "empty_datagram"
                                             and e.get("side") == "client")]


RULES = """
name: udp-rules
servers:
  u:
    protocol: udp
    rules:
      - name: ping
        on: PING
        match: 'PING (\\d+)'
        reply: "PONG ${1}"
      - name: two
        match: '^TWO$'
        reply: ["first", "second"]
      - name: drop
        match: '^DROP'
        reply: []
      - name: slow
        match: '^SLOW'
        delay: 600ms
        reply: "slow answer"
      - name: dup
        match: '^DUP'
        duplicate: 2
        reply: "copy"
      - name: cut
        match: '^CUT'
        truncate: 5
        reply: "0123456789"
      - name: binary
        hex_prefix: "de ad be ef"
        raw: {hex: "ca fe 00 01"}
      - name: empty
        match: '^EMPTY$'
        raw: ""
""" + SENTINEL_RULE


class UdpRules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.farm = Farm(RULES).start()
        cls.addr = cls.farm.address("u")

    @classmethod
    def tearDownClass(cls):
        cls.farm.stop()

    def ask(self, sock, data):
        sock.sendto(data, self.addr)
        reply, peer = sock.recvfrom(65536)
        self.assertEqual(peer, self.addr)
        return reply

    def test_reply_with_capture(self):
        with udp_client() as c:
            self.assertEqual(self.ask(c, b"PING 7"), b"PONG 7")
            # `on` is case-insensitive, `match` is not: "ping 8" has no "PING (\d+)" and is
            # not answered; the sentinel proves it.
            c.sendto(b"ping 8", self.addr)
            c.sendto(SENTINEL, self.addr)
            self.assertEqual(recv_until_sentinel(c), [])

    def test_list_reply_is_one_datagram_per_line(self):
        with udp_client() as c:
            c.sendto(b"TWO", self.addr)
            self.assertEqual(c.recvfrom(100)[0], b"first")
            self.assertEqual(c.recvfrom(100)[0], b"second")

    def test_silent_rule_sends_nothing(self):
        with udp_client() as c:
            c.sendto(b"DROP me", self.addr)
            c.sendto(SENTINEL, self.addr)
            self.assertEqual(recv_until_sentinel(c), [])

    def test_unanswered_datagram_gets_nothing_without_echo(self):
        with udp_client() as c:
            c.sendto(b"nobody answers this", self.addr)
            c.sendto(SENTINEL, self.addr)
            self.assertEqual(recv_until_sentinel(c), [])

    def test_delay_is_at_least_as_long_as_scripted(self):
        with udp_client() as c:
            start = time.monotonic()
            c.sendto(b"SLOW", self.addr)
            self.assertEqual(c.recvfrom(100)[0], b"slow answer")
            self.assertGreaterEqual(time.monotonic() - start, 0.6)

    def test_delay_does_not_hold_up_other_peers_or_later_datagrams(self):
        with udp_client() as slow, udp_client() as fast:
            start = time.monotonic()
            slow.sendto(b"SLOW", self.addr)
            # Another peer, and the same peer, are answered while the slow answer waits.
            self.assertEqual(self.ask(fast, b"PING 1"), b"PONG 1")
            self.assertEqual(self.ask(slow, b"PING 2"), b"PONG 2")
            self.assertLess(time.monotonic() - start, 0.5)
            self.assertEqual(slow.recvfrom(100)[0], b"slow answer")
            self.assertGreaterEqual(time.monotonic() - start, 0.6)

    def test_duplicate_sends_extra_copies(self):
        with udp_client() as c:
            c.sendto(b"DUP", self.addr)
            c.sendto(SENTINEL, self.addr)
            self.assertEqual(recv_until_sentinel(c), [b"copy"] * 3)

    def test_truncate_cuts_the_datagram(self):
        with udp_client() as c:
            self.assertEqual(self.ask(c, b"CUT"), b"01234")

    def test_hex_prefix_and_raw_bytes(self):
        with udp_client() as c:
            self.assertEqual(self.ask(c, b"\xde\xad\xbe\xef\x00rest"), b"\xca\xfe\x00\x01")
            c.sendto(b"\xde\xad\xbe", self.addr)  # too short for the prefix: no answer
            c.sendto(SENTINEL, self.addr)
            self.assertEqual(recv_until_sentinel(c), [])

    def test_empty_datagram_answered_with_empty_datagram(self):
        with udp_client() as c:
            self.assertEqual(self.ask(c, b"EMPTY"), b"")


class UdpRulesTranscript(unittest.TestCase):
    def test_every_datagram_is_recorded_both_ways(self):
        with Farm(RULES) as farm:
            addr = farm.address("u")
            with udp_client() as c:
                for data in (b"PING 1", b"DUP", b"CUT", b"DROP", b"\xde\xad\xbe\xef", b""):
                    c.sendto(data, addr)
                c.sendto(SENTINEL, addr)
                got = recv_until_sentinel(c)
                self.assertEqual(got, [b"PONG 1", b"copy", b"copy", b"copy", b"01234",
                                       b"\xca\xfe\x00\x01"])
                me = "127.0.0.1:%d" % c.getsockname()[1]
        self.assertEqual(farm.returncode, 0, farm.stderr)
        [session] = farm.sessions("u")
        self.assertEqual(session["protocol"], "udp")
        self.assertEqual(session["peer"], me)
        self.assertEqual(session["local"], "127.0.0.1:%d" % addr[1])
        self.assertEqual(session["close"], "shutdown")
        self.assertEqual(client_datagrams(session),
                         [b"PING 1", b"DUP", b"CUT", b"DROP", b"\xde\xad\xbe\xef", b"",
                          SENTINEL])
        self.assertEqual(server_datagrams(session),
                         [b"PONG 1", b"copy", b"copy", b"copy", b"01234", b"\xca\xfe\x00\x01",
                          b"ACK"])
        rules = [(e["rule"], e["count"]) for e in named_events(session, "rule")]
        self.assertEqual(rules, [("ping", 1), ("dup", 1), ("cut", 1), ("drop", 1),
                                 ("binary", 1), ("sentinel", 1)])
        sent = [e for e in session["events"] if e.get("from") == "server"]
        self.assertEqual([e.get("duplicate") for e in sent[1:4]], [None, 1, 2])
        self.assertEqual(sent[4]["truncated_from"], 10)
        self.assertEqual(sent[0]["rule"], "ping")
        self.assertIn("base64", sent[5])


class UdpSessions(unittest.TestCase):
    SCENARIO = """
name: udp-sessions
servers:
  u:
    protocol: udp
    idle_timeout: 400ms
    echo: true
    rules:
      - match: '^BYE$'
        reply: "bye"
        then: close
      - match: '^HANG$'
        reply: "hanging"
        then: hang
"""

    def test_one_session_per_peer_in_order_of_first_datagram(self):
        with Farm(self.SCENARIO.replace("400ms", "60s")) as farm:
            addr = farm.address("u")
            clients = [udp_client() for _ in range(3)]
            try:
                for i, c in enumerate(clients):
                    c.sendto(b"hello %d" % i, addr)
                    self.assertEqual(c.recvfrom(100)[0], b"hello %d" % i)
                # Interleaved: each peer's datagrams stay in its own session.
                for i, c in enumerate(reversed(clients)):
                    c.sendto(b"again %d" % i, addr)
                    c.recvfrom(100)
                names = ["127.0.0.1:%d" % c.getsockname()[1] for c in clients]
            finally:
                for c in clients:
                    c.close()
        sessions = farm.sessions("u")
        self.assertEqual([s["session"] for s in sessions], [1, 2, 3])
        self.assertEqual([s["peer"] for s in sessions], names)
        for i, s in enumerate(sessions):
            self.assertEqual(client_datagrams(s), [b"hello %d" % i, b"again %d" % (2 - i)])
            self.assertEqual(s["close"], "shutdown")

    def test_idle_timeout_ends_a_peer_session_and_the_next_datagram_starts_another(self):
        with Farm(self.SCENARIO) as farm:
            addr = farm.address("u")
            with udp_client() as c:
                start = time.monotonic()
                c.sendto(b"one", addr)
                self.assertEqual(c.recvfrom(100)[0], b"one")
                first = farm.wait_sessions("u", 1)[0]
                self.assertGreaterEqual(time.monotonic() - start, 0.4)
                self.assertEqual(first["close"], "timeout")
                self.assertEqual(client_datagrams(first), [b"one"])
                c.sendto(b"two", addr)
                self.assertEqual(c.recvfrom(100)[0], b"two")
        second = farm.session("u", 2)
        self.assertEqual(client_datagrams(second), [b"two"])
        self.assertEqual(second["close"], "shutdown")

    def test_then_close_ends_the_session_after_the_answer(self):
        with Farm(self.SCENARIO.replace("400ms", "60s")) as farm:
            addr = farm.address("u")
            with udp_client() as c:
                c.sendto(b"BYE", addr)
                self.assertEqual(c.recvfrom(100)[0], b"bye")
                first = farm.wait_sessions("u", 1)[0]
                self.assertEqual(first["close"], "server")
                c.sendto(b"back", addr)
                self.assertEqual(c.recvfrom(100)[0], b"back")
        self.assertEqual(len(farm.sessions("u")), 2)

    def test_then_hang_stops_answering_that_peer_only(self):
        with Farm(self.SCENARIO.replace("400ms", "60s")) as farm:
            addr = farm.address("u")
            with udp_client() as c, udp_client() as other:
                c.sendto(b"HANG", addr)
                self.assertEqual(c.recvfrom(100)[0], b"hanging")
                c.sendto(b"anyone?", addr)
                other.sendto(b"still here", addr)
                self.assertEqual(other.recvfrom(100)[0], b"still here")
                farm.wait_for(lambda: any(
                    event_bytes(e) == b"anyone?" for e in farm.events()), what="the datagram")
        hung = farm.session("u", 1)
        self.assertEqual(client_datagrams(hung), [b"HANG", b"anyone?"])
        self.assertEqual(server_datagrams(hung), [b"hanging"])
        self.assertEqual(len(named_events(hung, "hang")), 1)

    def test_pending_delayed_answer_is_dropped_at_shutdown(self):
        scenario = """
name: udp-shutdown
servers:
  u:
    protocol: udp
    rules:
      - delay: 30s
        reply: never
"""
        farm = Farm(scenario).start()
        with udp_client() as c:
            c.sendto(b"x", farm.address("u"))
            farm.wait_for(lambda: any(e.get("event") == "rule" for e in farm.events()),
                          what="the rule event")
            start = time.monotonic()
            self.assertEqual(farm.stop(), 0, farm.stderr)
            self.assertLess(time.monotonic() - start, 5)
        session = farm.session("u", 1)
        self.assertEqual(session["close"], "shutdown")
        self.assertEqual(server_datagrams(session), [])

    def test_oversized_datagram_is_recorded_cut_and_not_answered(self):
        scenario = """
name: udp-big
servers:
  u:
    protocol: udp
    max_line: 100
    echo: true
"""
        with Farm(scenario) as farm:
            addr = farm.address("u")
            with udp_client() as c:
                c.sendto(b"x" * 1000, addr)
                c.sendto(b"small", addr)
                self.assertEqual(c.recvfrom(2000)[0], b"small")
        session = farm.session("u", 1)
        self.assertEqual(client_datagrams(session), [b"x" * 100, b"small"])
        [too_long] = named_events(session, "datagram_too_long")
        self.assertEqual(too_long["limit"], 100)
        self.assertEqual(server_datagrams(session), [b"small"])


class UdpFaults(unittest.TestCase):
    def test_silence_fault_for_the_first_peer_only(self):
        scenario = """
name: udp-silence
servers:
  u:
    protocol: udp
    echo: true
    faults:
      silence: true
      times: 1
"""
        with Farm(scenario) as farm:
            addr = farm.address("u")
            with udp_client() as first, udp_client() as second:
                first.sendto(b"hello?", addr)
                farm.wait_for(lambda: any(e.get("event") == "fault" for e in farm.events()),
                              what="the fault event")
                second.sendto(b"hello", addr)
                self.assertEqual(second.recvfrom(100)[0], b"hello")
                first.sendto(b"still?", addr)
                # The server handles datagrams in arrival order; once the second peer's next
                # echo is back, the first peer's datagram has been handled (and not answered).
                second.sendto(b"again", addr)
                self.assertEqual(second.recvfrom(100)[0], b"again")
                first.settimeout(0.05)
                with self.assertRaises(socket.timeout):
                    first.recvfrom(100)
        silent = farm.session("u", 1)
        self.assertEqual(client_datagrams(silent), [b"hello?", b"still?"])
        self.assertEqual(server_datagrams(silent), [])
        self.assertEqual(named_events(silent, "fault")[0]["fault"], "silence")
        self.assertEqual(server_datagrams(farm.session("u", 2)), [b"hello", b"again"])

    def test_latency_fault_delays_every_answer(self):
        scenario = """
name: udp-latency
servers:
  u:
    protocol: udp
    echo: true
    faults:
      latency: 300ms
"""
        with Farm(scenario) as farm:
            addr = farm.address("u")
            with udp_client() as c:
                for data in (b"a", b"b"):
                    start = time.monotonic()
                    c.sendto(data, addr)
                    self.assertEqual(c.recvfrom(100)[0], data)
                    self.assertGreaterEqual(time.monotonic() - start, 0.3)

    def test_faults_that_mean_nothing_for_udp_are_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bad.yaml"
            path.write_text("""name: bad
servers:
  u:
    protocol: udp
    faults:
      reset_after: 10
    rules:
      - on: connect
        reply: x
      - reply: y
        then: reset
      - reply: z
        fragment: 1
""")
            result = run("validate", path)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("bad.yaml:6:20: error: servers.u.faults.reset_after: reset_after needs a "
                      "connection", result.stderr)
        self.assertIn("bad.yaml:8:13: error:", result.stderr)
        self.assertIn("`on: connect` never happens", result.stderr)
        self.assertIn("no connection to reset", result.stderr)
        self.assertIn("pace and fragment do not apply", result.stderr)

    def test_unknown_udp_rule_key_is_an_error_with_a_suggestion(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bad.yaml"
            path.write_text("name: bad\nservers:\n  u:\n    protocol: udp\n    rules:\n"
                            "      - duplcate: 2\n        reply: x\n")
            result = run("validate", path)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("did you mean 'duplicate'", result.stderr)


class UnixDatagram(unittest.TestCase):
    def scenario(self, path):
        return f"""
name: udp-unix
servers:
  u:
    protocol: udp
    listen: unix:{path}
    echo: true
    rules:
      - match: '^PING$'
        reply: PONG
"""

    def test_unix_datagram_socket_answers_a_bound_client(self):
        with tempfile.TemporaryDirectory() as tmp:
            server_path = os.path.join(tmp, "s.sock")
            client_path = os.path.join(tmp, "c.sock")
            with Farm(self.scenario(server_path)) as farm:
                self.assertEqual(farm.server("u")["path"], server_path)
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as c:
                    c.settimeout(10)
                    c.bind(client_path)
                    c.sendto(b"PING", server_path)
                    self.assertEqual(c.recvfrom(100), (b"PONG", server_path))
                    c.sendto(b"\x00\x01 echo", server_path)
                    self.assertEqual(c.recvfrom(100)[0], b"\x00\x01 echo")
            self.assertFalse(os.path.exists(server_path), "the socket file is removed at stop")
        session = farm.session("u", 1)
        self.assertEqual(session["peer"], "unix:" + client_path)
        self.assertEqual(session["local"], "unix:" + server_path)
        self.assertEqual(client_datagrams(session), [b"PING", b"\x00\x01 echo"])
        self.assertEqual(server_datagrams(session), [b"PONG", b"\x00\x01 echo"])

    def test_unbound_client_is_recorded_but_cannot_be_answered(self):
        with tempfile.TemporaryDirectory() as tmp:
            server_path = os.path.join(tmp, "s.sock")
            with Farm(self.scenario(server_path)) as farm:
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as c:
                    c.sendto(b"PING", server_path)
                farm.wait_for(lambda: any(e.get("event") == "unanswerable"
                                          for e in farm.events()), what="unanswerable")
        session = farm.session("u", 1)
        self.assertEqual(session["peer"], "unix:")
        self.assertEqual(client_datagrams(session), [b"PING"])
        self.assertEqual(server_datagrams(session), [])


class UdpExample(unittest.TestCase):
    def test_example_validates_and_behaves(self):
        path = SCENARIOS / "udp-echo.yaml"
        result = run("validate", path)
        self.assertEqual(result.returncode, 0, result.stderr)
        with Farm(path=path) as farm:
            addr = farm.address("echo")
            with udp_client() as c:
                c.sendto(b"hello", addr)
                self.assertEqual(c.recvfrom(100)[0], b"hello")
                c.sendto(b"PING", addr)
                self.assertEqual(c.recvfrom(100)[0], b"PONG")
                c.sendto(b"RETRY me", addr)  # dropped the first time: the client must retry
                c.sendto(b"RETRY me", addr)
                self.assertEqual(c.recvfrom(100)[0], b"OK me")
                start = time.monotonic()
                c.sendto(b"SLOW", addr)
                self.assertEqual(c.recvfrom(100)[0], b"SLOW")
                self.assertGreaterEqual(time.monotonic() - start, 0.2)
                c.sendto(b"DUP", addr)
                self.assertEqual([c.recvfrom(100)[0] for _ in range(2)], [b"DUP", b"DUP"])
                c.sendto(b"BIG", addr)
                self.assertEqual(c.recvfrom(100)[0], b"0123")
        session = farm.session("echo", 1)
        rules = [e["rule"] for e in named_events(session, "rule")]
        self.assertEqual(rules, ["ping", "retry-drop", "retry-ok", "slow", "dup", "big"])


if __name__ == "__main__":
    unittest.main()
