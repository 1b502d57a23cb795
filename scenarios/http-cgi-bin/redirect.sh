#!/bin/sh
# A client redirect with a document (RFC 3875 6.2.4): Status 302, an absolute Location (back to
# hello.sh on this server, over https when the request came over it), and a short body.
scheme=http
[ "$HTTPS" = on ] && scheme=https
printf 'Status: 302 Found\r\n'
printf 'Location: %s://%s/cgi-bin/hello.sh?name=redirected\r\n' "$scheme" "${HTTP_HOST:-$SERVER_NAME:$SERVER_PORT}"
printf 'Content-Type: text/plain; charset=utf-8\r\n'
printf '\r\n'
printf 'Moved: see the Location header.\n'
