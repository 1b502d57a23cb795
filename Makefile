# protofarm: `make demo` and `make test` work on a fresh Debian 12 machine; both install the
# Debian packages they need first (tools/install-deps.sh, as root or with sudo).
#
#   make demo     build, then run scenarios/demo.yaml with transcripts in out/demo
#   make test     check formatting and clang-tidy (tidy-recent), build and run every test, then
#                 again under ASan+UBSan
#   make check    build and run every test once (no sanitizer build): the quick local loop
#   make unit     only the unit tests
#   make e2e      only the end-to-end tests
#   make tidy     clang-tidy (.clang-tidy) over controller/ and fakes/, after a configure
#   make tidy-recent  the same over the sources changed in the last TIDY_RECENT commits (15),
#                 which is what make test runs: the whole tree takes CI ~8 minutes
#   make fuzz     libFuzzer campaigns of FUZZ_SECONDS (default 60) per target in tests/fuzz/
#                 (make test replays their saved corpus in both of its builds)
#   make soak     the soak test alone and long: tests/e2e/soak.py for SOAK_SECONDS (600) with
#                 SOAK_CLIENTS (1000) hostile clients beside a well-behaved client of every
#                 protocol (make test runs a 60-second one); needs ~12 GiB free under TMPDIR
#   make bench    the benchmarks in bench/ (installs postfix's smtp-source, nginx, vsftpd,
#                 pyftpdlib, INN, wrk and lighttpd; no packaged daemon is ever started;
#                 bench/run.sh --only ftp|nntp|http|control|recorder for one part)
#   make format   reformat the C++ sources with clang-format

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 600
SOAK_CLIENTS ?= 1000
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null || find controller fakes tests bench -name '*.[ch]pp')

.PHONY: all deps test-deps test-tools build demo test check unit e2e asan tidy format format-check \
	bench clean fuzz fuzz-deps tidy-recent soak

all: build

deps:
	tools/install-deps.sh build

test-deps:
	tools/install-deps.sh test

# Before anything is built: every tool the tests drive is there and can do what they ask (swaks
# with TLS, curl with each protocol, ...), so a gap is one clear line, not a test failing later.
test-tools: test-deps
	tools/check-test-tools.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	mkdir -p out
	$(BUILD)/protofarm run scenarios/demo.yaml --transcripts out/demo --ready-file out/demo-ready.json

check: test-tools $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit: test-tools $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

e2e: test-tools $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L e2e

soak: test-tools build
	/usr/bin/python3 tests/e2e/soak.py --seconds $(SOAK_SECONDS) --clients $(SOAK_CLIENTS) \
	  --protofarm $(BUILD)/protofarm

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROTOFARM_SANITIZE=ON $(CMAKE_FLAGS)

asan: test-tools $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

# libFuzzer needs clang: a build of its own, with only the fuzzers and what they link. Each runs
# FUZZ_SECONDS from its saved corpus, with its protocol's words (tests/fuzz/dict/<name>.dict); new inputs go to $(FUZZ_BUILD)/corpus/<name>, and a crash
# leaves crash-* there and fails the target (copy the input into tests/fuzz/corpus/<name>/ once
# fixed, so every build replays it).
fuzz-deps:
	tools/install-deps.sh fuzz

$(FUZZ_BUILD)/build.ninja: | fuzz-deps
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPROTOFARM_FUZZ=ON $(CMAKE_FLAGS)

