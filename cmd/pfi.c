/*
 * pfi.c - the pfi command table and pfi_main(): the global options' spec
 * (they may stand before or after the command name), exact-name dispatch
 * with a closest-match hint, `pfi help`, plain `pfi` on a terminal opening
 * pfi repl, and the final check that stdout was written (a closed pipe
 * stays quiet).  pfi repl dispatches each line through the same calls.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pfi.h"

enum {
	GLOBAL_DB = 1, GLOBAL_FORMAT, GLOBAL_JSON, GLOBAL_COLOR, GLOBAL_UTC,
	GLOBAL_CSV_RAW, GLOBAL_NO_PAGER, GLOBAL_VERSION, GLOBAL_HELP
};

const struct cli_opt pfi_global_opts[] = {
	{ "db", 0, CLI_ARG_FILE, "PATH", GLOBAL_DB, 0, NULL,
	  "the index (default $PFI_DB, else $XDG_DATA_HOME/pfi/index.db or "
	  "~/.local/share/pfi/index.db)", NULL },
	{ "format", 0, CLI_ARG_CHOICE, "FORMAT", GLOBAL_FORMAT,
	  CLI_OPT_SHOW_CHOICES, cli_formats,
	  "table, json, ndjson, csv or tsv (default table); every format "
	  "escapes control characters (\\t, \\x1b), and a csv/tsv text cell "
	  "that begins with = + - @ tab or CR gets a leading ' so that a "
	  "spreadsheet does not run it as a formula", NULL },
	{ "json", 0, CLI_ARG_NONE, NULL, GLOBAL_JSON, 0, NULL,
	  "the same as --format json", NULL },
	{ "color", 0, CLI_ARG_CHOICE, "WHEN", GLOBAL_COLOR, CLI_OPT_SHOW_CHOICES,
	  cli_colors, "auto, always or never (default auto)", NULL },
	{ "utc", 0, CLI_ARG_NONE, NULL, GLOBAL_UTC, 0, NULL,
	  "times in UTC instead of local time, shown and read", NULL },
	{ "csv-raw", 0, CLI_ARG_NONE, NULL, GLOBAL_CSV_RAW, 0, NULL,
	  "csv/tsv: no leading ' on such cells", NULL },
	{ "no-pager", 0, CLI_ARG_NONE, NULL, GLOBAL_NO_PAGER, 0, NULL,
	  "do not send long answers on a terminal through $PFI_PAGER, $PAGER "
	  "or less -FRSX", NULL },
	{ "version", 0, CLI_ARG_NONE, NULL, GLOBAL_VERSION, 0, NULL,
	  "print the version and exit", NULL },
	{ "help", 'h', CLI_ARG_NONE, NULL, GLOBAL_HELP, 0, NULL,
	  "show this help and exit", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

static int cmd_help(struct pfi_globals *g, int argc, char **argv);

static const struct pfi_cmd cmd_help_entry = {
	"help", "show help for pfi or one of its commands",
	"Show the commands and global options of pfi, or with COMMAND the\n"
	"same help as 'pfi COMMAND --help'.",
	NULL, "[COMMAND]", CLI_ARG_COMMAND, 0, cmd_help
};

const struct pfi_cmd *const pfi_cmds[] = {
	&cmd_index_entry, &cmd_trace_entry, &cmd_search_entry, &cmd_info_entry,
	&cmd_stats_entry, &cmd_prune_entry, &cmd_metrics_entry, &cmd_repl_entry,
	&cmd_help_entry, &cmd_sql_entry, &cmd_raw_entry, &cmd_set_entry,
	&cmd_unset_entry, &cmd_show_entry, &cmd_quit_entry, &cmd_complete_entry,
	NULL
};

/* ---- help and lookup ---------------------------------------------------- */

static int main_help(FILE *fp)
{
	const struct pfi_cmd *const *c;

	cli_usage_print(fp, "usage: ", NULL, pfi_global_opts, "COMMAND [ARGS]");
	fputs("\nCommands:\n", fp);
	for (c = pfi_cmds; *c != NULL; c++)
		if (!((*c)->flags & (CMD_HIDDEN | CMD_REPL_ONLY)))
			fprintf(fp, "  %-8s %s\n", (*c)->name, (*c)->summary);
	fputs("\nGlobal options (before or after the command):\n", fp);
	cli_options_print(fp, pfi_global_opts, 0);
	fputs("\nRun 'pfi help COMMAND' for the options of a command, and"
	      " 'pfi repl'\nfor an interactive shell over the index.\n", fp);
	return PFI_EXIT_OK;
}

