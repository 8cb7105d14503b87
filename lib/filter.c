/*
 * filter.c - a struct pfi_filter checked and compiled into one SQL
 * condition with bound parameters (struct pfi_where), shared by search
 * and stats, and the SQL functions such a condition calls.
 *
 * The condition reads the aliases `d` (deliveries) and `m` (messages,
 * LEFT JOINed on m.id = d.message).  A NOQUEUE reject has no message: its
 * host, client, client_ip and sender are on its deliveries row, so every
 * filter on those reads coalesce(m.col, d.col).  Parameters are anonymous
 * "?" in the order they appear, so SQLite numbers them from one more than
 * the highest parameter before the condition: a caller that puts its own
 * parameters before the condition numbers them ?1..?(first-1).
 *
 * SQL functions registered on the store's connection (once):
 *   pfi_domain(addr)            lower-case domain after the last '@', or NULL
 *   pfi_inet_in(ip, net, bits)  1 when text address ip lies in the network
 *                               given as a 4- or 16-byte blob and prefix
 *   pfi_grep(where, msg, line)  1 when --grep's regex matches a raw line of
 *                               message msg (or line `line` of a NOQUEUE
 *                               reject); `where` is this struct, bound with
 *                               sqlite3_bind_pointer, so the regex is
 *                               compiled (and JIT-compiled) once, in
 *                               pfi_where_new(), and matched line by line:
 *                               the lines of a few rows are read directly;
 *                               past GREP_DIRECT_MAX rows, every line of the
 *                               index is matched once into a bitmap, since
 *                               lines are stored in compressed chunks.
 * A statement bound with pfi_where_bind() must be finalized before the
 * where is freed.
 *
 * Deliberate choices: addresses, host names, SASL users and domains compare
 * case-insensitively (ASCII); Message-IDs exactly.  --subject is an ASCII
 * case-insensitive substring.  A status may be a comma list ("sent,bounced").
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <arpa/inet.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store-lines.h"
#include "verdicts.h"

/* --grep reads the lines of the first GREP_DIRECT_MAX rows it is asked
 * about; past that, one pass over all lines (GREP_BATCH ids per call)
 * answers the rest from a bitmap. */
#define GREP_DIRECT_MAX 64
#define GREP_BATCH 65536

/* The pointer type name of sqlite3_bind_pointer() for a struct pfi_where. */
static const char where_ptr_type[] = "pfi_where";

enum param_kind { P_TEXT, P_INT, P_BLOB, P_WHERE };

/* One bound parameter of the condition. */
struct param {
	enum param_kind kind;
	char *text;          /* P_TEXT: owned copy; P_BLOB: owned bytes */
	size_t len;          /* P_BLOB: byte count */
	int64_t i;           /* P_INT */
};

struct pfi_where {
	struct pfi_buf sql;        /* the condition, "1" when empty */
	struct param *params;      /* in the order of their "?" */
	size_t n, cap;             /* params used and allocated */
	pcre2_code *re;            /* --grep, NULL when not given */
	pcre2_match_data *md;      /* match data for re, reused */
	pfi_store *st;             /* where the lines are read (borrowed) */
	struct pfi_err *err;       /* the store's, for messages */
	int64_t memo_msg;          /* the message grep_message() saw last */
	int memo_found;            /* and whether a line of it matched */
	int memo_valid;            /* memo_msg and memo_found are set */
	unsigned direct;           /* rows whose lines were read one by one */
	int scanned;               /* bits holds every line's answer */
	unsigned char *bits;       /* after a scan: bit i set if line i matches */
	int64_t nbits;             /* line ids below this are in bits */
};

/* ---- building the condition -------------------------------------------- */

static struct param *where_param(struct pfi_where *w, enum param_kind k)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct param *p = realloc(w->params, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		w->params = p;
		w->cap = cap;
	}
	memset(&w->params[w->n], 0, sizeof(w->params[0]));
	w->params[w->n].kind = k;
	return &w->params[w->n++];
}

