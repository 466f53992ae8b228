#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the shipped systemd unit and logrotate config.
# usage: test_systemd.sh SYSTEMD_DIR SINKHOLED_BIN
#   - systemd-analyze verify: no warning about our units, the service and the socket
#     (ExecStart rewritten to the built binary so verify can check that it is executable);
#   - systemd-analyze security --offline=true: overall exposure <= 2.0;
#   - logrotate -d on a copy with paths under a temp dir: no error (skipped without logrotate).
set -u

sysdir=${1:?usage: test_systemd.sh SYSTEMD_DIR SINKHOLED_BIN}
bin=${2:?usage: test_systemd.sh SYSTEMD_DIR SINKHOLED_BIN}
unit="$sysdir/sinkholed.service"
max_exposure=2.0
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "systemd-analyze not found: install the systemd package (apt-get install systemd)" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
[ -f "$unit" ] || { echo "no unit at $unit" >&2; echo "0 passed, 1 failed"; exit 1; }

tmp=$(mktemp -d)
cleanup() {
	if [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# verify: the unit must be named sinkholed.service in the copy, so warnings name it.
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
sed "s#^ExecStart=[^ ]*#ExecStart=$bin#" "$unit" >"$tmp/sinkholed.service"
cp "$sysdir/sinkholed.socket" "$tmp/sinkholed.socket"
(cd "$tmp" && systemd-analyze verify ./sinkholed.service ./sinkholed.socket) >"$tmp/verify.out" 2>&1
rc=$?
if grep -q 'sinkholed\.s' "$tmp/verify.out"; then
	fail "systemd-analyze verify reports problems with the unit (rc=$rc):"
	sed 's/^/    /' "$tmp/verify.out"
elif [ $rc -ne 0 ]; then
	# Failures not about our unit (e.g. no D-Bus in a container) are shown, not counted.
	echo "note: systemd-analyze verify rc=$rc, nothing about sinkholed.service:"
	sed 's/^/    /' "$tmp/verify.out"
	pass "systemd-analyze verify"
else
	pass "systemd-analyze verify"
fi

# security: parse "→ Overall exposure level for sinkholed.service: 1.6 OK".
systemd-analyze security --offline=true "$tmp/sinkholed.service" >"$tmp/security.out" 2>&1
level=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9.]*\).*/\1/p' "$tmp/security.out")
if [ -z "$level" ]; then
	fail "systemd-analyze security printed no exposure level:"
	sed 's/^/    /' "$tmp/security.out"
elif awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
	pass "exposure level $level <= $max_exposure"
else
	fail "exposure level $level > $max_exposure; the items that count:"
	grep '✗' "$tmp/security.out" | sed 's/^/    /'
fi

# logrotate: optional. It exits 0 even on unknown options, so look for "error:" lines.
lr="$sysdir/sinkholed.logrotate"
if ! command -v logrotate >/dev/null 2>&1; then
	echo "skip: logrotate not installed"
elif [ ! -f "$lr" ]; then
	fail "no $lr"
else
	mkdir -p "$tmp/log"
	: >"$tmp/log/blocked.jsonl"
	sed "s#/var/log/sinkholed/#$tmp/log/#" "$lr" >"$tmp/logrotate.conf"
	chmod 644 "$tmp/logrotate.conf" # logrotate ignores group/world-writable configs
	logrotate -d -s "$tmp/logrotate.state" "$tmp/logrotate.conf" >"$tmp/logrotate.out" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || grep -qi '^error' "$tmp/logrotate.out" ||
	    ! grep -q "rotating pattern: $tmp/log/\*.jsonl" "$tmp/logrotate.out"; then
		fail "logrotate -d rejects the config (rc=$rc):"
		sed 's/^/    /' "$tmp/logrotate.out"
	else
		pass "logrotate -d"
	fi
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
