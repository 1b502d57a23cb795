"""The ftp example scenarios (scenarios/ftp-*.yaml), each run with curl: what curl got (bytes,
exit status) and what the transcript recorded. Where curl cannot show a case (a client that
does not resume TLS sessions, a PORT to another host, the reply to one command), Python's
ftplib or a raw control connection does.

Every example must be used by a test here (ExamplesAreTested), and must validate."""

import ast
import ftplib
import re
import shutil
import socket
import ssl
import subprocess
import time
import unittest
from pathlib import Path

from farm import SCENARIOS, Farm, named_events, run
from ftp_util import commands, control_bytes, data_bytes, data_events, sha256, verbs

CURL = shutil.which("curl")
TIMEOUT = 10  # seconds, for every socket of a raw client


def example(name):
    return SCENARIOS / name


def curl(*args):
    """Runs curl (bounded); returns the CompletedProcess with stdout as bytes. Later options
    override the defaults given first (a test's own --max-time wins)."""
    return subprocess.run([CURL, "--silent", "--show-error", "--max-time", "20",
                           *map(str, args)], capture_output=True, timeout=60)


def url(farm, path="", server="ftp", scheme="ftp"):
    return f"{scheme}://{farm.host(server)}:{farm.port(server)}/{path}"


def control_replies(session):
    """What the server sent on the control connection, as one string."""
    return control_bytes(session).decode()


def one(session, name):
    """The only event called `name` in a session."""
    found = named_events(session, name)
    if len(found) != 1:
        raise AssertionError(f"expected one {name} event, found {found}")
    return found[0]


def saved(farm, event):
    """The bytes of a payload the transcript saved (an upload's `file`)."""
    return (farm.transcripts / event["file"]).read_bytes()


def crlf_to_lf(data):
    return data.replace(b"\r\n", b"\n")


class Control:
    """A raw FTP control connection: send one command, read one whole reply (multi-line replies
    included). Every read is bounded by TIMEOUT."""

    def __init__(self, farm, server="ftp", context=None):
        sock = socket.create_connection(farm.address(server), timeout=TIMEOUT)
        if context is not None:
            sock = context.wrap_socket(sock, server_hostname=farm.host(server))
        self.sock = sock
        self.file = sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self):
        first = self.file.readline()
        if not first.endswith(b"\r\n"):
            raise AssertionError(f"no whole reply line: {first!r}")
        text, line = first, first
        # RFC 959 4.2: a multi-line reply ("123-...") ends with a line that starts "123 ".
        while first[3:4] == b"-" and not (line is not first and line.startswith(first[:3] + b" ")):
            line = self.file.readline()
            if not line:
                raise AssertionError(f"closed inside a multi-line reply: {text!r}")
            text += line
        return text.decode()

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.file.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def login(control, user="anonymous", password="ci@example.test"):
    assert control.cmd(f"USER {user}").startswith("331 "), "USER"
    reply = control.cmd(f"PASS {password}")
    assert reply.startswith("230 "), reply


class Validate(unittest.TestCase):
    def test_every_example_validates(self):
        paths = sorted(SCENARIOS.glob("ftp-*.yaml"))
        self.assertGreaterEqual(len(paths), 11)
        for path in paths:
            with self.subTest(path.name):
                result = run("validate", path)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


class ExamplesAreTested(unittest.TestCase):
    def test_every_ftp_example_is_used_by_a_test(self):
        # Each scenarios/ftp-*.yaml is named in a test_* method of this file (not only in a
        # list), and every example a test names exists.
        tree = ast.parse(Path(__file__).read_text())
        used = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                for inner in ast.walk(node):
                    if (isinstance(inner, ast.Constant) and isinstance(inner.value, str)
                            and re.fullmatch(r"ftp-[\w.-]+\.yaml", inner.value)):
                        used.add(inner.value)
        files = {p.name for p in SCENARIOS.glob("ftp-*.yaml")}
        self.assertEqual(sorted(files - used), [], "examples no test uses")
        self.assertEqual(sorted(used - files), [], "examples tests name that do not exist")


