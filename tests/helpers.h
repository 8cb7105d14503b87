/*
 * helpers.h - shared test helpers: fixture paths, temporary directories,
 * running the built pfi, and domain assertions on the index.
 */
#ifndef PFI_TEST_HELPERS_H
#define PFI_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pfi.h"

/* A suite's time limit in seconds, for TestSuite(.timeout): code built
 * with AddressSanitizer runs several times slower, and its tests run one
 * at a time (Makefile.am), so a busy machine must not turn that into a
 * failure. */
#if defined(__SANITIZE_ADDRESS__)
#define SUITE_TIMEOUT(s) ((s) * 4)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SUITE_TIMEOUT(s) ((s) * 4)
#endif
#endif
#ifndef SUITE_TIMEOUT
#define SUITE_TIMEOUT(s) (s)
#endif

/* TESTDATA_DIR "/" rel, in a static buffer (valid until the next call). */
const char *fixture(const char *rel);
/* A fresh temporary directory (removed by tmpdir_cleanup). */
const char *tmpdir_make(void);
void tmpdir_cleanup(void);
/* dir "/" name in a malloc'd string. */
char *path_join(const char *dir, const char *name);
/* Copies fixture `rel` into dir as `name`, with modification time `mtime`
 * (0 keeps now); returns the new path (malloc'd). */
char *copy_fixture(const char *rel, const char *dir, const char *name,
                   time_t mtime);
/* The lines of text sorted, each ending in "\n", in a malloc'd string;
 * text is cut up in place. */
char *sorted_lines(char *text);
/* The whole file in a malloc'd NUL-terminated buffer, or NULL. */
char *slurp(const char *path, size_t *len);
/* The lines of fixture `rel` (without their newlines): *lines points
 * into *text; free both.  Returns the number of lines. */
size_t fixture_lines(const char *rel, char **text, char ***lines);
/* Appends lines[from, to), each with a newline, to the log at path and
 * sets its modification time to mtime (classic stamps take their year
 * from it). */
void append_log_lines(const char *path, const char *const *lines,
                      size_t from, size_t to, time_t mtime);
/* Indexes lines [0, n) into the index at db through the log at path, one
 * run per piece: runs end after line cuts[0], cuts[1] ... (ascending) and
 * at the end; each run appends its piece to the log (with mtime). */
void index_in_runs(const char *path, const char *db, const char *const *lines,
                   size_t n, const size_t *cuts, size_t ncuts, time_t mtime);

/*
 * testdata/requeue/mail.log: real lines of the corpus case H55.  A
 * deferred message, E9F981161AD, is requeued with postsuper -r (no
 * "removed" follows) and picked up again as 57D7B1162C3 (orig_id=), which
 * expires; D4BB211618A is delivered meanwhile.
 */
#define REQUEUE_LOG "requeue/mail.log"
#define REQUEUE_LOG_LINES 38
#define REQUEUED_LINE 16     /* "E9F981161AD: requeued" */
#define PICKUP_LINE 17       /* "57D7B1162C3: ... orig_id=E9F981161AD" */
/* 2026-11-23 00:00:00 UTC: after the last line of the requeue log. */
#define REQUEUE_MTIME 1795392000
/* Lines [from, to) of the requeue log but line `skip` (SIZE_MAX: none),
 * indexed into a new index tmpdir/NAME.db through tmpdir/NAME.log, in
 * runs ending after `cuts` (indexes into the lines kept).  Returns the
 * index's path (malloc'd). */
char *requeue_index(const char *name, size_t from, size_t to, size_t skip,
                    const size_t *cuts, size_t ncuts);
/* The whole requeue log out of order: the lines from the pickup on in a
 * first run (tmpdir/NAME.log), the lines before it in a second run, from
 * another file (tmpdir/NAME-early.log).  Returns the index's path. */
char *requeue_index_late(const char *name);

/*
 * The figures of testdata/logs/sample.log by half hour from 09:00 UTC on
 * 2026-11-02 (received, notifications, recipients, delivered, deferred,
 * bounced, expired, rejected).  Nothing happens before 09:00 or after
 * 10:30.  test_stats.c checks them through the library against the
 * expected files; test_cli_stats.c checks what pfi stats --compare says
 * against them.
 */
