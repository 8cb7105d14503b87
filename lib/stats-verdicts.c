/*
 * stats-verdicts.c - the verdicts of milters and filters in `pfi stats`:
 * messages per kind and result, for the whole answer and per --by key
 * (outbound signing is stats-more.c's).
 *
 * A message counts once per kind and result, however many lines said it
 * (opendkim logs a result per signature).  A verdict not joined to a
 * message (the SPF check of a NOQUEUE reject) counts alone.
 *
 * Which verdicts: with only a period, those logged in it.  With a filter,
 * those on the messages of the counted recipient rows that match it (the
 * original message and its content-filter or requeued copies, which
 * carry the same mail), and on the NOQUEUE rejects that match.
 *
 * Per --by key: day, hour and host are the verdict's own (when and where
 * it was logged).  The other keys are the recipients': a message counts
 * under each key its counted rows have (a message to two domains counts
 * under both, so by[] verdicts need not add up to the totals), and under
 * no key (null) when it has no counted row (a relay copy on an internal
 * hub).  With a filter, only the matching rows give keys.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "stats-int.h"

/* ---- the vocabulary as slots ---------------------------------------------- */

size_t pfi_stats_verdict_nslots(void)
{
	const char *const *k, *const *r;
	size_t n = 0;

	for (k = pfi_verdict_kinds(); *k; k++)
		for (r = pfi_verdict_results(*k); *r; r++)
			n++;
	return n;
}

/* The slot of (kind, result) in SPEC's order; -1 for words it lacks (an
 * index a newer pfi wrote). */
static long verdict_slot(const char *kind, const char *result)
{
	const char *const *k, *const *r;
	long n = 0;

	for (k = pfi_verdict_kinds(); *k; k++)
		for (r = pfi_verdict_results(*k); *r; r++, n++)
			if (kind && result && strcmp(*k, kind) == 0 &&
			    strcmp(*r, result) == 0)
				return n;
	return -1;
}

/* slots[] (nslots messages each) as verdicts with their shares, into
 * out (room for nslots); the number kept. */
size_t pfi_stats_verdict_list(const int64_t *slots,
                              struct pfi_stats_verdict *out)
{
	const char *const *k, *const *r;
	size_t n = 0, i, j, kept = 0;
	int64_t of_kind;

	for (k = pfi_verdict_kinds(); *k; k++)
		for (r = pfi_verdict_results(*k); *r; r++, n++) {
			out[n].kind = *k;
			out[n].result = *r;
			out[n].messages = slots[n];
		}
	for (i = 0; i < n; i++) {
		/* dkim=signed is outbound: the shares are of what was checked */
		if (strcmp(out[i].result, "signed") == 0) {
			out[i].ratio = -1;
			continue;
		}
		for (of_kind = 0, j = 0; j < n; j++)
			if (strcmp(out[j].kind, out[i].kind) == 0 &&
			    strcmp(out[j].result, "signed") != 0)
				of_kind += out[j].messages;
		out[i].ratio = of_kind ? (double)out[i].messages / (double)of_kind
		                       : -1;
	}
	for (i = 0; i < n; i++)
		if (out[i].messages > 0)
			out[kept++] = out[i];
	return kept;
}

/* ---- the SQL ---------------------------------------------------------------- */

/* Columns 0-10 in the shape of the counted rows (pfi_stats_read_row), from
 * the verdict `v` itself: its time and host. */
static const char own_cols[] =
	"NULL, NULL, NULL, NULL, 0, v.time, NULL, NULL, v.host, NULL, NULL";

/* With a filter: kr, the matching counted rows with their original
 * (root); down(root, cur), each original's chain down its hops; cand(vid,
 * did) pairs each verdict of a chain with the matching rows of that
 * chain, and a NOQUEUE reject with the verdict that led to it (unjoined,
 * within the hold time: an indexed range).  The filter's condition goes
 * between head and tail. */
static const char filter_head[] =
	"WITH RECURSIVE kr(did, root, line, time) AS (SELECT d.id, m.id, d.line,"
	" d.time FROM deliveries d";
#define REJECT_VERDICT(v, r)                                               \
	v ".message IS NULL AND " v ".time >= " r ".time - "                 \
	PFI_VERDICT_HOLD_SQL " AND " v ".time <= " r ".time + "              \
	PFI_VERDICT_HOLD_SQL " AND " v ".reject_line = " r ".line"
