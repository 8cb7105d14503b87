/*
 * write-messages.c - the rows of a message: written (its row, its line
 * list, a row per recipient, its links) each time the correlator hands it
 * over, and read back into the correlator when a run left it open.  The
 * INSERT of each table sits beside its reload, so a new column is added
 * in one place here (and in store-schema.c and the readers that show
 * it).  NOQUEUE rejects, failed logins and problem lines are rows too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "write.h"

/* ---- a message's row ------------------------------------------------------------------ */

static const char put_message_lines_sql[] =
	"INSERT OR REPLACE INTO message_lines(message, first_line, lines)"
	" VALUES (?1, ?3, ?2)";

static int put_message_lines(struct pfi_write *w, const struct pfi_msg *m)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_PUT_MESSAGE_LINES,
	                                 put_message_lines_sql);

	if (s == NULL)
		return PFI_ERROR;
	if (pfi_ids_encode(m->lines, m->nlines, &w->scratch) != PFI_OK)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	sqlite3_bind_int64(s, 1, m->id);
	sqlite3_bind_blob(s, 2, w->scratch.data ? w->scratch.data : "",
	                  (int)w->scratch.len, SQLITE_STATIC);
	if (m->nlines)
		sqlite3_bind_int64(s, 3, m->lines[0]);
	return pfi_store_step_done(st, s, "cannot write message");
}

static const char insert_message_sql[] =
	/* An upsert, not a replace: a rewrite keeps parent/relation. */
	"INSERT INTO messages(id, host, queue_id, open, flags,"
	" first, last, received, removed, message_id, sender, size, nrcpt,"
	" client, client_ip, sasl_method, sasl_username, subject,"
	" tls_protocol, tls_cipher, origin, orig_queue_id, parent, relation)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	" ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"
	" ON CONFLICT(id) DO UPDATE SET open = ?4, flags = ?5, first = ?6,"
	" last = ?7, received = ?8, removed = ?9, message_id = ?10,"
	" sender = ?11, size = ?12, nrcpt = ?13, client = ?14,"
	" client_ip = ?15, sasl_method = ?16, sasl_username = ?17,"
	" subject = ?18, tls_protocol = ?19, tls_cipher = ?20, origin = ?21,"
	" orig_queue_id = ?22,"
	/* the first parent found stays (see pfi_write_links) */
	" relation = CASE WHEN parent IS NULL THEN ?24 ELSE relation END,"
	" parent = coalesce(parent, ?23)";

/* ...and its reload, when a run left it open. */
static const char load_open_sql[] =
	"SELECT id, host, queue_id, flags, first, last, received, message_id,"
	" sender, size, nrcpt, client, client_ip, sasl_method, sasl_username,"
	" subject, tls_protocol, tls_cipher, origin, orig_queue_id,"
	" (SELECT lines FROM message_lines WHERE message = messages.id),"
	" removed FROM messages WHERE open = 1";

static int put_message_row(struct pfi_write *w, const struct pfi_msg *m,
                           int open)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_MESSAGE,
	                                 insert_message_sql);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, m->id);
	pfi_bind_str(s, 2, m->host);
	pfi_bind_str(s, 3, m->qid);
	sqlite3_bind_int(s, 4, open);
	sqlite3_bind_int64(s, 5, m->flags &
	                   ~(unsigned)(PFI_MSG_DIRTY | PFI_MSG_STORED));
	pfi_bind_time(s, 6, m->first);
	pfi_bind_time(s, 7, m->last);
	pfi_bind_time(s, 8, m->received);
	pfi_bind_time(s, 9, m->removed);
	pfi_bind_str(s, 10, m->message_id);
	pfi_bind_str(s, 11, m->sender);
	pfi_bind_int(s, 12, m->size);
	pfi_bind_int(s, 13, m->nrcpt);
	pfi_bind_str(s, 14, m->client);
	pfi_bind_str(s, 15, m->client_ip);
	pfi_bind_str(s, 16, m->sasl_method);
	pfi_bind_str(s, 17, m->sasl_username);
	pfi_bind_str(s, 18, m->subject);
	pfi_bind_str(s, 19, m->tls_protocol);
	pfi_bind_str(s, 20, m->tls_cipher);
	pfi_bind_str(s, 21, m->origin);
	pfi_bind_str(s, 22, m->orig_qid);
	if (m->parent > 0) {
		sqlite3_bind_int64(s, 23, m->parent);
		pfi_bind_str(s, 24, pfi_link_relation(m->parent_rel, 0));
	}
	if (pfi_store_step_done(st, s, "cannot write message") != PFI_OK)
		return PFI_ERROR;
	return put_message_lines(w, m);
}

