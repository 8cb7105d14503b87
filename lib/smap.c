/*
 * smap.c - string-keyed tables with fixed-size values (see smap.h).
 */
#include <stdlib.h>
#include <string.h>

#include "pfi-int.h"
#include "smap.h"


void pfi_smap_init(struct pfi_smap *m, size_t vsize)
{
	memset(m, 0, sizeof(*m));
	m->vsize = vsize;
}

void pfi_smap_release(struct pfi_smap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->vals);
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static size_t smap_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

void *pfi_smap_val(const struct pfi_smap *m, size_t i)
{
	return m->vals + i * m->vsize;
}

/* Doubles the slot array and puts every key back. */
static int smap_rehash(struct pfi_smap *m)
{
	size_t ns = m->nslots ? m->nslots * 2 : 64, i, h;
	size_t *slots = calloc(ns, sizeof(*slots));

	if (slots == NULL)
		return PFI_ENOMEM;
	for (i = 0; i < m->n; i++) {
		if (m->keys[i] == NULL)
			continue;
		for (h = smap_hash(m->keys[i]) & (ns - 1); slots[h];
		     h = (h + 1) & (ns - 1))
			;
		slots[h] = i + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = ns;
	return PFI_OK;
}

/* Room for one more key and value. */
static int smap_reserve(struct pfi_smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	char **keys;
	unsigned char *vals;

	if (m->n < m->cap)
		return PFI_OK;
	if ((keys = realloc(m->keys, cap * sizeof(*keys))) == NULL)
		return PFI_ENOMEM;
	m->keys = keys;
	if ((vals = realloc(m->vals, cap * m->vsize)) == NULL)
		return PFI_ENOMEM;
	m->vals = vals;
	m->cap = cap;
	return PFI_OK;
}

/* Appends key (copied; NULL allowed) with a zero value at index *idx. */
static int smap_add(struct pfi_smap *m, const char *key, size_t *idx)
{
	char *copy = NULL;

	if (smap_reserve(m) != PFI_OK)
		return PFI_ENOMEM;
	if (key != NULL && (copy = strdup(key)) == NULL)
		return PFI_ENOMEM;
	m->keys[m->n] = copy;
	memset(pfi_smap_val(m, m->n), 0, m->vsize);
	*idx = m->n++;
	return PFI_OK;
}

/* The index of `key`, added when absent.  PFI_OK or PFI_ENOMEM. */
int pfi_smap_get(struct pfi_smap *m, const char *key, size_t *idx)
{
	size_t h;

	if (key == NULL) {
		if (m->null_idx == 0 && smap_add(m, NULL, idx) == PFI_OK)
			m->null_idx = *idx + 1;
		*idx = m->null_idx - 1;
		return m->null_idx ? PFI_OK : PFI_ENOMEM;
	}
	if (2 * (m->n + 1) > m->nslots && smap_rehash(m) != PFI_OK)
		return PFI_ENOMEM;
	for (h = smap_hash(key) & (m->nslots - 1); m->slots[h];
	     h = (h + 1) & (m->nslots - 1)) {
		if (m->keys[m->slots[h] - 1] &&
		    strcmp(m->keys[m->slots[h] - 1], key) == 0) {
			*idx = m->slots[h] - 1;
			return PFI_OK;
		}
	}
	if (smap_add(m, key, idx) != PFI_OK)
		return PFI_ENOMEM;
	m->slots[h] = *idx + 1;
	return PFI_OK;
}

int pfi_smap_find(const struct pfi_smap *m, const char *key, size_t *idx)
{
	size_t h;

	if (key == NULL || m->nslots == 0) {
		*idx = m->null_idx - 1;
		return key == NULL && m->null_idx != 0;
	}
	for (h = smap_hash(key) & (m->nslots - 1); m->slots[h];
	     h = (h + 1) & (m->nslots - 1)) {
		if (m->keys[m->slots[h] - 1] &&
		    strcmp(m->keys[m->slots[h] - 1], key) == 0) {
			*idx = m->slots[h] - 1;
			return 1;
		}
	}
	return 0;
}

/* Adds n to the int64_t value of key. */
int pfi_smap_count(struct pfi_smap *m, const char *key, int64_t n)
{
	size_t i;

	if (pfi_smap_get(m, key, &i) != PFI_OK)
		return PFI_ENOMEM;
	*(int64_t *)pfi_smap_val(m, i) += n;
	return PFI_OK;
}

