/*
 * fuzz_output.c - libFuzzer target for the output encoders (lib/output.c):
 * the input is a little program of pfi_out_* calls whose string values are
 * arbitrary bytes from the input.  Byte 0 picks the format (table, JSON,
 * NDJSON, CSV, TSV), the flags and the list key, byte 1 the table width;
 * then each op byte picks a call and a key from a fixed list; a string
 * value is a length byte and that many bytes (pfi_out_strn keeps NULs),
 * numbers and times are eight bytes.
 *
 * Checks: the output is valid UTF-8 whatever the bytes given; a JSON
 * document whose pfi_out_end() succeeded is valid JSON, and so is every
 * NDJSON line; CSV quotes come in pairs; no format writes a control
 * character but the newline that ends a row (and TSV's tab between cells,
 * and a table's colour escapes when colour was asked for); no CSV or TSV
 * text cell begins with = + - @ unless PFI_OUT_CSV_RAW (a cell beginning
 * with '-' must be a number).
 */
#include "fuzz.h"

/* Keys as a program would give them, a few of them awkward. */
static const char *const keys[] = {
	"queue_id", "from", "to", "status", "delays", "größe", "a b",
	"quote\"d", "", NULL
};

static const char *const list_keys[] = { NULL, "", "messages" };

/* The input being read as a program. */
struct prog {
	const uint8_t *p, *end;
	char str[256];          /* the last string value, NUL-terminated */
	size_t len;             /* its length, NULs inside included */
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_set_tz();
	return 0;
}

static uint8_t take_byte(struct prog *g)
{
	return g->p < g->end ? *g->p++ : 0;
}

static uint64_t take_u64(struct prog *g)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | take_byte(g);
	return v;
}

/* A string value: a length byte, then up to that many bytes (a NUL among
 * them ends the string early, as in a C string). */
static const char *take_str(struct prog *g)
{
	size_t n = take_byte(g), avail = (size_t)(g->end - g->p);

	if (n > avail)
		n = avail;
	memcpy(g->str, g->p, n);
	g->str[n] = '\0';
	g->len = n;
	g->p += n;
	return g->str;
}

static double take_num(struct prog *g)
{
	uint64_t u = take_u64(g);
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

/* One call; its status is ignored, since misuse must change nothing. */
static void step(pfi_out *o, struct prog *g)
{
	uint8_t b = take_byte(g);
	const char *k = keys[(b >> 4) % PFI_ARRAY_SIZE(keys)];

	switch (b & 15) {
	case 0: pfi_out_record_begin(o); break;
	case 1: pfi_out_record_end(o); break;
	case 2: pfi_out_str(o, k, take_str(g)); break;
	case 3: take_str(g); pfi_out_strn(o, k, g->str, g->len); break;
	case 4: pfi_out_str(o, k, NULL); break;
	case 5: pfi_out_int(o, k, (int64_t)take_u64(g)); break;
	case 6: pfi_out_num(o, k, take_num(g)); break;
	case 7: pfi_out_bool(o, k, b & 16); break;
	case 8: pfi_out_null(o, k); break;
	case 9: pfi_out_time(o, k, (int64_t)take_u64(g)); break;
	case 10: pfi_out_object_begin(o, k); break;
	case 11: pfi_out_object_end(o); break;
	case 12: pfi_out_array_begin(o, k); break;
	case 13: pfi_out_array_end(o); break;
	default: pfi_out_str(o, k, take_str(g)); break;
	}
}

/* ---- checks on the output ------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t v;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, v = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, v = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, v = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	return len;
}

static void check_utf8(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;

	while (i < n) {
		len = utf8_len(u + i, n - i);
		FUZZ_CHECK(len > 0);
		i += len;
	}
}

/* A JSON reader that only says whether the text is JSON (RFC 8259). */
struct json {
	const char *p, *end;
};

static int json_value(struct json *j, int depth);

static void json_ws(struct json *j)
{
	while (j->p < j->end && strchr(" \t\r\n", *j->p) != NULL && *j->p)
		j->p++;
}

static int json_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static int json_digits(struct json *j)
{
	const char *s = j->p;

	while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s;
}

static int json_number(struct json *j)
{
	json_lit(j, "-");
	if (!json_lit(j, "0") && !json_digits(j))
		return 0;
	if (json_lit(j, ".") && !json_digits(j))
		return 0;
	if (json_lit(j, "e") || json_lit(j, "E")) {
		if (!json_lit(j, "+"))
			json_lit(j, "-");
		if (!json_digits(j))
			return 0;
	}
	return 1;
}

static int json_escape(struct json *j)
{
	int i;

	if (j->p < j->end && strchr("\"\\/bfnrt", *j->p) != NULL && *j->p) {
		j->p++;
		return 1;
	}
	if (!json_lit(j, "u"))
		return 0;
	for (i = 0; i < 4; i++, j->p++)
		if (j->p >= j->end || strchr("0123456789abcdefABCDEF", *j->p) ==
		    NULL || *j->p == '\0')
			return 0;
	return 1;
}

static int json_string(struct json *j)
{
	if (!json_lit(j, "\""))
		return 0;
	while (j->p < j->end && *j->p != '"') {
		if ((unsigned char)*j->p < 0x20)
			return 0;
		if (*j->p++ == '\\' && !json_escape(j))
			return 0;
	}
	return json_lit(j, "\"");
}

/* Members or elements up to `close`; `obj` wants "key": before each. */
static int json_list(struct json *j, int depth, char close, int obj)
{
	char c[2] = { close, '\0' };

	json_ws(j);
	if (json_lit(j, c))
		return 1;
	do {
		json_ws(j);
		if (obj && (!json_string(j) || (json_ws(j), !json_lit(j, ":"))))
			return 0;
		if (!json_value(j, depth + 1))
			return 0;
		json_ws(j);
	} while (json_lit(j, ","));
	return json_lit(j, c);
}

static int json_value(struct json *j, int depth)
{
	if (depth > 64)
		return 0;
	json_ws(j);
	if (json_lit(j, "{"))
		return json_list(j, depth, '}', 1);
	if (json_lit(j, "["))
		return json_list(j, depth, ']', 0);
	if (j->p < j->end && *j->p == '"')
		return json_string(j);
	if (json_lit(j, "true") || json_lit(j, "false") || json_lit(j, "null"))
		return 1;
	return json_number(j);
}

/* s[0, n) is one JSON value, maybe with white space around it. */
static void check_json(const char *s, size_t n)
{
	struct json j = { s, s + n };

	FUZZ_CHECK(json_value(&j, 0));
	json_ws(&j);
	FUZZ_CHECK(j.p == j.end);
}

static void check_ndjson(const char *s, size_t n)
{
	const char *p = s, *line;
	size_t len;

	while (fuzz_next(&p, s + n, '\n', &line, &len))
		check_json(line, len);
}

/* Quotes in CSV come in pairs: the output parses as RFC 4180 text. */
static void check_csv(const char *s, size_t n)
{
	size_t i;
	int quoted = 0;

	for (i = 0; i < n; i++) {
		if (s[i] != '"')
			continue;
		if (quoted && i + 1 < n && s[i + 1] == '"')
			i++;
		else
			quoted = !quoted;
	}
	FUZZ_CHECK(!quoted);
}

/* Only a row's newline, TSV's tab and a table's colours are raw. */
static void check_controls(const char *s, size_t n, int fmt, unsigned flags)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '\n' || (c == '\t' && fmt == PFI_FMT_TSV) ||
		    (c == 0x1b && fmt == PFI_FMT_TABLE && (flags & PFI_OUT_COLOR)))
			continue;
		FUZZ_CHECK(c >= 0x20 && c != 0x7f);
	}
}

