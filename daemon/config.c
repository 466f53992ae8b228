/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "acl.h"
#include "addr.h"
#include "formats/format.h"
#include "policy/policy.h"
#include "util.h"
#include "util/civil.h"
#include "util/name.h"

#define RESOLV_CONF "/etc/resolv.conf"
/* A config file is a few hundred bytes; anything this large is a mistake (wrong -c). */
#define CONFIG_MAX_BYTES (1 << 20)
#define DVC_MAX 255
#define CACHE_SIZE_MIN (64ull << 10)
/* 64 GiB, or what size_t can hold on a 32-bit system */
#define CACHE_SIZE_MAX ((uint64_t)SIZE_MAX < (64ull << 30) ? (uint64_t)SIZE_MAX : (64ull << 30))

static const char *const default_listen[] = {"127.0.0.1:53", "[::1]:53"};
/* Loopback and the private ranges: a resolver open to the Internet gets abused. */
static const char *const default_allow[] = {
	"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7",
	"fe80::/10",
};
/* The metrics listener: loopback only, unless the config says otherwise. */
#define HTTP_DEFAULT_LISTEN "127.0.0.1:9153"
#define HTTP_DEFAULT_PORT 9153
static const char *const default_http_allow[] = {"127.0.0.0/8", "::1/128"};
static const char *const mode_names[] = {
	[SINKHOLE_ADDRESS] = "address",
	[SINKHOLE_NXDOMAIN] = "nxdomain",
	[SINKHOLE_NODATA] = "nodata",
	[SINKHOLE_REFUSED] = "refused",
};

/* State of one load: the document, where errors go, and the config being built. */
struct ctx {
	yaml_document_t *doc;
	const char *file;
	struct parse_errs *errs;
	struct config *cfg;
	bool failed; /* an error was added by this load */
	bool oom;
	bool have_upstreams, have_blocklists;
	struct list_conf *list; /* the blocklists: entry being read */
	const yaml_node_t *cache_min_ttl; /* the cache.min_ttl value, checked against max_ttl */
};

struct key_def {
	const char *name;
	void (*fn)(struct ctx *c, const char *key, yaml_node_t *val);
};

