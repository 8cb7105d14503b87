/*
 * test_cli.c - the pfi command as users and scripts meet it: exit codes,
 * one-line errors on stderr, machine-readable output on stdout, global
 * options before or after the command, standard input, help made from the
 * option specs.  Every test runs the built binary (run_pfi, or fork/exec
 * where it must be signalled or its pipe closed), never pfi_main() in
 * process: what is tested is what users run.  The CLI suite goes on in
 * test_cli_search.c (pfi search), test_cli_stats.c (pfi stats) and
 * test_cli_trust.c (indexes pfi refuses or finds busy), built into this
 * one test program; pfi repl has test_repl.c.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define SAMPLE_MTIME 1793664000   /* 2026-11-03, after the sample's last line */

static const char *dir;
static char *db;

static void setup(void)
{
	dir = tmpdir_make();
	db = path_join(dir, "index.db");
	setenv("TZ", "UTC", 1);
	unsetenv("PFI_DB");
	setenv("NO_COLOR", "1", 1);
}

static void teardown(void)
{
	free(db);
	tmpdir_cleanup();
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* Indexes the sample log into db; returns its exit status. */
static int index_sample(char **err)
{
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	int rc = run_pfi_index(db, log, err);

	free(log);
	return rc;
}

/* The value of key in expected-summary.txt, in a static buffer. */
static const char *summary(const char *key)
{
	static char val[128];
	char *text = slurp(fixture("logs/expected-summary.txt"), NULL), *p;
	size_t n = strlen(key);

	cr_assert_not_null(text);
	val[0] = '\0';
	for (p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == '=') {
			size_t len = strcspn(p + n + 1, "\n");
			memcpy(val, p + n + 1, len < sizeof(val) ? len : sizeof(val) - 1);
			val[len < sizeof(val) ? len : sizeof(val) - 1] = '\0';
			break;
		}
	free(text);
	cr_assert(val[0], "no %s in expected-summary.txt", key);
	return val;
}

Test(cli, version_goes_to_stdout_and_exits_zero)
{
	const char *argv[] = { "--version", NULL };
	char *out, *err;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0);
	cr_assert(strncmp(out, "pfi ", 4) == 0, "stdout: %s", out);
	cr_assert_str_empty(err);
	free(out);
	free(err);
}

Test(cli, an_unknown_command_is_a_usage_error_with_a_hint)
{
	const char *argv[] = { "trac", NULL };
	char *out, *err;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 2);
	cr_assert_str_empty(out);
	cr_assert_not_null(strstr(err, "'trac' is not a pfi command"), "%s", err);
	cr_assert_not_null(strstr(err, "trace"), "%s", err);
	free(out);
	free(err);
}

Test(cli, an_unknown_option_is_a_usage_error_naming_the_command)
{
	const char *argv[] = { "--db", db, "trace", "--bogus", "X", NULL };
	char *err;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 2);
	cr_assert_not_null(strstr(err, "Try 'pfi trace --help'"), "%s", err);
	free(err);
}

Test(cli, an_unknown_or_abbreviated_option_gets_the_closest_one)
{
	static const struct { const char *a, *b, *c, *want; } cases[] = {
		{ "search", "--doman", "x", "unknown option '--doman' (did you mean"
		  " '--domain'?)" },
		{ "index", "--qui", "x", "unknown option '--qui' (did you mean"
		  " '--quiet'?)" },
		{ "--formt", "json", "info", "unknown option '--formt' (did you mean"
		  " '--format'?)" },
		/* a global option may follow the command: its typo too */
		{ "search", "--formt", "json", "unknown option '--formt' (did you"
		  " mean '--format'?)" },
		{ "trace", "--ut", "X", "unknown option '--ut' (did you mean"
		  " '--utc'?)" },
		{ "stats", "--by", NULL, "option '--by' needs a value" },
		{ "trace", "--raw=1", "X", "option '--raw' takes no value" },
		{ "prune", "-x", NULL, "unknown option '-x'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = { "--db", db, cases[i].a, cases[i].b,
		                       cases[i].c, NULL };
		char *out, *err;

		cr_expect_eq(run_pfi(argv, NULL, &out, &err), 2, "%s %s",
		             cases[i].a, cases[i].b);
		cr_expect_str_empty(out);
		cr_expect_not_null(strstr(err, cases[i].want), "%s", err);
		free(out);
		free(err);
	}
}

