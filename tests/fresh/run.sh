#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The README's Quick start on a fresh minimal Debian 12: each of its two commands must work on
# its own, in either order, on a machine that has only Debian's minimal base.
#
#   tests/fresh/run.sh            (as root: it runs debootstrap, chroot and mount)
#
# It makes a Debian 12 root with `debootstrap --variant=minbase bookworm` (cached as a tarball,
# rebuilt when missing or older than FRESH_BASE_DAYS), then, in a fresh copy of it per order,
# with the repository's committed tree (`git archive HEAD`, so nothing from local build dirs
# leaks in) in /root/sinkholed:
#   order A: command 1 (install, build, run the daemon with conf/dev.yaml), then command 2;
#   order B: command 2 (install, build, run every test), then command 1.
# Both commands are read from the README's Quick start code block and run exactly as written,
# by bash in the repository as root, with a clean environment (HOME, PATH); command 2 is given
# FUZZ_SECONDS=10 (each fuzz target runs 10 s instead of 60). Command 1 runs in the background
# until the daemon answers on 127.0.0.1:5300 (the root shares this machine's network): the
# check asks it for www.mobile1.com A from outside the root and with the root's dig (as the
# README goes on), requires 0.0.0.0 and the block-log line on the daemon's output, then stops
# it with SIGTERM and requires exit code 0.
# Downloaded .debs are kept between runs (bind-mounted on the root's /var/cache/apt/archives),
# and dpkg in the roots skips fsync (force-unsafe-io, as in Debian's container images).
# Every process is bounded by timeout(1); /proc, /sys, /dev, /dev/pts and /dev/shm are mounted
# in each root and always unmounted, and the roots removed, on exit.
# Prints the time of each phase; on a failure, which command failed in which order and the end
# of its log (each line stamped with its time), keeps the logs, and exits non-zero.
#
# Environment:
#   SINKHOLED_CACHE_DIR  cache of the base tarball and the .debs
#                        (default ${XDG_CACHE_HOME:-$HOME/.cache}/sinkholed)
#   FRESH_BASE_DAYS      rebuild the base when older than this many days (default 7)
#   FRESH_ORDERS         which orders to run (default "A B"); also A1 (command 1 alone) and
#                        P (the Debian package: built from the committed tree on this machine,
#                        checked by lintian, installed into a fresh root: --check on the
#                        installed config, systemd-analyze verify on the installed unit, the
#                        unit not enabled, an edited config kept by a reinstall, man pages)
#   FRESH_FUZZ_SECONDS   each fuzz target's seconds in command 2 (default 10)
#   FRESH_REV            the commit to test (default HEAD)
#   FRESH_MIRROR         Debian mirror for debootstrap (default: debootstrap's own)
#   FRESH_CMD1_TIMEOUT, FRESH_CMD2_TIMEOUT  seconds for each command (default 900, 1800)
#   KEEP_TMP=1           keep the roots, not only the logs of a failure
#                        (in ${TMPDIR:-/tmp}/sinkholed-fresh.*)
set -euo pipefail
# shellcheck disable=SC2317 # (the cleanup functions run from traps)
{ # the whole script is read before it runs, so editing it cannot disturb a run in progress

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

home=${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)} # also when HOME is unset
cache=${SINKHOLED_CACHE_DIR:-${XDG_CACHE_HOME:-$home/.cache}/sinkholed}
base_days=${FRESH_BASE_DAYS:-7}
orders=${FRESH_ORDERS:-A B}
fuzz_seconds=${FRESH_FUZZ_SECONDS:-10}
rev=${FRESH_REV:-HEAD}
cmd1_timeout=${FRESH_CMD1_TIMEOUT:-900}
cmd2_timeout=${FRESH_CMD2_TIMEOUT:-1800}
port=5300
qname=www.mobile1.com
chroot_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
src=/root/sinkholed # where the repository is inside the root

