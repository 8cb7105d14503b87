/*
 * store-schema.c - the index's schema, as one commented SQL text.
 *
 * A pfi index is an SQLite file marked with PRAGMA application_id
 * PFI_APPLICATION_ID; PRAGMA user_version holds PFI_SCHEMA_VERSION.
 * Times are microseconds since the epoch (UTC); durations are seconds.
 */
#include <string.h>

#include "store-schema.h"

/* Per-hour sums of what `pfi stats` counts (write-rollup.c, counted.h): one
 * row per kind (enum pfi_cell_kind) and combination of keys in an hour. */
#define PFI_STAT_CELLS_SQL                                                   \
	"CREATE TABLE stat_cells ("                                          \
	" hour INTEGER,"            /* time / 1 h (UTC); NULL: not dated */  \
	" kind INTEGER NOT NULL,"                                            \
	" host TEXT, domain TEXT, sender_domain TEXT, status TEXT, dsn TEXT," \
	" code TEXT, class TEXT,"   /* rejects: SMTP code, reject class */   \
	" tls TEXT,"                /* arrivals: TLS protocol */             \
	" n INTEGER NOT NULL,"      /* records */                            \
	" m INTEGER NOT NULL,"      /* deferred once / bytes / over TLS */   \
	" delays BLOB"              /* final delays (counted.c encoding) */   \
	");"                                                                 \
	"CREATE INDEX stat_cells_hour ON stat_cells(hour);"

/* The correlator's live sessions at the last checkpoint (correlate.h,
 * struct pfi_session_rec): lines, TLS and NOQUEUE actions logged before a
 * message's "QID: client=" reach it through its session, which the next
 * run restores.  Each checkpoint replaces the rows (write-sessions.c).
 * IF NOT EXISTS: the step from schema 1 may meet it already made. */
/* Postfix's warning:, error:, fatal: and panic: lines and smtpd's
 * reject_warning, by folded kind (problems.c), for stats. */
#define PFI_PROBLEMS_SQL                                                     \
	"CREATE TABLE IF NOT EXISTS problems ("                              \
	" time INTEGER NOT NULL, host TEXT, program TEXT,"                   \
	" level TEXT NOT NULL, kind TEXT NOT NULL, line INTEGER"             \
	");"                                                                 \
	"CREATE INDEX IF NOT EXISTS problems_time ON problems(time);"

/* Lines counted by what they say, per UTC hour and host (write-counts.c):
 * postscreen actions, smtpd connections and lost connections by stage,
 * delivery attempts by status.  `family` names what is counted, `label`
 * the kind of it.  Counted from the run that made or upgraded the index
 * on (schema 4). */
#define PFI_EVENT_COUNTS_SQL                                                 \
	"CREATE TABLE IF NOT EXISTS event_counts ("                          \
	" hour INTEGER NOT NULL,"        /* time / 1 h (UTC) */              \
	" host TEXT NOT NULL, family TEXT NOT NULL, label TEXT NOT NULL,"    \
	" n INTEGER NOT NULL,"                                               \
	" PRIMARY KEY (hour, host, family, label)"                           \
	") WITHOUT ROWID;"

/* What milters and filters beside Postfix decided about a message
 * (verdict.c): opendkim, opendmarc, SPF policy servers, amavis, rspamd,
 * clamav-milter.  `message` is the messages.id it was joined to, by queue
 * ID or (SPF, which logs none) by client IP to the message that smtpd
 * queued next from that client (correlate.c); NULL while unjoined.
 * kind and result use SPEC's vocabulary; score is NULL when the program
 * gives none.  Schema 5. */
#define PFI_VERDICTS_SQL                                                     \
	"CREATE TABLE IF NOT EXISTS verdicts ("                              \
	" id INTEGER PRIMARY KEY,"                                           \
	" message INTEGER,"              /* messages.id, NULL: unjoined */   \
	" time INTEGER NOT NULL, host TEXT NOT NULL, queue_id TEXT,"         \
	" program TEXT NOT NULL, kind TEXT NOT NULL, result TEXT NOT NULL,"  \
	" domain TEXT, score REAL, detail TEXT,"                             \
	" client_ip TEXT,"               /* SPF: the client it checked */    \
	" reject_line INTEGER,"          /* the NOQUEUE reject it led to */  \
	" line INTEGER NOT NULL"         /* the line that said it */         \
	");"                                                                 \
	"CREATE INDEX IF NOT EXISTS verdicts_message ON verdicts(message);"  \
	"CREATE INDEX IF NOT EXISTS verdicts_unjoined ON verdicts(time)"     \
	" WHERE message IS NULL;"

