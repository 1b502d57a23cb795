"""Starts `protofarm run` and talks to its control API (docs/control-api.md).

    with Farm("scenarios/greylisting.yaml") as farm:
        smtplib.SMTP(*farm.address("mail"), timeout=10)...
        assert farm.verify()["passed"]

Standard library only. HTTP goes through urllib.request (no proxy, even when http_proxy is set);
the Server-Sent Events stream is read from a plain socket so that a read can time out without
ending the stream.
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

__all__ = ["Farm", "ProtofarmError", "Response", "EventStream", "parse_metrics"]

DEFAULT_TIMEOUT = 10.0  # seconds, for every HTTP call and every wait that has no timeout given
TOKEN_ENV = "PROTOFARM_CONTROL_TOKEN"
_MISSING = object()
_EXPECT = re.compile(r'^(expect|"expect"|\'expect\')\s*:', re.M)


class ProtofarmError(Exception):
    """The farm did not start, or the control API refused a call.

    For a refused call, `status` is the HTTP status and `body` the API's JSON error
    (`{"error": ...}`); `message`, `path` and `errors` are its fields (`path` and `errors` are set
    for refused scenario input such as rules: the offending key and a list of
    `{"message", "path", "line", "column"}`)."""

    def __init__(self, message, *, status=None, body=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        fields = body if isinstance(body, dict) else {}
        self.path = fields.get("path")
        self.errors = fields.get("errors") or []

    def __str__(self):
        text = self.message
        if self.status is not None:
            text = f"{self.status}: {text}"
        if self.path:
            text += f" (at {self.path})"
        for error in self.errors:
            if isinstance(error, dict):
                where = error.get("path") or ""
                if error.get("line") is not None:
                    where += f" line {error.get('line')} column {error.get('column')}"
                text += f"\n  {where.strip()}: {error.get('message')}"
        return text


class Response:
    """One answer of the control API, whatever its status."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # an email.message.Message: case-insensitive .get()
        self.body = body  # bytes

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.content_type} {self.body[:200]!r}>"


