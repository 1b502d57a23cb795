"""The nntp fake against bad input over raw sockets: over-long, binary and malformed command
lines, invalid message-ids, ranges, wildmats and dates, posts without the required headers or with
bare-LF line ends, input pipelined behind STARTTLS, and clients that vanish in the middle of a
POST. Each test checks the replies (RFC 3977's codes), that the session goes on (or that the farm
serves the next one), and what the transcript recorded. Every socket has a timeout; nothing
sleeps."""

import socket
import ssl
import struct
import unittest

from farm import Farm, client_bytes, event_bytes, named_events, server_bytes

TIMEOUT = 10  # seconds, for every socket

SCENARIO = """
name: nntp-bad-input
clock: 2026-03-01T12:30:00Z
servers:
  news:
    protocol: nntp
    posting: true
    groups:
      misc.test:
        description: "For testing"
        status: y
        articles:
          - number: 1
            headers:
              From: "alice@example.test"
              Newsgroups: misc.test
              Subject: "one"
              Message-ID: "<1@example.test>"
              Date: "Thu, 01 Jan 2026 00:00:00 +0000"
            body: "hello\\n"
      misc.other:
        description: "Another group"
        status: y
  roomy:
    protocol: nntp
    max_line: 2KiB
    groups:
      misc.test:
        description: "For testing"
        status: y
  secure:
    protocol: nntp
    tls: starttls
    users: {alice: secret}
    groups:
      misc.test:
        description: "For testing"
        status: y
"""

# Replies that carry a multi-line data block (RFC 3977 3.1.1); 211 only after LISTGROUP.
MULTI_LINE = {b"100", b"101", b"215", b"220", b"221", b"222", b"224", b"225", b"230", b"231"}

GOOD_POST = (b"From: Bob <bob@example.test>\r\n"
             b"Newsgroups: misc.test\r\n"
             b"Subject: a good one\r\n"
             b"\r\n"
             b"Accepted.\r\n")


class Raw:
    """An NNTP client over a raw socket: send bytes or a line, read a status line and, when the
    code carries one, its multi-line block (dot-stuffing removed)."""

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=TIMEOUT)
        self.buf = b""
        self.greeting = self.line()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"the server closed the connection after {self.buf!r}")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        line += b"\n"
        if not line.endswith(b"\r\n"):
            raise AssertionError(f"a line without CRLF (RFC 3977 3.1.1): {line!r}")
        return line[:-2]

    def block(self):
        lines = []
        while (line := self.line()) != b".":
            lines.append(line[1:] if line.startswith(b".") else line)
        return lines

    def reply(self, listgroup=False):
        status = self.line()
        multi = status[:3] in MULTI_LINE or (listgroup and status[:3] == b"211")
        return status, (self.block() if multi else None)

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, line, listgroup=False):
        self.send(line + b"\r\n")
        return self.reply(listgroup)

    def code(self, line):
        return int(self.cmd(line)[0][:3])

    def post(self, article, verb=b"POST"):
        """POST (or IHAVE <id>) with an article given with its line ends, dot-stuffed here; returns
        the final status line."""
        status = self.cmd(verb)[0]
        if not status.startswith((b"340", b"335")):
            raise AssertionError(f"{verb!r}: {status!r}")
        stuffed = b"".join(b"." + line if line.startswith(b".") else line
                           for line in article.splitlines(keepends=True))
        self.send(stuffed + b".\r\n")
        return self.line()

    def starttls(self, context, hostname):
        if self.buf:
            raise AssertionError(f"bytes after the 382: {self.buf!r}")
        self.sock = context.wrap_socket(self.sock, server_hostname=hostname)


def commands(session):
    return [(e["command"], e["args"]) for e in session["events"]
            if e.get("from") == "client" and "command" in e]


def command_lines(session):
    """The command lines the transcript recorded, without their line ends."""
    return [event_bytes(e).rstrip(b"\r\n") for e in session["events"]
            if e.get("from") == "client" and "command" in e]


def lf(data):
    return data.replace(b"\r\n", b"\n")