/* A cell (its first bytes p[0, n)) that a spreadsheet would not run. */
static void check_cell(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || strchr("=+@", *p) == NULL || *p == '\0') {
		if (n == 0 || *p != '-')
			return;
		for (i = 1; i < n; i++)
			FUZZ_CHECK((p[i] >= '0' && p[i] <= '9') || p[i] == '.');
		FUZZ_CHECK(n > 1);
		return;
	}
	FUZZ_CHECK(!"a cell begins with = + or @");
}

/* The cells of one CSV or TSV row (no newline inside). */
static void check_row(const char *p, const char *end, int fmt)
{
	char sep = fmt == PFI_FMT_TSV ? '\t' : ',';
	const char *q;

	while (p <= end) {
		if (fmt == PFI_FMT_CSV && p < end && *p == '"') {
			for (q = ++p; q < end && !(*q == '"' &&
			     (q + 1 == end || q[1] != '"')); q += *q == '"' ? 2 : 1)
				;
			check_cell(p, (size_t)(q - p));
			p = q + 2;
			continue;
		}
		q = memchr(p, sep, (size_t)(end - p));
		if (q == NULL)
			q = end;
		check_cell(p, (size_t)(q - p));
		p = q + 1;
	}
}

static void check_formulas(const char *s, size_t n, int fmt)
{
	const char *p = s, *line;
	size_t len;

	while (fuzz_next(&p, s + n, '\n', &line, &len))
		check_row(line, line + len, fmt);
}

static void check_output(const char *s, size_t n, int fmt, unsigned flags,
                         int ended)
{
	check_utf8(s, n);
	if (fmt == PFI_FMT_JSON && ended)
		check_json(s, n);
	if (fmt == PFI_FMT_NDJSON)
		check_ndjson(s, n);
	if (fmt == PFI_FMT_CSV)
		check_csv(s, n);
	check_controls(s, n, fmt, flags);
	if ((fmt == PFI_FMT_CSV || fmt == PFI_FMT_TSV) &&
	    !(flags & PFI_OUT_CSV_RAW))
		check_formulas(s, n, fmt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog g = { data, data + size, "", 0 };
	uint8_t b0 = take_byte(&g), b1 = take_byte(&g);
	int fmt = b0 % 5, ended = 0;
	unsigned flags = (b0 / 5) & 15;
	pfi_out *o = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	FUZZ_CHECK(fp != NULL);
	FUZZ_CHECK(pfi_out_new(&o, fp, (enum pfi_format)fmt, flags) == PFI_OK);
	pfi_out_set_width(o, b1);
	if (pfi_out_begin(o, list_keys[(b0 / 80) % 3]) == PFI_OK) {
		while (g.p < g.end)
			step(o, &g);
		ended = pfi_out_end(o) == PFI_OK;
	}
	pfi_out_free(o);
	FUZZ_CHECK(fclose(fp) == 0);
	check_output(text, len, fmt, flags, ended);
	free(text);
	return 0;
}
