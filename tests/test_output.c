/*
 * test_output.c - the pfi_out emitter: exact output of every format, JSON
 * escaping (checked by a small JSON validator in this file), CSV quoting
 * (parsed back), TSV escaping, table alignment, truncation and colour,
 * nested objects and arrays, null versus empty, misuse and write errors;
 * hostile text (formula cells, every control byte, invalid UTF-8) in each
 * format.  What the pfi command writes with it (a subject and a sender
 * that begin with '=', with and without --csv-raw) is test_cli_search.c's.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "pfi.h"

TestSuite(output);

/* ---- capturing the output ----------------------------------------------- */

struct capture {
	char *buf;   /* what was written, after cap_close() */
	size_t len;
	FILE *fp;
	pfi_out *o;
};

static pfi_out *cap_open(struct capture *c, enum pfi_format fmt,
                         unsigned flags)
{
	c->buf = NULL;
	c->len = 0;
	c->fp = open_memstream(&c->buf, &c->len);
	cr_assert_not_null(c->fp);
	cr_assert_eq(pfi_out_new(&c->o, c->fp, fmt, flags), PFI_OK);
	return c->o;
}

/* Ends the document (asserting PFI_OK), frees the emitter, returns the text. */
static char *cap_close(struct capture *c)
{
	cr_assert_eq(pfi_out_end(c->o), PFI_OK);
	pfi_out_free(c->o);
	cr_assert_eq(fclose(c->fp), 0);
	return c->buf;
}

/* One delivery-like record with a nested object and two arrays. */
static void sample(pfi_out *o, const char *qid, const char *status,
                   double delay)
{
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "queue_id", qid), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "status", status), PFI_OK);
	cr_assert_eq(pfi_out_num(o, "delay", delay), PFI_OK);
	cr_assert_eq(pfi_out_object_begin(o, "delays"), PFI_OK);
	cr_assert_eq(pfi_out_num(o, "before_qmgr", 0.1), PFI_OK);
	cr_assert_eq(pfi_out_num(o, "in_qmgr", 0), PFI_OK);
	cr_assert_eq(pfi_out_object_end(o), PFI_OK);
	cr_assert_eq(pfi_out_null(o, "relay"), PFI_OK);
	cr_assert_eq(pfi_out_array_begin(o, "lines"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, NULL, "l1"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, NULL, "l2"), PFI_OK);
	cr_assert_eq(pfi_out_array_end(o), PFI_OK);
	cr_assert_eq(pfi_out_array_begin(o, "children"), PFI_OK);
	cr_assert_eq(pfi_out_object_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "queue_id", "C3"), PFI_OK);
	cr_assert_eq(pfi_out_bool(o, "held", 0), PFI_OK);
	cr_assert_eq(pfi_out_object_end(o), PFI_OK);
	cr_assert_eq(pfi_out_array_end(o), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
}

/* The two sample records in format `fmt`, as one document. */
static char *two_samples(enum pfi_format fmt, unsigned flags, int width)
{
	struct capture c;
	pfi_out *o = cap_open(&c, fmt, flags);

	pfi_out_set_width(o, width);
	cr_assert_eq(pfi_out_begin(o, "messages"), PFI_OK);
	sample(o, "A1", "sent", 0.5);
	sample(o, "B2", "bounced", 12);
	return cap_close(&c);
}

/* One record with a single string field `key` = `val` (NULL: null). */
static char *one_string(enum pfi_format fmt, unsigned flags, const char *key,
                        const char *val)
{
	struct capture c;
	pfi_out *o = cap_open(&c, fmt, flags);

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_str(o, key, val), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	return cap_close(&c);
}

/* ---- a small JSON validator (RFC 8259) ---------------------------------- */

static const char *jv_value(const char *p, int depth);

static const char *jv_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Length of a valid UTF-8 sequence at p (non-ASCII), or 0. */
static size_t jv_utf8(const unsigned char *p)
{
	size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2, i;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	for (i = 1; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
	    (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
		return 0;
	return len;
}

static const char *jv_string(const char *p)
{
	const unsigned char *u = (const unsigned char *)p + 1;
	size_t n;

	while (*u != '"') {
		if (*u < 0x20)
			return NULL;
		if (*u == '\\') {
			u++;
			if (*u == 'u') {
				for (n = 1; n <= 4; n++)
					if (!strchr("0123456789abcdefABCDEF", u[n]) || !u[n])
						return NULL;
				u += 5;
			} else if (*u && strchr("\"\\/bfnrt", *u)) {
				u++;
			} else {
				return NULL;
			}
		} else if (*u >= 0x80) {
			if ((n = jv_utf8(u)) == 0)
				return NULL;
			u += n;
		} else {
			u++;
		}
	}
	return (const char *)u + 1;
}

static const char *jv_digits(const char *p)
{
	const char *s = p;

	while (*p >= '0' && *p <= '9')
		p++;
	return p > s ? p : NULL;
}

static const char *jv_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if ((p = jv_digits(p)) == NULL)
		return NULL;
	if (*p == '.' && (p = jv_digits(p + 1)) == NULL)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		p = jv_digits(p);
	}
	return p;
}

/* Members of an object (`close` '}') or elements of an array (']'). */
static const char *jv_list(const char *p, char close, int depth)
{
	p = jv_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if (*p != '"' || (p = jv_string(p)) == NULL)
				return NULL;
			p = jv_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = jv_value(p, depth + 1)) == NULL)
			return NULL;
		p = jv_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
		p = jv_ws(p);
	}
}

