/*
 * counted.c - what `pfi stats` counts (counted.h): the SQL of the counted
 * recipient rows and of arrived messages, how a row is read (with the
 * class of a reject), and the encoding of a cell's delays.  The stats
 * query (stats.c) and the cell builder of the index run
 * (write-rollup.c) both read through here, so a cell sums exactly what
 * a scan of the rows would count.
 */
#include <stdlib.h>
#include <string.h>

#include "counted.h"

/* ---- hours, delays, and whether there are cells ------------------------------ */

int64_t pfi_hour_of(int64_t t)
{
	return t / PFI_HOUR - (t % PFI_HOUR < 0);
}

int64_t pfi_delay_us(double seconds)
{
	return (int64_t)(seconds * 1e6 + 0.5);
}

double pfi_delay_seconds(int64_t us)
{
	return (double)us / 1e6;
}

int pfi_cells_present(pfi_store *st)
{
	return st->schema >= 2;
}

/* ---- the delays of a cell: sorted microseconds as (gap, count) varints ---------- */

/* Encodes folded delays, each distinct value with its count. */
int pfi_delays_encode(const struct pfi_delay_us *v, size_t n,
                      struct pfi_buf *out)
{
	int64_t prev = 0;
	size_t i;

	pfi_buf_reset(out);
	for (i = 0; i < n; i++) {
		if (pfi_buf_put_varint(out, (uint64_t)(v[i].us - prev)) != PFI_OK ||
		    pfi_buf_put_varint(out, (uint64_t)v[i].n) != PFI_OK)
			return PFI_ENOMEM;
		prev = v[i].us;
	}
	return PFI_OK;
}

/* The next delay of an encoded blob: *us is the previous one on entry. */
int pfi_delays_next(const unsigned char **p, const unsigned char *end,
                    int64_t *us, int64_t *count)
{
	uint64_t gap, c;

	if (pfi_varint_get(p, end, &gap) != PFI_OK ||
	    pfi_varint_get(p, end, &c) != PFI_OK)
		return PFI_ERROR;
	*us += (int64_t)gap;
	*count = (int64_t)c;
	return PFI_OK;
}

int pfi_delays_decode(const void *blob, size_t size,
                      struct pfi_delay_n **out, size_t *cap, size_t *n)
{
	/* No blob: no arithmetic on NULL (undefined even for + 0). */
	const unsigned char *p = blob, *end = p ? p + size : p;
	int64_t value = 0, count;

	*n = 0;
	while (p != NULL && p < end) {
		if (pfi_delays_next(&p, end, &value, &count) != PFI_OK)
			return PFI_ERROR;
		if (pfi_array_reserve((void **)out, cap, *n, sizeof(**out),
		                      64) != PFI_OK)
			return PFI_ENOMEM;
		(*out)[*n].delay = pfi_delay_seconds(value);
		(*out)[(*n)++].n = count;
	}
	return PFI_OK;
}


/* ---- reject classes ------------------------------------------------------------ */

