"""The http fake with real clients: curl (HTTP/1.0 and 1.1, keep-alive over several URLs, -T
uploads from a file and from stdin, --data and -F, -r ranges, a proxy's absolute-form target,
--expect100-timeout), Python's urllib and http.client (keep-alive, HEAD, OPTIONS, chunked
bodies), raw sockets for what no client library sends on purpose (pipelining, HTTP/1.0
keep-alive, OPTIONS *), and `protofarm serve DIR`. Each test checks what the client got and
what the transcript recorded. Every wait is bounded; nothing sleeps for readiness."""

import http.client
import json
import os
import ssl
import tempfile
import unittest
import urllib.error
import urllib.request
from pathlib import Path

from farm import (PROTOFARM, SCENARIOS, Farm, client_bytes, event_bytes, named_events, run,
                  server_bytes)
from http_util import (CURL, TIMEOUT, Raw, bodies, body_frames, curl, get, one, requests, saved, sha256,
                       statuses, url)

SITE = SCENARIOS / "http-site"
CGI_BIN = SCENARIOS / "http-cgi-bin"

# Placeholders rather than an f-string: the YAML is full of braces.
SCENARIO = """
name: http-clients
clock: 2026-03-01T12:00:00Z
servers:
  web:
    protocol: http
    docroot: @SITE@
    cgi: {dir: @CGI@, timeout: 5s}
    rules:
      - name: upload
        on: PUT
        match: '^/upload/'
        reply: {status: 201, headers: {Content-Type: text/plain}, body: "stored\\n"}
      - name: form
        on: POST
        match: '^/form$'
        reply: {headers: {Content-Type: text/plain}, body: "got it\\n"}
      - name: item
        on: GET
        match: '^/api/items/(\\w+)$'
        reply: {headers: {Content-Type: application/json}, body: '{"item": "${1}"}'}
  slow:
    protocol: http
    rules:
      - name: slow-refusal
        on: PUT
        delay: 2s
        reply: {status: 401, headers: {Content-Type: text/plain}, body: "no\\n"}
  strict:
    protocol: http
    rules:
      - name: no-expect
        on: PUT
        when_headers: {Expect: '100-continue'}
        reply: {status: 417, headers: {Content-Type: text/plain}, body: "no\\n"}
        then: close
  counted:
    protocol: http
    rules:
      - name: second-put-fails
        on: PUT
        after: 1
        reply: {status: 500, headers: {Content-Type: text/plain}, body: "second\\n"}
""".replace("@SITE@", str(SITE)).replace("@CGI@", str(CGI_BIN))


def farm():
    return Farm(SCENARIO, name="http-clients.yaml")


def hello():
    return (SITE / "hello.txt").read_bytes()


def one_session(test, f, server="web"):
    docs = f.sessions(server)
    test.assertEqual(len(docs), 1, [requests(d) for d in docs])
    return docs[0]


