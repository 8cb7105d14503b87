/*
 * search.c - `pfi search [FILTERS]`: one row per recipient delivery
 * (rejects included) that matches every filter given, newest first, in
 * any output format; or with --count only their number.  Reads the index;
 * writes the SPEC search rows.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfi.h"

enum {
	OPT_LIMIT = CLI_OPT_FILTER_END, OPT_REVERSE, OPT_COUNT
};

static const struct cli_opt search_opts[] = {
	CLI_FILTER_OPTS,
	{ "limit", 0, CLI_ARG_NUMBER, "N", OPT_LIMIT, 0, NULL,
	  "at most N rows", NULL },
	{ "reverse", 0, CLI_ARG_NONE, NULL, OPT_REVERSE, 0, NULL,
	  "oldest first", NULL },
	{ "count", 0, CLI_ARG_NONE, NULL, OPT_COUNT, 0, NULL,
	  "print only the number of rows", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

/* What the command line asked for. */
struct search_args {
	struct cli_filter cf;      /* the filters */
	int64_t limit;             /* 0: no limit */
	int reverse, count;        /* --reverse, --count */
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

/* A row with every SPEC field: verdicts as objects in JSON, as one cell
 * in CSV and TSV. */
static void search_record(pfi_out *o, const struct pfi_delivery *d, int json)
{
	static const char *const delay_keys[] = {
		"before_qmgr", "in_qmgr", "conn_setup", "transmission"
	};
	int i;

	pfi_out_time(o, "time", d->time);
	pfi_out_str(o, "host", d->host);
	pfi_out_str(o, "queue_id", d->queue_id);
	pfi_out_str(o, "message_id", d->message_id);
	pfi_out_str(o, "from", d->from);
	pfi_out_str(o, "to", d->to);
	pfi_out_str(o, "orig_to", d->orig_to);
	pfi_out_str(o, "domain", d->domain);
	pfi_out_str(o, "status", d->status);
	pfi_out_str(o, "dsn", d->dsn);
	pfi_out_str(o, "relay", d->relay);
	cli_out_num(o, "delay", d->delay);
	pfi_out_object_begin(o, "delays");
	for (i = 0; i < 4; i++)
		cli_out_num(o, delay_keys[i], d->delays[i]);
	pfi_out_object_end(o);
	cli_out_int(o, "attempts", d->attempts);
	pfi_out_str(o, "response", d->response);
	pfi_out_str(o, "client", d->client);
	pfi_out_str(o, "client_ip", d->client_ip);
	pfi_out_str(o, "subject", d->subject);
	cli_out_int(o, "size", d->size);
	if (json)
		cli_out_verdicts(o, d->verdicts, d->nverdicts);
	else
		search_verdicts_cell(o, d);
}

/* The columns people read on a terminal; "<>" for the null sender.  In
 * pfi repl, a first column "#" numbers the rows for `trace #N`. */
static void search_table_row(pfi_out *o, const struct pfi_delivery *d,
                             int n, int verdicts)
{
	if (n > 0)
		pfi_out_int(o, "#", n);
	pfi_out_time(o, "time", d->time);
	pfi_out_str(o, "host", d->host);
	pfi_out_str(o, "queue_id", d->queue_id ? d->queue_id : "NOQUEUE");
	pfi_out_str(o, "from", d->from && d->from[0] == '\0' ? "<>" : d->from);
	pfi_out_str(o, "to", d->to);
	pfi_out_str(o, "status", d->status);
	pfi_out_str(o, "dsn", d->dsn);
	pfi_out_str(o, "relay", d->relay);
	if (verdicts)
		search_verdicts_cell(o, d);
	pfi_out_str(o, "response", d->response);
}

/* Prints the rows of q; *rows counts them.  Returns an exit code. */
static int search_print(struct pfi_globals *g, pfi_search *q, pfi_store *st,
                        int64_t *rows)
{
	const struct pfi_delivery *d;
	int table = g->format == PFI_FMT_TABLE, rc, out, num;
	int json = g->format == PFI_FMT_JSON || g->format == PFI_FMT_NDJSON;
	int verdicts = pfi_search_has_verdicts(q);
	pfi_out *o = cli_out_new(g, -1);

	pfi_out_begin(o, "deliveries");
	while ((rc = pfi_search_next(q, &d)) == PFI_OK) {
		pfi_out_record_begin(o);
		num = cli_rows_note(g, d->queue_id, d->message_id);
		if (table)
			search_table_row(o, d, num, verdicts);
		else
			search_record(o, d, json);
		pfi_out_record_end(o);
		if (++*rows == 1 && !table)
			fflush(stdout);   /* the first row shows at once */
		if (ferror(stdout))
			break;            /* a closed pipe: stop quietly */
	}
	out = cli_out_end(o);
	if (rc != PFI_OK && rc != PFI_EOF)
		return cli_error("cannot search the index: %s", pfi_errmsg(st));
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
		return cli_error("cannot search the index: %s", pfi_errmsg(st));
	if (a->count) {
		if (a->limit > 0 && n > a->limit)
			n = a->limit;
		printf("%" PRId64 "\n", n);
	} else {
		rc = search_print(g, q, st, &n);
		pfi_search_free(q);
		if (rc != PFI_EXIT_OK)
			return rc;
	}
	return n > 0 ? PFI_EXIT_OK : PFI_EXIT_NOMATCH;
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
