/*
 * test_journal.c - the systemd journal as an input (read-journal.c,
 * index-journal.c, `pfi index --journal`).  The journals are real: the
 * lines of testdata/realpostfix/mail-rfc3339.log, a real Postfix log with
 * microsecond stamps, are written as Journal Export Format and turned into
 * journal files by systemd-journal-remote, the tool journald's own remote
 * collection uses.  A journal indexed with --journal-file or --journal-dir
 * must answer as the log file does, byte for byte; runs continue after
 * the cursor they stored, also into an appended file, a longer copy and
 * under --follow; other programs' entries are counted, not kept.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define REAL_LOG "realpostfix/mail-rfc3339.log"
#define REAL_LINES 3093
#define FOREIGN_EVERY 100       /* an sshd entry after every 100th line */
#define BOOT_ID "0123456789abcdef0123456789abcdef"

/* One journal entry, as a syslog daemon would have handed it to journald. */
struct entry {
	int64_t time;            /* __REALTIME_TIMESTAMP */
	char host[64];           /* _HOSTNAME */
	char ident[1024];        /* SYSLOG_IDENTIFIER, "" for none */
	long pid;                /* SYSLOG_PID (and _PID); -1 none */
	long only_pid;           /* _PID without SYSLOG_PID; -1 none */
	int facility;            /* SYSLOG_FACILITY */
	const char *text;        /* MESSAGE */
};

static const char *dir;
static char *log_text;          /* the real log, cut into lines */
static char **log_lines;
static size_t nlog;
static uint64_t mono;           /* __MONOTONIC_TIMESTAMP of the next entry */

static void setup(void)
{
	dir = tmpdir_make();
	nlog = fixture_lines(REAL_LOG, &log_text, &log_lines);
	cr_assert_eq(nlog, REAL_LINES);
	mono = 1000000;
}

static void teardown(void)
{
	free(log_lines);
	free(log_text);
	tmpdir_cleanup();
}

TestSuite(journal, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT(120));

/* ---- making real journals ---------------------------------------------------- */

/* Tests that read journals need a pfi built with libsystemd.  Without it,
 * the one thing to check is the error `pfi index --journal` gives, which
 * journal_errors_are_one_line_and_create_no_index does: such tests are
 * skipped, saying why. */
static void need_journal(void)
{
	if (!pfi_journal_supported())
		cr_skip_test("pfi is built without systemd journal support"
		             " (configure --without-systemd)");
}

/* systemd-journal-remote, which Debian keeps out of PATH. */
static const char *journal_remote(void)
{
	static const char *const where[] = {
		"/lib/systemd/systemd-journal-remote",
		"/usr/lib/systemd/systemd-journal-remote",
	};

	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	cr_assert_fail("no systemd-journal-remote: install the Debian package"
	               " systemd-journal-remote (it is in .ci/run's DEPS)");
	return NULL;
}

/* Microseconds of "2026-12-06T21:02:26.515907+00:00". */
static int64_t stamp_usec(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	cr_assert(end && *end == '.' && strncmp(end + 7, "+00:00 ", 7) == 0,
	          "not a stamp of the fixture: %s", s);
	return (int64_t)timegm(&tm) * 1000000 + strtol(end + 1, NULL, 10);
}

/* "STAMP host prog[pid]: text" of the fixture into an entry of the mail
 * facility (text points into line). */
static struct entry line_entry(const char *line)
{
	struct entry e = { .pid = -1, .only_pid = -1, .facility = 2 };
	const char *h = strchr(line, ' ') + 1, *p = strchr(h, ' ') + 1;
	size_t n = strcspn(p, "[:");

	e.time = stamp_usec(line);
	cr_assert_lt((size_t)(p - h - 1), sizeof(e.host));
	memcpy(e.host, h, (size_t)(p - h - 1));
	cr_assert_lt(n, sizeof(e.ident));
	memcpy(e.ident, p, n);
	p += n;
	if (*p == '[')
		e.pid = strtol(p + 1, (char **)&p, 10), p++;
	cr_assert(p[0] == ':', "%s", line);
	e.text = p[1] == ' ' ? p + 2 : p + 1;
	return e;
}

