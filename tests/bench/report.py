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

TCK = os.sysconf("SC_CLK_TCK")

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
WL = [("w1-10k", "all-blocked, 10k list"), ("w1-big", f"all-blocked, {big} list"),
      ("w3", "forwarded (cache miss)"), ("w4", "mix 5% blocked"), ("w2", "forwarded (cache hit)")]
WL = [w for w in WL if any(r["workload"] == w[0] for r in rows)]


def num(x):
    try:
        v = float(x)
        return v if v == v else None
    except (TypeError, ValueError):
        return None


def pick(srv, wl, kind):
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
for s in SRVS:
    if (s, "version") in ev:
        P(f"- {s}: {evv(s, 'version')}")
    if (s, "skipped") in ev:
        P(f"- **{s} skipped**: {evv(s, 'skipped')} {ev[(s, 'skipped')][1]}")
    if (s, "sanity") in ev and evv(s, "sanity") != "ok":
        P(f"- **{s} sanity check failed**: {ev[(s, 'sanity')][1]}")
if ("sinkholed", "cache") in ev:
    P(f"- sinkholed answer cache: {evv('sinkholed', 'cache')} ({ev[('sinkholed', 'cache')][1]})")
P("")


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


def cpu_get(srv, wl):
    s = [r for r in pick(srv, wl, "lat") if num(r["srv_us_per_query"]) is not None]
    if not s:
        return None, ""
    t = med(r["srv_ticks"] for r in s) or 0
    prec = f" ±{200 / t:.0f}%" if t else ""
    return med(r["srv_us_per_query"] for r in s), prec


metric_table("Saturated queries/s (higher is better)",
             "Closed loop (dnsperf -c 10 -q 100 -T 2, bounded by -l), median of the repetitions "
             "(min..max). Ratio = sinkholed / peer; above 1: sinkholed answers more.",
             "sat", sat_get, 0, "high")

# CPU figures of the saturation runs: is the server or the client the limit?
P("## CPU during saturation (who is the limit?)\n")
P("Sampled in the middle of each saturation run, median: server process CPU time as % of one "
  "core (/proc/PID/stat) / busy % of the server core / busy % of the client core (dnsperf + "
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
metric_table("Server CPU time per answered query (us) at a fixed 10k queries/s (lower is better)",
             "utime+stime delta of the server process (all threads, /proc/PID/stat) over the "
             "fixed-rate run, divided by the answered queries, median of the runs; ± = "
             "resolution of 2 clock ticks. "
             "Ratio = sinkholed / peer; below 1: sinkholed spends less CPU per query.",
             "lat", cpu_get, 2, "low")

# The kernel's floor: what a server that does no work costs per query (floor.c)
floor = [(wl, label, cpu_get("floor", wl)[0]) for wl, label in WL if cpu_get("floor", wl)[0] is not None]
if floor:
    P("Kernel floor: `tests/bench/floor.c` (one blocking recvfrom and one sendto per query, no "
      "other work; same CPU, same rate) costs " + "; ".join(
        f"{label}: {fmt(v, 2)} us = " + ", ".join(
            f"{ratio(v, cpu_get(p, wl)[0])} {p}" for p in PEERS if cpu_get(p, wl)[0] is not None)
        for wl, label, v in floor) +
      ". Above the floor (us per query, the server's own cost): " + "; ".join(
        f"{label}: " + ", ".join(
            f"{s} {fmt(cpu_get(s, wl)[0] - v, 2)}" for s in ["sinkholed"] + PEERS
            if cpu_get(s, wl)[0] is not None)
        for wl, label, v in floor) + ".\n")

# sinkholed's CPU split between its threads (worker, block-log writer, main/reload)
thr = [(wl, label, evv("sinkholed", f"threads_{wl}")) for wl, label in WL if evv("sinkholed", f"threads_{wl}")]
if thr:
    P("sinkholed CPU per answered query by thread at 10k q/s (last fixed-rate run; us; TID, main = the main thread; "
      "all threads are pinned to the server CPU): " + "; ".join(
        f"{label}: " + ", ".join(
            f"{t.split('=')[0]} {int(t.split('=')[1]) / TCK * 1e6 / max(1, int(num(pick('sinkholed', wl, 'lat')[-1]['completed']) or 1)):.1f}"
            for t in sorted(v.split(), key=lambda x: -int(x.split("=")[1])))
        for wl, label, v in thr) + "\n")

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
print("\n".join(out))
