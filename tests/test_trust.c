/*
 * test_trust.c - hostile index files: the trust rule (owner and modes of
 * the index, its side files and its directory), symbolic links at any of
 * their names, schemas holding what pfi does not create, and readers
 * after a first index run was killed, all through the library's API (how
 * the pfi command reports a refused or busy index is test_cli_trust.c's).
 * The tests run as root, as the suite does; those that need another user's
 * files or process use uid 65534 (nobody).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
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
#include "store.h"

#define NOBODY 65534

static void setup(void) { tmpdir_make(); }
static void teardown(void) { tmpdir_cleanup(); }

TestSuite(trust, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(120));

/* A new, empty pfi index at dir/name (malloc'd path). */
static char *new_index(const char *dir, const char *name)
{
	char *db = path_join(dir, name);
	pfi_store *st;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK, "%s",
	             pfi_errmsg(st));
	pfi_store_close(st);
	return db;
}

/* Opens db with flags, asserts the code and that the message holds want. */
static void assert_open_fails(const char *db, int flags, int code,
                              const char *want)
{
	pfi_store *st = NULL;
	int rc = pfi_store_open(&st, db, flags);

	cr_assert_eq(rc, code, "open %s (%s): %d, %s", db,
	             flags ? "write" : "read", rc, pfi_errmsg(st));
	cr_assert_not_null(strstr(pfi_errmsg(st), want), "'%s' lacks '%s'",
	                   pfi_errmsg(st), want);
	pfi_store_close(st);
}

static void assert_opens(const char *db, int flags)
{
	pfi_store *st = NULL;

	cr_assert_eq(pfi_store_open(&st, db, flags), PFI_OK, "%s: %s", db,
	             pfi_errmsg(st));
	pfi_store_close(st);
}

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root to make another user's files");
}

/* Runs fn(arg) in a child as uid/gid NOBODY; returns its exit status. */
static int as_nobody(int (*fn)(const char *), const char *arg)
{
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
			_exit(100);
		_exit(fn(arg));
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "child status %d", status);
	return WEXITSTATUS(status);
}

/* ---- owner and modes ------------------------------------------------------ */

Test(trust, an_index_owned_by_another_user_is_refused_even_by_root)
{
	char *db;

	skip_unless_root();
	db = new_index(tmpdir_make(), "i.db");
	cr_assert_eq(chown(db, NOBODY, NOBODY), 0);
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_EIO,
	                  "owned by uid 65534, not by you");
	assert_open_fails(db, PFI_OPEN_WRITE, PFI_EIO,
	                  "owned by uid 65534, not by you");
	free(db);
}

Test(trust, an_index_writable_by_its_group_or_by_others_is_refused)
{
	char *db = new_index(tmpdir_make(), "i.db");

	cr_assert_eq(chmod(db, 0620), 0);
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_EIO,
	                  "i.db': writable by its group");
	cr_assert_eq(chmod(db, 0602), 0);
	assert_open_fails(db, PFI_OPEN_WRITE, PFI_EIO, "i.db': writable by others");
	cr_assert_eq(chmod(db, 0644), 0);   /* readable by others is the user's call */
	assert_opens(db, PFI_OPEN_READONLY);
	free(db);
}

static int open_read_only(const char *db)
{
	pfi_store *st = NULL;
	int rc = pfi_store_open(&st, db, PFI_OPEN_READONLY);

	if (rc != PFI_OK)
		fprintf(stderr, "as nobody: %s\n", pfi_errmsg(st));
	pfi_store_close(st);
	return rc == PFI_OK ? 0 : 1;
}

static int expect_no_shm_message(const char *db)
{
	pfi_store *st = NULL;
	int rc = pfi_store_open(&st, db, PFI_OPEN_READONLY), ok;

	ok = rc == PFI_EIO && strstr(pfi_errmsg(st), "-shm") != NULL &&
	     strstr(pfi_errmsg(st), "readonly") == NULL;
	if (!ok)
		fprintf(stderr, "as nobody: %d, %s\n", rc, pfi_errmsg(st));
	pfi_store_close(st);
	return ok ? 0 : 1;
}

Test(trust, another_user_may_read_an_index_that_root_owns)
{
	const char *dir = tmpdir_make();
	sqlite3 *owner;
	char *db;

	skip_unless_root();
	cr_assert_eq(chmod(dir, 0755), 0);
	db = new_index(dir, "i.db");
	cr_assert_eq(chmod(db, 0644), 0);
	/* A WAL index needs its -shm file, which only the owner may make
	 * here: it exists while the owner has the index open. */
	cr_assert_eq(sqlite3_open(db, &owner), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(owner, "SELECT count(*) FROM messages", NULL,
	                          NULL, NULL), SQLITE_OK);
	cr_assert_eq(as_nobody(open_read_only, db), 0);
	sqlite3_close(owner);
	/* Without it the reader is told so, not "readonly database". */
	cr_assert_eq(as_nobody(expect_no_shm_message, db), 0);
	free(db);
}

