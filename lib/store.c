/*
 * store.c - opening, checking and writing the SQLite index.
 *
 * The index is created mode 0600 (mail logs hold personal data) in WAL
 * mode so that queries run while `pfi index` writes.  Statements are
 * prepared once per handle and finalised on close; user input is always
 * bound, never formatted into SQL.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stats-int.h"

static const char *const stmt_sql[ST__COUNT] = {
	[ST_INSERT_CHUNK] =
		"INSERT INTO chunks(first, count, data, last)"
		" VALUES (?1, ?2, ?3, ?4)",
	[ST_FIND_CHUNK] =
		"SELECT first, count, data FROM chunks WHERE first <= ?1"
		" ORDER BY first DESC LIMIT 1",
	[ST_MESSAGE_LINES] =
		"SELECT lines FROM message_lines WHERE message = ?1",
	[ST_LATE_LINES] =
		"SELECT line FROM late_lines WHERE message = ?1",
	[ST_INSERT_LATE_LINE] =
		"INSERT INTO late_lines(message, line) VALUES (?1, ?2)",
	[ST_INSERT_UNPARSED] =
		"INSERT INTO unparsed(line, program) VALUES (?1, ?2)",
	[ST_INSERT_MESSAGE] =
		/* An upsert, not a replace: a rewrite keeps parent/relation. */
		"INSERT INTO messages(id, host, queue_id, open, flags,"
		" first, last, received, removed, message_id, sender, size, nrcpt,"
		" client, client_ip, sasl_method, sasl_username, subject,"
		" tls_protocol, tls_cipher, origin, orig_queue_id, parent, relation)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)"
		" ON CONFLICT(id) DO UPDATE SET open = ?4, flags = ?5, first = ?6,"
		" last = ?7, received = ?8, removed = ?9, message_id = ?10,"
		" sender = ?11, size = ?12, nrcpt = ?13, client = ?14,"
		" client_ip = ?15, sasl_method = ?16, sasl_username = ?17,"
		" subject = ?18, tls_protocol = ?19, tls_cipher = ?20, origin = ?21,"
		" orig_queue_id = ?22,"
		/* the first parent found stays (see pfi_store_resolve_links) */
		" relation = CASE WHEN parent IS NULL THEN ?24 ELSE relation END,"
		" parent = coalesce(parent, ?23)",
	[ST_PUT_MESSAGE_LINES] =
		"INSERT OR REPLACE INTO message_lines(message, first_line, lines)"
		" VALUES (?1, ?3, ?2)",
	[ST_DELETE_DELIVERIES] =
		"DELETE FROM deliveries WHERE message = ?1",
	[ST_INSERT_DELIVERY] =
		"INSERT INTO deliveries(message, host, queue_id, time, recipient,"
		" orig_to, domain, status, dsn, relay, delay, d_before, d_in,"
		" d_conn, d_xmit, attempts, response, child_qid, stage, code,"
		" client, client_ip, helo, sender, line, final, tls_protocol)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26,"
		" ?27)",
	[ST_INSERT_PROBLEM] =
		"INSERT INTO problems(time, host, program, level, kind, line)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_INSERT_SASL_FAILURE] =
		"INSERT INTO sasl_failures(time, host, client, client_ip, method,"
		" username) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[ST_DELETE_LINKS] =
		"DELETE FROM links WHERE parent = ?1",
	[ST_INSERT_LINK] =
		"INSERT INTO links(parent, qid, hint, kind, time, delivery, other,"
		" relation) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_COUNT_LINES] =
		"INSERT INTO line_counts(kind, program, count) VALUES (?1, ?2, ?3)"
		" ON CONFLICT(kind, program) DO UPDATE SET count = count + ?3",
	[ST_INSERT_SESSION] =
		"INSERT INTO sessions(host, program, pid, seen, client, client_ip,"
		" tls_protocol, tls_cipher, tls_relay, last_qid, last_id, pending,"
		" lines) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		" ?13)",
};

/* ---- errors and small wrappers ------------------------------------------------ */

int pfi_store_dberr(pfi_store *st, int code, const char *what)
{
	return pfi_err_set(&st->err, code, "%s: %s", what,
	                   st->db ? sqlite3_errmsg(st->db) : "no database");
}

const char *pfi_errmsg(const pfi_store *st)
{
	if (st == NULL)
		return "out of memory";
	return st->err.msg[0] ? st->err.msg : pfi_strerror(st->err.code);
}

int pfi_store_exec(pfi_store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return PFI_OK;
	pfi_err_set(&st->err, PFI_ERROR, "database error: %s",
	            msg ? msg : sqlite3_errmsg(st->db));
	sqlite3_free(msg);
	return PFI_ERROR;
}

