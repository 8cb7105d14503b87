/*
 * test_metrics.c - `pfi metrics` on testdata/logs/sample.log: the values
 * of the exposition against the log's known answers (EXPECTED.md),
 * promtool's verdict on it, --output, and a real Prometheus scraping
 * `pfi metrics --listen` on loopback (tests/metrics-e2e.py), which fails
 * when prometheus or promtool is missing.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* The exposition of db with the options o, as a string to free. */
static char *render_opts(const char *db, const struct pfi_metrics_opts *o)
{
	pfi_store *st = NULL;
	pfi_metrics *m = NULL;
	const char *text;
	char *copy;
	size_t len = 0;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_metrics_new(&m, st, o), PFI_OK, "%s", pfi_errmsg(st));
	text = pfi_metrics_text(m, &len);
	cr_assert_eq(strlen(text), len);
	copy = strdup(text);
	pfi_metrics_free(m);
	pfi_store_close(st);
	return copy;
}

static char *render(const char *db, size_t top)
{
	struct pfi_metrics_opts o = { .version = PFI_METRICS_OPTIONS_VERSION,
	                              .top = top };

	return render_opts(db, &o);
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

/* The sum of the samples whose line starts with `prefix` and holds
 * `needle` (a label of the middle, say). */
static double sum_with(const char *text, const char *prefix,
                       const char *needle)
{
	const char *p = text;
	double sum = 0;
	size_t n = strlen(prefix);

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		char *line = strndupa(p, strcspn(p, "\n"));
		if (strncmp(line, prefix, n) == 0 && strstr(line, needle))
			sum += strtod(strrchr(line, ' '), NULL);
	}
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
	cr_expect_eq(sum_with(t, "pfi_log_lines_total{", "kind=\"foreign\"}"), 9);
	cr_expect_eq(sum_with(t, "pfi_log_lines_total{", "kind=\"verdict\"}"), 11);
	cr_expect_eq(sum_with(t, "pfi_log_lines_total{", "kind=\"unparsed\"}"), 3);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{"), 790);
	cr_expect_eq(sum_of(t, "pfi_last_log_timestamp_seconds{host=\"mx2\"}"),
	             1793614224);
	cr_expect_eq(sum_of(t, "pfi_deferred_messages{host=\"mx2\"}"), 1);
	cr_expect(strstr(t, "# TYPE pfi_delivery_delay_seconds histogram\n"));
	cr_expect(strstr(t, "# TYPE pfi_verdicts_total counter\n"));
	free(t);
	free(db);
}

/* The size of a file, 0 when there is none. */
static double file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (double)sb.st_size : 0;
}

