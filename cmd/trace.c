/*
 * trace.c - `pfi trace ID...`: the life of the messages named by queue
 * IDs or Message-IDs, with every message linked to them (content filter,
 * relay, bounce), oldest first.  Reads the index; writes the SPEC trace
 * document, a readable block per message (table), or the raw log lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfi.h"

enum { OPT_RAW = 1 };

static const struct cli_opt trace_opts[] = {
	{ "raw", 0, CLI_ARG_NONE, NULL, OPT_RAW, 0, NULL,
	  "print only the raw log lines of every message", NULL },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

/* ---- the SPEC trace document -------------------------------------------- */

static void trace_link(pfi_out *o, const struct pfi_link *l)
{
	pfi_out_str(o, "queue_id", l->queue_id);
	pfi_out_str(o, "host", l->host);
	pfi_out_str(o, "relation", l->relation);
}

/* parent: null when absent, except in flat formats (stable columns). */
static void trace_links(pfi_out *o, const struct pfi_message *m, int flat)
{
	size_t i;

	if (m->parent.queue_id == NULL && !flat) {
		pfi_out_null(o, "parent");
	} else {
		pfi_out_object_begin(o, "parent");
		trace_link(o, &m->parent);
		pfi_out_object_end(o);
	}
	pfi_out_array_begin(o, "children");
	for (i = 0; i < m->nchildren; i++) {
		pfi_out_object_begin(o, NULL);
		trace_link(o, &m->children[i]);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
}

static void trace_delay(pfi_out *o, double delay)
{
	if (delay < 0)
		pfi_out_null(o, "delay");
	else
		pfi_out_num(o, "delay", delay);
}

static void trace_recipient(pfi_out *o, const struct pfi_delivery *d)
{
	pfi_out_str(o, "to", d->to);
	pfi_out_str(o, "orig_to", d->orig_to);
	pfi_out_str(o, "status", d->status);
	pfi_out_str(o, "dsn", d->dsn);
	pfi_out_str(o, "relay", d->relay);
	trace_delay(o, d->delay);
	cli_out_int(o, "attempts", d->attempts);
	pfi_out_str(o, "response", d->response);
	pfi_out_time(o, "time", d->time);
}

/* A verdict's fields, in SPEC's order (trace, and search rows in JSON). */
void cli_out_verdict(pfi_out *o, const struct pfi_verdict *v)
{
	pfi_out_time(o, "time", v->time);
	pfi_out_str(o, "program", v->program);
	pfi_out_str(o, "kind", v->kind);
	pfi_out_str(o, "result", v->result);
	pfi_out_str(o, "domain", v->domain);
	if (v->has_score)
		pfi_out_num(o, "score", v->score);
	else
		pfi_out_null(o, "score");
	pfi_out_str(o, "detail", v->detail);
}

void cli_out_verdicts(pfi_out *o, const struct pfi_verdict *v, size_t n)
{
	size_t i;

	pfi_out_array_begin(o, "verdicts");
	for (i = 0; i < n; i++) {
		pfi_out_object_begin(o, NULL);
		cli_out_verdict(o, &v[i]);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
}

static void trace_record(pfi_out *o, const struct pfi_message *m, int flat)
{
	size_t i;

	pfi_out_record_begin(o);
	pfi_out_str(o, "queue_id", m->queue_id);
	pfi_out_str(o, "host", m->host);
	pfi_out_str(o, "message_id", m->message_id);
	pfi_out_str(o, "from", m->from);
	cli_out_int(o, "size", m->size);
	cli_out_int(o, "nrcpt", m->nrcpt);
	pfi_out_str(o, "client", m->client);
	pfi_out_str(o, "client_ip", m->client_ip);
	pfi_out_str(o, "sasl_username", m->sasl_username);
	pfi_out_str(o, "subject", m->subject);
	pfi_out_object_begin(o, "tls");
	pfi_out_str(o, "protocol", m->tls_protocol);
	pfi_out_str(o, "cipher", m->tls_cipher);
	pfi_out_object_end(o);
	pfi_out_time(o, "received", m->received);
	pfi_out_time(o, "removed", m->removed);
	if (m->probe)
		pfi_out_bool(o, "probe", 1);
	trace_links(o, m, flat);
	pfi_out_array_begin(o, "recipients");
	for (i = 0; i < m->nrecipients; i++) {
		pfi_out_object_begin(o, NULL);
		trace_recipient(o, &m->recipients[i]);
		pfi_out_object_end(o);
	}
	pfi_out_array_end(o);
	cli_out_verdicts(o, m->verdicts, m->nverdicts);
	pfi_out_array_begin(o, "lines");
	for (i = 0; i < m->nlines; i++)
		pfi_out_strn(o, NULL, m->lines[i], m->line_lens[i]);
	pfi_out_array_end(o);
	pfi_out_record_end(o);
}

/* ---- the readable block (table format) ---------------------------------- */

/* Prints "  label:" padded, then the escaped value and a newline. */
static void trace_field(const char *label, const char *value)
{
	printf("  %-10s", label);
	cli_put_escaped(stdout, value);
	putchar('\n');
}

static void trace_time(struct pfi_globals *g, const char *label, int64_t t)
{
	char buf[64];

	if (t != 0)
		trace_field(label, pfi_time_format(buf, sizeof(buf), t, g->utc));
}

/* NULL shown as `dflt` in the readable block. */
static const char *trace_or(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

static void trace_link_line(const char *label, const struct pfi_link *l)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s on %s (%s)", trace_or(l->queue_id, "?"),
	         trace_or(l->host, "?"), trace_or(l->relation, "linked"));
	trace_field(label, buf);
}

/* "QUEUEID on HOST  <message-id>", the queue ID and host in bold. */
static void trace_title(struct pfi_globals *g, const struct pfi_message *m)
{
	printf("%s", g->use_color ? "\033[1m" : "");
	cli_put_escaped(stdout, trace_or(m->queue_id, "NOQUEUE"));
	printf(" on ");
	cli_put_escaped(stdout, trace_or(m->host, "?"));
	printf("%s", g->use_color ? "\033[0m" : "");
	if (m->message_id) {
		printf("  <");
		cli_put_escaped(stdout, m->message_id);
		printf(">");
	}
	putchar('\n');
}

/* The known facts of the message, one "label: value" line each. */
static void trace_head(struct pfi_globals *g, const struct pfi_message *m)
{
	char buf[1024];
	size_t i;

	trace_title(g, m);
	if (m->from)
		trace_field("from:", m->from[0] ? m->from : "<>");
	snprintf(buf, sizeof(buf), "%s[%s]%s%s", trace_or(m->client, ""),
	         trace_or(m->client_ip, ""), m->sasl_username ? " sasl_username=" : "",
	         trace_or(m->sasl_username, ""));
	if (m->client || m->client_ip)
		trace_field("client:", buf);
	if (m->nrcpt >= 0)
		snprintf(buf, sizeof(buf), "%" PRId64 " bytes, %" PRId64 " recipient%s",
		         m->size, m->nrcpt, m->nrcpt == 1 ? "" : "s");
	else
		snprintf(buf, sizeof(buf), "%" PRId64 " bytes", m->size);
	if (m->size >= 0)
		trace_field("size:", buf);
	if (m->subject)
		trace_field("subject:", m->subject);
	trace_time(g, "received:", m->received);
	trace_time(g, "removed:", m->removed);
	if (m->probe)
		trace_field("probe:", "address test (verify or sendmail -bv):"
		            " nothing was delivered");
	snprintf(buf, sizeof(buf), "%s with %s", trace_or(m->tls_protocol, "?"),
	         trace_or(m->tls_cipher, "?"));
	if (m->tls_protocol || m->tls_cipher)
		trace_field("tls:", buf);
	if (m->parent.queue_id)
		trace_link_line("parent:", &m->parent);
	for (i = 0; i < m->nchildren; i++)
		trace_link_line(i == 0 ? "children:" : "", &m->children[i]);
}

/* Writes text to stdout with every line indented by two spaces. */
static void trace_indent(const char *text)
{
	const char *nl;

	while (*text) {
		nl = strchr(text, '\n');
		if (nl == NULL)
			nl = text + strlen(text);
		printf("  %.*s\n", (int)(nl - text), text);
		text = *nl ? nl + 1 : nl;
	}
}

/* The recipients as a table, through pfi_out into memory, indented. */
static void trace_recipients(struct pfi_globals *g, const struct pfi_message *m)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *mem = open_memstream(&text, &len);
	unsigned flags = PFI_OUT_ESCAPE | (g->utc ? PFI_OUT_UTC : 0) |
	                 (g->use_color ? PFI_OUT_COLOR : 0);
	int width = g->width;
	pfi_out *o = NULL;

	if (mem == NULL || pfi_out_new(&o, mem, PFI_FMT_TABLE, flags) != PFI_OK)
		cli_die("out of memory");
	pfi_out_set_width(o, width > 2 ? width - 2 : 0);
	pfi_out_begin(o, "recipients");
	for (i = 0; i < m->nrecipients; i++) {
		const struct pfi_delivery *d = &m->recipients[i];

		pfi_out_record_begin(o);
		pfi_out_str(o, "to", d->to);
		pfi_out_str(o, "status", d->status);
		pfi_out_str(o, "dsn", d->dsn);
		pfi_out_str(o, "relay", d->relay);
		trace_delay(o, d->delay);
		cli_out_int(o, "attempts", d->attempts);
		pfi_out_str(o, "response", d->response);
		pfi_out_record_end(o);
	}
	if (pfi_out_end(o) != PFI_OK || fclose(mem) != 0)
		cli_die("out of memory");
	pfi_out_free(o);
	if (len > 0) {
		putchar('\n');
		trace_indent(text);
	}
	free(text);
}

