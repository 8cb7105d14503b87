/*
 * search.c - pfi_search: the delivery rows (one per recipient outcome,
 * NOQUEUE rejects included) that match a struct pfi_filter, newest first
 * or oldest first, streamed one row at a time from one SQLite statement,
 * and pfi_search_count.
 *
 * A row's strings point into the statement's current row, so memory does
 * not grow with the result.  A NOQUEUE reject has no message: its sender,
 * client and client_ip come from the deliveries row.  Order is (time, id),
 * which the deliveries_time index gives without sorting.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "verdicts.h"

struct pfi_search {
	pfi_store *st;               /* the index (borrowed) */
	struct pfi_where *w;         /* the compiled filter, bound to s */
	sqlite3_stmt *s;             /* the running query */
	struct pfi_delivery row;     /* the current row, borrowed from s */
	int verdicts;                /* the index holds verdicts: rows load them */
	struct pfi_pool pool;        /* the current row's verdict strings */
	struct pfi_verdict *vs;      /* and the verdicts themselves */
};

/* The columns, in the order fill_row() reads them. */
static const char search_cols[] =
	"SELECT d.time, d.host, d.queue_id, m.message_id,"
	" coalesce(m.sender, d.sender), d.recipient, d.orig_to, d.domain,"
	" d.status, d.dsn, d.relay, d.delay, d.d_before, d.d_in, d.d_conn,"
	" d.d_xmit, d.attempts, d.response, coalesce(m.client, d.client),"
	" coalesce(m.client_ip, d.client_ip), m.subject, m.size, d.message,"
	" d.line";

static const char search_from[] =
	" FROM deliveries d LEFT JOIN messages m ON m.id = d.message WHERE ";

/* The message's SASL login and TLS session: always the last three
 * columns, so fill_row() finds them from the column count. */
static const char search_tail[] =
	", m.sasl_username, m.tls_protocol, m.tls_cipher";

