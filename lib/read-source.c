/*
 * read-source.c - the raw bytes of a log file (struct pfi_rsrc, read-int.h),
 * which read.c and the decompressors (read-*.c) both pull from.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "read-int.h"

/* ======================================================================
 * The raw source.  Codecs pull compressed bytes through pfi_rsrc_fill();
 * the plain codec reads straight into the line buffer once the bytes read
 * ahead for sniffing are used up.
 */

/* One read(2) into dst; *got = 0 at end of input. */
int pfi_rsrc_read(struct pfi_rsrc *src, void *dst, size_t cap, size_t *got)
{
	ssize_t n;

	*got = 0;
	if (src->eof)
		return PFI_OK;
	do
		n = read(src->fd, dst, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		src->fail.kind = PFI_RFAIL_READ;
		src->fail.errnum = errno;
		return PFI_EIO;
	}
	if (n == 0)
		src->eof = 1;
	src->total += (uint64_t)n;
	*got = (size_t)n;
	return PFI_OK;
}

int pfi_rsrc_fill(struct pfi_rsrc *src)
{
	size_t got;
	int rc;

	if (src->pos == src->len)
		src->pos = src->len = 0;
	if (src->len == src->cap)
		return 1;
	rc = pfi_rsrc_read(src, src->buf + src->len, src->cap - src->len, &got);
	if (rc != PFI_OK)
		return rc;
	src->len += got;
	return got > 0;
}

int pfi_rsrc_truncated(struct pfi_rsrc *src)
{
	src->fail.kind = PFI_RFAIL_TRUNCATED;
	return PFI_EIO;
}

int pfi_rsrc_corrupt(struct pfi_rsrc *src, const char *detail)
{
	src->fail.kind = PFI_RFAIL_CORRUPT;
	snprintf(src->fail.detail, sizeof(src->fail.detail), "%s",
	         detail ? detail : "");
	return PFI_EIO;
}
