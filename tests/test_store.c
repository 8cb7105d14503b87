/*
 * test_store.c - the index file: creation, permissions, schema checks,
 * refusal of foreign files, idempotent re-indexing, and runs that end
 * inside smtpd sessions.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "correlate.h"
#include "helpers.h"

static void setup(void) { tmpdir_make(); }
static void teardown(void) { tmpdir_cleanup(); }

TestSuite(store, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(30));


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

Test(store, a_first_run_leaves_every_index_in_place)
{
	/* A first run drops the indexes it does not read while it writes and
	 * builds them at its end; none may be missing afterwards. */
	static const char *const names[] = {
		"late_lines_message", "message_lines_first", "messages_queue_id",
		"messages_open", "deliveries_message", "links_parent", "links_other",
		"links_unresolved", "messages_message_id", "messages_parent",
		"messages_received", "deliveries_time", "deliveries_domain",
		"deliveries_recipient_nocase", "deliveries_orig_to_nocase",
		"sasl_failures_time", "stat_cells_hour",
	};
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db"), sql[256];
	char *log = copy_fixture("logs/sample.log", dir, "mail.log", 0);
	const char *paths[] = { log };
	size_t i;

	pfi_store_close(index_into(db, paths, 1, NULL));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema"
		         " WHERE type = 'index' AND name = '%s'", names[i]);
		cr_assert_eq(db_int(db, sql), 1, "index %s is missing", names[i]);
	}
	free(log);
	free(db);
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
		/* The second run's line ids go on from the first run's last. */
		cr_assert_gt(db_int(db, "SELECT count(*) FROM chunks"), 1);
		cr_assert_eq(db_int(db, "SELECT max(first + count) - min(first)"
		                    " - sum(count) FROM chunks"), 0);
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
	struct pfi_index_opts opts = PFI_INDEX_OPTIONS_INIT;
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
	/* the rest: the sample log seven times more, which it skips as read */
	cr_assert_gt(rep.lines + rep.duplicate_lines, 0,
	             "the second run reads the rest");
	pfi_store_close(index_into(whole, paths, 1, NULL));
	a = db_rows(db, "SELECT host, queue_id, recipient, status, attempts"
	            " FROM deliveries ORDER BY 1, 2, 3, 4, 5");
	b = db_rows(whole, "SELECT host, queue_id, recipient, status, attempts"
	            " FROM deliveries ORDER BY 1, 2, 3, 4, 5");
	cr_assert_str_eq(a, b);
	/* the copies after the first repeat it: one copy of each line stays */
	cr_assert_eq(db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks"), nl);
	cr_assert_eq(db_int(whole, "SELECT coalesce(sum(count), 0) FROM chunks"), nl);
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

Test(store, a_query_during_a_first_run_says_the_index_is_being_written)
{
	/* A first run writes without the WAL and holds the file exclusively
	 * (index.c); a reader must get a clear "busy", not a schema error. */
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "i.db");
	sqlite3 *writer;
	pfi_store *rd = NULL;

	cr_assert_eq(sqlite3_open(db, &writer), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(writer, "PRAGMA journal_mode = DELETE;"
	             " CREATE TABLE t(x); BEGIN EXCLUSIVE; INSERT INTO t VALUES (1)",
	             NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(pfi_store_open(&rd, db, PFI_OPEN_READONLY), PFI_EBUSY,
	             "%s", pfi_errmsg(rd));
	cr_assert_not_null(strstr(pfi_errmsg(rd), "first pfi index run"), "%s",
	                   pfi_errmsg(rd));
	pfi_store_close(rd);
	sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(writer);
	free(db);
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
	cr_assert_eq(pfi_info_new(&info, rd), PFI_OK, "%s", pfi_errmsg(rd));
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

/* ---- runs that end inside smtpd sessions --------------------------------- */

/* 2026-11-03 00:00:00 UTC: after the last line of the logs below. */
#define LOG_MTIME 1793664000

/*
 * Three smtpd sessions whose state comes before their message's queue ID:
 * STARTTLS (lines 1-8), a NOQUEUE hold of one recipient (9-13), and a
 * NOQUEUE hold of the whole connection, with no recipient (14-18).  The
 * held recipient has no outcome of its own: its row is dated by the
 * message's latest line, a second after its client= line.
 */
static const char *const session_log[] = {
	"Nov  2 09:00:00 mx1 postfix/smtpd[4001]: connect from"
	" mail.tls.example[203.0.113.9]",
	"Nov  2 09:00:01 mx1 postfix/smtpd[4001]: Anonymous TLS connection"
	" established from mail.tls.example[203.0.113.9]: TLSv1.3 with cipher"
	" TLS_AES_256_GCM_SHA384 (256/256 bits)",
	"Nov  2 09:00:02 mx1 postfix/smtpd[4001]: 1A2B3C4D5E:"
	" client=mail.tls.example[203.0.113.9]",
	"Nov  2 09:00:02 mx1 postfix/cleanup[4100]: 1A2B3C4D5E:"
	" message-id=<t1@tls.example>",
	"Nov  2 09:00:02 mx1 postfix/qmgr[4200]: 1A2B3C4D5E: from=<a@tls.example>,"
	" size=1234, nrcpt=1 (queue active)",
	"Nov  2 09:00:03 mx1 postfix/smtpd[4001]: disconnect from"
	" mail.tls.example[203.0.113.9] ehlo=2 starttls=1 mail=1 rcpt=1 data=1"
	" quit=1 commands=7",
	"Nov  2 09:00:03 mx1 postfix/local[4300]: 1A2B3C4D5E: to=<bob@example.com>,"
	" relay=local, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent"
	" (delivered to mailbox)",
	"Nov  2 09:00:03 mx1 postfix/qmgr[4200]: 1A2B3C4D5E: removed",
	"Nov  2 09:01:00 mx1 postfix/smtpd[4002]: connect from"
	" unknown[198.51.100.7]",
	"Nov  2 09:01:01 mx1 postfix/smtpd[4002]: NOQUEUE: hold: RCPT from"
	" unknown[198.51.100.7]: <carol@example.com>: Recipient address triggers"
	" HOLD action; from=<x@spam.example> to=<carol@example.com> proto=ESMTP"
	" helo=<spam.example>",
	"Nov  2 09:01:02 mx1 postfix/smtpd[4002]: 2B3C4D5E6F:"
	" client=unknown[198.51.100.7]",
	"Nov  2 09:01:03 mx1 postfix/cleanup[4100]: 2B3C4D5E6F:"
	" message-id=<h1@spam.example>",
	"Nov  2 09:01:03 mx1 postfix/smtpd[4002]: disconnect from"
	" unknown[198.51.100.7] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
	"Nov  2 09:02:00 mx1 postfix/smtpd[4003]: connect from"
	" unknown[198.51.100.8]",
	"Nov  2 09:02:00 mx1 postfix/smtpd[4003]: NOQUEUE: hold: CONNECT from"
	" unknown[198.51.100.8]: <unknown[198.51.100.8]>: Client host triggers"
	" HOLD action; proto=SMTP",
	"Nov  2 09:02:01 mx1 postfix/smtpd[4003]: 3C4D5E6F7A:"
	" client=unknown[198.51.100.8]",
	"Nov  2 09:02:01 mx1 postfix/cleanup[4100]: 3C4D5E6F7A:"
	" message-id=<c1@spam.example>",
	"Nov  2 09:02:02 mx1 postfix/smtpd[4003]: disconnect from"
	" unknown[198.51.100.8] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5",
};
#define SESSION_LOG_LINES (sizeof(session_log) / sizeof(session_log[0]))

/* Appends lines [from, to) to `path`, dated after them. */
/* Appends lines [from, to) to the log at path, with the logs' mtime. */
static void append_lines(const char *path, const char *const *lines,
                         size_t from, size_t to)
{
	append_log_lines(path, lines, from, to, LOG_MTIME);
}

/* Indexes lines [0, n) into dir/NAME.db, one run per piece: runs end after
 * line cuts[0], cuts[1] ... (ascending) and at the end.  Returns the
 * index's path (malloc'd). */
static char *index_pieces(const char *dir, const char *name,
                          const char *const *lines, size_t n,
                          const size_t *cuts, size_t ncuts)
{
	char file[128], *log, *db;

	snprintf(file, sizeof(file), "%s.log", name);
	log = path_join(dir, file);
	snprintf(file, sizeof(file), "%s.db", name);
	db = path_join(dir, file);
	index_in_runs(log, db, lines, n, cuts, ncuts, LOG_MTIME);
	free(log);
	return db;
}

/* What the cuts of a log must not change: messages, their lines, their
 * recipients and links.  Ids are compared too: both ways give them in
 * reading order.  (links.other and relation are left out: resolving
 * links is not the sessions' business.) */
static const char *const content_sql[] = {
	"SELECT id, host, queue_id, open, flags, first, last, received, removed,"
	" message_id, sender, size, nrcpt, client, client_ip, sasl_method,"
	" sasl_username, subject, tls_protocol, tls_cipher, origin,"
	" orig_queue_id, parent, relation FROM messages ORDER BY id",
	"SELECT message, first_line, hex(lines) FROM message_lines"
	" ORDER BY message",
	"SELECT message, line FROM late_lines ORDER BY message, line",
	"SELECT message, host, queue_id, time, recipient, orig_to, status, dsn,"
	" relay, delay, d_before, d_in, d_conn, d_xmit, attempts, final,"
	" response, child_qid, stage, code, client, client_ip, helo, sender,"
	" line, tls_protocol FROM deliveries"
	" ORDER BY message, recipient, time, line",
	"SELECT l.parent, l.qid, l.hint, l.kind, l.time, d.recipient"
	" FROM links l LEFT JOIN deliveries d ON d.id = l.delivery"
	" ORDER BY 1, 2, 3, 4, 5, 6",
};

static char *index_content(const char *db)
{
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	cr_assert_not_null(f);
	for (i = 0; i < sizeof(content_sql) / sizeof(content_sql[0]); i++) {
		char *rows = db_rows(db, content_sql[i]);
		fprintf(f, "-- %zu\n%s", i, rows);
		free(rows);
	}
	fclose(f);
	return out;
}

static void assert_same_content(const char *db, const char *want_db,
                                const char *what)
{
	char *got = index_content(db), *want = index_content(want_db);

	cr_assert_str_eq(got, want, "%s", what);
	free(got);
	free(want);
}

/* The session log indexed in one run, and with runs ending after `cuts`. */
static void index_session_log(const size_t *cuts, size_t ncuts, char **whole,
                              char **pieces)
{
	const char *dir = tmpdir_make();

	*whole = index_pieces(dir, "whole", session_log, SESSION_LOG_LINES,
	                      NULL, 0);
	*pieces = index_pieces(dir, "pieces", session_log, SESSION_LOG_LINES,
	                       cuts, ncuts);
}

/* Message `qid` of db, traced. */
static pfi_trace *trace_of(const char *db, const char *qid, pfi_store **st)
{
	pfi_trace *t;

	cr_assert_eq(pfi_store_open(st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_trace_new(&t, *st, qid), PFI_OK, "%s: %s", qid,
	             pfi_errmsg(*st));
	cr_assert_eq(pfi_trace_count(t), 1);
	return t;
}

/* The message's lines in db are those the whole run gave it. */
static void assert_same_lines(const char *db, const char *want_db,
                              const char *qid)
{
	pfi_store *sa, *sb;
	pfi_trace *ta = trace_of(db, qid, &sa), *tb = trace_of(want_db, qid, &sb);
	const struct pfi_message *a = pfi_trace_message(ta, 0);
	const struct pfi_message *b = pfi_trace_message(tb, 0);
	size_t i;

	cr_assert_eq(a->nlines, b->nlines, "%s", qid);
	for (i = 0; i < a->nlines; i++)
		cr_assert_str_eq(a->lines[i], b->lines[i]);
	pfi_trace_free(ta);
	pfi_trace_free(tb);
	pfi_store_close(sa);
	pfi_store_close(sb);
}

Test(store, a_run_ending_after_a_tls_line_leaves_the_message_its_tls)
{
	const size_t cuts[] = { 2 };
	char *whole, *pieces;
	const struct pfi_message *m;
	pfi_store *st;
	pfi_trace *t;

	index_session_log(cuts, 1, &whole, &pieces);
	t = trace_of(pieces, "1A2B3C4D5E", &st);
	m = pfi_trace_message(t, 0);
	cr_assert_str_eq(m->tls_protocol ? m->tls_protocol : "(none)", "TLSv1.3");
	cr_assert_str_eq(m->tls_cipher ? m->tls_cipher : "(none)",
	                 "TLS_AES_256_GCM_SHA384");
	cr_assert_str_eq(m->client, "mail.tls.example");
	cr_assert_str_eq(m->client_ip, "203.0.113.9");
	/* The session's lines before its client= line are the message's. */
	cr_assert_eq(m->nlines, 8);
	cr_assert_str_eq(m->lines[0], session_log[0]);
	cr_assert_str_eq(m->lines[1], session_log[1]);
	pfi_trace_free(t);
	pfi_store_close(st);
	assert_same_lines(pieces, whole, "1A2B3C4D5E");
	assert_same_content(pieces, whole, "cut after the TLS line");
	free(whole);
	free(pieces);
}

Test(store, a_run_ending_after_noqueue_actions_leaves_the_messages_held)
{
	/* After a connect, after a recipient's hold, after a connection's. */
	const size_t cuts[] = { 9, 10, 15 };
	char *whole, *pieces, sql[128];

	index_session_log(cuts, 3, &whole, &pieces);
	cr_assert_eq(db_int(pieces, "SELECT count(*) FROM deliveries WHERE"
	             " queue_id = '2B3C4D5E6F' AND recipient = 'carol@example.com'"
	             " AND status = 'held'"), 1);
	/* Held with no recipient: only the message's flags tell. */
	snprintf(sql, sizeof(sql), "SELECT flags & %d FROM messages"
	         " WHERE queue_id = '3C4D5E6F7A'", PFI_MSG_HELD);
	cr_assert_eq(db_int(pieces, sql), PFI_MSG_HELD);
	/* Each has its connect and NOQUEUE lines. */
	cr_assert_eq(db_int(pieces, "SELECT first_line FROM message_lines"
	             " WHERE message = (SELECT id FROM messages"
	             " WHERE queue_id = '2B3C4D5E6F')"), 9);
	cr_assert_eq(db_int(pieces, "SELECT first_line FROM message_lines"
	             " WHERE message = (SELECT id FROM messages"
	             " WHERE queue_id = '3C4D5E6F7A')"), 14);
	assert_same_lines(pieces, whole, "2B3C4D5E6F");
	assert_same_lines(pieces, whole, "3C4D5E6F7A");
	assert_same_content(pieces, whole, "cuts after NOQUEUE actions");
	free(whole);
	free(pieces);
}

Test(store, a_disconnect_alone_in_a_run_still_joins_its_message)
{
	/* The last run before each disconnect ends after the message's own
	 * lines, so the disconnect is all the next run adds to it. */
	const size_t cuts[] = { 12, 17 };
	char *whole, *pieces;

	index_session_log(cuts, 2, &whole, &pieces);
	assert_same_lines(pieces, whole, "2B3C4D5E6F");
	assert_same_lines(pieces, whole, "3C4D5E6F7A");
	assert_same_content(pieces, whole, "cuts before disconnects");
	free(whole);
	free(pieces);
}

Test(store, any_cut_of_the_session_log_gives_what_one_run_gives)
{
	size_t cuts[SESSION_LOG_LINES], k;
	char *whole, *pieces, what[64];

	for (k = 1; k < SESSION_LOG_LINES; k++) {
		cuts[0] = k;
		index_session_log(cuts, 1, &whole, &pieces);
		snprintf(what, sizeof(what), "cut after line %zu", k);
		assert_same_content(pieces, whole, what);
		free(whole);
		free(pieces);
		tmpdir_cleanup();
	}
	/* And a run per line. */
	for (k = 0; k + 1 < SESSION_LOG_LINES; k++)
		cuts[k] = k + 1;
	index_session_log(cuts, SESSION_LOG_LINES - 1, &whole, &pieces);
	assert_same_content(pieces, whole, "a run per line");
	free(whole);
	free(pieces);
}

Test(store, the_sessions_table_holds_only_the_live_sessions)
{
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "live.log"), *db = path_join(dir, "live.db");
	const char *paths[] = { log };

	append_lines(log, session_log, 0, 2);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions"), 1);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions WHERE"
	             " host = 'mx1' AND program = 'postfix/smtpd' AND pid = 4001"
	             " AND client = 'mail.tls.example' AND tls_protocol = 'TLSv1.3'"
	             " AND tls_cipher = 'TLS_AES_256_GCM_SHA384'"
	             " AND lines IS NOT NULL AND pending IS NULL"), 1);
	/* 4001 disconnected; 4002 connected and holds a recipient. */
	append_lines(log, session_log, 2, 10);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions"), 1);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions WHERE pid = 4002"
	             " AND pending IS NOT NULL"), 1);
	/* Its message took the hold and the lines; it stays live till its
	 * disconnect. */
	append_lines(log, session_log, 10, 11);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions WHERE pid = 4002"
	             " AND pending IS NULL AND lines IS NULL"
	             " AND last_qid = '2B3C4D5E6F'"), 1);
	append_lines(log, session_log, 11, SESSION_LOG_LINES);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions"), 0);
	free(log);
	free(db);
}