Test(metrics, tls_bytes_queue_delays_and_the_index_are_the_known_answers)
{
	/* Inbound TLS: the smtpd originals of expected-messages.tsv with a
	 * tls_protocol.  Bytes: the qmgr size= of each original (smtpd,
	 * pickup) lifetime; the held CB5401161E5 and the discarded
	 * 61B542A0F46 never reach qmgr, so their sizes are not in the log.
	 * Queue: those two have no removed line, but the discarded one left
	 * with cleanup; mx2's BA3622A0F53 (4410 bytes) is deferred at the end.
	 * Delays: each original recipient sent, bounced or expired once
	 * (84 + 2 + 2), the two expired ones (3601 s) the only ones over an
	 * hour.  Stages on mx2 (nothing expired there): the delays= of its
	 * sent and bounced lines, summed by hand. */
	static const struct { const char *sample; double n; } want[] = {
		{ "pfi_tls_connections_total{host=\"mx1\",direction=\"inbound\","
		  "protocol=\"TLSv1.2\"}", 4 },
		{ "pfi_tls_connections_total{host=\"mx1\",direction=\"inbound\","
		  "protocol=\"TLSv1.3\"}", 9 },
		{ "pfi_tls_connections_total{host=\"mx2\",direction=\"inbound\","
		  "protocol=\"TLSv1.2\"}", 5 },
		{ "pfi_tls_connections_total{host=\"mx2\",direction=\"inbound\","
		  "protocol=\"TLSv1.3\"}", 10 },
		{ "pfi_received_bytes_total{host=\"mx1\"}", 1614931 },
		{ "pfi_received_bytes_total{host=\"mx2\"}", 1012785 },
		{ "pfi_queued_messages{host=\"mx1\"}", 1 },
		{ "pfi_queued_messages{host=\"mx2\"}", 1 },
		{ "pfi_queued_bytes{host=\"mx2\"}", 4410 },
		{ "pfi_deferred_messages{host=\"mx1\"}", 0 },
		{ "pfi_deferred_bytes{host=\"mx2\"}", 4410 },
		{ "pfi_recipients_total{host=\"mx1\",status=\"sent\"}", 41 },
		{ "pfi_recipients_total{host=\"mx2\",status=\"sent\"}", 43 },
		{ "pfi_delivery_delay_seconds_count{", 88 },
		{ "pfi_delivery_delay_seconds_bucket{host=\"mx1\",le=\"3600\"}", 43 },
		{ "pfi_delivery_delay_seconds_bucket{host=\"mx1\",le=\"14400\"}", 45 },
		{ "pfi_delivery_delay_seconds_bucket{host=\"mx1\",le=\"+Inf\"}", 45 },
		{ "pfi_delivery_stage_delay_seconds_count{host=\"mx2\","
		  "stage=\"before_qmgr\"}", 44 },
		{ "pfi_delivery_stage_delay_seconds_sum{host=\"mx2\","
		  "stage=\"before_qmgr\"}", 922.44 },
		{ "pfi_delivery_stage_delay_seconds_sum{host=\"mx2\","
		  "stage=\"in_qmgr\"}", 9.2 },
		{ "pfi_delivery_stage_delay_seconds_sum{host=\"mx2\","
		  "stage=\"conn_setup\"}", 0.08 },
		{ "pfi_delivery_stage_delay_seconds_sum{host=\"mx2\","
		  "stage=\"transmission\"}", 0.3 },
	};
	struct pfi_metrics_opts o = { .version = PFI_METRICS_OPTIONS_VERSION,
	                              /* 2100: later than the run the
	                               * index records, so shown */
	                              .run_end = 4102444800000000,
	                              .run_seconds = 1.5 };
	char *db = sample_db(), *t = render_opts(db, &o);
	char *wal = path_join(tmpdir_make(), "sample.db-wal");
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect(fabs(sum_of(t, want[i].sample) - want[i].n) < 1e-6,
		          "%s: %.10g, not %.10g", want[i].sample,
		          sum_of(t, want[i].sample), want[i].n);
	/* Outbound TLS is a share of the deliveries to a network relay, as
	 * pfi stats says it (outbound_ratio 0.88). */
	cr_expect_eq(sum_of(t, "pfi_tls_connections_total{host=\"mx1\","
	                       "direction=\"outbound\""), 14);
	cr_expect_eq(sum_of(t, "pfi_network_deliveries_total{"), 25);
	cr_expect_eq(sum_of(t, "pfi_index_size_bytes "),
	             file_size(db) + file_size(wal));
	cr_expect_eq(sum_of(t, "pfi_index_last_run_timestamp_seconds "),
	             4102444800);
	cr_expect_eq(sum_of(t, "pfi_index_last_run_duration_seconds "), 1.5);
	/* The log as copy_fixture left it, at the absolute path indexed. */
	cr_expect_eq(sum_of(t, "pfi_log_file_modified_timestamp_seconds "),
	             SAMPLE_MTIME);
	free(wal);
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

/* Asserts that promtool accepts the exposition t without a lint note. */
static void expect_promtool_accepts(const char *t)
{
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
}

Test(metrics, promtool_accepts_the_exposition_without_lint)
{
	char *db = sample_db(), *t = render(db, 0);

	expect_promtool_accepts(t);
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

Test(metrics, output_replaces_the_file_by_rename_never_in_place)
{
	const char *dir = tmpdir_make();
	char *db = sample_db(), *prom = path_join(dir, "pfi.prom");
	char *old = path_join(dir, "old.prom"), *text, cmd[4096];
	const char *argv[] = { "--db", db, "metrics", "--output", prom, NULL };
	FILE *fp = fopen(prom, "w");

	/* A reader that opened the file before keeps what it read whole: the
	 * new text goes to a new inode (a hard link shows it). */
	cr_assert_not_null(fp);
	fputs("stale\n", fp);
	fclose(fp);
	cr_assert_eq(link(prom, old), 0);
	cr_assert_eq(run_pfi(argv, NULL, NULL, NULL), 0);
	text = slurp(old, NULL);
	cr_expect_str_eq(text, "stale\n");
	free(text);
	text = slurp(prom, NULL);
	cr_expect(strstr(text, "# TYPE pfi_recipients_total counter\n"));
	free(text);
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q '^pfi\\.prom\\.'", dir);
	cr_expect_neq(system(cmd), 0, "a temporary file was left behind");
	free(old);
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
	/* Counted with grep on testdata/realpostfix/mail.log (SASL: smtpd's
	 * "SASL ... authentication failed" warnings; TLS: the received
	 * messages whose smtpd session had "TLS connection established"). */
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
		{ "pfi_sasl_auth_failures_total{host=\"mx1\"}", 4 },
		{ "pfi_tls_connections_total{host=\"mx1\",direction=\"inbound\","
		  "protocol=\"TLSv1.3\"}", 11 },
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
	cr_expect_eq(sum_with(t, "pfi_log_lines_total{", "kind=\"unparsed\"}"), 1);
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

/* ---- lines per host and the record of each run (write-runs.c) --------------- */

/* How many of lines[from, to) hold `needle`: grep -c. */
static double grep_c(char **lines, size_t from, size_t to, const char *needle)
{
	double n = 0;

	for (; from < to; from++)
		n += strstr(lines[from], needle) != NULL;
	return n;
}

/* Expects the lines of each host of the sample log in t to be what grep
 * counts in lines[from, to), and besides them `rest` lines under host
 * "" only. */
static void expect_host_lines(const char *t, char **lines, size_t from,
                              size_t to, double rest)
{
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"mx1\""),
	             grep_c(lines, from, to, " mx1 "));
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"mx2\""),
	             grep_c(lines, from, to, " mx2 "));
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"\""), rest);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{"),
	             (double)(to - from) + rest);
}

