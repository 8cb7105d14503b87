/*
 * index-journal.c - pfi_index_journal(): the systemd journal's entries
 * into the index, in one run (index.h) for all sources of a pfi_journal,
 * each continuing right after the cursor the index keeps for it
 * (journal_cursors), which the run writes in its own transaction.
 *
 * An entry becomes the line a syslog daemon writes for it, stamped with
 * the entry's own time in RFC 3339, to the microsecond, in UTC:
 *
 *     2026-11-02T03:04:05.123456+00:00 mx1 postfix/smtpd[4711]: connect from ...
 *
 * and that line takes the path of a file's line, through the syslog
 * parser.  The parser reads such a line back exactly (a zoned stamp with
 * six digits, a host and a tag without spaces, the message as it is), so
 * one path serves both inputs, and the raw line kept is one that `pfi
 * trace --raw` shows and `pfi index -` reads again to the same records.
 *
 * Which entries: those of Postfix programs, as the Postfix stage names
 * them (a SYSLOG_IDENTIFIER whose first component starts with "postfix":
 * postfix/smtpd, postfix-out/smtp ...), and of the milters and filters
 * whose verdicts verdict.c reads, whatever their facility (clamav-milter
 * logs to local6 by default), and the other entries of the mail facility
 * (what /var/log/mail.log holds), kept as a log file's lines of other
 * programs are.  Every other entry (the kernel, sshd, cron ...) is
 * counted as another program's line under its identifier, and not kept.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index.h"
#include "read-journal.h"

#define STAMP_SIZE 64   /* room for "YYYY-MM-DDThh:mm:ss.uuuuuu+00:00" */
#define NAME_MAX_LEN 255 /* of a host or a program in a line: past it, cut */

/* A source before the run: where its new entries begin. */
struct jinput {
	struct pfi_jsource *src;
	size_t order;        /* as given, to keep ties stable */
	int64_t first;       /* time of its first new entry */
	int fresh;           /* it has new entries */
};

/* What one source gave the run. */
struct jspan {
	int64_t entries;
	int64_t first, last;
};

/* ---- the stored cursor ------------------------------------------------------------------- */

/* The cursor the index keeps for source s, malloc'd into *out (NULL when
 * none).  PFI_OK, PFI_ENOMEM or PFI_ERROR. */
static int load_cursor(pfi_store *st, const struct pfi_jsource *s, char **out)
{
	sqlite3_stmt *q;
	int rc = pfi_store_prepare(st, "SELECT cursor FROM journal_cursors"
	                           " WHERE source = ?1", &q);

	*out = NULL;
	if (rc != PFI_OK)
		return rc;
	pfi_bind_str(q, 1, pfi_jsource_name(s));
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && (*out = pfi_col_dup(q, 0)) == NULL)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = PFI_OK;
	else
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read journal cursor");
	sqlite3_finalize(q);
	return rc;
}

static const char save_cursor_sql[] =
	"INSERT INTO journal_cursors(source, cursor, entries, first, last)"
	" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(source) DO UPDATE SET"
	" cursor = ?2, entries = entries + ?3, first = coalesce(first, ?4),"
	" last = coalesce(?5, last)";

/* Records where source s stopped, with what this run read of it. */
static int save_cursor(pfi_store *st, struct pfi_jsource *s,
                       const struct jspan *sp)
{
	sqlite3_stmt *q = NULL;
	char *cursor = NULL;
	int rc = pfi_jsource_cursor(s, &cursor, &st->err);

	if (rc == PFI_OK)
		rc = pfi_store_prepare(st, save_cursor_sql, &q);
	if (rc == PFI_OK) {
		pfi_bind_str(q, 1, pfi_jsource_name(s));
		pfi_bind_str(q, 2, cursor);
		sqlite3_bind_int64(q, 3, sp->entries);
		pfi_bind_time(q, 4, sp->first);
		pfi_bind_time(q, 5, sp->last);
		rc = pfi_store_step_done(st, q, "cannot record journal cursor");
	}
	sqlite3_finalize(q);
	free(cursor);
	return rc;
}

/* Positions s after its stored cursor (at its head without one). */
static int seek_stored(pfi_store *st, struct pfi_jsource *s, int *reads_on)
{
	char *cursor = NULL;
	int rc = load_cursor(st, s, &cursor);

	*reads_on = cursor != NULL;
	if (rc == PFI_OK)
		rc = pfi_jsource_seek(s, cursor, &st->err);
	free(cursor);
	return rc;
}