@unittest.skipUnless(CURL, "curl is not installed")
class Curl(unittest.TestCase):
    def test_http10_and_http11(self):
        with farm() as f:
            old = curl("--http1.0", url(f, "/hello.txt"))
            new = curl("--http1.1", url(f, "/hello.txt"))
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual((old.returncode, old.status, old.body), (0, 200, hello()))
        self.assertEqual((new.returncode, new.status, new.body), (0, 200, hello()))
        # An HTTP/1.0 request without keep-alive: the server says so and closes.
        self.assertEqual(old.head.get("Connection"), "close")
        self.assertIsNone(new.head.get("Connection"))
        first, second = f.session("web", 1), f.session("web", 2)
        self.assertEqual(requests(first)[0]["version"], "HTTP/1.0")
        self.assertEqual(first["close"], "server")
        self.assertEqual(requests(second)[0]["version"], "HTTP/1.1")
        self.assertEqual(second["close"], "client")

    def test_keep_alive_reuse_over_several_urls(self):
        with farm() as f:
            several = curl(url(f, "/hello.txt"), url(f, "/api/items/a1"),
                           url(f, "/docs/guide.txt"), url(f, "/cgi-bin/hello.sh?name=again"))
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual(several.returncode, 0, several)
        self.assertEqual([h.status for h in several.heads], [200, 200, 200, 200])
        self.assertEqual(several.body, hello() + b'{"item": "a1"}'
                         + (SITE / "docs/guide.txt").read_bytes()
                         + b"Hello, again!\nmethod=GET query=name=again\n")
        doc = one_session(self, f)
        self.assertEqual([(r["request"], r["target"]) for r in requests(doc)],
                         [(1, "/hello.txt"), (2, "/api/items/a1"), (3, "/docs/guide.txt"),
                          (4, "/cgi-bin/hello.sh?name=again")])
        self.assertEqual(statuses(doc), [200, 200, 200, 200])
        self.assertEqual(doc["close"], "client")

    def test_uploads_with_T(self):
        data = (SITE / "data.bin").read_bytes() * 2
        with tempfile.TemporaryDirectory() as tmp:
            upload = Path(tmp) / "file.bin"
            upload.write_bytes(data)
            with farm() as f:
                from_file = curl("-T", upload, url(f, "/upload/"))
                from_stdin = curl("-T", "-", url(f, "/upload/stdin.bin"), input=data[:70000])
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual((from_file.status, from_file.body), (201, b"stored\n"))
        self.assertEqual((from_stdin.status, from_stdin.body), (201, b"stored\n"))

        doc = f.session("web", 1)
        [request] = requests(doc)
        self.assertEqual((request["method"], request["target"]), ("PUT", "/upload/file.bin"))
        self.assertEqual(request["headers"]["Content-Length"], str(len(data)))
        [body] = bodies(doc)
        self.assertEqual((body["request"], body["size"]), (1, len(data)))
        self.assertEqual(saved(f, body), data)
        self.assertEqual(one(doc, "rule")["rule"], "upload")
        # From stdin the length is unknown: a chunked body, saved decoded.
        doc = f.session("web", 2)
        [request] = requests(doc)
        self.assertEqual(request["headers"]["Transfer-Encoding"], "chunked")
        self.assertNotIn("Content-Length", request["headers"])
        [body] = bodies(doc)
        self.assertEqual(body["size"], 70000)
        self.assertEqual(saved(f, body), data[:70000])
        self.assertTrue(event_bytes(body_frames(doc)[0]).endswith(b"\r\n0\r\n\r\n"))

    def test_data_posts(self):
        binary = (SITE / "data.bin").read_bytes()[:3000]
        with tempfile.TemporaryDirectory() as tmp:
            blob = Path(tmp) / "blob.bin"
            blob.write_bytes(binary)
            with farm() as f:
                form = curl("--data", "a=1&b=2", url(f, "/form"))
                raw = curl("--data-binary", f"@{blob}", "-H", "Content-Type: application/x-blob",
                           url(f, "/form"))
                encoded = curl("--data-urlencode", "q=a b&c", url(f, "/form"))
                multipart = curl("-F", "name=value", "-F", f"file=@{blob}", url(f, "/form"))
        self.assertEqual(f.returncode, 0, f.stderr)
        for fetched in (form, raw, encoded, multipart):
            self.assertEqual((fetched.status, fetched.body), (200, b"got it\n"), fetched)

        def body_of(n):
            doc = f.session("web", n)
            [request] = requests(doc)
            [body] = bodies(doc)
            self.assertEqual(request["method"], "POST")
            self.assertEqual(body["size"], len(saved(f, body)))
            return request["headers"], saved(f, body)

        headers, body = body_of(1)
        self.assertEqual((headers["Content-Type"], body),
                         ("application/x-www-form-urlencoded", b"a=1&b=2"))
        headers, body = body_of(2)
        self.assertEqual((headers["Content-Type"], body), ("application/x-blob", binary))
        headers, body = body_of(3)
        self.assertEqual(body, b"q=a+b%26c")
        headers, body = body_of(4)
        self.assertTrue(headers["Content-Type"].startswith("multipart/form-data; boundary="))
        self.assertIn(b'Content-Disposition: form-data; name="name"\r\n\r\nvalue\r\n', body)
        self.assertIn(binary, body)

    def test_ranges(self):
        data = (SITE / "data.bin").read_bytes()
        with farm() as f:
            two = curl("-r", "100-199", url(f, "/data.bin"), url(f, "/data.bin?again"))
            several = curl("-r", "0-0,-1", url(f, "/data.bin"))
            beyond = curl("-r", "65536-", url(f, "/data.bin"))
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual([h.status for h in two.heads], [206, 206])
        self.assertEqual(two.body, data[100:200] * 2)
        self.assertEqual(several.status, 206)
        self.assertIn(data[:1], several.body)
        self.assertIn("multipart/byteranges", several.head.get("Content-Type"))
        self.assertEqual(beyond.status, 416)
        doc = f.session("web", 1)
        self.assertEqual([r["headers"]["Range"] for r in requests(doc)], ["bytes=100-199"] * 2)
        self.assertEqual([e["sha256"] for e in named_events(doc, "response_body")],
                         [sha256(data[100:200])] * 2)

    def test_a_proxy_request_has_an_absolute_form_target(self):
        with farm() as f:
            proxied = curl("-x", f"http://{f.host('web')}:{f.port('web')}",
                           "http://example.test/hello.txt")
            proxied_rule = curl("-x", f"http://{f.host('web')}:{f.port('web')}",
                                "http://example.test/api/items/p1")
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual((proxied.status, proxied.body), (200, hello()))
        # Rules match the target in origin form: scheme and authority dropped.
        self.assertEqual((proxied_rule.status, proxied_rule.body), (200, b'{"item": "p1"}'))
        first = f.session("web", 1)
        [request] = requests(first)
        self.assertEqual(request["target"], "http://example.test/hello.txt")
        self.assertEqual(request["headers"]["Host"], "example.test")
        self.assertEqual(requests(f.session("web", 2))[0]["target"],
                         "http://example.test/api/items/p1")
        self.assertEqual(one(f.session("web", 2), "rule")["rule"], "item")

    def test_expect100_timeout(self):
        payload = b"B" * 1000  # no line end: whatever the server makes of it, it waits for more
        big = (SITE / "data.bin").read_bytes() * 20
        with tempfile.TemporaryDirectory() as tmp:
            small = Path(tmp) / "small.bin"
            small.write_bytes(payload)
            large = Path(tmp) / "large.bin"
            large.write_bytes(big)
            with farm() as f:
                # The rule answers 401 after 2 s. A patient client waits for it and never sends
                # the body; an impatient one sends the body after 0.3 s without a 100 Continue.
                patient = curl("--expect100-timeout", "10", "-H", "Expect: 100-continue",
                               "-T", small, url(f, "/x", "slow"))
                impatient = curl("--expect100-timeout", "0.3", "-H", "Expect: 100-continue",
                                 "-T", small, url(f, "/x", "slow"))
                # The built-in behaviour sends 100 Continue at once: no waiting for the timeout.
                prompt = curl("--expect100-timeout", "10", "-T", large, url(f, "/upload/l.bin"))
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual(patient.status, 401, patient)
        self.assertGreaterEqual(patient.elapsed, 1.9)
        self.assertEqual(impatient.status, 401, impatient)
        self.assertEqual([h.status for h in prompt.heads], [100, 201])
        self.assertLess(prompt.elapsed, 5)

        waited = f.session("slow", 1)
        [request] = requests(waited)
        self.assertEqual(request["headers"]["Expect"], "100-continue")
        self.assertEqual(client_bytes(waited), event_bytes(request))  # the head, and no body
        self.assertEqual(statuses(waited), [401])
        hurried = f.session("slow", 2)
        self.assertEqual(statuses(hurried), [401])
        sent = client_bytes(hurried)
        self.assertTrue(sent.startswith(event_bytes(requests(hurried)[0])))
        self.assertIn(payload, sent)  # the body came without a 100 Continue
        self.assertNotIn(b"100 Continue", server_bytes(hurried))
        doc = f.session("web", 1)
        self.assertTrue(server_bytes(doc).startswith(b"HTTP/1.1 100 Continue\r\n\r\n"))
        [body] = bodies(doc)
        self.assertEqual(saved(f, body), big)

    def test_a_rule_counts_each_request_once_with_expect(self):
        # `after: 1`: the first PUT is the built-in's (404: no docroot), the second the rule's.
        # With Expect: 100-continue the rules see the head first and the body later; that must
        # not count the request twice.
        with farm() as f:
            with Raw(f.address("counted")) as c:
                c.send(get("/a", method="PUT",
                           headers=[("Expect", "100-continue"), ("Content-Length", "3")]))
                first = c.response()
                if first.status == 100:
                    c.send(b"abc")
                    first = c.response()
                c.send(get("/b", method="PUT", body=b"abc"))
                second = c.response()
        self.assertEqual(first.status, 404, first)
        self.assertEqual((second.status, second.body), (500, b"second\n"))
        doc = f.session("counted", 1)
        self.assertEqual([e["count"] for e in named_events(doc, "rule")], [2])


