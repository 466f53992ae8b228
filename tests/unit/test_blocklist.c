/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "formats/format.h"
#include "policy/policy.h"
#include "look_addr.h"
#include "util/name.h"

#define T_2026_05_26 1779753600LL
#define T_2026_05_27 1779840000LL
#define T_2026_12_31 1798675200LL
#define T_2027_01_01 1798761600LL
#define T_2025_01_01 1735689600LL
#define NOW T_2026_05_27 /* "now" of most tests */

/* The defaults config.c gives a list entry, over what the test set. */
static void init_list(struct list_conf *l)
{
	l->match = MATCH_SUBTREE;
	l->defaults.confidence = -1;
	l->defaults.action = -1;
	l->defaults.expires = INT64_MAX;
	l->required = true;
}

static int n2w(const char *text, uint8_t w[255], const char **why)
{
	return name_to_wire(text, strlen(text), w, why);
}

static struct policy *load(const char *yaml, int min_conf, int64_t now, struct parse_errs *errs)
{
	return policy_load_string(yaml, strlen(yaml), "test.yaml", min_conf, now, errs);
}

/* Load text that must be valid. */
static struct policy *load_ok(const char *yaml, int min_conf, int64_t now)
{
	struct parse_errs errs = {0};
	struct policy *p = load(yaml, min_conf, now, &errs);

	if (!p) {
		char buf[512];

		for (size_t i = 0; i < errs.n; i++) {
			perr_format(&errs.v[i], buf, sizeof(buf));
			print_error("%s\n", buf);
		}
		perr_clear(&errs);
		fail_msg("load failed");
	}
	assert_int_equal(errs.n, 0);
	perr_clear(&errs);
	return p;
}

/* Look a query name up (given as lowercase presentation, like dnsmsg's wire form). */
static enum verdict look(const struct policy *p, const char *name, int64_t now,
			 struct policy_match *m)
{
	uint8_t w[255];
	const char *why = NULL;
	int n = n2w(name, w, &why);

	assert_true(n > 0);
	policy_lookup(p, w, (size_t)n, now, m);
	return m->verdict;
}

static void assert_err(const struct parse_errs *e, size_t i, int line, int col, const char *msg)
{
	assert_true(i < e->n);
	assert_string_equal(e->v[i].file, "test.yaml");
	assert_int_equal(e->v[i].line, line);
	assert_int_equal(e->v[i].col, col);
	if (!strstr(e->v[i].msg, msg))
		fail_msg("error %zu: \"%s\" does not contain \"%s\"", i, e->v[i].msg, msg);
}

static void test_group_inherited(void **state)
{
	const char *y = "block:\n"
			"  - malware: NanoCore RAT\n"
			"    threat_type: botnet_cc\n"
			"    source: ThreatFox\n"
			"    confidence: 75\n"
			"    first_seen: 2026-05-26\n"
			"    id: 1234\n"
			"    reference: https://threatfox.abuse.ch/\n"
			"    domains:\n"
			"      - moocow.my\n"
			"      - spapro.co.com\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m, m2;

	(void)state;
	assert_int_equal(look(p, "moocow.my", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 0);
	assert_non_null(m.meta);
	assert_string_equal(m.meta->malware, "NanoCore RAT");
	assert_string_equal(m.meta->threat_type, "botnet_cc");
	assert_string_equal(m.meta->source, "ThreatFox");
	assert_string_equal(m.meta->id, "1234");
	assert_string_equal(m.meta->reference, "https://threatfox.abuse.ch/");
	assert_string_equal(m.meta->file, "test.yaml");
	assert_int_equal(m.meta->confidence, 75);
	assert_int_equal(m.meta->first_seen, T_2026_05_26);
	assert_int_equal(m.meta->expires, INT64_MAX);
	assert_int_equal(m.meta->action, IOC_BLOCK);
	assert_int_equal(look(p, "spapro.co.com", NOW, &m2), VERDICT_BLOCK);
	/* identical metadata is shared */
	assert_ptr_equal(m.meta, m2.meta);
	assert_int_equal(policy_stats(p)->block, 2);
	assert_int_equal(policy_stats(p)->files[0].block, 2);
	policy_free(p);
}

static void test_fields_after_domains(void **state)
{
	/* YAML lets the group's fields follow its domains: list. */
	const char *y = "block:\n"
			"  - domains: [a.example, b.example]\n"
			"    malware: Late\n"
			"    confidence: 10\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "b.example", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Late");
	assert_int_equal(m.meta->confidence, 10);
	policy_free(p);
}

