/*
 * test_verdicts.c - the verdicts of the milters and filters beside
 * Postfix: their lines read one by one (verdict.c), on real lines of the
 * programs (testdata/verdicts, written by opendkim 2.11, opendmarc 1.4,
 * postfix-policyd-spf-python 3.0 and -perl 2.011, amavisd-new 2.13,
 * rspamd 3.4 and clamav-milter 1.4 on Debian 12) and on the shapes of
 * other versions; then joined to messages by the index, checked against
 * the corpus' ground truth (testdata/verdicts/check.py), across runs and
 * in an index made before verdicts were kept.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfi-int.h"
#include "pfi.h"
#include "helpers.h"

/* ---- one line --------------------------------------------------------- */

struct vcase {
	const char *program, *text;
	enum pfi_verdict_line want;
	const char *kind, *result, *qid, *domain, *detail, *client_ip;
	double score;       /* NAN-free: 9999 means no score */
	size_t nmore;
};

#define NOSCORE 9999

static char *cut(struct pfi_slice s)
{
	return s.p ? pfi_slice_dup(s) : NULL;
}

static void expect_str(struct pfi_slice got, const char *want,
                       const char *what, const char *text)
{
	char *g = cut(got);

	if (want == NULL)
		cr_expect_null(g, "%s of '%s': got '%s'", what, text, g);
	else
		cr_expect(g && strcmp(g, want) == 0, "%s of '%s': got '%s', want '%s'",
		          what, text, g ? g : "(none)", want);
	free(g);
}

/* Reads text as a line of program; *copy (free it) holds the text the
 * slices point into, exactly sized: the reader must keep to (pointer,
 * length). */
static enum pfi_verdict_line read_line(const char *program, const char *text,
                                       struct pfi_verdict_read *v, char **copyp)
{
	struct pfi_envelope env;
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	enum pfi_verdict_line r;

	memcpy(copy, text, n);
	memset(&env, 0, sizeof(env));
	env.program.p = program;
	env.program.n = strlen(program);
	env.text.p = copy;
	env.text.n = n;
	env.host.p = "mx1";
	env.host.n = 3;
	r = pfi_verdict_parse(&env, v);
	*copyp = copy;
	return r;
}

