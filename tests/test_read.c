/*
 * test_read.c - the line reader: plain, gzip, zstd, xz and bzip2 input,
 * concatenated members/frames/streams, truncated and corrupt input, CRLF,
 * a missing final newline, empty files, overlong lines, NUL bytes, peek,
 * skip, standard input, and error texts.
 *
 * Fixtures are in testdata/read/ (see make-fixtures.sh there); large
 * inputs are written to temporary files by the tests themselves.  Every
 * expectation is computed from testdata/read/sample.txt with plain stdio,
 * not with the reader.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "pfi-int.h"

TestSuite(read, .timeout = 30);

/* ---- helpers ------------------------------------------------------------ */

#define SAMPLE_LINES 40

/* The path of testdata/read/NAME (TESTDATA_DIR from the environment wins). */
static const char *fixture(const char *name)
{
	static char path[1024];
	const char *dir = getenv("TESTDATA_DIR");

	if (dir == NULL || dir[0] == '\0')
		dir = TESTDATA_DIR;
	snprintf(path, sizeof(path), "%s/read/%s", dir, name);
	return path;
}

/* The whole file, malloc'ed; *len is its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data;
	long n;

	cr_assert_not_null(f, "cannot open fixture %s: %s", path, strerror(errno));
	cr_assert_eq(fseek(f, 0, SEEK_END), 0, "cannot seek in %s", path);
	n = ftell(f);
	cr_assert_geq(n, 0, "cannot size %s", path);
	rewind(f);
	data = malloc((size_t)n + 1);
	cr_assert_not_null(data, "out of memory");
	cr_assert_eq(fread(data, 1, (size_t)n, f), (size_t)n, "short read of %s", path);
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Reference lines of a LF-terminated text: start offsets and lengths. */
struct ref {
	char *data;
	size_t size;
	size_t n;
	size_t start[SAMPLE_LINES + 1];
	size_t len[SAMPLE_LINES + 1];
};

static void ref_load(struct ref *ref, const char *name)
{
	size_t at = 0;
	char *nl;

	ref->data = slurp(fixture(name), &ref->size);
	ref->n = 0;
	while (at < ref->size) {
		nl = memchr(ref->data + at, '\n', ref->size - at);
		cr_assert_not_null(nl, "%s must end with a newline", name);
		cr_assert_lt(ref->n, SAMPLE_LINES + 1, "%s has too many lines", name);
		ref->start[ref->n] = at;
		ref->len[ref->n] = (size_t)(nl - (ref->data + at));
		ref->n++;
		at = (size_t)(nl - ref->data) + 1;
	}
}

/* Offset just after line `i` (0-based) of the reference. */
static uint64_t ref_end(const struct ref *ref, size_t i)
{
	return ref->start[i] + ref->len[i] + 1;
}

static struct pfi_reader *open_ok(const char *path)
{
	struct pfi_err err = { 0 };
	struct pfi_reader *r = NULL;
	int rc = pfi_reader_open(&r, path, &err);

	cr_assert_eq(rc, PFI_OK, "opening %s: rc %d, %s", path, rc, err.msg);
	cr_assert_not_null(r, "opening %s gave no reader", path);
	return r;
}

static void expect_line(struct pfi_reader *r, const char *want, size_t want_len,
                        uint64_t lineno)
{
	const char *line = NULL;
	size_t len = 0;
	int rc = pfi_reader_next(r, &line, &len);

	cr_assert_eq(rc, PFI_OK, "line %llu: rc %d (%s)", (unsigned long long)lineno,
	             rc, pfi_reader_err(r)->msg);
	cr_assert_eq(len, want_len, "line %llu: length %zu, want %zu",
	             (unsigned long long)lineno, len, want_len);
	cr_assert_eq(memcmp(line, want, len), 0, "line %llu differs: '%.*s'",
	             (unsigned long long)lineno, (int)len, line);
	cr_assert_eq(pfi_reader_lineno(r), lineno, "lineno %llu, want %llu",
	             (unsigned long long)pfi_reader_lineno(r),
	             (unsigned long long)lineno);
	cr_assert_eq(pfi_reader_truncated(r), 0, "line %llu flagged as cut",
	             (unsigned long long)lineno);
}

static void expect_eof(struct pfi_reader *r)
{
	const char *line = NULL;
	size_t len = 0;
	int rc = pfi_reader_next(r, &line, &len);

	cr_assert_eq(rc, PFI_EOF, "want EOF, got rc %d (%s) line '%.*s'", rc,
	             pfi_reader_err(r)->msg, line ? (int)len : 0, line ? line : "");
}

