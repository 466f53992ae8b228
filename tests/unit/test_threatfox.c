/* SPDX-License-Identifier: MIT */
/* The ThreatFox list formats (threatfox-csv, threatfox-json) and the dates they use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/format.h"
#include "policy/policy.h"
#include "look_addr.h"
#include "util/civil.h"
#include "util/name.h"

#define T_2026_05_26 1779753600LL
#define T_2026_05_27 1779840000LL
#define NOW T_2026_05_27

/* A file of tests/data/ in a malloc'd buffer. */
static char *read_data(const char *name, size_t *len)
{
	const char *dir = getenv("SINKHOLED_TEST_DATA");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/data/%s", dir ? dir : "tests", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void print_errs(const struct parse_errs *e)
{
	char buf[512];

	for (size_t i = 0; i < e->n; i++) {
		perr_format(&e->v[i], buf, sizeof(buf));
		print_error("%s\n", buf);
	}
}

/* Load text that must be accepted, with warns (may be NULL) its warnings. */
static struct policy *load_ok(int format, const char *text, size_t len, const char *file,
			      struct parse_errs *warns)
{
	struct parse_errs errs = {0};
	struct policy *p = policy_load_text(format, text, len, file, 0, NOW, &errs, warns);

	if (!p) {
		print_errs(&errs);
		perr_clear(&errs);
		fail_msg("load of %s failed", file);
	}
	assert_int_equal(errs.n, 0);
	return p;
}

/* Load text that must be rejected: its errors in errs. */
static void load_bad(int format, const char *text, const char *file, struct parse_errs *errs,
		     struct parse_errs *warns)
{
	struct policy *p = policy_load_text(format, text, strlen(text), file, 0, NOW, errs, warns);

	assert_null(p);
	assert_true(errs->n >= 1);
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

/* The IOC id of a match as the block log writes it (ThreatId). */
static const char *id_of(const struct policy_match *m)
{
	static char buf[IOC_ID_TEXT];

	return ioc_id_text(m->meta, m->ioc_id, buf);
}

/* An address of an answer, at NOW. */
#define look_addr(p, text, m) look_addr_at(p, text, NOW, m)

/* Warning i is FILE:LINE:COLUMN: ...msg... */
static void assert_warn(const struct parse_errs *e, size_t i, const char *want_pos, const char *msg)
{
	char buf[512];

	assert_true(i < e->n);
	perr_format(&e->v[i], buf, sizeof(buf));
	if (strncmp(buf, want_pos, strlen(want_pos)) != 0 || buf[strlen(want_pos)] != ':' ||
	    !strstr(buf, msg))
		fail_msg("warning %zu: \"%s\", expected \"%s: ...%s...\"", i, buf, want_pos, msg);
}

static size_t skipped(const struct list_stats *st, const char *reason)
{
	for (size_t i = 0; i < LIST_SKIP_REASONS; i++)
		if (st->skip[i].reason && strcmp(st->skip[i].reason, reason) == 0)
			return st->skip[i].n;
	return 0;
}

static void test_civil_zoneless(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_true(civil_parse_time("2026-05-27 10:00:00", 19, false, &t));
	assert_int_equal(t, T_2026_05_27 + 36000);
	assert_true(civil_parse_time("2026-05-27 10:00:00Z", 20, false, &t));
	assert_int_equal(t, T_2026_05_27 + 36000);
	assert_true(civil_parse_time("2026-05-26 23:59:60", 19, false, &t));
	assert_int_equal(t, T_2026_05_27);
	assert_true(civil_parse_time("2026-05-27 10:00:00.250", 23, false, &t));
	assert_int_equal(t, T_2026_05_27 + 36000);
	assert_true(civil_parse_time("2026-05-27 10:00:00.250", 23, true, &t));
	assert_int_equal(t, T_2026_05_27 + 36001);
	/* RFC 3339's 'T' form still needs its zone; broken times stay errors */
	assert_false(civil_parse_time("2026-05-27T10:00:00", 19, false, &t));
	assert_false(civil_parse_time("2026-05-27 10:00", 16, false, &t));
	assert_false(civil_parse_time("2026-05-27 24:00:00", 19, false, &t));
	assert_false(civil_parse_time("2026-05-27 10:00:00.", 20, false, &t));
	assert_false(civil_parse_time("2026-05-27 10:00:00 ", 20, false, &t));
	assert_false(civil_parse_time("2026-02-30 10:00:00", 19, false, &t));
}

/* What both exports of tests/data hold, whatever the format and line ends. */
static void check_export(const struct policy *p, const char *file, const char *format,
			 const char *moocow_malware)
{
	const struct list_stats *st = &policy_stats(p)->files[0];
	struct policy_match m;

	assert_int_equal(look(p, "www.mobile1.com", &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "NanoCore RAT");
	assert_string_equal(m.meta->threat_type, "botnet_cc");
	assert_int_equal(m.meta->confidence, 75);
	assert_int_equal(m.meta->first_seen, T_2026_05_27 + 10 * 3600);
	assert_string_equal(id_of(&m), "1234567");
	/* a numeric id is the entry's, not its metadata's */
	assert_int_equal(m.ioc_id, 1234567);
	assert_null(m.meta->id);
	assert_string_equal(m.meta->reference, "https://bazaar.abuse.ch/sample/4f8e0b2a/");
	assert_string_equal(m.meta->source, "ThreatFox");
	assert_string_equal(m.meta->file, file);
	assert_int_equal(m.meta->action, IOC_BLOCK);
	assert_int_equal(look(p, "a.www.mobile1.com", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 2);
	assert_int_equal(look(p, "mobile1.com", &m), VERDICT_PASS);

	/* defanged, with null confidence, last_seen and reference */
	assert_int_equal(look(p, "spapro.co.com", &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, "Agent Tesla");
	assert_int_equal(m.meta->confidence, -1);
	assert_null(m.meta->reference);
	assert_string_equal(id_of(&m), "1234560");
	assert_int_equal(m.meta->first_seen, T_2026_05_26 + 22 * 3600 + 10 * 60 + 3);

	/* quotes inside a field */
	assert_int_equal(look(p, "moocow.my", &m), VERDICT_BLOCK);
	assert_string_equal(m.meta->malware, moocow_malware);
	assert_string_equal(m.meta->threat_type, "payload_delivery");
	assert_string_equal(m.meta->reference, "https://example.org/report?q=\"remcos\"");
	assert_int_equal(m.meta->confidence, 100);

	/* case-folded; malware null, confidence 0 */
	assert_int_equal(look(p, "www.shbet.id", &m), VERDICT_BLOCK);
	assert_null(m.meta->malware);
	assert_int_equal(m.meta->confidence, 0);
	assert_string_equal(id_of(&m), "1234558");

	/* ip:port: the address is an IP indicator, with the row's metadata */
	assert_int_equal(look_addr(p, "45.95.147.236", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 32);
	assert_string_equal(m.meta->malware, "NanoCore RAT");
	assert_string_equal(id_of(&m), "1234566");
	assert_string_equal(m.meta->source, "ThreatFox");
	assert_int_equal(m.meta->confidence, 75);
	assert_int_equal(look_addr(p, "45.95.147.237", &m), VERDICT_PASS);
	assert_int_equal(look(p, "45.95.147.236", &m), VERDICT_PASS); /* not a name */

	/* url and hashes never become names */
	assert_int_equal(look(p, "dl.evil-cdn.example", &m), VERDICT_PASS);
	assert_int_equal(look(p, "d41d8cd98f00b204e9800998ecf8427e", &m), VERDICT_PASS);

	assert_string_equal(st->format, format);
	assert_int_equal(st->invalid, 0);
	assert_int_equal(st->skipped, 3);
	assert_int_equal(skipped(st, "ip:port IOC"), 0);
	assert_int_equal(skipped(st, "url IOC"), 1);
	assert_int_equal(skipped(st, "hash IOC"), 2);
}

static void test_csv_export(void **state)
{
	static const char *const files[] = {"threatfox.csv", "threatfox-crlf.csv"};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct parse_errs warns = {0};
		struct policy_match m;
		size_t len;
		char *text = read_data(files[i], &len);
		struct policy *p = load_ok(FORMAT_THREATFOX_CSV, text, len, files[i], &warns);

		if (warns.n)
			print_errs(&warns);
		assert_int_equal(warns.n, 0);
		check_export(p, files[i], "threatfox-csv", "Remcos");
		/* a row with plain "," between its fields */
		assert_int_equal(look(p, "plain-comma.example", &m), VERDICT_BLOCK);
		assert_string_equal(m.meta->malware, "QakBot");
		assert_int_equal(m.meta->first_seen, T_2026_05_27 - 2 * 86400 + 8 * 3600);
		assert_int_equal(policy_stats(p)->block, 5);
		/* [2001:db8::bad]:443: the bracketed IPv6 address */
		assert_int_equal(look_addr(p, "2001:db8::bad", &m), VERDICT_BLOCK);
		assert_int_equal(m.rule_off, 128);
		assert_string_equal(id_of(&m), "1234570");
		assert_int_equal(policy_stats(p)->block_ip, 2);
		assert_int_equal(policy_stats(p)->files[0].block, 7);
		/* the format is recognised without being told */
		assert_int_equal(format_sniff(text, len), FORMAT_THREATFOX_CSV);
		policy_free(p);
		free(text);
	}
}

static void test_json_export(void **state)
{
	struct parse_errs warns = {0};
	size_t len;
	char *text = read_data("threatfox.json", &len), *crlf;
	struct policy *p;
	size_t k = 0;

	(void)state;
	p = load_ok(FORMAT_THREATFOX_JSON, text, len, "threatfox.json", &warns);
	if (warns.n)
		print_errs(&warns);
	assert_int_equal(warns.n, 0);
	check_export(p, "threatfox.json", "threatfox-json", "Remcos \"RAT\"");
	assert_int_equal(policy_stats(p)->block, 4);
	assert_int_equal(format_sniff(text, len), FORMAT_THREATFOX_JSON);
	policy_free(p);

	/* the same with CRLF line ends */
	crlf = malloc(2 * len);
	assert_non_null(crlf);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			crlf[k++] = '\r';
		crlf[k++] = text[i];
	}
	p = load_ok(FORMAT_THREATFOX_JSON, crlf, k, "threatfox.json", &warns);
	assert_int_equal(warns.n, 0);
	check_export(p, "threatfox.json", "threatfox-json", "Remcos \"RAT\"");
	policy_free(p);
	free(crlf);
	free(text);
}

#define CSV_HEADER                                                                                 \
	"# ThreatFox IOCs: recent\n"                                                               \
	"# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\","              \
	"\"malware_printable\",\"confidence_level\",\"reference\"\n"
#define CSV_OK(id, name)                                                                           \
	"\"2026-05-27 10:00:00\", \"" id "\", \"" name "\", \"domain\", \"botnet_cc\", "           \
	"\"NanoCore RAT\", \"75\", \"None\"\n"

/* The bad rows of test_csv_invalid_rows, then n good ones. */
static char *csv_with_bad_rows(int n, size_t *len)
{
	static const char bad[] = CSV_HEADER
	    "\"2026-05-27 10:00:00\", \"1\", \"a.example\", \"domain\", \"x\", \"M\", \"101\", "
	    "\"\"\n"
	    "\"2026-05-27T10:00:00\", \"2\", \"b.example\", \"domain\", \"x\", \"M\", \"5\", \"\"\n"
	    "\"2026-05-27 1:00:00\", \"3\", \"c.example\", \"domain\", \"x\", \"M\", \"5\", \"\"\n"
	    "\"2026-05-27 10:00:00\", \"4\", \"d.example\", \"domain\", \"x\", \"M\", \"5\"\n"
	    "\"2026-05-27 10:00:00\", \"5\", \"e.example, \"domain\", \"x\", \"M\", \"5\", \"\"\n"
	    "\"2026-05-27 10:00:00\", \"6\", \"bad..name\", \"domain\", \"x\", \"M\", \"5\", \"\"\n"
	    "\"2026-05-27 10:00:00\", \"7\", \"g.example\", \"\", \"x\", \"M\", \"5\", \"\"\n"
	    "\"2026-05-27 10:00:00\", \"8\", \"http://h.example/x.exe\", \"url\", \"x\", \"M\", "
	    "\"5\", \"\"\n";
	char *text = malloc(sizeof(bad) + (size_t)n * 128);
	size_t k = sizeof(bad) - 1;

	assert_non_null(text);
	memcpy(text, bad, k);
	for (int i = 0; i < n; i++)
		k += (size_t)sprintf(text + k, CSV_OK("9%d", "ok%d.example"), i, i);
	*len = k;
	return text;
}

#define CSV_IP(id, value)                                                                          \
	"\"2026-05-27 10:00:00\", \"" id "\", \"" value "\", \"ip:port\", \"botnet_cc\", "       \
	"\"NanoCore RAT\", \"75\", \"None\"\n"

/* ip:port rows: IPv4 and IPv6 with and without a port, duplicates, and a bad address. */
static void test_csv_ip_rows(void **state)
{
	static const char csv[] = CSV_HEADER CSV_IP("1", "192.0.2.1:443") CSV_IP(
	    "2", "[2001:db8::2]:8080") CSV_IP("3", "2001:db8::3") CSV_IP("4", "198.51.100.4")
	    CSV_IP("5", "999.1.2.3:80") CSV_IP("6", "192.0.2.1:8443") CSV_OK("7", "a.example")
		CSV_OK("8", "b.example") CSV_OK("9", "c.example") CSV_OK("10", "d.example")
		    CSV_OK("11", "e.example");
	struct parse_errs warns = {0};
	struct policy_match m;
	struct policy *p = load_ok(FORMAT_THREATFOX_CSV, csv, sizeof(csv) - 1, "ip.csv", &warns);
	const struct list_stats *st = &policy_stats(p)->files[0];

	(void)state;
	assert_int_equal(look_addr(p, "192.0.2.1", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "6"); /* listed twice: the later row's fields */
	assert_int_equal(look_addr(p, "2001:db8::2", &m), VERDICT_BLOCK);
	assert_int_equal(m.rule_off, 128);
	assert_int_equal(look_addr(p, "2001:db8::3", &m), VERDICT_BLOCK);
	assert_int_equal(look_addr(p, "198.51.100.4", &m), VERDICT_BLOCK);
	assert_int_equal(look_addr(p, "2001:db8::4", &m), VERDICT_PASS);
	assert_int_equal(st->invalid, 1);
	assert_int_equal(st->duplicates, 1);
	assert_int_equal(st->block, 4 + 5);
	assert_int_equal(policy_stats(p)->block_ip, 4);
	assert_int_equal(warns.n, 1);
	assert_warn(&warns, 0, "ip.csv:7:29", "invalid address \"999.1.2.3\"");
	perr_clear(&warns);
	policy_free(p);
}

static void test_csv_invalid_rows(void **state)
{
	struct parse_errs errs = {0}, warns = {0};
	struct policy_match m;
	struct policy *p;
	size_t len;
	char *csv = csv_with_bad_rows(30, &len);

	(void)state;
	/* 7 bad rows among 37 entries: more than 10%, the list is rejected */
	p = policy_load_text(FORMAT_THREATFOX_CSV, csv, len, "t.csv", 0, NOW, &errs, &warns);
	assert_null(p);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].file, "t.csv");
	assert_non_null(strstr(errs.v[0].msg, "7 of 37 entries invalid"));
	assert_int_equal(warns.n, 7);
	assert_warn(&warns, 0, "t.csv:3:62", "confidence_level \"101\": expected 0-100");
	assert_warn(&warns, 1, "t.csv:4:1", "first_seen_utc \"2026-05-27T10:00:00\"");
	assert_warn(&warns, 2, "t.csv:5:1", "first_seen_utc \"2026-05-27 1:00:00\"");
	assert_warn(&warns, 3, "t.csv:6:1", "7 fields, where the header line (line 2) has 8");
	assert_warn(&warns, 4, "t.csv:7:42", "expected a comma after a quoted field");
	assert_warn(&warns, 5, "t.csv:8:29", "invalid domain \"bad..name\"");
	assert_warn(&warns, 6, "t.csv:9:42", "an IOC without an ioc_type");
	perr_clear(&errs);
	perr_clear(&warns);
	free(csv);

	/* the same bad rows among 70 good ones (9%): used, the bad rows reported */
	csv = csv_with_bad_rows(70, &len);
	p = load_ok(FORMAT_THREATFOX_CSV, csv, len, "t.csv", &warns);
	assert_int_equal(warns.n, 7);
	assert_int_equal(policy_stats(p)->files[0].invalid, 7);
	assert_int_equal(policy_stats(p)->files[0].block, 70);
	assert_int_equal(skipped(&policy_stats(p)->files[0], "url IOC"), 1);
	assert_int_equal(look(p, "ok69.example", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "969");
	assert_int_equal(look(p, "a.example", &m), VERDICT_PASS);
	assert_int_equal(look(p, "h.example", &m), VERDICT_PASS);
	policy_free(p);
	perr_clear(&warns);
	free(csv);
}

static void test_csv_header(void **state)
{
	struct parse_errs errs = {0};

	(void)state;
	/* rows without a header line */
	load_bad(FORMAT_THREATFOX_CSV, "# ThreatFox\n" CSV_OK("1", "a.example"), "t.csv", &errs,
		 NULL);
	assert_int_equal(errs.v[0].line, 2);
	assert_non_null(strstr(errs.v[0].msg, "no ThreatFox header line"));
	perr_clear(&errs);
	/* a header without the columns that matter */
	load_bad(FORMAT_THREATFOX_CSV, "# \"first_seen_utc\",\"ioc_id\",\"ioc_value\"\n", "t.csv",
		 &errs, NULL);
	assert_int_equal(errs.v[0].line, 1);
	assert_int_equal(errs.v[0].col, 3);
	assert_non_null(strstr(errs.v[0].msg, "no \"ioc_type\" column"));
	perr_clear(&errs);
	load_bad(FORMAT_THREATFOX_CSV, "# \"first_seen_utc\",\"ioc_id\"\n", "t.csv", &errs, NULL);
	assert_non_null(strstr(errs.v[0].msg, "no \"ioc_value\" nor \"ioc_type\" column"));
	perr_clear(&errs);
	/* nothing but comments, or nothing at all */
	load_bad(FORMAT_THREATFOX_CSV, "# ThreatFox IOCs\n#\n", "t.csv", &errs, NULL);
	assert_int_equal(errs.v[0].line, 0);
	assert_non_null(strstr(errs.v[0].msg, "no ThreatFox header line"));
	perr_clear(&errs);
	load_bad(FORMAT_THREATFOX_CSV, "", "t.csv", &errs, NULL);
	perr_clear(&errs);
}

static void test_csv_header_variants(void **state)
{
	/* an uncommented header, columns in another order, unquoted fields, a BOM */
	const char *csv = "\xef\xbb\xbf"
			  "\"ioc_type\",\"ioc_value\",\"confidence_level\",\"new_column\"\n"
			  "domain, x.example, 80, something\n"
			  "\"domain\",\"y.example\",\"None\",\"\"\n";
	struct policy *p = load_ok(FORMAT_THREATFOX_CSV, csv, strlen(csv), "t.csv", NULL);
	struct policy_match m;

	(void)state;
	assert_int_equal(look(p, "x.example", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->confidence, 80);
	assert_null(m.meta->id);
	assert_int_equal(m.meta->first_seen, INT64_MIN);
	assert_int_equal(look(p, "y.example", &m), VERDICT_BLOCK);
	assert_int_equal(m.meta->confidence, -1);
	policy_free(p);
}

static void test_json_invalid(void **state)
{
	const char *json =
	    "{\n"
	    "  \"1\": [{\"ioc_value\": \"a.example\", \"ioc_type\": \"domain\",\n"
	    "          \"confidence_level\": \"high\"}],\n"
	    "  \"2\": {\"ioc_value\": \"b.example\"},\n"
	    "  \"3\": [{\"ioc_value\": \"c.example\", \"ioc_type\": \"domain\", "
	    "\"first_seen_utc\": \"yesterday\"}],\n"
	    "  \"4\": [{\"ioc_value\": [\"d.example\"], \"ioc_type\": \"domain\"}],\n"
	    "  \"5\": [{\"ioc_value\": \"e..example\", \"ioc_type\": \"domain\"}],\n"
	    "  \"6\": [\"f.example\"],\n"
	    "  \"7\": [{\"ioc_value\": \"g.example\"}],\n"
	    "  \"8\": [{\"ioc_value\": \"ok.example\", \"ioc_type\": \"domain\"}]\n"
	    "}\n";
	struct parse_errs errs = {0}, warns = {0};

	(void)state;
	load_bad(FORMAT_THREATFOX_JSON, json, "t.json", &errs, &warns);
	assert_non_null(strstr(errs.v[0].msg, "7 of 8 entries invalid"));
	assert_int_equal(warns.n, 7);
	assert_warn(&warns, 0, "t.json:3:31", "confidence_level \"high\"");
	assert_warn(&warns, 1, "t.json:4:8", "IOC \"2\": expected an array of IOC objects");
	assert_warn(&warns, 2, "t.json:5:76", "first_seen_utc \"yesterday\"");
	assert_warn(&warns, 3, "t.json:6:23", "IOC \"4\": ioc_value: expected a string");
	assert_warn(&warns, 4, "t.json:7:23", "invalid domain \"e..example\"");
	assert_warn(&warns, 5, "t.json:8:9", "IOC \"6\": expected an IOC object");
	assert_warn(&warns, 6, "t.json:9:9", "an IOC without an ioc_type");
	perr_clear(&errs);
	perr_clear(&warns);
}

static void test_json_structure(void **state)
{
	const char *nested = "{\"9\": [{\"x\": {\"y\": [1, {\"z\": null}]}, \"ioc_value\": "
			     "\"z.example\", \"ioc_type\": \"domain\", \"ioc_id\": \"99\", "
			     "\"malware_printable\": \"Z\", \"w\": [[[]]]}]}";
	struct parse_errs errs = {0};
	struct policy_match m;
	struct policy *p;

	(void)state;
	load_bad(FORMAT_THREATFOX_JSON, "{\"1\": [{\"ioc_value\": \"a.example\",}]}", "t.json",
		 &errs, NULL);
	assert_int_equal(errs.v[0].line, 1);
	assert_non_null(strstr(errs.v[0].msg, "not valid JSON"));
	perr_clear(&errs);
	load_bad(FORMAT_THREATFOX_JSON, "{\"1\": [{\"ioc_value\": \"a.ex", "t.json", &errs, NULL);
	assert_non_null(strstr(errs.v[0].msg, "not valid JSON"));
	perr_clear(&errs);
	load_bad(FORMAT_THREATFOX_JSON, "\n[{\"ioc_value\": \"a.example\"}]", "t.json", &errs,
		 NULL);
	assert_int_equal(errs.v[0].line, 2);
	assert_int_equal(errs.v[0].col, 1);
	assert_non_null(strstr(errs.v[0].msg, "expected a JSON object of IOCs"));
	perr_clear(&errs);
	load_bad(FORMAT_THREATFOX_JSON, "", "t.json", &errs, NULL);
	perr_clear(&errs);

	/* an empty export is a valid, empty list; unknown keys and nesting are ignored */
	p = load_ok(FORMAT_THREATFOX_JSON, "{}", 2, "t.json", NULL);
	assert_int_equal(policy_stats(p)->block, 0);
	policy_free(p);
	p = load_ok(FORMAT_THREATFOX_JSON, nested, strlen(nested), "t.json", NULL);
	assert_int_equal(look(p, "z.example", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "99");
	assert_string_equal(m.meta->malware, "Z");
	policy_free(p);
}

/* A row of a submission of hour (its first_seen): the same fields but the id. */
#define CSV_SUB(hour, id, value, type)                                                             \
	"\"2026-05-27 " hour ":00:00\", \"" id "\", \"" value "\", \"" type "\", \"botnet_cc\", "      \
	"\"Mirai\", \"75\", \"None\"\n"

/*
 * Numeric ids stay with their entries: the rows of a submission (same fields but the id)
 * share one ioc_meta, names and addresses alike; other ids are kept as text.
 */
static void test_numeric_ids(void **state)
{
	/* clang-format off */
	static const char csv[] = CSV_HEADER
		CSV_SUB("10", "1600001", "a1.example", "domain")
		CSV_SUB("10", "1600002", "a2.example", "domain")
		CSV_SUB("10", "1600004", "192.0.2.7:443", "ip:port")
		CSV_SUB("10", "4294967295", "a3.example", "domain")
		CSV_SUB("11", "1600010", "b1.example", "domain")
		CSV_SUB("11", "abc-7", "s1.example", "domain")
		CSV_SUB("11", "0123", "s2.example", "domain")
		CSV_SUB("11", "4294967296", "s3.example", "domain")
		CSV_SUB("11", "0", "s4.example", "domain")
		CSV_SUB("11", "-5", "s5.example", "domain");
	/* clang-format on */
	struct policy_match m;
	struct policy *p = load_ok(FORMAT_THREATFOX_CSV, csv, sizeof(csv) - 1, "ids.csv", NULL);
	const struct ioc_meta *a;
	static const char *const text_ids[][2] = {{"s1.example", "abc-7"},
						  {"s2.example", "0123"},
						  {"s3.example", "4294967296"},
						  {"s4.example", "0"},
						  {"s5.example", "-5"}};

	(void)state;
	assert_int_equal(look(p, "a1.example", &m), VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 1600001);
	assert_string_equal(id_of(&m), "1600001");
	a = m.meta;
	assert_int_equal(look(p, "a2.example", &m), VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 1600002);
	assert_ptr_equal(m.meta, a);
	assert_int_equal(look(p, "a3.example", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "4294967295");
	assert_ptr_equal(m.meta, a);
	assert_int_equal(look_addr(p, "192.0.2.7", &m), VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 1600004);
	assert_ptr_equal(m.meta, a);
	/* another submission (first_seen) */
	assert_int_equal(look(p, "b1.example", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "1600010");
	assert_true(m.meta != a);
	/* ids that are no plain 32-bit number: text, in metadata of their own */
	for (size_t i = 0; i < sizeof(text_ids) / sizeof(text_ids[0]); i++) {
		assert_int_equal(look(p, text_ids[i][0], &m), VERDICT_BLOCK);
		assert_int_equal(m.ioc_id, 0);
		assert_string_equal(m.meta->id, text_ids[i][1]);
		assert_string_equal(id_of(&m), text_ids[i][1]);
		assert_true(m.meta != a);
	}
	assert_int_equal(policy_stats(p)->files[0].block, 10);
	policy_free(p);
}

/* A name or an address listed again takes the later row's id, a number or text. */
static void test_duplicate_ids(void **state)
{
	static const char csv[] = CSV_HEADER CSV_OK("11", "x.example") CSV_OK("12", "x.example")
	    CSV_OK("13", "y.example") CSV_OK("id-y", "y.example") CSV_OK("id-z", "z.example")
		CSV_OK("14", "z.example") CSV_OK("15", "w.example") CSV_OK("None", "w.example")
		    CSV_IP("16", "192.0.2.1:80") CSV_IP("17", "192.0.2.1:81");
	struct policy_match m;
	struct policy *p = load_ok(FORMAT_THREATFOX_CSV, csv, sizeof(csv) - 1, "dup.csv", NULL);

	(void)state;
	assert_int_equal(look(p, "x.example", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "12");
	assert_int_equal(look(p, "y.example", &m), VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 0);
	assert_string_equal(id_of(&m), "id-y");
	assert_int_equal(look(p, "z.example", &m), VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 14);
	assert_null(m.meta->id);
	/* a row without an id keeps the earlier one's */
	assert_int_equal(look(p, "w.example", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "15");
	assert_int_equal(look_addr(p, "192.0.2.1", &m), VERDICT_BLOCK);
	assert_string_equal(id_of(&m), "17");
	assert_int_equal(policy_stats(p)->files[0].duplicates, 5);
	assert_int_equal(policy_stats(p)->files[0].block, 5);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_civil_zoneless), cmocka_unit_test(test_csv_export),
	    cmocka_unit_test(test_json_export),	   cmocka_unit_test(test_csv_ip_rows),
	    cmocka_unit_test(test_csv_invalid_rows),
	    cmocka_unit_test(test_csv_header),	   cmocka_unit_test(test_csv_header_variants),
	    cmocka_unit_test(test_json_invalid),   cmocka_unit_test(test_json_structure),
	    cmocka_unit_test(test_numeric_ids),	   cmocka_unit_test(test_duplicate_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