static struct vcase cases[] = {
	/* opendkim 2.11 */
	{ "opendkim", "6B0B81082B2: DKIM verification successful", PFI_VL_VERDICT,
	  "dkim", "pass", "6B0B81082B2", NULL, NULL, NULL, NOSCORE, 0 },
	{ "opendkim", "BAA1E1082C1: bad signature data", PFI_VL_VERDICT,
	  "dkim", "fail", "BAA1E1082C1", NULL, NULL, NULL, NOSCORE, 0 },
	{ "opendkim", "DE4C21082B9: no signature data", PFI_VL_VERDICT,
	  "dkim", "none", "DE4C21082B9", NULL, NULL, NULL, NOSCORE, 0 },
	{ "opendkim", "284971082EA: key retrieval failed (s=gone, d=b.test): "
	  "'gone._domainkey.b.test' record not found", PFI_VL_VERDICT,
	  "dkim", "fail", "284971082EA", "b.test", "s=gone", NULL, NOSCORE, 0 },
	{ "opendkim", "2E3CD1089BA: key retrieval failed (s=sel, d=g.test): "
	  "'sel._domainkey.g.test' unexpected reply class/type (-1/-1)",
	  PFI_VL_VERDICT, "dkim", "error", "2E3CD1089BA", "g.test", "s=sel",
	  NULL, NOSCORE, 0 },
	{ "opendkim", "907531089BA: DKIM-Signature field added (s=mail, d=a.test)",
	  PFI_VL_VERDICT, "dkim", "signed", "907531089BA", "a.test", "s=mail",
	  NULL, NOSCORE, 0 },
	/* LogResults: one verdict per signature */
	{ "opendkim", "D056D1082EA: signature=yc4E8Z2p domain=b.test selector=s2026"
	  " result=\"no signature error\"; signature=Z388Ptr3 domain=esp.test"
	  " selector=esp1 result=\"signature verification failed\"",
	  PFI_VL_VERDICT, "dkim", "pass", "D056D1082EA", "b.test",
	  "selector=s2026", NULL, NOSCORE, 1 },
	/* opendkim before LogResults was known: a summary of an older
	 * version (2.10 logs the same words) */
	{ "opendkim", "OpenDKIM Filter v2.11.0 starting (args: -f -x /etc/opendkim.conf)",
	  PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	{ "opendkim", "72C30116229: mail.sender.example [203.0.113.5] not internal",
	  PFI_VL_NONE, NULL, NULL, "72C30116229", NULL, NULL, NULL, NOSCORE, 0 },
	{ "opendkim", "597EF1089B8: message has signatures from b.test, esp.test",
	  PFI_VL_NONE, NULL, NULL, "597EF1089B8", NULL, NULL, NULL, NOSCORE, 0 },
	{ "opendkim", "6B0B81082B2: s=s2026 d=b.test a=rsa-sha256 SSL ",
	  PFI_VL_NONE, NULL, NULL, "6B0B81082B2", "b.test", "s=s2026", NULL,
	  NOSCORE, 0 },
	{ "opendkim", "907531089BA: DKIM-Signature field added garbage",
	  PFI_VL_UNREADABLE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	/* opendmarc 1.4 */
	{ "opendmarc", "6B0B81082B2: b.test pass", PFI_VL_VERDICT, "dmarc", "pass",
	  "6B0B81082B2", "b.test", NULL, NULL, NOSCORE, 0 },
	{ "opendmarc", "E2C031089B8: c.test fail", PFI_VL_VERDICT, "dmarc", "fail",
	  "E2C031089B8", "c.test", NULL, NULL, NOSCORE, 0 },
	{ "opendmarc", "2E3CD1089BA: g.test none", PFI_VL_VERDICT, "dmarc", "none",
	  "2E3CD1089BA", "g.test", NULL, NULL, NOSCORE, 0 },
	/* results beyond SPEC's three: none, the word in detail */
	{ "opendmarc", "4A1B2C3D4E: example.org bestguesspass", PFI_VL_VERDICT,
	  "dmarc", "none", "4A1B2C3D4E", "example.org", "bestguesspass", NULL,
	  NOSCORE, 0 },
	{ "opendmarc", "4A1B2C3D4E: SPF(mailfrom): example.org softfail",
	  PFI_VL_VERDICT, "spf", "softfail", "4A1B2C3D4E", "example.org",
	  "mailfrom", NULL, NOSCORE, 0 },
	{ "opendmarc", "4A1B2C3D4E: example.org maybe", PFI_VL_UNREADABLE,
	  NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	{ "opendmarc", "additional trusted authentication services: mx1.a.test",
	  PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	/* postfix-policyd-spf-python 3.0, QueueID option: ": " before a
	 * queue ID exists */
	{ "policyd-spf", ": prepend Received-SPF: Pass (mailfrom) identity=mailfrom;"
	  " client-ip=127.0.0.2; helo=mail.b.test; envelope-from=bob@b.test;"
	  " receiver=a.test ", PFI_VL_VERDICT, "spf", "pass", NULL, "b.test",
	  "identity=mailfrom", "127.0.0.2", NOSCORE, 0 },
	/* without the option (older versions, default configuration) */
	{ "policyd-spf", "prepend Received-SPF: Softfail (mailfrom) identity=mailfrom;"
	  " client-ip=2001:db8::7; helo=relay.example; envelope-from=carl@c.example;"
	  " receiver=<UNKNOWN> ", PFI_VL_VERDICT, "spf", "softfail", NULL,
	  "c.example", "identity=mailfrom", "2001:db8::7", NOSCORE, 0 },
	{ "policyd-spf", ": 550 5.7.23 Message rejected due to: SPF fail - not"
	  " authorized. Please see http://www.openspf.net/Why?s=helo;"
	  "id=mail.b.test;ip=127.0.0.3;r=a.test", PFI_VL_VERDICT, "spf", "fail",
	  NULL, "mail.b.test", "helo", "127.0.0.3", NOSCORE, 0 },
	{ "policyd-spf", "Starting", PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL,
	  NULL, NOSCORE, 0 },
	/* debug level 2 repeats the prepend: not counted twice */
	{ "policyd-spf", "Pass; identity=mailfrom; client-ip=127.0.0.2;"
	  " helo=mail.b.test; envelope-from=bob@b.test; receiver=a.test ",
	  PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	{ "policyd-spf", ": prepend Received-SPF: Maybe (mailfrom) identity=mailfrom",
	  PFI_VL_UNREADABLE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	/* postfix-policyd-spf-perl 2.011 (ident postfix/policy-spf) */
	{ "postfix/policy-spf", "Policy action=PREPEND Received-SPF: pass (b.test:"
	  " 127.0.0.2 is authorized to use 'bob@b.test' in 'mfrom' identity"
	  " (mechanism 'ip4:127.0.0.2' matched)) receiver=vm; identity=mailfrom;"
	  " envelope-from=\"bob@b.test\"; helo=mail.b.test; client-ip=127.0.0.2",
	  PFI_VL_VERDICT, "spf", "pass", NULL, "b.test", "identity=mailfrom",
	  "127.0.0.2", NOSCORE, 0 },
	{ "postfix/policy-spf", "Policy action=PREPEND Received-SPF: pass"
	  " (mail.b.test: 127.0.0.2 is authorized to use 'mail.b.test' in 'helo'"
	  " identity (mechanism 'a' matched)) receiver=vm; identity=helo;"
	  " helo=mail.b.test; client-ip=127.0.0.2", PFI_VL_VERDICT, "spf", "pass",
	  NULL, "mail.b.test", "identity=helo", "127.0.0.2", NOSCORE, 0 },
	{ "postfix/policy-spf", "Policy action=550 Please see"
	  " http://www.openspf.org/Why?s=mfrom;id=bob%40b.test;ip=127.0.0.3;r=vm",
	  PFI_VL_VERDICT, "spf", "fail", NULL, "b.test", "mfrom", "127.0.0.3",
	  NOSCORE, 0 },
	{ "postfix/policy-spf", "Policy action=DEFER_IF_PERMIT SPF-Result=g.test:"
	  " 'REFUSED' error on DNS 'TXT' lookup of 'g.test'", PFI_VL_VERDICT,
	  "spf", "temperror", NULL, NULL, NULL, NULL, NOSCORE, 0 },
	{ "postfix/policy-spf", "Policy action=DUNNO", PFI_VL_NONE, NULL, NULL,
	  NULL, NULL, NULL, NULL, NOSCORE, 0 },
	/* amavisd-new 2.13: a spam category is also virus=clean */
	{ "amavis", "(10357-01) Passed CLEAN {RelayedInbound}, [127.0.0.2]:59557"
	  " <bob@b.test> -> <alice+d01@a.test>, Queue-ID: 6B0B81082B2, Message-ID:"
	  " <D01.20261207032100@pfi.test>, mail_id: WZT5F8jrsydW, Hits: -1, size:"
	  " 1448, queued_as: 14C6A1089C6, 4352 ms", PFI_VL_VERDICT, "spam",
	  "clean", "6B0B81082B2", NULL, NULL, NULL, -1, 1 },
	{ "amavis", "(10347-03-11) Passed SPAM {RelayedTaggedInbound,Quarantined},"
	  " [127.0.0.2]:40469 <bob@b.test> -> <alice+a01@a.test>, quarantine:"
	  " X/spam-XtIPHe2LxtQa.gz, Queue-ID: 54E4A108301, Message-ID:"
	  " <A01.20261207032100@pfi.test>, mail_id: XtIPHe2LxtQa, Hits: 999.5,"
	  " size: 818, queued_as: 2C8A5108A34, 3972 ms", PFI_VL_VERDICT, "spam",
	  "spam", "54E4A108301", NULL, NULL, NULL, 999.5, 1 },
	{ "amavis", "(10347-03-12) Blocked INFECTED (Win.Test.EICAR_HDB-1.UNOFFICIAL)"
	  " {DiscardedInbound,Quarantined}, [127.0.0.2]:59863 <bob@b.test> ->"
	  " <alice+a03@a.test>, quarantine: 8/virus-8b2zSppaKpIi, Queue-ID:"
	  " E40C01089D5, Message-ID: <A03.20261207032100@pfi.test>, mail_id:"
	  " 8b2zSppaKpIi, Hits: -, size: 1139, 1334 ms", PFI_VL_VERDICT, "virus",
	  "infected", "E40C01089D5", NULL, "Win.Test.EICAR_HDB-1.UNOFFICIAL",
	  NULL, NOSCORE, 0 },
	{ "amavis", "(10347-03-13) Blocked BANNED (application/octet-stream,.exe,"
	  ".exe-ms,invoice.pdf.exe) {DiscardedInbound,Quarantined},"
	  " [127.0.0.2]:42961 <bob@b.test> -> <alice+a04@a.test>, Queue-ID:"
	  " 37F871089D6, Message-ID: <A04@pfi.test>, mail_id: 3Ws14OEb8GRO, Hits: -,"
	  " size: 1235, 1803 ms", PFI_VL_VERDICT, "spam", "banned", "37F871089D6",
	  NULL, "application/octet-stream,.exe,.exe-ms,invoice.pdf.exe", NULL,
	  NOSCORE, 1 },
	{ "amavis", "(10357-02-12) Passed BAD-HEADER-2 {RelayedInbound,Quarantined},"
	  " [127.0.0.2]:40121 <bob@b.test> -> <alice+a05@a.test>, Queue-ID:"
	  " 7D60A1089E1, Message-ID: <A05@pfi.test>, mail_id: Rx26NGCj2Bnh, Hits:"
	  " 0.118, size: 759, queued_as: BCF82108A35, 3557 ms", PFI_VL_VERDICT,
	  "spam", "bad-header", "7D60A1089E1", NULL, NULL, NULL, 0.118, 1 },
	/* amavisd-new 2.6 (no {actions}, no Queue-ID): read, joined to nothing */
	{ "amavis", "(03021-07) Passed SPAMMY, [198.51.100.25] [198.51.100.25]"
	  " <a@partner.example> -> <carol@example.com>, Message-ID: <x@y>, mail_id:"
	  " q7Yd2KfLw0Pa, Hits: 6.3, size: 25310, queued_as: 11DD71161BB, 312 ms",
	  PFI_VL_VERDICT, "spam", "spammy", NULL, NULL, NULL, NULL, 6.3, 1 },
	/* a Message-ID that poses as the fixed fields cannot move them */
	{ "amavis", "(10357-01) Passed CLEAN {RelayedInbound}, [127.0.0.2]:1"
	  " <b@b.test> -> <a@a.test>, Queue-ID: 6B0B81082B2, Message-ID:"
	  " <x, Queue-ID: FAKE00001, Hits: 50, queued_as: FAKE0002, @y>, mail_id:"
	  " W, Hits: -1.5, size: 1, queued_as: 14C6A1089C6, 4 ms", PFI_VL_VERDICT,
	  "spam", "clean", "6B0B81082B2", NULL, NULL, NULL, -1.5, 1 },
	{ "amavis", "starting. /usr/sbin/amavisd at mx1.a.test amavis-2.13.0",
	  PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	{ "amavis", "(10357-01) Passed UNCHECKED {RelayedInbound}, <b@b.test> ->"
	  " <a@a.test>", PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	/* rspamd 3.4 through its proxy (milter) */
	{ "rspamd", "<a17f9f>; proxy; rspamd_task_write_log: id:"
	  " <R01.20261207032712@pfi.test>, qid: <7E1711089DF>, ip: 127.0.0.2, from:"
	  " <bob@b.test>, (default: F (no action): [-0.10/15.00] [MIME_GOOD(-0.10)"
	  "{text/plain;}]), len: 861, time: 992.816ms, dns req: 3, digest: <f1>,"
	  " rcpts: <alice+r01@a.test>, mime_rcpts: <alice@a.test>", PFI_VL_VERDICT,
	  "spam", "clean", "7E1711089DF", NULL, "no action", "127.0.0.2", -0.1, 0 },
	{ "rspamd", "<bd5e9e>; proxy; rspamd_task_write_log: id:"
	  " <R02.20261207032712@pfi.test>, qid: <8ED531089DF>, ip: 127.0.0.2, from:"
	  " <bob@b.test>, (default: S (reject): [15.00/15.00] [GTUBE(0.00){}]),"
	  " len: 372, time: 1.867ms, dns req: 0, digest: <3b>, rcpts:"
	  " <alice+r02@a.test>, forced: reject \"Gtube pattern\"", PFI_VL_VERDICT,
	  "spam", "spam", "8ED531089DF", NULL, "reject", "127.0.0.2", 15, 0 },
	{ "rspamd", "<c0ffee>; task; rspamd_task_write_log: id: <m@x>, qid:"
	  " <ABCDE12345>, ip: 192.0.2.9, (default: T (add header): [7.20/15.00]"
	  " [BAYES_SPAM(5.10)]), len: 100", PFI_VL_VERDICT, "spam", "spammy",
	  "ABCDE12345", NULL, "add header", "192.0.2.9", 7.2, 0 },
	{ "rspamd", "<a17f9f>; main; rspamd_main: rspamd 3.4 is starting",
	  PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	/* clamav-milter 1.4: LogInfected Full, LogClean Full; Basic */
	{ "clamav-milter", "Message 4C2E11089E3 from <bob@b.test> to"
	  " <alice+c01@a.test> with subject '[C01] x infected by y' message-id"
	  " '<C01@pfi.test>' date 'Mon, 07 Dec 2026' infected by"
	  " Win.Test.EICAR_HDB-1.UNOFFICIAL", PFI_VL_VERDICT, "virus", "infected",
	  "4C2E11089E3", NULL, "Win.Test.EICAR_HDB-1.UNOFFICIAL", NULL, NOSCORE, 0 },
	{ "clamav-milter", "Clean message 9A1B11089E4 from <bob@b.test> to"
	  " <alice@a.test> with subject 's' message-id '<m@x>' date 'd'",
	  PFI_VL_VERDICT, "virus", "clean", "9A1B11089E4", NULL, NULL, NULL,
	  NOSCORE, 0 },
	{ "clamav-milter", "Message from <bob@b.test> to <alice@a.test> infected"
	  " by Eicar-Signature", PFI_VL_VERDICT, "virus", "infected", NULL, NULL,
	  "Eicar-Signature", NULL, NOSCORE, 0 },
	{ "clamav-milter", "clamav-milter 1.4.6 started at Mon Dec  7 03:19:45 2026",
	  PFI_VL_NONE, NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
	/* not a program verdict.c reads */
	{ "dovecot", "lmtp(alice): msgid=<x>: saved mail to INBOX", PFI_VL_OTHER,
	  NULL, NULL, NULL, NULL, NULL, NULL, NOSCORE, 0 },
};

static void check_verdict(const struct vcase *c, enum pfi_verdict_line r,
                          const struct pfi_verdict_read *v);

ParameterizedTestParameters(verdicts, lines_read_as_their_program_meant)
{
	return cr_make_param_array(struct vcase, cases,
	                           sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct vcase *c, verdicts, lines_read_as_their_program_meant)
{
	struct pfi_verdict_read v[PFI_VERDICTS_PER_LINE];
	char *copy;
	enum pfi_verdict_line r = read_line(c->program, c->text, v, &copy);

	check_verdict(c, r, v);
	free(copy);
}

static void check_verdict(const struct vcase *c, enum pfi_verdict_line r,
                          const struct pfi_verdict_read *v)
{
	cr_assert_eq(r, c->want, "'%s': %d, want %d", c->text, r, c->want);
	expect_str(v[0].qid, c->qid, "queue ID", c->text);
	if (c->want == PFI_VL_NONE && c->domain)
		expect_str(v[0].domain, c->domain, "domain", c->text);
	if (r != PFI_VL_VERDICT)
		return;
	cr_expect_str_eq(v[0].kind, c->kind, "%s", c->text);
	cr_expect_str_eq(v[0].result, c->result, "%s", c->text);
	cr_expect_not_null(pfi_verdict_results(v[0].kind));
	expect_str(v[0].domain, c->domain, "domain", c->text);
	if (c->detail)
		expect_str(v[0].detail, c->detail, "detail", c->text);
	if (c->client_ip)
		expect_str(v[0].client_ip, c->client_ip, "client", c->text);
	cr_expect_eq(v[0].has_score, c->score != NOSCORE, "score of %s", c->text);
	if (c->score != NOSCORE)
		cr_expect(v[0].score > c->score - 1e-9 && v[0].score < c->score + 1e-9,
		          "score %g of %s", v[0].score, c->text);
	cr_expect_eq(v[0].nmore, c->nmore, "%s", c->text);
	if (v[0].nmore == 1 && strcmp(v[0].kind, "spam") == 0) {
		cr_expect_str_eq(v[1].kind, "virus");
		cr_expect_str_eq(v[1].result, "clean");
		cr_expect_eq(v[1].has_score, 0);
	}
}

Test(verdicts, each_result_word_is_in_the_spec_vocabulary)
{
	const char *const *k, *const *r;
	int n = 0;

	for (k = pfi_verdict_kinds(); *k; k++)
		for (r = pfi_verdict_results(*k); *r; r++)
			n++;
	cr_assert_eq(n, 22);   /* SPEC: 5 + 7 + 3 + 5 + 2 */
	cr_assert_null(pfi_verdict_results("bogus"));
}

/* ---- the corpus: joined to their messages ----------------------------- */

Test(verdicts, the_corpus_answers_equal_its_ground_truth)
{
	char cmd[8192];
	int rc;

	char *script = strdup(fixture("verdicts/check.py"));

	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s' '%s' > /dev/null",
	         script, PFI_BIN, fixture("verdicts"));
	free(script);
	rc = system(cmd);
	cr_assert(WIFEXITED(rc) && WEXITSTATUS(rc) == 0,
	          "check.py found mismatches: run %s", cmd);
}

/* The verdicts of message qid (its own) as "kind=result domain" lines. */
static char *verdicts_of(const char *db, const char *qid)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT v.kind || '=' || v.result || ' ' ||"
	         " coalesce(v.domain, '-') FROM verdicts v JOIN messages m"
	         " ON m.id = v.message WHERE m.queue_id = '%s' ORDER BY v.id", qid);
	return db_rows(db, sql);
}

/* Writes lines [from, to) of the corpus log to path. */
static void corpus_part(const char *path, size_t from, size_t to)
{
	char *text, **lines;
	size_t n = fixture_lines("verdicts/mail.log", &text, &lines), i;
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp);
	for (i = from; i < to && i < n; i++)
		fprintf(fp, "%s\n", lines[i]);
	fclose(fp);
	free(lines);
	free(text);
}

/* An SPF check logged in one run waits for the message its client queues
 * in the next (the index keeps it unjoined meanwhile). */
Test(verdicts, an_spf_check_finds_its_message_in_the_next_run)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "v.db"), *log = path_join(dir, "mail.log");
	char *text, **lines, *got, qid[32] = "";
	size_t n = fixture_lines("verdicts/mail.log", &text, &lines), cut_at;
	const char *paths[] = { log }, *p = NULL;

	/* just after the first SPF check, before its message's "QID:
	 * client=" (the corpus' first case, D01: a good signature) */
	for (cut_at = 1; cut_at < n; cut_at++)
		if (strstr(lines[cut_at - 1], "policyd-spf[") &&
		    (p = strstr(lines[cut_at], "]: ")) != NULL &&
		    strstr(lines[cut_at], ": client="))
			break;
	cr_assert_lt(cut_at, n);
	cr_assert_not_null(p);
	p += 3;
	memcpy(qid, p, strcspn(p, ":") < sizeof(qid) ? strcspn(p, ":") : 0);
	corpus_part(log, 0, cut_at);
	pfi_store_close(index_into(db, paths, 1, NULL));
	cr_assert_eq(db_int(db, "SELECT count(*) FROM verdicts WHERE kind = 'spf'"
	             " AND message IS NULL AND time = (SELECT max(time) FROM"
	             " verdicts)"), 1);
	corpus_part(log, 0, n);   /* the file grew */
	pfi_store_close(index_into(db, paths, 1, NULL));
	got = verdicts_of(db, qid);
	cr_expect_str_eq(got, "spf=pass b.test\ndkim=pass b.test\n"
	                 "dmarc=pass b.test\nspam=clean -\nvirus=clean -\n");
	free(got);
	free(lines);
	free(text);
	free(log);
	free(db);
}

/* search --verdict through the library: the filter hop's copy carries
 * the edge's verdicts; a typo is an error, not an empty answer. */
Test(verdicts, search_finds_the_delivered_copy_by_the_edge_verdict)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "v.db");
	const char *paths[] = { fixture("verdicts/mail.log") };
	const char *want[] = { "dkim=fail" }, *bad[] = { "dkim=maybe" };
	struct pfi_filter f = { 0 };
	struct pfi_search_opts o = PFI_SEARCH_OPTIONS_INIT;
	const struct pfi_delivery *d;
	pfi_search *q;
	pfi_store *st = index_into(db, paths, 1, NULL);
	int rows = 0, delivered = 0;
	int64_t n;

	f.verdict = want;
	f.nverdict = 1;
	o.filter = &f;
	cr_assert_eq(pfi_search_new(&q, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	while (pfi_search_next(q, &d) == PFI_OK) {
		size_t i;
		int has = 0;

		rows++;
		delivered += strcmp(d->status, "sent") == 0;
		for (i = 0; i < d->nverdicts; i++)
			has |= strcmp(d->verdicts[i].kind, "dkim") == 0 &&
			       strcmp(d->verdicts[i].result, "fail") == 0;
		cr_expect(has, "row of %s lacks dkim=fail", d->queue_id);
	}
	pfi_search_free(q);
	cr_expect_gt(rows, 0);
	cr_expect_gt(delivered, 0, "no delivered copy found by its edge verdict");
	f.verdict = bad;
	cr_expect_eq(pfi_search_count(st, &o, &n), PFI_EINVAL);
	cr_expect_not_null(strstr(pfi_errmsg(st), "maybe"));
	pfi_store_close(st);
	free(db);
}

/* A search row carries its message's verdicts and those up its filter
 * hops, oldest first, each once; a filter chain that loops back (only a
 * damaged or crafted index has one) ends rather than hanging. */
Test(verdicts, a_row_carries_each_verdict_of_its_chain_once_in_time_order)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "v.db");
	const char *paths[] = { fixture("verdicts/mail.log") };
	struct pfi_search_opts o = PFI_SEARCH_OPTIONS_INIT;
	const struct pfi_delivery *d;
	pfi_search *q;
	pfi_store *st = index_into(db, paths, 1, NULL);
	int64_t child, parent, want;
	char *child_qid, *moved_program;
	sqlite3 *raw;
	char sql[256];
	int rows = 0;

	pfi_store_close(st);
	child = db_int(db, "SELECT min(m.id) FROM messages m WHERE"
	               " m.relation = 'filter' AND (SELECT count(*) FROM"
	               " verdicts v WHERE v.message = m.parent) > 1");
	cr_assert_gt(child, 0, "the corpus has no filter hop with verdicts");
	snprintf(sql, sizeof(sql), "SELECT parent FROM messages WHERE id ="
	         " %lld", (long long)child);
	parent = db_int(db, sql);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM verdicts WHERE"
	         " message = %lld", (long long)parent);
	want = db_int(db, sql);
	snprintf(sql, sizeof(sql), "SELECT queue_id FROM messages WHERE id ="
	         " %lld", (long long)child);
	child_qid = db_rows(db, sql);
	child_qid[strcspn(child_qid, "\n")] = '\0';
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	/* The parent's first verdict becomes the child's own and the newest
	 * of the chain: it must come last although the child is read first. */
	snprintf(sql, sizeof(sql), "UPDATE verdicts SET message = %lld, time ="
	         " (SELECT max(time) + 1 FROM verdicts WHERE message = %lld)"
	         " WHERE id = (SELECT min(id) FROM verdicts WHERE message ="
	         " %lld)", (long long)child, (long long)parent,
	         (long long)parent);
	cr_assert_eq(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT program FROM verdicts WHERE id ="
	         " (SELECT max(id) FROM verdicts WHERE message = %lld)",
	         (long long)child);
	moved_program = db_rows(db, sql);
	moved_program[strcspn(moved_program, "\n")] = '\0';
	/* And the chain a loop: the parent now also came from the child. */
	snprintf(sql, sizeof(sql), "UPDATE messages SET parent = %lld,"
	         " relation = 'filter' WHERE id = %lld", (long long)child,
	         (long long)parent);
	cr_assert_eq(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK,
	             "%s", pfi_errmsg(st));
	cr_assert_eq(pfi_search_new(&q, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	while (pfi_search_next(q, &d) == PFI_OK) {
		size_t i;

		if (d->queue_id == NULL || strcmp(d->queue_id, child_qid) != 0)
			continue;
		rows++;
		cr_expect_eq((int64_t)d->nverdicts, want);
		cr_expect(d->nverdicts > 1 && strcmp(d->verdicts[d->nverdicts -
		          1].program, moved_program) == 0,
		          "the newest verdict is not last");
		for (i = 1; i < d->nverdicts; i++)
			cr_expect_leq(d->verdicts[i - 1].time, d->verdicts[i].time);
	}
	pfi_search_free(q);
	cr_expect_gt(rows, 0, "no row of message %s", child_qid);
	pfi_store_close(st);
	free(child_qid);
	free(moved_program);
	free(db);
}

/* An index of schema 4 has no verdicts table: read as it is, a verdict
 * filter matches nothing; opened for writing, it gets the table. */
Test(verdicts, an_index_of_schema_4_is_read_and_then_upgraded)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "v.db");
	const char *paths[] = { fixture("logs/sample.log") };
	const char *want[] = { "dkim=pass" };
	struct pfi_filter f = { 0 };
	struct pfi_search_opts o = PFI_SEARCH_OPTIONS_INIT;
	pfi_store *st = index_into(db, paths, 1, NULL);
	sqlite3 *raw;
	int64_t n = -1;

	pfi_store_close(st);
	cr_assert_eq(sqlite3_open(db, &raw), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(raw, "DROP TABLE verdicts; DROP TABLE"
	             " journal_cursors; PRAGMA user_version = 4", NULL, NULL,
	             NULL), SQLITE_OK);
	sqlite3_close(raw);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_READONLY), PFI_OK,
	             "%s", pfi_errmsg(st));
	f.verdict = want;
	f.nverdict = 1;
	o.filter = &f;
	cr_expect_eq(pfi_search_count(st, &o, &n), PFI_OK, "%s", pfi_errmsg(st));
	cr_expect_eq(n, 0);
	pfi_store_close(st);
	cr_assert_eq(pfi_store_open(&st, db, PFI_OPEN_WRITE), PFI_OK,
	             "%s", pfi_errmsg(st));
	pfi_store_close(st);
	cr_expect_eq(db_int(db, "PRAGMA user_version"), 5);
	cr_expect_eq(db_int(db, "SELECT count(*) FROM verdicts"), 0);
	free(db);
}

