/*
 * search.c - `pfi search [FILTERS]`: one row per recipient delivery
 * (rejects included) that matches every filter given, newest first, in
 * any output format; or with --count only their number.  Reads the index;
 * writes the SPEC search rows.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfi.h"

enum {
	OPT_LIMIT = CLI_OPT_FILTER_END, OPT_REVERSE, OPT_COUNT
};

static const struct option search_options[] = {
	CLI_FILTER_OPTIONS,
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "reverse", no_argument, NULL, OPT_REVERSE },
	{ "count", no_argument, NULL, OPT_COUNT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};
static const char search_shortopts[] = ":h";

const char cmd_search_usage[] =
	"pfi search [--from ADDR] [--to ADDR] [--domain DOMAIN]\n"
	"           [--sender-domain DOMAIN] [--subject TEXT] [--status STATUS]\n"
	"           [--dsn CODE] [--client IP|HOST|CIDR] [--relay HOST]\n"
	"           [--host MTAHOST] [--message-id ID] [--sasl-user USER]\n"
	"           [--since T] [--until T] [--grep REGEX] [--limit N]\n"
	"           [--reverse] [--count]";

static const char search_help[] =
	"List one row per recipient delivery (rejects included) matching every\n"
	"filter given, newest first.\n"
	"\n"
	"      --from ADDR         envelope sender (\"<>\" for the null sender)\n"
	"      --to ADDR           recipient, as delivered or as addressed\n"
	"      --domain DOMAIN     recipient domain; *.DOMAIN adds subdomains\n"
	"      --sender-domain DOMAIN  sender domain; *.DOMAIN adds subdomains\n"
	"      --subject TEXT      Subject contains TEXT (any case)\n"
	"      --status STATUS     sent, deferred, bounced, expired, rejected,\n"
	"                          discarded, held, deleted or filtered;\n"
	"                          repeat or give a comma list for any of them\n"
	"      --dsn CODE          DSN code: 5.1.1, 5.1.* or 5.*\n"
	"      --client IP|HOST|CIDR  client address, host name or network\n"
	"      --relay HOST        next hop, by host name or address\n"
	"      --host MTAHOST      the mail server that logged it\n"
	"      --message-id ID     Message-ID, with or without <>\n"
	"      --sasl-user USER    SASL login of the sender\n"
	"      --since T           at or after T (90s, 15m, 2h, 3d, 1w, today,\n"
	"                          yesterday, 2026-11-02, 2026-11-02T10:00,\n"
	"                          RFC3339, @EPOCH)\n"
	"      --until T           before T\n"
	"      --grep REGEX        PCRE2 regex over the message's log lines\n"
	"      --limit N           at most N rows\n"
	"      --reverse           oldest first\n"
	"      --count             print only the number of rows\n"
	"  -h, --help              show this help and exit\n";

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

/* Takes option c; returns -1 to go on, or an exit code. */
static int search_option(struct search_args *a, int c, char **argv)
{
	int rc = PFI_EXIT_OK;

	if (cli_filter_option("search", &a->cf, c, optarg, &rc))
		return rc == PFI_EXIT_OK ? -1 : rc;
	if (c == OPT_LIMIT)
		rc = search_limit(optarg, &a->limit);
	else if (c == OPT_REVERSE)
		a->reverse = 1;
	else if (c == OPT_COUNT)
		a->count = 1;
	else if (c == 'h')
		return cli_help(cmd_search_usage, search_help);
	else
		return cli_bad_option("search", c, argv);
	return rc == PFI_EXIT_OK ? -1 : rc;
}

/* ---- rows --------------------------------------------------------------- */

/* A row with every SPEC field. */
static void search_record(pfi_out *o, const struct pfi_delivery *d)
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
}

/* The columns people read on a terminal; "<>" for the null sender. */
static void search_table_row(pfi_out *o, const struct pfi_delivery *d)
{
	pfi_out_time(o, "time", d->time);
	pfi_out_str(o, "host", d->host);
	pfi_out_str(o, "queue_id", d->queue_id ? d->queue_id : "NOQUEUE");
	pfi_out_str(o, "from", d->from && d->from[0] == '\0' ? "<>" : d->from);
	pfi_out_str(o, "to", d->to);
	pfi_out_str(o, "status", d->status);
	pfi_out_str(o, "dsn", d->dsn);
	pfi_out_str(o, "relay", d->relay);
	pfi_out_str(o, "response", d->response);
}

/* Prints the rows of q; *rows counts them.  Returns an exit code. */
static int search_print(struct pfi_globals *g, pfi_search *q, pfi_store *st,
                        int64_t *rows)
{
	const struct pfi_delivery *d;
	int table = g->format == PFI_FMT_TABLE, rc, out;
	pfi_out *o = cli_out_new(g, -1);

	pfi_out_begin(o, "deliveries");
	while ((rc = pfi_search_next(q, &d)) == PFI_OK) {
		pfi_out_record_begin(o);
		if (table)
			search_table_row(o, d);
		else
			search_record(o, d);
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
	pfi_search *q = NULL;
	int64_t n = 0;
	int rc;

	if (a->count)
		rc = pfi_search_count(st, &a->cf.f, &n);
	else
		rc = pfi_search_new(&q, st, &a->cf.f, a->limit, a->reverse);
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

int cmd_search(struct pfi_globals *g, int argc, char **argv)
{
	struct search_args a;
	pfi_store *st = NULL;
	int c, rc = -1;

	memset(&a, 0, sizeof(a));
	optind = 0;
	opterr = 0;
	while (rc < 0 && (c = cli_getopt(argc, argv, search_shortopts,
	                                 search_options)) != -1)
		rc = search_option(&a, c, argv);
	if (rc < 0 && optind < argc)
		rc = cli_usage_error("search", "unexpected argument '%s'",
		                     argv[optind]);
	if (rc < 0 && (st = cli_store(g)) == NULL)
		rc = PFI_EXIT_FAILURE;
	if (rc < 0)
		rc = search_run(g, st, &a);
	cli_filter_release(&a.cf);
	return rc;
}
