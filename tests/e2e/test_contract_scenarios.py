"""DESIGN.md's contract scenario hello-tcp, run with a real client, byte for byte."""

import socket
import unittest

from farm import SCENARIOS, Farm, client_bytes, run, server_bytes


def recv_until_closed(sock):
    data = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


class HelloTcp(unittest.TestCase):
    def test_validates(self):
        result = run("validate", SCENARIOS / "hello-tcp.yaml")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_greets_captures_and_closes(self):
        with Farm(path=SCENARIOS / "hello-tcp.yaml") as farm:
            with socket.create_connection(farm.address("hello"), timeout=10) as sock:
                self.assertEqual(sock.recv(100), b"220 hello\r\n")
                sock.sendall(b"HELO alice\r\n")
                self.assertEqual(recv_until_closed(sock), b"250 hi alice\r\n")
        self.assertEqual(farm.returncode, 0, farm.stderr)
        session = farm.session("hello", 1)
        self.assertEqual(session["protocol"], "tcp")
        self.assertEqual(session["close"], "server")
        self.assertEqual(client_bytes(session), b"HELO alice\r\n")
        self.assertEqual(server_bytes(session), b"220 hello\r\n250 hi alice\r\n")
        self.assertEqual([e["from"] for e in session["events"] if "from" in e],
                         ["server", "client", "server"])


if __name__ == "__main__":
    unittest.main()
