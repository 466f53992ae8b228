#!/bin/bash
# SPDX-License-Identifier: MIT
# sinkholed vs Unbound, dnsmasq and dnsdist on this machine, in one run (issue #3).
#
# usage: tests/bench/run.sh [--quick] [unbound] [dnsmasq] [dnsdist] [sinkholed] [features] [logs] [lists]
#   (no peer named: all three; `sinkholed` alone: no peer; sinkholed always runs. Sections
#   named: only those, sinkholed alone: `features` what each optional feature costs per query,
#   `logs` the block-log flood and query-log workloads, `lists` list loading and a feed
#   changed under load). See tests/bench/README.md.
#
# Server under test on CPU $SRV_CPU (1), dnsperf and the nsd upstream on CPU $CLI_CPU (0).
# Everything listens on 127.0.0.1 high ports; every load run is bounded (dnsperf -l); only
# processes this script started are stopped, by PID.
set -u
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$B/../.." && pwd)
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
export LC_ALL=C

usage() { sed -n '3,10p' "$0" | sed 's/^# \{0,1\}//'; }

QUICK=0
PEERS=""
for a in "$@"; do
	case $a in
	--quick) QUICK=1 ;;
	-h | --help) usage; exit 0 ;;
	unbound | dnsmasq | dnsdist) PEERS="$PEERS $a" ;;
	sinkholed) ONLY_SELF=1 ;; # named alone: no peer
	features | logs | lists) SECTIONS="${SECTIONS:-} $a" ONLY_SELF=1 ;; # these sections alone
	*) echo "run.sh: unknown argument '$a'" >&2; usage >&2; exit 2 ;;
	esac
done
[ -n "$PEERS" ] || [ -n "${ONLY_SELF:-}" ] || PEERS="unbound dnsmasq dnsdist"

# ---- knobs (environment) -----------------------------------------------------------------
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/sinkholed-bench}
if [ $QUICK = 1 ]; then
	DUR=${DUR:-1} REPS=${REPS:-1} LAT_DUR=${LAT_DUR:-1} LAT_REPS=${LAT_REPS:-1} WARM_DUR=${WARM_DUR:-0.5}
	SAMPLE_DELAY=${SAMPLE_DELAY:-0.3} SAMPLE_WIN=${SAMPLE_WIN:-0.5} RELOAD_GAP=${RELOAD_GAP:-0.1}
	DATA=${BENCH_DATA:-$WORK/data-quick}
else
	DUR=${DUR:-8} REPS=${REPS:-3} LAT_DUR=${LAT_DUR:-4} LAT_REPS=${LAT_REPS:-3} WARM_DUR=${WARM_DUR:-3}
	SAMPLE_DELAY=${SAMPLE_DELAY:-2} SAMPLE_WIN=${SAMPLE_WIN:-5} RELOAD_GAP=${RELOAD_GAP:-0.3}
	DATA=${BENCH_DATA:-$WORK/data}
fi
RELOADS=${RELOADS:-10}           # SIGHUPs sent to sinkholed under load
PEER_RELOADS=${PEER_RELOADS:-1}  # reloads of each peer under load (unbound needs ~10 s per 1M reload)
CLIENTS=${CLIENTS:-10}           # dnsperf -c (and blast -c: sockets)
OUTST=${OUTST:-100}              # dnsperf -q in the closed-loop saturation runs (and blast -q)
# The saturation runs' client: blast (blast.c: dnsperf's closed loop with batched system calls,
# so that the client is not what limits a batching server) or dnsperf.
LOADGEN=${LOADGEN:-blast}
DP_THREADS=${DP_THREADS:-2}      # dnsperf -T
TIMEOUT=${TIMEOUT:-2}            # dnsperf -t: no answer within 2 s = lost
LAT_QPS=${LAT_QPS:-10000}        # fixed offered rate: p99 latency and CPU time per query
SRV_CPU=${SRV_CPU:-1}
CLI_CPU=${CLI_CPU:-0}
UP_CPU=${UP_CPU:-$CLI_CPU}
WORKLOADS=${WORKLOADS:-"w3 w1-10k w4 w2"} # + w1-big always
LOG_WORKLOADS=${LOG_WORKLOADS-"w1-10k"} # again with every peer logging its blocked queries (+ w1-big)
TWO_WORKERS=${TWO_WORKERS:-1}    # sinkholed with 2 workers on w1-10k (0: not measured)
LIST_LOAD=${LIST_LOAD:-1}        # list loading (ThreatFox CSV, domains) and a feed changed under load
FEED_N=${FEED_N:-100000}         # names of the feed
FEED_CHANGES=${FEED_CHANGES:-$([ $QUICK = 1 ] && echo 2 || echo 3)} # feed changes under load
PROFILE=${PROFILE:-1}            # perf profile of sinkholed on w1-10k, saturated (if perf is there)
PROF_DUR=${PROF_DUR:-$([ $QUICK = 1 ] && echo 1 || echo 4)}
FEATURES=${FEATURES:-1}          # CPU/query of each optional feature on vs off (0: not measured)
FEAT_IPS=${FEAT_IPS:-10000}      # IP indicators listed in the feature runs that inspect addresses
FEAT_VARIANTS=${FEAT_VARIANTS-"off cname ip retro qlog all off2"} # one feature at a time (empty: only core/full)
REP0=0                           # added to the repetition numbers (the feature rounds)
FEAT_ROUNDS=${FEAT_ROUNDS:-$([ $QUICK = 1 ] && echo 1 || echo 2)} # core/full/fullm starts, in turn
FULL_MATCHED=${FULL_MATCHED:-1}  # the full feature set again with query_log.matched: true (0: not run)
RETRO_N=${RETRO_N:-$([ $QUICK = 1 ] && echo 100000 || echo 1000000)} # distinct names for the retro-hunt's memory (0: not run)
RETRO_QPS=${RETRO_QPS:-50000}    # the rate they are sent at
FLOOD_QPS=${FLOOD_QPS:-}         # the one-client flood: empty = closed loop (the highest rate)
FLOOD_DUR=${FLOOD_DUR:-$([ $QUICK = 1 ] && echo 2 || echo 8)}
QLOG_QPS=${QLOG_QPS:-50000}      # the query log's fixed rate (mixed traffic)
LOGS=${LOGS:-1}                  # the block-log flood and query-log workloads (0: not run)
PEER_LOG=0
PORT_BASE=${BENCH_PORT_BASE:-5450}
UP_PORT=$PORT_BASE
SINKHOLED_CACHE_YAML=${SINKHOLED_CACHE_YAML-"cache: {enabled: true}"} # only if the build knows `cache:`
TCK=$(getconf CLK_TCK)
T_START=$(date +%s)

stamp=$(date +%Y%m%d-%H%M%S)
RES=${BENCH_RESULTS:-$WORK/results/$stamp$([ $QUICK = 1 ] && echo -quick)}
RUN=$RES/run
mkdir -p "$RES/logs" "$RUN" || exit 1
printf 'server\tworkload\tkind\trep\tsent\tcompleted\tlost\tqps\tavg_ms\tp50_ms\tp99_ms\tmax_ms\trcodes\tmin_interval_qps\tsrv_cpu_ns\tsrv_ns_per_query\tcli_cpu_busy\tsrv_cpu_busy\tsrv_proc_cpu\tsrv_cpu_softirq\tload1\tsrv_sock_drops\tlog_lines\n' >"$RES/results.tsv"
printf 'server\tevent\tvalue\tnote\n' >"$RES/events.tsv"

