/*
 * index.c - pfi_index_paths(): read files, parse, correlate, store.
 *
 * One run is one transaction: an interrupted run leaves the index as it
 * was, and a stopped run (opts->stop) commits what it read, with messages
 * still open kept as open rows for the next run to complete.  Files are
 * read oldest content first, whatever order they were named in, and are
 * recognised by identity and by a fingerprint of their first bytes, so a
 * file renamed or compressed by logrotate is not read twice and a file
 * that grew is read from where the last run stopped.
 *
 * The run is also what the systemd journal's entries go to (index.h,
 * index-journal.c): its lines take the same path as a file's.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hash.h"
#include "index.h"
#include "write.h"
#include "write-overlap.h"
#include "write-runs.h"

#define FP_MAX 4096                  /* bytes fingerprinted */
#define PROGRESS_EVERY 4096          /* lines between progress calls */
#define SWEEP_EVERY (16 * PROGRESS_EVERY)   /* lines between memory sweeps */
/* "message repeated N times": N may be anything a log writer (or forger)
 * says; past this many, feeding the same event again changes nothing but
 * counters, and a huge N would stall the run. */
#define REPEAT_FEED_MAX 1000
#define DAY_USEC (86400 * INT64_C(1000000))
#define QUEUE_LIFETIME_DEFAULT (5 * DAY_USEC)   /* Postfix's default */
#define LOST_MARGIN (2 * DAY_USEC)              /* for clocks and late lines */

/* A file named on the command line, before reading. */
struct input {
	const char *path;
	int64_t first;       /* first timestamp, for ordering; 0 unknown */
	size_t order;        /* position given, to keep ties stable */
	int64_t file_id;     /* files.id when known */
	uint64_t skip;       /* decompressed bytes already indexed */
	int64_t lines_done;  /* lines already indexed */
	int64_t last;        /* time of the last line indexed; 0 unknown */
	int unchanged;       /* identity unchanged: nothing to read */
	uint64_t fp_hash;    /* fingerprint of the first fp_len bytes */
	size_t fp_len;
	uint64_t size;       /* on disk, for progress; 0 unknown (stdin) */
	struct pfi_reader *stdin_reader;  /* "-" stays open between phases */
};

/* Where the run is, for progress: bytes of the whole run, not of a file. */
struct run_progress {
	uint64_t total;      /* bytes to read when the run began; 0 unknown */
	uint64_t before;     /* read of the files done */
	uint64_t start;      /* raw offset the current file's reading began at */
	unsigned file, files;  /* the current file (from 1), of how many */
};

/* Lines counted by kind and program during the run. */
struct line_count {
	int kind;
	char program[64];
	int64_t count;
};

struct run {
	pfi_store *st;
	struct pfi_write w;     /* what the run writes with */
	struct pfi_rollup_delta *delta;   /* snapshot for the cells; NULL: none */
	const struct pfi_index_opts *opts;
	struct pfi_index_report *rep;
	struct pfi_corr *corr;
	struct pfi_chunker *chunks;  /* where raw lines go */
	struct pfi_counts *events;   /* lines counted by what they say */
	struct pfi_overlap *overlap; /* lines indexed before, to skip */
	int64_t next_line;      /* id of the next line */
	int64_t msg0, link0;    /* first message and link ids of this run */
	int bulk;               /* into an empty index: query indexes at the end */
	struct line_count *counts;
	size_t ncounts;
	struct pfi_smap host_lines;   /* lines per kind and host (write-runs.h) */
	int64_t start;          /* wall clock when the run began (usec) */
	struct timespec mono0;  /* the same, for its duration */
	uint64_t lines_total;
	struct run_progress prog;
	int started;            /* the transaction was begun */
	int first;              /* a first run, without the WAL (see below) */
};

static void warn(struct run *r, const char *msg)
{
	if (r->opts && r->opts->warn)
		r->opts->warn(r->opts->ctx, msg);
}

static int stopped(const struct run *r)
{
	return r->opts && r->opts->stop && *r->opts->stop;
}

/* ---- fingerprints and file identity --------------------------------------------------- */

/* Finds a file already indexed whose first bytes match `data`. */
static int find_known(struct run *r, const char *data, size_t got,
                      struct input *in, uint64_t dev, uint64_t ino,
                      uint64_t size, time_t mtime)
{
	sqlite3_stmt *s;
	int rc, step;

	rc = sqlite3_prepare_v2(r->st->db, "SELECT id, fp_hash, fp_len, offset,"
	                        " lines, dev, ino, size, mtime, last FROM files",
	                        -1, &s, NULL);
	if (rc != SQLITE_OK)
		return pfi_store_dberr(r->st, PFI_ERROR, "cannot read index");
	/* A failed step is no "unknown file": it would be read again whole. */
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		uint64_t len = (uint64_t)sqlite3_column_int64(s, 2);
		uint64_t h = (uint64_t)sqlite3_column_int64(s, 1);
		if (len > got || len == 0 || pfi_hash_bytes(PFI_HASH_INIT, data, len) != h)
			continue;
		in->file_id = sqlite3_column_int64(s, 0);
		in->skip = (uint64_t)sqlite3_column_int64(s, 3);
		in->lines_done = sqlite3_column_int64(s, 4);
		in->last = sqlite3_column_int64(s, 9);
		in->unchanged = dev && (uint64_t)sqlite3_column_int64(s, 5) == dev &&
		                (uint64_t)sqlite3_column_int64(s, 6) == ino &&
		                (uint64_t)sqlite3_column_int64(s, 7) == size &&
		                sqlite3_column_int64(s, 8) == (int64_t)mtime;
		break;
	}
	rc = step == SQLITE_ROW || step == SQLITE_DONE ? PFI_OK
	     : pfi_store_dberr(r->st, PFI_ERROR, "cannot read index");
	sqlite3_finalize(s);
	return rc;
}

