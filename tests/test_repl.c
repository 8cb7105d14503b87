/*
 * test_repl.c - pfi repl as scripts and people meet it.  Through piped
 * standard input: every command gives the output of `pfi CMD`, the exit
 * status is the last command's, settings, numbered rows and `trace #N`,
 * and `sql` that no statement can make write.  On a real terminal (a
 * tmux pane): Tab completion, history kept across restarts with private
 * modes, Ctrl-C stopping a long query without ending the shell, Ctrl-D,
 * the pager, and plain `pfi` opening the shell.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define SAMPLE_MTIME 1793664000   /* 2026-11-03, after the sample's last line */

static const char *dir;
static char *db, *log_path;

static void setup(void)
{
	char *err = NULL;
	const char *argv[5];

	dir = tmpdir_make();
	db = path_join(dir, "index.db");
	log_path = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	setenv("TZ", "UTC", 1);
	setenv("PFI_DB", db, 1);
	setenv("NO_COLOR", "1", 1);
	unsetenv("PFI_PAGER");
	argv[0] = "index";
	argv[1] = "--quiet";
	argv[2] = log_path;
	argv[3] = NULL;
	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 0, "index: %s", err);
	free(err);
}

static void teardown(void)
{
	term_stop();   /* a failed assertion skipped the test's own */
	free(db);
	free(log_path);
	tmpdir_cleanup();
}

TestSuite(repl, .init = setup, .fini = teardown);

/* Runs `pfi repl` with `script` on its standard input. */
static int repl(const char *script, char **out, char **err)
{
	static const char *const argv[] = { "repl", NULL };
	char *in = path_join(dir, "script");
	FILE *fp = fopen(in, "w");
	int rc;

	cr_assert_not_null(fp);
	fputs(script, fp);
	fclose(fp);
	rc = run_pfi(argv, in, out, err);
	free(in);
	return rc;
}

