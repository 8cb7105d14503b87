/*
 * stats-more.c - what `pfi stats` reports beside the counted recipient
 * rows (stats.c): deferral events and the domains that deferred most,
 * distinct senders and recipients, reject warnings, and Postfix's own
 * warning:, error:, fatal: and panic: lines by kind (the problems table),
 * with the clock warnings that make delays look odd; and the verdicts of
 * milters and filters with outbound signing.  These read the
 * records of the period directly, not the stats cells: deferrals and
 * problems are few, and distinct counts do not add up over cells.
 */
#include <stdlib.h>
#include <string.h>

#include "stats-int.h"

/* Steps s to its end, handing each row to fn; PFI_OK or an error. */
static int each_row(pfi_store *st, sqlite3_stmt *s,
                    int (*fn)(struct pfi_stats_more *, sqlite3_stmt *, size_t),
                    struct pfi_stats_more *m, size_t top)
{
	int rc, step;

	while ((step = sqlite3_step(s)) == SQLITE_ROW)
		if ((rc = fn(m, s, top)) != PFI_OK)
			return pfi_err_set(&st->err, rc, "out of memory");
	if (step != SQLITE_DONE)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read the index");
	return PFI_OK;
}

static char *col_dup(sqlite3_stmt *s, int i)
{
	const char *t = (const char *)sqlite3_column_text(s, i);

	return strdup(t ? t : "");
}

/* ---- deferrals ------------------------------------------------------------ */

static int on_deferring_domain(struct pfi_stats_more *m, sqlite3_stmt *s,
                               size_t top)
{
	int64_t events = sqlite3_column_int64(s, 1);
	struct pfi_count *c;

	m->deferrals += events;
	m->deferred_recipients += sqlite3_column_int64(s, 2);
	if (m->ndomains >= top)
		return PFI_OK;
	c = &m->domains[m->ndomains];
	if ((c->key = col_dup(s, 0)) == NULL)
		return PFI_ENOMEM;
	c->count = events;
	m->ndomains++;
	return PFI_OK;
}

/* Deferred attempts of the matching records (each row keeps how many it
 * had before its final state), by recipient domain, most first. */
