/*
 * store-lines.c - raw log lines, kept compressed, and reading them back.
 *
 * Every line read gets an id in reading order.  Lines are packed, each
 * ending in "\n", into chunks of about 256 KiB (write-chunks.c), compressed
 * with zstd and stored under the id of their first line.  A message keeps
 * the ids of its lines as a list of ascending deltas in varints, so the
 * index holds no row per line: that is what keeps it smaller than the log
 * and indexing fast.  Lines of Postfix programs that pfi did not
 * understand also get a row in `unparsed`, so they can be listed.
 */
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "store-lines.h"

/* ---- id lists ------------------------------------------------------------------------------ */

int pfi_ids_encode(const int64_t *ids, size_t n, struct pfi_buf *out)
{
	int64_t prev = 0;
	size_t i;
	int rc = PFI_OK;

	pfi_buf_reset(out);
	for (i = 0; i < n && rc == PFI_OK; i++) {
		rc = pfi_buf_put_varint(out, (uint64_t)(ids[i] - prev));
		prev = ids[i];
	}
	return rc;
}

int pfi_ids_decode(const void *data, size_t size, int64_t **out, size_t *n)
{
	const unsigned char *p = data, *end = p + size;
	int64_t prev = 0, *v = NULL;
	size_t count = 0, cap = 0;

	while (p < end) {
		uint64_t d;
		if (pfi_varint_get(&p, end, &d) != PFI_OK)
			break;   /* a cut-off last id is left out */
		if (pfi_array_reserve((void **)&v, &cap, count, sizeof(*v),
		                      16) != PFI_OK) {
			free(v);
			return PFI_ENOMEM;
		}
		prev += (int64_t)d;
		v[count++] = prev;
	}
	*out = v;
	*n = count;
	return PFI_OK;
}

int64_t pfi_store_next_line(pfi_store *st)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	/* Line ids are given in increasing order and a chunk holds
	 * consecutive ones, so the chunk that begins last ends last: one
	 * seek down the rowid B-tree, where max(first + count) read every
	 * row of the table (a quarter of a small run's time on a big index). */
	if (sqlite3_prepare_v2(st->db, "SELECT first + count FROM chunks"
	                       " ORDER BY first DESC LIMIT 1", -1, &s,
	                       NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	switch (sqlite3_step(s)) {
	case SQLITE_ROW:
		v = sqlite3_column_int64(s, 0);
		break;
	case SQLITE_DONE:
		v = 1;       /* no lines yet */
		break;
	default:
		pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	}
	sqlite3_finalize(s);
	return v;
}

/* ---- reading ----------------------------------------------------------------------------- */

/* One decompressed chunk and where its lines start. */
struct pfi_chunk {
	int64_t first, count;
	char *text;
	size_t *starts;      /* count + 1 offsets */
};

static void chunk_release(struct pfi_chunk *k)
{
	free(k->text);
	free(k->starts);
	memset(k, 0, sizeof(*k));
}

static int chunk_index(struct pfi_chunk *k, size_t len)
{
	int64_t i = 0;
	size_t at = 0;

	k->starts = malloc((size_t)(k->count + 1) * sizeof(*k->starts));
	if (k->starts == NULL)
		return PFI_ENOMEM;
	while (i < k->count && at <= len) {
		const char *nl = memchr(k->text + at, '\n', len - at);
		k->starts[i++] = at;
		at = nl ? (size_t)(nl - k->text) + 1 : len;
	}
	while (i <= k->count)
		k->starts[i++] = at;
	return PFI_OK;
}

static const char find_chunk_sql[] =
	"SELECT first, count, data FROM chunks WHERE first <= ?1"
	" ORDER BY first DESC LIMIT 1";

/* The lines of the chunk in column `col` of row s, decompressed into
 * *text (malloc'd, *size bytes).  PFI_OK, PFI_ENOMEM or PFI_EPARSE. */
static int chunk_unpack(sqlite3_stmt *s, int col, char **text, size_t *size)
{
	const void *z = sqlite3_column_blob(s, col);
	int zn = sqlite3_column_bytes(s, col);
	unsigned long long n = ZSTD_getFrameContentSize(z, (size_t)zn);

	*text = NULL;
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN ||
	    n >= SIZE_MAX)
		return PFI_EPARSE;
	if ((*text = malloc((size_t)n + 1)) == NULL)
		return PFI_ENOMEM;
	if (!ZSTD_isError(ZSTD_decompress(*text, (size_t)n, z, (size_t)zn))) {
		*size = (size_t)n;
		return PFI_OK;
	}
	free(*text);
	*text = NULL;
	return PFI_EPARSE;
}

static int chunk_damaged(pfi_store *st, int rc)
{
	return rc == PFI_EPARSE ? pfi_err_set(&st->err, PFI_ESCHEMA,
	                                      "damaged line chunk in index") : rc;
}

static int chunk_load(pfi_store *st, int64_t id, struct pfi_chunk *k)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_FIND_CHUNK, find_chunk_sql);
	size_t size;
	int rc = PFI_ENOTFOUND;

	chunk_release(k);
	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		k->first = sqlite3_column_int64(s, 0);
		k->count = sqlite3_column_int64(s, 1);
		rc = chunk_unpack(s, 2, &k->text, &size);
		if (rc == PFI_OK)
			rc = chunk_index(k, size);
	}
	sqlite3_reset(s);
	if (rc != PFI_OK)
		chunk_release(k);
	return chunk_damaged(st, rc);
}

