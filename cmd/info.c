/*
 * info.c - `pfi info`: what the index holds: the files and systemd
 * journals read, the time range, lines by kind, unparsed lines by
 * program, messages, deliveries, rejects and the size of the index.
 * Reads the index; writes the SPEC info document (json, ndjson, csv,
 * tsv) or a readable summary (table).
 */
#include <inttypes.h>
#include <stdio.h>

#include "pfi.h"

enum { OPT_UNPARSED = 1 };

static const struct cli_opt info_opts[] = {
	{ "unparsed", 0, CLI_ARG_NONE, NULL, OPT_UNPARSED, 0, NULL,
	  "list the lines of Postfix programs pfi did not understand, with "
	  "their program", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

/* One file of the index as an object (or a record of the files table). */
static void info_file(pfi_out *o, const struct pfi_file_info *f)
{
	pfi_out_str(o, "path", f->path);
	pfi_out_int(o, "lines", f->lines);
	pfi_out_int(o, "bytes", f->bytes);
	pfi_out_time(o, "first", f->first);
	pfi_out_time(o, "last", f->last);
	cli_out_int(o, "year", f->year ? f->year : -1);
	pfi_out_str(o, "year_from", f->year_from);
	pfi_out_str(o, "zone", f->zone);
}

/* One journal source of the index as an object (or a record). */
static void info_journal(pfi_out *o, const struct pfi_journal_info *j)
{
	pfi_out_str(o, "source", j->source);
	pfi_out_int(o, "entries", j->entries);
	pfi_out_time(o, "first", j->first);
	pfi_out_time(o, "last", j->last);
}

/* The SPEC info document: one object. */
static int info_document(struct pfi_globals *g, const struct pfi_info *in)
{
	pfi_out *o = cli_out_new(g, -1);
	size_t i;

	pfi_out_begin(o, "");
	pfi_out_record_begin(o);
	pfi_out_array_begin(o, "files");
	for (i = 0; i < in->nfiles; i++) {
		pfi_out_object_begin(o, NULL);
		info_file(o, &in->files[i]);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
	pfi_out_int(o, "lines", in->lines);
	pfi_out_int(o, "postfix_lines", in->postfix_lines);
	pfi_out_int(o, "unparsed_lines", in->unparsed_lines);
	pfi_out_int(o, "foreign_lines", in->foreign_lines);
	pfi_out_int(o, "verdict_lines", in->verdict_lines);
	pfi_out_int(o, "duplicate_lines", in->duplicate_lines);
	pfi_out_object_begin(o, "unparsed_by_program");
	for (i = 0; i < in->nunparsed_by_program; i++)
		pfi_out_int(o, in->unparsed_by_program[i].key,
		            in->unparsed_by_program[i].count);
	pfi_out_object_end(o);
	pfi_out_int(o, "messages", in->messages);
	pfi_out_int(o, "deliveries", in->deliveries);
	pfi_out_int(o, "rejects", in->rejects);
	pfi_out_int(o, "verdicts", in->verdicts);
	pfi_out_int(o, "verdicts_joined", in->verdicts_joined);
	pfi_out_int(o, "queued", in->queued);
	pfi_out_int(o, "held", in->held);
	pfi_out_object_begin(o, "problems");
	pfi_out_int(o, "warning", in->warnings);
	pfi_out_int(o, "error", in->errors);
	pfi_out_int(o, "fatal", in->fatals);
	pfi_out_int(o, "panic", in->panics);
	pfi_out_object_end(o);
	pfi_out_time(o, "first", in->first);
	pfi_out_time(o, "last", in->last);
	pfi_out_int(o, "db_bytes", in->db_bytes);
	pfi_out_array_begin(o, "journals");
	for (i = 0; i < in->njournals; i++) {
		pfi_out_object_begin(o, NULL);
		info_journal(o, &in->journals[i]);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
	pfi_out_record_end(o);
	return cli_out_end(o);
}

/* A size for people: "812 B", "1.5 KiB", "23.4 MiB". */
static const char *info_size(char *buf, size_t size, int64_t n)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = -1;

	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%" PRId64 " B", n);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static void info_counts(const struct pfi_globals *g, const struct pfi_info *in)
{
	char a[64], b[64];
	size_t i;

	printf("index:       ");
	cli_put_escaped(stdout, g->db_path);
	printf(" (%s)\n", info_size(a, sizeof(a), in->db_bytes));
	if (in->first != 0)
		printf("period:      %s .. %s\n",
		       pfi_time_format(a, sizeof(a), in->first, g->utc),
		       pfi_time_format(b, sizeof(b), in->last, g->utc));
	printf("lines:       %" PRId64 " (postfix %" PRId64 ", unparsed %" PRId64
	       ", verdicts %" PRId64 ", other programs %" PRId64 ")\n", in->lines,
	       in->postfix_lines, in->unparsed_lines, in->verdict_lines,
	       in->foreign_lines);
	if (in->duplicate_lines > 0)
		printf("duplicates:  %" PRId64 " lines read again and skipped\n",
		       in->duplicate_lines);
	printf("messages:    %" PRId64 "\n", in->messages);
	printf("deliveries:  %" PRId64 "\n", in->deliveries);
	printf("rejects:     %" PRId64 "\n", in->rejects);
	if (in->verdicts > 0)
		printf("verdicts:    %" PRId64 " (joined to a message %" PRId64
		       ")\n", in->verdicts, in->verdicts_joined);
	printf("queued:      %" PRId64 " (on hold %" PRId64 ")\n", in->queued,
	       in->held);
	printf("problems:    %" PRId64 " warnings, %" PRId64 " errors, %" PRId64
	       " fatal, %" PRId64 " panic%s\n", in->warnings, in->errors,
	       in->fatals, in->panics,
	       in->warnings + in->errors + in->fatals + in->panics
	           ? " (pfi stats lists them by kind)" : "");
	if (in->nunparsed_by_program > 0)
		printf("unparsed lines by program:\n");
	for (i = 0; i < in->nunparsed_by_program; i++) {
		printf("  %10" PRId64 "  ", in->unparsed_by_program[i].count);
		cli_put_escaped(stdout, in->unparsed_by_program[i].key);
		putchar('\n');
	}
}

/* The table of the journal sources, after the summary. */
static int info_journals(struct pfi_globals *g, const struct pfi_info *in)
{
	pfi_out *o;
	size_t i;

	printf("\n");
	o = cli_out_new(g, PFI_FMT_TABLE);
	pfi_out_begin(o, "journals");
	for (i = 0; i < in->njournals; i++) {
		pfi_out_record_begin(o);
		info_journal(o, &in->journals[i]);
		pfi_out_record_end(o);
	}
	return cli_out_end(o);
}

/* The readable summary: counts, then tables of the files and journals. */
static int info_summary(struct pfi_globals *g, const struct pfi_info *in)
{
	pfi_out *o;
	size_t i;
	int rc = PFI_EXIT_OK;

	info_counts(g, in);
	if (in->nfiles > 0) {
		printf("\n");
		o = cli_out_new(g, PFI_FMT_TABLE);
		pfi_out_begin(o, "files");
		for (i = 0; i < in->nfiles; i++) {
			pfi_out_record_begin(o);
			info_file(o, &in->files[i]);
			pfi_out_record_end(o);
		}
		rc = cli_out_end(o);
	}
	if (rc == PFI_EXIT_OK && in->njournals > 0)
		rc = info_journals(g, in);
	return rc;
}

/* One unparsed line: a record of program and line. */
static int info_unparsed_line(void *ctx, const char *program, const char *line,
                              size_t len)
{
	pfi_out *o = ctx;

	pfi_out_record_begin(o);
	pfi_out_str(o, "program", program);
	pfi_out_strn(o, "line", line, len);
	return pfi_out_record_end(o);
}

/* --unparsed: the lines themselves, as records {program, line}. */
static int info_unparsed(struct pfi_globals *g, pfi_store *st)
{
	pfi_out *o = cli_out_new(g, -1);
	int rc;

	pfi_out_begin(o, "unparsed");
	rc = pfi_unparsed_each(st, 0, info_unparsed_line, o);
	if (rc != PFI_OK) {
		pfi_out_free(o);
		return cli_index_error(g, st, rc, "cannot read the index");
	}
	return cli_out_end(o);
}

static int cmd_info(struct pfi_globals *g, int argc, char **argv)
{
	struct pfi_info *in = NULL;
	struct cli_parse p;
	pfi_store *st;
	int c, rc, unparsed = 0;

	cli_parse_init(&p, &cmd_info_entry, argc, argv);
	while ((c = cli_parse_next(&p)) > 0)
		unparsed |= c == OPT_UNPARSED;
	rc = c < 0 ? p.rc : cli_parse_operands(&p, 0);
	cli_parse_release(&p);
	if (rc >= 0)
		return rc;
	if ((st = cli_store(g)) == NULL)
		return PFI_EXIT_FAILURE;
	if (unparsed)
		return info_unparsed(g, st);
	if ((rc = pfi_info_new(&in, st)) != PFI_OK)
		return cli_index_error(g, st, rc, "cannot read the index");
	if (g->format == PFI_FMT_TABLE)
		rc = info_summary(g, in);
	else
		rc = info_document(g, in);
	pfi_info_free(in);
	return rc;
}

const struct pfi_cmd cmd_info_entry = {
	"info", "show what the index holds",
	"Show what the index holds: the files read, the time range, lines by\n"
	"kind, unparsed lines by program, messages, deliveries, rejects and\n"
	"the size of the index.",
	info_opts, NULL, CLI_ARG_NONE, CMD_NEEDS_DB | CMD_PAGED, cmd_info
};
