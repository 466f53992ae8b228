#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""cpu_sample.py PID DELAY WINDOW CLI_CPU SRV_CPU -> "cli_busy srv_busy srv_pct srv_softirq" (%, tabs)

Sleeps DELAY seconds, then measures over WINDOW seconds: the busy share of the client CPU and of
the server CPU (and its softirq share)
(/proc/stat, everything but idle and iowait, softirq included) and the CPU time of process PID
(the run time of all its threads in ns, /proc/PID/task/*/schedstat) as a percentage of one CPU.
"""
import glob
import sys
import time


def cpus():
    out = {}
    for line in open("/proc/stat"):
        p = line.split()
        if p[0].startswith("cpu") and p[0][3:].isdigit():
            v = list(map(int, p[1:]))
            out[p[0]] = (sum(v[:8]), v[3] + v[4], v[6])
    return out


def run_ns(pid):
    tot, n = 0, 0
    for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            tot += int(open(f).read().split()[0])
            n += 1
        except (OSError, ValueError, IndexError):
            pass
    return tot if n else None


pid, delay, window = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
cli, srv_cpu = "cpu" + sys.argv[4], "cpu" + sys.argv[5]
time.sleep(delay)
a, ta, t0 = cpus(), run_ns(pid), time.monotonic()
time.sleep(window)
b, tb, t1 = cpus(), run_ns(pid), time.monotonic()


def busy(c):
    if c not in a or c not in b:
        return "-"
    tot = b[c][0] - a[c][0]
    idle = b[c][1] - a[c][1]
    return f"{100.0 * (tot - idle) / tot:.0f}" if tot else "-"


def softirq(c):
    tot = b[c][0] - a[c][0] if c in a and c in b else 0
    return f"{100.0 * (b[c][2] - a[c][2]) / tot:.0f}" if tot else "-"


srv = "-" if ta is None or tb is None else f"{100.0 * (tb - ta) / 1e9 / (t1 - t0):.0f}"
print(f"{busy(cli)}\t{busy(srv_cpu)}\t{srv}\t{softirq(srv_cpu)}")