/* The year the options give the first classic line; 0: none. */
static int given_year(const struct run *r)
{
	return r->opts ? r->opts->year : 0;
}

/* The time of the first syslog line in `data`, 0 if none. */
static int64_t first_time(const char *data, size_t n, time_t ref, int year)
{
	struct pfi_syslog_ctx ctx;
	struct pfi_envelope env;
	const char *p = data, *end = data + n, *nl;

	pfi_syslog_init(&ctx, ref);
	pfi_syslog_set_year(&ctx, year);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		if (pfi_syslog_parse(&ctx, p, (size_t)(nl - p), &env) == PFI_OK)
			return env.time;
	}
	return 0;
}

/* Phase one: what each input is, where it starts, what is known of it. */
static int survey(struct run *r, struct input *in)
{
	struct pfi_reader *rd;
	struct pfi_err err = { 0, "" };
	const char *data;
	size_t got;
	uint64_t dev, ino, size;
	time_t mtime;
	int rc;

	if (pfi_reader_open(&rd, in->path, &err) != PFI_OK) {
		warn(r, err.msg);
		return PFI_EIO;
	}
	rc = pfi_reader_peek(rd, FP_MAX, &data, &got);
	if (rc != PFI_OK) {
		warn(r, pfi_reader_err(rd)->msg);
		pfi_reader_close(rd);
		return PFI_EIO;
	}
	pfi_reader_stat(rd, &dev, &ino, &size, &mtime);
	if (strcmp(in->path, "-") == 0)
		mtime = r->opts && r->opts->now ? r->opts->now : time(NULL);
	in->size = size;
	in->first = first_time(data, got, mtime, given_year(r));
	in->fp_hash = pfi_hash_bytes(PFI_HASH_INIT, data, got);
	in->fp_len = got;
	rc = find_known(r, data, got, in, dev, ino, size, mtime);
	if (strcmp(in->path, "-") == 0)
		in->stdin_reader = rd;
	else
		pfi_reader_close(rd);
	return rc;
}

static int input_cmp(const void *a, const void *b)
{
	const struct input *x = a, *y = b;

	if (x->first != y->first && x->first && y->first)
		return x->first < y->first ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* ---- line counts ------------------------------------------------------------------------- */

static int count_line(struct run *r, int kind, struct pfi_slice program,
                      struct pfi_slice host)
{
	struct line_count *c;
	size_t i, n = program.n < 63 ? program.n : 63;

	if (pfi_host_lines_note(&r->host_lines, host, kind) != PFI_OK)
		return PFI_ENOMEM;
	for (i = 0; i < r->ncounts; i++) {
		c = &r->counts[i];
		if (c->kind == kind && strlen(c->program) == n &&
		    (n == 0 || memcmp(c->program, program.p, n) == 0)) {
			c->count++;
			return PFI_OK;
		}
	}
	c = realloc(r->counts, (r->ncounts + 1) * sizeof(*c));
	if (c == NULL)
		return PFI_ENOMEM;
	r->counts = c;
	c = &r->counts[r->ncounts++];
	c->kind = kind;
	if (n)
		memcpy(c->program, program.p, n);
	c->program[n] = '\0';
	c->count = 1;
	return PFI_OK;
}

static const char count_lines_sql[] =
	"INSERT INTO line_counts(kind, program, count) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(kind, program) DO UPDATE SET count = count + ?3";

static int flush_counts(struct run *r)
{
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i < r->ncounts && rc == PFI_OK; i++) {
		sqlite3_stmt *s = pfi_store_stmt(r->st, ST_COUNT_LINES,
		                                 count_lines_sql);
		if (s == NULL)
			return PFI_ERROR;
		sqlite3_bind_int(s, 1, r->counts[i].kind);
		sqlite3_bind_text(s, 2, r->counts[i].program, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 3, r->counts[i].count);
		rc = pfi_store_step_done(r->st, s, "cannot count lines");
	}
	return rc == PFI_OK ? pfi_host_lines_flush(&r->host_lines, r->st) : rc;
}

/* ---- the correlator's sink: the store ------------------------------------------------- */

static int sink_message(void *ctx, const struct pfi_msg *m, int open)
{
	struct run *r = ctx;

	size_t i;

	/* A message a reject ended is written again when late lines join
	 * it: counted once. */
	if (m->flags & PFI_MSG_LINGER)
		return pfi_write_message(&r->w, m, open);
	if (!open)
		r->rep->messages++;
	r->rep->deliveries += m->nrcpts;
	for (i = 0; i < m->nrcpts; i++)
		if (strcmp(pfi_rcpt_outcome(m, &m->rcpts[i], open), "rejected") == 0)
			r->rep->rejects++;
	return pfi_write_message(&r->w, m, open);
}

static int sink_reject(void *ctx, const struct pfi_envelope *env,
                       const struct pfi_event *ev)
{
	struct run *r = ctx;

	r->rep->rejects++;
	r->rep->deliveries++;
	return pfi_write_reject(&r->w, env, ev, r->next_line);
}

static int sink_sasl_failure(void *ctx, const struct pfi_envelope *env,
                             const struct pfi_event *ev)
{
	struct run *r = ctx;

	return pfi_write_sasl_failure(&r->w, env, ev);
}

static const char insert_late_line_sql[] =
	"INSERT INTO late_lines(message, line) VALUES (?1, ?2)";

static int sink_late_line(void *ctx, int64_t line_id, int64_t msg_id)
{
	struct run *r = ctx;
	sqlite3_stmt *s = pfi_store_stmt(r->st, ST_INSERT_LATE_LINE,
	                                 insert_late_line_sql);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, msg_id);
	sqlite3_bind_int64(s, 2, line_id);
	return pfi_store_step_done(r->st, s, "cannot link line");
}

static int sink_verdict_joined(void *ctx, int64_t verdict_id, int64_t msg_id)
{
	struct run *r = ctx;

	return pfi_write_verdict_joined(&r->w, verdict_id, msg_id);
}

