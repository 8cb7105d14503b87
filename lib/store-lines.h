/*
 * store-lines.h - the raw log lines (store-lines.c): compressed chunks
 * of lines by id, and each message's list of line ids.  The write side
 * adds lines with write-chunks.c.
 */
#ifndef PFI_STORE_LINES_H
#define PFI_STORE_LINES_H

#include "store.h"

/* The id the next line read will get. */
int64_t pfi_store_next_line(pfi_store *st);
/* Ascending ids as varint deltas into out, and back (*out malloc'd). */
int pfi_ids_encode(const int64_t *ids, size_t n, struct pfi_buf *out);
int pfi_ids_decode(const void *data, size_t size, int64_t **out, size_t *n);
/* The line ids of message `id`, ascending (*ids malloc'd). */
int pfi_store_message_lines(pfi_store *st, int64_t id, int64_t **ids,
                            size_t *n);
typedef int (*pfi_line_cb)(void *ctx, int64_t id, const char *line,
                           size_t len);
/* Calls cb for each of the lines `ids` (ascending) that the index holds. */
int pfi_store_read_lines(pfi_store *st, const int64_t *ids, size_t n,
                         pfi_line_cb cb, void *ctx);
typedef int (*pfi_chunk_cb)(void *ctx, int64_t first, int64_t last,
                            const char *text, size_t size);
/* Calls cb for each chunk in line order: the id of its first line, the
 * time of its latest, and its lines (size bytes, "\n" after each); a
 * non-zero return stops the walk and is returned.  PFI_OK, PFI_ENOMEM,
 * PFI_ESCHEMA (a damaged chunk) or PFI_ERROR. */
int pfi_store_each_chunk(pfi_store *st, pfi_chunk_cb cb, void *ctx);
/* Frees the store's decompressed chunk (on close, and after writes). */
void pfi_store_forget_chunk(pfi_store *st);
/* Registers pfi_message_text(message_id) on the connection. */
int pfi_store_register_functions(pfi_store *st);

#endif /* PFI_STORE_LINES_H */
