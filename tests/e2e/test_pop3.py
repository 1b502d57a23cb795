"""The pop3 fake with real clients: Python's poplib and curl, over plain TCP, STLS and implicit
TLS. Each test checks what the client saw and what the transcript recorded."""

import hashlib
import poplib
import re
import shutil
import socket
import ssl
import struct
import subprocess
import unittest

from farm import SCENARIOS, Farm, client_bytes, named_events, run, server_bytes

CURL = shutil.which("curl")


def pop(farm, name="pop"):
    return poplib.POP3(farm.host(name), farm.port(name), timeout=10)


def commands(session):
    """The (command, args) pairs the transcript recorded, in order."""
    return [(e["command"], e["args"]) for e in session["events"] if "command" in e]


def crlf(text):
    return text.replace("\n", "\r\n").encode()


def curl(*args, ok=True):
    result = subprocess.run([CURL, "--silent", "--show-error", "--max-time", "20", *args],
                            capture_output=True, timeout=60)
    if ok and result.returncode != 0:
        raise AssertionError(f"curl {args} failed ({result.returncode}): {result.stderr!r}")
    return result


def recv_until(sock, marker, limit=1 << 20):
    data = b""
    while marker not in data and len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def recv_all(sock):
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


WELCOME = """From: Postmaster <postmaster@example.test>
To: alice@example.test
Subject: Welcome

Hello Alice,
this is your first message.
"""

DOTS = """From: bob@example.test
To: alice@example.test
Subject: Dots

.a line that begins with a dot
..and one with two
.
end
"""


class Validate(unittest.TestCase):
    def test_examples_validate(self):
        for path in sorted(SCENARIOS.glob("pop3-*.yaml")):
            with self.subTest(path.name):
                result = run("validate", path)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_mistakes_are_reported_with_line_and_column(self):
        farm = Farm(text="""name: bad
servers:
  pop:
    protocol: pop3
    auth: [USER, CRAM]
    deliveries_from: mial
    mailboxes:
      alice:
        pasword: x
    rules:
      - on: RETT
        reply: "-ERR no"
""")
        result = run("validate", farm.scenario)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        out = result.stdout + result.stderr
        self.assertRegex(out, r"scenario.yaml:5:\d+: error: .*CRAM")
        self.assertRegex(out, r"scenario.yaml:6:\d+: error: .*no server named 'mial'")
        self.assertRegex(out, r"scenario.yaml:9:\d+: error: .*pasword")
        self.assertRegex(out, r"scenario.yaml:11:\d+: error: .*RETT.*did you mean 'RETR'")


