/*
 * read-bz2.c - the bzip2 backend of the line reader (libbz2).
 *
 * libbz2 decodes one stream per init, so at each BZ_STREAM_END the decoder
 * is restarted on the bytes that follow: concatenated streams (as pbzip2
 * and `cat a.bz2 b.bz2` make) are one input.  The input may end only
 * between streams.  bzip2 decodes whole blocks (up to 900 kB), so a
 * truncated stream loses the lines of its last, incomplete block.
 *
 * How much of a corrupt block libbz2 hands out before it says so depends
 * on the size of each output buffer it is given.  So that every reading
 * of a file (from its start, or skipping to an offset) sees the same
 * bytes before the error, the decoder always writes into this backend's
 * own buffer of BZ_OUT_SIZE, whatever room the reader offers.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <bzlib.h>

#include "read-int.h"

#define BZ_IN_SIZE (64 * 1024)
#define BZ_OUT_SIZE (128 * 1024)

struct bz {
	bz_stream bs;   /* the decoder, live between init and end */
	int in_stream;  /* bytes of an unfinished stream have been fed */
	int pending;    /* the last call filled its output: more may be held */
	char out[BZ_OUT_SIZE];  /* decoded, not yet handed out */
	size_t opos, olen;
	int err;        /* the decoder's failure, once out[] is handed out */
};

static size_t bz_in_size(void)
{
	return BZ_IN_SIZE;
}

static size_t bz_out_size(void)
{
	return BZ_OUT_SIZE;
}

static int bz_open(void **state)
{
	struct bz *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return PFI_ENOMEM;
	if (BZ2_bzDecompressInit(&b->bs, 0, 0) != BZ_OK) {
		free(b);
		return PFI_ENOMEM;
	}
	*state = b;
	return PFI_OK;
}

/* Starts over for the next concatenated stream, keeping the output cursor. */
static int bz_restart(struct bz *b)
{
	char *next_out = b->bs.next_out;
	unsigned int avail_out = b->bs.avail_out;

	BZ2_bzDecompressEnd(&b->bs);
	b->bs = (bz_stream){ 0 };
	if (BZ2_bzDecompressInit(&b->bs, 0, 0) != BZ_OK)
		return PFI_ENOMEM;
	b->bs.next_out = next_out;
	b->bs.avail_out = avail_out;
	b->in_stream = 0;
	return PFI_OK;
}

/* One BZ2_bzDecompress() over the raw bytes at hand. */
static int bz_step(struct bz *b, struct pfi_rsrc *src)
{
	size_t avail = src->len - src->pos;
	unsigned int fed = avail > UINT_MAX ? UINT_MAX : (unsigned int)avail;
	int ret;

	b->bs.next_in = (char *)src->buf + src->pos;
	b->bs.avail_in = fed;
	ret = BZ2_bzDecompress(&b->bs);
	src->pos += fed - b->bs.avail_in;
	b->pending = b->bs.avail_out == 0;
	if (ret == BZ_STREAM_END)
		return bz_restart(b);
	if (b->bs.avail_in < fed)
		b->in_stream = 1;
	if (ret == BZ_OK)
		return PFI_OK;
	if (ret == BZ_MEM_ERROR)
		return PFI_ENOMEM;
	if (ret == BZ_DATA_ERROR_MAGIC)
		return pfi_rsrc_corrupt(src, "not in the bzip2 format");
	return pfi_rsrc_corrupt(src, "compressed data is corrupt");
}

/* Decodes into out (cap bytes) until some output, the end or a failure. */
static int bz_decode(struct bz *b, struct pfi_rsrc *src, char *out,
                     size_t cap, size_t *got)
{
	unsigned int room = cap > UINT_MAX ? UINT_MAX : (unsigned int)cap;
	int rc = PFI_OK;

	*got = 0;
	b->bs.next_out = out;
	b->bs.avail_out = room;
	while (b->bs.avail_out == room) {
		if (src->pos == src->len && !b->pending) {
			rc = pfi_rsrc_fill(src);
			if (rc < 0)
				return rc;
			if (rc == 0 && b->in_stream)
				return pfi_rsrc_truncated(src);
			if (rc == 0)
				break;
		}
		rc = bz_step(b, src);
		if (rc != PFI_OK)
			break;
	}
	*got = room - b->bs.avail_out;
	return rc;
}

static int bz_read(void *state, struct pfi_rsrc *src, char *out, size_t cap,
                   size_t *got)
{
	struct bz *b = state;
	size_t n;

	*got = 0;
	if (b->opos == b->olen && b->err == PFI_OK) {
		b->opos = 0;
		b->err = bz_decode(b, src, b->out, sizeof(b->out), &b->olen);
	}
	n = b->olen - b->opos < cap ? b->olen - b->opos : cap;
	memcpy(out, b->out + b->opos, n);
	b->opos += n;
	*got = n;
	return b->opos == b->olen ? b->err : PFI_OK;
}

static void bz_close(void *state)
{
	struct bz *b = state;

	if (b == NULL)
		return;
	BZ2_bzDecompressEnd(&b->bs);
	free(b);
}

const struct pfi_codec pfi_codec_bz2 = {
	.comp = PFI_COMP_BZIP2,
	.name = "bzip2",
	.in_size = bz_in_size,
	.out_size = bz_out_size,
	.open = bz_open,
	.read = bz_read,
	.close = bz_close,
};