static void error_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void error_at(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[sizeof(((struct parse_err *)0)->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->failed = true;
	if (n)
		perr_add(c->errs, c->file, (int)n->start_mark.line + 1,
			 (int)n->start_mark.column + 1, "%s", msg);
	else
		perr_add(c->errs, c->file, 0, 0, "%s", msg);
}

static void *oom(struct ctx *c)
{
	if (!c->oom)
		error_at(c, NULL, "out of memory");
	c->oom = true;
	return NULL;
}

/*
 * Describe a node for "got ...": a scalar quoted (shortened, non-printables escaped),
 * otherwise its kind.
 */
static const char *describe(const yaml_node_t *n, char *buf, size_t len)
{
	size_t o = 0;

	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->data.scalar.length == 0)
		return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? "nothing" : "\"\"";
	buf[o++] = '"';
	for (size_t i = 0; i < n->data.scalar.length && o + 8 < len; i++) {
		unsigned char ch = n->data.scalar.value[i];

		if (i >= 48) {
			o += (size_t)snprintf(buf + o, len - o, "...");
			break;
		}
		if (ch == '"' || ch == '\\')
			o += (size_t)snprintf(buf + o, len - o, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", ch);
		else
			buf[o++] = (char)ch;
	}
	snprintf(buf + o, len - o, "\"");
	return buf;
}

static yaml_node_t *node(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* The scalar's text, or NULL (error reported) when n is not a string without NUL bytes. */
static const char *get_string(struct ctx *c, const char *key, yaml_node_t *n, const char *what)
{
	char d[80];

	if (n->type != YAML_SCALAR_NODE) {
		error_at(c, n, "%s: expected %s, got %s", key, what, describe(n, d, sizeof(d)));
		return NULL;
	}
	if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length) {
		error_at(c, n, "%s: expected %s, got a string with a NUL byte", key, what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* A plain decimal integer in min..max (no sign, no hex, no YAML 1.1 underscores). */
static bool get_uint(struct ctx *c, const char *key, yaml_node_t *n, unsigned long min,
		     unsigned long max, unsigned long *out)
{
	char d[80];
	unsigned long v = 0;
	size_t i, len;
	const char *s;

	if (n->type != YAML_SCALAR_NODE)
		goto bad;
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (len == 0 || len > 9)
		goto bad;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < min || v > max)
		goto bad;
	*out = v;
	return true;
bad:
	error_at(c, n, "%s: expected an integer %lu..%lu, got %s", key, min, max,
		 describe(n, d, sizeof(d)));
	return false;
}

/* true or false (YAML 1.1's yes/no/on/off are not accepted: they surprise people). */
static bool get_bool(struct ctx *c, const char *key, yaml_node_t *n, bool *out)
{
	char d[80];

	if (n->type == YAML_SCALAR_NODE) {
		if (strcmp((const char *)n->data.scalar.value, "true") == 0) {
			*out = true;
			return true;
		}
		if (strcmp((const char *)n->data.scalar.value, "false") == 0) {
			*out = false;
			return true;
		}
	}
	error_at(c, n, "%s: expected true or false, got %s", key, describe(n, d, sizeof(d)));
	return false;
}

/*
 * A size in bytes: a plain decimal integer, or one followed by K, M or G (powers of 1024),
 * in min..max bytes. text_range describes the range in messages ("64K..64G").
 */
static bool get_size(struct ctx *c, const char *key, yaml_node_t *n, uint64_t min, uint64_t max,
		     const char *text_range, uint64_t *out)
{
	char d[80];
	uint64_t v = 0, unit = 1;
	size_t i, len;
	const char *s;

	if (n->type != YAML_SCALAR_NODE)
		goto bad;
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (len > 0 && s[len - 1] == 'K')
		unit = 1ull << 10;
	else if (len > 0 && s[len - 1] == 'M')
		unit = 1ull << 20;
	else if (len > 0 && s[len - 1] == 'G')
		unit = 1ull << 30;
	if (unit > 1)
		len--;
	if (len == 0 || len > 15)
		goto bad;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max / unit || v * unit < min)
		goto bad;
	*out = v * unit;
	return true;
bad:
	error_at(c, n,
		 "%s: expected a size %s in bytes, or with a suffix K, M or G like 64M, got %s",
		 key, text_range, describe(n, d, sizeof(d)));
	return false;
}

/* The items of a list, or NULL (error reported) when n is not a non-empty list. */
static yaml_node_item_t *get_list(struct ctx *c, const char *key, yaml_node_t *n, bool empty_ok,
				  const char *example, size_t *count)
{
	char d[80];

	*count = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(c, n, "%s: expected a list like %s, got %s", key, example,
			 describe(n, d, sizeof(d)));
		return NULL;
	}
	*count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (*count == 0 && !empty_ok) {
		error_at(c, n, "%s: the list is empty; give at least one, like %s", key, example);
		return NULL;
	}
	return n->data.sequence.items.start;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

	if (la >= ARRAY_SIZE(row) || lb >= ARRAY_SIZE(row))
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (tolower((unsigned char)a[i - 1]) !=
					      tolower((unsigned char)b[j - 1]));

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/*
 * Dispatch every key of a mapping to its handler. section is "" at the top level, else
 * the section name used as prefix of the keys in messages ("sinkhole.ttl").
 */
static void walk_mapping(struct ctx *c, const char *section, yaml_node_t *map,
			 const struct key_def *keys, size_t n_keys)
{
	const yaml_node_t *seen[32] = {0};
	char full[64], d[80], valid[320];
	size_t o = 0;

	REQUIRE(n_keys <= ARRAY_SIZE(seen));
	if (map->type != YAML_MAPPING_NODE) {
		/* An empty value ("sinkhole:" with every key commented out) means defaults. */
		if (*section && map->type == YAML_SCALAR_NODE && map->data.scalar.length == 0 &&
		    map->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return;
		if (*section)
			error_at(c, map, "%s: expected a mapping of settings, got %s", section,
				 describe(map, d, sizeof(d)));
		else
			error_at(c, map, "expected a mapping of settings at the top level, got %s",
				 describe(map, d, sizeof(d)));
		return;
	}
	for (size_t i = 0; i < n_keys; i++)
		o += (size_t)snprintf(valid + o, sizeof(valid) - o, "%s%s", i ? ", " : "",
				      keys[i].name);

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *name;
		char hint[48] = "";
		size_t i, best = SIZE_MAX, best_i = 0;

		if (k->type != YAML_SCALAR_NODE ||
		    strlen((const char *)k->data.scalar.value) != k->data.scalar.length) {
			error_at(c, k, "%s%skeys must be plain strings, got %s", section,
				 *section ? ": " : "", describe(k, d, sizeof(d)));
			continue;
		}
		name = (const char *)k->data.scalar.value;
		for (i = 0; i < n_keys; i++)
			if (strcmp(name, keys[i].name) == 0)
				break;
		if (i == n_keys) {
			for (size_t j = 0; j < n_keys; j++) {
				size_t dist = edit_distance(name, keys[j].name);

				if (dist < best) {
					best = dist;
					best_i = j;
				}
			}
			/* Suggest the closest key when it looks like a typo of it. */
			if (best <= 2 || (best <= 3 && strlen(name) >= 8))
				snprintf(hint, sizeof(hint), " (did you mean \"%s\"?)",
					 keys[best_i].name);
			error_at(c, k, "%s%sunknown key %s%s; valid keys: %s", section,
				 *section ? ": " : "", describe(k, d, sizeof(d)), hint, valid);
			continue;
		}
		snprintf(full, sizeof(full), "%s%s%s", section, *section ? "." : "", name);
		if (seen[i]) {
			error_at(c, k, "%s: duplicate key (first set at line %zu column %zu)", full,
				 seen[i]->start_mark.line + 1, seen[i]->start_mark.column + 1);
			continue;
		}
		seen[i] = k;
		keys[i].fn(c, full, v);
	}
}

/* dir + "/" + name, or a copy of name when it is absolute. */
static char *resolve_path(struct ctx *c, const char *name)
{
	const char *dir = c->cfg->dir;
	char *out;

	if (name[0] == '/')
		out = strdup(name);
	else if (asprintf(&out, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0)
		out = NULL;
	return out ? out : oom(c);
}

static void parse_addr_list(struct ctx *c, const char *key, yaml_node_t *n,
			    struct sockaddr_storage **out, size_t *n_out)
{
	struct sockaddr_storage *v;
	yaml_node_item_t *items;
	size_t count, j, k = 0;

	items = get_list(c, key, n, false, "[\"192.0.2.1:53\", \"[2001:db8::1]:53\"]", &count);
	if (!items)
		return;
	v = calloc(count, sizeof(*v));
	if (!v) {
		oom(c);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = node(c, items[i]);
		const char *s = get_string(c, key, item, "an address like \"192.0.2.1:53\"");
		const char *why;
		char d[80];

		if (!s)
			continue;
		if (addr_parse(s, 53, &v[k], &why) < 0) {
			error_at(c, item, "%s: bad address %s: %s", key,
				 describe(item, d, sizeof(d)), why);
			continue;
		}
		for (j = 0; j < k; j++)
			if (addr_equal((struct sockaddr *)&v[j], (struct sockaddr *)&v[k]))
				break;
		if (j < k)
			error_at(c, item, "%s: %s is listed twice", key,
				 describe(item, d, sizeof(d)));
		else
			k++;
	}
	free(*out);
	*out = v;
	*n_out = k;
}

static void key_listen(struct ctx *c, const char *key, yaml_node_t *n)
{
	parse_addr_list(c, key, n, &c->cfg->listen, &c->cfg->n_listen);
}

static void key_upstreams(struct ctx *c, const char *key, yaml_node_t *n)
{
	c->have_upstreams = true;
	parse_addr_list(c, key, n, &c->cfg->upstreams, &c->cfg->n_upstreams);
}

/* A handler for an integer key stored in one config field. */
#define UINT_KEY(fn, field, min, max)                                                              \
	static void fn(struct ctx *c, const char *key, yaml_node_t *n)                             \
	{                                                                                          \
		unsigned long v;                                                                   \
		if (get_uint(c, key, n, min, max, &v))                                             \
			c->cfg->field = (unsigned)v;                                               \
	}

UINT_KEY(key_upstream_timeout, upstream_timeout_ms, 10, 60000)

UINT_KEY(key_workers, workers, 0, 256)

/* One of names[0..n): its index in *out, or an error listing them all. */
static bool get_choice(struct ctx *c, const char *key, yaml_node_t *node,
		       const char *const *names, size_t n, unsigned *out)
{
	char d[80], list[160] = "";
	size_t used = 0;

	if (node->type == YAML_SCALAR_NODE) {
		for (size_t i = 0; i < n; i++) {
			if (strcmp((const char *)node->data.scalar.value, names[i]) == 0) {
				*out = (unsigned)i;
				return true;
			}
		}
	}
	for (size_t i = 0; i < n && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 names[i]);
	error_at(c, node, "%s: expected one of %s, got %s", key, list, describe(node, d, sizeof(d)));
	return false;
}

/* ---- blocklists: ---------------------------------------------------------------------- */

#define LIST_MAX_SIZE_DEFAULT (256ull << 20)
#define LIST_REFRESH_DEFAULT 3600u
#define LIST_TIMEOUT_DEFAULT 60u

static char *dup_string(struct ctx *c, const char *s)
{
	char *v = strdup(s);

	if (!v)
		oom(c);
	return v;
}

/* Replace *field with a copy of the scalar n (a non-empty string), reporting what is wrong. */
static void set_string(struct ctx *c, const char *key, yaml_node_t *n, const char *what,
		       char **field)
{
	const char *s = get_string(c, key, n, what);
	char d[80];

	if (!s)
		return;
	if (!*s) {
		error_at(c, n, "%s: expected %s, got %s", key, what, describe(n, d, sizeof(d)));
		return;
	}
	free(*field);
	*field = dup_string(c, s);
}

/* A duration: an integer of seconds with an optional suffix s, m, h or d; 1s..365d. */
static bool get_duration(struct ctx *c, const char *key, yaml_node_t *n, unsigned *out)
{
	char d[80];
	const char *s;
	size_t len, i;
	uint64_t v = 0, unit = 1;

	if (n->type != YAML_SCALAR_NODE)
		goto bad;
	s = (const char *)n->data.scalar.value;
	len = n->data.scalar.length;
	if (len > 0 && strchr("smhd", s[len - 1])) {
		unit = s[len - 1] == 's' ? 1 : s[len - 1] == 'm' ? 60 : s[len - 1] == 'h' ? 3600 : 86400;
		len--;
	}
	if (len == 0 || len > 7)
		goto bad;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	v *= unit;
	if (v < 1 || v > 365ull * 86400)
		goto bad;
	*out = (unsigned)v;
	return true;
bad:
	error_at(c, n, "%s: expected a duration like 30s, 15m, 1h or 1d (1s..365d), got %s", key,
		 describe(n, d, sizeof(d)));
	return false;
}

static void key_def_malware(struct ctx *c, const char *key, yaml_node_t *n)
{
	set_string(c, key, n, "a malware family name", &c->list->defaults.malware);
}

static void key_def_threat_type(struct ctx *c, const char *key, yaml_node_t *n)
{
	set_string(c, key, n, "a threat type like botnet_cc", &c->list->defaults.threat_type);
}

static void key_def_source(struct ctx *c, const char *key, yaml_node_t *n)
{
	set_string(c, key, n, "a source name like ThreatFox", &c->list->defaults.source);
}

static void key_def_reference(struct ctx *c, const char *key, yaml_node_t *n)
{
	set_string(c, key, n, "a URL", &c->list->defaults.reference);
}

static void key_def_confidence(struct ctx *c, const char *key, yaml_node_t *n)
{
	unsigned long v;

	if (get_uint(c, key, n, 0, 100, &v))
		c->list->defaults.confidence = (int)v;
}

static void key_def_action(struct ctx *c, const char *key, yaml_node_t *n)
{
	static const char *const actions[] = {[IOC_BLOCK] = "block", [IOC_LOG] = "log"};
	unsigned v;

	if (get_choice(c, key, n, actions, ARRAY_SIZE(actions), &v))
		c->list->defaults.action = (int)v;
}

static void key_def_expires(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "a date YYYY-MM-DD or an RFC 3339 time");
	char d[80];

	if (s && !civil_parse_time(s, strlen(s), true, &c->list->defaults.expires))
		error_at(c, n, "%s: expected a date YYYY-MM-DD or an RFC 3339 time, got %s", key,
			 describe(n, d, sizeof(d)));
}

static void key_def_expires_after(struct ctx *c, const char *key, yaml_node_t *n)
{
	unsigned long v;

	if (get_uint(c, key, n, 1, 36500, &v))
		c->list->defaults.expires_after_days = (unsigned)v;
}

static const struct key_def list_default_keys[] = {
	{"malware", key_def_malware},
	{"threat_type", key_def_threat_type},
	{"source", key_def_source},
	{"confidence", key_def_confidence},
	{"action", key_def_action},
	{"expires", key_def_expires},
	{"expires_after_days", key_def_expires_after},
	{"reference", key_def_reference},
};

/* A list name: it names the feed's file, so letters, digits, '.', '_' and '-' only. */
static bool good_list_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

static void key_list_name(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "a list name");
	char d[80];

	if (!s)
		return;
	if (!good_list_name(s)) {
		error_at(c, n,
			 "%s: expected a name of letters, digits, '.', '_' and '-' (at most 64, "
			 "not starting with '.'), got %s",
			 key, describe(n, d, sizeof(d)));
		return;
	}
	free(c->list->name);
	c->list->name = dup_string(c, s);
}

static void key_list_path(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "a file name");
	char d[80];

	if (!s)
		return;
	if (!*s) {
		error_at(c, n, "%s: expected a file name, got %s", key, describe(n, d, sizeof(d)));
		return;
	}
	free(c->list->path);
	c->list->path = resolve_path(c, s);
	if (!c->list->path) {
		oom(c);
		return;
	}
	if (!c->list->name)
		c->list->name = dup_string(c, s);
}

static void key_list_url(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "an http:// or https:// URL");
	char d[80];

	if (!s)
		return;
	if ((strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) ||
	    strpbrk(s, " \t\r\n")) {
		error_at(c, n, "%s: expected an http:// or https:// URL, got %s", key,
			 describe(n, d, sizeof(d)));
		return;
	}
	free(c->list->url);
	c->list->url = dup_string(c, s);
}