/* "  verdicts:" then one line each: "dkim pass b.test  (opendkim)". */
static void trace_verdicts(const struct pfi_message *m)
{
	size_t i;

	if (m->nverdicts == 0)
		return;
	printf("\n  verdicts:\n");
	for (i = 0; i < m->nverdicts; i++) {
		const struct pfi_verdict *v = &m->verdicts[i];

		printf("    %-5s %-9s ", v->kind, v->result);
		cli_put_escaped(stdout, v->domain ? v->domain : "-");
		if (v->has_score)
			printf("  score %g", v->score);
		if (v->detail) {
			fputs("  ", stdout);
			cli_put_escaped(stdout, v->detail);
		}
		fputs("  (", stdout);
		cli_put_escaped(stdout, v->program);
		fputs(")\n", stdout);
	}
}

static void trace_block(struct pfi_globals *g, const struct pfi_message *m)
{
	size_t i;

	trace_head(g, m);
	trace_recipients(g, m);
	trace_verdicts(m);
	if (m->nlines > 0)
		putchar('\n');
	for (i = 0; i < m->nlines; i++) {
		fputs("  ", stdout);
		cli_put_escaped_len(stdout, m->lines[i], m->line_lens[i]);
		putchar('\n');
	}
}

/* ---- the command -------------------------------------------------------- */

