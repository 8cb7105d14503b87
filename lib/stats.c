/*
 * stats.c - pfi_stats_new(): the SPEC stats document over a period.
 *
 * Two scans of the index do all the work.  The row scan reads every
 * counted recipient row of the period (deliveries joined to the original
 * message, see ROWS_SQL) once; the message scan reads the messages that
 * arrived in the period (received, notifications, bytes, inbound TLS).
 * Everything else (by[] groups, days, domains, DSNs, reject classes,
 * delays, the heatmap) is accumulated in C during those scans, in small
 * string-keyed hash tables, so a period costs one pass over its rows.
 *
 * Percentiles are nearest-rank: the p-th of n sorted delays is the one at
 * rank ceil(p * n / 100) (1-based), so it is always a delay that occurred.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smap.h"
#include "stats-int.h"

/* ---- the accumulator ------------------------------------------------------ */

/* A final delay of a domain and how often it occurred, for its p95. */
struct dpair {
	size_t dom;      /* index in the domains table */
	double delay;
	int64_t n;
};

/* The result and everything its pointers borrow from. */
struct stats_priv {
	struct pfi_stats pub;         /* first: the caller's pointer */
	const struct pfi_stats_opts *o;
	struct pfi_smap by, days;         /* struct pfi_stats_counts */
	struct pfi_smap domains;          /* struct pfi_stats_domain */
	struct pfi_smap senders, dsn, rejects, tls;   /* int64_t */
	struct dpair *pairs;          /* final delays, with their domain */
	size_t npairs, cpairs;
	int64_t sla_n, sla_within;    /* delivered with a delay / within */
	int64_t tls_in;               /* received over TLS */
	int64_t net_n, net_tls;       /* network deliveries / over TLS */
	struct pfi_delay_n *cell_delays;   /* a cell's delays, decoded */
	size_t cell_cap;
	int64_t tm_key;               /* quarter hour of tm_cache; INT64_MIN: none */
	struct tm tm_cache;           /* broken-down time of tm_key */
	char day_key[48];             /* "2026-11-02" of tm_cache */
	char hour_key[64];            /* "2026-11-02T09" of tm_cache */
	char other[8];                /* "(other)" */
	/* Arrays handed out through pub. */
	struct pfi_count *tls_protocols, *top_sender_domains, *dsn_list;
	struct pfi_count *sasl_clients;
	char **sasl_keys;             /* the clients' names, owned */
	struct pfi_stats_domain *top_domains, *slow_domains;
	struct pfi_stats_reject *reject_list;
	struct pfi_stats_group *by_list, *day_list;
	struct pfi_stats_more more;
	struct pfi_smap vby;          /* by[] key -> verdict slots (int64_t[]) */
	size_t nslots;
	struct pfi_stats_verdict *by_verdicts;   /* nslots per by[] row */
};

/* ---- time keys -------------------------------------------------------------- */

/* The broken-down local (or UTC) time of t, cached per quarter hour
 * (every zone offset is a multiple of 15 minutes). */
