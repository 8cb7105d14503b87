/*
 * test_cli_overlap.c - overlapping input is indexed once: two windows of
 * one log given on standard input, in either order, make the index one
 * clean run makes, row for row; a window given again adds nothing; a
 * longer one adds only its new lines; an evidence copy beside the log
 * adds nothing; and lines a log truly holds twice are kept twice.  Part
 * of the CLI suite: runs the built pfi, as users feed it.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const char *dir;

static void setup(void)
{
	dir = tmpdir_make();
	setenv("TZ", "UTC", 1);
	unsetenv("PFI_DB");
}

static void teardown(void)
{
	tmpdir_cleanup();
}

TestSuite(cli_overlap, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(120));

/* Lines [from, to) of lines, joined (malloc'd). */
static char *window(char **lines, size_t from, size_t to)
{
	size_t i, len = 0;
	char *text, *p;

	for (i = from; i < to; i++)
		len += strlen(lines[i]) + 1;
	p = text = malloc(len + 1);
	cr_assert_not_null(text);
	for (i = from; i < to; i++)
		p += sprintf(p, "%s\n", lines[i]);
	*p = '\0';
	return text;
}

/* `pfi --db DB index -` with `text` on standard input; asserts exit 0. */
static void index_stdin(const char *db, const char *text)
{
	const char *argv[] = { "--db", db, "index", "-q", "-", NULL };
	char *out = NULL, *err = NULL, *in = path_join(dir, "stdin");
	FILE *f = fopen(in, "w");
	int rc;

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	rc = run_pfi(argv, in, &out, &err);
	cr_assert_eq(rc, 0, "pfi index -: exit %d, stderr: %s", rc, err);
	free(out);
	free(err);
	free(in);
}

/* What the index says, with nothing that depends on the order rows were
 * written in (ids): the messages, deliveries (rejects too), verdicts, links
 * and raw lines, and what search and stats answer. */
static char *answers(const char *db)
{
	static const char *const sql[] = {
		"SELECT sum(count) FROM chunks",
		"SELECT m.host, m.queue_id, m.open, m.first, m.last, m.received,"
		" m.removed, m.message_id, m.sender, m.size, m.nrcpt, m.client,"
		" m.origin, m.orig_queue_id, m.relation, p.queue_id FROM messages m"
		" LEFT JOIN messages p ON p.id = m.parent ORDER BY 1, 2, 4",
		"SELECT host, queue_id, time, recipient, orig_to, status, dsn, relay,"
		" delay, attempts, final, response, child_qid, stage, code, client,"
		" sender FROM deliveries ORDER BY 1, 2, 3, 4, 6",
		("SELECT v.time, v.host, v.queue_id, v.program, v.kind, v.result,"
		 " v.domain, v.score, v.detail, m.queue_id FROM verdicts v"
		 " LEFT JOIN messages m ON m.id = v.message ORDER BY 1, 2, 3, 4, 5"),
		("SELECT p.queue_id, l.qid, l.kind, l.relation FROM links l"
		 " LEFT JOIN messages p ON p.id = l.parent ORDER BY 1, 2, 3"),
	};
	const char *search[] = { "--db", db, "--utc", "search", "--format",
		"csv", NULL };
	const char *stats[] = { "--db", db, "--utc", "stats", "--format",
		"json", NULL };
	char *all = NULL, *part, *sorted, *err = NULL, *tmp;
	size_t i;

	for (i = 0; i < sizeof(sql) / sizeof(*sql); i++) {
		part = db_rows(db, sql[i]);
		cr_assert(asprintf(&tmp, "%s%s\n", all ? all : "", part) > 0);
		free(all);
		free(part);
		all = tmp;
	}
	cr_assert_eq(run_pfi(search, NULL, &part, &err), 0, "search: %s", err);
	free(err);
	/* rows of one time come in the order they were written */
	sorted = sorted_lines(part);
	cr_assert(asprintf(&tmp, "%s%s", all, sorted) > 0);
	free(all);
	free(part);
	free(sorted);
	all = tmp;
	cr_assert_eq(run_pfi(stats, NULL, &part, &err), 0, "stats: %s", err);
	free(err);
	cr_assert(asprintf(&tmp, "%s%s", all, part) > 0);
	free(all);
	free(part);
	return tmp;
}

/* The lines skipped as already indexed, from pfi info. */
static int64_t duplicates(const char *db)
{
	return db_int(db, "SELECT coalesce(sum(duplicates), 0) FROM line_hosts");
}

static int64_t lines_kept(const char *db)
{
	return db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks");
}

/* Windows [0, 2/3) and [1/3, n) of fixture `rel`, indexed in order
 * `early_first` or the other, against the fixture in one clean run. */