/* Reads all of `r` and checks it against the reference, offsets too. */
static void expect_ref(struct pfi_reader *r, const struct ref *ref)
{
	size_t i;

	for (i = 0; i < ref->n; i++) {
		expect_line(r, ref->data + ref->start[i], ref->len[i], i + 1);
		cr_assert_eq(pfi_reader_offset(r), ref_end(ref, i),
		             "offset after line %zu: %llu, want %llu", i + 1,
		             (unsigned long long)pfi_reader_offset(r),
		             (unsigned long long)ref_end(ref, i));
	}
	expect_eof(r);
	cr_assert_eq(pfi_reader_offset(r), ref->size, "final offset");
}

/* A temporary file holding data[0, len); the caller unlinks it. */
static void tmp_write(char *path, size_t size, const void *data, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, size, "%s/pfi-test-read-XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, data, len), (ssize_t)len, "short write to %s", path);
	close(fd);
}

static void tmp_write_gz(char *path, size_t size, const void *data, size_t len)
{
	gzFile gz;

	tmp_write(path, size, "", 0);
	gz = gzopen(path, "wb6");
	cr_assert_not_null(gz, "gzopen %s", path);
	cr_assert_eq(gzwrite(gz, data, (unsigned)len), (int)len, "gzwrite");
	cr_assert_eq(gzclose(gz), Z_OK, "gzclose");
}

static void tmp_write_zst(char *path, size_t size, const void *data, size_t len)
{
	size_t cap = ZSTD_compressBound(len), n;
	void *out = malloc(cap);

	cr_assert_not_null(out, "out of memory");
	n = ZSTD_compress(out, cap, data, len, 3);
	cr_assert(!ZSTD_isError(n), "ZSTD_compress: %s", ZSTD_getErrorName(n));
	tmp_write(path, size, out, n);
	free(out);
}

/* Makes fd 0 read `path` (the test runs in its own process). */
static void stdin_from_file(const char *path)
{
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(dup2(fd, 0), 0, "dup2: %s", strerror(errno));
	close(fd);
}

/* Makes fd 0 a pipe that holds the bytes of `path` (small) and then ends. */
static void stdin_from_pipe(const char *path)
{
	size_t len;
	char *data = slurp(path, &len);
	int p[2];

	cr_assert_lt(len, (size_t)4096, "fixture too big for a pipe buffer");
	cr_assert_eq(pipe(p), 0, "pipe: %s", strerror(errno));
	cr_assert_eq(write(p[1], data, len), (ssize_t)len, "write to pipe");
	close(p[1]);
	cr_assert_eq(dup2(p[0], 0), 0, "dup2: %s", strerror(errno));
	close(p[0]);
	free(data);
}

/* ---- every format gives the same lines --------------------------------- */

struct fmt_case {
	char file[32];               /* fixture name */
	enum pfi_compression comp;   /* what its magic says */
};

ParameterizedTestParameters(read, each_format_yields_the_lines_of_the_plain_file)
{
	static struct fmt_case cases[] = {
		{ "sample.txt", PFI_COMP_NONE },
		{ "sample.txt.gz", PFI_COMP_GZIP },
		{ "sample.txt.zst", PFI_COMP_ZSTD },
		{ "sample.txt.xz", PFI_COMP_XZ },
		{ "sample.txt.bz2", PFI_COMP_BZIP2 },
		{ "zstd-named.gz", PFI_COMP_ZSTD },
		{ "two-members.gz", PFI_COMP_GZIP },
		{ "two-frames.zst", PFI_COMP_ZSTD },
		{ "two-streams.xz", PFI_COMP_XZ },
		{ "two-streams.bz2", PFI_COMP_BZIP2 },
	};
	return cr_make_param_array(struct fmt_case, cases, PFI_ARRAY_SIZE(cases));
}

ParameterizedTest(struct fmt_case *c, read, each_format_yields_the_lines_of_the_plain_file)
{
	struct ref ref;
	struct pfi_reader *r;
	struct stat st;
	uint64_t dev, ino, size;
	time_t mtime;

	ref_load(&ref, "sample.txt");
	cr_assert_eq(ref.n, SAMPLE_LINES, "sample.txt has %zu lines", ref.n);
	r = open_ok(fixture(c->file));
	cr_assert_eq(pfi_reader_compression(r), c->comp, "%s: compression %d, want %d",
	             c->file, pfi_reader_compression(r), c->comp);
	cr_assert_str_eq(pfi_reader_path(r), fixture(c->file), "path kept as given");
	expect_ref(r, &ref);
	cr_assert_eq(stat(fixture(c->file), &st), 0, "stat %s", c->file);
	cr_assert_eq(pfi_reader_raw_offset(r), (uint64_t)st.st_size,
	             "%s: raw offset %llu at the end, file size %lld", c->file,
	             (unsigned long long)pfi_reader_raw_offset(r),
	             (long long)st.st_size);
	pfi_reader_stat(r, &dev, &ino, &size, &mtime);
	cr_assert_eq(dev, (uint64_t)st.st_dev, "dev");
	cr_assert_eq(ino, (uint64_t)st.st_ino, "ino");
	cr_assert_eq(size, (uint64_t)st.st_size, "size");
	cr_assert_eq(mtime, st.st_mtime, "mtime");
	pfi_reader_close(r);
	free(ref.data);
}

