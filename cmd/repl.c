/*
 * repl.c - `pfi repl`: an interactive shell over the index.  Each line is
 * split into words like a shell's and run through the same command table
 * and option specs as `pfi CMD`, on a store opened once.  On a terminal:
 * GNU Readline with history, Ctrl-R, Tab completion (cmd/complete.c) and
 * Ctrl-C stopping the running query; elsewhere plain lines, no prompt,
 * the exit status being the last command's.  Session settings (format,
 * utc, default filters) and numbered search rows (`trace #3`) live here.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "pfi.h"

#define REPL_PROMPT "pfi> "
#define REPL_HISTORY_MAX 1000

/* The rows of the last result, for `trace #N`. */
struct cli_rows {
	char **qid;            /* queue IDs, NULL for a NOQUEUE reject */
	char **mid;            /* Message-IDs, or NULL */
	size_t n, cap;
	int fresh;             /* the next note starts a new result */
};

/* A default filter: `set since 2h` until `unset since`. */
struct repl_setting {
	char *flag;            /* "--since": the option as a word */
	char *value;
};

struct cli_repl {
	struct pfi_globals base;    /* the settings every line starts from */
	pfi_sql *sql;               /* `sql`'s read-only connection, lazily */
	struct cli_rows rows;
	struct repl_setting *filters;
	size_t nfilters;
	int tty;                    /* reading a terminal: readline */
	char *histfile;             /* NULL: no history */
	int done;                   /* quit */
};

/* What the SIGINT handler stops: set while a line runs.  The line's
 * globals, not their store: a command may open the index only once it
 * runs (cli_store), and Ctrl-C must reach that store too. */
static struct pfi_globals *volatile repl_running;
static pfi_sql *volatile repl_sql;
static volatile sig_atomic_t repl_interrupted;
/* The session, for readline's completion callback. */
static struct cli_repl *repl_session;

/* ---- rows --------------------------------------------------------------- */

static void rows_clear(struct cli_rows *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->qid[i]);
		free(r->mid[i]);
	}
	r->n = 0;
}

int cli_rows_note(struct pfi_globals *g, const char *queue_id,
                  const char *message_id)
{
	struct cli_rows *r = g->rows;

	if (r == NULL)
		return 0;
	if (r->fresh) {
		rows_clear(r);
		r->fresh = 0;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->qid = xrealloc(r->qid, r->cap * sizeof(*r->qid));
		r->mid = xrealloc(r->mid, r->cap * sizeof(*r->mid));
	}
	r->qid[r->n] = queue_id ? xstrdup(queue_id) : NULL;
	r->mid[r->n] = message_id ? xstrdup(message_id) : NULL;
	return (int)++r->n;
}

/* "#N": the queue ID of row N of the last result; NULL (reported) if none. */
static const char *rows_ref(const struct cli_rows *r, const char *w)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(w + 1, &end, 10);
	if (errno != 0 || end == w + 1 || *end != '\0' || n < 1 ||
	    (size_t)n > r->n) {
		cli_warn("no row %s in the last result (%zu rows)", w, r->n);
		return NULL;
	}
	if (r->qid[n - 1] == NULL)
		cli_warn("row %s is a reject without a queue ID", w);
	return r->qid[n - 1];
}

/* ---- settings ----------------------------------------------------------- */

static const char *const on_off[] = { "on", "off", NULL };

