/*
 * store.c - the handle's SQL: errors, statements prepared once per
 * handle (from the SQL their users keep beside them) and finalised on
 * close, small wrappers, the write transaction.  User input is always
 * bound, never formatted into SQL.  store-open.c opens the file.
 */
#include <stdlib.h>

#include "store.h"

/* ---- errors and small wrappers ------------------------------------------------ */

int pfi_store_dberr(pfi_store *st, int code, const char *what)
{
	return pfi_err_set(&st->err, code, "%s: %s", what,
	                   st->db ? sqlite3_errmsg(st->db) : "no database");
}

const char *pfi_errmsg(const pfi_store *st)
{
	if (st == NULL)
		return "out of memory";
	return st->err.msg[0] ? st->err.msg : pfi_strerror(st->err.code);
}

int pfi_store_exec(pfi_store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return PFI_OK;
	pfi_err_set(&st->err, PFI_ERROR, "database error: %s",
	            msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return PFI_ERROR;
}

sqlite3_stmt *pfi_store_stmt(pfi_store *st, enum pfi_stmt which,
                             const char *sql)
{
	sqlite3_stmt *s = st->stmt[which];

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, sql, -1,
		                       SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			pfi_store_dberr(st, PFI_ERROR, "cannot prepare statement");
			return NULL;
		}
		st->stmt[which] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int pfi_store_step_done(pfi_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return PFI_OK;
	return pfi_store_dberr(st, rc == SQLITE_BUSY ? PFI_EBUSY : PFI_ERROR, what);
}

int pfi_store_run(pfi_store *st, const char *sql, int64_t arg,
                  const char *what)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, what);
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, arg);
	rc = pfi_store_step_done(st, s, what);
	sqlite3_finalize(s);
	return rc;
}

int64_t pfi_store_max_id(pfi_store *st, const char *table)
{
	char sql[96];
	sqlite3_stmt *s;
	int64_t v = -1;

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM %s", table);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v < 0 ? pfi_store_dberr(st, PFI_ERROR, "cannot read index") : v;
}

int pfi_store_text_is(pfi_store *st, const char *sql, const char *want)
{
	sqlite3_stmt *s;
	int is = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		is = sqlite3_stricmp((const char *)sqlite3_column_text(s, 0),
		                     want) == 0;
	sqlite3_finalize(s);
	return is;
}

int pfi_store_begin_write(pfi_store *st)
{
	int rc = pfi_store_exec(st, "BEGIN IMMEDIATE");

	if (rc != PFI_OK && sqlite3_errcode(st->db) == SQLITE_BUSY)
		return pfi_err_set(&st->err, PFI_EBUSY, "index '%s' is being"
		                   " written by another process", st->path);
	return rc;
}

int pfi_store_prepare(pfi_store *st, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK)
		return PFI_OK;
	return pfi_store_dberr(st, PFI_ERROR, "cannot query index");
}

int64_t pfi_store_int(pfi_store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

void pfi_store_detach(pfi_store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db) {
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(st->db);
	}
	free(st->file);
	free(st->path);
	free(st);
}
