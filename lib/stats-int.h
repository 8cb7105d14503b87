/*
 * stats-int.h - what stats.c (the query) and rollup.c (the per-hour
 * cells `pfi index` keeps) share: the counted rows, how one is read, and
 * the encoding of a cell's delays.
 *
 * A cell sums the counted rows of one UTC hour that agree on the keys
 * stats groups or lists them by (host, recipient domain, status, DSN,
 * reject code and class); its delays are kept value by value, so
 * percentiles over cells are exactly those over rows.  Sender domains
 * have cells of their own (crossed with the rest there would be a cell
 * per pair of domains), so `--by sender-domain`, like `--by client` and
 * filters, reads rows.
 */
#ifndef PFI_STATS_INT_H
#define PFI_STATS_INT_H

#include "store.h"

#define PFI_HOUR INT64_C(3600000000)   /* microseconds */

/* Kinds of stat_cells rows. */
enum pfi_cell_kind {
	PFI_CELL_RCPT = 0,       /* counted recipient rows */
	PFI_CELL_RECEIVED = 1,   /* original messages that arrived */
	PFI_CELL_NOTIFY = 2,     /* bounce notifications */
	PFI_CELL_NETWORK = 3,    /* network deliveries (n), over TLS (m) */
	PFI_CELL_SENDER = 4,     /* counted recipient rows by sender domain */
};

/* A final delay (seconds) and the number of outcomes that had it. */
struct pfi_delay_n {
	double delay;
	int64_t n;
};

/* One counted recipient row (n = 1), or a cell of n of them. */
struct pfi_srow {
	const char *status, *dsn, *domain, *code, *class, *host, *client;
	const char *sender_domain;
	int64_t time;            /* a cell: the start of its hour */
	int64_t n;               /* rows */
	int64_t deferred_once;   /* of them, deferred at least once */
	const struct pfi_delay_n *delays;   /* final outcomes with a delay */
	size_t ndelays;
	struct pfi_delay_n one;  /* a row's own delay */
	char sd_buf[256];        /* a row's sender domain */
};

/* One arrived message or notification (n = 1), or a cell of them. */
struct pfi_smsg {
	int64_t received;        /* 0 when not seen arriving */
	int64_t n, bytes;
	const char *tls, *host, *client, *sender_domain;
	int original;            /* 1 received, 0 notification */
	char sd_buf[256];
};

/* SELECT of every counted recipient row; append a condition (filter.c's
 * pfi_where_sql over deliveries `d`).  A copy up to PFI_STATS_HOPS filter
 * or requeue hops from its original counts as the original. */
extern const char pfi_stats_rows_sql[];
#define PFI_STATS_HOPS 4
/* SELECT of arrived messages and notifications `m`: head, then any
 * joins, then kind (a WHERE clause); append " AND " and a condition. */
extern const char pfi_stats_msgs_head[];
extern const char pfi_stats_msgs_kind[];

/* Prepares head + the condition of w + tail, binding w from ?first. */
int pfi_stats_prepare(pfi_store *st, const char *head,
                      const struct pfi_where *w, const char *tail, int first,
                      sqlite3_stmt **out);
/* Binds [since, until) as ?1 and ?2; 0 leaves that side open. */
void pfi_stats_bind_period(sqlite3_stmt *s, int64_t since, int64_t until);

/* stats-more.c: what stats reads beside the counted rows. */
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
};
int pfi_stats_more_get(pfi_store *st, const struct pfi_filter *f, size_t top,
                       struct pfi_stats_more *m);
void pfi_stats_more_release(struct pfi_stats_more *m);

/* Reads a row of pfi_stats_rows_sql / pfi_stats_msgs_sql. */
void pfi_stats_read_row(sqlite3_stmt *s, struct pfi_srow *r);
void pfi_stats_read_msg(sqlite3_stmt *s, struct pfi_smsg *m);

/* A delay as whole microseconds, and back: rows and cells both go
 * through this, so a cell gives back exactly the rows' values. */
int64_t pfi_delay_us(double seconds);
double pfi_delay_seconds(int64_t us);

/* Floor of t / PFI_HOUR. */
int64_t pfi_hour_of(int64_t t);

/* Decodes a cell's delays blob into *out (grown as needed, *cap its
 * size), *n entries.  PFI_OK, PFI_ENOMEM or PFI_ERROR (malformed). */
int pfi_delays_decode(const void *blob, size_t size,
                      struct pfi_delay_n **out, size_t *cap, size_t *n);

/* Whether the index keeps cells (an index of an older schema may not). */
int pfi_rollup_present(pfi_store *st);

/* Rebuilds every cell (a new index, a migration, after pruning). */
int pfi_rollup_rebuild_all(pfi_store *st);
/* From now until pfi_rollup_refresh, note the messages whose records or
 * links change (st->delta), keeping a snapshot of the index as it is. */
int pfi_rollup_track(pfi_store *st);
/* Notes a message whose records, links or parent the run changes (for a
 * resolved link, both its sides); nothing when not tracking. */
int pfi_rollup_touch(pfi_store *st, int64_t message);
/* Changes the cells by what the noted messages (and the run's NOQUEUE
 * rejects, from st->first_new_row) count now less what they counted
 * before, and stops tracking. */
int pfi_rollup_refresh(pfi_store *st);
/* Stops tracking without changing the cells (a failed run). */
void pfi_rollup_untrack(pfi_store *st);

#endif
