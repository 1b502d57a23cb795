"""The ftp fake against bad input over raw sockets: path traversal, bounce attempts, commands
before login, over-long and binary lines, REST past the end, clients that vanish or never
connect. Each test checks the replies, that the transcript recorded it, and that the server
goes on serving (a fresh login afterwards). Every socket has a timeout; nothing sleeps."""

import re
import socket
import struct
import time
import unittest

from farm import Farm, client_bytes, event_bytes, named_events, server_bytes
from ftp_util import commands, control_bytes, data_bytes

TIMEOUT = 10  # seconds, for every socket

SCENARIO = """
name: ftp-bad-input
servers:
  ftp:
    protocol: ftp
    users:
      anonymous: {}
      alice: {password: secret, home: /home/alice, write: true}
    tree:
      /pub/readme.txt: "hello\\n"
      /pub/slow.bin: {size: 1MiB}
      /home/alice/: {write: true}
      /home/alice/notes.txt: "mine\\n"
    rules:
      - on: RETR
        match: slow
        data: {pace: 20KiB/s}
  short:
    protocol: ftp
    idle_timeout: 1s
    tree:
      /pub/readme.txt: "hello\\n"
"""

README = b"hello\n"
TREE_ROOT = ["home", "pub"]  # what the tree's root folder holds


class Raw:
    """An FTP client over a raw socket: send a line, read one reply (single or multi-line)."""

    def __init__(self, address):
        self.sock = socket.create_connection(address, timeout=TIMEOUT)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.file.close()
        self.sock.close()

    def line(self):
        line = self.file.readline(100000)
        if not line:
            raise AssertionError("the server closed the control connection")
        return line

    def reply(self):
        """One reply, all its lines (RFC 959 4.2: "123-" ... "123 ")."""
        first = self.line()
        out = first
        if first[3:4] == b"-":
            while True:
                line = self.line()
                out += line
                if line[:3] == first[:3] and line[3:4] == b" ":
                    break
        return out

    def send(self, line):
        self.sock.sendall(line + b"\r\n")

    def cmd(self, line):
        self.send(line)
        return self.reply()

    def code(self, line):
        return int(self.cmd(line)[:3])

    def login(self, user=b"anonymous", password=b"guest@"):
        assert self.cmd(b"USER " + user).startswith(b"331 ")
        reply = self.cmd(b"PASS " + password)
        assert reply.startswith(b"230 "), reply
        return reply

    def pasv(self):
        reply = self.cmd(b"PASV")
        m = re.match(rb"227 .*\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", reply)
        assert m, reply
        n = [int(x) for x in m.groups()]
        return ".".join(map(str, n[:4])), n[4] * 256 + n[5]

    def data(self):
        """PASV, then a connected data socket (with a timeout)."""
        return socket.create_connection(self.pasv(), timeout=TIMEOUT)


def read_all(sock):
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def replies(session):
    return control_bytes(session).decode(errors="replace").splitlines()


