/*
 * fuzz_words.c - libFuzzer target for the word splitter of pfi repl
 * (cli_split_words() of cmd/words.c, compiled in here): every line typed
 * or piped into the shell, and the line before the cursor on Tab, goes
 * through it.
 *
 * The input up to its first NUL is one line.  Checks: split strictly, it
 * either refuses (an unclosed quote) or gives words whose bytes all come
 * from the line; split leniently, it never refuses and gives the same
 * words as the strict split when that succeeded; and the words, each
 * quoted again in single quotes and joined by blanks, split back into
 * exactly the same words.
 */
#include "../../cmd/pfi.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The words of w, each in single quotes ('\'' for a quote), blank
 * separated, in a malloc'd string. */
static char *requote(const struct cli_words *w)
{
	size_t i, len = 1;
	char *out, *o;
	const char *p;

	for (i = 0; i < w->n; i++)
		len += 4 * strlen(w->v[i]) + 3;
	o = out = malloc(len);
	FUZZ_CHECK(out != NULL);
	for (i = 0; i < w->n; i++) {
		if (i > 0)
			*o++ = ' ';
		*o++ = '\'';
		for (p = w->v[i]; *p != '\0'; p++) {
			if (*p == '\'') {
				memcpy(o, "'\\''", 4);
				o += 4;
			} else {
				*o++ = *p;
			}
		}
		*o++ = '\'';
	}
	*o = '\0';
	return out;
}

static int same_words(const struct cli_words *a, const struct cli_words *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_str(data, size), *again;
	struct cli_words strict = { NULL, 0, 0 }, lenient = { NULL, 0, 0 };
	struct cli_words back = { NULL, 0, 0 };
	size_t i, bytes = 0, len = strlen(line);
	int n = cli_split_words(line, &strict, 0);

	FUZZ_CHECK(cli_split_words(line, &lenient, 1) >= 0);
	FUZZ_CHECK(n == -1 || (size_t)n == strict.n);
	for (i = 0; i < lenient.n; i++)
		bytes += strlen(lenient.v[i]);
	FUZZ_CHECK(bytes <= len);
	FUZZ_CHECK(lenient.v == NULL || lenient.v[lenient.n] == NULL);
	if (n >= 0)
		FUZZ_CHECK(same_words(&strict, &lenient));
	again = requote(&lenient);
	FUZZ_CHECK(cli_split_words(again, &back, 0) >= 0);
	FUZZ_CHECK(same_words(&lenient, &back));
	free(again);
	cli_words_release(&back);
	cli_words_release(&lenient);
	cli_words_release(&strict);
	free(line);
	return 0;
}