/* Where each systemd journal read stopped (read-journal.c): the cursor of
 * the last entry indexed, per journal source ("system", a directory or a
 * file), so the next run continues after it.  Schema 5. */
#define PFI_JOURNAL_SQL                                                      \
	"CREATE TABLE IF NOT EXISTS journal_cursors ("                       \
	" source TEXT PRIMARY KEY,"                                          \
	" cursor TEXT NOT NULL,"                                             \
	" entries INTEGER NOT NULL,"     /* entries read from it in all */   \
	" first INTEGER, last INTEGER"   /* first and last entry time */     \
	");"

#define PFI_SESSIONS_SQL                                                     \
	"CREATE TABLE IF NOT EXISTS sessions ("                              \
	" host TEXT NOT NULL, program TEXT NOT NULL,"                        \
	" pid INTEGER NOT NULL,"         /* -1 when its lines have none */   \
	" seen INTEGER NOT NULL,"        /* time of its latest line */       \
	" client TEXT, client_ip TEXT, tls_protocol TEXT, tls_cipher TEXT,"  \
	" tls_relay TEXT,"               /* smtp/lmtp: the TLS peer */       \
	" last_qid TEXT, last_id INTEGER,"  /* its latest message */         \
	" pending BLOB,"                 /* NOQUEUE actions, "act[\tto]\0"... */ \
	" lines BLOB"                    /* waiting line ids, varint deltas */ \
	");"

/* The identities of the lines indexed (write-overlap.c), so a line that
 * overlapping inputs hold twice is indexed once: per host and UTC hour,
 * rows of 64-bit XXH3 identities of host, second, program, PID, repeat
 * count and text, as runs wrote them; and per host its latest line's
 * time and the lines skipped as already indexed.  Made when an index is
 * opened for writing (filled from its chunks then), not by a schema
 * version: an index without them is read as it is. */
#define PFI_LINE_IDS_SQL                                                     \
	"CREATE TABLE IF NOT EXISTS line_ids ("                              \
	" host TEXT NOT NULL,"           /* "": lines that are not syslog's */ \
	" hour INTEGER NOT NULL,"        /* time / 1 h (UTC) */              \
	" ids BLOB NOT NULL"             /* 8 bytes each, little-endian */   \
	");"                                                                 \
	"CREATE INDEX IF NOT EXISTS line_ids_hour ON line_ids(host, hour);"  \
	"CREATE TABLE IF NOT EXISTS line_hosts ("                            \
	" host TEXT PRIMARY KEY,"                                            \
	" last INTEGER NOT NULL,"        /* time of its latest line */       \
	" duplicates INTEGER NOT NULL"   /* its lines skipped as repeats */  \
	") WITHOUT ROWID;"

/* What each run left beside the lines (write-runs.c): lines counted per
 * host and kind, and a record of the latest runs.  Made when an index is
 * opened for writing, like line_ids, not by a schema version: an index
 * without them is read as it is.  line_host_counts sums, per kind, to
 * line_counts; lines counted before it was made are under host "" (see
 * pfi_runs_prepare).  index_runs keeps the last PFI_RUNS_KEPT runs that
 * committed lines, each written in its run's transaction. */
#define PFI_RUN_TABLES_SQL                                                   \
	"CREATE TABLE IF NOT EXISTS line_host_counts ("                      \
	" host TEXT NOT NULL,"           /* "": lines that are not syslog's */ \
	" kind INTEGER NOT NULL,"        /* enum pfi_line_kind */            \
	" count INTEGER NOT NULL,"                                           \
	" PRIMARY KEY (host, kind)"                                          \
	") WITHOUT ROWID;"                                                   \
	"CREATE TABLE IF NOT EXISTS index_runs ("                            \
	" id INTEGER PRIMARY KEY,"                                           \
	" start INTEGER NOT NULL,"       /* when it began (wall clock) */    \
	" end INTEGER NOT NULL,"         /* when it began to commit */       \
	" seconds REAL NOT NULL,"        /* from start to end (monotonic) */ \
	" lines INTEGER NOT NULL,"       /* lines it indexed */              \
	" duplicates INTEGER NOT NULL,"  /* lines it skipped as indexed */   \
	" files INTEGER NOT NULL,"       /* files it read lines of */        \
	" messages INTEGER NOT NULL,"    /* messages it completed */         \
	" stopped INTEGER NOT NULL"      /* 1: stopped early, read part */   \
	");"

