/* SPDX-License-Identifier: MIT */
/* The block log: exact JSON lines (DESIGN.md section 6), then the per-producer rings and writer. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/format.h"
#include "policy/policy.h"
#include "blocklog.h"

/* A wire name literal: its terminating NUL is the root label. */
#define SET_NAME(rec, wire)                                                                        \
	do {                                                                                       \
		memcpy((rec)->qname, wire, sizeof(wire));                                          \
		(rec)->qname_len = sizeof(wire);                                                   \
	} while (0)

static char tmpdir[64];

static const char *tmp_path(const char *name)
{
	static char path[2][256];
	static int which;

	which ^= 1;
	snprintf(path[which], sizeof(path[which]), "%s/%s", tmpdir, name);
	return path[which];
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_blocklog.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * blocklog_format() into an 8 KiB line, NUL-terminated for the string checks; the same line as
 * straight into a room of BLOCKLOG_FORMAT_ROOM (the writer's way; 8 KiB goes through a copy).
 */
static size_t fmt(const struct blocklog_rec *rec, const char *dvc, char buf[8193])
{
	static char room[BLOCKLOG_FORMAT_ROOM];
	size_t len = blocklog_format(rec, dvc, buf, 8192);

	assert_int_equal(blocklog_format(rec, dvc, room, sizeof(room)), len);
	assert_memory_equal(room, buf, len);
	buf[len] = '\0';
	return len;
}

/* The record of the DESIGN.md example. */
static const struct ioc_meta example_meta = {
	.malware = "NanoCore RAT",
	.threat_type = "botnet_cc",
	.source = "ThreatFox",
	.file = "blocklist.yaml",
	.confidence = 75,
	.first_seen = 1779840000, /* 2026-05-27 */
	.expires = INT64_MAX,
	.action = IOC_BLOCK,
};

static void example_rec(struct blocklog_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->time_ms = 1795842723482; /* 2026-11-28T05:12:03.482Z */
	rec->src_family = AF_INET;
	inet_pton(AF_INET, "10.1.2.3", rec->src_addr);
	rec->src_port = 53124;
	rec->proto = BLOCKLOG_UDP;
	rec->action = BLOCKLOG_BLOCKED;
	rec->rcode = 0;
	rec->resp_family = AF_INET; /* 0.0.0.0 */
	rec->qtype = 1;
	rec->txid = 0x1a2b;
	rec->dst_family = AF_INET;
	inet_pton(AF_INET, "10.1.0.53", rec->dst_addr);
	rec->dst_port = 53;
	rec->qclass = 1;
	rec->rd = 1;
	rec->orig = BLOCKLOG_ORIG_ADDRESS;
	SET_NAME(rec, "\3www\7mobile1\3com");
	rec->rule_off = 0;
	rec->meta = &example_meta;
}

/* The README's example line; @HOST@ stands for DvcHostname (the host's, see with_host()). */
static const char example_line[] =
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\","
	"\"EventStartTime\":\"2026-11-28T05:12:03.482Z\","
	"\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\","
	"\"EventSubType\":\"response\",\"EventResult\":\"Success\",\"EventResultDetails\":\"NOERROR\","
	"\"EventSeverity\":\"Medium\",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\","
	"\"EventProductVersion\":\"" SINKHOLED_VERSION "\",\"EventVendor\":\"sinkholed\","
	"\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"dns1\","
	"\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"address\","
	"\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124,"
	"\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53,"
	"\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\","
	"\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\","
	"\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":0,"
	"\"DnsResponseCodeName\":\"NOERROR\",\"DnsResponseName\":\"0.0.0.0\","
	"\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\","
	"\"ThreatField\":\"Domain\",\"RuleName\":\"www.mobile1.com\",\"ThreatName\":\"NanoCore RAT\","
	"\"ThreatCategory\":\"botnet_cc\",\"ThreatConfidence\":75,"
	"\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\",\"ThreatIsActive\":true,"
	"\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\",\"ListSource\":\"ThreatFox\","
	"\"ListFile\":\"blocklist.yaml\"}}\n";

/* tmpl with @HOST@ replaced by this host's DvcHostname (blocklog_hostname()). */
static const char *with_host(const char *tmpl)
{
	static char out[2][8193];
	static int which;
	const char *at = strstr(tmpl, "@HOST@");

	which ^= 1;
	if (!at)
		snprintf(out[which], sizeof(out[which]), "%s", tmpl);
	else
		snprintf(out[which], sizeof(out[which]), "%.*s%s%s", (int)(at - tmpl), tmpl,
			 blocklog_hostname(), at + 6);
	return out[which];
}

static void test_format_design_example(void **state)
{
	struct blocklog_rec rec;
	char buf[8193];
	size_t len;

	(void)state;
	example_rec(&rec);
	len = fmt(&rec, "dns1", buf);
	assert_int_equal(len, strlen(with_host(example_line)));
	assert_string_equal(buf, with_host(example_line));
}

/* DvcHostname: the short host name, no domain. */
static void test_hostname(void **state)
{
	(void)state;
	assert_true(blocklog_hostname()[0] != '\0');
	assert_null(strchr(blocklog_hostname(), '.'));
	assert_ptr_equal(blocklog_hostname(), blocklog_hostname());
}

/* A dropped query (RPZ rpz-drop.): a request with no response, so no response fields. */
static void test_format_dropped(void **state)
{
	struct blocklog_rec rec;
	char buf[8193];

	(void)state;
	example_rec(&rec);
	rec.action = BLOCKLOG_DROPPED;
	assert_true(fmt(&rec, "dns1", buf) > 0);
	assert_non_null(strstr(buf, "\"EventSubType\":\"request\",\"EventResult\":\"NA\","
				    "\"EventResultDetails\":\"NA\",\"EventSeverity\":\"Medium\""));
	assert_non_null(strstr(buf, "\"DvcAction\":\"Blocked\""));
	assert_non_null(strstr(buf, "\"DnsQueryTypeName\":\"A\",\"DnsResponseCodeName\":\"NA\","
				    "\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\""));
	assert_null(strstr(buf, "DnsResponseCode\""));
	assert_null(strstr(buf, "DnsResponseName"));

	/* Over the rate limit with action drop: the same, and DvcOriginalAction says why. */
	rec.orig = BLOCKLOG_ORIG_RATELIMITED;
	assert_true(fmt(&rec, "dns1", buf) > 0);
	assert_non_null(strstr(buf, "\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"ratelimited\""));
	assert_non_null(strstr(buf, "\"EventResult\":\"NA\",\"EventResultDetails\":\"NA\""));
	rec.orig = BLOCKLOG_ORIG_DROP;
	assert_true(fmt(&rec, "dns1", buf) > 0);
	assert_non_null(strstr(buf, "\"DvcOriginalAction\":\"drop\""));
}

static void test_format_allowed_tcp_ipv6(void **state)
{
	static const struct ioc_meta meta = {
		.threat_type = "phishing",
		.file = "lists/feed.yaml",
		.id = "1234567",
		.reference = "https://threatfox.abuse.ch/ioc/1234567/",
		.confidence = 0,
		.first_seen = INT64_MIN,
		.expires = 1798675200, /* 2026-12-31 */
		.action = IOC_LOG,
	};
	static const char expect[] =
		"{\"TimeGenerated\":\"1970-01-01T00:00:00.000Z\","
		"\"EventStartTime\":\"1970-01-01T00:00:00.000Z\","
		"\"EventEndTime\":\"1970-01-01T00:00:00.000Z\",\"EventCount\":1,"
		"\"EventType\":\"Query\",\"EventSubType\":\"response\",\"EventResult\":\"Success\","
		"\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Low\","
		"\"EventOriginalType\":\"log\",\"EventProduct\":\"sinkholed\","
		"\"EventProductVersion\":\"" SINKHOLED_VERSION "\",\"EventVendor\":\"sinkholed\","
		"\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\","
		"\"EventReportUrl\":\"https://threatfox.abuse.ch/ioc/1234567/\","
		"\"Dvc\":\"resolver-2\",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Allowed\","
		"\"DvcOriginalAction\":\"log\",\"SrcIpAddr\":\"2001:db8::53\","
		"\"Src\":\"2001:db8::53\",\"SrcPortNumber\":40000,\"DstIpAddr\":\"::\",\"Dst\":\"::\","
		"\"DstPortNumber\":5353,\"NetworkProtocol\":\"TCP\","
		"\"NetworkProtocolVersion\":\"IPv6\",\"DnsQuery\":\"a.evil.example\","
		"\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\","
		"\"DnsQueryType\":28,\"DnsQueryTypeName\":\"AAAA\",\"DnsResponseCode\":0,"
		"\"DnsResponseCodeName\":\"NOERROR\",\"DnsResponseName\":\"2001:db8::1\","
		"\"DnsFlagsRecursionDesired\":false,\"TransactionIdHex\":\"00AF\","
		"\"ThreatField\":\"Domain\",\"RuleName\":\"evil.example\",\"ThreatId\":\"1234567\","
		"\"ThreatCategory\":\"phishing\",\"ThreatConfidence\":0,\"ThreatIsActive\":true,"
		"\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\",\"ListFile\":\"lists/feed.yaml\","
		"\"IocExpires\":\"2026-12-31T00:00:00Z\"}}\n";
	struct blocklog_rec rec = {0};
	char buf[8193];

	(void)state;
	rec.time_ms = 0;
	rec.src_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::53", rec.src_addr);
	rec.src_port = 40000;
	rec.dst_family = AF_INET6; /* a wildcard bind: its address */
	rec.dst_port = 5353;
	rec.proto = BLOCKLOG_TCP;
	rec.action = BLOCKLOG_ALLOWED;
	rec.orig = BLOCKLOG_ORIG_LOG;
	rec.qclass = 1;
	rec.resp_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", rec.resp_addr);
	rec.qtype = 28;
	rec.txid = 0x00af;
	SET_NAME(&rec, "\1a\4evil\7example");
	rec.rule_off = 2;
	rec.meta = &meta;
	assert_int_not_equal(fmt(&rec, "resolver-2", buf), 0);
	assert_string_equal(buf, with_host(expect));
}

static void test_format_no_meta(void **state)
{
	static const char expect[] =
		"{\"TimeGenerated\":\"1969-12-31T23:59:59.999Z\","
		"\"EventStartTime\":\"1969-12-31T23:59:59.999Z\","
		"\"EventEndTime\":\"1969-12-31T23:59:59.999Z\",\"EventCount\":1,"
		"\"EventType\":\"Query\",\"EventSubType\":\"response\",\"EventResult\":\"Failure\","
		"\"EventResultDetails\":\"SERVFAIL\",\"EventSeverity\":\"Low\","
		"\"EventOriginalType\":\"log\",\"EventProduct\":\"sinkholed\","
		"\"EventProductVersion\":\"" SINKHOLED_VERSION "\",\"EventVendor\":\"sinkholed\","
		"\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"\","
		"\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":\"log\","
		"\"SrcIpAddr\":\"192.0.2.7\",\"Src\":\"192.0.2.7\",\"SrcPortNumber\":0,"
		"\"DstIpAddr\":\"\",\"Dst\":\"\",\"DstPortNumber\":0,\"NetworkProtocol\":\"UDP\","
		"\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\"example.org\","
		"\"DnsQueryClass\":0,\"DnsQueryClassName\":\"Reserved\","
		"\"DnsQueryType\":15,\"DnsQueryTypeName\":\"MX\",\"DnsResponseCode\":2,"
		"\"DnsResponseCodeName\":\"SERVFAIL\",\"DnsFlagsRecursionDesired\":false,"
		"\"TransactionIdHex\":\"FFFF\",\"ThreatField\":\"Domain\","
		"\"RuleName\":\"example.org\",\"ThreatIsActive\":true,"
		"\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\"}}\n";
	static const struct ioc_meta empty = {
		.confidence = -1,
		.first_seen = INT64_MIN,
		.expires = INT64_MAX,
	};
	struct blocklog_rec rec = {0};
	char buf[8193], buf2[8193];
	const char *p;

	(void)state;
	rec.time_ms = -1;
	rec.src_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", rec.src_addr);
	rec.action = BLOCKLOG_ALLOWED;
	rec.rcode = 2;
	rec.qtype = 15;
	rec.txid = 0xffff;
	SET_NAME(&rec, "\7EXAMPLE\3Org"); /* lowercased on output */
	rec.orig = BLOCKLOG_ORIG_LOG;
	rec.meta = NULL;
	assert_int_not_equal(fmt(&rec, "", buf), 0);
	assert_string_equal(buf, with_host(expect));

	/* A meta with every optional field absent gives the same line. */
	rec.meta = &empty;
	assert_int_not_equal(fmt(&rec, "", buf2), 0);
	assert_string_equal(buf2, with_host(expect));

	/* NULL Dvc is "". */
	assert_int_not_equal(fmt(&rec, NULL, buf2), 0);
	assert_string_equal(buf2, with_host(expect));

	/* RuleName omitted when rule_off is outside the name. */
	rec.rule_off = rec.qname_len;
	assert_int_not_equal(fmt(&rec, "", buf2), 0);
	assert_null(strstr(buf2, "RuleName"));
	p = strstr(buf2, "\"ThreatField\":\"Domain\",\"ThreatIsActive\":true,\"AdditionalFields\"");
	assert_non_null(p);
}

/* An aggregated record: EventCount N, the first and the last lookup; the rest is the first's. */
static void test_format_aggregated(void **state)
{
	struct blocklog_rec rec;
	char buf[8193];

	(void)state;
	example_rec(&rec);
	rec.count = 250;
	rec.start_ms = rec.time_ms;
	rec.end_ms = rec.time_ms + 917;
	assert_int_not_equal(fmt(&rec, "dns1", buf), 0);
	assert_non_null(strstr(buf, "{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\","
				    "\"EventCount\":250,"
				    "\"EventStartTime\":\"2026-11-28T05:12:03.482Z\","
				    "\"EventEndTime\":\"2026-11-28T05:12:04.399Z\",\"EventType\":"));
	assert_non_null(strstr(buf, "\"SrcPortNumber\":53124,"));
	assert_non_null(strstr(buf, "\"RuleName\":\"www.mobile1.com\""));
	assert_null(strstr(buf, "DnsNetworkDuration"));
	assert_null(strstr(buf, "RetroHunt"));
}

/*
 * The query log's record of an unlisted name answered by an upstream: Allowed, its answer and
 * DnsNetworkDuration, no rule and no threat fields; from the cache: no DnsNetworkDuration.
 */
static void test_format_query_log(void **state)
{
	struct blocklog_rec rec;
	char buf[8193];

	(void)state;
	example_rec(&rec);
	rec.meta = NULL;
	rec.unlisted = 1;
	rec.rule_off = rec.qname_len;
	rec.action = BLOCKLOG_ALLOWED;
	rec.orig = BLOCKLOG_ORIG_FORWARD;
	inet_pton(AF_INET, "192.0.2.80", rec.resp_addr);
	rec.has_net = 1;
	rec.net_ms = 37;
	assert_int_not_equal(fmt(&rec, "dns1", buf), 0);
	assert_non_null(strstr(buf, "\"EventSeverity\":\"Informational\","
				    "\"EventOriginalType\":\"query\","));
	assert_non_null(strstr(buf, "\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":\"forward\","));
	assert_non_null(strstr(buf, "\"DnsResponseName\":\"192.0.2.80\","
				    "\"DnsNetworkDuration\":37,"));
	assert_non_null(strstr(buf, "\"TransactionIdHex\":\"1A2B\",\"AdditionalFields\":{}}\n"));
	assert_null(strstr(buf, "Threat"));
	assert_null(strstr(buf, "RuleName"));
	assert_null(strstr(buf, "MatchedVia"));
	assert_non_null(strstr(buf, "\"EventCount\":1,"));

	rec.has_net = 0;
	rec.orig = BLOCKLOG_ORIG_CACHE;
	assert_int_not_equal(fmt(&rec, "dns1", buf), 0);
	assert_non_null(strstr(buf, "\"DvcOriginalAction\":\"cache\","));
	assert_null(strstr(buf, "DnsNetworkDuration"));

	/* A listed name's record in the query log is the block log's, with its duration. */
	example_rec(&rec);
	rec.has_net = 1;
	rec.net_ms = 0;
	assert_int_not_equal(fmt(&rec, "dns1", buf), 0);
	assert_non_null(strstr(buf, "\"DnsNetworkDuration\":0,"));
	assert_non_null(strstr(buf, "\"ThreatField\":\"Domain\""));
}

/* A full ring counts the records it refuses and the lookups they stood for. */
static void test_dropped_events(void **state)
{
	struct blocklog *bl;
	struct blocklog_rec rec;
	int refused = 0;

	(void)state;
	bl = blocklog_new("/dev/null", "dns1", 1, 1);
	assert_non_null(bl);
	example_rec(&rec);
	rec.count = 7;
	rec.start_ms = rec.end_ms = rec.time_ms;
	/* The writer may take some meanwhile: submit until 3 are refused. */
	while (refused < 3) {
		if (blocklog_submit(bl, 0, &rec) == -ENOSPC)
			refused++;
	}
	rec.count = 0; /* one lookup */
	while (blocklog_submit(bl, 0, &rec) != -ENOSPC)
		;
	assert_int_equal(blocklog_dropped(bl), 4);
	assert_int_equal(blocklog_dropped_events(bl), 3 * 7 + 1);
	blocklog_free(bl);
}

/* Reads a pipe until its writers are gone: the block log's file, for test_backlogged. */
static void *drain_pipe(void *arg)
{
	char buf[65536];
	int fd = *(int *)arg;

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n == 0 || (n < 0 && errno != EINTR))
			return NULL;
	}
}

