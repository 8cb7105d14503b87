/*
 * write-overlap.c - each line indexed once, whatever the inputs overlap.
 *
 * Standard input, and files that are not rotations of one another, may
 * hold the same lines: two exports of the same hours, mail.log and an
 * evidence copy of it, Debian's mail.err (all of whose lines are in
 * mail.log), `cat a b` where b repeats part of a.  A line is known by its
 * identity: host, time to the second, program (with its instance, e.g.
 * postfix-out/smtp), PID, rsyslog's "message repeated N times" count and
 * text, hashed to 64 bits (XXH3 of Debian's libxxhash, whose output
 * is fixed since 0.8.0: identities are stored).  A line that is no syslog line is
 * known by its text and the time of the syslog line before it.
 *
 * The second, not the microsecond: a classic stamp has none, and the
 * writers of one event (journald, rsyslog) each stamp their own fraction,
 * so a classic copy, an RFC 3339 copy and a journal entry of a line are
 * the same line.
 *
 * Copies.  Within one source every line is kept: two sessions of one
 * smtpd process in one second log the same "connect from" line.  Across
 * sources, the k-th copy of a line in the new source is a repeat only if
 * the index held at least k copies before.  A source is what an input
 * (a file, standard input, a journal source) holds of one host, cut where
 * its time runs back by more than CUT_SECONDS (lines come a second or two
 * out of order; a stream may carry several logs back to back): each piece
 * is a segment, and the lines of the segments before are what it is
 * checked against.
 *
 * Cost.  line_ids keeps, per host and UTC hour, the identities of the
 * lines indexed (8 bytes a line, in rows written as the run goes), and
 * line_hosts each host's latest time.  A segment that starts after its
 * host's latest second indexed is new, and costs a hash a line (a log
 * read on, a rotation read after the one before it, a first run).  One
 * that starts in or before it has each line up to that second looked up in the
 * identities of the line's hour, loaded when first needed and ticked off
 * as lines match; its rows are loaded once per segment.  Memory holds
 * the hours a segment may still reach: the latest, and the one before
 * it for CUT_SECONDS after the hour turns.
 *
 * The latest second itself is checked too (two exports cut at the same
 * second both hold it), except where an input goes on from where a run
 * stopped reading it: there the lines of that second that follow are the
 * log's next ones, and a line the log truly holds twice in that second
 * must not be taken for a repeat of its first copy.
 *
 * Not told apart (by design; see pfi-index(1)): within one input, a
 * repeat that runs back no more than CUT_SECONDS is a line of the same
 * source; an input read on whose first lines fall in its host's latest
 * second keeps lines of that second that another input also held.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "hash.h"
#include "write-overlap.h"

#define CUT_SECONDS 2           /* a line this far behind its segment stays in it */
#define NO_SECOND INT64_MIN     /* no time: no line, no segment */
#define HOUR_SECONDS 3600
#define PENDING_MAX 65536       /* identities of one hour held before a row is written */

static void put64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- identities -------------------------------------------------------------------------- */

