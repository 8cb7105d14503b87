/*
 * search.c - `pfi search [FILTERS]`: one row per recipient delivery
 * (rejects included) that matches every filter given, newest first, in
 * any output format; or with --count only their number.  Reads the index;
 * writes the SPEC search rows, or the columns --columns picks.  On a
 * terminal the table leaves out its least useful columns until the rest
 * fits, so that no queue ID or address is ever cut.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfi.h"

enum {
	OPT_LIMIT = CLI_OPT_FILTER_END, OPT_REVERSE, OPT_COUNT, OPT_COLUMNS
};

/* Every column of search_cols below, in its order, and "help": what
 * --columns completes. */
static const char *const search_col_names[] = {
	"time", "host", "queue_id", "message_id", "from", "to", "orig_to",
	"domain", "status", "dsn", "relay", "delay", "delays", "attempts",
	"response", "client", "client_ip", "subject", "size", "sasl_username",
	"tls", "verdicts", "help", NULL
};

static const struct cli_opt search_opts[] = {
	CLI_FILTER_OPTS,
	{ "limit", 0, CLI_ARG_NUMBER, "N", OPT_LIMIT, 0, NULL,
	  "at most N rows", NULL },
	{ "reverse", 0, CLI_ARG_NONE, NULL, OPT_REVERSE, 0, NULL,
	  "oldest first", NULL },
	{ "count", 0, CLI_ARG_NONE, NULL, OPT_COUNT, 0, NULL,
	  "print only the number of rows", NULL },
	{ "columns", 'o', CLI_ARG_CHOICE, "LIST", OPT_COLUMNS, CLI_OPT_LIST,
	  search_col_names,
	  "the columns to print, in this order, in every format: a comma "
	  "list of time, queue_id, to, response ...; 'help' lists them", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

/* ---- columns ------------------------------------------------------------ */

/* A row being written: the delivery, and how. */
struct search_cell {
	const struct pfi_delivery *d;
	int json;                  /* json or ndjson: verdicts as objects */
	int table;                 /* table: NOQUEUE, <>, verdicts in one cell */
};

/* One column: SPEC's key, what it holds, and its writer (for a plain
 * string of struct pfi_delivery, search_put_str at offset `field`). */
struct search_col {
	const char *name;
	const char *help;
	void (*put)(pfi_out *o, const struct search_col *col,
	            const struct search_cell *c);
	size_t field;
};

static void search_put_str(pfi_out *o, const struct search_col *col,
                           const struct search_cell *c)
{
	pfi_out_str(o, col->name,
	            *(const char *const *)((const char *)c->d + col->field));
}

static void search_put_time(pfi_out *o, const struct search_col *col,
                            const struct search_cell *c)
{
	pfi_out_time(o, col->name, c->d->time);
}

/* The table shows a NOQUEUE reject's missing queue ID as NOQUEUE. */
static void search_put_queue_id(pfi_out *o, const struct search_col *col,
                                const struct search_cell *c)
{
	const char *q = c->d->queue_id;

	pfi_out_str(o, col->name, q == NULL && c->table ? "NOQUEUE" : q);
}

/* The null sender is "" in data, "<>" in the table. */
static void search_put_from(pfi_out *o, const struct search_col *col,
                            const struct search_cell *c)
{
	const char *f = c->d->from;

	pfi_out_str(o, col->name, f && f[0] == '\0' && c->table ? "<>" : f);
}

static void search_put_num(pfi_out *o, const struct search_col *col,
                           const struct search_cell *c)
{
	cli_out_num(o, col->name, c->d->delay);
}

static void search_put_int(pfi_out *o, const struct search_col *col,
                           const struct search_cell *c)
{
	cli_out_int(o, col->name, col->field == offsetof(struct pfi_delivery, size)
	                          ? c->d->size : c->d->attempts);
}

static void search_put_delays(pfi_out *o, const struct search_col *col,
                              const struct search_cell *c)
{
	static const char *const keys[] = {
		"before_qmgr", "in_qmgr", "conn_setup", "transmission"
	};
	int i;

	pfi_out_object_begin(o, col->name);
	for (i = 0; i < 4; i++)
		cli_out_num(o, keys[i], c->d->delays[i]);
	pfi_out_object_end(o);
}

static void search_put_tls(pfi_out *o, const struct search_col *col,
                           const struct search_cell *c)
{
	pfi_out_object_begin(o, col->name);
	pfi_out_str(o, "protocol", c->d->tls_protocol);
	pfi_out_str(o, "cipher", c->d->tls_cipher);
	pfi_out_object_end(o);
}

static void search_put_verdicts(pfi_out *o, const struct search_col *col,
                                const struct search_cell *c);

#define COL_STR(name, help) \
	{ #name, help, search_put_str, offsetof(struct pfi_delivery, name) }

/* SPEC's search row, in its order. */
static const struct search_col search_cols[] = {
	{ "time", "time of the final attempt, or of the reject",
	  search_put_time, 0 },
	COL_STR(host, "the mail server that logged it"),
	{ "queue_id", "queue ID (NOQUEUE in the table for a reject)",
	  search_put_queue_id, 0 },
	COL_STR(message_id, "Message-ID"),
	{ "from", "envelope sender (<> in the table for the null sender)",
	  search_put_from, 0 },
	COL_STR(to, "recipient, as delivered"),
	COL_STR(orig_to, "recipient as addressed, before aliases"),
	COL_STR(domain, "recipient domain"),
	COL_STR(status, "outcome: sent, deferred, bounced ..."),
	COL_STR(dsn, "DSN code"),
	COL_STR(relay, "next hop"),
	{ "delay", "seconds from arrival to the outcome", search_put_num, 0 },
	{ "delays", "before_qmgr, in_qmgr, conn_setup, transmission",
	  search_put_delays, 0 },
	{ "attempts", "deferred attempts before the outcome", search_put_int,
	  offsetof(struct pfi_delivery, attempts) },
	COL_STR(response, "the server's reply, or the reject's reason"),
	COL_STR(client, "host name of the client that sent it"),
	COL_STR(client_ip, "address of that client"),
	COL_STR(subject, "Subject header"),
	{ "size", "bytes", search_put_int, offsetof(struct pfi_delivery, size) },
	COL_STR(sasl_username, "SASL login of the sender"),
	{ "tls", "protocol and cipher of the inbound TLS session",
	  search_put_tls, 0 },
	{ "verdicts", "what milters and filters decided (dkim=pass ...)",
	  search_put_verdicts, 0 },
};
#define NCOLS (sizeof(search_cols) / sizeof(search_cols[0]))

/* The table's columns on a terminal, and those it leaves out first when
 * the terminal is narrow: the ones the response or another column says
 * again, then the ones a single-server reader can spare. */
static const char *const table_cols[] = {
	"time", "host", "queue_id", "from", "to", "status", "dsn", "relay",
	"verdicts", "response", NULL
};
static const char *const table_optional[] = {
	"relay", "verdicts", "host", "dsn", "from", "time", NULL
};

/* What the command line asked for. */
struct search_args {
	struct cli_filter cf;      /* the filters */
	int64_t limit;             /* 0: no limit */
	int reverse, count;        /* --reverse, --count */
	unsigned char cols[NCOLS]; /* --columns: indexes into search_cols */
	size_t ncols;              /* 0: the format's default */
};

/* ---- option values ------------------------------------------------------ */

static int search_limit(const char *v, int64_t *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n <= 0)
		return cli_usage_error("search", "invalid limit '%s'", v);
	*out = n;
	return PFI_EXIT_OK;
}

static int search_col_index(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < NCOLS; i++)
		if (strlen(search_cols[i].name) == n &&
		    strncmp(search_cols[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

/* Prints the NULL-ended names as "a, b and c". */
static void search_print_names(const char *const *names)
{
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		printf("%s%s", i == 0 ? "" : names[i + 1] ? ", " : " and ",
		       names[i]);
}

/* `--columns help`: every column and what it holds, and the table's. */
static int search_columns_help(void)
{
	size_t i;

	printf("The columns of pfi search, for --columns LIST (-o LIST):\n");
	for (i = 0; i < NCOLS; i++)
		printf("  %-14s %s\n", search_cols[i].name, search_cols[i].help);
	printf("The table shows ");
	search_print_names(table_cols);
	printf(" (verdicts\nwhen the index has any); on a narrow terminal it "
	       "leaves out ");
	search_print_names(table_optional);
	printf(",\nin this order, until the rest fits.\n");
	return PFI_EXIT_OK;
}

/* --columns LIST: adds the columns of the comma list v.  -1 to go on. */
static int search_columns(struct search_args *a, const char *v)
{
	const char *p = v, *comma;
	size_t n, k;
	int i;

	if (strcmp(v, "help") == 0)
		return search_columns_help();
	for (;; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if ((i = search_col_index(p, n)) < 0)
			return cli_usage_error("search", "unknown column '%.*s'; "
			                       "'--columns help' lists them",
			                       (int)n, p);
		for (k = 0; k < a->ncols; k++)
			if (a->cols[k] == i)
				return cli_usage_error("search", "column '%.*s' given "
				                       "twice", (int)n, p);
		a->cols[a->ncols++] = (unsigned char)i;
		if (comma == NULL)
			return -1;
	}
}

/* Takes option c with value v; returns -1 to go on, or an exit code. */
static int search_option(struct search_args *a, int c, const char *v)
{
	int rc = PFI_EXIT_OK;

	if (cli_filter_option("search", &a->cf, c, v, &rc))
		return rc == PFI_EXIT_OK ? -1 : rc;
	if (c == OPT_LIMIT)
		rc = search_limit(v, &a->limit);
	else if (c == OPT_REVERSE)
		a->reverse = 1;
	else if (c == OPT_COUNT)
		a->count = 1;
	else if (c == OPT_COLUMNS)
		return search_columns(a, v);
	return rc == PFI_EXIT_OK ? -1 : rc;
}

/* ---- rows --------------------------------------------------------------- */

/* The verdicts in one cell: "dkim=pass spf=pass spam=clean", each
 * KIND=RESULT once, in time order. */
static void search_verdicts_cell(pfi_out *o, const struct pfi_delivery *d)
{
	char cell[512];
	size_t len = 0, i, j;
	int n, dup;

	cell[0] = '\0';
	for (i = 0; i < d->nverdicts; i++) {
		const struct pfi_verdict *v = &d->verdicts[i];

		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = strcmp(d->verdicts[j].kind, v->kind) == 0 &&
			      strcmp(d->verdicts[j].result, v->result) == 0;
		if (dup)
			continue;
		n = snprintf(cell + len, sizeof(cell) - len, "%s%s=%s",
		             len ? " " : "", v->kind, v->result);
		if (n < 0 || (size_t)n >= sizeof(cell) - len)
			break;
		len += (size_t)n;
	}
	pfi_out_str(o, "verdicts", cell);
}

/* Verdicts as objects in JSON, as one cell in CSV, TSV and the table. */
static void search_put_verdicts(pfi_out *o, const struct search_col *col,
                                const struct search_cell *c)
{
	(void)col;
	if (c->json)
		cli_out_verdicts(o, c->d->verdicts, c->d->nverdicts);
	else
		search_verdicts_cell(o, c->d);
}

/*
 * The columns to print, into cols (room for NCOLS): --columns, else every
 * SPEC field, else on a table the columns people read there (verdicts
 * only when the index has any), whose narrow-terminal fitting the caller
 * sets up.
 */
static size_t search_pick(const struct search_args *a, int table,
                          int verdicts, unsigned char *cols)
{
	size_t n = 0, i;

	if (a->ncols > 0) {
		memcpy(cols, a->cols, a->ncols);
		return a->ncols;
	}
	if (!table) {
		for (i = 0; i < NCOLS; i++)
			cols[n++] = (unsigned char)i;
		return n;
	}
	for (i = 0; table_cols[i] != NULL; i++)
		if (verdicts || strcmp(table_cols[i], "verdicts") != 0)
			cols[n++] = (unsigned char)search_col_index(
				table_cols[i], strlen(table_cols[i]));
	return n;
}

/* One row: in pfi repl's table, a first column "#" numbers it for
 * `trace #N`. */
static void search_row(pfi_out *o, const struct search_cell *c, int num,
                       const unsigned char *cols, size_t ncols)
{
	size_t i;

	if (num > 0 && c->table)
		pfi_out_int(o, "#", num);
	for (i = 0; i < ncols; i++)
		search_cols[cols[i]].put(o, &search_cols[cols[i]], c);
}

/* Prints the rows of q; *rows counts them.  Returns an exit code. */
static int search_print(struct pfi_globals *g, const struct search_args *a,
                        pfi_search *q, pfi_store *st, int64_t *rows)
{
	struct search_cell c;
	unsigned char cols[NCOLS];
	int table = g->format == PFI_FMT_TABLE, rc, out, num;
	size_t ncols = search_pick(a, table, pfi_search_has_verdicts(q), cols);
	pfi_out *o = cli_out_new(g, -1);

	c.json = g->format == PFI_FMT_JSON || g->format == PFI_FMT_NDJSON;
	c.table = table;
	if (a->ncols == 0)
		pfi_out_set_optional(o, table_optional);
	pfi_out_begin(o, "deliveries");
	while ((rc = pfi_search_next(q, &c.d)) == PFI_OK) {
		pfi_out_record_begin(o);
		num = cli_rows_note(g, c.d->queue_id, c.d->message_id);
		search_row(o, &c, num, cols, ncols);
		pfi_out_record_end(o);
		if (++*rows == 1 && !table)
			fflush(stdout);   /* the first row shows at once */
		if (ferror(stdout))
			break;            /* a closed pipe: stop quietly */
	}
	out = cli_out_end(o);
	if (rc != PFI_OK && rc != PFI_EOF)
		return cli_index_error(g, st, rc, "cannot search the index");
	return out;
}

/* The rows or their number; exit 1 when none matched. */
static int search_run(struct pfi_globals *g, pfi_store *st,
                      const struct search_args *a)
{
	struct pfi_search_opts o = PFI_SEARCH_OPTIONS_INIT;
	pfi_search *q = NULL;
	int64_t n = 0;
	int rc;

	o.filter = &a->cf.f;
	o.limit = a->limit;
	o.reverse = a->reverse;
	if (a->count)
		rc = pfi_search_count(st, &o, &n);
	else
		rc = pfi_search_new(&q, st, &o);
	if (rc == PFI_EINVAL)
		return cli_usage_error("search", "%s", pfi_errmsg(st));
	if (rc != PFI_OK)
		return cli_index_error(g, st, rc, "cannot search the index");
	if (a->count) {
		if (a->limit > 0 && n > a->limit)
			n = a->limit;
		printf("%" PRId64 "\n", n);
	} else {
		rc = search_print(g, a, q, st, &n);
		pfi_search_free(q);
		if (rc != PFI_EXIT_OK)
			return rc;
	}
	if (n > 0)
		return PFI_EXIT_OK;
	cli_index_covers(g, st, &a->cf.f, "no match");
	return PFI_EXIT_NOMATCH;
}

static int cmd_search(struct pfi_globals *g, int argc, char **argv)
{
	struct search_args a;
	struct cli_parse p;
	pfi_store *st = NULL;
	int c, rc = -1;

	memset(&a, 0, sizeof(a));
	cli_parse_init(&p, &cmd_search_entry, argc, argv);
	while (rc < 0 && (c = cli_parse_next(&p)) != 0)
		rc = c < 0 ? p.rc : search_option(&a, c, p.value);
	if (rc < 0)
		rc = cli_parse_operands(&p, 0);
	if (rc < 0 && (st = cli_store(g)) == NULL)
		rc = PFI_EXIT_FAILURE;
	if (rc < 0)
		rc = search_run(g, st, &a);
	cli_filter_release(&a.cf);
	cli_parse_release(&p);
	return rc;
}

const struct pfi_cmd cmd_search_entry = {
	"search", "list recipient deliveries that match filters",
	"List one row per recipient delivery (rejects included) matching every\n"
	"filter given, newest first.",
	search_opts, NULL, CLI_ARG_NONE, CMD_NEEDS_DB | CMD_PAGED, cmd_search
};
