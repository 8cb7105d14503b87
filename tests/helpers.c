/*
 * helpers.c - shared test helpers (see helpers.h).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

static char fixture_buf[4096];
static char tmpdir_buf[256];

const int64_t sample_h0900[8] = { 47, 2, 72, 61, 0, 2, 0, 6 };
const int64_t sample_h0930[8] = { 15, 0, 17, 17, 0, 0, 0, 0 };
const int64_t sample_h1000[8] = { 4, 1, 9, 6, 1, 0, 2, 0 };

const char *fixture(const char *rel)
{
	const char *dir = getenv("TESTDATA_DIR");

	snprintf(fixture_buf, sizeof(fixture_buf), "%s/%s",
	         dir && *dir ? dir : TESTDATA_DIR, rel);
	return fixture_buf;
}

const char *tmpdir_make(void)
{
	snprintf(tmpdir_buf, sizeof(tmpdir_buf), "/tmp/pfi-test-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir_buf), "mkdtemp: %s", strerror(errno));
	return tmpdir_buf;
}

static int rm_entry(const char *p, const struct stat *sb, int flag,
                    struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

void tmpdir_cleanup(void)
{
	if (tmpdir_buf[0])
		nftw(tmpdir_buf, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir_buf[0] = '\0';
}

char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	cr_assert_not_null(p);
	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		got = fread(buf + n, 1, 4096, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

char *copy_fixture(const char *rel, const char *dir, const char *name,
                   time_t mtime)
{
	size_t len;
	char *data = slurp(fixture(rel), &len), *dst = path_join(dir, name);
	FILE *f;

	cr_assert_not_null(data, "cannot read fixture %s", rel);
	f = fopen(dst, "wb");
	cr_assert_not_null(f, "cannot create %s", dst);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(data);
	if (mtime) {
		struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
		cr_assert_eq(utimensat(AT_FDCWD, dst, ts, 0), 0);
	}
	return dst;
}

/* Reads all of fd into a malloc'd string. */
static char *read_all(int fd)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	ssize_t got;

	for (;;) {
		if (n + 4097 > cap) {
			cap = (n + 4097) * 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		got = read(fd, buf + n, 4096);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	return buf;
}

/* PFI_BIN and argv (NULL-terminated), as execv() wants them (malloc'd). */
static const char **pfi_args(const char *const *argv)
{
	size_t n = 0;
	const char **args;

	while (argv[n])
		n++;
	args = calloc(n + 2, sizeof(*args));
	cr_assert_not_null(args);
	args[0] = PFI_BIN;
	memcpy(args + 1, argv, n * sizeof(*args));
	return args;
}

int run_pfi(const char *const *argv, const char *in, char **out, char **err)
{
	char outp[] = "/tmp/pfi-out-XXXXXX", errp[] = "/tmp/pfi-err-XXXXXX";
	int ofd = mkstemp(outp), efd = mkstemp(errp), status;
	const char **args = pfi_args(argv);
	pid_t pid;

	cr_assert(ofd >= 0 && efd >= 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int ifd = open(in ? in : "/dev/null", O_RDONLY);
		dup2(ifd, 0);
		dup2(ofd, 1);
		dup2(efd, 2);
		execv(PFI_BIN, (char *const *)args);
		_exit(127);
	}
	free(args);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	lseek(ofd, 0, SEEK_SET);
	lseek(efd, 0, SEEK_SET);
	if (out)
		*out = read_all(ofd);
	if (err)
		*err = read_all(efd);
	close(ofd);
	close(efd);
	unlink(outp);
	unlink(errp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_pfi_index(const char *db, const char *path, char **err)
{
	const char *argv[] = { "--db", db, "index", "--quiet", path, NULL };

	return run_pfi(argv, NULL, NULL, err);
}

pid_t start_pfi(const char *const *argv)
{
	const char **args = pfi_args(argv);
	pid_t pid;

	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 0);
		dup2(fd, 1);
		execv(PFI_BIN, (char *const *)args);
		_exit(127);
	}
	free(args);
	return pid;
}

int stop_pfi(pid_t pid, int sig)
{
	int status;

	cr_assert_eq(kill(pid, sig), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

pfi_store *index_into(const char *dbpath, const char *const *paths, size_t n,
                      struct pfi_index_report *rep)
{
	pfi_store *st;
	int rc = pfi_store_open(&st, dbpath, PFI_OPEN_WRITE);

	cr_assert_eq(rc, PFI_OK, "open %s: %s", dbpath, pfi_errmsg(st));
	rc = pfi_index_paths(st, paths, n, NULL, rep);
	cr_assert_eq(rc, PFI_OK, "index: %s", pfi_errmsg(st));
	return st;
}

int64_t db_int(const char *dbpath, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL),
	             SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK,
	             "%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

char *db_rows(const char *dbpath, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int i;

	cr_assert_eq(sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL),
	             SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK,
	             "%s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(s) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(s); i++) {
			const unsigned char *t = sqlite3_column_text(s, i);
			fprintf(f, "%s%s", i ? "|" : "", t ? (const char *)t : "");
		}
		fputc('\n', f);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	fclose(f);
	return buf;
}

int64_t index_lines_now(const char *dbpath)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	if (access(dbpath, F_OK) == 0 &&
	    sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_busy_timeout(db, 100) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT coalesce(sum(count), 0) FROM chunks",
	                       -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

size_t fixture_lines(const char *rel, char **text, char ***lines)
{
	char *save = NULL, *l;
	size_t n = 0;

	*text = slurp(fixture(rel), NULL);
	*lines = NULL;
	cr_assert_not_null(*text, "cannot read %s", rel);
	for (l = strtok_r(*text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		*lines = realloc(*lines, (n + 1) * sizeof(**lines));
		cr_assert_not_null(*lines);
		(*lines)[n++] = l;
	}
	return n;
}

void append_log_lines(const char *path, const char *const *lines,
                      size_t from, size_t to, time_t mtime)
{
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	FILE *f = fopen(path, "a");
	size_t i;

	cr_assert_not_null(f, "cannot open %s", path);
	for (i = from; i < to; i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
	cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
}

void index_in_runs(const char *path, const char *db, const char *const *lines,
                   size_t n, const size_t *cuts, size_t ncuts, time_t mtime)
{
	const char *paths[] = { path };
	size_t i, done = 0;

	for (i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : n;

		append_log_lines(path, lines, done, to, mtime);
		done = to;
		pfi_store_close(index_into(db, paths, 1, NULL));
	}
}

char *requeue_index(const char *name, size_t from, size_t to, size_t skip,
                    const size_t *cuts, size_t ncuts)
{
	const char *dir = tmpdir_make();
	char *text, **lines, *log, *db, file[64];
	size_t n = fixture_lines(REQUEUE_LOG, &text, &lines), i, k = 0;

	cr_assert_eq(n, REQUEUE_LOG_LINES);
	cr_assert(strstr(lines[REQUEUED_LINE], ": requeued"));
	cr_assert(strstr(lines[PICKUP_LINE], " orig_id=E9F981161AD"));
	for (i = from; i < to && i < n; i++)
		if (i != skip)
			lines[k++] = lines[i];
	snprintf(file, sizeof(file), "%s.log", name);
	log = path_join(dir, file);
	snprintf(file, sizeof(file), "%s.db", name);
	db = path_join(dir, file);
	index_in_runs(log, db, (const char *const *)lines, k, cuts, ncuts,
	              REQUEUE_MTIME);
	free(log);
	free(lines);
	free(text);
	return db;
}

char *requeue_index_late(const char *name)
{
	char *db = requeue_index(name, PICKUP_LINE, SIZE_MAX, SIZE_MAX, NULL, 0);
	char *text, **lines, *log, file[64];
	const char *paths[1];

	snprintf(file, sizeof(file), "%s-early.log", name);
	log = path_join(tmpdir_make(), file);
	paths[0] = log;
	fixture_lines(REQUEUE_LOG, &text, &lines);
	append_log_lines(log, (const char *const *)lines, 0, PICKUP_LINE,
	                 REQUEUE_MTIME);
	pfi_store_close(index_into(db, paths, 1, NULL));
	free(lines);
	free(text);
	free(log);
	return db;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sorted_lines(char *text)
{
	char **v = NULL, *p, *save = NULL, *out;
	size_t n = 0, i, len = strlen(text) + 2;

	for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = p;
	}
	qsort(v, n, sizeof(*v), cmp_line);
	out = calloc(1, len);
	for (i = 0, len = 0; i < n; i++) {
		size_t k = strlen(v[i]);
		memcpy(out + len, v[i], k);
		out[len + k] = '\n';
		len += k + 1;
	}
	free(v);
	return out;
}

/* ---- a first index run killed midway ------------------------------------- */

static const unsigned char journal_magic[8] = {
	0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7
};

int journal_is_hot(const char *db)
{
	char side[512];
	unsigned char head[8];
	int fd, hot;

	snprintf(side, sizeof(side), "%s-journal", db);
	if ((fd = open(side, O_RDONLY)) < 0)
		return 0;
	hot = read(fd, head, 8) == 8 && memcmp(head, journal_magic, 8) == 0;
	close(fd);
	return hot;
}

/* Writes messages to fd, each with a long response, until writing fails
 * (or 800 MB is written, should nothing stop it); then exits. */
static void feed_messages(int fd)
{
	static char filler[8000];
	char line[9000];
	long i;
	int n;

	memset(filler, 'x', sizeof(filler) - 1);
	for (i = 0; i < 100000; i++) {
		time_t t = 1793613600 + i;
		struct tm tm;
		char ts[40], qid[24];

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000000+00:00", &tm);
		snprintf(qid, sizeof(qid), "%010lX", 0x1000000000L + i);
		n = snprintf(line, sizeof(line),
		    "%s mx1 postfix/smtpd[2101]: %s: client=a.example[192.0.2.1]\n"
		    "%s mx1 postfix/cleanup[1211]: %s: message-id=<%ld@example.com>\n"
		    "%s mx1 postfix/qmgr[1102]: %s: from=<s@example.com>, size=100,"
		    " nrcpt=1 (queue active)\n"
		    "%s mx1 postfix/smtp[1301]: %s: to=<r%ld@example.net>,"
		    " relay=mx.example.net[198.51.100.1]:25, delay=1,"
		    " delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 2.0.0 %ld %s)\n"
		    "%s mx1 postfix/qmgr[1102]: %s: removed\n",
		    ts, qid, ts, qid, i, ts, qid, ts, qid, i, i, filler, ts, qid);
		if (n < 0 || (size_t)n >= sizeof(line) ||
		    write(fd, line, (size_t)n) != n)
			_exit(0);
	}
	_exit(0);
}

/* Whether the run writing db has spilled pages into it: its journal is
 * hot and the file grew (a short commit before the run's transaction
 * has a hot journal for a moment too). */
static int run_spilled(const char *db)
{
	struct stat sb;

	return journal_is_hot(db) && stat(db, &sb) == 0 &&
	       sb.st_size > (1 << 20);
}

/* Waits up to a minute for the run writing db (pid) to spill. */
static int wait_spilled(const char *db, pid_t pid)
{
	time_t deadline = time(NULL) + 60;
	int status;

	while (!run_spilled(db) && time(NULL) < deadline &&
	       waitpid(pid, &status, WNOHANG) == 0)
		usleep(5000);
	return run_spilled(db);
}

pid_t fork_first_run(int in)
{
	pid_t pid = fork();
	int null;

	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	null = open("/dev/null", O_WRONLY);
	dup2(in, 0);
	dup2(null, 1);
	dup2(null, 2);
	return 0;
}

pid_t pfi_first_run(const char *db, int in)
{
	pid_t pid = fork_first_run(in);

	if (pid != 0)
		return pid;
	execl(PFI_BIN, PFI_BIN, "--db", db, "index", "-", (char *)NULL);
	_exit(127);
}

void kill_first_run(const char *db, first_run_fn start,
                    void (*probe)(const char *db, void *ctx), void *ctx)
{
	int fds[2], status, hot;
	pid_t run, feeder;

	cr_assert_eq(pipe(fds), 0);
	run = start(db, fds[0]);
	cr_assert(run > 0);
	if ((feeder = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(fds[0]);
		feed_messages(fds[1]);
	}
	close(fds[0]);
	close(fds[1]);
	hot = wait_spilled(db, run);
	if (hot)   /* alive, the run keeps readers out */
		probe(db, ctx);
	kill(run, SIGKILL);
	kill(feeder, SIGKILL);
	waitpid(run, &status, 0);
	waitpid(feeder, NULL, 0);
	cr_assert(hot, "the index run ended, or took over a minute, before"
	          " its first run wrote into the index");
	cr_assert(WIFSIGNALED(status), "the run's status: %d", status);
	cr_assert(journal_is_hot(db));
}

/* ---- a terminal: a tmux pane (test_repl, test_cli_term) ------------------- */

static char term_sock[4096];   /* the tmux server of the pane, "" if none */
static int term_starts;        /* servers started, naming their sockets */

/* Runs `tmux -S SOCK ARGS`; ARGS is shell text. */
static int term_tmux(const char *args)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "tmux -S '%.4000s' -f /dev/null %.4000s",
	         term_sock, args);
	return system(cmd);
}

char *term_screen(void)
{
	char cmd[8192], *out;
	size_t n = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "tmux -S '%.4000s' capture-pane -p -t t",
	         term_sock);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	out = calloc(1, 65536);
	n = fread(out, 1, 65535, p);
	out[n] = '\0';
	pclose(p);
	return out;
}

int term_wait(const char *text)
{
	struct timespec tick = { 0, 100 * 1000000L };
	char *screen = NULL;

	for (int i = 0; i < 150; i++) {
		free(screen);
		screen = term_screen();
		if (strstr(screen, text) != NULL) {
			free(screen);
			return 1;
		}
		nanosleep(&tick, NULL);
	}
	cr_log_error("waited for '%s'; the screen is:\n%s", text, screen);
	free(screen);
	return 0;
}

void term_start(const char *dir, const char *db, int cols, const char *script,
                const char *ready)
{
	char *run = path_join(dir, "run.sh"), args[8192];
	FILE *fp = fopen(run, "w");

	cr_assert_not_null(fp);
	fprintf(fp, "PFI='%s'; DB='%s'; DIR='%s'; export PFI_DB=\"$DB\" "
	        "NO_COLOR=1 TZ=UTC\nunset PAGER PFI_PAGER LESS\n%s\n"
	        "echo \"EXIT=$?\"; sleep 60\n", PFI_BIN, db, dir, script);
	fclose(fp);
	/* A socket of its own for each start: a server killed by term_stop may
	 * still be exiting, and a client reaching it fails with "server exited
	 * unexpectedly". */
	snprintf(term_sock, sizeof(term_sock), "%.4000s/tmux%d.sock", dir,
	         ++term_starts);
	snprintf(args, sizeof(args), "new-session -d -s t -x %d -y 40 "
	         "'sh %.4000s'", cols, run);
	cr_assert_eq(term_tmux(args), 0, "cannot start tmux (in .ci/run's DEPS)");
	free(run);
	cr_assert(term_wait(ready), "'%s' never showed", ready);
}

void term_keys(const char *keys)
{
	char args[4096];

	snprintf(args, sizeof(args), "send-keys -t t -- %.4000s", keys);
	cr_assert_eq(term_tmux(args), 0, "send-keys %s", keys);
}

void term_stop(void)
{
	if (term_sock[0] != '\0')
		term_tmux("kill-server 2>/dev/null");
	term_sock[0] = '\0';
}
