#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The command line contract (DESIGN.md section 2): --version, --help, unknown flags,
--check on valid and broken files (errors as FILE:LINE:COLUMN:), exit codes 0/1/2."""

import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

env = h.Env()

VALID_BLOCKLIST = """\
allow:
  - updates.example.com
  - ok.example.net
block:
  - malware: NanoCore RAT
    threat_type: botnet_cc
    source: ThreatFox
    confidence: 75
    domains:
      - { domain: www.mobile1.com, first_seen: 2026-05-27 }
      - moocow.my
      - c2.example.net
  - domain: evil.example
    threat_type: phishing
    action: log
  - domain: phish.example
  - domain: old.example
    expires: 2001-01-01
"""
# Active entries: www.mobile1.com, moocow.my, c2.example.net, evil.example (log),
# phish.example = 5; allow = 2; expired = 1 (old.example).

# Line 8, column 9: the bare string "bad..example" (an empty label) is the offending node.
BROKEN_BLOCKLIST = """\
block:
  - malware: NanoCore RAT
    threat_type: botnet_cc
    domains:
      - good.example
      - { domain: fine.example }
      - also-good.example
      - bad..example
"""

# Line 7, column 1: an unknown top-level key.
BROKEN_CONFIG_TAIL = "upstream_timeout: 1500\n"


def cli(*args, timeout=15):
    r = env.run_daemon(args, timeout=timeout)
    bad = [ln for ln in r.stderr.splitlines() if any(m in ln for m in h.SANITIZER_MARKERS)]
    check(not bad, "sanitizer report:\n" + "\n".join(bad[:20]))
    return r


def project_version():
    m = re.search(r"project\(sinkholed\s+VERSION\s+([0-9.]+)",
                  (h.REPO / "CMakeLists.txt").read_text())
    return m.group(1) if m else None


def write_valid(dirname, blocklist=VALID_BLOCKLIST, **cfg_kw):
    d = env.path(dirname)
    d.mkdir()
    h.write_file(d / "blocklist.yaml", blocklist)
    return h.write_config(d, h.free_port(), ["127.0.0.1:9"], **cfg_kw)


def test_version():
    r = cli("--version")
    eq(r.returncode, 0, "exit code of --version")
    ver = project_version()
    check(ver and ver in r.stdout, f"--version stdout {r.stdout!r} lacks version {ver}")


def test_help():
    r = cli("--help")
    eq(r.returncode, 0, "exit code of --help")
    check(re.search(r"usage", r.stdout, re.I), f"--help prints no usage: {r.stdout!r}")
    for opt in ("--config", "--check", "--version"):
        check(opt in r.stdout, f"--help does not mention {opt}")


def test_unknown_flag():
    r = cli("--bogus-flag")
    eq(r.returncode, 2, "exit code for an unknown flag")
    check("bogus-flag" in r.stderr, f"stderr does not name the flag: {r.stderr!r}")
    eq(r.stdout, "", "stdout for an unknown flag")


def test_check_valid():
    cfg = write_valid("valid")
    r = cli("-c", cfg, "--check")
    out = r.stdout + r.stderr
    eq(r.returncode, 0, f"exit code of --check on a valid config; output:\n{out}")
    # The summary gives, per list: its entries (5), allow entries (2), expired ones (1).
    lines = [ln for ln in out.splitlines() if "blocklist.yaml" in ln]
    check(lines, f"summary does not name the blocklist:\n{out}")
    for n, what in ((5, "block entries"), (2, "allow entries"), (1, "expired entries")):
        check(any(re.search(rf"\b{n}\b", ln) for ln in lines),
              f"the blocklist's summary line lacks its number of {what} ({n}):\n{out}")


def test_check_broken_blocklist_position():
    cfg = write_valid("badlist", blocklist=BROKEN_BLOCKLIST)
    r = cli("-c", cfg, "--check")
    eq(r.returncode, 2, "exit code of --check with a broken blocklist")
    check(re.search(r"(^|[\s/])blocklist\.yaml:8:9: ", r.stderr, re.M),
          f"stderr lacks 'blocklist.yaml:8:9: ':\n{r.stderr}")


def test_check_yaml_syntax_error():
    cfg = write_valid("yamlerr", blocklist="block:\n  - domain: [unclosed\n")
    r = cli("-c", cfg, "--check")
    eq(r.returncode, 2, "exit code for a YAML syntax error")
    check(re.search(r"blocklist\.yaml:\d+:\d+: ", r.stderr),
          f"stderr lacks 'blocklist.yaml:LINE:COLUMN: ':\n{r.stderr}")


def test_broken_config_unknown_key():
    d = env.path("badcfg")
    d.mkdir()
    h.write_file(d / "blocklist.yaml", VALID_BLOCKLIST)
    text = (f"listen: [\"127.0.0.1:{h.free_port()}\"]\n"
            "upstreams: [\"127.0.0.1:9\"]\n"
            "blocklists: [blocklist.yaml]\n"
            "block_log:\n"
            "  path: blocked.jsonl\n"
            "workers: 1\n" + BROKEN_CONFIG_TAIL)
    cfg = h.write_file(d / "sinkholed.yaml", text)
    for args in (("-c", cfg, "--check"), ("-c", cfg)):
        r = cli(*args)
        eq(r.returncode, 2, f"exit code of {' '.join(map(str, args))} with an unknown key")
        check(re.search(r"sinkholed\.yaml:7:1: .*upstream_timeout", r.stderr),
              f"stderr lacks 'sinkholed.yaml:7:1: ... upstream_timeout':\n{r.stderr}")


def test_missing_config_file():
    missing = env.path("nope", "sinkholed.yaml")
    r = cli("-c", missing, "--check")
    eq(r.returncode, 2, "exit code of --check with a missing config")
    check(str(missing) in r.stderr, f"stderr does not name the file: {r.stderr!r}")
    r = cli("-c", missing)
    eq(r.returncode, 2, "exit code of a start with a missing config")


def test_missing_blocklist_file():
    d = env.path("nolist")
    d.mkdir()
    cfg = h.write_config(d, h.free_port(), ["127.0.0.1:9"], blocklists=["absent.yaml"])
    r = cli("-c", cfg, "--check")
    eq(r.returncode, 2, "exit code with a missing blocklist")
    check("absent.yaml" in r.stderr, f"stderr does not name the blocklist: {r.stderr!r}")


def test_bind_failure_exits_1():
    cfg_dir = env.path("bind")
    cfg_dir.mkdir()
    h.write_file(cfg_dir / "blocklist.yaml", VALID_BLOCKLIST)
    # Hold the TCP port (without SO_REUSEPORT, so the daemon cannot share it).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        cfg = h.write_config(cfg_dir, port, ["127.0.0.1:9"], ipv6_listen=False)
        r = cli("-c", cfg, timeout=15)
    eq(r.returncode, 1, f"exit code when the port is taken; stderr:\n{r.stderr}")
    check(str(port) in r.stderr, f"stderr does not name the address: {r.stderr!r}")


def root_config(name, tail):
    """A config without `allow_root: true` (the harness adds it), plus tail."""
    d = env.path(name)
    d.mkdir()
    h.write_file(d / "blocklist.yaml", VALID_BLOCKLIST)
    port = h.free_port()
    cfg = h.write_config(d, port, ["127.0.0.1:9"], ipv6_listen=False)
    cfg.write_text(cfg.read_text().replace("allow_root: true\n", "") + tail)
    return cfg, port


def test_refuses_root_without_user():
    if os.geteuid() != 0:
        return  # only root can be refused
    cfg, _ = root_config("root", "")
    r = cli("-c", cfg)
    eq(r.returncode, 1, f"exit code as root without user/allow_root; stderr:\n{r.stderr}")
    check("refusing to serve as root" in r.stderr, f"stderr: {r.stderr!r}")


def test_switches_to_user_after_binding():
    if os.geteuid() != 0:
        return
    import pwd
    nobody = pwd.getpwnam("nobody").pw_uid
    cfg, port = root_config("user", "user: nobody\n")
    proc = env.start_daemon(cfg, port, name="sinkholed-user")
    status = open(f"/proc/{proc.pid}/status").read()
    uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.M).groups()
    eq(uids, (str(nobody),) * 3, "real, effective and saved uid after the switch")
    _, r = h.query(port, "www.mobile1.com")
    eq(r.addresses(), ["0.0.0.0"], "blocked name still answered after the switch")
    proc.signal(h.signal.SIGTERM)
    eq(proc.wait(5), 0, "exit code after SIGTERM")


if __name__ == "__main__":
    h.run_tests([v for k, v in list(globals().items()) if k.startswith("test_")], env=env)
