"""The ftp benchmarks of bench/bench.py, against vsftpd and pyftpdlib in the same run.

- download throughput: curl fetches a 1 GiB file once per run and reports its average speed.
  protofarm serves a generated `{size: 1GiB}` entry (recording on: the transfer's size and
  sha256 are recorded); vsftpd and pyftpdlib serve a 1 GiB file of the same kind of bytes from
  the benchmark's temporary folder (in the page cache after the first read).
- sessions/s: 8 clients at once, each doing whole sessions one after the other (connect,
  anonymous login, PASV, LIST, RETR of a 1 KiB file, QUIT), for a fixed number of sessions; the
  rate is all sessions over the wall time. The client is bench/ftp_load.cpp (C++, one thread;
  `make bench` builds it): a client in Python is slower than pyftpdlib, and would measure
  itself. Without the binary, 8 Python ftplib processes stand in, and the report says so.
- idle RSS of an ftp server whose tree has 10,000 files.

vsftpd runs from bench/vsftpd.conf (anonymous, read-only, no chroot, in the foreground as the
launching user) with its port and root given on the command line; pyftpdlib runs as
`python3 -m pyftpdlib` (anonymous, read-only). Both are started and stopped here, on loopback.
"""

import ftplib
import multiprocessing
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GIB = 1 << 30

