"""The http example scenarios (scenarios/http-*.yaml), each run with curl, and with Python's
urllib or a raw socket where curl cannot show a case (exact bytes on the wire, a response with
two Content-Lengths): what the client got (status, headers, bytes, exit status) and what the
transcript recorded (requests, bodies, statuses, rules, faults, CGI events).

Every example must be used by a test here (ExamplesAreTested), and must validate."""

import ast
import datetime
import email.utils
import json
import os
import re
import ssl
import tempfile
import unittest
import urllib.error
import urllib.request
from pathlib import Path

from farm import SCENARIOS, Farm, client_bytes, event_bytes, named_events, run, server_bytes
from http_util import (CURL, TIMEOUT, Raw, bodies, body_frames, cgi_events, curl, get, one, requests, saved,
                       sha256, statuses, url)

SITE = SCENARIOS / "http-site"
CGI_BIN = SCENARIOS / "http-cgi-bin"
CLOCK = datetime.datetime(2026, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
HTTP_DATE = email.utils.format_datetime(CLOCK, usegmt=True)  # Sun, 01 Mar 2026 12:00:00 GMT
BROKEN = b"This response is broken on purpose by protofarm.\n"  # a fault's body without reply


def example(name):
    return SCENARIOS / name


def etag(path):
    """The fake's ETag for a docroot file: size and the clock, in hex (nginx's shape)."""
    return f'"{path.stat().st_size:x}-{int(CLOCK.timestamp()):x}"'


def session_for(farm, server, target):
    """The session whose first request asked for `target`."""
    for doc in farm.sessions(server):
        found = requests(doc)
        if found and found[0]["target"] == target:
            return doc
    raise AssertionError(f"no session of {server} asked first for {target}")


def body_bytes(session):
    """What the server sent after the first response head (a text body, recorded as sent)."""
    return server_bytes(session).split(b"\r\n\r\n", 1)[1]


def multipart(body, boundary):
    """The parts of a multipart/byteranges body: [(fields, data)]."""
    parts = []
    for piece in body.split(b"--" + boundary.encode())[1:]:
        if piece.startswith(b"--"):
            break
        head, _, data = piece.partition(b"\r\n\r\n")
        fields = dict(line.split(": ", 1) for line in head.decode().split("\r\n") if line)
        parts.append((fields, data[:-2]))  # the CRLF before the next delimiter is not data
    return parts


def urlopen(request, context=None):
    """(status, headers, body) for a urllib request, error statuses included."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=context) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.headers, e.read()


def env_lines(body):
    """pathinfo.sh's output as a dict."""
    return dict(line.split("=", 1) for line in body.decode().splitlines() if "=" in line)


class Validate(unittest.TestCase):
    def test_every_example_validates(self):
        paths = sorted(SCENARIOS.glob("http-*.yaml"))
        self.assertGreaterEqual(len(paths), 7)
        for path in paths:
            with self.subTest(path.name):
                result = run("validate", path)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_cgi_scripts_are_executable_and_the_readme_is_not(self):
        # git records the executable bit; a checkout without it would turn every script into 403.
        for name in ("hello.sh", "echo.py", "pathinfo.sh", "redirect.sh", "local.sh", "slow.sh",
                     "nph-hello.sh", "bad-output.sh"):
            with self.subTest(name):
                self.assertTrue(os.access(CGI_BIN / name, os.X_OK), name)
        self.assertFalse(os.access(CGI_BIN / "readme.txt", os.X_OK))


    def test_starttls_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            scenario = Path(tmp) / "starttls.yaml"
            scenario.write_text("name: starttls\nservers:\n  web:\n    protocol: http\n"
                                "    tls: starttls\n")
            result = run("validate", scenario)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn("starttls", result.stdout + result.stderr)


class ExamplesAreTested(unittest.TestCase):
    def test_every_http_example_is_used_by_a_test(self):
        # Each scenarios/http-*.yaml is named in a test_* method of this file (not only in a
        # list), and every example a test names exists.
        tree = ast.parse(Path(__file__).read_text())
        used = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for inner in ast.walk(node):
                    if (isinstance(inner, ast.Constant) and isinstance(inner.value, str)
                            and re.fullmatch(r"http-[\w.-]+\.yaml", inner.value)):
                        used.add(inner.value)
        files = {p.name for p in SCENARIOS.glob("http-*.yaml")}
        self.assertEqual(sorted(files - used), [], "examples no test uses")
        self.assertEqual(sorted(used - files), [], "examples tests name that do not exist")


@unittest.skipUnless(CURL, "curl is not installed")
class JsonApi(unittest.TestCase):
    def test_path_capture_file_body_and_generated_body(self):
        with Farm(path=example("http-json-api.yaml")) as farm:
            user = curl(url(farm, "/api/users/42", "api"))
            users = curl(url(farm, "/api/users", "api"))
            export = curl(url(farm, "/api/export", "api"))
            missing = curl(url(farm, "/api/users/abc", "api"))
            port = farm.port("api")
        self.assertEqual(farm.returncode, 0, farm.stderr)
        for fetched in (user, users, export, missing):
            self.assertEqual(fetched.returncode, 0, fetched)

        self.assertEqual(user.status, 200)
        self.assertEqual(json.loads(user.body), {"id": 42, "name": "user 42"})
        self.assertEqual(user.head.get("Content-Type"), "application/json")
        self.assertEqual(user.head.get("Content-Length"), str(len(user.body)))
        self.assertEqual(user.head.get("Date"), HTTP_DATE)
        self.assertEqual(user.head.get("Server"), "protofarm")
        self.assertEqual(users.body, (SCENARIOS / "http-json-api-users.json").read_bytes())
        self.assertEqual(users.head.get("Cache-Control"), "no-store")
        self.assertEqual(len(export.body), 256 * 1024)
        self.assertEqual(export.head.get("Content-Length"), str(256 * 1024))
        self.assertEqual(missing.status, 404)

        first = farm.session("api", 1)
        [request] = requests(first)
        self.assertEqual((request["request"], request["method"], request["target"],
                          request["version"]), (1, "GET", "/api/users/42", "HTTP/1.1"))
        self.assertEqual(request["headers"]["Host"], f"127.0.0.1:{port}")
        self.assertTrue(request["headers"]["User-Agent"].startswith("curl/"), request)
        rule = one(first, "rule")
        self.assertEqual((rule["rule"], rule["on"], rule["count"]), ("user", "GET", 1))
        self.assertEqual(statuses(first), [200])
        self.assertEqual(body_bytes(first), user.body)  # a text body is recorded as sent
        self.assertEqual(bodies(first), [])  # a GET without a body has no body event

        # Bodies from a file or generated are not recorded byte by byte: size and digest.
        for n, fetched in ((2, users), (3, export)):
            doc = farm.session("api", n)
            described = one(doc, "response_body")
            self.assertEqual((described["size"], described["sha256"]),
                             (len(fetched.body), sha256(fetched.body)))
            self.assertLess(len(server_bytes(doc)), 1024)
        self.assertEqual(named_events(farm.session("api", 4), "rule"), [])
        self.assertEqual(statuses(farm.session("api", 4)), [404])

    def test_the_generated_body_is_the_same_on_every_run(self):
        digests = []
        for _ in range(2):
            with Farm(path=example("http-json-api.yaml")) as farm:
                digests.append(sha256(curl(url(farm, "/api/export", "api")).body))
        self.assertEqual(digests[0], digests[1])

    def test_requests_told_apart_by_headers_and_body_with_urllib(self):
        with Farm(path=example("http-json-api.yaml")) as farm:
            base = url(farm, "/api/users", "api")

            def post(body, **headers):
                return urlopen(urllib.request.Request(base, data=body, method="POST",
                                                      headers={"Content-Type": "application/json",
                                                               **headers}))

            anonymous = post(b'{"name": "eve"}')
            created = post(b'{"name": "eve"}', Authorization="Bearer t0ken")
            admin = post(b'{"name": "root", "admin": true}', Authorization="Bearer t0ken")
            basic = post(b'{"name": "eve"}', Authorization="Basic ZXZlOnB3")
        self.assertEqual(farm.returncode, 0, farm.stderr)

        self.assertEqual(anonymous[0], 401)
        self.assertEqual(anonymous[1]["WWW-Authenticate"], 'Bearer realm="api"')
        self.assertEqual(json.loads(anonymous[2]), {"error": "unauthorized"})
        self.assertEqual(created[0], 201)
        self.assertEqual(created[1]["Location"], "/api/users/7")
        self.assertEqual(json.loads(created[2]), {"id": 7})
        self.assertEqual(admin[0], 403)
        self.assertEqual(basic[0], 401)

        sent = [b'{"name": "eve"}', b'{"name": "eve"}', b'{"name": "root", "admin": true}',
                b'{"name": "eve"}']
        fired = ["unauthorized", "create", "admin-refused", "unauthorized"]
        for n in range(1, 5):
            doc = farm.session("api", n)
            [request] = requests(doc)
            self.assertEqual((request["method"], request["target"]), ("POST", "/api/users"))
            self.assertEqual(request["headers"]["Content-Type"], "application/json")
            [body] = bodies(doc)
            self.assertEqual((body["request"], body["size"]), (1, len(sent[n - 1])))
            self.assertEqual(body["file"], f"files/api/{n}/1.body")
            self.assertEqual(saved(farm, body), sent[n - 1])
            [frame] = body_frames(doc)
            self.assertEqual(event_bytes(frame), sent[n - 1])
            self.assertEqual(one(doc, "rule")["rule"], fired[n - 1])
        self.assertEqual(requests(farm.session("api", 2))[0]["headers"]["Authorization"],
                         "Bearer t0ken")


@unittest.skipUnless(CURL, "curl is not installed")
class Docroot(unittest.TestCase):
    def test_index_types_validators_and_conditional_gets(self):
        hello = SITE / "hello.txt"
        with Farm(path=example("http-docroot.yaml")) as farm:
            index = curl(url(farm, "/"))
            text = curl(url(farm, "/hello.txt"))
            notes = curl(url(farm, "/docs/notes.md"))
            data = curl(url(farm, "/data.bin"))
            by_etag = curl("-H", f"If-None-Match: {text.head.get('ETag')}", url(farm, "/hello.txt"))
            other_etag = curl("-H", 'If-None-Match: "other"', url(farm, "/hello.txt"))
            by_date = curl("-z", HTTP_DATE, url(farm, "/hello.txt"))
            older = curl("-z", "Sat, 28 Feb 2026 12:00:00 GMT", url(farm, "/hello.txt"))
            head = curl("-I", url(farm, "/data.bin"))
            missing = curl(url(farm, "/nothing-here.txt"))
        self.assertEqual(farm.returncode, 0, farm.stderr)

        self.assertEqual(index.status, 200)
        self.assertEqual(index.body, (SITE / "index.html").read_bytes())
        self.assertEqual(index.head.get("Content-Type"), "text/html; charset=utf-8")
        self.assertEqual(index.head.get("ETag"), etag(SITE / "index.html"))
        self.assertEqual(text.body, hello.read_bytes())
        self.assertEqual(text.head.get("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(text.head.get("ETag"), etag(hello))
        self.assertEqual(text.head.get("Last-Modified"), HTTP_DATE)
        self.assertEqual(text.head.get("Date"), HTTP_DATE)
        self.assertEqual(text.head.get("Accept-Ranges"), "bytes")
        self.assertEqual(text.head.get("Content-Length"), str(hello.stat().st_size))
        self.assertEqual(notes.head.get("Content-Type"), "text/markdown; charset=utf-8")
        self.assertEqual(data.body, (SITE / "data.bin").read_bytes())
        self.assertEqual(data.head.get("Content-Type"), "application/octet-stream")

        self.assertEqual((by_etag.status, by_etag.body), (304, b""))
        self.assertEqual(by_etag.head.get("ETag"), etag(hello))
        self.assertIsNone(by_etag.head.get("Content-Length"))
        self.assertEqual((other_etag.status, other_etag.body), (200, hello.read_bytes()))
        self.assertEqual((by_date.status, by_date.body), (304, b""))
        self.assertEqual((older.status, older.body), (200, hello.read_bytes()))
        self.assertEqual((head.status, head.head.get("Content-Length")), (200, "65536"))
        self.assertEqual(head.head.get("ETag"), etag(SITE / "data.bin"))
        self.assertEqual(missing.status, 404)

        # A file's body is described, not recorded: size, digest and the file served.
        doc = session_for(farm, "web", "/data.bin")
        described = one(doc, "response_body")
        self.assertEqual((described["size"], described["sha256"]),
                         (65536, sha256((SITE / "data.bin").read_bytes())))
        self.assertTrue(described["source"].endswith("http-site/data.bin"), described)
        self.assertLess(len(server_bytes(doc)), 1024)
        doc = session_for(farm, "web", "/hello.txt")
        self.assertEqual(statuses(doc), [200])
        conditional = [d for d in farm.sessions("web")
                       if "If-None-Match" in requests(d)[0]["headers"]]
        self.assertEqual([statuses(d) for d in conditional], [[304], [200]])
        self.assertEqual(named_events(conditional[0], "response_body"), [])
        headed = [d for d in farm.sessions("web") if requests(d)[0]["method"] == "HEAD"]
        self.assertEqual(len(headed), 1)
        self.assertEqual(named_events(headed[0], "response_body"), [])
        self.assertEqual(statuses(session_for(farm, "web", "/nothing-here.txt")), [404])

    def test_range_downloads(self):
        data = (SITE / "data.bin").read_bytes()
        with Farm(path=example("http-docroot.yaml")) as farm:
            u = url(farm, "/data.bin")
            first = curl("-r", "0-99", u)
            middle = curl("-r", "1000-1999", u)
            suffix = curl("-r", "-100", u)
            open_end = curl("-r", "65000-", u)
            several = curl("-r", "0-9,100-109,65530-", u)
            past = curl("-r", "70000-", u)
            stale = curl("-r", "0-99", "-H", 'If-Range: "not-the-etag"', u)
            with tempfile.TemporaryDirectory() as tmp:
                partial = Path(tmp) / "data.bin"
                partial.write_bytes(data[:1000])
                resumed = curl("-C", "-", "-o", partial, u)
                resumed_bytes = partial.read_bytes()
        self.assertEqual(farm.returncode, 0, farm.stderr)

        for fetched, want, content_range in (
                (first, data[:100], "bytes 0-99/65536"),
                (middle, data[1000:2000], "bytes 1000-1999/65536"),
                (suffix, data[-100:], "bytes 65436-65535/65536"),
                (open_end, data[65000:], "bytes 65000-65535/65536")):
            with self.subTest(content_range):
                self.assertEqual(fetched.returncode, 0, fetched)
                self.assertEqual(fetched.status, 206)
                self.assertEqual(fetched.body, want)
                self.assertEqual(fetched.head.get("Content-Range"), content_range)
                self.assertEqual(fetched.head.get("Content-Length"), str(len(want)))

        self.assertEqual(several.status, 206)
        content_type = several.head.get("Content-Type")
        m = re.fullmatch(r"multipart/byteranges; boundary=(protofarm-[0-9a-f]{16})", content_type)
        self.assertIsNotNone(m, content_type)
        self.assertEqual(several.head.get("Content-Length"), str(len(several.body)))
        parts = multipart(several.body, m.group(1))
        self.assertEqual([p[0]["Content-Range"] for p in parts],
                         ["bytes 0-9/65536", "bytes 100-109/65536", "bytes 65530-65535/65536"])
        self.assertEqual([p[0]["Content-Type"] for p in parts], ["application/octet-stream"] * 3)
        self.assertEqual([p[1] for p in parts], [data[0:10], data[100:110], data[65530:]])

        self.assertEqual(past.status, 416)
        self.assertEqual(past.head.get("Content-Range"), "bytes */65536")
        self.assertEqual((stale.status, stale.body), (200, data))  # If-Range differs: all of it
        self.assertEqual(resumed.returncode, 0, resumed)
        self.assertEqual(resumed.status, 206)
        self.assertEqual(resumed_bytes, data)

        docs = farm.sessions("web")
        self.assertEqual(requests(docs[0])[0]["headers"]["Range"], "bytes=0-99")
        self.assertEqual(statuses(docs[0]), [206])
        described = one(docs[0], "response_body")
        self.assertEqual((described["size"], described["sha256"]), (100, sha256(data[:100])))
        self.assertEqual(one(docs[4], "response_body")["sha256"], sha256(several.body))
        self.assertEqual(statuses(docs[5]), [416])
        self.assertEqual(requests(docs[7])[0]["headers"]["Range"], "bytes=1000-")
        self.assertEqual(one(docs[7], "response_body")["size"], 65536 - 1000)

    def test_listing_redirect_and_listing_off(self):
        with Farm(path=example("http-docroot.yaml")) as farm:
            listing = curl(url(farm, "/docs/"))
            redirect = curl(url(farm, "/docs?x=1"))
            followed = curl("-L", url(farm, "/docs"))
            quiet_listing = curl(url(farm, "/docs/", "quiet"))
            quiet_index = curl(url(farm, "/", "quiet"))
            quiet_file = curl(url(farm, "/docs/guide.txt", "quiet"))
            escape = curl("--path-as-is", url(farm, "/../../../etc/passwd"))
        self.assertEqual(farm.returncode, 0, farm.stderr)

        self.assertEqual(listing.status, 200)
        self.assertEqual(listing.head.get("Content-Type"), "text/html; charset=utf-8")
        page = listing.body.decode()
        self.assertIn("Index of /docs/", page)
        links = re.findall(r'href="([^"]*)"', page)
        self.assertEqual(links, ["../", "guide.txt", "notes.md"])
        self.assertRegex(page, rf">guide\.txt</a> {(SITE / 'docs/guide.txt').stat().st_size}<")
        self.assertIsNone(listing.head.get("ETag"))  # a listing has no validators
        self.assertEqual(redirect.status, 301)
        self.assertEqual(redirect.head.get("Location"), "/docs/?x=1")
        self.assertEqual([h.status for h in followed.heads], [301, 200])
        self.assertEqual(followed.body, listing.body)
        self.assertEqual(quiet_listing.status, 403)
        self.assertEqual((quiet_index.status, quiet_index.body),
                         (200, (SITE / "index.html").read_bytes()))
        self.assertEqual((quiet_file.status, quiet_file.body),
                         (200, (SITE / "docs/guide.txt").read_bytes()))
        self.assertEqual(escape.status, 400)
        self.assertNotIn(b"root:", escape.body)

        self.assertEqual(statuses(farm.session("quiet", 1)), [403])
        self.assertEqual(requests(farm.session("web", 2))[0]["target"], "/docs?x=1")
        traversal = session_for(farm, "web", "/../../../etc/passwd")
        self.assertEqual(statuses(traversal), [400])


@unittest.skipUnless(CURL, "curl is not installed")
class Cgi(unittest.TestCase):
    def test_get_with_a_query_and_stderr(self):
        with Farm(path=example("http-cgi.yaml")) as farm:
            hello = curl(url(farm, "/cgi-bin/hello.sh?name=World"))
            default = curl(url(farm, "/cgi-bin/hello.sh"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(hello.returncode, 0, hello)
        self.assertEqual(hello.status, 200)
        self.assertEqual(hello.body, b"Hello, World!\nmethod=GET query=name=World\n")
        self.assertEqual(hello.head.get("Content-Type"), "text/plain; charset=utf-8")
        self.assertEqual(hello.head.get("X-Script"), "hello.sh")
        self.assertEqual(hello.head.get("Content-Length"), str(len(hello.body)))
        self.assertEqual(hello.head.get("Date"), HTTP_DATE)
        self.assertTrue(default.body.startswith(b"Hello, world!\n"), default)

        doc = farm.session("web", 1)
        self.assertEqual(requests(doc)[0]["target"], "/cgi-bin/hello.sh?name=World")
        start = one(doc, "cgi_start")
        self.assertEqual((start["channel"], start["script"], start["path_info"], start["query"]),
                         ("cgi", "/cgi-bin/hello.sh", "", "name=World"))
        end = one(doc, "cgi_end")
        self.assertEqual((end["channel"], end["script"], end["exit"]),
                         ("cgi", "/cgi-bin/hello.sh", "exit 0"))
        self.assertGreater(end["stdout_size"], len(hello.body))  # the CGI header block too
        self.assertNotIn("timed_out", end)
        stderr = one(doc, "cgi_stderr")
        self.assertEqual((stderr["script"], stderr["text"]),
                         ("/cgi-bin/hello.sh", "hello.sh: greeting World\n"))
        self.assertEqual([e["event"] for e in cgi_events(doc)],
                         ["cgi_start", "cgi_end", "cgi_stderr"])
        self.assertEqual(statuses(doc), [200])
        self.assertEqual(body_bytes(doc), hello.body)

    def test_post_bodies_echoed_by_python(self):
        payload = (SITE / "data.bin").read_bytes()[:5000]
        with Farm(path=example("http-cgi.yaml")) as farm:
            form = curl("--data", "a=1&b=2", url(farm, "/cgi-bin/echo.py"))
            with tempfile.TemporaryDirectory() as tmp:
                upload = Path(tmp) / "payload.bin"
                upload.write_bytes(payload)
                chunked = curl("-H", "Transfer-Encoding: chunked", "-H",
                               "Content-Type: application/octet-stream", "--data-binary",
                               f"@{upload}", url(farm, "/cgi-bin/echo.py"))
        self.assertEqual(farm.returncode, 0, farm.stderr)

        self.assertEqual((form.status, form.body), (200, b"a=1&b=2"))
        self.assertEqual(form.head.get("Content-Type"), "application/x-www-form-urlencoded")
        self.assertEqual(form.head.get("X-Request-Method"), "POST")
        self.assertEqual(form.head.get("X-Body-Length"), "7")
        self.assertEqual((chunked.status, chunked.body), (200, payload))
        self.assertEqual(chunked.head.get("X-Body-Length"), str(len(payload)))

        doc = farm.session("web", 1)
        [body] = bodies(doc)
        self.assertEqual((body["size"], saved(farm, body)), (7, b"a=1&b=2"))
        self.assertEqual(one(doc, "cgi_start")["script"], "/cgi-bin/echo.py")
        self.assertEqual(one(doc, "cgi_end")["exit"], "exit 0")
        doc = farm.session("web", 2)
        self.assertEqual(requests(doc)[0]["headers"]["Transfer-Encoding"], "chunked")
        [body] = bodies(doc)
        self.assertEqual(body["size"], len(payload))
        self.assertEqual(saved(farm, body), payload)  # saved decoded
        framed = event_bytes(body_frames(doc)[0])  # recorded as it crossed the wire, chunk sizes and all
        self.assertNotEqual(framed, payload)
        self.assertTrue(framed.endswith(b"0\r\n\r\n"), framed[-20:])

    def test_path_info_and_meta_variables(self):
        with Farm(path=example("http-cgi.yaml")) as farm:
            port = farm.port("web")
            info = curl("-H", "X-Trace: abc", "-H", "Authorization: Bearer s3cret", "-H",
                        "Proxy: http://evil.test/",
                        url(farm, "/cgi-bin/pathinfo.sh/some/where?x=1"))
            basic = curl("-u", "alice:pw", url(farm, "/cgi-bin/pathinfo.sh"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(info.status, 200, info)
        env = env_lines(info.body)
        expected = {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_SOFTWARE": "protofarm",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": str(port),
            "REQUEST_METHOD": "GET",
            "REQUEST_URI": "/cgi-bin/pathinfo.sh/some/where?x=1",
            "SCRIPT_NAME": "/cgi-bin/pathinfo.sh",
            "PATH_INFO": "/some/where",
            "QUERY_STRING": "x=1",
            "REMOTE_ADDR": "127.0.0.1",
            "AUTH_TYPE": "Bearer",
            "HTTP_HOST": f"127.0.0.1:{port}",
            "HTTP_X_TRACE": "abc",
        }
        for name, value in expected.items():
            self.assertEqual(env.get(name), value, f"{name} in {env}")
        self.assertEqual(os.path.realpath(env["PATH_TRANSLATED"]),
                         os.path.join(os.path.realpath(SITE), "some/where"))
        self.assertTrue(env["HTTP_USER_AGENT"].startswith("curl/"))
        # Credentials are withheld (RFC 3875 4.1.18), and so is Proxy (httpoxy); there is no
        # body, so no CONTENT_LENGTH; not over TLS, so no HTTPS.
        for name in ("HTTP_AUTHORIZATION", "HTTP_PROXY", "CONTENT_LENGTH", "HTTPS", "REMOTE_USER"):
            self.assertNotIn(name, env)
        basic_env = env_lines(basic.body)
        self.assertEqual((basic_env.get("AUTH_TYPE"), basic_env.get("REMOTE_USER")),
                         ("Basic", "alice"))
        self.assertNotIn("PATH_INFO=/", basic.body.decode())
        self.assertEqual(basic_env.get("PATH_INFO", ""), "")

        start = one(farm.session("web", 1), "cgi_start")
        self.assertEqual((start["script"], start["path_info"], start["query"]),
                         ("/cgi-bin/pathinfo.sh", "/some/where", "x=1"))

    def test_client_redirect(self):
        with Farm(path=example("http-cgi.yaml")) as farm:
            port = farm.port("web")
            redirect = curl(url(farm, "/cgi-bin/redirect.sh"))
            followed = curl("-L", url(farm, "/cgi-bin/redirect.sh"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(redirect.status, 302)
        self.assertEqual(redirect.head.reason, "Found")
        self.assertEqual(redirect.head.get("Location"),
                         f"http://127.0.0.1:{port}/cgi-bin/hello.sh?name=redirected")
        self.assertEqual(redirect.body, b"Moved: see the Location header.\n")
        self.assertEqual([h.status for h in followed.heads], [302, 200])
        self.assertTrue(followed.body.startswith(b"Hello, redirected!\n"), followed)
        self.assertEqual(statuses(farm.session("web", 1)), [302])
        doc = farm.session("web", 2)  # curl followed on the same connection
        self.assertEqual([e["script"] for e in cgi_events(doc, "cgi_start")],
                         ["/cgi-bin/redirect.sh", "/cgi-bin/hello.sh"])
        self.assertEqual(statuses(doc), [302, 200])

    def test_local_redirect(self):
        with Farm(path=example("http-cgi.yaml")) as farm:
            local = curl(url(farm, "/cgi-bin/local.sh"))
            after = curl(url(farm, "/hello.txt"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        # The server answers with the path's own response, here a file.
        self.assertEqual(local.status, 200)
        self.assertEqual(local.body, (SITE / "hello.txt").read_bytes())
        self.assertEqual(local.head.get("Content-Type"), "text/plain; charset=utf-8")
        self.assertIsNone(local.head.get("Location"))
        self.assertEqual((after.status, after.body), (200, (SITE / "hello.txt").read_bytes()))
        doc = farm.session("web", 1)
        self.assertEqual(one(doc, "cgi_start")["script"], "/cgi-bin/local.sh")
        self.assertEqual(one(doc, "response_body")["size"], (SITE / "hello.txt").stat().st_size)
        self.assertEqual(statuses(doc), [200])

    def test_a_script_past_its_time_limit_is_killed(self):
        with Farm(path=example("http-cgi.yaml")) as farm:
            slow = curl(url(farm, "/cgi-bin/slow.sh"))
            after = curl(url(farm, "/cgi-bin/hello.sh?name=after"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(slow.status, 504, slow)
        self.assertGreaterEqual(slow.elapsed, 0.9)
        self.assertLess(slow.elapsed, 8)  # not the script's 10 s
        self.assertTrue(after.body.startswith(b"Hello, after!"), after)
        end = one(farm.session("web", 1), "cgi_end")
        self.assertTrue(end["timed_out"], end)
        self.assertTrue(end["exit"].startswith("signal 9"), end)
        self.assertGreaterEqual(end["ms"], 900)
        self.assertEqual(statuses(farm.session("web", 1)), [504])

    def test_nph_output_passes_untouched(self):
        expected = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Nph: untouched\r\n\r\n"
                    b"This whole response came from the script.\n")
        with Farm(path=example("http-cgi.yaml")) as farm:
            fetched = curl(url(farm, "/cgi-bin/nph-hello.sh"))
            with Raw(farm.address("web")) as c:
                c.send(get("/cgi-bin/nph-hello.sh"))
                raw = c.rest()  # the server closes after an nph response
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(fetched.returncode, 0, fetched)
        self.assertEqual((fetched.status, fetched.head.get("X-Nph")), (200, "untouched"))
        self.assertEqual(raw, expected)  # no Date, no Server: nothing added
        doc = farm.session("web", 2)
        self.assertEqual(server_bytes(doc), expected)
        nph = [e for e in doc["events"] if e.get("from") == "server"]
        self.assertTrue(all(e.get("nph") for e in nph[:1]), nph)
        self.assertEqual(doc["close"], "server")

    def test_scripts_that_cannot_run_or_answer_badly(self):
        with Farm(path=example("http-cgi.yaml")) as farm:
            readme = curl(url(farm, "/cgi-bin/readme.txt"))
            bad = curl(url(farm, "/cgi-bin/bad-output.sh"))
            missing = curl(url(farm, "/cgi-bin/no-such-script.sh"))
            outside = curl("--path-as-is", url(farm, "/cgi-bin/../cgi-bin/hello.sh"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(readme.status, 403)  # there, but not executable: never run
        self.assertEqual(bad.status, 502)
        self.assertEqual(missing.status, 404)
        self.assertEqual(outside.status, 200)  # normalized first: /cgi-bin/hello.sh
        self.assertEqual(cgi_events(farm.session("web", 1)), [])
        self.assertEqual(one(farm.session("web", 2), "cgi_end")["exit"], "exit 0")
        self.assertEqual(cgi_events(farm.session("web", 3)), [])

    def test_keep_alive_across_scripts(self):
        with Farm(path=example("http-cgi.yaml")) as farm:
            several = curl(url(farm, "/cgi-bin/hello.sh?name=one"),
                           url(farm, "/cgi-bin/hello.sh?name=two"), url(farm, "/hello.txt"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(several.body, b"Hello, one!\nmethod=GET query=name=one\n"
                                       b"Hello, two!\nmethod=GET query=name=two\n"
                         + (SITE / "hello.txt").read_bytes())
        [doc] = farm.sessions("web")
        self.assertEqual([r["request"] for r in requests(doc)], [1, 2, 3])
        self.assertEqual(len(cgi_events(doc, "cgi_start")), 2)
        self.assertEqual(statuses(doc), [200, 200, 200])


@unittest.skipUnless(CURL, "curl is not installed")
class FailOnce(unittest.TestCase):
    def test_fail_once_then_succeed_and_verify(self):
        path = example("http-fail-once.yaml")
        with Farm(path=path) as farm:
            status = curl("--retry", "2", url(farm, "/status"))
            flaky = curl(url(farm, "/flaky"))
            steady = curl(url(farm, "/flaky"))
            again = curl(url(farm, "/status"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(status.returncode, 0, status)
        # curl writes the body of every attempt: the 503's, then the 200's.
        self.assertEqual(status.status, 200)
        self.assertEqual(status.body, b'busy, try again in a second\n{"status": "ok"}')
        self.assertGreaterEqual(status.elapsed, 0.9)  # Retry-After: 1
        self.assertEqual(flaky.returncode, 56, flaky)  # a malformed chunk
        self.assertEqual((steady.returncode, steady.body), (0, b"fine now\n"))
        self.assertEqual(again.status, 200)

        docs = farm.sessions("web")
        every = [s for d in docs for s in statuses(d)]
        self.assertEqual(every[:2], [503, 200], every)
        fired = [e["rule"] for d in docs for e in named_events(d, "rule")]
        self.assertEqual(fired, ["unavailable", "available", "flaky", "steady", "available"])
        faults = [e for d in docs for e in named_events(d, "fault")]
        self.assertEqual([f["fault"] for f in faults], ["malformed_chunk"])

        verified = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)

    def test_verify_fails_when_the_client_never_comes_back(self):
        path = example("http-fail-once.yaml")
        with Farm(path=path) as farm:
            status = curl(url(farm, "/status"))  # no --retry
            flaky = curl(url(farm, "/flaky"))
        self.assertEqual((status.status, flaky.returncode), (503, 56))
        verified = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(verified.returncode, 1, verified.stdout + verified.stderr)
        self.assertIn("available", verified.stdout)
        self.assertIn("steady", verified.stdout)


@unittest.skipUnless(CURL, "curl is not installed")
class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.farm = farm = Farm(path=example("http-faults.yaml")).start()
        try:
            cls.got = {}
            for path, extra in (("/empty", ()), ("/malformed-chunk", ()), ("/random", ()),
                                ("/reset", ()), ("/cut", ()), ("/short", ()), ("/long", ()),
                                ("/hang", ("--max-time", "2")),
                                ("/no-final-chunk", ("--max-time", "2")),
                                ("/slow", ()), ("/trickle", ()), ("/fragments", ()),
                                ("/bye", ())):
                cls.got[path] = curl(*extra, url(farm, path))
            with Raw(farm.address("web")) as c:
                c.send(get("/conflict", method="PUT", body=b"hello\n"))
                cls.conflict = c.rest()
        finally:
            farm.stop()

    def fault(self, path):
        doc = session_for(self.farm, "web", path)
        return doc, one(doc, "fault")

    def test_farm_stopped_cleanly(self):
        self.assertEqual(self.farm.returncode, 0, self.farm.stderr)

    def test_empty_response(self):
        got = self.got["/empty"]
        self.assertEqual(got.returncode, 52, got)  # Empty reply from server
        doc, fault = self.fault("/empty")
        self.assertEqual(fault["fault"], "empty_response")
        self.assertEqual(server_bytes(doc), b"")
        self.assertEqual(doc["close"], "fault")
        self.assertEqual(one(doc, "rule")["rule"], "empty")

    def test_malformed_chunk(self):
        got = self.got["/malformed-chunk"]
        self.assertEqual(got.returncode, 56, got)
        self.assertEqual(got.body, b"0123456789abcdef")  # the one good chunk
        self.assertEqual(got.head.get("Transfer-Encoding"), "chunked")
        doc, fault = self.fault("/malformed-chunk")
        self.assertEqual(fault["fault"], "malformed_chunk")
        self.assertIn(b"\r\n\r\n10\r\n0123456789abcdef\r\nzz", server_bytes(doc))
        self.assertEqual(doc["close"], "fault")

    def test_random_data_then_close(self):
        got = self.got["/random"]
        self.assertNotEqual(got.returncode, 0, got)
        self.assertEqual(got.heads, [])
        doc, fault = self.fault("/random")
        self.assertEqual(fault["fault"], "random_data_then_close")
        junk = server_bytes(doc)
        self.assertEqual(len(junk), 1024)
        self.assertFalse(junk.startswith(b"HTTP/"))
        self.assertEqual(doc["close"], "fault")
        # From the seed: another run sends the same bytes.
        with Farm(path=example("http-faults.yaml")) as again:
            curl(url(again, "/random"))
        self.assertEqual(server_bytes(again.session("web", 1)), junk)

    def test_connection_reset(self):
        got = self.got["/reset"]
        self.assertEqual(got.returncode, 56, got)
        self.assertIn("reset", got.stderr.lower())
        doc, fault = self.fault("/reset")
        self.assertEqual(fault["fault"], "connection_reset")
        self.assertEqual(server_bytes(doc), b"")
        self.assertEqual(doc["close"], "fault")

    def test_body_cut_after(self):
        got = self.got["/cut"]
        self.assertEqual(got.returncode, 18, got)  # partial file
        self.assertEqual(len(got.body), 100)
        self.assertEqual(got.head.get("Content-Length"), "1000")
        doc, fault = self.fault("/cut")
        self.assertEqual((fault["fault"], fault["content_length"], fault["body_sent"]),
                         ("body_cut_after", 1000, 100))
        self.assertEqual(body_bytes(doc), got.body)
        self.assertEqual(doc["close"], "fault")

    def test_content_length_short(self):
        got = self.got["/short"]
        self.assertEqual(got.returncode, 0, got)  # the client cannot tell
        self.assertEqual(got.head.get("Content-Length"), str(len(BROKEN) // 2))
        self.assertEqual(got.body, BROKEN[:len(BROKEN) // 2])
        doc, fault = self.fault("/short")
        self.assertEqual((fault["fault"], fault["content_length"], fault["body_sent"]),
                         ("content_length_short", len(BROKEN) // 2, len(BROKEN)))
        self.assertEqual(body_bytes(doc), BROKEN)  # all of it went out
        # The server kept the connection: curl closed it, with the rest of the body unread.
        self.assertIn(doc["close"], ("client", "reset"))

    def test_content_length_long(self):
        got = self.got["/long"]
        self.assertEqual(got.returncode, 18, got)
        self.assertEqual(got.head.get("Content-Length"), str(2 * len(BROKEN) + 1))
        self.assertEqual(got.body, BROKEN)
        doc, fault = self.fault("/long")
        self.assertEqual((fault["fault"], fault["content_length"], fault["body_sent"]),
                         ("content_length_long", 2 * len(BROKEN) + 1, len(BROKEN)))
        self.assertEqual(doc["close"], "fault")

    def test_headers_only_then_hang(self):
        got = self.got["/hang"]
        self.assertEqual(got.returncode, 28, got)  # --max-time
        self.assertEqual(got.status, 200)
        self.assertEqual(got.head.get("Content-Length"), str(len(BROKEN)))
        self.assertEqual(got.body, b"")
        doc, fault = self.fault("/hang")
        self.assertEqual((fault["fault"], fault["body_sent"]), ("headers_only_then_hang", 0))
        self.assertEqual(len(named_events(doc, "hang")), 1)
        self.assertTrue(server_bytes(doc).endswith(b"\r\n\r\n"))
        self.assertEqual(doc["close"], "client")  # curl gave up

    def test_no_final_chunk(self):
        got = self.got["/no-final-chunk"]
        self.assertEqual(got.returncode, 28, got)
        self.assertEqual(got.head.get("Transfer-Encoding"), "chunked")
        self.assertEqual(got.body, BROKEN)
        doc, fault = self.fault("/no-final-chunk")
        self.assertEqual(fault["fault"], "no_final_chunk")
        self.assertTrue(server_bytes(doc).endswith(b"\r\n31\r\n" + BROKEN + b"\r\n"))
        self.assertNotIn(b"\r\n0\r\n\r\n", server_bytes(doc))
        self.assertEqual(len(named_events(doc, "hang")), 1)

    def test_delay_pace_fragment_then(self):
        slow = self.got["/slow"]
        self.assertEqual((slow.status, slow.body), (200, b"late but fine\n"))
        self.assertGreaterEqual(slow.elapsed, 0.9)
        trickle = self.got["/trickle"]
        self.assertEqual(len(trickle.body), 4096)
        self.assertGreaterEqual(trickle.elapsed, 0.35)  # 4 KiB at 8 KiB/s
        described = one(session_for(self.farm, "web", "/trickle"), "response_body")
        self.assertEqual(described["sha256"], sha256(trickle.body))
        fragments = self.got["/fragments"]
        self.assertEqual(fragments.body, b"written seven bytes at a time\n")
        doc = session_for(self.farm, "web", "/fragments")
        writes = [event_bytes(e) for e in doc["events"] if e.get("from") == "server"]
        self.assertGreater(len(writes), 10)
        self.assertTrue(all(len(w) <= 7 for w in writes), writes)
        self.assertTrue(all(e.get("rule") == "fragments"
                            for e in doc["events"] if e.get("from") == "server"))
        self.assertTrue(b"".join(writes).endswith(b"\r\n\r\nwritten seven bytes at a time\n"))
        bye = self.got["/bye"]
        self.assertEqual((bye.returncode, bye.body), (0, b"goodbye\n"))
        self.assertEqual(session_for(self.farm, "web", "/bye")["close"], "server")

    def test_raw_bytes_with_two_content_lengths(self):
        expected = b"HTTP/1.1 200 OK\r\nContent-Length: 44\r\nContent-Length: 6\r\n\r\n-foo-\n"
        self.assertEqual(self.conflict, expected)
        doc = session_for(self.farm, "web", "/conflict")
        self.assertEqual(server_bytes(doc), expected)
        [body] = bodies(doc)
        self.assertEqual(saved(self.farm, body), b"hello\n")
        self.assertEqual(doc["close"], "server")  # then: close

    def test_every_fault_is_in_the_example(self):
        names = {e["fault"] for d in self.farm.sessions("web") for e in named_events(d, "fault")}
        self.assertEqual(names, {"empty_response", "malformed_chunk", "random_data_then_close",
                                 "connection_reset", "body_cut_after", "content_length_short",
                                 "content_length_long", "headers_only_then_hang",
                                 "no_final_chunk"})


@unittest.skipUnless(CURL, "curl is not installed")
class Https(unittest.TestCase):
    def test_curl_and_urllib_over_tls(self):
        with Farm(path=example("http-https.yaml")) as farm:
            ca = farm.ca
            self.assertTrue(ca and Path(ca).exists(), farm.ready)
            self.assertEqual(farm.server("secure")["tls"], "implicit")
            by_name = curl("--cacert", ca, url(farm, "/hello.txt", "secure", "https", "localhost"))
            by_address = curl("--cacert", ca, url(farm, "/whoami", "secure", "https"))
            env = curl("--cacert", ca, url(farm, "/cgi-bin/pathinfo.sh", "secure", "https"))
            followed = curl("--cacert", ca, "-L",
                            url(farm, "/cgi-bin/redirect.sh", "secure", "https"))
            untrusted = curl(url(farm, "/hello.txt", "secure", "https"))
            plain = curl(url(farm, "/hello.txt", "secure", "http"), "--max-time", "5")
            context = ssl.create_default_context(cafile=ca)
            status, headers, body = urlopen(url(farm, "/data.bin", "secure", "https"),
                                            context=context)
        self.assertEqual(farm.returncode, 0, farm.stderr)

        self.assertEqual((by_name.returncode, by_name.body),
                         (0, (SITE / "hello.txt").read_bytes()), by_name)
        self.assertEqual(by_address.body, b"spoken over TLS\n")
        self.assertEqual(env_lines(env.body).get("HTTPS"), "on")
        self.assertEqual([h.status for h in followed.heads], [302, 200])
        self.assertTrue(followed.body.startswith(b"Hello, redirected!"), followed)
        self.assertEqual(untrusted.returncode, 60, untrusted)  # the CA is not trusted
        self.assertNotEqual(plain.returncode, 0, plain)
        self.assertEqual((status, body), (200, (SITE / "data.bin").read_bytes()))
        self.assertEqual(headers["ETag"], etag(SITE / "data.bin"))

        first = farm.session("secure", 1)
        tls = one(first, "tls")
        self.assertTrue(tls["version"].startswith("TLS"), tls)
        [request] = requests(first)
        self.assertEqual((request["method"], request["target"]), ("GET", "/hello.txt"))
        self.assertEqual(request["headers"]["Host"], f"localhost:{farm.port('secure')}")
        self.assertEqual(statuses(first), [200])
        self.assertEqual(one(first, "response_body")["size"], (SITE / "hello.txt").stat().st_size)
        self.assertEqual(named_events(farm.session("secure", 4), "cgi_start")[0]["script"],
                         "/cgi-bin/redirect.sh")


@unittest.skipUnless(CURL, "curl is not installed")
class Expect(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.upload = Path(self.tmp.name) / "upload.bin"
        # Over 1 MiB: curl sends Expect: 100-continue by itself.
        self.data = ((SITE / "data.bin").read_bytes() * 33)[:2 * 1024 * 1024 + 17]
        self.upload.write_bytes(self.data)

    def tearDown(self):
        self.tmp.cleanup()

    def test_refused_before_the_body_then_accepted(self):
        with Farm(path=example("http-expect.yaml")) as farm:
            anonymous = curl("--expect100-timeout", "10", "-T", self.upload,
                             url(farm, "/uploads/a.bin", "upload"))
            stored = curl("--expect100-timeout", "10", "-T", self.upload, "-H",
                          "Authorization: Bearer letmein", url(farm, "/uploads/a.bin", "upload"))
        self.assertEqual(farm.returncode, 0, farm.stderr)

        # The 401 came on the headers: curl did not wait out its 10 s for a 100 Continue.
        self.assertEqual(anonymous.status, 401, anonymous)
        self.assertEqual(anonymous.head.get("WWW-Authenticate"), 'Bearer realm="uploads"')
        self.assertLess(anonymous.elapsed, 5)
        self.assertEqual([h.status for h in stored.heads], [100, 201])
        self.assertEqual(stored.body, b"stored\n")
        self.assertLess(stored.elapsed, 5)

        refused = farm.session("upload", 1)
        [request] = requests(refused)
        self.assertEqual(request["headers"]["Expect"], "100-continue")
        self.assertEqual(request["headers"]["Content-Length"], str(len(self.data)))
        self.assertEqual(statuses(refused), [401])
        self.assertNotIn(b"100 Continue", server_bytes(refused))
        self.assertEqual([b for b in bodies(refused) if not b.get("discarded")], [])
        self.assertLess(len(client_bytes(refused)), 4096)  # the body never came
        self.assertEqual(one(refused, "rule")["rule"], "login-first")

        accepted = farm.session("upload", 2)
        self.assertTrue(server_bytes(accepted).startswith(b"HTTP/1.1 100 Continue\r\n\r\n"))
        self.assertEqual(statuses(accepted), [201])
        [body] = bodies(accepted)
        self.assertEqual(body["size"], len(self.data))
        self.assertEqual(saved(farm, body), self.data)
        self.assertEqual(one(accepted, "rule")["rule"], "stored")

    def test_417_then_the_same_request_without_expect(self):
        with Farm(path=example("http-expect.yaml")) as farm:
            legacy = curl("-T", self.upload, url(farm, "/legacy/a.bin", "upload"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(legacy.returncode, 0, legacy)
        self.assertEqual(legacy.status, 201)
        self.assertEqual(legacy.body, b"stored\n")

        # curl retried on the connection the 417 left open.
        [doc] = farm.sessions("upload")
        first, second = requests(doc)
        self.assertEqual(first["headers"].get("Expect"), "100-continue")
        self.assertNotIn("Expect", second["headers"])
        self.assertEqual((first["request"], second["request"]), (1, 2))
        self.assertEqual(statuses(doc), [417, 201])
        [body] = [b for b in bodies(doc) if not b.get("discarded")]
        self.assertEqual((body["request"], body["size"]), (2, len(self.data)))
        self.assertEqual(saved(farm, body), self.data)
        self.assertEqual([e["rule"] for e in named_events(doc, "rule")],
                         ["no-continue", "legacy-stored"])

    def test_413_before_the_body(self):
        big = Path(self.tmp.name) / "big.bin"
        big.write_bytes(self.data * 3)  # over max_body: 4 MiB
        with Farm(path=example("http-expect.yaml")) as farm:
            too_big = curl("--expect100-timeout", "10", "-T", big, "-H",
                           "Authorization: Bearer letmein", url(farm, "/uploads/big.bin", "upload"))
        self.assertEqual(too_big.status, 413, too_big)
        self.assertLess(too_big.elapsed, 5)
        self.assertEqual(too_big.head.get("Connection"), "close")
        doc = farm.session("upload", 1)
        [refused] = [e for e in doc["events"] if e.get("from") == "client" and "error" in e]
        self.assertEqual(refused["error"], 413)
        self.assertEqual(statuses(doc), [413])
        self.assertLess(len(client_bytes(doc)), 64 * 1024)

    def test_a_refused_expectation_leaves_the_connection_for_a_retry(self):
        with Farm(path=example("http-expect.yaml")) as farm:
            with Raw(farm.address("upload")) as c:
                c.send(get("/uploads/x.txt", method="PUT",
                           headers=[("Expect", "100-continue"), ("Content-Length", "6")]))
                refused = c.response()
                self.assertTrue(c.still_open(), "the server closed after the 401")
                c.send(get("/uploads/x.txt", method="PUT",
                           headers=[("Expect", "100-continue"), ("Content-Length", "6"),
                                    ("Authorization", "Bearer letmein")]))
                go_on = c.response()
                c.send(b"hello\n")
                stored = c.response()
        self.assertEqual(refused.status, 401)
        self.assertIsNone(refused.get("Connection"))
        self.assertEqual(go_on.status, 100)
        self.assertEqual((stored.status, stored.body), (201, b"stored\n"))
        [doc] = farm.sessions("upload")
        self.assertEqual([r["request"] for r in requests(doc)], [1, 2])
        self.assertEqual(statuses(doc), [401, 201])
        [body] = bodies(doc)
        self.assertEqual((body["request"], saved(farm, body)), (2, b"hello\n"))


if __name__ == "__main__":
    unittest.main()
