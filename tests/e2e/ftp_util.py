"""What the ftp end-to-end tests read from a transcript: the commands, the control replies and
the bytes of data channels (listings; files are named by size and digest instead)."""

import hashlib

from farm import event_bytes


def commands(session):
    """The (command, args) pairs the transcript recorded, in order."""
    return [(e["command"], e["args"]) for e in session["events"]
            if e.get("from") == "client" and "command" in e]


def verbs(session):
    return [verb for verb, _ in commands(session)]


def control_bytes(session):
    """What the server sent on the control connection."""
    return b"".join(event_bytes(e) for e in session["events"]
                    if e.get("from") == "server" and "channel" not in e)


def data_events(session):
    """The server's byte events on data connections."""
    return [e for e in session["events"]
            if e.get("from") == "server" and e.get("channel") == "data"]


def data_bytes(session):
    return b"".join(event_bytes(e) for e in data_events(session))


def sha256(data):
    return hashlib.sha256(data).hexdigest()
