/*
 * test_metrics.c - `pfi metrics` on testdata/logs/sample.log: the values
 * of the exposition against the log's known answers (EXPECTED.md),
 * promtool's verdict on it, --output, and a real Prometheus scraping
 * `pfi metrics --listen` on loopback (tests/metrics-e2e.py), which fails
 * when prometheus or promtool is missing.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"

/* 2026-11-03 00:00:00 UTC: after the last line of the sample log. */
#define SAMPLE_MTIME 1793664000

static void setup(void)
{
	tmpdir_make();
	setenv("TZ", "UTC", 1);
}

static void teardown(void) { tmpdir_cleanup(); }

TestSuite(metrics, .init = setup, .fini = teardown);

static char *sample_db(void)
{
	const char *dir = tmpdir_make();
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	char *db = path_join(dir, "sample.db");
	const char *paths[] = { log };

	pfi_store_close(index_into(db, paths, 1, NULL));
	free(log);
	return db;
}

static char *render(const char *db, size_t top)
{
	struct pfi_metrics_opts o = { .version = PFI_METRICS_OPTIONS_VERSION,
	                              .top = top };
	pfi_store *st = NULL;
	pfi_metrics *m = NULL;
	const char *text;
	char *copy;
	size_t len = 0;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_metrics_new(&m, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	text = pfi_metrics_text(m, &len);
	cr_assert_eq(strlen(text), len);
	copy = strdup(text);
	pfi_metrics_free(m);
	pfi_store_close(st);
	return copy;
}

/* The sum of the samples whose line starts with `prefix`. */
static double sum_of(const char *text, const char *prefix)
{
	const char *p = text;
	double sum = 0;
	size_t n = strlen(prefix);

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, prefix, n) == 0)
			sum += strtod(strrchr(strndupa(p, strcspn(p, "\n")), ' '), NULL);
	return sum;
}

Test(metrics, sample_values_are_the_known_answers)
{
	char *db = sample_db(), *t = render(db, 0);

	cr_expect_eq(sum_of(t, "pfi_messages_received_total{"), 66);
	cr_expect_eq(sum_of(t, "pfi_messages_received_total{host=\"mx1\","
	                       "source=\"pickup\"}"), 1);
	cr_expect_eq(sum_of(t, "pfi_notifications_total{"), 3);
	cr_expect_eq(sum_of(t, "pfi_rejects_total{"), 6);
	cr_expect_eq(sum_of(t, "pfi_recipients_total{host=\"mx1\",status=\"expired\"}"), 2);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{kind=\"foreign\"}"), 9);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{kind=\"verdict\"}"), 11);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{kind=\"unparsed\"}"), 3);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{"), 790);
	cr_expect_eq(sum_of(t, "pfi_last_log_timestamp_seconds{host=\"mx2\"}"),
	             1793614224);
	cr_expect_eq(sum_of(t, "pfi_deferred_messages{host=\"mx2\"}"), 1);
	cr_expect(strstr(t, "# TYPE pfi_delivery_delay_seconds histogram\n"));
	cr_expect(strstr(t, "# TYPE pfi_verdicts_total counter\n"));
	free(t);
	free(db);
}

Test(metrics, top_one_sums_every_other_domain_under_other)
{
	char *db = sample_db(), *t = render(db, 1), *all = render(db, 0);

	cr_expect_eq(sum_of(t, "pfi_domain_recipients_total{"),
	             sum_of(t, "pfi_recipients_total{"));
	cr_expect(strstr(t, "domain=\"other\""));
	cr_expect(strstr(t, "domain=\"example.org\""));   /* the most recipients */
	cr_expect_null(strstr(t, "domain=\"partner.example\""));
	cr_expect(strstr(all, "domain=\"partner.example\""));
	free(t);
	free(all);
	free(db);
}

Test(metrics, promtool_accepts_the_exposition_without_lint)
{
	char *db = sample_db(), *t = render(db, 0);
	char *prom = path_join(tmpdir_make(), "m.prom"), cmd[4096];
	char *out = path_join(tmpdir_make(), "lint.txt");
	FILE *fp = fopen(prom, "w");
	struct stat sb;

	cr_assert_not_null(fp);
	fputs(t, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' > '%s' 2>&1",
	         prom, out);
	cr_assert_eq(system(cmd), 0, "promtool failed or is missing");
	cr_assert_eq(stat(out, &sb), 0);
	cr_expect_eq(sb.st_size, 0, "promtool has lint warnings");
	free(prom);
	free(out);
	free(t);
	free(db);
}

