"""Helpers for the http end-to-end tests: curl with the response heads kept, a raw HTTP/1.1
client over a socket (every read bounded), and readers for what the http fake records.

What the fake records for a request (fakes/http/http_fake.cpp): a client event with `request`
(1, 2, ... in the session), `method`, `target`, `version` and `headers` (repeated names as a
list); the body, if any, as a second client event with `body: true`, `request`, `size` (decoded)
and `file` (files/<server>/<session>/<n>.body, saved decoded). The response head is a server
event with `status`; a text body follows as server bytes, a body from a file or generated one as
a `response_body` event (`size`, `sha256`)."""

import hashlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from farm import event_bytes, named_events

CURL = shutil.which("curl")
TIMEOUT = 10  # seconds, for every socket of a raw client


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# --- curl ------------------------------------------------------------------------------------


class Head:
    """One response head: status, reason and the fields in order."""

    def __init__(self, block):
        lines = block.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        parts = lines[0].split(" ", 2)
        self.version = parts[0]
        self.status = int(parts[1])
        self.reason = parts[2] if len(parts) > 2 else ""
        self.fields = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                self.fields.append((name, value.strip()))

    def get(self, name, default=None):
        for n, v in self.fields:
            if n.lower() == name.lower():
                return v
        return default

    def all(self, name):
        return [v for n, v in self.fields if n.lower() == name.lower()]

    def names(self):
        return [n for n, _ in self.fields]

    def __repr__(self):
        return f"Head({self.status_line!r}, {self.fields!r})"


def parse_heads(dump):
    """The heads curl's -D wrote: every response of the transfer (100 Continue, redirects)."""
    heads = []
    for block in dump.split(b"\r\n\r\n"):
        block = block.lstrip(b"\r\n")
        if block.startswith(b"HTTP/"):
            heads.append(Head(block))
    return heads


class Fetched:
    def __init__(self, result, heads, elapsed=None):
        self.result = result
        self.returncode = result.returncode
        self.body = result.stdout
        self.stderr = result.stderr.decode(errors="replace")
        self.heads = heads
        self.elapsed = elapsed

    @property
    def head(self):
        """The last response head (the final response), or None when there was none."""
        return self.heads[-1] if self.heads else None

    @property
    def status(self):
        return self.head.status if self.head else None

    def __repr__(self):
        return (f"Fetched(rc={self.returncode}, heads={self.heads!r}, body={self.body[:200]!r}, "
                f"stderr={self.stderr!r})")


def curl(*args, timeout=60, input=None):
    """curl ARGS (bounded, quiet, errors shown), `input` on its stdin; returns a Fetched: the
    exit status, every response head (through -D), the body (stdout unless ARGS say otherwise)
    and the time it took. A --max-time in ARGS overrides the default one."""
    with tempfile.TemporaryDirectory(prefix="protofarm-curl-") as tmp:
        dump = Path(tmp) / "heads"
        started = time.monotonic()
        result = subprocess.run([CURL, "--silent", "--show-error", "--max-time", "20",
                                 "-D", str(dump), *map(str, args)],
                                capture_output=True, timeout=timeout,
                                input=b"" if input is None else input)
        elapsed = time.monotonic() - started
        heads = parse_heads(dump.read_bytes()) if dump.exists() else []
    return Fetched(result, heads, elapsed)


def url(farm, path="/", server="web", scheme="http", host=None):
    return f"{scheme}://{host or farm.host(server)}:{farm.port(server)}{path}"


# --- a raw client ----------------------------------------------------------------------------


class Response:
    def __init__(self, head, body, raw):
        self.head = head
        self.status = head.status
        self.body = body
        self.raw = raw  # the bytes as they came, head and body

    def get(self, name, default=None):
        return self.head.get(name, default)

    def __repr__(self):
        return f"Response({self.head!r}, {self.body[:200]!r})"


