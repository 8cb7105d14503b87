/*
 * prune.c - `pfi prune --before T`: removes from the index what ended
 * before T (finished messages and their rows and lines, rejects, failed
 * logins), keeps messages still queued, and gives the space back.  Writes
 * the index; prints what went as one record.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "pfi.h"

enum { OPT_BEFORE = 1 };

static const struct cli_opt prune_opts[] = {
	{ "before", 'b', CLI_ARG_TIME, "T", OPT_BEFORE, CLI_OPT_REQUIRED, NULL,
	  "the cut: what ended before it goes", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

/* The report as one record: counts and the index size before and after. */
static int prune_report(struct pfi_globals *g, const struct pfi_prune_report *r)
{
	pfi_out *o;

	if (g->format == PFI_FMT_TABLE) {
		printf("removed %" PRId64 " messages, %" PRId64 " deliveries and %"
		       PRId64 " log lines; index %" PRId64 " -> %" PRId64 " bytes\n",
		       r->messages, r->deliveries, r->lines, r->bytes_before,
		       r->bytes_after);
		return PFI_EXIT_OK;
	}
	o = cli_out_new(g, -1);
	pfi_out_begin(o, "");
	pfi_out_record_begin(o);
	pfi_out_int(o, "messages", r->messages);
	pfi_out_int(o, "deliveries", r->deliveries);
	pfi_out_int(o, "lines", r->lines);
	pfi_out_int(o, "bytes_before", r->bytes_before);
	pfi_out_int(o, "bytes_after", r->bytes_after);
	pfi_out_record_end(o);
	return cli_out_end(o);
}

static int cmd_prune(struct pfi_globals *g, int argc, char **argv)
{
	struct pfi_prune_report r;
	const char *before = NULL;
	int64_t cut;
	pfi_store *st;
	struct cli_parse p;
	int c, rc;

	cli_parse_init(&p, &cmd_prune_entry, argc, argv);
	while ((c = cli_parse_next(&p)) > 0)
		before = p.value;
	rc = c < 0 ? p.rc : cli_parse_operands(&p, 0);
	cli_parse_release(&p);
	if (rc >= 0)
		return rc;
	if (before == NULL)
		return cli_usage_error("prune", "--before is required");
	if (cli_time(before, &cut) != 0)
		return cli_time_error("prune", "--before", before);
	if ((st = cli_store(g)) == NULL)
		return PFI_EXIT_FAILURE;
	if (pfi_prune(st, cut, &r) != PFI_OK)
		return cli_error("cannot prune: %s", pfi_errmsg(st));
	return prune_report(g, &r);
}

const struct pfi_cmd cmd_prune_entry = {
	"prune", "remove what ended before a time and reclaim space",
	"Remove from the index what ended before T: finished messages whose\n"
	"last line is older, with their recipients and log lines, and rejects\n"
	"and failed logins older than T.  Messages still queued stay.  Then\n"
	"give the space back.  Files already read are remembered, so they are\n"
	"not indexed again.  T is a time as pfi search takes it: 30d,\n"
	"2026-11-01, an RFC 3339 time ...",
	prune_opts, NULL, CLI_ARG_NONE, CMD_NEEDS_DB | CMD_WRITES_DB, cmd_prune
};