static const char *text_col(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static double real_col(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1
	                                               : sqlite3_column_double(s, i);
}

static int64_t int_col(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1
	                                               : sqlite3_column_int64(s, i);
}

static void fill_row(struct pfi_delivery *d, sqlite3_stmt *s)
{
	int i;

	d->time = sqlite3_column_int64(s, 0);
	d->host = text_col(s, 1);
	d->queue_id = text_col(s, 2);
	d->message_id = text_col(s, 3);
	d->from = text_col(s, 4);
	d->to = text_col(s, 5);
	d->orig_to = text_col(s, 6);
	d->domain = text_col(s, 7);
	d->status = text_col(s, 8);
	d->dsn = text_col(s, 9);
	d->relay = text_col(s, 10);
	d->delay = real_col(s, 11);
	for (i = 0; i < 4; i++)
		d->delays[i] = real_col(s, 12 + i);
	d->attempts = (int)int_col(s, 16);
	d->response = text_col(s, 17);
	d->client = text_col(s, 18);
	d->client_ip = text_col(s, 19);
	d->subject = text_col(s, 20);
	d->size = int_col(s, 21);
	i = sqlite3_column_count(s) - 3;
	d->sasl_username = text_col(s, i);
	d->tls_protocol = text_col(s, i + 1);
	d->tls_cipher = text_col(s, i + 2);
}

/* Prepares head + the condition of w + tail and binds w's parameters;
 * returns the next free parameter index in *next. */
static int prepare_where(pfi_store *st, const struct pfi_where *w,
                         const char *head, const char *tail,
                         sqlite3_stmt **out, int *next)
{
	struct pfi_buf sql;
	int rc;

	*out = NULL;
	pfi_buf_init(&sql, 0);
	rc = pfi_buf_appends(&sql, head);
	if (rc == PFI_OK)
		rc = pfi_buf_appends(&sql, pfi_where_sql(w));
	if (rc == PFI_OK)
		rc = pfi_buf_appends(&sql, tail);
	if (rc != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	else if (sqlite3_prepare_v2(st->db, sql.data, -1, out, NULL) != SQLITE_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot query index");
	else
		*next = pfi_where_bind(w, *out, 1);
	pfi_buf_release(&sql);
	return rc;
}

static const struct pfi_search_opts search_defaults = PFI_SEARCH_OPTIONS_INIT;
static const struct pfi_filter no_filter;

/* opts, or the defaults for NULL; PFI_EINVAL for a version unknown here. */
static int search_opts(pfi_store *st, const struct pfi_search_opts **opts)
{
	if (*opts == NULL)
		*opts = &search_defaults;
	return pfi_opts_version(&st->err, (*opts)->version,
	                        PFI_SEARCH_OPTIONS_VERSION,
	                        "struct pfi_search_opts");
}

int pfi_search_new(pfi_search **out, pfi_store *st,
                   const struct pfi_search_opts *opts)
{
	struct pfi_search *q;
	char head[sizeof(search_cols) + sizeof(search_tail) + sizeof(search_from)];
	int rc = search_opts(st, &opts), next;

	*out = NULL;
	if (rc != PFI_OK)
		return rc;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	snprintf(head, sizeof(head), "%s%s%s", search_cols, search_tail,
	         search_from);
	rc = pfi_where_new(&q->w, st, opts->filter ? opts->filter : &no_filter);
	if (rc == PFI_OK)
		rc = prepare_where(st, q->w, head, opts->reverse ?
		                   " ORDER BY d.time, d.id LIMIT ?" :
		                   " ORDER BY d.time DESC, d.id DESC LIMIT ?",
		                   &q->s, &next);
	if (rc != PFI_OK) {
		pfi_search_free(q);
		return rc;
	}
	sqlite3_bind_int64(q->s, next, opts->limit > 0 ? opts->limit : -1);
	q->st = st;
	q->verdicts = pfi_has_verdicts(st);
	*out = q;
	return PFI_OK;
}

/* Drops the previous row's verdicts. */
static void row_verdicts_release(struct pfi_search *q)
{
	pfi_pool_release(&q->pool);
	memset(&q->pool, 0, sizeof(q->pool));
	free(q->vs);
	q->vs = NULL;
}

/* The verdicts of the row's message and of the messages it came from;
 * of a NOQUEUE reject, those that led to it. */
static int row_verdicts(struct pfi_search *q)
{
	const struct pfi_verdict *vs;
	int rc;

	row_verdicts_release(q);
	if (sqlite3_column_type(q->s, 22) == SQLITE_NULL)
		rc = pfi_load_reject_verdicts(q->st, &q->pool,
		                              sqlite3_column_int64(q->s, 23),
		                              q->row.time, &vs, &q->row.nverdicts);
	else
		rc = pfi_load_verdicts(q->st, &q->pool,
		                       sqlite3_column_int64(q->s, 22), 1, &vs,
		                       &q->row.nverdicts);
	q->vs = (struct pfi_verdict *)vs;
	q->row.verdicts = vs;
	return rc;
}

int pfi_search_next(pfi_search *q, const struct pfi_delivery **row)
{
	int rc = sqlite3_step(q->s);

	*row = NULL;
	if (rc == SQLITE_DONE)
		return PFI_EOF;
	if (rc != SQLITE_ROW)
		return pfi_store_dberr(q->st, PFI_ERROR, "cannot search index");
	fill_row(&q->row, q->s);
	if (q->verdicts && (rc = row_verdicts(q)) != PFI_OK)
		return rc;
	*row = &q->row;
	return PFI_OK;
}

int pfi_search_has_verdicts(const pfi_search *q)
{
	return q->verdicts;
}

void pfi_search_free(pfi_search *q)
{
	if (q == NULL)
		return;
	sqlite3_finalize(q->s);
	pfi_where_free(q->w);
	row_verdicts_release(q);
	free(q);
}

int pfi_search_count(pfi_store *st, const struct pfi_search_opts *opts,
                     int64_t *count)
{
	struct pfi_where *w = NULL;
	sqlite3_stmt *s = NULL;
	char head[sizeof(search_from) + 16];
	int next, rc = search_opts(st, &opts);

	*count = 0;
	if (rc == PFI_OK)
		rc = pfi_where_new(&w, st, opts->filter ? opts->filter : &no_filter);
	snprintf(head, sizeof(head), "SELECT count(*)%s", search_from);
	if (rc == PFI_OK)
		rc = prepare_where(st, w, head, "", &s, &next);
	if (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW)
		*count = sqlite3_column_int64(s, 0);
	else if (rc == PFI_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot count rows");
	sqlite3_finalize(s);
	pfi_where_free(w);
	return rc;
}
