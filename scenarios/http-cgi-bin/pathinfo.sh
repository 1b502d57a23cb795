#!/bin/sh
# Prints the CGI meta-variables it was given, one NAME=value a line (only those that are set):
# /cgi-bin/pathinfo.sh/some/where?x=1 has PATH_INFO=/some/where.
printf 'Content-Type: text/plain; charset=utf-8\r\n\r\n'
for v in GATEWAY_INTERFACE SERVER_SOFTWARE SERVER_PROTOCOL SERVER_NAME SERVER_PORT \
         REQUEST_METHOD REQUEST_URI SCRIPT_NAME PATH_INFO PATH_TRANSLATED QUERY_STRING \
         REMOTE_ADDR REMOTE_HOST AUTH_TYPE REMOTE_USER CONTENT_LENGTH CONTENT_TYPE HTTPS \
         HTTP_HOST HTTP_USER_AGENT HTTP_ACCEPT HTTP_X_TRACE HTTP_AUTHORIZATION HTTP_PROXY; do
  eval "isset=\${$v+set}"
  if [ "$isset" = set ]; then
    eval "printf '%s=%s\n' \"\$v\" \"\$$v\""
  fi
done
