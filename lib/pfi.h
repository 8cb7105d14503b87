/*
 * pfi.h - the public interface of libpfi, the Postfix log index.
 *
 * libpfi reads Postfix maillog files (plain or compressed), parses and
 * correlates their lines into messages and per-recipient deliveries, keeps
 * them in an SQLite index, and answers queries from it.
 *
 * Conventions (see man/libpfi.3):
 * - Functions that can fail return an int: PFI_OK (0) or a negative
 *   enum pfi_status code.  Outputs come first, as `T **out`.
 * - A value returned through `T **out` belongs to the caller and is freed
 *   with the matching pfi_T_free().  Every _free/_close accepts NULL.
 * - Strings inside a returned record are borrowed: they live as long as the
 *   record's owner (the trace, the info, the query row).
 * - A readable message for the last failure on a store is pfi_errmsg().
 * - The library never writes to stdout or stderr, never exits, and never
 *   reads the environment; pfi_out writes only to the FILE it is given.
 * - Times are microseconds since the Unix epoch (UTC), as int64_t; 0 means
 *   unknown.  Durations are seconds, as double; a negative value means
 *   unknown.
 */
#ifndef PFI_H
#define PFI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PFI_EXTERN __attribute__((visibility("default")))
#else
#define PFI_EXTERN
#endif

/* ---- errors ---------------------------------------------------------- */

enum pfi_status {
	PFI_OK = 0,
	PFI_ERROR = -1,     /* generic failure */
	PFI_ENOMEM = -2,    /* out of memory */
	PFI_EIO = -3,       /* cannot read or write a file; truncated input */
	PFI_EPARSE = -4,    /* input is not in the expected form */
	PFI_ENOTFOUND = -5, /* nothing matched */
	PFI_EINVAL = -6,    /* invalid argument */
	PFI_ESCHEMA = -7,   /* not a pfi index, or an unknown schema version */
	PFI_EOF = -8,       /* end of iteration; not a failure */
	PFI_EBUSY = -9      /* the index is locked by another writer */
};

/* A static English text for a status code.  Never NULL. */
PFI_EXTERN const char *pfi_strerror(int code);

/* The library version as "MAJOR.MINOR.PATCH".  Static, never NULL. */
PFI_EXTERN const char *pfi_version(void);

/*
 * Options structs carry the version of their layout first, as libgit2's
 * do: declare one with its _INIT macro (or set .version to its _VERSION),
 * so that a program built against this header keeps working with a later
 * library.  A function given a version it does not know (0 included)
 * fails with PFI_EINVAL; a NULL options pointer means the defaults.
 */

/* ---- the store (the SQLite index) -------------------------------------- */

typedef struct pfi_store pfi_store;

enum pfi_open_flags {
	PFI_OPEN_READONLY = 0, /* fail with PFI_ENOTFOUND if it does not exist */
	PFI_OPEN_WRITE = 1,    /* create (mode 0600, parent dirs 0700) if absent */
};

/*
 * Opens the index at `path`.  On success *out is a handle to close with
 * pfi_store_close().  On failure *out is still set when a handle could be
 * made, so pfi_errmsg(*out) explains; close it all the same.
 * Returns PFI_OK, PFI_ENOTFOUND (read-only and absent), PFI_ESCHEMA (not a
 * pfi index or a newer schema), PFI_EBUSY, PFI_EIO or PFI_ENOMEM.
 */
PFI_EXTERN int pfi_store_open(pfi_store **out, const char *path, int flags);

/* Closes the index, rolling back anything uncommitted.  Accepts NULL. */
PFI_EXTERN void pfi_store_close(pfi_store *st);

/* The message for the last failure on `st`.  Borrowed; never NULL. */
PFI_EXTERN const char *pfi_errmsg(const pfi_store *st);

/* ---- indexing ---------------------------------------------------------- */

/* What a run is doing when it reports progress. */
enum pfi_index_step {
	PFI_STEP_READ,      /* reading lines */
	PFI_STEP_SAVE,      /* saving the messages still open and the counts */
	PFI_STEP_INDEXES,   /* building the query indexes (a first run) */
	PFI_STEP_LINKS,     /* linking messages: filter, relay, bounce */
	PFI_STEP_STATS,     /* updating the statistics cells */
	PFI_STEP_COMMIT     /* committing */
};

/* Progress of a run: every few thousand lines while reading, then once
 * as each finishing step begins. */
struct pfi_progress {
	const char *path;       /* the file being read (borrowed); NULL in
	                           the finishing steps */
	uint64_t bytes_done;    /* compressed bytes consumed in this file */
	uint64_t bytes_total;   /* its size on disk; 0 if unknown (stdin) */
	uint64_t lines;         /* lines read in this run so far */
	enum pfi_index_step step;   /* what the run does now */
	uint64_t run_bytes_done;    /* bytes read of all the files this run
	                               reads (may pass run_bytes_total when
	                               a file grows meanwhile) */
	uint64_t run_bytes_total;   /* what they held to read when the run
	                               began; 0 if unknown (stdin, journal) */
	unsigned file, files;       /* the file read, from 1, of how many
	                               this run reads; 0 for the journal */
};

#define PFI_INDEX_OPTIONS_VERSION 1
#define PFI_INDEX_OPTIONS_INIT { .version = PFI_INDEX_OPTIONS_VERSION }

