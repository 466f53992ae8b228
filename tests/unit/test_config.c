/* SPDX-License-Identifier: MIT */
/* Unit tests of config: defaults, every key, and errors with their exact line:column. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acl.h"
#include "addr.h"
#include "config.h"
#include "formats/format.h"
#include "policy/policy.h"

#define FILE_NAME "/etc/sinkholed/sinkholed.yaml"
#define UP "upstreams: [\"192.0.2.1\"]\n"
#define TOP_KEYS                                                                                   \
	"listen, upstreams, upstream_timeout_ms, workers, blocklists, state_dir, watch, "          \
	"sinkhole, access, cache, retro_hunt, rate_limit, udp, tcp, upstream_max_pending, "       \
	"block_log, query_log, http, log_level, user, allow_root"

struct want_err {
	int line, col;
	const char *msg;
};

/* ---- helpers ---- */

static void print_errs(const struct parse_errs *e)
{
	char buf[1024];

	for (size_t i = 0; i < e->n; i++) {
		perr_format(&e->v[i], buf, sizeof(buf));
		print_message("  error: %s\n", buf);
	}
}

static struct config *load_ok(const char *yaml)
{
	struct parse_errs e = {0};
	struct config *cfg = NULL;
	int ret = config_load_string(yaml, strlen(yaml), FILE_NAME, &cfg, &e);

	print_errs(&e);
	assert_int_equal(ret, 0);
	assert_int_equal(e.n, 0);
	assert_non_null(cfg);
	perr_clear(&e);
	return cfg;
}

/* Load yaml and expect exactly the errors in want (in order), and no config. */
static void expect_errs(const char *yaml, const struct want_err *want, size_t n)
{
	struct parse_errs e = {0};
	struct config *cfg = (struct config *)&e;
	int ret = config_load_string(yaml, strlen(yaml), FILE_NAME, &cfg, &e);

	if (e.n != n)
		print_errs(&e);
	assert_int_equal(ret, -EINVAL);
	assert_null(cfg);
	assert_int_equal(e.n, n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e.v[i].msg, want[i].msg) != 0 || e.v[i].line != want[i].line ||
		    e.v[i].col != want[i].col)
			print_errs(&e);
		assert_string_equal(e.v[i].file, FILE_NAME);
		assert_string_equal(e.v[i].msg, want[i].msg);
		assert_int_equal(e.v[i].line, want[i].line);
		assert_int_equal(e.v[i].col, want[i].col);
	}
	perr_clear(&e);
}

static void expect_err(const char *yaml, int line, int col, const char *msg)
{
	const struct want_err w = {line, col, msg};

	expect_errs(yaml, &w, 1);
}

static void expect_addr(const struct sockaddr_storage *ss, const char *text)
{
	char buf[INET6_ADDRSTRLEN + 8];

	addr_format((const struct sockaddr *)ss, buf, sizeof(buf));
	assert_string_equal(buf, text);
}

static bool allowed_acl(const struct acl *acl, int family, const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)family;
	if (family == AF_INET)
		assert_int_equal(inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr), 1);
	else
		assert_int_equal(inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr),
				 1);
	return acl_match(acl, (struct sockaddr *)&ss);
}