struct ident {
	struct pfi_slice host;   /* "" for a line that is no syslog line */
	int64_t sec;             /* seconds since the epoch */
	uint64_t id;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* The identity of a line: env its envelope, or NULL (then the line's text
 * and the time it is filed under say it). */
static void identify(const struct pfi_envelope *env, const char *line,
                     size_t len, int64_t time, struct ident *out)
{
	static const struct pfi_slice none = { "", 0 };
	struct pfi_slice host = env ? env->host : none;
	struct pfi_slice program = env ? env->program : none;
	struct pfi_slice text = { line, len };
	unsigned char head[48];
	uint64_t h;

	if (env != NULL)
		text = env->text;
	out->sec = floor_div(env ? env->time : time, 1000000);
	put64(head, (uint64_t)out->sec);
	put64(head + 8, (uint64_t)(env ? (int64_t)env->pid : -2));
	put64(head + 16, (uint64_t)(env ? env->repeat : 0));
	put64(head + 24, host.n);
	put64(head + 32, program.n);
	put64(head + 40, text.n);
	h = XXH3_64bits(head, sizeof(head));
	h = XXH3_64bits_withSeed(host.p, host.n, h);
	h = XXH3_64bits_withSeed(program.p, program.n, h);
	out->id = XXH3_64bits_withSeed(text.p, text.n, h);
	out->host = host;
}

/* ---- state ------------------------------------------------------------------------------ */

/* The identities of one host's lines in one hour. */
struct idset {
	int64_t hour;            /* UTC hour: seconds / 3600 */
	uint64_t *id;            /* loaded ones sorted */
	unsigned char *taken;    /* loaded: matched by a line of the segment */
	size_t n, cap;
};

struct host {
	struct pfi_hnode node;
	struct host *next;       /* the run's hosts, newest first */
	char *name;
	size_t len;
	int64_t latest;          /* second of its latest line before the segment */
	int64_t seg_max;         /* the segment's latest second; NO_SECOND: none */
	int64_t seg_rows;        /* the segment checks line_ids rows up to it */
	int checking;            /* the segment began before `latest` */
	uint64_t input;          /* the input its segment belongs to */
	int64_t last_time;       /* its latest line indexed by the run, 0: none */
	uint64_t dups;           /* its lines the run skipped */
	struct idset *pending;   /* its new lines, by hour, to write */
	size_t npending, cappending;
	struct idset *loaded;    /* lines indexed before, by hour, as needed */
	size_t nloaded, caploaded;
};

struct pfi_overlap {
	pfi_store *st;
	struct pfi_htab hosts;
	struct host *all;
	uint64_t input;          /* inputs begun */
	int reads_on;            /* the input goes on where a run stopped */
	int64_t rows;            /* rowid of the last line_ids row */
	int record_only;         /* filling the tables: no line is checked */
	struct pfi_buf blob;     /* a row's identities, encoded */
	sqlite3_stmt *insert, *load, *latest;
};

static const char insert_sql[] =
	"INSERT INTO line_ids(host, hour, ids) VALUES (?1, ?2, ?3)";
static const char load_sql[] =
	"SELECT ids FROM line_ids WHERE host = ?1 AND hour = ?2 AND rowid <= ?3";
static const char latest_sql[] =
	"SELECT last FROM line_hosts WHERE host = ?1";
static const char save_host_sql[] =
	"INSERT INTO line_hosts(host, last, duplicates) VALUES (?1, ?2, ?3)"
	" ON CONFLICT(host) DO UPDATE SET last = max(last, excluded.last),"
	" duplicates = duplicates + excluded.duplicates";

/* A read that failed: out of memory, or the database's error. */
static int read_failed(pfi_store *st)
{
	if ((sqlite3_extended_errcode(st->db) & 0xff) == SQLITE_NOMEM)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	return pfi_store_dberr(st, PFI_ERROR, "cannot read index");
}

static void idset_release(struct idset *s)
{
	free(s->id);
	free(s->taken);
	memset(s, 0, sizeof(*s));
}

static void host_free(struct host *h)
{
	size_t i;

	for (i = 0; i < h->npending; i++)
		idset_release(&h->pending[i]);
	for (i = 0; i < h->nloaded; i++)
		idset_release(&h->loaded[i]);
	free(h->pending);
	free(h->loaded);
	free(h->name);
	free(h);
}

void pfi_overlap_free(struct pfi_overlap *o)
{
	struct host *h, *next;

	if (o == NULL)
		return;
	for (h = o->all; h != NULL; h = next) {
		next = h->next;
		host_free(h);
	}
	pfi_htab_release(&o->hosts);
	pfi_buf_release(&o->blob);
	sqlite3_finalize(o->insert);
	sqlite3_finalize(o->load);
	sqlite3_finalize(o->latest);
	free(o);
}

int pfi_overlap_new(struct pfi_overlap **out, pfi_store *st)
{
	struct pfi_overlap *o = calloc(1, sizeof(*o));
	int rc;

	*out = NULL;
	if (o == NULL)
		return pfi_err_set(&st->err, PFI_ENOMEM, "out of memory");
	o->st = st;
	pfi_buf_init(&o->blob, 0);
	rc = pfi_htab_init(&o->hosts, 16);
	if (rc != PFI_OK)
		rc = pfi_err_set(&st->err, rc, "out of memory");
	if (rc == PFI_OK)
		rc = pfi_store_prepare(st, insert_sql, &o->insert);
	if (rc == PFI_OK)
		rc = pfi_store_prepare(st, load_sql, &o->load);
	if (rc == PFI_OK)
		rc = pfi_store_prepare(st, latest_sql, &o->latest);
	o->rows = pfi_store_int(st, "SELECT coalesce(max(rowid), 0) FROM line_ids");
	if (rc == PFI_OK && o->rows < 0)
		rc = read_failed(st);
	if (rc != PFI_OK) {
		pfi_overlap_free(o);
		return rc;
	}
	*out = o;
	return PFI_OK;
}

void pfi_overlap_input(struct pfi_overlap *o, int reads_on)
{
	if (o != NULL) {
		o->input++;
		o->reads_on = reads_on;
	}
}

/* ---- hosts ------------------------------------------------------------------------------ */

static int host_eq(const struct pfi_hnode *n, const void *key)
{
	const struct host *h = PFI_HTAB_ENTRY(n, struct host, node);
	const struct pfi_slice *k = key;

	return h->len == k->n && (k->n == 0 || memcmp(h->name, k->p, k->n) == 0);
}

/* The second of the host's latest line indexed before the run. */
static int load_latest(struct pfi_overlap *o, struct host *h)
{
	sqlite3_stmt *s = o->latest;
	int step;

	h->latest = NO_SECOND;
	sqlite3_reset(s);
	sqlite3_bind_text(s, 1, h->name, (int)h->len, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		h->latest = floor_div(sqlite3_column_int64(s, 0), 1000000);
	sqlite3_reset(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return pfi_store_dberr(o->st, PFI_ERROR, "cannot read index");
	return PFI_OK;
}

static int host_get(struct pfi_overlap *o, struct pfi_slice name,
                    struct host **out)
{
	uint64_t hv = pfi_hash_bytes(PFI_HASH_INIT, name.p, name.n);
	struct pfi_hnode **link = pfi_htab_find(&o->hosts, hv, host_eq, &name);
	struct host *h;

	if (*link != NULL) {
		*out = PFI_HTAB_ENTRY(*link, struct host, node);
		return PFI_OK;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->name = malloc(name.n + 1)) == NULL ||
	    pfi_htab_reserve(&o->hosts) != PFI_OK) {
		if (h != NULL)
			free(h->name);
		free(h);
		return pfi_err_set(&o->st->err, PFI_ENOMEM, "out of memory");
	}
	if (name.n)
		memcpy(h->name, name.p, name.n);
	h->name[name.n] = '\0';
	h->len = name.n;
	h->seg_max = NO_SECOND;
	link = pfi_htab_find(&o->hosts, hv, host_eq, &name);
	pfi_htab_link(&o->hosts, link, &h->node, hv);
	h->next = o->all;
	o->all = h;
	*out = h;
	return load_latest(o, h);
}

/* ---- writing ---------------------------------------------------------------------------- */

/* Writes the identities of set s as one row, and empties it. */
static int write_set(struct pfi_overlap *o, const struct host *h,
                     struct idset *s)
{
	sqlite3_stmt *q = o->insert;
	size_t i;
	int rc = PFI_OK;

	if (s->n == 0)
		return PFI_OK;
	pfi_buf_reset(&o->blob);
	for (i = 0; i < s->n && rc == PFI_OK; i++) {
		unsigned char b[8];
		put64(b, s->id[i]);
		rc = pfi_buf_append(&o->blob, b, sizeof(b));
	}
	if (rc != PFI_OK)
		return pfi_err_set(&o->st->err, rc, "out of memory");
	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, h->name, (int)h->len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, s->hour);
	sqlite3_bind_blob(q, 3, o->blob.data, (int)o->blob.len, SQLITE_STATIC);
	rc = pfi_store_step_done(o->st, q, "cannot write line identities");
	o->rows = sqlite3_last_insert_rowid(o->st->db);
	s->n = 0;
	return rc;
}

/* Writes the host's pending sets of hours before `hour` and forgets
 * those loaded: its segment reaches them no more. */
static int retire(struct pfi_overlap *o, struct host *h, int64_t hour)
{
	size_t i, keep = 0;
	int rc = PFI_OK;

	for (i = 0; i < h->npending; i++) {
		if (h->pending[i].hour >= hour) {
			h->pending[keep++] = h->pending[i];
			continue;
		}
		if (rc == PFI_OK)
			rc = write_set(o, h, &h->pending[i]);
		idset_release(&h->pending[i]);
	}
	h->npending = keep;
	for (i = keep = 0; i < h->nloaded; i++) {
		if (h->loaded[i].hour >= hour)
			h->loaded[keep++] = h->loaded[i];
		else
			idset_release(&h->loaded[i]);
	}
	h->nloaded = keep;
	return rc;
}

/* ---- segments --------------------------------------------------------------------------- */

static int segment_end(struct pfi_overlap *o, struct host *h)
{
	int rc = retire(o, h, INT64_MAX);

	if (h->seg_max > h->latest)
		h->latest = h->seg_max;
	h->seg_max = NO_SECOND;
	return rc;
}

/* Places a line at second `sec` in the host's segment: a new input, or a
 * time that runs back further than CUT_SECONDS, begins another. */
static int place(struct pfi_overlap *o, struct host *h, int64_t sec)
{
	int rc = PFI_OK;

	if (h->seg_max != NO_SECOND &&
	    (h->input != o->input || sec < h->seg_max - CUT_SECONDS))
		rc = segment_end(o, h);
	if (rc != PFI_OK)
		return rc;
	if (h->seg_max == NO_SECOND) {
		h->checking = h->latest != NO_SECOND && (sec < h->latest ||
		              (sec == h->latest && !(h->input != o->input &&
		                                     o->reads_on)));
		h->seg_max = sec;
		h->input = o->input;
		h->seg_rows = o->rows;
		return PFI_OK;
	}
	if (sec <= h->seg_max)
		return PFI_OK;
	h->seg_max = sec;
	return retire(o, h, floor_div(sec - CUT_SECONDS, HOUR_SECONDS));
}

/* ---- looking up ------------------------------------------------------------------------- */

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends the identities of a row (blob of n * 8 bytes) to s. */
static int add_row(struct idset *s, const unsigned char *p, size_t bytes)
{
	size_t i, n = bytes / 8;

	if (n > SIZE_MAX / 8 - s->n)
		return PFI_ENOMEM;
	if (s->n + n > s->cap) {
		uint64_t *v = realloc(s->id, (s->n + n) * sizeof(*v));
		if (v == NULL)
			return PFI_ENOMEM;
		s->id = v;
		s->cap = s->n + n;
	}
	for (i = 0; i < n; i++)
		s->id[s->n++] = get64(p + 8 * i);
	return PFI_OK;
}

/* Loads what was indexed of the host's hour before its segment. */
static int load_hour(struct pfi_overlap *o, struct host *h, struct idset *s)
{
	sqlite3_stmt *q = o->load;
	int step, rc = PFI_OK;

	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, h->name, (int)h->len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, s->hour);
	sqlite3_bind_int64(q, 3, h->seg_rows);
	while (rc == PFI_OK && (step = sqlite3_step(q)) == SQLITE_ROW)
		rc = add_row(s, sqlite3_column_blob(q, 0),
		             (size_t)sqlite3_column_bytes(q, 0));
	sqlite3_reset(q);
	if (rc != PFI_OK)
		return pfi_err_set(&o->st->err, rc, "out of memory");
	if (step != SQLITE_DONE)
		return pfi_store_dberr(o->st, PFI_ERROR, "cannot read index");
	if (s->n && (s->taken = calloc(s->n, 1)) == NULL)
		return pfi_err_set(&o->st->err, PFI_ENOMEM, "out of memory");
	if (s->n > 1)   /* s->id is NULL when the hour held nothing */
		qsort(s->id, s->n, sizeof(*s->id), cmp_id);
	return PFI_OK;
}

