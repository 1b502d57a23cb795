"""The nntp benchmarks of bench/bench.py, against INN (Debian's inn2) in the same run.

protofarm serves a group of 100,000 articles generated from the seed (`generate`, made when they
are asked for); INN gets the same articles: they are read from a protofarm farm (ARTICLE n) and
streamed into innd (MODE STREAM, TAKETHIS), which numbers them 1 to N in the same group. That
feed is not measured. Then, with the same client for both (a raw socket in this script, reading
into one big buffer; no nntplib), recording on for protofarm:

- OVER: GROUP, then the time from sending `OVER 1-N` to the terminating "." line; a warm-up,
  then the median of several runs, protofarm and nnrpd in turn. Every run checks the line count,
  and the first checks that both list the same message-ids.
- ARTICLE/s: `ARTICLE n` for n = 1, 2, ... over one connection, one at a time (no pipelining).
- idle RSS of the protofarm farm right after ready (a fresh launch each time), and of the farm
  the figures were measured on, after its OVER runs and after its ARTICLE runs.

INN runs from the files in bench/inn/ (inn.conf: CNFS storage, tradindexed overview), with
everything else under a temporary folder: innd (`-d -f`, on a free loopback port) takes the
feed and is stopped once it has flushed it; nnrpd (`-D -f`, its own loopback port) serves the
reads. Both are this script's children and are stopped by their pid; INN's packaged daemon is
never involved. innd runs only as `news` (checked before it reads inn.conf, so runasuser cannot
change it): started as root it switches to news, and the temporary folder is given to news;
run by anyone else, the INN figures are skipped. --quick feeds 10,000 articles instead of
100,000 (the protofarm group keeps 100,000, so the OVER 1-100000 and idle RSS figures keep their
meaning).
"""

import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INN_CONF_DIR = HERE / "inn"
INN_BIN = Path("/usr/lib/news/bin")
MIB = 1 << 20
GROUP = "misc.generated"
COUNT = 100000  # the articles protofarm generates

TARGETS = {
    "nntp_over_100k_s": 0.5,          # OVER 1-100000 on one group, protofarm
    "nntp_over_vs_inn": 1.0,          # protofarm OVER time / INN's (no slower than INN)
    "nntp_idle_rss_100k_mib": 64.0,   # a farm serving the 100,000 generated articles
}

SCENARIO = """name: nntp-bench
seed: 42
clock: 2026-03-01T12:30:00Z
servers:
  news:
    protocol: nntp
    listen: 127.0.0.1:0
    groups:
      %s:
        description: "100,000 articles made from the seed"
        generate: {count: %d, first: 1}
""" % (GROUP, COUNT)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the client --------------------------------------------------------------------------------

_BUFFER = []


def big_buffer():
    """One 64 MiB buffer for every connection, its pages touched once: an OVER reply of 100,000
    lines (about 25 MB) goes in without the buffer growing or faulting pages in while timed."""
    if not _BUFFER:
        _BUFFER.append(bytearray(b"\x01") * (64 * MIB))
    return _BUFFER[0]