/*
 * blocklog_backlogged(): false while the writer keeps up, true once a ring is more than half
 * full (the writer stuck on a pipe nobody reads), false again once it has caught up.
 */
static void test_backlogged(void **state)
{
	const char *fifo = tmp_path("backlog.fifo");
	struct blocklog *bl;
	struct blocklog_rec rec;
	pthread_t reader;
	bool seen = false;
	int rfd;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	/* Open for reading first (no wait), so that the writer's open finds a reader. */
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd >= 0);
	bl = blocklog_new(fifo, "dns1", 64, 2);
	assert_non_null(bl);
	assert_false(blocklog_backlogged(bl, 0));
	example_rec(&rec);
	/*
	 * Nothing is read: the pipe fills (64 KiB), the writer waits in write(), the ring fills.
	 * Until the writer is stuck it may still take records after a refusal: look again at each.
	 */
	for (long i = 0; i < 10000000 && !seen; i++)
		if (blocklog_submit(bl, 0, &rec) == -ENOSPC)
			seen = blocklog_backlogged(bl, 0);
	assert_true(seen);
	assert_false(blocklog_backlogged(bl, 1)); /* the other producer's ring is empty */
	/* Read it all: the writer catches up. */
	assert_int_equal(fcntl(rfd, F_SETFL, 0), 0);
	assert_int_equal(pthread_create(&reader, NULL, drain_pipe, &rfd), 0);
	blocklog_sync(bl);
	assert_false(blocklog_backlogged(bl, 0));
	blocklog_free(bl);
	assert_int_equal(pthread_join(reader, NULL), 0);
	close(rfd);
	unlink(fifo);
}

static void test_format_escaping(void **state)
{
	static const struct ioc_meta meta = {
		.malware = "Q\"uote\\back\nnl\x01 caf\xc3\xa9 bad\xff end",
		.threat_type = "\x1f",
		.source = "s",
		.confidence = 100,
		.first_seen = INT64_MIN,
		.expires = INT64_MAX,
	};
	static const char expect_query[] =
		"\"DnsQuery\":\"x\\\\034y\\\\092z\\\\032q\\\\001\\\\255\\\\046\\\\040\\\\041\\\\059"
		"\\\\064\\\\036k.bad.com\"";
	static const char expect_rule[] = "\"RuleName\":\"bad.com\"";
	static const char expect_threat[] =
		"\"ThreatName\":\"Q\\\"uote\\\\back\\u000anl\\u0001 caf\xc3\xa9 bad\\ufffd end\","
		"\"ThreatCategory\":\"\\u001f\",\"ThreatConfidence\":100,";
	static const char expect_dvc[] = "\"Dvc\":\"a\\\"b\\\\c\\u007f\"";
	struct blocklog_rec rec;
	char buf[8193];

	(void)state;
	example_rec(&rec);
	/* Label: X " y \ z ' ' q 0x01 0xff . ( ) ; @ $ k */
	SET_NAME(&rec, "\20X\"y\\z q\x01\xff.();@$k\3bad\3com");
	rec.rule_off = 17;
	rec.txid = 0x0a0b;
	rec.meta = &meta;
	assert_int_not_equal(fmt(&rec, "a\"b\\c\x7f", buf), 0);
	assert_non_null(strstr(buf, expect_query));
	assert_non_null(strstr(buf, expect_rule));
	assert_non_null(strstr(buf, expect_threat));
	assert_non_null(strstr(buf, expect_dvc));
	assert_non_null(strstr(buf, "\"TransactionIdHex\":\"0A0B\""));
	assert_non_null(strstr(buf, "\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\","
				    "\"ListSource\":\"s\"}}\n"));
}

/* Formats rec and checks that the line contains want. */
static void assert_field(const struct blocklog_rec *rec, const char *want)
{
	char buf[8193];

	assert_int_not_equal(fmt(rec, "d", buf), 0);
	if (!strstr(buf, want))
		fail_msg("%s not in %s", want, buf);
}

static void test_format_type_rcode_names(void **state)
{
	struct blocklog_rec rec;

	(void)state;
	example_rec(&rec);
	rec.qtype = 16;
	assert_field(&rec, "\"DnsQueryType\":16,\"DnsQueryTypeName\":\"TXT\",");
	rec.qtype = 65;
	assert_field(&rec, "\"DnsQueryType\":65,\"DnsQueryTypeName\":\"HTTPS\",");
	rec.qtype = 65280; /* private use: ldns has no name */
	assert_field(&rec, "\"DnsQueryType\":65280,\"DnsQueryTypeName\":\"TYPE65280\",");
	rec.qtype = 0;
	assert_field(&rec, "\"DnsQueryType\":0,\"DnsQueryTypeName\":\"TYPE0\",");

	rec.rcode = 1;
	assert_field(&rec, "\"EventResult\":\"Failure\",\"EventResultDetails\":\"FORMERR\",");
	rec.rcode = 3;
	assert_field(&rec, "\"EventResult\":\"Failure\",\"EventResultDetails\":\"NXDOMAIN\",");
	assert_field(&rec, "\"DnsResponseCode\":3,");
	rec.rcode = 4;
	assert_field(&rec, "\"EventResultDetails\":\"NOTIMP\",");
	rec.rcode = 5;
	assert_field(&rec, "\"EventResultDetails\":\"REFUSED\",");
	rec.rcode = 9;
	assert_field(&rec, "\"EventResult\":\"Failure\",\"EventResultDetails\":\"NOTAUTH\",");
	assert_field(&rec, "\"DnsResponseCode\":9,\"DnsResponseCodeName\":\"NOTAUTH\",");
	/* IANA's names for 6-23, Unassigned for the others. */
	{
		static const char *const names[] = {
			"YXDOMAIN",   "YXRRSET",    "NXRRSET",	  "NOTAUTH",	"NOTZONE",
			"DSOTYPENI",  "Unassigned", "Unassigned", "Unassigned", "Unassigned",
			"BADVERS",    "BADKEY",	    "BADTIME",	  "BADMODE",	"BADNAME",
			"BADALG",     "BADTRUNC",   "BADCOOKIE",  "Unassigned",
		};
		char want[96];

		for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			rec.rcode = (uint8_t)(6 + i);
			snprintf(want, sizeof(want), "\"EventResultDetails\":\"%s\",", names[i]);
			assert_field(&rec, want);
			snprintf(want, sizeof(want), "\"DnsResponseCodeName\":\"%s\",", names[i]);
			assert_field(&rec, want);
		}
		rec.rcode = 255;
		assert_field(&rec, "\"EventResultDetails\":\"Unassigned\",");
	}
	/* Class names. */
	{
		static const struct {
			uint16_t c;
			const char *want;
		} classes[] = {
			{1, "\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\""},
			{2, "\"DnsQueryClass\":2,\"DnsQueryClassName\":\"Unassigned\""},
			{3, "\"DnsQueryClass\":3,\"DnsQueryClassName\":\"CH\""},
			{4, "\"DnsQueryClass\":4,\"DnsQueryClassName\":\"HS\""},
			{254, "\"DnsQueryClass\":254,\"DnsQueryClassName\":\"NONE\""},
			{255, "\"DnsQueryClass\":255,\"DnsQueryClassName\":\"ANY\""},
			{0, "\"DnsQueryClass\":0,\"DnsQueryClassName\":\"Reserved\""},
			{65280, "\"DnsQueryClass\":65280,\"DnsQueryClassName\":\"Reserved\""},
			{65535, "\"DnsQueryClass\":65535,\"DnsQueryClassName\":\"Reserved\""},
		};

		for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
			rec.qclass = classes[i].c;
			assert_field(&rec, classes[i].want);
		}
		rec.qclass = 1;
	}
	/* DvcOriginalAction of every kind. */
	{
		static const char *const origs[] = {"address", "nxdomain", "nodata", "refused",
						    "local",   "drop",	   "ratelimited", "log"};
		char want[64];

		for (unsigned i = 0; i < sizeof(origs) / sizeof(origs[0]); i++) {
			rec.orig = (uint8_t)i;
			snprintf(want, sizeof(want), "\"DvcOriginalAction\":\"%s\",", origs[i]);
			assert_field(&rec, want);
		}
	}

	rec.time_ms = 1709210096007; /* leap day */
	assert_field(&rec, "{\"TimeGenerated\":\"2024-02-29T12:34:56.007Z\",");
	rec.txid = 0;
	assert_field(&rec, "\"TransactionIdHex\":\"0000\",");

	/* Root name: "." */
	rec.qname[0] = 0;
	rec.qname_len = 1;
	rec.rule_off = 0;
	assert_field(&rec, "\"DnsQuery\":\".\",");
	assert_field(&rec, "\"RuleName\":\".\",");
}

