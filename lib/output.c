/*
 * output.c - the record emitter behind every output of pfi: JSON, NDJSON,
 * CSV, TSV and aligned text tables (struct pfi_out, pfi_out_* in pfi.h).
 *
 * Design: a stack of frames follows the nesting of the record's objects
 * and arrays.  JSON and NDJSON serialise each record into a buffer and
 * write it at record_end, so memory is bounded by one record.  CSV, TSV
 * and table turn a record into flat cells: nested objects become
 * "parent.child" columns, arrays are serialised as compact JSON text into
 * one cell (table: the element count).  CSV and TSV write each row at
 * record_end; table keeps all rows until pfi_out_end() to size columns.
 *
 * A table never cuts a cell, as a queue ID, an address or a path cut
 * short can no longer be copied: given a width, it leaves out the columns
 * pfi_out_set_optional() names, least useful first, until the rest fits,
 * and the last column takes what is left, its text wrapped onto the next
 * lines.  Widths are terminal cells (wcwidth in the C.UTF-8 locale), so
 * wide characters align.
 *
 * Text from the logs is never written raw (see "text" below): every
 * format escapes control characters, so that a log line cannot drive a
 * terminal, and writes valid UTF-8.  CSV and TSV put a ' before text
 * cells that a spreadsheet would run as a formula, unless PFI_OUT_CSV_RAW.
 * Text works on (pointer, length) throughout: pfi_out_strn() and
 * pfi_term_write() may pass NUL bytes, which are escaped (\u0000, \x00),
 * never an end; pfi_out_str() and keys are C strings.
 *
 * Extension not spelled out in pfi.h: pfi_out_begin(o, "") starts a
 * single-object document.  json prints its one record as a bare object
 * ({...}, or {} when there is none) instead of a list; a second record is
 * PFI_EINVAL.  The other formats print it as a one-record list.
 *
 * Errors: misuse (a field outside a record, unbalanced object/array ends,
 * begin twice) returns PFI_EINVAL and changes nothing.  Out of memory is
 * sticky: every later call returns PFI_ENOMEM.  Write errors on the FILE
 * are remembered and reported by pfi_out_end() as PFI_EIO.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "pfi-int.h"

#define OUT_DEPTH_MAX 32     /* deepest nesting of objects and arrays */
#define TABLE_LAST_MIN 40    /* the last column's cells before columns go */
#define TABLE_WRAP_MIN 16    /* the last column's cells at the very least */
#define TABLE_GAP 2          /* spaces between table columns */
#define TERM_BYTE 0x110000   /* put_escape(): a raw byte, not a code point */

enum out_state { OUT_NEW, OUT_DOC, OUT_REC, OUT_DONE };

enum val_kind { VAL_STR, VAL_NUM, VAL_BOOL, VAL_NULL };

/* Modes of put_text(). */
enum {
	T_CTRL = 1,   /* control characters (C0, DEL, C1) as \t, \n, \r, \xNN, \u00NN */
	T_BYTES = 2,  /* invalid UTF-8 bytes as \xNN instead of U+FFFD */
	T_BSL = 4,    /* a backslash as \\ (TSV, whose escapes must read back) */
	T_CSVQ = 8    /* double the quotes (inside a quoted CSV field) */
};
#define T_TERM (T_CTRL | T_BYTES)   /* what a terminal may be shown */

struct frame {
	char kind;      /* 'r' record, 'o' object, 'a' array */
	int json;       /* serialised as JSON text into o->json */
	size_t count;   /* members or elements written so far */
	size_t prefix;  /* length of o->path when the frame opened */
};

/* A list of cells: texts kept NUL-separated in one buffer. */
struct cells {
	struct pfi_buf text;   /* every cell's text, each followed by a NUL */
	size_t *off;           /* where each cell starts in text */
	unsigned char *kind;   /* enum val_kind of each cell */
	size_t n, cap;         /* cells used and allocated */
};

struct pfi_out {
	FILE *fp;                /* where everything goes (caller's) */
	enum pfi_format fmt;
	unsigned flags;          /* enum pfi_out_flags */
	int width;               /* table width in columns, 0 unlimited */
	const char *const *optional;  /* table: columns to leave out first */
	enum out_state state;
	int single;              /* begin(""): a single-object document */
	int keyed;               /* json: the list sits under a key */
	int err;                 /* sticky PFI_ENOMEM */
	int ioerr;               /* a write to fp failed */
	uint64_t records;        /* records finished */
	struct frame stack[OUT_DEPTH_MAX];
	int depth;               /* frames in use */
	struct pfi_buf json;     /* JSON text of the record or array cell */
	struct pfi_buf path;     /* flattened key prefix, e.g. "delays." */
	struct pfi_buf line;     /* the CSV/TSV row being written */
	struct cells hdr;        /* column names, from the first record */
	struct cells row;        /* CSV/TSV: this record; table: all records */
	size_t *rowstart;        /* table: index of each row's first cell */
	size_t nrows, rowcap;
};

