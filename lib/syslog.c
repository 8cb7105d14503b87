/*
 * syslog.c - the syslog envelope of a log line: timestamp, host,
 * program[pid] and the message text, as slices into the line.
 *
 * Timestamps:
 * - classic BSD "Mmm dd hh:mm:ss" (RFC 3164; the day may be space- or
 *   zero-padded), optionally with a leading "YYYY " and a fraction of 1 to
 *   9 digits ("Nov  2 03:04:05.123456"), in local time (TZ);
 * - RFC 3339 / ISO 8601 "YYYY-MM-DDThh:mm:ss[.frac]" with "Z", "+hh:mm" or
 *   "+hhmm" (rsyslog RSYSLOG_FileFormat, journalctl -o short-iso); without
 *   a zone it is local time.
 * Fractions keep microseconds; digits past the sixth are dropped.
 *
 * Local times: mktime() is far too slow to run on every line of a
 * multi-gigabyte log, so the epoch of the current local hour is cached
 * (one entry per thread, emptied by pfi_syslog_init()) and minutes and
 * seconds are added to it.  Caching per hour rather than per day keeps DST
 * change days right, as zones change their offset on a whole hour.  In
 * the hour that a DST end repeats, every line gets mktime()'s choice of
 * the two offsets.
 *
 * Classic years (the line has none): the first line takes the local year
 * of ctx->ref, one less if that puts it more than REF_SLACK after ref (a
 * day, so that a sender's clock running a little ahead does not push a
 * line back a whole year).  After that, a line whose time runs back by
 * more than half a year has moved into the next year (Dec 31 -> Jan 1),
 * and a line running forward by more than half a year (a late "Dec 31"
 * line written after "Jan 1") belongs to the previous year, for that line
 * only.  A line with an explicit year sets the year for the lines after
 * it.  Zoned RFC 3339 lines do not touch the context.  For evidence whose
 * mtime no longer tells, the caller gives the first line's year
 * (pfi_syslog_set_year); a file read on from where an earlier run
 * stopped continues from that run's last line (pfi_syslog_resume).
 *
 * Lenient where syslog daemons differ: any number of spaces between the
 * fields, "prog:" without a pid, and a line ending right after "prog:"
 * (empty text).  Strict elsewhere: a line without a host (the word after
 * the timestamp ends in ':'), without "prog:" or with an impossible time
 * is not a syslog line.
 *
 * A central log host (rsyslog 8.2302 and syslog-ng, as seen in their
 * output and code) writes three more shapes, all read here:
 * - "<PRI>" before any of the above, from the *ForwardFormat templates;
 * - RFC 5424, "<PRI>1 STAMP HOST APP-NAME PROCID MSGID SD MSG" (rsyslog's
 *   RSYSLOG_SyslogProtocol23Format, syslog-ng's flags(syslog-protocol)),
 *   the <PRI> optional.  Host and APP-NAME are kept as written, "-" (the
 *   NILVALUE) too, as rsyslog writes "-" in its classic templates for the
 *   same message; a PROCID that is "-" or not a number gives pid -1.
 *   STRUCTURED-DATA is "-" or [elements] whose quoted values escape '"',
 *   '\' and ']'; it is skipped.  The MSG loses leading spaces (rsyslog
 *   keeps the space a classic message had after its tag) and a BOM;
 * - "prog[pid] text" without the colon: rsyslog's classic templates for
 *   a message that arrived as RFC 5424 (the colon is not part of
 *   APP-NAME).  Without a pid, "host prog text" cannot be told from any
 *   line of words ("Nov 22 13:31:05 mx1 last message repeated 3 times"),
 *   and is not read.
 * A BOM at the start of the text is dropped in every shape: rsyslog
 * copies it from an RFC 5424 sender into classic lines as well.
 */
#include <limits.h>
#include <string.h>
#include <time.h>

#include "pfi-int.h"
#include "scan.h"

#define USEC 1000000LL
#define HALF_YEAR (183LL * 86400 * USEC)
#define REF_SLACK 86400

/* A timestamp as written in the line. */
struct stamp {
	int year;          /* 0 when the line does not say (classic) */
	int mon, day;      /* 1-12, 1-31 */
	int hour, min, sec;
	long us;           /* microseconds from the fraction */
	int zoned;         /* an offset was given: `off` is valid */
	int off;           /* seconds east of UTC */
};