/* The FILTER option `name` (search's spec is the reference), or NULL. */
static const struct cli_opt *repl_filter_opt(const char *name)
{
	const struct cli_opt *o;

	for (o = cmd_search_entry.opts; o->name != NULL; o++)
		if ((o->flags & CLI_OPT_FILTER) && strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

static struct repl_setting *repl_filter(struct cli_repl *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nfilters; i++)
		if (strcmp(r->filters[i].flag + 2, name) == 0)
			return &r->filters[i];
	return NULL;
}

/* Whether v is a value of the choice option o (each item of a comma
 * list for a list): a typo is refused by `set`, not by every later line. */
static int repl_choice_ok(const struct cli_opt *o, const char *v)
{
	char item[128];
	size_t n;

	if (o->arg != CLI_ARG_CHOICE || o->choices == NULL)
		return 1;
	for (;;) {
		n = (o->flags & CLI_OPT_LIST) ? strcspn(v, ",") : strlen(v);
		snprintf(item, sizeof(item), "%.*s", (int)n, v);
		if (n >= sizeof(item) || cli_choice(o->choices, item) < 0)
			return 0;
		if (v[n] == '\0')
			return 1;
		v += n + 1;
	}
}

static int repl_set_filter(struct cli_repl *r, const struct cli_opt *o,
                           const char *v)
{
	struct repl_setting *s = repl_filter(r, o->name);
	int64_t t;
	char opt[64];

	snprintf(opt, sizeof(opt), "--%s", o->name);
	if (o->arg == CLI_ARG_TIME && cli_time(v, &t) != 0)
		return cli_time_error("set", opt, v);
	if (!repl_choice_ok(o, v))
		return cli_usage_error("set", "'%s' is not a value of %s (Tab"
		                       " completes them)", v, opt);
	if (s == NULL) {
		r->filters = xrealloc(r->filters,
		                      (r->nfilters + 1) * sizeof(*r->filters));
		s = &r->filters[r->nfilters++];
		s->flag = xmalloc(strlen(o->name) + 3);
		sprintf(s->flag, "--%s", o->name);
	} else {
		free(s->value);
	}
	s->value = xstrdup(v);
	return PFI_EXIT_OK;
}

/* `set NAME VALUE`: format, utc, color, or a default filter. */
static int repl_set(struct cli_repl *r, const char *name, const char *v)
{
	const struct cli_opt *o;
	int i;

	if (strcmp(name, "format") == 0) {
		if (cli_parse_format(v, &r->base.format) != 0)
			return cli_usage_error("set", "unknown format '%s'", v);
	} else if (strcmp(name, "color") == 0) {
		if (cli_parse_color(v, &r->base.color) != 0)
			return cli_usage_error("set", "unknown colour mode '%s'", v);
	} else if (strcmp(name, "utc") == 0) {
		if ((i = cli_choice(on_off, v)) < 0)
			return cli_usage_error("set", "utc is 'on' or 'off'");
		r->base.utc = i == 0;
	} else if ((o = repl_filter_opt(name)) != NULL) {
		return repl_set_filter(r, o, v);
	} else {
		return cli_usage_error("set", "unknown setting '%s'", name);
	}
	return PFI_EXIT_OK;
}

static int repl_unset(struct cli_repl *r, const char *name)
{
	struct repl_setting *s = repl_filter(r, name);

	if (strcmp(name, "format") == 0)
		r->base.format = PFI_FMT_TABLE;
	else if (strcmp(name, "color") == 0)
		r->base.color = PFI_COLOR_AUTO;
	else if (strcmp(name, "utc") == 0)
		r->base.utc = 0;
	else if (s == NULL)
		return cli_usage_error("unset", "'%s' is not set", name);
	if (s != NULL) {
		free(s->flag);
		free(s->value);
		*s = r->filters[--r->nfilters];
	}
	return PFI_EXIT_OK;
}

static void repl_show(const struct cli_repl *r)
{
	size_t i;

	printf("%-14s %s\n", "format", cli_formats[r->base.format]);
	printf("%-14s %s\n", "utc", r->base.utc ? "on" : "off");
	printf("%-14s %s\n", "color", cli_colors[r->base.color]);
	printf("%-14s ", "db");
	cli_put_escaped(stdout, r->base.db_path ? r->base.db_path : "(none)");
	putchar('\n');
	for (i = 0; i < r->nfilters; i++) {
		printf("%-14s ", r->filters[i].flag + 2);
		cli_put_escaped(stdout, r->filters[i].value);
		putchar('\n');
	}
}

/* Whether args[1..n) give option `name` ("--name" or "--name=..."). */
static int repl_has_option(char **args, int n, const char *name)
{
	size_t len = strlen(name);
	int i;

	for (i = 1; i < n; i++)
		if (strncmp(args[i], "--", 2) == 0 &&
		    strncmp(args[i] + 2, name, len) == 0 &&
		    (args[i][len + 2] == '\0' || args[i][len + 2] == '='))
			return 1;
	return 0;
}

/* Whether cmd's spec has option `name`. */
static int repl_cmd_has(const struct pfi_cmd *cmd, const char *name)
{
	const struct cli_opt *o;

	for (o = cmd->opts; o != NULL && o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return 1;
	return 0;
}

/* args with the default filters that cmd takes and the line does not
 * give inserted after the command name; *n grows.  A new array. */
static char **repl_with_defaults(const struct cli_repl *r,
                                 const struct pfi_cmd *cmd, char **args,
                                 int *n)
{
	char **out = xcalloc((size_t)*n + 2 * r->nfilters + 1, sizeof(*out));
	int k = 0, i;
	size_t f;

	out[k++] = args[0];
	for (f = 0; cmd != NULL && f < r->nfilters; f++) {
		if (!repl_cmd_has(cmd, r->filters[f].flag + 2) ||
		    repl_has_option(args, *n, r->filters[f].flag + 2))
			continue;
		out[k++] = r->filters[f].flag;
		out[k++] = r->filters[f].value;
	}
	for (i = 1; i < *n; i++)
		out[k++] = args[i];
	out[k] = NULL;
	*n = k;
	return out;
}

/* ---- the commands of the REPL itself ------------------------------------- */

/* Answers "CMD --help" for the REPL's own commands: -1 if it is not. */
static int repl_own_help(const struct pfi_cmd *cmd, int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	                  strcmp(argv[1], "-h") == 0))
		return cli_help(cmd);
	return -1;
}