/* sshd's entry after e: another program, of the auth facility. */
static struct entry sshd_entry(const struct entry *e)
{
	struct entry s = { .time = e->time, .pid = 911, .only_pid = -1,
	                   .facility = 4,
	                   .text = "Accepted publickey for root from 192.0.2.9"
	                           " port 50022 ssh2" };

	snprintf(s.host, sizeof(s.host), "%s", e->host);
	snprintf(s.ident, sizeof(s.ident), "sshd");
	return s;
}

/* One entry in Journal Export Format. */
static void export_entry(FILE *fp, const struct entry *e)
{
	fprintf(fp, "__REALTIME_TIMESTAMP=%lld\n__MONOTONIC_TIMESTAMP=%llu\n"
	        "_BOOT_ID=" BOOT_ID "\n_TRANSPORT=syslog\nPRIORITY=6\n"
	        "_HOSTNAME=%s\nSYSLOG_FACILITY=%d\n", (long long)e->time,
	        (unsigned long long)mono, e->host, e->facility);
	mono += 1000;
	if (e->ident[0])
		fprintf(fp, "SYSLOG_IDENTIFIER=%s\n", e->ident);
	if (e->pid >= 0)
		fprintf(fp, "SYSLOG_PID=%ld\n_PID=%ld\n", e->pid, e->pid);
	if (e->only_pid >= 0)
		fprintf(fp, "_PID=%ld\n", e->only_pid);
	fprintf(fp, "MESSAGE=%s\n\n", e->text);
}

/* Pipes entries into systemd-journal-remote, which writes (or appends
 * to) the journal file at path. */
static void write_journal(const char *path, const struct entry *e, size_t n)
{
	char cmd[1024];
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "'%s' -o '%s' - 2>/dev/null",
	         journal_remote(), path);
	fp = popen(cmd, "w");
	cr_assert_not_null(fp, "popen: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		export_entry(fp, &e[i]);
	cr_assert_eq(pclose(fp), 0, "systemd-journal-remote failed for %s", path);
}

/* Lines [from, to) of the real log as a journal at dir/name (appended
 * when it exists), with an sshd entry after every FOREIGN_EVERY-th line
 * when `foreign`.  Returns the path (malloc'd). */
static char *real_journal(const char *name, size_t from, size_t to,
                          int foreign)
{
	struct entry *e = calloc(2 * (to - from) + 1, sizeof(*e));
	char *path = path_join(dir, name);
	size_t n = 0;

	cr_assert_not_null(e);
	for (size_t i = from; i < to; i++) {
		e[n++] = line_entry(log_lines[i]);
		if (foreign && (i + 1) % FOREIGN_EVERY == 0)
			e[n] = sshd_entry(&e[n - 1]), n++;
	}
	write_journal(path, e, n);
	free(e);
	return path;
}

/* ---- running pfi --------------------------------------------------------------- */

/* Runs pfi with up to 8 words (NULL-terminated) and stdin from `in`;
 * asserts the exit status; returns stdout (malloc'd). */
static char *pfi_ok(int want, const char *in, const char *a0, ...)
{
	const char *argv[16];
	char *out, *err;
	va_list ap;
	size_t n = 0;
	int rc;

	argv[n++] = a0;
	va_start(ap, a0);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	rc = run_pfi(argv, in, &out, &err);
	cr_assert_eq(rc, want, "pfi %s %s ... exited %d: %s", argv[0],
	             argv[1] ? argv[1] : "", rc, err);
	free(err);
	return out;
}

/* A new index of dir/name indexed from the journal at jpath. */
static char *journal_index(const char *name, const char *opt, const char *jpath)
{
	char *db = path_join(dir, name);

	need_journal();
	free(pfi_ok(0, NULL, "--db", db, "index", "--quiet", opt, jpath, NULL));
	return db;
}

