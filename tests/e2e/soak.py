#!/usr/bin/python3
"""The soak test: one farm with every fake, up to --clients hostile clients at once for
--seconds, while one well-behaved client per protocol keeps checking real answers.

    soak.py --seconds 60 --clients 1000 [--protofarm PATH] [--keep DIR]

The farm runs a scenario this script writes (a tcp echo server, a udp echo server, smtp with
STARTTLS, pop3 with mailboxes and STLS, ftp with a small tree, AUTH TLS and a writable folder,
nntp with groups and STARTTLS, http with a document root, and the same document root over
HTTPS), every server on 127.0.0.1 port 0 with a short idle timeout (2s), so that idle and
half-open connections end while the test runs.

The hostile clients run in a child process (asyncio, niced, so that generating the storm does
not take CPU from the farm or from the clients that measure it). Each of --clients slots runs
one client at a time, then the next: random binary junk and junk command lines; over-long
lines (1 to 3 MiB without a line feed; --longline-rate a second at most); slowloris
(commands one byte a second, for 3 to 12 seconds: the idle timeout is per read, so the farm
is not expected to cut them); half-open (half a command, then a shutdown of the write side or
silence); vanishing in the middle of a transfer (SMTP DATA, FTP STOR and RETR, POP3 RETR,
NNTP POST, HTTP POST bodies and downloads, then a reset: SO_LINGER 0); TLS garbage (a real
or a fake ClientHello and then junk, to the implicit TLS port, after STARTTLS/STLS/AUTH TLS,
and to plain ports); and junk datagrams. Every socket is on 127.0.0.1 and every wait has a timeout.

Meanwhile one well-behaved client per protocol (smtplib with STARTTLS, poplib RETR, ftplib RETR
and NLST, raw-socket NNTP GROUP/ARTICLE, http.client GET over HTTP and HTTPS, a tcp echo line, a
udp echo datagram, sent again after a second without an echo, as UDP clients do: the kernel
drops datagrams when the junk ones fill a receive buffer) loops real exchanges and records each
one's latency (connect to last answer) and whether the answer was right.

Afterwards it checks, and exits 1 with a clear message when any fails:
  - every well-behaved exchange got the right answer, and the median latency of each
    protocol's exchanges is under --median-ms (50);
  - the farm is still running;
  - idle and half-open hostile connections were closed by the farm (idle timeout + grace);
  - the farm's open file descriptors (/proc/PID/fd) come back to the baseline taken after
    start-up, within --fd-margin, once the hostile clients are gone;
  - its peak RSS (VmHWM) is under --rss-mib (200);
  - a last round of well-behaved exchanges still works after the storm;
  - SIGTERM stops it with exit status 0;
  - every sessions/*/*.json is valid JSON with the documented keys, no .json.part is left, every
    session that events.jsonl opened has its document, and every events.jsonl line parses.

The transcripts and the farm's output are kept in --keep DIR, or in a temporary folder that is
removed after a pass and kept (and named) after a failure. A minute of storm records roughly
1 GiB of transcripts (every byte of every hostile conversation, twice: events.jsonl and the
session documents).

--farm-nofile N runs the farm with RLIMIT_NOFILE N (soft and hard), to see how it copes when it
runs out of descriptors.

--wrong PROTOCOL makes that protocol's well-behaved check expect a wrong answer: the run must
then fail (a check that the test can fail).
"""

import argparse
import asyncio
import base64
import collections
import ftplib
import http.client
import json
import os
import poplib
import random
import re
import resource
import shutil
import signal
import smtplib
import socket
import ssl
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_PROTOFARM = os.environ.get("PROTOFARM") or (
    str(HERE.parents[1] / "build" / "protofarm") if len(HERE.parents) > 1 else "build/protofarm")

HOST = "127.0.0.1"
IDLE_TIMEOUT = 2.0          # seconds: every server's idle_timeout in the scenario
IDLE_GRACE = 10.0           # how late after IDLE_TIMEOUT an idle connection may still be closed
EXCHANGE_TIMEOUT = 10.0     # a well-behaved exchange that takes longer is a failure
UDP_RETRY = 1.0             # the well-behaved udp client sends again after this long ...
UDP_TRIES = 5               # ... this many times in all
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
DISK_PER_SECOND = 20 << 20  # transcripts a second of storm records, roughly, with 1000 clients
CLOSE_STATES = {"client", "server", "reset", "timeout", "fault", "shutdown"}

INDEX_HTML = b"<!DOCTYPE html>\n<html><body><p>protofarm soak</p></body></html>\n"
README_TXT = b"hello from the soak ftp tree\n"
ALICE_MESSAGE = ("From: bob@soak.test\nTo: alice@soak.test\nSubject: soak\n\n"
                 "Hello Alice, still here.\n")
ARTICLE_BODY = "article one of the soak group\n"

def scenario_text():
    idle = f"{int(IDLE_TIMEOUT * 1000)}ms"
    return f"""\
# Written by tests/e2e/soak.py: one server of each protocol, idle timeouts short so that idle
# and half-open connections end during the run.
name: soak
seed: 7
servers:
  echo:
    protocol: tcp
    idle_timeout: {idle}
    banner: "220 echo ready\\r\\n"
    echo: true
  dgram:
    protocol: udp
    idle_timeout: {idle}
    echo: true
  mail:
    protocol: smtp
    idle_timeout: {idle}
    tls: starttls
    hostname: mail.soak.test
  pop:
    protocol: pop3
    idle_timeout: {idle}
    tls: starttls
    mailboxes:
      alice:                   # the well-behaved client's; hostile clients never log in here
        password: secret
        messages:
          - {json.dumps(ALICE_MESSAGE)}
      bob:                     # hostile clients fetch this one and vanish
        password: hunter2
        messages:
          - {{file: big.eml}}
  files:
    protocol: ftp
    idle_timeout: {idle}
    tls: starttls
    users:
      anonymous: {{}}
      up: {{password: up, write: true}}
    tree:
      /pub/readme.txt: {json.dumps(README_TXT.decode())}
      /pub/big.bin: {{size: 16MiB}}      # sent, not recorded: a download to vanish from
      /incoming/: {{write: true}}
  news:
    protocol: nntp
    idle_timeout: {idle}
    tls: starttls
    groups:
      soak.test:
        articles:
          - number: 1
            headers:
              From: "a@soak.test"
              Newsgroups: soak.test
              Subject: first
              Message-ID: "<1@soak.test>"
              Date: "Thu, 01 Jan 2026 00:00:00 +0000"
            body: {json.dumps(ARTICLE_BODY)}
      soak.big:
        generate: {{count: 1000}}
  web:
    protocol: http
    idle_timeout: {idle}
    docroot: site/
  webs:
    protocol: http
    idle_timeout: {idle}
    tls: implicit
    docroot: site/
"""


