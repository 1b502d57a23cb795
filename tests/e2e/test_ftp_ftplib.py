"""The ftp fake with real clients: Python's ftplib (FTP and FTP_TLS: explicit AUTH TLS, implicit
TLS, a server that requires TLS session reuse on data connections) and curl. Each test checks
what the client got (bytes, replies, exceptions) and what the transcript recorded."""

import ftplib
import io
import os
import shutil
import socket
import ssl
import subprocess
import unittest

from farm import Farm, client_bytes, named_events
from ftp_util import commands, control_bytes, data_bytes, sha256, verbs

CURL = shutil.which("curl") or ("/usr/bin/curl" if os.path.exists("/usr/bin/curl") else None)
TIMEOUT = 10  # seconds, for every socket

SITE = """
name: ftp-ftplib
servers:
  ftp:
    protocol: ftp
    users:
      anonymous: {}
      alice: {password: secret, home: /home/alice, write: true}
    tree:
      /pub/readme.txt: {content: "hello\\nworld\\n", mtime: "2020-01-02T03:04:05Z", mode: "0640"}
      /pub/notes.txt: "line one\\nline two\\n\\nlast line\\n"
      /pub/binary.bin: {hex: "00 01 02 0d 0a 0a ff fe 0d 80"}
      /pub/big.bin: {size: 3MiB}
      /pub/docs/: {}
      /pub/docs/guide.txt: "guide\\n"
      /home/alice/: {write: true}
      /home/alice/todo.txt: "buy milk\\n"
"""

README = b"hello\nworld\n"
NOTES = b"line one\nline two\n\nlast line\n"
BINARY = bytes.fromhex("00 01 02 0d 0a 0a ff fe 0d 80")
BIG = 3 * 1024 * 1024

TLS_SITE = """
name: ftp-tls
servers:
  explicit:
    protocol: ftp
    tls: starttls
    tree:
      /pub/readme.txt: "hello\\nworld\\n"
      /pub/data.bin: {size: 200KiB}
  implicit:
    protocol: ftp
    tls: implicit
    tree:
      /pub/readme.txt: "hello\\nworld\\n"
      /pub/data.bin: {size: 200KiB}
  reuse:
    protocol: ftp
    tls: {mode: starttls, require_session_reuse: true}
    tree:
      /pub/readme.txt: "hello\\nworld\\n"
      /pub/data.bin: {size: 200KiB}
"""

SLOW = """
name: ftp-abor
servers:
  ftp:
    protocol: ftp
    tree:
      /pub/slow.bin: {size: 1MiB}
      /pub/readme.txt: "hello\\nworld\\n"
    rules:
      - on: RETR
        match: slow
        data: {pace: 20KiB/s}
"""


def ftp(farm, name="ftp"):
    f = ftplib.FTP(timeout=TIMEOUT)
    f.connect(farm.host(name), farm.port(name))
    return f


def replies(session):
    """The server's lines on the control connection, in order."""
    return control_bytes(session).decode(errors="replace").splitlines()


def transfers(session):
    """{transfer number: (data_open event, data_close event)}."""
    opens = {e["transfer"]: e for e in named_events(session, "data_open")}
    closes = {e["transfer"]: e for e in named_events(session, "data_close")}
    return {n: (opens.get(n), closes.get(n)) for n in sorted(set(opens) | set(closes))}


def retr(f, path, rest=None):
    out = io.BytesIO()
    resp = f.retrbinary("RETR " + path, out.write, rest=rest)
    return resp, out.getvalue()


def curl(*args, ok=True):
    result = subprocess.run([CURL, "--silent", "--show-error", "--max-time", "20", *args],
                            capture_output=True, timeout=60)
    if ok and result.returncode != 0:
        raise AssertionError(f"curl {args} failed ({result.returncode}): {result.stderr!r}")
    return result


class ImplicitFTP_TLS(ftplib.FTP_TLS):
    """FTP_TLS for implicit TLS (FTPS, RFC 4217 calls it deprecated but it is everywhere): the
    control socket is wrapped as soon as it is connected, before the greeting."""

    def connect(self, host="", port=0, timeout=-999, source_address=None):
        if host:
            self.host = host
        if port > 0:
            self.port = port
        if timeout != -999:
            self.timeout = timeout
        raw = socket.create_connection((self.host, self.port), self.timeout)
        self.af = raw.family
        self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
        self.file = self.sock.makefile("r", encoding=self.encoding)
        self.welcome = self.getresp()
        return self.welcome


