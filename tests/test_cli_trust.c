/*
 * test_cli_trust.c - what the pfi command says of an index it refuses
 * (one that holds what pfi did not create, or that others may write) and
 * of one a first `pfi index` run is writing or left behind when killed:
 * exit 3 and one line on stderr, or the index as before.  Like the rest
 * of the CLI suite (test_cli.c) it runs the built pfi only, indexes
 * included; the trust rules themselves are test_trust.c's, through the
 * library.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
}

static void teardown(void)
{
	free(db);
	tmpdir_cleanup();
}

/* A killed first run waits up to a minute for the run to write. */
TestSuite(cli_trust, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(120));

/* A new, empty index at db, made by pfi indexing an empty log. */
static void new_index(void)
{
	char *log = path_join(dir, "empty.log"), *err = NULL;
	FILE *fp = fopen(log, "w");

	cr_assert_not_null(fp);
	cr_assert_eq(fclose(fp), 0);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	cr_assert_str_empty(err);
	free(err);
	free(log);
}

struct plant {
	char sql[160];   /* run on a real pfi index */
	char want[64];   /* in the message */
};

ParameterizedTestParameters(cli_trust, an_index_holding_what_pfi_did_not_create_fails_with_one_line)
{
	static struct plant plants[] = {
		{ "CREATE TRIGGER t AFTER INSERT ON messages BEGIN"
		  " DELETE FROM files; END", "a trigger 't' that pfi did not create" },
		{ "CREATE VIEW v AS SELECT * FROM deliveries",
		  "a view 'v' that pfi did not create" },
		{ "CREATE TABLE extra(x)", "a table 'extra' that pfi did not create" },
		{ "CREATE INDEX extra_i ON messages(sender)",
		  "an index 'extra_i' that pfi did not create" },
		/* A name pfi uses, on another table. */
		{ "DROP INDEX messages_open; CREATE INDEX messages_open ON"
		  " deliveries(status)", "an index 'messages_open'" },
		/* The name's escape sequence does not reach the terminal. */
		{ "CREATE TABLE \"x\x1b[2J\"(y)", "a table 'x?[2J'" },
	};

	return cr_make_param_array(struct plant, plants,
	                           sizeof(plants) / sizeof(plants[0]));
}

ParameterizedTest(struct plant *p, cli_trust,
                  an_index_holding_what_pfi_did_not_create_fails_with_one_line)
{
	const char *argv[] = { "--db", db, "info", NULL };
	char *out = NULL, *err = NULL;
	sqlite3 *raw;

	new_index();
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, p->sql, NULL, NULL, NULL), SQLITE_OK,
	             "%s", sqlite3_errmsg(raw));
	sqlite3_close(raw);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 3, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_eq(strncmp(err, "pfi: refusing index '", 21), 0, "%s", err);
	cr_assert_not_null(strstr(err, p->want), "%s", err);
	cr_assert_null(strchr(err, '\033'), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s",
	             err);
	free(out);
	free(err);
}

Test(cli_trust, an_index_others_may_write_fails_with_exit_3_and_one_line)
{
	const char *argv[] = { "--db", db, "search", "--to", "x@example.com", NULL };
	char *out = NULL, *err = NULL;

	new_index();
	cr_assert_eq(chmod(db, 0666), 0);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 3, "%s", err);
	cr_assert_str_empty(out);
	cr_assert_not_null(strstr(err, "pfi: refusing index '"), "%s", err);
	cr_assert_not_null(strstr(err, "index.db': writable by others\n"), "%s", err);
	cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "not one line: %s",
	             err);
	free(out);
	free(err);
}

/* What `pfi info` said while the first run was writing. */
struct busy {
	int rc;
	char *err;
};

static void info_while_busy(const char *path, void *ctx)
{
	const char *info[] = { "--db", path, "info", NULL };
	struct busy *b = ctx;

	b->rc = run_pfi(info, NULL, NULL, &b->err);
}

Test(cli_trust, queries_after_a_killed_first_run_see_the_index_as_before)
{
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	const char *info[] = { "--db", db, "--json", "info", NULL };
	const char *search[] = { "--db", db, "search", NULL };
	struct busy b = { -1, NULL };
	char *out = NULL, *err = NULL;

	kill_first_run(db, pfi_first_run, info_while_busy, &b);
	/* Alive, the run kept readers out and said so, in one line. */
	cr_assert_eq(b.rc, 3, "info: %d, %s", b.rc, b.err);
	cr_assert_not_null(strstr(b.err, "being written by its first pfi index"
	                          " run"), "%s", b.err);
	cr_assert_eq(strchr(b.err, '\n'), b.err + strlen(b.err) - 1,
	             "not one line: %s", b.err);
	free(b.err);
	/* Killed, it left nothing a query sees. */
	cr_assert_eq(run_pfi(info, NULL, &out, &err), 0, "%s", err);
	cr_assert_str_empty(err);
	cr_assert_not_null(strstr(out, "\"files\":[],\"lines\":0,"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(run_pfi(search, NULL, &out, &err), 1, "%s", err);
	cr_assert_str_eq(err, "pfi: no match: the index holds no mail yet; "
	                 "run 'pfi index'\n");
	cr_assert_str_empty(out);
	free(out);
	free(err);
	/* And the next run indexes as if it were the first. */
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "%s", err);
	free(err);
	cr_assert_gt(db_int(db, "SELECT count(*) FROM messages"), 0);
	cr_assert_eq(run_pfi(search, NULL, &out, &err), 0, "%s", err);
	cr_assert_str_empty(err);
	free(out);
	free(err);
	free(log);
}
