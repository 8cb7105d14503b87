/*
 * write-verdicts.c - the verdicts of milters and filters (verdict.c): one
 * row per verdict line, joined to its message at once when the line names
 * an open message's queue ID, or later when a held SPF check finds the
 * message its client queued next (correlate.c); and the held checks a
 * run hands to the next.
 */
#include <string.h>

#include "write.h"

static const char insert_verdict_sql[] =
	"INSERT INTO verdicts(message, time, host, queue_id, program, kind,"
	" result, domain, score, detail, client_ip, line)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

/* ---- opendkim: a verdict and its signature on separate lines ---------- */

/* Whether the note is about the message (host, qid) of this line. */
static int sig_same(const struct pfi_sig_note *n,
                    const struct pfi_envelope *env, struct pfi_slice qid)
{
	return qid.p != NULL && pfi_slice_eq(qid, n->qid) &&
	       pfi_slice_eq(env->host, n->host);
}

static void sig_note(struct pfi_sig_note *n, const struct pfi_envelope *env,
                     struct pfi_slice qid)
{
	memset(n, 0, sizeof(*n));
	pfi_slice_copy(n->host, sizeof(n->host), env->host);
	pfi_slice_copy(n->qid, sizeof(n->qid), qid);
}

static const char set_domain_sql[] =
	"UPDATE verdicts SET domain = ?2, detail = ?3 WHERE id = ?1";

int pfi_write_verdict_detail(struct pfi_write *w,
                             const struct pfi_envelope *env,
                             const struct pfi_verdict_read *v)
{
	struct pfi_sig_note *n = &w->sig;
	sqlite3_stmt *s;

	if (sig_same(n, env, v->qid) && n->listed)
		return PFI_OK;       /* LogResults named every signature */
	if (!(n->row && sig_same(n, env, v->qid))) {
		/* the verdict may come next; of several signatures, the
		 * first named stays */
		if (sig_same(n, env, v->qid) && n->row == 0 && n->domain[0])
			return PFI_OK;
		sig_note(n, env, v->qid);
		pfi_slice_copy(n->domain, sizeof(n->domain), v->domain);
		pfi_slice_copy(n->detail, sizeof(n->detail), v->detail);
		return PFI_OK;
	}
	s = pfi_store_stmt(w->st, ST_SET_VERDICT_DOMAIN, set_domain_sql);
	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, n->row);
	pfi_bind_slice(s, 2, v->domain);
	pfi_bind_slice(s, 3, v->detail);
	n->row = 0;
	return pfi_store_step_done(w->st, s, "cannot write verdict");
}

/*
 * opendkim's summary verdict ("DKIM verification successful", "bad
 * signature data") takes the domain of the signature line after it ("s=
 * d= a= SSL").  With LogResults, a line before it gave each signature's
 * verdict already: the summary then adds none (returns 0).
 */
static int sig_verdict(struct pfi_write *w, const struct pfi_envelope *env,
                       struct pfi_verdict_read *v)
{
	struct pfi_sig_note *n = &w->sig;

	if (strcmp(v->kind, "dkim") != 0 || !pfi_slice_eq(v->program, "opendkim"))
		return 1;
	if (v->per_signature) {
		if (!sig_same(n, env, v->qid) || !n->listed)
			sig_note(n, env, v->qid);
		n->listed = 1;
		return 1;
	}
	if (sig_same(n, env, v->qid) && n->listed)
		return 0;
	if (PFI_SLICE_PRESENT(v->domain))
		return 1;
	if (sig_same(n, env, v->qid) && n->row == 0 && n->domain[0]) {
		v->domain.p = n->domain;
		v->domain.n = strlen(n->domain);
		v->detail.p = n->detail;
		v->detail.n = strlen(n->detail);
		return 1;
	}
	sig_note(n, env, v->qid);
	n->row = -1;   /* this verdict's row, once written */
	return 1;
}

