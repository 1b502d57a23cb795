#!/bin/sh
# A non-parsed-header script (RFC 3875 5): its name starts with nph-, so what it writes is the
# whole HTTP response, status line included, and the server passes it on untouched (then closes
# the connection: where the response ends is the script's business).
printf '%s 200 OK\r\n' "${SERVER_PROTOCOL:-HTTP/1.1}"
printf 'Content-Type: text/plain\r\n'
printf 'X-Nph: untouched\r\n'
printf '\r\n'
printf 'This whole response came from the script.\n'
