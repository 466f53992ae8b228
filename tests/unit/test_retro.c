/* SPDX-License-Identifier: MIT */
/*
 * The retro-hunt's memory of lookups (retro.h): matching a new policy against it (exact
 * names, subdomains, counts, first and last lookup per client and rule), bounded memory under
 * a million distinct names with the oldest dropped, no false positives when names' hashes
 * collide, the window, the workers' ring, and the block-log record of a finding; and the
 * addresses of answers against newly listed prefixes (IP indicators), with the names in one
 * store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocklog.h"
#include "config.h"
#include "formats/format.h"
#include "policy/policy.h"
#include "retro.h"
#include "util/name.h"

#define T0 1764547200000LL /* 2025-12-01T00:00:00Z, ms */
#define DAY 86400000LL

static const uint8_t client_a[16] = {10, 0, 0, 1}, client_b[16] = {10, 0, 0, 2};

/* "www.evil.com" in canonical wire form into buf; returns its length. */
static size_t wire(const char *dotted, uint8_t *buf)
{
	const char *why;
	int n = name_to_wire(dotted, strlen(dotted), buf, &why);

	assert_true(n > 0);
	return (size_t)n;
}

static void add(struct retro_store *s, const char *name, const uint8_t *client, int64_t t)
{
	uint8_t w[DNS_MAX_NAME];

	retro_store_add(s, w, wire(name, w), AF_INET, client, t);
}

/* Client got an answer to name (dotted) holding the address ans (IPv4 or IPv6 text). */
static void add_ans(struct retro_store *s, const char *name, const uint8_t *client, const char *ans,
		    int64_t t)
{
	uint8_t w[DNS_MAX_NAME], a[16];
	int family = strchr(ans, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(family, ans, a), 1);
	retro_store_add_addr(s, w, wire(name, w), AF_INET, client, family, a, t);
}

static uint64_t same_hash(const uint8_t *name, size_t len, uint64_t seed)
{
	(void)name, (void)len, (void)seed;
	return 7;
}

static struct policy *policy(const char *yaml)
{
	struct parse_errs errs = {0};
	struct policy *p = policy_load_string(yaml, strlen(yaml), "bl.yaml", 0, T0 / 1000, &errs);

	assert_non_null(p);
	assert_int_equal(errs.n, 0);
	return p;
}

static void put_policy(struct policy *p)
{
	if (policy_release(p))
		policy_free(p);
}

#define MAX_FOUND 64

struct found {
	struct policy *p; /* the new policy, which the findings' metadata borrow from */
	size_t n;
	struct retro_finding f[MAX_FOUND];
};

static void collect(const struct retro_finding *f, void *arg)
{
	struct found *out = arg;

	assert_true(out->n < MAX_FOUND);
	out->f[out->n++] = *f;
}

/* The finding of client for the listed rule (dotted), or NULL. */
static const struct retro_finding *find(const struct found *fd, const uint8_t *client,
					const char *rule)
{
	uint8_t w[DNS_MAX_NAME];
	size_t n = wire(rule, w);

	for (size_t i = 0; i < fd->n; i++) {
		const struct retro_finding *f = &fd->f[i];

		if (memcmp(f->addr, client, 16) == 0 && (size_t)(f->name_len - f->rule_off) == n &&
		    memcmp(f->name + f->rule_off, w, n) == 0)
			return f;
	}
	return NULL;
}

static void match(struct retro_store *s, const char *old_yaml, const char *new_yaml, int64_t now,
		  struct found *fd, struct retro_result *res)
{
	struct policy *o = policy(old_yaml), *n = policy(new_yaml);

	memset(fd, 0, sizeof(*fd));
	assert_int_equal(retro_store_match(s, o, n, now, collect, fd, res), 0);
	assert_int_equal(res->findings, fd->n);
	put_policy(o);
	fd->p = n;
}

static void done(struct found *fd)
{
	put_policy(fd->p);
	fd->p = NULL;
}

static const char old_list[] = "block: [old.example]\n";

/* The finding of client for a listed prefix of length bits, or NULL. */
static const struct retro_finding *find_ip(const struct found *fd, const uint8_t *client,
					   unsigned bits)
{
	for (size_t i = 0; i < fd->n; i++) {
		const struct retro_finding *f = &fd->f[i];

		if (memcmp(f->addr, client, 16) == 0 && f->ans_family && f->rule_off == bits)
			return f;
	}
	return NULL;
}

static void assert_name(const struct retro_finding *f, const char *dotted)
{
	uint8_t w[DNS_MAX_NAME];

	assert_int_equal(f->name_len, wire(dotted, w));
	assert_memory_equal(f->name, w, f->name_len);
}

static void assert_ans(const struct retro_finding *f, const char *text)
{
	uint8_t a[16];
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(f->ans_family, family);
	assert_int_equal(inet_pton(family, text, a), 1);
	assert_memory_equal(f->ans_addr, a, family == AF_INET ? 4 : 16);
}

