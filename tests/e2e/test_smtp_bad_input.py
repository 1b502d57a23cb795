"""The smtp fake against bad input over raw sockets: what a strict server answers, that the
session goes on where a real one would, and that every byte is recorded."""

import unittest

from farm import Farm, client_bytes, named_events, server_bytes
from smtp_util import Raw, commands, data_bytes, messages, saved, verbs

SCENARIO = """
name: smtp-bad-input
servers:
  mail:
    protocol: smtp
    tls: starttls
    size_limit: 2000
  lenient:
    protocol: smtp
    end_of_data: lenient
"""


class BadInput(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.farm = Farm(SCENARIO).start()
        cls.sessions = {"mail": 0, "lenient": 0}

    @classmethod
    def tearDownClass(cls):
        cls.farm.stop()

    def connect(self, server="mail"):
        """A new client; returns (Raw, session number)."""
        self.sessions[server] += 1
        raw = Raw(self.farm.address(server))
        self.assertTrue(raw.reply().startswith(b"220 "))
        return raw, self.sessions[server]

    def finished(self, n, server="mail"):
        self.farm.wait_sessions(server, n)
        return self.farm.session(server, n)

    def greet(self, raw):
        self.assertTrue(raw.cmd(b"EHLO client.test").startswith(b"250-localhost"))

    def test_command_line_over_512_octets(self):
        raw, n = self.connect()
        with raw:
            long_line = b"NOOP " + b"x" * 600
            self.assertEqual(raw.cmd(long_line), b"500 5.5.2 Error: line too long\r\n")
            # The rest of the line was discarded; the session goes on.
            self.assertEqual(raw.cmd(b"NOOP"), b"250 2.0.0 Ok\r\n")
            huge = b"X" * 100000  # longer than even an AUTH line, in several reads
            self.assertEqual(raw.cmd(huge), b"500 5.5.2 Error: line too long\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 2.0.0 Bye\r\n")
        s = self.finished(n)
        self.assertEqual(client_bytes(s), long_line + b"\r\nNOOP\r\n" + huge + b"\r\nQUIT\r\n")
        too_long = [e for e in s["events"] if e.get("too_long")]
        self.assertTrue(too_long)
        self.assertFalse(any("command" in e for e in too_long))  # not commands: never read
        self.assertEqual(verbs(s), ["NOOP", "QUIT"])

    def test_auth_line_may_be_longer_than_512(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            # No users: the line is read as AUTH (not "too long"); the mechanism decides.
            reply = raw.cmd(b"AUTH PLAIN " + b"QUFB" * 300)
            self.assertNotIn(b"too long", reply)
            raw.cmd(b"QUIT")
        self.finished(n)

    def test_text_line_over_1000_octets(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            raw.cmd(b"MAIL FROM:<a@example.test>")
            raw.cmd(b"RCPT TO:<b@example.test>")
            self.assertTrue(raw.cmd(b"DATA").startswith(b"354 "))
            body = b"short\r\n" + b"y" * 1500 + b"\r\nafter\r\n.\r\n"
            raw.send(body)
            self.assertEqual(raw.reply(), b"500 5.5.2 Error: line too long\r\n")
            self.assertEqual(raw.cmd(b"NOOP"), b"250 2.0.0 Ok\r\n")
            raw.cmd(b"QUIT")
        s = self.finished(n)
        [m] = messages(s)
        self.assertFalse(m["accepted"])
        self.assertEqual(m["reason"], "line_too_long")
        self.assertEqual(m["long_lines"], 1)
        self.assertNotIn("file", m)
        self.assertEqual(data_bytes(s), body)

    def test_eight_bit_and_nul_in_commands(self):
        raw, n = self.connect()
        with raw:
            self.assertEqual(raw.cmd("NOOP café".encode()),
                             b"500 5.5.2 Error: 8-bit character in command\r\n")
            self.assertEqual(raw.cmd(b"NO\x00OP"), b"500 5.5.2 Error: NUL character in command\r\n")
            self.assertEqual(raw.cmd(b"\xff\xfe\xfd"),
                             b"500 5.5.2 Error: 8-bit character in command\r\n")
            self.greet(raw)
            self.assertEqual(raw.cmd("MAIL FROM:<jörg@example.test>".encode()),
                             b"553 5.6.7 Must declare SMTPUTF8 to send a UTF-8 address\r\n")
            raw.cmd(b"QUIT")
        s = self.finished(n)
        self.assertIn(b"NO\x00OP\r\n\xff\xfe\xfd\r\n", client_bytes(s))

    def test_out_of_sequence(self):
        raw, n = self.connect()
        with raw:
            self.assertEqual(raw.cmd(b"MAIL FROM:<a@example.test>"),
                             b"503 5.5.1 Error: send HELO/EHLO first\r\n")
            self.greet(raw)
            self.assertEqual(raw.cmd(b"RCPT TO:<b@example.test>"),
                             b"503 5.5.1 Error: need MAIL command\r\n")
            self.assertEqual(raw.cmd(b"DATA"), b"503 5.5.1 Error: need MAIL command\r\n")
            raw.cmd(b"MAIL FROM:<a@example.test>")
            self.assertEqual(raw.cmd(b"DATA"), b"503 5.5.1 Error: need RCPT command\r\n")
            self.assertEqual(raw.cmd(b"MAIL FROM:<a@example.test>"),
                             b"503 5.5.1 Error: nested MAIL command\r\n")
            self.assertEqual(raw.cmd(b"FROB"), b"500 5.5.2 Error: command not recognized\r\n")
            self.assertEqual(raw.cmd(b""), b"500 5.5.2 Error: bad syntax\r\n")
            raw.cmd(b"QUIT")
        self.finished(n)

    def test_disconnect_in_the_middle_of_data(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            raw.cmd(b"MAIL FROM:<a@example.test>")
            raw.cmd(b"RCPT TO:<b@example.test>")
            raw.cmd(b"DATA")
            raw.send(b"Subject: cut\r\n\r\nthe first half\r\nand a partial li")
        s = self.finished(n)
        self.assertEqual(s["close"], "client")
        [m] = messages(s)
        self.assertFalse(m["complete"])
        self.assertFalse(m["accepted"])
        self.assertEqual(saved(self.farm, m, "rejected_file"),
                         b"Subject: cut\r\n\r\nthe first half\r\nand a partial li")
        self.assertEqual(data_bytes(s), b"Subject: cut\r\n\r\nthe first half\r\nand a partial li")

    def test_commands_pipelined_behind_starttls_are_discarded(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            raw.send(b"STARTTLS\r\nMAIL FROM:<injected@example.test>\r\n")
            self.assertEqual(raw.reply(), b"220 2.0.0 Ready to start TLS\r\n")
            raw.starttls(self.farm.ca)
            # A fresh session: no EHLO yet, no transaction from before.
            self.assertEqual(raw.cmd(b"RCPT TO:<b@example.test>"),
                             b"503 5.5.1 Error: need MAIL command\r\n")
            ehlo = raw.cmd(b"EHLO client.test")
            self.assertNotIn(b"STARTTLS", ehlo)
            raw.cmd(b"QUIT")
        s = self.finished(n)
        [discarded] = [e for e in s["events"] if e.get("discarded")]
        self.assertEqual(discarded["text"], "MAIL FROM:<injected@example.test>\r\n")
        self.assertNotIn("MAIL", verbs(s))
        self.assertEqual(len(named_events(s, "tls")), 1)

    def test_smuggling_strict_keeps_bare_lf_forms_as_content(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            raw.cmd(b"MAIL FROM:<a@example.test>")
            raw.cmd(b"RCPT TO:<b@example.test>")
            raw.cmd(b"DATA")
            body = (b"Subject: s\r\n\r\nhello\n.\nMAIL FROM:<evil@example.test>\r\n"
                    b"RCPT TO:<victim@example.test>\r\n.\r\n")
            raw.send(body)
            self.assertTrue(raw.reply().startswith(b"250 2.0.0 Ok: queued as "))
            raw.cmd(b"QUIT")
        s = self.finished(n)
        [m] = messages(s)
        self.assertEqual(m["bare_lf_lines"], 2)
        self.assertIn(b"\n.\nMAIL FROM:<evil@example.test>\r\n", saved(self.farm, m))
        self.assertEqual(verbs(s), ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"])

    def test_smuggling_lenient_ends_data_at_lf_dot_lf(self):
        raw, n = self.connect("lenient")
        with raw:
            self.greet(raw)
            raw.cmd(b"MAIL FROM:<a@example.test>")
            raw.cmd(b"RCPT TO:<b@example.test>")
            raw.cmd(b"DATA")
            raw.send(b"Subject: s\r\n\r\nhello\n.\nMAIL FROM:<evil@example.test>\r\n")
            self.assertTrue(raw.reply().startswith(b"250 2.0.0 Ok: queued as "))
            self.assertEqual(raw.reply(), b"250 2.1.0 Ok\r\n")  # the smuggled MAIL
            raw.cmd(b"QUIT")
        s = self.finished(n, "lenient")
        [m] = messages(s)
        self.assertEqual(saved(self.farm, m), b"Subject: s\r\n\r\nhello\n")
        self.assertEqual(verbs(s), ["EHLO", "MAIL", "RCPT", "DATA", "MAIL", "QUIT"])

    def test_bdat(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            raw.cmd(b"MAIL FROM:<a@example.test> BODY=8BITMIME")
            raw.cmd(b"RCPT TO:<b@example.test>")
            # The chunk may contain anything, a lone "." line and CRLFs included.
            raw.send(b"BDAT 12\r\nSubject: x\r\n")
            self.assertEqual(raw.reply(), b"250 2.0.0 Ok: 12 octets received\r\n")
            self.assertEqual(raw.cmd(b"DATA"), b"503 5.5.1 Error: DATA after BDAT\r\n")
            raw.send(b"BDAT 9 LAST\r\n\r\n.\r\nhi\r\nNOOP\r\n")  # pipelined behind the chunk
            self.assertTrue(raw.reply().startswith(b"250 2.0.0 Ok: queued as "))
            self.assertEqual(raw.reply(), b"250 2.0.0 Ok\r\n")
            raw.cmd(b"QUIT")
        s = self.finished(n)
        [m] = messages(s)
        self.assertEqual(m["via"], "BDAT")
        self.assertEqual(m["body"], "8BITMIME")
        self.assertEqual(saved(self.farm, m), b"Subject: x\r\n\r\n.\r\nhi\r\n")
        self.assertEqual(data_bytes(s), b"Subject: x\r\n\r\n.\r\nhi\r\n")
        self.assertEqual(verbs(s), ["EHLO", "MAIL", "RCPT", "BDAT", "DATA", "BDAT", "NOOP", "QUIT"])

    def test_bdat_without_a_transaction_still_reads_the_chunk(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            raw.send(b"BDAT 6 LAST\r\nQUIT\r\n")  # the chunk is not a command
            self.assertEqual(raw.reply(), b"503 5.5.1 Error: need MAIL command\r\n")
            self.assertEqual(raw.cmd(b"NOOP"), b"250 2.0.0 Ok\r\n")
            raw.cmd(b"QUIT")
        self.finished(n)

    def test_disconnect_in_the_middle_of_a_chunk(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            raw.cmd(b"MAIL FROM:<a@example.test>")
            raw.cmd(b"RCPT TO:<b@example.test>")
            raw.send(b"BDAT 100 LAST\r\nonly part")
        s = self.finished(n)
        [m] = messages(s)
        self.assertFalse(m["complete"])
        self.assertEqual(saved(self.farm, m, "rejected_file"), b"only part")

    def test_size_limit(self):
        raw, n = self.connect()
        with raw:
            self.greet(raw)
            self.assertEqual(raw.cmd(b"MAIL FROM:<a@example.test> SIZE=2001"),
                             b"552 5.3.4 Message size exceeds fixed limit\r\n")
            raw.cmd(b"MAIL FROM:<a@example.test> SIZE=10")
            raw.cmd(b"RCPT TO:<b@example.test>")
            raw.cmd(b"DATA")
            raw.send((b"z" * 99 + b"\r\n") * 30 + b".\r\n")
            self.assertEqual(raw.reply(), b"552 5.3.4 Message size exceeds fixed limit\r\n")
            raw.cmd(b"QUIT")
        s = self.finished(n)
        [m] = messages(s)
        self.assertEqual(m["reason"], "size")
        self.assertEqual(m["size"], 3030)
        self.assertTrue(m["truncated"])
        self.assertEqual(m["declared_size"], 10)

    def test_bare_lf_commands_and_a_partial_last_line(self):
        raw, n = self.connect()
        with raw:
            raw.send(b"NOOP\n")
            self.assertEqual(raw.reply(), b"250 2.0.0 Ok\r\n")
            raw.send(b"NOO")
        s = self.finished(n)
        events = [e for e in s["events"] if e.get("from") == "client"]
        self.assertTrue(events[0]["bare_lf"])
        self.assertTrue(events[-1]["partial"])
        self.assertEqual(client_bytes(s), b"NOOP\nNOO")

    def test_garbage(self):
        raw, n = self.connect()
        with raw:
            junk = bytes(range(256)) * 8
            raw.send(junk + b"\r\nQUIT\r\n")
            replies = raw.read_until_closed()
            self.assertTrue(replies.endswith(b"221 2.0.0 Bye\r\n"), replies)
        s = self.finished(n)
        self.assertEqual(client_bytes(s), junk + b"\r\nQUIT\r\n")


if __name__ == "__main__":
    unittest.main()