sqlite3_stmt *pfi_store_stmt(pfi_store *st, enum pfi_stmt which)
{
	sqlite3_stmt *s = st->stmt[which];

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[which], -1,
		                       SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			pfi_store_dberr(st, PFI_ERROR, "cannot prepare statement");
			return NULL;
		}
		st->stmt[which] = s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int pfi_store_step_done(pfi_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return PFI_OK;
	return pfi_store_dberr(st, rc == SQLITE_BUSY ? PFI_EBUSY : PFI_ERROR, what);
}

int pfi_store_run(pfi_store *st, const char *sql, int64_t arg,
                  const char *what)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, what);
	if (sqlite3_bind_parameter_count(s) > 0)
		sqlite3_bind_int64(s, 1, arg);
	rc = pfi_store_step_done(st, s, what);
	sqlite3_finalize(s);
	return rc;
}

int64_t pfi_store_max_id(pfi_store *st, const char *table)
{
	char sql[96];
	sqlite3_stmt *s;
	int64_t v = -1;

	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM %s", table);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot read index");
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v < 0 ? pfi_store_dberr(st, PFI_ERROR, "cannot read index") : v;
}

int pfi_bind_str(sqlite3_stmt *s, int i, const char *v)
{
	return v ? sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC)
	         : sqlite3_bind_null(s, i);
}

int pfi_bind_slice(sqlite3_stmt *s, int i, struct pfi_slice v)
{
	char *copy;

	if (v.p == NULL)
		return sqlite3_bind_null(s, i);
	if (memchr(v.p, '\0', v.n) == NULL)
		return sqlite3_bind_text(s, i, v.p, (int)v.n, SQLITE_STATIC);
	/* Text read back as a C string would end at the NUL. */
	if ((copy = pfi_slice_dup(v)) == NULL)
		return SQLITE_NOMEM;
	return sqlite3_bind_text(s, i, copy, (int)v.n, free);
}

int pfi_bind_num(sqlite3_stmt *s, int i, double v)
{
	return v >= 0 ? sqlite3_bind_double(s, i, v) : sqlite3_bind_null(s, i);
}

int pfi_bind_int(sqlite3_stmt *s, int i, int64_t v)
{
	return v >= 0 ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i);
}

int pfi_bind_time(sqlite3_stmt *s, int i, int64_t v)
{
	return v ? sqlite3_bind_int64(s, i, v) : sqlite3_bind_null(s, i);
}

/* ---- trusting the file ------------------------------------------------------------ */

/* Creates the parent directories of `path` (mode 0700) as needed. */
static int make_parents(pfi_store *st, const char *path)
{
	char *dir = strdup(path), *p;

	if (dir == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			int e = errno;
			pfi_err_set(&st->err, PFI_EIO, "cannot create '%s': %s", dir,
			            strerror(e));
			free(dir);
			return PFI_EIO;
		}
		*p = '/';
	}
	free(dir);
	return PFI_OK;
}

/*
 * The trust rule (SECURITY CONSIDERATIONS in man/pfi.1).  pfi uses an
 * index only when nobody but the running user or root can have written
 * it: the file and its side files (-journal, -wal, -shm) belong to the
 * user or to root and are writable by neither group nor others; the
 * directory holding them belongs to the user or to root too, and may be
 * writable by others only with the sticky bit (as /tmp is).  A file
 * another user could change could make pfi read crafted SQL, roll a
 * planted journal into the index, or write through a planted link.
 *
 * The checks use fstat on descriptors pfi opened without following a
 * link (O_NOFOLLOW; a new index is made with O_EXCL).  SQLite then opens
 * the same name with SQLITE_OPEN_NOFOLLOW, which also refuses links for
 * the side files it makes, and pfi checks by device and inode that it
 * opened the file checked.  The directory is resolved first (realpath),
 * since SQLite would refuse a link anywhere in the name: a directory
 * reached through a link is fine, the file itself may not be one.
 */

static const char *const side_suffixes[] = { "-journal", "-wal", "-shm" };

/* Why another user could have changed what sb describes, or NULL. */
static const char *untrusted(const struct stat *sb, int dir, char *buf,
                             size_t size)
{
	if (sb->st_uid != geteuid() && sb->st_uid != 0) {
		snprintf(buf, size, "owned by uid %lu, not by you",
		         (unsigned long)sb->st_uid);
		return buf;
	}
	if (dir)
		return (sb->st_mode & S_IWOTH) && !(sb->st_mode & S_ISVTX)
		       ? "writable by others" : NULL;
	if (sb->st_mode & S_IWOTH)
		return "writable by others";
	if (sb->st_mode & S_IWGRP)
		return "writable by its group";
	return NULL;
}

/* Sets st->file to the directory of st->path, resolved, joined to its
 * last name; *dir is that directory (malloc'd), *name the last name in
 * st->file. */
