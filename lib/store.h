/*
 * store.h - the SQLite index: the handle, its statements, and the writes
 * the indexer makes.  Private to the library.
 */
#ifndef PFI_STORE_H
#define PFI_STORE_H

#include <sqlite3.h>
#include <sys/types.h>

#include "correlate.h"

#define PFI_APPLICATION_ID 0x70666931   /* "pfi1" */
#define PFI_SCHEMA_VERSION 3

extern const char pfi_schema_sql[];
extern const char pfi_stat_cells_sql[];   /* what schema 2 added */
extern const char pfi_sessions_sql[];
extern const char pfi_problems_sql[];     /* what schema 3 added */

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
/* Creates (1) or drops (0) the query indexes.  PFI_OK or PFI_ERROR. */
int pfi_store_query_indexes(pfi_store *st, int create);
/* Creates (1) or drops (0) the indexes of list defs. */
int pfi_store_indexes(pfi_store *st, const struct pfi_index_def *defs,
                      int create);

enum pfi_line_kind {
	PFI_LINE_POSTFIX = 0,   /* a Postfix line pfi understood */
	PFI_LINE_UNPARSED = 1,  /* a Postfix line pfi did not understand */
	PFI_LINE_FOREIGN = 2,   /* another program's line */
	PFI_LINE_NOSYSLOG = 3,  /* not a syslog line at all */
};

/* Statements prepared once per handle, reset and rebound for each use. */
enum pfi_stmt {
	ST_INSERT_CHUNK,
	ST_FIND_CHUNK,
	ST_MESSAGE_LINES,
	ST_LATE_LINES,
	ST_INSERT_LATE_LINE,
	ST_INSERT_UNPARSED,
	ST_INSERT_MESSAGE,
	ST_PUT_MESSAGE_LINES,
	ST_DELETE_DELIVERIES,
	ST_INSERT_DELIVERY,
	ST_INSERT_SASL_FAILURE,
	ST_INSERT_PROBLEM,
	ST_DELETE_LINKS,
	ST_INSERT_LINK,
	ST_COUNT_LINES,
	ST_INSERT_SESSION,
	ST__COUNT
};

struct pfi_store {
	sqlite3 *db;
	char *path;                  /* as given, for messages */
	char *file;                  /* what SQLite opens: the directory
	                                resolved, the last name as given */
	dev_t dev;                   /* the file the trust checks passed */
	ino_t ino;
	int writable;
	struct pfi_err err;
	sqlite3_stmt *stmt[ST__COUNT];
	struct pfi_buf scratch;      /* encoding line lists */
	struct pfi_chunk *chunk;     /* the chunk read last, decompressed */
	int schema;                  /* PRAGMA user_version */
	struct pfi_rollup_delta *delta;   /* a run's changes to the stats
	                                     cells (rollup.c); NULL: none */
	int64_t first_new_row;       /* lowest deliveries.id written this run */
	int64_t first_new_link;      /* lowest links.id written this run */
};

/* Records the database's own message on the handle; returns `code`. */
int pfi_store_dberr(pfi_store *st, int code, const char *what);
/* Runs SQL without results.  PFI_OK or PFI_ERROR (message on st). */
int pfi_store_exec(pfi_store *st, const char *sql);
/* A prepared statement of the handle, reset and with bindings cleared. */
sqlite3_stmt *pfi_store_stmt(pfi_store *st, enum pfi_stmt which);
/* Steps a write statement to completion.  PFI_OK or PFI_ERROR. */
int pfi_store_step_done(pfi_store *st, sqlite3_stmt *s, const char *what);
/* Prepares, runs and finalises one write statement, binding ?1 = arg if
 * it has parameters; `what` heads the message of a failure. */
int pfi_store_run(pfi_store *st, const char *sql, int64_t arg,
                  const char *what);
/* The integer a one-row query gives, or -1 when it fails. */
int64_t pfi_store_int(pfi_store *st, const char *sql);
/* Whether the text a one-row query gives is `want` (any case): a PRAGMA
 * journal_mode, read or set, says the mode the index is in. */
int pfi_store_text_is(pfi_store *st, const char *sql, const char *want);
/* BEGIN IMMEDIATE: the index's one writer, or PFI_EBUSY saying that
 * another process writes it. */
