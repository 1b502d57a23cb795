"""Runs `protofarm` for end-to-end tests and reads what it recorded.

    with Farm(SCENARIO_YAML) as farm:          # or Farm(path=".../scenarios/x.yaml")
        port = farm.port("hello")
        ... drive a real client ...
    farm.sessions("hello")  # after the with-block the farm is stopped and transcripts final

The farm is started with port-0 listeners; start() waits for its ready line on stdout (never a
sleep) and then reads the ready file. Everything it writes goes to a fresh temporary directory.
"""

import json
import os
import select
import signal
import subprocess
import tempfile
import time
from pathlib import Path

PROTOFARM = os.environ.get("PROTOFARM") or str(
    Path(__file__).resolve().parents[2] / "build" / "protofarm")
SOURCE = Path(os.environ.get("PROTOFARM_SOURCE") or Path(__file__).resolve().parents[2])
SCENARIOS = SOURCE / "scenarios"
READY_TIMEOUT = 30  # seconds; generous for sanitizer builds


def run(*args, timeout=60, input=None):
    """Runs `protofarm ARGS...` to completion; returns the CompletedProcess (text mode)."""
    return subprocess.run([PROTOFARM, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, input=input)


class FarmError(Exception):
    pass


class Farm:
    def __init__(self, text=None, path=None, only=(), args=(), name="scenario.yaml"):
        self.tmp = Path(tempfile.mkdtemp(prefix="protofarm-e2e-"))
        if text is not None:
            self.scenario = self.tmp / name
            self.scenario.write_text(text)
        else:
            self.scenario = Path(path)
        self.transcripts = self.tmp / "transcripts"
        self.ready_file = self.tmp / "ready.json"
        self.only = list(only)
        self.args = list(args)
        self.proc = None
        self.ready = None
        self.ready_line = None
        self.returncode = None
        self.stderr = ""

    # --- lifecycle -------------------------------------------------------------------------
    def command(self):
        """The command line start() runs (a subclass may run another subcommand)."""
        cmd = [PROTOFARM, "run", str(self.scenario), "--transcripts", str(self.transcripts),
               "--ready-file", str(self.ready_file), *self.args]
        for name in self.only:
            cmd += ["--only", name]
        return cmd

    def start(self):
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + READY_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise FarmError("protofarm was not ready in time")
            readable, _, _ = select.select([self.proc.stdout], [], [], left)
            if not readable:
                continue
            chunk = os.read(self.proc.stdout.fileno(), 1)
            if not chunk:
                self.proc.wait(timeout=10)
                err = self.proc.stderr.read().decode(errors="replace")
                raise FarmError(f"protofarm exited ({self.proc.returncode}) before ready:\n{err}")
            line += chunk
        self.ready_line = line.decode().strip()
        if not self.ready_line.startswith("protofarm ready:"):
            raise FarmError("unexpected first line: " + self.ready_line)
        self.ready = json.loads(self.ready_file.read_text())
        return self

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Stops the farm with `sig`; returns its exit status."""
        if self.proc is None or self.returncode is not None:
            return self.returncode
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise FarmError(f"protofarm did not stop within {timeout}s of signal {sig}")
        self.returncode = self.proc.returncode
        self.stderr = self.proc.stderr.read().decode(errors="replace")
        self._close_pipes()
        return self.returncode

    def kill(self):
        if self.proc and self.returncode is None:
            self.proc.kill()
            self.proc.wait()
            self.returncode = self.proc.returncode
            self._close_pipes()

    def _close_pipes(self):
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe:
                pipe.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- the ready file ----------------------------------------------------------------------
    def server(self, name):
        return self.ready["servers"][name]

    def port(self, name):
        return self.server(name)["port"]

    def host(self, name):
        return self.server(name)["host"]

    def address(self, name):
        return (self.host(name), self.port(name))

    @property
    def ca(self):
        return self.ready.get("ca")

    # --- transcripts ---------------------------------------------------------------------------
    def events(self):
        path = self.transcripts / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def sessions(self, server):
        folder = self.transcripts / "sessions" / server
        if not folder.exists():
            return []
        docs = [json.loads(p.read_text()) for p in folder.glob("*.json")]
        return sorted(docs, key=lambda d: d["session"])

    def session(self, server, n=1):
        for doc in self.sessions(server):
            if doc["session"] == n:
                return doc
        raise KeyError(f"no session {n} of {server} in {self.transcripts}")

    def wait_for(self, predicate, timeout=20, what="a condition"):
        """Waits (bounded) until predicate() is true, re-checking as the farm records."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.01)
        raise FarmError(f"timed out waiting for {what}")

    def wait_sessions(self, server, count, timeout=20):
        """Waits until `count` sessions of `server` are finished (their files written) and
        returns the finished sessions' documents."""
        self.wait_for(lambda: len(self.sessions(server)) >= count, timeout,
                      f"{count} finished session(s) of {server}")
        return self.sessions(server)


def recv_exact(sock, n):
    """Exactly n bytes from sock; fails the test if the peer closes first."""
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise AssertionError(f"closed after {data!r}, wanted {n} bytes")
        data += chunk
    return data


def recv_until(sock, marker):
    """Bytes up to and including marker, read one at a time so nothing past it is taken."""
    data = b""
    while not data.endswith(marker):
        chunk = sock.recv(1)
        if not chunk:
            raise AssertionError(f"closed after {data!r}, wanted {marker!r}")
        data += chunk
    return data


def client_bytes(session):
    """Everything the client sent in a session document, as bytes."""
    return b"".join(event_bytes(e) for e in session["events"] if e.get("from") == "client")


def server_bytes(session):
    """Everything the server sent in a session document, as bytes."""
    return b"".join(event_bytes(e) for e in session["events"] if e.get("from") == "server")


def event_bytes(event):
    import base64
    if "text" in event:
        return event["text"].encode()
    if "base64" in event:
        return base64.b64decode(event["base64"])
    return b""


def named_events(session, name):
    return [e for e in session["events"] if e.get("event") == name]
