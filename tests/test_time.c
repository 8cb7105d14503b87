/*
 * test_time.c - calendar arithmetic, RFC 3339 output, and the user time
 * specifications of --since/--until: every form, its boundaries, and
 * rejected input.  UTC unless a test switches the zone.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfi-int.h"

/* 2026-11-23T19:13:00Z */
#define NOW 1795461180LL
#define US 1000000LL

static void use_tz(const char *tz)
{
	cr_assert_eq(setenv("TZ", tz, 1), 0);
	tzset();
}

static void suite_init(void)
{
	use_tz("UTC");
}

TestSuite(time, .init = suite_init, .timeout = 10);

/* ---- pfi_days_from_civil, pfi_local_to_epoch ------------------------------ */

struct civil_case {
	int y;
	unsigned m, d;
	long long days;
};

static struct civil_case civil_cases[] = {
	{1970, 1, 1, 0},
	{1969, 12, 31, -1},
	{2000, 2, 29, 11016},
	{2000, 3, 1, 11017},
	{2100, 3, 1, 47541},
	{2026, 11, 22, 20779},
	{1600, 1, 1, -135140},
	{2400, 12, 31, 157419},
	{1, 1, 1, -719162},
};

ParameterizedTestParameters(time, days_from_civil_counts_days_since_1970)
{
	return cr_make_param_array(struct civil_case, civil_cases,
	                           PFI_ARRAY_SIZE(civil_cases));
}

ParameterizedTest(struct civil_case *c, time, days_from_civil_counts_days_since_1970)
{
	long long got = pfi_days_from_civil(c->y, c->m, c->d);

	cr_assert_eq(got, c->days, "%04d-%02u-%02u: %lld, expected %lld",
	             c->y, c->m, c->d, got, c->days);
}

Test(time, days_from_civil_agrees_with_itself_day_after_day)
{
	long long prev = pfi_days_from_civil(1899, 12, 31);
	int y;
	unsigned m, d;

	for (y = 1900; y <= 2401; y++) {
		for (m = 1; m <= 12; m++) {
			for (d = 1; d <= 31; d++) {
				long long cur = pfi_days_from_civil(y, m, d);
				struct tm tm;
				time_t t = (time_t)(cur * 86400);

				cr_assert_not_null(gmtime_r(&t, &tm));
				if (tm.tm_mday != (int)d)
					break;
				cr_assert_eq(tm.tm_mon + 1, (int)m);
				cr_assert_eq(tm.tm_year + 1900, y);
				cr_assert_eq(cur, prev + 1, "%d-%u-%u", y, m, d);
				prev = cur;
			}
		}
	}
}

Test(time, local_to_epoch_is_utc_under_tz_utc_and_normalizes_fields)
{
	cr_assert_eq(pfi_local_to_epoch(2026, 11, 22, 13, 31, 5), 1795354265LL);
	cr_assert_eq(pfi_local_to_epoch(1970, 1, 1, 0, 0, 0), 0);
	/* day 0 is the last day of the previous month */
	cr_assert_eq(pfi_local_to_epoch(2027, 1, 0, 0, 0, 0), 1798675200LL);
}

Test(time, local_to_epoch_in_berlin_follows_the_dst_changes)
{
	use_tz("Europe/Berlin");
	cr_assert_eq(pfi_local_to_epoch(2026, 1, 15, 13, 0, 0), 1768478400LL);
	cr_assert_eq(pfi_local_to_epoch(2026, 3, 29, 1, 59, 59), 1774745999LL);
	cr_assert_eq(pfi_local_to_epoch(2026, 3, 29, 3, 0, 0), 1774746000LL);
	cr_assert_eq(pfi_local_to_epoch(2026, 7, 15, 14, 0, 0), 1784116800LL);
}

/* ---- pfi_time_format ------------------------------------------------------- */

struct format_case {
	char tz[24];
	long long t;
	int utc;
	char want[40];
};