Test(trust, a_directory_that_others_may_write_needs_the_sticky_bit)
{
	const char *dir = tmpdir_make();
	char *db = new_index(dir, "i.db");

	cr_assert_eq(chmod(dir, 0777), 0);
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_EIO, "its directory '");
	assert_open_fails(db, PFI_OPEN_WRITE, PFI_EIO, "is writable by others");
	cr_assert_eq(chmod(dir, 01777), 0);   /* as /tmp */
	assert_opens(db, PFI_OPEN_WRITE);
	cr_assert_eq(chmod(dir, 0700), 0);
	free(db);
}

Test(trust, a_directory_of_another_user_is_refused)
{
	const char *dir = tmpdir_make();
	char *sub = path_join(dir, "theirs"), *db;

	skip_unless_root();
	cr_assert_eq(mkdir(sub, 0700), 0);
	db = new_index(sub, "i.db");
	cr_assert_eq(chown(sub, NOBODY, NOBODY), 0);
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_EIO,
	                  "theirs' is owned by uid 65534, not by you");
	free(db);
	free(sub);
}

Test(trust, a_new_index_is_0600_in_a_0700_directory_whatever_the_umask)
{
	const char *dir = tmpdir_make();
	char *sub = path_join(dir, "new/dir"), *db;
	mode_t old = umask(0);
	struct stat sb;

	db = new_index(dir, "new/dir/i.db");
	umask(old);
	cr_assert_eq(stat(db, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0600, "%o", sb.st_mode & 07777);
	cr_assert_eq(stat(sub, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700, "%o", sb.st_mode & 07777);
	free(db);
	free(sub);
}

/* ---- symbolic links --------------------------------------------------------- */

Test(trust, a_link_at_the_index_path_is_refused_and_its_target_untouched)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db"), *target = path_join(dir, "target");
	char *data;
	FILE *f;

	cr_assert_eq(symlink(target, db), 0);
	assert_open_fails(db, PFI_OPEN_WRITE, PFI_EIO, "i.db': it is a symbolic link");
	cr_assert_eq(access(target, F_OK), -1, "the link was followed");
	f = fopen(target, "w");
	fputs("someone else's file\n", f);
	fclose(f);
	assert_open_fails(db, PFI_OPEN_WRITE, PFI_EIO, "it is a symbolic link");
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_EIO, "it is a symbolic link");
	data = slurp(target, NULL);
	cr_assert_str_eq(data, "someone else's file\n");
	free(data);
	free(target);
	free(db);
}

Test(trust, an_index_reached_through_a_linked_directory_is_fine)
{
	const char *dir = tmpdir_make();
	char *real = path_join(dir, "real"), *link = path_join(dir, "link");
	char *db;

	cr_assert_eq(mkdir(real, 0700), 0);
	cr_assert_eq(symlink(real, link), 0);
	db = new_index(link, "i.db");
	assert_opens(db, PFI_OPEN_READONLY);
	free(db);
	free(link);
	free(real);
}

struct side { char suffix[16]; };

ParameterizedTestParameters(trust, a_link_at_a_side_file_is_refused)
{
	static struct side sides[] = { { "-wal" }, { "-shm" }, { "-journal" } };

	return cr_make_param_array(struct side, sides, 3);
}

ParameterizedTest(struct side *s, trust, a_link_at_a_side_file_is_refused)
{
	const char *dir = tmpdir_make();
	char *db = new_index(dir, "i.db"), *target = path_join(dir, "target");
	char side[512], want[600];

	snprintf(side, sizeof(side), "%s%s", db, s->suffix);
	snprintf(want, sizeof(want), "'%s' is a symbolic link", side);
	cr_assert_eq(symlink(target, side), 0);
	assert_open_fails(db, PFI_OPEN_WRITE, PFI_EIO, want);
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_EIO, want);
	cr_assert_eq(access(target, F_OK), -1, "the link was followed");
	free(target);
	free(db);
}