@unittest.skipUnless(CURL, "curl is not installed")
class Urllib(unittest.TestCase):
    def open(self, request):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as r:
                return r.status, r.headers, r.read(), r.geturl()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers, e.read(), e.geturl()

    def test_get_post_errors_and_redirects(self):
        with farm() as f:
            item = self.open(url(f, "/api/items/u1"))
            missing = self.open(url(f, "/nothing"))
            folder = self.open(url(f, "/docs"))
            posted = self.open(urllib.request.Request(url(f, "/form"), data=b"x=1&y=2"))
            redirected = self.open(url(f, "/cgi-bin/redirect.sh"))
            put = self.open(urllib.request.Request(url(f, "/upload/u.txt"), data=b"put body\n",
                                                   method="PUT"))
        self.assertEqual(f.returncode, 0, f.stderr)
        status, headers, body, _ = item
        self.assertEqual((status, json.loads(body)), (200, {"item": "u1"}))
        self.assertEqual(headers["Server"], "protofarm")
        self.assertEqual(headers["Date"], "Sun, 01 Mar 2026 12:00:00 GMT")
        self.assertEqual(headers["Connection"], "close")  # urllib asked to close
        status, headers, body, _ = missing
        self.assertEqual(status, 404)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn(b"404 Not Found", body)
        status, _, body, final = folder
        self.assertEqual(status, 200)
        self.assertTrue(final.endswith("/docs/"), final)
        self.assertIn(b"Index of /docs/", body)
        self.assertEqual(posted[:3:2], (200, b"got it\n"))
        status, _, body, final = redirected
        self.assertEqual(status, 200)
        self.assertTrue(body.startswith(b"Hello, redirected!"), body)
        self.assertIn("/cgi-bin/hello.sh?name=redirected", final)
        self.assertEqual(put[:3:2], (201, b"stored\n"))

        docs = f.sessions("web")
        for doc in docs:
            [request] = requests(doc)
            self.assertTrue(request["headers"]["User-Agent"].startswith("Python-urllib/"))
            self.assertEqual(request["headers"]["Connection"], "close")
            self.assertIn(b"\r\nConnection: close\r\n", server_bytes(doc))
        self.assertEqual([requests(d)[0]["target"] for d in docs],
                         ["/api/items/u1", "/nothing", "/docs", "/docs/", "/form",
                          "/cgi-bin/redirect.sh", "/cgi-bin/hello.sh?name=redirected",
                          "/upload/u.txt"])
        [body] = bodies(docs[4])
        self.assertEqual(saved(f, body), b"x=1&y=2")
        self.assertEqual(requests(docs[4])[0]["headers"]["Content-Type"],
                         "application/x-www-form-urlencoded")
        [body] = bodies(docs[7])
        self.assertEqual(saved(f, body), b"put body\n")