static int sink_verdict_rejected(void *ctx, int64_t verdict_id,
                                 int64_t line_id)
{
	struct run *r = ctx;

	return pfi_write_verdict_rejected(&r->w, verdict_id, line_id);
}

static int sink_session(void *ctx, const struct pfi_session_rec *s)
{
	struct run *r = ctx;

	return pfi_write_session(&r->w, s);
}

/* ---- one line ----------------------------------------------------------------------------- */

static const char insert_unparsed_sql[] =
	"INSERT INTO unparsed(line, program) VALUES (?1, ?2)";

/* Keeps the raw line; an unparsed one is also listed by program. */
static int store_line(struct run *r, const char *line, size_t len, int kind,
                      struct pfi_slice program, int64_t time)
{
	sqlite3_stmt *s;

	if (kind == PFI_LINE_UNPARSED) {
		s = pfi_store_stmt(r->st, ST_INSERT_UNPARSED,
		                   insert_unparsed_sql);
		if (s == NULL)
			return PFI_ERROR;
		sqlite3_bind_int64(s, 1, r->next_line);
		pfi_bind_slice(s, 2, program);
		if (pfi_store_step_done(r->st, s, "cannot write line") != PFI_OK)
			return PFI_ERROR;
	}
	return pfi_chunker_add(r->chunks, line, len, time);
}

static int line_kind(enum pfi_ev ev)
{
	if (ev == PFI_EV_FOREIGN)
		return PFI_LINE_FOREIGN;
	return ev == PFI_EV_UNPARSED ? PFI_LINE_UNPARSED : PFI_LINE_POSTFIX;
}

static void report_kind(struct pfi_index_report *rep, int kind)
{
	rep->lines++;
	if (kind == PFI_LINE_POSTFIX || kind == PFI_LINE_UNPARSED)
		rep->postfix_lines++;
	else if (kind == PFI_LINE_VERDICT)
		rep->verdict_lines++;
	else
		rep->foreign_lines++;
	if (kind == PFI_LINE_UNPARSED)
		rep->unparsed_lines++;
	if (kind == PFI_LINE_NOSYSLOG)
		rep->nosyslog_lines++;
}

/* A warning:, error:, fatal:, panic: or reject_warning line of Postfix's
 * is also a problem of its kind, for stats. */
static int store_problem(struct run *r, const struct pfi_envelope *env,
                         const struct pfi_event *ev)
{
	char kind[PFI_PROBLEM_KIND_MAX];
	const char *level = pfi_problem_of(env, ev, kind, sizeof(kind));

	if (level == NULL)
		return PFI_OK;
	return pfi_write_problem(&r->w, env, level, kind, r->next_line);
}

/* ---- verdicts -------------------------------------------------------------------------------- */

/* A line of a milter or filter (verdict.c): a verdict becomes an event
 * naming the queue ID it is about, so the correlator gives the line to
 * that open message; unreadable, it is counted under its program. */
static int verdict_kind(const struct pfi_envelope *env, struct pfi_event *ev,
                        struct pfi_verdict_read *v, int kind)
{
	switch (pfi_verdict_parse(env, v)) {
	case PFI_VL_VERDICT:
		ev->kind = PFI_EV_VERDICT;
		ev->qid = v->qid;
		return PFI_LINE_VERDICT;
	case PFI_VL_UNREADABLE:
		ev->kind = PFI_EV_UNPARSED;
		return PFI_LINE_UNPARSED;
	case PFI_VL_NONE:
		ev->kind = PFI_EV_FOREIGN;
		ev->qid = v->qid;     /* a line about a message joins it */
		return PFI_LINE_FOREIGN;
	default:
		return kind;
	}
}

/* Writes the verdicts of the line, joined to the message the correlator
 * gave it to; without one, they wait (pfi_corr_hold_verdict): an SPF
 * check for the message its client queues next, a verdict naming a queue
 * ID for that message's first line. */
static int store_verdict(struct run *r, const struct pfi_envelope *env,
                         const struct pfi_verdict_read *v, int64_t owner)
{
	char host[256], ip[64], program[128], reply[256], qid[PFI_QID_MAX + 1];
	int64_t id = 0;
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i <= v[0].nmore && rc == PFI_OK; i++)
		rc = pfi_write_verdict(&r->w, env, &v[i], r->next_line, owner, &id);

	if (rc != PFI_OK || id == 0 || owner > 0 ||
	    (v->client_ip.n == 0 && v->reply.n == 0 && v->qid.p == NULL) ||
	    v->client_ip.n >= sizeof(ip) || env->host.n >= sizeof(host) ||
	    v->program.n >= sizeof(program) || v->qid.n >= sizeof(qid))
		return rc;
	/* a reply is matched by its start: a long one is cut */
	pfi_slice_copy(host, sizeof(host), env->host);
	pfi_slice_copy(qid, sizeof(qid), v->qid);
	pfi_slice_copy(ip, sizeof(ip), v->client_ip);
	pfi_slice_copy(program, sizeof(program), v->program);
	pfi_slice_copy(reply, sizeof(reply), v->reply);
	rc = pfi_corr_hold_verdict(r->corr, host, v->qid.p ? qid : NULL, ip,
	                           program, v->reply.n ? reply : NULL,
	                           env->time, r->next_line, id);
	return rc == PFI_ENOMEM ? pfi_err_set(&r->st->err, rc, "out of memory")
	                        : rc;
}

/* Whether the index holds the line already (write-overlap.c): then it is
 * skipped, neither stored nor correlated nor counted as a line of the
 * index, only as a duplicate.  env NULL: not a syslog line. */
static int repeated(struct run *r, const struct pfi_envelope *env,
                    const char *line, size_t len, int64_t time, int *dup)
{
	int rc = pfi_overlap_check(r->overlap, env, line, len, time, dup);

	if (rc == PFI_OK && *dup)
		r->rep->duplicate_lines++;
	return rc;
}

