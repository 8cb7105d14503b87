/*
 * write-merge.c - a message whose beginning is indexed after its end.
 *
 * Inputs read in separate runs need not come in time order: the later of
 * two overlapping exports first, an older rotation after the newer one.
 * Then a run may write the beginning of a message (smtpd, cleanup, the
 * first attempts) that an earlier run already wrote the rest of, as a
 * message with no beginning (no origin: its first line was qmgr's or a
 * delivery's).  Postfix does not reuse a queue ID while its queue file
 * exists, so the message the new run leaves open, and the next message
 * with its queue ID on its host if that one has no beginning and follows
 * within a queue lifetime, are one message: the new run's rows are
 * folded into the stored one, as if the lines had come in order.
 *
 * Folding: the stored message takes the beginning's first time and the
 * fields only the beginning logs (client, Message-ID ...); a recipient's
 * attempts before are added to its later row, which stays; the rest of
 * the beginning's rows, lines, verdicts and links move over.
 */
#include <stdlib.h>

#include "write.h"

/* Postfix's maximal_queue_lifetime is 5 days by default; a message
 * deferred longer is rare, and a day more allows for bounce_queue_lifetime
 * and a late queue run. */
#define FOLLOW_US INT64_C(6 * 86400 * 1000000)

/* The run's open messages (?1 = its first message id) and the stored
 * message that continues each: the next with its host and queue ID, if it
 * has no beginning and starts within FOLLOW_US of the open one's end. */
static const char pairs_sql[] =
	"SELECT e.id, l.id FROM messages e"
	" JOIN messages l ON l.id = (SELECT n.id FROM messages n"
	"  WHERE n.queue_id = e.queue_id AND n.host = e.host AND n.id < ?1"
	"  AND n.first >= e.last ORDER BY n.first, n.id LIMIT 1)"
	" WHERE e.id >= ?1 AND e.open = 1 AND l.origin IS NULL"
	" AND l.first - e.last <= ?2";

#define HELD "4"     /* PFI_MSG_HELD: the later state says */

/* Folds message ?1 (the beginning) into ?2 (the rest), in order. */
static const char *const fold_sql[] = {
	"UPDATE messages AS l SET first = min(l.first, e.first),"
	" received = coalesce(e.received, l.received),"
	" flags = ((e.flags | l.flags) & ~" HELD ") | (l.flags & " HELD "),"
	" message_id = coalesce(e.message_id, l.message_id),"
	" sender = coalesce(e.sender, l.sender),"
	" size = coalesce(e.size, l.size), nrcpt = coalesce(e.nrcpt, l.nrcpt),"
	" client = coalesce(e.client, l.client),"
	" client_ip = coalesce(e.client_ip, l.client_ip),"
	" sasl_method = coalesce(e.sasl_method, l.sasl_method),"
	" sasl_username = coalesce(e.sasl_username, l.sasl_username),"
	" subject = coalesce(e.subject, l.subject),"
	" tls_protocol = coalesce(e.tls_protocol, l.tls_protocol),"
	" tls_cipher = coalesce(e.tls_cipher, l.tls_cipher),"
	" origin = e.origin, orig_queue_id = coalesce(e.orig_queue_id,"
	" l.orig_queue_id), parent = coalesce(l.parent, e.parent),"
	" relation = CASE WHEN l.parent IS NULL THEN e.relation"
	" ELSE l.relation END"
	" FROM messages e WHERE e.id = ?1 AND l.id = ?2",
	/* A recipient tried before: its attempts count on its later row. */
	"UPDATE deliveries AS l SET attempts = l.attempts + e.attempts"
	" FROM deliveries e WHERE e.message = ?1 AND l.message = ?2"
	" AND l.recipient IS e.recipient AND l.orig_to IS e.orig_to"
	" AND l.time >= e.time",
	"DELETE FROM deliveries WHERE message = ?1 AND EXISTS (SELECT 1"
	" FROM deliveries l WHERE l.message = ?2 AND l.recipient IS"
	" deliveries.recipient AND l.orig_to IS deliveries.orig_to"
	" AND l.time >= deliveries.time)",
	"UPDATE deliveries SET message = ?2 WHERE message = ?1",
	"UPDATE late_lines SET message = ?2 WHERE message = ?1",
	"UPDATE verdicts SET message = ?2 WHERE message = ?1",
	"UPDATE links SET parent = ?2 WHERE parent = ?1",
	"UPDATE links SET other = ?2 WHERE other = ?1",
	"UPDATE messages SET parent = ?2 WHERE parent = ?1",
	"UPDATE sessions SET last_id = ?2 WHERE last_id = ?1",
	"DELETE FROM message_lines WHERE message = ?1",
	"DELETE FROM messages WHERE id = ?1",
};
#define NFOLD (sizeof(fold_sql) / sizeof(*fold_sql))