Test(store, the_sample_log_cut_inside_its_sessions_gives_what_one_run_gives)
{
	const char *dir = tmpdir_make();
	char *text, **lines, *whole, *pieces;
	size_t n = fixture_lines("logs/sample.log", &text, &lines), ncuts = 0;
	size_t *cuts = NULL, i;

	/* Runs end after each connect, TLS and NOQUEUE line. */
	cuts = calloc(n, sizeof(*cuts));
	cr_assert_not_null(cuts);
	for (i = 0; i + 1 < n; i++)
		if (strstr(lines[i], ": connect from ") ||
		    strstr(lines[i], " connection established from ") ||
		    strstr(lines[i], ": NOQUEUE: "))
			cuts[ncuts++] = i + 1;
	cr_assert_gt(ncuts, 50);
	whole = index_pieces(dir, "whole", (const char *const *)lines, n, NULL, 0);
	pieces = index_pieces(dir, "pieces", (const char *const *)lines, n, cuts,
	                      ncuts);
	assert_same_content(pieces, whole, "the sample log cut in sessions");
	free(whole);
	free(pieces);
	free(cuts);
	free(lines);
	free(text);
}

/* Links by what they join (queue IDs and hosts), not by row ids. */
static const char links_sql[] =
	"SELECT p.host, p.queue_id, l.qid, l.kind, o.host, o.queue_id,"
	" l.relation FROM links l JOIN messages p ON p.id = l.parent"
	" LEFT JOIN messages o ON o.id = l.other ORDER BY 1, 2, 3, 4, 5, 6, 7";