static const char ip_list[] = "block:\n"
			      "  - ip: 192.0.2.0/24\n"
			      "    malware: IPRAT\n"
			      "    threat_type: botnet_cc\n";

/*
 * A newly listed /24 finds the clients whose answers held an address in it: one finding per
 * (client, prefix), summed over its addresses and names, with the last answer's name and
 * address; addresses outside it, or answers older than the window, find nothing.
 */
static void finds_answers_in_new_prefix(void **state)
{
	struct retro_store *s = retro_store_new(4u << 20, 7 * 86400, 42);
	struct retro_result res;
	const struct retro_finding *f;
	struct found fd;

	(void)state;
	assert_non_null(s);
	add_ans(s, "cdn.shady.example", client_a, "192.0.2.77", T0 + 1000);
	add_ans(s, "cdn.shady.example", client_a, "192.0.2.77", T0 + 2000);
	add_ans(s, "www.other.example", client_a, "192.0.2.78", T0 + 4000); /* last */
	add_ans(s, "cdn.shady.example", client_a, "192.0.3.77", T0 + 5000); /* outside */
	add_ans(s, "clean.example", client_b, "198.51.100.5", T0 + 3000);
	add_ans(s, "clean.example", client_b, "192.0.3.1", T0 + 3000);
	match(s, old_list, ip_list, T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 1);
	assert_int_equal(res.clients, 1);
	assert_int_equal(fd.n, 1);
	f = find_ip(&fd, client_a, 24);
	assert_non_null(f);
	assert_int_equal(f->count, 3);
	assert_int_equal(f->first_ms, T0 + 1000);
	assert_int_equal(f->last_ms, T0 + 4000);
	assert_name(f, "www.other.example");
	assert_ans(f, "192.0.2.78");
	assert_string_equal(f->meta->malware, "IPRAT");
	/* The names answered are not listed: no name finding. */
	assert_null(find(&fd, client_a, "cdn.shady.example"));
	done(&fd);

	/* A /32 inside it is a rule of its own: the longest listed prefix holding the address. */
	match(s, old_list, "block: [{ip: 192.0.2.0/24}, {ip: 192.0.2.77, malware: One}]\n",
	      T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 2);
	assert_int_equal(fd.n, 2);
	f = find_ip(&fd, client_a, 32);
	assert_non_null(f);
	assert_int_equal(f->count, 2);
	assert_ans(f, "192.0.2.77");
	assert_string_equal(f->meta->malware, "One");
	f = find_ip(&fd, client_a, 24);
	assert_non_null(f);
	assert_int_equal(f->count, 1);
	assert_ans(f, "192.0.2.78");
	done(&fd);

	/* A prefix not on a byte boundary: 192.0.2.x and 192.0.3.x are one rule. */
	match(s, old_list, "block: [{ip: 192.0.0.0/22}]\n", T0 + DAY, &fd, &res);
	assert_int_equal(fd.n, 2);
	assert_int_equal(find_ip(&fd, client_b, 22)->count, 1); /* 192.0.3.1 */
	f = find_ip(&fd, client_a, 22);
	assert_non_null(f);
	assert_int_equal(f->count, 4);
	assert_ans(f, "192.0.3.77");
	assert_name(f, "cdn.shady.example");
	done(&fd);

	/* Past the window: nothing. */
	match(s, old_list, ip_list, T0 + 8 * DAY, &fd, &res);
	assert_int_equal(fd.n, 0);
	done(&fd);
	retro_store_free(s);
}

/*
 * An address the old policy listed (by the same prefix, a wider or a narrower one) is not
 * reported again; an allowed prefix wins, and so does an allowed name.
 */