/* The sample log's verdicts: opendkim and amavis lines of a real mix. */
Test(verdicts, the_sample_log_keeps_its_verdicts_and_foreign_lines_apart)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "s.db");
	const char *paths[] = { fixture("logs/sample.log") };
	char *rows;

	pfi_store_close(index_into(db, paths, 1, NULL));
	rows = db_rows(db, "SELECT kind, result, count(*) FROM verdicts"
	               " GROUP BY 1, 2 ORDER BY 1, 2");
	cr_expect_str_eq(rows, "dkim|pass|4\ndkim|signed|6\nspam|clean|1\n"
	                 "virus|clean|1\n");
	free(rows);
	/* every one joined its message, those logged before its first line
	 * too */
	cr_expect_eq(db_int(db, "SELECT count(*) FROM verdicts WHERE message"
	             " IS NULL"), 0);
	free(db);
}

/* pfi stats: messages by verdict and their shares, outbound signing, and
 * a verdict filter that the stats cells cannot answer (rows do). */
Test(verdicts, stats_count_messages_by_verdict_and_signing)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "v.db");
	const char *paths[] = { fixture("verdicts/mail.log") };
	const char *spam[] = { "spam=spam" };
	struct pfi_stats_opts o = PFI_STATS_OPTIONS_INIT;
	struct pfi_filter f = { 0 };
	struct pfi_stats *s;
	pfi_store *st = index_into(db, paths, 1, NULL);
	int64_t want, got = -1, total = 0;
	size_t i;

	cr_assert_eq(pfi_stats_new(&s, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	want = db_int(db, "SELECT count(DISTINCT coalesce(message, -id))"
	              " FROM verdicts WHERE kind = 'dkim' AND result = 'fail'");
	for (i = 0; i < s->nverdicts; i++) {
		if (strcmp(s->verdicts[i].kind, "dmarc") == 0)
			total += s->verdicts[i].messages;
		if (strcmp(s->verdicts[i].kind, "dkim") == 0 &&
		    strcmp(s->verdicts[i].result, "fail") == 0)
			got = s->verdicts[i].messages;
		if (strcmp(s->verdicts[i].result, "signed") == 0)
			cr_expect_lt(s->verdicts[i].ratio, 0);
	}
	cr_expect_eq(got, want);
	cr_expect_gt(want, 0);
	cr_expect_eq(total, db_int(db, "SELECT count(*) FROM verdicts"
	             " WHERE kind = 'dmarc'"));
	cr_assert_eq(s->nsigning, 1);
	cr_expect_str_eq(s->signing[0].domain, "a.test");
	cr_expect_eq(s->signing[0].signed_messages, 2);
	cr_expect_eq(s->signing[0].messages,
	             db_int(db, "SELECT count(*) FROM messages WHERE parent IS NULL"
	                    " AND sender LIKE '%@a.test'"));
	pfi_stats_free(s);
	/* stats --verdict spam=spam: only the spam messages' recipients */
	f.verdict = spam;
	f.nverdict = 1;
	o.filter = &f;
	cr_assert_eq(pfi_stats_new(&s, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	cr_expect_eq(s->total.received, db_int(db, "SELECT count(DISTINCT"
	             " message) FROM verdicts WHERE kind = 'spam' AND result ="
	             " 'spam' AND message IS NOT NULL"));
	for (i = 0; i < s->nverdicts; i++)
		if (strcmp(s->verdicts[i].kind, "spam") == 0)
			cr_expect_str_eq(s->verdicts[i].result, "spam");
	pfi_stats_free(s);
	pfi_store_close(st);
	free(db);
}

/* The messages with kind=result in by[] row g; 0 when none. */
static int64_t group_verdict(const struct pfi_stats_group *g, const char *kind,
                             const char *result)
{
	size_t i;

	for (i = 0; i < g->nverdicts; i++)
		if (strcmp(g->verdicts[i].kind, kind) == 0 &&
		    strcmp(g->verdicts[i].result, result) == 0)
			return g->verdicts[i].messages;
	return 0;
}

static const struct pfi_stats_group *group_of_key(const struct pfi_stats *s,
                                                  const char *key)
{
	size_t i;

	for (i = 0; i < s->nby; i++)
		if (s->by[i].key && strcmp(s->by[i].key, key) == 0)
			return &s->by[i];
	cr_assert_fail("no by[] row %s", key);
	return NULL;
}

/* stats --by splits the verdicts.  Known answers from the corpus's
 * ground truth: spf=fail was logged for D08, O04 (delivered, dkim=pass,
 * dmarc=pass), D12 (delivered, dmarc=fail), D09 (held, dmarc=fail) and
 * the NOQUEUE rejects S01, S07, P02. */
Test(verdicts, stats_by_splits_verdicts_per_key)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "v.db");
	const char *paths[] = { fixture("verdicts/mail.log") };
	const char *spf_fail[] = { "spf=fail" };
	struct pfi_stats_opts o = PFI_STATS_OPTIONS_INIT;
	struct pfi_filter f = { 0 };
	const struct pfi_stats_group *g;
	struct pfi_stats *s;
	pfi_store *st = index_into(db, paths, 1, NULL);
	int64_t rest = 0;
	size_t i;

	f.verdict = spf_fail;
	f.nverdict = 1;
	o.filter = &f;
	o.by = PFI_BY_STATUS;
	cr_assert_eq(pfi_stats_new(&s, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	g = group_of_key(s, "rejected");
	cr_expect_eq(group_verdict(g, "spf", "fail"), 3);
	cr_expect_eq(g->nverdicts, 1);
	g = group_of_key(s, "sent");
	cr_expect_eq(group_verdict(g, "spf", "fail"), 3);
	cr_expect_eq(group_verdict(g, "dkim", "pass"), 2);
	cr_expect_eq(group_verdict(g, "dmarc", "pass"), 2);
	cr_expect_eq(group_verdict(g, "dmarc", "fail"), 1);
	g = group_of_key(s, "held");
	cr_expect_eq(group_verdict(g, "spf", "fail"), 1);
	cr_expect_eq(group_verdict(g, "dmarc", "fail"), 1);
	cr_expect_eq(s->nby, 3);
	/* the totals count the rejects too */
	for (i = 0; i < s->nverdicts; i++)
		if (strcmp(s->verdicts[i].kind, "spf") == 0)
			cr_expect_eq(s->verdicts[i].messages, 7);
	pfi_stats_free(s);

	/* One day, one host: the row holds every verdict of the totals. */
	o.filter = NULL;
	o.by = PFI_BY_DAY;
	cr_assert_eq(pfi_stats_new(&s, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(s->nby, 1);
	cr_expect_eq(s->by[0].nverdicts, s->nverdicts);
	for (i = 0; i < s->nverdicts; i++)
		cr_expect_eq(group_verdict(&s->by[0], s->verdicts[i].kind,
		             s->verdicts[i].result), s->verdicts[i].messages,
		             "%s=%s", s->verdicts[i].kind, s->verdicts[i].result);
	pfi_stats_free(s);

	/* Past by_limit, "(other)" sums the rest: each message has one
	 * client, so the rows add up to the totals. */
	o.by = PFI_BY_CLIENT;
	o.by_limit = 1;
	cr_assert_eq(pfi_stats_new(&s, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	cr_assert_eq(s->nby, 2);
	cr_expect_str_eq(s->by[1].key, "(other)");
	rest = group_verdict(&s->by[0], "virus", "clean") +
	       group_verdict(&s->by[1], "virus", "clean");
	cr_expect_eq(rest, 61);   /* every message amavis passed as clean */
	pfi_stats_free(s);
	pfi_store_close(st);
	free(db);
}

/* A NOQUEUE reject's row carries the check that led to it: S01, S07 and
 * P02 were rejected after SPF failed (the ground truth). */
Test(verdicts, a_reject_row_carries_the_verdict_that_led_to_it)
{
	const char *dir = tmpdir_make();
	char *db = path_join(dir, "v.db");
	const char *paths[] = { fixture("verdicts/mail.log") };
	const char *spf_fail[] = { "spf=fail" };
	struct pfi_filter f = { 0 };
	struct pfi_search_opts o = PFI_SEARCH_OPTIONS_INIT;
	const struct pfi_delivery *d;
	pfi_search *q;
	pfi_store *st = index_into(db, paths, 1, NULL);
	int rejects = 0;

	f.verdict = spf_fail;
	f.nverdict = 1;
	o.filter = &f;
	cr_assert_eq(pfi_search_new(&q, st, &o), PFI_OK, "%s", pfi_errmsg(st));
	while (pfi_search_next(q, &d) == PFI_OK) {
		if (d->queue_id != NULL)
			continue;
		rejects++;
		cr_assert_eq(d->nverdicts, 1, "reject to %s", d->to);
		cr_expect_str_eq(d->verdicts[0].kind, "spf");
		cr_expect_str_eq(d->verdicts[0].result, "fail");
		/* policyd-spf (python) or postfix/policy-spf (perl) */
		cr_expect_not_null(strstr(d->verdicts[0].program, "spf"));
	}
	pfi_search_free(q);
	cr_expect_eq(rejects, 3);
	pfi_store_close(st);
	free(db);
}

/* The command offers --verdict values from its own option spec (for the
 * parser, Tab and the shell completions): they must be the library's
 * vocabulary, word for word and in its order. */
Test(verdicts, the_command_offers_exactly_the_library_vocabulary)
{
	const char *argv[] = { "__complete", "search", "--verdict", "", NULL };
	const char *const *k, *const *r;
	struct pfi_buf want;
	char *out = NULL, *err = NULL;

	pfi_buf_init(&want, 0);
	for (k = pfi_verdict_kinds(); *k; k++)
		for (r = pfi_verdict_results(*k); *r; r++)
			cr_assert_eq(pfi_buf_printf(&want, "%s=%s\n", *k, *r), PFI_OK);
	cr_assert_eq(run_pfi(argv, NULL, &out, &err), 0, "%s", err);
	cr_expect_str_eq(out, want.data);
	pfi_buf_release(&want);
	free(out);
	free(err);
}
