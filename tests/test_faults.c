/*
 * test_faults.c - faults beyond kill -9: a write, a sync, a truncation or
 * a deletion that fails, a disk that fills up, an allocation that fails,
 * at each point of an index run in turn.  Whatever fails, the index is
 * then the one before the run or the one a clean run makes, never
 * anything in between; a run that says it succeeded made the clean one, a
 * run that failed says why in one line; and a later run on the same
 * inputs completes the index.
 *
 * The storage faults come from a test SQLite VFS over "unix", registered
 * as the default so that the library opens its index through it: it
 * counts xWrite, xSync, xTruncate and xDelete over every file (index,
 * journal, WAL, temporary files) and fails the Nth of one kind, or every
 * write from the Nth on (a full disk).  The allocation faults come from
 * SQLITE_CONFIG_MALLOC in process, and for everything else (libpfi, zstd,
 * libc, the command itself) from tests/failmalloc.c, a shim preloaded
 * into the built pfi.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define SAMPLE_MTIME 1793664000   /* 2026-11-03, after the sample's last line */
#define SAMPLE_SPLIT 400          /* lines of the first run when appending */
#define MAX_POINTS 400            /* fault points tried per kind, at most */
#define MAX_ALLOC_POINTS 150      /* allocations tried per scenario */

static void teardown(void) { tmpdir_cleanup(); }

/* ---- counting operations and failing one ------------------------------- */

/* What fails: a file operation, or an allocation of SQLite's. */
enum op { OP_WRITE, OP_SYNC, OP_TRUNCATE, OP_DELETE, OP_ALLOC, OP__COUNT };

static const char *const op_names[OP__COUNT] = {
	"write", "sync", "truncate", "delete", "SQLite allocation"
};

/* Which operation fails, and how. */
struct plan {
	enum op op;
	unsigned long at;   /* the one that fails, counting from 1; 0: none */
	int err;            /* what it returns */
	int sticky;         /* every later one of its kind fails too */
};

/* Counts and plan; SQLite's sorter threads write temporary files too. */
static struct {
	pthread_mutex_t mu;
	struct plan plan;
	unsigned long count[OP__COUNT];
	unsigned long failed;
} faults = { PTHREAD_MUTEX_INITIALIZER, { OP_WRITE, 0, 0, 0 }, { 0 }, 0 };

/* Counts one operation; the error it must return, or SQLITE_OK. */
static int fault_count(enum op op)
{
	int err = SQLITE_OK;
	unsigned long n;

	pthread_mutex_lock(&faults.mu);
	n = ++faults.count[op];
	if (faults.plan.at && faults.plan.op == op &&
	    (n == faults.plan.at || (faults.plan.sticky && n > faults.plan.at))) {
		faults.failed++;
		err = faults.plan.err;
	}
	pthread_mutex_unlock(&faults.mu);
	return err;
}

/* Counts from zero and fails as `p` says (p->at 0: counts only). */
static void fault_arm(const struct plan *p)
{
	pthread_mutex_lock(&faults.mu);
	faults.plan = *p;
	memset(faults.count, 0, sizeof(faults.count));
	faults.failed = 0;
	pthread_mutex_unlock(&faults.mu);
}

/* Stops failing; returns how many operations failed. */
static unsigned long fault_disarm(void)
{
	unsigned long failed;

	pthread_mutex_lock(&faults.mu);
	faults.plan.at = 0;
	failed = faults.failed;
	pthread_mutex_unlock(&faults.mu);
	return failed;
}

/* ---- a VFS that fails the Nth write, sync, truncation or deletion --------- */

static sqlite3_vfs *unix_vfs;
static sqlite3_vfs fault_vfs;

/* An open file of the fault VFS: the unix VFS's file follows it. */
struct ffile {
	sqlite3_file base;
	sqlite3_file *real;
};

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
	return REAL(f)->pMethods->xClose(REAL(f));
}

static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	int err = fault_count(OP_WRITE);

	return err ? err : REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int err = fault_count(OP_TRUNCATE);

	return err ? err : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

