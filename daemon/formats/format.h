/* SPDX-License-Identifier: MIT */
/**
 * List formats. Each format is one file that reads a list's whole text and writes its entries
 * into a list_builder (policy/builder.h); nothing else in the daemon knows a format's syntax.
 */
#ifndef SINKHOLED_FORMATS_FORMAT_H
#define SINKHOLED_FORMATS_FORMAT_H

#include <stddef.h>

struct list_builder;

enum list_format {
	FORMAT_AUTO = 0, /**< sniffed from the content (format_sniff) */
	FORMAT_YAML,	 /**< sinkholed's own: allow:, block: with IOC metadata */
	FORMAT_DOMAINS,	 /**< one name per line, # comments (hosts lines accepted) */
	FORMAT_HOSTS,	 /**< hosts(5) lines, several names per line */
	FORMAT_ADBLOCK,	 /**< AdBlock-style "||name^" rules (the DNS-relevant ones) */
	FORMAT_RPZ,	 /**< a Response Policy Zone file (QNAME triggers) */
	FORMAT_THREATFOX_CSV,  /**< abuse.ch ThreatFox CSV export: its domain IOCs */
	FORMAT_THREATFOX_JSON, /**< abuse.ch ThreatFox JSON export (keyed by IOC id) */
	FORMAT_COUNT,
};

/** The config name of f ("yaml", "domains", ...). */
const char *format_name(enum list_format f);
/** The format named s, or -1. */
int format_by_name(const char *s);
/**
 * The format of a list given as a bare path: .txt and .list are domains, .hosts hosts, .rpz
 * rpz, .adblock adblock, the rest YAML.
 */
enum list_format format_from_path(const char *path);
/** A guess from the first lines of text (for format: auto). */
enum list_format format_sniff(const char *text, size_t len);

/** Parse text[0..len) as f (not FORMAT_AUTO) into lb. */
void format_parse(enum list_format f, struct list_builder *lb, const char *text, size_t len);

/* One parser per format. */
void format_yaml_parse(struct list_builder *lb, const char *text, size_t len);
void format_domains_parse(struct list_builder *lb, const char *text, size_t len);
void format_hosts_parse(struct list_builder *lb, const char *text, size_t len);
void format_adblock_parse(struct list_builder *lb, const char *text, size_t len);
void format_rpz_parse(struct list_builder *lb, const char *text, size_t len);
void format_threatfox_csv_parse(struct list_builder *lb, const char *text, size_t len);
void format_threatfox_json_parse(struct list_builder *lb, const char *text, size_t len);

#endif