struct pfi_index_opts {
	unsigned int version;      /* PFI_INDEX_OPTIONS_VERSION */
	/* Called for each problem that does not stop the run (a file that
	 * cannot be read or is truncated): one line naming file and line. */
	void (*warn)(void *ctx, const char *msg);
	/* Called now and then during a long run; may be NULL. */
	void (*progress)(void *ctx, const struct pfi_progress *p);
	void *ctx;                 /* passed to the callbacks */
	time_t now;                /* "now" for stdin's classic timestamps; 0 = time() */
	volatile const int *stop;  /* when *stop becomes non-zero, stop at the
	                              next line and commit what is complete */
	int follow;                /* the files are live: a last line without
	                              its newline is still being written, so
	                              it is left for the next run */
	/* Open state is bounded, so that a log of messages that never finish
	 * cannot make every later run slower.  A message no line named for
	 * queue_lifetime seconds (Postfix's maximal_queue_lifetime; 0: its
	 * default, 5 days; -1: never) plus two days of log time is closed,
	 * its pending recipients "unknown"; held messages wait.  Past max_open
	 * open messages (0: PFI_MAX_OPEN_DEFAULT; -1: no cap) the longest
	 * silent are closed so, and warn() says how many. */
	int64_t queue_lifetime;
	int64_t max_open;
	/* Evidence whose mtime and host zone no longer tell: `year` (0: from
	 * the mtime) is the year of each input's first classic line (those
	 * have none; rollovers still step it); `log_tz` names the zone the
	 * caller set TZ to for stamps without an offset, recorded per file
	 * (pfi_info); NULL: the process's local zone. */
	int year;
	const char *log_tz;
};

#define PFI_MAX_OPEN_DEFAULT 50000

struct pfi_index_report {
	uint64_t files_read;     /* files with new lines */
	uint64_t files_skipped;  /* files already indexed in full */
	uint64_t files_failed;   /* files that could not be read to the end */
	uint64_t lines;          /* new lines read */
	uint64_t postfix_lines;  /* of which lines of Postfix programs */
	uint64_t unparsed_lines; /* of those, lines pfi did not understand */
	uint64_t foreign_lines;  /* lines of other programs */
	uint64_t nosyslog_lines; /* of those, not syslog lines at all */
	uint64_t messages;       /* messages completed (written) this run */
	uint64_t open_messages;  /* still open at the end (kept for next run) */
	uint64_t lost_messages;  /* closed by the open-state limits */
	uint64_t deliveries;     /* recipient rows written, rejects included */
	uint64_t rejects;        /* of which rejected recipients */
	uint64_t verdict_lines;  /* verdicts of milters and filters (not in
	                            postfix_lines or foreign_lines) */
	uint64_t duplicate_lines; /* lines read that the index held already
	                             (overlapping inputs): skipped, in none
	                             of the counts above */
};

/*
 * Indexes `paths` (files; "-" is standard input) into `st`, oldest content
 * first whatever the order given.  Files already indexed are recognised by
 * identity and content fingerprint and only their new lines are read.
 * A line the index holds already (inputs that overlap: the same hours
 * twice, a copy of a log) is skipped and counted as a duplicate.
 * Messages still open at the end are kept in the index and completed by a
 * later run.  `opts` and `report` may be NULL.
 * Returns PFI_OK; PFI_EIO if any file failed (the others are indexed, and
 * each failure went to opts->warn); PFI_ENOMEM; PFI_ERROR on a database
 * failure (nothing of the failing batch is kept).
 */
PFI_EXTERN int pfi_index_paths(pfi_store *st, const char *const *paths,
                               size_t npaths, const struct pfi_index_opts *opts,
                               struct pfi_index_report *report);

/* ---- the systemd journal ----------------------------------------------- */

/*
 * A set of systemd journals to index: the system's own, and directories
 * or files of copied or exported journals (evidence), read through
 * libsystemd's sd-journal.  Each is a source with its own cursor in the
 * index ("system", or the path as given).
 */
typedef struct pfi_journal pfi_journal;

enum pfi_journal_kind {
	PFI_JOURNAL_SYSTEM,   /* the system journal; path NULL */
	PFI_JOURNAL_DIR,      /* the journal files of a directory */
	PFI_JOURNAL_FILE      /* one journal file */
};

/* 1 when this libpfi was built with libsystemd and reads journals, else 0
 * (then pfi_journal_add() fails with PFI_EINVAL, saying so). */
PFI_EXTERN int pfi_journal_supported(void);
/* An empty set, to free with pfi_journal_free().  PFI_OK or PFI_ENOMEM. */
PFI_EXTERN int pfi_journal_new(pfi_journal **out);
/*
 * Opens a source and adds it to j.  Returns PFI_OK; PFI_EIO when it cannot
 * be opened or holds no journal file this user can read; PFI_EINVAL (no
 * journal support, a path given or missing for the kind, too many
 * sources); PFI_ENOMEM.  pfi_journal_errmsg(j) says why.
 */
PFI_EXTERN int pfi_journal_add(pfi_journal *j, enum pfi_journal_kind kind,
                               const char *path);
/*
 * Waits until a source may have new entries, or timeout_ms (-1: no
 * limit) passes, or a signal arrives.  Returns 1 when something changed
 * (always on the first call, which starts watching), 0 when not, or
 * PFI_EIO.
 */
PFI_EXTERN int pfi_journal_wait(pfi_journal *j, int timeout_ms);
/* The message of the last failure on j.  Borrowed; never NULL. */
PFI_EXTERN const char *pfi_journal_errmsg(const pfi_journal *j);
PFI_EXTERN void pfi_journal_free(pfi_journal *j);

/*
 * Indexes the entries of j's sources that follow the cursor the index
 * keeps for each, oldest source first, in one run (one transaction, with
 * the new cursors: a failed or interrupted run leaves the index as it
 * was, a stopped one keeps what it read).  Entries of Postfix programs
 * (SYSLOG_IDENTIFIER postfix/..., postfix-out/... as in files), of the
 * milters and filters whose verdicts pfi reads, and the other entries of
 * the mail facility become lines like a log file's, with
 * the entry's own time, host (_HOSTNAME) and PID (SYSLOG_PID, else _PID);
 * the rest are counted as other programs' lines and not kept.  `report`
 * counts sources in files_read and files_skipped, entries in lines.
 * Returns as pfi_index_paths(); PFI_EIO when a source cannot be read.
 */
