# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Functions of the benchmark, sourced by run.sh (adapted from the maintainers' peer kit).
# All traffic goes to 127.0.0.1. Every load run is bounded (dnsperf -l). Processes are stopped
# only by the PID they were started with, never by name.

now() { date +%s.%N; }
fsub() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
load1() { cut -d' ' -f1 /proc/loadavg; }
log() { echo "[$(date +%T)] ${SRV:+[$SRV] }$*" >&2; }
clk_tck() { getconf CLK_TCK; }

# event NAME VALUE [NOTE]: one line of events.tsv for the current server ($SRV)
event() {
	printf '%s\t%s\t%s\t%s\n' "${SRV:-run}" "$1" "$2" "${3:-}" >>"$RES/events.tsv"
	log "$1 = $2${3:+  ($3)}"
}

# ---- processes we start ------------------------------------------------------------------
STARTED_PIDS=""
track() { STARTED_PIDS="$STARTED_PIDS $1"; }
untrack() { STARTED_PIDS=$(echo " $STARTED_PIDS " | sed "s/ $1 / /g"); }
# stop_pid PID: SIGTERM the PID we started, wait up to 10 s, then SIGKILL that same PID
stop_pid() {
	local p=$1
	[ -n "$p" ] || return 0
	untrack "$p"
	kill "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
	for _ in $(seq 1 100); do
		kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
		sleep 0.1
	done
	log "pid $p did not stop in 10 s: SIGKILL"
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}
cleanup() {
	local p
	for p in $STARTED_PIDS; do stop_pid "$p"; done
}

# port_free PORT: nothing listens on 127.0.0.1:PORT (UDP or TCP); refuses ports in use. TCP is
# tried with SO_REUSEADDR, as the servers bind: a connection of ours in TIME_WAIT (a control
# port just used for a reload) does not count, a listener does.
port_free() {
	python3 - "$1" <<'EOF'
import socket, sys
port = int(sys.argv[1])
for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    if kind == socket.SOCK_STREAM:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(1)
    finally:
        s.close()
EOF
}

rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo -; }
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || echo -; }
# proc_ns PID: CPU time of all threads of PID in nanoseconds, the sum of the first field of
# /proc/PID/task/*/schedstat (time on a CPU as the scheduler accounts it, in ns, where
# utime+stime of /proc/PID/stat count whole clock ticks of 10 ms). A thread that has exited
# is no longer counted: every server here keeps its threads for its whole life.
proc_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {if (NR) printf "%.0f\n", s}'; }

# sock_drops PORT: UDP datagrams the kernel dropped at the sockets bound to 127.0.0.1:PORT
# (receive buffer full: queries the server never saw), from the "drops" column of /proc/net/udp
sock_drops() {
	awk -v p="$(printf '0100007F:%04X' "$1")" 'NR > 1 && $2 == p {d += $NF} END {print d + 0}' /proc/net/udp
}

# thread_ns PID: "TID NS NAME" per thread (to split sinkholed's CPU time between its threads,
# which it names: worker-N, blocklog, querylog, retro, feeds)
thread_ns() {
	local t
	for t in /proc/"$1"/task/*; do
		echo "${t##*/} $(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) $(cat "$t/comm" 2>/dev/null)"
	done
}

# wait_blocked NAME MAXSEC: until the server answers NAME A with 0.0.0.0; prints seconds
wait_blocked() { python3 "$B/dnsq.py" wait "$PORT" "$1" "$2" "${SRV_PID:-}"; }
dq() { python3 "$B/dnsq.py" query "$PORT" "$1" "$2"; }

# ---- upstream: nsd, authoritative for the zones, pinned to the client CPU ------------------
start_nsd() {
	local d=$RUN/nsd n
	mkdir -p "$d"
	port_free "$UP_PORT" || { echo "port $UP_PORT (nsd upstream) is in use: set BENCH_PORT_BASE" >&2; return 1; }
	sed -e "s#@RUN@#$d#g; s#@DATA@#$DATA#g; s#@PORT@#$UP_PORT#g" "$B/conf/nsd.conf.in" >"$d/nsd.conf"
	taskset -c "$UP_CPU" nsd -d -c "$d/nsd.conf" >"$d/stdout.log" 2>&1 &
	NSD_PID=$!
	track $NSD_PID
	for _ in $(seq 1 600); do
		n=$(python3 "$B/dnsq.py" query "$UP_PORT" "$ZONE_LAST" A 2>/dev/null)
		case $n in NOERROR\ 10.*) break ;; esac
		kill -0 $NSD_PID 2>/dev/null || { echo "nsd exited: $(tail -3 "$d/stdout.log")" >&2; return 1; }
		sleep 0.2
	done
	case $n in NOERROR\ 10.*) ;; *) echo "nsd did not answer in 120 s" >&2; return 1 ;; esac
	SRV=nsd event version "$(nsd -v 2>&1 | head -1)" "upstream on CPU $UP_CPU, pid $NSD_PID"
}

# ---- load runs ------------------------------------------------------------------------------
# dp WORKLOAD KIND REP FILE
#   sat : closed loop (closed_loop: blast or dnsperf), -l $DUR; CPU busy sampled in the middle
#   lat : fixed offered rate -Q $LAT_QPS, -l $LAT_DUR, -v (per-query latencies -> p99)
#   warm: not recorded
# The server's CPU time (schedstat, ns, all threads) over the run is divided by the answered
# queries, in every kind. Appends one line to results.tsv. WORKLOAD may carry a variant after
# a dot (w1-10k.log: the peers log blocked queries; w1-10k.2w: sinkholed with 2 workers).
# closed_loop SECONDS FILE: the saturating client on the client CPU, CLIENTS sockets and OUTST
# queries in flight for SECONDS, its summary on stdout: blast (LOADGEN=blast) or dnsperf.
closed_loop() {
	if [ "$LOADGEN" = blast ]; then
		taskset -c "$CLI_CPU" "$RUN/blast" -s 127.0.0.1 -p "$PORT" -d "$2" -t "$TIMEOUT" -l "$1" \
			-c "$CLIENTS" -q "$OUTST"
	else
		taskset -c "$CLI_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$2" -t "$TIMEOUT" -l "$1" \
			-c "$CLIENTS" -q "$OUTST" -T "$DP_THREADS"
	fi
}

