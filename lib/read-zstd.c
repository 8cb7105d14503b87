/*
 * read-zstd.c - the zstd backend of the line reader.
 *
 * Follows zstd's examples/streaming_decompression.c: buffers of
 * ZSTD_DStreamInSize() / ZSTD_DStreamOutSize(), one ZSTD_DCtx for every
 * frame, and the last return value of ZSTD_decompressStream() telling
 * whether the input ended between frames (0) or inside one (truncated).
 * Several frames and skippable frames are one input.
 */
#include <stdlib.h>

#include <zstd.h>
#include <zstd_errors.h>

#include "read-int.h"

struct zst {
	ZSTD_DCtx *dctx;  /* the decompression context */
	size_t last;      /* last hint of ZSTD_decompressStream: 0 between frames */
	int pending;      /* the last call filled its output: more may be held */
};

static size_t zst_in_size(void)
{
	return ZSTD_DStreamInSize();
}

static size_t zst_out_size(void)
{
	return ZSTD_DStreamOutSize();
}

static int zst_open(void **state)
{
	struct zst *z = calloc(1, sizeof(*z));

	if (z == NULL)
		return PFI_ENOMEM;
	z->dctx = ZSTD_createDCtx();
	if (z->dctx == NULL) {
		free(z);
		return PFI_ENOMEM;
	}
	*state = z;
	return PFI_OK;
}

/* One ZSTD_decompressStream() over the raw bytes at hand. */
static int zst_step(struct zst *z, struct pfi_rsrc *src, ZSTD_outBuffer *o)
{
	ZSTD_inBuffer in = { src->buf, src->len, src->pos };
	size_t before = o->pos;
	size_t ret = ZSTD_decompressStream(z->dctx, o, &in);

	if (ZSTD_isError(ret) &&
	    ZSTD_getErrorCode(ret) == ZSTD_error_memory_allocation)
		return PFI_ENOMEM;
	if (ZSTD_isError(ret))
		return pfi_rsrc_corrupt(src, ZSTD_getErrorName(ret));
	/* A call that moved nothing says nothing about frame boundaries. */
	if (in.pos > src->pos || o->pos > before)
		z->last = ret;
	src->pos = in.pos;
	z->pending = o->pos == o->size;
	return PFI_OK;
}

static int zst_read(void *state, struct pfi_rsrc *src, char *out, size_t cap,
                    size_t *got)
{
	struct zst *z = state;
	ZSTD_outBuffer o = { out, cap, 0 };
	int rc = PFI_OK;

	while (o.pos == 0) {
		if (src->pos == src->len && !z->pending) {
			rc = pfi_rsrc_fill(src);
			if (rc < 0)
				return rc;
			if (rc == 0 && z->last != 0)
				return pfi_rsrc_truncated(src);
			if (rc == 0)
				break;
		}
		rc = zst_step(z, src, &o);
		if (rc != PFI_OK)
			break;
	}
	*got = o.pos;
	return rc;
}

static void zst_close(void *state)
{
	struct zst *z = state;

	if (z == NULL)
		return;
	ZSTD_freeDCtx(z->dctx);
	free(z);
}

const struct pfi_codec pfi_codec_zstd = {
	.comp = PFI_COMP_ZSTD,
	.name = "zstd",
	.in_size = zst_in_size,
	.out_size = zst_out_size,
	.open = zst_open,
	.read = zst_read,
	.close = zst_close,
};
