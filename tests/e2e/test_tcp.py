"""The raw tcp fake with real clients: the example scenarios tcp-*.yaml (driven with curl's
Telnet and Gopher clients, openssl s_client, Python's ssl module and plain sockets), script
steps with captures, on_mismatch, every framing mode, hex and base64 payloads, a Unix stream
socket driven with socat, and rules mode. Every test checks what the client saw and what the
transcript recorded, byte for byte.

Nothing waits on a sleep for readiness: a client reads until it has what it expects, or until
the server closes. Where "no answer" must be shown, a later request that is answered proves
that the earlier one was handled (the server handles one connection's frames in order).
"""

import base64
import shutil
import socket
import ssl
import subprocess
import tempfile
import unittest
from pathlib import Path

from farm import (SCENARIOS, Farm, client_bytes, event_bytes, named_events, recv_exact,
                  recv_until, run, server_bytes)

TIMEOUT = 10  # seconds, for every socket and client program


def connect(farm, name):
    return socket.create_connection(farm.address(name), timeout=TIMEOUT)


def recv_until_closed(sock):
    """Everything until the server closes (FIN). A reset is an error here."""
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def client_frames(session):
    """The client events' bytes, one item per recorded event (a frame each)."""
    return [event_bytes(e) for e in session["events"] if e.get("from") == "client"]


def expect_events(session):
    return [(e["step"], e["matched"]) for e in named_events(session, "expect")]


def rule_names(session):
    return [e["rule"] for e in named_events(session, "rule")]


def tool(name):
    path = shutil.which(name)
    if not path:
        raise unittest.SkipTest(f"{name} is not installed")
    return path


def run_client(args, input_bytes):
    """Runs a client program with bounded time; returns its CompletedProcess (bytes)."""
    return subprocess.run(args, input=input_bytes, capture_output=True, timeout=30)


# --- the example scenarios -------------------------------------------------------------------

class ExampleScenarios(unittest.TestCase):
    def test_every_tcp_example_validates(self):
        files = sorted(SCENARIOS.glob("tcp-*.yaml"))
        self.assertGreaterEqual(len(files), 4, files)
        for path in files:
            result = run("validate", path)
            self.assertEqual(result.returncode, 0, f"{path}: {result.stdout}{result.stderr}")
            self.assertTrue(path.read_text().startswith("#"), f"{path}: no comment header")


class EchoScenario(unittest.TestCase):
    def test_socket_client(self):
        with Farm(path=SCENARIOS / "tcp-echo.yaml") as farm:
            with connect(farm, "echo") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"+OK echo ready\r\n")
                for line, answer in ((b"hello\r\n", b"hello\r\n"), (b"ping\r\n", b"+PONG\r\n"),
                                     (b"REVERSE abc\r\n", b"+OK abc\r\n"),
                                     (b"FLAKY\r\n", b"-ERR try again\r\n"),
                                     (b"FLAKY\r\n", b"+OK\r\n"), (b"bare lf\n", b"bare lf\n")):
                    sock.sendall(line)
                    self.assertEqual(recv_until(sock, b"\n"), answer, line)
                sock.sendall(b"QUIT\r\n")
                self.assertEqual(recv_until_closed(sock), b"+OK bye\r\n")
        self.assertEqual(farm.returncode, 0, farm.stderr)
        session = farm.session("echo", 1)
        self.assertEqual(session["close"], "server")
        self.assertEqual(client_frames(session),
                         [b"hello\r\n", b"ping\r\n", b"REVERSE abc\r\n", b"FLAKY\r\n",
                          b"FLAKY\r\n", b"bare lf\n", b"QUIT\r\n"])
        self.assertEqual(server_bytes(session),
                         b"+OK echo ready\r\nhello\r\n+PONG\r\n+OK abc\r\n-ERR try again\r\n"
                         b"+OK\r\nbare lf\n+OK bye\r\n")
        self.assertEqual(rule_names(session),
                         ["ping", "reverse", "flaky-once", "flaky-ok", "quit"])

    def test_socat_client(self):
        socat = tool("socat")
        with Farm(path=SCENARIOS / "tcp-echo.yaml") as farm:
            host, port = farm.address("echo")
            # -t: after stdin ends, wait (bounded) for the server's close.
            out = run_client([socat, "-t", "10", "-", f"TCP:{host}:{port}"],
                             b"one\r\nPING\r\nQUIT\r\n")
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout, b"+OK echo ready\r\none\r\n+PONG\r\n+OK bye\r\n")
            [session] = farm.wait_sessions("echo", 1)
        self.assertEqual(client_bytes(session), b"one\r\nPING\r\nQUIT\r\n")
        self.assertEqual(server_bytes(session), out.stdout)


IAC, DO, DONT, WILL, WONT = 255, 253, 254, 251, 252
TTYPE, ECHO_OPT = 24, 1