/* Each kind sums, over hosts, to what line_counts (pfi info) says. */
static void expect_kinds_sum_to_line_counts(const char *db)
{
	cr_expect_eq(db_int(db, "SELECT count(*) FROM (SELECT kind, sum(count)"
	                    " FROM line_counts GROUP BY kind EXCEPT SELECT kind,"
	                    " sum(count) FROM line_host_counts GROUP BY kind)"), 0);
	cr_expect_eq(db_int(db, "SELECT sum(count) FROM line_host_counts"),
	             db_int(db, "SELECT sum(count) FROM line_counts"));
}

static void expect_rows(const char *db, const char *sql, const char *want)
{
	char *got = db_rows(db, sql);

	cr_expect_str_eq(got, want, "%s", sql);
	free(got);
}

/* The sample log's first `cut` lines indexed into tmpdir/NAME.db through
 * tmpdir/mail.log; the rest are appended to the log, not indexed. */
static char *first_part_db(const char *name, size_t cut, char ***lines,
                           char **text, size_t *n, char **log)
{
	const char *dir = tmpdir_make();
	char file[64], *db;
	const char *paths[1];

	*n = fixture_lines("logs/sample.log", text, lines);
	*log = path_join(dir, "mail.log");
	snprintf(file, sizeof(file), "%s.db", name);
	db = path_join(dir, file);
	paths[0] = *log;
	append_log_lines(*log, (const char *const *)*lines, 0, cut, SAMPLE_MTIME);
	pfi_store_close(index_into(db, paths, 1, NULL));
	return db;
}

