/*
 * prune.c - pfi_prune(): forget what happened before a time.
 *
 * A message goes when its life is over (it is not open) and its last line
 * is older than the cut, with its recipients, links, line list, late
 * lines and verdicts; so do NOQUEUE rejects, failed logins and verdicts
 * never joined to a message older than the cut.  A
 * chunk of raw lines goes when all its lines are older than the cut and no
 * message that stays has a line in it.  Links to what went are undone.
 * The files table stays, so pruned files are not read again; the line
 * counts by kind stay too: they count what was read.  The stats cells are
 * counted again.  The identities of the lines of hours before the cut go
 * too: those lines, read again from a copy, are indexed again.  Then
 * VACUUM gives the space back.
 */
#include <stdlib.h>
#include <string.h>

#include "write.h"

/* Each step binds ?1 = the cut. */
static const char *const prune_sql[] = {
	"CREATE TEMP TABLE pfi_gone AS SELECT id FROM messages"
	" WHERE open = 0 AND coalesce(last, first, 0) < ?1",
	"DELETE FROM deliveries WHERE message IN (SELECT id FROM temp.pfi_gone)"
	" OR (message IS NULL AND time < ?1)",
	"DELETE FROM links WHERE parent IN (SELECT id FROM temp.pfi_gone)",
	"UPDATE links SET other = NULL, relation = NULL"
	" WHERE other IN (SELECT id FROM temp.pfi_gone)",
	"UPDATE messages SET parent = NULL, relation = NULL"
	" WHERE parent IN (SELECT id FROM temp.pfi_gone)",
	"DELETE FROM message_lines WHERE message IN (SELECT id FROM temp.pfi_gone)",
	"DELETE FROM late_lines WHERE message IN (SELECT id FROM temp.pfi_gone)",
	"DELETE FROM messages WHERE id IN (SELECT id FROM temp.pfi_gone)",
	"DELETE FROM sasl_failures WHERE time < ?1",
	"DELETE FROM verdicts WHERE message IN (SELECT id FROM temp.pfi_gone)"
	" OR (message IS NULL AND time < ?1)",
	"DELETE FROM problems WHERE time < ?1",
	/* Counts are per hour: the hours wholly before the cutoff go. */
	"DELETE FROM event_counts WHERE (hour + 1) * 3600000000 <= ?1",
	/* So do the identities of their lines (write-overlap.c). */
	"DELETE FROM line_ids WHERE (hour + 1) * 3600000000 <= ?1",
	/* A chunk goes only below the oldest line anything still refers to. */
	"DELETE FROM chunks WHERE last < ?1 AND first + count <= coalesce(("
	" SELECT min(v) FROM (SELECT min(first_line) AS v FROM message_lines"
	"  UNION ALL SELECT min(line) FROM late_lines"
	"  UNION ALL SELECT min(line) FROM deliveries WHERE message IS NULL)),"
	" 9223372036854775807)",
	"DELETE FROM unparsed WHERE line < coalesce((SELECT min(first)"
	" FROM chunks), 9223372036854775807)",
	"DROP TABLE temp.pfi_gone",
};

/* The step that only an index with verdicts (schema 5) takes. */
#define VERDICT_STEP "DELETE FROM verdicts "

/* What the index holds now, for the report: messages, deliveries,
 * rejects, raw lines, bytes. */
static void measure(pfi_store *st, int64_t v[5])
{
	v[0] = pfi_store_int(st, "SELECT count(*) FROM messages");
	v[1] = pfi_store_int(st, "SELECT count(*) FROM deliveries");
	v[2] = pfi_store_int(st, "SELECT count(*) FROM deliveries"
	                     " WHERE status = 'rejected'");
	v[3] = pfi_store_int(st, "SELECT coalesce(sum(count), 0) FROM chunks");
	v[4] = pfi_store_int(st, "SELECT page_count * page_size"
	                " FROM pragma_page_count(), pragma_page_size()");
}

static int run_steps(pfi_store *st, int64_t before)
{
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i < PFI_ARRAY_SIZE(prune_sql) && rc == PFI_OK; i++) {
		if (st->schema < 5 &&
		    strncmp(prune_sql[i], VERDICT_STEP, strlen(VERDICT_STEP)) == 0)
			continue;
		rc = pfi_store_run(st, prune_sql[i], before, "cannot prune");
	}
	return rc;
}

static void report(struct pfi_prune_report *rep, const int64_t was[5],
                   const int64_t now[5], int dry)
{
	if (rep == NULL)
		return;
	rep->messages = was[0] - now[0];
	rep->deliveries = was[1] - now[1];
	rep->rejects = was[2] - now[2];
	rep->lines = was[3] - now[3];
	rep->bytes_before = was[4];
	rep->bytes_after = dry ? -1 : now[4];
}

/* A prune, or with dry a count of what one would remove: the same steps
 * in the same transaction, rolled back after counting what is left. */
static int prune(pfi_store *st, int64_t before, int dry,
                 struct pfi_prune_report *rep)
{
	int64_t was[5], now[5];
	int rc;

	pfi_err_clear(&st->err);
	pfi_store_forget_chunk(st);
	measure(st, was);
	rc = pfi_store_begin_write(st);
	if (rc == PFI_OK)
		rc = run_steps(st, before);
	/* What went may be in any hour, and children of what went are
	 * originals now: every stats cell is counted again. */
	if (rc == PFI_OK && !dry)
		rc = pfi_rollup_rebuild_all(st);
	if (rc == PFI_OK && dry)
		measure(st, now);
	if (rc == PFI_OK && !dry)
		rc = pfi_store_exec(st, "COMMIT");
	else
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	if (rc == PFI_OK && !dry)
		rc = pfi_store_exec(st, "VACUUM");
	if (!dry || rc != PFI_OK)
		measure(st, now);
	report(rep, was, now, dry);
	return rc;
}

int pfi_prune(pfi_store *st, int64_t before, struct pfi_prune_report *rep)
{
	return prune(st, before, 0, rep);
}

int pfi_prune_dry_run(pfi_store *st, int64_t before,
                      struct pfi_prune_report *rep)
{
	return prune(st, before, 1, rep);
}
