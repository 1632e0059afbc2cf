# doorman — the few commands a developer and CI need. The build itself is CMake with the
# presets in CMakePresets.json (binary dirs build/<preset>); this file only strings them
# together and installs what is missing first (scripts/install-deps, Debian 12).
#
#   make run           build a release binary and run the demo on http://127.0.0.1:8080/
#   make test          dev build + every test, then the same tests under ASan+UBSan
#   make fuzz          libFuzzer targets, each run for FUZZ_SECONDS
#   make lint          clang-tidy + cppcheck on src/, warnings are errors
#   make soak          mixed load for SOAK_SECONDS; doorman's RSS and fds must stay flat
#   make package       dist/doorman_<version>_<arch>.deb and dist/doorman-<version>-1.<arch>.rpm
#   make help          all targets

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build
MAKEFLAGS += --no-print-directory
# Targets run one after another even under -j: each build already uses every core, and
# `make test` must run its dev tests before the asan build.
.NOTPARALLEL:

# Parallel test processes (CI is a 2-core machine).
CTEST_JOBS ?= 2
# Default per-test timeout in seconds, for tests that do not set their own: a hung test
# fails instead of eating CI's time.
CTEST_TIMEOUT ?= 300
CTEST_ARGS = -j$(CTEST_JOBS) --output-on-failure --no-tests=error --timeout $(CTEST_TIMEOUT)
CLANG_FORMAT ?= clang-format
# Same values as the asan test preset; set here too so a plain `ctest --preset asan` and
# this file agree even if the caller has its own ASAN_OPTIONS.
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

FORMAT_DIRS = src include tests integration fuzz

# Seconds each fuzz target runs in `make fuzz` (6 targets; CI keeps the default).
FUZZ_SECONDS ?= 30
# Parallel clang-tidy processes for `make lint`.
LINT_JOBS ?= 2

banner = @echo; echo "==> $(1)"

.PHONY: help deps deps-bench deps-fuzz deps-lint build release asan clang-build run test \
	test-dev test-asan fuzz lint package test-packaging format format-check clean bench \
	bench-instructions soak

# Arguments for bench/run.py, e.g. BENCH_ARGS="--quick --scenario 1"
BENCH_ARGS ?=
# How long `make soak` loads doorman, and further bench/soak.py arguments.
SOAK_SECONDS ?= 600
SOAK_ARGS ?=

help:
	@echo "make deps         install missing Debian packages (build + test groups)"
	@echo "make build        dev build (build/dev)"
	@echo "make release      release build (build/release/doorman)"
	@echo "make run          release build, then the demo on http://127.0.0.1:8080/"
	@echo "make test         dev build + all tests, then asan build + all tests"
	@echo "make asan         AddressSanitizer+UBSan build (build/asan)"
	@echo "make test-asan    asan build + all tests under it"
	@echo "make clang-build  warning-free build with clang++-14 (build/clang)"
	@echo "make fuzz         libFuzzer targets (build/fuzz), each for FUZZ_SECONDS=$(FUZZ_SECONDS)"
	@echo "make lint         clang-tidy (.clang-tidy) + cppcheck on src/, warnings are errors"
	@echo "make package      .deb and .rpm in dist/ (fresh builds in build/package)"
	@echo "make test-packaging  build both packages, lint them, install, run and purge the"
	@echo "                  .deb (root; changes the machine; a CI step, .ci/run)"
	@echo "make format       clang-format -i on $(FORMAT_DIRS)"
	@echo "make format-check clang-format --dry-run --Werror on $(FORMAT_DIRS)"
	@echo "make bench        doorman, nginx, HAProxy and h2o side by side (bench/, ~25 min;"
	@echo "                  BENCH_ARGS=\"--quick\" for a few seconds per case, --scenario N for one)"
	@echo "make bench-instructions  instructions per request under callgrind (docs/PERFORMANCE.md)"
	@echo "make soak         mixed load on doorman for SOAK_SECONDS=$(SOAK_SECONDS); fails if its RSS"
	@echo "                  grows or its fds do not return to baseline (bench/results/soak-<date>.md)"
	@echo "make clean        remove build/ and dist/"

deps:
	$(call banner,dependencies)
	@scripts/install-deps build test

deps-bench:
	@scripts/install-deps bench

deps-fuzz:
	@scripts/install-deps build fuzz

deps-lint:
	@scripts/install-deps build lint

build: deps
	$(call banner,dev build)
	cmake --preset dev
	cmake --build --preset dev

release: deps
	$(call banner,release build)
	cmake --preset release
	cmake --build --preset release

asan: deps
	$(call banner,asan build)
	cmake --preset asan
	cmake --build --preset asan

