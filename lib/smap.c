/*
 * smap.c - string-keyed tables with fixed-size values (see smap.h).
 *
 * Each key lives in an entry of the hash table, the key's bytes at its
 * end; keys[i] points at them, so a key costs one allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "pfi-int.h"
#include "hash.h"
#include "smap.h"

/* One key: its node in the hash table, its index, its bytes. */
struct smap_entry {
	struct pfi_hnode node;
	size_t idx;
	char key[];
};

static struct smap_entry *entry_of_key(char *key)
{
	return (struct smap_entry *)(void *)(key -
	                                     offsetof(struct smap_entry, key));
}

void pfi_smap_init(struct pfi_smap *m, size_t vsize)
{
	memset(m, 0, sizeof(*m));
	m->vsize = vsize;
}

void pfi_smap_release(struct pfi_smap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->keys[i] != NULL)
			free(entry_of_key(m->keys[i]));
	free(m->keys);
	free(m->vals);
	pfi_htab_release(&m->index);
	memset(m, 0, sizeof(*m));
}

void *pfi_smap_val(const struct pfi_smap *m, size_t i)
{
	return m->vals + i * m->vsize;
}

static uint64_t smap_hash(const char *key)
{
	return pfi_hash_bytes(PFI_HASH_INIT, key, strlen(key));
}

static int smap_eq(const struct pfi_hnode *n, const void *key)
{
	const struct smap_entry *e = PFI_HTAB_ENTRY(n, struct smap_entry, node);

	return strcmp(e->key, key) == 0;
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

/* The entry of `key` (hash h), or NULL. */
static struct smap_entry *smap_lookup(const struct pfi_smap *m,
                                      const char *key, uint64_t h)
{
	struct pfi_hnode *n;

	if (m->index.cap == 0)
		return NULL;
	n = *pfi_htab_find(&m->index, h, smap_eq, key);
	return n ? PFI_HTAB_ENTRY(n, struct smap_entry, node) : NULL;
}

/* Appends `key` (hash h; NULL allowed) with a zero value at index *idx. */
static int smap_add(struct pfi_smap *m, const char *key, uint64_t hash,
                    size_t *idx)
{
	struct smap_entry *e = NULL;
	size_t len;

	if (smap_reserve(m) != PFI_OK)
		return PFI_ENOMEM;
	if (key != NULL) {
		len = strlen(key);
		if (pfi_htab_reserve(&m->index) != PFI_OK ||
		    (e = malloc(sizeof(*e) + len + 1)) == NULL)
			return PFI_ENOMEM;
		memcpy(e->key, key, len + 1);
		e->idx = m->n;
		pfi_htab_link(&m->index,
		              pfi_htab_find(&m->index, hash, smap_eq, key),
		              &e->node, hash);
	}
	m->keys[m->n] = e ? e->key : NULL;
	memset(pfi_smap_val(m, m->n), 0, m->vsize);
	*idx = m->n++;
	return PFI_OK;
}

/* The index of `key`, added when absent.  PFI_OK or PFI_ENOMEM. */
int pfi_smap_get(struct pfi_smap *m, const char *key, size_t *idx)
{
	struct smap_entry *e;
	uint64_t h;

	if (key == NULL) {
		if (m->null_idx == 0 && smap_add(m, NULL, 0, idx) == PFI_OK)
			m->null_idx = *idx + 1;
		*idx = m->null_idx - 1;
		return m->null_idx ? PFI_OK : PFI_ENOMEM;
	}
	h = smap_hash(key);
	if ((e = smap_lookup(m, key, h)) != NULL) {
		*idx = e->idx;
		return PFI_OK;
	}
	return smap_add(m, key, h, idx);
}

int pfi_smap_find(const struct pfi_smap *m, const char *key, size_t *idx)
{
	const struct smap_entry *e;

	if (key == NULL) {
		*idx = m->null_idx - 1;
		return m->null_idx != 0;
	}
	if ((e = smap_lookup(m, key, smap_hash(key))) == NULL)
		return 0;
	*idx = e->idx;
	return 1;
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
