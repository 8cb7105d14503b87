/*
 * htab.c - the chained hash table of htab.h.
 */
#include <stdlib.h>

#include "pfi-int.h"
#include "htab.h"

int pfi_htab_init(struct pfi_htab *t, size_t cap)
{
	t->b = calloc(cap, sizeof(*t->b));
	t->cap = t->b ? cap : 0;
	t->count = 0;
	return t->b ? PFI_OK : PFI_ENOMEM;
}

void pfi_htab_release(struct pfi_htab *t)
{
	free(t->b);
	t->b = NULL;
	t->cap = t->count = 0;
}

static struct pfi_hnode **bucket(const struct pfi_htab *t, uint64_t hash)
{
	return &t->b[hash & (t->cap - 1)];
}

int pfi_htab_reserve(struct pfi_htab *t)
{
	struct pfi_htab g;
	struct pfi_hnode *n, *next, **b;
	size_t i;

	if (t->count < t->cap)
		return PFI_OK;
	if (pfi_htab_init(&g, t->cap ? t->cap * 2 : 16) != PFI_OK)
		return PFI_ENOMEM;
	for (i = 0; i < t->cap; i++) {
		for (n = t->b[i]; n != NULL; n = next) {
			next = n->next;
			b = bucket(&g, n->hash);
			n->next = *b;
			*b = n;
		}
	}
	free(t->b);
	t->b = g.b;
	t->cap = g.cap;
	return PFI_OK;
}

struct pfi_hnode **pfi_htab_find(const struct pfi_htab *t, uint64_t hash,
                                 pfi_htab_eq *eq, const void *key)
{
	struct pfi_hnode **link = bucket(t, hash);

	while (*link != NULL && !((*link)->hash == hash && eq(*link, key)))
		link = &(*link)->next;
	return link;
}

void pfi_htab_link(struct pfi_htab *t, struct pfi_hnode **link,
                   struct pfi_hnode *n, uint64_t hash)
{
	n->hash = hash;
	n->next = *link;
	*link = n;
	t->count++;
}

int pfi_htab_unlink(struct pfi_htab *t, struct pfi_hnode *n)
{
	struct pfi_hnode **link = bucket(t, n->hash);

	while (*link != NULL && *link != n)
		link = &(*link)->next;
	if (*link == NULL)
		return 0;
	*link = n->next;
	t->count--;
	return 1;
}

/* The first entry of the buckets from i on. */
static struct pfi_hnode *first_from(const struct pfi_htab *t, size_t i)
{
	for (; i < t->cap; i++)
		if (t->b[i] != NULL)
			return t->b[i];
	return NULL;
}

struct pfi_hnode *pfi_htab_first(const struct pfi_htab *t)
{
	return first_from(t, 0);
}

struct pfi_hnode *pfi_htab_next(const struct pfi_htab *t,
                                const struct pfi_hnode *n)
{
	if (n->next != NULL)
		return n->next;
	return first_from(t, (size_t)(n->hash & (t->cap - 1)) + 1);
}
