/*
 * test_filter.c - struct pfi_filter compiled by pfi_where_new into an SQL
 * condition (pfi_where_sql, pfi_where_bind, pfi_where_prepare) over an
 * index whose true answer is known by construction: a small log written
 * here, three messages and a NOQUEUE reject, each recipient a distinct
 * address (r1 ... r7), so that what a filter selects is a list of names.
 * Every filter field alone, wildcards and lists, case, CIDR, time bounds
 * and --grep; bad values are PFI_EINVAL naming the value.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "pfi-int.h"

static const char *dir;
static char *db;

static void setup(void)
{
	dir = tmpdir_make();
	db = path_join(dir, "index.db");
}

static void teardown(void)
{
	free(db);
	tmpdir_cleanup();
}

TestSuite(filter, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* 2026-11-02T10:00:00Z in microseconds. */
#define T0 INT64_C(1793613600000000)
#define SEC INT64_C(1000000)

/*
 * The log: its facts are the answers.
 *   1A2B3C4D5E mx1 10:00:00 mail.alpha.example[192.0.2.10] SASL alice,
 *     from a1@alpha.example, "Quarterly Report", <m1@alpha.example>;
 *     10:00:01 r1@one.example sent 2.0.0 via mx.one.example[198.51.100.1],
 *     r2@sub.one.example bounced 5.1.1 via mx.sub.one.example[198.51.100.2]
 *   2B3C4D5E6F mx2 10:10:00 unknown[2001:db8::7], null sender,
 *     "Delivery Status", <m2@mx2.example>;
 *     10:10:01 r3@two.example deferred 4.4.1 (relay none),
 *     r4@one.example sent 2.0.0 (relay local); still queued
 *   3C4D5E6F70 mx1 10:20:00 relay.beta.example[203.0.113.5] SASL bob,
 *     from b1@mail.beta.example, "weekly report", <m3@beta.example>;
 *     10:20:01 r5@two.example bounced 5.7.1 via mx.two.example[198.51.100.3],
 *     r6@three.example sent 2.0.0 via mx.three.example[198.51.100.4]
 *   NOQUEUE mx1 10:30:00 unknown[192.0.2.99] from spam@bad.example
 *     to r7@one.example rejected 5.7.1
 */
