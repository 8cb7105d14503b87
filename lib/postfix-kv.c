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

static int kv_is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static int kv_ends_bracket(const char *q, const char *end)
{
	return q == end || *q == ' ' || *q == ',' || *q == ';' || *q == ':';
}

/* An angle-bracketed value starting at q ('<'); returns the byte after '>'. */
static const char *kv_bracket(const char *q, const char *end,
                              struct pfi_slice *val)
{
	const char *r;

	for (r = q + 1; r < end; r++) {
		if (*r == '>' && kv_ends_bracket(r + 1, end)) {
			val->p = q + 1;
			val->n = (size_t)(r - q - 1);
			return r + 1;
		}
	}
	return NULL;
}

/* A plain value: bytes up to the next ',' or ' ' or the end. */
static const char *kv_plain(const char *q, const char *end,
                            struct pfi_slice *val)
{
	const char *r = q;

	while (r < end && *r != ',' && *r != ' ')
		r++;
	val->p = q;
	val->n = (size_t)(r - q);
	return r;
}

static const char *kv_separator(const char *q, const char *end)
{
	if (q < end && *q == ',')
		q++;
	if (q < end && *q == ' ')
		q++;
	return q;
}

int pfi_kv_next(const char **p, const char *end, struct pfi_slice *key,
                struct pfi_slice *val)
{
	const char *k = *p, *eq = *p, *q;
	struct pfi_slice v;

	if (k == NULL || k >= end)
		return 0;
	while (eq < end && kv_is_key_char(*eq))
		eq++;
	if (eq == k || eq >= end || *eq != '=')
		return 0;
	if (eq + 1 < end && eq[1] == '<')
		q = kv_bracket(eq + 1, end, &v);
	else
		q = kv_plain(eq + 1, end, &v);
	if (q == NULL)
		return 0;
	key->p = k;
	key->n = (size_t)(eq - k);
	*val = v;
	*p = kv_separator(q, end);
	return 1;
}