static void test_entry_overrides(void **state)
{
	const char *y = "block:\n"
			"  - malware: Group\n"
			"    threat_type: botnet_cc\n"
			"    confidence: 75\n"
			"    domains:\n"
			"      - { domain: www.mobile1.com, first_seen: 2026-05-27, confidence: 90 }\n"
			"      - domain: other.example\n"
			"        malware: Own\n"
			"        action: log\n"
			"      - plain.example\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "www.mobile1.com", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Group");
	assert_string_equal(m.meta->threat_type, "botnet_cc");
	assert_int_equal(m.meta->confidence, 90);
	assert_int_equal(m.meta->first_seen, T_2026_05_27);
	assert_int_equal(look(p, "other.example", NOW, &m), VERDICT_LOG);
	assert_string_equal(m.meta->malware, "Own");
	assert_string_equal(m.meta->threat_type, "botnet_cc");
	assert_int_equal(m.meta->confidence, 75);
	assert_int_equal(m.meta->first_seen, INT64_MIN);
	assert_int_equal(m.meta->action, IOC_LOG);
	assert_int_equal(look(p, "plain.example", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Group");
	assert_int_equal(m.meta->confidence, 75);
	assert_int_equal(policy_stats(p)->files[0].block, 3);
	assert_int_equal(policy_stats(p)->files[0].log, 1);
	policy_free(p);
}

static void test_bare_and_single(void **state)
{
	const char *y = "block:\n"
			"  - bare.example\n"
			"  - domain: single.example\n"
			"    threat_type: phishing\n"
			"    id: \"abc\"\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "bare.example", NOW, &m), VERDICT_BLOCK);
	assert_null(m.meta->malware);
	assert_null(m.meta->threat_type);
	assert_null(m.meta->source);
	assert_null(m.meta->id);
	assert_null(m.meta->reference);
	assert_string_equal(m.meta->file, "test.yaml");
	assert_int_equal(m.meta->confidence, -1);
	assert_int_equal(m.meta->first_seen, INT64_MIN);
	assert_int_equal(m.meta->expires, INT64_MAX);
	assert_int_equal(look(p, "single.example", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->threat_type, "phishing");
	assert_string_equal(m.meta->id, "abc");
	assert_int_equal(look(p, "example", NOW, &m), VERDICT_PASS);
	assert_null(m.meta);
	assert_int_equal(m.rule_off, -1);
	policy_free(p);
}

static void test_allow_wins(void **state)
{
	const char *y = "allow:\n"
			"  - good.evil.com\n"
			"  - trusted.org\n"
			"block:\n"
			"  - evil.com\n"
			"  - good.evil.com\n"
			"  - bad.trusted.org\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "evil.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "x.evil.com", NOW, &m), VERDICT_BLOCK);
	/* allowed name that is also blocked */
	assert_int_equal(look(p, "good.evil.com", NOW, &m), VERDICT_ALLOW);
	assert_null(m.meta);
	/* its subdomains */
	assert_int_equal(look(p, "a.b.good.evil.com", NOW, &m), VERDICT_ALLOW);
	/* allow is a parent of a blocked name */
	assert_int_equal(look(p, "bad.trusted.org", NOW, &m), VERDICT_ALLOW);
	assert_int_equal(look(p, "x.bad.trusted.org", NOW, &m), VERDICT_ALLOW);
	assert_int_equal(look(p, "agood.evil.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(policy_stats(p)->allow, 2);
	assert_int_equal(policy_stats(p)->files[0].allow, 2);
	assert_int_equal(policy_stats(p)->block, 3);
	policy_free(p);
}

static void test_action_log(void **state)
{
	const char *y = "block:\n"
			"  - domain: watch.example\n"
			"    action: log\n"
			"  - domain: hard.example\n"
			"    action: block\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "a.watch.example", NOW, &m), VERDICT_LOG);
	assert_int_equal(m.rule_off, 2);
	assert_int_equal(m.meta->action, IOC_LOG);
	assert_int_equal(look(p, "hard.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(policy_stats(p)->files[0].log, 1);
	policy_free(p);
}

static void test_expires(void **state)
{
	const char *y = "block:\n"
			"  - domain: old.example\n"
			"    expires: 2025-01-01\n"
			"  - domain: parent.example\n"
			"  - domain: child.parent.example\n"
			"    malware: Child\n"
			"    expires: 2026-12-31\n"
			"  - domain: t.example\n"
			"    expires: 2026-06-01T12:00:00+02:00\n"
			"  - domains: [g1.example, g2.example]\n"
			"    expires: 2026-05-26T23:59:59Z\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;
	const int64_t t_june = 1780308000LL; /* 2026-06-01T10:00:00Z */

	(void)state;
	/* expired at load: skipped and counted */
	assert_int_equal(look(p, "old.example", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "g1.example", NOW, &m), VERDICT_PASS);
	assert_int_equal(policy_stats(p)->files[0].expired, 3);
	assert_int_equal(policy_stats(p)->block, 3);
	assert_int_equal(policy_stats(p)->files[0].block, 3);
	/* active until the end of 2026-12-31 UTC */
	assert_int_equal(look(p, "www.child.parent.example", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Child");
	assert_int_equal(m.meta->expires, T_2027_01_01);
	assert_int_equal(m.rule_off, 4);
	assert_int_equal(look(p, "www.child.parent.example", T_2027_01_01 - 1, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Child");
	/* then inactive: the shorter parent entry matches */
	assert_int_equal(look(p, "www.child.parent.example", T_2027_01_01, &m), VERDICT_BLOCK);
	assert_null(m.meta->malware);
	assert_int_equal(m.rule_off, 10);
	/* RFC 3339 with an offset */
	assert_int_equal(look(p, "t.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->expires, t_june);
	assert_int_equal(look(p, "t.example", t_june, &m), VERDICT_PASS);
	policy_free(p);
}

static void test_min_confidence(void **state)
{
	const char *y = "block:\n"
			"  - { domain: low.example, confidence: 50 }\n"
			"  - { domain: edge.example, confidence: 60 }\n"
			"  - { domain: high.example, confidence: 100 }\n"
			"  - none.example\n";
	struct policy *p = load_ok(y, 60, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "low.example", NOW, &m), VERDICT_LOG);
	assert_int_equal(m.meta->action, IOC_LOG);
	assert_int_equal(look(p, "edge.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "high.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "none.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(policy_stats(p)->files[0].block, 4);
	assert_int_equal(policy_stats(p)->files[0].log, 1);
	policy_free(p);
}

static void test_subdomains_and_partial(void **state)
{
	const char *y = "block: [evil.com, b.evil.com]\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "a.b.c.evil.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 6);
	/* the longest listed suffix decides */
	assert_int_equal(look(p, "a.b.evil.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 2);
	assert_int_equal(look(p, "notevil.com", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "a.notevil.com", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "evil.com.au", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "com", NOW, &m), VERDICT_PASS);
	policy_free(p);
}

static void test_case_insensitive(void **state)
{
	const char *y = "allow: [Safe.WWW.Mobile1.COM]\n"
			"block:\n"
			"  - WWW.Mobile1.COM.\n"
			"  - '\\069vil.example'\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "www.mobile1.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "x.www.mobile1.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "safe.www.mobile1.com", NOW, &m), VERDICT_ALLOW);
	/* \069 is 'E' */
	assert_int_equal(look(p, "evil.example", NOW, &m), VERDICT_BLOCK);
	policy_free(p);
}

static void test_duplicates(void **state)
{
	const char *y = "block:\n"
			"  - malware: First\n"
			"    threat_type: botnet_cc\n"
			"    domains: [dup.example, other.example]\n"
			"  - domain: DUP.example\n"
			"    malware: Second\n"
			"    confidence: 40\n"
			"  - dup.example.\n";
	struct policy *p = load_ok(y, 50, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "dup.example", NOW, &m), VERDICT_LOG);
	/* the later entry's fields win; fields it lacks are kept */
	assert_string_equal(m.meta->malware, "Second");
	assert_string_equal(m.meta->threat_type, "botnet_cc");
	assert_int_equal(m.meta->confidence, 40);
	assert_int_equal(look(p, "other.example", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "First");
	assert_int_equal(policy_stats(p)->block, 2);
	assert_int_equal(policy_stats(p)->files[0].duplicates, 2);
	assert_int_equal(policy_stats(p)->files[0].block, 2);
	assert_int_equal(policy_stats(p)->files[0].log, 1);
	policy_free(p);
}

static void test_invalid_names(void **state)
{
	const char *y = "block:\n"
			"  - aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\n"
			"  - a..b\n"
			"  - domain: \"bad\\\\0x.example\"\n"
			"  - \"*.wild.example\"\n"
			"  - ok.example\n"
			"  - .lead.example\n"
			"  - domains:\n"
			"      - has space.example\n"
			"      - { domain: \"\" }\n"
			"allow:\n"
			"  - .\n"
			"  - " /* four 63-byte labels: 257 bytes in wire form */
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n";
	struct parse_errs errs = {0};

	(void)state;
	assert_null(load(y, 0, NOW, &errs));
	assert_int_equal(errs.n, 9);
	assert_err(&errs, 0, 2, 5, "label longer than 63");
	assert_err(&errs, 1, 3, 5, "empty label");
	assert_err(&errs, 2, 4, 13, "bad escape");
	assert_err(&errs, 3, 5, 5, "wildcards are not needed: a listed domain matches all its "
				  "subdomains");
	assert_err(&errs, 4, 7, 5, "leading dot");
	assert_err(&errs, 5, 9, 9, "whitespace");
	assert_err(&errs, 6, 10, 19, "empty name");
	assert_err(&errs, 7, 12, 5, "root");
	assert_err(&errs, 8, 13, 5, "name longer than 255");
	perr_clear(&errs);
}

static void test_structure_errors(void **state)
{
	const char *y = "block:\n"
			"  - domain: a.example\n"
			"    malwar: typo\n"
			"    confidence: 101\n"
			"  - domain: b.example\n"
			"    first_seen: 2026-02-30\n"
			"    expires: tomorrow\n"
			"    action: drop\n"
			"    source: [x]\n"
			"  - domain: c.example\n"
			"    domains: [d.example]\n"
			"  - malware: no domains\n"
			"  - [nested]\n"
			"  - domain: e.example\n"
			"    confidence: \"50\"\n"
			"blocklist: []\n";
	struct parse_errs errs = {0};

	(void)state;
	assert_null(load(y, 0, NOW, &errs));
	assert_int_equal(errs.n, 11);
	assert_err(&errs, 0, 3, 5, "unknown key \"malwar\"");
	assert_err(&errs, 1, 4, 17, "confidence: expected an integer 0-100");
	assert_err(&errs, 2, 6, 17, "first_seen: expected a date");
	assert_err(&errs, 3, 7, 14, "expires: expected a date");
	assert_err(&errs, 4, 8, 13, "action: expected block or log");
	assert_err(&errs, 5, 9, 13, "source: expected a string, got a list");
	assert_err(&errs, 6, 11, 5, "not both");
	assert_err(&errs, 7, 12, 5, "needs domain:");
	assert_err(&errs, 8, 13, 5, "got a list");
	assert_err(&errs, 9, 15, 17, "confidence: expected an integer");
	assert_err(&errs, 10, 16, 1, "unknown key \"blocklist\"");
	perr_clear(&errs);
}

static void test_yaml_syntax_and_top(void **state)
{
	struct parse_errs errs = {0};
	struct policy *p;

	(void)state;
	assert_null(load("block: [a.example\n", 0, NOW, &errs));
	assert_int_equal(errs.n, 1);
	assert_true(errs.v[0].line >= 1);
	assert_non_null(strstr(errs.v[0].msg, "YAML"));
	perr_clear(&errs);

	assert_null(load("- a.example\n", 0, NOW, &errs));
	assert_int_equal(errs.n, 1);
	assert_err(&errs, 0, 1, 1, "a blocklist is a mapping");
	perr_clear(&errs);

	assert_null(load("allow: {a: b}\nblock: x.example\n", 0, NOW, &errs));
	assert_int_equal(errs.n, 2);
	assert_err(&errs, 0, 1, 8, "allow: expected a list");
	assert_err(&errs, 1, 2, 8, "block: expected a list");
	perr_clear(&errs);

	/* empty file and empty sections are valid */
	p = load_ok("", 0, NOW);
	assert_int_equal(policy_stats(p)->block, 0);
	policy_free(p);
	p = load_ok("# nothing yet\nallow:\nblock:\n", 0, NOW);
	assert_int_equal(policy_stats(p)->allow, 0);
	policy_free(p);
}

static void test_name_to_wire(void **state)
{
	uint8_t w[255];
	const char *why = NULL;
	char buf[300];

	(void)state;
	assert_int_equal(n2w("WWW.Evil.com.", w, &why), 14);
	assert_memory_equal(w, "\3www\4evil\3com\0", 14);
	assert_int_equal(n2w("a\\.b.c", w, &why), 7);
	assert_memory_equal(w, "\3a.b\1c\0", 7);
	assert_int_equal(n2w("\\065\\066.c", w, &why), 6);
	assert_memory_equal(w, "\2ab\1c\0", 6);
	assert_int_equal(n2w(".", w, &why), -EINVAL);
	assert_int_equal(n2w("", w, &why), -EINVAL);
	assert_int_equal(n2w("a\\25", w, &why), -EINVAL);
	assert_int_equal(n2w("a\\256", w, &why), -EINVAL);
	assert_int_equal(n2w("a\\", w, &why), -EINVAL);
	assert_int_equal(n2w("a.*", w, &why), -EINVAL);
	assert_non_null(strstr(why, "wildcards"));
	/* "*" inside a label is just a character */
	assert_int_equal(n2w("a*.b", w, &why), 6);
	/* exactly 255 bytes: 3 * 64 + 62 + 1 */
	memset(buf, 'a', sizeof(buf));
	buf[63] = buf[127] = buf[191] = '.';
	buf[191 + 62] = 0;
	assert_int_equal(n2w(buf, w, &why), 255);
	buf[191 + 62] = 'a';
	buf[191 + 63] = 0;
	assert_int_equal(n2w(buf, w, &why), -EINVAL);
	assert_non_null(strstr(why, "255"));
	/* labels of 63 bytes, not 64 */
	memset(buf, 'A', sizeof(buf));
	strcpy(buf + 63, ".x");
	assert_int_equal(n2w(buf, w, &why), 1 + 63 + 2 + 1);
	assert_int_equal(w[0], 63);
	assert_int_equal(w[1], 'a'); /* lowercased */
	memset(buf, 'a', sizeof(buf));
	strcpy(buf + 64, ".x");
	assert_int_equal(n2w(buf, w, &why), -EINVAL);
	assert_non_null(strstr(why, "63"));
	/* a '*' followed by more of its label; a bad byte after a run of plain ones */
	assert_int_equal(n2w("*a.b", w, &why), 6);
	assert_memory_equal(w, "\2*a\1b\0", 6);
	assert_int_equal(n2w("*.b", w, &why), -EINVAL);
	assert_int_equal(n2w("evil com", w, &why), -EINVAL);
	assert_non_null(strstr(why, "whitespace"));
	assert_int_equal(n2w("ev\xc3\xa9il.com", w, &why), -EINVAL);
	assert_non_null(strstr(why, "non-ASCII"));
	assert_int_equal(n2w("Mixed-Case_1.Example~x", w, &why), 24);
	assert_memory_equal(w, "\014mixed-case_1\011example~x\0", 24);
}

/* YAML 1.1 nulls (empty, ~, null, Null, NULL; plain only) mean "absent". */
static void test_null_values(void **state)
{
	struct parse_errs errs = {0};
	struct policy_match m;
	struct policy *p;

	(void)state;
	p = load_ok("allow: ~\nblock:\n  - domain: a.example\n    malware: null\n"
		    "    source: NULL\n    threat_type: Null\n    confidence: ~\n"
		    "  - malware: Group\n    domains:\n", 0, NOW);
	assert_int_equal(look(p, "a.example", NOW, &m), VERDICT_BLOCK);
	assert_null(m.meta->malware);
	assert_null(m.meta->source);
	assert_null(m.meta->threat_type);
	policy_free(p);
	/* Not nulls: quoted, or other words that start like one. */
	p = load_ok("block:\n  - domain: b.example\n    malware: \"null\"\n"
		    "  - domain: nulls.example\n  - domain: ~x.example\n", 0, NOW);
	assert_int_equal(look(p, "b.example", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "null");
	assert_int_equal(look(p, "nulls.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "~x.example", NOW, &m), VERDICT_BLOCK);
	policy_free(p);
	/* A null where a domain must be is an empty name. */
	assert_null(load("block:\n  - ~\n", 0, NOW, &errs));
	assert_err(&errs, 0, 2, 5, "empty name");
	perr_clear(&errs);
}

static void test_refcount(void **state)
{
	struct policy *p = load_ok("block: [a.example]\n", 0, NOW);

	(void)state;
	policy_acquire(p);
	policy_acquire(p);
	assert_false(policy_release(p));
	assert_false(policy_release(p));
	assert_true(policy_release(p));
	assert_true(policy_stats(p)->memory > 0);
	policy_free(p);
	policy_free(NULL);
}

static char *write_temp(const char *suffix, const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_blocklistXXXXXX%s", suffix);
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_text_format(void **state)
{
	const char *txt = "# a feed\n"
			  "\n"
			  "  Evil.COM  \n"
			  "0.0.0.0 hosts.example\n"
			  "127.0.0.1\tloop.example # comment\n"
			  "0.0.0.0 localhost\n"
			  "::1 localhost ip6-localhost ip6-loopback\n"
			  "fe80::1%lo0 localhost\n"
			  "0.0.0.0 m1.example m2.example\n"
			  "evil.com\n";
	char path[64], path2[64], yaml_path[64];
	struct list_conf lists[3] = {
		{.name = "feed.txt", .path = path, .format = FORMAT_DOMAINS, .required = true},
		{.name = "bad.list", .path = path2, .format = FORMAT_DOMAINS, .required = true},
		{.name = "more.yaml", .path = yaml_path, .format = FORMAT_YAML, .required = true},
	};
	struct config cfg;
	struct parse_errs errs = {0}, warns = {0};
	struct policy *p;
	struct policy_match m;
	const struct policy_stats *st;

	(void)state;
	strcpy(path, write_temp(".txt", txt));
	strcpy(yaml_path, write_temp(".yaml", "block:\n  - { domain: evil.com, malware: Y }\n"));
	memset(&cfg, 0, sizeof(cfg));
	for (size_t i = 0; i < 3; i++)
		init_list(&lists[i]);
	cfg.lists = lists;
	cfg.n_lists = 1;
	p = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_non_null(p);
	assert_int_equal(errs.n, 0);
	assert_int_equal(look(p, "a.evil.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 2);
	assert_string_equal(m.meta->file, "feed.txt");
	assert_null(m.meta->malware);
	assert_int_equal(look(p, "hosts.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "loop.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "localhost", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "ip6-loopback", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "m1.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "m2.example", NOW, &m), VERDICT_BLOCK);
	st = policy_stats(p);
	assert_int_equal(st->n_files, 1);
	assert_string_equal(st->files[0].file, "feed.txt");
	assert_int_equal(st->files[0].block, 5);
	assert_int_equal(st->files[0].duplicates, 1);
	policy_free(p);

	/* two files: a duplicate in the later one wins and is counted there */
	cfg.n_lists = 3;
	strcpy(path2, write_temp(".list", "ok.example\n"));
	p = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_non_null(p);
	assert_int_equal(look(p, "evil.com", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Y");
	assert_string_equal(m.meta->file, "more.yaml");
	st = policy_stats(p);
	assert_int_equal(st->n_files, 3);
	assert_int_equal(st->files[0].block, 4);
	assert_int_equal(st->files[1].block, 1);
	assert_int_equal(st->files[2].block, 1);
	assert_int_equal(st->files[2].duplicates, 1);
	assert_int_equal(st->block, 6);
	policy_free(p);
	unlink(path2);

	/* invalid lines carry FILE:LINE:COLUMN; 2 of 3 invalid reject the list */
	strcpy(path2, write_temp(".list", "ok.example\n  bad..name\na.example b.example\n"));
	p = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_null(p);
	assert_int_equal(warns.n, 2);
	assert_string_equal(warns.v[0].file, path2);
	assert_int_equal(warns.v[0].line, 2);
	assert_int_equal(warns.v[0].col, 3);
	assert_non_null(strstr(warns.v[0].msg, "empty label"));
	assert_int_equal(warns.v[1].line, 3);
	assert_int_equal(warns.v[1].col, 1);
	assert_non_null(strstr(warns.v[1].msg, "one domain per line"));
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].file, path2);
	assert_non_null(strstr(errs.v[0].msg, "2 of 3 entries invalid"));
	perr_clear(&errs);
	perr_clear(&warns);

	/* a missing file */
	unlink(path2);
	p = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.v[0].line, 0);
	perr_clear(&errs);
	unlink(path);
	unlink(yaml_path);
}

/* Rewrite the file at path (made by write_temp) with text. */
static void rewrite(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

/* A ThreatFox row: its first_seen, id, value and type; the rest of its submission's fields. */
#define TF_ROW(first, id, value, type)                                                             \
	"\"" first "\", \"" id "\", \"" value "\", \"" type "\", \"botnet_cc\", \"Mirai\", "       \
	"\"75\"\n"

/* The IOC id of a match as the block log writes it (ThreatId). */
static const char *id_of(const struct policy_match *m)
{
	static char buf[IOC_ID_TEXT];

	return ioc_id_text(m->meta, m->ioc_id, buf);
}

/*
 * A ThreatFox feed's entries keep their ids through keep-last-good (a rejected version) and
 * policy_validate(), numeric ids still shared by their submission.
 */
static void test_threatfox_ids_kept(void **state)
{
	/* clang-format off */
	static const char csv[] =
		"# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\","
		"\"malware_printable\",\"confidence_level\"\n"
		TF_ROW("2026-05-26 10:00:00", "101", "a.example", "domain")
		TF_ROW("2026-05-26 10:00:00", "102", "192.0.2.9:443", "ip:port")
		TF_ROW("2026-05-26 10:00:00", "x-103", "b.example", "domain")
		TF_ROW("2026-05-26 10:00:00", "104", "a.example", "domain");
	/* clang-format on */
	char feed[64];
	struct list_conf lists[1] = {
	    {.name = "tf", .path = feed, .format = FORMAT_THREATFOX_CSV, .url = "https://x/"},
	};
	struct config cfg = {.lists = lists, .n_lists = 1};
	struct parse_errs errs = {0}, warns = {0};
	struct policy *p1, *p2;
	struct policy_match m;
	struct list_stats st;
	const struct ioc_meta *a;

	(void)state;
	init_list(&lists[0]);
	strcpy(feed, write_temp(".csv", csv));
	p1 = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_non_null(p1);
	assert_int_equal(errs.n, 0);
	assert_true(policy_validate(&lists[0], csv, sizeof(csv) - 1, NOW, 3, &errs, &warns, &st));
	assert_int_equal(st.block, 3);
	assert_int_equal(st.duplicates, 1);

	/* the feed turns to garbage: its entries are kept, each with its id */
	rewrite(feed, "<html>\n<body>error</body>\n</html>\n");
	p2 = policy_load(&cfg, p1, NOW, &errs, &warns);
	assert_non_null(p2);
	assert_int_equal(errs.n, 1);
	perr_clear(&errs);
	perr_clear(&warns);
	assert_true(policy_stats(p2)->files[0].kept);
	assert_int_equal(policy_stats(p2)->files[0].block, 3);
	assert_int_equal(look(p2, "a.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 104); /* listed twice: the later row's id */
	a = m.meta;
	assert_int_equal(look_addr_at(p2, "192.0.2.9", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "102");
	assert_ptr_equal(m.meta, a);
	assert_string_equal(m.meta->malware, "Mirai");
	assert_int_equal(look(p2, "b.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 0);
	assert_string_equal(id_of(&m), "x-103");
	assert_string_equal(m.meta->file, "tf");
	policy_free(p2);
	policy_free(p1);
	unlink(feed);
}

/* ip: entries, single and in groups, with the fields of domain: entries; allowed prefixes. */
static void test_ip_entries(void **state)
{
	const char *y = "allow:\n"
			"  - good.example\n"
			"  - 192.0.2.128/25\n"
			"  - \"2001:db8:ffff::/48\"\n"
			"block:\n"
			"  - ip: 192.0.2.0/24\n"
			"    malware: IPRAT\n"
			"    confidence: 80\n"
			"  - ip: 198.51.100.7\n"
			"    action: log\n"
			"  - ip: 203.0.113.9\n"
			"    expires: 2026-01-01\n"
			"  - malware: Grouped\n"
			"    ips: [10.0.0.0/8, \"2001:db8::/32\", \"2001:db8::1\"]\n"
			"    domains:\n"
			"      - evil.example\n"
			"      - ip: 10.1.0.0/16\n"
			"        confidence: 50\n"
			"  - ip: 192.0.2.0/24\n"
			"    threat_type: botnet_cc\n";
	struct policy *p = load_ok(y, 0, NOW);
	const struct list_stats *st = &policy_stats(p)->files[0];
	struct policy_match m;

	(void)state;
	assert_int_equal(look_addr_at(p, "192.0.2.5", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 24);
	assert_string_equal(m.meta->malware, "IPRAT"); /* listed twice: merged */
	assert_string_equal(m.meta->threat_type, "botnet_cc");
	assert_int_equal(m.meta->confidence, 80);
	assert_int_equal(look_addr_at(p, "192.0.2.200", NOW, &m), VERDICT_ALLOW);
	assert_int_equal(look_addr_at(p, "198.51.100.7", NOW, &m), VERDICT_LOG);
	assert_int_equal(m.rule_off, 32);
	assert_int_equal(look_addr_at(p, "198.51.100.8", NOW, &m), VERDICT_PASS);
	assert_int_equal(look_addr_at(p, "203.0.113.9", NOW, &m), VERDICT_PASS); /* expired */
	assert_int_equal(look_addr_at(p, "10.9.9.9", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 8);
	assert_string_equal(m.meta->malware, "Grouped");
	assert_int_equal(m.meta->confidence, -1);
	assert_int_equal(look_addr_at(p, "10.1.2.3", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 16);
	assert_string_equal(m.meta->malware, "Grouped");
	assert_int_equal(m.meta->confidence, 50);
	assert_int_equal(look_addr_at(p, "2001:db8::1", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 128);
	assert_int_equal(look_addr_at(p, "2001:db8:1::1", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 32);
	assert_int_equal(look_addr_at(p, "2001:db8:ffff::1", NOW, &m), VERDICT_ALLOW);
	assert_int_equal(look(p, "evil.example", NOW, &m), VERDICT_BLOCK);
	/* An address is not a name, nor a name an address. */
	assert_int_equal(look(p, "10.1.2.3", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "good.example", NOW, &m), VERDICT_ALLOW);

	assert_int_equal(policy_stats(p)->block, 1);
	assert_int_equal(policy_stats(p)->block_ip, 6);
	assert_int_equal(policy_stats(p)->allow_ip, 2);
	assert_int_equal(policy_stats(p)->allow, 1);
	assert_int_equal(st->block, 7);
	assert_int_equal(st->log, 1);
	assert_int_equal(st->allow, 3);
	assert_int_equal(st->expired, 1);
	assert_int_equal(st->duplicates, 1);
	policy_free(p);
}

/* A longer prefix that expires after the load gives way to a shorter one, as names do. */
static void test_ip_expiry_falls_back(void **state)
{
	const char *y = "block:\n"
			"  - ip: 10.0.0.0/8\n"
			"    malware: Wide\n"
			"  - ip: 10.1.0.0/16\n"
			"    malware: Narrow\n"
			"    expires: 2026-12-31\n";
	struct policy *p = load_ok(y, 0, NOW);
	struct policy_match m;

	(void)state;
	assert_int_equal(look_addr_at(p, "10.1.2.3", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Narrow");
	assert_int_equal(m.rule_off, 16);
	assert_int_equal(look_addr_at(p, "10.1.2.3", T_2027_01_01, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Wide");
	assert_int_equal(m.rule_off, 8);
	policy_free(p);
}

/* Bad ip: entries are errors at their line and column, as bad names are. */
static void test_ip_errors(void **state)
{
	struct parse_errs errs = {0};
	const char *y = "allow:\n"
			"  - 10.0.0.1/8\n"
			"block:\n"
			"  - ip: 192.0.2.1/24\n"
			"  - ip: 300.1.2.3\n"
			"  - ip: \"2001:db8::/129\"\n"
			"  - ip: [1.2.3.4]\n"
			"  - domain: a.example\n"
			"    ip: 1.2.3.4\n"
			"  - ips: [1.2.3.0/33]\n"
			"    malware: X\n"
			"  - ip:\n";

	(void)state;
	assert_null(load(y, 0, NOW, &errs));
	assert_int_equal(errs.n, 8);
	assert_err(&errs, 0, 2, 5, "invalid address \"10.0.0.1/8\": host bits set");
	assert_err(&errs, 0, 2, 5, "did you mean 10.0.0.0/8?");
	assert_err(&errs, 1, 4, 9, "did you mean 192.0.2.0/24?");
	assert_err(&errs, 2, 5, 9, "invalid address \"300.1.2.3\"");
	assert_err(&errs, 3, 6, 9, "prefix length out of range (0-128 for IPv6)");
	assert_err(&errs, 4, 7, 9, "ip: expected an address or a prefix, got a list");
	assert_err(&errs, 5, 9, 5, "not both");
	assert_err(&errs, 6, 10, 11, "prefix length out of range (0-32 for IPv4)");
	assert_err(&errs, 7, 12, 8, "ip: expected an address or a prefix, got nothing");
	perr_clear(&errs);
}

/* Every list stands alone: keep-last-good, the 10% rule, required lists. */
static void test_list_fallback(void **state)
{
	char feed[64], local[64];
	struct list_conf lists[2] = {
		{.name = "feed", .path = feed, .format = FORMAT_DOMAINS, .url = "https://x/"},
		{.name = "local.yaml", .path = local, .format = FORMAT_YAML},
	};
	struct config cfg = {.lists = lists, .n_lists = 2};
	struct parse_errs errs = {0}, warns = {0};
	struct policy *p1, *p2, *p3;
	struct policy_match m;
	char big[4096];
	size_t o = 0;

	(void)state;
	init_list(&lists[0]);
	init_list(&lists[1]);
	lists[0].required = false;
	/* 20 names and one bad line: under 10%, used, with a warning at its position */
	for (int i = 0; i < 20; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "n%d.example\n", i);
	snprintf(big + o, sizeof(big) - o, "  bad..example\n");
	strcpy(feed, write_temp(".txt", big));
	strcpy(local, write_temp(".yaml", "block: [local.example]\n"));
	p1 = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_non_null(p1);
	assert_int_equal(errs.n, 0);
	assert_int_equal(warns.n, 1);
	assert_int_equal(warns.v[0].line, 21);
	assert_int_equal(warns.v[0].col, 3);
	assert_int_equal(policy_stats(p1)->files[0].invalid, 1);
	assert_int_equal(policy_stats(p1)->files[0].block, 20);
	assert_string_equal(policy_stats(p1)->files[0].format, "domains");
	assert_int_equal(look(p1, "n7.example", NOW, &m), VERDICT_BLOCK);
	perr_clear(&warns);

	/* A version with prefixes, then a broken one: the prefixes are kept too. */
	rewrite(local, "allow: [192.0.2.128/25]\nblock:\n  - ip: 192.0.2.0/24\n    malware: K\n"
		       "  - local.example\n");
	p2 = policy_load(&cfg, p1, NOW, &errs, &warns);
	assert_non_null(p2);
	assert_int_equal(errs.n, 0);
	rewrite(local, "block:\n  - ip: 192.0.2.1/24\n");
	p3 = policy_load(&cfg, p2, NOW, &errs, &warns);
	assert_non_null(p3);
	assert_int_equal(errs.n, 1);
	perr_clear(&errs);
	assert_true(policy_stats(p3)->files[1].kept);
	assert_int_equal(policy_stats(p3)->files[1].block, 2);
	assert_int_equal(policy_stats(p3)->files[1].allow, 1);
	assert_int_equal(look_addr_at(p3, "192.0.2.1", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "K");
	assert_int_equal(look_addr_at(p3, "192.0.2.129", NOW, &m), VERDICT_ALLOW);
	policy_free(p3);
	policy_free(p2);
	rewrite(local, "block: [local.example]\n");

	/* The feed turns to garbage and the local list changes: the feed keeps its entries. */
	rewrite(feed, "<html>\n<body>error</body>\n</html>\n");
	rewrite(local, "block: [local2.example]\n");
	p2 = policy_load(&cfg, p1, NOW, &errs, &warns);
	assert_non_null(p2);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "3 of 3 entries invalid"));
	perr_clear(&errs);
	perr_clear(&warns);
	assert_true(policy_stats(p2)->files[0].rejected);
	assert_true(policy_stats(p2)->files[0].kept);
	assert_int_equal(policy_stats(p2)->files[0].block, 20);
	assert_int_equal(look(p2, "n7.example", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->file, "feed");
	assert_int_equal(look(p2, "local2.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p2, "local.example", NOW, &m), VERDICT_PASS);

	/* An empty new version where the one in use has entries is rejected too. */
	rewrite(feed, "# nothing today\n");
	p3 = policy_load(&cfg, p2, NOW, &errs, &warns);
	assert_non_null(p3);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "no entries, where the version in use has 20"));
	perr_clear(&errs);
	assert_int_equal(look(p3, "n19.example", NOW, &m), VERDICT_BLOCK);
	policy_free(p3);

	/* A broken local list keeps its entries on reload... */
	rewrite(local, "block: [bad..name]\n");
	p3 = policy_load(&cfg, p2, NOW, &errs, &warns);
	assert_non_null(p3);
	assert_int_equal(errs.n, 2); /* the empty feed again, and the local list */
	assert_string_equal(errs.v[1].file, local);
	assert_int_equal(errs.v[1].line, 1);
	perr_clear(&errs);
	assert_int_equal(look(p3, "local2.example", NOW, &m), VERDICT_BLOCK);
	policy_free(p3);
	/* ...but at startup it is required: no policy. A missing feed copy is only a warning. */
	unlink(feed);
	p3 = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_null(p3);
	assert_int_equal(errs.n, 1);
	assert_int_equal(warns.n, 1);
	assert_non_null(strstr(warns.v[0].msg, "feed feed has no copy yet"));
	perr_clear(&errs);
	perr_clear(&warns);
	rewrite(local, "block: [local3.example]\n");
	p3 = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_non_null(p3);
	assert_int_equal(errs.n, 0);
	assert_int_equal(look(p3, "local3.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p3, "n7.example", NOW, &m), VERDICT_PASS);
	perr_clear(&warns);
	policy_free(p3);
	policy_free(p2);
	policy_free(p1);
	unlink(local);
}

/* A list's defaults and match kind; defanged names in a feed. */
static void test_list_defaults(void **state)
{
	char path[64];
	struct list_conf list = {.name = "ads", .path = path, .format = FORMAT_HOSTS};
	struct config cfg = {.lists = &list, .n_lists = 1};
	struct parse_errs errs = {0}, warns = {0};
	struct policy *p;
	struct policy_match m;

	(void)state;
	init_list(&list);
	list.defaults.threat_type = "ads";
	list.defaults.source = "EasyList";
	list.defaults.action = IOC_LOG;
	list.defaults.expires_after_days = 90;
	list.match = MATCH_EXACT;
	strcpy(path, write_temp(".hosts", "0.0.0.0 ads.example evil[.]example\n"
					   "0.0.0.0 hxxps://tracker(.)example:8443/x?y\n"
					   "127.0.0.1 localhost\n"
					   "0.0.0.0 a1.example a2.example a3.example a4.example\n"
					   "0.0.0.0 a5.example a6.example a7.example a8.example\n"
					   "only.example\n"));
	p = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_non_null(p);
	assert_int_equal(errs.n, 0);
	assert_int_equal(warns.n, 1); /* a hosts list wants an address first */
	assert_int_equal(warns.v[0].line, 6);
	assert_int_equal(look(p, "ads.example", NOW, &m), VERDICT_LOG);
	assert_string_equal(m.meta->threat_type, "ads");
	assert_string_equal(m.meta->source, "EasyList");
	assert_int_equal(m.meta->expires, NOW + 90 * 86400);
	assert_int_equal(m.meta->match, MATCH_EXACT);
	assert_int_equal(look(p, "sub.ads.example", NOW, &m), VERDICT_PASS);
	assert_int_equal(look(p, "evil.example", NOW, &m), VERDICT_LOG);
	assert_int_equal(look(p, "tracker.example", NOW, &m), VERDICT_LOG);
	assert_int_equal(look(p, "ads.example", NOW + 90 * 86400, &m), VERDICT_PASS);
	perr_clear(&warns);
	policy_free(p);

	/* expires_after_days counts from first_seen when the entry has one */
	list.format = FORMAT_YAML;
	list.match = MATCH_SUBTREE;
	rewrite(path, "block:\n  - {domain: a.example, first_seen: 2026-05-26}\n"
		      "  - {domain: b.example, expires: 2027-01-01, action: block}\n");
	p = policy_load(&cfg, NULL, NOW, &errs, &warns);
	assert_non_null(p);
	assert_int_equal(look(p, "x.a.example", NOW, &m), VERDICT_LOG);
	assert_int_equal(m.meta->expires, T_2026_05_26 + 90 * 86400);
	assert_int_equal(look(p, "b.example", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->expires, T_2027_01_01 + 86400);
	policy_free(p);
	unlink(path);
}

static void expect_defang(const char *in, const char *want)
{
	char buf[NAME_TEXT_MAX];
	size_t n = strlen(in);
	const char *out = name_defang(in, &n, buf);

	if (n != strlen(want) || memcmp(out, want, n) != 0)
		fail_msg("defang(%s) = %.*s, want %s", in, (int)n, out, want);
}

static void test_defang(void **state)
{
	(void)state;
	expect_defang("evil.com", "evil.com");
	expect_defang("evil[.]com", "evil.com");
	expect_defang("a(.)b{.}c[dot]d(dot)e", "a.b.c.d.e");
	expect_defang("hxxp://evil.com/path?x#y", "evil.com");
	expect_defang("hXXps://evil[.]com:8443/", "evil.com");
	expect_defang("https://evil.com", "evil.com");
	expect_defang("hxxp[://]evil.com", "evil.com");
	expect_defang("evil.com:443", "evil.com");
	expect_defang("evil.com/", "evil.com");
	expect_defang("ftp://evil.com", "ftp:"); /* not a scheme it undoes: left invalid */
	expect_defang("[.]", ".");
}

static void test_shipped_conf(void **state)
{
	const char *dir = getenv("SINKHOLED_TEST_DATA");
	char path[4096];
	struct list_conf list = {.name = "blocklist.yaml", .path = path, .format = FORMAT_YAML};
	struct config cfg;
	struct parse_errs errs = {0}, warns = {0};
	struct policy *p;
	struct policy_match m;

	(void)state;
	if (!dir)
		dir = "tests";
	snprintf(path, sizeof(path), "%s/../conf/blocklist.yaml", dir);
	memset(&cfg, 0, sizeof(cfg));
	init_list(&list);
	cfg.lists = &list;
	cfg.n_lists = 1;
	p = policy_load(&cfg, NULL, NOW, &errs, &warns);
	if (!p) {
		char buf[512];

		for (size_t i = 0; i < errs.n; i++) {
			perr_format(&errs.v[i], buf, sizeof(buf));
			print_error("%s\n", buf);
		}
		fail_msg("cannot load %s", path);
	}
	assert_int_equal(look(p, "www.mobile1.com", NOW, &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "NanoCore RAT");
	assert_string_equal(m.meta->threat_type, "botnet_cc");
	assert_string_equal(m.meta->source, "ThreatFox");
	assert_string_equal(m.meta->file, "blocklist.yaml");
	assert_int_equal(m.meta->confidence, 75);
	assert_int_equal(m.meta->first_seen, T_2026_05_27);
	assert_int_equal(m.meta->action, IOC_BLOCK);
	assert_int_equal(look(p, "spapro.co.com", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->first_seen, T_2026_05_26);
	assert_int_equal(look(p, "a.www.shbet.id", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "moocow.my", NOW, &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "mobile1.com", NOW, &m), VERDICT_PASS);
	assert_int_equal(policy_stats(p)->block, 4);
	assert_int_equal(policy_stats(p)->allow, 0);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_inherited),
		cmocka_unit_test(test_fields_after_domains),
		cmocka_unit_test(test_entry_overrides),
		cmocka_unit_test(test_bare_and_single),
		cmocka_unit_test(test_allow_wins),
		cmocka_unit_test(test_action_log),
		cmocka_unit_test(test_expires),
		cmocka_unit_test(test_min_confidence),
		cmocka_unit_test(test_subdomains_and_partial),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_yaml_syntax_and_top),
		cmocka_unit_test(test_name_to_wire),
		cmocka_unit_test(test_defang),
		cmocka_unit_test(test_ip_entries),
		cmocka_unit_test(test_ip_errors),
		cmocka_unit_test(test_ip_expiry_falls_back),
		cmocka_unit_test(test_list_fallback),
		cmocka_unit_test(test_threatfox_ids_kept),
		cmocka_unit_test(test_list_defaults),
		cmocka_unit_test(test_null_values),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_shipped_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