@unittest.skipUnless(CURL, "curl is not installed")
class Anonymous(unittest.TestCase):
    def test_listings_and_downloads(self):
        path = example("ftp-anonymous.yaml")
        with Farm(path=path) as farm:
            listing = curl(url(farm, "pub/"))
            self.assertEqual(listing.returncode, 0, listing.stderr)
            names = curl("-l", url(farm, "pub/"))
            readme = curl(url(farm, "pub/readme.txt"))
            itself = curl("--ftp-method", "nocwd", url(farm, "pub/this-scenario.yaml"))
        self.assertEqual(farm.returncode, 0, farm.stderr)
        lines = crlf_to_lf(listing.stdout).decode().splitlines()
        self.assertEqual(len(lines), 4, lines)
        self.assertRegex(lines[0], r"^drwxr-xr-x +2 ftp +ftp +0 \w{3} \d\d .* empty$")
        self.assertRegex(lines[1], r"^-rw-r--r-- +1 ftp +ftp +78 .* readme\.txt$")
        self.assertRegex(lines[2], r"^d.* releases$")
        self.assertRegex(lines[3], rf"^-.* {path.stat().st_size} .* this-scenario\.yaml$")
        self.assertEqual(crlf_to_lf(names.stdout),
                         b"empty\nreadme.txt\nreleases\nthis-scenario.yaml\n")
        self.assertEqual(readme.stdout, b"Welcome to the protofarm anonymous FTP example.\n"
                                        b"Everything here is read-only.\n")
        # {file: ...}: the scenario file itself, byte for byte; nocwd: one RETR with the path.
        self.assertEqual(itself.returncode, 0, itself.stderr)
        self.assertEqual(itself.stdout, path.read_bytes())

        first = farm.session("ftp", 1)
        self.assertEqual(control_replies(first).splitlines()[0],
                         "220 ftp.example.test anonymous FTP ready")
        self.assertEqual(one(first, "login")["user"], "anonymous")
        self.assertIn(("LIST", ""), commands(first))
        opened = one(first, "data_open")
        self.assertEqual((opened["command"], opened["path"], opened["mode"], opened["tls"]),
                         ("LIST", "/pub", "passive", False))
        closed = one(first, "data_close")
        self.assertEqual((closed["channel"], closed["reason"]), ("data", "complete"))
        # A listing is recorded on the data channel, byte for byte.
        self.assertEqual(closed["bytes"], len(data_bytes(first)))
        self.assertEqual(crlf_to_lf(data_bytes(first)), crlf_to_lf(listing.stdout))
        self.assertIn(("NLST", ""), commands(farm.session("ftp", 2)))
        # A file is not recorded byte by byte: its size and digest are.
        fourth = farm.session("ftp", 4)
        self.assertNotIn("CWD", verbs(fourth))
        self.assertIn(("RETR", "pub/this-scenario.yaml"), commands(fourth))
        self.assertEqual(data_events(fourth), [])
        closed = one(fourth, "data_close")
        self.assertEqual((closed["bytes"], closed["sha256"]),
                         (len(itself.stdout), sha256(itself.stdout)))

    def test_generated_file_whole_and_in_ranges(self):
        path = example("ftp-anonymous.yaml")
        tarball = "pub/releases/tool-1.0.tar.gz"
        with Farm(path=path) as farm:
            whole = curl("--ftp-method", "singlecwd", url(farm, tarball))
            self.assertEqual(whole.returncode, 0, whole.stderr)
            middle = curl("-r", "1000-1999", url(farm, tarball))
            self.assertEqual(middle.returncode, 0, middle.stderr)
        data = whole.stdout
        self.assertEqual(len(data), 1024 * 1024)
        self.assertEqual(middle.stdout, data[1000:2000])
        first, second = farm.session("ftp", 1), farm.session("ftp", 2)
        self.assertIn(("CWD", "pub/releases"), commands(first))  # singlecwd: one CWD
        self.assertIn(("SIZE", "tool-1.0.tar.gz"), commands(first))
        self.assertIn("213 1048576\r\n", control_replies(first))
        self.assertEqual(one(first, "data_close")["sha256"], sha256(data))
        self.assertEqual([c for c in commands(second) if c[0] == "CWD"],
                         [("CWD", "pub"), ("CWD", "releases")])  # multicwd, curl's default
        self.assertIn(("REST", "1000"), commands(second))
        self.assertIn("350 ", control_replies(second))
        # Generated from the seed: another run of the same scenario sends the same bytes.
        with Farm(path=path) as again:
            repeat = curl(url(again, tarball))
        self.assertEqual(sha256(repeat.stdout), sha256(data))

    def test_read_only_and_errors(self):
        with Farm(path=example("ftp-anonymous.yaml")) as farm:
            upload = curl("-T", example("ftp-anonymous.yaml"), url(farm, "pub/"))
            missing = curl(url(farm, "pub/nothing.txt"))
            stranger = curl("-u", "alice:secret", url(farm, ""))
            ftp_user = curl("-u", "ftp:me@example.test", url(farm, "pub/readme.txt"))
            with Control(farm) as control:
                login(control)
                mkd = control.cmd("MKD /pub/new")
                dele = control.cmd("DELE /pub/readme.txt")
        self.assertEqual(upload.returncode, 25, upload.stderr)  # CURLE_UPLOAD_FAILED
        self.assertIn(b"550", upload.stderr)
        self.assertEqual(missing.returncode, 78, missing.stderr)  # CURLE_REMOTE_FILE_NOT_FOUND
        self.assertEqual(stranger.returncode, 67, stranger.stderr)  # CURLE_LOGIN_DENIED
        self.assertEqual(ftp_user.returncode, 0, ftp_user.stderr)
        self.assertTrue(mkd.startswith("550 "), mkd)
        self.assertTrue(dele.startswith("550 "), dele)
        self.assertEqual(named_events(farm.session("ftp", 1), "upload"), [])
        self.assertEqual(named_events(farm.session("ftp", 1), "data_open"), [])
        self.assertEqual(one(farm.session("ftp", 3), "login_failed")["user"], "alice")
        self.assertEqual(one(farm.session("ftp", 4), "login")["user"], "ftp")


