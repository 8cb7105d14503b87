/*
 * time.c - calendar arithmetic and the time formats of pfi's interface:
 * civil date to day number, local wall-clock time to epoch seconds,
 * RFC 3339 output (pfi_time_format) and the user time specifications of
 * --since/--until (pfi_time_parse).
 *
 * Local time always goes through the C library's TZ handling: mktime()
 * with tm_isdst = -1 one way and localtime_r() the other, so daylight
 * saving time is whatever the zone database says.  A wall-clock time that
 * a DST change skips or repeats is resolved the way mktime() resolves it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pfi-int.h"
#include "scan.h"

#define USEC 1000000LL
#define DAY 86400LL
/* 9999-12-31T23:59:59Z, the last instant pfi_time_parse() accepts. */
#define MAX_EPOCH 253402300799LL

/*
 * Howard Hinnant's days_from_civil: shift the year to start in March so
 * that the leap day is the last of the year, then count 400-year eras.
 */
int64_t pfi_days_from_civil(int y, unsigned m, unsigned d)
{
	int64_t yy = (int64_t)y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	unsigned yoe = (unsigned)(yy - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

/* Out-of-range fields are normalized the way mktime() does (day 0 is the
 * last day of the previous month). */
int64_t pfi_local_to_epoch(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* ---- pfi_time_format ------------------------------------------------------ */

/* "Z", or the offset east of UTC as "+hh:mm" / "-hh:mm". */
static void format_zone(char *z, size_t size, long gmtoff, int utc)
{
	char sign = gmtoff < 0 ? '-' : '+';
	long a = gmtoff < 0 ? -gmtoff : gmtoff;

	if (utc)
		snprintf(z, size, "Z");
	else
		snprintf(z, size, "%c%02ld:%02ld", sign, a / 3600, a / 60 % 60);
}

char *pfi_time_format(char *buf, size_t size, int64_t t, int utc)
{
	/* Division and remainder, not secs * USEC, which overflows for
	 * the times nearest INT64_MIN. */
	int64_t secs = t / USEC - (t % USEC < 0);
	long us = (long)(t % USEC + (t % USEC < 0 ? USEC : 0));
	time_t tt = (time_t)secs;
	char frac[24] = "", zone[24];
	struct tm tm;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if ((utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL)
		return buf;
	if (us != 0)
		snprintf(frac, sizeof(frac), ".%06ld", us);
	format_zone(zone, sizeof(zone), tm.tm_gmtoff, utc);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%s%s",
	         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	         tm.tm_min, tm.tm_sec, frac, zone);
	return buf;
}

/* ---- pfi_time_parse: a bounded cursor over the specification ------------ */

/* A calendar time read from a specification. */
struct civil {
	int y, mo, d;      /* date */
	int h, mi, s;      /* wall-clock time, 0 when not given */
	long us;           /* microseconds */
	int zoned;         /* an offset or Z was given */
	int off;           /* seconds east of UTC when zoned */
};

int pfi_days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = y == 0 || (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (m == 2 && leap);
}

/* "YYYY-MM-DD", a real date of the years 1970 to 9999. */
static int scan_date(struct pfi_scan *s, struct civil *c)
{
	struct pfi_scan t = *s;

	if (!pfi_scan_digits(&t, 4, 1970, 9999, &c->y) ||
	    !pfi_scan_char(&t, '-') || !pfi_scan_digits(&t, 2, 1, 12, &c->mo) ||
	    !pfi_scan_char(&t, '-') || !pfi_scan_digits(&t, 2, 1, 31, &c->d) ||
	    c->d > pfi_days_in_month(c->y, c->mo))
		return 0;
	*s = t;
	return 1;
}

/* "hh:mm", "hh:mm:ss" or "hh:mm:ss.fraction". */
static int scan_clock(struct pfi_scan *s, struct civil *c)
{
	struct pfi_scan t = *s;

	if (!pfi_scan_digits(&t, 2, 0, 23, &c->h) || !pfi_scan_char(&t, ':') ||
	    !pfi_scan_digits(&t, 2, 0, 59, &c->mi))
		return 0;
	if (pfi_scan_char(&t, ':') &&
	    (!pfi_scan_digits(&t, 2, 0, 59, &c->s) ||
	     !pfi_scan_frac(&t, &c->us)))
		return 0;
	*s = t;
	return 1;
}

/* Nothing (local time), "Z", "+hh:mm" or "+hhmm" (also with '-'). */
static int scan_zone(struct pfi_scan *s, struct civil *c)
{
	if (s->p == s->end)
		return 1;
	if (pfi_scan_char(s, 'Z') || pfi_scan_char(s, 'z')) {
		c->zoned = 1;
		return 1;
	}
	if (!pfi_scan_utc_offset(s, &c->off))
		return 0;
	c->zoned = 1;
	return 1;
}

/* What may follow a date: 'T' or ' ', a clock, a zone, the end. */
static int scan_time_of_day(struct pfi_scan *s, struct civil *c)
{
	if (!pfi_scan_char(s, 'T') && !pfi_scan_char(s, 't') &&
	    !pfi_scan_char(s, ' '))
		return 0;
	return scan_clock(s, c) && scan_zone(s, c) && s->p == s->end;
}

/* ---- turning a civil time into an instant -------------------------------- */

/* Epoch seconds of the wall-clock time c: in UTC when utc, else in local
 * time (out-of-range fields normalized as mktime() does them, so the day
 * before the 1st is the last of the previous month either way). */
static int64_t civil_secs(const struct civil *c, int utc)
{
	if (!utc)
		return pfi_local_to_epoch(c->y, c->mo, c->d, c->h, c->mi, c->s);
	return (pfi_days_from_civil(c->y, (unsigned)c->mo, 1) + c->d - 1) * DAY +
	       c->h * 3600LL + c->mi * 60LL + c->s;
}

/* The calendar day of `now` (UTC or local), at midnight. */
static int day_of(time_t now, int utc, struct civil *c)
{
	struct tm tm;

	if ((utc ? gmtime_r(&now, &tm) : localtime_r(&now, &tm)) == NULL)
		return 0;
	memset(c, 0, sizeof(*c));
	c->y = tm.tm_year + 1900;
	c->mo = tm.tm_mon + 1;
	c->d = tm.tm_mday;
	return 1;
}

/* A date, optionally followed by a time of day. */
static int parse_civil(int64_t *out, const char *spec, int utc)
{
	struct pfi_scan s = pfi_scan_of(spec, strlen(spec));
	struct civil c;
	int64_t secs;

	memset(&c, 0, sizeof(c));
	if (!scan_date(&s, &c) ||
	    (s.p != s.end && !scan_time_of_day(&s, &c)))
		return PFI_EINVAL;
	if (c.zoned)
		secs = pfi_days_from_civil(c.y, c.mo, c.d) * DAY + c.h * 3600 +
		       c.mi * 60 + c.s - c.off;
	else
		secs = civil_secs(&c, utc);
	*out = secs * USEC + c.us;
	return PFI_OK;
}

/* "@SECONDS" since the epoch: digits only (no sign, no space), any
 * number of leading zeros. */
static int parse_epoch(int64_t *out, const char *spec)
{
	struct pfi_scan s = pfi_scan_of(spec, strlen(spec));
	int64_t v;

	if (!pfi_scan_uint(&s, SIZE_MAX, 0, MAX_EPOCH, &v) || s.p != s.end)
		return PFI_EINVAL;
	*out = v * USEC;
	return PFI_OK;
}

/* ---- "2h", "-2h", "2h ago", "2 hours ago" ---------------------------------- */

/* A unit of an age, by its letter or its English word. */
struct age_unit {
	const char *word;    /* singular; a plural adds "s" */
	long long secs;
};

static const struct age_unit age_units[] = {
	{ "s", 1 }, { "sec", 1 }, { "second", 1 },
	{ "m", 60 }, { "min", 60 }, { "minute", 60 },
	{ "h", 3600 }, { "hour", 3600 },
	{ "d", DAY }, { "day", DAY },
	{ "w", 7 * DAY }, { "week", 7 * DAY },
};

/* The unit word at the cursor: its seconds, or 0.  `letters`: only the
 * one-letter units.  The words take a plural "s"; the letters do not. */
static long long scan_age_unit(struct pfi_scan *s, int letters)
{
	struct pfi_slice w;
	size_t i, n;

	if (!pfi_scan_word(s, pfi_is_alpha, &w))
		return 0;
	for (i = 0; i < PFI_ARRAY_SIZE(age_units); i++) {
		n = strlen(age_units[i].word);
		if ((letters && n > 1) || w.n < n || w.n > n + (n > 1) ||
		    memcmp(w.p, age_units[i].word, n) != 0)
			continue;
		if (w.n == n || w.p[n] == 's')
			return age_units[i].secs;
	}
	return 0;
}

/*
 * That long before `now`: "90s", "15m", "2h", "3d", "1w", also with a
 * minus ("-1h"); or followed by " ago", when the unit may be a word and
 * stand after a space: "1h ago", "2 hours ago", "1 day ago".
 */
static int parse_ago(int64_t *out, const char *spec, time_t now)
{
	struct pfi_scan s = pfi_scan_of(spec, strlen(spec));
	const char *ago = NULL;
	int minus = pfi_scan_char(&s, '-');
	long long unit;
	int64_t v;

	if (!minus && s.end - s.p > 4 && memcmp(s.end - 4, " ago", 4) == 0) {
		ago = s.end - 4;
		s.end = ago;
	}
	if (!pfi_scan_uint(&s, SIZE_MAX, 0, MAX_EPOCH, &v))
		return PFI_EINVAL;
	if (ago != NULL)
		pfi_scan_char(&s, ' ');
	if ((unit = scan_age_unit(&s, ago == NULL)) == 0 || s.p != s.end ||
	    v > MAX_EPOCH / unit)
		return PFI_EINVAL;
	*out = ((int64_t)now - v * unit) * USEC;
	return PFI_OK;
}

/* ---- "today", "13:40", "yesterday 14:00", "Nov 22 13:40" ------------------ */

/* A clock for the forms that name a day: "13:40", "9:05", "13:40:05". */
static int scan_day_clock(struct pfi_scan *s, struct civil *c)
{
	struct pfi_scan t = *s;

	/* one digit for the hour when the colon follows at once */
	if (t.end - t.p >= 2 && pfi_is_digit(t.p[0]) && t.p[1] == ':') {
		c->h = t.p[0] - '0';
		t.p++;
		if (!pfi_scan_char(&t, ':') || !pfi_scan_digits(&t, 2, 0, 59, &c->mi))
			return 0;
		if (pfi_scan_char(&t, ':') && !pfi_scan_digits(&t, 2, 0, 59, &c->s))
			return 0;
		*s = t;
		return 1;
	}
	return scan_clock(s, c) && c->us == 0;
}

/* The rest of s, if any, is " " and a clock; 1 when so (or empty). */
static int scan_optional_clock(struct pfi_scan *s, struct civil *c)
{
	if (s->p == s->end)
		return 1;
	return pfi_scan_char(s, ' ') && scan_day_clock(s, c) && s->p == s->end;
}

/* "today" or "yesterday", then maybe " 14:00": that time of that day
 * (local, or UTC when utc). */
static int parse_day(int64_t *out, struct pfi_scan s, time_t now, int utc)
{
	struct civil c;
	int back;

	if (pfi_scan_skip(&s, PFI_LIT("today")))
		back = 0;
	else if (pfi_scan_skip(&s, PFI_LIT("yesterday")))
		back = 1;
	else
		return PFI_EINVAL;
	if (!day_of(now, utc, &c) || !scan_optional_clock(&s, &c))
		return PFI_EINVAL;
	c.d -= back;
	*out = civil_secs(&c, utc) * USEC;
	return PFI_OK;
}

/* "13:40": today at that time, or yesterday when that is still to come. */
static int parse_clock(int64_t *out, struct pfi_scan s, time_t now, int utc)
{
	struct civil c;
	int64_t t;

	if (!day_of(now, utc, &c) || !scan_day_clock(&s, &c) || s.p != s.end)
		return PFI_EINVAL;
	t = civil_secs(&c, utc);
	if (t > (int64_t)now) {
		c.d--;
		t = civil_secs(&c, utc);
	}
	*out = t * USEC;
	return PFI_OK;
}

/* A month by its English name or its first three letters, any case. */
static int scan_month(struct pfi_scan *s, int *mon)
{
	static const char *const names[] = {
		"january", "february", "march", "april", "may", "june", "july",
		"august", "september", "october", "november", "december"
	};
	struct pfi_slice w;
	size_t i, k;

	if (!pfi_scan_word(s, pfi_is_alpha, &w) || w.n < 3)
		return 0;
	for (i = 0; i < PFI_ARRAY_SIZE(names); i++) {
		for (k = 0; k < w.n && names[i][k] != '\0' &&
		     (w.p[k] | 0x20) == names[i][k]; k++)
			;
		if (k == w.n && (k == 3 || names[i][k] == '\0')) {
			*mon = (int)i + 1;
			return 1;
		}
	}
	return 0;
}

/*
 * "Nov 22" and "Nov 22 13:40" (also "november 2", "Nov  2" as syslog
 * pads it): the latest such time that is not in the future, so this year
 * or an earlier one; Feb 29 goes back to the last leap year.
 */
static int parse_month_day(int64_t *out, struct pfi_scan s, time_t now,
                           int utc)
{
	struct civil c, today;
	int64_t t, v;
	int i;

	memset(&c, 0, sizeof(c));
	if (!day_of(now, utc, &today) || !scan_month(&s, &c.mo) ||
	    !pfi_scan_spaces(&s) || !pfi_scan_uint(&s, 2, 1, 31, &v) ||
	    !scan_optional_clock(&s, &c))
		return PFI_EINVAL;
	c.d = (int)v;
	for (i = 0, c.y = today.y; i < 9; i++, c.y--) {
		if (c.y < 1970 || c.d > pfi_days_in_month(c.y, c.mo))
			continue;
		if ((t = civil_secs(&c, utc)) <= (int64_t)now) {
			*out = t * USEC;
			return PFI_OK;
		}
	}
	return PFI_EINVAL;
}

/* ---- pfi_time_parse ---------------------------------------------------------- */

int pfi_time_parse_zone(int64_t *out, const char *spec, time_t now, int utc)
{
	struct pfi_scan s;
	size_t n;

	if (spec == NULL || *spec == '\0')
		return PFI_EINVAL;
	n = strlen(spec);
	s = pfi_scan_of(spec, n);
	if (spec[0] == '@')
		return parse_epoch(out, spec + 1);
	if (strcmp(spec, "now") == 0) {
		*out = (int64_t)now * USEC;
		return PFI_OK;
	}
	if (n > 4 && spec[4] == '-')
		return parse_civil(out, spec, utc);
	if (spec[0] == 't' || spec[0] == 'y')
		return parse_day(out, s, now, utc);
	if (pfi_is_alpha(spec[0]))
		return parse_month_day(out, s, now, utc);
	if (n > 1 && (spec[1] == ':' || (n > 2 && spec[2] == ':')))
		return parse_clock(out, s, now, utc);
	return parse_ago(out, spec, now);
}

int pfi_time_parse(int64_t *out, const char *spec, time_t now)
{
	return pfi_time_parse_zone(out, spec, now, 0);
}