static int cmd_set(struct pfi_globals *g, int argc, char **argv);
static int cmd_unset(struct pfi_globals *g, int argc, char **argv);
static int cmd_show(struct pfi_globals *g, int argc, char **argv);
static int cmd_raw(struct pfi_globals *g, int argc, char **argv);
static int cmd_quit(struct pfi_globals *g, int argc, char **argv);

const struct pfi_cmd cmd_set_entry = {
	"set", "set a session setting or a default filter",
	"Set the output format (set format json), UTC times (set utc on), the\n"
	"colour mode (set color never), or a default filter that the commands\n"
	"taking it inherit until unset (set since 2h, set domain example.org,\n"
	"set status bounced,deferred).  A filter given on a line wins over\n"
	"the default.  Without arguments: show settings.",
	NULL, "[NAME VALUE]", CLI_ARG_NONE, CMD_REPL_ONLY, cmd_set
};
const struct pfi_cmd cmd_unset_entry = {
	"unset", "drop a default filter or reset a setting",
	"Drop default filters (unset since) or reset settings to their\n"
	"defaults (unset format).",
	NULL, "NAME...", CLI_ARG_NONE, CMD_REPL_ONLY, cmd_unset
};
const struct pfi_cmd cmd_show_entry = {
	"show", "show the session settings",
	"Show the settings and default filters of this session.",
	NULL, "settings", CLI_ARG_NONE, CMD_REPL_ONLY, cmd_show
};
const struct pfi_cmd cmd_raw_entry = {
	"raw", "print the raw log lines of messages (trace --raw)",
	"The same as 'trace --raw ID...'; '#N' names row N of the last\n"
	"search.",
	NULL, "ID...", CLI_ARG_QUEUE_ID,
	CMD_REPL_ONLY | CMD_NEEDS_DB | CMD_PAGED, cmd_raw
};
const struct pfi_cmd cmd_quit_entry = {
	"quit", "leave pfi repl (Ctrl-D does too)",
	"Leave pfi repl.  Ctrl-D on an empty line does the same.",
	NULL, NULL, CLI_ARG_NONE, CMD_REPL_ONLY, cmd_quit
};

