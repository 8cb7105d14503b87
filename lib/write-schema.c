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
/* Columns added within a schema version: the stamps' provenance of each
 * file (year, year_from, zone; NULL for files read before). */
static int add_columns(pfi_store *st)
{
	if (pfi_store_int(st, "SELECT count(*) FROM pragma_table_info('files')"
	                  " WHERE name = 'zone'") != 0)
		return PFI_OK;
	return pfi_store_exec(st, "ALTER TABLE files ADD COLUMN year INTEGER;"
	                      " ALTER TABLE files ADD COLUMN year_from TEXT;"
	                      " ALTER TABLE files ADD COLUMN zone TEXT");
}

int pfi_write_migrate(pfi_store *st)
{
	char sql[64];
	int from = st->schema, rc;

	if (st->writable && (rc = add_columns(st)) != PFI_OK)
		return rc;
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