static int index_line(struct run *r, struct pfi_syslog_ctx *ctx,
                      const char *line, size_t len, int64_t *last_time)
{
	struct pfi_envelope env;
	struct pfi_event ev;
	struct pfi_verdict_read v[PFI_VERDICTS_PER_LINE];
	struct pfi_slice none = { NULL, 0 };
	int64_t owner = 0;
	int kind, i, times, dup, rc;
	int parsed = pfi_syslog_parse(ctx, line, len, &env) == PFI_OK;

	if (parsed)
		*last_time = env.time;
	rc = repeated(r, parsed ? &env : NULL, line, len, *last_time, &dup);
	if (rc != PFI_OK || dup)
		return rc;
	v[0].detail_only = 0;
	if (!parsed) {
		kind = PFI_LINE_NOSYSLOG;
		env.time = *last_time;
		env.program = none;
		env.host = none;      /* counted under host "" */
	} else {
		kind = line_kind(pfi_postfix_parse(&env, &ev));
		if (kind != PFI_LINE_POSTFIX && pfi_verdict_program(env.program))
			kind = verdict_kind(&env, &ev, v, kind);
		times = env.repeat < REPEAT_FEED_MAX ? env.repeat : REPEAT_FEED_MAX;
		for (i = 0; i < times && rc == PFI_OK; i++)
			rc = pfi_corr_feed(r->corr, &env, &ev, r->next_line, &owner);
		if (rc == PFI_OK)
			rc = pfi_counts_note(r->events, &env, &ev, times);
		if (rc == PFI_OK && kind == PFI_LINE_VERDICT)
			rc = store_verdict(r, &env, v, owner);
		else if (rc == PFI_OK && kind == PFI_LINE_FOREIGN &&
		         ev.kind == PFI_EV_FOREIGN && v[0].detail_only)
			rc = pfi_write_verdict_detail(&r->w, &env, v);
		if (rc == PFI_OK && kind != PFI_LINE_FOREIGN &&
		    kind != PFI_LINE_VERDICT)
			rc = store_problem(r, &env, &ev);
	}
	if (rc == PFI_OK)
		rc = store_line(r, line, len, kind, env.program, env.time);
	if (rc == PFI_OK)
		rc = count_line(r, kind, env.program, env.host);
	report_kind(r->rep, kind);
	r->next_line++;
	return rc;
}

/* ---- one file ------------------------------------------------------------------------------ */

struct file_span {
	int64_t first, last;
	uint64_t lines;
	int complete;        /* read to its end: its identity may be kept */
	size_t held_back;    /* bytes of an unfinished last line left unread */
	/* How the stamps were read: the year a classic line got first (0:
	 * none), from what, and whether any line was in local time. */
	int year;
	const char *year_from;
	uint64_t unzoned;
};

/* The zone local stamps were read in: "Europe/Berlin (--log-tz)", or
 * the process's, "local: Europe/Berlin" (TZ, else /etc/localtime). */