@unittest.skipUnless(CURL, "curl is not installed")
class Home(unittest.TestCase):
    def test_home_folder_absolute_paths_and_permissions(self):
        with Farm(path=example("ftp-home.yaml")) as farm:
            notes = curl("-u", "alice:secret", url(farm, "notes.txt"))
            motd = curl("-u", "alice:secret", url(farm, "%2Fpub/motd.txt"))
            to_pub = curl("-u", "alice:secret", "-T", example("ftp-home.yaml"),
                          url(farm, "%2Fpub/"))
            bob_reads = curl("-u", "bob:hunter2", url(farm, "%2Fhome/alice/notes.txt"))
            bob_writes = curl("-u", "bob:hunter2", "-T", example("ftp-home.yaml"), url(farm))
            wrong = curl("-u", "alice:wrong", url(farm))
            anonymous = curl(url(farm))
        self.assertEqual((notes.returncode, notes.stdout), (0, b"Remember the milk.\n"))
        self.assertEqual((motd.returncode, motd.stdout), (0, b"Everyone may read this.\n"))
        self.assertEqual(to_pub.returncode, 25, to_pub.stderr)
        self.assertIn(b"550", to_pub.stderr)
        self.assertEqual((bob_reads.returncode, bob_reads.stdout), (0, b"Remember the milk.\n"))
        self.assertEqual(bob_writes.returncode, 25, bob_writes.stderr)
        self.assertEqual(wrong.returncode, 67, wrong.stderr)
        self.assertEqual(anonymous.returncode, 67, anonymous.stderr)

        first = farm.session("ftp", 1)
        self.assertIn('257 "/home/alice" is the current directory\r\n', control_replies(first))
        self.assertEqual(one(first, "data_open")["path"], "/home/alice/notes.txt")
        self.assertIn(("CWD", "/"), commands(farm.session("ftp", 2)))  # %2F: from the root
        self.assertEqual(one(farm.session("ftp", 2), "data_open")["path"], "/pub/motd.txt")
        self.assertEqual(named_events(farm.session("ftp", 3), "upload"), [])
        self.assertEqual(one(farm.session("ftp", 6), "login_failed")["user"], "alice")
        self.assertEqual(one(farm.session("ftp", 7), "login_failed")["user"], "anonymous")

    def test_upload_creating_folders_then_download(self):
        report = b"quarter,total\nq1,10\n"
        with Farm(path=example("ftp-home.yaml")) as farm:
            source = farm.tmp / "report.csv"
            source.write_bytes(report)
            up = curl("-u", "alice:secret", "-T", source, "--ftp-create-dirs",
                      url(farm, "reports/2026/"))
            self.assertEqual(up.returncode, 0, up.stderr)
            down = curl("-u", "alice:secret", url(farm, "reports/2026/report.csv"))
            listing = curl("-u", "alice:secret", "-l", url(farm, "reports/2026/"))
        self.assertEqual(down.stdout, report)
        self.assertEqual(crlf_to_lf(listing.stdout), b"report.csv\n")
        first = farm.session("ftp", 1)
        self.assertIn(("MKD", "reports"), commands(first))
        self.assertIn(("MKD", "2026"), commands(first))
        self.assertIn(("STOR", "report.csv"), commands(first))
        upload = one(first, "upload")
        self.assertEqual((upload["path"], upload["size"], upload["sha256"], upload["accepted"]),
                         ("/home/alice/reports/2026/report.csv", len(report), sha256(report),
                          True))
        self.assertEqual(saved(farm, upload), report)
        closed = one(first, "data_close")
        self.assertEqual((closed["reason"], closed["bytes"]), ("complete", len(report)))

    def test_type_a_stores_lf_and_sends_crlf(self):
        text = b"first line\nsecond line\n"
        with Farm(path=example("ftp-home.yaml")) as farm:
            source = farm.tmp / "lines.txt"
            source.write_bytes(text)
            # -B: TYPE A; --crlf: curl sends CRLF line ends, as TYPE A wants them on the wire.
            up = curl("-u", "alice:secret", "-B", "--crlf", "-T", source, url(farm))
            self.assertEqual(up.returncode, 0, up.stderr)
            binary = curl("-u", "alice:secret", url(farm, "lines.txt"))
            ascii_mode = curl("-u", "alice:secret", "-B", url(farm, "lines.txt"))
        wire = text.replace(b"\n", b"\r\n")
        first = farm.session("ftp", 1)
        self.assertIn(("TYPE", "A"), commands(first))
        self.assertEqual(one(first, "data_close")["bytes"], len(wire))
        upload = one(first, "upload")
        self.assertEqual((upload["size"], upload["sha256"]), (len(text), sha256(text)))
        self.assertEqual(saved(farm, upload), text)
        self.assertEqual(binary.stdout, text)  # TYPE I: the stored bytes
        third = farm.session("ftp", 3)
        self.assertIn(("TYPE", "A"), commands(third))
        closed = one(third, "data_close")
        self.assertEqual((closed["bytes"], closed["sha256"]), (len(wire), sha256(wire)))
        self.assertEqual(ascii_mode.stdout, text)  # curl turns CRLF back into LF

    def test_size_is_the_stored_size_in_either_type(self):
        # As vsftpd answers: SIZE is the stored size in TYPE A too ("Remember the milk.\n": 19
        # bytes stored, 20 sent in TYPE A), so ftplib's size() after a listing gives the size.
        with Farm(path=example("ftp-home.yaml")) as farm:
            with Control(farm) as control:
                login(control, "alice", "secret")
                self.assertEqual(control.cmd("TYPE I"), "200 Switching to Binary mode.\r\n")
                self.assertEqual(control.cmd("SIZE notes.txt"), "213 19\r\n")
                self.assertEqual(control.cmd("TYPE A"), "200 Switching to ASCII mode.\r\n")
                self.assertEqual(control.cmd("SIZE notes.txt"), "213 19\r\n")


