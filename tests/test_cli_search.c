/*
 * test_cli_search.c - pfi search as users and scripts meet it: every
 * filter option reaching the search, time options read at the time pfi
 * runs, the output formats parsed back (JSON, NDJSON, CSV, TSV, the
 * table), escaping and formula cells, --count, --limit, exit codes, usage
 * errors and --help.  Like the rest of the CLI suite (test_cli.c) it runs
 * the built pfi only, indexes included; what rows a filter selects is
 * test_search.c's, through the library.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "helpers.h"

#define SAMPLE_MTIME 1793664000   /* 2026-11-03 00:00 UTC, after the sample */
#define T_1000 1793613600         /* 2026-11-02T10:00:00Z */

static const char *dir;
static char *db;

static void setup(void)
{
	dir = tmpdir_make();
	db = path_join(dir, "index.db");
	setenv("TZ", "UTC", 1);
	setenv("NO_COLOR", "1", 1);
	unsetenv("PFI_DB");
}

static void teardown(void)
{
	free(db);
	tmpdir_cleanup();
}

TestSuite(cli_search, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* The sample log indexed into db by pfi. */
static void index_sample(void)
{
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	char *err = NULL;

	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	free(err);
	free(log);
}

/* Writes text to dir/name and indexes it into db by pfi. */
static void index_text(const char *name, const char *text)
{
	char *log = path_join(dir, name), *err = NULL;
	FILE *fp = fopen(log, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	free(err);
	free(log);
}

/* ---- the filter options ------------------------------------------------------ */

/* Writes a NOQUEUE reject at time t (seconds) from client NAME[IP]. */
static void reject_line(FILE *fp, int64_t t, const char *host, const char *name,
                        const char *ip, const char *to, const char *reason)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char ts[64];

	gmtime_r(&tt, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	fprintf(fp, "%s %s postfix/smtpd[100]: NOQUEUE: reject: RCPT from %s[%s]:"
	        " 550 5.1.1 <%s>: %s; from=<s@y.example> to=<%s> proto=ESMTP"
	        " helo=<h>\n", ts, host, name, ip, to, reason, to);
}

/* Runs `pfi --db DB search --count ARGS...`; returns the count printed,
 * and checks the exit status agrees (0 with rows, 1 without). */
static long count_of(const char *a1, const char *a2, const char *a3,
                     const char *a4)
{
	const char *argv[] = { "--db", db, "search", "--count", a1, a2, a3, a4, NULL };
	char *out, *err;
	long n;
	int rc = run_pfi(argv, NULL, &out, &err);

	n = strtol(out, NULL, 10);
	cr_assert_eq(rc, n > 0 ? 0 : 1, "%s %s: exit %d: %s", a1, a2, rc, err);
	if (n > 0)
		cr_assert_str_empty(err);
	else   /* what the index covers, in one line */
		cr_assert(strncmp(err, "pfi: no match", 13) == 0 &&
		          strchr(err, '\n') == err + strlen(err) - 1, "%s", err);
	free(out);
	free(err);
	return n;
}

/*
 * Two messages that differ in every field a filter reads: A on mx1 at
 * 09:00, from ann@a.example (client 203.0.113.5, SASL user alice) to
 * rob@x.example, sent; B on mx2 at 10:00, from bea@b.example (client
 * 198.51.100.77, SASL user bert) to sue@y.example, bounced.
 */
#define QID_A "4A1B2C3D4E"
#define QID_B "5B2C3D4E5F"
static const char two_messages_log[] =
	"2026-11-02T09:00:01+00:00 mx1 postfix/smtpd[2101]: 4A1B2C3D4E: "
	"client=mail.a.example[203.0.113.5], sasl_method=PLAIN, sasl_username=alice\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/cleanup[1211]: 4A1B2C3D4E: "
	"warning: header Subject: Lunch in Lisbon from mail.a.example[203.0.113.5];"
	" from=<ann@a.example> to=<rob@x.example> proto=ESMTP helo=<mail.a.example>\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/cleanup[1211]: 4A1B2C3D4E: "
	"message-id=<a.1@a.example>\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/qmgr[1102]: 4A1B2C3D4E: "
	"from=<ann@a.example>, size=421, nrcpt=1 (queue active)\n"
	"2026-11-02T09:00:02+00:00 mx1 postfix/smtp[1301]: 4A1B2C3D4E: "
	"to=<rob@x.example>, relay=mx.x.example[198.51.100.1]:25, delay=0.2,"
	" delays=0.08/0.12/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"2026-11-02T09:00:02+00:00 mx1 postfix/qmgr[1102]: 4A1B2C3D4E: removed\n"
	"2026-11-02T10:00:01+00:00 mx2 postfix/smtpd[2102]: 5B2C3D4E5F: "
	"client=mail.b.example[198.51.100.77], sasl_method=PLAIN, sasl_username=bert\n"
	"2026-11-02T10:00:01+00:00 mx2 postfix/cleanup[1212]: 5B2C3D4E5F: "
	"warning: header Subject: Invoice 42 from mail.b.example[198.51.100.77];"
	" from=<bea@b.example> to=<sue@y.example> proto=ESMTP helo=<mail.b.example>\n"
	"2026-11-02T10:00:01+00:00 mx2 postfix/cleanup[1212]: 5B2C3D4E5F: "
	"message-id=<b.2@b.example>\n"
	"2026-11-02T10:00:01+00:00 mx2 postfix/qmgr[1103]: 5B2C3D4E5F: "
	"from=<bea@b.example>, size=500, nrcpt=1 (queue active)\n"
	"2026-11-02T10:00:03+00:00 mx2 postfix/smtp[1302]: 5B2C3D4E5F: "
	"to=<sue@y.example>, relay=mx.y.example[192.0.2.25]:25, delay=1.5,"
	" delays=0.1/0.1/0.3/1, dsn=5.1.1, status=bounced (host"
	" mx.y.example[192.0.2.25] said: 550 5.1.1 <sue@y.example>: unknown"
	" user (in reply to RCPT TO command))\n"
	"2026-11-02T10:00:03+00:00 mx2 postfix/qmgr[1103]: 5B2C3D4E5F: removed\n";

struct ocase {
	char opt[20];
	char val[32];
	char qid[12];   /* the one row it selects */
};

ParameterizedTestParameters(cli_search, every_filter_option_selects_what_it_names)
{
	static struct ocase cases[] = {
		{ "--from", "ann@a.example", QID_A },
		{ "--to", "sue@y.example", QID_B },
		{ "--domain", "x.example", QID_A },
		{ "--sender-domain", "b.example", QID_B },
		{ "--subject", "lisbon", QID_A },
		{ "--status", "bounced", QID_B },
		{ "--dsn", "5.*", QID_B },
		{ "--client", "203.0.113.0/24", QID_A },
		{ "--relay", "mx.y.example", QID_B },
		{ "--host", "mx1", QID_A },
		{ "--message-id", "b.2@b.example", QID_B },
		{ "--sasl-user", "alice", QID_A },
		{ "--grep", "Invoice [0-9]+", QID_B },
		{ "--since", "2026-11-02T09:30:00Z", QID_B },
		{ "--until", "2026-11-02T09:30:00Z", QID_A },
	};

	return cr_make_param_array(struct ocase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ocase *c, cli_search, every_filter_option_selects_what_it_names)
{
	const char *argv[] = { "--db", db, "search", c->opt, c->val, "--format",
	                       "tsv", NULL };
	const char *other = strcmp(c->qid, QID_A) == 0 ? QID_B : QID_A;
	char *out, *err, want[16];

	index_text("two.log", two_messages_log);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "%s %s: %s", c->opt,
	             c->val, err);
	cr_assert_str_empty(err);
	snprintf(want, sizeof(want), "\t%s\t", c->qid);
	cr_assert_not_null(strstr(out, want), "%s %s: %s", c->opt, c->val, out);
	cr_assert_null(strstr(out, other), "%s %s: %s", c->opt, c->val, out);
	free(out);
	free(err);
}

Test(cli_search, filter_options_combine_and_repeat)
{
	index_text("two.log", two_messages_log);
	cr_assert_eq(count_of(NULL, NULL, NULL, NULL), 2);
	cr_assert_eq(count_of("--host", "mx1", "--status", "bounced"), 0);
	cr_assert_eq(count_of("--status", "sent", "--status", "bounced"), 2);
	cr_assert_eq(count_of("--status", "sent,bounced", "--host", "mx2"), 1);
}

Test(cli_search, relative_times_count_back_from_when_pfi_runs)
{
	static const int64_t ago[] = { 30, 600, 5400, 10 * 86400 };
	char *log = path_join(dir, "now.log"), *err = NULL;
	int64_t now = time(NULL);
	FILE *fp = fopen(log, "w");
	size_t i;

	cr_assert_not_null(fp);
	for (i = 0; i < sizeof(ago) / sizeof(ago[0]); i++)
		reject_line(fp, now - ago[i], "mx1", "unknown", "192.0.2.1",
		            "a@x.example", "no");
	fclose(fp);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	cr_assert_eq(count_of("--since", "60s", NULL, NULL), 1);
	cr_assert_eq(count_of("--since", "15m", NULL, NULL), 2);
	cr_assert_eq(count_of("--since", "2h", NULL, NULL), 3);
	cr_assert_eq(count_of("--since", "2w", NULL, NULL), 4);
	cr_assert_eq(count_of("--until", "60s", NULL, NULL), 3);
	cr_assert_eq(count_of("--since", "1w", "--until", "2h"), 0);
	/* issue 18's forms count back the same way */
	cr_assert_eq(count_of("--since", "-15m", NULL, NULL), 2);
	cr_assert_eq(count_of("--since", "15m ago", NULL, NULL), 2);
	cr_assert_eq(count_of("--since", "2 hours ago", NULL, NULL), 3);
	cr_assert_eq(count_of("--since", "3 weeks ago", "--until", "now"), 4);
	cr_assert_eq(count_of("--since", "now", NULL, NULL), 0);
	free(err);
	free(log);
}

static void index_tiny(void);

Test(cli_search, utc_makes_bare_times_utc_on_input_too)
{
	index_tiny();
	setenv("TZ", "Europe/Berlin", 1);   /* 10:00 there is 09:00Z */
	cr_assert_eq(count_of("--since", "2026-11-02T10:00", NULL, NULL), 5);
	cr_assert_eq(count_of("--utc", "--since", "2026-11-02T10:00", NULL), 4);
	cr_assert_eq(count_of("--since", "2026-11-02T10:00", "--utc", NULL), 4);
	/* an explicit offset is the same either way */
	cr_assert_eq(count_of("--utc", "--since", "2026-11-02T11:00+01:00", NULL), 4);
	cr_assert_eq(count_of("--until", "2026-11-02 11:00:00", NULL, NULL), 1);
	cr_assert_eq(count_of("--until", "2026-11-02 11:00:00", "--utc", NULL), 4);
	cr_assert_eq(count_of("--until", "2026-11-02 10:00:01", "--utc", NULL), 2);
}

Test(cli_search, a_time_it_cannot_read_gets_the_forms_it_can)
{
	const char *argv[] = { "--db", db, "search", "--since", "last tuesday", NULL };
	char *out, *err;

	index_tiny();
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 2, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_not_null(strstr(err, "pfi: invalid time 'last tuesday' for "
	                          "--since; times are "), "%s", err);
	cr_assert_not_null(strstr(err, "1h ago"), "%s", err);
	cr_assert_not_null(strstr(err, "13:40"), "%s", err);
	cr_assert_not_null(strstr(err, "Nov 22 13:40"), "%s", err);
	cr_assert_not_null(strstr(err, "yesterday 14:00"), "%s", err);
	free(out);
	free(err);
}

/* Indexes a log of rejects at T_1000 + offsets (seconds), one of them
 * with terminal escapes in its text, by pfi. */
static void index_tiny(void)
{
	char *log = path_join(dir, "tiny.log"), *err = NULL;
	FILE *fp = fopen(log, "w");

	cr_assert_not_null(fp);
	reject_line(fp, T_1000 - 1, "mx1", "unknown", "192.0.2.1", "a@x.example", "no");
	reject_line(fp, T_1000, "mx1", "v6.example", "2001:db8::5", "b@x.example", "no");
	reject_line(fp, T_1000 + 1, "mx1", "unknown", "2001:db8:1::7", "c@x.example", "no");
	reject_line(fp, T_1000 + 1800, "mx2", "unknown", "2001:db9::1", "d@x.example",
	            "bad \033[2J\033]0;title\007 text");
	reject_line(fp, T_1000 + 50400, "mx2", "m.example", "::ffff:192.0.2.9",
	            "e@x.example", "mapped");
	fclose(fp);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	free(err);
	free(log);
}

Test(cli_search, time_and_network_options_bound_the_rows)
{
	index_tiny();
	cr_assert_eq(count_of("--since", "2026-11-02T10:00", NULL, NULL), 4);
	cr_assert_eq(count_of("--until", "2026-11-02 10:00:01", NULL, NULL), 2);
	cr_assert_eq(count_of("--since", "@1793613600", "--until", "@1793613601"), 1);
	cr_assert_eq(count_of("--since", "@1793613601", "--until", "@1793613600"), 0);
	cr_assert_eq(count_of("--client", "2001:db8::/32", NULL, NULL), 2);
	cr_assert_eq(count_of("--client", "192.0.2.0/24", "--host", "mx2"), 1);
}

/* ---- output formats ----------------------------------------------------------- */

/* Runs pfi search with args; returns stdout, checks exit 0 and silence. */
static char *search_out(const char *a1, const char *a2, const char *a3,
                        const char *a4)
{
	const char *argv[] = { "--db", db, "--utc", "search", a1, a2, a3, a4, NULL };
	char *out, *err;
	int rc = run_pfi(argv, NULL, &out, &err);

	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_assert_str_empty(err);
	free(err);
	return out;
}

static const char *const row_keys[] = {
	"time", "host", "queue_id", "message_id", "from", "to", "orig_to",
	"domain", "status", "dsn", "relay", "delay", "delays", "attempts",
	"response", "client", "client_ip", "subject", "size", "sasl_username",
	"tls", "verdicts"
};
static const char *const delay_keys[] = {
	"before_qmgr", "in_qmgr", "conn_setup", "transmission"
};

/* A small JSON checker: skips one value at p (fails the test if it is
 * not valid JSON), counting the objects at rowdepth and keeping the keys
 * of the first. */
struct json {
	const char *p;
	int depth;
	int rowdepth;        /* the depth of the row objects */
	int objects;         /* objects seen at depth 2 (rows) */
	char keys[32][24];   /* keys of the first row */
	int nkeys;
};

static void json_value(struct json *j);

static void json_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

static void json_string(struct json *j, char *out, size_t size)
{
	size_t n = 0;

	cr_assert_eq(*j->p, '"', "string expected at: %.30s", j->p);
	for (j->p++; *j->p != '"'; j->p++) {
		cr_assert((unsigned char)*j->p >= 0x20, "raw control character");
		if (*j->p == '\\') {
			j->p++;
			cr_assert_not_null(strchr("\"\\/bfnrtu", *j->p), "bad escape");
		}
		if (out && n + 1 < size)
			out[n++] = *j->p;
	}
	if (out)
		out[n] = '\0';
	j->p++;
}

static void json_object(struct json *j)
{
	char key[24];
	int first = j->depth == j->rowdepth && j->objects++ == 0;

	for (j->p++, json_ws(j); *j->p != '}'; json_ws(j)) {
		json_string(j, key, sizeof(key));
		if (first && j->nkeys < 32)
			memcpy(j->keys[j->nkeys++], key, sizeof(key));
		json_ws(j);
		cr_assert_eq(*j->p++, ':');
		json_value(j);
		json_ws(j);
		if (*j->p == ',')
			j->p++;
		else
			cr_assert_eq(*j->p, '}', "at: %.30s", j->p);
	}
	j->p++;
}

static void json_value(struct json *j)
{
	json_ws(j);
	j->depth++;
	if (*j->p == '{') {
		json_object(j);
	} else if (*j->p == '[') {
		for (j->p++, json_ws(j); *j->p != ']'; json_ws(j)) {
			json_value(j);
			json_ws(j);
			if (*j->p == ',')
				j->p++;
		}
		j->p++;
	} else if (*j->p == '"') {
		json_string(j, NULL, 0);
	} else if (!strncmp(j->p, "null", 4) || !strncmp(j->p, "true", 4)) {
		j->p += 4;
	} else {
		char *end;
		strtod(j->p, &end);
		cr_assert_neq(end, j->p, "value expected at: %.30s", j->p);
		j->p = end;
	}
	j->depth--;
}

Test(cli_search, json_is_one_valid_document_with_the_spec_keys)
{
	char *out;
	struct json j = { 0 };
	size_t i;

	index_sample();
	j.rowdepth = 3;
	out = search_out("--format", "json", NULL, NULL);
	cr_assert(strncmp(out, "{\"deliveries\":", 14) == 0, "%.40s", out);
	j.p = out;
	json_value(&j);
	json_ws(&j);
	cr_assert_eq(*j.p, '\0', "one document: %.30s", j.p);
	cr_assert_eq(j.objects, 105);
	cr_assert_eq(j.nkeys, (int)(sizeof(row_keys) / sizeof(row_keys[0])));
	for (i = 0; i < sizeof(row_keys) / sizeof(row_keys[0]); i++)
		cr_assert_str_eq(j.keys[i], row_keys[i]);
	free(out);
}

Test(cli_search, ndjson_is_one_valid_object_per_row)
{
	char *out, *line, *save = NULL;
	int n = 0;

	index_sample();
	out = search_out("--format", "ndjson", "--status", "sent");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json j = { line, 0, 1, 0, { { 0 } }, 0 };
		cr_assert_eq(line[0], '{');
		json_value(&j);
		cr_assert_eq(*j.p, '\0');
		cr_assert_not_null(strstr(line, "\"status\":\"sent\""), "%s", line);
		n++;
	}
	cr_assert_eq(n, 89);
	free(out);
}

/* Splits one RFC 4180 record at *p into fields (unquoted, in place),
 * noting in quoted[] (unless NULL) which were written in quotes; returns
 * the field count and advances *p past the record. */
static int csv_record(char **p, char **fields, int *quoted, int max)
{
	char *r = *p, *w = *p;
	int n = 0;

	for (;;) {
		cr_assert_lt(n, max);
		if (quoted)
			quoted[n] = *r == '"';
		fields[n++] = w;
		if (*r == '"') {
			for (r++; !(*r == '"' && r[1] != '"'); r++) {
				cr_assert_neq(*r, '\0', "unterminated quoted field");
				if (*r == '"')
					r++;
				*w++ = *r;
			}
			r++;
		} else {
			while (*r != ',' && *r != '\r' && *r != '\n' && *r != '\0')
				*w++ = *r++;
		}
		if (*r != ',')
			break;
		*w++ = '\0';
		r++;
	}
	r += *r == '\r';
	cr_assert(*r == '\n' || *r == '\0', "record ends at %.20s", r);
	*p = r + (*r == '\n');
	*w = '\0';   /* after: w may stand on the newline */
	return n;
}

Test(cli_search, csv_parses_back_with_flattened_delays_and_exact_values)
{
	char *out, *p, *f[40], *hdr[40];
	int nf, i, records = 0, seen = 0;

	index_sample();
	out = search_out("--format", "csv", NULL, NULL);
	p = out;
	nf = csv_record(&p, hdr, NULL, 40);
	cr_assert_eq(nf, 26);
	cr_assert_str_eq(hdr[12], "delays.before_qmgr");
	cr_assert_str_eq(hdr[15], "delays.transmission");
	cr_assert_str_eq(hdr[21], "size");
	cr_assert_str_eq(hdr[22], "sasl_username");
	cr_assert_str_eq(hdr[23], "tls.protocol");
	cr_assert_str_eq(hdr[24], "tls.cipher");
	cr_assert_str_eq(hdr[25], "verdicts");
	while (*p) {
		cr_assert_eq(csv_record(&p, f, NULL, 40), nf);
		records++;
		if (strcmp(f[2], "608EE1161A2") == 0) {
			cr_assert_str_eq(f[20], "Greetings from Lisbon, see you soon");
			cr_assert_str_eq(f[0], "2026-11-02T09:00:01Z");
			cr_assert_str_eq(f[23], "TLSv1.3");
			cr_assert_str_eq(f[24], "TLS_AES_256_GCM_SHA384");
			seen++;
		}
		if (strcmp(f[2], "D220A1161DD") == 0)
			cr_assert_str_eq(f[4], "", "the null sender is empty");
	}
	for (i = 0; i < 4; i++)
		cr_assert(strstr(hdr[12 + i], delay_keys[i]) != NULL);
	cr_assert_eq(records, 105);
	cr_assert_eq(seen, 1);
	free(out);
}

/* The rows of testdata/logs/expected.tsv whose recipient (its third
 * field) is in domain d. */
static int expected_rows_to_domain(const char *d)
{
	char *text = slurp(fixture("logs/expected.tsv"), NULL), *line;
	char *save = NULL, *to, *end;
	size_t dl = strlen(d);
	int n = 0;

	cr_assert_not_null(text);
	strtok_r(text, "\n", &save);   /* the header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		to = strchr(line, '\t');
		to = to ? strchr(to + 1, '\t') : NULL;
		cr_assert_not_null(to, "%s", line);
		end = strchr(++to, '\t');
		cr_assert_not_null(end, "%s", line);
		n += end - to > (ptrdiff_t)dl && end[-(ptrdiff_t)dl - 1] == '@' &&
		     strncasecmp(end - dl, d, dl) == 0;
	}
	free(text);
	return n;
}

Test(cli_search, tsv_has_a_header_and_one_line_per_row)
{
	char *out, *line, *save = NULL;
	int n = 0, tabs, t;
	const char *c;

	index_sample();
	out = search_out("--format", "tsv", "--domain", "example.org");
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		for (t = 0, c = line; *c; c++)
			t += *c == '\t';
		if (n++ == 0)
			tabs = t;
		cr_assert_eq(t, tabs, "%s", line);
	}
	cr_assert_eq(tabs, 25);
	cr_assert_eq(n, expected_rows_to_domain("example.org") + 1);
	free(out);
}

Test(cli_search, the_table_shows_the_null_sender_as_angle_brackets)
{
	char *out;

	index_sample();
	out = search_out("--from", "<>", "--to", "bob@example.com");
	cr_assert(strncmp(out, "time", 4) == 0, "%s", out);
	cr_assert_not_null(strstr(out, " <> "), "%s", out);
	cr_assert_not_null(strstr(out, "D220A1161DD"), "%s", out);
	free(out);
}

Test(cli_search, control_characters_are_escaped_in_the_table)
{
	const char *argv[] = { "--db", db, "search", "--to", "d@x.example", NULL };
	const char *jargv[] = { "--db", db, "search", "--to", "d@x.example",
	                        "--json", NULL };
	char *out;

	index_tiny();
	cr_assert_eq(run_pfi(argv, NULL, &out, NULL), 0);
	cr_assert_null(strchr(out, '\033'), "no raw ESC: %s", out);
	cr_assert_null(strchr(out, '\007'), "no raw BEL: %s", out);
	cr_assert_not_null(strstr(out, "bad \\x1b[2J\\x1b]0;title\\x07 text"), "%s", out);
	free(out);
	cr_assert_eq(run_pfi(jargv, NULL, &out, NULL), 0);
	cr_assert_not_null(strstr(out, "bad \\u001b[2J"), "%s", out);
	free(out);
}

/* ---- formula cells ------------------------------------------------------------- */

/* A message whose Subject header and sender begin with '=' (one line each
 * of smtpd, cleanup, qmgr, local). */
static const char formula_log[] =
	"2026-11-02T09:00:01+00:00 mx1 postfix/smtpd[2101]: 4A1B2C3D4E: "
	"client=mail.sender.example[203.0.113.5]\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/cleanup[1211]: 4A1B2C3D4E: "
	"warning: header Subject: =SUM(1+1)*cmd|' /C calc'!A0 from "
	"mail.sender.example[203.0.113.5]; from=<=2+3@x.example> "
	"to=<alice@example.com> proto=ESMTP helo=<mail.sender.example>\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/cleanup[1211]: 4A1B2C3D4E: "
	"message-id=<eq.1@x.example>\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/qmgr[1102]: 4A1B2C3D4E: "
	"from=<=2+3@x.example>, size=421, nrcpt=1 (queue active)\n"
	"2026-11-02T09:00:02+00:00 mx1 postfix/local[1301]: 4A1B2C3D4E: "
	"to=<alice@example.com>, relay=local, delay=0.2, "
	"delays=0.08/0.12/0/0, dsn=2.0.0, status=sent (delivered to mailbox)\n"
	"2026-11-02T09:00:02+00:00 mx1 postfix/qmgr[1102]: 4A1B2C3D4E: removed\n";

/* The header and the first row of a CSV document, parsed in place. */
struct csv_row {
	char *hdr[40], *cell[40];
	int quoted[40];   /* the cell was written in quotes */
	int n;
};

static void csv_first_row(char *text, struct csv_row *r)
{
	char *p = text;

	r->n = csv_record(&p, r->hdr, NULL, 40);
	cr_assert_eq(csv_record(&p, r->cell, r->quoted, 40), r->n, "no data row");
}

/* The column under header `name`. */
static int csv_col(const struct csv_row *r, const char *name)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->hdr[i], name) == 0)
			return i;
	cr_assert_fail("no column '%s'", name);
	return -1;
}

