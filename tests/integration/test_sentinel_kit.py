#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Microsoft Sentinel kit (conf/sentinel/) against the daemon: every field the daemon
writes, and every field the README's block-log table names, is a column of the table and of
the DCR's stream with the same type; the ASIM parsers take the standard parameters, filter
nothing at their defaults and project only declared columns; every YAML and JSON file of the
kit parses; and records written by the real binary (blocked over UDP, TCP and IPv6, monitored,
rate limited with and without an answer, an RPZ drop, identical lookups aggregated into one
record, and the query log's records of forwarded, cached and blocked queries) have the
declared types.

YAML is read with PyYAML (Debian's python3-yaml, in tests/deps.sh's test list) in a child
python3, so that this script itself needs only the standard library."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from harness import eq, check  # noqa: E402

KIT = h.REPO / "conf" / "sentinel"
TABLE = "Sinkhole_CL"
STREAM = "Custom-Json-" + TABLE
QSTREAM = "Custom-Json-SinkholeQueries_CL"

# The ASIM DNS filtering parameters, in the order Im_DnsCustom passes them, with their
# defaults, and the condition that makes each default filter nothing.
STANDARD_PARAMS = [
    ("starttime", "datetime", "datetime(null)", r"isnull\(starttime\) or"),
    ("endtime", "datetime", "datetime(null)", r"isnull\(endtime\) or"),
    ("srcipaddr", "string", "*", r"srcipaddr == '\*' or"),
    ("domain_has_any", "dynamic", "dynamic([])", r"array_length\(domain_has_any\) == 0\s+or"),
    ("responsecodename", "string", "*", r"responsecodename == '\*' or"),
    ("response_has_ipv4", "string", "*", r"response_has_ipv4 == '\*' or"),
    ("response_has_any_prefix", "dynamic", "dynamic([])",
     r"array_length\(response_has_any_prefix\) == 0\s+or"),
    ("eventtype", "string", "Query", r"eventtype in \('\*', 'Query'\) or"),
    ("disabled", "bool", False, r"where not\(disabled\)"),
]
# Fields every record has (ASIM DNS mandatory and the ones the README promises always).
ALWAYS = {
    "TimeGenerated", "EventStartTime", "EventEndTime", "EventCount", "EventType",
    "EventSubType", "EventResult", "EventResultDetails", "EventSeverity", "EventOriginalType",
    "EventProduct", "EventProductVersion", "EventVendor", "EventSchema", "EventSchemaVersion",
    "Dvc", "DvcHostname", "DvcAction", "DvcOriginalAction", "SrcIpAddr", "Src",
    "SrcPortNumber", "DstIpAddr", "Dst", "DstPortNumber", "NetworkProtocol",
    "NetworkProtocolVersion", "DnsQuery", "DnsQueryClass", "DnsQueryClassName", "DnsQueryType",
    "DnsQueryTypeName", "DnsResponseCodeName", "DnsFlagsRecursionDesired", "TransactionIdHex",
    "ThreatField", "ThreatIsActive", "AdditionalFields",
}
# Fields a query-log record of a name no entry matched leaves out.
UNLISTED_WITHOUT = {"ThreatField", "ThreatIsActive"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")

BLOCKLIST = """\
block:
  - malware: NanoCore RAT
    threat_type: botnet_cc
    source: ThreatFox
    confidence: 75
    domains:
      - domain: www.mobile1.com
        first_seen: 2026-05-27
        expires: 2099-12-31
        id: "1234567"
        reference: https://threatfox.abuse.ch/ioc/1234567/
  - domain: monitored.example.org
    action: log
    malware: Watched
  - plain.example
"""
RPZ = """\
$TTL 300
$ORIGIN rpz.test.
@        SOA ns.rpz.test. hostmaster.rpz.test. 1 3600 600 86400 60
         NS  ns.rpz.test.
drop.test CNAME rpz-drop.
nx.test   CNAME .
"""

env = h.Env()
S = {}


def load_yaml(path):
    """A YAML file as Python data, read by PyYAML in a child process."""
    code = ("import json, sys, yaml\n"
            "json.dump(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), sys.stdout, "
            "default=str)\n")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, timeout=30)
    if out.returncode != 0:
        raise AssertionError(f"{path}: not valid YAML (or PyYAML missing: apt-get install "
                             f"python3-yaml):\n{out.stderr}")
    return json.loads(out.stdout)


def table_columns():
    t = json.loads((KIT / "table.json").read_text())
    schema = t["properties"]["schema"]
    eq(schema["name"], TABLE, "table.json: table name")
    cols = {}
    for c in schema["columns"]:
        check(c["name"] not in cols, f"table.json: {c['name']} declared twice")
        cols[c["name"]] = c["type"].lower()
    return cols


def stream_columns():
    dcr = json.loads((KIT / "dcr.json").read_text())["properties"]
    return dcr, {c["name"]: c["type"].lower()
                 for c in dcr["streamDeclarations"][STREAM]["columns"]}


def json_type_ok(value, typ):
    """Whether a JSON value fits a Log Analytics column type."""
    if typ in ("int", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "real":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ == "boolean":
        return isinstance(value, bool)
    if typ == "datetime":
        return isinstance(value, str) and bool(ISO_UTC.match(value))
    if typ == "dynamic":
        return isinstance(value, (dict, list))
    return isinstance(value, str)


def readme_fields():
    """Field names in the first column of the README's block-log field table."""
    text = (h.REPO / "README.md").read_text()
    sect = text.split("## The block log", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in sect.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Za-z]+)`", first))
    return names


def parser_projection(query):
    """The column names of the parser's `| project` (comments dropped)."""
    m = re.search(r"\|\s*project\s+(.*?)(?=\n\s*(?://|\|)|\n\s*\};)", query, re.S)
    check(m, "parser: no `| project` of the declared columns")
    body = re.sub(r"//[^\n]*", "", m.group(1))
    return [c.strip() for c in body.split(",") if c.strip()]


# ---- setup: the daemon writes the records ---------------------------------------------

def setup():
    _, up = env.start_upstream()
    S["up"] = up
    h.write_file(env.path("blocklist.yaml"), BLOCKLIST)
    h.write_file(env.path("policy.rpz"), RPZ)
    S["port"] = port = h.free_port()
    cfg = h.write_config(env.tmp, port, [up], blocklists=("blocklist.yaml", "policy.rpz"),
                         extra="query_log: {path: queries.jsonl, matched: true}\n", aggregate_ms=None)
    env.start_daemon(cfg, port)
    S["log"] = env.path("blocked.jsonl")
    S["qlog"] = env.path("queries.jsonl")
    # A second daemon that rate limits every client to 1 query/s and drops the rest.
    S["rl_port"] = rl_port = h.free_port()
    rl_cfg = h.write_config(env.tmp, rl_port, [up], blocklists=("blocklist.yaml",),
                            name="ratelimited.yaml", block_log="ratelimited.jsonl",
                            extra="rate_limit: {qps: 1, burst: 1, action: drop}\n",
                            aggregate_ms=None)
    env.start_daemon(rl_cfg, rl_port, name="sinkholed-rl")
    S["rl_log"] = env.path("ratelimited.jsonl")


def records():
    """The records of both daemons' logs, produced once by the queries below."""
    if "records" in S:
        return S["records"]
    port, log = S["port"], S["log"]
    h.query(port, "www.mobile1.com", h.T_A, qid=0x1A2B)
    h.query(port, "Sub.WWW.mobile1.com", h.T_AAAA, tcp=True)
    h.query(port, "www.mobile1.com", h.T_TXT, rd=False)
    h.query(port, "www.mobile1.com", h.T_A, qclass=3)  # CH
    h.query(port, "plain.example", h.T_MX)
    h.query(port, "monitored.example.org", h.T_A)
    h.query(port, "drop.test", h.T_A, timeout=0.5)
    h.query(port, "nx.test", h.T_A)
    # Three more identical lookups: aggregated with the first (EventCount 4).
    for _ in range(3):
        h.query(port, "plain.example", h.T_MX)
    # For the query log only: forwarded, then answered from the cache.
    h.query(port, "www.example.org", h.T_A)
    h.query(port, "www.example.org", h.T_A)
    want = 8
    if h.ipv6_loopback_ok():
        pkt = h.build_query("www.mobile1.com", h.T_AAAA)
        h.udp_exchange(port, pkt, host="::1")
        want += 1
    recs = h.wait_until(lambda: (lambda r: r if len(r) >= want else None)(h.read_log(log)),
                        10, what=f"{want} records in {log}")
    # The query log has one record per query: the block log's 8 (drop.test's too), the 3
    # aggregated lookups each alone, and www.example.org forwarded and cached.
    qwant = want + 3 + 2
    S["qrecs"] = h.wait_until(
        lambda: (lambda r: r if len(r) >= qwant else None)(h.read_log(S["qlog"])),
        10, what=f"{qwant} records in {S['qlog']}")
    # Rate limited: the first query passes (burst 1), the next ones are dropped but logged
    # (aggregated: identical lookups within a second are one record).
    for _ in range(4):
        h.query(S["rl_port"], "www.mobile1.com", h.T_A, timeout=0.3)
    rl = h.wait_until(lambda: (lambda r: r if sum(x["EventCount"] for x in r) >= 4 else None)(
        h.read_log(S["rl_log"])), 10, what="4 lookups in the records of the rate-limited daemon")
    S["records"] = recs + rl
    return S["records"]


# ---- the kit's files --------------------------------------------------------------------

def test_files_parse():
    yamls = sorted(KIT.rglob("*.yaml"))
    check(len(yamls) >= 6, f"kit YAML files: {[str(p) for p in yamls]}")
    for p in yamls:
        check(isinstance(load_yaml(p), dict), f"{p}: not a YAML mapping")
    for p in sorted(KIT.rglob("*.json")):
        json.loads(p.read_text())
    check((KIT / "README.md").exists(), "conf/sentinel/README.md")
    readme = (KIT / "README.md").read_text()
    for p in sorted(KIT.rglob("*")):
        if p.is_file() and p.name != "README.md":
            rel = str(p.relative_to(KIT))
            check(f"`{rel}`" in readme or f"`{p.name}`" in readme,
                  f"conf/sentinel/README.md does not document {rel}")


def test_table_and_stream_agree():
    cols = table_columns()
    dcr, stream = stream_columns()
    eq(list(stream), list(cols), "DCR stream columns (in the table's order)")
    for name, typ in cols.items():
        eq(stream[name], typ, f"DCR stream type of {name}")
    eq(cols.get("TimeGenerated"), "datetime", "TimeGenerated column")
    # The query log's stream declares the same columns and types.
    qstream = {c["name"]: c["type"].lower()
               for c in dcr["streamDeclarations"][QSTREAM]["columns"]}
    eq(list(qstream.items()), list(stream.items()), "query-log stream columns")
    src = dcr["dataSources"]["logFiles"]
    eq(len(src), 2, "log file sources: the block log and the query log")
    for s, want_stream, path in ((src[0], STREAM, "/var/log/sinkholed/blocked.jsonl"),
                                 (src[1], QSTREAM, "/var/log/sinkholed/queries.jsonl")):
        eq(s["format"], "json", "the source's format (Custom JSON Logs)")
        eq(s["streams"], [want_stream], "the source's stream")
        check(s["filePatterns"] == [path], f"file pattern {s['filePatterns']}, want {path}")
    flow = dcr["dataFlows"]
    eq(len(flow), 2, "data flows")
    dest = [d["name"] for d in dcr["destinations"]["logAnalytics"]]
    for f, want_stream in ((flow[0], STREAM), (flow[1], QSTREAM)):
        eq(f["streams"], [want_stream], "data flow stream")
        eq(f["outputStream"], "Custom-" + TABLE, "data flow output")
        check(f["transformKql"].strip().startswith("source"), "transformKql")
        eq(f["destinations"], dest, "data flow destination")
    # The block log already has every record of a listed name (aggregated): from the query
    # log, only the lookups no entry matched, so that nothing is counted twice.
    eq(flow[1]["transformKql"], "source | where EventOriginalType == 'query'",
       "the query log's transformation")


def test_readme_fields_declared():
    cols = table_columns()
    fields = readme_fields()
    check(len(fields) > 30, f"README's field table: only {sorted(fields)}")
    missing = sorted(fields - set(cols))
    eq(missing, [], "README block-log fields missing from table.json")


def check_parser(path, want_params):
    doc = load_yaml(path)
    cols = table_columns()
    for key in ("Parser", "Product", "Normalization", "References", "Description",
                "ParserName", "ParserParams", "ParserQuery"):
        check(key in doc, f"{path.name}: no {key}")
    eq(doc["Normalization"], {"Schema": "Dns", "Version": "0.1.7"}, f"{path.name} schema")
    eq(doc["ParserName"], path.stem, f"{path.name}: ParserName")
    params = [(p["Name"], p["Type"], p["Default"]) for p in doc["ParserParams"]]
    eq(params[:len(want_params)], want_params, f"{path.name}: ParserParams")
    q = doc["ParserQuery"]
    sig = re.search(r"let parser = \((.*?)\)\s*\{", q, re.S)
    check(sig, f"{path.name}: no `let parser = (...) {{`")
    sig_names = re.findall(r"(\w+)\s*:\s*\w+\s*=", sig.group(1))
    eq(sig_names, [p[0] for p in params], f"{path.name}: the function's parameters")
    check(re.search(rf"^\s*{TABLE}\s*$", q, re.M), f"{path.name}: does not read {TABLE}")
    proj = parser_projection(q)
    undeclared = [c for c in proj if c not in cols]
    eq(undeclared, [], f"{path.name}: projected columns not in table.json")
    eq(sorted(proj), sorted(cols), f"{path.name}: projected columns")
    # Aliases are built from projected columns only.
    for alias, src in re.findall(r"(\w+)\s*=\s*(\w+)\s*(?:,|$)",
                                 q.split("| extend", 1)[1].split("}", 1)[0], re.M):
        check(src in cols, f"{path.name}: alias {alias} of undeclared {src}")
    return q


def test_filtering_parser():
    want = [(n, t, d) for n, t, d, _ in STANDARD_PARAMS]
    q = check_parser(KIT / "vimDnsSinkholed.yaml", want)
    for name, _, _, guard in STANDARD_PARAMS:
        check(re.search(guard, q), f"vimDnsSinkholed: {name} does not filter nothing at its "
                                   f"default (no `{guard}`)")
    # Called with every parameter passed through.
    for name, *_ in STANDARD_PARAMS:
        check(re.search(rf"\b{name}\s*=\s*{name}\b", q.rsplit("};", 1)[1]),
              f"vimDnsSinkholed: {name} not passed to the parser")


def test_parameterless_parser():
    check_parser(KIT / "ASimDnsSinkholed.yaml", [("disabled", "bool", False)])


def test_unifying_lines():
    im = (KIT / "Im_DnsCustom.kql").read_text()
    names = [n for n, *_ in STANDARD_PARAMS[:8]]
    m = re.search(r"^\s*vimDnsSinkholed\((.*)\)\s*$", im, re.M)
    check(m, "Im_DnsCustom.kql: no vimDnsSinkholed(...) line")
    eq(re.findall(r"(\w+)\s*=", m.group(1)), names, "Im_DnsCustom line's parameters")
    check(re.search(r"^\s*ASimDnsSinkholed\b", (KIT / "ASim_DnsCustom.kql").read_text(), re.M),
          "ASim_DnsCustom.kql: no ASimDnsSinkholed line")


def test_hunting_and_rule():
    hunts = sorted((KIT / "hunting").glob("*.yaml"))
    check(len(hunts) >= 3, f"hunting queries: {hunts}")
    ids = set()
    for p in hunts + sorted((KIT / "analytics").glob("*.yaml")):
        d = load_yaml(p)
        for key in ("id", "name", "description", "query", "tactics", "relevantTechniques",
                    "entityMappings"):
            check(key in d, f"{p.name}: no {key}")
        check(re.match(r"^[0-9a-f-]{36}$", d["id"]), f"{p.name}: id is not a GUID")
        check(d["id"] not in ids, f"{p.name}: id used twice")
        ids.add(d["id"])
        check("_Im_Dns(" in d["query"] or "vimDnsSinkholed(" in d["query"],
              f"{p.name}: query uses neither _Im_Dns nor vimDnsSinkholed")
    ioc = load_yaml(KIT / "hunting" / "ioc-domain-lookups.yaml")["query"]
    check(re.search(r"_Im_Dns\(.*?domain_has_any\s*=", ioc, re.S),
          "IOC hunting query: not _Im_Dns(domain_has_any=...)")
    rule = load_yaml(KIT / "analytics" / "blocked-c2-lookup.yaml")
    eq(rule.get("kind"), "Scheduled", "analytic rule kind")
    for key in ("severity", "queryFrequency", "queryPeriod", "triggerOperator",
                "triggerThreshold"):
        check(key in rule, f"analytic rule: no {key}")


# ---- records of the real binary -----------------------------------------------------------

def test_records_have_declared_types():
    cols = table_columns()
    records()
    recs = S["records"] + S["qrecs"]
    seen = set()
    for rec in recs:
        for k, v in rec.items():
            seen.add(k)
            check(k in cols, f"field {k} not declared in table.json: {rec}")
            check(json_type_ok(v, cols[k]),
                  f"{k}={v!r} is not a {cols[k]} (record {rec})")
        # A query-log record of a name no entry matched has no threat fields.
        unlisted = rec.get("EventOriginalType") == "query"
        missing = sorted(ALWAYS - set(rec) - (UNLISTED_WITHOUT if unlisted else set()))
        eq(missing, [], f"mandatory fields missing from {rec}")
        if unlisted:
            eq(sorted(UNLISTED_WITHOUT & set(rec)), [], f"threat fields in {rec}")
        eq(rec["Src"], rec["SrcIpAddr"], "Src")
        eq(rec["Dst"], rec["DstIpAddr"], "Dst")
        eq(rec["EventStartTime"], rec["TimeGenerated"], "EventStartTime")
        if rec["EventCount"] == 1:
            eq(rec["EventEndTime"], rec["TimeGenerated"], "EventEndTime")
        else:
            check(rec["EventEndTime"] >= rec["EventStartTime"], f"EventEndTime: {rec}")
        eq(rec["DnsResponseCodeName"], rec["EventResultDetails"], "DnsResponseCodeName")
    # Every optional field turned up in some record, so its type was checked.
    for k in ("DnsResponseCode", "DnsResponseName", "RuleName", "ThreatId", "ThreatName",
              "ThreatCategory", "ThreatConfidence", "ThreatFirstReportedTime",
              "EventReportUrl", "DnsNetworkDuration"):
        check(k in seen, f"no record has {k}")


def by(recs, **kw):
    out = [r for r in recs if all(r.get(k) == v for k, v in kw.items())]
    check(out, f"no record with {kw} in {recs}")
    return out


def test_record_values():
    recs = records()
    port = S["port"]
    r = by(recs, DnsQuery="www.mobile1.com", DnsQueryTypeName="A", DnsQueryClass=1,
           NetworkProtocol="UDP", SrcIpAddr="127.0.0.1")[0]
    eq((r["DvcAction"], r["DvcOriginalAction"], r["EventOriginalType"]),
       ("Blocked", "address", "block"), "blocked A: actions")
    eq((r["DstIpAddr"], r["DstPortNumber"]), ("127.0.0.1", port), "blocked A: Dst")
    eq((r["ThreatId"], r["EventReportUrl"]),
       ("1234567", "https://threatfox.abuse.ch/ioc/1234567/"), "blocked A: IOC")
    eq((r["ThreatIsActive"], r["DnsFlagsRecursionDesired"]), (True, True), "blocked A flags")
    eq(r["DnsQueryClassName"], "IN", "class name")
    version = subprocess.run([h.sinkholed_bin(), "--version"], capture_output=True,
                             text=True, timeout=10).stdout.split()[-1]
    eq(r["EventProductVersion"], version, "EventProductVersion")
    by(recs, DnsQuery="sub.www.mobile1.com", NetworkProtocol="TCP", DnsQueryTypeName="AAAA",
       DnsResponseName="::")
    eq(by(recs, DnsQueryTypeName="TXT")[0]["DnsFlagsRecursionDesired"], False, "RD=0")
    ch = by(recs, DnsQueryClass=3)
    eq(ch[0]["DnsQueryClassName"], "CH", "class CH")
    mon = by(recs, DnsQuery="monitored.example.org")[0]
    eq((mon["DvcAction"], mon["EventOriginalType"], mon["DvcOriginalAction"],
        mon["DnsResponseName"]), ("Allowed", "log", "log", "192.0.2.30"), "monitored")
    drop = by(recs, DnsQuery="drop.test")[0]
    eq((drop["EventSubType"], drop["EventResult"], drop["EventResultDetails"],
        drop["DnsResponseCodeName"], drop["DvcOriginalAction"]),
       ("request", "NA", "NA", "NA", "drop"), "RPZ drop")
    check("DnsResponseCode" not in drop, f"RPZ drop has a DnsResponseCode: {drop}")
    nx = by(recs, DnsQuery="nx.test")[0]
    eq((nx["EventResultDetails"], nx["DvcOriginalAction"]), ("NXDOMAIN", "nxdomain"), "RPZ nx")
    if h.ipv6_loopback_ok():
        v6 = by(recs, NetworkProtocolVersion="IPv6")[0]
        eq((v6["SrcIpAddr"], v6["DstIpAddr"]), ("::1", "::1"), "IPv6 addresses")
    rl = [r for r in recs if r.get("DvcOriginalAction") == "ratelimited"]
    check(sum(r["EventCount"] for r in rl) >= 3, f"rate-limited records: {rl}")
    for r in rl:
        eq((r["EventSubType"], r["EventResult"], r["EventResultDetails"], r["DvcAction"]),
           ("request", "NA", "NA", "Blocked"), "rate limited with action drop")
        check("DnsResponseCode" not in r, f"dropped query has DnsResponseCode: {r}")
    eq(by(recs, DvcOriginalAction="ratelimited")[0]["DstPortNumber"], S["rl_port"], "rl Dst")


def test_aggregated_record():
    recs = records()
    agg = by(recs, DnsQuery="plain.example", DnsQueryTypeName="MX")
    eq([r["EventCount"] for r in agg], [4], "plain.example MX: one record of 4 lookups")
    check(agg[0]["EventStartTime"] <= agg[0]["EventEndTime"], f"start/end: {agg[0]}")
    eq(type(agg[0]["EventCount"]), int, "EventCount type")


def test_query_log_records():
    records()
    q = S["qrecs"]
    fwd = by(q, DnsQuery="www.example.org", DvcOriginalAction="forward")
    eq(len(fwd), 1, "forwarded www.example.org")
    f = fwd[0]
    eq((f["DvcAction"], f["EventOriginalType"], f["EventSeverity"], f["DnsResponseName"],
        f["EventResultDetails"], f["EventCount"]),
       ("Allowed", "query", "Informational", "192.0.2.11", "NOERROR", 1), "forwarded record")
    check(isinstance(f["DnsNetworkDuration"], int) and 0 <= f["DnsNetworkDuration"] < 1500,
          f"DnsNetworkDuration: {f}")
    c = by(q, DnsQuery="www.example.org", DvcOriginalAction="cache")
    eq(len(c), 1, "cached www.example.org")
    eq((c[0]["DvcAction"], c[0]["DnsResponseName"]), ("Allowed", "192.0.2.11"), "cached record")
    check("DnsNetworkDuration" not in c[0], f"cached record has DnsNetworkDuration: {c[0]}")
    # Blocked queries too, each one alone (no aggregation in the query log).
    eq([r["EventCount"] for r in by(q, DnsQuery="plain.example")], [1, 1, 1, 1],
       "plain.example in the query log")
    b = by(q, DnsQuery="www.mobile1.com", DnsQueryTypeName="A", DnsQueryClass=1)[0]
    eq((b["DvcAction"], b["RuleName"], b["ThreatName"], b["DnsResponseName"]),
       ("Blocked", "www.mobile1.com", "NanoCore RAT", "0.0.0.0"), "blocked in the query log")
    mon = by(q, DnsQuery="monitored.example.org")[0]
    eq((mon["DvcAction"], mon["EventOriginalType"]), ("Allowed", "log"), "monitored")
    check(isinstance(mon.get("DnsNetworkDuration"), int), f"monitored: {mon}")


TESTS = [test_files_parse, test_table_and_stream_agree, test_readme_fields_declared,
         test_filtering_parser, test_parameterless_parser, test_unifying_lines,
         test_hunting_and_rule, test_records_have_declared_types, test_record_values,
         test_aggregated_record, test_query_log_records]

if __name__ == "__main__":
    h.run_tests(TESTS, env, setup)