@unittest.skipUnless(CURL, "curl is not installed")
class DiskFull(unittest.TestCase):
    def test_upload_runs_then_552_and_is_not_stored(self):
        payload = bytes(range(256)) * 1200  # 300 KiB: several reads on the data connection
        with Farm(path=example("ftp-disk-full.yaml")) as farm:
            source = farm.tmp / "backup.tar"
            source.write_bytes(payload)
            up = curl("-u", "carol:secret", "-T", source, url(farm))
            after = curl("-u", "carol:secret", "-l", url(farm))
        # The whole upload went through, then 552: curl says the remote disk is full.
        self.assertEqual(up.returncode, 70, up.stderr)  # CURLE_REMOTE_DISK_FULL
        self.assertEqual(after.returncode, 0, after.stderr)
        self.assertEqual(after.stdout, b"")  # nothing was stored
        first = farm.session("ftp", 1)
        self.assertEqual(one(first, "rule")["rule"], "disk-full")
        replies = control_replies(first)
        self.assertRegex(replies, r"150 Ok to send data\.\r\n552 Requested file action aborted: "
                                  r"exceeded storage allocation\r\n")
        self.assertNotIn("226 ", replies)
        opened = one(first, "data_open")
        self.assertEqual((opened["command"], opened["path"]), ("STOR", "/upload/backup.tar"))
        closed = one(first, "data_close")
        self.assertEqual((closed["reason"], closed["bytes"], closed["sha256"]),
                         ("complete", len(payload), sha256(payload)))
        upload = one(first, "upload")
        self.assertEqual((upload["path"], upload["size"], upload["sha256"], upload["accepted"]),
                         ("/upload/backup.tar", len(payload), sha256(payload), False))
        self.assertEqual(saved(farm, upload), payload)


