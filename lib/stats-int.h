/*
 * stats-int.h - between stats.c and stats-more.c: what stats reads
 * beside the counted rows (counted.h).
 */
#ifndef PFI_STATS_INT_H
#define PFI_STATS_INT_H

#include "counted.h"
#include "smap.h"

struct pfi_stats_more {
	int64_t deferrals, deferred_recipients;
	struct pfi_count *domains;          /* deferring domains, owned */
	size_t ndomains;
	int64_t senders, recipients;        /* distinct */
	int64_t level_counts[5];            /* warning, error, fatal, panic,
	                                       reject_warning */
	int64_t clock_warnings;
	struct pfi_stats_problem *problems; /* owned kinds */
	size_t nproblems;
	struct pfi_stats_verdict *verdicts; /* static words */
	size_t nverdicts;
	struct pfi_stats_signing *signing;  /* owned domains */
	size_t nsigning;
};
int pfi_stats_more_get(pfi_store *st, const struct pfi_filter *f, size_t top,
                       struct pfi_stats_more *m);
void pfi_stats_more_release(struct pfi_stats_more *m);

/* ---- stats-verdicts.c ---- */

/* The (kind, result) pairs of SPEC's vocabulary: slots, in its order. */
size_t pfi_stats_verdict_nslots(void);
/* Adds to slots[] the messages with each verdict: of the period, or of
 * the counted rows f selects (w, compiled from f, when it narrows).
 * PFI_OK or an error (message on st). */
int pfi_stats_verdict_totals(pfi_store *st, const struct pfi_filter *f,
                             const struct pfi_where *w, int64_t *slots);
/* slots[] as the verdicts with messages, with their shares of their kind
 * (dkim=signed: -1), into out (room for every slot); how many. */
size_t pfi_stats_verdict_list(const int64_t *slots,
                              struct pfi_stats_verdict *out);
/* The --by key of a row, borrowed until the next call. */
typedef const char *pfi_stats_key_fn(void *ctx, const struct pfi_srow *r);
/* Adds, per key, the messages with each verdict to `by` (key -> int64_t
 * [nslots]): keys of the verdicts' own rows (time, host) or, with
 * row_keys, of their messages' counted recipient rows.  PFI_OK or an
 * error (message on st). */
int pfi_stats_verdicts_by(pfi_store *st, const struct pfi_filter *f,
                          const struct pfi_where *w, int row_keys,
                          pfi_stats_key_fn *key_of, void *ctx,
                          struct pfi_smap *by);

#endif /* PFI_STATS_INT_H */