class Raw:
    """HTTP over a plain socket: send exact bytes, read whole responses (Content-Length,
    chunked, or to the close), see whether the server closed. Every read has TIMEOUT."""

    def __init__(self, address, timeout=TIMEOUT, context=None, server_hostname=None):
        sock = socket.create_connection(address, timeout=timeout)
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname=server_hostname)
        self.sock = sock
        self.buf = b""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError(f"the server closed; unread: {self.buf!r}")
        self.buf += chunk

    def _until(self, marker):
        while marker not in self.buf:
            self._more()
        at = self.buf.index(marker) + len(marker)
        data, self.buf = self.buf[:at], self.buf[at:]
        return data

    def _exactly(self, n):
        while len(self.buf) < n:
            self._more()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self, method="GET"):
        """The next whole response (a 1xx is returned on its own)."""
        raw = self._until(b"\r\n\r\n")
        head = Head(raw[:-4])
        if head.status < 200 or head.status in (204, 304) or method == "HEAD":
            return Response(head, b"", raw)
        if (head.get("Transfer-Encoding") or "").lower().endswith("chunked"):
            body = b""
            while True:
                size_line = self._until(b"\r\n")
                raw += size_line
                size = int(size_line.split(b";")[0].strip(), 16)
                if size == 0:
                    trailer = self._until(b"\r\n")
                    while trailer != b"\r\n":
                        raw += trailer
                        trailer = self._until(b"\r\n")
                    raw += trailer
                    return Response(head, body, raw)
                data = self._exactly(size + 2)
                raw += data
                body += data[:-2]
        length = head.get("Content-Length")
        if length is not None:
            body = self._exactly(int(length))
            return Response(head, body, raw + body)
        body = self.rest()
        return Response(head, body, raw + body)

    def rest(self):
        """Everything up to the server's close."""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            self.buf += chunk
        data, self.buf = self.buf, b""
        return data

    def closed(self):
        """True when the server has closed (nothing more comes: EOF or a reset), False when it
        sends more; a server that keeps the connection open fails by timing out."""
        if self.buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def still_open(self, wait=0.3):
        """True when the server neither closed nor sent anything within `wait` seconds."""
        if self.buf:
            return False
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(1)
        except socket.timeout:
            return True
        except ConnectionResetError:
            return False
        finally:
            self.sock.settimeout(TIMEOUT)
        self.buf += data
        return False


def get(path="/", host="example.test", version="HTTP/1.1", headers=(), method="GET", body=b""):
    """A request's bytes: the request line, Host (unless host is None), `headers` as
    (name, value) pairs, Content-Length when there is a body, the empty line and the body."""
    lines = [f"{method} {path} {version}"]
    if host is not None:
        lines.append(f"Host: {host}")
    lines += [f"{n}: {v}" for n, v in headers]
    if body and not any(n.lower() in ("content-length", "transfer-encoding") for n, _ in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def served(test, address, path="/ok", expect=200, context=None):
    """A fresh connection is served: `GET path` gets `expect`."""
    with Raw(address, context=context) as c:
        c.send(get(path))
        r = c.response()
    test.assertEqual(r.status, expect, r)
    return r


# --- the transcript ----------------------------------------------------------------------------


def requests(session):
    """The request-head client events, in order."""
    return [e for e in session["events"] if e.get("from") == "client" and "method" in e]


def bodies(session):
    """The `request_body` events: each body's request number, size, `complete` and saved `file`."""
    return [e for e in session["events"] if e.get("event") == "request_body"]


def body_frames(session):
    """The client events that hold request bodies as they came over the wire."""
    return [e for e in session["events"] if e.get("from") == "client" and e.get("body")]


def errors(session):
    """Client events of requests the server could not read (`error` is the status)."""
    return [e for e in session["events"] if e.get("from") == "client" and "error" in e]


def statuses(session):
    """The status of every response head the server wrote (scripted raw bytes have none)."""
    return [e["status"] for e in session["events"] if e.get("from") == "server" and "status" in e]


def cgi_events(session, name=None):
    found = [e for e in session["events"] if e.get("channel") == "cgi"]
    return [e for e in found if e.get("event") == name] if name else found


def one(session, name):
    found = named_events(session, name)
    if len(found) != 1:
        raise AssertionError(f"expected one {name} event, found {found}")
    return found[0]


def saved(farm, event):
    """The bytes a body event's file holds."""
    return (farm.transcripts / event["file"]).read_bytes()


def server_heads(session):
    """Every response head the server wrote with a status, parsed."""
    heads = []
    for e in session["events"]:
        if e.get("from") == "server" and "status" in e:
            data = event_bytes(e)
            heads.append(Head(data.split(b"\r\n\r\n")[0]))
    return heads