@unittest.skipUnless(CURL, "curl is not installed")
class BadPasvAddress(unittest.TestCase):
    def test_curl_skips_the_pasv_address_and_works(self):
        with Farm(path=example("ftp-bad-pasv-address.yaml")) as farm:
            got = curl("--disable-epsv", url(farm, "pub/file.txt"))
            with Control(farm) as control:
                login(control)
                pasv = control.cmd("PASV")
                epsv = control.cmd("EPSV")
                control.cmd("QUIT")
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, b"reached through the control connection's address\n")
        first = farm.session("ftp", 1)
        self.assertIn(("PASV", ""), commands(first))
        m = re.search(r"227 Entering Passive Mode \(10,255,255,1,(\d+),(\d+)\)\.\r\n",
                      control_replies(first))
        self.assertIsNotNone(m, control_replies(first))
        opened = one(first, "data_open")
        self.assertEqual(opened["port"], int(m[1]) * 256 + int(m[2]))
        self.assertTrue(opened["peer"].startswith("127.0.0.1:"), opened)
        self.assertRegex(pasv, r"^227 Entering Passive Mode \(10,255,255,1,\d+,\d+\)\.\r\n$")
        self.assertRegex(epsv, r"^229 Entering Extended Passive Mode \(\|\|\|\d+\|\)\r\n$")

    def test_a_client_that_trusts_the_address_fails(self):
        # The same scenario with an address on loopback that nobody listens on (the port is
        # open on 127.0.0.1 only), so that the test never leaves this machine: a client that
        # trusts the 227 reply cannot connect.
        text = example("ftp-bad-pasv-address.yaml").read_text()
        self.assertIn("passive_address: 10.255.255.1", text)
        with Farm(text=text.replace("10.255.255.1", "127.0.0.2")) as farm:
            got = curl("--disable-epsv", "--no-ftp-skip-pasv-ip", "--connect-timeout", "2",
                       url(farm, "pub/file.txt"))
        self.assertIn(got.returncode, (7, 15), got.stderr)  # couldn't connect (15: old curl)
        self.assertEqual(got.stdout, b"")
        first = farm.session("ftp", 1)
        self.assertIn("227 Entering Passive Mode (127,0,0,2,", control_replies(first))
        self.assertNotIn("RETR", verbs(first))
        self.assertEqual(named_events(first, "data_open"), [])


@unittest.skipUnless(CURL, "curl is not installed")
class CutTransfer(unittest.TestCase):
    def test_cut_after_one_mebibyte_then_426(self):
        with Farm(path=example("ftp-cut-transfer.yaml")) as farm:
            cut = curl(url(farm, "pub/big.bin"))
            small = curl(url(farm, "pub/small.txt"))
        self.assertEqual(cut.returncode, 18, cut.stderr)  # CURLE_PARTIAL_FILE
        self.assertEqual(len(cut.stdout), 1024 * 1024)
        self.assertEqual((small.returncode, small.stdout), (0, b"not cut\n"))
        first = farm.session("ftp", 1)
        self.assertEqual(one(first, "rule")["rule"], "cut")
        self.assertIn("213 4194304\r\n", control_replies(first))
        self.assertIn("150 Opening BINARY mode data connection for big.bin (4194304 bytes).\r\n"
                      "426 Connection closed; transfer aborted.\r\n", control_replies(first))
        self.assertEqual(one(first, "data_open")["path"], "/pub/big.bin")
        closed = one(first, "data_close")
        self.assertEqual((closed["channel"], closed["reason"], closed["bytes"]),
                         ("data", "cut", 1024 * 1024))
        self.assertEqual(closed["sha256"], sha256(cut.stdout))
        second = farm.session("ftp", 2)
        self.assertEqual(named_events(second, "rule"), [])
        self.assertEqual(one(second, "data_close")["reason"], "complete")
        self.assertIn("226 Transfer complete.\r\n", control_replies(second))


@unittest.skipUnless(CURL, "curl is not installed")
class CwdOnce(unittest.TestCase):
    def test_curl_fails_once_then_succeeds_and_verify_passes(self):
        path = example("ftp-cwd-once.yaml")
        with Farm(path=path) as farm:
            first = curl(url(farm, "pub/data/report.csv"))
            second = curl(url(farm, "pub/data/report.csv"))
        self.assertEqual(first.returncode, 9, first.stderr)  # CURLE_REMOTE_ACCESS_DENIED
        self.assertEqual((second.returncode, second.stdout), (0, b"day,count\nmonday,3\n"))
        one_ = farm.session("ftp", 1)
        self.assertEqual(one(one_, "rule")["rule"], "cwd-fails-once")
        self.assertIn("550 Failed to change directory.\r\n", control_replies(one_))
        self.assertNotIn("RETR", verbs(one_))
        self.assertEqual(named_events(farm.session("ftp", 2), "rule"), [])
        result = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_verify_fails_when_the_client_never_comes_back(self):
        path = example("ftp-cwd-once.yaml")
        with Farm(path=path) as farm:
            self.assertEqual(curl(url(farm, "pub/data/report.csv")).returncode, 9)
        result = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)

    def test_a_scripted_failure_leaves_the_working_folder(self):
        with Farm(path=example("ftp-cwd-once.yaml")) as farm:
            with Control(farm) as control:
                login(control)
                self.assertEqual(control.cmd("CWD pub"), "550 Failed to change directory.\r\n")
                self.assertEqual(control.cmd("PWD"), '257 "/" is the current directory\r\n')
                self.assertEqual(control.cmd("CWD pub"),
                                 "250 Directory successfully changed.\r\n")
                self.assertEqual(control.cmd("PWD"), '257 "/pub" is the current directory\r\n')
                self.assertEqual(control.cmd("QUIT"), "221 Goodbye.\r\n")