Test(cli_search, csv_quotes_a_subject_and_sender_that_begin_with_equals)
{
	char *out;
	struct csv_row r;
	int subject, from, delay;

	index_text("eq.log", formula_log);
	out = search_out("--format", "csv", NULL, NULL);
	cr_assert_null(strstr(out, ",="), "a cell begins with '=': %s", out);
	csv_first_row(out, &r);
	subject = csv_col(&r, "subject");
	from = csv_col(&r, "from");
	delay = csv_col(&r, "delay");
	cr_assert_str_eq(r.cell[subject], "'=SUM(1+1)*cmd|' /C calc'!A0");
	cr_assert_eq(r.quoted[subject], 1);
	cr_assert_str_eq(r.cell[from], "'=2+3@x.example");
	cr_assert_eq(r.quoted[from], 1);
	cr_assert_str_eq(r.cell[csv_col(&r, "to")], "alice@example.com");
	cr_assert_str_eq(r.cell[delay], "0.2");
	cr_assert_eq(r.quoted[delay], 0);
	free(out);
}

Test(cli_search, csv_raw_writes_those_cells_as_they_are)
{
	char *out;
	struct csv_row r;
	int subject;

	index_text("eq.log", formula_log);
	out = search_out("--csv-raw", "--format", "csv", NULL);
	csv_first_row(out, &r);
	subject = csv_col(&r, "subject");
	cr_assert_str_eq(r.cell[subject], "=SUM(1+1)*cmd|' /C calc'!A0");
	cr_assert_eq(r.quoted[subject], 0);
	cr_assert_str_eq(r.cell[csv_col(&r, "from")], "=2+3@x.example");
	free(out);
}