class Client:
    """One NNTP connection; replies are read into the shared buffer (one at a time)."""

    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = big_buffer()
        self.view = memoryview(self.buf)
        self.used = 0
        greeting = self.line()
        if not greeting.startswith((b"200", b"201")):
            raise RuntimeError("greeting: %r" % greeting)

    def _fill(self):
        if self.used == len(self.buf):
            raise RuntimeError("a reply of more than %d bytes" % len(self.buf))
        # Acknowledge at once. nnrpd writes a reply's status line and its article separately
        # and leaves Nagle on: with the usual delayed ACK, every ARTICLE would wait 40 ms.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        n = self.sock.recv_into(self.view[self.used:])
        if not n:
            raise RuntimeError("the server closed the connection")
        self.used += n

    def line(self):
        """One reply line (no multi-line block)."""
        self.used = 0
        while True:
            end = self.buf.find(b"\r\n", 0, self.used)
            if end >= 0:
                if end + 2 != self.used:
                    raise RuntimeError("more than one line: %r" % bytes(self.buf[:self.used]))
                return bytes(self.buf[:end])
            self._fill()

    def command(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def block(self, text, code):
        """Sends a command whose reply is `code` and a dot-terminated block; returns its size.
        The reply is in self.buf[:self.used]."""
        self.sock.sendall(text.encode() + b"\r\n")
        self.used = 0
        checked = False
        while True:
            self._fill()
            if not checked and self.buf.find(b"\r\n", 0, self.used) >= 0:
                if not self.buf.startswith(code):
                    raise RuntimeError("%s: %r" % (text, bytes(self.buf[:self.used])[:200]))
                checked = True
            # "\r\n.\r\n" ends the block: a body line "." is sent as "..".
            if checked and self.used >= 5 and self.buf[self.used - 5:self.used] == b"\r\n.\r\n":
                return self.used

    def close(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.sock.recv(100)
        except OSError:
            pass
        self.sock.close()


def cpu_seconds(pid):
    """Seconds on a CPU of every thread of PID so far (/proc/PID/task/*/schedstat)."""
    ns = 0
    for task in Path("/proc/%d/task" % pid).iterdir():
        try:
            ns += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return ns / 1e9


def over_seconds(port, count, server, ids=None):
    """(seconds from sending OVER 1-count to the end of its reply, seconds the server process
    spent on a CPU meanwhile), on a new connection, after GROUP. `server()` names the process
    that serves the connection. With a list `ids`, the message-ids listed are appended to it.
    On a loaded machine the wall time waits for CPUs too; the CPU time does not."""
    c = Client(port)
    try:
        group = c.command("GROUP " + GROUP)
        if not group.startswith(b"211"):
            raise RuntimeError("GROUP: %r" % group)
        pid = server()
        cpu0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        size = c.block("OVER 1-%d" % count, b"224")
        elapsed = time.perf_counter() - t0
        cpu = cpu_seconds(pid) - cpu0
        lines = c.buf.count(b"\n", 0, size) - 2  # the status line and the "."
        if lines != count:
            raise RuntimeError("OVER 1-%d gave %d lines" % (count, lines))
        if ids is not None:
            ids += [line.split(b"\t")[4] for line in bytes(c.buf[:size]).split(b"\r\n")[1:-2]]
        return elapsed, cpu
    finally:
        c.close()


def articles_per_second(port, count):
    c = Client(port)
    try:
        group = c.command("GROUP " + GROUP)
        if not group.startswith(b"211"):
            raise RuntimeError("GROUP: %r" % group)
        for n in range(1, 101):  # warm-up
            c.block("ARTICLE %d" % n, b"220")
        t0 = time.perf_counter()
        for n in range(1, count + 1):
            c.block("ARTICLE %d" % n, b"220")
        return count / (time.perf_counter() - t0)
    finally:
        c.close()


# --- INN ----------------------------------------------------------------------------------------

def inn_available():
    missing = [p for p in ("innd", "nnrpd", "makedbz", "ctlinnd") if not (INN_BIN / p).exists()]
    if missing:
        return False, "inn2 is not installed (tools/install-deps.sh bench)"
    try:
        news = pwd.getpwnam("news").pw_uid
    except KeyError:
        return False, "there is no news user"
    if os.geteuid() not in (0, news):
        return False, "innd runs only as news, or as root (it then switches to news)"
    return True, ""


def wait_greeting(port, proc, log, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s: %s" % (proc.returncode, tail(log)))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                if s.recv(200).startswith((b"200", b"201")):
                    s.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("no greeting on port %d within %ss: %s" % (port, timeout, tail(log)))


def tail(path, lines=5):
    try:
        return " | ".join(Path(path).read_text(errors="replace").strip().splitlines()[-lines:])
    except OSError:
        return ""


def stop(proc, timeout=30):
    """Stops one of our children by its pid (SIGTERM, then SIGKILL), and any process it forked
    that is still there (nnrpd forks one per connection)."""
    if proc is None or proc.poll() is not None:
        return
    # Our connections are closed: let the children end and be reaped by their parent first
    # (one whose parent is gone would be left to init).
    deadline = time.monotonic() + 5
    while children(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    kids = children(proc.pid)
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in kids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def children(pid):
    try:
        return [int(p) for p in Path("/proc/%d/task/%d/children" % (pid, pid)).read_text().split()]
    except OSError:
        return []


class Inn:
    """INN under a temporary folder: innd to feed it, nnrpd to read it."""

    def __init__(self, base):
        self.root = Path(tempfile.mkdtemp(prefix="protofarm-inn-", dir=base))
        self.innd = self.nnrpd = None
        self.innd_port = free_port()
        self.nnrpd_port = free_port()
        self.user, self.group = "news", "news"  # innd's, fixed when INN was built
        self.env = dict(os.environ, INNCONF=str(self.root / "etc" / "inn.conf"))

    def setup(self):
        root = self.root
        for d in ("etc", "db", "run", "log", "http", "filter", "spool/articles",
                  "spool/overview", "spool/incoming/tmp", "spool/outgoing", "spool/archive",
                  "spool/cycbuffs"):
            (root / d).mkdir(parents=True, exist_ok=True)
        for name in ("inn.conf", "storage.conf", "cycbuff.conf", "readers.conf",
                     "incoming.conf", "newsfeeds"):
            text = (INN_CONF_DIR / name).read_text()
            text = text.replace("@ROOT@", str(root)).replace("@PORT@", str(self.innd_port))
            (root / "etc" / name).write_text(text)
        size_kib = int(re.search(r"^cycbuff:\w+:\S+:(\d+)",
                                 (root / "etc" / "cycbuff.conf").read_text(), re.M).group(1))
        with open(root / "spool" / "cycbuffs" / "one", "wb") as f:
            f.truncate(size_kib * 1024)  # sparse: only what is written takes room
        (root / "db" / "active").write_text(
            "control 0000000000 0000000001 n\ncontrol.cancel 0000000000 0000000001 n\n"
            "junk 0000000000 0000000001 n\n%s 0000000000 0000000001 y\n" % GROUP)
        (root / "db" / "newsgroups").write_text("%s\tgenerated articles\n" % GROUP)
        (root / "db" / "active.times").write_text("")
        (root / "db" / "history").write_text("")
        os.chmod(root, 0o755)
        if os.geteuid() == 0:  # innd switches to news: the folder is news's
            uid, gid = pwd.getpwnam(self.user).pw_uid, grp.getgrnam(self.group).gr_gid
            for dirpath, dirnames, filenames in os.walk(root):
                os.chown(dirpath, uid, gid)
                for name in filenames:
                    os.chown(os.path.join(dirpath, name), uid, gid)
        self.run([str(INN_BIN / "makedbz"), "-i", "-o", "-s", str(2 * COUNT)], cwd=root / "db")

    def run(self, cmd, **kw):
        kw.setdefault("cwd", self.root)
        out = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=120,
                             preexec_fn=self._drop if os.geteuid() == 0 else None, **kw)
        if out.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (Path(cmd[0]).name, out.returncode,
                                                       (out.stderr or out.stdout).strip()))
        return out.stdout

    def _drop(self):
        """For INN's tools run as root: as its user, so that what they write is INN's."""
        gid = grp.getgrnam(self.group).gr_gid
        os.setgroups([gid])
        os.setgid(gid)
        os.setuid(pwd.getpwnam(self.user).pw_uid)

    def start_innd(self):
        # -d -f: in the foreground, our child; -c 0: take articles of any age; -N: no filters.
        log = self.root / "log" / "innd.err"
        with open(log, "wb") as err:
            self.innd = subprocess.Popen(
                [str(INN_BIN / "innd"), "-d", "-f", "-c", "0", "-N", "-P", str(self.innd_port)],
                env=self.env, cwd=self.root, stdout=subprocess.DEVNULL, stderr=err)
        wait_greeting(self.innd_port, self.innd, log)

    def stop_innd(self):
        """ctlinnd shutdown (innd writes out the active file, history and overview), then waits."""
        if self.innd is None or self.innd.poll() is not None:
            return
        try:
            self.run([str(INN_BIN / "ctlinnd"), "-t", "30", "shutdown", "benchmark done"])
            self.innd.wait(timeout=60)
        except (RuntimeError, subprocess.TimeoutExpired):
            pass
        stop(self.innd)

    def start_nnrpd(self):
        log = self.root / "log" / "nnrpd.err"
        with open(log, "wb") as err:
            self.nnrpd = subprocess.Popen(
                [str(INN_BIN / "nnrpd"), "-D", "-f", "-b", "127.0.0.1", "-p",
                 str(self.nnrpd_port)],
                env=self.env, cwd=self.root, stdout=subprocess.DEVNULL, stderr=err)
        wait_greeting(self.nnrpd_port, self.nnrpd, log)

    def reader(self):
        """The nnrpd process serving our one connection (nnrpd -D forks one per connection; the
        ones of earlier connections end once those are closed)."""
        deadline = time.monotonic() + 5
        while True:
            kids = children(self.nnrpd.pid)
            if len(kids) == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        if len(kids) != 1:
            raise RuntimeError("nnrpd has %d connection processes, not 1" % len(kids))
        return kids[0]

    def close(self):
        stop(self.nnrpd)
        self.stop_innd()
        shutil.rmtree(self.root, ignore_errors=True)


def feed(source_port, innd_port, count):
    """Reads articles 1..count from protofarm (pipelined ARTICLE) and streams each into innd
    (TAKETHIS, RFC 4644); returns (accepted, seconds). innd numbers them in arrival order."""
    t0 = time.perf_counter()
    src = socket.create_connection(("127.0.0.1", source_port), timeout=60)
    dst = socket.create_connection(("127.0.0.1", innd_port), timeout=60)
    srcf = src.makefile("rb", buffering=1 << 20)
    dstf = dst.makefile("rb", buffering=1 << 16)
    failure = []
    try:
        srcf.readline()
        src.sendall(b"GROUP %s\r\n" % GROUP.encode())
        if not srcf.readline().startswith(b"211"):
            raise RuntimeError("protofarm has no group " + GROUP)
        if not dstf.readline().startswith(b"200"):
            raise RuntimeError("innd does not take articles from here")
        dst.sendall(b"MODE STREAM\r\n")
        reply = dstf.readline()
        if not reply.startswith(b"203"):
            raise RuntimeError("MODE STREAM: %r" % reply)

        def writer():
            try:
                batch = 200
                for first in range(1, count + 1, batch):
                    numbers = range(first, min(count, first + batch - 1) + 1)
                    src.sendall(b"".join(b"ARTICLE %d\r\n" % n for n in numbers))
                    out = []
                    for _ in numbers:
                        status = srcf.readline()
                        if not status.startswith(b"220"):
                            raise RuntimeError("ARTICLE: %r" % status)
                        lines = [b"TAKETHIS " + status.split()[2] + b"\r\n"]
                        while True:
                            line = srcf.readline()
                            lines.append(line)  # dot-stuffed as it came, "." line included
                            if line == b".\r\n":
                                break
                            if not line:
                                raise RuntimeError("protofarm closed the connection")
                        out.append(b"".join(lines))
                    dst.sendall(b"".join(out))
            except Exception as e:  # reported by the reading side, which innd's close wakes
                failure.append(e)
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        accepted = 0
        refused = []
        for _ in range(count):
            reply = dstf.readline()
            if not reply:
                break
            if reply.startswith(b"239"):
                accepted += 1
            elif len(refused) < 3:
                refused.append(reply.decode(errors="replace").strip())
        thread.join(timeout=60)
        if failure:
            raise RuntimeError("feeding INN: %s" % failure[0])
        if accepted != count:
            raise RuntimeError("innd took %d of %d articles: %s" % (accepted, count,
                                                                     "; ".join(refused)))
        for sock in (src, dst):
            sock.sendall(b"QUIT\r\n")
        return accepted, time.perf_counter() - t0
    finally:
        for f in (srcf, dstf):
            f.close()
        src.close()
        dst.close()


# --- the benchmark ------------------------------------------------------------------------------

def run(binary, tmp, report, results, quick, farm_class, proc_status, median):
    """Adds the nntp figures to the report."""
    fed = 10000 if quick else COUNT
    over_reps = 3 if quick else 7
    article_count = 2000 if quick else 20000
    article_reps = 1 if quick else 5
    rss_runs = 2 if quick else 5
    out = {"articles": COUNT, "fed_to_inn": fed, "over_reps": over_reps,
           "article_count": article_count, "article_reps": article_reps,
           "over_s": {"protofarm": [], "protofarm_100k": [], "inn": []},
           "over_cpu_s": {"protofarm": [], "protofarm_100k": [], "inn": []},
           "articles_per_s": {"protofarm": [], "inn": []}}
    results["nntp"] = out
    scenario = Path(tmp) / "nntp.yaml"
    scenario.write_text(SCENARIO)

    # Idle memory right after ready, a fresh launch each time.
    rss = []
    for _ in range(rss_runs):
        with farm_class(binary, scenario, None, Path(tmp) / "nntp-ready.json") as farm:
            rss.append(proc_status(farm.pid)["VmRSS"] / MIB)
    out["idle_rss_mib"] = rss

    ok, why = inn_available()
    inn = None
    base = str(Path(tmp).parent)
    try:
        if ok:
            inn = Inn(base)
            try:
                inn.setup()
                inn.start_innd()
                with farm_class(binary, scenario, None,
                                Path(tmp) / "nntp-feed-ready.json") as farm:
                    _, seconds = feed(farm.address("news")[1], inn.innd_port, fed)
                inn.stop_innd()  # writes everything out; nnrpd reads the spool and overview
                inn.start_nnrpd()
                out["inn_feed_s"] = seconds
                out["inn_storage"] = "cnfs, tradindexed overview"
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                why = "INN did not start or take the articles: %s" % e
                inn.close()
                inn = None
        if not inn:
            out["inn_skipped"] = why

        transcripts = Path(tempfile.mkdtemp(prefix="nntp-t-", dir=tmp))
        with farm_class(binary, scenario, transcripts, Path(tmp) / "nntp-ready.json") as farm:
            port = farm.address("news")[1]
            servers = {"protofarm": (port, lambda: farm.pid)}
            if inn:
                servers["inn"] = (inn.nnrpd_port, inn.reader)
            # Warm-up (both servers), and the check that both serve the same articles.
            ours, theirs = [], []
            over_seconds(port, fed, servers["protofarm"][1], ours)
            if inn:
                over_seconds(inn.nnrpd_port, fed, inn.reader, theirs)
                if ours != theirs:
                    raise RuntimeError("INN and protofarm list different articles")
            for rep in range(over_reps):
                order = ["protofarm", "inn"] if rep % 2 == 0 else ["inn", "protofarm"]
                for name in order:
                    if name == "inn" and not inn:
                        continue
                    seconds, cpu = over_seconds(servers[name][0], fed, servers[name][1])
                    out["over_s"][name].append(seconds)
                    out["over_cpu_s"][name].append(cpu)
                if fed != COUNT:
                    seconds, cpu = over_seconds(port, COUNT, servers["protofarm"][1])
                    out["over_s"]["protofarm_100k"].append(seconds)
                    out["over_cpu_s"]["protofarm_100k"].append(cpu)
            if fed == COUNT:
                out["over_s"]["protofarm_100k"] = out["over_s"]["protofarm"]
                out["over_cpu_s"]["protofarm_100k"] = out["over_cpu_s"]["protofarm"]
            out["rss_after_over_mib"] = proc_status(farm.pid)["VmRSS"] / MIB
            for rep in range(article_reps):
                out["articles_per_s"]["protofarm"].append(articles_per_second(port, article_count))
                if inn:
                    out["articles_per_s"]["inn"].append(
                        articles_per_second(inn.nnrpd_port, article_count))
            out["rss_after_article_mib"] = proc_status(farm.pid)["VmRSS"] / MIB
        events = transcripts / "events.jsonl"
        if not events.exists() or events.stat().st_size == 0:
            raise RuntimeError("recording on, but nothing was recorded")
        shutil.rmtree(transcripts, ignore_errors=True)
    finally:
        if inn:
            inn.close()

    # The report.
    over, cpu = out["over_s"], out["over_cpu_s"]

    def spread(name):
        return "%d runs, min %.3f, max %.3f; the server on a CPU %.3f s" % (
            len(over[name]), min(over[name]), max(over[name]), median(cpu[name]))

    p100k = median(over["protofarm_100k"])
    report.add("nntp OVER 1-%d, protofarm, recording on" % COUNT, p100k, "s",
               "< %g s" % TARGETS["nntp_over_100k_s"], p100k < TARGETS["nntp_over_100k_s"],
               spread("protofarm_100k"))
    if inn:
        label = "1-%d" % fed
        if fed != COUNT:
            report.add("nntp OVER %s, protofarm, recording on" % label,
                       median(over["protofarm"]), "s",
                       note=spread("protofarm"))
        report.add("reference: INN nnrpd OVER %s" % label, median(over["inn"]), "s",
                   note=spread("inn") + "; CNFS spool, tradindexed overview; feeding innd the "
                   "%d articles took %.1f s (not timed)" % (fed, out["inn_feed_s"]))
        ratio = median(over["protofarm"]) / median(over["inn"])
        out["over_vs_inn"] = ratio
        out["over_cpu_vs_inn"] = median(cpu["protofarm"]) / median(cpu["inn"])
        report.add("nntp OVER time / INN's, %s" % label, ratio, "x",
                   "<= %g" % TARGETS["nntp_over_vs_inn"], ratio <= TARGETS["nntp_over_vs_inn"],
                   "on a CPU: %.2f x INN's" % out["over_cpu_vs_inn"])
    else:
        report.skip("reference: INN nnrpd OVER", out["inn_skipped"])
        report.skip("nntp OVER time / INN's", out["inn_skipped"])
    rate = out["articles_per_s"]
    report.add("nntp ARTICLE/s, 1 connection, protofarm, recording on",
               median(rate["protofarm"]), "/s",
               note="ARTICLE 1 to %d one at a time, %d run(s)" % (article_count,
                                                                   len(rate["protofarm"])))
    if inn:
        report.add("reference: INN nnrpd ARTICLE/s, 1 connection", median(rate["inn"]), "/s")
        out["articles_vs_inn"] = median(rate["protofarm"]) / median(rate["inn"])
        report.add("nntp ARTICLE/s / INN's", out["articles_vs_inn"], "x")
    else:
        report.skip("reference: INN nnrpd ARTICLE/s", out["inn_skipped"])
    limit = TARGETS["nntp_idle_rss_100k_mib"]
    report.add("nntp idle RSS, 100,000 generated articles", median(rss), "MiB",
               "< %g MiB" % limit, median(rss) < limit, "right after ready, %d launches" % len(rss))
    report.add("nntp RSS after the OVER runs", out["rss_after_over_mib"], "MiB",
               "< %g MiB" % limit, out["rss_after_over_mib"] < limit)
    report.add("nntp RSS after the ARTICLE runs", out["rss_after_article_mib"], "MiB")