static const struct tm *stats_tm(struct stats_priv *p, int64_t t)
{
	int64_t sec = t >= 0 ? t / 1000000 : -((-t + 999999) / 1000000);
	int64_t key = sec >= 0 ? sec / 900 : -((-sec + 899) / 900);
	time_t tt = (time_t)(key * 900);

	if (key != p->tm_key) {
		struct tm *tm = &p->tm_cache;

		if (p->o->utc)
			gmtime_r(&tt, tm);
		else
			localtime_r(&tt, tm);
		p->tm_key = key;
		snprintf(p->day_key, sizeof(p->day_key), "%04d-%02d-%02d",
		         tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
		snprintf(p->hour_key, sizeof(p->hour_key), "%sT%02d", p->day_key,
		         tm->tm_hour);
	}
	return &p->tm_cache;
}

/* "2026-11-02", or with hour "2026-11-02T09"; borrowed until the next
 * call. */
static const char *stats_time_key(struct stats_priv *p, int64_t t, int hour)
{
	stats_tm(p, t);
	return hour ? p->hour_key : p->day_key;
}

/* ---- counting a recipient row ---------------------------------------------- */

static void count_status(struct pfi_stats_counts *c,
                         const struct pfi_srow *r)
{
	const char *s = r->status;
	int64_t n = r->n;

	c->recipients += n;
	c->deferred_once += r->deferred_once;
	if (strcmp(s, "sent") == 0)
		c->delivered += n;
	else if (strcmp(s, "deferred") == 0)
		c->deferred += n;
	else if (strcmp(s, "bounced") == 0)
		c->bounced += n;
	else if (strcmp(s, "expired") == 0)
		c->expired += n;
	else if (strcmp(s, "rejected") == 0)
		c->rejected += n;
	else if (strcmp(s, "discarded") == 0)
		c->discarded += n;
	else if (strcmp(s, "held") == 0)
		c->held += n;
	else if (strcmp(s, "deleted") == 0)
		c->deleted += n;
	else if (strcmp(s, "filtered") == 0)
		c->filtered += n;
}

/* The by[] key of a recipient row, in buf or borrowed from r. */
static const char *row_key(struct stats_priv *p, const struct pfi_srow *r)
{
	switch (p->o->by) {
	case PFI_BY_DAY: return stats_time_key(p, r->time, 0);
	case PFI_BY_HOUR: return stats_time_key(p, r->time, 1);
	case PFI_BY_DOMAIN: return r->domain;
	case PFI_BY_SENDER_DOMAIN: return r->sender_domain;
	case PFI_BY_DSN: return r->dsn;
	case PFI_BY_STATUS: return r->status;
	case PFI_BY_HOST: return r->host;
	case PFI_BY_CLIENT: return r->client;
	case PFI_BY_NONE: break;
	}
	return NULL;
}

/* Adds a counts record of table m under key; *c points at it. */
/* row_key for stats-verdicts.c. */
static const char *verdict_key(void *ctx, const struct pfi_srow *r)
{
	return row_key(ctx, r);
}

static int group_of(struct pfi_smap *m, const char *key,
                    struct pfi_stats_counts **c)
{
	size_t i;

	if (pfi_smap_get(m, key, &i) != PFI_OK)
		return PFI_ENOMEM;
	*c = pfi_smap_val(m, i);
	return PFI_OK;
}

static int push_delay(struct stats_priv *p, size_t dom,
                      const struct pfi_delay_n *d)
{
	if (pfi_array_reserve((void **)&p->pairs, &p->cpairs, p->npairs,
	                      sizeof(*p->pairs), 1024) != PFI_OK)
		return PFI_ENOMEM;
	p->pairs[p->npairs].dom = dom;
	p->pairs[p->npairs].delay = d->delay;
	p->pairs[p->npairs++].n = d->n;
	return PFI_OK;
}

/* The recipient domain's counters, and its delay. */
static int count_domain(struct stats_priv *p, const struct pfi_srow *r)
{
	struct pfi_stats_domain *d;
	const char *s = r->status;
	size_t i, k;

	if (pfi_smap_get(&p->domains, r->domain, &i) != PFI_OK)
		return PFI_ENOMEM;
	d = pfi_smap_val(&p->domains, i);
	d->recipients += r->n;
	d->delivered += strcmp(s, "sent") == 0 ? r->n : 0;
	d->deferred += strcmp(s, "deferred") == 0 ? r->n : 0;
	d->bounced += strcmp(s, "bounced") == 0 ? r->n : 0;
	d->expired += strcmp(s, "expired") == 0 ? r->n : 0;
	d->rejected += strcmp(s, "rejected") == 0 ? r->n : 0;
	for (k = 0; k < r->ndelays; k++) {
		const struct pfi_delay_n *dn = &r->delays[k];

		if (strcmp(s, "sent") == 0) {
			p->sla_n += dn->n;
			p->sla_within += dn->delay <= p->pub.sla_threshold ? dn->n : 0;
		}
		if (push_delay(p, i, dn) != PFI_OK)
			return PFI_ENOMEM;
	}
	return PFI_OK;
}

static int count_reject(struct stats_priv *p, const struct pfi_srow *r)
{
	char key[128];

	snprintf(key, sizeof(key), "%s\t%s%s%s", r->class ? r->class : "other",
	         r->code ? r->code : "", r->code && r->dsn ? " " : "",
	         r->dsn ? r->dsn : "");
	return pfi_smap_count(&p->rejects, key, r->n);
}

/* ---- the row scan ------------------------------------------------------------ */

/* The heatmap cell and the day of a recipient row. */
static int count_time(struct stats_priv *p, const struct pfi_srow *r)
{
	const struct tm *tm = stats_tm(p, r->time);
	int wd = (tm->tm_wday + 6) % 7, h = tm->tm_hour;
	struct pfi_stats_counts *c;

	p->pub.volume[wd][h] += r->n;
	p->pub.bounces[wd][h] += strcmp(r->status, "bounced") == 0 ? r->n : 0;
	if (group_of(&p->days, stats_time_key(p, r->time, 0),
	             &c) != PFI_OK)
		return PFI_ENOMEM;
	count_status(c, r);
	return PFI_OK;
}

/* Everything one recipient row adds. */
static int count_row(struct stats_priv *p, const struct pfi_srow *r)
{
	struct pfi_stats_counts *c;
	const char *sd = r->sender_domain;
	int rc;

	count_status(&p->pub.total, r);
	if (sd != NULL && pfi_smap_count(&p->senders, sd, r->n) != PFI_OK)
		return PFI_ENOMEM;
	if (strcmp(r->status, "sent") != 0 && strcmp(r->status, "filtered") != 0 &&
	    r->dsn != NULL && pfi_smap_count(&p->dsn, r->dsn, r->n) != PFI_OK)
		return PFI_ENOMEM;
	if (strcmp(r->status, "rejected") == 0 && count_reject(p, r) != PFI_OK)
		return PFI_ENOMEM;
	if ((rc = count_domain(p, r)) != PFI_OK || (rc = count_time(p, r)) != PFI_OK)
		return rc;
	if (p->o->by == PFI_BY_NONE)
		return PFI_OK;
	if (group_of(&p->by, row_key(p, r), &c) != PFI_OK)
		return PFI_ENOMEM;
	count_status(c, r);
	return PFI_OK;
}

/* Steps s to its end, handing each row to fn. */
static int scan(pfi_store *st, sqlite3_stmt *s,
                int (*fn)(struct stats_priv *, sqlite3_stmt *),
                struct stats_priv *p)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(p, s) != PFI_OK)
			return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (rc != SQLITE_DONE)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read the index");
	return PFI_OK;
}

static int on_row(struct stats_priv *p, sqlite3_stmt *s)
{
	struct pfi_srow r;

	pfi_stats_read_row(s, &r);
	return count_row(p, &r);
}

static int scan_rows(pfi_store *st, struct stats_priv *p,
                     const struct pfi_where *w)
{
	sqlite3_stmt *s = NULL;
	int rc = pfi_where_prepare(st, pfi_stats_rows_sql, w, "", 1, &s);

	if (rc == PFI_OK)
		rc = scan(st, s, on_row, p);
	sqlite3_finalize(s);
	return rc;
}