static const char *stamp_zone(const struct run *r, char *buf, size_t size)
{
	const char *tz = getenv("TZ");
	char link[PATH_MAX];
	const char *at;
	ssize_t n;

	if (r->opts && r->opts->log_tz) {
		snprintf(buf, size, "%s (--log-tz)", r->opts->log_tz);
		return buf;
	}
	if (tz != NULL && *tz != '\0') {
		snprintf(buf, size, "local: TZ=%s", tz);
		return buf;
	}
	n = readlink("/etc/localtime", link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = '\0';
	at = strstr(link, "zoneinfo/");
	snprintf(buf, size, "local: %s", at ? at + 9 : n > 0 ? link : "UTC");
	return buf;
}

static int save_file(struct run *r, struct input *in, struct pfi_reader *rd,
                     const struct file_span *sp)
{
	uint64_t dev, ino, size;
	time_t mtime;
	sqlite3_stmt *s;
	int rc;

	pfi_reader_stat(rd, &dev, &ino, &size, &mtime);
	char zone[PATH_MAX + 32];

	rc = sqlite3_prepare_v2(r->st->db, in->file_id ?
		"UPDATE files SET path = ?2, dev = ?3, ino = ?4, size = ?5,"
		" mtime = ?6, offset = ?7, lines = lines + ?8,"
		" first = coalesce(first, ?9), last = coalesce(?10, last),"
		" year = coalesce(year, ?13), year_from = coalesce(year_from, ?14),"
		" zone = coalesce(zone, ?15) WHERE id = ?1" :
		"INSERT INTO files(path, dev, ino, size, mtime, offset, lines,"
		" first, last, fp_hash, fp_len, year, year_from, zone) VALUES (?2,"
		" ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)", -1,
		&s, NULL);
	if (rc != SQLITE_OK)
		return pfi_store_dberr(r->st, PFI_ERROR, "cannot record file");
	if (in->file_id)
		sqlite3_bind_int64(s, 1, in->file_id);
	else {
		sqlite3_bind_int64(s, 11, (int64_t)in->fp_hash);
		sqlite3_bind_int64(s, 12, (int64_t)in->fp_len);
	}
	pfi_bind_str(s, 2, in->path);
	sqlite3_bind_int64(s, 3, (int64_t)dev);
	sqlite3_bind_int64(s, 4, (int64_t)ino);
	/* A file not read to its end must not look unchanged next time. */
	sqlite3_bind_int64(s, 5, sp->complete ? (int64_t)size : -1);
	sqlite3_bind_int64(s, 6, (int64_t)mtime);
	sqlite3_bind_int64(s, 7, (int64_t)(pfi_reader_offset(rd) - sp->held_back));
	sqlite3_bind_int64(s, 8, (int64_t)sp->lines);
	pfi_bind_time(s, 9, sp->first);
	pfi_bind_time(s, 10, sp->last);
	/* NULL when no line needed it: the lines said their year and zone */
	if (sp->year != 0) {
		sqlite3_bind_int(s, 13, sp->year);
		pfi_bind_str(s, 14, sp->year_from);
	}
	if (sp->unzoned > 0)
		pfi_bind_str(s, 15, stamp_zone(r, zone, sizeof(zone)));
	else if (sp->lines > 0)
		pfi_bind_str(s, 15, "offsets in the lines");
	rc = pfi_store_step_done(r->st, s, "cannot record file");
	sqlite3_finalize(s);
	return rc;
}

static void progress(struct run *r, struct pfi_reader *rd)
{
	struct pfi_progress p;
	uint64_t dev, ino, at = pfi_reader_raw_offset(rd);
	time_t mtime;

	if (!r->opts || !r->opts->progress)
		return;
	memset(&p, 0, sizeof(p));
	p.path = pfi_reader_path(rd);
	p.bytes_done = at;
	pfi_reader_stat(rd, &dev, &ino, &p.bytes_total, &mtime);
	p.lines = r->lines_total;
	p.step = PFI_STEP_READ;
	p.run_bytes_done = r->prog.before +
	                   (at > r->prog.start ? at - r->prog.start : 0);
	p.run_bytes_total = r->prog.total;
	p.file = r->prog.file;
	p.files = r->prog.files;
	r->opts->progress(r->opts->ctx, &p);
}

/* Progress as a finishing step begins, so that a long one is named. */
static void progress_step(struct run *r, enum pfi_index_step step)
{
	struct pfi_progress p;

	if (!r->opts || !r->opts->progress)
		return;
	memset(&p, 0, sizeof(p));
	p.lines = r->lines_total;
	p.step = step;
	p.run_bytes_done = r->prog.before;
	p.run_bytes_total = r->prog.total;
	p.file = r->prog.file;
	p.files = r->prog.files;
	r->opts->progress(r->opts->ctx, &p);
}

/* What the inputs to read hold beyond what is indexed, for progress:
 * on disk, so a compressed file counts what it takes there; unknown
 * (0) with standard input. */
static void progress_plan(struct run *r, const struct input *in, size_t n)
{
	size_t i;

	memset(&r->prog, 0, sizeof(r->prog));
	for (i = 0; i < n; i++) {
		if (in[i].path == NULL || in[i].unchanged)
			continue;
		r->prog.files++;
		if (in[i].size == 0) {
			r->prog.total = 0;
			break;
		}
		r->prog.total += in[i].size > in[i].skip ? in[i].size - in[i].skip
		                                         : 0;
	}
}

/* Reads the new lines of one file.  PFI_EIO (warned) leaves the lines
 * before the damage indexed. */
static int read_lines_loop(struct run *r, struct pfi_reader *rd,
                           struct pfi_syslog_ctx *ctx, struct file_span *sp)
{
	const char *line;
	size_t len;
	int64_t last_time = 0;
	uint64_t before = pfi_reader_offset(rd);
	int rc;

	while (!stopped(r) && (rc = pfi_reader_next(rd, &line, &len)) == PFI_OK) {
		if (r->opts && r->opts->follow && pfi_reader_unterminated(rd)) {
			sp->held_back = (size_t)(pfi_reader_offset(rd) - before);
			return PFI_OK;
		}
		before = pfi_reader_offset(rd);
		rc = index_line(r, ctx, line, len, &last_time);
		if (rc != PFI_OK)
			return rc;
		if (last_time && !sp->first)
			sp->first = last_time;
		sp->last = last_time;
		sp->lines++;
		if (++r->lines_total % PROGRESS_EVERY == 0) {
			progress(r, rd);
			if (r->lines_total % SWEEP_EVERY == 0 &&
			    (rc = pfi_corr_sweep(r->corr)) != PFI_OK)
				return rc;
		}
	}
	if (stopped(r))
		return PFI_OK;
	if (rc == PFI_EOF) {
		sp->complete = 1;
		return PFI_OK;
	}
	if (rc == PFI_EIO)
		warn(r, pfi_reader_err(rd)->msg);
	return rc;
}

/* Most lines of the file were not syslog lines: say so, with the count,
 * as it is probably not a mail log (or not one pfi can read). */
static void warn_not_syslog(struct run *r, struct pfi_reader *rd,
                            uint64_t bad, uint64_t lines)
{
	char msg[PATH_MAX + 128];

	if (bad == 0 || bad * 2 <= lines)
		return;
	snprintf(msg, sizeof(msg), "'%s': %llu of %llu lines are not syslog"
	         " lines (kept, counted as other programs' lines)",
	         pfi_reader_path(rd), (unsigned long long)bad,
	         (unsigned long long)lines);
	warn(r, msg);
}

/*
 * The year classic stamps start from, and what says so: the year given
 * (--year), the last line an earlier run read of this file (it goes on
 * from there), else the file's mtime (standard input: now).
 */
static void start_year(struct run *r, const struct input *in, time_t ref,
                       struct pfi_syslog_ctx *ctx, struct file_span *sp)
{
	pfi_syslog_init(ctx, ref);
	if (given_year(r) != 0) {
		pfi_syslog_set_year(ctx, given_year(r));
		sp->year_from = "--year";
	} else if (in->skip > 0 && in->last > 0) {
		pfi_syslog_resume(ctx, in->last);
		sp->year_from = "the file's last line read before";
	} else {
		sp->year_from = strcmp(in->path, "-") == 0 ? "the time read (now)"
		                                           : "the file's mtime";
	}
}

static int read_lines(struct run *r, struct input *in, struct pfi_reader *rd,
                      time_t ref, struct file_span *sp)
{
	uint64_t bad0 = r->rep->nosyslog_lines;
	struct pfi_syslog_ctx ctx;
	int rc;

	start_year(r, in, ref, &ctx, sp);
	rc = read_lines_loop(r, rd, &ctx, sp);
	sp->year = ctx.year0;
	sp->unzoned = ctx.unzoned;
	warn_not_syslog(r, rd, r->rep->nosyslog_lines - bad0, sp->lines);
	return rc;
}

static int index_input(struct run *r, struct input *in)
{
	struct pfi_reader *rd = in->stdin_reader;
	struct pfi_err err = { 0, "" };
	struct file_span sp = { 0, 0, 0, 0, 0, 0, NULL, 0 };
	uint64_t dev, ino, size;
	time_t mtime;
	int rc, rrc;

	in->stdin_reader = NULL;
	if (rd == NULL && pfi_reader_open(&rd, in->path, &err) != PFI_OK) {
		warn(r, err.msg);
		return PFI_EIO;
	}
	pfi_reader_stat(rd, &dev, &ino, &size, &mtime);
	if (strcmp(in->path, "-") == 0)
		mtime = r->opts && r->opts->now ? r->opts->now : time(NULL);
	rc = in->skip ? pfi_reader_seek(rd, in->skip, (uint64_t)in->lines_done)
	              : PFI_OK;
	if (rc == PFI_EOF) {
		sp.complete = 1;
		rc = PFI_OK;
	} else if (rc == PFI_OK) {
		r->prog.start = pfi_reader_raw_offset(rd);
		r->prog.file++;
		rrc = read_lines(r, in, rd, mtime, &sp);
		r->prog.before += pfi_reader_raw_offset(rd) - r->prog.start;
		rc = (rrc == PFI_EIO) ? PFI_OK : rrc;
		if (rrc == PFI_EIO)
			r->rep->files_failed++;
	} else {
		warn(r, pfi_reader_err(rd)->msg);
		r->rep->files_failed++;
		rc = PFI_OK;
	}
	if (sp.lines)
		r->rep->files_read++;
	else
		r->rep->files_skipped++;
	if (rc == PFI_OK && (sp.lines || in->file_id == 0 || !in->unchanged))
		rc = save_file(r, in, rd, &sp);
	pfi_reader_close(rd);
	return rc;
}

/* ---- the run ------------------------------------------------------------------------------ */

/*
 * A first run writes the whole index.  In rollback-journal mode its pages
 * go once, straight into the file (a new file needs next to no journal),
 * instead of twice, through the WAL and its checkpoint; a crash still
 * leaves the index as it was (empty).  Readers are locked out meanwhile
 * (store.c tells them why); the index goes back to WAL at the end.
 * Returns 1 when switched.
 */
static int journal_for_first_run(pfi_store *st)
{
	if (pfi_store_int(st, "SELECT EXISTS (SELECT 1 FROM chunks)") != 0)
		return 0;
	return pfi_store_text_is(st, "PRAGMA journal_mode = DELETE", "delete");
}

/* Back to WAL after a first run, so queries run while later runs write;
 * if a reader holds the file now, the next open switches it. */
static void journal_after_first_run(pfi_store *st)
{
	if (sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
}

/* The open-state limits of the options, defaults filled in. */
static void set_limits(struct run *r)
{
	int64_t life = r->opts ? r->opts->queue_lifetime : 0;
	int64_t cap = r->opts ? r->opts->max_open : 0;

	life = life == 0 ? QUEUE_LIFETIME_DEFAULT : life * 1000000;
	cap = cap == 0 ? PFI_MAX_OPEN_DEFAULT : cap;
	pfi_corr_set_limits(r->corr, life < 0 ? 0 : life + LOST_MARGIN,
	                    cap < 0 ? 0 : (size_t)cap);
}

/* Tells what the open-state limits closed in this run. */
static void report_lost(struct run *r)
{
	struct pfi_corr_lost lost = pfi_corr_lost(r->corr);
	char msg[160];

	r->rep->lost_messages = lost.stale + lost.capped;
	if (lost.capped == 0)
		return;
	snprintf(msg, sizeof(msg), "%llu messages over the cap of %llu open"
	         " messages were closed as unknown (see --max-open)",
	         (unsigned long long)lost.capped,
	         (unsigned long long)(r->opts && r->opts->max_open > 0 ?
	                              r->opts->max_open : PFI_MAX_OPEN_DEFAULT));
	warn(r, msg);
}

/* Whatever failed, nothing of this run stays half-written. */
static void abandon_run(pfi_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

static int run_begin(struct run *r)
{
	struct pfi_sink sink = { r, sink_message, sink_reject, sink_late_line,
	                         sink_sasl_failure, sink_session,
	                         sink_verdict_joined, sink_verdict_rejected };
	int64_t line0, msg0, link0;
	int rc = pfi_store_begin_write(r->st);

	if (rc != PFI_OK)
		return rc;
	line0 = pfi_store_next_line(r->st);
	msg0 = pfi_store_max_id(r->st, "messages");
	link0 = pfi_store_max_id(r->st, "links");
	if (line0 < 0 || msg0 < 0 || link0 < 0)
		return PFI_ERROR;
	r->next_line = line0;
	r->bulk = msg0 == 0 && line0 == 1;
	if (r->bulk && ((rc = pfi_store_query_indexes(r->st, 0)) != PFI_OK ||
	                (rc = pfi_store_indexes(r->st, pfi_run_indexes, 0)) != PFI_OK))
		return rc;
	if (!r->bulk && (rc = pfi_rollup_track(r->st, &r->delta)) != PFI_OK)
		return rc;
	r->w.tracking = r->delta != NULL;
	rc = pfi_chunker_new(&r->chunks, r->st, line0);
	if (rc == PFI_OK)
		rc = pfi_counts_new(&r->events);
	if (rc != PFI_OK)
		return pfi_err_set(&r->st->err, rc, "out of memory");
	if ((rc = pfi_overlap_new(&r->overlap, r->st)) != PFI_OK)
		return rc;
	r->msg0 = msg0 + 1;
	r->link0 = link0 + 1;
	rc = pfi_corr_new(&r->corr, &sink, r->msg0);
	if (rc != PFI_OK)
		return pfi_err_set(&r->st->err, rc, "out of memory");
	set_limits(r);
	rc = pfi_load_open(r->st, r->corr);
	if (rc == PFI_OK)
		rc = pfi_load_sessions(r->st, r->corr);
	return rc == PFI_OK ? pfi_load_held_verdicts(r->st, r->corr) : rc;
}

/* The stats cells: all of them after a first run, else changed by the
 * difference of the messages this run wrote and linked (noted as it
 * went) and of its NOQUEUE rejects. */
static int update_cells(struct run *r)
{
	struct pfi_rollup_delta *d = r->delta;

	if (r->bulk)
		return pfi_rollup_rebuild_all(r->st);
	r->delta = NULL;   /* refresh frees it */
	return pfi_rollup_refresh(&r->w, d);
}

/* Open messages are written; the live sessions replace those saved by
 * the last checkpoint, for the next run to pick up where this one ends. */
static int checkpoint(struct run *r)
{
	int rc = pfi_write_clear_sessions(&r->w);

	return rc == PFI_OK ? pfi_corr_checkpoint(r->corr) : rc;
}

/* A run that read an earlier stretch of the log than the index holds
 * ends at the log time the index has reached (write-overlap.c keeps each
 * host's latest line), not at its own last line. */
static int catch_up(struct run *r)
{
	int64_t t = pfi_store_int(r->st, "SELECT coalesce(max(last), 0)"
	                          " FROM line_hosts");

	if (t < 0)
		return pfi_store_dberr(r->st, PFI_ERROR, "cannot read index");
	return pfi_corr_advance(r->corr, t);
}

/* Messages the run leaves open that a stored message continues (their
 * beginning came after their end) are one with it (write-merge.c). */
static int join_beginnings(struct run *r)
{
	size_t joined;
	int rc = pfi_write_join_beginnings(&r->w, r->msg0, &joined);

	if (rc == PFI_OK && joined <= r->rep->open_messages) {
		r->rep->open_messages -= joined;
		r->rep->messages += joined;
	}
	return rc;
}

static int64_t wall_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* The run's record (write-runs.h), the last thing before its commit:
 * its end is when it began to commit. */
static int record_run(struct run *r)
{
	struct pfi_run_rec rec;
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	memset(&rec, 0, sizeof(rec));
	rec.start = r->start;
	rec.end = wall_now();
	rec.seconds = (double)(t.tv_sec - r->mono0.tv_sec) +
	              (double)(t.tv_nsec - r->mono0.tv_nsec) / 1e9;
	rec.lines = (int64_t)r->rep->lines;
	rec.duplicates = (int64_t)r->rep->duplicate_lines;
	rec.files = (int64_t)r->rep->files_read;
	rec.messages = (int64_t)r->rep->messages;
	rec.stopped = stopped(r);
	return pfi_runs_record(r->st, &rec);
}

static int run_end(struct run *r)
{
	int rc;

	progress_step(r, PFI_STEP_SAVE);
	rc = pfi_chunker_flush(r->chunks);

	if (rc == PFI_OK)
		rc = pfi_overlap_finish(r->overlap);
	if (rc == PFI_OK && !r->bulk)
		rc = catch_up(r);
	if (rc == PFI_OK)
		rc = checkpoint(r);
	r->rep->open_messages = pfi_corr_open_count(r->corr);
	if (rc == PFI_OK && !r->bulk)
		rc = join_beginnings(r);
	if (rc == PFI_OK)
		report_lost(r);
	if (rc == PFI_OK)
		rc = flush_counts(r);
	if (rc == PFI_OK)
		rc = pfi_counts_flush(r->events, r->st);
	if (rc == PFI_OK && r->bulk) {
		progress_step(r, PFI_STEP_INDEXES);
		rc = pfi_store_indexes(r->st, pfi_run_indexes, 1);
	}
	if (rc == PFI_OK)
		progress_step(r, PFI_STEP_LINKS);
	if (rc == PFI_OK)
		rc = pfi_write_links(&r->w, r->msg0,
		                     r->link0 < r->w.first_new_link
		                     ? r->link0 : r->w.first_new_link);
	/* After the query indexes: counting rows relies on them. */
	if (rc == PFI_OK && r->bulk) {
		progress_step(r, PFI_STEP_INDEXES);
		rc = pfi_store_query_indexes(r->st, 1);
	}
	if (rc == PFI_OK) {
		progress_step(r, PFI_STEP_STATS);
		rc = update_cells(r);
	}
	if (rc == PFI_OK)
		rc = record_run(r);
	if (rc == PFI_OK) {
		progress_step(r, PFI_STEP_COMMIT);
		rc = pfi_store_exec(r->st, "COMMIT");
	}
	return rc;
}

static int survey_all(struct run *r, struct input *in, size_t n, int *failed)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = survey(r, &in[i]);
		if (rc == PFI_EIO) {
			in[i].path = NULL;
			r->rep->files_failed++;
			*failed = 1;
		} else if (rc != PFI_OK) {
			return rc;
		}
	}
	qsort(in, n, sizeof(*in), input_cmp);
	return PFI_OK;
}

/* True when every readable input is unchanged since the last run. */
static int nothing_new(const struct input *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (in[i].path && !in[i].unchanged)
			return 0;
	return 1;
}

static int index_all(struct run *r, struct input *in, size_t n)
{
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i < n && rc == PFI_OK && !stopped(r); i++) {
		if (in[i].path == NULL)
			continue;
		if (in[i].unchanged) {
			r->rep->files_skipped++;
			continue;
		}
		pfi_overlap_input(r->overlap, in[i].skip > 0);
		rc = index_input(r, &in[i]);
	}
	return rc;
}