static const char *jv_value(const char *p, int depth)
{
	p = jv_ws(p);
	if (depth > 64)
		return NULL;
	if (*p == '{' || *p == '[')
		return jv_list(p, *p == '{' ? '}' : ']', depth);
	if (*p == '"')
		return jv_string(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	return jv_number(p);
}

static int json_valid(const char *s)
{
	const char *p = jv_value(s, 0);

	return p != NULL && *jv_ws(p) == '\0';
}

Test(output, json_validator_rejects_broken_documents)
{
	cr_assert(json_valid("{\"a\":[1,-2.5e3,true,null,\"\\u001b\"]}"));
	cr_assert_not(json_valid("{\"a\":1,}"));
	cr_assert_not(json_valid("[\"raw\x1b\"]"));
	cr_assert_not(json_valid("[\"bad \xff\"]"));
	cr_assert_not(json_valid("[\"\\x1b\"]"));
	cr_assert_not(json_valid("[1] ["));
}

/* ---- a small CSV parser (RFC 4180) -------------------------------------- */

struct csv_field {
	char text[64];   /* the unquoted value */
	int quoted;      /* it was written in quotes */
	int row;         /* 0 is the header */
};

/* Parses one field at *p into f; returns the character that ended it. */
static char csv_field_parse(const char **p, struct csv_field *f)
{
	const char *s = *p;
	size_t n = 0;

	f->quoted = *s == '"';
	if (f->quoted) {
		for (s++; *s && !(*s == '"' && s[1] != '"'); s++) {
			if (*s == '"')
				s++;
			if (n + 1 < sizeof(f->text))
				f->text[n++] = *s;
		}
		cr_assert_eq(*s, '"', "unterminated quoted CSV field");
		s++;
	} else {
		for (; *s && *s != ',' && *s != '\n'; s++)
			if (n + 1 < sizeof(f->text))
				f->text[n++] = *s;
	}
	f->text[n] = '\0';
	*p = *s ? s + 1 : s;
	return *s;
}

/* Parses a whole CSV document; returns the number of fields. */
static size_t csv_parse(const char *s, struct csv_field *f, size_t max)
{
	size_t n = 0;
	int row = 0;
	char end;

	while (*s && n < max) {
		f[n].row = row;
		end = csv_field_parse(&s, &f[n++]);
		cr_assert(end == ',' || end == '\n', "CSV field ends with %d", end);
		row += end == '\n';
	}
	return n;
}

/* ---- JSON and NDJSON ---------------------------------------------------- */

Test(output, json_list_has_one_record_per_line_under_its_key)
{
	char *s = two_samples(PFI_FMT_JSON, 0, 0);

	cr_assert_str_eq(s,
		"{\"messages\":[\n"
		"  {\"queue_id\":\"A1\",\"status\":\"sent\",\"delay\":0.5,"
		"\"delays\":{\"before_qmgr\":0.1,\"in_qmgr\":0},\"relay\":null,"
		"\"lines\":[\"l1\",\"l2\"],"
		"\"children\":[{\"queue_id\":\"C3\",\"held\":false}]},\n"
		"  {\"queue_id\":\"B2\",\"status\":\"bounced\",\"delay\":12,"
		"\"delays\":{\"before_qmgr\":0.1,\"in_qmgr\":0},\"relay\":null,"
		"\"lines\":[\"l1\",\"l2\"],"
		"\"children\":[{\"queue_id\":\"C3\",\"held\":false}]}\n"
		"]}\n");
	cr_assert(json_valid(s));
	free(s);
}

Test(output, json_without_list_key_is_a_bare_array)
{
	char *s = one_string(PFI_FMT_JSON, 0, "k", "v");

	cr_assert_str_eq(s, "[\n  {\"k\":\"v\"}\n]\n");
	cr_assert(json_valid(s));
	free(s);
}

Test(output, json_empty_list_is_still_a_valid_document)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_JSON, 0);
	char *s;

	cr_assert_eq(pfi_out_begin(o, "messages"), PFI_OK);
	s = cap_close(&c);
	cr_assert_str_eq(s, "{\"messages\":[]}\n");
	cr_assert(json_valid(s));
	free(s);
}

Test(output, json_single_object_document_prints_the_bare_object)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_JSON, 0);
	char *s;

	cr_assert_eq(pfi_out_begin(o, ""), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "lines", 42), PFI_OK);
	cr_assert_eq(pfi_out_object_begin(o, "unparsed_by_program"), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "postfix/smtpd", 3), PFI_OK);
	cr_assert_eq(pfi_out_object_end(o), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_EINVAL);
	s = cap_close(&c);
	cr_assert_str_eq(s, "{\"lines\":42,\"unparsed_by_program\":"
	                    "{\"postfix/smtpd\":3}}\n");
	cr_assert(json_valid(s));
	free(s);
}

Test(output, ndjson_writes_one_compact_object_per_line)
{
	char *s = two_samples(PFI_FMT_NDJSON, 0, 0);
	char *nl = strchr(s, '\n');

	cr_assert_not_null(nl);
	*nl = '\0';
	cr_assert_str_eq(s,
		"{\"queue_id\":\"A1\",\"status\":\"sent\",\"delay\":0.5,"
		"\"delays\":{\"before_qmgr\":0.1,\"in_qmgr\":0},\"relay\":null,"
		"\"lines\":[\"l1\",\"l2\"],"
		"\"children\":[{\"queue_id\":\"C3\",\"held\":false}]}");
	cr_assert(json_valid(s));
	cr_assert(json_valid(nl + 1));
	cr_assert_str_eq(strchr(nl + 1, '\n'), "\n", "a third line follows");
	cr_assert(strncmp(nl + 1, "{\"queue_id\":\"B2\"", 16) == 0);
	free(s);
}

Test(output, null_and_empty_string_differ_in_json)
{
	char *s = one_string(PFI_FMT_NDJSON, 0, "from", "");
	char *t = one_string(PFI_FMT_NDJSON, 0, "from", NULL);

	cr_assert_str_eq(s, "{\"from\":\"\"}\n");
	cr_assert_str_eq(t, "{\"from\":null}\n");
	free(s);
	free(t);
}

struct esc_case {
	char in[24];    /* the string value */
	char out[64];   /* its JSON literal */
};

