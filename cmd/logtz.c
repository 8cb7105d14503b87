/*
 * logtz.c - `pfi index --log-tz ZONE` and `--year YYYY`: the zone and the
 * year that classic timestamps (which carry neither) were written in, for
 * evidence whose mtime and host zone no longer tell.
 *
 * The zone becomes the process's TZ, as local time is what the C library
 * converts through: UTC ("UTC", "Z"), a fixed offset ("+02:00", "-0530",
 * "+02") or a name of the time zone database ("Europe/Berlin"), which
 * must exist there (glibc would silently read an unknown name as UTC).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pfi.h"

/* "+hh[:mm]", "+hhmm" or "-..." into seconds east of UTC; 0 on success. */
static int parse_offset(const char *z, long *east)
{
	int sign = *z == '-' ? -1 : 1, hh, mm = 0;
	const char *p = z + 1;

	if ((*z != '+' && *z != '-') || !isdigit((unsigned char)p[0]) ||
	    !isdigit((unsigned char)p[1]))
		return -1;
	hh = (p[0] - '0') * 10 + (p[1] - '0');
	p += 2;
	if (*p == ':')
		p++;
	if (*p != '\0') {
		if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]) ||
		    p[2] != '\0')
			return -1;
		mm = (p[0] - '0') * 10 + (p[1] - '0');
	}
	if (hh > 14 || mm > 59)
		return -1;
	*east = sign * (hh * 3600L + mm * 60L);
	return 0;
}

/* Whether name is a zone of the time zone database on this system. */
static int zone_exists(const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	const char *p;

	if (*name == '\0' || *name == '/' || strstr(name, "..") != NULL)
		return 0;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return 0;
	snprintf(path, sizeof(path), "%s/%s",
	         dir && *dir ? dir : "/usr/share/zoneinfo", name);
	return access(path, R_OK) == 0;
}

int cli_set_log_tz(const char *zone)
{
	char tz[64];
	long east;

	if (strcmp(zone, "UTC") == 0 || strcmp(zone, "Z") == 0 ||
	    strcmp(zone, "GMT") == 0) {
		snprintf(tz, sizeof(tz), "UTC0");
	} else if (parse_offset(zone, &east) == 0) {
		/* POSIX counts west of UTC: "<+0200>-2:00" is two hours east */
		long w = -east, a = w < 0 ? -w : w;

		snprintf(tz, sizeof(tz), "<%c%02ld%02ld>%c%ld:%02ld",
		         east < 0 ? '-' : '+', (east < 0 ? -east : east) / 3600,
		         ((east < 0 ? -east : east) % 3600) / 60, w < 0 ? '-' : '+',
		         a / 3600, (a % 3600) / 60);
	} else if (zone_exists(zone)) {
		snprintf(tz, sizeof(tz), "%s", zone);
	} else {
		return cli_usage_error("index", "invalid --log-tz '%s': want UTC,"
		                       " an offset such as +02:00, or a zone such"
		                       " as Europe/Berlin", zone);
	}
	if (setenv("TZ", tz, 1) != 0)
		return cli_usage_error("index", "cannot set the zone '%s'", zone);
	tzset();
	return PFI_EXIT_OK;
}

int cli_year(const char *v, int *out)
{
	char *end;
	long y = strtol(v, &end, 10);

	if (end == v || *end != '\0' || y < 1970 || y > 9999)
		return cli_usage_error("index", "invalid --year '%s': want a"
		                       " year such as 2025", v);
	*out = (int)y;
	return PFI_EXIT_OK;
}