static int cmd_set(struct pfi_globals *g, int argc, char **argv)
{
	int rc = repl_own_help(&cmd_set_entry, argc, argv);

	if (rc >= 0)
		return rc;
	if (argc == 1) {
		repl_show(g->repl);
		return PFI_EXIT_OK;
	}
	if (argc != 3)
		return cli_usage_error("set", "want NAME VALUE, e.g. 'set since 2h'");
	return repl_set(g->repl, argv[1], argv[2]);
}

static int cmd_unset(struct pfi_globals *g, int argc, char **argv)
{
	int i, rc = repl_own_help(&cmd_unset_entry, argc, argv);

	if (rc >= 0)
		return rc;
	if (argc < 2)
		return cli_usage_error("unset", "name a setting, e.g. 'unset since'");
	for (i = 1, rc = PFI_EXIT_OK; i < argc; i++)
		if (repl_unset(g->repl, argv[i]) != PFI_EXIT_OK)
			rc = PFI_EXIT_USAGE;
	return rc;
}

static int cmd_show(struct pfi_globals *g, int argc, char **argv)
{
	int rc = repl_own_help(&cmd_show_entry, argc, argv);

	if (rc >= 0)
		return rc;
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "settings") != 0))
		return cli_usage_error("show", "only 'show settings' is known");
	repl_show(g->repl);
	return PFI_EXIT_OK;
}

static int cmd_raw(struct pfi_globals *g, int argc, char **argv)
{
	char **args;
	int i, rc = repl_own_help(&cmd_raw_entry, argc, argv);

	if (rc >= 0)
		return rc;
	args = xcalloc((size_t)argc + 2, sizeof(*args));
	args[0] = "trace";
	args[1] = "--raw";
	for (i = 1; i < argc; i++)
		args[i + 1] = argv[i];
	g->cmd = &cmd_trace_entry;
	rc = cmd_trace_entry.fn(g, argc + 1, args);
	free(args);
	return rc;
}

static int cmd_quit(struct pfi_globals *g, int argc, char **argv)
{
	int rc = repl_own_help(&cmd_quit_entry, argc, argv);

	if (rc >= 0)
		return rc;
	g->repl->done = 1;
	return PFI_EXIT_OK;
}

pfi_sql *cli_repl_sql(struct pfi_globals *g)
{
	struct cli_repl *r = g->repl;
	pfi_store *st;
	int rc;

	if (r == NULL || r->sql != NULL)
		return r ? r->sql : NULL;
	if ((st = cli_store(g)) == NULL)
		return NULL;
	rc = pfi_sql_open(&r->sql, st);
	if (rc != PFI_OK) {
		cli_warn("cannot read the index with SQL: %s",
		         pfi_sql_errmsg(r->sql));
		pfi_sql_close(r->sql);
		r->sql = NULL;
	}
	repl_sql = r->sql;
	return r->sql;
}

int cli_repl_help(struct pfi_globals *g)
{
	const struct pfi_cmd *const *c;

	(void)g;
	printf("Commands (the same options as 'pfi COMMAND'; 'help COMMAND' "
	       "for them):\n");
	for (c = pfi_cmds; *c != NULL; c++)
		if (!((*c)->flags & CMD_HIDDEN) && *c != &cmd_repl_entry)
			printf("  %-8s %s\n", (*c)->name, (*c)->summary);
	fputs("\nGlobal options work on any line (search --format json ...).\n"
	      "Rows of a search are numbered: 'trace #3' and 'raw #3' take the\n"
	      "queue ID of row 3.  'help sql' shows the tables SQL may read.\n"
	      "Tab completes commands, options and values from the index;\n"
	      "Ctrl-R searches the history; Ctrl-C stops a running query;\n"
	      "Ctrl-D or 'quit' leaves.\n", stdout);
	return PFI_EXIT_OK;
}

/* ---- running a line ------------------------------------------------------- */