static void listed_before_and_allowed(void **state)
{
	struct retro_store *s = retro_store_new(4u << 20, 7 * 86400, 42);
	struct retro_result res;
	struct found fd;

	(void)state;
	assert_non_null(s);
	add_ans(s, "a.example", client_a, "192.0.2.77", T0 + 1000);
	add_ans(s, "b.example", client_b, "192.0.2.5", T0 + 1000);

	/* The same list again: nothing new. */
	match(s, ip_list, ip_list, T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 0);
	assert_int_equal(fd.n, 0);
	done(&fd);
	/* A wider prefix listed before: its addresses were listed. */
	match(s, "block: [{ip: 192.0.0.0/16}]\n", ip_list, T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 1);
	assert_int_equal(fd.n, 0);
	done(&fd);
	/* 192.0.2.77 listed before as a /32: only the other client's address is new. */
	match(s, "block: [{ip: 192.0.2.77}]\n", ip_list, T0 + DAY, &fd, &res);
	assert_int_equal(fd.n, 1);
	assert_non_null(find_ip(&fd, client_b, 24));
	done(&fd);
	/* The /24 listed before under an allow now gone: still listed before, not new. */
	match(s, "allow: [192.0.2.0/25]\nblock: [{ip: 192.0.2.0/24}]\n",
	      "block: [{ip: 192.0.2.0/24}, new.example]\n", T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 1);
	assert_int_equal(fd.n, 0);
	done(&fd);

	/* An allowed prefix wins: 192.0.2.77 is in 192.0.2.64/26, 192.0.2.5 is not. */
	match(s, old_list, "allow: [192.0.2.64/26]\nblock: [{ip: 192.0.2.0/24}]\n", T0 + DAY, &fd,
	      &res);
	assert_int_equal(fd.n, 1);
	assert_non_null(find_ip(&fd, client_b, 24));
	assert_null(find_ip(&fd, client_a, 24));
	done(&fd);
	/* An allowed name is never blocked by its answer. */
	match(s, old_list, "allow: [a.example]\nblock: [{ip: 192.0.2.0/24}]\n", T0 + DAY, &fd,
	      &res);
	assert_int_equal(fd.n, 1);
	assert_non_null(find_ip(&fd, client_b, 24));
	done(&fd);
	/* action: log entries are reported as blocks are. */
	match(s, old_list, "block: [{ip: 192.0.2.0/24, action: log}]\n", T0 + DAY, &fd, &res);
	assert_int_equal(fd.n, 2);
	done(&fd);
	retro_store_free(s);
}

/* IPv6 answers and prefixes; an IPv6 address never matches an IPv4 prefix. */
static void ipv6_answers(void **state)
{
	struct retro_store *s = retro_store_new(4u << 20, 7 * 86400, 42);
	struct retro_result res;
	const struct retro_finding *f;
	struct found fd;

	(void)state;
	assert_non_null(s);
	add_ans(s, "six.example", client_a, "2001:db8:bad:1::5", T0 + 1000);
	add_ans(s, "six.example", client_a, "2001:db8:bad:ffff::1", T0 + 2000);
	add_ans(s, "six.example", client_b, "2001:db8:bac::1", T0 + 2000);  /* outside the /48 */
	add_ans(s, "six.example", client_b, "::ffff:192.0.2.1", T0 + 2000); /* not IPv4 here */
	match(s, old_list, "block: [{ip: \"2001:db8:bad::/48\", malware: IPRAT6}, 192.0.2.0/24]\n",
	      T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 2);
	assert_int_equal(fd.n, 1);
	f = find_ip(&fd, client_a, 48);
	assert_non_null(f);
	assert_int_equal(f->count, 2);
	assert_ans(f, "2001:db8:bad:ffff::1");
	assert_name(f, "six.example");
	assert_string_equal(f->meta->malware, "IPRAT6");
	done(&fd);
	retro_store_free(s);
}

/*
 * Names and addresses share one store, its memory and its generations: a reload listing both
 * a name and a prefix gives one finding each; the oldest generation takes its addresses with
 * it; hashes colliding keep names and address keys apart.
 */
static void names_and_addresses_in_one_store(void **state)
{
	struct retro_store *s = retro_store_new(1u << 20, 7 * 86400, 42);
	struct retro_result res;
	struct found fd;
	char name[64];

	(void)state;
	assert_non_null(s);
	retro_store_set_hash(s, same_hash);
	add(s, "c2.example", client_a, T0 + 1000);
	add_ans(s, "c2.example", client_a, "192.0.2.77", T0 + 1000);
	add(s, "www.example", client_b, T0 + 2000);
	add_ans(s, "www.example", client_b, "198.51.100.1", T0 + 2000);
	assert_int_equal(retro_store_pairs(s), 4);
	match(s, old_list, "block: [c2.example, {ip: 192.0.2.0/24}]\n", T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 2);
	assert_int_equal(res.clients, 1);
	assert_int_equal(fd.n, 2);
	assert_non_null(find(&fd, client_a, "c2.example"));
	assert_non_null(find_ip(&fd, client_a, 24));
	done(&fd);
	retro_store_free(s);

	/* Lookups of new names fill the generations: the oldest goes, with its addresses. */
	s = retro_store_new(1u << 20, 7 * 86400, 42);
	assert_non_null(s);
	add_ans(s, "first.example", client_a, "192.0.2.77", T0);
	for (int i = 0; i < 200000; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		add(s, name, client_b, T0 + 1 + i);
	}
	add_ans(s, "last.example", client_b, "192.0.2.5", T0 + 300000);
	match(s, old_list, ip_list, T0 + 400000, &fd, &res);
	assert_int_equal(fd.n, 1);
	assert_non_null(find_ip(&fd, client_b, 24));
	done(&fd);
	retro_store_free(s);
}

/*
 * A ThreatFox feed's entries share their submission's metadata: each finding has its own
 * entry's IOC id, a name's and an address's alike.
 */