class TelnetScenario(unittest.TestCase):
    def test_negotiating_socket_client(self):
        """A minimal Telnet client: answers each option (RFC 1143), then logs in."""
        with Farm(path=SCENARIOS / "tcp-telnet.yaml") as farm:
            with connect(farm, "telnet") as sock:
                options = recv_exact(sock, 6)
                self.assertEqual(options, bytes([IAC, DO, TTYPE, IAC, WILL, ECHO_OPT]))
                # We will not say our terminal type; the server may echo.
                reply = bytes([IAC, WONT, TTYPE, IAC, DO, ECHO_OPT])
                prompt = recv_until(sock, b"login: ")
                self.assertEqual(prompt, b"\r\nprotofarm telnet fake\r\n\r\nlogin: ")
                sock.sendall(reply + b"alice\r\n")
                self.assertEqual(recv_until_closed(sock), b"\r\nWelcome to protofarm, alice!\r\n")
        session = farm.session("telnet", 1)
        self.assertEqual(session["close"], "server")
        self.assertEqual(client_bytes(session), reply + b"alice\r\n")
        self.assertEqual(server_bytes(session),
                         options + prompt + b"\r\nWelcome to protofarm, alice!\r\n")
        # The option bytes are not UTF-8: recorded as base64.
        first = [e for e in session["events"] if e.get("from") == "server"][0]
        self.assertEqual(first["base64"], base64.b64encode(options).decode())
        self.assertEqual(expect_events(session), [(2, True)])

    def test_character_mode_line_end_cr_nul(self):
        """A Telnet client in character mode types the name a byte at a time and ends the
        line with CR NUL; the frame ends at the CR."""
        with Farm(path=SCENARIOS / "tcp-telnet.yaml") as farm:
            with connect(farm, "telnet") as sock:
                recv_until(sock, b"login: ")
                for byte in b"eve":
                    sock.sendall(bytes([byte]))
                sock.sendall(b"\r\x00")
                self.assertEqual(recv_until_closed(sock), b"\r\nWelcome to protofarm, eve!\r\n")
        session = farm.session("telnet", 1)
        frames = [event_bytes(e) for e in session["events"]
                  if e.get("from") == "client" and e.get("step") == 2]
        self.assertEqual(frames, [b"eve\r"])
        self.assertEqual(client_bytes(session), b"eve\r\x00")  # the NUL: recorded, unread
        self.assertEqual(session["close"], "server")

    def test_curl_telnet_client(self):
        curl = tool("curl")
        with Farm(path=SCENARIOS / "tcp-telnet.yaml") as farm:
            host, port = farm.address("telnet")
            out = run_client([curl, "-sS", "--max-time", "20", f"telnet://{host}:{port}"],
                             b"bob\r\n")
            # curl's Telnet client strips the option bytes and shows the text.
            self.assertEqual(out.stdout,
                             b"\r\nprotofarm telnet fake\r\n\r\nlogin: "
                             b"\r\nWelcome to protofarm, bob!\r\n", out.stderr)
            [session] = farm.wait_sessions("telnet", 1)
        frame = [e for e in session["events"] if e.get("step") == 2 and "from" in e]
        self.assertEqual(len(frame), 1)
        # Whatever curl answered to the options came first, then the user name line.
        self.assertTrue(event_bytes(frame[0]).endswith(b"bob\r"), frame)
        self.assertIn(b"bob\r\n", client_bytes(session))
        self.assertTrue(server_bytes(session).startswith(bytes.fromhex("fffd18fffb01")))
        self.assertTrue(server_bytes(session).endswith(b"Welcome to protofarm, bob!\r\n"))
        self.assertEqual(session["close"], "server")