static const char filter_tail[] =
	"), down(root, cur) AS (SELECT DISTINCT root, root FROM kr"
	" WHERE root IS NOT NULL UNION SELECT down.root, x.id FROM messages x"
	" JOIN down ON x.parent = down.cur AND x.relation IN " PFI_HOP_RELATIONS
	"), cand(vid, did) AS (SELECT v.id, kr.did FROM down"
	" JOIN verdicts v ON v.message = down.cur JOIN kr ON kr.root = down.root"
	" UNION ALL SELECT v.id, kr.did FROM kr JOIN verdicts v ON "
	REJECT_VERDICT("v", "kr") " WHERE kr.root IS NULL) ";

/* With a period: vs, the verdicts of the period; down(mid, cur), each of
 * their messages' chains, from the original down its hops. */
static const char period_cte[] =
	"WITH RECURSIVE vs AS (SELECT id, message, time, reject_line"
	" FROM verdicts WHERE time >= ?1 AND time < ?2),"
	" up(mid, cur) AS (SELECT DISTINCT message, message FROM vs"
	" WHERE message IS NOT NULL UNION SELECT up.mid, x.parent FROM messages x"
	" JOIN up ON x.id = up.cur WHERE x.relation IN " PFI_HOP_RELATIONS
	" AND x.parent IS NOT NULL),"
	" down(mid, cur) AS (SELECT up.mid, up.cur FROM up"
	" JOIN messages x ON x.id = up.cur WHERE x.parent IS NULL"
	" OR x.relation IS NULL OR x.relation NOT IN " PFI_HOP_RELATIONS
	" UNION SELECT down.mid, x.id FROM messages x JOIN down"
	" ON x.parent = down.cur AND x.relation IN " PFI_HOP_RELATIONS ") ";

/* A verdict's message; one not joined to a message stands alone. */
#define UNIT(v) "coalesce(" v ".message, -" v ".id)"

/* Appends the pieces (up to a NULL) to b. */
static int sql_vcat(struct pfi_buf *b, va_list ap)
{
	const char *piece;
	int rc = PFI_OK;

	while (rc == PFI_OK && (piece = va_arg(ap, const char *)) != NULL)
		rc = pfi_buf_appends(b, piece);
	return rc;
}

static int sql_cat(struct pfi_buf *b, ...)
{
	va_list ap;
	int rc;

	va_start(ap, b);
	rc = sql_vcat(b, ap);
	va_end(ap);
	return rc;
}

/* The statement `select` over verdicts `v`: with a narrowing filter,
 * after the CTEs of its rows (kr, down, cand); else over the period's
 * verdicts, after the CTEs of their chains (vs, down) when
 * `period_chains`. */