static const char lines_sql[] =
	"SELECT lines FROM message_lines WHERE message = ?1";
static const char late_sql[] =
	"INSERT INTO late_lines(message, line) VALUES (?2, ?1)";

/* The beginning's lines join the rest as lines that came late. */
static int move_lines(pfi_store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *q = NULL, *ins = NULL;
	int64_t *ids = NULL;
	size_t i, n = 0;
	int rc = pfi_store_prepare(st, lines_sql, &q);

	if (rc == PFI_OK)
		rc = pfi_store_prepare(st, late_sql, &ins);
	if (rc == PFI_OK) {
		sqlite3_bind_int64(q, 1, from);
		if (sqlite3_step(q) == SQLITE_ROW)
			rc = pfi_ids_decode(sqlite3_column_blob(q, 0),
			                    (size_t)sqlite3_column_bytes(q, 0),
			                    &ids, &n);
		if (rc == PFI_ENOMEM)
			rc = pfi_err_set(&st->err, rc, "out of memory");
		else if (rc != PFI_OK)
			rc = pfi_err_set(&st->err, PFI_ESCHEMA, "damaged line list"
			                 " in index");
	}
	sqlite3_bind_int64(ins, 2, to);
	for (i = 0; i < n && rc == PFI_OK; i++) {
		sqlite3_bind_int64(ins, 1, ids[i]);
		rc = pfi_store_step_done(st, ins, "cannot link line");
	}
	free(ids);
	sqlite3_finalize(q);
	sqlite3_finalize(ins);
	return rc;
}

static int fold(struct pfi_write *w, sqlite3_stmt *const *s, int64_t from,
                int64_t to)
{
	size_t i;
	int rc = move_lines(w->st, from, to);

	for (i = 0; i < NFOLD && rc == PFI_OK; i++) {
		sqlite3_bind_int64(s[i], 1, from);
		if (sqlite3_bind_parameter_count(s[i]) > 1)
			sqlite3_bind_int64(s[i], 2, to);
		rc = pfi_store_step_done(w->st, s[i], "cannot join a message");
	}
	return rc == PFI_OK ? pfi_write_touch(w, to) : rc;
}

/* The (beginning, rest) pairs, as an array of 2 * *n ids (malloc'd). */
static int find_pairs(pfi_store *st, int64_t since_msg, int64_t **out,
                      size_t *n)
{
	sqlite3_stmt *q = NULL;
	size_t cap = 0;
	int step = SQLITE_DONE, rc = pfi_store_prepare(st, pairs_sql, &q);

	*out = NULL;
	*n = 0;
	if (rc == PFI_OK) {
		sqlite3_bind_int64(q, 1, since_msg);
		sqlite3_bind_int64(q, 2, FOLLOW_US);
	}
	while (rc == PFI_OK && (step = sqlite3_step(q)) == SQLITE_ROW) {
		if (pfi_array_reserve((void **)out, &cap, 2 * *n,
		                      sizeof(**out), 16) != PFI_OK) {
			rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
			break;
		}
		(*out)[2 * *n] = sqlite3_column_int64(q, 0);
		(*out)[2 * *n + 1] = sqlite3_column_int64(q, 1);
		++*n;
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	sqlite3_finalize(q);
	return rc;
}

int pfi_write_join_beginnings(struct pfi_write *w, int64_t since_msg,
                              size_t *joined)
{
	sqlite3_stmt *s[NFOLD] = { NULL };
	int64_t *pairs;
	size_t i, n;
	int rc = find_pairs(w->st, since_msg, &pairs, &n);

	*joined = 0;
	for (i = 0; i < NFOLD && rc == PFI_OK && n > 0; i++)
		rc = pfi_store_prepare(w->st, fold_sql[i], &s[i]);
	for (i = 0; i < n && rc == PFI_OK; i++)
		rc = fold(w, s, pairs[2 * i], pairs[2 * i + 1]);
	if (rc == PFI_OK)
		*joined = n;
	for (i = 0; i < NFOLD; i++)
		sqlite3_finalize(s[i]);
	free(pairs);
	return rc;
}