static void load_message_fields(struct pfi_msg *m, sqlite3_stmt *s)
{
	m->flags = (unsigned)sqlite3_column_int64(s, 3);
	m->first = pfi_col_time(s, 4);
	m->last = pfi_col_time(s, 5);
	m->received = pfi_col_time(s, 6);
	m->message_id = pfi_col_dup(s, 7);
	m->sender = pfi_col_dup(s, 8);
	m->size = pfi_col_int(s, 9, -1);
	m->nrcpt = pfi_col_int(s, 10, -1);
	m->client = pfi_col_dup(s, 11);
	m->client_ip = pfi_col_dup(s, 12);
	m->sasl_method = pfi_col_dup(s, 13);
	m->sasl_username = pfi_col_dup(s, 14);
	m->subject = pfi_col_dup(s, 15);
	m->tls_protocol = pfi_col_dup(s, 16);
	m->tls_cipher = pfi_col_dup(s, 17);
	m->origin = pfi_col_dup(s, 18);
	m->orig_qid = pfi_col_dup(s, 19);
	/* column 20 is the line ids; an open message has left the queue
	 * only when requeued and not yet picked up again. */
	m->removed = pfi_col_time(s, 21);
}

/* ---- recipient rows --------------------------------------------------------------------- */

/* Keeps the lowest row id a run wrote: a rewrite deletes rows and the
 * new ones may reuse their ids, below the highest id the run began with. */
static void keep_lowest(int64_t *lowest, int64_t id)
{
	if (id < *lowest)
		*lowest = id;
}

static const char insert_delivery_sql[] =
	"INSERT INTO deliveries(message, host, queue_id, time, recipient,"
	" orig_to, domain, status, dsn, relay, delay, d_before, d_in,"
	" d_conn, d_xmit, attempts, response, child_qid, stage, code,"
	" client, client_ip, helo, sender, line, final, tls_protocol)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	" ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26,"
	" ?27)";

static const char load_deliveries_sql[] =
	"SELECT id, recipient, orig_to, status, dsn, relay, delay, d_before,"
	" d_in, d_conn, d_xmit, attempts, response, child_qid, stage, code,"
	" time, final, tls_protocol FROM deliveries WHERE message = ?1"
	" ORDER BY id";

static int put_delivery(struct pfi_write *w, const struct pfi_msg *m,
                        const struct pfi_rcpt *r, int open, int64_t *row)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_DELIVERY,
	                                 insert_delivery_sql);
	char dom[256];
	int rc;

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, m->id);
	pfi_bind_str(s, 2, m->host);
	pfi_bind_str(s, 3, m->qid);
	sqlite3_bind_int64(s, 4, r->time ? r->time : m->last);
	pfi_bind_str(s, 5, r->to);
	pfi_bind_str(s, 6, r->orig_to);
	pfi_bind_str(s, 7, pfi_addr_domain(r->to, dom, sizeof(dom)));
	pfi_bind_str(s, 8, pfi_rcpt_outcome(m, r, open));
	pfi_bind_str(s, 9, r->dsn);
	pfi_bind_str(s, 10, r->relay);
	pfi_bind_num(s, 11, r->delay);
	pfi_bind_num(s, 12, r->delays[0]);
	pfi_bind_num(s, 13, r->delays[1]);
	pfi_bind_num(s, 14, r->delays[2]);
	pfi_bind_num(s, 15, r->delays[3]);
	sqlite3_bind_int(s, 16, r->attempts);
	pfi_bind_str(s, 17, r->response);
	pfi_bind_str(s, 18, r->child_qid);
	pfi_bind_str(s, 19, r->stage);
	pfi_bind_str(s, 20, r->code);
	sqlite3_bind_int(s, 26, r->final);
	pfi_bind_str(s, 27, r->tls_protocol);
	rc = pfi_store_step_done(st, s, "cannot write delivery");
	*row = sqlite3_last_insert_rowid(st->db);
	keep_lowest(&w->first_new_row, *row);
	return rc;
}