static int resolve(pfi_store *st, char **dir, const char **name)
{
	const char *slash = strrchr(st->path, '/');
	char *given, *real;
	size_t n;

	*name = slash ? slash + 1 : st->path;
	if (**name == '\0' || strcmp(*name, ".") == 0 || strcmp(*name, "..") == 0)
		return pfi_err_set(&st->err, PFI_EINVAL, "'%s' is not a file name",
		                   st->path);
	given = slash == NULL ? strdup(".") : slash == st->path ? strdup("/")
	        : strndup(st->path, (size_t)(slash - st->path));
	if (given == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	real = realpath(given, NULL);
	free(given);
	if (real == NULL && errno == ENOENT && !st->writable)
		return pfi_err_set(&st->err, PFI_ENOTFOUND, "no index at '%s'",
		                   st->path);
	if (real == NULL)
		return pfi_err_set(&st->err, PFI_EIO, "cannot open '%s': %s",
		                   st->path, strerror(errno));
	n = strlen(real) + strlen(*name) + 2;
	if ((st->file = malloc(n)) == NULL) {
		free(real);
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	}
	snprintf(st->file, n, "%s/%s", strcmp(real, "/") ? real : "", *name);
	*dir = real;
	*name = st->file + strlen(st->file) - strlen(*name);
	return PFI_OK;
}

/* Opens and checks the directory of the index. */
static int open_dir(pfi_store *st, const char *dir, int *dfd)
{
	struct stat sb;
	const char *why;
	char buf[64];

	*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dfd < 0 || fstat(*dfd, &sb) != 0)
		return pfi_err_set(&st->err, PFI_EIO, "cannot open '%s': %s", dir,
		                   strerror(errno));
	if ((why = untrusted(&sb, 1, buf, sizeof(buf))) != NULL)
		return pfi_err_set(&st->err, PFI_EIO, "refusing index '%s': its"
		                   " directory '%s' is %s", st->path, dir, why);
	return PFI_OK;
}

/* Opens the file itself, never through a link; a writer makes it, mode
 * 0600, when it does not exist (SQLite gives its side files that mode). */
static int open_file(pfi_store *st, int dfd, const char *name, int *fd)
{
	int flags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, tries;

	flags |= st->writable ? O_RDWR : O_RDONLY;
	for (tries = 0; tries < 3; tries++) {
		if ((*fd = openat(dfd, name, flags)) >= 0 || errno != ENOENT ||
		    !st->writable)
			break;
		if ((*fd = openat(dfd, name, flags | O_CREAT | O_EXCL, 0600)) >= 0 ||
		    errno != EEXIST)
			break;
	}
	if (*fd >= 0)
		return PFI_OK;
	if (errno == ENOENT && !st->writable)
		return pfi_err_set(&st->err, PFI_ENOTFOUND, "no index at '%s'",
		                   st->path);
	if (errno == ELOOP)
		return pfi_err_set(&st->err, PFI_EIO, "refusing index '%s': it is a"
		                   " symbolic link", st->path);
	return pfi_err_set(&st->err, PFI_EIO, "cannot open '%s': %s", st->path,
	                   strerror(errno));
}

/* Checks the file open on fd and records which file it is. */
static int check_file(pfi_store *st, int fd)
{
	struct stat sb;
	const char *why;
	char buf[64];

	if (fstat(fd, &sb) != 0)
		return pfi_err_set(&st->err, PFI_EIO, "cannot open '%s': %s",
		                   st->path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return pfi_err_set(&st->err, PFI_EIO, "refusing index '%s': not a"
		                   " regular file", st->path);
	if ((why = untrusted(&sb, 0, buf, sizeof(buf))) != NULL)
		return pfi_err_set(&st->err, PFI_EIO, "refusing index '%s': %s",
		                   st->path, why);
	st->dev = sb.st_dev;
	st->ino = sb.st_ino;
	return PFI_OK;
}

/* Checks the side files SQLite will open, those that exist. */
static int check_side_files(pfi_store *st, int dfd, const char *name)
{
	char side[4096], buf[64];
	const char *why;
	struct stat sb;
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(side_suffixes); i++) {
		snprintf(side, sizeof(side), "%s%s", name, side_suffixes[i]);
		if (fstatat(dfd, side, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno == ENOENT)
				continue;
			return pfi_err_set(&st->err, PFI_EIO, "cannot open '%s%s': %s",
			                   st->path, side_suffixes[i], strerror(errno));
		}
		why = S_ISLNK(sb.st_mode) ? "a symbolic link"
		      : !S_ISREG(sb.st_mode) ? "not a regular file"
		      : untrusted(&sb, 0, buf, sizeof(buf));
		if (why != NULL)
			return pfi_err_set(&st->err, PFI_EIO, "refusing index '%s':"
			                   " '%s%s' is %s", st->path, st->path,
			                   side_suffixes[i], why);
	}
	return PFI_OK;
}