/* A block by a CNAME target: ThreatField, RuleName and MatchedName name the answer's name. */
static void test_format_cname(void **state)
{
	struct blocklog_rec rec;

	(void)state;
	example_rec(&rec);
	SET_NAME(&rec, "\7cloaked\7example");
	rec.rule_off = 0;
	rec.via = BLOCKLOG_VIA_CNAME;
	memcpy(rec.matched, "\3cdn\2c2\4evil\0", 14);
	rec.matched_len = 14;
	rec.rule_off = 4;
	assert_field(&rec, "\"DnsQuery\":\"cloaked.example\",");
	assert_field(&rec, "\"ThreatField\":\"DnsResponseName\",\"RuleName\":\"c2.evil\",");
	assert_field(&rec, "\"AdditionalFields\":{\"ThreatIocType\":\"domain\","
			   "\"MatchedVia\":\"cname\",\"MatchedName\":\"cdn.c2.evil\",");
}

/*
 * A block by an IP indicator: DnsResponseName is the listed address found in the answer
 * (not the sinkhole's), RuleName the listed prefix (the bare address for a host).
 */
static void test_format_ip(void **state)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, [15] = 1};
	struct blocklog_rec rec;

	(void)state;
	example_rec(&rec);
	rec.via = BLOCKLOG_VIA_IP;
	memcpy(rec.matched, "\xcb\x00\x71\x05", 4); /* 203.0.113.5 */
	rec.matched_len = 4;
	rec.rule_off = 24;
	assert_field(&rec, "\"DnsResponseName\":\"203.0.113.5\",");
	assert_field(&rec, "\"ThreatField\":\"DnsResponseName\",\"RuleName\":\"203.0.113.0/24\",");
	assert_field(&rec, "\"AdditionalFields\":{\"ThreatIocType\":\"ip\",\"MatchedVia\":\"ip\",");
	rec.rule_off = 32;
	assert_field(&rec, "\"RuleName\":\"203.0.113.5\",");
	rec.rule_off = 0;
	assert_field(&rec, "\"RuleName\":\"0.0.0.0/0\",");
	memcpy(rec.matched, v6, 16);
	rec.matched_len = 16;
	rec.rule_off = 48;
	assert_field(&rec, "\"DnsResponseName\":\"2001:db8:bad::1\",");
	assert_field(&rec, "\"RuleName\":\"2001:db8:bad::/48\",");
	rec.rule_off = 128;
	assert_field(&rec, "\"RuleName\":\"2001:db8:bad::1\",");
	/* A drop still names the address: it is the threat field. */
	rec.action = BLOCKLOG_DROPPED;
	assert_field(&rec, "\"DnsResponseName\":\"2001:db8:bad::1\",");
}

/* The DESIGN.md example's entry as a ThreatFox export has it: a domain and an ip:port row. */
static const char threatfox_csv[] =
	"# \"first_seen_utc\",\"ioc_id\",\"ioc_value\",\"ioc_type\",\"threat_type\","
	"\"malware_printable\",\"confidence_level\",\"reference\"\n"
	"\"2026-05-27 00:00:00\", \"1234567\", \"www.mobile1.com\", \"domain\", \"botnet_cc\", "
	"\"NanoCore RAT\", \"75\", \"None\"\n"
	"\"2026-05-27 00:00:00\", \"1234566\", \"203.0.113.5:443\", \"ip:port\", \"botnet_cc\", "
	"\"NanoCore RAT\", \"75\", \"None\"\n";

/*
 * The line of rec with the entry's IOC id given as a number (the policy's way), and as the
 * meta's text (a hand-made copy of meta with it): the same bytes.
 */
static void assert_same_line(struct blocklog_rec *rec, const char *id)
{
	struct ioc_meta text = *rec->meta;
	char a[8193], b[8193], want[64];

	assert_int_not_equal(fmt(rec, "dns1", a), 0);
	text.id = id;
	rec->meta = &text;
	rec->ioc_id = 0;
	assert_int_not_equal(fmt(rec, "dns1", b), 0);
	assert_string_equal(a, b);
	snprintf(want, sizeof(want), ",\"ThreatId\":\"%s\",", id);
	if (!strstr(a, want))
		fail_msg("%s not in %s", want, a);
}

/* A ThreatFox row's id is ThreatId, for a name and for an address, as it always was. */
static void test_format_threatfox_id(void **state)
{
	static const uint8_t addr[4] = {203, 0, 113, 5};
	struct parse_errs errs = {0};
	struct policy *p =
	    policy_load_text(FORMAT_THREATFOX_CSV, threatfox_csv, sizeof(threatfox_csv) - 1,
			     "blocklist.yaml", 0, 1779840000, &errs, NULL);
	struct blocklog_rec rec;
	struct policy_match m;
	char buf[8193], want[8193];
	const char *line = with_host(example_line), *at = strstr(line, "\"ThreatName\"");

	(void)state;
	assert_non_null(p);
	example_rec(&rec);
	policy_lookup(p, rec.qname, rec.qname_len, 1779840000, &m);
	assert_int_equal(m.verdict, VERDICT_BLOCK);
	assert_int_equal(m.ioc_id, 1234567);
	rec.meta = m.meta;
	rec.ioc_id = m.ioc_id;
	/* the DESIGN.md line with the id before ThreatName */
	snprintf(want, sizeof(want), "%.*s\"ThreatId\":\"1234567\",%s", (int)(at - line), line,
		 at);
	fmt(&rec, "dns1", buf);
	assert_string_equal(buf, want);
	assert_same_line(&rec, "1234567");

	example_rec(&rec);
	policy_lookup_addr(p, AF_INET, addr, 1779840000, &m);
	assert_int_equal(m.verdict, VERDICT_BLOCK);
	rec.via = BLOCKLOG_VIA_IP;
	memcpy(rec.matched, addr, 4);
	rec.matched_len = 4;
	rec.rule_off = (uint8_t)m.rule_off;
	rec.meta = m.meta;
	rec.ioc_id = m.ioc_id;
	assert_field(&rec, "\"RuleName\":\"203.0.113.5\",\"ThreatId\":\"1234566\",");
	assert_same_line(&rec, "1234566");
	policy_free(p);
}

static void test_format_cap(void **state)
{
	struct blocklog_rec rec;
	char buf[8193];
	size_t len;

	(void)state;
	example_rec(&rec);
	len = fmt(&rec, "dns1", buf);
	assert_int_equal(len, strlen(with_host(example_line)));
	assert_int_equal(blocklog_format(&rec, "dns1", buf, len), len);
	assert_int_equal(blocklog_format(&rec, "dns1", buf, len - 1), 0);
	assert_int_equal(blocklog_format(&rec, "dns1", buf, 10), 0);
	assert_int_equal(blocklog_format(&rec, "dns1", buf, 0), 0);
}

/* The worst case still fits in 8 KiB: long strings are cut between characters. */
static void test_format_worst_case(void **state)
{
	static char big[20000];
	struct ioc_meta meta = {0};
	struct blocklog_rec rec;
	char *buf = malloc(65536);
	size_t len, off = 0;

	(void)state;
	memset(big, 0x01, sizeof(big) - 1);
	meta = (struct ioc_meta){.malware = big,
				 .threat_type = big,
				 .source = big,
				 .id = big,
				 .reference = big,
				 .file = big,
				 .confidence = 100,
				 .first_seen = INT64_MIN + 1,
				 .expires = INT64_MAX - 1};
	example_rec(&rec);
	rec.meta = &meta;
	rec.src_family = AF_INET6;
	memset(rec.src_addr, 0xff, sizeof(rec.src_addr));
	rec.resp_family = AF_INET6;
	memset(rec.resp_addr, 0xff, sizeof(rec.resp_addr));
	/* 63 + 63 + 63 + 61 escaped bytes and the root: 255 bytes. */
	for (int l = 0; l < 4; l++) {
		int n = l < 3 ? 63 : 61;

		rec.qname[off++] = (uint8_t)n;
		memset(rec.qname + off, 0xff, (size_t)n);
		off += (size_t)n;
	}
	rec.qname[off++] = 0;
	assert_int_equal(off, 255);
	rec.qname_len = (uint8_t)off;
	rec.rule_off = 0;
	rec.time_ms = INT64_MIN;
	len = blocklog_format(&rec, big, buf, 65536);
	assert_int_not_equal(len, 0);
	assert_true(len <= 8192);
	assert_int_equal(blocklog_format(&rec, big, buf, 8192), len);
	assert_memory_equal(buf + len - 3, "}}\n", 3);
	buf[len] = '\0';
	/* Cut after a whole escape, never inside one. */
	assert_non_null(strstr(buf, "\\u0001\",\"ThreatCategory\""));

	/*
	 * The longest of all: a CNAME hit has three names (DnsQuery, RuleName, MatchedName), and
	 * every other field at its longest. Even with a host name of HOST_NAME_MAX (64) bytes,
	 * it fits in 8 KiB.
	 */
	memcpy(rec.matched, rec.qname, off);
	rec.matched_len = (uint8_t)off;
	rec.via = BLOCKLOG_VIA_CNAME;
	rec.orig = BLOCKLOG_ORIG_RATELIMITED;
	rec.rcode = 255;
	rec.qtype = rec.qclass = rec.src_port = rec.dst_port = 65535;
	rec.dst_family = AF_INET6;
	memset(rec.dst_addr, 0xff, sizeof(rec.dst_addr));
	rec.count = UINT32_MAX;
	rec.start_ms = rec.end_ms = INT64_MIN;
	rec.has_net = 1;
	rec.net_ms = UINT32_MAX;
	len = blocklog_format(&rec, big, buf, 65536);
	assert_int_not_equal(len, 0);
	assert_true(len - strlen(blocklog_hostname()) + 64 <= 8192);
	assert_int_equal(blocklog_format(&rec, big, buf, 8192), len);
	free(buf);
}

