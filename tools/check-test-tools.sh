#!/bin/sh
# Checks that every external tool the tests use is installed and can do what the tests ask of it,
# before anything is built: a missing Perl module or curl protocol otherwise shows up minutes later
# as a confusing test failure (or, worse, as a skipped test). Each problem is one line naming the
# Debian package that fixes it; tools/install-deps.sh test installs them all.
#
# What is checked, and which tests need it:
#   swaks: TLS (--tls, --tlsc), AUTH LOGIN and CRAM-MD5, pipelining   tests/e2e/test_smtp_clients.py
#   curl: smtp smtps pop3 pop3s ftp ftps telnet gopher http https,   test_smtp_clients, test_pop3,
#         over TLS                                                    test_ftp_*, test_tcp, test_http_*
#   /usr/bin/python3's ftplib (with ssl)                              tests/e2e/test_ftp_*.py
#   socat, openssl (s_client)                                         tests/e2e/test_tcp.py
#   docker-compose                                                    tests/e2e/test_docker_compose.py
#   /usr/bin/python3 with jsonschema (draft 2020-12) and yaml         the e2e runner, test_schema.py
#   clang-format, clang-tidy                                          make format-check, make tidy
#   the JSON-Schema-Test-Suite                                        tests/unit/schema_suite_test.cpp
#   /usr/bin/python3 with pytest, venv and pip                        test_pytest_plugin.py
#   chromium (headless)                                               test_control_page.py
set -u

failed=0
# missing WHAT PACKAGE: one line per problem, and the exit status becomes 1.
missing() {
  echo "$1: install $2 (tools/install-deps.sh test)" >&2
  failed=1
}
have() { command -v "$1" >/dev/null 2>&1; }

# swaks reports each optional feature as "=== NAME supported" or "*** NAME not available: ...".
# Pipelining needs no module, so it is not in the list.
if have swaks; then
  support=$(swaks --support 2>&1)
  swaks_can() { printf '%s\n' "$support" | grep -q "^=== $1 supported"; }
  swaks_can "TLS" || missing "swaks cannot do TLS" libnet-ssleay-perl
  # "Basic AUTH" is PLAIN and LOGIN (MIME::Base64); CRAM-MD5 needs Digest::MD5. Both modules are
  # part of Perl itself, which swaks depends on.
  swaks_can "Basic AUTH" || missing "swaks cannot do AUTH LOGIN" perl
  swaks_can "AUTH CRAM-MD5" || missing "swaks cannot do AUTH CRAM-MD5" perl
else
  missing "swaks is not installed" swaks
fi

if have curl; then
  protocols=$(curl -V | sed -n 's/^Protocols: //p')
  for p in smtp smtps pop3 pop3s ftp ftps telnet gopher http https; do
    case " $protocols " in
      *" $p "*) ;;
      *) missing "curl cannot do $p://" curl ;;
    esac
  done
  curl -V | grep -q '^Features:.* SSL' || missing "curl has no TLS support" curl
else
  missing "curl is not installed" curl
fi

have socat || missing "socat is not installed" socat
have openssl || missing "openssl is not installed" openssl
# Debian's docker-compose is a Python program: it can be on PATH and still fail to start.
docker-compose version >/dev/null 2>&1 || missing "docker-compose does not run" docker-compose

# The e2e tests run under Debian's python3 on purpose (tests/CMakeLists.txt), not whatever
# python3 comes first on PATH.
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 -c 'import jsonschema; jsonschema.Draft202012Validator' >/dev/null 2>&1 ||
    missing "/usr/bin/python3 cannot import jsonschema (with Draft202012Validator)" \
      python3-jsonschema
  /usr/bin/python3 -c 'import yaml' >/dev/null 2>&1 ||
    missing "/usr/bin/python3 cannot import yaml" python3-yaml
  /usr/bin/python3 -c 'import ftplib; ftplib.FTP_TLS' >/dev/null 2>&1 ||
    missing "/usr/bin/python3 has no ftplib.FTP_TLS (TLS support)" libpython3.11-stdlib
  /usr/bin/python3 -c 'import pytest' >/dev/null 2>&1 ||
    missing "/usr/bin/python3 cannot import pytest" python3-pytest
  /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 ||
    missing "/usr/bin/python3 cannot make a venv" python3-venv
  /usr/bin/python3 -m pip --version >/dev/null 2>&1 ||
    missing "/usr/bin/python3 has no pip" python3-pip
  /usr/bin/python3 -c 'import setuptools.build_meta' >/dev/null 2>&1 ||
    missing "/usr/bin/python3 cannot import setuptools" python3-setuptools
else
  missing "/usr/bin/python3 is not installed" python3
fi

[ -x /usr/bin/chromium ] || missing "/usr/bin/chromium is not installed" chromium
have clang-format || missing "clang-format is not installed" clang-format
have clang-tidy || missing "clang-tidy is not installed" clang-tidy
[ -d /usr/share/json-schema-test-suite/tests/draft7 ] ||
  missing "/usr/share/json-schema-test-suite/tests/draft7 is missing" json-schema-test-suite

if [ "$failed" != 0 ]; then
  echo "the test tools above are missing or incomplete; not running the tests" >&2
  exit 1
fi
