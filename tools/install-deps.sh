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
# chromium (headless) loads the control API's live page; python3-pytest runs the pytest plugin
# (clients/python), which python3-venv and python3-setuptools install with pip in a test.
test="$build libgtest-dev libgmock-dev clang-format clang-tidy python3 python3-jsonschema
  python3-yaml curl swaks libnet-ssleay-perl socat docker-compose json-schema-test-suite
  chromium python3-pytest python3-venv python3-setuptools python3-pip"
# libFuzzer comes with clang's runtime libraries (`make fuzz`).
fuzz="$test clang libclang-rt-14-dev"
# wrk loads the http fake, nginx and lighttpd (bench/http_bench.py).
bench="$test postfix nginx-light hyperfine vsftpd python3-pyftpdlib inn2 wrk lighttpd"
# Servers wanted only for their programs, as package:service: the benchmarks start them
# themselves (nginx and lighttpd from bench/'s configurations, vsftpd from bench/vsftpd.conf,
# innd and nnrpd from bench/inn/), as their own children on loopback ports, with pid files, logs
# and spools in a temporary folder. The packaged daemons must never start (see below).
daemons="nginx-light:nginx vsftpd:vsftpd inn2:inn2 lighttpd:lighttpd"

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
apt_install() {
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
}
# postfix is only wanted for its smtp-source/smtp-sink benchmark programs: never configure or
# start the mail system itself.
echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
$sudo apt-get update -q

# The services of the daemon packages about to be installed.
services=""
for d in $daemons; do
  case " $missing " in *" ${d%%:*} "*) services="$services ${d#*:}" ;; esac
done
if [ -z "$services" ]; then
  apt_install $missing
  exit 0
fi

# Their post-installs start them (invoke-rc.d, or deb-systemd-invoke under systemd; both ask
# policy-rc.d first), which must never happen: while the packages go in, a policy-rc.d that
# refuses every start (exit 101, see invoke-rc.d(8)) is in place. One that is already there and
# refuses each of these services stays (Docker's images have one); one that would allow any is
# set aside and put back afterwards.
policy=/usr/sbin/policy-rc.d
saved=$policy.protofarm-saved
ours=""
restore_policy() {
  if [ -n "$ours" ]; then
    $sudo rm -f "$policy"
    if [ -e "$saved" ]; then $sudo mv "$saved" "$policy"; fi
    ours=""
  fi
}
# Nor do they start at boot.
disable_services() {
  for s in $services; do
    $sudo update-rc.d "$s" disable >/dev/null 2>&1 || true
    if command -v deb-systemd-helper >/dev/null; then
      $sudo deb-systemd-helper disable "$s.service" >/dev/null 2>&1 || true
    fi
  done
}
trap restore_policy EXIT
trap 'exit 130' INT TERM
if [ -e "$saved" ]; then
  echo "$0: $saved exists (left by an interrupted run?): move it back to $policy first" >&2
  exit 1
fi
refuses=""
if [ -x "$policy" ]; then
  refuses=yes
  for s in $services; do
    # `|| rc=$?`: a refusal is a non-zero exit, which must not stop this script (set -e).
    rc=0
    "$policy" "$s" start >/dev/null 2>&1 || rc=$?
    [ "$rc" = 101 ] || refuses=""
  done
fi
if [ -z "$refuses" ]; then
  ours=yes
  if [ -e "$policy" ]; then $sudo mv "$policy" "$saved"; fi
  printf '#!/bin/sh\n# tools/install-deps.sh is installing%s: no service starts\nexit 101\n' \
    "$services" | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
fi

case " $missing " in
  *" inn2 "*) ;;
  *)
    apt_install $missing
    disable_services
    restore_policy
    exit 0
    ;;
esac

# inn2's post-install (and every INN program) fails unless it can tell the machine's domain:
# from the host name, or from `domain:` in /etc/news/inn.conf (which inn2-inews installs,
# with the line commented out). On a host whose name has no domain, set it.
inn_domain() {
  conf=/etc/news/inn.conf
  [ -f "$conf" ] || return 0
  grep -Eq '^domain:[[:space:]]*[^[:space:]]' "$conf" && return 0
  case "$(hostname --fqdn 2>/dev/null || hostname)" in *.*) return 0 ;; esac
  echo "setting domain: localdomain in $conf (the host name $(hostname) has no domain)"
  $sudo sed -i -e 's/^#*domain:.*$/domain:                      localdomain/' "$conf"
  grep -Eq '^domain:' "$conf" || echo "domain:                      localdomain" |
    $sudo tee -a "$conf" >/dev/null
}
# inn2-inews (inn2's pre-dependency, which has no post-install) brings inn.conf first.
apt_install inn2-inews
inn_domain
# inn2's first configure may still fail: it adds `usenet: root` to /etc/aliases and runs newaliases,
# which fails while postfix has no main.cf (it is installed unconfigured, above). The alias is
# in by then, and a second configure passes; so does one after an earlier run stopped half-way.
if ! apt_install $missing; then
  inn_domain
  $sudo dpkg --configure -a
fi
disable_services
restore_policy
