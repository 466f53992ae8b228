/* SPDX-License-Identifier: MIT */
/*
 * The `adblock` and `rpz` list formats: the samples in tests/data/ loaded through the policy
 * builder, then looked up: which names match (and how: subtree, exact, below), the answer each
 * entry asks for, what was skipped by reason, and where the invalid lines are reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "policy/policy.h"
#include "look_addr.h"
#include "util/name.h"
#include "util/readfile.h"

#define NOW 1780272000 /* 2026-06-01T00:00:00Z */

struct loaded {
	struct policy *p;
	struct parse_errs errs, warns;
};

/* Load tests/data/file as format; the list must be accepted. */
static void load(const char *file, int format, struct loaded *l)
{
	const char *dir = getenv("SINKHOLED_TEST_DATA");
	char path[4096], *text = NULL;
	size_t len = 0;
	bool mapped = false;

	snprintf(path, sizeof(path), "%s/data/%s", dir ? dir : "tests", file);
	assert_int_equal(readfile(path, &text, &len, &mapped), 0);
	memset(l, 0, sizeof(*l));
	l->p = policy_load_text(format, text, len, file, 0, NOW, &l->errs, &l->warns);
	readfile_release(text, len, mapped);
	for (size_t i = 0; !l->p && i < l->errs.n; i++) {
		char buf[512];

		perr_format(&l->errs.v[i], buf, sizeof(buf));
		print_error("%s\n", buf);
	}
	assert_non_null(l->p);
	assert_int_equal(l->errs.n, 0);
}

static void unload(struct loaded *l)
{
	policy_free(l->p);
	perr_clear(&l->errs);
	perr_clear(&l->warns);
}

static enum verdict look(const struct policy *p, const char *name, struct policy_match *m)
{
	uint8_t w[255];
	const char *why = NULL;
	int n = name_to_wire(name, strlen(name), w, &why);

	assert_true(n > 0);
	policy_lookup(p, w, (size_t)n, NOW, m);
	return m->verdict;
}

/* An address of an answer, at NOW. */
#define look_addr(p, text, m) look_addr_at(p, text, NOW, m)

/* How many lines were skipped for reason (0 when it is not among the reasons). */
static size_t skipped(const struct policy *p, const char *reason)
{
	const struct list_stats *st = &policy_stats(p)->files[0];

	for (size_t i = 0; i < LIST_SKIP_REASONS; i++)
		if (st->skip[i].reason && strcmp(st->skip[i].reason, reason) == 0)
			return st->skip[i].n;
	return 0;
}

static void assert_warning(const struct parse_errs *w, size_t i, const char *file, int line,
			   int col, const char *msg)
{
	assert_true(i < w->n);
	assert_string_equal(w->v[i].file, file);
	assert_int_equal(w->v[i].line, line);
	assert_int_equal(w->v[i].col, col);
	if (!strstr(w->v[i].msg, msg))
		fail_msg("warning %zu: \"%s\" does not contain \"%s\"", i, w->v[i].msg, msg);
}