/* The epoch of one local hour: key (y, m, d, h) -> base. */
static _Thread_local struct {
	int valid;
	int y, m, d, h;
	int64_t base;
} hour_cache;

void pfi_syslog_init(struct pfi_syslog_ctx *ctx, time_t ref)
{
	ctx->ref = ref;
	ctx->year = 0;
	ctx->last = 0;
	ctx->first_year = 0;
	ctx->year0 = 0;
	ctx->unzoned = 0;
	hour_cache.valid = 0;
}

void pfi_syslog_set_year(struct pfi_syslog_ctx *ctx, int year)
{
	ctx->first_year = year;
}

void pfi_syslog_resume(struct pfi_syslog_ctx *ctx, int64_t last)
{
	time_t sec = (time_t)(last / USEC);
	struct tm tm;

	if (last <= 0 || localtime_r(&sec, &tm) == NULL)
		return;
	ctx->year = tm.tm_year + 1900;
	ctx->last = last;
}

/* ---- timestamps ------------------------------------------------------------- */

static int cur_month(struct pfi_scan *c, int *mon)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int i;

	if (c->end - c->p < 3)
		return 0;
	for (i = 0; i < 12; i++) {
		if (memcmp(c->p, names + 3 * i, 3) == 0) {
			*mon = i + 1;
			c->p += 3;
			return 1;
		}
	}
	return 0;
}

/* The day of a classic stamp: " 2", "  2", " 02" or " 22". */
static int cur_day(struct pfi_scan *c, int *day)
{
	struct pfi_scan t = *c;

	if (!pfi_scan_char(&t, ' '))
		return 0;
	pfi_scan_char(&t, ' ');
	if (t.end - t.p >= 2 && pfi_is_digit(t.p[1])) {
		if (!pfi_scan_digits(&t, 2, 1, 31, day))
			return 0;
	} else if (!pfi_scan_digits(&t, 1, 1, 9, day)) {
		return 0;
	}
	*c = t;
	return 1;
}

/* "hh:mm:ss[.fraction]"; a leap second :60 is accepted. */
static int cur_clock(struct pfi_scan *c, struct stamp *st)
{
	struct pfi_scan t = *c;

	if (!pfi_scan_digits(&t, 2, 0, 23, &st->hour) || !pfi_scan_char(&t, ':') ||
	    !pfi_scan_digits(&t, 2, 0, 59, &st->min) || !pfi_scan_char(&t, ':') ||
	    !pfi_scan_digits(&t, 2, 0, 60, &st->sec) || !pfi_scan_frac(&t, &st->us))
		return 0;
	*c = t;
	return 1;
}

/* "[YYYY ]Mmm dd hh:mm:ss[.fraction]" */
static int cur_classic(struct pfi_scan *c, struct stamp *st)
{
	struct pfi_scan t = *c;

	if (pfi_is_digit(*t.p) &&
	    (!pfi_scan_digits(&t, 4, 1970, 9999, &st->year) || !pfi_scan_char(&t, ' ')))
		return 0;
	if (!cur_month(&t, &st->mon) || !cur_day(&t, &st->day) ||
	    st->day > pfi_days_in_month(st->year, st->mon) ||
	    !pfi_scan_char(&t, ' ') || !cur_clock(&t, st))
		return 0;
	*c = t;
	return 1;
}

/* Nothing (local time), "Z", "+hh:mm" or "+hhmm" (also with '-'). */
static int cur_zone(struct pfi_scan *c, struct stamp *st)
{
	if (pfi_scan_char(c, 'Z')) {
		st->zoned = 1;
		return 1;
	}
	if (c->p == c->end || (*c->p != '+' && *c->p != '-'))
		return 1;
	if (!pfi_scan_utc_offset(c, &st->off))
		return 0;
	st->zoned = 1;
	return 1;
}

/* "YYYY-MM-DDThh:mm:ss[.fraction][zone]" */
static int cur_rfc3339(struct pfi_scan *c, struct stamp *st)
{
	struct pfi_scan t = *c;

	if (!pfi_scan_digits(&t, 4, 1970, 9999, &st->year) || !pfi_scan_char(&t, '-') ||
	    !pfi_scan_digits(&t, 2, 1, 12, &st->mon) || !pfi_scan_char(&t, '-') ||
	    !pfi_scan_digits(&t, 2, 1, 31, &st->day) ||
	    st->day > pfi_days_in_month(st->year, st->mon) ||
	    !pfi_scan_char(&t, 'T') || !cur_clock(&t, st) || !cur_zone(&t, st))
		return 0;
	*c = t;
	return 1;
}

