"""The nntp fake with real clients: Python's nntplib (deprecated, but in Debian 12's Python 3.11)
and `openssl s_client -starttls nntp`, over plain TCP, STARTTLS and implicit TLS, and the example
scenarios (scenarios/nntp-*.yaml), each used by a test here (ExamplesAreTested). Each test checks
what the client got and what the transcript recorded.

nntplib's conversation, which the recorded commands below follow (see nntplib.py):
- on connect it reads the greeting and sends CAPABILITIES; it sends MODE READER only when asked
  to (readermode=True) and READER is not advertised, which these tests never ask;
- login() sends "authinfo user NAME" and "authinfo pass PASSWORD" in lower case, then
  CAPABILITIES again; starttls() sends STARTTLS, expects 382, then CAPABILITIES again;
- over() sends OVER when CAPABILITIES lists OVER (XOVER otherwise) with "N-M" or "N-", and the
  first over()/xover() of a connection then sends LIST OVERVIEW.FMT;
- post() and ihave() send the article with CRLF line ends, dot-stuffed, then ".";
- list(pattern) sends "LIST ACTIVE pattern", descriptions() "LIST NEWSGROUPS pattern",
  newgroups()/newnews() "YYYYMMDD HHMMSS" (4-digit years once VERSION 2 is advertised).
4xx replies raise NNTPTemporaryError, 5xx NNTPPermanentError (their .response is the line).
"""

import ast
import base64
import datetime
import email.utils
import os
import re
import shutil
import socket
import ssl
import subprocess
import unittest
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # nntplib is deprecated (PEP 594) and warns when imported; it is what is being tested with.
    warnings.simplefilter("ignore", DeprecationWarning)
    import nntplib

from farm import PROTOFARM, SCENARIOS, Farm, client_bytes, named_events, run, server_bytes

TIMEOUT = 10  # seconds, for every client socket
OPENSSL = shutil.which("openssl")
MSGID = re.compile(r"^<[^<>\s@]+@[^<>\s@]+>$")
# RFC 3977 8.4: the first seven lines of LIST OVERVIEW.FMT (Bytes:/Lines: are the older names).
OVERVIEW_FMT = ["subject:", "from:", "date:", "message-id:", "references:", ":bytes", ":lines"]
# Replies that carry a multi-line data block (RFC 3977 3.1.1); 211 only after LISTGROUP.
MULTI_LINE = {b"100", b"101", b"215", b"220", b"221", b"222", b"224", b"225", b"230", b"231"}


def example(name):
    return SCENARIOS / name


def news(farm, server="news", **kwargs):
    return nntplib.NNTP(farm.host(server), farm.port(server), timeout=TIMEOUT, **kwargs)


def context(farm):
    return ssl.create_default_context(cafile=farm.ca)


def logged_in(farm, user, password, server="news"):
    """An nntplib client that has upgraded with STARTTLS and logged in."""
    s = news(farm, server)
    s.starttls(context(farm))
    s.login(user, password)
    return s


def commands(session):
    """The (command, args) pairs the transcript recorded, in order."""
    return [(e["command"], e["args"]) for e in session["events"]
            if e.get("from") == "client" and "command" in e]


def one(session, name):
    found = named_events(session, name)
    if len(found) != 1:
        raise AssertionError(f"expected one {name} event, found {found}")
    return found[0]


def saved(farm, event):
    """The article a `post` event's file holds (`file` when it was accepted, `rejected_file`
    when not), as it arrived without its dot-stuffing, line ends made LF."""
    return lf((farm.transcripts / (event.get("file") or event["rejected_file"])).read_bytes())


def lf(data):
    return data.replace(b"\r\n", b"\n")


def split_article(lines):
    """(headers, body) of an article's lines as nntplib returns them (no line ends, dot-stuffing
    removed): headers as a dict with lower-case names (folded lines joined), body as lines."""
    headers, name = {}, None
    for i, line in enumerate(lines):
        if line == b"":
            return headers, lines[i + 1:]
        text = line.decode()
        if text[:1] in (" ", "\t") and name:
            headers[name] += " " + text.strip()
            continue
        name, _, value = text.partition(":")
        name = name.lower()
        headers[name] = value.strip()
    return headers, []


def header_lines(lines):
    return lines[:lines.index(b"")]


def octets(lines):
    """RFC 3977 8.1.1 :bytes: the article's octets, CRLF counted as two, no dot-stuffing."""
    return sum(len(line) + 2 for line in lines)


def utc(value):
    parsed = email.utils.parsedate_to_datetime(value)
    if parsed.tzinfo is None:  # "-0000": UTC, with no claim about the local time zone
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed.astimezone(datetime.timezone.utc)


