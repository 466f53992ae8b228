#!/bin/sh
# SPDX-License-Identifier: MIT
# The test command: install what is missing, fuzz each parser for a minute, build everything
# with ASan+UBSan and warnings as errors, inject faults under load, run the integration suite
# under valgrind, run every unit and integration test, and check the instruction budgets.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh tests/deps.sh test

# A short fuzzing run of every parser (two targets at a time); findings fail the run.
FUZZ_JOBS=2 sh tests/fuzz/run.sh "${FUZZ_SECONDS:-60}"

# SINKHOLED_TESTS=ON: a missing test tool fails the configure instead of leaving tests out.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSINKHOLED_SANITIZE=ON -DSINKHOLED_WERROR=ON \
	-DSINKHOLED_TESTS=ON >/dev/null
cmake --build build-asan -j "$(nproc)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# Faults under load (ASan build), then the integration suite under valgrind.
# (Their work dirs are in the checkout, like the build dirs: git ignores /build*/.)
SINKHOLED_BIN="$top/build-asan/sinkholed" RELIABILITY_WORKDIR="$top/build-reliability" \
	bash tests/reliability/run.sh
VALGRIND_WORKDIR="$top/build-valgrind" bash tests/reliability/valgrind.sh

# An optimised build without sanitizers: a watched list rewritten under 10k q/s (an ASan
# build on 2 cores cannot reload at that rate without loss), and the instruction budgets.
cmake -S . -B build-budget -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSINKHOLED_WERROR=ON \
	-DSINKHOLED_TESTS=ON >/dev/null
cmake --build build-budget -j "$(nproc)" --target budget sinkholed
# The build's output goes to disk now, not under the load test below (on 2 cores, the
# writeback competes with the daemon for the CPU it has).
sync
SINKHOLED_BIN="$top/build-budget/sinkholed" RELIABILITY_WORKDIR="$top/build-reliability-opt" \
	RELIABILITY_WATCH_QPS=10000 RELIABILITY_WATCH_LIMIT=1.0 bash tests/reliability/run.sh watch-rewrite

# Unit and integration tests (ASan+UBSan).
ctest --test-dir build-asan --output-on-failure --no-tests=error -j 2 "$@"

# Instruction budgets of the query path: callgrind counts (tests/budget/budgets.txt).
ctest --test-dir build-budget -L budget --output-on-failure --no-tests=error
