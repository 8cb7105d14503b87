/*
 * fuzz_postfix.c - libFuzzer target for the Postfix line parser: the
 * syslog envelope (pfi_syslog_parse) and then pfi_postfix_parse() on the
 * whole input as one line, in an exactly-sized buffer without a NUL.
 *
 * The key=value cursor (pfi_kv_next) also walks the whole line, and
 * the line is read as a milter's or filter's (pfi_verdict_parse).
 *
 * Checks: the event kind is known, every slice of the event lies inside
 * the line or wholly outside it (the parser supplies constants, such as
 * the reject it makes of "Illegal address syntax"), and the key=value
 * cursor only moves forward inside the line.
 */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_set_tz();
	return 0;
}

static void check_event(const struct pfi_event *ev, const char *line,
                        size_t len)
{
	const struct pfi_slice s[] = {
		ev->daemon, ev->qid, ev->from, ev->to, ev->orig_to, ev->relay,
		ev->status, ev->dsn, ev->response, ev->client_name,
		ev->client_ip, ev->sasl_method, ev->sasl_username,
		ev->orig_queue_id, ev->message_id, ev->action, ev->stage,
		ev->code, ev->reason, ev->helo, ev->proto, ev->header_name,
		ev->header_value, ev->new_qid, ev->tls_trust, ev->tls_protocol,
		ev->tls_cipher, ev->uid
	};
	size_t i;

	FUZZ_CHECK(ev->kind >= 0 && ev->kind < PFI_EV__COUNT);
	FUZZ_CHECK(pfi_ev_name(ev->kind) != NULL);
	for (i = 0; i < PFI_ARRAY_SIZE(s); i++)
		fuzz_check_slice_or_const(s[i], line, len);
}

/* The milters' and filters' lines (verdict.c): every verdict in SPEC's
 * vocabulary, every slice inside the line, at most the array's verdicts. */
static void check_verdicts(const struct pfi_envelope *env, const char *line,
                           size_t len)
{
	struct pfi_verdict_read v[PFI_VERDICTS_PER_LINE];
	enum pfi_verdict_line r = pfi_verdict_parse(env, v);
	const char *const *res;
	size_t i;

	FUZZ_CHECK(r >= PFI_VL_OTHER && r <= PFI_VL_UNREADABLE);
	FUZZ_CHECK((r != PFI_VL_OTHER) == pfi_verdict_program(env->program));
	if (r == PFI_VL_NONE)
		fuzz_check_slice(v[0].qid, line, len);
	if (r != PFI_VL_VERDICT)
		return;
	FUZZ_CHECK(v[0].nmore < PFI_VERDICTS_PER_LINE);
	for (i = 0; i <= v[0].nmore; i++) {
		const struct pfi_slice s[] = {
			v[i].qid, v[i].domain, v[i].detail, v[i].client_ip,
			v[i].reply
		};
		size_t k;

		for (res = pfi_verdict_results(v[i].kind); res && *res; res++)
			if (strcmp(*res, v[i].result) == 0)
				break;
		FUZZ_CHECK(res != NULL && *res != NULL);
		for (k = 0; k < PFI_ARRAY_SIZE(s); k++)
			fuzz_check_slice(s[k], line, len);
		FUZZ_CHECK(v[i].qid.p == NULL ||
		           pfi_qid_shape(v[i].qid.p, v[i].qid.n));
	}
}

static void walk_kv(const char *line, size_t len)
{
	const char *p = line, *end = line + len, *before;
	struct pfi_slice key, val;

	for (;;) {
		before = p;
		if (!pfi_kv_next(&p, end, &key, &val)) {
			FUZZ_CHECK(p == before);
			break;
		}
		FUZZ_CHECK(p > before && p <= end);
		fuzz_check_slice(key, line, len);
		fuzz_check_slice(val, line, len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_dup(data, size);
	struct pfi_syslog_ctx ctx;
	struct pfi_envelope env;
	struct pfi_event ev;

	pfi_syslog_init(&ctx, FUZZ_REF);
	if (pfi_syslog_parse(&ctx, line, size, &env) == PFI_OK) {
		FUZZ_CHECK(pfi_postfix_parse(&env, &ev) == ev.kind);
		check_event(&ev, line, size);
		check_verdicts(&env, line, size);
	}
	walk_kv(line, size);
	free(line);
	return 0;
}