def write_scenario(folder):
    folder.mkdir(parents=True, exist_ok=True)
    site = folder / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_bytes(INDEX_HTML)
    rng = random.Random(7)
    (site / "big.bin").write_bytes(rng.randbytes(8 << 20))  # bodies sent are not recorded
    lines = ["From: carol@soak.test", "To: bob@soak.test", "Subject: a big one", ""]
    lines += [f"line {i:05d} " + "x" * 60 for i in range(1500)]  # 100 KB, recorded as sent
    (folder / "big.eml").write_text("\n".join(lines) + "\n")
    path = folder / "soak.yaml"
    path.write_text(scenario_text())
    return path


# --- /proc --------------------------------------------------------------------------------

def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def fd_kinds(pid):
    """{"socket": n, "pipe": n, "session file": n, PATH: n, ...}: the open descriptors."""
    kinds = collections.Counter()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return {}
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if "/sessions/" in target:
            kinds["session file"] += 1
        elif "/files/" in target:
            kinds["payload file"] += 1
        elif target.startswith("/"):
            kinds[os.path.basename(target)] += 1
        else:
            kinds[target.split(":", 1)[0]] += 1
    return dict(kinds)


def proc_status(pid):
    """{"VmRSS": kB, "VmHWM": kB, "Threads": n} or {} when the process is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "Threads"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def udp_rcvbuf_errors():
    """The kernel's count of datagrams dropped for a full receive buffer (this network
    namespace), or None."""
    try:
        with open("/proc/net/snmp") as f:
            rows = [line.split() for line in f if line.startswith("Udp:")]
        return int(rows[1][rows[0].index("RcvbufErrors")])
    except (OSError, IndexError, ValueError):
        return None


def under_sanitizer(pid):
    """The sanitizer runtime the process has loaded ("AddressSanitizer", ...), or None."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            maps = f.read()
    except OSError:
        return None
    for lib, name in (("libasan", "AddressSanitizer"), ("libtsan", "ThreadSanitizer"),
                      ("libubsan", "UndefinedBehaviorSanitizer")):
        if lib in maps:
            return name
    return None


def folder_size(folder):
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


# --- the farm -----------------------------------------------------------------------------

class Farm:
    def __init__(self, binary, workdir, scenario, nofile=None):
        self.binary = binary
        self.nofile = nofile
        self.workdir = workdir
        self.scenario = scenario
        self.transcripts = workdir / "transcripts"
        self.ready_file = workdir / "ready.json"
        self.proc = None
        self.ready = None
        self.returncode = None

    def start(self):
        self.stdout = open(self.workdir / "farm.stdout", "wb")
        self.stderr = open(self.workdir / "farm.stderr", "wb")
        self.proc = subprocess.Popen(
            [self.binary, "run", str(self.scenario), "--transcripts", str(self.transcripts),
             "--ready-file", str(self.ready_file)],
            stdout=self.stdout, stderr=self.stderr, stdin=subprocess.DEVNULL,
            preexec_fn=self.limit_fds if self.nofile else None)
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.ready_file.exists():
            if self.proc.poll() is not None:
                raise SystemExit(f"soak: protofarm exited ({self.proc.returncode}) before it was "
                                 f"ready:\n{self.stderr_text()}")
            if time.monotonic() > deadline:
                self.kill()
                raise SystemExit(f"soak: protofarm was not ready within {READY_TIMEOUT:.0f}s")
            time.sleep(0.02)
        self.ready = json.loads(self.ready_file.read_text())
        if self.ready.get("pid") != self.proc.pid:
            raise SystemExit(f"soak: the ready file names pid {self.ready.get('pid')}, "
                             f"not {self.proc.pid}")
        return self

    def limit_fds(self):
        # soft and hard: protofarm raises its soft limit to the hard one at start
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def address(self, name):
        server = self.ready["servers"][name]
        return server["host"], server["port"]

    def ca(self):
        return self.ready.get("ca")

    def stop(self):
        """SIGTERM; the exit status, or None when it had to be killed."""
        if self.proc.poll() is not None:
            self.returncode = self.proc.returncode
            return self.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_text(self, limit=4000):
        self.stderr.flush()
        text = (self.workdir / "farm.stderr").read_bytes().decode(errors="replace")
        return text[-limit:]


# --- the well-behaved clients ---------------------------------------------------------------

class Wrong(Exception):
    """A well-behaved exchange got an answer that is not the right one."""


def expect(condition, what):
    if not condition:
        raise Wrong(what)


def recv_line(sock, limit=65536):
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise Wrong(f"connection closed after {data[-200:]!r}")
        data += chunk
        if len(data) > limit:
            raise Wrong("an answer line longer than 64 KiB")
    return data


