/*
 * stats.c - `pfi stats [FILTERS]`: delivery health over a period, exact:
 * counts, rates, delay percentiles, SLA, TLS, top and slow domains, DSNs
 * and reject classes, optionally by day, hour, domain ... and against the
 * same period an interval earlier.  Reads the index; writes the SPEC
 * stats document, or on the table format a readable summary with a
 * per-day chart and an hour-of-day x weekday heatmap (Unicode blocks,
 * ASCII without UTF-8).
 */
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfi.h"

enum {
	OPT_BY = CLI_OPT_FILTER_END, OPT_TOP, OPT_SLA, OPT_COMPARE
};

static const char *const stats_by_keys[] = {
	"day", "hour", "domain", "sender-domain", "dsn", "status", "host",
	"client", NULL
};

static const struct cli_opt stats_opts[] = {
	CLI_FILTER_OPTS,
	{ "by", 0, CLI_ARG_CHOICE, "KEY", OPT_BY, CLI_OPT_SHOW_CHOICES,
	  stats_by_keys, "one row per day, hour, domain, sender-domain, dsn, "
	  "status, host or client", NULL },
	{ "top", 0, CLI_ARG_NUMBER, "N", OPT_TOP, 0, NULL,
	  "length of the top lists and of --by rows (the rest is summed into "
	  "\"(other)\")", NULL },
	{ "sla", 0, CLI_ARG_DURATION, "DURATION", OPT_SLA, 0, NULL,
	  "SLA threshold (default 5m): 90s, 5m, 1h", NULL },
	{ "compare", 0, CLI_ARG_DURATION, "PERIOD", OPT_COMPARE, 0, NULL,
	  "also the same figures PERIOD earlier (90s, 15m, 2h, 1d, 1w) and the "
	  "change; without --since, the period is the last PERIOD before "
	  "--until", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

/* What the command line asked for. */
struct stats_args {
	struct cli_filter cf;          /* the filters */
	struct pfi_stats_opts o;       /* by, top, sla */
	int top_given;                 /* --top was given */
	int64_t compare;               /* --compare PERIOD, microseconds; 0: none */
	const char *compare_arg;       /* its text, for messages */
};

/* ---- option values ------------------------------------------------------ */

static int stats_top(const char *v, struct stats_args *a)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n <= 0 || n > 1000000)
		return cli_usage_error("stats", "invalid --top '%s'", v);
	a->o.top = (size_t)n;
	a->top_given = 1;
	return PFI_EXIT_OK;
}

static int stats_sla(const char *v, double *out)
{
	if (cli_duration(v, out) == 0)
		return PFI_EXIT_OK;
	return cli_usage_error("stats", "invalid --sla '%s'", v);
}

/*
 * --compare PERIOD, in whole microseconds (the unit of times).  At most
 * the span of times pfi reads (year 9999), so that shifting a period back
 * by it twice cannot overflow; anything that rounds to zero is refused.
 */
static int stats_compare(const char *v, struct stats_args *a)
{
	const double max = 253402300800.0;   /* seconds to 10000-01-01 */
	double secs;

	if (cli_duration(v, &secs) != 0 || secs * 1e6 + 0.5 < 1)
		return cli_usage_error("stats", "invalid --compare '%s': want a "
		                       "duration above zero, e.g. 90s, 15m, 2h, "
		                       "1d, 1w", v);
	if (secs > max)
		return cli_usage_error("stats", "invalid --compare '%s': longer "
		                       "than the time pfi can read", v);
	a->compare = (int64_t)(secs * 1e6 + 0.5);
	a->compare_arg = v;
	return PFI_EXIT_OK;
}

static int stats_by(const char *v, enum pfi_stats_by *out)
{
	if (strcmp(v, "none") != 0 && pfi_stats_by_parse(out, v) == PFI_OK)
		return PFI_EXIT_OK;
	return cli_usage_error("stats", "invalid --by '%s' (day, hour, domain,"
	                       " sender-domain, dsn, status, host or client)", v);
}

/* Takes option c with value v; returns -1 to go on, or an exit code. */
static int stats_option(struct stats_args *a, int c, const char *v)
{
	int rc = PFI_EXIT_OK;

	if (cli_filter_option("stats", &a->cf, c, v, &rc))
		return rc == PFI_EXIT_OK ? -1 : rc;
	if (c == OPT_BY)
		rc = stats_by(v, &a->o.by);
	else if (c == OPT_TOP)
		rc = stats_top(v, a);
	else if (c == OPT_SLA)
		rc = stats_sla(v, &a->o.sla);
	else if (c == OPT_COMPARE)
		rc = stats_compare(v, a);
	return rc == PFI_EXIT_OK ? -1 : rc;
}

/* ---- the document ---------------------------------------------------------- */

/* The count fields, in SPEC order (held and deleted are extra). */
static void stats_counts(pfi_out *o, const struct pfi_stats_counts *c)
{
	cli_out_int(o, "received", c->received);
	cli_out_int(o, "notifications", c->notifications);
	pfi_out_int(o, "recipients", c->recipients);
	pfi_out_int(o, "delivered", c->delivered);
	pfi_out_int(o, "deferred", c->deferred);
	pfi_out_int(o, "bounced", c->bounced);
	pfi_out_int(o, "expired", c->expired);
	pfi_out_int(o, "rejected", c->rejected);
	pfi_out_int(o, "discarded", c->discarded);
	pfi_out_int(o, "held", c->held);
	pfi_out_int(o, "deleted", c->deleted);
	pfi_out_num(o, "bounce_rate", c->bounce_rate);
	pfi_out_num(o, "defer_rate", c->defer_rate);
	cli_out_int(o, "bytes_received", c->bytes_received);
}

