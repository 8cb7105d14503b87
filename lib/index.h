/*
 * index.h - one indexing run of index.c, for the inputs beside the log
 * files: index-journal.c hands it the systemd journal's entries as log
 * lines.  A run is one transaction; its lines take the same path as a
 * file's, from the syslog envelope to the store.  Private to the write
 * side.
 */
#ifndef PFI_INDEX_H
#define PFI_INDEX_H

#include "write.h"

struct pfi_run;

/*
 * Prepares a run on st (no transaction yet): checks opts (may be NULL),
 * empties *rep and the message on st.  *out is set whenever it could be
 * made; end it with pfi_run_end().  PFI_OK, PFI_EINVAL or PFI_ENOMEM
 * (message on st).
 */
int pfi_run_new(struct pfi_run **out, pfi_store *st,
                const struct pfi_index_opts *opts,
                struct pfi_index_report *rep);
/* Begins the transaction and loads what the last run left open.
 * PFI_OK, PFI_EBUSY, PFI_ENOMEM or PFI_ERROR (message on st). */
int pfi_run_start(struct pfi_run *run);
/* opts->stop was raised: stop reading, commit what was read. */
int pfi_run_stopped(const struct pfi_run *run);
/* Passes a problem that does not stop the run to opts->warn. */
void pfi_run_warn(struct pfi_run *run, const char *msg);
/* A new input: its name for progress, the reference time (a file's
 * mtime) for the year of classic timestamps, and whether it goes on where
 * an earlier run stopped (write-overlap.h). */
void pfi_run_input(struct pfi_run *run, const char *name, time_t ref,
                   int reads_on);
/* Indexes one log line of the current input, as a file's line is
 * indexed.  PFI_OK, PFI_ENOMEM or PFI_ERROR. */
int pfi_run_line(struct pfi_run *run, const char *line, size_t len);
/* Counts a line of another program, from host, that was read but is not
 * kept. */
int pfi_run_skip(struct pfi_run *run, struct pfi_slice program,
                 struct pfi_slice host);
/*
 * Ends the run: commits when rc is PFI_OK (writing what the run still
 * holds), else rolls back; frees run (NULL is accepted).  Returns rc, or
 * the failure of the commit, with its message on st.
 */
int pfi_run_end(struct pfi_run *run, int rc);

#endif /* PFI_INDEX_H */