# shellcheck source=lib.sh
. "$B/lib.sh"
# shellcheck source=servers.sh
. "$B/servers.sh"
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM
exec > >(tee -a "$RES/runlog.txt") 2>&1

# ---- machine, packages, build ----------------------------------------------------------------
ncpu=$(nproc --all 2>/dev/null || nproc)
if [ "$ncpu" -lt 2 ] || [ "$SRV_CPU" = "$CLI_CPU" ]; then
	echo "run.sh: needs 2 CPUs (server on SRV_CPU=$SRV_CPU, client on CLI_CPU=$CLI_CPU); this machine has $ncpu" >&2
	exit 1
fi

need_pkgs() { # need_pkgs "cmd:pkg ..." -> prints the packages whose command is missing
	local cp
	for cp in $1; do command -v "${cp%%:*}" >/dev/null 2>&1 || echo "${cp#*:}"; done | sort -u | tr '\n' ' '
}
core="dnsperf:dnsperf nsd:nsd python3:python3 taskset:util-linux"
peer_cmds=""
for p in $PEERS; do
	case $p in
	unbound) peer_cmds="$peer_cmds unbound:unbound unbound-control:unbound" ;;
	dnsmasq) peer_cmds="$peer_cmds dnsmasq:dnsmasq-base" ;;
	dnsdist) peer_cmds="$peer_cmds dnsdist:dnsdist" ;;
	esac
done
missing=$(need_pkgs "$core $peer_cmds")
if [ -n "${missing// /}" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "installing Debian packages: $missing (their system services, if any, are left alone)"
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		apt-get install -y -qq --no-install-recommends $missing >"$RES/logs/apt.txt" 2>&1 ||
			{ apt-get update -qq >>"$RES/logs/apt.txt" 2>&1 &&
				apt-get install -y -qq --no-install-recommends $missing >>"$RES/logs/apt.txt" 2>&1; } ||
			echo "apt-get failed, see $RES/logs/apt.txt"
	else
		echo "missing packages: $missing -- install them as root: apt-get install $missing"
	fi
fi
missing=$(need_pkgs "$core")
[ -z "${missing// /}" ] || { echo "cannot run without: $missing" >&2; exit 1; }

if [ -z "${SINKHOLED_BIN:-}" ]; then
	src=$REPO bdir=$WORK/build
	if [ -n "${SINKHOLED_REV:-}" ]; then # a committed revision (git archive: no change to the repo)
		src=$WORK/src-rev bdir=$WORK/build-rev
		rm -rf "$src"
		mkdir -p "$src"
		if ! git -C "$REPO" archive --format=tar "$SINKHOLED_REV" | tar -x -C "$src"; then
			echo "cannot export $SINKHOLED_REV from $REPO" >&2
			exit 1
		fi
	fi
	SINKHOLED_BIN=$bdir/sinkholed
	echo "building $src${SINKHOLED_REV:+ at $SINKHOLED_REV} (Release) in $bdir"
	if ! command -v cmake >/dev/null || ! pkg-config --exists libuv ldns yaml-0.1 2>/dev/null; then
		if [ "$(id -u)" = 0 ]; then sh "$REPO/tests/deps.sh" build; else
			echo "build dependencies missing: run 'sh tests/deps.sh build' as root, or set SINKHOLED_BIN" >&2
		fi
	fi
	{ cmake -S "$src" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DSINKHOLED_TESTS=OFF &&
		cmake --build "$bdir" -j"$ncpu"; } >"$RES/logs/build.txt" 2>&1 ||
		{ echo "build failed: see $RES/logs/build.txt" >&2; tail -20 "$RES/logs/build.txt" >&2; exit 1; }
fi
[ -x "$SINKHOLED_BIN" ] || { echo "no sinkholed binary at $SINKHOLED_BIN" >&2; exit 1; }

# ---- data (deterministic; generated once per work dir and generator version) -----------------
gen_id=$(sha1sum "$B/gen_data.py" | cut -c1-12)$([ $QUICK = 1 ] && echo -quick)
if ! grep -qx "$gen_id" "$DATA/.gen_id" 2>/dev/null || ! grep -q '^COMPLETE=1' "$DATA/meta.env" 2>/dev/null; then
	echo "generating data in $DATA (once; full ~40 s, quick ~10 s)"
	rm -rf "$DATA"
	qflag=""
	[ $QUICK = 1 ] && qflag=--quick
	python3 "$B/gen_data.py" "$DATA" $qflag || exit 1
	echo "$gen_id" >"$DATA/.gen_id"
fi
# shellcheck disable=SC1091
. "$DATA/meta.env"
BIGLABEL=$([ "$N_BLOCK" = 1000000 ] && echo 1M || echo "$((N_BLOCK / 1000))k")

BLOCK_LOG=${SINKHOLED_BLOCK_LOG:-$RUN/sinkholed/blocked.jsonl}
make_lists

SRV=run
event mode "$([ $QUICK = 1 ] && echo quick || echo full)" "DUR=$DUR s x REPS=$REPS, LAT_REPS=$LAT_REPS x LAT_DUR=$LAT_DUR s @ $LAT_QPS qps, dnsperf -c $CLIENTS -q $OUTST -T $DP_THREADS -t $TIMEOUT"
event machine "$ncpu CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)" "server CPU $SRV_CPU; dnsperf and nsd CPU $CLI_CPU"
event biglist "$N_BLOCK" "names, $BIG_NAME_BYTES bytes of presentation names ($BIGLABEL list)"
event load_start "$(cut -d' ' -f1-3 /proc/loadavg)"
# A VM whose balloon device reports free pages hands freed guest memory back to its host, which
# backs it again on the next write: a fault per page that lands on whoever writes fresh pages
# (the block log's page cache above all). Counted where the kernel exposes it.
reported_kib() { cat /sys/module/page_reporting/parameters/reported_kib 2>/dev/null || echo -; }
event reported_kib_start "$(reported_kib)"
SRV=sinkholed event binary "$SINKHOLED_BIN" "$(git -C "$REPO" describe --always --dirty 2>/dev/null)${SINKHOLED_REV:+, built from $SINKHOLED_REV}"
event dnsperf "$(dpkg-query -W -f='${Version}' dnsperf 2>/dev/null || echo '?')"
if [ "$LOADGEN" = blast ]; then
	mkdir -p "$RUN"
	if cc -O2 -o "$RUN/blast" "$B/blast.c" 2>"$RUN/blast-build.txt"; then
		event loadgen blast "saturation runs: blast -c $CLIENTS -q $OUTST (sendmmsg/recvmmsg); fixed-rate runs: dnsperf"
	else
		event loadgen dnsperf "blast.c did not build ($(head -1 "$RUN/blast-build.txt")): dnsperf for every run"
		LOADGEN=dnsperf
	fi
else
	event loadgen dnsperf "every run"
fi

# Optional sections, used only if this sinkholed build knows them (unknown keys are errors):
# `cache:` (answer cache, being added) and, when run as root, `allow_root: true` (newer builds
# refuse to serve as root without it or `user:`).
probe_yaml() { # probe_yaml "YAML" -> 0 if `sinkholed --check` accepts a config with it; message on stdout
	mkdir -p "$RUN/probe"
	printf 'listen: ["127.0.0.1:%s"]\nupstreams: ["127.0.0.1:%s"]\nworkers: 1\nblocklists: ["%s"]\nblock_log: {path: "-"}\n%s\n' \
		$((PORT_BASE + 1)) "$UP_PORT" "$RUN/lists/marker-0.txt" "$1" >"$RUN/probe/probe.yaml"
	"$SINKHOLED_BIN" --check -c "$RUN/probe/probe.yaml" >"$RUN/probe/out.txt" 2>&1
	local rc=$?
	grep -m1 -o 'unknown key "[a-z_]*"\|error: .*' "$RUN/probe/out.txt"
	return $rc
}
SINKHOLED_EXTRA_YAML=""
if [ "$(id -u)" = 0 ] && probe_yaml "allow_root: true" >/dev/null; then
	SINKHOLED_EXTRA_YAML="allow_root: true"
fi
if [ -n "$SINKHOLED_CACHE_YAML" ]; then
	if probe_yaml "$SINKHOLED_EXTRA_YAML
$SINKHOLED_CACHE_YAML" >/dev/null; then
		SRV=sinkholed event cache "on" "config has: $SINKHOLED_CACHE_YAML"
		SINKHOLED_EXTRA_YAML="$SINKHOLED_EXTRA_YAML
$SINKHOLED_CACHE_YAML"
	else
		SRV=sinkholed event cache "off" "left out: this build rejects '$SINKHOLED_CACHE_YAML': $(probe_yaml "$SINKHOLED_EXTRA_YAML
$SINKHOLED_CACHE_YAML")"
	fi
fi

start_nsd || exit 1
# Converted lists are data: made (and flushed to disk) here, not next to a timed start.
conv_list yaml "$DATA/blocklist-big.txt" >/dev/null && sync

# lat_runs WORKLOAD FILE: the fixed-rate runs (p99 latency, CPU per query), LAT_REPS of them;
# the report takes the median. (w3 has one: a second would hit the cache.)
lat_runs() {
	local r
	for r in $(seq 1 "$LAT_REPS"); do dp "$1" lat "$((REP0 + r))" "$2"; done
}

# ---- one server: memory baseline, 10k-list workloads, big-list workloads and reloads --------
sanity() {
	local r1 r2 r3 ok=ok
	r1=$(dq "$SMALL_FIRST" A)
	r2=$(dq "www.$SMALL_FIRST" AAAA)
	r3=$(dq "$ZONE_FIRST" A)
	[ "$r1" = "NOERROR 0.0.0.0" ] || ok=FAIL
	[ "$r2" = "NOERROR ::" ] || ok=FAIL
	case $r3 in NOERROR\ 10.*) ;; *) ok=FAIL ;; esac
	event sanity "$ok" "$SMALL_FIRST A -> $r1 | www.$SMALL_FIRST AAAA -> $r2 | $ZONE_FIRST A -> $r3"
}