/* A recipient row back into the message; rows[] maps ids to indexes. */
static int load_rcpt(struct pfi_msg *m, sqlite3_stmt *s)
{
	const char *to = (const char *)sqlite3_column_text(s, 1);
	const char *orig = (const char *)sqlite3_column_text(s, 2);
	const char *status = (const char *)sqlite3_column_text(s, 3);
	struct pfi_rcpt *r = pfi_msg_add_rcpt(m, to ? to : "", orig);
	int final;

	if (r == NULL)
		return PFI_ENOMEM;
	/* A status that is not final was derived from the message's flags,
	 * which are restored with it and will derive it again. */
	final = sqlite3_column_int(s, 17) && status != NULL;
	r->status = final ? strdup(status) : NULL;
	r->final = final;
	r->dsn = pfi_col_dup(s, 4);
	r->relay = pfi_col_dup(s, 5);
	r->delay = pfi_col_real(s, 6);
	r->delays[0] = pfi_col_real(s, 7);
	r->delays[1] = pfi_col_real(s, 8);
	r->delays[2] = pfi_col_real(s, 9);
	r->delays[3] = pfi_col_real(s, 10);
	r->attempts = sqlite3_column_int(s, 11);
	r->response = pfi_col_dup(s, 12);
	r->child_qid = pfi_col_dup(s, 13);
	r->stage = pfi_col_dup(s, 14);
	r->code = pfi_col_dup(s, 15);
	/* Only an outcome (final, or deferred: counted in attempts) has a
	 * time of its own; without one the row got the message's last line,
	 * which later lines move on. */
	r->time = (final || r->attempts) ? pfi_col_time(s, 16) : 0;
	r->tls_protocol = pfi_col_dup(s, 18);
	return PFI_OK;
}

/* ---- links ------------------------------------------------------------------------------- */

static const char insert_link_sql[] =
	"INSERT INTO links(parent, qid, hint, kind, time, delivery, other,"
	" relation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

static const char load_links_sql[] =
	"SELECT qid, hint, kind, time, delivery FROM links WHERE parent = ?1"
	" ORDER BY id";

static int put_link(struct pfi_write *w, const struct pfi_msg *m,
                    const struct pfi_mlink *l, int64_t delivery)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_LINK, insert_link_sql);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, m->id);
	pfi_bind_str(s, 2, l->qid);
	pfi_bind_str(s, 3, l->hint);
	sqlite3_bind_int(s, 4, l->relation);
	sqlite3_bind_int64(s, 5, l->time);
	pfi_bind_int(s, 6, delivery > 0 ? delivery : -1);
	/* Found open on the same host (correlate.c): never a relay. */
	if (l->other > 0) {
		sqlite3_bind_int64(s, 7, l->other);
		pfi_bind_str(s, 8, pfi_link_relation(l->relation, 0));
	}
	if (pfi_store_step_done(st, s, "cannot write link") != PFI_OK)
		return PFI_ERROR;
	keep_lowest(&w->first_new_link, sqlite3_last_insert_rowid(st->db));
	return PFI_OK;
}

/* ---- a whole message ---------------------------------------------------------------------- */

static const char delete_deliveries_sql[] =
	"DELETE FROM deliveries WHERE message = ?1";

static const char delete_links_sql[] =
	"DELETE FROM links WHERE parent = ?1";

static int delete_children(struct pfi_write *w, int64_t id)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_DELETE_DELIVERIES,
	                                 delete_deliveries_sql);
	int rc;

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	rc = pfi_store_step_done(st, s, "cannot rewrite message");
	if (rc != PFI_OK || (s = pfi_store_stmt(st, ST_DELETE_LINKS,
	                                        delete_links_sql)) == NULL)
		return rc != PFI_OK ? rc : PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return pfi_store_step_done(st, s, "cannot rewrite message");
}