Test(cli, help_of_every_command_goes_to_stdout_within_80_columns)
{
	static const char *const cmds[] = {
		NULL, "index", "trace", "search", "info", "stats", "prune",
		"metrics", "repl", "help"
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *argv[] = { cmds[i] ? cmds[i] : "--help",
		                       cmds[i] ? "--help" : NULL, NULL };
		char *out, *err, *p, *nl;

		cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "%s", argv[0]);
		cr_expect_str_empty(err);
		cr_expect(strncmp(out, "usage: pfi", 10) == 0, "%s", out);
		for (p = out; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
			cr_expect_leq(nl - p, 80, "'pfi %s --help' has a line of %d"
			              " columns: %.*s", argv[0], (int)(nl - p),
			              (int)(nl - p), p);
		free(out);
		free(err);
	}
}

Test(cli, no_command_without_a_terminal_is_a_usage_error)
{
	const char *argv[] = { "--db", db, NULL };
	char *out, *err;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 2);
	cr_assert_str_empty(out);
	cr_assert(strncmp(err, "usage: pfi", 10) == 0, "%s", err);
	free(out);
	free(err);
}

Test(cli, index_creates_a_private_index_and_says_nothing_when_quiet)
{
	struct stat sb;
	char *err;

	cr_assert_eq(index_sample(&err), 0, "stderr: %s", err);
	cr_assert_str_empty(err);
	cr_assert_eq(stat(db, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600);
	free(err);
}

Test(cli, trace_of_a_known_queue_id_prints_the_spec_document)
{
	const char *qid = summary("bounce_parent");
	const char *argv[] = { "trace", qid, "--db", db, "--format", "json", NULL };
	char *out, *err;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "stderr: %s", err);
	cr_assert_str_empty(err);
	cr_assert_not_null(strstr(out, "\"messages\""), "%s", out);
	cr_assert_not_null(strstr(out, qid), "%s", out);
	cr_assert_not_null(strstr(out, "\"relation\":\"bounce\"") ?
	                   strstr(out, "\"relation\":\"bounce\"") :
	                   strstr(out, "\"relation\": \"bounce\""),
	                   "the bounce notification is in the chain: %s", out);
	cr_assert_not_null(strstr(out, "\"recipients\""));
	cr_assert_not_null(strstr(out, "\"lines\""));
	free(out);
	free(err);
}

Test(cli, trace_of_an_unknown_id_exits_one_with_a_message)
{
	const char *argv[] = { "--db", db, "trace", "NOSUCHQID", NULL };
	char *out, *err;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 1);
	cr_assert_str_empty(out);
	cr_assert_not_null(strstr(err, "NOSUCHQID"), "%s", err);
	free(out);
	free(err);
}

Test(cli, trace_raw_prints_only_log_lines)
{
	const char *qid = summary("filter_parent");
	const char *argv[] = { "--db", db, "trace", "--raw", qid, NULL };
	char *out, *line, *save = NULL;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, NULL), 0);
	cr_assert_not_null(strstr(out, summary("filter_child")),
	                   "the filter child is followed: %s", out);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		cr_assert(strncmp(line, "Nov  2 ", 7) == 0, "not a log line: %s", line);
	free(out);
}

Test(cli, info_json_has_the_spec_keys_and_exact_counts)
{
	const char *argv[] = { "--db", db, "info", "--json", NULL };
	const char *keys[] = { "\"files\"", "\"lines\"", "\"postfix_lines\"",
		"\"unparsed_lines\"", "\"foreign_lines\"", "\"unparsed_by_program\"",
		"\"messages\"", "\"deliveries\"", "\"rejects\"", "\"first\"",
		"\"last\"", "\"db_bytes\"" };
	char *out, want[64];
	size_t i;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, NULL), 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cr_assert_not_null(strstr(out, keys[i]), "no %s in %s", keys[i], out);
	snprintf(want, sizeof(want), "\"messages\":%s", summary("messages"));
	cr_assert(strstr(out, want) || (snprintf(want, sizeof(want),
	          "\"messages\": %s", summary("messages")), strstr(out, want)),
	          "%s", out);
	free(out);
}