/* TimeGenerated is right from one record to the next, in one second or across seconds. */
static void test_format_time_sequence(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} seq[] = {
		{1000, "{\"TimeGenerated\":\"1970-01-01T00:00:01.000Z\","},
		{1999, "{\"TimeGenerated\":\"1970-01-01T00:00:01.999Z\","},
		{61000, "{\"TimeGenerated\":\"1970-01-01T00:01:01.000Z\","},
		{1000, "{\"TimeGenerated\":\"1970-01-01T00:00:01.000Z\","},
		{1798761599001, "{\"TimeGenerated\":\"2026-12-31T23:59:59.001Z\","},
		{-1, "{\"TimeGenerated\":\"1969-12-31T23:59:59.999Z\","},
	};
	struct blocklog_rec rec;
	char buf[8192];

	(void)state;
	example_rec(&rec);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		rec.time_ms = seq[i].ms;
		assert_int_not_equal(blocklog_format(&rec, "dns1", buf, sizeof(buf)), 0);
		assert_memory_equal(buf, seq[i].want, strlen(seq[i].want));
	}
}

/* Long plain strings are copied in runs and cut at exactly 400 bytes, escapes kept whole. */
static void test_format_long_plain_strings(void **state)
{
	static char plain[1000], quoted[700], cut[700];
	struct ioc_meta meta = {0};
	struct blocklog_rec rec;
	char *buf = malloc(65536), want[700];
	size_t len;

	(void)state;
	memset(plain, 'x', sizeof(plain) - 1);
	memset(quoted, 'q', 399);
	quoted[399] = '"'; /* its escape would end at byte 401: cut before it */
	memset(cut, 'c', 398);
	cut[398] = '"';    /* escape ends at byte 400: kept */
	cut[399] = 'z';	   /* byte 401: cut */
	meta = (struct ioc_meta){.malware = plain, .threat_type = quoted, .source = cut,
				 .confidence = -1, .first_seen = INT64_MIN, .expires = INT64_MAX};
	example_rec(&rec);
	rec.meta = &meta;
	len = blocklog_format(&rec, "dns1", buf, 65536);
	assert_int_not_equal(len, 0);
	buf[len] = '\0';
	snprintf(want, sizeof(want), "\"ThreatName\":\"%.400s\",", plain);
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "\"ThreatCategory\":\"%.399s\",", quoted);
	assert_non_null(strstr(buf, want));
	snprintf(want, sizeof(want), "\"ListSource\":\"%.398s\\\"\"}}", cut);
	assert_non_null(strstr(buf, want));
	free(buf);
}

/* --- Byte-exact lines over varied records ------------------------------------------------- */

/*
 * line with this host's DvcHostname and this build's version replaced by @HOST@ and @VERSION@,
 * so that the expected lines below hold on any host and release.
 */
static void normalize(char *line)
{
	static const struct {
		const char *key, *with;
	} subst[] = {{"\"DvcHostname\":\"", "@HOST@"},
		     {"\"EventProductVersion\":\"", "@VERSION@"}};

	for (size_t i = 0; i < sizeof(subst) / sizeof(subst[0]); i++) {
		char *at = strstr(line, subst[i].key), *val, *end;

		if (!at)
			continue;
		val = at + strlen(subst[i].key);
		end = strchr(val, '"');
		assert_non_null(end);
		memmove(val + strlen(subst[i].with), end, strlen(end) + 1);
		memcpy(val, subst[i].with, strlen(subst[i].with));
	}
}

static const uint8_t long_name[] = "\77aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				   "\77bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
				   "\77ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
				   "\75ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd";

/* Metadata of every shape: plain, escapes and odd bytes, numeric and text ids, absent fields. */
static const struct ioc_meta golden_metas[] = {
	{.malware = "NanoCore RAT", .threat_type = "botnet_cc", .source = "ThreatFox",
	 .file = "blocklist.yaml", .confidence = 75, .first_seen = 1779840000,
	 .expires = INT64_MAX, .action = IOC_BLOCK},
	{.malware = "Q\"uote\\back\nnl\t\x01\x7f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 end",
	 .threat_type = "bad\xff\xc0\x80\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82 cut",
	 .source = "src \"x\"", .id = "ioc-\\42", .reference = "https://example.com/a?b=\"c\"",
	 .file = "/etc/sinkholed/l\xc3\xa4st.yaml", .confidence = 0, .first_seen = 951782400,
	 .expires = 1798761599, .action = IOC_LOG},
	{.malware = NULL, .threat_type = "", .source = NULL, .id = "", .reference = NULL,
	 .file = NULL, .confidence = -1, .first_seen = -62135596800, .expires = 253402300800,
	 .action = IOC_BLOCK},
	{.malware = "m", .confidence = 100, .first_seen = INT64_MIN + 1, .expires = INT64_MAX - 1,
	 .action = IOC_LOG},
};

/* The i-th record of the set (false past its end). */
static bool golden_rec(size_t i, struct blocklog_rec *rec)
{
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x0b, 0xad, [15] = 1};

	example_rec(rec);
	switch (i) {
	case 0: /* the DESIGN.md example */
		break;
	case 1: /* allowed (log), TCP, IPv6 client and listener, odd metadata, a leap day */
		rec->action = BLOCKLOG_ALLOWED;
		rec->orig = BLOCKLOG_ORIG_LOG;
		rec->proto = BLOCKLOG_TCP;
		rec->src_family = AF_INET6;
		memcpy(rec->src_addr, v6, 16);
		rec->dst_family = AF_INET6;
		memset(rec->dst_addr, 0, 16);
		rec->dst_addr[15] = 1;
		rec->resp_family = AF_INET6;
		inet_pton(AF_INET6, "fe80::1:0:0:2", rec->resp_addr);
		rec->time_ms = 1709251199999; /* 2024-02-29T23:59:59.999Z */
		rec->meta = &golden_metas[1];
		rec->rd = 0;
		rec->txid = 0xffff;
		rec->qtype = 28;
		break;
	case 2: /* dropped, no metadata, unknown listener, a year's last second */
		rec->action = BLOCKLOG_DROPPED;
		rec->orig = BLOCKLOG_ORIG_DROP;
		rec->meta = NULL;
		rec->dst_family = 0;
		rec->time_ms = 946684799000; /* 1999-12-31T23:59:59.000Z */
		rec->txid = 0;
		break;
	case 3: /* a retro-hunt finding of a log entry */
		rec->proto = BLOCKLOG_RETRO;
		rec->count = 3;
		rec->start_ms = 1704067199999; /* 2023-12-31T23:59:59.999Z */
		rec->end_ms = 1704067200000;
		rec->listed_ms = 1704067200001;
		rec->meta = &golden_metas[1];
		rec->ioc_id = 1234567;
		rec->resp_family = 0;
		break;
	case 4: /* aggregated, nxdomain, metadata with absent and out-of-range fields */
		rec->count = 4294967295u;
		rec->start_ms = 0;
		rec->end_ms = -1;
		rec->orig = BLOCKLOG_ORIG_NXDOMAIN;
		rec->rcode = 3;
		rec->resp_family = 0;
		rec->meta = &golden_metas[2];
		rec->qtype = 33;
		rec->qclass = 3;
		break;
	case 5: /* query log: forwarded, its answer and duration */
		rec->meta = NULL;
		rec->unlisted = 1;
		rec->rule_off = rec->qname_len;
		rec->action = BLOCKLOG_ALLOWED;
		rec->orig = BLOCKLOG_ORIG_FORWARD;
		inet_pton(AF_INET, "192.0.2.80", rec->resp_addr);
		rec->has_net = 1;
		rec->net_ms = 4294967295u;
		rec->time_ms = 1582934400123; /* 2020-02-29T00:00:00.123Z */
		break;
	case 6: /* query log: from the cache, odd type, class and rcode, IPv6 answer */
		rec->meta = NULL;
		rec->unlisted = 1;
		rec->action = BLOCKLOG_ALLOWED;
		rec->orig = BLOCKLOG_ORIG_CACHE;
		rec->rcode = 2;
		rec->qtype = 65534;
		rec->qclass = 0xff01;
		rec->resp_family = AF_INET6;
		memcpy(rec->resp_addr, v6, 16);
		rec->src_port = 0;
		rec->dst_port = 65535;
		break;
	case 7: /* query log: a blocked unlisted record (rate limited), unknown client family */
		rec->meta = NULL;
		rec->unlisted = 1;
		rec->orig = BLOCKLOG_ORIG_RATELIMITED;
		rec->rcode = 5;
		rec->src_family = 0;
		rec->qclass = 0;
		rec->qtype = 0;
		break;
	case 8: /* CNAME hit, the rule inside the target */
		SET_NAME(rec, "\7cloaked\7Example");
		rec->via = BLOCKLOG_VIA_CNAME;
		memcpy(rec->matched, "\3cdn\2c2\4evil\0", 14);
		rec->matched_len = 14;
		rec->rule_off = 4;
		rec->meta = &golden_metas[3];
		break;
	case 9: /* CNAME hit with the rule offset past the target */
		rec->via = BLOCKLOG_VIA_CNAME;
		memcpy(rec->matched, "\3cdn\2c2\4evil\0", 14);
		rec->matched_len = 14;
		rec->rule_off = 200;
		rec->orig = BLOCKLOG_ORIG_LOCAL;
		break;
	case 10: /* IPv4 indicator, a /24 */
		rec->via = BLOCKLOG_VIA_IP;
		memcpy(rec->matched, "\xcb\x00\x71\x05", 4);
		rec->matched_len = 4;
		rec->rule_off = 24;
		rec->orig = BLOCKLOG_ORIG_REFUSED;
		rec->rcode = 5;
		break;
	case 11: /* IPv6 indicator, a /48, dropped */
		rec->via = BLOCKLOG_VIA_IP;
		memcpy(rec->matched, v6, 16);
		rec->matched_len = 16;
		rec->rule_off = 48;
		rec->action = BLOCKLOG_DROPPED;
		rec->orig = BLOCKLOG_ORIG_DROP;
		break;
	case 12: /* IPv6 indicator, a host, retro */
		rec->via = BLOCKLOG_VIA_IP;
		memcpy(rec->matched, v6, 16);
		rec->matched_len = 16;
		rec->rule_off = 200;
		rec->proto = BLOCKLOG_RETRO;
		rec->count = 1;
		rec->start_ms = rec->end_ms = rec->listed_ms = rec->time_ms;
		break;
	case 13: /* a name of odd bytes and case, the rule a suffix */
		SET_NAME(rec, "\20X\"y\\z q\x01\xff.();@$k\3BAD\3com");
		rec->rule_off = 17;
		rec->orig = BLOCKLOG_ORIG_NODATA;
		rec->rcode = 23;
		break;
	case 14: /* the root, unassigned rcode, an unknown original action */
		SET_NAME(rec, "");
		rec->rcode = 12;
		rec->orig = 42;
		rec->time_ms = -62135596800000; /* 0001-01-01T00:00:00.000Z */
		break;
	case 15: /* the longest name; a malformed one's tail is left out */
		memcpy(rec->qname, long_name, sizeof(long_name));
		rec->qname_len = sizeof(long_name);
		rec->rule_off = 64;
		rec->time_ms = 253402300799999; /* 9999-12-31T23:59:59.999Z */
		break;
	case 16:
		memcpy(rec->qname, "\3abc\100xyz\0", 9);
		rec->qname_len = 9;
		rec->time_ms = 253402300800000; /* year 10000 */
		rec->rcode = 16;
		rec->qtype = 255;
		rec->qclass = 255;
		break;
	case 17: /* a name cut short, and a time long before 1970 */
		memcpy(rec->qname, "\3www\7exa", 8);
		rec->qname_len = 8;
		rec->time_ms = -1;
		rec->src_family = 7;
		rec->via = BLOCKLOG_VIA_IP;
		rec->matched_len = 5; /* not an address: a qname hit */
		break;
	default:
		return false;
	}
	return true;
}

/*
 * BLOCKLOG_GOLDEN_PRINT=1 test_blocklog prints these as the code formats them, and the hash
 * below: for a deliberate change of the format.
 */
