/*
 * test_rollup.c - the stats cells (write-rollup.c) a run keeps up to date
 * by difference equal the cells built afresh from the rows
 * (pfi_rollup_rebuild_all into a copy of the index): after a first run,
 * after runs that change messages of earlier runs (a log indexed piece by
 * piece, a relay's copy and a requeue's old ID indexed later), and after
 * a prune.  Cells are compared summed by key, so that a run may add a
 * difference as a row of its own.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "write.h"

/* 2026-11-03 00:00:00 UTC: after the last line of the sample logs. */
#define SAMPLE_MTIME 1793664000
/* 2026-11-02T10:00:00Z, in microseconds. */
#define T1000 INT64_C(1793613600000000)

static const char *dir;

static void setup(void) { dir = tmpdir_make(); }
static void teardown(void) { tmpdir_cleanup(); }

TestSuite(rollup, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* The cells summed by key; delays as the sorted blobs of the key. */
static const char cells_sql[] =
	"SELECT hour, kind, coalesce(host, '-'), coalesce(domain, '-'),"
	" coalesce(sender_domain, '-'), coalesce(status, '-'),"
	" coalesce(dsn, '-'), coalesce(code, '-'), coalesce(class, '-'),"
	" coalesce(tls, '-'), sum(n), sum(m),"
	" (SELECT group_concat(h, ',') FROM (SELECT hex(c2.delays) AS h"
	"   FROM stat_cells c2 WHERE c2.kind = c.kind"
	"   AND c2.hour IS c.hour AND c2.host IS c.host AND c2.domain IS c.domain"
	"   AND c2.sender_domain IS c.sender_domain AND c2.status IS c.status"
	"   AND c2.dsn IS c.dsn AND c2.code IS c.code AND c2.class IS c.class"
	"   AND c2.tls IS c.tls AND c2.delays IS NOT NULL ORDER BY h))"
	" FROM stat_cells c GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
	" HAVING sum(n) != 0 OR sum(m) != 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10";

/* Copies the file at `from` to `to`. */
static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = slurp(from, &len);
	FILE *fp = fopen(to, "w");

	cr_assert_not_null(data);
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	free(data);
}

/* The index's cells equal those rebuilt from its rows; returns them. */
static char *assert_cells_are_the_rows(const char *db)
{
	char *copy = NULL, *kept, *rebuilt;
	pfi_store *st;

	cr_assert_neq(asprintf(&copy, "%s.rebuilt", db), -1);
	copy_file(db, copy);
	cr_assert_eq(pfi_store_open(&st, copy, PFI_OPEN_WRITE), PFI_OK);
	cr_assert_eq(pfi_rollup_rebuild_all(st), PFI_OK, "%s", pfi_errmsg(st));
	pfi_store_close(st);
	kept = db_rows(db, cells_sql);
	rebuilt = db_rows(copy, cells_sql);
	cr_assert_gt(strlen(rebuilt), 0, "the rows make cells");
	cr_assert_str_eq(kept, rebuilt);
	free(rebuilt);
	free(copy);
	return kept;
}

/* The sample log in runs ending after the lines in cuts; the index. */
static char *sample_in_runs(const char *name, const size_t *cuts, size_t n)
{
	char *text, **lines, *db, *log, file[64];
	size_t nl = fixture_lines("logs/sample.log", &text, &lines);

	snprintf(file, sizeof(file), "%s.log", name);
	log = path_join(dir, file);
	snprintf(file, sizeof(file), "%s.db", name);
	db = path_join(dir, file);
	index_in_runs(log, db, (const char *const *)lines, nl, cuts, n,
	              SAMPLE_MTIME);
	free(log);
	free(lines);
	free(text);
	return db;
}

Test(rollup, the_cells_of_a_first_run_are_the_rows)
{
	char *db = sample_in_runs("one", NULL, 0);

	free(assert_cells_are_the_rows(db));
	free(db);
}

Test(rollup, runs_that_change_earlier_messages_leave_the_cells_the_rows)
{
	/* Cuts inside lifetimes: a deferral finished later, a filter copy,
	 * a bounce notification, a relay's copy, lines after a reject. */
	static const size_t cuts[][4] = {
		{ 120 }, { 123, 197 }, { 140, 145, 300, 600 }, { 30, 31, 32, 33 },
		{ 196, 198, 410, 412 },
	};
	char *whole = sample_in_runs("whole", NULL, 0), *want, *got, name[16];
	size_t i, n;

	want = assert_cells_are_the_rows(whole);
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char *db;

		for (n = 0; n < 4 && cuts[i][n]; n++)
			;
		snprintf(name, sizeof(name), "cut%zu", i);
		db = sample_in_runs(name, cuts[i], n);
		got = assert_cells_are_the_rows(db);
		/* And what one run counts. */
		cr_assert_str_eq(got, want, "cuts %zu", i);
		free(got);
		free(db);
	}
	free(want);
	free(whole);
}

/* The sample's lines of one host in dir/name; the path. */
static char *sample_host(const char *name, const char *host)
{
	char *text, **lines, *path = path_join(dir, name), key[16];
	size_t n = fixture_lines("logs/sample.log", &text, &lines), i, k = 0;

	snprintf(key, sizeof(key), " %s ", host);
	for (i = 0; i < n; i++)
		if (strncmp(lines[i] + 15, key, strlen(key)) == 0)
			lines[k++] = lines[i];
	append_log_lines(path, (const char *const *)lines, 0, k, SAMPLE_MTIME);
	free(lines);
	free(text);
	return path;
}

Test(rollup, links_resolved_by_a_later_run_leave_the_cells_the_rows)
{
	char *mx1 = sample_host("mx1.log", "mx1"), *mx2 = sample_host("mx2.log", "mx2");
	char *db = path_join(dir, "later.db"), *rq;
	const char *a[] = { mx2 }, *b[] = { mx1 };

	/* The relay's copy first, the message that relayed it later. */
	pfi_store_close(index_into(db, a, 1, NULL));
	free(assert_cells_are_the_rows(db));
	pfi_store_close(index_into(db, b, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages WHERE"
	                    " relation = 'relay'"), 1);
	free(assert_cells_are_the_rows(db));
	/* A requeue's new ID first, its old ID in a later run. */
	rq = requeue_index_late("rq");
	free(assert_cells_are_the_rows(rq));
	free(rq);
	free(mx1);
	free(mx2);
	free(db);
}

Test(rollup, after_a_prune_the_cells_are_the_rows_left)
{
	char *db = sample_in_runs("prune", NULL, 0), *before, *after;
	pfi_store *st;

	before = assert_cells_are_the_rows(db);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK);
	cr_assert_eq(pfi_prune(st, T1000, NULL), PFI_OK, "%s", pfi_errmsg(st));
	pfi_store_close(st);
	after = assert_cells_are_the_rows(db);
	cr_assert_str_neq(after, before, "the prune removed counted rows");
	free(before);
	free(after);
	free(db);
}
