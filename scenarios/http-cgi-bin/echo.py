#!/usr/bin/python3
"""CGI/1.1 (RFC 3875) in Python: the request body comes back as the response body, with the
request's Content-Type. The server gives the body on stdin, de-chunked, and its length in
CONTENT_LENGTH (RFC 3875 4.1.2), so a chunked upload reads the same as one with a length."""
import os
import sys

length = int(os.environ.get("CONTENT_LENGTH") or 0)
body = sys.stdin.buffer.read(length) if length else b""
content_type = os.environ.get("CONTENT_TYPE") or "application/octet-stream"
out = sys.stdout.buffer
out.write(b"Content-Type: " + content_type.encode() + b"\r\n")
out.write(b"X-Request-Method: " + os.environ.get("REQUEST_METHOD", "").encode() + b"\r\n")
out.write(b"X-Body-Length: %d\r\n" % len(body))
out.write(b"\r\n")
out.write(body)
out.flush()
