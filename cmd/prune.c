/*
 * prune.c - `pfi prune --before T`: removes from the index what ended
 * before T (finished messages and their rows and lines, rejects, failed
 * logins), keeps messages still queued, and gives the space back; with
 * --dry-run says what it would remove.  Writes the index; prints what went
 * as one record.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "pfi.h"

enum { OPT_BEFORE = 1, OPT_DRY_RUN, OPT_FORCE };

static const struct cli_opt prune_opts[] = {
	{ "before", 'b', CLI_ARG_TIME, "T", OPT_BEFORE, CLI_OPT_REQUIRED, NULL,
	  "the cut: what ended before it goes", NULL },
	{ "dry-run", 'n', CLI_ARG_NONE, NULL, OPT_DRY_RUN, 0, NULL,
	  "say what would be removed, and remove nothing", NULL },
	{ "force", 'f', CLI_ARG_NONE, NULL, OPT_FORCE, 0, NULL,
	  "take a cut in the future (every finished message goes)", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

/* What the command line asked for. */
struct prune_args {
	const char *before;        /* --before */
	int dry_run, force;        /* --dry-run, --force */
};

/* The report as one record: counts and the index size before and after
 * (null after a dry run). */
static int prune_report(struct pfi_globals *g, const struct pfi_prune_report *r,
                        int dry)
{
	pfi_out *o;

	if (g->format == PFI_FMT_TABLE) {
		printf("%s %" PRId64 " messages, %" PRId64 " deliveries (%" PRId64
		       " of them rejects) and %" PRId64 " raw log lines",
		       dry ? "would remove" : "removed", r->messages, r->deliveries,
		       r->rejects, r->lines);
		if (dry)
			printf(" from an index of %" PRId64 " bytes; nothing was "
			       "removed\n", r->bytes_before);
		else
			printf("; index %" PRId64 " -> %" PRId64 " bytes\n",
			       r->bytes_before, r->bytes_after);
		return PFI_EXIT_OK;
	}
	o = cli_out_new(g, -1);
	pfi_out_begin(o, "");
	pfi_out_record_begin(o);
	pfi_out_bool(o, "dry_run", dry);
	pfi_out_int(o, "messages", r->messages);
	pfi_out_int(o, "deliveries", r->deliveries);
	pfi_out_int(o, "rejects", r->rejects);
	pfi_out_int(o, "lines", r->lines);
	pfi_out_int(o, "bytes_before", r->bytes_before);
	cli_out_int(o, "bytes_after", r->bytes_after);
	pfi_out_record_end(o);
	return cli_out_end(o);
}

/* The cut of --before: a usage error (PFI_EXIT_USAGE) when it cannot be
 * read, or lies in the future without --force; else -1. */
static int prune_cut(const struct prune_args *a, int64_t *cut, int utc)
{
	char t[64];

	if (a->before == NULL)
		return cli_usage_error("prune", "--before is required");
	if (cli_time(a->before, cut) != 0)
		return cli_time_error("prune", "--before", a->before);
	if (*cut > (int64_t)time(NULL) * 1000000 && !a->force)
		return cli_usage_error("prune", "--before %s is in the future, so "
		                       "every finished message would go; add "
		                       "--force if that is what you want",
		                       pfi_time_format(t, sizeof(t), *cut, utc));
	return -1;
}

static int cmd_prune(struct pfi_globals *g, int argc, char **argv)
{
	struct pfi_prune_report r;
	struct prune_args a = { NULL, 0, 0 };
	int64_t cut;
	pfi_store *st;
	struct cli_parse p;
	int c, rc;

	cli_parse_init(&p, &cmd_prune_entry, argc, argv);
	while ((c = cli_parse_next(&p)) > 0) {
		if (c == OPT_BEFORE)
			a.before = p.value;
		else if (c == OPT_DRY_RUN)
			a.dry_run = 1;
		else
			a.force = 1;
	}
	rc = c < 0 ? p.rc : cli_parse_operands(&p, 0);
	cli_parse_release(&p);
	if (rc >= 0 || (rc = prune_cut(&a, &cut, g->utc)) >= 0)
		return rc;
	if ((st = cli_store(g)) == NULL)
		return PFI_EXIT_FAILURE;
	rc = a.dry_run ? pfi_prune_dry_run(st, cut, &r) : pfi_prune(st, cut, &r);
	/* the library's message starts "cannot prune" or names the index */
	if (rc == PFI_EBUSY)
		return cli_error("%s; run 'pfi prune' again when that ends",
		                 pfi_errmsg(st));
	if (rc != PFI_OK)
		return cli_error("%s", pfi_errmsg(st));
	return prune_report(g, &r, a.dry_run);
}

const struct pfi_cmd cmd_prune_entry = {
	"prune", "remove what ended before a time and reclaim space",
	"Remove from the index what ended before T: finished messages whose\n"
	"last line is older, with their recipients and log lines, and rejects\n"
	"and failed logins older than T.  Messages still queued stay.  Then\n"
	"give the space back.  Files already read are remembered, so they are\n"
	"not indexed again.  T is a time as pfi search takes it: 30d,\n"
	"2026-11-01, an RFC 3339 time ...; a time in the future needs --force.\n"
	"With --dry-run, say what would go and change nothing.",
	prune_opts, NULL, CLI_ARG_NONE, CMD_NEEDS_DB | CMD_WRITES_DB, cmd_prune
};
