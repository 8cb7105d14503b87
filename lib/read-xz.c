/*
 * read-xz.c - the xz backend of the line reader (liblzma).
 *
 * The decoder runs with LZMA_CONCATENATED, so concatenated .xz streams and
 * stream padding are one input; at the end of the raw input it is told
 * LZMA_FINISH, and a stream cut short then answers LZMA_BUF_ERROR, which is
 * truncated input.
 */
#include <stdlib.h>

#include <lzma.h>

#include "read-int.h"

#define XZ_IN_SIZE (64 * 1024)
#define XZ_OUT_SIZE (128 * 1024)

struct xz {
	lzma_stream ls;  /* the decoder */
	int pending;     /* the last call filled its output: more may be held */
	int done;        /* LZMA_STREAM_END seen: the input is complete */
};

static size_t xz_in_size(void)
{
	return XZ_IN_SIZE;
}

static size_t xz_out_size(void)
{
	return XZ_OUT_SIZE;
}

static int xz_open(void **state)
{
	static const lzma_stream init = LZMA_STREAM_INIT;
	struct xz *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return PFI_ENOMEM;
	x->ls = init;
	if (lzma_stream_decoder(&x->ls, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
		free(x);
		return PFI_ENOMEM;
	}
	*state = x;
	return PFI_OK;
}

/* Maps a failing lzma_code() result to a status (recorded on src). */
static int xz_fail(struct pfi_rsrc *src, lzma_ret ret)
{
	switch (ret) {
	case LZMA_MEM_ERROR:
		return PFI_ENOMEM;
	case LZMA_BUF_ERROR:
		return pfi_rsrc_truncated(src);
	case LZMA_FORMAT_ERROR:
		return pfi_rsrc_corrupt(src, "not in the xz format");
	case LZMA_OPTIONS_ERROR:
		return pfi_rsrc_corrupt(src, "unsupported options");
	default:
		return pfi_rsrc_corrupt(src, "compressed data is corrupt");
	}
}

/* One lzma_code() over the raw bytes at hand. */
static int xz_step(struct xz *x, struct pfi_rsrc *src)
{
	size_t avail = src->len - src->pos;
	lzma_ret ret;

	x->ls.next_in = src->buf + src->pos;
	x->ls.avail_in = avail;
	ret = lzma_code(&x->ls, src->eof ? LZMA_FINISH : LZMA_RUN);
	src->pos += avail - x->ls.avail_in;
	x->pending = x->ls.avail_out == 0;
	if (ret == LZMA_STREAM_END)
		x->done = 1;
	else if (ret != LZMA_OK)
		return xz_fail(src, ret);
	return PFI_OK;
}

static int xz_read(void *state, struct pfi_rsrc *src, char *out, size_t cap,
                   size_t *got)
{
	struct xz *x = state;
	int rc = PFI_OK;

	x->ls.next_out = (uint8_t *)out;
	x->ls.avail_out = cap;
	while (x->ls.avail_out == cap && !x->done) {
		if (src->pos == src->len && !x->pending && !src->eof) {
			rc = pfi_rsrc_fill(src);
			if (rc < 0)
				return rc;
		}
		rc = xz_step(x, src);
		if (rc != PFI_OK)
			break;
	}
	*got = cap - x->ls.avail_out;
	return rc;
}

static void xz_close(void *state)
{
	struct xz *x = state;

	if (x == NULL)
		return;
	lzma_end(&x->ls);
	free(x);
}

const struct pfi_codec pfi_codec_xz = {
	.comp = PFI_COMP_XZ,
	.name = "xz",
	.in_size = xz_in_size,
	.out_size = xz_out_size,
	.open = xz_open,
	.read = xz_read,
	.close = xz_close,
};
