/*
 * test_correlate.c - the correlator alone: real log lines, parsed by the
 * real syslog and Postfix parsers as an index run parses them, fed to
 * pfi_corr_feed with a sink that records everything handed over (each
 * message's version with its recipients' outcomes, links and parent, each
 * NOQUEUE reject, late line, SASL failure and saved session), checked
 * against answers known without pfi: the real-Postfix corpus's ground
 * truth (testdata/realpostfix/expected-outcomes.tsv, written from
 * ground_truth.json by tools/corpus-truth.py) and the sample log's
 * (testdata/logs/expected.tsv).  No index is opened here: what the write
 * side makes of the same lines is tests/test_index.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "helpers.h"

/* 2026-11-03 00:00:00 UTC: after the last line of the sample logs. */
#define SAMPLE_MTIME 1793664000
/* 2026-12-07 00:00:00 UTC: after the last line of the real corpus. */
#define REAL_MTIME 1796601600

static void setup(void) { tmpdir_make(); }
static void teardown(void) { tmpdir_cleanup(); }

TestSuite(correlate, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(60));

/* ---- a sink that records what the correlator hands over --------------------- */

struct seen_rcpt {
	char *to, *orig_to, *dsn, *child_qid;
	char *outcome;            /* pfi_rcpt_outcome */
	int attempts, relation;
};

struct seen_link {
	char *qid, *hint;
	int relation;
	int64_t other;
};

/* The latest version of one message (by id). */
struct seen_msg {
	int64_t id, parent, first, last, received, removed;
	char *host, *qid, *sender, *message_id, *subject;
	unsigned flags;
	int open, parent_rel, versions;
	struct seen_rcpt *r;
	size_t nr;
	struct seen_link *l;
	size_t nl;
	int64_t *lines;
	size_t nlines;
};

struct seen_reject {
	char *host, *to, *dsn, *stage, *client_ip;
	int64_t time, line;
};

struct sinkrec {
	struct seen_msg *m;
	size_t nm;
	struct seen_reject *rej;
	size_t nrej;
	int64_t late[16][2];      /* (line, message) of the late lines */
	size_t nlate;
	size_t sasl, sessions;
	int64_t line;             /* the line being fed */
};

static char *dupz(const char *s)
{
	return s ? strdup(s) : NULL;
}

static char *dup_slice(struct pfi_slice s)
{
	return s.p ? strndup(s.p, s.n) : NULL;
}

static void forget_msg(struct seen_msg *s)
{
	size_t i;

	free(s->host);
	free(s->qid);
	free(s->sender);
	free(s->message_id);
	free(s->subject);
	for (i = 0; i < s->nr; i++) {
		free(s->r[i].to);
		free(s->r[i].orig_to);
		free(s->r[i].dsn);
		free(s->r[i].child_qid);
		free(s->r[i].outcome);
	}
	free(s->r);
	for (i = 0; i < s->nl; i++) {
		free(s->l[i].qid);
		free(s->l[i].hint);
	}
	free(s->l);
	free(s->lines);
}

static int sink_message(void *ctx, const struct pfi_msg *m, int open)
{
	struct sinkrec *rec = ctx;
	struct seen_msg *s = NULL;
	size_t i;
	int versions = 0;

	cr_assert_gt(m->id, 0);
	for (i = 0; i < rec->nm && s == NULL; i++)
		if (rec->m[i].id == m->id)
			s = &rec->m[i];
	if (s == NULL) {
		rec->m = realloc(rec->m, (rec->nm + 1) * sizeof(*rec->m));
		s = &rec->m[rec->nm++];
	} else {
		versions = s->versions;
		forget_msg(s);
	}
	memset(s, 0, sizeof(*s));
	s->versions = versions + 1;
	s->id = m->id;
	s->parent = m->parent;
	s->parent_rel = m->parent_rel;
	s->first = m->first;
	s->last = m->last;
	s->received = m->received;
	s->removed = m->removed;
	s->host = dupz(m->host);
	s->qid = dupz(m->qid);
	s->sender = dupz(m->sender);
	s->message_id = dupz(m->message_id);
	s->subject = dupz(m->subject);
	s->flags = m->flags;
	s->open = open;
	s->nr = m->nrcpts;
	s->r = calloc(m->nrcpts + 1, sizeof(*s->r));
	for (i = 0; i < m->nrcpts; i++) {
		const struct pfi_rcpt *r = &m->rcpts[i];

		s->r[i].to = dupz(r->to);
		s->r[i].orig_to = dupz(r->orig_to);
		s->r[i].dsn = dupz(r->dsn);
		s->r[i].child_qid = dupz(r->child_qid);
		s->r[i].outcome = strdup(pfi_rcpt_outcome(m, r, open));
		s->r[i].attempts = r->attempts;
		s->r[i].relation = r->relation;
	}
	s->nl = m->nlinks;
	s->l = calloc(m->nlinks + 1, sizeof(*s->l));
	for (i = 0; i < m->nlinks; i++) {
		s->l[i].qid = dupz(m->links[i].qid);
		s->l[i].hint = dupz(m->links[i].hint);
		s->l[i].relation = m->links[i].relation;
		s->l[i].other = m->links[i].other;
	}
	s->nlines = m->nlines;
	s->lines = calloc(m->nlines + 1, sizeof(*s->lines));
	if (m->nlines)
		memcpy(s->lines, m->lines, m->nlines * sizeof(*s->lines));
	return PFI_OK;
}

