/*
 * opt.c - the option specs of the commands and what is made from them:
 * the parser (exact long names, bundled short options, values after '='
 * or in the next word, operands anywhere, "--" ending options), the usage
 * line and the 80-column --help text, and the closest name for a typo.
 * Modelled on libgit2's src/cli/opt.c: a command declares its options
 * once, in a `struct cli_opt` table, and nothing else lists them.
 */
#include <stdlib.h>
#include <string.h>

#include "pfi.h"

#define HELP_WIDTH 80
#define HELP_COLUMN 26   /* where option help starts, at most */

/* -h, --help: every command has it; the parser answers it. */
static const struct cli_opt help_opt = {
	"help", 'h', CLI_ARG_NONE, NULL, 'h', 0, NULL,
	"show this help and exit", NULL
};

/* ---- lookup ------------------------------------------------------------- */

/* Levenshtein distance of a and b (names are short: capped at 32). */
size_t cli_distance(const char *a, const char *b)
{
	size_t row[33], i, j, diag, up, la = strlen(a), lb = strlen(b);

	if (la > 32 || lb > 32)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* The option of `opts` (or --help) named by the n bytes at name. */
static const struct cli_opt *opt_long(const struct cli_opt *opts,
                                      const char *name, size_t n)
{
	const struct cli_opt *o;

	for (o = opts; o != NULL && o->name != NULL; o++)
		if (strlen(o->name) == n && strncmp(o->name, name, n) == 0)
			return o;
	if (strlen(help_opt.name) == n && strncmp(help_opt.name, name, n) == 0)
		return &help_opt;
	return NULL;
}

static const struct cli_opt *opt_short(const struct cli_opt *opts, char c)
{
	const struct cli_opt *o;

	for (o = opts; o != NULL && o->name != NULL; o++)
		if (o->short_name == c)
			return o;
	return c == help_opt.short_name ? &help_opt : NULL;
}

const struct cli_opt *cli_opt_closest(const struct cli_opt *opts,
                                      const char *name)
{
	const struct cli_opt *o, *best = NULL;
	size_t d, bestd, n = strlen(name);

	/* a prefix is the likeliest intent; else up to a third mistyped */
	for (o = opts; o != NULL && o->name != NULL; o++)
		if (n >= 2 && strncmp(o->name, name, n) == 0)
			return o;
	bestd = n / 3 + 1 < 3 ? n / 3 + 1 : 3;
	for (o = opts; o != NULL && o->name != NULL; o++) {
		if (o->flags & CLI_OPT_HIDDEN)
			continue;
		d = cli_distance(name, o->name);
		if (d < bestd) {
			bestd = d;
			best = o;
		}
	}
	return best;
}

const struct pfi_cmd *cli_cmd_closest(const char *name, unsigned skip)
{
	const struct pfi_cmd *const *c, *best = NULL;
	size_t d, bestd = 3;

	for (c = pfi_cmds; *c != NULL; c++) {
		if ((*c)->flags & skip)
			continue;
		d = cli_distance(name, (*c)->name);
		if (d < bestd) {
			bestd = d;
			best = *c;
		}
	}
	return best;
}

/* ---- parsing ------------------------------------------------------------ */

void cli_parse_init(struct cli_parse *p, const struct pfi_cmd *cmd,
                    int argc, char **argv)
{
	memset(p, 0, sizeof(*p));
	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
	p->i = 1;
	p->nargs = 0;
	p->args = xcalloc((size_t)argc + 1, sizeof(*p->args));
}

void cli_parse_release(struct cli_parse *p)
{
	free(p->args);
	p->args = NULL;
}

/* Stops the parse with exit code rc (a usage error already reported). */
static int parse_fail(struct cli_parse *p, int rc)
{
	p->rc = rc;
	return -1;
}

/* How far `name` is from option o: 0 for a prefix, else the distance. */
static size_t opt_far(const struct cli_opt *o, const char *name)
{
	size_t n = strlen(name);

	if (n >= 2 && strncmp(o->name, name, n) == 0)
		return 0;
	return cli_distance(name, o->name);
}

/*
 * The option closest to `name` among the command's and the global ones
 * that may follow a command (pfi search --formt json means --format);
 * on a tie, the command's own.
 */
static const struct cli_opt *parse_closest(const struct pfi_cmd *cmd,
                                           const char *name)
{
	const struct cli_opt *o = cli_opt_closest(cmd->opts, name);
	const struct cli_opt *g = cli_opt_closest(pfi_global_opts, name);

	/* --version and --help stand only before a command (--help is
	 * every command's own, and found above) */
	if (g != NULL && (strcmp(g->name, "version") == 0 ||
	                  strcmp(g->name, "help") == 0))
		g = NULL;
	if (o == NULL || (g != NULL && opt_far(g, name) < opt_far(o, name)))
		return g;
	return o;
}

/* The unknown long option a (n bytes), with the closest known one. */
static int parse_unknown_long(struct cli_parse *p, const char *a, size_t n)
{
	char name[64];
	const struct cli_opt *o;

	snprintf(name, sizeof(name), "%.*s", (int)(n - 2), a + 2);
	o = parse_closest(p->cmd, name);
	if (o == NULL)
		return parse_fail(p, cli_usage_error(p->cmd->name,
		                  "unknown option '%.*s'", (int)n, a));
	return parse_fail(p, cli_usage_error(p->cmd->name, "unknown option"
	                  " '%.*s' (did you mean '--%s'?)", (int)n, a, o->name));
}

/* Returns the id of option o with value v, or answers --help. */
static int parse_found(struct cli_parse *p, const struct cli_opt *o,
                       const char *v)
{
	if (o == &help_opt) {
		p->rc = cli_help(p->cmd);
		return -1;
	}
	p->opt = o;
	p->value = v;
	return o->id;
}

/* "--name", "--name=value" or "--name value". */
static int parse_long(struct cli_parse *p, const char *a)
{
	size_t n = strcspn(a, "=");
	const struct cli_opt *o = opt_long(p->cmd->opts, a + 2, n - 2);

	if (o == NULL)
		return parse_unknown_long(p, a, n);
	if (o->arg == CLI_ARG_NONE && a[n] == '=')
		return parse_fail(p, cli_usage_error(p->cmd->name,
		                  "option '%.*s' takes no value", (int)n, a));
	if (o->arg == CLI_ARG_NONE || (o->flags & CLI_OPT_OPTIONAL_VALUE))
		return parse_found(p, o, a[n] == '=' ? a + n + 1 : NULL);
	if (a[n] == '=')
		return parse_found(p, o, a + n + 1);
	if (p->i >= p->argc)
		return parse_fail(p, cli_usage_error(p->cmd->name,
		                  "option '%.*s' needs a value", (int)n, a));
	return parse_found(p, o, p->argv[p->i++]);
}

/* The next option of a bundle "-abc", "-ovalue" or "-o value". */
static int parse_short(struct cli_parse *p)
{
	const char *a = p->bundle;
	const struct cli_opt *o = opt_short(p->cmd->opts, *a);
	char c = *a;

	p->bundle = a[1] != '\0' ? a + 1 : NULL;
	if (o == NULL)
		return parse_fail(p, cli_usage_error(p->cmd->name,
		                  "unknown option '-%c'", c));
	if (o->arg == CLI_ARG_NONE || (o->flags & CLI_OPT_OPTIONAL_VALUE))
		return parse_found(p, o, NULL);
	if (p->bundle != NULL) {
		a = p->bundle;
		p->bundle = NULL;
		return parse_found(p, o, a);
	}
	if (p->i >= p->argc)
		return parse_fail(p, cli_usage_error(p->cmd->name,
		                  "option '-%c' needs a value", c));
	return parse_found(p, o, p->argv[p->i++]);
}

int cli_parse_next(struct cli_parse *p)
{
	const char *a;

	if (p->bundle != NULL)
		return parse_short(p);
	while (p->i < p->argc) {
		a = p->argv[p->i++];
		if (p->ended || a[0] != '-' || a[1] == '\0') {
			p->args[p->nargs++] = (char *)a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			p->ended = 1;
			continue;
		}
		if (a[1] == '-')
			return parse_long(p, a);
		p->bundle = a + 1;
		return parse_short(p);
	}
	p->args[p->nargs] = NULL;
	return 0;
}

const char *cli_parse_peek(const struct cli_parse *p)
{
	if (p->bundle != NULL || p->i >= p->argc || p->ended)
		return NULL;
	return p->argv[p->i];
}

void cli_parse_skip(struct cli_parse *p)
{
	if (p->i < p->argc)
		p->i++;
}

int cli_parse_operands(struct cli_parse *p, int max)
{
	if (max >= 0 && p->nargs > max) {
		cli_usage_error(p->cmd->name, "unexpected argument '%s'",
		                p->args[max]);
		return PFI_EXIT_USAGE;
	}
	return -1;
}

/* ---- usage and help ----------------------------------------------------- */

/* Appends word w to the usage in b, wrapping at HELP_WIDTH. */
static void usage_word(struct cli_text *t, const char *w)
{
	size_t n = strlen(w);

	if (t->col > t->indent && t->col + 1 + n > HELP_WIDTH) {
		fprintf(t->fp, "\n%*s", (int)t->indent, "");
		t->col = t->indent;
	} else if (t->col > 0) {
		fputc(' ', t->fp);
		t->col++;
	}
	fputs(w, t->fp);
	t->col += n;
}

/* An option's value as the usage shows it: "ADDR", or "a|b|c". */
static void opt_value(char *buf, size_t size, const struct cli_opt *o)
{
	const char *const *c;
	size_t n = 0;

	buf[0] = '\0';
	if (!(o->flags & CLI_OPT_SHOW_CHOICES) || o->choices == NULL) {
		snprintf(buf, size, "%s", o->value_name ? o->value_name : "VALUE");
		return;
	}
	for (c = o->choices; *c != NULL && n < size; c++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s",
		                      c == o->choices ? "" : "|", *c);
}

/* "[--name VALUE]" and its kin for option o. */
static void opt_usage(char *buf, size_t size, const struct cli_opt *o)
{
	char v[128];
	int req = (o->flags & CLI_OPT_REQUIRED) != 0;

	if (o->usage != NULL) {
		snprintf(buf, size, "%s", o->usage);
		return;
	}
	opt_value(v, sizeof(v), o);
	if (o->arg == CLI_ARG_NONE)
		snprintf(buf, size, "[--%s]", o->name);
	else if (o->flags & CLI_OPT_OPTIONAL_VALUE)
		snprintf(buf, size, "[--%s[=%s]]", o->name, v);
	else
		snprintf(buf, size, "%s--%s %s%s", req ? "" : "[", o->name, v,
		         req ? "" : "]");
}

void cli_usage_print(FILE *fp, const char *prefix, const char *name,
                     const struct cli_opt *opts, const char *operands)
{
	struct cli_text t = { fp, 0, 0 };
	const struct cli_opt *o;
	char w[256];

	fprintf(fp, "%spfi%s%s", prefix, name ? " " : "", name ? name : "");
	t.col = strlen(prefix) + 3 + (name ? strlen(name) + 1 : 0);
	t.indent = t.col + 1;
	for (o = opts; o != NULL && o->name != NULL; o++) {
		if (o->flags & (CLI_OPT_HIDDEN | CLI_OPT_NO_USAGE))
			continue;
		opt_usage(w, sizeof(w), o);
		usage_word(&t, w);
	}
	if (operands != NULL)
		usage_word(&t, operands);
	fputc('\n', fp);
}

/* "  -x, --name VALUE" for the help's option list. */
static size_t opt_left(char *buf, size_t size, const struct cli_opt *o)
{
	char v[128];
	int n;

	opt_value(v, sizeof(v), o);
	if (o->flags & CLI_OPT_SHOW_CHOICES)
		snprintf(v, sizeof(v), "%s", o->value_name ? o->value_name : "VALUE");
	if (o->arg == CLI_ARG_NONE)
		v[0] = '\0';
	n = snprintf(buf, size, "  %c%c%c --%s%s%s%s",
	             o->short_name ? '-' : ' ', o->short_name ? o->short_name : ' ',
	             o->short_name ? ',' : ' ', o->name,
	             o->arg == CLI_ARG_NONE ? "" :
	             (o->flags & CLI_OPT_OPTIONAL_VALUE) ? "[=" : " ", v,
	             o->arg != CLI_ARG_NONE &&
	             (o->flags & CLI_OPT_OPTIONAL_VALUE) ? "]" : "");
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

/* Writes text from column col (the cursor is there), wrapped at
 * HELP_WIDTH with following lines indented to col; '\n' breaks too. */
void cli_wrap(FILE *fp, const char *text, size_t col)
{
	size_t at = col, n;
	const char *p = text;

	while (*p != '\0') {
		if (*p == '\n') {
			fprintf(fp, "\n%*s", (int)col, "");
			at = col;
			p++;
			continue;
		}
		if (*p == ' ') {
			p++;
			n = strcspn(p, " \n");
			if (at + 1 + n > HELP_WIDTH && at > col) {
				fprintf(fp, "\n%*s", (int)col, "");
				at = col;
				continue;
			}
			fputc(' ', fp);
			at++;
			continue;
		}
		n = strcspn(p, " \n");
		fwrite(p, 1, n, fp);
		at += n;
		p += n;
	}
	fputc('\n', fp);
}

/* The column where option help starts: after the longest left part that
 * fits, so that one long option does not push the others right. */
static size_t help_column(const struct cli_opt *opts)
{
	const struct cli_opt *o;
	char buf[128];
	size_t n, col = opt_left(buf, sizeof(buf), &help_opt) + 2;

	for (o = opts; o != NULL && o->name != NULL; o++) {
		n = opt_left(buf, sizeof(buf), o) + 2;
		if (!(o->flags & CLI_OPT_HIDDEN) && n > col && n <= HELP_COLUMN)
			col = n;
	}
	return col;
}

static void help_option(FILE *fp, const struct cli_opt *o, size_t col)
{
	char buf[128];
	size_t n = opt_left(buf, sizeof(buf), o);

	fputs(buf, fp);
	if (n + 2 > col)
		fprintf(fp, "\n%*s", (int)col, "");
	else
		fprintf(fp, "%*s", (int)(col - n), "");
	cli_wrap(fp, o->help, col);
}

void cli_options_print(FILE *fp, const struct cli_opt *opts, int with_help)
{
	const struct cli_opt *o;
	size_t col = help_column(opts);

	for (o = opts; o != NULL && o->name != NULL; o++)
		if (!(o->flags & CLI_OPT_HIDDEN))
			help_option(fp, o, col);
	if (with_help)
		help_option(fp, &help_opt, col);
}

int cli_help(const struct pfi_cmd *cmd)
{
	cli_usage_print(stdout, "usage: ", cmd->name, cmd->opts, cmd->operands);
	if (cmd->description != NULL)
		printf("\n%s\n", cmd->description);
	putchar('\n');
	cli_options_print(stdout, cmd->opts, 1);
	return PFI_EXIT_OK;
}
