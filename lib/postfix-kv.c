/*
 * postfix-kv.c - the cursor over Postfix's "key=value" lists, as in
 *     to=<a@b>, relay=mx[10.0.0.1]:25, delay=0.5, status=sent (250 Ok)
 *     uid=0 from=<root@host> orig_id=ABC123
 *     from=<a>, to=<b>, proto=ESMTP, helo=<h>
 * Keys are [A-Za-z0-9_-]+.  A value is either "<...>" (unwrapped; the '>'
 * must end the line or be followed by one of " ,;:") or a run of bytes up
 * to the next ',' or ' '.  The separator is ", ", ',' or ' '; any other
 * byte after a value ends the list there (so "status=sent (text)" stops
 * in front of the '(' and "helo=<h>: detail" in front of the ':').
 */
#include "pfi-int.h"
#include "scan.h"

static int kv_is_key_char(char c)
{
	return pfi_is_alnum(c) || c == '_' || c == '-';
}

static int kv_is_plain_char(char c)
{
	return c != ',' && c != ' ';
}

/* Whether a '>' at the cursor closes an angle-bracketed value. */
static int kv_closes_bracket(const struct pfi_scan *s)
{
	struct pfi_scan t = *s;

	return pfi_scan_char(&t, '>') &&
	       (t.p == t.end || *t.p == ' ' || *t.p == ',' || *t.p == ';' ||
	        *t.p == ':');
}

/* "<VALUE>" at the cursor: VALUE into *val, the cursor past the '>'. */
static int kv_bracket(struct pfi_scan *s, struct pfi_slice *val)
{
	struct pfi_scan t = *s;
	struct pfi_slice skipped;

	if (!pfi_scan_char(&t, '<'))
		return 0;
	while (pfi_scan_until(&t, '>', &skipped)) {
		if (kv_closes_bracket(&t)) {
			val->p = s->p + 1;
			val->n = (size_t)(t.p - val->p);
			s->p = t.p + 1;
			return 1;
		}
		t.p++;   /* a '>' inside the value */
	}
	return 0;
}

int pfi_kv_next(const char **p, const char *end, struct pfi_slice *key,
                struct pfi_slice *val)
{
	struct pfi_scan s;
	struct pfi_slice k, v;

	if (*p == NULL || *p >= end)
		return 0;
	s.p = *p;
	s.end = end;
	if (!pfi_scan_word(&s, kv_is_key_char, &k) || !pfi_scan_char(&s, '='))
		return 0;
	if (pfi_scan_peek(&s, '<')) {
		if (!kv_bracket(&s, &v))
			return 0;
	} else {
		v = pfi_scan_span(&s, kv_is_plain_char);
	}
	pfi_scan_char(&s, ',');
	pfi_scan_char(&s, ' ');
	*key = k;
	*val = v;
	*p = s.p;
	return 1;
}
