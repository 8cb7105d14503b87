/*
 * test_stats.c - the stats stage, pfi_stats_new(): every figure on
 * testdata/logs/sample.log against answers derived here from
 * expected.tsv and expected-messages.tsv (not from pfi), nearest-rank
 * percentiles on small logs whose delays are known by construction, the
 * no-double-count rules, by[] rows that add up to the totals, periods
 * (the half hours that test_cli_stats.c's --compare tests rely on), the
 * per-hour cells, all through the library's API.  The pfi stats command
 * (--compare, exit codes, charts, formats) is tested in test_cli_stats.c.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "helpers.h"

/* 2026-11-03 00:00:00 UTC: after the last line of the sample logs. */
#define SAMPLE_MTIME 1793664000
/* 2026-11-02 09:00, 10:00 and 11:00 UTC, in microseconds. */
#define T0900 INT64_C(1793610000000000)
#define T1000 INT64_C(1793613600000000)
#define T1100 INT64_C(1793617200000000)

static void setup(void)
{
	tmpdir_make();
	setenv("TZ", "UTC", 1);
	tzset();
}

static void teardown(void) { tmpdir_cleanup(); }

TestSuite(stats, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* ---- fixtures --------------------------------------------------------------- */

static char *sample_db(void)
{
	const char *dir = tmpdir_make();
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	char *db = path_join(dir, "sample.db");
	const char *paths[] = { log };

	pfi_store_close(index_into(db, paths, 1, NULL));
	free(log);
	return db;
}

/* Writes `text` as a log with the sample mtime and indexes it. */
static char *text_db(const char *text)
{
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "hand.log"), *db = path_join(dir, "hand.db");
	const char *paths[] = { log };
	char cmd[4096];
	FILE *fp = fopen(log, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "touch -d @%d '%s'", SAMPLE_MTIME, log);
	cr_assert_eq(system(cmd), 0);
	pfi_store_close(index_into(db, paths, 1, NULL));
	free(log);
	return db;
}

static struct pfi_stats *stats_of(const char *db, const struct pfi_filter *f,
                                  enum pfi_stats_by by, double sla)
{
	struct pfi_stats_opts o = { .version = PFI_STATS_OPTIONS_VERSION, .filter = f, .by = by, .sla = sla, .utc = 1 };
	struct pfi_stats *s = NULL;
	pfi_store *st = NULL;
	int rc = pfi_store_open(&st, db, PFI_OPEN_READONLY);

	cr_assert_eq(rc, PFI_OK, "open: %s", pfi_errmsg(st));
	rc = pfi_stats_new(&s, st, &o);
	cr_assert_eq(rc, PFI_OK, "stats: %s", pfi_errmsg(st));
	pfi_store_close(st);
	return s;
}

/* ---- answers derived from the expected files --------------------------------- */

/* A row of expected.tsv: host queue_id to orig_to status dsn attempts
 * relation_to_parent parent_queue_id. */
struct erow {
	char f[9][128];
};

static size_t read_tsv(const char *rel, struct erow **out)
{
	char *text = slurp(fixture(rel), NULL), *line, *save = NULL, *p, *tok;
	size_t n = 0, i;

	cr_assert_not_null(text);
	*out = NULL;
	strtok_r(text, "\n", &save);   /* the header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		*out = realloc(*out, (n + 1) * sizeof(**out));
		memset(&(*out)[n], 0, sizeof(**out));
		for (i = 0, p = line; i < 9 && (tok = strsep(&p, "\t")) != NULL; i++)
			snprintf((*out)[n].f[i], sizeof((*out)[n].f[i]), "%s", tok);
		n++;
	}
	free(text);
	return n;
}

/* The kind of message host/qid in expected-messages.tsv (column 3). */
static const char *msg_kind(const char *host, const char *qid)
{
	static char kind[32];
	char *text = slurp(fixture("logs/expected-messages.tsv"), NULL);
	char *line, *save = NULL, pre[300];

	snprintf(pre, sizeof(pre), "%s\t%s\t", host, qid);
	kind[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, pre, strlen(pre)) == 0)
			snprintf(kind, sizeof(kind), "%.*s",
			         (int)strcspn(line + strlen(pre), "\t"),
			         line + strlen(pre));
	free(text);
	return kind;
}

/* SPEC rule: a row counts when it is a NOQUEUE reject or belongs to an
 * original message (smtpd or pickup) or to its content-filter copy, and
 * is not the hop into the filter (the copy's rows replace it). */
static int row_counts(const struct erow *r)
{
	const char *kind;

	if (strcmp(r->f[1], "-") == 0)
		return 1;
	if (strcmp(r->f[4], "filtered") == 0)
		return 0;
	kind = msg_kind(r->f[0], r->f[1]);
	return strcmp(kind, "smtpd") == 0 || strcmp(kind, "pickup") == 0 ||
	       strcmp(kind, "filter") == 0;
}

struct want {
	int64_t recipients, delivered, deferred, bounced, expired, rejected,
	        discarded, held, deleted, deferred_once;
};

static const char *domain_of(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : "";
}

/* Counts of the counted rows of expected.tsv that pass `keep`. */
static struct want expected_counts(int (*keep)(const struct erow *))
{
	struct erow *rows;
	size_t n = read_tsv("logs/expected.tsv", &rows), i;
	struct want w;

	memset(&w, 0, sizeof(w));
	for (i = 0; i < n; i++) {
		const struct erow *r = &rows[i];
		const char *s = r->f[4];

		if (!row_counts(r) || (keep && !keep(r)))
			continue;
		w.recipients++;
		w.delivered += strcmp(s, "sent") == 0;
		w.deferred += strcmp(s, "deferred") == 0;
		w.bounced += strcmp(s, "bounced") == 0;
		w.expired += strcmp(s, "expired") == 0;
		w.rejected += strcmp(s, "rejected") == 0;
		w.discarded += strcmp(s, "discarded") == 0;
		w.held += strcmp(s, "held") == 0;
		w.deleted += strcmp(s, "deleted") == 0;
		w.deferred_once += strcmp(r->f[6], "0") != 0 ||
		                   strcmp(s, "deferred") == 0;
	}
	free(rows);
	return w;
}

static void assert_counts(const struct pfi_stats_counts *c,
                          const struct want *w)
{
	cr_assert_eq(c->recipients, w->recipients);
	cr_assert_eq(c->delivered, w->delivered);
	cr_assert_eq(c->deferred, w->deferred);
	cr_assert_eq(c->bounced, w->bounced);
	cr_assert_eq(c->expired, w->expired);
	cr_assert_eq(c->rejected, w->rejected);
	cr_assert_eq(c->discarded, w->discarded);
	cr_assert_eq(c->held, w->held);
	cr_assert_eq(c->deleted, w->deleted);
	cr_assert_eq(c->deferred_once, w->deferred_once);
	cr_assert_eq(c->filtered, 0);
}

/* A key=value of expected-summary.txt. */
static int64_t summary(const char *key)
{
	char *text = slurp(fixture("logs/expected-summary.txt"), NULL), *p;
	char pre[64];
	int64_t v = -1;

	snprintf(pre, sizeof(pre), "\n%s=", key);
	if ((p = strstr(text, pre)) != NULL)
		v = strtoll(p + strlen(pre), NULL, 10);
	free(text);
	return v;
}

/* Whether every row of message host/qid is held or discarded. */
static int never_queued(const char *host, const char *qid)
{
	struct erow *rows;
	size_t n = read_tsv("logs/expected.tsv", &rows), i;
	int any = 0, other = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(rows[i].f[0], host) != 0 || strcmp(rows[i].f[1], qid) != 0)
			continue;
		any = 1;
		other |= strcmp(rows[i].f[4], "held") != 0 &&
		         strcmp(rows[i].f[4], "discarded") != 0;
	}
	free(rows);
	return any && !other;
}

/* Received messages of expected-messages.tsv: count, bytes, over TLS. */
static void expected_received(int64_t *n, int64_t *bytes, int64_t *tls,
                              int64_t *notifications)
{
	char *text = slurp(fixture("logs/expected-messages.tsv"), NULL);
	char *line, *save = NULL, *p, *tok, f[18][128];
	int i;

	*n = *bytes = *tls = *notifications = 0;
	strtok_r(text, "\n", &save);
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		for (i = 0, p = line; i < 18 && (tok = strsep(&p, "\t")); i++)
			snprintf(f[i], sizeof(f[i]), "%s", tok);
		*notifications += strcmp(f[2], "bounce") == 0;
		if (strcmp(f[2], "smtpd") != 0 && strcmp(f[2], "pickup") != 0)
			continue;
		(*n)++;
		/* A message that never reached qmgr (held or discarded by
		 * cleanup) has no size in the log. */
		if (!never_queued(f[0], f[1]))
			*bytes += strtoll(f[11], NULL, 10);
		*tls += strcmp(f[9], "-") != 0;
	}
	free(text);
}

/* ---- the sample log ------------------------------------------------------------ */

Test(stats, sample_totals_match_the_expected_answers)
{
	char *db = sample_db();
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);
	struct want w = expected_counts(NULL);
	int64_t n, bytes, tls, notes;

	expected_received(&n, &bytes, &tls, &notes);
	cr_assert_eq(n, summary("received"));
	cr_assert_eq(notes, summary("notifications"));
	cr_assert_eq(s->total.received, 66);
	cr_assert_eq(s->total.received, n);
	cr_assert_eq(s->total.notifications, 3);
	cr_assert_eq(s->total.bytes_received, bytes);
	assert_counts(&s->total, &w);
	/* 105 rows - 3 notification rows - 1 relay copy - 1 forward copy
	 * - 2 filter hops (replaced by the copy's 2 rows, counted). */
	cr_assert_eq(s->total.recipients, 98);
	cr_assert_float_eq(s->total.bounce_rate,
	                   (double)w.bounced / (double)(w.recipients - w.rejected),
	                   1e-12);
	cr_assert_float_eq(s->total.defer_rate,
	                   (double)w.deferred_once /
	                   (double)(w.recipients - w.rejected), 1e-12);
	cr_assert_float_eq(s->tls_inbound_ratio, (double)tls / (double)n, 1e-12);
	/* Recorded now; its rule is checked exactly on a hand-made log. */
	cr_assert(s->tls_outbound_ratio > 0 && s->tls_outbound_ratio <= 1,
	          "outbound TLS %f", s->tls_outbound_ratio);
	cr_assert_eq(s->sasl_failures, 0, "the sample has no failed logins");
	pfi_stats_free(s);
	free(db);
}

