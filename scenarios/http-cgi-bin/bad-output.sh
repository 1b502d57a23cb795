#!/bin/sh
# Not a CGI response (no header block): the server answers 502 Bad Gateway.
printf 'just some text, no header\n'