PFI_EXTERN int pfi_index_journal(pfi_store *st, pfi_journal *j,
                                 const struct pfi_index_opts *opts,
                                 struct pfi_index_report *report);

/* ---- pruning ------------------------------------------------------------- */

struct pfi_prune_report {
	int64_t messages;      /* messages removed */
	int64_t deliveries;    /* recipient rows removed, rejects included */
	int64_t lines;         /* raw lines removed */
	int64_t bytes_before;  /* size of the index before, and after (-1:
	                          a dry run, which does not know) */
	int64_t bytes_after;
	int64_t rejects;       /* of the deliveries, those with status
	                          rejected (as pfi_info counts them) */
};

/*
 * Removes what ended before `before` (microseconds): finished messages
 * whose last line is older, with their rows, lines and verdicts, NOQUEUE
 * rejects, failed logins and unjoined verdicts older than it, and raw
 * lines nothing kept refers to; then gives the space back (VACUUM).
 * Messages still open are kept whatever their age.  `rep` may be NULL.
 * Returns PFI_OK, PFI_EBUSY (another process writes) or PFI_ERROR.
 */
PFI_EXTERN int pfi_prune(pfi_store *st, int64_t before,
                         struct pfi_prune_report *rep);
/*
 * What pfi_prune(st, before, rep) would remove, removing nothing: the
 * same steps in a transaction that is rolled back, so the counts are
 * exact (bytes_after is -1).  Returns as pfi_prune.
 */
PFI_EXTERN int pfi_prune_dry_run(pfi_store *st, int64_t before,
                                 struct pfi_prune_report *rep);

/* ---- records ------------------------------------------------------------ */

/*
 * One recipient's delivery, or one rejected recipient: a `pfi search` row
 * and a trace recipient.  NULL strings are unknown; `from` is "" for the
 * null sender.  Numbers are -1 when unknown.
 */
struct pfi_delivery {
	int64_t time;          /* final attempt, or the reject line */
	const char *host;      /* MTA host that logged it */
	const char *queue_id;  /* NULL for NOQUEUE rejects */
	const char *message_id;
	const char *from;
	const char *to;
	const char *orig_to;
	const char *domain;    /* recipient domain, lower case */
	const char *status;    /* SPEC vocabulary */
	const char *dsn;
	const char *relay;
	double delay;
	double delays[4];      /* before_qmgr, in_qmgr, conn_setup, transmission */
	int attempts;          /* deferred attempts before the final state */
	const char *response;  /* server reply, or reject reason */
	const char *client;    /* client host name */
	const char *client_ip;
	const char *subject;
	int64_t size;
	/* search rows: the verdicts on the message and on those it came
	 * from through content filters, oldest first (trace: none here;
	 * the message has them) */
	const struct pfi_verdict *verdicts;
	size_t nverdicts;
	/* search rows: the SASL login and the inbound TLS session of the
	 * message (NULL when none; trace: the message has them) */
	const char *sasl_username;
	const char *tls_protocol;
	const char *tls_cipher;
};

/*
 * What a milter or filter beside Postfix decided about a message
 * (opendkim, opendmarc, an SPF policy server, amavis, rspamd,
 * clamav-milter).  kind is "dkim", "spf", "dmarc", "spam" or "virus";
 * result is SPEC's word for it; domain and detail are NULL when the line
 * did not say; score is meaningful only when has_score.
 */
struct pfi_verdict {
	int64_t time;
	const char *program;
	const char *kind;
	const char *result;
	const char *domain;    /* signing or checked domain, or identity */
	double score;
	int has_score;
	const char *detail;    /* selector, virus names, SPF scope, policy */
};

/* SPEC's verdict kinds, and the results each may have: NULL-terminated
 * lists of static strings.  pfi_verdict_results is NULL for an unknown
 * kind. */
PFI_EXTERN const char *const *pfi_verdict_kinds(void);
PFI_EXTERN const char *const *pfi_verdict_results(const char *kind);

struct pfi_link {
	const char *queue_id;
	const char *host;
	const char *relation;  /* "filter", "relay" or "bounce" */
};

/* One message: one (host, queue ID) lifetime. */
struct pfi_message {
	const char *queue_id;
	const char *host;
	const char *message_id;
	const char *from;      /* "" null sender, NULL unknown */
	int64_t size;
	int64_t nrcpt;
	const char *client;
	const char *client_ip;
	const char *sasl_username;
	const char *subject;
	const char *tls_protocol;
	const char *tls_cipher;
	int64_t received;      /* arrival time */
	int64_t removed;       /* 0 while still queued */
	int probe;             /* an address probe (verify, sendmail -bv):
	                          its recipients were tested, not sent */
	struct pfi_link parent;           /* parent.queue_id NULL if none */
	const struct pfi_link *children;
	size_t nchildren;
	const struct pfi_delivery *recipients;
	size_t nrecipients;
	const char *const *lines;         /* raw log lines, oldest first */
	const size_t *line_lens;          /* their lengths: a line is kept
	                                     byte for byte, NUL bytes too */
	size_t nlines;
	const struct pfi_verdict *verdicts;   /* oldest first */
	size_t nverdicts;
};

/* ---- trace --------------------------------------------------------------- */

typedef struct pfi_trace pfi_trace;

