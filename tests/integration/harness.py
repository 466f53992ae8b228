# SPDX-License-Identifier: MIT
"""Shared helpers for sinkholed's integration tests (Python 3 stdlib only).

Like Unbound's tdir tests: pick random loopback ports, start ldns-testns as a canned upstream
and the real daemon with a templated config, query them with dig and with raw packets, and
stop everything we started by PID. Every wait is bounded. Traffic stays on 127.0.0.1 / ::1.

A test script builds a list of test functions and calls run_tests(); see test_resolve.py.
"""

import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = Path(os.environ.get("SINKHOLED_SRC") or HERE.parent.parent)

# Record types and rcodes the tests use.
T_A, T_NS, T_SOA, T_MX, T_TXT, T_AAAA, T_OPT = 1, 2, 6, 15, 16, 28, 41
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, BADVERS = 0, 1, 2, 3, 4, 5, 16
OP_QUERY, OP_IQUERY, OP_STATUS, OP_NOTIFY, OP_UPDATE = 0, 1, 2, 4, 5
EDE_BLOCKED = 15
OPT_EDE = 15  # EDNS option code of Extended DNS Errors (RFC 8914)

# Sanitizer and crash markers that must never appear in the daemon's stderr.
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                     "UndefinedBehaviorSanitizer", "Segmentation fault")


# Optional: a command that prefixes the daemon's command line, e.g. (tests/reliability/valgrind.sh)
#   SINKHOLED_WRAPPER="valgrind --error-exitcode=99 --leak-check=full ..."
# A valgrind wrapper logs to valgrind-NAME-PID.log in the test's temp dir (unless the wrapper
# names a --log-file), and those logs are checked like sanitizer reports: any error or
# definite/indirect leak fails the script. SINKHOLED_SLOW multiplies the harness's own waits
# for the daemon to start and stop (default 10 with a wrapper, else 1); the tests' own timing
# assertions are unchanged.
WRAPPER = shlex.split(os.environ.get("SINKHOLED_WRAPPER", ""))
SLOW = float(os.environ.get("SINKHOLED_SLOW") or (10 if WRAPPER else 1))
VALGRIND_BAD = re.compile(r"ERROR SUMMARY: [1-9][\d,]* errors|(definitely|indirectly) lost: "
                          r"[1-9][\d,]* bytes|Process terminating with default action")


def _valgrind_wrapper():
    return bool(WRAPPER) and os.path.basename(WRAPPER[0]) == "valgrind"


def wrap_argv(argv, logdir, name):
    """argv prefixed with $SINKHOLED_WRAPPER (unchanged without one)."""
    if not WRAPPER:
        return list(argv)
    w = list(WRAPPER)
    if _valgrind_wrapper() and not any(a.startswith("--log-file") for a in w):
        w.insert(1, f"--log-file={Path(logdir) / f'valgrind-{name}-%p.log'}")
    return w + list(argv)


def sinkholed_bin():
    """The daemon under test: $SINKHOLED_BIN, else <repo>/build/sinkholed."""
    return os.environ.get("SINKHOLED_BIN") or str(REPO / "build" / "sinkholed")


# ----------------------------------------------------------------------------------------
# Assertions that show both operands (plain assert is stripped under -O).

def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(got, want, what):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def wait_until(pred, timeout, interval=0.05, what="condition"):
    """Poll pred() until it returns a true value (returned) or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        val = pred()
        if val:
            return val
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


# ----------------------------------------------------------------------------------------
# Ports and addresses.

_ipv6_ok = None


def ipv6_loopback_ok():
    """True when ::1 can be bound (not every container has IPv6 loopback)."""
    global _ipv6_ok
    if _ipv6_ok is None:
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
                s.bind(("::1", 0))
            _ipv6_ok = True
        except OSError:
            _ipv6_ok = False
    return _ipv6_ok


def _port_free(port, families):
    socks = []
    try:
        for fam, host in families:
            for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(fam, typ)
                socks.append(s)
                if fam == socket.AF_INET6:
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


def free_port(ipv6=None):
    """A random port free on 127.0.0.1 (and ::1 when ipv6) for both UDP and TCP."""
    if ipv6 is None:
        ipv6 = ipv6_loopback_ok()
    fams = [(socket.AF_INET, "127.0.0.1")]
    if ipv6:
        fams.append((socket.AF_INET6, "::1"))
    for _ in range(50):
        # Let the kernel pick from its ephemeral range, then check the other protocol too.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if _port_free(port, fams):
            return port
    raise RuntimeError("no free loopback port found in 50 tries")


def black_hole():
    """A bound UDP socket that the test holds and never answers from: (socket, port)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