# start_and_wait LIST NAME EVENT: start with main list LIST, wait until NAME is blocked
start_and_wait() {
	local t0 t
	srv_link "$1" 0
	srv_ports_free || return 1
	t0=$(now)
	srv_start
	t=$(wait_blocked "$2" 300) || { event start_failed "$t" "with list $1: $(tail -2 "$D/stderr.log" | tr '\n' ' ')"; srv_stop; return 1; }
	[ -n "$3" ] && event "$3" "$(fsub "$t0" "$(now)")" "s from exec to the first blocked answer ($2)"
	return 0
}

reload_test() {
	local n=$1 est=$2 L out="$RUN/dp-reload.out" dpp i m t0 t times="" under=0 p d0
	L=$(python3 -c "import math; print(min(${RELOAD_MAX_L:-120}, max(6, math.ceil(4 + $n * (1.5 * $est + 0.4)))))")
	log "reload test: $n x $(srv_reload_how) during dnsperf -Q $LAT_QPS -l $L on the $BIGLABEL all-blocked workload"
	taskset -c "$CLI_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$DATA/q-w1-big.txt" -t "$TIMEOUT" \
		-l "$L" -c "$CLIENTS" -q 2000 -Q "$LAT_QPS" -T "$DP_THREADS" -S 1 >"$out" 2>&1 &
	dpp=$!
	track $dpp
	d0=$(sock_drops "$PORT")
	sleep 1.5
	for i in $(seq 1 "$n"); do
		kill -0 $dpp 2>/dev/null && under=$((under + 1))
		m=$([ $((i % 2)) = 1 ] && echo a || echo b)
		srv_link big "$m"
		t0=$(now)
		srv_reload
		if [ "$m" = a ]; then t=$(wait_blocked "$MARKER_A" 120); else t=$(wait_blocked "$MARKER_B" 120); fi || {
			event reload_failed "$t" "reload $i: marker $m not answered 0.0.0.0 in 120 s"
			break
		}
		times="$times $(fsub "$t0" "$(now)")"
		truncate_blocklog
		sleep "$RELOAD_GAP"
	done
	sleep 1
	kill -INT $dpp 2>/dev/null # dnsperf stops sending, reports (in flight = "interrupted")
	wait $dpp
	untrack $dpp
	event reload_sock_drops "$(($(sock_drops "$PORT") - d0))" "queries dropped by the kernel at the server's UDP socket (buffer full; dnsmasq: restart)"
	truncate_blocklog
	grep -v '^>' "$out" >"$RES/logs/$SRV-reload.txt"
	p=$(python3 "$B/parse_dnsperf.py" "$out")
	event reload_how "$(srv_reload_how)"
	event reload_count "$(echo "$times" | wc -w)" "$under of them while dnsperf was sending"
	event reload_times "${times# }" "s, reload command -> the new marker answered 0.0.0.0 (poll 10 ms)"
	event reload_load "${p//$'\t'/ }" "dnsperf during reloads: sent completed lost qps avg_ms p50 p99 max_ms rcodes min_1s_qps"
	event rss_after_reload_kb "$(rss_kb "$SRV_PID")" "VmRSS after the reloads"
	event hwm_after_reload_kb "$(hwm_kb "$SRV_PID")" "VmHWM (peak RSS) of the process so far"
}

# logged_runs WL LIST NAME: a peer again on the all-blocked workload WL, started with its
# logging config (PEER_LOG=1: every blocked query written to a file), if WL is in LOG_WORKLOADS
logged_runs() {
	case " $LOG_WORKLOADS " in *" $1 "*) ;; *) return 0 ;; esac
	PEER_LOG=1
	if start_and_wait "$2" "$3" ""; then
		event "log_$1" "$(peer_log_file)" "$(srv_log_how)"
		sat_series "$1.log" "$DATA/q-$1.txt"
		lat_runs "$1.log" "$DATA/q-$1.txt"
	else
		event skipped_log "did not start with its logging config"
	fi
	srv_stop
	PEER_LOG=0
}

# two_workers: sinkholed with 2 workers on w1-10k, first both on the server CPU (the client
# keeps its own core), then on both CPUs (sharing the client's)
two_workers() {
	local v cpus
	sed 's/^workers: 1$/workers: 2/' "$D/sinkholed.yaml" >"$D/sinkholed-2w.yaml"
	for v in 2w 2w2c; do
		if [ $v = 2w ]; then cpus=$SRV_CPU; else cpus=$CLI_CPU,$SRV_CPU; fi
		SINKHOLED_CONF=$D/sinkholed-2w.yaml SRV_CPUS=$cpus start_and_wait 10k "$SMALL_FIRST" "" ||
			{ event "skipped_$v" "did not start with 2 workers"; continue; }
		event "workers_$v" "$cpus" "2 workers pinned to CPU(s) $cpus; dnsperf and nsd on CPU $CLI_CPU"
		sat_series "w1-10k.$v" "$DATA/q-w1-10k.txt"
		lat_runs "w1-10k.$v" "$DATA/q-w1-10k.txt"
		srv_stop
	done
}