class Mailbox(unittest.TestCase):
    """pop3-mailbox.yaml with poplib and curl."""

    def test_user_pass_list_uidl_top_retr_dele_across_two_sessions(self):
        with Farm(path=SCENARIOS / "pop3-mailbox.yaml") as farm:
            p = pop(farm)
            self.assertRegex(p.getwelcome(),
                             rb"^\+OK protofarm POP3 server ready <\d+\.1\.1767225600@pop\.example\.test>$")
            self.assertEqual(p.user("alice"), b"+OK send PASS")
            self.assertEqual(p.pass_("secret"), b"+OK alice's maildrop has 2 messages (256 octets)")
            self.assertEqual(p.stat(), (2, len(crlf(WELCOME)) + len(crlf(DOTS))))
            resp, listing, _ = p.list()
            self.assertEqual(listing, [b"1 %d" % len(crlf(WELCOME)), b"2 %d" % len(crlf(DOTS))])
            self.assertEqual(p.uidl()[1], [b"1 welcome-1", b"2 dots-2"])
            self.assertEqual(p.uidl(2), b"+OK 2 dots-2")
            resp, lines, octets = p.retr(2)
            self.assertEqual(resp, b"+OK %d octets" % len(crlf(DOTS)))
            # poplib un-stuffs: the lines are the message's own.
            self.assertEqual(lines, DOTS.encode().split(b"\n")[:-1])
            resp, lines, _ = p.top(1, 1)
            self.assertEqual(lines, WELCOME.encode().split(b"\n")[:5])
            self.assertEqual(p.dele(1), b"+OK message 1 deleted")
            self.assertEqual(p.quit(), b"+OK pop.example.test POP3 server signing off (1 message left)")

            p = pop(farm)
            p.user("alice")
            p.pass_("secret")
            self.assertEqual(p.stat(), (1, len(crlf(DOTS))))
            self.assertEqual(p.uidl()[1], [b"1 dots-2"])
            p.quit()
            farm.wait_sessions("pop", 2)

        first, second = farm.sessions("pop")
        self.assertEqual(commands(first), [
            ("USER", "alice"), ("PASS", "secret"), ("STAT", ""), ("LIST", ""), ("UIDL", ""),
            ("UIDL", "2"), ("RETR", "2"), ("TOP", "1 1"), ("DELE", "1"), ("QUIT", "")])
        login = named_events(first, "login")[0]
        self.assertEqual((login["user"], login["method"], login["messages"]), ("alice", "USER", 2))
        update = named_events(first, "update")[0]
        self.assertEqual((update["deleted"], update["left"]), (["welcome-1"], 1))
        self.assertEqual(first["close"], "server")
        # Every byte is there: the dot-stuffed RETR reply as it went out.
        self.assertIn(b"\r\n..a line that begins with a dot\r\n...and one with two\r\n..\r\nend\r\n.\r\n",
                      server_bytes(first))
        self.assertEqual(client_bytes(second), b"USER alice\r\nPASS secret\r\nSTAT\r\nUIDL\r\nQUIT\r\n")

    def test_apop(self):
        with Farm(path=SCENARIOS / "pop3-mailbox.yaml") as farm:
            p = pop(farm)
            timestamp = re.search(rb"<.*>", p.getwelcome()).group(0)
            self.assertEqual(p.apop("alice", "secret"),
                             b"+OK alice's maildrop has 2 messages (256 octets)")
            p.quit()
            p = pop(farm)
            with self.assertRaises(poplib.error_proto) as cm:
                p.apop("alice", "wrong")
            self.assertEqual(cm.exception.args[0], b"-ERR [AUTH] invalid user name or password")
            p.quit()
            farm.wait_sessions("pop", 2)
        first, second = farm.sessions("pop")
        digest = hashlib.md5(timestamp + b"secret").hexdigest()
        self.assertEqual(commands(first)[0], ("APOP", "alice " + digest))
        self.assertEqual(named_events(first, "login")[0]["method"], "APOP")
        self.assertEqual(named_events(second, "login_failed")[0]["reason"], "credentials")

    def test_capa(self):
        with Farm(path=SCENARIOS / "pop3-mailbox.yaml") as farm:
            p = pop(farm)
            self.assertEqual(p.capa(), {
                "TOP": [], "UIDL": [], "RESP-CODES": [], "AUTH-RESP-CODE": [], "PIPELINING": [],
                "USER": [], "SASL": ["PLAIN", "LOGIN"], "IMPLEMENTATION": ["protofarm"]})
            p.quit()

    @unittest.skipUnless(CURL, "curl is not installed")
    def test_curl_lists_and_retrieves_with_sasl(self):
        with Farm(path=SCENARIOS / "pop3-mailbox.yaml") as farm:
            url = f"pop3://{farm.host('pop')}:{farm.port('pop')}"
            listing = curl("-u", "alice:secret", url + "/").stdout
            self.assertEqual(listing, b"1 %d\r\n2 %d\r\n" % (len(crlf(WELCOME)), len(crlf(DOTS))))
            message = curl("--sasl-ir", "-u", "alice:secret", url + "/2").stdout
            self.assertEqual(message, crlf(DOTS))  # un-stuffed by curl
            login = curl("-u", "alice:secret", "--login-options", "AUTH=LOGIN", url + "/1").stdout
            self.assertEqual(login, crlf(WELCOME))
            apop = curl("-u", "alice:secret", "--login-options", "AUTH=+APOP", "-X", "UIDL",
                        url + "/").stdout
            self.assertEqual(apop, b"1 welcome-1\r\n2 dots-2\r\n")
            bad = curl("-u", "alice:nope", url + "/1", ok=False)
            self.assertNotEqual(bad.returncode, 0)
            farm.wait_sessions("pop", 5)
        sessions = farm.sessions("pop")
        verbs = [[c for c, _ in commands(s)] for s in sessions]
        # curl asks CAPA, sees SASL PLAIN LOGIN and uses AUTH PLAIN, the credentials following
        # on a line of their own (RFC 5034 4), or with --sasl-ir as an initial response.
        self.assertEqual(verbs[0], ["CAPA", "AUTH", "LIST", "QUIT"])
        self.assertEqual(commands(sessions[0])[1], ("AUTH", "PLAIN"))
        sasl = [e for e in sessions[0]["events"] if e.get("sasl")]
        self.assertEqual([e["text"] for e in sasl], ["AGFsaWNlAHNlY3JldA==\r\n"])  # \0alice\0secret
        self.assertEqual(named_events(sessions[0], "login")[0]["method"], "PLAIN")
        self.assertEqual(verbs[1], ["CAPA", "AUTH", "RETR", "QUIT"])
        self.assertEqual(commands(sessions[1])[1], ("AUTH", "PLAIN AGFsaWNlAHNlY3JldA=="))
        self.assertEqual(commands(sessions[2])[1], ("AUTH", "LOGIN"))
        self.assertEqual(len([e for e in sessions[2]["events"] if e.get("sasl")]), 2)
        self.assertEqual(named_events(sessions[2], "login")[0]["method"], "LOGIN")
        self.assertEqual(verbs[3][:2], ["CAPA", "APOP"])
        self.assertIn("UIDL", verbs[3])
        self.assertEqual(named_events(sessions[4], "login_failed")[0]["method"], "PLAIN")