static void key_list_format(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *names[FORMAT_COUNT];
	unsigned v;

	for (int f = 0; f < FORMAT_COUNT; f++)
		names[f] = format_name((enum list_format)f);
	if (get_choice(c, key, n, names, FORMAT_COUNT, &v))
		c->list->format = (int)v;
}

static void key_list_match(struct ctx *c, const char *key, yaml_node_t *n)
{
	static const char *const kinds[] = {[MATCH_SUBTREE] = "subtree", [MATCH_EXACT] = "exact"};
	unsigned v;

	if (get_choice(c, key, n, kinds, ARRAY_SIZE(kinds), &v))
		c->list->match = (int)v;
}

static void key_list_defaults(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, list_default_keys, ARRAY_SIZE(list_default_keys));
}

static void key_list_refresh(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_duration(c, key, n, &c->list->refresh_s);
}

static void key_list_headers(struct ctx *c, const char *key, yaml_node_t *n)
{
	struct list_conf *l = c->list;
	char d[80];
	size_t count;

	if (n->type != YAML_MAPPING_NODE) {
		error_at(c, n, "%s: expected a mapping like {Auth-Key: \"...\"}, got %s", key,
			 describe(n, d, sizeof(d)));
		return;
	}
	count = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	l->headers = calloc(count ? count : 1, sizeof(char *));
	if (!l->headers) {
		oom(c);
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		const char *name = get_string(c, key, k, "a header name");
		const char *val = get_string(c, key, v, "a header value");
		char *h;

		if (!name || !val)
			continue;
		if (!*name || strpbrk(name, " \t\r\n:()<>@,;\\\"/[]?={}")) {
			error_at(c, k, "%s: expected a header name like Auth-Key, got %s", key,
				 describe(k, d, sizeof(d)));
			continue;
		}
		if (strpbrk(val, "\r\n")) {
			error_at(c, v, "%s: a header value cannot contain a line break", key);
			continue;
		}
		if (asprintf(&h, "%s: %s", name, val) < 0) {
			oom(c);
			return;
		}
		l->headers[l->n_headers++] = h;
	}
}

static void key_list_max_size(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_size(c, key, n, 1024, 16ull << 30, "1K..16G", &c->list->max_size);
}

static void key_list_timeout(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_duration(c, key, n, &c->list->timeout_s);
}

static void key_list_required(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->list->required);
}

static void key_list_ca_file(struct ctx *c, const char *key, yaml_node_t *n)
{
	set_string(c, key, n, "a file name", &c->list->ca_file);
	if (c->list->ca_file && c->list->ca_file[0] != '/') {
		char *abs = resolve_path(c, c->list->ca_file);

		free(c->list->ca_file);
		c->list->ca_file = abs;
		if (!abs)
			oom(c);
	}
}

static const struct key_def list_keys[] = {
	{"name", key_list_name},	 {"path", key_list_path},
	{"url", key_list_url},		 {"format", key_list_format},
	{"match", key_list_match},	 {"defaults", key_list_defaults},
	{"refresh", key_list_refresh},	 {"headers", key_list_headers},
	{"max_size", key_list_max_size}, {"timeout", key_list_timeout},
	{"required", key_list_required}, {"ca_file", key_list_ca_file},
};

static void list_init(struct list_conf *l)
{
	memset(l, 0, sizeof(*l));
	l->format = FORMAT_AUTO;
	l->match = MATCH_SUBTREE;
	l->defaults.confidence = -1;
	l->defaults.action = -1;
	l->defaults.expires = INT64_MAX;
	l->refresh_s = LIST_REFRESH_DEFAULT;
	l->max_size = LIST_MAX_SIZE_DEFAULT;
	l->timeout_s = LIST_TIMEOUT_DEFAULT;
}

void config_list_deinit(struct list_conf *l)
{
	free(l->name);
	free(l->path);
	free(l->url);
	free(l->defaults.malware);
	free(l->defaults.threat_type);
	free(l->defaults.source);
	free(l->defaults.reference);
	for (size_t i = 0; i < l->n_headers; i++)
		free(l->headers[i]);
	free(l->headers);
	free(l->ca_file);
}

static char *dup_or_null(const char *s, bool *ok)
{
	char *v;

	if (!s)
		return NULL;
	v = strdup(s);
	*ok = *ok && v;
	return v;
}