static int64_t count_of(const struct pfi_count *c, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].key && strcmp(c[i].key, key) == 0)
			return c[i].count;
	return 0;
}

Test(stats, sample_dsn_counts_every_outcome_that_is_not_sent)
{
	char *db = sample_db();
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);
	struct erow *rows;
	size_t n = read_tsv("logs/expected.tsv", &rows), i, k;
	int64_t total = 0;

	for (i = 0; i < n; i++) {
		int64_t want = 0;

		if (strcmp(rows[i].f[5], "-") == 0)
			continue;
		for (k = 0; k < n; k++)
			want += row_counts(&rows[k]) &&
			        strcmp(rows[k].f[4], "sent") != 0 &&
			        strcmp(rows[k].f[5], rows[i].f[5]) == 0;
		cr_assert_eq(count_of(s->dsn, s->ndsn, rows[i].f[5]), want,
		             "dsn %s", rows[i].f[5]);
	}
	for (i = 0; i < s->ndsn; i++)
		total += s->dsn[i].count;
	/* Held and discarded recipients have no DSN. */
	cr_assert_eq(total, s->total.recipients - s->total.delivered -
	             s->total.held - s->total.discarded);
	free(rows);
	pfi_stats_free(s);
	free(db);
}

static int64_t reject_count(const struct pfi_stats *s, const char *cls,
                            const char *code)
{
	size_t i;

	for (i = 0; i < s->nrejects; i++)
		if (strcmp(s->rejects[i].class, cls) == 0 &&
		    strcmp(s->rejects[i].code, code) == 0)
			return s->rejects[i].count;
	return 0;
}

Test(stats, sample_rejects_are_grouped_into_classes_with_codes)
{
	char *db = sample_db();
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_eq(s->nrejects, 4);
	cr_assert_eq(reject_count(s, "relay_denied", "554 5.7.1"), 1);
	cr_assert_eq(reject_count(s, "unknown_user", "550 5.1.1"), 3);
	cr_assert_eq(reject_count(s, "sender_helo_client", "450 4.7.25"), 1);
	cr_assert_eq(reject_count(s, "other", "550 5.5.1"), 1);
	pfi_stats_free(s);
	free(db);
}

static int64_t domain_recipients(const struct pfi_stats *s, const char *d)
{
	size_t i;

	for (i = 0; i < s->ntop_domains; i++)
		if (strcmp(s->top_domains[i].domain, d) == 0)
			return s->top_domains[i].recipients;
	return -1;
}

static const char *want_domain;
static int in_domain(const struct erow *r)
{
	return strcmp(domain_of(r->f[2]), want_domain) == 0;
}

Test(stats, sample_top_domains_count_recipients_by_domain)
{
	static const char *const domains[] = {
		"example.org", "example.com", "partner.example", "dead.example"
	};
	char *db = sample_db();
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);
	size_t i;

	for (i = 0; i < 4; i++) {
		want_domain = domains[i];
		cr_assert_eq(domain_recipients(s, domains[i]),
		             expected_counts(in_domain).recipients, "%s", domains[i]);
	}
	cr_assert_str_eq(s->top_domains[0].domain, "example.org");
	cr_assert_eq(s->nslow_domains, 7);
	cr_assert_str_eq(s->slow_domains[0].domain, "dead.example");
	cr_assert_eq(s->slow_domains[0].p95, 3601);
	pfi_stats_free(s);
	free(db);
}

/* ---- filters read the original; hops and notifications count once --------- */

static const char *want_to;
static int to_is(const struct erow *r)
{
	return strcmp(r->f[2], want_to) == 0;
}

/* Rows of notifications (each has one recipient) sent to `to`. */
static int64_t expected_notifications_to(const char *to)
{
	struct erow *rows;
	size_t n = read_tsv("logs/expected.tsv", &rows), i;
	int64_t k = 0;

	for (i = 0; i < n; i++)
		k += strcmp(rows[i].f[7], "bounce") == 0 &&
		     strcmp(rows[i].f[2], to) == 0;
	free(rows);
	return k;
}

struct filter_case {
	char to[64];
};

