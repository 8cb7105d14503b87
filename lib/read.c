/*
 * read.c - the line reader: opens a log file or standard input, recognises
 * gzip, zstd, xz and bzip2 by their magic bytes (never by the name), and
 * hands out its lines with their numbers and byte offsets.
 *
 * Design: decompressed bytes go into one buffer; [pos, end) has not been
 * handed out yet.  pfi_reader_next() finds the newline with memchr and
 * hands out the line in place (a slice of the buffer, its "\n" or "\r\n"
 * overwritten with a NUL).  Only when no newline is left does it move the
 * partial line to the front and fill the rest, so a line is copied only
 * when it straddles a refill.  The buffer holds PFI_LINE_MAX + 2 bytes more
 * than one fill, so a line of up to PFI_LINE_MAX bytes always fits with its
 * "\r\n"; a longer one is cut (copied once) and the rest skipped.
 *
 * Failures of the input (read errors, truncated or corrupt compressed
 * data) are kept pending until every complete line before them has been
 * handed out; the partial line at the damage is dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pfi-int.h"
#include "read-int.h"

#define SNIFF_LEN 6               /* the longest magic: xz */
#define RAW_DEFAULT (64 * 1024)   /* raw buffer before the format is known */
#define PLAIN_CHUNK (256 * 1024)  /* read(2) size for uncompressed files */

struct pfi_reader {
	struct pfi_rsrc src;            /* raw bytes from the file */
	const struct pfi_codec *codec;  /* plain copy or a decompressor */
	void *cstate;                   /* the codec's state */
	char *buf;                      /* decompressed bytes (cap + 1 allocated) */
	size_t cap;                     /* bytes buf may hold before the spare NUL */
	size_t pos;                     /* first byte not handed out yet */
	size_t end;                     /* end of the bytes in buf */
	uint64_t base;                  /* decompressed offset of buf[0] */
	uint64_t lineno;                /* number of the last line handed out */
	char *cut;                      /* head of an overlong line, PFI_LINE_MAX + 1 */
	int truncated;                  /* the last line handed out was cut */
	int unterminated;               /* ... had no newline (end of input) */
	int eof;                        /* the codec reported the clean end */
	int pending;                    /* failure to report once lines run out */
	int is_stdin;                   /* fd 0: neither closed nor lseek'ed */
	int is_reg;                     /* a regular file */
	char *path;                     /* as given to pfi_reader_open() */
	const char *shown;              /* the name used in messages */
	uint64_t dev, ino, size;        /* fstat of a regular file, else 0 */
	time_t mtime;                   /* fstat of a regular file, else 0 */
	struct pfi_err err;             /* the message of the last failure */
};

/* ======================================================================
 * The plain "codec": hands over the bytes read ahead, then reads directly.
 */

static size_t plain_in_size(void)
{
	return RAW_DEFAULT;
}

static size_t plain_out_size(void)
{
	return PLAIN_CHUNK;
}

static int plain_open(void **state)
{
	*state = NULL;
	return PFI_OK;
}

static int plain_read(void *state, struct pfi_rsrc *src, char *out, size_t cap,
                      size_t *got)
{
	size_t n = src->len - src->pos;

	if (n == 0)
		return pfi_rsrc_read(src, out, cap, got);
	if (n > cap)
		n = cap;
	memcpy(out, src->buf + src->pos, n);
	src->pos += n;
	*got = n;
	return PFI_OK;
}

static void plain_close(void *state)
{
}

static const struct pfi_codec codec_plain = {
	.comp = PFI_COMP_NONE,
	.name = "plain",
	.in_size = plain_in_size,
	.out_size = plain_out_size,
	.open = plain_open,
	.read = plain_read,
	.close = plain_close,
};

/* ======================================================================
 * Opening: the file, its identity, the magic bytes, the buffers.
 */

static const struct {
	const char *magic;
	size_t len;
	const struct pfi_codec *codec;
} magics[] = {
	{ "\x1f\x8b", 2, &pfi_codec_gzip },
	{ "\x28\xb5\x2f\xfd", 4, &pfi_codec_zstd },
	{ "\xfd\x37\x7a\x58\x5a\x00", 6, &pfi_codec_xz },
	{ "BZh", 3, &pfi_codec_bz2 },
};

