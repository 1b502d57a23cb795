"""One contract, run over every fake (STYLE.md, "Habits"): a server of each protocol binds port 0
and reports it in the ready file, records open and close, honours the idle timeout (close
"timeout"), applies a reset fault (`faults: {refuse: true}`: the client sees a reset or an
immediate close; the transcript says close "fault"), and stops cleanly on shutdown (close
"shutdown").

The protocols come from the program's own registration, `protofarm fakes --json`, run once when
this module is loaded: one TestCase class per registered protocol (TcpContract, SmtpContract,
...), so a new fake is covered without an edit here. Its entry says the transport, and its
`contract` says the YAML lines a minimal server needs besides protocol and listen, and the text
the server sends first (null when the client speaks first). A protocol registered without a
`contract` fails, it is not skipped. UDP is adapted: a session is a peer address, opened by its
first datagram.

Run it alone with
    ctest --test-dir build -R contract_all_fakes --output-on-failure
or, from tests/e2e,
    PROTOFARM=../../build/protofarm /usr/bin/python3 -m unittest -v test_contract_all_fakes
"""

import json
import re
import signal
import socket
import subprocess
import textwrap
import time
import unittest

from farm import PROTOFARM, SCENARIOS, Farm, named_events, run

IDLE = "700ms"
IDLE_SECONDS = 0.7
TRANSPORTS = ("stream", "datagram")


def registered_fakes():
    """(entries, None) from `protofarm fakes --json`, or ([], why not)."""
    try:
        result = run("fakes", "--json")
    except (OSError, subprocess.TimeoutExpired) as e:
        return [], f"cannot run `{PROTOFARM} fakes --json`: {e}"
    if result.returncode != 0:
        return [], (f"`{PROTOFARM} fakes --json` exited with {result.returncode}:\n"
                    f"{result.stderr}")
    try:
        fakes = json.loads(result.stdout)["fakes"]
        protocols = [f["protocol"] for f in fakes]
    except (ValueError, KeyError, TypeError) as e:
        return [], (f"`{PROTOFARM} fakes --json` did not print {{\"fakes\": [{{\"protocol\": "
                    f"...}}, ...]}} ({e!r}):\n{result.stdout[:2000]}")
    if len(set(protocols)) != len(protocols):
        return [], f"`{PROTOFARM} fakes --json` lists a protocol twice: {protocols}"
    return fakes, None


FAKES, REGISTRATION_ERROR = registered_fakes()


def contract_problem(entry):
    """What is wrong with a registered fake's entry for this test, or None."""
    protocol = entry["protocol"]
    if entry.get("transport") not in TRANSPORTS:
        return f"{protocol}: transport is {entry.get('transport')!r}, not one of {TRANSPORTS}"
    contract = entry.get("contract")
    if not isinstance(contract, dict):
        return (f"the {protocol} fake is registered without a contract (its minimal server "
                f"config and greeting): add one to its registration")
    if not isinstance(contract.get("config"), str):
        return f"{protocol}: contract.config must be a string of YAML lines, got {contract!r}"
    greeting = contract.get("greeting")
    if greeting is not None and (not isinstance(greeting, str) or greeting == ""):
        return f"{protocol}: contract.greeting must be null or a non-empty string, got {contract!r}"
    if greeting is not None and entry["transport"] == "datagram":
        return f"{protocol}: a datagram fake cannot greet (contract.greeting is {greeting!r})"
    return None