# ----------------------------------------------------------------------------------------
# DNS wire format: building queries, parsing answers.

def name_to_wire(name):
    """Presentation name (no escapes) to wire form, letter case kept."""
    name = name.rstrip(".")
    out = b""
    if name:
        for label in name.split("."):
            raw = label.encode("ascii")
            out += bytes([len(raw)]) + raw
    return out + b"\x00"


def opt_rr(udp=1232, version=0, do=False, ext_rcode=0, options=()):
    """An OPT pseudo-RR for the additional section."""
    rdata = b"".join(struct.pack("!HH", code, len(data)) + data for code, data in options)
    ttl = (ext_rcode << 24) | (version << 16) | (0x8000 if do else 0)
    return b"\x00" + struct.pack("!HHIH", T_OPT, udp, ttl, len(rdata)) + rdata


def header(qid, flags=0x0100, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def make_flags(qr=False, opcode=0, aa=False, tc=False, rd=True, ra=False, ad=False, cd=False,
               rcode=0):
    return ((qr << 15) | (opcode << 11) | (aa << 10) | (tc << 9) | (rd << 8) | (ra << 7)
            | (ad << 5) | (cd << 4) | rcode)


def build_query(name, qtype=T_A, qid=None, edns=None, qclass=1, **flag_kw):
    """A standard query. edns: None for none, else a dict of opt_rr() arguments."""
    if qid is None:
        qid = random.randrange(0x10000)
    ar = 0 if edns is None else 1
    pkt = header(qid, make_flags(**flag_kw), 1, 0, 0, ar)
    pkt += name_to_wire(name) + struct.pack("!HH", qtype, qclass)
    if edns is not None:
        pkt += opt_rr(**edns)
    return pkt


class ParseError(Exception):
    pass


def _read_name(msg, off):
    """Decode a (possibly compressed) name at off: (presentation name, offset after it)."""
    labels = []
    end = None
    for _ in range(128):  # bounded: no pointer loops
        if off >= len(msg):
            raise ParseError("name runs past the end")
        ln = msg[off]
        if ln & 0xC0 == 0xC0:
            if off + 1 >= len(msg):
                raise ParseError("cut pointer")
            if end is None:
                end = off + 2
            off = ((ln & 0x3F) << 8) | msg[off + 1]
            continue
        if ln & 0xC0:
            raise ParseError("reserved label type")
        if ln == 0:
            name = ".".join(labels) + "."
            return name, (end if end is not None else off + 1)
        if off + 1 + ln > len(msg):
            raise ParseError("cut label")
        labels.append(msg[off + 1:off + 1 + ln].decode("latin-1"))
        off += 1 + ln
    raise ParseError("compression loop")


class Msg:
    """A parsed DNS message. rcode includes the OPT's extended bits when there is one."""

    def __init__(self, data):
        if len(data) < 12:
            raise ParseError("short header")
        (self.id, self.flags, qd, an, ns, ar) = struct.unpack("!HHHHHH", data[:12])
        self.raw = data
        self.qr = bool(self.flags & 0x8000)
        self.opcode = (self.flags >> 11) & 0xF
        self.aa = bool(self.flags & 0x0400)
        self.tc = bool(self.flags & 0x0200)
        self.rd = bool(self.flags & 0x0100)
        self.ra = bool(self.flags & 0x0080)
        self.ad = bool(self.flags & 0x0020)
        self.cd = bool(self.flags & 0x0010)
        self.counts = (qd, an, ns, ar)
        off = 12
        self.question = []
        for _ in range(qd):
            name, off = _read_name(data, off)
            if off + 4 > len(data):
                raise ParseError("cut question")
            qtype, qclass = struct.unpack("!HH", data[off:off + 4])
            off += 4
            self.question.append((name, qtype, qclass))
        self.answer, off = self._rrs(data, off, an)
        self.authority, off = self._rrs(data, off, ns)
        self.additional, off = self._rrs(data, off, ar)
        self.trailing = len(data) - off
        opts = [rr for rr in self.additional if rr[1] == T_OPT]
        self.n_opt = len(opts)
        self.opt = None
        self.rcode = self.flags & 0xF
        if opts:
            name, _, udp, ttl, rdata = opts[0]
            self.opt = {"udp": udp, "ext_rcode": ttl >> 24, "version": (ttl >> 16) & 0xFF,
                        "do": bool(ttl & 0x8000), "options": _opt_options(rdata)}
            self.rcode |= (ttl >> 24) << 4

    @staticmethod
    def _rrs(data, off, count):
        rrs = []
        for _ in range(count):
            name, off = _read_name(data, off)
            if off + 10 > len(data):
                raise ParseError("cut RR header")
            rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", data[off:off + 10])
            off += 10
            if off + rdlen > len(data):
                raise ParseError("cut RDATA")
            # OPT keeps its class (UDP size) in the class slot; others as (name, type, class, ttl, rdata)
            rrs.append((name, rtype, rclass, ttl, data[off:off + rdlen]))
            off += rdlen
        return rrs, off

    def ede_codes(self):
        """INFO-CODEs of the Extended DNS Error options in the OPT record."""
        if not self.opt:
            return []
        return [struct.unpack("!H", d[:2])[0] for c, d in self.opt["options"]
                if c == OPT_EDE and len(d) >= 2]

    def addresses(self):
        """A and AAAA addresses of the answer section, as text."""
        out = []
        for _, rtype, _, _, rdata in self.answer:
            if rtype == T_A:
                out.append(socket.inet_ntop(socket.AF_INET, rdata))
            elif rtype == T_AAAA:
                out.append(socket.inet_ntop(socket.AF_INET6, rdata))
        return out


def _opt_options(rdata):
    opts, off = [], 0
    while off + 4 <= len(rdata):
        code, ln = struct.unpack("!HH", rdata[off:off + 4])
        opts.append((code, rdata[off + 4:off + 4 + ln]))
        off += 4 + ln
    return opts


def udp_exchange(port, pkt, timeout=2.0, host="127.0.0.1", sock=None):
    """Send pkt over UDP and return the first reply with the same ID (bytes), or None."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    own = sock is None
    s = sock or socket.socket(fam, socket.SOCK_DGRAM)
    try:
        s.sendto(pkt, (host, port))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            s.settimeout(left)
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                return None
            # A reply to an earlier, timed-out query on a shared socket is skipped.
            if len(pkt) < 2 or len(data) < 2 or data[:2] == pkt[:2]:
                return data
    finally:
        if own:
            s.close()


def tcp_frame(pkt):
    return struct.pack("!H", len(pkt)) + pkt


def _recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        s.settimeout(left)
        try:
            chunk = s.recv(n - len(buf))
        except socket.timeout:
            return None
        if not chunk:
            return None
        buf += chunk
    return buf


def tcp_read_msg(s, timeout=3.0):
    """Read one length-framed message from a connected TCP socket, or None."""
    deadline = time.monotonic() + timeout
    ln = _recv_exact(s, 2, deadline)
    if ln is None:
        return None
    return _recv_exact(s, struct.unpack("!H", ln)[0], deadline)


def tcp_exchange(port, pkt, timeout=3.0, host="127.0.0.1"):
    """Send pkt over a new TCP connection (framed) and return the reply bytes, or None."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect((host, port))
        s.sendall(tcp_frame(pkt))
        return tcp_read_msg(s, timeout)


def query(port, name, qtype=T_A, tcp=False, timeout=3.0, **kw):
    """Build a query, send it, return (query bytes, parsed reply or None)."""
    pkt = build_query(name, qtype, **kw)
    data = tcp_exchange(port, pkt, timeout) if tcp else udp_exchange(port, pkt, timeout)
    return pkt, (Msg(data) if data is not None else None)


# ----------------------------------------------------------------------------------------
# dig.

class DigResult:
    """What dig printed: status, flags, sections (lists of whitespace-split RR fields)."""

    def __init__(self, text):
        self.text = text
        m = re.search(r"->>HEADER<<- opcode: (\w+), status: (\w+), id: (\d+)", text)
        self.status = m.group(2) if m else None
        self.id = int(m.group(3)) if m else None
        m = re.search(r";; flags:([^;]*);", text)
        self.flags = set(m.group(1).split()) if m else set()
        self.sections = {}
        current = None
        for line in text.splitlines():
            m = re.match(r";; (\w+) SECTION:$", line)
            if m:
                current = self.sections.setdefault(m.group(1), [])
                continue
            if current is None:
                continue
            if not line.strip() or line.startswith(";;"):
                current = None
            elif m := re.match(r";(\S+)\s+(\S+)\s+(\S+)$", line):  # question line
                current.append(list(m.groups()))
            elif not line.startswith(";"):
                current.append(line.split())
        m = re.search(r"; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)", text)
        self.edns = ({"version": int(m.group(1)), "flags": set(m.group(2).split()),
                      "udp": int(m.group(3))} if m else None)
        self.ede = [int(c) for c in re.findall(r"; EDE: (\d+)", text)]

    def section(self, name):
        return self.sections.get(name, [])

    @property
    def question(self):
        return self.section("QUESTION")

    @property
    def answer(self):
        return self.section("ANSWER")

    @property
    def authority(self):
        return self.section("AUTHORITY")

    def rdatas(self, rtype=None):
        """The RDATA text of answer RRs (optionally of one type)."""
        return [" ".join(rr[4:]) for rr in self.answer if rtype is None or rr[3] == rtype]


def dig(port, name, qtype="A", tcp=False, edns=True, extra=(), host="127.0.0.1", timeout=3):
    """Run dig once (no retries) and parse its output. edns=False sends no OPT record."""
    cmd = ["dig", f"@{host}", "-p", str(port), "+tries=1", f"+time={timeout}", "+nocookie",
           "+tcp" if tcp else "+notcp", "+edns=0" if edns else "+noedns", *extra, name, qtype]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * 3 + 5)
    return DigResult(out.stdout + out.stderr)


