/*
 * test_cli_stats.c - pfi stats as users and scripts meet it: --compare
 * (the compared period, the change, its table and its usage errors),
 * exit codes, the charts' ASCII fallback, the table's labels, rates and
 * --top, CSV and TSV with fixed columns, a period with nothing in it, and
 * an index that is damaged or being written.  Like the rest
 * of the CLI suite (test_cli.c) it runs the built pfi only, indexes
 * included; the figures themselves are test_stats.c's, through the
 * library.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <inttypes.h>
#include <sqlite3.h>
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

TestSuite(cli_stats, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

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
		/* the last hour and day hold nothing of the sample's: still 0 */
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
	cr_assert_not_null(strstr(out, "since,until,key,received,notifications,"
	                          "recipients,"), "%s", out);
	cr_assert_not_null(strstr(out, "\n,,mx1,"), "%s", out);
	cr_assert_not_null(strstr(out, "\n,,mx2,"), "%s", out);
	/* a column per verdict: the sample's opendkim and amavis lines are
	 * all mx1's (grep the log: 6 signed, 4 verified, 1 passed) */
	cr_assert_not_null(strstr(out, ",bytes_received,verdicts.dkim.signed."
	                          "messages,verdicts.dkim.pass.messages,"), "%s", out);
	cr_assert_not_null(strstr(out, ",verdicts.virus.infected.messages\n"),
	                   "%s", out);
	free(out);
	free(err);
	free(db);
}


/* ---- the table: labels, rates, --top --------------------------------------- */

/* The standard output of pfi --db db --utc ARGS... (exit `status`). */
static char *stats_out(const char *db, int status, const char *const *args)
{
	const char *argv[20] = { "--db", db, "--utc", "--no-pager", "stats" };
	char *out = NULL, *err = NULL;
	int n = 5;

	for (int i = 0; args[i] != NULL && n < 19; i++)
		argv[n++] = args[i];
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), status, "stderr: %s", err);
	free(err);
	return out;
}

Test(cli_stats, the_summary_labels_line_up)
{
	char *db = cli_db(), *out, *line, *save = NULL;
	const char *none[] = { NULL };
	int labels = 0;

	setenv("LC_ALL", "C", 1);
	out = stats_out(db, 0, none);
	/* each "label: value" line: the value starts in column 15 */
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (line[0] == ' ' || colon == NULL || colon - line > 13 ||
		    colon[1] == '\0')
			continue;
		labels++;
		cr_expect(strlen(line) > 14 && line[13] == ' ' && line[14] != ' ',
		          "not aligned: '%s'", line);
	}
	cr_assert_geq(labels, 12, "%d labels", labels);
	unsetenv("LC_ALL");
	free(out);
	free(db);
}

Test(cli_stats, rates_are_percent_in_tables_and_fractions_in_json)
{
	char *db = cli_db(), *out;
	const char *none[] = { NULL }, *json[] = { "--json", NULL };
	const char *by[] = { "--by", "domain", NULL };
	const char *by_json[] = { "--by", "domain", "--format", "ndjson", NULL };

	/* 2 bounced of 98 - 6 rejected; 6 deferred once */
	out = stats_out(db, 0, none);
	cr_assert_not_null(strstr(out, "\nrates:        bounce 2.2%, deferred at "
	                          "least once 6.5%\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\nsla:          97.6% delivered"), "%s", out);
	cr_assert_not_null(strstr(out, " (46.2%)  example.com\n"), "%s", out);
	free(out);
	out = stats_out(db, 0, json);
	cr_assert_not_null(strstr(out, "\"bounce_rate\":0.022,\"defer_rate\":0.065,"),
	                   "%s", out);
	free(out);
	/* partner.example: 2 bounced of 21 - 1 rejected */
	out = stats_out(db, 0, by);
	cr_assert_not_null(strstr(out, "bounce%"), "%s", out);
	cr_assert_null(strstr(out, "bounce_rate"), "%s", out);
	cr_assert_null(strstr(out, "0.1 "), "%s", out);
	free(out);
	out = stats_out(db, 0, by_json);
	cr_assert_not_null(strstr(out, "\"key\":\"partner.example\",\"received\":"
	                          "null,\"notifications\":null,\"recipients\":21,"
	                          "\"delivered\":18,\"deferred\":0,\"bounced\":2,"),
	                   "%s", out);
	cr_assert_not_null(strstr(out, "\"bounce_rate\":0.1,\"defer_rate\":0.05,"),
	                   "%s", out);
	free(out);
	free(db);
}

