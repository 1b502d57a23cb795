"""`protofarm verify` end to end: real farms, real socket clients, then verify's exit status,
its diff and its JUnit report."""

import json
import shutil
import socket
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from farm import SCENARIOS, Farm, run

VERIFY_TCP = SCENARIOS / "verify-tcp.yaml"


def converse(farm, server, lines, timeout=10):
    """Connects, reads the banner, sends each line and reads its reply; returns the replies.
    Stops early when the server closes."""
    replies = []
    with socket.create_connection(farm.address(server), timeout=timeout) as sock:
        reader = sock.makefile("rb")
        replies.append(reader.readline())
        for line in lines:
            sock.sendall(line)
            reply = reader.readline()
            if not reply:
                break
            replies.append(reply)
        reader.close()
    return replies


GOOD = [b"HELO alice\r\n", b"NOOP 1712\r\n", b"TIME 1700000000\r\n", b"QUIT\r\n"]


class VerifyTcp(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="protofarm-verify-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def record(self, lines, path=VERIFY_TCP, server="greeter"):
        with Farm(path=path) as farm:
            replies = converse(farm, server, lines)
            farm.wait_sessions(server, 1)
        self.assertEqual(farm.returncode, 0, farm.stderr)
        return farm, replies

    def test_example_scenario_validates(self):
        result = run("validate", VERIFY_TCP)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_passes_when_the_client_behaves(self):
        farm, replies = self.record(GOOD)
        self.assertEqual(replies[-1], b"221 bye\r\n")
        result = run("verify", VERIFY_TCP, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("ok    greeter: 1 session,", result.stdout)
        self.assertIn("all expectations met (1 server)", result.stdout)

    def test_fails_with_a_readable_diff(self):
        farm, _ = self.record([b"HELO bob\r\n", b"NOOP 99\r\n", b"TIME 1700000000\r\n",
                               b"QUIT\r\n"])
        result = run("verify", VERIFY_TCP, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        out = result.stdout
        self.assertIn("FAIL  greeter:", out)
        self.assertIn('client: first difference at line 1: expected "HELO alice", '
                      'recorded "HELO bob" (1 line ignored)', out)
        self.assertIn("- HELO alice    <-- first difference", out)
        self.assertIn("  1 + HELO bob", out)
        self.assertIn("  2 ~ NOOP 99", out)          # the volatile line, shown as ignored
        self.assertIn("  3   TIME 1700000000", out)  # matched by the regex
        self.assertNotIn("commands:", out)           # the verbs were right

    def test_wrong_command_order_and_counts(self):
        farm, _ = self.record([b"TIME 1\r\n", b"HELO alice\r\n", b"HELO alice\r\n", b"QUIT\r\n"])
        result = run("verify", VERIFY_TCP, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("commands: ", result.stdout)
        self.assertIn("rules: helo fired 2 times, expected 1", result.stdout)

    def test_junit_report(self):
        farm, _ = self.record([b"HELO bob\r\n", b"QUIT\r\n"])
        report = self.tmp / "reports" / "verify.xml"
        result = run("verify", VERIFY_TCP, "--transcripts", farm.transcripts, "--junit", report)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        root = ET.parse(report).getroot()
        self.assertEqual(root.tag, "testsuites")
        suites = root.findall("testsuite")
        self.assertEqual(len(suites), 1)
        self.assertEqual(suites[0].get("name"), "verify-tcp")
        self.assertEqual(suites[0].get("tests"), "1")
        self.assertEqual(suites[0].get("failures"), "1")
        case = suites[0].find("testcase")
        self.assertEqual(case.get("name"), "greeter")
        failure = case.find("failure")
        self.assertIsNotNone(failure)
        self.assertIn('expected "HELO alice", recorded "HELO bob"', failure.get("message"))
        self.assertIn("+ HELO bob", failure.text)
        self.assertIn("<-- first difference", failure.text)

    def test_junit_report_when_passing(self):
        farm, _ = self.record(GOOD)
        report = self.tmp / "ok.xml"
        result = run("verify", VERIFY_TCP, "--transcripts", farm.transcripts, "--junit", report)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        root = ET.parse(report).getroot()
        self.assertEqual(root.get("failures"), "0")
        self.assertIsNone(root.find("testsuite/testcase/failure"))

    def test_junit_escapes_binary_and_markup(self):
        farm, _ = self.record([b"HELO <a&b> \x01\xff\r\n", b"QUIT\r\n"])
        report = self.tmp / "bin.xml"
        result = run("verify", VERIFY_TCP, "--transcripts", farm.transcripts, "--junit", report)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        failure = ET.parse(report).getroot().find("testsuite/testcase/failure")
        self.assertIn("HELO <a&b> \\x01\\xff", failure.text)


SESSIONS = """
name: two-sessions
servers:
  svc:
    protocol: tcp
    banner: "hello\\r\\n"
    rules:
      - name: bye
        on: BYE
        reply: "bye"
        then: close
      - name: other
        reply: "ok"
expect:
  svc:
    sessions: {min: 2}
    each_session:
      commands: [LOGIN, BYE]
    session:
      1: {client: [LOGIN first, BYE], close: server}
      2: {client: [LOGIN second, BYE]}
"""


class VerifySessions(unittest.TestCase):
    def test_each_and_numbered_sessions(self):
        with Farm(SESSIONS) as farm:
            converse(farm, "svc", [b"LOGIN first\r\n", b"BYE\r\n"])
            farm.wait_sessions("svc", 1)
            converse(farm, "svc", [b"LOGIN third\r\n", b"BYE\r\n"])
            farm.wait_sessions("svc", 2)
        result = run("verify", farm.scenario, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("FAIL  svc: 1 of ", result.stdout)
        self.assertIn('session 2 client: first difference at line 1: expected "LOGIN second", '
                      'recorded "LOGIN third"', result.stdout)

    def test_too_few_sessions(self):
        with Farm(SESSIONS) as farm:
            converse(farm, "svc", [b"LOGIN first\r\n", b"BYE\r\n"])
            farm.wait_sessions("svc", 1)
        result = run("verify", farm.scenario, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("sessions: expected at least 2, recorded 1", result.stdout)
        self.assertIn("session 2 recorded: not recorded (the server has 1 session)", result.stdout)

    def test_unfinished_session_is_read_from_events_log(self):
        with Farm(SESSIONS) as farm:
            with socket.create_connection(farm.address("svc"), timeout=10) as sock:
                sock.recv(100)
                sock.sendall(b"LOGIN first\r\n")
                farm.wait_for(lambda: any(e.get("from") == "client" for e in farm.events()),
                              what="the client line in events.jsonl")
                # The session is still open: it has no document yet, only events.
                result = run("verify", farm.scenario, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("session 1 close: expected server, recorded none (the session never "
                      "ended", result.stdout)
        self.assertIn("- BYE", result.stdout)


class VerifyBadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="protofarm-verify-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def verify(self, scenario, transcripts, *args):
        return run("verify", scenario, "--transcripts", transcripts, *args)

    def test_missing_transcript_directory(self):
        result = self.verify(VERIFY_TCP, self.tmp / "nope")
        self.assertEqual(result.returncode, 2)
        self.assertIn("does not exist", result.stderr)

    def test_directory_without_transcripts(self):
        result = self.verify(VERIFY_TCP, self.tmp)
        self.assertEqual(result.returncode, 2)
        self.assertIn("holds no transcripts", result.stderr)

    def test_transcripts_of_another_scenario(self):
        with Farm(path=SCENARIOS / "hello-tcp.yaml") as farm:
            with socket.create_connection(farm.address("hello"), timeout=10) as sock:
                sock.recv(100)
                sock.sendall(b"HELO x\r\n")
            farm.wait_sessions("hello", 1)
        result = self.verify(VERIFY_TCP, farm.transcripts)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn("none of this scenario's (greeter)", result.stderr)

    def test_farm_without_clients_is_a_verification_failure(self):
        # A directory a farm wrote, but nobody connected: the client failed, exit 1.
        with Farm(path=VERIFY_TCP) as farm:
            pass
        result = self.verify(VERIFY_TCP, farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("sessions: expected 1, recorded 0", result.stdout)

    def test_scenario_without_expect(self):
        (self.tmp / "events.jsonl").write_text("")
        result = self.verify(SCENARIOS / "hello-tcp.yaml", self.tmp)
        self.assertEqual(result.returncode, 2)
        self.assertIn("has no expect: section", result.stderr)

    def test_bad_expect_keys(self):
        scenario = self.tmp / "bad.yaml"
        scenario.write_text("name: bad\nservers:\n  a: {protocol: tcp}\n"
                            "expect:\n  a:\n    sesions: 1\n    client: [{match: '('}]\n"
                            "    rules: {nope: 1}\n")
        (self.tmp / "events.jsonl").write_text("")
        result = self.verify(scenario, self.tmp)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn("bad.yaml:6:", result.stderr)
        self.assertIn("sesions", result.stderr)
        self.assertIn("invalid regular expression", result.stderr)
        self.assertIn("no rule named 'nope'", result.stderr)
        self.assertEqual(result.stdout, "")

    def test_corrupt_session_file(self):
        folder = self.tmp / "sessions" / "greeter"
        folder.mkdir(parents=True)
        (folder / "1.json").write_text('{"server": "greeter", "session": 1, "events": [')
        result = self.verify(VERIFY_TCP, self.tmp)
        self.assertEqual(result.returncode, 2)
        self.assertIn("1.json: not valid JSON", result.stderr)

    def test_corrupt_events_log(self):
        (self.tmp / "events.jsonl").write_text('{"server": "greeter", "session": 1}\nnot json\n')
        result = self.verify(VERIFY_TCP, self.tmp)
        self.assertEqual(result.returncode, 2)
        self.assertIn("events.jsonl line 2: not valid JSON", result.stderr)

    def test_missing_arguments(self):
        result = run("verify", VERIFY_TCP)
        self.assertEqual(result.returncode, 2)


PAYLOADS = """
name: payloads
servers:
  mail: {protocol: tcp}
expect:
  mail:
    payloads:
      - {contains: "Subject: hello", match: '^From: .*@example\\.test$'}
      - {equals: "second\\n"}
"""


class VerifyPayloads(unittest.TestCase):
    """Payload checks over a transcript directory laid out as the recorder writes it (the tcp
    fake saves no payloads; the protocol fakes that do are tested with their own clients)."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="protofarm-verify-"))
        (self.tmp / "scenario.yaml").write_text(PAYLOADS)
        t = self.tmp / "t"
        (t / "sessions" / "mail").mkdir(parents=True)
        (t / "events.jsonl").write_text("")
        for n, body in ((1, "From: a@example.test\r\nSubject: hello\r\n\r\nhi\r\n"),
                        (2, "second\r\n")):
            (t / "files" / "mail" / str(n)).mkdir(parents=True)
            (t / "files" / "mail" / str(n) / "1.eml").write_text(body, newline="")
            doc = {"server": "mail", "protocol": "smtp", "session": n, "peer": "127.0.0.1:1",
                   "local": "127.0.0.1:2", "started": "", "ended": "", "close": "client",
                   "events": [{"t_ms": 1, "event": "message", "file": f"files/mail/{n}/1.eml"}]}
            (t / "sessions" / "mail" / f"{n}.json").write_text(json.dumps(doc))
        self.transcripts = t

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_payloads_match(self):
        result = run("verify", self.tmp / "scenario.yaml", "--transcripts", self.transcripts)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_payload_mismatch(self):
        (self.transcripts / "files" / "mail" / "2" / "1.eml").write_text("changed\r\n")
        result = run("verify", self.tmp / "scenario.yaml", "--transcripts", self.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn("payloads: payload 2 (files/mail/2/1.eml): differs from equals",
                      result.stdout)
        self.assertIn("- second", result.stdout)
        self.assertIn("+ changed", result.stdout)


if __name__ == "__main__":
    unittest.main()