static int cur_stamp(struct pfi_scan *c, struct stamp *st)
{
	memset(st, 0, sizeof(*st));
	if (c->end - c->p >= 5 && c->p[4] == '-')
		return cur_rfc3339(c, st);
	return c->p < c->end && cur_classic(c, st);
}

/* ---- timestamp -> epoch ---------------------------------------------------- */

/* Seconds since the epoch of local y-m-d h:00:00, mktime() once per hour. */
static int64_t local_hour(int y, int m, int d, int h)
{
	if (!hour_cache.valid || hour_cache.h != h || hour_cache.d != d ||
	    hour_cache.m != m || hour_cache.y != y) {
		hour_cache.base = pfi_local_to_epoch(y, m, d, h, 0, 0);
		hour_cache.y = y;
		hour_cache.m = m;
		hour_cache.d = d;
		hour_cache.h = h;
		hour_cache.valid = 1;
	}
	return hour_cache.base;
}

static int64_t stamp_local(const struct stamp *st, int year)
{
	int64_t s = local_hour(year, st->mon, st->day, st->hour) +
	            st->min * 60 + st->sec;

	return s * USEC + st->us;
}

static int64_t stamp_utc(const struct stamp *st)
{
	int64_t s = pfi_days_from_civil(st->year, st->mon, st->day) * 86400 +
	            st->hour * 3600 + st->min * 60 + st->sec - st->off;

	return s * USEC + st->us;
}

/* The first classic line: the year given, else the year of ref, or the
 * one before. */
static int64_t classic_first(struct pfi_syslog_ctx *ctx, const struct stamp *st,
                             int *year)
{
	time_t ref = ctx->ref;
	struct tm tm;
	int64_t t;

	if (ctx->first_year != 0) {
		ctx->year = ctx->first_year;
		*year = ctx->year;
		return stamp_local(st, ctx->year);
	}
	ctx->year = localtime_r(&ref, &tm) ? tm.tm_year + 1900 : 1970;
	t = stamp_local(st, ctx->year);
	if (t > ((int64_t)ref + REF_SLACK) * USEC)
		t = stamp_local(st, --ctx->year);
	*year = ctx->year;
	return t;
}

/* A classic line after the first: same year, next year or previous. */
static int64_t classic_next(struct pfi_syslog_ctx *ctx, const struct stamp *st,
                            int *year)
{
	int64_t t = stamp_local(st, ctx->year);

	*year = ctx->year;
	if (t < ctx->last - HALF_YEAR)
		t = stamp_local(st, *year = ++ctx->year);
	else if (t > ctx->last + HALF_YEAR)
		t = stamp_local(st, *year = ctx->year - 1);
	return t;
}

/*
 * The epoch of the stamp in *t.  PFI_EPARSE for Feb 29 in a year that
 * has none: a classic stamp learns its year only here, and mktime()
 * would quietly make it Mar 1.
 */
static int stamp_time(struct pfi_syslog_ctx *ctx, const struct stamp *st,
                      int64_t *t)
{
	int year;

	if (st->zoned) {
		*t = stamp_utc(st);
		return PFI_OK;
	}
	if (st->year != 0) {
		year = st->year;
		*t = stamp_local(st, year);
	} else if (ctx->year == 0) {
		*t = classic_first(ctx, st, &year);
	} else {
		*t = classic_next(ctx, st, &year);
	}
	if (st->day > pfi_days_in_month(year, st->mon))
		return PFI_EPARSE;
	ctx->unzoned++;
	if (st->year == 0 && ctx->year0 == 0)
		ctx->year0 = year;
	if (st->year != 0)
		ctx->year = st->year;
	ctx->last = *t;
	return PFI_OK;
}

/* ---- host, program[pid], text ------------------------------------------------ */

/* A byte that may stand in a host name or a program tag: not a space,
 * not a control character.  A NUL or a newline there is damage (a log
 * file written after a crash), and would make the field mean two things. */