Test(cli_stats, the_by_table_shows_rates_in_percent)
{
	char *db = cli_db(), *out, *row;
	const char *by[] = { "--by", "domain", NULL };

	out = stats_out(db, 0, by);
	row = strstr(out, "\npartner.example ");
	cr_assert_not_null(row, "%s", out);
	/* ... bounce% 10, defer% 5 (2 and 1 of 20) */
	cr_assert_not_null(strstr(row, " 10 "), "%.200s", row);
	cr_assert_not_null(strstr(row, " 5 "), "%.200s", row);
	free(out);
	free(db);
}

Test(cli_stats, compare_shows_rate_changes_in_percentage_points)
{
	char *db = cli_db(), *out;
	const char *args[] = { "--since", "2026-11-02T10:00:00Z", "--until",
		"2026-11-02T11:00:00Z", "--compare", "1h", NULL };
	char want[128];

	out = stats_out(db, 0, args);
	/* 0 of 9 bounced now, 2 of 83 before; 3 of 9 and 3 of 83 deferred */
	snprintf(want, sizeof(want), "\n  %-14s %10s %10s %10s\n", "bounce_rate",
	         "0.0%", "2.4%", "-2.4 pp");
	cr_assert_not_null(strstr(out, want), "want: %s\ngot: %s", want, out);
	snprintf(want, sizeof(want), "\n  %-14s %10s %10s %10s\n", "defer_rate",
	         "33.3%", "3.6%", "+29.7 pp");
	cr_assert_not_null(strstr(out, want), "want: %s\ngot: %s", want, out);
	free(out);
	free(db);
}

/* The entries of the table section that starts with `label` (lines
 * indented under it, or the items of its line). */
static int section_entries(const char *out, const char *label)
{
	const char *p = strstr(out, label);
	int n = 0;

	cr_assert_not_null(p, "no %s in\n%s", label, out);
	p += 1 + strcspn(p + 1, "\n") + 1;   /* past the label's line */
	while (strncmp(p, "  ", 2) == 0) {
		n++;
		p += strcspn(p, "\n") + 1;
	}
	return n;
}

Test(cli_stats, top_limits_every_list)
{
	char *db = cli_db(), *out;
	const char *args[] = { "--top", "1", NULL };
	const char *json[] = { "--top", "1", "--json", NULL };

	out = stats_out(db, 0, args);
	cr_expect_eq(section_entries(out, "\ntop domains:"), 1, "%s", out);
	cr_expect_eq(section_entries(out, "\nslow domains:"), 1, "%s", out);
	cr_expect_eq(section_entries(out, "\ndeferrals:"), 1, "%s", out);
	/* the biggest reject code, then the rest: 3 unknown users, 3 more */
	cr_expect_eq(section_entries(out, "\nrejects:"), 2, "%s", out);
	cr_expect_not_null(strstr(out, "\n         3  unknown_user         550 "
	                          "5.1.1\n         3  (other)\n"), "%s", out);
	/* 4.4.1 and 5.1.1 have 4 each; 5.1.1 sorts after 4.4.1 */
	cr_expect_not_null(strstr(out, "\ndsn:          4.4.1 4, (other) 8\n"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, "\nsender doms:  partner.example 27\n"),
	                   "%s", out);
	free(out);
	/* every list of the document too; dsn{} and rejects{} stay whole */
	out = stats_out(db, 0, json);
	cr_expect_not_null(strstr(out, "\"top_domains\":[{\"domain\":\"example.org\""
	                          ",\"recipients\":39,\"delivered\":34,\"deferred\":0,"
	                          "\"bounced\":0,\"expired\":0,\"rejected\":4}],"),
	                   "%s", out);
	cr_expect_not_null(strstr(out, "\"dsn\":{\"4.4.1\":4,\"5.1.1\":4,"), "%s", out);
	free(out);
	free(db);
}

/* ---- CSV and TSV: fixed columns ---------------------------------------- */

/* The first line of text (malloc'd). */
static char *header_of(const char *text)
{
	return strndup(text, strcspn(text, "\n"));
}

/* Fields of a CSV line without quotes (the sample's keys have none). */
static int csv_fields(const char *line)
{
	int n = 1;

	for (; *line && *line != '\n'; line++)
		n += *line == ',';
	return n;
}

/* Asserts that every line of csv has as many fields as its header, and
 * that no cell holds JSON. */
static void assert_flat(const char *csv)
{
	int want = csv_fields(csv);

	cr_assert_null(strchr(csv, '['), "%s", csv);
	cr_assert_null(strchr(csv, '{'), "%s", csv);
	cr_assert_null(strchr(csv, '"'), "%s", csv);
	for (const char *p = csv; *p; p += strcspn(p, "\n") + 1)
		cr_assert_eq(csv_fields(p), want, "%.*s", (int)strcspn(p, "\n"), p);
}

