/*
 * write-links.c - resolving links between messages after a run.
 *
 * A link says "this message's recipient was queued as QID" (a content
 * filter re-injection on the same host, or a relay to another indexed
 * host), "forwarded as", "notification QID", or (pickup's orig_id=)
 * "this message is QID requeued by postsuper -r".  Its other side is the
 * message with that queue ID on the same host (or, queued as, on the
 * relay's host) nearest in time within a day, as short queue IDs are
 * reused.  One query lists the candidates of every link that may have
 * found its other side in this run; the best candidate of each link is
 * chosen here, and the link, the child's parent (the other message's; a
 * requeue's is the linking message's) and the hand-off's status are
 * updated from it.
 */
#include <stdlib.h>
#include <string.h>

#include "write.h"

/* The candidates of the links in `todo` that are still open: the
 * messages with their queue ID on the same host or, queued as, on the
 * relay's host.  That host is the relay's name ("hub.example.com" for a
 * log host "hub" too) or, when the relay is an address (relayhost =
 * [10.0.0.2]), the host whose copy has the parent's Message-ID or was
 * received from a client named like the parent's host.  Best first per
 * link. */
#define CANDIDATES_SQL(todo, also)                                         \
	"SELECT l.id, m.id, l.kind, m.host != p.host AS far, l.parent,"      \
	" l.delivery, abs(coalesce(m.first, 0) - l.time) AS dist"            \
	" FROM " todo " JOIN messages p ON p.id = l.parent"                  \
	" JOIN messages m ON m.queue_id = l.qid AND m.id != p.id"            \
	"  AND (m.host = p.host OR (l.kind = 1"                              \
	"   AND (l.hint = m.host"                                            \
	"    OR substr(l.hint, 1, length(m.host) + 1) = m.host || '.'"       \
	"    OR m.message_id = p.message_id OR m.client = p.host"            \
	"    OR substr(m.client, 1, length(p.host) + 1) = p.host || '.')))"  \
	" WHERE l.other IS NULL AND dist < 86400000000" also                 \
	" ORDER BY l.id, far, dist, m.id"

/* The links this run may resolve: new links (?2 = the run's first link
 * id), and old ones whose queue ID a new message has (?1 = the run's
 * first message id), found from the new messages through the index of
 * open links: a scan of every open link made an append of 1,000 lines to
 * a 5M-line index cost 0.05-0.09 s more. */
static const char candidates_sql[] = CANDIDATES_SQL(
	"(SELECT id FROM links WHERE id >= ?2 AND other IS NULL"
	" UNION SELECT o.id FROM messages n CROSS JOIN links o"
	"  ON o.qid = n.queue_id AND o.other IS NULL WHERE n.id >= ?1) todo"
	" CROSS JOIN links l ON l.id = todo.id", "");
/* When every link is new (a first run) only the first part counts, and
 * a scan of the links table is the fastest way to it: in slices of link
 * ids (?3 <= id < ?4), whose choices are applied before the next slice
 * is read, so memory holds one slice's choices, not the run's (40 bytes
 * a link: 60 MB for the 1.5 million links of a 20M-line log).  Resolving
 * a link changes no column the query reads, so slices choose what one
 * query over all links would. */
static const char all_candidates_sql[] = CANDIDATES_SQL("links l",
	" AND l.id >= ?3 AND l.id < ?4");
int64_t pfi_link_slice = 65536;

enum {
	ST_LINK_SET,        /* ?1 link, ?2 other, ?3 relation */
	ST_PARENT_SET,      /* ?1 message, ?2 parent, ?3 relation */
	ST_HANDOFF_SET,     /* ?1 delivery */
	ST_REQUEUED_ROWS,   /* ?1 message */
	ST_REQUEUED_CLOSE,  /* ?1 message, ?2 flags set, ?3 flags cleared */
	NSTMT
};