static int sink_reject(void *ctx, const struct pfi_envelope *env,
                       const struct pfi_event *ev)
{
	struct sinkrec *rec = ctx;
	struct seen_reject *j;

	rec->rej = realloc(rec->rej, (rec->nrej + 1) * sizeof(*rec->rej));
	j = &rec->rej[rec->nrej++];
	j->host = dup_slice(env->host);
	j->to = dup_slice(ev->to);
	j->dsn = dup_slice(ev->dsn);
	j->stage = dup_slice(ev->stage);
	j->client_ip = dup_slice(ev->client_ip);
	j->time = env->time;
	j->line = rec->line;
	return PFI_OK;
}

static int sink_late(void *ctx, int64_t line_id, int64_t msg_id)
{
	struct sinkrec *rec = ctx;

	cr_assert_lt(rec->nlate, 16);
	rec->late[rec->nlate][0] = line_id;
	rec->late[rec->nlate++][1] = msg_id;
	return PFI_OK;
}

static int sink_sasl(void *ctx, const struct pfi_envelope *env,
                     const struct pfi_event *ev)
{
	((struct sinkrec *)ctx)->sasl++;
	return PFI_OK;
}

static int sink_session(void *ctx, const struct pfi_session_rec *s)
{
	((struct sinkrec *)ctx)->sessions++;
	return PFI_OK;
}

static void sinkrec_free(struct sinkrec *rec)
{
	size_t i;

	for (i = 0; i < rec->nm; i++)
		forget_msg(&rec->m[i]);
	free(rec->m);
	for (i = 0; i < rec->nrej; i++) {
		free(rec->rej[i].host);
		free(rec->rej[i].to);
		free(rec->rej[i].dsn);
		free(rec->rej[i].stage);
		free(rec->rej[i].client_ip);
	}
	free(rec->rej);
	memset(rec, 0, sizeof(*rec));
}

/* A correlator that records into rec. */
static struct pfi_corr *recording(struct sinkrec *rec)
{
	struct pfi_sink sink = { rec, sink_message, sink_reject, sink_late,
	                         sink_sasl, sink_session, NULL, NULL };
	struct pfi_corr *c;

	memset(rec, 0, sizeof(*rec));
	cr_assert_eq(pfi_corr_new(&c, &sink, 1), PFI_OK);
	return c;
}

/* Feeds lines[from, to) as an index run does (line ids count from 1 at
 * lines[0]): the syslog envelope (a line that has none is skipped), the
 * Postfix event, repeated as "message repeated N times" says. */
static void feed_lines(struct pfi_corr *c, struct sinkrec *rec,
                       struct pfi_syslog_ctx *ctx, char *const *lines,
                       size_t from, size_t to)
{
	struct pfi_envelope env;
	struct pfi_event ev;
	int64_t owner;
	size_t i;
	int k;

	for (i = from; i < to; i++) {
		rec->line = (int64_t)i + 1;
		if (pfi_syslog_parse(ctx, lines[i], strlen(lines[i]), &env) != PFI_OK)
			continue;
		pfi_postfix_parse(&env, &ev);
		for (k = 0; k < env.repeat && k < 1000; k++)
			cr_assert_eq(pfi_corr_feed(c, &env, &ev, rec->line, &owner),
			             PFI_OK, "line %zu", i + 1);
	}
}

/* The whole fixture fed in one go, then a checkpoint (what an index run
 * does at its end: the messages still open are handed over open). */
static void feed_fixture(struct sinkrec *rec, const char *rel, time_t mtime)
{
	struct pfi_syslog_ctx ctx;
	char *text, **lines;
	size_t n = fixture_lines(rel, &text, &lines);
	struct pfi_corr *c = recording(rec);

	cr_assert_gt(n, 0, "%s", rel);
	pfi_syslog_init(&ctx, mtime);
	feed_lines(c, rec, &ctx, lines, 0, n);
	cr_assert_eq(pfi_corr_checkpoint(c), PFI_OK);
	pfi_corr_free(c);
	free(lines);
	free(text);
}

/* The recorded messages of (host, qid), oldest first. */
static size_t seen(const struct sinkrec *rec, const char *host,
                   const char *qid, const struct seen_msg **out, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < rec->nm; i++)
		if (strcmp(rec->m[i].qid, qid) == 0 &&
		    (host == NULL || strcmp(rec->m[i].host, host) == 0)) {
			cr_assert_lt(n, max);
			out[n++] = &rec->m[i];
		}
	return n;
}

/* The one recorded message of (host, qid). */
static const struct seen_msg *seen1(const struct sinkrec *rec,
                                    const char *host, const char *qid)
{
	const struct seen_msg *m[4];

	cr_assert_eq(seen(rec, host, qid, m, 4), 1, "one message %s", qid);
	return m[0];
}

