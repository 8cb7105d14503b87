/*
 * pfi.c - the pfi command table and pfi_main(): global options (which may
 * stand before or after the command name), exact-name dispatch with a
 * closest-match hint, `pfi help`, and the final check that stdout was
 * written (a closed pipe stays quiet).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "pfi.h"

static int cmd_help(struct pfi_globals *g, int argc, char **argv);

static const char cmd_help_usage[] = "pfi help [COMMAND]";

const struct pfi_cmd pfi_cmds[] = {
	{ "index", "read Postfix logs into the index", cmd_index_usage,
	  CMD_NEEDS_DB | CMD_WRITES_DB, cmd_index },
	{ "trace", "show the life of messages by queue ID or Message-ID",
	  cmd_trace_usage, CMD_NEEDS_DB, cmd_trace },
	{ "search", "list recipient deliveries that match filters",
	  cmd_search_usage, CMD_NEEDS_DB, cmd_search },
	{ "info", "show what the index holds", cmd_info_usage, CMD_NEEDS_DB,
	  cmd_info },
	{ "stats", "show delivery health: counts, rates, delays, rejects",
	  cmd_stats_usage, CMD_NEEDS_DB, cmd_stats },
	{ "prune", "remove what ended before a time and reclaim space",
	  cmd_prune_usage, CMD_NEEDS_DB | CMD_WRITES_DB, cmd_prune },
	{ "metrics", "print or serve Prometheus metrics from the index",
	  cmd_metrics_usage, CMD_NEEDS_DB, cmd_metrics },
	{ "help", "show help for pfi or one of its commands", cmd_help_usage,
	  0, cmd_help },
	{ NULL, NULL, NULL, 0, NULL }
};

static const char main_usage[] =
	"pfi [--db PATH] [--format table|json|ndjson|csv|tsv] [--json]\n"
	"           [--color auto|always|never] [--utc] [--csv-raw] [--version]\n"
	"           [--help] COMMAND [ARGS]";

static const char main_help_tail[] =
	"\nGlobal options (before or after the command):\n"
	"  --db PATH         the index (default $PFI_DB, else\n"
	"                    $XDG_DATA_HOME/pfi/index.db or ~/.local/share/pfi/index.db)\n"
	"  --format FORMAT   table, json, ndjson, csv or tsv (default table);\n"
	"                    every format escapes control characters (\\t, \\x1b),\n"
	"                    and a csv/tsv text cell that begins with = + - @ tab\n"
	"                    or CR gets a leading ' so that a spreadsheet does\n"
	"                    not run it as a formula\n"
	"  --json            the same as --format json\n"
	"  --color WHEN      auto, always or never (default auto)\n"
	"  --utc             show times in UTC instead of local time\n"
	"  --csv-raw         csv/tsv: no leading ' on such cells\n"
	"  --version         print the version and exit\n"
	"  -h, --help        show this help and exit\n"
	"\nRun 'pfi help COMMAND' for the options of a command.\n";

static const char main_help_cmd[] =
	"Show the commands and global options of pfi, or with COMMAND the\n"
	"same help as 'pfi COMMAND --help'.\n"
	"\n"
	"  -h, --help   show this help and exit\n";

/* ---- help and lookup ---------------------------------------------------- */

static int main_help(FILE *fp)
{
	const struct pfi_cmd *c;

	fprintf(fp, "usage: %s\n\nCommands:\n", main_usage);
	for (c = pfi_cmds; c->name != NULL; c++)
		fprintf(fp, "  %-8s %s\n", c->name, c->summary);
	fputs(main_help_tail, fp);
	return PFI_EXIT_OK;
}