def until_closed(sock):
    """Everything the peer sends until it closes (a reset counts as a close), bounded by the
    socket's timeout."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


class BadInput(unittest.TestCase):
    def setUp(self):
        self.farm = Farm(SCENARIO).start()
        self.addCleanup(self.farm.stop)

    def connect(self, server="news"):
        raw = Raw(self.farm.address(server))
        # news has `posting: true` (200); the others keep the default.
        expected = b"200 " if server == "news" else (b"200 ", b"201 ")
        self.assertTrue(raw.greeting.startswith(expected), raw.greeting)
        return raw

    def finish(self):
        """Stops the farm (every transcript is then whole) and checks it exited cleanly."""
        self.assertEqual(self.farm.stop(), 0, self.farm.stderr)

    def saved(self, event):
        """The article a `post` event saved (`file` when accepted, `rejected_file` when not), as
        it arrived without its dot-stuffing, line ends made LF."""
        path = event.get("file") or event["rejected_file"]
        self.assertTrue(path.startswith("files/news/"), event)
        return lf((self.farm.transcripts / path).read_bytes())

    # --- command lines ------------------------------------------------------------------------

    def test_over_long_lines_get_an_error_and_the_session_goes_on(self):
        # RFC 3977 3.1: a command line is at most 512 octets, CRLF included (and an argument at
        # most 497). NEWNEWS with a 486-octet wildmat is 512 octets.
        at_limit = b"NEWNEWS " + b"x" * 486 + b" 20260101 000000"
        over_limit = b"NEWNEWS " + b"x" * 487 + b" 20260101 000000"
        huge = b"ARTICLE <" + b"x" * 5000 + b"@example.test>"
        # 522 octets, no argument over 497: too long for the default limit, not for 2 KiB.
        roomy_line = b"LISTGROUP " + b"g" * 497 + b" 1-2147483647"
        with self.connect() as raw:
            status, ids = raw.cmd(at_limit)  # a valid line: no article matches
            self.assertEqual((status[:4], ids), (b"230 ", []))
            self.assertIn(raw.code(over_limit), (500, 501))
            self.assertIn(raw.code(huge), (500, 501))
            self.assertEqual(raw.code(b"DATE"), 111)
            self.assertTrue(raw.cmd(b"GROUP misc.test")[0].startswith(b"211 1 1 1 misc.test"))
            self.assertEqual(raw.code(b"QUIT"), 205)
        # max_line raises the limit.
        with self.connect("roomy") as raw:
            self.assertEqual(raw.code(roomy_line), 411)  # a valid line: no such group
            self.assertIn(raw.code(b"LISTGROUP " + b"g" * 3000), (500, 501))
            self.assertEqual(raw.code(b"DATE"), 111)
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        too_long = [event_bytes(e) for e in session["events"] if e.get("too_long")]
        self.assertEqual(too_long, [over_limit + b"\r\n", huge + b"\r\n"])
        self.assertIn(at_limit + b"\r\n" + over_limit + b"\r\n" + huge + b"\r\nDATE\r\n",
                      client_bytes(session))
        self.assertEqual(session["close"], "server")
        roomy_session = self.farm.session("roomy", 1)
        self.assertEqual([event_bytes(e) for e in roomy_session["events"] if e.get("too_long")],
                         [b"LISTGROUP " + b"g" * 3000 + b"\r\n"])

    def test_binary_nul_empty_and_malformed_lines(self):
        with self.connect() as raw:
            for line, codes in [(b"\xff\xfe\xfd", {500}),
                                (b"GR\x00OUP misc.test", {500, 501}),
                                (b"GROUP misc.\x00test", {501, 411}),
                                (b"XYZZY", {500}),
                                (b"GROUP", {501}),
                                (b"GROUP misc.test extra", {501}),
                                (b"DATE now", {501}),
                                (b"ARTICLE 1 2", {501}),
                                (b"LIST ACTIVE misc.* extra", {501}),
                                (b"AUTHINFO", {501, 502})]:
                with self.subTest(line=line):
                    self.assertIn(raw.code(line), codes)
            # A blank line is passed over without a reply, as nnrpd does: DATE's is the next.
            raw.send(b"\r\n")
            self.assertEqual(raw.code(b"DATE"), 111)
            # Commands are case-insensitive (RFC 3977 3.1), a bare LF ends a line as CRLF does,
            # and a UTF-8 group name is just a name that is not there.
            self.assertTrue(raw.cmd(b"group misc.test")[0].startswith(b"211 1 1 1 misc.test"))
            raw.send(b"STAT\n")
            self.assertEqual(raw.reply()[0][:22], b"223 1 <1@example.test>")
            self.assertEqual(raw.code("GROUP grüppe.test".encode()), 411)
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        sent = client_bytes(session)
        # Bytes that are not UTF-8 are kept exactly (as base64 in the document).
        self.assertIn(b"\xff\xfe\xfd\r\nGR\x00OUP misc.test\r\n", sent)
        self.assertIn(b"\r\nSTAT\n", sent)
        self.assertEqual(session["close"], "server")

    def test_commands_pipelined_in_one_write_are_answered_in_order(self):
        with self.connect() as raw:
            raw.send(b"DATE\r\nGROUP misc.test\r\nSTAT\r\nNEXT\r\nARTICLE <nope@example.test>\r\n"
                     b"BODY 1\r\nQUIT\r\n")
            codes = [int(raw.reply()[0][:3]) for _ in range(7)]
            self.assertEqual(until_closed(raw.sock), b"")
        self.assertEqual(codes, [111, 211, 223, 421, 430, 222, 205])
        self.finish()
        self.assertEqual([c for c, _ in commands(self.farm.session("news", 1))],
                         ["DATE", "GROUP", "STAT", "NEXT", "ARTICLE", "BODY", "QUIT"])

    # --- arguments ----------------------------------------------------------------------------

    def test_invalid_message_ids(self):
        # RFC 3977 3.6: "<", 1 to 248 printable octets without ">", ">": at most 250 octets.
        not_ids = [b"<no-closing-bracket@example.test", b"no-opening-bracket@example.test>"]
        bad_ids = [b"<>", b"<" + b"a" * 250 + b"@example.test>", b"<a>b@example.test>",
                   b"<a\x7fb@example.test>"]
        with self.connect() as raw:
            raw.cmd(b"GROUP misc.test")
            for verb in (b"ARTICLE", b"HEAD", b"BODY", b"STAT", b"OVER", b"XOVER"):
                for arg in not_ids:  # neither a number nor a message-id: a syntax error
                    with self.subTest(verb=verb, arg=arg):
                        self.assertEqual(raw.code(verb + b" " + arg), 501)
                for arg in bad_ids:  # an invalid message-id: 501, or not found
                    with self.subTest(verb=verb, arg=arg):
                        self.assertIn(raw.code(verb + b" " + arg), (501, 430))
                self.assertEqual(raw.code(verb + b" <nope@example.test>"), 430)
            self.assertIn(raw.code(b"HDR Subject <>"), (501, 430))
            self.assertIn(raw.code(b"IHAVE <>"), (501, 435))
            # Nothing of that moved the current article.
            self.assertEqual(raw.cmd(b"STAT")[0][:22], b"223 1 <1@example.test>")
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        self.assertEqual(session["close"], "server")
        self.assertIn(b"ARTICLE <a\x7fb@example.test>\r\n", client_bytes(session))

    def test_bad_ranges_and_article_numbers(self):
        with self.connect() as raw:
            # No group selected yet (RFC 3977 6.2, 8.3).
            before_group = (b"OVER 1-5", b"XOVER 1-5", b"HDR Subject 1-5", b"ARTICLE 1", b"STAT",
                            b"NEXT", b"LAST")
            for line in before_group:
                with self.subTest(line=line):
                    self.assertEqual(raw.code(line), 412)
            raw.cmd(b"GROUP misc.test")
            for arg in (b"abc", b"1-2-3", b"1--", b"1-x", b"0x10", b"1-5,7",
                        b"99999999999999999999"):
                for verb in (b"OVER ", b"XOVER ", b"HDR Subject "):
                    with self.subTest(line=verb + arg):
                        self.assertEqual(raw.code(verb + arg), 501)
            # Well-formed ranges with no article in them: 423 (m < n is an empty range).
            for arg in (b"10-3", b"100-200", b"2-"):
                with self.subTest(range=arg):
                    self.assertEqual(raw.code(b"OVER " + arg), 423)
            self.assertEqual(raw.code(b"LISTGROUP misc.test x-y"), 501)
            status, numbers = raw.cmd(b"LISTGROUP misc.test 10-3", listgroup=True)
            self.assertTrue(status.startswith(b"211 1 1 1 misc.test"), status)
            self.assertEqual(numbers, [])
            # Beyond RFC 3977's 2,147,483,647: no such article, or not a number at all.
            self.assertIn(raw.code(b"ARTICLE 4294967296"), (423, 501))
            self.assertIn(raw.code(b"ARTICLE 99999999999999999999999"), (423, 501))
            self.assertEqual(raw.code(b"ARTICLE -1"), 501)
            status, lines = raw.cmd(b"OVER 1")
            self.assertTrue(status.startswith(b"224"), status)
            self.assertEqual([line.split(b"\t")[:2] for line in lines], [[b"1", b"one"]])
            self.assertEqual(raw.cmd(b"STAT")[0][:22], b"223 1 <1@example.test>")
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        self.assertEqual(session["close"], "server")
        # Every line was recorded as a command, exactly as sent.
        recorded = command_lines(session)
        self.assertEqual(recorded[:len(before_group) + 1], [*before_group, b"GROUP misc.test"])
        self.assertIn(b"OVER 1-2-3", recorded)
        self.assertEqual(recorded[-4:], [b"ARTICLE -1", b"OVER 1", b"STAT", b"QUIT"])

    def test_bad_wildmats_dates_and_keywords(self):
        bad = (b"LIST ACTIVE misc.*,,comp.*", b"LIST ACTIVE ,", b"LIST ACTIVE misc.*,",
               b"LIST NEWSGROUPS misc.[a-z", b"LIST ACTIVE misc\\",
               b"NEWNEWS ,, 20260101 000000", b"NEWNEWS misc.* 2026 000000",
               b"NEWNEWS misc.* 20260101", b"NEWGROUPS 20261301 000000",
               b"NEWGROUPS 20260101 250000", b"NEWGROUPS yesterday 000000",
               b"NEWGROUPS 20260101 000000 UTC", b"LIST NOSUCHKEYWORD")
        with self.connect() as raw:
            for line in bad:
                with self.subTest(line=line):
                    self.assertEqual(raw.code(line), 501)
            # Valid ones: no match, negation, "?" and a character class.
            for line, groups in [(b"LIST ACTIVE nothing.*", []),
                                 (b"LIST ACTIVE *,!misc.other", [b"misc.test"]),
                                 (b"LIST ACTIVE misc.tes?", [b"misc.test"]),
                                 (b"LIST ACTIVE misc.[op]*", [b"misc.other"])]:
                with self.subTest(line=line):
                    status, lines = raw.cmd(line)
                    self.assertTrue(status.startswith(b"215"), status)
                    self.assertEqual([line.split()[0] for line in lines], groups)
            status, lines = raw.cmd(b"NEWGROUPS 20260101 000000 GMT")
            self.assertTrue(status.startswith(b"231"), status)
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        self.assertEqual(session["close"], "server")
        self.assertEqual(command_lines(session)[:len(bad)], list(bad))
        self.assertEqual(server_bytes(session).count(b"\r\n501 "), len(bad))

    # --- posting ------------------------------------------------------------------------------

    def test_posts_without_required_headers_get_441_and_are_recorded(self):
        refused = [
            ("no Subject", b"From: a@example.test\r\nNewsgroups: misc.test\r\n\r\nno subject\r\n"),
            ("no From", b"Newsgroups: misc.test\r\nSubject: no from\r\n\r\nno from\r\n"),
            ("no Newsgroups", b"From: a@example.test\r\nSubject: nowhere\r\n\r\nnowhere\r\n"),
            ("no such group", b"From: a@example.test\r\nNewsgroups: no.such.group\r\n"
                              b"Subject: lost\r\n\r\nlost\r\n"),
            ("no header", b"just a line of text\r\n"),
            ("empty", b""),
        ]
        with self.connect() as raw:
            for name, article in refused:
                with self.subTest(name):
                    self.assertEqual(raw.post(article)[:4], b"441 ")
            self.assertTrue(raw.cmd(b"GROUP misc.test")[0].startswith(b"211 1 1 1 misc.test"))
            self.assertEqual(raw.post(GOOD_POST)[:4], b"240 ")
            self.assertTrue(raw.cmd(b"GROUP misc.test")[0].startswith(b"211 2 1 2 misc.test"))
            # IHAVE refuses after the transfer with 437 (RFC 3977 6.3.2).
            self.assertEqual(raw.post(refused[0][1].replace(b"\r\n\r\n",
                                                            b"\r\nMessage-ID: <x@example.test>"
                                                            b"\r\n\r\n"),
                                      verb=b"IHAVE <x@example.test>")[:4], b"437 ")
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        posts = named_events(session, "post")
        self.assertEqual([(p["via"], p["accepted"], p["reply"]) for p in posts],
                         [("POST", False, 441)] * 6 + [("POST", True, 240), ("IHAVE", False, 437)])
        self.assertTrue(all(p["reason"] for p in posts if not p["accepted"]), posts)
        # Nothing is lost: every article, refused or not, is saved as it arrived; `file` names
        # the accepted one (what `verify`'s payloads see), `rejected_file` the others.
        articles = [a for _, a in refused] + [GOOD_POST]
        for post, article in zip(posts, articles):
            with self.subTest(post=post):
                self.assertEqual("file" in post, post["accepted"])
                self.assertTrue((post.get("file") or post["rejected_file"])
                                .startswith("files/news/1/"), post)
                self.assertEqual(self.saved(post), lf(article))
        self.assertEqual(posts[6]["groups"], {"misc.test": 2})
        self.assertRegex(posts[6]["message_id"], r"^<[^<>\s@]+@[^<>\s@]+>$")

    def test_a_bare_lf_body_is_read_to_its_end_and_nothing_is_lost(self):
        article = (b"From: a@example.test\r\nNewsgroups: misc.test\r\nSubject: bare LF\r\n"
                   b"Message-ID: <bare-lf@example.test>\r\n\r\n"
                   b"line one\nline two\nline three\r\n")
        with self.connect() as raw:
            status = raw.post(article)
            code = int(status[:3])
            self.assertIn(code, (240, 441), status)
            # The session goes on: nothing of the body is taken as a command.
            self.assertEqual(raw.code(b"DATE"), 111)
            if code == 240:
                status, lines = raw.cmd(b"BODY <bare-lf@example.test>")  # sent with CRLF
                self.assertTrue(status.startswith(b"222"), status)
                self.assertEqual(lines, [b"line one", b"line two", b"line three"])
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        post = named_events(session, "post")[0]
        self.assertEqual(post["accepted"], code == 240)
        self.assertEqual(post["bare_lf_lines"], 2)
        self.assertIn(b"line one\nline two\nline three\n", self.saved(post))

    def test_a_bare_lf_dot_line_does_not_end_a_post(self):
        # RFC 3977 3.1.1: only CRLF "." CRLF ends a block (as smtp's strict DATA). A "." line
        # after a bare LF is the article's: an undoubled dot, so the article is refused, whole,
        # and nothing of it is read as a command.
        article = (b"From: a@example.test\r\nNewsgroups: misc.test\r\nSubject: a dot line\r\n"
                   b"Message-ID: <dot@example.test>\r\n\r\n"
                   b"line one\n.\nline two\r\n")
        with self.connect() as raw:
            self.assertEqual(raw.cmd(b"POST")[0][:4], b"340 ")
            raw.send(article + b".\r\n")
            status = raw.line()
            self.assertEqual(status[:4], b"441 ", status)
            self.assertIn(b"Line 7 without its initial dot doubled", status)
            self.assertEqual(raw.code(b"DATE"), 111)
            self.assertEqual(raw.code(b"STAT <dot@example.test>"), 430)
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("news", 1)
        [post] = named_events(session, "post")
        self.assertFalse(post["accepted"])
        self.assertEqual(post["reply"], 441)
        self.assertEqual(post["bare_lf_lines"], 2)
        self.assertEqual(self.saved(post), lf(article))
        self.assertEqual([c for c, _ in commands(session)], ["POST", "DATE", "STAT", "QUIT"])

    def test_a_client_that_vanishes_in_the_middle_of_post(self):
        partial = (b"From: a@example.test\r\nNewsgroups: misc.test\r\nSubject: cut\r\n\r\n"
                   b"partial bo")
        # An abortive close (RST), as a crashing client leaves it ...
        raw = self.connect()
        self.assertEqual(raw.cmd(b"POST")[0][:4], b"340 ")
        raw.send(partial)
        raw.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        raw.sock.close()
        self.farm.wait_sessions("news", 1)
        # ... and a clean one (FIN) without the end of the article.
        raw = self.connect()
        self.assertEqual(raw.cmd(b"POST")[0][:4], b"340 ")
        raw.send(partial)
        raw.sock.shutdown(socket.SHUT_WR)
        until_closed(raw.sock)  # the server closes too, once it has seen the end of input
        raw.sock.close()
        self.farm.wait_sessions("news", 2)
        # The farm goes on serving, and neither article was taken.
        with self.connect() as raw:
            self.assertTrue(raw.cmd(b"GROUP misc.test")[0].startswith(b"211 1 1 1 misc.test"))
            self.assertEqual(raw.post(GOOD_POST)[:4], b"240 ")
            self.assertTrue(raw.cmd(b"GROUP misc.test")[0].startswith(b"211 2 1 2 misc.test"))
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        for n, closes in ((1, ("reset", "client")), (2, ("client",))):
            with self.subTest(session=n):
                session = self.farm.session("news", n)
                self.assertEqual(commands(session), [("POST", "")])
                self.assertIn(session["close"], closes)
                [post] = named_events(session, "post")
                self.assertEqual((post["complete"], post["accepted"], post["reason"]),
                                 (False, False, "incomplete"))
                self.assertNotIn("file", post)
                kept = self.saved(post)
                if n == 2:  # a FIN comes after the bytes before it: all of them were read
                    self.assertEqual(kept, lf(partial))
                    self.assertIn(partial, client_bytes(session))
                else:  # a reset may overtake bytes the server had not read yet
                    self.assertTrue(lf(partial).startswith(kept), kept)
        self.assertTrue(named_events(self.farm.session("news", 3), "post")[0]["accepted"])

    # --- STARTTLS -----------------------------------------------------------------------------

    def test_input_pipelined_behind_starttls_is_discarded(self):
        context = ssl.create_default_context(cafile=self.farm.ca)
        with self.connect("secure") as raw:
            raw.send(b"STARTTLS\r\nAUTHINFO USER mallory\r\n")  # one write: the USER must not count
            self.assertEqual(raw.line()[:4], b"382 ")
            raw.starttls(context, self.farm.host("secure"))
            self.assertEqual(raw.code(b"AUTHINFO PASS secret"), 482)  # no USER before it
            self.assertEqual(raw.code(b"STARTTLS"), 502)  # RFC 4642 2.2.2: TLS is already on
            self.assertEqual(raw.code(b"AUTHINFO USER alice"), 381)
            self.assertEqual(raw.code(b"AUTHINFO PASS secret"), 281)
            self.assertEqual(raw.code(b"QUIT"), 205)
        self.finish()
        session = self.farm.session("secure", 1)
        discarded = [event_bytes(e) for e in session["events"] if e.get("discarded")]
        self.assertEqual(discarded, [b"AUTHINFO USER mallory\r\n"])
        self.assertEqual(len(named_events(session, "tls")), 1)
        self.assertEqual([e["user"] for e in named_events(session, "login")], ["alice"])
        self.assertNotIn(b"mallory", server_bytes(session))


if __name__ == "__main__":
    unittest.main()