/* A new index of the fixture log `rel` itself, as a file. */
static char *file_index_of(const char *rel, const char *name)
{
	char *log = copy_fixture(rel, dir, "mail.log", 0);
	char *db = path_join(dir, name);

	free(pfi_ok(0, NULL, "--db", db, "index", "--quiet", log, NULL));
	free(log);
	return db;
}

/* A new index of the real log itself, as a file. */
static char *file_index(const char *name)
{
	return file_index_of(REAL_LOG, name);
}

/* Every queue ID of the index, as one string of words. */
static char *queue_ids(const char *db)
{
	char *rows = db_rows(db, "SELECT DISTINCT queue_id FROM messages"
	                         " ORDER BY 1");

	for (char *p = rows; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return rows;
}

/* What the index answers: every search row, the stats and, with
 * `traces`, the trace of every message (raw lines included), as one
 * text. */
static char *answers(const char *db, int traces)
{
	char *ids = queue_ids(db), *search, *stats, *trace, *all;
	const char *argv[4096];
	char *save = NULL, *w, *err;
	size_t n = 0, len;

	search = pfi_ok(0, NULL, "--db", db, "--utc", "search", "--format",
	                "ndjson", "--limit", "100000", NULL);
	stats = pfi_ok(0, NULL, "--db", db, "--utc", "stats", "--json", NULL);
	argv[n++] = "--db";
	argv[n++] = db;
	argv[n++] = "--utc";
	argv[n++] = "trace";
	argv[n++] = "--json";
	for (w = strtok_r(ids, " ", &save); w && n < 4095;
	     w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	if (traces)
		cr_assert_eq(run_pfi(argv, NULL, &trace, &err), 0, "trace: %s", err);
	else
		trace = strdup(""), err = NULL;
	len = strlen(search) + strlen(stats) + strlen(trace) + 1;
	all = malloc(len);
	cr_assert_not_null(all);
	snprintf(all, len, "%s%s%s", search, stats, trace);
	free(search);
	free(stats);
	free(trace);
	free(err);
	free(ids);
	return all;
}

/* Asserts that two indexes give the same answers; `traces` as above. */
static void assert_same(const char *db, const char *want_db, int traces)
{
	char *got = answers(db, traces), *want = answers(want_db, traces);

	cr_assert_gt(strlen(want), 10000, "too few answers to compare");
	cr_assert(strcmp(got, want) == 0, "%s answers otherwise than %s",
	          db, want_db);
	free(got);
	free(want);
}

/* The same answers, raw lines included. */
static void assert_same_answers(const char *db, const char *want_db)
{
	assert_same(db, want_db, 1);
}

/* Lines kept in the index. */
static int64_t kept_lines(const char *db)
{
	return db_int(db, "SELECT coalesce(sum(count), 0) FROM chunks");
}

/* ---- one run -------------------------------------------------------------------- */

Test(journal, a_journal_answers_as_the_same_lines_in_a_file_do)
{
	char *j = real_journal("all.journal", 0, REAL_LINES, 0);
	char *jdb = journal_index("j.db", "--journal-file", j);
	char *fdb = file_index("f.db");

	assert_same_answers(jdb, fdb);
	cr_assert_eq(kept_lines(jdb), REAL_LINES);
	free(j);
	free(jdb);
	free(fdb);
}

Test(journal, a_second_run_adds_nothing)
{
	char *j = real_journal("all.journal", 0, REAL_LINES, 1);
	char *db = journal_index("j.db", "--journal-file", j);
	char *cursor = db_rows(db, "SELECT * FROM journal_cursors"), *err;
	const char *argv[] = { "--db", db, "index", "--journal-file", j, NULL };
	char *again;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), 0);
	cr_assert_not_null(strstr(err, "indexed 0 lines from 0 journals"), "%s",
	                   err);
	cr_assert_not_null(strstr(err, "1 journals unchanged"), "%s", err);
	cr_assert_eq(kept_lines(db), REAL_LINES);
	again = db_rows(db, "SELECT * FROM journal_cursors");
	cr_assert_str_eq(again, cursor);
	free(again);
	free(cursor);
	free(err);
	free(db);
	free(j);
}

