#!/bin/sh
# A local redirect (RFC 3875 6.2.2): a Location that is a path, and nothing else. The server
# answers as if the client had asked for that path: here a file of the document root.
printf 'Location: /hello.txt\r\n\r\n'
