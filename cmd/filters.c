/*
 * filters.c - the SPEC's FILTERS options, shared by the commands that
 * select records (search, stats): the outcome vocabulary their --status
 * completes from, and their parsing into a struct pfi_filter (the option
 * spec entries are CLI_FILTER_OPTS in pfi.h).
 */
#include <stdlib.h>

#include "pfi.h"

const char *const cli_statuses[] = {
	"sent", "deferred", "bounced", "expired", "rejected", "discarded",
	"held", "deleted", "filtered", "unknown", NULL
};

const char *const cli_verdicts[] = {
	"dkim=signed", "dkim=pass", "dkim=fail", "dkim=none", "dkim=error",
	"spf=pass", "spf=fail", "spf=softfail", "spf=neutral", "spf=none",
	"spf=temperror", "spf=permerror",
	"dmarc=pass", "dmarc=fail", "dmarc=none",
	"spam=clean", "spam=spam", "spam=spammy", "spam=banned",
	"spam=bad-header",
	"virus=clean", "virus=infected", NULL
};

/* Options whose value is a plain string of the filter. */
static const char **filter_field(struct pfi_filter *f, int c)
{
	switch (c) {
	case CLI_OPT_FROM: return &f->from;
	case CLI_OPT_TO: return &f->to;
	case CLI_OPT_DOMAIN: return &f->domain;
	case CLI_OPT_SENDER_DOMAIN: return &f->sender_domain;
	case CLI_OPT_SUBJECT: return &f->subject;
	case CLI_OPT_DSN: return &f->dsn;
	case CLI_OPT_CLIENT: return &f->client;
	case CLI_OPT_RELAY: return &f->relay;
	case CLI_OPT_HOST: return &f->host;
	case CLI_OPT_MESSAGE_ID: return &f->message_id;
	case CLI_OPT_SASL_USER: return &f->sasl_user;
	case CLI_OPT_GREP: return &f->grep;
	}
	return NULL;
}

static int filter_time(const char *cmd, const char *opt, const char *v,
                       int64_t *out)
{
	if (cli_time(v, out) == 0)
		return PFI_EXIT_OK;
	return cli_time_error(cmd, opt, v);
}

static void filter_add_status(struct cli_filter *cf, const char *v)
{
	cf->status = xrealloc(cf->status,
	                      (cf->f.nstatus + 1) * sizeof(*cf->status));
	cf->status[cf->f.nstatus++] = v;
	cf->f.status = cf->status;
}

static void filter_add_verdict(struct cli_filter *cf, const char *v)
{
	cf->verdict = xrealloc(cf->verdict,
	                       (cf->f.nverdict + 1) * sizeof(*cf->verdict));
	cf->verdict[cf->f.nverdict++] = v;
	cf->f.verdict = cf->verdict;
}

int cli_filter_option(const char *cmd, struct cli_filter *cf, int c,
                      const char *v, int *rc)
{
	const char **field = filter_field(&cf->f, c);

	*rc = PFI_EXIT_OK;
	if (field != NULL)
		*field = v;
	else if (c == CLI_OPT_STATUS)
		filter_add_status(cf, v);
	else if (c == CLI_OPT_VERDICT)
		filter_add_verdict(cf, v);
	else if (c == CLI_OPT_SINCE)
		*rc = filter_time(cmd, "--since", v, &cf->f.since);
	else if (c == CLI_OPT_UNTIL)
		*rc = filter_time(cmd, "--until", v, &cf->f.until);
	else
		return 0;
	return 1;
}

void cli_filter_release(struct cli_filter *cf)
{
	free(cf->status);
	cf->status = NULL;
	free(cf->verdict);
	cf->verdict = NULL;
}
