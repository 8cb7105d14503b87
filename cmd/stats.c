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

/* The verdicts of a by[] row in one cell: "dkim=pass:12 spf=fail:1". */
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

/* How a by[] row carries its verdicts. */
enum group_verdicts { GV_OBJECT, GV_CELL, GV_NONE };

static void stats_group(pfi_out *o, const struct pfi_stats_group *g,
                        enum group_verdicts gv)
{
	pfi_out_str(o, "key", g->key);
	stats_counts(o, &g->c);
	if (gv == GV_OBJECT)
		stats_verdict_object(o, g->verdicts, g->nverdicts);
	else if (gv == GV_CELL)
		stats_verdict_cell(o, g->verdicts, g->nverdicts);
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

/* json (and csv/ndjson/tsv without --by): the document as one record. */
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

/* ndjson, csv, tsv with --by: one record per by[] row. */
static int stats_rows(struct pfi_globals *g, const struct pfi_stats *s,
                      int fmt)
{
	pfi_out *o = cli_out_new(g, fmt);
	enum group_verdicts gv = fmt == PFI_FMT_NDJSON ? GV_OBJECT : GV_CELL;
	size_t i, any = 0;

	/* A table shows the column only when some row has verdicts. */
	for (i = 0; i < s->nby; i++)
		any += s->by[i].nverdicts;
	if (fmt == PFI_FMT_TABLE && any == 0)
		gv = GV_NONE;
	pfi_out_begin(o, "by");
	for (i = 0; i < s->nby; i++) {
		pfi_out_record_begin(o);
		stats_group(o, &s->by[i], gv);
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

static void stats_pct(const char *label, double v)
{
	if (v < 0)
		printf("%s -", label);
	else
		printf("%s %.2f%%", label, v * 100);
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

	printf("period:       %s .. %s\n",
	       s->since ? pfi_time_format(a, sizeof(a), s->since, g->utc) : "start",
	       s->until ? pfi_time_format(b, sizeof(b), s->until, g->utc) : "end");
	printf("received:     %" PRId64 " messages, %" PRId64 " bytes; %" PRId64
	       " bounce notifications\n", c->received, c->bytes_received,
	       c->notifications);
	printf("recipients:   %" PRId64 ": %" PRId64 " delivered, %" PRId64
	       " deferred, %" PRId64 " bounced, %" PRId64 " expired, %" PRId64
	       " rejected, %" PRId64 " discarded, %" PRId64 " held, %" PRId64
	       " deleted\n", c->recipients, c->delivered, c->deferred, c->bounced,
	       c->expired, c->rejected, c->discarded, c->held, c->deleted);
	stats_pct("rates:       bounce", c->bounce_rate);
	stats_pct(", deferred at least once", c->defer_rate);
	putchar('\n');
}

static void stats_summary_delay(const struct pfi_stats *s)
{
	char a[32], b[32], c[32], d[32], t[32];
	size_t i;

	printf("delay:        p50 %s, p95 %s, p99 %s, max %s (%" PRId64
	       " final outcomes)\n", stats_dur(a, sizeof(a), s->p50),
	       stats_dur(b, sizeof(b), s->p95), stats_dur(c, sizeof(c), s->p99),
	       stats_dur(d, sizeof(d), s->max), s->delays);
	/* Delays come from queue file times: a clock that jumped skews them. */
	if (s->clock_warnings > 0)
		printf("              (%" PRId64 " Postfix clock warnings in the"
		       " period distort these: see problems below)\n",
		       s->clock_warnings);
	stats_pct("sla:         ", s->sla_within_ratio);
	printf(" delivered within %s\n", stats_dur(t, sizeof(t), s->sla_threshold));
	stats_pct("tls:          inbound", s->tls_inbound_ratio);
	for (i = 0; i < s->ntls_protocols; i++)
		printf("%s%s %" PRId64, i ? ", " : " (", s->tls_protocols[i].key,
		       s->tls_protocols[i].count);
	printf("%s;", s->ntls_protocols ? ")" : "");
	stats_pct(" outbound", s->tls_outbound_ratio);
	printf(" of network deliveries\n");
}

/* One "label: key n, key n ..." line of a count list. */
static void stats_count_line(const char *label, const struct pfi_count *c,
                             size_t n)
{
	size_t i;

	if (n == 0)
		return;
	printf("%-14s", label);
	for (i = 0; i < n; i++) {
		printf("%s", i ? ", " : "");
		cli_put_escaped(stdout, c[i].key ? c[i].key : "-");
		printf(" %" PRId64, c[i].count);
	}
	putchar('\n');
}

static void stats_summary_lists(const struct pfi_stats *s)
{
	char a[32], b[32];
	size_t i;

	if (s->ntop_domains)
		printf("top domains:  recipients delivered bounced deferred\n");
	for (i = 0; i < s->ntop_domains; i++) {
		const struct pfi_stats_domain *d = &s->top_domains[i];

		printf("  %10" PRId64 " %9" PRId64 " %7" PRId64 " %8" PRId64 "  ",
		       d->recipients, d->delivered, d->bounced, d->deferred);
		cli_put_escaped(stdout, d->domain ? d->domain : "-");
		putchar('\n');
	}
	if (s->nslow_domains)
		printf("slow domains: p95 and max delay of final outcomes\n");
	for (i = 0; i < s->nslow_domains; i++) {
		const struct pfi_stats_domain *d = &s->slow_domains[i];

		printf("  %9s %9s %6" PRId64 "  ", stats_dur(a, sizeof(a), d->p95),
		       stats_dur(b, sizeof(b), d->max), d->delays);
		cli_put_escaped(stdout, d->domain);
		putchar('\n');
	}
	stats_count_line("sender doms:", s->top_sender_domains,
	                 s->ntop_sender_domains);
	stats_count_line("dsn:", s->dsn, s->ndsn);
}

static void stats_summary_rejects(const struct pfi_stats *s)
{
	size_t i;

	if (s->nrejects)
		printf("rejects:\n");
	for (i = 0; i < s->nrejects; i++)
		printf("  %8" PRId64 "  %-20s %s\n", s->rejects[i].count,
		       s->rejects[i].class, s->rejects[i].code);
	printf("sasl failures: %" PRId64 "\n", s->sasl_failures);
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

	printf("deferrals:    %" PRId64 " deferred attempts of %" PRId64
	       " records\n", s->deferrals, s->deferred_records);
	for (i = 0; i < s->ndeferring_domains; i++) {
		printf("  %8" PRId64 "  ", s->deferring_domains[i].count);
		cli_put_escaped(stdout, s->deferring_domains[i].key[0]
		                        ? s->deferring_domains[i].key : "-");
		putchar('\n');
	}
	printf("addresses:    %" PRId64 " senders, %" PRId64 " recipients\n",
	       s->senders, s->distinct_recipients);
	printf("problems:     %" PRId64 " warnings, %" PRId64 " errors, %" PRId64
	       " fatal, %" PRId64 " panic, %" PRId64 " reject warnings\n",
	       s->warnings, s->errors, s->fatals, s->panics, s->reject_warnings);
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
			printf(" (%.1f%%)", v->ratio * 100);
		if (i + 1 == s->nverdicts ||
		    strcmp(v->kind, s->verdicts[i + 1].kind) != 0)
			putchar('\n');
	}
	if (s->nsigning > 0)
		printf("signing:      messages  signed\n");
	for (i = 0; i < s->nsigning; i++) {
		const struct pfi_stats_signing *g = &s->signing[i];

		printf("  %8" PRId64 "  %6" PRId64 " (%.1f%%)  ", g->messages,
		       g->signed_messages, g->ratio * 100);
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
	return stats_rows(g, s, PFI_FMT_TABLE);
}

static int stats_summary(struct pfi_globals *g, const struct pfi_stats *s)
{
	const struct stats_glyphs *gl = stats_glyphs();

	stats_summary_counts(g, s);
	stats_summary_delay(s);
	stats_summary_lists(s);
	stats_summary_rejects(s);
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
	printf("  %-14s %9.2f%% %9.2f%% %+9.2f%%\n", "bounce_rate",
	       x->bounce_rate * 100, y->bounce_rate * 100,
	       (x->bounce_rate - y->bounce_rate) * 100);
	printf("  %-14s %9.2f%% %9.2f%% %+9.2f%%\n", "defer_rate",
	       x->defer_rate * 100, y->defer_rate * 100,
	       (x->defer_rate - y->defer_rate) * 100);
}

/* ---- running ------------------------------------------------------------------- */

static int stats_print(struct pfi_globals *g, const struct stats_args *a,
                       const struct pfi_stats *s, const struct pfi_stats *prev)
{
	int rc;

	if (g->format == PFI_FMT_TABLE) {
		rc = stats_summary(g, s);
		if (prev != NULL)
			stats_compare_table(g, s, prev);
		return rc;
	}
	if (g->format != PFI_FMT_JSON && a->o.by != PFI_BY_NONE)
		return stats_rows(g, s, -1);
	return stats_document(g, s, prev);
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
		rc = cli_error("cannot compute stats: %s", pfi_errmsg(st));
	else
		rc = stats_print(g, a, s, prev);
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