Test(metrics, lines_per_host_are_what_grep_counts_and_a_run_adds_only_its_own)
{
	char *text, **lines, *log, *t;
	size_t n;
	char *db = first_part_db("runs", 400, &lines, &text, &n, &log);
	const char *paths[] = { log };

	t = render(db, 0);
	expect_host_lines(t, lines, 0, 400, 0);
	free(t);
	append_log_lines(log, (const char *const *)lines, 400, n, SAMPLE_MTIME);
	pfi_store_close(index_into(db, paths, 1, NULL));
	t = render(db, 0);
	expect_host_lines(t, lines, 0, n, 0);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"mx1\""), 375);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"mx2\""), 415);
	expect_kinds_sum_to_line_counts(db);
	/* One record per run, with what each read. */
	expect_rows(db, "SELECT lines, files, stopped FROM index_runs"
	            " ORDER BY id", "400|1|0\n390|1|0\n");
	free(t);
	free(log);
	free(db);
	free(lines);
	free(text);
}

/* Lines that are not syslog's have no host: host "". */
Test(metrics, lines_without_a_syslog_host_are_under_an_empty_host)
{
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "odd.log"), *db = path_join(dir, "odd.db");
	const char *paths[] = { log };
	const char *lines[] = {
		"Nov  2 09:00:01 mx1 postfix/smtpd[1]: connect from a[192.0.2.1]",
		"not a syslog line",
		"neither is this one",
	};
	char *t;

	append_log_lines(log, lines, 0, 3, SAMPLE_MTIME);
	pfi_store_close(index_into(db, paths, 1, NULL));
	t = render(db, 0);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"\",kind=\"nosyslog\"}"),
	             2, "%s", t);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"mx1\",kind=\"postfix\"}"),
	             1);
	free(t);
	free(log);
	free(db);
}

static int64_t wall_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* A `pfi index` from cron leaves its record; a separate `pfi metrics`
 * reports it. */
Test(metrics, a_pfi_index_run_is_recorded_and_pfi_metrics_reports_it)
{
	const char *dir = tmpdir_make();
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	char *db = path_join(dir, "cron.db"), *out = NULL, *err = NULL;
	const char *metrics[] = { "--db", db, "metrics", NULL };
	int64_t t0 = wall_us(), t1, start, end;
	double secs;

	cr_assert_eq(run_pfi_index(db, log, NULL), 0);
	t1 = wall_us();
	cr_assert_eq(db_int(db, "SELECT count(*) FROM index_runs"), 1);
	start = db_int(db, "SELECT start FROM index_runs");
	end = db_int(db, "SELECT end FROM index_runs");
	secs = (double)db_int(db, "SELECT seconds * 1000000 FROM index_runs")
	       / 1e6;
	cr_expect(t0 <= start && start <= end && end <= t1,
	          "%lld <= %lld <= %lld <= %lld", (long long)t0,
	          (long long)start, (long long)end, (long long)t1);
	cr_expect(secs > 0 && secs <= (double)(t1 - t0) / 1e6, "%g s", secs);
	/* the wall clock and the monotonic one agree, within a stepped clock */
	cr_expect(fabs((double)(end - start) / 1e6 - secs) < 0.05, "%g s", secs);
	expect_rows(db, "SELECT lines, duplicates, files, messages, stopped"
	            " FROM index_runs", "790|0|1|70|0\n");
	cr_assert_eq(run_pfi(metrics, NULL, &out, &err), 0, "%s", err);
	cr_expect(fabs(sum_of(out, "pfi_index_last_run_timestamp_seconds ") -
	               (double)end / 1e6) < 1e-5, "%s", out);
	cr_expect(fabs(sum_of(out, "pfi_index_last_run_duration_seconds ") -
	               secs) < 1e-5);
	free(out);
	free(err);
	free(db);
	free(log);
}