Test(cli, a_missing_file_is_an_error_naming_it_and_exit_three)
{
	char *missing = path_join(dir, "nosuch.log");
	const char *argv[] = { "--db", db, "index", "--quiet", missing, NULL };
	char *err;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 3);
	cr_assert_not_null(strstr(err, "nosuch.log"), "%s", err);
	cr_assert(strncmp(err, "pfi: ", 5) == 0, "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
	free(err);
	free(missing);
}

Test(cli, a_truncated_compressed_file_keeps_its_lines_and_fails_naming_it)
{
	char *bad = copy_fixture("read/truncated.gz", dir, "mail.log.2.gz", 0);
	const char *argv[] = { "--db", db, "index", "--quiet", bad, NULL };
	char *err;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 3);
	cr_assert_not_null(strstr(err, "mail.log.2.gz"), "%s", err);
	cr_assert_gt(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"), 0,
	             "the complete lines before the damage are kept");
	free(err);
	free(bad);
}

Test(cli, standard_input_is_indexed)
{
	const char *argv[] = { "--db", db, "index", "--quiet", "-", NULL };
	const char *qid = summary("pickup_queue_id");
	const char *targv[] = { "--db", db, "trace", qid, NULL };

	cr_assert_eq(run_pfi(argv, fixture("logs/sample-rfc3339.log"), NULL, NULL), 0);
	cr_assert_eq(run_pfi(targv, NULL, NULL, NULL), 0);
	cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"),
	             strtoll(summary("lines"), NULL, 10));
}

Test(cli, read_commands_on_a_missing_index_fail_with_a_hint)
{
	const char *argv[] = { "--db", db, "info", NULL };
	char *err;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 3);
	cr_assert_not_null(strstr(err, "pfi index"), "%s", err);
	free(err);
}

/* The one line `pfi --db PATH CMD` writes on stderr, exit 3 asserted. */
static char *open_error(const char *path, const char *cmd)
{
	const char *argv[] = { "--db", path, cmd, NULL, NULL, NULL };
	char *out, *err;

	if (strcmp(cmd, "prune") == 0)
		argv[3] = "--before", argv[4] = "1d";
	if (strcmp(cmd, "index") == 0)
		argv[3] = "/dev/null";
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 3, "%s: %s", cmd, err);
	cr_assert_str_empty(out);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s", err);
	free(out);
	return err;
}

Test(cli, a_directory_as_db_gets_one_line_naming_the_file_to_give)
{
	static const char *const cmds[] = { "search", "info", "prune", "index" };
	char want[4096], *err;

	snprintf(want, sizeof(want), "pfi: '%s' is a directory, not an index; "
	         "give --db the index file (such as '%s/index.db')\n", dir, dir);
	for (size_t i = 0; i < 4; i++) {
		err = open_error(dir, cmds[i]);
		cr_expect_str_eq(err, want, "%s", cmds[i]);
		free(err);
	}
}

Test(cli, a_file_that_is_no_index_or_a_damaged_one_says_what_to_do)
{
	char *junk = path_join(dir, "notes.txt"), *err, *cut;
	FILE *fp = fopen(junk, "w");
	char *whole;
	size_t n;

	cr_assert_not_null(fp);
	fputs("shopping list\n", fp);
	fclose(fp);
	err = open_error(junk, "search");
	cr_assert_not_null(strstr(err, "notes.txt' is not a pfi index; give "
	                          "--db a pfi index, or a new file"), "%s", err);
	free(err);
	/* the first 8 KiB of a real index: its tables point past the end */
	cr_assert_eq(index_sample(NULL), 0);
	whole = slurp(db, &n);
	cut = path_join(dir, "cut.db");
	fp = fopen(cut, "wb");
	cr_assert_not_null(fp);
	fwrite(whole, 1, 8192, fp);
	fclose(fp);
	err = open_error(cut, "search");
	cr_assert_not_null(strstr(err, "cut.db"), "%s", err);
	cr_assert_not_null(strstr(err, "; it seems damaged: move it aside and "
	                          "run 'pfi index' to build it again"), "%s", err);
	free(err);
	free(whole);
	free(cut);
	free(junk);
}