int config_list_copy(struct list_conf *dst, const struct list_conf *src)
{
	bool ok = true;

	*dst = *src;
	dst->name = dup_or_null(src->name, &ok);
	dst->path = dup_or_null(src->path, &ok);
	dst->url = dup_or_null(src->url, &ok);
	dst->ca_file = dup_or_null(src->ca_file, &ok);
	dst->defaults.malware = dup_or_null(src->defaults.malware, &ok);
	dst->defaults.threat_type = dup_or_null(src->defaults.threat_type, &ok);
	dst->defaults.source = dup_or_null(src->defaults.source, &ok);
	dst->defaults.reference = dup_or_null(src->defaults.reference, &ok);
	dst->headers = NULL;
	dst->n_headers = 0;
	if (src->n_headers) {
		dst->headers = calloc(src->n_headers, sizeof(char *));
		ok = ok && dst->headers;
		for (size_t i = 0; dst->headers && i < src->n_headers; i++) {
			dst->headers[i] = dup_or_null(src->headers[i], &ok);
			dst->n_headers++;
		}
	}
	if (!ok) {
		config_list_deinit(dst);
		memset(dst, 0, sizeof(*dst));
		return -ENOMEM;
	}
	return 0;
}

static bool has_key(struct ctx *c, const yaml_node_t *map, const char *name)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = node(c, p->key);

		if (k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, name) == 0)
			return true;
	}
	return false;
}

/* One item of blocklists: a path, or a mapping with path: or url:. False when invalid. */
static bool parse_list(struct ctx *c, const char *key, yaml_node_t *item, struct list_conf *l)
{
	char d[80];

	list_init(l);
	c->list = l;
	if (item->type == YAML_SCALAR_NODE) {
		key_list_path(c, key, item);
		c->list = NULL;
		l->format = (int)format_from_path(l->path ? l->path : "");
		l->required = true;
		return l->path && l->name;
	}
	if (item->type != YAML_MAPPING_NODE) {
		c->list = NULL;
		error_at(c, item, "%s: expected a file name or a mapping with path: or url:, got %s",
			 key, describe(item, d, sizeof(d)));
		return false;
	}
	walk_mapping(c, key, item, list_keys, ARRAY_SIZE(list_keys));
	c->list = NULL;
	if (!has_key(c, item, "path") == !has_key(c, item, "url")) {
		error_at(c, item, "%s: a list has either path: (a local file) or url: (a feed)", key);
		return false;
	}
	if (has_key(c, item, "url") && !has_key(c, item, "name")) {
		error_at(c, item, "%s: a feed needs name: (it names its copy in state_dir)", key);
		return false;
	}
	if (!has_key(c, item, "format") && l->path)
		l->format = (int)format_from_path(l->path);
	if (!has_key(c, item, "required"))
		l->required = l->path != NULL;
	return (l->path || l->url) && l->name;
}

static void key_blocklists(struct ctx *c, const char *key, yaml_node_t *n)
{
	struct config *cfg = c->cfg;
	yaml_node_item_t *items;
	size_t count;

	c->have_blocklists = true;
	items = get_list(c, key, n, false, "[blocklist.yaml]", &count);
	if (!items)
		return;
	if (count > CONFIG_MAX_LISTS) {
		error_at(c, n, "%s: %zu lists; at most %d", key, count, CONFIG_MAX_LISTS);
		return;
	}
	cfg->lists = calloc(count, sizeof(*cfg->lists));
	if (!cfg->lists) {
		oom(c);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = node(c, items[i]);
		struct list_conf *l = &cfg->lists[cfg->n_lists];
		char d[80];
		bool dup = false;

		if (!parse_list(c, key, item, l)) {
			config_list_deinit(l);
			continue;
		}
		for (size_t j = 0; j < cfg->n_lists; j++)
			dup = dup || strcmp(cfg->lists[j].name, l->name) == 0 ||
			      (l->path && cfg->lists[j].path &&
			       strcmp(cfg->lists[j].path, l->path) == 0);
		if (dup) {
			if (item->type == YAML_SCALAR_NODE)
				error_at(c, item, "%s: %s is listed twice", key,
					 describe(item, d, sizeof(d)));
			else
				error_at(c, item, "%s: \"%s\" is listed twice", key, l->name);
			config_list_deinit(l);
			continue;
		}
		cfg->n_lists++;
	}
}

static void key_state_dir(struct ctx *c, const char *key, yaml_node_t *n)
{
	char *dir = NULL;

	set_string(c, key, n, "a directory", &dir);
	if (!dir)
		return;
	free(c->cfg->state_dir);
	c->cfg->state_dir = resolve_path(c, dir);
	free(dir);
	if (!c->cfg->state_dir)
		oom(c);
}

static void key_watch(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->cfg->watch);
}

/* Feeds are read from state_dir/feeds/<name>, known once the whole file is read. */
static void set_feed_paths(struct ctx *c)
{
	struct config *cfg = c->cfg;

	for (size_t i = 0; i < cfg->n_lists; i++) {
		struct list_conf *l = &cfg->lists[i];

		if (!l->url || !cfg->state_dir)
			continue;
		if (asprintf(&l->path, "%s/feeds/%s", cfg->state_dir, l->name) < 0) {
			l->path = NULL;
			oom(c);
			return;
		}
	}
}

static void key_mode(struct ctx *c, const char *key, yaml_node_t *n)
{
	unsigned v;

	if (get_choice(c, key, n, mode_names, ARRAY_SIZE(mode_names), &v))
		c->cfg->sinkhole.mode = (enum sinkhole_mode)v;
}

static void key_ipv4(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "an IPv4 address like 0.0.0.0");
	char d[80];

	if (s && inet_pton(AF_INET, s, c->cfg->sinkhole.ipv4) != 1)
		error_at(c, n, "%s: expected an IPv4 address like 0.0.0.0, got %s", key,
			 describe(n, d, sizeof(d)));
}

static void key_ipv6(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "an IPv6 address like \"::\"");
	char d[80];

	if (s && inet_pton(AF_INET6, s, c->cfg->sinkhole.ipv6) != 1)
		error_at(c, n, "%s: expected an IPv6 address like \"::\", got %s", key,
			 describe(n, d, sizeof(d)));
}

UINT_KEY(key_ttl, sinkhole.ttl, 0, 604800)

UINT_KEY(key_min_confidence, sinkhole.min_confidence, 0, 100)

static void key_inspect_cname(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->cfg->sinkhole.inspect_cname);
}

static void key_inspect_ip(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->cfg->sinkhole.inspect_ip);
}

static const struct key_def sinkhole_keys[] = {
	{"mode", key_mode},
	{"ipv4", key_ipv4},
	{"ipv6", key_ipv6},
	{"ttl", key_ttl},
	{"min_confidence", key_min_confidence},
	{"inspect_cname", key_inspect_cname},
	{"inspect_ip", key_inspect_ip},
};

static void key_sinkhole(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, sinkhole_keys, ARRAY_SIZE(sinkhole_keys));
}

/* A list of client prefixes into *dst (replacing it). */
static void parse_acl(struct ctx *c, const char *key, yaml_node_t *n, struct acl **dst)
{
	yaml_node_item_t *items;
	struct acl *acl;
	size_t count;

	/* An empty list is allowed: it refuses every client (e.g. while investigating). */
	items = get_list(c, key, n, true, "[10.0.0.0/8, \"2001:db8::/32\"]", &count);
	if (!items)
		return;
	acl = calloc(1, sizeof(*acl) + count * sizeof(acl->v[0]));
	if (!acl) {
		oom(c);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *item = node(c, items[i]);
		const char *s = get_string(c, key, item, "a prefix like 10.0.0.0/8");
		struct acl_prefix *p = &acl->v[acl->n];
		const char *why;
		char d[80], net[INET6_ADDRSTRLEN];

		if (!s)
			continue;
		if (acl_parse_prefix(s, p, &why) == 0) {
			acl->n++;
			continue;
		}
		/* acl_parse_prefix leaves the masked network in *p for this error. */
		if (strstr(why, "host bits") &&
		    inet_ntop(p->family, p->addr, net, sizeof(net)))
			error_at(c, item, "%s: bad prefix %s: %s (did you mean %s/%u?)", key,
				 describe(item, d, sizeof(d)), why, net, p->bits);
		else
			error_at(c, item, "%s: bad prefix %s: %s", key,
				 describe(item, d, sizeof(d)), why);
	}
	free(*dst);
	*dst = acl;
}

