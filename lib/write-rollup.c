/*
 * write-rollup.c - the per-hour cells of stat_cells, which `pfi stats` reads
 * instead of every record for the whole hours of a period.
 *
 * Cells are built by reading the same counted rows as `pfi stats`
 * (counted.c: pfi_stats_rows_sql, pfi_stats_msgs_*), after links are
 * resolved, so
 * they cannot disagree with a scan of the rows.  A new index builds them
 * all at the end of its run.  A later run changes them by difference, so
 * its cost follows the records it changes and not the hours they fall in:
 * it notes the messages it writes and links, widens them to every message
 * whose counted rows may read them, and then takes away what those
 * messages counted before the run (read from a snapshot the run keeps
 * open) and adds what they count now.
 */
#include <stdlib.h>
#include <string.h>

#include "smap.h"
#include "write.h"

#define SEP '\x1f'        /* between the fields of a cell key */
#define NUL_FIELD '\x1e'  /* a NULL field */
#define NFIELDS 10        /* kind, hour, host, domain, sender_domain,
                             status, dsn, code, class, tls */

/* ---- folding a difference of delays ------------------------------------------- */

static int cmp_upair(const void *a, const void *b)
{
	int64_t x = ((const struct pfi_delay_us *)a)->us;
	int64_t y = ((const struct pfi_delay_us *)b)->us;

	return (x > y) - (x < y);
}

/* Sorts v[0..*n) and sums the counts of equal delays, dropping those that
 * come to zero.  0 when a count is left negative. */
static int pairs_fold(struct pfi_delay_us *v, size_t *n)
{
	size_t i, j, out = 0;
	int ok = 1;

	if (*n > 1)   /* v may be NULL when empty */
		qsort(v, *n, sizeof(*v), cmp_upair);
	for (i = 0; i < *n; i = j) {
		int64_t sum = 0;

		for (j = i; j < *n && v[j].us == v[i].us; j++)
			sum += v[j].n;
		ok &= sum >= 0;
		if (sum != 0) {
			v[out].us = v[i].us;
			v[out++].n = sum;
		}
	}
	*n = out;
	return ok;
}

/* ---- building cells ----------------------------------------------------------------- */

/* The value of a cell in the builder's table: the cell itself, or when
 * the builder makes a difference, what changes in it. */
struct cell {
	int kind;             /* enum pfi_cell_kind */
	int dated;            /* 0: hour is NULL */
	int64_t hour;
	int64_t n, m;
	struct pfi_delay_us *d;      /* final delays, unsorted until folded */
	size_t nd, cd;
	int changed;          /* a difference that does not cancel out */
	int64_t rowid;        /* a difference: the stored cell, 0 when none */
};

struct builder {
	pfi_store *st;
	sqlite3 *db;             /* where the records are read */
	int sign;                /* 1 counts what is read, -1 takes it away */
	struct pfi_smap cells;   /* key: the NFIELDS fields; value: struct cell */
	struct pfi_buf key, blob;
};

static int build_fail(struct builder *b)
{
	return pfi_err_set(&b->st->err, PFI_ERROR, "cannot build stats cells: %s",
	                   sqlite3_errmsg(b->db));
}

static int key_field(struct pfi_buf *k, const char *v)
{
	if (k->len > 0 && pfi_buf_appendc(k, SEP) != PFI_OK)
		return PFI_ENOMEM;
	return v ? pfi_buf_appends(k, v) : pfi_buf_appendc(k, NUL_FIELD);
}

/* Makes b->key the key of a cell of a kind, an hour (none when !dated)
 * and the text keys f[2..NFIELDS) (NULL allowed). */
static int make_key(struct builder *b, int kind, int64_t hour, int dated,
                    const char *const *f)
{
	char num[48];
	size_t i;

	pfi_buf_reset(&b->key);
	snprintf(num, sizeof(num), "%d", kind);
	if (key_field(&b->key, num) != PFI_OK)
		return PFI_ENOMEM;
	snprintf(num, sizeof(num), "%lld", (long long)hour);
	if (key_field(&b->key, dated ? num : NULL) != PFI_OK)
		return PFI_ENOMEM;
	for (i = 2; i < NFIELDS; i++)
		if (key_field(&b->key, f[i]) != PFI_OK)
			return PFI_ENOMEM;
	return pfi_buf_appendc(&b->key, '\0');
}

