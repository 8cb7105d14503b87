/*
 * trace.c - pfi_trace: one mail's whole story read back from the index,
 * following filter, relay and bounce links both ways.
 *
 * Returned records own their strings through a pool freed with the record.
 */
#include <stdlib.h>
#include <string.h>

#include "store-lines.h"
#include "verdicts.h"

struct pfi_trace {
	struct pfi_message *msgs;
	size_t n;
	struct pfi_pool pool;
};

/* A set of message ids, in insertion order. */
struct idset {
	int64_t *v;
	size_t n, cap;
};

static int idset_has(const struct idset *s, int64_t id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return 1;
	return 0;
}

static int idset_add(struct idset *s, int64_t id)
{
	if (idset_has(s, id))
		return PFI_OK;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		int64_t *v = realloc(s->v, cap * sizeof(*v));
		if (v == NULL)
			return PFI_ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = id;
	return PFI_OK;
}

/* A read's end: rc as it stands, or the database's error when the rows
 * stopped on one (a damaged index is said, never shown as fewer rows). */
static int rows_done(pfi_store *st, int rc, int step)
{
	if (rc == PFI_OK && step != SQLITE_DONE)
		return pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	return rc;
}

/* Adds every row's first column to the set. */
static int collect_ids(pfi_store *st, sqlite3_stmt *s, struct idset *out)
{
	int rc = PFI_OK, step = SQLITE_DONE;

	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW)
		rc = idset_add(out, sqlite3_column_int64(s, 0));
	rc = rows_done(st, rc, step);
	sqlite3_reset(s);
	return rc;
}

/* The messages named by a queue ID or a Message-ID. */
static int find_named(pfi_store *st, const char *id, struct idset *out)
{
	sqlite3_stmt *s;
	size_t n = strlen(id);
	int rc = pfi_store_prepare(st, "SELECT id FROM messages"
	                           " WHERE queue_id = ?1 UNION SELECT id"
	                           " FROM messages WHERE message_id = ?2", &s);

	if (rc != PFI_OK)
		return rc;
	sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		sqlite3_bind_text(s, 2, id + 1, (int)n - 2, SQLITE_STATIC);
	else
		sqlite3_bind_text(s, 2, id, -1, SQLITE_STATIC);
	rc = collect_ids(st, s, out);
	sqlite3_finalize(s);
	return rc;
}

/* Follows parent links up to the roots, then child links down. */
static int expand_chain(pfi_store *st, struct idset *set)
{
	sqlite3_stmt *up, *down;
	size_t i;
	int rc = pfi_store_prepare(st, "SELECT parent FROM messages WHERE id = ?1"
	                           " AND parent IS NOT NULL", &up);

	if (rc != PFI_OK)
		return rc;
	rc = pfi_store_prepare(st, "SELECT id FROM messages WHERE parent = ?1",
	                       &down);
	for (i = 0; rc == PFI_OK && i < set->n; i++) {
		sqlite3_bind_int64(up, 1, set->v[i]);
		rc = collect_ids(st, up, set);
		if (rc == PFI_OK) {
			sqlite3_bind_int64(down, 1, set->v[i]);
			rc = collect_ids(st, down, set);
		}
	}
	sqlite3_finalize(up);
	sqlite3_finalize(down);
	return rc;
}

/* Orders the set by arrival, oldest first. */
static int order_chain(pfi_store *st, struct idset *set)
{
	struct idset sorted = { NULL, 0, 0 };
	sqlite3_stmt *s;
	int rc = pfi_store_prepare(st, "SELECT id FROM messages WHERE id IN"
	                           " (SELECT value FROM json_each(?1))"
	                           " ORDER BY coalesce(received, first), id", &s);
	struct pfi_buf json;
	size_t i;

	if (rc != PFI_OK)
		return rc;
	pfi_buf_init(&json, 0);
	rc = pfi_buf_appendc(&json, '[');
	for (i = 0; rc == PFI_OK && i < set->n; i++)
		rc = pfi_buf_printf(&json, "%s%lld", i ? "," : "",
		                    (long long)set->v[i]);
	if (rc == PFI_OK)
		rc = pfi_buf_appendc(&json, ']');
	if (rc == PFI_OK) {
		sqlite3_bind_text(s, 1, json.data, (int)json.len, SQLITE_STATIC);
		rc = collect_ids(st, s, &sorted);
	}
	sqlite3_finalize(s);
	pfi_buf_release(&json);
	free(set->v);
	*set = sorted;
	return rc;
}

static const char msg_sql[] =
	"SELECT m.queue_id, m.host, m.message_id, m.sender, m.size, m.nrcpt,"
	" m.client, m.client_ip, m.sasl_username, m.subject, m.tls_protocol,"
	" m.tls_cipher, coalesce(m.received, m.first), m.removed,"
	" p.queue_id, p.host, m.relation, m.flags & 16384 != 0"
	" FROM messages m LEFT JOIN messages p ON p.id = m.parent WHERE m.id = ?1";