# sat_series WORKLOAD FILE [REP0]: an unrecorded saturated run as long as the measured ones,
# then REPS measured ones (numbered from REP0 + 1). Every all-blocked series starts so, for
# every server, as w2 and w4 do: on a VM whose host takes freed guest memory back (free page
# reporting), the runs right after a start write their logs into pages the host must back
# first (by hand, sinkholed's block-log writer on the 10k list, three 8-s runs after a start:
# 2.3, 1.8 and 1.3 us per line, 0.8 once warm). The host goes on taking memory back between
# and during runs: dp records how much for each run (reported_WORKLOAD_KIND).
sat_series() {
	local r
	WARM_DUR=$DUR dp "$1" warm 0 "$2"
	for r in $(seq 1 "$REPS"); do dp "$1" sat "$((${3:-0} + r))" "$2"; done
}

dp() {
	local wl=$1 kind=$2 rep=$3 file=$4 out="$RUN/dp.out" smp="" c0 c1 d0 d1 l0 rk0 rk1 cpu="-	-	-	-"
	l0=$(load1)
	if [ "$kind" = sat ]; then
		python3 "$B/cpu_sample.py" "$SRV_PID" "$SAMPLE_DELAY" "$SAMPLE_WIN" "$CLI_CPU" "$SRV_CPU" \
			>"$RUN/cpu.out" 2>/dev/null &
		smp=$!
		track $smp
	fi
	[ "$SRV" = sinkholed ] && [ "$kind" != warm ] && thread_ns "$SRV_PID" >"$RUN/thr0"
	rk0=$(reported_kib)
	c0=$(proc_ns "$SRV_PID")
	d0=$(sock_drops "$PORT")
	case $kind in
	sat) closed_loop "$DUR" "$file" >"$out" 2>&1 ;;
	warm) closed_loop "$WARM_DUR" "$file" >"$out" 2>&1 ;;
	lat) taskset -c "$CLI_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$file" -t "$TIMEOUT" -l "$LAT_DUR" \
		-c "$CLIENTS" -q 1000 -Q "$LAT_QPS" -T "$DP_THREADS" -v >"$out" 2>&1 ;;
	esac
	c1=$(proc_ns "$SRV_PID")
	d1=$(sock_drops "$PORT")
	rk1=$(reported_kib)
	# What the host took back meanwhile: the pages it must back again before the next writes
	# (a log's page cache among them) cost a fault each, which this run may have paid.
	case $rk0$rk1 in *[!0-9]*) ;; *) [ "$kind" != warm ] &&
		printf '%s\t%s\t%s\t%s\n' "$SRV" "reported_${wl}_$kind" "$(((rk1 - rk0) / 1024))" \
			"MiB of guest memory the host took back during the $kind run $rep" >>"$RES/events.tsv" ;;
	esac
	if [ "$SRV" = sinkholed ] && [ "$kind" != warm ]; then
		thread_ns "$SRV_PID" >"$RUN/thr1"
		event "threads_${wl}_$kind" "$(awk -v pid="$SRV_PID" 'NR == FNR {a[$1] = $2; next}
			{printf "%s/%s=%.0f ", ($1 == pid ? "main" : $3), $1, $2 - a[$1]}' "$RUN/thr0" "$RUN/thr1")" \
			"CPU ns per thread (NAME/TID=ns) during the $kind run $rep"
	fi
	if [ -n "$smp" ]; then
		wait $smp 2>/dev/null
		untrack $smp
		cpu=$(cat "$RUN/cpu.out" 2>/dev/null)
		[ -n "$cpu" ] || cpu="-	-	-	-"
	fi
	local loglines
	loglines=$(log_lines)
	truncate_blocklog
	[ "$kind" = warm ] && return 0
	grep -v '^>' "$out" >"$RES/logs/$SRV-$wl-$kind-$rep.txt"
	local p ns="-" nsq="-"
	p=$(python3 "$B/parse_dnsperf.py" "$out")
	local done_q; done_q=$(echo "$p" | cut -f2)
	if [ -n "$c0" ] && [ -n "$c1" ]; then
		ns=$((c1 - c0))
		if [ "$done_q" != - ] && [ "$done_q" -gt 0 ]; then
			nsq=$((ns / done_q))
		fi
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SRV" "$wl" "$kind" "$rep" "$p" "$ns" "$nsq" \
		"$cpu	$l0" "$((d1 - d0))" "$loglines" >>"$RES/results.tsv"
	tail -1 "$RES/results.tsv" | awk -F'\t' '{
		if ($3 == "sat") printf "    %-10s sat rep%s: %s qps, lost %s, server CPU %s%%, client CPU busy %s%%, %s ns/query, log lines %s\n", $2, $4, $8, $7, $19, $17, $16, $23;
		else printf "    %-10s @%s qps: p99 %s ms, lost %s/%s, server CPU %s ns/query, log lines %s\n", $2, "'"$LAT_QPS"'", $11, $7, $5, $16, $23 }' >&2
	rm -f "$out"
}
