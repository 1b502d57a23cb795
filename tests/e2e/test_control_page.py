"""The control API's live page (GET / of the control server, docs/control-api.md) in a real
browser: headless chromium driven over the DevTools protocol (cdp.py).

A farm with an SMTP and a POP3 server; one session of each runs before the page loads. The
page must list both, render the SMTP one as `protofarm show` does (client and server lines,
times, rule names) and draw it as a ladder with one arrow per exchange; a session that opens
after the page loaded must appear without a reload (the Server-Sent Events path); the filters
must narrow the list; nothing may be fetched from anywhere but the farm. Without
--transcripts, selecting a session shows the API's error.

    cd tests/e2e && PROTOFARM=build/protofarm python3 -m unittest test_control_page
    PROTOFARM_SCREENSHOT=/tmp/page.png ...   # also saves the page (1280x800) as a PNG
"""

import email.message
import json
import os
import poplib
import smtplib
import unittest
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

from cdp import CHROMIUM, Browser
from farm import Farm

SCENARIO = """
name: control-page
servers:
  mail:
    protocol: smtp
    rules:
      - on: RCPT
        match: carol@
        reply: "550 5.1.1 no such user"
  pop:
    protocol: pop3
    deliveries_from: mail
    mailboxes:
      bob:
        password: hunter2
        address: bob@example.test
"""

WAIT = 20  # seconds: the bound of every wait for the page


def page_url(farm):
    """Where the page is served: the control server's `/`."""
    return farm.ready["control"]["url"] + "/"


def send_mail(farm, recipients, subject):
    m = email.message.EmailMessage()
    m["From"] = "alice@example.test"
    m["To"] = ", ".join(recipients)
    m["Subject"] = subject
    m.set_content("Hello Bob,\nthis is " + subject + ".\n")
    with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
        return client.send_message(m)


def fetch_mail(farm):
    pop = poplib.POP3(*farm.address("pop"), timeout=10)
    try:
        pop.user("bob")
        pop.pass_("hunter2")
        count, _ = pop.stat()
        _, lines, _ = pop.retr(1)
    finally:
        pop.quit()
    return count, lines


def show_lines(event):
    """The lines `protofarm show` prints for a client or server event: (text, line end), the
    text escaped as show escapes it."""
    text = event["text"]
    out, pos = [], 0
    while pos < len(text):
        nl = text.find("\n", pos)
        if nl < 0:
            out.append((text[pos:], ""))
            break
        cr = nl > pos and text[nl - 1] == "\r"
        out.append((text[pos:nl - 1 if cr else nl], "\\r\\n" if cr else "\\n"))
        pos = nl + 1
    escape = {"\r": "\\r", "\n": "\\n", "\t": "\\t", "\\": "\\\\"}
    return [("".join(escape.get(c, c if ord(c) >= 0x20 and ord(c) != 0x7f else f"\\x{ord(c):02x}")
                     for c in line), end) for line, end in out]


def js(value):
    return json.dumps(value)


# Expressions evaluated in the page.
SESSION_ROWS = ("[...document.querySelectorAll('#sessions tr.session')]"
                ".map(tr => tr.dataset.server + '/' + tr.dataset.session)")
SERVER_ROWS = """[...document.querySelectorAll('#servers tr.server')].map(tr => ({
    name: tr.dataset.name, protocol: tr.querySelector('.protocol').textContent,
    port: tr.querySelector('.port').dataset.port,
    sessions: tr.querySelector('.sessions').textContent,
    open: tr.querySelector('.open').textContent, hits: tr.querySelector('.hits').textContent}))"""
DETAIL_LINES = """[...document.querySelectorAll('#session-detail .line')].map(l => ({
    from: l.dataset.from || null, name: l.dataset.name || null,
    t: l.querySelector('.t').textContent, dir: l.querySelector('.dir').textContent,
    text: l.querySelector('.txt').textContent,
    eol: l.querySelector('.eol') ? l.querySelector('.eol').textContent : '',
    note: l.querySelector('.note') ? l.querySelector('.note').textContent : ''}))"""
