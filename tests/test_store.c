/*
 * test_store.c - the index file: creation, permissions, schema checks,
 * refusal of foreign files, and idempotent re-indexing.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "helpers.h"

static void setup(void) { tmpdir_make(); }
static void teardown(void) { tmpdir_cleanup(); }

TestSuite(store, .init = setup, .fini = teardown, .timeout = 30);


Test(store, a_new_index_is_created_private_with_its_parent_directories)
{
	const char *dir = tmpdir_make();
	char *sub = path_join(dir, "a/b/index.db");
	struct stat sb;
	pfi_store *st;

	cr_assert_eq(pfi_store_open(&st, sub, PFI_OPEN_WRITE), PFI_OK,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	cr_assert_eq(stat(sub, &sb), 0);
	cr_assert_eq(sb.st_mode & 0777, 0600, "mode %o", sb.st_mode & 0777);
	free(sub);
}

Test(store, opening_read_only_a_missing_index_is_not_found)
{
	char *p = path_join(tmpdir_make(), "none.db");
	pfi_store *st;

	cr_assert_eq(pfi_store_open(&st, p, PFI_OPEN_READONLY), PFI_ENOTFOUND);
	cr_assert_not_null(strstr(pfi_errmsg(st), "none.db"), "%s", pfi_errmsg(st));
	pfi_store_close(st);
	free(p);
}

Test(store, an_sqlite_file_of_another_application_is_refused)
{
	char *p = path_join(tmpdir_make(), "other.db");
	sqlite3 *db;
	pfi_store *st;

	cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	cr_assert_eq(pfi_store_open(&st, p, PFI_OPEN_WRITE), PFI_ESCHEMA);
	cr_assert_not_null(strstr(pfi_errmsg(st), "not a pfi index"), "%s",
	                   pfi_errmsg(st));
	pfi_store_close(st);
	free(p);
}

Test(store, a_text_file_is_refused_as_not_an_index)
{
	char *p = path_join(tmpdir_make(), "text.db");
	FILE *f = fopen(p, "w");
	pfi_store *st;

	fputs("this is not a database, just some text that is long enough\n", f);
	fclose(f);
	cr_assert_eq(pfi_store_open(&st, p, PFI_OPEN_READONLY), PFI_ESCHEMA,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	free(p);
}

Test(store, an_index_of_a_newer_schema_is_refused)
{
	char *p = path_join(tmpdir_make(), "new.db");
	sqlite3 *db;
	pfi_store *st;

	cr_assert_eq(pfi_store_open(&st, p, PFI_OPEN_WRITE), PFI_OK);
	pfi_store_close(st);
	cr_assert_eq(sqlite3_open(p, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	cr_assert_eq(pfi_store_open(&st, p, PFI_OPEN_READONLY), PFI_ESCHEMA);
	cr_assert_not_null(strstr(pfi_errmsg(st), "schema 99"), "%s", pfi_errmsg(st));
	pfi_store_close(st);
	free(p);
}

Test(store, reindexing_the_same_file_adds_nothing)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", 1793613600);
	const char *paths[] = { log };
	struct pfi_index_report rep;
	pfi_store *st = index_into(db, paths, 1, &rep);
	int64_t lines, msgs, dels;

	cr_assert_gt(rep.lines, 0);
	pfi_store_close(st);
	lines = db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks");
	msgs = db_int(db, "SELECT count(*) FROM messages");
	dels = db_int(db, "SELECT count(*) FROM deliveries");
	st = index_into(db, paths, 1, &rep);
	pfi_store_close(st);
	cr_assert_eq(rep.lines, 0, "second run read %llu lines",
	             (unsigned long long)rep.lines);
	cr_assert_eq(rep.files_skipped, 1);
	cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"), lines);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages"), msgs);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM deliveries"), dels);
	free(db);
	free(log);
}

Test(store, a_file_that_grew_is_read_from_where_the_last_run_stopped)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	char *full = path_join(dir, "full.log");
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", 0);
	const char *paths[] = { log };
	size_t len, half;
	char *data = slurp(log, &len);
	struct pfi_index_report rep;
	pfi_store *st;
	FILE *f;

	half = (size_t)(strchr(data + len / 2, '\n') - data) + 1;
	f = fopen(log, "w");
	fwrite(data, 1, half, f);
	fclose(f);
	st = index_into(db, paths, 1, &rep);
	pfi_store_close(st);
	f = fopen(log, "a");
	fwrite(data + half, 1, len - half, f);
	fclose(f);
	st = index_into(db, paths, 1, &rep);
	pfi_store_close(st);
	f = fopen(full, "w");
	fwrite(data, 1, len, f);
	fclose(f);
	cr_assert_gt(rep.lines, 0);
	{
		char *db2 = path_join(dir, "whole.db");
		const char *p2[] = { full };
		char *a, *b;
		st = index_into(db2, p2, 1, NULL);
		pfi_store_close(st);
		a = db_rows(db, "SELECT host, queue_id, recipient, status, attempts"
		            " FROM deliveries ORDER BY 1, 2, 3, 4");
		b = db_rows(db2, "SELECT host, queue_id, recipient, status, attempts"
		            " FROM deliveries ORDER BY 1, 2, 3, 4");
		cr_assert_str_eq(a, b);
		cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"),
		             db_int(db2, "SELECT coalesce(sum(count), 0) FROM chunks"));
		free(a);
		free(b);
		free(db2);
	}
	free(data);
	free(full);
	free(db);
	free(log);
}

static volatile int stop_flag;

static void stop_at_first_progress(void *ctx, const struct pfi_progress *p)
{
	(void)ctx;
	(void)p;
	stop_flag = 1;
}

Test(store, an_interrupted_run_is_completed_by_the_next_one)
{
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "mail.log"), *db = path_join(dir, "i.db");
	char *whole = path_join(dir, "whole.db"), *a, *b;
	size_t len;
	char *data = slurp(fixture("logs/sample.log"), &len);
	struct pfi_index_opts opts = { 0 };
	struct pfi_index_report rep;
	const char *paths[] = { log };
	pfi_store *st;
	FILE *f = fopen(log, "w");
	int64_t nl = 0;
	int i;

	for (i = 0; (size_t)i < len; i++)
		nl += data[i] == '\n';
	for (i = 0; i < 8; i++)
		fwrite(data, 1, len, f);
	fclose(f);
	opts.progress = stop_at_first_progress;
	opts.stop = &stop_flag;
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK);
	cr_assert_eq(pfi_index_paths(st, paths, 1, &opts, &rep), PFI_OK);
	pfi_store_close(st);
	cr_assert(rep.lines > 0 && (int64_t)rep.lines < 8 * nl, "stopped after %llu lines",
	          (unsigned long long)rep.lines);
	pfi_store_close(index_into(db, paths, 1, &rep));
	cr_assert_gt(rep.lines, 0, "the second run reads the rest");
	pfi_store_close(index_into(whole, paths, 1, NULL));
	a = db_rows(db, "SELECT host, queue_id, recipient, status, attempts"
	            " FROM deliveries ORDER BY 1, 2, 3, 4, 5");
	b = db_rows(whole, "SELECT host, queue_id, recipient, status, attempts"
	            " FROM deliveries ORDER BY 1, 2, 3, 4, 5");
	cr_assert_str_eq(a, b);
	cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"), 8 * nl);
	free(a);
	free(b);
	free(data);
	free(log);
	free(db);
	free(whole);
}

/* Writes bytes [from, to) of the sample log to path, appending if asked. */
static void write_part(const char *path, const char *data, size_t from,
                       size_t to, const char *mode)
{
	FILE *f = fopen(path, mode);

	cr_assert_not_null(f);
	cr_assert_eq(fwrite(data + from, 1, to - from, f), to - from);
	fclose(f);
}