/* Replaces "#N" operands of trace and raw with row N's queue ID. */
static int repl_refs(struct cli_repl *r, char **args, int n)
{
	const char *q;
	int i;

	if (strcmp(args[0], "trace") != 0 && strcmp(args[0], "raw") != 0)
		return 0;
	for (i = 1; i < n; i++) {
		if (args[i][0] != '#')
			continue;
		if ((q = rows_ref(&r->rows, args[i])) == NULL)
			return -1;
		args[i] = (char *)q;
	}
	return 0;
}

/* Reopens the session's read-only store (after a command that wrote). */
static void repl_reopen(struct cli_repl *r)
{
	pfi_sql_close(r->sql);
	r->sql = NULL;
	repl_sql = NULL;
	pfi_store_close(r->base.store);
	r->base.store = NULL;
	if (pfi_store_open(&r->base.store, r->base.db_path,
	                   PFI_OPEN_READONLY) != PFI_OK) {
		pfi_store_close(r->base.store);
		r->base.store = NULL;
	}
}

/* Runs args[0..n) (after the global options) with the line's globals g. */
static int repl_run(struct cli_repl *r, struct pfi_globals *g, char **args,
                    int n)
{
	const struct pfi_cmd *cmd = cli_cmd_find(args[0], 1);
	int writes = cmd != NULL && (cmd->flags & CMD_WRITES_DB), rc;
	char **full;

	if (cmd == &cmd_repl_entry)
		return cli_usage_error(NULL, "this is pfi repl already");
	/* The shell changes the index only through an explicit `index`. */
	if (writes && strcmp(cmd->name, "index") != 0)
		return cli_usage_error(cmd->name, "'%s' changes the index: run it"
		                       " as 'pfi %s', outside the shell", cmd->name,
		                       cmd->name);
	if (repl_refs(r, args, n) != 0)
		return PFI_EXIT_USAGE;
	full = repl_with_defaults(r, cmd, args, &n);
	if (writes) {
		g->store = NULL;   /* the command opens the index to write */
		pfi_store_close(r->base.store);
		r->base.store = NULL;
	}
	r->rows.fresh = 1;
	repl_running = g;
	rc = cli_dispatch(g, n, full, 1);
	repl_running = NULL;
	pfi_store_resume(g->store);   /* a Ctrl-C stops this command only */
	free(full);
	/* A search that listed no row (no match, --count) is the last result
	 * too: `trace #1` must not reach back to an older one. */
	if (cmd == &cmd_search_entry && rc <= PFI_EXIT_NOMATCH && r->rows.fresh)
		rows_clear(&r->rows);
	if (writes) {
		pfi_store_close(g->store);
		repl_reopen(r);
	} else if (g->store != r->base.store && g->db_path == r->base.db_path) {
		r->base.store = g->store;   /* the index appeared meanwhile */
	} else if (g->store != r->base.store) {
		pfi_store_close(g->store);  /* a --db of this line only */
	}
	return rc;
}

/* `sql ...` keeps its text as one word: SQL has its own quoting. */
static int repl_sql_line(const char *line, struct cli_words *w)
{
	const char *p = line + strspn(line, " \t");

	if (strncmp(p, "sql", 3) != 0 || (p[3] != ' ' && p[3] != '\t' &&
	                                  p[3] != '\0'))
		return 0;
	cli_words_add(w, "sql");
	p += 3 + strspn(p + 3, " \t");
	if (*p != '\0')
		cli_words_add(w, p);
	return 1;
}