class BadInput(unittest.TestCase):
    def setUp(self):
        self.farm = Farm(SCENARIO).start()
        self.addCleanup(self.farm.stop)

    def connect(self, server="ftp"):
        raw = Raw(self.farm.address(server))
        self.assertEqual(raw.greeting, b"220 protofarm FTP ready\r\n")
        return raw

    def fresh_login(self, server="ftp"):
        """The server goes on: a new session logs in and retrieves a file."""
        with self.connect(server) as raw:
            raw.login()
            with raw.data() as d:
                self.assertTrue(raw.cmd(b"RETR /pub/readme.txt").startswith(b"150 "))
                self.assertEqual(read_all(d), README)
            self.assertEqual(raw.reply(), b"226 Transfer complete.\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")

    def finished(self, count, server="ftp"):
        return self.farm.wait_sessions(server, count)

    # --- the tree is the whole world -------------------------------------------------------------

    def test_path_traversal_never_leaves_the_tree(self):
        attempts = [
            (b"CWD ../../etc", {550}),
            (b"CWD ../../../../../../etc", {550}),
            (b"CWD /../etc", {550}),
            (b"CWD ..\\..\\etc", {550}),
            (b"RETR ../../../etc/passwd", {550}),
            (b"RETR /../etc/passwd", {550}),
            (b"RETR /pub/../../../../etc/passwd", {550}),
            (b"RETR ..\\..\\..\\etc\\passwd", {550}),
            (b"SIZE ..\\..\\x", {550}),
            (b"SIZE ../../../etc/passwd", {550}),
            (b"MDTM ../../../etc/passwd", {550}),
            (b"MKD ../../etc/x", {550, 553}),
            (b"MKD ../../../tmp/protofarm-escape", {550, 553}),
            (b"MKD ..\\..\\x", {550, 553}),
            (b"RMD ../../../tmp", {550}),
            (b"DELE ../../../etc/passwd", {550}),
            (b"DELE ..\\..\\..\\etc\\passwd", {550}),
            (b"RNFR ../../../etc/passwd", {550}),
            (b"MLST ../../../etc/passwd", {550}),
            (b"MLST /../etc", {550}),
            (b"STAT ../../../etc", {550}),
        ]
        with self.connect() as raw:
            raw.login(b"alice", b"secret")
            for line, codes in attempts:
                with self.subTest(line=line):
                    self.assertIn(raw.code(line), codes)
                    self.assertEqual(raw.cmd(b"PWD"), b'257 "/home/alice" is the current directory\r\n')
            # Transfers: a data connection is ready, and none is used.
            for line, codes in [(b"LIST ../../etc", {550}), (b"LIST ../../../etc/passwd", {550}),
                                (b"NLST ../../../etc", {550}), (b"MLSD ../../../etc", {550}),
                                (b"STOR ../../../etc/passwd", {550, 553}),
                                (b"STOR ..\\..\\..\\tmp\\x", {550, 553}),
                                (b"APPE ../../../etc/passwd", {550, 553}),
                                (b"RETR ../../../../etc/shadow", {550})]:
                with self.subTest(line=line):
                    raw.pasv()
                    self.assertIn(raw.code(line), codes)
            # RNTO out of the tree, from a file that is there.
            self.assertEqual(raw.code(b"RNFR notes.txt"), 350)
            self.assertIn(raw.code(b"RNTO ../../../tmp/notes.txt"), {550, 553})
            # ".." above the root stays at the tree's root; a listing there shows the tree only.
            self.assertEqual(raw.code(b"CWD ../../../../.."), 250)
            self.assertEqual(raw.cmd(b"PWD"), b'257 "/" is the current directory\r\n')
            with raw.data() as d:
                self.assertTrue(raw.cmd(b"NLST ../../..").startswith(b"150 "))
                listing = read_all(d)
            self.assertEqual(raw.reply(), b"226 Directory send OK.\r\n")
            self.assertEqual(listing.split(b"\r\n")[:-1], [n.encode() for n in TREE_ROOT])
            with raw.data() as d:
                self.assertTrue(raw.cmd(b"LIST -la /../../..").startswith(b"150 "))
                listing = read_all(d)
            self.assertEqual(raw.reply(), b"226 Directory send OK.\r\n")
            names = [line.split()[-1] for line in listing.split(b"\r\n") if line]
            self.assertEqual(sorted(names), [n.encode() for n in TREE_ROOT])
            mlst = raw.cmd(b"MLST ../../..")
            self.assertTrue(mlst.startswith(b"250-"), mlst)
            self.assertIn(b"type=dir;", mlst)
            self.assertIn(b" /\r\n", mlst)
            # The file that was there is still there, under its name; nothing was made.
            self.assertEqual(raw.code(b"SIZE /home/alice/notes.txt"), 213)
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        sent = server_bytes(first)
        self.assertNotIn(b"root:", sent)  # /etc/passwd of this machine never went out
        self.assertNotIn(b"passwd", data_bytes(first))
        self.assertNotIn(b"etc", data_bytes(first))
        self.assertNotIn(b"tmp", data_bytes(first))
        # Every attempt is recorded with its reply; only the three listings opened data.
        cmds = commands(first)
        for line, _ in attempts:
            verb, _, arg = line.decode().partition(" ")
            self.assertIn((verb, arg), cmds)
        self.assertEqual([(e["command"], e["path"]) for e in named_events(first, "data_open")],
                         [("NLST", "/"), ("LIST", "/")])
        self.assertEqual(named_events(first, "upload"), [])
        self.assertEqual(len([r for r in replies(first) if r.startswith("150 ")]), 2)

    # --- PORT and EPRT only to the client ----------------------------------------------------

    def test_port_and_eprt_to_a_foreign_address_are_refused(self):
        with self.connect() as raw:
            raw.login()
            bounces = [b"PORT 10,1,2,3,4,1", b"PORT 192,168,0,1,200,10",
                       b"EPRT |1|10.1.2.3|1025|", b"EPRT |1|127.0.0.2|40000|",
                       b"PORT 127,0,0,1,0,25",  # the client's own address, a privileged port
                       b"EPRT |1|127.0.0.1|21|"]
            for line in bounces:
                with self.subTest(line=line):
                    self.assertEqual(raw.code(line), 500)
            # Malformed, not foreign: 501.
            self.assertEqual(raw.code(b"PORT 10,1,2,3"), 501)
            self.assertEqual(raw.code(b"PORT 300,1,2,3,4,1"), 501)
            # No data connection was set up by any of them.
            self.assertEqual(raw.cmd(b"RETR /pub/readme.txt"), b"425 Use PORT or PASV first.\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        self.assertEqual(replies(first).count(
            "500 Illegal PORT command: only the client's own address is allowed."), 3)
        self.assertEqual(replies(first).count(
            "500 Illegal EPRT command: only the client's own address is allowed."), 3)
        self.assertEqual([c for c, _ in commands(first)].count("PORT"), 5)
        for name in ("data_open", "data_failed", "data_close"):
            self.assertEqual(named_events(first, name), [])

    # --- login first ---------------------------------------------------------------------------

    def test_commands_before_login_get_530(self):
        before = [b"CWD /pub", b"CDUP", b"PWD", b"LIST", b"NLST", b"MLSD", b"MLST /pub",
                  b"RETR /pub/readme.txt", b"STOR x", b"APPE x", b"DELE /pub/readme.txt",
                  b"MKD /x", b"RMD /pub", b"RNFR /pub/readme.txt", b"RNTO /y",
                  b"SIZE /pub/readme.txt", b"MDTM /pub/readme.txt", b"PASV", b"EPSV",
                  b"PORT 127,0,0,1,200,1", b"REST 1", b"TYPE I"]
        with self.connect() as raw:
            for line in before:
                with self.subTest(line=line):
                    self.assertEqual(raw.cmd(line), b"530 Please login with USER and PASS.\r\n")
            # A failed login is no login.
            self.assertEqual(raw.cmd(b"USER nobody"), b"331 Please specify the password.\r\n")
            self.assertEqual(raw.cmd(b"PASS x"), b"530 Login incorrect.\r\n")
            self.assertEqual(raw.cmd(b"PWD"), b"530 Please login with USER and PASS.\r\n")
            # PASS without USER.
            self.assertEqual(raw.code(b"PASS x"), 503)
            self.assertEqual(raw.cmd(b"USER alice"), b"331 Please specify the password.\r\n")
            self.assertEqual(raw.cmd(b"PASS wrong"), b"530 Login incorrect.\r\n")
            self.assertEqual(raw.cmd(b"CWD /home/alice"), b"530 Please login with USER and PASS.\r\n")
            # Then a good login is served.
            raw.login(b"alice", b"secret")
            self.assertEqual(raw.cmd(b"PWD"), b'257 "/home/alice" is the current directory\r\n')
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        cmds = commands(first)
        self.assertEqual(cmds[:len(before)],
                         [tuple(line.decode().partition(" ")[::2]) for line in before])
        self.assertEqual(replies(first)[1:len(before) + 1],
                         ["530 Please login with USER and PASS."] * len(before))
        self.assertEqual([e["user"] for e in named_events(first, "login_failed")], ["nobody", "alice"])
        self.assertEqual([e["user"] for e in named_events(first, "login")], ["alice"])
        for name in ("data_open", "data_failed"):
            self.assertEqual(named_events(first, name), [])

    # --- lines that are not commands -----------------------------------------------------------

    def test_one_mib_command_line(self):
        huge = b"RETR " + b"A" * (1024 * 1024)
        with self.connect() as raw:
            raw.login()
            raw.send(huge)
            reply = raw.reply()
            self.assertTrue(reply.startswith(b"500 "), reply)
            self.assertIn(b"too long", reply)
            # The rest of the line was read and dropped: the next command is a command.
            self.assertEqual(raw.cmd(b"NOOP"), b"200 NOOP ok.\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, second = self.finished(2)
        too_long = [e for e in first["events"] if e.get("too_long")]
        self.assertEqual(len(too_long), 1)
        self.assertEqual(event_bytes(too_long[0]), huge + b"\r\n")  # every byte kept
        self.assertNotIn("command", too_long[0])
        self.assertEqual([c for c, _ in commands(first)], ["USER", "PASS", "NOOP", "QUIT"])
        self.assertEqual(named_events(first, "data_open"), [])
        self.assertEqual(named_events(second, "login")[0]["user"], "anonymous")

    def test_binary_junk_lines(self):
        junk = b"\x80\x81\xfe\x9c\x01\x02\x1b[0mjunk \xc3\x28 more"
        with self.connect() as raw:
            self.assertEqual(raw.cmd(junk), b"500 Unknown command.\r\n")
            raw.login()
            self.assertEqual(raw.cmd(junk), b"500 Unknown command.\r\n")
            self.assertEqual(raw.cmd(b"\xff\xfe\xfd"), b"500 Unknown command.\r\n")
            # A NUL byte in a known command's argument is never taken for a path: 501 (RFC 959:
            # syntax error in parameters), or 500.
            reply = raw.cmd(b"RETR /pub/readme.txt\x00.jpg")
            self.assertIn(reply[:4], (b"500 ", b"501 "), reply)
            self.assertEqual(raw.cmd(b"PWD"), b'257 "/" is the current directory\r\n')
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        self.assertIn(junk + b"\r\n", client_bytes(first))
        junk_events = [e for e in first["events"]
                       if e.get("from") == "client" and event_bytes(e) == junk + b"\r\n"]
        self.assertEqual(len(junk_events), 2)
        self.assertTrue(all("base64" in e for e in junk_events))  # not UTF-8: kept exactly
        self.assertEqual(replies(first).count("500 Unknown command."), 3)
        self.assertEqual(named_events(first, "data_open"), [])

    def test_binary_junk_with_nul_bytes(self):
        # What a client configured for implicit TLS sends to a plain port: a ClientHello, NUL
        # bytes and all, then a line feed somewhere. Its "verb" is no command: RFC 959 4.2's 500
        # ("Syntax error, command unrecognized"), as for any other junk.
        hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00\x00"
        with self.connect() as raw:
            raw.login()
            self.assertEqual(raw.cmd(hello), b"500 Unknown command.\r\n")
            self.assertEqual(raw.cmd(b"\x00\x00\x00\x00"), b"500 Unknown command.\r\n")
            self.assertEqual(raw.cmd(b"NOOP"), b"200 NOOP ok.\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        self.assertIn(hello + b"\r\n", client_bytes(first))

    # --- REST ------------------------------------------------------------------------------------

    def test_rest_beyond_the_end_then_retr(self):
        with self.connect() as raw:
            raw.login()
            self.assertEqual(raw.cmd(b"TYPE I"), b"200 Switching to Binary mode.\r\n")
            self.assertEqual(raw.code(b"REST 100"), 350)
            raw.pasv()
            # RFC 3659 5.5: a restart marker past the end is refused by the transfer command.
            self.assertEqual(raw.code(b"RETR /pub/readme.txt"), 554)
            # The marker is gone: the next RETR starts at 0.
            with raw.data() as d:
                self.assertTrue(raw.cmd(b"RETR /pub/readme.txt").startswith(b"150 "))
                self.assertEqual(read_all(d), README)
            self.assertEqual(raw.reply(), b"226 Transfer complete.\r\n")
            # At the very end: nothing to send, and that is a success.
            self.assertEqual(raw.code(b"REST %d" % len(README)), 350)
            with raw.data() as d:
                self.assertTrue(raw.cmd(b"RETR /pub/readme.txt").startswith(b"150 "))
                self.assertEqual(read_all(d), b"")
            self.assertEqual(raw.reply(), b"226 Transfer complete.\r\n")
            self.assertEqual(raw.code(b"REST -1"), 501)
            self.assertEqual(raw.code(b"REST 99999999999999999999999"), 501)
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        self.assertIn(("REST", "100"), commands(first))
        self.assertTrue(any(r.startswith("554 ") for r in replies(first)))
        closes = named_events(first, "data_close")
        self.assertEqual([(c["bytes"], c["reason"]) for c in closes],
                         [(len(README), "complete"), (0, "complete")])
        # The refused RETR opened no data connection.
        self.assertEqual(len(named_events(first, "data_open")), 2)

    # --- clients that go away, or never come ------------------------------------------------

    def test_client_vanishes_in_the_middle_of_a_transfer(self):
        raw = self.connect()
        raw.login()
        d = raw.data()
        self.assertTrue(raw.cmd(b"RETR /pub/slow.bin").startswith(b"150 "))
        got = d.recv(1000)
        self.assertTrue(got)
        d.close()
        raw.close()
        first, = self.finished(1)  # the server ends the session (bounded by wait_sessions)
        self.fresh_login()
        _, second = self.finished(2)
        self.assertEqual(first["close"], "client")
        opened, = named_events(first, "data_open")
        closed, = named_events(first, "data_close")
        self.assertEqual((opened["command"], opened["path"]), ("RETR", "/pub/slow.bin"))
        self.assertEqual(closed["channel"], "data")
        self.assertIn(closed["reason"], ("aborted", "failed"))
        self.assertGreaterEqual(closed["bytes"], len(got))
        self.assertLess(closed["bytes"], 1024 * 1024)
        self.assertEqual(second["close"], "server")

    def test_data_connection_closed_by_the_client_mid_transfer(self):
        with self.connect() as raw:
            raw.login()
            d = raw.data()
            self.assertTrue(raw.cmd(b"RETR /pub/slow.bin").startswith(b"150 "))
            self.assertTrue(d.recv(1000))
            d.close()  # unread data: a reset; the paced writes that follow fail
            self.assertEqual(raw.reply(), b"426 Failure writing network stream.\r\n")
            self.assertEqual(raw.cmd(b"NOOP"), b"200 NOOP ok.\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        closed, = named_events(first, "data_close")
        self.assertEqual(closed["reason"], "failed")
        self.assertLess(closed["bytes"], 1024 * 1024)

    def test_abor_with_telnet_ip_and_synch(self):
        # RFC 959 4.1.3: a client sends Telnet IP and Synch (IAC IP, then IAC DM as urgent data)
        # before ABOR; the server answers the ABOR, not the Telnet bytes.
        with self.connect() as raw:
            raw.login()
            d = raw.data()
            self.assertTrue(raw.cmd(b"RETR /pub/slow.bin").startswith(b"150 "))
            self.assertTrue(d.recv(1000))
            raw.sock.sendall(b"\xff\xf4\xff", socket.MSG_OOB)
            raw.sock.sendall(b"\xf2ABOR\r\n")
            self.assertEqual(raw.reply(), b"426 Transfer aborted. Data connection closed.\r\n")
            self.assertEqual(raw.reply(), b"226 ABOR successful.\r\n")
            d.close()
            self.assertEqual(raw.cmd(b"NOOP"), b"200 NOOP ok.\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        self.assertIn(("ABOR", ""), commands(first))
        self.assertIn(b"\xff\xf4\xff\xf2ABOR\r\n", client_bytes(first))
        closed, = named_events(first, "data_close")
        self.assertEqual(closed["reason"], "aborted")

    def test_upload_reset_in_the_middle(self):
        with self.connect() as raw:
            raw.login(b"alice", b"secret")
            raw.cmd(b"TYPE I")
            d = raw.data()
            self.assertEqual(raw.cmd(b"STOR partial.bin"), b"150 Ok to send data.\r\n")
            d.sendall(b"x" * 5000)
            # The client dies: a reset, not the end of the file that a close would say.
            d.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            d.close()
            self.assertEqual(raw.reply(), b"426 Failure reading network stream.\r\n")
            self.assertEqual(raw.code(b"SIZE partial.bin"), 550)  # nothing was stored
            raw.close()
        with self.connect() as raw:
            raw.login(b"alice", b"secret")
            self.assertEqual(raw.code(b"SIZE partial.bin"), 550)
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        first, _ = self.finished(2)
        closed, = named_events(first, "data_close")
        self.assertEqual(closed["reason"], "failed")
        upload, = named_events(first, "upload")
        self.assertEqual(upload["path"], "/home/alice/partial.bin")
        self.assertIs(upload["accepted"], False)
        self.assertLessEqual(upload["size"], 5000)
        if "file" in upload:  # what did arrive is kept for the record
            saved = (self.farm.transcripts / upload["file"]).read_bytes()
            self.assertEqual(saved, b"x" * upload["size"])

    def test_data_connection_never_opened(self):
        with self.connect("short") as raw:
            raw.login()
            address = raw.pasv()  # and never connect to it
            started = time.monotonic()
            self.assertEqual(raw.cmd(b"RETR /pub/readme.txt"),
                             b"425 Failed to establish connection.\r\n")
            waited = time.monotonic() - started
            self.assertGreaterEqual(waited, 0.9)  # idle_timeout: 1s
            self.assertLess(waited, TIMEOUT)
            # The passive port was given up with the transfer.
            with self.assertRaises(ConnectionRefusedError):
                socket.create_connection(address, timeout=TIMEOUT).close()
            self.assertEqual(raw.cmd(b"NOOP"), b"200 NOOP ok.\r\n")  # the session goes on
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login("short")
        first, _ = self.finished(2, "short")
        failed, = named_events(first, "data_failed")
        self.assertEqual((failed["command"], failed["path"], failed["mode"]),
                         ("RETR", "/pub/readme.txt", "passive"))
        self.assertIn("error", failed)
        self.assertEqual(named_events(first, "data_open"), [])
        self.assertIn("425 Failed to establish connection.", replies(first))
        self.assertNotIn("150", " ".join(r[:3] for r in replies(first)))

    def test_active_port_that_refuses_the_connection(self):
        # A port of the client's own address where nobody listens.
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        with self.connect() as raw:
            raw.login()
            self.assertEqual(raw.code(b"PORT 127,0,0,1,%d,%d" % (port >> 8, port & 255)), 200)
            self.assertEqual(raw.cmd(b"RETR /pub/readme.txt"),
                             b"425 Failed to establish connection.\r\n")
            self.assertEqual(raw.cmd(b"QUIT"), b"221 Goodbye.\r\n")
        self.fresh_login()
        first, _ = self.finished(2)
        failed, = named_events(first, "data_failed")
        self.assertEqual((failed["mode"], failed["port"]), ("active", port))
        self.assertIn("error", failed)


if __name__ == "__main__":
    unittest.main()