/* ---- small writers: failures are recorded, not returned ---------------- */

/*
 * Appends p[0..n) to b unless *err is set; a failure sets *err (a buffer
 * past its hard maximum counts as out of memory).
 */
static void tput(int *err, struct pfi_buf *b, const void *p, size_t n)
{
	int rc;

	if (*err)
		return;
	rc = pfi_buf_append(b, p, n);
	if (rc != PFI_OK)
		*err = rc == PFI_EINVAL ? PFI_ENOMEM : rc;
}

static void tputs(int *err, struct pfi_buf *b, const char *s)
{
	tput(err, b, s, strlen(s));
}

static void bput(struct pfi_out *o, struct pfi_buf *b, const void *p, size_t n)
{
	tput(&o->err, b, p, n);
}

static void bputs(struct pfi_out *o, struct pfi_buf *b, const char *s)
{
	tput(&o->err, b, s, strlen(s));
}

static void fput(struct pfi_out *o, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, o->fp) != n)
		o->ioerr = 1;
}

static void fputs_(struct pfi_out *o, const char *s)
{
	fput(o, s, strlen(s));
}

static void fpad(struct pfi_out *o, size_t n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		fput(o, spaces, k);
		n -= k;
	}
}

/* ---- text: UTF-8 validation and escaping -------------------------------- */

/*
 * One escaper serves every format, so that text any SMTP client chose
 * (subjects, addresses, HELO names, reply texts) shows the same way
 * wherever it is printed:
 *  - C0 controls and DEL: \t, \n, \r, else \xNN (NUL is \x00);
 *  - C1 controls (U+0080..U+009F, which terminals obey too): \u0080..\u009f;
 *  - bytes that are not valid UTF-8: \xNN on a terminal (table), U+FFFD in
 *    CSV and TSV (whose files stay valid UTF-8), \ufffd in JSON;
 *  - a backslash is left alone (so a CSV cell can hold JSON text), except
 *    in TSV, where it is \\ so that every escape reads back.
 * JSON has its own escapes (RFC 8259), in json_text().  The functions
 * take (pointer, length): a NUL byte inside is escaped, not an end.
 */

/*
 * Length of the valid UTF-8 sequence at s (1 to 4), storing its code point
 * in *cp; 0 when the byte at s does not start a valid, shortest-form
 * sequence of a scalar value within the n bytes available.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, v = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, v = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, v = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

/*
 * Appends the visible escape of control character c, or of the invalid
 * byte c - TERM_BYTE: \t, \n, \r, \x1b, \x00, \u009b, \xff.
 */
static void put_escape(int *err, struct pfi_buf *b, uint32_t c)
{
	char tmp[12];

	if (c == '\t')
		tputs(err, b, "\\t");
	else if (c == '\n')
		tputs(err, b, "\\n");
	else if (c == '\r')
		tputs(err, b, "\\r");
	else if (c < 0x80 || c >= TERM_BYTE) {
		snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)c & 0xff);
		tputs(err, b, tmp);
	} else {
		snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)c);
		tputs(err, b, tmp);
	}
}

/* Handles one ASCII byte (NUL included) for put_text(). */
static void put_ascii(int *err, struct pfi_buf *b, char c, int mode)
{
	unsigned char u = (unsigned char)c;

	if ((mode & T_BSL) && c == '\\')
		tputs(err, b, "\\\\");
	else if ((mode & T_CSVQ) && c == '"')
		tputs(err, b, "\"\"");
	else if ((mode & T_CTRL) && (u < 0x20 || u == 0x7f))
		put_escape(err, b, u);
	else
		tput(err, b, &c, 1);
}

/*
 * Appends text s[0..n) to b in the T_* `mode`: invalid UTF-8 bytes become
 * U+FFFD (\xNN with T_BYTES); controls are escaped with T_CTRL.
 */
static void put_text(int *err, struct pfi_buf *b, const char *s, size_t n,
                     int mode)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	while (i < n && !*err) {
		if (u[i] < 0x80) {
			put_ascii(err, b, s[i++], mode);
			continue;
		}
		len = utf8_seq(u + i, n - i, &cp);
		if (len == 0 && (mode & T_BYTES))
			put_escape(err, b, TERM_BYTE + u[i]);
		else if (len == 0)
			tputs(err, b, "\xef\xbf\xbd");
		else if (cp < 0xa0 && (mode & T_CTRL))
			put_escape(err, b, cp);
		else
			tput(err, b, s + i, len);
		i += len ? len : 1;
	}
}

/*
 * Appends s[0..n) as a JSON string literal (RFC 8259), always valid UTF-8:
 * every control character (NUL, C0, DEL, C1) escaped, invalid bytes \ufffd.
 */