/* Prepares r for a run on st, before its transaction. */
static int run_init(struct run *r, pfi_store *st,
                    const struct pfi_index_opts *opts,
                    struct pfi_index_report *rep)
{
	int rc;

	memset(r, 0, sizeof(*r));
	pfi_smap_init(&r->host_lines, sizeof(int64_t));
	r->start = wall_now();
	clock_gettime(CLOCK_MONOTONIC, &r->mono0);
	r->st = st;
	pfi_write_init(&r->w, st);
	r->opts = opts;
	r->rep = rep;
	memset(r->rep, 0, sizeof(*r->rep));
	if (opts && (rc = pfi_opts_version(&st->err, opts->version,
	                                   PFI_INDEX_OPTIONS_VERSION,
	                                   "struct pfi_index_opts")) != PFI_OK)
		return rc;
	pfi_err_clear(&st->err);
	pfi_store_forget_chunk(st);   /* a failed run may drop chunks */
	return PFI_OK;
}

/* Begins the run's transaction. */
static int run_start(struct run *r)
{
	r->first = journal_for_first_run(r->st);
	r->started = 1;
	return run_begin(r);
}

/* Commits a started run when rc is PFI_OK, else rolls it back; frees
 * what r holds.  Returns rc or the failure of the commit. */
static int run_finish(struct run *r, int rc)
{
	pfi_store *st = r->st;

	if (r->started && rc == PFI_OK)
		rc = run_end(r);
	if (rc != PFI_OK)
		abandon_run(st);
	if (r->first)
		journal_after_first_run(st);
	/* The correlator and the line counts cannot reach the handle: their
	 * bare codes get their text, never the "success" of no message. */
	if (rc != PFI_OK && st->err.code == PFI_OK)
		pfi_err_set(&st->err, rc, "%s", pfi_strerror(rc));
	pfi_rollup_untrack(r->delta);   /* a failed run's snapshot */
	pfi_write_release(&r->w);
	pfi_corr_free(r->corr);
	pfi_chunker_free(r->chunks);
	pfi_counts_free(r->events);
	pfi_overlap_free(r->overlap);
	free(r->counts);
	pfi_smap_release(&r->host_lines);
	return rc;
}