/*
 * Finds the message(s) named by `id` (a queue ID or a Message-ID, with or
 * without angle brackets) and every message linked to them (content filter
 * hops, relays to indexed hosts, bounce notifications), oldest first.
 * Returns PFI_OK, PFI_ENOTFOUND, PFI_ENOMEM or PFI_ERROR.
 */
PFI_EXTERN int pfi_trace_new(pfi_trace **out, pfi_store *st, const char *id);
PFI_EXTERN size_t pfi_trace_count(const pfi_trace *t);
/* The i-th message, borrowed from `t`; NULL when i is out of range. */
PFI_EXTERN const struct pfi_message *pfi_trace_message(const pfi_trace *t,
                                                       size_t i);
PFI_EXTERN void pfi_trace_free(pfi_trace *t);

/* ---- info ---------------------------------------------------------------- */

struct pfi_file_info {
	const char *path;
	int64_t lines;
	int64_t bytes;   /* uncompressed bytes read */
	int64_t first;   /* first and last timestamp */
	int64_t last;
	/* How its stamps were read: the year its first classic line took
	 * (0: no line needed one) and from what ("--year", "the file's
	 * mtime" ...), and the zone of stamps without an offset ("local:
	 * Europe/Berlin", "UTC (--log-tz)", "offsets in the lines"); NULL
	 * when not known (read before pfi kept them). */
	int year;
	const char *year_from;
	const char *zone;
};

struct pfi_count {
	const char *key;
	int64_t count;
};

/* A systemd journal source read into the index (pfi_index_journal). */
struct pfi_journal_info {
	const char *source;  /* "system", or a directory or file path */
	int64_t entries;     /* entries read from it, all programs */
	int64_t first;       /* time of the first and last entry read */
	int64_t last;
};

struct pfi_info {
	const struct pfi_file_info *files;
	size_t nfiles;
	int64_t lines;           /* postfix_lines + foreign_lines +
	                            verdict_lines */
	int64_t postfix_lines;   /* lines of Postfix programs */
	int64_t unparsed_lines;  /* of those, not understood */
	int64_t foreign_lines;   /* other programs, or not syslog at all */
	int64_t verdict_lines;   /* verdicts of milters and filters (opendkim,
	                            amavis ...): in lines, not in postfix_lines
	                            or foreign_lines */
	const struct pfi_count *unparsed_by_program;
	size_t nunparsed_by_program;
	int64_t messages, deliveries, rejects;
	int64_t verdicts;        /* verdicts indexed */
	int64_t verdicts_joined; /* of those, joined to their message */
	int64_t queued;          /* messages still in the queue at the end of
	                            what is indexed (postqueue's count) */
	int64_t held;            /* of those, on hold */
	/* Postfix's warning:, error:, fatal: and panic: lines (pfi stats
	 * lists them by kind); 0 in an index made before pfi kept them. */
	int64_t warnings, errors, fatals, panics;
	int64_t first, last;
	int64_t db_bytes;
	const struct pfi_journal_info *journals;   /* oldest first */
	size_t njournals;
	int64_t duplicate_lines; /* lines read again (overlapping inputs) and
	                            skipped: not in lines */
};

/*
 * Calls cb(ctx, program, line, len) for each line of a Postfix program
 * that pfi did not understand, oldest first, at most `limit` (0: all); the
 * strings are borrowed for the call, and the line (len bytes, as logged)
 * may hold NUL bytes.  A non-zero return from cb stops the walk and is
 * returned.  PFI_OK, PFI_ENOMEM or PFI_ERROR.
 */
PFI_EXTERN int pfi_unparsed_each(pfi_store *st, int64_t limit,
                                 int (*cb)(void *ctx, const char *program,
                                           const char *line, size_t len),
                                 void *ctx);

/* Fills *out with what is indexed.  PFI_OK, PFI_ENOMEM or PFI_ERROR. */
PFI_EXTERN int pfi_info_new(struct pfi_info **out, pfi_store *st);
PFI_EXTERN void pfi_info_free(struct pfi_info *info);

/* ---- filters and search ----------------------------------------------------- */

/*
 * What selects records, for search and stats.  NULL/0 fields do not
 * filter; all given fields must match.  Addresses and domains compare
 * case-insensitively; a domain "*.example.com" also matches subdomains.
 */
struct pfi_filter {
	const char *from;            /* sender address ("" or "<>": null sender) */
	const char *to;              /* recipient (to or orig_to) */
	const char *domain;          /* recipient domain */
	const char *sender_domain;
	const char *subject;         /* case-insensitive substring */
	const char *const *status;   /* any of these SPEC statuses */
	size_t nstatus;
	const char *dsn;             /* "5.1.1", "5.*", "5.1.*" */
	const char *client;          /* IP, host name or CIDR (v4 or v6) */
	const char *relay;           /* relay host name or address */
	const char *host;            /* MTA host that logged it */
	const char *message_id;      /* with or without angle brackets */
	const char *sasl_user;
	const char *grep;            /* PCRE2 over the message's raw lines */
	int64_t since;               /* inclusive; 0: no bound */
	int64_t until;               /* exclusive; 0: no bound */
	const char *const *verdict;  /* "KIND=RESULT" each, all must hold for
	                                the row's message or one it came from
	                                through a content filter */
	size_t nverdict;
};

typedef struct pfi_search pfi_search;

#define PFI_SEARCH_OPTIONS_VERSION 1
#define PFI_SEARCH_OPTIONS_INIT { .version = PFI_SEARCH_OPTIONS_VERSION }

struct pfi_search_opts {
	unsigned int version;            /* PFI_SEARCH_OPTIONS_VERSION */
	const struct pfi_filter *filter; /* NULL: every row */
	int64_t limit;                   /* at most this many rows; 0: all */
	int reverse;                     /* oldest first instead of newest */
};

