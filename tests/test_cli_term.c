/*
 * test_cli_term.c - pfi on a real terminal (a tmux pane, helpers.c):
 * search tables at 80, 100 and 200 columns that cut no queue ID, address
 * or reply, widths counted in terminal cells, the pager (PFI_PAGER, the
 * default less -FRSX, $PAGER, --no-pager, pipes), colour (--color,
 * NO_COLOR, TERM=dumb) and the progress of pfi index on a terminal.  The
 * pager writes what it was given to a file, so a test reads the whole
 * table pfi laid out for the pane's width; progress is read from a
 * pseudo-terminal of the test's own, every redrawn line of it.
 */
#define _XOPEN_SOURCE 700   /* posix_openpt, grantpt, unlockpt, ptsname */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include "helpers.h"

#define SAMPLE_MTIME 1793664000   /* 2026-11-03 00:00 UTC, after the sample */

static const char *dir;
static char *db;

static void setup(void)
{
	char *log, *err = NULL;

	dir = tmpdir_make();
	db = path_join(dir, "index.db");
	setenv("TZ", "UTC", 1);
	setenv("NO_COLOR", "1", 1);
	unsetenv("PFI_DB");
	log = copy_fixture("logs/sample.log", dir, "mail.log", SAMPLE_MTIME);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "index: %s", err);
	free(err);
	free(log);
}

static void teardown(void)
{
	term_stop();
	free(db);
	tmpdir_cleanup();
}

TestSuite(cli_term, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(120));

/* Runs `words` (shell text after "$PFI") in a pane `cols` wide with the
 * pager writing to DIR/paged, and returns what it wrote (malloc'd). */
static char *paged(int cols, const char *words)
{
	char script[4096], *path = path_join(dir, "paged"), *text;

	remove(path);
	snprintf(script, sizeof(script), "PFI_PAGER='cat > %s' \"$PFI\" %s",
	         path, words);
	term_start(dir, db, cols, script, "EXIT=");
	term_stop();
	text = slurp(path, NULL);
	cr_assert_not_null(text, "%s: nothing was paged", words);
	free(path);
	return text;
}

/* The standard output of `pfi --db DB WORDS...` (exit 0 asserted). */
static char *stdout_of(const char *a1, const char *a2, const char *a3,
                     const char *a4)
{
	const char *argv[] = { "--db", db, a1, a2, a3, a4, NULL };
	char *out, *err;

	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "%s", err);
	free(err);
	return out;
}

/* Terminal cells of the line at s (up to its newline). */
static size_t line_cells(const char *s)
{
	size_t n = strcspn(s, "\n"), cells = 0;
	mbstate_t st;
	wchar_t wc;

	memset(&st, 0, sizeof(st));
	while (n > 0) {
		size_t k = mbrtowc(&wc, s, n, &st);
		int w;

		cr_assert(k != (size_t)-1 && k != (size_t)-2, "bad UTF-8: %s", s);
		w = wcwidth(wc);
		cells += w > 0 ? (size_t)w : 0;
		s += k;
		n -= k;
	}
	return cells;
}

/* text without its blanks (so that a wrapped reply reads as one). */
static char *squeeze(const char *text)
{
	char *out = malloc(strlen(text) + 1), *w = out;

	for (; *text; text++)
		if (*text != ' ' && *text != '\n')
			*w++ = *text;
	*w = '\0';
	return out;
}

/* Every line of table fits cols cells, and every queue ID, sender,
 * recipient and reply of the rows (TSV: queue_id, from, to, response)
 * is in it whole. */
static void assert_whole(const char *table, const char *tsv, int cols)
{
	char *flat = squeeze(table), *copy = strdup(tsv), *line, *save = NULL;
	const char *p;
	int rows = 0;

	for (p = table; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
		cr_expect_leq(line_cells(p), (size_t)cols, "%d columns: %.*s", cols,
		              (int)strcspn(p, "\n"), p);
	cr_assert_null(strstr(table, "\xe2\x80\xa6"), "an ellipsis:\n%s", table);
	strtok_r(copy, "\n", &save);   /* the header */
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		char *f[4], *sq;
		int i;

		for (i = 0; i < 4; i++)   /* NOQUEUE rejects: the first is "" */
			f[i] = strsep(&line, "\t");
		cr_assert_not_null(f[3]);
		cr_expect_not_null(strstr(table, f[0][0] ? f[0] : "NOQUEUE"),
		                   "%d: queue ID %s cut", cols, f[0]);
		cr_expect_not_null(strstr(table, f[2]), "%d: %s cut", cols, f[2]);
		sq = squeeze(f[3]);
		cr_expect_not_null(strstr(flat, sq), "%d: reply cut: %s", cols, f[3]);
		free(sq);
		rows++;
	}
	cr_assert_gt(rows, 0);
	free(copy);
	free(flat);
}