def parse_metrics(text):
    """Prometheus text into a list of (name, labels, value)."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"not a Prometheus sample: {line!r}")
        labels = {k: _unescape(v) for k, v in _LABEL.findall(m.group(3) or "")}
        samples.append((m.group(1), labels, float(m.group(4))))
    return samples


_SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$')
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


def _unescape(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


class Farm:
    """One `protofarm run` process and its control API.

    scenario: a path (str or os.PathLike), YAML text (a str with a newline in it; written to a
    file in the farm's work directory), or a list of those for one farm of several files.
    binary: the program; default $PROTOFARM, else `protofarm` on PATH.
    transcripts: where to record; default a fresh directory in the work directory; False
    records nothing (no --transcripts).
    args: more arguments for `protofarm run` (`["--control", "none"]`); only: `--only` names.
    control_token: sent as `--control-token` and as `Authorization: Bearer` on every call;
    default $PROTOFARM_CONTROL_TOKEN (then the farm reads it from its environment).
    workdir: holds the ready file, the logs of stdout and stderr and scenario text; default a
    fresh temporary directory, which cleanup() removes (transcripts in it too).
    """

    def __init__(self, scenario, *, binary=None, transcripts=None, args=(), only=(),
                 ready_timeout=30, control_token=None, env=None, workdir=None,
                 timeout=DEFAULT_TIMEOUT, stop_timeout=10):
        self.binary = str(binary or os.environ.get("PROTOFARM") or shutil.which("protofarm")
                          or "")
        if not self.binary:
            raise ProtofarmError("no protofarm program: pass binary=, set PROTOFARM, or put "
                                 "protofarm on PATH")
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="protofarm-")) if workdir is None \
            else Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.scenarios = self._scenario_files(scenario)
        if transcripts is False:
            self.transcripts = None
        else:
            self.transcripts = Path(transcripts) if transcripts else self.workdir / "transcripts"
        self.ready_file = self.workdir / "ready.json"
        self.args = [str(a) for a in args]
        self.only = list([only] if isinstance(only, str) else only)
        self.ready_timeout = ready_timeout
        self.env = dict(os.environ if env is None else env)
        self.control_token = control_token if control_token is not None else \
            self.env.get(TOKEN_ENV)
        self._token_arg = control_token
        self.timeout = timeout
        self.stop_timeout = stop_timeout
        self.proc = None
        self.ready = None
        self.returncode = None
        self.forced_stop = False  # stop() had to signal or kill the process
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    # --- lifecycle ----------------------------------------------------------------------------
    def _scenario_files(self, scenario):
        items = list(scenario) if isinstance(scenario, (list, tuple)) else [scenario]
        if not items:
            raise ValueError("no scenario")
        files = []
        for i, item in enumerate(items):
            if isinstance(item, os.PathLike):
                files.append(Path(item))
            elif isinstance(item, str) and "\n" in item:
                path = self.workdir / (f"scenario-{i + 1}.yaml" if len(items) > 1
                                       else "scenario.yaml")
                path.write_text(item)
                files.append(path)
            elif isinstance(item, str):
                files.append(Path(item))
            else:
                raise TypeError(f"a scenario is a path or YAML text, not {type(item).__name__}")
        return files

    @property
    def scenario(self):
        """The (first) scenario file."""
        return self.scenarios[0]

    def has_expect(self):
        """Whether a scenario file has an `expect:` section (a top-level `expect` key)."""
        return any(_EXPECT.search(p.read_text(errors="replace")) for p in self.scenarios)

    def command(self):
        cmd = [self.binary, "run", *map(str, self.scenarios), "--ready-file", str(self.ready_file)]
        if self.transcripts is not None:
            cmd += ["--transcripts", str(self.transcripts)]
        if self._token_arg is not None:
            cmd += ["--control-token", self._token_arg]
        for name in self.only:
            cmd += ["--only", name]
        return cmd + self.args

    def start(self):
        """Starts the farm and waits until its ready file is there; returns self."""
        if self.proc is not None:
            raise ProtofarmError("this farm was started already")
        if self.ready_file.exists():
            self.ready_file.unlink()
        self._stdout = open(self.workdir / "stdout.log", "wb")
        self._stderr = open(self.workdir / "stderr.log", "wb")
        try:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                         stdout=self._stdout, stderr=self._stderr, env=self.env)
        except OSError as error:
            self._stdout.close()
            self._stderr.close()
            raise ProtofarmError(f"cannot run {self.binary}: {error}") from error
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.ready_file.exists():
                try:
                    self.ready = json.loads(self.ready_file.read_text())
                    return self
                except (OSError, ValueError):
                    pass  # written atomically, so only if it went away again: look again
            if self.proc.poll() is not None:
                self._finished()
                raise ProtofarmError(f"protofarm exited with status {self.returncode} before it "
                                     f"was ready: {' '.join(self.command())}\n{self.stderr}")
            if time.monotonic() > deadline:
                self._kill()
                raise ProtofarmError(f"protofarm was not ready within {self.ready_timeout} s:"
                                     f" {' '.join(self.command())}\n{self.stderr}")
            time.sleep(0.01)

    def stop(self, timeout=None):
        """Stops the farm (POST /api/stop, or SIGTERM without a control API) and waits for it to
        exit; if it does not within `timeout` seconds (default stop_timeout, 10), terminates and
        then kills it. Returns its exit status; does nothing once stopped."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        timeout = self.stop_timeout if timeout is None else timeout
        if self.proc.poll() is None:
            asked = False
            if self.control_url:
                try:
                    asked = self.request("POST", "/api/stop", timeout=5).status < 300
                except (ProtofarmError, OSError):
                    pass
            if not asked:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.forced_stop = True
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        self._finished()
        return self.returncode

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.forced_stop = True
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._finished()

    def _finished(self):
        self.returncode = self.proc.returncode
        for f in (self._stdout, self._stderr):
            if not f.closed:
                f.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        """Stops the farm and removes the work directory if this Farm made it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def stdout(self):
        return self._log("stdout.log")

    @property
    def stderr(self):
        return self._log("stderr.log")

    def _log(self, name):
        try:
            return (self.workdir / name).read_text(errors="replace")
        except OSError:
            return ""

    # --- the ready file -----------------------------------------------------------------------
    def _ready(self):
        if self.ready is None:
            raise ProtofarmError("the farm is not started")
        return self.ready

    def server_info(self, name):
        """The ready file's entry of one server."""
        servers = self._ready().get("servers", {})
        if name not in servers:
            raise ProtofarmError(f"no server {name!r} in this farm (it has: "
                                 f"{', '.join(servers) or 'none'})")
        return servers[name]

    def port(self, name):
        return self.server_info(name)["port"]

    def host(self, name):
        return self.server_info(name)["host"]

    def address(self, name):
        """(host, port) for socket.create_connection, smtplib, poplib, ..."""
        return (self.host(name), self.port(name))

    def url(self, name):
        """http(s)://host:port for an http server (https with tls: implicit), proto://host:port
        for the others, unix:PATH for a Unix socket."""
        info = self.server_info(name)
        if "port" not in info and "path" in info:
            return f"unix:{info['path']}"
        protocol = info["protocol"]
        if protocol == "http":
            protocol = "https" if info.get("tls") == "implicit" else "http"
        host = info["host"]
        if ":" in host:
            host = f"[{host}]"
        return f"{protocol}://{host}:{info['port']}"

    @property
    def ca_file(self):
        """The CA that signed generated certificates (the ready file's `ca`), or None."""
        ready = self._ready()
        if ready.get("ca"):
            return ready["ca"]
        for info in ready.get("servers", {}).values():
            if info.get("ca"):
                return info["ca"]
        return None

    @property
    def control(self):
        """The ready file's `control` entry, or None when the control API is off."""
        return self._ready().get("control")

    @property
    def control_url(self):
        control = self.control
        if not control:
            return None
        host = control.get("host", "127.0.0.1")
        if host in ("0.0.0.0", "::", ""):  # listening everywhere: talk to it over loopback
            host = "127.0.0.1" if host != "::" else "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{control['port']}"

    # --- HTTP ---------------------------------------------------------------------------------
    def request(self, method, path, *, query=None, body=None, json=_MISSING, headers=None,
                content_type=None, token=_MISSING, timeout=None):
        """One call to the control API; answers a Response whatever its status (raises
        ProtofarmError only when the API cannot be reached). `token`: default the farm's
        control_token; None sends no Authorization header."""
        base = self.control_url
        if base is None:
            raise ProtofarmError("the control API is off (--control none)")
        url = base + path
        if query:
            pairs = {k: v for k, v in query.items() if v is not None}
            if pairs:
                url += ("&" if "?" in url else "?") + urllib.parse.urlencode(pairs)
        data = body
        all_headers = {"Accept": "application/json"}
        if json is not _MISSING:
            data = _json_bytes(json)
            all_headers["Content-Type"] = "application/json"
        if isinstance(data, str):
            data = data.encode()
        if content_type:
            all_headers["Content-Type"] = content_type
        elif data is not None and "Content-Type" not in all_headers:
            all_headers["Content-Type"] = "application/json"
        token = self.control_token if token is _MISSING else token
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
        try:
            with self._opener.open(req, timeout=timeout or self.timeout) as answer:
                return Response(answer.status, answer.reason, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return Response(error.code, error.reason, error.headers, error.read())
        except urllib.error.URLError as error:
            raise ProtofarmError(f"cannot reach the control API at {url}: {error.reason}") \
                from error
        except (http.client.HTTPException, OSError) as error:  # closed or timed out mid-answer
            raise ProtofarmError(f"no answer from the control API at {url}: {error!r}") \
                from error

    def call(self, method, path, **kwargs):
        """request(), then the parsed answer: JSON, or text for other types. A status of 400
        or more raises ProtofarmError with the API's error."""
        answer = self.request(method, path, **kwargs)
        if answer.status >= 400:
            raise _api_error(method, path, answer)
        if answer.content_type == "application/json":
            return answer.json()
        return answer.text

    # --- the API ------------------------------------------------------------------------------
    def healthz(self):
        return self.call("GET", "/healthz")

    def servers(self):
        """Every server as the API describes it (sessions, open, rules with hits, ...)."""
        return self.call("GET", "/api/servers")["servers"]

    def server(self, name):
        return self.call("GET", f"/api/servers/{_seg(name)}")

    def sessions(self, server=None, since=None, limit=None):
        """Session summaries, oldest first. since: a seq (int: sessions after it) or a time
        (str or datetime: sessions started at or after it)."""
        return self._sessions(server, since, limit)["sessions"]

    def _sessions(self, server=None, since=None, limit=None):
        if since is not None and hasattr(since, "isoformat"):
            since = since.isoformat().replace("+00:00", "Z")
        return self.call("GET", "/api/sessions",
                         query={"server": server, "since": since, "limit": limit})

    def last_seq(self):
        """The seq of the latest session (0 before any): keep it, then sessions(since=it)."""
        return self._sessions(limit=1)["last_seq"]

    def session(self, server, n):
        """One session's transcript document (live while the session is open)."""
        return self.call("GET", f"/api/sessions/{_seg(server)}/{int(n)}")

    def states(self, scenario=None):
        """The named states: {name: value}."""
        return self.call("GET", "/api/states", query={"scenario": scenario})["states"]

    def set_states(self, values=None, /, *, scenario=None, **more):
        """Sets named states (a dict and/or keywords); returns all states after."""
        body = dict(values or {})
        body.update(more)
        return self.call("PUT", "/api/states", query={"scenario": scenario},
                         json=body)["states"]

    def reset(self, server=None):
        """Back to the scenario's start (one server's counters and fake state with server=);
        returns the names of the servers reset."""
        return self.call("POST", "/api/reset", query={"server": server})["reset"]

    def set_rules(self, server, rules):
        """Replaces a server's rules: a list of dicts (or YAML text). New sessions use them;
        a refused list raises ProtofarmError with its path and errors."""
        if isinstance(rules, str):
            return self.call("PUT", f"/api/servers/{_seg(server)}/rules", body=rules,
                             content_type="application/yaml")
        return self.call("PUT", f"/api/servers/{_seg(server)}/rules", json=list(rules))

    def verify(self):
        """The scenario's expect: section checked now: {"passed", "report", "checks"}."""
        return self.call("POST", "/api/verify")

    def verify_junit(self):
        """The same as JUnit XML (text)."""
        return self.call("POST", "/api/verify", query={"format": "junit"})

    def verify_offline(self):
        """`protofarm verify` run on each scenario file that has an expect: section (for a farm
        that is stopped, or runs without a control API); the same keys as verify()."""
        if self.transcripts is None:
            raise ProtofarmError("nothing to verify: the farm ran without transcripts")
        reports, passed = [], True
        for path in self.scenarios:
            if not _EXPECT.search(path.read_text(errors="replace")):
                continue
            result = subprocess.run([self.binary, "verify", str(path), "--transcripts",
                                     str(self.transcripts)], capture_output=True, text=True,
                                    timeout=60)
            if result.returncode not in (0, 1):
                raise ProtofarmError(f"protofarm verify {path} exited with status "
                                     f"{result.returncode}:\n{result.stderr}{result.stdout}")
            passed = passed and result.returncode == 0
            reports.append(result.stdout)
        return {"passed": passed, "report": "".join(reports)}

    def events(self, server=None, last_event_id=None, timeout=None):
        """The live events (Server-Sent Events): an EventStream, iterable, each message a dict
        {"id", "event", "data"} ("data" parsed JSON). Iteration raises TimeoutError when no
        message comes within `timeout` seconds (default the farm's timeout)."""
        base = self.control_url
        if base is None:
            raise ProtofarmError("the control API is off (--control none)")
        parts = urllib.parse.urlsplit(base)
        target = "/api/events"
        if server is not None:
            target += "?" + urllib.parse.urlencode({"server": server})
        headers = {}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        if self.control_token:
            headers["Authorization"] = f"Bearer {self.control_token}"
        return EventStream(parts.hostname, parts.port, target, headers=headers,
                           timeout=timeout or self.timeout)

    def metrics(self):
        """The Prometheus text of /metrics."""
        return self.call("GET", "/metrics")

    def metric(self, name, **labels):
        """The sum of the samples of metric `name` whose labels include `labels`; None when
        no sample matches."""
        values = [v for n, ls, v in parse_metrics(self.metrics())
                  if n == name and all(ls.get(k) == str(x) for k, x in labels.items())]
        return sum(values) if values else None

    # --- waiting ------------------------------------------------------------------------------
    def wait_for(self, predicate, timeout=None, what="a condition", interval=0.02):
        """Calls predicate() until it answers something true, which is returned; raises
        TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what}")
            if self.proc is not None and self.proc.poll() is not None:
                self._finished()
                raise ProtofarmError(f"protofarm exited with status {self.returncode} while "
                                     f"waiting for {what}:\n{self.stderr}")
            time.sleep(interval)

    def wait_idle(self, timeout=None):
        """Waits until no session of any server is open."""
        return self.wait_for(lambda: all(s.get("open", 0) == 0 for s in self.servers()),
                             timeout, "every session to close")

    def wait_sessions(self, server, count, timeout=None):
        """Waits until `server` has at least `count` finished sessions; returns the summaries of
        its finished sessions."""
        def finished():
            done = [s for s in self.sessions(server=server) if not s.get("open")]
            return done if len(done) >= count else None
        return self.wait_for(finished, timeout, f"{count} finished session(s) of {server}")


def _seg(value):
    return urllib.parse.quote(str(value), safe="")


def _json_bytes(value):
    return json.dumps(value).encode()


def _api_error(method, path, answer):
    body = None
    message = answer.text.strip() or answer.reason
    try:
        body = answer.json()
        if isinstance(body, dict) and "error" in body:
            message = str(body["error"])
    except ValueError:
        pass
    return ProtofarmError(f"{method} {path}: {message}", status=answer.status, body=body)


class EventStream:
    """A Server-Sent Events stream read from a plain socket. read() answers the next message,
    {"id": int or str or None, "event": str ("message" when unnamed), "data": parsed JSON (or
    the text when it is not JSON)}, None at the end of the stream, and raises TimeoutError when
    none comes in time (the stream stays usable). Iterating uses the stream's timeout."""

    def __init__(self, host, port, target, *, headers=None, timeout=DEFAULT_TIMEOUT):
        self.timeout = timeout
        self.comments = 0  # comment lines seen (`: keep-alive`)
        self.last_id = None
        self._pending = {}
        self._data = []
        self._raw = b""  # bytes of a chunked body not decoded yet
        self._body = b""  # decoded bytes not parsed yet
        self._state = "size"
        self._left = 0
        self._eof = False
        self._sock = socket.create_connection((host, port), timeout=timeout)
        try:
            head = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}",
                    "Accept: text/event-stream", "Cache-Control: no-cache"]
            head += [f"{k}: {v}" for k, v in (headers or {}).items()]
            self._sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            self._read_head(time.monotonic() + timeout)
        except BaseException:
            self.close()
            raise

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no event in time")
        self._sock.settimeout(left)
        try:
            return self._sock.recv(65536)
        except socket.timeout:
            raise TimeoutError("no event in time") from None

    def _read_head(self, deadline):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self._recv(deadline)
            if not chunk:
                raise ProtofarmError(f"the events stream closed before its head: {data!r}")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        self.status = int(parts[1])
        self.headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        self._feed(rest)
        if self.status != 200:
            body = self._drain(deadline)
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
            message = parsed.get("error") if isinstance(parsed, dict) else body.decode(
                errors="replace")
            raise ProtofarmError(f"GET /api/events: {message}", status=self.status, body=parsed)

    def _drain(self, deadline):
        length = self.headers.get("content-length")
        while not self._eof and (length is None or len(self._body) < int(length)):
            chunk = self._recv(deadline)
            if not chunk:
                break
            self._feed(chunk)
        return self._body

    def _feed(self, data):
        if not self._chunked:
            self._body += data
            return
        self._raw += data
        while True:
            if self._state == "size":
                end = self._raw.find(b"\r\n")
                if end < 0:
                    return
                size = int(self._raw[:end].split(b";")[0].strip() or b"0", 16)
                self._raw = self._raw[end + 2:]
                if size == 0:
                    self._eof = True
                    return
                self._state, self._left = "data", size
            elif self._state == "data":
                if not self._raw:
                    return
                piece = self._raw[:self._left]
                self._raw = self._raw[len(piece):]
                self._body += piece
                self._left -= len(piece)
                if self._left == 0:
                    self._state = "crlf"
            else:
                if len(self._raw) < 2:
                    return
                self._raw = self._raw[2:]
                self._state = "size"

    def _message(self):
        """The next complete message out of what was received, or None."""
        while True:
            end = self._body.find(b"\n")
            if end < 0:
                return None
            line = self._body[:end].rstrip(b"\r").decode("utf-8", errors="replace")
            self._body = self._body[end + 1:]
            if not line:
                if not self._data and "event" not in self._pending:
                    self._pending = {}
                    continue
                text = "\n".join(self._data)
                try:
                    data = json.loads(text)
                except ValueError:
                    data = text
                ident = self._pending.get("id", self.last_id)
                message = {"id": ident, "event": self._pending.get("event", "message"),
                           "data": data}
                self._pending, self._data = {}, []
                return message
            if line.startswith(":"):
                self.comments += 1
                continue
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if name == "data":
                self._data.append(value)
            elif name == "id":
                self.last_id = int(value) if value.isdigit() else value
                self._pending["id"] = self.last_id
            elif name == "event":
                self._pending["event"] = value

    def read(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            message = self._message()
            if message is not None:
                return message
            if self._eof:
                return None
            chunk = self._recv(deadline)
            if not chunk:
                self._eof = True
            else:
                self._feed(chunk)

    def read_quiet(self, quiet=0.5, limit=100000):
        """Every message until none comes for `quiet` seconds (or the stream ends)."""
        out = []
        while len(out) < limit:
            try:
                message = self.read(quiet)
            except TimeoutError:
                break
            if message is None:
                break
            out.append(message)
        return out

    def read_until(self, predicate, timeout=None, limit=100000):
        """Messages up to and including the first for which predicate(message) is true, all
        within `timeout` seconds in total."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        out = []
        while len(out) < limit:
            message = self.read(max(0.0, deadline - time.monotonic()))
            if message is None:
                raise ProtofarmError(f"the events stream ended after {len(out)} messages")
            out.append(message)
            if predicate(message):
                return out
        raise ProtofarmError(f"no matching event within {limit} messages")

    def __iter__(self):
        return self

    def __next__(self):
        message = self.read()
        if message is None:
            raise StopIteration
        return message

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass
