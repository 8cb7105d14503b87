/*
 * test_links.c - link resolution by the write side (write-links.c, run by
 * pfi_index_paths): a content filter's re-injected copy, a relay to
 * another indexed host, bounce and delay notifications, a forward, a
 * postsuper requeue; found in one run or in a later one, with the files
 * in either order; a relay by address found by the copy's Message-ID or
 * client; and a reused queue ID too far in time is not linked.
 * The known answers: testdata/logs/expected.tsv (relation_to_parent and
 * parent_queue_id) and expected-summary.txt (the pairs), and logs written
 * here.  messages.parent/relation and links.other are checked.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* 2026-11-03 00:00:00 UTC: after the last line of the sample logs. */
#define SAMPLE_MTIME 1793664000

static const char *dir;

static void setup(void) { dir = tmpdir_make(); }
static void teardown(void) { tmpdir_cleanup(); }

TestSuite(links, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* Every child with its relation and parent: "host|qid|relation|parent". */
static const char parents_sql[] =
	"SELECT m.host, m.queue_id, m.relation, p.queue_id FROM messages m"
	" JOIN messages p ON p.id = m.parent ORDER BY m.host, m.queue_id";

/* The children of expected.tsv in the same form. */
static char *expected_parents(void)
{
	char *text, **lines, *out = NULL;
	size_t n = fixture_lines("logs/expected.tsv", &text, &lines), i, len = 0;
	FILE *mem = open_memstream(&out, &len);
	char host[16], qid[32], rel[16], parent[32], row[128];

	/* One row per child (expected.tsv has one per recipient), sorted. */
	char rows[32][128];
	size_t nr = 0, j;

	for (i = 1; i < n; i++) {
		if (sscanf(lines[i], "%15s %31s %*s %*s %*s %*s %*s %15s %31s", host,
		           qid, rel, parent) != 4 || strcmp(rel, "-") == 0)
			continue;
		snprintf(row, sizeof(row), "%s|%s|%s|%s", host, qid, rel, parent);
		for (j = 0; j < nr && strcmp(rows[j], row) != 0; j++)
			;
		if (j == nr) {
			cr_assert_lt(nr, 32);
			strcpy(rows[nr++], row);
		}
	}
	qsort(rows, nr, sizeof(rows[0]), (int (*)(const void *, const void *))strcmp);
	for (i = 0; i < nr; i++)
		fprintf(mem, "%s\n", rows[i]);
	fclose(mem);
	free(lines);
	free(text);
	return out;
}

/* Lines of the sample log logged by `host` (NULL: all), written to
 * dir/name with the sample's mtime; returns the path. */
static char *sample_part(const char *name, const char *host)
{
	char *text, **lines, *path = path_join(dir, name), key[32];
	size_t n = fixture_lines("logs/sample.log", &text, &lines), i, k = 0;

	snprintf(key, sizeof(key), " %s ", host ? host : "");
	for (i = 0; i < n; i++)
		if (host == NULL || strncmp(lines[i] + 15, key, strlen(key)) == 0)
			lines[k++] = lines[i];
	cr_assert_gt(k, 0);
	append_log_lines(path, (const char *const *)lines, 0, k, SAMPLE_MTIME);
	free(lines);
	free(text);
	return path;
}

/* The links of the sample that expected-summary.txt names, as
 * "parent|qid|relation|other" (other: the linked message's host and
 * queue ID; one row for the links of a message's several recipients). */
static char *named_links(const char *db)
{
	return db_rows(db, "SELECT DISTINCT p.queue_id, l.qid,"
	               " coalesce(l.relation, '-'),"
	               " coalesce(o.host || ':' || o.queue_id, '-') FROM links l"
	               " JOIN messages p ON p.id = l.parent LEFT JOIN messages o"
	               " ON o.id = l.other WHERE l.qid IN ('11DD71161BB',"
	               " 'E28ED2A0F35', 'D220A1161DD', '5967E1161F9')"
	               " ORDER BY l.qid");
}

static const char sample_links[] =
	"74C0F1161B2|11DD71161BB|filter|mx1:11DD71161BB\n"
	"8778A1161F2|5967E1161F9|forward|mx1:5967E1161F9\n"
	"29A981161D4|D220A1161DD|bounce|mx1:D220A1161DD\n"
	"AD92B1161BF|E28ED2A0F35|relay|mx2:E28ED2A0F35\n";

static void assert_sample_links(const char *db)
{
	char *want = expected_parents(), *got = db_rows(db, parents_sql);

	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	got = named_links(db);
	cr_assert_str_eq(got, sample_links);
	free(got);
}

Test(links, the_sample_logs_links_are_resolved_in_one_run)
{
	char *log = sample_part("mail.log", NULL), *db = path_join(dir, "one.db");
	const char *paths[] = { log };

	pfi_store_close(index_into(db, paths, 1, NULL));
	assert_sample_links(db);
	free(log);
	free(db);
}

/* Link ids a first run resolves at a time (lib/write.h; its header
 * would bring the library's banned-function guards into this file). */
extern int64_t pfi_link_slice;

/* What resolving links decides: each link's other side and relation,
 * each message's parent, lifetime and flags, each recipient's status. */
static const char resolved_sql[] =
	"SELECT 'l', id, parent, other, relation, NULL, NULL FROM links"
	" UNION ALL SELECT 'm', id, parent, relation, open, flags, NULL"
	" FROM messages UNION ALL SELECT 'd', id, message, status, dsn,"
	" child_qid, response FROM deliveries ORDER BY 1, 2";

/* A first run resolves its links a slice of link ids at a time, the
 * choices of one slice applied before the next is read: any slice size
 * decides what one pass over all links does. */
Test(links, links_resolved_in_slices_are_those_of_one_pass)
{
	static const int64_t slices[] = { 1, 2, 3, 5 };
	int64_t dflt = pfi_link_slice;
	char *log = sample_part("mail.log", NULL), *db = path_join(dir, "one.db");
	const char *paths[] = { log };
	char *want, name[32];
	size_t i;

	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_gt(db_int(db, "SELECT count(*) FROM links"), 5);
	cr_assert_gt(dflt, db_int(db, "SELECT max(id) FROM links"));
	want = db_rows(db, resolved_sql);
	for (i = 0; i < sizeof(slices) / sizeof(slices[0]); i++) {
		char *sliced, *got;
		snprintf(name, sizeof(name), "slice%zu.db", i);
		sliced = path_join(dir, name);
		pfi_link_slice = slices[i];
		pfi_store_close(index_into(sliced, paths, 1, NULL));
		pfi_link_slice = dflt;
		got = db_rows(sliced, resolved_sql);
		cr_assert_str_eq(got, want, "slices of %lld links",
		                 (long long)slices[i]);
		assert_sample_links(sliced);
		free(got);
		free(sliced);
	}
	free(want);
	free(log);
	free(db);
}

Test(links, a_relay_to_another_hosts_file_is_linked_in_either_order)
{
	char *mx1 = sample_part("mx1.log", "mx1"), *mx2 = sample_part("mx2.log", "mx2");
	const char *paths[2];
	char *db;
	int order;

	for (order = 0; order < 2; order++) {
		db = path_join(dir, order ? "21.db" : "12.db");
		paths[0] = order ? mx2 : mx1;
		paths[1] = order ? mx1 : mx2;
		pfi_store_close(index_into(db, paths, 2, NULL));
		assert_sample_links(db);
		free(db);
	}
	free(mx1);
	free(mx2);
}

Test(links, a_link_whose_other_side_comes_in_a_later_run_is_resolved_then)
{
	char *mx1 = sample_part("mx1.log", "mx1"), *mx2 = sample_part("mx2.log", "mx2");
	char *db = path_join(dir, "later.db"), *got;
	const char *first[] = { mx1 }, *second[] = { mx2 };

	pfi_store_close(index_into(db, first, 1, NULL));
	/* Run 1 knows no mx2: the relay's link is open (whether it is a
	 * relay or a filter is known when its other side is), the rest
	 * resolved. */
	got = named_links(db);
	cr_assert_str_eq(got, "74C0F1161B2|11DD71161BB|filter|mx1:11DD71161BB\n"
	                 "8778A1161F2|5967E1161F9|forward|mx1:5967E1161F9\n"
	                 "29A981161D4|D220A1161DD|bounce|mx1:D220A1161DD\n"
	                 "AD92B1161BF|E28ED2A0F35|-|-\n");
	free(got);
	pfi_store_close(index_into(db, second, 1, NULL));
	assert_sample_links(db);
	/* And the other order: the child first, its parent's link later. */
	free(db);
	db = path_join(dir, "later2.db");
	pfi_store_close(index_into(db, second, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages WHERE parent"
	                    " IS NOT NULL"), 0);
	pfi_store_close(index_into(db, first, 1, NULL));
	assert_sample_links(db);
	free(mx1);
	free(mx2);
	free(db);
}

/* Writes text to dir/name and indexes it into a new index, dir/name.db,
 * whose path it returns. */
static char *index_text(const char *name, const char *text)
{
	char *path = path_join(dir, name), *db, dbname[64];
	FILE *fp = fopen(path, "w");
	const char *paths[] = { path };

	cr_assert_not_null(fp);
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
	snprintf(dbname, sizeof(dbname), "%s.db", name);
	db = path_join(dir, dbname);
	pfi_store_close(index_into(db, paths, 1, NULL));
	free(path);
	return db;
}

/* A relay from mx1 "queued as 5B4C3D2E1F" at 2026-11-02 10:00, and mx2's
 * message 5B4C3D2E1F `later` after it. */
static char *relay_and_reuse(const char *name, const char *later_stamp)
{
	char text[4096];

	snprintf(text, sizeof(text),
		"2026-11-02T10:00:00+00:00 mx1 postfix/qmgr[300]: 4F3A21C0B2: from=<a@example.org>, size=10, nrcpt=1 (queue active)\n"
		"2026-11-02T10:00:01+00:00 mx1 postfix/smtp[400]: 4F3A21C0B2: to=<b@example.net>, relay=mx2.example.net[192.0.2.2]:25, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 5B4C3D2E1F)\n"
		"2026-11-02T10:00:01+00:00 mx1 postfix/qmgr[300]: 4F3A21C0B2: removed\n"
		"%s mx2 postfix/qmgr[310]: 5B4C3D2E1F: from=<a@example.org>, size=20, nrcpt=1 (queue active)\n"
		"%s mx2 postfix/local[510]: 5B4C3D2E1F: to=<b@example.net>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n"
		"%s mx2 postfix/qmgr[310]: 5B4C3D2E1F: removed\n",
		later_stamp, later_stamp, later_stamp);
	return index_text(name, text);
}

Test(links, a_reused_queue_id_far_in_time_is_not_the_relays_copy)
{
	char *near = relay_and_reuse("near", "2026-11-02T10:00:02+00:00");
	char *far = relay_and_reuse("far", "2026-11-04T10:00:02+00:00");
	char *got;

	got = db_rows(near, parents_sql);
	cr_assert_str_eq(got, "mx2|5B4C3D2E1F|relay|4F3A21C0B2\n");
	free(got);
	got = db_rows(far, parents_sql);
	cr_assert_str_eq(got, "");
	free(got);
	cr_assert_eq(db_int(far, "SELECT count(*) FROM links WHERE other IS NULL"), 1);
	free(near);
	free(far);
}

/*
 * mx1 relays 4F3A21C0B2 to `relay`, which answers "queued as 5B4C3D2E1F";
 * mx2's 5B4C3D2E1F came from `client` with Message-ID `msgid`.  Returns
 * the parents of the index of that log, as parents_sql gives them.
 */
static char *relay_parents(const char *name, const char *relay,
                           const char *client, const char *msgid)
{
	char text[4096], *db, *got;

	snprintf(text, sizeof(text),
		"2026-11-02T10:00:00+00:00 mx1 postfix/cleanup[200]: 4F3A21C0B2: message-id=<a1@example.org>\n"
		"2026-11-02T10:00:00+00:00 mx1 postfix/qmgr[300]: 4F3A21C0B2: from=<a@example.org>, size=10, nrcpt=1 (queue active)\n"
		"2026-11-02T10:00:01+00:00 mx2 postfix/smtpd[600]: 5B4C3D2E1F: client=%s\n"
		"2026-11-02T10:00:01+00:00 mx2 postfix/cleanup[610]: 5B4C3D2E1F: message-id=<%s>\n"
		"2026-11-02T10:00:01+00:00 mx2 postfix/qmgr[310]: 5B4C3D2E1F: from=<a@example.org>, size=20, nrcpt=1 (queue active)\n"
		"2026-11-02T10:00:01+00:00 mx1 postfix/smtp[400]: 4F3A21C0B2: to=<b@example.net>, relay=%s, delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 5B4C3D2E1F)\n"
		"2026-11-02T10:00:01+00:00 mx1 postfix/qmgr[300]: 4F3A21C0B2: removed\n"
		"2026-11-02T10:00:02+00:00 mx2 postfix/local[510]: 5B4C3D2E1F: to=<b@example.net>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n"
		"2026-11-02T10:00:02+00:00 mx2 postfix/qmgr[310]: 5B4C3D2E1F: removed\n",
		client, msgid, relay);
	db = index_text(name, text);
	got = db_rows(db, parents_sql);
	free(db);
	return got;
}

Test(links, a_relay_by_address_finds_the_copy_by_its_message_id_or_client)
{
	static const char *const cases[][4] = {
		/* relay, the copy's client, its Message-ID; linked? */
		{ "mx2.example.net[192.0.2.2]:25", "unknown[192.0.2.1]", "other@x", "y" },
		{ "mx2[192.0.2.2]:25", "unknown[192.0.2.1]", "other@x", "y" },
		{ "mx3.example.net[192.0.2.3]:25", "unknown[192.0.2.1]", "other@x", "n" },
		{ "192.0.2.2[192.0.2.2]:25", "unknown[192.0.2.1]", "a1@example.org", "y" },
		{ "192.0.2.2[192.0.2.2]:25", "mx1.example.net[192.0.2.1]", "other@x", "y" },
		{ "192.0.2.2[192.0.2.2]:25", "mx1[192.0.2.1]", "other@x", "y" },
		{ "192.0.2.2[192.0.2.2]:25", "mx10.example.net[192.0.2.1]", "other@x", "n" },
		{ "192.0.2.2[192.0.2.2]:25", "unknown[192.0.2.1]", "other@x", "n" },
	};
	char name[16], *got;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "relay%zu", i);
		got = relay_parents(name, cases[i][0], cases[i][1], cases[i][2]);
		cr_assert_str_eq(got, cases[i][3][0] == 'y'
		                 ? "mx2|5B4C3D2E1F|relay|4F3A21C0B2\n" : "",
		                 "relay=%s, client=%s, message-id=<%s>", cases[i][0],
		                 cases[i][1], cases[i][2]);
		free(got);
	}
}