/* A run that found nothing new commits nothing, and records nothing. */
Test(metrics, the_run_record_is_bounded_and_a_run_with_nothing_new_adds_none)
{
	char *text, **lines, *log;
	size_t n;
	char *db = first_part_db("many", 100, &lines, &text, &n, &log);
	const char *paths[] = { log };
	sqlite3 *raw = NULL;

	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "WITH RECURSIVE k(i) AS (SELECT 1 UNION"
	             " ALL SELECT i + 1 FROM k WHERE i < 600) INSERT INTO"
	             " index_runs(start, end, seconds, lines, duplicates, files,"
	             " messages, stopped) SELECT i, i, 0, 0, 0, 0, 0, 0 FROM k",
	             NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_expect_eq(db_int(db, "SELECT count(*) FROM index_runs"), 601);
	append_log_lines(log, (const char *const *)lines, 100, n, SAMPLE_MTIME);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_expect_eq(db_int(db, "SELECT count(*) FROM index_runs"), 500);
	cr_expect_eq(db_int(db, "SELECT lines FROM index_runs ORDER BY id DESC"
	                    " LIMIT 1"), 690);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_expect_eq(db_int(db, "SELECT count(*) FROM index_runs"), 500);
	cr_expect_eq(db_int(db, "SELECT lines FROM index_runs ORDER BY id DESC"
	                    " LIMIT 1"), 690);
	free(log);
	free(db);
	free(lines);
	free(text);
}

static void no_probe(const char *db, void *ctx)
{
	(void)db;
	(void)ctx;
}

Test(metrics, a_killed_run_leaves_no_record_and_no_lines_per_host,
     .timeout = SUITE_TIMEOUT(120))
{
	char *db = path_join(tmpdir_make(), "killed.db"), *out = NULL;
	char *log = copy_fixture("logs/sample.log", tmpdir_make(), "mail.log",
	                         SAMPLE_MTIME);
	const char *info[] = { "--db", db, "info", NULL };

	kill_first_run(db, pfi_first_run, no_probe, NULL);
	/* a query rolls the killed run back, as any open does */
	cr_assert_eq(run_pfi(info, NULL, &out, NULL), 0);
	free(out);
	cr_expect_eq(db_int(db, "SELECT count(*) FROM index_runs"), 0);
	cr_expect_eq(db_int(db, "SELECT count(*) FROM line_host_counts"), 0);
	cr_assert_eq(run_pfi_index(db, log, NULL), 0);
	cr_expect_eq(db_int(db, "SELECT count(*) FROM index_runs"), 1);
	cr_expect_eq(db_int(db, "SELECT sum(count) FROM line_host_counts"), 790);
	free(log);
	free(db);
}

/* An index no pfi that keeps these tables has written to: read as it is,
 * its lines are under host ""; opened for writing, the tables are made
 * and what was counted stays under "", what is read next is per host. */
Test(metrics, lines_counted_before_hosts_were_kept_stay_under_an_empty_host)
{
	char *text, **lines, *log, *t;
	size_t n;
	char *db = first_part_db("old", 400, &lines, &text, &n, &log);
	const char *paths[] = { log };
	sqlite3 *raw = NULL;

	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "DROP TABLE line_host_counts;"
	             " DROP TABLE index_runs", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	t = render(db, 0);
	expect_host_lines(t, lines, 0, 0, 400);
	cr_expect_eq(sum_of(t, "pfi_log_lines_total{host=\"\",kind=\"postfix\"}"),
	             db_int(db, "SELECT sum(count) FROM line_counts"
	                    " WHERE kind = 0"));
	cr_expect(strstr(t, "# TYPE pfi_index_last_run_timestamp_seconds gauge"));
	cr_expect_null(strstr(t, "\npfi_index_last_run_timestamp_seconds "));
	expect_promtool_accepts(t);     /* host="" and families without samples */
	free(t);
	append_log_lines(log, (const char *const *)lines, 400, n, SAMPLE_MTIME);
	pfi_store_close(index_into(db, paths, 1, NULL));
	t = render(db, 0);
	expect_host_lines(t, lines, 400, n, 400);
	expect_kinds_sum_to_line_counts(db);
	expect_rows(db, "SELECT lines FROM index_runs", "390\n");
	free(t);
	free(log);
	free(db);
	free(lines);
	free(text);
}