def epoch(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def assert_empty_marks(test, count, low, high):
    """RFC 3977 6.1.1.2: an empty group is reported with high = low - 1 and a count of 0, or as
    0 0 0, or (not done here) with high >= low."""
    test.assertEqual(count, 0)
    test.assertTrue(high == low - 1 or (low, high) == (0, 0), (count, low, high))


def sanitized():
    """Whether protofarm runs under AddressSanitizer (whose shadow memory counts in its RSS)."""
    if os.environ.get("ASAN_OPTIONS"):
        return True
    ldd = shutil.which("ldd")
    if not ldd:
        return False
    out = subprocess.run([ldd, PROTOFARM], capture_output=True, text=True, timeout=30)
    return bool(re.search(r"lib(asan|ubsan)", out.stdout))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS line in /proc/{pid}/status")


class Raw:
    """An NNTP client over a raw socket: send a line, read a status line and, when the code
    carries one, the multi-line block (dot-stuffing removed). Every read is bounded by TIMEOUT."""

    def __init__(self, farm, server="news", tls_context=None):
        sock = socket.create_connection(farm.address(server), timeout=TIMEOUT)
        if tls_context is not None:
            sock = tls_context.wrap_socket(sock, server_hostname=farm.host(server))
        self.sock = sock
        self.buf = b""
        self.greeting = self.status()

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

    def status(self):
        return self.line()

    def block(self):
        lines = []
        while (line := self.line()) != b".":
            lines.append(line[1:] if line.startswith(b".") else line)
        return lines

    def reply(self, listgroup=False):
        status = self.status()
        multi = status[:3] in MULTI_LINE or (listgroup and status[:3] == b"211")
        return status, (self.block() if multi else None)

    def cmd(self, line, listgroup=False):
        self.sock.sendall(line + b"\r\n")
        return self.reply(listgroup)

    def code(self, line):
        return int(self.cmd(line)[0][:3])


# --- articles the tests post --------------------------------------------------------------------

FIRST_POST = (b"From: Alice <alice@example.test>\r\n"
              b"Newsgroups: misc.test\r\n"
              b"Subject: first post\r\n"
              b"Message-ID: <post-1@example.test>\r\n"
              b"Date: Sun, 01 Mar 2026 12:00:00 +0000\r\n"
              b"\r\n"
              b"Hello, misc.test.\r\n"
              b".a line that begins with a dot\r\n"
              b".\r\n"
              b"bye\r\n")
FIRST_BODY = [b"Hello, misc.test.", b".a line that begins with a dot", b".", b"bye"]
# As nntplib sends it: every line that begins with "." gets another (RFC 3977 3.1.1).
FIRST_BODY_ON_THE_WIRE = (b"\r\n\r\nHello, misc.test.\r\n..a line that begins with a dot\r\n"
                          b"..\r\nbye\r\n.\r\n")

NO_ID_POST = (b"From: Alice <alice@example.test>\r\n"
              b"Newsgroups: misc.test\r\n"
              b"Subject: no Message-ID, no Date\r\n"
              b"\r\n"
              b"The server adds them.\r\n")

CROSS_POST = (b"From: Alice <alice@example.test>\r\n"
              b"Newsgroups: misc.test,misc.test.followups\r\n"
              b"Subject: in two groups\r\n"
              b"Message-ID: <cross@example.test>\r\n"
              b"\r\n"
              b"One article, two groups, one message-id.\r\n")


def ihave_article(message_id, newsgroups=True):
    head = b"Path: peer.example.test!not-for-mail\r\nFrom: Peer <peer@example.test>\r\n"
    if newsgroups:
        head += b"Newsgroups: misc.test\r\n"
    return (head + b"Subject: offered by a peer\r\nMessage-ID: " + message_id.encode() + b"\r\n"
            b"Date: Sun, 01 Mar 2026 11:00:00 +0000\r\n\r\nTransferred with IHAVE.\r\n")


# --- the examples -------------------------------------------------------------------------------

class Validate(unittest.TestCase):
    def test_every_example_validates_and_says_what_it_shows(self):
        paths = sorted(SCENARIOS.glob("nntp-*.yaml"))
        self.assertGreaterEqual(len(paths), 8, paths)
        for path in paths:
            with self.subTest(path.name):
                result = run("validate", path)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertTrue(path.read_text().startswith("# "), f"{path}: no comment header")

    def test_mistakes_are_reported_with_line_and_column(self):
        farm = Farm(text="""name: bad
servers:
  news:
    protocol: nntp
    groups:
      misc.test:
        status: x
    rules:
      - on: ARTICEL
        reply: "430 No article with that message-id"
""")
        result = run("validate", farm.scenario)
        out = result.stdout + result.stderr
        self.assertEqual(result.returncode, 2, out)
        self.assertRegex(out, r"scenario\.yaml:7:\d+: error: .*(status|moderated)")
        self.assertRegex(out, r"scenario\.yaml:9:\d+: error: .*ARTICEL.*did you mean 'ARTICLE'")


class ExamplesAreTested(unittest.TestCase):
    def test_every_nntp_example_is_used_by_a_test(self):
        # Each scenarios/nntp-*.yaml is named in a test_* method of this file (not only in a
        # list), and every example a test names exists.
        tree = ast.parse(Path(__file__).read_text())
        used = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for inner in ast.walk(node):
                    if (isinstance(inner, ast.Constant) and isinstance(inner.value, str)
                            and re.fullmatch(r"nntp-[\w.-]+\.yaml", inner.value)):
                        used.add(inner.value)
        files = {p.name for p in SCENARIOS.glob("nntp-*.yaml")}
        self.assertEqual(sorted(files - used), [], "examples no test uses")
        self.assertEqual(sorted(used - files), [], "examples tests name that do not exist")


class Read(unittest.TestCase):
    """nntp-read.yaml: a read-only server, comp.lang.python with articles 3, 7 and 10."""

    ARTICLE_7 = (SCENARIOS / "nntp-read-article.eml").read_bytes().split(b"\n")[:-1]

    def test_greeting_capabilities_and_mode_reader(self):
        with Farm(path=example("nntp-read.yaml")) as farm:
            s = news(farm)
            welcome = s.getwelcome()
            caps = s.getcapabilities()
            bye = s.quit()
            with Raw(farm) as raw:
                greeting = raw.greeting
                mode = raw.cmd(b"MODE READER")[0]
                again = raw.cmd(b"CAPABILITIES")
                raw.cmd(b"QUIT")
            farm.wait_sessions("news", 2)
        self.assertEqual(farm.returncode, 0, farm.stderr)
        # posting: false: 201, and POST is not a capability (RFC 3977 5.1.1, 3.3.2).
        self.assertTrue(welcome.startswith("201 "), welcome)
        self.assertEqual(greeting, welcome.encode())
        self.assertEqual(caps["VERSION"], ["2"])
        self.assertIn("READER", caps)
        self.assertNotIn("POST", caps)
        self.assertNotIn("STARTTLS", caps)  # tls: none
        for capability in ("OVER", "HDR", "NEWNEWS"):
            self.assertIn(capability, caps)
        self.assertLessEqual({"ACTIVE", "NEWSGROUPS", "OVERVIEW.FMT"}, set(caps["LIST"]))
        self.assertTrue(bye.startswith("205 "), bye)
        # MODE READER on a reader server: the same 200/201 as the greeting (RFC 3977 5.3).
        self.assertTrue(mode.startswith(b"201 "), mode)
        self.assertTrue(again[0].startswith(b"101 "), again)
        self.assertEqual(again[1][0], b"VERSION 2")
        first, second = farm.sessions("news")
        self.assertEqual(commands(first), [("CAPABILITIES", ""), ("QUIT", "")])
        self.assertTrue(server_bytes(first).startswith(greeting + b"\r\n101 "))
        self.assertEqual(first["close"], "server")
        self.assertEqual(commands(second), [("MODE", "READER"), ("CAPABILITIES", ""),
                                            ("QUIT", "")])

    def test_group_over_xover_and_the_current_article(self):
        with Farm(path=example("nntp-read.yaml")) as farm:
            s = news(farm)
            resp, count, low, high, name = s.group("comp.lang.python")
            _, over = s.over((3, 10))
            _, xover = s.xover(3, 10)
            _, over_all = s.over((1, None))
            _, over_id = s.over("<7@example.test>")
            # GROUP made the first article current (RFC 3977 6.1.1).
            stat = s.stat()
            nexts = [s.next(), s.next()]
            with self.assertRaises(nntplib.NNTPTemporaryError) as no_next:
                s.next()
            lasts = [s.last(), s.last()]
            with self.assertRaises(nntplib.NNTPTemporaryError) as no_last:
                s.last()
            articles = {n: s.article(n)[1].lines for n in (3, 7, 10)}
            s.quit()
        self.assertTrue(resp.startswith("211 3 3 10 comp.lang.python"), resp)
        self.assertEqual((count, low, high, name), (3, 3, 10, "comp.lang.python"))
        self.assertEqual([n for n, _ in over], [3, 7, 10])
        self.assertEqual(xover, over)
        self.assertEqual(over_all, over)
        # By message-id: the number is 0, or the article's number in the selected group.
        self.assertEqual(len(over_id), 1)
        self.assertIn(over_id[0][0], (0, 7))
        self.assertEqual(over_id[0][1], over[1][1])
        # Overview data is computed from the articles (RFC 3977 8.3, 8.1.1).
        for number, fields in over:
            with self.subTest(article=number):
                lines = articles[number]
                headers, body = split_article(lines)
                for field in ("subject", "from", "date", "message-id"):
                    self.assertEqual(fields[field], headers[field])
                self.assertEqual(fields["references"], headers.get("references", ""))
                self.assertEqual(int(fields[":bytes"]), octets(lines))
                self.assertEqual(int(fields[":lines"]), len(body))
        self.assertEqual(over[2][1]["references"], "<3@example.test> <7@example.test>")
        self.assertEqual(stat[1:], (3, "<3@example.test>"))
        self.assertTrue(stat[0].startswith("223 3 <3@example.test>"), stat)
        self.assertEqual([r[1:] for r in nexts],
                         [(7, "<7@example.test>"), (10, "<10@example.test>")])
        self.assertTrue(no_next.exception.response.startswith("421"), no_next.exception)
        self.assertEqual([r[1:] for r in lasts], [(7, "<7@example.test>"), (3, "<3@example.test>")])
        self.assertTrue(no_last.exception.response.startswith("422"), no_last.exception)
        session = farm.session("news", 1)
        self.assertEqual(commands(session), [
            ("CAPABILITIES", ""), ("GROUP", "comp.lang.python"), ("OVER", "3-10"),
            ("LIST", "OVERVIEW.FMT"), ("XOVER", "3-10"), ("OVER", "1-"),
            ("OVER", "<7@example.test>"), ("STAT", ""), ("NEXT", ""), ("NEXT", ""), ("NEXT", ""),
            ("LAST", ""), ("LAST", ""), ("LAST", ""), ("ARTICLE", "3"), ("ARTICLE", "7"),
            ("ARTICLE", "10"), ("QUIT", "")])
        self.assertIn(b"\r\n211 3 3 10 comp.lang.python", server_bytes(session))

    def test_article_head_body_stat_by_number_and_by_message_id(self):
        with Farm(path=example("nntp-read.yaml")) as farm:
            s = news(farm)
            # No group selected: by message-id works, with number 0 (RFC 3977 6.2.1.2) ...
            resp0, by_id = s.article("<3@example.test>")
            # ... by number needs a group: 412.
            with self.assertRaises(nntplib.NNTPTemporaryError) as no_group:
                s.article(3)
            s.group("comp.lang.python")
            resp3, a3 = s.article(3)
            head = s.head(3)
            body = s.body(3)
            stat3 = s.stat(3)
            stat10 = s.stat("<10@example.test>")
            current = s.stat()  # a message-id leaves the current article alone
            _, a7 = s.article(7)
            _, a7_by_id = s.article("<7@example.test>")
            errors = {}
            for key, call in [("gap", lambda: s.article(5)), ("past", lambda: s.head(11)),
                              ("id", lambda: s.article("<nope@example.test>")),
                              ("group", lambda: s.group("no.such.group"))]:
                with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                    call()
                errors[key] = cm.exception.response
            _, count, low, high, _ = s.group("local.empty")
            for key, call in [("empty stat", s.stat), ("empty next", s.next)]:
                with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                    call()
                errors[key] = cm.exception.response
            s.quit()
        self.assertTrue(resp0.startswith("220 0 <3@example.test>"), resp0)
        self.assertEqual((by_id.number, by_id.message_id), (0, "<3@example.test>"))
        self.assertTrue(no_group.exception.response.startswith("412"), no_group.exception)
        self.assertTrue(resp3.startswith("220 3 <3@example.test>"), resp3)
        self.assertEqual(a3.lines, by_id.lines)
        headers, body_lines = split_article(a3.lines)
        self.assertLessEqual({("from", "Alice <alice@example.test>"), ("subject", "hello"),
                              ("newsgroups", "comp.lang.python"),
                              ("message-id", "<3@example.test>"),
                              ("date", "Thu, 01 Jan 2026 00:00:00 +0000")}, set(headers.items()))
        self.assertEqual(body_lines, [b"first line", b".a line that starts with a dot"])
        self.assertTrue(head[0].startswith("221 3 <3@example.test>"), head[0])
        self.assertEqual(head[1].lines, header_lines(a3.lines))
        self.assertTrue(body[0].startswith("222 3 <3@example.test>"), body[0])
        self.assertEqual(body[1].lines, body_lines)
        self.assertTrue(stat3[0].startswith("223 3 <3@example.test>"), stat3)
        self.assertIn(stat10[1], (0, 10))
        self.assertEqual(stat10[2], "<10@example.test>")
        self.assertEqual(current[1:], (3, "<3@example.test>"))
        # The article from nntp-read-article.eml, exactly; its lone "." line came through.
        self.assertEqual(a7.lines, self.ARTICLE_7)
        self.assertEqual(a7_by_id.lines, self.ARTICLE_7)
        self.assertTrue(errors["gap"].startswith("423"), errors)
        self.assertTrue(errors["past"].startswith("423"), errors)
        self.assertTrue(errors["id"].startswith("430"), errors)
        self.assertTrue(errors["group"].startswith("411"), errors)
        assert_empty_marks(self, count, low, high)
        self.assertTrue(errors["empty stat"].startswith("420"), errors)
        self.assertTrue(errors["empty next"].startswith("420"), errors)
        session = farm.session("news", 1)
        sent = server_bytes(session)
        # Sent dot-stuffed (RFC 3977 3.1.1): ".a line" as "..a line", "." as "..".
        self.assertIn(b"\r\n\r\nfirst line\r\n..a line that starts with a dot\r\n.\r\n", sent)
        self.assertIn(b"\r\n..\r\n...two dots\r\n", sent)
        self.assertEqual([c for c, _ in commands(session)], [
            "CAPABILITIES", "ARTICLE", "ARTICLE", "GROUP", "ARTICLE", "HEAD", "BODY", "STAT",
            "STAT", "STAT", "ARTICLE", "ARTICLE", "ARTICLE", "HEAD", "ARTICLE", "GROUP", "GROUP",
            "STAT", "NEXT", "QUIT"])

    def test_lists_descriptions_newgroups_newnews_date_and_help(self):
        with Farm(path=example("nntp-read.yaml")) as farm:
            s = news(farm)
            _, groups = s.list()
            _, comp = s.list("comp.*")
            _, negated = s.list("*,!comp.lang.c")
            _, descriptions = s.descriptions("comp.*")
            _, new_groups = s.newgroups(datetime.date(2024, 1, 1))
            _, no_groups = s.newgroups(datetime.datetime(2026, 6, 1))
            _, new_comp = s.newnews("comp.*", datetime.date(2025, 1, 1))
            _, new_python = s.newnews("comp.lang.python", datetime.date(2025, 1, 1))
            _, nothing_new = s.newnews("*", datetime.date(2026, 6, 1))
            date_resp, now = s.date()
            help_resp, help_lines = s.help()
            s.quit()
        active = {g.group: (int(g.last), int(g.first), g.flag) for g in groups}
        self.assertEqual(set(active), {"comp.lang.python", "comp.lang.c", "local.empty"})
        self.assertEqual(active["comp.lang.python"], (10, 3, "y"))
        self.assertEqual(active["comp.lang.c"], (1, 1, "y"))
        high, low, flag = active["local.empty"]
        assert_empty_marks(self, 0, low, high)
        self.assertEqual(flag, "y")
        self.assertEqual({g.group for g in comp}, {"comp.lang.python", "comp.lang.c"})
        self.assertEqual({g.group for g in negated}, {"comp.lang.python", "local.empty"})
        self.assertEqual(descriptions, {"comp.lang.python": "The Python programming language",
                                        "comp.lang.c": "Discussion about C"})
        # NEWGROUPS goes by `created`; its lines have LIST ACTIVE's form (RFC 3977 7.3).
        self.assertEqual({g.group for g in new_groups}, {"comp.lang.c", "local.empty"})
        self.assertEqual([(int(g.last), int(g.first), g.flag) for g in new_groups
                          if g.group == "comp.lang.c"], [(1, 1, "y")])
        self.assertEqual(no_groups, [])
        # Every article is dated (and, if the server goes by arrival, arrived) between
        # 2025-01-01 and the scenario's clock, 2026-03-01.
        self.assertEqual(set(new_comp), {"<3@example.test>", "<7@example.test>",
                                         "<10@example.test>", "<c-1@example.test>"})
        self.assertEqual(len(new_comp), 4)
        self.assertEqual(set(new_python), {"<3@example.test>", "<7@example.test>",
                                           "<10@example.test>"})
        self.assertEqual(nothing_new, [])
        # DATE is the scenario's clock (RFC 3977 7.1).
        self.assertEqual(date_resp, "111 20260301123000")
        self.assertEqual(now, datetime.datetime(2026, 3, 1, 12, 30, 0))
        self.assertTrue(help_resp.startswith("100 "), help_resp)
        self.assertTrue(help_lines)
        session = farm.session("news", 1)
        self.assertEqual(commands(session), [
            ("CAPABILITIES", ""), ("LIST", ""), ("LIST", "ACTIVE comp.*"),
            ("LIST", "ACTIVE *,!comp.lang.c"), ("LIST", "NEWSGROUPS comp.*"),
            ("NEWGROUPS", "20240101 000000"), ("NEWGROUPS", "20260601 000000"),
            ("NEWNEWS", "comp.* 20250101 000000"),
            ("NEWNEWS", "comp.lang.python 20250101 000000"), ("NEWNEWS", "* 20260601 000000"),
            ("DATE", ""), ("HELP", ""), ("QUIT", "")])
        self.assertIn(b"\r\n111 20260301123000\r\n", server_bytes(session))

    def test_listgroup_hdr_xhdr_and_the_other_lists(self):
        with Farm(path=example("nntp-read.yaml")) as farm:
            s = news(farm)
            s.group("comp.lang.python")
            _, subjects = s.xhdr("subject", "3-10")
            s.quit()
            with Raw(farm) as raw:
                listgroup = raw.cmd(b"LISTGROUP comp.lang.python", listgroup=True)
                ranged = raw.cmd(b"LISTGROUP comp.lang.python 4-10", listgroup=True)
                hdr = raw.cmd(b"HDR Subject 3-10")
                hdr_id = raw.cmd(b"HDR Message-ID <10@example.test>")
                times = raw.cmd(b"LIST ACTIVE.TIMES comp.*")
                fmt = raw.cmd(b"LIST OVERVIEW.FMT")
                headers = raw.cmd(b"LIST HEADERS")
                self.assertTrue(raw.cmd(b"QUIT")[0].startswith(b"205 "))
        self.assertEqual(subjects, [("3", "hello"), ("7", "Re: hello"), ("10", "Re: hello")])
        first, second = farm.sessions("news")
        self.assertEqual(commands(first), [("CAPABILITIES", ""), ("GROUP", "comp.lang.python"),
                                           ("XHDR", "subject 3-10"), ("QUIT", "")])
        self.assertIn(b"\r\n221 ", server_bytes(first))  # XHDR answers 221 (RFC 2980 2.6)
        self.assertEqual([c for c, _ in commands(second)],
                         ["LISTGROUP", "LISTGROUP", "HDR", "HDR", "LIST", "LIST", "LIST", "QUIT"])
        self.assertTrue(listgroup[0].startswith(b"211 3 3 10 comp.lang.python"), listgroup)
        self.assertEqual(listgroup[1], [b"3", b"7", b"10"])
        self.assertTrue(ranged[0].startswith(b"211 3 3 10 comp.lang.python"), ranged)
        self.assertEqual(ranged[1], [b"7", b"10"])
        self.assertTrue(hdr[0].startswith(b"225"), hdr)
        self.assertEqual(hdr[1], [b"3 hello", b"7 Re: hello", b"10 Re: hello"])
        self.assertTrue(hdr_id[0].startswith(b"225"), hdr_id)
        self.assertIn(hdr_id[1], ([b"0 <10@example.test>"], [b"10 <10@example.test>"]))
        # LIST ACTIVE.TIMES: name, creation time in seconds since 1970, creator (RFC 3977 7.6.4).
        self.assertTrue(times[0].startswith(b"215"), times)
        created = {line.split()[0].decode(): int(line.split()[1]) for line in times[1]}
        self.assertEqual(created, {"comp.lang.python": epoch("2020-01-01T00:00:00Z"),
                                   "comp.lang.c": epoch("2025-06-01T00:00:00Z")})
        self.assertTrue(fmt[0].startswith(b"215"), fmt)
        names = [line.decode().lower() for line in fmt[1][:7]]
        self.assertEqual([{"bytes:": ":bytes", "lines:": ":lines"}.get(n, n) for n in names],
                         OVERVIEW_FMT)
        self.assertTrue(headers[0].startswith(b"215"), headers)
        self.assertTrue(headers[1], headers)

    def test_posting_is_not_permitted(self):
        with Farm(path=example("nntp-read.yaml")) as farm:
            s = news(farm)
            with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                s.post(b"From: a@example.test\r\nNewsgroups: comp.lang.python\r\n"
                       b"Subject: no\r\n\r\nnot allowed\r\n")
            s.quit()
        self.assertTrue(cm.exception.response.startswith("440"), cm.exception)
        session = farm.session("news", 1)
        self.assertEqual(commands(session), [("CAPABILITIES", ""), ("POST", ""), ("QUIT", "")])
        self.assertEqual(named_events(session, "post"), [])


class PostAuth(unittest.TestCase):
    """nntp-post-auth.yaml: STARTTLS, AUTHINFO, POST and IHAVE; empty groups misc.test and
    misc.test.followups."""

    def test_starttls_login_post_then_read_in_the_next_session(self):
        with Farm(path=example("nntp-post-auth.yaml")) as farm:
            self.assertEqual(farm.server("news")["tls"], "starttls")
            s = news(farm)
            welcome = s.getwelcome()
            plain_caps = s.getcapabilities()
            with self.assertRaises(nntplib.NNTPTemporaryError) as before_login:
                s.group("misc.test")
            s.starttls(context(farm))
            tls_caps = s.getcapabilities()
            s.login("alice", "secret")
            caps = s.getcapabilities()
            posted = s.post(FIRST_POST)
            _, count, low, high, _ = s.group("misc.test")
            resp, article = s.article(1)
            s.quit()
            s = logged_in(farm, "bob", "hunter2")
            _, again = s.article("<post-1@example.test>")
            _, count_later, _, _, _ = s.group("misc.test")
            s.quit()
            farm.wait_sessions("news", 2)
        self.assertTrue(welcome.startswith("200 "), welcome)
        self.assertIn("STARTTLS", plain_caps)
        self.assertTrue(before_login.exception.response.startswith("480"), before_login.exception)
        # RFC 4642 2.2.2: no STARTTLS once TLS is on; RFC 4643 2.2: no AUTHINFO after a login.
        self.assertNotIn("STARTTLS", tls_caps)
        self.assertIn("USER", tls_caps["AUTHINFO"])
        self.assertNotIn("AUTHINFO", caps)
        self.assertIn("POST", caps)
        self.assertIn("IHAVE", caps)
        self.assertTrue(posted.startswith("240"), posted)
        self.assertEqual((count, low, high), (1, 1, 1))
        self.assertTrue(resp.startswith("220 1 <post-1@example.test>"), resp)
        headers, body = split_article(article.lines)
        self.assertEqual(body, FIRST_BODY)  # nntplib stuffed, the server unstuffed, nntplib too
        for line in header_lines(FIRST_POST.split(b"\r\n")):
            self.assertIn(line, article.lines)
        self.assertEqual(again.lines, article.lines)
        self.assertEqual(count_later, 1)

        first, second = farm.sessions("news")
        self.assertEqual(commands(first), [
            ("CAPABILITIES", ""), ("GROUP", "misc.test"), ("STARTTLS", ""), ("CAPABILITIES", ""),
            ("AUTHINFO", "user alice"), ("AUTHINFO", "pass secret"), ("CAPABILITIES", ""),
            ("POST", ""), ("GROUP", "misc.test"), ("ARTICLE", "1"), ("QUIT", "")])
        self.assertEqual(len(named_events(first, "tls")), 1)
        self.assertEqual(one(first, "login")["user"], "alice")
        post = one(first, "post")
        self.assertEqual((post["via"], post["message_id"], post["groups"], post["accepted"],
                          post["complete"], post["reply"]),
                         ("POST", "<post-1@example.test>", {"misc.test": 1}, True, True, 240))
        self.assertTrue(post["file"].startswith("files/news/1/"), post["file"])
        self.assertEqual(saved(farm, post), lf(FIRST_POST))
        # Every byte is in the transcript, after TLS too: the article as nntplib sent it.
        self.assertIn(FIRST_BODY_ON_THE_WIRE, client_bytes(first))
        self.assertEqual(one(second, "login")["user"], "bob")
        self.assertIn(("ARTICLE", "<post-1@example.test>"), commands(second))
        self.assertEqual(named_events(second, "post"), [])

    def test_message_id_and_date_are_added_the_same_in_every_run(self):
        ids = []
        for attempt in (1, 2):
            with self.subTest(run=attempt), Farm(path=example("nntp-post-auth.yaml")) as farm:
                s = logged_in(farm, "alice", "secret")
                posted = s.post(NO_ID_POST)
                s.group("misc.test")
                _, article = s.article(1)
                s.quit()
            self.assertTrue(posted.startswith("240"), posted)
            post = one(farm.session("news", 1), "post")
            self.assertRegex(post["message_id"], MSGID)
            self.assertTrue(post["accepted"])
            headers, body = split_article(article.lines)
            self.assertEqual(article.message_id, post["message_id"])
            self.assertEqual(headers["message-id"], post["message_id"])
            # From the scenario's clock, 2026-03-01T12:30:00Z (a Sunday).
            self.assertEqual(utc(headers["date"]),
                             datetime.datetime(2026, 3, 1, 12, 30, tzinfo=datetime.timezone.utc))
            self.assertEqual(body, [b"The server adds them."])
            self.assertIn(b"Subject: no Message-ID, no Date\n", saved(farm, post))
            ids.append(post["message_id"])
        self.assertEqual(ids[0], ids[1])

    def test_a_cross_post_is_numbered_in_each_group_with_one_message_id(self):
        with Farm(path=example("nntp-post-auth.yaml")) as farm:
            s = logged_in(farm, "alice", "secret")
            posted = s.post(CROSS_POST)
            seen = {}
            for group in ("misc.test", "misc.test.followups"):
                _, count, low, high, _ = s.group(group)
                seen[group] = (count, low, high, s.stat(high)[2])
            s.quit()
        self.assertTrue(posted.startswith("240"), posted)
        self.assertEqual(seen, {"misc.test": (1, 1, 1, "<cross@example.test>"),
                                "misc.test.followups": (1, 1, 1, "<cross@example.test>")})
        post = one(farm.session("news", 1), "post")
        self.assertEqual((post["message_id"], post["groups"], post["accepted"]),
                         ("<cross@example.test>", {"misc.test": 1, "misc.test.followups": 1},
                          True))

    def test_ihave_takes_new_articles_and_refuses_known_and_broken_ones(self):
        with Farm(path=example("nntp-post-auth.yaml")) as farm:
            s = logged_in(farm, "alice", "secret")
            taken = s.ihave("<ihave-1@example.test>", ihave_article("<ihave-1@example.test>"))
            refused = {}
            for key, message_id, newsgroups in [("known", "<ihave-1@example.test>", True),
                                                ("broken", "<ihave-2@example.test>", False)]:
                with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                    s.ihave(message_id, ihave_article(message_id, newsgroups))
                refused[key] = cm.exception.response
            _, count, _, _, _ = s.group("misc.test")
            _, article = s.article("<ihave-1@example.test>")
            s.quit()
        # RFC 3977 6.3.2: 335 then 235; 435 for an article already here (nothing is sent);
        # 437 for one that is refused after the transfer.
        self.assertTrue(taken.startswith("235"), taken)
        self.assertTrue(refused["known"].startswith("435"), refused)
        self.assertTrue(refused["broken"].startswith("437"), refused)
        self.assertEqual(count, 1)
        self.assertEqual(split_article(article.lines)[1], [b"Transferred with IHAVE."])
        session = farm.session("news", 1)
        self.assertEqual([a for c, a in commands(session) if c == "IHAVE"],
                         ["<ihave-1@example.test>", "<ihave-1@example.test>",
                          "<ihave-2@example.test>"])
        posts = named_events(session, "post")  # none for the 435: no article was sent
        self.assertEqual([(p["via"], p["accepted"], p["reply"]) for p in posts],
                         [("IHAVE", True, 235), ("IHAVE", False, 437)])
        self.assertEqual((posts[0]["message_id"], posts[0]["groups"]),
                         ("<ihave-1@example.test>", {"misc.test": 1}))
        self.assertEqual(saved(farm, posts[1]), lf(ihave_article("<ihave-2@example.test>", False)))

    @unittest.skipUnless(OPENSSL, "openssl is not installed")
    def test_openssl_s_client_starttls(self):
        with Farm(path=example("nntp-post-auth.yaml")) as farm:
            host, port = farm.address("news")
            out = subprocess.run(
                [OPENSSL, "s_client", "-connect", f"{host}:{port}", "-starttls", "nntp",
                 "-CAfile", farm.ca, "-verify_return_error", "-quiet"],
                input=b"CAPABILITIES\r\nQUIT\r\n", capture_output=True, timeout=30)
            farm.wait_sessions("news", 1)
        self.assertEqual(out.returncode, 0, out.stderr)
        # What came over TLS: the second CAPABILITIES (no STARTTLS now), then 205.
        self.assertTrue(out.stdout.startswith(b"101 "), out.stdout)
        self.assertIn(b"\r\nVERSION 2\r\n", out.stdout)
        self.assertNotIn(b"\r\nSTARTTLS\r\n", out.stdout)
        self.assertRegex(out.stdout, rb"\r\nAUTHINFO [^\r\n]*USER")
        self.assertRegex(out.stdout, rb"\r\n\.\r\n205 [^\r\n]*\r\n$")
        session = farm.session("news", 1)
        # s_client asks CAPABILITIES itself before STARTTLS.
        self.assertEqual(client_bytes(session),
                         b"CAPABILITIES\r\nSTARTTLS\r\nCAPABILITIES\r\nQUIT\r\n")
        self.assertEqual(commands(session), [("CAPABILITIES", ""), ("STARTTLS", ""),
                                             ("CAPABILITIES", ""), ("QUIT", "")])
        self.assertEqual(len(named_events(session, "tls")), 1)
        self.assertIn(b"\r\nSTARTTLS\r\n", server_bytes(session))  # the first CAPABILITIES
        self.assertRegex(server_bytes(session), rb"\r\n382 [^\r\n]*\r\n101 ")
        self.assertTrue(server_bytes(session).endswith(out.stdout))
        self.assertEqual(session["close"], "server")


class RequireAuth(unittest.TestCase):
    def test_480_until_authinfo_then_reading_works(self):
        with Farm(path=example("nntp-require-auth.yaml")) as farm:
            s = news(farm)
            caps = s.getcapabilities()
            refused = {}
            for key, call in [("group", lambda: s.group("corp.internal")), ("list", s.list),
                              ("article", lambda: s.article("<holidays@example.test>")),
                              ("wrong password", lambda: s.login("alice", "wrong"))]:
                with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                    call()
                refused[key] = cm.exception.response
            s.login("alice", "secret")  # nntplib starts over with AUTHINFO USER
            after = s.getcapabilities()
            _, count, low, high, _ = s.group("corp.internal")
            _, article = s.article(1)
            s.quit()
        self.assertIn("USER", caps["AUTHINFO"])
        self.assertIn("SASL", caps["AUTHINFO"])
        self.assertIn("PLAIN", caps["SASL"])
        for key in ("group", "list", "article"):
            self.assertTrue(refused[key].startswith("480"), refused)
        self.assertTrue(refused["wrong password"].startswith("481"), refused)
        self.assertNotIn("AUTHINFO", after)
        self.assertEqual((count, low, high), (1, 1, 1))
        self.assertEqual(split_article(article.lines)[1], [b"Only readable after AUTHINFO."])
        session = farm.session("news", 1)
        self.assertEqual(commands(session), [
            ("CAPABILITIES", ""), ("GROUP", "corp.internal"), ("LIST", ""),
            ("ARTICLE", "<holidays@example.test>"), ("AUTHINFO", "user alice"),
            ("AUTHINFO", "pass wrong"), ("AUTHINFO", "user alice"), ("AUTHINFO", "pass secret"),
            ("CAPABILITIES", ""), ("GROUP", "corp.internal"), ("ARTICLE", "1"), ("QUIT", "")])
        self.assertEqual(one(session, "login_failed")["user"], "alice")
        self.assertEqual(one(session, "login")["user"], "alice")
        # The refused commands were answered, nothing else: no article went out before.
        before = server_bytes(session).split(b"\r\n281 ")[0]
        self.assertNotIn(b"Only readable", before)

    def test_sasl_plain_and_commands_out_of_sequence(self):
        plain = base64.b64encode(b"\0alice\0secret")
        with Farm(path=example("nntp-require-auth.yaml")) as farm:
            with Raw(farm) as raw:
                out_of_sequence = raw.code(b"AUTHINFO PASS secret")
                bad_sasl = raw.code(b"AUTHINFO SASL PLAIN " + base64.b64encode(b"\0alice\0nope"))
                sasl = raw.code(b"AUTHINFO SASL PLAIN " + plain)
                again = raw.code(b"AUTHINFO USER alice")
                group = raw.cmd(b"GROUP corp.internal")[0]
                raw.cmd(b"QUIT")
        # RFC 4643 2.3.2, 2.4.2: 482 out of sequence, 481 refused, 281 in, 502 once in.
        self.assertEqual((out_of_sequence, bad_sasl, sasl, again), (482, 481, 281, 502))
        self.assertTrue(group.startswith(b"211 1 1 1 corp.internal"), group)
        session = farm.session("news", 1)
        self.assertEqual(one(session, "login")["user"], "alice")
        self.assertEqual(named_events(session, "login_failed")[-1]["user"], "alice")


IMPLICIT = """name: nntps
servers:
  news:
    protocol: nntp
    tls: implicit
    groups:
      misc.test:
        description: "Over TLS only"
        status: y
        articles:
          - number: 1
            headers:
              From: "alice@example.test"
              Newsgroups: misc.test
              Subject: "implicit TLS"
              Message-ID: "<tls-1@example.test>"
              Date: "Thu, 01 Jan 2026 00:00:00 +0000"
            body: "Sent over TLS only.\\n"
"""


class ImplicitTls(unittest.TestCase):
    def test_nntp_ssl(self):
        with Farm(text=IMPLICIT) as farm:
            self.assertEqual(farm.server("news")["tls"], "implicit")
            s = nntplib.NNTP_SSL(farm.host("news"), farm.port("news"), ssl_context=context(farm),
                                 timeout=TIMEOUT)
            caps = s.getcapabilities()
            s.group("misc.test")
            _, article = s.article(1)
            s.quit()
            with Raw(farm, tls_context=context(farm)) as raw:
                starttls = raw.code(b"STARTTLS")  # RFC 4642 2.2.2: TLS is already on
                raw.cmd(b"QUIT")
        self.assertNotIn("STARTTLS", caps)
        self.assertEqual(split_article(article.lines)[1], [b"Sent over TLS only."])
        self.assertEqual(starttls, 502)
        session = farm.session("news", 1)
        self.assertEqual(session["events"][1]["event"], "tls")  # right after "open"
        self.assertEqual([c for c, _ in commands(session)],
                         ["CAPABILITIES", "GROUP", "ARTICLE", "QUIT"])


class Moderated(unittest.TestCase):
    def test_status_flags_and_who_may_post_where(self):
        def article(group, subject, approved=False):
            text = (b"From: Alice <alice@example.test>\r\nNewsgroups: " + group.encode() +
                    b"\r\nSubject: " + subject.encode() + b"\r\n")
            if approved:
                text += b"Approved: moderator@example.test\r\n"
            return text + b"\r\n" + subject.encode() + b"\r\n"

        with Farm(path=example("nntp-moderated.yaml")) as farm:
            s = news(farm)
            _, groups = s.list()
            refused = {}
            for key, group in (("unapproved", "comp.announce"), ("read-only", "comp.archive")):
                with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                    s.post(article(group, key))
                refused[key] = cm.exception.response
            _, unapproved_count, _, _, _ = s.group("comp.announce")
            approved = s.post(article("comp.announce", "approved", approved=True))
            _, count, low, high, _ = s.group("comp.announce")
            _, shown = s.article(high)
            _, archive_count, _, _, _ = s.group("comp.archive")
            anything = s.post(article("misc.test", "anything goes"))
            _, test_count, _, _, _ = s.group("misc.test")
            s.quit()
        self.assertEqual({g.group: g.flag for g in groups},
                         {"comp.announce": "m", "comp.archive": "n", "misc.test": "y"})
        # m: without Approved: it would be mailed to the moderator; with no moderator address
        # the answer is INN's 441. With Approved: it is in the group at once.
        self.assertTrue(refused["unapproved"].startswith("441 "), refused)
        self.assertIn("comp.announce", refused["unapproved"])
        self.assertEqual(unapproved_count, 0)
        self.assertTrue(approved.startswith("240"), approved)
        self.assertEqual((count, low, high), (1, 1, 1))
        headers, body = split_article(shown.lines)
        self.assertEqual((headers["approved"], body), ("moderator@example.test", [b"approved"]))
        # n: no posting (441); y: anything goes.
        self.assertTrue(refused["read-only"].startswith("441 "), refused)
        self.assertEqual(archive_count, 1)
        self.assertTrue(anything.startswith("240"), anything)
        self.assertEqual(test_count, 1)
        posts = named_events(farm.session("news", 1), "post")
        self.assertEqual([p["accepted"] for p in posts], [False, False, True, True])
        self.assertEqual(posts[2]["groups"], {"comp.announce": 1})
        self.assertEqual(posts[3]["groups"], {"misc.test": 1})
        # A refused post is saved too, under rejected_file (`file` is for accepted ones).
        self.assertNotIn("file", posts[0])
        self.assertIn(b"Subject: unapproved\n", saved(farm, posts[0]))


class MissingArticle(unittest.TestCase):
    def test_over_lists_it_and_article_does_not_find_it(self):
        with Farm(path=example("nntp-missing-article.yaml")) as farm:
            s = news(farm)
            s.group("misc.test")
            _, over = s.over((1, 3))
            gone = []
            for spec in (2, "<2@example.test>"):
                with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                    s.article(spec)
                gone.append(cm.exception.response)
            # A scripted failure changes nothing: article 1 is still the current one.
            after = s.next()
            stat = s.stat(2)  # only ARTICLE is scripted
            _, third = s.article(3)
            s.quit()
        self.assertEqual([(n, f["message-id"]) for n, f in over], [
            (1, "<1@example.test>"), (2, "<2@example.test>"), (3, "<3@example.test>")])
        self.assertEqual(gone, ["423 No article with that number",
                                "430 No article with that message-id"])
        self.assertEqual(after[1:], (2, "<2@example.test>"))
        self.assertEqual(stat[1:], (2, "<2@example.test>"))
        self.assertEqual(split_article(third.lines)[1], [b"The third article."])
        session = farm.session("news", 1)
        self.assertEqual([(r["rule"], r["on"]) for r in named_events(session, "rule")],
                         [("gone-by-number", "ARTICLE"), ("gone-by-id", "ARTICLE")])
        scripted = [e["text"] for e in session["events"]
                    if e.get("from") == "server" and e.get("rule")]
        self.assertEqual(scripted, ["423 No article with that number\r\n",
                                    "430 No article with that message-id\r\n"])


class Busy(unittest.TestCase):
    def test_400_at_the_greeting_then_served_and_verified(self):
        path = example("nntp-busy.yaml")
        with Farm(path=path) as farm:
            with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                news(farm)
            farm.wait_sessions("news", 1)
            s = news(farm)
            welcome = s.getwelcome()
            _, count, _, _, _ = s.group("misc.test")
            s.quit()
        self.assertEqual(cm.exception.response, "400 news.example.test too busy, try again later")
        self.assertTrue(welcome.startswith("200 "), welcome)
        self.assertEqual(count, 0)
        first, second = farm.sessions("news")
        # RFC 3977 5.1.1: after 400 the server closes at once; the client said nothing.
        self.assertEqual(server_bytes(first),
                         b"400 news.example.test too busy, try again later\r\n")
        self.assertEqual(client_bytes(first), b"")
        self.assertEqual(first["close"], "server")
        self.assertEqual([r["rule"] for r in named_events(first, "rule")], ["busy"])
        self.assertEqual(named_events(second, "rule"), [])
        result = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_verify_fails_when_the_client_never_comes_back(self):
        path = example("nntp-busy.yaml")
        with Farm(path=path) as farm:
            with self.assertRaises(nntplib.NNTPTemporaryError):
                news(farm)
        result = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)