static struct format_case format_cases[] = {
	{"UTC", 1795354265000000LL, 1, "2026-11-22T13:31:05Z"},
	{"UTC", 1795354265123456LL, 1, "2026-11-22T13:31:05.123456Z"},
	{"UTC", 1795354265000001LL, 1, "2026-11-22T13:31:05.000001Z"},
	{"UTC", 0, 1, "1970-01-01T00:00:00Z"},
	{"UTC", -500000, 1, "1969-12-31T23:59:59.500000Z"},
	{"UTC", 1795354265000000LL, 0, "2026-11-22T13:31:05+00:00"},
	{"Europe/Berlin", 1795354265000000LL, 0, "2026-11-22T14:31:05+01:00"},
	{"Europe/Berlin", 1784116800250000LL, 0, "2026-07-15T14:00:00.250000+02:00"},
	{"Europe/Berlin", 1795354265000000LL, 1, "2026-11-22T13:31:05Z"},
	{"America/New_York", 1795354265000000LL, 0, "2026-11-22T08:31:05-05:00"},
	{"Asia/Kolkata", 1795354265000000LL, 0, "2026-11-22T19:01:05+05:30"},
};

ParameterizedTestParameters(time, format_writes_rfc3339)
{
	return cr_make_param_array(struct format_case, format_cases,
	                           PFI_ARRAY_SIZE(format_cases));
}

ParameterizedTest(struct format_case *c, time, format_writes_rfc3339)
{
	char buf[40];

	use_tz(c->tz);
	cr_assert_eq(pfi_time_format(buf, sizeof(buf), c->t, c->utc), buf);
	cr_assert_str_eq(buf, c->want, "TZ=%s %lld: '%s', expected '%s'",
	                 c->tz, c->t, buf, c->want);
}

Test(time, format_truncates_to_the_buffer_size)
{
	char buf[11];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(pfi_time_format(buf, sizeof(buf), 1795354265000000LL, 1), buf);
	cr_assert_str_eq(buf, "2026-11-22");
	cr_assert_eq(pfi_time_format(buf, 0, 0, 1), buf);
	cr_assert_eq(buf[0], '2');
}

/* Found by tests/fuzz/fuzz_output: the seconds times USEC overflowed for
 * the times nearest INT64_MIN (undefined behaviour, caught by UBSan). */
Test(time, format_takes_the_extreme_times_without_overflow)
{
	char buf[40];

	cr_assert_str_eq(pfi_time_format(buf, sizeof(buf), INT64_MIN, 1),
	                 "-290308-12-21T19:59:05.224192Z");
	cr_assert_str_eq(pfi_time_format(buf, sizeof(buf), INT64_MAX, 1),
	                 "294247-01-10T04:00:54.775807Z");
	cr_assert_str_eq(pfi_time_format(buf, sizeof(buf), -1, 1),
	                 "1969-12-31T23:59:59.999999Z");
}

Test(time, formatted_local_time_parses_back_to_the_same_instant)
{
	long long t;
	char buf[40];
	int64_t back;

	use_tz("Europe/Berlin");
	for (t = 1767225600LL; t < 1798761600LL; t += 3 * 3600 + 17) {
		int rc;

		pfi_time_format(buf, sizeof(buf), t * US + 7, 0);
		rc = pfi_time_parse(&back, buf, (time_t)NOW);
		cr_assert_eq(rc, PFI_OK, "'%s'", buf);
		cr_assert_eq(back, t * US + 7, "'%s'", buf);
	}
}

/* ---- pfi_time_parse --------------------------------------------------------- */

struct parse_case {
	char spec[48];
	long long now;
	long long want;       /* microseconds */
};