/* The offset of the line boundary nearest to `at`. */
static size_t line_cut(const char *data, size_t at)
{
	return (size_t)(strchr(data + at, '\n') - data) + 1;
}

static char *deliveries_of(const char *db)
{
	return db_rows(db, "SELECT host, queue_id, recipient, status, attempts"
	               " FROM deliveries ORDER BY 1, 2, 3, 4, 5");
}

/* Indexes the whole sample in one run, for comparison. */
static char *reference_rows(const char *dir, const char *data, size_t len)
{
	char *log = path_join(dir, "ref.log"), *db = path_join(dir, "ref.db");
	const char *paths[] = { log };
	char *rows;

	write_part(log, data, 0, len, "w");
	pfi_store_close(index_into(db, paths, 1, NULL));
	rows = deliveries_of(db);
	free(log);
	free(db);
	return rows;
}

Test(store, logrotate_rename_then_compress_reads_nothing_twice)
{
	const char *dir = tmpdir_make();
	char *cur = path_join(dir, "mail.log"), *old = path_join(dir, "mail.log.1");
	char *gz = path_join(dir, "mail.log.2.gz"), *db = path_join(dir, "i.db");
	char cmd[1024], *want, *got;
	size_t len, cut;
	char *data = slurp(fixture("logs/sample.log"), &len);
	struct pfi_index_report rep;
	const char *one[] = { cur };
	const char *two[] = { cur, old };
	const char *three[] = { gz, cur };

	cut = line_cut(data, len / 2);
	write_part(cur, data, 0, cut, "w");
	pfi_store_close(index_into(db, one, 1, &rep));
	cr_assert_eq(rename(cur, old), 0);
	write_part(cur, data, cut, len, "w");
	pfi_store_close(index_into(db, two, 2, &rep));
	cr_assert_eq(rep.files_skipped, 1, "the renamed file is recognised");
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s' && rm '%s'", old, gz, old);
	cr_assert_eq(system(cmd), 0);
	pfi_store_close(index_into(db, three, 2, &rep));
	cr_assert_eq(rep.lines, 0, "the compressed file adds nothing");
	want = reference_rows(dir, data, len);
	got = deliveries_of(db);
	cr_assert_str_eq(got, want);
	cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"),
	             db_int(db, "SELECT sum(lines) FROM files WHERE size >= 0"));
	free(want);
	free(got);
	free(data);
	free(cur);
	free(old);
	free(gz);
	free(db);
}