Test(cli, the_db_path_comes_from_pfi_db_when_not_given)
{
	const char *argv[] = { "index", "--quiet", fixture("logs/longids.log"), NULL };
	struct stat sb;

	setenv("PFI_DB", db, 1);
	cr_assert_eq(run_pfi(argv, NULL, NULL, NULL), 0);
	cr_assert_eq(stat(db, &sb), 0);
	unsetenv("PFI_DB");
}

/* The number of lines in the first n bytes of data. */
static int64_t db_int_lines(const char *data, size_t n)
{
	int64_t lines = 0;
	size_t i;

	for (i = 0; i < n; i++)
		lines += data[i] == '\n';
	return lines;
}

/* Lines in the index now; -1 while it is not there or still being made. */
static int64_t lines_now(void)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int64_t n = -1;

	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(h, "SELECT coalesce(sum(count), 0) FROM chunks",
	                       -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			n = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(h);
	return n;
}

/* Polls the index until it holds `want` lines or about 10 s pass. */
static int64_t wait_for_lines(int64_t want)
{
	struct timespec ts = { 0, 100 * 1000000L };
	int64_t n = -1;
	int i;

	for (i = 0; i < 100; i++) {
		n = lines_now();
		if (n == want)
			break;
		nanosleep(&ts, NULL);
	}
	return n;
}

Test(cli, follow_indexes_appended_lines_across_a_rotation_until_interrupted)
{
	char *log = path_join(dir, "mail.log"), *old = path_join(dir, "mail.log.1");
	size_t len, a, b;
	char *data = slurp(fixture("logs/sample.log"), &len);
	int status;
	FILE *f;
	pid_t pid;

	a = (size_t)(strchr(data + len / 3, '\n') - data) + 1;
	b = (size_t)(strchr(data + 2 * len / 3, '\n') - data) + 1;
	f = fopen(log, "w");
	fwrite(data, 1, a, f);
	fclose(f);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		execl(PFI_BIN, PFI_BIN, "--db", db, "index", "--follow", "--quiet",
		      log, (char *)NULL);
		_exit(127);
	}
	cr_assert_gt(wait_for_lines(db_int_lines(data, a)), 0);
	/* A line arrives in two writes: only the whole line is indexed. */
	f = fopen(log, "a");
	fwrite(data + a, 1, b - a - 10, f);
	fclose(f);
	cr_assert_eq(wait_for_lines(db_int_lines(data, b) - 1),
	             db_int_lines(data, b) - 1);
	f = fopen(log, "a");
	fwrite(data + b - 10, 1, 10, f);
	fclose(f);
	cr_assert_eq(wait_for_lines(db_int_lines(data, b)), db_int_lines(data, b));
	/* logrotate renames the file and a new one starts. */
	cr_assert_eq(rename(log, old), 0);
	f = fopen(log, "w");
	fwrite(data + b, 1, len - b, f);
	fclose(f);
	cr_assert_eq(wait_for_lines(db_int_lines(data, len)),
	             db_int_lines(data, len));
	kill(pid, SIGINT);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "status %d", status);
	free(data);
	free(log);
	free(old);
}

/* ---- pfi search ------------------------------------------------------------ */

Test(cli, search_takes_global_options_after_its_filters)
{
	const char *argv[] = { "search", "--status", "bounced", "--format", "csv",
	                       "--db", db, "--utc", NULL };
	char *out, *err;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "stderr: %s", err);
	cr_assert_str_empty(err);
	cr_assert(strncmp(out, "time,host,queue_id,message_id,from,to,", 38) == 0,
	          "%s", out);
	cr_assert_not_null(strstr(out, summary("bounce_parent")), "%s", out);
	free(out);
	free(err);
}

/* Runs pfi with argv, reads `want` bytes of its stdout, closes the pipe,
 * and returns its exit status; its stderr goes to *err. */
