"""A small Chrome DevTools Protocol client over a pipe, for tests that drive a real browser.

    with Browser() as browser:                  # starts headless chromium, kills it at the end
        page = browser.new_page()                # a tab, attached with a flat session
        page.navigate("http://127.0.0.1:40125/")
        page.evaluate("document.title")          # Runtime.evaluate, by value, promises awaited
        page.wait_for("document.querySelector('#x') !== null", what="#x")

Chromium is started with --remote-debugging-pipe: it reads JSON messages, each ended by a NUL
byte, from its fd 3 and writes its answers and events the same way to its fd 4. Standard
library only (no websockets). Every wait is bounded.
"""

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
COMMAND_TIMEOUT = 30  # seconds for one command's answer

# Headless, and nothing that reaches the network on its own (updates, sync, safe browsing...).
FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--disable-extensions", "--disable-domain-reliability", "--disable-breakpad",
    "--disable-client-side-phishing-detection", "--disable-crash-reporter",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"
    "AutofillServerCommunication,CertificateTransparencyComponentUpdater,"
    "InterestFeedContentSuggestions,CalculateNativeWinOcclusion,HttpsUpgrades,"
    "PrivacySandboxSettings4,NetworkTimeServiceQuerying",
    "--metrics-recording-only", "--safebrowsing-disable-auto-update", "--no-pings",
    "--password-store=basic", "--use-mock-keychain", "--mute-audio", "--hide-scrollbars",
    "--disable-dev-shm-usage", "--no-proxy-server", "--remote-debugging-pipe",
]


# Runs in the child: chromium's pipe ends onto fds 3 and 4, then exec chromium.
TRAMPOLINE = """import os, sys
r, w = int(sys.argv[1]), int(sys.argv[2])
os.dup2(r, 3)
os.dup2(w, 4)
os.close(r)
os.close(w)
os.execv(sys.argv[3], sys.argv[3:])
"""


class CDPError(Exception):
    pass


class Browser:
    def __init__(self, executable=CHROMIUM, extra_args=()):
        self.executable = executable
        self.extra_args = list(extra_args)
        self.proc = None
        self.profile = None
        self.log_path = None
        self._to_browser = None    # our end of the pipe chromium reads (its fd 3)
        self._from_browser = None  # our end of the pipe chromium writes (its fd 4)
        self._buffer = b""
        self._next_id = 0
        self.events = []           # every event received: {"method", "params", "sessionId"?}

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self):
        if not (os.path.isfile(self.executable) and os.access(self.executable, os.X_OK)):
            raise CDPError(f"{self.executable} is not there: tools/install-deps.sh installs "
                           "Debian's chromium, which the browser tests need")
        self.profile = Path(tempfile.mkdtemp(prefix="protofarm-chromium-"))
        self.log_path = self.profile / "chromium.log"
        # Chromium's ends of the two pipes, moved above 9 so that putting them on fds 3 and 4
        # cannot overwrite one with the other. A Python trampoline puts them there and then
        # becomes chromium (execv keeps the pid).
        pipe_in, our_write = os.pipe()
        our_read, pipe_out = os.pipe()
        their_read = fcntl.fcntl(pipe_in, fcntl.F_DUPFD_CLOEXEC, 10)
        their_write = fcntl.fcntl(pipe_out, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(pipe_in)
        os.close(pipe_out)
        log = open(self.log_path, "wb")
        try:
            # start_new_session: chromium and its helpers form a process group of their own,
            # which close() can end without touching anything else.
            self.proc = subprocess.Popen(
                [sys.executable, "-c", TRAMPOLINE, str(their_read), str(their_write),
                 self.executable, *FLAGS, f"--user-data-dir={self.profile}",
                 *self.extra_args, "about:blank"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                pass_fds=(their_read, their_write), start_new_session=True)
        except BaseException:
            os.close(our_read)
            os.close(our_write)
            raise
        finally:
            log.close()
            os.close(their_read)
            os.close(their_write)
        self._to_browser, self._from_browser = our_write, our_read
        try:
            self.send("Browser.getVersion")
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Stops the browser this object started (only its process group) and removes its
        temporary profile. Safe to call twice."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                self._write({"id": self._new_id(), "method": "Browser.close"})
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        if self.proc is not None:
            # Helpers (renderer, zygote, ...) left in the group: only ours, by its id.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for fd in (self._to_browser, self._from_browser):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._to_browser = self._from_browser = None
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def log_tail(self, n=2000):
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except (OSError, AttributeError):
            return ""

    # --- the protocol ------------------------------------------------------------------------
    def _new_id(self):
        self._next_id += 1
        return self._next_id

    def _write(self, message):
        data = json.dumps(message).encode() + b"\0"
        while data:
            n = os.write(self._to_browser, data)
            data = data[n:]

    def _read_message(self, deadline):
        """The next message from the browser, or None when the deadline passes."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            readable, _, _ = select.select([self._from_browser], [], [], left)
            if not readable:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise CDPError("the browser closed its end of the pipe (it exited?)\n"
                               + self.log_tail())
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method, params=None, session_id=None, timeout=COMMAND_TIMEOUT):
        """Sends one command and waits (bounded) for its answer; events seen meanwhile are
        kept in self.events."""
        message = {"id": self._new_id(), "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        self._write(message)
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read_message(deadline)
            if answer is None:
                raise CDPError(f"no answer to {method} within {timeout}s")
            if answer.get("id") == message["id"]:
                if "error" in answer:
                    raise CDPError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def pump(self, seconds=0.0):
        """Reads the events that arrive within `seconds` (none waited for when 0)."""
        deadline = time.monotonic() + seconds
        while True:
            message = self._read_message(deadline)
            if message is None:
                return
            if "method" in message:
                self.events.append(message)

    def new_page(self, url="about:blank"):
        target = self.send("Target.createTarget", {"url": url})["targetId"]
        session = self.send("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, target, session)


class Page:
    """One tab, driven through a flat session (commands carry its sessionId)."""

    def __init__(self, browser, target_id, session_id):
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id

    def send(self, method, params=None, timeout=COMMAND_TIMEOUT):
        return self.browser.send(method, params, self.session_id, timeout)

    def events(self, method):
        """The params of every event `method` this page sent so far."""
        self.browser.pump()
        return [e.get("params", {}) for e in self.browser.events
                if e.get("method") == method and e.get("sessionId") == self.session_id]

    def navigate(self, url, timeout=COMMAND_TIMEOUT):
        answer = self.send("Page.navigate", {"url": url}, timeout)
        if answer.get("errorText"):
            raise CDPError(f"navigating to {url}: {answer['errorText']}")
        self.wait_for("document.readyState === 'complete' && location.href === "
                      + json.dumps(url), timeout=timeout, what=f"{url} to load")

    def evaluate(self, expression, timeout=COMMAND_TIMEOUT):
        """The value of a JavaScript expression (a promise is awaited); a thrown exception
        raises CDPError with its text."""
        answer = self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True,
            "userGesture": True}, timeout)
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"{expression[:200]}\n  threw: {text}")
        return answer.get("result", {}).get("value")

    def wait_for(self, expression, timeout=20, interval=0.05, what=None):
        """Polls a JavaScript expression until it is truthy (bounded); returns its value.
        On timeout raises AssertionError naming what was awaited and the last value."""
        deadline = time.monotonic() + timeout
        value = None
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for "
                                     f"{what or expression} (last value: {value!r})")
            self.browser.pump(interval)

    def set_viewport(self, width, height):
        self.send("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))