static bool allowed(const struct config *cfg, int family, const char *ip)
{
	return allowed_acl(cfg->acl, family, ip);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* ---- defaults and values ---- */

static void test_defaults(void **state)
{
	struct config *cfg = load_ok(UP);
	const uint8_t zero[16] = {0};
	char host[256] = "";

	(void)state;
	assert_string_equal(cfg->path, FILE_NAME);
	assert_string_equal(cfg->dir, "/etc/sinkholed");
	assert_int_equal(cfg->n_listen, 2);
	expect_addr(&cfg->listen[0], "127.0.0.1:53");
	expect_addr(&cfg->listen[1], "[::1]:53");
	assert_int_equal(cfg->n_upstreams, 1);
	expect_addr(&cfg->upstreams[0], "192.0.2.1:53");
	assert_int_equal(cfg->upstream_timeout_ms, 1500);
	assert_int_equal(cfg->workers, 0);
	assert_int_equal(cfg->n_lists, 1);
	assert_string_equal(cfg->lists[0].path, "/etc/sinkholed/blocklist.yaml");
	assert_string_equal(cfg->lists[0].name, "blocklist.yaml");
	assert_int_equal(cfg->sinkhole.mode, SINKHOLE_ADDRESS);
	assert_memory_equal(cfg->sinkhole.ipv4, zero, 4);
	assert_memory_equal(cfg->sinkhole.ipv6, zero, 16);
	assert_int_equal(cfg->sinkhole.ttl, 60);
	assert_int_equal(cfg->sinkhole.min_confidence, 0);
	assert_true(cfg->sinkhole.inspect_cname);
	assert_string_equal(cfg->blocklog_path, "/var/log/sinkholed/blocked.jsonl");
	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	assert_string_equal(cfg->dvc, host);
	assert_int_equal(cfg->log_level, LOG_INFO);
	assert_int_equal(cfg->udp_receive_buffer, 4 << 20);
	assert_int_equal(cfg->udp_send_buffer, 4 << 20);
	assert_false(cfg->udp_buffers_set);
	assert_int_equal(cfg->tcp_idle_timeout_ms, 10000);
	assert_int_equal(cfg->tcp_max_clients, 1024);
	assert_int_equal(cfg->max_pending, 4096);
	assert_true(cfg->cache.enabled);
	assert_int_equal(cfg->cache.size, 64 * 1024 * 1024);
	assert_int_equal(cfg->cache.min_ttl, 0);
	assert_int_equal(cfg->cache.max_ttl, 86400);
	assert_int_equal(cfg->cache.negative_ttl_max, 3600);

	/* access.allow: loopback and private ranges */
	assert_non_null(cfg->acl);
	assert_int_equal(cfg->acl->n, 7);
	assert_true(allowed(cfg, AF_INET, "127.0.0.1"));
	assert_true(allowed(cfg, AF_INET, "127.255.0.9"));
	assert_true(allowed(cfg, AF_INET, "10.20.30.40"));
	assert_true(allowed(cfg, AF_INET, "172.16.0.1"));
	assert_true(allowed(cfg, AF_INET, "172.31.255.254"));
	assert_true(allowed(cfg, AF_INET, "192.168.100.1"));
	assert_true(allowed(cfg, AF_INET6, "::1"));
	assert_true(allowed(cfg, AF_INET6, "fd12:3456::1"));
	assert_true(allowed(cfg, AF_INET6, "fe80::1234"));
	assert_true(allowed(cfg, AF_INET6, "::ffff:192.168.1.1"));
	assert_false(allowed(cfg, AF_INET, "172.32.0.1"));
	assert_false(allowed(cfg, AF_INET, "8.8.8.8"));
	assert_false(allowed(cfg, AF_INET, "192.169.0.1"));
	assert_false(allowed(cfg, AF_INET6, "2001:db8::1"));
	assert_false(allowed(cfg, AF_INET6, "::ffff:8.8.8.8"));
	config_free(cfg);
}

/* `{}` is a valid config: every default, upstreams from /etc/resolv.conf. */
static void test_empty_mapping(void **state)
{
	struct sockaddr_storage *ns = NULL;
	int n = config_read_resolv_conf("/etc/resolv.conf", &ns);
	struct parse_errs e = {0};
	struct config *cfg = NULL;
	int ret = config_load_string("{}", 2, FILE_NAME, &cfg, &e);
	bool loop = false;

	(void)state;
	for (int i = 0; i < n; i++) {
		char buf[64];

		addr_format((struct sockaddr *)&ns[i], buf, sizeof(buf));
		loop = loop || !strcmp(buf, "127.0.0.1:53") || !strcmp(buf, "[::1]:53");
	}
	if (n > 0 && !loop) {
		/* The usual case: the host's nameservers, in order. */
		print_errs(&e);
		assert_int_equal(ret, 0);
		assert_int_equal(cfg->n_upstreams, n);
		for (int i = 0; i < n; i++)
			assert_true(addr_equal((struct sockaddr *)&cfg->upstreams[i],
					       (struct sockaddr *)&ns[i]));
		assert_int_equal(cfg->n_listen, 2);
		assert_int_equal(cfg->n_lists, 1);
		assert_int_equal(cfg->upstream_timeout_ms, 1500);
	} else {
		/* No usable nameserver on this host: the error tells how to fix it. */
		assert_int_equal(ret, -EINVAL);
		assert_null(cfg);
		assert_true(e.n >= 1);
		assert_int_equal(e.v[0].line, 0);
		assert_non_null(strstr(e.v[0].msg, "/etc/resolv.conf"));
	}
	config_free(cfg);
	free(ns);
	perr_clear(&e);
}

static void test_empty_sections(void **state)
{
	struct config *cfg = load_ok(UP "sinkhole:\naccess: {}\nblock_log:\n  dvc: \"\"\ncache:\n");

	(void)state;
	assert_true(cfg->cache.enabled);
	assert_int_equal(cfg->cache.size, 64 * 1024 * 1024);
	assert_int_equal(cfg->sinkhole.mode, SINKHOLE_ADDRESS);
	assert_int_equal(cfg->sinkhole.ttl, 60);
	assert_int_equal(cfg->acl->n, 7);
	assert_string_equal(cfg->blocklog_path, "/var/log/sinkholed/blocked.jsonl");
	assert_true(cfg->dvc[0] != '\0'); /* empty dvc keeps the host name */
	config_free(cfg);
}

static void test_every_key(void **state)
{
	static const char yaml[] =
		"# every key set to something other than its default\n"
		"listen: [\"0.0.0.0:5353\", \"[::]:5353\", 192.0.2.53]\n"
		"upstreams:\n"
		"  - 192.0.2.1\n"
		"  - \"192.0.2.2:5300\"\n"
		"  - \"[2001:db8::1]:53\"\n"
		"  - \"2001:db8::2\"\n"
		"upstream_timeout_ms: 250\n"
		"workers: 4\n"
		"blocklists: [lists/a.yaml, /var/lib/sinkholed/feed.yaml, ../b.yaml]\n"
		"sinkhole:\n"
		"  mode: nxdomain\n"
		"  ipv4: 192.0.2.99\n"
		"  ipv6: \"2001:db8::99\"\n"
		"  ttl: 300\n"
		"  min_confidence: 50\n"
		"access:\n"
		"  allow: [192.0.2.0/24, \"2001:db8::/32\", 198.51.100.7]\n"
		"cache:\n"
		"  enabled: false\n"
		"  size: 256M\n"
		"  min_ttl: 30\n"
		"  max_ttl: 3600\n"
		"  negative_ttl_max: 600\n"
		"block_log:\n"
		"  path: log/blocked.jsonl\n"
		"  dvc: dns-test-1\n"
		"log_level: debug\n";
	const uint8_t v4[4] = {192, 0, 2, 99};
	uint8_t v6[16];
	struct config *cfg = load_ok(yaml);

	(void)state;
	assert_int_equal(cfg->n_listen, 3);
	expect_addr(&cfg->listen[0], "0.0.0.0:5353");
	expect_addr(&cfg->listen[1], "[::]:5353");
	expect_addr(&cfg->listen[2], "192.0.2.53:53");
	assert_int_equal(cfg->n_upstreams, 4);
	expect_addr(&cfg->upstreams[0], "192.0.2.1:53");
	expect_addr(&cfg->upstreams[1], "192.0.2.2:5300");
	expect_addr(&cfg->upstreams[2], "[2001:db8::1]:53");
	expect_addr(&cfg->upstreams[3], "[2001:db8::2]:53");
	assert_int_equal(cfg->upstream_timeout_ms, 250);
	assert_int_equal(cfg->workers, 4);
	assert_int_equal(cfg->n_lists, 3);
	assert_string_equal(cfg->lists[0].path, "/etc/sinkholed/lists/a.yaml");
	assert_string_equal(cfg->lists[1].path, "/var/lib/sinkholed/feed.yaml");
	assert_string_equal(cfg->lists[2].path, "/etc/sinkholed/../b.yaml");
	assert_string_equal(cfg->lists[0].name, "lists/a.yaml");
	assert_string_equal(cfg->lists[1].name, "/var/lib/sinkholed/feed.yaml");
	assert_string_equal(cfg->lists[2].name, "../b.yaml");
	assert_int_equal(cfg->sinkhole.mode, SINKHOLE_NXDOMAIN);
	assert_memory_equal(cfg->sinkhole.ipv4, v4, 4);
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::99", v6), 1);
	assert_memory_equal(cfg->sinkhole.ipv6, v6, 16);
	assert_int_equal(cfg->sinkhole.ttl, 300);
	assert_int_equal(cfg->sinkhole.min_confidence, 50);
	assert_int_equal(cfg->acl->n, 3);
	assert_true(allowed(cfg, AF_INET, "192.0.2.200"));
	assert_true(allowed(cfg, AF_INET, "198.51.100.7"));
	assert_true(allowed(cfg, AF_INET6, "2001:db8:1::1"));
	assert_false(allowed(cfg, AF_INET, "127.0.0.1")); /* the list replaces the default */
	assert_false(allowed(cfg, AF_INET6, "::1"));
	assert_false(cfg->cache.enabled);
	assert_int_equal(cfg->cache.size, 256 * 1024 * 1024);
	assert_int_equal(cfg->cache.min_ttl, 30);
	assert_int_equal(cfg->cache.max_ttl, 3600);
	assert_int_equal(cfg->cache.negative_ttl_max, 600);
	assert_string_equal(cfg->blocklog_path, "/etc/sinkholed/log/blocked.jsonl");
	assert_string_equal(cfg->dvc, "dns-test-1");
	assert_int_equal(cfg->log_level, LOG_DEBUG);
	config_free(cfg);
}

static void test_enums_and_bounds(void **state)
{
	static const struct {
		const char *yaml;
		enum sinkhole_mode mode;
	} modes[] = {
		{UP "sinkhole: {mode: address}", SINKHOLE_ADDRESS},
		{UP "sinkhole: {mode: nxdomain}", SINKHOLE_NXDOMAIN},
		{UP "sinkhole: {mode: nodata}", SINKHOLE_NODATA},
		{UP "sinkhole: {mode: refused}", SINKHOLE_REFUSED},
	};
	static const struct {
		const char *yaml;
		enum log_level level;
	} levels[] = {
		{UP "log_level: error", LOG_ERR},
		{UP "log_level: warn", LOG_WARN},
		{UP "log_level: info", LOG_INFO},
		{UP "log_level: debug", LOG_DEBUG},
	};
	struct config *cfg;

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		cfg = load_ok(modes[i].yaml);
		assert_int_equal(cfg->sinkhole.mode, modes[i].mode);
		config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		cfg = load_ok(levels[i].yaml);
		assert_int_equal(cfg->log_level, levels[i].level);
		config_free(cfg);
	}
	cfg = load_ok(UP "upstream_timeout_ms: 10\nworkers: 256\n"
			 "sinkhole: {ttl: 604800, min_confidence: 100, inspect_cname: false}\n");
	assert_int_equal(cfg->upstream_timeout_ms, 10);
	assert_int_equal(cfg->workers, 256);
	assert_int_equal(cfg->sinkhole.ttl, 604800);
	assert_int_equal(cfg->sinkhole.min_confidence, 100);
	assert_false(cfg->sinkhole.inspect_cname);
	config_free(cfg);
	cfg = load_ok(UP "upstream_timeout_ms: 60000\nsinkhole: {ttl: 0}\naccess: {allow: []}\n");
	assert_int_equal(cfg->upstream_timeout_ms, 60000);
	assert_int_equal(cfg->sinkhole.ttl, 0);
	assert_int_equal(cfg->acl->n, 0); /* an empty allow list refuses everyone */
	assert_false(allowed(cfg, AF_INET, "127.0.0.1"));
	config_free(cfg);
	cfg = load_ok(UP "block_log: {path: \"-\"}\n");
	assert_string_equal(cfg->blocklog_path, "-");
	config_free(cfg);
}

