/*
 * test_index.c - the write side: logs whose true answer is known
 * (testdata/logs, see EXPECTED.md there) indexed and read back from the
 * index's rows: every recipient's outcome, the links between messages,
 * and the same answer whether a log is indexed whole, as a rotated
 * compressed set in any order, or in RFC3339 form.  The correlator alone,
 * without the index, is tests/test_correlate.c.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* 2026-11-03 00:00:00 UTC: after the last line of the sample logs. */
#define SAMPLE_MTIME 1793664000

static void setup(void) { tmpdir_make(); }
static void teardown(void) { tmpdir_cleanup(); }

TestSuite(index, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* A fixture's rows without its header line, tabs turned into '|'. */
static char *expected_rows(const char *rel)
{
	char *text = slurp(fixture(rel), NULL), *body, *p, *out;

	cr_assert_not_null(text, "missing fixture %s", rel);
	body = strchr(text, '\n');
	cr_assert_not_null(body);
	for (p = body + 1; *p; p++)
		if (*p == '\t')
			*p = '|';
	out = sorted_lines(body + 1);
	free(text);
	return out;
}

static const char deliveries_sql[] =
	"SELECT d.host, coalesce(d.queue_id, '-'), coalesce(d.recipient, '-'),"
	" coalesce(d.orig_to, '-'), d.status, coalesce(d.dsn, '-'), d.attempts,"
	" coalesce(m.relation, '-'), coalesce(p.queue_id, '-')"
	" FROM deliveries d LEFT JOIN messages m ON m.id = d.message"
	" LEFT JOIN messages p ON p.id = m.parent";

static char *actual_rows(const char *db)
{
	char *rows = db_rows(db, deliveries_sql), *out = sorted_lines(rows);

	free(rows);
	return out;
}

/* Indexes fixtures (copied into the temp dir with the sample mtime). */
static char *index_fixtures(const char *const *rels, size_t n, const char *dbname)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, dbname);
	const char **paths = calloc(n, sizeof(*paths));
	size_t i;

	for (i = 0; i < n; i++) {
		const char *base = strrchr(rels[i], '/');
		paths[i] = copy_fixture(rels[i], dir, base ? base + 1 : rels[i],
		                        SAMPLE_MTIME);
	}
	pfi_store_close(index_into(db, paths, n, NULL));
	for (i = 0; i < n; i++)
		free((void *)paths[i]);
	free(paths);
	return db;
}

Test(index, every_recipient_outcome_of_the_sample_log_is_exact)
{
	const char *rels[] = { "logs/sample.log" };
	char *db = index_fixtures(rels, 1, "s.db");
	char *want = expected_rows("logs/expected.tsv"), *got = actual_rows(db);

	cr_assert_str_eq(got, want);
	free(want);
	free(got);
	free(db);
}

/* The value of key in expected-summary.txt. */
static int64_t summary(const char *key)
{
	char *text = slurp(fixture("logs/expected-summary.txt"), NULL), *p;
	size_t n = strlen(key);
	int64_t v = -1;

	cr_assert_not_null(text);
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == '=') {
			v = strtoll(p + n + 1, NULL, 10);
			break;
		}
	free(text);
	cr_assert_neq(v, -1, "no %s in expected-summary.txt", key);
	return v;
}

Test(index, info_counts_of_the_sample_log_are_exact)
{
	const char *rels[] = { "logs/sample.log" };
	char *db = index_fixtures(rels, 1, "s.db");
	struct pfi_info *info;
	pfi_store *st;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_info_new(&info, st), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(info->lines, summary("lines"));
	cr_assert_eq(info->postfix_lines, summary("postfix_lines"));
	cr_assert_eq(info->unparsed_lines, summary("unparsed_lines"));
	cr_assert_eq(info->foreign_lines, summary("foreign_lines"));
	cr_assert_eq(info->verdict_lines, summary("verdict_lines"));
	cr_assert_eq(info->messages, summary("messages"));
	cr_assert_eq(info->deliveries, summary("deliveries"));
	cr_assert_eq(info->rejects, summary("rejects"));
	pfi_info_free(info);
	pfi_store_close(st);
	free(db);
}

Test(index, a_rotated_compressed_set_in_any_order_equals_the_whole_log)
{
	const char *whole[] = { "logs/sample.log" };
	const char *shuffled[] = {
		"logs/rotated/mail.log.2.gz", "logs/rotated/mail.log",
		"logs/rotated/mail.log.5.bz2", "logs/rotated/mail.log.3.zst",
		"logs/rotated/mail.log.1", "logs/rotated/mail.log.4.xz",
	};
	char *db1 = index_fixtures(whole, 1, "whole.db");
	char *db2 = index_fixtures(shuffled, 6, "rotated.db");
	char *a = actual_rows(db1), *b = actual_rows(db2);

	cr_assert_str_eq(b, a);
	cr_assert_eq(db_int(db2, "SELECT count(*) FROM messages"),
	             db_int(db1, "SELECT count(*) FROM messages"));
	cr_assert_eq(db_int(db2, "SELECT coalesce(sum(count), 0) FROM chunks"),
	             db_int(db1, "SELECT coalesce(sum(count), 0) FROM chunks"));
	free(a);
	free(b);
	free(db1);
	free(db2);
}

Test(index, the_rfc3339_log_gives_the_same_outcomes_as_the_classic_one)
{
	const char *rels[] = { "logs/sample-rfc3339.log" };
	char *db = index_fixtures(rels, 1, "r.db");
	char *want = expected_rows("logs/expected.tsv"), *got = actual_rows(db);

	cr_assert_str_eq(got, want);
	free(want);
	free(got);
	free(db);
}

Test(index, a_reused_queue_id_is_two_messages_in_a_trace)
{
	const char *rels[] = { "logs/sample.log" };
	char *db = index_fixtures(rels, 1, "s.db");
	char *text = slurp(fixture("logs/expected-summary.txt"), NULL);
	char qid[64] = "", *p = strstr(text, "reused_queue_id=");
	const struct pfi_message *a, *b;
	pfi_trace *t;
	pfi_store *st;

	cr_assert_not_null(p);
	p += strlen("reused_queue_id=");
	memcpy(qid, p, strcspn(p, "\n") < 63 ? strcspn(p, "\n") : 63);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_trace_new(&t, st, qid), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_geq(pfi_trace_count(t), 2);
	a = pfi_trace_message(t, 0);
	b = pfi_trace_message(t, 1);
	cr_assert_str_eq(a->queue_id, qid);
	cr_assert_str_eq(b->queue_id, qid);
	cr_assert_neq(a->removed, 0, "the first lifetime ends with removed");
	cr_assert_lt(a->removed, b->received);
	cr_assert_gt(a->nlines, 0);
	cr_assert_gt(b->nlines, 0);
	pfi_trace_free(t);
	pfi_store_close(st);
	free(text);
	free(db);
}

Test(index, an_unknown_id_is_not_found)
{
	const char *rels[] = { "logs/sample.log" };
	char *db = index_fixtures(rels, 1, "s.db");
	pfi_trace *t;
	pfi_store *st;

	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_trace_new(&t, st, "NOSUCHID"), PFI_ENOTFOUND);
	cr_assert_null(t);
	pfi_store_close(st);
	free(db);
}

/* ---- postsuper -r: a requeue is a hop, like a content filter ------------------ */

/* The old ID's life ends at the pickup: its recipient is "filtered" (it
 * is marked requeued, with or without postsuper's line), and the new ID
 * is its child, which carries the outcome (expired). */
static void assert_requeue_is_a_hop(const char *db)
{
	char *msgs = db_rows(db, "SELECT m.queue_id, m.open,"
	                     " coalesce(m.relation, '-'), coalesce(p.queue_id, '-')"
	                     " FROM messages m LEFT JOIN messages p"
	                     " ON p.id = m.parent ORDER BY m.queue_id");
	char *rows = db_rows(db, "SELECT queue_id, recipient, status,"
	                     " coalesce(dsn, '-'), attempts, coalesce(child_qid, '-'),"
	                     " response FROM deliveries ORDER BY queue_id");
	char *links = db_rows(db, "SELECT p.queue_id, l.qid, l.relation,"
	                      " o.queue_id FROM links l JOIN messages p"
	                      " ON p.id = l.parent JOIN messages o ON o.id = l.other"
	                      " WHERE l.relation = 'requeue'");

	cr_assert_str_eq(msgs, "57D7B1162C3|0|requeue|E9F981161AD\n"
	                 "D4BB211618A|0|-|-\n"
	                 "E9F981161AD|0|-|-\n");
	/* The old ID's recipient says where it went, not its last deferral. */
	cr_assert_str_eq(rows, "57D7B1162C3|again@refused.test|expired|4.4.1|7|-|"
	                 "connect to mx.refused.test[127.0.0.15]:25: Connection refused\n"
	                 "D4BB211618A|user230@ok.test|sent|2.0.0|0|-|"
	                 "250 2.0.0 Ok\n"
	                 "E9F981161AD|again@refused.test|filtered|-|2|57D7B1162C3|"
	                 "requeued as 57D7B1162C3\n");
	cr_assert_str_eq(links, "57D7B1162C3|E9F981161AD|requeue|E9F981161AD\n");
	free(msgs);
	free(rows);
	free(links);
}

Test(index, a_requeued_message_continues_as_the_child_of_its_old_id)
{
	char *db = requeue_index("one", 0, SIZE_MAX, SIZE_MAX, NULL, 0);
	const struct pfi_message *a, *b;
	pfi_store *st;
	pfi_trace *t;

	assert_requeue_is_a_hop(db);
	/* The trace of either ID is the chain of both. */
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK);
	cr_assert_eq(pfi_trace_new(&t, st, "57D7B1162C3"), PFI_OK, "%s",
	             pfi_errmsg(st));
	cr_assert_eq(pfi_trace_count(t), 2);
	a = pfi_trace_message(t, 0);
	b = pfi_trace_message(t, 1);
	cr_assert_str_eq(a->queue_id, "E9F981161AD");
	cr_assert_eq(a->nchildren, 1);
	cr_assert_str_eq(a->children[0].queue_id, "57D7B1162C3");
	cr_assert_str_eq(a->children[0].relation, "requeue");
	cr_assert_str_eq(b->queue_id, "57D7B1162C3");
	cr_assert_str_eq(b->parent.queue_id, "E9F981161AD");
	cr_assert_str_eq(b->parent.relation, "requeue");
	/* The old ID left the queue at "requeued", 29 s after it arrived. */
	cr_assert_eq(a->removed - a->received, INT64_C(29000000), "%lld",
	             (long long)(a->removed - a->received));
	pfi_trace_free(t);
	pfi_store_close(st);
	free(db);
}

Test(index, a_requeue_picked_up_in_a_later_run_ends_the_stored_message)
{
	/* Run 1 ends after "requeued": the old message is stored open. */
	const size_t cut[] = { PICKUP_LINE };
	char *db = requeue_index("two", 0, SIZE_MAX, SIZE_MAX, cut, 1);
	char *left;

	assert_requeue_is_a_hop(db);
	/* When it left the queue survives its reload by run 2. */
	left = db_rows(db, "SELECT removed - received FROM messages"
	               " WHERE queue_id = 'E9F981161AD'");
	cr_assert_str_eq(left, "29000000\n");
	free(left);
	free(db);
}

Test(index, pickup_orig_id_is_a_requeue_without_the_postsuper_line)
{
	char *db = requeue_index("nops", 0, SIZE_MAX, REQUEUED_LINE, NULL, 0);

	assert_requeue_is_a_hop(db);
	free(db);
}