/* ---- one entry --------------------------------------------------------------------------- */

/* Whether the line of entry e is kept: the mail facility's, a milter's
 * or filter's that verdict.c reads, or a Postfix program's, told by the
 * Postfix stage from the program alone (a program it does not take for
 * Postfix's is PFI_EV_FOREIGN, whatever the text). */
static int entry_kept(const struct pfi_jentry *e)
{
	struct pfi_envelope env;
	struct pfi_event ev;

	if (!PFI_SLICE_PRESENT(e->program) || e->program.n == 0)
		return 0;
	if (e->facility == PFI_FACILITY_MAIL || pfi_verdict_program(e->program))
		return 1;
	memset(&env, 0, sizeof(env));
	env.program = e->program;
	env.pid = -1;
	env.repeat = 1;
	return pfi_postfix_parse(&env, &ev) != PFI_EV_FOREIGN;
}

/* "2026-11-02T03:04:05.123456+00:00" for t (microseconds, UTC). */
static void format_stamp(char *buf, size_t size, int64_t t)
{
	time_t secs;
	struct tm tm;
	long us;

	if (t < 0)
		t = 0;
	secs = (time_t)(t / 1000000);
	us = (long)(t % 1000000);
	if (gmtime_r(&secs, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld+00:00",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, us);
}

/* s, cut to NAME_MAX_LEN bytes. */
static struct pfi_slice name_cut(struct pfi_slice s)
{
	if (s.n > NAME_MAX_LEN)
		s.n = NAME_MAX_LEN;
	return s;
}

/* The host of entry e as its line names it. */
static struct pfi_slice entry_host(const struct pfi_jentry *e)
{
	static const struct pfi_slice unknown = { "unknown", 7 };

	return name_cut(e->host.p && e->host.n ? e->host : unknown);
}

/* The line of entry e into b (whose maximum leaves room for a line of
 * PFI_LINE_MAX bytes and a stamp), cut to PFI_LINE_MAX bytes as a file's
 * overlong line is. */
static int render(struct pfi_buf *b, const struct pfi_jentry *e)
{
	struct pfi_slice host = entry_host(e);
	struct pfi_slice program = name_cut(e->program);
	char stamp[STAMP_SIZE];
	size_t room;
	int rc;

	pfi_buf_reset(b);
	format_stamp(stamp, sizeof(stamp), e->time);
	rc = pfi_buf_appends(b, stamp);
	if (rc == PFI_OK)
		rc = pfi_buf_appendc(b, ' ');
	if (rc == PFI_OK)
		rc = pfi_buf_append(b, host.p, host.n);
	if (rc == PFI_OK)
		rc = pfi_buf_appendc(b, ' ');
	if (rc == PFI_OK)
		rc = pfi_buf_append(b, program.p, program.n);
	if (rc == PFI_OK && e->pid >= 0)
		rc = pfi_buf_printf(b, "[%ld]", e->pid);
	if (rc == PFI_OK)
		rc = pfi_buf_append(b, ": ", e->text.p ? 2 : 1);
	if (rc != PFI_OK || e->text.p == NULL)
		return rc;
	room = b->len < PFI_LINE_MAX ? PFI_LINE_MAX - b->len : 0;
	return pfi_buf_append(b, e->text.p, e->text.n < room ? e->text.n : room);
}

static int index_entry(struct pfi_run *run, struct pfi_buf *b,
                       const struct pfi_jentry *e)
{
	int rc;

	if (!entry_kept(e))
		return pfi_run_skip(run, e->program, entry_host(e));
	rc = render(b, e);
	if (rc == PFI_OK)
		rc = pfi_run_line(run, b->data, b->len);
	return rc;
}

/* ---- one source -------------------------------------------------------------------------- */

/* Reads the new entries of one source.  A read failure is warned of and
 * counted; the entries before it stay indexed. */
static int index_source(pfi_store *st, struct pfi_run *run,
                        struct pfi_index_report *rep, struct jinput *in,
                        struct pfi_buf *b)
{
	struct pfi_jsource *s = in->src;
	struct jspan sp = { 0, 0, 0 };
	struct pfi_jentry e;
	int reads_on, rc = seek_stored(st, s, &reads_on);

	pfi_run_input(run, pfi_jsource_name(s), time(NULL), reads_on);
	while (rc == PFI_OK && !pfi_run_stopped(run) &&
	       (rc = pfi_jsource_next(s, &e, &st->err)) == PFI_OK) {
		rc = index_entry(run, b, &e);
		sp.entries++;
		if (!sp.first)
			sp.first = e.time;
		sp.last = e.time;
	}
	if (rc == PFI_EIO) {
		pfi_run_warn(run, st->err.msg);
		pfi_err_clear(&st->err);
		rep->files_failed++;
		rc = PFI_OK;
	}
	if (rc == PFI_EOF)
		rc = PFI_OK;
	if (sp.entries)
		rep->files_read++;
	if (rc == PFI_OK && sp.entries)
		rc = save_cursor(st, s, &sp);
	return rc;
}

/* ---- the run ----------------------------------------------------------------------------- */

/* Whether source s has entries after its stored cursor; the time of the
 * first in in->first.  A source that cannot be read is warned of. */
static int survey(pfi_store *st, struct pfi_run *run, struct jinput *in,
                  struct pfi_index_report *rep)
{
	struct pfi_jentry e;
	int reads_on, rc = seek_stored(st, in->src, &reads_on);

	if (rc == PFI_OK)
		rc = pfi_jsource_next(in->src, &e, &st->err);
	if (rc == PFI_OK) {
		in->fresh = 1;
		in->first = e.time;
	} else if (rc == PFI_EIO) {
		pfi_run_warn(run, st->err.msg);
		pfi_err_clear(&st->err);
		rep->files_failed++;
	}
	return rc == PFI_EOF || rc == PFI_EIO ? PFI_OK : rc;
}

static int input_cmp(const void *a, const void *b)
{
	const struct jinput *x = a, *y = b;

	if (x->fresh != y->fresh)
		return x->fresh ? -1 : 1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int survey_all(pfi_store *st, struct pfi_run *run, pfi_journal *j,
                      struct jinput *in, struct pfi_index_report *rep,
                      size_t *fresh)
{
	size_t i, n = pfi_journal_nsources(j);
	int rc = PFI_OK;

	*fresh = 0;
	for (i = 0; i < n && rc == PFI_OK; i++) {
		in[i].src = pfi_journal_source(j, i);
		in[i].order = i;
		rc = survey(st, run, &in[i], rep);
		*fresh += in[i].fresh;
	}
	qsort(in, n, sizeof(*in), input_cmp);
	return rc;
}

static int index_fresh(pfi_store *st, struct pfi_run *run,
                       struct pfi_index_report *rep, struct jinput *in,
                       size_t fresh)
{
	struct pfi_buf b;
	size_t i;
	int rc = PFI_OK;

	pfi_buf_init(&b, PFI_LINE_MAX + 1024);
	for (i = 0; i < fresh && rc == PFI_OK && !pfi_run_stopped(run); i++)
		rc = index_source(st, run, rep, &in[i], &b);
	pfi_buf_release(&b);
	return rc;
}

int pfi_index_journal(pfi_store *st, pfi_journal *j,
                      const struct pfi_index_opts *opts,
                      struct pfi_index_report *report)
{
	struct pfi_index_report dummy, *rep = report ? report : &dummy;
	struct pfi_run *run = NULL;
	size_t n = pfi_journal_nsources(j), fresh = 0;
	struct jinput *in = calloc(n ? n : 1, sizeof(*in));
	int rc = pfi_run_new(&run, st, opts, rep);

	if (rc == PFI_OK && in == NULL)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (rc == PFI_OK)
		rc = survey_all(st, run, j, in, rep, &fresh);
	rep->files_skipped = n - fresh - rep->files_failed;
	if (rc == PFI_OK && fresh > 0) {
		rc = pfi_run_start(run);
		if (rc == PFI_OK)
			rc = index_fresh(st, run, rep, in, fresh);
	}
	rc = pfi_run_end(run, rc);
	free(in);
	if (rc == PFI_OK && rep->files_failed)
		return pfi_err_set(&st->err, PFI_EIO, "%llu journal source(s)"
		                   " could not be read in full",
		                   (unsigned long long)rep->files_failed);
	return rc;
}