Test(journal, other_programs_entries_are_counted_as_foreign_and_not_kept)
{
	char *j = real_journal("all.journal", 0, REAL_LINES, 1);
	char *db = journal_index("j.db", "--journal-file", j);
	char *fdb = file_index("f.db");
	int64_t sshd = REAL_LINES / FOREIGN_EVERY;
	char *out;

	cr_assert_eq(kept_lines(db), REAL_LINES);
	cr_assert_eq(db_int(db, "SELECT count FROM line_counts"
	                        " WHERE program = 'sshd'"), sshd);
	/* counted under the entries' host too, as their lines name it */
	cr_assert_eq(db_int(db, "SELECT sum(count) FROM line_host_counts"
	                        " WHERE kind = 2"),
	             db_int(db, "SELECT sum(count) FROM line_counts"
	                        " WHERE kind = 2"));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM line_host_counts"
	                        " WHERE host = ''"), 0);
	/* amavis logs to the mail facility: kept, as in mail.log */
	cr_assert_eq(db_int(db, "SELECT sum(count) FROM line_counts"
	                        " WHERE program = 'amavis'"), 2);
	cr_assert_eq(db_int(db, "SELECT entries FROM journal_cursors"),
	             REAL_LINES + sshd);
	out = pfi_ok(0, NULL, "--db", db, "info", "--json", NULL);
	cr_assert_not_null(strstr(out, "\"foreign_lines\":"), "%s", out);
	free(out);
	free(pfi_ok(1, NULL, "--db", db, "search", "--grep", "Accepted publickey",
	            NULL));
	assert_same_answers(db, fdb);
	free(fdb);
	free(db);
	free(j);
}

/* ---- runs that continue -------------------------------------------------------------- */

Test(journal, entries_appended_to_the_file_continue_after_the_cursor)
{
	static const size_t cuts[] = { 1000, 1777, REAL_LINES };
	char *path = path_join(dir, "a.journal"), *db = path_join(dir, "j.db");
	char *fdb;
	size_t from = 0;

	need_journal();
	fdb = file_index("f.db");
	for (size_t i = 0; i < 3; i++) {
		free(real_journal("a.journal", from, cuts[i], 1));
		free(pfi_ok(0, NULL, "--db", db, "index", "--quiet", "--journal",
		            "--journal-file", path, NULL));
		cr_assert_eq(kept_lines(db), (int64_t)cuts[i]);
		from = cuts[i];
	}
	assert_same_answers(db, fdb);
	free(fdb);
	free(db);
	free(path);
}

Test(journal, a_longer_copy_continues_after_the_cursor)
{
	char *early = real_journal("early.journal", 0, 1500, 0);
	char *copy = path_join(dir, "evidence.journal");
	char *db, *longer, *fdb = file_index("f.db");

	cr_assert_eq(rename(early, copy), 0);
	db = journal_index("j.db", "--journal-file", copy);
	cr_assert_eq(kept_lines(db), 1500);
	/* A later export of the whole, written anew: another file, another
	 * sequence-number ID, the same entries. */
	mono = 1000000;
	longer = real_journal("longer.journal", 0, REAL_LINES, 0);
	cr_assert_eq(rename(longer, copy), 0);
	free(pfi_ok(0, NULL, "--db", db, "index", "--quiet", "--journal-file",
	            copy, NULL));
	cr_assert_eq(kept_lines(db), REAL_LINES);
	assert_same_answers(db, fdb);
	free(fdb);
	free(longer);
	free(db);
	free(copy);
	free(early);
}

