/*
 * pfi.h - the pfi command: the command table, global options, exit codes
 * and the helpers shared by the files of cmd/.  cmd/ is built only on the
 * public library interface, lib/pfi.h, never on lib/pfi-int.h.
 *
 * Checklist for adding a command NAME:
 *  1. cmd/NAME.c in the shape of cmd/info.c: a 3-6 line header comment,
 *     its option spec (static const struct cli_opt NAME_opts[], ending
 *     with a NULL name), static helpers prefixed NAME_, int cmd_NAME(g,
 *     argc, argv) parsing with cli_parse_next(), and at the end
 *     `const struct pfi_cmd cmd_NAME_entry` (name, summary, description,
 *     options, operands, CMD_* flags, function).  The usage line, --help,
 *     pfi repl's Tab and the shell completions all come from that entry.
 *  2. cmd_NAME_entry declared below and listed in pfi_cmds[] (cmd/pfi.c),
 *     and cmd/NAME.c in CMD_SOURCES of Makefile.am.
 *  3. man/pfi-NAME.1 (its SYNOPSIS is the usage line of `pfi NAME
 *     --help`), and the command in the command list of man/pfi.1.
 *  4. Tests in tests/test_cli.c: output per format, exit codes, usage
 *     errors.  tests/test_docs.c checks step 3 for every option, and that
 *     the completions offer every option.
 *
 * The index is opened by cli_store(), which a command calls once its
 * options are parsed, so that --help and usage errors never create or
 * touch an index; what it opens is decided by the command's CMD_* flags.
 */
#ifndef PFI_CMD_H
#define PFI_CMD_H

#include <glob.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/pfi.h"

/* Exit status of pfi, as documented in EXIT STATUS of man/pfi.1. */
enum pfi_exit {
	PFI_EXIT_OK = 0,        /* success, with results */
	PFI_EXIT_NOMATCH = 1,   /* nothing matched (trace, search) */
	PFI_EXIT_USAGE = 2,     /* bad command line */
	PFI_EXIT_FAILURE = 3    /* any other error */
};

/* What a command needs opened before it can work, and where it runs. */
enum pfi_cmd_flags {
	CMD_NEEDS_DB = 1,   /* reads the index; it must exist */
	CMD_WRITES_DB = 2,  /* writes the index; created when absent */
	CMD_REPL_ONLY = 4,  /* a command of pfi repl only (sql, set ...) */
	CMD_HIDDEN = 8,     /* not listed anywhere (__complete) */
	CMD_PAGED = 16      /* long answers: through the pager on a terminal */
};

enum pfi_color {
	PFI_COLOR_AUTO,     /* when stdout is a terminal and NO_COLOR is unset */
	PFI_COLOR_ALWAYS,
	PFI_COLOR_NEVER
};

/* What an option's value is: for checking nothing, but for completing
 * it (cmd/complete.c) and naming it in --help. */
enum cli_arg {
	CLI_ARG_NONE,           /* a switch, no value */
	CLI_ARG_TEXT,           /* free text, nothing to complete */
	CLI_ARG_NUMBER,
	CLI_ARG_TIME,           /* T: 2h, today, 2026-11-02 ... */
	CLI_ARG_DURATION,       /* 90s, 5m, 1h ... */
	CLI_ARG_RECIPIENT,      /* from the index: recipient addresses */
	CLI_ARG_SENDER,         /* sender addresses */
	CLI_ARG_DOMAIN,         /* recipient domains */
	CLI_ARG_SENDER_DOMAIN,  /* sender domains */
	CLI_ARG_HOST,           /* MTA hosts of the log */
	CLI_ARG_QUEUE_ID,       /* recent queue IDs */
	CLI_ARG_CHOICE,         /* one of `choices` */
	CLI_ARG_FILE,           /* a path */
	CLI_ARG_COMMAND         /* a pfi command name */
};

enum cli_opt_flags {
	CLI_OPT_REQUIRED = 1,        /* the usage shows it without [ ] */
	CLI_OPT_OPTIONAL_VALUE = 2,  /* --name or --name=VALUE, never 2 words */
	CLI_OPT_SHOW_CHOICES = 4,    /* the usage shows a|b|c, not VALUE */
	CLI_OPT_LIST = 8,            /* a comma list of choices, repeatable */
	CLI_OPT_HIDDEN = 16,         /* in no usage, help or completion */
	CLI_OPT_NO_USAGE = 32,       /* in the help but not the usage line */
	CLI_OPT_FILTER = 64          /* a FILTER: pfi repl's `set` takes it */
};