static int scan_deferrals(pfi_store *st, struct pfi_stats_more *m,
                          const struct pfi_where *w, size_t top)
{
	sqlite3_stmt *s;
	int rc;

	m->domains = calloc(top ? top : 1, sizeof(*m->domains));
	if (m->domains == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	/* Without a filter, no join: a lookup per record costs. */
	rc = pfi_where_prepare(st, strcmp(pfi_where_sql(w), "1") == 0 ?
	                   "SELECT coalesce(d.domain, ''), sum(d.attempts),"
	                   " count(*) FROM deliveries d WHERE d.attempts > 0 AND " :
	                   "SELECT coalesce(d.domain, ''), sum(d.attempts),"
	                   " count(*) FROM deliveries d LEFT JOIN messages m"
	                   " ON m.id = d.message WHERE d.attempts > 0 AND ", w,
	                   " GROUP BY 1 ORDER BY 2 DESC, 1", 1, &s);
	if (rc == PFI_OK)
		rc = each_row(st, s, on_deferring_domain, m, top);
	sqlite3_finalize(s);
	return rc;
}

/* The count a one-row SELECT (head + w's condition) gives, in *out. */
static int count_where(pfi_store *st, const char *head,
                       const struct pfi_where *w, int64_t *out)
{
	sqlite3_stmt *s;
	int rc = pfi_where_prepare(st, head, w, "", 1, &s);

	if (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (rc == PFI_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read the index");
	sqlite3_finalize(s);
	return rc;
}

/*
 * Distinct recipient addresses of the matching records, and distinct
 * envelope senders of their messages (a reject before the queue file has
 * no message: its sender is left out, as pflogsumm leaves it out), both
 * without case.  With no filter and no period, each is one scan of an
 * index: the join would cost a lookup per record.
 */
static int scan_distinct(pfi_store *st, struct pfi_stats_more *m,
                         const struct pfi_where *w)
{
	int all = strcmp(pfi_where_sql(w), "1") == 0;
	int rc = count_where(st, all ? "SELECT count(DISTINCT recipient COLLATE"
	                     " NOCASE) FROM deliveries WHERE " :
	                     "SELECT count(DISTINCT d.recipient COLLATE NOCASE)"
	                     " FROM deliveries d LEFT JOIN messages m"
	                     " ON m.id = d.message WHERE ", w, &m->recipients);

	if (rc == PFI_OK)
		rc = count_where(st, all ? "SELECT count(DISTINCT sender COLLATE"
		                 " NOCASE) FROM messages WHERE " :
		                 "SELECT count(DISTINCT m.sender COLLATE NOCASE)"
		                 " FROM deliveries d LEFT JOIN messages m"
		                 " ON m.id = d.message WHERE ", w, &m->senders);
	return rc;
}

/* ---- problems -------------------------------------------------------------- */

static const char *const levels[] = {
	"warning", "error", "fatal", "panic", "reject_warning"
};

/* The level's static name (its counter is level_counts[i]), or NULL. */
static const char *level_of(const char *name, size_t *i)
{
	for (*i = 0; *i < PFI_ARRAY_SIZE(levels); (*i)++)
		if (strcmp(levels[*i], name) == 0)
			return levels[*i];
	return NULL;
}

/* Postfix's words when the file system clock and the system clock
 * disagree: delays computed from queue file times are then off. */
static int is_clock_warning(const char *kind)
{
	return strstr(kind, "clock") != NULL &&
	       (strstr(kind, "behind") != NULL || strstr(kind, "ahead") != NULL);
}

static int on_problem(struct pfi_stats_more *m, sqlite3_stmt *s, size_t top)
{
	const char *name = (const char *)sqlite3_column_text(s, 0);
	const char *kind = (const char *)sqlite3_column_text(s, 1);
	int64_t n = sqlite3_column_int64(s, 2);
	struct pfi_stats_problem *p;
	size_t i;

	if (name == NULL || kind == NULL || (name = level_of(name, &i)) == NULL)
		return PFI_OK;
	m->level_counts[i] += n;
	if (is_clock_warning(kind))
		m->clock_warnings += n;
	if (m->nproblems >= top)
		return PFI_OK;
	p = &m->problems[m->nproblems];
	if ((p->kind = strdup(kind)) == NULL)
		return PFI_ENOMEM;
	p->level = name;
	p->count = n;
	p->first = sqlite3_column_int64(s, 3);
	p->last = sqlite3_column_int64(s, 4);
	m->nproblems++;
	return PFI_OK;
}

/* The problem lines of [since, until) by level and kind, most first.  An
 * index made before pfi kept them (schema 2) has none. */
static int scan_problems(pfi_store *st, struct pfi_stats_more *m,
                         const struct pfi_filter *f, size_t top)
{
	sqlite3_stmt *s;
	int rc;

	m->problems = calloc(top ? top : 1, sizeof(*m->problems));
	if (m->problems == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (st->schema < 3)
		return PFI_OK;
	if (sqlite3_prepare_v2(st->db, "SELECT level, kind, count(*), min(time),"
	    " max(time) FROM problems WHERE time >= ?1 AND time < ?2"
	    " GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot query the index");
	pfi_bind_period(s, f ? f->since : 0, f ? f->until : 0);
	rc = each_row(st, s, on_problem, m, top);
	sqlite3_finalize(s);
	return rc;
}

/* ---- verdicts ------------------------------------------------------------- */

/* The verdicts of the answer (stats-verdicts.c), in SPEC's order. */
static int scan_verdicts(pfi_store *st, struct pfi_stats_more *m,
                         const struct pfi_filter *f, const struct pfi_where *w)
{
	size_t n = pfi_stats_verdict_nslots();
	int64_t *slots = calloc(n, sizeof(*slots));
	int rc;

	m->verdicts = calloc(n, sizeof(*m->verdicts));
	if (slots == NULL || m->verdicts == NULL) {
		free(slots);
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	}
	rc = pfi_stats_verdict_totals(st, f, w, slots);
	if (rc == PFI_OK)
		m->nverdicts = pfi_stats_verdict_list(slots, m->verdicts);
	free(slots);
	return rc;
}

/* Outbound signing in the period: per domain opendkim signed for, the
 * messages (not re-injections) from its senders and how many it signed.
 * The senders' domains come from one scan of the period's messages
 * (pfi_domain: after the last '@', lower case), not from one LIKE scan
 * per signing domain. */
static const char signing_sql[] =
	"WITH sig AS (SELECT lower(domain) AS domain,"
	" count(DISTINCT message) AS n FROM verdicts"
	" WHERE kind = 'dkim' AND result = 'signed' AND domain IS NOT NULL"
	" AND time >= ?1 AND time < ?2 GROUP BY 1),"
	" sent AS (SELECT pfi_domain(m.sender) AS domain, count(*) AS n"
	" FROM messages m WHERE m.parent IS NULL AND m.received >= ?1"
	" AND m.received < ?2 AND pfi_domain(m.sender) IN"
	" (SELECT domain FROM sig) GROUP BY 1)"
	" SELECT sig.domain, sig.n, coalesce(sent.n, 0) FROM sig"
	" LEFT JOIN sent ON sent.domain = sig.domain"
	" ORDER BY 2 DESC, 1 LIMIT ?3";

static int on_signing(struct pfi_stats_more *m, sqlite3_stmt *s, size_t top)
{
	struct pfi_stats_signing *g = &m->signing[m->nsigning];

	(void)top;
	if ((g->domain = col_dup(s, 0)) == NULL)
		return PFI_ENOMEM;
	g->signed_messages = sqlite3_column_int64(s, 1);
	g->messages = sqlite3_column_int64(s, 2);
	if (g->messages < g->signed_messages)   /* signed for another sender */
		g->messages = g->signed_messages;
	g->ratio = g->messages ? (double)g->signed_messages /
	                         (double)g->messages : -1;
	m->nsigning++;
	return PFI_OK;
}

static int scan_signing(pfi_store *st, struct pfi_stats_more *m,
                        const struct pfi_filter *f, size_t top)
{
	sqlite3_stmt *s;
	int rc;

	m->signing = calloc(top ? top : 1, sizeof(*m->signing));
	if (m->signing == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (st->schema < 5)
		return PFI_OK;
	if ((rc = pfi_where_functions(st)) != PFI_OK)
		return rc;
	if (sqlite3_prepare_v2(st->db, signing_sql, -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot query the index");
	pfi_bind_period(s, f ? f->since : 0, f ? f->until : 0);
	sqlite3_bind_int64(s, 3, (int64_t)(top ? top : 1));
	rc = each_row(st, s, on_signing, m, top);
	sqlite3_finalize(s);
	return rc;
}

int pfi_stats_more_get(pfi_store *st, const struct pfi_filter *f, size_t top,
                       struct pfi_stats_more *m)
{
	static const struct pfi_filter none;
	struct pfi_where *w = NULL;
	int rc = pfi_where_new(&w, st, f ? f : &none);

	if (rc == PFI_OK)
		rc = scan_deferrals(st, m, w, top);
	if (rc == PFI_OK)
		rc = scan_distinct(st, m, w);
	if (rc == PFI_OK)
		rc = scan_problems(st, m, f, top);
	if (rc == PFI_OK)
		rc = scan_verdicts(st, m, f, w);
	if (rc == PFI_OK)
		rc = scan_signing(st, m, f, top);
	pfi_where_free(w);
	return rc;
}

void pfi_stats_more_release(struct pfi_stats_more *m)
{
	size_t i;

	for (i = 0; m->domains && i < m->ndomains; i++)
		free((char *)m->domains[i].key);
	for (i = 0; m->problems && i < m->nproblems; i++)
		free((char *)m->problems[i].kind);
	for (i = 0; m->signing && i < m->nsigning; i++)
		free((char *)m->signing[i].domain);
	free(m->domains);
	free(m->problems);
	free(m->verdicts);
	free(m->signing);
	memset(m, 0, sizeof(*m));
}
