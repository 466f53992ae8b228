#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tiny DNS client for the bench (UDP to 127.0.0.1 only, no dependencies).

  dnsq.py wait PORT NAME MAXSEC [PID]
      ask `NAME A` every 10 ms until the answer holds A 0.0.0.0; print the seconds waited
      (exit 1 and print "timeout" / "exited" if MAXSEC passed or process PID is gone)
  dnsq.py query PORT NAME TYPE
      print "RCODE addr1 addr2 ..." (A/AAAA answers) or "timeout"
"""
import os
import random
import socket
import struct
import sys
import time

TYPES = {"A": 1, "AAAA": 28}
RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]


def build(name, qtype):
    qid = random.randrange(65536)
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return qid, struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", qtype, 1)


def skip_name(p, o):
    while True:
        n = p[o]
        if n == 0:
            return o + 1
        if n & 0xC0 == 0xC0:
            return o + 2
        o += n + 1


def parse(p, qid):
    rid, flags, qd, an = struct.unpack(">HHHH", p[:8])
    if rid != qid:
        return None
    o = 12
    for _ in range(qd):
        o = skip_name(p, o) + 4
    addrs = []
    for _ in range(an):
        o = skip_name(p, o)
        t, _c, _ttl, rdl = struct.unpack(">HHIH", p[o:o + 10])
        o += 10
        if t == 1 and rdl == 4:
            addrs.append(socket.inet_ntop(socket.AF_INET, p[o:o + 4]))
        elif t == 28 and rdl == 16:
            addrs.append(socket.inet_ntop(socket.AF_INET6, p[o:o + 16]))
        o += rdl
    rc = flags & 15
    return (RCODES[rc] if rc < len(RCODES) else str(rc)), addrs


def ask(port, name, qtype, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        qid, pkt = build(name, qtype)
        s.sendto(pkt, ("127.0.0.1", port))
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                data, _ = s.recvfrom(4096)
            except (socket.timeout, ConnectionRefusedError):
                return None
            r = parse(data, qid)
            if r:
                return r
        return None
    finally:
        s.close()


def main():
    cmd = sys.argv[1]
    if cmd == "wait":
        port, name, maxsec = int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
        pid = int(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else 0
        t0 = time.monotonic()
        while True:
            r = ask(port, name, 1, 0.2)
            if r and "0.0.0.0" in r[1]:
                print(f"{time.monotonic() - t0:.3f}")
                return 0
            if time.monotonic() - t0 > maxsec:
                print("timeout")
                return 1
            if pid and not os.path.exists(f"/proc/{pid}"):
                print("exited")
                return 1
            time.sleep(0.01)
    if cmd == "query":
        r = ask(int(sys.argv[2]), sys.argv[3], TYPES[sys.argv[4]], 2.0)
        print("timeout" if r is None else " ".join([r[0]] + r[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
