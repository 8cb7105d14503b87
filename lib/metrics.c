/*
 * metrics.c - pfi_metrics_new(): the index as a Prometheus text
 * exposition (version 0.0.4), the families SPEC "Metrics" fixes and more.
 *
 * Everything comes from the index, so counters persist across restarts
 * and count each recipient once.  Recipient outcomes, rejects, delays and
 * domains are summed from the per-hour stat cells (write-rollup.c), which hold
 * exactly what `pfi stats` counts; received messages, notifications and
 * outbound TLS need a scan of messages or deliveries, the queue gauges the
 * partial index of open messages.  One read transaction covers all the
 * queries, so a scrape sees one state of the index.
 *
 * Label sets are bounded: hosts are the MTA hosts of the log, recipient
 * domains only the top N (by recipients) and "other", codes and classes
 * those of rejects.  No address appears in a label.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "smap.h"
#include "counted.h"

#define TOP_DEFAULT 20
#define OTHER "other"
#define UNKNOWN "unknown"

/* Bucket bounds (seconds) of the delay histograms: seconds to the five
 * days of Postfix's default maximal_queue_lifetime. */
static const double delay_bounds[] = {
	1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 14400, 43200, 86400,
	259200, 432000
};
#define NBOUNDS PFI_ARRAY_SIZE(delay_bounds)
/* Coarser ones per domain, to keep the series few. */
static const double domain_bounds[] = { 1, 10, 60, 300, 1800, 3600, 14400,
	86400 };
#define NDBOUNDS PFI_ARRAY_SIZE(domain_bounds)

/* One histogram: cumulative counts are made when it is written. */
struct hist {
	int64_t bucket[NBOUNDS + 1];   /* per bucket, not cumulative; last +Inf */
	int64_t count;
	double sum;
};

/* What one host's rows sum to. */
struct host_acc {
	int64_t last;              /* latest time seen (microseconds) */
	int64_t network;           /* deliveries to a network relay */
	struct hist stage[4];      /* delays= split of final deliveries */
};

/* One rendering. */
struct mx {
	pfi_store *st;
	const struct pfi_metrics_opts *o;
	struct pfi_buf *out;
	struct pfi_smap top;       /* the top recipient domains (value unused) */
	struct pfi_smap hosts;     /* host -> struct host_acc */
	struct pfi_delay_n *dl;    /* decoded delays of one cell */
	size_t dcap;
	int64_t run_end;           /* the last index run's end (usec); 0: none */
	double run_seconds;        /* and how long it took */
};

static int mx_nomem(struct mx *m)
{
	return pfi_err_set(&m->st->err, PFI_ENOMEM, "out of memory");
}

static int mx_dberr(struct mx *m)
{
	return pfi_store_dberr(m->st, PFI_ERROR, "cannot read metrics");
}

/* ---- the text format -------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;

	if (s[0] < 0x80)
		return 1;
	len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3
	      : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
	if (len == 0 || len > n)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* A label value: \ " and newline escaped, invalid UTF-8 as '?'. */
static int put_value(struct pfi_buf *b, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t n = strlen(v), i = 0, k;
	int rc = PFI_OK;

	while (rc == PFI_OK && i < n) {
		if (s[i] == '\\' || s[i] == '"')
			rc = pfi_buf_appendc(b, '\\') ?: pfi_buf_appendc(b, (char)s[i++]);
		else if (s[i] == '\n' && ++i)
			rc = pfi_buf_appends(b, "\\n");
		else if ((k = utf8_len(s + i, n - i)) == 0 && ++i)
			rc = pfi_buf_appendc(b, '?');
		else {
			rc = pfi_buf_append(b, s + i, k);
			i += k;
		}
	}
	return rc;
}

static int put_number(struct pfi_buf *b, double v)
{
	if (isinf(v))
		return pfi_buf_appends(b, v > 0 ? "+Inf" : "-Inf");
	if (isnan(v))
		return pfi_buf_appends(b, "NaN");
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		return pfi_buf_printf(b, "%lld", (long long)v);
	return pfi_buf_printf(b, "%.17g", v);
}

static int family(struct mx *m, const char *name, const char *type,
                  const char *help)
{
	if (pfi_buf_printf(m->out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	                   name, type) != PFI_OK)
		return mx_nomem(m);
	return PFI_OK;
}

/* A sample: name, labels as lv[0]=lv[1], lv[2]=lv[3] ... (nlv entries),
 * then `extra` (a label already formatted, as le="5", or NULL). */
static int sample(struct mx *m, const char *name, const char *const *lv,
                  size_t nlv, const char *extra, double v)
{
	struct pfi_buf *b = m->out;
	size_t i;
	int rc = pfi_buf_appends(b, name);

	for (i = 0; rc == PFI_OK && i + 1 < nlv; i += 2) {
		rc = pfi_buf_appends(b, i == 0 ? "{" : ",");
		rc = rc ?: pfi_buf_printf(b, "%s=\"", lv[i]);
		rc = rc ?: put_value(b, lv[i + 1] ? lv[i + 1] : UNKNOWN);
		rc = rc ?: pfi_buf_appendc(b, '"');
	}
	if (rc == PFI_OK && extra)
		rc = pfi_buf_printf(b, "%s%s", nlv ? "," : "{", extra);
	if (rc == PFI_OK && (nlv || extra))
		rc = pfi_buf_appendc(b, '}');
	rc = rc ?: pfi_buf_appendc(b, ' ');
	rc = rc ?: put_number(b, v);
	rc = rc ?: pfi_buf_appendc(b, '\n');
	return rc == PFI_OK ? PFI_OK : mx_nomem(m);
}

static void hist_add(struct hist *h, const double *bounds, size_t nb,
                     double v, int64_t n)
{
	size_t i = 0;

	while (i < nb && v > bounds[i])
		i++;
	h->bucket[i] += n;
	h->count += n;
	h->sum += v * (double)n;
}

/* Writes the _bucket, _sum and _count samples of a histogram. */
static int hist_write(struct mx *m, const char *name, const char *const *lv,
                      size_t nlv, const struct hist *h, const double *bounds,
                      size_t nb)
{
	char series[128], le[48];
	int64_t cum = 0;
	size_t i;
	int rc = PFI_OK;

	snprintf(series, sizeof(series), "%s_bucket", name);
	for (i = 0; rc == PFI_OK && i <= nb; i++) {
		cum += h->bucket[i];
		if (i < nb)
			snprintf(le, sizeof(le), "le=\"%g\"", bounds[i]);
		else
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		rc = sample(m, series, lv, nlv, le, (double)cum);
	}
	snprintf(series, sizeof(series), "%s_sum", name);
	rc = rc ?: sample(m, series, lv, nlv, NULL, h->sum);
	snprintf(series, sizeof(series), "%s_count", name);
	return rc ?: sample(m, series, lv, nlv, NULL, (double)h->count);
}