/* Case-insensitive (ASCII) substring test. */
static int contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay != '\0'; hay++) {
		for (i = 0; i < n && hay[i] != '\0'; i++) {
			char a = hay[i], b = needle[i];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

/* First match wins; needles are lower case. */
static const struct {
	const char *cls;
	const char *needle;
} reject_rules[] = {
	{ "relay_denied", "relay access denied" },
	{ "rbl", "blocked using" },
	{ "rbl", "dnsbl" },
	{ "rbl", "listed at" },
	{ "rbl", "listed by" },
	{ "unknown_user", "user unknown" },
	{ "unknown_user", "unknown user" },
	{ "unknown_user", "mailbox unavailable" },
	{ "unknown_user", "no such user" },
	{ "policy_milter", "milter" },
	{ "policy_milter", "policy" },
	{ "policy_milter", "greylist" },
	{ "policy_milter", "content rejected" },
	{ "policy_milter", "header" },
	{ "policy_milter", "body" },
	{ "sender_helo_client", "sender address rejected" },
	{ "sender_helo_client", "helo command rejected" },
	{ "sender_helo_client", "client host rejected" },
	{ "sender_helo_client", "sender domain" },
	{ "sender_helo_client", "domain not found" },
};

/* The class of a reject by its reason text, else by its DSN. */
static const char *reject_class(const char *reason, const char *dsn)
{
	size_t i;

	for (i = 0; reason != NULL && i < PFI_ARRAY_SIZE(reject_rules); i++)
		if (contains(reason, reject_rules[i].needle))
			return reject_rules[i].cls;
	if (dsn != NULL && strcmp(dsn, "5.1.1") == 0)
		return "unknown_user";
	return "other";
}

/* ---- the counted rows ---------------------------------------------------------- */

/* A message is original: not a filter/relay/requeue copy, not a
 * notification, not a local-forward copy.  Used with the alias of the
 * root message. */
#define ORIGINAL(x)                                                        \
	"(" x ".relation IS NULL AND (" x ".origin IS NOT NULL OR"           \
	" (coalesce(" x ".sender, '-') <> '' AND NOT EXISTS (SELECT 1 FROM"  \
	" links l WHERE l.other = " x ".id AND l.relation = 'forward'))))"

/* The relations that are hops: the child carries on the same mail
 * (a content filter's re-injection, a postsuper -r requeue). */
#define HOP(x) x ".relation IN " PFI_HOP_RELATIONS

/* The columns pfi_stats_read_row reads, over `d` and the original `m`. */
#define ROWS_COLS                                                          \
	"d.status, d.dsn, d.domain, d.delay, d.attempts, d.time,"            \
	" d.code, d.response, d.host, coalesce(m.client_ip, d.client_ip),"   \
	" coalesce(m.sender, d.sender)"

/* From deliveries `d` to the original message `m`, up to PFI_STATS_HOPS
 * hops. */
#define ROWS_JOINS                                                         \
	" LEFT JOIN messages o ON o.id = d.message"                          \
	" LEFT JOIN messages o2 ON " HOP("o") " AND o2.id = o.parent"        \
	" LEFT JOIN messages o3 ON " HOP("o2") " AND o3.id = o2.parent"      \
	" LEFT JOIN messages o4 ON " HOP("o3") " AND o4.id = o3.parent"      \
	" LEFT JOIN messages m ON m.id = CASE"                               \
	" WHEN " HOP("o4") " THEN o4.parent"                                 \
	" WHEN " HOP("o3") " THEN o3.parent"                                 \
	" WHEN " HOP("o2") " THEN o2.parent"                                 \
	" WHEN " HOP("o") " THEN o.parent ELSE o.id END"

/* Whether row `d` of original `m` counts (see pfi_stats_rows_sql). */
#define ROWS_COUNTED                                                       \
	"(d.message IS NULL OR (" ORIGINAL("m")                              \
	" AND NOT (d.status = 'filtered' AND EXISTS (SELECT 1 FROM messages c" \
	" WHERE c.parent = d.message AND " HOP("c") "))))"                   \
	/* An address probe's recipients were tested, not sent mail. */      \
	" AND d.status NOT IN ('deliverable', 'undeliverable')"

/*
 * Every counted recipient row: NOQUEUE rejects, and the rows of original
 * messages and of their content-filter or requeued copies (up to
 * PFI_STATS_HOPS hops: a filter's copy requeued by postsuper -r goes
 * through the filter again, three), except a `filtered` row whose copy is
 * indexed (the copy's rows replace it).  `m` is the original message, so
 * filters on the client, sender or subject read the original and not the
 * copy re-injected by the filter or picked up again after a requeue.
 */
const char pfi_stats_rows_sql[] =
	"SELECT " ROWS_COLS " FROM deliveries d" ROWS_JOINS
	" WHERE " ROWS_COUNTED " AND ";
const char pfi_stats_rows_cols[] = ROWS_COLS;
const char pfi_stats_rows_joins[] = ROWS_JOINS;
const char pfi_stats_rows_counted[] = ROWS_COUNTED;

/* Whether an outcome is final and carries a delivery delay. */
static int final_with_delay(const char *status)
{
	return strcmp(status, "sent") == 0 || strcmp(status, "bounced") == 0 ||
	       strcmp(status, "expired") == 0;
}

void pfi_stats_read_row(sqlite3_stmt *s, struct pfi_srow *r)
{
	int attempts = sqlite3_column_int(s, 4);

	r->status = pfi_col_text(s, 0);
	if (r->status == NULL)
		r->status = "";
	r->dsn = pfi_col_text(s, 1);
	r->domain = pfi_col_text(s, 2);
	r->time = sqlite3_column_int64(s, 5);
	r->code = pfi_col_text(s, 6);
	r->class = strcmp(r->status, "rejected") == 0
	           ? reject_class(pfi_col_text(s, 7), r->dsn) : NULL;
	r->host = pfi_col_text(s, 8);
	r->client = pfi_col_text(s, 9);
	r->sender_domain = pfi_addr_domain(pfi_col_text(s, 10), r->sd_buf,
	                                   sizeof(r->sd_buf));
	r->n = 1;
	r->deferred_once = attempts > 0 || strcmp(r->status, "deferred") == 0;
	r->ndelays = 0;
	r->delays = &r->one;
	if (sqlite3_column_type(s, 3) != SQLITE_NULL &&
	    final_with_delay(r->status)) {
		double d = sqlite3_column_double(s, 3);

		if (d >= 0) {
			r->one.delay = pfi_delay_seconds(pfi_delay_us(d));
			r->one.n = 1;
			r->ndelays = 1;
		}
	}
}

/* ---- arrived messages and notifications ---------------------------------------- */

/* Received messages (original, seen arriving) and notifications. */
const char pfi_stats_msgs_head[] =
	"SELECT m.received, m.size, m.tls_protocol, m.host, m.client_ip,"
	" m.sender, m.origin IS NOT NULL AND m.relation IS NULL FROM messages m";

/* 16384 is PFI_MSG_PROBE (correlate.h; messages.flags is a stored
 * format): sendmail -bv is submitted like mail but is a test. */
const char pfi_stats_msgs_kind[] =
	" WHERE m.flags & 16384 = 0 AND ((m.relation IS NULL AND"
	" m.origin IS NOT NULL)"
	" OR m.relation IN ('bounce', 'delay')"
	" OR (m.relation IS NULL AND m.origin IS NULL AND m.sender = ''))";

void pfi_stats_read_msg(sqlite3_stmt *s, struct pfi_smsg *m)
{
	int64_t size = sqlite3_column_int64(s, 1);

	m->received = sqlite3_column_int64(s, 0);
	m->n = 1;
	m->bytes = size > 0 ? size : 0;
	m->tls = pfi_col_text(s, 2);
	m->host = pfi_col_text(s, 3);
	m->client = pfi_col_text(s, 4);
	m->sender_domain = pfi_addr_domain(pfi_col_text(s, 5), m->sd_buf,
	                                   sizeof(m->sd_buf));
	m->original = sqlite3_column_int(s, 6);
}