# profile_run WL FILE: where the server's cycles go during a saturated run (perf, by symbol;
# this run is not one of the measured ones)
profile_run() {
	local pd=$RUN/perf-$SRV-$1.data pp
	command -v perf >/dev/null || { event "profile_$1" "-" "perf is not installed"; return 0; }
	taskset -c "$CLI_CPU" perf record -F 999 -p "$SRV_PID" -o "$pd" -- sleep "$PROF_DUR" >"$RUN/perf.out" 2>&1 &
	pp=$!
	track $pp
	closed_loop "$((PROF_DUR + 1))" "$2" >"$RUN/dp-prof.out" 2>&1
	wait $pp
	untrack $pp
	truncate_blocklog
	# by DSO (kernel / sinkholed / libc), then by symbol. In a VM without a PMU, perf samples
	# with a timer: kernel time spent with interrupts off shows up where they are re-enabled.
	{ perf report -i "$pd" --stdio --no-children --sort dso --percent-limit 1 2>"$RUN/perf-report.err" | grep '%' | sed 's/^/by DSO: /'
		perf report -i "$pd" --stdio --no-children --sort dso,sym --percent-limit 0.7 2>>"$RUN/perf-report.err" |
			grep '%'; } >"$RES/logs/perf-$SRV-$1.txt"
	if grep -q '\[' "$RES/logs/perf-$SRV-$1.txt"; then
		event "profile_$1" "logs/perf-$SRV-$1.txt" "perf record -F 999 -p PID for $PROF_DUR s of a saturated run: self time by DSO and symbol"
	else
		event "profile_$1" "-" "perf failed: $(tail -1 "$RUN/perf.out" "$RUN/perf-report.err" 2>/dev/null | tr '\n' ' ')"
	fi
	rm -f "$pd"
}

run_server() {
	SRV=$1
	D=$RUN/$SRV
	CTL_PORT=
	case $SRV in
	sinkholed) PORT=$((PORT_BASE + 1)) ;;
	unbound) PORT=$((PORT_BASE + 2)) CTL_PORT=$((PORT_BASE + 12)) ;;
	dnsmasq) PORT=$((PORT_BASE + 3)) ;;
	dnsdist) PORT=$((PORT_BASE + 4)) CTL_PORT=$((PORT_BASE + 14)) ;;
	esac
	local t_srv r w est
	t_srv=$(date +%s)
	if [ "$SRV" != sinkholed ] && ! command -v "$SRV" >/dev/null; then
		event skipped "not installed"
		return 1
	fi
	srv_prepare
	log "=== $SRV on 127.0.0.1:$PORT, CPU $SRV_CPU; dnsperf + nsd on CPU $CLI_CPU"
	event version "$(srv_version)"

	# memory baseline: no list (empty main list + one marker domain)
	start_and_wait empty "$MARKER_TINY" "" || { event skipped "did not start"; return 1; }
	sleep 0.2
	event rss_empty_kb "$(rss_kb "$SRV_PID")" "VmRSS with an empty list, after the first answer"
	srv_stop

	start_and_wait 10k "$SMALL_FIRST" load_10k || { event skipped "did not start with the 10k list"; return 1; }
	sanity
	for w in $WORKLOADS; do
		case $w in
		w1-10k)
			sat_series w1-10k "$DATA/q-w1-10k.txt"
			lat_runs w1-10k "$DATA/q-w1-10k.txt"
			[ "$SRV" = sinkholed ] && [ "$PROFILE" = 1 ] && profile_run w1-10k "$DATA/q-w1-10k.txt"
			;;
		w2)
			dp w2 warm 0 "$DATA/q-w2-hit.txt"
			for r in $(seq 1 "$REPS"); do dp w2 sat "$r" "$DATA/q-w2-hit.txt"; done
			lat_runs w2 "$DATA/q-w2-hit.txt"
			;;
		w4)
			dp w4 warm 0 "$DATA/q-w4-mixed.txt"
			for r in $(seq 1 "$REPS"); do dp w4 sat "$r" "$DATA/q-w4-mixed.txt"; done
			lat_runs w4 "$DATA/q-w4-mixed.txt"
			;;
		w3) # every query a cache miss: a fresh start (empty cache) for each saturation run; the
			# fixed-rate run uses names no saturation run sent
			for r in $(seq 1 "$REPS"); do
				if [ "$r" != 1 ] || [ "$w" != "${WORKLOADS%% *}" ]; then
					srv_stop
					start_and_wait 10k "$SMALL_FIRST" "" || { event skipped "restart failed"; return 1; }
				fi
				dp w3 sat "$r" "$DATA/q-w3-miss.txt"
			done
			dp w3 lat 1 "$DATA/q-w3-lat.txt"
			;;
		esac
	done
	srv_stop
	if [ "$SRV" = sinkholed ]; then
		[ "$TWO_WORKERS" = 1 ] && two_workers
	else
		logged_runs w1-10k 10k "$SMALL_FIRST"
	fi

	start_and_wait big "$BIG_LAST" load_big || { event skipped "did not start with the $BIGLABEL list"; return 1; }
	sleep 0.2
	event rss_big_kb "$(rss_kb "$SRV_PID")" "VmRSS with the $BIGLABEL list, after the first answer"
	event hwm_big_kb "$(hwm_kb "$SRV_PID")" "VmHWM after load"
	sat_series w1-big "$DATA/q-w1-big.txt"
	lat_runs w1-big "$DATA/q-w1-big.txt"
	event rss_big_after_load_kb "$(rss_kb "$SRV_PID")" "VmRSS after the $BIGLABEL-list runs"
	est=$(awk -F'\t' -v s="$SRV" '$1 == s && $2 == "load_big" {print $3}' "$RES/events.tsv" | tail -1)
	if [ "$SRV" = sinkholed ]; then reload_test "$RELOADS" "${est:-1}"; else reload_test "$PEER_RELOADS" "${est:-1}"; fi
	srv_stop
	[ "$SRV" = sinkholed ] || logged_runs w1-big big "$BIG_LAST"
	if [ "$SRV" = sinkholed ]; then
		# The same big list as a YAML list of plain strings (converted before the run): its
		# load time.
		local y
		y=$(conv_list yaml "$(list_file big)")
		sed "s#$D/main.txt#$y#" "$D/sinkholed.yaml" >"$D/sinkholed-yaml.yaml"
		SINKHOLED_CONF=$D/sinkholed-yaml.yaml start_and_wait big "$BIG_LAST" load_big_yaml
		srv_stop
	fi
	if [ "$SRV" = sinkholed ]; then
		grep 'stats:' "$D/stderr.log" | tail -1 | sed 's/^/    /'
		# Block-log lines written and dropped (ring full), summed over every start of this
		# run: the last stats line before each "stopped" is that process's total.
		event blocklog "$(awk '/ stats: /{last = $0} / stopped$/ && last != "" {
				if (match(last, /block(log_| log )written [0-9]+/)) { x = substr(last, RSTART, RLENGTH); sub(/.* /, "", x); w += x }
				if (match(last, /block(log_| log )dropped [0-9]+/)) { x = substr(last, RSTART, RLENGTH); sub(/.* /, "", x); d += x }
				last = ""} END {printf "%d %d", w, d}' "$D/stderr.log")" \
			"block-log lines written and dropped over the whole run"
	fi
	event elapsed "$(($(date +%s) - t_srv))" "s for $SRV"
}