/*
 * One option of a command: the single place it is declared.  The parser,
 * the usage line, --help, pfi repl's Tab and the shell completions (via
 * `pfi __complete`) all read this table.
 */
struct cli_opt {
	const char *name;            /* long name without "--"; NULL ends */
	char short_name;             /* 0: none */
	enum cli_arg arg;            /* CLI_ARG_NONE: takes no value */
	const char *value_name;      /* "ADDR", "T" ... in usage and help */
	int id;                      /* what cli_parse_next() returns; > 0 */
	unsigned flags;              /* enum cli_opt_flags */
	const char *const *choices;  /* CLI_ARG_CHOICE: the values, NULL ends */
	const char *help;            /* one line or more, wrapped at 80 */
	const char *usage;           /* instead of "[--name VALUE]", or NULL */
};

struct pfi_cmd;

/* The global options and what pfi_main() set up for the command. */
struct pfi_globals {
	const char *db;              /* --db PATH, NULL when not given */
	enum pfi_format format;      /* --format or --json; table by default */
	enum pfi_color color;        /* --color */
	int utc;                     /* --utc: times in UTC */
	int csv_raw;                 /* --csv-raw: no ' before formula-like cells */
	int no_pager;                /* --no-pager */
	int tty;                     /* stdout is a terminal */
	int width;                   /* its width, 0 if none (kept while paged) */
	int use_color;               /* colour resolved from --color */
	int pager_pid;               /* the pager stdout goes to, or 0 */
	int pager_stdout;            /* the real stdout, while paged */
	FILE *pager_buffer;          /* pfi repl: the answer, paged when whole */
	const struct pfi_cmd *cmd;   /* the command being run */
	pfi_store *store;            /* opened by cli_store(); pfi_main closes it */
	char *db_path;               /* the resolved index path (owned) */
	struct cli_rows *rows;       /* pfi repl: rows shown are numbered and
	                                noted here for `trace #N`; else NULL */
	struct cli_repl *repl;       /* pfi repl's session, or NULL */
};

/*
 * A command: parses its own options from argv (argv[0] is its name) and
 * returns an enum pfi_exit code.  It reaches the index via cli_store(g).
 */
typedef int pfi_cmd_fn(struct pfi_globals *g, int argc, char **argv);

/* A command's whole entry, owned by its file (tmux's cmd_entry). */
struct pfi_cmd {
	const char *name;            /* exact name; no abbreviations */
	const char *summary;         /* one lower-case line for `pfi --help` */
	const char *description;     /* the paragraph(s) --help starts with */
	const struct cli_opt *opts;  /* its options; -h, --help is implied */
	const char *operands;        /* after the options in usage: "ID..." */
	enum cli_arg operand_arg;    /* what an operand is, for completion */
	unsigned flags;              /* enum pfi_cmd_flags */
	pfi_cmd_fn *fn;
};

/* ---- pfi.c -------------------------------------------------------------- */

/* Every command, in the order `pfi --help` lists them; ends with NULL. */
extern const struct pfi_cmd *const pfi_cmds[];
/* The global options (--db, --format ...), before or after the command. */
extern const struct cli_opt pfi_global_opts[];

/* The whole program: what main() runs. */
int pfi_main(int argc, char **argv);
/* The command named `name` that may run here (repl: REPL-only ones too). */
const struct pfi_cmd *cli_cmd_find(const char *name, int repl);
/* Reports an unknown command with the closest one; PFI_EXIT_USAGE. */
int cli_cmd_unknown(const char *name, int repl);
/*
 * Takes the global options out of argv[from..argc) into g, wherever they
 * stand before "--", leaving the command and its arguments in args[0..*n)
 * (args has room for argc + 1).  Returns -1 to go on, or an exit code
 * (after --help, --version or a usage error).
 */
int cli_split_globals(struct pfi_globals *g, int argc, char **argv, int from,
                      char **args, int *n);
/* Runs the command of args[0..n) with g (its output set up); the exit code. */
int cli_dispatch(struct pfi_globals *g, int n, char **args, int repl);
/* Flushes stdout: a write error is a failure (rc else), except EPIPE. */
int cli_finish(int rc);

/* ---- the commands ------------------------------------------------------- */

extern const struct pfi_cmd cmd_index_entry, cmd_trace_entry,
	cmd_search_entry, cmd_info_entry, cmd_stats_entry, cmd_prune_entry,
	cmd_metrics_entry, cmd_repl_entry, cmd_complete_entry, cmd_sql_entry,
	cmd_set_entry, cmd_unset_entry, cmd_show_entry, cmd_raw_entry,
	cmd_quit_entry;