static struct parse_case parse_cases[] = {
	{"90s", NOW, (NOW - 90) * US},
	{"15m", NOW, (NOW - 900) * US},
	{"2h", NOW, (NOW - 7200) * US},
	{"3d", NOW, (NOW - 3 * 86400) * US},
	{"1w", NOW, (NOW - 7 * 86400) * US},
	{"0s", NOW, NOW * US},
	{"today", NOW, 1795392000LL * US},
	{"yesterday", NOW, 1795305600LL * US},
	{"yesterday", 1798804800LL, 1798675200LL * US},   /* on Jan 1 */
	{"today", 1795391999LL, 1795305600LL * US},      /* a second before midnight */
	{"2026-11-02", NOW, 1793577600LL * US},
	{"2026-11-02T10:00", NOW, 1793613600LL * US},
	{"2026-11-02 10:00", NOW, 1793613600LL * US},
	{"2026-11-02 10:00:00", NOW, 1793613600LL * US},
	{"2026-11-02T10:00:00.5Z", NOW, 1793613600500000LL},
	{"2026-11-02T10:00:00.123456789Z", NOW, 1793613600123456LL},
	{"2026-11-02t10:00:00z", NOW, 1793613600LL * US},
	{"2026-11-02T10:00Z", NOW, 1793613600LL * US},
	{"2026-11-02T10:00:00+01:00", NOW, 1793610000LL * US},
	{"2026-11-02T10:00:00-0530", NOW, 1793633400LL * US},
	{"2026-11-02T10:00:00-00:00", NOW, 1793613600LL * US},
	{"@1793491200", NOW, 1793491200LL * US},
	{"@0", NOW, 0},
	{"@253402300799", NOW, 253402300799LL * US},
	{"1970-01-01", NOW, 0},
	{"2024-02-29", NOW, 1709164800LL * US},
	{"2000-02-29", NOW, 951782400LL * US},
	{"2026-12-31T23:59:59.999999Z", NOW, 1798761599999999LL},
	{"9999-12-31T23:59:59Z", NOW, 253402300799LL * US},
	/* issue 18: the forms people type at a terminal */
	{"now", NOW, NOW * US},
	{"-1h", NOW, (NOW - 3600) * US},
	{"-90s", NOW, (NOW - 90) * US},
	{"1h ago", NOW, (NOW - 3600) * US},
	{"15m ago", NOW, (NOW - 900) * US},
	{"2 hours ago", NOW, (NOW - 7200) * US},
	{"1 hour ago", NOW, (NOW - 3600) * US},
	{"3 days ago", NOW, (NOW - 3 * 86400) * US},
	{"1 week ago", NOW, (NOW - 7 * 86400) * US},
	{"10 min ago", NOW, (NOW - 600) * US},
	{"5 mins ago", NOW, (NOW - 300) * US},
	{"30 seconds ago", NOW, (NOW - 30) * US},
	{"13:40", NOW, 1795441200LL * US},             /* earlier today */
	{"13:40:30", NOW, 1795441230LL * US},
	{"9:05", NOW, 1795424700LL * US},
	{"19:13", NOW, NOW * US},                      /* now is not future */
	{"19:14", NOW, 1795374840LL * US},             /* future: yesterday */
	{"yesterday 14:00", NOW, 1795356000LL * US},
	{"today 08:00", NOW, 1795420800LL * US},
	{"today 23:00", NOW, 1795474800LL * US},       /* as asked, even later */
	{"Nov 22", NOW, 1795305600LL * US},
	{"Nov 23", NOW, 1795392000LL * US},            /* today's midnight */
	{"Nov 24", NOW, 1763942400LL * US},            /* future: a year back */
	{"Nov 22 13:40", NOW, 1795354800LL * US},
	{"Nov 23 19:14", NOW, 1763925240LL * US},      /* a minute ahead */
	{"nov 22", NOW, 1795305600LL * US},
	{"NOVEMBER 22", NOW, 1795305600LL * US},
	{"Nov  2", NOW, 1793577600LL * US},            /* as syslog pads it */
	{"November 2", NOW, 1793577600LL * US},
	{"Dec 31", NOW, 1767139200LL * US},
	{"Jan 1", NOW, 1767225600LL * US},
	{"Feb 29", NOW, 1709164800LL * US},            /* the last leap year */
	/* across midnight: now is 2026-11-24T00:10Z */
	{"23:50", 1795479000LL, 1795477800LL * US},
	{"00:05", 1795479000LL, 1795478700LL * US},
	{"yesterday", 1795479000LL, 1795392000LL * US},
	{"-20m", 1795479000LL, 1795477800LL * US},
	/* across New Year: now is 2027-01-01T00:30Z */
	{"Dec 31", 1798763400LL, 1798675200LL * US},
	{"Jan 1", 1798763400LL, 1798761600LL * US},
	{"Jan 2", 1798763400LL, 1767312000LL * US},
	{"23:00", 1798763400LL, 1798758000LL * US},
	{"01:00", 1798763400LL, 1798678800LL * US},
	{"yesterday 12:00", 1798763400LL, 1798718400LL * US},
	{"Dec 31 23:59", 1798763400LL, 1798761540LL * US},
};