/* The standard output of `pfi WORDS` (split at blanks), asserting rc. */
static char *pfi_stdout(const char *words, int want_rc)
{
	char *copy = strdup(words), *argv[32], *out = NULL, *err = NULL, *w;
	int n = 0, rc;

	for (w = strtok(copy, " "); w != NULL && n < 31; w = strtok(NULL, " "))
		argv[n++] = w;
	argv[n] = NULL;
	rc = run_pfi((const char *const *)argv, NULL, &out, &err);
	cr_assert_eq(rc, want_rc, "pfi %s: exit %d: %s", words, rc, err);
	free(err);
	free(copy);
	return out;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* ---- piped standard input ------------------------------------------------ */

/* What the REPL and pfi both print the same (search tables differ: the
 * REPL numbers their rows). */
static const char *const same_lines[] = {
	"trace 4CA0B116224", "trace --raw BA3622A0F53",
	"search --format json --status deferred",
	"search --domain example.com --format csv", "search --count",
	"info --format json", "info --unparsed",
	"stats --since 2026-11-01 --until 2026-11-03 --format json",
	"stats --since 2026-11-01 --until 2026-11-03 --by domain",
	"help search", "index --help", "search --limit 2 --format ndjson --utc",
};

Test(repl, every_command_prints_what_pfi_cmd_prints)
{
	char script[4096] = "", *want = calloc(1, 1), *out, *err;
	size_t i;

	for (i = 0; i < sizeof(same_lines) / sizeof(same_lines[0]); i++) {
		char *one = pfi_stdout(same_lines[i], 0);

		strcat(script, same_lines[i]);
		strcat(script, "\n");
		want = realloc(want, strlen(want) + strlen(one) + 1);
		strcat(want, one);
		free(one);
	}
	strcat(script, "metrics --top 5\n");
	cr_assert_eq(repl(script, &out, &err), 0, "stderr: %s", err);
	cr_assert_str_empty(err);
	/* metrics differ in how long they took to render: the rest is equal */
	cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
	cr_assert_not_null(strstr(out + strlen(want), "\npfi_recipients_total{"));
	free(want);
	free(out);
	free(err);
}

Test(repl, each_line_alone_prints_exactly_what_pfi_prints)
{
	for (size_t i = 0; i < sizeof(same_lines) / sizeof(same_lines[0]); i++) {
		char script[256], *want = pfi_stdout(same_lines[i], 0), *out, *err;

		snprintf(script, sizeof(script), "%s\n", same_lines[i]);
		cr_assert_eq(repl(script, &out, &err), 0, "%s: %s", same_lines[i],
		             err);
		cr_expect_str_eq(out, want, "'%s' differs in the REPL",
		                 same_lines[i]);
		free(want);
		free(out);
		free(err);
	}
}

Test(repl, index_runs_inside_and_later_lines_see_what_it_wrote)
{
	char *fresh = path_join(dir, "new.db"), *in = path_join(dir, "script2");
	const char *argv[] = { "--db", fresh, "repl", NULL };
	char *out, *err;
	FILE *fp = fopen(in, "w");

	cr_assert_not_null(fp);
	fprintf(fp, "search --count\nindex --quiet %s\ninfo --format json\n"
	        "search --count\n", log_path);
	fclose(fp);
	cr_assert_eq(run_pfi(argv, in, &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(err, "no index at"), "%s", err);
	cr_assert_not_null(strstr(out, "\"messages\":"), "%s", out);
	cr_assert_not_null(strstr(out, "\n105\n"), "%s", out);
	free(in), free(fresh), free(out), free(err);
}

Test(repl, the_exit_status_is_that_of_the_last_command)
{
	char *out, *err;

	cr_assert_eq(repl("info\ntrace NOSUCHID\n", &out, &err), 1, "%s", err);
	free(out), free(err);
	cr_assert_eq(repl("trace NOSUCHID\ninfo\n", &out, &err), 0, "%s", err);
	free(out), free(err);
	cr_assert_eq(repl("info\nsearch --bogus\n", &out, &err), 2);
	free(out), free(err);
	cr_assert_eq(repl("", &out, &err), 0);
	cr_assert_str_empty(out);
	free(out), free(err);
	/* quit ends the script there, with its own status */
	cr_assert_eq(repl("trace NOSUCHID\nsearch --count\nquit\n"
	                  "search --count\ntrace NOSUCHID\n", &out, &err), 0);
	cr_assert_str_eq(out, "105\n");
	free(out), free(err);
}

Test(repl, an_error_is_reported_and_the_next_line_runs)
{
	char *out, *err;

	cr_assert_eq(repl("bogus\nserch\nsearch --doman x\nsearch --count\n",
	                  &out, &err), 0);
	cr_assert_str_eq(out, "105\n");
	cr_assert_not_null(strstr(err, "pfi: 'bogus' is not a command"), "%s", err);
	cr_assert_not_null(strstr(err, "did you mean '--domain'?"), "%s", err);
	/* One line per error: the hint is on it. */
	cr_assert_not_null(strstr(err, "did you mean '--domain'?); see 'help"
	                                " search'\n"), "%s", err);
	cr_assert_not_null(strstr(err, "pfi: 'serch' is not a command (did you"
	                                " mean 'search'?); see 'help'\n"), "%s",
	                   err);
	cr_assert_eq(count_lines(err), 3, "three errors, three lines:\n%s", err);
	cr_assert_null(strstr(err, "Try "), "%s", err);
	cr_assert_null(strstr(out, "pfi>"), "a prompt without a terminal");
	free(out), free(err);
}

Test(repl, search_rows_are_numbered_and_trace_hash_n_takes_row_n)
{
	char *out, *err, *want, *row2, qid[32];

	cr_assert_eq(repl("search --limit 3\ntrace #2\n", &out, &err), 0, "%s",
	             err);
	cr_assert(strncmp(out, "#  time", 7) == 0, "%s", out);
	row2 = strstr(out, "\n2  ");
	cr_assert_not_null(row2, "%s", out);
	/* the queue ID is the 4th column of row 2 */
	cr_assert_eq(sscanf(row2, "\n2 %*s %*s %31s", qid), 1);
	{
		char words[64];

		snprintf(words, sizeof(words), "trace %s", qid);
		want = pfi_stdout(words, 0);
	}
	cr_assert_not_null(strstr(out, want), "trace #2 is not trace %s:\n%s",
	                   qid, out);
	free(want), free(out), free(err);
	/* raw #2: the log lines alone, as trace --raw gives them */
	cr_assert_eq(repl("search --limit 3\nraw #2\n", &out, &err), 0, "%s",
	             err);
	{
		char words[64];

		snprintf(words, sizeof(words), "trace --raw %s", qid);
		want = pfi_stdout(words, 0);
	}
	cr_assert(strlen(out) > strlen(want) &&
	          strcmp(out + strlen(out) - strlen(want), want) == 0,
	          "raw #2 is not trace --raw %s:\n%s", qid, out);
	free(want), free(out), free(err);
	cr_assert_eq(repl("search --limit 3\nraw #9\n", &out, &err), 2);
	cr_assert_not_null(strstr(err, "no row #9"), "%s", err);
	free(out), free(err);
}

Test(repl, a_search_without_rows_leaves_no_row_for_trace_hash_n)
{
	static const char *const empty[] = {
		"search --domain nosuch.example", "search --count",
	};
	char script[256], *out, *err;

	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		snprintf(script, sizeof(script), "search --limit 3\n%s\ntrace #1\n",
		         empty[i]);
		cr_expect_eq(repl(script, &out, &err), 2, "after '%s': %s",
		             empty[i], out);
		cr_expect_not_null(strstr(err, "no row #1 in the last result"
		                                " (0 rows)"), "after '%s': %s",
		                   empty[i], err);
		free(out), free(err);
	}
}

Test(repl, settings_apply_to_later_lines_until_unset)
{
	char *out, *err, *want;

	want = pfi_stdout("search --since 2026-11-02T10:10 --format json", 0);
	cr_assert_eq(repl("set format json\nset since 2026-11-02T10:10\n"
	                  "search\n", &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, want);
	free(out), free(err), free(want);

	want = pfi_stdout("search --domain dead.example --count", 0);
	cr_assert_eq(repl("set domain example.com\n"
	                  "search --domain dead.example --count\n", &out, &err),
	             0, "%s", err);
	cr_assert_str_eq(out, want, "a filter on the line wins");
	free(out), free(err), free(want);

	cr_assert_eq(repl("set since 2026-11-02T10:10\nunset since\n"
	                  "search --count\nset utc on\nshow settings\n"
	                  "search --limit 1 --format ndjson\n", &out, &err), 0);
	cr_assert(strncmp(out, "105\n", 4) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "utc            on"), "%s", out);
	cr_assert_null(strstr(out, "since"), "%s", out);
	cr_assert_not_null(strstr(out, "Z\",\"host\""), "%s", out);
	free(out), free(err);

	cr_assert_eq(repl("set since someday\n", &out, &err), 2);
	cr_assert_not_null(strstr(err, "invalid time 'someday'"), "%s", err);
	free(out), free(err);

	/* a value outside an option's fixed set is refused by set itself */
	cr_assert_eq(repl("set status bouncd\nset verdict dkim=zz\n"
	                  "search --count\n", &out, &err), 0, "%s", err);
	cr_assert_str_eq(out, "105\n");
	cr_assert_not_null(strstr(err, "'bouncd' is not a value of --status"),
	                   "%s", err);
	cr_assert_not_null(strstr(err, "'dkim=zz' is not a value of --verdict"),
	                   "%s", err);
	free(out), free(err);
}

Test(repl, words_are_split_like_a_shell_splits_them)
{
	char *out, *err, *want = pfi_stdout("search --from frank@example.org --count",
	                                 0);

	cr_assert_eq(repl("search --from 'frank@example.org' --count\n"
	                  "search --from \"frank@example.org\" --count\n"
	                  "search --from frank\\@example.org --count\n"
	                  "# a comment\n", &out, &err), 0, "%s", err);
	cr_assert_eq(strlen(out), 3 * strlen(want), "%s", out);
	free(out), free(err);
	cr_assert_eq(repl("search --from 'x\n", &out, &err), 2);
	cr_assert_not_null(strstr(err, "unterminated quote"), "%s", err);
	free(out), free(err), free(want);
}

Test(repl, a_script_keeps_no_history)
{
	char *hist = path_join(dir, "state/history"), *xdg = path_join(dir,
	                                                               "xdg");
	char *out, *err;

	setenv("PFI_HISTFILE", hist, 1);
	cr_assert_eq(repl("search --count\n", &out, &err), 0, "%s", err);
	free(out), free(err);
	unsetenv("PFI_HISTFILE");
	setenv("XDG_STATE_HOME", xdg, 1);
	cr_assert_eq(repl("search --count\n", &out, &err), 0, "%s", err);
	free(out), free(err);
	unsetenv("XDG_STATE_HOME");
	cr_expect_eq(access(hist, F_OK), -1, "%s was written", hist);
	cr_expect_eq(access(xdg, F_OK), -1, "%s was made", xdg);
	free(hist), free(xdg);
}

Test(repl, ctrl_c_ends_a_script_as_it_ends_pfi_cmd)
{
	struct timespec tick = { 0, 100 * 1000000L };
	int in[2], out[2], status = 0, i;
	char answer[8] = "";
	pid_t pid;

	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		execl(PFI_BIN, "pfi", "repl", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	/* a script that is not over: once it has answered its first line,
	 * the shell waits for the next one */
	cr_assert_eq(write(in[1], "search --count\n", 15), 15);
	cr_assert_eq(read(out[0], answer, 4), 4);
	cr_assert_str_eq(answer, "105\n");
	nanosleep(&tick, NULL);
	kill(pid, SIGINT);
	for (i = 0; i < 50 && waitpid(pid, &status, WNOHANG) == 0; i++)
		nanosleep(&tick, NULL);
	if (i == 50) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	close(in[1]);
	close(out[0]);
	cr_assert(i < 50, "Ctrl-C did not end the script");
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT,
	          "status %d", status);
}

Test(repl, the_shells_complete_values_from_the_index_as_tab_does)
{
	/* bash, zsh and fish ask `pfi __complete`: the words after "pfi" */
	static const struct { const char *w[7], *want; } cases[] = {
		{ { "__complete", "search", "--domain", "ex", NULL },
		  "example.com\nexample.org\n" },
		{ { "__complete", "search", "--host", "m", NULL }, "mx1\nmx2\n" },
		{ { "__complete", "trace", "4CA", NULL }, "4CA0B116224\n" },
		{ { "__complete", "search", "--from=frank@", NULL },
		  "--from=frank@example.org\n" },
		{ { "__complete", "--db", "/nonexistent/x.db", "search", "--host",
		    "m", NULL }, "" },
	};
	char *out, *err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(run_pfi(cases[i].w, NULL, &out, &err), 0, "%s", err);
		cr_expect_str_eq(out, cases[i].want, "case %zu", i);
		free(out), free(err);
	}
}