# ----------------------------------------------------------------------------------------
# Files: config, blocklists, the upstream's data.

def _yaml_list(items):
    return "[" + ", ".join(json.dumps(str(i)) for i in items) + "]"


def write_config(dirpath, port, upstreams, blocklists=("blocklist.yaml",), *, name="sinkholed.yaml",
                 timeout_ms=1500, workers=1, allow=("127.0.0.0/8", "::1/128"),
                 mode="address", ipv4="0.0.0.0", ipv6="::", ttl=60, min_confidence=0,
                 block_log="blocked.jsonl", ipv6_listen=None, extra="", aggregate_ms=0):
    """Write a config listening on loopback:port; upstreams are ports on 127.0.0.1 (or
    "host:port" strings). Returns its path. block_log is relative to the config's dir.
    aggregate_ms sets block_log.aggregate_ms: 0 (one record per lookup, which the tests of
    other features check field by field) unless a test asks for more; None leaves the
    daemon's default (1000)."""
    if ipv6_listen is None:
        ipv6_listen = ipv6_loopback_ok()
    listen = [f"127.0.0.1:{port}"] + ([f"[::1]:{port}"] if ipv6_listen else [])
    ups = [u if isinstance(u, str) else f"127.0.0.1:{u}" for u in upstreams]
    text = (
        "# generated by tests/integration/harness.py\n"
        f"listen: {_yaml_list(listen)}\n"
        f"upstreams: {_yaml_list(ups)}\n"
        f"upstream_timeout_ms: {timeout_ms}\n"
        f"workers: {workers}\n"
        f"blocklists: {_yaml_list(blocklists)}\n"
        "sinkhole:\n"
        f"  mode: {mode}\n"
        f"  ipv4: {json.dumps(ipv4)}\n"
        f"  ipv6: {json.dumps(ipv6)}\n"
        f"  ttl: {ttl}\n"
        f"  min_confidence: {min_confidence}\n"
        "access:\n"
        f"  allow: {_yaml_list(allow)}\n"
        "block_log:\n"
        f"  path: {json.dumps(block_log)}\n"
        "  dvc: test-dvc\n"
        + (f"  aggregate_ms: {aggregate_ms}\n" if aggregate_ms is not None else "")
        + "log_level: debug\n"
        # The tests may run as root (CI): serve as root rather than switch users.
        "allow_root: true\n"
        + extra
    )
    path = Path(dirpath) / name
    path.write_text(text)
    return path