LADDER = """(() => {
  const svg = document.querySelector('svg#ladder');
  if (!svg) return null;
  const lane = n => { const l = svg.querySelector('line.lane[data-lane="' + n + '"]');
                      return l ? Number(l.getAttribute('x1')) : null; };
  return {
    lanes: {client: lane('client'), server: lane('server')},
    arrows: [...svg.querySelectorAll('.arrow')].map(a => ({
      from: a.dataset.from, event: Number(a.dataset.event),
      x1: Number(a.getAttribute('x1')), x2: Number(a.getAttribute('x2')),
      y: Number(a.getAttribute('y1')), y2: Number(a.getAttribute('y2')),
      label: (svg.querySelector('text.label[data-event="' + a.dataset.event + '"]') || {})
               .textContent || ''})),
    marks: [...svg.querySelectorAll('.mark')].map(m => m.getAttribute('class'))};
})()"""


def rows_are(keys):
    """JavaScript: true when the session list shows exactly these "server/n", in this order."""
    return f"JSON.stringify({SESSION_ROWS}) === {js(json.dumps(keys, separators=(',', ':')))}"


def choose(select_id, value):
    """JavaScript that sets a filter control as a person would and fires its event."""
    kind = "input" if select_id == "filter-text" else "change"
    return (f"(() => {{ const el = document.getElementById({js(select_id)}); "
            f"el.value = {js(value)}; el.dispatchEvent(new Event({js(kind)}, {{bubbles: true}})); "
            f"return el.value; }})()")


def click_session(server, n):
    return (f"(document.querySelector('tr.session[data-server=\"{server}\"]"
            f"[data-session=\"{n}\"]').click(), true)")


class Base(unittest.TestCase):
    def setUp(self):
        if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
            self.fail(f"{CHROMIUM} is missing: this test drives a real browser; "
                      "tools/install-deps.sh installs Debian's chromium (apt-get install chromium)")

    def start_browser(self):
        browser = Browser()
        browser.start()
        self.addCleanup(browser.close)
        return browser

    def open_page(self, browser, url):
        page = browser.new_page()
        page.send("Network.enable")
        page.send("Runtime.enable")
        page.set_viewport(1280, 800)
        page.navigate(url)
        return page

    def assert_no_script_errors(self, page):
        thrown = [e.get("exceptionDetails", {}) for e in page.events("Runtime.exceptionThrown")]
        self.assertEqual(thrown, [], "the page's JavaScript threw")
        logged = [e for e in page.events("Runtime.consoleAPICalled") if e.get("type") == "error"]
        self.assertEqual(logged, [], "the page logged errors")