class GopherScenario(unittest.TestCase):
    MENU = (b"iWelcome to the protofarm gopher fake\t\terror.host\t1\r\n"
            b"0About this server\t/about\tlocalhost\t70\r\n"
            b"1Documents\t/docs\tlocalhost\t70\r\n.\r\n")
    ABOUT = (b"This is a scripted Gopher server.\r\n"
             b"Every reply is written in scenarios/tcp-gopher.yaml.\r\n.\r\n")

    def ask(self, farm, selector):
        with connect(farm, "gopher") as sock:
            sock.sendall(selector)
            return recv_until_closed(sock)

    def test_socket_client(self):
        with Farm(path=SCENARIOS / "tcp-gopher.yaml") as farm:
            self.assertEqual(self.ask(farm, b"\r\n"), self.MENU)
            self.assertEqual(self.ask(farm, b"/about\r\n"), self.ABOUT)
            self.assertEqual(self.ask(farm, b"/nothing\r\n"),
                             b"3'/nothing' does not exist\t\terror.host\t1\r\n.\r\n")
            farm.wait_sessions("gopher", 3)
        sessions = farm.sessions("gopher")
        self.assertEqual([client_bytes(s) for s in sessions],
                         [b"\r\n", b"/about\r\n", b"/nothing\r\n"])
        self.assertEqual([server_bytes(s) for s in sessions],
                         [self.MENU, self.ABOUT,
                          b"3'/nothing' does not exist\t\terror.host\t1\r\n.\r\n"])
        self.assertEqual([rule_names(s) for s in sessions], [["menu"], ["about"], ["not-found"]])
        self.assertEqual([s["close"] for s in sessions], ["server"] * 3)

    def test_curl_gopher_client(self):
        curl = tool("curl")
        with Farm(path=SCENARIOS / "tcp-gopher.yaml") as farm:
            host, port = farm.address("gopher")
            menu = run_client([curl, "-sS", "--max-time", "20", f"gopher://{host}:{port}/"], b"")
            about = run_client([curl, "-sS", "--max-time", "20",
                                f"gopher://{host}:{port}/0/about"], b"")
            self.assertEqual(menu.stdout, self.MENU, menu.stderr)
            self.assertEqual(about.stdout, self.ABOUT, about.stderr)
            farm.wait_sessions("gopher", 2)
        sessions = farm.sessions("gopher")
        # curl sends the selector and CRLF; the server answers and closes first.
        self.assertEqual([client_bytes(s) for s in sessions], [b"\r\n", b"/about\r\n"])
        self.assertEqual([server_bytes(s) for s in sessions], [self.MENU, self.ABOUT])


class TlsScenario(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.farm = Farm(path=SCENARIOS / "tcp-tls.yaml").start()
        cls.ca = cls.farm.ca
        if not cls.ca or not Path(cls.ca).exists():
            cls.farm.stop()
            raise AssertionError(f"the ready file names no CA: {cls.farm.ready}")

    @classmethod
    def tearDownClass(cls):
        cls.farm.stop()

    def context(self):
        return ssl.create_default_context(cafile=self.ca)

    def last_session(self, name, count):
        return self.farm.wait_sessions(name, count)[-1]

    def test_ready_file_names_the_ca(self):
        self.assertEqual(self.farm.server("secure")["tls"], "implicit")
        self.assertEqual(self.farm.server("upgrade")["tls"], "starttls")
        self.assertIn("BEGIN CERTIFICATE", Path(self.ca).read_text())

    def test_implicit_tls_with_python_ssl(self):
        count = len(self.farm.sessions("secure"))
        with socket.create_connection(self.farm.address("secure"), timeout=TIMEOUT) as raw:
            with self.context().wrap_socket(raw, server_hostname="localhost") as tls:
                self.assertEqual(recv_until(tls, b"\r\n"), b"+OK secure echo ready\r\n")
                tls.sendall(b"PING\r\nsecret line\r\nQUIT\r\n")
                data = b""
                while not data.endswith(b"+OK bye\r\n"):
                    chunk = tls.recv(4096)
                    self.assertTrue(chunk, data)
                    data += chunk
                self.assertEqual(data, b"+PONG\r\nsecret line\r\n+OK bye\r\n")
        session = self.last_session("secure", count + 1)
        [tls_event] = named_events(session, "tls")
        self.assertTrue(tls_event["version"].startswith("TLS"), tls_event)
        self.assertEqual(tls_event.get("sni"), "localhost")
        self.assertEqual(client_bytes(session), b"PING\r\nsecret line\r\nQUIT\r\n")
        self.assertEqual(server_bytes(session),
                         b"+OK secure echo ready\r\n+PONG\r\nsecret line\r\n+OK bye\r\n")
        self.assertEqual(session["close"], "server")

    def test_implicit_tls_with_openssl_s_client(self):
        openssl = tool("openssl")
        count = len(self.farm.sessions("secure"))
        host, port = self.farm.address("secure")
        out = run_client([openssl, "s_client", "-connect", f"{host}:{port}", "-CAfile", self.ca,
                          "-verify_return_error", "-quiet"], b"PING\r\nhello tls\r\nQUIT\r\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, b"+OK secure echo ready\r\n+PONG\r\nhello tls\r\n+OK bye\r\n")
        session = self.last_session("secure", count + 1)
        self.assertEqual(len(named_events(session, "tls")), 1)
        self.assertEqual(client_bytes(session), b"PING\r\nhello tls\r\nQUIT\r\n")
        self.assertEqual(server_bytes(session), out.stdout)

    def test_a_plain_client_fails_the_handshake(self):
        count = len(self.farm.sessions("secure"))
        with socket.create_connection(self.farm.address("secure"), timeout=TIMEOUT) as sock:
            sock.sendall(b"PING\r\n")  # not a TLS record
            try:
                data = recv_until_closed(sock)
            except ConnectionResetError:
                data = b""
            self.assertNotIn(b"PONG", data)
        session = self.last_session("secure", count + 1)
        self.assertEqual(len(named_events(session, "tls_failed")), 1)
        self.assertEqual(server_bytes(session), b"")

    def test_starttls_step_with_python_ssl(self):
        count = len(self.farm.sessions("upgrade"))
        with socket.create_connection(self.farm.address("upgrade"), timeout=TIMEOUT) as raw:
            self.assertEqual(recv_until(raw, b"\r\n"), b"+OK protofarm ready for STLS\r\n")
            raw.sendall(b"STLS\r\n")
            self.assertEqual(recv_until(raw, b"\r\n"), b"+OK begin TLS negotiation\r\n")
            with self.context().wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"LOGIN carol\r\n")
                data = b""
                while not data.endswith(b"\r\n"):
                    chunk = tls.recv(4096)
                    self.assertTrue(chunk, data)
                    data += chunk
                self.assertEqual(data, b"+OK welcome carol, over TLS\r\n")
        session = self.last_session("upgrade", count + 1)
        self.assertEqual(client_bytes(session), b"STLS\r\nLOGIN carol\r\n")
        self.assertEqual(server_bytes(session), b"+OK protofarm ready for STLS\r\n"
                         b"+OK begin TLS negotiation\r\n+OK welcome carol, over TLS\r\n")
        self.assertEqual(expect_events(session), [(1, True), (4, True)])
        kinds = [e.get("event") or e["from"] for e in session["events"]]
        self.assertEqual(kinds, ["open", "server", "client", "expect", "server", "tls", "client",
                                 "expect", "server", "close"])
        self.assertEqual(session["close"], "server")

    def test_starttls_step_with_openssl_s_client(self):
        openssl = tool("openssl")
        count = len(self.farm.sessions("upgrade"))
        host, port = self.farm.address("upgrade")
        out = run_client([openssl, "s_client", "-connect", f"{host}:{port}", "-starttls", "pop3",
                          "-CAfile", self.ca, "-verify_return_error", "-quiet"],
                         b"LOGIN dave\r\n")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, b"+OK welcome dave, over TLS\r\n")
        session = self.last_session("upgrade", count + 1)
        self.assertEqual(client_bytes(session), b"STLS\r\nLOGIN dave\r\n")
        self.assertTrue(server_bytes(session).endswith(b"+OK welcome dave, over TLS\r\n"))
        self.assertEqual(len(named_events(session, "tls")), 1)

    def test_starttls_mismatch_resets(self):
        count = len(self.farm.sessions("upgrade"))
        with socket.create_connection(self.farm.address("upgrade"), timeout=TIMEOUT) as raw:
            recv_until(raw, b"\r\n")
            raw.sendall(b"LOGIN in the clear\r\n")
            with self.assertRaises(ConnectionResetError):
                recv_until_closed(raw)
        session = self.last_session("upgrade", count + 1)
        self.assertEqual(expect_events(session), [(1, False)])
        self.assertEqual(session["close"], "reset")
        self.assertEqual(client_bytes(session), b"LOGIN in the clear\r\n")