fuzz: fuzz-deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	@for f in $(FUZZ_BUILD)/tests/fuzz/*_fuzz; do \
	  name=$$(basename $$f _fuzz); mkdir -p $(FUZZ_BUILD)/corpus/$$name; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  dict=; [ -f tests/fuzz/dict/$$name.dict ] && dict=-dict=$(CURDIR)/tests/fuzz/dict/$$name.dict; \
	  (cd $(FUZZ_BUILD)/corpus/$$name && $(CURDIR)/$$f -max_total_time=$(FUZZ_SECONDS) $$dict \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 . $(CURDIR)/tests/fuzz/corpus/$$name) \
	    || exit 1; \
	done

# clang cannot load GCC's precompiled header, so clang-tidy reads a copy of compile_commands.json
# that includes the header's source (fakes/common/pch.hpp) instead. Any warning fails the target
# (WarningsAsErrors in .clang-tidy). TIDY_FILES narrows the run: make tidy TIDY_FILES=controller/
# Only our sources are checked, not the generated ones (build/generated/: embedded JSON), so the
# configure step is all tidy needs, no build. A source the configure step has not seen yet (a
# file just added to a fake's folder), or one it saw that is gone (after switching branches),
# re-runs it; one still without a compile command (in no target) fails the target, rather than
# go unchecked without a word.
TIDY_DIR ?= $(BUILD)/tidy
TIDY_FILES ?= $(CURDIR)/(controller|fakes)/.*\.cpp$$

tidy: test-deps $(BUILD)/build.ninja
	@unseen() { for f in $$(git ls-files 'controller/*.cpp' 'fakes/*.cpp'); do \
	  grep -qF "\"file\": \"$(CURDIR)/$$f\"" $(BUILD)/compile_commands.json || echo "$$f"; done; }; \
	gone() { sed -n 's/^ *"file": "\(.*\)",*$$/\1/p' $(BUILD)/compile_commands.json | \
	  while read -r f; do [ -e "$$f" ] || echo "$$f"; done; }; \
	if [ -n "$$(unseen)$$(gone)" ]; then cmake -S . -B $(BUILD) > /dev/null || exit 1; fi; \
	if [ -n "$$(unseen)" ]; then echo "tidy: no compile command for" $$(unseen) >&2; exit 1; fi
	mkdir -p $(TIDY_DIR)
	sed -e 's#-include [^ ]*/cmake_pch\.hxx#-include $(CURDIR)/fakes/common/pch.hpp#g' \
	    -e 's# -Winvalid-pch##g' $(BUILD)/compile_commands.json > $(TIDY_DIR)/compile_commands.json
	run-clang-tidy -p $(TIDY_DIR) -j $(JOBS) -quiet '$(TIDY_FILES)'

# The sources under controller/ and fakes/ changed in the last TIDY_RECENT commits (all of them
# when the history is shorter, as in a shallow clone: then git diff fails and tidy runs whole).
TIDY_RECENT ?= 15
tidy-recent:
	@if base=$$(git rev-parse --verify -q HEAD~$(TIDY_RECENT)); then \
	  files=$$(git diff --name-only --diff-filter=d $$base -- 'controller/*.cpp' 'fakes/*.cpp' | \
	    sed 's/[.]/[.]/g' | paste -sd'|'); \
	  if [ -z "$$files" ]; then echo "tidy-recent: no C++ source changed"; exit 0; fi; \
	  echo "tidy-recent: $$(echo "$$files" | tr '|' '\n' | wc -l) files changed since HEAD~$(TIDY_RECENT)"; \
	  $(MAKE) --no-print-directory tidy TIDY_FILES="$(CURDIR)/($$files)"'$$$$'; \
	else $(MAKE) --no-print-directory tidy; fi

format:
	clang-format -i $(SOURCES)

format-check: test-deps
	clang-format --dry-run --Werror $(SOURCES)

test: format-check tidy-recent check asan

bench: build
	tools/install-deps.sh bench
	cmake --build $(BUILD) -j $(JOBS) --target ftp_load
	PROTOFARM=$(BUILD)/protofarm bench/run.sh

# scenarios/schema.json is generated: protofarm composes the schema from
# controller/schema_base.json and each fake's fakes/<protocol>/schema.json (a unit test fails
# when the copy is stale). Through a temporary file, so a failed run leaves the copy intact.
.PHONY: schema
schema: build
	$(BUILD)/protofarm schema > scenarios/schema.json.tmp
	mv scenarios/schema.json.tmp scenarios/schema.json

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) out