/* ---- truncated and corrupt input ------------------------------------------ */

struct trunc_case {
	char file[32];      /* fixture name */
	char format[8];     /* format named in the message */
	size_t min_lines;   /* complete lines known to precede the damage */
};

ParameterizedTestParameters(read, truncated_input_keeps_complete_lines_then_names_the_file)
{
	static struct trunc_case cases[] = {
		{ "truncated.gz", "gzip", 20 },
		{ "truncated.zst", "zstd", 20 },
		{ "truncated.xz", "xz", 20 },
		{ "truncated.bz2", "bzip2", 20 },
		{ "truncated-member.gz", "gzip", 1 },
	};
	return cr_make_param_array(struct trunc_case, cases, PFI_ARRAY_SIZE(cases));
}

ParameterizedTest(struct trunc_case *c, read, truncated_input_keeps_complete_lines_then_names_the_file)
{
	struct ref ref;
	struct pfi_reader *r;
	const char *line;
	size_t len, n = 0;
	char want[1200];
	int rc;

	ref_load(&ref, "sample.txt");
	r = open_ok(fixture(c->file));
	while ((rc = pfi_reader_next(r, &line, &len)) == PFI_OK) {
		cr_assert_lt(n, ref.n, "%s: more lines than were compressed", c->file);
		cr_assert_eq(len, ref.len[n], "%s: line %zu is not complete (%zu bytes)",
		             c->file, n + 1, len);
		cr_assert_eq(memcmp(line, ref.data + ref.start[n], len), 0,
		             "%s: line %zu differs", c->file, n + 1);
		n++;
	}
	cr_assert_eq(rc, PFI_EIO, "%s: rc %d, want PFI_EIO", c->file, rc);
	cr_assert_geq(n, c->min_lines, "%s: only %zu lines before the damage", c->file, n);
	cr_assert_lt(n, ref.n, "%s: all lines came out of a truncated file", c->file);
	cr_assert_eq(pfi_reader_lineno(r), n, "lineno after the failure");
	snprintf(want, sizeof(want), "'%s': truncated %s input after line %zu",
	         fixture(c->file), c->format, n);
	cr_assert_str_eq(pfi_reader_err(r)->msg, want, "message");
	cr_assert_eq(pfi_reader_err(r)->code, PFI_EIO, "code kept on the reader");
	rc = pfi_reader_next(r, &line, &len);
	cr_assert_eq(rc, PFI_EIO, "the failure repeats: rc %d", rc);
	pfi_reader_close(r);
	free(ref.data);
}

Test(read, garbage_after_gzip_magic_is_corrupt_input_naming_the_file)
{
	struct pfi_reader *r = open_ok(fixture("garbage.gz"));
	const char *line;
	size_t len;
	char want[1200];
	int rc;

	cr_assert_eq(pfi_reader_compression(r), PFI_COMP_GZIP, "sniffed as gzip");
	rc = pfi_reader_next(r, &line, &len);
	cr_assert_eq(rc, PFI_EIO, "rc %d, want PFI_EIO", rc);
	snprintf(want, sizeof(want), "'%s': corrupt gzip input after line 0: ",
	         fixture("garbage.gz"));
	cr_assert_eq(strncmp(pfi_reader_err(r)->msg, want, strlen(want)), 0,
	             "message '%s' should start with '%s'", pfi_reader_err(r)->msg, want);
	cr_assert_null(strchr(pfi_reader_err(r)->msg, '\n'), "one-line message");
	pfi_reader_close(r);
}

Test(read, peek_of_input_damaged_at_once_reports_the_damage)
{
	struct pfi_reader *r = open_ok(fixture("garbage.gz"));
	const char *data;
	size_t got = 99;
	int rc = pfi_reader_peek(r, 16, &data, &got);

	cr_assert_eq(rc, PFI_EIO, "rc %d, want PFI_EIO", rc);
	cr_assert_eq(got, 0, "no bytes decoded, got %zu", got);
	cr_assert_not_null(strstr(pfi_reader_err(r)->msg, "corrupt gzip input"),
	                   "message '%s'", pfi_reader_err(r)->msg);
	pfi_reader_close(r);
}