static const char *const golden_lines[] = {
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Success\""
	",\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"dns1\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"address\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\""
	",\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":0"
	",\"DnsResponseCodeName\":\"NOERROR\",\"DnsResponseName\":\"0.0.0.0\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"ThreatField\":\"Domain\",\"RuleName\":\"www.mobile1.com\""
	",\"ThreatName\":\"NanoCore RAT\",\"ThreatCategory\":\"botnet_cc\""
	",\"ThreatConfidence\":75,\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"domain\""
	",\"MatchedVia\":\"qname\",\"ListSource\":\"ThreatFox\""
	",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"2024-02-29T23:59:59.999Z\""
	",\"EventStartTime\":\"2024-02-29T23:59:59.999Z\""
	",\"EventEndTime\":\"2024-02-29T23:59:59.999Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Success\""
	",\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Low\""
	",\"EventOriginalType\":\"log\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"EventReportUrl\":\"https://example.com/a?b=\\\"c\\\"\""
	",\"Dvc\":\"a\\\"b\\\\c\\u007f\303\251\\ufffd\",\"DvcHostname\":\"@HOST@\""
	",\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":\"log\""
	",\"SrcIpAddr\":\"2001:db8:bad::1\",\"Src\":\"2001:db8:bad::1\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"::1\",\"Dst\":\"::1\",\"DstPortNumber\":53,\"NetworkProtocol\":\"TCP\""
	",\"NetworkProtocolVersion\":\"IPv6\",\"DnsQuery\":\"www.mobile1.com\""
	",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\",\"DnsQueryType\":28"
	",\"DnsQueryTypeName\":\"AAAA\",\"DnsResponseCode\":0,\"DnsResponseCodeName\":\"NOERROR\""
	",\"DnsResponseName\":\"fe80::1:0:0:2\",\"DnsFlagsRecursionDesired\":false"
	",\"TransactionIdHex\":\"FFFF\",\"ThreatField\":\"Domain\""
	",\"RuleName\":\"www.mobile1.com\",\"ThreatId\":\"ioc-\\\\42\""
	",\"ThreatName\":\"Q\\\"uote\\\\back\\u000anl\\u0009\\u0001\\u007f caf\303\251 \342\202\254 \360\237\230\200 end\""
	",\"ThreatCategory\":\"bad\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd cut\""
	",\"ThreatConfidence\":0,\"ThreatFirstReportedTime\":\"2000-02-29T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"domain\""
	",\"MatchedVia\":\"qname\",\"ListSource\":\"src \\\"x\\\"\""
	",\"ListFile\":\"/etc/sinkholed/l\303\244st.yaml\""
	",\"IocExpires\":\"2026-12-31T23:59:59Z\"}}\n",
	"{\"TimeGenerated\":\"1999-12-31T23:59:59.000Z\""
	",\"EventStartTime\":\"1999-12-31T23:59:59.000Z\""
	",\"EventEndTime\":\"1999-12-31T23:59:59.000Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"request\",\"EventResult\":\"NA\",\"EventResultDetails\":\"NA\""
	",\"EventSeverity\":\"Medium\",\"EventOriginalType\":\"block\""
	",\"EventProduct\":\"sinkholed\",\"EventProductVersion\":\"@VERSION@\""
	",\"EventVendor\":\"sinkholed\",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"Dvc\":\"\",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\""
	",\"DvcOriginalAction\":\"drop\",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\""
	",\"SrcPortNumber\":53124,\"DstIpAddr\":\"\",\"Dst\":\"\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\""
	",\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsResponseCodeName\":\"NA\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"0000\""
	",\"ThreatField\":\"Domain\",\"RuleName\":\"www.mobile1.com\",\"ThreatIsActive\":true"
	",\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\"}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":3"
	",\"EventStartTime\":\"2023-12-31T23:59:59.999Z\""
	",\"EventEndTime\":\"2024-01-01T00:00:00.000Z\",\"EventType\":\"Query\""
	",\"EventSubType\":\"request\",\"EventResult\":\"NA\",\"EventResultDetails\":\"NA\""
	",\"EventSeverity\":\"Medium\",\"EventOriginalType\":\"log\""
	",\"EventProduct\":\"sinkholed\",\"EventProductVersion\":\"@VERSION@\""
	",\"EventVendor\":\"sinkholed\",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"EventReportUrl\":\"https://example.com/a?b=\\\"c\\\"\",\"Dvc\":\"dns1\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\""
	",\"DvcOriginalAction\":\"retrohunt\",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\""
	",\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\"www.mobile1.com\""
	",\"DnsResponseCodeName\":\"NA\",\"ThreatField\":\"Domain\""
	",\"RuleName\":\"www.mobile1.com\",\"ThreatId\":\"1234567\""
	",\"ThreatName\":\"Q\\\"uote\\\\back\\u000anl\\u0009\\u0001\\u007f caf\303\251 \342\202\254 \360\237\230\200 end\""
	",\"ThreatCategory\":\"bad\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd cut\""
	",\"ThreatConfidence\":0,\"ThreatFirstReportedTime\":\"2000-02-29T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"domain\""
	",\"RetroHunt\":true,\"ListedTime\":\"2024-01-01T00:00:00.001Z\",\"MatchedVia\":\"qname\""
	",\"ListSource\":\"src \\\"x\\\"\",\"ListFile\":\"/etc/sinkholed/l\303\244st.yaml\""
	",\"IocExpires\":\"2026-12-31T23:59:59Z\"}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":4294967295"
	",\"EventStartTime\":\"1970-01-01T00:00:00.000Z\""
	",\"EventEndTime\":\"1969-12-31T23:59:59.999Z\",\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Failure\""
	",\"EventResultDetails\":\"NXDOMAIN\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"dns1\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"nxdomain\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":3,\"DnsQueryClassName\":\"CH\""
	",\"DnsQueryType\":33,\"DnsQueryTypeName\":\"SRV\",\"DnsResponseCode\":3"
	",\"DnsResponseCodeName\":\"NXDOMAIN\",\"DnsFlagsRecursionDesired\":true"
	",\"TransactionIdHex\":\"1A2B\",\"ThreatField\":\"Domain\""
	",\"RuleName\":\"www.mobile1.com\",\"ThreatId\":\"\",\"ThreatCategory\":\"\""
	",\"ThreatFirstReportedTime\":\"0001-01-01T00:00:00Z\",\"ThreatIsActive\":true"
	",\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\""
	",\"IocExpires\":\"10000-01-01T00:00:00Z\"}}\n",
	"{\"TimeGenerated\":\"2020-02-29T00:00:00.123Z\""
	",\"EventStartTime\":\"2020-02-29T00:00:00.123Z\""
	",\"EventEndTime\":\"2020-02-29T00:00:00.123Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Success\""
	",\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Informational\""
	",\"EventOriginalType\":\"query\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"Dvc\":\"a\\\"b\\\\c\\u007f\303\251\\ufffd\",\"DvcHostname\":\"@HOST@\""
	",\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":\"forward\",\"SrcIpAddr\":\"10.1.2.3\""
	",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124,\"DstIpAddr\":\"10.1.0.53\""
	",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53,\"NetworkProtocol\":\"UDP\""
	",\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\"www.mobile1.com\""
	",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\",\"DnsQueryType\":1"
	",\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":0,\"DnsResponseCodeName\":\"NOERROR\""
	",\"DnsResponseName\":\"192.0.2.80\",\"DnsNetworkDuration\":4294967295"
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"AdditionalFields\":{}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Failure\""
	",\"EventResultDetails\":\"SERVFAIL\",\"EventSeverity\":\"Informational\""
	",\"EventOriginalType\":\"query\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Allowed\",\"DvcOriginalAction\":\"cache\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":0"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":65535"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":65281"
	",\"DnsQueryClassName\":\"Reserved\",\"DnsQueryType\":65534"
	",\"DnsQueryTypeName\":\"TYPE65534\",\"DnsResponseCode\":2"
	",\"DnsResponseCodeName\":\"SERVFAIL\",\"DnsResponseName\":\"2001:db8:bad::1\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"AdditionalFields\":{}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Failure\""
	",\"EventResultDetails\":\"REFUSED\",\"EventSeverity\":\"Low\""
	",\"EventOriginalType\":\"query\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"dns1\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\""
	",\"DvcOriginalAction\":\"ratelimited\",\"SrcIpAddr\":\"\",\"Src\":\"\""
	",\"SrcPortNumber\":53124,\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\""
	",\"DstPortNumber\":53,\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":0,\"DnsQueryClassName\":\"Reserved\""
	",\"DnsQueryType\":0,\"DnsQueryTypeName\":\"TYPE0\",\"DnsResponseCode\":5"
	",\"DnsResponseCodeName\":\"REFUSED\",\"DnsResponseName\":\"0.0.0.0\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"AdditionalFields\":{}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Success\""
	",\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"dns1\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"address\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"cloaked.example\",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\""
	",\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":0"
	",\"DnsResponseCodeName\":\"NOERROR\",\"DnsResponseName\":\"0.0.0.0\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"ThreatField\":\"DnsResponseName\",\"RuleName\":\"c2.evil\",\"ThreatName\":\"m\""
	",\"ThreatConfidence\":100,\"ThreatFirstReportedTime\":\"-292277022657-01-27T08:29:53Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"domain\""
	",\"MatchedVia\":\"cname\",\"MatchedName\":\"cdn.c2.evil\""
	",\"IocExpires\":\"292277026596-12-04T15:30:06Z\"}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Success\""
	",\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"Dvc\":\"a\\\"b\\\\c\\u007f\303\251\\ufffd\",\"DvcHostname\":\"@HOST@\""
	",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"local\",\"SrcIpAddr\":\"10.1.2.3\""
	",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124,\"DstIpAddr\":\"10.1.0.53\""
	",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53,\"NetworkProtocol\":\"UDP\""
	",\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\"www.mobile1.com\""
	",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\",\"DnsQueryType\":1"
	",\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":0,\"DnsResponseCodeName\":\"NOERROR\""
	",\"DnsResponseName\":\"0.0.0.0\",\"DnsFlagsRecursionDesired\":true"
	",\"TransactionIdHex\":\"1A2B\",\"ThreatField\":\"DnsResponseName\""
	",\"ThreatName\":\"NanoCore RAT\",\"ThreatCategory\":\"botnet_cc\""
	",\"ThreatConfidence\":75,\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"domain\""
	",\"MatchedVia\":\"cname\",\"MatchedName\":\"cdn.c2.evil\",\"ListSource\":\"ThreatFox\""
	",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Failure\""
	",\"EventResultDetails\":\"REFUSED\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"refused\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\""
	",\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":5"
	",\"DnsResponseCodeName\":\"REFUSED\",\"DnsResponseName\":\"203.0.113.5\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"ThreatField\":\"DnsResponseName\",\"RuleName\":\"203.0.113.0/24\""
	",\"ThreatName\":\"NanoCore RAT\",\"ThreatCategory\":\"botnet_cc\""
	",\"ThreatConfidence\":75,\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"ip\""
	",\"MatchedVia\":\"ip\",\"ListSource\":\"ThreatFox\",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"request\",\"EventResult\":\"NA\",\"EventResultDetails\":\"NA\""
	",\"EventSeverity\":\"Medium\",\"EventOriginalType\":\"block\""
	",\"EventProduct\":\"sinkholed\",\"EventProductVersion\":\"@VERSION@\""
	",\"EventVendor\":\"sinkholed\",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"Dvc\":\"dns1\",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\""
	",\"DvcOriginalAction\":\"drop\",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\""
	",\"SrcPortNumber\":53124,\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\""
	",\"DstPortNumber\":53,\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www.mobile1.com\",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\""
	",\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsResponseCodeName\":\"NA\""
	",\"DnsResponseName\":\"2001:db8:bad::1\",\"DnsFlagsRecursionDesired\":true"
	",\"TransactionIdHex\":\"1A2B\",\"ThreatField\":\"DnsResponseName\""
	",\"RuleName\":\"2001:db8:bad::/48\",\"ThreatName\":\"NanoCore RAT\""
	",\"ThreatCategory\":\"botnet_cc\",\"ThreatConfidence\":75"
	",\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\",\"ThreatIsActive\":true"
	",\"AdditionalFields\":{\"ThreatIocType\":\"ip\",\"MatchedVia\":\"ip\""
	",\"ListSource\":\"ThreatFox\",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1"
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventType\":\"Query\""
	",\"EventSubType\":\"request\",\"EventResult\":\"NA\",\"EventResultDetails\":\"NA\""
	",\"EventSeverity\":\"Medium\",\"EventOriginalType\":\"block\""
	",\"EventProduct\":\"sinkholed\",\"EventProductVersion\":\"@VERSION@\""
	",\"EventVendor\":\"sinkholed\",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"Dvc\":\"dns1\",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\""
	",\"DvcOriginalAction\":\"retrohunt\",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\""
	",\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\"www.mobile1.com\""
	",\"DnsResponseCodeName\":\"NA\",\"DnsResponseName\":\"2001:db8:bad::1\""
	",\"ThreatField\":\"DnsResponseName\",\"RuleName\":\"2001:db8:bad::1\""
	",\"ThreatName\":\"NanoCore RAT\",\"ThreatCategory\":\"botnet_cc\""
	",\"ThreatConfidence\":75,\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"ip\""
	",\"RetroHunt\":true,\"ListedTime\":\"2026-11-28T05:12:03.482Z\",\"MatchedVia\":\"ip\""
	",\"ListSource\":\"ThreatFox\",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"2026-11-28T05:12:03.482Z\""
	",\"EventStartTime\":\"2026-11-28T05:12:03.482Z\""
	",\"EventEndTime\":\"2026-11-28T05:12:03.482Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Failure\""
	",\"EventResultDetails\":\"BADCOOKIE\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"Dvc\":\"a\\\"b\\\\c\\u007f\303\251\\ufffd\",\"DvcHostname\":\"@HOST@\""
	",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"nodata\",\"SrcIpAddr\":\"10.1.2.3\""
	",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124,\"DstIpAddr\":\"10.1.0.53\""
	",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53,\"NetworkProtocol\":\"UDP\""
	",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"x\\\\034y\\\\092z\\\\032q\\\\001\\\\255\\\\046\\\\040\\\\041\\\\059\\\\064\\\\036k.bad.com\""
	",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\",\"DnsQueryType\":1"
	",\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":23,\"DnsResponseCodeName\":\"BADCOOKIE\""
	",\"DnsResponseName\":\"0.0.0.0\",\"DnsFlagsRecursionDesired\":true"
	",\"TransactionIdHex\":\"1A2B\",\"ThreatField\":\"Domain\",\"RuleName\":\"bad.com\""
	",\"ThreatName\":\"NanoCore RAT\",\"ThreatCategory\":\"botnet_cc\""
	",\"ThreatConfidence\":75,\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"domain\""
	",\"MatchedVia\":\"qname\",\"ListSource\":\"ThreatFox\""
	",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"0001-01-01T00:00:00.000Z\""
	",\"EventStartTime\":\"0001-01-01T00:00:00.000Z\""
	",\"EventEndTime\":\"0001-01-01T00:00:00.000Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Failure\""
	",\"EventResultDetails\":\"Unassigned\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\".\""
	",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\",\"DnsQueryType\":1"
	",\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":12"
	",\"DnsResponseCodeName\":\"Unassigned\",\"DnsResponseName\":\"0.0.0.0\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"ThreatField\":\"Domain\",\"RuleName\":\".\",\"ThreatName\":\"NanoCore RAT\""
	",\"ThreatCategory\":\"botnet_cc\",\"ThreatConfidence\":75"
	",\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\",\"ThreatIsActive\":true"
	",\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\""
	",\"ListSource\":\"ThreatFox\",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"9999-12-31T23:59:59.999Z\""
	",\"EventStartTime\":\"9999-12-31T23:59:59.999Z\""
	",\"EventEndTime\":\"9999-12-31T23:59:59.999Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Success\""
	",\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"dns1\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"address\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\""
	",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\",\"DnsQueryType\":1"
	",\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":0,\"DnsResponseCodeName\":\"NOERROR\""
	",\"DnsResponseName\":\"0.0.0.0\",\"DnsFlagsRecursionDesired\":true"
	",\"TransactionIdHex\":\"1A2B\",\"ThreatField\":\"Domain\""
	",\"RuleName\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\""
	",\"ThreatName\":\"NanoCore RAT\",\"ThreatCategory\":\"botnet_cc\""
	",\"ThreatConfidence\":75,\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\""
	",\"ThreatIsActive\":true,\"AdditionalFields\":{\"ThreatIocType\":\"domain\""
	",\"MatchedVia\":\"qname\",\"ListSource\":\"ThreatFox\""
	",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"10000-01-01T00:00:00.000Z\""
	",\"EventStartTime\":\"10000-01-01T00:00:00.000Z\""
	",\"EventEndTime\":\"10000-01-01T00:00:00.000Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Failure\""
	",\"EventResultDetails\":\"BADVERS\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\",\"Dvc\":\"dns1\""
	",\"DvcHostname\":\"@HOST@\",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"address\""
	",\"SrcIpAddr\":\"10.1.2.3\",\"Src\":\"10.1.2.3\",\"SrcPortNumber\":53124"
	",\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\",\"DstPortNumber\":53"
	",\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\",\"DnsQuery\":\"abc\""
	",\"DnsQueryClass\":255,\"DnsQueryClassName\":\"ANY\",\"DnsQueryType\":255"
	",\"DnsQueryTypeName\":\"TYPE255\",\"DnsResponseCode\":16"
	",\"DnsResponseCodeName\":\"BADVERS\",\"DnsResponseName\":\"0.0.0.0\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"ThreatField\":\"Domain\",\"RuleName\":\"abc\",\"ThreatName\":\"NanoCore RAT\""
	",\"ThreatCategory\":\"botnet_cc\",\"ThreatConfidence\":75"
	",\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\",\"ThreatIsActive\":true"
	",\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\""
	",\"ListSource\":\"ThreatFox\",\"ListFile\":\"blocklist.yaml\"}}\n",
	"{\"TimeGenerated\":\"1969-12-31T23:59:59.999Z\""
	",\"EventStartTime\":\"1969-12-31T23:59:59.999Z\""
	",\"EventEndTime\":\"1969-12-31T23:59:59.999Z\",\"EventCount\":1,\"EventType\":\"Query\""
	",\"EventSubType\":\"response\",\"EventResult\":\"Success\""
	",\"EventResultDetails\":\"NOERROR\",\"EventSeverity\":\"Medium\""
	",\"EventOriginalType\":\"block\",\"EventProduct\":\"sinkholed\""
	",\"EventProductVersion\":\"@VERSION@\",\"EventVendor\":\"sinkholed\""
	",\"EventSchema\":\"Dns\",\"EventSchemaVersion\":\"0.1.7\""
	",\"Dvc\":\"a\\\"b\\\\c\\u007f\303\251\\ufffd\",\"DvcHostname\":\"@HOST@\""
	",\"DvcAction\":\"Blocked\",\"DvcOriginalAction\":\"address\",\"SrcIpAddr\":\"\""
	",\"Src\":\"\",\"SrcPortNumber\":53124,\"DstIpAddr\":\"10.1.0.53\",\"Dst\":\"10.1.0.53\""
	",\"DstPortNumber\":53,\"NetworkProtocol\":\"UDP\",\"NetworkProtocolVersion\":\"IPv4\""
	",\"DnsQuery\":\"www\",\"DnsQueryClass\":1,\"DnsQueryClassName\":\"IN\""
	",\"DnsQueryType\":1,\"DnsQueryTypeName\":\"A\",\"DnsResponseCode\":0"
	",\"DnsResponseCodeName\":\"NOERROR\",\"DnsResponseName\":\"0.0.0.0\""
	",\"DnsFlagsRecursionDesired\":true,\"TransactionIdHex\":\"1A2B\""
	",\"ThreatField\":\"Domain\",\"RuleName\":\"www\",\"ThreatName\":\"NanoCore RAT\""
	",\"ThreatCategory\":\"botnet_cc\",\"ThreatConfidence\":75"
	",\"ThreatFirstReportedTime\":\"2026-05-27T00:00:00Z\",\"ThreatIsActive\":true"
	",\"AdditionalFields\":{\"ThreatIocType\":\"domain\",\"MatchedVia\":\"qname\""
	",\"ListSource\":\"ThreatFox\",\"ListFile\":\"blocklist.yaml\"}}\n",
};

