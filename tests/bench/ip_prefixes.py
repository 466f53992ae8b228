#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""IP indicators at scale: generate a list of N prefixes (default 1,000,000; mixed IPv4 and
IPv6, of several lengths, all distinct and canonical) and report what loading it costs:
bytes per prefix (the policy's memory, as `sinkholed --check` prints it, minus that of an
empty list) and the load time (CPU time, user + system, of `--check` with the list, minus that
of an empty list: the config, the process and its exit are not counted; the wall clock is
printed too). No network.

    tests/bench/ip_prefixes.py [--prefixes N] [--runs 3] [--format yaml|threatfox-csv]
                               [SINKHOLED_BIN]

SINKHOLED_BIN defaults to $SINKHOLED_BIN, else build-release/sinkholed: a Release or
RelWithDebInfo build (a sanitizer build is several times slower). The YAML list is one group
whose `ips:` lists the bare prefixes (the compact way to write many); threatfox-csv writes
the IPv4 and IPv6 host addresses as ip:port rows (the format gives no prefix lengths).
"""

import argparse
import ipaddress
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

# (family, prefix length, share of the list): hosts mostly, as feeds list them.
MIX = [(4, 32, 40), (4, 24, 19), (4, 16, 1), (6, 128, 20), (6, 64, 10), (6, 48, 10)]


def network(fam, bits, i):
    """The i-th network of a length: distinct for each i, its host bits clear."""
    x = (i * 2654435761) & 0xFFFFFFFF  # an odd multiplier: a bijection, neighbours spread
    if fam == 4:
        if bits == 32:
            return ipaddress.IPv4Address((1 << 31) | (x & 0x7FFFFFFF))
        if bits == 24:
            return ipaddress.IPv4Address((x & 0xFFFFFF) << 8)
        return ipaddress.IPv4Address((i & 0xFFFF) << 16)
    if bits == 128:
        return ipaddress.IPv6Address((0x20010DB8 << 96) | (x << 16) | 1)
    if bits == 64:
        return ipaddress.IPv6Address((0x20010DB9 << 96) | (x << 64))
    return ipaddress.IPv6Address((0x2001 << 112) | (x << 80))


def prefixes(n):
    """n distinct canonical prefixes in the MIX proportions, deterministic."""
    total = sum(m[2] for m in MIX)
    out = []
    for j, (fam, bits, share) in enumerate(MIX):
        k = n * share // total if j < len(MIX) - 1 else n - len(out)
        full = 32 if fam == 4 else 128
        out.extend(f"{network(fam, bits, i)}" + (f"/{bits}" if bits < full else "")
                   for i in range(k))
    return out


def write_yaml(path, pfx):
    with open(path, "w") as f:
        f.write("block:\n  - malware: Bench\n    source: bench\n    ips:\n")
        for p in pfx:
            f.write(f'      - "{p}"\n')


def write_threatfox(path, pfx):
    with open(path, "w") as f:
        f.write('# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type",'
                '"malware_printable","confidence_level","reference"\n')
        for i, p in enumerate(pfx):
            a = p.split("/")[0]
            v = f"[{a}]:443" if ":" in a else f"{a}:443"
            f.write(f'"2026-05-27 10:00:00", "{i}", "{v}", "ip:port", "botnet_cc", "Bench", '
                    f'"75", "None"\n')


def check(binary, conf):
    """CPU seconds (user + system: steadier than the wall clock on a shared machine) and wall
    seconds of one `sinkholed --check`, its KiB and prefix count."""
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run([binary, "--check", "-c", conf], capture_output=True, text=True)
    wall = time.monotonic() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    dt = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    if r.returncode != 0:
        sys.exit(f"--check failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    m = re.search(r"total: .*?(\d+) blocked prefixes.*?, (\d+) KiB", r.stdout)
    if not m:
        sys.exit(f"no total line in:\n{r.stdout}")
    return dt, int(m.group(2)), int(m.group(1)), wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?",
                    default=os.environ.get("SINKHOLED_BIN", "build-release/sinkholed"))
    ap.add_argument("--prefixes", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--format", choices=("yaml", "threatfox-csv"), default="yaml")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sinkholed-ipbench-") as d:
        pfx = prefixes(a.prefixes)
        if a.format == "threatfox-csv":
            pfx = [p.split("/")[0] for p in pfx]
        lst = os.path.join(d, "ips." + ("yaml" if a.format == "yaml" else "csv"))
        (write_yaml if a.format == "yaml" else write_threatfox)(lst, pfx)
        empty = os.path.join(d, "empty.yaml")
        with open(empty, "w") as f:
            f.write("block: []\n")
        confs = {}
        for name, path, fmt in (("empty", empty, "yaml"), ("list", lst, a.format)):
            confs[name] = os.path.join(d, name + ".conf.yaml")
            with open(confs[name], "w") as f:
                f.write('listen: ["127.0.0.1:5399"]\nupstreams: ["127.0.0.1:5398"]\n'
                        f'blocklists: [{{path: "{path}", format: {fmt}}}]\n'
                        'block_log: {path: "-"}\nretro_hunt: {enabled: false}\n')
        base = min(check(a.binary, confs["empty"])[0] for _ in range(a.runs))
        runs = [check(a.binary, confs["list"]) for _ in range(a.runs)]
        kib0 = check(a.binary, confs["empty"])[1]
        best = min(r[0] for r in runs)
        kib, n = runs[0][1], runs[0][2]
        size = os.path.getsize(lst)
    print(f"format {a.format}: {n} prefixes loaded of {len(pfx)} written "
          f"({size / 1e6:.1f} MB of list)")
    print(f"memory: {(kib - kib0) * 1024 / n:.1f} bytes per prefix "
          f"({kib - kib0} KiB over an empty list)")
    print(f"load: {best - base:.3f} s of CPU (best of {a.runs}: {best:.3f} s, empty list "
          f"{base:.3f} s; all: {', '.join(f'{r[0]:.3f}' for r in runs)}; wall clock: "
          f"{', '.join(f'{r[3]:.3f}' for r in runs)})")


if __name__ == "__main__":
    main()