Test(read, peek_of_damaged_input_gives_the_bytes_before_the_damage)
{
	struct ref ref;
	struct pfi_reader *r;
	const char *data, *line;
	size_t got, len, n = 0;
	int rc;

	ref_load(&ref, "sample.txt");
	r = open_ok(fixture("truncated-member.gz"));
	rc = pfi_reader_peek(r, ref.size, &data, &got);
	cr_assert_eq(rc, PFI_OK, "peek rc %d (%s)", rc, pfi_reader_err(r)->msg);
	cr_assert(got > 0 && got < ref.size, "peeked %zu of %zu bytes", got, ref.size);
	cr_assert_eq(memcmp(data, ref.data, got), 0, "peeked bytes are the file's");
	while ((rc = pfi_reader_next(r, &line, &len)) == PFI_OK)
		n++;
	cr_assert_eq(rc, PFI_EIO, "the damage still ends the lines: rc %d", rc);
	cr_assert_geq(n, 1, "complete lines still come out");
	pfi_reader_close(r);
	free(ref.data);
}

/*
 * sample.txt.bz2 with its block CRC flipped: bzip2 decodes the whole block
 * and only then reports the damage, in the call that produced its last
 * bytes.  Found by tests/fuzz/fuzz_read: those bytes were dropped, so the
 * lines handed out before the failure depended on how much room the call
 * had (a peek first changed them).  Now every decoded line comes out, with
 * or without a peek, and then the failure.
 */
static void expect_lines_then_corrupt(const char *path, int peek)
{
	struct ref ref;
	struct pfi_reader *r;
	const char *data;
	char want[1200];
	size_t got, i;

	ref_load(&ref, "sample.txt");
	r = open_ok(path);
	if (peek)
		cr_assert_eq(pfi_reader_peek(r, 4096, &data, &got), PFI_OK);
	for (i = 0; i < ref.n; i++)
		expect_line(r, ref.data + ref.start[i], ref.len[i], i + 1);
	cr_assert_eq(pfi_reader_next(r, &data, &got), PFI_EIO);
	snprintf(want, sizeof(want), "'%s': corrupt bzip2 input after line %zu:"
	         " compressed data is corrupt", path, ref.n);
	cr_assert_str_eq(pfi_reader_err(r)->msg, want);
	pfi_reader_close(r);
	free(ref.data);
}

Test(read, lines_decoded_before_a_bad_checksum_come_out_whatever_the_room)
{
	char path[1024];
	size_t len;
	char *bz = slurp(fixture("sample.txt.bz2"), &len);

	/* "BZh9", the block magic "1AY&SY", then the block CRC. */
	cr_assert_gt(len, 14);
	cr_assert_eq(memcmp(bz + 4, "1AY&SY", 6), 0, "a bzip2 block at 4");
	bz[10] ^= 0xff;
	tmp_write(path, sizeof(path), bz, len);
	expect_lines_then_corrupt(path, 0);
	expect_lines_then_corrupt(path, 1);
	unlink(path);
	free(bz);
}

/* ---- line shapes ---------------------------------------------------------- */

Test(read, crlf_lines_lose_their_carriage_return)
{
	struct pfi_reader *r = open_ok(fixture("crlf.txt"));

	expect_line(r, "first line", 10, 1);
	cr_assert_eq(pfi_reader_offset(r), 12, "offset counts \\r\\n");
	expect_line(r, "second line", 11, 2);
	expect_line(r, "third line", 10, 3);
	cr_assert_eq(pfi_reader_offset(r), 37, "offset at the end");
	expect_eof(r);
	pfi_reader_close(r);
}

Test(read, missing_final_newline_still_yields_the_last_line)
{
	struct pfi_reader *r = open_ok(fixture("no-final-newline.txt"));

	expect_line(r, "first line", 10, 1);
	expect_line(r, "second line", 11, 2);
	expect_line(r, "last line without newline", 25, 3);
	cr_assert_eq(pfi_reader_offset(r), 48, "offset at the end");
	expect_eof(r);
	cr_assert_eq(pfi_reader_lineno(r), 3, "lineno stays at the last line");
	pfi_reader_close(r);
}

struct empty_case {
	char file[32];
	enum pfi_compression comp;
};