Test(index, a_requeue_link_found_by_the_index_points_to_the_old_id)
{
	/* The new ID's lines are indexed first, the old ID's in a later run
	 * (from another file): the index, not the correlator, links them,
	 * the old message is the parent, and its lifetime ends there as if
	 * the lines had come in order. */
	char *db = requeue_index_late("late"), *got;

	got = db_rows(db, "SELECT m.queue_id, m.relation, p.queue_id"
	              " FROM messages m JOIN messages p ON p.id = m.parent");
	cr_assert_str_eq(got, "57D7B1162C3|requeue|E9F981161AD\n");
	free(got);
	assert_requeue_is_a_hop(db);
	free(db);
}

/* ---- masked queue IDs ------------------------------------------------------- */

/*
 * Masks a queue ID the way anonymisers do: each upper-case hex run of 9 or
 * more characters (the sample's IDs) keeps its length and digits, and its
 * letters A-F map one to one onto other letters, lower case and upper case
 * mixed, so distinct IDs stay distinct but look like no Postfix ID.
 */
static void mask_ids(char *text)
{
	static const char from[] = "0123456789ABCDEF";
	static const char to[] = "0123456789xYkMqW";
	char *p = text, *s;

	while (*p) {
		for (s = p; *p && strchr(from, *p) != NULL; p++)
			;
		if (p - s >= 9 && (s == text || !isalnum((unsigned char)s[-1])) &&
		    !isalnum((unsigned char)*p))
			for (; s < p; s++)
				*s = to[strchr(from, *s) - from];
		if (*p)
			p++;
	}
}

/* Writes text to dir/name with the sample's mtime; returns the path. */
static char *write_fixture_text(const char *name, const char *text)
{
	char *path = path_join(tmpdir_make(), name);
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	fputs(text, fp);
	cr_assert_eq(fclose(fp), 0);
	append_log_lines(path, NULL, 0, 0, SAMPLE_MTIME);
	return path;
}

Test(index, a_log_whose_queue_ids_are_all_masked_correlates_the_same)
{
	const char *rels[] = { "logs/sample.log" };
	char *db = index_fixtures(rels, 1, "plain.db"), *plain = actual_rows(db);
	char *text = slurp(fixture("logs/sample.log"), NULL), *mdb, *got, *want;
	const char *paths[1];

	cr_assert_not_null(text);
	mask_ids(text);
	cr_assert_null(strstr(text, "97A971161AF"), "the IDs are masked");
	paths[0] = write_fixture_text("masked.log", text);
	mdb = path_join(tmpdir_make(), "masked.db");
	pfi_store_close(index_into(mdb, paths, 1, NULL));
	got = actual_rows(mdb);
	mask_ids(plain);
	want = sorted_lines(plain);   /* masked IDs sort otherwise */
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	free(plain);
	free(text);
	free((void *)paths[0]);
	free(mdb);
	free(db);
}

/* ---- lines syslog delivers after a reject --------------------------------- */

Test(index, cleanup_lines_logged_after_smtpds_reject_join_the_rejected_message)
{
	/* Real lines of the corpus case P1-H34 (mx1, 2026-11-22): syslog
	 * wrote cleanup's lines after smtpd's END-OF-MESSAGE reject, which
	 * once left a second, phantom message open forever. */
	static const char log[] =
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: connect from unknown[127.0.0.3]\n"
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: AD7631161A5: client=unknown[127.0.0.3]\n"
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: AD7631161A5: reject: END-OF-MESSAGE from unknown[127.0.0.3]: 554 5.7.1 <eodreject@external.test>: Sender address rejected: Message rejected after end of data; from=<eodreject@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>\n"
		"Nov 22 13:31:05 mx1 postfix/cleanup[28827]: AD7631161A5: warning: header Subject: P1-H34 end-of-data restriction REJECT from unknown[127.0.0.3]; from=<eodreject@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>\n"
		"Nov 22 13:31:05 mx1 postfix/cleanup[28827]: AD7631161A5: message-id=<P1-H34.7bd220f5ceb1@driver.example.test>\n"
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: disconnect from unknown[127.0.0.3] ehlo=1 mail=1 rcpt=1 data=0/1 quit=1 commands=4/5\n";
	const char *paths[] = { write_fixture_text("h34.log", log) };
	char *db = path_join(tmpdir_make(), "h34.db"), *got;
	struct pfi_index_report rep;

	pfi_store_close(index_into(db, paths, 1, &rep));
	got = db_rows(db, "SELECT m.queue_id, m.open, m.subject, m.message_id,"
	              " d.recipient, d.status FROM messages m"
	              " JOIN deliveries d ON d.message = m.id");
	cr_assert_str_eq(got, "AD7631161A5|0|P1-H34 end-of-data restriction REJECT|"
	                 "P1-H34.7bd220f5ceb1@driver.example.test|bob@local.test|"
	                 "rejected\n");
	cr_assert_eq(db_int(db, "SELECT count(*) FROM messages"), 1);
	cr_assert_eq(rep.messages, 1);
	cr_assert_eq(rep.open_messages, 0);
	free(got);
	free((void *)paths[0]);
	free(db);
}

/* ---- milter, before-queue filter and policy actions ------------------------- */

/* Real lines of testdata/realpostfix/mail.log (Postfix 3.7, a python
 * milter and a before-queue filter on loopback). */
static const char milter_log[] =
	"Dec  6 21:02:49 mx1 postfix/smtpd[30829]: NOQUEUE: milter-reject: RCPT from localhost[127.0.0.1]: 550 5.7.1 Rejected by pfi test milter at RCPT; from=<alice@local.test> to=<mreject-rcpt.p1@ok.test> proto=ESMTP helo=<client.example.test>\n"
	"Dec  6 21:02:49 mx1 postfix/smtpd[30829]: AC4501082BA: client=localhost[127.0.0.1]\n"
	"Dec  6 21:02:49 mx1 postfix/smtpd[30829]: AC4501082BA: milter-discard: RCPT from localhost[127.0.0.1]: milter triggers DISCARD action; from=<alice@local.test> to=<mdiscard-rcpt.p1@ok.test> proto=ESMTP helo=<client.example.test>\n"
	"Dec  6 21:02:49 mx1 postfix/cleanup[29552]: CE51F1082B9: warning: header Subject: P1-M07 MHOLD-EOM from localhost[127.0.0.1]; from=<alice@local.test> to=<mhold-eom.p1@ok.test> proto=ESMTP helo=<client.example.test>\n"
	"Dec  6 21:02:49 mx1 postfix/cleanup[29552]: CE51F1082B9: milter-hold: END-OF-MESSAGE from localhost[127.0.0.1]: milter triggers HOLD action; from=<alice@local.test> to=<mhold-eom.p1@ok.test> proto=ESMTP helo=<client.example.test>\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: connect from localhost[127.0.0.1]\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: NOQUEUE: client=localhost[127.0.0.1]\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: proxy-reject: END-OF-MESSAGE: 550 5.7.1 Message content rejected by before-queue filter (spam score 12.5); from=<alice@local.test> to=<x02.p1@ok.test> proto=ESMTP helo=<client.example.test>\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1 data=0/1 quit=1 commands=4/5\n";

Test(index, milter_and_before_queue_filter_verdicts_land_on_their_recipients)
{
	const char *paths[] = { write_fixture_text("milter.log", milter_log) };
	char *db = path_join(tmpdir_make(), "milter.db"), *got;

	/* mtime: the log is of 2026-12-06 */
	append_log_lines(paths[0], NULL, 0, 0, 1796601600);
	pfi_store_close(index_into(db, paths, 1, NULL));
	got = db_rows(db, "SELECT coalesce(queue_id, '-'), recipient, status,"
	              " coalesce(dsn, '-'), coalesce(stage, '-'),"
	              " coalesce(client_ip, '-') FROM deliveries ORDER BY recipient");
	cr_assert_str_eq(got,
		"AC4501082BA|mdiscard-rcpt.p1@ok.test|discarded|-|-|-\n"
		"CE51F1082B9|mhold-eom.p1@ok.test|held|-|-|-\n"
		"-|mreject-rcpt.p1@ok.test|rejected|5.7.1|RCPT|127.0.0.1\n"
		"-|x02.p1@ok.test|rejected|5.7.1|END-OF-MESSAGE|127.0.0.1\n");
	free(got);
	free((void *)paths[0]);
	free(db);
}

