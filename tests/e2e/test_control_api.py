"""The control API of `protofarm run` (docs/control-api.md) end to end, through the Python client
in clients/python and real clients (smtplib, poplib, raw sockets): the ready file, health,
metrics, servers, sessions (live and final), Server-Sent Events, states, reset, rules replaced at
run time, verify, stop, the token, and bad input. Every socket and every wait is bounded."""

import json
import os
import poplib
import select
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

SOURCE = Path(os.environ.get("PROTOFARM_SOURCE") or Path(__file__).resolve().parents[2])
sys.path.insert(0, str(SOURCE / "clients" / "python"))

from protofarm import EventStream, Farm, ProtofarmError  # noqa: E402

PROTOFARM = os.environ.get("PROTOFARM") or str(SOURCE / "build" / "protofarm")
TIMEOUT = 10  # seconds, for every socket and every wait

CONTROL = """\
name: control
state:
  mode: normal
servers:
  mail:
    protocol: smtp
    rules:
      - name: greylist
        on: DATA
        times: 1
        reply: "451 4.7.1 greylisted, try again later"
      - name: maintenance
        on: MAIL
        when_state: {mode: maintenance}
        reply: "421 4.3.2 down for maintenance"
      - name: noted
        on: NOOP
        match: note
        set_state: {noted: "yes"}
  echo:
    protocol: tcp
    banner: "+OK echo\\r\\n"
    echo: true
  flaky:
    protocol: tcp
    banner: "0123456789abcdef\\r\\n"
    faults:
      reset_after: 4
"""

MAILBOX = """\
name: mailbox
servers:
  mail:
    protocol: smtp
  pop:
    protocol: pop3
    deliveries_from: mail
    mailboxes:
      alice:
        password: secret
        address: alice@example.test
        messages:
          - |
            Subject: one

            first
          - |
            Subject: two

            second
"""

VERIFY = """\
name: control-verify
servers:
  mail:
    protocol: smtp
expect:
  mail:
    sessions: 1
    commands: [EHLO, MAIL, RCPT, DATA, QUIT]
"""

LOAD = """\
name: load
servers:
  mail:
    protocol: smtp
  echo:
    protocol: tcp
    echo: true
"""

MESSAGE = b"From: alice@example.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\nHello.\r\n"


# --- real clients --------------------------------------------------------------------------------
def smtp(farm, server="mail"):
    return smtplib.SMTP(farm.host(server), farm.port(server), local_hostname="client.test",
                        timeout=TIMEOUT)


def send_mail(farm, to="bob@example.test", server="mail"):
    """One whole SMTP session with smtplib: EHLO, MAIL, RCPT, DATA, QUIT. A refusal raises."""
    with smtp(farm, server) as client:
        client.sendmail("alice@example.test", [to], MESSAGE)


def greylisted(test, farm):
    """A session whose DATA gets the greylisting 451."""
    with test.assertRaises(smtplib.SMTPDataError) as caught:
        send_mail(farm)
    test.assertEqual(caught.exception.smtp_code, 451)


class Lines:
    """A raw line client (bounded reads)."""

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=TIMEOUT)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"closed; got {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def reply(self):
        """One SMTP reply, all its lines."""
        out = b""
        while True:
            line = self.line()
            out += line
            if line[3:4] != b"-":
                return out

    def cmd(self, text):
        self.sock.sendall(text + b"\r\n")
        return self.reply()

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def smtp_mail_reply(farm):
    """The reply to MAIL FROM in a fresh session (then QUIT)."""
    with Lines(farm.address("mail")) as c:
        assert c.reply().startswith(b"220"), "no greeting"
        c.cmd(b"EHLO client.test")
        reply = c.cmd(b"MAIL FROM:<alice@example.test>")
        try:
            c.cmd(b"QUIT")
        except (EOFError, OSError):
            pass
        return reply


def echo(farm, lines=(b"hello",), server="echo", banner=True):
    """One tcp echo session: each line sent and its echo read."""
    with Lines(farm.address(server)) as c:
        if banner:
            c.line()
        for line in lines:
            c.sock.sendall(line + b"\r\n")
            got = c.line()
            if got != line + b"\r\n":
                raise AssertionError(f"echo answered {got!r} to {line!r}")


def read_until_closed(sock):
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        if not chunk:
            return data, "closed"
        data += chunk


def pop3(farm, server="pop"):
    client = poplib.POP3(farm.host(server), farm.port(server), timeout=TIMEOUT)
    client.user("alice")
    client.pass_("secret")
    return client


def mailbox_subjects(farm):
    client = pop3(farm)
    try:
        count, _ = client.stat()
        subjects = []
        for n in range(1, count + 1):
            lines = client.retr(n)[1]
            subjects += [l.decode() for l in lines if l.startswith(b"Subject:")]
        return subjects
    finally:
        client.quit()


# --- raw HTTP for input the client library would not send -----------------------------------------
def http_exchange(address, request, body_chunks=(), timeout=TIMEOUT):
    """Sends a request head (bytes), then the body pieces unless the server answers first;
    returns (status, headers, body) of the answer."""
    sock = socket.create_connection(address, timeout=timeout)
    try:
        sock.sendall(request)
        answered, _, _ = select.select([sock], [], [], 1.0) if body_chunks else ([], 0, 0)
        if not answered:
            try:
                for piece in body_chunks:
                    sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                pass  # the server stopped reading: its answer tells why
        return read_response(sock, timeout)
    finally:
        sock.close()


