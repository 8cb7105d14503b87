/*
 * test_docs.c - the drift test between the pfi command and its documents
 * (STYLE.md practice 12).
 *
 * The source of truth is what the built pfi prints, from its command
 * table and option specs: `pfi --help` lists the global options and, under
 * "Commands:", one "  NAME  SUMMARY" line per command; `pfi CMD --help`
 * prints "usage: pfi CMD ..." and the options of CMD.  The documents in
 * the source tree (SRCDIR) must follow:
 * - each command has man/pfi-CMD.1 (help is documented in man/pfi.1) and
 *   an ".It Cm CMD" entry in man/pfi.1's command list;
 * - each long option of CMD is in man/pfi-CMD.1 as "Fl -opt"; a global
 *   option may be documented in man/pfi.1 instead;
 * - each usage string equals one SYNOPSIS block of its page once the mdoc
 *   macros are stripped;
 * - the commands of pfi repl's `help` are in man/pfi-repl.1;
 * - README's test command is, line for line, the one .ci/run runs.
 * The completion files list nothing themselves (they ask `pfi
 * __complete`), so they are checked by running them: bash, zsh and fish
 * must each offer every command, global option and option of each command.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pfi-int.h"

#ifndef PFI_BIN
#error "PFI_BIN must name the built pfi binary"
#endif
#ifndef SRCDIR
#error "SRCDIR must name the source tree"
#endif

#define NAMES_MAX 64
#define NAME_LEN 64
#define TEXT_LEN 1024

/* A small set of names: commands or long options. */
struct names {
	int n;                        /* entries used */
	char v[NAMES_MAX][NAME_LEN];  /* NUL-terminated names */
};

/* A small set of longer texts: usage strings or SYNOPSIS blocks. */
struct texts {
	int n;                        /* entries used */
	char v[16][TEXT_LEN];         /* whitespace-normalised texts */
};

/* ---- reading files and running pfi ------------------------------------ */

/* The contents of SRCDIR/rel as a malloc'd string; fails the test if absent. */
static char *slurp(const char *rel)
{
	struct pfi_buf b;
	char path[4096], chunk[4096];
	size_t n;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", SRCDIR, rel);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "cannot open '%s': %s", path, strerror(errno));
	pfi_buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		cr_assert_eq(pfi_buf_append(&b, chunk, n), PFI_OK);
	fclose(fp);
	cr_assert_eq(pfi_buf_appends(&b, ""), PFI_OK);
	return pfi_buf_detach(&b);
}

/* Whether SRCDIR/rel exists. */
static int exists(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", SRCDIR, rel);
	return access(path, R_OK) == 0;
}

/* Reads everything from fd into a malloc'd string. */
static char *read_all(int fd)
{
	struct pfi_buf b;
	char chunk[4096];
	ssize_t n;

	pfi_buf_init(&b, 1 << 20);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		cr_assert_gt(n, 0, "read: %s", strerror(errno));
		cr_assert_eq(pfi_buf_append(&b, chunk, (size_t)n), PFI_OK);
	}
	cr_assert_eq(pfi_buf_appends(&b, ""), PFI_OK);
	return pfi_buf_detach(&b);
}

/*
 * Runs PFI_BIN with `cmd` (NULL for none) and --help, and returns its
 * standard output.  Fails the test unless it exits 0 and prints something.
 */
static char *help_of(const char *cmd)
{
	int fds[2], status;
	char *out;
	pid_t pid;

	cr_assert_eq(access(PFI_BIN, X_OK), 0, "cannot run '%s': %s", PFI_BIN,
	             strerror(errno));
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (cmd != NULL)
			execl(PFI_BIN, "pfi", cmd, "--help", (char *)NULL);
		else
			execl(PFI_BIN, "pfi", "--help", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	out = read_all(fds[0]);
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "'pfi %s --help' did not exit 0", cmd ? cmd : "");
	cr_assert_neq(out[0], '\0', "'pfi %s --help' printed nothing",
	              cmd ? cmd : "");
	return out;
}

/* ---- small text helpers ----------------------------------------------- */

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Whether `word` occurs in text[0..len) with no word character around it. */
static int has_word_n(const char *text, size_t len, const char *word)
{
	size_t wl = strlen(word);
	const char *p = text, *end = text + len;

	while ((p = memmem(p, (size_t)(end - p), word, wl)) != NULL) {
		int before = p > text && is_word_char(p[-1]);
		int after = p + wl < end && is_word_char(p[wl]);

		if (!before && !after)
			return 1;
		p++;
	}
	return 0;
}