/* Adds a text parameter (a copy of s[0..n)). */
static int where_text_n(struct pfi_where *w, const char *s, size_t n)
{
	struct param *p = where_param(w, P_TEXT);

	if (p == NULL || (p->text = malloc(n + 1)) == NULL)
		return PFI_ENOMEM;
	memcpy(p->text, s, n);
	p->text[n] = '\0';
	p->len = n;
	return PFI_OK;
}

static int where_text(struct pfi_where *w, const char *s)
{
	return where_text_n(w, s, strlen(s));
}

static int where_int(struct pfi_where *w, int64_t v)
{
	struct param *p = where_param(w, P_INT);

	if (p == NULL)
		return PFI_ENOMEM;
	p->i = v;
	return PFI_OK;
}

/* Starts a new term: " AND " after the first one. */
static int where_term(struct pfi_where *w, const char *sql)
{
	int rc = PFI_OK;

	if (w->sql.len > 0)
		rc = pfi_buf_appends(&w->sql, " AND ");
	if (rc == PFI_OK)
		rc = pfi_buf_appends(&w->sql, sql);
	return rc == PFI_EINVAL ? PFI_ENOMEM : rc;
}

/* A term with one text parameter. */
static int where_term1(struct pfi_where *w, const char *sql, const char *v)
{
	int rc = where_term(w, sql);

	return rc == PFI_OK ? where_text(w, v) : rc;
}

/* s lower-cased (ASCII) in a malloc'd copy, or NULL. */
static char *lower_dup(const char *s)
{
	char *c = strdup(s);
	size_t i;

	for (i = 0; c != NULL && c[i]; i++)
		if (c[i] >= 'A' && c[i] <= 'Z')
			c[i] = (char)(c[i] - 'A' + 'a');
	return c;
}

/* Appends s to b with LIKE's wildcards escaped by '\'. */
static int like_escape(struct pfi_buf *b, const char *s)
{
	int rc = PFI_OK;

	for (; rc == PFI_OK && *s; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			rc = pfi_buf_appendc(b, '\\');
		if (rc == PFI_OK)
			rc = pfi_buf_appendc(b, *s);
	}
	return rc;
}

/* Adds a LIKE pattern parameter: pre + escaped s + post. */
static int where_like(struct pfi_where *w, const char *pre, const char *s,
                      const char *post)
{
	struct pfi_buf b;
	int rc;

	pfi_buf_init(&b, 0);
	rc = pfi_buf_appends(&b, pre);
	if (rc == PFI_OK)
		rc = like_escape(&b, s);
	if (rc == PFI_OK)
		rc = pfi_buf_appends(&b, post);
	if (rc == PFI_OK)
		rc = where_text_n(w, b.data, b.len);
	pfi_buf_release(&b);
	return rc == PFI_EINVAL ? PFI_ENOMEM : rc;
}

/* s without one pair of surrounding angle brackets, in buf. */
static const char *unbracket(const char *s, char *buf, size_t size)
{
	size_t n = strlen(s);

	if (n < 2 || s[0] != '<' || s[n - 1] != '>' || n - 2 >= size)
		return s;
	memcpy(buf, s + 1, n - 2);
	buf[n - 2] = '\0';
	return buf;
}

/* ---- addresses, domains, hosts ----------------------------------------- */

/*
 * `expr` equals domain d (lower-cased); "*.example.com" matches
 * example.com and every name under it.
 */
static int filter_domain(struct pfi_where *w, const char *expr, const char *d)
{
	char *low = lower_dup(d), sql[256];
	int rc, wild = strncmp(d, "*.", 2) == 0;

	if (low == NULL)
		return PFI_ENOMEM;
	if (wild)
		snprintf(sql, sizeof(sql), "(%s = ? OR %s LIKE ? ESCAPE '\\')",
		         expr, expr);
	else
		snprintf(sql, sizeof(sql), "%s = ?", expr);
	rc = where_term1(w, sql, wild ? low + 2 : low);
	if (rc == PFI_OK && wild)
		rc = where_like(w, "%.", low + 2, "");
	free(low);
	return rc;
}

