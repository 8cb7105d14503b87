/*
 * index.c - `pfi index [PATH|-]...`: reads Postfix logs (plain or
 * compressed, "-" for standard input; by default /var/log/mail.log* and
 * /var/log/maillog*) into the index, creating it when absent.  Writes the
 * index; shows progress and a summary on stderr.  SIGINT and SIGTERM stop
 * the run after committing what is complete.
 */
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "pfi.h"

static const struct option index_options[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};
static const char index_shortopts[] = ":qh";

const char cmd_index_usage[] = "pfi index [--quiet] [PATH|-]...";

static const char index_help[] =
	"Read Postfix logs into the index, creating it when absent.  Files may\n"
	"be plain, gzip, zstd, xz or bzip2; '-' reads standard input.  Files\n"
	"already indexed are recognised and only their new lines are read.\n"
	"Without PATH, reads /var/log/mail.log* and /var/log/maillog*.\n"
	"\n"
	"  -q, --quiet  show no progress and no summary\n"
	"  -h, --help   show this help and exit\n";

static const char *const index_default_globs[] = {
	"/var/log/mail.log*", "/var/log/maillog*", NULL
};

/* Set by SIGINT/SIGTERM: the library stops at the next line. */
static volatile sig_atomic_t index_stop;

/* State of the progress line on stderr. */
struct index_ui {
	int progress;            /* show progress (stderr is a tty, no --quiet) */
	int shown;               /* a progress line is on the screen */
	struct timespec start;   /* when the run began */
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

/* "\r" + "indexing FILE: 12.3/45.6 MB, 123456 lines/s", cut to the screen. */
static void index_progress(void *ctx, const struct pfi_progress *p)
{
	struct index_ui *ui = ctx;
	struct winsize ws;
	double secs = index_elapsed(ui);
	size_t cols = 80;
	char line[512];
	int n;

	if (!ui->progress)
		return;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		cols = ws.ws_col;
	n = snprintf(line, sizeof(line), "indexing %s: %.1f/%.1f MB, %.0f lines/s",
	             p->path ? p->path : "-", (double)p->bytes_done / 1e6,
	             (double)p->bytes_total / 1e6,
	             secs > 0 ? (double)p->lines / secs : 0.0);
	if (n < 0)
		return;
	if ((size_t)n >= cols)
		line[cols - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	ui->shown = 1;
}

static void index_summary(const struct pfi_index_report *r)
{
	fprintf(stderr, "indexed %" PRIu64 " lines from %" PRIu64 " files: %"
	        PRIu64 " messages done, %" PRIu64 " still queued, %" PRIu64
	        " deliveries, %" PRIu64 " rejects, %" PRIu64 " unparsed",
	        r->lines, r->files_read, r->messages, r->open_messages,
	        r->deliveries, r->rejects, r->unparsed_lines);
	if (r->files_skipped > 0)
		fprintf(stderr, "; %" PRIu64 " files unchanged", r->files_skipped);
	fputc('\n', stderr);
}

/* The default paths, by glob(3); 0 (reported) when there are none. */
static int index_default_paths(glob_t *gl)
{
	int i, flags = 0;

	for (i = 0; index_default_globs[i] != NULL; i++) {
		glob(index_default_globs[i], flags, NULL, gl);
		flags = GLOB_APPEND;
	}
	if (gl->gl_pathc > 0)
		return 1;
	cli_warn("no logs found at '%s' or '%s'; name the files to index",
	         index_default_globs[0], index_default_globs[1]);
	return 0;
}

/* Runs the library with signals caught; returns its status. */
static int index_run(pfi_store *st, char **paths, size_t n,
                     struct index_ui *ui, struct pfi_index_report *r)
{
	struct sigaction sa, old_int, old_term;
	struct pfi_index_opts opts;
	int rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = index_on_signal;
	sigemptyset(&sa.sa_mask);
	index_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	memset(&opts, 0, sizeof(opts));
	opts.warn = index_warn;
	opts.progress = index_progress;
	opts.ctx = ui;
	opts.stop = &index_stop;
	clock_gettime(CLOCK_MONOTONIC, &ui->start);
	rc = pfi_index_paths(st, (const char *const *)paths, n, &opts, r);
	index_clear(ui);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

/* Indexes paths and reports; returns the exit code. */
static int index_paths(struct pfi_globals *g, char **paths, size_t n,
                       int quiet)
{
	struct pfi_index_report r;
	struct index_ui ui = { 0 };
	pfi_store *st;
	int rc;

	if ((st = cli_store(g)) == NULL)
		return PFI_EXIT_FAILURE;
	ui.progress = !quiet && isatty(STDERR_FILENO);
	memset(&r, 0, sizeof(r));
	rc = index_run(st, paths, n, &ui, &r);
	if (!quiet)
		index_summary(&r);
	if (index_stop)
		return cli_error("interrupted; what was complete is indexed");
	if (rc == PFI_EIO)
		return PFI_EXIT_FAILURE;
	if (rc != PFI_OK)
		return cli_error("cannot index: %s", pfi_errmsg(st));
	return PFI_EXIT_OK;
}

int cmd_index(struct pfi_globals *g, int argc, char **argv)
{
	glob_t gl = { 0 };
	int c, quiet = 0, rc;

	optind = 0;
	opterr = 0;
	while ((c = cli_getopt(argc, argv, index_shortopts,
	                       index_options)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return cli_help(cmd_index_usage, index_help);
		default:
			return cli_bad_option("index", c, argv);
		}
	}
	if (optind < argc)
		return index_paths(g, argv + optind, (size_t)(argc - optind), quiet);
	if (!index_default_paths(&gl))
		rc = PFI_EXIT_FAILURE;
	else
		rc = index_paths(g, gl.gl_pathv, gl.gl_pathc, quiet);
	globfree(&gl);
	return rc;
}