/* Whether db has open the file the checks passed, at st->file still. */
static int same_file(pfi_store *st, sqlite3 *db)
{
	struct stat sb;
	int moved = 1;

	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED,
	                         &moved) != SQLITE_OK || moved ||
	    lstat(st->file, &sb) != 0 || sb.st_dev != st->dev ||
	    sb.st_ino != st->ino)
		return pfi_err_set(&st->err, PFI_EIO, "refusing index '%s': it was"
		                   " replaced while being opened", st->path);
	return PFI_OK;
}

/*
 * Opens st->file with SQLite (READONLY or READWRITE in flags), hardened
 * against a crafted file: defensive mode (no writable_schema and the
 * like), no SQL functions with side effects from the schema, and no
 * triggers or views at all (pfi has none; see pfi_schema_check_objects).
 */
static int open_sqlite(pfi_store *st, int flags, sqlite3 **db)
{
	flags |= SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(st->file, db, flags, NULL) != SQLITE_OK)
		return pfi_err_set(&st->err, PFI_EIO, "cannot open index '%s': %s",
		                   st->path, *db ? sqlite3_errmsg(*db) : "out of memory");
	sqlite3_extended_result_codes(*db, 1);
	sqlite3_busy_timeout(*db, 2000);
	if (sqlite3_db_config(*db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL))
		return pfi_err_set(&st->err, PFI_ERROR, "cannot configure index"
		                   " '%s': %s", st->path, sqlite3_errmsg(*db));
	return same_file(st, *db);
}

/*
 * Checks the index, its directory and side files, making the file (and
 * its directories) for a writer, then opens it with SQLite as st->db.
 * Its own descriptors are closed before SQLite takes a lock on the file:
 * closing any descriptor of a file drops the process's POSIX locks on it.
 */
static int attach(pfi_store *st)
{
	char *dir = NULL;
	const char *name = NULL;
	int dfd = -1, fd = -1, rc = PFI_OK;

	free(st->file);
	st->file = NULL;
	if (st->writable)
		rc = make_parents(st, st->path);
	if (rc == PFI_OK)
		rc = resolve(st, &dir, &name);
	if (rc == PFI_OK)
		rc = open_dir(st, dir, &dfd);
	if (rc == PFI_OK)
		rc = open_file(st, dfd, name, &fd);
	if (rc == PFI_OK)
		rc = check_file(st, fd);
	if (rc == PFI_OK)
		rc = check_side_files(st, dfd, name);
	if (rc == PFI_OK)
		rc = open_sqlite(st, st->writable ? SQLITE_OPEN_READWRITE
		                                  : SQLITE_OPEN_READONLY, &st->db);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}

/* ---- opening ------------------------------------------------------------------------ */

int pfi_store_text_is(pfi_store *st, const char *sql, const char *want)
{
	sqlite3_stmt *s;
	int is = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		is = sqlite3_stricmp((const char *)sqlite3_column_text(s, 0),
		                     want) == 0;
	sqlite3_finalize(s);
	return is;
}

int pfi_store_begin_write(pfi_store *st)
{
	int rc = pfi_store_exec(st, "BEGIN IMMEDIATE");

	if (rc != PFI_OK && sqlite3_errcode(st->db) == SQLITE_BUSY)
		return pfi_err_set(&st->err, PFI_EBUSY, "index '%s' is being"
		                   " written by another process", st->path);
	return rc;
}

int64_t pfi_store_int(pfi_store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/*
 * SQLite sorts the keys of a new index in runs of at most the page cache
 * size, and with PRAGMA threads sorts several runs at once.  A small cache
 * while building indexes makes several runs out of a big table, so both
 * cores sort: building them all after a first run takes ~1 s less on
 * 5 million lines.
 */
#define PFI_CACHE_SQL "PRAGMA cache_size = -65536"
#define PFI_SORT_CACHE_SQL "PRAGMA cache_size = -4096"

static int create_indexes(pfi_store *st, const struct pfi_index_def *defs)
{
	size_t i;
	int rc = pfi_store_exec(st, PFI_SORT_CACHE_SQL);

	for (i = 0; defs[i].name && rc == PFI_OK; i++)
		rc = pfi_store_exec(st, defs[i].sql);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, PFI_CACHE_SQL);
	return rc;
}

int pfi_store_indexes(pfi_store *st, const struct pfi_index_def *defs,
                      int create)
{
	char sql[128];
	size_t i;
	int rc = PFI_OK;

	if (create)
		return create_indexes(st, defs);
	for (i = 0; defs[i].name && rc == PFI_OK; i++) {
		snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s", defs[i].name);
		rc = pfi_store_exec(st, sql);
	}
	return rc;
}

int pfi_store_query_indexes(pfi_store *st, int create)
{
	return pfi_store_indexes(st, pfi_query_indexes, create);
}