/* ---- opt.c: parsing options from the spec -------------------------------- */

/* A parse of argv by a command's spec, in the shape of getopt_long. */
struct cli_parse {
	const struct pfi_cmd *cmd;
	int argc;
	char **argv;
	int i;                   /* the next word */
	const char *bundle;      /* the rest of "-abc" being read */
	int ended;               /* after "--": only operands */
	const struct cli_opt *opt;  /* the option just returned */
	const char *value;       /* its value, NULL when none */
	char **args;             /* the operands, in order (owned array) */
	int nargs;
	int rc;                  /* exit code once cli_parse_next() gave -1 */
};

void cli_parse_init(struct cli_parse *p, const struct pfi_cmd *cmd,
                    int argc, char **argv);
void cli_parse_release(struct cli_parse *p);
/*
 * The id of the next option (its value in p->value), 0 when argv is read
 * (operands in p->args), or -1 when the parse stopped with exit code
 * p->rc: --help answered (0) or a usage error reported (2), with the
 * closest option for an unknown one.  Exact long names only: "--qui" for
 * "--quiet" would break scripts once another option starts the same way.
 */
int cli_parse_next(struct cli_parse *p);
/* The word after the option just read, when it is not an option's. */
const char *cli_parse_peek(const struct cli_parse *p);
void cli_parse_skip(struct cli_parse *p);
/* -1 when there are at most max operands (max < 0: any), else a usage
 * error "unexpected argument" (PFI_EXIT_USAGE). */
int cli_parse_operands(struct cli_parse *p, int max);

/* Prints "usage: SYNOPSIS", the description and the options of cmd to
 * stdout, 80 columns; returns PFI_EXIT_OK. */
int cli_help(const struct pfi_cmd *cmd);
/* "PREFIXpfi NAME [--opt X] ... OPERANDS", wrapped at 80 columns. */
void cli_usage_print(FILE *fp, const char *prefix, const char *name,
                     const struct cli_opt *opts, const char *operands);
/* The option lines of a help text (with_help: and -h, --help). */
void cli_options_print(FILE *fp, const struct cli_opt *opts, int with_help);
/* Writes text with the cursor at column col, wrapped at 80 columns. */
void cli_wrap(FILE *fp, const char *text, size_t col);
/* Where a help or usage is being wrapped. */
struct cli_text {
	FILE *fp;
	size_t col, indent;
};

/* Levenshtein distance (names up to 32 bytes; longer: SIZE_MAX). */
size_t cli_distance(const char *a, const char *b);
/* The option of opts closest to `name` (no "--"), or NULL if none is. */
const struct cli_opt *cli_opt_closest(const struct cli_opt *opts,
                                      const char *name);
/* The command closest to `name`, skipping those with a flag in skip. */
const struct pfi_cmd *cli_cmd_closest(const char *name, unsigned skip);
/* Index of s in the NULL-terminated choices, or -1. */
int cli_choice(const char *const *choices, const char *s);

/* ---- words.c: lists of words -------------------------------------------- */

/* A growing list of malloc'd strings, NULL-terminated. */
struct cli_words {
	char **v;
	size_t n, cap;
};
void cli_words_add(struct cli_words *w, const char *s);
void cli_words_release(struct cli_words *w);
/*
 * Splits line into words as a shell does: blanks separate, '...' keeps
 * everything, "..." keeps all but \" and \\, a backslash escapes the next
 * character.  Returns the number of words (in *out, freed with
 * cli_words_release), or -1 for an unterminated quote unless `lenient`.
 */
int cli_split_words(const char *line, struct cli_words *out, int lenient);

/* ---- complete.c: what may come next on a command line ------------------ */

/* Where completion runs: the shell (pfi __complete) or pfi repl. */
struct cli_complete {
	int repl;                            /* REPL-only commands count */
	pfi_store *(*store)(void *ctx);      /* the index, or NULL: no values */
	void *ctx;
	/* The operands of a REPL-only command (set, show ...); nth counts
	 * those before cur, first is the first of them.  As cli_complete. */
	int (*operands)(struct cli_complete *c, const struct pfi_cmd *cmd,
	                int nth, const char *first, const char *cur,
	                struct cli_words *w);
};

