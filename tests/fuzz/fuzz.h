/*
 * fuzz.h - small helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * Each target is one file with LLVMFuzzerTestOneInput(); these helpers
 * copy the input the way the library will see it (an exactly-sized buffer
 * without a trailing NUL, so that AddressSanitizer reports a read past the
 * end), walk it line by line or field by field, and abort() on a broken
 * invariant so that libFuzzer records the input as a crash.
 */
#ifndef PFI_FUZZ_H
#define PFI_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfi-int.h"

/* A time zone with daylight saving time that needs no tzdata files, so
 * mktime()'s gaps and repeated hours are exercised on any machine. */
#define FUZZ_TZ "CET-1CEST,M3.5.0,M10.5.0/3"

/* 2026-11-03 00:00:00 UTC: the "file mtime" of classic timestamps. */
#define FUZZ_REF ((time_t)1793664000)

/* Aborts with the failed condition, so libFuzzer saves the input. */
#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", \
			        #cond, __FILE__, __LINE__); \
			abort(); \
		} \
	} while (0)

/* Sets the time zone once per process (call from LLVMFuzzerInitialize). */
static inline void fuzz_set_tz(void)
{
	setenv("TZ", FUZZ_TZ, 1);
	tzset();
}

/* An exactly-sized copy of data[0, size) without a NUL (free it). */
static inline char *fuzz_dup(const uint8_t *data, size_t size)
{
	char *p = malloc(size ? size : 1);

	FUZZ_CHECK(p != NULL);
	if (size > 0)
		memcpy(p, data, size);
	return p;
}

/* A NUL-terminated copy of data[0, size) (free it). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *p = malloc(size + 1);

	FUZZ_CHECK(p != NULL);
	if (size > 0)
		memcpy(p, data, size);
	p[size] = '\0';
	return p;
}

/* The next piece of [*p, end) up to `sep` (not included), moving *p past
 * the separator; 0 when nothing is left. */
static inline int fuzz_next(const char **p, const char *end, char sep,
                            const char **piece, size_t *n)
{
	const char *s;

	if (*p >= end)
		return 0;
	s = memchr(*p, sep, (size_t)(end - *p));
	*piece = *p;
	*n = (size_t)((s ? s : end) - *p);
	*p = s ? s + 1 : end;
	return 1;
}

/* Reads the bytes of slice s, so that AddressSanitizer checks them. */
static inline void fuzz_touch_slice(struct pfi_slice s)
{
	volatile unsigned sum = 0;
	size_t i;

	for (i = 0; s.p != NULL && i < s.n; i++)
		sum += (unsigned char)s.p[i];
	(void)sum;
}

/* Slice s is absent, or lies inside [base, base + n). */
static inline void fuzz_check_slice(struct pfi_slice s, const char *base,
                                    size_t n)
{
	if (s.p == NULL)
		return;
	FUZZ_CHECK(s.p >= base && s.n <= n && s.p <= base + n - s.n);
	fuzz_touch_slice(s);
}

/* Slice s is absent, inside [base, base + n), or wholly outside it (a
 * constant the parser supplies). */
static inline void fuzz_check_slice_or_const(struct pfi_slice s,
                                             const char *base, size_t n)
{
	uintptr_t p = (uintptr_t)s.p, b = (uintptr_t)base;

	if (s.p != NULL && p >= b && p <= b + n)
		fuzz_check_slice(s, base, n);
	else if (s.p != NULL)
		FUZZ_CHECK(p + s.n <= b || p > b + n);
	fuzz_touch_slice(s);
}

/* Reads every byte of a NUL-terminated string (NULL allowed), so that
 * AddressSanitizer checks it. */
static inline void fuzz_touch(const char *s)
{
	volatile size_t n = s ? strlen(s) : 0;

	(void)n;
}

#endif /* PFI_FUZZ_H */