static void test_cache_values(void **state)
{
	static const struct {
		const char *size;
		uint64_t bytes;
	} sizes[] = {
		{"65536", 65536},
		{"64K", 65536},
		{"1048576", 1048576},
		{"100K", 102400},
		{"64M", 64ull << 20},
		{"\"2G\"", 2ull << 30},
		{"65536M", 64ull << 30},
		{"64G", 64ull << 30},
		{"68719476736", 64ull << 30},
	};
	struct config *cfg;
	char yaml[200];

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(yaml, sizeof(yaml), UP "cache: {size: %s}\n", sizes[i].size);
		cfg = load_ok(yaml);
		assert_int_equal(cfg->cache.size, sizes[i].bytes);
		config_free(cfg);
	}
	cfg = load_ok(UP "cache: {enabled: true, min_ttl: 86400, max_ttl: 86400, "
			 "negative_ttl_max: 0}\n");
	assert_true(cfg->cache.enabled);
	assert_int_equal(cfg->cache.min_ttl, 86400);
	assert_int_equal(cfg->cache.max_ttl, 86400);
	assert_int_equal(cfg->cache.negative_ttl_max, 0);
	config_free(cfg);
	cfg = load_ok(UP "cache: {max_ttl: 604800, negative_ttl_max: 86400}\n");
	assert_int_equal(cfg->cache.max_ttl, 604800);
	assert_int_equal(cfg->cache.negative_ttl_max, 86400);
	config_free(cfg);
	cfg = load_ok(UP "cache: {max_ttl: 1, min_ttl: 1}\n");
	assert_int_equal(cfg->cache.min_ttl, 1);
	assert_int_equal(cfg->cache.max_ttl, 1);
	config_free(cfg);
}

/* ---- errors, each with its exact line:column ---- */

static void test_err_unknown_key(void **state)
{
	(void)state;
	expect_err(UP "worker: 2\n", 2, 1,
		   "unknown key \"worker\" (did you mean \"workers\"?); valid keys: " TOP_KEYS);
	expect_err(UP "colour: red\n", 2, 1, "unknown key \"colour\"; valid keys: " TOP_KEYS);
	expect_err("upstream:\n  - 192.0.2.1\n" UP, 1, 1,
		   "unknown key \"upstream\" (did you mean \"upstreams\"?); valid keys: " TOP_KEYS);
}