static int run_into_closed_pipe(const char *const *argv, size_t want, char **err)
{
	char errp[] = "/tmp/pfi-err-XXXXXX", buf[4096];
	int fds[2], efd = mkstemp(errp), status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	cr_assert(efd >= 0 && pipe(fds) == 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(efd, 2);
		close(fds[0]);
		execv(PFI_BIN, (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while (got < want && (n = read(fds[0], buf, sizeof(buf))) > 0)
		got += (size_t)n;
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	*err = slurp(errp, NULL);
	unlink(errp);
	close(efd);
	cr_assert_geq(got, want);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cli, search_into_a_closed_pipe_ends_quietly)
{
	char *log = path_join(dir, "big.log"), *err;
	const char *iargv[] = { "--db", db, "index", "--quiet", log, NULL };
	const char *argv[] = { PFI_BIN, "--db", db, "search", "--format", "ndjson",
	                       NULL };
	FILE *fp = fopen(log, "w");
	int i;

	cr_assert_not_null(fp);
	for (i = 0; i < 5000; i++)
		fprintf(fp, "Nov  2 09:%02d:%02d mx1 postfix/smtpd[100]: NOQUEUE:"
		        " reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <u%d@x.example>:"
		        " Relay access denied; from=<s@y.example> to=<u%d@x.example>"
		        " proto=ESMTP helo=<h>\n", i / 60 % 60, i % 60, i, i);
	fclose(fp);
	cr_assert_eq(run_pfi(iargv, NULL, NULL, NULL), 0);
	cr_assert_eq(run_into_closed_pipe(argv, 1000, &err), 0, "%s", err);
	cr_assert_str_empty(err);
	free(err);
	free(log);
}

Test(cli, info_unparsed_lists_the_lines_pfi_did_not_understand)
{
	const char *argv[] = { "--db", db, "info", "--unparsed", "--format",
		"ndjson", NULL };
	char *out, *p;
	int n = 0;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, NULL), 0);
	for (p = out; (p = strchr(p, '\n')) != NULL; p++)
		n++;
	cr_assert_eq(n, strtol(summary("unparsed_lines"), NULL, 10), "%s", out);
	cr_assert_not_null(strstr(out, "\"program\":\"postfix-new/teleport\""),
	                   "%s", out);
	cr_assert_not_null(strstr(out, "beamed 3 messages to orbit"), "%s", out);
	free(out);
}

Test(cli, prune_needs_a_valid_before_and_reports_what_went)
{
	const char *none[] = { "--db", db, "prune", NULL };
	const char *bad[] = { "--db", db, "prune", "--before", "soon", NULL };
	const char *ok[] = { "--db", db, "prune", "--before", "2026-11-02T09:30:00Z",
		"--json", NULL };
	char *out, *err;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(none, NULL, NULL, &err), 2);
	cr_assert_not_null(strstr(err, "--before"), "%s", err);
	free(err);
	cr_assert_eq(run_pfi(bad, NULL, NULL, &err), 2);
	cr_assert_not_null(strstr(err, "'soon'"), "%s", err);
	free(err);
	cr_assert_eq(run_pfi(ok, NULL, &out, NULL), 0);
	cr_assert_not_null(strstr(out, "\"messages\":"), "%s", out);
	cr_assert_not_null(strstr(out, "\"rejects\":"), "%s", out);
	cr_assert_not_null(strstr(out, "\"bytes_after\":"), "%s", out);
	free(out);
}

/* `pfi --db DB --json info` as "messages,deliveries,rejects". */
static void info_counts(char *buf, size_t size)
{
	const char *argv[] = { "--db", db, "--json", "info", NULL };
	char *out, *m, *d, *r;

	cr_assert_eq(run_pfi(argv, NULL, &out, NULL), 0);
	m = strstr(out, "\"messages\":");
	d = strstr(out, "\"deliveries\":");
	r = strstr(out, "\"rejects\":");
	cr_assert(m && d && r, "%s", out);
	snprintf(buf, size, "%ld,%ld,%ld", strtol(m + 11, NULL, 10),
	         strtol(d + 13, NULL, 10), strtol(r + 10, NULL, 10));
	free(out);
}

#define WOULD "would remove 49 messages, 76 deliveries (6 of them rejects) " \
	"and 0 raw log lines from an index of "
#define WOULD_JSON "{\"dry_run\":true,\"messages\":49,\"deliveries\":76," \
	"\"rejects\":6,\"lines\":0,\"bytes_before\":"
#define FUTURE "pfi: --before 2099-01-01T00:00:00Z is in the future, so " \
	"every finished message would go; add --force"