static int has_word(const char *text, const char *word)
{
	return has_word_n(text, strlen(text), word);
}

static int names_has(const struct names *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (strcmp(s->v[i], name) == 0)
			return 1;
	return 0;
}

static void names_add(struct names *s, const char *p, size_t n)
{
	char name[NAME_LEN];

	cr_assert_lt(n, sizeof(name), "name too long: %.*s", (int)n, p);
	memcpy(name, p, n);
	name[n] = '\0';
	if (names_has(s, name))
		return;
	cr_assert_lt(s->n, NAMES_MAX, "too many names");
	memcpy(s->v[s->n++], name, n + 1);
}

/* Copies p[0..n) into dst, with runs of white space made one space. */
static void normalise(char *dst, size_t size, const char *p, size_t n)
{
	size_t o = 0;
	int space = 0;

	for (size_t i = 0; i < n; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\n') {
			space = o > 0;
			continue;
		}
		if (space && o + 1 < size)
			dst[o++] = ' ';
		space = 0;
		if (o + 1 < size)
			dst[o++] = p[i];
	}
	dst[o] = '\0';
}

/* The line of `text` that starts at *p, as (start, length); advances *p. */
static size_t next_line(const char **p, const char **line)
{
	const char *nl = strchr(*p, '\n');
	size_t n = nl ? (size_t)(nl - *p) : strlen(*p);

	*line = *p;
	*p += n + (nl != NULL);
	return n;
}

/* ---- what pfi --help prints ------------------------------------------- */

/* The names of the "  NAME  SUMMARY" lines under "Commands:". */
static void commands_of(const char *help, struct names *out)
{
	const char *p = strstr(help, "Commands:"), *line;
	size_t n, w;

	cr_assert_not_null(p, "'pfi --help' has no \"Commands:\" list:\n%s", help);
	next_line(&p, &line);
	while (*p != '\0') {
		n = next_line(&p, &line);
		if (n == 0 || (line[0] != ' ' && line[0] != '\t'))
			break;
		while (n > 0 && (*line == ' ' || *line == '\t'))
			line++, n--;
		for (w = 0; w < n && is_word_char(line[w]); w++)
			;
		if (w > 0)
			names_add(out, line, w);
	}
}

/* Every "--name" in `text` (preceded by a non-word character). */
static void long_options_of(const char *text, struct names *out)
{
	const char *p = text;
	size_t n;

	while ((p = strstr(p, "--")) != NULL) {
		if ((p > text && is_word_char(p[-1])) || !is_word_char(p[2]) ||
		    p[2] == '-') {
			p += 2;
			continue;
		}
		for (n = 2; is_word_char(p[n]); n++)
			;
		names_add(out, p, n);
		p += n;
	}
}

/* Whether a help line continues the usage above it (indented, not "-x"). */
static int continues_usage(const char *line, size_t n)
{
	size_t i = 0;

	if (n == 0 || (line[0] != ' ' && line[0] != '\t'))
		return 0;
	while (i < n && (line[i] == ' ' || line[i] == '\t'))
		i++;
	return i < n && line[i] != '-' && strncmp(line + i, "or:", 3) != 0;
}

/* Starts a usage when a line begins with "usage:" or "or:" (git style). */
static const char *usage_start(const char *line, size_t n)
{
	while (n > 0 && (*line == ' ' || *line == '\t'))
		line++, n--;
	if (n >= 6 && strncasecmp(line, "usage:", 6) == 0)
		return line + 6;
	if (n >= 3 && strncmp(line, "or:", 3) == 0)
		return line + 3;
	return NULL;
}

/*
 * Adds the usage that starts at `start` (the rest of the line at *p's
 * previous line) and its continuation lines, advancing *p past them.
 */
static void usage_add(const char *start, size_t n, const char **p,
                      struct texts *out)
{
	struct pfi_buf cur;
	const char *q = *p, *line;

