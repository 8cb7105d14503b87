/*
 * counted.h - what `pfi stats` counts, shared by the read side (stats.c,
 * stats-more.c, metrics.c) and the write side's cell builder
 * (write-rollup.c): the counted rows and how one is read, the encoding of
 * a cell's delays, and the helpers both bind periods with (counted.c).
 *
 * A cell sums the counted rows of one UTC hour that agree on the keys
 * stats groups or lists them by (host, recipient domain, status, DSN,
 * reject code and class); its delays are kept value by value, so
 * percentiles over cells are exactly those over rows.  Sender domains
 * have cells of their own (crossed with the rest there would be a cell
 * per pair of domains), so `--by sender-domain`, like `--by client` and
 * filters, reads rows.
 */
#ifndef PFI_COUNTED_H
#define PFI_COUNTED_H

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
/* Its parts, for queries that need the counted rows in another shape:
 * the 11 columns pfi_stats_read_row reads, the joins from `d` to the
 * original `m` (after "FROM deliveries d"), and the condition that a row
 * counts. */
extern const char pfi_stats_rows_cols[];
extern const char pfi_stats_rows_joins[];
extern const char pfi_stats_rows_counted[];
/* The relations of a copy that carries on the same mail (a content
 * filter's re-injection, a postsuper -r requeue), as an SQL list. */
#define PFI_HOP_RELATIONS "('filter', 'requeue')"
/* SELECT of arrived messages and notifications `m`: head, then any
 * joins, then kind (a WHERE clause); append " AND " and a condition. */
extern const char pfi_stats_msgs_head[];
extern const char pfi_stats_msgs_kind[];

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
int pfi_cells_present(pfi_store *st);

/* A delay in microseconds and how many outcomes had it; a difference
 * takes delays away with negative counts. */
struct pfi_delay_us {
	int64_t us, n;
};
/* Encodes delays (sorted, folded: each distinct value once) as a cell's
 * blob: (gap, count) varints. */
int pfi_delays_encode(const struct pfi_delay_us *v, size_t n,
                      struct pfi_buf *out);
/* The next delay of an encoded blob: *us is the previous one on entry. */
int pfi_delays_next(const unsigned char **p, const unsigned char *end,
                    int64_t *us, int64_t *count);

#endif /* PFI_COUNTED_H */