/* ---- the message scan ----------------------------------------------------------- */

/* The by[] key of a message, or "no key" (*none) for recipient keys. */
static const char *msg_key(struct stats_priv *p, const struct pfi_smsg *r,
                           int *none)
{
	*none = 0;
	switch (p->o->by) {
	case PFI_BY_DAY: return stats_time_key(p, r->received, 0);
	case PFI_BY_HOUR: return stats_time_key(p, r->received, 1);
	case PFI_BY_SENDER_DOMAIN: return r->sender_domain;
	case PFI_BY_HOST: return r->host;
	case PFI_BY_CLIENT: return r->client;
	default: break;
	}
	*none = 1;
	return NULL;
}

static void count_msg(struct pfi_stats_counts *c, const struct pfi_smsg *r)
{
	if (!r->original) {
		c->notifications += r->n;
		return;
	}
	c->received += r->n;
	c->bytes_received += r->bytes;
}

/* Everything one arrived message (or a cell of them) adds. */
static int count_arrival(struct stats_priv *p, const struct pfi_smsg *r)
{
	struct pfi_stats_counts *c;
	const char *key;
	int none;

	count_msg(&p->pub.total, r);
	if (r->original && r->tls != NULL) {
		p->tls_in += r->n;
		if (pfi_smap_count(&p->tls, r->tls, r->n) != PFI_OK)
			return PFI_ENOMEM;
	}
	if (group_of(&p->days, stats_time_key(p, r->received, 0), &c) != PFI_OK)
		return PFI_ENOMEM;
	count_msg(c, r);
	key = msg_key(p, r, &none);
	if (none || p->o->by == PFI_BY_NONE)
		return PFI_OK;
	if (group_of(&p->by, key, &c) != PFI_OK)
		return PFI_ENOMEM;
	count_msg(c, r);
	return PFI_OK;
}

static int on_msg(struct stats_priv *p, sqlite3_stmt *s)
{
	struct pfi_smsg m;

	pfi_stats_read_msg(s, &m);
	return count_arrival(p, &m);
}

/* The message scan: messages that arrived in the period and match the
 * filter's other fields through at least one of their rows.  ?1 and ?2
 * always appear, so the filter's own parameters are ?3 onwards. */
static double ratio(int64_t a, int64_t b);

/* Network deliveries (relay host[addr]), and how many went over TLS,
 * content filter hand-offs left out. */