ParameterizedTestParameters(read, empty_file_is_at_end_at_once)
{
	static struct empty_case cases[] = {
		{ "empty.txt", PFI_COMP_NONE },
		{ "empty.gz", PFI_COMP_GZIP },
	};
	return cr_make_param_array(struct empty_case, cases, PFI_ARRAY_SIZE(cases));
}

ParameterizedTest(struct empty_case *c, read, empty_file_is_at_end_at_once)
{
	struct pfi_reader *r = open_ok(fixture(c->file));

	cr_assert_eq(pfi_reader_compression(r), c->comp, "%s: compression", c->file);
	expect_eof(r);
	expect_eof(r);
	cr_assert_eq(pfi_reader_lineno(r), 0, "no line");
	cr_assert_eq(pfi_reader_offset(r), 0, "no byte");
	pfi_reader_close(r);
}

Test(read, nul_byte_is_kept_inside_the_line)
{
	struct pfi_reader *r = open_ok(fixture("nul.txt"));

	expect_line(r, "before", 6, 1);
	expect_line(r, "nul\0inside", 10, 2);
	expect_line(r, "after", 5, 3);
	expect_eof(r);
	pfi_reader_close(r);
}

struct long_case {
	size_t len;        /* bytes of the long line */
	int crlf;          /* ends in "\r\n" */
	int gz;            /* written gzip-compressed */
	size_t want_len;   /* length handed out */
	int truncated;     /* flagged as cut */
};

ParameterizedTestParameters(read, line_longer_than_the_maximum_is_cut_and_flagged)
{
	static struct long_case cases[] = {
		{ PFI_LINE_MAX, 0, 0, PFI_LINE_MAX, 0 },
		{ PFI_LINE_MAX, 1, 0, PFI_LINE_MAX, 0 },
		{ PFI_LINE_MAX + 1, 0, 0, PFI_LINE_MAX, 1 },
		{ PFI_LINE_MAX + 1, 1, 0, PFI_LINE_MAX, 1 },
		{ PFI_LINE_MAX + 2, 0, 0, PFI_LINE_MAX, 1 },
		{ 4 * PFI_LINE_MAX, 0, 0, PFI_LINE_MAX, 1 },
		{ 3 * 1024 * 1024, 1, 0, PFI_LINE_MAX, 1 },
		{ 3 * 1024 * 1024, 0, 1, PFI_LINE_MAX, 1 },
		{ PFI_LINE_MAX, 1, 1, PFI_LINE_MAX, 0 },
	};
	return cr_make_param_array(struct long_case, cases, PFI_ARRAY_SIZE(cases));
}

ParameterizedTest(struct long_case *c, read, line_longer_than_the_maximum_is_cut_and_flagged)
{
	size_t total = 6 + c->len + 2 + 6, at = 0, i;
	char *data = malloc(total), path[4096];
	struct pfi_reader *r;
	const char *line;
	size_t len;
	int rc;

	cr_assert_not_null(data, "out of memory");
	memcpy(data, "short\n", 6);
	at = 6;
	for (i = 0; i < c->len; i++)
		data[at++] = (char)('a' + i % 26);
	if (c->crlf)
		data[at++] = '\r';
	data[at++] = '\n';
	memcpy(data + at, "after\n", 6);
	at += 6;
	if (c->gz)
		tmp_write_gz(path, sizeof(path), data, at);
	else
		tmp_write(path, sizeof(path), data, at);
	r = open_ok(path);
	unlink(path);
	expect_line(r, "short", 5, 1);
	rc = pfi_reader_next(r, &line, &len);
	cr_assert_eq(rc, PFI_OK, "long line: rc %d (%s)", rc, pfi_reader_err(r)->msg);
	cr_assert_eq(len, c->want_len, "long line: length %zu, want %zu", len, c->want_len);
	cr_assert_eq(memcmp(line, data + 6, len), 0, "long line: the first bytes");
	cr_assert_eq(pfi_reader_truncated(r), c->truncated, "truncated flag");
	cr_assert_eq(pfi_reader_lineno(r), 2, "lineno of the long line");
	cr_assert_eq(pfi_reader_offset(r), (uint64_t)(at - 6),
	             "offset after the long line: %llu, want %zu",
	             (unsigned long long)pfi_reader_offset(r), at - 6);
	expect_line(r, "after", 5, 3);
	expect_eof(r);
	pfi_reader_close(r);
	free(data);
}

/* ---- many refills ------------------------------------------------------- */