static void json_text(int *err, struct pfi_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;
	char tmp[8];

	tputs(err, b, "\"");
	while (i < n && !*err) {
		len = utf8_seq(u + i, n - i, &cp);
		if (len == 0) {
			tputs(err, b, "\\ufffd");
			len = 1;
		} else if (cp == '"' || cp == '\\') {
			tputs(err, b, cp == '"' ? "\\\"" : "\\\\");
		} else if (cp == '\n' || cp == '\t' || cp == '\r') {
			tputs(err, b, cp == '\n' ? "\\n" : cp == '\t' ? "\\t" : "\\r");
		} else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)cp);
			tputs(err, b, tmp);
		} else {
			tput(err, b, s + i, len);
		}
		i += len;
	}
	tputs(err, b, "\"");
}

static void json_string(struct pfi_out *o, struct pfi_buf *b, const char *s)
{
	json_text(&o->err, b, s, strlen(s));
}

/* ---- terminal cells ------------------------------------------------------ */

/* The C.UTF-8 locale, whatever the program's: wcwidth() by its tables. */
static locale_t cells_locale;
static pthread_once_t cells_once = PTHREAD_ONCE_INIT;

static void cells_locale_open(void)
{
	cells_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/*
 * Cells code point cp takes on a terminal: 0 (combining marks), 1 or 2
 * (East Asian wide, emoji).  With no C.UTF-8 locale: 2 for the CJK and
 * Hangul blocks and fullwidth forms, 0 for the combining diacritics, else
 * 1.  The caller has made cells_locale the thread's locale (table_print).
 */
static size_t cp_cells(uint32_t cp)
{
	int w;

	if (cp < 0x300)
		return 1;
	if (cells_locale != (locale_t)0) {
		w = wcwidth((wchar_t)cp);
		return w < 0 ? 1 : (size_t)w;
	}
	if (cp <= 0x36f)
		return 0;
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	       (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0x1f300 && cp <= 0x1faff) ||
	       (cp >= 0x20000 && cp <= 0x3fffd) ? 2 : 1;
}

/*
 * Terminal cells of the valid UTF-8 text s[0..n) (table cells are
 * escaped, so they are), and in *fit the bytes of its longest prefix that
 * takes at most max cells.
 */
static size_t text_cells(const char *s, size_t n, size_t max, size_t *fit)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len, cells = 0, w;
	uint32_t cp;

	*fit = 0;
	while (i < n) {
		len = utf8_seq(u + i, n - i, &cp);
		if (len == 0)
			len = 1, cp = 0xfffd;
		w = cp_cells(cp);
		if (cells + w <= max && *fit == i)
			*fit = i + len;
		cells += w;
		i += len;
	}
	return cells;
}

static size_t str_cells(const char *s)
{
	size_t fit;

	return text_cells(s, strlen(s), 0, &fit);
}

/* ---- numbers ------------------------------------------------------------ */

/*
 * Formats v with at most three decimals, trailing zeros trimmed: 0.03,
 * 12, -1.5; never an exponent.  Returns 0 for NaN and infinities.
 */
static int format_num(char *buf, size_t size, double v)
{
	size_t n;

	if (!isfinite(v))
		return 0;
	snprintf(buf, size, "%.3f", v);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	if (strcmp(buf, "-0") == 0)
		memcpy(buf, "0", 2);
	return 1;
}

/* ---- cells (CSV, TSV, table) -------------------------------------------- */

static void cells_init(struct cells *c)
{
	pfi_buf_init(&c->text, 0);
	c->off = NULL;
	c->kind = NULL;
	c->n = c->cap = 0;
}

static void cells_release(struct cells *c)
{
	pfi_buf_release(&c->text);
	free(c->off);
	free(c->kind);
	cells_init(c);
}

static void cells_reset(struct cells *c)
{
	pfi_buf_reset(&c->text);
	c->n = 0;
}

static const char *cell_text(const struct cells *c, size_t i)
{
	return c->text.data + c->off[i];
}

/* Length of cell i, which may hold NUL bytes (CSV and TSV keep them raw
 * until the row is written). */
static size_t cell_len(const struct cells *c, size_t i)
{
	size_t end = i + 1 < c->n ? c->off[i + 1] : c->text.len;

	return end - c->off[i] - 1;
}

/* Makes room for one more cell; 0 (and o->err set) when out of memory. */
static int cells_reserve(struct pfi_out *o, struct cells *c)
{
	size_t cap;
	size_t *off;
	unsigned char *kind;

	if (c->n < c->cap)
		return 1;
	cap = c->cap ? c->cap * 2 : 16;
	off = realloc(c->off, cap * sizeof(*off));
	if (off != NULL)
		c->off = off;
	kind = off ? realloc(c->kind, cap) : NULL;
	if (kind == NULL) {
		o->err = PFI_ENOMEM;
		return 0;
	}
	c->kind = kind;
	c->cap = cap;
	return 1;
}

