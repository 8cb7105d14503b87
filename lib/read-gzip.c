/*
 * read-gzip.c - the gzip backend of the line reader (zlib inflate).
 *
 * Concatenated members (what `cat a.gz b.gz` or logrotate's copytruncate
 * plus delaycompress can make) are one input: after each member's end the
 * stream is reset and inflation goes on.  The input may end only between
 * members; ending inside one is truncated input.
 */
#include <limits.h>
#include <stdlib.h>

#include <zlib.h>

#include "read-int.h"

#define GZ_IN_SIZE (64 * 1024)    /* zlib advises "128K or 256K" for speed */
#define GZ_OUT_SIZE (128 * 1024)

struct gz {
	z_stream zs;    /* the inflate state */
	int in_member;  /* bytes of an unfinished member have been fed */
	int pending;    /* the last call filled its output: more may be held */
};

static size_t gz_in_size(void)
{
	return GZ_IN_SIZE;
}

static size_t gz_out_size(void)
{
	return GZ_OUT_SIZE;
}

static int gz_open(void **state)
{
	struct gz *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return PFI_ENOMEM;
	/* 16 + MAX_WBITS: the gzip wrapper only, with its CRC check. */
	if (inflateInit2(&g->zs, 16 + MAX_WBITS) != Z_OK) {
		free(g);
		return PFI_ENOMEM;
	}
	*state = g;
	return PFI_OK;
}

/* One inflate() over the raw bytes at hand; a member's end starts the next. */
static int gz_step(struct gz *g, struct pfi_rsrc *src)
{
	size_t avail = src->len - src->pos;
	uInt fed = avail > UINT_MAX ? UINT_MAX : (uInt)avail;
	int z;

	g->zs.next_in = src->buf + src->pos;
	g->zs.avail_in = fed;
	z = inflate(&g->zs, Z_NO_FLUSH);
	src->pos += fed - g->zs.avail_in;
	if (z == Z_STREAM_END) {
		g->in_member = 0;
		return inflateReset(&g->zs) == Z_OK ? PFI_OK : PFI_ENOMEM;
	}
	if (g->zs.avail_in < fed)
		g->in_member = 1;
	if (z == Z_OK || z == Z_BUF_ERROR)
		return PFI_OK;
	if (z == Z_MEM_ERROR)
		return PFI_ENOMEM;
	return pfi_rsrc_corrupt(src, g->zs.msg);
}

static int gz_read(void *state, struct pfi_rsrc *src, char *out, size_t cap,
                   size_t *got)
{
	struct gz *g = state;
	uInt room = cap > UINT_MAX ? UINT_MAX : (uInt)cap;
	int rc = PFI_OK;

	g->zs.next_out = (Bytef *)out;
	g->zs.avail_out = room;
	while (g->zs.avail_out == room) {
		if (src->pos == src->len && !g->pending) {
			rc = pfi_rsrc_fill(src);
			if (rc < 0)
				return rc;
			if (rc == 0 && g->in_member)
				return pfi_rsrc_truncated(src);
			if (rc == 0)
				break;
		}
		rc = gz_step(g, src);
		g->pending = g->zs.avail_out == 0;
		if (rc != PFI_OK)
			break;
	}
	*got = room - g->zs.avail_out;
	return rc;
}

static void gz_close(void *state)
{
	struct gz *g = state;

	if (g == NULL)
		return;
	inflateEnd(&g->zs);
	free(g);
}

const struct pfi_codec pfi_codec_gzip = {
	.comp = PFI_COMP_GZIP,
	.name = "gzip",
	.in_size = gz_in_size,
	.out_size = gz_out_size,
	.open = gz_open,
	.read = gz_read,
	.close = gz_close,
};
