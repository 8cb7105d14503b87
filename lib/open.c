/*
 * open.c - the index handle of the public API: the store layer opens and
 * checks the file (store.c), the raw-line functions are registered on
 * the connection (store-lines.c), and an index opened for writing is
 * brought up to date by the write side (write-schema.c, the line
 * identities of write-overlap.c, the run tables of write-runs.c).  The
 * one file above both sides.
 */
#include "write-overlap.h"
#include "write-runs.h"

int pfi_store_open(pfi_store **out, const char *path, int flags)
{
	int rc = pfi_store_attach(out, path, flags);
	pfi_store *st = *out;

	if (rc == PFI_OK)
		rc = pfi_store_register_functions(st);
	if (rc == PFI_OK && st->writable)
		rc = pfi_write_migrate(st);
	if (rc == PFI_OK && st->writable)
		rc = pfi_overlap_prepare(st);
	if (rc == PFI_OK && st->writable)
		rc = pfi_runs_prepare(st);
	if (rc == PFI_ERROR && st->db &&
	    (sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_NOTADB)
		rc = pfi_err_set(&st->err, PFI_ESCHEMA, "'%s' is not a pfi index",
		                 st->path);
	return rc;
}

void pfi_store_close(pfi_store *st)
{
	if (st == NULL)
		return;
	pfi_store_forget_chunk(st);
	pfi_store_detach(st);
}