/* The host's loaded set of `hour`, loaded now if need be. */
static int loaded_set(struct pfi_overlap *o, struct host *h, int64_t hour,
                      struct idset **out)
{
	struct idset *s;
	size_t i;

	for (i = 0; i < h->nloaded; i++)
		if (h->loaded[i].hour == hour) {
			*out = &h->loaded[i];
			return PFI_OK;
		}
	if (pfi_array_reserve((void **)&h->loaded, &h->caploaded, h->nloaded,
	                      sizeof(*h->loaded), 2) != PFI_OK)
		return pfi_err_set(&o->st->err, PFI_ENOMEM, "out of memory");
	s = memset(&h->loaded[h->nloaded++], 0, sizeof(*s));
	s->hour = hour;
	*out = s;
	return load_hour(o, h, s);
}

/* Whether the index held a copy of the line that no line of the segment
 * has matched yet; if so, that copy is now matched. */
static int take(struct idset *s, uint64_t id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->id[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < s->n && s->id[lo] == id; lo++)
		if (!s->taken[lo]) {
			s->taken[lo] = 1;
			return 1;
		}
	return 0;
}

/* Notes the identity of a line the run indexes. */
static int note(struct pfi_overlap *o, struct host *h, const struct ident *id)
{
	int64_t hour = floor_div(id->sec, HOUR_SECONDS);
	struct idset *s = NULL;
	size_t i;

	for (i = 0; i < h->npending && s == NULL; i++)
		if (h->pending[i].hour == hour)
			s = &h->pending[i];
	if (s == NULL) {
		if (pfi_array_reserve((void **)&h->pending, &h->cappending,
		                      h->npending, sizeof(*s), 2) != PFI_OK)
			return pfi_err_set(&o->st->err, PFI_ENOMEM, "out of memory");
		s = memset(&h->pending[h->npending++], 0, sizeof(*s));
		s->hour = hour;
	}
	if (pfi_array_reserve((void **)&s->id, &s->cap, s->n, sizeof(*s->id),
	                      256) != PFI_OK)
		return pfi_err_set(&o->st->err, PFI_ENOMEM, "out of memory");
	s->id[s->n++] = id->id;
	/* A row written now is past seg_rows: the segment never reads it. */
	return s->n >= PENDING_MAX ? write_set(o, h, s) : PFI_OK;
}

