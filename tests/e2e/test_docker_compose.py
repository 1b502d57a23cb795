"""The Docker image and the compose file, checked without a Docker engine.

No engine runs where the tests run, so nothing here builds or starts a container. Instead:
`docker-compose config` must accept docker-compose.yml; the Dockerfile must build with the
Makefile's own commands, ship the libraries the binary links, and run the demo scenario with
the ready file its health check waits for; every compose service must serve (`--only`) a server
of the demo scenario on the port it publishes, and every demo server must have a service and an
EXPOSE; and the demo scenario must validate and behave as its comments say.
"""

import json
import re
import shlex
import shutil
import poplib
import smtplib
import socket
import subprocess
import unittest
from pathlib import Path

import yaml

from farm import PROTOFARM, SOURCE, Farm, run

DOCKERFILE = SOURCE / "Dockerfile"
COMPOSE = SOURCE / "docker-compose.yml"
DEMO = SOURCE / "scenarios" / "demo.yaml"
IMAGE_SCENARIOS = "/usr/share/protofarm/scenarios/"  # where the Dockerfile copies scenarios/
TRANSCRIPTS = "/transcripts"                        # the image's volume


# --- reading the files ----------------------------------------------------------------------

def dockerfile_instructions(text):
    """[(stage index, INSTRUCTION, arguments)] with continuation lines joined, comments gone."""
    out, stage, pending = [], -1, ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, args = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage += 1
        out.append((stage, word, args.strip()))
    return out


def exec_form(args):
    """The JSON (exec) form of CMD/ENTRYPOINT/HEALTHCHECK CMD, as a list."""
    return json.loads(args)


def demo_servers():
    return yaml.safe_load(DEMO.read_text())["servers"]


def listen_port(server):
    host, _, port = str(server.get("listen", "127.0.0.1:0")).rpartition(":")
    return host, int(port)


def option(args, name):
    """The value after `name` in an argument list (None when absent)."""
    return args[args.index(name) + 1] if name in args else None


def makefile_variable(text, name):
    m = re.search(rf"^{name}\s*\??=\s*(\S+)", text, re.M)
    return m.group(1) if m else None


def compose_config():
    """docker-compose's own reading of docker-compose.yml (interpolated and normalised)."""
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config"], cwd=SOURCE,
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise AssertionError("docker-compose config failed:\n" + result.stderr)
    return yaml.safe_load(result.stdout)


# --- the tests --------------------------------------------------------------------------------

class DemoScenario(unittest.TestCase):
    def test_validates(self):
        result = run("validate", DEMO)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_every_server_listens_on_loopback_on_a_fixed_port(self):
        # `make demo` runs it on the user's own machine: loopback only. A container publishes
        # fixed ports; the image and the compose file bind all interfaces with --listen-host.
        for name, server in demo_servers().items():
            host, port = listen_port(server)
            self.assertEqual(host, "127.0.0.1", f"{name}: listen {server.get('listen')}")
            self.assertNotEqual(port, 0, f"{name}: a published port must be fixed")

    def test_listen_host_moves_every_server_and_keeps_its_port(self):
        text = re.sub(r"listen: 127\.0\.0\.1:\d+", "listen: 127.0.0.1:0", DEMO.read_text())
        with Farm(text, name="demo.yaml", args=["--listen-host", "127.0.0.2"]) as farm:
            for name in demo_servers():
                self.assertEqual(farm.ready["servers"][name]["host"], "127.0.0.2", name)
        result = run("run", DEMO, "--listen-host", "nowhere")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--listen-host nowhere", result.stderr)

    def test_behaves_as_its_comments_say(self):
        # The same servers on free ports, so that the test needs no fixed port.
        text = re.sub(r"listen: 127\.0\.0\.1:\d+", "listen: 127.0.0.1:0", DEMO.read_text())
        with Farm(text, name="demo.yaml") as farm:
            with socket.create_connection(farm.address("hello"), timeout=10) as sock, \
                    sock.makefile("rb") as reader:
                self.assertEqual(reader.readline(), b"220 hello\r\n")
                sock.sendall(b"HELO you\r\n")
                self.assertEqual(reader.readline(), b"250 hi you\r\n")
                self.assertEqual(reader.readline(), b"")  # then the server closes
            with socket.create_connection(farm.address("echo"), timeout=10) as sock, \
                    sock.makefile("rb") as reader:
                for sent, expected in [(b"PING\r\n", b"PONG\r\n"), (b"hi there\r\n", b"hi there\r\n"),
                                       (b"FLAKY\r\n", b"ERR try again\r\n"), (b"FLAKY\r\n", b"OK\r\n"),
                                       (b"QUIT\r\n", b"BYE\r\n")]:
                    sock.sendall(sent)
                    self.assertEqual(reader.readline(), expected, sent)
                self.assertEqual(reader.readline(), b"")
            # mail greylists the first message; the second try is accepted and lands in pop.
            message = b"From: bob@demo.test\r\nSubject: hi\r\n\r\nsent in the test\r\n"
            for code in (451, 250):
                with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                    client.ehlo("client.test")
                    client.mail("bob@demo.test")
                    client.rcpt("alice@demo.test")
                    if code == 451:
                        with self.assertRaises(smtplib.SMTPDataError) as refused:
                            client.data(message)
                        self.assertEqual(refused.exception.smtp_code, 451)
                    else:
                        self.assertEqual(client.data(message)[0], 250)
            pop = poplib.POP3(*farm.address("pop"), timeout=10)
            try:
                pop.user("alice")
                pop.pass_("secret")
                self.assertEqual(pop.stat()[0], 2)
                self.assertIn(b"Subject: welcome", pop.retr(1)[1])
                self.assertIn(b"sent in the test", pop.retr(2)[1])
            finally:
                pop.quit()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.settimeout(10)
                udp.sendto(b"PING\n", farm.address("datagram"))
                self.assertEqual(udp.recvfrom(100)[0], b"PONG")
        self.assertEqual(farm.returncode, 0, farm.stderr)
        self.assertEqual(len(farm.sessions("hello")), 1)
        self.assertEqual(len(farm.sessions("echo")), 1)
        self.assertEqual(len(farm.sessions("mail")), 2)
        self.assertEqual(len(farm.sessions("pop")), 1)
        self.assertEqual(len(farm.sessions("datagram")), 1)