static const char *rel_name(int rel)
{
	static const char *const names[] = { "-", "queued", "forward", "bounce",
	                                     "requeue", "delay" };

	return rel >= 0 && rel <= PFI_REL_DELAY ? names[rel] : "?";
}

/* What the sink was handed, one row per recipient and per reject, in the
 * columns of testdata/logs/expected.tsv but the last two (the relation
 * to the parent and its queue ID: links across hosts and runs are the
 * index's work): host|qid|to|orig_to|outcome|dsn|attempts, sorted. */
static char *seen_rows(const struct sinkrec *rec)
{
	char *buf = NULL, *out;
	size_t len = 0, i, j;
	FILE *fp = open_memstream(&buf, &len);

	for (i = 0; i < rec->nm; i++)
		for (j = 0; j < rec->m[i].nr; j++) {
			const struct seen_rcpt *r = &rec->m[i].r[j];

			fprintf(fp, "%s|%s|%s|%s|%s|%s|%d\n", rec->m[i].host,
			        rec->m[i].qid, r->to[0] ? r->to : "-",
			        r->orig_to ? r->orig_to : "-", r->outcome,
			        r->dsn ? r->dsn : "-", r->attempts);
		}
	for (i = 0; i < rec->nrej; i++)
		fprintf(fp, "%s|-|%s|-|rejected|%s|0\n", rec->rej[i].host,
		        rec->rej[i].to ? rec->rej[i].to : "-",
		        rec->rej[i].dsn ? rec->rej[i].dsn : "-");
	fclose(fp);
	out = sorted_lines(buf);
	free(buf);
	return out;
}

/* testdata/logs/expected.tsv without its header and its last two
 * columns, tabs turned into '|', sorted. */
static char *expected_rows(const char *rel)
{
	char *text = slurp(fixture(rel), NULL), *body, *p, *q, *out;
	int col = 0;

	cr_assert_not_null(text, "missing fixture %s", rel);
	body = strchr(text, '\n');
	cr_assert_not_null(body);
	for (p = q = body + 1; *p; p++) {
		if (*p == '\n')
			col = 0;
		else if (*p == '\t' && ++col >= 7)
			continue;
		if (col < 7)
			*q++ = *p == '\t' ? '|' : *p;
	}
	*q = '\0';
	out = sorted_lines(body + 1);
	free(text);
	return out;
}

/* ---- the real-Postfix corpus: every named recipient's true outcome ---------- */

/* A queued recipient of the ground truth: among its queue IDs' recorded
 * messages, one has the recipient with the true outcome (and DSN). */
static int queued_ok(const struct sinkrec *rec, char *qids, const char *to,
                     const char *expect, const char *dsn, char *got, size_t gs)
{
	char *q, *save = NULL;
	size_t i, j;
	int ok = 0;

	got[0] = '\0';
	for (q = strtok_r(qids, ",", &save); q; q = strtok_r(NULL, ",", &save))
		for (i = 0; i < rec->nm; i++) {
			if (strcmp(rec->m[i].qid, q) != 0)
				continue;
			for (j = 0; j < rec->m[i].nr; j++) {
				const struct seen_rcpt *r = &rec->m[i].r[j];

				if (strcmp(r->to, to) != 0)
					continue;
				snprintf(got + strlen(got), gs - strlen(got), " %s:%s/%s",
				         q, r->outcome, r->dsn ? r->dsn : "-");
				if (strcmp(r->outcome, expect) == 0 &&
				    (strcmp(dsn, "-") == 0 ||
				     (r->dsn && strcmp(r->dsn, dsn) == 0)))
					ok = 1;
			}
		}
	return ok;
}

/* A rejected recipient without a queue ID: a reject of that recipient
 * (and DSN, and client) within 5 s before and 15 s after the submission,
 * not taken by another recipient already. */
static int rejected_ok(const struct sinkrec *rec, char *used, const char *to,
                       const char *dsn, int64_t t, const char *client)
{
	size_t i;

	for (i = 0; i < rec->nrej; i++) {
		const struct seen_reject *j = &rec->rej[i];

		if (used[i] || j->to == NULL || strcmp(j->to, to) != 0 ||
		    j->time < t - 5000000 || j->time > t + 15000000)
			continue;
		if (strcmp(dsn, "-") != 0 && (j->dsn == NULL || strcmp(j->dsn, dsn) != 0))
			continue;
		if (strcmp(client, "-") != 0 && j->client_ip &&
		    strcmp(j->client_ip, client) != 0)
			continue;
		used[i] = 1;
		return 1;
	}
	return 0;
}

static void field(char **p, char **out)
{
	*out = strsep(p, "\t");
	cr_assert_not_null(*out);
}