static void finds_threatfox_ids(void **state)
{
	static const char csv[] =
	    "# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"malware_printable\"\n"
	    "\"2026-05-26 10:00:00\", \"501\", \"a1.example\", \"domain\", \"Mirai\"\n"
	    "\"2026-05-26 10:00:00\", \"502\", \"a2.example\", \"domain\", \"Mirai\"\n"
	    "\"2026-05-26 10:00:00\", \"503\", \"192.0.2.77:443\", \"ip:port\", \"Mirai\"\n";
	struct retro_store *s = retro_store_new(4u << 20, 7 * 86400, 42);
	struct parse_errs errs = {0};
	struct policy *o = policy(old_list), *n;
	struct retro_result res;
	const struct retro_finding *f;
	struct found fd;

	(void)state;
	assert_non_null(s);
	n = policy_load_text(FORMAT_THREATFOX_CSV, csv, sizeof(csv) - 1, "tf.csv", 0, T0 / 1000,
			     &errs, NULL);
	assert_non_null(n);
	add(s, "www.a1.example", client_a, T0 + 1000);
	add(s, "a2.example", client_b, T0 + 2000);
	add_ans(s, "cdn.shady.example", client_b, "192.0.2.77", T0 + 3000);
	memset(&fd, 0, sizeof(fd));
	assert_int_equal(retro_store_match(s, o, n, T0 + DAY, collect, &fd, &res), 0);
	assert_int_equal(fd.n, 3);
	f = find(&fd, client_a, "a1.example");
	assert_non_null(f);
	assert_int_equal(f->ioc_id, 501);
	assert_string_equal(f->meta->malware, "Mirai");
	f = find(&fd, client_b, "a2.example");
	assert_non_null(f);
	assert_int_equal(f->ioc_id, 502);
	f = find_ip(&fd, client_b, 32);
	assert_non_null(f);
	assert_int_equal(f->ioc_id, 503);
	assert_ptr_equal(f->meta, find(&fd, client_a, "a1.example")->meta);
	put_policy(o);
	put_policy(n);
	retro_store_free(s);
}

/* Exact names and subdomains, summed per (client, rule), with first and last lookup. */
static void finds_clients_of_new_entries(void **state)
{
	struct retro_store *s = retro_store_new(4u << 20, 7 * 86400, 42);
	struct retro_result res;
	const struct retro_finding *f;
	struct found fd;
	uint8_t w[DNS_MAX_NAME];

	(void)state;
	assert_non_null(s);
	add(s, "www.mobile1.com", client_a, T0 + 1000);
	add(s, "www.mobile1.com", client_a, T0 + 5000);
	add(s, "cdn.evil.example", client_a, T0 + 2000);
	add(s, "a.b.evil.example", client_a, T0 + 9000); /* the same rule: summed */
	add(s, "www.mobile1.com", client_b, T0 + 3000);
	add(s, "notevil.example", client_b, T0 + 3000); /* not under evil.example */
	add(s, "old.example", client_b, T0 + 3000);	/* listed before: not new */
	add(s, "quiet.example", client_b, T0 + 3000);	/* never listed */
	match(s, old_list,
	      "block:\n"
	      "  - malware: NanoCore RAT\n"
	      "    domains: [www.mobile1.com, evil.example, old.example, never.asked]\n",
	      T0 + DAY, &fd, &res);
	assert_int_equal(res.new_entries, 3); /* www.mobile1.com, evil.example, never.asked */
	assert_int_equal(res.clients, 2);
	assert_int_equal(fd.n, 3);

	f = find(&fd, client_a, "www.mobile1.com");
	assert_non_null(f);
	assert_int_equal(f->count, 2);
	assert_int_equal(f->first_ms, T0 + 1000);
	assert_int_equal(f->last_ms, T0 + 5000);
	assert_string_equal(f->meta->malware, "NanoCore RAT");

	f = find(&fd, client_a, "evil.example");
	assert_non_null(f);
	assert_int_equal(f->count, 2);
	assert_int_equal(f->first_ms, T0 + 2000);
	assert_int_equal(f->last_ms, T0 + 9000);
	/* DnsQuery: the name asked last. */
	assert_int_equal(f->name_len, wire("a.b.evil.example", w));
	assert_memory_equal(f->name, w, f->name_len);

	f = find(&fd, client_b, "www.mobile1.com");
	assert_non_null(f);
	assert_int_equal(f->count, 1);
	assert_null(find(&fd, client_b, "evil.example"));
	assert_null(find(&fd, client_b, "old.example"));

	/* An allow entry wins, as in policy_lookup; exact-match lists match only the name. */
	done(&fd);
	match(s, old_list, "allow: [www.mobile1.com]\nblock: [mobile1.com]\n", T0 + DAY, &fd, &res);
	assert_int_equal(fd.n, 0);
	done(&fd);
	retro_store_free(s);
}