Test(metrics, output_writes_the_file_whole_and_readable)
{
	char *db = sample_db(), *prom = path_join(tmpdir_make(), "pfi.prom");
	char cmd[4096];
	struct stat sb;

	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' metrics --output '%s'",
	         PFI_BIN, db, prom);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(stat(prom, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0644);
	cr_expect_gt(sb.st_size, 1000);
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' metrics --top 0 2>/dev/null",
	         PFI_BIN, db);
	cr_expect_eq(WEXITSTATUS(system(cmd)), 2);
	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' metrics --follow"
	         " 2>/dev/null", PFI_BIN, db);
	cr_expect_eq(WEXITSTATUS(system(cmd)), 2);
	free(prom);
	free(db);
}

Test(metrics, a_real_prometheus_scrapes_the_right_values)
{
	char *db = sample_db(), cmd[4096];

	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' '%s' '%s'", METRICS_E2E,
	         PFI_BIN, db, SRCDIR);
	cr_expect_eq(system(cmd), 0, "metrics-e2e.py failed (see the log)");
	free(db);
}

/* ---- lines counted by what they say (event_counts) ------------------------- */

/* 2026-12-07 00:00:00 UTC: after the last line of testdata/realpostfix. */
#define REALPOSTFIX_MTIME 1796601600

static char *realpostfix_db(const char *rel)
{
	const char *dir = tmpdir_make();
	char *log = copy_fixture(rel, dir, "mail.log", REALPOSTFIX_MTIME);
	char *db = path_join(dir, "real.db");
	const char *paths[] = { log };

	pfi_store_close(index_into(db, paths, 1, NULL));
	free(log);
	return db;
}

Test(metrics, postscreen_smtpd_and_attempt_counts_of_a_real_postfix_run)
{
	/* Counted with grep on testdata/realpostfix/mail.log. */
	static const struct { const char *sample; double n; } want[] = {
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"connect\"}", 8 },
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"pass_new\"}", 1 },
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"pass_old\"}", 1 },
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"pregreet\"}", 2 },
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"allowlisted\"}", 2 },
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"denylisted\"}", 2 },
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"disconnect\"}", 4 },
		{ "pfi_postscreen_actions_total{host=\"mx1\",action=\"reject\"}", 2 },
		{ "pfi_smtpd_connections_total{host=\"mx1\"}", 232 },
		{ "pfi_smtpd_lost_connections_total{host=\"mx1\",stage=\"CONNECT\","
		  "cause=\"lost\"}", 4 },
		{ "pfi_smtpd_lost_connections_total{host=\"mx1\",stage=\"DATA\","
		  "cause=\"lost\"}", 2 },
		{ "pfi_smtpd_lost_connections_total{host=\"mx1\",stage=\"EHLO\","
		  "cause=\"timeout\"}", 2 },
		{ "pfi_delivery_attempts_total{host=\"mx1\",status=\"sent\"}", 209 },
		{ "pfi_delivery_attempts_total{host=\"mx1\",status=\"deferred\"}", 240 },
		{ "pfi_delivery_attempts_total{host=\"mx1\",status=\"bounced\"}", 28 },
		{ "pfi_delivery_attempts_total{host=\"mx1\",status=\"deliverable\"}", 4 },
		{ "pfi_smtpd_lost_connections_total{", 12 },
		{ "pfi_postscreen_actions_total{", 22 },
		{ "pfi_delivery_attempts_total{", 485 },
	};
	char *db = realpostfix_db("realpostfix/mail.log"), *t = render(db, 0);
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_eq(sum_of(t, want[i].sample), want[i].n, "%s: %g, not %g",
		             want[i].sample, sum_of(t, want[i].sample), want[i].n);
	free(t);
	free(db);
}