int pfi_overlap_check(struct pfi_overlap *o, const struct pfi_envelope *env,
                      const char *line, size_t len, int64_t time, int *dup)
{
	struct ident id;
	struct idset *s = NULL;
	struct host *h = NULL;
	int rc;

	*dup = 0;
	identify(env, line, len, time, &id);
	rc = host_get(o, id.host, &h);
	if (rc == PFI_OK)
		rc = place(o, h, id.sec);
	if (rc == PFI_OK && h->checking && id.sec <= h->latest &&
	    !o->record_only) {
		rc = loaded_set(o, h, floor_div(id.sec, HOUR_SECONDS), &s);
		if (rc == PFI_OK && s->n > 0 && take(s, id.id)) {
			*dup = 1;
			h->dups++;
			return PFI_OK;
		}
	}
	if (rc != PFI_OK)
		return rc;
	if (env != NULL)
		time = env->time;
	if (time > h->last_time)
		h->last_time = time;
	return note(o, h, &id);
}

/* ---- the end of a run ------------------------------------------------------------------- */

static int save_host(struct pfi_overlap *o, sqlite3_stmt *q,
                     const struct host *h)
{
	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, h->name, (int)h->len, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, h->last_time);
	sqlite3_bind_int64(q, 3, (int64_t)h->dups);
	return pfi_store_step_done(o->st, q, "cannot write line identities");
}