Test(cli_term, search_tables_at_80_100_and_200_columns_cut_no_identifier)
{
	static const int widths[] = { 80, 100, 200 };
	char *tsv = stdout_of("search", "--format=tsv",
	                    "--columns=queue_id,from,to,response", NULL);
	char *bounced = stdout_of("search", "--status=bounced", "--format=tsv",
	                        "-oqueue_id,from,to,response");

	setlocale(LC_CTYPE, "C.UTF-8");
	for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
		char *all = paged(widths[i], "search");
		char *b = paged(widths[i], "search --status bounced");

		assert_whole(all, tsv, widths[i]);
		assert_whole(b, bounced, widths[i]);
		/* the identifiers and the outcome stay at every width */
		cr_expect(strncmp(strstr(b, "queue_id"), "queue_id", 8) == 0);
		cr_expect_not_null(strstr(b, "  to  "), "%s", b);
		cr_expect_not_null(strstr(b, "  status  "), "%s", b);
		cr_expect_not_null(strstr(b, "  response\n"), "%s", b);
		/* the relay goes first on a narrow terminal, and comes back */
		if (widths[i] == 80)
			cr_expect_null(strstr(b, "relay"), "%s", b);
		if (widths[i] == 200)
			cr_expect_not_null(strstr(b, "  relay  "), "%s", b);
		free(all);
		free(b);
	}
	free(tsv);
	free(bounced);
}

Test(cli_term, columns_picks_and_orders_the_table_too)
{
	char *t = paged(80, "search --status bounced -o to,queue_id,sasl_username,tls");

	cr_assert(strncmp(t, "to  ", 4) == 0 || strncmp(t, "to    ", 6) == 0,
	          "%s", t);
	cr_assert_not_null(strstr(t, "  queue_id  "), "%s", t);
	cr_assert_not_null(strstr(t, "  sasl_username  tls.protocol  tls.cipher\n"),
	                   "%s", t);
	cr_assert_null(strstr(t, "status"), "%s", t);
	free(t);
}

/* A log of one message whose subject is Chinese (4 wide characters). */
static const char wide_log[] =
	"2026-11-02T09:00:01+00:00 mx1 postfix/smtpd[2101]: 4A1B2C3D4E: "
	"client=mail.a.example[203.0.113.5]\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/cleanup[1211]: 4A1B2C3D4E: "
	"warning: header Subject: \xe4\xbc\x9a\xe8\xae\xae\xe9\x80\x9a\xe7\x9f\xa5"
	" from mail.a.example[203.0.113.5]; from=<ann@a.example>"
	" to=<rob@x.example> proto=ESMTP helo=<mail.a.example>\n"
	"2026-11-02T09:00:01+00:00 mx1 postfix/qmgr[1102]: 4A1B2C3D4E: "
	"from=<ann@a.example>, size=421, nrcpt=1 (queue active)\n"
	"2026-11-02T09:00:02+00:00 mx1 postfix/smtp[1301]: 4A1B2C3D4E: "
	"to=<rob@x.example>, relay=mx.x.example[198.51.100.1]:25, delay=0.2,"
	" delays=0.08/0.12/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n"
	"2026-11-02T09:00:02+00:00 mx1 postfix/qmgr[1102]: 4A1B2C3D4E: removed\n";

Test(cli_term, wide_characters_take_two_cells_and_columns_still_align)
{
	char *log = path_join(dir, "wide.log"), *err = NULL, *t, *second;
	FILE *fp = fopen(log, "w");
	size_t col_head, col_row;

	cr_assert_not_null(fp);
	fputs(wide_log, fp);
	fclose(fp);
	cr_assert_eq(run_pfi_index(db, log, &err), 0, "%s", err);
	setlocale(LC_CTYPE, "C.UTF-8");
	t = paged(80, "search --to rob@x.example -o subject,status,response");
	second = strchr(t, '\n') + 1;
	col_head = line_cells(t) - strlen("status  response");
	col_row = line_cells(second) - strlen("sent    250 2.0.0 Ok");
	cr_assert_eq(col_head, col_row, "status not aligned:\n%s", t);
	/* 会议通知 in 8 cells, "status" 6, then the reply */
	cr_assert_eq(line_cells(second), 8 + 2 + 6 + 2 + 12, "%s", t);
	free(t);
	free(err);
	free(log);
}