/* ---- queries ------------------------------------------------------------------- */

static int prepare(struct mx *m, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(m->st->db, sql, -1, s, NULL) != SQLITE_OK)
		return mx_dberr(m);
	return PFI_OK;
}

static const char *col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

/* Ends a scan that stopped with `step`. */
static int finish(struct mx *m, sqlite3_stmt *s, int step, int rc)
{
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = mx_dberr(m);
	sqlite3_finalize(s);
	return rc;
}

/*
 * One family from one query: each row is the values of the labels named
 * in `labels` (nl of them; NULL reads "unknown"), then the value.
 */
static int by_query(struct mx *m, const char *name, const char *type,
                    const char *help, const char *sql,
                    const char *const *labels, size_t nl)
{
	const char *lv[8];
	sqlite3_stmt *s = NULL;
	size_t i;
	int step = SQLITE_DONE, rc = family(m, name, type, help);

	if (rc != PFI_OK)
		return mx_nomem(m);
	if ((rc = prepare(m, sql, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < nl && i < 4; i++) {
			lv[2 * i] = labels[i];
			lv[2 * i + 1] = col(s, (int)i);
		}
		rc = sample(m, name, lv, 2 * i, NULL,
		            sqlite3_column_double(s, (int)nl));
	}
	return finish(m, s, step, rc);
}

static struct host_acc *host_of(struct mx *m, const char *host);

/* Notes t (microseconds) as a time seen for host. */
static int saw(struct mx *m, const char *host, int64_t t)
{
	struct host_acc *h = host_of(m, host);

	if (h == NULL)
		return PFI_ENOMEM;
	if (t > h->last)
		h->last = t;
	return PFI_OK;
}

/* ---- keyed sums: label values joined into one smap key ------------------------ */

#define KEY_MAX 1024
#define KEY_SEP '\x1f'       /* between the label values of a key */
#define KEY_NULL "\x1e"      /* a NULL value (written as "unknown") */

/* Joins the n values (NULL as KEY_NULL) into key, cut to fit KEY_MAX. */
static const char *join(char key[KEY_MAX], const char *const *v, size_t n)
{
	size_t i, len = 0, k, room;

	for (i = 0; i < n && (room = KEY_MAX - 1 - len) > 0; i++) {
		const char *s = v[i] ? v[i] : KEY_NULL;
		k = strlen(s);
		if (k > room - 1)
			k = room - 1;
		memcpy(key + len, s, k);
		len += k;
		key[len++] = KEY_SEP;
	}
	key[len ? len - 1 : 0] = '\0';
	return key;
}

/* Splits a copy of key into buf: v[0..n) point into it, NULL for KEY_NULL
 * or a missing value. */
static void split(const char *key, char buf[KEY_MAX], const char **v,
                  size_t n)
{
	char *p = buf;
	size_t i;

	snprintf(buf, KEY_MAX, "%s", key ? key : "");
	for (i = 0; i < n; i++) {
		char *sep = p ? strchr(p, KEY_SEP) : NULL;
		if (sep)
			*sep = '\0';
		v[i] = p == NULL || strcmp(p, KEY_NULL) == 0 ? NULL : p;
		p = sep ? sep + 1 : NULL;
	}
}

/* The value (zeroed when new) of the label values v[0..nv); NULL after
 * recording that memory ran out. */
static void *slot(struct mx *m, struct pfi_smap *sm, const char *const *v,
                  size_t nv)
{
	char key[KEY_MAX];
	size_t idx;

	if (pfi_smap_get(sm, join(key, v, nv), &idx) != PFI_OK) {
		mx_nomem(m);
		return NULL;
	}
	return pfi_smap_val(sm, idx);
}

/* Adds n to the int64_t sum of the label values v[0..nv). */
static int add(struct mx *m, struct pfi_smap *sm, const char *const *v,
               size_t nv, int64_t n)
{
	int64_t *sum = slot(m, sm, v, nv);

	if (sum == NULL)
		return PFI_ENOMEM;
	*sum += n;
	return PFI_OK;
}

/* The sums of a host (NULL: "unknown"); NULL when memory ran out. */
static struct host_acc *host_of(struct mx *m, const char *host)
{
	const char *h = host ? host : UNKNOWN;

	return slot(m, &m->hosts, &h, 1);
}

static int cmp_keyref(const void *a, const void *b)
{
	const char *x = **(char **const *)a, *y = **(char **const *)b;

	return strcmp(x ? x : "", y ? y : "");
}

/* The indexes of sm's entries in the order of their keys, in *out (free
 * it). */
static int sorted(struct mx *m, const struct pfi_smap *sm, size_t **out)
{
	char ***ref = malloc((sm->n ? sm->n : 1) * sizeof(*ref));
	size_t i;

	*out = malloc((sm->n ? sm->n : 1) * sizeof(**out));
	if (ref == NULL || *out == NULL) {
		free(ref);
		free(*out);
		*out = NULL;
		return mx_nomem(m);
	}
	for (i = 0; i < sm->n; i++)
		ref[i] = &sm->keys[i];
	qsort(ref, sm->n, sizeof(*ref), cmp_keyref);
	for (i = 0; i < sm->n; i++)
		(*out)[i] = (size_t)(ref[i] - sm->keys);
	free(ref);
	return PFI_OK;
}

/* A family from sm, in key order: int64_t sums (a counter) when bounds is
 * NULL, else struct hist values (a histogram over bounds[0..nb)); each
 * key's nl values are labelled by names[0..nl). */
static int write_keyed(struct mx *m, const char *name, const char *help,
                       const struct pfi_smap *sm, const char *const *names,
                       size_t nl, const double *bounds, size_t nb)
{
	const char *lv[8], *v[4];
	char buf[KEY_MAX];
	size_t *order, i, k;
	int rc = family(m, name, bounds ? "histogram" : "counter", help);

	if (rc != PFI_OK || (rc = sorted(m, sm, &order)) != PFI_OK)
		return rc;
	for (i = 0; rc == PFI_OK && i < sm->n; i++) {
		void *val = pfi_smap_val(sm, order[i]);
		split(sm->keys[order[i]], buf, v, nl);
		for (k = 0; k < nl; k++) {
			lv[2 * k] = names[k];
			lv[2 * k + 1] = v[k];
		}
		rc = bounds ? hist_write(m, name, lv, 2 * nl, val, bounds, nb)
		     : sample(m, name, lv, 2 * nl, NULL, (double)*(int64_t *)val);
	}
	free(order);
	return rc;
}

static int write_sums(struct mx *m, const char *name, const char *help,
                      const struct pfi_smap *sm, const char *const *names,
                      size_t nl)
{
	return write_keyed(m, name, help, sm, names, nl, NULL, 0);
}

/* ---- recipients, rejects, domains, delays (stat cells, one pass) ------------- */

/* What the recipient cells sum to. */
struct rcpt_acc {
	struct pfi_smap status;    /* host, status -> int64_t */
	struct pfi_smap deferred;  /* host -> int64_t deferred once */
	struct pfi_smap rejects;   /* host, class, code -> int64_t */
	struct pfi_smap total;     /* domain -> int64_t, for the top N */
	struct pfi_smap domain;    /* host, domain, status -> int64_t */
	struct pfi_smap hdelay;    /* host -> struct hist */
	struct pfi_smap ddelay;    /* host, domain -> struct hist */
};

static void rcpt_init(struct rcpt_acc *a)
{
	pfi_smap_init(&a->status, sizeof(int64_t));
	pfi_smap_init(&a->deferred, sizeof(int64_t));
	pfi_smap_init(&a->rejects, sizeof(int64_t));
	pfi_smap_init(&a->total, sizeof(int64_t));
	pfi_smap_init(&a->domain, sizeof(int64_t));
	pfi_smap_init(&a->hdelay, sizeof(struct hist));
	pfi_smap_init(&a->ddelay, sizeof(struct hist));
}

static void rcpt_release(struct rcpt_acc *a)
{
	pfi_smap_release(&a->status);
	pfi_smap_release(&a->deferred);
	pfi_smap_release(&a->rejects);
	pfi_smap_release(&a->total);
	pfi_smap_release(&a->domain);
	pfi_smap_release(&a->hdelay);
	pfi_smap_release(&a->ddelay);
}

static int is_final(const char *status)
{
	return status && (strcmp(status, "sent") == 0 ||
	                  strcmp(status, "bounced") == 0 ||
	                  strcmp(status, "expired") == 0);
}

/* The delays of a final outcomes' cell, by host and by (host, domain). */
static int cell_delays(struct mx *m, struct rcpt_acc *a, sqlite3_stmt *s,
                       const char *const *hd)
{
	struct hist *hh, *dh;
	size_t n, i;

	if (pfi_delays_decode(sqlite3_column_blob(s, 7),
	                      (size_t)sqlite3_column_bytes(s, 7), &m->dl,
	                      &m->dcap, &n) != PFI_OK)
		return pfi_err_set(&m->st->err, PFI_ERROR, "cannot read metrics:"
		                   " a stats cell's delays are malformed");
	if ((hh = slot(m, &a->hdelay, hd, 1)) == NULL ||
	    (dh = slot(m, &a->ddelay, hd, 2)) == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < n; i++) {
		hist_add(hh, delay_bounds, NBOUNDS, m->dl[i].delay, m->dl[i].n);
		hist_add(dh, domain_bounds, NDBOUNDS, m->dl[i].delay, m->dl[i].n);
	}
	return PFI_OK;
}

/* One cell: host, domain, status, class, code, n, m, delays. */
static int rcpt_cell(struct mx *m, struct rcpt_acc *a, sqlite3_stmt *s)
{
	const char *v[5] = { col(s, 0), col(s, 1), col(s, 2), col(s, 3),
		col(s, 4) };
	const char *hs[2] = { v[0], v[2] }, *rej[3] = { v[0], v[3], v[4] };
	const char *hds[3] = { v[0], v[1], v[2] };
	int64_t n = sqlite3_column_int64(s, 5);
	int rc;

	rc = add(m, &a->status, hs, 2, n);
	rc = rc ?: add(m, &a->deferred, v, 1, sqlite3_column_int64(s, 6));
	if (rc == PFI_OK && v[2] && strcmp(v[2], "rejected") == 0)
		rc = add(m, &a->rejects, rej, 3, n);
	if (rc == PFI_OK && v[1])
		rc = add(m, &a->total, v + 1, 1, n);
	rc = rc ?: add(m, &a->domain, hds, 3, n);
	if (rc == PFI_OK && is_final(v[2]) &&
	    sqlite3_column_type(s, 7) != SQLITE_NULL)
		rc = cell_delays(m, a, s, v);
	return rc;
}

/* A domain's total, for sorting the top N. */
struct dom_n {
	const char *domain;
	int64_t n;
};

static int cmp_dom_n(const void *a, const void *b)
{
	const struct dom_n *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->domain, y->domain);
}

