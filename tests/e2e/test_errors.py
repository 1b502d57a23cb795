"""Bad scenarios and runtime failures, seen from the command line (DESIGN.md, "Command line").

A bad scenario: exit status 2, every error printed as FILE:LINE:COLUMN: error: MESSAGE, nothing
started (no ready line, no ready file, no transcript directory). A port already in use: exit
status 3 with a message that names the server and the address, and no ready file.
"""

import os
import re
import shutil
import socket
import tempfile
import textwrap
import unittest
from pathlib import Path

from farm import run


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Errors(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="protofarm-errors-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text):
        path = self.tmp / name
        path.write_text(textwrap.dedent(text))
        return path

    def run_farm(self, *files, args=()):
        ready = self.tmp / "ready.json"
        transcripts = self.tmp / "transcripts"
        result = run("run", *files, "--ready-file", ready, "--transcripts", transcripts, *args,
                     timeout=30)
        return result, ready, transcripts

    # --- bad scenarios -----------------------------------------------------------------------
    def test_run_with_a_bad_scenario_exits_2_prints_every_error_and_starts_nothing(self):
        port = free_port()
        bad = self.write("bad.yaml", f"""\
            name: bad
            servers:
              good:
                protocol: tcp
                listen: 127.0.0.1:{port}
              typo:
                protocol: tcp
                idle_timout: 1s
              broken:
                protocol: tcp
                rules:
                  - match: '(unclosed'
            """)
        result, ready, transcripts = self.run_farm(bad)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "", "no ready line")
        lines = result.stderr.splitlines()
        self.assertTrue(lines[0].startswith(
            f"{bad}:8:5: error: servers.typo: unknown key 'idle_timout'; did you mean "
            "'idle_timeout'?"), result.stderr)
        self.assertTrue(lines[1].startswith(
            f"{bad}:12:16: error: servers.broken.rules[0].match: invalid regular expression "
            "'(unclosed'"), result.stderr)
        self.assertEqual(lines[2], "2 errors; nothing was started")
        self.assertEqual(len(lines), 3, result.stderr)
        self.assertFalse(ready.exists())
        self.assertFalse(transcripts.exists())
        # The good server's fixed port was never bound: it is still free.
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))

    def test_validate_reports_every_error_not_only_the_first(self):
        bad = self.write("many.yaml", """\
            name: many
            colour: blue
            servers:
              a:
                protocol: smpt
              b:
                protocol: tcp
                listen: nowhere
                idle_timeout: [1]
              c:
                protocol: tcp
                rules:
                  - on: QUIT
                    times: -1
                    then: explode
            """)
        result = run("validate", bad)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertEqual(result.stdout, "")
        positions = [line.split(": error: ")[0] for line in result.stderr.splitlines()[:-1]]
        self.assertEqual(positions, [f"{bad}:2:1", f"{bad}:5:15", f"{bad}:8:13", f"{bad}:9:19",
                                     f"{bad}:14:16", f"{bad}:15:15"], result.stderr)
        self.assertEqual(result.stderr.splitlines()[-1], "6 errors")

    def test_validate_checks_every_file_given(self):
        good = self.write("good.yaml", "name: good\nservers:\n  a: {protocol: tcp}\n")
        bad = self.write("bad.yaml", "name: bad\nservers:\n  b: {protocol: tcp, tls: maybe}\n")
        result = run("validate", good, bad)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn(f"{bad}:3:27: error: servers.b.tls: unknown TLS mode 'maybe'", result.stderr)
        self.assertNotIn(str(good), result.stderr)

    def test_validate_accepts_good_files(self):
        a = self.write("a.yaml", "name: a\nservers:\n  a: {protocol: tcp}\n")
        b = self.write("b.yaml", "name: b\nservers:\n  b: {protocol: tcp}\n")
        result = run("validate", a, b)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{a}: ok (1 server)\n{b}: ok (1 server)\n")

    def test_errors_across_two_files(self):
        port = free_port()
        a = self.write("a.yaml", f"name: a\nservers:\n  mail:\n    protocol: tcp\n"
                                 f"    listen: 127.0.0.1:{port}\n")
        b = self.write("b.yaml", f"name: b\nservers:\n  mail:\n    protocol: tcp\n"
                                 f"  other:\n    protocol: tcp\n    listen: 0.0.0.0:{port}\n")
        for command in ("validate", "run"):
            with self.subTest(command=command):
                if command == "run":
                    result, ready, _ = self.run_farm(a, b)
                    self.assertFalse(ready.exists())
                else:
                    result = run("validate", a, b)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(f"{b}:3:3: error: servers.mail: server name already used in {a} "
                              "line 3", result.stderr)
                self.assertIn(f"{b}:7:13: error: servers.other.listen: 0.0.0.0:{port} is "
                              f"already used by server 'mail' ({a} line 3)", result.stderr)

    def test_a_missing_scenario_file(self):
        result = run("validate", self.tmp / "nope.yaml")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{self.tmp / 'nope.yaml'}: error: cannot read the scenario file",
                      result.stderr)
        result = run("run", self.tmp / "nope.yaml")
        self.assertEqual(result.returncode, 2)
        self.assertIn("nope.yaml", result.stderr)

    def test_file_keys_name_regular_files_only(self):
        # /dev/zero once ended in bad_alloc, a FIFO hung validate and run for ever, and a folder
        # was served as an empty message. Each is now a file:line error, at once.
        fifo = self.tmp / "fifo.eml"
        os.mkfifo(fifo)
        (self.tmp / "folder.eml").mkdir()
        for name, why in (("/dev/zero", "not a regular file"), (str(fifo), "not a regular file"),
                          ("folder.eml", "it is a folder, not a file")):
            with self.subTest(file=name):
                scenario = self.write("files.yaml", f"""\
                    name: files
                    servers:
                      pop:
                        protocol: pop3
                        mailboxes:
                          alice:
                            password: secret
                            messages:
                              - file: {name}
                      news:
                        protocol: nntp
                        groups:
                          misc.test:
                            articles:
                              - number: 1
                                file: {name}
                    """)
                result = run("validate", scenario, timeout=20)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertRegex(result.stderr, rf"{re.escape(str(scenario))}:9:\d+: error: "
                                 r"servers\.pop\.mailboxes\.alice\.messages\[0\]\.file: "
                                 r"cannot read message file")
                self.assertIn(why, result.stderr)
                self.assertIn("cannot read article file", result.stderr)
        for name in ("/dev/zero", str(fifo)):
            with self.subTest(scenario=name):
                result = run("validate", name, timeout=20)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("cannot read the scenario file: not a regular file", result.stderr)

    def test_only_with_an_unknown_name(self):
        a = self.write("a.yaml", "name: a\nservers:\n  mail: {protocol: tcp}\n")
        result, ready, _ = self.run_farm(a, args=("--only", "mial"))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--only mial: no server of that name; did you mean 'mail'?", result.stderr)
        self.assertFalse(ready.exists())

    def test_bad_usage_exits_2(self):
        self.assertEqual(run().returncode, 2)
        self.assertEqual(run("frobnicate").returncode, 2)
        self.assertEqual(run("run").returncode, 2)
        self.assertEqual(run("validate", "--no-such-option", "x.yaml").returncode, 2)

    # --- runtime failures ----------------------------------------------------------------------
    def test_a_port_in_use_exits_3_with_a_clear_message(self):
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            scenario = self.write("busy.yaml", f"""\
                name: busy
                servers:
                  first:
                    protocol: tcp
                  busy:
                    protocol: tcp
                    listen: 127.0.0.1:{port}
                """)
            result, ready, _ = self.run_farm(scenario)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertEqual(result.stdout, "", "no ready line")
        self.assertEqual(result.stderr.strip(),
                         f"protofarm: server 'busy': cannot listen on 127.0.0.1:{port}: "
                         "Address already in use")
        self.assertFalse(ready.exists())

    def test_a_unix_socket_path_that_cannot_be_bound_exits_3(self):
        scenario = self.write("nodir.yaml", f"""\
            name: nodir
            servers:
              sock:
                protocol: tcp
                listen: unix:{self.tmp}/no/such/dir/s.sock
            """)
        result, ready, _ = self.run_farm(scenario)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn(f"server 'sock': cannot listen on unix:{self.tmp}/no/such/dir/s.sock",
                      result.stderr)
        self.assertFalse(ready.exists())

    def test_a_transcript_directory_that_cannot_be_made_exits_3(self):
        scenario = self.write("ok.yaml", "name: ok\nservers:\n  a: {protocol: tcp}\n")
        blocker = self.tmp / "file"
        blocker.write_text("not a directory")
        result = run("run", scenario, "--transcripts", blocker / "t", "--ready-file",
                     self.tmp / "ready.json", timeout=30)
        self.assertEqual(result.returncode, 3, result.stderr)
        self.assertIn("cannot create transcript directory", result.stderr)
        self.assertFalse((self.tmp / "ready.json").exists())


if __name__ == "__main__":
    unittest.main()