/* About 3 MB of lines of 0 to 700 bytes, so lines straddle every refill. */
static char *make_big(size_t *len, size_t *lines)
{
	size_t cap = 4 * 1024 * 1024, at = 0, n = 0, i, w;
	char *data = malloc(cap);

	cr_assert_not_null(data, "out of memory");
	while (at + 800 < cap - 1024 * 1024) {
		w = (n * 7919) % 701;
		at += (size_t)snprintf(data + at, cap - at, "%zu:", n);
		for (i = 0; i < w; i++)
			data[at++] = (char)('A' + (n + i) % 58);
		data[at++] = '\n';
		n++;
	}
	*len = at;
	*lines = n;
	return data;
}

/* Checks every line of `r` against data[0, len) split on newlines. */
static void expect_big(struct pfi_reader *r, const char *data, size_t len,
                       size_t lines)
{
	size_t at = 0, n = 0, want;
	const char *line, *nl;
	size_t got;
	int rc;

	while ((rc = pfi_reader_next(r, &line, &got)) == PFI_OK) {
		nl = memchr(data + at, '\n', len - at);
		cr_assert_not_null(nl, "more lines than written");
		want = (size_t)(nl - (data + at));
		n++;
		cr_assert_eq(got, want, "line %zu: length %zu, want %zu", n, got, want);
		cr_assert_eq(memcmp(line, data + at, got), 0, "line %zu differs", n);
		cr_assert_eq(line[got], '\0', "line %zu is NUL-terminated", n);
		at += want + 1;
		cr_assert_eq(pfi_reader_offset(r), at, "offset after line %zu", n);
		cr_assert_eq(pfi_reader_lineno(r), n, "lineno of line %zu", n);
	}
	cr_assert_eq(rc, PFI_EOF, "rc %d (%s)", rc, pfi_reader_err(r)->msg);
	cr_assert_eq(n, lines, "%zu lines, want %zu", n, lines);
}

ParameterizedTestParameters(read, lines_straddling_buffer_refills_come_out_whole)
{
	static int formats[] = { PFI_COMP_NONE, PFI_COMP_GZIP, PFI_COMP_ZSTD };

	return cr_make_param_array(int, formats, PFI_ARRAY_SIZE(formats));
}

ParameterizedTest(int *format, read, lines_straddling_buffer_refills_come_out_whole)
{
	size_t len, lines;
	char *data = make_big(&len, &lines), path[4096];
	struct pfi_reader *r;

	if (*format == PFI_COMP_GZIP)
		tmp_write_gz(path, sizeof(path), data, len);
	else if (*format == PFI_COMP_ZSTD)
		tmp_write_zst(path, sizeof(path), data, len);
	else
		tmp_write(path, sizeof(path), data, len);
	r = open_ok(path);
	unlink(path);
	cr_assert_eq((int)pfi_reader_compression(r), *format, "compression");
	expect_big(r, data, len, lines);
	pfi_reader_close(r);
	free(data);
}

/* ---- peek and skip ----------------------------------------------------- */

ParameterizedTestParameters(read, peek_then_next_sees_the_first_line)
{
	static struct fmt_case cases[] = {
		{ "sample.txt", PFI_COMP_NONE },
		{ "sample.txt.gz", PFI_COMP_GZIP },
		{ "sample.txt.zst", PFI_COMP_ZSTD },
		{ "sample.txt.xz", PFI_COMP_XZ },
		{ "sample.txt.bz2", PFI_COMP_BZIP2 },
	};
	return cr_make_param_array(struct fmt_case, cases, PFI_ARRAY_SIZE(cases));
}

ParameterizedTest(struct fmt_case *c, read, peek_then_next_sees_the_first_line)
{
	struct ref ref;
	struct pfi_reader *r;
	const char *data;
	size_t got;
	int rc;

	ref_load(&ref, "sample.txt");
	r = open_ok(fixture(c->file));
	rc = pfi_reader_peek(r, 300, &data, &got);
	cr_assert_eq(rc, PFI_OK, "%s: peek rc %d", c->file, rc);
	cr_assert_eq(got, 300, "%s: peeked %zu bytes", c->file, got);
	cr_assert_eq(memcmp(data, ref.data, 300), 0, "%s: peeked bytes", c->file);
	cr_assert_eq(pfi_reader_offset(r), 0, "peek consumes nothing");
	cr_assert_eq(pfi_reader_lineno(r), 0, "peek counts no line");
	expect_ref(r, &ref);
	pfi_reader_close(r);
	free(ref.data);
}