ParameterizedTestParameters(output, json_escapes_every_string)
{
	static struct esc_case cases[] = {
		{ "plain", "\"plain\"" },
		{ "say \"hi\"", "\"say \\\"hi\\\"\"" },
		{ "back\\slash", "\"back\\\\slash\"" },
		{ "\t\n\r", "\"\\t\\n\\r\"" },
		{ "\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"" },
		{ "\x1b[31mred", "\"\\u001b[31mred\"" },
		{ "bad\xff", "\"bad\\ufffd\"" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
		{ "cut\xe2\x82", "\"cut\\ufffd\\ufffd\"" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
		{ "\xc2\x9b" "2J", "\"\\u009b2J\"" },
		{ "K\xc3\xb6ln \xe2\x82\xac \xf0\x9f\x98\x80",
		  "\"K\xc3\xb6ln \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		{ "a/b", "\"a/b\"" },
	};

	return cr_make_param_array(struct esc_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct esc_case *c, output, json_escapes_every_string)
{
	char *s = one_string(PFI_FMT_NDJSON, 0, "v", c->in);
	char want[96];

	snprintf(want, sizeof(want), "{\"v\":%s}\n", c->out);
	cr_assert_str_eq(s, want);
	cr_assert(json_valid(s), "not valid JSON: %s", s);
	free(s);
}

Test(output, json_keys_are_escaped_too)
{
	char *s = one_string(PFI_FMT_JSON, 0, "a\"\x1b", "x");

	cr_assert_str_eq(s, "[\n  {\"a\\\"\\u001b\":\"x\"}\n]\n");
	cr_assert(json_valid(s));
	free(s);
}

struct num_case {
	double in;
	char out[32];
};

ParameterizedTestParameters(output, numbers_have_at_most_three_decimals)
{
	static struct num_case cases[] = {
		{ 0.03, "0.03" },
		{ 12.0, "12" },
		{ 0.00001, "0" },
		{ -0.0001, "0" },
		{ 1.5, "1.5" },
		{ -2.25, "-2.25" },
		{ 2.0004, "2" },
		{ 123456789.125, "123456789.125" },
		{ 1e20, "100000000000000000000" },
		{ NAN, "null" },
		{ INFINITY, "null" },
		{ -INFINITY, "null" },
	};

	return cr_make_param_array(struct num_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct num_case *c, output, numbers_have_at_most_three_decimals)
{
	struct capture cap;
	pfi_out *o = cap_open(&cap, PFI_FMT_NDJSON, 0);
	char want[64];
	char *s;

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_num(o, "n", c->in), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	s = cap_close(&cap);
	snprintf(want, sizeof(want), "{\"n\":%s}\n", c->out);
	cr_assert_str_eq(s, want);
	free(s);
}

Test(output, integers_cover_the_whole_int64_range)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_NDJSON, 0);
	char *s;

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "min", INT64_MIN), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "max", INT64_MAX), PFI_OK);
	cr_assert_eq(pfi_out_bool(o, "t", 7), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	s = cap_close(&c);
	cr_assert_str_eq(s, "{\"min\":-9223372036854775808,"
	                    "\"max\":9223372036854775807,\"t\":true}\n");
	free(s);
}

Test(output, times_are_rfc3339_and_zero_is_null)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_NDJSON, PFI_OUT_UTC);
	char *s;

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_time(o, "t", INT64_C(1793502245) * 1000000), PFI_OK);
	cr_assert_eq(pfi_out_time(o, "u", 0), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	s = cap_close(&c);
	cr_assert_str_eq(s, "{\"t\":\"2026-11-01T03:04:05Z\",\"u\":null}\n");
	free(s);
}

/* ---- CSV and TSV -------------------------------------------------------- */

Test(output, csv_flattens_objects_and_writes_arrays_as_json_cells)
{
	char *s = two_samples(PFI_FMT_CSV, 0, 0);

	cr_assert_str_eq(s,
		"queue_id,status,delay,delays.before_qmgr,delays.in_qmgr,relay,"
		"lines,children\n"
		"A1,sent,0.5,0.1,0,,\"[\"\"l1\"\",\"\"l2\"\"]\","
		"\"[{\"\"queue_id\"\":\"\"C3\"\",\"\"held\"\":false}]\"\n"
		"B2,bounced,12,0.1,0,,\"[\"\"l1\"\",\"\"l2\"\"]\","
		"\"[{\"\"queue_id\"\":\"\"C3\"\",\"\"held\"\":false}]\"\n");
	free(s);
}

Test(output, csv_quoting_round_trips)
{
	static const char *const vals[] = {
		"plain", "a,b", "say \"hi\"", "line1\nline2", "cr\rhere",
		"", NULL, " spaced ", "K\xc3\xb6ln", "\"", "back\\n",
	};
	/* What each reads back as: control characters are escaped. */
	static const char *const back[] = {
		"plain", "a,b", "say \"hi\"", "line1\\nline2", "cr\\rhere",
		"", "", " spaced ", "K\xc3\xb6ln", "\"", "back\\n",
	};
	size_t n = sizeof(vals) / sizeof(vals[0]), i;
	struct csv_field f[32];
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_CSV, 0);
	char key[8], *s;

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "c%zu", i);
		cr_assert_eq(pfi_out_str(o, key, vals[i]), PFI_OK);
	}
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	s = cap_close(&c);
	cr_assert_eq(csv_parse(s, f, 32), 2 * n);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "c%zu", i);
		cr_assert_str_eq(f[i].text, key);
		cr_assert_eq(f[i].row, 0);
		cr_assert_str_eq(f[n + i].text, back[i]);
		cr_assert_eq(f[n + i].row, 1);
	}
	cr_assert_eq(f[n + 5].quoted, 1, "an empty string is written as \"\"");
	cr_assert_eq(f[n + 6].quoted, 0, "null is written as nothing");
	free(s);
}