class DotStuffed(unittest.TestCase):
    TEXT = b"Subject: dots\r\n\r\n.\r\n..\r\n.hidden\r\nnot a dot.\r\n.\r\n"

    def test_poplib_gets_the_message_back(self):
        with Farm(path=SCENARIOS / "pop3-dot-stuffed.yaml") as farm:
            p = pop(farm)
            p.user("alice")
            p.pass_("secret")
            self.assertEqual(p.list()[1], [b"1 %d" % len(self.TEXT)])
            resp, lines, _ = p.retr(1)
            self.assertEqual(b"\r\n".join(lines) + b"\r\n", self.TEXT)
            p.quit()
            farm.wait_sessions("pop", 1)
        wire = server_bytes(farm.session("pop", 1))
        self.assertIn(b"+OK %d octets\r\nSubject: dots\r\n\r\n..\r\n...\r\n..hidden\r\n"
                      b"not a dot.\r\n..\r\n.\r\n" % len(self.TEXT), wire)

    @unittest.skipUnless(CURL, "curl is not installed")
    def test_curl_gets_the_message_back(self):
        with Farm(path=SCENARIOS / "pop3-dot-stuffed.yaml") as farm:
            url = f"pop3://{farm.host('pop')}:{farm.port('pop')}/1"
            self.assertEqual(curl("-u", "alice:secret", url).stdout, self.TEXT)


class FailingRetr(unittest.TestCase):
    def test_first_retr_fails_then_succeeds(self):
        with Farm(path=SCENARIOS / "pop3-failing-retr.yaml") as farm:
            p = pop(farm)
            p.user("alice")
            p.pass_("secret")
            with self.assertRaises(poplib.error_proto) as cm:
                p.retr(1)
            self.assertEqual(cm.exception.args[0],
                             b"-ERR [SYS/TEMP] message temporarily unavailable, try again")
            resp, lines, _ = p.retr(1)
            self.assertEqual(lines, [b"Subject: retry me", b"", b"It worked the second time."])
            p.quit()
            farm.wait_sessions("pop", 1)
        session = farm.session("pop", 1)
        rules = named_events(session, "rule")
        self.assertEqual([(r["rule"], r["on"]) for r in rules], [("retr-fails-once", "RETR")])
        failed = [e for e in session["events"] if e.get("rule") == "retr-fails-once"
                  and e.get("from") == "server"]
        self.assertEqual(failed[0]["text"],
                         "-ERR [SYS/TEMP] message temporarily unavailable, try again\r\n")


