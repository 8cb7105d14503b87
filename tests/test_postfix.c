/*
 * test_postfix.c - the Postfix line stage (lib/postfix.c, lib/postfix-kv.c):
 * one real line per line type of the reference corpus and the shapes real
 * servers add (Postfix 2.x, IPv6, long queue IDs, milters, odd subjects),
 * truncated and garbage input, the key=value cursor and the event names.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfi-int.h"

TestSuite(postfix, .timeout = 30);

/* ---- helpers ------------------------------------------------------------ */

/* One line and what it must give; `expect` lists every present field. */
struct line_case {
	char program[32];   /* envelope program, e.g. "postfix/smtpd" */
	char text[320];     /* message after "program[pid]: " */
	enum pfi_ev kind;   /* expected event kind */
	char expect[320];   /* "field=value|field=value"; unlisted fields absent */
};

/* Parses a copy of `text` in an exact-size heap block, so that ASan sees a
 * read past the text length. */
static enum pfi_ev parse_exact(const char *program, const char *text, size_t n,
                               struct pfi_event *ev, char **copy)
{
	struct pfi_envelope env;

	memset(&env, 0, sizeof(env));
	*copy = malloc(n ? n : 1);
	cr_assert_not_null(*copy);
	memcpy(*copy, text, n);
	env.program.p = program;
	env.program.n = strlen(program);
	env.pid = 1;
	env.text.p = *copy;
	env.text.n = n;
	env.repeat = 1;
	return pfi_postfix_parse(&env, ev);
}

static const struct {
	const char *name;
	size_t off;
} slice_fields[] = {
#define F(x) { #x, offsetof(struct pfi_event, x) }
	F(qid), F(from), F(to), F(orig_to), F(relay), F(status), F(dsn),
	F(response), F(client_name), F(client_ip), F(sasl_method),
	F(sasl_username), F(orig_queue_id), F(message_id), F(action), F(stage),
	F(code), F(reason), F(helo), F(proto), F(header_name), F(header_value),
	F(new_qid), F(tls_trust), F(tls_protocol), F(tls_cipher), F(uid),
#undef F
};

/* The value of `name` in "a=1|name=v|b=2" (NULL when not listed). */
static const char *expect_get(const char *expect, const char *name,
                              size_t *len)
{
	size_t n = strlen(name);
	const char *p = expect;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t item = bar ? (size_t)(bar - p) : strlen(p);

		if (item > n && strncmp(p, name, n) == 0 && p[n] == '=') {
			*len = item - n - 1;
			return p + n + 1;
		}
		p += item + (bar != NULL);
	}
	return NULL;
}

static void check_slices(const struct pfi_event *ev, const char *expect)
{
	size_t i, n;

	for (i = 0; i < PFI_ARRAY_SIZE(slice_fields); i++) {
		const struct pfi_slice *s = (const struct pfi_slice *)
			((const char *)ev + slice_fields[i].off);
		const char *want = expect_get(expect, slice_fields[i].name, &n);

		if (want == NULL) {
			cr_expect_null(s->p, "%s should be absent, is '%.*s'",
			               slice_fields[i].name, (int)s->n, s->p);
			continue;
		}
		cr_expect_not_null(s->p, "%s should be '%.*s'",
		                   slice_fields[i].name, (int)n, want);
		if (s->p != NULL)
			cr_expect(s->n == n && memcmp(s->p, want, n) == 0,
			          "%s: got '%.*s', want '%.*s'", slice_fields[i].name,
			          (int)s->n, s->p, (int)n, want);
	}
}

/* A listed number, or -1 when the field is not listed. */
static double expect_num(const char *expect, const char *name, int idx)
{
	size_t n;
	const char *v = expect_get(expect, name, &n);
	char buf[64], *save = NULL, *tok;
	int i;

	if (v == NULL)
		return -1;
	cr_assert_lt(n, sizeof(buf));
	memcpy(buf, v, n);
	buf[n] = '\0';
	tok = strtok_r(buf, "/", &save);
	for (i = 0; i < idx && tok != NULL; i++)
		tok = strtok_r(NULL, "/", &save);
	cr_assert_not_null(tok);
	return strtod(tok, NULL);
}

static void check_numbers(const struct pfi_event *ev, const char *expect)
{
	int i;

	cr_expect_float_eq(ev->delay, expect_num(expect, "delay", 0), 1e-9);
	for (i = 0; i < 4; i++)
		cr_expect_float_eq(ev->delays[i], expect_num(expect, "delays", i),
		                   1e-9, "delays[%d]", i);
	cr_expect_eq(ev->conn_use, (int)expect_num(expect, "conn_use", 0));
	cr_expect_eq(ev->size, (int64_t)expect_num(expect, "size", 0));
	cr_expect_eq(ev->nrcpt, (int64_t)expect_num(expect, "nrcpt", 0));
}

/* The daemon is the last component of a postfix program, else absent. */
static void check_daemon(const struct pfi_event *ev, const char *program)
{
	const char *slash = strrchr(program, '/');
	const char *want = slash ? slash + 1 : program;

	if (strncmp(program, "postfix", 7) != 0) {
		cr_expect_null(ev->daemon.p);
		return;
	}
	cr_expect(pfi_slice_eq(ev->daemon, want), "daemon '%.*s', want '%s'",
	          (int)ev->daemon.n, ev->daemon.p, want);
}

/* ---- one line per line type, plus real-world shapes ----------------------- */

