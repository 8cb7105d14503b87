/*
 * verdicts.c - the verdicts of milters and filters as trace and search
 * read them: a message's own, and those of the messages it came from
 * through content filters, since milters check mail at the edge while
 * its recipients are delivered from the copy a filter re-queued.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdicts.h"

/* The message and, up its filter hops, each message it came from. */
#define FILTER_ANCESTORS(seed)                                              \
	"WITH RECURSIVE up(id) AS (SELECT " seed " UNION"                   \
	" SELECT m.parent FROM messages m JOIN up ON m.id = up.id"          \
	" WHERE m.relation = 'filter' AND m.parent IS NOT NULL) "

static const char own_sql[] =
	"SELECT time, program, kind, result, domain, score, detail"
	" FROM verdicts WHERE message = ?1 ORDER BY time, id";

static const char chain_sql[] =
	FILTER_ANCESTORS("?1")
	"SELECT time, program, kind, result, domain, score, detail"
	" FROM verdicts WHERE message IN up ORDER BY time, id";

/* The verdicts that led to the NOQUEUE reject of line ?1 at time ?2:
 * unjoined, logged within the hold time (the partial index on the time
 * of unjoined verdicts finds them). */
static const char reject_sql[] =
	"SELECT time, program, kind, result, domain, score, detail"
	" FROM verdicts WHERE message IS NULL AND reject_line = ?1"
	" AND time >= ?2 - " PFI_VERDICT_HOLD_SQL
	" AND time <= ?2 + " PFI_VERDICT_HOLD_SQL " ORDER BY time, id";

static void fill_verdict(struct pfi_pool *p, struct pfi_verdict *v,
                         sqlite3_stmt *s)
{
	memset(v, 0, sizeof(*v));
	v->time = sqlite3_column_int64(s, 0);
	v->program = pfi_pool_col(p, s, 1);
	v->kind = pfi_pool_col(p, s, 2);
	v->result = pfi_pool_col(p, s, 3);
	v->domain = pfi_pool_col(p, s, 4);
	v->has_score = sqlite3_column_type(s, 5) != SQLITE_NULL;
	v->score = v->has_score ? sqlite3_column_double(s, 5) : 0;
	v->detail = pfi_pool_col(p, s, 6);
}

/* Steps bound statement s (then resets it) into *out, *count. */
static int collect(pfi_store *st, struct pfi_pool *p, sqlite3_stmt *s,
                   const struct pfi_verdict **out, size_t *count)
{
	struct pfi_verdict *arr = NULL;
	size_t n = 0, cap = 0;
	int rc = PFI_OK, step = SQLITE_DONE;

	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = pfi_array_reserve((void **)&arr, &cap, n, sizeof(*arr),
		                            4)) != PFI_OK)
			break;
		fill_verdict(p, &arr[n++], s);
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read verdicts");
	sqlite3_reset(s);
	if (rc != PFI_OK) {
		free(arr);
		return rc;
	}
	*out = arr;
	*count = n;
	return p->oom ? PFI_ENOMEM : PFI_OK;
}

int pfi_load_verdicts(pfi_store *st, struct pfi_pool *p, int64_t id,
                      int chain, const struct pfi_verdict **out,
                      size_t *count)
{
	sqlite3_stmt *s;

	*out = NULL;
	*count = 0;
	if (st->schema < 5 || id <= 0)
		return PFI_OK;
	s = chain ? pfi_store_stmt(st, ST_CHAIN_VERDICTS, chain_sql)
	          : pfi_store_stmt(st, ST_OWN_VERDICTS, own_sql);
	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return collect(st, p, s, out, count);
}

int pfi_load_reject_verdicts(pfi_store *st, struct pfi_pool *p, int64_t line,
                             int64_t time, const struct pfi_verdict **out,
                             size_t *count)
{
	sqlite3_stmt *s;

	*out = NULL;
	*count = 0;
	if (st->schema < 5 || line <= 0)
		return PFI_OK;
	if ((s = pfi_store_stmt(st, ST_REJECT_VERDICTS, reject_sql)) == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, line);
	sqlite3_bind_int64(s, 2, time);
	return collect(st, p, s, out, count);
}

int pfi_has_verdicts(pfi_store *st)
{
	return st->schema >= 5 &&
	       pfi_store_int(st, "SELECT EXISTS (SELECT 1 FROM verdicts)") > 0;
}

/* From the verdicts down the filter hops: a set SQLite builds once per
 * query, however many rows ask. */
const char pfi_verdict_cond_sql[] =
	"(d.message IN (WITH RECURSIVE down(id) AS"
	" (SELECT message FROM verdicts WHERE kind = ? AND result = ?"
	" AND message IS NOT NULL UNION"
	" SELECT m.id FROM messages m JOIN down"
	" ON m.parent = down.id AND m.relation = 'filter')"
	" SELECT id FROM down)"
	" OR (d.message IS NULL AND d.line IN (SELECT reject_line FROM verdicts"
	" WHERE kind = ? AND result = ? AND reject_line IS NOT NULL)))";