Test(output, csv_escapes_controls_with_or_without_the_escape_flag)
{
	char *plain = one_string(PFI_FMT_CSV, 0, "v", "\x1b[2J\xff");
	char *esc = one_string(PFI_FMT_CSV, PFI_OUT_ESCAPE, "v", "\x1b[2J\xff");

	cr_assert_str_eq(plain, "v\n\\x1b[2J\xef\xbf\xbd\n");
	cr_assert_str_eq(esc, plain);
	free(plain);
	free(esc);
}

Test(output, tsv_escapes_tab_newline_and_backslash)
{
	char *s = one_string(PFI_FMT_TSV, 0, "v", "a\tb\nc\\d\re");

	cr_assert_str_eq(s, "v\na\\tb\\nc\\\\d\\re\n");
	free(s);
}

Test(output, tsv_flattens_objects_and_writes_arrays_as_json_cells)
{
	char *s = two_samples(PFI_FMT_TSV, 0, 0);

	cr_assert_str_eq(s,
		"queue_id\tstatus\tdelay\tdelays.before_qmgr\tdelays.in_qmgr\t"
		"relay\tlines\tchildren\n"
		"A1\tsent\t0.5\t0.1\t0\t\t[\"l1\",\"l2\"]\t"
		"[{\"queue_id\":\"C3\",\"held\":false}]\n"
		"B2\tbounced\t12\t0.1\t0\t\t[\"l1\",\"l2\"]\t"
		"[{\"queue_id\":\"C3\",\"held\":false}]\n");
	free(s);
}

/* ---- hostile text: formulas, control characters, invalid UTF-8 ---------- */

/* A single-cell CSV or TSV document holding `val` (flags as given). */
static char *cell_doc(enum pfi_format fmt, unsigned flags, const char *val)
{
	return one_string(fmt, flags, "v", val);
}

/* Asserts that document `s` is the header "v" and one row `cell`. */
static void assert_one_cell(char *s, const char *cell, const char *what)
{
	char want[128];

	snprintf(want, sizeof(want), "v\n%s\n", cell);
	cr_assert_str_eq(s, want, "%s", what);
	free(s);
}

struct formula_case {
	char in[40];       /* the text value */
	char csv[48];      /* its CSV cell */
	char tsv[48];      /* its TSV cell */
	char csv_raw[48];  /* its CSV cell with PFI_OUT_CSV_RAW */
	char tsv_raw[48];  /* its TSV cell with PFI_OUT_CSV_RAW */
};

ParameterizedTestParameters(output, formula_cells_get_a_quote_in_csv_and_tsv)
{
	static struct formula_case cases[] = {
		{ "=1+1", "\"'=1+1\"", "'=1+1", "=1+1", "=1+1" },
		{ "+1", "\"'+1\"", "'+1", "+1", "+1" },
		{ "-1", "\"'-1\"", "'-1", "-1", "-1" },
		{ "@SUM(A1:A9)", "\"'@SUM(A1:A9)\"", "'@SUM(A1:A9)", "@SUM(A1:A9)",
		  "@SUM(A1:A9)" },
		{ "\t=1", "\"'\\t=1\"", "'\\t=1", "\\t=1", "\\t=1" },
		{ "\r=1", "\"'\\r=1\"", "'\\r=1", "\\r=1", "\\r=1" },
		{ "=HYPERLINK(\"http://x/\",\"y\")",
		  "\"'=HYPERLINK(\"\"http://x/\"\",\"\"y\"\")\"",
		  "'=HYPERLINK(\"http://x/\",\"y\")",
		  "\"=HYPERLINK(\"\"http://x/\"\",\"\"y\"\")\"",
		  "=HYPERLINK(\"http://x/\",\"y\")" },
		{ "=cmd|' /C calc'!A0", "\"'=cmd|' /C calc'!A0\"",
		  "'=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0", "=cmd|' /C calc'!A0" },
		/* Not formulas: left as they are. */
		{ "a=b", "a=b", "a=b", "a=b", "a=b" },
		{ " =1", " =1", " =1", " =1", " =1" },
		{ "'=1", "'=1", "'=1", "'=1", "'=1" },
		{ "1-2", "1-2", "1-2", "1-2", "1-2" },
		{ "", "\"\"", "", "\"\"", "" },
	};

	return cr_make_param_array(struct formula_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct formula_case *c, output,
                  formula_cells_get_a_quote_in_csv_and_tsv)
{
	assert_one_cell(cell_doc(PFI_FMT_CSV, 0, c->in), c->csv, "csv");
	assert_one_cell(cell_doc(PFI_FMT_TSV, 0, c->in), c->tsv, "tsv");
	assert_one_cell(cell_doc(PFI_FMT_CSV, PFI_OUT_CSV_RAW, c->in),
	                c->csv_raw, "csv, raw");
	assert_one_cell(cell_doc(PFI_FMT_TSV, PFI_OUT_CSV_RAW, c->in),
	                c->tsv_raw, "tsv, raw");
}

Test(output, formula_guard_reads_back_as_the_value_with_a_quote)
{
	struct csv_field f[4];
	char *s = cell_doc(PFI_FMT_CSV, 0, "=1+2,\"x\"");

	cr_assert_eq(csv_parse(s, f, 4), 2);
	cr_assert_str_eq(f[1].text, "'=1+2,\"x\"");
	cr_assert_eq(f[1].quoted, 1);
	free(s);
}

/* One record of numbers, a text that looks like one, and a list. */
static char *numbers_doc(enum pfi_format fmt)
{
	struct capture c;
	pfi_out *o = cap_open(&c, fmt, 0);

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "n", -5), PFI_OK);
	cr_assert_eq(pfi_out_num(o, "x", -1.5), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "s", "-5"), PFI_OK);
	cr_assert_eq(pfi_out_bool(o, "b", 0), PFI_OK);
	cr_assert_eq(pfi_out_null(o, "z"), PFI_OK);
	cr_assert_eq(pfi_out_array_begin(o, "a"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, NULL, "=1"), PFI_OK);
	cr_assert_eq(pfi_out_num(o, NULL, -2.5), PFI_OK);
	cr_assert_eq(pfi_out_array_end(o), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "-k", -1), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	return cap_close(&c);
}