const char pfi_schema_sql[] =
	/* Every file read, recognised by identity (dev, ino, size, mtime) and
	 * by a fingerprint of its first bytes, so a renamed or compressed
	 * file is not read twice and a grown one is read from `offset`. */
	"CREATE TABLE files ("
	" id INTEGER PRIMARY KEY,"
	" path TEXT NOT NULL,"           /* the last path it was read under */
	" dev INTEGER, ino INTEGER, size INTEGER, mtime INTEGER,"
	" fp_hash INTEGER NOT NULL,"     /* FNV-1a of the first fp_len bytes */
	" fp_len INTEGER NOT NULL,"
	" offset INTEGER NOT NULL,"      /* decompressed bytes indexed */
	" lines INTEGER NOT NULL,"       /* lines indexed */
	" first INTEGER, last INTEGER,"  /* first and last timestamp */
	/* How its stamps were read: the year its first classic line took and
	 * from what (--year, mtime ...), and the zone of stamps without an
	 * offset; NULL when no line needed them (or read before pfi kept
	 * them). */
	" year INTEGER, year_from TEXT, zone TEXT"
	");"
	/* Every line read, raw, in zstd-compressed chunks of consecutive
	 * lines (see store-lines.c); a line's id is its place in reading order. */
	"CREATE TABLE chunks ("
	" first INTEGER PRIMARY KEY,"    /* id of its first line */
	" count INTEGER NOT NULL,"       /* lines in it */
	" last INTEGER NOT NULL,"        /* time of its latest line */
	" data BLOB NOT NULL"            /* zstd frame of the lines, "\n" each */
	");"
	/* Lines of Postfix programs that pfi did not understand. */
	"CREATE TABLE unparsed ("
	" line INTEGER PRIMARY KEY, program TEXT NOT NULL"
	");"
	/* Lines that joined a message after it was written (a disconnect). */
	"CREATE TABLE late_lines ("
	" message INTEGER NOT NULL, line INTEGER NOT NULL"
	");"
	"CREATE INDEX late_lines_message ON late_lines(message);"
	/* Line counts by kind and program, kept up to date by each run. */
	"CREATE TABLE line_counts ("
	" kind INTEGER NOT NULL, program TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY (kind, program)"
	") WITHOUT ROWID;"
	/* One (host, queue ID) lifetime. */
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" host TEXT NOT NULL, queue_id TEXT NOT NULL,"
	" open INTEGER NOT NULL,"        /* 1 until removed (or aborted) */
	" flags INTEGER NOT NULL,"       /* enum pfi_msg_flag */
	" first INTEGER, last INTEGER, received INTEGER, removed INTEGER,"
	" message_id TEXT, sender TEXT, size INTEGER, nrcpt INTEGER,"
	" client TEXT, client_ip TEXT, sasl_method TEXT, sasl_username TEXT,"
	" subject TEXT, tls_protocol TEXT, tls_cipher TEXT,"
	" origin TEXT,"                  /* smtpd, pickup ... */
	" orig_queue_id TEXT,"           /* XFORWARD orig_queue_id, pickup orig_id */
	" parent INTEGER,"               /* messages.id of the parent, if linked */
	" relation TEXT"                 /* filter, relay, bounce, requeue */
	");"
	/* The ids of a message's lines, apart so messages rows stay narrow
	 * for the queries that scan them. */
	"CREATE TABLE message_lines ("
	" message INTEGER PRIMARY KEY,"
	" first_line INTEGER,"           /* its oldest line id */
	" lines BLOB NOT NULL"           /* ascending ids as varint deltas */
	");"
	"CREATE INDEX message_lines_first ON message_lines(first_line);"
	"CREATE INDEX messages_queue_id ON messages(queue_id);"
	"CREATE INDEX messages_open ON messages(open) WHERE open = 1;"
	/* One row per recipient outcome: deliveries and rejects (a NOQUEUE
	 * reject has no message). */
	"CREATE TABLE deliveries ("
	" id INTEGER PRIMARY KEY,"
	" message INTEGER,"              /* messages.id, NULL for NOQUEUE */
	" host TEXT, queue_id TEXT,"
	" time INTEGER NOT NULL,"        /* final attempt, or the reject */
	" recipient TEXT, orig_to TEXT, domain TEXT,"
	" status TEXT NOT NULL, dsn TEXT, relay TEXT,"
	" delay REAL, d_before REAL, d_in REAL, d_conn REAL, d_xmit REAL,"
	" attempts INTEGER NOT NULL,"
	" final INTEGER NOT NULL,"       /* 1 when no later attempt changes it */
	" response TEXT,"
	" child_qid TEXT,"               /* queued as / forwarded as */
	" stage TEXT, code TEXT,"        /* rejects: SMTP stage and code */
	" client TEXT, client_ip TEXT, helo TEXT, sender TEXT," /* NOQUEUE */
	" line INTEGER,"                 /* line id of a NOQUEUE reject */
	" tls_protocol TEXT"             /* TLS of the delivering connection */
	");"
	"CREATE INDEX deliveries_message ON deliveries(message);"
	/* Links between messages by queue ID, resolved to message ids when
	 * the other side is indexed. */
	"CREATE TABLE links ("
	" id INTEGER PRIMARY KEY,"
	" parent INTEGER NOT NULL,"      /* messages.id of the linking side */
	" qid TEXT NOT NULL,"            /* the other message's queue ID */
	" hint TEXT,"                    /* relay host name (queued as) */
	" kind INTEGER NOT NULL,"        /* enum pfi_link_rel */
	" time INTEGER NOT NULL,"
	" delivery INTEGER,"             /* deliveries.id it came from */
	" other INTEGER,"                /* messages.id once resolved */
	" relation TEXT"                 /* filter, relay, bounce, forward, requeue */
	");"
	"CREATE INDEX links_parent ON links(parent);"
	"CREATE INDEX links_other ON links(other) WHERE other IS NOT NULL;"
	"CREATE INDEX links_unresolved ON links(qid) WHERE other IS NULL;"
	/* Failed SASL logins (smtpd warnings), for stats and metrics. */
	"CREATE TABLE sasl_failures ("
	" time INTEGER NOT NULL, host TEXT, client TEXT, client_ip TEXT,"
	" method TEXT, username TEXT"
	");"
	PFI_STAT_CELLS_SQL
	PFI_SESSIONS_SQL
	PFI_PROBLEMS_SQL
	PFI_EVENT_COUNTS_SQL
	PFI_VERDICTS_SQL
	PFI_JOURNAL_SQL
	PFI_LINE_IDS_SQL
	PFI_RUN_TABLES_SQL;