static const char log_text[] =
	"2026-11-02T10:00:00+00:00 mx1 postfix/smtpd[100]: connect from mail.alpha.example[192.0.2.10]\n"
	"2026-11-02T10:00:00+00:00 mx1 postfix/smtpd[100]: 1A2B3C4D5E: client=mail.alpha.example[192.0.2.10], sasl_method=PLAIN, sasl_username=alice\n"
	"2026-11-02T10:00:00+00:00 mx1 postfix/cleanup[200]: 1A2B3C4D5E: warning: header Subject: Quarterly Report from mail.alpha.example[192.0.2.10]; from=<a1@alpha.example> to=<r1@one.example> proto=ESMTP helo=<mail.alpha.example>\n"
	"2026-11-02T10:00:00+00:00 mx1 postfix/cleanup[200]: 1A2B3C4D5E: message-id=<m1@alpha.example>\n"
	"2026-11-02T10:00:00+00:00 mx1 postfix/qmgr[300]: 1A2B3C4D5E: from=<a1@alpha.example>, size=1000, nrcpt=2 (queue active)\n"
	"2026-11-02T10:00:00+00:00 mx1 postfix/smtpd[100]: disconnect from mail.alpha.example[192.0.2.10] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6\n"
	"2026-11-02T10:00:01+00:00 mx1 postfix/smtp[400]: 1A2B3C4D5E: to=<r1@one.example>, relay=mx.one.example[198.51.100.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"2026-11-02T10:00:01+00:00 mx1 postfix/smtp[401]: 1A2B3C4D5E: to=<r2@sub.one.example>, relay=mx.sub.one.example[198.51.100.2]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.1.1, status=bounced (host mx.sub.one.example[198.51.100.2] said: 550 5.1.1 no such user (in reply to RCPT TO command))\n"
	"2026-11-02T10:00:01+00:00 mx1 postfix/qmgr[300]: 1A2B3C4D5E: removed\n"
	"2026-11-02T10:10:00+00:00 mx2 postfix/smtpd[110]: connect from unknown[2001:db8::7]\n"
	"2026-11-02T10:10:00+00:00 mx2 postfix/smtpd[110]: 2B3C4D5E6F: client=unknown[2001:db8::7]\n"
	"2026-11-02T10:10:00+00:00 mx2 postfix/cleanup[210]: 2B3C4D5E6F: warning: header Subject: Delivery Status from unknown[2001:db8::7]; from=<> to=<r3@two.example> proto=ESMTP helo=<x>\n"
	"2026-11-02T10:10:00+00:00 mx2 postfix/cleanup[210]: 2B3C4D5E6F: message-id=<m2@mx2.example>\n"
	"2026-11-02T10:10:00+00:00 mx2 postfix/qmgr[310]: 2B3C4D5E6F: from=<>, size=2000, nrcpt=2 (queue active)\n"
	"2026-11-02T10:10:00+00:00 mx2 postfix/smtpd[110]: disconnect from unknown[2001:db8::7] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6\n"
	"2026-11-02T10:10:01+00:00 mx2 postfix/smtp[410]: 2B3C4D5E6F: to=<r3@two.example>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to mx.two.example[198.51.100.3]:25: Connection refused)\n"
	"2026-11-02T10:10:01+00:00 mx2 postfix/local[510]: 2B3C4D5E6F: to=<r4@one.example>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)\n"
	"2026-11-02T10:20:00+00:00 mx1 postfix/smtpd[120]: connect from relay.beta.example[203.0.113.5]\n"
	"2026-11-02T10:20:00+00:00 mx1 postfix/smtpd[120]: 3C4D5E6F70: client=relay.beta.example[203.0.113.5], sasl_method=LOGIN, sasl_username=bob\n"
	"2026-11-02T10:20:00+00:00 mx1 postfix/cleanup[200]: 3C4D5E6F70: warning: header Subject: weekly report from relay.beta.example[203.0.113.5]; from=<b1@mail.beta.example> to=<r5@two.example> proto=ESMTP helo=<relay.beta.example>\n"
	"2026-11-02T10:20:00+00:00 mx1 postfix/cleanup[200]: 3C4D5E6F70: message-id=<m3@beta.example>\n"
	"2026-11-02T10:20:00+00:00 mx1 postfix/qmgr[300]: 3C4D5E6F70: from=<b1@mail.beta.example>, size=3000, nrcpt=2 (queue active)\n"
	"2026-11-02T10:20:00+00:00 mx1 postfix/smtpd[120]: disconnect from relay.beta.example[203.0.113.5] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6\n"
	"2026-11-02T10:20:01+00:00 mx1 postfix/smtp[402]: 3C4D5E6F70: to=<r5@two.example>, relay=mx.two.example[198.51.100.3]:25, delay=1, delays=0/0/0.5/0.5, dsn=5.7.1, status=bounced (host mx.two.example[198.51.100.3] said: 550 5.7.1 refused (in reply to RCPT TO command))\n"
	"2026-11-02T10:20:01+00:00 mx1 postfix/smtp[403]: 3C4D5E6F70: to=<r6@three.example>, relay=mx.three.example[198.51.100.4]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"2026-11-02T10:20:01+00:00 mx1 postfix/qmgr[300]: 3C4D5E6F70: removed\n"
	"2026-11-02T10:30:00+00:00 mx1 postfix/smtpd[130]: connect from unknown[192.0.2.99]\n"
	"2026-11-02T10:30:00+00:00 mx1 postfix/smtpd[130]: NOQUEUE: reject: RCPT from unknown[192.0.2.99]: 550 5.7.1 <r7@one.example>: Recipient address rejected: Access denied; from=<spam@bad.example> to=<r7@one.example> proto=ESMTP helo=<bad.example>\n"
	"2026-11-02T10:30:00+00:00 mx1 postfix/smtpd[130]: disconnect from unknown[192.0.2.99] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4\n";

/* The log indexed into db; the store left open (read-only). */
static pfi_store *known_index(void)
{
	char *log = path_join(dir, "mail.log");
	FILE *fp = fopen(log, "w");
	const char *paths[] = { log };
	pfi_store *st;

	cr_assert_not_null(fp);
	fputs(log_text, fp);
	cr_assert_eq(fclose(fp), 0);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	free(log);
	return st;
}

/* The local parts of the recipients the filter selects, by name, one
 * space between; through pfi_where_new and pfi_where_prepare. */
static char *selected(pfi_store *st, const struct pfi_filter *f)
{
	struct pfi_where *w;
	sqlite3_stmt *s;
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);
	int rc;

	cr_assert_eq(pfi_where_new(&w, st, f), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(pfi_where_prepare(st, "SELECT substr(d.recipient, 1,"
	                               " instr(d.recipient, '@') - 1) AS r FROM"
	                               " deliveries d LEFT JOIN messages m ON"
	                               " m.id = d.message WHERE ", w,
	                               " ORDER BY r", 1, &s), PFI_OK, "%s",
	             pfi_errmsg(st));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fprintf(mem, "%s%s", ftell(mem) ? " " : "",
		        (const char *)sqlite3_column_text(s, 0));
	cr_assert_eq(rc, SQLITE_DONE);
	sqlite3_finalize(s);
	pfi_where_free(w);
	fclose(mem);
	return out;
}