static struct line_case line_cases[] = {
		{ "postfix/master",
		  "daemon started -- version 3.7.11, configuration /etc/postfix",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/master",
		  "reload -- version 3.7.11, configuration /etc/postfix",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/master",
		  "terminating on signal 15",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postfix-script",
		  "starting the Postfix mail system",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "connect from localhost[127.0.0.1]",
		  PFI_EV_CONNECT,
		  "client_name=localhost|client_ip=127.0.0.1" },
		{ "postfix/smtpd",
		  "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6",
		  PFI_EV_DISCONNECT,
		  "client_name=localhost|client_ip=127.0.0.1" },
		{ "postfix/smtpd",
		  "lost connection after CONNECT from unknown[127.0.0.5]",
		  PFI_EV_CLIENT_LOST,
		  "client_name=unknown|client_ip=127.0.0.5|stage=CONNECT|reason=lost connection after CONNECT" },
		{ "postfix/smtpd",
		  "lost connection after DATA (38 bytes) from unknown[127.0.0.3]",
		  PFI_EV_CLIENT_LOST,
		  "client_name=unknown|client_ip=127.0.0.3|stage=DATA|reason=lost connection after DATA (38 bytes)" },
		{ "postfix/smtpd",
		  "timeout after EHLO from unknown[127.0.0.3]",
		  PFI_EV_CLIENT_LOST,
		  "client_name=unknown|client_ip=127.0.0.3|stage=EHLO|reason=timeout after EHLO" },
		{ "postfix/smtpd",
		  "too many errors after UNKNOWN from unknown[127.0.0.3]",
		  PFI_EV_NOISE,
		  "client_name=unknown|client_ip=127.0.0.3|stage=UNKNOWN|reason=too many errors after UNKNOWN" },
		{ "postfix/smtpd",
		  "improper command pipelining after MAIL from unknown[127.0.0.3]: RCPT TO:<alice@local.test>\\r\\nDATA\\r\\n",
		  PFI_EV_NOISE,
		  "client_name=unknown|client_ip=127.0.0.3|stage=MAIL|reason=improper command pipelining after MAIL" },
		{ "postfix/smtpd",
		  "Anonymous TLS connection established from localhost[127.0.0.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
		  PFI_EV_TLS_IN,
		  "client_name=localhost|client_ip=127.0.0.1|tls_trust=Anonymous|tls_protocol=TLSv1.3|tls_cipher=TLS_AES_256_GCM_SHA384" },
		{ "postfix/smtpd",
		  "SSL_accept error from unknown[127.0.0.3]: -1",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "warning: TLS library problem: error:0A00010B:SSL routines::wrong version number:../ssl/record/ssl3_record.c:350:",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "warning: non-SMTP command from unknown[127.0.0.3]: GET / HTTP/1.0",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "warning: Illegal address syntax from localhost[127.0.0.1] in RCPT command: <bad address@@local.test>",
		  PFI_EV_REJECT,
		  "client_name=localhost|client_ip=127.0.0.1|action=reject|stage=RCPT|code=501|dsn=5.1.3|reason=Bad recipient address syntax|to=bad address@@local.test" },
		{ "postfix/smtpd",
		  "warning: Illegal address syntax from unknown[192.0.2.7] in MAIL command: <a b@x>",
		  PFI_EV_REJECT,
		  "client_name=unknown|client_ip=192.0.2.7|action=reject|stage=MAIL|code=501|dsn=5.1.7|reason=Bad sender address syntax|from=a b@x" },
		{ "postfix/submission/smtpd",
		  "warning: localhost[127.0.0.1]: SASL PLAIN authentication failed: authentication failure, sasl_username=alice@mx1.example.test",
		  PFI_EV_SASL_FAIL,
		  "client_name=localhost|client_ip=127.0.0.1|sasl_method=PLAIN|sasl_username=alice@mx1.example.test|reason=authentication failure" },
		{ "postfix/submission/smtpd",
		  "warning: SASL authentication failure: Password verification failed",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "warning: 98E7811619C: queue file size limit exceeded",
		  PFI_EV_REJECT,
		  "qid=98E7811619C|action=reject|stage=END-OF-MESSAGE|code=552|dsn=5.3.4|reason=Message size exceeds fixed limit" },
		{ "postfix/smtpd",
		  "warning: 98E7811619C: some other trouble",
		  PFI_EV_QID_WARNING,
		  "qid=98E7811619C|reason=some other trouble" },
		{ "postfix/smtpd",
		  "6C4CA116195: client=localhost[127.0.0.1]",
		  PFI_EV_CLIENT,
		  "qid=6C4CA116195|client_name=localhost|client_ip=127.0.0.1" },
		{ "postfix/submission/smtpd",
		  "BFDF61161A5: client=localhost[127.0.0.1], sasl_method=PLAIN, sasl_username=alice@mx1.example.test",
		  PFI_EV_CLIENT,
		  "qid=BFDF61161A5|client_name=localhost|client_ip=127.0.0.1|sasl_method=PLAIN|sasl_username=alice@mx1.example.test" },
		{ "postfix/reinject/smtpd",
		  "931601161A5: client=localhost[127.0.0.1], orig_queue_id=85CA911619C, orig_client=localhost[127.0.0.1]",
		  PFI_EV_CLIENT,
		  "qid=931601161A5|client_name=localhost|client_ip=127.0.0.1|orig_queue_id=85CA911619C" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: CONNECT from unknown[127.0.0.5]: 554 5.7.1 <unknown[127.0.0.5]>: Client host rejected: Client blocked by local policy; proto=SMTP",
		  PFI_EV_REJECT,
		  "dsn=5.7.1|client_name=unknown|client_ip=127.0.0.5|action=reject|stage=CONNECT|code=554|reason=<unknown[127.0.0.5]>: Client host rejected: Client blocked by local policy|proto=SMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: EHLO from unknown[127.0.0.3]: 554 5.7.1 <bad.helo.test>: Helo command rejected: HELO name rejected by policy; proto=SMTP helo=<bad.helo.test>",
		  PFI_EV_REJECT,
		  "dsn=5.7.1|client_name=unknown|client_ip=127.0.0.3|action=reject|stage=EHLO|code=554|reason=<bad.helo.test>: Helo command rejected: HELO name rejected by policy|helo=bad.helo.test|proto=SMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: MAIL from localhost[127.0.0.1]: 552 5.3.4 Message size exceeds fixed limit; from=<alice@local.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_REJECT,
		  "from=alice@local.test|dsn=5.3.4|client_name=localhost|client_ip=127.0.0.1|action=reject|stage=MAIL|code=552|reason=Message size exceeds fixed limit|helo=client.example.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: RCPT from localhost[127.0.0.1]: 550 5.1.2 <x@errdom.test>: Recipient address rejected: Domain errdom.test no longer accepts mail; from=<alice@local.test> to=<x@errdom.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_REJECT,
		  "from=alice@local.test|to=x@errdom.test|dsn=5.1.2|client_name=localhost|client_ip=127.0.0.1|action=reject|stage=RCPT|code=550|reason=<x@errdom.test>: Recipient address rejected: Domain errdom.test no longer accepts mail|helo=client.example.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject_warning: RCPT from client2.external.test[127.0.0.2]: 554 5.7.1 <audit@local.test>: Recipient address rejected: audit mailbox (warn_if_reject test, not really rejected); from=<friend@external.test> to=<audit@local.test> proto=ESMTP helo=<client2.external.test>",
		  PFI_EV_REJECT,
		  "from=friend@external.test|to=audit@local.test|dsn=5.7.1|client_name=client2.external.test|client_ip=127.0.0.2|action=reject_warning|stage=RCPT|code=554|reason=<audit@local.test>: Recipient address rejected: audit mailbox (warn_if_reject test, not really rejected)|helo=client2.external.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: filter: RCPT from localhost[127.0.0.1]: <v1@vmail.test>: Recipient address triggers FILTER smtp-amavis:[127.0.0.1]:10024; from=<partner-news@partner.test> to=<v1@vmail.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_REJECT,
		  "from=partner-news@partner.test|to=v1@vmail.test|client_name=localhost|client_ip=127.0.0.1|action=filter|stage=RCPT|reason=<v1@vmail.test>: Recipient address triggers FILTER smtp-amavis:[127.0.0.1]:10024|helo=client.example.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: hold: RCPT from unknown[127.0.0.3]: <holdme@external.test>: Sender address quarantined by sender policy; from=<holdme@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>",
		  PFI_EV_REJECT,
		  "from=holdme@external.test|to=bob@local.test|client_name=unknown|client_ip=127.0.0.3|action=hold|stage=RCPT|reason=<holdme@external.test>: Sender address quarantined by sender policy|helo=mail3.external.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: discard: RCPT from unknown[127.0.0.3]: <dropme@external.test>: Sender address silently dropped by sender policy; from=<dropme@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>",
		  PFI_EV_REJECT,
		  "from=dropme@external.test|to=bob@local.test|client_name=unknown|client_ip=127.0.0.3|action=discard|stage=RCPT|reason=<dropme@external.test>: Sender address silently dropped by sender policy|helo=mail3.external.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "A3AF511619C: reject: RCPT from client2.external.test[127.0.0.2]: 550 5.1.1 <nosuch@local.test>: Recipient address rejected: User unknown in local recipient table; from=<friend@external.test> to=<nosuch@local.test> proto=ESMTP helo=<client2.external.test>",
		  PFI_EV_REJECT,
		  "qid=A3AF511619C|from=friend@external.test|to=nosuch@local.test|dsn=5.1.1|client_name=client2.external.test|client_ip=127.0.0.2|action=reject|stage=RCPT|code=550|reason=<nosuch@local.test>: Recipient address rejected: User unknown in local recipient table|helo=client2.external.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "ADE871161A5: reject: DATA from unknown[127.0.0.3]: 550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce; from=<> proto=ESMTP helo=<mail3.external.test>",
		  PFI_EV_REJECT,
		  "qid=ADE871161A5|from=|dsn=5.5.3|client_name=unknown|client_ip=127.0.0.3|action=reject|stage=DATA|code=550|reason=<DATA>: Data command rejected: Multi-recipient bounce|helo=mail3.external.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "AD7631161A5: reject: END-OF-MESSAGE from unknown[127.0.0.3]: 554 5.7.1 <eodreject@external.test>: Sender address rejected: Message rejected after end of data; from=<eodreject@external.test> to=<bob@local.test> proto=ESMTP helo=<mail3.external.test>",
		  PFI_EV_REJECT,
		  "qid=AD7631161A5|from=eodreject@external.test|to=bob@local.test|dsn=5.7.1|client_name=unknown|client_ip=127.0.0.3|action=reject|stage=END-OF-MESSAGE|code=554|reason=<eodreject@external.test>: Sender address rejected: Message rejected after end of data|helo=mail3.external.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "85CA911619C: filter: RCPT from localhost[127.0.0.1]: <v2@vmail.test>: Recipient address triggers FILTER smtp-amavis:[127.0.0.1]:10024; from=<partner-news@partner.test> to=<v2@vmail.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_REJECT,
		  "qid=85CA911619C|from=partner-news@partner.test|to=v2@vmail.test|client_name=localhost|client_ip=127.0.0.1|action=filter|stage=RCPT|reason=<v2@vmail.test>: Recipient address triggers FILTER smtp-amavis:[127.0.0.1]:10024|helo=client.example.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "F1CD91161AE: hold: RCPT from localhost[127.0.0.1]: <holdrcpt@local.test>: Recipient address held by recipient policy; from=<carol@local.test> to=<holdrcpt@local.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_REJECT,
		  "qid=F1CD91161AE|from=carol@local.test|to=holdrcpt@local.test|client_name=localhost|client_ip=127.0.0.1|action=hold|stage=RCPT|reason=<holdrcpt@local.test>: Recipient address held by recipient policy|helo=client.example.test|proto=ESMTP" },
		{ "postfix/postscreen",
		  "CONNECT from [127.0.0.1]:51135 to [127.0.0.1]:2552",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "ALLOWLISTED [127.0.0.1]:51135",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "PASS NEW [127.0.0.2]:60951",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "PASS OLD [127.0.0.2]:33023",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "PREGREET 29 after 0 from [127.0.0.3]:53055: EHLO pregreet.external.test\\r\\n",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "DENYLISTED [127.0.0.6]:32959",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "NOQUEUE: reject: RCPT from [127.0.0.3]:53055: 550 5.5.1 Protocol error; from=<pregreet@external.test>, to=<alice@local.test>, proto=ESMTP, helo=<pregreet.external.test>",
		  PFI_EV_REJECT,
		  "from=pregreet@external.test|to=alice@local.test|dsn=5.5.1|client_name=|client_ip=127.0.0.3|action=reject|stage=RCPT|code=550|reason=Protocol error|helo=pregreet.external.test|proto=ESMTP" },
		{ "postfix/postscreen",
		  "DISCONNECT [127.0.0.3]:53055",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "cache btree:/var/lib/postfix/postscreen_cache full cleanup: retained=0 dropped=0 entries",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/cleanup",
		  "6C4CA116195: message-id=<P1-H01.7da94939bddb@driver.example.test>",
		  PFI_EV_MESSAGE_ID,
		  "qid=6C4CA116195|message_id=P1-H01.7da94939bddb@driver.example.test" },
		{ "postfix/cleanup",
		  "6C4CA116195: warning: header Subject: P1-H01 local delivery, two users (X-Priority: 1 -> header_checks INFO) from localhost[127.0.0.1]; from=<carol@local.test> to=<bob@local.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_HEADER,
		  "qid=6C4CA116195|from=carol@local.test|to=bob@local.test|client_name=localhost|client_ip=127.0.0.1|action=warning|stage=header|helo=client.example.test|proto=ESMTP|header_name=Subject|header_value=P1-H01 local delivery, two users (X-Priority: 1 -> header_checks INFO)" },
		{ "postfix/cleanup",
		  "6C4CA116195: info: header X-Priority: 1 (Highest) from localhost[127.0.0.1]; from=<carol@local.test> to=<bob@local.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_HEADER,
		  "qid=6C4CA116195|from=carol@local.test|to=bob@local.test|client_name=localhost|client_ip=127.0.0.1|action=info|stage=header|helo=client.example.test|proto=ESMTP|header_name=X-Priority|header_value=1 (Highest)" },
		{ "postfix/cleanup",
		  "95AAD1161A6: hold: header Subject: P1-H16 HOLDME please from localhost[127.0.0.1]; from=<alice@local.test> to=<held1@ok.test> proto=ESMTP helo=<client.example.test>: held by header_checks",
		  PFI_EV_HEADER,
		  "qid=95AAD1161A6|from=alice@local.test|to=held1@ok.test|client_name=localhost|client_ip=127.0.0.1|action=hold|stage=header|reason=held by header_checks|helo=client.example.test|proto=ESMTP|header_name=Subject|header_value=P1-H16 HOLDME please" },
		{ "postfix/cleanup",
		  "9691B1161A9: discard: header Subject: P1-H18 DISCARDME from localhost[127.0.0.1]; from=<alice@local.test> to=<gone@ok.test> proto=ESMTP helo=<client.example.test>: discarded by header_checks",
		  PFI_EV_HEADER,
		  "qid=9691B1161A9|from=alice@local.test|to=gone@ok.test|client_name=localhost|client_ip=127.0.0.1|action=discard|stage=header|reason=discarded by header_checks|helo=client.example.test|proto=ESMTP|header_name=Subject|header_value=P1-H18 DISCARDME" },
		{ "postfix/cleanup",
		  "9714D1161A9: reject: header Subject: P1-H19 REJECTME from localhost[127.0.0.1]; from=<alice@local.test> to=<nope@ok.test> proto=ESMTP helo=<client.example.test>: 5.7.1 Subject rejected by header_checks",
		  PFI_EV_HEADER,
		  "qid=9714D1161A9|from=alice@local.test|to=nope@ok.test|dsn=5.7.1|client_name=localhost|client_ip=127.0.0.1|action=reject|stage=header|reason=Subject rejected by header_checks|helo=client.example.test|proto=ESMTP|header_name=Subject|header_value=P1-H19 REJECTME" },
		{ "postfix/cleanup",
		  "9854411619C: reject: body FORBIDDEN-BODY-TOKEN from localhost[127.0.0.1]; from=<alice@local.test> to=<nope@ok.test> proto=ESMTP helo=<client.example.test>: 5.7.1 Body content rejected",
		  PFI_EV_HEADER,
		  "qid=9854411619C|from=alice@local.test|to=nope@ok.test|dsn=5.7.1|client_name=localhost|client_ip=127.0.0.1|action=reject|stage=body|reason=Body content rejected|helo=client.example.test|proto=ESMTP|header_value=FORBIDDEN-BODY-TOKEN" },
		{ "postfix/cleanup",
		  "97A7C11619C: redirect: header Subject: P1-H20 REDIRECTME from localhost[127.0.0.1]; from=<alice@local.test> to=<orig@ok.test> proto=ESMTP helo=<client.example.test>: quarantine@local.test",
		  PFI_EV_HEADER,
		  "qid=97A7C11619C|from=alice@local.test|to=orig@ok.test|client_name=localhost|client_ip=127.0.0.1|action=redirect|stage=header|reason=quarantine@local.test|helo=client.example.test|proto=ESMTP|header_name=Subject|header_value=P1-H20 REDIRECTME" },
		{ "postfix/cleanup",
		  "warning: mail_stream_cleanup: close error",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/pickup",
		  "8B79D11619D: uid=0 from=<alice@local.test>",
		  PFI_EV_PICKUP,
		  "qid=8B79D11619D|from=alice@local.test|uid=0" },
		{ "postfix/qmgr",
		  "6C4CA116195: from=<carol@local.test>, size=500, nrcpt=2 (queue active)",
		  PFI_EV_QUEUED,
		  "qid=6C4CA116195|from=carol@local.test|size=500|nrcpt=2" },
		{ "postfix/qmgr",
		  "6C4CA116195: removed",
		  PFI_EV_REMOVED,
		  "qid=6C4CA116195" },
		{ "postfix/qmgr",
		  "EB7771161B1: from=<>, status=expired, returned to sender",
		  PFI_EV_EXPIRED,
		  "qid=EB7771161B1|from=|status=expired" },
		{ "postfix/smtp",
		  "75AE5116195: to=<z1@ok.test>, relay=mx.ok.test[127.0.0.11]:25, delay=0.03, delays=0/0.03/0/0, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
		  PFI_EV_DELIVERY,
		  "qid=75AE5116195|to=z1@ok.test|relay=mx.ok.test[127.0.0.11]:25|status=sent|dsn=2.0.0|response=250 2.0.0 Ok|delay=0.03|delays=0/0.03/0/0" },
		{ "postfix/smtp",
		  "85CA911619C: to=<v1@vmail.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.06, delays=0/0.03/0/0.03, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 931601161A5)",
		  PFI_EV_DELIVERY,
		  "qid=85CA911619C|to=v1@vmail.test|relay=127.0.0.1[127.0.0.1]:10024|status=sent|dsn=2.0.0|response=250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 931601161A5|delay=0.06|delays=0/0.03/0/0.03|new_qid=931601161A5" },
		{ "postfix/smtp",
		  "75AE5116195: to=<y1@softfail.test>, relay=mx.softfail.test[127.0.0.13]:25, delay=0.04, delays=0/0.04/0/0, dsn=4.7.1, status=deferred (host mx.softfail.test[127.0.0.13] said: 451 4.7.1 Greylisted, please try again later (in reply to RCPT TO command))",
		  PFI_EV_DELIVERY,
		  "qid=75AE5116195|to=y1@softfail.test|relay=mx.softfail.test[127.0.0.13]:25|status=deferred|dsn=4.7.1|response=host mx.softfail.test[127.0.0.13] said: 451 4.7.1 Greylisted, please try again later (in reply to RCPT TO command)|delay=0.04|delays=0/0.04/0/0" },
		{ "postfix/smtp",
		  "75AE5116195: to=<x1@hardfail.test>, relay=mx.hardfail.test[127.0.0.12]:25, delay=0.03, delays=0/0.01/0/0.01, dsn=5.1.1, status=bounced (host mx.hardfail.test[127.0.0.12] said: 550 5.1.1 Recipient address rejected: User unknown in relay recipient table (in reply to RCPT TO command))",
		  PFI_EV_DELIVERY,
		  "qid=75AE5116195|to=x1@hardfail.test|relay=mx.hardfail.test[127.0.0.12]:25|status=bounced|dsn=5.1.1|response=host mx.hardfail.test[127.0.0.12] said: 550 5.1.1 Recipient address rejected: User unknown in relay recipient table (in reply to RCPT TO command)|delay=0.03|delays=0/0.01/0/0.01" },
		{ "postfix/smtp",
		  "discarding EHLO keywords: CHUNKING",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtp",
		  "connect to mx.refused.test[127.0.0.15]:25: Connection refused",
		  PFI_EV_ATTEMPT_LINE,
		  "" },
		{ "postfix/smtp",
		  "Untrusted TLS connection established to mx.partner.test[127.0.0.10]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
		  PFI_EV_TLS_OUT,
		  "relay=mx.partner.test[127.0.0.10]:25|client_name=mx.partner.test|client_ip=127.0.0.10|tls_trust=Untrusted|tls_protocol=TLSv1.3|tls_cipher=TLS_AES_256_GCM_SHA384" },
		{ "postfix/smtp",
		  "Verified TLS connection established to mx.partner.test[127.0.0.10]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256",
		  PFI_EV_TLS_OUT,
		  "relay=mx.partner.test[127.0.0.10]:25|client_name=mx.partner.test|client_ip=127.0.0.10|tls_trust=Verified|tls_protocol=TLSv1.3|tls_cipher=TLS_AES_256_GCM_SHA384" },
		{ "postfix/smtp",
		  "server certificate verification failed for mx2.partner.test[127.0.0.10]:25: num=62:hostname mismatch",
		  PFI_EV_ATTEMPT_LINE,
		  "" },
		{ "postfix/lmtp",
		  "87D5A1161A2: to=<a@store.test>, relay=lmtp.store.test[127.0.0.16]:24, delay=0.02, delays=0/0.01/0/0, dsn=2.2.0, status=sent (250 2.2.0 Ok)",
		  PFI_EV_DELIVERY,
		  "qid=87D5A1161A2|to=a@store.test|relay=lmtp.store.test[127.0.0.16]:24|status=sent|dsn=2.2.0|response=250 2.2.0 Ok|delay=0.02|delays=0/0.01/0/0" },
		{ "postfix/local",
		  "6C4CA116195: to=<bob@local.test>, relay=local, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (delivered to mailbox)",
		  PFI_EV_DELIVERY,
		  "qid=6C4CA116195|to=bob@local.test|relay=local|status=sent|dsn=2.0.0|response=delivered to mailbox|delay=0.02|delays=0.01/0.01/0/0" },
		{ "postfix/local",
		  "7A25611619E: to=<filedrop@local.test>, relay=local, delay=0.01, delays=0.01/0/0/0, dsn=2.0.0, status=sent (delivered to file: /tmp/pfcorpus/filedrop/archive.mbox)",
		  PFI_EV_DELIVERY,
		  "qid=7A25611619E|to=filedrop@local.test|relay=local|status=sent|dsn=2.0.0|response=delivered to file: /tmp/pfcorpus/filedrop/archive.mbox|delay=0.01|delays=0.01/0/0/0" },
		{ "postfix/local",
		  "7A25611619E: to=<pipe@local.test>, relay=local, delay=0.02, delays=0.01/0/0/0.01, dsn=2.0.0, status=sent (delivered to command: /bin/cat >/dev/null)",
		  PFI_EV_DELIVERY,
		  "qid=7A25611619E|to=pipe@local.test|relay=local|status=sent|dsn=2.0.0|response=delivered to command: /bin/cat >/dev/null|delay=0.02|delays=0.01/0/0/0.01" },
		{ "postfix/local",
		  "7A25611619E: to=<fwd@local.test>, relay=local, delay=0.01, delays=0.01/0/0/0, dsn=2.0.0, status=sent (forwarded as 7C1481161A0)",
		  PFI_EV_DELIVERY,
		  "qid=7A25611619E|to=fwd@local.test|relay=local|status=sent|dsn=2.0.0|response=forwarded as 7C1481161A0|delay=0.01|delays=0.01/0/0/0|new_qid=7C1481161A0" },
		{ "postfix/local",
		  "94FD011619C: to=<dave@local.test>, relay=local, delay=0.01, delays=0/0/0/0, dsn=5.2.2, status=bounced (cannot update mailbox /var/mail/dave for user dave. error writing message: File too large)",
		  PFI_EV_DELIVERY,
		  "qid=94FD011619C|to=dave@local.test|relay=local|status=bounced|dsn=5.2.2|response=cannot update mailbox /var/mail/dave for user dave. error writing message: File too large|delay=0.01|delays=0/0/0/0" },
		{ "postfix/local",
		  "E535D1161AE: to=<alice@local.test>, relay=local, delay=0.01, delays=0/0/0/0, dsn=2.0.0, status=deliverable (delivers to mailbox)",
		  PFI_EV_DELIVERY,
		  "qid=E535D1161AE|to=alice@local.test|relay=local|status=deliverable|dsn=2.0.0|response=delivers to mailbox|delay=0.01|delays=0/0/0/0" },
		{ "postfix/local",
		  "E7B391161AC: to=<nosuch@local.test>, relay=local, delay=0, delays=0/0/0/0, dsn=5.1.1, status=undeliverable (unknown user: \"nosuch\")",
		  PFI_EV_DELIVERY,
		  "qid=E7B391161AC|to=nosuch@local.test|relay=local|status=undeliverable|dsn=5.1.1|response=unknown user: \"nosuch\"|delay=0|delays=0/0/0/0" },
		{ "postfix/virtual",
		  "931601161A5: to=<v1@vmail.test>, relay=virtual, delay=0.02, delays=0.01/0.01/0/0, dsn=2.0.0, status=sent (delivered to maildir)",
		  PFI_EV_DELIVERY,
		  "qid=931601161A5|to=v1@vmail.test|relay=virtual|status=sent|dsn=2.0.0|response=delivered to maildir|delay=0.02|delays=0.01/0.01/0/0" },
		{ "postfix/error",
		  "8B79D11619D: to=<y@errdom.test>, relay=none, delay=0.02, delays=0.01/0.01/0/0, dsn=5.1.2, status=bounced (Domain errdom.test no longer accepts mail)",
		  PFI_EV_DELIVERY,
		  "qid=8B79D11619D|to=y@errdom.test|relay=none|status=bounced|dsn=5.1.2|response=Domain errdom.test no longer accepts mail|delay=0.02|delays=0.01/0.01/0/0" },
		{ "postfix/error",
		  "8D30E1161A1: to=<y@retrydom.test>, relay=none, delay=0.01, delays=0/0.01/0/0, dsn=4.3.2, status=deferred (Destination retrydom.test is under maintenance)",
		  PFI_EV_DELIVERY,
		  "qid=8D30E1161A1|to=y@retrydom.test|relay=none|status=deferred|dsn=4.3.2|response=Destination retrydom.test is under maintenance|delay=0.01|delays=0/0.01/0/0" },
		{ "postfix/error",
		  "5942E116272: to=<u7@refused.test>, relay=none, delay=0.01, delays=0/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to mx.refused.test[127.0.0.15]:25: Connection refused)",
		  PFI_EV_DELIVERY,
		  "qid=5942E116272|to=u7@refused.test|relay=none|status=deferred|dsn=4.4.1|response=delivery temporarily suspended: connect to mx.refused.test[127.0.0.15]:25: Connection refused|delay=0.01|delays=0/0/0/0" },
		{ "postfix/discard",
		  "8DB051161A2: to=<x@discard.test>, relay=none, delay=0.01, delays=0/0.01/0/0, dsn=2.0.0, status=sent (silently discarded by transport_maps)",
		  PFI_EV_DELIVERY,
		  "qid=8DB051161A2|to=x@discard.test|relay=none|status=sent|dsn=2.0.0|response=silently discarded by transport_maps|delay=0.01|delays=0/0.01/0/0" },
		{ "postfix/bounce",
		  "75AE5116195: sender non-delivery notification: 8628E1161A0",
		  PFI_EV_NOTIFY,
		  "qid=75AE5116195|action=sender non-delivery|new_qid=8628E1161A0" },
		{ "postfix/bounce",
		  "57D7B1162C3: sender delay notification: 265D21161CE",
		  PFI_EV_NOTIFY,
		  "qid=57D7B1162C3|action=sender delay|new_qid=265D21161CE" },
		{ "postfix/bounce",
		  "E30E51161AC: sender delivery status notification: E528F1161AD",
		  PFI_EV_NOTIFY,
		  "qid=E30E51161AC|action=sender delivery status|new_qid=E528F1161AD" },
		{ "postfix/bounce",
		  "7C4F01162C7: postmaster non-delivery notification: 7D1DA1162C9",
		  PFI_EV_NOTIFY,
		  "qid=7C4F01162C7|action=postmaster non-delivery|new_qid=7D1DA1162C9" },
		{ "postfix/postsuper",
		  "AC37711619C: removed",
		  PFI_EV_POSTSUPER,
		  "qid=AC37711619C|action=removed" },
		{ "postfix/postsuper",
		  "E962A1161AC: placed on hold",
		  PFI_EV_POSTSUPER,
		  "qid=E962A1161AC|action=hold" },
		{ "postfix/postsuper",
		  "95AAD1161A6: released from hold",
		  PFI_EV_POSTSUPER,
		  "qid=95AAD1161A6|action=release" },
		{ "postfix/postsuper",
		  "E9F981161AD: requeued",
		  PFI_EV_POSTSUPER,
		  "qid=E9F981161AD|action=requeue" },
		{ "postfix/postsuper",
		  "Released from hold: 1 message",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/bounce",
		  "warning: [built-in]: zero result in delay template conversion of parameter \"delay_warning_time_hours\"",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/anvil",
		  "statistics: max connection rate 50/60s for (127.0.0.1:smtp:127.0.0.2) at Nov 22 13:32:03",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/scache",
		  "statistics: start interval Nov 22 13:31:05",
		  PFI_EV_NOISE,
		  "" },
		{ "amavis",
		  "(28712-01) Passed CLEAN {RelayedInbound}, [127.0.0.1]:33893 <partner-news@partner.test> -> <v1@vmail.test>,<v2@vmail.test>, Queue-ID: 85CA911619C, Message-ID: <P1-H05.c7c37fb5236b@driver.example.test>, mail_id: oUQIBMX-a_jK, Hits: -, size: 650, queued_as: 931601161A5, 25 ms",
		  PFI_EV_FOREIGN,
		  "" },
		{ "postfix/smtp",
		  "3A1B2C4D5E: to=<user@example.com>, relay=mx.example.com[192.0.2.10]:25, delay=1.2, status=sent (250 Ok: queued as 9F8E7D6C)",
		  PFI_EV_DELIVERY,
		  "qid=3A1B2C4D5E|to=user@example.com|relay=mx.example.com[192.0.2.10]:25|status=sent|response=250 Ok: queued as 9F8E7D6C|delay=1.2|new_qid=9F8E7D6C" },
		{ "postfix/local",
		  "3A1B2C4D5E: to=<root@example.com>, orig_to=<postmaster>, relay=local, delay=0, status=sent (delivered to mailbox)",
		  PFI_EV_DELIVERY,
		  "qid=3A1B2C4D5E|to=root@example.com|orig_to=postmaster|relay=local|status=sent|response=delivered to mailbox|delay=0" },
		{ "postfix/smtp",
		  "3A1B2C4D5E: to=<user@example.org>, relay=none, delay=30, status=deferred (connect to mx.example.org[198.51.100.7]: Connection timed out)",
		  PFI_EV_DELIVERY,
		  "qid=3A1B2C4D5E|to=user@example.org|relay=none|status=deferred|response=connect to mx.example.org[198.51.100.7]: Connection timed out|delay=30" },
		{ "postfix/smtpd",
		  "connect from mail.example.net[2001:db8::25]",
		  PFI_EV_CONNECT,
		  "client_name=mail.example.net|client_ip=2001:db8::25" },
		{ "postfix/smtpd",
		  "4jXVQ51ggdz8Z5d: client=mail.example.net[2001:db8::25], sasl_method=LOGIN, sasl_username=bob",
		  PFI_EV_CLIENT,
		  "qid=4jXVQ51ggdz8Z5d|client_name=mail.example.net|client_ip=2001:db8::25|sasl_method=LOGIN|sasl_username=bob" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: RCPT from unknown[IPv6:2001:db8::7]: 554 5.7.1 <x@example.com>: Relay access denied; from=<a@b.test> to=<x@example.com> proto=ESMTP helo=<[IPv6:2001:db8::7]>",
		  PFI_EV_REJECT,
		  "from=a@b.test|to=x@example.com|dsn=5.7.1|client_name=unknown|client_ip=2001:db8::7|action=reject|stage=RCPT|code=554|reason=<x@example.com>: Relay access denied|helo=[IPv6:2001:db8::7]|proto=ESMTP" },
		{ "postfix/cleanup",
		  "4jXVQ51ggdz8Z5d: warning: header Subject: Re: news from home; from=<x> from mail.example.net[192.0.2.1]; from=<a@b.test> to=<c@d.test> proto=ESMTP helo=<mail.example.net>",
		  PFI_EV_HEADER,
		  "qid=4jXVQ51ggdz8Z5d|from=a@b.test|to=c@d.test|client_name=mail.example.net|client_ip=192.0.2.1|action=warning|stage=header|helo=mail.example.net|proto=ESMTP|header_name=Subject|header_value=Re: news from home; from=<x>" },
		{ "postfix/cleanup",
		  "E535D1161AE: warning: header Subject: probe from local; from=<bob@local.test> to=<alice@local.test>",
		  PFI_EV_HEADER,
		  "qid=E535D1161AE|from=bob@local.test|to=alice@local.test|client_name=local|action=warning|stage=header|header_name=Subject|header_value=probe" },
		{ "postfix/smtp",
		  "4jXVQ51ggdz8Z5d: to=<v@x.test>, relay=127.0.0.1[127.0.0.1]:10024, conn_use=2, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok, id=123 (a (b) c), from MTA([127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4jXVQ61Abcz8Z5f)",
		  PFI_EV_DELIVERY,
		  "qid=4jXVQ51ggdz8Z5d|to=v@x.test|relay=127.0.0.1[127.0.0.1]:10024|status=sent|dsn=2.0.0|response=250 2.0.0 Ok, id=123 (a (b) c), from MTA([127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4jXVQ61Abcz8Z5f|delay=0.5|delays=0.1/0/0.2/0.2|conn_use=2|new_qid=4jXVQ61Abcz8Z5f" },
		{ "postfix/qmgr",
		  "4jXVQ51ggdz8Z5d: from=<a@b.test>, size=1234, nrcpt=1 (queue active)",
		  PFI_EV_QUEUED,
		  "qid=4jXVQ51ggdz8Z5d|from=a@b.test|size=1234|nrcpt=1" },
		{ "postfix/cleanup",
		  "4jXVQ51ggdz8Z5d: milter-reject: END-OF-MESSAGE from mail.example.net[192.0.2.1]: 5.7.1 Spam message rejected; from=<a@b.test> to=<c@d.test> proto=ESMTP helo=<mail.example.net>",
		  PFI_EV_REJECT,
		  "qid=4jXVQ51ggdz8Z5d|from=a@b.test|to=c@d.test|dsn=5.7.1|client_name=mail.example.net|client_ip=192.0.2.1|action=milter-reject|stage=END-OF-MESSAGE|reason=Spam message rejected|helo=mail.example.net|proto=ESMTP" },
		{ "postfix/cleanup",
		  "4jXVQ51ggdz8Z5d: milter-hold: END-OF-MESSAGE from mail.example.net[192.0.2.1]: milter triggers HOLD action; from=<a@b.test> to=<c@d.test> proto=ESMTP helo=<mail.example.net>",
		  PFI_EV_REJECT,
		  "qid=4jXVQ51ggdz8Z5d|from=a@b.test|to=c@d.test|client_name=mail.example.net|client_ip=192.0.2.1|action=milter-hold|stage=END-OF-MESSAGE|reason=milter triggers HOLD action|helo=mail.example.net|proto=ESMTP" },
		{ "postfix/smtpd",
		  "4jXVQ51ggdz8Z5d: proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as 4jXVQ71Qrsz8Z5g; from=<a@b.test> to=<c@d.test> proto=ESMTP helo=<mail.example.net>",
		  PFI_EV_NOISE,
		  "qid=4jXVQ51ggdz8Z5d|from=a@b.test|to=c@d.test|dsn=2.0.0|action=proxy-accept|stage=END-OF-MESSAGE|code=250|reason=Ok: queued as 4jXVQ71Qrsz8Z5g|helo=mail.example.net|proto=ESMTP|new_qid=4jXVQ71Qrsz8Z5g" },
		{ "postfix/smtpd",
		  "NOQUEUE: proxy-reject: END-OF-MESSAGE: 550 5.7.1 Spam; from=<a@b.test> to=<c@d.test> proto=ESMTP helo=<mail.example.net>",
		  PFI_EV_REJECT,
		  "from=a@b.test|to=c@d.test|dsn=5.7.1|action=proxy-reject|stage=END-OF-MESSAGE|code=550|reason=Spam|helo=mail.example.net|proto=ESMTP" },
		{ "postfix/qmgr",
		  "6C4CA116195: skipped, still being delivered",
		  PFI_EV_NOISE,
		  "qid=6C4CA116195" },
		{ "postfix/postsuper",
		  "6C4CA116195: expired",
		  PFI_EV_POSTSUPER,
		  "qid=6C4CA116195|action=expire" },
		{ "postfix/bounce",
		  "warning: 6C4CA116195: malformed request",
		  PFI_EV_QID_WARNING,
		  "qid=6C4CA116195|reason=malformed request" },
		{ "postfix/smtpd",
		  "TLS connection established from mail.example.net[192.0.2.1]: TLSv1 with cipher DHE-RSA-AES256-SHA (256/256 bits)",
		  PFI_EV_TLS_IN,
		  "client_name=mail.example.net|client_ip=192.0.2.1|tls_protocol=TLSv1|tls_cipher=DHE-RSA-AES256-SHA" },
		{ "postfix-out/smtp",
		  "6C4CA116195: to=<a@b.test>, relay=mx.b.test[192.0.2.9]:25, delay=0.2, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)",
		  PFI_EV_DELIVERY,
		  "qid=6C4CA116195|to=a@b.test|relay=mx.b.test[192.0.2.9]:25|status=sent|dsn=2.0.0|response=250 2.0.0 Ok|delay=0.2|delays=0/0/0.1/0.1" },
		{ "postfix/submission/smtpd",
		  "warning: unknown[192.0.2.5]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
		  PFI_EV_SASL_FAIL,
		  "client_name=unknown|client_ip=192.0.2.5|sasl_method=LOGIN|reason=UGFzc3dvcmQ6" },
		{ "postfix/smtp",
		  "6C4CA116195: host mx.b.test[192.0.2.9] said: 450 4.7.1 Try again later (in reply to RCPT TO command)",
		  PFI_EV_QID_WARNING,
		  "qid=6C4CA116195|reason=host mx.b.test[192.0.2.9] said: 450 4.7.1 Try again later (in reply to RCPT TO command)" },
		{ "postfix/smtp",
		  "6C4CA116195: lost connection with mx.b.test[192.0.2.9] while receiving the initial server greeting",
		  PFI_EV_QID_WARNING,
		  "qid=6C4CA116195|reason=lost connection with mx.b.test[192.0.2.9] while receiving the initial server greeting" },
		{ "postfix/pickup",
		  "4jXVQ51ggdz8Z5d: uid=1000 from=<bob> orig_id=4jXVQ41Zzzz8Z5b",
		  PFI_EV_PICKUP,
		  "qid=4jXVQ51ggdz8Z5d|from=bob|orig_queue_id=4jXVQ41Zzzz8Z5b|uid=1000" },
		{ "postfix/cleanup",
		  "6C4CA116195: message-id=",
		  PFI_EV_MESSAGE_ID,
		  "qid=6C4CA116195|message_id=" },
		{ "postfix/cleanup",
		  "6C4CA116195: message-id=20231122.abc@host",
		  PFI_EV_MESSAGE_ID,
		  "qid=6C4CA116195|message_id=20231122.abc@host" },
		{ "postfix/cleanup",
		  "6C4CA116195: resent-message-id=<r1@host>",
		  PFI_EV_NOISE,
		  "qid=6C4CA116195" },
		{ "postfix/dnsblog",
		  "addr 192.0.2.7 listed by domain zen.spamhaus.org as 127.0.0.2",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "DNSBL rank 3 for [192.0.2.7]:51234",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postscreen",
		  "HANGUP after 0.5 from [192.0.2.7]:51234 in tests after SMTP handshake",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/verify",
		  "warning: verify cache btree:/var/lib/postfix/verify_cache: cache cleanup",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/trivial-rewrite",
		  "warning: do not list domain example.com in BOTH mydestination and virtual_alias_domains",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/tlsproxy",
		  "CONNECT from [192.0.2.7]:51234",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "fatal: open /etc/postfix/main.cf: No such file or directory",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/qmgr",
		  "panic: myfree: corrupt or unallocated memory block",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/sendmail",
		  "error: open database /etc/aliases.db: No such file or directory",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/pipe",
		  "6C4CA116195: to=<u@x.test>, relay=dovecot, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered via dovecot service)",
		  PFI_EV_DELIVERY,
		  "qid=6C4CA116195|to=u@x.test|relay=dovecot|status=sent|dsn=2.0.0|response=delivered via dovecot service|delay=0.1|delays=0/0/0/0.1" },
		{ "postfix/smtp",
		  "6C4CA116195: to=<u@x.test>, relay=mx.x.test[192.0.2.9]:25, delay=0.5, delays=0/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ABC123; see https://x.test/?a=(1))",
		  PFI_EV_DELIVERY,
		  "qid=6C4CA116195|to=u@x.test|relay=mx.x.test[192.0.2.9]:25|status=sent|dsn=2.0.0|response=250 2.0.0 Ok: queued as ABC123; see https://x.test/?a=(1)|delay=0.5|delays=0/0/0.2/0.3|new_qid=ABC123" },
		{ "dovecot",
		  "imap-login: Login: user=<bob>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2",
		  PFI_EV_FOREIGN,
		  "" },
		{ "amavis",
		  "(28712-01) Passed CLEAN {RelayedInbound}, [127.0.0.1]:33893 <a@b.test> -> <c@d.test>, Queue-ID: 85CA911619C",
		  PFI_EV_FOREIGN,
		  "" },
		{ "opendkim",
		  "6C4CA116195: DKIM-Signature field added (s=mail, d=example.com)",
		  PFI_EV_FOREIGN,
		  "" },
		{ "postfix/qmgr",
		  "warning: statistics: 6C4CA116195: odd",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/qmgr",
		  "6C4C: removed",
		  PFI_EV_UNPARSED,
		  "" },
		/* Only the shape decides (issue 13): lower-case hex and a long
		 * ID cut short are IDs too, as a masked log writes them. */
		{ "postfix/qmgr",
		  "abcdef12345: removed",
		  PFI_EV_REMOVED,
		  "qid=abcdef12345" },
		{ "postfix/qmgr",
		  "4jXVQ51ggdz: removed",
		  PFI_EV_REMOVED,
		  "qid=4jXVQ51ggdz" },
		{ "postfix/qmgr",
		  "6C4CA: removed",
		  PFI_EV_REMOVED,
		  "qid=6C4CA" },
		{ "postfix/qmgr",
		  "6C4CA116195: removed later",
		  PFI_EV_UNPARSED,
		  "" },
		/* Shapes from servers other than the reference corpus
		 * (testdata/lines/wild-*.log, see testdata/lines/README). */
		{ "postfix/postscreen",
		  "NOQUEUE: reject: CONNECT from [1.2.3.4]:5678: too many connections",
		  PFI_EV_REJECT,
		  "client_name=|client_ip=1.2.3.4|action=reject|stage=CONNECT|reason=too many connections" },
		{ "postfix/postscreen",
		  "NOQUEUE: reject: CONNECT from [5.6.7.8]:1337: all server ports busy",
		  PFI_EV_REJECT,
		  "client_name=|client_ip=5.6.7.8|action=reject|stage=CONNECT|reason=all server ports busy" },
		{ "postfix/postscreen",
		  "NOQUEUE: reject: CONNECT from [2001:db8::5]:5678: all screening ports busy",
		  PFI_EV_REJECT,
		  "client_name=|client_ip=2001:db8::5|action=reject|stage=CONNECT|reason=all screening ports busy" },
		{ "postfix/postscreen",
		  "NOQUEUE: reject: CONNECT from [1.2.3.4]:5678: too many connections today",
		  PFI_EV_REJECT,
		  "client_name=|client_ip=1.2.3.4|action=reject|stage=CONNECT|reason=too many connections today" },
		/* Real Postfix 3.7 (testdata/realpostfix): a before-queue filter
		 * refused a recipient; smtpd passed its reply on. */
		{ "postfix/smtpd",
		  "warning: proxy 127.0.0.1:10030 rejected \"rcpt TO:<proxyrej-rcpt.p1@ok.test>\": \"550 5.1.1 <proxyrej-rcpt.p1@ok.test>: Recipient rejected by before-queue filter\"",
		  PFI_EV_REJECT,
		  "to=proxyrej-rcpt.p1@ok.test|dsn=5.1.1|action=reject|stage=RCPT|code=550|reason=<proxyrej-rcpt.p1@ok.test>: Recipient rejected by before-queue filter" },
		{ "postfix/smtpd",
		  "warning: proxy 127.0.0.1:10030 rejected \"MAIL FROM:<a@b.test>\": \"451 4.3.0 busy\"",
		  PFI_EV_REJECT,
		  "from=a@b.test|dsn=4.3.0|action=reject|stage=MAIL|code=451|reason=busy" },
		/* cleanup gave up on a sendmail message (milter tempfail). */
		{ "postfix/cleanup",
		  "warning: A789D1082C8: message not accepted, try again later",
		  PFI_EV_REJECT,
		  "qid=A789D1082C8|action=reject|stage=END-OF-MESSAGE|reason=message not accepted, try again later" },
		/* Real Postfix 3.7 (testdata/realpostfix): rejects at every
		 * stage, a milter's included; those before RCPT name no
		 * recipient. */
		{ "postfix/smtpd",
		  "NOQUEUE: milter-reject: CONNECT from unknown[127.0.0.31]: 550 5.7.1 Rejected by pfi test milter at CONNECT; proto=SMTP",
		  PFI_EV_REJECT,
		  "dsn=5.7.1|client_name=unknown|client_ip=127.0.0.31|action=milter-reject|stage=CONNECT|code=550|reason=Rejected by pfi test milter at CONNECT|proto=SMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: milter-reject: EHLO from localhost[127.0.0.1]: 550 5.7.1 Rejected by pfi test milter at HELO; proto=SMTP helo=<mreject-helo.p1.example.test>",
		  PFI_EV_REJECT,
		  "dsn=5.7.1|client_name=localhost|client_ip=127.0.0.1|action=milter-reject|stage=EHLO|code=550|reason=Rejected by pfi test milter at HELO|helo=mreject-helo.p1.example.test|proto=SMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: milter-reject: MAIL from localhost[127.0.0.1]: 550 5.7.1 Rejected by pfi test milter at MAIL; from=<mreject-mail.p1@ok.test> proto=ESMTP helo=<client.example.test>",
		  PFI_EV_REJECT,
		  "from=mreject-mail.p1@ok.test|dsn=5.7.1|client_name=localhost|client_ip=127.0.0.1|action=milter-reject|stage=MAIL|code=550|reason=Rejected by pfi test milter at MAIL|helo=client.example.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: ETRN from unknown[127.0.0.3]: 554 5.7.1 <ok.test>: Etrn command rejected: Access denied; proto=ESMTP helo=<vrfy-p1.external.test>",
		  PFI_EV_REJECT,
		  "dsn=5.7.1|client_name=unknown|client_ip=127.0.0.3|action=reject|stage=ETRN|code=554|reason=<ok.test>: Etrn command rejected: Access denied|helo=vrfy-p1.external.test|proto=ESMTP" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: VRFY from unknown[127.0.0.3]: 550 5.1.1 <nosuch-p1@local.test>: Recipient address rejected: User unknown in local recipient table; to=<nosuch-p1@local.test> proto=ESMTP helo=<vrfy2-p1.external.test>",
		  PFI_EV_REJECT,
		  "to=nosuch-p1@local.test|dsn=5.1.1|client_name=unknown|client_ip=127.0.0.3|action=reject|stage=VRFY|code=550|reason=<nosuch-p1@local.test>: Recipient address rejected: User unknown in local recipient table|helo=vrfy2-p1.external.test|proto=ESMTP" },
		/* A reject cut short by a fixture's author (wild-fail2ban.log). */
		{ "postfix/smtpd",
		  "NOQUEUE: reject: VRFY from 72-53-132-234.cpe.distributel.net[72.53.132.234]: 550 5.1.1 : Recipient address rejected: User unknown in local recipient tab",
		  PFI_EV_REJECT,
		  "client_name=72-53-132-234.cpe.distributel.net|client_ip=72.53.132.234|action=reject|stage=VRFY|code=550|dsn=5.1.1|reason=: Recipient address rejected: User unknown in local recipient tab" },
		{ "postfix/qmgr",
		  "BACE842E73: from=<noreply@domain.test>, status=force-expired, returned to sender",
		  PFI_EV_EXPIRED,
		  "qid=BACE842E73|from=noreply@domain.test|status=force-expired" },
		{ "postfix/smtpd",
		  "NOQUEUE: client=bas17-ottawa23.dsl.example[76.64.61.3], sasl_method=PLAIN, sasl_username=hello@example.test",
		  PFI_EV_NOISE,
		  "client_name=bas17-ottawa23.dsl.example|client_ip=76.64.61.3|sasl_method=PLAIN|sasl_username=hello@example.test" },
		{ "postfix/smtpd",
		  "4EC604340A: client=localhost[127.0.0.1], orig_client=bas17-ottawa23.dsl.example[76.64.61.3]",
		  PFI_EV_CLIENT,
		  "qid=4EC604340A|client_name=localhost|client_ip=127.0.0.1" },
		{ "postfix/smtpd",
		  "proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject, id=31619-02 - spam; from=<> to=<user2@example2.test> proto=SMTP helo=<17.33.12.53>",
		  PFI_EV_REJECT,
		  "from=|to=user2@example2.test|action=proxy-reject|stage=END-OF-MESSAGE|code=554|dsn=5.7.0|reason=Reject, id=31619-02 - spam|proto=SMTP|helo=17.33.12.53" },
		{ "postfix/smtpd",
		  "proxy-accept: END-OF-MESSAGE: 250 2.0.0 from MTA(smtp:[127.0.0.1]:10013): 250 2.0.0 Ok: queued as DF66E940333; from=<u1@test.example> to=<u2@example2.test> proto=ESMTP helo=<[127.0.0.1]>",
		  PFI_EV_NOISE,
		  "from=u1@test.example|to=u2@example2.test|action=proxy-accept|stage=END-OF-MESSAGE|code=250|dsn=2.0.0|reason=from MTA(smtp:[127.0.0.1]:10013): 250 2.0.0 Ok: queued as DF66E940333|proto=ESMTP|helo=[127.0.0.1]|new_qid=DF66E940333" },
		{ "postfix/smtpd",
		  "table hash:/etc/postfix/virtual_mailbox_maps(0,lock|fold_fix) has changed -- restarting",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/cleanup",
		  "table hash:/etc/postfix/header_checks(0,lock|fold_fix) has changed -- restarting",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "table hash:/etc/postfix/virtual_mailbox_maps has changed",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/smtpd",
		  "smtp_stream_setup: maxtime=300 enable_deadline=0 min_data_rate=0",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "match_hostname: smtpd_client_event_limit_exceptions: php8.mail ~? 127.0.0.0/8",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "match_hostaddr: smtpd_client_event_limit_exceptions: 192.168.93.2 ~? 127.0.0.0/8",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "public/cleanup socket: wanted attribute: status",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "input attribute name: status",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtpd",
		  "input attribute value: 0",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/smtp",
		  "3C1D8C1D28: Server certificate not trusted",
		  PFI_EV_QID_WARNING,
		  "qid=3C1D8C1D28|reason=Server certificate not trusted" },
		{ "postfix/smtp",
		  "3C1D8C1D28: Server certificate not verified",
		  PFI_EV_QID_WARNING,
		  "qid=3C1D8C1D28|reason=Server certificate not verified" },
		{ "postfix/smtp",
		  "5AFFC20799: to=<s@cn.example>, relay=172.16.22.11[172.16.22.11]:25, delay=0.18, delays=0/0.02/0.11/0.05, dsn=2.1.5, status=deliverable (250 2.1.5 Ok)",
		  PFI_EV_DELIVERY,
		  "qid=5AFFC20799|to=s@cn.example|relay=172.16.22.11[172.16.22.11]:25|delay=0.18|delays=0/0.02/0.11/0.05|dsn=2.1.5|status=deliverable|response=250 2.1.5 Ok" },
		{ "postfix/cleanup",
		  "3bYsfs23wBzs7Dv: info: header client-id: test-mail-module from localhost[127.0.0.1]; from=<u@fg.example> to=<u@fg.example> proto=ESMTP helo=<jlinb>",
		  PFI_EV_HEADER,
		  "qid=3bYsfs23wBzs7Dv|action=info|stage=header|header_name=client-id|header_value=test-mail-module|client_name=localhost|client_ip=127.0.0.1|from=u@fg.example|to=u@fg.example|proto=ESMTP|helo=jlinb" },
		{ "postfix/smtpd",
		  "hello world",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/smtp",
		  "6C4CA116195: to=<a@b.test>, relay=x, delay=1, status=sent (250 Ok",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/smtp",
		  "6C4CA116195: to=<a@b.test>, relay=x, delay=1, dsn=2.0.0",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/cleanup",
		  "6C4CA116195: warning: header Subject: x from y",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/bounce",
		  "6C4CA116195: sender non-delivery notification: ",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/smtpd",
		  "NOQUEUE: reject: RCPT from x[192.0.2.1]: 550 5.1.1 <a@b.test>: Recipient address rejected",
		  PFI_EV_REJECT,
		  "client_name=x|client_ip=192.0.2.1|action=reject|stage=RCPT|code=550|dsn=5.1.1|reason=<a@b.test>: Recipient address rejected" },
		{ "postfix/smtpd",
		  "6C4CA116195:",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/smtpd",
		  "6C4CA116195: ",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/smtpd",
		  "",
		  PFI_EV_UNPARSED,
		  "" },
		{ "postfix/frobnicate",
		  "6C4CA116195: something new",
		  PFI_EV_UNPARSED,
		  "" },
		/* Queue IDs by shape alone: a short ID on a file system with
		 * 64-bit inode numbers (5 microsecond digits + 16 inode digits),
		 * and the masks of anonymisers and test suites. */
		{ "postfix/qmgr",
		  "3F2A1FFFFFFFFFFFFFFFF: removed",
		  PFI_EV_REMOVED,
		  "qid=3F2A1FFFFFFFFFFFFFFFF" },
		{ "postfix/qmgr",
		  "XXXXXXXXXX: removed",
		  PFI_EV_REMOVED,
		  "qid=XXXXXXXXXX" },
		{ "postfix/qmgr",
		  "6c4ca116195: removed",
		  PFI_EV_REMOVED,
		  "qid=6c4ca116195" },
		{ "postfix/smtpd",
		  "QueueId7: client=localhost[127.0.0.1]",
		  PFI_EV_CLIENT,
		  "qid=QueueId7|client_name=localhost|client_ip=127.0.0.1" },
		/* A TLS handshake that failed before the retry in plain text
		 * (testdata/realpostfix, case P1-S02). */
		{ "postfix/smtp",
		  "E2E1B1082D7: Cannot start TLS: handshake failure",
		  PFI_EV_QID_WARNING,
		  "qid=E2E1B1082D7|reason=Cannot start TLS: handshake failure" },
		/* Addresses whose angle brackets a shipper dropped. */
		{ "postfix/smtp",
		  "6C4CA116195: to=bob@example.net, orig_to=b@example.net, relay=mx.example.net[192.0.2.25]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4F3A21C0B2)",
		  PFI_EV_DELIVERY,
		  "qid=6C4CA116195|to=bob@example.net|orig_to=b@example.net|relay=mx.example.net[192.0.2.25]:25|dsn=2.0.0|status=sent|response=250 2.0.0 Ok: queued as 4F3A21C0B2|new_qid=4F3A21C0B2|delay=1.2|delays=0.1/0/0.5/0.6" },
		/* ... but never a word Postfix writes in that place. */
		{ "postfix/postsuper",
		  "Deleted: 3 messages",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/postsuper",
		  "Requeued: 1 message",
		  PFI_EV_NOISE,
		  "" },
		{ "postfix/qmgr",
		  "ABCD: removed",
		  PFI_EV_UNPARSED,
		  "" },
};

