# protofarm: `make demo` and `make test` work on a fresh Debian 12 machine; both install the
# Debian packages they need first (tools/install-deps.sh, as root or with sudo).
#
#   make demo     build, then run scenarios/demo.yaml with transcripts in out/demo
#   make test     build and run every test, then again under ASan+UBSan, and check formatting
#   make check    build and run every test once (no sanitizer build): the quick local loop
#   make unit     only the unit tests
#   make bench    the benchmarks in bench/ (installs postfix's smtp-source and nginx)
#   make format   reformat the C++ sources with clang-format

BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SOURCES = $(shell git ls-files '*.cpp' '*.hpp' 2>/dev/null || find controller fakes tests bench -name '*.[ch]pp')

.PHONY: all deps test-deps build demo test check unit e2e asan format format-check bench clean

all: build

deps:
	tools/install-deps.sh build

test-deps:
	tools/install-deps.sh test

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	mkdir -p out
	$(BUILD)/protofarm run scenarios/demo.yaml --transcripts out/demo --ready-file out/demo-ready.json

check: test-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

unit: test-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L unit

e2e: test-deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L e2e

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROTOFARM_SANITIZE=ON $(CMAKE_FLAGS)

asan: test-deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -LE slow

format:
	clang-format -i $(SOURCES)

format-check: test-deps
	clang-format --dry-run --Werror $(SOURCES)

test: format-check check asan

bench: build
	tools/install-deps.sh bench
	PROTOFARM=$(BUILD)/protofarm bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) out