/* ---- the pager and colour --------------------------------------------------- */

Test(cli_term, the_default_pager_is_less_and_q_leaves_it)
{
	/* 105 rows do not fit 40 lines: less -FRSX stays until q */
	term_start(dir, db, 100, "\"$PFI\" search", "queue_id");
	{
		char *screen = term_screen();

		cr_expect_null(strstr(screen, "EXIT="), "less did not wait:\n%s",
		               screen);
		free(screen);
	}
	term_keys("q");
	cr_assert(term_wait("EXIT=0"));
	term_stop();
}

Test(cli_term, no_pager_and_pipes_never_page)
{
	char script[4096], *path = path_join(dir, "paged"), *text;

	snprintf(script, sizeof(script), "export PFI_PAGER='echo PAGED >> "
	         "%s'; \"$PFI\" --no-pager search --limit 2 && "
	         "\"$PFI\" search --limit 2 | cat > \"$DIR/piped\" && "
	         "\"$PFI\" search --no-pager --limit 1", path);
	term_start(dir, db, 100, script, "EXIT=0");
	term_stop();
	cr_assert_null(slurp(path, NULL), "paged");
	free(path);
	path = path_join(dir, "piped");
	text = slurp(path, NULL);
	cr_assert_not_null(text);
	cr_expect_not_null(strstr(text, "queue_id"), "%s", text);
	free(text);
	free(path);
}

Test(cli_term, colour_follows_color_no_color_and_term)
{
	struct { const char *env, *color; int want; } cases[] = {
		{ "unset NO_COLOR; export TERM=xterm-256color;", "", 1 },
		{ "unset NO_COLOR; export TERM=dumb;", "", 0 },
		{ "unset NO_COLOR; unset TERM;", "", 0 },
		{ "export NO_COLOR=1 TERM=xterm-256color;", "", 0 },
		{ "export NO_COLOR=1 TERM=dumb;", "--color always", 1 },
		{ "unset NO_COLOR; export TERM=xterm-256color;", "--color never", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char script[1024], *path = path_join(dir, "paged"), *t;

		remove(path);
		snprintf(script, sizeof(script), "%s PFI_PAGER='cat > %s' "
		         "\"$PFI\" %s search --limit 3", cases[i].env, path,
		         cases[i].color);
		term_start(dir, db, 100, script, "EXIT=");
		term_stop();
		t = slurp(path, NULL);
		cr_assert_not_null(t, "%s: not paged", cases[i].env);
		cr_expect_eq(strchr(t, '\033') != NULL, cases[i].want,
		             "%s %s: colour %d:\n%s", cases[i].env, cases[i].color,
		             strchr(t, '\033') != NULL, t);
		free(t);
		free(path);
	}
}

Test(cli_term, pager_falls_back_to_pager_and_pfi_pager_wins)
{
	char script[4096], *a = path_join(dir, "by-pager"), *b = path_join(dir,
	     "by-pfi-pager"), *t;

	/* $PAGER when $PFI_PAGER is unset; $PFI_PAGER over $PAGER */
	snprintf(script, sizeof(script), "PAGER='cat > %s' \"$PFI\" search "
	         "--limit 2 && PAGER='echo WRONG > %s' PFI_PAGER='cat > %s' "
	         "\"$PFI\" search --limit 1", a, a, b);
	term_start(dir, db, 100, script, "EXIT=0");
	term_stop();
	t = slurp(a, NULL);
	cr_assert_not_null(t, "$PAGER was not used");
	cr_expect_not_null(strstr(t, "queue_id"), "%s", t);
	free(t);
	t = slurp(b, NULL);
	cr_assert_not_null(t, "$PFI_PAGER was not used");
	cr_expect_not_null(strstr(t, "queue_id"), "%s", t);
	free(t);
	free(a);
	free(b);
}

/* ---- progress of pfi index ------------------------------------------------- */

/* Writes a log of n messages (3 lines each) to path. */
static void write_big_log(const char *path, int n)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	for (int i = 0; i < n; i++) {
		int m = i / 60 % 60, sec = i % 60;

		fprintf(fp, "Nov  2 10:%02d:%02d mx1 postfix/smtpd[1]: %010X: "
		        "client=c.example[192.0.2.1]\n", m, sec, i + 1);
		fprintf(fp, "Nov  2 10:%02d:%02d mx1 postfix/qmgr[2]: %010X: "
		        "from=<a%d@example.org>, size=100, nrcpt=1 (queue active)\n",
		        m, sec, i + 1, i);
		fprintf(fp, "Nov  2 10:%02d:%02d mx1 postfix/smtp[3]: %010X: "
		        "to=<b%d@example.com>, relay=mx.example.com[192.0.2.2]:25, "
		        "delay=1, delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 "
		        "ok)\n", m, sec, i + 1, i);
	}
	fclose(fp);
}