Test(links, a_delay_notification_and_a_requeue_are_children_of_their_message)
{
	static const char log[] =
		"Dec  6 21:03:26 mx1 postfix/pickup[28620]: 509B010825C: uid=102 from=<alice@local.test>\n"
		"Dec  6 21:03:26 mx1 postfix/qmgr[28621]: 509B010825C: from=<alice@local.test>, size=642, nrcpt=1 (queue active)\n"
		"Dec  6 21:03:47 mx1 postfix/cleanup[4176]: 4jjHlR4pdRz881k: message-id=<4jjHlR4pdRz881k@mx1.example.test>\n"
		"Dec  6 21:03:47 mx1 postfix/qmgr[2907]: 4jjHlR4pdRz881k: from=<>, size=2747, nrcpt=1 (queue active)\n"
		"Dec  6 21:03:47 mx1 postfix/bounce[3506]: 509B010825C: sender delay notification: 4jjHlR4pdRz881k\n"
		"Dec  6 21:03:47 mx1 postfix/local[3402]: 4jjHlR4pdRz881k: to=<alice@local.test>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)\n"
		"Dec  6 21:03:47 mx1 postfix/qmgr[2907]: 4jjHlR4pdRz881k: removed\n";
	char *path = path_join(dir, "delay.log"), *db = path_join(dir, "delay.db");
	const char *paths[] = { path };
	char *got, *rq;
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(log, fp);
	cr_assert_eq(fclose(fp), 0);
	append_log_lines(path, NULL, 0, 0, 1796601600);
	pfi_store_close(index_into(db, paths, 1, NULL));
	got = db_rows(db, parents_sql);
	cr_assert_str_eq(got, "mx1|4jjHlR4pdRz881k|delay|509B010825C\n");
	free(got);
	got = db_rows(db, "SELECT l.relation, o.queue_id FROM links l JOIN"
	              " messages o ON o.id = l.other");
	cr_assert_str_eq(got, "delay|4jjHlR4pdRz881k\n");
	free(got);
	/* postsuper -r, the new ID's lines indexed before the old ID's. */
	rq = requeue_index_late("late");
	got = db_rows(rq, parents_sql);
	cr_assert_str_eq(got, "mx1|57D7B1162C3|requeue|E9F981161AD\n");
	free(got);
	free(rq);
	free(path);
	free(db);
}
