/*
 * test_cli_stats.c - pfi stats as users and scripts meet it: --compare
 * (the compared period, the change, its table and its usage errors),
 * exit codes, the charts' ASCII fallback and CSV by group.  Like the rest
 * of the CLI suite (test_cli.c) it runs the built pfi only, indexes
 * included; the figures themselves are test_stats.c's, through the
 * library.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* 2026-11-03 00:00:00 UTC: after the last line of the sample log. */
#define SAMPLE_MTIME 1793664000

static void setup(void)
{
	tmpdir_make();
	setenv("TZ", "UTC", 1);
	unsetenv("PFI_DB");
}

static void teardown(void) { tmpdir_cleanup(); }

TestSuite(cli_stats, .init = setup, .fini = teardown, .timeout = 60);

/* The sample log indexed by pfi; returns the index's path. */
static char *cli_db(void)
{
	const char *dir = tmpdir_make();
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	char *db = path_join(dir, "sample.db"), *err = NULL;

	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	free(err);
	free(log);
	return db;
}

struct exit_case {
	char args[4][48];
	int status;
};

ParameterizedTestParameters(cli_stats, usage_errors_exit_with_two)
{
	static struct exit_case cases[] = {
		{ { "--by", "week" }, 2 },
		{ { "--compare" }, 2 },
		{ { "--since", "1d", "--compare" }, 2 },
		{ { "--compare", "0" }, 2 },
		{ { "--compare", "-1h" }, 2 },
		{ { "--compare", "2x" }, 2 },
		{ { "--compare", "1h" }, 0 },
		{ { "--since", "1d", "--compare", "1d" }, 0 },
		{ { "--sla", "5x" }, 2 },
		{ { "--sla", "1.51e308m" }, 2 },   /* overflows to infinity */
		{ { "--top", "0" }, 2 },
		{ { "--since", "yesterdayish" }, 2 },
		{ { "--dsn", "x.y" }, 2 },
		{ { "extra" }, 2 },
		{ { "--by", "status" }, 0 },
	};
	return cr_make_param_array(struct exit_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct exit_case *c, cli_stats, usage_errors_exit_with_two)
{
	char *db = cli_db(), *out = NULL, *err = NULL;
	const char *argv[10] = { "--db", db, "stats" };
	int i, n = 3;

	for (i = 0; i < 4 && c->args[i][0]; i++)
		argv[n++] = c->args[i];
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), c->status, "stderr: %s", err);
	if (c->status == 2)
		cr_assert_not_null(strstr(err, "pfi: "), "stderr: %s", err);
	free(out);
	free(err);
	free(db);
}

Test(cli_stats, a_missing_index_exits_with_three)
{
	const char *argv[] = { "--db", "/nonexistent/pfi/none.db", "stats", NULL };
	char *err = NULL;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 3);
	free(err);
}

/* Runs pfi --db db --json --utc stats ARGS... and returns its output;
 * fails the test unless it exits 0. */
static char *compare_json(const char *db, const char *const *args)
{
	const char *argv[16] = { "--db", db, "--json", "--utc", "stats" };
	char *out = NULL, *err = NULL;
	int i, n = 5;

	for (i = 0; args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "stderr: %s", err);
	free(err);
	return out;
}

/* "KEY":{"since":S,"until":U,"received":N,...,"rejected":N}, or, with key
 * NULL, the same fields at the start of the document. */
static void assert_period(const char *out, const char *key, const char *since,
                          const char *until, const int64_t c[8])
{
	char want[512];

	snprintf(want, sizeof(want), "%s%s%s\"since\":\"%s\",\"until\":\"%s\","
	         "\"received\":%" PRId64 ",\"notifications\":%" PRId64
	         ",\"recipients\":%" PRId64 ",\"delivered\":%" PRId64
	         ",\"deferred\":%" PRId64 ",\"bounced\":%" PRId64
	         ",\"expired\":%" PRId64 ",\"rejected\":%" PRId64 ",",
	         key ? "\"" : "{", key ? key : "", key ? "\":{" : "", since,
	         until, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]);
	if (key == NULL)
		cr_assert_eq(strncmp(out, want, strlen(want)), 0,
		             "want: %s\ngot: %s", want, out);
	else
		cr_assert_not_null(strstr(out, want), "want: %s\ngot: %s", want, out);
}

/* "change":{"received":N,...,"rejected":N, = now - before, field by field. */
static void assert_change(const char *out, const int64_t now[8],
                          const int64_t before[8])
{
	char want[512];
	int64_t d[8];
	int i;

	for (i = 0; i < 8; i++)
		d[i] = now[i] - before[i];
	snprintf(want, sizeof(want), "\"change\":{\"received\":%" PRId64
	         ",\"notifications\":%" PRId64 ",\"recipients\":%" PRId64
	         ",\"delivered\":%" PRId64 ",\"deferred\":%" PRId64
	         ",\"bounced\":%" PRId64 ",\"expired\":%" PRId64
	         ",\"rejected\":%" PRId64 ",", d[0], d[1], d[2], d[3], d[4],
	         d[5], d[6], d[7]);
	cr_assert_not_null(strstr(out, want), "want: %s\ngot: %s", want, out);
}