/* An entry keeps its list's index in 16 bits: more lists than that is an error. */
static void test_err_too_many_lists(void **state)
{
	size_t n = CONFIG_MAX_LISTS + 1, len = 0, cap = 64 + n * 16;
	char *yaml = malloc(cap);

	(void)state;
	assert_non_null(yaml);
	len += (size_t)snprintf(yaml, cap, UP "blocklists: [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(yaml + len, cap - len, "%sl%zu.txt", i ? ", " : "", i);
	snprintf(yaml + len, cap - len, "]\n");
	expect_err(yaml, 2, 13, "blocklists: 65536 lists; at most 65535");
	free(yaml);
}

static void test_err_unknown_nested_key(void **state)
{
	(void)state;
	expect_err(UP "sinkhole:\n  mode: nxdomain\n  tll: 5\n", 4, 3,
		   "sinkhole: unknown key \"tll\" (did you mean \"ttl\"?); "
		   "valid keys: mode, ipv4, ipv6, ttl, min_confidence, inspect_cname, inspect_ip");
	expect_err(UP "access:\n  deny: [10.0.0.0/8]\n", 3, 3,
		   "access: unknown key \"deny\"; valid keys: allow, trusted_proxies");
	expect_err(UP "block_log: {path: \"-\", dcv: x}\n", 2, 24,
		   "block_log: unknown key \"dcv\" (did you mean \"dvc\"?); valid keys: path, dvc, "
		   "aggregate_ms");
}

/* The metrics listener: off without the section, loopback by default, errors located. */
static void test_http(void **state)
{
	struct config *cfg;

	(void)state;
	cfg = load_ok(UP);
	assert_false(cfg->http.enabled);
	config_free(cfg);
	cfg = load_ok(UP "http: {}\n");
	assert_true(cfg->http.enabled);
	expect_addr(&cfg->http.listen, "127.0.0.1:9153");
	assert_true(allowed_acl(cfg->http.allow, AF_INET, "127.0.0.1"));
	assert_true(allowed_acl(cfg->http.allow, AF_INET6, "::1"));
	assert_false(allowed_acl(cfg->http.allow, AF_INET, "10.0.0.1"));
	config_free(cfg);
	cfg = load_ok(UP "http:\n  listen: \"[::1]\"\n  allow: [10.0.0.0/8]\n");
	assert_true(cfg->http.enabled);
	expect_addr(&cfg->http.listen, "[::1]:9153");
	assert_true(allowed_acl(cfg->http.allow, AF_INET, "10.1.2.3"));
	assert_false(allowed_acl(cfg->http.allow, AF_INET, "127.0.0.1"));
	config_free(cfg);
	expect_err(UP "http:\n  listen: 127.0.0.1:9153\n  alow: []\n", 4, 3,
		   "http: unknown key \"alow\" (did you mean \"allow\"?); valid keys: listen, allow, "
		   "hosts");
	expect_err(UP "http: {listen: \"127.0.0.1:99999\"}\n", 2, 16,
		   "http.listen: bad address \"127.0.0.1:99999\": bad port (expected 1..65535)");
	cfg = load_ok(UP "http:\n  hosts: [DNS1.Example.com., dash.example]\n");
	assert_non_null(cfg->http.hosts);
	assert_string_equal(cfg->http.hosts, "dns1.example.com");
	assert_string_equal(cfg->http.hosts + strlen("dns1.example.com") + 1, "dash.example");
	assert_int_equal(cfg->http.hosts[strlen("dns1.example.com") + strlen("dash.example") + 2],
			 0);
	config_free(cfg);
	expect_err(UP "http: {hosts: [\"evil example\"]}\n", 2, 16,
		   "http.hosts: expected a host name like dns1.example.com, got \"evil example\"");
	expect_err(UP "http: {hosts: dns1.example.com}\n", 2, 15,
		   "http.hosts: expected a list of host names like [dns1.example.com], got "
		   "\"dns1.example.com\"");
	expect_err(UP "http: {allow: [10.0.0.1/8]}\n", 2, 16,
		   "http.allow: bad prefix \"10.0.0.1/8\": host bits set beyond the prefix length "
		   "(did you mean 10.0.0.0/8?)");
}

static void test_err_wrong_type(void **state)
{
	(void)state;
	expect_err(UP "workers: {n: 2}\n", 2, 10,
		   "workers: expected an integer 0..256, got a mapping");
	expect_err(UP "workers: [2]\n", 2, 10, "workers: expected an integer 0..256, got a list");
	expect_err(UP "workers:\n", 2, 9, "workers: expected an integer 0..256, got nothing");
	expect_err("upstreams: 192.0.2.1\n", 1, 12,
		   "upstreams: expected a list like [\"192.0.2.1:53\", \"[2001:db8::1]:53\"], "
		   "got \"192.0.2.1\"");
	expect_err(UP "sinkhole: nxdomain\n", 2, 11,
		   "sinkhole: expected a mapping of settings, got \"nxdomain\"");
	expect_err(UP "listen: [{a: 1}]\n", 2, 10,
		   "listen: expected an address like \"192.0.2.1:53\", got a mapping");
	expect_err(UP "sinkhole:\n  ipv4: [0.0.0.0]\n", 3, 9,
		   "sinkhole.ipv4: expected an IPv4 address like 0.0.0.0, got a list");
	expect_err(UP "block_log:\n  path: {a: b}\n", 3, 9,
		   "block_log.path: expected a file name or \"-\" for stdout, got a mapping");
	expect_err(UP "blocklists: [[a.yaml]]\n", 2, 14,
		   "blocklists: expected a file name or a mapping with path: or url:, got a list");
	expect_err(UP "log_level: [info]\n", 2, 12,
		   "log_level: expected one of error, warn, info, debug, got a list");
	expect_err(UP "[a]: 1\n", 2, 1, "keys must be plain strings, got a list");
	expect_err(UP "block_log:\n  dvc: \"a\\0b\"\n", 3, 8,
		   "block_log.dvc: expected a device name, got a string with a NUL byte");
}

static void test_err_bad_int(void **state)
{
	static const char msg[] = "upstream_timeout_ms: expected an integer 10..60000, got ";
	char buf[200];

	(void)state;
	snprintf(buf, sizeof(buf), "%s\"abc\"", msg);
	expect_err(UP "upstream_timeout_ms: abc\n", 2, 22, buf);
	snprintf(buf, sizeof(buf), "%s\"1.5\"", msg);
	expect_err(UP "upstream_timeout_ms: 1.5\n", 2, 22, buf);
	snprintf(buf, sizeof(buf), "%s\"0x100\"", msg);
	expect_err(UP "upstream_timeout_ms: 0x100\n", 2, 22, buf);
	snprintf(buf, sizeof(buf), "%s\"1500ms\"", msg);
	expect_err(UP "upstream_timeout_ms: 1500ms\n", 2, 22, buf);
	snprintf(buf, sizeof(buf), "%s\"\"", msg);
	expect_err(UP "upstream_timeout_ms: \"\"\n", 2, 22, buf);
	expect_err(UP "sinkhole:\n  ttl: \"6\\t0\"\n", 3, 8,
		   "sinkhole.ttl: expected an integer 0..604800, got \"6\\x090\"");
}

static void test_err_out_of_range(void **state)
{
	(void)state;
	expect_err(UP "upstream_timeout_ms: -5\n", 2, 22,
		   "upstream_timeout_ms: expected an integer 10..60000, got \"-5\"");
	expect_err(UP "upstream_timeout_ms: 9\n", 2, 22,
		   "upstream_timeout_ms: expected an integer 10..60000, got \"9\"");
	expect_err(UP "upstream_timeout_ms: 60001\n", 2, 22,
		   "upstream_timeout_ms: expected an integer 10..60000, got \"60001\"");
	expect_err(UP "upstream_timeout_ms: 99999999999999999999999\n", 2, 22,
		   "upstream_timeout_ms: expected an integer 10..60000, "
		   "got \"99999999999999999999999\"");
	expect_err(UP "workers: 257\n", 2, 10, "workers: expected an integer 0..256, got \"257\"");
	expect_err(UP "workers: -1\n", 2, 10, "workers: expected an integer 0..256, got \"-1\"");
	expect_err(UP "sinkhole:\n  ttl: 604801\n", 3, 8,
		   "sinkhole.ttl: expected an integer 0..604800, got \"604801\"");
	expect_err(UP "sinkhole:\n  min_confidence: 101\n", 3, 19,
		   "sinkhole.min_confidence: expected an integer 0..100, got \"101\"");
}

/* udp.receive_buffer / udp.send_buffer: sizes, 0 for the kernel's default, and their errors. */
static void test_udp_buffers(void **state)
{
	struct config *cfg = load_ok(UP "udp: {receive_buffer: 16M, send_buffer: 0}\n");

	(void)state;
	assert_int_equal(cfg->udp_receive_buffer, 16 << 20);
	assert_int_equal(cfg->udp_send_buffer, 0);
	assert_true(cfg->udp_buffers_set);
	config_free(cfg);
	cfg = load_ok(UP "udp:\n  send_buffer: 64K\n");
	assert_int_equal(cfg->udp_receive_buffer, 4 << 20);
	assert_int_equal(cfg->udp_send_buffer, 64 << 10);
	config_free(cfg);
	expect_err(UP "udp: {receive_buffer: 1K}\n", 2, 23,
		   "udp.receive_buffer: expected 0 (the kernel's default) or at least 64K, got 1024");
	expect_err(UP "udp: {send_buffer: 513M}\n", 2, 20,
		   "udp.send_buffer: expected a size 0 or 64K..512M in bytes, or with a suffix K, M or "
		   "G like 64M, got \"513M\"");
	expect_err(UP "udp: {receive_buffer: -1}\n", 2, 23,
		   "udp.receive_buffer: expected a size 0 or 64K..512M in bytes, or with a suffix K, M "
		   "or G like 64M, got \"-1\"");
	expect_err(UP "udp: {rcvbuf: 4M}\n", 2, 7,
		   "udp: unknown key \"rcvbuf\"; valid keys: receive_buffer, send_buffer");
}

/* block_log.aggregate_ms and the query_log: section, with their errors at line:column. */
static void test_query_log_and_aggregation(void **state)
{
	struct config *cfg;

	(void)state;
	/* Defaults: aggregation on (1000 ms), query log off. */
	cfg = load_ok(UP);
	assert_int_equal(cfg->aggregate_ms, 1000);
	assert_null(cfg->query_log.path);
	assert_int_equal(cfg->query_log.ipv4_prefix, 32);
	assert_int_equal(cfg->query_log.ipv6_prefix, 128);
	assert_true(cfg->query_log.sample_step == 1ull << 32);
	assert_false(cfg->query_log.matched);
	config_free(cfg);

	cfg = load_ok(UP "query_log: {path: q.jsonl, matched: true}\n");
	assert_true(cfg->query_log.matched);
	config_free(cfg);

	cfg = load_ok(UP "block_log: {aggregate_ms: 0}\n"
			 "query_log:\n"
			 "  path: log/queries.jsonl\n"
			 "  sample: 0.25\n"
			 "  anonymize_client: true\n"
			 "  exclude: [Internal.Example, health.example.]\n");
	assert_int_equal(cfg->aggregate_ms, 0);
	assert_string_equal(cfg->query_log.path, "/etc/sinkholed/log/queries.jsonl");
	assert_true(cfg->query_log.sample == 0.25);
	assert_true(cfg->query_log.sample_step == 1ull << 30);
	assert_int_equal(cfg->query_log.ipv4_prefix, 24);
	assert_int_equal(cfg->query_log.ipv6_prefix, 48);
	assert_int_equal(cfg->query_log.n_exclude, 2);
	assert_int_equal(cfg->query_log.exclude[0].len, 18);
	assert_memory_equal(cfg->query_log.exclude[0].name, "\10internal\7example", 18);
	config_free(cfg);

	cfg = load_ok(UP "query_log: {path: \"-\", anonymize_client: {ipv4: 16, ipv6: 64}, "
			 "sample: 1}\n");
	assert_string_equal(cfg->query_log.path, "-");
	assert_int_equal(cfg->query_log.ipv4_prefix, 16);
	assert_int_equal(cfg->query_log.ipv6_prefix, 64);
	assert_true(cfg->query_log.sample_step == 1ull << 32);
	config_free(cfg);

	expect_err(UP "block_log: {aggregate_ms: 60001}\n", 2, 27,
		   "block_log.aggregate_ms: expected an integer 0..60000, got \"60001\"");
	expect_err(UP "query_log: {sample: 0.5}\n", 2, 12,
		   "query_log: expected a path (the query log is off without one)");
	expect_err(UP "query_log:\n  path: q.jsonl\n  sample: 0\n", 4, 11,
		   "query_log.sample: expected a share of the queries 0 < s <= 1 like 0.1, got \"0\"");
	expect_err(UP "query_log:\n  path: q.jsonl\n  sample: 1.5\n", 4, 11,
		   "query_log.sample: expected a share of the queries 0 < s <= 1 like 0.1, "
		   "got \"1.5\"");
	expect_err(UP "query_log:\n  path: q.jsonl\n  sample: 10%\n", 4, 11,
		   "query_log.sample: expected a share of the queries 0 < s <= 1 like 0.1, "
		   "got \"10%\"");
	expect_err(UP "query_log:\n  path: q.jsonl\n  anonymize_client: yes\n", 4, 21,
		   "query_log.anonymize_client: expected true, false or {ipv4: 24, ipv6: 48}, "
		   "got \"yes\"");
	expect_err(UP "query_log:\n  path: q.jsonl\n  anonymize_client: {ipv4: 33}\n", 4, 28,
		   "query_log.anonymize_client.ipv4: expected an integer 0..32, got \"33\"");
	expect_err(UP "query_log:\n  path: q.jsonl\n  anonymize_client: {ipv6: 48, ipv5: 1}\n", 4,
		   32,
		   "query_log.anonymize_client: unknown key \"ipv5\" (did you mean \"ipv4\"?); valid "
		   "keys: ipv4, ipv6");
	expect_err(UP "query_log:\n  path: q.jsonl\n  exclude: [ok.example, \"bad..name\"]\n", 4,
		   25, "query_log.exclude: bad domain name \"bad..name\": empty label");
	expect_err(UP "query_log:\n  path: q.jsonl\n  exclude: internal.example\n", 4, 12,
		   "query_log.exclude: expected a list like [internal.example, health.example], "
		   "got \"internal.example\"");
	expect_err(UP "query_log:\n  path: q.jsonl\n  matched: no\n", 4, 12,
		   "query_log.matched: expected true or false, got \"no\"");
	expect_err(UP "query_log:\n  path: \"\"\n", 3, 9,
		   "query_log.path: expected a file name or \"-\" for stdout, got \"\"");
}

static void test_err_cache(void **state)
{
#define SIZE_MSG                                                                                   \
	"cache.size: expected a size 64K..64G in bytes, or with a suffix K, M or G like 64M, got "
	static const char *const bad_sizes[] = {
		"65535", "63K", "64k", "64MB", "64 M", "M", "-64M", "1.5G", "0x100000", "65G",
		"68719476737", "99999999999999999999G", "\"\"", "[64M]",
	};
	static const struct want_err want[] = {
		{3, 12, "cache.enabled: expected true or false, got \"yes\""},
		{4, 12, "cache.min_ttl: expected an integer 0..86400, got \"-1\""},
		{5, 12, "cache.max_ttl: expected an integer 1..604800, got \"0\""},
		{6, 21, "cache.negative_ttl_max: expected an integer 0..86400, got \"86401\""},
		{7, 3,
		 "cache: unknown key \"max_tll\" (did you mean \"max_ttl\"?); valid keys: enabled, "
		 "size, min_ttl, max_ttl, negative_ttl_max"},
	};
	char yaml[200], msg[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		snprintf(yaml, sizeof(yaml), UP "cache:\n  size: %s\n", bad_sizes[i]);
		if (bad_sizes[i][0] == '[')
			snprintf(msg, sizeof(msg), SIZE_MSG "a list");
		else if (bad_sizes[i][0] == '"')
			snprintf(msg, sizeof(msg), SIZE_MSG "%s", bad_sizes[i]);
		else
			snprintf(msg, sizeof(msg), SIZE_MSG "\"%s\"", bad_sizes[i]);
		expect_err(yaml, 3, 9, msg);
	}
#undef SIZE_MSG
	expect_errs(UP "cache:\n"
		       "  enabled: yes\n"
		       "  min_ttl: -1\n"
		       "  max_ttl: 0\n"
		       "  negative_ttl_max: 86401\n"
		       "  max_tll: 5\n",
		    want, sizeof(want) / sizeof(want[0]));
	expect_err(UP "cache: {enabled: 1}\n", 2, 18,
		   "cache.enabled: expected true or false, got \"1\"");
	expect_err(UP "cache: {enabled: True}\n", 2, 18,
		   "cache.enabled: expected true or false, got \"True\"");
	expect_err(UP "cache: {enabled: }\n", 2, 18,
		   "cache.enabled: expected true or false, got nothing");
	expect_err(UP "cache:\n  max_ttl: 300\n  min_ttl: 600\n", 4, 12,
		   "cache.min_ttl: 600 is larger than cache.max_ttl (300)");
	expect_err(UP "cache:\n  min_ttl: 61\n  max_ttl: 60\n", 3, 12,
		   "cache.min_ttl: 61 is larger than cache.max_ttl (60)");
	expect_err(UP "cache: 64M\n", 2, 8, "cache: expected a mapping of settings, got \"64M\"");
	expect_err(UP "cache: {size: 1M}\ncache: {size: 2M}\n", 3, 1,
		   "cache: duplicate key (first set at line 2 column 1)");
}

static void test_err_bad_mode(void **state)
{
	(void)state;
	expect_err(UP "sinkhole:\n  mode: block\n", 3, 9,
		   "sinkhole.mode: expected one of address, nxdomain, nodata, refused, "
		   "got \"block\"");
	expect_err(UP "sinkhole:\n  mode: NXDOMAIN\n", 3, 9,
		   "sinkhole.mode: expected one of address, nxdomain, nodata, refused, "
		   "got \"NXDOMAIN\"");
	expect_err(UP "log_level: verbose\n", 2, 12,
		   "log_level: expected one of error, warn, info, debug, got \"verbose\"");
}

static void test_err_bad_ip(void **state)
{
	(void)state;
	expect_err(UP "sinkhole:\n  ipv4: 1.2.3\n", 3, 9,
		   "sinkhole.ipv4: expected an IPv4 address like 0.0.0.0, got \"1.2.3\"");
	expect_err(UP "sinkhole:\n  ipv4: \"::1\"\n", 3, 9,
		   "sinkhole.ipv4: expected an IPv4 address like 0.0.0.0, got \"::1\"");
	expect_err(UP "sinkhole:\n  ipv6: 0.0.0.0\n", 3, 9,
		   "sinkhole.ipv6: expected an IPv6 address like \"::\", got \"0.0.0.0\"");
}

static void test_err_bad_cidr(void **state)
{
	static const struct want_err want[] = {
		{3, 11,
		 "access.allow: bad prefix \"10.0.0.1/8\": host bits set beyond the prefix length "
		 "(did you mean 10.0.0.0/8?)"},
		{4, 5,
		 "access.allow: bad prefix \"10.0.0.0/33\": prefix length out of range (0-32 for "
		 "IPv4)"},
		{5, 5,
		 "access.allow: bad prefix \"fc00::/7x\": bad prefix length (expected a number "
		 "after '/')"},
		{6, 5, "access.allow: bad prefix \"lan\": not an IPv4 or IPv6 address"},
		{7, 5,
		 "access.allow: bad prefix \"fd00::/7\": host bits set beyond the prefix length "
		 "(did you mean fc00::/7?)"},
	};

	(void)state;
	expect_errs(UP "access:\n"
		       "  allow: [10.0.0.1/8,\n"
		       "    10.0.0.0/33,\n"
		       "    \"fc00::/7x\",\n"
		       "    lan,\n"
		       "    \"fd00::/7\"]\n",
		    want, sizeof(want) / sizeof(want[0]));
	expect_err(UP "access:\n  allow: 10.0.0.0/8\n", 3, 10,
		   "access.allow: expected a list like [10.0.0.0/8, \"2001:db8::/32\"], "
		   "got \"10.0.0.0/8\"");
}

static void test_err_bad_listen(void **state)
{
	static const struct want_err want[] = {
		{2, 10, "listen: bad address \"127.0.0.1:0\": bad port (expected 1..65535)"},
		{2, 25,
		 "listen: bad address \"localhost:53\": not an IP address (host names are not "
		 "resolved)"},
		{2, 41, "listen: bad address \"[::1]:99999\": bad port (expected 1..65535)"},
		{2, 56, "listen: bad address \"10.0.0.1:53 \": bad port (expected 1..65535)"},
		{4, 3, "listen: \"[::1]:53\" is listed twice"},
	};

	(void)state;
	expect_errs(UP "listen: [\"127.0.0.1:0\", \"localhost:53\", \"[::1]:99999\", "
		       "\"10.0.0.1:53 \",\n"
		       "  \"::1\",\n"
		       "  \"[::1]:53\"]\n",
		    want, sizeof(want) / sizeof(want[0]));
	expect_err(UP "listen: []\n", 2, 9,
		   "listen: the list is empty; give at least one, like "
		   "[\"192.0.2.1:53\", \"[2001:db8::1]:53\"]");
	expect_err("upstreams: []\n", 1, 12,
		   "upstreams: the list is empty; give at least one, like "
		   "[\"192.0.2.1:53\", \"[2001:db8::1]:53\"]");
	expect_err(UP "blocklists: []\n", 2, 13,
		   "blocklists: the list is empty; give at least one, like [blocklist.yaml]");
	expect_err(UP "blocklists: [a.yaml, b.yaml, ./a.yaml, a.yaml]\n", 2, 40,
		   "blocklists: \"a.yaml\" is listed twice");
	expect_err(UP "blocklists: [\"\"]\n", 2, 14, "blocklists: expected a file name, got \"\"");
}

static void test_err_forwarding_loop(void **state)
{
	struct config *cfg;

	(void)state;
	expect_err("upstreams: [192.0.2.1, 127.0.0.1]\n", 1, 24,
		   "upstreams: \"127.0.0.1\" is a listen address of sinkholed (a forwarding loop)");
	expect_err("upstreams: [\"127.0.0.53\"]\nlisten: [\"0.0.0.0:53\"]\n", 1, 13,
		   "upstreams: \"127.0.0.53\" is a listen address of sinkholed "
		   "(a forwarding loop)");
	/* Another port on the same host is a different server. */
	cfg = load_ok("upstreams: [127.0.0.1]\nlisten: [\"127.0.0.1:5353\", \"[::1]:5353\"]\n");
	assert_int_equal(cfg->n_upstreams, 1);
	config_free(cfg);
}

static void test_err_yaml_syntax(void **state)
{
	(void)state;
	expect_err("upstreams: [192.0.2.1\nworkers: 1\n", 2, 8,
		   "YAML syntax error: did not find expected ',' or ']' "
		   "(while parsing a flow sequence at line 1 column 12)");
	expect_err(UP "sinkhole:\n  mode: nxdomain\n ttl: 5\n", 4, 2,
		   "YAML syntax error: did not find expected key "
		   "(while parsing a block mapping at line 1 column 1)");
	expect_err(UP "workers: *w\n", 2, 10, "YAML syntax error: found undefined alias");
	expect_err(UP "dvc: \"\xff\"\n", 2, 7, "YAML error: invalid leading UTF-8 octet");
}

static void test_lists(void **state)
{
	struct config *cfg;
	const struct list_conf *l;

	(void)state;
	cfg = load_ok(UP "state_dir: /srv/sinkholed\n"
			 "watch: false\n"
			 "blocklists:\n"
			 "  - blocklist.yaml\n"
			 "  - big.hosts\n"
			 "  - path: lists/ads.txt\n"
			 "    format: hosts\n"
			 "    match: exact\n"
			 "    defaults: {threat_type: ads, action: log, confidence: 40,\n"
			 "               expires: 2026-12-31, expires_after_days: 90,\n"
			 "               malware: M, source: S, reference: \"https://r\"}\n"
			 "  - name: threatfox-recent\n"
			 "    url: https://threatfox.abuse.ch/export/json/recent/\n"
			 "    format: auto\n"
			 "    refresh: 15m\n"
			 "    headers: {Auth-Key: \"k 1\", X-Other: v}\n"
			 "    max_size: 1M\n"
			 "    ca_file: ca.pem\n"
			 "  - {name: plain-feed, url: \"http://127.0.0.1:8080/l.txt\", required: true}\n");
	assert_string_equal(cfg->state_dir, "/srv/sinkholed");
	assert_false(cfg->watch);
	assert_int_equal(cfg->n_lists, 5);
	l = &cfg->lists[0];
	assert_string_equal(l->name, "blocklist.yaml");
	assert_int_equal(l->format, FORMAT_YAML);
	assert_true(l->required);
	assert_null(l->url);
	assert_int_equal(cfg->lists[1].format, FORMAT_HOSTS);
	l = &cfg->lists[2];
	assert_string_equal(l->name, "lists/ads.txt");
	assert_string_equal(l->path, "/etc/sinkholed/lists/ads.txt");
	assert_int_equal(l->format, FORMAT_HOSTS);
	assert_int_equal(l->match, MATCH_EXACT);
	assert_string_equal(l->defaults.threat_type, "ads");
	assert_string_equal(l->defaults.malware, "M");
	assert_string_equal(l->defaults.source, "S");
	assert_string_equal(l->defaults.reference, "https://r");
	assert_int_equal(l->defaults.action, IOC_LOG);
	assert_int_equal(l->defaults.confidence, 40);
	assert_int_equal(l->defaults.expires, 1798761600LL); /* after 2026-12-31 */
	assert_int_equal(l->defaults.expires_after_days, 90);
	assert_true(l->required);
	l = &cfg->lists[3];
	assert_string_equal(l->name, "threatfox-recent");
	assert_string_equal(l->url, "https://threatfox.abuse.ch/export/json/recent/");
	assert_string_equal(l->path, "/srv/sinkholed/feeds/threatfox-recent");
	assert_int_equal(l->format, FORMAT_AUTO);
	assert_int_equal(l->refresh_s, 900);
	assert_int_equal(l->n_headers, 2);
	assert_string_equal(l->headers[0], "Auth-Key: k 1");
	assert_string_equal(l->headers[1], "X-Other: v");
	assert_int_equal(l->max_size, 1u << 20);
	assert_string_equal(l->ca_file, "/etc/sinkholed/ca.pem");
	assert_false(l->required);
	l = &cfg->lists[4];
	assert_int_equal(l->refresh_s, 3600);
	assert_int_equal(l->max_size, 256u << 20);
	assert_true(l->required);
	assert_int_equal(l->defaults.confidence, -1);
	assert_int_equal(l->defaults.expires, INT64_MAX);
	config_free(cfg);

	cfg = load_ok(UP "blocklists: [{name: f, url: \"https://x.example/f\"}]\n");
	assert_string_equal(cfg->lists[0].path, "/var/lib/sinkholed/feeds/f");
	config_free(cfg);
}

static void test_err_lists(void **state)
{
	char msg[320] = "blocklists.format: expected one of ";
	size_t o = strlen(msg);

	(void)state;
	expect_err(UP "blocklists: [{path: a.txt, url: \"https://x/\"}]\n", 2, 14,
		   "blocklists: a list has either path: (a local file) or url: (a feed)");
	expect_err(UP "blocklists: [{format: yaml}]\n", 2, 14,
		   "blocklists: a list has either path: (a local file) or url: (a feed)");
	expect_err(UP "blocklists: [{url: \"https://x/\"}]\n", 2, 14,
		   "blocklists: a feed needs name: (it names its copy in state_dir)");
	expect_err(UP "blocklists: [{name: a/b, url: \"https://x/\"}]\n", 2, 21,
		   "blocklists.name: expected a name of letters, digits, '.', '_' and '-' (at most "
		   "64, not starting with '.'), got \"a/b\"");
	expect_err(UP "blocklists: [{name: f, url: \"ftp://x/\"}]\n", 2, 29,
		   "blocklists.url: expected an http:// or https:// URL, got \"ftp://x/\"");
	/* Every format is named. */
	for (int f = 0; f < FORMAT_COUNT; f++)
		o += (size_t)snprintf(msg + o, sizeof(msg) - o, "%s%s", f ? ", " : "",
				      format_name((enum list_format)f));
	snprintf(msg + o, sizeof(msg) - o, ", got \"csv\"");
	expect_err(UP "blocklists: [{path: a, format: csv}]\n", 2, 32, msg);
	expect_err(UP "blocklists: [{path: a, match: below}]\n", 2, 31,
		   "blocklists.match: expected one of subtree, exact, got \"below\"");
	expect_err(UP "blocklists: [{name: f, url: \"https://x/\", refresh: 0s}]\n", 2, 52,
		   "blocklists.refresh: expected a duration like 30s, 15m, 1h or 1d (1s..365d), "
		   "got \"0s\"");
	expect_err(UP "blocklists: [{name: f, url: \"https://x/\", refresh: 1w}]\n", 2, 52,
		   "blocklists.refresh: expected a duration like 30s, 15m, 1h or 1d (1s..365d), "
		   "got \"1w\"");
	expect_err(UP "blocklists: [{name: f, url: \"https://x/\", headers: {\"a b\": c}}]\n", 2,
		   53, "blocklists.headers: expected a header name like Auth-Key, got \"a b\"");
	expect_err(UP "blocklists: [{path: a, defaults: {confidence: 101}}]\n", 2, 47,
		   "blocklists.defaults.confidence: expected an integer 0..100, got \"101\"");
	expect_err(UP "blocklists: [{path: a, defaults: {expires: soon}}]\n", 2, 44,
		   "blocklists.defaults.expires: expected a date YYYY-MM-DD or an RFC 3339 time, "
		   "got \"soon\"");
	expect_err(UP "blocklists: [{path: a, defaults: {colour: red}}]\n", 2, 35,
		   "blocklists.defaults: unknown key \"colour\"; valid keys: malware, threat_type, "
		   "source, confidence, action, expires, expires_after_days, reference");
	expect_err(UP "blocklists: [a.txt, {name: a.txt, url: \"https://x/\"}]\n", 2, 21,
		   "blocklists: \"a.txt\" is listed twice");
	expect_err(UP "blocklists: [{path: a, tpyo: 1}]\n", 2, 24,
		   "blocklists: unknown key \"tpyo\"; valid keys: name, "
		   "path, url, format, match, defaults, refresh, headers, max_size, timeout, required, "
		   "ca_file");
}

static void test_err_duplicate_key(void **state)
{
	(void)state;
	expect_err("workers: 1\n" UP "workers: 2\n", 3, 1,
		   "workers: duplicate key (first set at line 1 column 1)");
	expect_err(UP "sinkhole:\n  ttl: 1\n  mode: nodata\n  ttl: 2\n", 5, 3,
		   "sinkhole.ttl: duplicate key (first set at line 3 column 3)");
	expect_err(UP "block_log: {dvc: a, dvc: b}\n", 2, 21,
		   "block_log.dvc: duplicate key (first set at line 2 column 13)");
}

static void test_err_multiple(void **state)
{
	static const char yaml[] = "listen: [\"127.0.0.1:0\", \"::1\"]\n"  /* 1 */
				   "upstream: [192.0.2.1]\n"	       /* 2 */
				   "upstreams: [192.0.2.1]\n"	       /* 3 */
				   "workers: abc\n"			       /* 4 */
				   "sinkhole:\n"			       /* 5 */
				   "  mode: block\n"			       /* 6 */
				   "  ipv4: 1.2.3\n"			       /* 7 */
				   "  colour: red\n"			       /* 8 */
				   "access:\n"				       /* 9 */
				   "  allow: [10.0.0.1/8, \"::1/128\"]\n" /* 10 */
				   "workers: 2\n"			       /* 11 */
				   "block_log: 5\n"			       /* 12 */
				   "log_level: loud\n";		       /* 13 */
	static const struct want_err want[] = {
		{1, 10, "listen: bad address \"127.0.0.1:0\": bad port (expected 1..65535)"},
		{2, 1,
		 "unknown key \"upstream\" (did you mean \"upstreams\"?); valid keys: " TOP_KEYS},
		{4, 10, "workers: expected an integer 0..256, got \"abc\""},
		{6, 9,
		 "sinkhole.mode: expected one of address, nxdomain, nodata, refused, "
		 "got \"block\""},
		{7, 9, "sinkhole.ipv4: expected an IPv4 address like 0.0.0.0, got \"1.2.3\""},
		{8, 3,
		 "sinkhole: unknown key \"colour\"; valid keys: mode, ipv4, ipv6, ttl, "
		 "min_confidence, inspect_cname, inspect_ip"},
		{10, 11,
		 "access.allow: bad prefix \"10.0.0.1/8\": host bits set beyond the prefix length "
		 "(did you mean 10.0.0.0/8?)"},
		{11, 1, "workers: duplicate key (first set at line 4 column 1)"},
		{12, 12, "block_log: expected a mapping of settings, got \"5\""},
		{13, 12, "log_level: expected one of error, warn, info, debug, got \"loud\""},
	};

	(void)state;
	expect_errs(yaml, want, sizeof(want) / sizeof(want[0]));
}

static void test_err_not_a_mapping(void **state)
{
	static const char empty_msg[] =
		"empty config file: expected a mapping of settings (write {} to use every default)";

	(void)state;
	expect_err("", 0, 0, empty_msg);
	expect_err("# only a comment\n\n", 0, 0, empty_msg);
	expect_err("- listen\n- workers\n", 1, 1,
		   "expected a mapping of settings at the top level, got a list");
	expect_err("\n  hello\n", 2, 3,
		   "expected a mapping of settings at the top level, got \"hello\"");
	expect_err(UP "---\nworkers: 1\n", 3, 1,
		   "only one YAML document is allowed in a config file");
}

/* ---- files and paths ---- */

static void test_file_and_relative_paths(void **state)
{
	char dir[] = "/tmp/test_config.XXXXXX", sub[64], path[96], want[128];
	struct parse_errs e = {0};
	struct config *cfg = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/etc", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/sinkholed.yaml", sub);
	write_file(path, UP "blocklists: [blocklist.yaml, lists/b.yaml, /abs/c.yaml]\n"
			    "block_log: {path: blocked.jsonl}\n");

	assert_int_equal(config_load(path, &cfg, &e), 0);
	assert_int_equal(e.n, 0);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->dir, sub);
	assert_int_equal(cfg->n_lists, 3);
	snprintf(want, sizeof(want), "%s/blocklist.yaml", sub);
	assert_string_equal(cfg->lists[0].path, want);
	snprintf(want, sizeof(want), "%s/lists/b.yaml", sub);
	assert_string_equal(cfg->lists[1].path, want);
	assert_string_equal(cfg->lists[2].path, "/abs/c.yaml");
	assert_string_equal(cfg->lists[0].name, "blocklist.yaml");
	assert_string_equal(cfg->lists[1].name, "lists/b.yaml");
	assert_string_equal(cfg->lists[2].name, "/abs/c.yaml");
	snprintf(want, sizeof(want), "%s/blocked.jsonl", sub);
	assert_string_equal(cfg->blocklog_path, want);
	config_free(cfg);

	/* Errors in a file carry its name as given. */
	write_file(path, UP "workers: many\n");
	assert_int_equal(config_load(path, &cfg, &e), -EINVAL);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].file, path);
	assert_int_equal(e.v[0].line, 2);
	assert_int_equal(e.v[0].col, 10);
	perr_clear(&e);

	/* A missing file: no position, the reason from strerror. */
	snprintf(want, sizeof(want), "%s/missing.yaml", sub);
	cfg = (struct config *)&e;
	assert_int_equal(config_load(want, &cfg, &e), -EINVAL);
	assert_null(cfg);
	assert_int_equal(e.n, 1);
	assert_string_equal(e.v[0].file, want);
	assert_int_equal(e.v[0].line, 0);
	assert_int_equal(e.v[0].col, 0);
	assert_string_equal(e.v[0].msg, "cannot open config file: No such file or directory");
	perr_clear(&e);

	/* A directory is not a config file. */
	assert_int_equal(config_load(sub, &cfg, &e), -EINVAL);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.v[0].line, 0);
	assert_string_equal(e.v[0].msg, "cannot read config file: Is a directory");
	perr_clear(&e);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* A relative config path is anchored to the working directory at load time. */
