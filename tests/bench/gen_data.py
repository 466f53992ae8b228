#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Deterministic benchmark data for tests/bench/run.sh (adapted from the maintainers' peer kit).

usage: gen_data.py OUTDIR [--quick]

  blocklist-big.txt     N_BLOCK unique blocked domains, one per line (1,000,000; --quick 100,000)
  blocklist-10k.txt     the first 10,000 lines of blocklist-big.txt
  blocklist-big-a.txt   blocklist-big.txt + one marker domain (reload test: "new list" A)
  blocklist-big-b.txt   blocklist-big.txt + another marker domain (reload test: "new list" B)
  blocklist-tiny.txt    one domain (the "without the list" memory baseline)
  zones/<tld>.zone      authoritative zones served by nsd (the upstream), N_ZONE A records in all
  zone-names.txt        every name of the zones
  q-w1-10k.txt          all-blocked: blocked names and subdomains of them (10k list)
  q-w1-big.txt          all-blocked: the same for the big list
  q-w2-hit.txt          1000 zone names (optional cache-hit workload)
  q-w3-miss.txt         forwarded: distinct zone names never used by W2/W4 (cache misses)
  q-w3-lat.txt          more such names, for the fixed-rate run (disjoint from q-w3-miss.txt)
  q-w4-mixed.txt        5% blocked (10k list) / 95% forwarded (Zipf over 100k zone names)
  threatfox-big.csv     a ThreatFox CSV export of N_BLOCK rows (list-load figures): its banner,
                        commented header line and trailer, quoted fields separated by ", ";
                        85% domain rows (the first names of blocklist-big.txt), the rest
                        ip:port, url and md5/sha256 rows
  meta.env              sizes and the total presentation length of the big list's names

