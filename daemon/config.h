/* SPDX-License-Identifier: MIT */
/**
 * The daemon's config file (YAML, DESIGN.md section 3) parsed into an immutable struct config.
 * Unknown keys, wrong types and bad values are errors with FILE:LINE:COLUMN.
 */
#ifndef SINKHOLED_CONFIG_H
#define SINKHOLED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "cache.h"
#include "log.h"
#include "perr.h"
#include "ratelimit.h"

struct acl;

enum sinkhole_mode { SINKHOLE_ADDRESS, SINKHOLE_NXDOMAIN, SINKHOLE_NODATA, SINKHOLE_REFUSED };

/** How sinkholed names are answered (the `sinkhole:` section). */
struct sinkhole_conf {
	enum sinkhole_mode mode; /**< default SINKHOLE_ADDRESS */
	uint8_t ipv4[4];	 /**< A answer in address mode, default 0.0.0.0 */
	uint8_t ipv6[16];	 /**< AAAA answer in address mode, default :: */
	uint32_t ttl;		 /**< TTL of sinkhole answers and SOA minimum, default 60 */
	int min_confidence;	 /**< 0-100; entries below only log, default 0 */
	/** Check the CNAME and DNAME targets of upstream answers against the policy; default true */
	bool inspect_cname;
	/** Check the A and AAAA addresses of upstream answers against the listed prefixes; default true */
	bool inspect_ip;
};

/** The `retro_hunt:` section: the memory of lookups checked against new entries. */
struct retro_conf {
	bool enabled;	   /**< default true */
	unsigned window_s; /**< lookups older than this are forgotten; default 7d */
	size_t memory;	   /**< bytes for the whole history (all workers); default 64M */
};

/** A list's `defaults:`: entry fields for entries that lack them (NULL / -1 when unset). */
struct list_defaults {
	char *malware, *threat_type, *source, *reference;
	int confidence;		    /**< 0-100, -1 unset */
	int action;		    /**< enum ioc_action, -1 unset */
	int64_t expires;	    /**< Unix seconds (after a date's day), INT64_MAX unset */
	unsigned expires_after_days; /**< 0 = unset: expiry counted from first_seen, else load */
};

/** A name in canonical wire form (util/name.h). */
struct wire_name {
	uint8_t len;
	uint8_t name[255];
};

/** The `query_log:` section: every answered query, or a sampled share (README "Query log"). */
struct query_log_conf {
	char *path;	/**< query_log.path; "-" = stdout; NULL = off (default) */
	double sample;	/**< query_log.sample: the share logged, 0 < sample <= 1; default 1 */
	/** sample in units of 2^-32 (2^32 = every query), compared with a keyed hash of the query */
	uint64_t sample_step;
	uint8_t ipv4_prefix; /**< anonymize_client: bits of a client address kept; default 32 */
	uint8_t ipv6_prefix; /**< default 128 (anonymize_client: true is 24 and 48) */
	struct wire_name *exclude; /**< query_log.exclude: names whose subtree is not logged */
	size_t n_exclude;
	/** query_log.matched: also log the lookups the block log has (blocked, monitored); false */
	bool matched;
};

/** The `http:` section: the metrics listener. */
struct http_conf {
	bool enabled;			/**< the section is present; default false */
	struct sockaddr_storage listen; /**< http.listen; default 127.0.0.1:9153 */
	struct acl *allow;		/**< http.allow; default loopback; others get 403 */
	/**
	 * http.hosts: the names a request's Host header may carry besides an address literal,
	 * "localhost" and this machine's name; lowercase, each NUL-terminated, an empty one ends
	 * the list. NULL: none.
	 */
	char *hosts;
};

/** One entry of `blocklists:`: a local file, or a feed fetched from url into state_dir. */
struct list_conf {
	char *name;  /**< `name:`, else the path as written; unique; ListFile in the block log */
	char *path;  /**< the file read: resolved path, or state_dir/feeds/<name> for a feed */
	char *url;   /**< a feed's http(s) URL, NULL for a local file */
	int format;  /**< enum list_format (formats/format.h); FORMAT_AUTO sniffs the content */
	int match;   /**< enum match_kind for names without their own: subtree (default) or exact */
	struct list_defaults defaults;
	unsigned refresh_s; /**< feeds: fetch every this many seconds; default 3600 */
	char **headers;	    /**< feeds: extra request headers, "Name: value" */
	size_t n_headers;
	uint64_t max_size; /**< feeds: larger bodies are refused; default 256 MiB */
	unsigned timeout_s; /**< feeds: a fetch takes at most this long; default 60 */
	char *ca_file;	   /**< feeds: CA bundle instead of the system's, or NULL */
	bool required;	   /**< no good version at startup is an error; default: local files */
};