static void fill_message(struct pfi_pool *p, struct pfi_message *m, sqlite3_stmt *s)
{
	m->queue_id = pfi_pool_col(p, s, 0);
	m->host = pfi_pool_col(p, s, 1);
	m->message_id = pfi_pool_col(p, s, 2);
	m->from = pfi_pool_col(p, s, 3);
	m->size = pfi_col_int(s, 4, -1);
	m->nrcpt = pfi_col_int(s, 5, -1);
	m->client = pfi_pool_col(p, s, 6);
	m->client_ip = pfi_pool_col(p, s, 7);
	m->sasl_username = pfi_pool_col(p, s, 8);
	m->subject = pfi_pool_col(p, s, 9);
	m->tls_protocol = pfi_pool_col(p, s, 10);
	m->tls_cipher = pfi_pool_col(p, s, 11);
	m->received = pfi_col_int(s, 12, 0);
	m->removed = pfi_col_int(s, 13, 0);
	m->parent.queue_id = pfi_pool_col(p, s, 14);
	m->parent.host = pfi_pool_col(p, s, 15);
	m->parent.relation = m->parent.queue_id ? pfi_pool_col(p, s, 16) : NULL;
	m->probe = pfi_col_int(s, 17, 0) != 0;   /* 16384: PFI_MSG_PROBE */
}

static const char rcpt_sql[] =
	"SELECT time, recipient, orig_to, domain, status, dsn, relay, delay,"
	" d_before, d_in, d_conn, d_xmit, attempts, response"
	" FROM deliveries WHERE message = ?1 ORDER BY id";

static void fill_delivery(struct pfi_pool *p, const struct pfi_message *m,
                          struct pfi_delivery *d, sqlite3_stmt *s)
{
	int i;

	d->time = pfi_col_int(s, 0, 0);
	d->host = m->host;
	d->queue_id = m->queue_id;
	d->message_id = m->message_id;
	d->from = m->from;
	d->to = pfi_pool_col(p, s, 1);
	d->orig_to = pfi_pool_col(p, s, 2);
	d->domain = pfi_pool_col(p, s, 3);
	d->status = pfi_pool_col(p, s, 4);
	d->dsn = pfi_pool_col(p, s, 5);
	d->relay = pfi_pool_col(p, s, 6);
	d->delay = pfi_col_real(s, 7);
	for (i = 0; i < 4; i++)
		d->delays[i] = pfi_col_real(s, 8 + i);
	d->attempts = (int)pfi_col_int(s, 12, 0);
	d->response = pfi_pool_col(p, s, 13);
	d->client = m->client;
	d->client_ip = m->client_ip;
	d->subject = m->subject;
	d->size = m->size;
}

/* Prepares `sql` bound to message `id`, with an empty result array. */
static int load_rows(pfi_store *st, const char *sql, int64_t id, void **arr,
                     size_t *n, sqlite3_stmt **out)
{
	int rc = pfi_store_prepare(st, sql, out);

	*arr = NULL;
	*n = 0;
	if (rc == PFI_OK)
		sqlite3_bind_int64(*out, 1, id);
	return rc;
}

static int grow(void **arr, size_t n, size_t elem)
{
	void *p = realloc(*arr, (n + 1) * elem);

	if (p == NULL)
		return PFI_ENOMEM;
	memset((char *)p + n * elem, 0, elem);
	*arr = p;
	return PFI_OK;
}

static int load_recipients(pfi_store *st, struct pfi_pool *p, struct pfi_message *m,
                           int64_t id)
{
	sqlite3_stmt *s;
	void *arr;
	size_t n;
	int step = SQLITE_DONE, rc = load_rows(st, rcpt_sql, id, &arr, &n, &s);

	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		rc = grow(&arr, n, sizeof(struct pfi_delivery));
		if (rc == PFI_OK)
			fill_delivery(p, m, (struct pfi_delivery *)arr + n++, s);
	}
	rc = rows_done(st, rc, step);
	sqlite3_finalize(s);
	m->recipients = arr;
	m->nrecipients = n;
	return rc;
}

static int load_children(pfi_store *st, struct pfi_pool *p, struct pfi_message *m,
                         int64_t id)
{
	sqlite3_stmt *s;
	void *arr;
	size_t n;
	int step = SQLITE_DONE, rc = load_rows(st, "SELECT queue_id, host, relation FROM messages"
	                   " WHERE parent = ?1 ORDER BY coalesce(received, first), id",
	                   id, &arr, &n, &s);

	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		rc = grow(&arr, n, sizeof(struct pfi_link));
		if (rc == PFI_OK) {
			struct pfi_link *l = (struct pfi_link *)arr + n++;
			l->queue_id = pfi_pool_col(p, s, 0);
			l->host = pfi_pool_col(p, s, 1);
			l->relation = pfi_pool_col(p, s, 2);
		}
	}
	rc = rows_done(st, rc, step);
	sqlite3_finalize(s);
	m->children = arr;
	m->nchildren = n;
	return rc;
}