/* Fills m->top with the top N recipient domains by recipients. */
static int top_domains(struct mx *m, const struct pfi_smap *total)
{
	size_t n = m->o && m->o->top ? m->o->top : TOP_DEFAULT, i, idx;
	struct dom_n *v = malloc((total->n ? total->n : 1) * sizeof(*v));
	int rc = PFI_OK;

	if (v == NULL)
		return mx_nomem(m);
	for (i = 0; i < total->n; i++) {
		v[i].domain = total->keys[i];
		v[i].n = *(int64_t *)pfi_smap_val(total, i);
	}
	qsort(v, total->n, sizeof(*v), cmp_dom_n);
	for (i = 0; rc == PFI_OK && i < n && i < total->n; i++)
		if (pfi_smap_get(&m->top, v[i].domain, &idx) != PFI_OK)
			rc = mx_nomem(m);
	free(v);
	return rc;
}

static const char *domain_key(struct mx *m, const char *domain)
{
	size_t idx;

	return domain && pfi_smap_find(&m->top, domain, &idx) ? domain : OTHER;
}

/* Sums by (host, domain, ...) again with the domains outside the top N as
 * "other": int64_t sums when hist is 0, else struct hist. */
static int fold_domains(struct mx *m, const struct pfi_smap *in, size_t nv,
                        int hist, struct pfi_smap *out)
{
	const char *v[3];
	char buf[KEY_MAX];
	size_t i, b;

	for (i = 0; i < in->n; i++) {
		void *from = pfi_smap_val(in, i), *to;
		split(in->keys[i], buf, v, nv);
		v[1] = domain_key(m, v[1]);
		if ((to = slot(m, out, v, nv)) == NULL)
			return PFI_ENOMEM;
		if (!hist) {
			*(int64_t *)to += *(int64_t *)from;
			continue;
		}
		for (b = 0; b <= NBOUNDS; b++)
			((struct hist *)to)->bucket[b] += ((struct hist *)from)->bucket[b];
		((struct hist *)to)->count += ((struct hist *)from)->count;
		((struct hist *)to)->sum += ((struct hist *)from)->sum;
	}
	return PFI_OK;
}