int pfi_overlap_finish(struct pfi_overlap *o)
{
	sqlite3_stmt *q = NULL;
	struct host *h;
	int rc = pfi_store_prepare(o->st, save_host_sql, &q);

	for (h = o->all; h != NULL && rc == PFI_OK; h = h->next) {
		rc = segment_end(o, h);
		if (rc == PFI_OK)
			rc = save_host(o, q, h);
	}
	sqlite3_finalize(q);
	return rc;
}

/* ---- an index made before these tables --------------------------------------------------- */

/* Filling the tables from the raw lines: each line's identity as the
 * run that indexed it would have noted it. */
struct refill {
	struct pfi_overlap *o;
	int64_t last;            /* the time of the last syslog line */
};

static int refill_line(struct refill *f, struct pfi_syslog_ctx *ctx,
                       const char *line, size_t len)
{
	struct pfi_envelope env;
	int dup, parsed = pfi_syslog_parse(ctx, line, len, &env) == PFI_OK;

	if (parsed)
		f->last = env.time;
	return pfi_overlap_check(f->o, parsed ? &env : NULL, line, len, f->last,
	                         &dup);
}

/* The lines of one chunk: classic stamps take their year from the time
 * of the chunk's latest line, and the zone of this process. */
static int refill_chunk(void *ctx, int64_t first, int64_t last,
                        const char *text, size_t size)
{
	struct refill *f = ctx;
	struct pfi_syslog_ctx sctx;
	const char *p = text, *end = text + size, *nl;
	int rc = PFI_OK;

	(void)first;
	pfi_syslog_init(&sctx, (time_t)floor_div(last, 1000000));
	for (; p < end && rc == PFI_OK; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		rc = refill_line(f, &sctx, p, (size_t)(nl - p));
	}
	return rc;
}