/* Schema 2 added stat_cells and sessions to schema 1; schema 3 problems;
 * schema 4 event_counts; schema 5 verdicts and journal_cursors. */
const char pfi_stat_cells_sql[] = PFI_STAT_CELLS_SQL;
const char pfi_sessions_sql[] = PFI_SESSIONS_SQL;
const char pfi_problems_sql[] = PFI_PROBLEMS_SQL;
const char pfi_event_counts_sql[] = PFI_EVENT_COUNTS_SQL;
const char pfi_verdicts_sql[] = PFI_VERDICTS_SQL PFI_JOURNAL_SQL;
const char pfi_line_ids_sql[] = PFI_LINE_IDS_SQL;
const char pfi_run_tables_sql[] = PFI_RUN_TABLES_SQL;

/*
 * Indexes a run reads only at its end (links, rewrites of messages
 * stored before) besides queries.  A run into an empty index rewrites
 * nothing, so it drops them too and builds them before resolving links:
 * sorted once, they cost far less than kept up to date row by row in
 * random order.  Same definitions as in pfi_schema_sql.
 */
const struct pfi_index_def pfi_run_indexes[] = {
	{ "late_lines_message", "CREATE INDEX IF NOT EXISTS late_lines_message"
	  " ON late_lines(message)" },
	{ "message_lines_first", "CREATE INDEX IF NOT EXISTS message_lines_first"
	  " ON message_lines(first_line)" },
	{ "messages_queue_id", "CREATE INDEX IF NOT EXISTS messages_queue_id"
	  " ON messages(queue_id)" },
	{ "messages_open", "CREATE INDEX IF NOT EXISTS messages_open"
	  " ON messages(open) WHERE open = 1" },
	{ "deliveries_message", "CREATE INDEX IF NOT EXISTS deliveries_message"
	  " ON deliveries(message)" },
	{ "links_parent", "CREATE INDEX IF NOT EXISTS links_parent"
	  " ON links(parent)" },
	{ "links_other", "CREATE INDEX IF NOT EXISTS links_other"
	  " ON links(other) WHERE other IS NOT NULL" },
	{ "links_unresolved", "CREATE INDEX IF NOT EXISTS links_unresolved"
	  " ON links(qid) WHERE other IS NULL" },
	{ NULL, NULL }
};