Test(correlate, every_recipient_the_real_log_names_gets_its_true_outcome)
{
	struct sinkrec rec;
	char *text, **lines, *used, got[512];
	size_t n = fixture_lines("realpostfix/expected-outcomes.tsv", &text, &lines);
	size_t i, queued = 0, rejected = 0, bad = 0;

	feed_fixture(&rec, "realpostfix/mail.log", REAL_MTIME);
	used = calloc(rec.nrej + 1, 1);
	cr_assert_gt(n, 1);
	for (i = 1; i < n; i++) {
		char *p = lines[i], *kind, *cas, *qids, *to, *expect, *dsn, *t, *client;

		field(&p, &kind);
		field(&p, &cas);
		field(&p, &qids);
		field(&p, &to);
		field(&p, &expect);
		field(&p, &dsn);
		field(&p, &t);
		field(&p, &client);
		if (kind[0] == 'q') {
			queued++;
			if (!queued_ok(&rec, qids, to, expect, dsn, got, sizeof(got))) {
				cr_log_error("%s %s: want %s/%s, got%s", cas, to, expect,
				             dsn, got[0] ? got : " nothing");
				bad++;
			}
		} else {
			rejected++;
			if (!rejected_ok(&rec, used, to, dsn, strtoll(t, NULL, 10),
			                 client)) {
				cr_log_error("%s %s: want a reject %s", cas, to, dsn);
				bad++;
			}
		}
	}
	cr_assert_eq(bad, 0, "%zu of %zu recipients wrong", bad, n - 1);
	/* All of the table was read: the counts of its rows by kind. */
	cr_assert_eq(queued, 258);
	cr_assert_eq(rejected, 28);
	/* Every queue ID of the log is one message (none reused), and
	 * postqueue -j listed 21 of them at the end: 16 held, 5 deferred. */
	cr_assert_eq(rec.nm, 336);
	for (i = 0, n = 0; i < rec.nm; i++)
		n += rec.m[i].open;
	cr_assert_eq(n, 21);
	free(used);
	sinkrec_free(&rec);
	free(lines);
	free(text);
}

/* ---- the sample log: every row of expected.tsv without the index ------------- */

Test(correlate, every_recipient_outcome_of_the_sample_log_is_exact_without_the_index)
{
	struct sinkrec rec;
	char *want = expected_rows("logs/expected.tsv"), *got;

	feed_fixture(&rec, "logs/sample.log", SAMPLE_MTIME);
	got = seen_rows(&rec);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
	sinkrec_free(&rec);
}

/* ---- focused cases, on real lines ----------------------------------------------- */

/* Lines given as one text (one a line), fed like feed_fixture. */
static void feed_text(struct sinkrec *rec, const char *log, time_t mtime)
{
	struct pfi_syslog_ctx ctx;
	char *text = strdup(log), **lines = NULL, *p, *save = NULL;
	size_t n = 0;
	struct pfi_corr *c = recording(rec);

	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		lines = realloc(lines, (n + 1) * sizeof(*lines));
		lines[n++] = p;
	}
	pfi_syslog_init(&ctx, mtime);
	feed_lines(c, rec, &ctx, lines, 0, n);
	cr_assert_eq(pfi_corr_checkpoint(c), PFI_OK);
	pfi_corr_free(c);
	free(lines);
	free(text);
}

/* The recipient `to` of a recorded message. */
static const struct seen_rcpt *rcpt_of(const struct seen_msg *m, const char *to)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (strcmp(m->r[i].to, to) == 0)
			return &m->r[i];
	cr_assert_fail("%s has no recipient %s", m->qid, to);
	return NULL;
}

/* The link of parent p to queue ID qid, with its relation. */
static const struct seen_link *link_of(const struct seen_msg *p,
                                       const char *qid, int relation)
{
	size_t i;

	for (i = 0; i < p->nl; i++)
		if (strcmp(p->l[i].qid, qid) == 0) {
			cr_assert_eq(p->l[i].relation, relation, "%s -> %s: %s", p->qid,
			             qid, rel_name(p->l[i].relation));
			return &p->l[i];
		}
	cr_assert_fail("%s has no link to %s", p->qid, qid);
	return NULL;
}

Test(correlate, a_reused_queue_id_is_two_messages_one_after_the_other)
{
	struct sinkrec rec;
	const struct seen_msg *m[4];

	feed_fixture(&rec, "logs/sample.log", SAMPLE_MTIME);
	cr_assert_eq(seen(&rec, "mx1", "C32751161A3", m, 4), 2);
	cr_assert_neq(m[0]->id, m[1]->id);
	cr_assert_eq(m[0]->open + m[1]->open, 0, "both lifetimes ended");
	cr_assert_neq(m[0]->removed, 0);
	cr_assert_lt(m[0]->removed, m[1]->received);
	cr_assert_str_eq(m[0]->sender, "hr@partner.example");
	cr_assert_str_eq(m[1]->sender, "news@mail.sender.example");
	cr_assert_eq(m[0]->nr, 1);
	cr_assert_eq(m[1]->nr, 1);
	cr_assert_str_eq(m[0]->r[0].to, "alice@example.com");
	cr_assert_str_eq(m[1]->r[0].to, "dave@example.com");
	/* Each has its own lines: 6 and 5 lines of the log name the ID, the
	 * smtpd connect and disconnect join through the session. */
	cr_assert_lt(m[0]->lines[m[0]->nlines - 1], m[1]->lines[0]);
	sinkrec_free(&rec);
}

