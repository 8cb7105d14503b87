/*
 * metrics.c - pfi_metrics_render(): the index as a Prometheus text
 * exposition (version 0.0.4), the families SPEC "Metrics" fixes and more.
 *
 * Everything comes from the index, so counters persist across restarts
 * and count each recipient once.  Recipient outcomes, rejects, delays and
 * domains are summed from the per-hour stat cells (rollup.c), which hold
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
#include "stats-int.h"

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

/* One rendering. */
struct mx {
	pfi_store *st;
	const struct pfi_metrics_opts *o;
	struct pfi_buf *out;
	struct pfi_smap top;       /* the top recipient domains (value unused) */
	struct pfi_smap last;      /* host -> int64_t latest time seen */
	struct pfi_delay_n *dl;    /* decoded delays of one cell */
	size_t dcap;
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
	return pfi_buf_printf(m->out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	                      name, type);
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
	sqlite3_stmt *s;
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

/* Notes t (microseconds) as a time seen for host. */
static int saw(struct mx *m, const char *host, int64_t t)
{
	size_t idx;
	int64_t *v;

	if (pfi_smap_get(&m->last, host ? host : UNKNOWN, &idx) != PFI_OK)
		return mx_nomem(m);
	v = pfi_smap_val(&m->last, idx);
	if (t > *v)
		*v = t;
	return PFI_OK;
}

/* ---- recipients, rejects, domains (stat cells) ------------------------------ */

static const char *const host_status[] = { "host", "status" };

static int recipients(struct mx *m)
{
	static const char *const host[] = { "host" };
	static const char *const rej[] = { "host", "class", "code" };
	int rc;

	rc = by_query(m, "pfi_recipients_total", "counter",
	              "Recipients by final outcome (SPEC vocabulary), each"
	              " original recipient once; rejected recipients included.",
	              "SELECT host, status, sum(n) FROM stat_cells WHERE kind = 0"
	              " GROUP BY host, status ORDER BY 1, 2", host_status, 2);
	rc = rc ?: by_query(m, "pfi_recipients_deferred_once_total", "counter",
	              "Recipients deferred at least once before their outcome.",
	              "SELECT host, sum(m) FROM stat_cells WHERE kind = 0"
	              " GROUP BY host ORDER BY 1", host, 1);
	return rc ?: by_query(m, "pfi_rejects_total", "counter",
	              "Rejected recipients by reject class and SMTP code.",
	              "SELECT host, class, code, sum(n) FROM stat_cells"
	              " WHERE kind = 0 AND status = 'rejected'"
	              " GROUP BY host, class, code ORDER BY 1, 2, 3", rej, 3);
}

/* Fills m->top with the top N recipient domains by recipients. */
static int top_domains(struct mx *m)
{
	size_t n = m->o && m->o->top ? m->o->top : TOP_DEFAULT, idx;
	sqlite3_stmt *s;
	int step = SQLITE_DONE, rc;

	if ((rc = prepare(m, "SELECT domain FROM stat_cells WHERE kind = 0"
	                  " AND domain IS NOT NULL GROUP BY domain"
	                  " ORDER BY sum(n) DESC, domain LIMIT ?1", &s)) != PFI_OK)
		return rc;
	sqlite3_bind_int64(s, 1, (int64_t)n);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		if (pfi_smap_get(&m->top, col(s, 0), &idx) != PFI_OK)
			rc = mx_nomem(m);
	return finish(m, s, step, rc);
}

static const char *domain_key(struct mx *m, const char *domain)
{
	size_t idx;

	return domain && pfi_smap_find(&m->top, domain, &idx) ? domain : OTHER;
}

/* Counts by (host, top domain or other, status), summed in C. */
static int domains(struct mx *m)
{
	static const char *const names[] = { "host", "domain", "status" };
	struct pfi_smap sums;
	sqlite3_stmt *s;
	int step = SQLITE_DONE, rc;
	size_t i;

	pfi_smap_init(&sums, sizeof(int64_t));
	rc = prepare(m, "SELECT host, domain, status, sum(n) FROM stat_cells"
	             " WHERE kind = 0 GROUP BY host, domain, status", &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		char key[1024];
		snprintf(key, sizeof(key), "%s\x1f%s\x1f%s",
		         col(s, 0) ? col(s, 0) : UNKNOWN, domain_key(m, col(s, 1)),
		         col(s, 2) ? col(s, 2) : UNKNOWN);
		if (pfi_smap_count(&sums, key, sqlite3_column_int64(s, 3)) != PFI_OK)
			rc = mx_nomem(m);
	}
	if (rc == PFI_OK || s)
		rc = finish(m, s, step, rc);
	rc = rc ?: family(m, "pfi_domain_recipients_total", "counter",
	                  "Recipients by final outcome for the top recipient"
	                  " domains; the rest under domain=\"other\".");
	for (i = 0; rc == PFI_OK && i < sums.n; i++) {
		char buf[1024], *h = buf, *d, *st;
		const char *lv[6];
		snprintf(buf, sizeof(buf), "%s", sums.keys[i]);
		d = strchr(h, '\x1f');
		*d++ = '\0';
		st = strchr(d, '\x1f');
		*st++ = '\0';
		lv[0] = names[0]; lv[1] = h; lv[2] = names[1]; lv[3] = d;
		lv[4] = names[2]; lv[5] = st;
		rc = sample(m, "pfi_domain_recipients_total", lv, 6, NULL,
		            (double)*(int64_t *)pfi_smap_val(&sums, i));
	}
	pfi_smap_release(&sums);
	return rc;
}

/* ---- delay histograms (stat cells) ----------------------------------------------- */

struct delay_acc {
	struct pfi_smap host;     /* host -> struct hist */
	struct pfi_smap domain;   /* host \x1f domain -> struct hist */
};

static int delay_cell(struct mx *m, struct delay_acc *a, sqlite3_stmt *s)
{
	const char *host = col(s, 0) ? col(s, 0) : UNKNOWN;
	char key[1024];
	size_t n, i, hi, di;
	struct hist *hh, *dh;

	if (pfi_delays_decode(sqlite3_column_blob(s, 2),
	                      (size_t)sqlite3_column_bytes(s, 2), &m->dl,
	                      &m->dcap, &n) != PFI_OK)
		return pfi_err_set(&m->st->err, PFI_ERROR, "cannot read metrics:"
		                   " a stats cell's delays are malformed");
	snprintf(key, sizeof(key), "%s\x1f%s", host, domain_key(m, col(s, 1)));
	if (pfi_smap_get(&a->host, host, &hi) != PFI_OK ||
	    pfi_smap_get(&a->domain, key, &di) != PFI_OK)
		return mx_nomem(m);
	hh = pfi_smap_val(&a->host, hi);
	dh = pfi_smap_val(&a->domain, di);
	for (i = 0; i < n; i++) {
		hist_add(hh, delay_bounds, NBOUNDS, m->dl[i].delay, m->dl[i].n);
		hist_add(dh, domain_bounds, NDBOUNDS, m->dl[i].delay, m->dl[i].n);
	}
	return PFI_OK;
}

static int delays_write(struct mx *m, struct delay_acc *a)
{
	const char *lv[4] = { "host", NULL, "domain", NULL };
	char buf[1024];
	size_t i;
	int rc = family(m, "pfi_delivery_delay_seconds", "histogram",
	                "Delay from arrival to the final outcome (sent, bounced,"
	                " expired), each original recipient once.");

	for (i = 0; rc == PFI_OK && i < a->host.n; i++) {
		lv[1] = a->host.keys[i];
		rc = hist_write(m, "pfi_delivery_delay_seconds", lv, 2,
		                pfi_smap_val(&a->host, i), delay_bounds, NBOUNDS);
	}
	rc = rc ?: family(m, "pfi_domain_delivery_delay_seconds", "histogram",
	                  "pfi_delivery_delay_seconds for the top recipient"
	                  " domains; the rest under domain=\"other\".");
	for (i = 0; rc == PFI_OK && i < a->domain.n; i++) {
		snprintf(buf, sizeof(buf), "%s", a->domain.keys[i]);
		lv[1] = buf;
		lv[3] = strchr(buf, '\x1f');
		*(char *)lv[3]++ = '\0';
		rc = hist_write(m, "pfi_domain_delivery_delay_seconds", lv, 4,
		                pfi_smap_val(&a->domain, i), domain_bounds,
		                NDBOUNDS);
	}
	return rc;
}

static int delays(struct mx *m)
{
	struct delay_acc a;
	sqlite3_stmt *s;
	int step = SQLITE_DONE, rc;

	pfi_smap_init(&a.host, sizeof(struct hist));
	pfi_smap_init(&a.domain, sizeof(struct hist));
	rc = prepare(m, "SELECT host, domain, delays FROM stat_cells"
	             " WHERE kind = 0 AND status IN ('sent', 'bounced', 'expired')"
	             " AND delays IS NOT NULL ORDER BY host, domain", &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = delay_cell(m, &a, s);
	if (s)
		rc = finish(m, s, step, rc);
	rc = rc ?: delays_write(m, &a);
	pfi_smap_release(&a.host);
	pfi_smap_release(&a.domain);
	return rc;
}

/* ---- messages: received, notifications, bytes ------------------------------------ */

/* kind: r received original, b bounce notification, d delay warning. */
static const char messages_sql[] =
	"SELECT host, CASE"
	" WHEN relation IS NULL AND origin IS NOT NULL THEN 'r'"
	" WHEN relation = 'bounce' OR (relation IS NULL AND origin IS NULL"
	"  AND sender = '') THEN 'b'"
	" WHEN relation = 'delay' THEN 'd' END AS k,"
	" origin, count(*), coalesce(sum(size), 0), max(last)"
	" FROM messages GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";

static int messages(struct mx *m)
{
	static const char *const rcv[] = { "host", "source" };
	static const char *const ntf[] = { "host", "kind" };
	struct pfi_smap bytes;
	struct pfi_buf *main_out = m->out, recv, note;
	sqlite3_stmt *s;
	size_t i;
	int step = SQLITE_DONE, rc;

	pfi_smap_init(&bytes, sizeof(int64_t));
	pfi_buf_init(&recv, PFI_BUF_DEFAULT_MAX);
	pfi_buf_init(&note, PFI_BUF_DEFAULT_MAX);
	rc = prepare(m, messages_sql, &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		const char *k = col(s, 1), *lv[4];
		double n = sqlite3_column_double(s, 3);
		rc = saw(m, col(s, 0), sqlite3_column_int64(s, 5));
		lv[1] = col(s, 0);
		if (rc != PFI_OK || k == NULL)
			continue;
		if (*k == 'r') {
			lv[0] = rcv[0]; lv[2] = rcv[1]; lv[3] = col(s, 2);
			m->out = &recv;
			rc = sample(m, "pfi_messages_received_total", lv, 4, NULL, n);
			if (rc == PFI_OK && pfi_smap_count(&bytes, lv[1] ? lv[1] : UNKNOWN,
			                   sqlite3_column_int64(s, 4)) != PFI_OK)
				rc = mx_nomem(m);
		} else {
			lv[0] = ntf[0]; lv[2] = ntf[1];
			lv[3] = *k == 'b' ? "bounce" : "delay";
			m->out = &note;
			rc = sample(m, "pfi_notifications_total", lv, 4, NULL, n);
		}
		m->out = main_out;
	}
	if (s)
		rc = finish(m, s, step, rc);
	rc = rc ?: family(m, "pfi_messages_received_total", "counter",
	                  "Original messages received, by the Postfix service"
	                  " that took them in (smtpd, pickup).");
	if (rc == PFI_OK && recv.len &&
	    pfi_buf_append(m->out, recv.data, recv.len) != PFI_OK)
		rc = mx_nomem(m);
	rc = rc ?: family(m, "pfi_notifications_total", "counter",
	                  "Notifications Postfix made: bounce (non-delivery) and"
	                  " delay warnings.");
	if (rc == PFI_OK && note.len &&
	    pfi_buf_append(m->out, note.data, note.len) != PFI_OK)
		rc = mx_nomem(m);
	rc = rc ?: family(m, "pfi_received_bytes_total", "counter",
	                  "Sum of the sizes of the original messages received.");
	for (i = 0; rc == PFI_OK && i < bytes.n; i++) {
		const char *lv[2] = { "host", bytes.keys[i] };
		rc = sample(m, "pfi_received_bytes_total", lv, 2, NULL,
		            (double)*(int64_t *)pfi_smap_val(&bytes, i));
	}
	pfi_buf_release(&recv);
	pfi_buf_release(&note);
	pfi_smap_release(&bytes);
	return rc;
}

/* ---- deliveries: outbound TLS, per-stage delays ---------------------------------- */

static const char *const stage_names[4] = {
	"before_qmgr", "in_qmgr", "conn_setup", "transmission"
};

struct deliv_acc {
	struct pfi_smap network;   /* host -> int64_t network deliveries */
	struct pfi_smap tls;       /* host \x1f protocol -> int64_t */
	struct pfi_smap stages;    /* host -> struct hist[4] */
};

static int is_final(const char *status)
{
	return status && (strcmp(status, "sent") == 0 ||
	                  strcmp(status, "bounced") == 0 ||
	                  strcmp(status, "expired") == 0);
}

static int deliv_row(struct mx *m, struct deliv_acc *a, sqlite3_stmt *s)
{
	const char *host = col(s, 0) ? col(s, 0) : UNKNOWN, *status = col(s, 1);
	const char *relay = col(s, 2), *proto = col(s, 3);
	char key[1024];
	size_t idx;
	int i, rc = saw(m, host, sqlite3_column_int64(s, 8));

	if (rc == PFI_OK && relay && strchr(relay, '[') && status &&
	    strcmp(status, "filtered") != 0 && strcmp(status, "rejected") != 0) {
		if (pfi_smap_count(&a->network, host, 1) != PFI_OK)
			return mx_nomem(m);
		snprintf(key, sizeof(key), "%s\x1f%s", host, proto ? proto : "");
		if (proto && pfi_smap_count(&a->tls, key, 1) != PFI_OK)
			return mx_nomem(m);
	}
	if (rc != PFI_OK || !is_final(status) ||
	    sqlite3_column_type(s, 4) == SQLITE_NULL)
		return rc;
	if (pfi_smap_get(&a->stages, host, &idx) != PFI_OK)
		return mx_nomem(m);
	for (i = 0; i < 4; i++)
		if (sqlite3_column_type(s, 4 + i) != SQLITE_NULL)
			hist_add((struct hist *)pfi_smap_val(&a->stages, idx) + i,
			         delay_bounds, NBOUNDS,
			         sqlite3_column_double(s, 4 + i), 1);
	return PFI_OK;
}

/* Inbound TLS from the cells (a received message's smtpd session), then
 * outbound from the scan. */
static int tls_write(struct mx *m, struct deliv_acc *a)
{
	const char *lv[6] = { "host", NULL, "direction", "inbound", "protocol",
		NULL };
	sqlite3_stmt *s;
	char buf[1024];
	size_t i;
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
	for (i = 0; rc == PFI_OK && i < a->tls.n; i++) {
		snprintf(buf, sizeof(buf), "%s", a->tls.keys[i]);
		lv[1] = buf;
		lv[5] = strchr(buf, '\x1f');
		*(char *)lv[5]++ = '\0';
		rc = sample(m, "pfi_tls_connections_total", lv, 6, NULL,
		            (double)*(int64_t *)pfi_smap_val(&a->tls, i));
	}
	return rc;
}

static int deliv_write(struct mx *m, struct deliv_acc *a)
{
	const char *lv[4] = { "host", NULL, "stage", NULL };
	size_t i;
	int k, rc = family(m, "pfi_network_deliveries_total", "counter",
	                   "Delivery attempts' final rows to a network relay"
	                   " (smtp, lmtp), the base of the outbound TLS share.");

	for (i = 0; rc == PFI_OK && i < a->network.n; i++) {
		lv[1] = a->network.keys[i];
		rc = sample(m, "pfi_network_deliveries_total", lv, 2, NULL,
		            (double)*(int64_t *)pfi_smap_val(&a->network, i));
	}
	rc = rc ?: tls_write(m, a);
	rc = rc ?: family(m, "pfi_delivery_stage_delay_seconds", "histogram",
	                  "Postfix's delays= split of final deliveries (sent,"
	                  " bounced, expired), by stage, each delivery row.");
	for (i = 0; rc == PFI_OK && i < a->stages.n; i++)
		for (k = 0; rc == PFI_OK && k < 4; k++) {
			lv[1] = a->stages.keys[i];
			lv[3] = stage_names[k];
			rc = hist_write(m, "pfi_delivery_stage_delay_seconds", lv, 4,
			                (struct hist *)pfi_smap_val(&a->stages, i) + k,
			                delay_bounds, NBOUNDS);
		}
	return rc;
}

static int deliveries(struct mx *m)
{
	struct deliv_acc a;
	sqlite3_stmt *s;
	int step = SQLITE_DONE, rc;

	pfi_smap_init(&a.network, sizeof(int64_t));
	pfi_smap_init(&a.tls, sizeof(int64_t));
	pfi_smap_init(&a.stages, 4 * sizeof(struct hist));
	rc = prepare(m, "SELECT host, status, relay, tls_protocol, d_before,"
	             " d_in, d_conn, d_xmit, time FROM deliveries", &s);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = deliv_row(m, &a, s);
	if (s)
		rc = finish(m, s, step, rc);
	rc = rc ?: deliv_write(m, &a);
	pfi_smap_release(&a.network);
	pfi_smap_release(&a.tls);
	pfi_smap_release(&a.stages);
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
	sqlite3_stmt *s;
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
	sqlite3_stmt *s;
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
	size_t i;
	int rc = family(m, "pfi_last_log_timestamp_seconds", "gauge",
	                "Time of the latest indexed line of a message, reject or"
	                " failed login of the host.");

	for (i = 0; rc == PFI_OK && i < m->last.n; i++) {
		const char *lv[2] = { "host", m->last.keys[i] };
		int64_t t = *(int64_t *)pfi_smap_val(&m->last, i);
		if (t > 0)
			rc = sample(m, "pfi_last_log_timestamp_seconds", lv, 2, NULL,
			            (double)t / 1e6);
	}
	return rc;
}

static int lines(struct mx *m)
{
	static const char *const kind[] = { "kind" };

	return by_query(m, "pfi_log_lines_total", "counter",
	                "Lines read, by kind: postfix (understood), unparsed"
	                " (a Postfix line pfi did not understand), foreign"
	                " (another program), nosyslog (not a syslog line).",
	                "SELECT CASE kind WHEN 0 THEN 'postfix' WHEN 1 THEN"
	                " 'unparsed' WHEN 2 THEN 'foreign' ELSE 'nosyslog' END,"
	                " sum(count) FROM line_counts GROUP BY kind ORDER BY kind",
	                kind, 1);
}

/* The index does not keep milter and filter verdicts yet: the family is
 * declared, so that dashboards and rules can name it, with no samples. */
static int verdicts(struct mx *m)
{
	int rc = family(m, "pfi_verdicts_total", "counter",
	                "Milter and content filter verdicts by kind and result"
	                " (no samples until the index keeps verdicts).");
	return rc == PFI_OK ? PFI_OK : mx_nomem(m);
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
	if (m->o && m->o->run_end > 0) {
		rc = rc ?: family(m, "pfi_index_last_run_timestamp_seconds", "gauge",
		                  "When the last index run of this process ended.");
		rc = rc ?: sample(m, "pfi_index_last_run_timestamp_seconds", NULL, 0,
		                  NULL, (double)m->o->run_end / 1e6);
		rc = rc ?: family(m, "pfi_index_last_run_duration_seconds", "gauge",
		                  "How long the last index run of this process took.");
		rc = rc ?: sample(m, "pfi_index_last_run_duration_seconds", NULL, 0,
		                  NULL, m->o->run_seconds);
	}
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

	if (!pfi_rollup_present(m->st))
		return pfi_err_set(&m->st->err, PFI_ESCHEMA, "cannot read metrics:"
		                   " the index has no stats cells; run 'pfi index'");
	rc = top_domains(m);
	rc = rc ?: messages(m);
	rc = rc ?: recipients(m);
	rc = rc ?: domains(m);
	rc = rc ?: delays(m);
	rc = rc ?: deliveries(m);
	rc = rc ?: queue(m);
	rc = rc ?: sasl(m);
	rc = rc ?: last_seen(m);
	rc = rc ?: lines(m);
	return rc ?: verdicts(m);
}

int pfi_metrics_render(char **out, size_t *len, pfi_store *st,
                       const struct pfi_metrics_opts *opts)
{
	struct pfi_buf buf;
	struct mx m;
	struct timespec t0;
	int rc;

	*out = NULL;
	if (len)
		*len = 0;
	if (st == NULL)
		return PFI_EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&m, 0, sizeof(m));
	pfi_buf_init(&buf, PFI_BUF_DEFAULT_MAX);
	m.st = st;
	m.o = opts;
	m.out = &buf;
	pfi_smap_init(&m.top, sizeof(int));
	pfi_smap_init(&m.last, sizeof(int64_t));
	if ((rc = pfi_store_exec(st, "BEGIN")) == PFI_OK) {
		rc = families(&m);
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	}
	rc = rc ?: index_facts(&m, seconds_since(&t0));
	if (rc == PFI_OK) {
		if (len)
			*len = buf.len;
		*out = pfi_buf_detach(&buf);
	}
	pfi_buf_release(&buf);
	pfi_smap_release(&m.top);
	pfi_smap_release(&m.last);
	free(m.dl);
	return rc;
}

int pfi_metrics_stamp(pfi_store *st, uint64_t *out)
{
	int64_t v = pfi_store_int(st, "PRAGMA data_version");

	*out = (uint64_t)v;
	return v < 0 ? pfi_store_dberr(st, PFI_ERROR, "cannot read index") : PFI_OK;
}