/*
 * Adds a cell with text s to c, through put_text() in `mode`: the table
 * escapes it now, to measure it; CSV and TSV when the row is written.
 */
static void cells_add(struct pfi_out *o, struct cells *c, enum val_kind k,
                      const char *s, size_t n, int mode)
{
	if (o->err || !cells_reserve(o, c))
		return;
	c->off[c->n] = c->text.len;
	c->kind[c->n] = (unsigned char)k;
	put_text(&o->err, &c->text, s, n, mode);
	bput(o, &c->text, "", 1);
	if (!o->err)
		c->n++;
}

/* Adds a value cell and, in the first record, its column name `name`. */
static void cell_named(struct pfi_out *o, const char *name, enum val_kind k,
                       const char *s, size_t n)
{
	int table = o->fmt == PFI_FMT_TABLE;

	if (o->records == 0)
		cells_add(o, &o->hdr, VAL_STR, name, strlen(name), table ? T_TERM : 0);
	cells_add(o, &o->row, k, s, n, table && k == VAL_STR ? T_TERM : 0);
}

/* Sets the length of the flattened key prefix back to n. */
static void path_cut(struct pfi_out *o, size_t n)
{
	o->path.len = n;
	if (o->path.data)
		o->path.data[n] = '\0';
}

/* Adds a value cell named by the current prefix and `key`. */
static void cell_value(struct pfi_out *o, const char *key, enum val_kind k,
                       const char *s, size_t n)
{
	size_t keep = o->path.len;

	bputs(o, &o->path, key);
	if (!o->err)
		cell_named(o, o->path.data, k, s, n);
	path_cut(o, keep);
}

/* ---- the frame stack ---------------------------------------------------- */

static struct frame *top(struct pfi_out *o)
{
	return &o->stack[o->depth - 1];
}

static int push(struct pfi_out *o, char kind, int json)
{
	struct frame *f;

	if (o->depth >= OUT_DEPTH_MAX)
		return PFI_EINVAL;
	f = &o->stack[o->depth++];
	f->kind = kind;
	f->json = json;
	f->count = 0;
	f->prefix = o->path.len;
	return PFI_OK;
}

/* Checks that a field named `key` may be written now. */
static int can_write(struct pfi_out *o, const char *key)
{
	if (o->err)
		return o->err;
	if (o->state != OUT_REC || o->depth == 0)
		return PFI_EINVAL;
	if (top(o)->kind != 'a' && key == NULL)
		return PFI_EINVAL;
	return PFI_OK;
}

/* Writes the separator and "key": of a JSON member or element. */
static void json_member(struct pfi_out *o, struct frame *f, const char *key)
{
	if (f->count++ > 0)
		bputs(o, &o->json, ",");
	if (f->kind != 'a') {
		json_string(o, &o->json, key);
		bputs(o, &o->json, ":");
	}
}

/*
 * Writes one scalar: `text` is its JSON form for numbers, booleans and
 * null, and the string itself for VAL_STR.
 */
/* A value of `n` bytes at text (a string's may hold NUL bytes). */
static int put_value_n(struct pfi_out *o, const char *key, enum val_kind k,
                       const char *text, size_t n)
{
	struct frame *f;
	int rc = can_write(o, key);

	if (rc != PFI_OK)
		return rc;
	f = top(o);
	if (f->json) {
		json_member(o, f, key);
		if (k == VAL_STR)
			json_text(&o->err, &o->json, text, n);
		else
			bput(o, &o->json, text, n);
	} else {
		f->count++;
		cell_value(o, key, k, k == VAL_NULL ? "" : text,
		           k == VAL_NULL ? 0 : n);
	}
	return o->err;
}

static int put_value(struct pfi_out *o, const char *key, enum val_kind k,
                     const char *text)
{
	return put_value_n(o, key, k, text, strlen(text));
}

/* ---- document framing for json and ndjson ------------------------------- */

static int is_json(const struct pfi_out *o)
{
	return o->fmt == PFI_FMT_JSON || o->fmt == PFI_FMT_NDJSON;
}

static void json_doc_begin(struct pfi_out *o, const char *list_key)
{
	struct pfi_buf b;

	if (o->fmt != PFI_FMT_JSON || o->single)
		return;
	if (list_key == NULL) {
		fputs_(o, "[");
		return;
	}
	pfi_buf_init(&b, 0);
	bputs(o, &b, "{");
	json_string(o, &b, list_key);
	bputs(o, &b, ":[");
	if (!o->err)
		fput(o, b.data, b.len);
	pfi_buf_release(&b);
}

static void json_record_write(struct pfi_out *o)
{
	if (o->fmt == PFI_FMT_JSON && !o->single)
		fputs_(o, o->records ? ",\n  " : "\n  ");
	fput(o, o->json.data, o->json.len);
	if (o->fmt == PFI_FMT_NDJSON || o->single)
		fputs_(o, "\n");
}