Test(store, links_rewritten_by_a_later_run_are_resolved_again)
{
	/* Runs that end while a message's hand-off to the content filter or
	 * its bounce is open: the next run rewrites the message and its
	 * links (reusing their row ids), and must resolve them again. */
	static const size_t cut_sets[][3] = {
		{ 120, 0, 0 }, { 144, 0, 0 }, { 350, 0, 0 }, { 411, 0, 0 },
		{ 737, 0, 0 }, { 120, 350, 737 },
	};
	const char *dir = tmpdir_make();
	char *text, **lines, *whole, *want, name[32];
	size_t n = fixture_lines("logs/sample.log", &text, &lines), i, k;

	whole = index_pieces(dir, "whole", (const char *const *)lines, n, NULL, 0);
	want = db_rows(whole, links_sql);
	cr_assert_gt(db_int(whole, "SELECT count(*) FROM links"
	                    " WHERE relation = 'filter'"), 0);
	for (i = 0; i < sizeof(cut_sets) / sizeof(cut_sets[0]); i++) {
		char *db, *got;
		for (k = 0; k < 3 && cut_sets[i][k]; k++)
			;
		snprintf(name, sizeof(name), "cut%zu", i);
		db = index_pieces(dir, name, (const char *const *)lines, n,
		                  cut_sets[i], k);
		got = db_rows(db, links_sql);
		cr_assert_str_eq(got, want, "cut after line %zu", cut_sets[i][0]);
		free(got);
		free(db);
	}
	free(want);
	free(whole);
	free(lines);
	free(text);
}