struct fcase {
	char field[16];
	char value[40];
	char want[40];   /* the recipients it selects */
};

static void set_field(struct pfi_filter *f, const char *field,
                      const char *value, const char **status)
{
	memset(f, 0, sizeof(*f));
	if (!strcmp(field, "from")) f->from = value;
	else if (!strcmp(field, "to")) f->to = value;
	else if (!strcmp(field, "domain")) f->domain = value;
	else if (!strcmp(field, "sender_domain")) f->sender_domain = value;
	else if (!strcmp(field, "subject")) f->subject = value;
	else if (!strcmp(field, "dsn")) f->dsn = value;
	else if (!strcmp(field, "client")) f->client = value;
	else if (!strcmp(field, "relay")) f->relay = value;
	else if (!strcmp(field, "host")) f->host = value;
	else if (!strcmp(field, "message_id")) f->message_id = value;
	else if (!strcmp(field, "sasl_user")) f->sasl_user = value;
	else if (!strcmp(field, "grep")) f->grep = value;
	else if (!strcmp(field, "status")) {
		*status = value;
		f->status = status;
		f->nstatus = 1;
	} else
		cr_assert_fail("unknown field %s", field);
}

ParameterizedTestParameters(filter, each_field_selects_exactly_the_rows_it_names)
{
	static struct fcase cases[] = {
		{ "from", "a1@alpha.example", "r1 r2" },
		{ "from", "A1@Alpha.EXAMPLE", "r1 r2" },
		{ "from", "<>", "r3 r4" },
		{ "from", "", "r3 r4" },
		{ "from", "spam@bad.example", "r7" },
		{ "to", "r1@one.example", "r1" },
		{ "to", "R6@Three.Example", "r6" },
		{ "to", "one.example", "" },
		{ "domain", "one.example", "r1 r4 r7" },
		{ "domain", "ONE.example", "r1 r4 r7" },
		{ "domain", "*.one.example", "r1 r2 r4 r7" },
		{ "domain", "sub.one.example", "r2" },
		{ "domain", "example", "" },
		{ "sender_domain", "alpha.example", "r1 r2" },
		{ "sender_domain", "beta.example", "" },
		{ "sender_domain", "*.beta.example", "r5 r6" },
		{ "sender_domain", "bad.example", "r7" },
		{ "subject", "report", "r1 r2 r5 r6" },
		{ "subject", "QUARTERLY", "r1 r2" },
		{ "subject", "status", "r3 r4" },
		{ "status", "sent", "r1 r4 r6" },
		{ "status", "bounced,deferred", "r2 r3 r5" },
		{ "status", "rejected", "r7" },
		{ "status", "expired", "" },
		{ "dsn", "5.1.1", "r2" },
		{ "dsn", "5.*", "r2 r5 r7" },
		{ "dsn", "5.7.*", "r5 r7" },
		{ "dsn", "4.4.1", "r3" },
		{ "client", "192.0.2.10", "r1 r2" },
		{ "client", "192.0.2.0/24", "r1 r2 r7" },
		{ "client", "192.0.2.99/32", "r7" },
		{ "client", "2001:db8::/32", "r3 r4" },
		{ "client", "2001:DB8:0:0:0:0:0:7", "r3 r4" },
		{ "client", "0.0.0.0/0", "r1 r2 r5 r6 r7" },
		{ "client", "mail.alpha.example", "r1 r2" },
		{ "client", "*.beta.example", "r5 r6" },
		{ "client", "unknown", "r3 r4 r7" },
		{ "relay", "mx.one.example", "r1" },
		{ "relay", "198.51.100.3", "r5" },
		{ "relay", "MX.THREE.example", "r6" },
		{ "host", "mx2", "r3 r4" },
		{ "host", "MX1", "r1 r2 r5 r6 r7" },
		{ "message_id", "m3@beta.example", "r5 r6" },
		{ "message_id", "<m3@beta.example>", "r5 r6" },
		{ "message_id", "m3@beta", "" },
		{ "sasl_user", "alice", "r1 r2" },
		{ "sasl_user", "bob", "r5 r6" },
		{ "grep", "Quarterly", "r1 r2" },
		{ "grep", "status=deferred", "r3 r4" },
		{ "grep", "Access (denied|granted)", "r7" },
		{ "grep", "198\\.51\\.100\\.[34]\\]", "r3 r4 r5 r6" },
	};

	return cr_make_param_array(struct fcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fcase *c, filter, each_field_selects_exactly_the_rows_it_names)
{
	pfi_store *st = known_index();
	struct pfi_filter f;
	const char *status;
	char *got;

	set_field(&f, c->field, c->value, &status);
	got = selected(st, &f);
	cr_assert_str_eq(got, c->want, "%s=%s", c->field, c->value);
	free(got);
	pfi_store_close(st);
}

Test(filter, no_filter_selects_every_row_and_is_the_condition_one)
{
	pfi_store *st = known_index();
	struct pfi_filter f = { 0 };
	struct pfi_where *w;
	char *got = selected(st, &f);

	cr_assert_str_eq(got, "r1 r2 r3 r4 r5 r6 r7");
	cr_assert_eq(pfi_where_new(&w, st, &f), PFI_OK);
	cr_assert_str_eq(pfi_where_sql(w), "1");
	pfi_where_free(w);
	free(got);
	pfi_store_close(st);
}

Test(filter, since_is_inclusive_until_exclusive_on_the_rows_time)
{
	static const struct {
		int64_t since, until;
		const char *want;
	} cases[] = {
		{ T0 + SEC, 0, "r1 r2 r3 r4 r5 r6 r7" },
		{ T0 + SEC + 1, 0, "r3 r4 r5 r6 r7" },
		{ 0, T0 + SEC, "" },
		{ 0, T0 + SEC + 1, "r1 r2" },
		{ T0 + 601 * SEC, T0 + 1800 * SEC, "r3 r4 r5 r6" },
		{ T0 + 1800 * SEC, T0 + 1800 * SEC + 1, "r7" },
		{ T0 + 1800 * SEC + 1, 0, "" },
	};
	pfi_store *st = known_index();
	struct pfi_filter f = { 0 };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got;

		f.since = cases[i].since;
		f.until = cases[i].until;
		got = selected(st, &f);
		cr_assert_str_eq(got, cases[i].want, "case %zu", i);
		free(got);
	}
	pfi_store_close(st);
}