ParameterizedTestParameters(postfix, line_gives_its_event_and_fields)
{
	return cr_make_param_array(struct line_case, line_cases,
	                           PFI_ARRAY_SIZE(line_cases));
}

ParameterizedTest(struct line_case *c, postfix, line_gives_its_event_and_fields)
{
	struct pfi_event ev;
	char *copy;
	enum pfi_ev k = parse_exact(c->program, c->text, strlen(c->text), &ev,
	                            &copy);

	cr_expect_eq(k, c->kind, "'%s': got %s, want %s", c->text,
	             pfi_ev_name(k), pfi_ev_name(c->kind));
	cr_expect_eq(ev.kind, k);
	check_daemon(&ev, c->program);
	check_slices(&ev, c->expect);
	check_numbers(&ev, c->expect);
	free(copy);
}

ParameterizedTestParameters(postfix, every_prefix_of_a_line_is_safe)
{
	return cr_make_param_array(struct line_case, line_cases,
	                           PFI_ARRAY_SIZE(line_cases));
}

/*
 * Every prefix of every line parses within its bytes (ASan watches the
 * exact-size copy) and gives the full line's kind, NOISE or UNPARSED (a
 * prefix of a garbage line may be a good line: "QID: removed later").
 */
ParameterizedTest(struct line_case *c, postfix, every_prefix_of_a_line_is_safe)
{
	size_t n, len = strlen(c->text);
	struct pfi_event ev;
	char *copy;

	for (n = 0; n < len; n++) {
		enum pfi_ev k = parse_exact(c->program, c->text, n, &ev, &copy);

		/* A cut "warning: QID: ..." is still a warning about QID. */
		int warning = strncmp(c->text, "warning: ", 9) == 0 &&
		              k == PFI_EV_QID_WARNING;

		cr_expect(c->kind == PFI_EV_UNPARSED || k == c->kind || warning ||
		          k == PFI_EV_UNPARSED || k == PFI_EV_NOISE,
		          "prefix %zu of '%s' gave %s", n, c->text, pfi_ev_name(k));
		free(copy);
	}
}

