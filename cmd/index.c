/*
 * index.c - `pfi index [PATH|-]...`: reads Postfix logs (plain or
 * compressed, "-" for standard input; by default /var/log/mail.log* and
 * /var/log/maillog*, else the systemd journal) or, with --journal, the
 * systemd journal into the index, creating it when absent.  Writes the
 * index; shows progress and a summary on stderr.  SIGINT and SIGTERM stop
 * the run after committing what is complete.
 */
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pfi.h"

enum {
	OPT_FOLLOW = 'f', OPT_QUIET = 'q', OPT_LIFETIME = 1, OPT_MAX_OPEN,
	OPT_JOURNAL, OPT_JOURNAL_DIR, OPT_JOURNAL_FILE, OPT_YEAR, OPT_LOG_TZ
};

static const struct cli_opt index_opts[] = {
	{ "follow", 'f', CLI_ARG_NONE, NULL, OPT_FOLLOW, 0, NULL,
	  "keep indexing what the files gain, across rotations, until "
	  "interrupted", NULL },
	{ "quiet", 'q', CLI_ARG_NONE, NULL, OPT_QUIET, 0, NULL,
	  "show no progress and no summary", NULL },
	{ "queue-lifetime", 0, CLI_ARG_DURATION, "DURATION", OPT_LIFETIME, 0,
	  NULL, "Postfix's maximal_queue_lifetime (default 5d): a message no "
	  "line names for this plus two days is closed, its pending recipients "
	  "'unknown'; 'never' keeps them open", NULL },
	{ "max-open", 0, CLI_ARG_NUMBER, "N", OPT_MAX_OPEN, 0, NULL,
	  "keep at most N messages open between runs (default 50000; 0: no "
	  "cap); the longest silent are closed", NULL },
	{ "year", 0, CLI_ARG_NUMBER, "YYYY", OPT_YEAR, 0, NULL,
	  "the year of each file's first classic line (they have none), when "
	  "the file's mtime no longer tells; rollovers still step it", NULL },
	{ "log-tz", 0, CLI_ARG_TEXT, "ZONE", OPT_LOG_TZ, 0, NULL,
	  "the zone stamps without an offset were written in: UTC, +02:00, "
	  "Europe/Berlin (default: the local zone)", NULL },
	{ "journal", 0, CLI_ARG_NONE, NULL, OPT_JOURNAL, 0, NULL,
	  "read the systemd journal's Postfix entries, not files, from where "
	  "the last run stopped", "[--journal [--journal-dir DIR|--journal-file"
	  " FILE]...]" },
	{ "journal-dir", 0, CLI_ARG_FILE, "DIR", OPT_JOURNAL_DIR,
	  CLI_OPT_NO_USAGE, NULL, "with --journal: the journal files in DIR (a "
	  "copied /var/log/journal), not the system's; repeatable", NULL },
	{ "journal-file", 0, CLI_ARG_FILE, "FILE", OPT_JOURNAL_FILE,
	  CLI_OPT_NO_USAGE, NULL, "with --journal: the journal file FILE, not "
	  "the system's; repeatable", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

static const char *const index_default_globs[] = {
	"/var/log/mail.log*", "/var/log/maillog*", NULL
};

/* Set by SIGINT/SIGTERM: the library stops at the next line. */
static volatile sig_atomic_t index_stop;

/* A journal source named on the command line. */
struct index_jsrc {
	enum pfi_journal_kind kind;   /* PFI_JOURNAL_DIR or _FILE */
	const char *path;
};

/* What the command line asked for. */
struct index_args {
	int quiet;               /* --quiet */
	int follow;              /* --follow */
	int64_t queue_lifetime;  /* seconds; 0 default, -1 never */
	int64_t max_open;        /* 0 default, -1 no cap */
	int year;                /* --year; 0: from each file's mtime */
	const char *log_tz;      /* --log-tz, as given (TZ is set to it) */
	int journal;             /* --journal, --journal-dir or --journal-file */
	struct index_jsrc *jsrc; /* --journal-dir and --journal-file, in order */
	size_t njsrc;
};

/* State of the progress line on stderr. */
struct index_ui {
	const struct index_args *args;
	int progress;            /* show progress (stderr is a tty, no --quiet) */
	int shown;               /* a progress line is on the screen */
	struct timespec start;   /* when the run began */
	double drawn;            /* seconds into the run of the last line */
};

static void index_on_signal(int sig)
{
	(void)sig;
	index_stop = 1;
}

static double index_elapsed(const struct index_ui *ui)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - ui->start.tv_sec) +
	       (double)(now.tv_nsec - ui->start.tv_nsec) / 1e9;
}