static int scan_tls_out(pfi_store *st, struct stats_priv *p, int64_t since,
                        int64_t until)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT count(*), count(tls_protocol)"
	    " FROM deliveries WHERE time >= ?1 AND time < ?2"
	    " AND status NOT IN ('filtered', 'rejected')"
	    " AND instr(relay, '[') > 0", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	pfi_bind_period(s, since, until);
	rc = sqlite3_step(s) == SQLITE_ROW ? PFI_OK
	     : pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	if (rc == PFI_OK) {
		p->net_n += sqlite3_column_int64(s, 0);
		p->net_tls += sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Failed SASL logins in the period, and the clients that failed most. */
static int scan_sasl(pfi_store *st, struct stats_priv *p,
                     const struct pfi_filter *f, size_t top)
{
	sqlite3_stmt *s;
	size_t n = 0;
	int rc = PFI_OK;

	if (sqlite3_prepare_v2(st->db, "SELECT coalesce(client_ip, client, ''),"
	    " count(*) FROM sasl_failures WHERE time >= ?1 AND time < ?2"
	    " GROUP BY 1 ORDER BY 2 DESC, 1", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	pfi_bind_period(s, f ? f->since : 0, f ? f->until : 0);
	p->pub.sasl_failures = 0;
	p->sasl_clients = calloc(top ? top : 1, sizeof(*p->sasl_clients));
	p->sasl_keys = calloc(top ? top : 1, sizeof(*p->sasl_keys));
	if (p->sasl_clients == NULL || p->sasl_keys == NULL)
		rc = PFI_ENOMEM;
	while (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW) {
		int64_t c = sqlite3_column_int64(s, 1);
		p->pub.sasl_failures += c;
		if (n >= top)
			continue;
		p->sasl_keys[n] = strdup((const char *)sqlite3_column_text(s, 0));
		if (p->sasl_keys[n] == NULL)
			rc = PFI_ENOMEM;
		p->sasl_clients[n].key = p->sasl_keys[n];
		p->sasl_clients[n++].count = c;
	}
	sqlite3_finalize(s);
	p->pub.sasl_clients = p->sasl_clients;
	p->pub.nsasl_clients = n;
	return rc;
}

/* Arrivals in [since, until) (0: open; both open includes messages not
 * seen arriving) that match f's other fields through a row. */
static int scan_msgs(pfi_store *st, struct stats_priv *p,
                     const struct pfi_filter *f, int64_t since, int64_t until)
{
	struct pfi_filter nf;
	struct pfi_where *w = NULL;
	sqlite3_stmt *s = NULL;
	struct pfi_buf head;
	int join = pfi_filter_narrows(f), rc;

	memset(&nf, 0, sizeof(nf));
	if (f != NULL)
		nf = *f;
	nf.since = nf.until = 0;
	pfi_buf_init(&head, 0);
	rc = pfi_where_new(&w, st, &nf);
	if (rc == PFI_OK &&
	    (pfi_buf_appends(&head, pfi_stats_msgs_head) != PFI_OK ||
	     (join && pfi_buf_appends(&head, " LEFT JOIN deliveries d"
	                              " ON d.message = m.id") != PFI_OK) ||
	     pfi_buf_appends(&head, pfi_stats_msgs_kind) != PFI_OK ||
	     pfi_buf_appends(&head, since ? " AND m.received >= ?1"
	                            : " AND ?1 IS NULL") != PFI_OK ||
	     pfi_buf_appends(&head, until ? " AND m.received < ?2"
	                            : " AND ?2 IS NULL") != PFI_OK ||
	     pfi_buf_appends(&head, " AND ") != PFI_OK))
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (rc == PFI_OK)
		rc = pfi_where_prepare(st, head.data, w,
		                       join ? " GROUP BY m.id" : "", 3, &s);
	if (rc == PFI_OK) {
		if (since)
			sqlite3_bind_int64(s, 1, since);
		if (until)
			sqlite3_bind_int64(s, 2, until);
		rc = scan(st, s, on_msg, p);
	}
	sqlite3_finalize(s);
	pfi_where_free(w);
	pfi_buf_release(&head);
	return rc;
}

/* ---- finishing: rates, percentiles, sorted lists ------------------------------ */

static double ratio(int64_t a, int64_t b)
{
	return b > 0 ? (double)a / (double)b : 0;
}

static void finish_counts(struct pfi_stats_counts *c, int msg_level)
{
	int64_t accepted = c->recipients - c->rejected;

	c->bounce_rate = ratio(c->bounced, accepted);
	c->defer_rate = ratio(c->deferred_once, accepted);
	if (!msg_level)
		c->received = c->notifications = c->bytes_received = -1;
}

static int cmp_delay(const void *a, const void *b)
{
	const struct dpair *x = a, *y = b;

	return (x->delay > y->delay) - (x->delay < y->delay);
}

static int cmp_pair(const void *a, const void *b)
{
	const struct dpair *x = a, *y = b;

	if (x->dom != y->dom)
		return x->dom < y->dom ? -1 : 1;
	return cmp_delay(a, b);
}

/* The sum of the counts of v[0..n). */
static int64_t count_of(const struct dpair *v, size_t n)
{
	int64_t total = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += v[i].n;
	return total;
}

/* The nearest-rank p-th percentile of the `total` delays that v[0..n)
 * (sorted by delay, each with its count) stand for; -1 when none. */
static double rank(const struct dpair *v, size_t n, int64_t total, unsigned p)
{
	int64_t r = (p * total + 99) / 100, seen = 0;
	size_t i;

	if (total == 0)
		return -1;
	if (r < 1)
		r = 1;
	for (i = 0; i < n; i++) {
		seen += v[i].n;
		if (seen >= r)
			return v[i].delay;
	}
	return v[n - 1].delay;
}

/* p95 and max of each domain: pairs sorted by domain, then delay. */
static void finish_domain_delays(struct stats_priv *p)
{
	size_t i, j;

	for (i = 0; i < p->domains.n; i++) {
		struct pfi_stats_domain *d = pfi_smap_val(&p->domains, i);

		d->domain = p->domains.keys[i];
		d->p95 = d->max = -1;
	}
	if (p->npairs > 0)
		qsort(p->pairs, p->npairs, sizeof(*p->pairs), cmp_pair);
	for (i = 0; i < p->npairs; i = j) {
		struct pfi_stats_domain *d = pfi_smap_val(&p->domains, p->pairs[i].dom);

		for (j = i; j < p->npairs && p->pairs[j].dom == p->pairs[i].dom; j++)
			;
		d->delays = count_of(p->pairs + i, j - i);
		d->p95 = rank(p->pairs + i, j - i, d->delays, 95);
		d->max = p->pairs[j - 1].delay;
	}
}

/* Percentiles overall and p95/max per domain. */
static void finish_delays(struct stats_priv *p)
{
	struct pfi_stats *s = &p->pub;
	size_t n = p->npairs;

	s->delays = count_of(p->pairs, n);
	if (n > 0)
		qsort(p->pairs, n, sizeof(*p->pairs), cmp_delay);
	s->p50 = rank(p->pairs, n, s->delays, 50);
	s->p95 = rank(p->pairs, n, s->delays, 95);
	s->p99 = rank(p->pairs, n, s->delays, 99);
	s->max = n ? p->pairs[n - 1].delay : -1;
	s->sla_within_ratio = p->sla_n ? ratio(p->sla_within, p->sla_n) : -1;
	s->tls_outbound_ratio = p->net_n ? ratio(p->net_tls, p->net_n) : -1;
	finish_domain_delays(p);
}

/* Counts by count, highest first, then by key. */
static int cmp_count(const void *a, const void *b)
{
	const struct pfi_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->key == NULL || y->key == NULL)
		return (x->key == NULL) - (y->key == NULL);
	return strcmp(x->key, y->key);
}

/* The int64_t table m as a sorted list of at most `max` (0: all). */
static int count_list(const struct pfi_smap *m, size_t max,
                      struct pfi_count **out, size_t *n)
{
	size_t i;

	*n = 0;
	if ((*out = calloc(m->n + 1, sizeof(**out))) == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < m->n; i++) {
		(*out)[i].key = m->keys[i];
		(*out)[i].count = *(const int64_t *)pfi_smap_val(m, i);
	}
	qsort(*out, m->n, sizeof(**out), cmp_count);
	*n = max && max < m->n ? max : m->n;
	return PFI_OK;
}

static int cmp_top_domain(const void *a, const void *b)
{
	const struct pfi_stats_domain *x = a, *y = b;

	if (x->recipients != y->recipients)
		return x->recipients > y->recipients ? -1 : 1;
	if (x->domain == NULL || y->domain == NULL)
		return (x->domain == NULL) - (y->domain == NULL);
	return strcmp(x->domain, y->domain);
}

static int cmp_slow_domain(const void *a, const void *b)
{
	const struct pfi_stats_domain *x = a, *y = b;

	if (x->p95 != y->p95)
		return x->p95 > y->p95 ? -1 : 1;
	if (x->max != y->max)
		return x->max > y->max ? -1 : 1;
	return cmp_top_domain(a, b);
}

/* top_domains by recipients and slow_domains by p95 (with a delay). */
static int finish_domains(struct stats_priv *p, size_t top)
{
	struct pfi_stats *s = &p->pub;
	size_t n = p->domains.n, i, k = 0;

	p->top_domains = calloc(n + 1, sizeof(*p->top_domains));
	p->slow_domains = calloc(n + 1, sizeof(*p->slow_domains));
	if (p->top_domains == NULL || p->slow_domains == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < n; i++) {
		const struct pfi_stats_domain *d = pfi_smap_val(&p->domains, i);

		p->top_domains[i] = *d;
		if (d->delays > 0 && d->domain != NULL)
			p->slow_domains[k++] = *d;
	}
	qsort(p->top_domains, n, sizeof(*p->top_domains), cmp_top_domain);
	qsort(p->slow_domains, k, sizeof(*p->slow_domains), cmp_slow_domain);
	s->top_domains = p->top_domains;
	s->ntop_domains = n < top ? n : top;
	s->slow_domains = p->slow_domains;
	s->nslow_domains = k < top ? k : top;
	return PFI_OK;
}

/* rejects{}: keys "class\tcode" split into the class and code. */
static int finish_rejects(struct stats_priv *p)
{
	struct pfi_count *list = NULL;
	size_t n, i;
	char *tab;

	if (count_list(&p->rejects, 0, &list, &n) != PFI_OK)
		return PFI_ENOMEM;
	p->reject_list = calloc(n + 1, sizeof(*p->reject_list));
	if (p->reject_list == NULL) {
		free(list);
		return PFI_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		tab = strchr(list[i].key, '\t');
		*tab = '\0';   /* the key is ours: split it in place */
		p->reject_list[i].class = list[i].key;
		p->reject_list[i].code = tab + 1;
		p->reject_list[i].count = list[i].count;
	}
	free(list);
	p->pub.rejects = p->reject_list;
	p->pub.nrejects = n;
	return PFI_OK;
}

/* Groups in key order (time keys) or by recipients, highest first. */
static int cmp_group_key(const void *a, const void *b)
{
	const struct pfi_stats_group *x = a, *y = b;

	if (x->key == NULL || y->key == NULL)
		return (x->key == NULL) - (y->key == NULL);
	return strcmp(x->key, y->key);
}

static int cmp_group_size(const void *a, const void *b)
{
	const struct pfi_stats_group *x = a, *y = b;

	if (x->c.recipients != y->c.recipients)
		return x->c.recipients > y->c.recipients ? -1 : 1;
	if (x->c.received != y->c.received)
		return x->c.received > y->c.received ? -1 : 1;
	return cmp_group_key(a, b);
}

static void add_counts(struct pfi_stats_counts *a,
                       const struct pfi_stats_counts *b)
{
	a->received += b->received;
	a->notifications += b->notifications;
	a->bytes_received += b->bytes_received;
	a->recipients += b->recipients;
	a->delivered += b->delivered;
	a->deferred += b->deferred;
	a->bounced += b->bounced;
	a->expired += b->expired;
	a->rejected += b->rejected;
	a->discarded += b->discarded;
	a->held += b->held;
	a->deleted += b->deleted;
	a->filtered += b->filtered;
	a->deferred_once += b->deferred_once;
}

/* The groups of m as a sorted list; past `limit` rows, the rest is summed
 * into one more row, "(other)". */
static int group_list(struct stats_priv *p, const struct pfi_smap *m, int by_time,
                      size_t limit, int msg_level,
                      struct pfi_stats_group **out, size_t *n)
{
	size_t i;

	if ((*out = calloc(m->n + 1, sizeof(**out))) == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < m->n; i++) {
		(*out)[i].key = m->keys[i];
		(*out)[i].c = *(const struct pfi_stats_counts *)pfi_smap_val(m, i);
	}
	qsort(*out, m->n, sizeof(**out), by_time ? cmp_group_key : cmp_group_size);
	*n = m->n;
	if (!by_time && limit > 0 && m->n > limit + 1) {
		struct pfi_stats_group other;

		memset(&other, 0, sizeof(other));
		other.key = p->other;
		for (i = limit; i < m->n; i++)
			add_counts(&other.c, &(*out)[i].c);
		(*out)[limit] = other;
		*n = limit + 1;
	}
	for (i = 0; i < *n; i++)
		finish_counts(&(*out)[i].c, msg_level);
	return PFI_OK;
}

/* The verdict slots of by[] row `g`: its key's, or for "(other)" the sum
 * of the keys it stands for (into sum). */
static const int64_t *group_slots(struct stats_priv *p,
                                  const struct pfi_stats_group *g,
                                  int64_t *sum)
{
	size_t i, j, k;

	if (g->key != p->other)
		return pfi_smap_find(&p->vby, g->key, &k)
		       ? pfi_smap_val(&p->vby, k) : NULL;
	memset(sum, 0, p->nslots * sizeof(*sum));
	for (k = 0; k < p->vby.n; k++) {
		const char *key = p->vby.keys[k];
		const int64_t *v = pfi_smap_val(&p->vby, k);

		for (i = 0; i < p->pub.nby; i++)
			if (p->by_list[i].key != p->other &&
			    (key == NULL ? p->by_list[i].key == NULL
			     : p->by_list[i].key && strcmp(p->by_list[i].key, key) == 0))
				break;
		if (i == p->pub.nby)
			for (j = 0; j < p->nslots; j++)
				sum[j] += v[j];
	}
	return sum;
}

/* Each by[] row's verdicts (stats-verdicts.c counted them per key). */
static int by_verdicts(struct stats_priv *p)
{
	int64_t *sum;
	size_t i;

	if (p->nslots == 0 || p->pub.nby == 0)
		return PFI_OK;
	p->by_verdicts = calloc(p->pub.nby * p->nslots, sizeof(*p->by_verdicts));
	sum = calloc(p->nslots, sizeof(*sum));
	if (p->by_verdicts == NULL || sum == NULL) {
		free(sum);
		return PFI_ENOMEM;
	}
	for (i = 0; i < p->pub.nby; i++) {
		struct pfi_stats_group *g = &p->by_list[i];
		const int64_t *slots = group_slots(p, g, sum);

		g->verdicts = p->by_verdicts + i * p->nslots;
		g->nverdicts = slots ? pfi_stats_verdict_list(slots,
		               p->by_verdicts + i * p->nslots) : 0;
	}
	free(sum);
	return PFI_OK;
}

/* Every key some verdict counts under is a by[] row, even with no
 * recipients. */
static int by_verdict_keys(struct stats_priv *p)
{
	size_t k, idx;

	for (k = 0; k < p->vby.n; k++)
		if (pfi_smap_get(&p->by, p->vby.keys[k], &idx) != PFI_OK)
			return PFI_ENOMEM;
	return PFI_OK;
}

/* Everything computed after the scans. */
static int finish(struct stats_priv *p, size_t top)
{
	struct pfi_stats *s = &p->pub;
	enum pfi_stats_by by = p->o->by;
	int by_time = by == PFI_BY_DAY || by == PFI_BY_HOUR;
	int msg_level = by_time || by == PFI_BY_SENDER_DOMAIN ||
	                by == PFI_BY_HOST || by == PFI_BY_CLIENT;
	int rc;

	finish_delays(p);
	s->tls_inbound_ratio = s->total.received ? ratio(p->tls_in, s->total.received)
	                                         : -1;
	rc = count_list(&p->tls, 0, &p->tls_protocols, &s->ntls_protocols);
	if (rc == PFI_OK)
		rc = count_list(&p->senders, top, &p->top_sender_domains,
		                &s->ntop_sender_domains);
	if (rc == PFI_OK)
		rc = count_list(&p->dsn, 0, &p->dsn_list, &s->ndsn);
	if (rc == PFI_OK)
		rc = finish_domains(p, top);
	if (rc == PFI_OK)
		rc = finish_rejects(p);
	if (rc == PFI_OK)
		rc = by_verdict_keys(p);
	if (rc == PFI_OK)
		rc = group_list(p, &p->by, by_time, p->o->by_limit, msg_level,
		                &p->by_list, &s->nby);
	if (rc == PFI_OK)
		rc = by_verdicts(p);
	if (rc == PFI_OK)
		rc = group_list(p, &p->days, 1, 0, 1, &p->day_list, &s->ndays);
	s->tls_protocols = p->tls_protocols;
	s->top_sender_domains = p->top_sender_domains;
	s->dsn = p->dsn_list;
	s->by = p->by_list;
	s->days = p->day_list;
	finish_counts(&s->total, 1);
	return rc;
}

/* ---- the public functions ----------------------------------------------------- */

static struct stats_priv *stats_alloc(const struct pfi_stats_opts *o)
{
	struct stats_priv *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->o = o;
	p->tm_key = INT64_MIN;
	memcpy(p->other, "(other)", sizeof("(other)"));
	pfi_smap_init(&p->by, sizeof(struct pfi_stats_counts));
	pfi_smap_init(&p->days, sizeof(struct pfi_stats_counts));
	pfi_smap_init(&p->domains, sizeof(struct pfi_stats_domain));
	pfi_smap_init(&p->senders, sizeof(int64_t));
	pfi_smap_init(&p->dsn, sizeof(int64_t));
	pfi_smap_init(&p->rejects, sizeof(int64_t));
	pfi_smap_init(&p->tls, sizeof(int64_t));
	p->nslots = pfi_stats_verdict_nslots();
	pfi_smap_init(&p->vby, p->nslots * sizeof(int64_t));
	p->pub.sla_threshold = o->sla > 0 ? o->sla : 300;
	p->pub.tls_outbound_ratio = -1;
	p->pub.sasl_failures = -1;
	p->pub.since = o->filter ? o->filter->since : 0;
	p->pub.until = o->filter ? o->filter->until : 0;
	return p;
}

/* ---- gathering: rows, and the cells of whole hours ------------------------- */

/* Returned by scan_cells when a cell's hour is not an hour of local time
 * (a zone offset that is not whole hours): the rows must be read. */
#define CELLS_UNFIT 1

/* Reads every record of [since, until) (0: open) that f's other fields
 * select. */
static int gather_rows(pfi_store *st, struct stats_priv *p,
                       const struct pfi_filter *f, int64_t since,
                       int64_t until)
{
	struct pfi_filter g = *f;
	struct pfi_where *w = NULL;
	int rc;

	g.since = since;
	g.until = until;
	rc = pfi_where_new(&w, st, &g);
	if (rc == PFI_OK)
		rc = scan_rows(st, p, w);
	if (rc == PFI_OK)
		rc = scan_msgs(st, p, &g, since, until);
	if (rc == PFI_OK)
		rc = scan_tls_out(st, p, since, until);
	pfi_where_free(w);
	return rc;
}

/* Adds one stat_cells row (as scan_cells selects it) to the accumulator. */
static int count_cell(pfi_store *st, struct stats_priv *p, sqlite3_stmt *s)
{
	int kind = sqlite3_column_int(s, 1);
	int64_t t = sqlite3_column_type(s, 0) == SQLITE_NULL ? 0
	            : sqlite3_column_int64(s, 0) * PFI_HOUR;
	int64_t n = sqlite3_column_int64(s, 10), m = sqlite3_column_int64(s, 11);

	if (t != 0 && !p->o->utc) {
		const struct tm *tm = stats_tm(p, t);
		if (tm->tm_min != 0 || tm->tm_sec != 0)
			return CELLS_UNFIT;
	}
	if (kind == PFI_CELL_NETWORK) {
		p->net_n += n;
		p->net_tls += m;
		return PFI_OK;
	}
	if (kind == PFI_CELL_SENDER) {
		const char *sd = pfi_col_text(s, 4);
		return sd == NULL || pfi_smap_count(&p->senders, sd, n) == PFI_OK
		       ? PFI_OK : pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	}
	if (kind == PFI_CELL_RECEIVED || kind == PFI_CELL_NOTIFY) {
		struct pfi_smsg a = { .received = t, .n = n, .bytes = m,
			.tls = pfi_col_text(s, 9), .host = pfi_col_text(s, 2),
			.original = kind == PFI_CELL_RECEIVED };
		return count_arrival(p, &a) == PFI_OK ? PFI_OK
		       : pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	}
	/* A kind this build does not know (a newer pfi's) counts nothing. */
	if (kind != PFI_CELL_RCPT)
		return PFI_OK;
	/* Sender domains are counted from their own cells. */
	struct pfi_srow r = { .host = pfi_col_text(s, 2), .domain = pfi_col_text(s, 3),
		.status = pfi_col_text(s, 5),
		.dsn = pfi_col_text(s, 6), .code = pfi_col_text(s, 7),
		.class = pfi_col_text(s, 8), .time = t, .n = n, .deferred_once = m };
	int rc = pfi_delays_decode(sqlite3_column_blob(s, 12),
	                           (size_t)sqlite3_column_bytes(s, 12),
	                           &p->cell_delays, &p->cell_cap, &r.ndelays);
	if (rc != PFI_OK)
		return pfi_err_set(&st->err, rc, rc == PFI_ENOMEM ? "out of memory"
		                   : "damaged stats cell in the index");
	r.delays = p->cell_delays;
	if (r.status == NULL)
		r.status = "";
	return count_row(p, &r) == PFI_OK ? PFI_OK
	       : pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
}

/* The cells of hours [h0, h1), and of messages not seen arriving when
 * `undated`. */
static int scan_cells(pfi_store *st, struct stats_priv *p, int64_t h0,
                      int64_t h1, int undated)
{
	sqlite3_stmt *s;
	int rc = PFI_OK, step;

	if (sqlite3_prepare_v2(st->db, "SELECT hour, kind, host, domain,"
	    " sender_domain, status, dsn, code, class, tls, n, m, delays"
	    " FROM stat_cells WHERE (hour >= ?1 AND hour < ?2)"
	    " OR (?3 AND hour IS NULL)", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot query the index");
	sqlite3_bind_int64(s, 1, h0);
	sqlite3_bind_int64(s, 2, h1);
	sqlite3_bind_int(s, 3, undated);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = count_cell(st, p, s);
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read the index");
	sqlite3_finalize(s);
	return rc;
}

/* Whether the cells can answer: only time bounds, and no key cells lack. */
static int cells_fit(pfi_store *st, const struct pfi_stats_opts *o,
                     const struct pfi_filter *f)
{
	return !o->rows_only && !pfi_filter_narrows(f) && o->by != PFI_BY_CLIENT &&
	       o->by != PFI_BY_SENDER_DOMAIN && pfi_cells_present(st);
}

/* Everything but SASL failures: whole hours from cells, the partial hours
 * at either end from rows.  CELLS_UNFIT when the rows must do it all. */
static int gather(pfi_store *st, struct stats_priv *p,
                  const struct pfi_filter *f)
{
	int64_t since = f->since, until = f->until;
	int64_t h0 = since ? -pfi_hour_of(-since) : INT64_MIN / PFI_HOUR;
	int64_t h1 = until ? pfi_hour_of(until) : INT64_MAX / PFI_HOUR;
	int rc = PFI_OK;

	if (!cells_fit(st, p->o, f) || h0 >= h1)
		return gather_rows(st, p, f, since, until);
	if (since && since < h0 * PFI_HOUR)
		rc = gather_rows(st, p, f, since, h0 * PFI_HOUR);
	if (rc == PFI_OK)
		rc = scan_cells(st, p, h0, h1, !since && !until);
	if (rc == PFI_OK && until && h1 * PFI_HOUR < until)
		rc = gather_rows(st, p, f, h1 * PFI_HOUR, until);
	return rc;
}

/* With --by, the verdicts per key. */
static int scan_verdicts_by(pfi_store *st, struct stats_priv *p,
                            const struct pfi_filter *f)
{
	enum pfi_stats_by by = p->o->by;
	struct pfi_where *w = NULL;
	int rc;

	if (by == PFI_BY_NONE)
		return PFI_OK;
	rc = pfi_where_new(&w, st, f);
	if (rc == PFI_OK)
		rc = pfi_stats_verdicts_by(st, f, w, by != PFI_BY_DAY &&
		                           by != PFI_BY_HOUR && by != PFI_BY_HOST,
		                           verdict_key, p, &p->vby);
	pfi_where_free(w);
	return rc;
}

/* Points the public fields at what stats-more.c read. */
static void publish_more(struct stats_priv *p)
{
	const struct pfi_stats_more *m = &p->more;

	p->pub.deferrals = m->deferrals;
	p->pub.deferred_records = m->deferred_recipients;
	p->pub.deferring_domains = m->domains;
	p->pub.ndeferring_domains = m->ndomains;
	p->pub.senders = m->senders;
	p->pub.distinct_recipients = m->recipients;
	p->pub.warnings = m->level_counts[0];
	p->pub.errors = m->level_counts[1];
	p->pub.fatals = m->level_counts[2];
	p->pub.panics = m->level_counts[3];
	p->pub.reject_warnings = m->level_counts[4];
	p->pub.problems = m->problems;
	p->pub.nproblems = m->nproblems;
	p->pub.clock_warnings = m->clock_warnings;
	p->pub.verdicts = m->verdicts;
	p->pub.nverdicts = m->nverdicts;
	p->pub.signing = m->signing;
	p->pub.nsigning = m->nsigning;
}

int pfi_stats_new(struct pfi_stats **out, pfi_store *st,
                  const struct pfi_stats_opts *opts)
{
	static const struct pfi_stats_opts defaults = PFI_STATS_OPTIONS_INIT;
	static const struct pfi_filter none;
	const struct pfi_filter *f;
	struct stats_priv *p;
	struct pfi_where *w = NULL;
	int rc;

	*out = NULL;
	if (opts == NULL)
		opts = &defaults;
	if ((rc = pfi_opts_version(&st->err, opts->version,
	                           PFI_STATS_OPTIONS_VERSION,
	                           "struct pfi_stats_opts")) != PFI_OK)
		return rc;
	f = opts->filter ? opts->filter : &none;
	if ((p = stats_alloc(opts)) == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	rc = pfi_where_new(&w, st, f);   /* a bad filter fails here */
	pfi_where_free(w);
	if (rc == PFI_OK)
		rc = gather(st, p, f);
	if (rc == CELLS_UNFIT) {
		pfi_stats_free(&p->pub);
		if ((p = stats_alloc(opts)) == NULL)
			return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
		rc = gather_rows(st, p, f, f->since, f->until);
	}
	if (rc == PFI_OK)
		rc = scan_verdicts_by(st, p, f);
	if (rc == PFI_OK)
		rc = scan_sasl(st, p, opts->filter, opts->top ? opts->top : 10);
	if (rc == PFI_OK)
		rc = pfi_stats_more_get(st, opts->filter, opts->top ? opts->top : 10,
		                        &p->more);
	if (rc == PFI_OK)
		publish_more(p);
	if (rc == PFI_OK && finish(p, opts->top ? opts->top : 10) != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	p->o = NULL;
	if (rc != PFI_OK) {
		pfi_stats_free(&p->pub);
		return rc;
	}
	*out = &p->pub;
	return PFI_OK;
}

void pfi_stats_free(struct pfi_stats *s)
{
	struct stats_priv *p = (struct stats_priv *)s;
	size_t i;

	if (p == NULL)
		return;
	pfi_smap_release(&p->by);
	pfi_smap_release(&p->days);
	pfi_smap_release(&p->domains);
	pfi_smap_release(&p->senders);
	pfi_smap_release(&p->dsn);
	pfi_smap_release(&p->rejects);
	pfi_smap_release(&p->tls);
	pfi_smap_release(&p->vby);
	free(p->by_verdicts);
	free(p->pairs);
	free(p->cell_delays);
	free(p->tls_protocols);
	free(p->top_sender_domains);
	free(p->dsn_list);
	for (i = 0; p->sasl_keys && i < p->pub.nsasl_clients; i++)
		free(p->sasl_keys[i]);
	free(p->sasl_keys);
	free(p->sasl_clients);
	free(p->top_domains);
	free(p->slow_domains);
	free(p->reject_list);
	free(p->by_list);
	free(p->day_list);
	pfi_stats_more_release(&p->more);
	free(p);
}

static const char *const by_names[] = {
	[PFI_BY_NONE] = "none",
	[PFI_BY_DAY] = "day",
	[PFI_BY_HOUR] = "hour",
	[PFI_BY_DOMAIN] = "domain",
	[PFI_BY_SENDER_DOMAIN] = "sender-domain",
	[PFI_BY_DSN] = "dsn",
	[PFI_BY_STATUS] = "status",
	[PFI_BY_HOST] = "host",
	[PFI_BY_CLIENT] = "client",
};

const char *pfi_stats_by_name(enum pfi_stats_by by)
{
	if ((size_t)by >= PFI_ARRAY_SIZE(by_names))
		return "none";
	return by_names[by];
}

int pfi_stats_by_parse(enum pfi_stats_by *out, const char *name)
{
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(by_names); i++) {
		if (strcmp(by_names[i], name) == 0) {
			*out = (enum pfi_stats_by)i;
			return PFI_OK;
		}
	}
	return PFI_EINVAL;
}