static void json_doc_end(struct pfi_out *o)
{
	if (o->fmt != PFI_FMT_JSON)
		return;
	if (o->single) {
		if (o->records == 0)
			fputs_(o, "{}\n");
		return;
	}
	if (o->records)
		fputs_(o, "\n");
	fputs_(o, o->keyed ? "]}\n" : "]\n");
}

/* ---- CSV and TSV rows --------------------------------------------------- */

/*
 * CSV injection (OWASP "CSV Injection"): a spreadsheet may run a cell
 * that begins with = + - @, tab or CR as a formula, and a log carries text
 * any SMTP client chose.  Such a text cell is written with a ' before it
 * (and, in CSV, in quotes), unless PFI_OUT_CSV_RAW.  The test reads the
 * value before escaping, as OWASP words it.  Numbers are never touched: a
 * negative figure (stats --compare's change) stays a number.
 */
static int sv_formula(const struct pfi_out *o, const char *s, size_t n,
                      int kind)
{
	return kind == VAL_STR && n > 0 && !(o->flags & PFI_OUT_CSV_RAW) &&
	       memchr("=+-@\t\r", s[0], 6) != NULL;
}

static int csv_needs_quotes(const char *s, size_t n, int kind)
{
	return (kind == VAL_STR && n == 0) || memchr(s, ',', n) != NULL ||
	       memchr(s, '"', n) != NULL;
}

/*
 * Appends one cell (n bytes at s) to o->line in CSV or TSV form, control
 * characters escaped.  CSV tells an empty string ("") from null (nothing);
 * TSV cannot.
 */
static void sv_cell(struct pfi_out *o, const char *s, size_t n, int kind)
{
	int formula = sv_formula(o, s, n, kind);

	if (o->fmt == PFI_FMT_TSV) {
		bputs(o, &o->line, formula ? "'" : "");
		put_text(&o->err, &o->line, s, n, T_CTRL | T_BSL);
	} else if (formula || csv_needs_quotes(s, n, kind)) {
		bputs(o, &o->line, formula ? "\"'" : "\"");
		put_text(&o->err, &o->line, s, n, T_CTRL | T_CSVQ);
		bputs(o, &o->line, "\"");
	} else {
		put_text(&o->err, &o->line, s, n, T_CTRL);
	}
}

static void sv_row(struct pfi_out *o, const struct cells *c)
{
	size_t i;

	pfi_buf_reset(&o->line);
	for (i = 0; i < c->n; i++) {
		if (i > 0)
			bputs(o, &o->line, o->fmt == PFI_FMT_TSV ? "\t" : ",");
		sv_cell(o, cell_text(c, i), cell_len(c, i), c->kind[i]);
	}
	bputs(o, &o->line, "\n");
	if (!o->err)
		fput(o, o->line.data, o->line.len);
}

/* ---- tables ------------------------------------------------------------- */

static const char *table_cell(const struct pfi_out *o, size_t r, size_t c,
                              int *kind)
{
	size_t first = o->rowstart[r];
	size_t end = r + 1 < o->nrows ? o->rowstart[r + 1] : o->row.n;

	if (first + c >= end) {
		*kind = VAL_NULL;
		return "";
	}
	*kind = o->row.kind[first + c];
	return cell_text(&o->row, first + c);
}

/* Natural widths of the columns; numeric[c] when all values are numbers. */
static void table_measure(const struct pfi_out *o, size_t *w, char *numeric)
{
	size_t r, c, cw;
	int kind, seen;

	for (c = 0; c < o->hdr.n; c++) {
		w[c] = str_cells(cell_text(&o->hdr, c));
		numeric[c] = 1;
		seen = 0;
		for (r = 0; r < o->nrows; r++) {
			cw = str_cells(table_cell(o, r, c, &kind));
			if (cw > w[c])
				w[c] = cw;
			if (kind == VAL_NUM)
				seen = 1;
			else if (kind != VAL_NULL)
				numeric[c] = 0;
		}
		numeric[c] = numeric[c] && seen;
	}
}

/* The layout of a table: which columns show, and how wide each is. */
struct table_layout {
	size_t *w;         /* cells of each column (the last: what it gets) */
	char *numeric;     /* all of the column's values are numbers */
	char *shown;       /* the column is printed */
	size_t last;       /* the last column shown */
	size_t indent;     /* cells before the last column: where it wraps to */
};

/* Cells the shown columns before `last` take, gaps included, and the
 * last shown column in *last. */
static size_t layout_lead(const struct pfi_out *o, const struct table_layout *t,
                          size_t *last)
{
	size_t c, lead = 0, prev = o->hdr.n;

	for (c = 0; c < o->hdr.n; c++) {
		if (!t->shown[c])
			continue;
		if (prev < o->hdr.n)
			lead += t->w[prev] + TABLE_GAP;
		prev = c;
	}
	*last = prev;
	return lead;
}

