/*
 * fuzz_filter.c - libFuzzer target for the filter compiler (lib/filter.c)
 * and the queries built on it: the input, split on '\n', fills a struct
 * pfi_filter field by field (in the order fill() reads them; the status
 * field is a '|'-separated list, since and until are time specifications).
 * pfi_where_new() compiles it; the condition must then prepare as SQL,
 * take exactly its parameters, and run.  pfi_search_new/next, search_count
 * and pfi_stats_new (from the per-hour cells or the records, by a bit of
 * the input's size) run the same filter over a small index, made once per
 * process from two fixtures of testdata/ in a temporary directory.
 */
#include <unistd.h>

#include "fuzz.h"
#include "store.h"

#define NSTATUS_MAX 8
#define SEARCH_LIMIT 8

/* The fixtures indexed once: a year rollover and a requeue. */
static const char *const fixtures[] = {
	TESTDATA_DIR "/logs/rollover.log",
	TESTDATA_DIR "/requeue/mail.log",
};

static const char count_head[] =
	"SELECT count(*) FROM deliveries d"
	" LEFT JOIN messages m ON m.id = d.message WHERE ";

static pfi_store *store;
static char dir[] = "/tmp/pfi-fuzz-filter-XXXXXX";
static char dbpath[sizeof(dir) + 16];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void remove_store(void)
{
	pfi_store_close(store);
	unlink(dbpath);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_set_tz();
	FUZZ_CHECK(mkdtemp(dir) != NULL);
	snprintf(dbpath, sizeof(dbpath), "%s/fuzz.db", dir);
	FUZZ_CHECK(pfi_store_open(&store, dbpath, PFI_OPEN_WRITE) == PFI_OK);
	atexit(remove_store);
	FUZZ_CHECK(pfi_index_paths(store, fixtures, PFI_ARRAY_SIZE(fixtures),
	                           NULL, NULL) == PFI_OK);
	/* Queried read-only, as `pfi search` and `pfi stats` do. */
	pfi_store_close(store);
	FUZZ_CHECK(pfi_store_open(&store, dbpath, PFI_OPEN_READONLY) == PFI_OK);
	return 0;
}

/* The input's fields, NUL-terminated copies in one buffer. */
struct fields {
	char *buf;
	const char *v[16];
	size_t n;
	const char *status[NSTATUS_MAX];
};

static void split(struct fields *fl, const uint8_t *data, size_t size)
{
	char *p, *nl;

	fl->buf = fuzz_str(data, size);
	fl->n = 0;
	for (p = fl->buf; p != NULL && fl->n < PFI_ARRAY_SIZE(fl->v); p = nl) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl++ = '\0';
		fl->v[fl->n++] = p;
	}
}

/* A field, or NULL past the last one or for an empty field. */
static const char *field(const struct fields *fl, size_t i)
{
	return i < fl->n && fl->v[i][0] != '\0' ? fl->v[i] : NULL;
}

static int64_t field_time(const struct fields *fl, size_t i)
{
	int64_t t = 0;
	const char *s = field(fl, i);

	if (s == NULL || pfi_time_parse(&t, s, FUZZ_REF) != PFI_OK)
		return 0;
	return t;
}

/* Field 5, "sent|5.*,bounced", as the list of --status values. */
static size_t split_status(struct fields *fl, char *s)
{
	size_t n = 0;
	char *bar;

	for (; s != NULL && n < NSTATUS_MAX; s = bar) {
		bar = strchr(s, '|');
		if (bar != NULL)
			*bar++ = '\0';
		fl->status[n++] = s;
	}
	return n;
}