/* verdicts{KIND: {RESULT: {messages, ratio}}}. */
static void stats_verdict_object(pfi_out *o, const struct pfi_stats_verdict *v,
                                 size_t n)
{
	size_t i;

	pfi_out_object_begin(o, "verdicts");
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(v[i].kind, v[i - 1].kind) != 0)
			pfi_out_object_begin(o, v[i].kind);
		pfi_out_object_begin(o, v[i].result);
		cli_out_int(o, "messages", v[i].messages);
		cli_out_num(o, "ratio", v[i].ratio);
		pfi_out_object_end(o);
		if (i + 1 == n || strcmp(v[i].kind, v[i + 1].kind) != 0)
			pfi_out_object_end(o);
	}
	pfi_out_object_end(o);
}

/* The verdicts of a table's by[] row in one cell: "dkim=pass:12
 * spf=fail:1" (the last column, which wraps). */
static void stats_verdict_cell(pfi_out *o, const struct pfi_stats_verdict *v,
                               size_t n)
{
	char cell[1024];
	size_t len = 0, i;
	int w;

	cell[0] = '\0';
	for (i = 0; i < n; i++) {
		w = snprintf(cell + len, sizeof(cell) - len, "%s%s=%s:%" PRId64,
		             len ? " " : "", v[i].kind, v[i].result, v[i].messages);
		if (w < 0 || (size_t)w >= sizeof(cell) - len)
			break;
		len += (size_t)w;
	}
	pfi_out_str(o, "verdicts", cell);
}

/* The messages of v[0..n) with verdict kind=result; 0 when none. */
static int64_t stats_verdict_of(const struct pfi_stats_verdict *v, size_t n,
                                const char *kind, const char *result)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].kind, kind) == 0 && strcmp(v[i].result, result) == 0)
			return v[i].messages;
	return 0;
}

/*
 * CSV and TSV: a column for each verdict SPEC knows, whatever the data
 * holds, named as the JSON document's path flattens ("verdicts.dkim.pass.
 * messages"), so that the columns never depend on the data.
 */
static void stats_verdict_columns(pfi_out *o, const struct pfi_stats_verdict *v,
                                  size_t n)
{
	const char *const *k, *const *r;
	char name[96];

	for (k = pfi_verdict_kinds(); *k; k++)
		for (r = pfi_verdict_results(*k); *r; r++) {
			snprintf(name, sizeof(name), "verdicts.%s.%s.messages", *k, *r);
			pfi_out_int(o, name, stats_verdict_of(v, n, *k, *r));
		}
}

/* A rate (a fraction, not negative) in percent with one decimal: the
 * JSON fraction, three decimals, times 100, so that both show the same
 * figure (rounded here: the pfi program does not link libm). */
static double stats_percent(double v)
{
	return (double)(int64_t)(v * 1000 + 0.5) / 10;
}

/* A rate in a table, as stats_percent(); null when there is none. */
static void stats_out_pct(pfi_out *o, const char *key, double v)
{
	cli_out_num(o, key, v < 0 ? v : stats_percent(v));
}

/* A by[] row in a table: the counts people read, rates in percent, the
 * message counts only when the key splits them (not by recipient). */
static void stats_group_table(pfi_out *o, const struct pfi_stats_group *g,
                              int verdicts)
{
	const struct pfi_stats_counts *c = &g->c;
	int msgs = c->received >= 0;

	pfi_out_str(o, "key", g->key);
	if (msgs)
		pfi_out_int(o, "received", c->received);
	pfi_out_int(o, "recipients", c->recipients);
	pfi_out_int(o, "delivered", c->delivered);
	pfi_out_int(o, "deferred", c->deferred);
	pfi_out_int(o, "bounced", c->bounced);
	pfi_out_int(o, "expired", c->expired);
	pfi_out_int(o, "rejected", c->rejected);
	pfi_out_int(o, "discarded", c->discarded);
	pfi_out_int(o, "held", c->held);
	pfi_out_int(o, "deleted", c->deleted);
	stats_out_pct(o, "bounce%", c->bounce_rate);
	stats_out_pct(o, "defer%", c->defer_rate);
	if (msgs)
		pfi_out_int(o, "notifications", c->notifications);
	if (verdicts)
		stats_verdict_cell(o, g->verdicts, g->nverdicts);
}

/* How a by[] row carries its verdicts. */
enum group_verdicts { GV_OBJECT, GV_COLUMNS };

static void stats_group(pfi_out *o, const struct pfi_stats_group *g,
                        enum group_verdicts gv)
{
	pfi_out_str(o, "key", g->key);
	stats_counts(o, &g->c);
	if (gv == GV_OBJECT)
		stats_verdict_object(o, g->verdicts, g->nverdicts);
	else
		stats_verdict_columns(o, g->verdicts, g->nverdicts);
}

static void stats_domain(pfi_out *o, const struct pfi_stats_domain *d,
                         int slow)
{
	pfi_out_object_begin(o, NULL);
	pfi_out_str(o, "domain", d->domain);
	pfi_out_int(o, "recipients", d->recipients);
	pfi_out_int(o, "delivered", d->delivered);
	pfi_out_int(o, "deferred", d->deferred);
	pfi_out_int(o, "bounced", d->bounced);
	pfi_out_int(o, "expired", d->expired);
	pfi_out_int(o, "rejected", d->rejected);
	if (slow) {
		pfi_out_int(o, "delays", d->delays);
		cli_out_num(o, "p95", d->p95);
		cli_out_num(o, "max", d->max);
	}
	pfi_out_object_end(o);
}

static void stats_count_object(pfi_out *o, const char *key,
                               const struct pfi_count *c, size_t n)
{
	size_t i;

	pfi_out_object_begin(o, key);
	for (i = 0; i < n; i++)
		pfi_out_int(o, c[i].key, c[i].count);
	pfi_out_object_end(o);
}

static const char *const reject_classes[] = {
	"relay_denied", "unknown_user", "rbl", "sender_helo_client",
	"policy_milter", "other"
};