int pfi_write_verdict(struct pfi_write *w, const struct pfi_envelope *env,
                      const struct pfi_verdict_read *vin, int64_t line_id,
                      int64_t msg_id, int64_t *row_id)
{
	pfi_store *st = w->st;
	struct pfi_verdict_read one = *vin, *v = &one;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_VERDICT,
	                                 insert_verdict_sql);
	int rc;

	*row_id = 0;
	if (s == NULL)
		return PFI_ERROR;
	if (!sig_verdict(w, env, v))
		return PFI_OK;
	if (msg_id > 0)
		sqlite3_bind_int64(s, 1, msg_id);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int64(s, 2, env->time);
	pfi_bind_slice(s, 3, env->host);
	pfi_bind_slice(s, 4, v->qid);
	pfi_bind_slice(s, 5, v->program);
	pfi_bind_str(s, 6, v->kind);
	pfi_bind_str(s, 7, v->result);
	pfi_bind_slice(s, 8, v->domain);
	if (v->has_score)
		sqlite3_bind_double(s, 9, v->score);
	else
		sqlite3_bind_null(s, 9);
	pfi_bind_slice(s, 10, v->detail);
	pfi_bind_slice(s, 11, v->client_ip);
	sqlite3_bind_int64(s, 12, line_id);
	rc = pfi_store_step_done(st, s, "cannot write verdict");
	*row_id = sqlite3_last_insert_rowid(st->db);
	if (w->sig.row == -1)
		w->sig.row = v->qid.p ? *row_id : 0;
	return rc;
}

static const char join_verdict_sql[] =
	"UPDATE verdicts SET message = ?2 WHERE id = ?1";

int pfi_write_verdict_joined(struct pfi_write *w, int64_t verdict_id,
                             int64_t msg_id)
{
	sqlite3_stmt *s = pfi_store_stmt(w->st, ST_JOIN_VERDICT, join_verdict_sql);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, verdict_id);
	sqlite3_bind_int64(s, 2, msg_id);
	return pfi_store_step_done(w->st, s, "cannot join verdict");
}

static const char reject_verdict_sql[] =
	"UPDATE verdicts SET reject_line = ?2 WHERE id = ?1";

int pfi_write_verdict_rejected(struct pfi_write *w, int64_t verdict_id,
                               int64_t line_id)
{
	sqlite3_stmt *s = pfi_store_stmt(w->st, ST_REJECT_VERDICT,
	                                 reject_verdict_sql);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, verdict_id);
	sqlite3_bind_int64(s, 2, line_id);
	return pfi_store_step_done(w->st, s, "cannot join verdict");
}

/* The verdicts of the last run's final minute still without a message
 * (SPF checks, lines before their message's first): the message may come
 * in the first lines of this run. */
int pfi_load_held_verdicts(pfi_store *st, struct pfi_corr *c)
{
	sqlite3_stmt *s;
	int rc = PFI_OK, step;

	if (st->schema < 5)
		return PFI_OK;
	if (sqlite3_prepare_v2(st->db, "SELECT id, line, time, host,"
	    " coalesce(client_ip, ''), program, queue_id FROM verdicts"
	    " WHERE message IS NULL AND reject_line IS NULL"
	    " AND time >= (SELECT max(time) FROM verdicts) - ?1"
	    " AND (client_ip IS NOT NULL OR queue_id IS NOT NULL)"
	    " ORDER BY time, id", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read verdicts");
	sqlite3_bind_int64(s, 1, PFI_VERDICT_HOLD_US);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = pfi_corr_hold_verdict(c, pfi_col_text(s, 3),
		                           pfi_col_text(s, 6), pfi_col_text(s, 4),
		                           pfi_col_text(s, 5), NULL,
		                           sqlite3_column_int64(s, 2),
		                           sqlite3_column_int64(s, 1),
		                           sqlite3_column_int64(s, 0));
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read verdicts");
	sqlite3_finalize(s);
	if (rc == PFI_ENOMEM)
		pfi_err_set(&st->err, rc, "out of memory");
	return rc;
}
