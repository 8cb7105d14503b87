/*
 * scan.h - the one byte cursor of pfi's parsers (syslog.c, postfix.c,
 * postfix-kv.c, time.c).
 *
 * A struct pfi_scan is the unread part [p, end) of some bytes: a log line,
 * a slice of one, a user's time specification.  The bytes need not end in
 * a NUL and may hold NUL bytes; no reader looks at *end or past it, so
 * hostile input is just input.  Every reader that can fail advances the
 * cursor only on success and leaves it alone otherwise, so readers chain:
 *
 *     if (!pfi_scan_digits(&s, 2, 0, 23, &h) || !pfi_scan_char(&s, ':') ||
 *         !pfi_scan_digits(&s, 2, 0, 59, &m))
 *             return 0;
 *
 * and a parser that tries one shape after another works on a copy of the
 * cursor and stores it back when the whole shape matched.  Literals are
 * passed as (pointer, length), most easily with PFI_LIT("text").
 *
 * The functions are static inline: they run for every byte of every line,
 * and the compiler folds the constant lengths and character classes.
 */
#ifndef PFI_SCAN_H
#define PFI_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pfi-int.h"

/* The unread bytes [p, end). */
struct pfi_scan {
	const char *p;     /* next unread byte */
	const char *end;   /* one past the last byte */
};

/* A string literal as the (pointer, length) pair the readers take. */
#define PFI_LIT(s) (s), (sizeof(s) - 1)

/* ---- character classes (ASCII only, whatever the locale) ----------------- */

static inline int pfi_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline int pfi_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int pfi_is_alnum(char c)
{
	return pfi_is_digit(c) || pfi_is_alpha(c);
}

/* ---- the cursor ---------------------------------------------------------- */

/* A cursor over the n bytes at p.  p may be NULL only when n is 0. */
static inline struct pfi_scan pfi_scan_of(const char *p, size_t n)
{
	struct pfi_scan s;

	s.p = p;
	s.end = p == NULL ? NULL : p + n;
	return s;
}

/* The number of unread bytes. */
static inline size_t pfi_scan_len(const struct pfi_scan *s)
{
	return (size_t)(s->end - s->p);
}

/* The unread bytes as a slice. */
static inline struct pfi_slice pfi_scan_rest(const struct pfi_scan *s)
{
	struct pfi_slice r;

	r.p = s->p;
	r.n = pfi_scan_len(s);
	return r;
}

/* Whether the next byte is c (nothing is consumed). */
static inline int pfi_scan_peek(const struct pfi_scan *s, char c)
{
	return s->p < s->end && *s->p == c;
}

/* Whether the unread bytes start with lit[0..n). */
static inline int pfi_scan_starts(const struct pfi_scan *s, const char *lit,
                                  size_t n)
{
	return pfi_scan_len(s) >= n && memcmp(s->p, lit, n) == 0;
}

/* Whether the unread bytes are exactly lit[0..n). */
static inline int pfi_scan_equals(const struct pfi_scan *s, const char *lit,
                                  size_t n)
{
	return pfi_scan_len(s) == n && memcmp(s->p, lit, n) == 0;
}

/* ---- readers: each advances only on success ------------------------------ */

/* The byte c. */
static inline int pfi_scan_char(struct pfi_scan *s, char c)
{
	if (!pfi_scan_peek(s, c))
		return 0;
	s->p++;
	return 1;
}

/* The bytes lit[0..n). */
static inline int pfi_scan_skip(struct pfi_scan *s, const char *lit, size_t n)
{
	if (!pfi_scan_starts(s, lit, n))
		return 0;
	s->p += n;
	return 1;
}

/* One or more spaces. */
static inline int pfi_scan_spaces(struct pfi_scan *s)
{
	const char *start = s->p;

	while (s->p < s->end && *s->p == ' ')
		s->p++;
	return s->p > start;
}

/* The longest run, maybe empty, of bytes that `ok` accepts; always
 * succeeds. */
static inline struct pfi_slice pfi_scan_span(struct pfi_scan *s,
                                             int (*ok)(char))
{
	struct pfi_slice r;

	r.p = s->p;
	while (s->p < s->end && ok(*s->p))
		s->p++;
	r.n = (size_t)(s->p - r.p);
	return r;
}

/* A non-empty run of bytes that `ok` accepts, into *out. */
static inline int pfi_scan_word(struct pfi_scan *s, int (*ok)(char),
                                struct pfi_slice *out)
{
	struct pfi_scan t = *s;
	struct pfi_slice w = pfi_scan_span(&t, ok);

