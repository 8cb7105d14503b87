/*
 * store-cols.c - values into statements (NULL for what is unknown) and
 * columns back into values, the same way everywhere; and the pool of
 * strings a result owns.
 */
#include <stdlib.h>
#include <string.h>

#include "store-cols.h"

/* ---- binding ------------------------------------------------------------------------ */

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

/* Binds a period as ?1 (since) and ?2 (until); 0 is open. */
void pfi_bind_period(sqlite3_stmt *s, int64_t since, int64_t until)
{
	sqlite3_bind_int64(s, 1, since ? since : INT64_MIN);
	sqlite3_bind_int64(s, 2, until ? until : INT64_MAX);
}

/* ---- reading columns ------------------------------------------------------------ */

const char *pfi_col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

char *pfi_col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

int64_t pfi_col_int(sqlite3_stmt *s, int i, int64_t none)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? none
	                                               : sqlite3_column_int64(s, i);
}

double pfi_col_real(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1
	                                               : sqlite3_column_double(s, i);
}

int64_t pfi_col_time(sqlite3_stmt *s, int i)
{
	return pfi_col_int(s, i, 0);
}

/* ---- a pool of strings owned by a result ----------------------------------------------- */

char *pfi_pool_keep(struct pfi_pool *p, const char *text, size_t len)
{
	char *c;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		char **v = realloc(p->strs, cap * sizeof(*v));
		if (v == NULL) {
			p->oom = 1;
			return NULL;
		}
		p->strs = v;
		p->cap = cap;
	}
	c = malloc(len + 1);
	if (c == NULL) {
		p->oom = 1;
		return NULL;
	}
	memcpy(c, text, len);
	c[len] = '\0';
	p->strs[p->n++] = c;
	return c;
}

const char *pfi_pool_col(struct pfi_pool *p, sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	if (t == NULL)
		return NULL;
	return pfi_pool_keep(p, (const char *)t, (size_t)sqlite3_column_bytes(s, i));
}

void pfi_pool_release(struct pfi_pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->strs[i]);
	free(p->strs);
}