def scenario(entry, extra="", idle=IDLE):
    config = entry["contract"]["config"]
    if config and not config.endswith("\n"):
        config += "\n"
    body = f"protocol: {entry['protocol']}\nlisten: 127.0.0.1:0\nidle_timeout: {idle}\n"
    body += config + extra
    return "name: contract\nservers:\n  s:\n" + textwrap.indent(body, "    ")


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
    """True once the peer has closed (EOF or reset), False when it has not within `timeout`
    seconds; reads and drops anything it sends before that."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            sock.settimeout(left)
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class Contract:
    """The contract for one protocol; the classes made below set ENTRY, its registration."""

    ENTRY = None

    def setUp(self):
        problem = contract_problem(self.ENTRY)
        if problem:
            self.fail(problem)
        self.protocol = self.ENTRY["protocol"]
        self.stream = self.ENTRY["transport"] == "stream"
        greeting = self.ENTRY["contract"]["greeting"]
        self.greeting = greeting.encode() if greeting is not None else None

    # --- helpers ---------------------------------------------------------------------------
    def scenario(self, extra="", idle=IDLE):
        return scenario(self.ENTRY, extra, idle)

    def connect(self, farm):
        if self.stream:
            sock = socket.create_connection(farm.address("s"), timeout=10)
            if self.greeting:
                got = read_some(sock, self.greeting)
                self.assertTrue(got.startswith(self.greeting), got)
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
        self.assertEqual(session["protocol"], self.protocol)
        self.assertEqual(session["close"], close, session)
        events = session["events"]
        self.assertEqual(events[0]["event"], "open")
        self.assertEqual(events[-1]["event"], "close")
        self.assertEqual(events[-1]["close"], close)
        self.assertEqual(len(named_events(session, "open")), 1)
        self.assertEqual(len(named_events(session, "close")), 1)

    # --- the contract --------------------------------------------------------------------------
    def test_binds_port_0_and_reports_it(self):
        with Farm(self.scenario()) as farm:
            entry = farm.server("s")
            self.assertEqual(entry["protocol"], self.protocol)
            self.assertEqual(entry["host"], "127.0.0.1")
            self.assertGreater(entry["port"], 0)
            self.assertIn(f"s={self.protocol}://127.0.0.1:{entry['port']}", farm.ready_line)
            kind = socket.SOCK_STREAM if self.stream else socket.SOCK_DGRAM
            with socket.socket(socket.AF_INET, kind) as probe:
                with self.assertRaises(OSError, msg="the reported port is not bound"):
                    probe.bind(("127.0.0.1", entry["port"]))
        self.assertEqual(farm.returncode, 0, farm.stderr)

    def test_records_open_and_close(self):
        with Farm(self.scenario(idle="2s" if not self.stream else "30s")) as farm:
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
        with Farm(self.scenario()) as farm:
            started = time.monotonic()
            sock = self.connect(farm)
            with sock:
                if self.stream:
                    self.assertTrue(closed_by_peer(sock, timeout=15),
                                    f"still open 15 s into an idle timeout of {IDLE}")
                farm.wait_sessions("s", 1, timeout=15)
            waited = time.monotonic() - started
        self.assertGreaterEqual(waited, IDLE_SECONDS * 0.9)
        session = farm.session("s", 1)
        self.check_document(session, "timeout")
        self.assertGreaterEqual(session["events"][-1]["t_ms"], IDLE_SECONDS * 1000 * 0.9)

    def test_applies_a_reset_fault(self):
        with Farm(self.scenario("faults: {refuse: true}\n", idle="30s")) as farm:
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
        farm = Farm(self.scenario(idle="60s")).start()
        try:
            sock = self.connect(farm)
            with sock:
                self.wait_open(farm)
                self.assertEqual(farm.stop(signal.SIGTERM), 0, farm.stderr)
                if self.stream:
                    self.assertTrue(closed_by_peer(sock),
                                    "the connection outlived the farm's shutdown by 10 s")
        finally:
            farm.kill()
        self.assertFalse(farm.ready_file.exists())
        session = farm.session("s", 1)
        self.check_document(session, "shutdown")


def class_name(protocol):
    """'smtp' -> 'SmtpContract'; anything not a letter or digit becomes '_'."""
    return re.sub(r"\W", "_", protocol.title()) + "Contract"


def add_contract_classes(entries):
    """One TestCase per registered protocol, named after it, so `-k Pop3Contract` picks one."""
    for entry in entries:
        name = class_name(entry["protocol"])
        globals()[name] = type(name, (Contract, unittest.TestCase),
                               {"ENTRY": entry, "__module__": __name__})


add_contract_classes(FAKES)


class TheRegistration(unittest.TestCase):
    def setUp(self):
        if REGISTRATION_ERROR:
            self.fail(REGISTRATION_ERROR)

    def test_lists_the_fakes(self):
        self.assertTrue(FAKES, "`protofarm fakes --json` lists no fake")

    def test_every_fake_has_a_contract(self):
        for entry in FAKES:
            with self.subTest(protocol=entry["protocol"]):
                problem = contract_problem(entry)
                if problem:
                    self.fail(problem)

    def test_every_protocol_of_the_schema_has_a_contract_class(self):
        schema = json.loads((SCENARIOS / "schema.json").read_text())
        protocols = schema["$defs"]["server"]["properties"]["protocol"]["enum"]
        classes = {name for name, value in globals().items()
                   if isinstance(value, type) and issubclass(value, Contract)
                   and issubclass(value, unittest.TestCase)}
        missing = sorted(p for p in protocols if class_name(p) not in classes)
        self.assertEqual(missing, [], "protocols of the schema that `protofarm fakes --json` "
                                      "does not list")


if __name__ == "__main__":
    unittest.main()