static int create_schema(pfi_store *st)
{
	char sql[128];
	int rc = pfi_store_exec(st, "BEGIN IMMEDIATE");

	if (rc == PFI_OK)
		rc = pfi_store_exec(st, pfi_schema_sql);
	if (rc == PFI_OK)
		rc = pfi_store_query_indexes(st, 1);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d;"
	         " PRAGMA user_version = %d", PFI_APPLICATION_ID, PFI_SCHEMA_VERSION);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, sql);
	st->schema = PFI_SCHEMA_VERSION;
	if (rc == PFI_OK)
		return pfi_store_exec(st, "COMMIT");
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* Only a first run locks readers out (index.c): it writes without the
 * WAL and holds the file once its changes outgrow the page cache. */
static int busy_first_run(pfi_store *st)
{
	return pfi_err_set(&st->err, PFI_EBUSY, "'%s' is being written by its"
	                   " first pfi index run; query it when that run ends",
	                   st->path);
}

/* Checks that the file is a pfi index of a schema this build knows, and
 * holds nothing pfi did not put there. */
static int check_schema(pfi_store *st)
{
	int64_t app = pfi_store_int(st, "PRAGMA application_id");
	int64_t ver = pfi_store_int(st, "PRAGMA user_version");
	int64_t tables = pfi_store_int(st, "SELECT count(*) FROM sqlite_schema");

	if ((app < 0 || ver < 0 || tables < 0) &&
	    (sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_BUSY)
		return busy_first_run(st);
	if (app < 0 || ver < 0 || tables < 0)
		return pfi_store_dberr(st, PFI_ESCHEMA, "cannot read index");
	if (app == 0 && ver == 0 && tables == 0) {
		if (!st->writable)
			return pfi_err_set(&st->err, PFI_ENOTFOUND, "'%s' is empty",
			                   st->path);
		return create_schema(st);
	}
	if (app != PFI_APPLICATION_ID)
		return pfi_err_set(&st->err, PFI_ESCHEMA, "'%s' is not a pfi index",
		                   st->path);
	if (ver < 1 || ver > PFI_SCHEMA_VERSION)
		return pfi_err_set(&st->err, PFI_ESCHEMA,
		                   "'%s' has index schema %lld; this pfi reads %d",
		                   st->path, (long long)ver, PFI_SCHEMA_VERSION);
	st->schema = (int)ver;
	return pfi_schema_check_objects(st);
}

/*
 * Brings an older index up to date when opened for writing: schema 2
 * added the stats cells and the saved sessions, schema 3 the problem
 * lines (empty for what was indexed before).  Read-only, an older schema
 * is read as it is (stats then reads every row, and finds no problems).
 */
static int migrate(pfi_store *st)
{
	char sql[64];
	int from = st->schema, rc;

	if (!st->writable || st->schema == PFI_SCHEMA_VERSION)
		return PFI_OK;
	rc = pfi_store_begin_write(st);
	if (rc != PFI_OK)
		return rc;
	if (from < 2)
		rc = pfi_store_exec(st, pfi_stat_cells_sql);
	if (rc == PFI_OK && from < 2)
		rc = pfi_store_exec(st, pfi_sessions_sql);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, pfi_problems_sql);
	st->schema = PFI_SCHEMA_VERSION;
	if (rc == PFI_OK && from < 2)
		rc = pfi_rollup_rebuild_all(st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", PFI_SCHEMA_VERSION);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, sql);
	if (rc == PFI_OK)
		return pfi_store_exec(st, "COMMIT");
	st->schema = from;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int configure(pfi_store *st)
{
	if (!st->writable)
		return pfi_store_exec(st, "PRAGMA query_only = 1");
	/* Temporary B-trees (link resolution over a whole run) go to a file:
	 * kept in memory they grew with the size of the run. */
	return pfi_store_exec(st, "PRAGMA journal_mode = WAL;"
	                          " PRAGMA synchronous = NORMAL;"
	                          " " PFI_CACHE_SQL ";"
	                          " PRAGMA threads = 2;"
	                          " PRAGMA temp_store = FILE");
}

#define HOT_JOURNAL 1   /* first_read: a rollback is due */

/*
 * The first read of the file.  A first run killed midway leaves a hot
 * rollback journal (index.c writes a first run without the WAL), which a
 * writer rolls back here on its own; a read-only connection cannot, and
 * gets HOT_JOURNAL.  Neither can a reader make the -shm file of a WAL
 * index in a directory it may not write: both would otherwise read as
 * "attempt to write a readonly database".
 */
static int first_read(pfi_store *st)
{
	int err;

	if (pfi_store_int(st, "SELECT count(*) FROM sqlite_schema") >= 0)
		return PFI_OK;
	err = sqlite3_extended_errcode(st->db);
	if (err == SQLITE_READONLY_ROLLBACK)
		return HOT_JOURNAL;
	if ((err & 0xff) == SQLITE_BUSY)
		return busy_first_run(st);
	if (err == SQLITE_READONLY_DIRECTORY || err == SQLITE_READONLY_CANTINIT)
		return pfi_err_set(&st->err, PFI_EIO, "cannot read '%s' without its"
		                   " '-shm' file, which you may not create there (it"
		                   " exists while its owner has the index open)",
		                   st->path);
	if ((err & 0xff) == SQLITE_NOTADB)
		return pfi_err_set(&st->err, PFI_ESCHEMA, "'%s' is not a pfi index",
		                   st->path);
	if ((err & 0xff) == SQLITE_NOMEM)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	return pfi_store_dberr(st, PFI_ESCHEMA, "cannot read index");
}

/*
 * Rolls back what an interrupted first run left, for a reader: the
 * running user owns the index (or root does), so a short read-write
 * connection does what the next `pfi index` would, under SQLite's locks.
 * The index is then as it was before that run.  A reader who may not
 * write the file is told so instead of SQLite's "readonly database".
 */
static int roll_back(pfi_store *st)
{
	sqlite3 *db = NULL;
	int rc = open_sqlite(st, SQLITE_OPEN_READWRITE, &db), err;

	if (rc == PFI_OK && sqlite3_exec(db, "SELECT count(*) FROM sqlite_schema",
	                                 NULL, NULL, NULL) != SQLITE_OK) {
		err = sqlite3_extended_errcode(db) & 0xff;
		if (err == SQLITE_BUSY)
			rc = busy_first_run(st);
		else if (err == SQLITE_READONLY || err == SQLITE_CANTOPEN ||
		         err == SQLITE_PERM)
			rc = pfi_err_set(&st->err, PFI_EIO, "'%s' was left by an"
			                 " interrupted first pfi index run; a 'pfi index'"
			                 " by a user who may write it rolls that back",
			                 st->path);
		else
			rc = pfi_err_set(&st->err, PFI_EIO, "cannot roll back the"
			                 " interrupted first run into '%s': %s", st->path,
			                 sqlite3_errmsg(db));
	}
	sqlite3_close(db);
	return rc;
}

/* Opens the index (attach) and reads it first, after a roll_back when
 * an interrupted first run left it to the reader. */
static int attach_and_read(pfi_store *st)
{
	int rc = attach(st);

	if (rc == PFI_OK)
		rc = first_read(st);
	if (rc != HOT_JOURNAL)
		return rc;
	sqlite3_close(st->db);
	st->db = NULL;
	rc = roll_back(st);
	if (rc == PFI_OK)
		rc = attach(st);
	if (rc == PFI_OK)
		rc = first_read(st);
	if (rc == HOT_JOURNAL)   /* another run was killed meanwhile */
		rc = pfi_err_set(&st->err, PFI_EIO, "cannot roll back the"
		                 " interrupted first run into '%s'", st->path);
	return rc;
}

static int open_db(pfi_store *st)
{
	int rc = attach_and_read(st);

	if (rc == PFI_OK)
		rc = configure(st);
	if (rc == PFI_OK)
		rc = check_schema(st);
	if (rc == PFI_OK)
		rc = pfi_store_register_functions(st);
	if (rc == PFI_OK)
		rc = migrate(st);
	if (rc == PFI_ERROR && st->db &&
	    (sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_NOTADB)
		rc = pfi_err_set(&st->err, PFI_ESCHEMA, "'%s' is not a pfi index",
		                 st->path);
	return rc;
}

int pfi_store_open(pfi_store **out, const char *path, int flags)
{
	pfi_store *st = calloc(1, sizeof(*st));
	int rc;

	*out = NULL;
	if (st == NULL)
		return PFI_ENOMEM;
	*out = st;
	st->writable = (flags & PFI_OPEN_WRITE) != 0;
	pfi_buf_init(&st->scratch, 0);
	st->path = strdup(path ? path : "");
	if (st->path == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (path == NULL || *path == '\0')
		return pfi_err_set(&st->err, PFI_EINVAL, "no index path given");
	rc = open_db(st);
	return rc;
}

void pfi_store_close(pfi_store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db) {
		if (!sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		sqlite3_close(st->db);
	}
	pfi_rollup_untrack(st);
	pfi_store_forget_chunk(st);
	pfi_buf_release(&st->scratch);
	free(st->file);
	free(st->path);
	free(st);
}

/* ---- writing messages ---------------------------------------------------------------- */

const char *pfi_addr_domain(const char *addr, char *buf, size_t size)
{
	const char *at = addr ? strrchr(addr, '@') : NULL;
	size_t i;

	if (at == NULL || at[1] == '\0')
		return NULL;
	for (i = 0; at[1 + i] && i + 1 < size; i++) {
		char ch = at[1 + i];
		buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
	}
	buf[i] = '\0';
	return buf;
}

static int put_message_lines(pfi_store *st, const struct pfi_msg *m)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_PUT_MESSAGE_LINES);

	if (s == NULL)
		return PFI_ERROR;
	if (pfi_ids_encode(m->lines, m->nlines, &st->scratch) != PFI_OK)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	sqlite3_bind_int64(s, 1, m->id);
	sqlite3_bind_blob(s, 2, st->scratch.data ? st->scratch.data : "",
	                  (int)st->scratch.len, SQLITE_STATIC);
	if (m->nlines)
		sqlite3_bind_int64(s, 3, m->lines[0]);
	return pfi_store_step_done(st, s, "cannot write message");
}

static int put_message_row(pfi_store *st, const struct pfi_msg *m, int open)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_MESSAGE);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, m->id);
	pfi_bind_str(s, 2, m->host);
	pfi_bind_str(s, 3, m->qid);
	sqlite3_bind_int(s, 4, open);
	sqlite3_bind_int64(s, 5, m->flags &
	                   ~(unsigned)(PFI_MSG_DIRTY | PFI_MSG_STORED));
	pfi_bind_time(s, 6, m->first);
	pfi_bind_time(s, 7, m->last);
	pfi_bind_time(s, 8, m->received);
	pfi_bind_time(s, 9, m->removed);
	pfi_bind_str(s, 10, m->message_id);
	pfi_bind_str(s, 11, m->sender);
	pfi_bind_int(s, 12, m->size);
	pfi_bind_int(s, 13, m->nrcpt);
	pfi_bind_str(s, 14, m->client);
	pfi_bind_str(s, 15, m->client_ip);
	pfi_bind_str(s, 16, m->sasl_method);
	pfi_bind_str(s, 17, m->sasl_username);
	pfi_bind_str(s, 18, m->subject);
	pfi_bind_str(s, 19, m->tls_protocol);
	pfi_bind_str(s, 20, m->tls_cipher);
	pfi_bind_str(s, 21, m->origin);
	pfi_bind_str(s, 22, m->orig_qid);
	if (m->parent > 0) {
		sqlite3_bind_int64(s, 23, m->parent);
		pfi_bind_str(s, 24, pfi_link_relation(m->parent_rel, 0));
	}
	if (pfi_store_step_done(st, s, "cannot write message") != PFI_OK)
		return PFI_ERROR;
	return put_message_lines(st, m);
}