/* rejects{}: every class, with its count and its codes. */
static void stats_rejects(pfi_out *o, const struct pfi_stats *s)
{
	size_t c, i;
	int64_t n;

	pfi_out_object_begin(o, "rejects");
	for (c = 0; c < sizeof(reject_classes) / sizeof(*reject_classes); c++) {
		pfi_out_object_begin(o, reject_classes[c]);
		for (i = 0, n = 0; i < s->nrejects; i++)
			if (strcmp(s->rejects[i].class, reject_classes[c]) == 0)
				n += s->rejects[i].count;
		pfi_out_int(o, "count", n);
		pfi_out_object_begin(o, "codes");
		for (i = 0; i < s->nrejects; i++)
			if (strcmp(s->rejects[i].class, reject_classes[c]) == 0)
				pfi_out_int(o, s->rejects[i].code, s->rejects[i].count);
		pfi_out_object_end(o);
		pfi_out_object_end(o);
	}
	pfi_out_object_end(o);
}

static void stats_delay_sla_tls(pfi_out *o, const struct pfi_stats *s)
{
	pfi_out_object_begin(o, "delay");
	cli_out_num(o, "p50", s->p50);
	cli_out_num(o, "p95", s->p95);
	cli_out_num(o, "p99", s->p99);
	cli_out_num(o, "max", s->max);
	pfi_out_object_end(o);
	pfi_out_object_begin(o, "sla");
	pfi_out_num(o, "threshold", s->sla_threshold);
	cli_out_num(o, "within_ratio", s->sla_within_ratio);
	pfi_out_object_end(o);
	pfi_out_object_begin(o, "tls");
	cli_out_num(o, "inbound_ratio", s->tls_inbound_ratio);
	cli_out_num(o, "outbound_ratio", s->tls_outbound_ratio);
	stats_count_object(o, "protocols", s->tls_protocols, s->ntls_protocols);
	pfi_out_object_end(o);
}

