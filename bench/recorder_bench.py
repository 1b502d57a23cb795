"""The recorder's benchmarks of bench/bench.py (`bench/run.sh --only recorder`): what recording
every byte costs, measured against protofarm without transcripts and against Postfix's
smtp-sink -D (which appends every transaction to one file) in the same run.

Transcripts go to a folder on the disk, never to /dev/shm: the figures are what a CI job with
transcripts in its workspace sees (--tmp names the folder's parent; default $TMPDIR, else
/var/tmp). Each figure is the median of its repetitions, with min-max; the variants run
interleaved, so that drift in the machine's load falls on all of them.

- smtp: smtp-source, 20 sessions at once, a connection per message and 100 messages per
  connection (-d), 1,000-byte messages, against protofarm recording, protofarm without
  transcripts and smtp-sink -D.
- tcp new connections per second: a client that connects, sends a line, reads the echo and
  closes, recording on and off.
- round trips on 4 open connections (a tcp echo), recording on and off.
- memory over a long session: VmRSS after 10,000 and after 1,000,000 exchanges on 4 open
  connections, for tcp (a line and its echo) and smtp (NOOP and its 250), recording on.
"""

import os
import select
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ftp_bench import free_port, wait_banner  # bench/ftp_bench.py

TARGETS = {
    "smtp_recording_vs_sink_d": 1.0,     # protofarm recording / smtp-sink -D
    "smtp_recording_vs_off": 0.7,        # protofarm recording / protofarm without transcripts
    "tcp_connections_on_vs_off": 0.8,    # new connections/s, recording / not
    "round_trip_recording_cost_pct": 10.0,
    "rss_growth_1m_vs_10k": 2.0,         # VmRSS after 1,000,000 exchanges / after 10,000
}

ECHO = """name: bench-recorder-echo
servers:
  echo:
    protocol: tcp
    listen: 127.0.0.1:0
    echo: true
"""

MAIL = """name: bench-recorder-mail
servers:
  mail:
    protocol: smtp
    listen: 127.0.0.1:0
"""

LINE = b"ping 0123456789 abcdefghijklmnopqrstuvwxyz\n"
NOOP = b"NOOP\r\n"
NOOP_REPLY = b"250 2.0.0 OK\r\n"  # the length is what counts: read until this many bytes


def spread(values):
    return "min-max %.0f-%.0f" % (min(values), max(values)) if values else ""


def smtp_source(port, messages, keep):
    cmd = ["smtp-source", "-s", "20", "-m", str(messages), "-l", "1000", "-M", "bench.test",
           "-f", "bench@bench.test", "-t", "sink@bench.test"]
    if keep:
        cmd.append("-d")  # one connection per session: messages / 20 messages on each
    cmd.append("127.0.0.1:%d" % port)
    cmd[0] = shutil.which(cmd[0]) or "/usr/sbin/smtp-source"
    t0 = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        raise RuntimeError("smtp-source failed: " + (result.stderr or result.stdout).strip())
    return messages / elapsed


