/*
 * write-runs.h - what each index run leaves beside its lines
 * (write-runs.c): the lines it counted per host and kind, and a record of
 * the run itself, both written in the run's transaction.  Private to the
 * write side.
 */
#ifndef PFI_WRITE_RUNS_H
#define PFI_WRITE_RUNS_H

#include "smap.h"
#include "write.h"

/* Runs index_runs keeps: the latest, older ones are deleted. */
#define PFI_RUNS_KEPT 500

/* One run, as index_runs records it. */
struct pfi_run_rec {
	int64_t start, end;     /* wall clock, microseconds */
	double seconds;         /* from start to end, monotonic */
	int64_t lines;          /* lines indexed */
	int64_t duplicates;     /* lines skipped as indexed before */
	int64_t files;          /* files it read lines of */
	int64_t messages;       /* messages it completed */
	int stopped;            /* 1: stopped early (opts->stop) */
};

/*
 * Makes line_host_counts and index_runs in an index opened for writing
 * that lacks them (open.c), in a transaction of its own: the lines
 * counted before are put under host "", since which host they came from
 * was not kept.  PFI_OK, PFI_EBUSY or PFI_ERROR (message on st).
 */
int pfi_runs_prepare(pfi_store *st);
/* Counts one line of kind (enum pfi_line_kind) from host ("" for none)
 * in m, a table of int64_t made with pfi_smap_init(m, sizeof(int64_t)).
 * PFI_OK or PFI_ENOMEM. */
int pfi_host_lines_note(struct pfi_smap *m, struct pfi_slice host, int kind);
/* Adds the counts of m to line_host_counts.  PFI_OK or PFI_ERROR. */
int pfi_host_lines_flush(const struct pfi_smap *m, pfi_store *st);
/* Records the run rec in index_runs and drops the runs past the last
 * PFI_RUNS_KEPT.  PFI_OK or PFI_ERROR (message on st). */
int pfi_runs_record(pfi_store *st, const struct pfi_run_rec *rec);

#endif /* PFI_WRITE_RUNS_H */
