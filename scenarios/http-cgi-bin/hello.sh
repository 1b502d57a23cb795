#!/bin/sh
# CGI/1.1 (RFC 3875) in shell: a GET with a query. /cgi-bin/hello.sh?name=World greets World.
# The name is taken from QUERY_STRING as sent (not percent-decoded). A line on stderr shows up
# in the transcript as a cgi_stderr event.
name=$(printf '%s' "$QUERY_STRING" | sed -n 's/^\(.*&\)\{0,1\}name=\([^&]*\).*$/\2/p')
[ -n "$name" ] || name=world
echo "hello.sh: greeting $name" >&2
printf 'Content-Type: text/plain; charset=utf-8\r\n'
printf 'X-Script: hello.sh\r\n'
printf '\r\n'
printf 'Hello, %s!\n' "$name"
printf 'method=%s query=%s\n' "$REQUEST_METHOD" "$QUERY_STRING"