ParameterizedTestParameters(time, parse_accepts_every_documented_form)
{
	return cr_make_param_array(struct parse_case, parse_cases,
	                           PFI_ARRAY_SIZE(parse_cases));
}

ParameterizedTest(struct parse_case *c, time, parse_accepts_every_documented_form)
{
	int64_t got = -42;
	int rc = pfi_time_parse(&got, c->spec, (time_t)c->now);

	cr_assert_eq(rc, PFI_OK, "'%s': rc %d", c->spec, rc);
	cr_assert_eq(got, c->want, "'%s': %lld, expected %lld", c->spec,
	             (long long)got, c->want);
}

struct invalid_case {
	char spec[48];
};

static struct invalid_case invalid_cases[] = {
	{""}, {"abc"}, {"Today"}, {"today "}, {" today"},
	{"10"}, {"10x"}, {"10S"}, {"5mm"}, {"5 m"}, {" 5m"}, {"+5m"},
	{"now "}, {"Now"}, {"-now"}, {"--5m"}, {"-"}, {"-5"}, {"-5 m"},
	{"-5m ago"}, {"5m  ago"}, {"5m ago "}, {"ago"}, {"5 ago"}, {" ago"},
	{"2 hours"}, {"2hours"}, {"2 hourss ago"}, {"2 hs ago"}, {"2 x ago"},
	{"13:40Z"}, {"13:40 "}, {"24:00"}, {"13:60"}, {"1:5"}, {"13:4"},
	{"13:40:60"}, {"13:40:00.5"}, {"113:40"}, {":40"}, {"13:"},
	{"yesterday14:00"}, {"yesterday 14"}, {"today 9"}, {"yesterday  14:00"},
	{"Nov"}, {"Nov22"}, {"Nov 32"}, {"Nov 31"}, {"Feb 30"}, {"Nov 0"},
	{"Nov 022"}, {"Nov 22 25:00"}, {"Nov 22 13:40 "}, {"No 22"},
	{"Novem 22"}, {"Sept 1"}, {"22 Nov"}, {"Nov -1"},
	{"m"}, {"1.5h"}, {"99999999999999999999s"}, {"999999999999w"},
	{"@"}, {"@-1"}, {"@+1"}, {"@ 1"}, {"@12x"}, {"@253402300800"},
	{"@99999999999999999999"},
	{"2026-13-01"}, {"2026-00-01"}, {"2026-11-00"}, {"2026-11-31"},
	{"2026-02-29"}, {"2026-02-30"}, {"2100-02-29"}, {"1969-12-31"},
	{"2026-1-02"}, {"26-11-02"}, {"2026/11/02"}, {"2026-11-02 "},
	{"2026-11-02T"}, {"2026-11-02T10"}, {"2026-11-02X10:00"},
	{"2026-11-02T24:00"}, {"2026-11-02T10:60"}, {"2026-11-02T10:00:60"},
	{"2026-11-02T1:00"}, {"2026-11-02T10:00:00."}, {"2026-11-02T10:00."},
	{"2026-11-02T10:00:00.1234567890Z"}, {"2026-11-02T10:00:00ZZ"},
	{"2026-11-02T10:00:00+24:00"}, {"2026-11-02T10:00:00+01:60"},
	{"2026-11-02T10:00:00+1"}, {"2026-11-02T10:00:00+01:0"},
	{"2026-11-02T10:00:00 Z"}, {"2026-11-02T10:00:00Z "},
};