/*
 * Starts a search of delivery rows (rejects included) matching
 * opts->filter, newest first (oldest first when opts->reverse), at most
 * opts->limit rows.  Rows stream: memory does not grow with the result.
 * Returns PFI_OK, PFI_EINVAL (a bad filter value: CIDR, regex, DSN
 * pattern, status; pfi_errmsg says which), PFI_ENOMEM or PFI_ERROR.
 */
PFI_EXTERN int pfi_search_new(pfi_search **out, pfi_store *st,
                              const struct pfi_search_opts *opts);
/* The next row, borrowed until the next call.  PFI_OK, PFI_EOF, PFI_ERROR. */
PFI_EXTERN int pfi_search_next(pfi_search *q, const struct pfi_delivery **row);
/* Whether the index searched holds any verdict, so that rows may carry
 * some (a table can leave their column out when not). */
PFI_EXTERN int pfi_search_has_verdicts(const pfi_search *q);
PFI_EXTERN void pfi_search_free(pfi_search *q);
/* The number of rows matching opts->filter (limit and order do not
 * count).  PFI_OK, PFI_EINVAL, PFI_ERROR. */
PFI_EXTERN int pfi_search_count(pfi_store *st,
                                const struct pfi_search_opts *opts,
                                int64_t *count);

/* ---- output --------------------------------------------------------------- */

enum pfi_format {
	PFI_FMT_TABLE,
	PFI_FMT_JSON,
	PFI_FMT_NDJSON,
	PFI_FMT_CSV,
	PFI_FMT_TSV
};

enum pfi_out_flags {
	PFI_OUT_UTC = 1,     /* times in UTC ("Z") instead of local time */
	PFI_OUT_COLOR = 2,   /* colour (table format only) */
	PFI_OUT_ESCAPE = 4,  /* no longer needed: every format escapes control
	                        characters (kept so that callers still build) */
	PFI_OUT_CSV_RAW = 8, /* csv/tsv: no ' before text cells that begin
	                        with = + - @ tab or CR (see pfi_out_new) */
};

typedef struct pfi_out pfi_out;

/*
 * An emitter of records in one format, writing to `fp` (which the caller
 * owns).  A document is a list of records under `list_key`:
 *   begin(list_key) { record_begin, fields..., record_end }* end
 * Records of one document should have the same keys in the same order.
 * json prints {"list_key":[...]} (a bare array if list_key is NULL; with
 * list_key "" the document is exactly one record, printed as a bare object);
 * ndjson one object per line; csv/tsv a header row of the first record's
 * keys, nested objects flattened as "parent.child", arrays as JSON text;
 * table aligned columns (width from pfi_out_set_width), buffered until end.
 * Text is escaped in every format: JSON per RFC 8259 (invalid UTF-8 as
 * \ufffd); CSV, TSV and table show control characters as \t, \n, \r,
 * \xNN and C1 controls as \u0080..\u009f; invalid UTF-8 is U+FFFD in CSV
 * and TSV, \xNN in tables; TSV also writes a backslash as \\.  A csv or tsv
 * text cell that begins with = + - @ tab or CR gets a ' before it (csv:
 * and quotes), so that a spreadsheet does not run it as a formula (OWASP
 * "CSV Injection"), unless PFI_OUT_CSV_RAW; numbers are never changed.
 * Values are C strings (a NUL byte ends them), but for pfi_out_strn().
 * Returns PFI_OK, PFI_ENOMEM, PFI_EINVAL (unknown format).
 */
PFI_EXTERN int pfi_out_new(pfi_out **out, FILE *fp, enum pfi_format fmt,
                           unsigned flags);
PFI_EXTERN void pfi_out_set_width(pfi_out *o, int columns);
/*
 * Table: the columns (by name, NULL-terminated) a table wider than its
 * width may leave out, least useful first; they go one by one until the
 * others fit with room for the last column, which takes the rest and wraps
 * its text.  No cell of a column shown is ever cut.  `columns` is
 * borrowed until pfi_out_end(); NULL (the default) leaves none out.
 */
PFI_EXTERN void pfi_out_set_optional(pfi_out *o, const char *const *columns);
PFI_EXTERN int pfi_out_begin(pfi_out *o, const char *list_key);
PFI_EXTERN int pfi_out_record_begin(pfi_out *o);
PFI_EXTERN int pfi_out_str(pfi_out *o, const char *key, const char *val);
/* A string of n bytes, which may hold NUL bytes (a raw log line): JSON
 * writes them as \u0000, the other formats escape them as controls. */
PFI_EXTERN int pfi_out_strn(pfi_out *o, const char *key, const char *val,
                            size_t n);
PFI_EXTERN int pfi_out_int(pfi_out *o, const char *key, int64_t val);
PFI_EXTERN int pfi_out_num(pfi_out *o, const char *key, double val);
PFI_EXTERN int pfi_out_bool(pfi_out *o, const char *key, int val);
PFI_EXTERN int pfi_out_null(pfi_out *o, const char *key);
/* A time as an RFC3339 string (null when t == 0). */
PFI_EXTERN int pfi_out_time(pfi_out *o, const char *key, int64_t t);
PFI_EXTERN int pfi_out_object_begin(pfi_out *o, const char *key);
PFI_EXTERN int pfi_out_object_end(pfi_out *o);
PFI_EXTERN int pfi_out_array_begin(pfi_out *o, const char *key);
PFI_EXTERN int pfi_out_array_end(pfi_out *o);
PFI_EXTERN int pfi_out_record_end(pfi_out *o);
/* Finishes the document.  PFI_EIO if writing to fp failed at any point. */
PFI_EXTERN int pfi_out_end(pfi_out *o);
PFI_EXTERN void pfi_out_free(pfi_out *o);