/* Syncs are counted, not made: what is tested is what SQLite and pfi do
 * with the result, not the disk, and real ones made the suite slow. */
static int f_sync(sqlite3_file *f, int flags)
{
	(void)f;
	(void)flags;
	return fault_count(OP_SYNC);
}

static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int f_unlock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int f_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_control(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int f_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int f_shm_map(sqlite3_file *f, int pg, int size, int extend,
                     void volatile **pp)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, size, extend, pp);
}

static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int f_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	return REAL(f)->pMethods->xFetch(REAL(f), off, n, pp);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods fault_io = {
	3, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock,
	f_unlock, f_reserved, f_control, f_sector, f_device, f_shm_map,
	f_shm_lock, f_shm_barrier, f_shm_unmap, f_fetch, f_unfetch
};

static int f_open(sqlite3_vfs *v, const char *name, sqlite3_file *f,
                  int flags, int *out_flags)
{
	struct ffile *ff = (struct ffile *)f;
	int rc;

	(void)v;
	ff->real = (sqlite3_file *)(ff + 1);
	rc = unix_vfs->xOpen(unix_vfs, name, ff->real, flags, out_flags);
	/* The unix files are version 3 (xFetch); the wrapper says so too. */
	ff->base.pMethods = ff->real->pMethods &&
	                    ff->real->pMethods->iVersion >= 3 ? &fault_io : NULL;
	if (ff->real->pMethods && ff->base.pMethods == NULL) {
		ff->real->pMethods->xClose(ff->real);
		return SQLITE_CANTOPEN;
	}
	return rc;
}

/* Deleting a rollback journal commits a first run; no directory sync
 * (see f_sync). */
static int f_delete(sqlite3_vfs *v, const char *name, int dir_sync)
{
	int err = fault_count(OP_DELETE);

	(void)v;
	(void)dir_sync;
	return err ? err : unix_vfs->xDelete(unix_vfs, name, 0);
}

/* Makes the fault VFS the default one, which the library opens with
 * (again after sqlite3_initialize, which makes "unix" the default). */
static void vfs_install(void)
{
	unix_vfs = sqlite3_vfs_find("unix");
	cr_assert_not_null(unix_vfs);
	fault_vfs = *unix_vfs;
	fault_vfs.pNext = NULL;
	fault_vfs.zName = "pfi-fault";
	fault_vfs.szOsFile = (int)sizeof(struct ffile) + unix_vfs->szOsFile;
	fault_vfs.xOpen = f_open;
	fault_vfs.xDelete = f_delete;
	cr_assert_eq(sqlite3_vfs_register(&fault_vfs, 1), SQLITE_OK);
}

/* ---- SQLite's allocations ------------------------------------------------ */

/* SQLite's own allocator, which the failing one wraps. */
static sqlite3_mem_methods sqlite_mem;

static void *m_malloc(int n)
{
	return fault_count(OP_ALLOC) ? NULL : sqlite_mem.xMalloc(n);
}

static void *m_realloc(void *p, int n)
{
	return fault_count(OP_ALLOC) ? NULL : sqlite_mem.xRealloc(p, n);
}

/* Routes SQLite's allocations through fault_count.  SQLite takes an
 * allocator only before it is initialised: this test's process has
 * initialised it already (vfs_install), so it is shut down first. */
static void mem_install(void)
{
	sqlite3_mem_methods m;

	cr_assert_eq(sqlite3_shutdown(), SQLITE_OK);
	cr_assert_eq(sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_mem),
	             SQLITE_OK);
	m = sqlite_mem;
	m.xMalloc = m_malloc;
	m.xRealloc = m_realloc;
	cr_assert_eq(sqlite3_config(SQLITE_CONFIG_MALLOC, &m), SQLITE_OK);
	cr_assert_eq(sqlite3_initialize(), SQLITE_OK);
	vfs_install();
}

/* ---- what an index holds ------------------------------------------------ */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* A hash of the current row of s, every column with its type. */
static uint64_t row_hash(sqlite3_stmt *s)
{
	uint64_t h = 14695981039346656037ULL;
	int i;

	for (i = 0; i < sqlite3_column_count(s); i++) {
		int type = sqlite3_column_type(s, i);
		sqlite3_int64 v;
		double d;
		h = fnv(h, &type, sizeof(type));
		if (type == SQLITE_INTEGER) {
			v = sqlite3_column_int64(s, i);
			h = fnv(h, &v, sizeof(v));
		} else if (type == SQLITE_FLOAT) {
			d = sqlite3_column_double(s, i);
			h = fnv(h, &d, sizeof(d));
		} else if (type != SQLITE_NULL) {
			const void *p = sqlite3_column_blob(s, i);
			v = sqlite3_column_bytes(s, i);
			h = fnv(fnv(h, &v, sizeof(v)), p, (size_t)v);
		}
	}
	return h;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* "label rows hash" of what sql selects, in any row order. */
static void digest_query(sqlite3 *db, const char *label, const char *sql,
                         FILE *out)
{
	uint64_t *rows = NULL, h = 14695981039346656037ULL;
	size_t n = 0, i;
	sqlite3_stmt *s;
	int rc;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK,
	             "%s: %s", sql, sqlite3_errmsg(db));
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		rows = realloc(rows, (n + 1) * sizeof(*rows));
		cr_assert_not_null(rows);
		rows[n++] = row_hash(s);
	}
	cr_assert_eq(rc, SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	if (n > 1)
		qsort(rows, n, sizeof(*rows), cmp_u64);
	for (i = 0; i < n; i++)
		h = fnv(h, &rows[i], sizeof(rows[i]));
	fprintf(out, "%s %zu %016llx\n", label, n, (unsigned long long)h);
	free(rows);
}

/* The digest of the index at path: its integrity, schema and every
 * table's rows, as text, one line a table (malloc'd). */
static char *digest(const char *path)
{
	char *text = NULL, sql[128];
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	sqlite3 *db;
	sqlite3_stmt *s;

	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, "unix"),
	             SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s,
	                                NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(s), SQLITE_ROW);
	fprintf(out, "integrity %s\n", sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	digest_query(db, "pragmas", "SELECT * FROM pragma_application_id,"
	             " pragma_user_version", out);
	digest_query(db, "schema", "SELECT type, name, tbl_name, sql"
	             " FROM sqlite_schema", out);
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT name FROM sqlite_schema"
	             " WHERE type = 'table' ORDER BY name", -1, &s, NULL),
	             SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(s, 0);
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", t);
		/* a run's record but for its clock times */
		if (strcmp(t, "index_runs") == 0)
			snprintf(sql, sizeof(sql), "SELECT id, lines, duplicates,"
			         " files, messages, stopped FROM index_runs");
		digest_query(db, t, sql, out);
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	fclose(out);
	return text;
}

/* The index at path as the next pfi run sees it: opened for writing
 * (which rolls back a hot journal and recovers a WAL), then digested. */
static char *reopened_digest(const char *path)
{
	pfi_store *st;
	int rc = pfi_store_open(&st, path, PFI_OPEN_WRITE);

	cr_assert_eq(rc, PFI_OK, "the index does not open after the fault: %s",
	             pfi_errmsg(st));
	pfi_store_close(st);
	return digest(path);
}

/* ---- one run, broken at each point in turn ------------------------------ */

/* A run to break, from the same state of the index (none, or a first
 * run's) over the same log each time. */
struct scenario {
	char *log;            /* the log the run reads */
	char *db;             /* the index it writes */
	char *base;           /* the index's bytes before the run; NULL: none */
	size_t nbase;
	char *prev, *clean;   /* digests: before the run, after a clean one */
	unsigned long count[OP__COUNT];  /* operations of a clean run */
};

static const char *tmp;   /* this test's directory */

static void remove_index(const char *db)
{
	static const char *const sides[] = { "", "-journal", "-wal", "-shm" };
	char p[4096];
	size_t i;

	for (i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", db, sides[i]);
		cr_assert(unlink(p) == 0 || errno == ENOENT, "%s: %s", p,
		          strerror(errno));
	}
}

