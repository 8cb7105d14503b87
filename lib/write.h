/*
 * write.h - the write side: what `pfi index` (index.c) and `pfi prune`
 * (prune.c) write into the index, on the store layer.  Private to the
 * library.
 *
 *   write-messages.c  a message's rows, and their reload when left open
 *   write-chunks.c    raw lines into compressed chunks
 *   write-counts.c    lines counted per hour and host by what they say
 *   write-sessions.c  the correlator's live sessions between runs
 *   write-verdicts.c  milters' and filters' verdicts, and their joins
 *   write-links.c     links between messages resolved after a run
 *   write-merge.c     a message's beginning indexed after its end
 *   write-rollup.c    the per-hour stats cells, rebuilt or changed
 *   write-schema.c    bringing an older index up to date
 *
 * Nothing here is called from the read side or the store layer.
 */
#ifndef PFI_WRITE_H
#define PFI_WRITE_H

#include "correlate.h"
#include "counted.h"
#include "store-lines.h"
#include "store-schema.h"

/* What one run writes with: state of the run, kept off the store handle. */
struct pfi_write {
	pfi_store *st;
	struct pfi_buf scratch;      /* encoding line lists */
	int tracking;                /* note touched messages (not a first run) */
	int64_t *touched;            /* messages whose records or links changed */
	size_t ntouched, cap;
	int64_t first_new_row;       /* lowest deliveries.id written this run,
	                                INT64_MAX: none */
	int64_t first_new_link;      /* lowest links.id written this run */
	struct pfi_sig_note {        /* write-verdicts.c: opendkim's verdict and
	                                its signature's domain, on two lines */
		char host[256], qid[PFI_QID_MAX + 1];
		int64_t row;         /* a verdict still without a domain, or 0 */
		int listed;          /* LogResults gave each signature's verdict */
		char domain[256], detail[128];   /* a signature seen first */
	} sig;
};

void pfi_write_init(struct pfi_write *w, pfi_store *st);
void pfi_write_release(struct pfi_write *w);
/* Notes a message whose records, links or parent the run changes (for a
 * resolved link, both its sides); nothing when not tracking. */
int pfi_write_touch(struct pfi_write *w, int64_t message);

/* ---- write-messages.c ---- */

/* Writes a message with its recipients and links (replacing an earlier
 * version of it).  PFI_OK or PFI_ERROR. */
int pfi_write_message(struct pfi_write *w, const struct pfi_msg *m, int open);
/* Writes a NOQUEUE reject row. */
int pfi_write_reject(struct pfi_write *w, const struct pfi_envelope *env,
                     const struct pfi_event *ev, int64_t line_id);
/* Writes a failed SASL login. */
int pfi_write_sasl_failure(struct pfi_write *w,
                           const struct pfi_envelope *env,
                           const struct pfi_event *ev);
/* Writes a problem line (problems.c): its level and folded kind. */
int pfi_write_problem(struct pfi_write *w, const struct pfi_envelope *env,
                      const char *level, const char *kind, int64_t line_id);
/* Loads the messages a previous run left open, for the correlator. */
int pfi_load_open(pfi_store *st, struct pfi_corr *c);

/* ---- write-verdicts.c ---- */

/* Writes a verdict (joined to msg_id when > 0); its row id into *row_id. */
int pfi_write_verdict(struct pfi_write *w, const struct pfi_envelope *env,
                      const struct pfi_verdict_read *v, int64_t line_id,
                      int64_t msg_id, int64_t *row_id);
/* Joins verdict row verdict_id to message msg_id. */
int pfi_write_verdict_joined(struct pfi_write *w, int64_t verdict_id,
                             int64_t msg_id);
/* A signature's domain and selector (opendkim's per-signature lines,
 * v->detail_only): given to the message's verdict, before or after it. */
int pfi_write_verdict_detail(struct pfi_write *w,
                             const struct pfi_envelope *env,
                             const struct pfi_verdict_read *v);
/* Verdict row verdict_id led to the NOQUEUE reject on line line_id. */
int pfi_write_verdict_rejected(struct pfi_write *w, int64_t verdict_id,
                               int64_t line_id);
