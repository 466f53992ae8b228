#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) and dictionaries.

Offline and deterministic: DNS messages are built byte by byte here (the shapes real clients
and resolvers send: dig/kdig queries with and without EDNS, cookies and padding, 0x20 letter
case; answers with compression, CNAME chains, SOA negatives, EDE, truncation), configs and
blocklists are the shipped conf/*.yaml plus variations. Run it again after changing a format;
it only rewrites the files it generates (seed-*), never the regression inputs (regress-*)
kept from findings.
"""
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")

A, NS, CNAME, SOA, PTR, MX, TXT, AAAA, SRV, OPT, HTTPS, ANY = (
    1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 65, 255)
IN, CH = 1, 3


def name(text):
    """Presentation name to uncompressed wire (letter case kept, no escapes)."""
    out = b""
    for label in text.rstrip(".").split(".") if text not in (".", "") else []:
        lb = label.encode()
        out += bytes([len(lb)]) + lb
    return out + b"\0"


def header(id_, flags, qd=1, an=0, ns=0, ar=0):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def question(qname, qtype=A, qclass=IN):
    return (qname if isinstance(qname, bytes) else name(qname)) + struct.pack(">HH", qtype, qclass)


def opt(size=1232, do=False, version=0, ext_rcode=0, options=b""):
    return b"\0" + struct.pack(">HHBBHH", OPT, size, ext_rcode, version, 0x8000 if do else 0,
                               len(options)) + options


def option(code, data):
    return struct.pack(">HH", code, len(data)) + data


def rr(owner, rtype, rdata, ttl=300, rclass=IN):
    owner = owner if isinstance(owner, bytes) else name(owner)
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


PTR_Q = b"\xc0\x0c"  # compression pointer to the question name

# Flags: RD (0x0100), AD in a query (0x0020) as dig sends it, CD (0x0010).
Q_RD = 0x0100
Q_DIG = 0x0120
R_OK = 0x8180  # QR RD RA


def query(qname, qtype=A, id_=0x1a2b, flags=Q_DIG, edns=None, qclass=IN):
    ar = 1 if edns is not None else 0
    return header(id_, flags, 1, 0, 0, ar) + question(qname, qtype, qclass) + (edns or b"")


def write(target, fname, data, mode="wb"):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + fname), "wb") as f:
        f.write(data)


# ---- fuzz_query ----------------------------------------------------------------------------

COOKIE = option(10, bytes.fromhex("0102030405060708"))
PAD = option(12, b"\0" * 20)


def query_seeds():
    long_name = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])  # 255 bytes on the wire
    many = ".".join(["x"] * 127)                                       # 255 bytes, 128 labels
    seeds = {
        "a-plain": query("www.mobile1.com", flags=Q_RD),
        "a-dig-edns": query("www.mobile1.com", edns=opt(1232, options=COOKIE)),
        "aaaa-edns-do": query("moocow.my", AAAA, edns=opt(4096, do=True)),
        "mx-upper": query("Spapro.CO.com", MX),
        "txt-edns-small": query("www.shbet.id", TXT, edns=opt(100)),
        "any": query("example.com", ANY, edns=opt(65535)),
        "https-0x20": query("wWw.ExAmPlE.cOm", HTTPS, edns=opt(1400, options=PAD)),
        "ptr": query("1.2.0.192.in-addr.arpa", PTR),
        "root-ns": query(".", NS, edns=opt(512)),
        "chaos": query("version.bind", TXT, qclass=CH),
        "qtype0": query("a.b", 0),
        "cd": query("sub.www.mobile1.com", A, flags=Q_RD | 0x0010, edns=opt(1232, do=True)),
        "long-name": query(long_name, A, edns=opt()),
        "many-labels": query(many, AAAA),
        "odd-bytes": query(b"\x05a.b\"c\x03\x00\\\xff\x00", A, edns=opt()),
        # Errors and drops
        "badvers": query("www.mobile1.com", A, edns=opt(1232, version=1)),
        "two-opt": header(1, Q_RD, 1, 0, 0, 2) + question("a.com") + opt() + opt(),
        "opt-not-root": header(1, Q_RD, 1, 0, 0, 1) + question("a.com") + name("a.com")
        + opt()[1:],
        "opt-in-answer": header(1, Q_RD, 1, 1, 0, 0) + question("a.com") + opt(),
        "qd0-edns": header(2, Q_RD, 0, 0, 0, 1) + opt(do=True),
        "qd2": header(3, Q_RD, 2) + question("a.com") + question("b.com"),
        "notify": header(4, 0x2000, 1) + question("example.com", SOA),
        "update-edns": header(5, 0x2800, 1, 0, 0, 1) + question("example.com", SOA) + opt(),
        "qr-set": header(6, 0x8100) + question("a.com"),
        "short": header(7, Q_RD)[:11],
        "header-only": header(8, Q_RD, 0),
        "cut-question": query("www.mobile1.com")[:20],
        "cut-opt": query("a.com", edns=opt(options=COOKIE))[:-3],
        "pointer-in-question": header(9, Q_RD) + PTR_Q + struct.pack(">HH", A, IN),
        "label-0x40": header(10, Q_RD) + b"\x41" + b"x" * 1 + b"\0" + struct.pack(">HH", A, IN),
        "name-too-long": header(11, Q_RD) + b"\x3f" + b"a" * 63 + b"\x3f" + b"b" * 63
        + b"\x3f" + b"c" * 63 + b"\x3f" + b"d" * 63 + b"\0" + struct.pack(">HH", A, IN),
        "trailing": query("a.com", edns=opt()) + b"\xde\xad\xbe\xef",
        "ar-nonopt": header(12, Q_RD, 1, 0, 0, 1) + question("a.com")
        + rr("a.com", A, b"\x01\x02\x03\x04"),
        "ns-tsig-like": header(13, Q_RD, 1, 0, 1, 1) + question("a.com")
        + rr(PTR_Q, NS, name("ns.a.com")) + opt(),
        "rdlen-overflow": header(14, Q_RD, 1, 0, 0, 1) + question("a.com")
        + b"\0" + struct.pack(">HHBBHH", OPT, 1232, 0, 0, 0, 200),
    }
    for k, v in seeds.items():
        write("fuzz_query", k, v)


# ---- fuzz_reply -----------------------------------------------------------------------------

def pair(q, r, ctl=1):
    return bytes([ctl]) + struct.pack(">H", len(q)) + q + r


def reply_to(q, flags=R_OK, an=b"", nan=0, ns=b"", nns=0, ar=b"", nar=0, qname=None, id_=None):
    qid = struct.unpack(">H", q[:2])[0] if id_ is None else id_
    qd_end = 12
    while q[qd_end]:
        qd_end += q[qd_end] + 1
    qd_end += 5
    qsec = q[12:qd_end] if qname is None else question(qname, *struct.unpack(">HH", q[qd_end - 4:qd_end]))
    return header(qid, flags, 1, nan, nns, nar) + qsec + an + ns + ar


def soa_rdata(mname="ns1.example.com", rname="hostmaster.example.com", minimum=300):
    return name(mname) + name(rname) + struct.pack(">IIIII", 2026060101, 7200, 900, 1209600,
                                                   minimum)


def reply_seeds():
    q_a = query("www.example.com", edns=opt(1232))
    q_a_plain = query("www.example.com", flags=Q_RD)
    q_aaaa = query("ipv6.example.com", AAAA, edns=opt(1232, do=True))
    q_mx = query("example.com", MX, edns=opt(4096))
    q_nx = query("nonexistent.example.com", edns=opt())
    q_txt = query("big.example.com", TXT, edns=opt(512))
    e = opt(1232)
    seeds = {
        "a": pair(q_a, reply_to(q_a, an=rr(PTR_Q, A, bytes([93, 184, 215, 14])), nan=1,
                                ar=e, nar=1)),
        "a-plain": pair(q_a_plain, reply_to(q_a_plain, an=rr(PTR_Q, A, bytes([192, 0, 2, 7])),
                                            nan=1)),
        "a-0x20-case": pair(q_a, reply_to(q_a, qname="WwW.eXaMpLe.CoM",
                                          an=rr(PTR_Q, A, bytes([1, 2, 3, 4])), nan=1)),
        "aaaa-do": pair(q_aaaa, reply_to(q_aaaa, an=rr(PTR_Q, AAAA, bytes.fromhex(
            "20010db8000000000000000000000053")), nan=1, ar=opt(1232, do=True), nar=1), ctl=3),
        "cname-chain": pair(q_a, reply_to(
            q_a, an=rr(PTR_Q, CNAME, name("edge.cdn.example.net"))
            + rr(b"\xc0\x2d", CNAME, b"\x03www\xc0\x0c")
            + rr(name("edge.cdn.example.net"), A, bytes([203, 0, 113, 9])), nan=3,
            ar=e, nar=1)),
        "mx-additional": pair(q_mx, reply_to(
            q_mx, an=rr(PTR_Q, MX, b"\x00\x0a\x04mail\xc0\x0c"), nan=1,
            ar=rr(b"\x04mail\xc0\x0c", A, bytes([192, 0, 2, 25]))
            + rr(b"\x04mail\xc0\x0c", AAAA, bytes(16)) + opt(4096), nar=3), ctl=5),
        "nxdomain-soa": pair(q_nx, reply_to(q_nx, flags=0x8183, ns=rr(
            name("example.com"), SOA, soa_rdata(), ttl=3600), nns=1, ar=e, nar=1)),
        "nodata-soa": pair(q_aaaa, reply_to(q_aaaa, ns=rr(name("example.com"), SOA,
                                                          soa_rdata(minimum=60)), nns=1)),
        "servfail-ede": pair(q_a, reply_to(q_a, flags=0x8182, ar=opt(
            1232, options=option(15, b"\x00\x16no reachable authority")), nar=1)),
        "refused": pair(q_a, reply_to(q_a, flags=0x8185)),
        "tc": pair(q_txt, reply_to(q_txt, flags=0x8380, ar=opt(1232), nar=1)),
        "big-txt": pair(q_txt, reply_to(q_txt, an=b"".join(
            rr(PTR_Q, TXT, bytes([200]) + bytes([0x41 + i]) * 200) for i in range(8)), nan=8,
            ar=opt(1232), nar=1), ctl=1),
        "big-txt-tcp": pair(q_txt, reply_to(q_txt, an=b"".join(
            rr(PTR_Q, TXT, bytes([250]) + b"t" * 250) for i in range(20)), nan=20), ctl=5),
        "many-a-cut": pair(q_a_plain, reply_to(q_a_plain, an=b"".join(
            rr(PTR_Q, A, bytes([10, 0, i // 256, i % 256])) for i in range(60)), nan=60), ctl=7),
        "a-after-txt": pair(q_a, reply_to(q_a, an=rr(PTR_Q, TXT, b"\x03abc")
                                          + rr(PTR_Q, A, bytes([9, 9, 9, 9]), rclass=CH)
                                          + rr(PTR_Q, A, bytes([8, 8, 8, 8])), nan=3)),
        "a-bad-rdlen": pair(q_a, reply_to(q_a, an=rr(PTR_Q, A, bytes(5)), nan=1)),
        "pointer-loop": pair(q_a, reply_to(q_a, an=b"\xc0\x1d" + b"\xc0\x1b"
                                           + struct.pack(">HHIH", A, IN, 1, 4) + bytes(4),
                                           nan=1)),
        "wrong-id": pair(q_a, reply_to(q_a, id_=0x0bad, an=rr(PTR_Q, A, bytes(4)), nan=1), ctl=0),
        "wrong-name": pair(q_a, reply_to(q_a, qname="www.example.org"), ctl=1),
        "not-a-reply": pair(q_a, q_a, ctl=1),
        "qdcount0": pair(q_a, header(0x1a2b, R_OK, 0, 1) + rr(name("www.example.com"), A,
                                                              bytes(4))),
        "cut-answer": pair(q_a, reply_to(q_a, an=rr(PTR_Q, A, bytes(4)), nan=1)[:-2]),
        "header-only": pair(q_a, header(0x1a2b, R_OK, 0)),
        "empty-reply": pair(q_a, b""),
    }
    for k, v in seeds.items():
        write("fuzz_reply", k, v)


# ---- fuzz_config -----------------------------------------------------------------------------

CONFIGS = {
    "empty-map": "{}\n",
    "empty": "",
    "null": "~\n",
    "list-top": "- listen\n",
    "minimal": 'upstreams: ["192.0.2.1"]\nblocklists: [bl.yaml]\n',
    "all-keys": """listen: ["0.0.0.0:5300", "[::]:5300"]
upstreams: ["192.0.2.1:53", "[2001:db8::53]:5353", 198.51.100.1]
upstream_timeout_ms: 60000
workers: 256
blocklists: [blocklist.yaml, /etc/sinkholed/extra.yaml, feeds/threatfox.txt, hosts.list]
sinkhole:
  mode: nxdomain
  ipv4: 192.0.2.66
  ipv6: "2001:db8::66"
  ttl: 604800
  min_confidence: 100
access:
  allow: [0.0.0.0/0, "::/0", 192.0.2.1, "2001:db8::1"]
block_log:
  path: "-"
  dvc: "dns-1.example"
log_level: debug
""",
    "modes": "sinkhole: {mode: nodata, ttl: 0}\nupstreams: [192.0.2.1]\n",
    "refused": "sinkhole:\n  mode: refused\nupstreams: [192.0.2.1]\n",
    "empty-sections": "sinkhole:\naccess:\nblock_log:\nupstreams: [192.0.2.1]\n",
    "empty-allow": "access: {allow: []}\nupstreams: [192.0.2.1]\n",
    "typo": "listne: [\"127.0.0.1:53\"]\nupstream_timeout: 10\nsinkhole: {mdoe: address}\n",
    "bad-values": """listen: ["127.0.0.1:99999", "[::1", "host.example:53"]
upstreams: []
upstream_timeout_ms: 9
workers: -1
blocklists: [""]
sinkhole: {mode: blackhole, ipv4: 0.0.0.256, ipv6: "1::2::3", ttl: 0x10, min_confidence: 101}
access: {allow: [10.0.0.1/8, "fe80::/129", 300.1.1.1]}
block_log: {path: "", dvc: [x]}
log_level: trace
""",
    "loop": 'listen: ["127.0.0.1:53"]\nupstreams: ["127.0.0.1:53", "127.0.0.1"]\n',
    "loop-any": 'listen: ["0.0.0.0:53"]\nupstreams: ["127.0.0.53"]\n',
    "dups": "workers: 1\nworkers: 2\nupstreams: [192.0.2.1, 192.0.2.1:53]\n"
            "blocklists: [a.yaml, ./a.yaml, a.yaml]\n",
    "anchors": "upstreams: &u [192.0.2.1]\nlisten: *u\nsinkhole: &s {ttl: 5}\naccess: *s\n",
    "self-alias": "&a {sinkhole: *a, upstreams: [192.0.2.1]}\n",
    "multi-doc": "upstreams: [192.0.2.1]\n---\nworkers: 2\n",
    "syntax-error": "listen: [\"127.0.0.1:53\"\nworkers: 1\n",
    "tab-indent": "sinkhole:\n\tmode: address\n",
    "bad-utf8": "block_log: {dvc: \"\xff\xfe\"}\n",
    "nul-key": "work\0ers: 1\n",
    "nul-value": "block_log: {dvc: \"a\\0b\"}\nupstreams: [192.0.2.1]\n",
    "tags": "workers: !!int 4\nupstreams: !!seq [192.0.2.1]\n",
    "map-keys": "? [a, b]\n: 1\n{x: 1}: 2\n",
    "long-dvc": "block_log: {dvc: \"" + "d" * 300 + "\"}\nupstreams: [192.0.2.1]\n",
    "dvc-escapes": "block_log: {dvc: \"d\\\"v\\\\c\\x01\\u00e9\\U0001F600\"}\n"
                   "upstreams: [192.0.2.1]\n",
    "cache": "cache:\n  enabled: true\n  size: 64M\n  min_ttl: 0\n  max_ttl: 86400\n"
             "  negative_ttl_max: 3600\nupstreams: [192.0.2.1]\n",
    "cache-edges": "cache: {enabled: false, size: 64K, min_ttl: 86400, max_ttl: 1, "
                   "negative_ttl_max: 0}\nupstreams: [192.0.2.1]\n",
    "cache-bad": "cache: {enabled: yes, size: 64T, min_ttl: -1, max_ttl: 0, "
                 "negative_ttl_max: 86401, bogus: 1}\n",
    "cache-sizes": "cache: {size: 1073741824}\n---\ncache: {size: 16G}\n",
    "rate-tcp-user": "rate_limit: {qps: 100, burst: 0, ipv4_prefix: 24, ipv6_prefix: 48, "
                     "action: drop}\ntcp: {idle_timeout_ms: 1000, read_timeout_ms: 500, "
                     "max_connections: 10, max_per_client: 2}\nupstream_max_pending: 1\n"
                     "user: nobody\nallow_root: true\nupstreams: [192.0.2.1]\n",
    "rate-tcp-bad": "rate_limit: {qps: -1, ipv4_prefix: 33, ipv6_prefix: 129, action: block}\n"
                    "tcp: {idle_timeout_ms: 0, max_connections: 0}\nuser: \"\"\n"
                    "allow_root: maybe\n",
    "bom-crlf": "\ufeffupstreams: [192.0.2.1]\r\nworkers: 3\r\n",
}


# ---- fuzz_ipset ------------------------------------------------------------------------------

def ipset_seeds():
    """[n][n x (ctl, address)][message]: nested v4 and v6 prefixes, then an answer holding
    listed, allowed and clean addresses."""
    def v4(bits, addr):
        return bytes([bits]) + socket.inet_pton(socket.AF_INET, addr)

    def v6(bits, addr):
        return bytes([0x80 | bits]) + socket.inet_pton(socket.AF_INET6, addr)

    prefixes = [v4(24, "192.0.2.0"), v4(32, "192.0.2.7"), v4(25, "192.0.2.128"),
                v6(32, "2001:db8::"), v6(128, "2001:db8::1"), v6(48, "2001:db8:1::"),
                v4(0, "0.0.0.0"), v4(8, "10.0.0.0"), v6(0, "::")]
    q = query("www.example.com", edns=opt(1232))
    ans = (rr(PTR_Q, CNAME, name("cdn.example.net")) + rr(PTR_Q, A, bytes([198, 51, 100, 1])) +
           rr(PTR_Q, A, bytes([192, 0, 2, 7])) + rr(PTR_Q, A, bytes([192, 0, 2, 200])) +
           rr(PTR_Q, AAAA, socket.inet_pton(socket.AF_INET6, "2001:db8::1")))
    msg = reply_to(q, an=ans, nan=5)
    write("fuzz_ipset", "nested", bytes([len(prefixes[:6])]) + b"".join(prefixes[:6]) + msg)
    write("fuzz_ipset", "edges", bytes([len(prefixes)]) + b"".join(prefixes) + msg)
    write("fuzz_ipset", "empty-set", bytes([0]) + msg)
    write("fuzz_ipset", "cut-answer", bytes([3]) + b"".join(prefixes[:3]) + msg[:-9])
    q6 = query("six.example", AAAA)
    mapped = reply_to(q6, an=rr(PTR_Q, AAAA, bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 7])),
                      nan=1)
    write("fuzz_ipset", "v4-mapped", bytes([2]) + v6(0, "::") + v4(24, "192.0.2.0") + mapped)


def config_seeds():
    for f in ("sinkholed.yaml", "dev.yaml"):
        with open(os.path.join(TOP, "conf", f), "rb") as fh:
            write("fuzz_config", "conf-" + f, fh.read())
    for k, v in CONFIGS.items():
        write("fuzz_config", k + ".yaml", v.encode("utf-8", "surrogateescape")
              if "\xff" not in v else v.encode("latin-1"))


# ---- fuzz_list_<format> -------------------------------------------------------------------------

def bl(fmt, min_conf_step, text):
    """ctl byte: min_confidence in bits 3-7 (step 0..63 halved); the format is the target's
    own (fmt is kept in the seed's file name only)."""
    return bytes([(min_conf_step >> 1) << 3]) + (text.encode() if isinstance(text, str)
                                                   else text)


BLOCKLISTS = {
    "allow-block": (0, 0, """allow:
  - updates.example.com
  - Safe.Example.NET.
block:
  - evil.example
  - notevil.example
  - a.b.c.evil.example
  - updates.example.com
  - domain: phish.example
    threat_type: phishing
    action: log
    expires: 2026-12-31
    id: "1234567"
    reference: https://threatfox.abuse.ch/ioc/1234567/
"""),
    "group-fields-after": (0, 0, """block:
  - domains:
      - c2.example
      - { domain: www.c2.example, confidence: 10, first_seen: 2026-05-01T12:30:00Z }
      - domain: old.c2.example
        expires: 2020-01-01
    malware: "Agent Tesla \\u00e9\\U0001F600"
    threat_type: botnet_cc
    source: ThreatFox
    confidence: 80
"""),
    "min-confidence": (0, 32, """block:
  - {domain: low.example, confidence: 5}
  - {domain: high.example, confidence: 99}
  - {domain: exact.example, confidence: 50}
"""),
    "expiry": (0, 0, """block:
  - {domain: past.example, expires: 2026-05-31}
  - {domain: today.example, expires: 2026-06-01}
  - {domain: soon.example, expires: "2026-06-01T00:00:00.5Z"}
  - {domain: offset.example, expires: "2026-06-01T01:00:00+01:00"}
  - {domain: west.example, expires: "2026-05-31T23:59:59-00:01"}
  - {domain: leap.example, first_seen: 2024-02-29, expires: 9999-12-31}
  - {domain: bad.example, expires: 2026-02-29}
  - {domain: sub.past.example}
"""),
    "duplicates": (0, 0, """block:
  - {domain: dup.example, malware: A, confidence: 10}
  - {domain: DUP.example., threat_type: x}
  - dup.example
  - malware: G
    domains: [dup.example, dup.example]
allow: [a.example, a.example]
"""),
    "escapes": (0, 0, r"""block:
  - "a\\046b.example"
  - "quote\\\"d.example"
  - 'back\\\\slash.example'
  - "tab\\009.example"
  - "\\255\\000x.example"
  - "dot\\.in.label"
"""),
    "invalid-names": (0, 0, """block:
  - ""
  - .
  - .leading.example
  - double..dot
  - "*.wild.example"
  - "caf\u00e9.example"
  - "sp ace.example"
  - "bad\\\\escape\\\\2"
  - """ + "x" * 64 + """.example
  - """ + ".".join(["y" * 63] * 5) + """
"""),
    "wrong-types": (0, 0, """allow: {a: b}
block:
  - [nested, list]
  - {domain: [a], confidence: "50", first_seen: yesterday, action: drop}
  - {domains: x.example}
  - {domain: a.example, domains: [b.example]}
  - {malware: no-domain}
  - {domain: c.example, bogus: 1, confidence: -1, action: ~}
  - domains:
      - {domains: [nested.example]}
""", ),
    "aliases": (0, 0, """x: &g {malware: M, domains: [a.example]}
block:
  - *g
  - &d b.example
  - *d
"""),
    "top-errors": (0, 0, "- just\n- a list\n"),
    "multi-doc": (0, 0, "block: [a.example]\n---\nblock: [b.example]\n"),
    "syntax": (0, 0, "block:\n  - a.example\n - b.example\n"),
    "empty": (0, 0, ""),
    "null": (1, 0, "allow:\nblock:\n"),
    "long-strings": (0, 0, "block:\n  - domain: l.example\n    malware: \"" + "\\u00e9" * 700
                     + "\"\n    source: \"" + "\\x01\\\"" * 400 + "\"\n    reference: \""
                     + "r" * 3000 + "\"\n"),
    # Plain-text feeds
    "txt-plain": (2, 0, "# ThreatFox domains\nwww.mobile1.com\nspapro.co.com\n\n  moocow.my  \n"
                  "www.shbet.id # trailing comment\nhash#inside.example\n"),
    "txt-hosts": (2, 0, "127.0.0.1 localhost\n::1 ip6-localhost ip6-loopback\n"
                  "0.0.0.0 0.0.0.0\n0.0.0.0 ads.example.com\n127.0.0.1\tTracker.Example.NET.\n"
                  "255.255.255.255 broadcasthost\n:: tracker6.example\n"),
    "txt-crlf": (2, 0, "a.example\r\nb.example\r\n\r\n#c\r\n"),
    "txt-invalid": (2, 0, "double..dot\n*.wild.example\nx\\\nfoo bar\n" + "z" * 70 + ".example\n"
                    "\x00nul.example\ncaf\xc3\xa9.example\n"),
    "txt-no-newline": (2, 0, "last.example"),
    "list-plain": (3, 10, "one.example\ntwo.example\n"),
    "list-hosts": (3, 0, "0.0.0.0 x.example\n0.0.0.0 y.example # ad\n"),
    "txt-yaml": (2, 0, "block:\n  - a.example\n"),
    "yaml-text": (0, 0, "a.example\nb.example\n"),
}


def blocklist_seeds():
    with open(os.path.join(TOP, "conf", "blocklist.yaml"), "rb") as fh:
        shipped = fh.read()
    write("fuzz_list", "conf-blocklist.yaml", bl(0, 0, shipped))
    write("fuzz_list", "conf-blocklist-min75.yaml", bl(0, 48, shipped))
    uncommented = b"\n".join(l.replace(b"# ", b"", 1) if l.startswith(b"  # -") or
                             l.startswith(b"  #  ") else l for l in shipped.split(b"\n"))
    write("fuzz_list", "conf-blocklist-uncommented.yaml", bl(0, 0, uncommented))
    for k, (fmt, step, text) in BLOCKLISTS.items():
        ext = ".txt" if fmt == 2 else ".list" if fmt == 3 else ".yaml"
        write("fuzz_list", k + ext, bl(fmt, step, text))


# ---- dictionaries -----------------------------------------------------------------------------

def dicts():
    d = os.path.join(HERE, "dict")
    os.makedirs(d, exist_ok=True)
    dns = [
        ("opt_rr", b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"),
        ("opt_do", b"\x00\x00\x29\x10\x00\x00\x00\x80\x00"),
        ("opt_v1", b"\x00\x00\x29\x02\x00\x00\x01\x00\x00"),
        ("ede", b"\x00\x0f\x00\x02\x00\x0f"), ("cookie", b"\x00\x0a\x00\x08"),
        ("ptr_q", b"\xc0\x0c"), ("a_in", b"\x00\x01\x00\x01"), ("aaaa_in", b"\x00\x1c\x00\x01"),
        ("soa_in", b"\x00\x06\x00\x01"), ("any_in", b"\x00\xff\x00\x01"),
        ("cname_in", b"\x00\x05\x00\x01"), ("ttl_rdlen4", b"\x00\x00\x01\x2c\x00\x04"),
        ("rdlen16", b"\x00\x10"), ("qd1", b"\x00\x01\x00\x00\x00\x00\x00\x00"),
        ("qd1_ar1", b"\x00\x01\x00\x00\x00\x00\x00\x01"), ("flags_reply", b"\x81\x80"),
        ("flags_tc", b"\x83\x80"), ("flags_nx", b"\x81\x83"), ("root", b"\x00"),
        ("com", b"\x03com\x00"), ("label63", b"\x3f"),
    ]
    with open(os.path.join(d, "dns.dict"), "w") as f:
        f.write("# DNS wire fragments (fuzz_query, fuzz_reply)\n")
        for k, v in dns:
            f.write('%s="%s"\n' % (k, "".join("\\x%02x" % b for b in v)))
    cfg = ["rate_limit", "qps", "burst", "ipv4_prefix", "ipv6_prefix", "drop", "tcp",
           "idle_timeout_ms", "read_timeout_ms", "max_connections", "max_per_client",
           "upstream_max_pending", "user", "allow_root", "cache", "enabled", "size", "min_ttl", "max_ttl", "negative_ttl_max", "64M", "64K",
           "16G", "true", "false", "listen", "upstreams", "upstream_timeout_ms", "workers", "blocklists", "sinkhole",
           "mode", "address", "nxdomain", "nodata", "refused", "ipv4", "ipv6", "ttl",
           "min_confidence", "access", "allow", "block_log", "path", "dvc", "log_level",
           "debug", "info", "warn", "error", "127.0.0.1:53", "[::1]:53", "0.0.0.0", "::",
           "10.0.0.0/8", "\"fc00::/7\"", "::ffff:", "/128", "/32", ": ", "\n  ", "- ", "[", "]",
           "{", "}", "\"", "'", "&a ", "*a", "---", "...", "!!str ", "~", "null", "? ", "#",
           "\\u00e9", "\\x00"]
    bl = ["allow", "block", "domain", "domains", "malware", "threat_type", "source",
          "confidence", "first_seen", "expires", "action", "id", "reference", "block", "log",
          "2026-05-27", "2026-12-31T18:00:00Z", "2026-06-01T00:00:00.5+01:00", "T", "Z",
          ".example", "xn--", "\\046", "\\.", "*.", "0.0.0.0 ", "127.0.0.1 ", ":: ", "::1 ",
          "localhost", "broadcasthost", " # ", "\r\n", ": ", "\n  - ", "- ", "{", "}", "[",
          "]", "~", "&a ", "*a", "---"]
    for fname, words, what in (("config.dict", cfg, "config keys and values (fuzz_config)"),
                               ("blocklist.dict", bl,
                                "blocklist keys and values (fuzz_list_<format>)")):
        with open(os.path.join(d, fname), "w") as f:
            f.write("# %s\n" % what)
            for w in words:
                f.write('"%s"\n' % "".join(
                    c if 0x20 <= ord(c) < 0x7f and c not in '"\\' else
                    "".join("\\x%02x" % b for b in c.encode()) for c in w))


def main():
    query_seeds()
    reply_seeds()
    ipset_seeds()
    config_seeds()
    blocklist_seeds()
    dicts()
    for t in sorted(os.listdir(CORPUS)):
        print("%-16s %d files" % (t, len(os.listdir(os.path.join(CORPUS, t)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