Test(cli, prune_dry_run_says_exactly_what_prune_then_removes)
{
	const char *dry[] = { "--db", db, "prune", "--dry-run", "--before",
	                      "2026-11-02T09:30:00Z", NULL };
	const char *dry_json[] = { "--db", db, "--json", "prune", "-n", "--before",
	                           "2026-11-02T09:30:00Z", NULL };
	const char *real[] = { "--db", db, "--json", "prune", "--before",
	                       "2026-11-02T09:30:00Z", NULL };
	char before[64], after[64], *out, *err, *real_out, *p;

	cr_assert_eq(index_sample(NULL), 0);
	info_counts(before, sizeof(before));
	cr_assert_str_eq(before, "72,105,6");
	cr_assert_eq(run_pfi(dry, NULL, &out, &err), 0, "%s", err);
	cr_assert_str_empty(err);
	cr_assert(strncmp(out, WOULD, sizeof(WOULD) - 1) == 0, "%s", out);
	cr_assert_not_null(strstr(out, " bytes; nothing was removed\n"), "%s", out);
	free(out);
	free(err);
	info_counts(after, sizeof(after));
	cr_assert_str_eq(after, before, "the dry run removed something");
	cr_assert_eq(run_pfi(dry_json, NULL, &out, NULL), 0);
	cr_assert(strncmp(out, WOULD_JSON, sizeof(WOULD_JSON) - 1) == 0, "%s",
	          out);
	cr_assert_not_null(strstr(out, "\"bytes_after\":null}"), "%s", out);
	/* the prune removes what the dry run said, and info shows it at once */
	cr_assert_eq(run_pfi(real, NULL, &real_out, NULL), 0);
	p = strstr(out, "\"messages\"");
	cr_assert_eq(strncmp(strstr(real_out, "\"messages\""), p,
	                     strstr(p, "\"bytes_before\"") - p), 0, "%s\n%s", out,
	             real_out);
	cr_assert(strncmp(real_out, "{\"dry_run\":false,", 17) == 0, "%s", real_out);
	info_counts(after, sizeof(after));
	cr_assert_str_eq(after, "23,29,0");
	free(out);
	free(real_out);
}

Test(cli, prune_into_the_future_needs_force)
{
	const char *argv[] = { "--db", db, "--utc", "prune", "--before",
	                       "2099-01-01", NULL, NULL };
	char counts[64], *out, *err;

	cr_assert_eq(index_sample(NULL), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 2, "%s", err);
	cr_assert_str_empty(out);
	cr_assert(strncmp(err, FUTURE, sizeof(FUTURE) - 1) == 0, "%s", err);
	free(out);
	free(err);
	info_counts(counts, sizeof(counts));
	cr_assert_str_eq(counts, "72,105,6");
	argv[6] = "--force";
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "%s", err);
	info_counts(counts, sizeof(counts));
	/* the two messages still queued stay */
	cr_assert_str_eq(counts, "2,2,0");
	free(out);
	free(err);
}

/* ---- hostile and damaged input ------------------------------------------------ */

/* Writes n bytes (NUL bytes allowed) to dir/name; returns the path. */
static char *write_log(const char *name, const char *bytes, size_t n)
{
	char *path = path_join(dir, name);
	FILE *fp = fopen(path, "wb");

	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(bytes, 1, n, fp), n);
	cr_assert_eq(fclose(fp), 0);
	return path;
}

/* The whole stdout of `pfi --db DB ARGS` and its length. */
static char *pfi_stdout(const char *args, size_t *len)
{
	char cmd[1024], *buf = malloc(1 << 16);
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "'%s' --db '%s' %s", PFI_BIN, db, args);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	*len = fread(buf, 1, 1 << 16, fp);
	cr_assert_eq(pclose(fp), 0, "%s", cmd);
	return buf;
}

Test(cli, a_nul_in_the_host_field_does_not_crash_the_index)
{
	static const char log[] =
		"Nov  2 13:33:16 mx1 postfix/smtpd[100]: 4jXVQ46kTGz8Z5X: client=a[1.2.3.4]\n"
		"Nov  2 13:33:17 mx1 postfix/smtpd[100]: connect from b[5.6.7.8]\n"
		"Nov  2 13:43:16 mx1\0 postfix/smtpd[200]: 4jXVQ46kTGz8Z5X: client=c[9.9.9.9]\n";
	char *path = write_log("x.log", log, sizeof(log) - 1);
	const char *argv[] = { "--db", db, "index", "--quiet", path, NULL };
	char *err;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 0, "stderr: %s", err);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages"), 1);
	cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"), 3,
	             "the damaged line is kept too");
	free(err);
	free(path);
}

