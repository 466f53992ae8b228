/* SPDX-License-Identifier: MIT */
/*
 * fuzz_config: the input is a config file (YAML, DESIGN.md section 3).
 *
 * config_load_string on it. A failed load must leave *out NULL and at least one error, each
 * of which formats; a successful one must hold only values in their documented ranges. The
 * access list is then matched against a few clients and the Dvc goes through the block-log
 * formatter (a config key that ends up in every log line).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "acl.h"
#include "config.h"
#include "formats/format.h"
#include "fuzz_common.h"

/* A path under a directory that does not exist: nothing is read but /etc/resolv.conf. */
#define CONFIG_FILE "/nonexistent/sinkholed/fuzz.yaml"

static void check_config(const struct config *cfg)
{
	struct sockaddr_in v4 = {.sin_family = AF_INET, .sin_port = htons(5353)};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6, .sin6_port = htons(5353)};
	struct blocklog_rec rec;

	FUZZ_ASSERT(cfg->path && strcmp(cfg->path, CONFIG_FILE) == 0);
	FUZZ_ASSERT(cfg->dir && strcmp(cfg->dir, "/nonexistent/sinkholed") == 0);
	FUZZ_ASSERT(cfg->n_listen >= 1 && cfg->listen);
	for (size_t i = 0; i < cfg->n_listen; i++)
		FUZZ_ASSERT(cfg->listen[i].ss_family == AF_INET ||
			    cfg->listen[i].ss_family == AF_INET6);
	for (size_t i = 0; i < cfg->n_upstreams; i++)
		FUZZ_ASSERT(cfg->upstreams[i].ss_family == AF_INET ||
			    cfg->upstreams[i].ss_family == AF_INET6);
	FUZZ_ASSERT(cfg->upstream_timeout_ms >= 10 && cfg->upstream_timeout_ms <= 60000);
	FUZZ_ASSERT(cfg->workers <= 256);
	FUZZ_ASSERT(cfg->n_lists >= 1 && cfg->lists && cfg->state_dir);
	for (size_t i = 0; i < cfg->n_lists; i++) {
		const struct list_conf *l = &cfg->lists[i];

		FUZZ_ASSERT(l->path && l->name && l->name[0]);
		FUZZ_ASSERT(l->path[0] == '/'); /* resolved against dir, or in state_dir */
		FUZZ_ASSERT(!l->url || strncmp(l->url, "http", 4) == 0);
		FUZZ_ASSERT(l->format >= 0 && l->format < FORMAT_COUNT);
		FUZZ_ASSERT(l->refresh_s >= 1 && l->max_size >= 1024);
		for (size_t j = 0; j < i; j++) {
			FUZZ_ASSERT(strcmp(l->path, cfg->lists[j].path) != 0);
			FUZZ_ASSERT(strcmp(l->name, cfg->lists[j].name) != 0);
		}
	}
	FUZZ_ASSERT(cfg->sinkhole.mode <= SINKHOLE_REFUSED);
	FUZZ_ASSERT(cfg->sinkhole.ttl <= 604800);
	FUZZ_ASSERT(cfg->sinkhole.min_confidence >= 0 && cfg->sinkhole.min_confidence <= 100);
	FUZZ_ASSERT(cfg->acl);
	for (size_t i = 0; i < cfg->acl->n; i++) {
		const struct acl_prefix *p = &cfg->acl->v[i];

		FUZZ_ASSERT(p->family == AF_INET || p->family == AF_INET6);
		FUZZ_ASSERT(p->bits <= (p->family == AF_INET ? 32 : 128));
	}
	FUZZ_ASSERT(cfg->blocklog_path && cfg->blocklog_path[0]);
	FUZZ_ASSERT(!strcmp(cfg->blocklog_path, "-") || cfg->blocklog_path[0] == '/');
	FUZZ_ASSERT(cfg->dvc && strlen(cfg->dvc) <= 255);
	FUZZ_ASSERT(cfg->log_level <= LOG_DEBUG);
	FUZZ_ASSERT(cfg->cache.size >= (64u << 10) && cfg->cache.size <= (64ull << 30));
	FUZZ_ASSERT(cfg->cache.min_ttl <= cfg->cache.max_ttl);
	FUZZ_ASSERT(cfg->cache.max_ttl >= 1 && cfg->cache.max_ttl <= 604800);
	FUZZ_ASSERT(cfg->cache.negative_ttl_max <= 86400);

	/* An empty list refuses everyone; 0.0.0.0/0 admits everyone. */
	inet_pton(AF_INET, "10.1.2.3", &v4.sin_addr);
	(void)acl_match(cfg->acl, (const struct sockaddr *)&v4);
	inet_pton(AF_INET6, "::ffff:192.168.1.1", &v6.sin6_addr);
	(void)acl_match(cfg->acl, (const struct sockaddr *)&v6);
	inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr);
	(void)acl_match(cfg->acl, (const struct sockaddr *)&v6);
	if (cfg->acl->n == 0)
		FUZZ_ASSERT(!acl_match(cfg->acl, (const struct sockaddr *)&v4));

	memset(&rec, 0, sizeof(rec));
	rec.src_family = AF_INET;
	rec.qname_len = 1;
	fz_check_blocklog(&rec, cfg->dvc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parse_errs errs = {0};
	struct config *cfg = (struct config *)1;
	int rc = config_load_string((const char *)data, size, CONFIG_FILE, &cfg, &errs);

	if (rc == 0) {
		FUZZ_ASSERT(cfg);
		FUZZ_ASSERT(errs.n == 0 && errs.dropped == 0);
		check_config(cfg);
		config_free(cfg);
	} else {
		FUZZ_ASSERT(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_ASSERT(cfg == NULL);
		FUZZ_ASSERT(errs.n + errs.dropped >= 1);
	}
	for (size_t i = 0; i < errs.n; i++) {
		char line[512];

		FUZZ_ASSERT(errs.v[i].file && !strcmp(errs.v[i].file, CONFIG_FILE));
		FUZZ_ASSERT(errs.v[i].line >= 0 && errs.v[i].col >= 0);
		FUZZ_ASSERT(memchr(errs.v[i].msg, 0, sizeof(errs.v[i].msg)));
		perr_format(&errs.v[i], line, sizeof(line));
		FUZZ_ASSERT(!strncmp(line, CONFIG_FILE ":", sizeof(CONFIG_FILE)));
	}
	perr_clear(&errs);
	return 0;
}
