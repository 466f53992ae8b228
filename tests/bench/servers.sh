# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The servers under test, sourced by run.sh. Each one gets the same two blocklist inputs, as
# symlinks in its run directory $D that the bench switches:
#   main.*   -> the list being measured (empty, 10k, or big), in the server's own format
#   marker.* -> one marker domain (0, a or b): the reload test switches it and waits for the
#               new marker to be answered 0.0.0.0 ("the new list answering")
# and the same upstream (nsd on 127.0.0.1:$UP_PORT). One worker thread each, pinned to
# $SRV_CPU. Functions (SRV, PORT, D set by the caller):
#   srv_prepare          static config; srv_link LIST MARKER (symlinks); srv_start (sets SRV_PID,
#   returns at once); srv_stop; srv_reload (after srv_link); srv_version; srv_ports
# PEER_LOG=1 starts a peer with its logging config: every blocked query logged to a file, as
# sinkholed always does with its block log (dnsdist LogAction, unbound log-local-actions,
# dnsmasq log-queries). SRV_CPUS (default $SRV_CPU) is the CPU list the server is pinned to.

# List formats: sinkholed and dnsdist read the .txt lists; unbound and dnsmasq get converted
# copies (made once per data set, in $DATA/conv; not part of any timing).
# sinkholed also gets the big list as YAML (a list of plain strings), for its load time only.
conv_list() { # conv_list FMT SRCFILE -> path of the converted file
	local fmt=$1 src=$2 dst
	dst=$DATA/conv/$fmt-$(basename "$src" .txt).$([ "$fmt" = yaml ] && echo yaml || echo conf)
	mkdir -p "$DATA/conv"
	if ! [ -s "$dst" ] || [ "$src" -nt "$dst" ]; then
		case $fmt in
		unbound) awk 'NF {printf "local-zone: \"%s.\" always_null\n", $1}' "$src" >"$dst.tmp" ;;
		dnsmasq) awk 'NF {printf "address=/%s/0.0.0.0\naddress=/%s/::\n", $1, $1}' "$src" >"$dst.tmp" ;;
		yaml) awk 'BEGIN {print "block:\n  - source: bench\n    domains:"} NF {printf "      - %s\n", $1}' "$src" >"$dst.tmp" ;;
		esac
		mv "$dst.tmp" "$dst"
	fi
	echo "$dst"
}

list_file() { # list_file LIST -> the .txt file: empty | 10k | big | marker-0 | marker-a | marker-b
	case $1 in
	empty) echo "$RUN/lists/empty.txt" ;;
	marker-*) echo "$RUN/lists/$1.txt" ;;
	*) echo "$DATA/blocklist-$1.txt" ;;
	esac
}

make_lists() {
	mkdir -p "$RUN/lists"
	: >"$RUN/lists/empty.txt"
	echo "$MARKER_TINY" >"$RUN/lists/marker-0.txt"
	echo "$MARKER_A" >"$RUN/lists/marker-a.txt"
	echo "$MARKER_B" >"$RUN/lists/marker-b.txt"
}

# relink NAME TARGET: replace symlink $D/NAME atomically
relink() { ln -sfn "$2" "$D/$1.tmp" && mv -Tf "$D/$1.tmp" "$D/$1"; }

srv_link() { # srv_link LIST MARKER
	local main mark
	main=$(list_file "$1")
	mark=$(list_file "marker-$2")
	case $SRV in
	sinkholed | dnsdist)
		relink main.txt "$main"
		relink marker.txt "$mark"
		;;
	unbound | dnsmasq)
		relink main.conf "$(conv_list "$SRV" "$main")"
		relink marker.conf "$(conv_list "$SRV" "$mark")"
		;;
	esac
}

srv_ports() { # every port the server would bind
	case $SRV in
	unbound | dnsdist) echo "$PORT $CTL_PORT" ;;
	*) echo "$PORT" ;;
	esac
}

srv_prepare() {
	mkdir -p "$D"
	local common="s#@PORT@#$PORT#g; s#@UP_PORT@#$UP_PORT#g; s#@D@#$D#g; s#@CTL_PORT@#${CTL_PORT:-}#g"
	case $SRV in
	sinkholed)
		sed -e "$common" -e "s#@BLOCK_LOG@#$BLOCK_LOG#g" "$B/conf/sinkholed.yaml.in" >"$D/sinkholed.yaml"
		printf '%s\n' "$SINKHOLED_EXTRA_YAML" >>"$D/sinkholed.yaml"
		;;
	unbound)
		sed -e "$common" "$B/conf/unbound.conf.in" >"$D/unbound.conf"
		# its logfile gets one line per local-zone answer
		sed '/^server:/a\  log-local-actions: yes' "$D/unbound.conf" >"$D/unbound-log.conf"
		;;
	dnsmasq)
		sed -e "$common" "$B/conf/dnsmasq.conf.in" >"$D/dnsmasq.conf"
		# log-facility (a file) gets the query and the configured answer, 2 lines per query
		{ cat "$D/dnsmasq.conf"; echo log-queries; } >"$D/dnsmasq-log.conf"
		;;
	dnsdist)
		DNSDIST_KEY=$(head -c 32 /dev/urandom | base64)
		sed -e "$common" -e "s#@KEY@#$DNSDIST_KEY#g" "$B/conf/dnsdist.conf.in" >"$D/dnsdist.conf"
		# BLOCKLOG set: buildRules() puts LogAction(BLOCKLOG) before the SpoofAction
		{ printf 'BLOCKLOG = "%s"\n' "$D/blocked.log"; cat "$D/dnsdist.conf"; } >"$D/dnsdist-log.conf"
		printf 'controlSocket("127.0.0.1:%s")\nsetKey("%s")\n' "$CTL_PORT" "$DNSDIST_KEY" >"$D/client.conf"
		;;
	esac
}