static void stats_lists(pfi_out *o, const struct pfi_stats *s)
{
	size_t i;

	pfi_out_array_begin(o, "top_domains");
	for (i = 0; i < s->ntop_domains; i++)
		stats_domain(o, &s->top_domains[i], 0);
	pfi_out_array_end(o);
	pfi_out_array_begin(o, "top_sender_domains");
	for (i = 0; i < s->ntop_sender_domains; i++) {
		pfi_out_object_begin(o, NULL);
		pfi_out_str(o, "domain", s->top_sender_domains[i].key);
		pfi_out_int(o, "recipients", s->top_sender_domains[i].count);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
	pfi_out_array_begin(o, "slow_domains");
	for (i = 0; i < s->nslow_domains; i++)
		stats_domain(o, &s->slow_domains[i], 1);
	pfi_out_array_end(o);
}

/* The fields of one stats document (inside a record or an object). */

/* sasl_clients[]: the clients with the most failed logins. */
static void stats_sasl_clients(pfi_out *o, const struct pfi_stats *s)
{
	size_t i;

	pfi_out_array_begin(o, "sasl_clients");
	for (i = 0; i < s->nsasl_clients; i++) {
		pfi_out_object_begin(o, NULL);
		pfi_out_str(o, "client", s->sasl_clients[i].key);
		pfi_out_int(o, "count", s->sasl_clients[i].count);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
}

/* deferrals{events, records, domains[]}, distinct senders and recipients,
 * and problems{warning, error, fatal, panic, reject_warning, clock,
 * kinds[]}: what pflogsumm reports beside the outcomes. */
static void stats_more(pfi_out *o, const struct pfi_globals *g,
                       const struct pfi_stats *s)
{
	size_t i;

	pfi_out_object_begin(o, "deferrals");
	cli_out_int(o, "events", s->deferrals);
	cli_out_int(o, "records", s->deferred_records);
	pfi_out_array_begin(o, "domains");
	for (i = 0; i < s->ndeferring_domains; i++) {
		pfi_out_object_begin(o, NULL);
		pfi_out_str(o, "domain", s->deferring_domains[i].key);
		cli_out_int(o, "events", s->deferring_domains[i].count);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
	pfi_out_object_end(o);
	cli_out_int(o, "senders", s->senders);
	cli_out_int(o, "distinct_recipients", s->distinct_recipients);
	cli_out_int(o, "reject_warnings", s->reject_warnings);
	pfi_out_object_begin(o, "problems");
	cli_out_int(o, "warning", s->warnings);
	cli_out_int(o, "error", s->errors);
	cli_out_int(o, "fatal", s->fatals);
	cli_out_int(o, "panic", s->panics);
	cli_out_int(o, "clock_warnings", s->clock_warnings);
	pfi_out_array_begin(o, "kinds");
	for (i = 0; i < s->nproblems; i++) {
		const struct pfi_stats_problem *p = &s->problems[i];
		pfi_out_object_begin(o, NULL);
		pfi_out_str(o, "level", p->level);
		pfi_out_str(o, "kind", p->kind);
		cli_out_int(o, "count", p->count);
		pfi_out_time(o, "first", p->first);
		pfi_out_time(o, "last", p->last);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
	pfi_out_object_end(o);
	(void)g;
}

/* verdicts{...} and signing[{domain, messages, signed, ratio}]: the
 * milters' and filters' verdicts. */
static void stats_verdicts(pfi_out *o, const struct pfi_stats *s)
{
	size_t i;

	stats_verdict_object(o, s->verdicts, s->nverdicts);
	pfi_out_array_begin(o, "signing");
	for (i = 0; i < s->nsigning; i++) {
		pfi_out_object_begin(o, NULL);
		pfi_out_str(o, "domain", s->signing[i].domain);
		cli_out_int(o, "messages", s->signing[i].messages);
		cli_out_int(o, "signed", s->signing[i].signed_messages);
		cli_out_num(o, "ratio", s->signing[i].ratio);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
}

static void stats_fields(pfi_out *o, const struct pfi_stats *s)
{
	size_t i;

	pfi_out_time(o, "since", s->since);
	pfi_out_time(o, "until", s->until);
	stats_counts(o, &s->total);
	stats_delay_sla_tls(o, s);
	stats_lists(o, s);
	stats_count_object(o, "dsn", s->dsn, s->ndsn);
	stats_rejects(o, s);
	cli_out_int(o, "sasl_failures", s->sasl_failures);
	stats_sasl_clients(o, s);
	stats_more(o, NULL, s);
	stats_verdicts(o, s);
	pfi_out_array_begin(o, "by");
	for (i = 0; i < s->nby; i++) {
		pfi_out_object_begin(o, NULL);
		stats_group(o, &s->by[i], GV_OBJECT);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
}

/* change{}: current minus previous, for the totals and the ratios. */
static void stats_change(pfi_out *o, const struct pfi_stats *a,
                         const struct pfi_stats *b)
{
	const struct pfi_stats_counts *x = &a->total, *y = &b->total;

	pfi_out_object_begin(o, "change");
	pfi_out_int(o, "received", x->received - y->received);
	pfi_out_int(o, "notifications", x->notifications - y->notifications);
	pfi_out_int(o, "recipients", x->recipients - y->recipients);
	pfi_out_int(o, "delivered", x->delivered - y->delivered);
	pfi_out_int(o, "deferred", x->deferred - y->deferred);
	pfi_out_int(o, "bounced", x->bounced - y->bounced);
	pfi_out_int(o, "expired", x->expired - y->expired);
	pfi_out_int(o, "rejected", x->rejected - y->rejected);
	pfi_out_int(o, "discarded", x->discarded - y->discarded);
	pfi_out_num(o, "bounce_rate", x->bounce_rate - y->bounce_rate);
	pfi_out_num(o, "defer_rate", x->defer_rate - y->defer_rate);
	pfi_out_int(o, "bytes_received", x->bytes_received - y->bytes_received);
	pfi_out_object_end(o);
}

/* json and ndjson: the document as one record. */
static int stats_document(struct pfi_globals *g, const struct pfi_stats *s,
                          const struct pfi_stats *prev)
{
	pfi_out *o = cli_out_new(g, -1);

	pfi_out_begin(o, "");
	pfi_out_record_begin(o);
	stats_fields(o, s);
	if (prev != NULL) {
		pfi_out_object_begin(o, "previous");
		stats_fields(o, prev);
		pfi_out_object_end(o);
		stats_change(o, s, prev);
	}
	pfi_out_record_end(o);
	return cli_out_end(o);
}

/* The table's columns that may go when the screen is narrow, least
 * useful first (pfi_out_set_optional). */
static const char *const stats_table_optional[] = {
	"notifications", "held", "deleted", "discarded", "defer%", "expired",
	"received", NULL
};

/* The by[] rows of s as a table; the verdicts column only when some row
 * has verdicts. */
static int stats_by_rows_table(struct pfi_globals *g, const struct pfi_stats *s)
{
	pfi_out *o = cli_out_new(g, PFI_FMT_TABLE);
	size_t i, any = 0;

	for (i = 0; i < s->nby; i++)
		any += s->by[i].nverdicts;
	pfi_out_set_optional(o, stats_table_optional);
	pfi_out_begin(o, "by");
	for (i = 0; i < s->nby; i++) {
		pfi_out_record_begin(o);
		stats_group_table(o, &s->by[i], any > 0);
		pfi_out_record_end(o);
	}
	return cli_out_end(o);
}

/* One record per by[] row of s (and of prev after them), each with its
 * period, so that the rows of both periods tell themselves apart. */
static void stats_by_records(pfi_out *o, const struct pfi_stats *s,
                             enum group_verdicts gv)
{
	size_t i;

	for (i = 0; i < s->nby; i++) {
		pfi_out_record_begin(o);
		pfi_out_time(o, "since", s->since);
		pfi_out_time(o, "until", s->until);
		stats_group(o, &s->by[i], gv);
		pfi_out_record_end(o);
	}
}

/* ndjson, csv, tsv with --by: one record per by[] row. */
static int stats_rows(struct pfi_globals *g, const struct pfi_stats *s,
                      const struct pfi_stats *prev)
{
	pfi_out *o = cli_out_new(g, -1);
	enum group_verdicts gv = g->format == PFI_FMT_NDJSON ? GV_OBJECT
	                                                    : GV_COLUMNS;

	pfi_out_begin(o, "by");
	stats_by_records(o, s, gv);
	if (prev != NULL)
		stats_by_records(o, prev, gv);
	return cli_out_end(o);
}

/* ---- CSV and TSV: one summary row ---------------------------------------- */

/* The figures of a summary row that are not counts of the totals. */
static void stats_summary_figures(pfi_out *o, const struct pfi_stats *s)
{
	size_t c, i;
	int64_t n;

	cli_out_num(o, "delay.p50", s->p50);
	cli_out_num(o, "delay.p95", s->p95);
	cli_out_num(o, "delay.p99", s->p99);
	cli_out_num(o, "delay.max", s->max);
	pfi_out_num(o, "sla.threshold", s->sla_threshold);
	cli_out_num(o, "sla.within_ratio", s->sla_within_ratio);
	cli_out_num(o, "tls.inbound_ratio", s->tls_inbound_ratio);
	cli_out_num(o, "tls.outbound_ratio", s->tls_outbound_ratio);
	for (c = 0; c < sizeof(reject_classes) / sizeof(*reject_classes); c++) {
		char name[64];

		for (i = 0, n = 0; i < s->nrejects; i++)
			if (strcmp(s->rejects[i].class, reject_classes[c]) == 0)
				n += s->rejects[i].count;
		snprintf(name, sizeof(name), "rejects.%s.count", reject_classes[c]);
		pfi_out_int(o, name, n);
	}
}

/* The counts of a summary row beside the outcomes. */
static void stats_summary_more_counts(pfi_out *o, const struct pfi_stats *s)
{
	cli_out_int(o, "sasl_failures", s->sasl_failures);
	cli_out_int(o, "deferrals.events", s->deferrals);
	cli_out_int(o, "deferrals.records", s->deferred_records);
	cli_out_int(o, "senders", s->senders);
	cli_out_int(o, "distinct_recipients", s->distinct_recipients);
	cli_out_int(o, "reject_warnings", s->reject_warnings);
	cli_out_int(o, "problems.warning", s->warnings);
	cli_out_int(o, "problems.error", s->errors);
	cli_out_int(o, "problems.fatal", s->fatals);
	cli_out_int(o, "problems.panic", s->panics);
	cli_out_int(o, "problems.clock_warnings", s->clock_warnings);
}

/*
 * csv and tsv without --by: one row of the document's single figures,
 * named as its paths flatten, with the same columns whatever the data
 * (lists and keyed breakdowns, such as dsn{}, are --by's rows or the JSON
 * document's); with --compare, a second row for the compared period.
 */
static int stats_summary_rows(struct pfi_globals *g, const struct pfi_stats *s,
                              const struct pfi_stats *prev)
{
	pfi_out *o = cli_out_new(g, -1);
	const struct pfi_stats *p[2] = { s, prev };
	size_t i;

	pfi_out_begin(o, "stats");
	for (i = 0; i < 2 && p[i] != NULL; i++) {
		pfi_out_record_begin(o);
		pfi_out_time(o, "since", p[i]->since);
		pfi_out_time(o, "until", p[i]->until);
		stats_counts(o, &p[i]->total);
		stats_summary_figures(o, p[i]);
		stats_summary_more_counts(o, p[i]);
		stats_verdict_columns(o, p[i]->verdicts, p[i]->nverdicts);
		pfi_out_record_end(o);
	}
	return cli_out_end(o);
}

/* ---- the table summary ------------------------------------------------------- */

/* Block characters, or their ASCII stand-ins. */
struct stats_glyphs {
	const char *shade[5];   /* empty .. full heatmap cells */
	const char *bar;        /* one unit of a bar */
	const char *spark[8];   /* sparkline levels */
};

static const struct stats_glyphs glyphs_utf8 = {
	{ " ", "\u2591", "\u2592", "\u2593", "\u2588" }, "\u2588",
	{ "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587",
	  "\u2588" }
};

static const struct stats_glyphs glyphs_ascii = {
	{ " ", ".", ":", "+", "#" }, "#",
	{ "_", ".", "-", "~", "=", "+", "*", "#" }
};

/* The glyphs for the locale of the environment (LC_CTYPE). */
static const struct stats_glyphs *stats_glyphs(void)
{
	const char *old = setlocale(LC_CTYPE, NULL);
	char *saved = old ? xstrdup(old) : NULL;
	int utf8 = 0;

	if (setlocale(LC_CTYPE, "") != NULL)
		utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	if (saved != NULL)
		setlocale(LC_CTYPE, saved);
	free(saved);
	return utf8 ? &glyphs_utf8 : &glyphs_ascii;
}

/* The width of the summary's labels ("slow domains: " and the rest). */
#define STATS_LABEL 14

static void stats_label(const char *label)
{
	printf("%-*s", STATS_LABEL, label);
}

/* A rate for people: "2.2%", the JSON fraction (three decimals) times 100,
 * as in every table of pfi stats; "-" when there is none. */
static const char *stats_pct(char *buf, size_t size, double v)
{
	if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f%%", stats_percent(v));
	return buf;
}

/* A duration for people: "0.8s", "42s", "5m3s", "2h10m". */
static const char *stats_dur(char *buf, size_t size, double v)
{
	long s = (long)v;

	if (v < 0)
		snprintf(buf, size, "-");
	else if (v < 60)
		snprintf(buf, size, "%.3gs", v);
	else if (s < 3600)
		snprintf(buf, size, "%ldm%lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%ldh%ldm", s / 3600, s % 3600 / 60);
	return buf;
}

static void stats_summary_counts(const struct pfi_globals *g,
                                 const struct pfi_stats *s)
{
	const struct pfi_stats_counts *c = &s->total;
	char a[64], b[64];

	stats_label("period:");
	printf("%s .. %s\n",
	       s->since ? pfi_time_format(a, sizeof(a), s->since, g->utc) : "start",
	       s->until ? pfi_time_format(b, sizeof(b), s->until, g->utc) : "end");
	stats_label("received:");
	printf("%" PRId64 " messages, %" PRId64 " bytes; %" PRId64
	       " bounce notifications\n", c->received, c->bytes_received,
	       c->notifications);
	stats_label("recipients:");
	printf("%" PRId64 ": %" PRId64 " delivered, %" PRId64 " deferred, %"
	       PRId64 " bounced, %" PRId64 " expired, %" PRId64 " rejected, %"
	       PRId64 " discarded, %" PRId64 " held, %" PRId64 " deleted\n",
	       c->recipients, c->delivered, c->deferred, c->bounced, c->expired,
	       c->rejected, c->discarded, c->held, c->deleted);
	stats_label("rates:");
	printf("bounce %s, deferred at least once %s\n",
	       stats_pct(a, sizeof(a), c->bounce_rate),
	       stats_pct(b, sizeof(b), c->defer_rate));
}

static void stats_summary_delay(const struct pfi_stats *s)
{
	char a[32], b[32], c[32], d[32];
	size_t i;

	stats_label("delay:");
	printf("p50 %s, p95 %s, p99 %s, max %s (%" PRId64 " final outcomes)\n",
	       stats_dur(a, sizeof(a), s->p50), stats_dur(b, sizeof(b), s->p95),
	       stats_dur(c, sizeof(c), s->p99), stats_dur(d, sizeof(d), s->max),
	       s->delays);
	/* Delays come from queue file times: a clock that jumped skews them. */
	if (s->clock_warnings > 0)
		printf("%-*s(%" PRId64 " Postfix clock warnings in the period "
		       "distort these: see problems below)\n", STATS_LABEL, "",
		       s->clock_warnings);
	stats_label("sla:");
	printf("%s delivered within %s\n",
	       stats_pct(a, sizeof(a), s->sla_within_ratio),
	       stats_dur(b, sizeof(b), s->sla_threshold));
	stats_label("tls:");
	printf("inbound %s", stats_pct(a, sizeof(a), s->tls_inbound_ratio));
	for (i = 0; i < s->ntls_protocols; i++)
		printf("%s%s %" PRId64, i ? ", " : " (", s->tls_protocols[i].key,
		       s->tls_protocols[i].count);
	printf("%s; outbound %s of network deliveries\n",
	       s->ntls_protocols ? ")" : "",
	       stats_pct(b, sizeof(b), s->tls_outbound_ratio));
}

/* One "label: key n, key n ..." line of a count list: its first `top`
 * entries, the rest summed as "(other)". */
static void stats_count_line(const char *label, const struct pfi_count *c,
                             size_t n, size_t top)
{
	int64_t rest = 0;
	size_t i;

	if (n == 0)
		return;
	stats_label(label);
	for (i = 0; i < n && i < top; i++) {
		printf("%s", i ? ", " : "");
		cli_put_escaped(stdout, c[i].key ? c[i].key : "-");
		printf(" %" PRId64, c[i].count);
	}
	for (; i < n; i++)
		rest += c[i].count;
	if (n > top)
		printf(", (other) %" PRId64, rest);
	putchar('\n');
}

static void stats_summary_lists(const struct pfi_stats *s, size_t top)
{
	char a[32], b[32];
	size_t i;

	if (s->ntop_domains)
		printf("%-*srecipients delivered bounced deferred\n", STATS_LABEL,
		       "top domains:");
	for (i = 0; i < s->ntop_domains; i++) {
		const struct pfi_stats_domain *d = &s->top_domains[i];

		printf("  %10" PRId64 " %9" PRId64 " %7" PRId64 " %8" PRId64 "  ",
		       d->recipients, d->delivered, d->bounced, d->deferred);
		cli_put_escaped(stdout, d->domain ? d->domain : "-");
		putchar('\n');
	}
	if (s->nslow_domains)
		printf("%-*sp95 and max delay of final outcomes\n", STATS_LABEL,
		       "slow domains:");
	for (i = 0; i < s->nslow_domains; i++) {
		const struct pfi_stats_domain *d = &s->slow_domains[i];

		printf("  %9s %9s %6" PRId64 "  ", stats_dur(a, sizeof(a), d->p95),
		       stats_dur(b, sizeof(b), d->max), d->delays);
		cli_put_escaped(stdout, d->domain);
		putchar('\n');
	}
	stats_count_line("sender doms:", s->top_sender_domains,
	                 s->ntop_sender_domains, top);
	stats_count_line("dsn:", s->dsn, s->ndsn, top);
}

/* Reject codes, most frequent first: the first `top`, then the rest
 * summed as "(other)"; SASL failures and the clients with most. */
static void stats_summary_rejects(const struct pfi_stats *s, size_t top)
{
	int64_t rest = 0;
	size_t i;

	if (s->nrejects)
		printf("rejects:\n");
	for (i = 0; i < s->nrejects && i < top; i++)
		printf("  %8" PRId64 "  %-20s %s\n", s->rejects[i].count,
		       s->rejects[i].class, s->rejects[i].code);
	for (; i < s->nrejects; i++)
		rest += s->rejects[i].count;
	if (s->nrejects > top)
		printf("  %8" PRId64 "  (other)\n", rest);
	stats_label("sasl:");
	printf("%" PRId64 " failed logins\n", s->sasl_failures);
	for (i = 0; i < s->nsasl_clients; i++)
		printf("  %8" PRId64 "  %s\n", s->sasl_clients[i].count,
		       s->sasl_clients[i].key);
}

/* Deferral events, distinct addresses, and Postfix's problem lines. */
static void stats_summary_more(const struct pfi_globals *g,
                               const struct pfi_stats *s)
{
	char a[64], b[64];
	size_t i;

	stats_label("deferrals:");
	printf("%" PRId64 " deferred attempts of %" PRId64 " records\n",
	       s->deferrals, s->deferred_records);
	for (i = 0; i < s->ndeferring_domains; i++) {
		printf("  %8" PRId64 "  ", s->deferring_domains[i].count);
		cli_put_escaped(stdout, s->deferring_domains[i].key[0]
		                        ? s->deferring_domains[i].key : "-");
		putchar('\n');
	}
	stats_label("addresses:");
	printf("%" PRId64 " senders, %" PRId64 " recipients\n", s->senders,
	       s->distinct_recipients);
	stats_label("problems:");
	printf("%" PRId64 " warnings, %" PRId64 " errors, %" PRId64 " fatal, %"
	       PRId64 " panic, %" PRId64 " reject warnings\n", s->warnings,
	       s->errors, s->fatals, s->panics, s->reject_warnings);
	for (i = 0; i < s->nproblems; i++) {
		const struct pfi_stats_problem *p = &s->problems[i];
		printf("  %8" PRId64 "  %-14s %s .. %s  ", p->count, p->level,
		       pfi_time_format(a, sizeof(a), p->first, g->utc),
		       pfi_time_format(b, sizeof(b), p->last, g->utc));
		cli_put_escaped(stdout, p->kind);
		putchar('\n');
	}
}

/* The verdicts, a line per kind: "dkim   pass 16 (94.1%), fail 1 (5.9%)",
 * then outbound signing by domain. */
static void stats_summary_verdicts(const struct pfi_stats *s)
{
	char pct[32];
	size_t i;

	if (s->nverdicts > 0)
		printf("verdicts:\n");
	for (i = 0; i < s->nverdicts; i++) {
		const struct pfi_stats_verdict *v = &s->verdicts[i];
		int first = i == 0 || strcmp(v->kind, s->verdicts[i - 1].kind) != 0;

		if (first)
			printf("  %-6s", v->kind);
		printf("%s %s %" PRId64, first ? "" : ",", v->result, v->messages);
		if (v->ratio >= 0)
			printf(" (%s)", stats_pct(pct, sizeof(pct), v->ratio));
		if (i + 1 == s->nverdicts ||
		    strcmp(v->kind, s->verdicts[i + 1].kind) != 0)
			putchar('\n');
	}
	if (s->nsigning > 0)
		printf("%-*smessages  signed\n", STATS_LABEL, "signing:");
	for (i = 0; i < s->nsigning; i++) {
		const struct pfi_stats_signing *g = &s->signing[i];

		printf("  %8" PRId64 "  %6" PRId64 " (%s)  ", g->messages,
		       g->signed_messages, stats_pct(pct, sizeof(pct), g->ratio));
		cli_put_escaped(stdout, g->domain);
		putchar('\n');
	}
}

/* ---- charts -------------------------------------------------------------------- */

/* Per day: a bar of recipients (and the number bounced). */
static void stats_day_bars(const struct pfi_stats *s,
                           const struct stats_glyphs *gl)
{
	size_t i, first = s->ndays > 31 ? s->ndays - 31 : 0;
	int64_t max = 1;
	int j, w;

	for (i = first; i < s->ndays; i++)
		if (s->days[i].c.recipients > max)
			max = s->days[i].c.recipients;
	printf("\nrecipients per day (bounced):\n");
	for (i = first; i < s->ndays; i++) {
		const struct pfi_stats_counts *c = &s->days[i].c;

		w = (int)((c->recipients * 50 + max - 1) / max);
		printf("  %s ", s->days[i].key);
		for (j = 0; j < w; j++)
			fputs(gl->bar, stdout);
		printf(" %" PRId64 " (%" PRId64 ")\n", c->recipients, c->bounced);
	}
}

/* A sparkline of recipients per day, when there are many days. */
static void stats_sparkline(const struct pfi_stats *s,
                            const struct stats_glyphs *gl)
{
	int64_t max = 1;
	size_t i;

	if (s->ndays <= 31)
		return;
	for (i = 0; i < s->ndays; i++)
		if (s->days[i].c.recipients > max)
			max = s->days[i].c.recipients;
	printf("all %zu days: ", s->ndays);
	for (i = 0; i < s->ndays; i++)
		fputs(gl->spark[s->days[i].c.recipients * 7 / max], stdout);
	putchar('\n');
}

/* An hour-of-day x weekday heatmap of v. */
static void stats_heatmap(const char *title, const int64_t v[7][24],
                          const struct stats_glyphs *gl)
{
	static const char *const wd[] = {
		"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
	};
	int64_t max = 0;
	int d, h;

	for (d = 0; d < 7; d++)
		for (h = 0; h < 24; h++)
			max = v[d][h] > max ? v[d][h] : max;
	printf("\n%s (max %" PRId64 " per hour)\n", title, max);
	printf("      0     6     12    18   23\n");
	for (d = 0; d < 7; d++) {
		printf("  %s ", wd[d]);
		for (h = 0; h < 24; h++)
			fputs(gl->shade[v[d][h] == 0 ? 0 :
			                (int)((v[d][h] * 4 + max - 1) / max)], stdout);
		putchar('\n');
	}
}

/* The by[] rows as a table. */
static int stats_by_table(struct pfi_globals *g, const struct pfi_stats *s)
{
	if (s->nby == 0)
		return PFI_EXIT_OK;
	putchar('\n');
	return stats_by_rows_table(g, s);
}

static int stats_summary(struct pfi_globals *g, const struct pfi_stats *s,
                         size_t top)
{
	const struct stats_glyphs *gl = stats_glyphs();

	stats_summary_counts(g, s);
	stats_summary_delay(s);
	stats_summary_lists(s, top);
	stats_summary_rejects(s, top);
	stats_summary_more(g, s);
	stats_summary_verdicts(s);
	if (s->ndays > 0) {
		stats_day_bars(s, gl);
		stats_sparkline(s, gl);
		stats_heatmap("recipients by hour and weekday", s->volume, gl);
		stats_heatmap("bounced by hour and weekday", s->bounces, gl);
	}
	fflush(stdout);
	return stats_by_table(g, s);
}

/* A rate's line of the --compare table: both in percent, the change in
 * percentage points ("+1.5 pp"), of the figures shown. */
static void stats_compare_rate(const char *name, double now, double was)
{
	char a[32], b[32], d[32];

	if (now < 0 || was < 0)
		snprintf(d, sizeof(d), "-");
	else
		snprintf(d, sizeof(d), "%+.1f pp",
		         stats_percent(now) - stats_percent(was));
	printf("  %-14s %10s %10s %10s\n", name, stats_pct(a, sizeof(a), now),
	       stats_pct(b, sizeof(b), was), d);
}

/* --compare on the table format: the compared period, then figure, now,
 * before, change. */
static void stats_compare_table(const struct pfi_globals *g,
                                const struct pfi_stats *a,
                                const struct pfi_stats *b)
{
	const struct pfi_stats_counts *x = &a->total, *y = &b->total;
	const int64_t now[] = { x->received, x->notifications, x->recipients,
		x->delivered, x->deferred, x->bounced, x->expired, x->rejected };
	const int64_t was[] = { y->received, y->notifications, y->recipients,
		y->delivered, y->deferred, y->bounced, y->expired, y->rejected };
	static const char *const names[] = { "received", "notifications",
		"recipients", "delivered", "deferred", "bounced", "expired",
		"rejected" };
	char since[64], until[64];
	size_t i;

	printf("\ncompared with %s .. %s:\n",
	       pfi_time_format(since, sizeof(since), b->since, g->utc),
	       pfi_time_format(until, sizeof(until), b->until, g->utc));
	printf("  %-14s %10s %10s %10s\n", "", "now", "before", "change");
	for (i = 0; i < sizeof(names) / sizeof(*names); i++)
		printf("  %-14s %10" PRId64 " %10" PRId64 " %+10" PRId64 "\n",
		       names[i], now[i], was[i], now[i] - was[i]);
	stats_compare_rate("bounce_rate", x->bounce_rate, y->bounce_rate);
	stats_compare_rate("defer_rate", x->defer_rate, y->defer_rate);
}

/* ---- running ------------------------------------------------------------------- */

static int stats_print(struct pfi_globals *g, const struct stats_args *a,
                       const struct pfi_stats *s, const struct pfi_stats *prev)
{
	int rc;

	if (g->format == PFI_FMT_TABLE) {
		rc = stats_summary(g, s, a->o.top ? a->o.top : 10);
		if (prev != NULL)
			stats_compare_table(g, s, prev);
		return rc;
	}
	if (g->format != PFI_FMT_JSON && a->o.by != PFI_BY_NONE)
		return stats_rows(g, s, prev);
	if (g->format == PFI_FMT_CSV || g->format == PFI_FMT_TSV)
		return stats_summary_rows(g, s, prev);
	return stats_document(g, s, prev);
}

/* Whether s counted nothing at all: no mail, no reject, no problem line,
 * no verdict in its period. */
static int stats_empty(const struct pfi_stats *s)
{
	return s->total.received <= 0 && s->total.notifications <= 0 &&
	       s->total.recipients == 0 && s->deferrals == 0 &&
	       s->sasl_failures == 0 && s->warnings + s->errors + s->fatals +
	       s->panics + s->reject_warnings == 0 && s->nverdicts == 0;
}

/*
 * A period with nothing in it (and, with --compare, nothing in the
 * compared one either): the table says so in one line on stderr, with
 * what the index covers, instead of a table of zeros.  The other formats
 * print their zero figures as they are, for the programs that read them
 * (a scrape, a Zabbix item), and say nothing on stderr.  The exit status
 * stays 0: SPEC keeps 1 for search and trace finding no message.
 */
static int stats_answer(struct pfi_globals *g, pfi_store *st,
                        const struct stats_args *a, const struct pfi_stats *s,
                        const struct pfi_stats *prev)
{
	if (!stats_empty(s) || (prev != NULL && !stats_empty(prev)) ||
	    g->format != PFI_FMT_TABLE)
		return stats_print(g, a, s, prev);
	cli_index_covers(g, st, &a->cf.f, prev ? "nothing to count in either "
	                 "period" : "nothing to count");
	return PFI_EXIT_OK;
}

/*
 * The compared period: this one shifted back by --compare PERIOD.  When
 * the period is the last PERIOD (no --since), that is the period just
 * before it; with --since it is the same span PERIOD earlier (today
 * against the same weekday last week with --since today --compare 1w).
 */
static int stats_previous(pfi_store *st, const struct stats_args *a,
                          struct pfi_stats **prev)
{
	struct pfi_filter pf = a->cf.f;
	struct pfi_stats_opts po = a->o;

	pf.since = a->cf.f.since - a->compare;
	pf.until = a->cf.f.until - a->compare;
	po.filter = &pf;
	return pfi_stats_new(prev, st, &po);
}

static int stats_run(struct pfi_globals *g, pfi_store *st,
                     struct stats_args *a)
{
	struct pfi_stats *s = NULL, *prev = NULL;
	int rc;

	a->o.version = PFI_STATS_OPTIONS_VERSION;
	a->o.filter = &a->cf.f;
	if (a->top_given)
		a->o.by_limit = a->o.top;
	rc = pfi_stats_new(&s, st, &a->o);
	if (rc == PFI_OK && a->compare)
		rc = stats_previous(st, a, &prev);
	if (rc == PFI_EINVAL)
		rc = cli_usage_error("stats", "%s", pfi_errmsg(st));
	else if (rc != PFI_OK)
		rc = cli_index_error(g, st, rc, "cannot compute stats");
	else
		rc = stats_answer(g, st, a, s, prev);
	pfi_stats_free(prev);
	pfi_stats_free(s);
	return rc;
}

/*
 * --compare PERIOD needs a closed period: --until defaults to now, and
 * --since to PERIOD before --until.  Times are microseconds and 0 means
 * "no bound", so the compared period must start after the epoch.
 */
static int stats_check(struct stats_args *a)
{
	struct pfi_filter *f = &a->cf.f;

	if (a->compare == 0)
		return -1;
	if (f->until == 0)
		f->until = (int64_t)time(NULL) * 1000000;
	if (f->since == 0)
		f->since = f->until - a->compare;
	if (f->until <= f->since)
		return cli_usage_error("stats", "--until is not after --since");
	if (f->since - a->compare <= 0)
		return cli_usage_error("stats", "--compare %s reaches back before "
		                       "1970", a->compare_arg);
	return -1;
}

static int cmd_stats(struct pfi_globals *g, int argc, char **argv)
{
	struct stats_args a;
	struct cli_parse p;
	pfi_store *st = NULL;
	int c, rc = -1;

	memset(&a, 0, sizeof(a));
	cli_parse_init(&p, &cmd_stats_entry, argc, argv);
	while (rc < 0 && (c = cli_parse_next(&p)) != 0)
		rc = c < 0 ? p.rc : stats_option(&a, c, p.value);
	if (rc < 0)
		rc = cli_parse_operands(&p, 0);
	cli_parse_release(&p);
	if (rc < 0)
		rc = stats_check(&a);
	if (rc < 0 && (st = cli_store(g)) == NULL)
		rc = PFI_EXIT_FAILURE;
	if (rc < 0)
		rc = stats_run(g, st, &a);
	cli_filter_release(&a.cf);
	return rc;
}

const struct pfi_cmd cmd_stats_entry = {
	"stats", "show delivery health: counts, rates, delays, rejects",
	"Show delivery health over a period: messages received, recipient\n"
	"outcomes, rates, delay percentiles, SLA, TLS, top and slow domains,\n"
	"DSNs and reject classes.  Each original recipient counts once, by its\n"
	"final outcome (content-filter hops and bounce notifications are not\n"
	"counted twice).",
	stats_opts, NULL, CLI_ARG_NONE, CMD_NEEDS_DB | CMD_PAGED, cmd_stats
};