	pfi_buf_init(&cur, 0);
	cr_assert_eq(pfi_buf_append(&cur, start, n), PFI_OK);
	while (*q != '\0') {
		n = next_line(&q, &line);
		if (!continues_usage(line, n))
			break;
		cr_assert_eq(pfi_buf_printf(&cur, " %.*s", (int)n, line), PFI_OK);
		*p = q;
	}
	cr_assert_lt(out->n, 16);
	normalise(out->v[out->n++], TEXT_LEN, cur.data, cur.len);
	pfi_buf_release(&cur);
}

/* The usage strings of a --help text, whitespace-normalised. */
static void usages_of(const char *help, struct texts *out)
{
	const char *p = help, *line, *start;
	size_t n;

	while (*p != '\0') {
		n = next_line(&p, &line);
		start = usage_start(line, n);
		if (start != NULL)
			usage_add(start, n - (size_t)(start - line), &p, out);
	}
}

/* ---- the SYNOPSIS of an mdoc page ------------------------------------- */

/* How one macro line is being rendered. */
struct mdoc_render {
	struct pfi_buf *out;  /* the text so far; blocks end with '\n' */
	const char *name;     /* the page's name, for a bare .Nm */
	int flag;             /* arguments are flags: prefix "-" */
	int glue;             /* the next word attaches without a space */
	int nopen;            /* brackets opened by .Op, closed at line end */
};

static void mdoc_emit(struct mdoc_render *r, const char *w, size_t n)
{
	struct pfi_buf *o = r->out;
	char last = o->len > 0 ? o->data[o->len - 1] : '\n';
	int closing = n == 1 && strchr(".,;:)]", w[0]) != NULL;

	if (!r->glue && !closing && last != '\n' && last != '[' && last != '(')
		cr_assert_eq(pfi_buf_appendc(o, ' '), PFI_OK);
	cr_assert_eq(pfi_buf_append(o, w, n), PFI_OK);
	r->glue = 0;
}

/* Copies one mdoc argument into dst without its escapes (\- \& "\ "). */
static size_t mdoc_unescape(char *dst, size_t size, const char *p, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < size; i++) {
		if (p[i] == '\\' && i + 1 < n && strchr("-& e", p[i + 1])) {
			i++;
			if (p[i] == '&')
				continue;
			dst[o++] = p[i] == 'e' ? '\\' : p[i];
			continue;
		}
		if (p[i] != '"')
			dst[o++] = p[i];
	}
	dst[o] = '\0';
	return o;
}

/* Whether token t is an mdoc macro that this renderer knows. */
static int mdoc_is_macro(const char *t)
{
	static const char *const macros[] = {
		"Nm", "Op", "Oo", "Oc", "Fl", "Ar", "Cm", "Ns", "Li", "Ic",
		"Pa", "Ev", "Sy", "Em", "No", "Ql", "Pf", "Xo", "Xc"
	};

	for (size_t i = 0; i < PFI_ARRAY_SIZE(macros); i++)
		if (strcmp(t, macros[i]) == 0)
			return 1;
	return 0;
}

/* Renders macro `m`, which starts the line when `first`; `bare` = no args. */
static void mdoc_macro(struct mdoc_render *r, const char *m, int first,
                       int bare)
{
	r->flag = 0;
	if (strcmp(m, "Nm") == 0) {
		if (first && r->out->len > 0)
			cr_assert_eq(pfi_buf_appendc(r->out, '\n'), PFI_OK);
		if (bare)
			mdoc_emit(r, r->name, strlen(r->name));
	} else if (strcmp(m, "Op") == 0 || strcmp(m, "Oo") == 0) {
		mdoc_emit(r, "[", 1);
		r->glue = 1;
		r->nopen += m[1] == 'p';
	} else if (strcmp(m, "Oc") == 0) {
		r->glue = 1;
		mdoc_emit(r, "]", 1);
	} else if (strcmp(m, "Ns") == 0) {
		r->glue = 1;
	} else if (strcmp(m, "Fl") == 0) {
		r->flag = 1;
		if (bare)
			mdoc_emit(r, "-", 1);
	}
}

/* The next space-separated (or double-quoted) token of *p, or 0 at end. */
static size_t mdoc_token(const char **p, const char **tok)
{
	const char *s = *p;
	size_t n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	*tok = s;
	if (*s == '"') {
		while (s[++n] != '\0' && s[n] != '"')
			;
		n += s[n] == '"';
	} else {
		while (s[n] != '\0' && s[n] != ' ' && s[n] != '\t')
			n += (s[n] == '\\' && s[n + 1] != '\0') ? 2 : 1;
	}
	*p = s + n;
	return n;
}