/* How many lines of the log at `rel` hold both needles, in that order. */
static double lines_with(const char *rel, const char *a, const char *b)
{
	char *text, **lines;
	size_t n = fixture_lines(rel, &text, &lines), i;
	double count = 0;

	for (i = 0; i < n; i++) {
		const char *p = strstr(lines[i], a);
		if (p && (b == NULL || strstr(p + strlen(a), b)))
			count++;
	}
	free(lines);
	free(text);
	return count;
}

Test(metrics, event_counts_equal_the_lines_of_both_log_formats)
{
	static const char *const logs[] = {
		"realpostfix/mail.log", "realpostfix/mail-rfc3339.log"
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		char *db = realpostfix_db(logs[i]), *t = render(db, 0);

		cr_expect_eq(sum_of(t, "pfi_smtpd_connections_total{"),
		             lines_with(logs[i], "/smtpd[", "]: connect from "));
		cr_expect_eq(sum_of(t, "pfi_smtpd_lost_connections_total{"),
		             lines_with(logs[i], "/smtpd[", "]: lost connection after ") +
		             lines_with(logs[i], "/smtpd[", "]: timeout after "));
		cr_expect_eq(sum_of(t, "pfi_postscreen_actions_total{host=\"mx1\","
		                       "action=\"connect\"}"),
		             lines_with(logs[i], "/postscreen[", "]: CONNECT from "));
		cr_expect_eq(sum_of(t, "pfi_delivery_attempts_total{host=\"mx1\","
		                       "status=\"deferred\"}"),
		             lines_with(logs[i], ", status=deferred ", NULL));
		cr_expect_eq(sum_of(t, "pfi_delivery_attempts_total{host=\"mx1\","
		                       "status=\"sent\"}"),
		             lines_with(logs[i], ", status=sent ", NULL));
		free(t);
		free(db);
	}
}

Test(metrics, a_forged_stage_is_other_and_a_forged_status_is_an_unparsed_line)
{
	static const char *const forged[] = {
		"Dec  6 10:00:00 mx9 postfix/smtpd[1]: lost connection after"
		" XYZZY\"} 1 from x[192.0.2.1]",
		"Dec  6 10:00:01 mx9 postfix/smtp[2]: 4jXVQ46kTGz8Z5X: to=<a@b.example>,"
		" relay=b.example[192.0.2.2]:25, delay=1, delays=0/0/0/1,"
		" dsn=2.0.0, status=pwned\"} (250 ok)",
	};
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "forged.log"), *db = path_join(dir, "f.db");
	char *t;

	append_log_lines(log, forged, 0, 2, REALPOSTFIX_MTIME);
	{
		const char *paths[] = { log };
		pfi_store_close(index_into(db, paths, 1, NULL));
	}
	t = render(db, 0);
	cr_expect_eq(sum_of(t, "pfi_smtpd_lost_connections_total{host=\"mx9\","
	                       "stage=\"other\",cause=\"lost\"}"), 1);
	/* No outcome of its own: not a delivery, but a line kept unparsed. */
	cr_expect_eq(sum_of(t, "pfi_delivery_attempts_total{"), 0);
	cr_expect_eq(sum_of(t, "pfi_recipients_total{"), 0);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{kind=\"unparsed\"}"), 1);
	cr_expect_null(strstr(t, "XYZZY"));
	cr_expect_null(strstr(t, "pwned"));
	free(t);
	free(log);
	free(db);
}

Test(metrics, an_index_of_schema_3_gets_its_event_counts_from_the_next_run_on)
{
	char *db = realpostfix_db("realpostfix/mail.log"), *t;
	pfi_store *st = NULL;
	sqlite3 *raw = NULL;

	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "DROP TABLE event_counts;"
	             " PRAGMA user_version = 3", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	/* Read-only, the families are there without samples. */
	t = render(db, 0);
	cr_expect(strstr(t, "# TYPE pfi_smtpd_connections_total counter\n"));
	cr_expect_null(strstr(t, "pfi_smtpd_connections_total{"));
	free(t);
	/* Opened for writing, it gets the table, empty. */
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	cr_expect_eq(db_int(db, "PRAGMA user_version"), 5);
	cr_expect_eq(db_int(db, "SELECT count(*) FROM event_counts"), 0);
	free(db);
}
