/*
 * store.h - the store layer: the SQLite index's handle, its prepared
 * statements and the small wrappers every part of the library uses to
 * run SQL.  Both the write side (index.c, prune.c, write-*.c) and the
 * read side (trace.c, info.c, search.c, stats*.c, metrics.c, filter.c)
 * sit on it; it calls neither.  Private to the library.
 *
 * By concern: store-cols.h binds values and reads columns,
 * store-schema.h is the schema, store-lines.h the raw lines, counted.h
 * what stats counts, write.h the write side.
 */
#ifndef PFI_STORE_H
#define PFI_STORE_H

#include <signal.h>
#include <sqlite3.h>
#include <sys/types.h>

#include "pfi-int.h"
#include "store-cols.h"

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
	ST_COUNT_HOST_LINES,
	ST_INSERT_SESSION,
	ST_INSERT_VERDICT,
	ST_JOIN_VERDICT,
	ST_SET_VERDICT_DOMAIN,
	ST_REJECT_VERDICT,
	ST_OWN_VERDICTS,
	ST_FILTER_PARENT,
	ST_REJECT_VERDICTS,
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
	struct pfi_chunk *chunk;     /* the chunk read last, decompressed */
	int schema;                  /* PRAGMA user_version */
	/* Set by pfi_store_interrupt (a signal handler may call it): every
	 * statement stops until pfi_store_resume, also those started later. */
	volatile sig_atomic_t stopped;
};

/* Records the database's own message on the handle; returns `code`. */
int pfi_store_dberr(pfi_store *st, int code, const char *what);
/* Runs SQL without results.  PFI_OK or PFI_ERROR (message on st). */
int pfi_store_exec(pfi_store *st, const char *sql);
/* The handle's prepared statement in slot `which` (prepared from sql the
 * first time), reset and with bindings cleared; NULL on failure. */
sqlite3_stmt *pfi_store_stmt(pfi_store *st, enum pfi_stmt which,
                             const char *sql);
/* Steps a write statement to completion.  PFI_OK or PFI_ERROR. */
int pfi_store_step_done(pfi_store *st, sqlite3_stmt *s, const char *what);
/* Prepares, runs and finalises one write statement, binding ?1 = arg if
 * it has parameters; `what` heads the message of a failure. */
int pfi_store_run(pfi_store *st, const char *sql, int64_t arg,
                  const char *what);
/* Prepares a query; PFI_ERROR ("cannot query index") when it fails. */
int pfi_store_prepare(pfi_store *st, const char *sql, sqlite3_stmt **s);
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

/* Opens the file (trusted, configured, schema checked) into a new handle
 * (*out, set whenever one could be made); pfi_store_open (open.c) does
 * the rest. */
int pfi_store_attach(pfi_store **out, const char *path, int flags);
/* A second, read-only connection to the file the handle opened, with the
 * same safeguards (no link followed, the file the trust checks passed,
 * defensive, no triggers), for queries the caller writes. */
int pfi_store_open_reader(pfi_store *st, sqlite3 **db);
/* Closes the connection and frees the handle's own state. */
void pfi_store_detach(pfi_store *st);

#endif /* PFI_STORE_H */