ParameterizedTestParameters(time, parse_rejects_anything_else)
{
	return cr_make_param_array(struct invalid_case, invalid_cases,
	                           PFI_ARRAY_SIZE(invalid_cases));
}

ParameterizedTest(struct invalid_case *c, time, parse_rejects_anything_else)
{
	int64_t got = -42;
	int rc = pfi_time_parse(&got, c->spec, (time_t)NOW);

	cr_assert_eq(rc, PFI_EINVAL, "'%s': rc %d", c->spec, rc);
	cr_assert_eq(got, -42, "'%s': output changed on failure", c->spec);
}

Test(time, parse_rejects_a_null_spec)
{
	int64_t got = -42;

	cr_assert_eq(pfi_time_parse(&got, NULL, (time_t)NOW), PFI_EINVAL);
	cr_assert_eq(got, -42);
}

Test(time, parse_reads_dates_and_days_in_local_time)
{
	int64_t got;

	use_tz("Europe/Berlin");
	cr_assert_eq(pfi_time_parse(&got, "today", (time_t)NOW), PFI_OK);
	cr_assert_eq(got, 1795388400LL * US);
	cr_assert_eq(pfi_time_parse(&got, "2026-11-02", (time_t)NOW), PFI_OK);
	cr_assert_eq(got, 1793574000LL * US);
	cr_assert_eq(pfi_time_parse(&got, "2026-07-15T14:00", (time_t)NOW), PFI_OK);
	cr_assert_eq(got, 1784116800LL * US);
	/* the day after the change to CEST: yesterday began at +01:00 */
	cr_assert_eq(pfi_time_parse(&got, "yesterday", (time_t)1774872000), PFI_OK);
	cr_assert_eq(got, 1774738800LL * US);
	/* an explicit offset is not local time */
	cr_assert_eq(pfi_time_parse(&got, "2026-07-15T14:00Z", (time_t)NOW), PFI_OK);
	cr_assert_eq(got, 1784124000LL * US);
}

/* ---- the forms of issue 18 in zones with DST, and --utc ------------------ */

struct zoned_case {
	char tz[24];
	int utc;              /* bare times in UTC (--utc) */
	char spec[32];
	long long now;
	long long want;       /* seconds */
};