Test(correlate, a_content_filter_hop_is_a_queued_as_link_to_the_reinjected_copy)
{
	struct sinkrec rec;
	const struct seen_msg *p, *c;
	const struct seen_link *l;

	feed_fixture(&rec, "logs/sample.log", SAMPLE_MTIME);
	p = seen1(&rec, "mx1", "74C0F1161B2");
	c = seen1(&rec, "mx1", "11DD71161BB");
	/* Handed to the filter and found again: "filtered", not "sent". */
	cr_assert_str_eq(rcpt_of(p, "carol@example.com")->outcome, "filtered");
	cr_assert_str_eq(rcpt_of(p, "dave@example.com")->outcome, "filtered");
	cr_assert_str_eq(rcpt_of(p, "carol@example.com")->child_qid, "11DD71161BB");
	cr_assert_eq(rcpt_of(p, "carol@example.com")->relation, PFI_REL_QUEUED);
	l = link_of(p, "11DD71161BB", PFI_REL_QUEUED);
	cr_assert_eq(l->other, c->id, "found open on the same host");
	cr_assert_eq(c->parent, p->id);
	cr_assert_eq(c->parent_rel, PFI_REL_QUEUED);
	cr_assert_str_eq(rcpt_of(c, "carol@example.com")->outcome, "sent");
	sinkrec_free(&rec);
}

Test(correlate, a_relay_to_another_host_is_a_link_left_for_the_index)
{
	struct sinkrec rec;
	const struct seen_msg *p, *c;
	const struct seen_link *l;

	feed_fixture(&rec, "logs/sample.log", SAMPLE_MTIME);
	p = seen1(&rec, "mx1", "AD92B1161BF");
	c = seen1(&rec, "mx2", "E28ED2A0F35");
	l = link_of(p, "E28ED2A0F35", PFI_REL_QUEUED);
	cr_assert_str_eq(l->hint, "mx2.example.com");
	cr_assert_eq(l->other, 0, "another host's message is the index's to find");
	cr_assert_eq(c->parent, 0);
	cr_assert_str_eq(rcpt_of(p, "frank@example.org")->outcome, "sent");
	sinkrec_free(&rec);
}

Test(correlate, a_bounce_and_a_forward_are_links_to_the_notification_and_the_copy)
{
	struct sinkrec rec;
	const struct seen_msg *p, *c;

	feed_fixture(&rec, "logs/sample.log", SAMPLE_MTIME);
	p = seen1(&rec, "mx1", "29A981161D4");
	c = seen1(&rec, "mx1", "D220A1161DD");
	cr_assert_eq(link_of(p, "D220A1161DD", PFI_REL_BOUNCE)->other, c->id);
	cr_assert_eq(c->parent, p->id);
	cr_assert_eq(c->parent_rel, PFI_REL_BOUNCE);
	cr_assert_str_eq(c->sender, "");
	cr_assert_str_eq(rcpt_of(p, "nobody@partner.example")->outcome, "bounced");
	p = seen1(&rec, "mx1", "8778A1161F2");
	c = seen1(&rec, "mx1", "5967E1161F9");
	/* A forward is a link only: the copy has a life of its own (the
	 * index makes it no child either, see expected.tsv). */
	cr_assert_eq(link_of(p, "5967E1161F9", PFI_REL_FORWARD)->other, c->id);
	cr_assert_eq(c->parent, 0);
	cr_assert_str_eq(rcpt_of(c, "eve@partner.example")->orig_to, "fwd@example.com");
	sinkrec_free(&rec);
}

Test(correlate, a_delay_warning_is_a_link_with_relation_delay)
{
	/* Real lines of testdata/realpostfix/mail.log. */
	static const char log[] =
		"Dec  6 21:03:26 mx1 postfix/pickup[28620]: 509B010825C: uid=102 from=<alice@local.test>\n"
		"Dec  6 21:03:26 mx1 postfix/qmgr[28621]: 509B010825C: from=<alice@local.test>, size=642, nrcpt=1 (queue active)\n"
		"Dec  6 21:03:47 mx1 postfix/cleanup[4176]: 4jjHlR4pdRz881k: message-id=<4jjHlR4pdRz881k@mx1.example.test>\n"
		"Dec  6 21:03:47 mx1 postfix/qmgr[2907]: 4jjHlR4pdRz881k: from=<>, size=2747, nrcpt=1 (queue active)\n"
		"Dec  6 21:03:47 mx1 postfix/bounce[3506]: 509B010825C: sender delay notification: 4jjHlR4pdRz881k\n"
		"Dec  6 21:03:47 mx1 postfix/local[3402]: 4jjHlR4pdRz881k: to=<alice@local.test>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to mailbox)\n"
		"Dec  6 21:03:47 mx1 postfix/qmgr[2907]: 4jjHlR4pdRz881k: removed\n";
	struct sinkrec rec;
	const struct seen_msg *p, *c;

	feed_text(&rec, log, REAL_MTIME);
	p = seen1(&rec, "mx1", "509B010825C");
	c = seen1(&rec, "mx1", "4jjHlR4pdRz881k");
	cr_assert_eq(link_of(p, "4jjHlR4pdRz881k", PFI_REL_DELAY)->other, c->id);
	cr_assert_eq(c->parent, p->id);
	cr_assert_eq(c->parent_rel, PFI_REL_DELAY);
	cr_assert(p->open, "the delayed message is still queued");
	cr_assert(!c->open);
	sinkrec_free(&rec);
}