static void test_relative_config_path(void **state)
{
	char cwd[PATH_MAX], want[PATH_MAX + 64];
	struct parse_errs e = {0};
	struct config *cfg = NULL;
	const char *yaml = UP;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(config_load_string(yaml, strlen(yaml), "conf/x.yaml", &cfg, &e), 0);
	snprintf(want, sizeof(want), "%s/conf", strcmp(cwd, "/") ? cwd : "");
	assert_string_equal(cfg->dir, want);
	snprintf(want, sizeof(want), "%s/conf/blocklist.yaml", strcmp(cwd, "/") ? cwd : "");
	assert_string_equal(cfg->lists[0].path, want);
	config_free(cfg);

	assert_int_equal(config_load_string(yaml, strlen(yaml), "./x.yaml", &cfg, &e), 0);
	assert_string_equal(cfg->dir, cwd);
	config_free(cfg);
	assert_int_equal(e.n, 0);
}

static void test_resolv_conf(void **state)
{
	char dir[] = "/tmp/test_resolv.XXXXXX", path[64];
	struct sockaddr_storage *ns = NULL;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	write_file(path, "# generated\n"
			 "search example.com\n"
			 "nameserver 192.0.2.1\n"
			 "  nameserver\t192.0.2.2   # trailing comment\n"
			 "nameserver 2001:db8::53\n"
			 "nameserver fe80::1%eth0\n"
			 "nameserver\n"
			 "nameserver not-an-address\n"
			 "; nameserver 192.0.2.9\n"
			 "nameservers 192.0.2.10\n"
			 "nameserver 192.0.2.3\n"
			 "options edns0 trust-ad\n");
	assert_int_equal(config_read_resolv_conf(path, &ns), 4);
	expect_addr(&ns[0], "192.0.2.1:53");
	expect_addr(&ns[1], "192.0.2.2:53");
	expect_addr(&ns[2], "[2001:db8::53]:53");
	expect_addr(&ns[3], "192.0.2.3:53");
	free(ns);

	write_file(path, "search example.com\noptions ndots:2\n");
	assert_int_equal(config_read_resolv_conf(path, &ns), 0);
	assert_null(ns);
	write_file(path, "");
	assert_int_equal(config_read_resolv_conf(path, &ns), 0);
	assert_null(ns);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(config_read_resolv_conf(path, &ns), -ENOENT);
	assert_null(ns);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_mapping),
		cmocka_unit_test(test_empty_sections),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_enums_and_bounds),
		cmocka_unit_test(test_cache_values),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_too_many_lists),
		cmocka_unit_test(test_err_unknown_nested_key),
		cmocka_unit_test(test_err_wrong_type),
		cmocka_unit_test(test_err_bad_int),
		cmocka_unit_test(test_err_out_of_range),
		cmocka_unit_test(test_err_cache),
		cmocka_unit_test(test_udp_buffers),
		cmocka_unit_test(test_query_log_and_aggregation),
		cmocka_unit_test(test_err_bad_mode),
		cmocka_unit_test(test_err_bad_ip),
		cmocka_unit_test(test_err_bad_cidr),
		cmocka_unit_test(test_err_bad_listen),
		cmocka_unit_test(test_err_forwarding_loop),
		cmocka_unit_test(test_err_yaml_syntax),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_err_lists),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_multiple),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_err_not_a_mapping),
		cmocka_unit_test(test_file_and_relative_paths),
		cmocka_unit_test(test_relative_config_path),
		cmocka_unit_test(test_resolv_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
