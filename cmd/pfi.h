/*
 * pfi.h - the pfi command: the command table, global options, exit codes
 * and the helpers shared by the files of cmd/.  cmd/ is built only on the
 * public library interface, lib/pfi.h, never on lib/pfi-int.h.
 *
 * Checklist for adding a command NAME:
 *  1. cmd/NAME.c in the shape of cmd/info.c: a 3-6 line header comment,
 *     static const struct option NAME_options[] plus the short-option
 *     string, `const char cmd_NAME_usage[]` equal to the man SYNOPSIS,
 *     static helpers prefixed NAME_, then int cmd_NAME(g, argc, argv).
 *  2. cmd_NAME and cmd_NAME_usage declared below, an entry in pfi_cmds[]
 *     in cmd/pfi.c (name, summary, usage, CMD_* flags, function), and
 *     cmd/NAME.c in CMD_SOURCES of Makefile.am.
 *  3. man/pfi-NAME.1 (its SYNOPSIS is the usage string), and the command
 *     in the command list of man/pfi.1.
 *  4. The three completion files: completions/pfi (bash), completions/_pfi
 *     (zsh) and completions/pfi.fish, with every long option.
 *  5. Tests in tests/test_cli.c: output per format, exit codes, usage
 *     errors.  tests/test_docs.c checks steps 3 and 4 for every option.
 *
 * The index is opened by cli_store(), which a command calls once its
 * options are parsed, so that --help and usage errors never create or
 * touch an index; what it opens is decided by the command's CMD_* flags.
 */
#ifndef PFI_CMD_H
#define PFI_CMD_H

#include <getopt.h>
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

/* What a command needs opened before it can work. */
enum pfi_cmd_flags {
	CMD_NEEDS_DB = 1,   /* reads the index; it must exist */
	CMD_WRITES_DB = 2   /* writes the index; created when absent */
};

enum pfi_color {
	PFI_COLOR_AUTO,     /* when stdout is a terminal and NO_COLOR is unset */
	PFI_COLOR_ALWAYS,
	PFI_COLOR_NEVER
};

struct pfi_cmd;

/* The global options and what pfi_main() set up for the command. */
struct pfi_globals {
	const char *db;              /* --db PATH, NULL when not given */
	enum pfi_format format;      /* --format or --json; table by default */
	enum pfi_color color;        /* --color */
	int utc;                     /* --utc: times in UTC */
	int csv_raw;                 /* --csv-raw: no ' before formula-like cells */
	int tty;                     /* stdout is a terminal */
	int use_color;               /* colour resolved from --color */
	const struct pfi_cmd *cmd;   /* the command being run */
	pfi_store *store;            /* opened by cli_store(); pfi_main closes it */
	char *db_path;               /* the resolved index path (owned) */
};

/*
 * A command: parses its own options from argv (argv[0] is its name) and
 * returns an enum pfi_exit code.  It reaches the index via cli_store(g).
 */
typedef int pfi_cmd_fn(struct pfi_globals *g, int argc, char **argv);

struct pfi_cmd {
	const char *name;       /* exact name; no abbreviations */
	const char *summary;    /* one lower-case line for `pfi --help` */
	const char *usage;      /* the synopsis, as in the man page */
	unsigned flags;         /* enum pfi_cmd_flags */
	pfi_cmd_fn *fn;
};

/* ---- pfi.c -------------------------------------------------------------- */

extern const struct pfi_cmd pfi_cmds[];   /* ends with a NULL name */

/* The whole program: what main() runs, and what tests call in process. */
int pfi_main(int argc, char **argv);

/* ---- the commands ------------------------------------------------------- */

extern const char cmd_index_usage[];
extern const char cmd_trace_usage[];
extern const char cmd_search_usage[];
extern const char cmd_info_usage[];
extern const char cmd_stats_usage[];

int cmd_index(struct pfi_globals *g, int argc, char **argv);
int cmd_trace(struct pfi_globals *g, int argc, char **argv);
int cmd_search(struct pfi_globals *g, int argc, char **argv);
int cmd_info(struct pfi_globals *g, int argc, char **argv);
int cmd_stats(struct pfi_globals *g, int argc, char **argv);
/* ---- filters.c: the FILTERS options of search and stats ---------------- */