Test(output, numbers_stay_numbers_and_only_text_cells_get_the_quote)
{
	char *csv = numbers_doc(PFI_FMT_CSV), *tsv = numbers_doc(PFI_FMT_TSV);

	cr_assert_str_eq(csv, "n,x,s,b,z,a,\"'-k\"\n"
	                      "-5,-1.5,\"'-5\",false,,\"[\"\"=1\"\",-2.5]\",-1\n");
	cr_assert_str_eq(tsv, "n\tx\ts\tb\tz\ta\t'-k\n"
	                      "-5\t-1.5\t'-5\tfalse\t\t[\"=1\",-2.5]\t-1\n");
	free(csv);
	free(tsv);
}

struct ctrl_case {
	unsigned char byte;   /* a control character: 0x01..0x1f or 0x7f */
	char esc[8];          /* how CSV, TSV and table show it */
	char json[8];         /* how JSON writes it */
};

ParameterizedTestParameters(output, every_control_byte_is_escaped_in_every_format)
{
	static struct ctrl_case cases[32];
	size_t i;

	for (i = 0; i < 32; i++) {
		unsigned char b = i < 31 ? (unsigned char)(i + 1) : 0x7f;

		cases[i].byte = b;
		if (b == '\t' || b == '\n' || b == '\r') {
			snprintf(cases[i].esc, sizeof(cases[i].esc), "\\%c",
			         b == '\t' ? 't' : b == '\n' ? 'n' : 'r');
			memcpy(cases[i].json, cases[i].esc, sizeof(cases[i].esc));
		} else {
			snprintf(cases[i].esc, sizeof(cases[i].esc), "\\x%02x", b);
			snprintf(cases[i].json, sizeof(cases[i].json), "\\u%04x", b);
		}
	}
	return cr_make_param_array(struct ctrl_case, cases, 32);
}

ParameterizedTest(struct ctrl_case *c, output,
                  every_control_byte_is_escaped_in_every_format)
{
	char mid[4] = { 'a', (char)c->byte, 'b', '\0' };
	char lead[3] = { (char)c->byte, 'x', '\0' };
	char cell[32], lead_csv[32], lead_tsv[32], json[48], *s;
	int formula = c->byte == '\t' || c->byte == '\r';

	snprintf(cell, sizeof(cell), "a%sb", c->esc);
	assert_one_cell(cell_doc(PFI_FMT_CSV, 0, mid), cell, "csv");
	assert_one_cell(cell_doc(PFI_FMT_TSV, 0, mid), cell, "tsv");
	assert_one_cell(cell_doc(PFI_FMT_TABLE, 0, mid), cell, "table");
	assert_one_cell(cell_doc(PFI_FMT_CSV, PFI_OUT_CSV_RAW, mid), cell,
	                "csv, raw");
	snprintf(lead_csv, sizeof(lead_csv), "%s%sx%s", formula ? "\"'" : "",
	         c->esc, formula ? "\"" : "");
	snprintf(lead_tsv, sizeof(lead_tsv), "%s%sx", formula ? "'" : "", c->esc);
	assert_one_cell(cell_doc(PFI_FMT_CSV, 0, lead), lead_csv, "csv, first");
	assert_one_cell(cell_doc(PFI_FMT_TSV, 0, lead), lead_tsv, "tsv, first");
	s = one_string(PFI_FMT_NDJSON, 0, "v", mid);
	snprintf(json, sizeof(json), "{\"v\":\"a%sb\"}\n", c->json);
	cr_assert_str_eq(s, json);
	cr_assert(json_valid(s), "not valid JSON: %s", s);
	free(s);
}

struct utf8_case {
	char in[16];     /* text with invalid UTF-8 or a C1 control */
	char csv[32];    /* its CSV and TSV cell */
	char table[32];  /* its table cell */
	char json[40];   /* its JSON literal, without the quotes */
};

ParameterizedTestParameters(output, invalid_utf8_and_c1_controls_are_made_safe)
{
	static struct utf8_case cases[] = {
		{ "bad\xff", "bad\xef\xbf\xbd", "bad\\xff", "bad\\ufffd" },
		{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "\\xc0\\xaf",
		  "\\ufffd\\ufffd" },
		{ "cut\xe2\x82", "cut\xef\xbf\xbd\xef\xbf\xbd", "cut\\xe2\\x82",
		  "cut\\ufffd\\ufffd" },
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		  "\\xed\\xa0\\x80", "\\ufffd\\ufffd\\ufffd" },
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
		  "\\xf4\\x90\\x80\\x80", "\\ufffd\\ufffd\\ufffd\\ufffd" },
		{ "\xc2\x9b" "2J", "\\u009b2J", "\\u009b2J", "\\u009b2J" },
		{ "\xc2\x85", "\\u0085", "\\u0085", "\\u0085" },
		{ "\xc2\x80\xc2\x9f", "\\u0080\\u009f", "\\u0080\\u009f",
		  "\\u0080\\u009f" },
		{ "K\xc3\xb6ln\xc2\xa0", "K\xc3\xb6ln\xc2\xa0", "K\xc3\xb6ln\xc2\xa0",
		  "K\xc3\xb6ln\xc2\xa0" },
		{ "\xe2\x80\xa8", "\xe2\x80\xa8", "\xe2\x80\xa8", "\xe2\x80\xa8" },
	};

	return cr_make_param_array(struct utf8_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct utf8_case *c, output,
                  invalid_utf8_and_c1_controls_are_made_safe)
{
	char json[64], *s;

	assert_one_cell(cell_doc(PFI_FMT_CSV, 0, c->in), c->csv, "csv");
	assert_one_cell(cell_doc(PFI_FMT_TSV, 0, c->in), c->csv, "tsv");
	assert_one_cell(cell_doc(PFI_FMT_TABLE, 0, c->in), c->table, "table");
	s = one_string(PFI_FMT_NDJSON, 0, "v", c->in);
	snprintf(json, sizeof(json), "{\"v\":\"%s\"}\n", c->json);
	cr_assert_str_eq(s, json);
	cr_assert(json_valid(s), "not valid JSON: %s", s);
	free(s);
}