class Stls(unittest.TestCase):
    def context(self, farm):
        return ssl.create_default_context(cafile=farm.ca)

    def test_poplib_stls_then_login(self):
        with Farm(path=SCENARIOS / "pop3-stls.yaml") as farm:
            self.assertEqual(farm.server("pop")["tls"], "starttls")
            p = pop(farm)
            caps = p.capa()
            self.assertIn("STLS", caps)
            self.assertNotIn("USER", caps)
            with self.assertRaises(poplib.error_proto) as cm:
                p.user("alice")
            self.assertTrue(cm.exception.args[0].startswith(b"-ERR [AUTH]"))
            self.assertEqual(p.stls(self.context(farm)), b"+OK Begin TLS negotiation")
            caps = p.capa()
            self.assertNotIn("STLS", caps)
            self.assertIn("USER", caps)
            p.user("alice")
            p.pass_("secret")
            self.assertEqual(p.retr(1)[1], [b"Subject: over TLS", b"", b"Only readable after STLS."])
            p.quit()
            farm.wait_sessions("pop", 1)
        session = farm.session("pop", 1)
        self.assertEqual(len(named_events(session, "tls")), 1)
        # poplib's stls() asks CAPA itself before STLS.
        self.assertEqual([c for c, _ in commands(session)],
                         ["CAPA", "USER", "CAPA", "STLS", "CAPA", "USER", "PASS", "RETR", "QUIT"])
        self.assertIn("Only readable after STLS.", "".join(
            e.get("text", "") for e in session["events"] if e.get("from") == "server"))

    def test_input_pipelined_behind_stls_is_discarded(self):
        with Farm(path=SCENARIOS / "pop3-stls.yaml") as farm:
            with socket.create_connection(farm.address("pop"), timeout=10) as raw:
                recv_until(raw, b"\r\n")
                raw.sendall(b"STLS\r\nUSER mallory\r\n")  # one write: the USER must not count
                self.assertEqual(recv_until(raw, b"\r\n"), b"+OK Begin TLS negotiation\r\n")
                tls = self.context(farm).wrap_socket(raw, server_hostname="127.0.0.1")
                tls.sendall(b"PASS secret\r\n")
                self.assertEqual(recv_until(tls, b"\r\n"), b"-ERR send USER first\r\n")
                tls.sendall(b"QUIT\r\n")
                recv_until(tls, b"\r\n")
                tls.close()
            farm.wait_sessions("pop", 1)
        session = farm.session("pop", 1)
        discarded = [e for e in session["events"] if e.get("discarded")]
        self.assertEqual([e["text"] for e in discarded], ["USER mallory\r\n"])

    @unittest.skipUnless(CURL, "curl is not installed")
    def test_curl_ssl_reqd(self):
        with Farm(path=SCENARIOS / "pop3-stls.yaml") as farm:
            url = f"pop3://{farm.host('pop')}:{farm.port('pop')}/1"
            out = curl("--ssl-reqd", "--cacert", farm.ca, "-u", "alice:secret", url).stdout
            self.assertEqual(out, b"Subject: over TLS\r\n\r\nOnly readable after STLS.\r\n")
            farm.wait_sessions("pop", 1)
        session = farm.session("pop", 1)
        self.assertEqual([c for c, _ in commands(session)][:3], ["CAPA", "STLS", "CAPA"])
        self.assertEqual(len(named_events(session, "tls")), 1)


IMPLICIT = """name: pop3s
servers:
  pops:
    protocol: pop3
    tls: implicit
    mailboxes:
      alice:
        password: secret
        messages:
          - "Subject: pop3s\\n\\nimplicit TLS\\n"
"""


class ImplicitTls(unittest.TestCase):
    def test_poplib_pop3_ssl(self):
        with Farm(text=IMPLICIT) as farm:
            context = ssl.create_default_context(cafile=farm.ca)
            p = poplib.POP3_SSL(farm.host("pops"), farm.port("pops"), context=context, timeout=10)
            self.assertNotIn("STLS", p.capa())
            p.user("alice")
            p.pass_("secret")
            self.assertEqual(p.retr(1)[1], [b"Subject: pop3s", b"", b"implicit TLS"])
            p.quit()
            farm.wait_sessions("pops", 1)
        session = farm.session("pops", 1)
        self.assertEqual(session["events"][1]["event"], "tls")  # right after "open"

    @unittest.skipUnless(CURL, "curl is not installed")
    def test_curl_pop3s(self):
        with Farm(text=IMPLICIT) as farm:
            url = f"pop3s://{farm.host('pops')}:{farm.port('pops')}/1"
            out = curl("--cacert", farm.ca, "-u", "alice:secret", url).stdout
            self.assertEqual(out, b"Subject: pop3s\r\n\r\nimplicit TLS\r\n")


