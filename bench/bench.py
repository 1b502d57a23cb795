#!/usr/bin/env python3
"""protofarm benchmarks: start-up time, idle memory, TCP round trips, SMTP, FTP, NNTP and HTTP.

    bench/run.sh [--quick] [--json FILE] [--only ftp|nntp|http|control]
                                               (make bench installs the tools and runs it)

Every figure is the median of several runs on this machine, next to a reference measured in
the same run (nginx for start-up, Postfix's smtp-sink for mail, vsftpd and pyftpdlib for ftp,
INN for news, nginx and lighttpd for http), and is compared with its target. Traffic stays on
loopback; every run is bounded in count and time. The results are also written as JSON
(bench/results/latest.json by default) so that two runs can be compared.

What is measured, and how:
- start-up: from launching `protofarm run` (a generated scenario of 20 servers) until its
  ready line arrives on the stdout pipe (the ready file is written just before it). The read
  blocks on the pipe; nothing sleeps. nginx (one listener, `daemon off;`) prints nothing when
  ready, so its figure is launch until its port accepts a connection.
- idle memory: VmRSS from /proc/PID/status of the farm just after it is ready.
- round trips: one client connection doing N sequential request/response exchanges with a tcp
  rules-mode server (`echo: true`), and a few connections in parallel, with and without
  --transcripts. The client is this Python script, so the absolute rates include its overhead;
  the recording cost is the relative drop between the two, interleaved run by run.
- mail: Postfix's smtp-source against the smtp fake (recording on) and against smtp-sink, one
  connection per message and many messages per connection; and the idle memory of a mail farm.
  Only smtp-source and smtp-sink run: the Postfix mail system is never started.
- ftp: download throughput of a 1 GiB file and sessions/s with 8 parallel clients against
  vsftpd and pyftpdlib, and the idle memory of a 10,000-file tree (bench/ftp_bench.py).
- nntp: OVER 1-100000 on a group of 100,000 generated articles and ARTICLE retrievals per
  second over one connection, against INN (innd and nnrpd from Debian's inn2, started here on
  loopback with bench/inn/'s configuration and a spool in a temporary folder, fed the same
  articles; the packaged daemon is never started), and the idle memory of that farm
  (bench/nntp_bench.py).
- control: the SMTP and TCP rates with the control API off, on, and with 10 Server-Sent-Event
  followers attached (bench/control_bench.py).
- http: wrk's requests/s for a 1 KiB file against the http fake (recording on and off) and
  nginx; RSS and transcript size every second through 60 s of full load; CGI requests/s of a
  shell script against lighttpd's mod_cgi. nginx and lighttpd are started here on loopback from
  bench/nginx-http.conf and bench/lighttpd.conf; their packaged services never start
  (bench/http_bench.py).
"""

import argparse
import json
import os
import platform
import re
import select
import shutil
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ftp_bench  # noqa: E402  (bench/ftp_bench.py)
import nntp_bench  # noqa: E402  (bench/nntp_bench.py)
import http_bench  # noqa: E402  (bench/http_bench.py)
import control_bench  # noqa: E402  (bench/control_bench.py)
import recorder_bench  # noqa: E402  (bench/recorder_bench.py)

ROOT = Path(__file__).resolve().parents[1]
MIB = 1024 * 1024
READY_TIMEOUT = 30.0  # seconds, per launch
STOP_TIMEOUT = 20.0

