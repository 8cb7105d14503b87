/*
 * fuzz_time.c - libFuzzer target for the time and duration parsers: the
 * --since/--until/--before specifications of pfi_time_parse_zone()
 * (lib/time.c: "2h", "1h ago", "yesterday 14:00", "13:40", "Nov 22 13:40",
 * "2026-11-02 14:00", RFC3339, "@1793491200"), local and UTC, the
 * durations of `pfi stats --sla/--compare` (cli_duration() of
 * cmd/common.c, which is compiled in here), and pfi_time_format() on any
 * 64-bit time.
 *
 * Checks: a parsed time inside the years pfi reads comes back unchanged
 * from its RFC3339 text, in UTC and in local time (a zone with DST); a
 * time of day ("13:40") lies in the two days up to now, and a day of the
 * month ("Nov 22 13:40") in the nine years up to now, as the zone reads
 * them and in UTC; a duration is finite and above zero; a formatted time
 * fits its buffer.
 */
#include <math.h>

#include "../../cmd/pfi.h"
#include "fuzz.h"
#include "scan.h"

#define USEC 1000000LL
/* Parsed times checked by the round trip: 1970-01-02 up to 9999-01-01,
 * so that the local-time text still has a four-digit year. */
#define ROUND_MIN (86400LL * USEC)
#define ROUND_MAX (253370764800LL * USEC)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_set_tz();
	return 0;
}

/* pfi_time_format(t) parses back to t. */
static void round_trip(int64_t t, int utc)
{
	char buf[64];
	int64_t back = 0;

	pfi_time_format(buf, sizeof(buf), t, utc);
	FUZZ_CHECK(pfi_time_parse(&back, buf, FUZZ_REF) == PFI_OK);
	if (back != t)
		fprintf(stderr, "fuzz: %lld -> '%s' -> %lld\n", (long long)t,
		        buf, (long long)back);
	FUZZ_CHECK(back == t);
}

/* The forms that name no date stay in the past they promise: a time of
 * day in the two days up to now (a DST change makes a day 25 hours), a
 * month and day in the nine years up to now. */
static void check_window(const char *spec, int64_t t)
{
	int64_t now = (int64_t)FUZZ_REF * USEC;

	if (pfi_is_digit(spec[0]) && (spec[1] == ':' || spec[2] == ':'))
		FUZZ_CHECK(t <= now && t > now - 2 * 86400 * USEC);
	else if (pfi_is_alpha(spec[0]) && strchr("tyn", spec[0]) == NULL)
		FUZZ_CHECK(t <= now && t > now - 9 * 366LL * 86400 * USEC);
}

static void check_spec(const char *spec)
{
	int64_t t = 0;
	double secs = 0;
	int utc;

	for (utc = 0; utc < 2; utc++) {
		if (pfi_time_parse_zone(&t, spec, FUZZ_REF, utc) != PFI_OK)
			continue;
		check_window(spec, t);
		if (t >= ROUND_MIN && t < ROUND_MAX) {
			round_trip(t, 1);
			round_trip(t, 0);
		}
	}
	if (cli_duration(spec, &secs) == 0)
		FUZZ_CHECK(secs > 0 && isfinite(secs));
}

/* The first eight bytes as a time, formatted both ways. */
static void check_format(const uint8_t *data, size_t size)
{
	char buf[40];
	uint64_t u = 0;
	size_t i;

	for (i = 0; i < size && i < 8; i++)
		u = u << 8 | data[i];
	pfi_time_format(buf, sizeof(buf), (int64_t)u, 1);
	FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)) != NULL);
	pfi_time_format(buf, sizeof(buf), (int64_t)u, 0);
	FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_str(data, size);

	check_spec(spec);
	check_format(data, size);
	free(spec);
	return 0;
}