class ControlPage(Base):
    def setUp(self):
        super().setUp()
        self.farm = Farm(SCENARIO)
        self.farm.start()
        self.addCleanup(self.farm.stop)

    def test_sessions_transcript_ladder_live_updates_and_filters(self):
        farm = self.farm
        # Before the page: one SMTP session (carol refused by the rule) and one POP3 session.
        self.assertEqual(list(send_mail(farm, ["bob@example.test", "carol@example.test"],
                                        "the first message")), ["carol@example.test"])
        farm.wait_sessions("mail", 1)
        count, _ = fetch_mail(farm)
        self.assertEqual(count, 1)
        farm.wait_sessions("pop", 1)
        smtp = farm.session("mail", 1)

        url = page_url(farm)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        browser = self.start_browser()
        page = self.open_page(browser, url)
        page.evaluate("window.__protofarmTestMarker = 'not reloaded'")

        # Both sessions listed (from api/sessions and the replayed events), newest first.
        rows = page.wait_for(
            f"(r => r.includes('mail/1') && r.includes('pop/1') && r)({SESSION_ROWS})", WAIT,
            what="both sessions in the list")
        self.assertEqual(rows, ["pop/1", "mail/1"])
        servers = page.wait_for(f"(s => s.length === 2 && s)({SERVER_ROWS})", WAIT,
                                what="the servers table")
        self.assertEqual(servers, [
            {"name": "mail", "protocol": "smtp", "port": str(farm.port("mail")), "sessions": "1",
             "open": "0", "hits": "1"},
            {"name": "pop", "protocol": "pop3", "port": str(farm.port("pop")), "sessions": "1",
             "open": "0", "hits": "0"}])

        # The SMTP session, selected: rendered as `protofarm show` renders it.
        page.evaluate(click_session("mail", 1))
        page.wait_for("(d => d && d.dataset.state === 'ready' && d.dataset.server === 'mail' && "
                      "d.dataset.session === '1')(document.getElementById('session-detail'))",
                      WAIT, what="the SMTP session's transcript")
        lines = page.evaluate(DETAIL_LINES)
        bytes_events = [e for e in smtp["events"] if "from" in e]
        for side, prefix in (("client", "C:"), ("server", "S:")):
            want = [(text, end) for e in bytes_events if e["from"] == side
                    for text, end in show_lines(e)]
            got = [(line["text"], line["eol"]) for line in lines if line["from"] == side]
            self.assertEqual(got, want, f"the {side}'s lines")
            self.assertEqual({line["dir"] for line in lines if line["from"] == side}, {prefix})
        client = [line["text"] for line in lines if line["from"] == "client"]
        server = [line["text"] for line in lines if line["from"] == "server"]
        self.assertTrue(any(t.upper().startswith("EHLO ") for t in client), client)
        self.assertIn("mail FROM:<alice@example.test> size=", "\n".join(client))
        self.assertTrue(server[0].startswith("220 "), server)
        self.assertIn("250 2.1.5 Ok", server)
        # The times are t_ms as show prints them; the rule that answered is named.
        first = bytes_events[0]
        self.assertEqual(next(line["t"] for line in lines if line["from"] == first["from"]),
                         f"{first['t_ms']:.3f}")
        [refused] = [line for line in lines if line["text"] == "550 5.1.1 no such user"]
        self.assertEqual(refused["note"], "(rule rules[0])")
        names = [(line["name"], line["text"].split(" ")[:2]) for line in lines if line["name"]]
        self.assertEqual([n for n, _ in names],
                         [e["event"] for e in smtp["events"] if "event" in e])
        self.assertIn(("rule", ["--", "rule"]), names)
        self.assertIn("-- rule rules[0] on=RCPT count=1",
                      [line["text"] for line in lines if line["name"] == "rule"])

        # The ladder: one arrow per exchange, in order, client to server and back.
        ladder = page.evaluate(LADDER)
        self.assertIsNotNone(ladder, "no svg#ladder")
        self.assertEqual([(a["from"], a["event"]) for a in ladder["arrows"]],
                         [(e["from"], i) for i, e in enumerate(smtp["events"]) if "from" in e])
        lanes = ladder["lanes"]
        self.assertLess(lanes["client"], lanes["server"])
        for a in ladder["arrows"]:
            self.assertEqual(a["y"], a["y2"])
            if a["from"] == "client":
                self.assertEqual(a["x1"], lanes["client"])
                self.assertGreater(a["x2"], a["x1"])
            else:
                self.assertEqual(a["x1"], lanes["server"])
                self.assertLess(a["x2"], a["x1"])
        ys = [a["y"] for a in ladder["arrows"]]
        self.assertEqual(ys, sorted(set(ys)), "arrows not one below the other in time order")
        self.assertTrue(ladder["arrows"][0]["label"].startswith("220 "), ladder["arrows"][0])
        self.assertTrue(any(m.split()[1] == "rule" for m in ladder["marks"]), ladder["marks"])

        # The session's JSON, downloadable from the API's URL for it.
        link = page.evaluate("""(a => a && {href: a.href, download: a.getAttribute('download')})(
            document.getElementById('download'))""")
        self.assertEqual(link["href"], origin + "/api/sessions/mail/1")
        self.assertTrue(link["download"].endswith(".json"), link)
        downloaded = page.evaluate("fetch(document.getElementById('download').href)"
                                   ".then(r => r.json())")
        self.assertEqual((downloaded["server"], downloaded["session"]), ("mail", 1))

        # The page holds one event stream, asked to replay what the farm holds.
        sse = [urlsplit(r["request"]["url"]) for r in page.events("Network.requestWillBeSent")
               if urlsplit(r["request"]["url"]).path == "/api/events"]
        self.assertTrue(sse, "the page did not open api/events")
        self.assertEqual(parse_qs(sse[0].query).get("last_event_id"), ["0"])
        self.assertIn("protofarm_sse_clients 1", self.metrics())
        self.assertTrue(page.evaluate("document.getElementById('sse-banner').hidden"))

        # A session after the page loaded appears without a reload, and the counts follow.
        self.assertEqual(list(send_mail(farm, ["bob@example.test"], "the second message")), [])
        rows = page.wait_for(f"(r => r.includes('mail/2') && r)({SESSION_ROWS})", WAIT,
                             what="the session opened after the page loaded")
        self.assertEqual(rows, ["mail/2", "pop/1", "mail/1"])
        page.wait_for("document.querySelector('#servers tr.server[data-name=\"mail\"] .sessions')"
                      ".textContent === '2'", WAIT, what="the mail server's count to reach 2")
        self.assertEqual(page.evaluate("window.__protofarmTestMarker"), "not reloaded")
        second = farm.wait_sessions("mail", 2)[1]
        page.wait_for("document.querySelector('tr.session[data-server=\"mail\"][data-session=\"2\"]"
                      f" .events').textContent === '{len(second['events'])}'", WAIT,
                      what=f"the new session's event count to reach {len(second['events'])}")
        page.wait_for("document.querySelector('tr.session[data-server=\"mail\"][data-session=\"2\"]"
                      " .state').textContent === 'server'", WAIT, what="the new session closed")

        if os.environ.get("PROTOFARM_SCREENSHOT"):
            page.wait_for("document.getElementById('session-detail').dataset.session === '1'")
            page.screenshot(os.environ["PROTOFARM_SCREENSHOT"])

        # Filters: free text (commands and text), rule, server.
        page.evaluate(choose("filter-text", "retr"))
        page.wait_for(rows_are(['pop/1']), WAIT,
                      what="only the POP3 session (it sent RETR)")
        page.evaluate(choose("filter-text", "the second message"))
        page.wait_for(rows_are(['mail/2']), WAIT,
                      what="only the session whose text has 'the second message'")
        page.evaluate(choose("filter-text", ""))
        page.evaluate(choose("filter-rule", "rules[0]"))
        page.wait_for(rows_are(['mail/1']), WAIT,
                      what="only the session where rules[0] answered")
        page.evaluate(choose("filter-rule", ""))
        page.evaluate(choose("filter-server", "mail"))
        page.wait_for(rows_are(['mail/2', 'mail/1']), WAIT,
                      what="only the mail server's sessions")
        page.evaluate(choose("filter-server", ""))
        page.wait_for(f"{SESSION_ROWS}.length === 3", WAIT, what="every session again")

        # Nothing fetched from anywhere but the farm's control server.
        requested = [r["request"]["url"] for r in page.events("Network.requestWillBeSent")]
        self.assertTrue(requested)
        outside = [u for u in requested
                   if not (u.startswith(origin + "/") or u.startswith("data:"))]
        self.assertEqual(outside, [], "requests outside " + origin)
        resources = page.evaluate("performance.getEntries().map(e => e.name)"
                                  ".filter(n => /^[a-z]+:/.test(n))")
        self.assertEqual([u for u in resources if not (u.startswith(origin + "/")
                                                       or u.startswith("data:"))], [])
        self.assert_no_script_errors(page)

        # The farm stops: the page says its live updates are gone.
        self.assertEqual(farm.stop(), 0, farm.stderr)
        page.wait_for("!document.getElementById('sse-banner').hidden", WAIT,
                      what="the disconnected banner")

    def metrics(self):
        url = self.farm.ready["control"]["url"] + "/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.read().decode()