/* Lookups older than the window are not reported; newer ones are. */
static void window_expiry(void **state)
{
	struct retro_store *s = retro_store_new(1u << 20, 100, 42);
	struct retro_result res;
	struct found fd;

	(void)state;
	assert_non_null(s);
	add(s, "c2.example", client_a, T0);
	match(s, old_list, "block: [c2.example]\n", T0 + 99000, &fd, &res);
	assert_int_equal(fd.n, 1);
	done(&fd);
	match(s, old_list, "block: [c2.example]\n", T0 + 101000, &fd, &res);
	assert_int_equal(fd.n, 0);
	assert_int_equal(res.new_entries, 1);
	/* A lookup asked before and after the cut: reported, the last inside the window. */
	add(s, "c2.example", client_a, T0 + 150000);
	done(&fd);
	match(s, old_list, "block: [c2.example]\n", T0 + 200000, &fd, &res);
	assert_int_equal(fd.n, 1);
	assert_int_equal(fd.f[0].last_ms, T0 + 150000);
	done(&fd);
	retro_store_free(s);
}

/* Every name hashes alike: the bytes keep them apart, and only the listed one is reported. */
static void no_false_positive_on_collisions(void **state)
{
	struct retro_store *s = retro_store_new(1u << 20, 7 * 86400, 42);
	struct retro_result res;
	struct found fd;
	char name[64];

	(void)state;
	assert_non_null(s);
	retro_store_set_hash(s, same_hash);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "host%d.good.example", i);
		add(s, name, client_b, T0 + i);
	}
	add(s, "c2.evil.example", client_a, T0 + 500);
	add(s, "c2.evil.example", client_a, T0 + 600);
	match(s, old_list, "block: [evil.example, good0.example]\n", T0 + 1000, &fd, &res);
	assert_int_equal(fd.n, 1);
	assert_memory_equal(fd.f[0].addr, client_a, 16);
	assert_int_equal(fd.f[0].count, 2);
	/* The 200 names stayed 200 pairs despite the one hash. */
	assert_int_equal(retro_store_pairs(s), 201);
	done(&fd);
	retro_store_free(s);
}

/* A million distinct names in 8 MiB: memory is fixed, the oldest go, the newest stay. */
static void bounded_memory_oldest_dropped(void **state)
{
	const size_t mem = 8u << 20;
	struct retro_store *s = retro_store_new(mem, 7 * 86400, 42);
	struct retro_result res;
	struct found fd;
	char name[64], span[32];
	int64_t now = T0 + 1000000 * 100LL;

	(void)state;
	assert_non_null(s);
	assert_true(retro_store_memory(s) <= mem);
	for (int i = 0; i < 1000000; i++) {
		snprintf(name, sizeof(name), "n%d.example", i);
		add(s, name, client_a, T0 + i * 100LL); /* one lookup every 100 ms: 27.8 h */
	}
	assert_true(retro_store_memory(s) <= mem);
	assert_true(retro_store_pairs(s) < 1000000);
	assert_true(retro_store_pairs(s) > 50000);
	/* The history covers less than the window and less than the 27.8 h asked. */
	assert_true(retro_store_span(s, now) < 100000);
	assert_true(retro_store_span(s, now) > 0);
	printf("1M names in %zu bytes: %zu pairs kept, history covers %s\n", retro_store_memory(s),
	       retro_store_pairs(s),
	       retro_format_span(retro_store_span(s, now), span, sizeof(span)));
	match(s, old_list, "block: [n0.example, n999999.example, n999000.example]\n", now, &fd,
	      &res);
	assert_int_equal(fd.n, 2); /* n0 is gone */
	assert_null(find(&fd, client_a, "n0.example"));
	assert_non_null(find(&fd, client_a, "n999999.example"));
	assert_non_null(find(&fd, client_a, "n999000.example"));
	done(&fd);
	retro_store_free(s);
}

static void span_format(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(retro_format_span(2 * 86400 + 4 * 3600 + 59, b, sizeof(b)), "2d 4h");
	assert_string_equal(retro_format_span(3 * 3600 + 5 * 60, b, sizeof(b)), "3h 5m");
	assert_string_equal(retro_format_span(42, b, sizeof(b)), "42s");
	/* The span starts with the first lookup and stops at the window. */
	struct retro_store *s = retro_store_new(1u << 20, 3600, 1);
	assert_int_equal(retro_store_span(s, T0), 0);
	add(s, "a.example", client_a, T0);
	assert_int_equal(retro_store_span(s, T0 + 60000), 60);
	assert_int_equal(retro_store_span(s, T0 + 7200000), 3600);
	retro_store_free(s);
}