/* The sample's figures by half hour are sample_h0900, sample_h0930 and
 * sample_h1000 (helpers.h), which test_stats.c checks through the library
 * against the expected files; nothing happens on the day after. */
static const int64_t empty[8] = { 0 };

Test(cli_stats, compare_gives_the_previous_period_and_the_change)
{
	char *db = cli_db();
	const char *args[] = { "--since", "2026-11-02T10:00:00Z", "--until",
		"2026-11-02T11:00:00Z", "--compare", "1h", NULL };
	char *out = compare_json(db, args);
	int64_t before = sample_h0900[0] + sample_h0930[0], now = sample_h1000[0];
	char want[128];

	snprintf(want, sizeof(want), "\"previous\":{\"since\":\"2026-11-02T09:00:00Z\","
	         "\"until\":\"2026-11-02T10:00:00Z\",\"received\":%" PRId64,
	         before);
	cr_assert_not_null(strstr(out, want), "%s", out);
	snprintf(want, sizeof(want), "\"change\":{\"received\":%" PRId64,
	         now - before);
	cr_assert_not_null(strstr(out, want), "%s", out);
	free(out);
	free(db);
}

Test(cli_stats, compare_figures_of_both_periods_are_exact)
{
	char *db = cli_db(), *out;
	const char *args[] = { "--since", "2026-11-02T10:00:00Z", "--until",
		"2026-11-02T11:00:00Z", "--compare", "1h", NULL };
	int64_t h09[8];
	int i;

	for (i = 0; i < 8; i++)
		h09[i] = sample_h0900[i] + sample_h0930[i];
	out = compare_json(db, args);
	assert_period(out, NULL, "2026-11-02T10:00:00Z", "2026-11-02T11:00:00Z",
	              sample_h1000);
	assert_period(out, "previous", "2026-11-02T09:00:00Z",
	              "2026-11-02T10:00:00Z", h09);
	assert_change(out, sample_h1000, h09);
	/* 0 of 9 bounced now, 2 of 89 - 6 rejected before. */
	cr_assert_not_null(strstr(out, ",\"bounce_rate\":-0.024,"), "%s", out);
	free(out);
	free(db);
}

Test(cli_stats, compare_without_since_is_the_last_period_against_the_one_before)
{
	char *db = cli_db(), *out;
	/* No --since: the period is the half hour before --until, compared
	 * with the half hour before that; --until keeps the test off the
	 * clock. */
	const char *args[] = { "--until", "2026-11-02T10:00:00Z", "--compare",
		"30m", NULL };

	out = compare_json(db, args);
	assert_period(out, NULL, "2026-11-02T09:30:00Z", "2026-11-02T10:00:00Z",
	              sample_h0930);
	assert_period(out, "previous", "2026-11-02T09:00:00Z",
	              "2026-11-02T09:30:00Z", sample_h0900);
	assert_change(out, sample_h0930, sample_h0900);
	free(out);
	free(db);
}

Test(cli_stats, compare_with_since_shifts_the_same_period_back)
{
	char *db = cli_db(), *out = NULL, *err = NULL;
	/* Half an hour compared with the same half hour one hour earlier,
	 * not with the half hour just before it (09:30, sample_h0930). */
	const char *args[] = { "--since", "2026-11-02T10:00:00Z", "--until",
		"2026-11-02T10:30:00Z", "--compare", "1h", NULL };
	const char *table[] = { "--db", db, "--utc", "stats", "--since",
		"2026-11-02T10:00:00Z", "--until", "2026-11-02T10:30:00Z",
		"--compare", "1h", NULL };
	char want[128];

	out = compare_json(db, args);
	assert_period(out, NULL, "2026-11-02T10:00:00Z", "2026-11-02T10:30:00Z",
	              sample_h1000);
	assert_period(out, "previous", "2026-11-02T09:00:00Z",
	              "2026-11-02T09:30:00Z", sample_h0900);
	assert_change(out, sample_h1000, sample_h0900);
	free(out);
	/* The table names the compared period and lines up the figures. */
	cr_assert_eq(run_pfi(table, NULL, &out, &err), 0, "stderr: %s", err);
	cr_assert_not_null(strstr(out, "\ncompared with 2026-11-02T09:00:00Z .. "
	                          "2026-11-02T09:30:00Z:\n"), "%s", out);
	snprintf(want, sizeof(want), "\n  %-14s %10d %10d %+10d\n", "received",
	         4, 47, -43);
	cr_assert_not_null(strstr(out, want), "want: %s\ngot: %s", want, out);
	free(out);
	free(err);
	free(db);
}