# --- script steps ----------------------------------------------------------------------------

SCRIPT = r"""
name: tcp-script
servers:
  s:
    protocol: tcp
    idle_timeout: 20s
    on_mismatch: ON_MISMATCH
    script:
      - send: "220 ready\r\n"
      - expect: '^HELO (\w+) (\w+)\r?\n'
      - send: "250 ${2}/${1} [${0}] missing:[${7}]\r\n"
      - expect: '^NAME (\w+)'
      - send: "250 name ${1}\r\n"
      - expect: '^BYE'
        timeout: 5s
      - send: "221 bye\r\n"
      - close: {}
"""


class Script(unittest.TestCase):
    def scenario(self, on_mismatch):
        return SCRIPT.replace("ON_MISMATCH", on_mismatch)

    def test_captures_and_close(self):
        with Farm(self.scenario("close")) as farm:
            with connect(farm, "s") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"220 ready\r\n")
                sock.sendall(b"HELO a b\r\n")
                self.assertEqual(recv_until(sock, b"]\r\n"),
                                 b"250 b/a [HELO a b\r\n] missing:[]\r\n")
                sock.sendall(b"NAME zed\r\n")
                # A new match replaces the captures: ${1} is now "zed".
                self.assertEqual(recv_until(sock, b"\r\n"), b"250 name zed\r\n")
                sock.sendall(b"BYE\r\n")
                self.assertEqual(recv_until_closed(sock), b"221 bye\r\n")
        session = farm.session("s", 1)
        self.assertEqual(session["close"], "server")
        self.assertEqual(expect_events(session), [(1, True), (3, True), (5, True)])
        self.assertEqual([(e["step"], event_bytes(e)) for e in session["events"]
                          if e.get("from") == "client"],
                         [(1, b"HELO a b\r\n"), (3, b"NAME zed\r\n"), (5, b"BYE\r\n")])
        self.assertEqual([(e["step"], event_bytes(e)) for e in session["events"]
                          if e.get("from") == "server"],
                         [(0, b"220 ready\r\n"), (2, b"250 b/a [HELO a b\r\n] missing:[]\r\n"),
                          (4, b"250 name zed\r\n"), (6, b"221 bye\r\n")])
        patterns = [e["pattern"] for e in named_events(session, "expect")]
        self.assertEqual(patterns, [r"^HELO (\w+) (\w+)\r?\n", r"^NAME (\w+)", "^BYE"])

    def test_mismatch_close(self):
        with Farm(self.scenario("close")) as farm:
            with connect(farm, "s") as sock:
                recv_until(sock, b"\r\n")
                sock.sendall(b"EHLO a b\r\n")
                self.assertEqual(recv_until_closed(sock), b"")  # FIN, nothing more
        session = farm.session("s", 1)
        self.assertEqual(session["close"], "server")
        self.assertEqual(expect_events(session), [(1, False)])
        self.assertEqual(client_bytes(session), b"EHLO a b\r\n")
        self.assertEqual(server_bytes(session), b"220 ready\r\n")

    def test_mismatch_reset(self):
        with Farm(self.scenario("reset")) as farm:
            with connect(farm, "s") as sock:
                recv_until(sock, b"\r\n")
                sock.sendall(b"EHLO a b\r\n")
                with self.assertRaises(ConnectionResetError):
                    recv_until_closed(sock)
        session = farm.session("s", 1)
        self.assertEqual(session["close"], "reset")
        self.assertEqual(expect_events(session), [(1, False)])
        self.assertEqual(server_bytes(session), b"220 ready\r\n")

    def test_mismatch_continue_keeps_earlier_captures(self):
        with Farm(self.scenario("continue")) as farm:
            with connect(farm, "s") as sock:
                recv_until(sock, b"\r\n")
                sock.sendall(b"HELO x y\r\n")
                recv_until(sock, b"]\r\n")
                sock.sendall(b"nonsense\r\n")  # step 3 fails; the script goes on
                self.assertEqual(recv_until(sock, b"\r\n"), b"250 name x\r\n")
                sock.sendall(b"BYE\r\n")
                self.assertEqual(recv_until_closed(sock), b"221 bye\r\n")
        session = farm.session("s", 1)
        self.assertEqual(expect_events(session), [(1, True), (3, False), (5, True)])
        self.assertEqual(client_bytes(session), b"HELO x y\r\nnonsense\r\nBYE\r\n")
        self.assertEqual(session["close"], "server")

    def test_expect_timeout(self):
        scenario = self.scenario("close").replace("timeout: 5s", "timeout: 300ms")
        with Farm(scenario) as farm:
            with connect(farm, "s") as sock:
                recv_until(sock, b"\r\n")
                sock.sendall(b"HELO a b\r\nNAME n\r\n")
                self.assertEqual(recv_until(sock, b"250 name n\r\n"),
                                 b"250 b/a [HELO a b\r\n] missing:[]\r\n250 name n\r\n")
                # No BYE: the step's own timeout (not the 20s idle timeout) ends the session.
                self.assertEqual(recv_until_closed(sock), b"")
        session = farm.session("s", 1)
        self.assertEqual(session["close"], "timeout")
        self.assertEqual(expect_events(session), [(1, True), (3, True)])

    def test_pause_and_script_then_rules(self):
        scenario = """
name: tcp-pause
servers:
  s:
    protocol: tcp
    echo: true
    script:
      - send: "a\\n"
      - pause: 200ms
      - send: "b\\n"
    rules:
      - on: QUIT
        reply: []
        then: close
"""
        with Farm(scenario) as farm:
            with connect(farm, "s") as sock:
                self.assertEqual(recv_until(sock, b"b\n"), b"a\nb\n")
                sock.sendall(b"after the script\n")  # rules mode: echoed
                self.assertEqual(recv_until(sock, b"\n"), b"after the script\n")
                sock.sendall(b"QUIT\n")
                self.assertEqual(recv_until_closed(sock), b"")
        session = farm.session("s", 1)
        sent = [e for e in session["events"] if e.get("from") == "server"]
        self.assertGreaterEqual(sent[1]["t_ms"] - sent[0]["t_ms"], 200)
        self.assertEqual(server_bytes(session), b"a\nb\nafter the script\n")
        self.assertEqual(client_frames(session), [b"after the script\n", b"QUIT\n"])

    def test_reset_step(self):
        scenario = """
name: tcp-reset-step
servers:
  s:
    protocol: tcp
    script:
      - send: "going\\n"
      - expect: 'x'
      - reset: {}
"""
        with Farm(scenario) as farm:
            with connect(farm, "s") as sock:
                self.assertEqual(recv_until(sock, b"\n"), b"going\n")
                sock.sendall(b"x\n")
                with self.assertRaises(ConnectionResetError):
                    recv_until_closed(sock)
        session = farm.session("s", 1)
        self.assertEqual(session["close"], "reset")
        self.assertEqual(client_bytes(session), b"x\n")

    def test_send_step_fragment(self):
        scenario = """
name: tcp-fragment-step
servers:
  s:
    protocol: tcp
    script:
      - send: "0123456789"
        fragment: 3
      - close: {}
"""
        with Farm(scenario) as farm:
            with connect(farm, "s") as sock:
                self.assertEqual(recv_until_closed(sock), b"0123456789")
        session = farm.session("s", 1)
        self.assertEqual([event_bytes(e) for e in session["events"] if e.get("from") == "server"],
                         [b"012", b"345", b"678", b"9"])