/* The raw lines, byte for byte (NUL bytes too), escaped only when stdout
 * is a terminal. */
static void trace_raw(struct pfi_globals *g, const struct pfi_message *m)
{
	size_t i;

	for (i = 0; i < m->nlines; i++) {
		if (g->tty)
			cli_put_escaped_len(stdout, m->lines[i], m->line_lens[i]);
		else
			fwrite(m->lines[i], 1, m->line_lens[i], stdout);
		putchar('\n');
	}
}

/* Prints every message of t in the chosen form; *shown counts them. */
static void trace_show(struct pfi_globals *g, pfi_out *o, int raw,
                       const pfi_trace *t, size_t *shown)
{
	size_t i, n = pfi_trace_count(t);
	const struct pfi_message *m;

	for (i = 0; i < n; i++) {
		m = pfi_trace_message(t, i);
		if (raw)
			trace_raw(g, m);
		else if (o != NULL)
			trace_record(o, m, g->format == PFI_FMT_CSV ||
			             g->format == PFI_FMT_TSV);
		else {
			if ((*shown)++ > 0)
				putchar('\n');
			trace_block(g, m);
		}
	}
}

/* Traces each ID; returns the exit code. */
static int trace_ids(struct pfi_globals *g, pfi_store *st, int raw,
                     char **ids, int nids)
{
	pfi_out *o = NULL;
	pfi_trace *t;
	size_t shown = 0;
	char what[256];
	int i, rc, found = 0, failed = 0;

	if (!raw && g->format != PFI_FMT_TABLE) {
		o = cli_out_new(g, -1);
		pfi_out_begin(o, "messages");
	}
	for (i = 0; i < nids; i++) {
		rc = pfi_trace_new(&t, st, ids[i]);
		if (rc == PFI_ENOTFOUND) {
			cli_warn("no message matches '%s'", ids[i]);
			continue;
		}
		if (rc != PFI_OK) {
			snprintf(what, sizeof(what), "cannot trace '%.200s'", ids[i]);
			failed = cli_index_error(g, st, rc, what);
			continue;
		}
		found = 1;
		trace_show(g, o, raw, t, &shown);
		pfi_trace_free(t);
	}
	rc = o ? cli_out_end(o) : PFI_EXIT_OK;
	if (failed || rc != PFI_EXIT_OK)
		return PFI_EXIT_FAILURE;
	return found ? PFI_EXIT_OK : PFI_EXIT_NOMATCH;
}

static int cmd_trace(struct pfi_globals *g, int argc, char **argv)
{
	struct cli_parse p;
	pfi_store *st;
	int c, rc = -1, raw = 0;

	cli_parse_init(&p, &cmd_trace_entry, argc, argv);
	while ((c = cli_parse_next(&p)) > 0)
		raw |= c == OPT_RAW;
	if (c < 0)
		rc = p.rc;
	else if (p.nargs == 0)
		rc = cli_usage_error("trace", "no ID given");
	else if ((st = cli_store(g)) == NULL)
		rc = PFI_EXIT_FAILURE;
	else
		rc = trace_ids(g, st, raw, p.args, p.nargs);
	cli_parse_release(&p);
	return rc;
}

const struct pfi_cmd cmd_trace_entry = {
	"trace", "show the life of messages by queue ID or Message-ID",
	"Show the life of the messages named by queue IDs or Message-IDs\n"
	"(with or without angle brackets), with every message linked to them:\n"
	"content filter hops, relays to indexed hosts and bounces.",
	trace_opts, "ID...", CLI_ARG_QUEUE_ID, CMD_NEEDS_DB | CMD_PAGED,
	cmd_trace
};