Test(cli_stats, csv_and_tsv_columns_do_not_depend_on_the_data)
{
	char *db = cli_db(), *a, *b, *ha, *hb;
	const char *all[] = { "--format", "csv", NULL };
	const char *hour[] = { "--format", "csv", "--since", "2026-11-02T10:00Z",
		"--until", "2026-11-02T10:30Z", NULL };
	const char *none[] = { "--format", "csv", "--since", "2027-01-01", NULL };
	const char *by_dom[] = { "--format", "csv", "--by", "domain", NULL };
	const char *by_status[] = { "--format", "csv", "--by", "status", NULL };
	const char *tsv[] = { "--format", "tsv", NULL };

	/* one summary row, the same columns for the whole log, an hour of it
	 * and a period with nothing in it */
	a = stats_out(db, 0, all);
	ha = header_of(a);
	cr_assert_eq(strncmp(ha, "since,until,received,notifications,recipients,"
	                     "delivered,", 46), 0, "%s", ha);
	cr_assert_not_null(strstr(ha, ",bounce_rate,defer_rate,bytes_received,"
	                          "delay.p50,"), "%s", ha);
	cr_assert_not_null(strstr(ha, ",rejects.unknown_user.count,"), "%s", ha);
	cr_assert_null(strstr(ha, "dsn"), "%s", ha);
	cr_assert_null(strstr(ha, "TLSv1"), "%s", ha);
	assert_flat(a);
	cr_assert_eq(strchr(a, '\n')[1] != '\0' &&
	             strchr(strchr(a, '\n') + 1, '\n')[1] == '\0', 1,
	             "not one row:\n%s", a);
	b = stats_out(db, 0, hour);
	hb = header_of(b);
	cr_assert_str_eq(ha, hb);
	assert_flat(b);
	free(b);
	free(hb);
	b = stats_out(db, 0, none);
	hb = header_of(b);
	cr_assert_str_eq(ha, hb);
	assert_flat(b);
	free(b);
	free(hb);
	free(a);
	/* tsv: the same columns */
	b = stats_out(db, 0, tsv);
	for (char *t = b; *t; t++)
		if (*t == '\t')
			*t = ',';
	hb = header_of(b);
	cr_assert_str_eq(ha, hb);
	free(b);
	free(hb);
	free(ha);
	/* by rows: the same columns whatever the key */
	a = stats_out(db, 0, by_dom);
	b = stats_out(db, 0, by_status);
	ha = header_of(a);
	hb = header_of(b);
	cr_assert_str_eq(ha, hb);
	cr_assert_eq(strncmp(ha, "since,until,key,received,", 25), 0, "%s", ha);
	assert_flat(a);
	assert_flat(b);
	free(a);
	free(b);
	free(ha);
	free(hb);
	free(db);
}

Test(cli_stats, csv_with_compare_has_a_row_per_period)
{
	char *db = cli_db(), *out;
	const char *args[] = { "--format", "csv", "--since", "2026-11-02T10:00Z",
		"--until", "2026-11-02T11:00Z", "--compare", "1h", NULL };

	out = stats_out(db, 0, args);
	assert_flat(out);
	cr_assert_not_null(strstr(out, "\n2026-11-02T10:00:00Z,2026-11-02T11:00:00Z,4,"),
	                   "%s", out);
	cr_assert_not_null(strstr(out, "\n2026-11-02T09:00:00Z,2026-11-02T10:00:00Z,62,"),
	                   "%s", out);
	free(out);
	free(db);
}

/* ---- a period with nothing in it ------------------------------------------ */

