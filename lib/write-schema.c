/*
 * write-schema.c - bringing an index of an older schema up to the one this
 * build writes, when it is opened for writing (open.c).
 */
#include <stdio.h>

#include "write.h"

/*
 * Brings an older index up to date when opened for writing: schema 2
 * added the stats cells and the saved sessions, schema 3 the problem
 * lines, schema 4 the event counts, schema 5 the verdicts and journal
 * cursors (all empty for what was indexed before).  Read-only, an older schema is read as it is (stats then
 * reads every row, and finds no problems; metrics no event counts).
 */
int pfi_write_migrate(pfi_store *st)
{
	char sql[64];
	int from = st->schema, rc;

	if (!st->writable || st->schema == PFI_SCHEMA_VERSION)
		return PFI_OK;
	rc = pfi_store_begin_write(st);
	if (rc != PFI_OK)
		return rc;
	if (from < 2)
		rc = pfi_store_exec(st, pfi_stat_cells_sql);
	if (rc == PFI_OK && from < 2)
		rc = pfi_store_exec(st, pfi_sessions_sql);
	if (rc == PFI_OK && from < 3)
		rc = pfi_store_exec(st, pfi_problems_sql);
	if (rc == PFI_OK && from < 4)
		rc = pfi_store_exec(st, pfi_event_counts_sql);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, pfi_verdicts_sql);
	st->schema = PFI_SCHEMA_VERSION;
	if (rc == PFI_OK && from < 2)
		rc = pfi_rollup_rebuild_all(st);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", PFI_SCHEMA_VERSION);
	if (rc == PFI_OK)
		rc = pfi_store_exec(st, sql);
	if (rc == PFI_OK)
		return pfi_store_exec(st, "COMMIT");
	st->schema = from;
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
