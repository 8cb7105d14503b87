/*
 * test_search.c - the search stage, pfi_search: every filter, alone and
 * combined, checked against answers derived from testdata/logs (expected.tsv,
 * expected-messages.tsv and the NOQUEUE lines of sample.log, never from
 * pfi itself); time forms and boundaries, IPv4 and IPv6 networks, grep,
 * order and limit, hostile values, and the query plans of selective
 * filters, all through the library's API.  The pfi search command (its
 * options, output formats, exit codes) is tested in test_cli_search.c.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "helpers.h"
#include "store.h"

#define SAMPLE_MTIME 1793664000   /* 2026-11-03 00:00 UTC, after the sample */
#define T_1000 1793613600         /* 2026-11-02T10:00:00Z */
#define MAXROWS 256

static const char *dir;
static char *db;

static void setup(void)
{
	dir = tmpdir_make();
	db = path_join(dir, "index.db");
	setenv("TZ", "UTC", 1);
	tzset();
}

static void teardown(void)
{
	free(db);
	tmpdir_cleanup();
}

TestSuite(search, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* ---- the expected answers ------------------------------------------------ */

/* One message of expected-messages.tsv, or the facts of a NOQUEUE line. */
struct exp_msg {
	char host[16], qid[32], from[96], message_id[128], subject[128];
	char client[96], client_ip[64], sasl[32];
	int nrows, used;   /* rows it owns in expected.tsv, rows given so far */
};

/* One row of expected.tsv and its message. */
struct exp_row {
	char host[16], qid[32], to[96], orig_to[96], status[16], dsn[16];
	const struct exp_msg *msg;   /* NULL if unknown */
};

static struct exp_msg msgs[128];
static struct exp_row rows[MAXROWS];
static size_t nmsgs, nrows;

/* Copies tab-separated field i of line into dst ("-" becomes ""). */
static void field(const char *line, int i, char *dst, size_t size)
{
	size_t n;

	while (i-- > 0 && line)
		line = strchr(line, '\t') ? strchr(line, '\t') + 1 : NULL;
	cr_assert_not_null(line);
	n = strcspn(line, "\t\n");
	if (n == 1 && line[0] == '-')
		n = 0;
	cr_assert_lt(n, size);
	memcpy(dst, line, n);
	dst[n] = '\0';
}

/* The lines of fixture rel after its header, calling fn on each. */
static void each_line(const char *rel, void (*fn)(const char *line))
{
	char *text = slurp(fixture(rel), NULL), *p;

	cr_assert_not_null(text, "missing %s", rel);
	p = strchr(text, '\n');
	for (p = p ? p + 1 : NULL; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		fn(p);
	free(text);
}

static void load_msg(const char *line)
{
	struct exp_msg *m = &msgs[nmsgs++];
	char n[16];

	cr_assert_lt(nmsgs, sizeof(msgs) / sizeof(msgs[0]));
	field(line, 0, m->host, sizeof(m->host));
	field(line, 1, m->qid, sizeof(m->qid));
	field(line, 3, m->from, sizeof(m->from));
	field(line, 4, m->message_id, sizeof(m->message_id));
	field(line, 5, m->subject, sizeof(m->subject));
	field(line, 6, m->client, sizeof(m->client));
	field(line, 7, m->client_ip, sizeof(m->client_ip));
	field(line, 8, m->sasl, sizeof(m->sasl));
	field(line, 12, n, sizeof(n));
	m->nrows = (int)strtol(n, NULL, 10);
}

/* The message a row of (host, qid) belongs to: the first one with that
 * key that has rows left, so a reused queue ID pairs in order. */
static const struct exp_msg *owner(const char *host, const char *qid)
{
	size_t i;

	for (i = 0; i < nmsgs; i++)
		if (strcmp(msgs[i].host, host) == 0 && strcmp(msgs[i].qid, qid) == 0 &&
		    msgs[i].used < msgs[i].nrows) {
			msgs[i].used++;
			return &msgs[i];
		}
	return NULL;
}

static void load_row(const char *line)
{
	struct exp_row *r = &rows[nrows++];

	cr_assert_lt(nrows, MAXROWS);
	field(line, 0, r->host, sizeof(r->host));
	field(line, 1, r->qid, sizeof(r->qid));
	field(line, 2, r->to, sizeof(r->to));
	field(line, 3, r->orig_to, sizeof(r->orig_to));
	field(line, 4, r->status, sizeof(r->status));
	field(line, 5, r->dsn, sizeof(r->dsn));
	r->msg = r->qid[0] ? owner(r->host, r->qid) : NULL;
}

/* Copies the text after `key` up to a char of `stop` into dst. */
static void after(const char *line, const char *key, const char *stop,
                  char *dst, size_t size)
{
	const char *p = strstr(line, key);
	size_t n = p ? strcspn(p + strlen(key), stop) : 0;

	cr_assert_lt(n, size);
	memcpy(dst, p ? p + strlen(key) : "", n);
	dst[n] = '\0';
}

/* A NOQUEUE reject line of sample.log: the facts of its expected row. */
static void load_noqueue(const char *line)
{
	struct exp_msg *m;
	char to[96], *nl = strchr(line, '\n');
	size_t i, len = nl ? (size_t)(nl - line) : strlen(line);
	char buf[1024];

	if (len >= sizeof(buf))
		return;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (strstr(buf, "NOQUEUE: reject: ") == NULL)
		return;
	m = &msgs[nmsgs++];
	memset(m, 0, sizeof(*m));
	after(buf + 16, "", " ", m->host, sizeof(m->host));
	after(buf, "from=<", ">", m->from, sizeof(m->from));
	after(buf, "to=<", ">", to, sizeof(to));
	after(buf, "RCPT from ", "[", m->client, sizeof(m->client));
	after(buf, "RCPT from ", "]", m->client_ip, sizeof(m->client_ip));
	memmove(m->client_ip, m->client_ip + strlen(m->client) + 1,
	        strlen(m->client_ip) - strlen(m->client));
	for (i = 0; i < nrows; i++)
		if (!rows[i].qid[0] && strcmp(rows[i].to, to) == 0 &&
		    strcmp(rows[i].host, m->host) == 0)
			rows[i].msg = m;
}

static void load_expected(void)
{
	nmsgs = nrows = 0;
	each_line("logs/expected-messages.tsv", load_msg);
	each_line("logs/expected.tsv", load_row);
	each_line("logs/sample.log", load_noqueue);
}

/* ---- what a filter should select, by the expected files ------------------- */

static int domain_is(const char *addr, const char *want)
{
	const char *at = strrchr(addr, '@'), *d = at ? at + 1 : NULL;
	size_t n, k;

	if (d == NULL)
		return 0;
	if (strncmp(want, "*.", 2) != 0)
		return strcasecmp(d, want) == 0;
	want += 2;
	n = strlen(d);
	k = strlen(want);
	return strcasecmp(d, want) == 0 ||
	       (n > k && d[n - k - 1] == '.' && strcasecmp(d + n - k, want) == 0);
}

static int has_ci(const char *s, const char *sub)
{
	return strcasestr(s, sub) != NULL;
}

/* Whether DSN d matches pattern p ("5.1.1", "5.1.*", "5.*"). */
static int dsn_is(const char *d, const char *p)
{
	size_t n = strlen(p);

	if (n > 0 && p[n - 1] == '*')
		return strncmp(d, p, n - 1) == 0;
	return strcmp(d, p) == 0;
}

/* Whether status s is in the comma list. */
static int status_in(const char *s, const char *list)
{
	size_t n = strlen(s);
	const char *p = list;

	for (; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, s, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

static int row_matches(const struct exp_row *r, const char *f, const char *v)
{
	const struct exp_msg *m = r->msg;

	if (strcmp(f, "to") == 0)
		return !strcasecmp(r->to, v) || !strcasecmp(r->orig_to, v);
	if (strcmp(f, "domain") == 0)
		return domain_is(r->to, v);
	if (strcmp(f, "status") == 0)
		return status_in(r->status, v);
	if (strcmp(f, "dsn") == 0)
		return dsn_is(r->dsn, v);
	if (strcmp(f, "host") == 0)
		return !strcasecmp(r->host, v);
	if (m == NULL)
		return 0;
	if (strcmp(f, "from") == 0)
		return !strcasecmp(m->from, strcmp(v, "<>") ? v : "");
	if (strcmp(f, "sender_domain") == 0)
		return domain_is(m->from, v);
	if (strcmp(f, "subject") == 0)
		return has_ci(m->subject, v);
	if (strcmp(f, "client") == 0)
		return !strcasecmp(m->client, v) || !strcmp(m->client_ip, v);
	if (strcmp(f, "message_id") == 0)
		return !strcmp(m->message_id, v);
	if (strcmp(f, "sasl_user") == 0)
		return !strcasecmp(m->sasl, v);
	cr_assert_fail("no expectation for filter %s", f);
	return 0;
}

/* ---- running searches ------------------------------------------------------ */

/* A filter case: up to three (field, value) pairs. */
struct fcase {
	char f[3][16];
	char v[3][64];
};

static void set_filter(struct pfi_filter *flt, const char *f, const char *v,
                       const char **status)
{
	if (!strcmp(f, "from")) flt->from = v;
	else if (!strcmp(f, "to")) flt->to = v;
	else if (!strcmp(f, "domain")) flt->domain = v;
	else if (!strcmp(f, "sender_domain")) flt->sender_domain = v;
	else if (!strcmp(f, "subject")) flt->subject = v;
	else if (!strcmp(f, "dsn")) flt->dsn = v;
	else if (!strcmp(f, "client")) flt->client = v;
	else if (!strcmp(f, "host")) flt->host = v;
	else if (!strcmp(f, "message_id")) flt->message_id = v;
	else if (!strcmp(f, "sasl_user")) flt->sasl_user = v;
	else if (!strcmp(f, "status")) {
		*status = v;
		flt->status = status;
		flt->nstatus = 1;
	} else
		cr_assert_fail("unknown filter field %s", f);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted "host|qid|to|status" keys, one per line, in a malloc'd text. */
static char *join_keys(char **keys, size_t n)
{
	size_t i, len = 1;
	char *out;

	qsort(keys, n, sizeof(*keys), cmp_str);
	for (i = 0; i < n; i++)
		len += strlen(keys[i]) + 1;
	out = calloc(1, len);
	for (i = 0; i < n; i++) {
		memcpy(out + strlen(out), keys[i], strlen(keys[i]));
		memcpy(out + strlen(out), "\n", 2);
		free(keys[i]);
	}
	return out;
}

static char *key_of(const char *host, const char *qid, const char *to,
                    const char *status)
{
	char *k = NULL;

	cr_assert_neq(asprintf(&k, "%s|%s|%s|%s", host ? host : "",
	                       qid && qid[0] ? qid : "-", to ? to : "", status), -1);
	return k;
}

/* Search options for filter f (the last made: a single thread). */
static const struct pfi_search_opts *search_opts(const struct pfi_filter *f,
                                                 int64_t limit, int reverse)
{
	static struct pfi_search_opts o;

	o.version = PFI_SEARCH_OPTIONS_VERSION;
	o.filter = f;
	o.limit = limit;
	o.reverse = reverse;
	return &o;
}

/* The keys pfi_search returns for filter f, and checks count agrees. */
static char *search_keys(pfi_store *st, const struct pfi_filter *f)
{
	char *keys[MAXROWS];
	const struct pfi_delivery *d;
	pfi_search *q;
	size_t n = 0;
	int64_t count = -1;
	int rc;

	rc = pfi_search_new(&q, st, search_opts(f, 0, 0));
	cr_assert_eq(rc, PFI_OK, "search: %s", pfi_errmsg(st));
	while ((rc = pfi_search_next(q, &d)) == PFI_OK) {
		cr_assert_lt(n, MAXROWS);
		keys[n++] = key_of(d->host, d->queue_id, d->to, d->status);
	}
	cr_assert_eq(rc, PFI_EOF, "next: %s", pfi_errmsg(st));
	pfi_search_free(q);
	cr_assert_eq(pfi_search_count(st, search_opts(f, 0, 0), &count), PFI_OK);
	cr_assert_eq(count, (int64_t)n, "count %lld, rows %zu", (long long)count, n);
	return join_keys(keys, n);
}

/* The keys of the expected rows that match every pair of c. */
static char *expected_keys(const struct fcase *c, size_t *n)
{
	char *keys[MAXROWS];
	size_t i, j;
	int ok;

	*n = 0;
	for (i = 0; i < nrows; i++) {
		for (ok = 1, j = 0; j < 3 && ok && c->f[j][0]; j++)
			ok = row_matches(&rows[i], c->f[j], c->v[j]);
		if (ok)
			keys[(*n)++] = key_of(rows[i].host, rows[i].qid, rows[i].to,
			                      rows[i].status);
	}
	return join_keys(keys, *n);
}

/* The sample log indexed into db, the store left open. */
static pfi_store *index_sample(void)
{
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	const char *paths[] = { log };
	pfi_store *st = index_into(db, paths, 1, NULL);

	free(log);
	return st;
}

/* ---- every filter against the expected files -------------------------------- */

ParameterizedTestParameters(search, each_filter_selects_exactly_the_expected_rows)
{
	static struct fcase cases[] = {
		{ { "from" }, { "hr@partner.example" } },
		{ { "from" }, { "HR@Partner.EXAMPLE" } },
		{ { "from" }, { "<>" } },
		{ { "from" }, { "promo@deals.example" } },
		{ { "to" }, { "alice@example.com" } },
		{ { "to" }, { "fwd@example.com" } },
		{ { "to" }, { "Bob@Example.COM" } },
		{ { "domain" }, { "example.org" } },
		{ { "domain" }, { "PARTNER.example" } },
		{ { "domain" }, { "*.example" } },
		{ { "domain" }, { "*.partner.example" } },
		{ { "sender_domain" }, { "partner.example" } },
		{ { "sender_domain" }, { "*.sender.example" } },
		{ { "subject" }, { "welcome" } },
		{ { "subject" }, { "from lisbon" } },
		{ { "status" }, { "rejected" } },
		{ { "status" }, { "bounced,expired" } },
		{ { "status" }, { "deferred" } },
		{ { "status" }, { "held,discarded,deleted,filtered" } },
		{ { "dsn" }, { "5.1.1" } },
		{ { "dsn" }, { "5.*" } },
		{ { "dsn" }, { "4.4.*" } },
		{ { "dsn" }, { "4.7.25" } },
		{ { "client" }, { "203.0.113.5" } },
		{ { "client" }, { "mail.sender.example" } },
		{ { "client" }, { "unknown" } },
		{ { "client" }, { "203.0.113.66" } },
		{ { "host" }, { "mx2" } },
		{ { "host" }, { "MX1" } },
		{ { "message_id" }, { "20261102090001.a1542a9f@partner.example" } },
		{ { "sasl_user" }, { "alice" } },
		{ { "domain", "status", "host" }, { "example.com", "sent", "mx1" } },
		{ { "from", "domain" }, { "carol@example.com", "partner.example" } },
		{ { "dsn", "status" }, { "5.1.1", "rejected" } },
		{ { "client", "to" }, { "unknown", "grace@example.org" } },
		{ { "to" }, { "nobody@nowhere.example" } },
	};

	return cr_make_param_array(struct fcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fcase *c, search, each_filter_selects_exactly_the_expected_rows)
{
	struct pfi_filter f;
	const char *status = NULL;
	pfi_store *st = index_sample();
	char *want, *got;
	size_t n, j;

	load_expected();
	memset(&f, 0, sizeof(f));
	for (j = 0; j < 3 && c->f[j][0]; j++)
		set_filter(&f, c->f[j], c->v[j], &status);
	want = expected_keys(c, &n);
	got = search_keys(st, &f);
	cr_assert_str_eq(got, want, "%s=%s: got\n%s\nwant\n%s", c->f[0], c->v[0],
	                 got, want);
	if (strcmp(c->v[0], "nobody@nowhere.example") != 0)
		cr_assert_gt(n, 0, "the case selects something");
	free(want);
	free(got);
	pfi_store_close(st);
}

Test(search, message_id_matches_with_or_without_angle_brackets)
{
	struct pfi_filter f = { .message_id = "<20261102090001.a1542a9f@partner.example>" };
	pfi_store *st = index_sample();
	int64_t n = -1;

	cr_assert_eq(pfi_search_count(st, search_opts(&f, 0, 0), &n), PFI_OK);
	cr_assert_eq(n, 1);
	pfi_store_close(st);
}

Test(search, status_counts_equal_the_expected_summary)
{
	static const char *const names[] = { "sent", "deferred", "bounced",
		"expired", "rejected", "discarded", "held", "deleted", "filtered" };
	char *sum = slurp(fixture("logs/expected-summary.txt"), NULL), key[32];
	pfi_store *st = index_sample();
	struct pfi_filter f;
	int64_t n, total = 0, all = -1;
	size_t i;

	cr_assert_not_null(sum);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&f, 0, sizeof(f));
		f.status = &names[i];
		f.nstatus = 1;
		cr_assert_eq(pfi_search_count(st, search_opts(&f, 0, 0), &n), PFI_OK);
		snprintf(key, sizeof(key), "status_%s=", names[i]);
		cr_assert_not_null(strstr(sum, key));
		cr_assert_eq(n, strtoll(strstr(sum, key) + strlen(key), NULL, 10),
		             "%s", names[i]);
		total += n;
	}
	memset(&f, 0, sizeof(f));
	cr_assert_eq(pfi_search_count(st, search_opts(&f, 0, 0), &all), PFI_OK);
	cr_assert_eq(all, total);
	cr_assert_eq(all, strtoll(strstr(sum, "\ndeliveries=") + 12, NULL, 10));
	free(sum);
	pfi_store_close(st);
}

Test(search, relay_matches_by_host_name_or_address)
{
	static const char *const relays[] = { "mx2.example.com", "192.0.2.12",
	                                      "MX2.example.com" };
	pfi_store *st = index_sample();
	struct pfi_filter f;
	char *got;
	size_t i;

	for (i = 0; i < 3; i++) {
		memset(&f, 0, sizeof(f));
		f.relay = relays[i];
		got = search_keys(st, &f);
		cr_assert_str_eq(got, "mx1|AD92B1161BF|frank@example.org|sent\n",
		                 "%s", relays[i]);
		free(got);
	}
	f.relay = "127.0.0.1";
	got = search_keys(st, &f);
	cr_assert_str_eq(got, "mx1|74C0F1161B2|carol@example.com|filtered\n"
	                 "mx1|74C0F1161B2|dave@example.com|filtered\n");
	free(got);
	pfi_store_close(st);
}

/* ---- --grep ------------------------------------------------------------------ */

/* Keys of the expected rows whose message (or NOQUEUE line) has a line
 * of sample.log containing `text`. */
static char *grep_expected(const char *text)
{
	char *log = slurp(fixture("logs/sample.log"), NULL), *p, *nl, *keys[MAXROWS];
	char host[64], qid[256], to[256], hit[MAXROWS] = { 0 };
	size_t n = 0, i;

	load_expected();
	for (p = log; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (strstr(p, text) == NULL)
			continue;
		after(p + 16, "", " ", host, sizeof(host));
		after(p, "]: ", ":", qid, sizeof(qid));
		after(p, "to=<", ">", to, sizeof(to));
		for (i = 0; i < nrows; i++)
			if (!strcmp(rows[i].host, host) &&
			    (strcmp(qid, "NOQUEUE") ? !strcmp(rows[i].qid, qid)
			                            : !rows[i].qid[0] && !strcmp(rows[i].to, to)))
				hit[i] = 1;
	}
	for (i = 0; i < nrows; i++)
		if (hit[i])
			keys[n++] = key_of(rows[i].host, rows[i].qid, rows[i].to,
			                   rows[i].status);
	free(log);
	return join_keys(keys, n);
}

struct gcase {
	char regex[64];   /* what --grep gets */
	char text[64];    /* the literal text it finds in the log */
};

ParameterizedTestParameters(search, grep_selects_rows_whose_log_lines_match)
{
	static struct gcase cases[] = {
		{ "sasl_method=(PLAIN|LOGIN)", "sasl_method=PLAIN" },
		{ "Relay access denied", "Relay access denied" },
		{ "Protocol\\s+error", "Protocol error" },
		{ "status=bounced \\(", "status=bounced (" },
		{ "dead\\.example", "dead.example" },
	};

	return cr_make_param_array(struct gcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct gcase *c, search, grep_selects_rows_whose_log_lines_match)
{
	struct pfi_filter f = { .grep = c->regex };
	pfi_store *st = index_sample();
	char *want = grep_expected(c->text), *got = search_keys(st, &f);

	cr_assert_neq(want[0], '\0', "the case selects something");
	cr_assert_str_eq(got, want, "%s: got\n%s\nwant\n%s", c->regex, got, want);
	free(want);
	free(got);
	pfi_store_close(st);
}

/* ---- bad filter values --------------------------------------------------------- */

struct badcase {
	char field[16];
	char value[48];
};

ParameterizedTestParameters(search, a_bad_filter_value_is_einval_naming_it)
{
	static struct badcase cases[] = {
		{ "status", "sent,bogus" }, { "status", "" }, { "dsn", "5" },
		{ "dsn", "5.1" }, { "dsn", "x.1.1" }, { "dsn", "5.1.1.1" },
		{ "dsn", "6.1.1" }, { "client", "10.0.0.0/33" },
		{ "client", "2001:db8::/129" }, { "client", "10.0.0/8" },
		{ "client", "host/8" }, { "client", "10.0.0.0/" },
		{ "grep", "(unclosed" }, { "grep", "a{2,1}" },
	};

	return cr_make_param_array(struct badcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct badcase *c, search, a_bad_filter_value_is_einval_naming_it)
{
	struct pfi_filter f;
	const char *status = NULL;
	pfi_store *st = index_sample();
	pfi_search *q = (pfi_search *)1;
	const char *bad;
	int64_t n;

	memset(&f, 0, sizeof(f));
	if (strcmp(c->field, "grep") == 0)
		f.grep = c->value;
	else
		set_filter(&f, c->field, c->value, &status);
	cr_assert_eq(pfi_search_new(&q, st, search_opts(&f, 0, 0)), PFI_EINVAL);
	cr_assert_null(q);
	bad = strrchr(c->value, ',') ? strrchr(c->value, ',') + 1 : c->value;
	cr_assert_not_null(strstr(pfi_errmsg(st), bad), "%s", pfi_errmsg(st));
	cr_assert_eq(pfi_search_count(st, search_opts(&f, 0, 0), &n), PFI_EINVAL);
	pfi_store_close(st);
}

/* ---- order and limit ---------------------------------------------------------- */

Test(search, rows_come_newest_first_or_oldest_first_with_reverse)
{
	struct pfi_filter f = { 0 };
	const struct pfi_delivery *d;
	pfi_store *st = index_sample();
	pfi_search *q;
	int64_t prev;
	int rev, n;

	for (rev = 0; rev < 2; rev++) {
		cr_assert_eq(pfi_search_new(&q, st, search_opts(&f, 0, rev)), PFI_OK);
		prev = rev ? 0 : INT64_MAX;
		for (n = 0; pfi_search_next(q, &d) == PFI_OK; n++) {
			cr_assert(rev ? d->time >= prev : d->time <= prev);
			prev = d->time;
		}
		cr_assert_eq(n, 105);
		pfi_search_free(q);
	}
	cr_assert_eq(pfi_search_new(&q, st, search_opts(&f, 3, 1)), PFI_OK);
	for (n = 0; pfi_search_next(q, &d) == PFI_OK; n++)
		;
	cr_assert_eq(n, 3);
	pfi_search_free(q);
	pfi_store_close(st);
}

Test(search, a_row_carries_the_message_facts_and_the_null_sender_is_empty)
{
	struct pfi_filter f = { .to = "bob@example.com", .from = "<>" };
	const struct pfi_delivery *d;
	pfi_store *st = index_sample();
	pfi_search *q;

	cr_assert_eq(pfi_search_new(&q, st, search_opts(&f, 0, 0)), PFI_OK);
	cr_assert_eq(pfi_search_next(q, &d), PFI_OK);
	cr_assert_str_eq(d->queue_id, "D220A1161DD");
	cr_assert_str_eq(d->from, "");
	cr_assert_str_eq(d->domain, "example.com");
	cr_assert_eq(d->size, 3290);
	cr_assert_str_eq(d->message_id, "20261102090137.D220A1161DD@mx1.example.com");
	cr_assert_eq(pfi_search_next(q, &d), PFI_EOF);
	pfi_search_free(q);
	pfi_store_close(st);
}

/* ---- query plans ---------------------------------------------------------------- */

/* The EXPLAIN QUERY PLAN details of a search with filter f, one a line. */
static char *plan_of(pfi_store *st, const struct pfi_filter *f)
{
	struct pfi_where *w;
	sqlite3_stmt *s;
	char *sql = NULL, *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	cr_assert_eq(pfi_where_new(&w, st, f), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_neq(asprintf(&sql, "EXPLAIN QUERY PLAN SELECT d.time, m.sender"
	                       " FROM deliveries d LEFT JOIN messages m ON"
	                       " m.id = d.message WHERE %s ORDER BY d.time DESC,"
	                       " d.id DESC LIMIT ?", pfi_where_sql(w)), -1);
	cr_assert_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK,
	             "%s: %s", sql, sqlite3_errmsg(st->db));
	sqlite3_bind_int64(s, pfi_where_bind(w, s, 1), -1);
	while (sqlite3_step(s) == SQLITE_ROW)
		fprintf(mem, "%s\n", (const char *)sqlite3_column_text(s, 3));
	sqlite3_finalize(s);
	fclose(mem);
	pfi_where_free(w);
	free(sql);
	return out;
}

Test(search, selective_filters_use_an_index_not_a_scan)
{
	struct pfi_filter to = { .to = "bob@example.com" };
	struct pfi_filter mid = { .message_id = "<x@y.example>" };
	struct pfi_filter dom = { .domain = "example.com", .since = 1 };
	pfi_store *st = index_sample();
	char *p;

	p = plan_of(st, &to);
	cr_assert_null(strstr(p, "SCAN d"), "%s", p);
	cr_assert_not_null(strstr(p, "deliveries_recipient_nocase"), "%s", p);
	free(p);
	p = plan_of(st, &mid);
	cr_assert_null(strstr(p, "SCAN d"), "%s", p);
	cr_assert_not_null(strstr(p, "messages_message_id"), "%s", p);
	free(p);
	p = plan_of(st, &dom);
	cr_assert_null(strstr(p, "SCAN d"), "%s", p);
	cr_assert_not_null(strstr(p, "deliveries_domain"), "%s", p);
	free(p);
	pfi_store_close(st);
}

Test(search, where_parameters_number_from_the_first_given)
{
	struct pfi_filter f = { .to = "a@b", .dsn = "5.*", .since = 5 };
	pfi_store *st = index_sample();
	struct pfi_where *w;
	sqlite3_stmt *s;
	char *sql = NULL;

	cr_assert_eq(pfi_where_new(&w, st, &f), PFI_OK);
	cr_assert_neq(asprintf(&sql, "SELECT ?1 || ?2, count(*) FROM deliveries d"
	                       " LEFT JOIN messages m ON m.id = d.message WHERE %s",
	                       pfi_where_sql(w)), -1);
	cr_assert_eq(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, "x", -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, "y", -1, SQLITE_STATIC);
	cr_assert_eq(pfi_where_bind(w, s, 3), 3 + 4);
	cr_assert_eq(sqlite3_bind_parameter_count(s), 6);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(s, 0), "xy");
	cr_assert_eq(sqlite3_column_int(s, 1), 0);
	sqlite3_finalize(s);
	pfi_where_free(w);
	free(sql);
	pfi_store_close(st);
}

Test(search, an_empty_filter_is_the_condition_one)
{
	struct pfi_filter f = { 0 };
	pfi_store *st = index_sample();
	struct pfi_where *w;

	cr_assert_eq(pfi_where_new(&w, st, &f), PFI_OK);
	cr_assert_str_eq(pfi_where_sql(w), "1");
	pfi_where_free(w);
	pfi_store_close(st);
}

/* ---- time bounds and networks: a tiny log with known times ------------- */

/* Writes a NOQUEUE reject at time t from client NAME[IP] into fp. */
static void reject_line(FILE *fp, int64_t t, const char *host, const char *name,
                        const char *ip, const char *to, const char *reason)
{
	char ts[64];

	pfi_time_format(ts, sizeof(ts), t * 1000000, 1);
	fprintf(fp, "%s %s postfix/smtpd[100]: NOQUEUE: reject: RCPT from %s[%s]:"
	        " 550 5.1.1 <%s>: %s; from=<s@y.example> to=<%s> proto=ESMTP"
	        " helo=<h>\n", ts, host, name, ip, to, reason, to);
}

/* Indexes the log at path into db. */
static void index_log(const char *path)
{
	const char *paths[] = { path };

	pfi_store_close(index_into(db, paths, 1, NULL));
}

/* Indexes a log of rejects at T_1000 + offsets (seconds). */
static void index_tiny(void)
{
	char *log = path_join(dir, "tiny.log");
	FILE *fp = fopen(log, "w");

	cr_assert_not_null(fp);
	reject_line(fp, T_1000 - 1, "mx1", "unknown", "192.0.2.1", "a@x.example", "no");
	reject_line(fp, T_1000, "mx1", "v6.example", "2001:db8::5", "b@x.example", "no");
	reject_line(fp, T_1000 + 1, "mx1", "unknown", "2001:db8:1::7", "c@x.example", "no");
	reject_line(fp, T_1000 + 1800, "mx2", "unknown", "2001:db9::1", "d@x.example",
	            "bad \033[2J\033]0;title\007 text");
	reject_line(fp, T_1000 + 50400, "mx2", "m.example", "::ffff:192.0.2.9",
	            "e@x.example", "mapped");
	fclose(fp);
	index_log(log);
	free(log);
}

/* The number of rows of db that filter f selects. */
static int64_t count_where(const struct pfi_filter *f)
{
	pfi_store *st = NULL;
	int64_t n = -1;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK, "%s",
	             pfi_errmsg(st));
	cr_assert_eq(pfi_search_count(st, search_opts(f, 0, 0), &n), PFI_OK,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	return n;
}

/* The time `spec` names at `now`, which must parse. */
static int64_t time_at(const char *spec, time_t now)
{
	int64_t t = 0;

	cr_assert_eq(pfi_time_parse(&t, spec, now), PFI_OK, "'%s'", spec);
	return t;
}

/* The number of rows from `since` to `until` (NULL: no bound) at `now`. */
static int64_t count_between(const char *since, const char *until, time_t now)
{
	struct pfi_filter f = { 0 };

	if (since)
		f.since = time_at(since, now);
	if (until)
		f.until = time_at(until, now);
	return count_where(&f);
}

struct tcase {
	char bound[8];   /* "since" or "until" */
	char when[40];
	long want;       /* rows of the tiny log */
};

ParameterizedTestParameters(search, every_absolute_time_form_bounds_the_rows)
{
	static struct tcase cases[] = {
		{ "since", "2026-11-02T10:00", 4 },
		{ "until", "2026-11-02T10:00", 1 },
		{ "since", "2026-11-02T10:00:00Z", 4 },
		{ "since", "2026-11-02 10:00:01", 3 },
		{ "until", "2026-11-02 10:00:01", 2 },
		{ "since", "2026-11-02T11:00:00+01:00", 4 },
		{ "since", "2026-11-02T10:00:01.000000+00:00", 3 },
		{ "since", "@1793613600", 4 },
		{ "until", "@1793613601", 2 },
		{ "since", "2026-11-03", 1 },
		{ "until", "2026-11-03", 4 },
		{ "since", "2026-11-02", 5 },
	};

	return cr_make_param_array(struct tcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct tcase *c, search, every_absolute_time_form_bounds_the_rows)
{
	int since = strcmp(c->bound, "since") == 0;

	index_tiny();
	cr_assert_eq(count_between(since ? c->when : NULL, since ? NULL : c->when,
	                           time(NULL)), c->want, "%s %s", c->bound, c->when);
}

/* The rows from since to until, in seconds (0: no bound). */
static int64_t count_secs(int64_t since, int64_t until)
{
	struct pfi_filter f = { .since = since * 1000000, .until = until * 1000000 };

	return count_where(&f);
}

Test(search, since_is_inclusive_and_until_exclusive)
{
	index_tiny();
	cr_assert_eq(count_secs(T_1000, T_1000 + 1), 1);
	cr_assert_eq(count_secs(T_1000, T_1000), 0);
	cr_assert_eq(count_secs(T_1000 + 1, T_1000), 0);
	cr_assert_eq(count_secs(T_1000, 0), 4);
	cr_assert_eq(count_secs(0, T_1000), 1);
}

Test(search, relative_time_forms_count_back_from_now)
{
	static const int64_t ago[] = { 30, 600, 5400, 2 * 86400, 5 * 86400, 10 * 86400 };
	static const char *const forms[] = { "60s", "15m", "2h", "3d", "1w" };
	char *log = path_join(dir, "now.log");
	int64_t now = time(NULL), midnight = now - now % 86400;   /* TZ=UTC */
	long today = 0, yesterday = 0;
	FILE *fp = fopen(log, "w");
	size_t i;

	cr_assert_not_null(fp);
	for (i = 0; i < 6; i++) {
		reject_line(fp, now - ago[i], "mx1", "unknown", "192.0.2.1",
		            "a@x.example", "no");
		today += now - ago[i] >= midnight;
		yesterday += now - ago[i] >= midnight - 86400;
	}
	fclose(fp);
	index_log(log);
	/* The forms are read at the `now` the log was written for. */
	for (i = 0; i < 5; i++)
		cr_assert_eq(count_between(forms[i], NULL, now), (long)i + 1, "%s",
		             forms[i]);
	cr_assert_eq(count_between("today", NULL, now), today);
	cr_assert_eq(count_between("yesterday", NULL, now), yesterday);
	cr_assert_eq(count_between("yesterday", "today", now), yesterday - today);
	free(log);
}

struct ncase {
	char client[48];
	long want;
};

ParameterizedTestParameters(search, client_networks_match_ipv4_and_ipv6)
{
	static struct ncase cases[] = {
		{ "2001:db8::/32", 2 }, { "2001:db8::/48", 1 }, { "2001:DB8:0::5", 1 },
		{ "2001:db8:0:0:0:0:0:5", 1 }, { "2001:db8::/31", 3 },
		{ "2001:db8:1::/64", 1 }, { "::/0", 4 }, { "192.0.2.0/24", 2 },
		{ "192.0.2.1", 1 }, { "192.0.2.9/32", 1 }, { "0.0.0.0/0", 2 },
		{ "192.0.3.0/24", 0 }, { "v6.example", 1 }, { "*.example", 2 },
		{ "V6.EXAMPLE", 1 }, { "unknown", 3 },
	};

	return cr_make_param_array(struct ncase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ncase *c, search, client_networks_match_ipv4_and_ipv6)
{
	struct pfi_filter f = { .client = c->client };

	index_tiny();
	cr_assert_eq(count_where(&f), c->want, "%s", c->client);
}

/* ---- hostile values ------------------------------------------------------------ */

Test(search, hostile_looking_values_are_only_data)
{
	static const struct { const char *field, *value; } cases[] = {
		{ "to", "x' OR 1=1 --" },
		{ "from", "' OR ''='" },
		{ "subject", "%" },
		{ "subject", "_" },
		{ "domain", "*._xample.com" },
		{ "relay", "%" },
		{ "host", "mx1\"; DROP TABLE deliveries; --" },
		{ "message_id", "' OR 1=1 --" },
		{ "sasl_user", "%" },
	};
	pfi_store *st = index_sample();
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pfi_filter f = { 0 };
		const char *status = NULL;
		int64_t n = -1;

		if (strcmp(cases[i].field, "relay") == 0)
			f.relay = cases[i].value;
		else
			set_filter(&f, cases[i].field, cases[i].value, &status);
		cr_assert_eq(pfi_search_count(st, search_opts(&f, 0, 0), &n), PFI_OK,
		             "%s: %s", cases[i].field, pfi_errmsg(st));
		cr_assert_eq(n, 0, "%s %s", cases[i].field, cases[i].value);
	}
	pfi_store_close(st);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM deliveries"), 105);
}

/* ---- versioned options --------------------------------------------------------- */

Test(search, options_of_a_version_this_library_does_not_know_are_refused)
{
	struct pfi_search_opts so = PFI_SEARCH_OPTIONS_INIT;
	struct pfi_stats_opts to = PFI_STATS_OPTIONS_INIT;
	struct pfi_metrics_opts mo = PFI_METRICS_OPTIONS_INIT;
	pfi_store *st = index_sample();
	struct pfi_stats *s = NULL;
	pfi_metrics *m = NULL;
	pfi_search *q = NULL;
	int64_t n = -1;
	unsigned int v[] = { 0, PFI_SEARCH_OPTIONS_VERSION + 1 };
	size_t i;

	for (i = 0; i < 2; i++) {
		so.version = to.version = mo.version = v[i];
		cr_expect_eq(pfi_search_new(&q, st, &so), PFI_EINVAL);
		cr_expect_null(q);
		cr_expect(strstr(pfi_errmsg(st), "struct pfi_search_opts"), "%s",
		          pfi_errmsg(st));
		cr_expect_eq(pfi_search_count(st, &so, &n), PFI_EINVAL);
		cr_expect_eq(pfi_stats_new(&s, st, &to), PFI_EINVAL);
		cr_expect_null(s);
		cr_expect_eq(pfi_metrics_new(&m, st, &mo), PFI_EINVAL);
		cr_expect_null(m);
	}
	/* No options at all: the defaults, every row. */
	cr_expect_eq(pfi_search_count(st, NULL, &n), PFI_OK);
	cr_expect_eq(n, 105);
	cr_expect_eq(pfi_stats_new(&s, st, NULL), PFI_OK, "%s", pfi_errmsg(st));
	pfi_stats_free(s);
	cr_expect_eq(pfi_metrics_new(&m, st, NULL), PFI_OK, "%s", pfi_errmsg(st));
	pfi_metrics_free(m);
	pfi_store_close(st);
}