/*
 * Adds to w what may replace the last of words[0..n) (the command line
 * after "pfi"; the last word may be ""): commands, options, fixed values,
 * values from the index.  Returns 1 when paths should be completed
 * instead (the shell's or readline's own completion), else 0.
 */
int cli_complete(struct cli_complete *c, int n, char **words,
                 struct cli_words *w);
/* Values of kind arg (o: the option, for its choices) that start with
 * cur, each prefixed with head.  Returns 1 for paths, as above. */
int cli_complete_value(struct cli_complete *c, enum cli_arg arg,
                       const struct cli_opt *o, const char *head,
                       const char *cur, struct cli_words *w);

/* ---- repl.c --------------------------------------------------------------- */

/* The read-only SQL connection of the session, opened on first use;
 * NULL (reported) when it cannot be, or outside pfi repl. */
pfi_sql *cli_repl_sql(struct pfi_globals *g);
/* The commands of pfi repl itself, for `help` inside it. */
int cli_repl_help(struct pfi_globals *g);
/* Called by search for each row it prints: notes what `trace #N` needs and
 * returns N, the row's number in the REPL (0 outside it). */
int cli_rows_note(struct pfi_globals *g, const char *queue_id,
                  const char *message_id);

/* ---- filters.c: the FILTERS options of search and stats ---------------- */

enum {
	CLI_OPT_FROM = 256, CLI_OPT_TO, CLI_OPT_DOMAIN, CLI_OPT_SENDER_DOMAIN,
	CLI_OPT_SUBJECT, CLI_OPT_STATUS, CLI_OPT_DSN, CLI_OPT_CLIENT,
	CLI_OPT_RELAY, CLI_OPT_HOST, CLI_OPT_MESSAGE_ID, CLI_OPT_SASL_USER,
	CLI_OPT_SINCE, CLI_OPT_UNTIL, CLI_OPT_GREP, CLI_OPT_VERDICT,
	CLI_OPT_FILTER_END          /* a command's own options start here */
};

/* The recipient outcomes (SPEC vocabulary), NULL-terminated. */
extern const char *const cli_statuses[];
/* Every KIND=RESULT of --verdict (SPEC vocabulary, as the library's
 * pfi_verdict_results gives it), NULL-terminated. */
extern const char *const cli_verdicts[];

/* The option spec entries of FILTERS, for a command's option table. */
#define CLI_FILTER_OPTS \
	{ "from", 0, CLI_ARG_SENDER, "ADDR", CLI_OPT_FROM, CLI_OPT_FILTER, \
	  NULL, "envelope sender (\"<>\" for the null sender)", NULL }, \
	{ "to", 0, CLI_ARG_RECIPIENT, "ADDR", CLI_OPT_TO, CLI_OPT_FILTER, \
	  NULL, "recipient, as delivered or as addressed", NULL }, \
	{ "domain", 0, CLI_ARG_DOMAIN, "DOMAIN", CLI_OPT_DOMAIN, \
	  CLI_OPT_FILTER, NULL, \
	  "recipient domain; *.DOMAIN adds subdomains", NULL }, \
	{ "sender-domain", 0, CLI_ARG_SENDER_DOMAIN, "DOMAIN", \
	  CLI_OPT_SENDER_DOMAIN, CLI_OPT_FILTER, NULL, \
	  "sender domain; *.DOMAIN adds subdomains", NULL }, \
	{ "subject", 0, CLI_ARG_TEXT, "TEXT", CLI_OPT_SUBJECT, CLI_OPT_FILTER, \
	  NULL, "Subject contains TEXT (any case)", NULL }, \
	{ "status", 0, CLI_ARG_CHOICE, "STATUS", CLI_OPT_STATUS, \
	  CLI_OPT_FILTER | CLI_OPT_LIST, cli_statuses, \
	  "sent, deferred, bounced, expired, rejected, discarded, held, " \
	  "deleted or filtered; repeat or give a comma list for any of them", \
	  NULL }, \
	{ "dsn", 0, CLI_ARG_TEXT, "CODE", CLI_OPT_DSN, CLI_OPT_FILTER, NULL, \
	  "DSN code: 5.1.1, 5.1.* or 5.*", NULL }, \
	{ "client", 0, CLI_ARG_TEXT, "IP|HOST|CIDR", CLI_OPT_CLIENT, \
	  CLI_OPT_FILTER, NULL, "client address, host name or network", NULL }, \
	{ "relay", 0, CLI_ARG_TEXT, "HOST", CLI_OPT_RELAY, CLI_OPT_FILTER, NULL, \
	  "next hop, by host name or address", NULL }, \
	{ "host", 0, CLI_ARG_HOST, "MTAHOST", CLI_OPT_HOST, CLI_OPT_FILTER, \
	  NULL, "the mail server that logged it", NULL }, \
	{ "message-id", 0, CLI_ARG_TEXT, "ID", CLI_OPT_MESSAGE_ID, \
	  CLI_OPT_FILTER, NULL, "Message-ID, with or without <>", NULL }, \
	{ "sasl-user", 0, CLI_ARG_TEXT, "USER", CLI_OPT_SASL_USER, \
	  CLI_OPT_FILTER, NULL, "SASL login of the sender", NULL }, \
	{ "since", 0, CLI_ARG_TIME, "T", CLI_OPT_SINCE, CLI_OPT_FILTER, NULL, \
	  "at or after T: 2h, 1h ago, now, today, yesterday 14:00, 13:40, " \
	  "Nov 22, Nov 22 13:40, 2026-11-02T10:00, RFC3339, @EPOCH", NULL }, \
	{ "until", 0, CLI_ARG_TIME, "T", CLI_OPT_UNTIL, CLI_OPT_FILTER, NULL, \
	  "before T", NULL }, \
	{ "grep", 0, CLI_ARG_TEXT, "REGEX", CLI_OPT_GREP, CLI_OPT_FILTER, \
	  NULL, "PCRE2 regex over the message's log lines", NULL }, \
	{ "verdict", 0, CLI_ARG_CHOICE, "KIND=RESULT", CLI_OPT_VERDICT, \
	  CLI_OPT_FILTER, cli_verdicts, \
	  "a milter's or filter's verdict on the message: dkim=fail, " \
	  "spf=softfail, dmarc=fail, spam=spam, virus=infected ...; " \
	  "repeat for all of them", NULL }