static void index_clear(struct index_ui *ui)
{
	if (ui->shown)
		fputs("\r\033[K", stderr);
	ui->shown = 0;
}

static void index_warn(void *ctx, const char *msg)
{
	index_clear(ctx);
	cli_warn("%s", msg);
}

/* A time left for people: "12s", "5m03s", "2h10m". */
static const char *index_left(char *buf, size_t size, double secs)
{
	long s = (long)(secs + 0.5);

	if (s < 60)
		snprintf(buf, size, "%lds", s);
	else if (s < 3600)
		snprintf(buf, size, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(buf, size, "%ldh%02ldm", s / 3600, s % 3600 / 60);
	return buf;
}

/* What a finishing step is called on the progress line. */
static const char *index_step_name(enum pfi_index_step step)
{
	switch (step) {
	case PFI_STEP_SAVE: return "saving open messages and counts";
	case PFI_STEP_INDEXES: return "building indexes";
	case PFI_STEP_LINKS: return "linking messages";
	case PFI_STEP_STATS: return "updating statistics";
	case PFI_STEP_COMMIT: return "committing";
	default: return "reading";
	}
}

/* The reading line: "indexing FILE (2/5): 45% of 212.9 MB, 35.2 MB/s,
 * 251234 lines/s, 4s left"; without a known size, what is read so far. */
static int index_reading(char *line, size_t size, const struct pfi_progress *p,
                         double secs)
{
	double done = (double)p->run_bytes_done, total = (double)p->run_bytes_total;
	double rate = secs > 0 ? done / secs : 0, lines = secs > 0 ? p->lines / secs : 0;
	char of[32] = "", left[48] = "", eta[32];

	if (p->files > 1)
		snprintf(of, sizeof(of), " (%u/%u)", p->file, p->files);
	if (total <= 0)
		return snprintf(line, size, "indexing %s%s: %.1f MB, %.1f MB/s, %.0f"
		                " lines/s", p->path ? p->path : "-", of, done / 1e6,
		                rate / 1e6, lines);
	if (done > total)
		done = total;
	if (rate > 0)
		snprintf(left, sizeof(left), ", %s left",
		         index_left(eta, sizeof(eta), (total - done) / rate));
	return snprintf(line, size, "indexing %s%s: %.0f%% of %.1f MB, %.1f MB/s,"
	                " %.0f lines/s%s", p->path ? p->path : "-", of,
	                done * 100 / total, total / 1e6, rate / 1e6, lines, left);
}

/* "\r" + what the run does, cut to the screen: the file being read, how
 * far, how fast and the time left, then each finishing step by name. */
static void index_progress(void *ctx, const struct pfi_progress *p)
{
	struct index_ui *ui = ctx;
	struct winsize ws;
	double secs = index_elapsed(ui);
	size_t cols = 80;
	char line[512], took[32];
	int n;

	if (!ui->progress)
		return;
	/* at most ten lines a second while reading */
	if (p->step == PFI_STEP_READ && ui->shown && secs - ui->drawn < 0.1)
		return;
	ui->drawn = secs;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col;
	if (p->step != PFI_STEP_READ)
		n = snprintf(line, sizeof(line), "indexing: %" PRIu64 " lines read in"
		             " %s; %s", p->lines, index_left(took, sizeof(took), secs),
		             index_step_name(p->step));
	else if (p->bytes_total == 0 && p->bytes_done == 0)   /* a journal */
		n = snprintf(line, sizeof(line), "indexing journal %s: %" PRIu64
		             " entries, %.0f entries/s", p->path ? p->path : "-",
		             p->lines, secs > 0 ? (double)p->lines / secs : 0.0);
	else
		n = index_reading(line, sizeof(line), p, secs);
	if (n < 0)
		return;
	if ((size_t)n >= cols)
		line[cols - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	ui->shown = 1;
}

/* The summary; `what` names the inputs: "files" or "journals". */
static void index_summary(const struct pfi_index_report *r, const char *what)
{
	fprintf(stderr, "indexed %" PRIu64 " lines from %" PRIu64 " %s: %"
	        PRIu64 " messages done, %" PRIu64 " still queued, %" PRIu64
	        " deliveries, %" PRIu64 " rejects, %" PRIu64 " unparsed",
	        r->lines, r->files_read, what, r->messages, r->open_messages,
	        r->deliveries, r->rejects, r->unparsed_lines);
	if (r->nosyslog_lines > 0)
		fprintf(stderr, ", %" PRIu64 " not syslog", r->nosyslog_lines);
	if (r->duplicate_lines > 0)
		fprintf(stderr, ", %" PRIu64 " duplicate lines skipped",
		        r->duplicate_lines);
	if (r->files_skipped > 0)
		fprintf(stderr, "; %" PRIu64 " %s unchanged", r->files_skipped,
		        what);
	fputc('\n', stderr);
}

/* The default paths, by glob(3); 0 when there are none. */
static int index_default_paths(glob_t *gl)
{
	int i, flags = 0;

	for (i = 0; index_default_globs[i] != NULL; i++) {
		glob(index_default_globs[i], flags, NULL, gl);
		flags = GLOB_APPEND;
	}
	return gl->gl_pathc > 0;
}

/* The options of a run of the library. */
static void index_opts_init(struct pfi_index_opts *opts, int follow,
                            struct index_ui *ui)
{
	memset(opts, 0, sizeof(*opts));
	opts->version = PFI_INDEX_OPTIONS_VERSION;
	opts->warn = index_warn;
	opts->progress = index_progress;
	opts->ctx = ui;
	opts->stop = &index_stop;
	opts->follow = follow;
	opts->queue_lifetime = ui->args->queue_lifetime;
	opts->max_open = ui->args->max_open;
	opts->year = ui->args->year;
	opts->log_tz = ui->args->log_tz;
	clock_gettime(CLOCK_MONOTONIC, &ui->start);
}

/* Runs the library once; returns its status. */
static int index_once(pfi_store *st, char **paths, size_t n, int follow,
                      struct index_ui *ui, struct pfi_index_report *r)
{
	struct pfi_index_opts opts;
	int rc;

	index_opts_init(&opts, follow, ui);
	rc = pfi_index_paths(st, (const char *const *)paths, n, &opts, r);
	index_clear(ui);
	return rc;
}

static void index_catch_signals(struct sigaction *old_int,
                                struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = index_on_signal;
	sigemptyset(&sa.sa_mask);
	index_stop = 0;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

/* ---- --follow ------------------------------------------------------------ */

/* Adds the report of one pass to the total. */
static void index_add(struct pfi_index_report *t, const struct pfi_index_report *r)
{
	t->files_read += r->files_read;
	t->files_failed += r->files_failed;
	t->lines += r->lines;
	t->postfix_lines += r->postfix_lines;
	t->unparsed_lines += r->unparsed_lines;
	t->foreign_lines += r->foreign_lines;
	t->nosyslog_lines += r->nosyslog_lines;
	t->duplicate_lines += r->duplicate_lines;
	t->messages += r->messages;
	t->deliveries += r->deliveries;
	t->rejects += r->rejects;
	t->open_messages = r->open_messages;
}

/* Indexes, then again whenever a file changes, until SIGINT or SIGTERM;
 * each pass is its own transaction, so readers see new mail at once. */
static int index_follow(pfi_store *st, char **paths, size_t n,
                        struct index_ui *ui, struct pfi_index_report *total)
{
	uint64_t last = 0;
	int rc = PFI_OK;

	while (!index_stop && (rc == PFI_OK || rc == PFI_EIO)) {
		glob_t gl = { 0 };
		uint64_t sig = cli_follow_files(paths, n, &gl);

		if (sig != last) {
			struct pfi_index_report r;
			rc = index_once(st, gl.gl_pathv, gl.gl_pathc, 1, ui, &r);
			index_add(total, &r);
			last = sig;
		}
		globfree(&gl);
		cli_nap(500, &index_stop);
	}
	return rc;
}

/* The exit code of a run (or of following) that returned rc, after the
 * summary; `what` names its inputs. */
static int index_outcome(pfi_store *st, const struct index_args *a, int rc,
                         const struct pfi_index_report *r, const char *what)
{
	/* Only a committed run may say "indexed": a failed one rolled back. */
	if (!a->quiet && (rc == PFI_OK || rc == PFI_EIO))
		index_summary(r, what);
	if (a->follow && index_stop && (rc == PFI_OK || rc == PFI_EIO))
		return PFI_EXIT_OK;
	if (index_stop)
		return cli_error("interrupted; what was complete is indexed");
	if (rc == PFI_EIO)
		return PFI_EXIT_FAILURE;
	if (rc == PFI_EBUSY)
		return cli_error("cannot index: %s; run 'pfi index' again when "
		                 "that ends", pfi_errmsg(st));
	if (rc != PFI_OK)
		return cli_error("cannot index: %s", pfi_errmsg(st));
	return PFI_EXIT_OK;
}

/* Indexes paths (once, or following them) and reports; the exit code. */
static int index_paths(struct pfi_globals *g, char **paths, size_t n,
                       const struct index_args *a)
{
	struct sigaction old_int, old_term;
	struct pfi_index_report r;
	struct index_ui ui = { a, 0, 0, { 0, 0 }, 0 };
	pfi_store *st;
	int rc;

	if ((st = cli_store(g)) == NULL)
		return PFI_EXIT_FAILURE;
	ui.progress = !a->quiet && !a->follow && isatty(STDERR_FILENO);
	memset(&r, 0, sizeof(r));
	index_catch_signals(&old_int, &old_term);
	if (a->follow)
		rc = index_follow(st, paths, n, &ui, &r);
	else
		rc = index_once(st, paths, n, 0, &ui, &r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return index_outcome(st, a, rc, &r, "files");
}

/* ---- the systemd journal --------------------------------------------------- */

/* The journal sources of the options, else the system journal, into *j.
 * PFI_OK, or a failure whose message is pfi_journal_errmsg(*j) (free *j
 * all the same). */
static int index_journal_open(const struct index_args *a, pfi_journal **j)
{
	size_t i;
	int rc;

	if (pfi_journal_new(j) != PFI_OK)
		cli_die("out of memory");
	rc = a->njsrc ? PFI_OK : pfi_journal_add(*j, PFI_JOURNAL_SYSTEM, NULL);
	for (i = 0; rc == PFI_OK && i < a->njsrc; i++)
		rc = pfi_journal_add(*j, a->jsrc[i].kind, a->jsrc[i].path);
	return rc;
}

static int index_journal_once(pfi_store *st, pfi_journal *j,
                              struct index_ui *ui, struct pfi_index_report *r)
{
	struct pfi_index_opts opts;
	int rc;

	index_opts_init(&opts, 0, ui);
	rc = pfi_index_journal(st, j, &opts, r);
	index_clear(ui);
	return rc;
}

/* Indexes what the journal gains, whenever it changes, until SIGINT or
 * SIGTERM; a burst of entries is taken in one run after a short nap.
 * *waited is set when waiting failed (reported). */
static int index_journal_follow(pfi_store *st, pfi_journal *j,
                                struct index_ui *ui,
                                struct pfi_index_report *total, int *waited)
{
	struct pfi_index_report r;
	int rc = PFI_OK, changed;

	while (!index_stop && (rc == PFI_OK || rc == PFI_EIO)) {
		changed = pfi_journal_wait(j, 500);
		if (changed < 0) {
			cli_error("%s", pfi_journal_errmsg(j));
			*waited = 1;
			return changed;
		}
		if (changed == 0 || index_stop)
			continue;
		rc = index_journal_once(st, j, ui, &r);
		if (r.files_read > 0 || r.files_failed > 0)
			index_add(total, &r);
		cli_nap(200, &index_stop);
	}
	return rc;
}

/* Indexes the journal j (once, or following it), reports and frees j;
 * the exit code. */
static int index_journal(struct pfi_globals *g, const struct index_args *a,
                         pfi_journal *j)
{
	struct sigaction old_int, old_term;
	struct pfi_index_report r;
	struct index_ui ui = { a, 0, 0, { 0, 0 }, 0 };
	pfi_store *st;
	int rc, waited = 0;

	if ((st = cli_store(g)) == NULL) {
		pfi_journal_free(j);
		return PFI_EXIT_FAILURE;
	}
	ui.progress = !a->quiet && !a->follow && isatty(STDERR_FILENO);
	memset(&r, 0, sizeof(r));
	index_catch_signals(&old_int, &old_term);
	if (a->follow)
		rc = index_journal_follow(st, j, &ui, &r, &waited);
	else
		rc = index_journal_once(st, j, &ui, &r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	pfi_journal_free(j);
	if (waited)
		return PFI_EXIT_FAILURE;
	return index_outcome(st, a, rc, &r, "journals");
}

/* --journal: the journal sources the options name, or the system's. */
static int index_journal_cmd(struct pfi_globals *g, const struct index_args *a)
{
	pfi_journal *j = NULL;

	if (!pfi_journal_supported())
		return cli_error("--journal: this pfi was built without systemd"
		                 " journal support (configure --with-systemd,"
		                 " with libsystemd-dev installed)");
	if (index_journal_open(a, &j) != PFI_OK) {
		cli_error("%s", pfi_journal_errmsg(j));
		pfi_journal_free(j);
		return PFI_EXIT_FAILURE;
	}
	return index_journal(g, a, j);
}

/* ---- without PATH ------------------------------------------------------------ */

/* Whether the index holds Postfix lines (1 or 0), and in *system whether
 * it reads the system journal; -1 (reported) when it cannot tell. */
static int index_has_postfix(struct pfi_globals *g, int *system)
{
	struct pfi_info *in;
	pfi_store *st = cli_store(g);
	size_t i;
	int has;

	*system = 0;
	if (st == NULL)
		return -1;
	if (pfi_info_new(&in, st) != PFI_OK) {
		cli_error("cannot read the index: %s", pfi_errmsg(st));
		return -1;
	}
	for (i = 0; i < in->njournals; i++)
		*system |= strcmp(in->journals[i].source, "system") == 0;
	has = in->postfix_lines > 0;
	pfi_info_free(in);
	return has;
}

/*
 * No PATH: the mail log files when there are any, else the journal; the
 * journal too while the files gave the index no Postfix line, and from
 * then on (the index keeps its cursor).  Fails, saying where it looked,
 * when neither gave a Postfix line.
 */
static int index_default(struct pfi_globals *g, struct index_args *a)
{
	glob_t gl = { 0 };
	int files = index_default_paths(&gl), has, system = 0, rc = PFI_EXIT_OK;
	pfi_journal *j = NULL;

	if (files)
		rc = index_paths(g, gl.gl_pathv, gl.gl_pathc, a);
	globfree(&gl);
	if (rc != PFI_EXIT_OK || (files && a->follow))
		return rc;
	if (!pfi_journal_supported() && !files)
		return cli_error("no logs found at '%s' or '%s', and this pfi"
		                 " reads no systemd journal (built without"
		                 " libsystemd); name the files to index",
		                 index_default_globs[0], index_default_globs[1]);
	has = files ? index_has_postfix(g, &system) : 0;
	if (has < 0)
		return PFI_EXIT_FAILURE;
	if (pfi_journal_supported() && (!files || !has || system) &&
	    index_journal_open(a, &j) != PFI_OK) {
		cli_error("no %s at '%s' or '%s', and %s",
		          files ? "Postfix lines" : "logs found",
		          index_default_globs[0], index_default_globs[1],
		          pfi_journal_errmsg(j));
		pfi_journal_free(j);
		return PFI_EXIT_FAILURE;
	}
	if (j != NULL)
		rc = index_journal(g, a, j);
	if (rc != PFI_EXIT_OK || (has = index_has_postfix(g, &system)) > 0)
		return rc;
	if (has < 0)
		return PFI_EXIT_FAILURE;
	return cli_error("no Postfix lines found in '%s' or '%s'%s%s",
	                 index_default_globs[0], index_default_globs[1],
	                 files ? "" : " (no such files)",
	                 pfi_journal_supported() ? " or the systemd journal" : "");
}

/* --queue-lifetime: a duration of at least a second, or "never". */
static int index_lifetime(const char *v, struct index_args *a)
{
	double secs;

	if (strcmp(v, "never") == 0) {
		a->queue_lifetime = -1;
		return PFI_EXIT_OK;
	}
	if (cli_duration(v, &secs) != 0 || secs < 1 || secs > 100 * 365 * 86400.0)
		return cli_usage_error("index", "invalid --queue-lifetime '%s': want"
		                       " a duration such as 5d or 12h, or 'never'", v);
	a->queue_lifetime = (int64_t)secs;
	return PFI_EXIT_OK;
}

/* --max-open: a count; 0 lifts the cap. */
static int index_max_open(const char *v, struct index_args *a)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0)
		return cli_usage_error("index", "invalid --max-open '%s': want a"
		                       " count, 0 for no cap", v);
	a->max_open = n == 0 ? -1 : n;
	return PFI_EXIT_OK;
}

/* --journal-dir, --journal-file: one more source. */
static void index_add_jsrc(struct index_args *a, enum pfi_journal_kind kind,
                           const char *path, int argc)
{
	if (a->jsrc == NULL)
		a->jsrc = xcalloc((size_t)argc, sizeof(*a->jsrc));
	a->jsrc[a->njsrc].kind = kind;
	a->jsrc[a->njsrc++].path = path;
	a->journal = 1;
}

/* Takes one option into a; an exit code when it is wrong, else -1. */
static int index_option(struct cli_parse *p, int c, struct index_args *a,
                        int argc)
{
	if (c == OPT_FOLLOW)
		a->follow = 1;
	else if (c == OPT_QUIET)
		a->quiet = 1;
	else if (c == OPT_LIFETIME && index_lifetime(p->value, a) != 0)
		return PFI_EXIT_USAGE;
	else if (c == OPT_MAX_OPEN && index_max_open(p->value, a) != 0)
		return PFI_EXIT_USAGE;
	else if (c == OPT_YEAR && cli_year(p->value, &a->year) != 0)
		return PFI_EXIT_USAGE;
	else if (c == OPT_LOG_TZ && cli_set_log_tz(p->value) != 0)
		return PFI_EXIT_USAGE;
	else if (c == OPT_LOG_TZ)
		a->log_tz = p->value;
	else if (c == OPT_JOURNAL)
		a->journal = 1;
	else if (c == OPT_JOURNAL_DIR)
		index_add_jsrc(a, PFI_JOURNAL_DIR, p->value, argc);
	else if (c == OPT_JOURNAL_FILE)
		index_add_jsrc(a, PFI_JOURNAL_FILE, p->value, argc);
	return -1;
}

/* Operands that do not go with the options: an exit code, else -1. */
static int index_check(const struct cli_parse *p, const struct index_args *a)
{
	int i;

	if (a->journal && p->nargs > 0)
		return cli_usage_error("index", "--journal reads no PATH; index"
		                       " files and the journal in two runs");
	for (i = 0; a->follow && i < p->nargs; i++)
		if (strcmp(p->args[i], "-") == 0)
			return cli_usage_error("index", "--follow reads files, not"
			                       " standard input");
	return -1;
}

static int cmd_index(struct pfi_globals *g, int argc, char **argv)
{
	struct index_args a;
	struct cli_parse p;
	int c, rc = -1;

	memset(&a, 0, sizeof(a));
	cli_parse_init(&p, &cmd_index_entry, argc, argv);
	while (rc < 0 && (c = cli_parse_next(&p)) != 0)
		rc = c < 0 ? p.rc : index_option(&p, c, &a, argc);
	if (rc < 0)
		rc = index_check(&p, &a);
	if (rc < 0 && a.journal)
		rc = index_journal_cmd(g, &a);
	else if (rc < 0 && p.nargs > 0)
		rc = index_paths(g, p.args, (size_t)p.nargs, &a);
	else if (rc < 0)
		rc = index_default(g, &a);
	free(a.jsrc);
	cli_parse_release(&p);
	return rc;
}

const struct pfi_cmd cmd_index_entry = {
	"index", "read Postfix logs into the index",
	"Read Postfix logs into the index, creating it when absent.  Files may\n"
	"be plain, gzip, zstd, xz or bzip2; '-' reads standard input.  Files\n"
	"already indexed are recognised and only their new lines are read.\n"
	"Without PATH, reads /var/log/mail.log* and /var/log/maillog*, else the\n"
	"systemd journal.  --journal reads the journal's Postfix entries (the\n"
	"system's, or copied journals with --journal-dir and --journal-file),\n"
	"each run continuing after the last entry indexed.",
	index_opts, "[PATH|-]...", CLI_ARG_FILE, CMD_NEEDS_DB | CMD_WRITES_DB,
	cmd_index
};