/* Runs pfi with stdout and stderr on a new pseudo-terminal `cols` wide
 * and returns all it wrote there (malloc'd); *status gets its exit. */
static char *on_pty(const char *const *args, int cols, int *status)
{
	struct winsize ws = { 24, (unsigned short)cols, 0, 0 };
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	pid_t pid;
	ssize_t n;

	cr_assert(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	cr_assert_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		int slave;
		const char *argv[16] = { PFI_BIN };

		setsid();
		slave = open(ptsname(master), O_RDWR);
		if (slave < 0)
			_exit(127);
		dup2(slave, 1);
		dup2(slave, 2);
		for (int i = 0; args[i] != NULL && i < 14; i++)
			argv[i + 1] = args[i];
		execv(PFI_BIN, (char *const *)argv);
		_exit(127);
	}
	/* Linux ends the reads with EIO once the last slave closes */
	while ((n = read(master, buf + len, cap - len - 1)) > 0 ||
	       (n < 0 && errno == EINTR)) {
		len += n > 0 ? (size_t)n : 0;
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(master);
	cr_assert_eq(waitpid(pid, status, 0), pid);
	return buf;
}

Test(cli_term, index_progress_shows_percent_rate_time_left_and_the_finishing_steps)
{
	char *log = path_join(dir, "big.log"), *fresh = path_join(dir, "p.db");
	const char *args[] = { "--db", fresh, "index", log, NULL };
	char *out, *line, *summary;
	int status;

	write_big_log(log, 5000);   /* 15000 lines: progress every 4096 */
	out = on_pty(args, 200, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
	/* a reading line: percent of the whole run, rates and time left */
	line = strstr(out, "\rindexing ");
	cr_assert_not_null(line, "%s", out);
	cr_expect_not_null(strstr(line, "big.log: "), "%s", out);
	cr_expect_not_null(strstr(line, "% of 1."), "%s", out);   /* 1.x MB */
	cr_expect_not_null(strstr(line, " MB/s, "), "%s", out);
	cr_expect_not_null(strstr(line, " lines/s, "), "%s", out);
	cr_expect_not_null(strstr(line, "s left\033[K"), "%s", out);
	/* then the finishing steps of a first run, each by name, in order */
	line = strstr(out, "\rindexing: 15000 lines read in ");
	cr_assert_not_null(line, "%s", out);
	line = strstr(line, "; saving open messages and counts\033[K");
	cr_assert_not_null(line, "%s", out);
	line = strstr(line, "; building indexes\033[K");
	cr_assert_not_null(line, "%s", out);
	line = strstr(line, "; linking messages\033[K");
	cr_assert_not_null(line, "%s", out);
	line = strstr(line, "; updating statistics\033[K");
	cr_assert_not_null(line, "%s", out);
	line = strstr(line, "; committing\033[K");
	cr_assert_not_null(line, "%s", out);
	/* cleared before the summary, which stays */
	summary = strstr(line, "\r\033[Kindexed 15000 lines from 1 files: ");
	cr_assert_not_null(summary, "%s", out);
	free(out);
	free(fresh);
	free(log);
}

Test(cli_term, index_shows_no_progress_with_quiet_or_off_a_terminal)
{
	char *log = path_join(dir, "big.log"), *a = path_join(dir, "q.db");
	char *b = path_join(dir, "r.db"), *out, *err;
	const char *quiet[] = { "--db", a, "index", "--quiet", log, NULL };
	const char *piped[] = { "--db", b, "index", log, NULL };
	int status;

	write_big_log(log, 5000);
	out = on_pty(quiet, 200, &status);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", out);
	cr_expect_str_empty(out);
	free(out);
	cr_assert_eq(run_pfi(piped, NULL, &out, &err), 0, "%s", err);
	cr_expect_null(strchr(err, '\r'), "%s", err);
	cr_expect_eq(strncmp(err, "indexed 15000 lines", 19), 0, "%s", err);
	free(out);
	free(err);
	free(a);
	free(b);
	free(log);
}