/* A filter being read from the command line. */
struct cli_filter {
	struct pfi_filter f;     /* strings point into argv */
	const char **status;     /* every --status value (owned array) */
	const char **verdict;    /* every --verdict value (owned array) */
};

/* Takes option c (value v) when it is a filter: returns 1 with the exit
 * code in *rc (PFI_EXIT_OK, or a usage error already reported for cmd),
 * or 0 when c is not a filter option. */
int cli_filter_option(const char *cmd, struct cli_filter *cf, int c,
                      const char *v, int *rc);
void cli_filter_release(struct cli_filter *cf);

/* ---- common.c: allocation that cannot fail ------------------------------ */

/* These print "pfi: out of memory" and exit with PFI_EXIT_FAILURE. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* ---- common.c: messages ------------------------------------------------- */

/*
 * Messages go to stderr as "pfi: " + text, lower case, no final full stop,
 * the subject in single quotes: cli_error("cannot open '%s': %s", p, e).
 */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the message and returns PFI_EXIT_FAILURE. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the message and exits with PFI_EXIT_FAILURE. */
void cli_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
/* Prints the message and "Try 'pfi CMD --help'.", returns PFI_EXIT_USAGE.
 * `cmd` NULL means pfi itself ("Try 'pfi --help'."). */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Inside pfi repl (on), the hint is "Try 'help CMD'." instead. */
void cli_usage_in_repl(int on);

/* ---- common.c: options and output --------------------------------------- */

/* The names of the output formats and colour modes, NULL-terminated. */
extern const char *const cli_formats[];
extern const char *const cli_colors[];
/* Parse option values; 0 on success, -1 for an unknown name. */
int cli_parse_format(const char *s, enum pfi_format *out);
int cli_parse_color(const char *s, enum pfi_color *out);
/* Sets g->tty, g->width and g->use_color from stdout, --color, NO_COLOR
 * and TERM (dumb: none), and whether cli_time() reads bare times as UTC. */
void cli_setup_output(struct pfi_globals *g);
/* Width of the terminal on stdout (ioctl, else $COLUMNS), 0 if none. */
int cli_term_width(void);
/*
 * For a CMD_PAGED command on a terminal (and no --no-pager), sends stdout
 * through $PFI_PAGER, else $PAGER, else "less -FRSX" (with LESS=FRSX when
 * LESS is unset), as git does; "cat" or "" mean none.  In pfi repl the
 * answer is kept until it is whole, then paged if it is longer than the
 * screen.  cli_pager_end() waits for the reader and gives stdout back.
 */
void cli_pager_start(struct pfi_globals *g);
void cli_pager_end(struct pfi_globals *g);