int pfi_write_message(struct pfi_write *w, const struct pfi_msg *m, int open)
{
	int64_t *rows = NULL;
	size_t i;
	/* Only a message stored before (open) has rows to replace. */
	int stored = (m->flags & PFI_MSG_STORED) != 0;
	int rc = pfi_write_touch(w, m->id);

	if (rc == PFI_OK)
		rc = put_message_row(w, m, open);
	if (rc == PFI_OK && stored)
		rc = delete_children(w, m->id);
	if (rc == PFI_OK && m->nrcpts &&
	    (rows = calloc(m->nrcpts, sizeof(*rows))) == NULL)
		rc = pfi_err_set(&w->st->err, PFI_ENOMEM, "out of memory");
	for (i = 0; rc == PFI_OK && i < m->nrcpts; i++)
		rc = put_delivery(w, m, &m->rcpts[i], open, &rows[i]);
	for (i = 0; rc == PFI_OK && i < m->nlinks; i++) {
		size_t r = m->links[i].rcpt;
		rc = put_link(w, m, &m->links[i], r < m->nrcpts ? rows[r] : -1);
	}
	free(rows);
	return rc;
}

/* ---- reloading the messages a run left open ------------------------------------- */

/* The statements that reload open messages, prepared once per run: at
 * the cap on open messages a reload must stay well under a second. */
struct open_loader {
	pfi_store *st;
	struct pfi_corr *c;
	sqlite3_stmt *rcpts;   /* deliveries of message ?1 */
	sqlite3_stmt *links;   /* links from message ?1 */
};

static int load_rcpts(struct open_loader *ld, struct pfi_msg *m, int64_t **ids)
{
	sqlite3_stmt *s = ld->rcpts;
	int rc = PFI_OK, step = SQLITE_DONE;

	sqlite3_bind_int64(s, 1, m->id);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t *p = realloc(*ids, (m->nrcpts + 1) * sizeof(**ids));
		if (p == NULL) {
			rc = PFI_ENOMEM;
			break;
		}
		*ids = p;
		p[m->nrcpts] = sqlite3_column_int64(s, 0);
		rc = load_rcpt(m, s);
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(ld->st, PFI_ERROR, "cannot read open messages");
	sqlite3_reset(s);
	return rc;
}

static int load_links(struct open_loader *ld, struct pfi_msg *m,
                      const int64_t *ids)
{
	sqlite3_stmt *s = ld->links;
	int rc = PFI_OK, step = SQLITE_DONE;

	sqlite3_bind_int64(s, 1, m->id);
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t d = pfi_col_time(s, 4);
		size_t i, at = SIZE_MAX;
		for (i = 0; d && i < m->nrcpts; i++)
			if (ids[i] == d)
				at = i;
		if (at != SIZE_MAX)
			m->rcpts[at].relation = sqlite3_column_int(s, 2);
		rc = pfi_msg_add_link(m, (const char *)sqlite3_column_text(s, 0),
		                      (const char *)sqlite3_column_text(s, 1),
		                      sqlite3_column_int(s, 2),
		                      sqlite3_column_int64(s, 3), at);
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(ld->st, PFI_ERROR, "cannot read open messages");
	sqlite3_reset(s);
	return rc;
}

static int load_one(struct open_loader *ld, sqlite3_stmt *s)
{
	struct pfi_msg *m = pfi_msg_new(sqlite3_column_int64(s, 0),
	                                (const char *)sqlite3_column_text(s, 1),
	                                (const char *)sqlite3_column_text(s, 2));
	int64_t *ids = NULL;
	int rc;

	if (m == NULL)
		return PFI_ENOMEM;
	load_message_fields(m, s);
	rc = pfi_ids_decode(sqlite3_column_blob(s, 20),
	                    (size_t)sqlite3_column_bytes(s, 20), &m->lines,
	                    &m->nlines);
	m->lncap = m->nlines;
	if (rc == PFI_OK)
		rc = load_rcpts(ld, m, &ids);
	if (rc == PFI_OK)
		rc = load_links(ld, m, ids);
	free(ids);
	if (rc == PFI_OK)
		rc = pfi_corr_adopt(ld->c, m);
	if (rc != PFI_OK)
		pfi_msg_free(m);
	return rc;
}

static int open_loader_prepare(struct open_loader *ld)
{
	if (sqlite3_prepare_v2(ld->st->db, load_deliveries_sql, -1, &ld->rcpts,
	                       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ld->st->db, load_links_sql, -1, &ld->links,
	                       NULL) != SQLITE_OK)
		return pfi_store_dberr(ld->st, PFI_ERROR,
		                       "cannot read open messages");
	return PFI_OK;
}

