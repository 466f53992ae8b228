#!/bin/sh
# SPDX-License-Identifier: MIT
# Build the libFuzzer targets (clang, ASan+UBSan) and run each for a bounded time.
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]     (default 60)
#
# Environment: FUZZ_TARGETS="fuzz_query fuzz_reply ..." to run only some; FUZZ_JOBS=2 to run
# two targets at once (default 1); FUZZ_BUILD=dir (default build-fuzz in the repo root).
# The list targets (fuzz_list_<format>, one per list format) run a third of the time each.
# Each target runs on a copy of its seed corpus under $FUZZ_BUILD/fuzz-work/<target>/ (new
# inputs land there, never in tests/fuzz/corpus/); crash, leak, timeout and OOM inputs are
# written to $FUZZ_BUILD/fuzz-work/<target>/artifacts/. Prints per target: executions,
# coverage (cov: edges, ft: features, from libFuzzer's last stats line) and findings.
# Exits non-zero if any target crashed, leaked, timed out or ran out of memory.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

secs=${1:-60}
case "$secs" in
'' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac
build=${FUZZ_BUILD:-build-fuzz}
jobs=${FUZZ_JOBS:-1}
targets=${FUZZ_TARGETS:-}

# --- toolchain: clang with the compiler-rt libraries (libFuzzer, ASan, UBSan) ----------------
sh tests/deps.sh fuzz

# --- build --------------------------------------------------------------------------------------
CC=clang cmake -S . -B "$build" -DSINKHOLED_FUZZ=ON -DSINKHOLED_TESTS=OFF \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz
if [ -z "$targets" ]; then
	targets="fuzz_query fuzz_reply fuzz_config fuzz_ipset"
	for f in "$build"/tests/fuzz/fuzz_list_*; do
		targets="$targets ${f##*/}"
	done
fi

# --- run ----------------------------------------------------------------------------------------
work="$top/$build/fuzz-work"
mkdir -p "$work"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_target() {
	t=$1
	d="$work/$t"
	case $t in
	fuzz_query) dict=dns.dict; max_len=2048 ;;
	fuzz_reply) dict=dns.dict; max_len=16384 ;;
	fuzz_config) dict=config.dict; max_len=8192 ;;
	fuzz_ipset) dict=dns.dict; max_len=4096 ;;
	fuzz_list_*) dict=blocklist.dict; max_len=16384 ;;
	*) echo "fuzz: unknown target $t" >&2; return 2 ;;
	esac
	t_secs=$secs
	rm -rf "$d/artifacts"
	mkdir -p "$d/corpus" "$d/artifacts"
	case $t in
	fuzz_list_*)
		# Every list target starts from the shared list seeds and its format's own.
		t_secs=$(((secs + 2) / 3))
		cp "$top/tests/fuzz/corpus/fuzz_list/"* "$d/corpus/"
		if [ -d "$top/tests/fuzz/corpus/$t" ]; then
			cp "$top/tests/fuzz/corpus/$t/"* "$d/corpus/"
		fi
		;;
	*) cp "$top/tests/fuzz/corpus/$t/"* "$d/corpus/" ;;
	esac
	rc=0
	"$top/$build/tests/fuzz/$t" -max_total_time="$t_secs" -rss_limit_mb=2048 -timeout=10 \
		-max_len=$max_len -dict="$top/tests/fuzz/dict/$dict" -print_final_stats=1 \
		-artifact_prefix="$d/artifacts/" "$d/corpus" >"$d/log" 2>&1 || rc=$?
	echo "$rc" >"$d/rc"
}

# shellcheck disable=SC2086
set -- $targets
while [ $# -gt 0 ]; do
	pids=""
	i=0
	while [ $# -gt 0 ] && [ "$i" -lt "$jobs" ]; do
		echo "fuzz: $1" >&2
		run_target "$1" &
		pids="$pids $!"
		i=$((i + 1))
		shift
	done
	for p in $pids; do
		wait "$p"
	done
done

# --- report -------------------------------------------------------------------------------------
fail=0
printf '%-28s %12s %8s %8s %8s  %s\n' target executions cov ft corpus findings
for t in $targets; do
	d="$work/$t"
	rc=$(cat "$d/rc" 2>/dev/null || echo 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" | tail -n 1)
	stats=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$d/log" | tail -n 1)
	cov=$(echo "$stats" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$stats" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$stats" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	findings=$(find "$d/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o \
		-name 'timeout-*' -o -name 'oom-*' \) | wc -l)
	status=none
	if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
		fail=1
		status="$findings (exit $rc): see $d/log and $d/artifacts/"
	fi
	printf '%-28s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
		"${corp:-?}" "$status"
done
if [ "$fail" -ne 0 ]; then
	for t in $targets; do
		d="$work/$t"
		[ "$(cat "$d/rc" 2>/dev/null || echo 1)" -eq 0 ] && continue
		echo "--- $t: end of log" >&2
		tail -n 40 "$d/log" >&2
	done
	exit 1
fi