TARGETS = {
    "ready_ms": 20.0,                 # launch to ready, 20 servers
    "idle_rss_mib": 15.0,             # the 20-server farm
    "recording_cost_pct": 10.0,       # drop of the round-trip rate with --transcripts
    "smtp_vs_sink": 0.5,              # smtp fake rate / smtp-sink rate
    "mail_idle_rss_mib": 15.0,        # the mail farm
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def median(values):
    return statistics.median(values) if values else None


def loadavg():
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """The memory fields of /proc/PID/status, in bytes."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem", "VmSize", "Threads"):
            parts = value.split()
            fields[key] = int(parts[0]) * (1024 if len(parts) > 1 else 1)
    return fields


def schedstat(pid):
    """(ns on a CPU, ns waiting for a CPU) of every thread of PID so far (/proc/PID/schedstat).

    On a loaded machine a launch waits for a CPU much of the time; the CPU time alone is the
    figure that load does not change."""
    cpu = wait = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:
            continue
        cpu += int(fields[0])
        wait += int(fields[1])
    return cpu, wait


def children(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


# --- running protofarm ------------------------------------------------------------------------

class Farm:
    """One `protofarm run`; start() returns once the ready line is read from its stdout."""

    def __init__(self, binary, scenario, transcripts=None, ready_file=None, extra=()):
        self.cmd = [str(binary), "run", str(scenario)]
        if transcripts:
            self.cmd += ["--transcripts", str(transcripts)]
        if ready_file:
            self.cmd += ["--ready-file", str(ready_file)]
        self.cmd += list(extra)
        self.ready_file = ready_file
        self.proc = None
        self.ready_line = None

    def start(self):
        """Launches; returns seconds from launch to the ready line."""
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        fd = self.proc.stdout.fileno()
        line = b""
        deadline = t0 + READY_TIMEOUT
        while not line.endswith(b"\n"):
            left = deadline - time.perf_counter()
            if left <= 0:
                self.kill()
                raise RuntimeError("protofarm was not ready within %ss" % READY_TIMEOUT)
            readable, _, _ = select.select([fd], [], [], left)
            if not readable:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self.proc.wait(timeout=STOP_TIMEOUT)
                raise RuntimeError("protofarm exited (%s) before ready: %s" % (
                    self.proc.returncode, self.proc.stderr.read().decode(errors="replace")))
            line += chunk
        elapsed = time.perf_counter() - t0
        self.ready_line = line.decode().strip()
        if not self.ready_line.startswith("protofarm ready:"):
            self.kill()
            raise RuntimeError("unexpected first line: " + self.ready_line)
        return elapsed

    @property
    def pid(self):
        return self.proc.pid

    def ready(self):
        return json.loads(Path(self.ready_file).read_text())

    def address(self, name):
        server = self.ready()["servers"][name]
        return server["host"], server["port"]

    def stop(self):
        if not self.proc or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError("protofarm did not stop within %ss of SIGTERM" % STOP_TIMEOUT)
        if self.proc.returncode != 0:
            err = self.proc.stderr.read().decode(errors="replace")
            raise RuntimeError("protofarm exited %s: %s" % (self.proc.returncode, err))
        return 0

    def kill(self):
        if self.proc and self.proc.returncode is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.stop()
        else:
            self.kill()


def validates(binary, text, tmp):
    """(True, "") when `protofarm validate` accepts the scenario text, else (False, why)."""
    path = Path(tmp) / "probe.yaml"
    path.write_text(text)
    result = subprocess.run([str(binary), "validate", str(path)], capture_output=True, text=True,
                            timeout=60)
    why = (result.stderr.strip().splitlines() or [""])[0]
    return result.returncode == 0, why


def protocols_available(binary, tmp):
    """The protocols whose fake accepts a minimal server (a stub fails validation)."""
    available = {}
    for protocol in ("tcp", "udp", "smtp", "pop3", "ftp", "nntp", "http"):
        ok, why = validates(binary, "name: probe\nservers:\n  s:\n    protocol: %s\n" % protocol,
                            tmp)
        available[protocol] = (ok, why)
    return available


def farm_scenario(count, protocols):
    """A scenario of `count` servers on loopback, port 0, cycling through `protocols`."""
    lines = ["name: bench-farm", "servers:"]
    for i in range(count):
        protocol = protocols[i % len(protocols)]
        lines += ["  s%02d:" % i, "    protocol: %s" % protocol, "    listen: 127.0.0.1:0"]
        if protocol == "tcp":
            if i % 2:  # half scripted, half rules mode
                lines += ["    script:",
                          '      - send: "220 s%02d\\r\\n"' % i,
                          '      - expect: "HELO (\\\\w+)\\r\\n"',
                          '      - send: "250 hi ${1}\\r\\n"',
                          "      - close: {}"]
            else:
                lines += ["    echo: true", "    rules:",
                          "      - on: QUIT", '        reply: "BYE"', "        then: close"]
    return "\n".join(lines) + "\n"


ECHO_SCENARIO = """name: bench-echo
servers:
  echo:
    protocol: tcp
    listen: 127.0.0.1:0
    echo: true
    rules:
      - on: QUIT
        reply: "BYE"
        then: close
"""

MAIL_SCENARIO = """name: bench-mail
servers:
  mail:
    protocol: smtp
    listen: 127.0.0.1:0
"""

MAIL_FARM_POP3 = """  pop:
    protocol: pop3
    listen: 127.0.0.1:0
"""


# --- start-up and memory ----------------------------------------------------------------------

def bench_startup(binary, scenario, runs, tmp, transcripts=True):
    """Launch-to-ready times (s) and idle memory of each run."""
    times, memory = [], []
    for i in range(runs):
        run_dir = Path(tmp) / ("start-%d" % i)
        run_dir.mkdir()
        farm = Farm(binary, scenario, run_dir / "transcripts" if transcripts else None,
                    run_dir / "ready.json")
        times.append(farm.start())
        try:
            status = proc_status(farm.pid)
            status["cpu_ns"], status["runqueue_ns"] = schedstat(farm.pid)
            memory.append(status)
        finally:
            farm.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    return times, memory


def bench_exec(binary, runs):
    """Launch-to-exit times (s) of `protofarm --version`: loading the program and its libraries,
    the part of every start-up that no scenario changes."""
    times, cpu = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(binary), "--version"], stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError("protofarm --version exited %s" % proc.returncode)
        cpu.append(usage.ru_utime + usage.ru_stime)
    return times, cpu


def nginx_conf(prefix, port):
    return f"""daemon off;
master_process on;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ return 200 "ok\\n"; }}
  }}
}}
"""


def wait_port(port, proc, deadline):
    """Polls until 127.0.0.1:port accepts; returns the time it did (perf_counter)."""
    while True:
        with socket.socket() as s:
            try:
                s.connect(("127.0.0.1", port))
                return time.perf_counter()
            except ConnectionRefusedError:
                pass
        if proc.poll() is not None:
            raise RuntimeError("exited (%s) before its port accepted" % proc.returncode)
        if time.perf_counter() > deadline:
            raise RuntimeError("port %d did not accept in time" % port)
        time.sleep(0.0002)  # nothing else to wait on: nginx prints no ready line


def bench_nginx(nginx, runs, tmp):
    times, memory = [], []
    for i in range(runs):
        prefix = Path(tmp) / ("nginx-%d" % i)
        prefix.mkdir()
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_conf(prefix, port))
        cmd = [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            t1 = wait_port(port, proc, t0 + READY_TIMEOUT)
            times.append(t1 - t0)
            # The master, plus its worker once forked.
            pids = [proc.pid] + children(proc.pid)
            memory.append({"VmRSS": sum(proc_status(p).get("VmRSS", 0) for p in pids),
                           "cpu_ns": sum(schedstat(p)[0] for p in pids),
                           "runqueue_ns": sum(schedstat(p)[1] for p in pids)})
        finally:
            proc.send_signal(signal.SIGQUIT)  # graceful stop
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(prefix, ignore_errors=True)
    return times, memory


# --- round trips ------------------------------------------------------------------------------

MESSAGE = b"ping 0123456789 abcdefghijklmnopqrstuvwxyz\n"


def round_trips_sequential(address, count):
    """Round trips per second over one connection, one request at a time."""
    buf = bytearray(65536)
    with socket.create_connection(address, timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        want = len(MESSAGE)

        def one():
            s.sendall(MESSAGE)
            got = 0
            while got < want:
                n = s.recv_into(buf)
                if not n:
                    raise RuntimeError("the server closed the connection")
                got += n

        for _ in range(min(200, count)):  # warm-up
            one()
        t0 = time.perf_counter()
        for _ in range(count):
            one()
        elapsed = time.perf_counter() - t0
        s.sendall(b"QUIT\n")
    return count / elapsed


def round_trips_parallel(address, connections, count_each):
    """Round trips per second over several connections, each one request at a time (epoll)."""
    socks = recorder_bench.open_connections(address, connections, False)
    try:
        return recorder_bench.exchanges(socks, count_each, MESSAGE, len(MESSAGE))
    finally:
        for s in socks:
            s.close()


def bench_round_trips(binary, tmp, reps, seq_count, par_conns, par_each):
    scenario = Path(tmp) / "echo.yaml"
    scenario.write_text(ECHO_SCENARIO)
    rates = {"sequential": {"off": [], "on": []}, "parallel": {"off": [], "on": []}}
    for rep in range(reps):
        # Interleaved, and alternating which goes first, so that drift in the machine's load
        # falls on both sides.
        order = ("off", "on") if rep % 2 == 0 else ("on", "off")
        for mode in order:
            run_dir = Path(tmp) / ("rt-%d-%s" % (rep, mode))
            run_dir.mkdir()
            transcripts = run_dir / "transcripts" if mode == "on" else None
            with Farm(binary, scenario, transcripts, run_dir / "ready.json") as farm:
                address = farm.address("echo")
                rates["sequential"][mode].append(round_trips_sequential(address, seq_count))
                rates["parallel"][mode].append(
                    round_trips_parallel(address, par_conns, par_each))
            if transcripts:
                events = transcripts / "events.jsonl"
                if not events.exists() or events.stat().st_size == 0:
                    raise RuntimeError("recording on, but nothing was recorded")
            shutil.rmtree(run_dir, ignore_errors=True)
    return rates


# --- mail -------------------------------------------------------------------------------------

def smtp_accepts_mail(address):
    """(True, "") when one message goes through the server, else (False, why)."""
    try:
        with smtplib.SMTP(address[0], address[1], local_hostname="bench.test", timeout=10) as c:
            refused = c.sendmail("bench@bench.test", ["sink@bench.test"],
                                 "Subject: probe\r\n\r\nprobe\r\n")
            if refused:
                return False, "recipient refused: %r" % refused
        return True, ""
    except (smtplib.SMTPException, OSError) as e:
        return False, "%s: %s" % (type(e).__name__, e)


def smtp_source(source, port, messages, per_connection, length):
    """Messages per second sent by smtp-source to 127.0.0.1:port."""
    cmd = [source, "-s", "1", "-m", str(messages), "-l", str(length), "-M", "bench.test",
           "-f", "bench@bench.test", "-t", "sink@bench.test"]
    if per_connection:
        cmd.append("-d")  # keep the connection: many messages per connection
    cmd.append("127.0.0.1:%d" % port)
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        raise RuntimeError("smtp-source failed: " + (result.stderr or result.stdout).strip())
    return messages / elapsed


def bench_mail(binary, source, sink, tmp, reps, messages, length):
    scenario = Path(tmp) / "mail.yaml"
    scenario.write_text(MAIL_SCENARIO)
    rates = {"per_message": {"fake": [], "fake_off": [], "sink": []},
             "per_connection": {"fake": [], "fake_off": [], "sink": []}}
    user = "nobody"  # smtp-sink refuses to keep root privileges
    for rep in range(reps):
        run_dir = Path(tmp) / ("mail-%d" % rep)
        run_dir.mkdir()
        for variant, transcripts in (("fake", run_dir / "transcripts"), ("fake_off", None)):
            with Farm(binary, scenario, transcripts, run_dir / "ready.json") as farm:
                _, port = farm.address("mail")
                for key, keep in (("per_message", False), ("per_connection", True)):
                    rates[key][variant].append(
                        smtp_source(source, port, messages, keep, length))
        port = free_port()
        cmd = [sink, "-u", user, "127.0.0.1:%d" % port, "128"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_port(port, proc, time.perf_counter() + READY_TIMEOUT)
            for key, keep in (("per_message", False), ("per_connection", True)):
                rates[key]["sink"].append(smtp_source(source, port, messages, keep, length))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(run_dir, ignore_errors=True)
    return rates


# --- the report -------------------------------------------------------------------------------

class Report:
    def __init__(self):
        self.rows = []  # (figure, value, unit, target text, verdict)
        self.skipped = []

    def add(self, figure, value, unit, target=None, ok=None, note=""):
        verdict = "" if ok is None else ("pass" if ok else "FAIL")
        self.rows.append({"figure": figure, "value": value, "unit": unit, "target": target,
                          "result": verdict, "note": note})

    def skip(self, what, why):
        self.skipped.append({"what": what, "why": why})
        self.rows.append({"figure": what, "value": None, "unit": "", "target": None,
                          "result": "skipped", "note": why})

    def table(self):
        def fmt(v):
            if v is None:
                return "-"
            if isinstance(v, float):
                return "%.1f" % v if abs(v) >= 10 else "%.2f" % v
            return str(v)
        header = ("figure", "median", "unit", "target", "result")
        body = [(r["figure"], fmt(r["value"]), r["unit"], r["target"] or "", r["result"])
                for r in self.rows]
        widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths)),
                 "  ".join("-" * w for w in widths)]
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in body]
        for r in self.rows:
            if r["note"]:
                lines.append("  - %s: %s" % (r["figure"], r["note"]))
        return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protofarm", default=os.environ.get("PROTOFARM"))
    parser.add_argument("--json", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs (a smoke test)")
    parser.add_argument("--servers", type=int, default=20)
    parser.add_argument("--tmp", help="where transcripts go (default /dev/shm, else $TMPDIR)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--only", choices=("ftp", "nntp", "http", "control", "recorder"),
                        help="run only this benchmark")
    args = parser.parse_args()

    binary = args.protofarm
    if not binary:
        for candidate in ("build-bench/protofarm", "build/protofarm"):
            if (ROOT / candidate).exists():
                binary = str(ROOT / candidate)
                break
    if not binary or not Path(binary).exists():
        sys.exit("bench: no protofarm binary (set PROTOFARM or build build-bench/protofarm)")
    binary = str(Path(binary).resolve())

    quick = args.quick
    start_runs = 5 if quick else 31
    rt_reps = 2 if quick else 9
    seq_count = 1000 if quick else 10000
    par_conns, par_each = 4, (250 if quick else 2500)
    mail_reps = 1 if quick else 5
    mail_messages = 50 if quick else 500

    started = time.time()
    report = Report()
    results = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "protofarm": binary,
        "git": subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                    "loadavg_before": loadavg()},
        "targets": {**TARGETS, **ftp_bench.TARGETS, **nntp_bench.TARGETS, **http_bench.TARGETS,
                    **recorder_bench.TARGETS},
        "quick": quick,
    }
    try:
        build_type = re.search(r"CMAKE_BUILD_TYPE:\w+=(\w*)",
                               (Path(binary).parent / "CMakeCache.txt").read_text()).group(1)
    except (OSError, AttributeError):
        build_type = "unknown"
    if build_type == "" or build_type is None:
        build_type = "RelWithDebInfo"  # CMakeLists.txt's default for an empty CMAKE_BUILD_TYPE
    results["build_type"] = build_type
    log("bench: %s (%s), load %s" % (binary, build_type, " ".join(loadavg() or [])))

    # Transcripts go to a RAM file system when there is one: the figures are protofarm's, not
    # the disk's (on a VM's disk, thousands of small .eml and session files are throttled by
    # writeback, run after run). --tmp names another place, to measure a real disk.
    base = args.tmp or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    results["tmp"] = base or tempfile.gettempdir()
    with tempfile.TemporaryDirectory(prefix="protofarm-bench-", dir=base) as tmp:
        available = protocols_available(binary, tmp)
        results["protocols"] = {p: ok for p, (ok, _) in available.items()}
        mix = [p for p in ("tcp", "smtp", "pop3", "udp") if available[p][0]]
        log("bench: fakes available: %s" % ", ".join(mix))

        if args.only in (None, "ftp"):
            if available.get("ftp", (False,))[0]:
                log("bench: ftp (vsftpd, pyftpdlib)")
                ftp_bench.run(binary, tmp, report, results, quick, Farm, proc_status, median)
            else:
                report.skip("ftp", "the ftp fake is not available")
        if args.only in (None, "nntp"):
            if available.get("nntp", (False,))[0]:
                log("bench: nntp (INN)")
                nntp_bench.run(binary, tmp, report, results, quick, Farm, proc_status, median)
            else:
                report.skip("nntp", "the nntp fake is not available")
        if args.only in (None, "http"):
            if available.get("http", (False,))[0]:
                log("bench: http (wrk; nginx, lighttpd)")
                http_bench.run(binary, tmp, report, results, quick, Farm, proc_status, median)
            else:
                report.skip("http", "the http fake is not available")
        if args.only in (None, "control"):
            log("bench: the control API with 10 SSE followers (smtp-source, tcp round trips)")
            control_bench.run(binary, tmp, report, results, quick, Farm, median, smtp_source,
                              round_trips_parallel, MAIL_SCENARIO, ECHO_SCENARIO)
        if args.only in (None, "recorder"):
            if available["smtp"][0] and available["tcp"][0]:
                log("bench: the recorder on the disk (smtp-source; smtp-sink -D; tcp)")
                recorder_bench.run(binary, tmp, report, results, quick, Farm, proc_status,
                                   median)
            else:
                report.skip("recorder", "the smtp and tcp fakes are needed")
        if args.only:
            return finish(args, results, report, build_type, started)

        # Start-up and idle memory: 20 servers, then 1 server, then nginx with one listener.
        scenario = Path(tmp) / "farm.yaml"
        scenario.write_text(farm_scenario(args.servers, mix))
        one = Path(tmp) / "one.yaml"
        one.write_text(farm_scenario(1, ["tcp"]))
        log("bench: start-up, %d servers x %d runs" % (args.servers, start_runs))
        times, memory = bench_startup(binary, scenario, start_runs, tmp)
        times_one, memory_one = bench_startup(binary, one, start_runs, tmp)
        exec_times, exec_cpu = bench_exec(binary, start_runs)
        ready_ms = median(times) * 1000
        rss_mib = median([m["VmRSS"] for m in memory]) / MIB
        results["startup"] = {
            "servers": args.servers, "protocols": mix, "runs": start_runs,
            "ready_ms": [t * 1000 for t in times], "ready_ms_median": ready_ms,
            "one_server_ready_ms_median": median(times_one) * 1000,
            "idle": memory, "idle_one_server": memory_one,
            "exec_version_ms_median": median(exec_times) * 1000,
            "exec_version_cpu_ms_median": median(exec_cpu) * 1000,
        }
        cpu_ms = median([m["cpu_ns"] for m in memory]) / 1e6
        wait_ms = median([m["runqueue_ns"] for m in memory]) / 1e6
        report.add("ready, %d servers (%s)" % (args.servers, "+".join(mix)), ready_ms, "ms",
                   "< %g ms" % TARGETS["ready_ms"], ready_ms < TARGETS["ready_ms"])
        report.add("  of which on a CPU, 20 servers", cpu_ms, "ms",
                   note="/proc/PID/schedstat at ready; waiting for a CPU: %.1f ms" % wait_ms)
        report.add("ready, 1 server", median(times_one) * 1000, "ms",
                   note="on a CPU %.1f ms" % (median([m["cpu_ns"] for m in memory_one]) / 1e6))
        report.add("launch to exit, protofarm --version", median(exec_times) * 1000, "ms",
                   note="loading the program and its libraries, no scenario; on a CPU %.1f ms"
                   % (median(exec_cpu) * 1000))
        report.add("idle RSS, %d servers" % args.servers, rss_mib, "MiB",
                   "< %g MiB" % TARGETS["idle_rss_mib"], rss_mib < TARGETS["idle_rss_mib"],
                   "anon %.1f MiB, file-backed %.1f MiB" % (
                       median([m.get("RssAnon", 0) for m in memory]) / MIB,
                       median([m.get("RssFile", 0) for m in memory]) / MIB))
        nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists()
                                          else None)
        if nginx:
            log("bench: nginx start-up x %d runs" % start_runs)
            try:
                n_times, n_memory = bench_nginx(nginx, start_runs, tmp)
                results["nginx"] = {"runs": start_runs, "ready_ms": [t * 1000 for t in n_times],
                                    "ready_ms_median": median(n_times) * 1000,
                                    "idle": n_memory}
                report.add("reference: nginx ready, 1 listener", median(n_times) * 1000, "ms",
                           note="launch until its port accepts (nginx prints no ready line); "
                           "on a CPU %.1f ms" % (median([m["cpu_ns"] for m in n_memory]) / 1e6))
                report.add("reference: nginx idle RSS (master+worker)",
                           median([m["VmRSS"] for m in n_memory]) / MIB, "MiB")
            except RuntimeError as e:
                report.skip("reference: nginx", str(e))
        else:
            report.skip("reference: nginx", "nginx is not installed (tools/install-deps.sh bench)")

        # Round trips, recording off and on.
        log("bench: round trips, %d reps" % rt_reps)
        rates = bench_round_trips(binary, tmp, rt_reps, seq_count, par_conns, par_each)
        results["round_trips"] = {"reps": rt_reps, "sequential_count": seq_count,
                                  "parallel_connections": par_conns,
                                  "parallel_count_each": par_each, "rates": rates}
        for kind, label in (("sequential", "1 connection"),
                            ("parallel", "%d connections" % par_conns)):
            off, on = median(rates[kind]["off"]), median(rates[kind]["on"])
            cost = (1 - on / off) * 100
            results["round_trips"][kind] = {"off": off, "on": on, "cost_pct": cost}
            report.add("round trips/s, %s, recording off" % label, off, "/s")
            report.add("round trips/s, %s, recording on" % label, on, "/s")
            report.add("recording cost, %s" % label, cost, "%",
                       "< %g %%" % TARGETS["recording_cost_pct"],
                       cost < TARGETS["recording_cost_pct"])

        # Mail.
        source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
        sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
        why_not = None
        if not available["smtp"][0]:
            why_not = "the smtp fake is not ready (%s)" % available["smtp"][1]
        elif not (Path(source).exists() and Path(sink).exists()):
            why_not = "smtp-source/smtp-sink are not installed (tools/install-deps.sh bench)"
        else:
            probe = Path(tmp) / "mail-probe.yaml"
            probe.write_text(MAIL_SCENARIO)
            with Farm(binary, probe, None, Path(tmp) / "probe-ready.json") as farm:
                ok, why = smtp_accepts_mail(farm.address("mail"))
            if not ok:
                why_not = "the smtp fake does not accept mail yet (%s)" % why
        if why_not:
            log("bench: skipping mail: " + why_not)
            for what in ("smtp msgs/s vs smtp-sink", "mail farm idle RSS"):
                report.skip(what, why_not)
            results["mail"] = {"skipped": why_not}
        else:
            log("bench: mail, %d reps x %d messages" % (mail_reps, mail_messages))
            mail = bench_mail(binary, source, sink, tmp, mail_reps, mail_messages, 1000)
            results["mail"] = {"reps": mail_reps, "messages": mail_messages, "length": 1000,
                               "rates": mail}
            for key, label in (("per_message", "1 connection per message"),
                               ("per_connection", "%d messages per connection" % mail_messages)):
                fake, ref = median(mail[key]["fake"]), median(mail[key]["sink"])
                results["mail"][key] = {"fake": fake, "sink": ref, "ratio": fake / ref}
                report.add("smtp msgs/s, %s, recording on" % label, fake, "/s")
                report.add("smtp msgs/s, %s, recording off" % label,
                           median(mail[key]["fake_off"]), "/s")
                report.add("reference: smtp-sink msgs/s, %s" % label, ref, "/s")
                report.add("smtp / smtp-sink, %s" % label, fake / ref, "x",
                           ">= %g" % TARGETS["smtp_vs_sink"], fake / ref >= TARGETS["smtp_vs_sink"])
            farm_text = MAIL_SCENARIO + (MAIL_FARM_POP3 if available["pop3"][0] else "")
            mail_farm = Path(tmp) / "mail-farm.yaml"
            mail_farm.write_text(farm_text)
            _, mail_memory = bench_startup(binary, mail_farm, 5 if not quick else 2, tmp)
            rss = median([m["VmRSS"] for m in mail_memory]) / MIB
            results["mail"]["farm_idle"] = mail_memory
            report.add("mail farm idle RSS (smtp%s)" % ("+pop3" if available["pop3"][0] else ""),
                       rss, "MiB", "< %g MiB" % TARGETS["mail_idle_rss_mib"],
                       rss < TARGETS["mail_idle_rss_mib"])

    return finish(args, results, report, build_type, started)


def finish(args, results, report, build_type, started):
    results["machine"]["loadavg_after"] = loadavg()
    results["seconds"] = round(time.time() - started, 1)
    results["report"] = report.rows
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")

    print("protofarm benchmarks (%s build, %s CPUs, load %s before, %s after; transcripts in %s;"
          " medians)" % (
              build_type, os.cpu_count(), " ".join(results["machine"]["loadavg_before"] or []),
              " ".join(results["machine"]["loadavg_after"] or []), results["tmp"]))
    print(report.table())
    print("results: %s (%.0f s)" % (out, results["seconds"]))
    failed = [r for r in report.rows if r["result"] == "FAIL"]
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