/*
 * Writes the n bytes at s to fp the way a table cell shows them, so that
 * log text cannot drive a terminal: \t, \n, \r, \xNN for other control
 * characters and DEL (a NUL byte is \x00, not an end), \u0080..\u009f for
 * C1 controls, \xNN for each byte that is not valid UTF-8.
 * Returns PFI_OK, PFI_EINVAL (fp NULL), PFI_ENOMEM or PFI_EIO.
 */
PFI_EXTERN int pfi_term_write(FILE *fp, const char *s, size_t n);

/*
 * Formats time `t` as RFC3339 into buf (at least 40 bytes): UTC with "Z"
 * when utc is non-zero, else local time with its offset; microseconds are
 * printed only when non-zero.  Returns buf.
 */
PFI_EXTERN char *pfi_time_format(char *buf, size_t size, int64_t t, int utc);

/*
 * Parses a user time `spec` relative to `now` (seconds) into microseconds:
 *  - ages: "90s", "15m", "2h", "3d", "1w", "-1h", "1h ago", "2 hours ago";
 *  - "now", "today", "yesterday", "yesterday 14:00", "today 9:30";
 *  - "13:40" (today, or yesterday when that is later than now);
 *  - "Nov 22", "Nov 22 13:40" (any case, or the month's whole name): the
 *    latest such time not later than now;
 *  - "2026-11-02", "2026-11-02T10:00", "2026-11-02 10:00:00", RFC3339
 *    with an offset, "@1793491200".
 * A time without an offset is local time, or UTC when `utc` is non-zero
 * (pfi_time_parse: local).  Example: at 2026-11-23T10:00 local, "13:40"
 * is 2026-11-22T13:40 and "Nov 23" 2026-11-23T00:00.
 * Returns PFI_OK or PFI_EINVAL (out unchanged).
 */
PFI_EXTERN int pfi_time_parse_zone(int64_t *out, const char *spec,
                                   time_t now, int utc);
PFI_EXTERN int pfi_time_parse(int64_t *out, const char *spec, time_t now);

/* ---- stats ----------------------------------------------------------------- */

/*
 * Delivery health over a period (the SPEC stats document).  Counting:
 * `received` counts original messages (an smtpd client= or a pickup
 * uid=; not content-filter re-injections or relay copies), arriving in the
 * period; `notifications` counts bounce notifications.  Recipient outcomes
 * count each original recipient once, by its final outcome: a `filtered`
 * row whose content-filter child is indexed is replaced by the child's
 * rows, and rows of relay copies, notifications and local-forward copies
 * are not counted.  NOQUEUE rejects are recipients (rejected).  A row
 * counts in the period of its own time; filters on the message (client,
 * sender, subject ...) read the original message, not its filter copy.
 */
enum pfi_stats_by {
	PFI_BY_NONE,
	PFI_BY_DAY,            /* "2026-11-02" */
	PFI_BY_HOUR,           /* "2026-11-02T09" */
	PFI_BY_DOMAIN,         /* recipient domain */
	PFI_BY_SENDER_DOMAIN,
	PFI_BY_DSN,
	PFI_BY_STATUS,
	PFI_BY_HOST,           /* the MTA host that logged it */
	PFI_BY_CLIENT          /* the client IP of the original message */
};

#define PFI_STATS_OPTIONS_VERSION 1
#define PFI_STATS_OPTIONS_INIT { .version = PFI_STATS_OPTIONS_VERSION }

struct pfi_stats_opts {
	unsigned int version;            /* PFI_STATS_OPTIONS_VERSION */
	const struct pfi_filter *filter; /* NULL: all; since/until = the period */
	enum pfi_stats_by by;            /* by[] rows; PFI_BY_NONE: none */
	size_t top;                      /* length of top/slow lists; 0: 10 */
	size_t by_limit;                 /* at most this many by[] rows but
	                                    for day/hour: the rest is summed
	                                    into a last row "(other)"; 0: all */
	double sla;                      /* SLA threshold, seconds; <= 0: 300 */
	int utc;                         /* day/hour keys and the heatmap in
	                                    UTC instead of local time */
	int rows_only;                   /* 1: read every record instead of
	                                    the per-hour cells `pfi index`
	                                    keeps (same answer, slower; for
	                                    checking them) */
};

/* The count fields of the totals and of each by[] row. */
struct pfi_stats_counts {
	int64_t received;       /* original messages arrived (-1: not split
	                           by this key, see msg_level) */
	int64_t notifications;  /* bounce notifications (-1 likewise) */
	int64_t bytes_received; /* sum of their sizes (-1 likewise) */
	int64_t recipients;     /* every counted recipient outcome */
	int64_t delivered, deferred, bounced, expired, rejected, discarded,
	        held, deleted;
	int64_t filtered;       /* handed to a filter whose child is not indexed */
	int64_t deferred_once;  /* recipients deferred at least once */
	double bounce_rate;     /* bounced / (recipients - rejected); 0 if none */
	double defer_rate;      /* deferred_once / (recipients - rejected) */
};

struct pfi_stats_verdict;

struct pfi_stats_group {
	const char *key;              /* NULL when the record has no value */
	struct pfi_stats_counts c;
	/* Messages with each verdict under this key (see pfi_stats): the
	 * verdict's own day, hour or host; for the other keys, each key of
	 * the message's counted recipients (so rows need not add up to the
	 * totals).  A key only verdicts have is a row with no recipients. */
	const struct pfi_stats_verdict *verdicts;
	size_t nverdicts;
};

struct pfi_stats_domain {
	const char *domain;
	int64_t recipients, delivered, deferred, bounced, expired, rejected;
	int64_t delays;          /* outcomes with a delay (sent/bounced/expired) */
	double p95, max;         /* of those; -1 when none */
};