Test(filter, fields_together_select_the_rows_that_match_all)
{
	static const char *const sent[] = { "sent", "deferred" };
	pfi_store *st = known_index();
	struct pfi_filter f = { .domain = "one.example", .status = sent,
	                        .nstatus = 1 };
	char *got = selected(st, &f);

	cr_assert_str_eq(got, "r1 r4");
	free(got);
	f.nstatus = 2;
	f.host = "mx2";
	got = selected(st, &f);
	cr_assert_str_eq(got, "r4");
	free(got);
	memset(&f, 0, sizeof(f));
	f.client = "192.0.2.0/24";
	f.dsn = "5.*";
	f.grep = "Access";
	got = selected(st, &f);
	cr_assert_str_eq(got, "r7");
	free(got);
	pfi_store_close(st);
}

Test(filter, parameters_bind_from_the_first_index_given)
{
	pfi_store *st = known_index();
	struct pfi_filter f = { .to = "r5@two.example", .dsn = "5.*",
	                        .since = T0 };
	struct pfi_where *w;
	sqlite3_stmt *s;

	cr_assert_eq(pfi_where_new(&w, st, &f), PFI_OK);
	cr_assert_eq(pfi_where_prepare(st, "SELECT ?1 || ?2, count(*) FROM"
	                               " deliveries d LEFT JOIN messages m ON"
	                               " m.id = d.message WHERE ", w, "", 3, &s),
	             PFI_OK, "%s", pfi_errmsg(st));
	sqlite3_bind_text(s, 1, "x", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, "y", -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "xy");
	cr_assert_eq(sqlite3_column_int(s, 1), 1);
	sqlite3_finalize(s);
	pfi_where_free(w);
	pfi_store_close(st);
}

struct badcase {
	char field[16];
	char value[40];
	char named[16];   /* what the message must name */
};

ParameterizedTestParameters(filter, a_bad_value_is_einval_with_a_message_naming_it)
{
	static struct badcase cases[] = {
		{ "status", "sent,bogus", "bogus" }, { "status", "", "status" },
		{ "dsn", "5", "5" }, { "dsn", "5.1", "5.1" },
		{ "dsn", "6.1.1", "6.1.1" }, { "dsn", "5.1.1.1", "5.1.1.1" },
		{ "client", "10.0.0.0/33", "10.0.0.0/33" },
		{ "client", "2001:db8::/129", "2001:db8::/129" },
		{ "client", "10.0.0/8", "10.0.0/8" },
		{ "grep", "(unclosed", "(unclosed" },
	};

	return cr_make_param_array(struct badcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct badcase *c, filter, a_bad_value_is_einval_with_a_message_naming_it)
{
	pfi_store *st = known_index();
	struct pfi_where *w = (struct pfi_where *)1;
	struct pfi_filter f;
	const char *status;

	set_field(&f, c->field, c->value, &status);
	cr_assert_eq(pfi_where_new(&w, st, &f), PFI_EINVAL);
	cr_assert_null(w);
	cr_assert_not_null(strstr(pfi_errmsg(st), c->named), "%s: %s", c->value,
	                   pfi_errmsg(st));
	pfi_store_close(st);
}
