/*
 * complete.c - values from the index for Tab completion: recipient and
 * sender addresses and domains, MTA hosts and queue IDs that start with a
 * prefix.  Cheap by construction: each query reads only the most recent
 * PFI_COMPLETE_RECENT rows (by rowid, the order they were indexed), so a
 * keystroke costs the same on a small index and on a huge one.
 */
#include <string.h>

#include "pfi-int.h"
#include "store.h"

/* Each query: ?1 the prefix, ?2 how many values, ?3 how many rows. */
static const char *const complete_sql[] = {
	[PFI_COMPLETE_RECIPIENT] =
		"SELECT DISTINCT v FROM (SELECT recipient AS v FROM deliveries"
		" ORDER BY id DESC LIMIT ?3) WHERE v <> ''"
		" AND lower(substr(v, 1, length(?1))) = lower(?1)"
		" ORDER BY v LIMIT ?2",
	[PFI_COMPLETE_SENDER] =
		"SELECT DISTINCT v FROM (SELECT sender AS v FROM messages"
		" ORDER BY id DESC LIMIT ?3) WHERE v <> ''"
		" AND lower(substr(v, 1, length(?1))) = lower(?1)"
		" ORDER BY v LIMIT ?2",
	[PFI_COMPLETE_DOMAIN] =
		"SELECT DISTINCT v FROM (SELECT lower(domain) AS v FROM deliveries"
		" ORDER BY id DESC LIMIT ?3) WHERE v <> ''"
		" AND substr(v, 1, length(?1)) = lower(?1) ORDER BY v LIMIT ?2",
	[PFI_COMPLETE_SENDER_DOMAIN] =
		"SELECT DISTINCT v FROM (SELECT lower(substr(sender,"
		" instr(sender, '@') + 1)) AS v FROM messages WHERE"
		" instr(sender, '@') > 0 ORDER BY id DESC LIMIT ?3) WHERE v <> ''"
		" AND substr(v, 1, length(?1)) = lower(?1) ORDER BY v LIMIT ?2",
	[PFI_COMPLETE_HOST] =
		"SELECT DISTINCT v FROM (SELECT host AS v FROM messages"
		" ORDER BY id DESC LIMIT ?3) WHERE v <> ''"
		" AND lower(substr(v, 1, length(?1))) = lower(?1)"
		" ORDER BY v LIMIT ?2",
	[PFI_COMPLETE_QUEUE_ID] =
		"SELECT DISTINCT v FROM (SELECT queue_id AS v FROM messages"
		" ORDER BY id DESC LIMIT ?3) WHERE v <> ''"
		" AND substr(v, 1, length(?1)) = ?1 ORDER BY v LIMIT ?2",
};

int pfi_complete_values(pfi_store *st, enum pfi_complete_kind kind,
                        const char *prefix, size_t max,
                        pfi_complete_fn *fn, void *ctx)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if ((unsigned)kind >= sizeof(complete_sql) / sizeof(complete_sql[0]) ||
	    complete_sql[kind] == NULL || prefix == NULL || fn == NULL)
		return pfi_err_set(&st->err, PFI_EINVAL, "nothing to complete");
	if (sqlite3_prepare_v2(st->db, complete_sql[kind], -1, &s, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot complete");
	sqlite3_bind_text(s, 1, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, max > 10000 ? 10000 : (sqlite3_int64)max);
	sqlite3_bind_int64(s, 3, PFI_COMPLETE_RECENT);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(ctx, (const char *)sqlite3_column_text(s, 0)) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot complete");
	else
		rc = PFI_OK;
	sqlite3_finalize(s);
	return rc;
}