# The kernel's floor (floor.c): one blocking recvfrom + one sendto per query and nothing else,
# measured like the servers at the fixed rate. No peer can go below it per wake-up.
run_floor() {
	SRV=floor D=$RUN/floor PORT=$((PORT_BASE + 5))
	mkdir -p "$D"
	if ! cc -O2 -o "$D/floor" "$B/floor.c" 2>"$D/build.txt"; then
		event skipped "floor.c did not build: $(head -1 "$D/build.txt")"
		return 1
	fi
	srv_ports_free || return 1
	taskset -c "$SRV_CPU" "$D/floor" "$PORT" 900 >>"$D/stderr.log" 2>&1 &
	SRV_PID=$!
	track "$SRV_PID"
	log "=== floor (recvfrom + sendto, no work) on 127.0.0.1:$PORT, CPU $SRV_CPU"
	sleep 0.2
	dp w1-10k sat 1 "$DATA/q-w1-10k.txt"
	lat_runs w1-10k "$DATA/q-w1-10k.txt"
	lat_runs w1-big "$DATA/q-w1-big.txt"
	case " $WORKLOADS " in *" w4 "*) lat_runs w4 "$DATA/q-w4-mixed.txt" ;; esac
	srv_stop
}

# ---- list loading (issue #11): a ThreatFox CSV export and a domains file of the big list's
# size, then a feed changed under load -------------------------------------------------------
lists_conf() { # lists_conf FILE BLOCKLISTS_ITEMS [EXTRA_YAML]: a config for sinkholed alone
	{
		printf 'listen: ["127.0.0.1:%s"]\nupstreams: ["127.0.0.1:%s"]\nworkers: 1\n' "$PORT" "$UP_PORT"
		printf 'block_log: {path: "%s"}\nsinkhole: {mode: address}\nlog_level: info\nstate_dir: "%s"\n' \
			"$BLOCK_LOG" "$D/state"
		printf 'blocklists:\n%s\n%s\n%s\n' "$2" "${3:-}" "$SINKHOLED_EXTRA_YAML"
	} >"$1"
}