static void test_adblock_sample(void **state)
{
	struct loaded l;
	struct policy_match m;
	const struct list_stats *st;

	(void)state;
	load("sample.adblock", FORMAT_ADBLOCK, &l);
	st = &policy_stats(l.p)->files[0];
	assert_string_equal(st->format, "adblock");

	/* ||name^ blocks the name and its subdomains; @@||name^ allows a subtree of it. */
	assert_int_equal(look(l.p, "ads.example.com", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->match, MATCH_SUBTREE);
	assert_int_equal(m.meta->answer, ANSWER_DEFAULT);
	assert_string_equal(m.meta->file, "sample.adblock");
	assert_int_equal(look(l.p, "x.y.ads.example.com", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 4);
	assert_int_equal(look(l.p, "cdn.ads.example.com", &m), VERDICT_ALLOW);
	assert_int_equal(look(l.p, "img.cdn.ads.example.com", &m), VERDICT_ALLOW);
	assert_int_equal(look(l.p, "notads.example.com", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "tracker.example.net", &m), VERDICT_BLOCK); /* "^|" */
	assert_int_equal(look(l.p, "ok.tracker.example.net", &m), VERDICT_ALLOW);
	assert_int_equal(look(l.p, "metrics.example.org", &m), VERDICT_BLOCK); /* $important */
	assert_int_equal(look(l.p, "doubleclick.example", &m), VERDICT_BLOCK);

	/* Skipped, never applied as something else. */
	assert_int_equal(look(l.p, "third.example.com", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "rewrite.example.com", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "client.example.com", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "example.com", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "partial.example", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "a.wild.example", &m), VERDICT_PASS);

	assert_int_equal(st->block, 9);
	assert_int_equal(st->allow, 2);
	assert_int_equal(st->invalid, 1);
	assert_int_equal(skipped(l.p, "cosmetic rule"), 5);
	assert_int_equal(skipped(l.p, "regular expression rule"), 2);
	assert_int_equal(skipped(l.p, "rule with a modifier other than $important"), 7);
	assert_int_equal(skipped(l.p, "URL or path pattern"), 5);
	assert_int_equal(skipped(l.p, "address rule"), 1);
	assert_int_equal(st->skipped, 20);

	assert_int_equal(l.warns.n, 1);
	assert_warning(&l.warns, 0, "sample.adblock", 41, 3, "empty label");
	unload(&l);
}

static void test_rpz_sample(void **state)
{
	struct loaded l;
	struct policy_match m;
	const struct list_stats *st;
	uint8_t a4[4], a6[16];

	(void)state;
	load("sample.rpz", FORMAT_RPZ, &l);
	st = &policy_stats(l.p)->files[0];
	assert_string_equal(st->format, "rpz");

	/* "x": the name only. */
	assert_int_equal(look(l.p, "exact.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->match, MATCH_EXACT);
	assert_int_equal(m.meta->answer, ANSWER_NXDOMAIN);
	assert_int_equal(look(l.p, "a.exact.test", &m), VERDICT_PASS);
	/* "*.x": its subdomains only. */
	assert_int_equal(look(l.p, "below.test", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "a.b.below.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->match, MATCH_BELOW);
	assert_int_equal(m.rule_off, 4);
	/* Both: the name and its subdomains. */
	assert_int_equal(look(l.p, "both.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->match, MATCH_SUBTREE);
	assert_int_equal(look(l.p, "a.both.test", &m), VERDICT_BLOCK);
	/* The apex and names outside the triggers are not listed. */
	assert_int_equal(look(l.p, "rpz.example", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "test", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "exact.test.rpz.example", &m), VERDICT_PASS);

	assert_int_equal(look(l.p, "nodata.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->answer, ANSWER_NODATA);
	assert_int_equal(look(l.p, "abs.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->answer, ANSWER_NXDOMAIN);

	/* Passthru inside a blocked subtree: the name only. */
	assert_int_equal(look(l.p, "www.corp.test", &m), VERDICT_BLOCK);
	assert_int_equal(look(l.p, "safe.corp.test", &m), VERDICT_ALLOW);
	assert_int_equal(look(l.p, "a.safe.corp.test", &m), VERDICT_BLOCK);

	assert_int_equal(look(l.p, "drop.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->answer, ANSWER_DROP);

	/* Local data. */
	assert_int_equal(look(l.p, "local.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->answer, ANSWER_LOCAL);
	assert_int_equal(m.meta->local, LOCAL_IPV4 | LOCAL_IPV6);
	inet_pton(AF_INET, "192.0.2.10", a4);
	inet_pton(AF_INET6, "2001:db8::10", a6);
	assert_memory_equal(m.meta->addrs->ipv4, a4, 4);
	assert_memory_equal(m.meta->addrs->ipv6, a6, 16);
	assert_int_equal(look(l.p, "v4only.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->answer, ANSWER_LOCAL);
	assert_int_equal(m.meta->local, LOCAL_IPV4);
	inet_pton(AF_INET, "192.0.2.20", a4);
	assert_memory_equal(m.meta->addrs->ipv4, a4, 4);

	/* Skipped by reason. */
	assert_int_equal(look(l.p, "tcp.test", &m), VERDICT_PASS);
	assert_int_equal(look(l.p, "rewrite.test", &m), VERDICT_PASS);
	assert_int_equal(skipped(l.p, "rpz-client-ip trigger"), 1);
	assert_int_equal(skipped(l.p, "rpz-nsdname trigger"), 1);
	assert_int_equal(skipped(l.p, "rpz-tcp-only action"), 1);
	assert_int_equal(skipped(l.p, "CNAME to another name (rewrite)"), 1);
	assert_int_equal(skipped(l.p, "more than one address of a type"), 1);
	assert_int_equal(skipped(l.p, "local data other than A and AAAA"), 1);
	assert_int_equal(st->skipped, 6);

	/* Response IP triggers: prefixes with the trigger's action. */
	assert_int_equal(look_addr(l.p, "192.0.2.1", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 32);
	assert_int_equal(m.meta->answer, ANSWER_NXDOMAIN);
	assert_int_equal(look_addr(l.p, "192.0.2.2", &m), VERDICT_PASS);
	assert_int_equal(look_addr(l.p, "198.51.100.200", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 24);
	assert_int_equal(m.meta->answer, ANSWER_DROP);
	assert_int_equal(look_addr(l.p, "198.51.100.7", &m), VERDICT_ALLOW); /* passthru */
	assert_int_equal(look_addr(l.p, "2001:db8::1", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 128);
	assert_int_equal(m.meta->answer, ANSWER_NODATA);
	assert_int_equal(look_addr(l.p, "2001:db8:beef::5", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 48);
	assert_int_equal(m.meta->answer, ANSWER_LOCAL);
	inet_pton(AF_INET, "192.0.2.30", a4);
	assert_memory_equal(m.meta->addrs->ipv4, a4, 4);
	assert_int_equal(look_addr(l.p, "2001:db8:bee0::5", &m), VERDICT_PASS);
	/* The trigger's owner is no QNAME trigger. */
	assert_int_equal(look(l.p, "32.1.2.0.192.rpz-ip", &m), VERDICT_PASS);
	assert_int_equal(policy_stats(l.p)->block_ip, 4);
	assert_int_equal(policy_stats(l.p)->allow_ip, 1);

	assert_int_equal(st->block, 9 + 4);
	assert_int_equal(st->allow, 1 + 1);
	assert_int_equal(st->invalid, 1);
	assert_int_equal(l.warns.n, 1);
	assert_warning(&l.warns, 0, "sample.rpz", 41, 1, "rdata");
	unload(&l);
}

/* rpz-ip triggers that are no prefix: invalid entries with their line; the rest is used. */
static void test_rpz_ip_invalid(void **state)
{
	static const char zone[] = "$ORIGIN rpz.example.\n"
				   "@ SOA ns. h. 1 2 3 4 5\n"
				   "24.1.2.0.192.rpz-ip CNAME .\n"
				   "33.1.2.0.192.rpz-ip CNAME .\n"
				   "1.2.0.192.rpz-ip CNAME .\n"
				   "64.zz.zz.2001.rpz-ip CNAME .\n"
				   "x.1.2.0.192.rpz-ip CNAME .\n";
	struct parse_errs errs = {0}, warns = {0};
	struct policy *p;
	char big[4096];
	size_t n = 0;

	(void)state;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "%s", zone);
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "32.%d.2.0.192.rpz-ip CNAME .\n", i);
	p = policy_load_text(FORMAT_RPZ, big, n, "ip.rpz", 0, NOW, &errs, &warns);
	assert_non_null(p);
	assert_int_equal(errs.n, 0);
	assert_int_equal(policy_stats(p)->block_ip, 60);
	assert_int_equal(policy_stats(p)->files[0].invalid, 5);
	assert_int_equal(warns.n, 5);
	assert_warning(&warns, 0, "ip.rpz", 3, 1,
		       "invalid address \"192.0.2.1/24\": host bits set beyond the prefix length "
		       "(did you mean 192.0.2.0/24?)");
	assert_warning(&warns, 1, "ip.rpz", 4, 1, "prefix length out of range");
	assert_warning(&warns, 2, "ip.rpz", 5, 1, "invalid address");
	assert_warning(&warns, 3, "ip.rpz", 6, 1, "invalid address");
	assert_warning(&warns, 4, "ip.rpz", 7, 1, "invalid address");
	perr_clear(&warns);
	policy_free(p);

	/* The same 5 bad triggers among 30 good ones: more than 1 in 10, the zone is rejected. */
	n = (size_t)snprintf(big, sizeof(big), "%s", zone);
	for (int i = 0; i < 30; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "32.%d.2.0.192.rpz-ip CNAME .\n", i);
	p = policy_load_text(FORMAT_RPZ, big, n, "ip.rpz", 0, NOW, &errs, &warns);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	assert_non_null(strstr(errs.v[0].msg, "5 of 35 entries invalid"));
	perr_clear(&errs);
	perr_clear(&warns);
}

/* Zones without $ORIGIN (the SOA names the apex), parse errors, owners outside the zone. */
static void test_rpz_edges(void **state)
{
	static const char zone[] = "example.rpz. 60 IN SOA ns. h. 1 2 3 4 5\n"
				   "example.rpz. 60 IN NS ns.\n"
				   "a.test.example.rpz. 60 IN CNAME .\n"
				   "b.test.example.rpz. 60 IN A 192.0.2.1\n"
				   "other.zone. 60 IN CNAME .\n"
				   "c.test.example.rpz. 60 IN CNAME rpz-passthru.\n"
				   "c.test.example.rpz. 60 IN A 192.0.2.1\n"
				   "*.*.test.example.rpz. 60 IN CNAME .\n"
				   "*.example.rpz. 60 IN CNAME .\n"
				   "d.test.example.rpz. 60 IN CNAME d.test.\n";
	struct parse_errs errs = {0}, warns = {0};
	struct policy_match m;
	struct policy *p;

	(void)state;
	p = policy_load_text(FORMAT_RPZ, zone, strlen(zone), "edges.rpz", 0, NOW, &errs, &warns);
	/* 3 invalid of 6 entries: more than 10%, the zone is rejected, each one reported. */
	assert_null(p);
	assert_int_equal(warns.n, 3);
	assert_warning(&warns, 0, "edges.rpz", 5, 1, "outside the zone");
	assert_warning(&warns, 1, "edges.rpz", 7, 1, "CNAME and other records");
	assert_warning(&warns, 2, "edges.rpz", 8, 1, "\"*\" label inside");
	assert_true(errs.n >= 1);
	perr_clear(&errs);
	perr_clear(&warns);

	/* The valid part alone: the SOA's owner is the apex. */
	p = policy_load_text(FORMAT_RPZ, zone, (size_t)(strstr(zone, "other") - zone), "edges.rpz",
			     0, NOW, &errs, &warns);
	assert_non_null(p);
	assert_int_equal(look(p, "a.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->answer, ANSWER_NXDOMAIN);
	assert_int_equal(look(p, "b.test", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->answer, ANSWER_LOCAL);
	policy_free(p);
	perr_clear(&errs);
	perr_clear(&warns);
}

/* The older passthru spelling (a CNAME to the trigger's own name); "every name" triggers. */
static void test_rpz_passthru_self(void **state)
{
	static const char zone[] = "$ORIGIN rpz.\n"
				   "@ SOA ns. h. 1 2 3 4 5\n"
				   "*.evil.test CNAME .\n"
				   "ok.evil.test CNAME ok.evil.test.\n"
				   "* CNAME .\n";
	struct parse_errs errs = {0}, warns = {0};
	struct policy_match m;
	struct policy *p;

	(void)state;
	p = policy_load_text(FORMAT_RPZ, zone, strlen(zone), "self.rpz", 0, NOW, &errs, &warns);
	assert_non_null(p);
	assert_int_equal(look(p, "x.evil.test", &m), VERDICT_BLOCK);
	assert_int_equal(look(p, "ok.evil.test", &m), VERDICT_ALLOW);
	assert_int_equal(look(p, "unrelated.test", &m), VERDICT_PASS);
	assert_int_equal(skipped(p, "trigger for every name"), 1);
	assert_int_equal(warns.n, 0);
	policy_free(p);
	perr_clear(&errs);
	perr_clear(&warns);
}

static void test_sniff_and_paths(void **state)
{
	static const char ab[] = "[Adblock Plus 2.0]\n||a.example^\n";
	static const char ab2[] = "! Title: x\n||a.example^\n";
	static const char rpz[] = "; zone\n$TTL 60\n@ SOA ns. h. 1 2 3 4 5\n";
	static const char rpz2[] = "rpz.example. 60 IN SOA ns. h. 1 2 3 4 5\n";

	(void)state;
	assert_int_equal(format_by_name("adblock"), FORMAT_ADBLOCK);
	assert_int_equal(format_by_name("rpz"), FORMAT_RPZ);
	assert_string_equal(format_name(FORMAT_RPZ), "rpz");
	assert_int_equal(format_from_path("/etc/lists/policy.rpz"), FORMAT_RPZ);
	assert_int_equal(format_from_path("easylist.adblock"), FORMAT_ADBLOCK);
	assert_int_equal(format_sniff(ab, strlen(ab)), FORMAT_ADBLOCK);
	assert_int_equal(format_sniff(ab2, strlen(ab2)), FORMAT_ADBLOCK);
	assert_int_equal(format_sniff(rpz, strlen(rpz)), FORMAT_RPZ);
	assert_int_equal(format_sniff(rpz2, strlen(rpz2)), FORMAT_RPZ);
	assert_int_equal(format_sniff("evil.example\n", 13), FORMAT_DOMAINS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_adblock_sample),  cmocka_unit_test(test_rpz_sample),
	    cmocka_unit_test(test_rpz_edges),	    cmocka_unit_test(test_rpz_passthru_self),
	    cmocka_unit_test(test_rpz_ip_invalid),
	    cmocka_unit_test(test_sniff_and_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
