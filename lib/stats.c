/*
 * stats.c - pfi_stats_get(): the SPEC stats document over a period.
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

#include "store.h"

/* ---- string-keyed tables -----------------------------------------------
 * Keys are copied; each key has a zeroed value of vsize bytes.  The NULL
 * key is a key like any other.  Tables only grow; indexes stay valid. */

struct smap {
	char **keys;          /* by index, owned; NULL for the NULL key */
	unsigned char *vals;  /* n values of vsize bytes */
	size_t vsize;         /* size of one value */
	size_t n, cap;        /* keys used / allocated */
	size_t *slots;        /* open addressing: index + 1, 0 when empty */
	size_t nslots;        /* a power of two, more than twice n */
	size_t null_idx;      /* index + 1 of the NULL key, 0 if absent */
};

static void smap_init(struct smap *m, size_t vsize)
{
	memset(m, 0, sizeof(*m));
	m->vsize = vsize;
}

static void smap_release(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static size_t smap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static void *smap_val(const struct smap *m, size_t i)
{
	return m->vals + i * m->vsize;
}

/* Doubles the slot array and puts every key back. */
static int smap_rehash(struct smap *m)
{
	size_t ns = m->nslots ? m->nslots * 2 : 64, i, h;
	size_t *slots = calloc(ns, sizeof(*slots));

	if (slots == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < m->n; i++) {
		if (m->keys[i] == NULL)
			continue;
		for (h = smap_hash(m->keys[i]) & (ns - 1); slots[h];
		     h = (h + 1) & (ns - 1))
			;
		slots[h] = i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = ns;
	return PFI_OK;
}

/* Room for one more key and value. */
static int smap_reserve(struct smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	char **keys;
	unsigned char *vals;

	if (m->n < m->cap)
		return PFI_OK;
	if ((keys = realloc(m->keys, cap * sizeof(*keys))) == NULL)
		return PFI_ENOMEM;
	m->keys = keys;
	if ((vals = realloc(m->vals, cap * m->vsize)) == NULL)
		return PFI_ENOMEM;
	m->vals = vals;
	m->cap = cap;
	return PFI_OK;
}

/* Appends key (copied; NULL allowed) with a zero value at index *idx. */
static int smap_add(struct smap *m, const char *key, size_t *idx)
{
	char *copy = NULL;

	if (smap_reserve(m) != PFI_OK)
		return PFI_ENOMEM;
	if (key != NULL && (copy = strdup(key)) == NULL)
		return PFI_ENOMEM;
	m->keys[m->n] = copy;
	memset(smap_val(m, m->n), 0, m->vsize);
	*idx = m->n++;
	return PFI_OK;
}

/* The index of `key`, added when absent.  PFI_OK or PFI_ENOMEM. */
static int smap_get(struct smap *m, const char *key, size_t *idx)
{
	size_t h;

	if (key == NULL) {
		if (m->null_idx == 0 && smap_add(m, NULL, idx) == PFI_OK)
			m->null_idx = *idx + 1;
		*idx = m->null_idx - 1;
		return m->null_idx ? PFI_OK : PFI_ENOMEM;
	}
	if (2 * (m->n + 1) > m->nslots && smap_rehash(m) != PFI_OK)
		return PFI_ENOMEM;
	for (h = smap_hash(key) & (m->nslots - 1); m->slots[h];
	     h = (h + 1) & (m->nslots - 1)) {
		if (m->keys[m->slots[h] - 1] &&
		    strcmp(m->keys[m->slots[h] - 1], key) == 0) {
			*idx = m->slots[h] - 1;
			return PFI_OK;
		}
	}
	if (smap_add(m, key, idx) != PFI_OK)
		return PFI_ENOMEM;
	m->slots[h] = *idx + 1;
	return PFI_OK;
}

/* Adds n to the int64_t value of key. */
static int smap_count(struct smap *m, const char *key, int64_t n)
{
	size_t i;

	if (smap_get(m, key, &i) != PFI_OK)
		return PFI_ENOMEM;
	*(int64_t *)smap_val(m, i) += n;
	return PFI_OK;
}

/* ---- the accumulator ------------------------------------------------------ */

/* One delay of a domain, for its p95. */
struct dpair {
	size_t dom;      /* index in the domains table */
	double delay;
};

/* One counted recipient row, borrowed from the statement. */
struct row {
	const char *status, *dsn, *domain, *code, *response, *host, *client,
	           *sender;
	double delay;    /* -1 when unknown */
	int attempts;
	int64_t time;
};

/* One received message or notification, borrowed from the statement. */
struct mrow {
	int64_t received, size;
	const char *tls, *host, *client, *sender;
	int original;    /* 1 received, 0 notification */
};

/* The result and everything its pointers borrow from. */
struct stats_priv {
	struct pfi_stats pub;         /* first: the caller's pointer */
	const struct pfi_stats_opts *o;
	struct smap by, days;         /* struct pfi_stats_counts */
	struct smap domains;          /* struct pfi_stats_domain */
	struct smap senders, dsn, rejects, tls;   /* int64_t */
	double *delays;               /* final outcomes with a delay */
	size_t ndelays, cdelays;
	struct dpair *pairs;          /* the same, with their domain */
	size_t npairs, cpairs;
	int64_t sla_n, sla_within;    /* delivered with a delay / within */
	int64_t tls_in;               /* received over TLS */
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

static void count_status(struct pfi_stats_counts *c, const struct row *r)
{
	const char *s = r->status;

	c->recipients++;
	if (r->attempts > 0 || strcmp(s, "deferred") == 0)
		c->deferred_once++;
	if (strcmp(s, "sent") == 0)
		c->delivered++;
	else if (strcmp(s, "deferred") == 0)
		c->deferred++;
	else if (strcmp(s, "bounced") == 0)
		c->bounced++;
	else if (strcmp(s, "expired") == 0)
		c->expired++;
	else if (strcmp(s, "rejected") == 0)
		c->rejected++;
	else if (strcmp(s, "discarded") == 0)
		c->discarded++;
	else if (strcmp(s, "held") == 0)
		c->held++;
	else if (strcmp(s, "deleted") == 0)
		c->deleted++;
	else if (strcmp(s, "filtered") == 0)
		c->filtered++;
}

/* Whether the outcome is final and carries a delivery delay. */
static int has_final_delay(const struct row *r)
{
	return r->delay >= 0 && (strcmp(r->status, "sent") == 0 ||
	                         strcmp(r->status, "bounced") == 0 ||
	                         strcmp(r->status, "expired") == 0);
}

/* The by[] key of a recipient row, in buf or borrowed from r. */
static const char *row_key(struct stats_priv *p, const struct row *r,
                           char *buf, size_t size)
{
	switch (p->o->by) {
	case PFI_BY_DAY: return stats_time_key(p, r->time, 0);
	case PFI_BY_HOUR: return stats_time_key(p, r->time, 1);
	case PFI_BY_DOMAIN: return r->domain;
	case PFI_BY_SENDER_DOMAIN: return pfi_addr_domain(r->sender, buf, size);
	case PFI_BY_DSN: return r->dsn;
	case PFI_BY_STATUS: return r->status;
	case PFI_BY_HOST: return r->host;
	case PFI_BY_CLIENT: return r->client;
	case PFI_BY_NONE: break;
	}
	return NULL;
}

/* Adds a counts record of table m under key; *c points at it. */
static int group_of(struct smap *m, const char *key,
                    struct pfi_stats_counts **c)
{
	size_t i;

	if (smap_get(m, key, &i) != PFI_OK)
		return PFI_ENOMEM;
	*c = smap_val(m, i);
	return PFI_OK;
}

static int push_delay(struct stats_priv *p, size_t dom, double delay)
{
	if (p->ndelays == p->cdelays) {
		size_t cap = p->cdelays ? p->cdelays * 2 : 1024;
		double *d = realloc(p->delays, cap * sizeof(*d));
		struct dpair *q = d ? realloc(p->pairs, cap * sizeof(*q)) : NULL;

		if (d != NULL)
			p->delays = d;
		if (q == NULL)
			return PFI_ENOMEM;
		p->pairs = q;
		p->cdelays = p->cpairs = cap;
	}
	p->delays[p->ndelays++] = delay;
	p->pairs[p->npairs].dom = dom;
	p->pairs[p->npairs++].delay = delay;
	return PFI_OK;
}

/* The recipient domain's counters, and its delay. */
static int count_domain(struct stats_priv *p, const struct row *r)
{
	struct pfi_stats_domain *d;
	const char *s = r->status;
	size_t i;

	if (smap_get(&p->domains, r->domain, &i) != PFI_OK)
		return PFI_ENOMEM;
	d = smap_val(&p->domains, i);
	d->recipients++;
	d->delivered += strcmp(s, "sent") == 0;
	d->deferred += strcmp(s, "deferred") == 0;
	d->bounced += strcmp(s, "bounced") == 0;
	d->expired += strcmp(s, "expired") == 0;
	d->rejected += strcmp(s, "rejected") == 0;
	if (!has_final_delay(r))
		return PFI_OK;
	if (strcmp(s, "sent") == 0) {
		p->sla_n++;
		p->sla_within += r->delay <= p->pub.sla_threshold;
	}
	return push_delay(p, i, r->delay);
}

/* ---- reject classes ------------------------------------------------------------ */

/* Case-insensitive (ASCII) substring test. */
static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n && hay[i] != '\0'; i++) {
			char a = hay[i], b = needle[i];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

/* First match wins; needles are lower case. */
static const struct {
	const char *cls;
	const char *needle;
} reject_rules[] = {
	{ "relay_denied", "relay access denied" },
	{ "rbl", "blocked using" },
	{ "rbl", "dnsbl" },
	{ "rbl", "listed at" },
	{ "rbl", "listed by" },
	{ "unknown_user", "user unknown" },
	{ "unknown_user", "unknown user" },
	{ "unknown_user", "mailbox unavailable" },
	{ "unknown_user", "no such user" },
	{ "policy_milter", "milter" },
	{ "policy_milter", "policy" },
	{ "policy_milter", "greylist" },
	{ "policy_milter", "content rejected" },
	{ "policy_milter", "header" },
	{ "policy_milter", "body" },
	{ "sender_helo_client", "sender address rejected" },
	{ "sender_helo_client", "helo command rejected" },
	{ "sender_helo_client", "client host rejected" },
	{ "sender_helo_client", "sender domain" },
	{ "sender_helo_client", "domain not found" },
};

/* The class of a reject by its reason text, else by its DSN. */
static const char *reject_class(const char *reason, const char *dsn)
{
	size_t i;

	for (i = 0; reason != NULL && i < PFI_ARRAY_SIZE(reject_rules); i++)
		if (contains(reason, reject_rules[i].needle))
			return reject_rules[i].cls;
	if (dsn != NULL && strcmp(dsn, "5.1.1") == 0)
		return "unknown_user";
	return "other";
}

static int count_reject(struct stats_priv *p, const struct row *r)
{
	char key[128];

	snprintf(key, sizeof(key), "%s\t%s%s%s",
	         reject_class(r->response, r->dsn), r->code ? r->code : "",
	         r->code && r->dsn ? " " : "", r->dsn ? r->dsn : "");
	return smap_count(&p->rejects, key, 1);
}

/* ---- the row scan ------------------------------------------------------------ */

/* A message is original: not a filter/relay copy, not a notification, not
 * a local-forward copy.  Used with the alias of the root message. */
#define ORIGINAL(x)                                                        \
	"(" x ".relation IS NULL AND (" x ".origin IS NOT NULL OR"           \
	" (coalesce(" x ".sender, '-') <> '' AND NOT EXISTS (SELECT 1 FROM"  \
	" links l WHERE l.other = " x ".id AND l.relation = 'forward'))))"

/*
 * Every counted recipient row: NOQUEUE rejects, and the rows of original
 * messages and of their content-filter copies (up to two hops), except a
 * `filtered` row whose filter copy is indexed (the copy's rows replace
 * it).  `m` is the original message, so filters on the client, sender or
 * subject read the original and not the copy re-injected by the filter.
 */
static const char rows_sql[] =
	"SELECT d.status, d.dsn, d.domain, d.delay, d.attempts, d.time,"
	" d.code, d.response, d.host, coalesce(m.client_ip, d.client_ip),"
	" coalesce(m.sender, d.sender)"
	" FROM deliveries d"
	" LEFT JOIN messages o ON o.id = d.message"
	" LEFT JOIN messages o2 ON o.relation = 'filter' AND o2.id = o.parent"
	" LEFT JOIN messages m ON m.id = CASE"
	" WHEN o2.relation = 'filter' THEN o2.parent"
	" WHEN o.relation = 'filter' THEN o.parent ELSE o.id END"
	" WHERE (d.message IS NULL OR (" ORIGINAL("m")
	" AND NOT (d.status = 'filtered' AND EXISTS (SELECT 1 FROM messages c"
	" WHERE c.parent = d.message AND c.relation = 'filter'))))"
	" AND ";

static const char *text_col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static void read_row(sqlite3_stmt *s, struct row *r)
{
	r->status = text_col(s, 0);
	r->dsn = text_col(s, 1);
	r->domain = text_col(s, 2);
	r->delay = sqlite3_column_type(s, 3) == SQLITE_NULL
	           ? -1 : sqlite3_column_double(s, 3);
	r->attempts = sqlite3_column_int(s, 4);
	r->time = sqlite3_column_int64(s, 5);
	r->code = text_col(s, 6);
	r->response = text_col(s, 7);
	r->host = text_col(s, 8);
	r->client = text_col(s, 9);
	r->sender = text_col(s, 10);
	if (r->status == NULL)
		r->status = "";
}

/* The heatmap cell and the day of a recipient row. */
static int count_time(struct stats_priv *p, const struct row *r)
{
	const struct tm *tm = stats_tm(p, r->time);
	int wd = (tm->tm_wday + 6) % 7, h = tm->tm_hour;
	struct pfi_stats_counts *c;

	p->pub.volume[wd][h]++;
	p->pub.bounces[wd][h] += strcmp(r->status, "bounced") == 0;
	if (group_of(&p->days, stats_time_key(p, r->time, 0),
	             &c) != PFI_OK)
		return PFI_ENOMEM;
	count_status(c, r);
	return PFI_OK;
}

/* Everything one recipient row adds. */
static int count_row(struct stats_priv *p, const struct row *r)
{
	struct pfi_stats_counts *c;
	char buf[256];
	const char *sd = pfi_addr_domain(r->sender, buf, sizeof(buf));
	int rc;

	count_status(&p->pub.total, r);
	if (sd != NULL && smap_count(&p->senders, sd, 1) != PFI_OK)
		return PFI_ENOMEM;
	if (strcmp(r->status, "sent") != 0 && strcmp(r->status, "filtered") != 0 &&
	    r->dsn != NULL && smap_count(&p->dsn, r->dsn, 1) != PFI_OK)
		return PFI_ENOMEM;
	if (strcmp(r->status, "rejected") == 0 && count_reject(p, r) != PFI_OK)
		return PFI_ENOMEM;
	if ((rc = count_domain(p, r)) != PFI_OK || (rc = count_time(p, r)) != PFI_OK)
		return rc;
	if (p->o->by == PFI_BY_NONE)
		return PFI_OK;
	if (group_of(&p->by, row_key(p, r, buf, sizeof(buf)), &c) != PFI_OK)
		return PFI_ENOMEM;
	count_status(c, r);
	return PFI_OK;
}

/* Prepares head + the condition of w + tail, binding w from `first`. */
static int prepare(pfi_store *st, const char *head, const struct pfi_where *w,
                   const char *tail, int first, sqlite3_stmt **out)
{
	struct pfi_buf sql;
	int rc = PFI_OK;

	*out = NULL;
	pfi_buf_init(&sql, 0);
	if (pfi_buf_appends(&sql, head) != PFI_OK ||
	    pfi_buf_appends(&sql, pfi_where_sql(w)) != PFI_OK ||
	    pfi_buf_appends(&sql, tail) != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	else if (sqlite3_prepare_v2(st->db, sql.data, -1, out, NULL) != SQLITE_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot query the index");
	else
		pfi_where_bind(w, *out, first);
	pfi_buf_release(&sql);
	return rc;
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
	struct row r;

	read_row(s, &r);
	return count_row(p, &r);
}

static int scan_rows(pfi_store *st, struct stats_priv *p,
                     const struct pfi_where *w)
{
	sqlite3_stmt *s = NULL;
	int rc = prepare(st, rows_sql, w, "", 1, &s);

	if (rc == PFI_OK)
		rc = scan(st, s, on_row, p);
	sqlite3_finalize(s);
	return rc;
}

/* ---- the message scan ----------------------------------------------------------- */

/* Received messages (original, seen arriving) and notifications. */
static const char msgs_head[] =
	"SELECT m.received, m.size, m.tls_protocol, m.host, m.client_ip,"
	" m.sender, m.origin IS NOT NULL AND m.relation IS NULL FROM messages m";

static const char msgs_kind[] =
	" WHERE ((m.relation IS NULL AND m.origin IS NOT NULL)"
	" OR m.relation = 'bounce'"
	" OR (m.relation IS NULL AND m.origin IS NULL AND m.sender = ''))";

/* The by[] key of a message, or "no key" (*none) for recipient keys. */
static const char *msg_key(struct stats_priv *p, const struct mrow *r,
                           char *buf, size_t size, int *none)
{
	*none = 0;
	switch (p->o->by) {
	case PFI_BY_DAY: return stats_time_key(p, r->received, 0);
	case PFI_BY_HOUR: return stats_time_key(p, r->received, 1);
	case PFI_BY_SENDER_DOMAIN: return pfi_addr_domain(r->sender, buf, size);
	case PFI_BY_HOST: return r->host;
	case PFI_BY_CLIENT: return r->client;
	default: break;
	}
	*none = 1;
	return NULL;
}

static void count_msg(struct pfi_stats_counts *c, const struct mrow *r)
{
	if (!r->original) {
		c->notifications++;
		return;
	}
	c->received++;
	c->bytes_received += r->size > 0 ? r->size : 0;
}

static int on_msg(struct stats_priv *p, sqlite3_stmt *s)
{
	struct pfi_stats_counts *c;
	struct mrow r;
	char buf[256];
	const char *key;
	int none;

	r.received = sqlite3_column_int64(s, 0);
	r.size = sqlite3_column_int64(s, 1);
	r.tls = text_col(s, 2);
	r.host = text_col(s, 3);
	r.client = text_col(s, 4);
	r.sender = text_col(s, 5);
	r.original = sqlite3_column_int(s, 6);
	count_msg(&p->pub.total, &r);
	if (r.original && r.tls != NULL) {
		p->tls_in++;
		if (smap_count(&p->tls, r.tls, 1) != PFI_OK)
			return PFI_ENOMEM;
	}
	if (group_of(&p->days, stats_time_key(p, r.received, 0), &c) != PFI_OK)
		return PFI_ENOMEM;
	count_msg(c, &r);
	key = msg_key(p, &r, buf, sizeof(buf), &none);
	if (none || p->o->by == PFI_BY_NONE)
		return PFI_OK;
	if (group_of(&p->by, key, &c) != PFI_OK)
		return PFI_ENOMEM;
	count_msg(c, &r);
	return PFI_OK;
}

/* Whether the filter has anything besides its time bounds. */
static int filter_has_fields(const struct pfi_filter *f)
{
	return f != NULL && (f->from || f->to || f->domain || f->sender_domain ||
	       f->subject || f->nstatus || f->dsn || f->client || f->relay ||
	       f->host || f->message_id || f->sasl_user || f->grep);
}

/* The message scan: messages that arrived in the period and match the
 * filter's other fields through at least one of their rows.  ?1 and ?2
 * always appear, so the filter's own parameters are ?3 onwards. */
static double ratio(int64_t a, int64_t b);

/* Binds the period of a filter as ?1 (since) and ?2 (until). */
static void bind_period(sqlite3_stmt *s, const struct pfi_filter *f)
{
	sqlite3_bind_int64(s, 1, f && f->since ? f->since : INT64_MIN);
	sqlite3_bind_int64(s, 2, f && f->until ? f->until : INT64_MAX);
}

/* Share of network deliveries (relay host[addr]) made over TLS, content
 * filter hand-offs left out. */
static int scan_tls_out(pfi_store *st, struct stats_priv *p,
                        const struct pfi_filter *f)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, "SELECT count(*), count(tls_protocol)"
	    " FROM deliveries WHERE time >= ?1 AND time < ?2"
	    " AND status NOT IN ('filtered', 'rejected')"
	    " AND instr(relay, '[') > 0", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	bind_period(s, f);
	rc = sqlite3_step(s) == SQLITE_ROW ? PFI_OK
	     : pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	if (rc == PFI_OK)
		p->pub.tls_outbound_ratio = ratio(sqlite3_column_int64(s, 1),
		                                  sqlite3_column_int64(s, 0));
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
	bind_period(s, f);
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

static int scan_msgs(pfi_store *st, struct stats_priv *p,
                     const struct pfi_filter *f)
{
	struct pfi_filter nf;
	struct pfi_where *w = NULL;
	sqlite3_stmt *s = NULL;
	struct pfi_buf head;
	int join = filter_has_fields(f), rc;

	memset(&nf, 0, sizeof(nf));
	if (f != NULL)
		nf = *f;
	nf.since = nf.until = 0;
	pfi_buf_init(&head, 0);
	rc = pfi_where_new(&w, st, &nf);
	if (rc == PFI_OK &&
	    (pfi_buf_appends(&head, msgs_head) != PFI_OK ||
	     (join && pfi_buf_appends(&head, " LEFT JOIN deliveries d"
	                              " ON d.message = m.id") != PFI_OK) ||
	     pfi_buf_appends(&head, msgs_kind) != PFI_OK ||
	     pfi_buf_appends(&head, p->pub.since ? " AND m.received >= ?1"
	                            : " AND ?1 IS NULL") != PFI_OK ||
	     pfi_buf_appends(&head, p->pub.until ? " AND m.received < ?2"
	                            : " AND ?2 IS NULL") != PFI_OK ||
	     pfi_buf_appends(&head, " AND ") != PFI_OK))
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (rc == PFI_OK)
		rc = prepare(st, head.data, w, join ? " GROUP BY m.id" : "", 3, &s);
	if (rc == PFI_OK) {
		if (p->pub.since)
			sqlite3_bind_int64(s, 1, p->pub.since);
		if (p->pub.until)
			sqlite3_bind_int64(s, 2, p->pub.until);
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

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank p-th percentile of n sorted values; -1 when n == 0. */
static double rank(const double *v, size_t n, unsigned p)
{
	size_t r;

	if (n == 0)
		return -1;
	r = (p * n + 99) / 100;
	return v[r > 0 ? r - 1 : 0];
}

static int cmp_pair(const void *a, const void *b)
{
	const struct dpair *x = a, *y = b;

	if (x->dom != y->dom)
		return x->dom < y->dom ? -1 : 1;
	return (x->delay > y->delay) - (x->delay < y->delay);
}

/* Percentiles overall and p95/max per domain. */
static void finish_delays(struct stats_priv *p)
{
	struct pfi_stats *s = &p->pub;
	size_t i, j;

	if (p->ndelays > 0)
		qsort(p->delays, p->ndelays, sizeof(double), cmp_double);
	s->delays = (int64_t)p->ndelays;
	s->p50 = rank(p->delays, p->ndelays, 50);
	s->p95 = rank(p->delays, p->ndelays, 95);
	s->p99 = rank(p->delays, p->ndelays, 99);
	s->max = p->ndelays ? p->delays[p->ndelays - 1] : -1;
	s->sla_within_ratio = p->sla_n ? ratio(p->sla_within, p->sla_n) : -1;
	for (i = 0; i < p->domains.n; i++) {
		struct pfi_stats_domain *d = smap_val(&p->domains, i);

		d->domain = p->domains.keys[i];
		d->p95 = d->max = -1;
	}
	if (p->npairs > 0)
		qsort(p->pairs, p->npairs, sizeof(*p->pairs), cmp_pair);
	for (i = 0; i < p->npairs; i = j) {
		struct pfi_stats_domain *d = smap_val(&p->domains, p->pairs[i].dom);

		for (j = i; j < p->npairs && p->pairs[j].dom == p->pairs[i].dom; j++)
			;
		d->delays = (int64_t)(j - i);
		d->p95 = p->pairs[i + (95 * (j - i) + 99) / 100 - 1].delay;
		d->max = p->pairs[j - 1].delay;
	}
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
static int count_list(const struct smap *m, size_t max,
                      struct pfi_count **out, size_t *n)
{
	size_t i;

	*n = 0;
	if ((*out = calloc(m->n + 1, sizeof(**out))) == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < m->n; i++) {
		(*out)[i].key = m->keys[i];
		(*out)[i].count = *(const int64_t *)smap_val(m, i);
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
		const struct pfi_stats_domain *d = smap_val(&p->domains, i);

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
static int group_list(struct stats_priv *p, const struct smap *m, int by_time,
                      size_t limit, int msg_level,
                      struct pfi_stats_group **out, size_t *n)
{
	size_t i;

	if ((*out = calloc(m->n + 1, sizeof(**out))) == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < m->n; i++) {
		(*out)[i].key = m->keys[i];
		(*out)[i].c = *(const struct pfi_stats_counts *)smap_val(m, i);
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
	s->tls_inbound_ratio = ratio(p->tls_in, s->total.received);
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
		rc = group_list(p, &p->by, by_time, p->o->by_limit, msg_level,
		                &p->by_list, &s->nby);
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
	smap_init(&p->by, sizeof(struct pfi_stats_counts));
	smap_init(&p->days, sizeof(struct pfi_stats_counts));
	smap_init(&p->domains, sizeof(struct pfi_stats_domain));
	smap_init(&p->senders, sizeof(int64_t));
	smap_init(&p->dsn, sizeof(int64_t));
	smap_init(&p->rejects, sizeof(int64_t));
	smap_init(&p->tls, sizeof(int64_t));
	p->pub.sla_threshold = o->sla > 0 ? o->sla : 300;
	p->pub.tls_outbound_ratio = -1;
	p->pub.sasl_failures = -1;
	p->pub.since = o->filter ? o->filter->since : 0;
	p->pub.until = o->filter ? o->filter->until : 0;
	return p;
}

int pfi_stats_get(struct pfi_stats **out, pfi_store *st,
                  const struct pfi_stats_opts *opts)
{
	static const struct pfi_filter none;
	struct stats_priv *p = stats_alloc(opts);
	struct pfi_where *w = NULL;
	int rc;

	*out = NULL;
	if (p == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	rc = pfi_where_new(&w, st, opts->filter ? opts->filter : &none);
	if (rc == PFI_OK)
		rc = scan_rows(st, p, w);
	if (rc == PFI_OK)
		rc = scan_msgs(st, p, opts->filter);
	if (rc == PFI_OK)
		rc = scan_tls_out(st, p, opts->filter);
	if (rc == PFI_OK)
		rc = scan_sasl(st, p, opts->filter, opts->top ? opts->top : 10);
	if (rc == PFI_OK && finish(p, opts->top ? opts->top : 10) != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	pfi_where_free(w);
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
	smap_release(&p->by);
	smap_release(&p->days);
	smap_release(&p->domains);
	smap_release(&p->senders);
	smap_release(&p->dsn);
	smap_release(&p->rejects);
	smap_release(&p->tls);
	free(p->delays);
	free(p->pairs);
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