/*
 * Where a line of this kind can first be complete: shorter prefixes must
 * be UNPARSED (for a header check, the first "; from=<": a subject holding
 * " from x; from=<" makes longer prefixes plausible lines).
 */
static size_t complete_at(const struct line_case *c)
{
	const char *t = c->text, *q = NULL, *r;

	if (c->kind == PFI_EV_DELIVERY && (r = strstr(t, "status=")) != NULL)
		q = strstr(r, " (");
	/* A reject is complete after its client (its tail may be cut);
	 * warnings read as rejects have shapes of their own. */
	if (c->kind == PFI_EV_REJECT && strncmp(t, "warning: ", 9) != 0 &&
	    (r = strstr(t, " from ")) != NULL)
		q = strstr(r, ": ");
	if (c->kind == PFI_EV_HEADER)
		q = strstr(t, "; from=<");
	return q ? (size_t)(q - t) + 1 : 0;
}

ParameterizedTestParameters(postfix, truncated_delivery_reject_header_is_unparsed)
{
	return cr_make_param_array(struct line_case, line_cases,
	                           PFI_ARRAY_SIZE(line_cases));
}

ParameterizedTest(struct line_case *c, postfix,
                  truncated_delivery_reject_header_is_unparsed)
{
	size_t n, end = complete_at(c);
	struct pfi_event ev;
	char *copy;

	for (n = 0; n < end; n++) {
		enum pfi_ev k = parse_exact(c->program, c->text, n, &ev, &copy);

		cr_expect_eq(k, PFI_EV_UNPARSED, "prefix %zu of '%s' gave %s", n,
		             c->text, pfi_ev_name(k));
		cr_expect_null(ev.qid.p);
		free(copy);
	}
}