/* The sender, "" or "<>" for the null sender. */
static int filter_from(struct pfi_where *w, const char *from)
{
	char buf[1024];

	if (strcmp(from, "<>") == 0)
		from = "";
	return where_term1(w, "coalesce(m.sender, d.sender) = ? COLLATE NOCASE",
	                   unbracket(from, buf, sizeof(buf)));
}

/* The recipient, as delivered to or as originally addressed. */
static int filter_to(struct pfi_where *w, const char *to)
{
	char buf[1024];
	int rc;

	to = unbracket(to, buf, sizeof(buf));
	rc = where_term1(w, "(d.recipient = ? COLLATE NOCASE OR"
	                 " d.orig_to = ? COLLATE NOCASE)", to);
	return rc == PFI_OK ? where_text(w, to) : rc;
}

/* A relay given by host name or address: "name[addr]:port" or "none". */
static int filter_relay(struct pfi_where *w, const char *relay)
{
	int rc = where_term1(w, "(d.relay = ? COLLATE NOCASE"
	                     " OR d.relay LIKE ? ESCAPE '\\'"
	                     " OR d.relay LIKE ? ESCAPE '\\')", relay);

	if (rc == PFI_OK)
		rc = where_like(w, "", relay, "[%");
	if (rc == PFI_OK)
		rc = where_like(w, "%[", relay, "]%");
	return rc;
}

static int filter_message_id(struct pfi_where *w, const char *id)
{
	char buf[1024];

	return where_term1(w, "m.message_id = ?", unbracket(id, buf, sizeof(buf)));
}

static int filter_subject(struct pfi_where *w, const char *subject)
{
	int rc = where_term(w, "m.subject LIKE ? ESCAPE '\\'");

	return rc == PFI_OK ? where_like(w, "%", subject, "%") : rc;
}

/* ---- status and DSN ------------------------------------------------------ */

static const char *const statuses[] = {
	"sent", "deferred", "bounced", "expired", "rejected", "discarded",
	"held", "deleted", "filtered", "unknown"
};

static int status_known(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(statuses); i++)
		if (strlen(statuses[i]) == n && strncmp(statuses[i], s, n) == 0)
			return 1;
	return 0;
}

/* Adds the statuses of one comma list as parameters, ", ?" each. */
static int status_list(struct pfi_where *w, const char *list, int *count)
{
	const char *p = list, *comma;
	size_t n;
	int rc = PFI_OK;

	while (rc == PFI_OK) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (!status_known(p, n))
			return pfi_err_set(w->err, PFI_EINVAL, "unknown status '%.*s'"
			                   " (one of sent, deferred, bounced, expired,"
			                   " rejected, discarded, held, deleted, filtered)",
			                   (int)n, p);
		rc = pfi_buf_appends(&w->sql, (*count)++ ? ", ?" : "?");
		if (rc == PFI_OK)
			rc = where_text_n(w, p, n);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return rc == PFI_OK ? PFI_OK : PFI_ENOMEM;
}

static int filter_status(struct pfi_where *w, const char *const *st, size_t n)
{
	size_t i;
	int count = 0, rc = where_term(w, "d.status IN (");

	for (i = 0; rc == PFI_OK && i < n; i++)
		rc = status_list(w, st[i], &count);
	if (rc == PFI_OK && pfi_buf_appends(&w->sql, ")") != PFI_OK)
		rc = PFI_ENOMEM;
	return rc;
}

/*
 * Length of the fixed prefix of DSN pattern s ("5.1.1" whole, "5.*" and
 * "5.1.*" up to the star), with *wild set for a star; -1 when malformed.
 */
