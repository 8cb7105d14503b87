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

/* A date, optionally followed by a time of day. */
static int parse_civil(int64_t *out, const char *spec)
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
		secs = pfi_local_to_epoch(c.y, c.mo, c.d, c.h, c.mi, c.s);
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

/* "90s", "15m", "2h", "3d", "1w": that long before `now`. */
static int parse_ago(int64_t *out, const char *spec, time_t now)
{
	static const char units[] = "smhdw";
	static const long long unit_secs[] = {1, 60, 3600, DAY, 7 * DAY};
	struct pfi_scan s = pfi_scan_of(spec, strlen(spec));
	const char *u;
	int64_t v;

	if (!pfi_scan_uint(&s, SIZE_MAX, 0, MAX_EPOCH, &v) ||
	    pfi_scan_len(&s) != 1 ||
	    (u = memchr(units, *s.p, sizeof(units) - 1)) == NULL)
		return PFI_EINVAL;
	v *= unit_secs[u - units];
	if (v > MAX_EPOCH)
		return PFI_EINVAL;
	*out = ((int64_t)now - v) * USEC;
	return PFI_OK;
}

/* Local midnight of the day `days` away from the day of `now`. */
static int parse_day(int64_t *out, time_t now, int days)
{
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL)
		return PFI_EINVAL;
	*out = pfi_local_to_epoch(tm.tm_year + 1900, tm.tm_mon + 1,
	                          tm.tm_mday + days, 0, 0, 0) * USEC;
	return PFI_OK;
}

int pfi_time_parse(int64_t *out, const char *spec, time_t now)
{
	size_t n;

	if (spec == NULL || *spec == '\0')
		return PFI_EINVAL;
	n = strlen(spec);
	if (spec[0] == '@')
		return parse_epoch(out, spec + 1);
	if (strcmp(spec, "today") == 0)
		return parse_day(out, now, 0);
	if (strcmp(spec, "yesterday") == 0)
		return parse_day(out, now, -1);
	if (n > 4 && spec[4] == '-')
		return parse_civil(out, spec);
	return parse_ago(out, spec, now);
}