	if (w.n == 0)
		return 0;
	*out = w;
	*s = t;
	return 1;
}

/* The bytes before the next c, maybe none, into *out; the cursor stops at
 * the c.  Fails when no c is left. */
static inline int pfi_scan_until(struct pfi_scan *s, char c,
                                 struct pfi_slice *out)
{
	const char *q = s->p < s->end ? memchr(s->p, c, pfi_scan_len(s)) : NULL;

	if (q == NULL)
		return 0;
	out->p = s->p;
	out->n = (size_t)(q - s->p);
	s->p = q;
	return 1;
}

/* Exactly n digits (n <= 9) with a value in [lo, hi]. */
static inline int pfi_scan_digits(struct pfi_scan *s, int n, int lo, int hi,
                                  int *out)
{
	int v = 0, i;

	if (s->end - s->p < n)
		return 0;
	for (i = 0; i < n; i++) {
		if (!pfi_is_digit(s->p[i]))
			return 0;
		v = v * 10 + (s->p[i] - '0');
	}
	if (v < lo || v > hi)
		return 0;
	*out = v;
	s->p += n;
	return 1;
}

/* A UTC offset: "+hh:mm", "+hhmm", "-hh:mm" or "-hhmm" into *seconds
 * (east positive).  0, s unmoved, when there is none. */
static inline int pfi_scan_utc_offset(struct pfi_scan *s, int *seconds)
{
	struct pfi_scan t = *s;
	int sign, h, m;

	if (t.p == t.end || (*t.p != '+' && *t.p != '-'))
		return 0;
	sign = *t.p++ == '-' ? -1 : 1;
	if (!pfi_scan_digits(&t, 2, 0, 23, &h))
		return 0;
	pfi_scan_char(&t, ':');
	if (!pfi_scan_digits(&t, 2, 0, 59, &m))
		return 0;
	*seconds = sign * (h * 3600 + m * 60);
	*s = t;
	return 1;
}

/*
 * A decimal number: all the digits at the cursor, 1 to max_digits of
 * them, with a value in [min, max] (0 <= min <= max).  No sign and no
 * space.  Fails on more digits, and on a value past max however many
 * digits hold it (nothing overflows).
 */
static inline int pfi_scan_uint(struct pfi_scan *s, size_t max_digits,
                                int64_t min, int64_t max, int64_t *out)
{
	const char *q = s->p;
	int64_t v = 0;
	int over = 0, d;

	for (; q < s->end && pfi_is_digit(*q); q++) {
		if ((size_t)(q - s->p) == max_digits)
			return 0;
		d = *q - '0';
		if (v > (max - d) / 10)
			over = 1;
		else
			v = v * 10 + d;
	}
	if (q == s->p || over || v < min || v > max)
		return 0;
	*out = v;
	s->p = q;
	return 1;
}

/* An optional ".d" of 1 to 9 digits, as microseconds: digits past the
 * sixth are dropped.  No '.' is a fraction of 0; a '.' without digits or
 * with more than 9 fails. */
static inline int pfi_scan_frac(struct pfi_scan *s, long *us)
{
	struct pfi_scan t = *s;
	long v = 0;
	int n = 0;

	*us = 0;
	if (!pfi_scan_char(&t, '.'))
		return 1;
	for (; t.p < t.end && pfi_is_digit(*t.p); t.p++, n++)
		if (n < 6)
			v = v * 10 + (*t.p - '0');
	if (n == 0 || n > 9)
		return 0;
	for (; n < 6; n++)
		v *= 10;
	*us = v;
	*s = t;
	return 1;
}

/* ---- searching the unread bytes (the cursor does not move) --------------- */

/* The first needle[0..m) in the unread bytes, or NULL. */
static inline const char *pfi_scan_find(const struct pfi_scan *s,
                                        const char *needle, size_t m)
{
	if (s->p >= s->end)
		return NULL;
	return memmem(s->p, pfi_scan_len(s), needle, m);
}

/* The last needle[0..m) in the unread bytes, or NULL. */
static inline const char *pfi_scan_rfind(const struct pfi_scan *s,
                                         const char *needle, size_t m)
{
	size_t n = pfi_scan_len(s), i;

	if (m == 0 || n < m)
		return NULL;
	for (i = n - m + 1; i-- > 0;)
		if (s->p[i] == needle[0] && memcmp(s->p + i, needle, m) == 0)
			return s->p + i;
	return NULL;
}

#endif