ParameterizedTestParameters(stats, a_recipient_filter_counts_each_recipient_once)
{
	static struct filter_case cases[] = {
		{ "carol@example.com" },   /* behind the content filter */
		{ "dave@example.com" },    /* filter hop and a reused queue id */
		{ "bob@example.com" },     /* gets two notifications, and held */
		{ "frank@example.org" },   /* relayed to mx2: counted on mx1 */
		{ "alice@example.com" },   /* notifications to her do not count */
	};
	return cr_make_param_array(struct filter_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct filter_case *c, stats,
                  a_recipient_filter_counts_each_recipient_once)
{
	char *db = sample_db();
	struct pfi_filter f = { .to = c->to };
	struct pfi_stats *s = stats_of(db, &f, PFI_BY_NONE, 0);
	struct want w;

	want_to = c->to;
	w = expected_counts(to_is);
	assert_counts(&s->total, &w);
	/* Notifications are messages of their own: those sent to c->to. */
	cr_assert_eq(s->total.notifications, expected_notifications_to(c->to));
	pfi_stats_free(s);
	free(db);
}

Test(stats, a_client_filter_reads_the_original_not_the_filter_copy)
{
	char *db = sample_db();
	struct pfi_filter f = { .client = "198.51.100.25",
	                        .message_id = "20261102090044.5bfdb197@news.example" };
	struct pfi_stats *s = stats_of(db, &f, PFI_BY_NONE, 0);

	/* The filter copy's client is localhost; its two rows still match
	 * and replace the parent's two `filtered` rows. */
	cr_assert_eq(s->total.recipients, 2);
	cr_assert_eq(s->total.delivered, 2);
	cr_assert_eq(s->total.filtered, 0);
	cr_assert_eq(s->total.received, 1);
	pfi_stats_free(s);
	free(db);
}

/* ---- by[] rows add up ------------------------------------------------------------- */

static void assert_sums(const struct pfi_stats *s, int msg_level)
{
	struct pfi_stats_counts t;
	size_t i;

	memset(&t, 0, sizeof(t));
	cr_assert_gt(s->nby, 0);
	for (i = 0; i < s->nby; i++) {
		const struct pfi_stats_counts *c = &s->by[i].c;

		t.received += c->received;
		t.notifications += c->notifications;
		t.bytes_received += c->bytes_received;
		t.recipients += c->recipients;
		t.delivered += c->delivered;
		t.deferred += c->deferred;
		t.bounced += c->bounced;
		t.expired += c->expired;
		t.rejected += c->rejected;
		t.discarded += c->discarded;
		t.held += c->held;
		t.deleted += c->deleted;
		if (!msg_level)
			cr_assert_eq(c->received, -1);
	}
	cr_assert_eq(t.recipients, s->total.recipients);
	cr_assert_eq(t.delivered, s->total.delivered);
	cr_assert_eq(t.deferred, s->total.deferred);
	cr_assert_eq(t.bounced, s->total.bounced);
	cr_assert_eq(t.expired, s->total.expired);
	cr_assert_eq(t.rejected, s->total.rejected);
	cr_assert_eq(t.discarded, s->total.discarded);
	cr_assert_eq(t.held, s->total.held);
	cr_assert_eq(t.deleted, s->total.deleted);
	if (!msg_level)
		return;
	cr_assert_eq(t.received, s->total.received);
	cr_assert_eq(t.notifications, s->total.notifications);
	cr_assert_eq(t.bytes_received, s->total.bytes_received);
}

struct by_case {
	enum pfi_stats_by by;
	int msg_level;     /* received etc. split by this key */
	size_t rows;       /* groups in sample.log */
};

ParameterizedTestParameters(stats, by_rows_add_up_to_the_totals)
{
	static struct by_case cases[] = {
		{ PFI_BY_DAY, 1, 1 }, { PFI_BY_HOUR, 1, 2 },
		{ PFI_BY_DOMAIN, 0, 7 }, { PFI_BY_SENDER_DOMAIN, 1, 0 },
		{ PFI_BY_DSN, 0, 0 }, { PFI_BY_STATUS, 0, 8 },
		{ PFI_BY_HOST, 1, 2 }, { PFI_BY_CLIENT, 1, 0 },
	};
	return cr_make_param_array(struct by_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct by_case *c, stats, by_rows_add_up_to_the_totals)
{
	char *db = sample_db();
	struct pfi_stats *s = stats_of(db, NULL, c->by, 0);

	assert_sums(s, c->msg_level);
	if (c->rows > 0)
		cr_assert_eq(s->nby, c->rows, "%s: %zu rows",
		             pfi_stats_by_name(c->by), s->nby);
	pfi_stats_free(s);
	free(db);
}

Test(stats, top_limits_by_rows_and_sums_the_rest_into_other)
{
	char *db = sample_db();
	struct pfi_stats_opts o = { .version = PFI_STATS_OPTIONS_VERSION, .by = PFI_BY_DOMAIN, .top = 2, .by_limit = 2 };
	struct pfi_stats *s = NULL;
	pfi_store *st = NULL;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_stats_new(&s, st, &o), PFI_OK);
	cr_assert_eq(s->nby, 3);
	cr_assert_str_eq(s->by[2].key, "(other)");
	cr_assert_eq(s->ntop_domains, 2);
	assert_sums(s, 0);
	pfi_stats_free(s);
	pfi_store_close(st);
	free(db);
}

/* ---- periods ------------------------------------------------------------------------ */

Test(stats, two_adjacent_periods_add_up_to_the_whole)
{
	char *db = sample_db();
	struct pfi_filter a = { .since = T0900, .until = T1000 };
	struct pfi_filter b = { .since = T1000, .until = T1100 };
	struct pfi_stats *all = stats_of(db, NULL, PFI_BY_HOUR, 0);
	struct pfi_stats *x = stats_of(db, &a, PFI_BY_NONE, 0);
	struct pfi_stats *y = stats_of(db, &b, PFI_BY_NONE, 0);

	cr_assert_eq(x->total.received + y->total.received, 66);
	cr_assert_eq(x->total.recipients + y->total.recipients, 98);
	cr_assert_eq(x->total.notifications + y->total.notifications, 3);
	cr_assert_eq(x->total.bounced + y->total.bounced, 2);
	cr_assert_eq(x->total.expired + y->total.expired, 2);
	/* The hour rows are those periods. */
	cr_assert_str_eq(all->by[0].key, "2026-11-02T09");
	cr_assert_eq(all->by[0].c.received, x->total.received);
	cr_assert_eq(all->by[0].c.recipients, x->total.recipients);
	cr_assert_eq(all->by[1].c.recipients, y->total.recipients);
	/* Both expirations happen at 10:00:14, the deferred one at 10:10. */
	cr_assert_eq(y->total.expired, 2);
	cr_assert_eq(y->total.deferred, 1);
	cr_assert_eq(x->since, T0900);
	cr_assert_eq(x->until, T1000);
	pfi_stats_free(all);
	pfi_stats_free(x);
	pfi_stats_free(y);
	free(db);
}

Test(stats, a_period_without_records_is_all_zero)
{
	char *db = sample_db();
	struct pfi_filter f = { .since = T0900 - INT64_C(86400000000),
	                        .until = T0900 - INT64_C(3600000000) };
	struct pfi_stats *s = stats_of(db, &f, PFI_BY_DAY, 0);

	cr_assert_eq(s->total.received, 0);
	cr_assert_eq(s->total.recipients, 0);
	cr_assert_eq(s->nby, 0);
	cr_assert_eq(s->p50, -1);
	cr_assert_eq(s->sla_within_ratio, -1);
	cr_assert_eq(s->total.bounce_rate, 0);
	pfi_stats_free(s);
	free(db);
}

/* ---- percentiles on hand-made logs ------------------------------------------------- */

/* One message: received at 10:MM:00, one recipient sent with `delay`. */
static void add_sent(char *buf, size_t size, int i, const char *delay,
                     const char *status)
{
	size_t n = strlen(buf);

	snprintf(buf + n, size - n,
	         "Nov  2 10:%02d:00 mx1 postfix/smtpd[100]: A%09X: client=c.example[192.0.2.1]\n"
	         "Nov  2 10:%02d:00 mx1 postfix/cleanup[101]: A%09X: message-id=<m%d@c.example>\n"
	         "Nov  2 10:%02d:00 mx1 postfix/qmgr[102]: A%09X: from=<s@c.example>, size=100, nrcpt=1 (queue active)\n"
	         "Nov  2 10:%02d:01 mx1 postfix/smtp[103]: A%09X: to=<r%d@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=%s, delays=0/0/0/%s, dsn=%s, status=%s (250 ok)\n"
	         "Nov  2 10:%02d:01 mx1 postfix/qmgr[102]: A%09X: removed\n",
	         i, i, i, i, i, i, i, i, i, i, delay, delay,
	         strcmp(status, "sent") == 0 ? "2.0.0" : "5.1.1", status, i, i);
}

Test(stats, percentiles_are_nearest_rank_on_twenty_delays)
{
	char log[65536] = "", d[16];
	char *db;
	struct pfi_stats *s;
	int i;

	for (i = 1; i <= 20; i++) {
		snprintf(d, sizeof(d), "%d", i);
		add_sent(log, sizeof(log), i, d, "sent");
	}
	db = text_db(log);
	s = stats_of(db, NULL, PFI_BY_NONE, 15);
	cr_assert_eq(s->total.received, 20);
	cr_assert_eq(s->delays, 20);
	cr_assert_eq(s->p50, 10);   /* rank ceil(0.50 * 20) = 10 */
	cr_assert_eq(s->p95, 19);   /* rank ceil(0.95 * 20) = 19 */
	cr_assert_eq(s->p99, 20);   /* rank ceil(0.99 * 20) = 20 */
	cr_assert_eq(s->max, 20);
	cr_assert_eq(s->sla_threshold, 15);
	cr_assert_float_eq(s->sla_within_ratio, 0.75, 1e-12);   /* 15 of 20 */
	pfi_stats_free(s);
	free(db);
}

Test(stats, percentiles_of_three_delays_are_delays_that_occurred)
{
	char log[8192] = "";
	char *db;
	struct pfi_stats *s;

	add_sent(log, sizeof(log), 1, "7.25", "sent");
	add_sent(log, sizeof(log), 2, "0.5", "sent");
	add_sent(log, sizeof(log), 3, "2", "bounced");
	db = text_db(log);
	s = stats_of(db, NULL, PFI_BY_NONE, 0);
	cr_assert_eq(s->delays, 3);
	cr_assert_eq(s->p50, 2);      /* rank ceil(1.5) = 2 of 0.5, 2, 7.25 */
	cr_assert_eq(s->p95, 7.25);   /* rank ceil(2.85) = 3 */
	cr_assert_eq(s->p99, 7.25);
	cr_assert_eq(s->max, 7.25);
	cr_assert_eq(s->total.bounced, 1);
	/* Both delivered within the default 5 minutes. */
	cr_assert_eq(s->sla_threshold, 300);
	cr_assert_eq(s->sla_within_ratio, 1);
	cr_assert_eq(s->nslow_domains, 1);
	cr_assert_eq(s->slow_domains[0].p95, 7.25);
	pfi_stats_free(s);
	free(db);
}

static const char retried_log[] =
	"Nov  2 10:00:00 mx1 postfix/smtpd[100]: B000000001: client=c.example[192.0.2.1]\n"
	"Nov  2 10:00:00 mx1 postfix/cleanup[101]: B000000001: message-id=<r1@c.example>\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[102]: B000000001: from=<s@c.example>, size=100, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:01 mx1 postfix/smtp[103]: B000000001: to=<r@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=100, delays=0/0/0/100, dsn=4.2.0, status=deferred (450 try later)\n"
	"Nov  2 10:06:40 mx1 postfix/smtp[103]: B000000001: to=<r@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=400, delays=0/0/0/400, dsn=2.0.0, status=sent (250 ok)\n"
	"Nov  2 10:06:40 mx1 postfix/qmgr[102]: B000000001: removed\n";

Test(stats, a_retried_recipient_counts_once_with_its_final_delay)
{
	char *db = text_db(retried_log);
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_eq(s->total.recipients, 1);
	cr_assert_eq(s->total.delivered, 1);
	cr_assert_eq(s->total.deferred, 0);
	cr_assert_eq(s->total.deferred_once, 1);
	cr_assert_eq(s->delays, 1);
	cr_assert_eq(s->p50, 400);
	cr_assert_eq(s->sla_within_ratio, 0);   /* 400 s > 5 minutes */
	cr_assert_eq(s->total.defer_rate, 1);
	pfi_stats_free(s);
	free(db);
}

/* ---- periods by half hour --------------------------------------------------- */

/* The counts --compare shows of the stats of a period, in the order of
 * the sample_h* tables (helpers.h). */
static void period_counts(const char *db, int64_t since, int64_t until,
                          int64_t c[8])
{
	struct pfi_filter f = { .since = since, .until = until };
	struct pfi_stats *s = stats_of(db, &f, PFI_BY_NONE, 0);

	c[0] = s->total.received;
	c[1] = s->total.notifications;
	c[2] = s->total.recipients;
	c[3] = s->total.delivered;
	c[4] = s->total.deferred;
	c[5] = s->total.bounced;
	c[6] = s->total.expired;
	c[7] = s->total.rejected;
	pfi_stats_free(s);
}

/* The half hours test_cli_stats.c compares with --compare: each exact,
 * and together the expected answers of the whole log. */
Test(stats, the_half_hours_of_the_sample_add_up_to_the_expected_answers)
{
	static const int64_t *const table[] = {
		sample_h0900, sample_h0930, sample_h1000
	};
	const int64_t half = INT64_C(1800000000);
	char *db = sample_db();
	int64_t got[8], sum[8] = { 0 }, n, bytes, tls, notes, k;
	struct want w = expected_counts(NULL);
	int i;

	for (k = 0; k < 3; k++) {
		period_counts(db, T0900 + k * half, T0900 + (k + 1) * half, got);
		for (i = 0; i < 8; i++) {
			cr_assert_eq(got[i], table[k][i], "half hour %d, figure %d",
			             (int)k, i);
			sum[i] += table[k][i];
		}
	}
	/* Nothing happens before 09:00 or from 10:30 on. */
	period_counts(db, 0, T0900, got);
	for (i = 0; i < 8; i++)
		cr_assert_eq(got[i], 0, "before 09:00, figure %d", i);
	period_counts(db, T1000 + half, 0, got);
	for (i = 0; i < 8; i++)
		cr_assert_eq(got[i], 0, "from 10:30, figure %d", i);
	expected_received(&n, &bytes, &tls, &notes);
	cr_assert_eq(sum[0], n);
	cr_assert_eq(sum[1], notes);
	cr_assert_eq(sum[2], w.recipients);
	cr_assert_eq(sum[3], w.delivered);
	cr_assert_eq(sum[4], w.deferred);
	cr_assert_eq(sum[5], w.bounced);
	cr_assert_eq(sum[6], w.expired);
	cr_assert_eq(sum[7], w.rejected);
	free(db);
}

/* One TLS session of smtp process 500 to mx.a: its delivery there used
 * TLS, its later delivery to mx.b did not, nor did process 501's to mx.a.
 * Two clients fail SASL logins, one of them twice. */
static const char tls_sasl_log[] =
	"Nov  2 10:00:00 mx1 postfix/smtp[500]: Untrusted TLS connection established to mx.a.example[192.0.2.1]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n"
	"Nov  2 10:00:01 mx1 postfix/smtp[500]: AAAA11111A: to=<x@a.example>, relay=mx.a.example[192.0.2.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"Nov  2 10:00:02 mx1 postfix/smtp[500]: AAAA11111A: to=<y@b.example>, relay=mx.b.example[192.0.2.2]:25, delay=2, delays=0/0/1/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"Nov  2 10:00:03 mx1 postfix/smtp[501]: AAAA11111A: to=<z@a.example>, relay=mx.a.example[192.0.2.1]:25, delay=3, delays=0/0/1/2, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"Nov  2 10:00:04 mx1 postfix/qmgr[400]: AAAA11111A: removed\n"
	"Nov  2 10:00:05 mx1 postfix/submission/smtpd[600]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n"
	"Nov  2 10:00:06 mx1 postfix/submission/smtpd[600]: warning: unknown[203.0.113.9]: SASL PLAIN authentication failed: authentication failure, sasl_username=bob\n"
	"Nov  2 10:00:07 mx1 postfix/submission/smtpd[601]: warning: host.example[198.51.100.7]: SASL PLAIN authentication failed: authentication failure\n";

Test(stats, outbound_tls_counts_deliveries_made_over_a_tls_session)
{
	char *db = text_db(tls_sasl_log);
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_float_eq(s->tls_outbound_ratio, 1.0 / 3.0, 1e-9,
	                   "got %f", s->tls_outbound_ratio);
	/* Nothing was seen arriving: no inbound share either. */
	cr_assert_eq(s->tls_inbound_ratio, -1, "got %f", s->tls_inbound_ratio);
	pfi_stats_free(s);
	/* A period without network deliveries has no share ("-", null). */
	s = stats_of(db, &(struct pfi_filter){ .since = INT64_C(1893456000000000) },
	             PFI_BY_NONE, 0);
	cr_assert_eq(s->tls_outbound_ratio, -1);
	cr_assert_eq(s->tls_inbound_ratio, -1);
	pfi_stats_free(s);
	free(db);
}

Test(stats, sasl_failures_are_counted_with_the_clients_that_failed_most)
{
	char *db = text_db(tls_sasl_log);
	struct pfi_filter f = { 0 };
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_eq(s->sasl_failures, 3);
	cr_assert_eq(s->nsasl_clients, 2);
	cr_assert_str_eq(s->sasl_clients[0].key, "203.0.113.9");
	cr_assert_eq(s->sasl_clients[0].count, 2);
	cr_assert_str_eq(s->sasl_clients[1].key, "198.51.100.7");
	pfi_stats_free(s);
	/* Only the period's failures count. */
	cr_assert_eq(pfi_time_parse(&f.since, "2026-11-02T10:00:06Z", 0), PFI_OK);
	s = stats_of(db, &f, PFI_BY_NONE, 0);
	cr_assert_eq(s->sasl_failures, 2);
	pfi_stats_free(s);
	free(db);
}

/* ---- per-hour cells give exactly what the rows give ---------------------------- */

static void put_counts(FILE *fp, const struct pfi_stats_counts *c)
{
	fprintf(fp, " rcv=%" PRId64 " ntf=%" PRId64 " bytes=%" PRId64
	        " rcpt=%" PRId64 " sent=%" PRId64 " def=%" PRId64 " bnc=%" PRId64
	        " exp=%" PRId64 " rej=%" PRId64 " dis=%" PRId64 " held=%" PRId64
	        " del=%" PRId64 " flt=%" PRId64 " once=%" PRId64 " br=%.17g"
	        " dr=%.17g\n", c->received, c->notifications, c->bytes_received,
	        c->recipients, c->delivered, c->deferred, c->bounced, c->expired,
	        c->rejected, c->discarded, c->held, c->deleted, c->filtered,
	        c->deferred_once, c->bounce_rate, c->defer_rate);
}

static void put_list(FILE *fp, const char *name, const struct pfi_count *v,
                     size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(fp, "%s %s=%" PRId64 "\n", name, v[i].key ? v[i].key : "-",
		        v[i].count);
}

static void put_domains(FILE *fp, const char *name,
                        const struct pfi_stats_domain *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(fp, "%s %s rcpt=%" PRId64 " sent=%" PRId64 " def=%" PRId64
		        " bnc=%" PRId64 " exp=%" PRId64 " rej=%" PRId64
		        " delays=%" PRId64 " p95=%.17g max=%.17g\n", name,
		        v[i].domain ? v[i].domain : "-", v[i].recipients,
		        v[i].delivered, v[i].deferred, v[i].bounced, v[i].expired,
		        v[i].rejected, v[i].delays, v[i].p95, v[i].max);
}

/* Every figure of a stats result as text, to compare two of them. */
static char *stats_text(const struct pfi_stats *s)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *fp = open_memstream(&text, &len);

	cr_assert_not_null(fp);
	fprintf(fp, "period %" PRId64 " %" PRId64 "\ntotal", s->since, s->until);
	put_counts(fp, &s->total);
	fprintf(fp, "delays %" PRId64 " p50=%.17g p95=%.17g p99=%.17g max=%.17g"
	        " sla=%.17g/%.17g tls=%.17g/%.17g sasl=%" PRId64 "\n", s->delays,
	        s->p50, s->p95, s->p99, s->max, s->sla_threshold,
	        s->sla_within_ratio, s->tls_inbound_ratio, s->tls_outbound_ratio,
	        s->sasl_failures);
	put_list(fp, "tls", s->tls_protocols, s->ntls_protocols);
	put_domains(fp, "top", s->top_domains, s->ntop_domains);
	put_list(fp, "sender", s->top_sender_domains, s->ntop_sender_domains);
	put_domains(fp, "slow", s->slow_domains, s->nslow_domains);
	put_list(fp, "dsn", s->dsn, s->ndsn);
	for (i = 0; i < s->nrejects; i++)
		fprintf(fp, "reject %s %s=%" PRId64 "\n", s->rejects[i].class,
		        s->rejects[i].code, s->rejects[i].count);
	put_list(fp, "sasl", s->sasl_clients, s->nsasl_clients);
	for (i = 0; i < s->nby; i++) {
		fprintf(fp, "by %s", s->by[i].key ? s->by[i].key : "-");
		put_counts(fp, &s->by[i].c);
	}
	for (i = 0; i < s->ndays; i++) {
		fprintf(fp, "day %s", s->days[i].key);
		put_counts(fp, &s->days[i].c);
	}
	for (i = 0; i < 7 * 24; i++)
		if (s->volume[i / 24][i % 24] || s->bounces[i / 24][i % 24])
			fprintf(fp, "cell %zu %" PRId64 " %" PRId64 "\n", i,
			        s->volume[i / 24][i % 24], s->bounces[i / 24][i % 24]);
	fclose(fp);
	return text;
}