Test(store, copytruncate_rotation_misses_nothing)
{
	const char *dir = tmpdir_make();
	char *cur = path_join(dir, "mail.log"), *old = path_join(dir, "mail.log.1");
	char *db = path_join(dir, "i.db"), *want, *got;
	size_t len, a, b;
	char *data = slurp(fixture("logs/sample.log"), &len);
	const char *one[] = { cur };
	const char *two[] = { cur, old };

	a = line_cut(data, len / 3);
	b = line_cut(data, 2 * len / 3);
	write_part(cur, data, 0, a, "w");
	pfi_store_close(index_into(db, one, 1, NULL));
	/* More lines arrive, then logrotate copies and truncates. */
	write_part(cur, data, a, b, "a");
	write_part(old, data, 0, b, "w");
	write_part(cur, data, b, len, "w");
	pfi_store_close(index_into(db, two, 2, NULL));
	want = reference_rows(dir, data, len);
	got = deliveries_of(db);
	cr_assert_str_eq(got, want);
	free(want);
	free(got);
	free(data);
	free(cur);
	free(old);
	free(db);
}

Test(store, a_second_writer_waits_then_fails_clearly)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	char *log = copy_fixture("logs/longids.log", dir, "mail.log", 0);
	const char *paths[] = { log };
	sqlite3 *other;
	pfi_store *st;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK);
	cr_assert_eq(sqlite3_open(db, &other), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	             SQLITE_OK);
	cr_assert_eq(pfi_index_paths(st, paths, 1, NULL, NULL), PFI_EBUSY);
	cr_assert_not_null(strstr(pfi_errmsg(st), "another process"), "%s",
	                   pfi_errmsg(st));
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(other);
	cr_assert_eq(pfi_index_paths(st, paths, 1, NULL, NULL), PFI_OK,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	free(db);
	free(log);
}

Test(store, readers_see_the_last_commit_while_a_run_writes)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", 0);
	const char *paths[] = { log };
	struct pfi_info *info;
	sqlite3 *writer;
	pfi_store *rd;
	int64_t before;

	pfi_store_close(index_into(db, paths, 1, NULL));
	before = db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks");
	cr_assert_eq(sqlite3_open(db, &writer), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(writer, "BEGIN IMMEDIATE; DELETE FROM chunks",
	                          NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(pfi_store_open(&rd, db, PFI_OPEN_READONLY), PFI_OK,
	             "%s", pfi_errmsg(rd));
	cr_assert_eq(pfi_info_get(&info, rd), PFI_OK, "%s", pfi_errmsg(rd));
	cr_assert_eq(info->lines, before);
	cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"), before);
	pfi_info_free(info);
	pfi_store_close(rd);
	sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(writer);
	free(db);
	free(log);
}

Test(store, prune_removes_what_ended_before_the_cut_and_keeps_the_rest)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", 1793664000);
	const char *paths[] = { log };
	struct pfi_prune_report rep;
	struct pfi_index_report irep;
	int64_t cut, total, gone, open_before;
	pfi_trace *t;
	pfi_store *st = index_into(db, paths, 1, NULL);

	cr_assert_eq(pfi_time_parse(&cut, "2026-11-02T09:30:00Z", 0), PFI_OK);
	total = db_int(db, "SELECT count(*) FROM messages");
	open_before = db_int(db, "SELECT count(*) FROM messages WHERE open = 1");
	gone = db_int(db, "SELECT count(*) FROM messages WHERE open = 0"
	              " AND last < 1793611800000000");
	cr_assert_gt(gone, 0);
	cr_assert_eq(pfi_prune(st, cut, &rep), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(rep.messages, gone);
	pfi_store_close(st);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages"), total - gone);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages WHERE open = 1"),
	             open_before, "queued messages stay");
	cr_assert_eq(db_int(db, "SELECT count(*) FROM deliveries d WHERE"
	             " d.message IS NOT NULL AND NOT EXISTS (SELECT 1 FROM"
	             " messages m WHERE m.id = d.message)"), 0,
	             "no recipient row outlives its message");
	cr_assert_eq(db_int(db, "SELECT count(*) FROM deliveries"
	             " WHERE message IS NULL AND time < 1793611800000000"), 0);
	/* What stays is whole: its trace still has its lines. */
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK);
	cr_assert_eq(pfi_trace_new(&t, st, "97A971161AF"), PFI_OK, "%s",
	             pfi_errmsg(st));
	cr_assert_gt(pfi_trace_message(t, 0)->nlines, 10);
	pfi_trace_free(t);
	/* The file stays known: indexing it again adds nothing back. */
	cr_assert_eq(pfi_index_paths(st, paths, 1, NULL, &irep), PFI_OK);
	cr_assert_eq(irep.lines, 0);
	pfi_store_close(st);
	free(db);
	free(log);
}