/* The records of golden_rec() give exactly these lines. */
static void test_format_golden(void **state)
{
	static const char *const dvcs[] = {"dns1", "a\"b\\c\x7f\xc3\xa9\xff", "", "dns1"};
	struct blocklog_rec rec;
	char buf[8193];
	bool print = getenv("BLOCKLOG_GOLDEN_PRINT") != NULL;
	size_t i;

	(void)state;
	for (i = 0; golden_rec(i, &rec); i++) {
		size_t len = fmt(&rec, dvcs[i % 4], buf);

		assert_int_not_equal(len, 0);
		/* A buffer one byte short gives nothing at all. */
		assert_int_equal(blocklog_format(&rec, dvcs[i % 4], buf, len), len);
		assert_int_equal(blocklog_format(&rec, dvcs[i % 4], buf, len - 1), 0);
		assert_int_equal(blocklog_format(&rec, dvcs[i % 4], buf, 0), 0);
		fmt(&rec, dvcs[i % 4], buf);
		normalize(buf);
		if (print) {
			printf("\t\"");
			for (const char *c = buf; *c; c++) {
				if (*c == '"' || *c == '\\')
					printf("\\%c", *c);
				else if (*c == '\n')
					printf("\\n");
				else if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
					printf("\\%03o", (unsigned char)*c);
				else
					putchar(*c);
			}
			printf("\",\n");
			continue;
		}
		assert_true(i < sizeof(golden_lines) / sizeof(golden_lines[0]));
		assert_string_equal(buf, golden_lines[i]);
	}
	if (!print)
		assert_int_equal(i, sizeof(golden_lines) / sizeof(golden_lines[0]));
}