static void key_allow(struct ctx *c, const char *key, yaml_node_t *n)
{
	parse_acl(c, key, n, &c->cfg->acl);
}

static void key_trusted_proxies(struct ctx *c, const char *key, yaml_node_t *n)
{
	parse_acl(c, key, n, &c->cfg->trusted_proxies);
}

static const struct key_def access_keys[] = {
	{"allow", key_allow},
	{"trusted_proxies", key_trusted_proxies},
};

static void key_access(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, access_keys, ARRAY_SIZE(access_keys));
}

static void key_cache_enabled(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->cfg->cache.enabled);
}

static void key_cache_size(struct ctx *c, const char *key, yaml_node_t *n)
{
	uint64_t v;

	if (get_size(c, key, n, CACHE_SIZE_MIN, CACHE_SIZE_MAX, "64K..64G", &v))
		c->cfg->cache.size = (size_t)v;
}

static void key_cache_min_ttl(struct ctx *c, const char *key, yaml_node_t *n)
{
	unsigned long v;

	if (get_uint(c, key, n, 0, 86400, &v)) {
		c->cfg->cache.min_ttl = (uint32_t)v;
		c->cache_min_ttl = n;
	}
}

UINT_KEY(key_cache_max_ttl, cache.max_ttl, 1, 604800)

UINT_KEY(key_cache_negative_ttl_max, cache.negative_ttl_max, 0, 86400)

static const struct key_def cache_keys[] = {
	{"enabled", key_cache_enabled},
	{"size", key_cache_size},
	{"min_ttl", key_cache_min_ttl},
	{"max_ttl", key_cache_max_ttl},
	{"negative_ttl_max", key_cache_negative_ttl_max},
};

static void key_cache(struct ctx *c, const char *key, yaml_node_t *n)
{
	const struct cache_conf *cc = &c->cfg->cache;

	walk_mapping(c, key, n, cache_keys, ARRAY_SIZE(cache_keys));
	/* min_ttl <= 86400, max_ttl's default: only both set explicitly can conflict. */
	if (c->cache_min_ttl && cc->min_ttl > cc->max_ttl)
		error_at(c, c->cache_min_ttl, "%s.min_ttl: %u is larger than %s.max_ttl (%u)", key,
			 (unsigned)cc->min_ttl, key, (unsigned)cc->max_ttl);
}

static void key_retro_enabled(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->cfg->retro.enabled);
}

static void key_retro_window(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_duration(c, key, n, &c->cfg->retro.window_s);
}

static void key_retro_memory(struct ctx *c, const char *key, yaml_node_t *n)
{
	uint64_t v;

	if (get_size(c, key, n, 1ull << 20, 64ull << 30, "1M..64G", &v))
		c->cfg->retro.memory = (size_t)v;
}

static const struct key_def retro_keys[] = {
	{"enabled", key_retro_enabled},
	{"window", key_retro_window},
	{"memory", key_retro_memory},
};

static void key_retro(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, retro_keys, ARRAY_SIZE(retro_keys));
}

/* A log file's path into *field: "-" (stdout), or a file name resolved against the config's dir. */
static void set_log_path(struct ctx *c, const char *key, yaml_node_t *n, char **field)
{
	const char *s = get_string(c, key, n, "a file name or \"-\" for stdout");
	char d[80];
	char *path;

	if (!s)
		return;
	if (!*s) {
		error_at(c, n, "%s: expected a file name or \"-\" for stdout, got %s", key,
			 describe(n, d, sizeof(d)));
		return;
	}
	path = strcmp(s, "-") == 0 ? strdup(s) : resolve_path(c, s);
	if (!path) {
		oom(c);
		return;
	}
	free(*field);
	*field = path;
}

static void key_blocklog_path(struct ctx *c, const char *key, yaml_node_t *n)
{
	set_log_path(c, key, n, &c->cfg->blocklog_path);
}

static void key_dvc(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "a device name");
	char *dvc;

	if (!s || !*s) /* empty: keep the host name */
		return;
	if (strlen(s) > DVC_MAX) {
		error_at(c, n, "%s: longer than %d characters", key, DVC_MAX);
		return;
	}
	dvc = strdup(s);
	if (!dvc) {
		oom(c);
		return;
	}
	free(c->cfg->dvc);
	c->cfg->dvc = dvc;
}

UINT_KEY(key_tcp_idle, tcp_idle_timeout_ms, 100, 3600000)
UINT_KEY(key_tcp_read, tcp_read_timeout_ms, 100, 600000)
UINT_KEY(key_tcp_max, tcp_max_clients, 1, 1000000)
UINT_KEY(key_tcp_per_client, tcp_max_per_client, 1, 1000000)
UINT_KEY(key_max_pending, max_pending, 16, 1000000)
UINT_KEY(key_rl_qps, rate_limit.qps, 0, 10000000)
UINT_KEY(key_rl_burst, rate_limit.burst, 0, 100000000)
UINT_KEY(key_rl_v4, rate_limit.ipv4_prefix, 8, 32)
UINT_KEY(key_rl_v6, rate_limit.ipv6_prefix, 16, 128)

/* udp.receive_buffer / udp.send_buffer: 0 (the kernel's default), or 64K..512M (the kernel caps a
 * buffer at INT_MAX / 2 bytes, doubled). */
static void get_udp_buffer(struct ctx *c, const char *key, yaml_node_t *n, uint64_t *out)
{
	uint64_t v;

	if (!get_size(c, key, n, 0, 512ull << 20, "0 or 64K..512M", &v))
		return;
	if (v != 0 && v < (64u << 10)) {
		error_at(c, n, "%s: expected 0 (the kernel's default) or at least 64K, got %llu", key,
			 (unsigned long long)v);
		return;
	}
	*out = v;
	c->cfg->udp_buffers_set = true;
}

static void key_udp_rcvbuf(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_udp_buffer(c, key, n, &c->cfg->udp_receive_buffer);
}

static void key_udp_sndbuf(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_udp_buffer(c, key, n, &c->cfg->udp_send_buffer);
}

static const struct key_def udp_keys[] = {
	{"receive_buffer", key_udp_rcvbuf},
	{"send_buffer", key_udp_sndbuf},
};

static void key_udp(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, udp_keys, ARRAY_SIZE(udp_keys));
}

static const struct key_def tcp_keys[] = {
	{"idle_timeout_ms", key_tcp_idle},
	{"read_timeout_ms", key_tcp_read},
	{"max_connections", key_tcp_max},
	{"max_per_client", key_tcp_per_client},
};

static void key_tcp(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, tcp_keys, ARRAY_SIZE(tcp_keys));
}

static void key_rl_action(struct ctx *c, const char *key, yaml_node_t *n)
{
	static const char *const actions[] = {[RATELIMIT_REFUSED] = "refused",
					      [RATELIMIT_DROP] = "drop"};
	unsigned v;

	if (get_choice(c, key, n, actions, ARRAY_SIZE(actions), &v))
		c->cfg->rate_limit.action = (enum ratelimit_action)v;
}

static const struct key_def rate_limit_keys[] = {
	{"qps", key_rl_qps},
	{"burst", key_rl_burst},
	{"ipv4_prefix", key_rl_v4},
	{"ipv6_prefix", key_rl_v6},
	{"action", key_rl_action},
};

static void key_rate_limit(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, rate_limit_keys, ARRAY_SIZE(rate_limit_keys));
}