class Probes:
    """One exchange per protocol; each raises Wrong (or any error) unless the answer is right.
    `wrong` names a protocol whose check deliberately expects a wrong answer."""

    def __init__(self, farm, wrong=None):
        self.farm = farm
        self.wrong = wrong
        self.context = ssl.create_default_context(cafile=farm.ca())
        self.udp_sock = None
        self.udp_retries = 0
        self.counter = 0
        self.lock = threading.Lock()

    def token(self):
        with self.lock:
            self.counter += 1
            return f"{self.counter}-{random.getrandbits(32):08x}"

    def spoil(self, name, value):
        """The expected value, or a wrong one when --wrong names this probe."""
        if self.wrong == name:
            return value + (b"!" if isinstance(value, bytes) else "!")
        return value

    def tcp(self):
        token = self.token()
        with socket.create_connection(self.farm.address("echo"), timeout=EXCHANGE_TIMEOUT) as s:
            banner = recv_line(s)
            want = self.spoil("tcp", b"220 echo ready\r\n")
            expect(banner == want, f"banner {banner!r}, expected {want!r}")
            line = f"soak {token}\r\n".encode()
            s.sendall(line)
            got = recv_line(s)
            expect(got == line, f"echo {got!r}, sent {line!r}")

    def udp(self):
        """A datagram and its echo. Like every UDP client it sends again after a second without
        an answer (UDP_TRIES in all): the kernel drops datagrams when a receive buffer is full,
        which the junk datagrams of the storm make happen. Only no echo at all is a failure."""
        if self.udp_sock is None:
            self.udp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp_sock.connect(self.farm.address("dgram"))
        token = self.token()
        sent = f"soak {token}".encode()
        want = self.spoil("udp", sent)
        for attempt in range(UDP_TRIES):
            if attempt:
                self.udp_retries += 1
            self.udp_sock.send(sent)
            deadline = time.monotonic() + UDP_RETRY
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.udp_sock.settimeout(left)
                try:
                    got = self.udp_sock.recv(70000)
                except socket.timeout:
                    break
                if got == want:
                    return
                if token.encode() in got:
                    raise Wrong(f"datagram echo {got!r}, sent {sent!r}")
                # an earlier exchange's late echo: keep waiting for this one
        raise Wrong(f"no echo of datagram {token}, sent {UDP_TRIES} times {UDP_RETRY:g}s apart")

    def smtp(self):
        with smtplib.SMTP(*self.farm.address("mail"), local_hostname="probe.soak.test",
                          timeout=EXCHANGE_TIMEOUT) as c:
            code, text = c.ehlo()
            expect(code == 250 and text.startswith(b"mail.soak.test"), f"EHLO {code} {text!r}")
            expect(c.has_extn("starttls"), "EHLO does not offer STARTTLS")
            code, text = c.starttls(context=self.context)
            expect(code == 220, f"STARTTLS {code} {text!r}")
            code, text = c.ehlo()
            expect(code == 250 and not c.has_extn("starttls"), f"EHLO after TLS {code} {text!r}")
            code, text = c.mail("probe@soak.test")
            expect(code == 250, f"MAIL {code} {text!r}")
            code, text = c.rcpt("alice@soak.test")
            expect(code == 250, f"RCPT {code} {text!r}")
            code, text = c.data(f"Subject: probe {self.token()}\r\n\r\nhello\r\n".encode())
            want = self.spoil("smtp", b"2.0.0 Ok: queued as")
            expect(code == 250 and text.startswith(want),
                   f"DATA {code} {text!r}, expected 250 {want!r}...")
            code, text = c.docmd("QUIT")
            c.close()
            expect(code == 221, f"QUIT {code} {text!r}")

    def pop3(self):
        c = poplib.POP3(*self.farm.address("pop"), timeout=EXCHANGE_TIMEOUT)
        try:
            expect(c.getwelcome().startswith(b"+OK"), f"greeting {c.getwelcome()!r}")
            c.user("alice")
            reply = c.pass_("secret")
            expect(reply.startswith(b"+OK"), f"PASS {reply!r}")
            count, size = c.stat()
            expected = ALICE_MESSAGE.replace("\n", "\r\n").encode()
            expect((count, size) == (1, len(expected)), f"STAT {count} {size}")
            reply, lines, octets = c.retr(1)
            got = b"\r\n".join(lines) + b"\r\n"
            want = self.spoil("pop3", expected)
            expect(got == want, f"RETR 1 gave {got!r}, expected {want!r}")
            reply = c.quit()
            expect(reply.startswith(b"+OK"), f"QUIT {reply!r}")
        finally:
            c.close()

    def ftp(self):
        c = ftplib.FTP(timeout=EXCHANGE_TIMEOUT)
        try:
            host, port = self.farm.address("files")
            c.connect(host, port)
            c.login()
            data = bytearray()
            c.retrbinary("RETR /pub/readme.txt", data.extend)
            want = self.spoil("ftp", README_TXT)
            expect(bytes(data) == want, f"RETR gave {bytes(data)!r}, expected {want!r}")
            names = c.nlst("/pub")
            expect(any(n.rsplit("/", 1)[-1] == "readme.txt" for n in names), f"NLST {names!r}")
            expect(c.quit().startswith("221"), "QUIT")
        finally:
            c.close()

    def nntp(self):
        with socket.create_connection(self.farm.address("news"), timeout=EXCHANGE_TIMEOUT) as s:
            line = recv_line(s)
            expect(line.startswith(b"200 "), f"greeting {line!r}")
            s.sendall(b"GROUP soak.test\r\n")
            line = recv_line(s)
            expect(line == b"211 1 1 1 soak.test\r\n", f"GROUP {line!r}")
            s.sendall(b"ARTICLE 1\r\n")
            line = recv_line(s)
            expect(line.startswith(b"220 1 <1@soak.test>"), f"ARTICLE {line!r}")
            body = b""
            while not body.endswith(b"\r\n.\r\n"):
                body += recv_line(s)
            want = self.spoil("nntp", ARTICLE_BODY.replace("\n", "\r\n").encode())
            expect(body.endswith(b"\r\n\r\n" + want + b".\r\n"),
                   f"article {body!r}, expected the body {want!r}")
            s.sendall(b"QUIT\r\n")
            line = recv_line(s)
            expect(line.startswith(b"205"), f"QUIT {line!r}")

    def _http(self, name, connection):
        try:
            connection.request("GET", "/index.html")
            response = connection.getresponse()
            body = response.read()
            expect(response.status == 200, f"GET /index.html {response.status}")
            want = self.spoil(name, INDEX_HTML)
            expect(body == want, f"GET /index.html body {body[:200]!r}, expected {want!r}")
        finally:
            connection.close()

    def http(self):
        self._http("http", http.client.HTTPConnection(*self.farm.address("web"),
                                                      timeout=EXCHANGE_TIMEOUT))

    def https(self):
        host, port = self.farm.address("webs")
        self._http("https", http.client.HTTPSConnection(host, port,
                                                       timeout=EXCHANGE_TIMEOUT,
                                                       context=self.context))

    def all(self):
        return {"tcp": self.tcp, "udp": self.udp, "smtp": self.smtp, "pop3": self.pop3,
                "ftp": self.ftp, "nntp": self.nntp, "http": self.http, "https": self.https}


class Record:
    def __init__(self):
        self.latencies = []     # seconds, right answers only
        self.failures = []      # (time since start, message)
        self.count = 0


def probe_loop(name, probe, record, stop, started, pause):
    while not stop.is_set():
        begin = time.perf_counter()
        try:
            probe()
        except Exception as e:  # a wrong answer, a timeout, a reset: all failures
            record.failures.append((time.monotonic() - started, f"{type(e).__name__}: {e}"))
        else:
            record.latencies.append(time.perf_counter() - begin)
        record.count += 1
        stop.wait(pause)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# --- the hostile clients (a child process: soak.py --hostile-worker CONFIG) -----------------