# --- framing ---------------------------------------------------------------------------------

def framing_scenario(framing, extra=""):
    # Every frame comes back wrapped in [ ], so the client sees where the frames were cut;
    # QUIT (its first word) ends the session.
    return f"""
name: tcp-framing
servers:
  f:
    protocol: tcp
    framing: {framing}
{extra}
    rules:
      - name: connect          # keeps the catch-all below from answering the connect
        on: connect
        reply: []
      - name: quit
        on: QUIT
        raw: "bye"
        then: close
      - name: wrap
        reply: "[${{0}}]"
"""


class Framing(unittest.TestCase):
    def exchange(self, framing, payload, extra=""):
        with Farm(framing_scenario(framing, extra)) as farm:
            with connect(farm, "f") as sock:
                sock.sendall(payload)
                seen = recv_until_closed(sock)
        return seen, farm.session("f", 1)

    def test_line(self):
        seen, session = self.exchange("line", b"a\r\nb\nc\rd\nQUIT\n")
        self.assertEqual(seen, b"[a\r\n]\r\n[b\n]\r\n[c\rd\n]\r\nbye")
        self.assertEqual(client_frames(session), [b"a\r\n", b"b\n", b"c\rd\n", b"QUIT\n"])
        self.assertEqual(rule_names(session), ["connect", "wrap", "wrap", "wrap", "quit"])

    def test_crlf(self):
        seen, session = self.exchange("crlf", b"a\nb\r\nc\r\nQUIT\r\n")
        self.assertEqual(seen, b"[a\nb\r\n]\r\n[c\r\n]\r\nbye")
        self.assertEqual(client_frames(session), [b"a\nb\r\n", b"c\r\n", b"QUIT\r\n"])

    def test_delimiter_hex(self):
        seen, session = self.exchange('{delimiter: {hex: "00"}}', b"one\x00two\nlines\x00QUIT\x00")
        self.assertEqual(seen, b"[one\x00]\r\n[two\nlines\x00]\r\nbye")
        self.assertEqual(client_frames(session), [b"one\x00", b"two\nlines\x00", b"QUIT\x00"])
        self.assertEqual(rule_names(session), ["connect", "wrap", "wrap", "quit"])

    def test_delimiter_text(self):
        seen, session = self.exchange('{delimiter: ";;"}', b"a;b;;QUIT;;")
        self.assertEqual(seen, b"[a;b;;]\r\nbye")
        self.assertEqual(client_frames(session), [b"a;b;;", b"QUIT;;"])

    def test_fixed_length(self):
        seen, session = self.exchange("{length: 4}", b"abcd\x00\xff\x02\x03QUIT")
        self.assertEqual(seen, b"[abcd]\r\n[\x00\xff\x02\x03]\r\nbye")
        self.assertEqual(client_frames(session), [b"abcd", b"\x00\xff\x02\x03", b"QUIT"])
        # Binary frames are recorded as base64.
        binary = [e for e in session["events"] if e.get("from") == "client"][1]
        self.assertEqual(binary["base64"], base64.b64encode(b"\x00\xff\x02\x03").decode())

    def test_bad_framing_is_a_load_error(self):
        for framing in ('{delimiter: ";", length: 4}', "{length: 0}", '{delimiter: ""}',
                        "lines"):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "bad.yaml"
                path.write_text(f"name: bad\nservers:\n  f:\n    protocol: tcp\n"
                                f"    framing: {framing}\n")
                result = run("validate", path)
                self.assertEqual(result.returncode, 2, framing)
                self.assertIn("bad.yaml:5:", result.stderr, framing)
                self.assertIn("framing", result.stderr, framing)

    def test_raw_one_frame_per_read(self):
        with Farm(framing_scenario("raw")) as farm:
            with connect(farm, "f") as sock:
                # Each chunk is sent only once the previous one was answered, so each arrives
                # in a read of its own.
                for chunk in (b"no terminator", b"\x00\xffbinary", b"a\nb\n"):
                    sock.sendall(chunk)
                    self.assertEqual(recv_until(sock, b"]\r\n"), b"[" + chunk + b"]\r\n")
                sock.sendall(b"QUIT")
                self.assertEqual(recv_until_closed(sock), b"bye")
        session = farm.session("f", 1)
        self.assertEqual(client_frames(session),
                         [b"no terminator", b"\x00\xffbinary", b"a\nb\n", b"QUIT"])

    def test_raw_frames_are_at_most_max_line(self):
        scenario = framing_scenario("raw", "    max_line: 8\n    echo: true").replace(
            """      - name: wrap
        reply: "[${0}]"
""", "")
        with Farm(scenario) as farm:
            with connect(farm, "f") as sock:
                payload = b"0123456789abcdefghij"
                sock.sendall(payload)
                self.assertEqual(recv_exact(sock, len(payload)), payload)
                sock.sendall(b"QUIT")
                self.assertEqual(recv_until_closed(sock), b"bye")
        session = farm.session("f", 1)
        frames = client_frames(session)
        self.assertEqual(b"".join(frames), payload + b"QUIT")
        self.assertTrue(all(len(f) <= 8 for f in frames), frames)
        self.assertEqual(server_bytes(session), payload + b"bye")