Test(read, peek_past_the_end_gives_the_whole_short_file)
{
	struct pfi_reader *r = open_ok(fixture("crlf.txt"));
	const char *data;
	size_t got;
	int rc = pfi_reader_peek(r, 200000, &data, &got);

	cr_assert_eq(rc, PFI_OK, "peek rc %d", rc);
	cr_assert_eq(got, 37, "peeked %zu bytes of 37", got);
	cr_assert_eq(memcmp(data, "first line\r\n", 12), 0, "peeked bytes");
	expect_line(r, "first line", 10, 1);
	pfi_reader_close(r);
}

ParameterizedTestParameters(read, skip_keeps_the_true_line_number_and_offset)
{
	static struct fmt_case cases[] = {
		{ "sample.txt", PFI_COMP_NONE },
		{ "sample.txt.gz", PFI_COMP_GZIP },
		{ "sample.txt.zst", PFI_COMP_ZSTD },
		{ "sample.txt.xz", PFI_COMP_XZ },
		{ "two-streams.bz2", PFI_COMP_BZIP2 },
	};
	return cr_make_param_array(struct fmt_case, cases, PFI_ARRAY_SIZE(cases));
}

ParameterizedTest(struct fmt_case *c, read, skip_keeps_the_true_line_number_and_offset)
{
	struct ref ref;
	struct pfi_reader *r;
	const char *data;
	size_t got, i;
	int rc;

	ref_load(&ref, "sample.txt");
	r = open_ok(fixture(c->file));
	rc = pfi_reader_peek(r, 64, &data, &got);
	cr_assert_eq(rc, PFI_OK, "%s: peek before skip: rc %d", c->file, rc);
	rc = pfi_reader_skip(r, ref.start[25]);
	cr_assert_eq(rc, PFI_OK, "%s: skip rc %d (%s)", c->file, rc,
	             pfi_reader_err(r)->msg);
	cr_assert_eq(pfi_reader_lineno(r), 25, "%s: lineno after skip %llu", c->file,
	             (unsigned long long)pfi_reader_lineno(r));
	cr_assert_eq(pfi_reader_offset(r), ref.start[25], "%s: offset after skip", c->file);
	for (i = 25; i < ref.n; i++) {
		expect_line(r, ref.data + ref.start[i], ref.len[i], i + 1);
		cr_assert_eq(pfi_reader_offset(r), ref_end(&ref, i), "offset of line %zu", i + 1);
	}
	expect_eof(r);
	pfi_reader_close(r);
	free(ref.data);
}

ParameterizedTestParameters(read, skip_past_the_end_is_eof)
{
	static struct fmt_case cases[] = {
		{ "sample.txt", PFI_COMP_NONE },
		{ "sample.txt.zst", PFI_COMP_ZSTD },
	};
	return cr_make_param_array(struct fmt_case, cases, PFI_ARRAY_SIZE(cases));
}

ParameterizedTest(struct fmt_case *c, read, skip_past_the_end_is_eof)
{
	struct ref ref;
	struct pfi_reader *r;
	int rc;

	ref_load(&ref, "sample.txt");
	r = open_ok(fixture(c->file));
	rc = pfi_reader_skip(r, ref.size + 100);
	cr_assert_eq(rc, PFI_EOF, "%s: skip rc %d", c->file, rc);
	cr_assert_eq(pfi_reader_lineno(r), SAMPLE_LINES, "%s: every line counted", c->file);
	expect_eof(r);
	pfi_reader_close(r);
	free(ref.data);
}

Test(read, skip_into_truncated_input_fails_naming_the_file)
{
	struct pfi_reader *r = open_ok(fixture("truncated.zst"));
	char want[1200];
	int rc = pfi_reader_skip(r, 100000);

	cr_assert_eq(rc, PFI_EIO, "rc %d", rc);
	snprintf(want, sizeof(want), "'%s': truncated zstd input after line ",
	         fixture("truncated.zst"));
	cr_assert_eq(strncmp(pfi_reader_err(r)->msg, want, strlen(want)), 0,
	             "message '%s'", pfi_reader_err(r)->msg);
	pfi_reader_close(r);
}

/* ---- standard input ------------------------------------------------------ */

Test(read, dash_reads_a_plain_file_redirected_to_stdin)
{
	struct ref ref;
	struct pfi_reader *r;
	uint64_t dev, ino, size;
	time_t mtime;

	ref_load(&ref, "sample.txt");
	stdin_from_file(fixture("sample.txt"));
	r = open_ok("-");
	cr_assert_str_eq(pfi_reader_path(r), "-", "path");
	cr_assert_eq(pfi_reader_compression(r), PFI_COMP_NONE, "compression");
	pfi_reader_stat(r, &dev, &ino, &size, &mtime);
	cr_assert_eq(size, ref.size, "a redirected file has its size");
	expect_ref(r, &ref);
	pfi_reader_close(r);
	cr_assert_neq(fcntl(0, F_GETFD), -1, "closing the reader leaves fd 0 open");
	free(ref.data);
}

