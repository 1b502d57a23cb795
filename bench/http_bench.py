"""The http benchmarks of bench/bench.py, against nginx and lighttpd in the same run.

The load is wrk (Debian's wrk: -t2, keep-alive connections, each sending its next request as
soon as the previous answer is in) on loopback. Every server serves the same folder, made here:
a 1 KiB index.html, and cgi-bin/hello.sh, a two-line shell script that prints a Content-Type
and "hello".

- requests/s for the small file (`wrk -t2 -c32 -d10s http://127.0.0.1:PORT/index.html`): the
  http fake with recording on (--transcripts), nginx, and the fake with recording off, in turn,
  several runs each (median); one farm of each kind for all its runs.
- memory under load: a fresh farm, recording on, loaded for 60 s; VmRSS from /proc/PID/status
  every second. After 5 s of warm-up, the median of the first tenth of the samples is compared
  with the median of the last tenth, and every sample with the first tenth's median: a farm that
  kept each request in memory (an unbounded journal) would grow all along. The transcript
  folder's size is sampled as well: it grows at the rate the requests are recorded, on disk.
- CGI requests/s (`wrk -t2 -c8 -d10s .../cgi-bin/hello.sh`): the fake (`cgi:`, recording on)
  against lighttpd's mod_cgi running the same script, in turn.

Before any figure is taken, each server's answer is checked (the file's bytes, the script's
"hello"); a wrk run with any answer other than 2xx or 3xx is an error, not a figure.

nginx runs from bench/nginx-http.conf (one worker, as protofarm serves from one thread; no access
log; sendfile) and lighttpd from bench/lighttpd.conf (mod_cgi, the script run by its own #!
line, as protofarm runs it). Both start here, in the foreground (`daemon off`, `lighttpd -D`),
on free loopback ports, with their pid files and logs in a temporary folder; both are this
script's children, stopped by their pid. The packaged services are never started
(tools/install-deps.sh keeps them from starting when it installs them). --quick runs for 3 s
instead of 10 (the memory run for 10 s instead of 60), once each.
"""

import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIB = 1 << 20

TARGETS = {
    "http_vs_nginx": 0.5,            # fake requests/s, recording on / nginx's, 1 KiB file
    "http_rss_flat_pct": 10.0,       # RSS across a full-load run stays within +-10 %
    "http_cgi_vs_lighttpd": 1.0,     # fake CGI requests/s / lighttpd mod_cgi's
}

FILE_BYTES = 1024
SCRIPT = "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nhello\\n'\n"
WARMUP_S = 5  # memory samples before this are the farm's start, not its steady state

SCENARIO = """name: http-bench
servers:
  web:
    protocol: http
    listen: 127.0.0.1:0
    docroot: %(root)s
    cgi:
      dir: %(root)s/cgi-bin
      prefix: /cgi-bin/
      timeout: 5s
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid):
    try:
        return [int(p) for p in Path("/proc/%d/task/%d/children" % (pid, pid)).read_text().split()]
    except OSError:
        return []


def tail(path, lines=5):
    try:
        return " | ".join(Path(path).read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def tool(name):
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None)


# --- the load ----------------------------------------------------------------------------------

def wrk(binary, url, seconds, connections, threads=2):
    """One wrk run; returns its figures. Any answer other than 2xx/3xx, or no answer, is an error:
    the rate would be that of the errors."""
    cmd = [binary, "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s",
           url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout
    if out.returncode != 0:
        raise RuntimeError("wrk failed (%d): %s" % (out.returncode, (out.stderr or text).strip()))
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    done = re.search(r"^\s*(\d+) requests in ([\d.]+)(m?s|m|h)", text, re.M)
    if not rate or not done:
        raise RuntimeError("unexpected wrk output: %s" % text.strip())
    figures = {"rps": float(rate.group(1)), "requests": int(done.group(1))}
    latency = re.search(r"^\s*Latency\s+(\S+)", text, re.M)
    if latency:
        figures["latency_avg"] = latency.group(1)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       text)
    if errors:
        figures["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                            map(int, errors.groups())))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if bad:
        raise RuntimeError("%s: %s of %d answers were not 2xx or 3xx" % (
            url, bad.group(1), figures["requests"]))
    if figures["requests"] == 0:
        raise RuntimeError("%s: no request was answered" % url)
    return figures


def check(url, want):
    """The server's answer to one GET is `want`."""
    with urllib.request.urlopen(url, timeout=10) as r:
        body = r.read()
        if r.status != 200 or body != want:
            raise RuntimeError("%s answered %d, %d bytes: %r" % (url, r.status, len(body),
                                                                  body[:80]))


