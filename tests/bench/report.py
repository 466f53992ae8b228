#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""report.py RESULTS_DIR -> markdown tables (stdout) from results.tsv and events.tsv of run.sh.

Ratios are sinkholed / peer, measured in the same run on the same machine: above 1 is better
for queries/s; below 1 is better for latency, CPU time and memory.
"""
import csv
import os
import statistics
import sys

RES = sys.argv[1]
rows = list(csv.DictReader(open(os.path.join(RES, "results.tsv")), delimiter="\t"))
ev = {}
for e in csv.DictReader(open(os.path.join(RES, "events.tsv")), delimiter="\t"):
    ev[(e["server"], e["event"])] = (e["value"], e["note"])


def evv(srv, key, default=None):
    v = ev.get((srv, key))
    return v[0] if v else default


SRVS = ["sinkholed"] + [p for p in ("unbound", "dnsmasq", "dnsdist")
                        if any(r["server"] == p for r in rows) or (p, "skipped") in ev]
PEERS = [p for p in SRVS[1:] if any(r["server"] == p for r in rows)]
big = "1M" if evv("run", "biglist") == "1000000" else f"{int(evv('run', 'biglist', '0')) // 1000}k"
WL = [("w1-10k", "all-blocked, 10k list"), ("w1-10k.log", "all-blocked, 10k list, peers logging"),
      ("w1-big", f"all-blocked, {big} list"), ("w1-big.log", f"all-blocked, {big} list, peers logging"),
      ("w3", "forwarded (cache miss)"), ("w4", "mix 5% blocked"), ("w2", "forwarded (cache hit)")]
WL = [w for w in WL if any(r["workload"] == w[0] for r in rows)]


def num(x):
    try:
        v = float(x)
        return v if v == v else None
    except (TypeError, ValueError):
        return None


def pick(srv, wl, kind):
    # sinkholed always writes its block log: its row of a "peers logging" workload is its own
    if srv == "sinkholed" and wl.endswith(".log"):
        wl = wl[:-4]
    return [r for r in rows if r["server"] == srv and r["workload"] == wl and r["kind"] == kind]


def med(vals):
    v = [x for x in (num(a) for a in vals) if x is not None]
    return statistics.median(v) if v else None


def fmt(v, nd=0):
    return "-" if v is None else f"{v:,.{nd}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.2f}x"


out = []
P = out.append
mode = evv("run", "mode", "?")
P(f"# sinkholed vs peers ({mode} run)\n")
for k in ("mode", "machine", "biglist", "load_start", "load_end", "elapsed"):
    if ("run", k) in ev:
        v, n = ev[("run", k)]
        P(f"- {k}: {v}{' (' + n + ')' if n else ''}")
rk0, rk1 = num(evv("run", "reported_kib_start")), num(evv("run", "reported_kib_end"))
if rk0 is not None and rk1 is not None:
    P(f"- guest memory handed back to the host during the run (free page reporting): "
      f"{(rk1 - rk0) / 1024 / 1024:.1f} GiB; the host backs a page again on its next write, a "
      "fault per page paid by whoever writes fresh memory, such as a log's page cache")
for s in SRVS:
    if (s, "version") in ev:
        P(f"- {s}: {evv(s, 'version')}")
    if (s, "skipped") in ev:
        P(f"- **{s} skipped**: {evv(s, 'skipped')} {ev[(s, 'skipped')][1]}")
    if (s, "sanity") in ev and evv(s, "sanity") != "ok":
        P(f"- **{s} sanity check failed**: {ev[(s, 'sanity')][1]}")
if ("sinkholed", "cache") in ev:
    P(f"- sinkholed answer cache: {evv('sinkholed', 'cache')} ({ev[('sinkholed', 'cache')][1]})")
# Other work on the server core: it was full while the server process had little of it.
sat_rows = [r for r in rows if r["kind"] == "sat" and num(r["srv_cpu_busy"]) is not None
            and num(r["srv_proc_cpu"]) is not None]
busy_rows = [r for r in sat_rows if num(r["srv_cpu_busy"]) >= 95 and num(r["srv_proc_cpu"]) < 70]
if sat_rows and len(busy_rows) * 4 >= len(sat_rows):
    P(f"- **disturbed run**: in {len(busy_rows)} of {len(sat_rows)} saturation runs the server core "
      "was full while the server process had less than 70% of it: other work ran on the server "
      "core, and the queries/s and CPU ratios of this run are not verdicts (rerun on an idle machine)")
P("")
header_end = len(out)


def metric_table(title, note, kind, getter, nd, better):
    P(f"## {title}\n")
    P(note + "\n")
    hdr = "| workload | sinkholed |" + "".join(f" {p} | ratio |" for p in PEERS)
    if better == "high" and PEERS:
        hdr += " vs best peer |"
    P(hdr)
    P("|---|---:|" + "---:|---:|" * len(PEERS) + ("---:|" if better == "high" and PEERS else ""))
    for wl, label in WL:
        sv, sx = getter("sinkholed", wl)
        cells = [f"| {label} | {fmt(sv, nd)}{sx} |"]
        vals = []
        for p in PEERS:
            pv, px = getter(p, wl)
            vals.append(pv)
            cells.append(f" {fmt(pv, nd)}{px} | {ratio(sv, pv)} |")
        if better == "high" and PEERS:
            best = max((v for v in vals if v is not None), default=None)
            cells.append(f" {ratio(sv, best)} |")
        P("".join(cells))
    P("")


def sat_get(srv, wl):
    s = pick(srv, wl, "sat")
    q = [num(r["qps"]) for r in s if num(r["qps"]) is not None]
    if not q:
        return None, ""
    extra = f" ({min(q):,.0f}..{max(q):,.0f})" if len(q) > 1 else ""
    lost = sum(int(num(r["lost"]) or 0) for r in s)
    if lost:
        extra += f" lost {lost}"
    return statistics.median(q), extra


def p99_get(srv, wl):
    s = pick(srv, wl, "lat")
    if not s:
        return None, ""
    extra = f" ({fmt(min(num(r['p99_ms']) for r in s), 3)}..{fmt(max(num(r['p99_ms']) for r in s), 3)})" \
        if len(s) > 1 and all(num(r["p99_ms"]) is not None for r in s) else ""
    lost = sum(int(num(r["lost"]) or 0) for r in s)
    if lost:
        sent = sum(int(num(r["sent"]) or 0) for r in s)
        sd = sum(int(num(r.get("srv_sock_drops")) or 0) for r in s)
        extra += f" (lost {lost}/{sent}{f', {sd} at its socket' if sd else ''})"
    return med(r["p99_ms"] for r in s), extra


def cpu_kind(kind):
    """CPU ns per answered query (schedstat) of the KIND runs: median (min..max)."""
    def get(srv, wl):
        s = [num(r["srv_ns_per_query"]) for r in pick(srv, wl, kind)]
        s = [x for x in s if x is not None]
        if not s:
            return None, ""
        return statistics.median(s), (f" ({min(s):,.0f}..{max(s):,.0f})" if len(s) > 1 else "")
    return get


cpu_get = cpu_kind("lat")      # at the fixed offered rate
cpu_sat = cpu_kind("sat")      # saturated


LOADGEN = evv("run", "loadgen", "dnsperf")
SAT_CLIENT = ("blast -c 10 -q 100: tests/bench/blast.c, dnsperf's closed loop with batched system "
              "calls, so that the client is not the limit" if LOADGEN == "blast" else "dnsperf -c 10 -q 100 -T 2")
metric_table("Saturated queries/s (higher is better)",
             f"Closed loop ({SAT_CLIENT}; bounded by -l), median of the repetitions "
             "(min..max). Ratio = sinkholed / peer; above 1: sinkholed answers more.",
             "sat", sat_get, 0, "high")

# CPU figures of the saturation runs: is the server or the client the limit?
P("## CPU during saturation (who is the limit?)\n")
P(f"Sampled in the middle of each saturation run, median: server process CPU time as % of one "
  f"core (/proc/PID/task/*/schedstat) / busy % of the server core / busy % of the client core ({LOADGEN} + "
  "nsd) (/proc/stat). A server near 100% is the limit; a client core near 100% with the server "
  "below it means the client (2-core machine) is the limit and the qps ratio understates the "
  "server. A server core much busier than the server process means other work ran on it.\n")
P("| workload |" + "".join(f" {s} |" for s in ["sinkholed"] + PEERS))
P("|---|" + "---|" * (1 + len(PEERS)))
for wl, label in WL:
    cells = [f"| {label} |"]
    for s in ["sinkholed"] + PEERS:
        rr = pick(s, wl, "sat")
        sp, cc = med(r["srv_proc_cpu"] for r in rr), med(r["cli_cpu_busy"] for r in rr)
        sc = med(r["srv_cpu_busy"] for r in rr)
        cells.append(f" {fmt(sp)}% / {fmt(sc)}% / {fmt(cc)}% |" if rr else " - |")
    P("".join(cells))
P("")

bl = (evv("sinkholed", "blocklog", "") or "").split()
if len(bl) == 2:
    P(f"sinkholed's block log over the whole run: {int(bl[0]):,} lines written, {int(bl[1]):,} "
      "dropped (a ring full: the writer fell behind). Every blocked query is logged, so the "
      "all-blocked figures include that work; dropped lines would flatter them.\n")

metric_table("p99 latency (ms) at a fixed 10k queries/s (lower is better)",
             "Open loop, dnsperf -Q 10000 -v; p99 of the per-query latencies, median of the "
             "fixed-rate runs (min..max; the cache-miss workload has one). "
             "Ratio = sinkholed / peer; below 1: sinkholed answers faster.",
             "lat", p99_get, 3, "low")
metric_table("Server CPU time per answered query (ns) at a fixed 10k queries/s (lower is better)",
             "Run time of all the server's threads (first field of /proc/PID/task/*/schedstat, "
             "ns) over the fixed-rate run, divided by the answered queries; median of the runs "
             "(min..max). Ratio = sinkholed / peer; below 1: sinkholed spends less CPU per query.",
             "lat", cpu_get, 0, "low")
metric_table("Server CPU time per answered query (ns), saturated (lower is better)",
             "The same over the saturation runs (closed loop): every server is busy all the time, "
             "so each batches what it can. Median of the repetitions (min..max).",
             "sat", cpu_sat, 0, "low")

# The kernel's floor: what a server that does no work costs per query (floor.c)
floor = [(wl, label, cpu_get("floor", wl)[0]) for wl, label in WL if cpu_get("floor", wl)[0] is not None]
if floor:
    P("Kernel floor: `tests/bench/floor.c` (one blocking recvfrom and one sendto per query, no "
      "other work; same CPU, same rate, CPU from schedstat) costs " + "; ".join(
        f"{label}: {fmt(v)} ns = " + ", ".join(
            f"{ratio(v, cpu_get(p, wl)[0])} {p}" for p in PEERS if cpu_get(p, wl)[0] is not None)
        for wl, label, v in floor) +
      ". Above the floor (ns per query, the server's own cost): " + "; ".join(
        f"{label}: " + ", ".join(
            f"{s} {fmt(cpu_get(s, wl)[0] - v)}" for s in ["sinkholed"] + PEERS
            if cpu_get(s, wl)[0] is not None)
        for wl, label, v in floor) + ".")
    fs = cpu_sat("floor", "w1-10k")[0]
    if fs is not None:
        P(f"Saturated (closed loop, 10k list), the floor costs {fmt(fs)} ns per query"
          f" ({fmt(sat_get('floor', 'w1-10k')[0])} q/s): " + ", ".join(
              f"{ratio(fs, cpu_sat(p, 'w1-10k')[0])} {p}" for p in PEERS if cpu_sat(p, "w1-10k")[0]) +
          f"; sinkholed {fmt(cpu_sat('sinkholed', 'w1-10k')[0])} ns (it reads and answers in batches, "
          "recvmmsg/sendmmsg, so it can go below one recvfrom + sendto per query).")
    P("")

# sinkholed's CPU split between its threads (worker, block-log writer, main/reload)


def thread_split(wl, kind):
    """sinkholed's CPU ns per answered query by thread name in the last KIND run of WL, or None.
    Tokens are NAME/TID=NS (main = the main thread); older runs wrote TID=NS, main:TID=NS."""
    v = evv("sinkholed", f"threads_{wl}_{kind}")
    rr = [r for r in rows if r["server"] == "sinkholed" and r["workload"] == wl and r["kind"] == kind]
    if not v or not rr or "=2147483647" in v:  # 32-bit awk printf of older runs: overflowed
        return None
    n = max(1, int(num(rr[-1]["completed"]) or 1))
    d = {}
    for t in v.split():
        name, ns = t.rsplit("=", 1)
        name = "main" if name.startswith("main") else name.split("/")[0]
        d[name] = d.get(name, 0) + int(ns) / n
    return d


def threads(wl, kind):
    """thread_split() as text, the busiest first, threads under 1 ns per query left out; with
    the memory the host took back during that run, where the kernel reports it."""
    d = thread_split(wl, kind)
    if d is None:
        return None
    rk = evv("sinkholed", f"reported_{wl}_{kind}")
    return ", ".join(f"{k} {v:,.0f}" for k, v in sorted(d.items(), key=lambda x: -x[1]) if v >= 1) + (
        f" (host took back {rk} MiB during it)" if rk is not None else "")


thr = [(label, kind, threads(wl, kind)) for wl, label in WL for kind in ("lat", "sat") if threads(wl, kind)
       and not wl.endswith(".log")]
if thr:
    P("sinkholed CPU per answered query by thread (ns; by thread name: worker-N, blocklog = the "
      "block-log writer, main = the main thread; the last run of each kind; all threads pinned to "
      "the server CPU): " + "; ".join(
          f"{label}, {'10k q/s' if kind == 'lat' else 'saturated'}: {t}" for label, kind, t in thr) + "\n")

# ---- logging parity (issue #10) ------------------------------------------------------------------
LOGWL = [(wl, label) for wl, label in WL if wl.endswith(".log")]


def best_peer(getter, wl, high):
    vals = [(getter(p, wl)[0], p) for p in PEERS if getter(p, wl)[0] is not None]
    if not vals:
        return None, None
    return max(vals) if high else min(vals)


if LOGWL:
    P("## Logging parity: every server logs its blocked queries\n")
    P("sinkholed writes its JSON block log in every run; in the \"peers logging\" runs each peer "
      "also writes a line to a file for every blocked query: " + "; ".join(
          f"{p}: {ev[(p, 'log_' + LOGWL[0][0][:-4])][1]}" for p in PEERS
          if (p, "log_" + LOGWL[0][0][:-4]) in ev) + ". Log lines per answered query in the "
      "fixed-rate runs (a check that they logged): " + "; ".join(
          f"{label}: " + ", ".join(
              f"{s_} {lines / done:.2f}" for s_ in ["sinkholed"] + PEERS
              for rr in [pick(s_, wl, "lat")]
              for lines in [sum(int(num(r.get("log_lines")) or 0) for r in rr)]
              for done in [sum(int(num(r["completed"]) or 0) for r in rr)] if done and lines)
          for wl, label in LOGWL) + " (dnsdist's buffered log may hold the last lines).\n")
    P("Best peer = the one with the most queries/s, or the least CPU per query, in that "
      "variant. CPU per query here is that of the saturation runs (schedstat ns).\n")
    P("| workload | metric | sinkholed | best peer, no log | ratio | best peer, logging | ratio | "
      "dnsdist, no log | ratio |")
    P("|---|---|---:|---|---:|---|---:|---:|---:|")
    for wl, label in LOGWL:
        base = wl[:-4]
        for mname, getter, high in (("q/s", sat_get, True), ("CPU ns/query, saturated", cpu_sat, False),
                                    ("CPU ns/query at 10k q/s", cpu_get, False)):
            sv = getter("sinkholed", base)[0]
            b0, p0 = best_peer(getter, base, high)
            b1, p1 = best_peer(getter, wl, high)
            dd = getter("dnsdist", base)[0] if "dnsdist" in PEERS else None
            P(f"| {label[:-15]} | {mname} | {fmt(sv)} | {p0 or '-'} {fmt(b0)} | {ratio(sv, b0)} | "
              f"{p1 or '-'} {fmt(b1)} | {ratio(sv, b1)} | {fmt(dd)} | {ratio(sv, dd)} |")
    P("")

# ---- two workers (issue #10) ---------------------------------------------------------------------
TW = [(v, ev.get(("sinkholed", f"workers_{v}"), ("", ""))[0]) for v in ("2w", "2w2c")
      if any(r["workload"] == f"w1-10k.{v}" for r in rows)]
if TW:
    P("## sinkholed with 2 workers (all-blocked, 10k list)\n")
    P("The same runs with `workers: 2` (two SO_REUSEPORT sockets; the client's 10 sockets spread "
      "over them): first with both workers pinned to the server CPU, the client keeping its own "
      "core, then with the workers on both CPUs, sharing the client's. CPU % = the server "
      "process / the server core / the client core, sampled in the saturation runs.\n")
    P("| workers, CPUs | q/s saturated | ratio to 1 worker | CPU ns/query saturated | ratio | "
      "CPU ns/query at 10k q/s | ratio | p99 ms at 10k q/s | CPU % (proc / srv core / cli core) |")
    P("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    one = (sat_get("sinkholed", "w1-10k")[0], cpu_sat("sinkholed", "w1-10k")[0], cpu_get("sinkholed", "w1-10k")[0])
    for v, cpus in [("", "")] + TW:
        wl = "w1-10k" + (f".{v}" if v else "")
        q, cs, cl = sat_get("sinkholed", wl)[0], cpu_sat("sinkholed", wl)[0], cpu_get("sinkholed", wl)[0]
        rr = pick("sinkholed", wl, "sat")
        P(f"| {'1 worker, server CPU' if not v else ('2 workers, server CPU' if v == '2w' else '2 workers, CPUs ' + cpus)} | "
          f"{fmt(q)} | {ratio(q, one[0])} | {fmt(cs)} | {ratio(cs, one[1])} | {fmt(cl)} | {ratio(cl, one[2])} | "
          f"{fmt(p99_get('sinkholed', wl)[0], 3)} | {fmt(med(r['srv_proc_cpu'] for r in rr))}% / "
          f"{fmt(med(r['srv_cpu_busy'] for r in rr))}% / {fmt(med(r['cli_cpu_busy'] for r in rr))}% |")
    P("")

# ---- big list: memory, load, reload -----------------------------------------------------------
nb = int(evv("run", "biglist", "0") or 0)
name_bytes = 0
if ("run", "biglist") in ev:
    try:
        name_bytes = int(ev[("run", "biglist")][1].split()[1])
    except (IndexError, ValueError):
        pass
P(f"## {big} list: memory, load, reload\n")
P(f"{nb:,} names, {name_bytes:,} bytes of presentation names ({name_bytes / max(nb, 1):.1f} B/name). "
  "RSS without = VmRSS with an empty list; with = VmRSS with the list, right after the first "
  "blocked answer. B/domain = (with - without) / names; over names = (with - without - name bytes) "
  "/ names. Load = exec to the first blocked answer (last name of the list). Reload = reload "
  "command to a marker added by the reload being answered 0.0.0.0 (10 ms polling, ~30 ms floor), "
  "under dnsperf -Q 10000 on the all-blocked workload; lost = no answer within 2 s.\n")
P("| server | RSS without MB | RSS with MB | B/domain | B/domain over names | peak RSS MB | "
  "load s | reloads (under load) | reload s median / max | lost / sent during reloads | "
  "min qps in a 1-s interval | rcodes | reload method |")
P("|---|---:|---:|---:|---:|---:|---:|---|---|---|---:|---|---|")
figs = {}
for s in SRVS:
    if (s, "rss_big_kb") not in ev:
        continue
    r0, r1 = num(evv(s, "rss_empty_kb")), num(evv(s, "rss_big_kb"))
    bpd = (r1 - r0) * 1024 / nb if r0 is not None and r1 is not None and nb else None
    over = bpd - name_bytes / nb if bpd is not None else None
    hwm = num(evv(s, "hwm_after_reload_kb")) or num(evv(s, "hwm_big_kb"))
    load = num(evv(s, "load_big"))
    times = [float(x) for x in (evv(s, "reload_times", "") or "").split()]
    cnt = evv(s, "reload_count", "0")
    under = (ev.get((s, "reload_count"), ("", ""))[1].split() or ["?"])[0]
    rl = (evv(s, "reload_load", "") or "").split()
    sent, lost = (rl[0], rl[2]) if len(rl) >= 3 else ("-", "-")
    sdrops = evv(s, "reload_sock_drops")
    lost_s = lost if sdrops is None or lost in ("-", "0") else f"{lost} ({sdrops} at its socket)"
    rcodes = rl[8] if len(rl) >= 9 else "-"
    minq = rl[9] if len(rl) >= 10 else "-"
    figs[s] = dict(over=over, load=load, lost=num(lost), n=len(times), times=times, bpd=bpd)
    P(f"| {s} | {fmt(r0 / 1024 if r0 else None, 1)} | {fmt(r1 / 1024 if r1 else None, 1)} | "
      f"{fmt(bpd, 1)} | {fmt(over, 1)} | {fmt(hwm / 1024 if hwm else None, 1)} | {fmt(load, 2)} | "
      f"{cnt} ({under}) | "
      f"{fmt(statistics.median(times), 2) if times else '-'} / {fmt(max(times), 2) if times else '-'} | "
      f"{lost_s} / {sent} | {minq} | {rcodes} | {evv(s, 'reload_how', '-')} |")
P("")
if evv("sinkholed", "load_big_yaml"):
    P(f"sinkholed with the same {big} list as YAML (`block:` / `domains:`, a list of plain "
      f"strings) instead of a text file: load {fmt(num(evv('sinkholed', 'load_big_yaml')), 2)} s.\n")
if "sinkholed" in figs and len(figs) > 1:
    P("Ratios sinkholed / peer (big list): " + "; ".join(
        f"{p}: B/domain {ratio(figs['sinkholed']['bpd'], figs[p]['bpd'])}, load "
        f"{ratio(figs['sinkholed']['load'], figs[p]['load'])}, reload median "
        f"{ratio(statistics.median(figs['sinkholed']['times']) if figs['sinkholed']['times'] else None, statistics.median(figs[p]['times']) if figs[p]['times'] else None)}"
        for p in figs if p != "sinkholed") + "\n")

# ---- list loading and a feed changed under load (issue #11) ---------------------------------------
LL = {}
tf = (evv("sinkholed", "listload_tf", "") or "").split()
if len(tf) in (3, 4):
    tf_rows, tf_dom, tf_bytes = (int(x) for x in tf[:3])
    tf_ips = int(tf[3]) if len(tf) == 4 else 0
    r0 = num(evv("sinkholed", "listload_rss_empty_kb"))
    P(f"## List loading (sinkholed, issue #11)\n")
    P(f"A ThreatFox CSV export of {tf_rows:,} rows (`gen_data.py`: banner, commented header line, "
      f"quoted fields separated by `\", \"`, {tf_dom:,} domain rows and {tf_ips:,} ip:port rows "
      f"(both loaded: names and IP indicators), the rest url and hash rows; {ev[('sinkholed', 'listload_tf')][1].split('; ')[-1]}) and the {big} domains file "
      f"({nb:,} names) as `format: domains`. Load = `sinkholed --check` (read, parse, build, "
      "print the health table; exec to exit), best of 3, pinned to the server CPU; start = exec "
      "to the first blocked answer of the daemon. Memory = VmRSS after that answer minus VmRSS "
      "with a one-name list, per entry (the CSV's: domains and IP indicators), and the same minus "
      "the names' own bytes (the CSV keeps each entry's metadata: IOC id, malware, threat type, "
      "confidence, first seen, reference).\n")
    P("| list | entries | load s (--check, best of 3) | start s | RSS MB | B/entry | B/entry over names |")
    P("|---|---:|---:|---:|---:|---:|---:|")
    for kind, n, nbytes, label in (("csv", tf_dom + tf_ips, tf_bytes, f"ThreatFox CSV, {tf_rows:,} rows"),
                                   ("domains", nb, name_bytes, f"domains, {nb:,} names")):
        ld = num(evv("sinkholed", f"listload_check_{kind}"))
        st = num(evv("sinkholed", f"listload_start_{kind}"))
        r1 = num(evv("sinkholed", f"listload_rss_{kind}_kb"))
        bpe = (r1 - r0) * 1024 / n if r1 is not None and r0 is not None and n else None
        over = bpe - nbytes / n if bpe is not None else None
        LL[kind] = dict(load=ld, over=over, bpe=bpe)
        P(f"| {label} | {n:,} | {fmt(ld, 2)} | {fmt(st, 2)} | {fmt(r1 / 1024 if r1 else None, 1)} | "
          f"{fmt(bpe, 1)} | {fmt(over, 1)} |")
    P("")
fl = (evv("sinkholed", "feed_load", "") or "").split()
if fl:
    times = [float(x) for x in (evv("sinkholed", "feed_times", "") or "").split()]
    http = (evv("sinkholed", "feed_http", "") or "- -").split()
    LL["feed"] = dict(lost=num(fl[2]) if len(fl) > 2 else None, n=len(times))
    P(f"**A feed changed under load.** A `url:` feed of {int(evv('sinkholed', 'feed_names', '0')):,} names served "
      "by `python3 -m http.server` on 127.0.0.1 (`format: domains`, `refresh: 2s`), its file "
      f"replaced by a new version (a new marker name) {len(times)} times during `dnsperf -Q "
      f"10000 -S 1` on the all-blocked workload: new version to its marker answered 0.0.0.0 in "
      f"{', '.join(f'{t:.2f}' for t in times) or '-'} s (within the 2 s refresh plus the fetch and "
      f"the load); {fl[1] if len(fl) > 1 else '-'} of {fl[0]} queries answered, "
      f"**{fl[2] if len(fl) > 2 else '-'} lost** ({evv('sinkholed', 'feed_sock_drops', '-')} at "
      f"sinkholed's socket), rcodes {fl[8] if len(fl) > 8 else '-'}, lowest 1-s rate "
      f"{fl[9] if len(fl) > 9 else '-'} q/s; the server answered {http[0]} feed requests with "
      f"200 and {http[1] if len(http) > 1 else '-'} with 304 (first load: exec to the first "
      f"blocked answer {fmt(num(evv('sinkholed', 'feed_first_load')), 2)} s, the fetch included).\n")

def verdict_(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


# ---- optional features: on vs off ----------------------------------------------------------------
FEAT = [("core", "core path, big list"), ("full", "full feature set, big list"), ("cname", "CNAME/DNAME inspection (`sinkhole.inspect_cname`)"),
        ("ip", "IP inspection (`sinkhole.inspect_ip`, with a list of IP indicators)"),
        ("retro", "retro-hunt recording (`retro_hunt.enabled`)"), ("qlog", "query log (`query_log`)"),
        ("all", "all of them on")]
FWL = [("w1-10k", "all-blocked", "lat"), ("w2", "cache hit", "lat"),
       ("w2", "cache hit, saturated", "sat"), ("w3", "forwarded (cache miss)", "lat")]
feat_have = (evv("sinkholed", "features") or "").split()
feat_ratio = {}


def feat_cpu(v, wl, kind="lat"):
    return med(r["srv_ns_per_query"] for r in pick("sinkholed", f"{wl}.f-{v}", kind))


feat_start = len(out)
if feat_have:
    if "off" in feat_have:
        P("## What each optional feature costs (sinkholed alone, CPU ns/query)\n")
        P("Started afresh per variant with the 10k list: every optional feature off, one on at a time, "
          "all on, then all off again; each cell the median of the fixed-rate runs (10k q/s) or of "
          "the saturated ones, the ratio against the mean of the two \"off\" variants (their spread "
          "shows how far the machine moves between identical runs: a ratio within it says nothing).\n")
        P("| variant | " + " | ".join(f"{l} ns | ratio" for _, l, _ in FWL) + " |")
        P("|---|" + "---:|---:|" * len(FWL))
        base = {}
        for wl, _, k in FWL:
            offs = [x for x in (feat_cpu("off", wl, k), feat_cpu("off2", wl, k)) if x is not None]
            base[(wl, k)] = statistics.mean(offs) if offs else None
        for v, label in [("off", "all off"), ("off2", "all off, again")] + [f for f in FEAT if f[0] not in ("core", "full")]:
            if v not in feat_have:
                if (("sinkholed", f"feature_{v}")) in ev:
                    P(f"| {label} | " + " | ".join("- | -" for _ in FWL) + f" |")
                continue
            cells = []
            for wl, _, k in FWL:
                c = feat_cpu(v, wl, k)
                b_ = base[(wl, k)]
                feat_ratio[(v, wl if k == "lat" else f"{wl} {k}")] = None if c is None or not b_ else c / b_
                cells.append(f"{fmt(c)} | {ratio(c, b_)}")
            P(f"| {label} | " + " | ".join(cells) + " |")
    if "core" in feat_have or "full" in feat_have:
        P("" if "off" in feat_have else "## The full feature set against the core path (sinkholed alone)\n")
        P(f"The full feature set (issue #10) against the core path, both with the {big} list "
          f"({evv('sinkholed', 'feature_full', '-')}; {ev.get(('sinkholed', 'feature_full'), ('', ''))[1]}):\n")
        FW = [("w1-big", "all-blocked, saturated", "sat"), ("w1-big", "all-blocked", "lat"),
              ("w2", "cache hit", "lat"), ("w3", "forwarded (cache miss)", "lat")]
        P("| variant | " + " | ".join(f"{l} ns" for _, l, _ in FW) + " | load s | RSS MB |")
        P("|---|" + "---:|" * (len(FW) + 2))
        fr = {}
        rows_ = [("core", "core path: every optional feature off"), ("full", "full feature set")]
        if "fullm" in feat_have:
            rows_.append(("fullm", "full feature set, query log `matched: true`"))
        for v, label in rows_:
            cells = []
            for wl, _, kind in FW:
                c = med(r["srv_ns_per_query"] for r in pick("sinkholed", f"{wl}.f-{v}", kind))
                fr[(v, wl, kind)] = c
                cells.append(fmt(c))
            rss = num(evv("sinkholed", f"feature_{v}_rss_kb"))
            P(f"| {label} | " + " | ".join(cells) +
              f" | {fmt(num(evv('sinkholed', f'feature_{v}_load')), 2)} | {fmt(None if rss is None else rss / 1024)} |")
        P("| ratio full / core | " + " | ".join(ratio(fr[("full", wl, k)], fr[("core", wl, k)]) for wl, _, k in FW) + " | | |")
        if "fullm" in feat_have:
            P("| ratio full (`matched: true`) / core | " + " | ".join(
                ratio(fr[("fullm", wl, k)], fr[("core", wl, k)]) for wl, _, k in FW) + " | | |")
        for wl, l, k in FW:
            a, b = fr[("full", wl, k)], fr[("core", wl, k)]
            if a is not None and b is not None:
                feat_ratio[("full-" + k, wl)] = a / b
        # Where the difference goes: the same split by thread, in the last run of each variant.
        for wl, l, k, fv in [("w1-big", "all-blocked, saturated", "sat", "full"),
                             ("w1-big", "all-blocked, saturated, query log `matched: true`", "sat", "fullm"),
                             ("w2", "cache hits, saturated", "sat", "full")]:
            c, f = thread_split(f"{wl}.f-core", k), thread_split(f"{wl}.f-{fv}", k)
            if not c or not f:
                continue
            names = sorted(set(c) | set(f), key=lambda x: -(f.get(x, 0) + c.get(x, 0)))
            P(f"\nBy thread, {l} (ns per answered query, the last run of each; core -> full, the "
              "difference): " + "; ".join(
                  f"{x} {c.get(x, 0):,.0f} -> {f.get(x, 0):,.0f} ({f.get(x, 0) - c.get(x, 0):+,.0f})"
                  for x in names if max(c.get(x, 0), f.get(x, 0)) >= 5) +
              f"; in all {sum(c.values()):,.0f} -> {sum(f.values()):,.0f}.")
    skipped = [f"{v}: {ev[('sinkholed', 'feature_' + v)][1]}" for v, _ in FEAT
               if v not in feat_have and ("sinkholed", f"feature_{v}") in ev]
    if skipped:
        P("\nNot measured: " + "; ".join(skipped))
    rn = (evv("sinkholed", "retro_names") or "").split()
    if rn:
        rl = (evv("sinkholed", "retro_load") or "- -").split()
        rss = (evv("sinkholed", "retro_rss_kb") or "- -").split()
        hist = (evv("sinkholed", "retro_history") or "- -").split()
        P(f"\nRetro-hunt memory (issue #14): {int(rn[0]):,} distinct names (none listed, forwarded) "
          f"sent once each at {rn[1]} q/s ({rl[1] if len(rl) > 1 else '-'} answered): VmRSS "
          f"{fmt(num(rss[0]) / 1024 if num(rss[0]) else None)} MB before, "
          f"{fmt(num(rss[1]) / 1024 if len(rss) > 1 and num(rss[1]) else None)} MB after (the "
          f"store is allocated at the start: `retro_hunt.memory` 64 MiB); the history covers "
          f"{hist[0]} s afterwards (the lookups of the last that many seconds are remembered), "
          f"{hist[1] if len(hist) > 1 else '-'} lookups dropped by full rings.")
    ql = evv("sinkholed", "feature_qlog_qlog_lines")
    if ql:
        P(f"\nThe query log wrote {ql} lines over the query-log variant's runs.")
    P("\nTargets:\n")
    spread = [abs(a - b) / ((a + b) / 2) for wl, _, k in FWL
              for a, b in [(feat_cpu("off", wl, k), feat_cpu("off2", wl, k))] if a and b]
    noise = max(spread) if spread else 0.0
    if spread:
        P(f"- the two \"off\" variants differ by up to {noise * 100:.0f}%: a ratio closer to 1 than "
          "that is within this machine's noise, not a measured cost (\"noise\" below; the "
          "instruction counts of `ctest -L budget` are exact)")

    def fverdict(r_, lim):
        # Below 1 - noise is noise too: no feature makes a query cheaper.
        if r_ is None:
            return "n/a"
        if r_ <= 1 + noise:
            return "noise"
        return verdict_(r_ <= lim)
    for v, wls, lim, what in [("cname", ("w2", "w2 sat", "w3"), 1.10, "issue #12: CNAME inspection on"),
                              ("ip", ("w2", "w2 sat", "w3"), 1.10, "issue #12: IP inspection on"),
                              ("retro", ("w1-10k", "w2", "w2 sat", "w3"), 1.10, "issue #14: retro-hunt recording on"),
                              ("qlog", ("w1-10k", "w2", "w2 sat", "w3"), None, "query log on (reported)")]:
        if v not in feat_have:
            continue
        parts = []
        for wl in wls:
            r_ = feat_ratio.get((v, wl))
            parts.append(f"{wl} {'-' if r_ is None else f'{r_:.2f}x'}" +
                         ("" if lim is None else f" {fverdict(r_, lim)}"))
        P(f"- {what}: CPU/query " + ("" if lim is None else f"<= {lim:.2f}x ") + "against off: " +
          ", ".join(parts))

    parts = [f"{wl} {k} {r_:.2f}x {fverdict(r_, 1.15)}"
             for (k, wl), r_ in feat_ratio.items() if k.startswith("full-")]
    if parts:
        P("- issue #10: the new features together add at most 15% CPU/query over the core path: " +
          ", ".join(p.replace("full-", "") for p in parts))
    P("")
feat_end = len(out)
SECTIONS = (evv("run", "sections") or "").split()
if SECTIONS == ["features"]:  # run.sh features: nothing else was measured
    print("\n".join(out[:header_end] + out[feat_start:feat_end]))
    sys.exit(0)


# ---- targets of issue #3 -----------------------------------------------------------------------
P("## Targets (issue #3)\n")


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def target_cpu(peer, limit, wls=("w1-10k", "w1-big")):
    res = []
    for wl in wls:
        a, _ = cpu_get("sinkholed", wl)
        b, _ = cpu_get(peer, wl)
        ok = None if a is None or b is None else a <= limit * b
        f, _ = cpu_get("floor", wl)
        below = "" if f is None or b is None else (
            f" (kernel floor {ratio(f, b)}{': the target is below it' if f > limit * b else ''})")
        res.append(f"{wl} {ratio(a, b)} {verdict(ok)}{below}")
    return ", ".join(res)


if "dnsdist" in PEERS:
    P(f"- all-blocked CPU/query <= 0.6x dnsdist: {target_cpu('dnsdist', 0.6)}")
if "unbound" in PEERS:
    P(f"- all-blocked CPU/query <= 0.4x unbound: {target_cpu('unbound', 0.4)}")
if "dnsdist" in PEERS and any(wl == "w4" for wl, _ in WL):
    P(f"- forwarded with the cache (mix) CPU/query <= 0.8x dnsdist (packet cache): "
      f"{target_cpu('dnsdist', 0.8, ('w4',))}")
for wl in ("w1-10k", "w1-big"):
    a, _ = sat_get("sinkholed", wl)
    best = max(((sat_get(p, wl)[0], p) for p in PEERS if sat_get(p, wl)[0] is not None), default=None)
    if a is None or best is None:
        continue
    rr = pick("sinkholed", wl, "sat")
    sp, cc = med(r["srv_proc_cpu"] for r in rr), med(r["cli_cpu_busy"] for r in rr)
    sc, si = med(r["srv_cpu_busy"] for r in rr), med(r.get("srv_cpu_softirq") for r in rr)
    why = f" (sinkholed {fmt(sp)}% of a core; server core {fmt(sc)}% busy, softirq {fmt(si)}%; client core {fmt(cc)}%)"
    if a < best[0] and sp is not None and sp < 90:
        if sc is not None and sc >= 95:
            why += (" -- the server core was full but sinkholed had only part of it (softirq and "
                    "other processes): not conclusive, rerun on an idle machine")
        elif cc is not None and cc >= 95:
            why += " -- client-limited: the client core was full, sinkholed's was not"
    P(f"- {wl} saturated qps not below the best peer ({best[1]} {best[0]:,.0f}): "
      f"{a:,.0f} = {a / best[0]:.2f}x {verdict(a >= best[0])}{why}")
if "sinkholed" in figs:
    f = figs["sinkholed"]
    tag = "" if big == "1M" else f" (quick run: {big} list, not 1M)"
    P(f"- {big} list <= 32 B/domain over the names: {fmt(f['over'], 1)} {verdict(None if f['over'] is None else f['over'] <= 32)}{tag}")
    P(f"- {big} list load <= 1 s: {fmt(f['load'], 2)} s {verdict(None if f['load'] is None else f['load'] <= 1)}")
    ly = num(evv("sinkholed", "load_big_yaml"))
    if ly is not None:
        P(f"- {big} list load <= 1 s, as YAML: {fmt(ly, 2)} s {verdict(ly <= 1)}")
    P(f"- 0 lost queries during {f['n']} reloads under load: lost {fmt(f['lost'])} "
      f"{verdict(None if f['lost'] is None or f['n'] == 0 else f['lost'] == 0)}")

# ---- targets of issue #10 -------------------------------------------------------------------------
P("\n## Targets (issue #10: all-blocked saturated, CPU from schedstat)\n")
missed = []


def tline(text, ok, why=""):
    P(f"- {text}: {verdict(ok)}{why}")
    if ok is False:
        missed.append(text)


for wl, label in [(w, l) for w, l in WL if w in ("w1-10k", "w1-big")]:
    sq, sc = sat_get("sinkholed", wl)[0], cpu_sat("sinkholed", wl)[0]
    if any(w == wl + ".log" for w, _ in WL):
        bq, bqp = best_peer(sat_get, wl + ".log", True)
        bc, bcp = best_peer(cpu_sat, wl + ".log", False)
        if bc is not None and sc is not None:
            tline(f"{label}, logging parity: CPU/query <= 0.5x the best peer ({bcp} logging, {fmt(bc)} ns): "
                  f"{fmt(sc)} ns = {ratio(sc, bc)}", sc <= 0.5 * bc)
        if bq is not None and sq is not None:
            rr = pick("sinkholed", wl, "sat")
            cc, sp = med(r["cli_cpu_busy"] for r in rr), med(r["srv_proc_cpu"] for r in rr)
            scb = med(r["srv_cpu_busy"] for r in rr)
            why = ""
            if sq < 1.5 * bq and sp is not None and sp < 90:
                if scb is not None and scb >= 95:
                    why = (f" (sinkholed had {fmt(sp)}% of its core, which was {fmt(scb)}% busy: other work "
                           "ran on it; not conclusive, rerun on an idle machine)")
                elif cc is not None and cc >= 95:
                    why = f" (client core {fmt(cc)}% busy, sinkholed {fmt(sp)}% of its core: client-limited)"
            tline(f"{label}, logging parity: q/s >= 1.5x the best peer ({bqp} logging, {fmt(bq)}): "
                  f"{fmt(sq)} = {ratio(sq, bq)}", sq >= 1.5 * bq, why)
    if "dnsdist" in PEERS:
        d = cpu_sat("dnsdist", wl)[0]
        if d is not None and sc is not None:
            tline(f"{label}: CPU/query <= 0.75x dnsdist logging nothing ({fmt(d)} ns): {fmt(sc)} ns = {ratio(sc, d)}",
                  sc <= 0.75 * d)
if "dnsdist" in PEERS:
    hw = "w2" if any(w == "w2" for w, _ in WL) else ("w4" if any(w == "w4" for w, _ in WL) else None)
    if hw:
        a, b = cpu_sat("sinkholed", hw)[0], cpu_sat("dnsdist", hw)[0]
        a2, b2 = cpu_get("sinkholed", hw)[0], cpu_get("dnsdist", hw)[0]
        what = "cache hits (w2)" if hw == "w2" else "cache hits, measured on the mix (w4: 95% forwarded, warm caches; add w2 to WORKLOADS for pure hits)"
        if a is not None and b is not None:
            tline(f"{what}: CPU/query <= 0.8x dnsdist's packet cache: saturated {fmt(a)} / {fmt(b)} ns = "
                  f"{ratio(a, b)}, at 10k q/s {fmt(a2)} / {fmt(b2)} ns = {ratio(a2, b2)}", a <= 0.8 * b)
# The full feature set (run.sh's feature section) against the peers of the same run.
if "full" in feat_have:
    fq, fc = sat_get("sinkholed", "w1-big.f-full")[0], cpu_sat("sinkholed", "w1-big.f-full")[0]
    bq, bqp = best_peer(sat_get, "w1-big.log", True)
    bc, bcp = best_peer(cpu_sat, "w1-big.log", False)
    if bc is not None and fc is not None:
        tline(f"full feature set, {big} list, logging parity: CPU/query <= 0.5x the best peer ({bcp} "
              f"logging, {fmt(bc)} ns): {fmt(fc)} ns = {ratio(fc, bc)}", fc <= 0.5 * bc)
    if bq is not None and fq is not None:
        tline(f"full feature set, {big} list, logging parity: q/s >= 1.5x the best peer ({bqp} logging, "
              f"{fmt(bq)}): {fmt(fq)} = {ratio(fq, bq)}", fq >= 1.5 * bq)
    if "dnsdist" in PEERS:
        d = cpu_sat("dnsdist", "w1-big")[0]
        if d is not None and fc is not None:
            tline(f"full feature set, {big} list: CPU/query <= 0.75x dnsdist logging nothing ({fmt(d)} ns): "
                  f"{fmt(fc)} ns = {ratio(fc, d)}", fc <= 0.75 * d)
        a, b = cpu_get("sinkholed", "w2.f-full")[0], cpu_get("dnsdist", "w2")[0]
        if a is not None and b is not None:
            tline(f"full feature set, cache hits at 10k q/s: CPU/query <= 0.8x dnsdist's packet cache: "
                  f"{fmt(a)} / {fmt(b)} ns = {ratio(a, b)}", a <= 0.8 * b)
    for (k, wl), r_ in feat_ratio.items():
        if k.startswith("full-"):
            tline(f"full feature set vs core path, {wl} {k[5:]}: at most 1.15x CPU/query: {r_:.2f}x", r_ <= 1.15)
    if "fullm" in feat_have:
        a, b = cpu_sat("sinkholed", "w1-big.f-fullm")[0], cpu_sat("sinkholed", "w1-big.f-core")[0]
        if a is not None and b is not None:
            P(f"- not a target: the full feature set with the query log's `matched: true` (a second "
              f"line per blocked query) vs core path, w1-big sat: {a / b:.2f}x CPU/query")
if missed:
    fs = cpu_sat("floor", "w1-10k")[0]
    fl_ = cpu_get("floor", "w1-10k")[0]
    P("")
    P("Where it falls short, and the floor: " + (
        f"the kernel floor (floor.c, recvfrom + sendto per query) costs {fmt(fs)} ns per query "
        f"saturated and {fmt(fl_)} ns at 10k q/s on the 10k list; sinkholed costs "
        f"{fmt(cpu_sat('sinkholed', 'w1-10k')[0])} and {fmt(cpu_get('sinkholed', 'w1-10k')[0])} ns. " +
        "; ".join(f"0.5x the best logging peer ({p}) is {fmt(0.5 * v)} ns"
                  for v, p in [best_peer(cpu_sat, "w1-10k.log", False)] if v is not None) +
        (f"; 0.75x dnsdist logging nothing is {fmt(0.75 * cpu_sat('dnsdist', 'w1-10k')[0])} ns"
         if cpu_sat("dnsdist", "w1-10k")[0] else "") + "." if fs is not None else "no floor measured.") +
      (f" On the mix (w4) at 10k q/s the floor costs {fmt(cpu_get('floor', 'w4')[0])} ns, sinkholed "
       f"{fmt(cpu_get('sinkholed', 'w4')[0])}, dnsdist {fmt(cpu_get('dnsdist', 'w4')[0])}."
       if cpu_get("floor", "w4")[0] is not None and "dnsdist" in PEERS else ""))
    pf = evv("sinkholed", "profile_w1-10k")
    if pf and pf != "-" and os.path.exists(os.path.join(RES, pf)):
        P(f"\nWhere sinkholed's cycles go, all-blocked 10k list, saturated ({ev[('sinkholed', 'profile_w1-10k')][1]}; "
          f"`{pf}` has the whole list), the top entries:\n")
        P("```")
        for line in open(os.path.join(RES, pf)).read().splitlines()[:18]:
            P(line.rstrip())
        P("```")

# ---- targets of issue #11 ---------------------------------------------------------------------
if LL:
    P("\n## Targets (issue #11: list loading)\n")
    tag = "" if big == "1M" else f" (quick run: {big} rows/names, the targets are for 1M)"
    if "csv" in LL:
        c = LL["csv"]
        P(f"- ThreatFox CSV load <= 1.5 s: {fmt(c['load'], 2)} s {verdict(None if c['load'] is None else c['load'] <= 1.5)}{tag}")
        pf = evv("sinkholed", "profile_check_csv")
        if c["load"] is not None and c["load"] > 1.5 and pf and os.path.exists(os.path.join(RES, pf)):
            P(f"  Where the load's cycles go (`{pf}`, one `--check` under perf), the top entries:\n")
            P("  ```")
            for line in open(os.path.join(RES, pf)).read().splitlines()[:14]:
                P("  " + line.rstrip())
            P("  ```")
    if "domains" in LL:
        c = LL["domains"]
        P(f"- domains file load <= 0.5 s: {fmt(c['load'], 2)} s {verdict(None if c['load'] is None else c['load'] <= 0.5)}{tag}")
        P(f"- domains file <= 32 B/domain over the names: {fmt(c['over'], 1)} {verdict(None if c['over'] is None else c['over'] <= 32)}")
    if "csv" in LL:
        c = LL["csv"]
        P(f"- ThreatFox CSV <= 32 B/entry over the names: {fmt(c['over'], 1)} "
          f"{verdict(None if c['over'] is None else c['over'] <= 32)} (with each entry's metadata)")
    if "feed" in LL:
        c = LL["feed"]
        P(f"- a feed change under 10k q/s, 0 lost: {c['n']} changes, lost {fmt(c['lost'])} "
          f"{verdict(None if c['lost'] is None or c['n'] == 0 else c['lost'] == 0)}")
# ---- the block log under a flood, the query log -------------------------------------------------
QL = [r for r in rows if r["server"] == "sinkholed" and r["workload"] in ("w4.qlog-off", "w4.qlog-on")]
if ("sinkholed", "flood_check") in ev or QL:
    P("\n## The block log under a flood, the query log\n")
if ("sinkholed", "flood_check") in ev:
    acc = (evv("sinkholed", "flood_accounting") or "- - - -").split()
    drp = (evv("sinkholed", "flood_dropped") or "- -").split()
    P("All-blocked load from one client (`dnsperf -c 1`, one listed name; closed loop unless "
      "`FLOOD_QPS` caps it). Identical lookups within `block_log.aggregate_ms` share a record: "
      "the block log must account for every query received (sum of `EventCount`), with 0 "
      "records dropped.\n")
    P("| dnsperf: sent completed lost qps ... | sum of EventCount | queries received | answered "
      "(dnsperf) | records | dropped records / lookups | CPU ns/query | verdict |")
    P("|---|---:|---:|---:|---:|---|---:|---|")
    P(f"| {evv('sinkholed', 'flood_load', '-')} | {acc[0]} | {acc[1]} | {acc[2]} | {acc[3]} | "
      f"{' / '.join(drp)} | {evv('sinkholed', 'flood_cpu_ns_per_query', '-')} | "
      f"{evv('sinkholed', 'flood_check')} |")
    P("")
if QL:
    rec = (evv("sinkholed", "qlog_records") or "- - -").split()
    P("The mix (5% blocked, 95% cache hits) at a fixed rate, the query log off then on (every "
      "query): server CPU (all threads, the query log's writer included) per answered query.\n")
    P("| query log | offered q/s | completed / sent | lost | CPU ns/query | p99 ms |")
    P("|---|---:|---:|---:|---:|---:|")
    for v in ("off", "on"):
        rr = [r for r in QL if r["workload"] == f"w4.qlog-{v}" and r["kind"] == "lat"]
        if rr:
            r = rr[-1]
            P(f"| {v} | {evv('sinkholed', 'qlog_qps', '-')} | "
              f"{r['completed']} / {r['sent']} | {r['lost']} | {r['srv_ns_per_query']} | {r['p99_ms']} |")
    P(f"\nQuery-log records written {rec[0]}, dropped {rec[1]} (`{evv('sinkholed', 'qlog_check', '-')}`: "
      "0 dropped).")
print("\n".join(out))
