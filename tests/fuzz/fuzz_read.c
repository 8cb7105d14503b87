/*
 * fuzz_read.c - libFuzzer target for the line reader (lib/read*.c): the
 * input is the content of a file (a memfd, opened by its /proc path), so
 * the reader sniffs plain text, gzip, zstd, xz or bzip2 from its magic
 * bytes and meets truncated and corrupt streams, overlong lines, CRs and
 * NULs.
 *
 * Pass one peeks, then reads every line and notes a hash of each (with
 * its length) and the offset after the first line.  Pass two skips to
 * that offset (pfi_reader_skip) and, for an uncompressed file, pass three
 * seeks there (pfi_reader_seek, with the line number; for compressed data
 * it is a skip); both must hand out the same remaining lines and end the
 * same way.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

#define PEEK_LEN 4096

/* What pass one saw. */
struct seen {
	uint64_t *hash;     /* per line: FNV-1a of its bytes */
	size_t n, cap;      /* lines seen and allocated */
	uint64_t off1;      /* decompressed offset after the first line */
	uint64_t line1;     /* line number of the first line */
	int rc;             /* how pass one ended */
	int plain;          /* not compressed: seek differs from skip */
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("pfi-fuzz-read", MFD_CLOEXEC);
	FUZZ_CHECK(memfd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void put_file(const uint8_t *data, size_t size)
{
	FUZZ_CHECK(ftruncate(memfd, 0) == 0);
	FUZZ_CHECK(size == 0 || pwrite(memfd, data, size, 0) == (ssize_t)size);
}

/* FNV-1a of a line, with its length: reads every byte for ASan. */
static uint64_t line_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL ^ n;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static void seen_add(struct seen *s, uint64_t h)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->hash = realloc(s->hash, s->cap * sizeof(*s->hash));
		FUZZ_CHECK(s->hash != NULL);
	}
	s->hash[s->n++] = h;
}

/* Pass one: peek, then every line. */
static void pass_all(struct seen *s)
{
	struct pfi_reader *r = NULL;
	const char *line;
	size_t len;
	int rc;

	FUZZ_CHECK(pfi_reader_open(&r, path, NULL) == PFI_OK);
	s->plain = pfi_reader_compression(r) == PFI_COMP_NONE;
	rc = pfi_reader_peek(r, PEEK_LEN, &line, &len);
	FUZZ_CHECK(rc == PFI_OK || rc == PFI_EIO);
	if (rc == PFI_OK) {
		FUZZ_CHECK(len <= PEEK_LEN);
		fuzz_check_slice((struct pfi_slice){ line, len }, line, len);
	}
	while ((rc = pfi_reader_next(r, &line, &len)) == PFI_OK) {
		FUZZ_CHECK(len <= PFI_LINE_MAX);
		FUZZ_CHECK(pfi_reader_lineno(r) == s->n + 1);
		seen_add(s, line_hash(line, len));
		if (s->n == 1) {
			s->off1 = pfi_reader_offset(r);
			s->line1 = pfi_reader_lineno(r);
		}
	}
	FUZZ_CHECK(rc == PFI_EOF || rc == PFI_EIO);
	s->rc = rc;
	pfi_reader_close(r);
}

/* Passes two and three: from the second line on, as pass one saw it. */
static void pass_rest(const struct seen *s, int seek)
{
	struct pfi_reader *r = NULL;
	const char *line;
	size_t len, i = 1;
	int rc;

	FUZZ_CHECK(pfi_reader_open(&r, path, NULL) == PFI_OK);
	rc = seek ? pfi_reader_seek(r, s->off1, s->line1)
	          : pfi_reader_skip(r, s->off1);
	FUZZ_CHECK(rc == PFI_OK);
	while ((rc = pfi_reader_next(r, &line, &len)) == PFI_OK) {
		FUZZ_CHECK(i < s->n);
		FUZZ_CHECK(line_hash(line, len) == s->hash[i]);
		FUZZ_CHECK(pfi_reader_lineno(r) == ++i);
	}
	FUZZ_CHECK(rc == s->rc && i == s->n);
	pfi_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	put_file(data, size);
	pass_all(&s);
	if (s.n > 0)
		pass_rest(&s, 0);
	if (s.n > 0 && s.plain)
		pass_rest(&s, 1);
	free(s.hash);
	return 0;
}