/* ---- messages Postfix drops without a "removed" line ------------------------ */

/* Real lines of testdata/realpostfix/mail.log (Postfix 3.7, 2026-12-06):
 * a sender DISCARD before the queue ID, a sendmail message cleanup
 * rejected (and bounced), a client lost during DATA (cleanup's lines come
 * after smtpd's), a milter that cleanup gave up on, a reject at DATA that
 * names no recipient, and a before-queue filter refusing a RCPT. */
static const char dropped_log[] =
	"Dec  6 21:02:37 mx1 postfix/smtpd[29071]: connect from unknown[127.0.0.3]\n"
	"Dec  6 21:02:37 mx1 postfix/smtpd[29071]: NOQUEUE: discard: RCPT from unknown[127.0.0.3]: <dropme@external.test>: Sender address silently dropped by sender policy; from=<dropme@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>\n"
	"Dec  6 21:02:37 mx1 postfix/smtpd[29071]: 3B15F10828E: client=unknown[127.0.0.3]\n"
	"Dec  6 21:02:37 mx1 postfix/smtpd[29071]: disconnect from unknown[127.0.0.3] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n"
	"Dec  6 21:02:51 mx1 postfix/pickup[28620]: A789D1082C8: uid=0 from=<alice@local.test>\n"
	"Dec  6 21:02:51 mx1 postfix/cleanup[29187]: A789D1082C8: milter-reject: RCPT from localhost[127.0.0.1]: 5.7.1 Rejected by pfi test milter at RCPT; from=<alice@local.test> to=<mreject-rcpt.p1@ok.test>\n"
	"Dec  6 21:02:51 mx1 postfix/cleanup[29187]: warning: A789D1082C8: milter configuration error: can't reject recipient in non-smtpd(8) submission\n"
	"Dec  6 21:02:51 mx1 postfix/cleanup[29187]: warning: A789D1082C8: message not accepted, try again later\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: connect from localhost[127.0.0.1]\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: NOQUEUE: client=localhost[127.0.0.1]\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: warning: proxy 127.0.0.1:10030 rejected \"rcpt TO:<proxyrej-rcpt.p1@ok.test>\": \"550 5.1.1 <proxyrej-rcpt.p1@ok.test>: Recipient rejected by before-queue filter\"\n"
	"Dec  6 21:02:52 mx1 postfix/smtpd[31104]: disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=1/2 data=0/1 quit=1 commands=4/6\n"
	"Dec  6 21:02:53 mx1 postfix/pickup[28620]: 26B1E1082D3: uid=0 from=<alice@local.test>\n"
	"Dec  6 21:02:53 mx1 postfix/cleanup[29552]: 26B1E1082D3: reject: header Subject: P1-C07 REJECTME from local; from=<alice@local.test> to=<c07.p1@ok.test>: 5.7.1 Subject rejected by header_checks\n"
	"Dec  6 21:02:53 mx1 postfix/cleanup[29552]: 26B1E1082D3: message-id=<P1-C07.c278f6823eec@driver.example.test>\n"
	"Dec  6 21:02:53 mx1 postfix/cleanup[29552]: 26B1E1082D3: to=<c07.p1@ok.test>, relay=none, delay=0.08, delays=0.08/0/0/0, dsn=5.7.1, status=bounced (Subject rejected by header_checks)\n"
	"Dec  6 21:02:53 mx1 postfix/bounce[29292]: 26B1E1082D3: sender non-delivery notification: 2F6061082D6\n"
	"Dec  6 21:03:02 mx1 postfix/smtpd[31395]: connect from unknown[127.0.0.3]\n"
	"Dec  6 21:03:02 mx1 postfix/smtpd[31395]: 1B8451082E2: client=unknown[127.0.0.3]\n"
	"Dec  6 21:03:03 mx1 postfix/smtpd[31395]: lost connection after DATA (38 bytes) from unknown[127.0.0.3]\n"
	"Dec  6 21:03:03 mx1 postfix/smtpd[31395]: disconnect from unknown[127.0.0.3] ehlo=1 mail=1 rcpt=1 data=0/1 commands=3/4\n"
	"Dec  6 21:03:03 mx1 postfix/cleanup[29552]: 1B8451082E2: warning: header Subject: half a message from unknown[127.0.0.3]; from=<gone.p1@external.test> to=<alice@local.test> proto=ESMTP helo=<gone-p1.external.test>\n"
	"Dec  6 21:03:03 mx1 postfix/cleanup[29552]: 1B8451082E2: message-id=<>\n"
	"Dec  6 21:03:38 mx1 postfix/smtpd[3342]: connect from unknown[127.0.0.3]\n"
	"Dec  6 21:03:38 mx1 postfix/smtpd[3342]: 4jjHlG1plCz881X: client=unknown[127.0.0.3]\n"
	"Dec  6 21:03:38 mx1 postfix/smtpd[3342]: 4jjHlG1plCz881X: reject: DATA from unknown[127.0.0.3]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> proto=ESMTP helo=<mail3.external.test>\n"
	"Dec  6 21:03:38 mx1 postfix/smtpd[3342]: disconnect from unknown[127.0.0.3] ehlo=1 mail=1 rcpt=2 data=0/1 quit=1 commands=5/6\n";