Test(output, json_escapes_every_byte_of_a_hostile_value_in_one_document)
{
	char all[256 + 1], *s;
	size_t i;

	for (i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	s = one_string(PFI_FMT_JSON, 0, all, all);
	cr_assert(json_valid(s), "not valid JSON: %s", s);
	for (i = 0; s[i] != '\0'; i++)
		cr_assert((unsigned char)s[i] >= 0x20 || s[i] == '\n',
		          "raw control 0x%02x at %zu", (unsigned char)s[i], i);
	free(s);
}

/* One record with a string `val` of n bytes (pfi_out_strn). */
static char *one_strn(enum pfi_format fmt, unsigned flags, const char *val,
                      size_t n)
{
	struct capture c;
	pfi_out *o = cap_open(&c, fmt, flags);

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_strn(o, "v", val, n), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	return cap_close(&c);
}

struct nul_case {
	char in[8];      /* bytes with a NUL among them */
	size_t n;
	char cell[24];   /* its CSV, TSV and table cell */
	char json[24];   /* its JSON literal, without the quotes */
};

ParameterizedTestParameters(output, a_nul_byte_is_escaped_never_an_end)
{
	static struct nul_case cases[] = {
		{ "a\0b", 3, "a\\x00b", "a\\u0000b" },
		{ "\0", 1, "\\x00", "\\u0000" },
		{ "x\0\0", 3, "x\\x00\\x00", "x\\u0000\\u0000" },
		{ "\0=1", 3, "\\x00=1", "\\u0000=1" },
	};

	return cr_make_param_array(struct nul_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct nul_case *c, output, a_nul_byte_is_escaped_never_an_end)
{
	char want[48], *s;

	assert_one_cell(one_strn(PFI_FMT_CSV, 0, c->in, c->n), c->cell, "csv");
	assert_one_cell(one_strn(PFI_FMT_TSV, 0, c->in, c->n), c->cell, "tsv");
	s = one_strn(PFI_FMT_TABLE, 0, c->in, c->n);
	snprintf(want, sizeof(want), "v\n%s\n", c->cell);
	cr_assert_str_eq(s, want, "table");
	free(s);
	s = one_strn(PFI_FMT_NDJSON, 0, c->in, c->n);
	snprintf(want, sizeof(want), "{\"v\":\"%s\"}\n", c->json);
	cr_assert_str_eq(s, want);
	cr_assert(json_valid(s), "not valid JSON: %s", s);
	free(s);
}

Test(output, a_formula_after_a_nul_is_still_quoted)
{
	assert_one_cell(one_strn(PFI_FMT_CSV, 0, "=\0", 2), "\"'=\\x00\"", "csv");
	assert_one_cell(one_strn(PFI_FMT_TSV, 0, "-1\0", 3), "'-1\\x00", "tsv");
}

/* ---- pfi_term_write: the same escapes for lines outside a table ---------- */

struct term_case {
	char in[16];    /* the bytes, NUL included */
	size_t n;       /* how many */
	char out[48];   /* what the terminal is shown */
};

ParameterizedTestParameters(output, term_write_escapes_like_a_table_cell)
{
	static struct term_case cases[] = {
		{ "a\0b", 3, "a\\x00b" },
		{ "\x1b[2J\x07", 5, "\\x1b[2J\\x07" },
		{ "t\tn\nr\r", 6, "t\\tn\\nr\\r" },
		{ "\x7f", 1, "\\x7f" },
		{ "\xc2\x9b" "1m", 4, "\\u009b1m" },
		{ "\xff\xfe", 2, "\\xff\\xfe" },
		{ "cut\xe2\x82", 5, "cut\\xe2\\x82" },
		{ "K\xc3\xb6ln \xe2\x82\xac", 9, "K\xc3\xb6ln \xe2\x82\xac" },
		{ "back\\slash", 10, "back\\slash" },
		{ "", 0, "" },
	};

	return cr_make_param_array(struct term_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct term_case *c, output,
                  term_write_escapes_like_a_table_cell)
{
	char *buf = NULL, want[64];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	cr_assert_not_null(fp);
	cr_assert_eq(pfi_term_write(fp, c->in, c->n), PFI_OK);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(len, strlen(c->out));
	cr_assert_str_eq(buf, c->out);
	free(buf);
	if (c->n > 0 && strlen(c->in) == c->n) {
		snprintf(want, sizeof(want), "v\n%s\n", c->out);
		buf = one_string(PFI_FMT_TABLE, 0, "v", c->in);
		cr_assert_str_eq(buf, want, "the table shows it otherwise");
		free(buf);
	}
}

Test(output, term_write_refuses_no_file)
{
	cr_assert_eq(pfi_term_write(NULL, "x", 1), PFI_EINVAL);
	cr_assert_eq(pfi_term_write(stdout, NULL, 1), PFI_EINVAL);
	cr_assert_eq(pfi_term_write(stdout, NULL, 0), PFI_OK);
}

/* ---- tables ------------------------------------------------------------- */

Test(output, table_aligns_columns_and_counts_array_elements)
{
	char *s = two_samples(PFI_FMT_TABLE, 0, 0);

	cr_assert_str_eq(s,
		"queue_id  status   delay  delays.before_qmgr  delays.in_qmgr"
		"  relay  lines  children\n"
		"A1        sent       0.5                 0.1               0"
		"             2         1\n"
		"B2        bounced     12                 0.1               0"
		"             2         1\n");
	free(s);
}

/* Rows for the narrow-table tests: an int, a long text and a status. */
static char *subjects_table(unsigned flags, int width)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_TABLE, flags);

	pfi_out_set_width(o, width);
	cr_assert_eq(pfi_out_begin(o, "rows"), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "id", 1), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "subject",
	             "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln und \xc3\xbc" "berall"),
	             PFI_OK);
	cr_assert_eq(pfi_out_str(o, "status", "sent"), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_int(o, "id", 22), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "subject", "short"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "status", "deferred"), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	return cap_close(&c);
}