static void fill(struct pfi_filter *f, struct fields *fl)
{
	memset(f, 0, sizeof(*f));
	f->from = field(fl, 0);
	f->to = field(fl, 1);
	f->domain = field(fl, 2);
	f->sender_domain = field(fl, 3);
	f->subject = field(fl, 4);
	if (field(fl, 5) != NULL) {
		f->nstatus = split_status(fl, (char *)fl->v[5]);
		f->status = fl->status;
	}
	f->dsn = field(fl, 6);
	f->client = field(fl, 7);
	f->relay = field(fl, 8);
	f->host = field(fl, 9);
	f->message_id = field(fl, 10);
	f->sasl_user = field(fl, 11);
	f->grep = field(fl, 12);
	f->since = field_time(fl, 13);
	f->until = field_time(fl, 14);
}

/* The condition prepares, takes exactly its parameters and runs. */
static void run_where(const struct pfi_where *w)
{
	struct pfi_buf sql;
	sqlite3_stmt *s = NULL;
	int next, rc;

	pfi_buf_init(&sql, 0);
	FUZZ_CHECK(pfi_buf_appends(&sql, count_head) == PFI_OK &&
	           pfi_buf_appends(&sql, pfi_where_sql(w)) == PFI_OK);
	rc = sqlite3_prepare_v2(store->db, sql.data, -1, &s, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "fuzz: %s: %s\n", sql.data,
		        sqlite3_errmsg(store->db));
	FUZZ_CHECK(rc == SQLITE_OK);
	next = pfi_where_bind(w, s, 1);
	FUZZ_CHECK(next == sqlite3_bind_parameter_count(s) + 1);
	rc = sqlite3_step(s);
	FUZZ_CHECK(rc == SQLITE_ROW || rc == SQLITE_ERROR);
	sqlite3_finalize(s);
	pfi_buf_release(&sql);
}

/* Only a bad value may fail a query (or a regex hitting its limit). */
static void check_rc(int rc)
{
	if (rc != PFI_OK && rc != PFI_EOF && rc != PFI_EINVAL)
		fprintf(stderr, "fuzz: %s\n", pfi_errmsg(store));
	FUZZ_CHECK(rc == PFI_OK || rc == PFI_EOF || rc == PFI_EINVAL ||
	           strstr(pfi_errmsg(store), "--grep") != NULL);
}

/* Search options for filter f (the last made: a single thread). */
static const struct pfi_search_opts *search_opts(const struct pfi_filter *f,
                                                 int64_t limit, int reverse)
{
	static struct pfi_search_opts o;

	o.version = PFI_SEARCH_OPTIONS_VERSION;
	o.filter = f;
	o.limit = limit;
	o.reverse = reverse;
	return &o;
}

static void run_search(const struct pfi_filter *f, int reverse)
{
	const struct pfi_delivery *row;
	pfi_search *q = NULL;
	int64_t count = 0;
	int rc;

	rc = pfi_search_new(&q, store, search_opts(f, SEARCH_LIMIT, reverse));
	check_rc(rc);
	while (rc == PFI_OK && (rc = pfi_search_next(q, &row)) == PFI_OK)
		fuzz_touch(row->to);
	check_rc(rc);
	pfi_search_free(q);
	check_rc(pfi_search_count(store, search_opts(f, 0, 0), &count));
}

/* Stats by domain, from the per-hour cells or (rows_only) the records. */
static void run_stats(const struct pfi_filter *f, int rows_only)
{
	struct pfi_stats_opts o;
	struct pfi_stats *s = NULL;

	memset(&o, 0, sizeof(o));
	o.version = PFI_STATS_OPTIONS_VERSION;
	o.filter = f;
	o.by = PFI_BY_DOMAIN;
	o.rows_only = rows_only;
	check_rc(pfi_stats_new(&s, store, &o));
	pfi_stats_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pfi_filter f;
	struct fields fl;
	struct pfi_where *w = NULL;
	int rc;

	split(&fl, data, size);
	fill(&f, &fl);
	rc = pfi_where_new(&w, store, &f);
	FUZZ_CHECK(rc == PFI_OK || rc == PFI_EINVAL);
	if (rc == PFI_OK) {
		run_where(w);
		pfi_where_free(w);
		run_search(&f, size & 1);
		run_stats(&f, (size & 2) != 0);
	}
	free(fl.buf);
	return 0;
}