/* The requeue log (see helpers.h) but line `skip` (SIZE_MAX: none). */
static void feed_requeue(struct sinkrec *rec, size_t skip)
{
	struct pfi_syslog_ctx ctx;
	char *text, **lines;
	size_t n = fixture_lines(REQUEUE_LOG, &text, &lines);
	struct pfi_corr *c = recording(rec);

	cr_assert_eq(n, REQUEUE_LOG_LINES);
	pfi_syslog_init(&ctx, REQUEUE_MTIME);
	if (skip < n) {
		feed_lines(c, rec, &ctx, lines, 0, skip);
		feed_lines(c, rec, &ctx, lines, skip + 1, n);
	} else
		feed_lines(c, rec, &ctx, lines, 0, n);
	cr_assert_eq(pfi_corr_checkpoint(c), PFI_OK);
	pfi_corr_free(c);
	free(lines);
	free(text);
}

Test(correlate, a_requeued_message_continues_as_the_child_of_its_old_id)
{
	static const size_t skips[] = { SIZE_MAX, REQUEUED_LINE };
	struct sinkrec rec;
	const struct seen_msg *o, *n;
	const struct seen_rcpt *r;
	size_t i;

	/* With postsuper's "requeued" line, and with pickup's orig_id= alone. */
	for (i = 0; i < 2; i++) {
		feed_requeue(&rec, skips[i]);
		o = seen1(&rec, "mx1", "E9F981161AD");
		n = seen1(&rec, "mx1", "57D7B1162C3");
		cr_assert(o->flags & PFI_MSG_REQUEUED);
		cr_assert(!o->open && !n->open);
		r = rcpt_of(o, "again@refused.test");
		cr_assert_str_eq(r->outcome, "filtered", "skip %zu", skips[i]);
		cr_assert_str_eq(r->child_qid, "57D7B1162C3");
		cr_assert_eq(r->attempts, 2);
		cr_assert_eq(n->parent, o->id);
		cr_assert_eq(n->parent_rel, PFI_REL_REQUEUE);
		r = rcpt_of(n, "again@refused.test");
		cr_assert_str_eq(r->outcome, "expired");
		cr_assert_str_eq(r->dsn, "4.4.1");
		cr_assert_eq(r->attempts, 7);
		cr_assert_str_eq(rcpt_of(seen1(&rec, "mx1", "D4BB211618A"),
		                         "user230@ok.test")->outcome, "sent");
		cr_assert_eq(rec.nm, 3);
		/* The old ID left the queue at postsuper's line, 29 s after it
		 * arrived. */
		if (i == 0)
			cr_assert_eq(o->removed - o->received, INT64_C(29000000));
		sinkrec_free(&rec);
	}
}

Test(correlate, a_message_a_reject_ended_lingers_for_the_lines_syslog_brings_late)
{
	/* Real lines of the corpus case P1-H34: cleanup's lines come after
	 * smtpd's END-OF-MESSAGE reject, the disconnect after them. */
	static const char log[] =
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: connect from unknown[127.0.0.3]\n"
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: AD7631161A5: client=unknown[127.0.0.3]\n"
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: AD7631161A5: reject: END-OF-MESSAGE from unknown[127.0.0.3]: 554 5.7.1 <eodreject@external.test>: Sender address rejected: Message rejected after end of data; from=<eodreject@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>\n"
		"Nov 22 13:31:05 mx1 postfix/cleanup[28827]: AD7631161A5: warning: header Subject: P1-H34 end-of-data restriction REJECT from unknown[127.0.0.3]; from=<eodreject@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>\n"
		"Nov 22 13:31:05 mx1 postfix/cleanup[28827]: AD7631161A5: message-id=<P1-H34.7bd220f5ceb1@driver.example.test>\n"
		"Nov 22 13:31:05 mx1 postfix/smtpd[28829]: disconnect from unknown[127.0.0.3] ehlo=1 mail=1 rcpt=1 data=0/1 quit=1 commands=4/5\n";
	struct sinkrec rec;
	const struct seen_msg *m;

	feed_text(&rec, log, REAL_MTIME);
	m = seen1(&rec, "mx1", "AD7631161A5");
	cr_assert(!m->open);
	/* Written at the reject, then again with what cleanup said late. */
	cr_assert_geq(m->versions, 2);
	cr_assert(m->flags & PFI_MSG_LINGER);
	cr_assert_str_eq(m->subject, "P1-H34 end-of-data restriction REJECT");
	cr_assert_str_eq(m->message_id, "P1-H34.7bd220f5ceb1@driver.example.test");
	cr_assert_str_eq(rcpt_of(m, "bob@local.test")->outcome, "rejected");
	cr_assert_str_eq(rcpt_of(m, "bob@local.test")->dsn, "5.7.1");
	/* Every line is the message's, the connect and disconnect too. */
	cr_assert_eq(m->nlines + rec.nlate, 6, "%zu lines, %zu late", m->nlines,
	             rec.nlate);
	cr_assert_eq(rec.nrej, 0);
	sinkrec_free(&rec);
}