static void two_windows_equal_one_run(const char *rel, int early_first)
{
	char **lines, *text, *whole, *early, *late, *want, *got;
	char *clean = path_join(dir, "clean.db"), *db = path_join(dir, "w.db");
	size_t n = fixture_lines(rel, &text, &lines);
	size_t a = n / 3, b = 2 * n / 3;

	cr_assert_gt(n, 30);
	whole = window(lines, 0, n);
	early = window(lines, 0, b);
	late = window(lines, a, n);
	index_stdin(clean, whole);
	index_stdin(db, early_first ? early : late);
	index_stdin(db, early_first ? late : early);
	want = answers(clean);
	got = answers(db);
	cr_assert_str_eq(got, want, "%s, %s first", rel,
	                 early_first ? "early" : "late");
	cr_expect_eq(lines_kept(db), (int64_t)n);
	cr_expect_eq(duplicates(db), (int64_t)(b - a), "the overlap is skipped");
	free(want);
	free(got);
	free(whole);
	free(early);
	free(late);
	free(lines);
	free(text);
	free(clean);
	free(db);
}

Test(cli_overlap, two_windows_early_first_equal_one_clean_run)
{
	two_windows_equal_one_run("logs/sample.log", 1);
}

Test(cli_overlap, two_windows_late_first_equal_one_clean_run)
{
	two_windows_equal_one_run("logs/sample.log", 0);
}

Test(cli_overlap, real_postfix_windows_early_first_equal_one_clean_run)
{
	two_windows_equal_one_run("realpostfix/mail.log", 1);
}

Test(cli_overlap, real_postfix_windows_late_first_equal_one_clean_run)
{
	two_windows_equal_one_run("realpostfix/mail.log", 0);
}

/* Standard input that starts as a window indexed before is that input
 * read on (its first bytes tell), as a file is; one that starts inside
 * it is checked line by line.  Either way nothing is indexed twice. */
Test(cli_overlap, a_window_given_again_adds_nothing_a_longer_one_its_new_lines)
{
	char **lines, *text, *part, *inner, *more, *before, *after;
	char *db = path_join(dir, "i.db");
	size_t n = fixture_lines("logs/sample.log", &text, &lines);

	part = window(lines, 0, n / 2);
	inner = window(lines, n / 4, n / 2);
	more = window(lines, n / 8, n);
	index_stdin(db, part);
	before = answers(db);
	index_stdin(db, part);
	index_stdin(db, inner);
	after = answers(db);
	cr_assert_str_eq(after, before, "a window indexed before changed the"
	                 " index");
	cr_assert_eq(duplicates(db), (int64_t)(n / 2 - n / 4));
	index_stdin(db, more);
	cr_assert_eq(lines_kept(db), (int64_t)n, "the longer window added its"
	             " new lines only");
	cr_assert_eq(duplicates(db), (int64_t)(n / 2 - n / 4 + n / 2 - n / 8));
	free(before);
	free(after);
	free(part);
	free(inner);
	free(more);
	free(lines);
	free(text);
	free(db);
}

/* An export that starts later than the log (so no fingerprint of the
 * log's first bytes tells it is a copy), indexed after the log. */
Test(cli_overlap, an_evidence_copy_beside_the_log_adds_nothing)
{
	char **lines, *text, *part, *err = NULL;
	char *db = path_join(dir, "i.db"), *log, *copy = path_join(dir, "export.txt");
	size_t n = fixture_lines("logs/sample.log", &text, &lines);
	FILE *f;

	log = copy_fixture("logs/sample.log", dir, "mail.log", 0);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "%s", err);
	free(err);
	part = window(lines, n / 4, n);
	cr_assert_not_null(f = fopen(copy, "w"));
	fputs(part, f);
	fclose(f);
	cr_assert_eq(run_pfi_index(db, copy, &err), 0, "%s", err);
	free(err);
	cr_assert_eq(lines_kept(db), (int64_t)n);
	cr_assert_eq(duplicates(db), (int64_t)(n - n / 4));
	free(part);
	free(lines);
	free(text);
	free(db);
	free(log);
	free(copy);
}

/* One smtpd process logs the same words twice in one second (two short
 * sessions of one client): both are lines of the log, and a second
 * input that holds them once holds one of them only. */
Test(cli_overlap, lines_a_log_holds_twice_are_kept_twice)
{
	static const char twice[] =
		"Nov  2 09:00:01 mx1 postfix/smtpd[2101]: connect from"
		" unknown[198.51.100.7]\n"
		"Nov  2 09:00:01 mx1 postfix/smtpd[2101]: disconnect from"
		" unknown[198.51.100.7] ehlo=1 quit=1 commands=2\n"
		"Nov  2 09:00:01 mx1 postfix/smtpd[2101]: connect from"
		" unknown[198.51.100.7]\n"
		"Nov  2 09:00:01 mx1 postfix/smtpd[2101]: disconnect from"
		" unknown[198.51.100.7] ehlo=1 quit=1 commands=2\n";
	static const char once[] =
		"Nov  2 09:00:01 mx1 postfix/smtpd[2101]: connect from"
		" unknown[198.51.100.7]\n"
		"Nov  2 09:00:01 mx1 postfix/smtpd[2101]: disconnect from"
		" unknown[198.51.100.7] ehlo=1 quit=1 commands=2\n"
		"Nov  2 09:00:02 mx1 postfix/smtpd[2101]: connect from"
		" unknown[198.51.100.8]\n";
	char *db = path_join(dir, "i.db");

	index_stdin(db, twice);
	cr_assert_eq(lines_kept(db), 4);
	index_stdin(db, once);
	cr_assert_eq(lines_kept(db), 5, "only the 09:00:02 line is new");
	cr_assert_eq(duplicates(db), 2);
	free(db);
}
