/*
 * buf.c - a growable byte buffer with a hard maximum size, so that one
 * absurd input cannot eat all memory; and (pointer, length) slice helpers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfi-int.h"

void pfi_buf_init(struct pfi_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : PFI_BUF_DEFAULT_MAX;
}

/* Makes room for `extra` more bytes plus the terminating NUL. */
static int buf_grow(struct pfi_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max - b->len)
		return PFI_EINVAL;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return PFI_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return PFI_ENOMEM;
	b->data = p;
	b->cap = cap;
	return PFI_OK;
}

int pfi_buf_append(struct pfi_buf *b, const void *p, size_t n)
{
	int rc = buf_grow(b, n);

	if (rc != PFI_OK)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return PFI_OK;
}

int pfi_buf_appends(struct pfi_buf *b, const char *s)
{
	return pfi_buf_append(b, s, strlen(s));
}

int pfi_buf_appendc(struct pfi_buf *b, char c)
{
	return pfi_buf_append(b, &c, 1);
}

int pfi_buf_printf(struct pfi_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return PFI_EINVAL;
	rc = buf_grow(b, (size_t)n);
	if (rc != PFI_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return PFI_OK;
}

void pfi_buf_reset(struct pfi_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void pfi_buf_release(struct pfi_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

char *pfi_buf_detach(struct pfi_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

int pfi_array_reserve(void **arr, size_t *cap, size_t n, size_t elem,
                      size_t first)
{
	size_t c;
	void *p;

	if (n < *cap)
		return PFI_OK;
	c = *cap ? *cap * 2 : first;
	p = realloc(*arr, c * elem);
	if (p == NULL)
		return PFI_ENOMEM;
	*arr = p;
	*cap = c;
	return PFI_OK;
}

size_t pfi_put_int(char *p, int64_t v)
{
	char tmp[PFI_INT_DIGITS];
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		tmp[n++] = '-';
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

int pfi_buf_put_varint(struct pfi_buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	do {
		tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v != 0);
	return pfi_buf_append(b, tmp, n);
}

int pfi_varint_get(const unsigned char **p, const unsigned char *end,
                   uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (*p < end && shift < 64) {
		unsigned char c = *(*p)++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if ((c & 0x80) == 0)
			return PFI_OK;
		shift += 7;
	}
	return PFI_EPARSE;
}

int pfi_slice_eq(struct pfi_slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.p != NULL && s.n == n && memcmp(s.p, lit, n) == 0;
}

char *pfi_slice_copy(char *buf, size_t cap, struct pfi_slice s)
{
	size_t n = s.p == NULL ? 0 : s.n < cap ? s.n : cap - 1;
	char *q;

	if (n > 0)
		memcpy(buf, s.p, n);
	buf[n] = '\0';
	for (q = memchr(buf, '\0', n); q != NULL;
	     q = memchr(q, '\0', n - (size_t)(q - buf)))
		*q = '?';   /* as pfi_slice_dup does */
	return buf;
}

char *pfi_slice_dup(struct pfi_slice s)
{
	char *p, *q;

	if (s.p == NULL)
		return NULL;
	p = malloc(s.n + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, s.p, s.n);
	p[s.n] = '\0';
	/* A field must not end at a NUL it carries (damage, or a hostile
	 * client): it becomes '?', as Postfix shows what it cannot print. */
	for (q = memchr(p, '\0', s.n); q != NULL;
	     q = memchr(q, '\0', s.n - (size_t)(q - p)))
		*q = '?';
	return p;
}