/* The workers' ring: what retro_record hands over, and a full ring drops and counts. */
static void ring_record_and_drop(void **state)
{
	struct retro_ring rg = {.size = RETRO_RING};
	struct retro r = {.rings = &rg, .n_rings = 1};
	struct sockaddr_storage ss = {0};
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	uint8_t w[DNS_MAX_NAME];
	size_t n = wire("x.example", w);

	(void)state;
	rg.ev = calloc(RETRO_RING, sizeof(*rg.ev));
	assert_non_null(rg.ev);
	s6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::5", &s6->sin6_addr);
	for (int i = 0; i < RETRO_RING + 10; i++)
		retro_record(&r, 0, w, n, &ss, T0 + i);
	assert_int_equal(atomic_load(&rg.head), RETRO_RING);
	assert_int_equal(retro_dropped(&r), 10);
	assert_int_equal(rg.ev[5].family, AF_INET6);
	assert_int_equal(rg.ev[5].t_ms, T0 + 5);
	assert_int_equal(rg.ev[5].len, n);
	assert_memory_equal(rg.ev[5].name, w, n);
	assert_memory_equal(rg.ev[5].addr, &s6->sin6_addr, 16);
	/* The consumer frees room: the producer sees it. */
	atomic_store(&rg.tail, 100);
	retro_record(&r, 0, w, n, &ss, T0);
	assert_int_equal(atomic_load(&rg.head), RETRO_RING + 1);
	free(rg.ev);
}

/* One answer record (owner: the question's name) of type and class into msg at *n. */
static void put_rr(uint8_t *msg, size_t *n, uint16_t type, uint16_t cls, const void *rdata,
		   uint16_t rdlen)
{
	uint8_t *p = msg + *n;

	p[0] = 0xc0, p[1] = 0x0c;
	p[2] = (uint8_t)(type >> 8), p[3] = (uint8_t)type;
	p[4] = (uint8_t)(cls >> 8), p[5] = (uint8_t)cls;
	memset(p + 6, 0, 4);
	p[8] = 1; /* TTL 256 */
	p[10] = (uint8_t)(rdlen >> 8), p[11] = (uint8_t)rdlen;
	memcpy(p + 12, rdata, rdlen);
	*n += 12u + rdlen;
}

/*
 * retro_record_answer: the first RETRO_ANSWER_ADDRS A/AAAA records of class IN, an
 * IPv4-mapped AAAA as IPv4, nothing for an answer without addresses, a cut record ends the
 * walk, a full ring drops and counts.
 */
static void ring_record_answer(void **state)
{
	struct retro_ring rg = {.size = 256};
	struct retro r = {.rings = &rg, .n_rings = 1};
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	uint8_t msg[512], q[DNS_MAX_NAME], a[6][16], cdn[DNS_MAX_NAME];
	size_t n, off, qlen = wire("x.example", q), cdn_len = wire("cdn.example", cdn);
	const struct retro_ev *e;

	(void)state;
	rg.ev = calloc(rg.size, sizeof(*rg.ev));
	assert_non_null(rg.ev);
	s4->sin_family = AF_INET;
	inet_pton(AF_INET, "10.0.0.9", &s4->sin_addr);
	inet_pton(AF_INET, "192.0.2.1", a[0]);
	inet_pton(AF_INET6, "2001:db8::1", a[1]);
	inet_pton(AF_INET6, "::ffff:192.0.2.2", a[2]);
	inet_pton(AF_INET, "192.0.2.3", a[3]);
	inet_pton(AF_INET, "192.0.2.4", a[4]);
	inet_pton(AF_INET, "192.0.2.5", a[5]);

	memset(msg, 0, 12);
	msg[2] = 0x81, msg[3] = 0x80;
	msg[5] = 1; /* QDCOUNT */
	memcpy(msg + 12, q, qlen);
	n = 12 + qlen;
	msg[n++] = 0, msg[n++] = 1, msg[n++] = 0, msg[n++] = 1;
	off = n;
	put_rr(msg, &n, 5, 1, cdn, (uint16_t)cdn_len); /* CNAME */
	put_rr(msg, &n, 1, 1, a[0], 4);
	put_rr(msg, &n, 1, 3, a[5], 4); /* class CH: not an address of the answer */
	put_rr(msg, &n, 28, 1, a[1], 16);
	put_rr(msg, &n, 28, 1, a[2], 16);
	put_rr(msg, &n, 1, 1, a[3], 4);
	put_rr(msg, &n, 1, 1, a[4], 4); /* the fifth: beyond RETRO_ANSWER_ADDRS */
	msg[7] = 7;			/* ANCOUNT */
	retro_record_answer(&r, 0, q, qlen, &ss, T0 + 7, msg, n, off);
	assert_int_equal(atomic_load(&rg.head), 1);
	e = &rg.ev[0];
	assert_int_equal(e->kind, RETRO_EV_ANSWER);
	assert_int_equal(e->family, AF_INET);
	assert_memory_equal(e->addr, &s4->sin_addr, 4);
	assert_int_equal(e->t_ms, T0 + 7);
	assert_int_equal(e->len, qlen);
	assert_memory_equal(e->name, q, qlen);
	assert_int_equal(e->n_ans, RETRO_ANSWER_ADDRS);
	assert_int_equal(e->ans_family[0], AF_INET);
	assert_memory_equal(e->ans[0], a[0], 4);
	assert_int_equal(e->ans_family[1], AF_INET6);
	assert_memory_equal(e->ans[1], a[1], 16);
	assert_int_equal(e->ans_family[2], AF_INET); /* ::ffff:192.0.2.2 */
	assert_memory_equal(e->ans[2], a[2] + 12, 4);
	assert_int_equal(e->ans_family[3], AF_INET);
	assert_memory_equal(e->ans[3], a[3], 4);

	/* Cut inside the AAAA: the records before it count. */
	retro_record_answer(&r, 0, q, qlen, &ss, T0, msg, off + 12 + cdn_len + 16 + 16 + 20, off);
	assert_int_equal(atomic_load(&rg.head), 2);
	assert_int_equal(rg.ev[1].n_ans, 1);
	/* The CNAME alone: nothing handed over; nor for a message shorter than a header. */
	retro_record_answer(&r, 0, q, qlen, &ss, T0, msg, off + 12 + cdn_len, off);
	msg[7] = 1;
	retro_record_answer(&r, 0, q, qlen, &ss, T0, msg, n, off);
	retro_record_answer(&r, 0, q, qlen, &ss, T0, msg, 11, off);
	assert_int_equal(atomic_load(&rg.head), 2);
	/* Names and answers share the ring; a full one drops and counts. */
	msg[7] = 7;
	for (size_t i = 2; i < rg.size; i++)
		retro_record(&r, 0, q, qlen, &ss, T0);
	assert_int_equal(rg.ev[5].kind, RETRO_EV_NAME);
	retro_record_answer(&r, 0, q, qlen, &ss, T0, msg, n, off);
	assert_int_equal(atomic_load(&rg.head), rg.size);
	assert_int_equal(retro_dropped(&r), 1);
	free(rg.ev);
}