/* The stats of a period read from the cells (where they can answer) and
 * from every row; asserts they are the same text, and returns it. */
static char *assert_cells_match_rows(const char *db, int64_t since,
                                     int64_t until, enum pfi_stats_by by,
                                     int utc)
{
	struct pfi_filter f = { .since = since, .until = until };
	struct pfi_stats_opts o = { .version = PFI_STATS_OPTIONS_VERSION, .filter = &f, .by = by, .utc = utc };
	struct pfi_stats *a = NULL, *b = NULL;
	pfi_store *st = NULL;
	char *ta, *tb;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_stats_new(&a, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	o.rows_only = 1;
	cr_assert_eq(pfi_stats_new(&b, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	pfi_store_close(st);
	ta = stats_text(a);
	tb = stats_text(b);
	cr_assert_str_eq(ta, tb, "by %s, %" PRId64 "..%" PRId64,
	                 pfi_stats_by_name(by), since, until);
	pfi_stats_free(a);
	pfi_stats_free(b);
	free(tb);
	return ta;
}

/* Periods with whole hours, hours cut at either end, and less than an
 * hour, each with every --by key, in UTC and in local time. */
static void assert_cells_match_rows_everywhere(const char *db)
{
	static const int64_t cuts[][2] = {
		{ 0, 0 }, { T0900, 0 }, { 0, T1000 }, { T0900, T1100 },
		{ T0900 + 1234567, T1100 - 7654321 }, { T1000 + 1, T1000 + 900000000 },
		{ T0900 - 86400000000, T1100 + 86400000000 },
	};
	size_t i;
	int by, utc;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		for (by = PFI_BY_NONE; by <= PFI_BY_CLIENT; by++)
			for (utc = 0; utc <= 1; utc++)
				free(assert_cells_match_rows(db, cuts[i][0], cuts[i][1],
				                             (enum pfi_stats_by)by, utc));
}

Test(stats, cells_give_what_the_rows_give_for_every_period_and_key)
{
	char *db = sample_db();

	cr_assert_gt(db_int(db, "SELECT count(*) FROM stat_cells"), 0);
	assert_cells_match_rows_everywhere(db);
	free(db);
}

Test(stats, cells_are_not_used_where_local_hours_are_not_utc_hours)
{
	char *db = sample_db();

	/* +05:30: a local hour spans two UTC hours; the answer must not
	 * change (the rows are read instead). */
	setenv("TZ", "Asia/Kolkata", 1);
	tzset();
	assert_cells_match_rows_everywhere(db);
	setenv("TZ", "America/New_York", 1);
	tzset();
	assert_cells_match_rows_everywhere(db);
	free(db);
}

/* The cells of an index as text in key order, delays included. */
static char *cells_of(const char *db)
{
	return db_rows(db, "SELECT kind, hour, host, domain, sender_domain,"
	               " status, dsn, code, class, tls, n, m, hex(delays)"
	               " FROM stat_cells ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10");
}

Test(stats, cells_stay_exact_when_the_log_is_indexed_piece_by_piece)
{
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "grow.log"), *db = path_join(dir, "grow.db");
	char *whole = sample_db(), *fresh, *grown, *text, **lines;
	const char *paths[] = { log };
	size_t n = fixture_lines("logs/sample.log", &text, &lines), done = 0, step;

	/* Uneven pieces, so runs end inside messages, retries and filter hops
	 * (the next run rewrites and relinks them). */
	for (step = 7; done < n; step = step * 3 % 97 + 5) {
		size_t to = done + step < n ? done + step : n;
		append_log_lines(log, (const char *const *)lines, done, to,
		                 SAMPLE_MTIME);
		done = to;
		pfi_store_close(index_into(db, paths, 1, NULL));
		free(assert_cells_match_rows(db, 0, 0, PFI_BY_HOUR, 1));
	}
	assert_cells_match_rows_everywhere(db);
	/* And the whole is what one run over the whole log gives. */
	fresh = assert_cells_match_rows(whole, 0, 0, PFI_BY_HOUR, 1);
	grown = assert_cells_match_rows(db, 0, 0, PFI_BY_HOUR, 1);
	cr_assert_str_eq(grown, fresh);
	free(fresh);
	free(grown);
	/* The cells themselves, delays and all, are those of one run. */
	fresh = cells_of(whole);
	grown = cells_of(db);
	cr_assert_str_eq(grown, fresh);
	free(fresh);
	free(grown);
	free(lines);
	free(text);
	free(log);
	free(db);
	free(whole);
}

/* ---- cells changed by difference, run after run ------------------------------- */

/* Appends lines[from, to) to dir's grow.log and indexes it into grow.db;
 * asserts that its cells are then those one run over lines[0, to) makes,
 * and give what its rows give.  Returns the cells. */
static char *index_more(const char *dir, const char *const *lines,
                        size_t from, size_t to)
{
	char *log = path_join(dir, "grow.log"), *db = path_join(dir, "grow.db");
	char name[64], *flog, *fdb, *grown, *fresh;
	const char *paths[1];

	append_log_lines(log, lines, from, to, SAMPLE_MTIME);
	paths[0] = log;
	pfi_store_close(index_into(db, paths, 1, NULL));
	snprintf(name, sizeof(name), "fresh-%zu.log", to);
	flog = path_join(dir, name);
	snprintf(name, sizeof(name), "fresh-%zu.db", to);
	fdb = path_join(dir, name);
	append_log_lines(flog, lines, 0, to, SAMPLE_MTIME);
	paths[0] = flog;
	pfi_store_close(index_into(fdb, paths, 1, NULL));
	grown = cells_of(db);
	fresh = cells_of(fdb);
	cr_assert_str_eq(grown, fresh, "cells after lines [%zu, %zu)", from, to);
	free(assert_cells_match_rows(db, 0, 0, PFI_BY_HOUR, 1));
	free(fresh);
	free(flog);
	free(fdb);
	free(log);
	free(db);
	return grown;
}

/* Indexes `text` one run per piece, cut before the given lines (ascending,
 * the last the number of lines), checking the cells after every run. */
static void index_in_pieces(const char *text, const size_t *cuts, size_t n)
{
	const char *dir = tmpdir_make();
	char *copy = strdup(text), *p, *lines[64];
	size_t nlines = 0, i, from = 0;

	cr_assert_not_null(copy);
	for (p = strtok(copy, "\n"); p != NULL; p = strtok(NULL, "\n")) {
		cr_assert_lt(nlines, sizeof(lines) / sizeof(lines[0]));
		lines[nlines++] = p;
	}
	cr_assert_eq(cuts[n - 1], nlines);
	for (i = 0; i < n; i++) {
		free(index_more(dir, (const char *const *)lines, from, cuts[i]));
		from = cuts[i];
	}
	free(copy);
}

/* Deferred in one hour and one run, deferred again in the next, sent in a
 * third: each run replaces the recipient's row, in another hour. */
static const char deferred_log[] =
	"Nov  2 10:00:00 mx1 postfix/smtpd[100]: B000000001: client=c.example[192.0.2.1]\n"
	"Nov  2 10:00:00 mx1 postfix/cleanup[101]: B000000001: message-id=<r1@c.example>\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[102]: B000000001: from=<s@c.example>, size=100, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:01 mx1 postfix/smtp[103]: B000000001: to=<r@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=4.2.0, status=deferred (450 try later)\n"
	"Nov  2 11:00:01 mx1 postfix/smtp[103]: B000000001: to=<r@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=3601, delays=0/0/0/3601, dsn=4.2.0, status=deferred (450 try later)\n"
	"Nov  2 12:06:40 mx1 postfix/smtp[103]: B000000001: to=<r@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=7600, delays=0/0/0/7600, dsn=2.0.0, status=sent (250 ok)\n"
	"Nov  2 12:06:40 mx1 postfix/qmgr[102]: B000000001: removed\n";

Test(stats, cells_follow_a_deferred_recipient_finished_in_a_later_run)
{
	static const size_t cuts[] = { 4, 5, 7 };

	index_in_pieces(deferred_log, cuts, 3);
}

/* A message handed to a content filter before 10:00 and its copy,
 * re-injected after: the run that indexes the copy links them, so the
 * hand-off rows of the first run become `filtered` and stop counting. */
static const char filtered_log[] =
	"Nov  2 09:59:59 mx1 postfix/smtpd[2101]: 74C0F1161B2: client=smtp.partner.example[198.51.100.25]\n"
	"Nov  2 09:59:59 mx1 postfix/cleanup[1211]: 74C0F1161B2: message-id=<f1@partner.example>\n"
	"Nov  2 09:59:59 mx1 postfix/qmgr[1102]: 74C0F1161B2: from=<billing@partner.example>, size=25310, nrcpt=2 (queue active)\n"
	"Nov  2 09:59:59 mx1 postfix/smtp[1401]: 74C0F1161B2: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.55, delays=0.08/0.46/0/0.01, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 11DD71161BB)\n"
	"Nov  2 09:59:59 mx1 postfix/smtp[1401]: 74C0F1161B2: to=<dave@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.55, delays=0.08/0.45/0/0.02, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 11DD71161BB)\n"
	"Nov  2 09:59:59 mx1 postfix/qmgr[1102]: 74C0F1161B2: removed\n"
	"Nov  2 10:00:01 mx1 postfix/reinject/smtpd[2301]: 11DD71161BB: client=localhost[127.0.0.1], orig_queue_id=74C0F1161B2, orig_client=smtp.partner.example[198.51.100.25]\n"
	"Nov  2 10:00:01 mx1 postfix/cleanup[1211]: 11DD71161BB: message-id=<f1@partner.example>\n"
	"Nov  2 10:00:01 mx1 postfix/qmgr[1102]: 11DD71161BB: from=<billing@partner.example>, size=25760, nrcpt=2 (queue active)\n"
	"Nov  2 10:00:01 mx1 postfix/local[1301]: 11DD71161BB: to=<carol@example.com>, relay=local, delay=2.12, delays=0.08/0.02/0/2.02, dsn=2.0.0, status=sent (delivered to mailbox)\n"
	"Nov  2 10:00:01 mx1 postfix/local[1302]: 11DD71161BB: to=<dave@example.com>, relay=local, delay=2.12, delays=0.08/0.02/0/2.02, dsn=2.0.0, status=sent (delivered to mailbox)\n"
	"Nov  2 10:00:01 mx1 postfix/qmgr[1102]: 11DD71161BB: removed\n";

Test(stats, cells_follow_a_filter_copy_linked_in_a_later_run)
{
	static const size_t cuts[] = { 6, 12 };
	static const size_t copy_open[] = { 6, 9, 12 };

	index_in_pieces(filtered_log, cuts, 2);
	index_in_pieces(filtered_log, copy_open, 3);
}

/* Three filters: A is handed to one that re-injects it as B (with a
 * rewritten sender), B to one that re-injects it as C, C to one that
 * re-injects it as D.  The hops are logged end first, so the run that
 * links A to B finds C and D counted already through B, their original
 * then; now B is a copy, and the rows of its children and grandchildren
 * count differently though no line of theirs is read. */
static const char filter_chain_log[] =
	"Nov  2 09:59:58 mx1 postfix/smtpd[2101]: 74C0F1161B2: client=smtp.partner.example[198.51.100.25]\n"
	"Nov  2 09:59:58 mx1 postfix/cleanup[1211]: 74C0F1161B2: message-id=<c1@partner.example>\n"
	"Nov  2 09:59:58 mx1 postfix/qmgr[1102]: 74C0F1161B2: from=<billing@partner.example>, size=25310, nrcpt=1 (queue active)\n"
	"Nov  2 09:59:59 mx1 postfix/reinject/smtpd[2301]: 11DD71161BB: client=localhost[127.0.0.1], orig_queue_id=74C0F1161B2, orig_client=smtp.partner.example[198.51.100.25]\n"
	"Nov  2 09:59:59 mx1 postfix/cleanup[1211]: 11DD71161BB: message-id=<c1@partner.example>\n"
	"Nov  2 09:59:59 mx1 postfix/qmgr[1102]: 11DD71161BB: from=<srs0=x@relay.example>, size=25760, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:00 mx1 postfix/reinject/smtpd[2302]: 22EE81161CC: client=localhost[127.0.0.1], orig_queue_id=11DD71161BB, orig_client=localhost[127.0.0.1]\n"
	"Nov  2 10:00:00 mx1 postfix/cleanup[1211]: 22EE81161CC: message-id=<c1@partner.example>\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 22EE81161CC: from=<srs0=x@relay.example>, size=25900, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:00 mx1 postfix/reinject/smtpd[2303]: 33FF91161DD: client=localhost[127.0.0.1], orig_queue_id=22EE81161CC, orig_client=localhost[127.0.0.1]\n"
	"Nov  2 10:00:00 mx1 postfix/cleanup[1211]: 33FF91161DD: message-id=<c1@partner.example>\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 33FF91161DD: from=<srs0=x@relay.example>, size=26000, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:00 mx1 postfix/smtp[1403]: 22EE81161CC: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10028, delay=1, delays=0.08/0.46/0/0.46, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 33FF91161DD)\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 22EE81161CC: removed\n"
	"Nov  2 10:00:00 mx1 postfix/smtp[1402]: 11DD71161BB: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10026, delay=1, delays=0.08/0.46/0/0.46, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 22EE81161CC)\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 11DD71161BB: removed\n"
	"Nov  2 10:00:01 mx1 postfix/local[1301]: 33FF91161DD: to=<carol@example.com>, relay=local, delay=1.5, delays=0.08/0.02/0/1.4, dsn=2.0.0, status=sent (delivered to mailbox)\n"
	"Nov  2 10:00:01 mx1 postfix/qmgr[1102]: 33FF91161DD: removed\n"
	"Nov  2 10:00:02 mx1 postfix/smtp[1401]: 74C0F1161B2: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=4, delays=0.08/0.46/0/3.46, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 11DD71161BB)\n"
	"Nov  2 10:00:02 mx1 postfix/qmgr[1102]: 74C0F1161B2: removed\n";

Test(stats, cells_follow_a_filter_chain_linked_from_its_end)
{
	static const size_t cuts[] = { 18, 20 };
	static const size_t by_hop[] = { 14, 16, 18, 20 };

	index_in_pieces(filter_chain_log, cuts, 2);
	index_in_pieces(filter_chain_log, by_hop, 4);
}

/* Four filters: A -> B -> C -> D -> E, the first hop linked last, so E
 * gets its original four hops up, three generations below B. */
static const char deep_chain_log[] =
	"Nov  2 09:59:58 mx1 postfix/smtpd[2101]: 74C0F1161B2: client=smtp.partner.example[198.51.100.25]\n"
	"Nov  2 09:59:58 mx1 postfix/qmgr[1102]: 74C0F1161B2: from=<billing@partner.example>, size=25310, nrcpt=1 (queue active)\n"
	"Nov  2 09:59:59 mx1 postfix/reinject/smtpd[2301]: 11DD71161BB: client=localhost[127.0.0.1]\n"
	"Nov  2 09:59:59 mx1 postfix/qmgr[1102]: 11DD71161BB: from=<srs0=x@relay.example>, size=25760, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:00 mx1 postfix/reinject/smtpd[2302]: 22EE81161CC: client=localhost[127.0.0.1]\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 22EE81161CC: from=<srs0=x@relay.example>, size=25900, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:00 mx1 postfix/reinject/smtpd[2303]: 33FF91161DD: client=localhost[127.0.0.1]\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 33FF91161DD: from=<srs0=x@relay.example>, size=26000, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:00 mx1 postfix/reinject/smtpd[2304]: 44AAA1161EE: client=localhost[127.0.0.1]\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 44AAA1161EE: from=<srs0=x@relay.example>, size=26100, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:00 mx1 postfix/smtp[1404]: 33FF91161DD: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10030, delay=1, delays=0.08/0.46/0/0.46, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 44AAA1161EE)\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 33FF91161DD: removed\n"
	"Nov  2 10:00:00 mx1 postfix/smtp[1403]: 22EE81161CC: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10028, delay=1, delays=0.08/0.46/0/0.46, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 33FF91161DD)\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 22EE81161CC: removed\n"
	"Nov  2 10:00:00 mx1 postfix/smtp[1402]: 11DD71161BB: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10026, delay=1, delays=0.08/0.46/0/0.46, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 22EE81161CC)\n"
	"Nov  2 10:00:00 mx1 postfix/qmgr[1102]: 11DD71161BB: removed\n"
	"Nov  2 10:00:01 mx1 postfix/local[1301]: 44AAA1161EE: to=<carol@example.com>, relay=local, delay=1.5, delays=0.08/0.02/0/1.4, dsn=2.0.0, status=sent (delivered to mailbox)\n"
	"Nov  2 10:00:01 mx1 postfix/qmgr[1102]: 44AAA1161EE: removed\n"
	"Nov  2 10:00:02 mx1 postfix/smtp[1401]: 74C0F1161B2: to=<carol@example.com>, relay=127.0.0.1[127.0.0.1]:10024, delay=4, delays=0.08/0.46/0/3.46, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 11DD71161BB)\n"
	"Nov  2 10:00:02 mx1 postfix/qmgr[1102]: 74C0F1161B2: removed\n";

Test(stats, cells_follow_a_four_hop_chain_linked_from_its_end)
{
	static const size_t cuts[] = { 18, 20 };
	char *db = text_db(deep_chain_log);
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	/* One message in, carol's delivery out, four hops down. */
	cr_assert_eq(s->total.received, 1);
	cr_assert_eq(s->total.recipients, 1);
	cr_assert_eq(s->total.delivered, 1);
	pfi_stats_free(s);
	free(db);
	index_in_pieces(deep_chain_log, cuts, 2);
}

/* A bounce in one run, its notification in the next. */
static const char bounce_log[] =
	"Nov  2 09:59:58 mx1 postfix/smtpd[2101]: 29A981161D4: client=web1.example.com[10.0.0.5]\n"
	"Nov  2 09:59:58 mx1 postfix/cleanup[1211]: 29A981161D4: message-id=<b1@example.com>\n"
	"Nov  2 09:59:58 mx1 postfix/qmgr[1102]: 29A981161D4: from=<bob@example.com>, size=3320, nrcpt=1 (queue active)\n"
	"Nov  2 09:59:59 mx1 postfix/smtp[1401]: 29A981161D4: to=<nobody@partner.example>, relay=mx.partner.example[198.51.100.25]:25, delay=0.6, delays=0.08/0.5/0.01/0.01, dsn=5.1.1, status=bounced (host mx.partner.example[198.51.100.25] said: 550 5.1.1 <nobody@partner.example>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))\n"
	"Nov  2 10:00:01 mx1 postfix/cleanup[1211]: D220A1161DD: message-id=<20261102100001.D220A1161DD@mx1.example.com>\n"
	"Nov  2 10:00:01 mx1 postfix/bounce[1501]: 29A981161D4: sender non-delivery notification: D220A1161DD\n"
	"Nov  2 10:00:01 mx1 postfix/qmgr[1102]: D220A1161DD: from=<>, size=3290, nrcpt=1 (queue active)\n"
	"Nov  2 10:00:01 mx1 postfix/local[1301]: D220A1161DD: to=<bob@example.com>, relay=local, delay=0.03, delays=0.01/0.02/0/0, dsn=2.0.0, status=sent (delivered to mailbox)\n"
	"Nov  2 10:00:01 mx1 postfix/qmgr[1102]: D220A1161DD: removed\n"
	"Nov  2 10:00:01 mx1 postfix/qmgr[1102]: 29A981161D4: removed\n";

Test(stats, cells_follow_a_bounce_notification_indexed_in_a_later_run)
{
	static const size_t cuts[] = { 4, 10 };
	static const size_t late_link[] = { 5, 6, 10 };

	index_in_pieces(bounce_log, cuts, 2);
	index_in_pieces(bounce_log, late_link, 3);
}

/* NOQUEUE rejects (no message) in a run after the first, in two hours. */
static const char rejects_log[] =
	"Nov  2 09:00:00 mx1 postfix/smtpd[100]: B000000001: client=c.example[192.0.2.1]\n"
	"Nov  2 09:00:00 mx1 postfix/qmgr[102]: B000000001: from=<s@c.example>, size=100, nrcpt=1 (queue active)\n"
	"Nov  2 09:00:01 mx1 postfix/smtp[103]: B000000001: to=<r@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)\n"
	"Nov  2 09:00:01 mx1 postfix/qmgr[102]: B000000001: removed\n"
	"Nov  2 11:00:31 mx1 postfix/smtpd[2101]: NOQUEUE: reject: RCPT from unknown[203.0.113.66]: 554 5.7.1 <victim@partner.example>: Relay access denied; from=<promo@deals.example> to=<victim@partner.example> proto=ESMTP helo=<ylmf-pc>\n"
	"Nov  2 12:00:33 mx1 postfix/smtpd[2102]: NOQUEUE: reject: RCPT from unknown[198.51.100.77]: 550 5.1.1 <nosuch@example.com>: Recipient address rejected: User unknown in local recipient table; from=<someone@friendly.example> to=<nosuch@example.com> proto=ESMTP helo=<friendly.host.example>\n"
	"Nov  2 12:00:34 mx1 postfix/smtpd[2102]: NOQUEUE: reject: RCPT from unknown[198.51.100.77]: 550 5.1.1 <nosuch@example.com>: Recipient address rejected: User unknown in local recipient table; from=<someone@friendly.example> to=<nosuch@example.com> proto=ESMTP helo=<friendly.host.example>\n";

Test(stats, cells_count_the_noqueue_rejects_of_a_later_run)
{
	static const size_t cuts[] = { 4, 5, 7 };

	index_in_pieces(rejects_log, cuts, 3);
}

Test(stats, a_run_that_changes_no_record_leaves_the_cells_as_they_were)
{
	const char *dir = tmpdir_make();
	const char *lines[] = {
		"Nov  2 09:00:00 mx1 postfix/smtpd[100]: B000000001: client=c.example[192.0.2.1]",
		"Nov  2 09:00:00 mx1 postfix/qmgr[102]: B000000001: from=<s@c.example>, size=100, nrcpt=1 (queue active)",
		"Nov  2 09:00:01 mx1 postfix/smtp[103]: B000000001: to=<r@d.example>, relay=mx.d.example[192.0.2.2]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)",
		"Nov  2 09:00:01 mx1 postfix/qmgr[102]: B000000001: removed",
		"Nov  2 10:00:05 mx1 postfix/submission/smtpd[600]: warning: unknown[203.0.113.9]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
	};
	char *before = index_more(dir, lines, 0, 4), *after;

	cr_assert_neq(strlen(before), 0);
	after = index_more(dir, lines, 4, 5);
	cr_assert_str_eq(after, before);
	free(before);
	free(after);
}

Test(stats, cells_are_counted_again_after_pruning)
{
	static const char early[] = "SELECT sum(n) FROM stat_cells"
		" WHERE hour < 1793613600 / 3600 AND kind = 0";
	char *db = sample_db();
	pfi_store *st = NULL;
	int64_t before = db_int(db, early);

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK);
	cr_assert_eq(pfi_prune(st, T1000, NULL), PFI_OK, "%s", pfi_errmsg(st));
	pfi_store_close(st);
	cr_assert_lt(db_int(db, early), before);
	assert_cells_match_rows_everywhere(db);
	free(db);
}

Test(stats, an_index_of_schema_1_is_read_and_upgraded_with_its_cells)
{
	char *db = sample_db(), *before, *after;
	pfi_store *st = NULL;
	sqlite3 *raw = NULL;

	before = assert_cells_match_rows(db, 0, 0, PFI_BY_DAY, 1);
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "DROP TABLE stat_cells;"
	             " PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	/* Read-only, schema 1 is read as it is, from the rows. */
	after = assert_cells_match_rows(db, 0, 0, PFI_BY_DAY, 1);
	cr_assert_str_eq(after, before);
	free(after);
	/* Opened for writing, it gets its cells. */
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	cr_assert_eq(db_int(db, "PRAGMA user_version"), 5);
	cr_assert_gt(db_int(db, "SELECT count(*) FROM stat_cells"), 0);
	after = assert_cells_match_rows(db, 0, 0, PFI_BY_DAY, 1);
	cr_assert_str_eq(after, before);
	free(after);
	free(before);
	free(db);
}

/* ---- postsuper -r: the requeued copy is a hop, not a second message ------------- */

/* 2026-11-22 13:00 and 14:00 UTC, in microseconds: the requeue log's hour. */
#define T1300 INT64_C(1795352400000000)
#define T1400 INT64_C(1795356000000000)

/* The whole requeue log (helpers.h), in runs ending after `cuts`. */
static char *requeue_runs(const char *name, const size_t *cuts, size_t ncuts)
{
	return requeue_index(name, 0, SIZE_MAX, SIZE_MAX, cuts, ncuts);
}

/* Two messages arrived (the requeued copy is not one); the requeued
 * recipient counts once, expired as its copy ended, beside the one sent. */
static void assert_requeue_counts(const char *db, const char *what)
{
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_eq(s->total.received, 2, "%s", what);
	cr_assert_eq(s->total.notifications, 0, "%s", what);
	cr_assert_eq(s->total.bytes_received, 466 + 649, "%s", what);
	cr_assert_eq(s->total.recipients, 2, "%s", what);
	cr_assert_eq(s->total.delivered, 1, "%s", what);
	cr_assert_eq(s->total.expired, 1, "%s", what);
	cr_assert_eq(s->total.deferred, 0, "%s", what);
	cr_assert_eq(s->total.filtered, 0, "%s", what);
	cr_assert_eq(s->total.deferred_once, 1, "%s", what);
	cr_assert_eq(s->delays, 2, "%s", what);
	cr_assert_eq(s->max, 305, "%s", what);
	cr_assert_eq(count_of(s->dsn, s->ndsn, "4.4.1"), 1, "%s", what);
	pfi_stats_free(s);
}

/* Cells give the rows' answer over the requeue log's hour, whole and cut
 * at the pickup (13:32), by every key, in UTC and local time. */
static void assert_requeue_cells(const char *db)
{
	static const int64_t cuts[][2] = {
		{ 0, 0 }, { T1300, T1400 }, { T1300, T1300 + 1920000000 },
		{ T1300 + 1920000000, T1400 },
	};
	size_t i;
	int by, utc;

	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		for (by = PFI_BY_NONE; by <= PFI_BY_CLIENT; by++)
			for (utc = 0; utc <= 1; utc++)
				free(assert_cells_match_rows(db, cuts[i][0], cuts[i][1],
				                             (enum pfi_stats_by)by, utc));
}

Test(stats, a_requeued_message_is_received_once_with_its_final_outcome)
{
	char *db = requeue_runs("one", NULL, 0);

	assert_requeue_counts(db, "one run");
	assert_requeue_cells(db);
	free(db);
}

Test(stats, a_requeue_picked_up_in_a_later_run_counts_the_same)
{
	/* Run 1 ends after "requeued": the old message is stored open, with
	 * its recipient deferred, until run 2 reads the pickup line. */
	const size_t cut[] = { PICKUP_LINE };
	char *one = requeue_runs("one", NULL, 0), *two = requeue_runs("two", cut, 1);
	char *want = assert_cells_match_rows(one, 0, 0, PFI_BY_HOUR, 1);
	char *got = assert_cells_match_rows(two, 0, 0, PFI_BY_HOUR, 1);

	assert_requeue_counts(two, "runs cut before the pickup");
	assert_requeue_cells(two);
	cr_assert_str_eq(got, want);
	free(want);
	free(got);
	free(one);
	free(two);
}

Test(stats, a_requeue_indexed_before_its_old_id_counts_the_same)
{
	/* The copy's lines first, the old ID's in a later run: the index
	 * links them and ends the old message, so nothing counts twice. */
	char *one = requeue_runs("one", NULL, 0), *late = requeue_index_late("late");
	char *want = assert_cells_match_rows(one, 0, 0, PFI_BY_DOMAIN, 1);
	char *got = assert_cells_match_rows(late, 0, 0, PFI_BY_DOMAIN, 1);

	assert_requeue_counts(late, "old ID indexed last");
	assert_requeue_cells(late);
	cr_assert_str_eq(got, want);
	free(want);
	free(got);
	free(one);
	free(late);
}

/* postsuper -r on a server with a content filter: the filter's copy
 * 11DD71161BB is deferred and requeued; the requeued copy 22EE81161CC
 * passes the filter again as 33FF91161DD, which delivers.  Three hops
 * from the original 74C0F1161B2. */
static const char filter_requeue_log[] =
	"Nov  2 09:59:58 mx1 postfix/smtpd[2101]: 74C0F1161B2: client=smtp.partner.example[198.51.100.25]\n"
	"Nov  2 09:59:58 mx1 postfix/cleanup[1211]: 74C0F1161B2: message-id=<r3@partner.example>\n"
	"Nov  2 09:59:58 mx1 postfix/qmgr[1102]: 74C0F1161B2: from=<billing@partner.example>, size=25310, nrcpt=1 (queue active)\n"
	"Nov  2 09:59:59 mx1 postfix/reinject/smtpd[2301]: 11DD71161BB: client=localhost[127.0.0.1], orig_queue_id=74C0F1161B2, orig_client=smtp.partner.example[198.51.100.25]\n"
	"Nov  2 09:59:59 mx1 postfix/cleanup[1211]: 11DD71161BB: message-id=<r3@partner.example>\n"
	"Nov  2 09:59:59 mx1 postfix/qmgr[1102]: 11DD71161BB: from=<billing@partner.example>, size=25760, nrcpt=1 (queue active)\n"
	"Nov  2 09:59:59 mx1 postfix/smtp[1401]: 74C0F1161B2: to=<carol@far.example>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0.08/0.46/0/0.46, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 11DD71161BB)\n"
	"Nov  2 09:59:59 mx1 postfix/qmgr[1102]: 74C0F1161B2: removed\n"
	"Nov  2 10:00:05 mx1 postfix/smtp[1402]: 11DD71161BB: to=<carol@far.example>, relay=none, delay=6, delays=0.1/0/5.9/0, dsn=4.4.1, status=deferred (connect to mx.far.example[192.0.2.9]:25: Connection refused)\n"
	"Nov  2 10:05:00 mx1 postfix/postsuper[3001]: 11DD71161BB: requeued\n"
	"Nov  2 10:05:01 mx1 postfix/pickup[3002]: 22EE81161CC: uid=0 from=<billing@partner.example> orig_id=11DD71161BB\n"
	"Nov  2 10:05:01 mx1 postfix/cleanup[1211]: 22EE81161CC: message-id=<r3@partner.example>\n"
	"Nov  2 10:05:01 mx1 postfix/qmgr[1102]: 22EE81161CC: from=<billing@partner.example>, size=25900, nrcpt=1 (queue active)\n"
	"Nov  2 10:05:02 mx1 postfix/reinject/smtpd[2302]: 33FF91161DD: client=localhost[127.0.0.1], orig_queue_id=22EE81161CC, orig_client=localhost[127.0.0.1]\n"
	"Nov  2 10:05:02 mx1 postfix/cleanup[1211]: 33FF91161DD: message-id=<r3@partner.example>\n"
	"Nov  2 10:05:02 mx1 postfix/qmgr[1102]: 33FF91161DD: from=<billing@partner.example>, size=26000, nrcpt=1 (queue active)\n"
	"Nov  2 10:05:02 mx1 postfix/smtp[1403]: 22EE81161CC: to=<carol@far.example>, relay=127.0.0.1[127.0.0.1]:10024, delay=1, delays=0.08/0.46/0/0.46, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 33FF91161DD)\n"
	"Nov  2 10:05:02 mx1 postfix/qmgr[1102]: 22EE81161CC: removed\n"
	"Nov  2 10:05:03 mx1 postfix/smtp[1404]: 33FF91161DD: to=<carol@far.example>, relay=mx.far.example[192.0.2.9]:25, delay=1.5, delays=0.1/0/0.4/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"Nov  2 10:05:03 mx1 postfix/qmgr[1102]: 33FF91161DD: removed\n";

Test(stats, a_requeued_filter_copy_counts_once_through_three_hops)
{
	static const size_t cuts[] = { 9, 11, 20 };
	char *db = text_db(filter_requeue_log);
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_eq(s->total.received, 1);
	cr_assert_eq(s->total.recipients, 1);
	cr_assert_eq(s->total.delivered, 1);
	cr_assert_eq(s->total.deferred, 0);
	cr_assert_eq(s->delays, 1);
	cr_assert_float_eq(s->max, 1.5, 1e-9);
	cr_assert_eq(s->ntop_domains, 1);
	cr_assert_str_eq(s->top_domains[0].domain, "far.example");
	cr_assert_eq(s->top_domains[0].delivered, 1);
	pfi_stats_free(s);
	free(assert_cells_match_rows(db, 0, 0, PFI_BY_DOMAIN, 1));
	free(db);
	/* The same in runs: before the deferral, before the pickup, the end. */
	index_in_pieces(filter_requeue_log, cuts, 3);
}

Test(stats, any_cut_of_the_requeue_log_counts_what_one_run_counts)
{
	char *one = requeue_runs("one", NULL, 0), *want, what[64];
	size_t k;

	want = assert_cells_match_rows(one, 0, 0, PFI_BY_DOMAIN, 1);
	for (k = 1; k < REQUEUE_LOG_LINES; k++) {
		char name[32], *db, *got;

		snprintf(name, sizeof(name), "cut%zu", k);
		snprintf(what, sizeof(what), "cut after line %zu", k);
		db = requeue_runs(name, &k, 1);
		assert_requeue_counts(db, what);
		got = assert_cells_match_rows(db, 0, 0, PFI_BY_DOMAIN, 1);
		cr_assert_str_eq(got, want, "%s", what);
		free(got);
		free(db);
	}
	free(want);
	free(one);
}

/* ---- what pflogsumm reports beside the outcomes --------------------------- */

/* Lines of the file holding every one of the needles. */
static int64_t lines_with(const char *path, const char *a, const char *b)
{
	FILE *fp = fopen(path, "r");
	char line[8192];
	int64_t n = 0;

	cr_assert_not_null(fp);
	while (fgets(line, sizeof(line), fp))
		n += strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL);
	fclose(fp);
	return n;
}