static void key_user(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *v = get_string(c, key, n, "a user name");

	if (!v)
		return;
	if (!*v) {
		error_at(c, n, "%s: expected a user name, got an empty string", key);
		return;
	}
	free(c->cfg->user);
	c->cfg->user = strdup(v);
	if (!c->cfg->user)
		oom(c);
}

static void key_allow_root(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->cfg->allow_root);
}

UINT_KEY(key_aggregate_ms, aggregate_ms, 0, 60000)

static const struct key_def blocklog_keys[] = {
	{"path", key_blocklog_path},
	{"dvc", key_dvc},
	{"aggregate_ms", key_aggregate_ms},
};

/* ---- query_log: ----------------------------------------------------------------------- */

static void key_qlog_path(struct ctx *c, const char *key, yaml_node_t *n)
{
	set_log_path(c, key, n, &c->cfg->query_log.path);
}

/* A share 0 < s <= 1, written as a plain decimal ("0.1", "1", "0.005"). */
static void key_qlog_sample(struct ctx *c, const char *key, yaml_node_t *n)
{
	struct query_log_conf *q = &c->cfg->query_log;
	const char *s;
	char d[80], *end;
	double v;

	if (n->type != YAML_SCALAR_NODE)
		goto bad;
	s = (const char *)n->data.scalar.value;
	if (!*s || strspn(s, "0123456789.") != n->data.scalar.length)
		goto bad;
	v = strtod(s, &end);
	if (*end || !(v > 0 && v <= 1))
		goto bad;
	q->sample = v;
	q->sample_step = (uint64_t)(v * 4294967296.0 + 0.5);
	if (q->sample_step == 0)
		q->sample_step = 1;
	return;
bad:
	error_at(c, n, "%s: expected a share of the queries 0 < s <= 1 like 0.1, got %s", key,
		 describe(n, d, sizeof(d)));
}

static void key_anon_v4(struct ctx *c, const char *key, yaml_node_t *n)
{
	unsigned long v;

	if (get_uint(c, key, n, 0, 32, &v))
		c->cfg->query_log.ipv4_prefix = (uint8_t)v;
}

static void key_anon_v6(struct ctx *c, const char *key, yaml_node_t *n)
{
	unsigned long v;

	if (get_uint(c, key, n, 0, 128, &v))
		c->cfg->query_log.ipv6_prefix = (uint8_t)v;
}

static const struct key_def anon_keys[] = {
	{"ipv4", key_anon_v4},
	{"ipv6", key_anon_v6},
};

/* true (/24 and /48), false (whole addresses), or {ipv4: bits, ipv6: bits}. */
static void key_qlog_anon(struct ctx *c, const char *key, yaml_node_t *n)
{
	struct query_log_conf *q = &c->cfg->query_log;
	char d[80];

	if (n->type == YAML_MAPPING_NODE) {
		walk_mapping(c, key, n, anon_keys, ARRAY_SIZE(anon_keys));
		return;
	}
	if (n->type == YAML_SCALAR_NODE) {
		if (strcmp((const char *)n->data.scalar.value, "true") == 0) {
			q->ipv4_prefix = 24;
			q->ipv6_prefix = 48;
			return;
		}
		if (strcmp((const char *)n->data.scalar.value, "false") == 0) {
			q->ipv4_prefix = 32;
			q->ipv6_prefix = 128;
			return;
		}
	}
	error_at(c, n, "%s: expected true, false or {ipv4: 24, ipv6: 48}, got %s", key,
		 describe(n, d, sizeof(d)));
}

static void key_qlog_exclude(struct ctx *c, const char *key, yaml_node_t *n)
{
	struct query_log_conf *q = &c->cfg->query_log;
	yaml_node_item_t *items;
	size_t count;

	items = get_list(c, key, n, true, "[internal.example, health.example]", &count);
	if (!items)
		return;
	free(q->exclude);
	q->n_exclude = 0;
	q->exclude = calloc(count ? count : 1, sizeof(*q->exclude));
	if (!q->exclude) {
		oom(c);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		yaml_node_t *it = node(c, items[i]);
		const char *s = get_string(c, key, it, "a domain name");
		const char *why;
		int len;

		if (!s)
			continue;
		len = name_to_wire(s, strlen(s), q->exclude[q->n_exclude].name, &why);
		if (len < 0) {
			error_at(c, it, "%s: bad domain name \"%s\": %s", key, s, why);
			continue;
		}
		q->exclude[q->n_exclude++].len = (uint8_t)len;
	}
}

static void key_qlog_matched(struct ctx *c, const char *key, yaml_node_t *n)
{
	get_bool(c, key, n, &c->cfg->query_log.matched);
}

static const struct key_def qlog_keys[] = {
	{"path", key_qlog_path},
	{"sample", key_qlog_sample},
	{"anonymize_client", key_qlog_anon},
	{"exclude", key_qlog_exclude},
	{"matched", key_qlog_matched},
};

static void key_query_log(struct ctx *c, const char *key, yaml_node_t *n)
{
	bool has_path = false;

	walk_mapping(c, key, n, qlog_keys, ARRAY_SIZE(qlog_keys));
	if (n->type != YAML_MAPPING_NODE)
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key);

		has_path |= k->type == YAML_SCALAR_NODE &&
			    strcmp((const char *)k->data.scalar.value, "path") == 0;
	}
	/* A bad path is reported as such; no path at all is this. */
	if (!has_path)
		error_at(c, n, "%s: expected a path (the query log is off without one)", key);
}

static void key_block_log(struct ctx *c, const char *key, yaml_node_t *n)
{
	walk_mapping(c, key, n, blocklog_keys, ARRAY_SIZE(blocklog_keys));
}

static void key_http_listen(struct ctx *c, const char *key, yaml_node_t *n)
{
	const char *s = get_string(c, key, n, "an address like \"127.0.0.1:9153\"");
	const char *why;
	char d[80];

	if (s && addr_parse(s, HTTP_DEFAULT_PORT, &c->cfg->http.listen, &why) < 0)
		error_at(c, n, "%s: bad address %s: %s", key, describe(n, d, sizeof(d)), why);
}

static void key_http_allow(struct ctx *c, const char *key, yaml_node_t *n)
{
	parse_acl(c, key, n, &c->cfg->http.allow);
}

/* A host name as a Host header carries it: letters, digits, '-' and '.', 1..253 of them. */
static bool is_host_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
			return false;
	return true;
}

static void key_http_hosts(struct ctx *c, const char *key, yaml_node_t *n)
{
	size_t size = 1, used = 0;
	char d[80], *out;

	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(c, n, "%s: expected a list of host names like [dns1.example.com], got %s",
			 key, describe(n, d, sizeof(d)));
		return;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = node(c, *i);

		if (e->type == YAML_SCALAR_NODE)
			size += e->data.scalar.length + 1;
	}
	free(c->cfg->http.hosts);
	c->cfg->http.hosts = out = calloc(1, size);
	if (!out) {
		oom(c);
		return;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *e = node(c, *i);
		const char *s = get_string(c, key, e, "a host name like dns1.example.com");
		size_t len;

		if (!s)
			continue;
		if (!is_host_name(s)) {
			error_at(c, e, "%s: expected a host name like dns1.example.com, got %s", key,
				 describe(e, d, sizeof(d)));
			continue;
		}
		len = strlen(s);
		if (s[len - 1] == '.')
			len--; /* the root's dot: compared without it */
		for (size_t k = 0; k < len; k++)
			out[used + k] = (char)tolower((unsigned char)s[k]);
		out[used + len] = '\0';
		used += len + 1;
	}
}

static const struct key_def http_keys[] = {
	{"listen", key_http_listen},
	{"allow", key_http_allow},
	{"hosts", key_http_hosts},
};