Test(journal, a_journal_directory_continues_into_its_new_file)
{
	char *jdir = path_join(dir, "journal"), *db = path_join(dir, "j.db");
	char *fdb, *one, *two;

	need_journal();
	fdb = file_index("f.db");
	cr_assert_eq(mkdir(jdir, 0700), 0);
	one = real_journal("journal/one.journal", 0, 2000, 1);
	free(pfi_ok(0, NULL, "--db", db, "index", "--quiet", "--journal-dir",
	            jdir, NULL));
	cr_assert_eq(kept_lines(db), 2000);
	two = real_journal("journal/two.journal", 2000, REAL_LINES, 1);
	free(pfi_ok(0, NULL, "--db", db, "index", "--quiet", "--journal-dir",
	            jdir, NULL));
	cr_assert_eq(kept_lines(db), REAL_LINES);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM journal_cursors"), 1);
	assert_same_answers(db, fdb);
	free(one);
	free(two);
	free(fdb);
	free(db);
	free(jdir);
}

/* The facility a program logs to by default: clamav-milter and clamd to
 * local6, rspamd (here) to local0, the others to mail. */
static int default_facility(const char *ident)
{
	if (strcmp(ident, "clamav-milter") == 0 || strcmp(ident, "clamd") == 0)
		return 22;
	return strcmp(ident, "rspamd") == 0 ? 16 : 2;
}

Test(journal, verdicts_of_milters_and_filters_come_through_whatever_their_facility)
{
	char *text, **lines, *j = path_join(dir, "v.journal"), *db, *fdb;
	size_t n = fixture_lines("verdicts/mail-rfc3339.log", &text, &lines);
	struct entry *e = calloc(n, sizeof(*e));

	need_journal();
	cr_assert_not_null(e);
	for (size_t i = 0; i < n; i++) {
		e[i] = line_entry(lines[i]);
		e[i].facility = default_facility(e[i].ident);
	}
	write_journal(j, e, n);
	db = journal_index("j.db", "--journal-file", j);
	fdb = file_index_of("verdicts/mail-rfc3339.log", "f.db");
	cr_assert_gt(db_int(fdb, "SELECT count(*) FROM verdicts"
	                         " WHERE program IN ('rspamd', 'clamav-milter')"), 0);
	cr_assert_eq(db_int(db, "SELECT count(*) FROM verdicts"),
	             db_int(fdb, "SELECT count(*) FROM verdicts"));
	/* clamd reads no verdict and logs to local6: counted, not kept */
	cr_assert_gt(db_int(db, "SELECT count FROM line_counts"
	                        " WHERE program = 'clamd'"), 0);
	assert_same(db, fdb, 1);
	free(fdb);
	free(db);
	free(e);
	free(lines);
	free(text);
	free(j);
}

/* ---- what an entry becomes --------------------------------------------------------------- */

/* A message of an edge MTA's second instance, logging to local0, with
 * stamps to the microsecond; its smtp entry has a _PID and no SYSLOG_PID. */
static const struct entry edge[] = {
	{ 1793588645123457, "edge-1", "postfix-out/pickup", 100, -1, 16,
	  "1A2B3C4D5E: uid=0 from=<root>" },
	{ 1793588645200001, "edge-1", "postfix-out/cleanup", 101, -1, 16,
	  "1A2B3C4D5E: message-id=<x@edge-1.example>" },
	{ 1793588645300002, "edge-1", "postfix-out/qmgr", 102, -1, 16,
	  "1A2B3C4D5E: from=<root@edge-1.example>, size=300, nrcpt=1 (queue"
	  " active)" },
	{ 1793588645999999, "edge-1", "kernel", -1, -1, 0,
	  "eth0: link becomes ready" },
	{ 1793588646654321, "edge-1", "postfix-out/smtp", -1, 103, 16,
	  "1A2B3C4D5E: to=<bob@example.com>, relay=mx.example.com[192.0.2.7]:25,"
	  " delay=1.5, delays=0.1/0.1/0.2/1.1, dsn=2.0.0, status=sent (250 2.0.0"
	  " Ok: queued as 9F8E7D6C5B)" },
	{ 1793588646700000, "edge-1", "postfix-out/qmgr", 102, -1, 16,
	  "1A2B3C4D5E: removed" },
};

