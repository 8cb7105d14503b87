/*
 * info.c - pfi_info: what the index holds (files, period, lines by kind,
 * messages, problems, size), and the unparsed lines it keeps.
 */
#include <stdlib.h>
#include <string.h>

#include "store-lines.h"
#include "store-schema.h"

struct info_priv {
	struct pfi_info pub;
	struct pfi_pool pool;
};

static int64_t scalar(pfi_store *st, const char *sql, int *rc)
{
	sqlite3_stmt *s;
	int64_t v = 0;

	if (*rc != PFI_OK || (*rc = pfi_store_prepare(st, sql, &s)) != PFI_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = pfi_col_int(s, 0, 0);
	else
		*rc = pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	sqlite3_finalize(s);
	return v;
}

static int info_files(pfi_store *st, struct info_priv *ip)
{
	sqlite3_stmt *s;
	struct pfi_file_info *arr = NULL;
	size_t n = 0, cap = 0;
	/* an index written before the stamps' provenance has no columns */
	int known = pfi_store_int(st, "SELECT count(*) FROM"
	                          " pragma_table_info('files') WHERE name = 'zone'");
	int rc = pfi_store_prepare(st, known > 0
		? "SELECT path, lines, offset, first, last, year, year_from, zone"
		  " FROM files ORDER BY coalesce(first, 0), id"
		: "SELECT path, lines, offset, first, last, NULL, NULL, NULL"
		  " FROM files ORDER BY coalesce(first, 0), id", &s);

	while (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW) {
		rc = pfi_array_reserve((void **)&arr, &cap, n, sizeof(*arr), 8);
		if (rc == PFI_OK) {
			struct pfi_file_info *f = memset(&arr[n++], 0, sizeof(*f));
			f->path = pfi_pool_col(&ip->pool, s, 0);
			f->lines = pfi_col_int(s, 1, 0);
			f->bytes = pfi_col_int(s, 2, 0);
			f->first = pfi_col_int(s, 3, 0);
			f->last = pfi_col_int(s, 4, 0);
			f->year = (int)pfi_col_int(s, 5, 0);
			f->year_from = pfi_pool_col(&ip->pool, s, 6);
			f->zone = pfi_pool_col(&ip->pool, s, 7);
		}
	}
	sqlite3_finalize(s);
	ip->pub.files = arr;
	ip->pub.nfiles = n;
	return rc;
}

/* The journal sources read (schema 5), oldest first. */
static int info_journals(pfi_store *st, struct info_priv *ip)
{
	sqlite3_stmt *s;
	struct pfi_journal_info *arr = NULL;
	size_t n = 0, cap = 0;
	int rc = pfi_store_prepare(st, "SELECT source, entries, first, last"
	                           " FROM journal_cursors"
	                           " ORDER BY coalesce(first, 0), source", &s);

	while (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW) {
		rc = pfi_array_reserve((void **)&arr, &cap, n, sizeof(*arr), 4);
		if (rc == PFI_OK) {
			struct pfi_journal_info *j = memset(&arr[n++], 0, sizeof(*j));
			j->source = pfi_pool_col(&ip->pool, s, 0);
			j->entries = pfi_col_int(s, 1, 0);
			j->first = pfi_col_int(s, 2, 0);
			j->last = pfi_col_int(s, 3, 0);
		}
	}
	sqlite3_finalize(s);
	ip->pub.journals = arr;
	ip->pub.njournals = n;
	return rc;
}

static int info_line_counts(pfi_store *st, struct info_priv *ip)
{
	struct pfi_info *in = &ip->pub;
	sqlite3_stmt *s;
	struct pfi_count *arr = NULL;
	size_t n = 0, cap = 0;
	int rc = pfi_store_prepare(st, "SELECT kind, program, sum(count)"
	                           " FROM line_counts GROUP BY kind, program"
	                           " ORDER BY 3 DESC, 2", &s);

	while (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW) {
		int kind = sqlite3_column_int(s, 0);
		int64_t c = sqlite3_column_int64(s, 2);
		in->lines += c;
		if (kind == PFI_LINE_VERDICT)
			in->verdict_lines += c;
		else if (kind == PFI_LINE_POSTFIX || kind == PFI_LINE_UNPARSED)
			in->postfix_lines += c;
		else
			in->foreign_lines += c;
		if (kind == PFI_LINE_UNPARSED)
			in->unparsed_lines += c;
		if (kind != PFI_LINE_UNPARSED)
			continue;
		rc = pfi_array_reserve((void **)&arr, &cap, n, sizeof(*arr), 8);
		if (rc == PFI_OK) {
			struct pfi_count *pc = memset(&arr[n++], 0, sizeof(*pc));
			pc->key = pfi_pool_col(&ip->pool, s, 1);
			pc->count = c;
		}
	}
	sqlite3_finalize(s);
	in->unparsed_by_program = arr;
	in->nunparsed_by_program = n;
	return rc;
}

int pfi_info_new(struct pfi_info **out, pfi_store *st)
{
	struct info_priv *ip = calloc(1, sizeof(*ip));
	struct pfi_info *in;
	int rc = ip ? PFI_OK : PFI_ENOMEM;

	*out = NULL;
	if (rc != PFI_OK)
		return rc;
	in = &ip->pub;
	rc = info_files(st, ip);
	if (rc == PFI_OK)
		rc = info_line_counts(st, ip);
	in->messages = scalar(st, "SELECT count(*) FROM messages", &rc);
	in->deliveries = scalar(st, "SELECT count(*) FROM deliveries", &rc);
	in->rejects = scalar(st, "SELECT count(*) FROM deliveries"
	                     " WHERE status = 'rejected'", &rc);
	in->queued = scalar(st, "SELECT count(*) FROM messages WHERE open = 1",
	                    &rc);
	/* messages.flags holds enum pfi_msg_flag, a stored format: 4 is
	 * PFI_MSG_HELD, on hold now. */
	in->held = scalar(st, "SELECT count(*) FROM messages WHERE open = 1"
	                  " AND flags & 4 != 0", &rc);
	if (st->schema >= 3) {
		in->warnings = scalar(st, "SELECT count(*) FROM problems"
		                      " WHERE level = 'warning'", &rc);
		in->errors = scalar(st, "SELECT count(*) FROM problems"
		                    " WHERE level = 'error'", &rc);
		in->fatals = scalar(st, "SELECT count(*) FROM problems"
		                    " WHERE level = 'fatal'", &rc);
		in->panics = scalar(st, "SELECT count(*) FROM problems"
		                    " WHERE level = 'panic'", &rc);
	}
	if (st->schema >= 5) {
		in->verdicts = scalar(st, "SELECT count(*) FROM verdicts", &rc);
		in->verdicts_joined = scalar(st, "SELECT count(*) FROM verdicts"
		                             " WHERE message IS NOT NULL", &rc);
	}
	if (rc == PFI_OK && st->schema >= 5)
		rc = info_journals(st, ip);
	/* made on a write since schema 5: an index not written since lacks it */
	if (pfi_store_int(st, "SELECT count(*) FROM sqlite_schema"
	                  " WHERE type = 'table' AND name = 'line_hosts'") > 0)
		in->duplicate_lines = scalar(st, "SELECT coalesce(sum(duplicates),"
		                             " 0) FROM line_hosts", &rc);
	in->first = scalar(st, st->schema >= 5 ? "SELECT min(t) FROM (SELECT"
	                   " min(first) AS t FROM files UNION ALL SELECT"
	                   " min(first) FROM journal_cursors)"
	                   : "SELECT min(first) FROM files", &rc);
	in->last = scalar(st, st->schema >= 5 ? "SELECT max(t) FROM (SELECT"
	                  " max(last) AS t FROM files UNION ALL SELECT"
	                  " max(last) FROM journal_cursors)"
	                  : "SELECT max(last) FROM files", &rc);
	in->db_bytes = scalar(st, "SELECT page_count * page_size"
	                      " FROM pragma_page_count(), pragma_page_size()", &rc);
	if (rc == PFI_OK && ip->pool.oom)
		rc = PFI_ENOMEM;
	if (rc != PFI_OK) {
		pfi_info_free(in);
		return rc;
	}
	*out = in;
	return PFI_OK;
}

void pfi_info_free(struct pfi_info *info)
{
	struct info_priv *ip = (struct info_priv *)info;

	if (ip == NULL)
		return;
	free((void *)ip->pub.files);
	free((void *)ip->pub.journals);
	free((void *)ip->pub.unparsed_by_program);
	pfi_pool_release(&ip->pool);
	free(ip);
}

/* ---- unparsed lines ------------------------------------------------------------------------ */

struct unparsed_walk {
	int (*cb)(void *ctx, const char *program, const char *line, size_t len);
	void *ctx;
	const char *program;
	struct pfi_buf line;
};

static int unparsed_line(void *ctx, int64_t id, const char *line, size_t len)
{
	struct unparsed_walk *w = ctx;

	(void)id;
	pfi_buf_reset(&w->line);
	if (pfi_buf_append(&w->line, line, len) != PFI_OK)
		return PFI_ENOMEM;
	return w->cb(w->ctx, w->program, w->line.data, w->line.len);
}

int pfi_unparsed_each(pfi_store *st, int64_t limit,
                      int (*cb)(void *ctx, const char *program,
                                const char *line, size_t len),
                      void *ctx)
{
	struct unparsed_walk w = { cb, ctx, NULL, { NULL, 0, 0, 0 } };
	sqlite3_stmt *s;
	int rc = pfi_store_prepare(st, "SELECT line, program FROM unparsed"
	                           " ORDER BY line LIMIT ?1", &s);

	if (rc != PFI_OK)
		return rc;
	pfi_buf_init(&w.line, 0);
	sqlite3_bind_int64(s, 1, limit > 0 ? limit : -1);
	while (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		w.program = (const char *)sqlite3_column_text(s, 1);
		rc = pfi_store_read_lines(st, &id, 1, unparsed_line, &w);
	}
	sqlite3_finalize(s);
	pfi_buf_release(&w.line);
	return rc;
}
