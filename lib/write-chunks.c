/*
 * write-chunks.c - writing raw log lines into compressed chunks (the
 * format is described in store-lines.c, which reads them back).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "write.h"

#define CHUNK_BYTES (256 * 1024)
#define CHUNK_LEVEL 6

/* ---- writing ----------------------------------------------------------------------------- */

/*
 * Compression runs on a second thread while the first goes on reading,
 * parsing and writing rows: a full chunk is handed over, and written to
 * SQLite (by the first thread, which owns the connection) when the next
 * chunk is full or at the end.  At most one chunk is in the other
 * thread's hands, so memory stays two chunks.
 */
struct zjob {
	struct pfi_buf raw;      /* the lines */
	int64_t first, count, last;
	void *zbuf;              /* compressed */
	size_t zlen;             /* or a zstd error code */
};

struct pfi_chunker {
	pfi_store *st;
	struct pfi_buf raw;      /* lines of the open chunk */
	int64_t first;           /* id of its first line */
	int64_t next;            /* id of the next line */
	int64_t last;            /* time of the chunk's latest line */
	size_t zcap;
	ZSTD_CCtx *cctx;
	pthread_t thread;
	int started;             /* the thread runs */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct zjob job;         /* handed over or written */
	int busy;                /* job handed over, not compressed yet */
	int pending;             /* job holds a chunk not written yet */
	int quit;
};

/* Compresses the chunk handed over (on whichever thread runs it). */
static void compress_job(struct pfi_chunker *c)
{
	c->job.zlen = ZSTD_compressCCtx(c->cctx, c->job.zbuf, c->zcap,
	                                c->job.raw.data, c->job.raw.len,
	                                CHUNK_LEVEL);
}

static void *compressor(void *arg)
{
	struct pfi_chunker *c = arg;

	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (!c->busy && !c->quit)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->busy)
			break;
		pthread_mutex_unlock(&c->mu);
		compress_job(c);
		pthread_mutex_lock(&c->mu);
		c->busy = 0;
		pthread_cond_broadcast(&c->cv);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

int pfi_chunker_new(struct pfi_chunker **out, pfi_store *st, int64_t first)
{
	struct pfi_chunker *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return PFI_ENOMEM;
	c->st = st;
	c->first = c->next = first;
	pfi_buf_init(&c->raw, 0);
	pfi_buf_init(&c->job.raw, 0);
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->zcap = ZSTD_compressBound(CHUNK_BYTES + PFI_LINE_MAX + 1);
	c->job.zbuf = malloc(c->zcap);
	c->cctx = ZSTD_createCCtx();
	if (c->job.zbuf == NULL || c->cctx == NULL) {
		pfi_chunker_free(c);
		return PFI_ENOMEM;
	}
	/* Without a thread, chunks are compressed in place (see hand_over). */
	c->started = pthread_create(&c->thread, NULL, compressor, c) == 0;
	*out = c;
	return PFI_OK;
}

static const char insert_chunk_sql[] =
	"INSERT INTO chunks(first, count, data, last)"
	" VALUES (?1, ?2, ?3, ?4)";

/* Waits for the chunk handed over and writes it. */
static int write_pending(struct pfi_chunker *c)
{
	sqlite3_stmt *s;

	if (!c->pending)
		return PFI_OK;
	pthread_mutex_lock(&c->mu);
	while (c->busy)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
	c->pending = 0;
	if (ZSTD_isError(c->job.zlen))
		return pfi_err_set(&c->st->err, PFI_ERROR, "cannot compress lines: %s",
		                   ZSTD_getErrorName(c->job.zlen));
	s = pfi_store_stmt(c->st, ST_INSERT_CHUNK, insert_chunk_sql);
	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, c->job.first);
	sqlite3_bind_int64(s, 2, c->job.count);
	sqlite3_bind_blob(s, 3, c->job.zbuf, (int)c->job.zlen, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, c->job.last);
	return pfi_store_step_done(c->st, s, "cannot write lines");
}

/* Hands the open chunk to the compressor (after writing the one before)
 * and starts a new one. */
static int hand_over(struct pfi_chunker *c)
{
	struct pfi_buf spare;
	int rc = write_pending(c);

	if (rc != PFI_OK || c->next == c->first)
		return rc;
	spare = c->job.raw;
	c->job.raw = c->raw;
	c->raw = spare;
	pfi_buf_reset(&c->raw);
	c->job.first = c->first;
	c->job.count = c->next - c->first;
	c->job.last = c->last;
	c->pending = 1;
	c->first = c->next;
	c->last = 0;
	if (!c->started) {
		compress_job(c);
		return PFI_OK;
	}
	pthread_mutex_lock(&c->mu);
	c->busy = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return PFI_OK;
}

int pfi_chunker_flush(struct pfi_chunker *c)
{
	int rc = hand_over(c);

	return rc == PFI_OK ? write_pending(c) : rc;
}

int pfi_chunker_add(struct pfi_chunker *c, const char *line, size_t len,
                    int64_t time)
{
	int rc = pfi_buf_append(&c->raw, line, len);

	if (time > c->last)
		c->last = time;
	if (rc == PFI_OK)
		rc = pfi_buf_appendc(&c->raw, '\n');
	if (rc != PFI_OK)
		return pfi_err_set(&c->st->err, rc, "out of memory");
	c->next++;
	return c->raw.len >= CHUNK_BYTES ? hand_over(c) : PFI_OK;
}

void pfi_chunker_free(struct pfi_chunker *c)
{
	if (c == NULL)
		return;
	if (c->started) {
		pthread_mutex_lock(&c->mu);
		while (c->busy)
			pthread_cond_wait(&c->cv, &c->mu);
		c->quit = 1;
		pthread_cond_broadcast(&c->cv);
		pthread_mutex_unlock(&c->mu);
		pthread_join(c->thread, NULL);
	}
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	pfi_buf_release(&c->raw);
	pfi_buf_release(&c->job.raw);
	free(c->job.zbuf);
	ZSTD_freeCCtx(c->cctx);
	free(c);
}