static void key_http(struct ctx *c, const char *key, yaml_node_t *n)
{
	c->cfg->http.enabled = true;
	walk_mapping(c, key, n, http_keys, ARRAY_SIZE(http_keys));
}

static void key_log_level(struct ctx *c, const char *key, yaml_node_t *n)
{
	char d[80];

	if (n->type == YAML_SCALAR_NODE &&
	    log_level_parse((const char *)n->data.scalar.value, &c->cfg->log_level) == 0)
		return;
	error_at(c, n, "%s: expected one of error, warn, info, debug, got %s", key,
		 describe(n, d, sizeof(d)));
}

static const struct key_def top_keys[] = {
	{"listen", key_listen},
	{"upstreams", key_upstreams},
	{"upstream_timeout_ms", key_upstream_timeout},
	{"workers", key_workers},
	{"blocklists", key_blocklists},
	{"state_dir", key_state_dir},
	{"watch", key_watch},
	{"sinkhole", key_sinkhole},
	{"access", key_access},
	{"cache", key_cache},
	{"retro_hunt", key_retro},
	{"rate_limit", key_rate_limit},
	{"udp", key_udp},
	{"tcp", key_tcp},
	{"upstream_max_pending", key_max_pending},
	{"block_log", key_block_log},
	{"query_log", key_query_log},
	{"http", key_http},
	{"log_level", key_log_level},
	{"user", key_user},
	{"allow_root", key_allow_root},
};

/* The directory of file, made absolute so that a later chdir cannot change its meaning. */
static char *dir_of(const char *file)
{
	const char *slash;
	char cwd[PATH_MAX], *out;
	size_t n;

	while (file[0] == '.' && file[1] == '/') {
		file += 2;
		while (*file == '/')
			file++;
	}
	slash = strrchr(file, '/');
	if (slash == file)
		return strdup("/");
	n = slash ? (size_t)(slash - file) : 0;
	if (file[0] == '/')
		return strndup(file, n);
	if (!getcwd(cwd, sizeof(cwd)))
		return slash ? strndup(file, n) : strdup(".");
	if (!slash)
		return strdup(cwd);
	if (asprintf(&out, "%s%s%.*s", cwd, strcmp(cwd, "/") ? "/" : "", (int)n, file) < 0)
		return NULL;
	return out;
}

static int set_defaults(struct config *cfg, const char *file)
{
	const char *why;

	cfg->path = strdup(file);
	cfg->dir = dir_of(file);
	cfg->upstream_timeout_ms = 1500;
	cfg->workers = 0;
	cfg->sinkhole.mode = SINKHOLE_ADDRESS;
	cfg->sinkhole.ttl = 60;
	cfg->sinkhole.min_confidence = 0;
	cfg->sinkhole.inspect_cname = true;
	cfg->sinkhole.inspect_ip = true;
	cfg->cache.enabled = true;
	cfg->cache.size = 64u << 20;
	cfg->cache.min_ttl = 0;
	cfg->cache.max_ttl = 86400;
	cfg->cache.negative_ttl_max = 3600;
	cfg->retro.enabled = true;
	cfg->retro.window_s = 7 * 86400;
	cfg->retro.memory = 64u << 20;
	cfg->blocklog_path = strdup("/var/log/sinkholed/blocked.jsonl");
	cfg->aggregate_ms = 1000;
	cfg->query_log.sample = 1;
	cfg->query_log.sample_step = 1ull << 32;
	cfg->query_log.ipv4_prefix = 32;
	cfg->query_log.matched = false;
	cfg->query_log.ipv6_prefix = 128;
	cfg->state_dir = strdup("/var/lib/sinkholed");
	cfg->watch = true;
	cfg->log_level = LOG_INFO;
	cfg->udp_receive_buffer = 4u << 20;
	cfg->udp_send_buffer = 4u << 20;
	cfg->tcp_idle_timeout_ms = 10000;
	cfg->tcp_read_timeout_ms = 5000;
	cfg->tcp_max_clients = 1024;
	cfg->tcp_max_per_client = 64;
	cfg->max_pending = 4096;
	cfg->rate_limit.ipv4_prefix = 32;
	cfg->rate_limit.ipv6_prefix = 56;
	cfg->rate_limit.action = RATELIMIT_REFUSED;

	cfg->listen = calloc(ARRAY_SIZE(default_listen), sizeof(*cfg->listen));
	cfg->acl = calloc(1, sizeof(*cfg->acl) +
				     ARRAY_SIZE(default_allow) * sizeof(cfg->acl->v[0]));
	cfg->dvc = calloc(1, DVC_MAX + 1);
	cfg->http.allow = calloc(1, sizeof(*cfg->http.allow) + ARRAY_SIZE(default_http_allow) *
								  sizeof(cfg->http.allow->v[0]));
	if (!cfg->path || !cfg->dir || !cfg->blocklog_path || !cfg->state_dir || !cfg->listen ||
	    !cfg->acl || !cfg->dvc || !cfg->http.allow)
		return -ENOMEM;
	REQUIRE(addr_parse(HTTP_DEFAULT_LISTEN, HTTP_DEFAULT_PORT, &cfg->http.listen, &why) == 0);
	for (size_t i = 0; i < ARRAY_SIZE(default_http_allow); i++)
		REQUIRE(acl_parse_prefix(default_http_allow[i], &cfg->http.allow->v[i], &why) == 0);
	cfg->http.allow->n = ARRAY_SIZE(default_http_allow);
	for (size_t i = 0; i < ARRAY_SIZE(default_listen); i++)
		REQUIRE(addr_parse(default_listen[i], 53, &cfg->listen[i], &why) == 0);
	cfg->n_listen = ARRAY_SIZE(default_listen);
	for (size_t i = 0; i < ARRAY_SIZE(default_allow); i++)
		REQUIRE(acl_parse_prefix(default_allow[i], &cfg->acl->v[i], &why) == 0);
	cfg->acl->n = ARRAY_SIZE(default_allow);
	if (gethostname(cfg->dvc, DVC_MAX) < 0 || !cfg->dvc[0])
		snprintf(cfg->dvc, DVC_MAX + 1, "localhost");
	return 0;
}

static int default_blocklists(struct ctx *c)
{
	struct config *cfg = c->cfg;

	struct list_conf *l;

	cfg->lists = calloc(1, sizeof(*cfg->lists));
	if (!cfg->lists)
		return -ENOMEM;
	l = &cfg->lists[0];
	list_init(l);
	l->format = FORMAT_YAML;
	l->required = true;
	l->path = resolve_path(c, "blocklist.yaml");
	l->name = strdup("blocklist.yaml");
	cfg->n_lists = 1;
	if (!l->path || !l->name)
		return -ENOMEM;
	return 0;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static bool is_any(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

/* An upstream that is one of our own listen addresses would forward queries in a loop. */
static bool is_own_address(const struct config *cfg, const struct sockaddr_storage *up)
{
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct sockaddr_storage *l = &cfg->listen[i];

		if (addr_equal((const struct sockaddr *)l, (const struct sockaddr *)up))
			return true;
		if (l->ss_family == up->ss_family && is_any(l) && is_loopback(up) &&
		    addr_port((const struct sockaddr *)l) == addr_port((const struct sockaddr *)up))
			return true;
	}
	return false;
}

static void upstreams_from_resolv_conf(struct ctx *c)
{
	struct config *cfg = c->cfg;
	char buf[INET6_ADDRSTRLEN + 8];
	int n = config_read_resolv_conf(RESOLV_CONF, &cfg->upstreams);

	if (n < 0) {
		error_at(c, NULL,
			 "no upstreams: set `upstreams` or a nameserver in " RESOLV_CONF " (%s)",
			 strerror(-n));
		return;
	}
	cfg->n_upstreams = (size_t)n;
	if (n == 0) {
		error_at(c, NULL, "no upstreams: set `upstreams` or a nameserver in " RESOLV_CONF);
		return;
	}
	for (size_t i = 0; i < cfg->n_upstreams; i++) {
		if (is_own_address(cfg, &cfg->upstreams[i])) {
			addr_format((struct sockaddr *)&cfg->upstreams[i], buf, sizeof(buf));
			error_at(c, NULL,
				 "upstream %s from " RESOLV_CONF
				 " is a listen address of sinkholed (a forwarding loop): set "
				 "`upstreams`",
				 buf);
		}
	}
}

static void check_upstream_loops(struct ctx *c, yaml_node_t *root)
{
	struct sockaddr_storage ss;
	const char *why;
	char d[80];

	/* Walk the list again (listen may come after upstreams) to point at the item. */
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(c, p->key), *list = node(c, p->value);

		if (k->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)k->data.scalar.value, "upstreams") != 0 ||
		    list->type != YAML_SEQUENCE_NODE)
			continue;
		for (yaml_node_item_t *i = list->data.sequence.items.start;
		     i < list->data.sequence.items.top; i++) {
			yaml_node_t *item = node(c, *i);

			if (item->type != YAML_SCALAR_NODE ||
			    addr_parse((const char *)item->data.scalar.value, 53, &ss, &why) < 0 ||
			    !is_own_address(c->cfg, &ss))
				continue;
			error_at(c, item,
				 "upstreams: %s is a listen address of sinkholed "
				 "(a forwarding loop)",
				 describe(item, d, sizeof(d)));
		}
		return;
	}
}