# --- payloads ----------------------------------------------------------------------------------

class Payloads(unittest.TestCase):
    def test_hex_and_base64_in_steps_banner_and_rules(self):
        scenario = """
name: tcp-payloads
servers:
  s:
    protocol: tcp
    framing: {length: 2}
    script:
      - send: {hex: "00 01 ff fe"}
      - send: {base64: "AAMAAA=="}
      - send: {text: "text\\r\\n"}
      - expect: '\\A\\x00\\x02\\z'
      - send: {hex: "de:ad:be:ef"}
    rules:
      - match: '\\A\\xca\\xfe\\z'
        raw: {base64: "yv4AAQ=="}
      - match: '\\A!!\\z'
        raw: {hex: "21"}
        then: close
"""
        with Farm(scenario) as farm:
            with connect(farm, "s") as sock:
                self.assertEqual(recv_exact(sock, 14), b"\x00\x01\xff\xfe\x00\x03\x00\x00text\r\n")
                sock.sendall(b"\x00\x02")
                self.assertEqual(recv_exact(sock, 4), b"\xde\xad\xbe\xef")
                sock.sendall(b"\xca\xfe")
                self.assertEqual(recv_exact(sock, 4), b"\xca\xfe\x00\x01")
                sock.sendall(b"!!")
                self.assertEqual(recv_until_closed(sock), b"!")
        session = farm.session("s", 1)
        self.assertEqual(server_bytes(session),
                         b"\x00\x01\xff\xfe\x00\x03\x00\x00text\r\n\xde\xad\xbe\xef"
                         b"\xca\xfe\x00\x01!")
        self.assertEqual(client_frames(session), [b"\x00\x02", b"\xca\xfe", b"!!"])
        events = [e for e in session["events"] if "from" in e]
        self.assertEqual(events[0]["base64"], "AAH//g==")   # not UTF-8: base64
        self.assertEqual(events[2]["text"], "text\r\n")      # UTF-8: text
        self.assertEqual(expect_events(session), [(3, True)])