Test(stats, deferral_events_problem_lines_and_reject_warnings_of_a_real_log)
{
	/* testdata/realpostfix: real Postfix 3.7; its pflogsumm.txt says
	 * "240 deferrals" and its log has two fatal lines. */
	const char *dir = tmpdir_make();
	char *log = copy_fixture("realpostfix/mail.log", dir, "mail.log",
	                         1796601600);
	char *db = path_join(dir, "real.db");
	const char *paths[] = { log };
	struct pfi_stats *s;
	size_t i, found = 0;

	pfi_store_close(index_into(db, paths, 1, NULL));
	s = stats_of(db, NULL, PFI_BY_NONE, 0);
	cr_assert_eq(s->deferrals, lines_with(log, "status=deferred", NULL));
	cr_assert_eq(s->deferrals, 240);
	cr_assert_eq(s->reject_warnings, lines_with(log, ": reject_warning: ", NULL));
	cr_assert_eq(s->fatals, lines_with(log, "]: fatal: ", NULL));
	cr_assert_eq(s->fatals, 2);
	cr_assert_eq(s->panics, 0);
	/* "QID: warning: header ..." is a header_checks WARN, not a warning. */
	cr_assert_eq(s->warnings, lines_with(log, "]: warning: ", NULL));
	cr_assert_eq(s->clock_warnings, 0);
	for (i = 0; i < s->nproblems; i++)
		if (strcmp(s->problems[i].kind, "N: queue file size limit exceeded") == 0) {
			cr_assert_str_eq(s->problems[i].level, "warning");
			cr_assert_eq(s->problems[i].count,
			             lines_with(log, "queue file size limit exceeded", NULL));
			found = 1;
		}
	cr_assert(found, "the size limit warnings are one kind");
	cr_assert_gt(s->ndeferring_domains, 0);
	cr_assert_str_eq(s->deferring_domains[0].key, "refused.test");
	cr_assert_eq(s->deferring_domains[0].count,
	             lines_with(log, "status=deferred", "@refused.test>"));
	pfi_stats_free(s);
	free(log);
	free(db);
}