int pfi_index_paths(pfi_store *st, const char *const *paths, size_t npaths,
                    const struct pfi_index_opts *opts,
                    struct pfi_index_report *report)
{
	struct pfi_index_report dummy;
	struct run r;
	struct input *in = calloc(npaths ? npaths : 1, sizeof(*in));
	size_t i;
	int failed = 0, rc;

	rc = run_init(&r, st, opts, report ? report : &dummy);
	if (rc == PFI_OK && in == NULL)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	for (i = 0; in != NULL && i < npaths; i++) {
		in[i].path = paths[i];
		in[i].order = i;
	}
	if (rc == PFI_OK)
		rc = survey_all(&r, in, npaths, &failed);
	if (rc == PFI_OK && nothing_new(in, npaths)) {
		r.rep->files_skipped = npaths - r.rep->files_failed;
	} else if (rc == PFI_OK) {
		progress_plan(&r, in, npaths);
		rc = run_start(&r);
		if (rc == PFI_OK)
			rc = index_all(&r, in, npaths);
	}
	rc = run_finish(&r, rc);
	for (i = 0; in != NULL && i < npaths; i++)
		pfi_reader_close(in[i].stdin_reader);
	free(in);
	if (rc == PFI_OK && (failed || r.rep->files_failed))
		return pfi_err_set(&st->err, PFI_EIO, "%llu file(s) could not be"
		                   " read in full", (unsigned long long)r.rep->files_failed);
	return rc;
}