/* ---- man/pfi-metrics.1 against the exposition ------------------------------ */

/* The labels the man page gives family `name` on its .It line ("Cm NAME
 * Brq a , b"), as ",a,b,"; ",," when it gives none; NULL when it does not
 * list the family. */
static char *man_labels(const char *man, const char *name)
{
	char needle[160], *out = calloc(1, 256);
	const char *p = man, *end;
	size_t n = (size_t)snprintf(needle, sizeof(needle), "Cm %s", name);

	while ((p = strstr(p, needle)) && ((p[n] != ' ' && p[n] != '\n') ||
	       (strncmp(p - 4, ".It ", 4) != 0 && strncmp(p - 2, ", ", 2) != 0)))
		p += n;
	if (p == NULL) {
		free(out);
		return NULL;
	}
	strcpy(out, ",");
	p += n;
	if (strncmp(p, " Brq ", 5) != 0)
		return strcat(out, ",");
	p += 5;
	end = strstr(p, " , Cm ");
	if (end == NULL || end > p + strcspn(p, "\n"))
		end = p + strcspn(p, "\n");
	while (p < end) {
		size_t w = strcspn(p, " \n");
		if (w > (size_t)(end - p))
			w = (size_t)(end - p);
		if (w && *p != ',')
			snprintf(out + strlen(out), 256 - strlen(out), "%.*s,",
			         (int)w, p);
		p += w + (p + w < end);
	}
	return out;
}

/* Checks the labels of the sample at s (its '{'): each is in the man
 * page's list for name, or is a histogram's le. */
static void expect_labels(const char *s, const char *name, const char *list)
{
	while (*s == '{' || *s == ',') {
		char label[64], key[70];
		size_t n = strcspn(++s, "=");

		snprintf(label, sizeof(label), "%.*s", (int)n, s);
		snprintf(key, sizeof(key), ",%s,", label);
		cr_expect(strcmp(label, "le") == 0 || strstr(list, key),
		          "man/pfi-metrics.1 does not give %s the label %s", name,
		          label);
		for (s += n + 2; *s && *s != '"'; s++)   /* the value */
			if (*s == '\\')
				s++;
		s++;
	}
}

/* Checks every family of text (its # TYPE lines), and the labels of its
 * samples, against the man page. */
static void expect_in_man(const char *text, const char *man)
{
	const char *p, *s;

	for (p = strstr(text, "# TYPE "); p; p = strstr(p + 1, "# TYPE ")) {
		char *name = strndup(p + 7, strcspn(p + 7, " ")), pfx[200];
		char *list = man_labels(man, name);
		size_t n = (size_t)snprintf(pfx, sizeof(pfx), "\n%s", name);

		cr_expect_not_null(list, "man/pfi-metrics.1 does not list %s", name);
		for (s = strstr(text, pfx); list && s; s = strstr(s + 1, pfx)) {
			const char *l = s + n;
			if (strncmp(l, "_bucket", 7) == 0)
				l += 7;
			else if (strncmp(l, "_count", 6) == 0 || strncmp(l, "_sum", 4) == 0)
				l += l[1] == 'c' ? 6 : 4;
			if (*l == '{')
				expect_labels(l, name, list);
		}
		free(list);
		free(name);
	}
}

Test(metrics, the_man_page_lists_every_family_with_its_labels)
{
	struct pfi_metrics_opts o = { .version = PFI_METRICS_OPTIONS_VERSION,
	                              .run_end = 1, .run_seconds = 1 };
	char *man = slurp(SRCDIR "/man/pfi-metrics.1", NULL);
	char *sample = sample_db(), *t = render_opts(sample, &o);
	char *real = realpostfix_db("realpostfix/mail.log"), *r = render(real, 0);

	cr_assert_not_null(man);
	cr_assert(strstr(t, "# TYPE pfi_index_last_run_duration_seconds gauge"));
	expect_in_man(t, man);
	expect_in_man(r, man);    /* SASL failures and lost connections too */
	free(r);
	free(real);
	free(t);
	free(sample);
	free(man);
}