/* Renders one argument word: flags get their "-", delimiters do not. */
static void mdoc_word(struct mdoc_render *r, const char *word)
{
	char flag[TEXT_LEN + 1] = "-";
	size_t n = strlen(word);

	if (!r->flag || (n == 1 && strchr(".,;:|", word[0]) != NULL)) {
		mdoc_emit(r, word, n);
		return;
	}
	memcpy(flag + 1, word, n + 1);
	mdoc_emit(r, flag, n + 1);
}

/*
 * Renders one line of a SYNOPSIS: a macro line (a line of an unknown
 * macro, such as .Bk, renders as nothing) or plain text.
 */
static void mdoc_line(struct mdoc_render *r, const char *line)
{
	const char *p = line + (line[0] == '.'), *tok, *peek;
	char word[TEXT_LEN], next[TEXT_LEN];
	size_t n;
	int first = line[0] == '.';

	r->flag = 0;
	r->nopen = 0;
	while ((n = mdoc_token(&p, &tok)) > 0) {
		mdoc_unescape(word, sizeof(word), tok, n);
		if (tok[0] != '"' && mdoc_is_macro(word)) {
			peek = p;
			n = mdoc_token(&peek, &tok);
			mdoc_unescape(next, sizeof(next), tok, n);
			mdoc_macro(r, word, first, n == 0 || mdoc_is_macro(next));
		} else if (first) {
			return;
		} else {
			mdoc_word(r, word);
		}
		first = 0;
	}
	for (; r->nopen > 0; r->nopen--) {
		r->glue = 1;
		mdoc_emit(r, "]", 1);
	}
}

/* The argument of the page's first ".Nm" (its name). */
static void page_name(const char *page, char *dst, size_t size)
{
	const char *p = strstr(page, "\n.Nm ");
	size_t n = 0;

	cr_assert_not_null(p, "page has no .Nm line");
	p += 5;
	while (p[n] != '\0' && p[n] != '\n' && p[n] != ' ')
		n++;
	cr_assert_lt(n, size);
	memcpy(dst, p, n);
	dst[n] = '\0';
}

/* Renders the SYNOPSIS of an mdoc page into text, one line per block. */
static void synopsis_render(const char *page, struct pfi_buf *out)
{
	struct mdoc_render r = { out, NULL, 0, 0, 0 };
	const char *p = strstr(page, "\n.Sh SYNOPSIS\n"), *line;
	char name[NAME_LEN], buf[TEXT_LEN];
	size_t n;

	cr_assert_not_null(p, "page has no SYNOPSIS");
	page_name(page, name, sizeof(name));
	r.name = name;
	p += strlen("\n.Sh SYNOPSIS\n");
	while (*p != '\0' && strncmp(p, ".Sh ", 4) != 0) {
		n = next_line(&p, &line);
		if (n >= sizeof(buf) || strncmp(line, ".\\\"", 3) == 0)
			continue;
		memcpy(buf, line, n);
		buf[n] = '\0';
		mdoc_line(&r, buf);
	}
}

/* The blocks of a page's SYNOPSIS, whitespace-normalised. */
static void synopsis_of(const char *page, struct texts *out)
{
	struct pfi_buf text;
	const char *p, *line;
	size_t n;

	pfi_buf_init(&text, 0);
	synopsis_render(page, &text);
	cr_assert_eq(pfi_buf_appends(&text, ""), PFI_OK);
	p = text.data;
	while (*p != '\0') {
		n = next_line(&p, &line);
		cr_assert_lt(out->n, 16);
		normalise(out->v[out->n++], TEXT_LEN, line, n);
	}
	pfi_buf_release(&text);
}

/* ---- the documents ---------------------------------------------------- */

/* The man page that documents `cmd` ("help" lives in pfi.1). */
static void man_page_of(const char *cmd, char *dst, size_t size)
{
	if (cmd == NULL || strcmp(cmd, "help") == 0)
		snprintf(dst, size, "man/pfi.1");
	else
		snprintf(dst, size, "man/pfi-%.*s.1", NAME_LEN, cmd);
}