extern const int64_t sample_h0900[8], sample_h0930[8], sample_h1000[8];

/* Runs the built pfi with argv (NULL-terminated, without "pfi"), stdin from
 * `in` (NULL: /dev/null); captures stdout and stderr (malloc'd). Returns
 * the exit status, or -1 when it did not exit normally. */
int run_pfi(const char *const *argv, const char *in, char **out, char **err);
/* `pfi --db DB index --quiet PATH` with the built pfi: its exit status;
 * its stderr goes to *err (malloc'd) unless err is NULL.  For the CLI
 * suite (test_cli*.c), which makes its indexes the way users do. */
int run_pfi_index(const char *db, const char *path, char **err);
/* Starts the built pfi with argv (as run_pfi) and returns at once; its
 * stdin and stdout are /dev/null, its stderr the test's, and it dies
 * with the test. */
pid_t start_pfi(const char *const *argv);
/* Sends sig to a pfi started with start_pfi and waits for it: its exit
 * status, or -1 when it did not exit normally. */
int stop_pfi(pid_t pid, int sig);

/* Indexes paths into a new store at dbpath; asserts success. */
pfi_store *index_into(const char *dbpath, const char *const *paths, size_t n,
                      struct pfi_index_report *rep);
/* One integer from an SQL query on the index file (sqlite3 directly). */
int64_t db_int(const char *dbpath, const char *sql);
/* Rows of an SQL query as "a|b|c\n" text, ordered as the query says. */
char *db_rows(const char *dbpath, const char *sql);
/* The lines an index keeps, while another process (pfi index --follow)
 * may be writing it; -1 when it is not there or cannot be read now. */
int64_t index_lines_now(const char *dbpath);

/* ---- a first index run killed midway (test_trust, test_cli_trust) ----- */

/* Whether db has a hot rollback journal: one SQLite synced before it
 * wrote pages into the file, so that a reader must roll it back. */
int journal_is_hot(const char *db);
/* Starts a first index run into db that reads its log from fd `in` (a
 * pipe); returns its pid.  The run should die with the test
 * (PR_SET_PDEATHSIG). */
typedef pid_t (*first_run_fn)(const char *db, int in);
/* Forks a child for a first_run_fn: in the child (0 returned) standard
 * input is fd `in`, output goes to /dev/null, and the child dies with
 * the test; the parent gets the child's pid. */
pid_t fork_first_run(int in);
/* A first_run_fn: the built `pfi --db DB index -`. */
pid_t pfi_first_run(const char *db, int in);
/* Starts a first run into db with start(), feeds it messages until its
 * pages spill into the file, calls probe(db, ctx) while it still runs,
 * and kills it with SIGKILL.  Then asserts (the children are dead by
 * then) that it spilled, died of the signal and left a hot journal. */
void kill_first_run(const char *db, first_run_fn start,
                    void (*probe)(const char *db, void *ctx), void *ctx);

/* ---- a terminal: one tmux pane at a time (test_repl, test_cli_term) ---- */

/*
 * Starts a pane cols wide and 40 high, on a tmux server of its own (a
 * socket in dir), running the shell text `script` with $PFI (the built
 * pfi), $DB (exported as PFI_DB) and $DIR set, NO_COLOR=1, TZ=UTC and no
 * pager variables; "EXIT=<status>" shows when the script ends.  Waits for
 * `ready` on the screen (fails the test if it never shows).
 */
void term_start(const char *dir, const char *db, int cols, const char *script,
                const char *ready);
/* What the pane shows now (malloc'd). */
char *term_screen(void);
/* 1 once `text` shows on the screen (within 15 s), else 0 (logged). */
int term_wait(const char *text);
/* tmux send-keys words: "'text' Tab Enter C-c ...". */
void term_keys(const char *keys);
/* Ends the pane's server, if any (safe to call twice). */
void term_stop(void);

#endif