Test(postfix, embedded_nul_bytes_are_just_bytes)
{
	static const char text[] = "6C4CA116195: to=<a\0b@c>, relay=local, "
	                           "delay=0, status=sent (ok\0)";
	struct pfi_event ev;
	char *copy;
	enum pfi_ev k = parse_exact("postfix/local", text, sizeof(text) - 1,
	                            &ev, &copy);

	cr_assert_eq(k, PFI_EV_DELIVERY);
	cr_expect_eq(ev.to.n, 5);
	cr_expect_eq(ev.response.n, 3);
	free(copy);
}

Test(postfix, missing_text_or_program_is_handled)
{
	struct pfi_envelope env;
	struct pfi_event ev;

	memset(&env, 0, sizeof(env));
	cr_expect_eq(pfi_postfix_parse(&env, &ev), PFI_EV_FOREIGN);
	env.program.p = "postfix/smtpd";
	env.program.n = 13;
	cr_expect_eq(pfi_postfix_parse(&env, &ev), PFI_EV_UNPARSED);
	cr_expect(pfi_slice_eq(ev.daemon, "smtpd"));
	env.program.n = 4;
	cr_expect_eq(pfi_postfix_parse(&env, &ev), PFI_EV_FOREIGN);
	cr_expect_eq(ev.size, -1);
}

