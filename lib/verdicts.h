/*
 * verdicts.h - reading the verdicts of milters and filters (verdicts.c)
 * for trace and search, on the store layer.  Private to the library.
 */
#ifndef PFI_VERDICTS_H
#define PFI_VERDICTS_H

#include "store.h"
#include "store-cols.h"

/*
 * The verdicts of message `id`, oldest first, strings in pool p; with
 * `chain`, also those of the messages it came from through content
 * filters (the checks at the edge, for the copy the filter re-queued).
 * *out is malloc'd (free it); none in an index older than schema 5.
 * PFI_OK, PFI_ENOMEM or PFI_ERROR.
 */
int pfi_load_verdicts(pfi_store *st, struct pfi_pool *p, int64_t id,
                      int chain, const struct pfi_verdict **out,
                      size_t *count);

/* The verdicts that led to the NOQUEUE reject logged on line `line` at
 * `time` (an SPF check), likewise. */
int pfi_load_reject_verdicts(pfi_store *st, struct pfi_pool *p, int64_t line,
                             int64_t time, const struct pfi_verdict **out,
                             size_t *count);

/* Whether the index holds any verdict (schema 5 and a row). */
int pfi_has_verdicts(pfi_store *st);

/*
 * The SQL condition "the row's message d.message, or one it came from
 * through content filters, has a verdict of kind ? and result ?", or the
 * NOQUEUE reject row d was led to by one (four text parameters: kind,
 * result, kind, result).
 */
extern const char pfi_verdict_cond_sql[];

#endif