Test(stats, a_clock_warning_is_counted_beside_the_delays_it_distorts)
{
	/* Postfix's mail_stream.c words, on a line as Postfix logs it. */
	char *db = text_db(
		"Nov  2 09:00:00 mx1 postfix/smtpd[1]: warning: file system clock is 3600 seconds behind local clock\n"
		"Nov  2 09:00:01 mx1 postfix/smtpd[1]: warning: hostname x.example does not resolve to address 192.0.2.7\n");
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_eq(s->clock_warnings, 1);
	cr_assert_eq(s->warnings, 2);
	cr_assert_eq(s->nproblems, 2);
	pfi_stats_free(s);
	free(db);
}

Test(stats, an_index_of_schema_2_is_read_without_problems_and_upgraded)
{
	char *db = text_db(
		"Nov  2 09:00:00 mx1 postfix/smtpd[1]: warning: file system clock is 3600 seconds behind local clock\n");
	struct pfi_stats *s;
	pfi_store *st = NULL;
	sqlite3 *raw = NULL;

	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "DROP TABLE problems;"
	             " PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	s = stats_of(db, NULL, PFI_BY_NONE, 0);
	cr_assert_eq(s->warnings, 0);
	cr_assert_eq(s->nproblems, 0);
	pfi_stats_free(s);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	cr_assert_eq(db_int(db, "PRAGMA user_version"), 5);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM problems"), 0);
	free(db);
}