/*
 * A pfi_out on stdout in the format of g (or `fmt` when not -1), with
 * colour, escaping, UTC and terminal width set from g.
 */
pfi_out *cli_out_new(const struct pfi_globals *g, int fmt);
/* Whether stdout is a pipe whose reader has gone (EPIPE stays quiet). */
int cli_stdout_closed(void);
/* Ends and frees o; returns an exit code: a write error other than a
 * closed pipe is reported and gives PFI_EXIT_FAILURE. */
int cli_out_end(pfi_out *o);
/*
 * Reports, in one line, that `what` ("cannot compute stats") failed on the
 * open index with rc: a damaged index or one another pfi writes is named,
 * with what to do.  Returns PFI_EXIT_FAILURE.
 */
int cli_index_error(struct pfi_globals *g, pfi_store *st, int rc,
                    const char *what);
/*
 * Says on stderr, in one line after `what` ("no match"), what the index
 * covers (its period, hosts, messages and rejects) and, when the
 * --since/--until window of f lies outside that period, that it does; an
 * empty index is told to run pfi index.
 */
void cli_index_covers(const struct pfi_globals *g, pfi_store *st,
                      const struct pfi_filter *f, const char *what);
/* A number or count, or null when it is unknown (negative). */
void cli_out_num(pfi_out *o, const char *key, double v);
void cli_out_int(pfi_out *o, const char *key, int64_t v);

/* The time forms of --since, --until and --before, for messages. */
#define CLI_TIME_FORMS \
	"ages (90s, 2h, -1h, 1h ago, 2 days ago), now, today, yesterday, " \
	"yesterday 14:00, 13:40 (the last one), Nov 22, Nov 22 13:40, " \
	"2026-11-02, 2026-11-02T10:00, RFC 3339 with an offset, @EPOCH"
/* A time T of the command line, read at the time pfi runs: bare times in
 * UTC with --utc, else local.  Returns 0, or -1 if v is none. */
int cli_time(const char *v, int64_t *out);
/* The usage error for v, not a time, given to option opt of cmd: it
 * lists the forms.  Returns PFI_EXIT_USAGE. */
int cli_time_error(const char *cmd, const char *opt, const char *v);

/* A duration in seconds, more than zero: "300", "90s", "5m", "1h", "1d",
 * "1w", fractions allowed.  Returns 0, or -1 if v is none. */
int cli_duration(const char *v, double *out);

/* Writes s to fp with control characters and invalid UTF-8 shown as
 * \t, \x1b ... so that log text cannot drive the terminal. */
void cli_put_escaped(FILE *fp, const char *s);
/* The same for n bytes at s, which may hold NUL bytes (shown as \x00). */
void cli_put_escaped_len(FILE *fp, const char *s, size_t n);

/* ---- common.c: the index ------------------------------------------------ */

/* The index path: --db, $PFI_DB, $XDG_DATA_HOME/pfi/index.db or
 * $HOME/.local/share/pfi/index.db; NULL (reported) if none can be made. */
const char *cli_db_path(struct pfi_globals *g);
/* The same, saying nothing when there is none. */
const char *cli_db_path_quiet(struct pfi_globals *g);
/* Opens the index as g->cmd's flags ask (once; later calls return the
 * same store).  NULL after reporting the failure: exit PFI_EXIT_FAILURE. */
pfi_store *cli_store(struct pfi_globals *g);

/* ---- common.c: following logs (index --follow, metrics --follow) ------- */

/* Fills gl (globfree it) with the paths and their logrotate siblings
 * (PATH.1, PATH-20261101 ...), so the lines a file gained just before it
 * was rotated are still read, and returns a checksum of what stat(2) says
 * of them: an equal checksum means no file changed. */
uint64_t cli_follow_files(char **paths, size_t n, glob_t *gl);
/* Sleeps about ms milliseconds, waking early once *stop is set. */
void cli_nap(int ms, volatile sig_atomic_t *stop);

/* trace.c: a verdict's SPEC fields; "verdicts" as an array of them. */
void cli_out_verdict(pfi_out *o, const struct pfi_verdict *v);
void cli_out_verdicts(pfi_out *o, const struct pfi_verdict *v, size_t n);

/* logtz.c: index --log-tz ZONE sets TZ to it; --year YYYY.  An exit
 * code: PFI_EXIT_OK, or PFI_EXIT_USAGE (said on stderr). */
int cli_set_log_tz(const char *zone);
int cli_year(const char *v, int *out);

#endif /* PFI_CMD_H */