Test(cli_search, tsv_quotes_them_too_and_json_keeps_the_text)
{
	char *tsv, *raw, *json;

	index_text("eq.log", formula_log);
	tsv = search_out("--format", "tsv", NULL, NULL);
	raw = search_out("--format", "tsv", "--csv-raw", NULL);
	json = search_out("--json", NULL, NULL, NULL);
	cr_assert_not_null(strstr(tsv, "\t'=2+3@x.example\t"), "%s", tsv);
	cr_assert_not_null(strstr(tsv, "\t'=SUM(1+1)*cmd|' /C calc'!A0\t"),
	                   "%s", tsv);
	cr_assert_not_null(strstr(raw, "\t=2+3@x.example\t"), "%s", raw);
	cr_assert_not_null(strstr(json, "\"from\":\"=2+3@x.example\""), "%s", json);
	cr_assert_not_null(strstr(json, "\"subject\":\"=SUM(1+1)*cmd|' /C "
	                                "calc'!A0\""), "%s", json);
	free(tsv);
	free(raw);
	free(json);
}

/* ---- exit codes, --count, --limit --------------------------------------------------- */

/* ---- --columns --------------------------------------------------------------- */

Test(cli_search, rows_carry_the_sasl_login_and_tls_they_filter_by)
{
	char *out;

	index_text("two.log", two_messages_log);
	out = search_out("--columns", "queue_id,sasl_username", "--format", "tsv");
	cr_assert_str_eq(out, "queue_id\tsasl_username\n" QID_B "\tbert\n"
	                 QID_A "\talice\n");
	free(out);
}

