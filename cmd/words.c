/*
 * words.c - lists of words: the candidates completion offers, and a line
 * of pfi repl split into words as a shell splits them.
 */
#include <stdlib.h>
#include <string.h>

#include "pfi.h"

void cli_words_add(struct cli_words *w, const char *s)
{
	if (w->n + 1 >= w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
	}
	w->v[w->n++] = xstrdup(s);
	w->v[w->n] = NULL;
}

void cli_words_release(struct cli_words *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	memset(w, 0, sizeof(*w));
}

/* Lenient: Tab completes inside a quote not yet closed. */
int cli_split_words(const char *line, struct cli_words *out, int lenient)
{
	size_t n = strlen(line), o;
	char *w = xmalloc(n + 1), q;
	const char *p = line;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (*p == '\0')
			break;
		for (o = 0, q = 0; *p != '\0'; p++) {
			if (q == 0 && (*p == ' ' || *p == '\t' || *p == '\n' ||
			               *p == '\r'))
				break;
			if (q == 0 && (*p == '\'' || *p == '"'))
				q = *p;
			else if (q != 0 && *p == q)
				q = 0;
			else if (*p == '\\' && q != '\'' && p[1] != '\0' &&
			         (q == 0 || p[1] == '"' || p[1] == '\\'))
				w[o++] = *++p;
			else
				w[o++] = *p;
		}
		w[o] = '\0';
		if (q != 0 && !lenient) {
			free(w);
			return -1;
		}
		cli_words_add(out, w);
	}
	free(w);
	return (int)out->n;
}