static int dsn_prefix(const char *s, int *wild)
{
	int parts = 0, digits;
	const char *p = s;

	*wild = 0;
	for (;;) {
		if (*p == '*' && p[1] == '\0' && parts > 0) {
			*wild = 1;
			return (int)(p - s);
		}
		for (digits = 0; *p >= '0' && *p <= '9'; p++)
			digits++;
		if (digits == 0 || digits > 3 || ++parts > 3)
			return -1;
		if (*p == '\0')
			return parts == 3 ? (int)(p - s) : -1;
		if (*p++ != '.')
			return -1;
	}
}

static int filter_dsn(struct pfi_where *w, const char *dsn)
{
	int wild, n = dsn_prefix(dsn, &wild), rc;

	if (n < 0 || (dsn[0] != '2' && dsn[0] != '4' && dsn[0] != '5') ||
	    dsn[1] != '.')
		return pfi_err_set(w->err, PFI_EINVAL, "invalid DSN pattern '%s'"
		                   " (use 5.1.1, 5.1.* or 5.*)", dsn);
	if (!wild)
		return where_term1(w, "d.dsn = ?", dsn);
	rc = where_term(w, "d.dsn LIKE ?");
	if (rc == PFI_OK)
		rc = where_text_n(w, dsn, (size_t)n + 1);
	if (rc == PFI_OK)   /* digits and dots only: the star becomes % */
		w->params[w->n - 1].text[n] = '%';
	return rc;
}

/* ---- client: address, network or host name -------------------------------- */

/* Parses an IPv4 or IPv6 address into addr; its length, or 0. */
static size_t inet_parse(const char *s, size_t n, unsigned char *addr)
{
	char buf[64];

	if (n >= 5 && strncasecmp(s, "ipv6:", 5) == 0) {
		s += 5;
		n -= 5;
	}
	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strchr(buf, ':') != NULL)
		return inet_pton(AF_INET6, buf, addr) == 1 ? 16 : 0;
	return inet_pton(AF_INET, buf, addr) == 1 ? 4 : 0;
}

/* The prefix length after '/' (0..max), or -1. */
static int cidr_bits(const char *s, int max)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	return (*end != '\0' || v < 0 || v > max) ? -1 : (int)v;
}

/* Adds "pfi_inet_in(client_ip, ?, ?)" for the network addr/bits. */
static int where_network(struct pfi_where *w, const unsigned char *addr,
                         size_t len, int bits)
{
	struct param *p;
	int rc = where_term(w, "pfi_inet_in(coalesce(m.client_ip, d.client_ip),"
	                    " ?, ?)");

	if (rc != PFI_OK)
		return rc;
	p = where_param(w, P_BLOB);
	if (p == NULL || (p->text = malloc(len)) == NULL)
		return PFI_ENOMEM;
	memcpy(p->text, addr, len);
	p->len = len;
	return where_int(w, bits);
}

static int filter_client(struct pfi_where *w, const char *c)
{
	const char *slash = strchr(c, '/');
	unsigned char addr[16];
	size_t len = inet_parse(c, slash ? (size_t)(slash - c) : strlen(c), addr);
	int bits;

	if (slash == NULL && len > 0)
		return where_network(w, addr, len, (int)len * 8);
	if (slash == NULL)
		return filter_domain(w, "lower(coalesce(m.client, d.client))", c);
	bits = len > 0 ? cidr_bits(slash + 1, (int)len * 8) : -1;
	if (bits < 0)
		return pfi_err_set(w->err, PFI_EINVAL, "invalid CIDR network '%s'", c);
	return where_network(w, addr, len, bits);
}

/* Whether the first `bits` bits of a and b are equal. */
static int prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));

	if (memcmp(a, b, (size_t)whole) != 0)
		return 0;
	return rest == 0 || ((a[whole] ^ b[whole]) & mask) == 0;
}