/* An IP finding's block-log line: the address, the prefix, MatchedVia ip, RetroHunt. */
static void blocklog_record_ip(void **state)
{
	struct policy *p = policy(ip_list);
	struct policy_match m;
	struct blocklog_rec rec;
	uint8_t a[4];
	char buf[8192];
	size_t n;

	(void)state;
	inet_pton(AF_INET, "192.0.2.77", a);
	policy_lookup_addr(p, AF_INET, a, T0 / 1000, &m);
	assert_int_equal(m.verdict, VERDICT_BLOCK);
	memset(&rec, 0, sizeof(rec));
	rec.qname_len = (uint8_t)wire("cdn.shady.example", rec.qname);
	rec.time_ms = T0 + 2 * DAY;
	rec.src_family = AF_INET;
	memcpy(rec.src_addr, client_a, 4);
	rec.proto = BLOCKLOG_RETRO;
	rec.action = BLOCKLOG_ALLOWED;
	rec.via = BLOCKLOG_VIA_IP;
	rec.matched_len = 4;
	memcpy(rec.matched, a, 4);
	rec.rule_off = (uint8_t)m.rule_off;
	rec.meta = m.meta;
	rec.count = 2;
	rec.start_ms = T0;
	rec.end_ms = T0 + DAY;
	rec.listed_ms = T0 + 2 * DAY;
	n = blocklog_format(&rec, "dns1", buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, "\"EventCount\":2,"));
	assert_non_null(
	    strstr(buf, "\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":\"retrohunt\""));
	assert_non_null(
	    strstr(buf, "\"DnsQuery\":\"cdn.shady.example\",\"DnsResponseCodeName\":\"NA\","
			"\"DnsResponseName\":\"192.0.2.77\",\"ThreatField\":\"DnsResponseName\","
			"\"RuleName\":\"192.0.2.0/24\",\"ThreatName\":\"IPRAT\""));
	assert_non_null(
	    strstr(buf, "{\"ThreatIocType\":\"ip\",\"RetroHunt\":true,"
			"\"ListedTime\":\"2025-12-03T00:00:00.000Z\",\"MatchedVia\":\"ip\""));
	put_policy(p);
}

