/*
 * rollup.c - the per-hour cells of stat_cells, which `pfi stats` reads
 * instead of every record for the whole hours of a period.
 *
 * Cells are built by reading the same counted rows as `pfi stats`
 * (pfi_stats_rows_sql, pfi_stats_msgs_*), after links are resolved, so
 * they cannot disagree with a scan of the rows.  A new index builds them
 * all at the end of its run; a later run marks the hours whose records it
 * changes (new and rewritten rows, rows whose message got a parent, rows
 * it deletes) and rebuilds just those hours.
 */
#include <stdlib.h>
#include <string.h>

#include "smap.h"
#include "stats-int.h"

#define SEP '\x1f'        /* between the fields of a cell key */
#define NUL_FIELD '\x1e'  /* a NULL field */
#define NFIELDS 10        /* kind, hour, host, domain, sender_domain,
                             status, dsn, code, class, tls */

/* ---- small helpers shared with stats.c -------------------------------------- */

int64_t pfi_hour_of(int64_t t)
{
	return t / PFI_HOUR - (t % PFI_HOUR < 0);
}

int64_t pfi_delay_us(double seconds)
{
	return (int64_t)(seconds * 1e6 + 0.5);
}

double pfi_delay_seconds(int64_t us)
{
	return (double)us / 1e6;
}

int pfi_rollup_present(pfi_store *st)
{
	return st->schema >= 2;
}

/* ---- the delays of a cell: sorted microseconds as (gap, count) varints ---------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* Sorts us[0..n) and encodes each distinct value with its count. */
static int delays_encode(int64_t *us, size_t n, struct pfi_buf *out)
{
	int64_t prev = 0;
	size_t i, j;

	pfi_buf_reset(out);
	qsort(us, n, sizeof(*us), cmp_i64);
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && us[j] == us[i]; j++)
			;
		if (pfi_buf_put_varint(out, (uint64_t)(us[i] - prev)) != PFI_OK ||
		    pfi_buf_put_varint(out, (uint64_t)(j - i)) != PFI_OK)
			return PFI_ENOMEM;
		prev = us[i];
	}
	return PFI_OK;
}

int pfi_delays_decode(const void *blob, size_t size,
                      struct pfi_delay_n **out, size_t *cap, size_t *n)
{
	const unsigned char *p = blob, *end = p + size;
	int64_t value = 0;

	*n = 0;
	while (p != NULL && p < end) {
		uint64_t gap, count;

		if (pfi_varint_get(&p, end, &gap) != PFI_OK ||
		    pfi_varint_get(&p, end, &count) != PFI_OK)
			return PFI_ERROR;
		if (pfi_array_reserve((void **)out, cap, *n, sizeof(**out),
		                      64) != PFI_OK)
			return PFI_ENOMEM;
		value += (int64_t)gap;
		(*out)[*n].delay = pfi_delay_seconds(value);
		(*out)[(*n)++].n = (int64_t)count;
	}
	return PFI_OK;
}

/* ---- building cells ----------------------------------------------------------------- */

/* The value of a cell in the builder's table. */
struct cell {
	int kind;             /* enum pfi_cell_kind */
	int dated;            /* 0: hour is NULL */
	int64_t hour;
	int64_t n, m;
	int64_t *us;          /* final delays, microseconds, unsorted */
	size_t nus, cus;
};

struct builder {
	pfi_store *st;
	struct pfi_smap cells;   /* key: the NFIELDS fields; value: struct cell */
	struct pfi_buf key, blob;
};

static int key_field(struct pfi_buf *k, const char *v)
{
	if (k->len > 0 && pfi_buf_appendc(k, SEP) != PFI_OK)
		return PFI_ENOMEM;
	return v ? pfi_buf_appends(k, v) : pfi_buf_appendc(k, NUL_FIELD);
}

/* The cell of a kind, hour (t's, or none when !dated) and the text keys
 * f[2..NFIELDS) (NULL allowed). */
static struct cell *cell_of(struct builder *b, int kind, int64_t t, int dated,
                            const char *const *f)
{
	struct cell *c;
	char num[48];
	size_t i, idx;

	pfi_buf_reset(&b->key);
	snprintf(num, sizeof(num), "%d", kind);
	if (key_field(&b->key, num) != PFI_OK)
		return NULL;
	snprintf(num, sizeof(num), "%lld", (long long)pfi_hour_of(t));
	if (key_field(&b->key, dated ? num : NULL) != PFI_OK)
		return NULL;
	for (i = 2; i < NFIELDS; i++)
		if (key_field(&b->key, f[i]) != PFI_OK)
			return NULL;
	if (pfi_buf_appendc(&b->key, '\0') != PFI_OK ||
	    pfi_smap_get(&b->cells, b->key.data, &idx) != PFI_OK)
		return NULL;
	c = pfi_smap_val(&b->cells, idx);
	c->kind = kind;
	c->dated = dated;
	c->hour = pfi_hour_of(t);
	return c;
}