/* pfi_inet_in(ip TEXT, net BLOB, bits INT); IPv4-mapped IPv6 counts as IPv4. */
static void sql_inet_in(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                                          0xff, 0xff };
	const char *ip = (const char *)sqlite3_value_text(argv[0]);
	const unsigned char *net = sqlite3_value_blob(argv[1]);
	int nlen = sqlite3_value_bytes(argv[1]), bits = sqlite3_value_int(argv[2]);
	unsigned char addr[16];
	size_t len;

	(void)argc;
	if (ip == NULL || net == NULL || (nlen != 4 && nlen != 16) ||
	    bits < 0 || bits > nlen * 8) {
		sqlite3_result_int(ctx, 0);
		return;
	}
	len = inet_parse(ip, (size_t)sqlite3_value_bytes(argv[0]), addr);
	if (len == 16 && nlen == 4 && memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		len = 4;
	}
	sqlite3_result_int(ctx, len == (size_t)nlen && prefix_eq(addr, net, bits));
}

/* ---- --grep -------------------------------------------------------------------- */

static int filter_grep(struct pfi_where *w, const char *pattern)
{
	uint32_t opts = 0;
	PCRE2_SIZE off;
	int code;
	char msg[256];

#ifdef PCRE2_MATCH_INVALID_UTF
	opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
#endif
	w->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts,
	                      &code, &off, NULL);
	if (w->re == NULL) {
		pcre2_get_error_message(code, (PCRE2_UCHAR *)msg, sizeof(msg));
		return pfi_err_set(w->err, PFI_EINVAL, "invalid regex '%s': %s at"
		                   " offset %zu", pattern, msg, (size_t)off);
	}
	pcre2_jit_compile(w->re, PCRE2_JIT_COMPLETE);  /* else interpreted */
	w->md = pcre2_match_data_create_from_pattern(w->re, NULL);
	if (w->md == NULL ||
	    where_term(w, "pfi_grep(?, d.message, d.line)") != PFI_OK ||
	    where_param(w, P_WHERE) == NULL)
		return PFI_ENOMEM;
	return PFI_OK;
}

/* What a search of lines found. */
struct grep_ctx {
	struct pfi_where *w;
	int found;          /* a line matched */
};

/* Matches one line; stops the reading (PFI_EOF) at the first match. */
static int grep_line(void *ctx, int64_t id, const char *line, size_t len)
{
	struct grep_ctx *g = ctx;
	int rc = pcre2_match(g->w->re, (PCRE2_SPTR)line, len, 0, 0, g->w->md,
	                     NULL);

	(void)id;
	if (rc == PCRE2_ERROR_NOMATCH)
		return PFI_OK;
	if (rc < 0)
		return pfi_err_set(g->w->err, PFI_ERROR, "--grep: the regex failed"
		                   " on line %lld (a match limit)", (long long)id);
	g->found = 1;
	return PFI_EOF;
}

/* Reads lines `ids` and matches each one (direct mode). */
static int grep_read(struct pfi_where *w, const int64_t *ids, size_t n,
                     int *found)
{
	struct grep_ctx g = { w, 0 };
	int rc = pfi_store_read_lines(w->st, ids, n, grep_line, &g);

	*found = g.found;
	return rc == PFI_EOF ? PFI_OK : rc;
}

/* Sets the bit of every line that matches (scan mode). */
static int scan_line(void *ctx, int64_t id, const char *line, size_t len)
{
	struct pfi_where *w = ctx;
	int rc = pcre2_match(w->re, (PCRE2_SPTR)line, len, 0, 0, w->md, NULL);

	if (rc < 0 && rc != PCRE2_ERROR_NOMATCH)
		return pfi_err_set(w->err, PFI_ERROR, "--grep: the regex failed"
		                   " on line %lld (a match limit)", (long long)id);
	if (rc >= 0 && id > 0 && id < w->nbits)
		w->bits[id / 8] |= (unsigned char)(1u << (id % 8));
	return PFI_OK;
}

/*
 * Matches every line of the index once, in id order (each chunk is
 * decompressed once), into the bitmap of matching lines.
 */