static int is_token_byte(char ch)
{
	unsigned char u = (unsigned char)ch;

	return u > ' ' && u != 0x7f;
}

static int is_tag_byte(char ch)
{
	return is_token_byte(ch) && ch != '[' && ch != ':';
}

/* The host: a word that is not a program tag ("prog:" means no host). */
static int cur_host(struct pfi_scan *c, struct pfi_slice *host)
{
	struct pfi_scan t = *c;
	struct pfi_slice h;

	if (!pfi_scan_spaces(&t))
		return 0;
	/* A byte that is neither a token byte nor a space fails the spaces. */
	h = pfi_scan_span(&t, is_token_byte);
	if (h.n == 0 || h.p[h.n - 1] == ':' || !pfi_scan_spaces(&t))
		return 0;
	*host = h;
	*c = t;
	return 1;
}

/* "[pid]" as a number of at most 10 digits; *pid stays -1 without it. */
static int cur_pid(struct pfi_scan *c, long *pid)
{
	struct pfi_scan t = *c;
	int64_t v;

	*pid = -1;
	if (!pfi_scan_char(&t, '['))
		return 1;
	if (!pfi_scan_uint(&t, 10, 0, LONG_MAX, &v) || !pfi_scan_char(&t, ']'))
		return 0;
	*pid = (long)v;
	*c = t;
	return 1;
}

/* "prog[pid]: ", "prog: " or "prog[pid] " (rsyslog's classic templates
 * for a message that came as RFC 5424); the pid is -1 when absent. */
static int cur_tag(struct pfi_scan *c, struct pfi_envelope *env)
{
	struct pfi_scan t = *c;

	/* What stops the program other than '[', ':' or the end fails the
	 * ':' or the ' ' below. */
	if (!pfi_scan_word(&t, is_tag_byte, &env->program) ||
	    !cur_pid(&t, &env->pid))
		return 0;
	if (pfi_scan_char(&t, ':')) {
		if (t.p < t.end && !pfi_scan_char(&t, ' '))
			return 0;
	} else if (env->pid < 0 || !pfi_scan_char(&t, ' ')) {
		return 0;
	}
	*c = t;
	return 1;
}

/* rsyslog's "message repeated N times: [ text]" -> repeat N, "text". */
static void unwrap_repeat(struct pfi_envelope *env)
{
	struct pfi_scan c = pfi_scan_of(env->text.p, env->text.n);
	int64_t n;

	if (!pfi_scan_skip(&c, PFI_LIT("message repeated ")) ||
	    !pfi_scan_uint(&c, 10, 1, INT_MAX, &n) ||
	    !pfi_scan_skip(&c, PFI_LIT(" times: [")) || c.p == c.end ||
	    c.end[-1] != ']')
		return;
	c.end--;
	pfi_scan_char(&c, ' ');
	env->repeat = (int)n;
	env->text = pfi_scan_rest(&c);
}

static int is_solaris_tag_byte(char ch)
{
	return ch != ']' && ch != ' ';
}

/* Solaris' "[ID 197553 mail.info] " before the text. */
static void skip_solaris_id(struct pfi_slice *text)
{
	struct pfi_scan c = pfi_scan_of(text->p, text->n);
	struct pfi_slice facility;
	int64_t id;

	if (!pfi_scan_skip(&c, PFI_LIT("[ID ")) ||
	    !pfi_scan_uint(&c, 10, 0, LONG_MAX, &id) || !pfi_scan_char(&c, ' ') ||
	    !pfi_scan_word(&c, is_solaris_tag_byte, &facility) ||
	    !pfi_scan_char(&c, ']'))
		return;
	pfi_scan_char(&c, ' ');
	*text = pfi_scan_rest(&c);
}

/* A UTF-8 byte order mark before the text (RFC 5424 6.4). */
static void skip_bom(struct pfi_slice *text)
{
	struct pfi_scan c = pfi_scan_of(text->p, text->n);

	if (pfi_scan_skip(&c, PFI_LIT("\xef\xbb\xbf")))
		*text = pfi_scan_rest(&c);
}

/* ---- RFC 5424 ------------------------------------------------------------------ */