@unittest.skipUnless(CURL, "curl is not installed")
class SlowListing(unittest.TestCase):
    def test_paced_list_arrives_whole_and_late(self):
        with Farm(path=example("ftp-slow-listing.yaml")) as farm:
            start = time.monotonic()
            slow = curl(url(farm, "archive/"))
            elapsed = time.monotonic() - start
            names = curl("-l", url(farm, "archive/"))
        self.assertEqual(slow.returncode, 0, slow.stderr)
        lines = crlf_to_lf(slow.stdout).decode().splitlines()
        self.assertEqual(len(lines), 16)
        self.assertRegex(lines[0], r"^-rw-r--r-- .* 8 \w{3} .* log-2025-01\.txt$")
        self.assertRegex(lines[15], r" log-2025-16\.txt$")
        # About 1.1 KiB at 512 bytes a second: over 2 seconds; 1.5 leaves room for rounding.
        self.assertGreater(elapsed, 1.5)
        first = farm.session("ftp", 1)
        self.assertEqual(one(first, "rule")["rule"], "slow-list")
        paced = data_events(first)
        self.assertGreater(len(paced), 4, "a paced listing is written in many pieces")
        listing = data_bytes(first)
        self.assertEqual(crlf_to_lf(listing), crlf_to_lf(slow.stdout))
        closed = one(first, "data_close")
        self.assertEqual((closed["reason"], closed["bytes"]), ("complete", len(listing)))
        self.assertGreater(closed["t_ms"] - paced[0]["t_ms"], 1500)
        # NLST has no rule: the names come at once, in one write.
        self.assertEqual(crlf_to_lf(names.stdout).decode().splitlines(),
                         [f"log-2025-{i:02d}.txt" for i in range(1, 17)])
        second = farm.session("ftp", 2)
        self.assertEqual(named_events(second, "rule"), [])
        self.assertEqual(len(data_events(second)), 1)

    def test_a_client_with_a_short_timeout_gives_up(self):
        with Farm(path=example("ftp-slow-listing.yaml")) as farm:
            hasty = curl("--max-time", "1", url(farm, "archive/"))
            farm.wait_sessions("ftp", 1)
        self.assertEqual(hasty.returncode, 28, hasty.stderr)  # CURLE_OPERATION_TIMEDOUT
        first = farm.session("ftp", 1)
        closed = one(first, "data_close")
        self.assertIn(closed["reason"], ("aborted", "failed"))
        self.assertLess(closed["bytes"], 1100)


