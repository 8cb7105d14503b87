/*
 * write-sessions.c - the correlator's live sessions between runs.
 *
 * A run that ends inside an smtpd session (after its TLS line, before the
 * message's "QID: client=") must hand the session to the next run, or the
 * message loses what the session carries.  Each checkpoint replaces the
 * rows of the sessions table with the sessions live then; the next run
 * loads them back into its correlator next to the open messages.
 */
#include <stdlib.h>
#include <string.h>

#include "write.h"

/* ---- pending actions as one blob -------------------------------------------------- */

/*
 * Each action is "action" or "action\tto" ended by a NUL.  Actions are
 * words ([a-z_-]), so the first tab ends one, and no string holds a NUL.
 */
static int pending_encode(const struct pfi_pending *p, size_t n,
                          struct pfi_buf *out)
{
	size_t i;
	int rc = PFI_OK;

	pfi_buf_reset(out);
	for (i = 0; i < n && rc == PFI_OK; i++) {
		rc = pfi_buf_appends(out, p[i].action);
		if (rc == PFI_OK && p[i].to)
			rc = pfi_buf_appendc(out, '\t');
		if (rc == PFI_OK && p[i].to)
			rc = pfi_buf_appends(out, p[i].to);
		if (rc == PFI_OK)
			rc = pfi_buf_appendc(out, '\0');
	}
	return rc;
}

/* The actions of a blob, pointing into *text (a copy of it); both
 * malloc'd.  A last action without its NUL still counts. */
static int pending_decode(const void *data, size_t size, char **text,
                          struct pfi_pending **out, size_t *n)
{
	char *p, *end;
	size_t count = 0, len;

	*text = NULL;
	*out = NULL;
	*n = 0;
	if (size == 0)
		return PFI_OK;
	if ((*text = malloc(size + 1)) == NULL)
		return PFI_ENOMEM;
	memcpy(*text, data, size);
	(*text)[size] = '\0';
	end = *text + size;
	for (p = *text; p < end; p += strlen(p) + 1)
		count++;
	if ((*out = calloc(count, sizeof(**out))) == NULL)
		return PFI_ENOMEM;
	/* Lengths are taken before the tabs are cut. */
	for (p = *text; p < end; p += len + 1) {
		struct pfi_pending *a = &(*out)[(*n)++];
		char *tab;

		len = strlen(p);
		tab = memchr(p, '\t', len);
		a->action = p;
		a->to = tab ? tab + 1 : NULL;
		if (tab)
			*tab = '\0';
	}
	return PFI_OK;
}

/* ---- saving ------------------------------------------------------------------------- */

int pfi_write_clear_sessions(struct pfi_write *w)
{
	return pfi_store_exec(w->st, "DELETE FROM sessions");
}

/* Binds a blob of `b`, NULL when empty. */
static void bind_blob(sqlite3_stmt *s, int i, const struct pfi_buf *b)
{
	if (b->len)
		sqlite3_bind_blob(s, i, b->data, (int)b->len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

static const char insert_session_sql[] =
	"INSERT INTO sessions(host, program, pid, seen, client, client_ip,"
	" tls_protocol, tls_cipher, tls_relay, last_qid, last_id, pending,"
	" lines) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
	" ?13)";

int pfi_write_session(struct pfi_write *w, const struct pfi_session_rec *r)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_SESSION,
	                                 insert_session_sql);

	if (s == NULL)
		return PFI_ERROR;
	pfi_bind_str(s, 1, r->host);
	pfi_bind_str(s, 2, r->program);
	sqlite3_bind_int64(s, 3, r->pid);
	sqlite3_bind_int64(s, 4, r->seen);
	pfi_bind_str(s, 5, r->client);
	pfi_bind_str(s, 6, r->client_ip);
	pfi_bind_str(s, 7, r->tls_protocol);
	pfi_bind_str(s, 8, r->tls_cipher);
	pfi_bind_str(s, 9, r->tls_relay);
	pfi_bind_str(s, 10, r->last_qid);
	pfi_bind_time(s, 11, r->last_id);
	/* The scratch buffer holds one encoding at a time: bound as copies. */
	if (pending_encode(r->pend, r->npend, &w->scratch) != PFI_OK)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	bind_blob(s, 12, &w->scratch);
	if (pfi_ids_encode(r->lines, r->nlines, &w->scratch) != PFI_OK)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	bind_blob(s, 13, &w->scratch);
	return pfi_store_step_done(st, s, "cannot save session");
}

/* ---- loading ------------------------------------------------------------------------ */

/* One row back into the correlator. */
static int load_session(struct pfi_corr *c, sqlite3_stmt *s)
{
	struct pfi_session_rec r;
	struct pfi_pending *pend = NULL;
	int64_t *lines = NULL;
	char *text = NULL;
	int rc;

	memset(&r, 0, sizeof(r));
	r.host = pfi_col_text(s, 0);
	r.program = pfi_col_text(s, 1);
	r.pid = (long)sqlite3_column_int64(s, 2);
	r.seen = sqlite3_column_int64(s, 3);
	r.client = pfi_col_text(s, 4);
	r.client_ip = pfi_col_text(s, 5);
	r.tls_protocol = pfi_col_text(s, 6);
	r.tls_cipher = pfi_col_text(s, 7);
	r.tls_relay = pfi_col_text(s, 8);
	r.last_qid = pfi_col_text(s, 9);
	r.last_id = sqlite3_column_int64(s, 10);
	rc = pending_decode(sqlite3_column_blob(s, 11),
	                    (size_t)sqlite3_column_bytes(s, 11), &text, &pend,
	                    &r.npend);
	if (rc == PFI_OK)
		rc = pfi_ids_decode(sqlite3_column_blob(s, 12),
		                    (size_t)sqlite3_column_bytes(s, 12), &lines,
		                    &r.nlines);
	r.pend = pend;
	r.lines = lines;
	if (rc == PFI_OK)
		rc = pfi_corr_restore_session(c, &r);
	free(text);
	free(pend);
	free(lines);
	return rc;
}

int pfi_load_sessions(pfi_store *st, struct pfi_corr *c)
{
	sqlite3_stmt *s;
	int rc = PFI_OK, step = SQLITE_ROW;

	if (sqlite3_prepare_v2(st->db, "SELECT host, program, pid, seen, client,"
	    " client_ip, tls_protocol, tls_cipher, tls_relay, last_qid, last_id,"
	    " pending, lines FROM sessions", -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read sessions");
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = load_session(c, s);
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read sessions");
	sqlite3_finalize(s);
	if (rc == PFI_ENOMEM)
		pfi_err_set(&st->err, rc, "out of memory");
	return rc;
}