static const struct pfi_cmd *main_find(const char *name)
{
	const struct pfi_cmd *c;

	for (c = pfi_cmds; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Levenshtein distance of a and b (names are short: capped at 32). */
static size_t main_distance(const char *a, const char *b)
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

static int main_unknown(const char *name)
{
	const struct pfi_cmd *c, *best = NULL;
	size_t d, bestd = 3;

	cli_warn("'%s' is not a pfi command. See 'pfi --help'.", name);
	for (c = pfi_cmds; c->name != NULL; c++) {
		d = main_distance(name, c->name);
		if (d < bestd) {
			bestd = d;
			best = c;
		}
	}
	if (best != NULL)
		fprintf(stderr, "\nThe most similar command is '%s'\n", best->name);
	return PFI_EXIT_USAGE;
}

/* `pfi help [COMMAND]`: the same as `pfi COMMAND --help`. */
static int cmd_help(struct pfi_globals *g, int argc, char **argv)
{
	const struct pfi_cmd *c;
	char *args[3];

	if (argc < 2)
		return main_help(stdout);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return cli_help(cmd_help_usage, main_help_cmd);
	if (argc > 2)
		return cli_usage_error("help", "too many arguments");
	if ((c = main_find(argv[1])) == NULL)
		return main_unknown(argv[1]);
	args[0] = argv[1];
	args[1] = "--help";
	args[2] = NULL;
	g->cmd = c;
	return c->fn(g, 2, args);
}

/* ---- global options ----------------------------------------------------- */

/*
 * The value of option `name` at argv[*i] ("--name VALUE" or "--name=VALUE"),
 * advancing *i over it.  NULL when argv[*i] is not this option; *missing
 * set when it is but has no value.
 */
static const char *main_value(const char *name, int argc, char **argv,
                              int *i, int *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/*
 * Takes the global option at argv[*i] if it is one: 1 taken, 0 not a
 * global option, or an exit code + 10 for a usage error.
 */
static int main_global(struct pfi_globals *g, int argc, char **argv, int *i)
{
	const char *v;
	int missing = 0;

	if (strcmp(argv[*i], "--json") == 0) {
		g->format = PFI_FMT_JSON;
	} else if (strcmp(argv[*i], "--utc") == 0) {
		g->utc = 1;
	} else if (strcmp(argv[*i], "--csv-raw") == 0) {
		g->csv_raw = 1;
	} else if ((v = main_value("--db", argc, argv, i, &missing)) != NULL) {
		g->db = v;
	} else if ((v = main_value("--format", argc, argv, i, &missing)) != NULL) {
		if (cli_parse_format(v, &g->format) != 0)
			return 10 + cli_usage_error(NULL, "unknown format '%s'", v);
	} else if ((v = main_value("--color", argc, argv, i, &missing)) != NULL) {
		if (cli_parse_color(v, &g->color) != 0)
			return 10 + cli_usage_error(NULL, "unknown colour mode '%s'", v);
	} else if (missing) {
		return 10 + cli_usage_error(NULL, "option '%s' needs a value",
		                            argv[*i]);
	} else {
		return 0;
	}
	return 1;
}

/* Options that only stand before the command: -1 when argv[i] is none. */
static int main_early(const char *a)
{
	if (strcmp(a, "--version") == 0) {
		printf("pfi %s\n", pfi_version());
		return PFI_EXIT_OK;
	}
	if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
		return main_help(stdout);
	if (a[0] == '-' && a[1] != '\0')
		return cli_usage_error(NULL, "unknown option '%s'", a);
	return -1;
}

/*
 * Moves the global options out of argv, wherever they stand before "--",
 * leaving the command name and its arguments in args[0..*n).  Returns -1
 * to go on, or an exit code (after --help, --version or a usage error).
 */
static int main_split(struct pfi_globals *g, int argc, char **argv,
                      char **args, int *n)
{
	int i, rc;

	*n = 0;
	for (i = 1; i < argc; i++) {
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

static int main_dispatch(struct pfi_globals *g, int argc, char **argv)
{
	const struct pfi_cmd *c;

	if (argc == 0) {
		main_help(stderr);
		return PFI_EXIT_USAGE;
	}
	if ((c = main_find(argv[0])) == NULL)
		return main_unknown(argv[0]);
	g->cmd = c;
	cli_setup_output(g);
	return c->fn(g, argc, argv);
}

/* Flushes stdout: a write error is a failure, except a closed pipe. */
static int main_finish(int rc)
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
	int n, rc;

	signal(SIGPIPE, SIG_IGN);
	memset(&g, 0, sizeof(g));
	g.format = PFI_FMT_TABLE;
	g.color = PFI_COLOR_AUTO;
	args = xcalloc((size_t)argc + 1, sizeof(*args));
	rc = main_split(&g, argc, argv, args, &n);
	if (rc < 0)
		rc = main_dispatch(&g, n, args);
	pfi_store_close(g.store);
	free(g.db_path);
	free(args);
	return main_finish(rc);
}