static int prepare(pfi_store *st, const struct pfi_filter *f,
                   const struct pfi_where *w, int period_chains,
                   const char *select, sqlite3_stmt **out)
{
	struct pfi_buf sql;
	int rc, narrows = pfi_filter_narrows(f);

	*out = NULL;
	pfi_buf_init(&sql, 0);
	if (narrows)
		rc = sql_cat(&sql, filter_head, pfi_stats_rows_joins, " WHERE ",
		             pfi_stats_rows_counted, " AND ", pfi_where_sql(w),
		             filter_tail, select, (const char *)NULL);
	else
		rc = sql_cat(&sql, period_chains ? period_cte : "", select,
		             (const char *)NULL);
	if (rc != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	else if (sqlite3_prepare_v2(st->db, sql.data, -1, out, NULL) != SQLITE_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot query the index");
	else if (narrows)
		pfi_where_bind(w, *out, 1);
	else
		pfi_bind_period(*out, f ? f->since : 0, f ? f->until : 0);
	pfi_buf_release(&sql);
	return rc;
}

/* ---- the totals ------------------------------------------------------------------ */

/* A message (or lone verdict) and one verdict it has. */
struct unit_slot {
	int64_t unit;
	long slot;
};

static int by_slot_then_unit(const void *a, const void *b)
{
	const struct unit_slot *x = a, *y = b;

	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->unit < y->unit ? -1 : x->unit > y->unit;
}

/* Adds to slots[] each slot's distinct units among us[0..n) (sorts us). */
static void count_distinct(struct unit_slot *us, size_t n, int64_t *slots)
{
	size_t i;

	if (n > 1)
		qsort(us, n, sizeof(*us), by_slot_then_unit);
	for (i = 0; i < n; i++)
		if (i == 0 || us[i].slot != us[i - 1].slot ||
		    us[i].unit != us[i - 1].unit)
			slots[us[i].slot]++;
}

/* Appends the verdict of row s (unit, kind, result) to *us unless its
 * words are outside the vocabulary. */
static int read_unit_slot(sqlite3_stmt *s, struct unit_slot **us, size_t *n,
                          size_t *cap)
{
	long slot = verdict_slot(pfi_col_text(s, 1), pfi_col_text(s, 2));

	if (slot < 0)
		return PFI_OK;
	if (pfi_array_reserve((void **)us, cap, *n, sizeof(**us), 1024) != PFI_OK)
		return PFI_ENOMEM;
	(*us)[*n].unit = sqlite3_column_int64(s, 0);
	(*us)[(*n)++].slot = slot;
	return PFI_OK;
}

/* Messages per verdict, counted in C: SQLite's count(DISTINCT) per group
 * sorted the whole scope through a temporary b-tree (8x the scan on the
 * bench index); one sort of (slot, unit) pairs does it. */
int pfi_stats_verdict_totals(pfi_store *st, const struct pfi_filter *f,
                             const struct pfi_where *w, int64_t *slots)
{
	const char *select = pfi_filter_narrows(f)
		? "SELECT " UNIT("v") ", v.kind, v.result FROM verdicts v"
		  " WHERE v.id IN (SELECT vid FROM cand)"
		: "SELECT " UNIT("v") ", v.kind, v.result FROM verdicts v"
		  " WHERE v.time >= ?1 AND v.time < ?2";
	struct unit_slot *us = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s;
	int rc, step = SQLITE_DONE;

	if (st->schema < 5)
		return PFI_OK;
	if ((rc = prepare(st, f, w, 0, select, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = read_unit_slot(s, &us, &n, &cap);
	if (rc != PFI_OK)
		rc = pfi_err_set(&st->err, rc, "out of memory");
	else if (step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read the index");
	else
		count_distinct(us, n, slots);
	sqlite3_finalize(s);
	free(us);
	return rc;
}

/* ---- per --by key ------------------------------------------------------------------ */

/* A key a unit counted under: a list per unit, in keys[]. */
struct unit_key {
	size_t idx;               /* by's index of the key */
	size_t next;              /* the unit's next key + 1; 0: none */
};

/* The scan: keys go to `by` (key -> int64_t[nslots]). */
struct by_scan {
	struct pfi_smap *by;
	pfi_stats_key_fn *key_of;
	void *ctx;
	struct unit_slot *us;     /* the verdicts, by unit */
	size_t *head;             /* per us[] (a unit's first): its keys + 1 */
	size_t nus, cus;
	struct unit_key *keys;
	size_t nkeys, ckeys;
	size_t *seen;             /* own keys: (key, slot) pairs of a unit */
	size_t nseen, cseen;
	int64_t unit;             /* the current unit */
};

/* The first us[] entry of unit u (us is sorted by unit); nus if none. */
static size_t first_of(const struct by_scan *b, int64_t u)
{
	size_t lo = 0, hi = b->nus;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->us[mid].unit < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Counts unit u (its verdicts from us[i]) under key idx, once. */
static int count_under(struct by_scan *b, size_t i, size_t idx)
{
	int64_t u = b->us[i].unit;
	size_t k, j;

	for (k = b->head[i]; k != 0; k = b->keys[k - 1].next)
		if (b->keys[k - 1].idx == idx)
			return PFI_OK;
	if (pfi_array_reserve((void **)&b->keys, &b->ckeys, b->nkeys,
	                      sizeof(*b->keys), 1024) != PFI_OK)
		return PFI_ENOMEM;
	b->keys[b->nkeys].idx = idx;
	b->keys[b->nkeys].next = b->head[i];
	b->head[i] = ++b->nkeys;
	for (j = i; j < b->nus && b->us[j].unit == u; j++)
		((int64_t *)pfi_smap_val(b->by, idx))[b->us[j].slot]++;
	return PFI_OK;
}

/* The units no counted row gave a key count under none (null). */
static int count_keyless(struct by_scan *b)
{
	size_t i, idx;

	for (i = 0; i < b->nus; i++) {
		if (i > 0 && b->us[i - 1].unit == b->us[i].unit)
			continue;
		if (b->head[i] != 0)
			continue;
		if (pfi_smap_get(b->by, NULL, &idx) != PFI_OK ||
		    count_under(b, i, idx) != PFI_OK)
			return PFI_ENOMEM;
	}
	return PFI_OK;
}

/* Steps s to its end through fn; PFI_OK or an error (message on st). */
static int each(pfi_store *st, sqlite3_stmt *s, struct by_scan *b,
                int (*fn)(struct by_scan *, sqlite3_stmt *))
{
	int rc = PFI_OK, step = SQLITE_DONE;

	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = fn(b, s);
	if (rc == PFI_ENOMEM)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (rc == PFI_OK && step != SQLITE_DONE)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read the index");
	return rc;
}

/* A verdict (unit, kind, result) of the scope, in unit order. */
static int on_verdict(struct by_scan *b, sqlite3_stmt *s)
{
	long slot = verdict_slot(pfi_col_text(s, 1), pfi_col_text(s, 2));

	if (slot < 0)
		return PFI_OK;
	if (pfi_array_reserve((void **)&b->us, &b->cus, b->nus, sizeof(*b->us),
	                      1024) != PFI_OK)
		return PFI_ENOMEM;
	b->us[b->nus].unit = sqlite3_column_int64(s, 0);
	b->us[b->nus++].slot = slot;
	return PFI_OK;
}

/* A row (columns 0-10) of unit (11), and whether it counts (12): the
 * unit's verdicts count under the row's key. */
static int on_key_row(struct by_scan *b, sqlite3_stmt *s)
{
	int64_t unit = sqlite3_column_int64(s, 11);
	size_t i = first_of(b, unit), idx;
	struct pfi_srow r;

	if (i == b->nus || b->us[i].unit != unit || !sqlite3_column_int(s, 12))
		return PFI_OK;
	pfi_stats_read_row(s, &r);
	if (pfi_smap_get(b->by, b->key_of(b->ctx, &r), &idx) != PFI_OK)
		return PFI_ENOMEM;
	return count_under(b, i, idx);
}

/* Builds the pieces into an SQL text and prepares it (see prepare). */
static int prepare_cat(pfi_store *st, const struct pfi_filter *f,
                       const struct pfi_where *w, int period_cte_too,
                       sqlite3_stmt **out, ...)
{
	struct pfi_buf sel;
	va_list ap;
	int rc;

	pfi_buf_init(&sel, 0);
	va_start(ap, out);
	rc = sql_vcat(&sel, ap);
	va_end(ap);
	if (rc != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	else
		rc = prepare(st, f, w, period_cte_too, sel.data, out);
	pfi_buf_release(&sel);
	return rc;
}

/* The verdicts of the scope: (unit, kind, result), by unit. */
static int read_verdicts(pfi_store *st, const struct pfi_filter *f,
                         const struct pfi_where *w, struct by_scan *b)
{
	sqlite3_stmt *s;
	int rc = prepare_cat(st, f, w, 0, &s,
		"SELECT DISTINCT " UNIT("v") ", v.kind, v.result FROM verdicts v"
		" WHERE ", pfi_filter_narrows(f)
		? "v.id IN (SELECT vid FROM cand)" : "v.time >= ?1 AND v.time < ?2",
		" ORDER BY 1", (const char *)NULL);

	if (rc == PFI_OK)
		rc = each(st, s, b, on_verdict);
	sqlite3_finalize(s);
	if (rc == PFI_OK &&
	    (b->head = calloc(b->nus ? b->nus : 1, sizeof(*b->head))) == NULL)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	return rc;
}

/* The counted rows that give the units their keys: with a
 * filter, the matching rows of each chain with verdicts and the matching
 * NOQUEUE rejects; with a period, every row of each chain and each
 * reject a verdict led to, with whether it counts. */
static int read_key_rows(pfi_store *st, const struct pfi_filter *f,
                         const struct pfi_where *w, struct by_scan *b)
{
	const char *cols = pfi_stats_rows_cols, *joins = pfi_stats_rows_joins;
	sqlite3_stmt *s;
	int rc;

	if (pfi_filter_narrows(f))
		rc = prepare_cat(st, f, w, 0, &s,
			"SELECT ", cols, ", down.cur, 1 FROM down JOIN kr"
			" ON kr.root = down.root JOIN deliveries d ON d.id = kr.did",
			joins, " WHERE EXISTS (SELECT 1 FROM verdicts"
			" WHERE message = down.cur) UNION ALL SELECT ", cols,
			", -v.id, 1 FROM kr JOIN verdicts v ON "
			REJECT_VERDICT("v", "kr") " JOIN deliveries d"
			" ON d.id = kr.did", joins, " WHERE kr.root IS NULL"
			" ORDER BY 12", (const char *)NULL);
	else
		rc = prepare_cat(st, f, w, 1, &s,
			"SELECT ", cols, ", down.mid, d.id IS NOT NULL AND ",
			pfi_stats_rows_counted, " FROM down LEFT JOIN deliveries d"
			" ON d.message = down.cur", joins, " UNION ALL SELECT ",
			cols, ", -vs.id, d.id IS NOT NULL AND ",
			pfi_stats_rows_counted, " FROM vs LEFT JOIN deliveries d"
			" ON d.id = (SELECT dd.id FROM deliveries dd WHERE "
			REJECT_VERDICT("vs", "dd") " AND dd.message IS NULL)", joins,
			" WHERE vs.message IS NULL", (const char *)NULL);
	if (rc == PFI_OK)
		rc = each(st, s, b, on_key_row);
	sqlite3_finalize(s);
	return rc;
}

/* A verdict keyed by its own time or host (columns 0-10), of unit 11,
 * kind 12 and result 13: counted once per unit, key and verdict. */
static int on_own_row(struct by_scan *b, sqlite3_stmt *s)
{
	long slot = verdict_slot(pfi_col_text(s, 12), pfi_col_text(s, 13));
	int64_t unit = sqlite3_column_int64(s, 11);
	struct pfi_srow r;
	size_t idx, i, pair;

	if (slot < 0)
		return PFI_OK;
	if (unit != b->unit) {
		b->unit = unit;
		b->nseen = 0;
	}
	pfi_stats_read_row(s, &r);
	if (pfi_smap_get(b->by, b->key_of(b->ctx, &r), &idx) != PFI_OK)
		return PFI_ENOMEM;
	pair = idx * 64 + (size_t)slot;      /* fewer than 64 slots */
	for (i = 0; i < b->nseen; i++)
		if (b->seen[i] == pair)
			return PFI_OK;
	if (pfi_array_reserve((void **)&b->seen, &b->cseen, b->nseen,
	                      sizeof(*b->seen), 8) != PFI_OK)
		return PFI_ENOMEM;
	b->seen[b->nseen++] = pair;
	((int64_t *)pfi_smap_val(b->by, idx))[slot]++;
	return PFI_OK;
}

/* Day, hour and host: each verdict's own. */
static int read_own_keys(pfi_store *st, const struct pfi_filter *f,
                         const struct pfi_where *w, struct by_scan *b)
{
	sqlite3_stmt *s;
	int rc = prepare_cat(st, f, w, 0, &s,
		"SELECT ", own_cols, ", " UNIT("v") ", v.kind, v.result"
		" FROM verdicts v WHERE ", pfi_filter_narrows(f)
		? "v.id IN (SELECT vid FROM cand)" : "v.time >= ?1 AND v.time < ?2",
		" ORDER BY 12", (const char *)NULL);

	if (rc == PFI_OK)
		rc = each(st, s, b, on_own_row);
	sqlite3_finalize(s);
	return rc;
}

int pfi_stats_verdicts_by(pfi_store *st, const struct pfi_filter *f,
                          const struct pfi_where *w, int row_keys,
                          pfi_stats_key_fn *key_of, void *ctx,
                          struct pfi_smap *by)
{
	struct by_scan b = { .by = by, .key_of = key_of, .ctx = ctx };
	int rc;

	if (st->schema < 5)
		return PFI_OK;
	if (!row_keys)
		rc = read_own_keys(st, f, w, &b);
	else if ((rc = read_verdicts(st, f, w, &b)) == PFI_OK && b.nus > 0)
		rc = read_key_rows(st, f, w, &b);
	if (rc == PFI_OK && count_keyless(&b) != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	free(b.us);
	free(b.head);
	free(b.keys);
	free(b.seen);
	return rc;
}