def sink_rates(folder, messages):
    """smtp-sink -D FILE: the reference that records every transaction (to one file)."""
    sink = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o777)  # smtp-sink drops root's privileges (-u nobody) before it writes
    dump = folder / "sink.dump"
    port = free_port()
    proc = subprocess.Popen([sink, "-u", "nobody", "-D", str(dump), "127.0.0.1:%d" % port, "256"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_banner(port, proc)
        rates = (smtp_source(port, messages, False), smtp_source(port, messages, True))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if not dump.exists() or dump.stat().st_size < messages * 1000:
        raise RuntimeError("smtp-sink -D wrote %s bytes for %d messages"
                           % (dump.stat().st_size if dump.exists() else 0, messages))
    return rates


def new_connections(address, count):
    """Connections per second: connect, one line, its echo, close; one at a time."""
    want = len(LINE)
    t0 = time.perf_counter()
    for _ in range(count):
        with socket.create_connection(address, timeout=10) as s:
            s.sendall(LINE)
            got = 0
            while got < want:
                chunk = s.recv(4096)
                if not chunk:
                    raise RuntimeError("the server closed the connection")
                got += len(chunk)
    return count / (time.perf_counter() - t0)


def exchanges(socks, count_each, request, reply_size):
    """Round trips per second over open connections, each one request at a time (epoll)."""
    ep = select.epoll()
    buf = bytearray(65536)
    state = {}
    try:
        for s in socks:
            s.setblocking(False)
            ep.register(s.fileno(), select.EPOLLIN)
            state[s.fileno()] = [s, count_each, 0]
        t0 = time.perf_counter()
        for s in socks:
            s.send(request)
        active = len(socks)
        deadline = t0 + 600
        while active:
            if time.perf_counter() > deadline:
                raise RuntimeError("the exchanges did not finish in time")
            for fd, _ in ep.poll(1.0):
                entry = state[fd]
                try:
                    n = entry[0].recv_into(buf)
                except BlockingIOError:
                    continue
                if not n:
                    raise RuntimeError("the server closed a connection")
                entry[2] += n
                while entry[2] >= reply_size and entry[1] > 0:
                    entry[2] -= reply_size
                    entry[1] -= 1
                    if entry[1] > 0:
                        entry[0].send(request)
                    else:
                        ep.unregister(fd)
                        active -= 1
        elapsed = time.perf_counter() - t0
    finally:
        ep.close()
        for s in socks:
            s.setblocking(True)
    return len(socks) * count_each / elapsed


def open_connections(address, count, greeting):
    socks = []
    for _ in range(count):
        s = socket.create_connection(address, timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if greeting:
            data = b""
            while not data.endswith(b"\r\n"):
                data += s.recv(4096)
            s.sendall(b"EHLO bench.test\r\n")
            data = b""
            while b"250 " not in data:
                data += s.recv(4096)
        socks.append(s)
    return socks


def run(binary, tmp, report, results, quick, farm_class, proc_status, median):
    """Adds the recorder's figures to the report. `tmp` is where scenarios go; transcripts go
    to a folder on the disk (see the module's text)."""
    disk_parent = os.environ.get("PROTOFARM_BENCH_DISK") or os.environ.get("TMPDIR") or "/var/tmp"
    reps = 1 if quick else 5
    messages = 200 if quick else 2000
    conns = 500 if quick else 3000
    rt_each = 1000 if quick else 10000
    long_total = 100_000 if quick else 1_000_000
    echo = Path(tmp) / "recorder-echo.yaml"
    echo.write_text(ECHO)
    mail = Path(tmp) / "recorder-mail.yaml"
    mail.write_text(MAIL)
    out = {"reps": reps, "messages": messages, "disk": disk_parent,
           "smtp": {k: {"per_message": [], "per_connection": []}
                    for k in ("on", "off", "sink_d")},
           "tcp_connections": {"on": [], "off": []}, "round_trips": {"on": [], "off": []},
           "rss_kib": {}}
    have_sink = bool(shutil.which("smtp-sink") or Path("/usr/sbin/smtp-sink").exists())
    with tempfile.TemporaryDirectory(prefix="protofarm-recorder-", dir=disk_parent) as disk:
        disk = Path(disk)
        os.chmod(disk, 0o755)  # smtp-sink, as nobody, writes its dump below
        for rep in range(reps):
            variants = ["on", "off"] + (["sink_d"] if have_sink else [])
            if rep % 2:
                variants.reverse()
            for variant in variants:
                run_dir = disk / ("%s-%d" % (variant, rep))
                if variant == "sink_d":
                    per_message, per_connection = sink_rates(run_dir, messages)
                else:
                    transcripts = run_dir / "transcripts" if variant == "on" else None
                    with farm_class(binary, mail, transcripts, Path(tmp) / "rec-ready.json",
                                    extra=("--control", "none")) as farm:
                        port = farm.address("mail")[1]
                        per_message = smtp_source(port, messages, False)
                        per_connection = smtp_source(port, messages, True)
                    with farm_class(binary, echo, transcripts and run_dir / "echo-t",
                                    Path(tmp) / "rec-ready.json",
                                    extra=("--control", "none")) as farm:
                        address = farm.address("echo")
                        out["tcp_connections"][variant].append(new_connections(address, conns))
                        socks = open_connections(address, 4, False)
                        try:
                            out["round_trips"][variant].append(
                                exchanges(socks, rt_each, LINE, len(LINE)))
                        finally:
                            for s in socks:
                                s.close()
                out["smtp"][variant]["per_message"].append(per_message)
                out["smtp"][variant]["per_connection"].append(per_connection)
                shutil.rmtree(run_dir, ignore_errors=True)

        # Memory over a long session, recording on.
        for proto, scenario, request, reply_size, greeting in (
                ("tcp", echo, LINE, len(LINE), False),
                ("smtp", mail, NOOP, len(NOOP_REPLY), True)):
            run_dir = disk / ("long-" + proto)
            with farm_class(binary, scenario, run_dir / "transcripts",
                            Path(tmp) / "rec-ready.json", extra=("--control", "none")) as farm:
                address = farm.address("echo" if proto == "tcp" else "mail")
                socks = open_connections(address, 4, greeting)
                try:
                    exchanges(socks, 10_000 // 4, request, reply_size)
                    after_10k = proc_status(farm.pid)["VmRSS"] // 1024
                    rate = exchanges(socks, (long_total - 10_000) // 4, request, reply_size)
                    after_long = proc_status(farm.pid)["VmRSS"] // 1024
                    hwm = proc_status(farm.pid)["VmHWM"] // 1024
                finally:
                    for s in socks:
                        s.close()
            out["rss_kib"][proto] = {"after_10k": after_10k, "after_long": after_long,
                                     "peak": hwm, "exchanges": long_total, "rate": rate}
            shutil.rmtree(run_dir, ignore_errors=True)
    results["recorder"] = out

    def add_ratio(label, on, ref, target_key, ref_label):
        ratio = median(on) / median(ref)
        report.add(label, ratio, "x", ">= %g" % TARGETS[target_key],
                   ratio >= TARGETS[target_key],
                   "%.0f/s against %s %.0f/s; %s against %s" % (
                       median(on), ref_label, median(ref), spread(on), spread(ref)))

    for key, label in (("per_message", "a connection per message"),
                       ("per_connection", "%d messages per connection" % (messages // 20))):
        on, off = out["smtp"]["on"][key], out["smtp"]["off"][key]
        report.add("smtp msgs/s recording, 20 sessions, %s" % label, median(on), "/s",
                   note="%s; transcripts on the disk under %s" % (spread(on), disk_parent))
        report.add("smtp msgs/s without transcripts, %s" % label, median(off), "/s",
                   note=spread(off))
        if have_sink:
            sink = out["smtp"]["sink_d"][key]
            report.add("reference: smtp-sink -D msgs/s, %s" % label, median(sink), "/s",
                       note=spread(sink))
            add_ratio("smtp recording / smtp-sink -D, %s" % label, on, sink,
                      "smtp_recording_vs_sink_d", "smtp-sink -D")
        add_ratio("smtp recording / without transcripts, %s" % label, on, off,
                  "smtp_recording_vs_off", "without")
    if not have_sink:
        report.skip("reference: smtp-sink -D", "not installed (tools/install-deps.sh bench)")
    add_ratio("tcp new connections/s, recording / without", out["tcp_connections"]["on"],
              out["tcp_connections"]["off"], "tcp_connections_on_vs_off", "without")
    rt_on, rt_off = median(out["round_trips"]["on"]), median(out["round_trips"]["off"])
    cost = (1 - rt_on / rt_off) * 100
    report.add("recording cost, round trips on 4 open connections", cost, "%",
               "< %g %%" % TARGETS["round_trip_recording_cost_pct"],
               cost < TARGETS["round_trip_recording_cost_pct"],
               "%.0f/s against %.0f/s without" % (rt_on, rt_off))
    for proto, figures in out["rss_kib"].items():
        growth = figures["after_long"] / figures["after_10k"]
        report.add("%s RSS after %s exchanges / after 10,000 (4 connections, recording)"
                   % (proto, format(figures["exchanges"], ",")), growth, "x",
                   "<= %g" % TARGETS["rss_growth_1m_vs_10k"],
                   growth <= TARGETS["rss_growth_1m_vs_10k"],
                   "%.1f MiB -> %.1f MiB (peak %.1f MiB) at %.0f exchanges/s" % (
                       figures["after_10k"] / 1024, figures["after_long"] / 1024,
                       figures["peak"] / 1024, figures["rate"]))