/* The cell of a kind, the hour of t (none when !dated) and f. */
static struct cell *cell_of(struct builder *b, int kind, int64_t t, int dated,
                            const char *const *f)
{
	struct cell *c;
	size_t idx;

	if (make_key(b, kind, pfi_hour_of(t), dated, f) != PFI_OK ||
	    pfi_smap_get(&b->cells, b->key.data, &idx) != PFI_OK)
		return NULL;
	c = pfi_smap_val(&b->cells, idx);
	c->kind = kind;
	c->dated = dated;
	c->hour = pfi_hour_of(t);
	return c;
}

static int cell_add_delay(struct cell *c, int64_t us, int64_t n)
{
	if (pfi_array_reserve((void **)&c->d, &c->cd, c->nd, sizeof(*c->d),
	                      8) != PFI_OK)
		return PFI_ENOMEM;
	c->d[c->nd].us = us;
	c->d[c->nd++].n = n;
	return PFI_OK;
}

static int add_row(struct builder *b, const struct pfi_srow *r)
{
	const char *f[NFIELDS] = { NULL, NULL, r->host, r->domain, NULL,
		r->status, r->dsn, r->code, r->class, NULL };
	const char *fs[NFIELDS] = { NULL, NULL, NULL, NULL, r->sender_domain };
	struct cell *c = cell_of(b, PFI_CELL_SENDER, r->time, 1, fs);

	if (c == NULL)
		return PFI_ENOMEM;
	c->n += b->sign * r->n;
	if ((c = cell_of(b, PFI_CELL_RCPT, r->time, 1, f)) == NULL)
		return PFI_ENOMEM;
	c->n += b->sign * r->n;
	c->m += b->sign * r->deferred_once;
	if (r->ndelays == 1)
		return cell_add_delay(c, pfi_delay_us(r->one.delay), b->sign);
	return PFI_OK;
}

static int add_msg(struct builder *b, const struct pfi_smsg *a, int dated)
{
	const char *f[NFIELDS] = { NULL, NULL, a->host, NULL, NULL, NULL, NULL,
		NULL, NULL, a->tls };
	struct cell *c = cell_of(b, a->original ? PFI_CELL_RECEIVED
	                         : PFI_CELL_NOTIFY, a->received, dated, f);

	if (c == NULL)
		return PFI_ENOMEM;
	c->n += b->sign * a->n;
	c->m += b->sign * a->bytes;
	return PFI_OK;
}

static int add_network(struct builder *b, int64_t t, int tls)
{
	const char *f[NFIELDS] = { NULL };
	struct cell *c = cell_of(b, PFI_CELL_NETWORK, t, 1, f);

	if (c == NULL)
		return PFI_ENOMEM;
	c->n += b->sign;
	c->m += b->sign * (tls != 0);
	return PFI_OK;
}

/* Prepares head + cond on b->db and binds ?1 and ?2 where they appear. */
static int query(struct builder *b, const char *head, const char *cond,
                 int64_t a1, int64_t a2, sqlite3_stmt **s)
{
	struct pfi_buf sql;
	int rc = PFI_OK, np;

	*s = NULL;
	pfi_buf_init(&sql, 0);
	if (pfi_buf_appends(&sql, head) != PFI_OK ||
	    pfi_buf_appends(&sql, cond) != PFI_OK)
		rc = pfi_err_set(&b->st->err, PFI_ENOMEM, "out of memory");
	else if (sqlite3_prepare_v2(b->db, sql.data, -1, s, NULL) != SQLITE_OK)
		rc = build_fail(b);
	pfi_buf_release(&sql);
	if (rc != PFI_OK)
		return rc;
	np = sqlite3_bind_parameter_count(*s);
	if (np >= 1)
		sqlite3_bind_int64(*s, 1, a1);
	if (np >= 2)
		sqlite3_bind_int64(*s, 2, a2);
	return PFI_OK;
}