static int reader_open_fd(struct pfi_reader *r)
{
	int fd;

	if (r->is_stdin) {
		r->src.fd = 0;
		return PFI_OK;
	}
	fd = open(r->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return pfi_err_set(&r->err, PFI_EIO, "cannot open '%s': %s",
		                   r->shown, strerror(errno));
	r->src.fd = fd;
	return PFI_OK;
}

/* Records the identity of a regular file; a pipe or a tty keeps zeros. */
static int reader_stat(struct pfi_reader *r)
{
	struct stat st;

	if (fstat(r->src.fd, &st) < 0)
		return pfi_err_set(&r->err, PFI_EIO, "cannot stat '%s': %s",
		                   r->shown, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return PFI_OK;
	r->is_reg = 1;
	r->dev = (uint64_t)st.st_dev;
	r->ino = (uint64_t)st.st_ino;
	r->size = (uint64_t)st.st_size;
	r->mtime = st.st_mtime;
	posix_fadvise(r->src.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return PFI_OK;
}

/* Reads the first bytes (a pipe may hand them over a few at a time) and
 * picks the codec their magic names. */
static int reader_sniff(struct pfi_reader *r)
{
	size_t i;
	int rc = 1;

	while (r->src.len < SNIFF_LEN && rc > 0)
		rc = pfi_rsrc_fill(&r->src);
	if (rc < 0)
		return pfi_err_set(&r->err, PFI_EIO, "cannot read '%s': %s",
		                   r->shown, strerror(r->src.fail.errnum));
	r->codec = &codec_plain;
	for (i = 0; i < PFI_ARRAY_SIZE(magics); i++) {
		if (r->src.len >= magics[i].len &&
		    memcmp(r->src.buf, magics[i].magic, magics[i].len) == 0)
			r->codec = magics[i].codec;
	}
	return PFI_OK;
}

/* Sizes the raw buffer for the codec, starts it, makes the line buffer. */
static int reader_setup(struct pfi_reader *r)
{
	size_t in = r->codec->in_size();
	unsigned char *raw;
	int rc;

	if (in > r->src.cap) {
		raw = realloc(r->src.buf, in);
		if (raw == NULL)
			return PFI_ENOMEM;
		r->src.buf = raw;
		r->src.cap = in;
	}
	rc = r->codec->open(&r->cstate);
	if (rc != PFI_OK)
		return rc;
	r->cap = PFI_LINE_MAX + 2 + r->codec->out_size();
	r->buf = malloc(r->cap + 1);
	return r->buf ? PFI_OK : PFI_ENOMEM;
}

static int reader_new(struct pfi_reader **out, const char *path)
{
	struct pfi_reader *r = calloc(1, sizeof(*r));

	*out = r;
	if (r == NULL)
		return PFI_ENOMEM;
	r->src.fd = -1;
	r->is_stdin = strcmp(path, "-") == 0;
	r->path = strdup(path);
	r->shown = r->is_stdin ? "(standard input)" : r->path;
	r->src.cap = RAW_DEFAULT;
	r->src.buf = malloc(r->src.cap);
	return r->path && r->src.buf ? PFI_OK : PFI_ENOMEM;
}

int pfi_reader_open(struct pfi_reader **out, const char *path,
                    struct pfi_err *err)
{
	struct pfi_reader *r = NULL;
	int rc;

	*out = NULL;
	rc = reader_new(&r, path);
	if (rc == PFI_OK)
		rc = reader_open_fd(r);
	if (rc == PFI_OK)
		rc = reader_stat(r);
	if (rc == PFI_OK)
		rc = reader_sniff(r);
	if (rc == PFI_OK)
		rc = reader_setup(r);
	if (rc == PFI_ENOMEM)
		rc = pfi_err_set(err, rc, "out of memory opening '%s'", path);
	else if (rc != PFI_OK && err != NULL)
		*err = r->err;
	if (rc != PFI_OK) {
		pfi_reader_close(r);
		return rc;
	}
	*out = r;
	return PFI_OK;
}

void pfi_reader_close(struct pfi_reader *r)
{
	if (r == NULL)
		return;
	if (r->codec != NULL)
		r->codec->close(r->cstate);
	if (r->src.fd >= 0 && !r->is_stdin)
		close(r->src.fd);
	free(r->src.buf);
	free(r->buf);
	free(r->cut);
	free(r->path);
	free(r);
}

/* ======================================================================
 * The decompressed buffer.
 */

/* Turns the pending failure into the reader's message and status. */
static int reader_fail(struct pfi_reader *r)
{
	const struct pfi_rfail *f = &r->src.fail;
	unsigned long long n = r->lineno;

	if (r->pending == PFI_ENOMEM)
		return pfi_err_set(&r->err, PFI_ENOMEM,
		                   "out of memory reading '%s'", r->shown);
	if (f->kind == PFI_RFAIL_READ)
		return pfi_err_set(&r->err, PFI_EIO,
		                   "cannot read '%s' after line %llu: %s",
		                   r->shown, n, strerror(f->errnum));
	if (f->kind == PFI_RFAIL_TRUNCATED)
		return pfi_err_set(&r->err, PFI_EIO,
		                   "'%s': truncated %s input after line %llu",
		                   r->shown, r->codec->name, n);
	return pfi_err_set(&r->err, PFI_EIO,
	                   "'%s': corrupt %s input after line %llu%s%s",
	                   r->shown, r->codec->name, n,
	                   f->detail[0] ? ": " : "", f->detail);
}

/* Moves the bytes not handed out yet to the front of the buffer. */
static void reader_compact(struct pfi_reader *r)
{
	memmove(r->buf, r->buf + r->pos, r->end - r->pos);
	r->base += r->pos;
	r->end -= r->pos;
	r->pos = 0;
}

/*
 * Decompresses more bytes after the unread ones.  Returns 1 when bytes
 * were added (a failure right after them is kept in r->pending for the
 * next call); 0 at the clean end or after a failure.  The caller
 * guarantees room: end - pos < cap.
 */
static int reader_more(struct pfi_reader *r)
{
	size_t got = 0;
	int rc;

	if (r->eof || r->pending)
		return 0;
	if (r->pos > 0)
		reader_compact(r);
	rc = r->codec->read(r->cstate, &r->src, r->buf + r->end,
	                    r->cap - r->end, &got);
	if (rc != PFI_OK) {
		r->pending = rc;
		r->end += got;
		return got > 0;
	}
	if (got == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += got;
	return 1;
}

/* Counts the newlines in p[0, n). */
static uint64_t count_lines(const char *p, size_t n)
{
	const char *end = p + n;
	uint64_t lines = 0;

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p++;
	}
	return lines;
}

/* ======================================================================
 * Lines.
 */

/* Hands out the n bytes at pos as a line followed by `eol` newline bytes. */
static int reader_take(struct pfi_reader *r, size_t n, size_t eol,
                       const char **line, size_t *len)
{
	char *p = r->buf + r->pos;

	r->pos += n + eol;
	r->lineno++;
	r->unterminated = eol == 0;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > PFI_LINE_MAX) {
		n = PFI_LINE_MAX;
		r->truncated = 1;
	}
	p[n] = '\0';
	*line = p;
	*len = n;
	return PFI_OK;
}

/* Discards bytes up to and including the next newline (or the end). */
static int reader_skip_rest(struct pfi_reader *r)
{
	char *nl;

	for (;;) {
		nl = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		if (nl != NULL) {
			r->pos = (size_t)(nl - r->buf) + 1;
			return PFI_OK;
		}
		r->pos = r->end;
		if (!reader_more(r))
			return r->pending ? reader_fail(r) : PFI_OK;
	}
}

/* Hands out the first PFI_LINE_MAX bytes of a line longer than the buffer
 * can show at once, and drops the rest of it. */
static int reader_cut(struct pfi_reader *r, const char **line, size_t *len)
{
	int rc;

	if (r->cut == NULL && (r->cut = malloc(PFI_LINE_MAX + 1)) == NULL)
		return pfi_err_set(&r->err, PFI_ENOMEM,
		                   "out of memory reading '%s'", r->shown);
	memcpy(r->cut, r->buf + r->pos, PFI_LINE_MAX);
	r->cut[PFI_LINE_MAX] = '\0';
	r->pos += PFI_LINE_MAX;
	rc = reader_skip_rest(r);
	if (rc != PFI_OK)
		return rc;
	r->lineno++;
	r->truncated = 1;
	*line = r->cut;
	*len = PFI_LINE_MAX;
	return PFI_OK;
}

/* No newline is left: the last line without one, the end, or the failure. */
static int reader_last(struct pfi_reader *r, const char **line, size_t *len)
{
	if (r->pending)
		return reader_fail(r);
	if (r->pos == r->end)
		return PFI_EOF;
	return reader_take(r, r->end - r->pos, 0, line, len);
}

int pfi_reader_next(struct pfi_reader *r, const char **line, size_t *len)
{
	const char *nl;
	size_t avail;

	r->truncated = 0;
	for (;;) {
		avail = r->end - r->pos;
		nl = memchr(r->buf + r->pos, '\n', avail);
		if (nl != NULL)
			return reader_take(r, (size_t)(nl - (r->buf + r->pos)),
			                   1, line, len);
		if (avail > PFI_LINE_MAX + 1)
			return reader_cut(r, line, len);
		if (!reader_more(r))
			return reader_last(r, line, len);
	}
}

/* ======================================================================
 * Peek and skip.
 */

int pfi_reader_peek(struct pfi_reader *r, size_t want, const char **data,
                    size_t *got)
{
	char *p;

	if (want > r->cap) {
		p = realloc(r->buf, want + 1);
		if (p == NULL)
			return pfi_err_set(&r->err, PFI_ENOMEM,
			                   "out of memory reading '%s'", r->shown);
		r->buf = p;
		r->cap = want;
	}
	if (r->pos + want > r->cap)
		reader_compact(r);
	while (r->end - r->pos < want && reader_more(r))
		;
	*data = r->buf + r->pos;
	*got = r->end - r->pos < want ? r->end - r->pos : want;
	/* Damage after some bytes is reported by _next(), after their lines. */
	if (*got == 0 && want > 0 && r->pending)
		return reader_fail(r);
	return PFI_OK;
}

/* Counts the newlines of a regular file's first `offset` bytes with
 * pread(2), in the line buffer (whose contents are dropped). */
static int reader_count_file(struct pfi_reader *r, uint64_t offset,
                             uint64_t *lines)
{
	uint64_t at = 0;
	ssize_t n;
	size_t want;

	r->pos = r->end = 0;
	while (at < offset) {
		want = offset - at < r->cap ? (size_t)(offset - at) : r->cap;
		n = pread(r->src.fd, r->buf, want, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return pfi_err_set(&r->err, PFI_EIO, "cannot read '%s': %s",
			                   r->shown, strerror(errno));
		if (n == 0)
			break;
		*lines += count_lines(r->buf, (size_t)n);
		at += (uint64_t)n;
	}
	r->base = at;
	return at == offset ? PFI_OK : PFI_EOF;
}

/* Positions a named plain file at `offset`, line `lines`. */
static int reader_position(struct pfi_reader *r, uint64_t offset,
                           uint64_t lines, int rc)
{
	r->lineno = lines;
	if (rc == PFI_OK && lseek(r->src.fd, (off_t)offset, SEEK_SET) < 0)
		rc = pfi_err_set(&r->err, PFI_EIO, "cannot seek in '%s': %s",
		                 r->shown, strerror(errno));
	if (rc != PFI_OK) {
		r->eof = 1;   /* the buffer was dropped: nothing more to hand out */
		return rc;
	}
	r->src.pos = r->src.len = 0;
	r->src.eof = 0;
	r->src.total = offset;
	r->eof = 0;
	return PFI_OK;
}

/* Compressed data or a pipe: decompress and drop, counting newlines. */
static int reader_skip_stream(struct pfi_reader *r, uint64_t offset)
{
	uint64_t at = r->base + r->pos;
	size_t n;

	if (offset < at)
		return pfi_err_set(&r->err, PFI_EINVAL,
		                   "cannot skip back in '%s'", r->shown);
	while (at < offset) {
		if (r->pos == r->end && !reader_more(r))
			return r->pending ? reader_fail(r) : PFI_EOF;
		n = r->end - r->pos;
		if (n > offset - at)
			n = (size_t)(offset - at);
		r->lineno += count_lines(r->buf + r->pos, n);
		r->pos += n;
		at += n;
	}
	return PFI_OK;
}

/* A named plain file: count the skipped lines, then lseek past them. */
static int reader_skip_file(struct pfi_reader *r, uint64_t offset)
{
	uint64_t lines = 0;
	int rc = reader_count_file(r, offset, &lines);

	return reader_position(r, offset, lines, rc);
}

int pfi_reader_seek(struct pfi_reader *r, uint64_t offset, uint64_t lineno)
{
	if (r->codec != &codec_plain || !r->is_reg || r->is_stdin)
		return pfi_reader_skip(r, offset);
	if (offset > r->size)
		return PFI_EOF;
	r->pos = r->end = 0;
	r->base = offset;
	return reader_position(r, offset, lineno, PFI_OK);
}

int pfi_reader_unterminated(const struct pfi_reader *r)
{
	return r->unterminated;
}

int pfi_reader_skip(struct pfi_reader *r, uint64_t offset)
{
	if (r->codec == &codec_plain && r->is_reg && !r->is_stdin)
		return reader_skip_file(r, offset);
	return reader_skip_stream(r, offset);
}

/* ======================================================================
 * Accessors.
 */

uint64_t pfi_reader_lineno(const struct pfi_reader *r)
{
	return r->lineno;
}

uint64_t pfi_reader_offset(const struct pfi_reader *r)
{
	return r->base + r->pos;
}

uint64_t pfi_reader_raw_offset(const struct pfi_reader *r)
{
	return r->src.total;
}

int pfi_reader_truncated(const struct pfi_reader *r)
{
	return r->truncated;
}

enum pfi_compression pfi_reader_compression(const struct pfi_reader *r)
{
	return r->codec->comp;
}

const char *pfi_reader_path(const struct pfi_reader *r)
{
	return r->path;
}

void pfi_reader_stat(const struct pfi_reader *r, uint64_t *dev, uint64_t *ino,
                     uint64_t *size, time_t *mtime)
{
	*dev = r->dev;
	*ino = r->ino;
	*size = r->size;
	*mtime = r->mtime;
}

const struct pfi_err *pfi_reader_err(const struct pfi_reader *r)
{
	return &r->err;
}