static uint64_t golden_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A random wire name: labels of letters, digits, escaped and odd bytes, sometimes malformed. */
static void random_name(uint64_t *s, uint8_t *name, uint8_t *len)
{
	static const char alphabet[] = "abcxyzABZ09-_.\\\"();@$ \x01\x7f\x80\xc3\xa9\xff";
	size_t off = 0, labels = golden_rand(s) % 6;

	for (size_t l = 0; l < labels && off < 200; l++) {
		size_t max = golden_rand(s) % 4 ? 12 : 63, n = 1 + golden_rand(s) % max;

		if (off + 1 + n > 250)
			break;
		name[off++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			name[off++] = (uint8_t)alphabet[golden_rand(s) % (sizeof(alphabet) - 1)];
	}
	if (golden_rand(s) % 8 == 0 && off > 0)
		off -= golden_rand(s) % off; /* cut short */
	else
		name[off++] = 0;
	*len = (uint8_t)off;
}

static void random_addr(uint64_t *s, uint8_t addr[16])
{
	for (int i = 0; i < 16; i++)
		addr[i] = golden_rand(s) % 3 ? 0 : (uint8_t)golden_rand(s);
}

static void random_rec(uint64_t *s, struct blocklog_rec *rec, int64_t *t)
{
	static const uint8_t families[] = {AF_INET, AF_INET6, AF_INET, 0, 7};
	/* Not types a newer ldns may learn the name of: TYPEnnnn stays. */
	static const uint16_t qtypes[] = {1, 28, 5, 33, 0, 255, 65280, 65535, 12, 16};

	memset(rec, 0, sizeof(*rec));
	*t = golden_rand(s) % 4 ? *t + (int64_t)(golden_rand(s) % 1500)
				: (int64_t)(golden_rand(s) % 400000000000000) - 100000000000000;
	rec->time_ms = *t;
	rec->src_family = families[golden_rand(s) % 5];
	random_addr(s, rec->src_addr);
	rec->src_port = (uint16_t)golden_rand(s);
	rec->dst_family = families[golden_rand(s) % 5];
	random_addr(s, rec->dst_addr);
	rec->dst_port = (uint16_t)golden_rand(s);
	rec->proto = (uint8_t)(golden_rand(s) % 4);
	rec->action = (uint8_t)(golden_rand(s) % 4);
	rec->rcode = (uint8_t)(golden_rand(s) % 2 ? golden_rand(s) % 6 : golden_rand(s) % 256);
	rec->resp_family = families[golden_rand(s) % 5];
	random_addr(s, rec->resp_addr);
	rec->qtype = qtypes[golden_rand(s) % 10];
	if (golden_rand(s) % 4 == 0)
		rec->qtype = (uint16_t)(65280 + golden_rand(s) % 256); /* private use */
	rec->qclass = (uint16_t)(golden_rand(s) % 2 ? golden_rand(s) % 5 : golden_rand(s));
	rec->rd = (uint8_t)(golden_rand(s) % 2);
	rec->orig = (uint8_t)(golden_rand(s) % 12);
	rec->txid = (uint16_t)golden_rand(s);
	random_name(s, rec->qname, &rec->qname_len);
	rec->via = (uint8_t)(golden_rand(s) % 4);
	if (rec->via == BLOCKLOG_VIA_IP) {
		rec->matched_len = golden_rand(s) % 2 ? 4 : 16;
		random_addr(s, rec->matched);
		rec->rule_off = (uint8_t)(golden_rand(s) % 140);
	} else {
		random_name(s, rec->matched, &rec->matched_len);
		rec->rule_off = (uint8_t)(golden_rand(s) % 40);
	}
	rec->meta = golden_rand(s) % 5 ? &golden_metas[golden_rand(s) % 4] : NULL;
	rec->ioc_id = golden_rand(s) % 3 ? 0 : (uint32_t)golden_rand(s);
	rec->count = golden_rand(s) % 2 ? 0 : (uint32_t)golden_rand(s) % 1000;
	rec->start_ms = *t - (int64_t)(golden_rand(s) % 100000000);
	rec->end_ms = *t;
	rec->listed_ms = *t + (int64_t)(golden_rand(s) % 100000000);
	rec->net_ms = (uint32_t)golden_rand(s);
	rec->has_net = (uint8_t)(golden_rand(s) % 2);
	rec->unlisted = (uint8_t)(golden_rand(s) % 3 == 0);
}

/*
 * Pseudo-random records (fixed seed) give these lines, summed up by their FNV-1a hash: any
 * change to a byte of any line changes it. Each line also needs its exact length.
 */
static void test_format_golden_random(void **state)
{
	static const char *const dvcs[] = {"dns1", "a\"b\\c\x7f\xc3\xa9\xff", ""};
	const uint64_t want_hash = 0xf8a9c46bf7bf68d8ull;
	uint64_t s = 0x9e3779b97f4a7c15ull, hash = 0xcbf29ce484222325ull;
	int64_t t = 1795842723482;
	struct blocklog_rec rec;
	char buf[8193];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		const char *dvc = dvcs[golden_rand(&s) % 3];
		size_t len;

		random_rec(&s, &rec, &t);
		len = fmt(&rec, dvc, buf);
		assert_int_not_equal(len, 0);
		assert_int_equal(blocklog_format(&rec, dvc, buf, len), len);
		assert_int_equal(blocklog_format(&rec, dvc, buf, len - 1), 0);
		fmt(&rec, dvc, buf);
		normalize(buf);
		for (const char *c = buf; *c; c++)
			hash = (hash ^ (unsigned char)*c) * 0x100000001b3ull;
	}
	if (getenv("BLOCKLOG_GOLDEN_PRINT"))
		printf("want_hash = 0x%016llxull\n", (unsigned long long)hash);
	else
		assert_int_equal(hash, want_hash);
}

/* --- Writer -------------------------------------------------------------------------------- */

/* Whole file contents (NUL-terminated) or NULL when absent. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap + 1);
			assert_non_null(data);
		}
		size_t got = fread(data + n, 1, cap - n, f);

		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	data[n] = '\0';
	*len = n;
	return data;
}

/* Number of lines in data, each checked to be a whole block-log object. */
static size_t count_lines(const char *data, size_t len)
{
	const char *p = data, *end = data + len;
	size_t n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		assert_non_null(nl);
		assert_true(nl - p > 20);
		assert_memory_equal(p, "{\"TimeGenerated\":\"", 18);
		assert_memory_equal(nl - 2, "}}", 2);
		p = nl + 1;
		n++;
	}
	return n;
}

static size_t file_lines(const char *path)
{
	size_t len, n;
	char *data = slurp(path, &len);

	assert_non_null(data);
	n = count_lines(data, len);
	free(data);
	return n;
}

static void test_writer_end_to_end(void **state)
{
	const char *path = tmp_path("e2e.jsonl");
	struct blocklog *bl = blocklog_new(path, "dns1", 4096, 1);
	struct blocklog_rec rec;
	enum { N = 3000 };
	size_t len;
	char *data, *p;

	(void)state;
	assert_non_null(bl);
	blocklog_sync(bl); /* nothing queued: returns at once */
	example_rec(&rec);
	for (int i = 0; i < N; i++) {
		rec.txid = (uint16_t)i;
		assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	}
	blocklog_sync(bl);
	assert_int_equal(blocklog_written(bl), N);
	assert_int_equal(blocklog_dropped(bl), 0);

	data = slurp(path, &len);
	assert_non_null(data);
	assert_int_equal(count_lines(data, len), N);
	/* In submission order, byte for byte the formatted line. */
	p = data;
	for (int i = 0; i < N; i++) {
		char want[8192], hex[32];
		size_t wlen;

		rec.txid = (uint16_t)i;
		wlen = blocklog_format(&rec, "dns1", want, sizeof(want));
		snprintf(hex, sizeof(hex), "\"TransactionIdHex\":\"%04X\"", i);
		assert_non_null(strstr(want, hex));
		assert_memory_equal(p, want, wlen);
		p += wlen;
	}
	free(data);
	blocklog_free(bl);

	/* Appends to an existing file. */
	bl = blocklog_new(path, "dns1", 16, 1);
	assert_non_null(bl);
	assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_sync(bl);
	blocklog_free(bl);
	assert_int_equal(file_lines(path), N + 1);
}

static void test_writer_free_flushes(void **state)
{
	const char *path = tmp_path("flush.jsonl");
	struct blocklog *bl = blocklog_new(path, "dns1", 1000, 1);
	struct blocklog_rec rec;

	(void)state;
	assert_non_null(bl);
	example_rec(&rec);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_free(bl);
	assert_int_equal(file_lines(path), 1000);
	blocklog_free(NULL);
}

/* Tiny rings and a burst: every record is either written or counted as dropped, on either ring. */
static void test_writer_burst_accounting(void **state)
{
	const char *path = tmp_path("burst.jsonl");
	struct blocklog *bl = blocklog_new(path, "dns1", 1, 2);
	struct blocklog_rec rec;
	uint64_t ok = 0, full = 0;
	enum { N = 20000 };

	(void)state;
	assert_non_null(bl);
	example_rec(&rec);
	for (int i = 0; i < N; i++) {
		int rc = blocklog_submit(bl, (unsigned)i % 2, &rec);

		if (rc == 0)
			ok++;
		else if (rc == -ENOSPC)
			full++;
		else
			fail_msg("submit returned %d", rc);
	}
	blocklog_sync(bl);
	assert_int_equal(ok + full, N);
	assert_int_equal(blocklog_written(bl), ok);
	assert_int_equal(blocklog_dropped(bl), full);
	blocklog_free(bl);
	assert_int_equal(file_lines(path), ok);
}

/*
 * Checks the lines of data per producer: the k-th line whose SrcPortNumber is p has the
 * TransactionIdHex seqs[p][k], and there are counts[p] of them.
 */
static void check_order(const char *data, size_t len, unsigned n_prod, uint16_t *const *seqs,
			const size_t *counts)
{
	static const char port_key[] = "\"SrcPortNumber\":", txid_key[] = "\"TransactionIdHex\":\"";
	const char *p = data, *end = data + len;
	size_t seen[128] = {0};

	assert_true(n_prod <= 128);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *port, *txid;
		unsigned long prod, seq;

		assert_non_null(nl);
		port = memmem(p, (size_t)(nl - p), port_key, sizeof(port_key) - 1);
		txid = memmem(p, (size_t)(nl - p), txid_key, sizeof(txid_key) - 1);
		assert_non_null(port);
		assert_non_null(txid);
		prod = strtoul(port + sizeof(port_key) - 1, NULL, 10);
		seq = strtoul(txid + sizeof(txid_key) - 1, NULL, 16);
		assert_in_range(prod, 0, n_prod - 1);
		assert_in_range(seen[prod], 0, counts[prod] - 1);
		if (seq != seqs[prod][seen[prod]])
			fail_msg("producer %lu: line %zu has seq %lu, want %u", prod, seen[prod],
				 seq, seqs[prod][seen[prod]]);
		seen[prod]++;
		p = nl + 1;
	}
	for (unsigned i = 0; i < n_prod; i++)
		assert_int_equal(seen[i], counts[i]);
}

/* One submitting thread: producer index, SrcPortNumber = index, TransactionIdHex = sequence. */
struct producer {
	struct blocklog *bl;
	unsigned index;
	unsigned n;	    /* records to submit */
	uint16_t *accepted; /* sequence numbers accepted, in order */
	size_t ok, full, bad;
};

static void *produce(void *arg)
{
	struct producer *pr = arg;
	struct blocklog_rec rec;

	example_rec(&rec);
	rec.src_port = (uint16_t)pr->index;
	for (unsigned i = 0; i < pr->n; i++) {
		int rc;

		rec.txid = (uint16_t)i;
		rc = blocklog_submit(pr->bl, pr->index, &rec);
		if (rc == 0)
			pr->accepted[pr->ok++] = (uint16_t)i;
		else if (rc == -ENOSPC)
			pr->full++, sched_yield(); /* let the writer catch up: fewer drops */
		else
			pr->bad++; /* cmocka asserts belong to the main thread */
	}
	return NULL;
}

