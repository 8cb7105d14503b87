/*
 * problems.c - what a Postfix line says is wrong: its warning:, error:,
 * fatal: or panic: level (and smtpd's reject_warning, a reject that was
 * only logged), and the kind of the problem, its text with what varies
 * from one line to the next folded away, so that lines of one kind count
 * together (pflogsumm's "Warnings", "Fatal Errors" ... sections).
 */
#include <string.h>

#include "pfi-int.h"

static const char *const levels[] = { "warning", "error", "fatal", "panic" };

static int is_sep(char ch)
{
	return ch == ' ' || ch == ',' || ch == ';' || ch == '=' || ch == ':' ||
	       ch == '(' || ch == ')' || ch == '"' || ch == '\'' || ch == '/';
}

static int has_digit(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] >= '0' && p[i] <= '9')
			return 1;
	return 0;
}

/* Appends n bytes of s to out (of cap bytes, *len used), as far as they fit. */
static void put(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	while (n-- > 0 && *len + 1 < cap) {
		unsigned char ch = (unsigned char)*s++;
		out[(*len)++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	out[*len] = '\0';
}

/* The end of the bracketed run that starts at p (at `open`), or NULL. */
static const char *closing(const char *p, const char *end, char close)
{
	const char *q = memchr(p, close, (size_t)(end - p));

	return q;
}

/*
 * Folds text into out: [...] becomes [X], <...> becomes <A>, a word just
 * before '[' (a host name) HOST, an address A, and a word with a digit in
 * it (numbers, IP addresses, queue IDs, PIDs) N.
 */
static void fold(struct pfi_slice text, char *out, size_t cap)
{
	const char *p = text.p, *end = text.p + text.n;
	size_t len = 0;

	out[0] = '\0';
	while (p < end && len + 1 < cap) {
		const char *q;

		if ((*p == '[' || *p == '<') &&
		    (q = closing(p + 1, end, *p == '[' ? ']' : '>')) != NULL) {
			put(out, cap, &len, *p == '[' ? "[X]" : "<A>", 3);
			p = q + 1;
			continue;
		}
		if (is_sep(*p) || *p == '[' || *p == '<' || *p == ']' || *p == '>') {
			put(out, cap, &len, p++, 1);
			continue;
		}
		for (q = p; q < end && !is_sep(*q) && *q != '[' && *q != '<'; q++)
			;
		if (q < end && *q == '[')
			put(out, cap, &len, "HOST", 4);
		else if (memchr(p, '@', (size_t)(q - p)) != NULL)
			put(out, cap, &len, "A", 1);
		else if (has_digit(p, (size_t)(q - p)))
			put(out, cap, &len, "N", 1);
		else
			put(out, cap, &len, p, (size_t)(q - p));
		p = q;
	}
}

const char *pfi_problem_of(const struct pfi_envelope *env,
                           const struct pfi_event *ev, char *kind, size_t cap)
{
	struct pfi_slice t = env->text;
	size_t i, n;

	if (cap == 0)
		return NULL;
	/* "STAGE: REASON" of the reject that was only logged. */
	if (ev->kind == PFI_EV_REJECT && pfi_slice_eq(ev->action, "reject_warning")) {
		size_t len = 0;
		kind[0] = '\0';
		if (ev->stage.p) {
			put(kind, cap, &len, ev->stage.p, ev->stage.n);
			put(kind, cap, &len, ": ", 2);
		}
		if (ev->reason.p)
			fold(ev->reason, kind + len, cap - len);
		return "reject_warning";
	}
	for (i = 0; i < PFI_ARRAY_SIZE(levels); i++) {
		n = strlen(levels[i]);
		if (t.n > n + 1 && memcmp(t.p, levels[i], n) == 0 &&
		    t.p[n] == ':' && t.p[n + 1] == ' ') {
			struct pfi_slice rest = { t.p + n + 2, t.n - n - 2 };
			fold(rest, kind, cap);
			return levels[i];
		}
	}
	return NULL;
}