/* Collects a message's raw lines into the pool, with their lengths: a
 * line is kept byte for byte and may hold NUL bytes. */
struct line_sink {
	struct pfi_pool *pool;
	const char **v;
	size_t *lens;
	size_t n;
};

static int keep_line(void *ctx, int64_t id, const char *line, size_t len)
{
	struct line_sink *ls = ctx;
	char *c;

	(void)id;
	if (grow((void **)&ls->v, ls->n, sizeof(*ls->v)) != PFI_OK ||
	    grow((void **)&ls->lens, ls->n, sizeof(*ls->lens)) != PFI_OK)
		return PFI_ENOMEM;
	c = pfi_pool_keep(ls->pool, line, len);
	if (c == NULL)
		return PFI_ENOMEM;
	ls->v[ls->n] = c;
	ls->lens[ls->n++] = len;
	return PFI_OK;
}

static int load_lines(pfi_store *st, struct pfi_pool *p, struct pfi_message *m,
                      int64_t id)
{
	struct line_sink ls = { p, NULL, NULL, 0 };
	int64_t *ids;
	size_t n;
	int rc = pfi_store_message_lines(st, id, &ids, &n);

	if (rc == PFI_OK)
		rc = pfi_store_read_lines(st, ids, n, keep_line, &ls);
	free(ids);
	m->lines = ls.v;
	m->line_lens = ls.lens;
	m->nlines = ls.n;
	return rc;
}

static int load_message(pfi_store *st, struct pfi_trace *t, int64_t id)
{
	struct pfi_message *m = &t->msgs[t->n];
	sqlite3_stmt *s;
	int step, rc = pfi_store_prepare(st, msg_sql, &s);

	if (rc != PFI_OK)
		return rc;
	memset(m, 0, sizeof(*m));
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		fill_message(&t->pool, m, s);
	rc = rows_done(st, rc, step == SQLITE_ROW ? SQLITE_DONE : step);
	sqlite3_finalize(s);
	t->n++;
	if (rc == PFI_OK)
		rc = load_recipients(st, &t->pool, m, id);
	if (rc == PFI_OK)
		rc = load_children(st, &t->pool, m, id);
	if (rc == PFI_OK)
		rc = load_lines(st, &t->pool, m, id);
	if (rc == PFI_OK)
		rc = pfi_load_verdicts(st, &t->pool, id, 0, &m->verdicts,
		                       &m->nverdicts);
	return (rc == PFI_OK && t->pool.oom) ? PFI_ENOMEM : rc;
}

int pfi_trace_new(pfi_trace **out, pfi_store *st, const char *id)
{
	struct idset set = { NULL, 0, 0 };
	struct pfi_trace *t = calloc(1, sizeof(*t));
	size_t i;
	int rc = t ? find_named(st, id, &set) : PFI_ENOMEM;

	*out = NULL;
	if (rc == PFI_OK && set.n == 0)
		rc = pfi_err_set(&st->err, PFI_ENOTFOUND, "no message matches '%s'", id);
	if (rc == PFI_OK)
		rc = expand_chain(st, &set);
	if (rc == PFI_OK)
		rc = order_chain(st, &set);
	if (rc == PFI_OK && (t->msgs = calloc(set.n, sizeof(*t->msgs))) == NULL)
		rc = PFI_ENOMEM;
	for (i = 0; rc == PFI_OK && i < set.n; i++)
		rc = load_message(st, t, set.v[i]);
	free(set.v);
	if (rc == PFI_ENOMEM)
		pfi_err_set(&st->err, rc, "out of memory");
	if (rc != PFI_OK) {
		pfi_trace_free(t);
		return rc;
	}
	*out = t;
	return PFI_OK;
}

size_t pfi_trace_count(const pfi_trace *t)
{
	return t ? t->n : 0;
}

const struct pfi_message *pfi_trace_message(const pfi_trace *t, size_t i)
{
	return t && i < t->n ? &t->msgs[i] : NULL;
}

void pfi_trace_free(pfi_trace *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		free((void *)t->msgs[i].recipients);
		free((void *)t->msgs[i].children);
		free((void *)t->msgs[i].lines);
		free((void *)t->msgs[i].line_lens);
		free((void *)t->msgs[i].verdicts);
	}
	free(t->msgs);
	pfi_pool_release(&t->pool);
	free(t);
}
