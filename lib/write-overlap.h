/*
 * write-overlap.h - lines indexed once (write-overlap.c): a run asks,
 * line by line, whether the index already holds the line, and keeps the
 * identities of the lines it does index for the runs after it.  Private
 * to the write side.
 */
#ifndef PFI_WRITE_OVERLAP_H
#define PFI_WRITE_OVERLAP_H

#include "write.h"

struct pfi_overlap;

/* What a run knows of the lines indexed before it, empty until asked.
 * PFI_OK or PFI_ENOMEM. */
int pfi_overlap_new(struct pfi_overlap **out, pfi_store *st);
/* Frees o without writing (NULL is accepted). */
void pfi_overlap_free(struct pfi_overlap *o);

/* An input (file, standard input, journal source) begins: a new source,
 * whose lines may repeat those of the inputs before it (o may be NULL).
 * reads_on: it goes on where an earlier run stopped reading it (a file
 * read on, a journal after its cursor), so its first lines of a host's
 * latest second indexed are the ones that followed there, not repeats. */
void pfi_overlap_input(struct pfi_overlap *o, int reads_on);

/*
 * Whether a line of the current input repeats a line indexed before (by
 * another input, or another stretch of this one): *dup = 1, and the line
 * is to be skipped; else *dup = 0, and the line is noted as indexed.  env
 * is the line's envelope, or NULL for a line that is not a syslog line;
 * then `line` is its text and `time` the time it is filed under (the
 * last syslog line's before it).  PFI_OK, PFI_ENOMEM or PFI_ERROR.
 */
int pfi_overlap_check(struct pfi_overlap *o, const struct pfi_envelope *env,
                      const char *line, size_t len, int64_t time, int *dup);

/* Writes what the run still holds (before its commit).  PFI_OK,
 * PFI_ENOMEM or PFI_ERROR. */
int pfi_overlap_finish(struct pfi_overlap *o);

/* Makes the tables of line identities in an index opened for writing that
 * lacks them (made before they existed), filled from the raw lines it
 * keeps.  PFI_OK, PFI_EBUSY, PFI_ENOMEM, PFI_ESCHEMA or PFI_ERROR. */
int pfi_overlap_prepare(pfi_store *st);

#endif /* PFI_WRITE_OVERLAP_H */