/* The lines of fixture rel that contain every one of the strings. */
static size_t count_lines_with(const char *rel, const char *a, const char *b,
                               const char *c)
{
	char *text, **lines;
	size_t n = fixture_lines(rel, &text, &lines), i, k = 0;

	for (i = 0; i < n; i++)
		k += strstr(lines[i], a) && strstr(lines[i], b) && strstr(lines[i], c);
	free(lines);
	free(text);
	return k;
}

Test(correlate, noqueue_rejects_and_sasl_failures_go_to_their_own_callbacks)
{
	struct sinkrec rec;
	char *want, *sum = slurp(fixture("logs/expected-summary.txt"), NULL);
	size_t fails;

	cr_assert_not_null(sum);
	feed_fixture(&rec, "logs/sample.log", SAMPLE_MTIME);
	want = strstr(sum, "noqueue_rejects=");
	cr_assert_not_null(want);
	cr_assert_eq(rec.nrej, (size_t)strtol(want + 16, NULL, 10));
	cr_assert_eq(rec.sasl, 0);
	sinkrec_free(&rec);
	free(sum);
	/* smtpd's "warning: host[addr]: SASL LOGIN authentication failed". */
	fails = count_lines_with("realpostfix/mail.log", "smtpd[", ": warning: ",
	                         "]: SASL ");
	cr_assert_eq(fails, 4);
	feed_fixture(&rec, "realpostfix/mail.log", REAL_MTIME);
	cr_assert_eq(rec.sasl, fails);
	sinkrec_free(&rec);
}
/* ---- the correlator on its own, fed envelopes no syslog line can give ---- */

struct recorder {
	int closed, open;
};

static int rec_message(void *ctx, const struct pfi_msg *m, int open)
{
	struct recorder *r = ctx;

	cr_assert_not_null(m->host);
	if (open)
		r->open++;
	else
		r->closed++;
	return PFI_OK;
}

static int rec_reject(void *ctx, const struct pfi_envelope *env,
                      const struct pfi_event *ev)
{
	return PFI_OK;
}

static int rec_late(void *ctx, int64_t line_id, int64_t msg_id)
{
	return PFI_OK;
}

/* A correlator whose finished messages go to message(ctx, ...). */
static struct pfi_corr *corr_with(void *ctx,
                                  int (*message)(void *, const struct pfi_msg *,
                                                 int))
{
	struct pfi_sink sink = { ctx, message, rec_reject, rec_late,
	                         rec_reject, NULL, NULL, NULL };
	struct pfi_corr *c;

	cr_assert_eq(pfi_corr_new(&c, &sink, 1), PFI_OK);
	return c;
}

/* Feeds one line of `prog`: host given as bytes (NUL bytes allowed). */
static void feed(struct pfi_corr *c, const char *host, size_t hn,
                 const char *prog, const char *text, int64_t t, int64_t line)
{
	struct pfi_envelope env;
	struct pfi_event ev;
	int64_t owner;

	memset(&env, 0, sizeof(env));
	env.time = t;
	env.host.p = host;
	env.host.n = hn;
	env.program.p = prog;
	env.program.n = strlen(prog);
	env.pid = 100;
	env.text.p = text;
	env.text.n = strlen(text);
	env.repeat = 1;
	pfi_postfix_parse(&env, &ev);
	cr_assert_eq(pfi_corr_feed(c, &env, &ev, line, &owner), PFI_OK);
}

Test(correlate, a_nul_in_the_host_never_files_a_message_under_two_keys)
{
	/* The line sequence that once freed a message still in the table:
	 * the third line's host "mx1\0" named a copy of "mx1"'s message. */
	struct recorder rec = { 0, 0 };
	struct pfi_corr *c = corr_with(&rec, rec_message);

	feed(c, "mx1", 3, "postfix/smtpd", "4jXVQ46kTGz8Z5X: client=a[1.2.3.4]", 1, 1);
	feed(c, "mx1", 3, "postfix/smtpd", "connect from b[5.6.7.8]", 2, 2);
	feed(c, "mx1\0", 4, "postfix/smtpd", "4jXVQ46kTGz8Z5X: client=c[9.9.9.9]", 3, 3);
	cr_assert_eq(pfi_corr_open_count(c), 1);
	feed(c, "mx1", 3, "postfix/qmgr", "4jXVQ46kTGz8Z5X: removed", 4, 4);
	cr_assert_eq(rec.closed, 1);
	cr_assert_eq(pfi_corr_open_count(c), 0);
	cr_assert_eq(pfi_corr_sweep(c), PFI_OK);
	cr_assert_eq(pfi_corr_checkpoint(c), PFI_OK);
	pfi_corr_free(c);
}