/* Ends a scan: PFI_OK when the statement ran to its end. */
static int scan_end(struct builder *b, sqlite3_stmt *s, int step, int rc)
{
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = build_fail(b);
	else if (rc == PFI_ENOMEM)
		rc = pfi_err_set(&b->st->err, rc, "out of memory");
	sqlite3_finalize(s);
	return rc;
}

/* As stats.c's outbound TLS share counts them. */
static const char network_sql[] =
	"SELECT d.time, d.tls_protocol IS NOT NULL FROM deliveries d"
	" WHERE d.status NOT IN ('filtered', 'rejected')"
	" AND instr(d.relay, '[') > 0 AND ";

/* Counted recipient rows and network deliveries of deliveries `d` that
 * meet cond (?1 = a1, ?2 = a2). */
static int build_rows(struct builder *b, const char *cond, int64_t a1,
                      int64_t a2)
{
	sqlite3_stmt *s;
	struct pfi_srow r;
	int rc, step = SQLITE_DONE;

	if ((rc = query(b, pfi_stats_rows_sql, cond, a1, a2, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		pfi_stats_read_row(s, &r);
		rc = add_row(b, &r);
	}
	if ((rc = scan_end(b, s, step, rc)) != PFI_OK)
		return rc;
	if ((rc = query(b, network_sql, cond, a1, a2, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = add_network(b, sqlite3_column_int64(s, 0),
		                 sqlite3_column_int(s, 1));
	return scan_end(b, s, step, rc);
}

/* Arrivals and notifications of messages `m` that meet cond; those not
 * seen arriving have undated cells. */
static int build_msgs(struct builder *b, const char *cond, int64_t a1,
                      int64_t a2)
{
	char head[1024];
	sqlite3_stmt *s;
	struct pfi_smsg a;
	int rc, step = SQLITE_DONE;

	snprintf(head, sizeof(head), "%s%s AND ", pfi_stats_msgs_head,
	         pfi_stats_msgs_kind);
	if ((rc = query(b, head, cond, a1, a2, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		pfi_stats_read_msg(s, &a);
		rc = add_msg(b, &a, sqlite3_column_type(s, 0) != SQLITE_NULL);
	}
	return scan_end(b, s, step, rc);
}

/* Splits a cell key into its NFIELDS fields (in place). */
static void split_key(char *key, char *f[NFIELDS])
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		char *sep = strchr(key, SEP);

		if (sep != NULL)
			*sep = '\0';
		f[i] = strcmp(key, (char[]){ NUL_FIELD, '\0' }) == 0 ? NULL : key;
		key = sep ? sep + 1 : key + strlen(key);
	}
}

/* Binds a cell's folded delays as parameter i (NULL when none). */
static int bind_delays(struct builder *b, sqlite3_stmt *s, int i,
                       const struct cell *c)
{
	if (c->nd == 0)
		return PFI_OK;
	if (pfi_delays_encode(c->d, c->nd, &b->blob) != PFI_OK)
		return pfi_err_set(&b->st->err, PFI_ENOMEM, "out of memory");
	sqlite3_bind_blob(s, i, b->blob.data, (int)b->blob.len, SQLITE_STATIC);
	return PFI_OK;
}

static const char insert_cell_sql[] =
	"INSERT INTO stat_cells(kind, hour, host, domain, sender_domain, status,"
	" dsn, code, class, tls, n, m, delays)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

/* Inserts a new cell (its delays folded); splits its key in place. */
static int insert_cell(struct builder *b, sqlite3_stmt *s, char *key,
                       struct cell *c)
{
	char *f[NFIELDS];
	int i, rc;

	split_key(key, f);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_bind_int(s, 1, c->kind);
	if (c->dated)
		sqlite3_bind_int64(s, 2, c->hour);
	for (i = 2; i < NFIELDS; i++)
		pfi_bind_str(s, i + 1, f[i]);
	sqlite3_bind_int64(s, 11, c->n);
	sqlite3_bind_int64(s, 12, c->m);
	if ((rc = bind_delays(b, s, 13, c)) != PFI_OK)
		return rc;
	return pfi_store_step_done(b->st, s, "cannot write stats cells");
}

static int write_cells(struct builder *b)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = PFI_OK;

	if (sqlite3_prepare_v2(b->st->db, insert_cell_sql, -1, &s,
	                       NULL) != SQLITE_OK)
		return pfi_store_dberr(b->st, PFI_ERROR, "cannot write stats cells");
	for (i = 0; i < b->cells.n && rc == PFI_OK; i++) {
		struct cell *c = pfi_smap_val(&b->cells, i);

		pairs_fold(c->d, &c->nd);
		rc = insert_cell(b, s, b->cells.keys[i], c);
	}
	sqlite3_finalize(s);
	return rc;
}

static void builder_init(struct builder *b, pfi_store *st)
{
	memset(b, 0, sizeof(*b));
	b->st = st;
	b->db = st->db;
	b->sign = 1;
	pfi_smap_init(&b->cells, sizeof(struct cell));
	pfi_buf_init(&b->key, 0);
	pfi_buf_init(&b->blob, 0);
}

static void builder_release(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->cells.n; i++)
		free(((struct cell *)pfi_smap_val(&b->cells, i))->d);
	pfi_smap_release(&b->cells);
	pfi_buf_release(&b->key);
	pfi_buf_release(&b->blob);
}

/*
 * Rebuilding every cell goes a day of log time at a time: a row's cells
 * are those of its delivery time's hour, an arrival's those of its
 * received hour, so a day's rows and arrivals make that day's cells
 * whole, and memory holds one day's cells instead of the index's (each
 * about 150 bytes: 50 MB for the 336,000 cells of a 20M-line log).
 * Arrivals with no received time have undated cells, made last.
 */
#define REBUILD_SLICE (24 * PFI_HOUR)

static const char next_time_sql[] =
	"SELECT min(t) FROM (SELECT min(time) AS t FROM deliveries"
	" WHERE time >= ?1 UNION ALL SELECT min(received) FROM messages"
	" WHERE received >= ?1)";

/* The earliest delivery time or received time from t on in *next;
 * INT64_MAX when there is none. */
static int next_time(struct builder *b, sqlite3_stmt *s, int64_t t,
                     int64_t *next)
{
	int step;

	sqlite3_bind_int64(s, 1, t);
	step = sqlite3_step(s);
	*next = step == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL
	        ? sqlite3_column_int64(s, 0) : INT64_MAX;
	sqlite3_reset(s);
	return step == SQLITE_ROW ? PFI_OK : build_fail(b);
}

/* Writes the cells built so far and forgets them. */
static int flush_cells(struct builder *b)
{
	int rc = write_cells(b);

	builder_release(b);
	builder_init(b, b->st);
	return rc;
}

/* The first and last time of the slice t falls in (floored like
 * pfi_hour_of, so no hour spans two slices), kept within int64_t. */
static void slice_of(int64_t t, int64_t *first, int64_t *last)
{
	int64_t q = t / REBUILD_SLICE - (t % REBUILD_SLICE < 0);

	*first = q >= INT64_MIN / REBUILD_SLICE ? q * REBUILD_SLICE : INT64_MIN;
	*last = q < INT64_MAX / REBUILD_SLICE ? (q + 1) * REBUILD_SLICE - 1
	                                      : INT64_MAX;
}

static int rebuild_dated(struct builder *b)
{
	static const char rows_in[] = "d.time BETWEEN ?1 AND ?2";
	static const char msgs_in[] = "m.received BETWEEN ?1 AND ?2";
	sqlite3_stmt *s;
	int64_t t, first, last;
	int rc;

	if (sqlite3_prepare_v2(b->db, next_time_sql, -1, &s, NULL) != SQLITE_OK)
		return build_fail(b);
	rc = next_time(b, s, INT64_MIN, &t);
	while (rc == PFI_OK && t != INT64_MAX) {
		slice_of(t, &first, &last);
		rc = build_rows(b, rows_in, first, last);
		if (rc == PFI_OK)
			rc = build_msgs(b, msgs_in, first, last);
		if (rc == PFI_OK)
			rc = flush_cells(b);
		if (rc == PFI_OK && last == INT64_MAX)
			break;
		if (rc == PFI_OK)
			rc = next_time(b, s, last + 1, &t);
	}
	sqlite3_finalize(s);
	return rc;
}

int pfi_rollup_rebuild_all(pfi_store *st)
{
	struct builder b;
	int rc = pfi_store_exec(st, "DELETE FROM stat_cells");

	builder_init(&b, st);
	if (rc == PFI_OK)
		rc = rebuild_dated(&b);
	if (rc == PFI_OK)
		rc = build_msgs(&b, "m.received IS NULL", 0, 0);
	if (rc == PFI_OK)
		rc = write_cells(&b);
	builder_release(&b);
	return rc;
}

/* ---- a run's cells by difference ------------------------------------------------ */

/*
 * A counted row reads its delivery, its message, the message's parents up
 * to the original (PFI_STATS_HOPS, pfi_stats_rows_sql), whether it has
 * a filter copy, and the forward links to the original.  So the rows whose
 * count a run may change are those of the messages it wrote or linked
 * (both sides of a link: the linking side's hand-off and copies, the other
 * side's parent), of the far side of their links (forward links are read
 * through it), of their parents (who may now have a copy) and of
 * PFI_STATS_HOPS generations of their children (whose original they may
 * be).  Parents
 * only change for messages the run touched, so the children found before
 * and after the run differ only by messages noted already; both are taken
 * all the same.  NOQUEUE rejects belong to no message and are only ever
 * added: the run's own are counted by id.
 */

/* Messages noted during a run, in both connections' temp.pfi_touched. */
struct pfi_rollup_delta {
	sqlite3 *before;    /* the index as the run began, in a read
	                       transaction; NULL: none, rebuild every cell */
	int64_t *ids;       /* scratch: ids copied between the two */
	size_t n, cap;
};

/* Returned by apply when the cells do not hold what the records held
 * before the run: they are rebuilt instead. */
#define DELTA_UNFIT 1

static const char touched_sql[] =
	"CREATE TEMP TABLE IF NOT EXISTS pfi_touched(id INTEGER PRIMARY KEY);"
	" DELETE FROM temp.pfi_touched";

/* In the connection's own state: the far side of the touched messages'
 * links, PFI_STATS_HOPS generations of children, then the parents. */
#define WIDEN_CHILDREN                                                     \
	" INSERT OR IGNORE INTO temp.pfi_touched(id) SELECT id FROM messages" \
	" WHERE parent IN (SELECT id FROM temp.pfi_touched);"
#if PFI_STATS_HOPS != 4
#error "widen_sql takes PFI_STATS_HOPS generations of children"
#endif
static const char widen_sql[] =
	"INSERT OR IGNORE INTO temp.pfi_touched(id) SELECT other FROM links"
	" WHERE parent IN (SELECT id FROM temp.pfi_touched)"
	" AND other IS NOT NULL;"
	WIDEN_CHILDREN WIDEN_CHILDREN WIDEN_CHILDREN WIDEN_CHILDREN
	" INSERT OR IGNORE INTO temp.pfi_touched(id) SELECT parent FROM messages"
	" WHERE id IN (SELECT id FROM temp.pfi_touched) AND parent IS NOT NULL";

static const char touched_rows[] =
	"d.message IN (SELECT id FROM temp.pfi_touched)";
static const char touched_msgs[] =
	"m.id IN (SELECT id FROM temp.pfi_touched)";
static const char new_rejects[] = "d.message IS NULL AND d.id >= ?1";

static int delta_fail(pfi_store *st, sqlite3 *db)
{
	return pfi_err_set(&st->err, PFI_ERROR, "cannot update stats cells: %s",
	                   sqlite3_errmsg(db));
}

/* Adds ids[0..n) to db's temp.pfi_touched. */
static int note_ids(pfi_store *st, sqlite3 *db, const int64_t *ids, size_t n)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = PFI_OK;

	if (sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO temp.pfi_touched(id)"
	                       " VALUES (?1)", -1, &s, NULL) != SQLITE_OK)
		return delta_fail(st, db);
	for (i = 0; i < n && rc == PFI_OK; i++) {
		sqlite3_bind_int64(s, 1, ids[i]);
		if (sqlite3_step(s) != SQLITE_DONE)
			rc = delta_fail(st, db);
		sqlite3_reset(s);
	}
	sqlite3_finalize(s);
	return rc;
}

/* Adds the ids of from's temp.pfi_touched to to's, read through the
 * noted ids' array (both tables hold those already). */
static int copy_ids(pfi_store *st, struct pfi_rollup_delta *d,
                    sqlite3 *from, sqlite3 *to)
{
	sqlite3_stmt *s;
	int step;

	d->n = 0;
	if (sqlite3_prepare_v2(from, "SELECT id FROM temp.pfi_touched", -1, &s,
	                       NULL) != SQLITE_OK)
		return delta_fail(st, from);
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (pfi_array_reserve((void **)&d->ids, &d->cap, d->n,
		                      sizeof(*d->ids), 256) != PFI_OK) {
			sqlite3_finalize(s);
			return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
		}
		d->ids[d->n++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (step != SQLITE_DONE)
		return delta_fail(st, from);
	return note_ids(st, to, d->ids, d->n);
}

static int widen_in(pfi_store *st, sqlite3 *db)
{
	if (sqlite3_exec(db, widen_sql, NULL, NULL, NULL) != SQLITE_OK)
		return delta_fail(st, db);
	return PFI_OK;
}

/* Both connections' temp.pfi_touched: the touched messages, widened in
 * the state before the run and in the state now. */
static int widen(struct pfi_write *w, struct pfi_rollup_delta *d)
{
	pfi_store *st = w->st;
	int rc = note_ids(st, st->db, w->touched, w->ntouched);

	if (rc == PFI_OK)
		rc = note_ids(st, d->before, w->touched, w->ntouched);
	if (rc == PFI_OK)
		rc = widen_in(st, st->db);
	if (rc == PFI_OK)
		rc = widen_in(st, d->before);
	if (rc == PFI_OK)
		rc = copy_ids(st, d, d->before, st->db);
	if (rc == PFI_OK)
		rc = copy_ids(st, d, st->db, d->before);
	return rc;
}

/* The difference of every cell: what the touched messages count now
 * (and the run's NOQUEUE rejects), less what they counted before. */
static int difference(struct builder *b, const struct pfi_rollup_delta *d,
                      int64_t first_new_row)
{
	pfi_store *st = b->st;
	int rc;

	b->db = d->before;
	b->sign = -1;
	rc = build_rows(b, touched_rows, 0, 0);
	if (rc == PFI_OK)
		rc = build_msgs(b, touched_msgs, 0, 0);
	b->db = st->db;
	b->sign = 1;
	if (rc == PFI_OK)
		rc = build_rows(b, touched_rows, 0, 0);
	if (rc == PFI_OK)
		rc = build_msgs(b, touched_msgs, 0, 0);
	if (rc == PFI_OK && first_new_row != INT64_MAX)
		rc = build_rows(b, new_rejects, first_new_row, 0);
	return rc;
}

static int cmp_hour(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Marks the cells whose difference does not cancel out; *hours (sorted,
 * *nh of them) are the dated hours of those, *undated whether any has no
 * hour. */
static int mark_changed(struct builder *b, int64_t **hours, size_t *nh,
                        int *undated)
{
	size_t i, cap = 0;

	*hours = NULL;
	*nh = 0;
	*undated = 0;
	for (i = 0; i < b->cells.n; i++) {
		struct cell *c = pfi_smap_val(&b->cells, i);

		pairs_fold(c->d, &c->nd);
		c->changed = c->n != 0 || c->m != 0 || c->nd != 0;
		if (!c->changed)
			continue;
		if (!c->dated) {
			*undated = 1;
			continue;
		}
		if (pfi_array_reserve((void **)hours, &cap, *nh, sizeof(**hours),
		                      64) != PFI_OK)
			return pfi_err_set(&b->st->err, PFI_ENOMEM, "out of memory");
		(*hours)[(*nh)++] = c->hour;
	}
	if (*nh > 1)
		qsort(*hours, *nh, sizeof(**hours), cmp_hour);
	return PFI_OK;
}

/* Adds a stored cell (the current row of s) to its changed difference. */
static int merge_stored(struct builder *b, sqlite3_stmt *s)
{
	const char *f[NFIELDS] = { NULL };
	int dated = sqlite3_column_type(s, 1) != SQLITE_NULL;
	const unsigned char *p = sqlite3_column_blob(s, 13);
	const unsigned char *end = p + sqlite3_column_bytes(s, 13);
	int64_t us = 0, count;
	struct cell *c;
	size_t i;

	for (i = 2; i < NFIELDS; i++)
		f[i] = (const char *)sqlite3_column_text(s, (int)i + 1);
	if (make_key(b, sqlite3_column_int(s, 2), sqlite3_column_int64(s, 1),
	             dated, f) != PFI_OK)
		return PFI_ENOMEM;
	if (!pfi_smap_find(&b->cells, b->key.data, &i))
		return PFI_OK;
	c = pfi_smap_val(&b->cells, i);
	if (!c->changed)
		return PFI_OK;
	if (c->rowid != 0)
		return DELTA_UNFIT;   /* two cells with one key */
	c->rowid = sqlite3_column_int64(s, 0);
	c->n += sqlite3_column_int64(s, 11);
	c->m += sqlite3_column_int64(s, 12);
	while (p != NULL && p < end) {
		if (pfi_delays_next(&p, end, &us, &count) != PFI_OK)
			return DELTA_UNFIT;
		if (cell_add_delay(c, us, count) != PFI_OK)
			return PFI_ENOMEM;
	}
	return PFI_OK;
}

/* Adds the stored cells of an hour (or, !dated, the undated ones) to the
 * changed differences of the same keys. */
static int merge_hour(struct builder *b, sqlite3_stmt *s, int64_t hour,
                      int dated)
{
	int rc = PFI_OK, step = SQLITE_DONE;

	sqlite3_reset(s);
	if (dated)
		sqlite3_bind_int64(s, 1, hour);
	else
		sqlite3_bind_null(s, 1);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = merge_stored(b, s);
	sqlite3_reset(s);
	if (rc == PFI_ENOMEM)
		return pfi_err_set(&b->st->err, rc, "out of memory");
	if (rc == PFI_OK && step != SQLITE_DONE)
		return pfi_store_dberr(b->st, PFI_ERROR, "cannot read stats cells");
	return rc;
}

/* Adds the stored cells of the changed differences to them. */
static int merge_all(struct builder *b, const int64_t *hours, size_t nh,
                     int undated)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = PFI_OK;

	if (sqlite3_prepare_v2(b->st->db, "SELECT rowid, hour, kind, host,"
	    " domain, sender_domain, status, dsn, code, class, tls, n, m, delays"
	    " FROM stat_cells WHERE hour IS ?1", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(b->st, PFI_ERROR, "cannot read stats cells");
	for (i = 0; i < nh && rc == PFI_OK; i++)
		if (i == 0 || hours[i] != hours[i - 1])
			rc = merge_hour(b, s, hours[i], 1);
	if (rc == PFI_OK && undated)
		rc = merge_hour(b, s, 0, 0);
	sqlite3_finalize(s);
	return rc;
}

/* Whether a changed cell, with its stored cell merged, is one a rebuild
 * could give: no negative count, and nothing left where no record is. */
static int cell_fits(struct cell *c)
{
	if (!pairs_fold(c->d, &c->nd) || c->n < 0 || c->m < 0)
		return 0;
	return c->n > 0 || (c->m == 0 && c->nd == 0);
}

/* Writes one changed cell: updated, deleted when no record is left in
 * it (a rebuild has no empty cells), or inserted. */
static int put_cell(struct builder *b, sqlite3_stmt *up, sqlite3_stmt *del,
                    sqlite3_stmt *ins, char *key, struct cell *c)
{
	sqlite3_stmt *s = c->n == 0 ? del : up;
	int rc;

	if (!cell_fits(c))
		return DELTA_UNFIT;
	if (c->rowid == 0)
		return c->n == 0 ? PFI_OK : insert_cell(b, ins, key, c);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	sqlite3_bind_int64(s, 1, c->rowid);
	if (s == up) {
		sqlite3_bind_int64(s, 2, c->n);
		sqlite3_bind_int64(s, 3, c->m);
		if ((rc = bind_delays(b, s, 4, c)) != PFI_OK)
			return rc;
	}
	return pfi_store_step_done(b->st, s, "cannot write stats cells");
}

static int put_changed(struct builder *b)
{
	static const char *const sql[3] = {
		"UPDATE stat_cells SET n = ?2, m = ?3, delays = ?4 WHERE rowid = ?1",
		"DELETE FROM stat_cells WHERE rowid = ?1",
		insert_cell_sql,
	};
	sqlite3_stmt *s[3] = { NULL };
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i < 3 && rc == PFI_OK; i++)
		if (sqlite3_prepare_v2(b->st->db, sql[i], -1, &s[i],
		                       NULL) != SQLITE_OK)
			rc = pfi_store_dberr(b->st, PFI_ERROR,
			                     "cannot write stats cells");
	for (i = 0; i < b->cells.n && rc == PFI_OK; i++) {
		struct cell *c = pfi_smap_val(&b->cells, i);

		if (c->changed)
			rc = put_cell(b, s[0], s[1], s[2], b->cells.keys[i], c);
	}
	for (i = 0; i < 3; i++)
		sqlite3_finalize(s[i]);
	return rc;
}

/* Changes the cells by the run's difference.  DELTA_UNFIT when the
 * stored cells cannot have been what the records gave before the run. */
static int apply_difference(struct pfi_write *w, struct pfi_rollup_delta *d)
{
	struct builder b;
	int64_t *hours = NULL;
	size_t nh = 0;
	int undated = 0;
	int rc = widen(w, d);

	builder_init(&b, w->st);
	if (rc == PFI_OK)
		rc = difference(&b, d, w->first_new_row);
	if (rc == PFI_OK)
		rc = mark_changed(&b, &hours, &nh, &undated);
	if (rc == PFI_OK)
		rc = merge_all(&b, hours, nh, undated);
	if (rc == PFI_OK)
		rc = put_changed(&b);
	free(hours);
	builder_release(&b);
	return rc;
}

/* ---- tracking what a run changes ------------------------------------------------------ */

/* A second connection in a read transaction begun before the run writes:
 * in WAL mode it goes on seeing the index as the run found it.  NULL when
 * there is none (a rollback journal would block the run's commit). */
static sqlite3 *open_before(pfi_store *st)
{
	sqlite3 *db = NULL;

	if (!pfi_store_text_is(st, "PRAGMA journal_mode", "wal"))
		return NULL;
	if (sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READONLY |
	                    SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master;",
	                 NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_exec(db, touched_sql, NULL, NULL, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(db, 2000);
		return db;
	}
	sqlite3_close(db);
	return NULL;
}

int pfi_rollup_track(pfi_store *st, struct pfi_rollup_delta **out)
{
	struct pfi_rollup_delta *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (d == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (pfi_store_exec(st, touched_sql) != PFI_OK) {
		free(d);
		return PFI_ERROR;
	}
	/* Without a snapshot the cells are all rebuilt: slow, but exact. */
	d->before = open_before(st);
	*out = d;
	return PFI_OK;
}

int pfi_rollup_refresh(struct pfi_write *w, struct pfi_rollup_delta *d)
{
	int rc;

	if (d == NULL)
		return PFI_OK;
	rc = d->before ? apply_difference(w, d) : DELTA_UNFIT;
	/* The snapshot ends before the run commits, so that the commit's
	 * checkpoint is not held back by it. */
	pfi_rollup_untrack(d);
	return rc == DELTA_UNFIT ? pfi_rollup_rebuild_all(w->st) : rc;
}

void pfi_rollup_untrack(struct pfi_rollup_delta *d)
{
	if (d == NULL)
		return;
	sqlite3_close(d->before);
	free(d->ids);
	free(d);
}