class Dockerfile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.instructions = dockerfile_instructions(DOCKERFILE.read_text())
        cls.stages = max(stage for stage, _, _ in cls.instructions) + 1
        cls.runtime = cls.stages - 1

    def all(self, word, stage=None):
        return [args for s, w, args in self.instructions
                if w == word and (stage is None or s == stage)]

    def one(self, word, stage=None):
        found = self.all(word, stage)
        self.assertEqual(len(found), 1, f"expected one {word}, found {found}")
        return found[0]

    def test_two_stages_on_debian_12(self):
        froms = self.all("FROM")
        self.assertEqual(len(froms), 2, froms)
        for f in froms:
            self.assertRegex(f, r"^debian:(12|bookworm)\b")
        self.assertRegex(froms[0], r"\bAS build$")

    def test_build_stage_uses_the_makefile_commands(self):
        runs = " && ".join(self.all("RUN", 0))
        # The package list is tools/install-deps.sh's (the Makefile's `deps`), not a copy.
        self.assertIn("tools/install-deps.sh build", runs)
        # The build is the Makefile's own target, so its cmake flags cannot drift apart.
        m = re.search(r"\bmake build\b([^&]*)", runs)
        self.assertIsNotNone(m, "the build stage must run `make build`")
        self.assertNotRegex(runs, r"(^|&&)\s*cmake\b", "configure through `make build`, not by hand")
        makefile = (SOURCE / "Makefile").read_text()
        self.assertRegex(makefile, r"(?m)^build:.*\$\(BUILD\)/build\.ninja")
        self.assertRegex(makefile, r"(?m)^\$\(BUILD\)/build\.ninja:\n\tcmake -S \. -B \$\(BUILD\) -G Ninja")
        build_dir = makefile_variable(makefile, "BUILD")
        for a in shlex.split(m.group(1)):
            if a.startswith("BUILD="):
                build_dir = a.split("=", 1)[1]
        # The binary that goes into the image is the one that build made.
        self.assertRegex(runs, rf"\s{re.escape(build_dir)}/protofarm\b")
        copied = [c for c in self.all("COPY", self.runtime) if "--from=build" in c]
        self.assertEqual(len(copied), 1, copied)
        self.assertTrue(copied[0].endswith(" /usr/local/bin/protofarm"), copied[0])

    def test_runtime_stage_has_no_dev_packages(self):
        runs = " ".join(self.all("RUN", self.runtime))
        self.assertNotRegex(runs, r"-dev\b")
        for tool in ("g++", "cmake", "ninja-build", "make "):
            self.assertNotIn(" " + tool, runs)

    def test_runtime_stage_installs_every_library_the_binary_links(self):
        if not (shutil.which("ldd") and shutil.which("dpkg")):
            self.skipTest("needs ldd and dpkg")
        ldd = subprocess.run(["ldd", PROTOFARM], capture_output=True, text=True, timeout=30)
        self.assertEqual(ldd.returncode, 0, ldd.stderr)
        if re.search(r"lib(asan|ubsan)", ldd.stdout):
            self.skipTest("a sanitizer build links its runtimes too; the image ships a plain build")
        libraries = re.findall(r"=>\s+(/\S+)", ldd.stdout)
        self.assertTrue(libraries, ldd.stdout)
        packages = set()
        for lib in libraries:
            owner = subprocess.run(["dpkg", "-S", str(Path(lib).resolve())], capture_output=True,
                                   text=True, timeout=30)
            if owner.returncode != 0:  # /lib is a symbolic link to /usr/lib on Debian 12
                owner = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True,
                                       timeout=30)
            self.assertEqual(owner.returncode, 0, f"no package owns {lib}")
            packages.add(owner.stdout.split(":")[0])
        runs = " ".join(self.all("RUN", self.runtime))
        essential = {"libc6"}  # in every Debian image
        for package in sorted(packages - essential):
            self.assertRegex(runs, rf"(^|\s){re.escape(package)}(\s|$)",
                             f"the runtime stage must install {package} (the binary links it)")

    def test_entrypoint_and_default_command_run_the_demo(self):
        self.assertEqual(exec_form(self.one("ENTRYPOINT")), ["protofarm"])
        cmd = exec_form(self.one("CMD"))
        self.assertEqual(cmd[:2], ["run", IMAGE_SCENARIOS + "demo.yaml"])
        # 127.0.0.1 inside a container is unreachable from outside it.
        self.assertEqual(option(cmd, "--listen-host"), "0.0.0.0")
        self.assertEqual(option(cmd, "--transcripts"), TRANSCRIPTS)
        ready = option(cmd, "--ready-file")
        self.assertTrue(ready and ready.startswith(TRANSCRIPTS + "/"), cmd)
        health = self.one("HEALTHCHECK")
        self.assertIn(json.dumps(ready), health, "the health check waits for the ready file")
        self.assertIn(TRANSCRIPTS, self.one("VOLUME"))
        self.assertIn(f"COPY scenarios/ {IMAGE_SCENARIOS}", [f"COPY {c}" for c in
                                                              self.all("COPY", self.runtime)])

    def test_exposes_exactly_the_demo_ports(self):
        exposed = set()
        for args in self.all("EXPOSE"):
            exposed.update(args.split())
        wanted = set()
        for server in demo_servers().values():
            _, port = listen_port(server)
            wanted.add(f"{port}/udp" if server["protocol"] == "udp" else str(port))
        self.assertEqual(exposed, wanted)

    def test_build_context_leaves_out_host_builds(self):
        ignored = (SOURCE / ".dockerignore").read_text().split()
        self.assertIn("build*/", ignored)  # a host CMakeCache.txt would break the image's build
        self.assertIn(".git", ignored)


