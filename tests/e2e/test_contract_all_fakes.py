"""One contract, run over every fake (STYLE.md, "Habits"): a server of each protocol binds port 0
and reports it in the ready file, records open and close, honours the idle timeout (close
"timeout"), applies a reset fault (`faults: {refuse: true}`: the client sees a reset or an
immediate close; the transcript says close "fault"), and stops cleanly on shutdown (close
"shutdown").

Each protocol is one row of FAKES: its minimal server config, its transport, and how a client
greets it. A protocol whose fake `protofarm validate` calls "not built yet" is skipped, saying so.
UDP is adapted: a session is a peer address, opened by its first datagram.
"""

import signal
import socket
import tempfile
import textwrap
import time
import unittest
from pathlib import Path

from farm import Farm, named_events, run

IDLE = "700ms"
IDLE_SECONDS = 0.7

# protocol -> how to run the contract against it
FAKES = {
    "tcp": {
        "config": "banner: \"hello\\r\\n\"\n",
        "transport": "stream",
        "greeting": b"hello\r\n",
    },
    "smtp": {
        "config": "",
        "transport": "stream",
        "greeting": b"220",  # RFC 5321 4.2: the server speaks first
    },
    "pop3": {
        "config": "",
        "transport": "stream",
        "greeting": b"+OK",  # RFC 1939 4: the greeting
    },
    "udp": {
        "config": "",
        "transport": "datagram",
        "greeting": None,
    },
}


def scenario(protocol, extra="", idle=IDLE):
    row = FAKES[protocol]
    body = f"protocol: {protocol}\nlisten: 127.0.0.1:0\nidle_timeout: {idle}\n"
    body += row["config"] + extra
    return "name: contract\nservers:\n  s:\n" + textwrap.indent(body, "    ")


def not_built_reason(protocol):
    """Why this fake cannot be tested yet, or None."""
    folder = Path(tempfile.mkdtemp(prefix="protofarm-contract-"))
    path = folder / "probe.yaml"
    path.write_text(scenario(protocol))
    result = run("validate", path)
    if result.returncode != 0 and "is not built yet" in result.stderr:
        return f"the {protocol} fake is not built yet (protofarm validate: " \
               f"{result.stderr.splitlines()[0]})"
    return None


def read_some(sock, want, timeout=10):
    """Reads until `want` has arrived (a prefix match is enough) or the peer closes."""
    sock.settimeout(timeout)
    data = b""
    while len(data) < len(want):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def closed_by_peer(sock, timeout=10):
    """True once the peer has closed (EOF or reset); reads and drops anything before that."""
    sock.settimeout(timeout)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