int pfi_store_begin_write(pfi_store *st);
/* MAX(id) of a table, 0 when empty; negative status on failure. */
int64_t pfi_store_max_id(pfi_store *st, const char *table);

/* Binds a C string (NULL binds NULL). */
int pfi_bind_str(sqlite3_stmt *s, int i, const char *v);
/* Binds a slice (absent binds NULL). */
int pfi_bind_slice(sqlite3_stmt *s, int i, struct pfi_slice v);
/* Binds a number, NULL when negative (unknown). */
int pfi_bind_num(sqlite3_stmt *s, int i, double v);
int pfi_bind_int(sqlite3_stmt *s, int i, int64_t v);  /* NULL when < 0 */
/* Binds a time, NULL when 0. */
int pfi_bind_time(sqlite3_stmt *s, int i, int64_t v);

/* Writes a message with its recipients and links (replacing an earlier
 * version of it).  PFI_OK or PFI_ERROR. */
int pfi_store_put_message(pfi_store *st, const struct pfi_msg *m, int open);
/* Writes a NOQUEUE reject row. */
int pfi_store_put_reject(pfi_store *st, const struct pfi_envelope *env,
                         const struct pfi_event *ev, int64_t line_id);
/* Writes a failed SASL login. */
int pfi_store_put_sasl_failure(pfi_store *st, const struct pfi_envelope *env,
                               const struct pfi_event *ev);
/* Writes a problem line (problems.c): its level and folded kind. */
int pfi_store_put_problem(pfi_store *st, const struct pfi_envelope *env,
                          const char *level, const char *kind,
                          int64_t line_id);
/* Loads the messages a previous run left open, for the correlator. */
int pfi_store_load_open(pfi_store *st, struct pfi_corr *c);
/* store-sessions.c: the correlator's live sessions between runs.  Empties
 * the saved ones (before a checkpoint saves those live now). */
int pfi_store_clear_sessions(pfi_store *st);
/* Saves one live session (the sink's session callback). */
int pfi_store_put_session(pfi_store *st, const struct pfi_session_rec *s);
/* Gives the correlator the sessions the last checkpoint saved. */
int pfi_store_load_sessions(pfi_store *st, struct pfi_corr *c);
/* The relation of a link of kind `kind` (enum pfi_link_rel) to a message
 * on another host (far) or the same one: filter, relay, forward, bounce,
 * requeue. */
const char *pfi_link_relation(int kind, int far);
/* Resolves links whose other side may have arrived since `since_msg`. */
int pfi_store_resolve_links(pfi_store *st, int64_t since_msg,
                            int64_t since_link);

/* chunks.c: raw lines in compressed chunks, and message line lists. */
struct pfi_chunker;
int pfi_chunker_new(struct pfi_chunker **out, pfi_store *st, int64_t first);
/* Adds a line (it gets the next id); writes a chunk when one is full. */
int pfi_chunker_add(struct pfi_chunker *c, const char *line, size_t len,
                    int64_t time);
/* Writes the lines not written yet. */
int pfi_chunker_flush(struct pfi_chunker *c);
void pfi_chunker_free(struct pfi_chunker *c);
/* The id the next line read will get. */
int64_t pfi_store_next_line(pfi_store *st);
/* Ascending ids as varint deltas into out, and back (*out malloc'd). */
int pfi_ids_encode(const int64_t *ids, size_t n, struct pfi_buf *out);
int pfi_ids_decode(const void *data, size_t size, int64_t **out, size_t *n);
/* The line ids of message `id`, ascending (*ids malloc'd). */
int pfi_store_message_lines(pfi_store *st, int64_t id, int64_t **ids,
                            size_t *n);
typedef int (*pfi_line_cb)(void *ctx, int64_t id, const char *line,
                           size_t len);
/* Calls cb for each of the lines `ids` (ascending) that the index holds. */
int pfi_store_read_lines(pfi_store *st, const int64_t *ids, size_t n,
                         pfi_line_cb cb, void *ctx);
/* Frees the store's decompressed chunk (on close, and after writes). */
void pfi_store_forget_chunk(pfi_store *st);
/* Registers pfi_message_text(message_id) on the connection. */
int pfi_store_register_functions(pfi_store *st);

/* The recipient domain of an address, lower-cased into buf. */
const char *pfi_addr_domain(const char *addr, char *buf, size_t size);

#endif /* PFI_STORE_H */