/* ---- sql --------------------------------------------------------------- */

/* What could show a change: the index file's bytes. */
static char *index_bytes(size_t *n)
{
	char *data = slurp(db, n);

	cr_assert_not_null(data);
	return data;
}

Test(repl, sql_reads_the_views_and_counts_what_info_counts)
{
	char *out, *err;

	cr_assert_eq(repl("sql SELECT count(*) AS n FROM pfi_messages\n"
	                  "sql SELECT status, count(*) AS n FROM pfi_deliveries"
	                  " GROUP BY status ORDER BY status; SELECT 1 AS one\n",
	                  &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "n\n"), "%s", out);
	cr_assert_not_null(strstr(out, "deferred"), "%s", out);
	cr_assert_not_null(strstr(out, "one\n  1\n"), "%s", out);
	free(out), free(err);
}

Test(repl, sql_can_change_nothing_by_any_statement)
{
	static const char *const writes[] = {
		"DELETE FROM messages",
		"DELETE FROM pfi_messages",
		"UPDATE deliveries SET status = 'sent'",
		"INSERT INTO files(path, fp_hash, fp_len, offset, lines)"
		" VALUES ('x', 1, 1, 1, 1)",
		"REPLACE INTO messages(id, host, queue_id, open, flags)"
		" VALUES (1, 'h', 'q', 0, 0)",
		"WITH x AS (SELECT 1) DELETE FROM deliveries",
		"DROP TABLE messages",
		"DROP VIEW pfi_messages",
		"DROP INDEX messages_queue_id",
		"ALTER TABLE messages ADD COLUMN evil TEXT",
		"ALTER TABLE messages RENAME TO m2",
		"CREATE TABLE evil(x)",
		"CREATE TEMP TABLE evil(x)",
		"CREATE TEMP VIEW evil AS SELECT 1",
		"CREATE INDEX evil ON messages(host)",
		"CREATE TRIGGER evil AFTER INSERT ON files BEGIN"
		" DELETE FROM messages; END",
		"CREATE VIRTUAL TABLE evil USING fts5(x)",
		"ATTACH 'evil.db' AS evil",
		"ATTACH ':memory:' AS evil",
		"DETACH main",
		"PRAGMA user_version = 99",
		"PRAGMA application_id = 1",
		"PRAGMA journal_mode = delete",
		"PRAGMA writable_schema = 1",
		"PRAGMA optimize",
		"PRAGMA wal_checkpoint(TRUNCATE)",
		"PRAGMA incremental_vacuum",
		"PRAGMA shrink_memory",
		"VACUUM",
		"VACUUM INTO 'evil-copy.db'",
		"REINDEX",
		"ANALYZE",
		"BEGIN IMMEDIATE",
		"SAVEPOINT evil",
		"SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')",
		"SELECT 1; DELETE FROM messages",
	};
	size_t before_n, after_n, i;
	char *before = index_bytes(&before_n), *after, line[512], *out, *err;
	int64_t msgs = db_int(db, "SELECT count(*) FROM messages");

	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		snprintf(line, sizeof(line), "sql %s\n", writes[i]);
		cr_expect_eq(repl(line, &out, &err), 2, "'%s' was not refused: %s%s",
		             writes[i], out, err);
		cr_expect(strstr(err, "pfi: ") == err, "'%s': %s", writes[i], err);
		free(out), free(err);
	}
	after = index_bytes(&after_n);
	cr_assert_eq(after_n, before_n, "the index changed size");
	cr_assert(memcmp(before, after, before_n) == 0, "the index changed");
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages"), msgs);
	cr_assert_eq(access("evil-copy.db", F_OK), -1, "VACUUM INTO wrote");
	cr_assert_eq(access("evil.db", F_OK), -1, "ATTACH made a file");
	free(before), free(after);
}

