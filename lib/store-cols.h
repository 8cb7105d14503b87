/*
 * store-cols.h - values into statements and back: the binders and
 * column readers every SQL user of the library shares, and a pool that
 * keeps the strings a result hands out.
 */
#ifndef PFI_STORE_COLS_H
#define PFI_STORE_COLS_H

#include <sqlite3.h>

#include "pfi-int.h"

/* Binds a C string (NULL binds NULL). */
int pfi_bind_str(sqlite3_stmt *s, int i, const char *v);
/* Binds a slice (absent binds NULL). */
int pfi_bind_slice(sqlite3_stmt *s, int i, struct pfi_slice v);
/* Binds a number, NULL when negative (unknown). */
int pfi_bind_num(sqlite3_stmt *s, int i, double v);
int pfi_bind_int(sqlite3_stmt *s, int i, int64_t v);  /* NULL when < 0 */
/* Binds a time, NULL when 0. */
int pfi_bind_time(sqlite3_stmt *s, int i, int64_t v);

/* Binds the period [since, until) as ?1 and ?2; 0 leaves that side
 * open. */
void pfi_bind_period(sqlite3_stmt *s, int64_t since, int64_t until);

/* Column i as text; NULL for SQL NULL. */
const char *pfi_col_text(sqlite3_stmt *s, int i);
/* A malloc'd copy of column i; NULL for SQL NULL (or out of memory). */
char *pfi_col_dup(sqlite3_stmt *s, int i);
/* Column i as an integer; `none` for SQL NULL. */
int64_t pfi_col_int(sqlite3_stmt *s, int i, int64_t none);
/* Column i as a number; -1 (unknown) for SQL NULL. */
double pfi_col_real(sqlite3_stmt *s, int i);
/* Column i as a time; 0 (unknown) for SQL NULL. */
int64_t pfi_col_time(sqlite3_stmt *s, int i);

/* Strings owned by a result, freed with it. */
struct pfi_pool {
	char **strs;
	size_t n, cap;
	int oom;           /* a copy failed: the result is incomplete */
};
/* A copy of (text, len) kept in the pool; NULL (and p->oom) when out of
 * memory. */
char *pfi_pool_keep(struct pfi_pool *p, const char *text, size_t len);
/* A copy of column i of s kept in the pool; NULL for SQL NULL. */
const char *pfi_pool_col(struct pfi_pool *p, sqlite3_stmt *s, int i);
void pfi_pool_release(struct pfi_pool *p);

#endif /* PFI_STORE_COLS_H */