static int grep_scan(struct pfi_where *w)
{
	int64_t max = pfi_store_next_line(w->st), *ids, id = 1;
	size_t n;
	int rc = PFI_OK;

	if (max < 0)
		return PFI_ERROR;
	w->nbits = max;
	w->bits = calloc((size_t)max / 8 + 1, 1);
	ids = malloc(GREP_BATCH * sizeof(*ids));
	if (w->bits == NULL || ids == NULL)
		rc = PFI_ENOMEM;
	while (rc == PFI_OK && id < max) {
		for (n = 0; n < GREP_BATCH && id < max; n++)
			ids[n] = id++;
		rc = pfi_store_read_lines(w->st, ids, n, scan_line, w);
	}
	free(ids);
	w->scanned = rc == PFI_OK;
	return rc;
}

/* Whether one of lines `ids` matches: read them while few rows have
 * been asked about, then from the bitmap of one scan of all lines. */
static int grep_lines(struct pfi_where *w, const int64_t *ids, size_t n,
                      int *found)
{
	size_t i;
	int rc;

	if (!w->scanned && ++w->direct > GREP_DIRECT_MAX &&
	    (rc = grep_scan(w)) != PFI_OK)
		return rc;
	if (!w->scanned)
		return grep_read(w, ids, n, found);
	*found = 0;
	for (i = 0; i < n && !*found; i++)
		*found = ids[i] > 0 && ids[i] < w->nbits &&
		         (w->bits[ids[i] / 8] & (1u << (ids[i] % 8))) != 0;
	return PFI_OK;
}

/* Whether a line of message `id` matches; remembers the last answer,
 * since a message's recipients often come one after another. */
static int grep_message(struct pfi_where *w, int64_t id, int *found)
{
	int64_t *ids = NULL;
	size_t n = 0;
	int rc;

	if (w->memo_valid && w->memo_msg == id) {
		*found = w->memo_found;
		return PFI_OK;
	}
	rc = pfi_store_message_lines(w->st, id, &ids, &n);
	if (rc == PFI_OK)
		rc = grep_lines(w, ids, n, found);
	free(ids);
	w->memo_valid = rc == PFI_OK;
	w->memo_msg = id;
	w->memo_found = *found;
	return rc;
}

/* pfi_grep(where POINTER, message, line): 1 when a line of the message
 * (or the reject line, for a NOQUEUE reject) matches the regex. */
static void sql_grep(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct pfi_where *w = sqlite3_value_pointer(argv[0], where_ptr_type);
	int64_t line;
	int found = 0, rc = PFI_OK;

	(void)argc;
	if (w == NULL || w->re == NULL) {
		sqlite3_result_error(ctx, "pfi_grep: no compiled regex", -1);
		return;
	}
	if (sqlite3_value_type(argv[1]) != SQLITE_NULL) {
		rc = grep_message(w, sqlite3_value_int64(argv[1]), &found);
	} else if (sqlite3_value_type(argv[2]) != SQLITE_NULL) {
		line = sqlite3_value_int64(argv[2]);
		rc = grep_lines(w, &line, 1, &found);
	}
	if (rc != PFI_OK)
		sqlite3_result_error(ctx, "--grep: cannot read the log lines", -1);
	else
		sqlite3_result_int(ctx, found);
}

/* pfi_domain(addr): the lower-case domain after the last '@', or NULL. */
static void sql_domain(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *addr = (const char *)sqlite3_value_text(argv[0]);
	char buf[256];
	const char *d = pfi_addr_domain(addr, buf, sizeof(buf));

	(void)argc;
	if (d == NULL)
		sqlite3_result_null(ctx);
	else
		sqlite3_result_text(ctx, d, -1, SQLITE_TRANSIENT);
}