class Contract:
    """The contract for one protocol; subclasses set PROTOCOL."""

    PROTOCOL = None

    def setUp(self):
        reason = not_built_reason(self.PROTOCOL)
        if reason:
            self.skipTest(reason)
        self.row = FAKES[self.PROTOCOL]
        self.stream = self.row["transport"] == "stream"

    # --- helpers ---------------------------------------------------------------------------
    def connect(self, farm):
        if self.stream:
            sock = socket.create_connection(farm.address("s"), timeout=10)
            if self.row["greeting"]:
                got = read_some(sock, self.row["greeting"])
                self.assertTrue(got.startswith(self.row["greeting"]), got)
            return sock
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(10)
        sock.connect(farm.address("s"))
        sock.send(b"hello\n")  # a UDP session starts with the peer's first datagram
        return sock

    def wait_open(self, farm, count=1):
        farm.wait_for(lambda: sum(1 for e in farm.events() if e.get("event") == "open") >= count,
                      what="an open event")

    def check_document(self, session, close):
        self.assertEqual(session["server"], "s")
        self.assertEqual(session["protocol"], self.PROTOCOL)
        self.assertEqual(session["close"], close, session)
        events = session["events"]
        self.assertEqual(events[0]["event"], "open")
        self.assertEqual(events[-1]["event"], "close")
        self.assertEqual(events[-1]["close"], close)
        self.assertEqual(len(named_events(session, "open")), 1)
        self.assertEqual(len(named_events(session, "close")), 1)

    # --- the contract --------------------------------------------------------------------------
    def test_binds_port_0_and_reports_it(self):
        with Farm(scenario(self.PROTOCOL)) as farm:
            entry = farm.server("s")
            self.assertEqual(entry["protocol"], self.PROTOCOL)
            self.assertEqual(entry["host"], "127.0.0.1")
            self.assertGreater(entry["port"], 0)
            self.assertIn(f"s={self.PROTOCOL}://127.0.0.1:{entry['port']}", farm.ready_line)
            kind = socket.SOCK_STREAM if self.stream else socket.SOCK_DGRAM
            with socket.socket(socket.AF_INET, kind) as probe:
                with self.assertRaises(OSError, msg="the reported port is not bound"):
                    probe.bind(("127.0.0.1", entry["port"]))
        self.assertEqual(farm.returncode, 0, farm.stderr)

    def test_records_open_and_close(self):
        with Farm(scenario(self.PROTOCOL, idle="2s" if not self.stream else "30s")) as farm:
            sock = self.connect(farm)
            self.wait_open(farm)
            if self.stream:
                sock.close()
                farm.wait_sessions("s", 1)
                close = "client"
            else:
                # A UDP peer never says goodbye: its session ends with the idle timeout.
                sock.close()
                farm.wait_sessions("s", 1, timeout=20)
                close = "timeout"
        self.assertEqual(farm.returncode, 0, farm.stderr)
        session = farm.session("s", 1)
        self.check_document(session, close)
        self.assertTrue(session["peer"].startswith("127.0.0.1:"), session["peer"])
        self.assertEqual(session["local"], f"127.0.0.1:{farm.ready['servers']['s']['port']}")

    def test_honours_the_idle_timeout(self):
        with Farm(scenario(self.PROTOCOL)) as farm:
            started = time.monotonic()
            sock = self.connect(farm)
            with sock:
                if self.stream:
                    self.assertTrue(closed_by_peer(sock, timeout=15))
                farm.wait_sessions("s", 1, timeout=15)
            waited = time.monotonic() - started
        self.assertGreaterEqual(waited, IDLE_SECONDS * 0.9)
        session = farm.session("s", 1)
        self.check_document(session, "timeout")
        self.assertGreaterEqual(session["events"][-1]["t_ms"], IDLE_SECONDS * 1000 * 0.9)

    def test_applies_a_reset_fault(self):
        with Farm(scenario(self.PROTOCOL, "faults: {refuse: true}\n", idle="30s")) as farm:
            if self.stream:
                # The reset can come so fast that the connect itself reports it.
                try:
                    with socket.create_connection(farm.address("s"), timeout=10) as sock:
                        sock.settimeout(10)
                        data = sock.recv(4096)
                except ConnectionResetError:
                    data = b""
                self.assertEqual(data, b"", "a refused client gets nothing")
            else:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.settimeout(1)
                    sock.connect(farm.address("s"))
                    sock.send(b"hello\n")
                    try:
                        self.assertEqual(sock.recv(4096), b"", "a refused peer gets no answer")
                    except (socket.timeout, ConnectionRefusedError):
                        pass
            farm.wait_sessions("s", 1)
        session = farm.session("s", 1)
        self.check_document(session, "fault")
        faults = named_events(session, "fault")
        self.assertEqual([f.get("fault") for f in faults], ["refuse"])

    def test_stops_cleanly_on_shutdown(self):
        farm = Farm(scenario(self.PROTOCOL, idle="60s")).start()
        try:
            sock = self.connect(farm)
            with sock:
                self.wait_open(farm)
                self.assertEqual(farm.stop(signal.SIGTERM), 0, farm.stderr)
                if self.stream:
                    self.assertTrue(closed_by_peer(sock))
        finally:
            farm.kill()
        self.assertFalse(farm.ready_file.exists())
        session = farm.session("s", 1)
        self.check_document(session, "shutdown")


class TcpContract(Contract, unittest.TestCase):
    PROTOCOL = "tcp"


class SmtpContract(Contract, unittest.TestCase):
    PROTOCOL = "smtp"


class Pop3Contract(Contract, unittest.TestCase):
    PROTOCOL = "pop3"


class UdpContract(Contract, unittest.TestCase):
    PROTOCOL = "udp"


class EveryFakeIsInTheTable(unittest.TestCase):
    def test_the_table_names_every_protocol_of_the_schema(self):
        import json
        from farm import SCENARIOS
        schema = json.loads((SCENARIOS / "schema.json").read_text())
        protocols = schema["$defs"]["server"]["properties"]["protocol"]["enum"]
        missing = sorted(set(protocols) - set(FAKES))
        self.assertEqual(missing, [], "add a row to FAKES for each new fake")


if __name__ == "__main__":
    unittest.main()
