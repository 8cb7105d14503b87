/*
 * common.c - helpers shared by the pfi commands: allocation that cannot
 * fail, the uniform "pfi: ..." messages and usage errors, option values,
 * the output emitter set up from the global options, terminal-safe text,
 * finding and opening the index, and watching the logs a --follow reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pfi.h"

/* ---- allocation --------------------------------------------------------- */

static void *check_alloc(void *p)
{
	if (p == NULL)
		cli_die("out of memory");
	return p;
}

void *xmalloc(size_t n)
{
	return check_alloc(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return check_alloc(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
	return check_alloc(realloc(p, n ? n : 1));
}

char *xstrdup(const char *s)
{
	return check_alloc(strdup(s));
}

/* ---- messages ----------------------------------------------------------- */

static void vmessage(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

static void vmessage(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("pfi: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	return PFI_EXIT_FAILURE;
}

void cli_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap);
	va_end(ap);
	exit(PFI_EXIT_FAILURE);
}

/* pfi repl is running: usage errors point at its `help`. */
static int usage_in_repl;

void cli_usage_in_repl(int on)
{
	usage_in_repl = on;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* In the REPL an error is one line, and the prompt comes back. */
	if (usage_in_repl) {
		cli_warn("%s; see 'help%s%s'", msg, cmd ? " " : "", cmd ? cmd : "");
	} else {
		cli_warn("%s", msg);
		fprintf(stderr, "Try 'pfi%s%s --help'.\n", cmd ? " " : "",
		        cmd ? cmd : "");
	}
	return PFI_EXIT_USAGE;
}

/* ---- option values ------------------------------------------------------ */

const char *const cli_formats[] = {
	"table", "json", "ndjson", "csv", "tsv", NULL
};
const char *const cli_colors[] = { "auto", "always", "never", NULL };

/* The index of s in the NULL-ended list choices, or -1.  Here and not in
 * opt.c: the value parsers below use it, and they are linked without the
 * option machinery (tests/fuzz/fuzz_time). */
int cli_choice(const char *const *choices, const char *s)
{
	int i;

	for (i = 0; choices[i] != NULL; i++)
		if (strcmp(choices[i], s) == 0)
			return i;
	return -1;
}

int cli_parse_format(const char *s, enum pfi_format *out)
{
	static const enum pfi_format fmts[] = {
		PFI_FMT_TABLE, PFI_FMT_JSON, PFI_FMT_NDJSON, PFI_FMT_CSV, PFI_FMT_TSV
	};
	int i = cli_choice(cli_formats, s);

	if (i < 0)
		return -1;
	*out = fmts[i];
	return 0;
}

int cli_parse_color(const char *s, enum pfi_color *out)
{
	static const enum pfi_color colors[] = {
		PFI_COLOR_AUTO, PFI_COLOR_ALWAYS, PFI_COLOR_NEVER
	};
	int i = cli_choice(cli_colors, s);

	if (i < 0)
		return -1;
	*out = colors[i];
	return 0;
}

/* ---- output ------------------------------------------------------------- */

/* Bare times on the command line are UTC (--utc), as cli_setup_output()
 * last said. */
static int times_utc;

/* Whether the terminal named by $TERM shows colour: not "dumb", not unset
 * (what a pipe's reader or an editor's shell buffer often has). */
static int term_has_color(void)
{
	const char *t = getenv("TERM");

	return t != NULL && t[0] != '\0' && strcmp(t, "dumb") != 0;
}

void cli_setup_output(struct pfi_globals *g)
{
	const char *nc = getenv("NO_COLOR");

	g->tty = isatty(STDOUT_FILENO);
	g->width = cli_term_width();
	times_utc = g->utc;
	if (g->color == PFI_COLOR_AUTO)
		g->use_color = g->tty && (nc == NULL || nc[0] == '\0') &&
		               term_has_color();
	else
		g->use_color = g->color == PFI_COLOR_ALWAYS;
}

int cli_term_width(void)
{
	struct winsize ws;
	const char *cols;
	char *end;
	long n;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	cols = getenv("COLUMNS");
	if (cols == NULL)
		return 0;
	errno = 0;
	n = strtol(cols, &end, 10);
	if (errno != 0 || *end != '\0' || n <= 0 || n > INT_MAX)
		return 0;
	return (int)n;
}

pfi_out *cli_out_new(const struct pfi_globals *g, int fmt)
{
	unsigned flags = 0;
	pfi_out *o = NULL;

	if (fmt < 0)
		fmt = (int)g->format;
	if (g->utc)
		flags |= PFI_OUT_UTC;
	if (g->csv_raw)
		flags |= PFI_OUT_CSV_RAW;
	if (g->use_color && fmt == PFI_FMT_TABLE)
		flags |= PFI_OUT_COLOR;
	if (g->tty)
		flags |= PFI_OUT_ESCAPE;
	if (pfi_out_new(&o, stdout, (enum pfi_format)fmt, flags) != PFI_OK)
		cli_die("out of memory");
	pfi_out_set_width(o, fmt == PFI_FMT_TABLE ? g->width : 0);
	return o;
}

/* The pager's command line, or NULL for none. */
static const char *pager_command(void)
{
	const char *p = getenv("PFI_PAGER");

	if (p == NULL)
		p = getenv("PAGER");
	if (p == NULL)
		p = "less -FRSX";
	if (p[strspn(p, " \t")] == '\0' || strcmp(p, "cat") == 0)
		return NULL;
	return p;
}

/* Starts cmd reading from fd (closing `other` in it, if not -1); its
 * pid, or -1. */
static pid_t pager_spawn(const char *cmd, int fd, int other)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	if (other >= 0)
		close(other);   /* the pipe's write end: the pager must see EOF */
	dup2(fd, STDIN_FILENO);
	close(fd);
	setenv("LESS", "FRSX", 0);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

static void pager_wait(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* Rows of the terminal on fd, 24 when it does not say. */
static int term_rows(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		return ws.ws_row;
	return 24;
}

void cli_pager_start(struct pfi_globals *g)
{
	const char *cmd = pager_command();
	FILE *tmp;
	int fds[2];
	pid_t pid;

	if (g->no_pager || !g->tty || g->cmd == NULL || cmd == NULL ||
	    !(g->cmd->flags & CMD_PAGED))
		return;
	fflush(stdout);
	if (g->repl != NULL) {
		/* pfi repl pages an answer once it is whole, so that Ctrl-C
		 * reaches the query, not a pager waiting for its first line */
		if ((tmp = tmpfile()) == NULL)
			return;
		g->pager_stdout = dup(STDOUT_FILENO);
		dup2(fileno(tmp), STDOUT_FILENO);
		g->pager_buffer = tmp;
		return;
	}
	if (pipe(fds) != 0)
		return;
	if ((pid = pager_spawn(cmd, fds[0], fds[1])) < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	g->pager_stdout = dup(STDOUT_FILENO);
	dup2(fds[1], STDOUT_FILENO);
	close(fds[0]);
	close(fds[1]);
	g->pager_pid = (int)pid;
}

/* The answer held in tmp: printed when it fits the screen, else paged. */
static void pager_show(FILE *tmp)
{
	char buf[8192];
	int lines = 0, fd = fileno(tmp);
	size_t n, i;
	pid_t pid;

	rewind(tmp);
	while ((n = fread(buf, 1, sizeof(buf), tmp)) > 0)
		for (i = 0; i < n; i++)
			lines += buf[i] == '\n';
	rewind(tmp);
	if (lines >= term_rows(STDOUT_FILENO) &&
	    lseek(fd, 0, SEEK_SET) == 0 &&
	    (pid = pager_spawn(pager_command(), fd, -1)) > 0) {
		pager_wait(pid);
		return;
	}
	while ((n = fread(buf, 1, sizeof(buf), tmp)) > 0)
		fwrite(buf, 1, n, stdout);
}

void cli_pager_end(struct pfi_globals *g)
{
	if (g->pager_pid == 0 && g->pager_buffer == NULL)
		return;
	fflush(stdout);
	dup2(g->pager_stdout, STDOUT_FILENO);   /* a pager sees its EOF */
	close(g->pager_stdout);
	clearerr(stdout);   /* a pager quit early is not a write error */
	if (g->pager_pid != 0)
		pager_wait((pid_t)g->pager_pid);
	g->pager_pid = 0;
	if (g->pager_buffer != NULL) {
		pager_show(g->pager_buffer);
		fclose(g->pager_buffer);
		g->pager_buffer = NULL;
		fflush(stdout);
	}
}

int cli_stdout_closed(void)
{
	struct pollfd p = { .fd = STDOUT_FILENO, .events = 0 };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLERR) != 0;
}

int cli_out_end(pfi_out *o)
{
	int rc = pfi_out_end(o), e = errno;

	pfi_out_free(o);
	if (rc == PFI_OK)
		return PFI_EXIT_OK;
	if (rc == PFI_EIO && (e == EPIPE || cli_stdout_closed()))
		return PFI_EXIT_OK;
	if (rc == PFI_EIO) {
		clearerr(stdout);   /* reported here, not again at exit */
		return cli_error("cannot write to standard output: %s", strerror(e));
	}
	return cli_error("cannot write the output: %s", pfi_strerror(rc));
}

/* The library's terminal escaper, so that these lines and the table
 * cells of pfi_out show log text the same way. */
void cli_put_escaped_len(FILE *fp, const char *s, size_t n)
{
	if (pfi_term_write(fp, s, n) == PFI_ENOMEM)
		cli_die("out of memory");
}

void cli_put_escaped(FILE *fp, const char *s)
{
	cli_put_escaped_len(fp, s, strlen(s));
}

/*
 * A duration in seconds, more than zero: "300", "90s", "5m", "1h", "1d",
 * "1w", fractions allowed ("1.5m").  Returns 0, or -1 if v is none.
 */
int cli_duration(const char *v, double *out)
{
	static const char units[] = "smhdw";
	static const double secs[] = { 1, 60, 3600, 86400, 7 * 86400 };
	const char *u;
	char *end;
	double n;

	errno = 0;
	n = strtod(v, &end);
	if (errno != 0 || end == v || !(n > 0) || !isfinite(n))
		return -1;
	if (*end == '\0') {
		*out = n;
		return 0;
	}
	if (end[1] != '\0' || (u = strchr(units, *end)) == NULL)
		return -1;
	*out = n * secs[u - units];
	return isfinite(*out) ? 0 : -1;   /* "1.5e308m" overflows */
}

int cli_time(const char *v, int64_t *out)
{
	return pfi_time_parse_zone(out, v, time(NULL), times_utc) == PFI_OK ? 0
	                                                                   : -1;
}

int cli_time_error(const char *cmd, const char *opt, const char *v)
{
	return cli_usage_error(cmd, "invalid time '%s' for %s; times are "
	                       CLI_TIME_FORMS, v, opt);
}

/* ---- the index ---------------------------------------------------------- */

/* dir + "/" + rel, or NULL when dir is unset or not absolute. */
static char *path_under(const char *dir, const char *rel)
{
	size_t n;
	char *p;

	if (dir == NULL || dir[0] != '/')
		return NULL;
	n = strlen(dir) + strlen(rel) + 2;
	p = xmalloc(n);
	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

const char *cli_db_path(struct pfi_globals *g)
{
	if (cli_db_path_quiet(g) == NULL)
		cli_warn("cannot find the index: use --db PATH or set PFI_DB");
	return g->db_path;
}

const char *cli_db_path_quiet(struct pfi_globals *g)
{
	const char *env = getenv("PFI_DB");

	if (g->db_path != NULL)
		return g->db_path;
	if (g->db != NULL && g->db[0] != '\0')
		g->db_path = xstrdup(g->db);
	else if (env != NULL && env[0] != '\0')
		g->db_path = xstrdup(env);
	else
		g->db_path = path_under(getenv("XDG_DATA_HOME"), "pfi/index.db");
	if (g->db_path == NULL)
		g->db_path = path_under(getenv("HOME"), ".local/share/pfi/index.db");
	return g->db_path;
}

/* Whether a failure (rc and the library's msg) is another process's
 * lock on the index.  SQLite's "database is locked" reaches pfi as a
 * plain error from some statements. */
static int store_locked(int rc, const char *msg)
{
	return rc == PFI_EBUSY || strstr(msg, "database is locked") != NULL;
}

/* Whether a failure is SQLite finding the file damaged. */
static int store_damaged(int rc, const char *msg)
{
	return (rc == PFI_ESCHEMA && strstr(msg, "pfi index") == NULL &&
	        strstr(msg, "schema") == NULL) ||
	       strstr(msg, "malformed") != NULL ||
	       strstr(msg, "not a database") != NULL;
}

/*
 * Reports why the index at path did not open (rc and the library's msg)
 * in one line that names the file and says what to do about it.
 */
static void store_open_failed(const char *path, int rc, const char *msg,
                              int write)
{
	struct stat sb;
	const char *todo = "";

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		cli_warn("'%s' is a directory, not an index; give --db the index "
		         "file (such as '%s/index.db')", path, path);
		return;
	}
	if (rc == PFI_ENOTFOUND && !write) {
		cli_warn("no index at '%s'; run 'pfi index' first", path);
		return;
	}
	if (store_locked(rc, msg) && strstr(msg, path) == NULL) {
		cli_warn("index '%s' is being written by another pfi; run this "
		         "again when that ends", path);
		return;
	}
	if (rc == PFI_ESCHEMA && strstr(msg, "not a pfi index") != NULL)
		todo = "; give --db a pfi index, or a new file for 'pfi index' "
		       "to create";
	else if (rc == PFI_ESCHEMA && strstr(msg, "schema") != NULL)
		todo = "; use the pfi that made it, or a new index";
	else if (rc == PFI_ESCHEMA)
		todo = "; it seems damaged: move it aside and run 'pfi index' "
		       "to build it again from the logs";
	if (strstr(msg, path) != NULL)   /* it names the index already */
		cli_warn("%s%s", msg, todo);
	else
		cli_warn("cannot open index '%s': %s%s", path, msg, todo);
}

pfi_store *cli_store(struct pfi_globals *g)
{
	int write = g->cmd != NULL && (g->cmd->flags & CMD_WRITES_DB);
	const char *path;
	pfi_store *st = NULL;
	int rc;

	if (g->store != NULL)
		return g->store;
	if ((path = cli_db_path(g)) == NULL)
		return NULL;
	rc = pfi_store_open(&st, path, write ? PFI_OPEN_WRITE : PFI_OPEN_READONLY);
	if (rc == PFI_OK) {
		g->store = st;
		return st;
	}
	store_open_failed(path, rc, st ? pfi_errmsg(st) : pfi_strerror(rc),
	                  write);
	pfi_store_close(st);
	return NULL;
}

int cli_index_error(struct pfi_globals *g, pfi_store *st, int rc,
                    const char *what)
{
	const char *msg = pfi_errmsg(st), *path = cli_db_path_quiet(g);

	if (path == NULL)
		path = "?";
	if (store_damaged(rc, msg))
		return cli_error("%s: index '%s' is damaged (%s); move it aside and "
		                 "run 'pfi index' to build it again from the logs",
		                 what, path, msg);
	if (store_locked(rc, msg))
		return cli_error("%s: index '%s' is being written by another pfi; "
		                 "run this again when that ends", what, path);
	return cli_error("%s: %s", what, msg);
}

/* ---- what the index covers ---------------------------------------------- */

/* The MTA hosts of the log, "mx1, mx2" (up to three, then "..."). */
struct covers_hosts {
	char text[200];
	int n;
};

static int covers_add_host(void *ctx, const char *host)
{
	struct covers_hosts *h = ctx;
	size_t len = strlen(h->text);

	if (h->n++ == 3) {
		snprintf(h->text + len, sizeof(h->text) - len, ", ...");
		return 1;
	}
	snprintf(h->text + len, sizeof(h->text) - len, "%s%s",
	         len ? ", " : "", host);
	return 0;
}

/* "the index covers FIRST to LAST (hosts ...; N messages, M rejects)"
 * into buf; lo and hi get the period. */
static void covers_text(const struct pfi_globals *g, pfi_store *st,
                        const struct pfi_info *info, char *buf, size_t size,
                        int64_t *lo, int64_t *hi)
{
	struct covers_hosts hosts = { "", 0 };
	char first[64], last[64], rejects[48];

	/* the first file's first line need not be the oldest */
	*lo = info->first < info->last ? info->first : info->last;
	*hi = info->first < info->last ? info->last : info->first;
	pfi_complete_values(st, PFI_COMPLETE_HOST, "", 4, covers_add_host, &hosts);
	pfi_time_format(first, sizeof(first), *lo, g->utc);
	pfi_time_format(last, sizeof(last), *hi, g->utc);
	snprintf(rejects, sizeof(rejects), ", %" PRId64 " rejects", info->rejects);
	snprintf(buf, size, "the index covers %s to %s (%s%s%s%" PRId64
	         " messages%s)", first, last, hosts.n ? "hosts " : "",
	         hosts.text, hosts.n ? "; " : "", info->messages,
	         info->rejects > 0 ? rejects : "");
}

void cli_index_covers(const struct pfi_globals *g, pfi_store *st,
                      const struct pfi_filter *f, const char *what)
{
	struct pfi_info *info = NULL;
	char t[64], covers[512];
	int64_t lo, hi;

	if (pfi_info_new(&info, st) != PFI_OK)
		return;   /* the hint is a courtesy: no second error */
	if (info->messages == 0 && info->rejects == 0) {
		cli_warn("%s: the index holds no mail yet; run 'pfi index'", what);
		pfi_info_free(info);
		return;
	}
	covers_text(g, st, info, covers, sizeof(covers), &lo, &hi);
	if (f->since != 0 && f->since > hi)
		cli_warn("%s: --since %s is after all of it; %s", what,
		         pfi_time_format(t, sizeof(t), f->since, g->utc), covers);
	else if (f->until != 0 && f->until <= lo)
		cli_warn("%s: --until %s is before all of it; %s", what,
		         pfi_time_format(t, sizeof(t), f->until, g->utc), covers);
	else
		cli_warn("%s; %s", what, covers);
	pfi_info_free(info);
}

void cli_out_num(pfi_out *o, const char *key, double v)
{
	if (v < 0)
		pfi_out_null(o, key);
	else
		pfi_out_num(o, key, v);
}

void cli_out_int(pfi_out *o, const char *key, int64_t v)
{
	if (v < 0)
		pfi_out_null(o, key);
	else
		pfi_out_int(o, key, v);
}

/* ---- following logs ----------------------------------------------------- */

/* A checksum of what stat(2) says of the paths. */
static uint64_t follow_signature(char **paths, size_t n)
{
	uint64_t h = 14695981039346656037ULL;
	struct stat sb;
	size_t i, k;

	for (i = 0; i < n; i++) {
		uint64_t v[4] = { 0, 0, 0, 0 };
		if (stat(paths[i], &sb) == 0) {
			v[0] = (uint64_t)sb.st_ino;
			v[1] = (uint64_t)sb.st_size;
			v[2] = (uint64_t)sb.st_mtim.tv_sec;
			v[3] = (uint64_t)sb.st_mtim.tv_nsec;
		}
		for (k = 0; k < 4; k++)
			h = (h ^ v[k]) * 1099511628211ULL;
	}
	return h;
}

uint64_t cli_follow_files(char **paths, size_t n, glob_t *gl)
{
	char pat[4096];
	size_t i;
	int flags = 0;

	for (i = 0; i < n; i++) {
		glob(paths[i], flags | GLOB_NOCHECK, NULL, gl);
		flags = GLOB_APPEND;
		snprintf(pat, sizeof(pat), "%s[.-]*", paths[i]);
		glob(pat, GLOB_APPEND, NULL, gl);
	}
	return follow_signature(gl->gl_pathv, gl->gl_pathc);
}

void cli_nap(int ms, volatile sig_atomic_t *stop)
{
	struct timespec slice = { 0, 50 * 1000000L };

	for (; ms > 0 && !*stop; ms -= 50)
		nanosleep(&slice, NULL);
}