/* ---- pfi_kv_next ------------------------------------------------------- */

struct kv_case {
	char input[160];    /* the list */
	char pairs[200];    /* expected "key=value|key=value" in order */
	char rest[40];      /* what is left when the cursor stops */
};

static struct kv_case kv_cases[] = {
	{ "to=<a@b>, relay=local, delay=0.5, status=sent (delivered (x))",
	  "to=a@b|relay=local|delay=0.5|status=sent", "(delivered (x))" },
	{ "uid=0 from=<root@host> orig_id=ABC123",
	  "uid=0|from=root@host|orig_id=ABC123", "" },
	{ "from=<a>, to=<b>, proto=ESMTP, helo=<h>",
	  "from=a|to=b|proto=ESMTP|helo=h", "" },
	{ "from=<> to=<x y@z> proto= helo=<h>: detail text",
	  "from=|to=x y@z|proto=|helo=h", ": detail text" },
	{ "from=<a>b>, size=1", "from=a>b|size=1", "" },
	{ "message-id=<1@x> rest", "message-id=1@x", "rest" },
	{ "client=x[1.2.3.4], orig_client=y[::1]",
	  "client=x[1.2.3.4]|orig_client=y[::1]", "" },
	{ "nrcpt=2 (queue active)", "nrcpt=2", "(queue active)" },
	{ "to=<unterminated, relay=x", "", "to=<unterminated, relay=x" },
	{ "=value", "", "=value" },
	{ "(text) a=b", "", "(text) a=b" },
	{ "key", "", "key" },
	{ "", "", "" },
};