@unittest.skipUnless(shutil.which("docker-compose"), "docker-compose is not installed "
                     "(tools/install-deps.sh test installs it)")
class ComposeFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.config = compose_config()
        cls.services = cls.config["services"]

    def test_one_service_per_demo_server(self):
        served = {}
        for name, service in self.services.items():
            command = service["command"]
            self.assertEqual(command[0], "run", name)
            scenario = command[1]
            self.assertTrue(scenario.startswith(IMAGE_SCENARIOS), scenario)
            self.assertEqual(Path(scenario).name, DEMO.name, name)
            self.assertEqual(option(command, "--listen-host"), "0.0.0.0", name)
            only = [command[i + 1] for i, a in enumerate(command) if a == "--only"]
            self.assertEqual(len(only), 1, f"{name}: one --only per service")
            self.assertIn(only[0], list(demo_servers()),
                          f"{name}: --only {only[0]} is not a server of {DEMO.name}")
            served[only[0]] = name
        self.assertEqual(set(served), set(demo_servers()), "every demo server needs a service")

    def test_services_publish_their_server_port_and_record_to_the_volume(self):
        servers = demo_servers()
        for name, service in self.services.items():
            command = service["command"]
            self.assertIn(option(command, "--only"), list(servers), name)
            server = servers[option(command, "--only")]
            _, port = listen_port(server)
            protocol = "udp" if server["protocol"] == "udp" else "tcp"
            published = [(int(p["target"]), p.get("protocol", "tcp")) for p in service["ports"]]
            self.assertIn((port, protocol), published, name)
            self.assertEqual(service.get("build", {}).get("context"), str(SOURCE), name)
            self.assertIn(f"transcripts:{TRANSCRIPTS}:rw", service["volumes"], name)
            transcripts = option(command, "--transcripts")
            ready = option(command, "--ready-file")
            self.assertTrue(transcripts.startswith(TRANSCRIPTS + "/"), name)
            self.assertTrue(ready.startswith(transcripts + "/"), name)
            self.assertIn(ready, service["healthcheck"]["test"], name)
        # One folder per service: two farms must not share a transcript directory.
        folders = [option(s["command"], "--transcripts") for s in self.services.values()]
        self.assertEqual(len(folders), len(set(folders)))
        self.assertIn("transcripts", self.config.get("volumes", {}))

    def test_services_stop_with_sigterm_and_time_to_finish(self):
        for name, service in self.services.items():
            self.assertIn(service.get("stop_signal", "SIGTERM"), ("SIGTERM", "SIGINT"), name)
            grace = service.get("stop_grace_period", "10s")
            self.assertRegex(grace, r"^\d+s$")
            self.assertGreater(int(grace[:-1]), 5, f"{name}: protofarm waits 5 s for sessions")


if __name__ == "__main__":
    unittest.main()