/* Hands the correlator the SPF checks still waiting for a message. */
int pfi_load_held_verdicts(pfi_store *st, struct pfi_corr *c);

/* ---- write-chunks.c ---- */

struct pfi_chunker;
int pfi_chunker_new(struct pfi_chunker **out, pfi_store *st, int64_t first);
/* Adds a line (it gets the next id); writes a chunk when one is full. */
int pfi_chunker_add(struct pfi_chunker *c, const char *line, size_t len,
                    int64_t time);
/* Writes the lines not written yet. */
int pfi_chunker_flush(struct pfi_chunker *c);
void pfi_chunker_free(struct pfi_chunker *c);

/* ---- write-counts.c ---- */

struct pfi_counts;
int pfi_counts_new(struct pfi_counts **out);
/* Counts what one line says (repeat times), when it is counted: a
 * postscreen action, an smtpd connection or lost connection, a delivery
 * attempt.  PFI_OK or PFI_ENOMEM. */
int pfi_counts_note(struct pfi_counts *c, const struct pfi_envelope *env,
                    const struct pfi_event *ev, int64_t repeat);
/* Adds the sums to event_counts and empties them.  PFI_OK or PFI_ERROR. */
int pfi_counts_flush(struct pfi_counts *c, pfi_store *st);
void pfi_counts_free(struct pfi_counts *c);

/* ---- write-sessions.c ---- */

/* Empties the saved sessions (before a checkpoint saves those live now). */
int pfi_write_clear_sessions(struct pfi_write *w);
/* Saves one live session (the sink's session callback). */
int pfi_write_session(struct pfi_write *w, const struct pfi_session_rec *s);
/* Gives the correlator the sessions the last checkpoint saved. */
int pfi_load_sessions(pfi_store *st, struct pfi_corr *c);

/* ---- write-links.c ---- */

/* The relation of a link of kind `kind` (enum pfi_link_rel) to a message
 * on another host (far) or the same one: filter, relay, forward, bounce,
 * requeue. */
const char *pfi_link_relation(int kind, int far);
/* Resolves links whose other side may have arrived since `since_msg`,
 * noting both sides of each resolved link as touched. */
int pfi_write_links(struct pfi_write *w, int64_t since_msg,
                    int64_t since_link);
/* Link ids a first run resolves at a time (65536; tests make it small). */
extern int64_t pfi_link_slice;

/* ---- write-merge.c ---- */

/* Folds each message the run leaves open (ids from since_msg) into the
 * stored message that continues it, if one does (a beginning indexed
 * after its end); *joined says how many, each touched.  PFI_OK,
 * PFI_ENOMEM, PFI_ESCHEMA or PFI_ERROR. */
int pfi_write_join_beginnings(struct pfi_write *w, int64_t since_msg,
                              size_t *joined);

/* ---- write-rollup.c ---- */

struct pfi_rollup_delta;
/* Rebuilds every cell (a new index, a migration, after pruning). */
int pfi_rollup_rebuild_all(pfi_store *st);
/* Keeps a snapshot of the index as it is now, to change the cells by
 * difference at the end of the run.  *out is NULL when no snapshot can
 * be had (the cells are then rebuilt). */
int pfi_rollup_track(pfi_store *st, struct pfi_rollup_delta **out);
/* Changes the cells by what the touched messages (and the run's NOQUEUE
 * rejects, from w->first_new_row) count now less what they counted in
 * the snapshot, or rebuilds them all when the difference does not fit or
 * there is no snapshot; then frees d. */
int pfi_rollup_refresh(struct pfi_write *w, struct pfi_rollup_delta *d);
/* Frees a snapshot without changing the cells (a failed run). */
void pfi_rollup_untrack(struct pfi_rollup_delta *d);

/* ---- write-schema.c ---- */

/* Brings an index opened for writing up to the schema this build writes.
 * PFI_OK, PFI_EBUSY or PFI_ERROR. */
int pfi_write_migrate(pfi_store *st);

#endif /* PFI_WRITE_H */