/* A finding's block-log line: Allowed, counts and times, no per-query fields. */
static void blocklog_record(void **state)
{
	struct policy *p = policy("block:\n  - malware: NanoCore RAT\n    threat_type: botnet_cc\n"
				  "    domains: [mobile1.com]\n");
	struct policy_match m;
	struct blocklog_rec rec;
	char buf[8192];
	size_t n;

	(void)state;
	memset(&rec, 0, sizeof(rec));
	rec.qname_len = (uint8_t)wire("www.mobile1.com", rec.qname);
	policy_lookup(p, rec.qname, rec.qname_len, T0 / 1000, &m);
	assert_int_equal(m.verdict, VERDICT_BLOCK);
	rec.time_ms = T0 + 2 * DAY;
	rec.src_family = AF_INET;
	memcpy(rec.src_addr, client_a, 4);
	rec.proto = BLOCKLOG_RETRO;
	rec.action = BLOCKLOG_ALLOWED;
	rec.rule_off = (uint8_t)m.rule_off;
	rec.meta = m.meta;
	rec.count = 3;
	rec.start_ms = T0 + 1500;
	rec.end_ms = T0 + DAY;
	rec.listed_ms = T0 + 2 * DAY - 250;
	n = blocklog_format(&rec, "dns1", buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf,
			       "{\"TimeGenerated\":\"2025-12-03T00:00:00.000Z\","
			       "\"EventCount\":3,\"EventStartTime\":\"2025-12-01T00:00:01.500Z\","
			       "\"EventEndTime\":\"2025-12-02T00:00:00.000Z\","));
	assert_non_null(
	    strstr(buf, "\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":\"retrohunt\","
			"\"SrcIpAddr\":\"10.0.0.1\",\"Src\":\"10.0.0.1\","
			"\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\"www.mobile1.com\""));
	/* No answer of its own: a request, NA, and the entry's action (block) as original type. */
	assert_non_null(strstr(buf, "\"EventSubType\":\"request\",\"EventResult\":\"NA\","
				    "\"EventResultDetails\":\"NA\",\"EventSeverity\":\"Low\","
				    "\"EventOriginalType\":\"block\""));
	assert_non_null(strstr(buf, "\"DnsResponseCodeName\":\"NA\""));
	assert_null(strstr(buf, "Dst"));
	assert_null(strstr(buf, "DnsQueryClass"));
	assert_null(strstr(buf, "DnsFlagsRecursionDesired"));
	assert_non_null(strstr(buf, ",\"ThreatField\":\"Domain\",\"RuleName\":\"mobile1.com\","
				    "\"ThreatName\":\"NanoCore RAT\""));
	assert_non_null(strstr(buf, "\"RetroHunt\":true,\"ListedTime\":"
				    "\"2025-12-02T23:59:59.750Z\""));
	assert_null(strstr(buf, "SrcPortNumber"));
	assert_null(strstr(buf, "TransactionIdHex"));
	assert_null(strstr(buf, "DnsQueryType"));
	assert_null(strstr(buf, "DnsResponseCode\""));
	assert_null(strstr(buf, "NetworkProtocol\""));
	put_policy(p);
}

/* The config section: defaults, values, and errors with FILE:LINE:COLUMN. */
static void config_section(void **state)
{
	static const char good[] = "retro_hunt: {window: 2d, memory: 16M}\n";
	static const char off[] = "retro_hunt:\n  enabled: false\n";
	static const char bad[] = "retro_hunt:\n  window: 2x\n  memory: 10K\n  colour: red\n";
	struct parse_errs errs = {0};
	struct config *cfg = NULL;
	char msg[512];

	(void)state;
	assert_int_equal(config_load_string("{}\n", 3, "c.yaml", &cfg, &errs), 0);
	assert_true(cfg->retro.enabled);
	assert_int_equal(cfg->retro.window_s, 7 * 86400);
	assert_int_equal(cfg->retro.memory, 64u << 20);
	config_free(cfg);
	assert_int_equal(config_load_string(good, strlen(good), "c.yaml", &cfg, &errs), 0);
	assert_int_equal(cfg->retro.window_s, 2 * 86400);
	assert_int_equal(cfg->retro.memory, 16u << 20);
	config_free(cfg);
	assert_int_equal(config_load_string(off, strlen(off), "c.yaml", &cfg, &errs), 0);
	assert_false(cfg->retro.enabled);
	config_free(cfg);
	cfg = NULL;
	assert_int_not_equal(config_load_string(bad, strlen(bad), "c.yaml", &cfg, &errs), 0);
	assert_int_equal(errs.n, 3);
	perr_format(&errs.v[0], msg, sizeof(msg));
	assert_non_null(strstr(msg, "c.yaml:2:11: retro_hunt.window"));
	perr_format(&errs.v[1], msg, sizeof(msg));
	assert_non_null(strstr(msg, "c.yaml:3:11: retro_hunt.memory"));
	perr_format(&errs.v[2], msg, sizeof(msg));
	assert_non_null(strstr(msg, "c.yaml:4:3"));
	perr_clear(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(finds_clients_of_new_entries),
	    cmocka_unit_test(finds_answers_in_new_prefix),
	    cmocka_unit_test(finds_threatfox_ids),
	    cmocka_unit_test(listed_before_and_allowed),
	    cmocka_unit_test(ipv6_answers),
	    cmocka_unit_test(names_and_addresses_in_one_store),
	    cmocka_unit_test(ring_record_answer),
	    cmocka_unit_test(blocklog_record_ip),
	    cmocka_unit_test(window_expiry),
	    cmocka_unit_test(no_false_positive_on_collisions),
	    cmocka_unit_test(bounded_memory_oldest_dropped),
	    cmocka_unit_test(span_format),
	    cmocka_unit_test(ring_record_and_drop),
	    cmocka_unit_test(blocklog_record),
	    cmocka_unit_test(config_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