Test(cli_stats, compare_1d_puts_the_day_next_to_the_day_before)
{
	char *db = cli_db(), *out;
	/* The day after the log against the log's whole day. */
	const char *args[] = { "--since", "2026-11-03T00:00:00Z", "--until",
		"2026-11-04T00:00:00Z", "--compare", "1d", NULL };
	int64_t day[8];
	int i;

	/* The half hours are the whole day's figures. */
	for (i = 0; i < 8; i++)
		day[i] = sample_h0900[i] + sample_h0930[i] + sample_h1000[i];
	out = compare_json(db, args);
	assert_period(out, NULL, "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z",
	              empty);
	assert_period(out, "previous", "2026-11-02T00:00:00Z",
	              "2026-11-03T00:00:00Z", day);
	assert_change(out, empty, day);
	free(out);
	free(db);
}

struct compare_error {
	int argc;
	char args[6][32];
	char message[64];   /* in the error message */
};

ParameterizedTestParameters(cli_stats, compare_usage_errors_say_what_is_wrong)
{
	static struct compare_error cases[] = {
		{ 1, { "--compare" }, "option '--compare' needs a value" },
		{ 2, { "--compare", "0" }, "invalid --compare '0'" },
		{ 2, { "--compare", "0s" }, "invalid --compare '0s'" },
		{ 2, { "--compare", "-2h" }, "invalid --compare '-2h'" },
		{ 2, { "--compare", "1y" }, "invalid --compare '1y'" },
		{ 2, { "--compare", "h" }, "invalid --compare 'h'" },
		{ 2, { "--compare", "" }, "invalid --compare ''" },
		{ 2, { "--compare", "99999999w" }, "invalid --compare '99999999w'" },
		{ 4, { "--until", "@3600", "--compare", "1h" }, "before 1970" },
		{ 6, { "--since", "2026-11-02T10:00:00Z", "--until",
		       "2026-11-02T09:00:00Z", "--compare", "1h" },
		  "--until is not after --since" },
	};
	return cr_make_param_array(struct compare_error, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct compare_error *c, cli_stats,
                  compare_usage_errors_say_what_is_wrong)
{
	char *db = cli_db(), *out = NULL, *err = NULL;
	const char *argv[10] = { "--db", db, "stats" };
	int i;

	for (i = 0; i < c->argc; i++)
		argv[3 + i] = c->args[i];
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 2, "stderr: %s", err);
	cr_assert_str_eq(out, "");
	cr_assert_eq(strncmp(err, "pfi: ", 5), 0, "%s", err);
	cr_assert_not_null(strstr(err, c->message), "%s", err);
	free(out);
	free(err);
	free(db);
}

static int all_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

Test(cli_stats, charts_fall_back_to_ascii_without_utf8)
{
	char *db = cli_db(), *out = NULL, *err = NULL;
	const char *argv[] = { "--db", db, "--utc", "stats", NULL };

	setenv("LC_ALL", "C", 1);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "stderr: %s", err);
	cr_assert(all_ascii(out), "%s", out);
	cr_assert_not_null(strstr(out, "2026-11-02 ####"), "%s", out);
	cr_assert_not_null(strstr(out, "recipients:   98:"), "%s", out);
	free(out);
	free(err);
	setenv("LC_ALL", "C.UTF-8", 1);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "stderr: %s", err);
	cr_assert_not_null(strstr(out, "2026-11-02 \u2588\u2588"), "%s", out);
	unsetenv("LC_ALL");
	free(out);
	free(err);
	free(db);
}

Test(cli_stats, csv_with_by_prints_one_row_per_group)
{
	char *db = cli_db(), *out = NULL, *err = NULL;
	const char *argv[] = { "--db", db, "--format", "csv", "stats", "--by",
		"host", NULL };

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "stderr: %s", err);
	cr_assert_not_null(strstr(out, "key,received,notifications,recipients,"),
	                   "%s", out);
	cr_assert_not_null(strstr(out, "\nmx1,"), "%s", out);
	cr_assert_not_null(strstr(out, "\nmx2,"), "%s", out);
	/* a fixed verdicts column: the sample's opendkim and amavis lines
	 * are all mx1's (grep the log: 6 signed, 4 verified, 1 passed) */
	cr_assert_not_null(strstr(out, ",bytes_received,verdicts\n"), "%s", out);
	cr_assert_not_null(strstr(out, ",\"\"\n"), "%s", out);
	cr_assert_not_null(strstr(out, ",dkim=signed:6 dkim=pass:4 spam=clean:1"
	                   " virus=clean:1\n"), "%s", out);
	free(out);
	free(err);
	free(db);
}

