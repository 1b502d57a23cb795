#!/bin/sh
# Runs protofarm's benchmarks (bench/bench.py: start-up, idle memory, round trips, SMTP) and
# prints a table of medians against their targets; the results go to bench/results/latest.json.
#
#   bench/run.sh [--quick] [--strict] [--json FILE]     (`make bench` installs the tools first)
#
# PROTOFARM names the binary to measure (default build-bench/protofarm, then build/protofarm);
# measure an optimized build (RelWithDebInfo or Release), never a sanitizer build.
set -eu
cd "$(dirname "$0")/.."
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3
exec "$python" bench/bench.py "$@"