TARGETS = {
    "ftp_throughput_vs_vsftpd": 1.0,    # protofarm MB/s / vsftpd MB/s
    "ftp_sessions_vs_pyftpdlib": 5.0,   # protofarm sessions/s / pyftpdlib's
    "ftp_idle_rss_10k_mib": 20.0,       # a server with a 10,000-file tree
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_banner(port, proc, timeout=20.0):
    """Waits until the server on port sends its 220 greeting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"220"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError("no 220 greeting on port %d within %ss" % (port, timeout))


class External:
    """vsftpd or pyftpdlib serving `root` on a free loopback port."""

    def __init__(self, kind, root, tmp):
        self.kind, self.port = kind, free_port()
        if kind == "vsftpd":
            binary = shutil.which("vsftpd") or "/usr/sbin/vsftpd"
            self.cmd = [binary, str(HERE / "vsftpd.conf"), "-olisten_port=%d" % self.port,
                        "-oanon_root=%s" % root]
        else:
            self.cmd = ["/usr/bin/python3", "-m", "pyftpdlib", "-i", "127.0.0.1",
                        "-p", str(self.port), "-d", str(root)]
        self.proc = None

    def __enter__(self):
        # Its log goes to a file: a pipe nobody reads fills up, and the server stops in write().
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self.log)
        try:
            wait_banner(self.port, self.proc)
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    @property
    def pid(self):
        return self.proc.pid


def available(kind):
    if kind == "vsftpd":
        return bool(shutil.which("vsftpd") or Path("/usr/sbin/vsftpd").exists())
    probe = subprocess.run(["/usr/bin/python3", "-c", "import pyftpdlib"], capture_output=True)
    return probe.returncode == 0


def download_mbps(port, path, timeout=300):
    out = subprocess.run(
        ["curl", "--silent", "--show-error", "--max-time", str(timeout), "-o", "/dev/null",
         "-w", "%{speed_download} %{size_download}", "ftp://127.0.0.1:%d/%s" % (port, path)],
        capture_output=True, text=True, timeout=timeout + 10)
    if out.returncode != 0:
        raise RuntimeError("curl failed (%d): %s" % (out.returncode, out.stderr.strip()))
    speed, size = out.stdout.split()
    if int(float(size)) != GIB:
        raise RuntimeError("downloaded %s bytes, not %d" % (size, GIB))
    return float(speed) / 1e6


def _sessions(port, count, result):
    done = 0
    for _ in range(count):
        f = ftplib.FTP()
        f.connect("127.0.0.1", port, timeout=10)
        f.login()
        f.set_pasv(True)
        f.retrlines("LIST", lambda line: None)
        f.retrbinary("RETR small.txt", lambda data: None)
        f.quit()
        done += 1
    result.put(done)


def sessions_per_second(port, clients, each, load=None):
    """All sessions over the wall time. With `load` (bench/ftp_load.cpp, built by make bench)
    the client is C++; without it, one Python ftplib process per client."""
    if load:
        out = subprocess.run([str(load), "127.0.0.1", str(port), str(clients), str(each)],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError("ftp_load failed: " + out.stderr.strip()[-500:])
        done, seconds = out.stdout.split()
        if int(done) != clients * each:
            raise RuntimeError("%s of %d sessions finished" % (done, clients * each))
        return int(done) / float(seconds)
    result = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_sessions, args=(port, each, result))
             for _ in range(clients)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    elapsed = time.perf_counter() - t0
    done = 0
    while not result.empty():
        done += result.get()
    if done != clients * each:
        raise RuntimeError("%d of %d sessions finished" % (done, clients * each))
    return done / elapsed


def make_root(folder):
    """The reference servers' files: a 1 GiB file and a small one."""
    folder.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1 << 20)
    with open(folder / "big.bin", "wb") as f:
        for _ in range(GIB // len(block)):
            f.write(block)
    (folder / "small.txt").write_bytes(b"x" * 1024)
    os.chmod(folder, 0o755)


SCENARIO = """name: ftp-bench
servers:
  files:
    protocol: ftp
    tree:
      /big.bin: {size: 1GiB}
      /small.txt: {content: "%s"}
""" % ("x" * 1024)


def tree_scenario(files):
    lines = ["name: ftp-tree", "servers:", "  files:", "    protocol: ftp", "    tree:"]
    lines += ['      /d%03d/f%05d.txt: "file %d\\n"' % (i // 100, i, i) for i in range(files)]
    return "\n".join(lines) + "\n"


def run(binary, tmp, report, results, quick, farm_class, proc_status, median):
    """Adds the ftp figures to the report."""
    kinds = [k for k in ("vsftpd", "pyftpdlib") if available(k)]
    missing = [k for k in ("vsftpd", "pyftpdlib") if k not in kinds]
    for k in missing:
        report.skip("reference: " + k, "not installed (tools/install-deps.sh bench)")
    reps = 1 if quick else 3
    load = Path(binary).parent / "ftp_load"
    load = load if load.exists() else None
    # Each session opens 3 connections (control, two data) and leaves them in TIME_WAIT for 60 s:
    # a few thousand sessions per run keep the ephemeral ports (and bind(0) for PASV) from
    # running out, which would measure the kernel's port search instead.
    clients, each = 8, ((50 if load else 10) if quick else (100 if load else 60))
    root = Path(tmp) / "ftp-root"
    make_root(root)
    scenario = Path(tmp) / "ftp.yaml"
    scenario.write_text(SCENARIO)
    out = {"reps": reps, "clients": clients, "sessions_each": each,
           "client": "ftp_load" if load else "python ftplib",
           "throughput_mbps": {}, "sessions_per_s": {}}
    names = ["protofarm"] + kinds
    for name in names:
        out["throughput_mbps"][name] = []
        out["sessions_per_s"][name] = []
    for rep in range(reps):
        for name in names:
            if name == "protofarm":
                transcripts = Path(tempfile.mkdtemp(prefix="ftp-t-", dir=tmp))
                with farm_class(binary, scenario, transcripts, Path(tmp) / "ftp-ready.json") as farm:
                    port = farm.address("files")[1]
                    out["throughput_mbps"][name].append(download_mbps(port, "big.bin"))
                    out["sessions_per_s"][name].append(
                        sessions_per_second(port, clients, each, load))
                shutil.rmtree(transcripts, ignore_errors=True)
            else:
                with External(name, root, tmp) as server:
                    out["throughput_mbps"][name].append(download_mbps(server.port, "big.bin"))
                    out["sessions_per_s"][name].append(
                        sessions_per_second(server.port, clients, each, load))
    for name in names:
        t, s = out["throughput_mbps"][name], out["sessions_per_s"][name]
        rng = " (min %.0f, max %.0f)" % (min(t), max(t))
        report.add("ftp download MB/s, 1 GiB, %s" % name, median(t), "MB/s", note=None
                   if len(t) < 2 else name + rng)
        report.add("ftp sessions/s, %d clients, %s" % (clients, name), median(s), "/s",
                   note=None if load else "Python ftplib clients: bench/ftp_load not built")
    if "vsftpd" in kinds:
        ratio = median(out["throughput_mbps"]["protofarm"]) / median(
            out["throughput_mbps"]["vsftpd"])
        out["throughput_vs_vsftpd"] = ratio
        report.add("ftp throughput / vsftpd", ratio, "x",
                   ">= %g" % TARGETS["ftp_throughput_vs_vsftpd"],
                   ratio >= TARGETS["ftp_throughput_vs_vsftpd"])
    if "pyftpdlib" in kinds:
        ratio = median(out["sessions_per_s"]["protofarm"]) / median(
            out["sessions_per_s"]["pyftpdlib"])
        out["sessions_vs_pyftpdlib"] = ratio
        report.add("ftp sessions/s / pyftpdlib", ratio, "x",
                   ">= %g" % TARGETS["ftp_sessions_vs_pyftpdlib"],
                   ratio >= TARGETS["ftp_sessions_vs_pyftpdlib"])
    # Idle memory with a 10,000-file tree.
    tree = Path(tmp) / "ftp-tree.yaml"
    tree.write_text(tree_scenario(10000))
    rss = []
    for _ in range(2 if quick else 5):
        with farm_class(binary, tree, None, Path(tmp) / "ftp-tree-ready.json") as farm:
            rss.append(proc_status(farm.pid)["VmRSS"] / (1 << 20))
    out["idle_rss_10k_mib"] = rss
    report.add("ftp idle RSS, 10,000-file tree", median(rss), "MiB",
               "< %g MiB" % TARGETS["ftp_idle_rss_10k_mib"],
               median(rss) < TARGETS["ftp_idle_rss_10k_mib"])
    shutil.rmtree(root, ignore_errors=True)
    results["ftp"] = out