Test(index, messages_postfix_drops_without_a_removed_line_are_closed_once)
{
	const char *paths[] = { write_fixture_text("dropped.log", dropped_log) };
	char *db = path_join(tmpdir_make(), "dropped.db"), *got;
	struct pfi_index_report rep;

	append_log_lines(paths[0], NULL, 0, 0, 1796601600);
	pfi_store_close(index_into(db, paths, 1, &rep));
	/* One message per queue ID, none left open (postqueue -j listed none
	 * of them), and no phantom for the lines after each end. */
	got = db_rows(db, "SELECT queue_id, open, coalesce(sender, '-')"
	              " FROM messages ORDER BY queue_id");
	/* qmgr names none of them: the sender is the verdict's from=. */
	cr_assert_str_eq(got, "1B8451082E2|0|gone.p1@external.test\n"
	                 "26B1E1082D3|0|alice@local.test\n3B15F10828E|0|-\n"
	                 "4jjHlG1plCz881X|0|\nA789D1082C8|0|alice@local.test\n");
	free(got);
	cr_assert_eq(rep.open_messages, 0);
	got = db_rows(db, "SELECT coalesce(queue_id, '-'), coalesce(recipient, '-'),"
	              " status, coalesce(dsn, '-'), coalesce(stage, '-'),"
	              " coalesce(client_ip, '-'), coalesce(response, '-')"
	              " FROM deliveries ORDER BY queue_id, recipient");
	cr_assert_str_eq(got,
		"-|proxyrej-rcpt.p1@ok.test|rejected|5.1.1|RCPT|127.0.0.1|"
		"<proxyrej-rcpt.p1@ok.test>: Recipient rejected by before-queue filter\n"
		"1B8451082E2|alice@local.test|rejected|-|DATA|-|"
		"lost connection after DATA (38 bytes)\n"
		"26B1E1082D3|c07.p1@ok.test|bounced|5.7.1|header|-|"
		"Subject rejected by header_checks\n"
		"3B15F10828E|bob@local.test|discarded|-|-|-|-\n"
		"4jjHlG1plCz881X||rejected|5.5.3|DATA|-|"
		"<DATA>: Data command rejected: Multi-recipient bounce\n"
		"A789D1082C8|mreject-rcpt.p1@ok.test|rejected|5.7.1|RCPT|-|"
		"Rejected by pfi test milter at RCPT\n");
	free(got);
	free((void *)paths[0]);
	free(db);
}