/* ---- bounded open state --------------------------------------------------- */

#define HOUR_US (3600 * INT64_C(1000000))

struct outcome_rec {
	int closed;
	char unknown_qid[64];   /* the last message closed with "unknown" */
};

static int outcome_message(void *ctx, const struct pfi_msg *m, int open)
{
	struct outcome_rec *r = ctx;
	size_t i;

	if (open)
		return PFI_OK;
	r->closed++;
	for (i = 0; i < m->nrcpts; i++)
		if (strcmp(pfi_rcpt_outcome(m, &m->rcpts[i], 0), "unknown") == 0)
			snprintf(r->unknown_qid, sizeof(r->unknown_qid), "%s", m->qid);
	return PFI_OK;
}

/* A queued message with one deferred recipient, at hour h. */
static void feed_deferred(struct pfi_corr *c, const char *qid, int64_t h,
                          int64_t line)
{
	char text[256];

	snprintf(text, sizeof(text), "%s: from=<a@example.org>, size=10, nrcpt=1"
	         " (queue active)", qid);
	feed(c, "mx1", 3, "postfix/qmgr", text, h * HOUR_US, line);
	snprintf(text, sizeof(text), "%s: to=<b@example.net>, relay=none,"
	         " delay=1, delays=0/0/1/0, dsn=4.4.1, status=deferred"
	         " (connect to example.net[192.0.2.9]:25: Connection refused)", qid);
	feed(c, "mx1", 3, "postfix/smtp", text, h * HOUR_US, line + 1);
}

Test(correlate, a_message_silent_past_the_queue_lifetime_is_closed_as_unknown)
{
	struct outcome_rec rec = { 0, "" };
	struct pfi_corr *c = corr_with(&rec, outcome_message);

	pfi_corr_set_limits(c, 24 * HOUR_US, 0);
	feed_deferred(c, "4F3A21C0B2", 0, 1);
	feed_deferred(c, "5A1B2C3D4E", 20, 3);
	/* Hour 25: the first is silent for 25 h, the second for 5 h. */
	feed(c, "mx1", 3, "postfix/smtpd", "connect from z[192.0.2.1]",
	     25 * HOUR_US, 5);
	cr_assert_eq(pfi_corr_sweep(c), PFI_OK);
	cr_assert_eq(rec.closed, 1);
	cr_assert_str_eq(rec.unknown_qid, "4F3A21C0B2");
	cr_assert_eq(pfi_corr_open_count(c), 1);
	cr_assert_eq(pfi_corr_lost(c).stale, 1);
	pfi_corr_free(c);
}

Test(correlate, a_held_message_waits_past_the_queue_lifetime)
{
	struct outcome_rec rec = { 0, "" };
	struct pfi_corr *c = corr_with(&rec, outcome_message);

	pfi_corr_set_limits(c, 24 * HOUR_US, 0);
	feed_deferred(c, "4F3A21C0B2", 0, 1);
	feed(c, "mx1", 3, "postfix/postsuper", "4F3A21C0B2: placed on hold",
	     HOUR_US, 3);
	feed(c, "mx1", 3, "postfix/smtpd", "connect from z[192.0.2.1]",
	     100 * HOUR_US, 4);
	cr_assert_eq(pfi_corr_sweep(c), PFI_OK);
	cr_assert_eq(rec.closed, 0);
	cr_assert_eq(pfi_corr_open_count(c), 1);
	pfi_corr_free(c);
}

Test(correlate, past_the_cap_the_longest_silent_messages_are_closed)
{
	struct outcome_rec rec = { 0, "" };
	struct pfi_corr *c = corr_with(&rec, outcome_message);
	char qid[16];
	int i;

	pfi_corr_set_limits(c, 0, 3);
	for (i = 0; i < 5; i++) {
		snprintf(qid, sizeof(qid), "%010X", 0xA0000 + i);
		feed_deferred(c, qid, i, 10 * i + 1);
	}
	cr_assert_eq(pfi_corr_sweep(c), PFI_OK);
	cr_assert_eq(pfi_corr_open_count(c), 3);
	cr_assert_eq(rec.closed, 2);
	cr_assert_eq(pfi_corr_lost(c).capped, 2);
	/* The second oldest was the last closed. */
	cr_assert_str_eq(rec.unknown_qid, "00000A0001");
	pfi_corr_free(c);
}

Test(correlate, a_queued_as_delivery_without_relay_is_a_link_without_a_hint)
{
	/* Found by fuzz_correlate: the absent relay= was taken for a failed
	 * allocation, and one odd line failed the whole run. */
	struct recorder rec = { 0, 0 };
	struct pfi_corr *c = corr_with(&rec, rec_message);

	feed(c, "mx1", 3, "postfix/smtp",
	     "4F3A21C0B2: to=<a@example.org>, dsn=2.0.0, status=sent"
	     " (250 2.0.0 Ok: queued as 5B4C3D2E1F)", 1, 1);
	cr_assert_eq(pfi_corr_open_count(c), 1);
	pfi_corr_free(c);
}