/* The index back as it was before the run. */
static void restore(const struct scenario *sc)
{
	int fd;

	remove_index(sc->db);
	if (sc->base == NULL)
		return;
	fd = open(sc->db, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	cr_assert(fd >= 0, "%s: %s", sc->db, strerror(errno));
	cr_assert_eq(write(fd, sc->base, sc->nbase), (ssize_t)sc->nbase);
	close(fd);
}

/* `pfi index LOG` in process: open, index, close.  Returns its status;
 * *msg gets its message (malloc'd) unless msg is NULL. */
static int run_index(const struct scenario *sc, char **msg)
{
	const char *paths[] = { sc->log };
	pfi_store *st;
	int rc = pfi_store_open(&st, sc->db, PFI_OPEN_WRITE);

	if (rc == PFI_OK)
		rc = pfi_index_paths(st, paths, 1, NULL, NULL);
	if (msg != NULL)
		*msg = strdup(pfi_errmsg(st));
	pfi_store_close(st);
	return rc;
}

/* (a) A first run into a new index; before it, an empty index. */
static void scenario_new(struct scenario *sc)
{
	char *empty = path_join(tmp, "empty.db");
	pfi_store *st;

	memset(sc, 0, sizeof(*sc));
	sc->log = copy_fixture("logs/sample.log", tmp, "mail.log", SAMPLE_MTIME);
	sc->db = path_join(tmp, "index.db");
	cr_assert_eq(pfi_store_open(&st, empty, PFI_OPEN_WRITE), PFI_OK);
	pfi_store_close(st);
	sc->prev = digest(empty);
	free(empty);
}

/* (b) A second run, reading what the log gained since a first one. */
static void scenario_append(struct scenario *sc)
{
	char *text, **lines, *wal;
	size_t n = fixture_lines("logs/sample.log", &text, &lines);
	const char *const *l = (const char *const *)lines;

	memset(sc, 0, sizeof(*sc));
	sc->log = path_join(tmp, "mail.log");
	sc->db = path_join(tmp, "index.db");
	append_log_lines(sc->log, l, 0, SAMPLE_SPLIT, SAMPLE_MTIME);
	cr_assert_eq(run_index(sc, NULL), PFI_OK);
	wal = path_join(tmp, "index.db-wal");
	cr_assert_neq(access(wal, F_OK), 0, "closing left the WAL");
	free(wal);
	sc->base = slurp(sc->db, &sc->nbase);
	sc->prev = digest(sc->db);
	append_log_lines(sc->log, l, SAMPLE_SPLIT, n, SAMPLE_MTIME);
	free(lines);
	free(text);
}

/* The clean run: what it makes, and how many operations it takes. */
static void scenario_clean(struct scenario *sc)
{
	struct plan count_only = { OP_WRITE, 0, 0, 0 };

	restore(sc);
	fault_arm(&count_only);
	cr_assert_eq(run_index(sc, NULL), PFI_OK);
	fault_disarm();
	memcpy(sc->count, faults.count, sizeof(sc->count));
	sc->clean = digest(sc->db);
	cr_assert_str_neq(sc->clean, sc->prev);
}

static void scenario_free(struct scenario *sc)
{
	free(sc->log);
	free(sc->db);
	free(sc->base);
	free(sc->prev);
	free(sc->clean);
}

/* What a failed run says is one line, and blames neither the index
 * (it is a pfi index, and pfi's) nor nothing at all. */
static void check_message(const char *what, const char *msg)
{
	static const char *const wrong[] = {
		"not a pfi index", "has index schema", "refusing", "did not create",
		"damaged", "success",
	};
	size_t i;

	cr_assert(msg[0] != '\0' && strchr(msg, '\n') == NULL,
	          "%s: the message is not one line: '%s'", what, msg);
	for (i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++)
		cr_assert_null(strstr(msg, wrong[i]), "%s: a misleading message:"
		               " '%s'", what, msg);
}

/* After the run broken as `what` says: the index is the previous one
 * or the clean one, the clean one if the run said it succeeded (ok). */
static void check_after(const struct scenario *sc, const char *what, int ok,
                        const char *msg)
{
	char *d = reopened_digest(sc->db);

	cr_assert(strcmp(d, sc->prev) == 0 || strcmp(d, sc->clean) == 0,
	          "%s (run: %s): the index is neither the one before nor the"
	          " clean one\n-- before\n%s-- clean\n%s-- now\n%s", what,
	          ok ? "succeeded" : msg, sc->prev, sc->clean, d);
	if (ok)
		cr_assert_str_eq(d, sc->clean, "%s, the run said it succeeded, and"
		                 " the index is the one before", what);
	free(d);
}

/* A normal run after the broken one completes the index. */
static void check_resumes(const struct scenario *sc, const char *what)
{
	char *msg, *d;
	int rc = run_index(sc, &msg);

	cr_assert_eq(rc, PFI_OK, "%s, the next run fails: %s", what, msg);
	d = digest(sc->db);
	cr_assert_str_eq(d, sc->clean, "%s, the next run does not make the"
	                 " clean index\n-- clean\n%s-- now\n%s", what,
	                 sc->clean, d);
	free(d);
	free(msg);
}

/* Runs from the state before with the fault of p; returns whether the
 * fault happened (the run may take other paths than the clean one). */
static int break_run(const struct scenario *sc, const struct plan *p)
{
	char *msg, what[64];
	int rc;

	restore(sc);
	fault_arm(p);
	rc = run_index(sc, &msg);
	if (fault_disarm() == 0) {
		free(msg);
		return 0;
	}
	snprintf(what, sizeof(what), "after %s %lu failed", op_names[p->op],
	         p->at);
	if (rc != PFI_OK)
		check_message(what, msg);
	check_after(sc, what, rc == PFI_OK, msg);
	free(msg);
	check_resumes(sc, what);
	return 1;
}

/* Breaks the run at every operation of kind op that a clean run makes
 * (every step-th of them past MAX_POINTS). */
static void exercise(struct scenario *sc, enum op op, int err, int sticky,
                     unsigned long max_points)
{
	struct plan p = { op, 0, err, sticky };
	unsigned long total, step, tried = 0;

	scenario_clean(sc);
	total = sc->count[op];
	step = (total + max_points - 1) / max_points;
	for (p.at = 1; p.at <= total; p.at += step)
		tried += break_run(sc, &p);
	fprintf(stderr, "faults: %s%s: %lu of %lu points broke the run\n",
	        op_names[op], sticky ? " (sticky)" : "", tried, total);
	cr_assert_gt(tried, 0, "no %s failed", op_names[op]);
	scenario_free(sc);
}

/* ---- every allocation of the pfi command --------------------------------- */

/*
 * The allocations of libpfi are failed by a preloaded shim around the
 * built pfi (tests/failmalloc.c) rather than by linking this test with
 * --wrap=malloc: --wrap sees only the calls of the objects linked into
 * one binary, not those of SQLite, zstd or libc itself (strdup, realpath,
 * stdio), nor the command's own x-allocators; the shim fails them all, in
 * the program users run, whose exit status and stderr are what is
 * checked.  The process is forked, so a crash cannot take the test down.
 */
#define MAX_SHIM_POINTS 40        /* points per scenario and mode */

/* Sets (value) or removes (NULL) an environment variable of the test. */
static void env(const char *name, const char *value)
{
	if (value != NULL)
		cr_assert_eq(setenv(name, value, 1), 0);
	else
		unsetenv(name);
}

/* `pfi --db DB index --quiet LOG` with the shim failing after `after`
 * allocations (every later one too, or only that one when once); NULL
 * fails none.  Returns the exit status (-1: killed); *err is stderr. */
static int run_shim(const struct scenario *sc, const char *after, int once,
                    char **err)
{
	const char *argv[] = { "--db", sc->db, "index", "--quiet", sc->log, NULL };
	char *count = path_join(tmp, "allocations"), *asan = NULL, opts[512];
	const char *old = getenv("ASAN_OPTIONS");
	int rc;

	if (old != NULL)
		asan = strdup(old);
	/* A sanitized pfi wants its runtime first, ahead of the shim. */
	snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0",
	         old ? old : "", old ? ":" : "");
	env("ASAN_OPTIONS", opts);
	env("LD_PRELOAD", FAILMALLOC_SO);
	env("PFI_FAIL_MALLOC_AFTER", after);
	env("PFI_FAIL_MALLOC_ONCE", once ? "1" : NULL);
	env("PFI_FAIL_MALLOC_COUNT", count);
	rc = run_pfi(argv, NULL, NULL, err);
	env("LD_PRELOAD", NULL);
	env("PFI_FAIL_MALLOC_AFTER", NULL);
	env("PFI_FAIL_MALLOC_ONCE", NULL);
	env("PFI_FAIL_MALLOC_COUNT", NULL);
	env("ASAN_OPTIONS", asan);
	free(asan);
	free(count);
	return rc;
}