ParameterizedTestParameters(postfix, kv_next_walks_a_list)
{
	return cr_make_param_array(struct kv_case, kv_cases,
	                           PFI_ARRAY_SIZE(kv_cases));
}

ParameterizedTest(struct kv_case *c, postfix, kv_next_walks_a_list)
{
	size_t n = strlen(c->input);
	char *buf = malloc(n ? n : 1);
	const char *p, *end, *before;
	const char *want = c->pairs;
	struct pfi_slice k, v;

	cr_assert_not_null(buf);
	memcpy(buf, c->input, n);
	p = buf;
	end = buf + n;
	while (pfi_kv_next(&p, end, &k, &v)) {
		const char *bar = strchr(want, '|');
		size_t item = bar ? (size_t)(bar - want) : strlen(want);

		cr_assert(item > 0, "unexpected pair '%.*s'", (int)k.n, k.p);
		cr_expect(k.n + 1 + v.n == item && memcmp(want, k.p, k.n) == 0 &&
		          want[k.n] == '=' && memcmp(want + k.n + 1, v.p, v.n) == 0,
		          "got '%.*s=%.*s', want '%.*s'", (int)k.n, k.p, (int)v.n,
		          v.p, (int)item, want);
		want += item + (bar != NULL);
	}
	cr_expect_str_empty(want, "pairs left over: '%s'", want);
	before = p;
	cr_expect_eq(pfi_kv_next(&p, end, &k, &v), 0);
	cr_expect_eq(p, before, "a failed call must not move the cursor");
	cr_expect((size_t)(end - p) == strlen(c->rest) &&
	          memcmp(p, c->rest, strlen(c->rest)) == 0,
	          "rest '%.*s', want '%s'", (int)(end - p), p, c->rest);
	free(buf);
}

Test(postfix, kv_next_stops_at_the_end_it_is_given)
{
	const char *text = "a=1, b=2, c=3";
	const char *p = text;
	struct pfi_slice k, v;

	cr_assert_eq(pfi_kv_next(&p, text + 8, &k, &v), 1);
	cr_assert_eq(pfi_kv_next(&p, text + 8, &k, &v), 1);
	cr_expect(pfi_slice_eq(k, "b"));
	cr_expect_eq(v.n, 1);
	cr_expect_eq(p, text + 8);
	cr_expect_eq(pfi_kv_next(&p, text + 8, &k, &v), 0);
}

/* ---- pfi_ev_name ------------------------------------------------------- */

Test(postfix, every_event_kind_has_its_own_name)
{
	int i, j;

	cr_expect_str_eq(pfi_ev_name(PFI_EV_DELIVERY), "delivery");
	cr_expect_str_eq(pfi_ev_name(PFI_EV_REJECT), "reject");
	cr_expect_str_eq(pfi_ev_name(PFI_EV_UNPARSED), "unparsed");
	cr_expect_str_eq(pfi_ev_name(PFI_EV__COUNT), "unknown");
	cr_expect_str_eq(pfi_ev_name((enum pfi_ev)-1), "unknown");
	for (i = 0; i < PFI_EV__COUNT; i++) {
		cr_expect_str_neq(pfi_ev_name(i), "unknown");
		for (j = 0; j < i; j++)
			cr_expect_str_neq(pfi_ev_name(i), pfi_ev_name(j));
	}
}