int pfi_store_each_chunk(pfi_store *st, pfi_chunk_cb cb, void *ctx)
{
	sqlite3_stmt *s;
	char *text;
	size_t size;
	int step = SQLITE_DONE, rc = pfi_store_prepare(st, "SELECT first, last, data"
	                                 " FROM chunks ORDER BY first", &s);

	while (rc == PFI_OK && (step = sqlite3_step(s)) == SQLITE_ROW) {
		rc = chunk_damaged(st, chunk_unpack(s, 2, &text, &size));
		if (rc == PFI_OK)
			rc = cb(ctx, sqlite3_column_int64(s, 0),
			        sqlite3_column_int64(s, 1), text, size);
		free(text);
	}
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	sqlite3_finalize(s);
	return rc;
}

void pfi_store_forget_chunk(pfi_store *st)
{
	if (st->chunk != NULL)
		chunk_release(st->chunk);
	free(st->chunk);
	st->chunk = NULL;
}

/*
 * Reads go through the store's one-chunk cache: the lines of one message,
 * or of messages read one after another, mostly sit in the same chunk.
 * Chunks never change once written, so the cache is only dropped when the
 * line it needs is elsewhere.
 */
int pfi_store_read_lines(pfi_store *st, const int64_t *ids, size_t n,
                         pfi_line_cb cb, void *ctx)
{
	struct pfi_chunk *k = st->chunk;
	size_t i;
	int rc = PFI_OK;

	if (k == NULL && (k = st->chunk = calloc(1, sizeof(*k))) == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < n && rc == PFI_OK; i++) {
		int64_t at = ids[i] - k->first;
		if (k->text == NULL || at < 0 || at >= k->count) {
			rc = chunk_load(st, ids[i], k);
			if (rc == PFI_ENOTFOUND) {
				rc = PFI_OK;
				continue;
			}
			at = ids[i] - k->first;
			if (rc != PFI_OK || at < 0 || at >= k->count)
				continue;
		}
		rc = cb(ctx, ids[i], k->text + k->starts[at],
		        k->starts[at + 1] - k->starts[at] - 1);
	}
	return rc;
}

/* ---- a message's lines ----------------------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static const char late_lines_sql[] =
	"SELECT line FROM late_lines WHERE message = ?1";

/* Appends the late lines of message `id` to *ids. */
static int late_lines(pfi_store *st, int64_t id, int64_t **ids, size_t *n)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_LATE_LINES, late_lines_sql);
	int rc = s ? PFI_OK : PFI_ERROR;

	if (s)
		sqlite3_bind_int64(s, 1, id);
	while (rc == PFI_OK && sqlite3_step(s) == SQLITE_ROW) {
		int64_t *v = realloc(*ids, (*n + 1) * sizeof(**ids));
		if (v == NULL)
			rc = PFI_ENOMEM;
		else
			(*ids = v)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	if (s)
		sqlite3_reset(s);
	return rc;
}

static const char message_lines_sql[] =
	"SELECT lines FROM message_lines WHERE message = ?1";

int pfi_store_message_lines(pfi_store *st, int64_t id, int64_t **ids,
                            size_t *n)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_MESSAGE_LINES,
	                                 message_lines_sql);
	int rc = PFI_OK;

	*ids = NULL;
	*n = 0;
	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		rc = pfi_ids_decode(sqlite3_column_blob(s, 0),
		                    (size_t)sqlite3_column_bytes(s, 0), ids, n);
	sqlite3_reset(s);
	if (rc == PFI_OK)
		rc = late_lines(st, id, ids, n);
	if (rc == PFI_OK && *n > 1)
		qsort(*ids, *n, sizeof(**ids), cmp_id);
	return rc;
}

/* ---- pfi_message_text(id): a message's raw lines, for --grep ---------------- */

static int text_append(void *ctx, int64_t id, const char *line, size_t len)
{
	struct pfi_buf *b = ctx;
	int rc = pfi_buf_append(b, line, len);

	(void)id;
	return rc == PFI_OK ? pfi_buf_appendc(b, '\n') : rc;
}

static void sql_message_text(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	pfi_store *st = sqlite3_user_data(cx);
	struct pfi_buf b;
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_null(cx);
		return;
	}
	pfi_buf_init(&b, 0);
	rc = pfi_store_message_lines(st, sqlite3_value_int64(argv[0]), &ids, &n);
	if (rc == PFI_OK)
		rc = pfi_store_read_lines(st, ids, n, text_append, &b);
	free(ids);
	if (rc != PFI_OK)
		sqlite3_result_error(cx, "cannot read the message's lines", -1);
	else
		sqlite3_result_text(cx, b.data ? b.data : "", (int)b.len, SQLITE_TRANSIENT);
	pfi_buf_release(&b);
}

int pfi_store_register_functions(pfi_store *st)
{
	if (sqlite3_create_function(st->db, "pfi_message_text", 1,
	                            SQLITE_UTF8 | SQLITE_DETERMINISTIC, st,
	                            sql_message_text, NULL, NULL) == SQLITE_OK)
		return PFI_OK;
	return pfi_store_dberr(st, PFI_ERROR, "cannot register functions");
}