static int cell_add_delay(struct cell *c, int64_t us)
{
	if (pfi_array_reserve((void **)&c->us, &c->cus, c->nus, sizeof(*c->us),
	                      8) != PFI_OK)
		return PFI_ENOMEM;
	c->us[c->nus++] = us;
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
	c->n += r->n;
	if ((c = cell_of(b, PFI_CELL_RCPT, r->time, 1, f)) == NULL)
		return PFI_ENOMEM;
	c->n += r->n;
	c->m += r->deferred_once;
	if (r->ndelays == 1)
		return cell_add_delay(c, pfi_delay_us(r->one.delay));
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
	c->n += a->n;
	c->m += a->bytes;
	return PFI_OK;
}

static int add_network(struct builder *b, int64_t t, int tls)
{
	const char *f[NFIELDS] = { NULL };
	struct cell *c = cell_of(b, PFI_CELL_NETWORK, t, 1, f);

	if (c == NULL)
		return PFI_ENOMEM;
	c->n++;
	c->m += tls != 0;
	return PFI_OK;
}

/* Prepares sql and binds ?1 and ?2 if it has them. */
static int query(struct builder *b, const char *sql, int64_t a1, int64_t a2,
                 sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(b->st->db, sql, -1, s, NULL) != SQLITE_OK)
		return pfi_store_dberr(b->st, PFI_ERROR, "cannot build stats cells");
	if (sqlite3_bind_parameter_count(*s) >= 2) {
		sqlite3_bind_int64(*s, 1, a1);
		sqlite3_bind_int64(*s, 2, a2);
	}
	return PFI_OK;
}

/* Ends a scan: PFI_OK when the statement ran to its end. */
static int scan_end(struct builder *b, sqlite3_stmt *s, int step, int rc)
{
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(b->st, PFI_ERROR, "cannot build stats cells");
	else if (rc == PFI_ENOMEM)
		rc = pfi_err_set(&b->st->err, rc, "out of memory");
	sqlite3_finalize(s);
	return rc;
}