def write_file(path, text):
    """Write text (a blocklist, usually) atomically: a reload never sees half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


# The canned upstream zone. Each entry: (qname, qtype, rcode, answer RRs, authority RRs).
# ldns-testns answers only queries that match an entry (no reply otherwise), and copies the
# entry's question, so every name a test forwards is listed with its exact type.
SOA = "example.org. 300 IN SOA ns.example.org. host.example.org. 1 3600 600 86400 300"
BIG_TXT = [f'big.example.org. 300 IN TXT "{c * 200}"' for c in "abc"]  # ~700 bytes
HUGE_TXT = [f'huge.example.org. 300 IN TXT "{c * 200}"' for c in "abcdefgh"]  # ~1700 bytes
ZONE = [
    ("example.org.", "A", "NOERROR", ["example.org. 300 IN A 192.0.2.10"], []),
    ("www.example.org.", "A", "NOERROR", ["www.example.org. 300 IN A 192.0.2.11"], []),
    ("www.example.org.", "AAAA", "NOERROR", ["www.example.org. 300 IN AAAA 2001:db8::11"], []),
    ("mx.example.org.", "MX", "NOERROR", ["mx.example.org. 300 IN MX 10 mail.example.org."], []),
    ("nx.example.org.", "A", "NXDOMAIN", [], [SOA]),
    ("big.example.org.", "TXT", "NOERROR", BIG_TXT, []),
    ("huge.example.org.", "TXT", "NOERROR", HUGE_TXT, []),
    # Names that tests list, allow or monitor, so that a forwarded query has an answer.
    ("notevil.test.", "A", "NOERROR", ["notevil.test. 300 IN A 192.0.2.66"], []),
    ("ok.blocked.example.org.", "A", "NOERROR", ["ok.blocked.example.org. 300 IN A 192.0.2.20"], []),
    ("monitored.example.org.", "A", "NOERROR", ["monitored.example.org. 300 IN A 192.0.2.30"], []),
    ("gone.example.org.", "A", "NOERROR", ["gone.example.org. 300 IN A 192.0.2.40"], []),
    ("fresh.example.org.", "A", "NOERROR", ["fresh.example.org. 300 IN A 192.0.2.41"], []),
]


def testns_data(zone=ZONE):
    """ldns-testns datafile text for zone entries."""
    out = ["; generated by tests/integration/harness.py"]
    for qname, qtype, rcode, answer, authority in zone:
        out += ["ENTRY_BEGIN", "MATCH opcode qtype qname", "ADJUST copy_id",
                f"REPLY QR RD RA {rcode}", "SECTION QUESTION", f"{qname} IN {qtype}"]
        if answer:
            out += ["SECTION ANSWER"] + answer
        if authority:
            out += ["SECTION AUTHORITY"] + authority
        out.append("ENTRY_END")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------
# Processes.

class Proc:
    """A process we started, with stdout/stderr captured to files in the temp dir."""

    def __init__(self, name, argv, tmpdir, env=None, **popen_kw):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.out_path = Path(tmpdir) / f"{name}.stdout"
        self.err_path = Path(tmpdir) / f"{name}.stderr"
        self._out = open(self.out_path, "ab")
        self._err = open(self.err_path, "ab")
        self.popen = subprocess.Popen(self.argv, stdout=self._out, stderr=self._err,
                                      stdin=subprocess.DEVNULL, env=env, **popen_kw)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        """Exit code, or None if still running after timeout seconds."""
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=None):
        """SIGTERM, then SIGKILL after timeout (default 5 s x SLOW); returns the exit code."""
        if timeout is None:
            timeout = 5 * SLOW
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            if self.wait(timeout) is None:
                self.popen.kill()
                self.popen.wait(5)
        self._out.close()
        self._err.close()
        return self.popen.returncode

    def stderr(self):
        return self.err_path.read_text(errors="replace")

    def stdout(self):
        return self.out_path.read_text(errors="replace")


def _probe_packets():
    # Probes any sinkholed must answer at once without an upstream: NOTIMP for a NOTIFY and
    # FORMERR for QDCOUNT=0. Either reply means the UDP listener is up.
    return [header(random.randrange(0x10000), make_flags(opcode=OP_NOTIFY), 0),
            header(random.randrange(0x10000), make_flags(), 0)]


def wait_answering(port, proc=None, timeout=10.0, tcp=True):
    """Wait until something answers on 127.0.0.1:port over UDP (and accepts TCP)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise AssertionError(f"{proc.name} exited with {proc.popen.returncode} while "
                                 f"starting; stderr:\n{proc.stderr()}")
        if any(udp_exchange(port, p, 0.2) is not None for p in _probe_packets()):
            if not tcp:
                return
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise AssertionError(f"nothing answered on 127.0.0.1:{port} within {timeout} s")