Test(cli_search, columns_pick_and_order_the_fields_of_every_format)
{
	char *out;

	index_text("two.log", two_messages_log);
	out = search_out("-o", "status,to", "--format", "csv");
	cr_assert_str_eq(out, "status,to\nbounced,sue@y.example\n"
	                 "sent,rob@x.example\n");
	free(out);
	out = search_out("--columns=to", "--columns=tls,delay", "--format", "ndjson");
	cr_assert_str_eq(out,
		"{\"to\":\"sue@y.example\",\"tls\":{\"protocol\":null,"
		"\"cipher\":null},\"delay\":1.5}\n"
		"{\"to\":\"rob@x.example\",\"tls\":{\"protocol\":null,"
		"\"cipher\":null},\"delay\":0.2}\n");
	free(out);
	/* off a terminal the table has no width: every column asked for */
	out = search_out("-oqueue_id,from,response", "--status", "bounced", NULL);
	cr_assert_str_eq(out, "queue_id    from           response\n"
	                 QID_B "  bea@b.example  host mx.y.example[192.0.2.25] "
	                 "said: 550 5.1.1 <sue@y.example>: unknown user (in reply "
	                 "to RCPT TO command)\n");
	free(out);
}

Test(cli_search, columns_help_lists_what_completion_offers)
{
	const char *help[] = { "search", "--columns", "help", NULL };
	const char *comp[] = { "__complete", "search", "--columns", "", NULL };
	char *out, *err, *words, *w, *save = NULL;
	int n = 0;

	cr_assert_eq(run_pfi(help, NULL, &out, &err), 0, "%s", err);
	cr_assert_str_empty(err);
	free(err);
	cr_assert_eq(run_pfi(comp, NULL, &words, &err), 0, "%s", err);
	for (w = strtok_r(words, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
		char line[64];

		if (strcmp(w, "help") == 0)
			continue;
		snprintf(line, sizeof(line), "\n  %s ", w);
		cr_expect_not_null(strstr(out, line), "'%s' not in:\n%s", w, out);
		n++;
	}
	cr_assert_eq(n, 22, "columns offered: %d", n);
	cr_assert_not_null(strstr(out, "sasl_username"));
	free(out);
	free(err);
	free(words);
}

struct colcase {
	char val[32];
	char says[48];
};

ParameterizedTestParameters(cli_search, bad_columns_are_usage_errors)
{
	static struct colcase cases[] = {
		{ "queue_id,bogus", "unknown column 'bogus'" },
		{ "to,,from", "unknown column ''" },
		{ "to,", "unknown column ''" },
		{ "to,status,to", "column 'to' given twice" },
		{ "delays.in_qmgr", "unknown column 'delays.in_qmgr'" },
	};

	return cr_make_param_array(struct colcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct colcase *c, cli_search, bad_columns_are_usage_errors)
{
	const char *argv[] = { "--db", db, "search", "--columns", c->val, NULL };
	char *out, *err;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 2, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_not_null(strstr(err, c->says), "%s", err);
	free(out);
	free(err);
}

Test(cli_search, count_prints_only_the_number)
{
	char *out;

	index_sample();
	out = search_out("--count", NULL, NULL, NULL);
	cr_assert_str_eq(out, "105\n");
	free(out);
	out = search_out("--count", "--status", "rejected", "--json");
	cr_assert_str_eq(out, "6\n");
	free(out);
	out = search_out("--count", "--limit", "4", NULL);
	cr_assert_str_eq(out, "4\n");
	free(out);
}

Test(cli_search, limit_and_reverse_pick_the_newest_or_the_oldest_rows)
{
	char *out;

	index_sample();
	out = search_out("--limit", "1", "--format", "tsv");
	cr_assert_not_null(strstr(out, "\n2026-11-02T10:10:24Z\tmx2\tBA3622A0F53"), "%s", out);
	free(out);
	out = search_out("--limit", "1", "--reverse", "--format=tsv");
	cr_assert_not_null(strstr(out, "\n2026-11-02T09:00:01Z\tmx1\t608EE1161A2"), "%s", out);
	cr_assert_eq(strchr(strchr(out, '\n') + 1, '\n')[1], '\0', "one row: %s", out);
	free(out);
}

Test(cli_search, no_match_exits_one_and_says_what_the_index_covers)
{
	const char *argv[] = { "--db", db, "search", "--to", "nobody@nowhere.example",
	                       "--format", "csv", NULL };
	char *out, *err;

	index_sample();
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 1);
	cr_assert_str_empty(out);
	cr_assert_str_eq(err, "pfi: no match; the index covers "
	                 "2026-11-02T09:00:01+00:00 to 2026-11-02T10:10:24+00:00 "
	                 "(hosts mx1, mx2; 72 messages, 6 rejects)\n");
	free(out);
	free(err);
}

/* The one line pfi search ARGS writes on stderr, exit 1 asserted. */
static char *no_match_line(const char *a1, const char *a2, const char *a3)
{
	const char *argv[] = { "--db", db, "--utc", "search", a1, a2, a3, NULL };
	char *out, *err;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 1, "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
	free(out);
	return err;
}

Test(cli_search, no_match_says_when_the_window_lies_outside_the_index)
{
	char *err;

	index_sample();
	err = no_match_line("--since", "2026-11-02T11:00Z", "--count");
	cr_assert_str_eq(err, "pfi: no match: --since 2026-11-02T11:00:00Z is "
	                 "after all of it; the index covers 2026-11-02T09:00:01Z "
	                 "to 2026-11-02T10:10:24Z (hosts mx1, mx2; 72 messages, 6 rejects)\n");
	free(err);
	err = no_match_line("--until", "2026-11-02", NULL);
	cr_assert_not_null(strstr(err, "pfi: no match: --until "
	                          "2026-11-02T00:00:00Z is before all of it; the "
	                          "index covers 2026-11-02T09:00:01Z"), "%s", err);
	free(err);
	/* a window inside the index that matches nothing: no such remark */
	err = no_match_line("--since", "2026-11-02T09:00Z", "--to=no@x.example");
	cr_assert(strncmp(err, "pfi: no match; the index covers", 31) == 0, "%s", err);
	free(err);
}

Test(cli_search, no_match_in_an_empty_index_says_to_index_first)
{
	char *err;

	index_text("empty.log", "");
	err = no_match_line(NULL, NULL, NULL);
	cr_assert_str_eq(err, "pfi: no match: the index holds no mail yet; "
	                 "run 'pfi index'\n");
	free(err);
}

struct ucase {
	char opt[16];
	char val[32];
	char says[32];   /* in the one-line message */
};

ParameterizedTestParameters(cli_search, usage_errors_exit_two_with_one_line_and_a_hint)
{
	static struct ucase cases[] = {
		{ "--status", "sent,bogus", "unknown status 'bogus'" },
		{ "--dsn", "5", "invalid DSN pattern '5'" },
		{ "--client", "10.1.2.3/40", "'10.1.2.3/40'" },
		{ "--client", "2001:db8::/200", "'2001:db8::/200'" },
		{ "--grep", "(", "invalid regex '('" },
		{ "--since", "last tuesday", "'last tuesday' for --since" },
		{ "--until", "2026-13-01", "'2026-13-01' for --until" },
		{ "--limit", "0", "invalid limit '0'" },
		{ "--limit", "ten", "invalid limit 'ten'" },
		{ "--bogus", "x", "unknown option '--bogus'" },
		{ "--to", "", "" },
	};

	return cr_make_param_array(struct ucase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ucase *c, cli_search, usage_errors_exit_two_with_one_line_and_a_hint)
{
	const char *argv[] = { "--db", db, "search", c->opt, c->val, NULL };
	const char *extra[] = { "--db", db, "search", "stray", NULL };
	const char *says = c->says[0] ? c->says : "unexpected argument 'stray'";
	char *out, *err, *nl;

	index_sample();
	if (!c->says[0]) {   /* the last case: an unexpected argument */
		argv[3] = extra[3];
		argv[4] = NULL;
	}
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 2, "%s", err);
	cr_assert_str_empty(out);
	cr_assert(strncmp(err, "pfi: ", 5) == 0, "%s", err);
	cr_assert_not_null(strstr(err, says), "%s", err);
	nl = strchr(err, '\n');
	cr_assert_not_null(nl);
	cr_assert_str_eq(nl + 1, "Try 'pfi search --help'.\n");
	free(out);
	free(err);
}

Test(cli_search, a_missing_index_exits_three)
{
	const char *argv[] = { "--db", db, "search", NULL };
	char *err;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 3);
	cr_assert_not_null(strstr(err, "pfi index"), "%s", err);
	free(err);
}

Test(cli_search, help_prints_the_usage_on_stdout)
{
	const char *argv[] = { "search", "--help", NULL };
	char *out, *err;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0);
	cr_assert(strncmp(out, "usage: pfi search [--from ADDR]", 31) == 0, "%s", out);
	cr_assert_str_empty(err);
	free(out);
	free(err);
}