/* "<PRI>": 1 to 3 digits, at most 191 (facility 23, severity 7). */
static int cur_pri(struct pfi_scan *c)
{
	struct pfi_scan t = *c;
	int64_t pri;

	if (!pfi_scan_char(&t, '<') || !pfi_scan_uint(&t, 3, 0, 191, &pri) ||
	    !pfi_scan_char(&t, '>'))
		return 0;
	*c = t;
	return 1;
}

/* A header field (a word, NILVALUE "-" included) and the spaces after it. */
static int cur_field(struct pfi_scan *c, struct pfi_slice *f)
{
	struct pfi_scan t = *c;

	if (!pfi_scan_word(&t, is_token_byte, f) || !pfi_scan_spaces(&t))
		return 0;
	*c = t;
	return 1;
}

/*
 * One SD-ELEMENT, '[' SD-ID *(SP NAME="VALUE") ']'.  Inside a quoted
 * value '\' escapes the next byte and a ']' does not end the element
 * (RFC 5424 6.3.3 wants '"', '\' and ']' escaped there; rsyslog passes an
 * unescaped ']' in quotes through as it came).
 */
static int cur_sd_element(struct pfi_scan *c)
{
	const char *p = c->p;
	int quoted = 0;

	if (p == c->end || *p != '[')
		return 0;
	for (p++; p < c->end; p++) {
		if (quoted && *p == '\\') {
			if (++p == c->end)
				return 0;
		} else if (*p == '"') {
			quoted = !quoted;
		} else if (!quoted && *p == ']') {
			c->p = p + 1;
			return 1;
		}
	}
	return 0;
}

/* STRUCTURED-DATA: "-" or one or more elements with nothing between. */
static int cur_sd(struct pfi_scan *c)
{
	if (pfi_scan_char(c, '-'))
		return 1;
	if (!cur_sd_element(c))
		return 0;
	while (cur_sd_element(c))
		;
	return 1;
}

/* The pid of a PROCID: -1 for "-" and for what is not a number. */
static long procid_pid(struct pfi_slice f)
{
	struct pfi_scan t = pfi_scan_of(f.p, f.n);
	int64_t v;

	if (pfi_scan_uint(&t, 10, 0, LONG_MAX, &v) && t.p == t.end)
		return (long)v;
	return -1;
}

/*
 * "1 STAMP HOST APP-NAME PROCID MSGID SD[ MSG]", after the <PRI>:
 * host, program and pid into *env, the cursor left at the MSG.  The
 * stamp is RFC 3339 (the NILVALUE "-" is no time, and fails).
 */
static int cur_rfc5424(struct pfi_scan *c, struct stamp *st,
                       struct pfi_envelope *env)
{
	struct pfi_scan t = *c;
	struct pfi_slice procid, msgid;

	memset(st, 0, sizeof(*st));
	if (!pfi_scan_char(&t, '1') || !pfi_scan_spaces(&t) ||
	    !cur_rfc3339(&t, st) || !pfi_scan_spaces(&t) ||
	    !cur_field(&t, &env->host) || !cur_field(&t, &env->program) ||
	    !cur_field(&t, &procid) || !cur_field(&t, &msgid) || !cur_sd(&t) ||
	    (t.p < t.end && !pfi_scan_spaces(&t)))
		return 0;
	env->pid = procid_pid(procid);
	*c = t;
	return 1;
}

/* The envelope up to the text, in any of the shapes of the header. */
static int cur_envelope(struct pfi_scan *c, struct stamp *st,
                        struct pfi_envelope *env)
{
	cur_pri(c);
	if (pfi_scan_starts(c, PFI_LIT("1 ")))
		return cur_rfc5424(c, st, env);
	return cur_stamp(c, st) && cur_host(c, &env->host) && cur_tag(c, env);
}

int pfi_syslog_parse(struct pfi_syslog_ctx *ctx, const char *line, size_t len,
                     struct pfi_envelope *env)
{
	struct pfi_scan c = pfi_scan_of(line, len);
	struct stamp st;

	if (line == NULL || !cur_envelope(&c, &st, env))
		return PFI_EPARSE;
	if (stamp_time(ctx, &st, &env->time) != PFI_OK)
		return PFI_EPARSE;
	env->text = pfi_scan_rest(&c);
	skip_bom(&env->text);
	env->repeat = 1;
	unwrap_repeat(env);
	skip_solaris_id(&env->text);
	return PFI_OK;
}