const struct pfi_cmd *cli_cmd_find(const char *name, int repl)
{
	const struct pfi_cmd *const *c;

	for (c = pfi_cmds; *c != NULL; c++)
		if (strcmp((*c)->name, name) == 0)
			return !repl && ((*c)->flags & CMD_REPL_ONLY) ? NULL : *c;
	return NULL;
}

int cli_cmd_unknown(const char *name, int repl)
{
	const struct pfi_cmd *best;

	best = cli_cmd_closest(name, CMD_HIDDEN | (repl ? 0 : CMD_REPL_ONLY));
	/* pfi repl: one line, so that the prompt follows the error */
	if (repl && best != NULL)
		cli_warn("'%s' is not a command (did you mean '%s'?); see 'help'",
		         name, best->name);
	else if (repl)
		cli_warn("'%s' is not a command; see 'help'", name);
	else
		cli_warn("'%s' is not a pfi command. See 'pfi --help'.", name);
	if (!repl && best != NULL)
		fprintf(stderr, "\nThe most similar command is '%s'\n", best->name);
	return PFI_EXIT_USAGE;
}

/* `pfi help [COMMAND]`: the same as `pfi COMMAND --help`. */
static int cmd_help(struct pfi_globals *g, int argc, char **argv)
{
	const struct pfi_cmd *c;
	struct cli_parse p;
	char *args[3];
	int rc;

	cli_parse_init(&p, &cmd_help_entry, argc, argv);
	while ((rc = cli_parse_next(&p)) > 0)
		;
	if (rc == 0)
		rc = cli_parse_operands(&p, 1);
	if (rc >= 0 || p.nargs == 0) {
		cli_parse_release(&p);
		return rc < 0 ? (g->repl ? cli_repl_help(g) : main_help(stdout))
		              : p.rc;
	}
	c = cli_cmd_find(p.args[0], g->repl != NULL);
	if (c == NULL) {
		rc = cli_cmd_unknown(p.args[0], g->repl != NULL);
		cli_parse_release(&p);
		return rc;
	}
	cli_parse_release(&p);
	args[0] = (char *)c->name;
	args[1] = "--help";
	args[2] = NULL;
	g->cmd = c;
	return c->fn(g, 2, args);
}

/* ---- global options ----------------------------------------------------- */

/* The global option that argv[i] is, by its exact long name, or NULL. */
static const struct cli_opt *main_global_opt(const char *a)
{
	const struct cli_opt *o;
	size_t n;

	if (a[0] != '-' || a[1] != '-')
		return NULL;
	n = strcspn(a + 2, "=");
	for (o = pfi_global_opts; o->name != NULL; o++)
		if (strlen(o->name) == n && strncmp(o->name, a + 2, n) == 0)
			return o;
	return NULL;
}

/* Sets the global option o to v; 0, or a usage error's exit code. */
static int main_set(struct pfi_globals *g, const struct cli_opt *o,
                    const char *v)
{
	switch (o->id) {
	case GLOBAL_DB: g->db = v; break;
	case GLOBAL_JSON: g->format = PFI_FMT_JSON; break;
	case GLOBAL_UTC: g->utc = 1; break;
	case GLOBAL_CSV_RAW: g->csv_raw = 1; break;
	case GLOBAL_NO_PAGER: g->no_pager = 1; break;
	case GLOBAL_FORMAT:
		if (cli_parse_format(v, &g->format) != 0)
			return cli_usage_error(NULL, "unknown format '%s'", v);
		break;
	case GLOBAL_COLOR:
		if (cli_parse_color(v, &g->color) != 0)
			return cli_usage_error(NULL, "unknown colour mode '%s'", v);
		break;
	}
	return 0;
}

/*
 * Takes the global option at argv[*i] if it is one: 1 taken, 0 not a
 * global option (or one that only stands before the command), or an exit
 * code + 10 for a usage error.
 */