/*
 * Indexes that only queries read.  A run into an empty index drops them
 * and builds them once at its end, which is much faster than keeping them
 * up to date row by row.
 */
const struct pfi_index_def pfi_query_indexes[] = {
	{ "messages_message_id",
	  "CREATE INDEX IF NOT EXISTS messages_message_id"
	  " ON messages(message_id)" },
	{ "messages_parent",
	  "CREATE INDEX IF NOT EXISTS messages_parent"
	  " ON messages(parent) WHERE parent IS NOT NULL" },
	/* stats: messages that arrived in a period. */
	{ "messages_received",
	  "CREATE INDEX IF NOT EXISTS messages_received ON messages(received)" },
	{ "deliveries_time",
	  "CREATE INDEX IF NOT EXISTS deliveries_time ON deliveries(time)" },
	/* stats: deferral events (few rows have any) and distinct senders. */
	{ "deliveries_deferred",
	  "CREATE INDEX IF NOT EXISTS deliveries_deferred ON deliveries(time)"
	  " WHERE attempts > 0" },
	{ "messages_sender",
	  "CREATE INDEX IF NOT EXISTS messages_sender"
	  " ON messages(sender COLLATE NOCASE)" },
	{ "deliveries_domain",
	  "CREATE INDEX IF NOT EXISTS deliveries_domain"
	  " ON deliveries(domain, time)" },
	/* search --to: recipients compare case-insensitively (filter.c). */
	{ "deliveries_recipient_nocase",
	  "CREATE INDEX IF NOT EXISTS deliveries_recipient_nocase"
	  " ON deliveries(recipient COLLATE NOCASE)" },
	{ "deliveries_orig_to_nocase",
	  "CREATE INDEX IF NOT EXISTS deliveries_orig_to_nocase"
	  " ON deliveries(orig_to COLLATE NOCASE) WHERE orig_to IS NOT NULL" },
	{ "sasl_failures_time",
	  "CREATE INDEX IF NOT EXISTS sasl_failures_time ON sasl_failures(time)" },
	{ NULL, NULL }
};

/* ---- what an index may hold ------------------------------------------------------ */

