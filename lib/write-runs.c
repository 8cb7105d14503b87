/*
 * write-runs.c - what each index run leaves beside its lines: the lines
 * it counted per host and kind (line_host_counts, for the host label of
 * pfi_log_lines_total) and a record of the run (index_runs, for the
 * last-run metrics of a `pfi index` from cron).  Both are written in the
 * run's transaction, so an interrupted run leaves neither.
 *
 * The tables are made when an index is first opened for writing, not by
 * a schema version (as line_ids, write-overlap.c): a read-only open, or
 * an older pfi, meets no difference but the tables.
 */
#include <string.h>

#include "write-runs.h"

/* Bytes of a host kept in a key: a DNS name has at most 253. */
#define HOST_MAX 255

static int64_t have_tables(pfi_store *st)
{
	return pfi_store_int(st, "SELECT count(*) FROM sqlite_schema"
	                     " WHERE type = 'table' AND name IN"
	                     " ('line_host_counts', 'index_runs')");
}

/* Lines counted before line_host_counts was made have no known host:
 * they stay under "", so each kind still sums to line_counts. */
static const char baseline_sql[] =
	"INSERT INTO line_host_counts(host, kind, count)"
	" SELECT '', kind, sum(count) FROM line_counts GROUP BY kind"
	" ON CONFLICT(host, kind) DO UPDATE SET count = count + excluded.count";

static int make_tables(pfi_store *st)
{
	int64_t hosts = pfi_store_int(st, "SELECT count(*) FROM sqlite_schema"
	                              " WHERE type = 'table'"
	                              " AND name = 'line_host_counts'");
	int rc;

	if (hosts < 0)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	rc = pfi_store_exec(st, pfi_run_tables_sql);
	if (rc == PFI_OK && hosts == 0)
		rc = pfi_store_exec(st, baseline_sql);
	return rc;
}

int pfi_runs_prepare(pfi_store *st)
{
	int64_t have = have_tables(st);
	int rc;

	if (have == 2)
		return PFI_OK;
	if (have < 0)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	rc = pfi_store_begin_write(st);
	if (rc != PFI_OK)
		return rc;
	/* Another process may have made them while this one waited. */
	have = have_tables(st);
	if (have < 0)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	else if (have < 2)
		rc = make_tables(st);
	if (rc == PFI_OK)
		return pfi_store_exec(st, "COMMIT");
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- lines per host ---------------------------------------------------------- */

/* A key is the kind as one digit, then the host. */
int pfi_host_lines_note(struct pfi_smap *m, struct pfi_slice host, int kind)
{
	char key[HOST_MAX + 2];
	size_t n = host.n < HOST_MAX ? host.n : HOST_MAX;

	key[0] = (char)('0' + kind);
	if (n)
		memcpy(key + 1, host.p, n);
	key[n + 1] = '\0';
	return pfi_smap_count(m, key, 1);
}

static const char count_host_lines_sql[] =
	"INSERT INTO line_host_counts(host, kind, count) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(host, kind) DO UPDATE SET count = count + ?3";

int pfi_host_lines_flush(const struct pfi_smap *m, pfi_store *st)
{
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i < m->n && rc == PFI_OK; i++) {
		sqlite3_stmt *s = pfi_store_stmt(st, ST_COUNT_HOST_LINES,
		                                 count_host_lines_sql);
		if (s == NULL)
			return PFI_ERROR;
		sqlite3_bind_text(s, 1, m->keys[i] + 1, -1, SQLITE_STATIC);
		sqlite3_bind_int(s, 2, m->keys[i][0] - '0');
		sqlite3_bind_int64(s, 3, *(int64_t *)pfi_smap_val(m, i));
		rc = pfi_store_step_done(st, s, "cannot count lines");
	}
	return rc;
}

/* ---- the run's record -------------------------------------------------------- */

static const char record_sql[] =
	"INSERT INTO index_runs(start, end, seconds, lines, duplicates, files,"
	" messages, stopped) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/* Bounded: a run every minute for years stays a few hundred rows. */
static const char trim_sql[] =
	"DELETE FROM index_runs WHERE id <= (SELECT max(id) FROM index_runs) - ?1";

int pfi_runs_record(pfi_store *st, const struct pfi_run_rec *rec)
{
	sqlite3_stmt *s = NULL;
	int rc = pfi_store_prepare(st, record_sql, &s);

	if (rc != PFI_OK)
		return rc;
	sqlite3_bind_int64(s, 1, rec->start);
	sqlite3_bind_int64(s, 2, rec->end);
	sqlite3_bind_double(s, 3, rec->seconds);
	sqlite3_bind_int64(s, 4, rec->lines);
	sqlite3_bind_int64(s, 5, rec->duplicates);
	sqlite3_bind_int64(s, 6, rec->files);
	sqlite3_bind_int64(s, 7, rec->messages);
	sqlite3_bind_int(s, 8, rec->stopped);
	rc = pfi_store_step_done(st, s, "cannot record the run");
	sqlite3_finalize(s);
	if (rc != PFI_OK || (rc = pfi_store_prepare(st, trim_sql, &s)) != PFI_OK)
		return rc;
	sqlite3_bind_int(s, 1, PFI_RUNS_KEPT);
	rc = pfi_store_step_done(st, s, "cannot record the run");
	sqlite3_finalize(s);
	return rc;
}
