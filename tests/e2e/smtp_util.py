"""Helpers for the smtp e2e tests: reading replies from a raw socket, and picking the SMTP parts
out of a session document (commands, message events, body bytes)."""

import socket
import ssl
import time

from farm import event_bytes, named_events

TIMEOUT = 10


class Raw:
    """A raw client socket that reads whole SMTP replies (bounded by TIMEOUT, never a sleep)."""

    def __init__(self, address, timeout=TIMEOUT):
        self.sock = socket.create_connection(address, timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection; got so far: %r" % self.buf)
        self.buf += chunk

    def line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line + b"\n"

    def reply(self):
        """One whole reply (all its lines), as bytes."""
        out = b""
        while True:
            line = self.line()
            out += line
            if len(line) < 4 or line[3:4] != b"-":
                return out

    def cmd(self, line):
        """Sends one command line (CRLF added) and returns the reply."""
        self.send(line + b"\r\n")
        return self.reply()

    def read_until_closed(self):
        """Everything until the server closes (a reset counts as a close). A server that keeps
        the connection open past the socket's timeout fails the test."""
        data = self.buf
        self.buf = b""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return data
            except socket.timeout:
                raise AssertionError(f"the server did not close the connection; got {data!r}")
            if not chunk:
                return data
            data += chunk

    def starttls(self, ca):
        ctx = ssl.create_default_context(cafile=ca)
        self.sock = ctx.wrap_socket(self.sock, server_hostname="localhost")


def commands(session):
    """The (command, args) pairs the fake recorded, in order."""
    return [(e["command"], e.get("args")) for e in session["events"]
            if e.get("from") == "client" and "command" in e]


def verbs(session):
    return [c for c, _ in commands(session)]


def messages(session):
    return named_events(session, "message")


def data_bytes(session):
    """The DATA/BDAT body bytes the fake recorded, in order."""
    return b"".join(event_bytes(e) for e in session["events"]
                    if e.get("from") == "client" and e.get("data"))


def saved(farm, event, key="file"):
    """The bytes of a message event's saved .eml file."""
    return (farm.transcripts / event[key]).read_bytes()


def wait_closed(farm, server, count=1):
    return farm.wait_sessions(server, count)