/* Several threads, one ring each: nothing lost or duplicated, each producer's order kept. */
static void test_writer_multi_producer(void **state)
{
	enum { THREADS = 4, N = 20000 };
	const char *path = tmp_path("multi.jsonl");
	struct blocklog *bl = blocklog_new(path, "dns1", 1024, THREADS);
	struct producer pr[THREADS];
	pthread_t tid[THREADS];
	uint16_t *seqs[THREADS];
	size_t counts[THREADS], ok = 0, full = 0, len;
	char *data;

	(void)state;
	assert_non_null(bl);
	for (unsigned i = 0; i < THREADS; i++) {
		pr[i] = (struct producer){.bl = bl, .index = i, .n = N};
		pr[i].accepted = malloc(N * sizeof(*pr[i].accepted));
		assert_non_null(pr[i].accepted);
		assert_int_equal(pthread_create(&tid[i], NULL, produce, &pr[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(pr[i].bad, 0);
		assert_int_equal(pr[i].ok + pr[i].full, N);
		ok += pr[i].ok;
		full += pr[i].full;
		seqs[i] = pr[i].accepted;
		counts[i] = pr[i].ok;
	}
	blocklog_sync(bl);
	assert_int_equal(blocklog_written(bl) + blocklog_dropped(bl), THREADS * N);
	assert_int_equal(blocklog_written(bl), ok);
	assert_int_equal(blocklog_dropped(bl), full);

	data = slurp(path, &len);
	assert_non_null(data);
	assert_int_equal(count_lines(data, len), ok);
	check_order(data, len, THREADS, seqs, counts);
	free(data);
	blocklog_free(bl);
	for (unsigned i = 0; i < THREADS; i++)
		free(pr[i].accepted);
}

/*
 * Records on every ring, the last ring filled first: sync returns only once all are written.
 * 70 rings: more than sync snapshots on its stack.
 */
static void test_writer_sync_all_rings(void **state)
{
	enum { RINGS = 70, PER = 40 };
	const char *path = tmp_path("sync.jsonl");
	struct blocklog *bl = blocklog_new(path, "dns1", PER, RINGS);
	static uint16_t seq_store[RINGS][PER];
	uint16_t *seqs[RINGS];
	size_t counts[RINGS], len;
	struct blocklog_rec rec;
	char *data;

	(void)state;
	assert_non_null(bl);
	example_rec(&rec);
	for (int i = RINGS - 1; i >= 0; i--) {
		rec.src_port = (uint16_t)i;
		for (int k = 0; k < PER; k++) {
			rec.txid = (uint16_t)k;
			seq_store[i][k] = (uint16_t)k;
			/* PER is rounded up to 64 slots, and nothing else is queued */
			assert_int_equal(blocklog_submit(bl, (unsigned)i, &rec), 0);
		}
		seqs[i] = seq_store[i];
		counts[i] = PER;
	}
	blocklog_sync(bl);
	assert_int_equal(blocklog_written(bl), RINGS * PER);
	assert_int_equal(blocklog_dropped(bl), 0);
	data = slurp(path, &len);
	assert_non_null(data);
	assert_int_equal(count_lines(data, len), RINGS * PER);
	check_order(data, len, RINGS, seqs, counts);
	free(data);
	blocklog_free(bl);
}

struct fifo_reader {
	int fd;
	size_t len;
	char *data;
};

static void *read_fifo(void *arg)
{
	struct fifo_reader *r = arg;
	size_t cap = 1 << 20;

	r->data = malloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (cap - r->len < 65536) {
			cap *= 2;
			r->data = realloc(r->data, cap + 1);
		}
		n = read(r->fd, r->data + r->len, cap - r->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->len += (size_t)n;
	}
	r->data[r->len] = '\0';
	return NULL;
}

/*
 * Queue full, deterministically: the log is a FIFO nobody reads yet, so the writer blocks once
 * the pipe buffer is full. Ring 0 then fills up and refuses records (the pipe, the writer's
 * buffer and the ring hold far fewer than N), while ring 1, empty, still takes a whole ring:
 * queue_cap 3 rounded up to 4.
 */
static void test_writer_queue_full(void **state)
{
	enum { N = 100000, CAP = 4 };
	const char *path = tmp_path("fifo");
	struct fifo_reader r = {0};
	struct blocklog *bl;
	struct blocklog_rec rec;
	static uint16_t seq0[N], seq1[CAP];
	uint16_t *seqs[2] = {seq0, seq1};
	size_t counts[2] = {0, 0};
	uint64_t full = 0;
	pthread_t reader;

	(void)state;
	assert_int_equal(mkfifo(path, 0600), 0);
	r.fd = open(path, O_RDONLY | O_NONBLOCK); /* so the writer's open does not block */
	assert_true(r.fd >= 0);
	bl = blocklog_new(path, "dns1", 3, 2);
	assert_non_null(bl);
	fcntl(r.fd, F_SETFL, fcntl(r.fd, F_GETFL) & ~O_NONBLOCK);

	example_rec(&rec);
	rec.src_port = 0;
	for (int i = 0; i < N; i++) {
		int rc;

		rec.txid = (uint16_t)i;
		rc = blocklog_submit(bl, 0, &rec);
		if (rc == 0)
			seq0[counts[0]++] = (uint16_t)i;
		else if (rc == -ENOSPC)
			full++;
		else
			fail_msg("submit returned %d", rc);
	}
	assert_true(full > 0);
	assert_true(counts[0] < 2000);
	assert_int_equal(blocklog_dropped(bl), full);

	/* Another producer's ring is not affected. */
	rec.src_port = 1;
	for (int i = 0; i < CAP; i++) {
		rec.txid = (uint16_t)i;
		seq1[counts[1]++] = (uint16_t)i;
		assert_int_equal(blocklog_submit(bl, 1, &rec), 0);
	}
	assert_int_equal(blocklog_dropped(bl), full);

	/* Let it drain: sync waits for both rings; every accepted record arrives, whole. */
	assert_int_equal(pthread_create(&reader, NULL, read_fifo, &r), 0);
	blocklog_sync(bl);
	assert_int_equal(blocklog_written(bl), counts[0] + counts[1]);
	assert_int_equal(blocklog_dropped(bl), full);
	blocklog_free(bl); /* closes the only write end: the reader sees EOF */
	assert_int_equal(pthread_join(reader, NULL), 0);
	close(r.fd);
	assert_int_equal(count_lines(r.data, r.len), counts[0] + counts[1]);
	check_order(r.data, r.len, 2, seqs, counts);
	free(r.data);
}

/* Occurrences of needle in the file at path. */
static size_t count_in_file(const char *path, const char *needle)
{
	size_t len, n = 0;
	char *data = slurp(path, &len);

	assert_non_null(data);
	for (const char *p = data; (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(data);
	return n;
}

/*
 * Failed writes (ENOSPC) drop the batch, counted, and the writer keeps going. Drops are
 * reported in the diagnostic log (stderr) at once, then at most once a minute, and what is
 * left at exit.
 */
static void test_writer_write_error(void **state)
{
	static const char warn[] = "records dropped (queue full or write failed) since ";
	const char *log_path = tmp_path("stderr.log");
	int saved = dup(STDERR_FILENO);
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct blocklog *bl;
	struct blocklog_rec rec;
	size_t first, second, at_exit, total;

	(void)state;
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);

	bl = blocklog_new("/dev/full", "dns1", 64, 2);
	example_rec(&rec);
	if (bl) {
		for (int i = 0; i < 10; i++)
			blocklog_submit(bl, (unsigned)i % 2, &rec);
		blocklog_sync(bl);
	}
	first = count_in_file(log_path, warn);
	if (bl) {
		for (int i = 0; i < 5; i++)
			blocklog_submit(bl, 1, &rec);
		blocklog_sync(bl);
	}
	second = count_in_file(log_path, warn);
	total = bl ? blocklog_dropped(bl) : 0;
	assert_int_equal(bl ? blocklog_dropped_events(bl) : 15, 15);
	assert_int_equal(bl ? blocklog_written(bl) : 1, 0);
	blocklog_free(bl);
	at_exit = count_in_file(log_path, "dropped (queue full or write failed) since the last "
					  "report (15 in all, standing for 15 lookups)");
	dup2(saved, STDERR_FILENO);
	close(saved);

	assert_non_null(bl);
	assert_int_equal(total, 15);
	assert_int_equal(first, 1);
	assert_int_equal(count_in_file(log_path, "since start ("), 1);
	assert_int_equal(second, 1); /* rate-limited */
	assert_int_equal(count_in_file(log_path, warn), 2);
	assert_int_equal(at_exit, 1);
}

static void test_writer_reopen(void **state)
{
	char old_path[256], path[256];
	struct blocklog *bl;
	struct blocklog_rec rec;

	(void)state;
	snprintf(path, sizeof(path), "%s", tmp_path("rot.jsonl"));
	snprintf(old_path, sizeof(old_path), "%s", tmp_path("rot.jsonl.1"));
	bl = blocklog_new(path, "dns1", 64, 1);
	assert_non_null(bl);
	example_rec(&rec);
	for (int i = 0; i < 3; i++)
		assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_sync(bl);

	/* logrotate: move the file, then SIGUSR1. */
	assert_int_equal(rename(path, old_path), 0);
	blocklog_reopen(bl);
	for (int i = 0; i < 2; i++)
		assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_sync(bl);
	assert_int_equal(file_lines(old_path), 3);
	assert_int_equal(file_lines(path), 2);

	/* A failed reopen (a directory is in the way) keeps the current file. */
	assert_int_equal(rename(path, old_path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	blocklog_reopen(bl);
	assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_sync(bl);
	assert_int_equal(file_lines(old_path), 3);

	/* The next request succeeds. */
	assert_int_equal(rmdir(path), 0);
	blocklog_reopen(bl);
	assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_sync(bl);
	assert_int_equal(file_lines(path), 1);
	assert_int_equal(blocklog_written(bl), 7);
	assert_int_equal(blocklog_dropped(bl), 0);
	blocklog_free(bl);
}

static void test_writer_set_dvc(void **state)
{
	const char *path = tmp_path("dvc.jsonl");
	struct blocklog *bl = blocklog_new(path, "dns1", 64, 1);
	struct blocklog_rec rec;
	size_t len;
	char *data, *second;

	(void)state;
	assert_non_null(bl);
	example_rec(&rec);
	assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_sync(bl);
	blocklog_set_dvc(bl, "dns2");
	assert_int_equal(blocklog_submit(bl, 0, &rec), 0);
	blocklog_free(bl);

	data = slurp(path, &len);
	assert_non_null(data);
	assert_int_equal(count_lines(data, len), 2);
	second = strchr(data, '\n') + 1;
	second[-1] = '\0';
	assert_non_null(strstr(data, "\"Dvc\":\"dns1\""));
	assert_non_null(strstr(second, "\"Dvc\":\"dns2\""));
	free(data);
}

/* "-" writes to fd 1, which is neither reopened nor closed. */
static void test_writer_stdout(void **state)
{
	const char *path = tmp_path("stdout.jsonl");
	int saved = dup(STDOUT_FILENO);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct blocklog *bl;
	struct blocklog_rec rec;

	(void)state;
	assert_true(saved >= 0 && fd >= 0);
	fflush(stdout);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);
	close(fd);

	bl = blocklog_new("-", "dns1", 8, 1);
	example_rec(&rec);
	if (bl) {
		blocklog_submit(bl, 0, &rec);
		blocklog_reopen(bl);
		blocklog_submit(bl, 0, &rec);
		blocklog_free(bl);
	}
	fd = fcntl(STDOUT_FILENO, F_GETFD); /* still open */
	dup2(saved, STDOUT_FILENO);
	close(saved);

	assert_non_null(bl);
	assert_true(fd >= 0);
	assert_int_equal(file_lines(path), 2);
}

static void test_new_errors(void **state)
{
	(void)state;
	errno = 0;
	assert_null(blocklog_new(tmp_path("missing/dir/x.jsonl"), "dns1", 8, 1));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(blocklog_new(tmp_path("x.jsonl"), "dns1", 0, 1));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(blocklog_new(tmp_path("x.jsonl"), "dns1", 8, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(blocklog_new(tmp_path("x.jsonl"), "dns1", SIZE_MAX, 1));
	assert_int_equal(errno, EINVAL);
}

/* blocklog_rec_copy copies the fields and the used bytes of the names, and nothing past them. */
static void test_rec_copy(void **state)
{
	struct blocklog_rec src, dst;

	(void)state;
	memset(&src, 0x11, sizeof(src));
	memset(&dst, 0xAA, sizeof(dst));
	src.qname_len = 5;
	src.matched_len = 0;
	blocklog_rec_copy(&dst, &src);
	assert_memory_equal(&dst, &src, offsetof(struct blocklog_rec, qname) + 5);
	assert_int_equal(dst.qname[5], 0xAA);
	assert_int_equal(dst.matched[0], 0xAA);
	src.matched_len = 16;
	blocklog_rec_copy(&dst, &src);
	assert_memory_equal(dst.matched, src.matched, 16);
	assert_int_equal(dst.matched[16], 0xAA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_design_example),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_format_dropped),
		cmocka_unit_test(test_format_allowed_tcp_ipv6),
		cmocka_unit_test(test_format_no_meta),
		cmocka_unit_test(test_format_escaping),
		cmocka_unit_test(test_format_aggregated),
		cmocka_unit_test(test_format_query_log),
		cmocka_unit_test(test_dropped_events),
		cmocka_unit_test(test_backlogged),
		cmocka_unit_test(test_format_type_rcode_names),
		cmocka_unit_test(test_format_cname),
		cmocka_unit_test(test_format_ip),
		cmocka_unit_test(test_format_threatfox_id),
		cmocka_unit_test(test_format_cap),
		cmocka_unit_test(test_format_worst_case),
		cmocka_unit_test(test_format_long_plain_strings),
		cmocka_unit_test(test_format_time_sequence),
		cmocka_unit_test(test_format_golden),
		cmocka_unit_test(test_format_golden_random),
		cmocka_unit_test(test_writer_end_to_end),
		cmocka_unit_test(test_writer_free_flushes),
		cmocka_unit_test(test_writer_burst_accounting),
		cmocka_unit_test(test_writer_multi_producer),
		cmocka_unit_test(test_writer_sync_all_rings),
		cmocka_unit_test(test_writer_queue_full),
		cmocka_unit_test(test_writer_write_error),
		cmocka_unit_test(test_writer_reopen),
		cmocka_unit_test(test_writer_set_dvc),
		cmocka_unit_test(test_writer_stdout),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_rec_copy),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
