/*
 * helpers.h - shared test helpers: fixture paths, temporary directories,
 * running the built pfi, and domain assertions on the index.
 */
#ifndef PFI_TEST_HELPERS_H
#define PFI_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "pfi.h"

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

/* Runs the built pfi with argv (NULL-terminated, without "pfi"), stdin from
 * `in` (NULL: /dev/null); captures stdout and stderr (malloc'd). Returns
 * the exit status, or -1 when it did not exit normally. */
int run_pfi(const char *const *argv, const char *in, char **out, char **err);

/* Indexes paths into a new store at dbpath; asserts success. */
pfi_store *index_into(const char *dbpath, const char *const *paths, size_t n,
                      struct pfi_index_report *rep);
/* One integer from an SQL query on the index file (sqlite3 directly). */
int64_t db_int(const char *dbpath, const char *sql);
/* Rows of an SQL query as "a|b|c\n" text, ordered as the query says. */
char *db_rows(const char *dbpath, const char *sql);

#endif