/* Counted recipient rows and network deliveries of [t0, t1). */
static int build_rows(struct builder *b, int64_t t0, int64_t t1)
{
	char sql[4096];
	sqlite3_stmt *s;
	struct pfi_srow r;
	int rc, step;

	snprintf(sql, sizeof(sql), "%sd.time >= ?1 AND d.time < ?2",
	         pfi_stats_rows_sql);
	if ((rc = query(b, sql, t0, t1, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		pfi_stats_read_row(s, &r);
		rc = add_row(b, &r);
	}
	if ((rc = scan_end(b, s, step, rc)) != PFI_OK)
		return rc;
	/* As stats.c's outbound TLS share counts them. */
	if ((rc = query(b, "SELECT time, tls_protocol IS NOT NULL FROM deliveries"
	                " WHERE time >= ?1 AND time < ?2"
	                " AND status NOT IN ('filtered', 'rejected')"
	                " AND instr(relay, '[') > 0", t0, t1, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = add_network(b, sqlite3_column_int64(s, 0),
		                 sqlite3_column_int(s, 1));
	return scan_end(b, s, step, rc);
}

/* Arrivals of [t0, t1), or (dated 0) those not seen arriving. */
static int build_msgs(struct builder *b, int64_t t0, int64_t t1, int dated)
{
	char sql[2048];
	sqlite3_stmt *s;
	struct pfi_smsg a;
	int rc, step;

	snprintf(sql, sizeof(sql), "%s%s AND %s", pfi_stats_msgs_head,
	         pfi_stats_msgs_kind, dated ? "m.received >= ?1 AND m.received < ?2"
	                                    : "m.received IS NULL");
	if ((rc = query(b, sql, t0, t1, &s)) != PFI_OK)
		return rc;
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		pfi_stats_read_msg(s, &a);
		rc = add_msg(b, &a, dated);
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

static int write_cell(struct builder *b, sqlite3_stmt *s, char *key,
                      struct cell *c)
{
	char *f[NFIELDS];
	int i;

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
	if (c->nus > 0) {
		if (delays_encode(c->us, c->nus, &b->blob) != PFI_OK)
			return pfi_err_set(&b->st->err, PFI_ENOMEM, "out of memory");
		sqlite3_bind_blob(s, 13, b->blob.data, (int)b->blob.len,
		                  SQLITE_STATIC);
	}
	return pfi_store_step_done(b->st, s, "cannot write stats cells");
}

static int write_cells(struct builder *b)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = PFI_OK;

	if (sqlite3_prepare_v2(b->st->db, "INSERT INTO stat_cells(kind, hour, host,"
	    " domain, sender_domain, status, dsn, code, class, tls, n, m, delays)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	    -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(b->st, PFI_ERROR, "cannot write stats cells");
	for (i = 0; i < b->cells.n && rc == PFI_OK; i++)
		rc = write_cell(b, s, b->cells.keys[i], pfi_smap_val(&b->cells, i));
	sqlite3_finalize(s);
	return rc;
}

static void builder_init(struct builder *b, pfi_store *st)
{
	memset(b, 0, sizeof(*b));
	b->st = st;
	pfi_smap_init(&b->cells, sizeof(struct cell));
	pfi_buf_init(&b->key, 0);
	pfi_buf_init(&b->blob, 0);
}

static void builder_release(struct builder *b)
{
	size_t i;

	for (i = 0; i < b->cells.n; i++)
		free(((struct cell *)pfi_smap_val(&b->cells, i))->us);
	pfi_smap_release(&b->cells);
	pfi_buf_release(&b->key);
	pfi_buf_release(&b->blob);
}

/* Replaces the cells of hours [h0, h1) and, when `undated`, those of
 * arrivals not seen. */
static int rebuild(pfi_store *st, int64_t h0, int64_t h1, int undated)
{
	int64_t t0 = h0 <= INT64_MIN / PFI_HOUR ? INT64_MIN : h0 * PFI_HOUR;
	int64_t t1 = h1 >= INT64_MAX / PFI_HOUR ? INT64_MAX : h1 * PFI_HOUR;
	struct builder b;
	sqlite3_stmt *s;
	int rc = PFI_OK;

	builder_init(&b, st);
	if (sqlite3_prepare_v2(st->db, "DELETE FROM stat_cells"
	    " WHERE (hour >= ?1 AND hour < ?2) OR (?3 AND hour IS NULL)", -1, &s,
	    NULL) != SQLITE_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot write stats cells");
	if (rc == PFI_OK) {
		sqlite3_bind_int64(s, 1, h0);
		sqlite3_bind_int64(s, 2, h1);
		sqlite3_bind_int(s, 3, undated);
		rc = pfi_store_step_done(st, s, "cannot write stats cells");
		sqlite3_finalize(s);
	}
	if (rc == PFI_OK && h0 < h1)
		rc = build_rows(&b, t0, t1);
	if (rc == PFI_OK && h0 < h1)
		rc = build_msgs(&b, t0, t1, 1);
	if (rc == PFI_OK && undated)
		rc = build_msgs(&b, 0, 0, 0);
	if (rc == PFI_OK)
		rc = write_cells(&b);
	builder_release(&b);
	return rc;
}

int pfi_rollup_rebuild_all(pfi_store *st)
{
	st->track_hours = 0;
	return rebuild(st, INT64_MIN / PFI_HOUR, INT64_MAX / PFI_HOUR, 1);
}

/* ---- tracking the hours a run changes ------------------------------------------------ */

int pfi_rollup_track(pfi_store *st)
{
	int rc = pfi_store_exec(st, "CREATE TEMP TABLE IF NOT EXISTS pfi_dirty"
	                            " (hour INTEGER PRIMARY KEY);"
	                            " DELETE FROM temp.pfi_dirty");

	st->track_hours = rc == PFI_OK;
	return rc;
}

int pfi_rollup_mark(pfi_store *st, const char *sql, int64_t arg)
{
	char full[2048];

	if (!st->track_hours)
		return PFI_OK;
	snprintf(full, sizeof(full), "INSERT OR IGNORE INTO temp.pfi_dirty(hour)"
	         " SELECT h FROM (%s) WHERE h IS NOT NULL", sql);
	return pfi_store_run(st, full, arg, "cannot track stats cells");
}

int pfi_rollup_refresh(pfi_store *st)
{
	sqlite3_stmt *s;
	int64_t start = 0, end = 0;
	int have = 0, undated = 0, rc = PFI_OK, step;

	if (!st->track_hours)
		return PFI_OK;
	st->track_hours = 0;
	if (sqlite3_prepare_v2(st->db, "SELECT hour FROM temp.pfi_dirty"
	                       " ORDER BY hour", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read stats cells");
	/* Consecutive hours are rebuilt together. */
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t h = sqlite3_column_int64(s, 0);

		if (h == PFI_UNDATED) {
			undated = 1;
			continue;
		}
		if (have && h == end) {
			end++;
			continue;
		}
		if (have)
			rc = rebuild(st, start, end, 0);
		start = h;
		end = h + 1;
		have = 1;
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read stats cells");
	sqlite3_finalize(s);
	if (rc == PFI_OK && (have || undated))
		rc = rebuild(st, have ? start : 0, have ? end : 0, undated);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, "DELETE FROM temp.pfi_dirty");
	return rc;
}
