/*
 * test_cli_stamps.c - `pfi index --year` and `--log-tz` on evidence whose
 * mtime and host zone no longer tell, and what `pfi info` says of how each
 * file's stamps were read.  Part of the CLI suite: runs the built pfi.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static const char *dir;
static char *db, *log_path;

/* Two Postfix lines either side of a new year, in classic stamps. */
static const char *const year_end[] = {
	"Dec 31 23:59:58 mx1 postfix/pickup[11]: 3F2A01C0001: uid=0 from=<root>",
	"Jan  1 00:00:05 mx1 postfix/cleanup[12]: 3F2A01C0001:"
	" message-id=<ny@mx1.example>",
};

static void setup(void)
{
	dir = tmpdir_make();
	db = path_join(dir, "index.db");
	log_path = path_join(dir, "evidence.log");
	append_log_lines(log_path, year_end, 0, 2, 1796601600);  /* 2026-12-07 */
	setenv("TZ", "UTC", 1);
	unsetenv("PFI_DB");
}

static void teardown(void)
{
	free(db);
	free(log_path);
	tmpdir_cleanup();
}

TestSuite(cli_stamps, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* Runs pfi with argv (NULL-terminated after "--db DB"); its stdout. */
static char *run_ok(int want_rc, const char *const *args)
{
	const char *argv[16] = { "--db", db };
	char *out = NULL, *err = NULL;
	int i, rc;

	for (i = 0; args[i] != NULL && i < 13; i++)
		argv[2 + i] = args[i];
	argv[2 + i] = NULL;
	rc = run_pfi(argv, NULL, &out, &err);
	cr_assert_eq(rc, want_rc, "pfi %s: exit %d, stderr: %s", args[0], rc, err);
	free(err);
	return out;
}

static void expect_in(const char *out, const char *want)
{
	cr_expect_not_null(strstr(out, want), "no '%s' in:\n%s", want, out);
}

Test(cli_stamps, year_and_zone_given_read_the_evidence_and_info_says_so)
{
	const char *index[] = { "index", "-q", "--year", "2024", "--log-tz",
		"Europe/Berlin", log_path, NULL };
	const char *info[] = { "--utc", "info", "--format", "json", NULL };
	char *out;

	free(run_ok(0, index));
	out = run_ok(0, info);
	/* 23:59:58 in Berlin (+01:00) on 2024-12-31; the next line stepped
	 * into 2025 */
	expect_in(out, "\"first\":\"2024-12-31T22:59:58Z\"");
	expect_in(out, "\"last\":\"2024-12-31T23:00:05Z\"");
	expect_in(out, "\"year\":2024,\"year_from\":\"--year\","
	          "\"zone\":\"Europe/Berlin (--log-tz)\"");
	free(out);
}

Test(cli_stamps, an_offset_zone_and_the_mtime_year_by_default)
{
	const char *index[] = { "index", "-q", "--log-tz", "+02:00", log_path,
		NULL };
	const char *info[] = { "--utc", "info", "--format", "json", NULL };
	char *out;

	append_log_lines(log_path, year_end, 0, 0, 1767268800);  /* 2026-01-01T12Z */
	free(run_ok(0, index));
	out = run_ok(0, info);
	/* Dec 31 is after the mtime, so 2025's */
	expect_in(out, "\"first\":\"2025-12-31T21:59:58Z\"");
	expect_in(out, "\"year\":2025,\"year_from\":\"the file's mtime\"");
	expect_in(out, "\"zone\":\"+02:00 (--log-tz)\"");
	free(out);
}

Test(cli_stamps, a_file_read_on_keeps_the_year_its_first_run_was_given)
{
	const char *first[] = { "index", "-q", "--year", "2024", log_path, NULL };
	const char *again[] = { "index", "-q", log_path, NULL };
	const char *search[] = { "--utc", "search", "--format", "csv", NULL };
	static const char *const more[] = {
		"Jan  1 00:00:09 mx1 postfix/qmgr[13]: 3F2A01C0001: from=<root>,"
		" size=300, nrcpt=1 (queue active)",
		"Jan  1 00:00:10 mx1 postfix/local[14]: 3F2A01C0001:"
		" to=<root@mx1.example>, relay=local, delay=12, delays=0/0/0/0,"
		" dsn=2.0.0, status=sent (delivered to mailbox)",
	};
	char *out;

	free(run_ok(0, first));
	append_log_lines(log_path, more, 0, 2, 1796601600);
	free(run_ok(0, again));
	out = run_ok(0, search);
	expect_in(out, "2025-01-01T00:00:10Z");
	free(out);
}

Test(cli_stamps, a_year_or_zone_that_is_not_one_is_a_usage_error)
{
	const char *bad[][6] = {
		{ "index", "--year", "99", NULL },
		{ "index", "--year", "2024x", NULL },
		{ "index", "--log-tz", "Mars/Olympus_Mons", NULL },
		{ "index", "--log-tz", "+25:00", NULL },
		{ "index", "--log-tz", "../../etc/passwd", NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[8] = { "--db", db };
		char *out = NULL, *err = NULL;
		int j;

		for (j = 0; bad[i][j] != NULL; j++)
			argv[2 + j] = bad[i][j];
		argv[2 + j] = log_path;
		cr_expect_eq(run_pfi(argv, NULL, &out, &err), 2, "%s %s", bad[i][1],
		             bad[i][2]);
		cr_expect_not_null(strstr(err, bad[i][2]), "%s", err);
		free(out);
		free(err);
	}
}