/*
 * Whether an mdoc page describes long option `opt` ("--x"): an item of a
 * list (".It") marks it up as "Fl -x".  The SYNOPSIS alone is not enough.
 */
static int man_has_option(const char *page, const char *opt)
{
	char word[NAME_LEN + 4];
	const char *p = page, *line;
	size_t n;

	snprintf(word, sizeof(word), "Fl %.*s", NAME_LEN, opt + 1);
	while (*p != '\0') {
		n = next_line(&p, &line);
		if (n > 4 && strncmp(line, ".It ", 4) == 0 &&
		    has_word_n(line, n, word))
			return 1;
	}
	return 0;
}

/*
 * What the completion of `shell` offers for the command line `line` (the
 * last word being completed), as the shell itself runs the script in
 * SRCDIR: bash calls _pfi with COMP_LINE set, fish `complete -C`, zsh
 * sources _pfi with words/CURRENT set and compadd stubbed to print.  pfi
 * is found on PATH, as the scripts find it, in PFI_BIN's directory.
 */
static char *completion_of(const char *shell, const char *line)
{
	static const char bash[] =
		"source \"$1\" && COMP_LINE=$2 && COMP_POINT=${#2} && _pfi &&"
		" printf '%s\\n' \"${COMPREPLY[@]}\"";
	static const char fish[] =
		"source $argv[1]; and complete -C $argv[2]";
	static const char zsh[] =
		"compadd() { while [[ $1 != -- ]]; do shift; done; shift;"
		" print -rl -- \"$@\"; }; _files() { print -r -- :files; };"
		" words=(${=2}); [[ $2 == *' ' ]] && words+=(''); "
		" CURRENT=${#words}; source $1";
	char script[4096], path[8192], *out;
	const char *file, *code;
	int fds[2], status;
	pid_t pid;

	if (strcmp(shell, "bash") == 0)
		file = "completions/pfi", code = bash;
	else if (strcmp(shell, "fish") == 0)
		file = "completions/pfi.fish", code = fish;
	else
		file = "completions/_pfi", code = zsh;
	snprintf(script, sizeof(script), "%s/%s", SRCDIR, file);
	snprintf(path, sizeof(path), "%.*s:%s",
	         (int)(strrchr(PFI_BIN, '/') - PFI_BIN), PFI_BIN,
	         getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		setenv("PATH", path, 1);
		setenv("PFI_DB", "/nonexistent/pfi-docs.db", 1);
		if (strcmp(shell, "bash") == 0)
			execlp("bash", "bash", "--norc", "--noprofile", "-c", code, "_",
			       script, line, (char *)NULL);
		else if (strcmp(shell, "fish") == 0)
			execlp("fish", "fish", "--no-config", "-c", code, script, line,
			       (char *)NULL);
		else
			execlp("zsh", "zsh", "-f", "-c", code, "_", script, line,
			       (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	out = read_all(fds[0]);
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 127,
	          "cannot run %s (install it: it is in .ci/run's DEPS)", shell);
	return out;
}

static const char *const shells[] = { "bash", "zsh", "fish" };

/* Whether `word` is a whole line of text (fish adds "\tdescription"). */
static int has_line_word(const char *text, const char *word)
{
	size_t n = strlen(word);
	const char *p = text;

	while ((p = strstr(p, word)) != NULL) {
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\t' || p[n] == '\0'))
			return 1;
		p++;
	}
	return 0;
}

/* Checks that every shell offers each of `want` after `line`. */
static void check_shells_offer(const char *line, const struct names *want)
{
	for (size_t s = 0; s < PFI_ARRAY_SIZE(shells); s++) {
		char *out = completion_of(shells[s], line);

		for (int i = 0; i < want->n; i++)
			cr_expect(has_line_word(out, want->v[i]),
			          "%s does not complete '%s' after '%s'; it offers:\n%s",
			          shells[s], want->v[i], line, out);
		free(out);
	}
}

/* ---- the tests -------------------------------------------------------- */

TestSuite(docs, .timeout = 60);   /* the completion tests start shells */

/* The commands and global options, from `pfi --help`. */
static void global_help(struct names *cmds, struct names *opts)
{
	char *help = help_of(NULL);

	commands_of(help, cmds);
	long_options_of(help, opts);
	free(help);
	cr_assert_gt(cmds->n, 0, "'pfi --help' lists no command");
	cr_assert_gt(opts->n, 0, "'pfi --help' shows no option");
}

Test(docs, pfi_help_lists_the_commands_of_this_release)
{
	static const char *const want[] = { "index", "trace", "info", "help" };
	struct names cmds = { 0 }, opts = { 0 };

	global_help(&cmds, &opts);
	for (size_t i = 0; i < PFI_ARRAY_SIZE(want); i++)
		cr_expect(names_has(&cmds, want[i]),
		          "'pfi --help' does not list '%s'", want[i]);
	cr_expect(names_has(&opts, "--db") && names_has(&opts, "--format"),
	          "'pfi --help' does not show --db and --format");
}

Test(docs, every_command_has_a_man_page_and_an_entry_in_pfi_1)
{
	struct names cmds = { 0 }, opts = { 0 };
	char rel[256], entry[NAME_LEN + 16];
	char *pfi1 = slurp("man/pfi.1");

	global_help(&cmds, &opts);
	for (int i = 0; i < cmds.n; i++) {
		man_page_of(cmds.v[i], rel, sizeof(rel));
		cr_expect(exists(rel), "'%s' has no man page %s", cmds.v[i], rel);
		snprintf(entry, sizeof(entry), "\n.It Cm %.*s", NAME_LEN,
		         cmds.v[i]);
		cr_expect(strstr(pfi1, entry) != NULL &&
		          !is_word_char(strstr(pfi1, entry)[strlen(entry)]),
		          "man/pfi.1's command list lacks '%s'", cmds.v[i]);
	}
	free(pfi1);
}

Test(docs, every_command_is_completed_by_all_three_shells)
{
	struct names cmds = { 0 }, opts = { 0 };

	global_help(&cmds, &opts);
	check_shells_offer("pfi ", &cmds);
}

Test(docs, every_global_option_is_in_pfi_1_and_completed_by_all_three_shells)
{
	struct names cmds = { 0 }, opts = { 0 };
	char *pfi1 = slurp("man/pfi.1");

	global_help(&cmds, &opts);
	for (int i = 0; i < opts.n; i++)
		cr_expect(man_has_option(pfi1, opts.v[i]),
		          "man/pfi.1 does not document %s", opts.v[i]);
	check_shells_offer("pfi --", &opts);
	free(pfi1);
}

/* Checks the long options of one command against its page and pfi.1. */
static void check_man_options(const char *cmd, const struct names *global,
                              const char *pfi1)
{
	struct names opts = { 0 };
	char rel[256], *help = help_of(cmd), *page;

	long_options_of(help, &opts);
	free(help);
	cr_expect(names_has(&opts, "--help"), "'pfi %s --help' shows no --help",
	          cmd);
	man_page_of(cmd, rel, sizeof(rel));
	page = slurp(rel);
	for (int i = 0; i < opts.n; i++)
		cr_expect(man_has_option(page, opts.v[i]) ||
		          (names_has(global, opts.v[i]) &&
		           man_has_option(pfi1, opts.v[i])),
		          "%s does not document %s of 'pfi %s'", rel, opts.v[i], cmd);
	free(page);
}

Test(docs, every_long_option_of_each_command_is_in_its_man_page)
{
	struct names cmds = { 0 }, global = { 0 };
	char *pfi1 = slurp("man/pfi.1");

	global_help(&cmds, &global);
	for (int i = 0; i < cmds.n; i++)
		if (strcmp(cmds.v[i], "help") != 0)
			check_man_options(cmds.v[i], &global, pfi1);
	free(pfi1);
}

/* Checks that the shells complete every long option of one command. */
static void check_completion_options(const char *cmd)
{
	struct names opts = { 0 };
	char *help = help_of(cmd), line[NAME_LEN + 16];

	long_options_of(help, &opts);
	free(help);
	cr_expect_gt(opts.n, 0, "'pfi %s --help' shows no option", cmd);
	snprintf(line, sizeof(line), "pfi %.*s --", NAME_LEN, cmd);
	check_shells_offer(line, &opts);
}

Test(docs, every_long_option_of_each_command_is_completed_by_all_three_shells)
{
	struct names cmds = { 0 }, global = { 0 };

	global_help(&cmds, &global);
	for (int i = 0; i < cmds.n; i++)
		if (strcmp(cmds.v[i], "help") != 0)
			check_completion_options(cmds.v[i]);
}

Test(docs, the_shells_complete_values_and_files_as_pfi_says)
{
	static const struct { const char *line, *want; } cases[] = {
		{ "pfi search --status sent,bo", "sent,bounced" },
		{ "pfi stats --by sender-", "sender-domain" },
		{ "pfi --format nd", "ndjson" },
		{ "pfi help sea", "search" },
	};

	for (size_t c = 0; c < PFI_ARRAY_SIZE(cases); c++)
		for (size_t s = 0; s < PFI_ARRAY_SIZE(shells); s++) {
			char *out = completion_of(shells[s], cases[c].line);

			cr_expect(has_line_word(out, cases[c].want),
			          "%s: '%s' does not complete to '%s':\n%s", shells[s],
			          cases[c].line, cases[c].want, out);
			free(out);
		}
}

Test(docs, the_shells_complete_paths_for_index)
{
	char line[4096];

	snprintf(line, sizeof(line), "pfi index %s/testdata/logs/sampl",
	         SRCDIR);
	for (size_t s = 0; s < PFI_ARRAY_SIZE(shells); s++) {
		char *out = completion_of(shells[s], line);

		/* zsh's _files is stubbed: it must at least be asked */
		cr_expect(strstr(out, "sample.log") != NULL ||
		          (strcmp(shells[s], "zsh") == 0 &&
		           has_line_word(out, ":files")),
		          "%s does not complete paths after 'pfi index':\n%s",
		          shells[s], out);
		free(out);
	}
}

/* Checks that each usage string of `cmd` is a SYNOPSIS block of its page. */
static void check_synopsis(const char *cmd)
{
	struct texts usages = { 0 }, blocks = { 0 };
	char rel[256], *help = help_of(cmd), *page;
	int found;

	usages_of(help, &usages);
	cr_expect_gt(usages.n, 0, "'pfi %s --help' prints no \"usage:\" line:\n%s",
	             cmd ? cmd : "", help);
	free(help);
	man_page_of(cmd, rel, sizeof(rel));
	page = slurp(rel);
	synopsis_of(page, &blocks);
	free(page);
	for (int u = 0; u < usages.n; u++) {
		found = 0;
		for (int b = 0; b < blocks.n; b++)
			found |= strcmp(usages.v[u], blocks.v[b]) == 0;
		cr_expect(found, "the SYNOPSIS of %s does not read \"%s\"\n"
		          "(its first block reads \"%s\")", rel, usages.v[u],
		          blocks.n > 0 ? blocks.v[0] : "");
	}
}

Test(docs, each_man_page_synopsis_equals_the_usage_string)
{
	struct names cmds = { 0 }, global = { 0 };

	global_help(&cmds, &global);
	check_synopsis(NULL);
	for (int i = 0; i < cmds.n; i++)
		if (strcmp(cmds.v[i], "help") != 0)
			check_synopsis(cmds.v[i]);
}

/* Whether `text` has a line that reads `want` once trimmed. */
static int has_line(const char *text, const char *want)
{
	const char *p = text, *line;
	size_t n;

	while (*p != '\0') {
		n = next_line(&p, &line);
		while (n > 0 && (*line == ' ' || *line == '\t'))
			line++, n--;
		if (n == strlen(want) && memcmp(line, want, n) == 0)
			return 1;
	}
	return 0;
}

/*
 * README's test commands (lines with --enable-werror and check: the quick
 * start one, and the sanitizer build) are lines of .ci/run, word for word.
 */
Test(docs, readme_test_commands_are_the_ones_ci_runs)
{
	char *readme = slurp("README"), *ci = slurp(".ci/run");
	char cmd[TEXT_LEN];
	const char *p = readme, *line;
	size_t n;
	int plain = 0, sanitized = 0;

	while (*p != '\0') {
		n = next_line(&p, &line);
		while (n > 0 && (*line == ' ' || *line == '\t'))
			line++, n--;
		if (!has_word_n(line, n, "--enable-werror") ||
		    !has_word_n(line, n, "check"))
			continue;
		cr_assert_lt(n, sizeof(cmd));
		memcpy(cmd, line, n);
		cmd[n] = '\0';
		if (has_word(cmd, "--enable-asan"))
			sanitized++;
		else
			plain++;
		cr_expect(has_line(ci, cmd), ".ci/run does not run README's "
		          "command:\n%s", cmd);
	}
	cr_expect_eq(plain, 1, "README should have one test command, it has %d",
	             plain);
	cr_expect_eq(sanitized, 1, "README should have one sanitizer build "
	             "command, it has %d", sanitized);
	free(readme);
	free(ci);
}

/* ---- the parsers that the tests above rely on ------------------------- */

struct mdoc_case {
	char line[128];   /* one SYNOPSIS line */
	char want[128];   /* its rendering */
};

ParameterizedTestParameters(docs, mdoc_lines_render_like_groff)
{
	static struct mdoc_case cases[] = {
		{ ".Nm", "pfi" },
		{ ".Nm pfi index", "pfi index" },
		{ ".Op Fl -db Ar PATH", "[--db PATH]" },
		{ ".Op Fl q", "[-q]" },
		{ ".Op Fl -format Ar table|json", "[--format table|json]" },
		{ ".Oo Ar PATH|- Oc Ns ...", "[PATH|-]..." },
		{ ".Ar ID...", "ID..." },
		{ ".Op Fl a Op Ar b", "[-a [b]]" },
		{ ".Fl", "-" },
		{ ".Cm help", "help" },
		{ ".Ar \"two words\"", "two words" },
		{ ".Op Fl \\-x", "[--x]" },
	};

	return cr_make_param_array(struct mdoc_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct mdoc_case *c, docs, mdoc_lines_render_like_groff)
{
	struct mdoc_render r = { NULL, "pfi", 0, 0, 0 };
	struct pfi_buf out;

	pfi_buf_init(&out, 0);
	r.out = &out;
	mdoc_line(&r, c->line);
	cr_assert_eq(pfi_buf_appends(&out, ""), PFI_OK);
	cr_assert_str_eq(out.data, c->want, "'%s'", c->line);
	pfi_buf_release(&out);
}

struct help_case {
	char help[160];     /* a --help text */
	char options[96];   /* the long options found, space-separated */
	char usage[96];     /* the first usage string found */
};

ParameterizedTestParameters(docs, help_texts_yield_their_options_and_usage)
{
	static struct help_case cases[] = {
		{ "usage: pfi index [--quiet] [PATH|-]...\n\n"
		  "  -q, --quiet  print nothing\n  -h, --help   this\n",
		  "--quiet --help", "pfi index [--quiet] [PATH|-]..." },
		{ "Usage: pfi [--db PATH]\n       [--utc] COMMAND\nOptions:\n"
		  "  --db=PATH  index\n",
		  "--db --utc", "pfi [--db PATH] [--utc] COMMAND" },
		{ "usage: pfi trace [--raw] ID...\n  --raw   raw lines, not -- or a--b\n",
		  "--raw", "pfi trace [--raw] ID..." },
	};

	return cr_make_param_array(struct help_case, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct help_case *c, docs,
                  help_texts_yield_their_options_and_usage)
{
	struct names opts = { 0 };
	struct texts usages = { 0 };
	char joined[256] = "";
	size_t o = 0;

	long_options_of(c->help, &opts);
	for (int i = 0; i < opts.n; i++)
		o += (size_t)snprintf(joined + o, sizeof(joined) - o, "%s%s",
		                      i ? " " : "", opts.v[i]);
	cr_assert_str_eq(joined, c->options);
	usages_of(c->help, &usages);
	cr_assert_geq(usages.n, 1);
	cr_assert_str_eq(usages.v[0], c->usage);
}

Test(docs, a_long_option_is_found_only_as_a_whole_word)
{
	const char *page = ".Op Fl -raw\n.It Fl -quietly\n.It Fl r , Fl -raw\n";
	const char *offered = "--quieter\n--raw\tprint only the raw lines\n";

	cr_assert_eq(man_has_option(page, "--quiet"), 0);
	cr_assert_eq(man_has_option(page, "--raw"), 1);
	cr_assert_eq(man_has_option(".Op Fl -raw\n", "--raw"), 0);
	cr_assert_eq(has_line_word(offered, "--quiet"), 0);
	cr_assert_eq(has_line_word(offered, "--quieter"), 1);
	cr_assert_eq(has_line_word(offered, "--raw"), 1);
	cr_assert_eq(has_line_word(offered, "--ra"), 0);
}