static const char *const update_sql[NSTMT] = {
	[ST_LINK_SET] = "UPDATE links SET other = ?2, relation = ?3 WHERE id = ?1",
	/* Parents are the hops of a chain only: filter, relay, bounce and
	 * requeue (not forward); the first link to a message makes its
	 * parent. */
	[ST_PARENT_SET] = "UPDATE messages SET parent = ?2, relation = ?3"
	                  " WHERE id = ?1 AND parent IS NULL",
	[ST_HANDOFF_SET] = "UPDATE deliveries SET status = 'filtered'"
	                   " WHERE id = ?1 AND status = 'sent'",
	/* A requeued message still open (its lines were indexed after its
	 * copy's): as requeue_hop in correlate.c would have, its pending
	 * recipients go on in the copy, and its lifetime is over. */
	[ST_REQUEUED_ROWS] = "UPDATE deliveries SET status = 'filtered',"
	                     " dsn = NULL, child_qid = n.queue_id,"
	                     " response = 'requeued as ' || n.queue_id"
	                     " FROM (SELECT queue_id FROM messages WHERE id = ?2) n"
	                     " WHERE message = ?1 AND final = 0 AND EXISTS"
	                     " (SELECT 1 FROM messages WHERE id = ?1 AND open = 1)",
	[ST_REQUEUED_CLOSE] = "UPDATE messages SET open = 0,"
	                      " flags = (flags | ?2) & ~?3"
	                      " WHERE id = ?1 AND open = 1",
};

/* A link and the other side chosen for it. */
struct choice {
	int64_t id, other, parent, delivery;   /* delivery: -1 when none */
	int kind, far;
};

struct resolver {
	pfi_store *st;
	struct pfi_write *w;    /* notes both sides of each resolved link */
	sqlite3_stmt *s[NSTMT];
	struct choice *v;       /* chosen first, applied after the query */
	size_t n, cap;
};

const char *pfi_link_relation(int kind, int far)
{
	switch (kind) {
	case PFI_REL_QUEUED: return far ? "relay" : "filter";
	case PFI_REL_FORWARD: return "forward";
	case PFI_REL_BOUNCE: return "bounce";
	case PFI_REL_DELAY: return "delay";
	default: return "requeue";
	}
}

static int run(struct resolver *r, int which)
{
	return pfi_store_step_done(r->st, r->s[which], "cannot link messages");
}

/* Remembers the candidate on the query's current row. */
static int choose(struct resolver *r, sqlite3_stmt *c)
{
	struct choice *ch;

	if (pfi_array_reserve((void **)&r->v, &r->cap, r->n, sizeof(*r->v),
	                      256) != PFI_OK)
		return pfi_err_set(&r->st->err, PFI_ENOMEM, "out of memory");
	ch = &r->v[r->n++];
	ch->id = sqlite3_column_int64(c, 0);
	ch->other = sqlite3_column_int64(c, 1);
	ch->kind = sqlite3_column_int(c, 2);
	ch->far = sqlite3_column_int(c, 3);
	ch->parent = sqlite3_column_int64(c, 4);
	ch->delivery = sqlite3_column_type(c, 5) == SQLITE_NULL
	               ? -1 : sqlite3_column_int64(c, 5);
	return PFI_OK;
}

/* Makes `parent` the parent of `child`, unless it has one already. */
static int set_parent(struct resolver *r, int64_t child, int64_t parent,
                      const char *rel)
{
	sqlite3_bind_int64(r->s[ST_PARENT_SET], 1, child);
	sqlite3_bind_int64(r->s[ST_PARENT_SET], 2, parent);
	sqlite3_bind_text(r->s[ST_PARENT_SET], 3, rel, -1, SQLITE_STATIC);
	return run(r, ST_PARENT_SET);
}

/* Ends the lifetime of a requeued message left open (see update_sql). */
static int end_requeued(struct resolver *r, int64_t message, int64_t copy)
{
	int rc;

	sqlite3_bind_int64(r->s[ST_REQUEUED_ROWS], 1, message);
	sqlite3_bind_int64(r->s[ST_REQUEUED_ROWS], 2, copy);
	rc = run(r, ST_REQUEUED_ROWS);
	if (rc != PFI_OK)
		return rc;
	sqlite3_bind_int64(r->s[ST_REQUEUED_CLOSE], 1, message);
	sqlite3_bind_int(r->s[ST_REQUEUED_CLOSE], 2,
	                 PFI_MSG_REQUEUED | PFI_MSG_CLOSED);
	sqlite3_bind_int(r->s[ST_REQUEUED_CLOSE], 3, PFI_MSG_HELD);
	return run(r, ST_REQUEUED_CLOSE);
}