@unittest.skipUnless(CURL, "curl is not installed")
class FtpsExplicit(unittest.TestCase):
    def test_protected_control_and_data(self):
        with Farm(path=example("ftp-ftps-explicit.yaml")) as farm:
            base = ["--ftp-ssl-reqd", "--cacert", farm.ca, "-u", "alice:secret"]
            notes = curl(*base, url(farm, "notes.txt", server="ftps"))
            source = farm.tmp / "report.txt"
            source.write_bytes(b"uploaded over TLS\n")
            up = curl(*base, "-T", source, url(farm, "", server="ftps"))
            back = curl(*base, url(farm, "report.txt", server="ftps"))
            listing = curl(*base, "-l", url(farm, "", server="ftps"))
        self.assertEqual((notes.returncode, notes.stdout), (0, b"Sent over TLS only.\n"),
                         notes.stderr)
        self.assertEqual(up.returncode, 0, up.stderr)
        self.assertEqual(back.stdout, b"uploaded over TLS\n")
        self.assertEqual(crlf_to_lf(listing.stdout), b"notes.txt\nreport.txt\n")
        for n in (1, 2, 3, 4):
            session = farm.session("ftps", n)
            with self.subTest(session=n):
                self.assertEqual(verbs(session)[0], "AUTH")
                self.assertIn(("PBSZ", "0"), commands(session))
                self.assertIn(("PROT", "P"), commands(session))
                control_tls = [e for e in named_events(session, "tls") if "channel" not in e]
                data_tls = [e for e in named_events(session, "tls")
                            if e.get("channel") == "data"]
                self.assertEqual(len(control_tls), 1)
                self.assertEqual(len(data_tls), 1)
                self.assertTrue(one(session, "data_open")["tls"])
                self.assertEqual(one(session, "data_close")["reason"], "complete")
        self.assertIn("234 ", control_replies(farm.session("ftps", 1)))
        upload = one(farm.session("ftps", 2), "upload")
        self.assertEqual((upload["path"], upload["accepted"]), ("/home/alice/report.txt", True))
        # A listing's bytes are recorded as they were before encryption.
        self.assertEqual(crlf_to_lf(data_bytes(farm.session("ftps", 4))),
                         b"notes.txt\nreport.txt\n")

    def test_control_only_protection_leaves_data_in_the_clear(self):
        with Farm(path=example("ftp-ftps-explicit.yaml")) as farm:
            got = curl("--ftp-ssl-control", "--cacert", farm.ca, "-u", "alice:secret",
                       url(farm, "notes.txt", server="ftps"))
        self.assertEqual((got.returncode, got.stdout), (0, b"Sent over TLS only.\n"), got.stderr)
        session = farm.session("ftps", 1)
        self.assertNotIn(("PROT", "P"), commands(session))
        self.assertFalse(one(session, "data_open")["tls"])
        self.assertEqual([e for e in named_events(session, "tls") if e.get("channel")], [])
        self.assertEqual(len(named_events(session, "tls")), 1)

    def test_session_reuse_required(self):
        with Farm(path=example("ftp-ftps-explicit.yaml")) as farm:
            # curl resumes the control connection's TLS session on the data connection.
            got = curl("--ftp-ssl-reqd", "--cacert", farm.ca, "-u", "alice:secret",
                       url(farm, "notes.txt", server="strict"))
            # ftplib does not: the transfer is refused with 522, as vsftpd refuses it.
            client = ftplib.FTP_TLS(context=ssl.create_default_context(cafile=farm.ca),
                                    timeout=TIMEOUT)
            client.connect(farm.host("strict"), farm.port("strict"))
            client.login("alice", "secret")
            client.prot_p()
            with self.assertRaises(ftplib.error_perm) as cm:
                client.retrbinary("RETR notes.txt", lambda block: None)
            self.assertTrue(str(cm.exception).startswith("522 "), cm.exception)
            client.quit()
        self.assertEqual((got.returncode, got.stdout),
                         (0, b"Sent over a resumed TLS session only.\n"), got.stderr)
        resumed = [e for e in named_events(farm.session("strict", 1), "tls")
                   if e.get("channel") == "data"]
        self.assertEqual([e.get("resumed") for e in resumed], [True])
        refused = farm.session("strict", 2)
        self.assertEqual(one(refused, "tls_refused")["channel"], "data")
        closed = one(refused, "data_close")
        self.assertEqual((closed["reason"], closed["bytes"]), ("tls_refused", 0))
        self.assertIn("522 SSL connection failed; session reuse required\r\n",
                      control_replies(refused))


@unittest.skipUnless(CURL, "curl is not installed")
class FtpsImplicit(unittest.TestCase):
    def test_tls_from_the_first_byte(self):
        with Farm(path=example("ftp-ftps-implicit.yaml")) as farm:
            listing = curl("--cacert", farm.ca, url(farm, "pub/", "ftps", "ftps"))
            secret = curl("--cacert", farm.ca, url(farm, "pub/secret.txt", "ftps", "ftps"))
            data = curl("--cacert", farm.ca, url(farm, "pub/data.bin", "ftps", "ftps"))
            untrusted = curl(url(farm, "pub/", "ftps", "ftps"))
            context = ssl.create_default_context(cafile=farm.ca)
            with Control(farm, "ftps", context=context) as control:
                greeting = control.greeting
                auth = control.cmd("AUTH TLS")
                feat = control.cmd("FEAT")
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertRegex(crlf_to_lf(listing.stdout).decode(),
                         r"^-rw-r--r-- .* 262144 .* data\.bin\n-rw-r--r-- .* secret\.txt\n$")
        self.assertEqual((secret.returncode, secret.stdout), (0, b"Never in the clear.\n"))
        self.assertEqual(len(data.stdout), 256 * 1024)
        # CURLE_PEER_FAILED_VERIFICATION: without the CA, the certificate is not trusted.
        self.assertEqual(untrusted.returncode, 60, untrusted.stderr)
        self.assertTrue(greeting.startswith("220 "), greeting)
        self.assertTrue(auth.startswith("502 "), auth)
        self.assertIn(" PROT\r\n", feat)
        self.assertNotIn("AUTH TLS", feat)
        for n in (1, 2, 3):
            session = farm.session("ftps", n)
            with self.subTest(session=n):
                self.assertEqual(session["events"][1]["event"], "tls")  # right after "open"
                self.assertNotIn("AUTH", verbs(session))
                self.assertIn(("PROT", "P"), commands(session))
                self.assertTrue(one(session, "data_open")["tls"])
                self.assertEqual([e["channel"] for e in named_events(session, "tls")
                                  if "channel" in e], ["data"])
        closed = one(farm.session("ftps", 3), "data_close")
        self.assertEqual((closed["bytes"], closed["sha256"]), (len(data.stdout),
                                                               sha256(data.stdout)))