class Locked(unittest.TestCase):
    def test_mailbox_marked_in_use(self):
        with Farm(path=SCENARIOS / "pop3-locked.yaml") as farm:
            p = pop(farm)
            p.user("shared")
            with self.assertRaises(poplib.error_proto) as cm:
                p.pass_("secret")
            self.assertEqual(cm.exception.args[0],
                             b"-ERR [IN-USE] mailbox is locked by another session")
            p.quit()
            farm.wait_sessions("pop", 1)
        failed = named_events(farm.session("pop", 1), "login_failed")
        self.assertEqual((failed[0]["user"], failed[0]["reason"]), ("shared", "in-use"))

    def test_one_session_at_a_time(self):
        with Farm(path=SCENARIOS / "pop3-locked.yaml") as farm:
            first = pop(farm)
            first.user("alice")
            first.pass_("secret")
            second = pop(farm)
            second.user("alice")
            with self.assertRaises(poplib.error_proto) as cm:
                second.pass_("secret")
            self.assertIn(b"[IN-USE]", cm.exception.args[0])
            first.quit()
            second.user("alice")
            self.assertEqual(second.pass_("secret"), b"+OK alice's maildrop has 1 message (22 octets)")
            second.quit()


class CutRetr(unittest.TestCase):
    def test_rule_closes_in_the_middle_of_retr(self):
        with Farm(path=SCENARIOS / "pop3-cut-retr.yaml") as farm:
            p = pop(farm, "cut")
            p.user("alice")
            p.pass_("secret")
            with self.assertRaises(poplib.error_proto):
                p.retr(1)  # poplib: "-ERR EOF" when the connection ends before "."
            p.close()
            farm.wait_sessions("cut", 1)
        session = farm.session("cut", 1)
        self.assertEqual(commands(session)[-1], ("RETR", "1"))
        self.assertTrue(server_bytes(session).endswith(
            b"+OK 64 octets\r\nSubject: cut short\r\n\r\nThis mess"))
        pieces = [e for e in session["events"]
                  if e.get("rule") == "half-a-message" and e.get("from") == "server"]
        self.assertEqual(len(pieces), 6)  # 46 bytes, 8 at a time
        self.assertEqual(session["close"], "server")

    def test_fault_resets_in_the_middle_of_retr(self):
        with Farm(path=SCENARIOS / "pop3-cut-retr.yaml") as farm:
            p = pop(farm, "reset")
            p.user("alice")
            p.pass_("secret")
            with self.assertRaises((poplib.error_proto, ConnectionResetError)):
                p.retr(1)
            p.close()
            farm.wait_sessions("reset", 1)
        session = farm.session("reset", 1)
        self.assertEqual(commands(session)[-1], ("RETR", "1"))
        self.assertEqual(len(server_bytes(session)), 400)
        self.assertIn(b"+OK 2717 octets\r\nFrom: report@example.test", server_bytes(session))
        self.assertEqual(named_events(session, "fault")[0]["sent"], 400)
        self.assertEqual(session["close"], "fault")


BIG = """name: big
servers:
  pop:
    protocol: pop3
    idle_timeout: 10s
    mailboxes:
      alice:
        password: secret
        messages:
          - text: "Subject: big\\n\\n%s"
    rules:
      - on: RETR
        pace: 64KiB/s
""" % (("0123456789abcdef" * 4 + "\\n") * 4000)


class VanishingClient(unittest.TestCase):
    def test_client_gone_in_the_middle_of_retr_leaves_a_full_transcript(self):
        with Farm(text=BIG) as farm:
            sock = socket.create_connection(farm.address("pop"), timeout=10)
            greeting = recv_until(sock, b"\r\n")
            sock.sendall(b"USER alice\r\nPASS secret\r\nRETR 1\r\n")
            got = b""
            while len(got) < 5000:
                chunk = sock.recv(65536)
                self.assertTrue(chunk, "the server closed early")
                got += chunk
            # An abortive close (RST), as a crashing client leaves it.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            farm.wait_sessions("pop", 1)
            # The farm goes on serving.
            p = pop(farm)
            p.user("alice")
            p.pass_("secret")
            self.assertEqual(p.stat()[0], 1)
            p.quit()
        session = farm.session("pop", 1)
        self.assertEqual(commands(session), [("USER", "alice"), ("PASS", "secret"), ("RETR", "1")])
        sent = server_bytes(session)
        self.assertTrue(sent.startswith(greeting + got))
        self.assertLess(len(sent), 4000 * 65)  # it stopped early
        self.assertGreaterEqual(len(sent), len(got))
        self.assertIn(session["close"], ("reset", "client"))