class Plain(unittest.TestCase):
    """Plain FTP with ftplib: logins, navigation, listings, transfers in both types and modes."""

    def test_anonymous_login_cwd_pwd_nlst_mlsd_size(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            self.assertEqual(f.getwelcome(), "220 protofarm FTP ready")
            self.assertEqual(f.login(), "230 Login successful.")
            self.assertEqual(f.pwd(), "/")
            self.assertEqual(f.cwd("pub"), "250 Directory successfully changed.")
            self.assertEqual(f.pwd(), "/pub")
            self.assertEqual(f.nlst(), ["big.bin", "binary.bin", "docs", "notes.txt", "readme.txt"])
            self.assertEqual(f.nlst("docs"), ["guide.txt"])
            facts = dict(f.mlsd())
            self.assertEqual(set(facts), {".", "big.bin", "binary.bin", "docs", "notes.txt",
                                          "readme.txt"})
            self.assertEqual(facts["."]["type"], "cdir")
            self.assertEqual(facts["docs"]["type"], "dir")
            self.assertEqual(facts["docs"]["perm"], "el")  # anonymous: enter, list; no more
            self.assertEqual(facts["readme.txt"], {
                "type": "file", "size": "12", "modify": "20200102030405", "perm": "r",
                "unix.mode": "0640"})
            self.assertEqual(facts["big.bin"]["size"], str(BIG))
            self.assertEqual(facts["binary.bin"]["size"], str(len(BINARY)))
            # MLSD with a path, and the facts ftplib asks for.
            only = dict(f.mlsd("docs", facts=["type", "size"]))
            self.assertEqual(only["guide.txt"]["type"], "file")
            self.assertEqual(only["guide.txt"]["size"], "6")
            listing = []
            f.dir(listing.append)  # LIST: like ls -l
            self.assertEqual([line.split()[-1] for line in listing],
                             ["big.bin", "binary.bin", "docs", "notes.txt", "readme.txt"])
            self.assertEqual([line[0] for line in listing], ["-", "-", "d", "-", "-"])
            self.assertRegex(listing[-1], r"^-rw-r----- +1 \S+ +\S+ +12 Jan 02  2020 readme.txt$")
            self.assertEqual(f.sendcmd("MDTM readme.txt"), "213 20200102030405")
            self.assertEqual(f.size("readme.txt"), 12)
            self.assertEqual(f.size("/pub/big.bin"), BIG)
            with self.assertRaises(ftplib.error_perm) as cm:
                f.size("docs")  # RFC 3659 4: SIZE of a folder is an error
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            with self.assertRaises(ftplib.error_perm) as cm:
                f.cwd("nowhere")
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            self.assertEqual(f.pwd(), "/pub")  # a failed CWD changes nothing
            self.assertEqual(f.cwd(".."), "250 Directory successfully changed.")
            self.assertEqual(f.pwd(), "/")
            feat = f.sendcmd("FEAT")
            for feature in ("MLST", "SIZE", "REST STREAM", "EPSV", "UTF8"):
                self.assertIn(feature, feat)
            self.assertNotIn("AUTH TLS", feat)  # no TLS configured
            self.assertEqual(f.quit(), "221 Goodbye.")
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        self.assertEqual(s["protocol"], "ftp")
        self.assertEqual(s["close"], "server")
        self.assertEqual(commands(s)[:4], [("USER", "anonymous"), ("PASS", "anonymous@"),
                                           ("PWD", ""), ("CWD", "pub")])
        self.assertIn(("NLST", "docs"), commands(s))
        self.assertIn(("MLSD", "docs"), commands(s))
        self.assertIn(("OPTS", "MLST type;size;"), commands(s))
        self.assertEqual(verbs(s)[-1], "QUIT")
        self.assertEqual([e["user"] for e in named_events(s, "login")], ["anonymous"])
        # Five listings, each on its own data connection, recorded byte by byte on "data".
        done = transfers(s)
        self.assertEqual([o["command"] for o, _ in done.values()],
                         ["NLST", "NLST", "MLSD", "MLSD", "LIST"])
        self.assertEqual([o["path"] for o, _ in done.values()],
                         ["/pub", "/pub/docs", "/pub", "/pub/docs", "/pub"])
        for opened, closed in done.values():
            self.assertEqual(opened["mode"], "passive")
            self.assertFalse(opened["tls"])
            self.assertEqual(closed["channel"], "data")
            self.assertEqual(closed["reason"], "complete")
        nlst_bytes = b"big.bin\r\nbinary.bin\r\ndocs\r\nnotes.txt\r\nreadme.txt\r\n"
        self.assertEqual(done[1][1]["bytes"], len(nlst_bytes))
        self.assertTrue(data_bytes(s).startswith(nlst_bytes + b"guide.txt\r\n"))
        self.assertTrue(data_bytes(s).endswith("\r\n".join(listing).encode() + b"\r\n"))
        self.assertIn(b"type=file;size=12;modify=20200102030405;perm=r;UNIX.mode=0640; readme.txt\r\n",
                      data_bytes(s))
        self.assertEqual(sum(c["bytes"] for _, c in done.values()), len(data_bytes(s)))
        # Replies went on the control connection, in order.
        lines = replies(s)
        self.assertEqual(lines[:4], ["220 protofarm FTP ready", "331 Please specify the password.",
                                     "230 Login successful.", '257 "/" is the current directory'])
        self.assertEqual(lines.count("150 Here comes the directory listing."), 5)
        self.assertEqual(lines.count("226 Directory send OK."), 5)

    def test_data_open_and_close_are_on_the_data_channel(self):
        # DESIGN.md, Transcripts: events of another channel carry `channel`; data_open names the
        # data connection (its peer, its port) just as data_close does.
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login()
            self.assertEqual(retr(f, "/pub/readme.txt")[1], README)
            f.quit()
            farm.wait_sessions("ftp", 1)
        (opened, closed), = transfers(farm.session("ftp", 1)).values()
        self.assertEqual(closed.get("channel"), "data")
        self.assertEqual(closed["bytes"], len(README))
        self.assertEqual(opened.get("channel"), "data", opened)

    def test_user_with_password_and_home(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            with self.assertRaises(ftplib.error_perm) as cm:
                f.login("alice", "wrong")
            self.assertEqual(str(cm.exception), "530 Login incorrect.")
            with self.assertRaises(ftplib.error_perm) as cm:
                f.login("mallory", "x")  # not listed: 530, even with any password
            self.assertEqual(str(cm.exception), "530 Login incorrect.")
            self.assertEqual(f.login("alice", "secret"), "230 Login successful.")
            self.assertEqual(f.pwd(), "/home/alice")
            self.assertEqual(f.nlst(), ["todo.txt"])
            facts = dict(f.mlsd())
            # alice may write here: RFC 3659 7.5.5's a, d, f, w on files; c, m, p on the folder.
            self.assertEqual(set(facts["todo.txt"]["perm"]), set("radfw"))
            self.assertTrue(set("elcmp") <= set(facts["."]["perm"]), facts["."])
            self.assertEqual(retr(f, "todo.txt")[1], b"buy milk\n")
            f.cwd("/pub")
            self.assertEqual(dict(f.mlsd())["readme.txt"]["perm"], "r")  # /pub is read-only
            f.quit()
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        self.assertEqual(commands(s)[:6], [
            ("USER", "alice"), ("PASS", "wrong"), ("USER", "mallory"), ("PASS", "x"),
            ("USER", "alice"), ("PASS", "secret")])
        self.assertEqual([e["user"] for e in named_events(s, "login_failed")], ["alice", "mallory"])
        self.assertEqual([e["user"] for e in named_events(s, "login")], ["alice"])
        self.assertEqual(replies(s)[1:7], [
            "331 Please specify the password.", "530 Login incorrect.",
            "331 Please specify the password.", "530 Login incorrect.",
            "331 Please specify the password.", "230 Login successful."])

    def test_retrbinary_bytes_and_a_generated_file_by_digest(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login()
            resp, got = retr(f, "/pub/binary.bin")
            self.assertEqual(resp, "226 Transfer complete.")
            self.assertEqual(got, BINARY)  # CR, LF, 0xff, 0x80: all as they are in TYPE I
            resp, big = retr(f, "/pub/big.bin")
            self.assertEqual(resp, "226 Transfer complete.")
            self.assertEqual(len(big), BIG)
            self.assertGreater(len(set(big[:4096])), 200)  # generated: not a run of one byte
            f.quit()
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        (o1, c1), (o2, c2) = transfers(s).values()
        self.assertEqual((o1["command"], o1["path"]), ("RETR", "/pub/binary.bin"))
        self.assertEqual((c1["bytes"], c1["sha256"], c1["reason"]),
                         (len(BINARY), sha256(BINARY), "complete"))
        self.assertEqual((o2["command"], o2["path"]), ("RETR", "/pub/big.bin"))
        self.assertEqual((c2["bytes"], c2["sha256"], c2["reason"]), (BIG, sha256(big), "complete"))
        self.assertEqual(c2["channel"], "data")
        # A file is recorded by size and digest, not byte by byte.
        self.assertEqual(data_bytes(s), b"")
        self.assertIn("150 Opening BINARY mode data connection for big.bin (3145728 bytes).",
                      replies(s))
        self.assertEqual(("TYPE", "I"), commands(s)[2])

        # Generated content is deterministic: the same scenario gives the same bytes again.
        with Farm(SITE) as again:
            f = ftp(again)
            f.login()
            self.assertEqual(sha256(retr(f, "/pub/big.bin")[1]), sha256(big))
            f.quit()

    def test_retrlines_in_ascii_gets_crlf_on_the_wire(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login()
            lines = []
            self.assertEqual(f.retrlines("RETR /pub/notes.txt", lines.append),
                             "226 Transfer complete.")
            self.assertEqual(lines, ["line one", "line two", "", "last line"])
            # The raw bytes of a TYPE A transfer: every LF of the file arrives as CRLF.
            f.voidcmd("TYPE A")
            with f.transfercmd("RETR /pub/notes.txt") as conn:
                wire = b""
                while chunk := conn.recv(65536):
                    wire += chunk
            self.assertEqual(f.voidresp(), "226 Transfer complete.")
            self.assertEqual(wire, NOTES.replace(b"\n", b"\r\n"))
            # TYPE I gives the file as stored.
            self.assertEqual(retr(f, "/pub/notes.txt")[1], NOTES)
            f.quit()
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        self.assertEqual([c for c in commands(s) if c[0] == "TYPE"],
                         [("TYPE", "A"), ("TYPE", "A"), ("TYPE", "I")])
        (_, a1), (_, a2), (_, b) = transfers(s).values()
        crlf = NOTES.replace(b"\n", b"\r\n")
        for closed in (a1, a2):  # what crossed the wire, CRs included
            self.assertEqual((closed["bytes"], closed["sha256"]), (len(crlf), sha256(crlf)))
        self.assertEqual((b["bytes"], b["sha256"]), (len(NOTES), sha256(NOTES)))
        # The 150 names the file's size as stored (as SIZE does), not its size in TYPE A.
        self.assertIn(f"150 Opening ASCII mode data connection for notes.txt ({len(NOTES)} bytes).",
                      replies(s))

    def test_storbinary_then_retrieve_the_same_file(self):
        payload = bytes(range(256)) * 1000 + b"\r\n\n\r tail"  # CR/LF untouched in TYPE I
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login("alice", "secret")
            self.assertEqual(f.storbinary("STOR upload.bin", io.BytesIO(payload)),
                             "226 Transfer complete.")
            self.assertEqual(f.size("upload.bin"), len(payload))
            self.assertEqual(retr(f, "upload.bin")[1], payload)
            self.assertIn("upload.bin", f.nlst())
            f.quit()
            # Uploads stay for the rest of the run: another session (anonymous) sees the file.
            g = ftp(farm)
            g.login()
            self.assertEqual(retr(g, "/home/alice/upload.bin")[1], payload)
            g.quit()
            farm.wait_sessions("ftp", 2)
        s = farm.session("ftp", 1)
        self.assertIn(("STOR", "upload.bin"), commands(s))
        stor_open, stor_close = transfers(s)[1]
        self.assertEqual((stor_open["command"], stor_open["path"]), ("STOR", "/home/alice/upload.bin"))
        self.assertEqual(stor_close["channel"], "data")
        self.assertEqual((stor_close["bytes"], stor_close["sha256"], stor_close["reason"]),
                         (len(payload), sha256(payload), "complete"))
        upload, = named_events(s, "upload")
        self.assertEqual(upload["path"], "/home/alice/upload.bin")
        self.assertEqual(upload["size"], len(payload))
        self.assertEqual(upload["sha256"], sha256(payload))
        self.assertIs(upload["accepted"], True)
        saved = farm.transcripts / upload["file"]
        self.assertEqual(saved.parent, farm.transcripts / "files" / "ftp" / "1")
        self.assertEqual(saved.read_bytes(), payload)
        # The upload's bytes are not in the transcript's events (they are in the file).
        self.assertNotIn(payload[:2000], client_bytes(s))
        retr_close = transfers(s)[2][1]
        self.assertEqual((retr_close["bytes"], retr_close["sha256"]), (len(payload), sha256(payload)))
        self.assertEqual(named_events(farm.session("ftp", 2), "upload"), [])

    def test_storlines_stores_crlf_as_lf(self):
        text = b"alpha\nbeta\r\n\ngamma"  # storlines sends every line with CRLF
        wire = b"alpha\r\nbeta\r\n\r\ngamma\r\n"
        stored = b"alpha\nbeta\n\ngamma\n"
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login("alice", "secret")
            self.assertEqual(f.storlines("STOR lines.txt", io.BytesIO(text)),
                             "226 Transfer complete.")
            self.assertEqual(f.size("lines.txt"), len(stored))
            self.assertEqual(retr(f, "lines.txt")[1], stored)
            got = []
            f.retrlines("RETR lines.txt", got.append)
            self.assertEqual(got, ["alpha", "beta", "", "gamma"])
            f.quit()
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        self.assertEqual(commands(s)[2:4], [("TYPE", "A"), ("PASV", "")])
        stor_close = transfers(s)[1][1]
        self.assertEqual((stor_close["bytes"], stor_close["sha256"]), (len(wire), sha256(wire)))
        upload, = named_events(s, "upload")
        self.assertEqual((upload["path"], upload["size"], upload["sha256"], upload["accepted"]),
                         ("/home/alice/lines.txt", len(stored), sha256(stored), True))
        self.assertEqual((farm.transcripts / upload["file"]).read_bytes(), stored)

    def test_rest_gives_the_tail(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login()
            f.cwd("/pub")
            resp, tail = retr(f, "readme.txt", rest=6)
            self.assertEqual(resp, "226 Transfer complete.")
            self.assertEqual(tail, README[6:])
            _, whole = retr(f, "big.bin")
            _, big_tail = retr(f, "big.bin", rest=BIG - 1000)
            self.assertEqual(big_tail, whole[-1000:])
            # REST applies to one transfer only.
            self.assertEqual(retr(f, "readme.txt")[1], README)
            f.quit()
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        rests = [c for c in commands(s) if c[0] == "REST"]
        self.assertEqual(rests, [("REST", "6"), ("REST", str(BIG - 1000))])
        self.assertIn("350 Restart position accepted (6).", replies(s))
        closes = [c for _, c in transfers(s).values()]
        self.assertEqual([c["bytes"] for c in closes], [6, BIG, 1000, len(README)])
        self.assertEqual(closes[0]["sha256"], sha256(README[6:]))
        self.assertEqual(closes[2]["sha256"], sha256(whole[-1000:]))

    def test_rename_delete_mkd_rmd(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login("alice", "secret")
            self.assertEqual(f.mkd("work"), "/home/alice/work")
            with self.assertRaises(ftplib.error_perm) as cm:
                f.mkd("work")  # exists
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            f.cwd("work")
            f.storbinary("STOR a.txt", io.BytesIO(b"contents\n"))
            self.assertEqual(f.rename("a.txt", "b.txt"), "250 Rename successful.")
            self.assertEqual(f.nlst(), ["b.txt"])
            self.assertEqual(retr(f, "b.txt")[1], b"contents\n")
            with self.assertRaises(ftplib.error_perm) as cm:
                f.size("a.txt")
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            with self.assertRaises(ftplib.error_perm) as cm:
                f.rename("missing.txt", "c.txt")
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            f.cwd("..")
            with self.assertRaises(ftplib.error_perm) as cm:
                f.rmd("work")  # not empty
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            self.assertEqual(f.delete("work/b.txt"), "250 Delete operation successful.")
            with self.assertRaises(ftplib.error_perm) as cm:
                f.delete("work/b.txt")
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            self.assertEqual(f.rmd("work"), "250 Remove directory operation successful.")
            self.assertEqual(f.nlst(), ["todo.txt"])
            # A folder can be renamed too, with what is in it.
            f.mkd("/home/alice/d1")
            f.storbinary("STOR /home/alice/d1/x", io.BytesIO(b"x"))
            f.rename("d1", "d2")
            self.assertEqual(f.nlst("d2"), ["x"])
            f.quit()
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        cmds = commands(s)
        for expected in [("MKD", "work"), ("CWD", "work"), ("RNFR", "a.txt"), ("RNTO", "b.txt"),
                         ("RMD", "work"), ("DELE", "work/b.txt"), ("RNFR", "d1"), ("RNTO", "d2")]:
            self.assertIn(expected, cmds)
        lines = replies(s)
        self.assertIn('257 "/home/alice/work" created', lines)
        self.assertIn("350 Ready for RNTO.", lines)
        self.assertIn("550 Remove directory operation failed: it is not empty.", lines)
        self.assertEqual([u["path"] for u in named_events(s, "upload")],
                         ["/home/alice/work/a.txt", "/home/alice/d1/x"])

    def test_permission_errors(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login()
            with self.assertRaises(ftplib.error_perm) as cm:
                f.storbinary("STOR /pub/new.txt", io.BytesIO(b"nope"))
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            for call in (lambda: f.delete("/pub/readme.txt"), lambda: f.mkd("/pub/newdir"),
                         lambda: f.rmd("/pub/docs"), lambda: f.rename("/pub/readme.txt", "x"),
                         lambda: f.storbinary("STOR /home/alice/x", io.BytesIO(b"x"))):
                with self.assertRaises(ftplib.error_perm) as cm:
                    call()
                self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            # Nothing changed, and the session goes on.
            self.assertEqual(retr(f, "/pub/readme.txt")[1], README)
            self.assertEqual(f.nlst("/pub/docs"), ["guide.txt"])
            f.quit()
            # A user with write may change only folders whose write is set.
            g = ftp(farm)
            g.login("alice", "secret")
            with self.assertRaises(ftplib.error_perm) as cm:
                g.storbinary("STOR /pub/new.txt", io.BytesIO(b"nope"))
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            with self.assertRaises(ftplib.error_perm) as cm:
                g.delete("/pub/readme.txt")
            self.assertTrue(str(cm.exception).startswith("550"), cm.exception)
            g.quit()
            farm.wait_sessions("ftp", 2)
        for s in farm.sessions("ftp"):
            self.assertEqual(named_events(s, "upload"), [])
        s = farm.session("ftp", 1)
        self.assertIn(("STOR", "/pub/new.txt"), commands(s))
        self.assertIn("550 Permission denied.", replies(s))
        # No STOR ever opened a data connection; the retrieve and the listing did.
        self.assertEqual([o["command"] for o, _ in transfers(s).values()], ["RETR", "NLST"])
        self.assertFalse((farm.transcripts / "files" / "ftp").exists())

    def test_active_mode(self):
        with Farm(SITE) as farm:
            f = ftp(farm)
            f.login("alice", "secret")
            f.set_pasv(False)
            self.assertEqual(f.nlst("/pub"), ["big.bin", "binary.bin", "docs", "notes.txt",
                                              "readme.txt"])
            self.assertEqual(retr(f, "/pub/binary.bin")[1], BINARY)
            f.storbinary("STOR active.bin", io.BytesIO(BINARY * 100))
            self.assertEqual(retr(f, "active.bin")[1], BINARY * 100)
            f.quit()
            farm.wait_sessions("ftp", 1)
        s = farm.session("ftp", 1)
        ports = [args for verb, args in commands(s) if verb in ("PORT", "EPRT")]
        self.assertEqual(len(ports), 4)
        self.assertNotIn("PASV", verbs(s))
        self.assertEqual(replies(s).count("200 PORT command successful. Consider using PASV."), 4)
        for args, (opened, closed) in zip(ports, transfers(s).values()):
            self.assertEqual(opened["mode"], "active")
            n = [int(x) for x in args.split(",")]
            self.assertEqual(n[:4], [127, 0, 0, 1])
            self.assertEqual(opened["port"], n[4] * 256 + n[5])
            self.assertEqual(opened["peer"], f"127.0.0.1:{opened['port']}")
            self.assertEqual(closed["reason"], "complete")
        self.assertEqual(named_events(s, "upload")[0]["size"], len(BINARY) * 100)

    def test_abor_during_a_slow_transfer(self):
        with Farm(SLOW) as farm:
            f = ftp(farm)
            f.login()
            f.voidcmd("TYPE I")
            conn = f.transfercmd("RETR /pub/slow.bin")
            try:
                got = conn.recv(1024)
                self.assertTrue(got)
                # RFC 959 4.1.3 (ABOR) and 5.4: 426 for the aborted transfer, then 226.
                self.assertEqual(f.abort(), "426 Transfer aborted. Data connection closed.")
                self.assertEqual(f.voidresp(), "226 ABOR successful.")
            finally:
                conn.close()
            self.assertEqual(f.pwd(), "/")  # the control connection is in step
            self.assertEqual(retr(f, "/pub/readme.txt")[1], README)
            f.quit()
            # And the farm serves a new session.
            g = ftp(farm)
            g.login()
            self.assertEqual(retr(g, "/pub/readme.txt")[1], README)
            g.quit()
            farm.wait_sessions("ftp", 2)
        s = farm.session("ftp", 1)
        self.assertIn(("ABOR", ""), commands(s))
        aborted, after = [c for _, c in transfers(s).values()]
        self.assertEqual(aborted["reason"], "aborted")
        self.assertEqual(aborted["channel"], "data")
        self.assertGreaterEqual(aborted["bytes"], len(got))
        self.assertLess(aborted["bytes"], 1024 * 1024)
        self.assertEqual(after["reason"], "complete")
        lines = replies(s)
        i = lines.index("426 Transfer aborted. Data connection closed.")
        self.assertEqual(lines[i + 1], "226 ABOR successful.")
        self.assertEqual([e["rule"] for e in named_events(s, "rule")], ["rules[0]"])


class Tls(unittest.TestCase):
    """FTP_TLS: explicit (AUTH TLS) and implicit TLS, protected data, and session reuse."""

    def context(self, farm):
        return ssl.create_default_context(cafile=farm.ca)

    def test_auth_tls_prot_p_listing_and_retr(self):
        with Farm(TLS_SITE) as farm:
            self.assertTrue(farm.ca)
            f = ftplib.FTP_TLS(context=self.context(farm), timeout=TIMEOUT)
            f.connect(farm.host("explicit"), farm.port("explicit"))
            self.assertIn("AUTH TLS", f.sendcmd("FEAT"))
            self.assertEqual(f.login(), "230 Login successful.")
            self.assertIsInstance(f.sock, ssl.SSLSocket)
            self.assertEqual(f.prot_p(), "200 PROT now Private.")
            self.assertEqual(f.nlst("/pub"), ["data.bin", "readme.txt"])
            resp, data = retr(f, "/pub/data.bin")
            self.assertEqual(resp, "226 Transfer complete.")
            self.assertEqual(len(data), 200 * 1024)
            self.assertEqual(retr(f, "/pub/readme.txt")[1], README)
            # PROT C: clear data again on the same session.
            self.assertEqual(f.prot_c(), "200 PROT now Clear.")
            self.assertEqual(retr(f, "/pub/readme.txt")[1], README)
            f.quit()
            farm.wait_sessions("explicit", 1)
        s = farm.session("explicit", 1)
        self.assertEqual(commands(s)[:5], [("FEAT", ""), ("AUTH", "TLS"), ("USER", "anonymous"),
                                           ("PASS", "anonymous@"), ("PBSZ", "0")])
        self.assertIn(("PROT", "P"), commands(s))
        self.assertIn("234 Proceed with negotiation.", replies(s))
        main_tls = [e for e in named_events(s, "tls") if "channel" not in e]
        data_tls = [e for e in named_events(s, "tls") if e.get("channel") == "data"]
        self.assertEqual(len(main_tls), 1)
        self.assertEqual(len(data_tls), 3)  # NLST and two RETRs under PROT P
        self.assertFalse(any(e.get("resumed") for e in data_tls))  # ftplib starts new sessions
        done = list(transfers(s).values())
        self.assertEqual([o["tls"] for o, _ in done], [True, True, True, False])
        self.assertEqual(done[0][1]["bytes"], len(b"data.bin\r\nreadme.txt\r\n"))
        self.assertEqual(data_bytes(s), b"data.bin\r\nreadme.txt\r\n")  # plaintext recorded
        self.assertEqual((done[1][1]["bytes"], done[1][1]["sha256"]), (len(data), sha256(data)))
        self.assertTrue(all(c["reason"] == "complete" for _, c in done))

    def test_implicit_tls(self):
        with Farm(TLS_SITE) as farm:
            f = ImplicitFTP_TLS(context=self.context(farm), timeout=TIMEOUT)
            self.assertEqual(f.connect(farm.host("implicit"), farm.port("implicit")),
                             "220 protofarm FTP ready")
            self.assertIsInstance(f.sock, ssl.SSLSocket)
            self.assertEqual(f.login(), "230 Login successful.")  # no AUTH: already TLS
            self.assertEqual(f.prot_p(), "200 PROT now Private.")
            self.assertEqual(f.nlst("/pub"), ["data.bin", "readme.txt"])
            _, data = retr(f, "/pub/data.bin")
            self.assertEqual(len(data), 200 * 1024)
            f.quit()
            farm.wait_sessions("implicit", 1)
        s = farm.session("implicit", 1)
        self.assertNotIn("AUTH", verbs(s))
        self.assertEqual(commands(s)[:4], [("USER", "anonymous"), ("PASS", "anonymous@"),
                                           ("PBSZ", "0"), ("PROT", "P")])
        first = [e for e in s["events"] if e.get("event") == "tls" or e.get("from") == "server"][0]
        self.assertEqual(first.get("event"), "tls")  # the handshake came before the greeting
        self.assertEqual([o["tls"] for o, _ in transfers(s).values()], [True, True])
        self.assertEqual(transfers(s)[2][1]["sha256"], sha256(data))

    @unittest.skipUnless(CURL, "curl is not installed")
    def test_session_reuse_required_ftplib_fails_curl_passes(self):
        with Farm(TLS_SITE) as farm:
            # ftplib wraps each data connection in a new TLS session: refused (vsftpd's
            # require_ssl_reuse=YES answers the same).
            f = ftplib.FTP_TLS(context=self.context(farm), timeout=TIMEOUT)
            f.connect(farm.host("reuse"), farm.port("reuse"))
            f.login()
            f.prot_p()
            with self.assertRaises(ftplib.error_perm) as cm:
                retr(f, "/pub/readme.txt")
            self.assertTrue(str(cm.exception).startswith(
                "522 SSL connection failed; session reuse required"), cm.exception)
            with self.assertRaises(ftplib.error_perm) as cm:
                f.nlst("/pub")
            self.assertTrue(str(cm.exception).startswith(
                "522 SSL connection failed; session reuse required"), cm.exception)
            self.assertEqual(f.pwd(), "/")  # the session goes on
            f.quit()
            # curl resumes the control connection's TLS session on every data connection.
            url = f"ftp://{farm.host('reuse')}:{farm.port('reuse')}"
            out = curl("--ftp-ssl-reqd", "--cacert", farm.ca, url + "/pub/readme.txt").stdout
            self.assertEqual(out, README)
            out = curl("--ftp-ssl-reqd", "--cacert", farm.ca, url + "/pub/data.bin").stdout
            self.assertEqual(len(out), 200 * 1024)
            farm.wait_sessions("reuse", 3)
        refused, by_curl, by_curl2 = farm.sessions("reuse")
        self.assertEqual([c["reason"] for _, c in transfers(refused).values()],
                         ["tls_refused", "tls_refused"])
        self.assertEqual(len([e for e in named_events(refused, "tls_refused")
                              if e.get("channel") == "data"]), 2)
        self.assertEqual(replies(refused).count("522 SSL connection failed; session reuse required"), 2)
        self.assertEqual(named_events(refused, "data_close")[0]["bytes"], 0)
        for s, payload in ((by_curl, README), (by_curl2, out)):
            self.assertIn(("PROT", "P"), commands(s))
            data_tls = [e for e in named_events(s, "tls") if e.get("channel") == "data"]
            self.assertEqual(len(data_tls), 1)
            self.assertIs(data_tls[0].get("resumed"), True)
            (opened, closed), = transfers(s).values()
            self.assertTrue(opened["tls"])
            self.assertEqual((closed["reason"], closed["bytes"], closed["sha256"]),
                             ("complete", len(payload), sha256(payload)))
            self.assertEqual(named_events(s, "tls_refused"), [])


if __name__ == "__main__":
    unittest.main()