# --- Unix stream sockets ---------------------------------------------------------------------

class UnixStream(unittest.TestCase):
    def test_socat_drives_a_script_over_a_unix_socket(self):
        socat = tool("socat")
        folder = Path(tempfile.mkdtemp(prefix="pf-"))  # short: socket paths are limited
        path = folder / "tcp.sock"
        scenario = (SCENARIOS / "hello-tcp.yaml").read_text().replace(
            "listen: 127.0.0.1:0", f"listen: unix:{path}")
        try:
            with Farm(scenario) as farm:
                self.assertEqual(farm.server("hello")["path"], str(path))
                out = run_client([socat, "-t", "10", "-", f"UNIX-CONNECT:{path}"],
                                 b"HELO socat\r\n")
                self.assertEqual(out.returncode, 0, out.stderr)
                self.assertEqual(out.stdout, b"220 hello\r\n250 hi socat\r\n")
                [session] = farm.wait_sessions("hello", 1)
            self.assertEqual(farm.returncode, 0, farm.stderr)
            self.assertEqual(session["local"], f"unix:{path}")
            self.assertEqual(session["close"], "server")
            self.assertEqual(client_bytes(session), b"HELO socat\r\n")
            self.assertEqual(server_bytes(session), b"220 hello\r\n250 hi socat\r\n")
            self.assertEqual(expect_events(session), [(1, True)])
        finally:
            shutil.rmtree(folder, ignore_errors=True)


# --- rules mode --------------------------------------------------------------------------------