Test(trust, a_journal_another_user_left_is_refused)
{
	/* Rolled back, it would write that user's pages into the index. */
	char *db, side[512];
	int fd;

	skip_unless_root();
	db = new_index(tmpdir_make(), "i.db");
	snprintf(side, sizeof(side), "%s-journal", db);
	fd = open(side, O_WRONLY | O_CREAT | O_EXCL, 0600);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, "\xd9\xd5\x05\xf9\x20\xa1\x63\xd7", 8), 8);
	close(fd);
	cr_assert_eq(chown(side, NOBODY, NOBODY), 0);
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_EIO,
	                  "-journal' is owned by uid 65534, not by you");
	free(db);
}

/* ---- the schema ------------------------------------------------------------- */

Test(trust, the_index_is_opened_defensive_with_an_untrusted_schema)
{
	char *db = new_index(tmpdir_make(), "i.db");
	int flags[] = { PFI_OPEN_READONLY, PFI_OPEN_WRITE };
	size_t i;

	for (i = 0; i < 2; i++) {
		pfi_store *st = NULL;
		int on = -1;

		cr_assert_eq(pfi_store_open(&st, db, flags[i]), PFI_OK);
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, -1, &on);
		cr_assert_eq(on, 1);
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, -1, &on);
		cr_assert_eq(on, 0);
		cr_assert_eq(pfi_store_int(st, "PRAGMA trusted_schema"), 0);
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &on);
		cr_assert_eq(on, 0);
		pfi_store_close(st);
	}
	free(db);
}

struct plant {
	char sql[160];   /* run on a real pfi index */
	char want[64];   /* in the message */
};

ParameterizedTestParameters(trust, what_pfi_did_not_create_is_refused)
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
		{ "CREATE TABLE \"x\x1b[2J\"(y)", "a table 'x?[2J'" },
	};

	return cr_make_param_array(struct plant, plants,
	                           sizeof(plants) / sizeof(plants[0]));
}

ParameterizedTest(struct plant *p, trust, what_pfi_did_not_create_is_refused)
{
	char *db = new_index(tmpdir_make(), "i.db");
	sqlite3 *raw;

	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, p->sql, NULL, NULL, NULL), SQLITE_OK,
	             "%s", sqlite3_errmsg(raw));
	sqlite3_close(raw);
	assert_open_fails(db, PFI_OPEN_READONLY, PFI_ESCHEMA, p->want);
	assert_open_fails(db, PFI_OPEN_WRITE, PFI_ESCHEMA, p->want);
	free(db);
}

Test(trust, sqlites_own_tables_are_fine)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", 0);
	const char *paths[] = { log };
	sqlite3 *raw;

	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sqlite_schema"
	                    " WHERE name = 'sqlite_stat1'"), 1);
	assert_opens(db, PFI_OPEN_READONLY);
	assert_opens(db, PFI_OPEN_WRITE);
	free(log);
	free(db);
}

/* ---- a first run killed midway ---------------------------------------------- */

/* Leaves db as a first run killed midway does (index.c): a child writes
 * in rollback-journal mode with a tiny page cache, so pages spill into
 * the file, and is killed inside its transaction. */
static void leave_hot_journal(const char *db)
{
	int status;
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		sqlite3 *raw;

		if (sqlite3_open(db, &raw) != SQLITE_OK ||
		    sqlite3_exec(raw, "PRAGMA journal_mode = DELETE;"
		                 " PRAGMA cache_size = 8; BEGIN IMMEDIATE;"
		                 " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL"
		                 " SELECT i + 1 FROM n WHERE i < 500)"
		                 " INSERT INTO chunks(first, count, last, data)"
		                 " SELECT i, 1, 0, randomblob(2000) FROM n",
		                 NULL, NULL, NULL) != SQLITE_OK)
			_exit(1);
		raise(SIGKILL);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFSIGNALED(status), "writer status %d", status);
	cr_assert(journal_is_hot(db), "no hot journal to test with");
}

Test(trust, a_reader_rolls_back_what_a_killed_first_run_left)
{
	char *db = new_index(tmpdir_make(), "i.db"), side[512];
	struct pfi_info *info;
	pfi_store *st = NULL;

	leave_hot_journal(db);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK, "%s",
	             pfi_errmsg(st));
	cr_assert_eq(pfi_info_new(&info, st), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(info->lines, 0);
	pfi_info_free(info);
	pfi_store_close(st);
	snprintf(side, sizeof(side), "%s-journal", db);
	cr_assert_eq(access(side, F_OK), -1, "the journal is still there");
	cr_assert_eq(db_int(db, "SELECT count(*) FROM chunks"), 0);
	free(db);
}

