/*
 * fuzz_syslog.c - libFuzzer target for the syslog envelope parser
 * (pfi_syslog_parse, lib/syslog.c): the whole input is one line, given as
 * (pointer, length) in an exactly-sized buffer without a NUL.
 *
 * Checks: every slice of the envelope lies inside the line, host, program
 * and text follow one another in that order (in every shape: classic,
 * RFC 3339, "<PRI>" first, RFC 5424 with its fields between program and
 * text), the repeat count is at least 1, and parsing the same line again
 * with the same year-inference state gives the same time.  The seeds
 * include every line of testdata/central (a central rsyslogd's templates).
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

static void check_envelope(const struct pfi_envelope *env, const char *line,
                           size_t len)
{
	fuzz_check_slice(env->host, line, len);
	fuzz_check_slice(env->program, line, len);
	fuzz_check_slice(env->text, line, len);
	FUZZ_CHECK(env->host.p + env->host.n <= env->program.p);
	FUZZ_CHECK(env->program.p + env->program.n <= env->text.p);
	FUZZ_CHECK(env->repeat >= 1);
	FUZZ_CHECK(env->pid >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_dup(data, size);
	struct pfi_syslog_ctx ctx;
	struct pfi_envelope env, again;

	pfi_syslog_init(&ctx, FUZZ_REF);
	if (pfi_syslog_parse(&ctx, line, size, &env) == PFI_OK) {
		check_envelope(&env, line, size);
		FUZZ_CHECK(pfi_syslog_parse(&ctx, line, size, &again) == PFI_OK);
		FUZZ_CHECK(again.time == env.time);
	}
	free(line);
	return 0;
}