def read_response(sock, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    if b"\r\n\r\n" not in data:
        raise AssertionError(f"no whole HTTP answer, got {data[:300]!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "-1"))
    while length < 0 or len(body) < length:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        body += chunk
    return status, headers, body


def control_address(farm):
    return ("127.0.0.1", farm.control["port"])


def jsonl_events(farm, at_least=0):
    """events.jsonl, once it has at least `at_least` lines (its writes can trail the API)."""
    path = farm.transcripts / "events.jsonl"

    def lines():
        found = path.read_text().splitlines() if path.exists() else []
        return found if len(found) >= at_least else None
    return [json.loads(line) for line in farm.wait_for(lines, TIMEOUT, "events.jsonl")]


def sanitized(pid):
    """Whether the farm runs under AddressSanitizer (its allocator keeps freed memory in a
    quarantine, so RSS says nothing about what the farm holds)."""
    return "libasan" in Path(f"/proc/{pid}/maps").read_text()


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


class ControlTestCase(unittest.TestCase):
    maxDiff = None

    def farm(self, scenario, **kwargs):
        kwargs.setdefault("binary", PROTOFARM)
        farm = Farm(scenario, **kwargs)
        self.addCleanup(farm.cleanup)
        farm.start()
        return farm

    def assertJsonError(self, answer, status):
        self.assertEqual(answer.status, status, answer)
        self.assertEqual(answer.content_type, "application/json", answer)
        body = answer.json()
        self.assertIsInstance(body.get("error"), str, body)
        self.assertTrue(body["error"], body)
        return body

    def assertRefused(self, status, call, *args, **kwargs):
        with self.assertRaises(ProtofarmError) as caught:
            call(*args, **kwargs)
        self.assertEqual(caught.exception.status, status, str(caught.exception))
        self.assertIsInstance(caught.exception.body, dict, str(caught.exception))
        self.assertIn("error", caught.exception.body)
        return caught.exception

    def sse_clients(self, farm, count):
        farm.wait_for(lambda: farm.metric("protofarm_sse_clients") == count, TIMEOUT,
                      f"{count} SSE client(s) in /metrics")

    def sse_clients_dropped(self, farm, banner=True):
        """Waits until /metrics counts no SSE client, making events meanwhile: a farm that
        only notices a departed client when a write to it fails must drop it then."""
        def dropped():
            echo(farm, banner=banner)
            return farm.metric("protofarm_sse_clients") == 0
        farm.wait_for(dropped, TIMEOUT, "the SSE clients that left to be dropped",
                      interval=0.2)


# ==================================================================================================
class ReadyAndHealth(ControlTestCase):
    def test_ready_file_and_line_name_the_control_api(self):
        farm = self.farm(CONTROL)
        control = farm.ready.get("control")
        self.assertIsInstance(control, dict, farm.ready)
        self.assertEqual(control["host"], "127.0.0.1")
        self.assertIsInstance(control["port"], int)
        self.assertGreater(control["port"], 0)
        self.assertEqual(control["url"], f"http://127.0.0.1:{control['port']}")
        self.assertEqual(list(farm.ready["servers"]), ["mail", "echo", "flaky"])
        self.assertNotIn("control", farm.ready["servers"])
        with socket.create_connection(control_address(farm), timeout=TIMEOUT):
            pass
        line = farm.wait_for(lambda: farm.stdout if farm.stdout.endswith("\n") else None,
                             TIMEOUT, "the ready line").splitlines()[0]
        self.assertTrue(line.startswith("protofarm ready: mail=smtp://127.0.0.1:"), line)
        # The ready line names servers only; stderr names the page for a person.
        self.assertNotIn("control", line)
        farm.wait_for(lambda: f"live page and control API at {control['url']}/" in farm.stderr,
                      TIMEOUT, "the page's address on stderr")

    def test_healthz(self):
        farm = self.farm(CONTROL)
        answer = farm.request("GET", "/healthz")
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(answer.content_type, "application/json")
        self.assertEqual(answer.json(), {"status": "ok"})

    def test_live_page_is_self_contained(self):
        farm = self.farm(CONTROL)
        answer = farm.request("GET", "/", headers={"Accept": "text/html"})
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(answer.content_type, "text/html")
        page = answer.text.lower()
        self.assertIn("<html", page)
        for outside in ('src="http', "src='http", 'href="http', "href='http", 'src="//',
                        "@import url(http", "url(http"):
            self.assertNotIn(outside, page, "the page fetches something from elsewhere")


# ==================================================================================================
class Metrics(ControlTestCase):
    def test_metrics_move_with_sessions_bytes_rules_faults_and_sse_clients(self):
        farm = self.farm(CONTROL)
        answer = farm.request("GET", "/metrics")
        self.assertEqual(answer.status, 200, answer)
        self.assertEqual(answer.content_type, "text/plain")
        for name, kind in [("protofarm_sessions_total", "counter"),
                           ("protofarm_sessions_open", "gauge"),
                           ("protofarm_bytes_total", "counter"),
                           ("protofarm_rule_hits_total", "counter"),
                           ("protofarm_faults_total", "counter"),
                           ("protofarm_events_total", "counter"),
                           ("protofarm_sse_clients", "gauge")]:
            self.assertIn(f"# TYPE {name} {kind}\n", answer.text)
        self.assertIn(farm.metric("protofarm_sessions_total", server="mail"), (None, 0))
        self.assertEqual(farm.metric("protofarm_events_total"), 0)

        greylisted(self, farm)
        send_mail(farm)
        summaries = farm.wait_sessions("mail", 2)
        self.assertEqual(farm.metric("protofarm_sessions_total", server="mail",
                                     protocol="smtp"), 2)
        self.assertEqual(farm.metric("protofarm_sessions_open", server="mail",
                                     protocol="smtp"), 0)
        from_client = farm.metric("protofarm_bytes_total", server="mail", protocol="smtp",
                                  **{"from": "client"})
        from_server = farm.metric("protofarm_bytes_total", server="mail", protocol="smtp",
                                  **{"from": "server"})
        self.assertGreater(from_client, len(MESSAGE))
        self.assertGreater(from_server, 100)
        self.assertEqual(from_client, sum(s["bytes_from_client"] for s in summaries))
        self.assertEqual(from_server, sum(s["bytes_from_server"] for s in summaries))
        self.assertEqual(farm.metric("protofarm_rule_hits_total", server="mail",
                                     rule="greylist"), 1)
        self.assertIn(farm.metric("protofarm_rule_hits_total", server="mail",
                                  rule="maintenance"), (None, 0))
        total = farm.metric("protofarm_events_total")
        self.assertEqual(total, len(jsonl_events(farm, int(total))))

        # A connection fault: the flaky server resets after 4 bytes.
        try:
            with socket.create_connection(farm.address("flaky"), timeout=TIMEOUT) as sock:
                data, how = read_until_closed(sock)
        except ConnectionResetError:  # so fast that connect() already saw it
            data, how = b"", "reset"
        self.assertEqual(how, "reset", data)
        farm.wait_sessions("flaky", 1)
        self.assertEqual(farm.metric("protofarm_faults_total", server="flaky",
                                     fault="reset_after"), 1)

        # Gauges: an open session, an SSE client.
        client = smtp(farm)
        try:
            client.ehlo()
            farm.wait_for(lambda: farm.metric("protofarm_sessions_open", server="mail") == 1,
                          TIMEOUT, "sessions_open 1")
        finally:
            client.quit()
        farm.wait_for(lambda: farm.metric("protofarm_sessions_open", server="mail") == 0,
                      TIMEOUT, "sessions_open 0")
        self.assertEqual(farm.metric("protofarm_sse_clients"), 0)
        with farm.events():
            self.sse_clients(farm, 1)
        # A client that left is not counted any more, without waiting for the next event.
        self.sse_clients(farm, 0)


# ==================================================================================================
class ServersAndSessions(ControlTestCase):
    def test_servers(self):
        farm = self.farm(CONTROL)
        servers = farm.servers()
        self.assertEqual([s["name"] for s in servers], ["mail", "echo", "flaky"])
        for s in servers:
            ready = farm.ready["servers"][s["name"]]
            self.assertEqual((s["host"], s["port"], s["protocol"], s["tls"]),
                             (ready["host"], ready["port"], ready["protocol"], ready["tls"]))
            self.assertEqual(s["scenario"], "control")
            self.assertEqual((s["sessions"], s["open"]), (0, 0))
        mail = servers[0]
        self.assertEqual([(r["name"], r["on"].upper(), r["hits"]) for r in mail["rules"]],
                         [("greylist", "DATA", 0), ("maintenance", "MAIL", 0),
                          ("noted", "NOOP", 0)])
        self.assertEqual(farm.server("mail"), mail)
        self.assertRefused(404, farm.server, "nope")

        greylisted(self, farm)
        farm.wait_sessions("mail", 1)
        client = smtp(farm)
        try:
            client.ehlo()
            mail = farm.wait_for(lambda: (m := farm.server("mail"))["open"] == 1 and m,
                                 TIMEOUT, "one open session")
            self.assertEqual(mail["sessions"], 2)
            self.assertEqual(mail["rules"][0]["hits"], 1)
        finally:
            client.quit()

    def test_sessions_by_server_seq_time_and_limit(self):
        farm = self.farm(CONTROL)
        self.assertEqual(farm.last_seq(), 0)
        self.assertEqual(farm.sessions(), [])
        greylisted(self, farm)        # seq 1: mail 1
        time.sleep(0.01)
        echo(farm)                    # seq 2: echo 1
        time.sleep(0.01)
        send_mail(farm)               # seq 3: mail 2
        farm.wait_idle()
        every = farm.sessions()
        self.assertEqual([(s["seq"], s["server"], s["session"]) for s in every],
                         [(1, "mail", 1), (2, "echo", 1), (3, "mail", 2)])
        self.assertEqual(farm.last_seq(), 3)
        self.assertEqual([s["seq"] for s in farm.sessions(server="mail")], [1, 3])
        self.assertEqual([s["seq"] for s in farm.sessions(since=1)], [2, 3])
        self.assertEqual(farm.sessions(since=3), [])
        self.assertEqual([s["seq"] for s in farm.sessions(server="mail", since=1)], [3])
        self.assertEqual([s["seq"] for s in farm.sessions(limit=1)], [3])
        self.assertEqual([s["seq"] for s in farm.sessions(limit=2)], [2, 3])
        self.assertEqual([s["seq"] for s in farm.sessions(since=every[1]["started"])], [2, 3])
        self.assertEqual(len(farm.sessions(since="2000-01-01T00:00:00Z")), 3)
        self.assertEqual(farm.sessions(since="2100-01-01T00:00:00Z"), [])
        self.assertRefused(404, farm.sessions, server="nope")
        for bad in ("abc", "-1", "2026-13-45T00:00:00Z"):
            self.assertJsonError(farm.request("GET", "/api/sessions", query={"since": bad}), 400)
        self.assertJsonError(farm.request("GET", "/api/sessions", query={"limit": "x"}), 400)

        first = every[0]
        self.assertEqual(first["protocol"], "smtp")
        self.assertEqual(first["local"], f"127.0.0.1:{farm.port('mail')}")
        self.assertRegex(first["peer"], r"^127\.0\.0\.1:\d+$")
        self.assertRegex(first["started"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertRegex(first["ended"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertEqual(first["close"], "server")  # 221 to QUIT, then the server closes
        self.assertIs(first["open"], False)
        doc = json.loads((farm.transcripts / "sessions" / "mail" / "1.json").read_text())
        client_bytes = sum(len(e["text"].encode()) for e in doc["events"]
                           if e.get("from") == "client")
        server_bytes = sum(len(e["text"].encode()) for e in doc["events"]
                           if e.get("from") == "server")
        self.assertEqual((first["bytes_from_client"], first["bytes_from_server"]),
                         (client_bytes, server_bytes))
        self.assertEqual(first["events"], len(doc["events"]))
        self.assertEqual(farm.sessions(since="2999-01-01T00:00:00Z"), [])

    def test_live_document_of_an_open_session_then_the_final_one(self):
        farm = self.farm(CONTROL)
        client = smtp(farm)
        try:
            client.ehlo("live.test")
            summary = farm.wait_for(lambda: farm.sessions(server="mail"), TIMEOUT, "a session")
            self.assertIs(summary[0]["open"], True)
            self.assertIsNone(summary[0]["ended"])
            self.assertIsNone(summary[0]["close"])

            def has(doc, command, args=None):
                return any(e.get("command") == command and (args is None or e["args"] == args)
                           for e in doc["events"] if e.get("from") == "client")

            live = farm.wait_for(lambda: (d := farm.session("mail", 1)) and
                                 has(d, "EHLO", "live.test") and d, TIMEOUT,
                                 "the EHLO in the live document")
            self.assertEqual((live["server"], live["protocol"], live["session"]),
                             ("mail", "smtp", 1))
            self.assertIs(live["open"], True)
            self.assertIsNone(live["ended"])
            self.assertIsNone(live["close"])
            self.assertEqual(live["events"][0]["event"], "open")
            self.assertTrue(live["events"][1]["text"].startswith("220 "), live["events"][1])
            self.assertFalse(has(live, "QUIT"))
            client.noop()
            farm.wait_for(lambda: has(farm.session("mail", 1), "NOOP"), TIMEOUT,
                          "the NOOP in the live document")
        finally:
            client.quit()
        farm.wait_sessions("mail", 1)
        path = farm.transcripts / "sessions" / "mail" / "1.json"
        farm.wait_for(path.exists, TIMEOUT, "sessions/mail/1.json")
        final = farm.session("mail", 1)
        self.assertTrue(has(final, "QUIT"))
        self.assertEqual(final["close"], "server")
        self.assertIsNotNone(final["ended"])
        self.assertEqual(final, json.loads(path.read_text()),
                         "the final document is not the one on disk")
        self.assertRefused(404, farm.session, "mail", 2)
        self.assertRefused(404, farm.session, "nope", 1)

    def test_without_transcripts(self):
        farm = self.farm(CONTROL, transcripts=False)
        self.assertIsNone(farm.ready.get("transcripts"))
        with farm.events() as stream:
            self.sse_clients(farm, 1)
            greylisted(self, farm)
            messages = stream.read_until(lambda m: m["data"].get("event") == "close")
        self.assertEqual([m["data"]["event"] for m in messages], ["open", "close"])
        farm.wait_sessions("mail", 1)
        summary = farm.sessions()[0]
        self.assertGreater(summary["bytes_from_client"], 0)
        error = self.assertRefused(404, farm.session, "mail", 1)
        self.assertIn("not recorded", error.message)
        self.assertEqual(farm.metric("protofarm_sessions_total", server="mail"), 1)
        self.assertRefused(409, farm.verify)


# ==================================================================================================
class Events(ControlTestCase):
    def test_events_of_a_session_as_they_happen(self):
        farm = self.farm(CONTROL)
        with farm.events() as stream:
            self.assertEqual(stream.status, 200)
            self.assertEqual(stream.headers.get("content-type", "").split(";")[0],
                             "text/event-stream")
            self.sse_clients(farm, 1)
            greylisted(self, farm)
            messages = stream.read_until(lambda m: m["data"].get("event") == "close")
        self.assertEqual([m["id"] for m in messages], list(range(1, len(messages) + 1)))
        self.assertTrue(all(m["event"] == "message" for m in messages), messages)
        data = [m["data"] for m in messages]
        opening = data[0]
        self.assertEqual((opening["event"], opening["server"], opening["session"],
                          opening["protocol"]), ("open", "mail", 1, "smtp"))
        self.assertEqual(opening["local"], f"127.0.0.1:{farm.port('mail')}")
        self.assertIn("peer", opening)
        self.assertTrue(all(d["server"] == "mail" and d["session"] == 1 and "t_ms" in d
                            for d in data), data)
        self.assertIn(("EHLO", "client.test"),
                      [(d.get("command"), d.get("args")) for d in data])
        self.assertIn("451 4.7.1 greylisted, try again later\r\n",
                      [d.get("text") for d in data])
        self.assertEqual(data[-1]["close"], "server")
        farm.wait_idle()
        self.assertEqual(data, jsonl_events(farm, len(data)),
                         "the events are not the events.jsonl lines")

    def test_resume_with_last_event_id_gets_exactly_the_later_events(self):
        farm = self.farm(CONTROL)
        greylisted(self, farm)
        send_mail(farm)
        farm.wait_idle()
        total = int(farm.metric("protofarm_events_total"))
        self.assertGreater(total, 20)
        with farm.events(last_event_id=0) as stream:
            every = stream.read_quiet(1.0)
        self.assertEqual([m["id"] for m in every], list(range(1, total + 1)))
        k = total // 2
        with farm.events(last_event_id=k) as stream:
            later = stream.read_quiet(1.0)
        self.assertEqual(later, every[k:])
        parts = ("127.0.0.1", farm.control["port"])
        with EventStream(*parts, f"/api/events?last_event_id={k}", timeout=TIMEOUT) as stream:
            self.assertEqual(stream.read_quiet(1.0), every[k:])
        # Without an id, only what comes next.
        with farm.events() as stream:
            with self.assertRaises(TimeoutError):
                stream.read(0.5)
            echo(farm)
            first = stream.read()
        self.assertEqual(first["id"], total + 1)
        self.assertEqual((first["data"]["server"], first["data"]["event"]), ("echo", "open"))

    def test_server_filter(self):
        farm = self.farm(CONTROL)
        with farm.events(server="echo") as stream:
            self.sse_clients(farm, 1)
            greylisted(self, farm)                  # mail's events come first, not for us
            farm.wait_idle()                        # (with the server's close)
            echo(farm, [b"one", b"two"])
            messages = stream.read_until(lambda m: m["data"].get("event") == "close")
            with self.assertRaises(TimeoutError):
                stream.read(0.5)
        self.assertTrue(all(m["data"]["server"] == "echo" for m in messages), messages)
        self.assertEqual(messages[0]["data"]["event"], "open")
        self.assertIn("one\r\n", [m["data"].get("text") for m in messages])
        mail_events = len([e for e in (farm.transcripts / "events.jsonl").read_text()
                           .splitlines() if '"server":"mail"' in e])
        self.assertEqual(messages[0]["id"], mail_events + 1)
        with farm.events(server="echo", last_event_id=0) as stream:
            replay = stream.read_quiet(1.0)
        self.assertEqual(replay, messages)
        with self.assertRaises(ProtofarmError) as caught:
            farm.events(server="nope")
        self.assertEqual(caught.exception.status, 404)

    def test_keep_alive_comment_on_a_quiet_stream(self):
        farm = self.farm(CONTROL)
        with farm.events() as stream:
            with self.assertRaises(TimeoutError):
                stream.read(16.5)          # no event, but a comment every 15 s
            self.assertGreaterEqual(stream.comments, 1)

    def test_a_hundred_clients_all_get_the_next_event(self):
        farm = self.farm(CONTROL)
        streams = []
        try:
            for _ in range(100):
                streams.append(farm.events(timeout=5))
            self.sse_clients(farm, 100)
            echo(farm)
            firsts = [stream.read(TIMEOUT) for stream in streams]
        finally:
            for stream in streams:
                stream.close()
        self.assertEqual({(m["id"], m["data"]["event"], m["data"]["server"]) for m in firsts},
                         {(1, "open", "echo")})
        self.sse_clients_dropped(farm)

    def test_a_client_that_never_reads_costs_no_memory(self):
        farm = self.farm(LOAD)
        line = b"x" * 1500

        def load(events):
            """tcp echo sessions of 50 lines each until `events` more events were made, with
            an SMTP session every 40 sessions."""
            start = farm.metric("protofarm_events_total")
            sessions = 0
            deadline = time.monotonic() + 120
            while farm.metric("protofarm_events_total") - start < events:
                self.assertLess(time.monotonic(), deadline, "the load took too long")
                echo(farm, [line] * 50, banner=False)
                sessions += 1
                if sessions % 40 == 0:
                    send_mail(farm)
            return sessions

        load(20000)                       # warm up: the shared buffer fills to its cap
        farm.wait_idle()
        before = rss_kib(farm.pid)
        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.settimeout(TIMEOUT)
        try:
            stuck.connect(control_address(farm))
            stuck.sendall(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Accept: text/event-stream\r\n\r\n")
            since = time.monotonic()
            self.sse_clients(farm, 1)
            sessions = load(20000)
            self.assertGreaterEqual(sessions, 150)
            send_mail(farm)               # a normal client is served meanwhile
            farm.wait_idle()
            after = rss_kib(farm.pid)
            if not sanitized(farm.pid):  # the normal build checks memory
                self.assertLess(after - before, 8 * 1024,
                                f"RSS grew from {before} KiB to {after} KiB while an SSE "
                                f"client did not read")
            # A slow (sanitizer) build may have taken the 30 s after which the farm drops a
            # client whose write waits; otherwise it is still there, and reading again, it is
            # told what it missed.
            if time.monotonic() - since < 25:
                self.assertEqual(farm.metric("protofarm_sse_clients"), 1)
                data = bytearray()
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    chunk = stuck.recv(1 << 20)
                    if not chunk:
                        break
                    data += chunk
                    if b"event: gap" in data[-len(chunk) - 16:]:
                        break
                self.assertIn(b"event: gap", data, "no gap event once the client read again")
                gap = bytes(data[data.index(b"event: gap"):]).split(b"\n\n")[0]
                missed = [json.loads(line[5:]) for line in gap.split(b"\n")
                          if line.startswith(b"data:")]
                self.assertGreater(missed[0]["missed"], 0, gap)
        finally:
            stuck.close()
        self.sse_clients_dropped(farm, banner=False)
        # Over 40,000 events of 1.5 KB: the first ones are gone from the 8 MiB the farm holds.
        with farm.events(last_event_id=1) as stream:
            gap = stream.read()
            following = stream.read()
        self.assertEqual(gap["event"], "gap", gap)
        self.assertGreater(gap["data"]["missed"], 0, gap)
        self.assertEqual(following["id"], 2 + gap["data"]["missed"], (gap, following["id"]))


# ==================================================================================================
class States(ControlTestCase):
    def test_states_get_put_and_a_rule_that_reacts(self):
        farm = self.farm(CONTROL)
        self.assertEqual(farm.call("GET", "/api/states"),
                         {"scenario": "control", "states": {"mode": "normal"}})
        self.assertTrue(smtp_mail_reply(farm).startswith(b"250"))
        answer = farm.call("PUT", "/api/states", json={"mode": "maintenance"})
        self.assertEqual(answer, {"scenario": "control", "states": {"mode": "maintenance"}})
        self.assertEqual(smtp_mail_reply(farm), b"421 4.3.2 down for maintenance\r\n")
        self.assertEqual(farm.set_states(mode="normal"), {"mode": "normal"})
        self.assertTrue(smtp_mail_reply(farm).startswith(b"250"))
        self.assertEqual(farm.server("mail")["rules"][1]["hits"], 1)

        # A rule's set_state shows in the API.
        with smtp(farm) as client:
            self.assertEqual(client.docmd("NOOP", "note")[0], 250)
        self.assertEqual(farm.states(), {"mode": "normal", "noted": "yes"})
        self.assertEqual(farm.states(scenario="control"), {"mode": "normal", "noted": "yes"})
        answer = farm.request("GET", "/api/states", query={"scenario": "nope"})
        self.assertJsonError(answer, 404)

        # Bad bodies change nothing.
        for body in (b"[1, 2]", b'"maintenance"', b'{"mode": '):
            self.assertJsonError(farm.request("PUT", "/api/states", body=body), 400)
        self.assertEqual(farm.states(), {"mode": "normal", "noted": "yes"})

    def test_states_of_one_scenario_among_several(self):
        second = "name: second\nstate:\n  color: red\nservers:\n  other:\n    protocol: tcp\n"
        farm = self.farm([CONTROL, second])
        self.assertEqual(farm.call("GET", "/api/states", query={"scenario": "second"}),
                         {"scenario": "second", "states": {"color": "red"}})
        self.assertEqual(farm.set_states(color="blue", scenario="second"), {"color": "blue"})
        self.assertEqual(farm.states(scenario="control"), {"mode": "normal"})
        self.assertEqual(farm.states(scenario="second"), {"color": "blue"})
        self.assertEqual(farm.server("other")["scenario"], "second")


# ==================================================================================================
class Reset(ControlTestCase):
    def test_reset_brings_rule_counters_and_states_back(self):
        farm = self.farm(CONTROL)
        greylisted(self, farm)
        send_mail(farm)
        self.assertEqual(farm.server("mail")["rules"][0]["hits"], 1)

        self.assertEqual(farm.reset(server="mail"), ["mail"])
        self.assertEqual(farm.server("mail")["rules"][0]["hits"], 0)
        greylisted(self, farm)            # the times: 1 rule fires again
        send_mail(farm)

        farm.set_states(mode="maintenance")
        farm.reset(server="mail")         # states are the scenario's: not reset by one server
        self.assertEqual(farm.states(), {"mode": "maintenance"})

        self.assertEqual(sorted(farm.reset()), ["echo", "flaky", "mail"])
        self.assertEqual(farm.states(), {"mode": "normal"})
        self.assertEqual([r["hits"] for r in farm.server("mail")["rules"]], [0, 0, 0])
        greylisted(self, farm)
        farm.wait_idle()
        # Session numbers and transcripts go on.
        self.assertEqual([s["session"] for s in farm.sessions(server="mail")],
                         [1, 2, 3, 4, 5])
        self.assertTrue((farm.transcripts / "sessions" / "mail" / "1.json").exists())
        self.assertRefused(404, farm.reset, server="nope")

    def test_reset_brings_pop3_deletions_back_and_smtp_deliveries_go(self):
        farm = self.farm(MAILBOX)
        self.assertEqual(mailbox_subjects(farm), ["Subject: one", "Subject: two"])
        client = pop3(farm)
        client.dele(1)
        client.quit()
        self.assertEqual(mailbox_subjects(farm), ["Subject: two"])
        send_mail(farm, to="alice@example.test")
        self.assertEqual(mailbox_subjects(farm), ["Subject: two", "Subject: hi"])

        self.assertEqual(farm.reset(server="pop"), ["pop"])
        self.assertEqual(mailbox_subjects(farm), ["Subject: one", "Subject: two"])

        client = pop3(farm)
        client.dele(2)
        client.quit()
        self.assertEqual(mailbox_subjects(farm), ["Subject: one"])
        self.assertEqual(sorted(farm.reset()), ["mail", "pop"])
        self.assertEqual(mailbox_subjects(farm), ["Subject: one", "Subject: two"])


# ==================================================================================================
class Rules(ControlTestCase):
    def test_new_rules_for_new_sessions_while_open_ones_keep_the_old(self):
        farm = self.farm(CONTROL)
        old = smtp(farm)
        try:
            old.ehlo()
            answer = farm.set_rules("mail", [{"name": "blocked", "on": "MAIL",
                                              "reply": "550 5.7.1 new rules"}])
            self.assertEqual(answer, {"server": "mail", "rules": 1})
            self.assertEqual(smtp_mail_reply(farm), b"550 5.7.1 new rules\r\n")
            self.assertEqual(old.mail("alice@example.test")[0], 250)   # the old rules
            self.assertEqual(old.rcpt("bob@example.test")[0], 250)
            with self.assertRaises(smtplib.SMTPDataError) as caught:   # the old greylist
                old.data(MESSAGE)
            self.assertEqual(caught.exception.smtp_code, 451)
        finally:
            old.quit()
        self.assertEqual(farm.server("mail")["rules"],
                         [{"name": "blocked", "on": "MAIL", "hits": 1}])

        # YAML text, and {"rules": [...]}; counters start from zero.
        answer = farm.set_rules("mail", '- on: MAIL\n  reply: "550 5.7.1 from yaml"\n')
        self.assertEqual(answer, {"server": "mail", "rules": 1})
        self.assertEqual(smtp_mail_reply(farm), b"550 5.7.1 from yaml\r\n")
        answer = farm.call("PUT", "/api/servers/mail/rules", json={"rules": [
            {"name": "greylist", "on": "DATA", "times": 1, "reply": "451 4.7.1 again"}]})
        self.assertEqual(answer, {"server": "mail", "rules": 1})
        with self.assertRaises(smtplib.SMTPDataError) as caught:
            send_mail(farm)
        self.assertEqual(caught.exception.smtp_error, b"4.7.1 again")
        send_mail(farm)
        self.assertEqual(farm.set_rules("mail", []), {"server": "mail", "rules": 0})
        send_mail(farm)
        # Rules replaced at run time stay after a reset.
        farm.reset()
        self.assertEqual(farm.server("mail")["rules"], [])

    def test_bad_rules_are_refused_and_nothing_changes(self):
        farm = self.farm(CONTROL)
        before = farm.server("mail")["rules"]
        cases = [
            ([{"on": "MAIL", "reply": "550 x", "bogus": 1}], "rules[0]", "bogus"),
            ([{"on": "MAIL", "reply": "550 ok"},
              {"on": "RCPT", "match": "([unclosed", "reply": "550 x"}], "rules[1].match", None),
            ([{"on": "MAILL", "reply": "550 x"}], "rules[0].on", "MAIL"),
            ([{"on": "DATA", "times": "often"}], "rules[0].times", None),
        ]
        for rules, path, mentioned in cases:
            with self.subTest(rules=rules):
                error = self.assertRefused(400, farm.set_rules, "mail", rules)
                self.assertTrue(error.path and error.path.startswith(path), error.body)
                self.assertTrue(error.errors, error.body)
                for item in error.errors:
                    self.assertEqual(set(item) & {"message", "path", "line", "column"},
                                     {"message", "path", "line", "column"}, item)
                    self.assertIsInstance(item["line"], int, item)
                    self.assertIsInstance(item["column"], int, item)
                if mentioned:
                    self.assertIn(mentioned, json.dumps(error.body))
        for body in (b'[{"on": "MAIL",', b'{"on": "MAIL"}', b"42"):
            with self.subTest(body=body):
                self.assertJsonError(farm.request("PUT", "/api/servers/mail/rules", body=body),
                                     400)
        self.assertRefused(404, farm.set_rules, "nope", [])
        self.assertEqual(farm.server("mail")["rules"], before)
        greylisted(self, farm)            # the old rules still answer
        send_mail(farm)


# ==================================================================================================
class Verify(ControlTestCase):
    def test_verify_fails_then_passes_then_fails_json_and_junit(self):
        farm = self.farm(VERIFY)
        result = farm.verify()
        self.assertIs(result["passed"], False)
        self.assertIn("FAIL  mail", result["report"])
        self.assertIn("sessions: expected 1, recorded 0", result["report"])
        answer = farm.request("POST", "/api/verify", query={"format": "junit"})
        self.assertEqual(answer.status, 200, answer)
        self.assertIn("xml", answer.content_type)
        suites = ET.fromstring(answer.body)
        suite = suites.find("testsuite")
        self.assertEqual(suite.get("name"), "control-verify")
        self.assertEqual(suite.get("failures"), "1")
        self.assertIsNotNone(suite.find("testcase[@name='mail']/failure"))

        send_mail(farm)
        farm.wait_idle()
        result = farm.verify()
        self.assertIs(result["passed"], True, result["report"])
        self.assertIn("ok    mail", result["report"])
        suite = ET.fromstring(farm.verify_junit()).find("testsuite")
        self.assertEqual(suite.get("failures"), "0")
        self.assertIsNone(suite.find("testcase[@name='mail']/failure"))

        send_mail(farm)
        farm.wait_idle()
        result = farm.verify()
        self.assertIs(result["passed"], False)
        self.assertIn("sessions: expected 1, recorded 2", result["report"])
        # The same report as `protofarm verify` on the finished transcripts.
        self.assertEqual(farm.stop(), 0, farm.stderr)
        cli = subprocess.run([PROTOFARM, "verify", str(farm.scenario), "--transcripts",
                              str(farm.transcripts)], capture_output=True, text=True,
                             timeout=60)
        self.assertEqual(cli.returncode, 1, cli.stderr)
        self.assertEqual(result["report"], cli.stdout)

    def test_verify_answers_its_checks(self):
        farm = self.farm(VERIFY)
        result = farm.verify()
        self.assertEqual(set(result) & {"passed", "report", "checks"},
                         {"passed", "report", "checks"}, result)
        self.assertIsInstance(result["checks"], list)
        self.assertEqual(len(result["checks"]), 2, result["checks"])

    def test_verify_needs_an_expect_section(self):
        farm = self.farm(LOAD)
        self.assertJsonError(farm.request("POST", "/api/verify"), 409)


# ==================================================================================================
class Stop(ControlTestCase):
    def test_stop_ends_the_farm(self):
        farm = self.farm(CONTROL)
        ready_file = farm.ready_file
        with Lines(farm.address("echo")) as client:
            idle = client.sock
            self.assertEqual(client.line(), b"+OK echo\r\n")
            farm.wait_for(lambda: farm.server("echo")["open"] == 1, TIMEOUT, "an open session")
            answer = farm.request("POST", "/api/stop")
            self.assertEqual(answer.status, 202, answer)
            self.assertEqual(answer.json(), {"stopping": True})
            try:
                health = farm.request("GET", "/healthz", timeout=2)
                self.assertNotEqual(health.status, 200, "healthz still says ok after stop")
                if health.status == 503:
                    self.assertEqual(health.json(), {"status": "stopping"})
            except ProtofarmError:
                pass  # already gone
            farm.proc.wait(timeout=15)
            self.assertEqual(read_until_closed(idle)[0], b"")
        self.assertEqual(farm.stop(), 0, farm.stderr)
        self.assertFalse(farm.forced_stop)
        self.assertFalse(ready_file.exists(), "the ready file outlived the farm")
        doc = json.loads((farm.transcripts / "sessions" / "echo" / "1.json").read_text())
        self.assertEqual(doc["close"], "shutdown")


# ==================================================================================================
class Token(ControlTestCase):
    def check_token(self, farm, token):
        for call in [("POST", "/api/reset"), ("PUT", "/api/states")]:
            body = b"{}" if call[0] == "PUT" else None
            for headers in ({}, {"Authorization": "Bearer wrong-token"},
                            {"Authorization": f"Basic {token}"},
                            {"Authorization": f"Bearer {token}x"}):
                with self.subTest(call=call, headers=headers):
                    answer = farm.request(*call, body=body, token=None, headers=headers)
                    self.assertJsonError(answer, 401)
            answer = farm.request(*call, body=body, token=None,
                                  headers={"Authorization": f"Bearer {token}"})
            self.assertEqual(answer.status, 200, answer)
        self.assertJsonError(farm.request("POST", "/api/stop", token=None), 401)
        for path in ("/healthz", "/metrics", "/api/servers", "/api/sessions", "/api/states"):
            self.assertEqual(farm.request("GET", path, token=None).status, 200, path)
        with EventStream("127.0.0.1", farm.control["port"], "/api/events") as stream:
            self.assertEqual(stream.status, 200)
        self.assertTrue(farm.running())

    def test_mutating_calls_need_the_token(self):
        farm = self.farm(CONTROL, args=["--control", "127.0.0.1:0"],
                         control_token="s3cret-T0ken")
        self.check_token(farm, "s3cret-T0ken")
        self.assertEqual(farm.stop(), 0)          # the client sends the token
        self.assertFalse(farm.forced_stop)

    def test_token_from_the_environment(self):
        env = dict(os.environ, PROTOFARM_CONTROL_TOKEN="env-token-42")
        farm = self.farm(CONTROL, env=env)
        self.assertNotIn("env-token-42", " ".join(farm.command()))
        self.check_token(farm, "env-token-42")

    def test_off_loopback_without_a_token_is_refused(self):
        env = {k: v for k, v in os.environ.items() if k != "PROTOFARM_CONTROL_TOKEN"}
        with tempfile.TemporaryDirectory() as tmp:
            scenario = Path(tmp) / "s.yaml"
            scenario.write_text(CONTROL)
            for address in ("0.0.0.0:0", "[::]:0"):
                with self.subTest(address=address):
                    ready = Path(tmp) / "ready.json"
                    result = subprocess.run([PROTOFARM, "run", str(scenario), "--control",
                                             address, "--ready-file", str(ready)],
                                            capture_output=True, text=True, timeout=30,
                                            env=env)
                    self.assertEqual(result.returncode, 2, result.stderr)
                    self.assertIn("token", result.stderr.lower())
                    self.assertFalse(ready.exists())
                    self.assertNotIn("protofarm ready", result.stdout)

    def test_control_none(self):
        farm = self.farm(CONTROL, args=["--control", "none"])
        self.assertNotIn("control", farm.ready)
        self.assertIsNone(farm.control_url)
        line = farm.wait_for(lambda: farm.stdout if farm.stdout.endswith("\n") else None,
                             TIMEOUT, "the ready line")
        self.assertNotIn("control=", line)
        echo(farm)
        self.assertEqual(farm.stop(), 0, farm.stderr)    # by SIGTERM


# ==================================================================================================
class BadInput(ControlTestCase):
    def test_errors_are_json_with_the_right_status(self):
        farm = self.farm(CONTROL)
        cases = [
            (400, "PUT", "/api/states", b'{"mode": '),
            (400, "PUT", "/api/servers/mail/rules", b'[{"on": "MAIL",'),
            (404, "GET", "/api/servers/nope", None),
            (404, "PUT", "/api/servers/nope/rules", b"[]"),
            (404, "GET", "/api/sessions/nope/1", None),
            (404, "GET", "/api/sessions/mail/1", None),
            (404, "POST", "/api/reset?server=nope", None),
            (404, "GET", "/api/nope", None),
            (404, "GET", "/nope", None),
            (405, "DELETE", "/api/servers", None),
            (405, "GET", "/api/stop", None),
            (405, "GET", "/api/reset", None),
            (405, "POST", "/healthz", None),
            (405, "PUT", "/metrics", b""),
            (405, "DELETE", "/api/states", None),
        ]
        for status, method, path, body in cases:
            with self.subTest(method=method, path=path):
                self.assertJsonError(farm.request(method, path, body=body), status)
        self.assertEqual(farm.states(), {"mode": "normal"})
        self.assertEqual(farm.healthz(), {"status": "ok"})

    def test_405_names_the_allowed_methods(self):
        farm = self.farm(CONTROL)
        answer = farm.request("GET", "/api/stop")
        self.assertEqual(answer.status, 405, answer)
        self.assertIn("POST", answer.headers.get("Allow") or "",
                      "a 405 must have an Allow header (RFC 9110 15.5.6)")

    def test_bodies_over_1_mib_and_big_heads_are_refused(self):
        farm = self.farm(CONTROL)
        size = 2 << 20
        body = b'{"mode": "' + b"x" * (size - 12) + b'"}'
        self.assertEqual(len(body), size)
        head = (f"PUT /api/states HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
                f"\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n").encode()
        pieces = [body[i:i + 65536] for i in range(0, size, 65536)]
        status, headers, answer = http_exchange(control_address(farm), head, pieces)
        self.assertEqual(status, 413, answer)
        self.assertIn("error", json.loads(answer))

        chunked = (b"PUT /api/states HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                   b"Connection: close\r\n\r\n")
        pieces = [b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces] + [b"0\r\n\r\n"]
        status, headers, answer = http_exchange(control_address(farm), chunked, pieces)
        self.assertIn(status, (413, 411, 501), "a 2 MiB chunked body was not refused")

        big_head = (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20000 +
                    b"\r\nConnection: close\r\n\r\n")
        status, headers, answer = http_exchange(control_address(farm), big_head)
        self.assertIn(status, (431, 400), "a 20 KB request head was not refused")

        self.assertEqual(farm.states(), {"mode": "normal"})
        self.assertEqual(farm.healthz(), {"status": "ok"})

    def test_a_client_that_never_sends_its_head_holds_up_nobody(self):
        farm = self.farm(CONTROL)
        with socket.create_connection(control_address(farm), timeout=TIMEOUT) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.assertEqual(farm.healthz(), {"status": "ok"})
            echo(farm)


if __name__ == "__main__":
    unittest.main()