/* How many allocations a clean run of the command makes. */
static unsigned long shim_clean(struct scenario *sc)
{
	char *err, *text, *count = path_join(tmp, "allocations");
	unsigned long n;

	restore(sc);
	cr_assert_eq(run_shim(sc, NULL, 0, &err), 0, "%s", err);
	cr_assert_str_empty(err);
	text = slurp(count, NULL);
	cr_assert_not_null(text);
	n = strtoul(text, NULL, 10);
	sc->clean = digest(sc->db);
	cr_assert_str_neq(sc->clean, sc->prev);
	free(text);
	free(err);
	free(count);
	return n;
}

/* The command with allocation n failing: it exits 0 having made the
 * clean index, or 3 saying why in one line, never by a signal. */
static void shim_point(const struct scenario *sc, unsigned long n, int once)
{
	char after[32], what[80], *err;
	int rc;

	snprintf(after, sizeof(after), "%lu", n);
	snprintf(what, sizeof(what), "after allocation %lu failed%s", n + 1,
	         once ? " (only it)" : "");
	restore(sc);
	rc = run_shim(sc, after, once, &err);
	cr_assert(rc == 0 || rc == 3, "%s, pfi %s %d: %s", what,
	          rc < 0 ? "was killed" : "exited", rc, err);
	if (rc == 0)
		cr_assert_str_empty(err, "%s: %s", what, err);
	else
		cr_assert(strncmp(err, "pfi: ", 5) == 0 && strlen(err) > 6 &&
		          strchr(err, '\n') == err + strlen(err) - 1,
		          "%s, pfi said more or less than one line: '%s'", what, err);
	if (rc != 0) {
		err[strlen(err) - 1] = '\0';
		check_message(what, err);
	}
	check_after(sc, what, rc == 0, err);
	check_resumes(sc, what);
	free(err);
}