# peer_log_file: where the server logs its blocked queries with PEER_LOG=1 (sinkholed: its block log)
peer_log_file() {
	case $SRV in
	sinkholed) echo "$BLOCK_LOG" ;;
	unbound) echo "$D/unbound.log" ;;
	dnsmasq) echo "$D/dnsmasq.log" ;;
	dnsdist) echo "$D/blocked.log" ;;
	esac
}

srv_ports_free() {
	local p
	for p in $(srv_ports); do
		port_free "$p" || { log "port $p is in use: not starting $SRV"; return 1; }
	done
}

srv_start() { # caller checked srv_ports_free
	local cpus=${SRV_CPUS:-$SRV_CPU} v=""
	[ "${PEER_LOG:-0}" = 1 ] && [ "$SRV" != sinkholed ] && v=-log
	case $SRV in
	sinkholed) taskset -c "$cpus" "$SINKHOLED_BIN" -c "${SINKHOLED_CONF:-$D/sinkholed.yaml}" >>"$D/stderr.log" 2>&1 & ;;
	unbound) taskset -c "$cpus" unbound -d -c "$D/unbound$v.conf" >>"$D/stderr.log" 2>&1 & ;;
	dnsmasq) taskset -c "$cpus" dnsmasq -k -C "$D/dnsmasq$v.conf" >>"$D/stderr.log" 2>&1 & ;;
	dnsdist) taskset -c "$cpus" dnsdist --supervised --disable-syslog -C "$D/dnsdist$v.conf" >>"$D/stderr.log" 2>&1 & ;;
	esac
	SRV_PID=$!
	track "$SRV_PID"
}

srv_stop() {
	[ -n "${SRV_PID:-}" ] || return 0
	[ "$SRV" = sinkholed ] && kill -USR1 "$SRV_PID" 2>/dev/null && sleep 0.1 # log its counters
	stop_pid "$SRV_PID"
	SRV_PID=
}

# srv_reload: make the server pick up the switched lists. dnsmasq's SIGHUP does not re-read
# address= lines, so its "reload" is a restart.
srv_reload() {
	case $SRV in
	sinkholed) kill -HUP "$SRV_PID" ;;
	unbound) unbound-control -c "$D/unbound.conf" reload >/dev/null ;;
	dnsdist) dnsdist -C "$D/client.conf" -c -e 'reloadBlocklist()' >/dev/null ;;
	dnsmasq) srv_stop && srv_start ;;
	esac
}
srv_reload_how() {
	case $SRV in
	sinkholed) echo "SIGHUP" ;;
	unbound) echo "unbound-control reload" ;;
	dnsdist) echo "console reloadBlocklist()" ;;
	dnsmasq) echo "restart (SIGHUP does not reload address=)" ;;
	esac
}

srv_log_how() {
	case $SRV in
	sinkholed) echo "block log: one JSON line per blocked query (always on)" ;;
	unbound) echo "log-local-actions: yes, to its logfile (one line per local-zone answer)" ;;
	dnsmasq) echo "log-queries, log-facility a file (2 lines per blocked query: query, config answer)" ;;
	dnsdist) echo "LogAction(file, text, append, buffered) before the SpoofAction (one line per query)" ;;
	esac
}

srv_version() {
	case $SRV in
	sinkholed) "$SINKHOLED_BIN" --version 2>&1 | head -1 ;;
	unbound) unbound -V 2>&1 | head -1 ;;
	dnsmasq) dnsmasq -v 2>&1 | head -1 ;;
	dnsdist) dnsdist --version 2>&1 | head -1 ;;
	esac
}

# The block log of sinkholed grows by ~1.2 KB per blocked query, a peer's log by ~0.1 KB:
# empty them after each run (all are opened with O_APPEND, so truncating under the writer is
# safe; dnsdist's buffered LogAction may still hold a few lines). So is sinkholed's query log
# when QUERY_LOG names it, its lines added to QLOG_LINES first. Every run thus starts with its
# logs empty: a log left to grow over runs (GBs at 100k q/s) reaches the kernel's dirty-page
# thresholds and then memory pressure, and its writer's CPU per line is no longer comparable
# (measured: three times as much with the page cache full).
truncate_blocklog() {
	local f
	f=$(peer_log_file)
	if [ "$SRV" = sinkholed ] || [ "${PEER_LOG:-0}" = 1 ]; then
		[ -f "$f" ] && : >"$f"
	fi
	if [ "$SRV" = sinkholed ] && [ -n "${QUERY_LOG:-}" ] && [ -f "$QUERY_LOG" ]; then
		QLOG_LINES=$((${QLOG_LINES:-0} + $(wc -l <"$QUERY_LOG")))
		: >"$QUERY_LOG"
	fi
	return 0
}
# log_lines: lines in the log of blocked queries so far (sinkholed: always; a peer: with PEER_LOG=1)
log_lines() {
	local f
	f=$(peer_log_file)
	if { [ "$SRV" = sinkholed ] || [ "${PEER_LOG:-0}" = 1 ]; } && [ -f "$f" ]; then
		wc -l <"$f"
	else
		echo -
	fi
}