Test(repl, only_an_explicit_index_changes_the_index)
{
	size_t before_n, after_n;
	char *before = index_bytes(&before_n), *after, *out, *err;

	cr_expect_eq(repl("prune --before 2099-01-01 --force\n", &out, &err), 2);
	cr_expect_not_null(strstr(err, "'prune' changes the index"), "%s", err);
	cr_expect_eq(strchr(err, '\n'), err + strlen(err) - 1, "one line: %s",
	             err);
	free(out), free(err);
	after = index_bytes(&after_n);
	cr_assert_eq(after_n, before_n, "the index changed size");
	cr_assert(memcmp(before, after, before_n) == 0, "the index changed");
	free(before), free(after);
}

/* The column names of a view, one a line, from the REPL itself. */
static __attribute__((noinline)) char *view_columns(const char *view)
{
	char script[256], *out, *err;

	snprintf(script, sizeof(script), "set format csv\n"
	         "sql PRAGMA table_info(%s)\n", view);
	cr_assert_eq(repl(script, &out, &err), 0, "%s: %s", view, err);
	free(err);
	return out;
}

Test(repl, help_sql_documents_every_column_of_every_view)
{
	static const char *const views[] = {
		"pfi_messages", "pfi_deliveries", "pfi_rejects", "pfi_files"
	};
	char *help, *err, *cols, *p, *nl;

	cr_assert_eq(repl("help sql\n", &help, &err), 0);
	for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
		cr_assert_not_null(strstr(help, views[v]), "%s", views[v]);
		cols = view_columns(views[v]);
		p = strchr(cols, '\n');   /* after the header "cid,name,..." */
		cr_assert_not_null(p);
		for (p++; *p != '\0'; p = nl + 1) {
			char word[64];

			nl = strchr(p, '\n');
			cr_assert_not_null(nl);
			cr_assert_eq(sscanf(p, "%*d,%63[^,]", word), 1, "%s", p);
			cr_expect(strstr(help, word) != NULL,
			          "'help sql' does not document %s.%s", views[v], word);
		}
		free(cols);
	}
	free(help), free(err);
}