/* Fails the command's allocations at MAX_SHIM_POINTS points across a
 * clean run, all from there on and then only the one. */
static void exercise_shim(struct scenario *sc)
{
	unsigned long total = shim_clean(sc), step, n;
	int once;

	step = total / MAX_SHIM_POINTS + 1;
	for (once = 0; once < 2; once++)
		for (n = once * step / 2; n < total; n += step)
			shim_point(sc, n, once);
	fprintf(stderr, "faults: pfi allocation: %lu of %lu points, twice\n",
	        (total + step - 1) / step, total);
	scenario_free(sc);
}

static void vfs_setup(void)
{
	tmp = tmpdir_make();
	vfs_install();
}

TestSuite(faults, .init = vfs_setup, .fini = teardown, .timeout = SUITE_TIMEOUT(300));

Test(faults, a_first_run_failing_at_any_write_leaves_the_index_empty_or_complete)
{
	struct scenario sc;

	scenario_new(&sc);
	exercise(&sc, OP_WRITE, SQLITE_IOERR_WRITE, 0, MAX_POINTS);
}

Test(faults, a_first_run_failing_at_any_sync_leaves_the_index_empty_or_complete)
{
	struct scenario sc;

	scenario_new(&sc);
	exercise(&sc, OP_SYNC, SQLITE_IOERR_FSYNC, 0, MAX_POINTS);
}

