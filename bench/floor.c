/*
 * floor.c - what indexing costs before anything is stored.
 *
 *     floor FILE...
 *
 * Reads each file as `pfi index` does (any compression pfi reads),
 * parses every line's syslog envelope and Postfix event, and feeds the
 * correlator, whose finished messages, rejects and sessions are only
 * counted: no line identity, no raw-line chunk, no row.  bench/run.sh
 * times it beside a fresh index; the difference is what storing costs.
 * Built from libpfi's internal objects (lib/libpfi-core.la), so it runs
 * the very code the index runs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "correlate.h"
#include "pfi-int.h"

#define SWEEP_EVERY 65536      /* lines between memory sweeps, as index.c */
#define REPEAT_FEED_MAX 1000   /* "repeated N times" fed at most, as index.c */

struct tally {
	uint64_t lines, nosyslog, messages, open, rejects;
};

static int on_message(void *ctx, const struct pfi_msg *m, int open)
{
	struct tally *t = ctx;

	(void)m;
	if (open)
		t->open++;
	else
		t->messages++;
	return PFI_OK;
}

static int on_reject(void *ctx, const struct pfi_envelope *env,
                     const struct pfi_event *ev)
{
	struct tally *t = ctx;

	(void)env;
	(void)ev;
	t->rejects++;
	return PFI_OK;
}

static int on_line(void *ctx, int64_t line_id, int64_t msg_id)
{
	(void)ctx;
	(void)line_id;
	(void)msg_id;
	return PFI_OK;
}

static int on_sasl(void *ctx, const struct pfi_envelope *env,
                   const struct pfi_event *ev)
{
	(void)ctx;
	(void)env;
	(void)ev;
	return PFI_OK;
}

static int feed_line(struct pfi_corr *c, struct pfi_syslog_ctx *sc,
                     struct tally *t, const char *line, size_t len)
{
	struct pfi_envelope env;
	struct pfi_event ev;
	int64_t owner = 0;
	int i, times, rc = PFI_OK;

	if (pfi_syslog_parse(sc, line, len, &env) != PFI_OK) {
		t->nosyslog++;
		return PFI_OK;
	}
	(void)pfi_postfix_parse(&env, &ev);
	times = env.repeat < REPEAT_FEED_MAX ? env.repeat : REPEAT_FEED_MAX;
	for (i = 0; i < times && rc == PFI_OK; i++)
		rc = pfi_corr_feed(c, &env, &ev, (int64_t)t->lines + 1, &owner);
	return rc;
}

static int read_file(struct pfi_corr *c, struct tally *t, const char *path)
{
	struct pfi_reader *rd;
	struct pfi_err err = { 0, "" };
	struct pfi_syslog_ctx sc;
	uint64_t dev, ino, size;
	time_t mtime;
	const char *line;
	size_t len;
	int rc;

	if (pfi_reader_open(&rd, path, &err) != PFI_OK) {
		fprintf(stderr, "floor: %s\n", err.msg);
		return PFI_EIO;
	}
	pfi_reader_stat(rd, &dev, &ino, &size, &mtime);
	pfi_syslog_init(&sc, mtime);
	while ((rc = pfi_reader_next(rd, &line, &len)) == PFI_OK) {
		if ((rc = feed_line(c, &sc, t, line, len)) != PFI_OK)
			break;
		if (++t->lines % SWEEP_EVERY == 0 &&
		    (rc = pfi_corr_sweep(c)) != PFI_OK)
			break;
	}
	if (rc == PFI_EIO)
		fprintf(stderr, "floor: %s\n", pfi_reader_err(rd)->msg);
	pfi_reader_close(rd);
	return rc == PFI_EOF ? PFI_OK : rc;
}

int main(int argc, char **argv)
{
	struct tally t;
	struct pfi_sink sink = { &t, on_message, on_reject, on_line, on_sasl,
	                         NULL, NULL, NULL };
	struct pfi_corr *c;
	int i, rc = PFI_OK;

	if (argc < 2) {
		fprintf(stderr, "usage: floor FILE...\n");
		return 2;
	}
	memset(&t, 0, sizeof(t));
	if (pfi_corr_new(&c, &sink, 1) != PFI_OK) {
		fprintf(stderr, "floor: out of memory\n");
		return 1;
	}
	for (i = 1; i < argc && rc == PFI_OK; i++)
		rc = read_file(c, &t, argv[i]);
	if (rc == PFI_OK)
		rc = pfi_corr_checkpoint(c);
	pfi_corr_free(c);
	printf("%" PRIu64 " lines (%" PRIu64 " not syslog): %" PRIu64
	       " messages done, %" PRIu64 " still queued, %" PRIu64
	       " rejects\n", t.lines, t.nosyslog, t.messages, t.open,
	       t.rejects);
	return rc == PFI_OK ? 0 : 1;
}