Test(cli, a_line_holding_a_nul_is_kept_and_traced_byte_for_byte)
{
	static const char log[] =
		"Nov  2 13:33:16 mx1 postfix/smtpd[100]: 4F3A21C0B2: client=a[1.2.3.4]\n"
		"Nov  2 13:33:17 mx1 postfix/qmgr[101]: 4F3A21C0B2: from=<a\0b@x.org>, size=10, nrcpt=1 (queue active)\n";
	char *path = write_log("n.log", log, sizeof(log) - 1), *out, *field;
	const char *argv[] = { "--db", db, "index", "--quiet", path, NULL };
	const char *jargv[] = { "--db", db, "trace", "--json", "4F3A21C0B2", NULL };
	size_t len;

	cr_assert_eq(run_pfi(argv, NULL, NULL, NULL), 0);
	out = pfi_stdout("trace --raw 4F3A21C0B2", &len);
	cr_assert_eq(len, sizeof(log) - 1, "%zu bytes", len);
	cr_assert_eq(memcmp(out, log, len), 0);
	free(out);
	/* The sender field shows the NUL as '?', as Postfix shows what it
	 * cannot print, instead of ending at it. */
	cr_assert_eq(run_pfi(jargv, NULL, &out, NULL), 0);
	field = strstr(out, "\"from\":");
	cr_assert_not_null(field, "%s", out);
	cr_assert_not_null(strstr(field, "a?b@x.org"), "%s", out);
	/* The raw line in the document keeps it, as \u0000. */
	cr_assert_not_null(strstr(out, "from=<a\\u0000b@x.org>"), "%s", out);
	free(out);
	free(path);
}

Test(cli, a_file_that_is_mostly_not_syslog_is_indexed_with_a_warning)
{
	char junk[4096], *path, *err;
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (char)((i * 7919) % 251 == '\n' ? 0 : (i * 7919) % 251);
	for (i = 63; i < sizeof(junk); i += 64)
		junk[i] = '\n';
	path = write_log("junk.bin", junk, sizeof(junk));
	const char *argv[] = { "--db", db, "index", path, NULL };
	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 0, "%s", err);
	cr_assert_not_null(strstr(err, "junk.bin': 64 of 64 lines are not"
	                          " syslog lines"), "%s", err);
	cr_assert_not_null(strstr(err, "64 not syslog"), "%s", err);
	free(err);
	free(path);
}

Test(cli, info_unparsed_shows_a_nul_in_a_line_instead_of_ending_there)
{
	static const char log[] =
		"Nov  2 13:33:17 mx1 postfix/qmgr[101]: weird \0 thing\n";
	char *path = write_log("u.log", log, sizeof(log) - 1), *out;
	const char *argv[] = { "--db", db, "index", "--quiet", path, NULL };
	const char *iargv[] = { "--db", db, "info", "--unparsed", "--format",
	                        "ndjson", NULL };

	cr_assert_eq(run_pfi(argv, NULL, NULL, NULL), 0);
	cr_assert_eq(run_pfi(iargv, NULL, &out, NULL), 0);
	cr_assert_not_null(strstr(out, "weird \\u0000 thing"), "%s", out);
	free(out);
	free(path);
}

Test(cli, a_line_repeated_two_billion_times_is_indexed_at_once)
{
	/* rsyslog's "message repeated N times" says N, and so can a forger:
	 * feeding one event 2^31 times took 90 s (fuzz_correlate). */
	static const char log[] =
		"Nov  2 13:33:16 mx1 postfix/smtp[1]: message repeated 2147483647 times: [ 4F3A21C0B2: to=<a@example.org>, relay=none, delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred (connect to example.org[192.0.2.9]:25: Connection refused)]\n";
	char *path = write_log("rep.log", log, sizeof(log) - 1);
	const char *argv[] = { "--db", db, "index", "--quiet", path, NULL };

	cr_assert_eq(run_pfi(argv, NULL, NULL, NULL), 0);
	cr_assert_gt(db_int(db, "SELECT attempts FROM deliveries"), 0);
	free(path);
}