/* ---- runs for other inputs (index.h) -------------------------------------------------------- */

struct pfi_run {
	struct run r;
	struct pfi_index_report dummy;   /* when the caller wants no report */
	struct pfi_syslog_ctx ctx;       /* of the current input */
	int64_t last_time;               /* of its last syslog line */
	const char *input;               /* its name, for progress */
};

int pfi_run_new(struct pfi_run **out, pfi_store *st,
                const struct pfi_index_opts *opts,
                struct pfi_index_report *rep)
{
	struct pfi_run *run = calloc(1, sizeof(*run));

	*out = run;
	if (run == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	return run_init(&run->r, st, opts, rep ? rep : &run->dummy);
}

int pfi_run_start(struct pfi_run *run)
{
	return run_start(&run->r);
}

int pfi_run_stopped(const struct pfi_run *run)
{
	return stopped(&run->r);
}

void pfi_run_warn(struct pfi_run *run, const char *msg)
{
	warn(&run->r, msg);
}

void pfi_run_input(struct pfi_run *run, const char *name, time_t ref,
                   int reads_on)
{
	pfi_syslog_init(&run->ctx, ref);
	run->last_time = 0;
	run->input = name;
	pfi_overlap_input(run->r.overlap, reads_on);
}

/* Every PROGRESS_EVERY lines read, progress; less often, a sweep. */
static int run_tick(struct pfi_run *run)
{
	struct run *r = &run->r;
	struct pfi_progress p;

	if (++r->lines_total % PROGRESS_EVERY != 0)
		return PFI_OK;
	if (r->opts && r->opts->progress) {
		memset(&p, 0, sizeof(p));
		p.path = run->input;
		p.lines = r->lines_total;
		r->opts->progress(r->opts->ctx, &p);
	}
	return r->lines_total % SWEEP_EVERY == 0 ? pfi_corr_sweep(r->corr)
	                                         : PFI_OK;
}

int pfi_run_line(struct pfi_run *run, const char *line, size_t len)
{
	int rc = index_line(&run->r, &run->ctx, line, len, &run->last_time);

	return rc == PFI_OK ? run_tick(run) : rc;
}

int pfi_run_skip(struct pfi_run *run, struct pfi_slice program,
                 struct pfi_slice host)
{
	int rc = count_line(&run->r, PFI_LINE_FOREIGN, program, host);

	report_kind(run->r.rep, PFI_LINE_FOREIGN);
	return rc == PFI_OK ? run_tick(run) : rc;
}

int pfi_run_end(struct pfi_run *run, int rc)
{
	if (run == NULL)
		return rc;
	rc = run_finish(&run->r, rc);
	free(run);
	return rc;
}