static const char edge_raw[] =
	"2026-11-02T03:04:05.123457+00:00 edge-1 postfix-out/pickup[100]:"
	" 1A2B3C4D5E: uid=0 from=<root>\n"
	"2026-11-02T03:04:05.200001+00:00 edge-1 postfix-out/cleanup[101]:"
	" 1A2B3C4D5E: message-id=<x@edge-1.example>\n"
	"2026-11-02T03:04:05.300002+00:00 edge-1 postfix-out/qmgr[102]:"
	" 1A2B3C4D5E: from=<root@edge-1.example>, size=300, nrcpt=1 (queue"
	" active)\n"
	"2026-11-02T03:04:06.654321+00:00 edge-1 postfix-out/smtp[103]:"
	" 1A2B3C4D5E: to=<bob@example.com>, relay=mx.example.com[192.0.2.7]:25,"
	" delay=1.5, delays=0.1/0.1/0.2/1.1, dsn=2.0.0, status=sent (250 2.0.0"
	" Ok: queued as 9F8E7D6C5B)\n"
	"2026-11-02T03:04:06.700000+00:00 edge-1 postfix-out/qmgr[102]:"
	" 1A2B3C4D5E: removed\n";

Test(journal, an_entry_keeps_its_own_microseconds_host_and_pid)
{
	char *j = path_join(dir, "edge.journal"), *db, *raw, *json;

	write_journal(j, edge, sizeof(edge) / sizeof(edge[0]));
	db = journal_index("j.db", "--journal-file", j);
	raw = pfi_ok(0, NULL, "--db", db, "trace", "--raw", "1A2B3C4D5E", NULL);
	cr_assert_str_eq(raw, edge_raw);
	json = pfi_ok(0, NULL, "--db", db, "--utc", "trace", "--json",
	              "1A2B3C4D5E", NULL);
	cr_assert_not_null(strstr(json, "\"host\":\"edge-1\""), "%s", json);
	cr_assert_not_null(strstr(json, "2026-11-02T03:04:05.123457"), "%s",
	                   json);
	cr_assert_not_null(strstr(json, "\"status\":\"sent\""), "%s", json);
	cr_assert_eq(db_int(db, "SELECT first FROM journal_cursors"),
	             1793588645123457);
	cr_assert_eq(db_int(db, "SELECT last FROM journal_cursors"),
	             1793588646700000);
	cr_assert_eq(db_int(db, "SELECT count FROM line_counts"
	                        " WHERE program = 'kernel'"), 1);
	free(json);
	free(raw);
	free(db);
	free(j);
}

Test(journal, an_overlong_entry_is_cut_as_an_overlong_line_is)
{
	struct entry e = { 1793588645123457, "edge-1", "", 7, -1, 2, NULL };
	size_t big = 100000, len;
	char *text = malloc(big + 1), *j = path_join(dir, "long.journal");
	char *db, *out;

	cr_assert_not_null(text);
	memset(text, 'a', big);
	text[big] = '\0';
	e.text = text;
	/* an identifier of Postfix's shape, far too long: 1000 bytes */
	snprintf(e.ident, sizeof(e.ident), "postfix/%0992d", 0);
	write_journal(j, &e, 1);
	db = journal_index("j.db", "--journal-file", j);
	cr_assert_eq(kept_lines(db), 1);
	out = pfi_ok(0, NULL, "--db", db, "info", "--unparsed", "--format",
	             "tsv", NULL);
	len = strlen(out);
	/* "program\tline\n", the program, a tab, the line cut at 64 KiB
	 * (its program cut at 255 bytes) */
	cr_assert(len > 64 * 1024 && len < 64 * 1024 + 400, "%zu bytes", len);
	free(out);
	free(db);
	free(j);
	free(text);
}

