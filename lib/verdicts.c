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

static const char own_sql[] =
	"SELECT time, program, kind, result, domain, score, detail, id"
	" FROM verdicts WHERE message = ?1 ORDER BY time, id";

/* The message a content filter re-queued message ?1 from, if any. */
static const char filter_parent_sql[] =
	"SELECT parent FROM messages WHERE id = ?1 AND relation = 'filter'"
	" AND parent IS NOT NULL";

/* Filter hops followed at most: real chains have one or two; the cap
 * (with the check for a message seen before) keeps a damaged or crafted
 * index from looping. */
#define MAX_FILTER_HOPS 16

/* The verdicts that led to the NOQUEUE reject of line ?1 at time ?2:
 * unjoined, logged within the hold time (the partial index on the time
 * of unjoined verdicts finds them). */
static const char reject_sql[] =
	"SELECT time, program, kind, result, domain, score, detail, id"
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

/* Verdicts as they are read, with their row ids: "oldest first" breaks
 * ties in time by id, across the messages of a filter chain. */
struct keyed_verdict {
	int64_t id;
	struct pfi_verdict v;
};

struct found {
	struct keyed_verdict *k;
	size_t n, cap;
};

/* Steps bound statement s (then resets it), appending its rows to f. */
static int read_rows(pfi_store *st, struct pfi_pool *p, sqlite3_stmt *s,
                     struct found *f)
{
	int rc = PFI_OK, step = SQLITE_DONE;

	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		if ((rc = pfi_array_reserve((void **)&f->k, &f->cap, f->n,
		                            sizeof(*f->k), 4)) != PFI_OK)
			break;
		fill_verdict(p, &f->k[f->n].v, s);
		f->k[f->n++].id = sqlite3_column_int64(s, 7);
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read verdicts");
	sqlite3_reset(s);
	return rc;
}

static int by_time_then_id(const void *a, const void *b)
{
	const struct keyed_verdict *x = a, *y = b;

	if (x->v.time != y->v.time)
		return x->v.time < y->v.time ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Hands f's verdicts out as a plain array (sorted first when they come
 * from several messages), or frees them on error. */
static int hand_out(struct pfi_pool *p, struct found *f, int sort, int rc,
                    const struct pfi_verdict **out, size_t *count)
{
	struct pfi_verdict *plain = (struct pfi_verdict *)f->k;
	size_t i;

	if (rc == PFI_OK && p->oom)
		rc = PFI_ENOMEM;
	if (rc != PFI_OK) {
		free(f->k);
		return rc;
	}
	if (sort && f->n > 1)
		qsort(f->k, f->n, sizeof(*f->k), by_time_then_id);
	/* In place: entry i moves down to a lower address, never past an
	 * entry not yet moved. */
	for (i = 0; i < f->n; i++)
		memmove(&plain[i], &f->k[i].v, sizeof(plain[i]));
	*out = plain;
	*count = f->n;
	return PFI_OK;
}

/* The message content filter re-queued message id from, in *parent
 * (0 when none). */
static int filter_parent(pfi_store *st, int64_t id, int64_t *parent)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_FILTER_PARENT,
	                                 filter_parent_sql);
	int step;

	*parent = 0;
	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*parent = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read messages");
	return PFI_OK;
}

static int seen_before(const int64_t *seen, size_t n, int64_t id)
{
	while (n-- > 0)
		if (seen[n] == id)
			return 1;
	return 0;
}

/* Walks the filter chain in C rather than with a recursive CTE: SQLite
 * builds a temporary table for every run of one, and a search runs this
 * once per printed row. */
int pfi_load_verdicts(pfi_store *st, struct pfi_pool *p, int64_t id,
                      int chain, const struct pfi_verdict **out,
                      size_t *count)
{
	struct found f = { NULL, 0, 0 };
	int64_t seen[MAX_FILTER_HOPS];
	size_t hops = 0;
	sqlite3_stmt *s;
	int rc = PFI_OK;

	*out = NULL;
	*count = 0;
	if (st->schema < 5 || id <= 0)
		return PFI_OK;
	while (rc == PFI_OK && id > 0 && hops < MAX_FILTER_HOPS &&
	       !seen_before(seen, hops, id)) {
		seen[hops++] = id;
		if ((s = pfi_store_stmt(st, ST_OWN_VERDICTS, own_sql)) == NULL) {
			rc = PFI_ERROR;
			break;
		}
		sqlite3_bind_int64(s, 1, id);
		rc = read_rows(st, p, s, &f);
		if (rc == PFI_OK && chain)
			rc = filter_parent(st, id, &id);
		else
			id = 0;
	}
	return hand_out(p, &f, hops > 1, rc, out, count);
}

int pfi_load_reject_verdicts(pfi_store *st, struct pfi_pool *p, int64_t line,
                             int64_t time, const struct pfi_verdict **out,
                             size_t *count)
{
	struct found f = { NULL, 0, 0 };
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*count = 0;
	if (st->schema < 5 || line <= 0)
		return PFI_OK;
	if ((s = pfi_store_stmt(st, ST_REJECT_VERDICTS, reject_sql)) == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, line);
	sqlite3_bind_int64(s, 2, time);
	rc = read_rows(st, p, s, &f);
	return hand_out(p, &f, 0, rc, out, count);
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