class Env:
    """One test script's world: a temp dir and the processes started in it."""

    def __init__(self, prefix="sinkholed-it-"):
        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        self.procs = []
        self.daemons = []

    def path(self, *parts):
        return self.tmp.joinpath(*parts)

    def start_upstream(self, port=None, zone=ZONE, name="testns"):
        """ldns-testns on 127.0.0.1:port serving zone; waits until it answers. Returns (proc, port)."""
        if shutil.which("ldns-testns") is None:
            raise RuntimeError("ldns-testns not found: apt-get install ldnsutils")
        port = port or free_port(ipv6=False)
        data = self.path(f"{name}.data")
        data.write_text(testns_data(zone))
        proc = Proc(name, ["ldns-testns", "-p", port, data], self.tmp)
        self.procs.append(proc)
        # testns answers only listed names: probe with the first entry.
        qname, qtype = zone[0][0], zone[0][1]
        qt = {"A": T_A, "AAAA": T_AAAA, "MX": T_MX, "TXT": T_TXT}[qtype]

        def up():
            if not proc.alive():
                raise AssertionError(f"ldns-testns exited: {proc.stderr()}")
            return udp_exchange(port, build_query(qname, qt), 0.2) is not None
        wait_until(up, 10, what=f"ldns-testns on port {port}")
        return proc, port

    def run_daemon(self, argv, timeout=15):
        """Run sinkholed to completion (CLI checks): CompletedProcess with text output."""
        cmd = wrap_argv([sinkholed_bin(), *map(str, argv)], self.tmp, "cli")
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout * SLOW,
                              stdin=subprocess.DEVNULL)

    def start_daemon(self, config, port, name="sinkholed", wait=True):
        """Start sinkholed -c config; wait until it answers on port. Returns the Proc."""
        binp = sinkholed_bin()
        if not os.access(binp, os.X_OK):
            raise RuntimeError(f"no sinkholed binary at {binp} (set SINKHOLED_BIN)")
        proc = Proc(name, wrap_argv([binp, "-c", config], self.tmp, name), self.tmp)
        self.procs.append(proc)
        self.daemons.append(proc)
        if wait:
            wait_answering(port, proc, timeout=10.0 * SLOW)
        return proc

    def sanitizer_reports(self):
        """Lines of sanitizer reports in any daemon's stderr."""
        bad = []
        for d in self.daemons:
            for line in d.stderr().splitlines():
                if any(m in line for m in SANITIZER_MARKERS):
                    bad.append(f"{d.name}: {line}")
        if _valgrind_wrapper():
            bad += self._valgrind_reports()
        return bad

    def _valgrind_logs(self):
        return sorted(self.tmp.glob("valgrind-*.log"))

    def _valgrind_reports(self):
        """Errors and leaks in the valgrind logs; a daemon that exited without a summary
        (killed) or with the wrapper's --error-exitcode is a failure too."""
        bad = []
        for log in self._valgrind_logs():
            for line in log.read_text(errors="replace").splitlines():
                if VALGRIND_BAD.search(line):
                    bad.append(f"{log.name}: {line}")
        m = [a.split("=", 1)[1] for a in WRAPPER if a.startswith("--error-exitcode=")]
        for d in self.daemons:
            if d.popen.poll() is None:
                continue  # still running (a test may check midway): no summary yet
            log = self.tmp / f"valgrind-{d.name}-{d.pid}.log"
            if log.exists() and "ERROR SUMMARY:" not in log.read_text(errors="replace"):
                bad.append(f"{log.name}: no valgrind ERROR SUMMARY (killed before it exited?)")
            if m and d.popen.returncode is not None and str(d.popen.returncode) == m[0]:
                bad.append(f"{d.name}: exit code {d.popen.returncode} (valgrind found errors)")
        return bad

    def wrapper_summaries(self):
        """One line per valgrind log: its error summary and leak totals."""
        out = []
        for log in self._valgrind_logs():
            text = log.read_text(errors="replace")
            errs = re.findall(r"ERROR SUMMARY: ([\d,]+) errors", text)
            leaks = {k: re.findall(rf"{k} lost: ([\d,]+) bytes", text)
                     for k in ("definitely", "indirectly", "possibly")}
            freed = "All heap blocks were freed" in text
            out.append(f"valgrind {log.name}: ERROR SUMMARY: {errs[-1] if errs else '?'} errors"
                       + ("; all heap blocks freed" if freed else
                          "".join(f"; {k} lost: {v[-1] if v else 0} bytes"
                                  for k, v in leaks.items())))
        return out

    def stop_all(self):
        """Stop every process we started, newest first. Returns {name: exit code}."""
        codes = {}
        for p in reversed(self.procs):
            codes[p.name] = p.stop()
        return codes

    def dump(self):
        """Debugging aid printed on failure: where the files are, and the daemons' stderr."""
        print(f"temp dir: {self.tmp}" + ("" if os.environ.get("KEEP_TMP") else
                                          " (set KEEP_TMP=1 to keep it)"))
        for d in self.daemons:
            print(f"---- {d.name} stderr (pid {d.pid}) ----")
            print(d.stderr()[-8000:])

    def cleanup(self):
        if os.environ.get("KEEP_TMP"):
            print(f"kept temp dir {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


# ----------------------------------------------------------------------------------------
# Block log.

def read_log(path):
    """Parsed JSON lines of a block log (missing file: []). Every line must be whole JSON."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        return []
    lines = []
    for i, line in enumerate(text.splitlines(keepends=True), 1):
        if not line.endswith("\n"):
            break  # the writer may be mid-line; the contract is checked once it completes
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise AssertionError(f"{path}:{i}: not JSON ({e}): {line!r}")
    return lines


def udp_drops(port):
    """Datagrams the kernel dropped on the UDP sockets bound to port (full receive buffers):
    the last column of /proc/net/udp and udp6."""
    n = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) >= 13 and int(f[1].rsplit(":", 1)[1], 16) == port:
                n += int(f[-1])
    return n


def wait_log_line(path, timeout=5.0, **fields):
    """Poll the block log for a line whose fields equal the given values; return it."""
    def find():
        for rec in read_log(path):
            if all(rec.get(k) == v for k, v in fields.items()):
                return rec
        return None
    return wait_until(find, timeout, what=f"a block log line with {fields} in {path}")


# ----------------------------------------------------------------------------------------
# A tiny runner: named test functions, "N passed, N failed", exit status.

def run_tests(tests, env=None, setup=None):
    """Run test functions in order. setup() runs first (its failure fails everything).
    Afterwards every process is stopped and the daemons' stderr is checked for sanitizer
    reports (counted as one more test). Exits the script."""
    passed = failed = 0
    try:
        if setup:
            setup()
        for fn in tests:
            name = fn.__name__
            t0 = time.monotonic()
            try:
                fn()
                passed += 1
                print(f"ok   {name} ({time.monotonic() - t0:.2f} s)", flush=True)
            except Exception as e:  # a test's error is its failure, never the runner's
                failed += 1
                print(f"FAIL {name}: {e}", flush=True)
                if not isinstance(e, AssertionError):
                    traceback.print_exc(file=sys.stdout)
    except Exception as e:
        failed += 1
        print(f"FAIL setup: {e}", flush=True)
        traceback.print_exc(file=sys.stdout)
    finally:
        if env is not None:
            env.stop_all()
            if WRAPPER:
                for line in env.wrapper_summaries():
                    print(line, flush=True)
            reports = env.sanitizer_reports()
            if reports:
                failed += 1
                print("FAIL sanitizer_clean:\n  " + "\n  ".join(reports[:20]))
            elif env.daemons:
                passed += 1
                print("ok   sanitizer_clean")
            if failed:
                env.dump()
            env.cleanup()
    print(f"{passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)