say() { echo "fresh: $*" >&2; }
die() {
	say "FAIL: $*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || { say "must run as root (debootstrap, chroot, mount)"; exit 2; }

# ---- the two commands, from the README's Quick start ---------------------------------------
# The first ```sh block after "## Quick start" in the README of the commit under test: its
# lines that are neither comments nor blank.
mapfile -t cmds < <(awk '
	/^## / { in_qs = ($0 == "## Quick start"); next }
	in_qs && !done && /^```sh$/ { in_block = 1; next }
	in_block && /^```/ { in_block = 0; done = 1; next }
	in_block && !/^[[:space:]]*(#|$)/ { print }' < <(git -C "$top" show "$rev:README.md"))
if [ "${#cmds[@]}" -ne 2 ]; then
	die "expected two commands in the README's Quick start code block, found ${#cmds[@]}"
fi
cmd1=${cmds[0]}
cmd2=${cmds[1]}
say "command 1: $cmd1"
say "command 2: $cmd2"

# ---- one run at a time on a machine: the runs share the cache and port 5300 ------------------
mkdir -p "$cache"
exec 9>"$cache/lock"
if ! flock -n 9; then
	say "waiting for another tests/fresh/run.sh on this machine to finish ($cache/lock)"
	flock -w 3600 9 || die "still locked after an hour: $cache/lock"
fi

# ---- host tools ----------------------------------------------------------------------------
missing=""
command -v debootstrap >/dev/null || missing="$missing debootstrap"
command -v dig >/dev/null || missing="$missing bind9-dnsutils"
if [ -n "$missing" ]; then
	say "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# ---- work dir, and the cleanup that always runs --------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/sinkholed-fresh.XXXXXX")
mkdir "$work/logs"
job="" # the command running in a root: a background job in a session of its own

mounts_under() { # mount points at or below $1, deepest first
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r
}
unmount_all() {
	local m
	for m in $(mounts_under "$1"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
}
pids_in() { # processes whose root directory is at or below $1 (only this script's roots)
	find /proc/[0-9]*/root -maxdepth 0 \( -lname "$1" -o -lname "$1/*" \) 2>/dev/null |
		cut -d/ -f3 || true
}
stop_job() {
	[ -n "$job" ] || return 0
	if kill -0 "$job" 2>/dev/null; then
		kill -TERM -- "-$job" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
		kill -KILL -- "-$job" 2>/dev/null || true
	fi
	wait "$job" 2>/dev/null || true
	job=""
}
cleanup() {
	local rc=$? p r
	trap - INT TERM
	stop_job
	for p in $(pids_in "$work"); do kill -KILL "$p" 2>/dev/null || true; done
	unmount_all "$work"
	if [ -n "$(mounts_under "$work")" ]; then
		say "still mounted under $work (not removed):"
		mounts_under "$work" >&2
	elif [ -n "${KEEP_TMP:-}" ]; then
		say "kept $work"
	elif [ "$rc" -ne 0 ]; then
		# The test outputs in each root (fuzz, reliability, valgrind, ctest) go with the logs.
		for r in "$work"/root-*; do
			[ -d "$r$src" ] || continue
			tar -C "$r$src" -czf "$work/logs/${r##*/}-outputs.tar.gz" --ignore-failed-read \
				build-fuzz/fuzz-work build-reliability/run build-valgrind/logs \
				build-asan/Testing/Temporary 2>/dev/null || true
		done
		find "$work" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf --one-file-system {} +
		say "logs kept in $work/logs"
	else
		rm -rf --one-file-system "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_start=$(date +%s)
t_phase=$t_start
times=()
phase_done() { # record the time of the phase that just ended
	local now
	now=$(date +%s)
	times+=("$(printf '%-34s %4d s' "$1" $((now - t_phase)))")
	say "$1: $((now - t_phase)) s"
	t_phase=$now
}

# ---- the base: Debian 12 minbase, cached -----------------------------------------------------
mkdir -p "$cache/debs/partial" "$cache/debootstrap"
base="$cache/debian12-minbase.tar"
if [ -f "$base" ] && [ -z "$(find "$base" -mtime +"$base_days")" ]; then
	say "base: $base"
	phase_done "base (cached)"
else
	say "base: debootstrap --variant=minbase bookworm (cached in $base)"
	b="$work/base"
	# shellcheck disable=SC2086
	if ! timeout -k 10 900 debootstrap --variant=minbase --cache-dir="$cache/debootstrap" \
		bookworm "$b" ${FRESH_MIRROR:-} >"$work/logs/debootstrap.log" 2>&1; then
		tail -n 30 "$work/logs/debootstrap.log" >&2
		die "debootstrap of the base failed"
	fi
	rm -f "$b"/var/cache/apt/archives/*.deb
	tar -C "$b" -cf "$base.tmp.$$" .
	mv "$base.tmp.$$" "$base"
	rm -rf --one-file-system "$b"
	phase_done "base (debootstrap)"
fi

# ---- one fresh root per order ----------------------------------------------------------------
new_root() { # $1 = root dir: a copy of the base and the committed tree, mounts in place
	local r=$1
	mkdir -p "$r"
	tar -C "$r" -xf "$base"
	cp -L /etc/resolv.conf "$r/etc/resolv.conf" # the network's resolver, as on any machine
	# dpkg without an fsync per file, as in Debian's container images: the root is thrown away.
	echo force-unsafe-io >"$r/etc/dpkg/dpkg.cfg.d/unsafe-io"
	mkdir -p "$r$src"
	git -C "$top" archive "$rev" | tar -C "$r$src" -xf -
	mount -t proc proc "$r/proc"
	mount --bind /sys "$r/sys"
	mount --bind /dev "$r/dev"
	mount --bind /dev/pts "$r/dev/pts"
	mount -t tmpfs -o mode=1777 shm "$r/dev/shm"
	mount --bind "$cache/debs" "$r/var/cache/apt/archives"
}

# start_job LOG TIMEOUT ROOT CMD [VAR=VALUE...]: bash -c CMD in the repository inside ROOT, as
# root with a clean environment (HOME, PATH and the VARs), bounded by timeout, in the
# background (so that a signal to this script is handled at once); sets $job.
start_job() {
	local log=$1 secs=$2 r=$3 cmd=$4
	shift 4
	setsid timeout -k 10 "$secs" chroot "$r" /usr/bin/env -i HOME=/root PATH="$chroot_path" \
		"$@" /bin/bash -c "cd $src && $cmd" </dev/null > >(stamp >"$log") 2>&1 9>&- &
	job=$!
}
stamp() { # each line of the log prefixed with the time it was written
	local l
	while IFS= read -r l || [ -n "$l" ]; do printf '%(%H:%M:%S)T %s\n' -1 "$l"; done
}

fail_cmd() { # $1 = order, $2 = command number, $3 = log, $4 = why
	say "FAIL: order $1, command $2: $4"
	say "command $2: $([ "$2" = 1 ] && echo "$cmd1" || echo "$cmd2")"
	say "--- end of its log ($3):"
	tail -n 60 "$3" >&2
	exit 1
}

query() { # "RCODE ADDRESS..." of $qname A from 127.0.0.1:$port, or nothing without an answer
	local out
	out=$(dig @127.0.0.1 -p "$port" "$qname" A +time=1 +tries=1 +noall +comments +answer \
		2>/dev/null) || true
	case $out in *"status: "*) ;; *) return 0 ;; esac
	sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out" | tr -d '\n'
	awk '$4 == "A" { printf " %s", $5 }' <<<"$out"
}

run_cmd1() { # $1 = order, $2 = root: command 1 in the background, checked, then stopped
	local o=$1 r=$2 log="$work/logs/$1-command1.log" rc=0 ans="" pid="" p
	if [ -n "$(query)" ]; then
		die "something already answers on 127.0.0.1:$port; stop it first"
	fi
	start_job "$log" "$cmd1_timeout" "$r" "$cmd1"
	# Wait until it answers (it first installs packages and builds).
	while :; do
		if ! kill -0 "$job" 2>/dev/null; then
			wait "$job" || rc=$?
			job=""
			fail_cmd "$o" 1 "$log" "exited with status $rc before the daemon answered"
		fi
		ans=$(query)
		[ -n "$ans" ] && break
		sleep 1
	done
	phase_done "order $o: command 1 until it answers"
	if [ "$ans" != "NOERROR 0.0.0.0" ]; then
		fail_cmd "$o" 1 "$log" "$qname A answered '$ans', not NOERROR 0.0.0.0"
	fi
	# The README's next step, on the fresh machine itself: dig, which command 1 installed.
	local dig_out
	dig_out=$(timeout 10 chroot "$r" /usr/bin/env -i PATH="$chroot_path" \
		dig @127.0.0.1 -p "$port" "$qname" +short +time=2 +tries=1 2>&1 9>&-) || true
	if [ "$dig_out" != "0.0.0.0" ]; then
		fail_cmd "$o" 1 "$log" "in the root, dig @127.0.0.1 -p $port $qname +short gave '$dig_out'"
	fi
	local line="\"DnsQuery\":\"$qname\".*\"ThreatName\":\"NanoCore RAT\""
	for _ in $(seq 50); do grep -q "$line" "$log" && break; sleep 0.1; done
	grep -q "$line" "$log" ||
		fail_cmd "$o" 1 "$log" "no block-log line for $qname on the daemon's output"
	# Stop the daemon by its PID: the process running the root's build/sinkholed.
	for p in $(pids_in "$r"); do
		if [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$r$src/build/sinkholed" ]; then
			pid=$p
		fi
	done
	[ -n "$pid" ] || fail_cmd "$o" 1 "$log" "answered, but no process runs $src/build/sinkholed"
	kill -TERM "$pid"
	for _ in $(seq 100); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$job" 2>/dev/null; then
		fail_cmd "$o" 1 "$log" "still running 10 s after SIGTERM"
	fi
	wait "$job" || rc=$?
	job=""
	[ "$rc" -eq 0 ] || fail_cmd "$o" 1 "$log" "exit status $rc after SIGTERM (expected 0)"
	say "order $o: command 1: $qname A -> $ans (dig in the root too), block-log line, clean stop"
	phase_done "order $o: command 1 stop"
}

run_cmd2() { # $1 = order, $2 = root
	local o=$1 r=$2 log="$work/logs/$1-command2.log" rc=0
	start_job "$log" "$cmd2_timeout" "$r" "$cmd2" FUZZ_SECONDS="$fuzz_seconds"
	wait "$job" || rc=$?
	job=""
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail_cmd "$o" 2 "$log" "did not finish within $cmd2_timeout s"
	elif [ "$rc" -ne 0 ]; then
		fail_cmd "$o" 2 "$log" "exit status $rc"
	fi
	say "order $o: command 2 passed ($(grep -E 'tests passed|tests failed' "$log" | tail -n 1))"
	# Its closing lines (ctest's summary), without the time stamps, for whoever reads ours.
	echo "--- order $o: the end of command 2's output"
	grep -v '^$' "$log" | tail -n 25 | cut -c10-
	phase_done "order $o: command 2"
}

in_root() { # $1 = root, then a command: run as root in it with a clean environment, bounded
	local r=$1
	shift
	timeout -k 10 900 chroot "$r" /usr/bin/env -i HOME=/root PATH="$chroot_path" \
		DEBIAN_FRONTEND=noninteractive "$@" </dev/null
}

run_package() { # $1 = root: the Debian package, built here, installed there
	local r=$1 log="$work/logs/P-package.log" pkg="$work/pkg" deb n
	sh "$top/tests/deps.sh" package >>"$log" 2>&1 || die "deps.sh package failed (see $log)"
	mkdir -p "$pkg/src"
	git -C "$top" archive "$rev" | tar -C "$pkg/src" -xf -
	if ! (cd "$pkg/src" && DEB_BUILD_OPTIONS=parallel="$(nproc)" timeout -k 10 900 \
		dpkg-buildpackage -b -us -uc) >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "package: dpkg-buildpackage failed"
	fi
	deb=$(ls "$pkg"/sinkholed_*.deb)
	phase_done "package: dpkg-buildpackage"
	lintian --fail-on error "$deb" >"$work/logs/P-lintian.log" 2>&1 || {
		cat "$work/logs/P-lintian.log" >&2
		die "package: lintian reports errors"
	}
	n=$(grep -c '^[EW]:' "$work/logs/P-lintian.log" || true)
	say "package: lintian: no error ($n warnings)"
	phase_done "package: lintian"
	cp "$deb" "$r/tmp/sinkholed.deb"
	{
		in_root "$r" apt-get update -qq &&
			in_root "$r" apt-get install -y -qq --no-install-recommends \
				/tmp/sinkholed.deb systemd
	} >>"$log" 2>&1 || { tail -n 40 "$log" >&2; die "package: apt-get install failed"; }
	phase_done "package: install into a fresh root"
	in_root "$r" sinkholed --check -c /etc/sinkholed/sinkholed.yaml >>"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; die "package: sinkholed --check on the installed config"; }
	in_root "$r" systemd-analyze verify /lib/systemd/system/sinkholed.service \
		>"$work/logs/P-verify.log" 2>&1 || true
	if grep -q 'sinkholed' "$work/logs/P-verify.log"; then
		cat "$work/logs/P-verify.log" >&2
		die "package: systemd-analyze verify reports problems with the installed unit"
	fi
	case $(in_root "$r" systemctl is-enabled sinkholed.service 2>/dev/null) in
	disabled) ;;
	*) die "package: the unit is enabled on install; it must wait for the admin" ;;
	esac
	for f in /usr/sbin/sinkholed /usr/share/man/man8/sinkholed.8.gz \
		/usr/share/man/man5/sinkholed.yaml.5.gz /etc/logrotate.d/sinkholed \
		/usr/share/doc/sinkholed/copyright; do
		[ -e "$r$f" ] || die "package: $f not installed"
	done
	# An edited config survives a reinstall (it is a conffile).
	echo "# edited by the admin" >>"$r/etc/sinkholed/sinkholed.yaml"
	in_root "$r" dpkg -i --force-confold /tmp/sinkholed.deb >>"$log" 2>&1 ||
		die "package: reinstall failed"
	grep -q '^# edited by the admin$' "$r/etc/sinkholed/sinkholed.yaml" ||
		die "package: the edited config was overwritten by a reinstall"
	say "package: lintian clean, installs, --check passes, unit verified and not enabled," \
		"edited config kept"
	phase_done "package: checks"
}

for o in $orders; do
	r="$work/root-$o"
	say "order $o: fresh root in $r"
	new_root "$r"
	phase_done "order $o: fresh root"
	case $o in
	A) run_cmd1 A "$r"; run_cmd2 A "$r" ;;
	A1) run_cmd1 A1 "$r" ;;
	P) run_package "$r" ;;
	B) run_cmd2 B "$r"; run_cmd1 B "$r" ;;
	*) die "unknown order $o (A, B, A1 or P)" ;;
	esac
	for p in $(pids_in "$r"); do kill -KILL "$p" 2>/dev/null || true; done
	unmount_all "$r"
	if [ -z "$(mounts_under "$r")" ] && [ -z "${KEEP_TMP:-}" ]; then
		rm -rf --one-file-system "$r"
	fi
done

echo
echo "sinkholed Quick start on a fresh Debian 12 minbase root (orders: $orders)"
printf '  %s\n' "${times[@]}"
printf '  %-34s %4d s\n' total $(($(date +%s) - t_start))
echo "fresh: all passed"
exit
}