static int rcpt_write(struct mx *m, struct rcpt_acc *a)
{
	static const char *const hs[] = { "host", "status" };
	static const char *const rej[] = { "host", "class", "code" };
	static const char *const hds[] = { "host", "domain", "status" };
	struct pfi_smap dom, dhist;
	int rc;

	pfi_smap_init(&dom, sizeof(int64_t));
	pfi_smap_init(&dhist, sizeof(struct hist));
	rc = write_sums(m, "pfi_recipients_total", "Recipients by final outcome"
	                " (SPEC vocabulary), each original recipient once;"
	                " rejected recipients included.", &a->status, hs, 2);
	rc = rc ?: write_sums(m, "pfi_recipients_deferred_once_total",
	                "Recipients deferred at least once before their outcome.",
	                &a->deferred, hs, 1);
	rc = rc ?: write_sums(m, "pfi_rejects_total", "Rejected recipients by"
	                " reject class and SMTP code.", &a->rejects, rej, 3);
	rc = rc ?: fold_domains(m, &a->domain, 3, 0, &dom);
	rc = rc ?: write_sums(m, "pfi_domain_recipients_total", "Recipients by"
	                " final outcome for the top recipient domains; the rest"
	                " under domain=\"other\".", &dom, hds, 3);
	rc = rc ?: write_keyed(m, "pfi_delivery_delay_seconds", "Delay from"
	                " arrival to the final outcome (sent, bounced, expired),"
	                " each original recipient once.", &a->hdelay, hds, 1,
	                delay_bounds, NBOUNDS);
	rc = rc ?: fold_domains(m, &a->ddelay, 2, 1, &dhist);
	rc = rc ?: write_keyed(m, "pfi_domain_delivery_delay_seconds",
	                "pfi_delivery_delay_seconds for the top recipient"
	                " domains; the rest under domain=\"other\".", &dhist, hds,
	                2, domain_bounds, NDBOUNDS);
	pfi_smap_release(&dom);
	pfi_smap_release(&dhist);
	return rc;
}