clang-build: deps
	$(call banner,clang-14 build (warnings are errors))
	cmake --preset clang
	cmake --build --preset clang -- -k 0  # every error in one run

# The fuzz preset builds only the fuzz targets (clang-14, -fsanitize=fuzzer-no-link,
# address,undefined); scripts/run-fuzz runs each one for FUZZ_SECONDS and prints its
# executions and coverage. A crash fails the target (input in build/fuzz/artifacts/).
fuzz: deps-fuzz
	$(call banner,fuzz build)
	cmake --preset fuzz
	cmake --build --preset fuzz
	$(call banner,fuzz ($(FUZZ_SECONDS)s per target))
	scripts/run-fuzz $(FUZZ_SECONDS)

# clang-tidy needs a compile database: configuring the dev preset exports one (nothing is
# built). Only src/ translation units are checked (headers of include/ and src/ through
# them), LINT_JOBS at a time. cppcheck runs even when clang-tidy found something, so one
# run reports both; either one failing fails the target.
lint: deps-lint
	$(call banner,lint: clang-tidy)
	cmake --preset dev >/dev/null
	@rc=0; run-clang-tidy-14 -quiet -p build/dev -j $(LINT_JOBS) "$$PWD/src/" \
		>build/dev/clang-tidy.log 2>&1 || rc=$$?; \
	sed 's/\x1b\[[0-9;]*m//g' build/dev/clang-tidy.log \
		| grep -v -E '^(Suppressed [0-9]+ warnings|Use -header-filter|[0-9]+ warnings? generated)' \
		|| true; \
	if [[ $$rc -ne 0 ]]; then echo "clang-tidy: findings above (build/dev/clang-tidy.log)"; fi; \
	echo; echo "==> lint: cppcheck"; \
	cppcheck --quiet --error-exitcode=1 --std=c++20 --language=c++ --inline-suppr \
		--enable=warning,performance,portability -j $(LINT_JOBS) \
		-I include -I src src || rc=1; \
	exit $$rc

run: release
	$(call banner,demo)
	scripts/run-demo

test: test-dev test-asan

test-dev: build
	$(call banner,tests (dev))
	ctest --preset dev $(CTEST_ARGS)

test-asan: asan
	$(call banner,tests (asan))
	$(ASAN_ENV) ctest --preset asan $(CTEST_ARGS)

# Both packages from a fresh copy of the sources (scripts/build-packages): nothing in
# build/<preset> is reused.
package:
	$(call banner,packages)
	@scripts/install-deps build package
	scripts/build-packages

# The packaging test (CTest label packaging): it builds its own packages, installs the
# .deb on this machine and purges it again, so it needs root and is not part of `make
# test`; CI runs it as a step of its own (.ci/run).
test-packaging:
	$(call banner,packaging test)
	@scripts/install-deps build test package
	cmake --preset packaging
	ctest --preset packaging $(CTEST_ARGS)

# Every *.cpp and *.hpp under FORMAT_DIRS (a missing directory is skipped).
format_files = find $(FORMAT_DIRS) -type f \( -name '*.cpp' -o -name '*.hpp' \) 2>/dev/null | sort

format: deps
	$(call banner,clang-format -i)
	@files="$$($(format_files) || true)"; \
	if [[ -z "$$files" ]]; then echo "no *.cpp/*.hpp files"; exit 0; fi; \
	$(CLANG_FORMAT) -i $$files; \
	echo "formatted $$(wc -w <<<"$$files") files"

format-check: deps
	$(call banner,clang-format check)
	@files="$$($(format_files) || true)"; \
	if [[ -z "$$files" ]]; then echo "no *.cpp/*.hpp files"; exit 0; fi; \
	$(CLANG_FORMAT) --dry-run --Werror $$files; \
	echo "$$(wc -w <<<"$$files") files formatted correctly"

# Not part of `make test`: it needs the bench packages, both cores and a quiet machine.
bench: deps deps-bench
	$(call banner,release build of doorman)
	cmake --preset release
	cmake --build --preset release --target doorman
	$(call banner,benchmark)
	/usr/bin/python3 bench/run.py $(BENCH_ARGS)

bench-instructions: deps deps-bench
	cmake --preset release
	cmake --build --preset release --target doorman
	/usr/bin/python3 bench/instructions.py $(BENCH_ARGS)

# Not part of `make test` either: a bounded mixed load (bench/soak.py) on the release
# binary while doorman's RSS and descriptors are sampled; both must stay flat.
soak: deps
	$(call banner,release build of doorman)
	cmake --preset release
	cmake --build --preset release --target doorman
	$(call banner,soak ($(SOAK_SECONDS)s))
	/usr/bin/python3 bench/soak.py --seconds $(SOAK_SECONDS) $(SOAK_ARGS)

clean:
	rm -rf build dist
