#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parse dnsperf output. As a script: one output file into TSV fields (stdout, one line):

  sent completed lost qps avg_ms p50_ms p99_ms max_ms rcodes min_interval_qps

usage: parse_dnsperf.py OUTFILE
p50/p99 come from the per-response lines of `dnsperf -v` ("> RCODE name type latency"), or are
"-" without -v. min_interval_qps is the lowest per-second rate of `dnsperf -S 1` (the first
interval, before the first query, and the last, partial, are ignored), or "-".

As a module (tests/reliability/ uses it): parse(lines) -> dict.
"""
import re
import sys


def parse(lines):
    """dnsperf's output lines -> dict: sent, completed, lost, qps, avg_ms, max_ms (those
    present), rcodes ({name: count}) and rcodes_text (as printed, without spaces), lat
    (per-response seconds, -v), intervals (-S 1 q/s)."""
    st = {"rcodes": {}, "rcodes_text": "-", "lat": [], "intervals": []}
    for line in lines:
        if line.startswith(">"):
            p = line.split()
            if len(p) >= 5:
                try:
                    st["lat"].append(float(p[-1]))
                except ValueError:
                    pass
            continue
        for key, rx in (("sent", r"\s*Queries sent:\s+(\d+)"),
                        ("completed", r"\s*Queries completed:\s+(\d+)"),
                        ("lost", r"\s*Queries lost:\s+(\d+)"),
                        ("qps", r"\s*Queries per second:\s+([\d.]+)")):
            m = re.match(rx, line)
            if m:
                st[key] = float(m.group(1))
        m = re.match(r"\s*Average Latency \(s\):\s+([\d.]+).*max ([\d.]+)", line)
        if m:
            st["avg_ms"] = float(m.group(1)) * 1000
            st["max_ms"] = float(m.group(2)) * 1000
        m = re.match(r"\s*Response codes:\s+(.*)", line)
        if m:
            st["rcodes_text"] = re.sub(r"\s+", "", m.group(1).strip()) or "-"
            for code, n in re.findall(r"([A-Z]+) (\d+) \(", m.group(1)):
                st["rcodes"][code] = int(n)
        m = re.match(r"^\d+\.\d+: ([\d.]+)$", line.strip())
        if m:
            st["intervals"].append(float(m.group(1)))
    return st


def main():
    with open(sys.argv[1], errors="replace") as f:
        st = parse(f)
    lat = sorted(st["lat"])
    intervals = st["intervals"]

    def pct(p):
        if not lat:
            return "-"
        return f"{lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))] * 1000:.3f}"

    def g(k, fmt="{:.0f}"):
        return fmt.format(st[k]) if k in st else "-"

    print("\t".join([g("sent"), g("completed"), g("lost"), g("qps"), g("avg_ms", "{:.3f}"),
                     pct(50), pct(99), g("max_ms", "{:.3f}"), st["rcodes_text"],
                     f"{min(intervals[1:-1]):.0f}" if len(intervals) > 2 else "-"]))


if __name__ == "__main__":
    main()