static int refill(pfi_store *st)
{
	struct refill f = { NULL, 0 };
	int rc = pfi_overlap_new(&f.o, st);

	if (rc == PFI_OK) {
		f.o->record_only = 1;
		rc = pfi_store_each_chunk(st, refill_chunk, &f);
	}
	if (rc == PFI_ENOMEM)
		rc = pfi_err_set(&st->err, rc, "out of memory");
	if (rc == PFI_OK)
		rc = pfi_overlap_finish(f.o);
	pfi_overlap_free(f.o);
	return rc;
}

static int64_t have_tables(pfi_store *st)
{
	return pfi_store_int(st, "SELECT count(*) FROM sqlite_schema"
	                     " WHERE type = 'table' AND name = 'line_hosts'");
}

/*
 * Made in the version of the schema that came before them (no version
 * step: a read-only open, or an older pfi, meets no difference but the
 * tables), when an index is first opened for writing.  Lines indexed
 * before are noted from the raw lines the index keeps, once.
 */
int pfi_overlap_prepare(pfi_store *st)
{
	int64_t have = have_tables(st);
	int rc;

	if (have != 0)
		return have > 0 ? PFI_OK : read_failed(st);
	rc = pfi_store_begin_write(st);
	if (rc != PFI_OK)
		return rc;
	/* Another process may have made them while this one waited. */
	have = have_tables(st);
	if (have < 0)
		rc = read_failed(st);
	if (have == 0)
		rc = pfi_store_exec(st, pfi_line_ids_sql);
	if (have == 0 && rc == PFI_OK)
		rc = refill(st);
	if (rc == PFI_OK)
		return pfi_store_exec(st, "COMMIT");
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}