Test(repl, its_own_commands_are_in_its_man_page)
{
	char *out, *err, *page, *p, path[4096], entry[80];

	snprintf(path, sizeof(path), "%s/man/pfi-repl.1", SRCDIR);
	page = slurp(path, NULL);
	cr_assert_not_null(page);
	cr_assert_eq(repl("help\n", &out, &err), 0);
	for (p = strstr(out, "\n  "); p != NULL; p = strstr(p + 1, "\n  ")) {
		char name[32];

		if (sscanf(p, "\n  %31s", name) != 1)
			continue;
		snprintf(entry, sizeof(entry), ".It Cm %s", name);
		if (strstr("index trace search info stats prune metrics help", name))
			continue;
		cr_expect_not_null(strstr(page, entry),
		                   "man/pfi-repl.1 does not document '%s'", name);
	}
	free(out), free(err), free(page);
}

/* ---- on a terminal: a tmux pane ------------------------------------------ */

/* A 150x40 pane running `script` (with $PFI, $DB and $DIR): repl_term()
 * of helpers.c. */
static void repl_term(const char *script, const char *ready)
{
	term_start(dir, db, 150, script, ready);
}

Test(repl, tab_completes_commands_options_values_and_index_values)
{
	repl_term("\"$PFI\" repl", "pfi>");
	term_keys("'sea' Tab");
	cr_expect(term_wait("pfi> search"));
	term_keys("'--dom' Tab");
	cr_expect(term_wait("pfi> search --domain"));
	term_keys("'ex' Tab Tab Tab");
	cr_expect(term_wait("example.org"));
	cr_expect(term_wait("example.com"));
	term_keys("'com --sta' Tab 'sent,bo' Tab");
	cr_expect(term_wait("--domain example.com --status sent,bounced"));
	term_keys("C-u 'trace 4C' Tab");
	cr_expect(term_wait("pfi> trace 4CA0B116224"));
	term_keys("C-u 'stats --by sender-' Tab");
	cr_expect(term_wait("pfi> stats --by sender-domain"));
	term_keys("C-u 'set for' Tab 'nd' Tab");
	cr_expect(term_wait("pfi> set format ndjson"));
	term_keys("C-u 'search --host m' Tab Tab Tab");
	cr_expect(term_wait("mx1"));
	cr_expect(term_wait("mx2"));
	term_stop();
}