/* Runs one line; returns its exit status (0 for a blank line). */
static int repl_line(struct cli_repl *r, const char *line)
{
	struct cli_words w = { NULL, 0, 0 };
	struct pfi_globals g = r->base;
	char **args;
	int n = 0, rc;

	if (!repl_sql_line(line, &w) && cli_split_words(line, &w, 0) < 0) {
		cli_words_release(&w);
		return cli_usage_error(NULL, "unterminated quote");
	}
	if (w.n == 0 || w.v[0][0] == '#') {
		cli_words_release(&w);
		return PFI_EXIT_OK;
	}
	g.rows = &r->rows;
	g.repl = r;
	args = xcalloc(w.n + 1, sizeof(*args));
	if (strcmp(w.v[0], "sql") == 0) {
		memcpy(args, w.v, w.n * sizeof(*args));
		n = (int)w.n;
		rc = -1;
	} else {
		rc = cli_split_globals(&g, (int)w.n, w.v, 0, args, &n);
	}
	if (g.db != r->base.db) {
		g.db_path = NULL;   /* --db on this line: another index */
		g.store = NULL;
	}
	if (rc < 0 && n > 0)
		rc = repl_run(r, &g, args, n);
	else if (rc < 0)
		rc = PFI_EXIT_OK;
	if (g.db_path != r->base.db_path)
		free(g.db_path);
	free(args);
	cli_words_release(&w);
	rc = cli_finish(rc < 0 ? PFI_EXIT_OK : rc);
	clearerr(stdout);   /* a closed pager ends one answer, not the shell */
	return rc;
}

/* ---- Ctrl-C ------------------------------------------------------------------ */

static void repl_on_sigint(int sig)
{
	struct pfi_globals *g = repl_running;

	(void)sig;
	repl_interrupted = 1;
	if (g != NULL)
		pfi_store_interrupt(g->store);
	pfi_sql_interrupt(repl_sql);
}

/* Readline calls this when a signal broke its read: Ctrl-C at the prompt
 * drops the line being typed and shows a fresh prompt, as shells do. */
static int repl_signal_hook(void)
{
	if (!repl_interrupted)
		return 0;
	repl_interrupted = 0;
	rl_free_line_state();
	rl_replace_line("", 0);
	rl_crlf();
	rl_on_new_line();
	rl_redisplay();
	return 0;
}

static void repl_catch_sigint(struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = repl_on_sigint;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;   /* no SA_RESTART: a blocked read returns EINTR */
	sigaction(SIGINT, &sa, old);
}

/* ---- history ----------------------------------------------------------------- */

