"""The http fake against bad input over raw sockets: request lines and header blocks over the
limits (414, 431), invalid methods and versions, obs-fold, a Content-Length with a
Transfer-Encoding, conflicting lengths, bad chunk sizes, bodies over max_body, a body shorter
than its Content-Length from a client that then vanishes, and paths that try to leave the
document root. A strict server refuses what it cannot frame with an error and `Connection:
close`, then closes; it answers a path that names nothing as it would any other. Each test checks
the reply, what the transcript recorded, and that a new connection is still served. Every socket
has a timeout; nothing sleeps."""

import os
import socket
import tempfile
import unittest
from pathlib import Path

from farm import Farm, client_bytes, event_bytes
from http_util import Raw, bodies, body_frames, errors, get, requests, saved, served, statuses

SCENARIO = """
name: http-bad-input
servers:
  web:
    protocol: http
    docroot: @ROOT@
    max_body: 64KiB
    rules:
      - name: ok
        on: GET
        match: '^/ok$'
        reply: {headers: {Content-Type: text/plain}, body: "ok\\n"}
      - name: sink
        on: POST
        match: '^/sink$'
        reply: {status: 204}
"""


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        base = Path(self.tmp.name)
        self.root = base / "root"
        (self.root / "docs").mkdir(parents=True)
        (self.root / "hello.txt").write_text("hello\n")
        (self.root / "docs" / "a.txt").write_text("a\n")
        (base / "secret.txt").write_text("SECRET outside the docroot\n")
        os.symlink(base / "secret.txt", self.root / "leak.txt")
        os.symlink(base, self.root / "up")
        os.symlink(self.root / "hello.txt", self.root / "alias.txt")
        self.farm = Farm(SCENARIO.replace("@ROOT@", str(self.root))).start()
        self.address = self.farm.address("web")

    def tearDown(self):
        self.farm.stop()
        self.tmp.cleanup()

    def refused(self, data, status, chunks=None):
        """Sends `data` (in `chunks` when given), expects `status` with Connection: close and
        the server closing; returns the response."""
        with Raw(self.address) as c:
            for piece in (chunks or [data]):
                c.send(piece)
            r = c.response()
            self.assertEqual(r.status, status, r)
            self.assertEqual(r.get("Connection"), "close", r)
            self.assertEqual(r.get("Content-Type"), "text/html; charset=utf-8")
            self.assertIn(str(status).encode(), r.body)
            self.assertTrue(c.closed(), "the server did not close")
        served(self, self.address)  # and the next client is served
        return r

    def finished(self):
        """The farm stopped; its session documents, in order."""
        self.assertEqual(self.farm.stop(), 0, self.farm.stderr)
        return self.farm.sessions("web")

    def assert_recorded(self, doc, status, sent=None):
        """The session recorded the refusal: a client event with `error` and `detail`, the
        error response, and the server's close."""
        [error] = errors(doc)
        self.assertEqual(error["error"], status)
        self.assertTrue(error["detail"], error)
        if sent is not None:
            self.assertEqual(client_bytes(doc)[:len(sent)], sent[:len(client_bytes(doc))])
        self.assertEqual(statuses(doc), [status])
        self.assertEqual(doc["close"], "server")
        return error

    # --- limits --------------------------------------------------------------------------------

    def test_request_line_over_8kib_is_414(self):
        data = get("/" + "a" * 9000)
        self.refused(data, 414)
        docs = self.finished()
        error = self.assert_recorded(docs[0], 414)
        self.assertIn("8192", error["detail"])
        self.assertEqual(requests(docs[0]), [])  # no request was read
        self.assertEqual([statuses(d) for d in docs[1:]], [[200]])

    def test_request_line_without_an_end_is_414_at_the_limit(self):
        # No line feed at all: the server does not wait for more than the limit.
        self.refused(b"GET /" + b"b" * 9000, 414)
        self.assert_recorded(self.finished()[0], 414)

    def test_header_fields_over_16kib_are_431(self):
        fields = [(f"X-Filler-{i}", "v" * 1000) for i in range(17)]
        self.refused(get("/ok", headers=fields), 431)
        docs = self.finished()
        error = self.assert_recorded(docs[0], 431)
        self.assertIn("16384", error["detail"])

    def test_header_fields_just_under_the_limit_are_taken(self):
        fields = [(f"X-Filler-{i}", "v" * 1000) for i in range(15)]
        with Raw(self.address) as c:
            c.send(get("/ok", headers=fields))
            r = c.response()
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        [request] = requests(self.finished()[0])
        self.assertEqual(request["headers"]["X-Filler-14"], "v" * 1000)

    def test_a_body_over_max_body_is_413_before_it_is_read(self):
        head = get("/sink", method="POST", headers=[("Content-Length", str(100 * 1024))])
        self.refused(head, 413)
        docs = self.finished()
        self.assert_recorded(docs[0], 413)
        self.assertEqual(bodies(docs[0]), [])

    def test_a_chunked_body_over_max_body_is_413(self):
        chunk = b"8000\r\n" + b"c" * 0x8000 + b"\r\n"
        data = (get("/sink", method="POST", headers=[("Transfer-Encoding", "chunked")])
                + chunk * 3 + b"0\r\n\r\n")
        self.refused(data, 413)
        doc = self.finished()[0]
        [request] = requests(doc)  # the head was read, then the body grew past the limit
        self.assertEqual(request["headers"]["Transfer-Encoding"], "chunked")
        error = self.assert_recorded(doc, 413)
        self.assertTrue(error.get("body"), {k: v for k, v in error.items() if k != "text"})
        self.assertEqual(client_bytes(doc).count(b"POST /sink HTTP/1.1"), 1)

    # --- request lines -------------------------------------------------------------------------

    def test_invalid_methods_are_400(self):
        lines = [b"G(T /ok HTTP/1.1", b"GE\x01T /ok HTTP/1.1", b"/ok HTTP/1.1",
                 b"GET\t/ok HTTP/1.1", b"\xffGET /ok HTTP/1.1"]
        for line in lines:
            with self.subTest(line):
                self.refused(line + b"\r\nHost: x\r\n\r\n", 400)
        docs = self.finished()
        refused = [d for d in docs if errors(d)]
        self.assertEqual(len(refused), len(lines))
        for doc, line in zip(refused, lines):
            self.assertTrue(client_bytes(doc).startswith(line), client_bytes(doc))
            self.assert_recorded(doc, 400)

    def test_invalid_versions(self):
        cases = [(b"GET /ok HTTP/1.x", 400), (b"GET /ok HTTPS/1.1", 400), (b"GET /ok", 400),
                 (b"GET /ok HTTP/1.1 extra", 400), (b"GET /ok http/1.1", 400),
                 (b"GET /ok HTTP/2.0", 505), (b"GET /ok HTTP/0.9", 505)]
        for line, status in cases:
            with self.subTest(line):
                self.refused(line + b"\r\nHost: x\r\n\r\n", status)
        docs = [d for d in self.finished() if errors(d)]
        self.assertEqual([errors(d)[0]["error"] for d in docs], [s for _, s in cases])

    def test_http11_needs_exactly_one_host(self):
        self.refused(b"GET /ok HTTP/1.1\r\n\r\n", 400)
        self.refused(b"GET /ok HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400)
        with Raw(self.address) as c:  # HTTP/1.0 needs none
            c.send(b"GET /ok HTTP/1.0\r\n\r\n")
            r = c.response()
        self.assertEqual((r.status, r.body), (200, b"ok\n"))
        docs = self.finished()
        self.assertIn("Host", self.assert_recorded(docs[0], 400)["detail"])
        self.assert_recorded(docs[2], 400)

    def test_binary_junk_is_400(self):
        junk = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\xff\r\n\r\n"
        self.refused(junk, 400)
        doc = self.finished()[0]
        self.assert_recorded(doc, 400)
        self.assertEqual(client_bytes(doc), junk)
        self.assertIn("base64", [e for e in doc["events"] if e.get("from") == "client"][0])

    # --- header fields -------------------------------------------------------------------------

    def test_obs_fold_is_400(self):
        data = b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Long: first\r\n  continued\r\n\r\n"
        self.refused(data, 400)
        error = self.assert_recorded(self.finished()[0], 400)
        self.assertIn("obs-fold", error["detail"])

    def test_content_length_with_transfer_encoding_is_400(self):
        data = (b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.refused(data, 400)
        doc = self.finished()[0]
        self.assert_recorded(doc, 400)
        self.assertEqual(requests(doc), [])

    def test_conflicting_content_lengths_are_400(self):
        data = (b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
                b"hello!")
        self.refused(data, 400)
        self.assert_recorded(self.finished()[0], 400)

    def test_a_bad_content_length_is_400(self):
        for value in (b"-1", b"5x", b"0x10", b"99999999999999999999999"):
            with self.subTest(value):
                self.refused(b"POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: " + value
                             + b"\r\n\r\n", 400)
        self.assertEqual(len([d for d in self.finished() if errors(d)]), 4)

    def test_an_unknown_transfer_coding_is_501(self):
        data = b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\nxxxx"
        self.refused(data, 501)
        self.assert_recorded(self.finished()[0], 501)

    def test_an_unknown_expectation_is_417(self):
        data = b"POST /sink HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 2\r\n\r\nhi"
        self.refused(data, 417)
        self.assert_recorded(self.finished()[0], 417)

    # --- bodies --------------------------------------------------------------------------------

    def test_bad_chunk_sizes_are_400(self):
        for size in (b"zz", b"-1", b"1g", b"fffffffffffffffffffff", b""):
            with self.subTest(size):
                data = (b"POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + size + b"\r\nhello\r\n0\r\n\r\n")
                self.refused(data, 400)
        docs = [d for d in self.finished() if errors(d)]
        self.assertEqual(len(docs), 5)
        for doc in docs:
            [request] = requests(doc)  # the head was read, the body was not
            self.assertEqual(request["method"], "POST")
            error = self.assert_recorded(doc, 400)
            self.assertTrue(error.get("body"), error)
            self.assertEqual(client_bytes(doc).count(b"POST /sink HTTP/1.1"), 1, client_bytes(doc))

    def test_a_short_body_then_a_vanished_client(self):
        head = get("/sink", method="POST", headers=[("Content-Length", "100")])
        with Raw(self.address) as c:
            c.send(head + b"0123456789")
            c.sock.shutdown(socket.SHUT_WR)  # the client goes away with 90 bytes owed
            self.assertTrue(c.closed())
        served(self, self.address)
        docs = self.finished()
        doc = docs[0]
        [request] = requests(doc)
        self.assertEqual((request["method"], request["headers"]["Content-Length"]),
                         ("POST", "100"))
        [body] = bodies(doc)
        self.assertFalse(body["complete"], body)
        [frame] = body_frames(doc)
        self.assertTrue(frame["partial"], frame)
        self.assertEqual(event_bytes(frame), b"0123456789")
        self.assertEqual(saved(self.farm, body), b"0123456789")
        self.assertEqual(statuses(doc), [])  # nothing was answered
        self.assertEqual(doc["close"], "client")
        self.assertEqual(statuses(docs[1]), [200])

    def test_half_a_head_then_a_vanished_client(self):
        with Raw(self.address) as c:
            c.send(b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Half")
            c.sock.shutdown(socket.SHUT_WR)
            self.assertTrue(c.closed())
        served(self, self.address)
        doc = self.finished()[0]
        self.assertEqual(requests(doc), [])
        [partial] = [e for e in doc["events"] if e.get("from") == "client"]
        self.assertTrue(partial["partial"], partial)
        self.assertEqual(event_bytes(partial), b"GET /ok HTTP/1.1\r\nHost: x\r\nX-Half")
        self.assertEqual(doc["close"], "client")

    def test_a_bad_request_pipelined_behind_a_good_one(self):
        with Raw(self.address) as c:
            c.send(get("/ok") + b"BAD REQUEST LINE\r\n\r\n" + get("/ok"))
            good = c.response()
            bad = c.response()
            closed = c.closed()
        self.assertEqual((good.status, bad.status), (200, 400))
        self.assertTrue(closed)  # the third request is never answered
        served(self, self.address)
        doc = self.finished()[0]
        self.assertEqual(statuses(doc), [200, 400])
        self.assertEqual([r["request"] for r in requests(doc)], [1])
        self.assertEqual(len(errors(doc)), 1)

    # --- the document root ---------------------------------------------------------------------

    def test_nothing_outside_the_docroot_is_reachable(self):
        cases = [
            ("/../secret.txt", 400),
            ("/docs/../../secret.txt", 400),
            ("/%2e%2e/secret.txt", 400),
            ("/docs/%2E%2E/%2e%2e/secret.txt", 400),
            ("/docs/..%2f..%2fsecret.txt", 404),
            ("/%2e%2e%2fsecret.txt", 404),
            ("/hello.txt%00.html", 400),
            ("/docs%00/a.txt", 400),
            ("/leak.txt", 404),
            ("/up/secret.txt", 404),
            ("/up/", 404),
            ("/..\\secret.txt", 404),
            ("/%252e%252e/secret.txt", 404),
            ("/docs/%zz", 400),
        ]
        got = []
        with Raw(self.address) as c:  # these are answered like any request: the connection stays
            for path, _ in cases:
                c.send(get(path))
                r = c.response()
                got.append((path, r.status))
                self.assertNotIn(b"SECRET", r.body, path)
            c.send(get("/alias.txt"))  # a link that stays inside is fine
            alias = c.response()
            c.send(get("/docs/../hello.txt"))
            normalized = c.response()
        self.assertEqual(got, cases)
        self.assertEqual((alias.status, alias.body), (200, b"hello\n"))
        self.assertEqual((normalized.status, normalized.body), (200, b"hello\n"))
        [doc] = self.finished()
        self.assertEqual([r["target"] for r in requests(doc)][:len(cases)], [p for p, _ in cases])
        self.assertEqual(statuses(doc), [s for _, s in cases] + [200, 200])
        self.assertEqual(errors(doc), [])  # not parse errors: the session went on
        self.assertEqual(doc["close"], "client")

    def test_an_absolute_form_target_cannot_leave_either(self):
        with Raw(self.address) as c:
            c.send(get("http://example.test/../secret.txt"))
            climb = c.response()
            c.send(get("http://example.test/hello.txt"))
            fine = c.response()
        self.assertEqual(climb.status, 400)
        self.assertNotIn(b"SECRET", climb.body)
        self.assertEqual((fine.status, fine.body), (200, b"hello\n"))
        [doc] = self.finished()
        self.assertEqual([r["target"] for r in requests(doc)],
                         ["http://example.test/../secret.txt", "http://example.test/hello.txt"])


if __name__ == "__main__":
    unittest.main()
