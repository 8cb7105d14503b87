/*
 * smap.h - string-keyed tables with fixed-size values (stats and rollups).
 *
 * Keys are copied; each key has a zeroed value of vsize bytes.  The NULL
 * key is a key like any other.  Tables only grow; indexes stay valid, and
 * keys[i] / pfi_smap_val(m, i) enumerate them in insertion order.  The
 * keys are found through the hash table of htab.h.
 */
#ifndef PFI_SMAP_H
#define PFI_SMAP_H

#include <stddef.h>
#include <stdint.h>

#include "htab.h"

struct pfi_smap {
	char **keys;          /* by index, owned; NULL for the NULL key */
	unsigned char *vals;  /* n values of vsize bytes */
	size_t vsize;         /* size of one value */
	size_t n, cap;        /* keys used / allocated */
	struct pfi_htab index;  /* the keys' entries, by hash */
	size_t null_idx;      /* index + 1 of the NULL key, 0 if absent */
};

void pfi_smap_init(struct pfi_smap *m, size_t vsize);
void pfi_smap_release(struct pfi_smap *m);
/* The value of entry i. */
void *pfi_smap_val(const struct pfi_smap *m, size_t i);
/* The index of `key`, added (zeroed) when absent.  PFI_OK or PFI_ENOMEM. */
int pfi_smap_get(struct pfi_smap *m, const char *key, size_t *idx);
/* Whether `key` is in the table, and then its index. */
int pfi_smap_find(const struct pfi_smap *m, const char *key, size_t *idx);
/* Adds n to the int64_t value of key.  PFI_OK or PFI_ENOMEM. */
int pfi_smap_count(struct pfi_smap *m, const char *key, int64_t n);

#endif