/* Keeps the lowest row id a run wrote: a rewrite deletes rows and the
 * new ones may reuse their ids, below the highest id the run began with. */
static void keep_lowest(int64_t *lowest, int64_t id)
{
	if (id < *lowest)
		*lowest = id;
}

static int put_delivery(pfi_store *st, const struct pfi_msg *m,
                        const struct pfi_rcpt *r, int open, int64_t *row)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_DELIVERY);
	char dom[256];
	int rc;

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, m->id);
	pfi_bind_str(s, 2, m->host);
	pfi_bind_str(s, 3, m->qid);
	sqlite3_bind_int64(s, 4, r->time ? r->time : m->last);
	pfi_bind_str(s, 5, r->to);
	pfi_bind_str(s, 6, r->orig_to);
	pfi_bind_str(s, 7, pfi_addr_domain(r->to, dom, sizeof(dom)));
	pfi_bind_str(s, 8, pfi_rcpt_outcome(m, r, open));
	pfi_bind_str(s, 9, r->dsn);
	pfi_bind_str(s, 10, r->relay);
	pfi_bind_num(s, 11, r->delay);
	pfi_bind_num(s, 12, r->delays[0]);
	pfi_bind_num(s, 13, r->delays[1]);
	pfi_bind_num(s, 14, r->delays[2]);
	pfi_bind_num(s, 15, r->delays[3]);
	sqlite3_bind_int(s, 16, r->attempts);
	pfi_bind_str(s, 17, r->response);
	pfi_bind_str(s, 18, r->child_qid);
	pfi_bind_str(s, 19, r->stage);
	pfi_bind_str(s, 20, r->code);
	sqlite3_bind_int(s, 26, r->final);
	pfi_bind_str(s, 27, r->tls_protocol);
	rc = pfi_store_step_done(st, s, "cannot write delivery");
	*row = sqlite3_last_insert_rowid(st->db);
	keep_lowest(&st->first_new_row, *row);
	return rc;
}