/* The column named `name`, or hdr.n. */
static size_t column_named(const struct pfi_out *o, const char *name)
{
	size_t c;

	for (c = 0; c < o->hdr.n; c++)
		if (strcmp(cell_text(&o->hdr, c), name) == 0)
			return c;
	return o->hdr.n;
}

/*
 * Fits the table to o->width: leaves out the optional columns, in their
 * order, while the others and TABLE_LAST_MIN cells of the last one are
 * wider than the width; then gives the last column the rest (at least
 * TABLE_WRAP_MIN cells, or its own width when that is less).  No other
 * column is ever made narrower than its widest cell.
 */
static void table_fit(const struct pfi_out *o, struct table_layout *t)
{
	const char *const *opt = o->optional;
	size_t lead, last, need, c;

	memset(t->shown, 1, o->hdr.n);
	lead = layout_lead(o, t, &last);
	if (o->width <= 0)
		goto done;
	for (; opt != NULL && *opt != NULL; opt++) {
		need = lead + (t->w[last] < TABLE_LAST_MIN ? t->w[last]
		                                           : TABLE_LAST_MIN);
		if (need <= (size_t)o->width)
			break;
		if ((c = column_named(o, *opt)) < o->hdr.n && c != last) {
			t->shown[c] = 0;
			lead = layout_lead(o, t, &last);
		}
	}
	need = (size_t)o->width > lead ? (size_t)o->width - lead : 0;
	if (need < TABLE_WRAP_MIN)
		need = TABLE_WRAP_MIN;
	if (need < t->w[last])
		t->w[last] = need;
done:
	t->last = last;
	t->indent = lead;
}

static const char *status_color(const char *s)
{
	if (strcmp(s, "sent") == 0)
		return "\033[32m";
	if (strcmp(s, "deferred") == 0)
		return "\033[33m";
	if (strcmp(s, "bounced") == 0 || strcmp(s, "expired") == 0 ||
	    strcmp(s, "rejected") == 0)
		return "\033[31m";
	return NULL;
}

/*
 * Prints s in a field of w cells, padded (on the left for numbers) unless
 * it is the last column, in colour `sgr` if set.  Only the last column is
 * ever narrower than its text; table_line() wraps it.
 */
static void table_field(struct pfi_out *o, const char *s, size_t w,
                        int right, int last, const char *sgr)
{
	size_t sw = str_cells(s);

	if (right && sw < w)
		fpad(o, w - sw);
	if (sgr)
		fputs_(o, sgr);
	fputs_(o, s);
	if (sgr)
		fputs_(o, "\033[0m");
	if (!right && !last && sw < w)
		fpad(o, w - sw);
}

/* Bytes of s[0..n) to put on one line of `cells` cells: all of it when
 * it fits, else up to its last space that fits (the space stays behind),
 * else as much as fits (at least one character). */
static size_t wrap_cut(const char *s, size_t n, size_t cells)
{
	size_t fit, i;

	if (text_cells(s, n, cells, &fit) <= cells)
		return n;
	for (i = fit; i > 0; i--)
		if (s[i] == ' ')
			return i;
	if (fit == 0) {
		uint32_t cp;
		size_t len = utf8_seq((const unsigned char *)s, n, &cp);

		fit = len ? len : 1;
	}
	return fit;
}

/* The last column's text s, in lines of t's width, each after the first
 * starting at t->indent. */
static void table_wrap(struct pfi_out *o, const char *s,
                       const struct table_layout *t)
{
	size_t n = strlen(s), k;

	for (;;) {
		k = wrap_cut(s, n, t->w[t->last]);
		fput(o, s, k);
		s += k;
		n -= k;
		while (n > 0 && *s == ' ')
			s++, n--;
		if (n == 0)
			return;
		fputs_(o, "\n");
		fpad(o, t->indent);
	}
}

static void table_line(struct pfi_out *o, long r, const struct table_layout *t)
{
	int color = (o->flags & PFI_OUT_COLOR) != 0, kind, first = 1;
	size_t c, n = o->hdr.n;
	const char *s, *sgr;

	for (c = 0; c < n; c++) {
		if (!t->shown[c])
			continue;
		if (!first)
			fpad(o, TABLE_GAP);
		first = 0;
		s = r < 0 ? cell_text(&o->hdr, c) : table_cell(o, (size_t)r, c, &kind);
		sgr = NULL;
		if (color && r < 0)
			sgr = "\033[1m";
		else if (color && strcmp(cell_text(&o->hdr, c), "status") == 0)
			sgr = status_color(s);
		if (c == t->last && sgr == NULL && !t->numeric[c])
			table_wrap(o, s, t);
		else
			table_field(o, s, t->w[c], t->numeric[c], c == t->last, sgr);
	}
	fputs_(o, "\n");
}