/* Makes the directories of path (mode 0700) that do not exist. */
static void repl_mkdirs(char *path)
{
	char *p;

	for (p = strchr(path + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			cli_warn("cannot make '%s': %s", path, strerror(errno));
		*p = '/';
	}
}

/* $PFI_HISTFILE, else $XDG_STATE_HOME/pfi/history, else
 * ~/.local/state/pfi/history; NULL when none can be named. */
static char *repl_histfile(void)
{
	const char *env = getenv("PFI_HISTFILE"), *dir;
	char *p;

	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	if ((dir = getenv("XDG_STATE_HOME")) != NULL && dir[0] == '/') {
		p = xmalloc(strlen(dir) + sizeof("/pfi/history"));
		sprintf(p, "%s/pfi/history", dir);
		return p;
	}
	if ((dir = getenv("HOME")) == NULL || dir[0] != '/')
		return NULL;
	p = xmalloc(strlen(dir) + sizeof("/.local/state/pfi/history"));
	sprintf(p, "%s/.local/state/pfi/history", dir);
	return p;
}

/* Opens the history: the file is made 0600 in a 0700 directory. */
static void repl_history_load(struct cli_repl *r)
{
	int fd;

	if ((r->histfile = repl_histfile()) == NULL)
		return;
	repl_mkdirs(r->histfile);
	fd = open(r->histfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		cli_warn("cannot keep history in '%s': %s", r->histfile,
		         strerror(errno));
		free(r->histfile);
		r->histfile = NULL;
		return;
	}
	fchmod(fd, 0600);
	close(fd);
	stifle_history(REPL_HISTORY_MAX);
	read_history(r->histfile);
}

/* Adds a line to the history, and to the file at once (a crash keeps it). */
static void repl_history_add(struct cli_repl *r, const char *line)
{
	HIST_ENTRY *last = history_length > 0 ? history_get(history_base +
	                                        history_length - 1) : NULL;

	if (line[strspn(line, " \t")] == '\0' || line[0] == ' ')
		return;   /* a leading blank keeps a line out, as in bash */
	if (last != NULL && strcmp(last->line, line) == 0)
		return;
	add_history(line);
	if (r->histfile != NULL && append_history(1, r->histfile) == 0)
		history_truncate_file(r->histfile, REPL_HISTORY_MAX);
}

/* ---- Tab --------------------------------------------------------------------- */

static pfi_store *repl_complete_store(void *ctx)
{
	return ((struct cli_repl *)ctx)->base.store;
}

static const char *const repl_show_what[] = { "settings", NULL };

/* The names `set` and `unset` know. */
static void repl_setting_names(struct cli_words *w, const char *cur)
{
	static const char *const fixed[] = { "format", "utc", "color", NULL };
	const struct cli_opt *o;
	size_t i;

	for (i = 0; fixed[i] != NULL; i++)
		if (strncmp(fixed[i], cur, strlen(cur)) == 0)
			cli_words_add(w, fixed[i]);
	for (o = cmd_search_entry.opts; o->name != NULL; o++)
		if ((o->flags & CLI_OPT_FILTER) &&
		    strncmp(o->name, cur, strlen(cur)) == 0)
			cli_words_add(w, o->name);
}

/* A value for `set NAME`: of the setting's kind. */
static int repl_setting_value(struct cli_complete *c, const char *name,
                              const char *cur, struct cli_words *w)
{
	static const struct cli_opt fixed[] = {
		{ "format", 0, CLI_ARG_CHOICE, NULL, 1, 0, cli_formats, "", NULL },
		{ "utc", 0, CLI_ARG_CHOICE, NULL, 2, 0, on_off, "", NULL },
		{ "color", 0, CLI_ARG_CHOICE, NULL, 3, 0, cli_colors, "", NULL },
	};
	const struct cli_opt *o = repl_filter_opt(name);
	size_t i;

	for (i = 0; o == NULL && i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(fixed[i].name, name) == 0)
			o = &fixed[i];
	return o ? cli_complete_value(c, o->arg, o, "", cur, w) : 0;
}

static int repl_operands(struct cli_complete *c, const struct pfi_cmd *cmd,
                         int nth, const char *first, const char *cur,
                         struct cli_words *w)
{
	size_t i;

	if ((cmd == &cmd_set_entry && nth == 0) || cmd == &cmd_unset_entry)
		repl_setting_names(w, cur);
	else if (cmd == &cmd_set_entry && nth == 1)
		return repl_setting_value(c, first, cur, w);
	else if (cmd == &cmd_show_entry && nth == 0)
		for (i = 0; repl_show_what[i] != NULL; i++)
			if (strncmp(repl_show_what[i], cur, strlen(cur)) == 0)
				cli_words_add(w, repl_show_what[i]);
	if (cmd->operand_arg != CLI_ARG_NONE)
		return cli_complete_value(c, cmd->operand_arg, NULL, "", cur, w);
	return 0;
}

/* Readline's generator over the candidates cli_complete() found. */
static struct cli_words repl_matches;

static char *repl_next_match(const char *text, int state)
{
	static size_t i;

	(void)text;
	if (state == 0)
		i = 0;
	return i < repl_matches.n ? strdup(repl_matches.v[i++]) : NULL;
}

static char **repl_attempt(const char *text, int start, int end)
{
	struct cli_complete c = { 1, repl_complete_store, repl_session,
	                          repl_operands };
	struct cli_words w = { NULL, 0, 0 };
	char *before = xmalloc((size_t)start + 1);
	char **argv;
	int files;

	(void)end;
	memcpy(before, rl_line_buffer, (size_t)start);
	before[start] = '\0';
	cli_split_words(before, &w, 1);
	free(before);
	cli_words_add(&w, text);
	argv = w.v;
	cli_words_release(&repl_matches);
	files = cli_complete(&c, (int)w.n, argv, &repl_matches);
	cli_words_release(&w);
	if (files && repl_matches.n == 0)
		return NULL;   /* readline completes the path itself */
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, repl_next_match);
}

/* ---- the loop ---------------------------------------------------------------- */