class Hostile:
    def __init__(self, config):
        self.cfg = config
        self.servers = config["servers"]
        self.deadline = time.monotonic() + config["seconds"]
        self.rng = random.Random(config["seed"])
        self.stats = collections.Counter()       # "pattern server outcome" -> n
        self.problems = collections.Counter()    # "pattern server what" -> n
        self.examples = {}
        self.open = 0
        self.peak_open = 0
        self.long_tokens = 0.0
        self.long_rate = config["longline_rate"]
        self.long_last = time.monotonic()
        self.client_ctx = ssl.create_default_context(cafile=config["ca"])
        self.client_ctx.check_hostname = False
        self.client_ctx.verify_mode = ssl.CERT_NONE
        self.hellos = [self.client_hello() for _ in range(4)]

    # helpers
    def addr(self, name):
        s = self.servers[name]
        return s["host"], s["port"]

    def client_hello(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(incoming, outgoing, server_hostname="localhost")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return outgoing.read()

    def fake_hello(self):
        body = b"\x03\x03" + self.rng.randbytes(32) + self.rng.randbytes(self.rng.randint(0, 400))
        handshake = b"\x01" + len(body).to_bytes(3, "big") + body
        return b"\x16\x03\x01" + len(handshake).to_bytes(2, "big") + handshake

    def problem(self, key, detail):
        self.problems[key] += 1
        self.examples.setdefault(key, detail)

    def left(self):
        return self.deadline - time.monotonic()

    async def connect(self, name, tls=False):
        host, port = self.addr(name)
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, limit=1 << 20,
                                        ssl=self.client_ctx if tls else None,
                                        server_hostname="localhost" if tls else None), 10)
        except (OSError, asyncio.TimeoutError, ssl.SSLError) as e:
            self.stats[f"connect {name} {type(e).__name__}"] += 1
            raise Skip() from e
        self.open += 1
        self.peak_open = max(self.peak_open, self.open)
        return reader, writer

    def done(self, writer, reset=False):
        if writer is None:
            return
        self.open -= 1
        try:
            if reset:
                sock = writer.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            else:
                writer.close()
        except Exception:
            pass

    async def line(self, reader, timeout=10):
        line = await asyncio.wait_for(reader.readline(), timeout)
        if not line:
            raise Closed()
        return line

    async def reply(self, reader, proto, timeout=10):
        """One reply: multi-line for smtp/ftp (code-space ends it), one line otherwise."""
        line = await self.line(reader, timeout)
        if proto in ("smtp", "ftp"):
            while (len(line) >= 4 and line[3:4] == b"-") or \
                    (proto == "ftp" and not line[:3].isdigit()):
                line = await self.line(reader, timeout)
        return line

    async def wait_closed(self, reader, limit):
        """How the server ended it within `limit` seconds: ("eof"|"reset"|"open", seconds)."""
        start = time.monotonic()
        try:
            while True:
                left = limit - (time.monotonic() - start)
                if left <= 0:
                    return "open", time.monotonic() - start
                data = await asyncio.wait_for(reader.read(65536), left)
                if not data:
                    return "eof", time.monotonic() - start
        except asyncio.TimeoutError:
            return "open", time.monotonic() - start
        except (ConnectionResetError, BrokenPipeError):
            return "reset", time.monotonic() - start
        except (OSError, ssl.SSLError):
            return "reset", time.monotonic() - start

    def greets(self, name):
        return self.servers[name]["protocol"] in ("tcp", "smtp", "pop3", "ftp", "nntp")

    async def greeting(self, name, reader):
        if self.greets(name):
            await self.reply(reader, self.servers[name]["protocol"])

    def long_line_allowed(self):
        now = time.monotonic()
        self.long_tokens = min(2.0, self.long_tokens + (now - self.long_last) * self.long_rate)
        self.long_last = now
        if self.long_tokens >= 1:
            self.long_tokens -= 1
            return True
        return False

    def stream_servers(self):
        return [n for n, s in self.servers.items() if s["protocol"] != "udp"]

    # patterns: each returns an outcome word for the stats
    async def junk(self, name):
        tls = self.servers[name]["tls"] == "implicit"
        reader, writer = await self.connect(name, tls)
        try:
            if self.rng.random() < 0.5:
                payload = self.rng.randbytes(self.rng.randint(1, 16 * 1024))
            else:  # junk command lines: the parser's error paths, many at once
                words = [b"HELO", b"EHLO", b"USER", b"RETR", b"GET", b"LIST", b"\x00\xff",
                         b"ARTICLE", b"STOR", b"DATA", b"\xe9t\xe9", b"%s%n", b"../../.."]
                payload = b"".join(self.rng.choice(words) + b" " + self.rng.randbytes(
                    self.rng.randint(0, 40)).replace(b"\n", b"") + self.rng.choice(
                    [b"\r\n", b"\n", b"\r"]) for _ in range(self.rng.randint(1, 200)))
            writer.write(payload)
            await asyncio.wait_for(writer.drain(), 10)
            if self.rng.random() < 0.5:
                self.done(writer, reset=self.rng.random() < 0.5)
                return "sent+left"
            how, took = await self.wait_closed(reader, IDLE_TIMEOUT + IDLE_GRACE)
            self.done(writer, reset=how == "open")
            if how == "open" and self.left() > 0:
                self.problem(f"junk {name} not-closed",
                             f"still open {took:.1f}s after the junk "
                             f"(idle timeout {IDLE_TIMEOUT}s)")
            return f"sent+{how}"
        except BaseException:
            self.done(writer, reset=True)
            raise

    async def long_line(self, name):
        tls = self.servers[name]["tls"] == "implicit"
        reader, writer = await self.connect(name, tls)
        try:
            await self.greeting(name, reader)
            size = self.rng.randint(1, 3) << 20
            chunk = b"A" * 65536
            sent = 0
            while sent < size:
                writer.write(chunk)
                await asyncio.wait_for(writer.drain(), 20)
                sent += len(chunk)
            how, _ = await self.wait_closed(reader, 1.0) if self.rng.random() < 0.5 else ("left", 0)
            self.done(writer, reset=how == "left")
            return f"{size >> 20}MiB+{how}"
        except BaseException:
            self.done(writer, reset=True)
            raise

    SLOW = {"tcp": b"a slow line of text\n",
            "smtp": b"EHLO slowloris.example\r\nMAIL FROM:<slow@example.test>\r\n",
            "pop3": b"CAPA\r\nNOOP\r\n",
            "ftp": b"USER anonymous\r\nPASS slow@\r\nPWD\r\n",
            "nntp": b"GROUP soak.test\r\nHELP\r\n",
            "http": b"GET /index.html HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaa\r\n\r\n"}

    async def slowloris(self, name):
        proto = self.servers[name]["protocol"]
        tls = self.servers[name]["tls"] == "implicit"
        reader, writer = await self.connect(name, tls)
        try:
            text = self.SLOW[proto]
            seconds = self.rng.uniform(3, 12)
            start = time.monotonic()
            i = 0
            drain = asyncio.ensure_future(reader.read(1 << 20))
            while time.monotonic() - start < seconds and self.left() > 0:
                writer.write(text[i % len(text):i % len(text) + 1])
                i += 1
                done, _ = await asyncio.wait({drain}, timeout=1.0)
                if done:
                    try:
                        data = drain.result()
                    except (OSError, ssl.SSLError):
                        self.done(writer)
                        return "reset-by-server"
                    if not data:
                        self.done(writer)
                        return "closed-by-server"
                    drain = asyncio.ensure_future(reader.read(1 << 20))
            drain.cancel()
            self.done(writer, reset=self.rng.random() < 0.5)
            return "ran-to-client-limit"
        except BaseException:
            self.done(writer, reset=True)
            raise

    HALF = {"tcp": b"half a li", "smtp": b"EHLO half", "pop3": b"USER bo", "ftp": b"USER anon",
            "nntp": b"GROUP soak.te", "http": b"GET /index.html HT"}

    async def half_open(self, name):
        proto = self.servers[name]["protocol"]
        implicit = self.servers[name]["tls"] == "implicit"
        # For the implicit TLS port: half a ClientHello over plain TCP, then the same.
        reader, writer = await self.connect(name, False)
        try:
            if not implicit:
                await self.greeting(name, reader)
            choice = self.rng.random()
            if choice < 0.2:
                what = "silent"
            else:
                payload = self.rng.choice(self.hellos)[:40] if implicit else self.HALF[proto]
                writer.write(payload)
                await asyncio.wait_for(writer.drain(), 10)
                what = "half"
            if self.rng.random() < 0.5:
                try:
                    writer.write_eof()
                    what += "+shut_wr"
                except OSError:   # the farm has closed it already
                    what += "+gone"
            limit = IDLE_TIMEOUT + IDLE_GRACE
            how, took = await self.wait_closed(reader, limit)
            self.done(writer, reset=how == "open")
            if how == "open" and self.left() > 0:
                self.problem(f"half_open {name} not-closed",
                             f"{what}: still open {took:.1f}s after connecting "
                             f"(idle timeout {IDLE_TIMEOUT}s)")
            return f"{what}+{how}"
        except BaseException:
            self.done(writer, reset=True)
            raise

    async def vanish(self, name):
        proto = self.servers[name]["protocol"]
        tls = self.servers[name]["tls"] == "implicit"
        body = self.rng.randbytes(self.rng.randint(4, 32) * 1024)
        if proto == "smtp":
            reader, writer = await self.connect(name)
            try:
                await self.greeting(name, reader)
                for command in (b"EHLO vanish.example", b"MAIL FROM:<v@example.test>",
                                b"RCPT TO:<bob@soak.test>", b"DATA"):
                    writer.write(command + b"\r\n")
                    line = await self.reply(reader, "smtp")
                writer.write(b"Subject: vanishing\r\n\r\n" + base64.encodebytes(body))
                await asyncio.wait_for(writer.drain(), 10)
                self.done(writer, reset=True)
                return "data" if line.startswith(b"354") else "no-354"
            except BaseException:
                self.done(writer, reset=True)
                raise
        if proto == "ftp":
            return await self.vanish_ftp(name, body)
        if proto == "pop3":
            reader, writer = await self.connect(name)
            try:
                await self.greeting(name, reader)
                writer.write(b"USER bob\r\nPASS hunter2\r\n")
                await self.line(reader)
                line = await self.line(reader)
                if not line.startswith(b"+OK"):
                    self.done(writer, reset=True)
                    return "locked"
                writer.write(b"RETR 1\r\n")
                got = 0
                want = self.rng.randint(1, 100) * 1024
                while got < want:
                    data = await asyncio.wait_for(reader.read(65536), 10)
                    if not data:
                        break
                    got += len(data)
                self.done(writer, reset=True)
                return "retr"
            except BaseException:
                self.done(writer, reset=True)
                raise
        if proto == "nntp":
            reader, writer = await self.connect(name)
            try:
                await self.greeting(name, reader)
                writer.write(b"POST\r\n")
                line = await self.line(reader)
                writer.write(b"From: v@example.test\r\nNewsgroups: soak.test\r\n"
                             b"Subject: vanishing\r\n\r\n" + base64.encodebytes(body))
                await asyncio.wait_for(writer.drain(), 10)
                self.done(writer, reset=True)
                return "post" if line.startswith(b"340") else "no-340"
            except BaseException:
                self.done(writer, reset=True)
                raise
        if proto == "http":
            reader, writer = await self.connect(name, tls)
            try:
                if self.rng.random() < 0.5:
                    writer.write(b"POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                                 + str(len(body) * 2).encode() + b"\r\n\r\n" + body)
                    await asyncio.wait_for(writer.drain(), 10)
                    what = "post"
                else:
                    writer.write(b"GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n")
                    got, want = 0, self.rng.randint(1, 4096) * 1024
                    while got < want:
                        data = await asyncio.wait_for(reader.read(65536), 10)
                        if not data:
                            break
                        got += len(data)
                    what = "download"
                self.done(writer, reset=True)
                return what
            except BaseException:
                self.done(writer, reset=True)
                raise
        # tcp: keep sending lines the server echoes, never read them, then vanish
        reader, writer = await self.connect(name)
        try:
            writer.write(b"".join(b"line %d of a client that never reads\n" % i
                                  for i in range(len(body) // 40)))
            try:
                await asyncio.wait_for(writer.drain(), 3)
                what = "stream"
            except asyncio.TimeoutError:
                what = "stream-blocked"
            self.done(writer, reset=True)
            return what
        except BaseException:
            self.done(writer, reset=True)
            raise

    async def vanish_ftp(self, name, body):
        reader, writer = await self.connect(name)
        data_writer = None
        try:
            await self.greeting(name, reader)
            for command in (b"USER up", b"PASS up", b"TYPE I", b"EPSV"):
                writer.write(command + b"\r\n")
                line = await self.reply(reader, "ftp")
            m = re.search(rb"\(\|\|\|(\d+)\|\)", line)
            if not m:
                self.done(writer, reset=True)
                return "no-epsv"
            data_reader, data_writer = await asyncio.wait_for(
                asyncio.open_connection(HOST, int(m.group(1))), 10)
            self.open += 1
            if self.rng.random() < 0.5:
                writer.write(b"STOR /incoming/vanish-%d.bin\r\n" % self.rng.randint(0, 7))
                await self.reply(reader, "ftp")
                data_writer.write(body)
                await asyncio.wait_for(data_writer.drain(), 10)
                what = "stor"
            else:
                writer.write(b"RETR /pub/big.bin\r\n")
                got, want = 0, self.rng.randint(1, 8192) * 1024
                while got < want:
                    data = await asyncio.wait_for(data_reader.read(65536), 10)
                    if not data:
                        break
                    got += len(data)
                what = "retr"
            which = self.rng.random()
            if which < 0.4:       # both connections vanish
                self.done(data_writer, reset=True)
                self.done(writer, reset=True)
            elif which < 0.7:     # the data connection vanishes, control says QUIT
                self.done(data_writer, reset=True)
                data_writer = None
                writer.write(b"QUIT\r\n")
                how, _ = await self.wait_closed(reader, 10)
                self.done(writer)
                what += f"+quit-{how}"
            else:                 # control vanishes, data left open until the farm ends it
                self.done(writer, reset=True)
                writer = None
                how, took = await self.wait_closed(data_reader, IDLE_TIMEOUT + IDLE_GRACE)
                self.done(data_writer, reset=how == "open")
                if how == "open" and self.left() > 0:
                    self.problem(f"vanish {name} data-not-closed",
                                 f"{what}: data connection still open {took:.1f}s after the "
                                 f"control connection was reset")
                what += f"+data-{how}"
            return what
        except BaseException:
            self.done(data_writer, reset=True)
            self.done(writer, reset=True)
            raise

    STARTTLS = {"smtp": [b"EHLO tls.example", b"STARTTLS"], "pop3": [b"STLS"],
                "ftp": [b"AUTH TLS"], "nntp": [b"STARTTLS"]}

    async def tls_garbage(self, name):
        proto = self.servers[name]["protocol"]
        mode = self.servers[name]["tls"]
        reader, writer = await self.connect(name)
        try:
            where = "plain-port"
            if mode == "starttls":
                await self.greeting(name, reader)
                for command in self.STARTTLS[proto]:
                    writer.write(command + b"\r\n")
                    line = await self.reply(reader, proto)
                accepted = line.startswith((b"220", b"+OK", b"234", b"382"))
                where = "after-starttls" if accepted else "starttls-refused"
            elif mode == "implicit":
                where = "implicit"
            choice = self.rng.random()
            if choice < 0.4:
                payload = self.rng.choice(self.hellos) + self.rng.randbytes(
                    self.rng.randint(1, 16 * 1024))
                kind = "hello+junk"
            elif choice < 0.7:
                payload = self.fake_hello() + self.rng.randbytes(self.rng.randint(0, 4096))
                kind = "fake-hello"
            elif choice < 0.85:   # a record header announcing 16 KiB, then silence
                payload = b"\x16\x03\x01\x40\x00" + self.rng.randbytes(100)
                kind = "stalled-record"
            else:
                payload = self.rng.randbytes(self.rng.randint(1, 2048))
                kind = "junk"
            writer.write(payload)
            await asyncio.wait_for(writer.drain(), 10)
            how, took = await self.wait_closed(reader, IDLE_TIMEOUT + IDLE_GRACE)
            self.done(writer, reset=how == "open")
            if how == "open" and self.left() > 0:
                self.problem(f"tls_garbage {name} not-closed",
                             f"{kind} {where}: still open {took:.1f}s later")
            return f"{where}+{kind}+{how}"
        except BaseException:
            self.done(writer, reset=True)
            raise

    async def udp_junk(self, name):
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        try:
            sock.connect(self.addr(name))
            for _ in range(self.rng.randint(1, 8)):
                size = 65507 if self.rng.random() < 0.03 else self.rng.choice(
                    [0, 1, 7, 100, 512, 1400, 9000])
                try:
                    sock.send(self.rng.randbytes(size))
                except OSError:
                    pass
            try:
                await asyncio.wait_for(loop.sock_recv(sock, 70000), 0.5)
                return "answered"
            except (asyncio.TimeoutError, OSError):
                return "no-answer"
        finally:
            sock.close()

    async def one(self):
        r = self.rng.random()
        streams = self.stream_servers()
        udp = [n for n, s in self.servers.items() if s["protocol"] == "udp"]
        if r < 0.08 and self.long_line_allowed():
            pattern, name = "long_line", self.rng.choice(streams)
        elif r < 0.28:
            pattern, name = "junk", self.rng.choice(streams)
        elif r < 0.40:
            pattern, name = "slowloris", self.rng.choice(streams)
        elif r < 0.58:
            pattern, name = "half_open", self.rng.choice(streams)
        elif r < 0.78:
            pattern, name = "vanish", self.rng.choice(streams)
        elif r < 0.94:
            pattern, name = "tls_garbage", self.rng.choice(streams)
        else:
            pattern, name = "udp_junk", self.rng.choice(udp)
        try:
            outcome = await asyncio.wait_for(getattr(self, pattern)(name), 30)
        except Skip:
            outcome = "connect-failed"
        except Closed:
            outcome = "closed-early"
        except asyncio.TimeoutError:
            outcome = "client-timeout"
        except (ConnectionResetError, BrokenPipeError):
            outcome = "reset-early"
        except (OSError, ssl.SSLError) as e:
            outcome = f"error-{type(e).__name__}-{getattr(e, 'errno', None)}"
        self.stats[f"{pattern} {name} {outcome}"] += 1

    async def slot(self, i):
        await asyncio.sleep(self.rng.uniform(0, 1.0))  # ramp up over a second
        while self.left() > 0:
            await self.one()
            await asyncio.sleep(self.rng.uniform(*self.cfg["pause"]))

    async def run(self):
        tasks = [asyncio.ensure_future(self.slot(i)) for i in range(self.cfg["clients"])]
        await asyncio.sleep(max(0.0, self.left()))
        # No new client starts now; give the running ones a moment, then cancel the rest.
        _, pending = await asyncio.wait(tasks, timeout=IDLE_TIMEOUT + IDLE_GRACE + 2)
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return {"stats": dict(self.stats), "problems": dict(self.problems),
                "examples": self.examples, "peak_open": self.peak_open,
                "cancelled": len(pending)}


class Skip(Exception):
    pass


class Closed(Exception):
    pass


def hostile_worker(config_path):
    config = json.loads(Path(config_path).read_text())
    try:
        os.nice(config.get("nice", 10))
    except OSError:
        pass
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 4 * config["clients"] + 256))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    result = asyncio.run(Hostile(config).run())
    Path(config["out"]).write_text(json.dumps(result))


# --- transcripts ---------------------------------------------------------------------------

def check_transcripts(folder):
    """(summary dict, list of problems) for DIR/sessions and DIR/events.jsonl."""
    problems = []
    per_server = collections.Counter()
    closes = collections.Counter()
    documents = set()
    bad = 0
    for path in sorted((folder / "sessions").glob("*/*")):
        if path.name.endswith(".json.part") or path.name.startswith("."):
            problems.append(f"{path.relative_to(folder)}: a session document left unfinished")
            continue
        if path.suffix != ".json":
            continue
        try:
            doc = json.loads(path.read_bytes())
        except ValueError as e:
            bad += 1
            if bad <= 5:
                problems.append(f"{path.relative_to(folder)}: not valid JSON: {e}")
            continue
        missing = [k for k in ("server", "protocol", "session", "peer", "local", "started",
                               "ended", "close", "events") if k not in doc]
        shape = None
        if missing:
            shape = f"missing {missing}"
        elif doc["close"] not in CLOSE_STATES:
            shape = f"close {doc['close']!r}"
        elif not isinstance(doc["events"], list) or not doc["events"]:
            shape = "no events"
        else:
            for e in doc["events"]:
                if "t_ms" not in e or not (("from" in e and ("text" in e or "base64" in e))
                                           or "event" in e):
                    shape = f"event {json.dumps(e)[:200]}"
                    break
        if shape:
            bad += 1
            if bad <= 5:
                problems.append(f"{path.relative_to(folder)}: {shape}")
            continue
        per_server[doc["server"]] += 1
        closes[doc["close"]] += 1
        documents.add((doc["server"], doc["session"]))
    if bad > 5:
        problems.append(f"... {bad} session documents in all are not valid")

    lines = 0
    bad_lines = 0
    opened = set()
    events = folder / "events.jsonl"
    if not events.exists():
        problems.append("events.jsonl is missing")
    else:
        with open(events, "rb") as f:
            for number, line in enumerate(f, 1):
                lines += 1
                try:
                    event = json.loads(line)
                    if not isinstance(event, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    bad_lines += 1
                    if bad_lines <= 5:
                        problems.append(f"events.jsonl line {number} does not parse ({e}): "
                                        f"{line[:200]!r}")
                    continue
                if event.get("event") == "open" and "session" in event:
                    opened.add((event.get("server"), event["session"]))
        if bad_lines > 5:
            problems.append(f"... {bad_lines} lines of events.jsonl in all do not parse")
    unfinished = sorted(opened - documents)
    if unfinished:
        problems.append(f"{len(unfinished)} sessions opened in events.jsonl have no document "
                        f"after the farm stopped, e.g. {unfinished[:5]}")
    summary = {"documents": sum(per_server.values()), "per_server": dict(per_server),
               "closes": dict(closes), "events_lines": lines}
    return summary, problems


# --- the run ------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=1000,
                        help="hostile clients open at once, at most (default 1000)")
    parser.add_argument("--protofarm", default=DEFAULT_PROTOFARM)
    parser.add_argument("--keep", metavar="DIR", help="keep transcripts and logs in DIR")
    parser.add_argument("--median-ms", type=float, default=50.0)
    parser.add_argument("--rss-mib", type=float, default=200.0)
    parser.add_argument("--fd-margin", type=int, default=8)
    parser.add_argument("--longline-rate", type=float, default=1.0,
                        help="over-long lines started per second, at most (default 1)")
    parser.add_argument("--pause", type=float, nargs=2, default=(0.2, 1.0), metavar=("MIN", "MAX"),
                        help="seconds a hostile slot waits between clients (default 0.2 1.0)")
    parser.add_argument("--probe-pause", type=float, default=0.02,
                        help="seconds a well-behaved client waits between exchanges")
    parser.add_argument("--farm-nofile", type=int, default=None, metavar="N",
                        help="run the farm with at most N file descriptors (RLIMIT_NOFILE, soft "
                             "and hard; default: as inherited)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--wrong", choices=["tcp", "udp", "smtp", "pop3", "ftp", "nntp", "http",
                                            "https"],
                        help="expect a wrong answer from this protocol (the run must fail)")
    parser.add_argument("--hostile-worker", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.hostile_worker:
        hostile_worker(args.hostile_worker)
        return 0

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    binary = args.protofarm
    if not os.access(binary, os.X_OK):
        print(f"soak: no protofarm binary at {binary} (--protofarm or PROTOFARM)", file=sys.stderr)
        return 2
    if args.keep:
        workdir = Path(args.keep).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        for old in ("transcripts", "ready.json"):
            if (workdir / old).exists():
                print(f"soak: {workdir / old} exists; give --keep an empty folder",
                      file=sys.stderr)
                return 2
    else:
        workdir = Path(tempfile.mkdtemp(prefix="protofarm-soak-"))
    need = DISK_PER_SECOND * args.seconds * max(1.0, args.clients / 1000)
    free = shutil.disk_usage(workdir).free
    if free < need:
        print(f"soak: {workdir} has {free >> 20} MiB free; a run this long records about "
              f"{int(need) >> 20} MiB of transcripts (--keep another folder)", file=sys.stderr)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        return 2
    print(f"soak: {args.seconds:g}s, {args.clients} hostile clients at most, seed {seed}, "
          f"binary {binary}, folder {workdir}", flush=True)

    failures = []
    scenario = write_scenario(workdir)
    farm = Farm(binary, workdir, scenario, nofile=args.farm_nofile).start()
    pid = farm.pid
    hostile = None
    try:
        probes = Probes(farm, wrong=args.wrong)
        # A first round proves every server answers before the storm (and opens whatever the
        # farm opens lazily); the baseline is taken after it.
        for name, probe in probes.all().items():
            try:
                probe()
            except Exception as e:
                failures.append(f"{name}: the first exchange, before any hostile client, "
                                f"failed: {type(e).__name__}: {e}")
        # The baseline once those sessions have ended (the udp one by its idle timeout).
        time.sleep(IDLE_TIMEOUT + 1)
        sanitizer = under_sanitizer(pid)
        if sanitizer:
            print(f"soak: note: the farm runs under {sanitizer}; its latency and RSS are not "
                  f"comparable to a release build's (see --median-ms, --rss-mib)", flush=True)
        baseline_fds = fd_count(pid)
        baseline_kinds = fd_kinds(pid)
        baseline_rss = proc_status(pid).get("VmRSS", 0)
        cpu_start = cpu_seconds(pid)

        config = {"servers": farm.ready["servers"], "ca": farm.ca(), "seconds": args.seconds,
                  "clients": args.clients, "seed": seed, "longline_rate": args.longline_rate,
                  "pause": list(args.pause), "out": str(workdir / "hostile.json")}
        (workdir / "hostile-config.json").write_text(json.dumps(config))
        hostile_err = open(workdir / "hostile.stderr", "wb")
        hostile = subprocess.Popen([sys.executable, str(Path(__file__).resolve()),
                                    "--hostile-worker", str(workdir / "hostile-config.json")],
                                   stdin=subprocess.DEVNULL, stdout=hostile_err,
                                   stderr=hostile_err)

        started = time.monotonic()
        stop = threading.Event()
        records = {name: Record() for name in probes.all()}
        threads = [threading.Thread(target=probe_loop, daemon=True,
                                    args=(name, probe, records[name], stop, started,
                                          args.probe_pause))
                   for name, probe in probes.all().items()]
        for t in threads:
            t.start()

        samples = []   # (t, fds, rss kB)
        peak_kinds = (0, {})
        udp_drops_start = udp_rcvbuf_errors()
        died = None
        while time.monotonic() - started < args.seconds:
            time.sleep(0.5)
            if not farm.alive():
                died = time.monotonic() - started
                break
            status = proc_status(pid)
            fds = fd_count(pid)
            samples.append((time.monotonic() - started, fds, status.get("VmRSS")))
            if fds is not None and fds > peak_kinds[0]:
                peak_kinds = (fds, fd_kinds(pid))
            if hostile.poll() is not None and hostile.returncode != 0:
                break
        stop.set()
        phases = {"storm": time.monotonic()}
        for t in threads:
            t.join(EXCHANGE_TIMEOUT + 5)
        storm_cpu = cpu_seconds(pid)
        udp_drops_end = udp_rcvbuf_errors()
        try:
            hostile.wait(timeout=IDLE_TIMEOUT + IDLE_GRACE + 30)
        except subprocess.TimeoutExpired:
            hostile.kill()
            hostile.wait()
            failures.append("test problem: the hostile worker did not end in time (killed)")
        hostile_err.close()
        phases["hostile clients gone"] = time.monotonic()
        hostile_result = None
        if hostile.returncode == 0 and (workdir / "hostile.json").exists():
            hostile_result = json.loads((workdir / "hostile.json").read_text())
        else:
            failures.append(f"test problem: the hostile worker failed (exit {hostile.returncode}):"
                            f"\n{(workdir / 'hostile.stderr').read_text(errors='replace')[-3000:]}")

        if died is not None or not farm.alive():
            failures.append(f"the farm died during the run (after {died or 0:.1f}s, exit status "
                            f"{farm.proc.returncode}):\n{farm.stderr_text()}")
        # fds back to the baseline once the hostile clients are gone (idle timeouts included)
        settle_deadline = time.monotonic() + IDLE_TIMEOUT * 3 + 10
        final_fds = fd_count(pid)
        while farm.alive() and final_fds is not None and \
                final_fds > baseline_fds + args.fd_margin and time.monotonic() < settle_deadline:
            time.sleep(0.25)
            final_fds = fd_count(pid)
        settled_after = time.monotonic() - started - args.seconds
        phases["fds settled"] = time.monotonic()
        after = Record()
        if farm.alive():
            if final_fds is not None and final_fds > baseline_fds + args.fd_margin:
                failures.append(
                    f"open fds did not come back: {final_fds} {settled_after:.1f}s after the "
                    f"storm, baseline {baseline_fds} (+{args.fd_margin} allowed); now "
                    f"{fd_kinds(pid)}, at the baseline {baseline_kinds}")
            for name, probe in probes.all().items():
                try:
                    probe()
                except Exception as e:
                    after.failures.append((0, f"{name}: {type(e).__name__}: {e}"))
        status = proc_status(pid)
        hwm_kb = status.get("VmHWM", 0)
        peak_fds = max([s[1] for s in samples if s[1] is not None] or [baseline_fds])
        peak_rss_kb = max([s[2] for s in samples if s[2] is not None] or [0])
        if farm.alive() and hwm_kb / 1024 > args.rss_mib:
            failures.append(f"peak RSS (VmHWM) {hwm_kb / 1024:.1f} MiB is over the bound "
                            f"{args.rss_mib:g} MiB")
        for line in after.failures:
            failures.append(f"after the storm, an exchange failed: {line[1]}")

        alive_at_end = farm.alive()
        phases["last checks"] = time.monotonic()
        code = farm.stop()
        phases["farm stopped"] = time.monotonic()
        if alive_at_end:
            if code is None:
                failures.append(f"the farm did not stop within {STOP_TIMEOUT:.0f}s of SIGTERM "
                                f"(killed)")
            elif code != 0:
                failures.append(f"the farm exited {code} after SIGTERM:\n{farm.stderr_text()}")

        checking = time.monotonic()
        summary, problems = check_transcripts(farm.transcripts)
        summary["checked_in"] = time.monotonic() - checking
        phases["transcripts checked"] = time.monotonic()
        failures += [f"transcripts: {p}" for p in problems]
    except BaseException:
        farm.kill()
        if hostile is not None and hostile.poll() is None:
            hostile.kill()
            hostile.wait()
        raise

    # --- report -------------------------------------------------------------------------
    print(f"\nwell-behaved exchanges during {args.seconds:g}s of storm "
          f"(latency of a whole exchange, ms):")
    print(f"  {'protocol':8} {'n':>6} {'wrong':>6} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    for name, r in records.items():
        lat = [x * 1000 for x in r.latencies]
        med = statistics.median(lat) if lat else float("nan")
        print(f"  {name:8} {r.count:6d} {len(r.failures):6d} {med:8.1f} "
              f"{percentile(lat, 90):8.1f} {percentile(lat, 99):8.1f} "
              f"{max(lat) if lat else float('nan'):8.1f}")
        if r.failures:
            shown = collections.Counter(msg for _, msg in r.failures)
            first = r.failures[0][0]
            failures.append(f"{name}: {len(r.failures)} of {r.count} exchanges failed (first "
                            f"after {first:.1f}s): " + "; ".join(
                                f"{n}x {msg}" for msg, n in shown.most_common(3)))
        if not lat:
            failures.append(f"{name}: no exchange succeeded")
        elif med > args.median_ms:
            failures.append(f"{name}: median latency {med:.1f} ms is over {args.median_ms:g} ms "
                            f"(p90 {percentile(lat, 90):.1f}, p99 {percentile(lat, 99):.1f}, "
                            f"{len(lat)} exchanges)")
    if hostile_result:
        by_pattern = collections.Counter()
        outcomes = collections.defaultdict(collections.Counter)
        for key, n in hostile_result["stats"].items():
            parts = key.split(" ", 2)
            if parts[0] == "connect":
                outcomes["connect errors"][f"{parts[1]} {parts[2]}"] += n
                continue
            by_pattern[parts[0]] += n
            outcomes[parts[0]][parts[2]] += n
        total = sum(by_pattern.values())
        print(f"\nhostile clients: {total} in all, {hostile_result['peak_open']} connections open "
              f"at the peak, {hostile_result['cancelled']} cancelled at the end")
        for pattern, n in by_pattern.most_common():
            top = ", ".join(f"{k} {v}" for k, v in outcomes[pattern].most_common(6))
            print(f"  {pattern:12} {n:7d}  ({top})")
        if outcomes.get("connect errors"):
            print(f"  connect errors: {dict(outcomes['connect errors'])}")
        for key, n in sorted(hostile_result["problems"].items()):
            failures.append(f"hostile {key}: {n} times, e.g. {hostile_result['examples'][key]}")
    cpu = (storm_cpu - cpu_start) if storm_cpu is not None and cpu_start is not None else None
    print(f"\nfarm: pid {pid}, peak RSS (VmHWM) {hwm_kb / 1024:.1f} MiB (sampled VmRSS peak "
          f"{peak_rss_kb / 1024:.1f} MiB, {baseline_rss / 1024:.1f} MiB at the start)"
          + (f", CPU {cpu:.1f}s in {args.seconds:g}s ({100 * cpu / args.seconds:.0f}%)"
             if cpu is not None else ""))
    print(f"farm fds: baseline {baseline_fds} {baseline_kinds}, peak {peak_fds} "
          f"{peak_kinds[1]}, {final_fds} {max(0.0, settled_after):.1f}s after the storm; "
          f"exit status {code}")
    drops = (udp_drops_end - udp_drops_start) if None not in (udp_drops_start,
                                                               udp_drops_end) else "?"
    print(f"udp: the well-behaved client sent again {probes.udp_retries} times; the kernel "
          f"dropped {drops} datagrams for full receive buffers during the storm")
    print(f"transcripts: {folder_size(farm.transcripts) / (1 << 20):.0f} MiB, "
          f"{summary['documents']} session documents "
          f"({', '.join(f'{k} {v}' for k, v in sorted(summary['per_server'].items()))}); "
          f"closes {summary['closes']}; {summary['events_lines']} events.jsonl lines; all read "
          f"and checked in {summary['checked_in']:.1f}s")

    mark = started + args.seconds
    timeline = []
    for phase, at in phases.items():
        timeline.append(f"{phase} +{at - mark:.1f}s")
        mark = at
    print("after the storm: " + ", ".join(timeline))

    if failures:
        print(f"\nsoak: FAILED ({len(failures)} problems); transcripts and logs kept in {workdir}")
        for f in failures:
            print(f"  - {f}")
        return 1
    print(f"\nsoak: passed")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
