/*
 * sql.c - read-only SQL over an index for pfi repl's `sql`, and stopping
 * a running query.  The SQL runs on a connection of its own, opened
 * read-only, with an authorizer that allows reading and nothing else (no
 * write, ATTACH, PRAGMA with a value, temp objects or extensions), and a
 * statement must be read-only by SQLite's own account as well: three
 * locks, none of which looks at the text of the SQL.  The connection
 * carries TEMP views that are the documented interface (pfi_messages,
 * pfi_deliveries, pfi_rejects, pfi_files), so users need not depend on
 * how the storage tables are laid out.
 */
#include <stdlib.h>
#include <string.h>

#include "pfi-int.h"
#include "store.h"

struct pfi_sql {
	sqlite3 *db;             /* read-only connection of its own */
	sqlite3_stmt *stmt;      /* the statement being stepped, or NULL */
	int ready;               /* the views exist: the authorizer is on */
	int denied;              /* the authorizer refused something */
	struct pfi_err err;
};

#define SQL_TIME(col) \
	"strftime('%Y-%m-%dT%H:%M:%SZ', " col " / 1000000, 'unixepoch')"

/*
 * The public views.  Times are RFC 3339 text in UTC, with the raw value
 * in microseconds beside them as *_us; `help sql` documents every column
 * and tests/test_repl.c checks that it does.
 */
static const char sql_views[] =
	"CREATE TEMP VIEW pfi_messages AS SELECT"
	" id, host, queue_id, message_id, sender, size, nrcpt, client,"
	" client_ip, sasl_method, sasl_username, subject, tls_protocol,"
	" tls_cipher, origin, " SQL_TIME("received") " AS received,"
	" received AS received_us, " SQL_TIME("removed") " AS removed,"
	" removed AS removed_us, open, parent, relation"
	" FROM main.messages;"
	"CREATE TEMP VIEW pfi_deliveries AS SELECT"
	" id, message, host, queue_id, " SQL_TIME("time") " AS time,"
	" time AS time_us, recipient, orig_to, domain, status, dsn, relay,"
	" delay, d_before AS delay_before_qmgr, d_in AS delay_in_qmgr,"
	" d_conn AS delay_conn_setup, d_xmit AS delay_transmission, attempts,"
	" final, response, child_qid FROM main.deliveries;"
	"CREATE TEMP VIEW pfi_rejects AS SELECT"
	" id, message, host, queue_id, " SQL_TIME("time") " AS time,"
	" time AS time_us, recipient, domain, dsn, stage, code, response,"
	" client, client_ip, helo, sender"
	" FROM main.deliveries WHERE status = 'rejected';"
	"CREATE TEMP VIEW pfi_files AS SELECT"
	" path, lines, offset AS bytes, " SQL_TIME("first") " AS first,"
	" " SQL_TIME("last") " AS last FROM main.files;";

/* PRAGMAs that only read: these whose argument names a table or index
 * (table_info(x), pragma_table_info('x')) ... */
static const char *const sql_pragmas_of[] = {
	"table_info", "table_xinfo", "table_list", "index_list", "index_info",
	"index_xinfo", "foreign_key_list", NULL
};
/* ... and these only without an argument, which would set a value. */
static const char *const sql_pragmas_bare[] = {
	"user_version", "application_id", "page_count", "page_size",
	"freelist_count", "schema_version", "database_list", "collation_list",
	"function_list", "pragma_list", "compile_options", "encoding", NULL
};

static int sql_listed(const char *const *list, const char *name)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (sqlite3_stricmp(list[i], name) == 0)
			return 1;
	return 0;
}

static int sql_pragma_ok(const char *name, const char *arg)
{
	if (name == NULL)
		return 0;
	return sql_listed(sql_pragmas_of, name) ||
	       (arg == NULL && sql_listed(sql_pragmas_bare, name));
}

/* Allows reading only; everything else is SQLITE_DENY. */
static int sql_allow(int action, const char *a, const char *b)
{
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_READ:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_FUNCTION:
		return b != NULL && (sqlite3_stricmp(b, "load_extension") == 0 ||
		                     sqlite3_stricmp(b, "fts3_tokenizer") == 0)
		       ? SQLITE_DENY : SQLITE_OK;
	case SQLITE_PRAGMA:
		return sql_pragma_ok(a, b) ? SQLITE_OK : SQLITE_DENY;
	default:
		return SQLITE_DENY;
	}
}

static int sql_authorize(void *ctx, int action, const char *a, const char *b,
                         const char *dbname, const char *view)
{
	struct pfi_sql *q = ctx;
	int rc;

	(void)dbname;
	(void)view;
	if (!q->ready)
		return SQLITE_OK;   /* creating the views, before any user SQL */
	rc = sql_allow(action, a, b);
	q->denied |= rc != SQLITE_OK;
	return rc;
}

static int sql_dberr(struct pfi_sql *q, int code, const char *what)
{
	return pfi_err_set(&q->err, code, "%s: %s", what, sqlite3_errmsg(q->db));
}

