#!/bin/sh
# Runs protofarm's benchmarks (bench/bench.py: start-up, idle memory, round trips, SMTP, FTP
# against vsftpd and pyftpdlib, NNTP against INN, HTTP with wrk against nginx and lighttpd's
# mod_cgi, the recorder on the disk against protofarm without transcripts and Postfix's
# smtp-sink -D) and prints a table of medians against their targets; the results go to
# bench/results/latest.json.
#
#   bench/run.sh [--quick] [--strict] [--json FILE] [--only ftp|nntp|http|control|recorder]
#
# `make bench` installs the tools first (tools/install-deps.sh bench: postfix's smtp-source and
# smtp-sink, nginx, vsftpd, pyftpdlib, INN's inn2, wrk, lighttpd). The benchmarks start the
# reference servers themselves, on loopback, and stop them by pid; no packaged service (mail
# system, news server, web server) is started.
#
# PROTOFARM names the binary to measure (default build-bench/protofarm, then build/protofarm);
# measure an optimized build (RelWithDebInfo or Release), never a sanitizer build.
set -eu
cd "$(dirname "$0")/.."
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
exec "$python" bench/bench.py "$@"