enum {
	CLI_OPT_FROM = 256, CLI_OPT_TO, CLI_OPT_DOMAIN, CLI_OPT_SENDER_DOMAIN,
	CLI_OPT_SUBJECT, CLI_OPT_STATUS, CLI_OPT_DSN, CLI_OPT_CLIENT,
	CLI_OPT_RELAY, CLI_OPT_HOST, CLI_OPT_MESSAGE_ID, CLI_OPT_SASL_USER,
	CLI_OPT_SINCE, CLI_OPT_UNTIL, CLI_OPT_GREP,
	CLI_OPT_FILTER_END          /* a command's own options start here */
};

/* The struct option entries of FILTERS, for a command's option table. */
#define CLI_FILTER_OPTIONS \
	{ "from", required_argument, NULL, CLI_OPT_FROM }, \
	{ "to", required_argument, NULL, CLI_OPT_TO }, \
	{ "domain", required_argument, NULL, CLI_OPT_DOMAIN }, \
	{ "sender-domain", required_argument, NULL, CLI_OPT_SENDER_DOMAIN }, \
	{ "subject", required_argument, NULL, CLI_OPT_SUBJECT }, \
	{ "status", required_argument, NULL, CLI_OPT_STATUS }, \
	{ "dsn", required_argument, NULL, CLI_OPT_DSN }, \
	{ "client", required_argument, NULL, CLI_OPT_CLIENT }, \
	{ "relay", required_argument, NULL, CLI_OPT_RELAY }, \
	{ "host", required_argument, NULL, CLI_OPT_HOST }, \
	{ "message-id", required_argument, NULL, CLI_OPT_MESSAGE_ID }, \
	{ "sasl-user", required_argument, NULL, CLI_OPT_SASL_USER }, \
	{ "since", required_argument, NULL, CLI_OPT_SINCE }, \
	{ "until", required_argument, NULL, CLI_OPT_UNTIL }, \
	{ "grep", required_argument, NULL, CLI_OPT_GREP }

/* A filter being read from the command line. */
struct cli_filter {
	struct pfi_filter f;     /* strings point into argv */
	const char **status;     /* every --status value (owned array) */
};

/* Takes option c (value v) when it is a filter: returns 1 with the exit
 * code in *rc (PFI_EXIT_OK, or a usage error already reported for cmd),
 * or 0 when c is not a filter option. */
int cli_filter_option(const char *cmd, struct cli_filter *cf, int c,
                      const char *v, int *rc);
void cli_filter_release(struct cli_filter *cf);

extern const char cmd_prune_usage[];
int cmd_prune(struct pfi_globals *g, int argc, char **argv);

extern const char cmd_metrics_usage[];
int cmd_metrics(struct pfi_globals *g, int argc, char **argv);

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
/*
 * getopt_long() without its prefix abbreviations: "--qui" for "--quiet"
 * would break scripts once another option starts the same way.  An
 * abbreviation is refused like an unknown option ('?').  Reset optind = 0
 * and opterr = 0 before the first call.
 */
int cli_getopt(int argc, char **argv, const char *shortopts,
               const struct option *longopts);
/* Reports what cli_getopt() refused (it returned c, '?' or ':'), as a
 * usage error of command `cmd`.  Call with opterr = 0. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* Prints "usage: USAGE\n\nHELP" to stdout; returns PFI_EXIT_OK. */
int cli_help(const char *usage, const char *help);

/* ---- common.c: options and output --------------------------------------- */

/* Parse option values; 0 on success, -1 for an unknown name. */
int cli_parse_format(const char *s, enum pfi_format *out);
int cli_parse_color(const char *s, enum pfi_color *out);
/* Sets g->tty and g->use_color from stdout and --color. */
void cli_setup_output(struct pfi_globals *g);
/* Width of the terminal on stdout (ioctl, else $COLUMNS), 0 if none. */
int cli_term_width(void);

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
/* A number or count, or null when it is unknown (negative). */
void cli_out_num(pfi_out *o, const char *key, double v);
void cli_out_int(pfi_out *o, const char *key, int64_t v);

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

#endif /* PFI_CMD_H */