class HttpClient(unittest.TestCase):
    def test_keep_alive_head_and_chunked_bodies(self):
        with farm() as f:
            conn = http.client.HTTPConnection(f.host("web"), f.port("web"), timeout=TIMEOUT)
            try:
                conn.request("GET", "/hello.txt")
                r = conn.getresponse()
                got = [(r.status, r.read())]
                conn.request("HEAD", "/data.bin")
                r = conn.getresponse()
                got.append((r.status, r.read()))
                head_length = r.getheader("Content-Length")
                conn.request("POST", "/cgi-bin/echo.py", body=iter([b"abc", b"defg"]),
                             headers={"Content-Type": "text/plain"})
                r = conn.getresponse()
                got.append((r.status, r.read()))
                echoed_type = r.getheader("Content-Type")
                conn.request("GET", "/api/items/z9")
                r = conn.getresponse()
                got.append((r.status, r.read()))
            finally:
                conn.close()
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual(got, [(200, hello()), (200, b""), (200, b"abcdefg"),
                               (200, b'{"item": "z9"}')])
        self.assertEqual(head_length, "65536")
        self.assertEqual(echoed_type, "text/plain")

        doc = one_session(self, f)
        self.assertEqual([(r["request"], r["method"], r["target"]) for r in requests(doc)],
                         [(1, "GET", "/hello.txt"), (2, "HEAD", "/data.bin"),
                          (3, "POST", "/cgi-bin/echo.py"), (4, "GET", "/api/items/z9")])
        self.assertEqual(statuses(doc), [200, 200, 200, 200])
        [body] = bodies(doc)
        self.assertEqual((body["request"], body["size"]), (3, 7))
        self.assertEqual(saved(f, body), b"abcdefg")
        self.assertEqual(event_bytes(body_frames(doc)[0]), b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
        self.assertEqual(requests(doc)[2]["headers"]["Transfer-Encoding"], "chunked")
        self.assertGreater(one(doc, "cgi_end")["stdout_size"], 7)
        # HEAD: the headers of the whole file, and no body.
        described = named_events(doc, "response_body")
        self.assertEqual([d["size"] for d in described], [len(hello())])

    def test_options(self):
        with farm() as f:
            conn = http.client.HTTPConnection(f.host("web"), f.port("web"), timeout=TIMEOUT)
            try:
                conn.request("OPTIONS", "*")
                r = conn.getresponse()
                star = (r.status, r.getheader("Allow"), r.read())
                conn.request("OPTIONS", "/api/items/none")
                r = conn.getresponse()
                nowhere = (r.status, r.getheader("Allow"), r.read())
                conn.request("OPTIONS", "/hello.txt")
                r = conn.getresponse()
                file = (r.status, r.getheader("Allow"), r.read())
            finally:
                conn.close()
        self.assertEqual(f.returncode, 0, f.stderr)
        for name, (status, allow, _) in (("*", star), ("no file", nowhere), ("a file", file)):
            with self.subTest(name):
                # RFC 9110 9.3.7: 200 and Allow, for a file of the document root too (not a
                # 405 whose Allow lists OPTIONS).
                self.assertEqual(status, 200, (status, allow))
                self.assertIn("GET", allow)
                self.assertIn("OPTIONS", allow)
        doc = one_session(self, f)
        self.assertEqual([r["target"] for r in requests(doc)],
                         ["*", "/api/items/none", "/hello.txt"])


class RawClient(unittest.TestCase):
    def test_pipelined_requests_are_answered_in_order(self):
        with farm() as f:
            with Raw(f.address("web")) as c:
                c.send(get("/api/items/p1") + get("/hello.txt") + get("/nothing")
                       + get("/api/items/p2", method="HEAD") + get("/api/items/p3"))
                answers = [c.response(), c.response(), c.response(), c.response("HEAD"),
                           c.response()]
                self.assertTrue(c.still_open())
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual([a.status for a in answers], [200, 200, 404, 404, 200])
        self.assertEqual(answers[0].body, b'{"item": "p1"}')
        self.assertEqual(answers[1].body, hello())
        self.assertEqual(answers[4].body, b'{"item": "p3"}')
        doc = one_session(self, f)
        self.assertEqual([(r["request"], r["method"], r["target"]) for r in requests(doc)],
                         [(1, "GET", "/api/items/p1"), (2, "GET", "/hello.txt"),
                          (3, "GET", "/nothing"), (4, "HEAD", "/api/items/p2"),
                          (5, "GET", "/api/items/p3")])
        self.assertEqual(statuses(doc), [200, 200, 404, 404, 200])

    def test_http10_keep_alive(self):
        with farm() as f:
            with Raw(f.address("web")) as c:
                c.send(get("/hello.txt", host=None, version="HTTP/1.0",
                           headers=[("Connection", "keep-alive")]))
                kept = c.response()
                c.send(get("/api/items/k", host=None, version="HTTP/1.0"))
                last = c.response()
                closed = c.closed()
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual((kept.status, kept.body), (200, hello()))
        self.assertEqual(kept.get("Connection"), "keep-alive")
        self.assertEqual((last.status, last.body), (200, b'{"item": "k"}'))
        self.assertEqual(last.get("Connection"), "close")
        self.assertTrue(closed)
        doc = one_session(self, f)
        self.assertEqual([r["version"] for r in requests(doc)], ["HTTP/1.0", "HTTP/1.0"])
        self.assertEqual(doc["close"], "server")

    def test_a_refusal_with_then_close_closes(self):
        with farm() as f:
            with Raw(f.address("strict")) as c:
                c.send(get("/x", method="PUT",
                           headers=[("Expect", "100-continue"), ("Content-Length", "5")]))
                refused = c.response()
                closed = c.closed()
        self.assertEqual(refused.status, 417)
        self.assertTrue(closed)
        doc = f.session("strict", 1)
        self.assertEqual(statuses(doc), [417])
        self.assertEqual(doc["close"], "server")
        self.assertEqual(bodies(doc), [])

    def test_repeated_header_names_are_recorded_as_a_list(self):
        with farm() as f:
            with Raw(f.address("web")) as c:
                c.send(get("/hello.txt", headers=[("X-Tag", "one"), ("X-Tag", "two"),
                                                  ("Accept", "*/*")]))
                r = c.response()
        self.assertEqual(r.status, 200)
        [request] = requests(f.session("web", 1))
        self.assertEqual(request["headers"]["X-Tag"], ["one", "two"])
        self.assertEqual(request["headers"]["Accept"], "*/*")


class Serve(Farm):
    """`protofarm serve DIR ARGS...`, started and stopped like a farm."""

    def __init__(self, folder, args=()):
        super().__init__(text="", args=args)
        self.folder = folder

    def command(self):
        return [PROTOFARM, "serve", str(self.folder), "--transcripts", str(self.transcripts),
                "--ready-file", str(self.ready_file), *self.args]


@unittest.skipUnless(CURL, "curl is not installed")
class ProtofarmServe(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        root = Path(self.tmp.name)
        self.site = root / "site"
        (self.site / "sub").mkdir(parents=True)
        (self.site / "page.txt").write_text("served by protofarm serve\n")
        (self.site / "sub" / "deep.json").write_text('{"deep": true}\n')
        (root / "secret.txt").write_text("outside the folder\n")
        os.symlink(root / "secret.txt", self.site / "outside.txt")
        os.symlink(self.site / "page.txt", self.site / "inside.txt")
        self.cgi = root / "cgi"
        self.cgi.mkdir()
        script = self.cgi / "hi.sh"
        script.write_text("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nhi %s\\n' "
                          "\"$QUERY_STRING\"\n")
        script.chmod(0o755)

    def tearDown(self):
        self.tmp.cleanup()

    def test_a_folder_with_cgi(self):
        with Serve(self.site, ["--cgi", self.cgi]) as s:
            self.assertTrue(s.ready_line.startswith("protofarm ready: web=http://127.0.0.1:"),
                            s.ready_line)
            self.assertEqual((s.server("web")["protocol"], s.server("web")["tls"]),
                             ("http", "none"))
            listing = curl(url(s, "/"))
            page = curl(url(s, "/page.txt"), url(s, "/sub/deep.json"))
            script = curl(url(s, "/cgi-bin/hi.sh?there"))
            outside = curl(url(s, "/outside.txt"))
            inside = curl(url(s, "/inside.txt"))
            climb = curl("--path-as-is", url(s, "/sub/../../secret.txt"))
        self.assertEqual(s.returncode, 0, s.stderr)
        self.assertEqual(listing.status, 200)
        self.assertIn(b'href="page.txt"', listing.body)
        self.assertIn(b'href="sub/"', listing.body)
        self.assertIn(b'href="inside.txt"', listing.body)
        self.assertNotIn(b"outside.txt", listing.body)  # a link that leads out is not listed
        self.assertEqual(page.body, b'served by protofarm serve\n{"deep": true}\n')
        self.assertEqual(page.heads[1].get("Content-Type"), "application/json")
        self.assertEqual(script.body, b"hi there\n")
        self.assertEqual(outside.status, 404)
        self.assertNotIn(b"outside the folder", outside.body)
        self.assertEqual((inside.status, inside.body), (200, b"served by protofarm serve\n"))
        self.assertEqual(climb.status, 400)
        self.assertNotIn(b"outside the folder", climb.body)

        docs = s.sessions("web")
        self.assertEqual(len(docs), 6)
        self.assertEqual(docs[0]["protocol"], "http")
        self.assertEqual([r["target"] for r in requests(docs[1])], ["/page.txt", "/sub/deep.json"])
        self.assertEqual(one(docs[2], "cgi_start")["query"], "there")
        self.assertEqual(statuses(docs[3]), [404])
        self.assertEqual(statuses(docs[5]), [400])

    def test_over_https(self):
        with Serve(self.site, ["--tls", "implicit", "--listen", "127.0.0.1:0"]) as s:
            self.assertEqual(s.host("web"), "127.0.0.1")
            self.assertNotEqual(s.port("web"), 0)
            ca = s.ca
            good = curl("--cacert", ca, url(s, "/page.txt", scheme="https", host="localhost"))
            bad = curl(url(s, "/page.txt", scheme="https"))
            context = ssl.create_default_context(cafile=ca)
            with urllib.request.urlopen(url(s, "/sub/deep.json", scheme="https"),
                                        timeout=TIMEOUT, context=context) as r:
                deep = r.read()
        self.assertEqual(s.returncode, 0, s.stderr)
        self.assertEqual(s.server("web")["tls"], "implicit")
        self.assertEqual((good.returncode, good.body), (0, b"served by protofarm serve\n"))
        self.assertEqual(bad.returncode, 60)
        self.assertEqual(deep, b'{"deep": true}\n')
        self.assertTrue(one(s.session("web", 1), "tls")["version"].startswith("TLS"))

    def test_bad_usage(self):
        missing = run("serve", Path(self.tmp.name) / "no-such-folder")
        self.assertEqual(missing.returncode, 2, missing.stdout + missing.stderr)
        bad_tls = run("serve", self.site, "--tls", "starttls")
        self.assertEqual(bad_tls.returncode, 2, bad_tls.stdout + bad_tls.stderr)


if __name__ == "__main__":
    unittest.main()


VERIFY = """
name: http-verify
servers:
  web:
    protocol: http
    docroot: @SITE@
    rules:
      - {name: form, on: POST, match: '^/form$', reply: {status: 204}}
expect:
  web:
    sessions: 2
    rules: {form: 1}
    @CHECK@
""".replace("@SITE@", str(SITE))


@unittest.skipUnless(CURL, "curl is not installed")
class ClientCertificates(unittest.TestCase):
    """tls.client_certificate: the server asks for a certificate; the tls event names the one the
    client sent; `require` fails a handshake without one."""

    SCENARIO = ("name: client-certs\nservers:\n"
                "  asks:\n    protocol: http\n"
                "    tls: {mode: implicit, client_certificate: request}\n"
                "  needs:\n    protocol: http\n"
                "    tls: {mode: implicit, client_certificate: require}\n")

    def test_request_and_require(self):
        with tempfile.TemporaryDirectory(prefix="protofarm-client-cert-") as tmp:
            tmp = Path(tmp)
            cert, key = tmp / "client.pem", tmp / "client.key"
            made = run_tool(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                             "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                             "/CN=test-client", "-keyout", key, "-out", cert])
            self.assertEqual(made.returncode, 0, made.stderr)
            scenario = tmp / "client-certs.yaml"
            scenario.write_text(self.SCENARIO)
            with Farm(path=scenario) as farm:
                ca = farm.ca
                with_cert = curl("--cacert", ca, "--cert", cert, "--key", key,
                                 url(farm, "/", "asks", "https", "localhost"))
                without = curl("--cacert", ca, url(farm, "/", "asks", "https", "localhost"))
                refused = curl("--cacert", ca, url(farm, "/", "needs", "https", "localhost"))
                accepted = curl("--cacert", ca, "--cert", cert, "--key", key,
                                url(farm, "/", "needs", "https", "localhost"))
        self.assertEqual((with_cert.returncode, with_cert.head.status), (0, 404), with_cert.stderr)
        self.assertEqual((without.returncode, without.head.status), (0, 404), without.stderr)
        self.assertNotEqual(refused.returncode, 0)  # the handshake failed
        self.assertIsNone(refused.head)
        self.assertEqual((accepted.returncode, accepted.head.status), (0, 404), accepted.stderr)
        [tls] = named_events(farm.session("asks", 1), "tls")
        self.assertEqual(tls["client_certificate"], "CN=test-client")
        [tls] = named_events(farm.session("asks", 2), "tls")
        self.assertNotIn("client_certificate", tls)
        self.assertEqual(named_events(farm.session("needs", 1), "tls"), [])
        self.assertEqual(len(named_events(farm.session("needs", 1), "tls_failed")), 1)
        [tls] = named_events(farm.session("needs", 2), "tls")
        self.assertEqual(tls["client_certificate"], "CN=test-client")


def run_tool(args):
    import subprocess
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=60)


class Verify(unittest.TestCase):
    """`protofarm verify` on what an http server recorded."""

    def verify(self, check):
        with Farm(VERIFY.replace("@CHECK@", check), name="http-verify.yaml") as f:
            page = curl(url(f, "/hello.txt"))
            form = curl("--data", "a=1&b=2", url(f, "/form"))
        self.assertEqual((page.status, form.status), (200, 204))
        return run("verify", f.scenario, "--transcripts", f.transcripts)

    def test_payloads_are_the_request_bodies(self):
        verified = self.verify('payloads: [{equals: "a=1&b=2"}]')
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)

    def test_a_wrong_payload_fails(self):
        verified = self.verify('payloads: [{equals: "something else"}]')
        self.assertEqual(verified.returncode, 1, verified.stdout + verified.stderr)

    def test_commands_are_the_methods(self):
        verified = self.verify("commands: [GET, POST]")
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)

    def test_rules_and_sessions(self):
        verified = self.verify("session: {2: {close: client}}")
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
