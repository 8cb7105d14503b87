/*
 * stats-int.h - between stats.c and stats-more.c: what stats reads
 * beside the counted rows (counted.h).
 */
#ifndef PFI_STATS_INT_H
#define PFI_STATS_INT_H

#include "counted.h"

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
/* Whether the filter selects more than a period (then the stats cells,
 * which know only hours, cannot answer). */
int pfi_stats_filter_narrows(const struct pfi_filter *f);

#endif /* PFI_STATS_INT_H */
