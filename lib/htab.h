/*
 * htab.h - pfi's one hash table: chained and intrusive.
 *
 * An entry embeds a struct pfi_hnode and is filed under a 64-bit hash
 * (hash.h) that the table keeps in the node, so that growing never hashes
 * again and a lookup compares keys only when the hashes are equal.  The
 * table owns its bucket array, never the entries: the caller allocates
 * them, takes them out and frees them.  Keys may repeat; a lookup finds
 * the first entry its comparison accepts.
 *
 * Order: an entry is linked where pfi_htab_find() pointed, which is the
 * end of its bucket for a new key; the buckets double when the table holds
 * as many entries as it has buckets, each old bucket moved from the front,
 * entry by entry, to the front of its new one.  Walking (first/next)
 * visits the buckets in order.  So the same operations give the same
 * walk, run after run: the correlator's writes, which follow the walk,
 * come out in the same order.
 *
 * Usage:
 *     struct pfi_hnode **link = pfi_htab_find(&t, h, eq, key);
 *     if (*link == NULL && pfi_htab_reserve(&t) == PFI_OK) {
 *             link = pfi_htab_find(&t, h, eq, key);  (reserve may move it)
 *             pfi_htab_link(&t, link, &entry->node, h);
 *     }
 */
#ifndef PFI_HTAB_H
#define PFI_HTAB_H

#include <stddef.h>
#include <stdint.h>

/* The part of an entry that the table uses. */
struct pfi_hnode {
	struct pfi_hnode *next;  /* the next entry of the bucket */
	uint64_t hash;
};

struct pfi_htab {
	struct pfi_hnode **b;    /* cap buckets */
	size_t cap;              /* a power of two */
	size_t count;            /* entries linked */
};

/* The entry of type `type` whose member `member` is the node n. */
#define PFI_HTAB_ENTRY(n, type, member) \
	((type *)(void *)((char *)(n) - offsetof(type, member)))

/* Whether the entry of node n has the key `key` (the caller's type). */
typedef int pfi_htab_eq(const struct pfi_hnode *n, const void *key);

/* An empty table of cap buckets (a power of two).  PFI_OK or PFI_ENOMEM. */
int pfi_htab_init(struct pfi_htab *t, size_t cap);
/* Frees the bucket array (not the entries); t is empty after it. */
void pfi_htab_release(struct pfi_htab *t);
/* Room to link one more entry: doubles the buckets when they are full.
 * Links from pfi_htab_find() are stale after it.  PFI_OK or PFI_ENOMEM. */
int pfi_htab_reserve(struct pfi_htab *t);
/* The link that holds the first entry under `hash` that eq accepts, or
 * the empty link at the end of that bucket (*link == NULL). */
struct pfi_hnode **pfi_htab_find(const struct pfi_htab *t, uint64_t hash,
                                 pfi_htab_eq *eq, const void *key);
/* Puts n, under `hash`, at `link` (from pfi_htab_find() with the same
 * hash, after the last reserve). */
void pfi_htab_link(struct pfi_htab *t, struct pfi_hnode **link,
                   struct pfi_hnode *n, uint64_t hash);
/* Takes out n itself (not an entry of equal key).  Returns 1, or 0 when n
 * is not in the table. */
int pfi_htab_unlink(struct pfi_htab *t, struct pfi_hnode *n);
/* The first entry of a walk, or NULL. */
struct pfi_hnode *pfi_htab_first(const struct pfi_htab *t);
/* The entry after n, or NULL.  Taking n out after this call is safe. */
struct pfi_hnode *pfi_htab_next(const struct pfi_htab *t,
                                const struct pfi_hnode *n);

#endif