run_lists() {
	SRV=sinkholed D=$RUN/lists-load PORT=$((PORT_BASE + 1)) CTL_PORT=
	local kind i t0 t best times rss
	rm -rf "$D"
	mkdir -p "$D/state" "$(dirname "$BLOCK_LOG")"
	log "=== list loading: $TF_ROWS-row ThreatFox CSV ($TF_DOMAINS domain rows), $N_BLOCK-name domains file; CPU $SRV_CPU"
	event listload_tf "$TF_ROWS $TF_DOMAINS $TF_NAME_BYTES ${TF_IPS:-0}" "rows, domain rows, bytes of their names, ip:port rows; $(du -m "$DATA/threatfox-big.csv" | cut -f1) MB"
	lists_conf "$D/empty.yaml" "  - $RUN/lists/marker-0.txt" "watch: false"
	lists_conf "$D/csv.yaml" "  - {path: \"$DATA/threatfox-big.csv\", format: threatfox-csv}" "watch: false"
	lists_conf "$D/domains.yaml" "  - {path: \"$DATA/blocklist-big.txt\", format: domains}" "watch: false"
	for kind in csv domains; do
		best="" times=""
		for i in 1 2 3; do
			t0=$(now)
			if ! taskset -c "$SRV_CPU" "$SINKHOLED_BIN" --check -c "$D/$kind.yaml" >"$RES/logs/check-$kind.txt" 2>&1; then
				event "listload_check_$kind" "-" "--check failed: $(tail -2 "$RES/logs/check-$kind.txt" | tr '\n' ' ')"
				best="" && break
			fi
			t=$(fsub "$t0" "$(now)")
			times="$times $t"
			best=$(python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" $times)
		done
		[ -n "$best" ] && event "listload_check_$kind" "$best" "s, sinkholed --check (exec to exit), best of 3:$times"
		# where the load's cycles go: one more --check under perf (by DSO, then by symbol)
		if [ -n "$best" ] && [ "$PROFILE" = 1 ] && command -v perf >/dev/null; then
			perf record -F 999 -o "$RUN/perf-check.data" -- taskset -c "$SRV_CPU" "$SINKHOLED_BIN" \
				--check -c "$D/$kind.yaml" >/dev/null 2>&1
			{ perf report -i "$RUN/perf-check.data" --stdio --no-children --sort dso --percent-limit 1 2>/dev/null |
				grep '%' | sed 's/^/by DSO: /'
				perf report -i "$RUN/perf-check.data" --stdio --no-children --sort sym --percent-limit 0.7 \
					2>/dev/null | grep '%'; } >"$RES/logs/perf-check-$kind.txt"
			rm -f "$RUN/perf-check.data"
			grep -q '%' "$RES/logs/perf-check-$kind.txt" &&
				event "profile_check_$kind" "logs/perf-check-$kind.txt" "perf record -F 999 of one sinkholed --check: self time by DSO and symbol"
		fi
	done
	# memory: VmRSS after the first blocked answer, over that with one marker name
	SINKHOLED_CONF=$D/empty.yaml start_and_wait empty "$MARKER_TINY" "" || return 1
	sleep 0.2
	event listload_rss_empty_kb "$(rss_kb "$SRV_PID")" "VmRSS with one name, after the first answer"
	srv_stop
	for kind in csv domains; do
		if [ $kind = csv ]; then t=$TF_LAST; else t=$BIG_LAST; fi
		SINKHOLED_CONF=$D/$kind.yaml start_and_wait empty "$t" "listload_start_$kind" || continue
		sleep 0.2
		rss=$(rss_kb "$SRV_PID")
		event "listload_rss_${kind}_kb" "$rss" "VmRSS with the list, after the first blocked answer ($t)"
		srv_stop
	done
	feed_test
}

# feed_version MARKER: the feed's next version (FEED_N names + MARKER), renamed into place with a
# Last-Modified one second or more after the previous version's (http.server answers 304 to
# If-Modified-Since by whole seconds)
FEED_MT=0
feed_version() {
	local n
	n=$(date +%s)
	FEED_MT=$((n > FEED_MT ? n : FEED_MT + 1))
	{ cat "$D/feed-base.txt"; echo "$1"; } >"$D/http/.feed.tmp"
	touch -d "@$FEED_MT" "$D/http/.feed.tmp"
	mv -f "$D/http/.feed.tmp" "$D/http/feed.txt"
}

# feed_test: a url: feed (python http.server on 127.0.0.1, refresh 2s) changed FEED_CHANGES
# times under dnsperf -Q $LAT_QPS on the all-blocked workload (its names are in the feed)
feed_test() {
	local hp=$((PORT_BASE + 6)) out=$RUN/dp-feed.out dpp i m t0 t times="" L p d0 under=0
	mkdir -p "$D/http"
	port_free "$hp" || { event feed_skipped "port $hp is in use"; return 1; }
	head -n "$FEED_N" "$DATA/blocklist-big.txt" >"$D/feed-base.txt"
	feed_version "$MARKER_A"
	taskset -c "$CLI_CPU" timeout 900 python3 -m http.server --bind 127.0.0.1 --directory "$D/http" "$hp" \
		>"$D/http.log" 2>&1 &
	HTTP_PID=$!
	track "$HTTP_PID"
	for i in $(seq 1 50); do port_free "$hp" || break; sleep 0.1; done
	lists_conf "$D/feed.yaml" "  - {name: benchfeed, url: \"http://127.0.0.1:$hp/feed.txt\", format: domains, refresh: 2s}"
	SINKHOLED_CONF=$D/feed.yaml start_and_wait empty "$MARKER_A" feed_first_load || { stop_pid "$HTTP_PID"; return 1; }
	L=$((4 + FEED_CHANGES * 4)) # dnsperf is stopped once the last change is in
	log "feed test: $FEED_CHANGES changes of a $FEED_N-name feed (refresh: 2s) during dnsperf -Q $LAT_QPS -l $L"
	taskset -c "$CLI_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$DATA/q-w1-10k.txt" -t "$TIMEOUT" \
		-l "$L" -c "$CLIENTS" -q 2000 -Q "$LAT_QPS" -T "$DP_THREADS" -S 1 >"$out" 2>&1 &
	dpp=$!
	track $dpp
	d0=$(sock_drops "$PORT")
	sleep 1.5
	for i in $(seq 1 "$FEED_CHANGES"); do
		kill -0 $dpp 2>/dev/null && under=$((under + 1))
		if [ $((i % 2)) = 1 ]; then m=$MARKER_B; else m=$MARKER_A; fi
		feed_version "$m"
		t0=$(now)
		t=$(wait_blocked "$m" 30) || { event feed_change_failed "$t" "change $i: $m not blocked in 30 s"; break; }
		times="$times $(fsub "$t0" "$(now)")"
		sleep 0.3
	done
	sleep 1
	kill -INT $dpp 2>/dev/null
	wait $dpp
	untrack $dpp
	truncate_blocklog
	grep -v '^>' "$out" >"$RES/logs/sinkholed-feed.txt"
	p=$(python3 "$B/parse_dnsperf.py" "$out")
	event feed_sock_drops "$(($(sock_drops "$PORT") - d0))" "queries dropped by the kernel at sinkholed's UDP socket"
	event feed_names "$FEED_N" "names in the feed"
	event feed_count "$(echo "$times" | wc -w)" "$under of them while dnsperf was sending"
	event feed_times "${times# }" "s, new version renamed into place -> its marker answered 0.0.0.0 (refresh 2s, poll 10 ms)"
	event feed_load "${p//$'\t'/ }" "dnsperf during the feed changes: sent completed lost qps avg_ms p50 p99 max_ms rcodes min_1s_qps"
	event feed_http "$(grep -c '"GET /feed.txt HTTP/1.1" 200' "$D/http.log") $(grep -c '"GET /feed.txt HTTP/1.1" 304' "$D/http.log")" "feed requests answered 200 and 304"
	grep -h 'benchfeed' "$D/stderr.log" | tail -3 | sed 's/^/    /' >&2
	srv_stop
	stop_pid "$HTTP_PID"
	HTTP_PID=
}

# ---- the block log under a flood, and the query log -------------------------------------------
# stats_field NAME: the value of NAME in sinkholed's last `stats:` line (SIGUSR1)
stats_field() {
	grep ' stats: ' "$D/stderr.log" | tail -1 | grep -o "$1 [0-9]*" | tail -1 | cut -d' ' -f2
}
usr1_stats() { kill -USR1 "$SRV_PID" 2>/dev/null && sleep 0.3; }

# flood_run: all-blocked load from one client (dnsperf -c 1, one listed name, closed loop: the
# highest rate the machine gives; FLOOD_QPS caps it). Identical lookups are aggregated: the
# block log must account for every query the server received (sum of EventCount = sent - the
# kernel's drops, every one answered) with no record dropped.
flood_run() {
	local q=$D/flood.txt out=$RUN/dp-flood.out d0 d1 c0 c1 p sent done_q recvd events recs dr dre ok args
	echo "$SMALL_FIRST A" >"$q"
	start_and_wait 10k "$SMALL_FIRST" "" || { event flood_skipped "did not start"; return 1; }
	sleep 1.5 # the start-up lookups' record leaves the aggregation table
	truncate_blocklog
	if [ -n "$FLOOD_QPS" ]; then args="-q 1000 -Q $FLOOD_QPS"; else args="-q $OUTST"; fi
	log "flood: dnsperf -c 1 $args -l $FLOOD_DUR, $SMALL_FIRST A only"
	d0=$(sock_drops "$PORT")
	c0=$(proc_ns "$SRV_PID")
	# shellcheck disable=SC2086
	taskset -c "$CLI_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$q" -t "$TIMEOUT" -l "$FLOOD_DUR" \
		-c 1 -T 1 $args >"$out" 2>&1
	c1=$(proc_ns "$SRV_PID")
	d1=$(sock_drops "$PORT")
	sleep 1.5 # the last window's record
	usr1_stats
	grep -v '^>' "$out" >"$RES/logs/sinkholed-flood.txt"
	p=$(python3 "$B/parse_dnsperf.py" "$out")
	sent=$(echo "$p" | cut -f1) done_q=$(echo "$p" | cut -f2)
	recvd=$((sent - (d1 - d0)))
	read -r events recs < <(python3 -c '
import json, sys
e = r = 0
for line in open(sys.argv[1]):
    x = json.loads(line)
    if x.get("DnsQuery") == sys.argv[2]:
        e += x["EventCount"]
        r += 1
print(e, r)' "$BLOCK_LOG" "$SMALL_FIRST")
	dr=$(stats_field blocklog_dropped) dre=$(stats_field blocklog_dropped_events)
	ok=FAIL
	[ "$events" = "$recvd" ] && [ "${dr:-x}" = 0 ] && ok=ok
	event flood_load "${p//$'\t'/ }" "dnsperf -c 1 $args: sent completed lost qps avg_ms p50 p99 max_ms rcodes min_1s_qps"
	event flood_accounting "$events $recvd $done_q $recs" "sum of EventCount, queries received (sent - $((d1 - d0)) kernel drops), answered to dnsperf, block-log records"
	event flood_dropped "${dr:--} ${dre:--}" "block-log records dropped, lookups they stood for (stats line)"
	event flood_cpu_ns_per_query "$(((c1 - c0) / (done_q > 0 ? done_q : 1)))" "server CPU (all threads) per answered query"
	event flood_check "$ok" "sum of EventCount = queries received, 0 records dropped"
	truncate_blocklog
	srv_stop
}

# qlog_run: the mix (w4: 5% blocked, 95% cache hits) at QLOG_QPS, with the query log off, then
# on (every query): 0 records dropped, and the CPU per query of each (results.tsv rows
# w4.qlog-off and w4.qlog-on, kind lat).
qlog_run() {
	local v ql=$D/queries.jsonl w dr conf
	{ cat "$D/sinkholed.yaml"; printf 'query_log: {path: "%s"}\n' "$ql"; } >"$D/sinkholed-qlog.yaml"
	for v in off on; do
		rm -f "$ql"
		if [ $v = on ]; then conf=$D/sinkholed-qlog.yaml; else conf=$D/sinkholed.yaml; fi
		SINKHOLED_CONF=$conf start_and_wait 10k "$SMALL_FIRST" "" ||
			{ event "qlog_${v}_skipped" "did not start"; continue; }
		dp "w4.qlog-$v" warm 0 "$DATA/q-w4-mixed.txt"
		LAT_QPS=$QLOG_QPS dp "w4.qlog-$v" lat 1 "$DATA/q-w4-mixed.txt"
		if [ $v = on ]; then
			sleep 0.5
			usr1_stats
			w=$(stats_field querylog_written) dr=$(stats_field querylog_dropped)
			event qlog_records "${w:--} ${dr:--} $(wc -l <"$ql" 2>/dev/null || echo -)" "query-log records written, dropped (stats line), lines in the file (warm-up included)"
			event qlog_check "$([ "${dr:-x}" = 0 ] && echo ok || echo FAIL)" "the query log at $QLOG_QPS q/s: 0 records dropped"
		fi
		srv_stop
		rm -f "$ql"
	done
}

run_logs() {
	SRV=sinkholed D=$RUN/sinkholed PORT=$((PORT_BASE + 1)) CTL_PORT=
	srv_prepare
	event qlog_qps "$QLOG_QPS" "the query log's fixed rate (QLOG_QPS)"
	log "=== sinkholed: the block log under a flood, the query log at $QLOG_QPS q/s; CPU $SRV_CPU"
	flood_run
	qlog_run
}

# finish: the run's last events, the upstream stopped, the report
finish() {
	SRV=run
	event load_end "$(cut -d' ' -f1-3 /proc/loadavg)"
	event reported_kib_end "$(reported_kib)"
	event elapsed "$(($(date +%s) - T_START))" "s for the whole run"
	stop_pid "$NSD_PID"
	python3 "$B/report.py" "$RES" >"$RES/report.md"
	cat "$RES/report.md"
	echo
	echo "results: $RES (report.md, results.tsv, events.tsv, logs/, run/ = rendered configs)"
}

# ---- optional features (issues #12, #13, #14): what each costs per query -------------------
# sinkholed alone, started afresh per variant with the 10k list: every optional feature off,
# then one feature on at a time, then all on, then all off again (the drift of the machine over
# the section). Each variant: the fixed-rate runs (LAT_QPS) of the all-blocked (w1-10k),
# cache-hit (w2) and forwarded (w3, a fresh start per run: every query a cache miss) workloads;
# the report puts each variant's median CPU ns/query against the mean of the two "off" runs.
# A key this build does not know (`--check` rejects it) skips its variant, said so.
feat_yaml() { # feat_yaml VARIANT -> the config's optional-feature keys for it
	local cname=false ip=false retro=false qlog="" rl=""
	case $1 in
	cname) cname=true ;;
	ip) ip=true ;;
	retro) retro=true ;;
	qlog) qlog=1 ;;
	all) cname=true ip=true retro=true qlog=1 ;;
	full) cname=true ip=true retro=true qlog=1 rl=1 ;;
	fullm) cname=true ip=true retro=true qlog=m rl=1 ;;
	esac
	printf 'sinkhole: {mode: address, inspect_cname: %s%s}\n' "$cname" \
		"$([ "$FEAT_IP_KEY" = 1 ] && echo ", inspect_ip: $ip")"
	printf 'retro_hunt: {enabled: %s}\n' "$retro"
	[ -n "$qlog" ] && printf 'query_log: {path: "%s"%s}\n' "$D/query.jsonl" \
		"$([ "$qlog" = m ] && echo ", matched: true")"
	# every query counted against its client's bucket, none refused
	[ -n "$rl" ] && printf 'rate_limit: {qps: 10000000}\n'
	return 0
}
feat_ips() { # feat_ips N FILE: N IP indicators no answer contains (the answers are in 10/8)
	[ -s "$2" ] && return 0
	python3 - "$1" >"$2.tmp" <<'PYEOF'
import sys
n = int(sys.argv[1])
print("block:")
for i in range(n):  # 3 of 4 IPv4 (/32 and /24 from 100.64/10 up), 1 of 4 IPv6 /64 in 2001:db8::/32
    if i % 4 == 0:
        print(f'  - ip: "2001:db8:{(i >> 16) & 0xffff:x}:{i & 0xffff:x}::/64"')
    else:
        a = (100 << 24) + (64 << 16) + i * 256
        q = f"{a >> 24 & 255}.{a >> 16 & 255}.{a >> 8 & 255}"
        print(f'  - ip: "{q}.1"' if i % 4 != 3 else f'  - ip: "{q}.0/24"')
PYEOF
	mv "$2.tmp" "$2"
}
# feat_variant VARIANT LIST FIRST IPS: start sinkholed with the variant's config, then its runs
feat_variant() {
	local v=$1 list=$2 first=$3 ips=$4 y=$D/feat-$1.yaml lists r wl1
	lists="\"$D/main.txt\", \"$D/marker.txt\""
	[ -n "$ips" ] && [ "$FEAT_IP_KEY" = 1 ] && lists="$lists, \"$ips\""
	sed -e "s#@PORT@#$PORT#g; s#@UP_PORT@#$UP_PORT#g; s#@D@#$D#g; s#@BLOCK_LOG@#$BLOCK_LOG#g" \
		-e "s#^blocklists: .*#blocklists: [$lists]#" -e '/^sinkhole:/d' \
		"$B/conf/sinkholed.yaml.in" >"$y"
	{ feat_yaml "${v%2}"; printf '%s\n' "$SINKHOLED_EXTRA_YAML"; } >>"$y"
	srv_link "$list" 0
	if [ "$v" = ip ] && [ "$FEAT_IP_KEY" = 0 ]; then
		event "feature_$v" "-" "skipped: this build has no sinkhole.inspect_ip"
		return 1
	fi
	if ! "$SINKHOLED_BIN" --check -c "$y" >"$D/check-$v.txt" 2>&1; then
		event "feature_$v" "-" "skipped: --check rejects its config: $(grep -m1 'error' "$D/check-$v.txt" | sed 's/; valid keys.*//')"
		return 1
	fi
	[ "$FEAT_IP_KEY" = 1 ] || ips=""
	event "feature_$v" "$(feat_yaml "${v%2}" | tr '\n' ' ')" "list $list${ips:+, $(grep -c ' ip: ' "$ips") IP indicators}"
	QUERY_LOG=$D/query.jsonl QLOG_LINES=0
	rm -f "$QUERY_LOG"
	SINKHOLED_CONF=$y start_and_wait "$list" "$first" "feature_${v}_load" || { event "feature_$v" "-" "did not start"; return 1; }
	wl1=w1-10k
	if [ "$list" = big ]; then
		wl1=w1-big
		event "feature_${v}_rss_kb" "$(rss_kb "$SRV_PID")" "VmRSS after the first blocked answer"
		# sat_series: a first saturated run, not recorded (fresh log pages cost up to three
		# times as much per line: 2.4 against 0.8 us with both logs; the full set with
		# matched: true writes twice the bytes of the core path)
		sat_series "w1-big.f-$v" "$DATA/q-w1-big.txt" "$REP0"
	fi
	lat_runs "$wl1.f-$v" "$DATA/q-$wl1.txt"
	dp "w2.f-$v" warm 0 "$DATA/q-w2-hit.txt"
	lat_runs "w2.f-$v" "$DATA/q-w2-hit.txt"
	# saturated, every server is busy all the time: no wake-up per query in the CPU figure
	for r in $(seq 1 "$REPS"); do dp "w2.f-$v" sat "$((REP0 + r))" "$DATA/q-w2-hit.txt"; done
	for r in $(seq 1 "$LAT_REPS"); do
		srv_stop
		SINKHOLED_CONF=$y start_and_wait "$list" "$first" "" || break
		dp "w3.f-$v" lat "$((REP0 + r))" "$DATA/q-w3-lat.txt"
	done
	srv_stop
	truncate_blocklog
	[ "$QLOG_LINES" -gt 0 ] && event "feature_${v}_qlog_lines" "$QLOG_LINES" "query-log lines over the variant's runs"
	rm -f "$QUERY_LOG"
	QUERY_LOG='' QLOG_LINES=0
	return 0
}
feature_costs() {
	SRV=sinkholed D=$RUN/features PORT=$((PORT_BASE + 1)) CTL_PORT=
	local v have=""
	mkdir -p "$D" "$(dirname "$BLOCK_LOG")"
	log "=== sinkholed's optional features, on vs off: CPU ns/query at $LAT_QPS q/s"
	FEAT_IP_KEY=0
	probe_yaml "$SINKHOLED_EXTRA_YAML
sinkhole: {mode: address, inspect_ip: false}" >/dev/null && FEAT_IP_KEY=1
	feat_ips "$FEAT_IPS" "$D/ips.yaml"
	for v in $FEAT_VARIANTS; do
		case $v in
		ip | all) feat_variant "$v" 10k "$SMALL_FIRST" "$D/ips.yaml" ;;
		*) feat_variant "$v" 10k "$SMALL_FIRST" "" ;;
		esac && have="$have $v"
	done
	# Everything a production deployment turns on (issue #10), against the core path with the
	# same big list: IP indicators as many as names, every inspection, the query log,
	# retro-hunt recording, rate limiting (never reached), the cache.
	if [ "$FEAT_IP_KEY" = 1 ]; then feat_ips "$N_BLOCK" "$DATA/ips-$BIGLABEL.yaml"; fi
	# The variants take turns, FEAT_ROUNDS times, each started afresh: on a noisy VM the same
	# configuration differs by 15% from one start to the next, and one start of each would
	# put that difference in the ratio. Every run counts in the medians.
	local round vs="core full"
	# The same with the query log writing the matched lookups too (matched: true): a second
	# line per blocked query, which the block log has already.
	[ "$FULL_MATCHED" = 1 ] && vs="$vs fullm"
	for round in $(seq 1 "$FEAT_ROUNDS"); do
		for v in $vs; do
			REP0=$(((round - 1) * 10)) feat_variant "$v" big "$BIG_LAST" \
				"$([ "$v" = core ] || echo "$DATA/ips-$BIGLABEL.yaml")" &&
				[ "$round" = 1 ] && have="$have $v"
		done
	done
	event features "${have# }" "variants measured"
	[ "$RETRO_N" -gt 0 ] && retro_million
}