static void table_print(struct pfi_out *o)
{
	struct table_layout t;
	locale_t old = (locale_t)0;
	size_t r;

	if (o->nrows == 0 || o->hdr.n == 0)
		return;
	pthread_once(&cells_once, cells_locale_open);
	if (cells_locale != (locale_t)0)
		old = uselocale(cells_locale);
	t.w = calloc(o->hdr.n, sizeof(*t.w));
	t.numeric = calloc(o->hdr.n, 1);
	t.shown = calloc(o->hdr.n, 1);
	if (t.w == NULL || t.numeric == NULL || t.shown == NULL) {
		o->err = PFI_ENOMEM;
	} else {
		table_measure(o, t.w, t.numeric);
		table_fit(o, &t);
		table_line(o, -1, &t);
		for (r = 0; r < o->nrows; r++)
			table_line(o, (long)r, &t);
	}
	free(t.shown);
	free(t.numeric);
	free(t.w);
	if (old != (locale_t)0)
		uselocale(old);
}

static void table_row_begin(struct pfi_out *o)
{
	size_t *p;

	if (o->nrows == o->rowcap) {
		size_t cap = o->rowcap ? o->rowcap * 2 : 64;

		p = realloc(o->rowstart, cap * sizeof(*p));
		if (p == NULL) {
			o->err = PFI_ENOMEM;
			return;
		}
		o->rowstart = p;
		o->rowcap = cap;
	}
	o->rowstart[o->nrows++] = o->row.n;
}

/* ---- public interface --------------------------------------------------- */

int pfi_out_new(pfi_out **out, FILE *fp, enum pfi_format fmt, unsigned flags)
{
	pfi_out *o;

	*out = NULL;
	if (fp == NULL || (unsigned)fmt > PFI_FMT_TSV)
		return PFI_EINVAL;
	o = calloc(1, sizeof(*o));
	if (o == NULL)
		return PFI_ENOMEM;
	o->fp = fp;
	o->fmt = fmt;
	o->flags = flags;
	pfi_buf_init(&o->json, 0);
	pfi_buf_init(&o->path, 0);
	pfi_buf_init(&o->line, 0);
	cells_init(&o->hdr);
	cells_init(&o->row);
	*out = o;
	return PFI_OK;
}

void pfi_out_set_width(pfi_out *o, int columns)
{
	o->width = columns > 0 ? columns : 0;
}

void pfi_out_set_optional(pfi_out *o, const char *const *columns)
{
	o->optional = columns;
}

int pfi_out_begin(pfi_out *o, const char *list_key)
{
	if (o->err)
		return o->err;
	if (o->state != OUT_NEW)
		return PFI_EINVAL;
	o->single = list_key != NULL && list_key[0] == '\0';
	o->keyed = list_key != NULL && !o->single;
	json_doc_begin(o, list_key);
	o->state = OUT_DOC;
	return o->err;
}

int pfi_out_record_begin(pfi_out *o)
{
	if (o->err)
		return o->err;
	if (o->state != OUT_DOC || (o->single && o->records > 0))
		return PFI_EINVAL;
	pfi_buf_reset(&o->json);
	pfi_buf_reset(&o->path);
	push(o, 'r', is_json(o));
	if (is_json(o))
		bputs(o, &o->json, "{");
	else if (o->fmt == PFI_FMT_TABLE)
		table_row_begin(o);
	else
		cells_reset(&o->row);
	o->state = OUT_REC;
	return o->err;
}

int pfi_out_str(pfi_out *o, const char *key, const char *val)
{
	if (val == NULL)
		return put_value(o, key, VAL_NULL, "null");
	return put_value(o, key, VAL_STR, val);
}

int pfi_out_strn(pfi_out *o, const char *key, const char *val, size_t n)
{
	if (val == NULL)
		return put_value(o, key, VAL_NULL, "null");
	return put_value_n(o, key, VAL_STR, val, n);
}

int pfi_out_int(pfi_out *o, const char *key, int64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, val);
	return put_value(o, key, VAL_NUM, buf);
}

int pfi_out_num(pfi_out *o, const char *key, double val)
{
	char buf[400];

	if (!format_num(buf, sizeof(buf), val))
		return put_value(o, key, VAL_NULL, "null");
	return put_value(o, key, VAL_NUM, buf);
}

int pfi_out_bool(pfi_out *o, const char *key, int val)
{
	return put_value(o, key, VAL_BOOL, val ? "true" : "false");
}

int pfi_out_null(pfi_out *o, const char *key)
{
	return put_value(o, key, VAL_NULL, "null");
}

int pfi_out_time(pfi_out *o, const char *key, int64_t t)
{
	char buf[64];

	if (t == 0)
		return put_value(o, key, VAL_NULL, "null");
	pfi_time_format(buf, sizeof(buf), t, (o->flags & PFI_OUT_UTC) != 0);
	return put_value(o, key, VAL_STR, buf);
}

