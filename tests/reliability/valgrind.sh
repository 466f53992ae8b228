#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The integration suite with the daemon under valgrind (memcheck): builds a plain (no ASan)
# Debug daemon, runs every tests/integration/test_*.py with SINKHOLED_BIN set to it and
# SINKHOLED_WRAPPER=valgrind ..., and reports per test script pass/fail and the valgrind
# summary of every daemon run. Exits non-zero on any failed test, valgrind error or leak.
#
#   tests/reliability/valgrind.sh [test_NAME.py...]      (default: all)
#
# Environment:
#   VALGRIND_WORKDIR  build directory (default ${TMPDIR:-/tmp}/sinkholed-valgrind)
#   SINKHOLED_BIN     test this (non-ASan) binary instead of building one
#   SINKHOLED_WRAPPER override the valgrind command line below
#   SINKHOLED_SLOW    multiplier of the harness's start/stop waits (harness default: 10)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=${VALGRIND_WORKDIR:-${TMPDIR:-/tmp}/sinkholed-valgrind}
mkdir -p "$work"

if [ "$(id -u)" -eq 0 ]; then sh "$top/tests/deps.sh" test; fi
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind not found" >&2; exit 2; }

if [ -z "${SINKHOLED_BIN:-}" ]; then
	echo "valgrind.sh: building the plain daemon in $work/build" >&2
	cmake -S "$top" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug -DSINKHOLED_SANITIZE=OFF \
		-DSINKHOLED_TESTS=OFF >/dev/null
	cmake --build "$work/build" -j "$(nproc)" >/dev/null
	SINKHOLED_BIN=$work/build/sinkholed
fi
if nm -C "$SINKHOLED_BIN" 2>/dev/null | grep -q __asan_init; then
	echo "valgrind.sh: $SINKHOLED_BIN is an ASan build; valgrind needs a plain one" >&2
	exit 2
fi
export SINKHOLED_BIN
export SINKHOLED_WRAPPER=${SINKHOLED_WRAPPER:-valgrind --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
--track-fds=no --num-callers=30}
unset ASAN_OPTIONS LSAN_OPTIONS

if [ $# -gt 0 ]; then
	tests=()
	for t in "$@"; do tests+=("$top/tests/integration/$(basename "$t")"); done
else
	tests=("$top"/tests/integration/test_*.py)
fi

logdir=$work/logs
rm -rf "$logdir"
mkdir -p "$logdir"
summary=()
rc=0
for t in "${tests[@]}"; do
	name=$(basename "$t" .py)
	echo "valgrind.sh: $name ..." >&2
	trc=0
	# Bounded: a script under valgrind gets 10 minutes at most.
	timeout -k 10 600 python3 "$t" >"$logdir/$name.out" 2>&1 || trc=$?
	passed=$(grep -Eo '^[0-9]+ passed, [0-9]+ failed' "$logdir/$name.out" | tail -1 || true)
	fails=$(grep -E '^FAIL ' "$logdir/$name.out" | cut -c1-200 || true)
	vg=$(grep -E '^valgrind valgrind-' "$logdir/$name.out" || true)
	if [ "$trc" -eq 0 ]; then status=PASS; else status="FAIL (exit $trc)"; rc=1; fi
	summary+=("$(printf '%-20s %-14s %s' "$name" "$status" "${passed:-no result}")")
	[ -n "$fails" ] && while IFS= read -r l; do summary+=("    $l"); done <<<"$fails"
	# One line per daemon; the short CLI runs (--check, --version...) summed up by outcome.
	vg=$(awk '
		/^valgrind valgrind-cli-/ { sub(/^valgrind valgrind-cli-[0-9]+\.log: /, ""); n[$0]++; next }
		{ sub(/^valgrind /, ""); print }
		END { for (k in n) printf "valgrind-cli-*.log (%d CLI runs): %s\n", n[k], k }' <<<"$vg")
	[ -n "$vg" ] && while IFS= read -r l; do summary+=("    $l"); done <<<"$vg"
done

echo
echo "sinkholed integration suite under valgrind ($SINKHOLED_BIN)"
echo "wrapper: $SINKHOLED_WRAPPER"
echo
printf '%s\n' "${summary[@]}"
echo
echo "full outputs: $logdir"
exit "$rc"