Test(journal, info_lists_each_journal_source_with_its_entries_and_times)
{
	char *j = path_join(dir, "edge.journal"), *db, *out, want[512];

	write_journal(j, edge, sizeof(edge) / sizeof(edge[0]));
	db = journal_index("j.db", "--journal-file", j);
	out = pfi_ok(0, NULL, "--db", db, "--utc", "info", "--json", NULL);
	snprintf(want, sizeof(want), "\"journals\":[{\"source\":\"%s\","
	         "\"entries\":6,\"first\":\"2026-11-02T03:04:05.123457Z\","
	         "\"last\":\"2026-11-02T03:04:06.700000Z\"}]", j);
	cr_assert_not_null(strstr(out, want), "no %s in %s", want, out);
	cr_assert_not_null(strstr(out, "\"first\":\"2026-11-02T03:04:05.123457Z\""
	                   ",\"last\""), "%s", out);
	free(out);
	free(db);
	free(j);
}

/* ---- standard input still -------------------------------------------------------------- */

/* journalctl -o short-iso of the journal, into dir/name. */
static char *short_iso(const char *j, const char *name)
{
	char *out = path_join(dir, name), cmd[1024];

	snprintf(cmd, sizeof(cmd), "TZ=UTC journalctl --file '%s' -o short-iso"
	         " > '%s'", j, out);
	cr_assert_eq(system(cmd), 0, "journalctl failed: %s", cmd);
	return out;
}

Test(journal, journalctl_short_iso_into_standard_input_still_works)
{
	char *j = real_journal("all.journal", 0, REAL_LINES, 0);
	char *text = short_iso(j, "short.txt");
	char *db = path_join(dir, "s.db"), *cdb = path_join(dir, "c.db");
	/* Classic stamps have seconds, as short-iso does; the year comes
	 * from the file's mtime, the day after the log. */
	char *classic = copy_fixture("realpostfix/mail.log", dir, "classic.log",
	                             1796601600);

	free(pfi_ok(0, text, "--db", db, "index", "--quiet", "-", NULL));
	free(pfi_ok(0, NULL, "--db", cdb, "index", "--quiet", classic, NULL));
	/* The raw lines differ in their stamps; what they say may not. */
	assert_same(db, cdb, 0);
	free(classic);
	free(cdb);
	free(db);
	free(text);
	free(j);
}

/* The lines of text file `path` from line `from` on, into dir/name. */
static char *text_from(const char *path, size_t from, const char *name)
{
	char *out = path_join(dir, name), cmd[1024];

	snprintf(cmd, sizeof(cmd), "tail -n +%zu '%s' > '%s'", from + 1, path,
	         out);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	return out;
}

/* A journal holding the first half of the log, then an export of the
 * whole journal on standard input: the export's first half is what the
 * index holds (the same lines, seconds for microseconds), so only its
 * second half is added, as if only that had been given. */
Test(journal, an_export_of_the_journal_indexed_after_it_adds_its_new_lines)
{
	char *j = real_journal("all.journal", 0, REAL_LINES, 0);
	char *part = real_journal("part.journal", 0, REAL_LINES / 2, 0);
	char *text = short_iso(j, "short.txt");
	char *rest = text_from(text, REAL_LINES / 2, "rest.txt");
	char *db = journal_index("j.db", "--journal-file", part);
	char *want = journal_index("w.db", "--journal-file", part);

	free(pfi_ok(0, text, "--db", db, "index", "--quiet", "-", NULL));
	free(pfi_ok(0, rest, "--db", want, "index", "--quiet", "-", NULL));
	cr_assert_eq(kept_lines(db), REAL_LINES);
	cr_assert_eq(db_int(db, "SELECT sum(duplicates) FROM line_hosts"),
	             REAL_LINES / 2);
	assert_same(db, want, 0);
	free(want);
	free(db);
	free(rest);
	free(text);
	free(part);
	free(j);
}