Query files are `name TYPE` lines (dnsperf -d), 75% A / 25% AAAA. Blocked queries: 40% a listed
domain, 45% one extra label, 15% two extra labels. Fixed seed: reruns give identical files.
"""
import bisect
import datetime
import itertools
import os
import random
import sys

QUICK = "--quick" in sys.argv[2:]
OUT = sys.argv[1]
N_BLOCK = 100_000 if QUICK else 1_000_000
N_ZONE = 200_000 if QUICK else 1_000_000
N_Q = 100_000 if QUICK else 1_000_000
N_POOL = 100_000                      # W4 forwarded names (Zipf)
N_W3_LAT = 20_000 if QUICK else 100_000  # W3 names kept apart for the fixed-rate run
MARKER_A = "reload-a.marker.sinkholed-bench.example"
MARKER_B = "reload-b.marker.sinkholed-bench.example"
MARKER_TINY = "tiny.marker.sinkholed-bench.example"

# "test" is avoided: unbound answers it locally by default.
ZONE_TLDS = ["example", "lab", "bench", "internal"]
BLOCK_TLDS = ["com"] * 10 + ["net"] * 3 + ["org"] * 2 + ["io", "info", "xyz", "top", "ru", "de",
                                                           "co.uk", "biz", "online", "site", "app"]
SUBPREFIX = ["www", "cdn", "ads", "api", "img", "static", "track", "m", "pixel", "s1", "s2",
             "metrics", "collect", "log", "t", "eu", "us"]
CONS = "bcdfghjklmnprstvwz"
VOW = "aeiou"

rng = random.Random(20240601)


def word(lo=3, hi=10):
    n = rng.randint(lo, hi)
    w = "".join(rng.choice(CONS) if i % 2 == 0 else rng.choice(VOW) for i in range(n))
    r = rng.random()
    if r < 0.15:
        w += str(rng.randint(0, 99))
    elif r < 0.25:
        w += "-" + "".join(rng.choice(CONS + VOW) for _ in range(rng.randint(2, 5)))
    return w


def blocked_domain():
    tld = rng.choice(BLOCK_TLDS)
    r = rng.random()
    if r < 0.55:
        return f"{word(4, 12)}.{tld}"
    if r < 0.90:
        return f"{word(2, 8)}.{word(4, 10)}.{tld}"
    return f"{word(1, 5)}.{word(2, 6)}.{word(4, 9)}.{tld}"


def zone_name(tld):
    if rng.random() < 0.5:
        return f"{word(3, 9)}.{word(4, 9)}.{tld}"
    return f"{word(2, 6)}.{word(3, 8)}.{word(3, 7)}.{tld}"


def qtype():
    return "A" if rng.random() < 0.75 else "AAAA"


def write(fn, lines):
    with open(os.path.join(OUT, fn), "w") as f:
        f.write("\n".join(lines) + "\n")


def w1(lst, n):
    out = []
    for _ in range(n):
        d = rng.choice(lst)
        r = rng.random()
        if r < 0.4:
            q = d
        elif r < 0.85:
            q = f"{rng.choice(SUBPREFIX)}.{d}"
        else:
            q = f"{rng.choice(SUBPREFIX)}{rng.randint(1, 9)}.{rng.choice(SUBPREFIX)}.{d}"
        out.append(f"{q} {qtype()}")
    return out


MALWARE = [("win.cobalt_strike", "Agentemis,BEACON,CobaltStrike,cobeacon", "Cobalt Strike"),
           ("win.agent_tesla", "None", "Agent Tesla"), ("win.remcos", "RemcosRAT", "Remcos"),
           ("win.asyncrat", "None", "AsyncRAT"), ("win.qakbot", "Oakboat,Pinkslipbot,Qbot", "QakBot"),
           ("win.lumma", "LummaC2 Stealer", "Lumma Stealer"), ("elf.mirai", "Katana", "Mirai"),
           ("win.nanocore", "Nancrat,NanoCore RAT", "NanoCore RAT"), ("win.redline_stealer", "None", "RedLine Stealer"),
           ("js.clearfake", "None", "ClearFake"), ("win.formbook", "win.xloader", "Formbook"),
           ("win.sliver", "None", "Sliver"), ("win.vidar", "None", "Vidar"), ("apk.hydra", "None", "Hydra"),
           ("win.dcrat", "DarkCrystal RAT", "DCRat"), ("unknown", "None", "Unknown malware")]
THREAT = ["botnet_cc"] * 6 + ["payload_delivery"] * 3 + ["payload"]
NOW = datetime.datetime(2026, 5, 28, 8, 0, 0)
REPORTERS = ["abuse_ch", "malware_hunter", "skocherhan", "DonPasci", "juroots", "anonymous"]


def threatfox_csv(path, domains, n_rows):
    """A ThreatFox CSV export of n_rows IOCs; domain rows take the names of `domains` in order.
    IOCs come in submissions of 1-20 rows, as reporters send them: one malware family, threat
    type, confidence, reference (None for 60%, else one of a few thousand reports), tags,
    reporter and first_seen second per submission. Returns (domain rows, their names' bytes,
    the last domain, ip:port rows)."""
    hexd = "0123456789abcdef"
    refs = [f"https://bazaar.abuse.ch/sample/{''.join(rng.choice(hexd) for _ in range(64))}/"
            for _ in range(2000)] + [f"https://{rng.choice(['x.com', 'blog', 'www.joesandbox.com', 'tria.ge'])}"
                                     f"/{word(3, 8)}/{rng.randint(10**6, 10**9)}" for _ in range(2000)]
    with open(path, "w") as f:
        f.write("#" * 64 + "\n# ThreatFox IOCs: full data dump" + " " * 30 + "#\n"
                "# Last updated: 2026-05-28 08:04:47 UTC" + " " * 24 + "#\n#" + " " * 62 + "#\n"
                "# Terms Of Use: https://threatfox.abuse.ch/faq/#tos" + " " * 12 + "#\n"
                "# For questions please contact threatfox [at] abuse.ch" + " " * 9 + "#\n" + "#" * 64 + "\n#\n"
                '# "first_seen_utc","ioc_id","ioc_value","ioc_type","threat_type","fk_malware",'
                '"malware_alias","malware_printable","last_seen_utc","confidence_level",'
                '"is_compromised","reference","tags","anonymous","reporter"\n')
        di, nbytes, last, nip = 0, 0, "", 0
        ioc = 1_600_000 + 2 * n_rows
        left = 0
        for i in range(n_rows):
            if left == 0:  # a new submission
                left = rng.randint(1, 20)
                fk, alias, printable = rng.choice(MALWARE)
                threat = rng.choice(THREAT)
                conf = rng.choice(["100", "100", "75", "50", "None"])
                ref = "None" if rng.random() < 0.6 else rng.choice(refs)
                tags = "None" if rng.random() < 0.3 else printable.replace(" ", "") + ("," + word(3, 6) if rng.random() < 0.3 else "")
                anon = "1" if rng.random() < 0.05 else "0"
                rep = "anonymous" if anon == "1" else rng.choice(REPORTERS)
                # newest first, as the export is: 900 days back from its date
                first = (NOW - datetime.timedelta(days=i * 900 // n_rows, seconds=rng.randint(0, 86399))
                         ).strftime("%Y-%m-%d %H:%M:%S")
            left -= 1
            ioc -= rng.randint(1, 2)
            r = rng.random()
            if r < 0.85 and di < len(domains):
                value, typ = domains[di], "domain"
                di += 1
                nbytes += len(value)
                last = value
            elif r < 0.92:
                value = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}:{rng.choice([80, 443, 4444, 8080, 2404, 7443, 1337])}"
                typ = "ip:port"
                nip += 1
            elif r < 0.97:
                value = f"http://{word(4, 10)}.{rng.choice(BLOCK_TLDS)}/{word(3, 8)}/{word(3, 8)}.{rng.choice(['exe', 'php', 'sh', 'arm7', 'zip'])}"
                typ = "url"
            elif r < 0.985:
                value, typ = "".join(rng.choice(hexd) for _ in range(32)), "md5_hash"
            else:
                value, typ = "".join(rng.choice(hexd) for _ in range(64)), "sha256_hash"
            lastseen = "" if rng.random() < 0.8 else "None"
            f.write(f'"{first}", "{ioc}", "{value}", "{typ}", "{threat}", "{fk}", "{alias}", '
                    f'"{printable}", "{lastseen}", "{conf}", "False", "{ref}", "{tags}", "{anon}", "{rep}"\n')
        f.write(f"#\n# END OF FILE ({n_rows} IOCs)\n#\n")
    return di, nbytes, last, nip


def main():
    os.makedirs(os.path.join(OUT, "zones"), exist_ok=True)

    seen = set()
    blocked = []
    while len(blocked) < N_BLOCK:
        d = blocked_domain()
        if d not in seen:
            seen.add(d)
            blocked.append(d)
    write("blocklist-big.txt", blocked)
    write("blocklist-10k.txt", blocked[:10_000])
    write("blocklist-big-a.txt", blocked + [MARKER_A])
    write("blocklist-big-b.txt", blocked + [MARKER_B])
    write("blocklist-tiny.txt", [MARKER_TINY])

    names = []
    zseen = set()
    per = N_ZONE // len(ZONE_TLDS)
    for tld in ZONE_TLDS:
        zn = []
        while len(zn) < per:
            n = zone_name(tld)
            if n not in zseen:
                zseen.add(n)
                zn.append(n)
        with open(os.path.join(OUT, "zones", f"{tld}.zone"), "w") as f:
            f.write(f"$ORIGIN {tld}.\n$TTL 86400\n")
            f.write(f"@ IN SOA ns.{tld}. hostmaster.{tld}. 1 3600 900 604800 86400\n")
            f.write(f"@ IN NS ns.{tld}.\nns IN A 127.0.0.1\n")
            for i, n in enumerate(zn):
                f.write(f"{n}. IN A 10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}\n")
        names.extend(zn)
    rng.shuffle(names)
    write("zone-names.txt", names)

    write("q-w1-10k.txt", w1(blocked[:10_000], N_Q))
    write("q-w1-big.txt", w1(blocked, N_Q))
    write("q-w2-hit.txt", [f"{n} {qtype()}" for n in names[:1000]])

    pool = names[1000:1000 + N_POOL]
    cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(pool))))
    tot = cum[-1]
    blk = w1(blocked[:10_000], 50_000)
    bi = 0
    w4 = []
    for _ in range(N_Q):
        if rng.random() < 0.05:
            w4.append(blk[bi % len(blk)])
            bi += 1
        else:
            w4.append(f"{pool[bisect.bisect_left(cum, rng.random() * tot)]} {qtype()}")
    write("q-w4-mixed.txt", w4)
    w3 = [f"{n} {qtype()}" for n in names[1000 + N_POOL:]]
    write("q-w3-miss.txt", w3[:-N_W3_LAT])
    write("q-w3-lat.txt", w3[-N_W3_LAT:])

    name_bytes = sum(len(d) for d in blocked)
    tf_dom, tf_bytes, tf_last, tf_ips = threatfox_csv(os.path.join(OUT, "threatfox-big.csv"), blocked, N_BLOCK)
    with open(os.path.join(OUT, "meta.env"), "w") as f:
        f.write(f"N_BLOCK={N_BLOCK}\nN_ZONE={len(names)}\nN_Q={N_Q}\n")
        f.write(f"BIG_NAME_BYTES={name_bytes}\n")     # sum of presentation lengths, no dot
        f.write(f"BIG_LAST={blocked[-1]}\nSMALL_FIRST={blocked[0]}\n")
        f.write(f"MARKER_A={MARKER_A}\nMARKER_B={MARKER_B}\nMARKER_TINY={MARKER_TINY}\n")
        f.write(f"ZONE_LAST={names[-1]}\nZONE_FIRST={names[0]}\n")
        f.write(f"TF_ROWS={N_BLOCK}\nTF_DOMAINS={tf_dom}\nTF_NAME_BYTES={tf_bytes}\nTF_LAST={tf_last}\nTF_IPS={tf_ips}\n")
        f.write("COMPLETE=1\n")
    print(f"data in {OUT}: {N_BLOCK} blocked names ({name_bytes / N_BLOCK:.1f} bytes avg), "
          f"{len(names)} zone names, {N_Q} queries per workload file")


if __name__ == "__main__":
    main()