class BadInput(unittest.TestCase):
    def test_clear_errors_and_the_session_goes_on(self):
        with Farm(path=SCENARIOS / "pop3-mailbox.yaml") as farm:
            with socket.create_connection(farm.address("pop"), timeout=10) as sock:
                recv_until(sock, b"\r\n")
                for line, reply in [
                        (b"USER " + b"a" * 300 + b"\r\n",
                         b"-ERR line too long (the limit is 255 octets including CRLF, RFC 2449 4)\r\n"),
                        (b"US\x00ER alice\r\n", b"-ERR NUL bytes are not allowed in a command\r\n"),
                        (b"\xff\xfe\xfd\r\n", b"-ERR unknown command\r\n"),
                        (b"XYZZY\r\n", b"-ERR unknown command\r\n"),
                        (b"STAT\r\n", b"-ERR STAT is not valid in the AUTHORIZATION state\r\n"),
                        (b"\r\n", b"-ERR empty command line\r\n"),
                        (b"user alice\n", b"+OK send PASS\r\n"),
                        (b"PASS secret\r\n", b"+OK alice's maildrop has 2 messages (256 octets)\r\n"),
                        (b"RETR 99\r\n", b"-ERR no such message, only 2 messages in maildrop\r\n"),
                        (b"RETR one\r\n", b"-ERR invalid message number\r\n"),
                        (b"TOP 1\r\n", b"-ERR syntax error, expected TOP msg n\r\n"),
                        (b"QUIT\r\n", b"+OK pop.example.test POP3 server signing off (2 messages left)\r\n")]:
                    sock.sendall(line)
                    self.assertEqual(recv_until(sock, b"\r\n"), reply, line)
            farm.wait_sessions("pop", 1)
        session = farm.session("pop", 1)
        too_long = [e for e in session["events"] if e.get("too_long")]
        self.assertEqual(len(too_long), 1)
        self.assertEqual(too_long[0]["text"], "USER " + "a" * 300 + "\r\n")
        # Bytes that are not UTF-8 are kept exactly, as base64.
        self.assertIn(b"\xff\xfe\xfd\r\n", client_bytes(session))

    def test_endless_line_ends_the_session(self):
        with Farm(path=SCENARIOS / "pop3-mailbox.yaml") as farm:
            with socket.create_connection(farm.address("pop"), timeout=10) as sock:
                recv_until(sock, b"\r\n")
                try:
                    sock.sendall(b"x" * (1536 * 1024))
                except OSError:
                    pass
                out = recv_all(sock)
            self.assertTrue(out.startswith(b"-ERR line too long"), out[:100])
            farm.wait_sessions("pop", 1)
        self.assertEqual(farm.session("pop", 1)["close"], "server")


class Rules(unittest.TestCase):
    def test_rule_on_connect_replaces_the_greeting(self):
        scenario = """name: busy
servers:
  pop:
    protocol: pop3
    rules:
      - on: connect
        times: 1
        reply: "-ERR [SYS/TEMP] too busy, come back later"
        then: close
"""
        with Farm(text=scenario) as farm:
            with self.assertRaises(poplib.error_proto) as cm:
                pop(farm)
            self.assertEqual(cm.exception.args[0], b"-ERR [SYS/TEMP] too busy, come back later")
            p = pop(farm)
            self.assertTrue(p.getwelcome().startswith(b"+OK"))
            p.quit()


    def test_quit_then_reset_still_updates(self):
        scenario = """name: quit-reset
servers:
  pop:
    protocol: pop3
    mailboxes:
      alice:
        password: secret
        messages: ["Subject: one\\n\\n", "Subject: two\\n\\n"]
    rules:
      - name: rst-after-quit
        on: QUIT
        then: reset
"""
        with Farm(text=scenario) as farm:
            with socket.create_connection(farm.address("pop"), timeout=10) as sock:
                recv_until(sock, b"\r\n")
                sock.sendall(b"USER alice\r\nPASS secret\r\nDELE 2\r\nQUIT\r\n")
                out = recv_all(sock)
            self.assertTrue(out.endswith(
                b"+OK localhost POP3 server signing off (1 message left)\r\n"), out)
            farm.wait_sessions("pop", 1)
            p = pop(farm)
            p.user("alice")
            p.pass_("secret")
            self.assertEqual(p.stat()[0], 1)
            self.assertEqual(p.retr(1)[1], [b"Subject: one", b""])
            p.quit()
        session = farm.session("pop", 1)
        self.assertEqual(session["close"], "reset")
        self.assertEqual(len(named_events(session, "update")), 1)


if __name__ == "__main__":
    unittest.main()