/* ---- real lines ------------------------------------------------------------ */

/* Splits "Mmm dd hh:mm:ss host prog[pid]: text" by hand (no syslog.c). */
static int split_classic(const char *line, struct pfi_envelope *env)
{
	const char *p = line, *colon, *lb;
	int fields = 0;

	while (*p && fields < 4) {
		if (*p == ' ' && p[1] != ' ')
			fields++;
		p++;
	}
	colon = strstr(p, ": ");
	if (colon == NULL)
		return 0;
	lb = memchr(p, '[', (size_t)(colon - p));
	memset(env, 0, sizeof(*env));
	env->program.p = p;
	env->program.n = (size_t)((lb ? lb : colon) - p);
	env->text.p = colon + 2;
	env->text.n = strlen(colon + 2);
	return 1;
}

Test(postfix, real_corpus_lines_are_all_understood)
{
	char path[4096], *line = NULL;
	const char *dir = getenv("TESTDATA_DIR");
	size_t cap = 0, lines = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/lines/postfix-real.log",
	         dir ? dir : TESTDATA_DIR);
	f = fopen(path, "r");
	cr_assert_not_null(f, "cannot open '%s'", path);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct pfi_envelope env;
		struct pfi_event ev;
		enum pfi_ev k;

		line[strcspn(line, "\n")] = '\0';
		cr_assert(split_classic(line, &env), "not syslog: '%s'", line);
		k = pfi_postfix_parse(&env, &ev);
		cr_expect_neq(k, PFI_EV_UNPARSED, "unparsed: '%s'", line);
		cr_expect((k == PFI_EV_FOREIGN) == (strncmp(env.program.p,
		          "postfix", 7) != 0), "'%s' gave %s", line, pfi_ev_name(k));
		lines++;
	}
	free(line);
	fclose(f);
	cr_expect_gt(lines, 100);
}

/* Counts the Postfix lines of one file and those left unparsed.  Lines a
 * fixture's author cut short (a reject without its "; from=<> to=<>"
 * tail, see testdata/lines/README) are read as far as they go. */
static void wild_file(const char *path, size_t *postfix, size_t *unparsed)
{
	struct pfi_syslog_ctx ctx;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen(path, "r");

	cr_assert_not_null(f, "cannot open '%s'", path);
	pfi_syslog_init(&ctx, 1900000000);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct pfi_envelope env;
		struct pfi_event ev;
		enum pfi_ev k;

		line[strcspn(line, "\n")] = '\0';
		cr_assert_eq(pfi_syslog_parse(&ctx, line, strlen(line), &env),
		             PFI_OK, "not syslog: '%s'", line);
		k = pfi_postfix_parse(&env, &ev);
		if (k == PFI_EV_FOREIGN)
			continue;
		(*postfix)++;
		if (k == PFI_EV_UNPARSED) {
			cr_expect(0, "unparsed: '%s'", line);
			(*unparsed)++;
		}
	}
	free(line);
	fclose(f);
}

Test(postfix, lines_from_other_servers_are_understood)
{
	static const char *const files[] = {
		"wild-blog-rfc3339.log", "wild-cloud-tech.log",
		"wild-crowdsec.log", "wild-fail2ban.log", "wild-fgforrest.log",
		"wild-forum-amavis-dovecot.log", "wild-grok-patterns.log",
		"wild-issues.log", "wild-postfix-exporter.log",
	};
	const char *dir = getenv("TESTDATA_DIR");
	size_t i, postfix = 0, unparsed = 0;
	char path[4096];

	for (i = 0; i < PFI_ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/lines/%s",
		         dir ? dir : TESTDATA_DIR, files[i]);
		wild_file(path, &postfix, &unparsed);
	}
	cr_expect_geq(postfix, 330);
	cr_expect_eq(unparsed, 0);
}

/* ---- problem lines: level and folded kind (problems.c) ---------------------- */

static const struct problem_case {
	const char *program, *text, *level, *kind;
} problem_cases[] = {
	/* Real lines of testdata/realpostfix/mail.log (Postfix 3.7). */
	{ "postfix/smtpd", "warning: 761B8108293: queue file size limit exceeded",
	  "warning", "N: queue file size limit exceeded" },
	{ "postfix/sendmail", "fatal: alice@local.test(0): message file too big",
	  "fatal", "A(N): message file too big" },
	{ "postfix/smtpd", "NOQUEUE: reject_warning: RCPT from client2.external.test[127.0.0.2]: 554 5.7.1 <audit@local.test>: Recipient address rejected: audit mailbox (warn_if_reject test, not really rejected); from=<friend@external.test> to=<audit@local.test> proto=ESMTP helo=<client2.external.test>",
	  "reject_warning", "RCPT: <A>: Recipient address rejected: audit mailbox (warn_if_reject test, not really rejected)" },
	{ "postfix/smtpd", "warning: non-SMTP command from unknown[127.0.0.3]: GET / HTTP/1.0",
	  "warning", "non-SMTP command from HOST[X]: GET / HTTP/N" },
	/* mail_stream.c's words. */
	{ "postfix/smtpd", "warning: file system clock is 3600 seconds behind local clock",
	  "warning", "file system clock is N seconds behind local clock" },
	{ "postfix/master", "panic: myfree: corrupt or unallocated memory block",
	  "panic", "myfree: corrupt or unallocated memory block" },
	/* A header_checks WARN names a problem of the message, not Postfix's. */
	{ "postfix/cleanup", "B7D191082B0: warning: header Subject: x from local; from=<a@b.test> to=<c@d.test>",
	  NULL, NULL },
	{ "postfix/qmgr", "B7D191082B0: removed", NULL, NULL },
};

ParameterizedTestParameters(postfix, a_problem_line_gives_its_level_and_kind)
{
	return cr_make_param_array(struct problem_case, problem_cases,
	                           PFI_ARRAY_SIZE(problem_cases));
}

ParameterizedTest(const struct problem_case *c, postfix,
                  a_problem_line_gives_its_level_and_kind)
{
	struct pfi_envelope env;
	struct pfi_event ev;
	char kind[PFI_PROBLEM_KIND_MAX], *copy;
	const char *level;

	parse_exact(c->program, c->text, strlen(c->text), &ev, &copy);
	memset(&env, 0, sizeof(env));
	env.program.p = c->program;
	env.program.n = strlen(c->program);
	env.text.p = copy;
	env.text.n = strlen(c->text);
	level = pfi_problem_of(&env, &ev, kind, sizeof(kind));
	if (c->level == NULL) {
		cr_expect_null(level, "'%s' gave %s", c->text, level);
	} else {
		cr_assert_not_null(level, "'%s' is no problem", c->text);
		cr_expect_str_eq(level, c->level);
		cr_expect_str_eq(kind, c->kind);
	}
	free(copy);
}

/* ---- postscreen's actions and delivery statuses --------------------------- */

Test(postfix, a_postscreen_action_carries_its_metrics_label)
{
	static const struct { const char *text, *label; } cases[] = {
		{ "CONNECT from [192.0.2.7]:40000 to [192.0.2.1]:25", "connect" },
		{ "PASS NEW [192.0.2.7]:40000", "pass_new" },
		{ "PASS OLD [192.0.2.7]:40000", "pass_old" },
		{ "PREGREET 29 after 0 from [192.0.2.7]:40000: EHLO x\\r\\n",
		  "pregreet" },
		{ "HANGUP after 1.2 from [192.0.2.7]:40000 in tests before SMTP"
		  " handshake", "hangup" },
		{ "DNSBL rank 3 for [192.0.2.7]:40000", "dnsbl" },
		{ "WHITELISTED [192.0.2.7]:40000", "allowlisted" },
		{ "ALLOWLISTED [192.0.2.7]:40000", "allowlisted" },
		{ "BLACKLISTED [192.0.2.7]:40000", "denylisted" },
		{ "COMMAND PIPELINING from [192.0.2.7]:40000 after EHLO: QUIT",
		  "command_pipelining" },
		{ "COMMAND TIME LIMIT from [192.0.2.7]:40000 after CONNECT",
		  "command_time_limit" },
		{ "NON-SMTP COMMAND from [192.0.2.7]:40000 after CONNECT: GET /",
		  "non_smtp_command" },
		{ "DISCONNECT [192.0.2.7]:40000", "disconnect" },
		{ "cache btree:/var/lib/postfix/postscreen_cache full cleanup:"
		  " retained=1 dropped=0 entries", NULL },
	};
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(cases); i++) {
		struct pfi_event ev;
		char *copy;
		enum pfi_ev k = parse_exact("postfix/postscreen", cases[i].text,
		                            strlen(cases[i].text), &ev, &copy);

		cr_expect_eq(k, PFI_EV_NOISE, "%s", cases[i].text);
		if (cases[i].label == NULL)
			cr_expect_null(ev.postscreen, "%s", cases[i].text);
		else
			cr_expect(ev.postscreen != NULL &&
			          strcmp(ev.postscreen, cases[i].label) == 0,
			          "%s: %s", cases[i].text,
			          ev.postscreen ? ev.postscreen : "(none)");
		free(copy);
	}
}

Test(postfix, a_delivery_with_a_status_postfix_never_logs_is_unparsed)
{
	static const char *const ok[] = { "sent", "deferred", "bounced",
	                                   "deliverable", "undeliverable",
	                                   "SOFTBOUNCE" };
	static const char *const bad[] = { "pwned\"}", "Sent", "sent2", "" };
	char text[256], *copy;
	struct pfi_event ev;
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(ok) + PFI_ARRAY_SIZE(bad); i++) {
		int good = i < PFI_ARRAY_SIZE(ok);
		const char *st = good ? ok[i] : bad[i - PFI_ARRAY_SIZE(ok)];

		snprintf(text, sizeof(text), "4jXVQ46kTGz8Z5X: to=<a@b.example>,"
		         " relay=b.example[192.0.2.2]:25, delay=1,"
		         " delays=0/0/0/1, dsn=2.0.0, status=%s (250 ok)", st);
		cr_expect_eq(parse_exact("postfix/smtp", text, strlen(text), &ev,
		                         &copy),
		             good ? PFI_EV_DELIVERY : PFI_EV_UNPARSED, "status=%s", st);
		free(copy);
	}
}
