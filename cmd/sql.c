/*
 * sql.c - `sql STATEMENT...` in pfi repl: read-only SQL over the index,
 * each statement's rows printed in the session's format with the column
 * names as keys.  The library refuses anything but reading (lib/sql.c);
 * `help sql` documents the views that are the stable interface.
 */
#include <stdio.h>
#include <string.h>

#include "pfi.h"

/* One row of q: each column under its name, typed as SQLite has it. */
static void sql_record(pfi_out *o, pfi_sql *q, int ncol)
{
	const char *t;
	size_t len;
	int i;

	pfi_out_record_begin(o);
	for (i = 0; i < ncol; i++) {
		const char *name = pfi_sql_column_name(q, i);

		switch (pfi_sql_column_type(q, i)) {
		case PFI_SQL_NULL:
			pfi_out_null(o, name);
			break;
		case PFI_SQL_INT:
			pfi_out_int(o, name, pfi_sql_column_int(q, i));
			break;
		case PFI_SQL_REAL:
			pfi_out_num(o, name, pfi_sql_column_real(q, i));
			break;
		default:
			t = pfi_sql_column_text(q, i, &len);
			pfi_out_strn(o, name, t ? t : "", len);
		}
	}
	pfi_out_record_end(o);
}

/* Runs the statement prepared on q; returns an exit code. */
static int sql_rows(struct pfi_globals *g, pfi_sql *q)
{
	int ncol = pfi_sql_columns(q), rc, out;
	pfi_out *o;

	if (ncol == 0) {
		while ((rc = pfi_sql_step(q)) == PFI_OK)
			;
		return rc == PFI_EOF ? PFI_EXIT_OK
		       : cli_error("sql: %s", pfi_sql_errmsg(q));
	}
	o = cli_out_new(g, -1);
	pfi_out_begin(o, "rows");
	while ((rc = pfi_sql_step(q)) == PFI_OK) {
		sql_record(o, q, ncol);
		if (ferror(stdout))
			break;
	}
	out = cli_out_end(o);
	if (rc != PFI_OK && rc != PFI_EOF)
		return cli_error("sql: %s", pfi_sql_errmsg(q));
	return out;
}

static int cmd_sql(struct pfi_globals *g, int argc, char **argv)
{
	const char *text;
	pfi_sql *q;
	int rc = PFI_EXIT_OK;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
	                  strcmp(argv[1], "-h") == 0))
		return cli_help(&cmd_sql_entry);
	if (argc != 2)
		return cli_usage_error("sql", "give a statement, e.g. 'sql SELECT"
		                       " count(*) FROM pfi_messages'");
	if ((q = cli_repl_sql(g)) == NULL)
		return PFI_EXIT_FAILURE;
	for (text = argv[1]; rc == PFI_EXIT_OK && *text != '\0';) {
		rc = pfi_sql_prepare(q, &text);
		if (rc == PFI_EOF)
			return PFI_EXIT_OK;
		if (rc != PFI_OK)
			return cli_usage_error("sql", "%s", pfi_sql_errmsg(q));
		rc = sql_rows(g, q);
	}
	return rc;
}

const struct pfi_cmd cmd_sql_entry = {
	"sql", "run read-only SQL on the index",
	"Run SQL statements on the index, read-only: a connection of its own\n"
	"that may only read (no INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH,\n"
	"PRAGMA with a value or load_extension).  The rest of the line is the\n"
	"SQL; rows print in the session's format.  These views are the\n"
	"interface to rely on; times are RFC 3339 text in UTC, the *_us\n"
	"columns the same in microseconds since the epoch:\n"
	"\n"
	"pfi_messages: one row per (host, queue ID) lifetime: id, host,\n"
	"  queue_id, message_id, sender, size, nrcpt, client, client_ip,\n"
	"  sasl_method, sasl_username, subject, tls_protocol, tls_cipher,\n"
	"  origin, received, received_us, removed, removed_us, open (1 while\n"
	"  queued), parent (id of the message it came from), relation.\n"
	"pfi_deliveries: one row per recipient outcome, as pfi search lists\n"
	"  them: id, message (pfi_messages.id), host, queue_id, time, time_us,\n"
	"  recipient, orig_to, domain, status, dsn, relay, delay,\n"
	"  delay_before_qmgr, delay_in_qmgr, delay_conn_setup,\n"
	"  delay_transmission, attempts, final, response, child_qid.\n"
	"pfi_rejects: the rejected recipients: id, message, host, queue_id,\n"
	"  time, time_us, recipient, domain, dsn, stage, code, response,\n"
	"  client, client_ip, helo, sender.\n"
	"pfi_files: the files read: path, lines, bytes, first, last.\n"
	"PRAGMA table_info(VIEW) lists the columns of a view.\n"
	"\n"
	"Example: sql SELECT domain, count(*) AS n FROM pfi_deliveries\n"
	"  WHERE status = 'bounced' GROUP BY domain ORDER BY n DESC LIMIT 10",
	NULL, "STATEMENT...", CLI_ARG_NONE, CMD_REPL_ONLY | CMD_NEEDS_DB | CMD_PAGED,
	cmd_sql
};