struct pfi_stats_reject {
	const char *class;  /* relay_denied, unknown_user, rbl,
	                       sender_helo_client, policy_milter, other */
	const char *code;   /* "554 5.7.1" */
	int64_t count;
};

/* Problem lines of one level and kind (numbers, hosts, addresses folded). */
struct pfi_stats_problem {
	const char *level;  /* warning, error, fatal, panic, reject_warning */
	const char *kind;   /* "N: queue file size limit exceeded" */
	int64_t count, first, last;
};

/* Messages by a verdict of the milters and filters: of those with a
 * verdict of the kind, the share with this result. */
struct pfi_stats_verdict {
	const char *kind, *result;   /* SPEC's words */
	int64_t messages;            /* messages (a NOQUEUE reject counts as
	                                one) with this verdict */
	double ratio;                /* of those with any result of the kind */
};

/* Outbound signing: messages from a signing domain's senders, and how
 * many opendkim signed. */
struct pfi_stats_signing {
	const char *domain;
	int64_t messages, signed_messages;
	double ratio;                /* signed / messages; -1 when none */
};

struct pfi_stats {
	int64_t since, until;              /* the period; 0: open */
	struct pfi_stats_counts total;
	int64_t delays;                    /* final outcomes with a delay */
	double p50, p95, p99, max;         /* nearest rank; -1 when none */
	double sla_threshold;              /* seconds */
	double sla_within_ratio;           /* delivered within it / delivered
	                                      with a delay; -1 when none */
	double tls_inbound_ratio;          /* received over TLS / received; -1 none */
	double tls_outbound_ratio;         /* share of network deliveries over TLS; -1 none */
	const struct pfi_count *tls_protocols;   /* inbound, by protocol */
	size_t ntls_protocols;
	const struct pfi_stats_domain *top_domains;   /* by recipients */
	size_t ntop_domains;
	const struct pfi_count *top_sender_domains;   /* by recipients */
	size_t ntop_sender_domains;
	const struct pfi_stats_domain *slow_domains;  /* by p95, highest first */
	size_t nslow_domains;
	const struct pfi_count *dsn;       /* non-sent outcomes by DSN */
	size_t ndsn;
	const struct pfi_stats_reject *rejects;  /* by class, then count */
	size_t nrejects;
	int64_t sasl_failures;             /* failed SASL logins in the period */
	const struct pfi_count *sasl_clients;
	size_t nsasl_clients;
	const struct pfi_stats_group *by;  /* with opts->by, in key order */
	size_t nby;
	const struct pfi_stats_group *days;  /* always: per day, in order */
	size_t ndays;
	int64_t volume[7][24];   /* recipients by weekday (0 = Monday) x hour */
	int64_t bounces[7][24];  /* bounced recipients likewise */
	/* Of the matching records (every hop, not only originals): deferred
	 * delivery attempts, the records that had any, and the recipient
	 * domains with most attempts. */
	int64_t deferrals, deferred_records;
	const struct pfi_count *deferring_domains;
	size_t ndeferring_domains;
	int64_t senders, distinct_recipients;   /* distinct addresses */
	/* Postfix's own problem lines in the period (levels warning, error,
	 * fatal, panic; smtpd's reject_warning), most frequent kinds first,
	 * and the clock warnings among them that distort delays. */
	int64_t warnings, errors, fatals, panics, reject_warnings;
	const struct pfi_stats_problem *problems;
	size_t nproblems;
	int64_t clock_warnings;
	/* Verdicts of the milters and filters on the matching messages (and
	 * on those they came from through content filters), by kind, then
	 * result in SPEC's order; outbound signing by signing domain, most
	 * signed first.  by[] rows carry the verdicts per key; signing is
	 * not split. */
	const struct pfi_stats_verdict *verdicts;
	size_t nverdicts;
	const struct pfi_stats_signing *signing;
	size_t nsigning;
};

/*
 * Computes the stats of the records matching opts->filter.  On success
 * *out belongs to the caller (pfi_stats_free); its strings live as long.
 * Returns PFI_OK, PFI_EINVAL (a bad filter value; pfi_errmsg says which),
 * PFI_ENOMEM or PFI_ERROR.
 */
PFI_EXTERN int pfi_stats_new(struct pfi_stats **out, pfi_store *st,
                             const struct pfi_stats_opts *opts);
PFI_EXTERN void pfi_stats_free(struct pfi_stats *s);

/* The name of a --by key ("day", "sender-domain" ...) and back; the
 * parser returns PFI_OK or PFI_EINVAL. */
PFI_EXTERN const char *pfi_stats_by_name(enum pfi_stats_by by);
PFI_EXTERN int pfi_stats_by_parse(enum pfi_stats_by *out, const char *name);

/* ---- metrics --------------------------------------------------------------- */

#define PFI_METRICS_OPTIONS_VERSION 1
#define PFI_METRICS_OPTIONS_INIT { .version = PFI_METRICS_OPTIONS_VERSION }

struct pfi_metrics_opts {
	unsigned int version; /* PFI_METRICS_OPTIONS_VERSION */
	size_t top;         /* recipient domains with series of their own (the
	                       most recipients); the rest are "other"; 0: 20 */
	int64_t run_end;    /* end of the last index run the caller made
	                       (microseconds), shown when later than the last
	                       run the index records; 0: none */
	double run_seconds; /* how long that run took */
};

/*
 * Renders the index as the Prometheus text exposition (format 0.0.4):
 * HELP and TYPE for every family, the families of man pfi-metrics(1).
 * Reads in one transaction.  On success *out belongs to the caller
 * (pfi_metrics_free).  `opts` may be NULL.  Returns PFI_OK, PFI_EINVAL,
 * PFI_ESCHEMA (an index without stats cells), PFI_ENOMEM or PFI_ERROR;
 * pfi_errmsg(st) says why.
 */