class ResetInArticle(unittest.TestCase):
    def test_a_rule_sends_half_an_article_then_resets(self):
        with Farm(path=example("nntp-reset-in-article.yaml")) as farm:
            s = news(farm, "cut")
            s.group("misc.test")
            with self.assertRaises((ConnectionResetError, EOFError, nntplib.NNTPError)):
                s.article(1)  # never the terminating "."
            s.file.close()
            s.sock.close()
            farm.wait_sessions("cut", 1)
        session = farm.session("cut", 1)
        self.assertEqual(commands(session)[-1], ("ARTICLE", "1"))
        self.assertTrue(server_bytes(session).endswith(
            b"\r\n220 1 <cut@example.test>\r\nFrom: alice@example.test\r\nNewsgroups: misc.test"
            b"\r\nSubject: cut short\r\n\r\nThis arti"))
        pieces = [e for e in session["events"]
                  if e.get("rule") == "half-an-article" and e.get("from") == "server"]
        self.assertEqual(len(pieces), 7)  # 106 bytes, 16 at a time
        self.assertEqual(session["close"], "reset")

    def test_a_fault_resets_after_1500_bytes(self):
        with Farm(path=example("nntp-reset-in-article.yaml")) as farm:
            s = news(farm, "reset")
            s.group("misc.test")
            with self.assertRaises((ConnectionResetError, EOFError, nntplib.NNTPError)):
                s.article(1)
            s.file.close()
            s.sock.close()
            farm.wait_sessions("reset", 1)
        session = farm.session("reset", 1)
        self.assertEqual(commands(session)[-1], ("ARTICLE", "1"))
        sent = server_bytes(session)
        self.assertEqual(len(sent), 1500)
        self.assertIn(b"\r\n220 1 <long@example.test> article\r\n", sent)
        self.assertFalse(sent.endswith(b"\r\n.\r\n"))
        self.assertEqual(one(session, "fault")["sent"], 1500)
        self.assertEqual(session["close"], "fault")