static int put_link(pfi_store *st, const struct pfi_msg *m,
                    const struct pfi_mlink *l, int64_t delivery)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_LINK);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, m->id);
	pfi_bind_str(s, 2, l->qid);
	pfi_bind_str(s, 3, l->hint);
	sqlite3_bind_int(s, 4, l->relation);
	sqlite3_bind_int64(s, 5, l->time);
	pfi_bind_int(s, 6, delivery > 0 ? delivery : -1);
	/* Found open on the same host (correlate.c): never a relay. */
	if (l->other > 0) {
		sqlite3_bind_int64(s, 7, l->other);
		pfi_bind_str(s, 8, pfi_link_relation(l->relation, 0));
	}
	if (pfi_store_step_done(st, s, "cannot write link") != PFI_OK)
		return PFI_ERROR;
	keep_lowest(&st->first_new_link, sqlite3_last_insert_rowid(st->db));
	return PFI_OK;
}

static int delete_children(pfi_store *st, int64_t id)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_DELETE_DELIVERIES);
	int rc;

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	rc = pfi_store_step_done(st, s, "cannot rewrite message");
	if (rc != PFI_OK || (s = pfi_store_stmt(st, ST_DELETE_LINKS)) == NULL)
		return rc != PFI_OK ? rc : PFI_ERROR;
	sqlite3_bind_int64(s, 1, id);
	return pfi_store_step_done(st, s, "cannot rewrite message");
}