/** The most blocklists a config may name (an entry keeps its list's index in 16 bits). */
#define CONFIG_MAX_LISTS 65535

struct config {
	char *path; /**< the config file as given */
	char *dir;  /**< its directory: relative paths are resolved against it */

	struct sockaddr_storage *listen; /**< UDP and TCP on each; default 127.0.0.1:53, [::1]:53 */
	size_t n_listen;
	struct sockaddr_storage *upstreams; /**< failover in order; default: /etc/resolv.conf */
	size_t n_upstreams;
	unsigned upstream_timeout_ms; /**< per attempt, default 1500, 10..60000 */
	unsigned workers;	      /**< 0 = one per CPU (resolved by main), max 256 */

	struct list_conf *lists; /**< `blocklists:`; default one local file blocklist.yaml */
	size_t n_lists;		 /**< at most CONFIG_MAX_LISTS */
	char *state_dir; /**< fetched feeds live in state_dir/feeds/; default /var/lib/sinkholed */
	bool watch;	 /**< reload when a local list or the config changes; default true */

	struct sinkhole_conf sinkhole;
	struct acl *acl; /**< access.allow; default loopback + private ranges */
	/**
	 * access.trusted_proxies: peers whose queries may carry a PROXY v2 header naming the real
	 * client (dnsdist in front); NULL (default) = none.
	 */
	struct acl *trusted_proxies;
	struct cache_conf cache; /**< the `cache:` section; size is per worker */
	struct retro_conf retro; /**< the `retro_hunt:` section */

	char *blocklog_path; /**< block_log.path; "-" = stdout; default /var/log/sinkholed/blocked.jsonl */
	char *dvc;	     /**< block_log.dvc; default the host name */
	/** block_log.aggregate_ms: identical lookups within this become one record; 0 = off */
	unsigned aggregate_ms;
	struct query_log_conf query_log; /**< the `query_log:` section */

	enum log_level log_level; /**< default LOG_INFO */

	/* Resource limits (`udp:`, `tcp:`, `upstream_max_pending`). */
	uint64_t udp_receive_buffer; /**< udp.receive_buffer: bytes per socket, 0 = the kernel's; 4M */
	uint64_t udp_send_buffer;    /**< udp.send_buffer: the same for answers; 4M */
	bool udp_buffers_set;	     /**< either was written in the config (a shortfall is a warning) */
	unsigned tcp_idle_timeout_ms; /**< tcp.idle_timeout_ms: no query, nothing owed; 10000 */
	unsigned tcp_read_timeout_ms; /**< tcp.read_timeout_ms: a started query completes; 5000 */
	unsigned tcp_max_clients;     /**< tcp.max_connections: per worker; 1024 */
	unsigned tcp_max_per_client;  /**< tcp.max_per_client: per worker and address; 64 */
	unsigned max_pending;	      /**< upstream_max_pending: per worker; 4096 */

	struct ratelimit_conf rate_limit; /**< `rate_limit:`; qps 0 = off (default) */
	struct http_conf http;		  /**< `http:`; off (default) */

	char *user;	 /**< `user:` to switch to after binding when started as root, or NULL */
	bool allow_root; /**< `allow_root:` serve as root without `user:`; default false */
};

/**
 * Load and validate a config file. On success returns 0 and *out (free with config_free).
 * On any error returns -EINVAL (or -ENOMEM) with every problem added to errs, *out = NULL.
 */
int config_load(const char *path, struct config **out, struct parse_errs *errs);
/** Same, from a string in memory; file names the source in error messages and sets dir. */
int config_load_string(const char *text, size_t len, const char *file, struct config **out,
		       struct parse_errs *errs);
/**
 * Read "nameserver" lines of a resolv.conf-style file into a malloc'd array (port 53).
 * Returns the count (0 when none), or a negative errno.
 */
int config_read_resolv_conf(const char *path, struct sockaddr_storage **out);
/** A deep copy of src into dst (for the feed fetcher). 0 or -ENOMEM (dst then empty). */
int config_list_copy(struct list_conf *dst, const struct list_conf *src);
/** Free what a list_conf holds. */
void config_list_deinit(struct list_conf *l);
/** NULL-safe. */
void config_free(struct config *cfg);

#endif
