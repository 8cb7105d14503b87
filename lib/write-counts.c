/*
 * write-counts.c - lines counted by what they say, per UTC hour and host
 * (event_counts): postscreen's actions, smtpd's connections and the
 * connections it lost or timed out, by stage, and each delivery attempt
 * by its status.  None of these belongs to a message, so the correlator
 * does not see them as rows; metrics reads the sums.
 *
 * A run counts in memory and adds its sums at its end, in its
 * transaction.  Labels come from fixed vocabularies: a log line can
 * never add a label of its own choosing (a stage pfi does not know counts
 * as "other"; the parser takes only Postfix's statuses), so the number of
 * series stays bounded.
 */
#include <stdlib.h>
#include <string.h>

#include "smap.h"
#include "write.h"

struct pfi_counts {
	struct pfi_smap sums;      /* "hour SEP host SEP family SEP label" -> n */
	struct pfi_buf key;
};

#define SEP '\x1f'

/* SMTP commands after which smtpd says it lost a client (its own words). */
static const char *const smtp_stages[] = {
	"CONNECT", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA",
	"BDAT", "END-OF-MESSAGE", "RSET", "NOOP", "VRFY", "ETRN", "QUIT",
	"UNKNOWN", "XCLIENT", "XFORWARD", "CONNECT-TLS"
};

/* s when it is one of list[0..n), else "other". */
static const char *known(struct pfi_slice s, const char *const *list,
                         size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pfi_slice_eq(s, list[i]))
			return list[i];
	return "other";
}

int pfi_counts_new(struct pfi_counts **out)
{
	struct pfi_counts *c = calloc(1, sizeof(*c));

	*out = c;
	if (c == NULL)
		return PFI_ENOMEM;
	pfi_smap_init(&c->sums, sizeof(int64_t));
	pfi_buf_init(&c->key, 0);
	return PFI_OK;
}

void pfi_counts_free(struct pfi_counts *c)
{
	if (c == NULL)
		return;
	pfi_smap_release(&c->sums);
	pfi_buf_release(&c->key);
	free(c);
}

static int add(struct pfi_counts *c, int64_t time, struct pfi_slice host,
               const char *family, const char *label, int64_t n)
{
	char hour[PFI_INT_DIGITS];
	int rc;

	/* Built by appends, not printf: this runs for most lines of a log,
	 * and printf was 1.6% of a fresh index's CPU. */
	pfi_buf_reset(&c->key);
	rc = pfi_buf_append(&c->key, hour, pfi_put_int(hour, pfi_hour_of(time)));
	if (rc == PFI_OK)
		rc = pfi_buf_appendc(&c->key, SEP);
	if (rc == PFI_OK && host.n)
		rc = pfi_buf_append(&c->key, host.p, host.n);
	if (rc == PFI_OK)
		rc = pfi_buf_appendc(&c->key, SEP);
	if (rc == PFI_OK)
		rc = pfi_buf_appends(&c->key, family);
	if (rc == PFI_OK)
		rc = pfi_buf_appendc(&c->key, SEP);
	if (rc == PFI_OK)
		rc = pfi_buf_appends(&c->key, label);
	if (rc != PFI_OK)
		return rc;
	/* A host with a NUL or SEP in it (a forged line) cannot be a key. */
	if (strlen(c->key.data) != c->key.len ||
	    memchr(host.p ? host.p : "", SEP, host.n) != NULL)
		return PFI_OK;
	return pfi_smap_count(&c->sums, c->key.data, n);
}

/* add() with a label from the line (a vocabulary the parser checked). */
static int add_slice(struct pfi_counts *c, int64_t time, struct pfi_slice host,
                     const char *family, struct pfi_slice label, int64_t n)
{
	char buf[32];

	if (label.n >= sizeof(buf))
		return PFI_OK;
	memcpy(buf, label.p, label.n);
	buf[label.n] = '\0';
	return add(c, time, host, family, buf, n);
}

int pfi_counts_note(struct pfi_counts *c, const struct pfi_envelope *env,
                    const struct pfi_event *ev, int64_t repeat)
{
	const struct pfi_slice d = ev->daemon;

	if (pfi_slice_eq(d, "postscreen")) {
		if (ev->kind == PFI_EV_REJECT)
			return add(c, env->time, env->host, "postscreen", "reject",
			           repeat);
		if (ev->kind == PFI_EV_NOISE && ev->postscreen != NULL)
			return add(c, env->time, env->host, "postscreen",
			           ev->postscreen, repeat);
		return PFI_OK;
	}
	if (ev->kind == PFI_EV_CONNECT && pfi_slice_eq(d, "smtpd"))
		return add(c, env->time, env->host, "smtpd_connect", "", repeat);
	if (ev->kind == PFI_EV_CLIENT_LOST)
		return add(c, env->time, env->host,
		           ev->reason.n >= 7 && memcmp(ev->reason.p, "timeout", 7) == 0
		           ? "smtpd_timeout" : "smtpd_lost",
		           known(ev->stage, smtp_stages, PFI_ARRAY_SIZE(smtp_stages)),
		           repeat);
	if (ev->kind == PFI_EV_DELIVERY)
		return add_slice(c, env->time, env->host, "delivery", ev->status,
		                 repeat);
	return PFI_OK;
}

static const char add_counts_sql[] =
	"INSERT INTO event_counts(hour, host, family, label, n)"
	" VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT(hour, host, family, label) DO UPDATE SET n = n + ?5";

/* Splits a key back into its four fields (in place). */
static void split_key(char *key, char *f[4])
{
	size_t i;

	f[0] = key;
	for (i = 1; i < 4; i++) {
		char *sep = strchr(f[i - 1], SEP);
		*sep = '\0';
		f[i] = sep + 1;
	}
}

int pfi_counts_flush(struct pfi_counts *c, pfi_store *st)
{
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc = PFI_OK;

	if (c->sums.n && sqlite3_prepare_v2(st->db, add_counts_sql, -1, &s,
	                                    NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot count events");
	for (i = 0; i < c->sums.n && rc == PFI_OK; i++) {
		char *f[4];

		split_key(c->sums.keys[i], f);
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, strtoll(f[0], NULL, 10));
		sqlite3_bind_text(s, 2, f[1], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 3, f[2], -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 4, f[3], -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 5, *(int64_t *)pfi_smap_val(&c->sums, i));
		rc = pfi_store_step_done(st, s, "cannot count events");
	}
	sqlite3_finalize(s);
	/* Keys were split: the table is spent. */
	pfi_smap_release(&c->sums);
	pfi_smap_init(&c->sums, sizeof(int64_t));
	return rc;
}