/* Locks the connection down before any user statement runs on it. */
static int sql_setup(struct pfi_sql *q)
{
	char *msg = NULL;
	int rc;

	sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_limit(q->db, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_busy_timeout(q->db, 5000);
	if (sqlite3_set_authorizer(q->db, sql_authorize, q) != SQLITE_OK)
		return sql_dberr(q, PFI_ERROR, "cannot set the authorizer");
	rc = sqlite3_exec(q->db, sql_views, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		pfi_err_set(&q->err, PFI_ESCHEMA, "cannot make the SQL views: %s",
		            msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return PFI_ESCHEMA;
	}
	q->ready = 1;
	return PFI_OK;
}

int pfi_sql_open(pfi_sql **out, pfi_store *st)
{
	struct pfi_sql *q;
	int rc;

	*out = NULL;
	if (st == NULL || st->db == NULL)
		return PFI_EINVAL;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return PFI_ENOMEM;
	*out = q;
	/* Through the store: the file its trust checks passed, not whatever
	 * the name points at now. */
	rc = pfi_store_open_reader(st, &q->db);
	if (rc != PFI_OK)
		return pfi_err_set(&q->err, rc, "%s", pfi_errmsg(st));
	return sql_setup(q);
}

void pfi_sql_close(pfi_sql *q)
{
	if (q == NULL)
		return;
	sqlite3_finalize(q->stmt);
	sqlite3_close(q->db);
	free(q);
}

const char *pfi_sql_errmsg(const pfi_sql *q)
{
	if (q == NULL)
		return "out of memory";
	return q->err.msg[0] ? q->err.msg : pfi_strerror(q->err.code);
}

int pfi_sql_prepare(pfi_sql *q, const char **sql)
{
	const char *tail = NULL;
	int rc;

	sqlite3_finalize(q->stmt);
	q->stmt = NULL;
	pfi_err_clear(&q->err);
	q->denied = 0;
	rc = sqlite3_prepare_v2(q->db, *sql, -1, &q->stmt, &tail);
	if (rc != SQLITE_OK && q->denied)
		return pfi_err_set(&q->err, PFI_EINVAL,
		                   "refused (pfi's SQL only reads)");
	if (rc != SQLITE_OK)
		return sql_dberr(q, PFI_EINVAL, "invalid SQL");
	*sql = tail;
	if (q->stmt == NULL)
		return PFI_EOF;   /* only white space or comments were left */
	if (!sqlite3_stmt_readonly(q->stmt)) {
		sqlite3_finalize(q->stmt);
		q->stmt = NULL;
		return pfi_err_set(&q->err, PFI_EINVAL,
		                   "refused (pfi's SQL only reads)");
	}
	return PFI_OK;
}

int pfi_sql_step(pfi_sql *q)
{
	int rc;

	if (q->stmt == NULL)
		return PFI_EOF;
	rc = sqlite3_step(q->stmt);
	if (rc == SQLITE_ROW)
		return PFI_OK;
	if (rc == SQLITE_DONE)
		return PFI_EOF;
	if (rc == SQLITE_NOMEM)
		return pfi_err_set(&q->err, PFI_ENOMEM, "out of memory");
	return sql_dberr(q, PFI_ERROR, "query failed");
}

int pfi_sql_columns(const pfi_sql *q)
{
	return q->stmt ? sqlite3_column_count(q->stmt) : 0;
}

const char *pfi_sql_column_name(pfi_sql *q, int i)
{
	const char *n = sqlite3_column_name(q->stmt, i);

	return n ? n : "?";
}

int pfi_sql_column_type(pfi_sql *q, int i)
{
	switch (sqlite3_column_type(q->stmt, i)) {
	case SQLITE_NULL: return PFI_SQL_NULL;
	case SQLITE_INTEGER: return PFI_SQL_INT;
	case SQLITE_FLOAT: return PFI_SQL_REAL;
	default: return PFI_SQL_TEXT;
	}
}

int64_t pfi_sql_column_int(pfi_sql *q, int i)
{
	return sqlite3_column_int64(q->stmt, i);
}

double pfi_sql_column_real(pfi_sql *q, int i)
{
	return sqlite3_column_double(q->stmt, i);
}

const char *pfi_sql_column_text(pfi_sql *q, int i, size_t *len)
{
	const char *t = (const char *)sqlite3_column_text(q->stmt, i);

	*len = t ? (size_t)sqlite3_column_bytes(q->stmt, i) : 0;
	return t;
}

void pfi_sql_interrupt(pfi_sql *q)
{
	if (q != NULL && q->db != NULL)
		sqlite3_interrupt(q->db);
}

void pfi_store_interrupt(pfi_store *st)
{
	if (st == NULL)
		return;
	st->stopped = 1;
	if (st->db != NULL)
		sqlite3_interrupt(st->db);
}

void pfi_store_resume(pfi_store *st)
{
	if (st != NULL)
		st->stopped = 0;
}