int pfi_where_functions(pfi_store *st)
{
	sqlite3_stmt *probe = NULL;
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;

	if (sqlite3_prepare_v2(st->db, "SELECT pfi_grep(NULL, NULL, NULL)", -1,
	                       &probe, NULL) == SQLITE_OK) {
		sqlite3_finalize(probe);
		return PFI_OK;
	}
	if (sqlite3_create_function(st->db, "pfi_domain", 1, flags, NULL,
	                            sql_domain, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(st->db, "pfi_inet_in", 3, flags, NULL,
	                            sql_inet_in, NULL, NULL) != SQLITE_OK ||
	    sqlite3_create_function(st->db, "pfi_grep", 3,
	                            SQLITE_UTF8 | SQLITE_DIRECTONLY, NULL,
	                            sql_grep, NULL, NULL) != SQLITE_OK)
		return pfi_store_dberr(st, PFI_ERROR, "cannot register functions");
	return PFI_OK;
}

/* ---- the filter ---------------------------------------------------------------- */

/* The terms on addresses, hosts and text. */
static int where_fields(struct pfi_where *w, const struct pfi_filter *f)
{
	int rc = PFI_OK;

	if (rc == PFI_OK && f->from)
		rc = filter_from(w, f->from);
	if (rc == PFI_OK && f->to)
		rc = filter_to(w, f->to);
	if (rc == PFI_OK && f->domain)
		rc = filter_domain(w, "d.domain", f->domain);
	if (rc == PFI_OK && f->sender_domain)
		rc = filter_domain(w, "pfi_domain(coalesce(m.sender, d.sender))",
		                   f->sender_domain);
	if (rc == PFI_OK && f->subject)
		rc = filter_subject(w, f->subject);
	if (rc == PFI_OK && f->relay)
		rc = filter_relay(w, f->relay);
	if (rc == PFI_OK && f->host)
		rc = where_term1(w, "d.host = ? COLLATE NOCASE", f->host);
	if (rc == PFI_OK && f->message_id)
		rc = filter_message_id(w, f->message_id);
	if (rc == PFI_OK && f->sasl_user)
		rc = where_term1(w, "m.sasl_username = ? COLLATE NOCASE", f->sasl_user);
	return rc;
}

/* --verdict KIND=RESULT: SPEC's words only, so a typo is an error rather
 * than no match.  An index older than schema 5 holds no verdicts. */
static int filter_verdict(struct pfi_where *w, const char *spec)
{
	const char *eq = strchr(spec, '='), *const *r;
	char kind[16];
	size_t n = eq ? (size_t)(eq - spec) : 0;

	if (eq == NULL || n == 0 || n >= sizeof(kind))
		return pfi_err_set(w->err, PFI_EINVAL, "--verdict: '%s' is not"
		                   " KIND=RESULT (KIND: dkim, spf, dmarc, spam,"
		                   " virus)", spec);
	memcpy(kind, spec, n);
	kind[n] = '\0';
	r = pfi_verdict_results(kind);
	if (r == NULL)
		return pfi_err_set(w->err, PFI_EINVAL, "--verdict: unknown kind"
		                   " '%s' (dkim, spf, dmarc, spam, virus)", kind);
	while (*r != NULL && strcmp(*r, eq + 1) != 0)
		r++;
	if (*r == NULL)
		return pfi_err_set(w->err, PFI_EINVAL, "--verdict: %s has no"
		                   " result '%s'", kind, eq + 1);
	if (w->st->schema < 5)
		return where_term(w, "0");
	if (where_term(w, pfi_verdict_cond_sql) != PFI_OK ||
	    where_text(w, kind) != PFI_OK || where_text(w, eq + 1) != PFI_OK ||
	    where_text(w, kind) != PFI_OK || where_text(w, eq + 1) != PFI_OK)
		return PFI_ENOMEM;
	return PFI_OK;
}

/* The terms that are checked values: statuses, DSN, client, times, regex. */
static int where_checked(struct pfi_where *w, const struct pfi_filter *f)
{
	size_t i;
	int rc = PFI_OK;

	if (rc == PFI_OK && f->nstatus > 0)
		rc = filter_status(w, f->status, f->nstatus);
	if (rc == PFI_OK && f->dsn)
		rc = filter_dsn(w, f->dsn);
	if (rc == PFI_OK && f->client)
		rc = filter_client(w, f->client);
	if (rc == PFI_OK && f->since != 0 && (rc = where_term(w, "d.time >= ?")) == PFI_OK)
		rc = where_int(w, f->since);
	if (rc == PFI_OK && f->until != 0 && (rc = where_term(w, "d.time < ?")) == PFI_OK)
		rc = where_int(w, f->until);
	for (i = 0; rc == PFI_OK && i < f->nverdict; i++)
		rc = filter_verdict(w, f->verdict[i]);
	if (rc == PFI_OK && f->grep)
		rc = filter_grep(w, f->grep);
	return rc;
}

int pfi_where_new(struct pfi_where **out, pfi_store *st,
                  const struct pfi_filter *f)
{
	struct pfi_where *w = calloc(1, sizeof(*w));
	int rc = w ? PFI_OK : PFI_ENOMEM;

	*out = NULL;
	if (w != NULL) {
		pfi_buf_init(&w->sql, 0);
		w->st = st;
		w->err = &st->err;
		rc = where_fields(w, f);
	}
	if (rc == PFI_OK)
		rc = where_checked(w, f);
	if (rc == PFI_OK && w->sql.len == 0)
		rc = pfi_buf_appends(&w->sql, "1") == PFI_OK ? PFI_OK : PFI_ENOMEM;
	if (rc == PFI_OK && (f->client || f->grep || f->sender_domain))
		rc = pfi_where_functions(st);
	if (rc == PFI_ENOMEM)
		pfi_err_set(&st->err, rc, "out of memory");
	if (rc != PFI_OK) {
		pfi_where_free(w);
		return rc;
	}
	*out = w;
	return PFI_OK;
}

const char *pfi_where_sql(const struct pfi_where *w)
{
	return w->sql.data;
}

int pfi_where_bind(const struct pfi_where *w, sqlite3_stmt *s, int first)
{
	const struct param *p;
	size_t i;

	for (i = 0; i < w->n; i++, first++) {
		p = &w->params[i];
		if (p->kind == P_TEXT)
			sqlite3_bind_text(s, first, p->text, (int)p->len, SQLITE_STATIC);
		else if (p->kind == P_INT)
			sqlite3_bind_int64(s, first, p->i);
		else if (p->kind == P_BLOB)
			sqlite3_bind_blob(s, first, p->text, (int)p->len, SQLITE_STATIC);
		else
			sqlite3_bind_pointer(s, first, (void *)w, where_ptr_type, NULL);
	}
	return first;
}

void pfi_where_free(struct pfi_where *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->n; i++)
		free(w->params[i].text);
	free(w->params);
	pfi_buf_release(&w->sql);
	pcre2_match_data_free(w->md);
	pcre2_code_free(w->re);
	free(w->bits);
	free(w);
}

int pfi_filter_narrows(const struct pfi_filter *f)
{
	return f != NULL && (f->from || f->to || f->domain || f->sender_domain ||
	       f->subject || f->nstatus || f->dsn || f->client || f->relay ||
	       f->host || f->message_id || f->sasl_user || f->grep ||
	       f->nverdict);
}

int pfi_where_prepare(pfi_store *st, const char *head,
                      const struct pfi_where *w, const char *tail, int first,
                      sqlite3_stmt **out)
{
	struct pfi_buf sql;
	int rc = PFI_OK;

	*out = NULL;
	pfi_buf_init(&sql, 0);
	if (pfi_buf_appends(&sql, head) != PFI_OK ||
	    pfi_buf_appends(&sql, pfi_where_sql(w)) != PFI_OK ||
	    pfi_buf_appends(&sql, tail) != PFI_OK)
		rc = pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	else if (sqlite3_prepare_v2(st->db, sql.data, -1, out, NULL) != SQLITE_OK)
		rc = pfi_store_dberr(st, PFI_ERROR, "cannot query the index");
	else
		pfi_where_bind(w, *out, first);
	pfi_buf_release(&sql);
	return rc;
}
