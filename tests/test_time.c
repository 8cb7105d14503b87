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
	{""}, {"abc"}, {"now"}, {"Today"}, {"today "}, {" today"},
	{"10"}, {"10x"}, {"10S"}, {"5mm"}, {"5 m"}, {" 5m"}, {"-5m"}, {"+5m"},
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