Test(repl, history_is_kept_across_restarts_in_private_files)
{
	char *hist = path_join(dir, "state/deep/history"), *sub;
	char script[4096];
	struct stat sb;

	snprintf(script, sizeof(script), "PFI_HISTFILE='%s' \"$PFI\" repl; "
	         "echo \"EXIT=$?\"; PFI_HISTFILE='%s' \"$PFI\" repl", hist, hist);
	repl_term(script, "pfi>");
	term_keys("'search --count' Enter");
	cr_assert(term_wait("105"));
	term_keys("'quit' Enter");
	cr_assert(term_wait("EXIT=0"));
	cr_assert_eq(stat(hist, &sb), 0, "no history file");
	cr_expect_eq(sb.st_mode & 0777, 0600, "history mode %o", sb.st_mode & 0777);
	sub = path_join(dir, "state/deep");
	cr_assert_eq(stat(sub, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0700, "directory mode %o",
	             sb.st_mode & 0777);
	cr_assert(term_wait("EXIT=0\npfi>"));
	term_keys("Up");
	cr_expect(term_wait("EXIT=0\npfi> quit"));
	term_keys("C-u C-r 'sea'");
	cr_expect(term_wait("`sea': search --count"));
	term_stop();
	free(hist), free(sub);
}

Test(repl, history_defaults_to_xdg_state_home)
{
	char *xdg = path_join(dir, "xdg"), *hist = path_join(dir,
	                                                     "xdg/pfi/history");
	char script[4096];
	struct stat sb;

	snprintf(script, sizeof(script), "unset PFI_HISTFILE; "
	         "XDG_STATE_HOME='%s' \"$PFI\" repl", xdg);
	repl_term(script, "pfi>");
	term_keys("'info' Enter");
	cr_assert(term_wait("messages:"));
	term_keys("C-d");
	cr_assert(term_wait("EXIT=0"));
	cr_assert_eq(stat(hist, &sb), 0, "no %s", hist);
	cr_expect_eq(sb.st_mode & 0777, 0600);
	free(xdg), free(hist);
	term_stop();
}

Test(repl, ctrl_c_stops_a_long_query_and_the_shell_goes_on)
{
	struct timespec wait = { 0, 500 * 1000000L };

	repl_term("\"$PFI\" repl", "pfi>");
	term_keys("'sql WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1"
	          " FROM c) SELECT count(*) AS n FROM c' Enter");
	nanosleep(&wait, NULL);
	term_keys("C-c");
	cr_assert(term_wait("interrupted"));
	term_keys("'search --count' Enter");
	cr_assert(term_wait("105"));
	/* on the prompt, Ctrl-C drops the line being typed */
	term_keys("'garbage' C-c 'info' Enter");
	cr_assert(term_wait("messages:"));
	{
		char *screen = term_screen();

		cr_expect_null(strstr(screen, "not a command"), "%s", screen);
		cr_expect_null(strstr(screen, "EXIT="), "the shell ended:\n%s",
		               screen);
		free(screen);
	}
	term_stop();
}

/* Milliseconds `pfi ARGV` takes (it must exit 0). */
static long pfi_ms(const char *const *argv)
{
	struct timespec t0, t1;
	char *out, *err;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = run_pfi(argv, NULL, &out, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(rc, 0, "%s", err);
	free(out), free(err);
	return (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
}

/*
 * Makes `pfi ARGV` take at least ms milliseconds on this machine, however
 * fast it is: doubles the deliveries of the index (copies of its rows,
 * which a scan must read all the same) until it does.
 */
static void make_slow(const char *const *argv, long ms)
{
	static const char cols[] = "message, host, queue_id, time, recipient,"
		" orig_to, domain, status, dsn, relay, delay, d_before, d_in, d_conn,"
		" d_xmit, attempts, final, response, child_qid, stage, code, client,"
		" client_ip, helo, sender, line, tls_protocol";
	char sql[1024], *msg = NULL;
	sqlite3 *h;
	int i;

	snprintf(sql, sizeof(sql), "INSERT INTO deliveries(%s) SELECT %s FROM"
	         " deliveries", cols, cols);
	cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
	for (i = 0; i < 16 && pfi_ms(argv) < ms; i++)
		cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, &msg), SQLITE_OK,
		             "%s", msg);
	sqlite3_close(h);
	cr_assert_lt(i, 16, "'pfi %s' stays quicker than %ld ms", argv[0], ms);
}

Test(repl, ctrl_c_stops_a_long_stats_and_the_shell_goes_on)
{
	static const char *const slow[] = {
		"stats", "--client", "10.9.9.0/24", "--format", "json", NULL
	};
	struct timespec wait = { 0, 300 * 1000000L };
	char *screen;

	make_slow(slow, 2000);
	repl_term("\"$PFI\" repl", "pfi>");
	term_keys("'stats --client 10.9.9.0/24 --format json' Enter");
	nanosleep(&wait, NULL);
	term_keys("C-c");
	cr_assert(term_wait("interrupted"));
	term_keys("'info --format json' Enter");
	cr_assert(term_wait("\"messages\":"));
	screen = term_screen();
	/* stopped inside the query: it printed no answer, only its error */
	cr_expect_null(strstr(screen, "{\"since\""), "stats ran to its end:\n%s",
	               screen);
	cr_expect_not_null(strstr(screen, "pfi: "), "%s", screen);
	cr_expect_null(strstr(screen, "EXIT="), "the shell ended:\n%s", screen);
	free(screen);
	term_stop();
}

Test(repl, long_answers_go_through_the_pager_on_a_terminal)
{
	char *paged = path_join(dir, "paged"), script[4096], *text;

	snprintf(script, sizeof(script), "PFI_PAGER='cat > %s' \"$PFI\" search"
	         " --limit 3; PFI_PAGER='cat >> %s' \"$PFI\" repl", paged, paged);
	repl_term(script, "pfi>");
	text = slurp(paged, NULL);
	cr_assert_not_null(text, "pfi search did not page");
	cr_expect_not_null(strstr(text, "queue_id"), "%s", text);
	free(text);
	/* the REPL pages an answer longer than the screen once it is whole */
	term_keys("'search' Enter 'search --limit 2 --format csv' Enter");
	cr_assert(term_wait("message_id,from,to"));
	term_keys("'search --no-pager --count' Enter");
	cr_assert(term_wait("\n105"));
	text = slurp(paged, NULL);
	cr_expect_not_null(strstr(text, "#  time"), "the REPL did not page:\n%s",
	                   text);
	cr_expect_null(strstr(text, "message_id,from,to"), "a short answer "
	               "was paged");
	cr_expect_null(strstr(text, "\n105\n"), "--no-pager paged");
	free(text);
	term_stop();
	/* the default, less -FRSX, prints a short answer and returns */
	repl_term("\"$PFI\" search --limit 1; \"$PFI\" repl", "pfi>");
	text = term_screen();
	cr_expect_not_null(strstr(text, "queue_id"), "%s", text);
	free(text);
	term_stop();
	free(paged);
}

Test(repl, plain_pfi_on_a_terminal_opens_the_shell)
{
	repl_term("\"$PFI\"", "pfi>");
	term_keys("'search --count' Enter");
	cr_assert(term_wait("105"));
	/* on a terminal the exit status is 0, whatever the last line did */
	term_keys("'trace NOSUCHID' Enter");
	cr_assert(term_wait("no message matches"));
	term_keys("C-d");
	cr_assert(term_wait("EXIT=0"));
	term_stop();
}