@unittest.skipUnless(CURL, "curl is not installed")
class Active(unittest.TestCase):
    def test_eprt_and_port(self):
        with Farm(path=example("ftp-active.yaml")) as farm:
            listing = curl("-P", "-", url(farm, "pub/"))
            hello = curl("-P", "-", "--disable-eprt", url(farm, "pub/hello.txt"))
            source = farm.tmp / "drop.txt"
            source.write_bytes(b"dropped off actively\n")
            up = curl("-P", "-", "-u", "dave:secret", "-T", source, url(farm, "incoming/"))
            back = curl("-P", "-", url(farm, "incoming/drop.txt"))
        self.assertEqual(listing.returncode, 0, listing.stderr)
        self.assertRegex(crlf_to_lf(listing.stdout).decode(), r"^-rw-r--r-- .* hello\.txt\n$")
        self.assertEqual(hello.stdout, b"Hello over an active data connection.\n")
        self.assertEqual(up.returncode, 0, up.stderr)
        self.assertEqual(back.stdout, b"dropped off actively\n")
        first, second = farm.session("ftp", 1), farm.session("ftp", 2)
        self.assertIn("EPRT", verbs(first))
        self.assertNotIn("EPSV", verbs(first))
        self.assertIn("200 EPRT command successful", control_replies(first))
        eprt_port = int([a for c, a in commands(first) if c == "EPRT"][0].split("|")[3])
        opened = one(first, "data_open")
        self.assertEqual((opened["mode"], opened["port"], opened["command"]),
                         ("active", eprt_port, "LIST"))
        self.assertEqual(opened["peer"], f"127.0.0.1:{eprt_port}")
        [port_args] = [a for c, a in commands(second) if c == "PORT"]
        p = [int(x) for x in port_args.split(",")]
        self.assertEqual(p[:4], [127, 0, 0, 1])
        opened = one(second, "data_open")
        self.assertEqual((opened["mode"], opened["port"]), ("active", p[4] * 256 + p[5]))
        upload = one(farm.session("ftp", 3), "upload")
        self.assertEqual((upload["path"], upload["accepted"]), ("/incoming/drop.txt", True))
        self.assertEqual(one(farm.session("ftp", 3), "data_open")["mode"], "active")

    def test_no_bounce(self):
        with Farm(path=example("ftp-active.yaml")) as farm:
            with Control(farm) as control:
                login(control)
                other_host = control.cmd("PORT 192,0,2,7,200,10")
                low_port = control.cmd("PORT 127,0,0,1,0,21")
                eprt_other = control.cmd("EPRT |1|192.0.2.7|51210|")
                retr = control.cmd("RETR /pub/hello.txt")
                control.cmd("QUIT")
        self.assertTrue(other_host.startswith("500 "), other_host)
        self.assertTrue(low_port.startswith("500 "), low_port)
        self.assertTrue(eprt_other.startswith("500 "), eprt_other)
        self.assertTrue(retr.startswith("425 "), retr)  # no data connection was set up
        self.assertEqual(named_events(farm.session("ftp", 1), "data_open"), [])


@unittest.skipUnless(CURL, "curl is not installed")
class DosListing(unittest.TestCase):
    def test_list_looks_like_iis(self):
        with Farm(path=example("ftp-dos-listing.yaml")) as farm:
            listing = curl(url(farm, "site/"))
            names = curl("-l", url(farm, "site/"))
            mlsd = curl("-X", "MLSD", url(farm, "site/"))
        self.assertEqual(listing.returncode, 0, listing.stderr)
        # IIS's layout (and the samples in ftpparse, FileZilla, ...): date, time, then <DIR>
        # or the size right-aligned to end in column 37, and every name from column 39.
        self.assertEqual(crlf_to_lf(listing.stdout).decode().splitlines(), [
            "06-30-25  02:30PM       <DIR>          backups",
            "01-15-24  09:05AM                   20 config.ini",
            "12-31-25  11:59PM                 1234 index.html",
        ])
        self.assertEqual(crlf_to_lf(names.stdout), b"backups\nconfig.ini\nindex.html\n")
        self.assertEqual(mlsd.returncode, 0, mlsd.stderr)
        self.assertIn("type=dir;modify=20250630143000;perm=el;UNIX.mode=0755; backups",
                      mlsd.stdout.decode())
        session = farm.session("ftp", 1)
        self.assertEqual(data_bytes(session).decode().splitlines()[1][39:], "config.ini")


if __name__ == "__main__":
    unittest.main()