# retro_million: RETRO_N distinct names (none listed, NXDOMAIN from nsd) sent once each at
# RETRO_QPS to sinkholed with the retro-hunt's defaults (64 MiB, 7 days): its memory and the
# history it covers afterwards (issue #14), from VmRSS and the /metrics listener.
retro_million() {
	local q=$DATA/q-retro-$RETRO_N.txt hp=$((PORT_BASE + 7)) y=$D/retro.yaml r0 r1 out=$RUN/dp-retro.out p m L
	if ! [ -s "$q" ]; then
		python3 -c "
import sys
with open(sys.argv[1] + '.tmp', 'w') as f:
    for i in range(int(sys.argv[2])):
        f.write(f'r{i:07d}.retro.example A\\n')" "$q" "$RETRO_N" && mv -f "$q.tmp" "$q"
	fi
	port_free "$hp" || { event retro_skipped "port $hp is in use"; return 1; }
	sed -e "s#@PORT@#$PORT#g; s#@UP_PORT@#$UP_PORT#g; s#@D@#$D#g; s#@BLOCK_LOG@#$BLOCK_LOG#g" \
		"$B/conf/sinkholed.yaml.in" >"$y"
	printf 'http: {listen: "127.0.0.1:%s"}\n%s\n' "$hp" "$SINKHOLED_EXTRA_YAML" >>"$y"
	srv_link 10k 0
	SINKHOLED_CONF=$y start_and_wait 10k "$SMALL_FIRST" "" || { event retro_skipped "did not start"; return 1; }
	r0=$(rss_kb "$SRV_PID")
	L=$(( (RETRO_N + RETRO_QPS - 1) / RETRO_QPS ))
	log "retro-hunt memory: $RETRO_N distinct names at $RETRO_QPS q/s (dnsperf -n 1 -l $((L + 5)))"
	taskset -c "$CLI_CPU" dnsperf -s 127.0.0.1 -p "$PORT" -d "$q" -t "$TIMEOUT" -n 1 -l $((L + 5)) \
		-c "$CLIENTS" -q 2000 -Q "$RETRO_QPS" -T "$DP_THREADS" >"$out" 2>&1
	sleep 0.5 # the retro thread's last drain (every 20 ms)
	r1=$(rss_kb "$SRV_PID")
	p=$(python3 "$B/parse_dnsperf.py" "$out")
	m=$(python3 -c "
import sys, urllib.request
t = urllib.request.urlopen(sys.argv[1], timeout=5).read().decode()
v = {l.split()[0]: l.split()[1] for l in t.splitlines() if l and not l.startswith('#')}
print(v.get('sinkholed_retro_hunt_history_seconds', '-'), v.get('sinkholed_retro_hunt_dropped_total', '-'))" \
		"http://127.0.0.1:$hp/metrics" 2>/dev/null || echo "- -")
	event retro_names "$RETRO_N $RETRO_QPS" "distinct names sent once each, at q/s"
	event retro_load "${p//$'\t'/ }" "dnsperf: sent completed lost qps avg_ms p50 p99 max_ms rcodes min_1s_qps"
	event retro_rss_kb "$r0 $r1" "VmRSS before and after (the store is allocated at the start: 64 MiB)"
	event retro_history "$m" "sinkholed_retro_hunt_history_seconds, sinkholed_retro_hunt_dropped_total after the run"
	srv_stop
}

if [ -n "${SECTIONS:-}" ]; then
	SRV=run event sections "${SECTIONS# }" "only these sections, sinkholed alone"
	for sec in $SECTIONS; do
		case $sec in
		features) feature_costs ;;
		logs) run_logs ;;
		lists) run_lists ;;
		esac
		srv_stop
		[ -n "${HTTP_PID:-}" ] && stop_pid "$HTTP_PID"
	done
	finish
	exit 0
fi

for s in sinkholed $PEERS; do
	run_server "$s"
	if [ "$s" = sinkholed ] && [ "$FEATURES" = 1 ]; then
		srv_stop
		feature_costs
	fi
	srv_stop
	if [ "$s" = sinkholed ] && [ "$LOGS" = 1 ]; then
		run_logs
		srv_stop
	fi
	if [ "$s" = sinkholed ] && [ "$LIST_LOAD" = 1 ]; then
		run_lists
		srv_stop
		[ -n "${HTTP_PID:-}" ] && stop_pid "$HTTP_PID"
	fi
done
run_floor
srv_stop
finish
