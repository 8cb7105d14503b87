/*
 * read-journal.h - the systemd journal as an input (read-journal.c): the
 * sources of a pfi_journal, each an sd-journal handle, and their entries
 * as slices.  The write side (index-journal.c) decides what an entry
 * means and where a source stopped; this layer only reads.
 */
#ifndef PFI_READ_JOURNAL_H
#define PFI_READ_JOURNAL_H

#include "pfi-int.h"

/* One open journal: the system journal, a directory or a file. */
struct pfi_jsource;

/*
 * One entry, as the journal holds it.  Slices point into the journal's
 * memory and live until the next pfi_jsource_next() or _seek() on the
 * source; a field the entry lacks is absent (p == NULL).
 */
struct pfi_jentry {
	int64_t time;              /* __REALTIME_TIMESTAMP, microseconds */
	struct pfi_slice host;     /* _HOSTNAME */
	struct pfi_slice program;  /* SYSLOG_IDENTIFIER, else _COMM */
	long pid;                  /* SYSLOG_PID, else _PID; -1 when neither */
	int facility;              /* SYSLOG_FACILITY, -1 when absent */
	struct pfi_slice text;     /* MESSAGE */
};

/* The syslog facility Postfix logs to by default (LOG_MAIL >> 3). */
#define PFI_FACILITY_MAIL 2

/* The number of sources of j and the i-th one (borrowed from j). */
size_t pfi_journal_nsources(const pfi_journal *j);
struct pfi_jsource *pfi_journal_source(pfi_journal *j, size_t i);

/* The source's name for the index: "system", or the directory or file
 * path as given.  Borrowed. */
const char *pfi_jsource_name(const struct pfi_jsource *s);

/*
 * Positions s right after the entry of `cursor` (a cursor this source
 * gave before, from the index), or at its first entry when cursor is
 * NULL.  An entry is the cursor's when its boot ID, monotonic and
 * realtime clocks and content hash are the cursor's, so that a copy of
 * the journal with another sequence-number ID continues where the
 * original stopped.  PFI_OK or PFI_EIO (message on err).
 */
int pfi_jsource_seek(struct pfi_jsource *s, const char *cursor,
                     struct pfi_err *err);
/* The next entry: PFI_OK with *e filled, PFI_EOF at the end, PFI_EIO. */
int pfi_jsource_next(struct pfi_jsource *s, struct pfi_jentry *e,
                     struct pfi_err *err);
/* The cursor of the entry last handed out, malloc'd (free()) into *out.
 * PFI_OK, PFI_EIO or PFI_ENOMEM. */
int pfi_jsource_cursor(struct pfi_jsource *s, char **out,
                       struct pfi_err *err);

#endif /* PFI_READ_JOURNAL_H */