Test(index, a_delay_warning_is_a_child_with_relation_delay)
{
	/* Real lines of testdata/realpostfix/mail.log: bounce(8) warns the
	 * sender of 509B010825C that it is still queued. */
	static const char log[] =
		"Dec  6 21:03:26 mx1 postfix/pickup[28620]: 509B010825C: uid=102 from=<alice@local.test>\n"
		"Dec  6 21:03:26 mx1 postfix/qmgr[28621]: 509B010825C: from=<alice@local.test>, size=642, nrcpt=1 (queue active)\n"
		"Dec  6 21:03:47 mx1 postfix/cleanup[4176]: 4jjHlR4pdRz881k: message-id=<4jjHlR4pdRz881k@mx1.example.test>\n"
		"Dec  6 21:03:47 mx1 postfix/qmgr[2907]: 4jjHlR4pdRz881k: from=<>, size=2747, nrcpt=1 (queue active)\n"
		"Dec  6 21:03:47 mx1 postfix/bounce[3506]: 509B010825C: sender delay notification: 4jjHlR4pdRz881k\n"
		"Dec  6 21:03:47 mx1 postfix/local[3402]: 4jjHlR4pdRz881k: to=<alice@local.test>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)\n"
		"Dec  6 21:03:47 mx1 postfix/qmgr[2907]: 4jjHlR4pdRz881k: removed\n";
	const char *paths[] = { write_fixture_text("delay.log", log) };
	char *db = path_join(tmpdir_make(), "delay.db"), *got;

	append_log_lines(paths[0], NULL, 0, 0, 1796601600);
	pfi_store_close(index_into(db, paths, 1, NULL));
	got = db_rows(db, "SELECT m.queue_id, coalesce(m.relation, '-'),"
	              " coalesce(p.queue_id, '-') FROM messages m LEFT JOIN"
	              " messages p ON p.id = m.parent ORDER BY m.queue_id");
	cr_assert_str_eq(got, "4jjHlR4pdRz881k|delay|509B010825C\n"
	                 "509B010825C|-|-\n");
	free(got);
	free((void *)paths[0]);
	free(db);
}

Test(index, lines_smtp_logs_without_a_queue_id_land_on_the_message_it_delivers)
{
	/* Real lines of testdata/realpostfix/mail.log: smtp[29324] logs the
	 * failed TLS handshake, then the deferral that names the message;
	 * another smtp process works on another message meanwhile. */
	static const char log[] =
		"Dec  6 21:02:54 mx1 postfix/qmgr[28621]: D93E31082D4: from=<alice@local.test>, size=527, nrcpt=1 (queue active)\n"
		"Dec  6 21:02:54 mx1 postfix/smtp[29324]: SSL_connect error to mx.tlsfail.test[127.0.0.25]:25: lost connection\n"
		"Dec  6 21:02:54 mx1 postfix/smtp[29255]: connect to mx.refused.test[127.0.0.15]:25: Connection refused\n"
		"Dec  6 21:02:54 mx1 postfix/smtp[29324]: D93E31082D4: to=<s02.p1@tlsfail.test>, relay=mx.tlsfail.test[127.0.0.25]:25, delay=0.06, delays=0.01/0/0.05/0, dsn=4.7.5, status=deferred (Cannot start TLS: handshake failure)\n";
	const char *paths[] = { write_fixture_text("attempt.log", log) };
	char *db = path_join(tmpdir_make(), "attempt.db");
	pfi_store *st;
	pfi_trace *t = NULL;
	const struct pfi_message *m;

	append_log_lines(paths[0], NULL, 0, 0, 1796601600);
	st = index_into(db, paths, 1, NULL);
	cr_assert_eq(pfi_trace_new(&t, st, "D93E31082D4"), PFI_OK);
	cr_assert_eq(pfi_trace_count(t), 1);
	m = pfi_trace_message(t, 0);
	cr_assert_eq(m->nlines, 3);
	cr_assert_not_null(strstr(m->lines[1], "SSL_connect error"));
	cr_assert_not_null(strstr(m->lines[2], "status=deferred"));
	pfi_trace_free(t);
	pfi_store_close(st);
	free((void *)paths[0]);
	free(db);
}
