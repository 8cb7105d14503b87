/*
 * fuzz_postfix.c - libFuzzer target for the Postfix line parser: the
 * syslog envelope (pfi_syslog_parse) and then pfi_postfix_parse() on the
 * whole input as one line, in an exactly-sized buffer without a NUL.
 *
 * The key=value cursor (pfi_kv_next) also walks the whole line.
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
	}
	walk_kv(line, size);
	free(line);
	return 0;
}