Test(faults, a_first_run_failing_at_any_truncation_leaves_the_index_empty_or_complete)
{
	struct scenario sc;

	scenario_new(&sc);
	exercise(&sc, OP_TRUNCATE, SQLITE_IOERR_TRUNCATE, 0, MAX_POINTS);
}

Test(faults, a_first_run_failing_at_any_file_deletion_leaves_the_index_empty_or_complete)
{
	struct scenario sc;

	scenario_new(&sc);
	exercise(&sc, OP_DELETE, SQLITE_IOERR_DELETE, 0, MAX_POINTS);
}

Test(faults, a_first_run_on_a_disk_that_fills_up_leaves_the_index_empty_or_complete)
{
	struct scenario sc;

	scenario_new(&sc);
	exercise(&sc, OP_WRITE, SQLITE_FULL, 1, MAX_POINTS);
}

Test(faults, an_appending_run_failing_at_any_write_leaves_the_first_run_or_both)
{
	struct scenario sc;

	scenario_append(&sc);
	exercise(&sc, OP_WRITE, SQLITE_IOERR_WRITE, 0, MAX_POINTS);
}

Test(faults, an_appending_run_failing_at_any_sync_leaves_the_first_run_or_both)
{
	struct scenario sc;

	scenario_append(&sc);
	exercise(&sc, OP_SYNC, SQLITE_IOERR_FSYNC, 0, MAX_POINTS);
}

Test(faults, an_appending_run_failing_at_any_truncation_leaves_the_first_run_or_both)
{
	struct scenario sc;

	scenario_append(&sc);
	exercise(&sc, OP_TRUNCATE, SQLITE_IOERR_TRUNCATE, 0, MAX_POINTS);
}

Test(faults, an_appending_run_failing_at_any_file_deletion_leaves_the_first_run_or_both)
{
	struct scenario sc;

	scenario_append(&sc);
	exercise(&sc, OP_DELETE, SQLITE_IOERR_DELETE, 0, MAX_POINTS);
}

Test(faults, an_appending_run_on_a_disk_that_fills_up_leaves_the_first_run_or_both)
{
	struct scenario sc;

	scenario_append(&sc);
	exercise(&sc, OP_WRITE, SQLITE_FULL, 1, MAX_POINTS);
}

Test(faults, a_first_run_failing_at_an_allocation_of_sqlite_leaves_the_index_empty_or_complete)
{
	struct scenario sc;

	mem_install();
	scenario_new(&sc);
	exercise(&sc, OP_ALLOC, SQLITE_NOMEM, 0, MAX_ALLOC_POINTS);
}

Test(faults, an_appending_run_failing_at_an_allocation_of_sqlite_leaves_the_first_run_or_both)
{
	struct scenario sc;

	mem_install();
	scenario_append(&sc);
	exercise(&sc, OP_ALLOC, SQLITE_NOMEM, 0, MAX_ALLOC_POINTS);
}

/* The shim does run in front of AddressSanitizer's allocator, but the
 * sanitizer's runtime allocates through malloc too (pthread_getattr_np,
 * when the compressor thread starts) and aborts with a CHECK failure,
 * exit 1, when that fails: which points fail so depends on the counts.
 * The plain build runs these two, the sanitizer build skips them (saying
 * so). */
static void skip_shim_under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("ASan's own runtime aborts when the malloc shim fails it");
#endif
}

Test(faults, pfi_failing_at_any_allocation_into_a_new_index_exits_3_leaving_it_empty_or_complete)
{
	struct scenario sc;

	skip_shim_under_asan();
	scenario_new(&sc);
	exercise_shim(&sc);
}

Test(faults, pfi_failing_at_any_allocation_while_appending_exits_3_leaving_the_first_run_or_both)
{
	struct scenario sc;

	skip_shim_under_asan();
	scenario_append(&sc);
	exercise_shim(&sc);
}
