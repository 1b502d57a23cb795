#!/bin/sh
# Installs the Debian 12 packages that protofarm needs and that are missing.
# Usage: tools/install-deps.sh [build|test|fuzz|bench]   (each set includes build and test)
set -eu
set_name=${1:-build}

build="g++ make cmake ninja-build pkg-config libboost1.81-dev nlohmann-json3-dev libyaml-cpp-dev
  libcli11-dev libssl-dev openssl"
# Packages are installed without their Recommends, so what a test tool only recommends is named
# here: swaks needs libnet-ssleay-perl for --tls/--tlsc (AUTH LOGIN and CRAM-MD5 use modules of
# Perl itself). tools/check-test-tools.sh checks that each tool can do what the tests ask.
test="$build libgtest-dev libgmock-dev clang-format clang-tidy python3 python3-jsonschema
  python3-yaml curl swaks libnet-ssleay-perl socat docker-compose json-schema-test-suite"
# libFuzzer comes with clang's runtime libraries (`make fuzz`).
fuzz="$test clang libclang-rt-14-dev"
bench="$test postfix nginx-light hyperfine vsftpd python3-pyftpdlib"

case "$set_name" in
  build) wanted=$build ;;
  test) wanted=$test ;;
  fuzz) wanted=$fuzz ;;
  bench) wanted=$bench ;;
  *) echo "usage: $0 [build|test|fuzz|bench]" >&2; exit 2 ;;
esac

missing=""
for p in $wanted; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "installing Debian packages:$missing"
sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
# postfix is only wanted for its smtp-source/smtp-sink benchmark programs: never configure or
# start the mail system itself.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