Test(cli_stats, a_period_with_no_data_says_so_and_exits_zero)
{
	char *db = cli_db(), *out = NULL, *err = NULL;
	const char *table[] = { "--db", db, "--utc", "stats", "--since",
		"2027-01-01", NULL };
	const char *json[] = { "--db", db, "--utc", "stats", "--since",
		"2027-01-01", "--json", NULL };
	const char *filtered[] = { "--db", db, "--utc", "stats", "--from",
		"nobody@nowhere.example", NULL };

	cr_assert_eq(run_pfi(table, NULL, &out, &err), 0, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_str_eq(err, "pfi: nothing to count: --since 2027-01-01T00:00:00Z "
	                 "is after all of it; the index covers 2026-11-02T09:00:01Z "
	                 "to 2026-11-02T10:10:24Z (hosts mx1, mx2; 72 messages, "
	                 "6 rejects)\n");
	free(out);
	free(err);
	/* scripts still get the document, all zeros, and no word on stderr */
	cr_assert_eq(run_pfi(json, NULL, &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "\"received\":0,\"notifications\":0,"
	                          "\"recipients\":0,"), "%s", out);
	cr_assert_str_empty(err);
	free(out);
	free(err);
	cr_assert_eq(run_pfi(filtered, NULL, &out, &err), 0, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_eq(strncmp(err, "pfi: nothing to count; the index covers ", 40),
	             0, "%s", err);
	free(out);
	free(err);
	free(db);
}

Test(cli_stats, an_empty_index_says_to_run_pfi_index)
{
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "empty.log"), *db = path_join(dir, "e.db");
	char *out = NULL, *err = NULL;
	const char *argv[] = { "--db", db, "stats", NULL };
	FILE *fp = fopen(log, "w");

	cr_assert_not_null(fp);
	fclose(fp);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	free(err);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_str_eq(err, "pfi: nothing to count: the index holds no mail yet;"
	                 " run 'pfi index'\n");
	free(out);
	free(err);
	free(log);
	free(db);
}

/* ---- the index in trouble ------------------------------------------------- */

/* One line on stderr: its text (malloc'd), exit 3 and no stdout asserted. */
static char *one_error_line(const char *const *argv)
{
	char *out = NULL, *err = NULL;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 3, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
	free(out);
	return err;
}

Test(cli_stats, a_damaged_index_is_named_with_what_to_do)
{
	char *db = cli_db(), *err, *page;
	const char *argv[] = { "--db", db, "stats", NULL };
	int64_t root = db_int(db, "SELECT rootpage FROM sqlite_schema WHERE "
	                      "name = 'deliveries'");
	int64_t size = db_int(db, "PRAGMA page_size");
	FILE *fp = fopen(db, "r+b");

	/* the rows' table breaks; opening the index still works */
	cr_assert_gt(root, 1);
	cr_assert_not_null(fp);
	page = malloc((size_t)size);
	memset(page, 0xff, (size_t)size);
	cr_assert_eq(fseek(fp, (long)((root - 1) * size), SEEK_SET), 0);
	cr_assert_eq(fwrite(page, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	err = one_error_line(argv);
	cr_assert_eq(strncmp(err, "pfi: cannot compute stats: index '", 34), 0,
	             "%s", err);
	cr_assert_not_null(strstr(err, "sample.db' is damaged ("), "%s", err);
	cr_assert_not_null(strstr(err, "); move it aside and run 'pfi index' to "
	                          "build it again from the logs\n"), "%s", err);
	free(err);
	/* search and trace meet the damage the same way */
	argv[2] = "search";
	err = one_error_line(argv);
	cr_assert_eq(strncmp(err, "pfi: cannot search the index: index '", 37), 0,
	             "%s", err);
	cr_assert_not_null(strstr(err, "' is damaged ("), "%s", err);
	free(err);
	{
		const char *trace[] = { "--db", db, "trace", "97A971161AF", NULL };

		err = one_error_line(trace);
		cr_assert_eq(strncmp(err, "pfi: cannot trace '97A971161AF': index '",
		                     40), 0, "%s", err);
		cr_assert_not_null(strstr(err, "' is damaged ("), "%s", err);
		free(err);
	}
	free(page);
	free(db);
}

Test(cli_stats, an_index_another_pfi_writes_says_to_wait)
{
	char *db = cli_db(), *err;
	const char *dir = tmpdir_make();
	char *log = copy_fixture("logs/sample-rfc3339.log", dir, "b.log",
	                         SAMPLE_MTIME);
	const char *index[] = { "--db", db, "index", log, NULL };
	const char *stats[] = { "--db", db, "stats", NULL };
	sqlite3 *h = NULL;
	char *out = NULL;

	/* another writer's transaction (as a pfi index run holds) */
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	             SQLITE_OK, "%s", sqlite3_errmsg(h));
	err = one_error_line(index);
	cr_assert_not_null(strstr(err, "sample.db' is being written by another "),
	                   "%s", err);
	cr_assert_not_null(strstr(err, "; run 'pfi index' again when that ends\n"),
	                   "%s", err);
	free(err);
	/* readers of a WAL index go on meanwhile */
	cr_assert_eq(run_pfi(stats, NULL, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
	/* without the WAL (a first run's way), readers wait too */
	cr_assert_eq(sqlite3_exec(h, "PRAGMA journal_mode = DELETE; BEGIN "
	                          "EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK, "%s",
	             sqlite3_errmsg(h));
	err = one_error_line(stats);
	cr_assert_not_null(strstr(err, "sample.db' is being written by"), "%s", err);
	cr_assert_not_null(strstr(err, "when that run ends\n"), "%s", err);
	free(err);
	err = one_error_line(index);
	cr_assert_not_null(strstr(err, "sample.db' is being written by"), "%s", err);
	free(err);
	sqlite3_close(h);
	free(log);
	free(db);
}