static int main_global(struct pfi_globals *g, int argc, char **argv, int *i)
{
	const struct cli_opt *o = main_global_opt(argv[*i]);
	const char *a = argv[*i], *eq, *v = NULL;
	int rc;

	if (o == NULL || o->id == GLOBAL_VERSION || o->id == GLOBAL_HELP)
		return 0;
	eq = strchr(a, '=');
	if (o->arg == CLI_ARG_NONE && eq != NULL)
		return 10 + cli_usage_error(NULL, "option '--%s' takes no value",
		                            o->name);
	if (o->arg != CLI_ARG_NONE) {
		if (eq != NULL)
			v = eq + 1;
		else if (*i + 1 < argc)
			v = argv[++*i];
		else
			return 10 + cli_usage_error(NULL, "option '%s' needs a value",
			                            a);
	}
	rc = main_set(g, o, v);
	return rc != 0 ? 10 + rc : 1;
}

/* Options that only stand before the command: -1 when argv[i] is none. */
static int main_early(const char *a)
{
	const struct cli_opt *o;

	if (strcmp(a, "--version") == 0) {
		printf("pfi %s\nsystemd journal: %s\n", pfi_version(),
		       pfi_journal_supported() ? "yes"
		                               : "no (built without libsystemd)");
		return PFI_EXIT_OK;
	}
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		return main_help(stdout);
	if (a[0] != '-' || a[1] == '\0')
		return -1;
	if (a[1] == '-' && (o = cli_opt_closest(pfi_global_opts, a + 2)) != NULL)
		return cli_usage_error(NULL, "unknown option '%s' (did you mean"
		                       " '--%s'?)", a, o->name);
	return cli_usage_error(NULL, "unknown option '%s'", a);
}

int cli_split_globals(struct pfi_globals *g, int argc, char **argv, int from,
                      char **args, int *n)
{
	int i, rc;

	*n = 0;
	for (i = from; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i += *n == 0;   /* before the command, it only ends options */
			while (i < argc)
				args[(*n)++] = argv[i++];
			break;
		}
		rc = main_global(g, argc, argv, &i);
		if (rc >= 10)
			return rc - 10;
		if (rc == 1)
			continue;
		if (*n == 0 && (rc = main_early(argv[i])) >= 0)
			return rc;
		args[(*n)++] = argv[i];
	}
	args[*n] = NULL;
	return -1;
}

/* ---- running ------------------------------------------------------------ */

int cli_dispatch(struct pfi_globals *g, int argc, char **argv, int repl)
{
	const struct pfi_cmd *c;
	int rc;

	if ((c = cli_cmd_find(argv[0], repl)) == NULL)
		return cli_cmd_unknown(argv[0], repl);
	g->cmd = c;
	cli_setup_output(g);
	cli_pager_start(g);
	rc = c->fn(g, argc, argv);
	cli_pager_end(g);
	return rc;
}

/* Plain `pfi` opens pfi repl on a terminal; elsewhere it is a usage error. */
static int main_no_command(struct pfi_globals *g)
{
	char *args[2] = { "repl", NULL };

	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return cli_dispatch(g, 1, args, 0);
	main_help(stderr);
	return PFI_EXIT_USAGE;
}

int cli_finish(int rc)
{
	int bad = fflush(stdout) != 0, e = errno;

	if (!bad && !ferror(stdout))
		return rc;
	if ((bad && e == EPIPE) || cli_stdout_closed())
		return rc;
	cli_warn("cannot write to standard output: %s",
	         bad ? strerror(e) : "write error");
	return PFI_EXIT_FAILURE;
}

int pfi_main(int argc, char **argv)
{
	struct pfi_globals g;
	char **args;
	int n = 0, rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&g, 0, sizeof(g));
	g.format = PFI_FMT_TABLE;
	g.color = PFI_COLOR_AUTO;
	args = xcalloc((size_t)argc + 1, sizeof(*args));
	/* the completions hand over a command line as it stands: raw words */
	if (argc > 1 && strcmp(argv[1], cmd_complete_entry.name) == 0)
		rc = cli_dispatch(&g, argc - 1, argv + 1, 0);
	else
		rc = cli_split_globals(&g, argc, argv, 1, args, &n);
	if (rc < 0)
		rc = n == 0 ? main_no_command(&g) : cli_dispatch(&g, n, args, 0);
	pfi_store_close(g.store);
	free(g.db_path);
	free(args);
	return cli_finish(rc);
}