Test(output, table_cuts_no_cell_even_when_the_width_is_too_small)
{
	char *s = subjects_table(0, 30);

	cr_assert_str_eq(s,
		"id  subject                     status\n"
		" 1  Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln und \xc3\xbc" "berall  sent\n"
		"22  short                       deferred\n");
	free(s);
}

/* Rows of deliveries: identifiers, then a long reply text last. */
static char *replies_table(int width, const char *const *optional)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_TABLE, 0);

	pfi_out_set_width(o, width);
	pfi_out_set_optional(o, optional);
	cr_assert_eq(pfi_out_begin(o, "rows"), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "host", "mx1"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "queue_id", "4Xy3Kq2bZTz9abc"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "to", "bob@example.com"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "response", "host mx.example.com[192.0.2.1] "
	             "said: 550 5.1.1 <bob@example.com>: Recipient address "
	             "rejected: User unknown"), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "host", "mx2"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "queue_id", "4F3A21C0B2"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "to", "x@y.example"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "response", "250 ok"), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	return cap_close(&c);
}

Test(output, table_wraps_the_last_column_at_spaces_under_itself)
{
	char *s = replies_table(80, NULL);

	/* 40 cells of identifiers leave the reply 40 */
	cr_assert_str_eq(s,
		"host  queue_id         to               response\n"
		"mx1   4Xy3Kq2bZTz9abc  bob@example.com  host mx.example.com[192.0.2.1] said: 550\n"
		"                                        5.1.1 <bob@example.com>: Recipient\n"
		"                                        address rejected: User unknown\n"
		"mx2   4F3A21C0B2       x@y.example      250 ok\n");
	free(s);
}

Test(output, table_leaves_out_optional_columns_in_order_until_it_fits)
{
	static const char *const optional[] = { "host", "to", NULL };
	char *s = replies_table(75, optional), *wide;

	/* 40 + 40 cells do not fit in 75: host goes, and the reply gets 41 */
	cr_assert_str_eq(s,
		"queue_id         to               response\n"
		"4Xy3Kq2bZTz9abc  bob@example.com  host mx.example.com[192.0.2.1] said: 550\n"
		"                                  5.1.1 <bob@example.com>: Recipient\n"
		"                                  address rejected: User unknown\n"
		"4F3A21C0B2       x@y.example      250 ok\n");
	free(s);
	/* wide enough: nothing goes, nothing wraps */
	wide = replies_table(200, optional);
	cr_assert_not_null(strstr(wide, "host  queue_id"), "%s", wide);
	cr_assert_not_null(strstr(wide, "rejected: User unknown\n"), "%s", wide);
	free(wide);
	/* narrower than the identifiers: both go, and the line is wider than
	 * asked rather than an identifier cut; the reply keeps 16 cells */
	s = replies_table(20, optional);
	cr_assert_str_eq(s,
		"queue_id         response\n"
		"4Xy3Kq2bZTz9abc  host\n"
		"                 mx.example.com[1\n"
		"                 92.0.2.1] said:\n"
		"                 550 5.1.1\n"
		"                 <bob@example.com\n"
		"                 >: Recipient\n"
		"                 address\n"
		"                 rejected: User\n"
		"                 unknown\n"
		"4F3A21C0B2       250 ok\n");
	free(s);
}

/* A table of one text column `name` and a last column, with the rows. */
static char *two_columns(const char *const *left, const char *const *right,
                         int width)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_TABLE, 0);
	size_t i;

	pfi_out_set_width(o, width);
	cr_assert_eq(pfi_out_begin(o, "rows"), PFI_OK);
	for (i = 0; left[i] != NULL; i++) {
		cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
		cr_assert_eq(pfi_out_str(o, "subject", left[i]), PFI_OK);
		cr_assert_eq(pfi_out_str(o, "status", right[i]), PFI_OK);
		cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	}
	return cap_close(&c);
}

Test(output, table_measures_in_terminal_cells_so_wide_characters_align)
{
	/* 会议 is 2 characters in 4 cells; e + U+0301 is 2 in 1 cell */
	static const char *const left[] = {
		"\xe4\xbc\x9a\xe8\xae\xae", "cafe\xcc\x81", "abcd", NULL
	};
	static const char *const right[] = { "sent", "sent", "sent", NULL };
	char *s = two_columns(left, right, 0);

	cr_assert_str_eq(s,
		"subject  status\n"
		"\xe4\xbc\x9a\xe8\xae\xae     sent\n"
		"cafe\xcc\x81     sent\n"
		"abcd     sent\n");
	free(s);
}

Test(output, table_wraps_wide_characters_by_their_cells)
{
	/* 21 wide characters (42 cells) in a last column of 40 cells: the
	 * first line takes 20 of them, none split */
	static const char *const left[] = { "x", NULL };
	static const char *const right[] = {
		"\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		"\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		"\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		"\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		"\xe4\xb8\x80", NULL
	};
	char *s = two_columns(left, right, 49);

	cr_assert_str_eq(s,
		"subject  status\n"
		"x        \xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		"\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		"\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		"\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\n"
		"         \xe4\xb8\x80\n");
	free(s);
}