/* The next line (malloc'd, no newline), or NULL at the end of input. */
static char *repl_read(struct cli_repl *r)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t n;

	if (r->tty) {
		repl_interrupted = 0;
		return readline(REPL_PROMPT);
	}
	do {
		errno = 0;
		n = getline(&line, &size, stdin);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		free(line);
		return NULL;
	}
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	return line;
}

static void repl_setup_readline(struct cli_repl *r)
{
	rl_readline_name = "pfi";
	rl_catch_signals = 0;            /* SIGINT is ours: repl_on_sigint */
	rl_signal_event_hook = repl_signal_hook;
	rl_attempted_completion_function = repl_attempt;
	rl_completer_word_break_characters = (char *)" \t";
	rl_completer_quote_characters = "'\"";
	repl_history_load(r);
}

static int repl_loop(struct cli_repl *r)
{
	int rc = PFI_EXIT_OK;
	char *line;

	while (!r->done && (line = repl_read(r)) != NULL) {
		if (r->tty)
			repl_history_add(r, line);
		repl_interrupted = 0;
		rc = repl_line(r, line);
		free(line);
		/* a command that failed has said so, in one line */
		if (repl_interrupted && r->tty && rc != PFI_EXIT_FAILURE)
			fputs("interrupted\n", stderr);
		repl_interrupted = 0;
	}
	if (r->tty && !r->done)
		putchar('\n');   /* Ctrl-D: end the prompt's line */
	/* On a terminal the errors were seen as they came (pfi-repl(1)). */
	return r->tty ? PFI_EXIT_OK : rc;
}

static void repl_release(struct cli_repl *r)
{
	size_t i;

	for (i = 0; i < r->nfilters; i++) {
		free(r->filters[i].flag);
		free(r->filters[i].value);
	}
	free(r->filters);
	rows_clear(&r->rows);
	free(r->rows.qid);
	free(r->rows.mid);
	pfi_sql_close(r->sql);
	free(r->histfile);
	cli_words_release(&repl_matches);
}

static int cmd_repl(struct pfi_globals *g, int argc, char **argv)
{
	struct cli_repl r;
	struct cli_parse p;
	struct sigaction old;
	pfi_store *st = NULL;
	int c, rc;

	cli_parse_init(&p, &cmd_repl_entry, argc, argv);
	while ((c = cli_parse_next(&p)) > 0)
		;
	rc = c < 0 ? p.rc : cli_parse_operands(&p, 0);
	cli_parse_release(&p);
	if (rc >= 0)
		return rc;
	memset(&r, 0, sizeof(r));
	if (cli_db_path(g) == NULL)
		return PFI_EXIT_FAILURE;
	if (pfi_store_open(&st, g->db_path, PFI_OPEN_READONLY) == PFI_OK) {
		g->store = st;
	} else {
		pfi_store_close(st);
		cli_store(g);   /* says why; the index may come with `index` */
	}
	r.base = *g;
	r.tty = isatty(STDIN_FILENO);
	repl_session = &r;
	/* Ctrl-C stops a query and keeps the shell on a terminal only: a
	 * script (stdin not a terminal) stops at once, as `pfi CMD` does. */
	if (r.tty)
		repl_catch_sigint(&old);
	cli_usage_in_repl(1);
	if (r.tty)
		repl_setup_readline(&r);
	rc = repl_loop(&r);
	if (r.tty)
		sigaction(SIGINT, &old, NULL);
	cli_usage_in_repl(0);
	g->store = r.base.store;   /* pfi_main closes it */
	repl_session = NULL;
	repl_release(&r);
	return rc;
}

const struct pfi_cmd cmd_repl_entry = {
	"repl", "an interactive shell over the index",
	"Read commands from a terminal with history, Tab completion and\n"
	"numbered results, or line by line from standard input, and run them\n"
	"on the index opened once: the same commands and options as 'pfi\n"
	"COMMAND', plus set, unset, show, raw, sql and quit.  'help' inside\n"
	"lists them.",
	NULL, NULL, CLI_ARG_NONE, 0, cmd_repl
};
