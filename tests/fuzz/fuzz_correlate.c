/*
 * fuzz_correlate.c - libFuzzer target for the correlator (lib/correlate.c)
 * fed line sequences: the input is split on '\n', each line goes through
 * the syslog envelope and the Postfix parser as `pfi index` does, and the
 * events reach pfi_corr_feed() with a sink that reads everything it is
 * handed.  Every SWEEP_EVERY lines pfi_corr_sweep() runs; at the end a
 * checkpoint hands over what is still open, and the correlator is freed.
 *
 * Lines with "message repeated N times" are fed min(N, REPEAT_MAX) times,
 * so that one line cannot make an input run for minutes.
 */
#include "fuzz.h"
#include "correlate.h"

#define SWEEP_EVERY 16
#define REPEAT_MAX 4

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_set_tz();
	return 0;
}

static void touch_rcpt(const struct pfi_rcpt *r)
{
	fuzz_touch(r->to);
	fuzz_touch(r->orig_to);
	fuzz_touch(r->status);
	fuzz_touch(r->dsn);
	fuzz_touch(r->relay);
	fuzz_touch(r->response);
	fuzz_touch(r->child_qid);
	fuzz_touch(r->stage);
	fuzz_touch(r->code);
	fuzz_touch(r->tls_protocol);
}

static void touch_strings(const struct pfi_msg *m)
{
	const char *const s[] = {
		m->host, m->qid, m->message_id, m->sender, m->client,
		m->client_ip, m->sasl_method, m->sasl_username, m->subject,
		m->tls_protocol, m->tls_cipher, m->origin, m->orig_qid,
		m->cleanup_to
	};
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(s); i++)
		fuzz_touch(s[i]);
}

/* Reads all of a message: ASan checks that nothing it holds was freed. */
static int sink_message(void *ctx, const struct pfi_msg *m, int open)
{
	size_t i;

	(void)ctx;
	FUZZ_CHECK(m->host != NULL && m->qid != NULL);
	touch_strings(m);
	for (i = 0; i < m->nrcpts; i++) {
		touch_rcpt(&m->rcpts[i]);
		fuzz_touch(pfi_rcpt_outcome(m, &m->rcpts[i], open));
	}
	for (i = 0; i < m->nlinks; i++) {
		fuzz_touch(m->links[i].qid);
		fuzz_touch(m->links[i].hint);
	}
	for (i = 1; i < m->nlines; i++)
		FUZZ_CHECK(m->lines[i - 1] < m->lines[i]);
	return PFI_OK;
}

static int sink_event(void *ctx, const struct pfi_envelope *env,
                      const struct pfi_event *ev)
{
	(void)ctx;
	FUZZ_CHECK(env != NULL && ev != NULL);
	return PFI_OK;
}

static int sink_late_line(void *ctx, int64_t line_id, int64_t msg_id)
{
	(void)ctx;
	FUZZ_CHECK(line_id > 0 && msg_id > 0);
	return PFI_OK;
}

static int sink_session(void *ctx, const struct pfi_session_rec *s)
{
	size_t i;

	(void)ctx;
	fuzz_touch(s->host);
	fuzz_touch(s->program);
	fuzz_touch(s->client);
	fuzz_touch(s->client_ip);
	fuzz_touch(s->tls_protocol);
	fuzz_touch(s->tls_cipher);
	fuzz_touch(s->tls_relay);
	fuzz_touch(s->last_qid);
	for (i = 0; i < s->npend; i++) {
		fuzz_touch(s->pend[i].action);
		fuzz_touch(s->pend[i].to);
	}
	for (i = 1; i < s->nlines; i++)
		FUZZ_CHECK(s->lines[i - 1] < s->lines[i]);
	return PFI_OK;
}

static const struct pfi_sink sink = {
	NULL, sink_message, sink_event, sink_late_line, sink_event,
	sink_session
};

/* One line, as lib/index.c takes it. */
static void feed_line(struct pfi_corr *c, struct pfi_syslog_ctx *ctx,
                      const char *line, size_t len, int64_t line_id)
{
	struct pfi_envelope env;
	struct pfi_event ev;
	int64_t owner;
	int i, rc = PFI_OK;

	if (pfi_syslog_parse(ctx, line, len, &env) != PFI_OK)
		return;
	pfi_postfix_parse(&env, &ev);
	for (i = 0; i < env.repeat && i < REPEAT_MAX && rc == PFI_OK; i++)
		rc = pfi_corr_feed(c, &env, &ev, line_id, &owner);
	if (rc != PFI_OK)
		fprintf(stderr, "fuzz: line %lld: pfi_corr_feed: %s\n",
		        (long long)line_id, pfi_strerror(rc));
	FUZZ_CHECK(rc == PFI_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *piece;
	struct pfi_syslog_ctx ctx;
	struct pfi_corr *c = NULL;
	int64_t line_id = 1;
	size_t n;
	char *line;

	FUZZ_CHECK(pfi_corr_new(&c, &sink, 1) == PFI_OK);
	pfi_syslog_init(&ctx, FUZZ_REF);
	while (fuzz_next(&p, end, '\n', &piece, &n)) {
		line = fuzz_dup((const uint8_t *)piece, n);
		feed_line(c, &ctx, line, n, line_id);
		free(line);
		if (line_id++ % SWEEP_EVERY == 0)
			FUZZ_CHECK(pfi_corr_sweep(c) == PFI_OK);
	}
	FUZZ_CHECK(pfi_corr_checkpoint(c) == PFI_OK);
	pfi_corr_free(c);
	return 0;
}