/* Resolves a link to the other side chosen for it. */
static int resolve(struct resolver *r, const struct choice *ch)
{
	const char *rel = pfi_link_relation(ch->kind, ch->far);
	int rc;

	sqlite3_bind_int64(r->s[ST_LINK_SET], 1, ch->id);
	sqlite3_bind_int64(r->s[ST_LINK_SET], 2, ch->other);
	sqlite3_bind_text(r->s[ST_LINK_SET], 3, rel, -1, SQLITE_STATIC);
	rc = run(r, ST_LINK_SET);
	if (rc == PFI_OK && (ch->kind == PFI_REL_QUEUED ||
	                     ch->kind == PFI_REL_BOUNCE ||
	                     ch->kind == PFI_REL_DELAY))
		rc = set_parent(r, ch->other, ch->parent, rel);
	/* A requeue link is made by the new message (pickup's orig_id=):
	 * the message it names is its parent, not its child, and ends. */
	if (rc == PFI_OK && ch->kind == PFI_REL_REQUEUE) {
		rc = set_parent(r, ch->parent, ch->other, rel);
		if (rc == PFI_OK)
			rc = end_requeued(r, ch->other, ch->parent);
	}
	if (rc == PFI_OK && strcmp(rel, "filter") == 0 && ch->delivery > 0) {
		sqlite3_bind_int64(r->s[ST_HANDOFF_SET], 1, ch->delivery);
		rc = run(r, ST_HANDOFF_SET);
	}
	/* Stats cells: both sides may count differently now (the other
	 * side's original, the linking side's hand-off and copies). */
	if (rc == PFI_OK)
		rc = pfi_write_touch(r->w, ch->other);
	return rc == PFI_OK ? pfi_write_touch(r->w, ch->parent) : rc;
}

static int prepare_all(struct resolver *r)
{
	size_t i;

	for (i = 0; i < NSTMT; i++) {
		if (sqlite3_prepare_v2(r->st->db, update_sql[i], -1, &r->s[i],
		                       NULL) != SQLITE_OK)
			return pfi_store_dberr(r->st, PFI_ERROR, "cannot link messages");
	}
	return PFI_OK;
}

/* Chooses the other side of each link the query c lists, then resolves
 * them: the choices are applied after the query ends, not under its
 * cursors. */
static int choose_and_resolve(struct resolver *r, sqlite3_stmt *c)
{
	int64_t last = 0;
	int rc = PFI_OK, step = SQLITE_DONE;
	size_t i;

	r->n = 0;
	/* The first candidate of each link is its best. */
	while (rc == PFI_OK && (step = sqlite3_step(c)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(c, 0);
		if (id == last)
			continue;
		last = id;
		rc = choose(r, c);
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(r->st, PFI_ERROR, "cannot link messages");
	sqlite3_reset(c);
	for (i = 0; i < r->n && rc == PFI_OK; i++)
		rc = resolve(r, &r->v[i]);
	return rc;
}

/* A first run: every link, a slice of link ids at a time. */
static int resolve_all(struct resolver *r, sqlite3_stmt *c)
{
	int64_t top = pfi_store_max_id(r->st, "links");
	int64_t lo;
	int rc = top < 0 ? PFI_ERROR : PFI_OK;

	for (lo = 1; rc == PFI_OK && lo <= top; lo += pfi_link_slice) {
		sqlite3_bind_int64(c, 3, lo);
		sqlite3_bind_int64(c, 4, lo + pfi_link_slice);
		rc = choose_and_resolve(r, c);
	}
	return rc;
}

int pfi_write_links(struct pfi_write *w, int64_t since_msg,
                    int64_t since_link)
{
	pfi_store *st = w->st;
	struct resolver r = { .st = st, .w = w };
	sqlite3_stmt *c = NULL;
	int all = since_link <= 1;
	int rc = prepare_all(&r);
	size_t i;

	if (rc == PFI_OK && sqlite3_prepare_v2(st->db, all ? all_candidates_sql
	                                                   : candidates_sql,
	                                       -1, &c, NULL) != SQLITE_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot link messages");
	if (rc == PFI_OK && all) {
		rc = resolve_all(&r, c);
	} else if (rc == PFI_OK) {
		sqlite3_bind_int64(c, 1, since_msg);
		sqlite3_bind_int64(c, 2, since_link);
		rc = choose_and_resolve(&r, c);
	}
	sqlite3_finalize(c);
	free(r.v);
	for (i = 0; i < NSTMT; i++)
		sqlite3_finalize(r.s[i]);
	return rc;
}