int pfi_load_open(pfi_store *st, struct pfi_corr *c)
{
	struct open_loader ld = { st, c, NULL, NULL };
	sqlite3_stmt *s = NULL;
	int rc = open_loader_prepare(&ld), step = SQLITE_DONE;

	if (rc == PFI_OK && sqlite3_prepare_v2(st->db, load_open_sql, -1, &s,
	                                       NULL) != SQLITE_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read open messages");
	/* A failed step is no end of rows: the messages not loaded would be
	 * begun anew by their next lines. */
	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = load_one(&ld, s);
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read open messages");
	sqlite3_finalize(s);
	sqlite3_finalize(ld.rcpts);
	sqlite3_finalize(ld.links);
	if (rc == PFI_ENOMEM)
		pfi_err_set(&st->err, rc, "out of memory");
	return rc;
}

/* ---- rows without a message ------------------------------------------------------------- */

int pfi_write_reject(struct pfi_write *w, const struct pfi_envelope *env,
                     const struct pfi_event *ev, int64_t line_id)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_DELIVERY,
	                                 insert_delivery_sql);
	char dom[256], to[512];
	size_t n = ev->to.n < sizeof(to) - 1 ? ev->to.n : sizeof(to) - 1;

	if (s == NULL)
		return PFI_ERROR;
	memcpy(to, ev->to.p ? ev->to.p : "", ev->to.p ? n : 0);
	to[ev->to.p ? n : 0] = '\0';
	pfi_bind_slice(s, 2, env->host);
	sqlite3_bind_int64(s, 4, env->time);
	pfi_bind_slice(s, 5, ev->to);
	pfi_bind_str(s, 7, ev->to.p ? pfi_addr_domain(to, dom, sizeof(dom)) : NULL);
	pfi_bind_str(s, 8, "rejected");
	pfi_bind_slice(s, 9, ev->dsn);
	sqlite3_bind_int(s, 16, 0);
	pfi_bind_slice(s, 17, ev->reason);
	pfi_bind_slice(s, 19, ev->stage);
	pfi_bind_slice(s, 20, ev->code);
	pfi_bind_slice(s, 21, ev->client_name);
	pfi_bind_slice(s, 22, ev->client_ip);
	pfi_bind_slice(s, 23, ev->helo);
	pfi_bind_slice(s, 24, ev->from);
	sqlite3_bind_int64(s, 25, line_id);
	sqlite3_bind_int(s, 26, 1);
	if (pfi_store_step_done(st, s, "cannot write reject") != PFI_OK)
		return PFI_ERROR;
	keep_lowest(&w->first_new_row, sqlite3_last_insert_rowid(st->db));
	return PFI_OK;
}

static const char insert_sasl_failure_sql[] =
	"INSERT INTO sasl_failures(time, host, client, client_ip, method,"
	" username) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int pfi_write_sasl_failure(struct pfi_write *w,
                           const struct pfi_envelope *env,
                           const struct pfi_event *ev)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_SASL_FAILURE,
	                                 insert_sasl_failure_sql);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, env->time);
	pfi_bind_slice(s, 2, env->host);
	pfi_bind_slice(s, 3, ev->client_name);
	pfi_bind_slice(s, 4, ev->client_ip);
	pfi_bind_slice(s, 5, ev->sasl_method);
	pfi_bind_slice(s, 6, ev->sasl_username);
	return pfi_store_step_done(st, s, "cannot write login failure");
}

static const char insert_problem_sql[] =
	"INSERT INTO problems(time, host, program, level, kind, line)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

int pfi_write_problem(struct pfi_write *w, const struct pfi_envelope *env,
                      const char *level, const char *kind, int64_t line_id)
{
	pfi_store *st = w->st;
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_PROBLEM,
	                                 insert_problem_sql);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, env->time);
	pfi_bind_slice(s, 2, env->host);
	pfi_bind_slice(s, 3, env->program);
	sqlite3_bind_text(s, 4, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, line_id);
	return pfi_store_step_done(st, s, "cannot write problem line");
}