/* A scratch in-memory database holding what pfi's schema creates. */
static int reference_schema(sqlite3 **out)
{
	size_t i;
	int rc = sqlite3_open_v2(":memory:", out, SQLITE_OPEN_READWRITE |
	                         SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(*out, pfi_schema_sql, NULL, NULL, NULL);
	for (i = 0; rc == SQLITE_OK && pfi_query_indexes[i].name; i++)
		rc = sqlite3_exec(*out, pfi_query_indexes[i].sql, NULL, NULL, NULL);
	return rc;
}

/* s for a message: at most size - 1 bytes, anything but printable ASCII
 * shown as '?' (the name comes from the file). */
static const char *printable(const unsigned char *s, char *buf, size_t size)
{
	size_t i;

	for (i = 0; s && s[i] && i + 1 < size; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* A failure to look an object up (out of memory, most likely) is not
 * an object pfi did not create. */
static int lookup_failed(pfi_store *st, sqlite3_stmt *lookup)
{
	sqlite3 *ref = sqlite3_db_handle(lookup);
	int code = sqlite3_errcode(ref) == SQLITE_NOMEM ? PFI_ENOMEM : PFI_ERROR;

	pfi_err_set(&st->err, code, "cannot check the schema of '%s': %s",
	            st->path, sqlite3_errmsg(ref));
	sqlite3_reset(lookup);
	return code;
}

/* Refuses the object of row r of `SELECT type, name, tbl_name FROM
 * sqlite_schema` unless pfi makes it (lookup: the same query on the
 * reference schema, WHERE all three match) or SQLite itself does. */
static int check_object(pfi_store *st, sqlite3_stmt *r, sqlite3_stmt *lookup)
{
	const char *type = (const char *)sqlite3_column_text(r, 0);
	const char *name = (const char *)sqlite3_column_text(r, 1);
	char buf[80];
	int step, i;

	if ((type == NULL || name == NULL) &&
	    sqlite3_errcode(st->db) == SQLITE_NOMEM)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	if (type == NULL || name == NULL)
		return pfi_err_set(&st->err, PFI_ESCHEMA, "refusing index '%s': its"
		                   " schema has an object without a name", st->path);
	if ((strcmp(type, "table") == 0 || strcmp(type, "index") == 0) &&
	    sqlite3_strnicmp(name, "sqlite_", 7) == 0)
		return PFI_OK;   /* sqlite_stat1, sqlite_autoindex_... */
	sqlite3_reset(lookup);
	for (i = 0; i < 3; i++)
		if (sqlite3_bind_value(lookup, i + 1,
		                       sqlite3_column_value(r, i)) != SQLITE_OK)
			return lookup_failed(st, lookup);
	step = sqlite3_step(lookup);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return lookup_failed(st, lookup);
	sqlite3_reset(lookup);
	if (step == SQLITE_ROW)
		return PFI_OK;
	return pfi_err_set(&st->err, PFI_ESCHEMA, "refusing index '%s': it holds"
	                   " %s %s '%s' that pfi did not create", st->path,
	                   strcmp(type, "index") == 0 ? "an" : "a",
	                   printable((const unsigned char *)type, buf, 16),
	                   printable((const unsigned char *)name, buf + 16,
	                             sizeof(buf) - 16));
}

/*
 * A trigger or a view would run SQL from the file whenever pfi reads or
 * writes a table, and an unknown table or index has no business in an
 * index, so pfi refuses a schema holding either (pfi opens the index with
 * triggers and views disabled, too).  What pfi creates comes from its own
 * schema text, made in memory, so the list cannot drift from it; an index
 * of schema 1, or one a first run is rebuilding, lacks some: only extras
 * count.
 */
int pfi_schema_check_objects(pfi_store *st)
{
	static const char sql[] = "SELECT type, name, tbl_name FROM sqlite_schema";
	sqlite3 *ref = NULL;
	sqlite3_stmt *r = NULL, *lookup = NULL;
	int rc = PFI_OK, step = SQLITE_DONE;

	if (reference_schema(&ref) != SQLITE_OK ||
	    sqlite3_prepare_v2(ref, "SELECT 1 FROM sqlite_schema WHERE type = ?1"
	                       " AND name = ?2 AND tbl_name = ?3", -1, &lookup,
	                       NULL) != SQLITE_OK) {
		rc = ref == NULL || sqlite3_errcode(ref) == SQLITE_NOMEM
		     ? PFI_ENOMEM : PFI_ERROR;
		pfi_err_set(&st->err, rc, "cannot make pfi's schema: %s",
		            ref ? sqlite3_errmsg(ref) : "out of memory");
		goto done;
	}
	if (sqlite3_prepare_v2(st->db, sql, -1, &r, NULL) != SQLITE_OK) {
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read index");
		goto done;
	}
	while (rc == PFI_OK && (step = sqlite3_step(r)) == SQLITE_ROW)
		rc = check_object(st, r, lookup);
	if (rc == PFI_OK && step != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot read index");
done:
	sqlite3_finalize(r);
	sqlite3_finalize(lookup);
	sqlite3_close(ref);
	return rc;
}

/* ---- creating the schema and its indexes ------------------------------------- */

static int create_indexes(pfi_store *st, const struct pfi_index_def *defs)
{
	size_t i;
	int rc = pfi_store_exec(st, PFI_SORT_CACHE_SQL);

	for (i = 0; defs[i].name && rc == PFI_OK; i++)
		rc = pfi_store_exec(st, defs[i].sql);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, PFI_CACHE_SQL);
	return rc;
}

int pfi_store_indexes(pfi_store *st, const struct pfi_index_def *defs,
                      int create)
{
	char sql[128];
	size_t i;
	int rc = PFI_OK;

	if (create)
		return create_indexes(st, defs);
	for (i = 0; defs[i].name && rc == PFI_OK; i++) {
		snprintf(sql, sizeof(sql), "DROP INDEX IF EXISTS %s", defs[i].name);
		rc = pfi_store_exec(st, sql);
	}
	return rc;
}

int pfi_store_query_indexes(pfi_store *st, int create)
{
	return pfi_store_indexes(st, pfi_query_indexes, create);
}

int pfi_schema_create(pfi_store *st)
{
	char sql[128];
	int rc = pfi_store_exec(st, "BEGIN IMMEDIATE");

	if (rc == PFI_OK)
		rc = pfi_store_exec(st, pfi_schema_sql);
	if (rc == PFI_OK)
		rc = pfi_store_query_indexes(st, 1);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d;"
	         " PRAGMA user_version = %d", PFI_APPLICATION_ID, PFI_SCHEMA_VERSION);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, sql);
	st->schema = PFI_SCHEMA_VERSION;
	if (rc == PFI_OK)
		return pfi_store_exec(st, "COMMIT");
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
