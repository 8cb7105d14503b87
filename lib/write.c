/*
 * write.c - the state one run of the write side writes with (write.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "write.h"

void pfi_write_init(struct pfi_write *w, pfi_store *st)
{
	memset(w, 0, sizeof(*w));
	w->st = st;
	pfi_buf_init(&w->scratch, 0);
	w->first_new_row = w->first_new_link = INT64_MAX;
}

void pfi_write_release(struct pfi_write *w)
{
	pfi_buf_release(&w->scratch);
	free(w->touched);
	w->touched = NULL;
	w->ntouched = w->cap = 0;
}

int pfi_write_touch(struct pfi_write *w, int64_t message)
{
	if (!w->tracking)
		return PFI_OK;
	if (pfi_array_reserve((void **)&w->touched, &w->cap, w->ntouched,
	                      sizeof(*w->touched), 256) != PFI_OK)
		return pfi_err_set(&w->st->err, PFI_ENOMEM, "out of memory");
	w->touched[w->ntouched++] = message;
	return PFI_OK;
}