Test(store, an_index_of_schema_1_gets_the_sessions_table)
{
	const char *dir = tmpdir_make();
	char *log = path_join(dir, "old.log"), *db = path_join(dir, "old.db");
	const char *paths[] = { log };
	sqlite3 *raw;
	pfi_store *st;

	append_lines(log, session_log, 0, 2);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "DROP TABLE sessions; DROP TABLE stat_cells;"
	             " PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK, "%s",
	             pfi_errmsg(st));
	pfi_store_close(st);
	cr_assert_eq(db_int(db, "PRAGMA user_version"), 5);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions"), 0);
	/* The next run saves its sessions there. */
	append_lines(log, session_log, 2, 9);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM sessions WHERE pid = 4002"),
	             1);
	free(log);
	free(db);
}

/* An interrupt stops every query on the store until it resumes, also
 * those started after it: a command (stats here) runs many queries, and
 * sqlite3_interrupt alone is lost when Ctrl-C lands between two. */
Test(store, an_interrupt_stops_later_queries_until_the_store_resumes)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "s.db");
	const char *paths[] = { fixture("logs/sample.log") };
	struct pfi_stats_opts o = { .version = PFI_STATS_OPTIONS_VERSION,
	                            .by = PFI_BY_DOMAIN };
	pfi_store *st = index_into(db, paths, 1, NULL);
	struct pfi_stats *s = NULL;

	pfi_store_interrupt(st);
	cr_expect_eq(pfi_stats_new(&s, st, &o), PFI_ERROR);
	cr_expect_not_null(strstr(pfi_errmsg(st), "interrupted"), "%s",
	                   pfi_errmsg(st));
	pfi_stats_free(s);
	s = NULL;
	pfi_store_resume(st);
	cr_expect_eq(pfi_stats_new(&s, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	pfi_stats_free(s);
	pfi_store_close(st);
	free(db);
}
