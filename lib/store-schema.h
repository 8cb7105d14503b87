/*
 * store-schema.h - the index's schema (store-schema.c): the SQL that
 * creates it, step by step as versions added to it, and its indexes.
 */
#ifndef PFI_STORE_SCHEMA_H
#define PFI_STORE_SCHEMA_H

#include "store.h"

#define PFI_APPLICATION_ID 0x70666931   /* "pfi1" */
#define PFI_SCHEMA_VERSION 5

/*
 * SQLite sorts the keys of a new index in runs of at most the page cache
 * size, and with PRAGMA threads sorts several runs at once.  A small cache
 * while building indexes makes several runs out of a big table, so both
 * cores sort: building them all after a first run takes ~1 s less on
 * 5 million lines.
 */
#define PFI_CACHE_SQL "PRAGMA cache_size = -65536"
#define PFI_SORT_CACHE_SQL "PRAGMA cache_size = -4096"

extern const char pfi_schema_sql[];
extern const char pfi_stat_cells_sql[];   /* what schema 2 added */
extern const char pfi_sessions_sql[];
extern const char pfi_problems_sql[];     /* what schema 3 added */
extern const char pfi_event_counts_sql[]; /* what schema 4 added */
extern const char pfi_verdicts_sql[];     /* what schema 5 added */
extern const char pfi_line_ids_sql[];     /* made on a write (write-overlap.c) */
extern const char pfi_run_tables_sql[];   /* made on a write (write-runs.c) */

/* Refuses (PFI_ESCHEMA) an index that holds a trigger, a view, or a table
 * or index that pfi's schema does not create.  PFI_OK, PFI_ESCHEMA,
 * PFI_ENOMEM, PFI_ERROR. */
int pfi_schema_check_objects(pfi_store *st);

/* An index that only queries read (see pfi_query_indexes). */
struct pfi_index_def {
	const char *name;
	const char *sql;
};
extern const struct pfi_index_def pfi_query_indexes[];
extern const struct pfi_index_def pfi_run_indexes[];
/* Creates the schema in an empty file opened for writing. */
int pfi_schema_create(pfi_store *st);
/* Creates (1) or drops (0) the query indexes.  PFI_OK or PFI_ERROR. */
int pfi_store_query_indexes(pfi_store *st, int create);
/* Creates (1) or drops (0) the indexes of list defs. */
int pfi_store_indexes(pfi_store *st, const struct pfi_index_def *defs,
                      int create);

/* How a line was understood (line_counts.kind: a stored format). */
enum pfi_line_kind {
	PFI_LINE_POSTFIX = 0,   /* a Postfix line pfi understood */
	PFI_LINE_UNPARSED = 1,  /* a Postfix line pfi did not understand */
	PFI_LINE_FOREIGN = 2,   /* another program's line */
	PFI_LINE_NOSYSLOG = 3,  /* not a syslog line at all */
	PFI_LINE_VERDICT = 4,   /* a milter's or filter's verdict (verdict.c) */
};

#endif /* PFI_STORE_SCHEMA_H */