RULES = r"""
name: tcp-rules
servers:
  r:
    protocol: tcp
    idle_timeout: 20s
    banner: "unused banner\r\n"
    rules:
      - name: hello
        on: connect
        match: '^127\.0\.0\.1:\d+$'
        raw: {hex: "2b 4f 4b 0d 0a"}
      - name: get
        on: GET
        match: '^GET (\w+)'
        reply: ["VALUE ${1} 42", "END"]
      - name: set-busy
        on: set
        times: 1
        reply: "-ERR busy"
      - name: set-ok
        on: SET
        reply: "+OK"
      - name: login
        on: LOGIN
        set_state: {auth: "yes"}
        reply: "+OK logged in"
      - name: secret-open
        on: SECRET
        when_state: {auth: "yes"}
        reply: "+OK the secret"
      - name: secret-closed
        on: SECRET
        reply: "-ERR log in first"
      - name: quiet
        on: QUIET
        reply: []
      - name: sentinel
        on: SENTINEL
        reply: "ACK"
      - name: quit
        on: QUIT
        reply: "+OK bye"
        then: close
"""


class RulesMode(unittest.TestCase):
    def test_rules_answer_frames(self):
        with Farm(RULES) as farm:
            with connect(farm, "r") as sock:
                self.assertEqual(recv_until(sock, b"\r\n"), b"+OK\r\n")  # connect rule, hex
                script = [
                    (b"GET color\r\n", b"VALUE color 42\r\nEND\r\n"),
                    (b"  get shape\n", b"-"),  # `on` is any case; `match` is not: no answer
                    (b"SET a 1\r\n", b"-ERR busy\r\n"),
                    (b"set a 1\r\n", b"+OK\r\n"),
                    (b"SECRET\r\n", b"-ERR log in first\r\n"),
                    (b"LOGIN\r\n", b"+OK logged in\r\n"),
                    (b"SECRET\r\n", b"+OK the secret\r\n"),
                    (b"QUIET\r\n", b"-"),
                    (b"unknown words\r\n", b"-"),  # no rule, no echo: no answer
                ]
                for line, answer in script:
                    sock.sendall(line)
                    if answer != b"-":
                        self.assertEqual(recv_exact(sock, len(answer)), answer, line)
                # Everything unanswered above was handled before the sentinel's answer.
                sock.sendall(b"SENTINEL\r\n")
                self.assertEqual(recv_until(sock, b"\r\n"), b"ACK\r\n")
                sock.sendall(b"quit\r\n")
                self.assertEqual(recv_until_closed(sock), b"+OK bye\r\n")
        session = farm.session("r", 1)
        self.assertEqual(session["close"], "server")
        self.assertEqual(rule_names(session),
                         ["hello", "get", "set-busy", "set-ok", "secret-closed", "login",
                          "secret-open", "quiet", "sentinel", "quit"])
        self.assertEqual(client_frames(session), [line for line, _ in script] +
                         [b"SENTINEL\r\n", b"quit\r\n"])
        self.assertEqual(server_bytes(session),
                         b"+OK\r\n" + b"".join(a for _, a in script if a != b"-") +
                         b"ACK\r\n+OK bye\r\n")
        connect_rule = named_events(session, "rule")[0]
        self.assertEqual(connect_rule["on"], "connect")
        # Bytes a rule sent carry its name.
        self.assertEqual([e.get("rule") for e in session["events"] if e.get("from") == "server"],
                         ["hello", "get", "set-busy", "set-ok", "secret-closed", "login",
                          "secret-open", "sentinel", "quit"])

    def test_banner_and_echo_without_rules(self):
        scenario = """
name: tcp-echo-only
servers:
  e:
    protocol: tcp
    banner: {base64: "aGkK"}
    echo: true
"""
        with Farm(scenario) as farm:
            with connect(farm, "e") as sock:
                self.assertEqual(recv_until(sock, b"\n"), b"hi\n")
                sock.sendall(b"one\r\n\xff\xfe\n")
                self.assertEqual(recv_exact(sock, 8), b"one\r\n\xff\xfe\n")
                sock.shutdown(socket.SHUT_WR)
                self.assertEqual(recv_until_closed(sock), b"")
        session = farm.session("e", 1)
        self.assertEqual(session["close"], "client")
        self.assertEqual(client_frames(session), [b"one\r\n", b"\xff\xfe\n"])
        self.assertEqual(server_bytes(session), b"hi\none\r\n\xff\xfe\n")

    def test_a_last_frame_without_terminator_is_recorded(self):
        scenario = """
name: tcp-partial
servers:
  e:
    protocol: tcp
    echo: true
"""
        with Farm(scenario) as farm:
            with connect(farm, "e") as sock:
                sock.sendall(b"whole\npartial")
                self.assertEqual(recv_exact(sock, 6), b"whole\n")
                sock.shutdown(socket.SHUT_WR)
                self.assertEqual(recv_until_closed(sock), b"")
        session = farm.session("e", 1)
        self.assertEqual(client_bytes(session), b"whole\npartial")
        self.assertEqual(server_bytes(session), b"whole\n")
        self.assertEqual(session["close"], "client")


if __name__ == "__main__":
    unittest.main()