/* ---- --follow ------------------------------------------------------------------------------ */

/* Starts `pfi --db db index --quiet --follow --journal-file j`. */
static pid_t follow_start(const char *db, const char *j)
{
	pid_t pid = fork();

	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		execl(PFI_BIN, PFI_BIN, "--db", db, "index", "--quiet", "--follow",
		      "--journal-file", j, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Waits (20 s at most) until the index keeps `want` lines. */
static void wait_for_lines(const char *db, int64_t want)
{
	int64_t got = -1;

	for (int i = 0; i < 400; i++) {
		if ((got = index_lines_now(db)) == want)
			return;
		usleep(50000);
	}
	cr_assert_fail("the index keeps %lld lines, not %lld", (long long)got,
	               (long long)want);
}

/* Stops a follower with SIGTERM: it exits 0. */
static void follow_stop(pid_t pid)
{
	int status;

	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	          "the follower ended with status %d", status);
}

Test(journal, follow_indexes_new_entries_and_its_cursor_survives_a_restart)
{
	char *j, *db = path_join(dir, "j.db"), *fdb;
	pid_t pid;

	need_journal();
	j = real_journal("live.journal", 0, 1000, 1);
	fdb = file_index("f.db");
	pid = follow_start(db, j);
	wait_for_lines(db, 1000);
	free(real_journal("live.journal", 1000, 2000, 1));
	wait_for_lines(db, 2000);
	follow_stop(pid);
	/* Written while nobody follows: the next follower starts there. */
	free(real_journal("live.journal", 2000, REAL_LINES, 1));
	pid = follow_start(db, j);
	wait_for_lines(db, REAL_LINES);
	follow_stop(pid);
	assert_same_answers(db, fdb);
	free(fdb);
	free(db);
	free(j);
}

/* ---- what is built in, and errors ------------------------------------------------------------ */

Test(journal, version_tells_whether_the_journal_is_built_in)
{
	const char *argv[] = { "--version", NULL };
	char *out;

	cr_assert_eq(run_pfi(argv, NULL, &out, NULL), 0);
	cr_assert_not_null(strstr(out, pfi_journal_supported()
	                           ? "systemd journal: yes\n"
	                           : "systemd journal: no"), "%s", out);
	free(out);
}

/* stderr of a failing pfi: one line, "pfi: " and `want` in it. */
static void assert_one_line_error(const char *const *argv, int code,
                                  const char *want)
{
	char *err;

	cr_assert_eq(run_pfi(argv, NULL, NULL, &err), code, "%s", err);
	cr_assert(strncmp(err, "pfi: ", 5) == 0, "%s", err);
	cr_assert_not_null(strstr(err, want), "no '%s' in %s", want, err);
	if (code != 2)
		cr_assert_eq(strchr(err, '\n'), err + strlen(err) - 1, "%s", err);
	free(err);
}

Test(journal, journal_errors_are_one_line_and_create_no_index)
{
	char *db = path_join(dir, "j.db"), *missing = path_join(dir, "no.journal");
	char *notj = copy_fixture(REAL_LOG, dir, "x.journal", 0);
	const char *a1[] = { "--db", db, "index", "--journal-file", missing, NULL };
	const char *a2[] = { "--db", db, "index", "--journal-file", notj, NULL };
	const char *a3[] = { "--db", db, "index", "--journal", notj, NULL };

	if (!pfi_journal_supported()) {
		assert_one_line_error(a1, 3, "without systemd journal support");
	} else {
		assert_one_line_error(a1, 3, "No such file or directory");
		assert_one_line_error(a2, 3, "not a journal file");
	}
	assert_one_line_error(a3, 2, "--journal reads no PATH");
	cr_assert_neq(access(db, F_OK), 0, "an index was made");
	free(notj);
	free(missing);
	free(db);
}