class NoTranscriptsFarm(Farm):
    """A farm run without --transcripts."""

    def command(self):
        cmd = super().command()
        i = cmd.index("--transcripts")
        return cmd[:i] + cmd[i + 2:]


class ControlPageWithoutTranscripts(Base):
    def test_selecting_a_session_shows_the_apis_error(self):
        farm = NoTranscriptsFarm(SCENARIO, only=["mail"])
        farm.start()
        self.addCleanup(farm.stop)
        send_mail(farm, ["bob@example.test"], "an unrecorded message")
        browser = self.start_browser()
        page = self.open_page(browser, page_url(farm))
        page.wait_for(f"{SESSION_ROWS}.includes('mail/1')", WAIT, what="the session in the list")
        try:
            urllib.request.urlopen(farm.ready["control"]["url"] + "/api/sessions/mail/1",
                                   timeout=10)
            self.fail("the API answered a session document without --transcripts")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 404)
            error = json.loads(e.read())["error"]
        self.assertIn("--transcripts", error)
        page.evaluate(click_session("mail", 1))
        page.wait_for("document.getElementById('session-detail').dataset.state === 'error'",
                      WAIT, what="the error state")
        self.assertEqual(page.evaluate("document.getElementById('detail-error').textContent"),
                         error)
        self.assertIsNone(page.evaluate("document.getElementById('ladder')"))
        self.assert_no_script_errors(page)


if __name__ == "__main__":
    unittest.main()