int pfi_out_object_begin(pfi_out *o, const char *key)
{
	struct frame *f;
	size_t keep = o->path.len;
	int rc = can_write(o, key);

	if (rc != PFI_OK)
		return rc;
	if (o->depth >= OUT_DEPTH_MAX)
		return PFI_EINVAL;
	f = top(o);
	if (f->json) {
		json_member(o, f, key);
		bputs(o, &o->json, "{");
	} else {
		f->count++;
		keep = o->path.len;
		bputs(o, &o->path, key);
		bputs(o, &o->path, ".");
	}
	if (o->err)
		return o->err;
	push(o, 'o', f->json);
	top(o)->prefix = keep;
	return PFI_OK;
}

int pfi_out_object_end(pfi_out *o)
{
	struct frame *f;

	if (o->err)
		return o->err;
	if (o->state != OUT_REC || o->depth < 2 || top(o)->kind != 'o')
		return PFI_EINVAL;
	f = top(o);
	if (f->json) {
		bputs(o, &o->json, "}");
	} else {
		path_cut(o, f->prefix);
	}
	o->depth--;
	return o->err;
}

/*
 * In CSV, TSV and table an array outside any other array becomes one cell:
 * its JSON text is collected in o->json, and its column name is taken now
 * (when this is the first record) so the columns stay in order.
 */
int pfi_out_array_begin(pfi_out *o, const char *key)
{
	struct frame *f;
	size_t keep = 0;
	int rc = can_write(o, key);

	if (rc != PFI_OK)
		return rc;
	if (o->depth >= OUT_DEPTH_MAX)
		return PFI_EINVAL;
	f = top(o);
	if (f->json) {
		json_member(o, f, key);
	} else {
		f->count++;
		pfi_buf_reset(&o->json);
		keep = o->path.len;
		bputs(o, &o->path, key);   /* the cell's name, until array_end */
	}
	bputs(o, &o->json, "[");
	if (o->err)
		return o->err;
	push(o, 'a', 1);
	if (!f->json)
		top(o)->prefix = keep;
	return PFI_OK;
}

/* Ends a cell-level array: adds its cell under the name kept in o->path. */
static void array_cell_end(struct pfi_out *o, const struct frame *a)
{
	char count[32];

	snprintf(count, sizeof(count), "%zu", a->count);
	if (o->fmt == PFI_FMT_TABLE)
		cell_named(o, o->path.data, VAL_NUM, count, strlen(count));
	else
		cell_named(o, o->path.data, VAL_STR, o->json.data, o->json.len);
	path_cut(o, a->prefix);
}

int pfi_out_array_end(pfi_out *o)
{
	struct frame *f;

	if (o->err)
		return o->err;
	if (o->state != OUT_REC || o->depth < 2 || top(o)->kind != 'a')
		return PFI_EINVAL;
	f = top(o);
	bputs(o, &o->json, "]");
	o->depth--;
	if (!top(o)->json && !o->err)
		array_cell_end(o, f);
	return o->err;
}

int pfi_out_record_end(pfi_out *o)
{
	if (o->err)
		return o->err;
	if (o->state != OUT_REC || o->depth != 1)
		return PFI_EINVAL;
	if (is_json(o)) {
		bputs(o, &o->json, "}");
		if (!o->err)
			json_record_write(o);
	} else if (o->fmt != PFI_FMT_TABLE) {
		if (o->records == 0)
			sv_row(o, &o->hdr);
		sv_row(o, &o->row);
	}
	o->depth = 0;
	o->records++;
	o->state = OUT_DOC;
	return o->err;
}

int pfi_out_end(pfi_out *o)
{
	if (o->err)
		return o->err;
	if (o->state != OUT_DOC)
		return PFI_EINVAL;
	if (is_json(o))
		json_doc_end(o);
	else if (o->fmt == PFI_FMT_TABLE)
		table_print(o);
	o->state = OUT_DONE;
	if (fflush(o->fp) != 0 || ferror(o->fp))
		o->ioerr = 1;
	if (o->err)
		return o->err;
	return o->ioerr ? PFI_EIO : PFI_OK;
}

int pfi_term_write(FILE *fp, const char *s, size_t n)
{
	struct pfi_buf b;
	int err = PFI_OK;

	if (fp == NULL || (s == NULL && n > 0))
		return PFI_EINVAL;
	pfi_buf_init(&b, 0);
	put_text(&err, &b, s, n, T_TERM);
	if (err == PFI_OK && b.len > 0 && fwrite(b.data, 1, b.len, fp) != b.len)
		err = PFI_EIO;
	pfi_buf_release(&b);
	return err;
}

void pfi_out_free(pfi_out *o)
{
	if (o == NULL)
		return;
	pfi_buf_release(&o->json);
	pfi_buf_release(&o->path);
	pfi_buf_release(&o->line);
	cells_release(&o->hdr);
	cells_release(&o->row);
	free(o->rowstart);
	free(o);
}

