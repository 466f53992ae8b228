#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fault injection under load: sinkholed (ASan+UBSan build) with 2 workers on 127.0.0.1, dnsperf
# at a fixed, bounded rate, one fault per scenario (dead, silent, slow, lying upstreams; block
# log on a full disk or deleted; 100 SIGHUPs; SIGTERM under load). Prints a table and exits
# non-zero if any row shows lost queries (outside the documented cases), a crash, a sanitizer
# report or a wrong exit code. See tests/reliability/README.md.
#
#   tests/reliability/run.sh [SCENARIO...]        (default: all)
#
# Environment:
#   RELIABILITY_WORKDIR   build and run directory (default ${TMPDIR:-/tmp}/sinkholed-reliability)
#   SINKHOLED_BIN         test this binary instead of building the ASan one
#   RELIABILITY_QPS       dnsperf rate (default 2000), RELIABILITY_SECONDS load time (default 5)
#   RELIABILITY_DISKFULL  "devfull" to use /dev/full instead of mounting a small tmpfs
#   KEEP_TMP=1            keep the scenario directories (daemon stderr, dnsperf output)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${RELIABILITY_WORKDIR:-${TMPDIR:-/tmp}/sinkholed-reliability}
mkdir -p "$work"

# ---- packages (Debian), only what is missing ---------------------------------------------
if [ "$(id -u)" -eq 0 ]; then sh "$top/tests/deps.sh" test; fi
for c in dnsperf ldns-testns python3; do
	command -v "$c" >/dev/null || { echo "reliability: $c not found" >&2; exit 2; }
done

# ---- the daemon under test: an ASan+UBSan build of our own ---------------------------------
if [ -z "${SINKHOLED_BIN:-}" ]; then
	echo "reliability: building the ASan daemon in $work/build-asan" >&2
	cmake -S "$top" -B "$work/build-asan" -DCMAKE_BUILD_TYPE=Debug -DSINKHOLED_SANITIZE=ON \
		-DSINKHOLED_TESTS=OFF >/dev/null
	cmake --build "$work/build-asan" -j "$(nproc)" >/dev/null
	SINKHOLED_BIN=$work/build-asan/sinkholed
fi
export SINKHOLED_BIN
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

# ---- the scenarios, bounded in time as a whole ---------------------------------------------
# reliability.py stops every process it started (by PID) when timeout(1) sends it SIGTERM.
rc=0
timeout -k 10 280 python3 "$here/reliability.py" "$work/run" "$@" || rc=$?
if [ "$rc" -eq 124 ]; then
	echo "reliability: FAIL: the scenarios did not finish within 280 s" >&2
fi
if [ -z "${KEEP_TMP:-}" ] && [ "$rc" -eq 0 ]; then
	rm -rf "$work/run"
else
	echo "reliability: scenario directories (daemon stderr, dnsperf output) in $work/run" >&2
fi
exit "$rc"