/* Line and column (1-based) of a byte offset, for reader errors that only carry an offset. */
static void offset_position(const char *text, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void syntax_error(struct ctx *c, const yaml_parser_t *parser, const char *text, size_t len)
{
	int line = (int)parser->problem_mark.line + 1, col = (int)parser->problem_mark.column + 1;
	const char *problem = parser->problem ? parser->problem : "unknown error";

	c->failed = true;
	if (parser->error == YAML_MEMORY_ERROR) {
		oom(c);
		return;
	}
	if (parser->error == YAML_READER_ERROR) {
		offset_position(text, len, parser->problem_offset, &line, &col);
		perr_add(c->errs, c->file, line, col, "YAML error: %s", problem);
	} else if (parser->context) {
		perr_add(c->errs, c->file, line, col,
			 "YAML syntax error: %s (%s at line %zu column %zu)", problem,
			 parser->context, parser->context_mark.line + 1,
			 parser->context_mark.column + 1);
	} else {
		perr_add(c->errs, c->file, line, col, "YAML syntax error: %s", problem);
	}
}

static void parse_document(struct ctx *c, yaml_parser_t *parser, const char *text, size_t len)
{
	yaml_document_t doc, extra;
	yaml_node_t *root, *second;

	if (!yaml_parser_load(parser, &doc)) {
		syntax_error(c, parser, text, len);
		return;
	}
	c->doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		error_at(c, NULL, "empty config file: expected a mapping of settings "
				  "(write {} to use every default)");
		goto out;
	}
	walk_mapping(c, "", root, top_keys, ARRAY_SIZE(top_keys));
	if (root->type != YAML_MAPPING_NODE)
		goto out;

	/* A second document would be silently ignored: reject it (and any syntax error). */
	if (!yaml_parser_load(parser, &extra)) {
		syntax_error(c, parser, text, len);
		goto out;
	}
	second = yaml_document_get_root_node(&extra);
	if (second)
		error_at(c, second, "only one YAML document is allowed in a config file");
	yaml_document_delete(&extra);

	if (!c->have_upstreams)
		upstreams_from_resolv_conf(c);
	else
		check_upstream_loops(c, root);
	if (!c->have_blocklists && default_blocklists(c) < 0)
		oom(c);
	set_feed_paths(c);
out:
	c->doc = NULL;
	yaml_document_delete(&doc);
}

int config_load_string(const char *text, size_t len, const char *file, struct config **out,
		       struct parse_errs *errs)
{
	struct ctx c = {.errs = errs, .file = file ? file : "<string>"};
	yaml_parser_t parser;

	*out = NULL;
	c.cfg = calloc(1, sizeof(*c.cfg));
	if (!c.cfg || set_defaults(c.cfg, c.file) < 0) {
		oom(&c);
		goto fail;
	}
	if (!yaml_parser_initialize(&parser)) {
		oom(&c);
		goto fail;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	parse_document(&c, &parser, text, len);
	yaml_parser_delete(&parser);
	if (c.failed)
		goto fail;
	*out = c.cfg;
	return 0;
fail:
	config_free(c.cfg);
	return c.oom ? -ENOMEM : -EINVAL;
}

int config_load(const char *path, struct config **out, struct parse_errs *errs)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int ret;

	*out = NULL;
	f = fopen(path, "re");
	if (!f) {
		perr_add(errs, path, 0, 0, "cannot open config file: %s", strerror(errno));
		return -EINVAL;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *t;

			if (cap >= CONFIG_MAX_BYTES) {
				perr_add(errs, path, 0, 0, "config file larger than %d bytes",
					 CONFIG_MAX_BYTES);
				ret = -EINVAL;
				goto fail;
			}
			cap = cap ? cap * 2 : 4096;
			t = realloc(text, cap + 1);
			if (!t) {
				perr_add(errs, path, 0, 0, "out of memory");
				ret = -ENOMEM;
				goto fail;
			}
			text = t;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
		if (got == 0) {
			if (ferror(f)) {
				perr_add(errs, path, 0, 0, "cannot read config file: %s",
					 strerror(errno));
				ret = -EINVAL;
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	f = NULL;
	ret = config_load_string(text ? text : "", len, path, out, errs);
fail:
	if (f)
		fclose(f);
	free(text);
	return ret;
}

int config_read_resolv_conf(const char *path, struct sockaddr_storage **out)
{
	struct sockaddr_storage *v = NULL, *t;
	size_t n = 0, cap = 0;
	char line[512];
	FILE *f;
	int ret;

	*out = NULL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *save, *kw, *ns, *extra;
		char bracketed[INET6_ADDRSTRLEN + 3];
		const char *why;

		line[strcspn(line, "#;")] = '\0';
		kw = strtok_r(line, " \t\r\n", &save);
		if (!kw || strcmp(kw, "nameserver") != 0)
			continue;
		ns = strtok_r(NULL, " \t\r\n", &save);
		extra = strtok_r(NULL, " \t\r\n", &save);
		/* Scoped link-local servers ("fe80::1%eth0") are skipped, like junk lines. */
		if (!ns || extra || strchr(ns, '%') || strchr(ns, '[') ||
		    strlen(ns) >= INET6_ADDRSTRLEN)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4;
			t = realloc(v, cap * sizeof(*v));
			if (!t) {
				ret = -ENOMEM;
				goto fail;
			}
			v = t;
		}
		if (strchr(ns, ':')) {
			snprintf(bracketed, sizeof(bracketed), "[%s]", ns);
			ns = bracketed;
		}
		if (addr_parse(ns, 53, &v[n], &why) == 0)
			n++;
	}
	if (ferror(f)) {
		ret = -EIO;
		goto fail;
	}
	fclose(f);
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return (int)n;
fail:
	fclose(f);
	free(v);
	return ret;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_lists; i++)
		config_list_deinit(&cfg->lists[i]);
	free(cfg->lists);
	free(cfg->state_dir);
	free(cfg->listen);
	free(cfg->upstreams);
	free(cfg->acl);
	free(cfg->trusted_proxies);
	free(cfg->http.allow);
	free(cfg->http.hosts);
	free(cfg->blocklog_path);
	free(cfg->dvc);
	free(cfg->query_log.path);
	free(cfg->query_log.exclude);
	free(cfg->user);
	free(cfg->dir);
	free(cfg->path);
	free(cfg);
}