typedef struct pfi_metrics pfi_metrics;
PFI_EXTERN int pfi_metrics_new(pfi_metrics **out, pfi_store *st,
                               const struct pfi_metrics_opts *opts);
/* The exposition: NUL-terminated, *len bytes (len may be NULL); it lives
 * as long as m. */
PFI_EXTERN const char *pfi_metrics_text(const pfi_metrics *m, size_t *len);
PFI_EXTERN void pfi_metrics_free(pfi_metrics *m);

/*
 * A number that changes whenever another handle or process commits to
 * the index (SQLite's data_version of `st`'s connection), so that a server
 * can keep a rendering until the index changes.
 * Returns PFI_OK or PFI_ERROR.
 */
PFI_EXTERN int pfi_metrics_stamp(pfi_store *st, uint64_t *out);

/* ---- interactive sessions: stopping, completing, read-only SQL -------- */

/*
 * Makes the query running on `st` (in another thread, or the signal
 * handler of this one) stop soon; it then fails with PFI_ERROR and the
 * message "interrupted", and so does every later query on `st` until
 * pfi_store_resume(st): a command of many queries stops whole, wherever
 * it was.  Safe to call from a signal handler; NULL and a store with
 * nothing running are fine.
 */
PFI_EXTERN void pfi_store_interrupt(pfi_store *st);
/* Lets queries on `st` run again after pfi_store_interrupt. */
PFI_EXTERN void pfi_store_resume(pfi_store *st);

/* What pfi_complete_values() completes. */
enum pfi_complete_kind {
	PFI_COMPLETE_RECIPIENT,     /* recipient addresses */
	PFI_COMPLETE_SENDER,        /* envelope senders */
	PFI_COMPLETE_DOMAIN,        /* recipient domains, lower case */
	PFI_COMPLETE_SENDER_DOMAIN, /* sender domains, lower case */
	PFI_COMPLETE_HOST,          /* MTA hosts of the log */
	PFI_COMPLETE_QUEUE_ID       /* queue IDs */
};

/* Rows a completion reads at most: the most recently indexed ones. */
#define PFI_COMPLETE_RECENT 20000

/* Receives one value; returning non-zero stops the completion. */
typedef int pfi_complete_fn(void *ctx, const char *value);

/*
 * Calls fn for each distinct value of `kind` that starts with `prefix`
 * (any case, but queue IDs), at most `max` of them, in order, among the
 * PFI_COMPLETE_RECENT most recently indexed rows: cheap on any index.
 * The value is borrowed for the call.  Returns PFI_OK, PFI_EINVAL or
 * PFI_ERROR (pfi_errmsg(st) says why).
 */
PFI_EXTERN int pfi_complete_values(pfi_store *st, enum pfi_complete_kind kind,
                                   const char *prefix, size_t max,
                                   pfi_complete_fn *fn, void *ctx);

/*
 * Read-only SQL on an index.  pfi_sql_open() opens a connection of its
 * own, read-only, whose authorizer allows only reading (no write, ATTACH,
 * PRAGMA with a value, temp objects, load_extension), and which refuses
 * any statement SQLite does not call read-only.  It has the documented
 * views pfi_messages, pfi_deliveries, pfi_rejects and pfi_files (see
 * pfi-repl(1)); the storage tables are readable too, but may change.
 */
typedef struct pfi_sql pfi_sql;

enum pfi_sql_type { PFI_SQL_NULL, PFI_SQL_INT, PFI_SQL_REAL, PFI_SQL_TEXT };

/* *out is set even on failure when it could be made (pfi_sql_errmsg says
 * why); close it all the same.  PFI_OK, PFI_EINVAL, PFI_EIO, PFI_ESCHEMA
 * or PFI_ENOMEM. */
PFI_EXTERN int pfi_sql_open(pfi_sql **out, pfi_store *st);
/* Closes the connection.  Accepts NULL. */
PFI_EXTERN void pfi_sql_close(pfi_sql *q);
/* The message of the last failure on q; never NULL, owned by q. */
PFI_EXTERN const char *pfi_sql_errmsg(const pfi_sql *q);
/*
 * Prepares the first statement of *sql and advances *sql past it.
 * PFI_OK, PFI_EOF (nothing but blanks or comments was left) or PFI_EINVAL
 * (invalid, or refused because it would not only read).
 */
PFI_EXTERN int pfi_sql_prepare(pfi_sql *q, const char **sql);
/* The next row: PFI_OK, PFI_EOF when done, PFI_ERROR or PFI_ENOMEM. */
PFI_EXTERN int pfi_sql_step(pfi_sql *q);
/* The shape and values of the current statement and row; strings are
 * borrowed until the next step.  A BLOB reads as text of *len bytes. */
PFI_EXTERN int pfi_sql_columns(const pfi_sql *q);
PFI_EXTERN const char *pfi_sql_column_name(pfi_sql *q, int i);
PFI_EXTERN int pfi_sql_column_type(pfi_sql *q, int i);  /* pfi_sql_type */
PFI_EXTERN int64_t pfi_sql_column_int(pfi_sql *q, int i);
PFI_EXTERN double pfi_sql_column_real(pfi_sql *q, int i);
PFI_EXTERN const char *pfi_sql_column_text(pfi_sql *q, int i, size_t *len);
/* pfi_store_interrupt() for q's connection. */
PFI_EXTERN void pfi_sql_interrupt(pfi_sql *q);

#ifdef __cplusplus
}
#endif
#endif /* PFI_H */