int pfi_store_put_message(pfi_store *st, const struct pfi_msg *m, int open)
{
	int64_t *rows = NULL;
	size_t i;
	/* Only a message stored before (open) has rows to replace. */
	int stored = (m->flags & PFI_MSG_STORED) != 0;
	int rc = pfi_rollup_touch(st, m->id);

	if (rc == PFI_OK)
		rc = put_message_row(st, m, open);
	if (rc == PFI_OK && stored)
		rc = delete_children(st, m->id);
	if (rc == PFI_OK && m->nrcpts &&
	    (rows = calloc(m->nrcpts, sizeof(*rows))) == NULL)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	for (i = 0; rc == PFI_OK && i < m->nrcpts; i++)
		rc = put_delivery(st, m, &m->rcpts[i], open, &rows[i]);
	for (i = 0; rc == PFI_OK && i < m->nlinks; i++) {
		size_t r = m->links[i].rcpt;
		rc = put_link(st, m, &m->links[i], r < m->nrcpts ? rows[r] : -1);
	}
	free(rows);
	return rc;
}

int pfi_store_put_sasl_failure(pfi_store *st, const struct pfi_envelope *env,
                               const struct pfi_event *ev)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_SASL_FAILURE);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, env->time);
	pfi_bind_slice(s, 2, env->host);
	pfi_bind_slice(s, 3, ev->client_name);
	pfi_bind_slice(s, 4, ev->client_ip);
	pfi_bind_slice(s, 5, ev->sasl_method);
	pfi_bind_slice(s, 6, ev->sasl_username);
	return pfi_store_step_done(st, s, "cannot write login failure");
}

int pfi_store_put_problem(pfi_store *st, const struct pfi_envelope *env,
                          const char *level, const char *kind,
                          int64_t line_id)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_PROBLEM);

	if (s == NULL)
		return PFI_ERROR;
	sqlite3_bind_int64(s, 1, env->time);
	pfi_bind_slice(s, 2, env->host);
	pfi_bind_slice(s, 3, env->program);
	sqlite3_bind_text(s, 4, level, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, line_id);
	return pfi_store_step_done(st, s, "cannot write problem line");
}

int pfi_store_put_reject(pfi_store *st, const struct pfi_envelope *env,
                         const struct pfi_event *ev, int64_t line_id)
{
	sqlite3_stmt *s = pfi_store_stmt(st, ST_INSERT_DELIVERY);
	char dom[256], to[512];
	size_t n = ev->to.n < sizeof(to) - 1 ? ev->to.n : sizeof(to) - 1;

	if (s == NULL)
		return PFI_ERROR;
	memcpy(to, ev->to.p ? ev->to.p : "", ev->to.p ? n : 0);
	to[ev->to.p ? n : 0] = '\0';
	pfi_bind_slice(s, 2, env->host);
	sqlite3_bind_int64(s, 4, env->time);
	pfi_bind_slice(s, 5, ev->to);
	pfi_bind_str(s, 7, ev->to.p ? pfi_addr_domain(to, dom, sizeof(dom)) : NULL);
	pfi_bind_str(s, 8, "rejected");
	pfi_bind_slice(s, 9, ev->dsn);
	sqlite3_bind_int(s, 16, 0);
	pfi_bind_slice(s, 17, ev->reason);
	pfi_bind_slice(s, 19, ev->stage);
	pfi_bind_slice(s, 20, ev->code);
	pfi_bind_slice(s, 21, ev->client_name);
	pfi_bind_slice(s, 22, ev->client_ip);
	pfi_bind_slice(s, 23, ev->helo);
	pfi_bind_slice(s, 24, ev->from);
	sqlite3_bind_int64(s, 25, line_id);
	sqlite3_bind_int(s, 26, 1);
	if (pfi_store_step_done(st, s, "cannot write reject") != PFI_OK)
		return PFI_ERROR;
	keep_lowest(&st->first_new_row, sqlite3_last_insert_rowid(st->db));
	return PFI_OK;
}
