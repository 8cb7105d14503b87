/*
 * store-open.c - opening the index file: trusted (owned by the user or
 * root, not a link, not writable by others), created mode 0600 (mail logs
 * hold personal data) in WAL mode so that queries run while `pfi index`
 * writes, rolled back when a first run was interrupted, and checked to
 * be a pfi index of a schema this build knows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-schema.h"

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

/* SQLite's progress handler: a non-zero answer stops the statement with
 * SQLITE_INTERRUPT.  sqlite3_interrupt alone is lost when it lands
 * between two statements, and a command runs many. */
static int stop_when_interrupted(void *arg)
{
	const pfi_store *st = arg;

	return st->stopped != 0;
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
	sqlite3_progress_handler(*db, 100, stop_when_interrupted, st);
	if (sqlite3_db_config(*db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL) ||
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL))
		return pfi_err_set(&st->err, PFI_ERROR, "cannot configure index"
		                   " '%s': %s", st->path, sqlite3_errmsg(*db));
	return same_file(st, *db);
}

int pfi_store_open_reader(pfi_store *st, sqlite3 **db)
{
	int rc;

	*db = NULL;
	if (st->file == NULL)
		return pfi_err_set(&st->err, PFI_EINVAL, "the index is not open");
	rc = open_sqlite(st, SQLITE_OPEN_READONLY, db);
	/* The caller's own TEMP views need views: the file holds none (its
	 * schema was checked when the store opened it, and same_file says it
	 * is still that file). */
	if (rc == PFI_OK &&
	    sqlite3_db_config(*db, SQLITE_DBCONFIG_ENABLE_VIEW, 1, NULL))
		rc = pfi_err_set(&st->err, PFI_ERROR, "cannot configure index"
		                 " '%s': %s", st->path, sqlite3_errmsg(*db));
	if (rc != PFI_OK) {
		sqlite3_close(*db);
		*db = NULL;
	}
	return rc;
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
	/* Out of memory is no damage: the next try may well succeed. */
	if ((app < 0 || ver < 0 || tables < 0) &&
	    (sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_NOMEM)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (app < 0 || ver < 0 || tables < 0)
		return pfi_store_dberr(st, PFI_ESCHEMA, "cannot read index");
	if (app == 0 && ver == 0 && tables == 0) {
		if (!st->writable)
			return pfi_err_set(&st->err, PFI_ENOTFOUND, "'%s' is empty",
			                   st->path);
		return pfi_schema_create(st);
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
	return rc;
}

int pfi_store_attach(pfi_store **out, const char *path, int flags)
{
	pfi_store *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (st == NULL)
		return PFI_ENOMEM;
	*out = st;
	st->writable = (flags & PFI_OPEN_WRITE) != 0;
	st->path = strdup(path ? path : "");
	if (st->path == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (path == NULL || *path == '\0')
		return pfi_err_set(&st->err, PFI_EINVAL, "no index path given");
	return open_db(st);
}