Test(output, table_without_width_keeps_whole_values)
{
	char *s = subjects_table(0, 0);

	cr_assert_str_eq(s,
		"id  subject                     status\n"
		" 1  Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln und \xc3\xbc" "berall  sent\n"
		"22  short                       deferred\n");
	free(s);
}

Test(output, table_colours_status_only_with_the_colour_flag)
{
	char *plain = subjects_table(0, 0);
	char *color = subjects_table(PFI_OUT_COLOR, 0);

	cr_assert_null(strchr(plain, '\033'));
	cr_assert_not_null(strstr(color, "\033[32msent\033[0m\n"));
	cr_assert_not_null(strstr(color, "\033[33mdeferred\033[0m\n"));
	cr_assert_not_null(strstr(color, "\033[1mstatus\033[0m\n"));
	cr_assert_not_null(strstr(color, " 1  Gr\xc3\xbc"), "other cells plain");
	free(plain);
	free(color);
}

Test(output, table_shows_control_characters_as_escapes)
{
	char *s = one_string(PFI_FMT_TABLE, 0, "v", "\x1b[2Jhi\tx\xff\xc2\x9b");

	cr_assert_str_eq(s, "v\n\\x1b[2Jhi\\tx\\xff\\u009b\n");
	free(s);
}

Test(output, table_shows_null_and_empty_as_blank_cells)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_TABLE, 0);
	char *s;

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "a", ""), PFI_OK);
	cr_assert_eq(pfi_out_null(o, "b"), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "c", "x"), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	s = cap_close(&c);
	cr_assert_str_eq(s, "a  b  c\n      x\n");
	free(s);
}

Test(output, table_with_no_records_prints_nothing)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_TABLE, 0);
	char *s;

	cr_assert_eq(pfi_out_begin(o, "rows"), PFI_OK);
	s = cap_close(&c);
	cr_assert_str_eq(s, "");
	free(s);
}

/* ---- misuse and write errors -------------------------------------------- */

Test(output, unknown_format_is_rejected)
{
	pfi_out *o = (pfi_out *)1;

	cr_assert_eq(pfi_out_new(&o, stdout, (enum pfi_format)99, 0), PFI_EINVAL);
	cr_assert_null(o);
}

Test(output, misuse_returns_einval_and_changes_nothing)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_NDJSON, 0);
	char *s;

	cr_assert_eq(pfi_out_record_begin(o), PFI_EINVAL, "before begin");
	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_begin(o, NULL), PFI_EINVAL, "begin twice");
	cr_assert_eq(pfi_out_record_end(o), PFI_EINVAL, "end without begin");
	cr_assert_eq(pfi_out_str(o, "k", "v"), PFI_EINVAL, "outside a record");
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_str(o, NULL, "v"), PFI_EINVAL, "no key in object");
	cr_assert_eq(pfi_out_object_end(o), PFI_EINVAL, "no object open");
	cr_assert_eq(pfi_out_array_begin(o, "a"), PFI_OK);
	cr_assert_eq(pfi_out_object_end(o), PFI_EINVAL, "array open");
	cr_assert_eq(pfi_out_record_end(o), PFI_EINVAL, "array still open");
	cr_assert_eq(pfi_out_end(o), PFI_EINVAL, "record still open");
	cr_assert_eq(pfi_out_array_end(o), PFI_OK);
	cr_assert_eq(pfi_out_array_end(o), PFI_EINVAL, "no array open");
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	s = cap_close(&c);
	cr_assert_str_eq(s, "{\"a\":[]}\n");
	free(s);
}

Test(output, deep_nesting_is_refused_not_overflowed)
{
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_JSON, 0);
	int i, rc = PFI_OK;

	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	for (i = 0; i < 100 && rc == PFI_OK; i++)
		rc = pfi_out_array_begin(o, "a");
	cr_assert_eq(rc, PFI_EINVAL);
	cr_assert_gt(i, 8);
	pfi_out_free(o);
	fclose(c.fp);
	free(c.buf);
}

Test(output, a_failed_write_is_reported_by_end)
{
	FILE *fp = fopen("/dev/full", "w");
	pfi_out *o;

	cr_assert_not_null(fp);
	cr_assert_eq(pfi_out_new(&o, fp, PFI_FMT_CSV, 0), PFI_OK);
	cr_assert_eq(pfi_out_begin(o, NULL), PFI_OK);
	cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
	cr_assert_eq(pfi_out_str(o, "k", "v"), PFI_OK);
	cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	cr_assert_eq(pfi_out_end(o), PFI_EIO);
	pfi_out_free(o);
	fclose(fp);
}

Test(output, hostile_strings_give_valid_json_in_every_record)
{
	static const char *const vals[] = {
		"\x1b]0;pwned\x07", "\xff\xfe", "\xf4\x90\x80\x80", "a\0b",
		"\xe2\x80\xa8", "\"}]", "\\u0000",
	};
	struct capture c;
	pfi_out *o = cap_open(&c, PFI_FMT_JSON, 0);
	size_t i;
	char *s;

	cr_assert_eq(pfi_out_begin(o, "x"), PFI_OK);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		cr_assert_eq(pfi_out_record_begin(o), PFI_OK);
		cr_assert_eq(pfi_out_str(o, vals[i], vals[i]), PFI_OK);
		cr_assert_eq(pfi_out_array_begin(o, "l"), PFI_OK);
		cr_assert_eq(pfi_out_str(o, NULL, vals[i]), PFI_OK);
		cr_assert_eq(pfi_out_array_end(o), PFI_OK);
		cr_assert_eq(pfi_out_record_end(o), PFI_OK);
	}
	s = cap_close(&c);
	cr_assert(json_valid(s), "not valid JSON: %s", s);
	cr_assert_null(strchr(s, '\033'));
	free(s);
}