Test(stats, a_sendmail_bv_test_and_its_report_are_probes_not_mail)
{
	/* Real lines of testdata/realpostfix/mail.log: sendmail -bv from
	 * bob, and the delivery status report bounce(8) sent him. */
	char *db = text_db(
		"Nov  2 09:02:43 mx1 postfix/pickup[28620]: 951B21082AF: uid=0 from=<bob@local.test>\n"
		"Nov  2 09:02:43 mx1 postfix/cleanup[29187]: 951B21082AF: message-id=<20261206210243.951B21082AF@mx1.example.test>\n"
		"Nov  2 09:02:43 mx1 postfix/qmgr[28621]: 951B21082AF: from=<bob@local.test>, size=313, nrcpt=1 (queue active)\n"
		"Nov  2 09:02:43 mx1 postfix/local[29224]: 951B21082AF: to=<alice@local.test>, relay=local, delay=0.1, delays=0.1/0/0/0, dsn=2.0.0, status=deliverable (delivers to mailbox)\n"
		"Nov  2 09:02:43 mx1 postfix/cleanup[29552]: A48E21082AE: message-id=<20261206210243.A48E21082AE@mx1.example.test>\n"
		"Nov  2 09:02:43 mx1 postfix/qmgr[28621]: A48E21082AE: from=<>, size=1951, nrcpt=1 (queue active)\n"
		"Nov  2 09:02:43 mx1 postfix/bounce[30276]: 951B21082AF: sender delivery status notification: A48E21082AE\n"
		"Nov  2 09:02:43 mx1 postfix/qmgr[28621]: 951B21082AF: removed\n"
		"Nov  2 09:02:43 mx1 postfix/local[29307]: A48E21082AE: to=<bob@local.test>, relay=local, delay=0.01, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)\n"
		"Nov  2 09:02:43 mx1 postfix/qmgr[28621]: A48E21082AE: removed\n");
	struct pfi_stats *s = stats_of(db, NULL, PFI_BY_NONE, 0);

	cr_assert_eq(s->total.received, 0);
	cr_assert_eq(s->total.notifications, 0);
	cr_assert_eq(s->total.recipients, 0);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages"
	             " WHERE flags & 16384 != 0"), 2);
	pfi_stats_free(s);
	free(db);
}

Test(stats, a_cell_of_a_kind_this_build_does_not_know_counts_nothing)
{
	char *db = sample_db();
	struct pfi_stats *a = stats_of(db, NULL, PFI_BY_NONE, 0), *b;
	sqlite3 *raw = NULL;

	/* As a newer pfi might write: a copy of every recipient cell under
	 * kind 99. */
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "INSERT INTO stat_cells SELECT hour, 99,"
	             " host, domain, sender_domain, status, dsn, code, class, tls,"
	             " n, m, delays FROM stat_cells WHERE kind = 0", NULL, NULL,
	             NULL), SQLITE_OK);
	sqlite3_close(raw);
	b = stats_of(db, NULL, PFI_BY_NONE, 0);
	cr_assert_gt(a->total.recipients, 0);
	cr_assert_eq(b->total.recipients, a->total.recipients);
	cr_assert_eq(b->total.rejected, a->total.rejected);
	cr_assert_eq(b->delays, a->delays);
	pfi_stats_free(a);
	pfi_stats_free(b);
	free(db);
}