static int expect_recovery_message(const char *db)
{
	pfi_store *st = NULL;
	int rc = pfi_store_open(&st, db, PFI_OPEN_READONLY), ok;

	ok = rc == PFI_EIO &&
	     strstr(pfi_errmsg(st), "interrupted first pfi index run") != NULL &&
	     strstr(pfi_errmsg(st), "readonly") == NULL;
	if (!ok)
		fprintf(stderr, "as nobody: %d, %s\n", rc, pfi_errmsg(st));
	pfi_store_close(st);
	return ok ? 0 : 1;
}

Test(trust, a_reader_who_may_not_write_is_told_what_rolls_it_back)
{
	const char *dir = tmpdir_make();
	char *db;

	skip_unless_root();
	cr_assert_eq(chmod(dir, 0755), 0);
	db = new_index(dir, "i.db");
	cr_assert_eq(chmod(db, 0644), 0);   /* SQLite gives the journal its mode */
	leave_hot_journal(db);
	cr_assert_eq(as_nobody(expect_recovery_message, db), 0);
	cr_assert(journal_is_hot(db));
	assert_opens(db, PFI_OPEN_READONLY);   /* root may write it */
	cr_assert(!journal_is_hot(db));
	free(db);
}

/* A first run of the library's indexer into db, in a child process that
 * reads its log from fd `in` (kill_first_run). */
static pid_t first_run(const char *db, int in)
{
	const char *paths[] = { "-" };
	pfi_store *st = NULL;
	pid_t pid = fork_first_run(in);

	if (pid != 0)
		return pid;
	if (pfi_store_open(&st, db, PFI_OPEN_WRITE) != PFI_OK)
		_exit(1);
	pfi_index_paths(st, paths, 1, NULL, NULL);
	_exit(0);
}

/* What a reader opening the index got while the first run was writing. */
struct busy {
	int rc;
	char msg[512];
};

static void open_while_busy(const char *db, void *ctx)
{
	struct busy *b = ctx;
	pfi_store *st = NULL;

	b->rc = pfi_store_open(&st, db, PFI_OPEN_READONLY);
	snprintf(b->msg, sizeof(b->msg), "%s", pfi_errmsg(st));
	pfi_store_close(st);
}

Test(trust, queries_after_a_killed_first_run_see_the_index_as_before)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", 0);
	const char *paths[] = { log };
	struct busy b = { -1, "" };
	struct pfi_info *info;
	pfi_store *st = NULL;
	int64_t n = -1;

	kill_first_run(db, first_run, open_while_busy, &b);
	/* Alive, the run kept readers out and said so. */
	cr_assert_eq(b.rc, PFI_EBUSY, "open: %d, %s", b.rc, b.msg);
	cr_assert_not_null(strstr(b.msg, "being written by its first pfi index"
	                          " run"), "%s", b.msg);
	/* Killed, it left nothing a reader sees. */
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK, "%s",
	             pfi_errmsg(st));
	cr_assert_eq(pfi_info_new(&info, st), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(info->nfiles, 0);
	cr_assert_eq(info->lines, 0);
	pfi_info_free(info);
	cr_assert_eq(pfi_search_count(st, NULL, &n), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(n, 0);
	pfi_store_close(st);
	cr_assert(!journal_is_hot(db), "the reader rolled the journal back");
	/* And the next run indexes as if it were the first. */
	st = index_into(db, paths, 1, NULL);
	cr_assert_eq(pfi_search_count(st, NULL, &n), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(n, 105);
	pfi_store_close(st);
	cr_assert_gt(db_int(db, "SELECT count(*) FROM messages"), 0);
	free(log);
	free(db);
}

/* ---- the read-only SQL connection ------------------------------------------- */

Test(trust, sql_reads_the_file_the_store_trusted_not_one_put_in_its_place)
{
	const char *dir = tmpdir_make();
	char *db = new_index(dir, "i.db"), *other = new_index(dir, "o.db");
	char *link = path_join(dir, "elsewhere");
	pfi_store *st = NULL;
	pfi_sql *q = NULL;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_sql_open(&q, st), PFI_OK, "%s", pfi_sql_errmsg(q));
	pfi_sql_close(q);
	/* Another file at the path the store opened: refused. */
	cr_assert_eq(rename(other, db), 0);
	cr_expect_eq(pfi_sql_open(&q, st), PFI_EIO);
	cr_expect(strstr(pfi_sql_errmsg(q), "replaced"), "%s", pfi_sql_errmsg(q));
	pfi_sql_close(q);
	/* A link there: not followed. */
	cr_assert_eq(rename(db, link), 0);
	cr_assert_eq(symlink(link, db), 0);
	cr_expect_neq(pfi_sql_open(&q, st), PFI_OK);
	pfi_sql_close(q);
	pfi_store_close(st);
	free(link);
	free(other);
	free(db);
}