/* Berlin: CET to CEST on 2026-03-29 at 02:00, back on 2026-10-25 at 03:00. */
static struct zoned_case zoned_cases[] = {
	/* the day clocks go forward; now is 12:00 CEST */
	{"Europe/Berlin", 0, "01:30", 1774778400LL, 1774744200LL},
	{"Europe/Berlin", 0, "03:30", 1774778400LL, 1774747800LL},
	{"Europe/Berlin", 0, "13:40", 1774778400LL, 1774701600LL},  /* CET */
	{"Europe/Berlin", 0, "yesterday 12:00", 1774778400LL, 1774695600LL},
	{"Europe/Berlin", 0, "today", 1774778400LL, 1774738800LL},
	{"Europe/Berlin", 0, "Mar 29", 1774778400LL, 1774738800LL},
	{"Europe/Berlin", 0, "-1h", 1774778400LL, 1774774800LL},
	/* the day they go back; now is 12:00 CET */
	{"Europe/Berlin", 0, "yesterday 14:00", 1792926000LL, 1792843200LL},
	{"Europe/Berlin", 0, "Oct 25", 1792926000LL, 1792879200LL},
	{"Europe/Berlin", 0, "03:30", 1792926000LL, 1792895400LL},
	{"Europe/Berlin", 0, "01:30", 1792926000LL, 1792884600LL},
	{"Europe/Berlin", 0, "1 day ago", 1792926000LL, 1792839600LL},
	/* --utc: bare times are UTC whatever TZ says */
	{"Europe/Berlin", 0, "13:40", NOW, 1795437600LL},
	{"Europe/Berlin", 1, "13:40", NOW, 1795441200LL},
	{"Europe/Berlin", 0, "Nov 22", NOW, 1795302000LL},
	{"Europe/Berlin", 1, "Nov 22", NOW, 1795305600LL},
	{"Europe/Berlin", 1, "today", NOW, 1795392000LL},
	{"Europe/Berlin", 1, "yesterday 14:00", NOW, 1795356000LL},
	{"Europe/Berlin", 1, "2026-11-02 10:00", NOW, 1793613600LL},
	{"Europe/Berlin", 1, "2026-11-02T10:00+01:00", NOW, 1793610000LL},
	{"America/New_York", 1, "Dec 31", 1798763400LL, 1798675200LL},
	{"America/New_York", 0, "Dec 31", 1798763400LL, 1798693200LL},
	{"America/New_York", 0, "Jan 1", 1798763400LL, 1767243600LL},
	{"America/New_York", 0, "23:00", 1798763400LL, 1798689600LL},
};

ParameterizedTestParameters(time, parse_reads_new_forms_in_the_zone_asked)
{
	return cr_make_param_array(struct zoned_case, zoned_cases,
	                           PFI_ARRAY_SIZE(zoned_cases));
}

ParameterizedTest(struct zoned_case *c, time,
                  parse_reads_new_forms_in_the_zone_asked)
{
	int64_t got = -42;
	int rc;

	use_tz(c->tz);
	rc = pfi_time_parse_zone(&got, c->spec, (time_t)c->now, c->utc);
	cr_assert_eq(rc, PFI_OK, "%s '%s': rc %d", c->tz, c->spec, rc);
	cr_assert_eq(got, c->want * US, "%s%s '%s': %lld, expected %lld", c->tz,
	             c->utc ? " utc" : "", c->spec, (long long)got / US, c->want);
}

Test(time, a_wall_clock_time_dst_skips_is_read_as_mktime_reads_it)
{
	int64_t got;

	use_tz("Europe/Berlin");
	/* 02:30 does not exist on 2026-03-29: an hour either side of 02:00 */
	cr_assert_eq(pfi_time_parse(&got, "02:30", (time_t)1774778400LL), PFI_OK);
	cr_assert(got == 1774747800LL * US || got == 1774744200LL * US,
	          "%lld", (long long)got / US);
	/* 02:30 happens twice on 2026-10-25: either is 02:30 */
	cr_assert_eq(pfi_time_parse(&got, "02:30", (time_t)1792926000LL), PFI_OK);
	cr_assert(got == 1792888200LL * US || got == 1792891800LL * US,
	          "%lld", (long long)got / US);
}

Test(time, a_month_day_far_from_any_real_date_is_rejected)
{
	int64_t got = -42;

	/* Feb 29 of a year before 1970 is never reached from 1971 */
	cr_assert_eq(pfi_time_parse(&got, "Feb 29", (time_t)(86400 * 365)),
	             PFI_EINVAL);
	cr_assert_eq(got, -42);
	/* before 1970 nothing is read: Dec 31 in early 1970 */
	cr_assert_eq(pfi_time_parse(&got, "Dec 31", (time_t)86400), PFI_EINVAL);
}