class Generated(unittest.TestCase):
    def test_100000_articles_group_over_and_article(self):
        with Farm(path=example("nntp-generated.yaml")) as farm:
            s = news(farm)
            group = s.group("misc.generated")
            _, overview = s.over((1, 100000))
            articles = {n: s.article(n)[1] for n in (1, 50000, 100000)}
            ids = [fields["message-id"] for _, fields in overview]
            _, by_id = s.article(ids[41])
            last = s.stat(100000)
            errors = []
            for call in (s.next, lambda: s.article(100001)):
                with self.assertRaises(nntplib.NNTPTemporaryError) as cm:
                    call()
                errors.append(cm.exception.response[:3])
            late = s.group("misc.generated.late")
            _, late_overview = s.over((500001, 501000))
            _, first_late = s.article(500001)
            s.quit()
        self.assertEqual(group[1:], (100000, 1, 100000, "misc.generated"))
        self.assertEqual([n for n, _ in overview], list(range(1, 100001)))
        self.assertEqual(len(set(ids)), 100000)
        for message_id in ids[:1000] + ids[-1000:]:
            self.assertRegex(message_id, MSGID)
        for number, info in articles.items():
            with self.subTest(article=number):
                fields = overview[number - 1][1]
                headers, body = split_article(info.lines)
                self.assertEqual(info.message_id, fields["message-id"])
                self.assertEqual(headers["message-id"], fields["message-id"])
                self.assertEqual(headers["subject"], fields["subject"])
                self.assertIn("misc.generated", headers["newsgroups"].split(","))
                self.assertLessEqual({"from", "newsgroups", "subject", "date"}, set(headers))
                self.assertEqual(int(fields[":bytes"]), octets(info.lines))
                self.assertEqual(int(fields[":lines"]), len(body))
        self.assertIn(by_id.number, (0, 42))
        self.assertEqual(by_id.message_id, ids[41])
        self.assertEqual(last[1:], (100000, ids[-1]))
        self.assertEqual(errors, ["421", "423"])
        self.assertEqual(late[1:], (1000, 500001, 501000, "misc.generated.late"))
        self.assertEqual([n for n, _ in late_overview], list(range(500001, 501001)))
        late_ids = {fields["message-id"] for _, fields in late_overview}
        self.assertEqual(len(late_ids), 1000)
        self.assertEqual(late_ids & set(ids), set())
        self.assertEqual(first_late.number, 500001)
        session = farm.session("news", 1)
        self.assertEqual(commands(session)[:4], [("CAPABILITIES", ""), ("GROUP", "misc.generated"),
                                                 ("OVER", "1-100000"), ("LIST", "OVERVIEW.FMT")])
        self.assertEqual(session["close"], "server")

    def test_the_same_articles_in_every_run(self):
        runs, sent = [], []
        for attempt in (1, 2):
            with self.subTest(run=attempt), Farm(path=example("nntp-generated.yaml")) as farm:
                s = news(farm)
                s.group("misc.generated")
                _, overview = s.over((99001, 100000))
                _, article = s.article(12345)
                s.quit()
            runs.append((overview, article.lines))
            sent.append(server_bytes(farm.session("news", 1)))
        self.assertEqual(runs[0], runs[1])
        self.assertEqual(len(runs[0][0]), 1000)
        # The same client bytes got the same server bytes, every one of them.
        self.assertEqual(sent[0], sent[1])
        self.assertIn(b"\r\n220 12345 ", sent[0])

    def test_idle_memory_stays_under_64_mib(self):
        if sanitized():
            self.skipTest("AddressSanitizer's shadow memory counts in the RSS")
        with Farm(path=example("nntp-generated.yaml")) as farm:
            idle = rss_kib(farm.ready["pid"])
            s = news(farm)
            self.assertEqual(s.group("misc.generated")[1], 100000)
            s.quit()
        self.assertLess(idle, 64 * 1024, f"{idle} KiB")
        self.assertEqual(commands(farm.session("news", 1)),
                         [("CAPABILITIES", ""), ("GROUP", "misc.generated"), ("QUIT", "")])


if __name__ == "__main__":
    unittest.main()