# --- the reference servers -----------------------------------------------------------------------

class Reference:
    """nginx or lighttpd on a free loopback port, from its configuration in bench/, with its pid
    file and log in a folder of its own; our child, stopped by its pid."""

    def __init__(self, kind, binary, root, base):
        self.kind, self.port = kind, free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="%s-" % kind, dir=base))
        template = HERE / ("nginx-http.conf" if kind == "nginx" else "lighttpd.conf")
        conf = self.dir / template.name
        conf.write_text(template.read_text().replace("@ROOT@", str(root))
                        .replace("@DIR@", str(self.dir)).replace("@PORT@", str(self.port)))
        self.log = self.dir / "error.log"
        if kind == "nginx":
            self.cmd = [binary, "-p", str(self.dir), "-c", str(conf), "-e", str(self.log)]
        else:
            self.cmd = [binary, "-D", "-f", str(conf)]
        self.proc = None

    def __enter__(self):
        # Output to a file: a pipe nobody reads fills up, and the server stops in write().
        with open(self.dir / "stderr.log", "wb") as err:
            self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 20
        while True:
            why = None
            if self.proc.poll() is not None:
                why = "%s exited with %s: %s %s" % (
                    self.kind, self.proc.returncode, tail(self.dir / "stderr.log"), tail(self.log))
            else:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    if time.monotonic() > deadline:
                        why = "%s did not accept on port %d" % (self.kind, self.port)
            if why:
                self.__exit__()
                raise RuntimeError(why)
            time.sleep(0.02)

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            kids = children(self.proc.pid)  # nginx's worker
            # nginx: SIGQUIT is its graceful stop (SIGTERM its fast one); lighttpd: SIGTERM.
            self.proc.send_signal(signal.SIGQUIT if self.kind == "nginx" else signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                # Killed, nginx's master leaves its worker behind: that one too, if it is still
                # the worker (same name; its parent gone).
                for pid in kids:
                    try:
                        if Path("/proc/%d/comm" % pid).read_text().strip() == self.kind:
                            os.kill(pid, signal.SIGKILL)
                    except (OSError, ProcessLookupError):
                        pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


# --- memory under load -------------------------------------------------------------------------

def folder_bytes(folder):
    total = 0
    for dirpath, _, filenames in os.walk(folder):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except OSError:  # a session's .part file renamed meanwhile
                pass
    return total


def rss_under_load(wrk_binary, farm, url, transcripts, seconds, proc_status):
    """Samples (seconds since the load started, VmRSS bytes, transcript bytes) every second while
    wrk loads the farm; returns them and wrk's figures."""
    cmd = [wrk_binary, "-t2", "-c32", "-d%ds" % seconds, "--timeout", "5s", url]
    samples = []
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
        try:
            n = 0
            while proc.poll() is None:
                status = proc_status(farm.pid)
                samples.append((time.monotonic() - t0, status["VmRSS"], folder_bytes(transcripts)))
                n += 1
                left = t0 + n - time.monotonic()
                try:
                    proc.wait(timeout=max(left, 0))
                except subprocess.TimeoutExpired:
                    pass
                if time.monotonic() > t0 + seconds + 60:
                    raise RuntimeError("wrk did not finish in time")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        out.seek(0)
        text = out.read()
    if proc.returncode != 0:
        raise RuntimeError("wrk failed (%d): %s" % (proc.returncode, text.strip()))
    if re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        raise RuntimeError("answers other than 2xx or 3xx under load: %s" % text.strip())
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    done = re.search(r"^\s*(\d+) requests in", text, re.M)
    return samples, {"rps": float(rate.group(1)) if rate else None,
                     "requests": int(done.group(1)) if done else None}


def flatness(samples):
    """The steady state's samples (after the warm-up), compared with its first tenth."""
    steady = [s for s in samples if s[0] >= WARMUP_S]
    if len(steady) < 2:
        raise RuntimeError("too few memory samples (%d)" % len(steady))
    w = max(1, len(steady) // 10)
    rss = [s[1] for s in steady]
    first, last = statistics.median(rss[:w]), statistics.median(rss[-w:])
    lo, hi = min(rss), max(rss)
    t_first, t_last = steady[0][0], steady[-1][0]
    growth = (steady[-1][2] - steady[0][2]) / (t_last - t_first) if t_last > t_first else 0.0
    return {"samples": len(steady), "window": w, "first_mib": first / MIB, "last_mib": last / MIB,
            "min_mib": lo / MIB, "max_mib": hi / MIB,
            "drift_pct": (last / first - 1) * 100,
            "worst_pct": max(abs(hi / first - 1), abs(lo / first - 1)) * 100,
            "transcript_mb_per_s": growth / 1e6,
            "transcript_mb": steady[-1][2] / 1e6}


# --- the benchmark ------------------------------------------------------------------------------

def make_root(root):
    """The folder every server serves: index.html (1 KiB) and cgi-bin/hello.sh. World-readable:
    nginx's worker runs as nobody when nginx is started as root."""
    (root / "cgi-bin").mkdir(parents=True)
    (root / "index.html").write_bytes(
        (b"<!doctype html><title>bench</title><p>" + b"x" * FILE_BYTES)[:FILE_BYTES - 1] + b"\n")
    script = root / "cgi-bin" / "hello.sh"
    script.write_text(SCRIPT)
    script.chmod(0o755)
    for d in (root.parent, root, root / "cgi-bin"):
        d.chmod(0o755)


def run(binary, tmp, report, results, quick, farm_class, proc_status, median):
    """Adds the http figures to the report."""
    seconds = 3 if quick else 10
    reps = 1 if quick else 3
    load_seconds = 10 if quick else 60
    out = {"wrk_seconds": seconds, "reps": reps, "file_bytes": FILE_BYTES,
           "static": {"connections": 32, "threads": 2, "rps": {}, "runs": {}},
           "cgi": {"connections": 8, "threads": 2, "rps": {}, "runs": {}}}
    results["http"] = out

    wrk_binary = tool("wrk")
    if not wrk_binary:
        why = "wrk is not installed (tools/install-deps.sh bench)"
        out["skipped"] = why
        report.skip("http (wrk)", why)
        return
    nginx, lighttpd = tool("nginx"), tool("lighttpd")

    # A folder of our own beside the benchmark's (which is root's, mode 0700).
    base = Path(tempfile.mkdtemp(prefix="protofarm-http-", dir=str(Path(tmp).parent)))
    try:
        root = base / "root"
        make_root(root)
        want_file = (root / "index.html").read_bytes()
        scenario = Path(tmp) / "http.yaml"
        scenario.write_text(SCENARIO % {"root": root})
        _static(binary, tmp, base, root, scenario, want_file, wrk_binary, nginx, lighttpd,
                farm_class, report, out, seconds, reps, median)
        _memory(binary, tmp, scenario, wrk_binary, farm_class, proc_status, report, out,
                load_seconds)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _runs_note(runs, connections, seconds):
    rates = [r["rps"] for r in runs]
    note = "wrk -t2 -c%d -d%ds, %d run(s)" % (connections, seconds, len(rates))
    if len(rates) > 1:
        note += ", min %.0f, max %.0f" % (min(rates), max(rates))
    errors = {}
    for r in runs:
        for k, v in r.get("socket_errors", {}).items():
            errors[k] = errors.get(k, 0) + v
    if any(errors.values()):
        note += "; socket errors %s" % ", ".join("%s %d" % kv for kv in errors.items() if kv[1])
    return note


def _static(binary, tmp, base, root, scenario, want_file, wrk_binary, nginx, lighttpd,
            farm_class, report, out, seconds, reps, median):
    """requests/s for the file (fake on, nginx, fake off), then CGI (fake on, lighttpd)."""
    static, cgi = out["static"], out["cgi"]
    transcripts = Path(tempfile.mkdtemp(prefix="http-t-", dir=tmp))
    servers = {}  # name: url of the server's root
    missing = {}  # reference: why it did not run
    with farm_class(binary, scenario, transcripts, Path(tmp) / "http-on-ready.json") as on, \
            farm_class(binary, scenario, None, Path(tmp) / "http-off-ready.json") as off:
        servers["protofarm_on"] = "http://127.0.0.1:%d" % on.address("web")[1]
        servers["protofarm_off"] = "http://127.0.0.1:%d" % off.address("web")[1]
        with contextlib.ExitStack() as stack:
            for kind, program in (("nginx", nginx), ("lighttpd", lighttpd)):
                if not program:
                    missing[kind] = "%s is not installed (tools/install-deps.sh bench)" % kind
                    continue
                try:
                    servers[kind] = stack.enter_context(
                        Reference(kind, program, root, base)).url("")
                except RuntimeError as e:
                    missing[kind] = str(e)

            # The file: each server checked, warmed up for a second, then the runs in turn.
            names = [n for n in ("protofarm_on", "nginx", "protofarm_off") if n in servers]
            for name in names:
                check(servers[name] + "/index.html", want_file)
                wrk(wrk_binary, servers[name] + "/index.html", 1, 32)
                static["runs"][name] = []
            for rep in range(reps):
                order = names if rep % 2 == 0 else names[::-1]
                for name in order:
                    static["runs"][name].append(
                        wrk(wrk_binary, servers[name] + "/index.html", seconds, 32))

            # CGI.
            names = [n for n in ("protofarm_on", "lighttpd") if n in servers]
            for name in names:
                check(servers[name] + "/cgi-bin/hello.sh", b"hello\n")
                wrk(wrk_binary, servers[name] + "/cgi-bin/hello.sh", 1, 8)
                cgi["runs"][name] = []
            for rep in range(reps):
                order = names if rep % 2 == 0 else names[::-1]
                for name in order:
                    cgi["runs"][name].append(
                        wrk(wrk_binary, servers[name] + "/cgi-bin/hello.sh", seconds, 8))
    events = transcripts / "events.jsonl"
    if not events.exists() or events.stat().st_size == 0:
        raise RuntimeError("recording on, but nothing was recorded")
    shutil.rmtree(transcripts, ignore_errors=True)

    for part in (static, cgi):
        for name, runs in part["runs"].items():
            part["rps"][name] = median([r["rps"] for r in runs])
    rps = static["rps"]
    labels = {"protofarm_on": "protofarm, recording on", "protofarm_off":
              "protofarm, recording off"}
    for name in ("protofarm_on", "protofarm_off"):
        report.add("http req/s, 1 KiB file, %s" % labels[name], rps[name], "/s",
                   note=_runs_note(static["runs"][name], 32, seconds))
    static["recording_cost_pct"] = (1 - rps["protofarm_on"] / rps["protofarm_off"]) * 100
    report.add("http recording cost, 1 KiB file", static["recording_cost_pct"], "%",
               note="1 - (recording on / recording off)")
    if "nginx" in rps:
        report.add("reference: nginx req/s, 1 KiB file", rps["nginx"], "/s",
                   note=_runs_note(static["runs"]["nginx"], 32, seconds) +
                   "; 1 worker, no access log, sendfile")
        ratio = rps["protofarm_on"] / rps["nginx"]
        static["vs_nginx"] = ratio
        static["off_vs_nginx"] = rps["protofarm_off"] / rps["nginx"]
        report.add("http req/s / nginx's, recording on", ratio, "x",
                   ">= %g" % TARGETS["http_vs_nginx"], ratio >= TARGETS["http_vs_nginx"],
                   "recording off: %.2f x nginx's" % static["off_vs_nginx"])
    else:
        report.skip("reference: nginx req/s", missing["nginx"])
    rps = cgi["rps"]
    report.add("http CGI req/s, shell script, protofarm, recording on", rps["protofarm_on"], "/s",
               note=_runs_note(cgi["runs"]["protofarm_on"], 8, seconds))
    if "lighttpd" in rps:
        report.add("reference: lighttpd mod_cgi req/s, same script", rps["lighttpd"], "/s",
                   note=_runs_note(cgi["runs"]["lighttpd"], 8, seconds))
        ratio = rps["protofarm_on"] / rps["lighttpd"]
        cgi["vs_lighttpd"] = ratio
        report.add("http CGI req/s / lighttpd's", ratio, "x",
                   ">= %g" % TARGETS["http_cgi_vs_lighttpd"],
                   ratio >= TARGETS["http_cgi_vs_lighttpd"])
    else:
        report.skip("reference: lighttpd mod_cgi", missing["lighttpd"])


def _memory(binary, tmp, scenario, wrk_binary, farm_class, proc_status, report, out, seconds):
    """A fresh farm, recording on, under full load for `seconds`: RSS every second."""
    transcripts = Path(tempfile.mkdtemp(prefix="http-t-", dir=tmp))
    with farm_class(binary, scenario, transcripts, Path(tmp) / "http-load-ready.json") as farm:
        url = "http://127.0.0.1:%d/index.html" % farm.address("web")[1]
        samples, figures = rss_under_load(wrk_binary, farm, url, transcripts, seconds,
                                          proc_status)
        after = proc_status(farm.pid)
    recorded = folder_bytes(transcripts)  # every session document complete
    events = transcripts / "events.jsonl"
    if not events.exists() or events.stat().st_size == 0:
        raise RuntimeError("recording on, but nothing was recorded")
    shutil.rmtree(transcripts, ignore_errors=True)
    flat = flatness(samples)
    out["memory"] = {"seconds": seconds, "warmup_s": WARMUP_S, "wrk": figures,
                     "samples": [{"t": round(t, 2), "rss": r, "transcript_bytes": b}
                                 for t, r, b in samples],
                     "hwm_mib": after.get("VmHWM", 0) / MIB, **flat}
    limit = TARGETS["http_rss_flat_pct"]
    report.add("http RSS under load, last tenth vs first", flat["drift_pct"], "%",
               "within +-%g %%" % limit, abs(flat["drift_pct"]) <= limit,
               "wrk -t2 -c32 -d%ds, recording on, %.0f req/s; VmRSS every second after %d s of "
               "warm-up: first tenth %.1f MiB, last tenth %.1f MiB (each the median of %d "
               "sample%s)" % (seconds, figures["rps"] or 0, WARMUP_S, flat["first_mib"],
                              flat["last_mib"], flat["window"], "" if flat["window"] == 1 else "s"))
    report.add("http RSS under load, farthest sample from the first tenth", flat["worst_pct"],
               "%", "within +-%g %%" % limit, flat["worst_pct"] <= limit,
               "min %.1f MiB, max %.1f MiB over %d samples; peak (VmHWM) %.1f MiB" % (
                   flat["min_mib"], flat["max_mib"], flat["samples"], out["memory"]["hwm_mib"]))
    out["memory"]["transcript_bytes_at_stop"] = recorded
    per_request = recorded / figures["requests"] if figures["requests"] else 0
    report.add("http transcript growth under load", flat["transcript_mb_per_s"], "MB/s",
               note="the transcript folder (in %s) held %.0f MB at the stop, about %.0f bytes a "
               "request: it streams to disk" % (Path(tmp).parent, recorded / 1e6, per_request))