Test(read, dash_reads_compressed_input_from_a_pipe)
{
	struct ref ref;
	struct pfi_reader *r;
	uint64_t dev = 1, ino = 1, size = 1;
	time_t mtime = 1;

	ref_load(&ref, "sample.txt");
	stdin_from_pipe(fixture("sample.txt.xz"));
	r = open_ok("-");
	cr_assert_eq(pfi_reader_compression(r), PFI_COMP_XZ, "compression");
	pfi_reader_stat(r, &dev, &ino, &size, &mtime);
	cr_assert(dev == 0 && ino == 0 && size == 0 && mtime == 0, "a pipe has no identity");
	expect_ref(r, &ref);
	pfi_reader_close(r);
	free(ref.data);
}

Test(read, truncated_stdin_is_named_standard_input)
{
	const char *line;
	size_t len;
	struct pfi_reader *r;
	int rc;

	stdin_from_pipe(fixture("truncated.gz"));
	r = open_ok("-");
	while ((rc = pfi_reader_next(r, &line, &len)) == PFI_OK)
		;
	cr_assert_eq(rc, PFI_EIO, "rc %d", rc);
	cr_assert_eq(strncmp(pfi_reader_err(r)->msg,
	                     "'(standard input)': truncated gzip input after line ", 52), 0,
	             "message '%s'", pfi_reader_err(r)->msg);
	pfi_reader_close(r);
}

/* ---- open errors --------------------------------------------------------- */

Test(read, nonexistent_file_fails_with_the_name_and_errno_text)
{
	struct pfi_err err = { 0 };
	struct pfi_reader *r = (struct pfi_reader *)&err;
	const char *path = fixture("no-such-file.log.gz");
	char want[1200];
	int rc = pfi_reader_open(&r, path, &err);

	cr_assert_eq(rc, PFI_EIO, "rc %d", rc);
	cr_assert_null(r, "no reader on failure");
	snprintf(want, sizeof(want), "cannot open '%s': No such file or directory", path);
	cr_assert_str_eq(err.msg, want, "message");
	cr_assert_eq(err.code, PFI_EIO, "code");
}

Test(read, directory_fails_with_the_read_error_text)
{
	struct pfi_err err = { 0 };
	struct pfi_reader *r = NULL;
	const char *path = fixture("");
	char want[1200];
	int rc = pfi_reader_open(&r, path, &err);

	cr_assert_eq(rc, PFI_EIO, "rc %d", rc);
	cr_assert_null(r, "no reader on failure");
	snprintf(want, sizeof(want), "cannot read '%s': Is a directory", path);
	cr_assert_str_eq(err.msg, want, "message");
}

/* Lines of `file` from its start (after a peek, as pfi index does), or
 * from line 2 on after a skip: count and total length of lines 2 on, up
 * to the end or a failure (*rc). */
static void read_lines(const char *file, int skip, size_t *n, size_t *bytes,
                       int *rc, uint64_t *off2)
{
	struct pfi_reader *r = open_ok(fixture(file));
	const char *line;
	size_t len;

	*n = *bytes = 0;
	if (skip) {
		cr_assert_eq(pfi_reader_skip(r, *off2), PFI_OK);
		*n = 1;
	} else {
		cr_assert_eq(pfi_reader_peek(r, 4096, &line, &len), PFI_OK);
	}
	while ((*rc = pfi_reader_next(r, &line, &len)) == PFI_OK) {
		if (++*n == 1)
			*off2 = pfi_reader_offset(r);
		else
			*bytes += len;
	}
	pfi_reader_close(r);
}

Test(read, a_corrupt_bzip2_block_gives_the_same_lines_however_it_is_read)
{
	/* Found by fuzz_read: libbz2 hands out more or less of a damaged
	 * block depending on its output buffer, so skipping to line 2 once
	 * read one line more than reading from the start. */
	size_t n1, b1, n2, b2;
	uint64_t off2 = 0;
	int rc1, rc2;

	read_lines("corrupt-block.bz2", 0, &n1, &b1, &rc1, &off2);
	read_lines("corrupt-block.bz2", 1, &n2, &b2, &rc2, &off2);
	cr_assert_eq(rc1, PFI_EIO);
	cr_assert_eq(rc2, PFI_EIO);
	cr_assert_gt(n1, 1000);
	cr_assert_eq(n2, n1);
	cr_assert_eq(b2, b1);
}
