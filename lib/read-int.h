/*
 * read-int.h - the interface between the line reader (read.c) and its
 * decompression backends (read-gzip.c, read-zstd.c, read-xz.c, read-bz2.c).
 *
 * read.c owns the file descriptor and a raw input buffer (struct pfi_rsrc)
 * and the buffer of decompressed bytes that lines are cut from.  A backend
 * is a struct pfi_codec: it pulls raw bytes from the pfi_rsrc as it needs
 * them and writes decompressed bytes straight into the reader's buffer, so
 * no byte is copied twice.  Backends know nothing about lines; read.c knows
 * nothing about compression formats.
 */
#ifndef PFI_READ_INT_H
#define PFI_READ_INT_H

#include <stddef.h>
#include <stdint.h>

#include "pfi-int.h"

/* Why a source or a codec returned PFI_EIO. */
enum pfi_rfail_kind {
	PFI_RFAIL_NONE = 0,
	PFI_RFAIL_READ,       /* read(2) failed: errnum says why */
	PFI_RFAIL_TRUNCATED,  /* the input ended inside a frame or member */
	PFI_RFAIL_CORRUPT     /* the input is not valid for its format */
};

struct pfi_rfail {
	enum pfi_rfail_kind kind;  /* PFI_RFAIL_NONE while all is well */
	int errnum;                /* errno of a failed read */
	char detail[96];           /* the library's words for corrupt input, or "" */
};

/* Raw (compressed) bytes from the open file, read ahead into buf. */
struct pfi_rsrc {
	int fd;                 /* the file, or 0 for standard input */
	unsigned char *buf;     /* read-ahead buffer */
	size_t cap;             /* bytes allocated in buf */
	size_t pos;             /* first unconsumed byte in buf */
	size_t len;             /* end of the bytes read into buf */
	uint64_t total;         /* raw bytes read from fd so far */
	int eof;                /* read(2) returned 0: no more input */
	struct pfi_rfail fail;  /* set when a call returned PFI_EIO */
};

/*
 * Reads more raw bytes into src->buf after [pos, len), starting over at the
 * front when everything has been consumed.  Returns 1 when bytes were
 * added, 0 at end of input (and from then on), PFI_EIO when read(2) fails
 * (src->fail says why).
 */
int pfi_rsrc_fill(struct pfi_rsrc *src);
/* One read(2) of src->fd into dst (EINTR retried); *got = 0 at end of
 * input.  PFI_OK or PFI_EIO (src->fail set). */
int pfi_rsrc_read(struct pfi_rsrc *src, void *dst, size_t cap, size_t *got);
/* Record a truncated or corrupt stream on src; both return PFI_EIO.
 * `detail` may be NULL. */
int pfi_rsrc_truncated(struct pfi_rsrc *src);
int pfi_rsrc_corrupt(struct pfi_rsrc *src, const char *detail);

/*
 * A decompression backend.  read() decompresses into out[0, cap), cap > 0:
 * it produces at least one byte and sets *got, or sets *got = 0 at the
 * clean end of the input (every frame, member or stream complete).
 * It calls pfi_rsrc_fill() only once src->pos == src->len, and returns
 * PFI_OK; PFI_EIO after recording the failure on src (read error,
 * truncated or corrupt input); PFI_ENOMEM.  A failing call still sets
 * *got to the bytes it produced before the failure, which read.c hands
 * out like any others: what reaches the lines must not depend on how much
 * room each call had.  Concatenated members, frames and streams are one
 * input.
 */
struct pfi_codec {
	enum pfi_compression comp;
	const char *name;              /* "gzip": used in messages */
	size_t (*in_size)(void);       /* advised raw read size */
	size_t (*out_size)(void);      /* advised decompressed chunk size */
	int (*open)(void **state);     /* PFI_OK or PFI_ENOMEM */
	int (*read)(void *state, struct pfi_rsrc *src, char *out, size_t cap,
	            size_t *got);
	void (*close)(void *state);    /* accepts NULL */
};

extern const struct pfi_codec pfi_codec_gzip;   /* read-gzip.c */
extern const struct pfi_codec pfi_codec_zstd;   /* read-zstd.c */
extern const struct pfi_codec pfi_codec_xz;     /* read-xz.c */
extern const struct pfi_codec pfi_codec_bz2;    /* read-bz2.c */

#endif /* PFI_READ_INT_H */