static int recipients(struct mx *m)
{
	struct rcpt_acc a;
	sqlite3_stmt *s = NULL;
	int step = SQLITE_DONE, rc;

	rcpt_init(&a);
	rc = prepare(m, "SELECT host, domain, status, class, code, n, m, delays"
	             " FROM stat_cells WHERE kind = 0", &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = rcpt_cell(m, &a, s);
	if (s)
		rc = finish(m, s, step, rc);
	rc = rc ?: top_domains(m, &a.total);
	rc = rc ?: rcpt_write(m, &a);
	rcpt_release(&a);
	return rc;
}

/* ---- messages: received, notifications, bytes ------------------------------------ */

struct msg_acc {
	struct pfi_smap recv;      /* host, source -> int64_t */
	struct pfi_smap bytes;     /* host -> int64_t */
	struct pfi_smap notes;     /* host, kind -> int64_t */
};

/* One message: host, relation, origin, sender = '', size, last.  Received
 * originals have an origin and no relation; bounce notifications are
 * relation 'bounce' or, unlinked, have no origin and a null sender. */
static int msg_row(struct mx *m, struct msg_acc *a, sqlite3_stmt *s)
{
	const char *host = col(s, 0), *rel = col(s, 1), *origin = col(s, 2);
	const char *v[2] = { host, origin };
	int rc = saw(m, host, sqlite3_column_int64(s, 5));

	if (rc != PFI_OK)
		return rc;
	if (rel == NULL && origin != NULL) {
		rc = add(m, &a->recv, v, 2, 1);
		return rc ?: add(m, &a->bytes, v, 1, sqlite3_column_int64(s, 4));
	}
	if ((rel && strcmp(rel, "bounce") == 0) ||
	    (rel == NULL && sqlite3_column_int(s, 3)))
		v[1] = "bounce";
	else if (rel && strcmp(rel, "delay") == 0)
		v[1] = "delay";
	else
		return PFI_OK;
	return add(m, &a->notes, v, 2, 1);
}

static int messages(struct mx *m)
{
	static const char *const rcv[] = { "host", "source" };
	static const char *const ntf[] = { "host", "kind" };
	struct msg_acc a;
	sqlite3_stmt *s = NULL;
	int step = SQLITE_DONE, rc;

	pfi_smap_init(&a.recv, sizeof(int64_t));
	pfi_smap_init(&a.bytes, sizeof(int64_t));
	pfi_smap_init(&a.notes, sizeof(int64_t));
	rc = prepare(m, "SELECT host, relation, origin, sender = '', size, last"
	             " FROM messages", &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = msg_row(m, &a, s);
	if (s)
		rc = finish(m, s, step, rc);
	rc = rc ?: write_sums(m, "pfi_messages_received_total", "Original"
	                      " messages received, by the Postfix service that"
	                      " took them in (smtpd, pickup).", &a.recv, rcv, 2);
	rc = rc ?: write_sums(m, "pfi_notifications_total", "Notifications"
	                      " Postfix made: bounce (non-delivery) and delay"
	                      " warnings.", &a.notes, ntf, 2);
	rc = rc ?: write_sums(m, "pfi_received_bytes_total", "Sum of the sizes"
	                      " of the original messages received.", &a.bytes,
	                      rcv, 1);
	pfi_smap_release(&a.recv);
	pfi_smap_release(&a.bytes);
	pfi_smap_release(&a.notes);
	return rc;
}

/* ---- deliveries: outbound TLS, per-stage delays ---------------------------------- */

static const char *const stage_names[4] = {
	"before_qmgr", "in_qmgr", "conn_setup", "transmission"
};

/* The columns: host, time, whether to a network relay (not filtered or
 * rejected), TLS protocol, whether a final outcome, the delays= split. */
static const char deliveries_sql[] =
	"SELECT host, time, status NOT IN ('filtered', 'rejected')"
	" AND instr(relay, '[') > 0, tls_protocol,"
	" status IN ('sent', 'bounced', 'expired') AND d_before IS NOT NULL,"
	" d_before, d_in, d_conn, d_xmit FROM deliveries";

static int deliv_row(struct mx *m, struct pfi_smap *tls, sqlite3_stmt *s)
{
	const char *v[2] = { col(s, 0), col(s, 3) };
	struct host_acc *h = host_of(m, v[0]);
	int i;

	if (h == NULL)
		return PFI_ENOMEM;
	if (sqlite3_column_int64(s, 1) > h->last)
		h->last = sqlite3_column_int64(s, 1);
	if (sqlite3_column_int(s, 2)) {
		h->network++;
		if (v[1] && add(m, tls, v, 2, 1) != PFI_OK)
			return PFI_ENOMEM;
	}
	for (i = 0; i < 4 && sqlite3_column_int(s, 4); i++)
		if (sqlite3_column_type(s, 5 + i) != SQLITE_NULL)
			hist_add(&h->stage[i], delay_bounds, NBOUNDS,
			         sqlite3_column_double(s, 5 + i), 1);
	return PFI_OK;
}

/* Inbound TLS from the cells (a received message's smtpd session), then
 * outbound from the scan. */
static int tls_write(struct mx *m, const struct pfi_smap *tls)
{
	const char *lv[6] = { "host", NULL, "direction", "inbound", "protocol",
		NULL }, *v[2];
	char buf[KEY_MAX];
	sqlite3_stmt *s = NULL;
	size_t *order = NULL, i;
	int step = SQLITE_DONE, rc = family(m, "pfi_tls_connections_total",
	        "counter", "TLS sessions by direction and protocol: inbound, the"
	        " smtpd session of each received message; outbound, each"
	        " delivery to a network relay.");

	rc = rc ?: prepare(m, "SELECT host, tls, sum(n) FROM stat_cells"
	                   " WHERE kind = 1 AND tls IS NOT NULL"
	                   " GROUP BY host, tls ORDER BY 1, 2", &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		lv[1] = col(s, 0);
		lv[5] = col(s, 1);
		rc = sample(m, "pfi_tls_connections_total", lv, 6, NULL,
		            sqlite3_column_double(s, 2));
	}
	if (s)
		rc = finish(m, s, step, rc);
	lv[3] = "outbound";
	rc = rc ?: sorted(m, tls, &order);
	for (i = 0; rc == PFI_OK && i < tls->n; i++) {
		split(tls->keys[order[i]], buf, v, 2);
		lv[1] = v[0];
		lv[5] = v[1];
		rc = sample(m, "pfi_tls_connections_total", lv, 6, NULL,
		            (double)*(int64_t *)pfi_smap_val(tls, order[i]));
	}
	free(order);
	return rc;
}

/* Network deliveries and stage delays of the hosts that have them. */
static int deliv_write(struct mx *m, const struct pfi_smap *tls)
{
	const char *lv[4] = { "host", NULL, "stage", NULL };
	size_t *order, i;
	int k, rc = family(m, "pfi_network_deliveries_total", "counter",
	                   "Delivery attempts' final rows to a network relay"
	                   " (smtp, lmtp), the base of the outbound TLS share.");

	if (rc != PFI_OK)
		return mx_nomem(m);
	if ((rc = sorted(m, &m->hosts, &order)) != PFI_OK)
		return rc;
	for (i = 0; rc == PFI_OK && i < m->hosts.n; i++) {
		const struct host_acc *h = pfi_smap_val(&m->hosts, order[i]);
		lv[1] = m->hosts.keys[order[i]];
		if (h->network > 0)
			rc = sample(m, "pfi_network_deliveries_total", lv, 2, NULL,
			            (double)h->network);
	}
	rc = rc ?: tls_write(m, tls);
	rc = rc ?: family(m, "pfi_delivery_stage_delay_seconds", "histogram",
	                  "Postfix's delays= split of final deliveries (sent,"
	                  " bounced, expired), by stage, each delivery row.");
	for (i = 0; rc == PFI_OK && i < m->hosts.n; i++) {
		const struct host_acc *h = pfi_smap_val(&m->hosts, order[i]);
		lv[1] = m->hosts.keys[order[i]];
		for (k = 0; rc == PFI_OK && k < 4 && h->stage[0].count; k++) {
			lv[3] = stage_names[k];
			rc = hist_write(m, "pfi_delivery_stage_delay_seconds", lv, 4,
			                &h->stage[k], delay_bounds, NBOUNDS);
		}
	}
	free(order);
	return rc;
}

static int deliveries(struct mx *m)
{
	struct pfi_smap tls;       /* host, protocol -> int64_t outbound */
	sqlite3_stmt *s = NULL;
	int step = SQLITE_DONE, rc;

	pfi_smap_init(&tls, sizeof(int64_t));
	rc = prepare(m, deliveries_sql, &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = deliv_row(m, &tls, s);
	if (s)
		rc = finish(m, s, step, rc);
	rc = rc ?: deliv_write(m, &tls);
	pfi_smap_release(&tls);
	return rc;
}

/* ---- the queue now, SASL, lines, verdicts ----------------------------------------- */

static const char queue_sql[] =
	"SELECT host, count(*), coalesce(sum(size), 0), sum(d),"
	" coalesce(sum(CASE WHEN d THEN size END), 0) FROM (SELECT host,"
	" size, EXISTS (SELECT 1 FROM deliveries d WHERE d.message = m.id"
	" AND d.status = 'deferred') AS d FROM messages m WHERE open = 1)"
	" GROUP BY host ORDER BY host";

static const struct { const char *name, *help; } queue_families[4] = {
	{ "pfi_queued_messages", "Messages in the queue now: seen arriving,"
	  " not yet removed." },
	{ "pfi_queued_bytes", "Sum of the sizes of pfi_queued_messages." },
	{ "pfi_deferred_messages", "Queued messages with a recipient deferred"
	  " now." },
	{ "pfi_deferred_bytes", "Sum of the sizes of pfi_deferred_messages." },
};

/* Four gauges from one query: the rows are kept as text, then written
 * family by family. */
static int queue(struct mx *m)
{
	struct pfi_buf fam[4];
	struct pfi_buf *main_out = m->out;
	sqlite3_stmt *s = NULL;
	int i, step = SQLITE_DONE, rc = prepare(m, queue_sql, &s);

	for (i = 0; i < 4; i++)
		pfi_buf_init(&fam[i], PFI_BUF_DEFAULT_MAX);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		for (i = 0; rc == PFI_OK && i < 4; i++) {
			const char *lv[2] = { "host", col(s, 0) };
			m->out = &fam[i];
			rc = sample(m, queue_families[i].name, lv, 2, NULL,
			            sqlite3_column_double(s, i + 1));
			m->out = main_out;
		}
	if (s)
		rc = finish(m, s, step, rc);
	for (i = 0; i < 4; i++) {
		rc = rc ?: family(m, queue_families[i].name, "gauge",
		                  queue_families[i].help);
		if (rc == PFI_OK && fam[i].len &&
		    pfi_buf_append(m->out, fam[i].data, fam[i].len) != PFI_OK)
			rc = mx_nomem(m);
		pfi_buf_release(&fam[i]);
	}
	return rc;
}

static int sasl(struct mx *m)
{
	static const char *const host[] = { "host" };
	sqlite3_stmt *s = NULL;
	int step = SQLITE_DONE, rc;

	rc = by_query(m, "pfi_sasl_auth_failures_total", "counter",
	              "Failed SASL logins (smtpd 'SASL ... authentication"
	              " failed').", "SELECT host, count(*) FROM sasl_failures"
	              " GROUP BY host ORDER BY host", host, 1);
	rc = rc ?: prepare(m, "SELECT host, max(time) FROM sasl_failures"
	                   " GROUP BY host", &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = saw(m, col(s, 0), sqlite3_column_int64(s, 1));
	return rc == PFI_OK || s ? finish(m, s, step, rc) : rc;
}

static int last_seen(struct mx *m)
{
	size_t *order, i;
	int rc = family(m, "pfi_last_log_timestamp_seconds", "gauge",
	                "Time of the latest indexed line of a message, reject or"
	                " failed login of the host.");

	if (rc != PFI_OK)
		return mx_nomem(m);
	if ((rc = sorted(m, &m->hosts, &order)) != PFI_OK)
		return rc;
	for (i = 0; rc == PFI_OK && i < m->hosts.n; i++) {
		const char *lv[2] = { "host", m->hosts.keys[order[i]] };
		const struct host_acc *h = pfi_smap_val(&m->hosts, order[i]);
		if (h->last > 0)
			rc = sample(m, "pfi_last_log_timestamp_seconds", lv, 2, NULL,
			            (double)h->last / 1e6);
	}
	free(order);
	return rc;
}

/* Whether the index has table `name` (one made when an index is opened
 * for writing, which an index this pfi has not written lacks): 1, 0, or
 * -1 on failure. */
static int has_table(struct mx *m, const char *name)
{
	sqlite3_stmt *s = NULL;
	int step, rc = prepare(m, "SELECT 1 FROM sqlite_schema"
	                       " WHERE type = 'table' AND name = ?1", &s);

	if (rc != PFI_OK)
		return -1;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	rc = finish(m, s, step == SQLITE_ROW ? SQLITE_DONE : step, PFI_OK);
	return rc != PFI_OK ? -1 : step == SQLITE_ROW;
}

#define LINE_KIND_SQL                                                         \
	"CASE kind WHEN 0 THEN 'postfix' WHEN 1 THEN 'unparsed' WHEN 2 THEN"  \
	" 'foreign' WHEN 4 THEN 'verdict' ELSE 'nosyslog' END"

/* Per host from line_host_counts (write-runs.c); an index without it
 * (not written to since) has its lines under host "", as the table
 * would have them once made. */
static int lines(struct mx *m)
{
	static const char *const labels[] = { "host", "kind" };
	int have = has_table(m, "line_host_counts");

	if (have < 0)
		return PFI_ERROR;
	return by_query(m, "pfi_log_lines_total", "counter",
	                "Lines read, by host and kind: postfix (understood),"
	                " unparsed (a Postfix line pfi did not understand),"
	                " foreign (another program), nosyslog (not a syslog"
	                " line, host \"\"), verdict (a milter's or filter's"
	                " verdict).  Lines an older pfi counted are under"
	                " host \"\".",
	                have ? "SELECT host, " LINE_KIND_SQL ", sum(count)"
	                       " FROM line_host_counts GROUP BY host, kind"
	                       " ORDER BY host, kind"
	                     : "SELECT '', " LINE_KIND_SQL ", sum(count)"
	                       " FROM line_counts GROUP BY kind ORDER BY kind",
	                labels, 2);
}

/* The last index run recorded in the index (write-runs.c), of whatever
 * process, into m->run_end and m->run_seconds; none: left 0. */
static int last_run(struct mx *m)
{
	sqlite3_stmt *s = NULL;
	int step, rc, have = has_table(m, "index_runs");

	if (have <= 0)
		return have < 0 ? PFI_ERROR : PFI_OK;
	rc = prepare(m, "SELECT end, seconds FROM index_runs"
	             " ORDER BY id DESC LIMIT 1", &s);
	if (rc != PFI_OK)
		return rc;
	if ((step = sqlite3_step(s)) == SQLITE_ROW) {
		m->run_end = sqlite3_column_int64(s, 0);
		m->run_seconds = sqlite3_column_double(s, 1);
		step = SQLITE_DONE;
	}
	return finish(m, s, step, rc);
}

/* Lines counted per host by what they say (event_counts, schema 4). */
static const struct {
	const char *name, *help, *sql;
	const char *const labels[3];
	size_t nl;
} event_families[] = {
	{ "pfi_postscreen_actions_total",
	  "postscreen's actions by kind: connect, pass_new, pass_old, pregreet,"
	  " hangup, dnsbl, allowlisted, denylisted, reject ...",
	  "SELECT host, label, sum(n) FROM event_counts"
	  " WHERE family = 'postscreen' GROUP BY host, label ORDER BY host, label",
	  { "host", "action" }, 2 },
	{ "pfi_smtpd_connections_total",
	  "Connections smtpd accepted ('connect from').",
	  "SELECT host, sum(n) FROM event_counts WHERE family = 'smtpd_connect'"
	  " GROUP BY host ORDER BY host",
	  { "host" }, 1 },
	{ "pfi_smtpd_lost_connections_total",
	  "Connections smtpd lost (cause lost) or timed out (cause timeout),"
	  " by the SMTP stage they ended after.",
	  "SELECT host, label, CASE family WHEN 'smtpd_lost' THEN 'lost'"
	  " ELSE 'timeout' END, sum(n) FROM event_counts"
	  " WHERE family IN ('smtpd_lost', 'smtpd_timeout')"
	  " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
	  { "host", "stage", "cause" }, 3 },
	{ "pfi_delivery_attempts_total",
	  "Delivery attempts (each delivery agent line with a status=) by"
	  " status; a recipient deferred three times and then sent counts four"
	  " attempts.",
	  "SELECT host, label, sum(n) FROM event_counts WHERE family = 'delivery'"
	  " GROUP BY host, label ORDER BY host, label",
	  { "host", "status" }, 2 },
};

/* An index of an older schema has no event_counts: the families without
 * samples. */
static int events(struct mx *m)
{
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i < PFI_ARRAY_SIZE(event_families) && rc == PFI_OK; i++) {
		if (m->st->schema < 4)
			rc = family(m, event_families[i].name, "counter",
			            event_families[i].help) == PFI_OK ? PFI_OK
			     : mx_nomem(m);
		else
			rc = by_query(m, event_families[i].name, "counter",
			              event_families[i].help, event_families[i].sql,
			              event_families[i].labels, event_families[i].nl);
	}
	return rc;
}

/* Milter and filter verdicts (schema 5): by kind and result; signing by
 * signing domain, the top N and "other"; and the messages of those
 * domains, which signing should cover, so that a rule sees mail of a
 * signing domain leave unsigned. */
static const char verdicts_sql[] =
	"SELECT host, kind, result, count(*) FROM verdicts"
	" GROUP BY host, kind, result ORDER BY host, kind, result";

static const char signed_sql[] =
	"WITH top AS (SELECT domain FROM verdicts WHERE kind = 'dkim'"
	" AND result = 'signed' AND domain IS NOT NULL GROUP BY domain"
	" ORDER BY count(*) DESC, domain LIMIT %zu)"
	" SELECT host, CASE WHEN domain IN (SELECT domain FROM top)"
	" THEN domain ELSE '" OTHER "' END AS d, count(*) FROM verdicts"
	" WHERE kind = 'dkim' AND result = 'signed' GROUP BY host, d"
	" ORDER BY host, d";

static const char outbound_sql[] =
	"WITH top AS (SELECT domain FROM verdicts WHERE kind = 'dkim'"
	" AND result = 'signed' AND domain IS NOT NULL GROUP BY domain"
	" ORDER BY count(*) DESC, domain LIMIT %zu),"
	" m AS (SELECT host, lower(substr(sender, instr(sender, '@') + 1))"
	" AS domain FROM messages WHERE parent IS NULL AND sender LIKE '%%@%%')"
	" SELECT host, domain, count(*) FROM m WHERE domain IN"
	" (SELECT domain FROM top) GROUP BY host, domain ORDER BY host, domain";

static const struct {
	const char *name, *help, *sql;
	const char *const *labels;
	size_t nl;
} verdict_families[] = {
	{ "pfi_verdicts_total", "Verdicts of the milters and filters beside"
	  " Postfix (opendkim, opendmarc, SPF policy, amavis, rspamd,"
	  " clamav-milter), by kind and result (SPEC's words).", verdicts_sql,
	  (const char *const[]){ "host", "kind", "result" }, 3 },
	{ "pfi_dkim_signed_total", "Messages opendkim signed, by signing"
	  " domain: the top N domains, the rest under domain=\"other\".",
	  signed_sql, (const char *const[]){ "host", "domain" }, 2 },
	{ "pfi_signing_domain_messages_total", "Messages (not re-injections)"
	  " whose sender is in a domain of pfi_dkim_signed_total: what signing"
	  " should cover, whatever client sent them.", outbound_sql,
	  (const char *const[]){ "host", "domain" }, 2 },
};

/* signed_sql (which 0) or outbound_sql (1) with the top N in. */
static const char *top_sql(const struct mx *m, char *buf, size_t cap,
                           int which)
{
	size_t n = m->o && m->o->top ? (size_t)m->o->top : TOP_DEFAULT;

	if (which == 0)
		snprintf(buf, cap, signed_sql, n);
	else
		snprintf(buf, cap, outbound_sql, n);
	return buf;
}

/* An index older than schema 5 keeps no verdicts: the families are
 * declared, without samples, so that dashboards and rules can name them. */
static int verdicts(struct mx *m)
{
	char sql[sizeof(outbound_sql) + 32];
	size_t i;
	int rc = PFI_OK;

	for (i = 0; rc == PFI_OK && i < sizeof(verdict_families) /
	                                sizeof(verdict_families[0]); i++) {
		const char *q = verdict_families[i].sql;

		if (m->st->schema < 5) {
			rc = family(m, verdict_families[i].name, "counter",
			            verdict_families[i].help) == PFI_OK
			     ? PFI_OK : mx_nomem(m);
			continue;
		}
		if (q == signed_sql)
			q = top_sql(m, sql, sizeof(sql), 0);
		else if (q == outbound_sql)
			q = top_sql(m, sql, sizeof(sql), 1);
		rc = by_query(m, verdict_families[i].name, "counter",
		              verdict_families[i].help, q,
		              verdict_families[i].labels, verdict_families[i].nl);
	}
	return rc;
}

/* ---- the index itself --------------------------------------------------------------- */

static int64_t file_mtime_us(const char *path, const char *suffix,
                             int64_t *size)
{
	char p[4096];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	if (stat(p, &sb) != 0)
		return 0;
	*size += (int64_t)sb.st_size;
	return (int64_t)sb.st_mtim.tv_sec * 1000000 + sb.st_mtim.tv_nsec / 1000;
}

/* The latest mtime (microseconds) of the files the index read, at the
 * absolute paths they were last read under, in *out; 0 when none is
 * there.  A relative path names a file of the indexer's directory, not
 * of ours, and is skipped. */
static int log_files_mtime(struct mx *m, int64_t *out)
{
	sqlite3_stmt *s = NULL;
	int64_t t, size = 0;
	int step = SQLITE_DONE, rc = prepare(m, "SELECT DISTINCT path FROM files"
	                                     " WHERE path LIKE '/%'", &s);

	*out = 0;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		if ((t = file_mtime_us(col(s, 0), "", &size)) > *out)
			*out = t;
	return rc == PFI_OK || s ? finish(m, s, step, rc) : rc;
}

/* The last run: the one the index recorded, or the caller's own when
 * that ended later (--follow: one that found nothing to commit). */
static int run_facts(struct mx *m)
{
	int64_t end = m->run_end;
	double secs = m->run_seconds;
	int rc;

	if (m->o && m->o->run_end > end) {
		end = m->o->run_end;
		secs = m->o->run_seconds;
	}
	rc = family(m, "pfi_index_last_run_timestamp_seconds", "gauge",
	            "When the last index run that committed lines ended, as the"
	            " index records it (any process's), or this process's own"
	            " later one.");
	if (rc == PFI_OK && end > 0)
		rc = sample(m, "pfi_index_last_run_timestamp_seconds", NULL, 0,
		            NULL, (double)end / 1e6);
	rc = rc ?: family(m, "pfi_index_last_run_duration_seconds", "gauge",
	                  "How long that index run took.");
	if (rc == PFI_OK && end > 0)
		rc = sample(m, "pfi_index_last_run_duration_seconds", NULL, 0,
		            NULL, secs);
	return rc;
}

static int index_facts(struct mx *m, double render)
{
	int64_t size = 0, t = file_mtime_us(m->st->file, "", &size);
	int64_t tw = file_mtime_us(m->st->file, "-wal", &size);
	const char *ver[2] = { "version", pfi_version() };
	int rc;

	rc = family(m, "pfi_index_size_bytes", "gauge",
	            "Size of the index file and its write-ahead log.");
	rc = rc ?: sample(m, "pfi_index_size_bytes", NULL, 0, NULL, (double)size);
	rc = rc ?: family(m, "pfi_index_last_write_timestamp_seconds", "gauge",
	                  "When the index was last written (its files' mtime).");
	rc = rc ?: sample(m, "pfi_index_last_write_timestamp_seconds", NULL, 0,
	                  NULL, (double)(tw > t ? tw : t) / 1e6);
	rc = rc ?: family(m, "pfi_log_file_modified_timestamp_seconds", "gauge",
	                  "Latest mtime of the log files the index read (by"
	                  " absolute path, as they are now): later than"
	                  " pfi_index_last_write_timestamp_seconds, the log grows"
	                  " and the index does not.");
	rc = rc ?: log_files_mtime(m, &t);
	if (rc == PFI_OK && t > 0)
		rc = sample(m, "pfi_log_file_modified_timestamp_seconds", NULL, 0,
		            NULL, (double)t / 1e6);
	rc = rc ?: run_facts(m);
	rc = rc ?: family(m, "pfi_metrics_render_seconds", "gauge",
	                  "How long reading these metrics from the index took.");
	rc = rc ?: sample(m, "pfi_metrics_render_seconds", NULL, 0, NULL, render);
	rc = rc ?: family(m, "pfi_build_info", "gauge",
	                  "The pfi library version; always 1.");
	return rc ?: sample(m, "pfi_build_info", ver, 2, NULL, 1);
}

/* ---- the interface -------------------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Every family but those of the index itself, in one read transaction. */
static int families(struct mx *m)
{
	int rc;

	if (!pfi_cells_present(m->st))
		return pfi_err_set(&m->st->err, PFI_ESCHEMA, "cannot read metrics:"
		                   " the index has no stats cells; run 'pfi index'");
	rc = messages(m);
	rc = rc ?: recipients(m);
	rc = rc ?: deliveries(m);
	rc = rc ?: queue(m);
	rc = rc ?: sasl(m);
	rc = rc ?: last_seen(m);
	rc = rc ?: lines(m);
	rc = rc ?: last_run(m);
	rc = rc ?: events(m);
	return rc ?: verdicts(m);
}

struct pfi_metrics {
	char *text;
	size_t len;
};

static int render(char **out, size_t *len, pfi_store *st,
                  const struct pfi_metrics_opts *opts)
{
	struct pfi_buf buf;
	struct mx m;
	struct timespec t0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&m, 0, sizeof(m));
	pfi_buf_init(&buf, PFI_BUF_DEFAULT_MAX);
	m.st = st;
	m.o = opts;
	m.out = &buf;
	pfi_smap_init(&m.top, sizeof(int));
	pfi_smap_init(&m.hosts, sizeof(struct host_acc));
	if ((rc = pfi_store_exec(st, "BEGIN")) == PFI_OK) {
		rc = families(&m);
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	}
	rc = rc ?: index_facts(&m, seconds_since(&t0));
	if (rc == PFI_OK) {
		*len = buf.len;
		*out = pfi_buf_detach(&buf);
	}
	pfi_buf_release(&buf);
	pfi_smap_release(&m.top);
	pfi_smap_release(&m.hosts);
	free(m.dl);
	return rc;
}

int pfi_metrics_new(pfi_metrics **out, pfi_store *st,
                    const struct pfi_metrics_opts *opts)
{
	static const struct pfi_metrics_opts defaults = PFI_METRICS_OPTIONS_INIT;
	pfi_metrics *m;
	int rc;

	*out = NULL;
	if (st == NULL)
		return PFI_EINVAL;
	if (opts == NULL)
		opts = &defaults;
	rc = pfi_opts_version(&st->err, opts->version,
	                      PFI_METRICS_OPTIONS_VERSION,
	                      "struct pfi_metrics_opts");
	if (rc != PFI_OK)
		return rc;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if ((rc = render(&m->text, &m->len, st, opts)) != PFI_OK) {
		pfi_metrics_free(m);
		return rc;
	}
	*out = m;
	return PFI_OK;
}

const char *pfi_metrics_text(const pfi_metrics *m, size_t *len)
{
	if (len)
		*len = m->len;
	return m->text;
}

void pfi_metrics_free(pfi_metrics *m)
{
	if (m == NULL)
		return;
	free(m->text);
	free(m);
}

int pfi_metrics_stamp(pfi_store *st, uint64_t *out)
{
	int64_t v = pfi_store_int(st, "PRAGMA data_version");

	*out = (uint64_t)v;
	return v < 0 ? pfi_store_dberr(st, PFI_ERROR, "cannot read index") : PFI_OK;
}
