/*
 * test_metrics.c - `pfi metrics` on testdata/logs/sample.log: the values
 * of the exposition against the log's known answers (EXPECTED.md),
 * promtool's verdict on it, --output, and a real Prometheus scraping
 * `pfi metrics --listen` on loopback (tests/metrics-e2e.py), which fails
 * when prometheus or promtool is missing.
 */
#include <criterion/criterion.h>
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
	struct pfi_metrics_opts o = { .top = top };
	pfi_store *st = NULL;
	char *text = NULL;
	size_t len = 0;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_metrics_render(&text, &len, st, &o), PFI_OK, "%s",
	             pfi_errmsg(st));
	cr_assert_eq(strlen(text), len);
	pfi_store_close(st);
	return text;
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
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{kind=\"foreign\"}"), 20);
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
