/*
 * postfix.c - the Postfix line stage: turns the message text of one line
 * (after "postfix/<daemon>[pid]: ") into a typed struct pfi_event.
 *
 * Design: a table dispatches on the daemon (last component of the
 * program, so "postfix-out/submission/smtpd" is smtpd), then fixed
 * prefixes of the text are tested with memcmp.  There is no regex and no
 * allocation; every read is bounded by env->text.n (the text is not
 * NUL-terminated).  Slices in the event point into env->text.
 *
 * Modelled on Postfix 2.x-3.x logging (smtpd_check.c log_whatsup,
 * cleanup_message.c cleanup_act_log, log_adhoc.c, qmgr, bounce, postsuper).
 * Choices the correlator can rely on:
 *  - "QID: skipped, still being delivered" (qmgr), "QID: resent-message-id=",
 *    "QID: proxy-accept: ..." (with new_qid) are NOISE with the qid set.
 *  - "warning: QID: text" is QID_WARNING with reason = text; so are
 *    smtp/lmtp "QID: host X said: ...", "QID: lost connection with ...",
 *    "QID: conversation with ...".  "QID: warning: " only starts header
 *    and body check lines (HEADER); other text after it is UNPARSED.
 *  - smtpd "lost connection / timeout / too many errors / improper command
 *    pipelining after CMD from NAME[IP]" are NOISE with stage = CMD and the
 *    client filled.
 *  - TLS_OUT: relay = "NAME[IP]:PORT", client_name/client_ip = the peer.
 *  - postsuper "QID: expired" (postsuper -e) is POSTSUPER, action "expire".
 *  - HEADER with action reject: code/dsn are taken from the detail and
 *    reason is the detail after them; other actions: reason = the detail.
 *  - A client "[IPv6:2001:db8::1]" gives client_ip "2001:db8::1".
 *  - postscreen "NOQUEUE: reject: CONNECT from [IP]:PORT: too many
 *    connections" (and the two "ports busy" texts) is REJECT at stage
 *    CONNECT with no code, no DSN and reason = that text.
 *  - smtpd "NOQUEUE: client=..., sasl_username=U" (before-queue filter) is
 *    NOISE with the client and SASL fields; "proxy-accept:/proxy-reject:"
 *    without a queue ID read like the "QID: proxy-..." lines.
 *  - qmgr "status=force-expired" is EXPIRED like "status=expired".
 *  - "table T has changed -- restarting" and a few verbose (-v) shapes
 *    (smtp_stream_setup:, match_hostname:, match_hostaddr:, "input
 *    attribute name/value:", "S socket: wanted attribute:") are NOISE in
 *    any daemon.
 *  - smtp "QID: Server certificate not trusted|verified" is QID_WARNING.
 *  - An UNPARSED event keeps only its daemon; all other fields are absent.
 */
#include <string.h>
#include <strings.h>

#include "pfi-int.h"
#include "scan.h"

/* ---- cursor helpers (the cursor itself is scan.h's) ------------------ */

static struct pfi_slice slice(const char *p, size_t n)
{
	struct pfi_slice s = { p, n };

	return s;
}

static int slice_is(struct pfi_slice s, const char *lit, size_t n)
{
	return s.p != NULL && s.n == n && memcmp(s.p, lit, n) == 0;
}

static int is_action_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || ch == '_' || ch == '-';
}

static int is_stage_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || ch == '-';
}

static int is_not_space(char ch)
{
	return ch != ' ';
}

/* ---- numbers: bounded digit loops ------------------------------------- */

/* A decimal integer of 1-18 digits filling all of s. */
static int parse_i64(struct pfi_slice s, int64_t *out)
{
	struct pfi_scan t = pfi_scan_of(s.p, s.n);
	int64_t v;

	if (!pfi_scan_uint(&t, 18, 0, INT64_MAX, &v) || t.p != t.end)
		return 0;
	*out = v;
	return 1;
}

/* "12", "0.03", "1.5": digits with an optional fraction, all of s. */
int pfi_parse_decimal(struct pfi_slice s, double *out)
{
	struct pfi_scan t = pfi_scan_of(s.p, s.n);
	int64_t iv, fv = 0;
	double scale = 1;
	const char *f;

	if (!pfi_scan_uint(&t, 18, 0, INT64_MAX, &iv))
		return 0;
	if (pfi_scan_char(&t, '.')) {
		f = t.p;
		if (!pfi_scan_uint(&t, 18, 0, INT64_MAX, &fv))
			return 0;
		for (; f < t.p; f++)
			scale *= 10;
	}
	if (t.p != t.end)
		return 0;
	*out = (double)iv + (double)fv / scale;
	return 1;
}

/* "a/b/c/d" into four numbers; leaves them -1 when malformed. */
static void parse_delays(struct pfi_slice s, double d[4])
{
	struct pfi_scan t = pfi_scan_of(s.p, s.n);
	struct pfi_slice part;
	double v[4];
	int i;

	for (i = 0; i < 3; i++) {
		if (!pfi_scan_until(&t, '/', &part) || !pfi_parse_decimal(part, &v[i]))
			return;
		t.p++;
	}
	if (pfi_parse_decimal(pfi_scan_rest(&t), &v[3]))
		memcpy(d, v, sizeof(v));
}

/* ---- queue IDs -------------------------------------------------------- */

/*
 * Words Postfix writes where a queue ID would stand ("warning: ...",
 * "NOQUEUE: reject: ...", postsuper's "Deleted: 3 messages"): never IDs,
 * whatever their shape.
 */
static const char *const fixed_words[] = {
	"NOQUEUE", "warning", "error", "fatal", "panic", "statistics", "info",
	"debug", "Deleted", "Requeued", "Expired"
};

static int is_fixed_word(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(fixed_words); i++)
		if (strlen(fixed_words[i]) == n &&
		    strncasecmp(fixed_words[i], p, n) == 0)
			return 1;
	return 0;
}

/*
 * A queue ID by its shape only: 5 to PFI_QID_MAX letters and digits, with
 * a digit or without lower case, that are not a fixed word.  Postfix's
 * own IDs are upper-case hex (a microsecond field plus the inode number,
 * so they grow with the file system's inodes) or, with
 * enable_long_queue_ids, a base-52 time, 'z' and the inode; anonymisers
 * and test suites write "XXXXXXXXXX", lower case or other lengths, and
 * such a log must correlate all the same.  A word in lower or mixed case
 * without a digit is a word ("panic: myfree: ..."), not an ID.
 */
int pfi_qid_shape(const char *p, size_t n)
{
	int digit = 0, lower = 0;
	size_t i;

	if (n < 5 || n > PFI_QID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (!pfi_is_alnum(p[i]))
			return 0;
		digit |= pfi_is_digit(p[i]);
		lower |= p[i] >= 'a' && p[i] <= 'z';
	}
	return (digit || !lower) && !is_fixed_word(p, n);
}

static int is_qid(struct pfi_slice s)
{
	return s.p != NULL && pfi_qid_shape(s.p, s.n);
}

/* "QID: " at the cursor: stores the ID and skips past the ": ". */
static int cur_qid(struct pfi_scan *c, struct pfi_slice *qid)
{
	struct pfi_scan t = *c;
	struct pfi_slice w;

	if (!pfi_scan_word(&t, pfi_is_alnum, &w) || !is_qid(w) ||
	    !pfi_scan_skip(&t, PFI_LIT(": ")))
		return 0;
	*qid = w;
	*c = t;
	return 1;
}

/* ---- clients: NAME[IP], [IP]:PORT, bare NAME -------------------------- */

static void set_client_ip(struct pfi_event *ev, const char *p, size_t n)
{
	if (n > 5 && memcmp(p, "IPv6:", 5) == 0) {
		p += 5;
		n -= 5;
	}
	ev->client_ip = slice(p, n);
}

static int is_client_name_char(char ch)
{
	return ch != '[' && ch != ' ' && ch != ';' && ch != ':';
}

/*
 * NAME[IP] (NAME may be empty, IP may hold ':'), or a bare NAME such as
 * "local" that ends at ' ', ';', ':' or the end.
 */
static int cur_client(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_scan t = *c;
	struct pfi_slice name = pfi_scan_span(&t, is_client_name_char), ip;

	if (!pfi_scan_char(&t, '[')) {
		if (name.n == 0)
			return 0;
		ev->client_name = name;
		*c = t;
		return 1;
	}
	if (!pfi_scan_until(&t, ']', &ip))
		return 0;
	ev->client_name = name;
	set_client_ip(ev, ip.p, ip.n);
	c->p = t.p + 1;
	return 1;
}

/* Skips ":PORT" after a client when digits follow the colon. */
static void cur_port(struct pfi_scan *c)
{
	struct pfi_scan t = *c;

	if (pfi_scan_char(&t, ':') && pfi_scan_span(&t, pfi_is_digit).n > 0)
		*c = t;
}

/* ---- replies and key=value tails -------------------------------------- */

/* "550 " at the cursor: an SMTP reply code 2xx-5xx. */
static int cur_code(struct pfi_scan *c, struct pfi_slice *code)
{
	struct pfi_scan t = *c;
	int v;

	if (!pfi_scan_digits(&t, 3, 200, 599, &v) || !pfi_scan_char(&t, ' '))
		return 0;
	*code = slice(c->p, 3);
	*c = t;
	return 1;
}

/* "5.7.1 " (or "5.7.1" at the end): an enhanced status code, of one
 * digit, then one to three and one to three. */
static int cur_dsn(struct pfi_scan *c, struct pfi_slice *dsn)
{
	struct pfi_scan t = *c;
	int64_t v;

	if (!pfi_scan_uint(&t, 1, 0, 9, &v) || !pfi_scan_char(&t, '.') ||
	    !pfi_scan_uint(&t, 3, 0, 999, &v) || !pfi_scan_char(&t, '.') ||
	    !pfi_scan_uint(&t, 3, 0, 999, &v))
		return 0;
	if (t.p < t.end && *t.p != ' ')
		return 0;
	*dsn = slice(c->p, (size_t)(t.p - c->p));
	pfi_scan_char(&t, ' ');
	*c = t;
	return 1;
}

/* [CODE ][DSN ]REASON: the rest of the cursor. */
static void reply_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	cur_code(c, &ev->code);
	cur_dsn(c, &ev->dsn);
	ev->reason = pfi_scan_rest(c);
}

static int is_tail_key(const char *q, const char *end)
{
	struct pfi_scan t = { q, end };

	return pfi_scan_starts(&t, PFI_LIT("from=")) ||
	       pfi_scan_starts(&t, PFI_LIT("to=")) ||
	       pfi_scan_starts(&t, PFI_LIT("proto=")) ||
	       pfi_scan_starts(&t, PFI_LIT("helo="));
}

/*
 * Splits "REASON; from=<a> to=<b> proto=P helo=<h>" at the last "; "
 * followed by a tail key: c keeps the reason, *tail gets the keys.
 */
static int tail_split(struct pfi_scan *c, struct pfi_scan *tail)
{
	size_t i = pfi_scan_len(c);

	while (i-- > 1) {
		const char *q = c->p + i - 1;

		if (q[0] == ';' && q[1] == ' ' && is_tail_key(q + 2, c->end)) {
			tail->p = q + 2;
			tail->end = c->end;
			c->end = q;
			return 1;
		}
	}
	return 0;
}

/* from= to= proto= helo= (separated by ' ' or ", "); advances the cursor. */
static void tail_parse(struct pfi_scan *t, struct pfi_event *ev)
{
	struct pfi_slice k, v;

	while (pfi_kv_next(&t->p, t->end, &k, &v)) {
		if (slice_is(k, PFI_LIT("from")))
			ev->from = v;
		else if (slice_is(k, PFI_LIT("to")))
			ev->to = v;
		else if (slice_is(k, PFI_LIT("proto")))
			ev->proto = v;
		else if (slice_is(k, PFI_LIT("helo")))
			ev->helo = v;
	}
}

/* ---- rejects: ACTION: STAGE from CLIENT: [CODE] [DSN] REASON; TAIL ---- */

/* " from CLIENT[:PORT]: " after the stage; proxy-* lines have ": " only. */
static int reject_client(struct pfi_scan *c, struct pfi_event *ev)
{
	if (pfi_scan_skip(c, PFI_LIT(": ")))
		return 1;
	if (!pfi_scan_skip(c, PFI_LIT(" from ")) || !cur_client(c, ev))
		return 0;
	cur_port(c);
	return pfi_scan_skip(c, PFI_LIT(": "));
}

static void response_new_qid(struct pfi_slice r, struct pfi_slice *out);
static struct pfi_slice unbracket(struct pfi_slice s);

/*
 * smtpd/postscreen "NOQUEUE: reject: RCPT from x[1.2.3.4]: 550 5.1.1 <a>:
 * text; from=<s> to=<r> proto=ESMTP helo=<h>" (after the "NOQUEUE: "),
 * cleanup "milter-reject: END-OF-MESSAGE from ...", smtpd "proxy-reject:
 * END-OF-MESSAGE: ...".  proxy-accept is NOISE with new_qid.
 */
static enum pfi_ev reject_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_scan tail;

	if (!pfi_scan_word(c, is_action_char, &ev->action) ||
	    !pfi_scan_skip(c, PFI_LIT(": ")) ||
	    !pfi_scan_word(c, is_stage_char, &ev->stage) ||
	    !reject_client(c, ev))
		return PFI_EV_UNPARSED;
	/* Some relays and shippers cut the "; from=<> to=<>" tail off. */
	if (!tail_split(c, &tail))
		tail.p = tail.end = c->end;
	reply_parse(c, ev);
	tail_parse(&tail, ev);
	if (slice_is(ev->action, PFI_LIT("proxy-accept"))) {
		response_new_qid(ev->reason, &ev->new_qid);
		return PFI_EV_NOISE;
	}
	return PFI_EV_REJECT;
}

/* ---- cleanup header/body checks --------------------------------------- */

/*
 * In "VALUE from CLIENT; from=<", the last " from " whose following
 * space-free token is followed by "; from=<" (VALUE may hold " from ").
 */
static int is_token_char(char ch)
{
	return ch != ' ' && ch != ';';
}

static const char *header_split(const struct pfi_scan *c)
{
	struct pfi_scan s = *c, rest;
	const char *best = NULL, *at;

	while ((at = pfi_scan_find(&s, PFI_LIT(" from "))) != NULL) {
		rest.p = at + 6;
		rest.end = c->end;
		if (pfi_scan_span(&rest, is_token_char).n > 0 &&
		    pfi_scan_starts(&rest, PFI_LIT("; from=<")))
			best = at;
		s.p = at + 1;
	}
	return best;
}

/* "Subject: VALUE" or, for body checks, the body line itself. */
static int header_value(struct pfi_slice what, const char *p, const char *e,
                        struct pfi_event *ev)
{
	struct pfi_scan t = { p, e };
	struct pfi_slice name;

	if (slice_is(what, PFI_LIT("body"))) {
		ev->header_value = pfi_scan_rest(&t);
		return 1;
	}
	if (!pfi_scan_until(&t, ':', &name) || name.n == 0)
		return 0;
	ev->header_name = name;
	t.p++;
	pfi_scan_char(&t, ' ');
	ev->header_value = pfi_scan_rest(&t);
	return 1;
}

/* ": DETAIL" after the tail; reject details carry a DSN (and maybe a code). */
static void header_detail(struct pfi_scan *t, struct pfi_event *ev)
{
	if (!pfi_scan_skip(t, PFI_LIT(": ")))
		return;
	if (slice_is(ev->action, PFI_LIT("reject")))
		reply_parse(t, ev);
	else
		ev->reason = pfi_scan_rest(t);
}

/*
 * "warning: header Subject: hi from x[1.2.3.4]; from=<a> to=<b>
 * proto=ESMTP helo=<h>: detail" (after "QID: "); also "body LINE ...".
 */
static enum pfi_ev header_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_scan t;
	const char *split;

	if (!pfi_scan_word(c, is_action_char, &ev->action) ||
	    !pfi_scan_skip(c, PFI_LIT(": ")))
		return PFI_EV_UNPARSED;
	if (!pfi_scan_word(c, is_action_char, &ev->stage) ||
	    !pfi_scan_char(c, ' '))
		return PFI_EV_UNPARSED;
	split = header_split(c);
	if (split == NULL || !header_value(ev->stage, c->p, split, ev))
		return PFI_EV_UNPARSED;
	t.p = split + 6;
	t.end = c->end;
	if (!cur_client(&t, ev) || !pfi_scan_skip(&t, PFI_LIT("; ")))
		return PFI_EV_UNPARSED;
	tail_parse(&t, ev);
	header_detail(&t, ev);
	return PFI_EV_HEADER;
}

/* "ACTION: header " or "ACTION: body " at the cursor. */
static int is_header_line(const struct pfi_scan *c)
{
	struct pfi_scan t = *c;
	struct pfi_slice w;

	if (!pfi_scan_word(&t, is_action_char, &w) ||
	    !pfi_scan_skip(&t, PFI_LIT(": ")))
		return 0;
	return pfi_scan_starts(&t, PFI_LIT("header ")) ||
	       pfi_scan_starts(&t, PFI_LIT("body "));
}

/* ---- deliveries: to=<R>, ..., status=S (RESPONSE) --------------------- */

/* The token after the last "queued as " or a leading "forwarded as ". */
static void response_new_qid(struct pfi_slice r, struct pfi_slice *out)
{
	struct pfi_scan t = pfi_scan_of(r.p, r.n);
	const char *at = pfi_scan_rfind(&t, PFI_LIT("queued as "));

	if (at != NULL)
		t.p = at + 10;
	else if (!pfi_scan_skip(&t, PFI_LIT("forwarded as ")))
		return;
	pfi_scan_word(&t, pfi_is_alnum, out);
}

static void delivery_field(struct pfi_event *ev, struct pfi_slice k,
                           struct pfi_slice v)
{
	int64_t n;

	if (slice_is(k, PFI_LIT("to")))
		ev->to = v;
	else if (slice_is(k, PFI_LIT("orig_to")))
		ev->orig_to = v;
	else if (slice_is(k, PFI_LIT("relay")))
		ev->relay = v;
	else if (slice_is(k, PFI_LIT("conn_use")) && parse_i64(v, &n) && n < 1000000)
		ev->conn_use = (int)n;
	else if (slice_is(k, PFI_LIT("delay")))
		pfi_parse_decimal(v, &ev->delay);
	else if (slice_is(k, PFI_LIT("delays")))
		parse_delays(v, ev->delays);
	else if (slice_is(k, PFI_LIT("dsn")))
		ev->dsn = v;
	else if (slice_is(k, PFI_LIT("status")))
		ev->status = v;
}

/* The statuses Postfix's delivery agents and address verification log
 * (SOFTBOUNCE: a bounce deferred by soft_bounce = yes).  Any other word
 * is no delivery pfi understands: the line stays visible as unparsed
 * instead of inventing an outcome (and a metrics label) of its own. */
static const char *const delivery_statuses[] = {
	"sent", "deferred", "bounced", "expired", "deliverable",
	"undeliverable", "SOFTBOUNCE"
};

static int status_known(struct pfi_slice s)
{
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(delivery_statuses); i++)
		if (slice_is(s, delivery_statuses[i], strlen(delivery_statuses[i])))
			return 1;
	return 0;
}

static enum pfi_ev delivery_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_slice k, v;
	const char *rp;

	while (pfi_kv_next(&c->p, c->end, &k, &v))
		delivery_field(ev, k, v);
	if (ev->to.p == NULL || ev->status.p == NULL ||
	    !status_known(ev->status) || !pfi_scan_char(c, '('))
		return PFI_EV_UNPARSED;
	rp = pfi_scan_rfind(c, PFI_LIT(")"));
	if (rp == NULL)
		return PFI_EV_UNPARSED;
	ev->response = slice(c->p, (size_t)(rp - c->p));
	response_new_qid(ev->response, &ev->new_qid);
	return PFI_EV_DELIVERY;
}

/* ---- TLS sessions ----------------------------------------------------- */

static const char *const tls_trusts[] = {
	"Anonymous", "Untrusted", "Verified", "Trusted"
};

static void tls_trust(struct pfi_scan *c, struct pfi_event *ev)
{
	size_t i, n;

	for (i = 0; i < PFI_ARRAY_SIZE(tls_trusts); i++) {
		n = strlen(tls_trusts[i]);
		if (pfi_scan_starts(c, tls_trusts[i], n) && n < pfi_scan_len(c) &&
		    c->p[n] == ' ') {
			ev->tls_trust = slice(c->p, n);
			c->p += n + 1;
			return;
		}
	}
}

/* ": TLSv1.3 with cipher NAME (..." after the peer. */
static int tls_cipher(struct pfi_scan *c, struct pfi_event *ev)
{
	if (!pfi_scan_skip(c, PFI_LIT(": ")) ||
	    !pfi_scan_word(c, is_not_space, &ev->tls_protocol) ||
	    !pfi_scan_skip(c, PFI_LIT(" with cipher ")) ||
	    !pfi_scan_word(c, is_not_space, &ev->tls_cipher))
		return 0;
	return 1;
}

/*
 * "[TRUST ]TLS connection established from NAME[IP]: PROTO with cipher C"
 * (smtpd, TLS_IN) or "... established to NAME[IP]:PORT: ..." (smtp, TLS_OUT).
 */
static enum pfi_ev tls_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	const char *peer;

	tls_trust(c, ev);
	if (!pfi_scan_skip(c, PFI_LIT("TLS connection established ")))
		return PFI_EV_UNPARSED;
	if (pfi_scan_skip(c, PFI_LIT("from ")))
		return cur_client(c, ev) && tls_cipher(c, ev) ?
		       PFI_EV_TLS_IN : PFI_EV_UNPARSED;
	if (!pfi_scan_skip(c, PFI_LIT("to ")))
		return PFI_EV_UNPARSED;
	peer = c->p;
	if (!cur_client(c, ev))
		return PFI_EV_UNPARSED;
	cur_port(c);
	ev->relay = slice(peer, (size_t)(c->p - peer));
	return tls_cipher(c, ev) ? PFI_EV_TLS_OUT : PFI_EV_UNPARSED;
}

static int is_tls_line(const struct pfi_scan *c)
{
	struct pfi_scan t = *c, trust = *c;
	struct pfi_slice w;

	/* "TLS connection ..." or a trust word of at most 11 bytes first. */
	if (pfi_scan_len(&trust) > 12)
		trust.end = trust.p + 12;
	if (!pfi_scan_starts(c, PFI_LIT("TLS ")) &&
	    pfi_scan_until(&trust, ' ', &w))
		t.p = trust.p + 1;
	return pfi_scan_starts(&t, PFI_LIT("TLS connection established "));
}

/* ---- smtpd ------------------------------------------------------------ */

/* "client=NAME[IP], sasl_method=M, sasl_username=U, orig_queue_id=Q, ..." */
static enum pfi_ev client_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_slice k, v;
	int have_client = 0;

	while (pfi_kv_next(&c->p, c->end, &k, &v)) {
		struct pfi_scan t = { v.p, v.p + v.n };

		if (slice_is(k, PFI_LIT("client")))
			have_client = cur_client(&t, ev);
		else if (slice_is(k, PFI_LIT("sasl_method")))
			ev->sasl_method = v;
		else if (slice_is(k, PFI_LIT("sasl_username")))
			ev->sasl_username = v;
		else if (slice_is(k, PFI_LIT("orig_queue_id")))
			ev->orig_queue_id = v;
	}
	return have_client && pfi_scan_len(c) == 0 ? PFI_EV_CLIENT : PFI_EV_UNPARSED;
}

/* "connect from NAME[IP]" / "disconnect from NAME[IP] ehlo=1 ..." */
static enum pfi_ev connect_parse(struct pfi_scan *c, struct pfi_event *ev,
                                 enum pfi_ev kind)
{
	if (!cur_client(c, ev) || ev->client_ip.p == NULL)
		return PFI_EV_UNPARSED;
	return kind;
}

/*
 * "lost connection after CMD [(N bytes)] from NAME[IP]" and friends, from
 * `start` (the line's text): the stage, the client and, as the reason, the
 * words before " from ".  The client went away (CLIENT_LOST: after DATA or
 * BDAT the message it was sending is abandoned) or misbehaved (NOISE).
 */
static enum pfi_ev after_cmd_parse(struct pfi_scan *c, const char *start,
                                   struct pfi_event *ev, enum pfi_ev kind)
{
	const char *from;

	if (!pfi_scan_word(c, is_not_space, &ev->stage))
		return PFI_EV_NOISE;
	from = pfi_scan_rfind(c, PFI_LIT(" from "));
	ev->reason = slice(start, (size_t)((from ? from : c->end) - start));
	if (from) {
		c->p = from + 6;
		cur_client(c, ev);
	}
	return kind;
}

static const char *const smtpd_client_lost[] = {
	"lost connection after ", "timeout after "
};

static const char *const smtpd_after_cmd[] = {
	"too many errors after ", "improper command pipelining after "
};

static const char *const smtpd_noise[] = {
	"SSL_accept error from ", "setting up TLS connection from ",
	"discarding EHLO keywords", "SASL authentication failure",
	"NOQUEUE: lost connection", "Trusted TLS", "TLS SNI "
};

/* Whether the cursor starts with one of the n strings of `list`. */
static int starts_any(const struct pfi_scan *c, const char *const *list,
                      size_t n,
                      size_t *len)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		k = strlen(list[i]);
		if (pfi_scan_starts(c, list[i], k)) {
			if (len)
				*len = k;
			return 1;
		}
	}
	return 0;
}

/*
 * "NOQUEUE: client=NAME[IP], sasl_method=M, sasl_username=U": logged by a
 * before-queue content filter setup (smtpd_proxy_filter) before the queue
 * file exists.  NOISE with the client and SASL fields: there is no queue
 * ID to attach them to.
 */
static enum pfi_ev noqueue_client_parse(struct pfi_scan *c,
                                        struct pfi_event *ev)
{
	return client_parse(c, ev) == PFI_EV_CLIENT ? PFI_EV_NOISE
	                                            : PFI_EV_UNPARSED;
}

static enum pfi_ev smtpd_plain(struct pfi_scan *c, struct pfi_event *ev)
{
	size_t n;

	if (pfi_scan_skip(c, PFI_LIT("connect from ")))
		return connect_parse(c, ev, PFI_EV_CONNECT);
	if (pfi_scan_skip(c, PFI_LIT("disconnect from ")))
		return connect_parse(c, ev, PFI_EV_DISCONNECT);
	if (pfi_scan_starts(c, PFI_LIT("NOQUEUE: client="))) {
		c->p += 9;
		return noqueue_client_parse(c, ev);
	}
	if (pfi_scan_skip(c, PFI_LIT("NOQUEUE: ")))
		return reject_parse(c, ev);
	if (pfi_scan_starts(c, PFI_LIT("proxy-accept: ")) ||
	    pfi_scan_starts(c, PFI_LIT("proxy-reject: ")))
		return reject_parse(c, ev);
	if (is_tls_line(c))
		return tls_parse(c, ev);
	if (starts_any(c, smtpd_client_lost, PFI_ARRAY_SIZE(smtpd_client_lost),
	               &n)) {
		c->p += n;
		return after_cmd_parse(c, c->p - n, ev, PFI_EV_CLIENT_LOST);
	}
	if (starts_any(c, smtpd_after_cmd, PFI_ARRAY_SIZE(smtpd_after_cmd), &n)) {
		c->p += n;
		return after_cmd_parse(c, c->p - n, ev, PFI_EV_NOISE);
	}
	if (starts_any(c, smtpd_noise, PFI_ARRAY_SIZE(smtpd_noise), NULL))
		return PFI_EV_NOISE;
	return PFI_EV_UNPARSED;
}

/* After "QID: " in smtpd and cleanup: client=, checks, rejects. */
static enum pfi_ev smtpd_qid(struct pfi_scan *c, struct pfi_event *ev)
{
	if (pfi_scan_starts(c, PFI_LIT("client=")))
		return client_parse(c, ev);
	if (is_header_line(c))
		return header_parse(c, ev);
	return reject_parse(c, ev);
}

/* ---- smtp and lmtp ---------------------------------------------------- */

/* Lines smtp and lmtp log, without a queue ID, about the connection of
 * the delivery they are making: they belong to the message its next line
 * names (correlate.c). */
static const char *const smtp_attempt[] = {
	"connect to ", "server certificate verification failed",
	"certificate verification failed", "SSL_connect error",
	"setting up TLS connection to ", "Host offered STARTTLS",
	"server certificate not trusted", "untrusted issuer",
	"unverified TLS"
};

static enum pfi_ev smtp_plain(struct pfi_scan *c, struct pfi_event *ev)
{
	if (is_tls_line(c))
		return tls_parse(c, ev);
	if (starts_any(c, smtp_attempt, PFI_ARRAY_SIZE(smtp_attempt), NULL))
		return PFI_EV_ATTEMPT_LINE;
	/* smtp_discard_ehlo_keywords at work: information only. */
	if (pfi_scan_starts(c, PFI_LIT("discarding EHLO keywords: ")))
		return PFI_EV_NOISE;
	return PFI_EV_UNPARSED;
}

/* A failed attempt that smtp/lmtp logs before it tries the next server
 * or defers (smtp_proto.c, smtp_connect.c, smtp_sasl_proto.c); the same
 * texts end up in the status=deferred (...) reply when it is the last. */
static const char *const smtp_trouble[] = {
	"host ", "lost connection with ", "conversation with ",
	"enabling PIX workarounds", "connect to ", "Protocol error: ",
	"Server certificate not trusted", "Server certificate not verified",
	"Cannot start TLS: ", "TLS is required, but ", "SASL authentication failed",
	"SASL [CACHED] authentication failed"
};

/* "QID: host mx[1.2.3.4] said: 450 ..." - a failed attempt, kept as text. */
static enum pfi_ev smtp_qid(struct pfi_scan *c, struct pfi_event *ev)
{
	if (!starts_any(c, smtp_trouble, PFI_ARRAY_SIZE(smtp_trouble), NULL))
		return PFI_EV_UNPARSED;
	ev->reason = pfi_scan_rest(c);
	return PFI_EV_QID_WARNING;
}

/* ---- cleanup, qmgr, pickup, bounce, postsuper ------------------------- */

static struct pfi_slice unbracket(struct pfi_slice s)
{
	if (s.n >= 2 && s.p[0] == '<' && s.p[s.n - 1] == '>')
		return slice(s.p + 1, s.n - 2);
	return s;
}

static enum pfi_ev cleanup_qid(struct pfi_scan *c, struct pfi_event *ev)
{
	if (pfi_scan_skip(c, PFI_LIT("message-id="))) {
		ev->message_id = unbracket(pfi_scan_rest(c));
		return PFI_EV_MESSAGE_ID;
	}
	if (pfi_scan_starts(c, PFI_LIT("resent-message-id=")))
		return PFI_EV_NOISE;
	if (is_header_line(c))
		return header_parse(c, ev);
	return reject_parse(c, ev);
}

/* "from=<S>, size=N, nrcpt=N (queue active)" or "..., status=expired, ..." */
static enum pfi_ev qmgr_from(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_slice k, v;

	while (pfi_kv_next(&c->p, c->end, &k, &v)) {
		if (slice_is(k, PFI_LIT("from")))
			ev->from = v;
		else if (slice_is(k, PFI_LIT("size")))
			parse_i64(v, &ev->size);
		else if (slice_is(k, PFI_LIT("nrcpt")))
			parse_i64(v, &ev->nrcpt);
		else if (slice_is(k, PFI_LIT("status")))
			ev->status = v;
	}
	if (ev->from.p == NULL)
		return PFI_EV_UNPARSED;
	if (slice_is(ev->status, PFI_LIT("expired")) ||
	    slice_is(ev->status, PFI_LIT("force-expired")))
		return PFI_EV_EXPIRED;
	return ev->size >= 0 && ev->nrcpt >= 0 ? PFI_EV_QUEUED : PFI_EV_UNPARSED;
}

static enum pfi_ev qmgr_qid(struct pfi_scan *c, struct pfi_event *ev)
{
	if (pfi_scan_equals(c, PFI_LIT("removed")))
		return PFI_EV_REMOVED;
	if (pfi_scan_starts(c, PFI_LIT("from=")))
		return qmgr_from(c, ev);
	if (pfi_scan_starts(c, PFI_LIT("skipped, still being delivered")))
		return PFI_EV_NOISE;
	return PFI_EV_UNPARSED;
}

/* "uid=0 from=<S> [orig_id=Q]" */
static enum pfi_ev pickup_qid(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_slice k, v;

	while (pfi_kv_next(&c->p, c->end, &k, &v)) {
		if (slice_is(k, PFI_LIT("uid")))
			ev->uid = v;
		else if (slice_is(k, PFI_LIT("from")))
			ev->from = v;
		else if (slice_is(k, PFI_LIT("orig_id")))
			ev->orig_queue_id = v;
	}
	if (ev->uid.p == NULL || ev->from.p == NULL || pfi_scan_len(c) != 0)
		return PFI_EV_UNPARSED;
	return PFI_EV_PICKUP;
}

/* "sender non-delivery notification: NEWQID" (also delay, delivery status). */
static enum pfi_ev bounce_qid(struct pfi_scan *c, struct pfi_event *ev)
{
	const char *at = pfi_scan_find(c, PFI_LIT(" notification: "));
	struct pfi_slice nq;

	if (at == NULL ||
	    !(pfi_scan_starts(c, PFI_LIT("sender ")) ||
	      pfi_scan_starts(c, PFI_LIT("postmaster "))))
		return PFI_EV_UNPARSED;
	nq = slice(at + 15, (size_t)(c->end - at - 15));
	if (!is_qid(nq))
		return PFI_EV_UNPARSED;
	ev->action = slice(c->p, (size_t)(at - c->p));
	ev->new_qid = nq;
	return PFI_EV_NOTIFY;
}

/* A postsuper line and where its action word sits inside it. */
struct postsuper_op {
	const char *text;   /* the whole text after "QID: " */
	size_t off, len;    /* the action inside it: "hold" in "placed on hold" */
};

static const struct postsuper_op postsuper_ops[] = {
	{ "removed", 0, 7 },
	{ "placed on hold", 10, 4 },
	{ "released from hold", 0, 7 },
	{ "requeued", 0, 7 },
	{ "expired", 0, 6 },
};

static enum pfi_ev postsuper_qid(struct pfi_scan *c, struct pfi_event *ev)
{
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(postsuper_ops); i++) {
		const struct postsuper_op *op = &postsuper_ops[i];

		if (pfi_scan_equals(c, op->text, strlen(op->text))) {
			ev->action = slice(c->p + op->off, op->len);
			return PFI_EV_POSTSUPER;
		}
	}
	return PFI_EV_UNPARSED;
}

static const char *const postsuper_summaries[] = {
	"Deleted: ", "Placed on hold: ", "Released from hold: ", "Requeued: ",
	"Expired: "
};

static enum pfi_ev postsuper_plain(struct pfi_scan *c, struct pfi_event *ev)
{
	if (starts_any(c, postsuper_summaries,
	               PFI_ARRAY_SIZE(postsuper_summaries), NULL))
		return PFI_EV_NOISE;
	return PFI_EV_UNPARSED;
}

/* ---- postscreen ------------------------------------------------------- */

/* postscreen's actions, and the label each is counted under (Postfix
 * 3.6 renamed WHITELISTED and BLACKLISTED: one label for both names). */
static const struct {
	const char *words, *label;
} postscreen_actions[] = {
	{ "CONNECT from ", "connect" }, { "PASS NEW ", "pass_new" },
	{ "PASS OLD ", "pass_old" }, { "PREGREET ", "pregreet" },
	{ "HANGUP ", "hangup" }, { "DNSBL rank ", "dnsbl" },
	{ "ALLOWLISTED ", "allowlisted" }, { "WHITELISTED ", "allowlisted" },
	{ "DENYLISTED ", "denylisted" }, { "BLACKLISTED ", "denylisted" },
	{ "ALLOWLIST VETO ", "allowlist_veto" },
	{ "WHITELIST VETO ", "allowlist_veto" },
	{ "DISCONNECT ", "disconnect" },
	{ "COMMAND PIPELINING ", "command_pipelining" },
	{ "COMMAND TIME LIMIT ", "command_time_limit" },
	{ "COMMAND COUNT LIMIT ", "command_count_limit" },
	{ "COMMAND LENGTH LIMIT ", "command_length_limit" },
	{ "NON-SMTP COMMAND ", "non_smtp_command" },
	{ "BARE NEWLINE ", "bare_newline" },
	{ "BDAT without valid RCPT", "bdat_without_rcpt" },
};

/* Understood, counted as nothing: cache cleanup, other COMMAND lines. */
static const char *const postscreen_noise[] = { "cache ", "COMMAND " };

/* Why postscreen turns a connection away before any SMTP command. */
static const char *const postscreen_busy[] = {
	"too many connections", "all server ports busy",
	"all screening ports busy"
};

/*
 * "NOQUEUE: reject: CONNECT from [IP]:PORT: too many connections" (after
 * "NOQUEUE: "): REJECT at stage CONNECT with the client and reason = the
 * text; postscreen logs no reply code for these.
 */
static int equals_any(const struct pfi_scan *c, const char *const *list,
                      size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (pfi_scan_equals(c, list[i], strlen(list[i])))
			return 1;
	return 0;
}

static int postscreen_busy_parse(const struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_scan t = *c;

	if (pfi_scan_skip(&t, PFI_LIT("reject: CONNECT from ")) &&
	    cur_client(&t, ev)) {
		cur_port(&t);
		if (pfi_scan_skip(&t, PFI_LIT(": ")) &&
		    equals_any(&t, postscreen_busy, PFI_ARRAY_SIZE(postscreen_busy))) {
			ev->action = slice(PFI_LIT("reject"));
			ev->stage = slice(PFI_LIT("CONNECT"));
			ev->reason = pfi_scan_rest(&t);
			return 1;
		}
	}
	ev->client_name = ev->client_ip = slice(NULL, 0);
	return 0;
}

static enum pfi_ev postscreen_plain(struct pfi_scan *c, struct pfi_event *ev)
{
	size_t i;

	if (pfi_scan_skip(c, PFI_LIT("NOQUEUE: ")))
		return postscreen_busy_parse(c, ev) ? PFI_EV_REJECT
		                                    : reject_parse(c, ev);
	for (i = 0; i < PFI_ARRAY_SIZE(postscreen_actions); i++)
		if (pfi_scan_starts(c, postscreen_actions[i].words,
		                    strlen(postscreen_actions[i].words))) {
			ev->postscreen = postscreen_actions[i].label;
			return PFI_EV_NOISE;
		}
	if (starts_any(c, postscreen_noise, PFI_ARRAY_SIZE(postscreen_noise),
	               NULL))
		return PFI_EV_NOISE;
	return PFI_EV_UNPARSED;
}

/* ---- levels: warning:, error:, fatal:, panic: ------------------------- */

static int cur_level(struct pfi_scan *c)
{
	return pfi_scan_skip(c, PFI_LIT("warning: ")) ||
	       pfi_scan_skip(c, PFI_LIT("error: ")) ||
	       pfi_scan_skip(c, PFI_LIT("fatal: ")) ||
	       pfi_scan_skip(c, PFI_LIT("panic: "));
}

/* "NAME[IP]: SASL M authentication failed: TEXT[, sasl_username=U]" */
static int sasl_fail_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_scan t = *c;
	const char *u;

	if (!cur_client(&t, ev) || ev->client_ip.p == NULL ||
	    !pfi_scan_skip(&t, PFI_LIT(": SASL ")) ||
	    !pfi_scan_word(&t, is_not_space, &ev->sasl_method) ||
	    !pfi_scan_skip(&t, PFI_LIT(" authentication failed"))) {
		ev->client_name = ev->client_ip = ev->sasl_method = slice(NULL, 0);
		return 0;
	}
	pfi_scan_skip(&t, PFI_LIT(": "));
	u = pfi_scan_rfind(&t, PFI_LIT(", sasl_username="));
	if (u != NULL) {
		ev->sasl_username = slice(u + 16, (size_t)(t.end - u - 16));
		t.end = u;
	}
	ev->reason = pfi_scan_rest(&t);
	return 1;
}

/*
 * smtpd logs a malformed address only as a warning, but rejects it with
 * "501 5.1.3 Bad recipient address syntax" (5.1.7 for the sender):
 * "Illegal address syntax from NAME[IP] in RCPT command: <ADDR>".
 */
static int bad_syntax_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_scan t = *c;
	struct pfi_slice cmd, addr;
	int rcpt;

	if (!pfi_scan_skip(&t, PFI_LIT("Illegal address syntax from ")) ||
	    !cur_client(&t, ev) || !pfi_scan_skip(&t, PFI_LIT(" in ")) ||
	    !pfi_scan_word(&t, is_stage_char, &cmd) ||
	    !pfi_scan_skip(&t, PFI_LIT(" command: "))) {
		ev->client_name = ev->client_ip = slice(NULL, 0);
		return 0;
	}
	addr = unbracket(pfi_scan_rest(&t));
	rcpt = slice_is(cmd, PFI_LIT("RCPT"));
	ev->action = slice(PFI_LIT("reject"));
	ev->stage = cmd;
	ev->code = slice(PFI_LIT("501"));
	ev->dsn = rcpt ? slice(PFI_LIT("5.1.3")) : slice(PFI_LIT("5.1.7"));
	ev->reason = rcpt ? slice(PFI_LIT("Bad recipient address syntax"))
	                  : slice(PFI_LIT("Bad sender address syntax"));
	if (rcpt)
		ev->to = addr;
	else
		ev->from = addr;
	return 1;
}

/* "warning: QID: queue file size limit exceeded": smtpd then replies
 * "552 5.3.4 Message size exceeds fixed limit" and drops the message. */
static int size_limit_parse(const struct pfi_scan *c, struct pfi_event *ev)
{
	if (!pfi_scan_equals(c, PFI_LIT("queue file size limit exceeded")))
		return 0;
	ev->action = slice(PFI_LIT("reject"));
	ev->stage = slice(PFI_LIT("END-OF-MESSAGE"));
	ev->code = slice(PFI_LIT("552"));
	ev->dsn = slice(PFI_LIT("5.3.4"));
	ev->reason = slice(PFI_LIT("Message size exceeds fixed limit"));
	return 1;
}

/* "warning: QID: message not accepted, try again later": cleanup gave up on
 * a message (a milter's tempfail or misconfiguration; pickup tries the
 * maildrop file again under a new ID).  This queue file is gone. */
static int not_accepted_parse(const struct pfi_scan *c, struct pfi_event *ev)
{
	if (!pfi_scan_equals(c, PFI_LIT("message not accepted, try again later")))
		return 0;
	ev->action = slice(PFI_LIT("reject"));
	ev->stage = slice(PFI_LIT("END-OF-MESSAGE"));
	ev->reason = pfi_scan_rest(c);
	return 1;
}

/*
 * smtpd with a before-queue filter: "warning: proxy ADDR rejected \"rcpt
 * TO:<a>\": \"550 5.1.1 <a>: text\"" (smtpd_proxy.c), the filter's reply
 * to a command, which smtpd passes on to the client.  Only RCPT and MAIL
 * are logged so; END-OF-MESSAGE has its own proxy-reject line.
 */
static int proxy_rejected_parse(const struct pfi_scan *c, struct pfi_event *ev)
{
	struct pfi_scan t = *c, reply, arg;
	struct pfi_slice proxy, cmd, before, addr = { NULL, 0 };
	const char *q;

	if (!pfi_scan_skip(&t, PFI_LIT("proxy ")) ||
	    !pfi_scan_until(&t, ' ', &proxy) ||
	    !pfi_scan_skip(&t, PFI_LIT(" rejected \"")) ||
	    !pfi_scan_word(&t, pfi_is_alpha, &cmd))
		return 0;
	/* The reply is quoted: q + 4 up to the last byte, a '"' of its own. */
	if ((q = pfi_scan_rfind(&t, PFI_LIT("\": \""))) == NULL ||
	    t.end - q < 5 || t.end[-1] != '"')
		return 0;
	if (!(cmd.n == 4 && strncasecmp(cmd.p, "rcpt", 4) == 0) &&
	    !(cmd.n == 4 && strncasecmp(cmd.p, "mail", 4) == 0))
		return 0;
	/* The address: between the first '<' and the next '>' of the command. */
	arg.p = t.p;
	arg.end = q;
	if (pfi_scan_until(&arg, '<', &before) && pfi_scan_char(&arg, '<'))
		pfi_scan_until(&arg, '>', &addr);
	reply.p = q + 4;
	reply.end = t.end - 1;
	ev->action = slice(PFI_LIT("reject"));
	if (cmd.p[0] == 'r' || cmd.p[0] == 'R') {
		ev->stage = slice(PFI_LIT("RCPT"));
		ev->to = addr;
	} else {
		ev->stage = slice(PFI_LIT("MAIL"));
		ev->from = addr;
	}
	reply_parse(&reply, ev);
	return 1;
}

static enum pfi_ev level_parse(struct pfi_scan *c, struct pfi_event *ev)
{
	if (proxy_rejected_parse(c, ev))
		return PFI_EV_REJECT;
	if (cur_qid(c, &ev->qid)) {
		if (size_limit_parse(c, ev) || not_accepted_parse(c, ev))
			return PFI_EV_REJECT;
		ev->reason = pfi_scan_rest(c);
		return PFI_EV_QID_WARNING;
	}
	if (sasl_fail_parse(c, ev))
		return PFI_EV_SASL_FAIL;
	if (bad_syntax_parse(c, ev))
		return PFI_EV_REJECT;
	return PFI_EV_NOISE;
}

/* ---- daemon table and entry point ------------------------------------- */

/* How one daemon's lines are read. */
struct daemon {
	const char *name;   /* last component of the program */
	size_t len;         /* strlen(name) */
	int noise;          /* every line is NOISE */
	/* lines without a queue ID, and the text after "QID: " */
	enum pfi_ev (*plain)(struct pfi_scan *, struct pfi_event *);
	enum pfi_ev (*qid)(struct pfi_scan *, struct pfi_event *);
};

#define D(name) name, sizeof(name) - 1

static const struct daemon daemons[] = {
	{ D("smtpd"), 0, smtpd_plain, smtpd_qid },
	{ D("cleanup"), 0, NULL, cleanup_qid },
	{ D("qmgr"), 0, NULL, qmgr_qid },
	{ D("smtp"), 0, smtp_plain, smtp_qid },
	{ D("lmtp"), 0, smtp_plain, smtp_qid },
	{ D("local"), 0, NULL, NULL },
	{ D("virtual"), 0, NULL, NULL },
	{ D("pipe"), 0, NULL, NULL },
	{ D("error"), 0, NULL, NULL },
	{ D("retry"), 0, NULL, NULL },
	{ D("discard"), 0, NULL, NULL },
	{ D("bounce"), 0, NULL, bounce_qid },
	{ D("pickup"), 0, NULL, pickup_qid },
	{ D("postscreen"), 0, postscreen_plain, NULL },
	{ D("postsuper"), 0, postsuper_plain, postsuper_qid },
	{ D("nqmgr"), 0, NULL, qmgr_qid },
	{ D("oqmgr"), 0, NULL, qmgr_qid },
	{ D("master"), 1, NULL, NULL },
	{ D("anvil"), 1, NULL, NULL },
	{ D("scache"), 1, NULL, NULL },
	{ D("dnsblog"), 1, NULL, NULL },
	{ D("verify"), 1, NULL, NULL },
	{ D("trivial-rewrite"), 1, NULL, NULL },
	{ D("tlsproxy"), 1, NULL, NULL },
	{ D("tlsmgr"), 1, NULL, NULL },
	{ D("postfix-script"), 1, NULL, NULL },
	{ D("postlogd"), 1, NULL, NULL },
	{ D("postlog"), 1, NULL, NULL },
	{ D("proxymap"), 1, NULL, NULL },
	{ D("showq"), 1, NULL, NULL },
	{ D("flush"), 1, NULL, NULL },
	{ D("spawn"), 1, NULL, NULL },
};

#undef D

static const struct daemon *daemon_find(struct pfi_slice name)
{
	size_t i;

	for (i = 0; i < PFI_ARRAY_SIZE(daemons); i++)
		if (name.n == daemons[i].len &&
		    memcmp(name.p, daemons[i].name, name.n) == 0)
			return &daemons[i];
	return NULL;
}

static void event_reset(struct pfi_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->delay = -1;
	ev->delays[0] = ev->delays[1] = ev->delays[2] = ev->delays[3] = -1;
	ev->conn_use = -1;
	ev->size = -1;
	ev->nrcpt = -1;
}

static enum pfi_ev qid_line(const struct daemon *d, struct pfi_scan *c,
                            struct pfi_event *ev)
{
	/* "to=<R>", or "to=R" when a shipper or anonymiser dropped the
	 * angle brackets: the key=value reader takes both. */
	if (pfi_scan_starts(c, PFI_LIT("to=")))
		return delivery_parse(c, ev);
	if (d != NULL && d->qid != NULL)
		return d->qid(c, ev);
	return PFI_EV_UNPARSED;
}

/*
 * "table hash:/etc/postfix/x(0,lock|fold_fix) has changed -- restarting":
 * any daemon that uses a lookup table, before it exits for a fresh start.
 */
static int is_table_restart(const struct pfi_scan *c)
{
	static const char tail[] = " has changed -- restarting";
	size_t n = sizeof(tail) - 1;

	return pfi_scan_starts(c, PFI_LIT("table ")) && pfi_scan_len(c) > 6 + n &&
	       memcmp(c->end - n, tail, n) == 0;
}

/*
 * Verbose logging (-v in master.cf, debug_peer_list) seen on real servers:
 * only these shapes, not every "function: " line.
 */
static const char *const verbose_prefixes[] = {
	"smtp_stream_setup: ", "match_hostname: ", "match_hostaddr: ",
	"input attribute name: ", "input attribute value: "
};

static int is_verbose(const struct pfi_scan *c)
{
	if (starts_any(c, verbose_prefixes, PFI_ARRAY_SIZE(verbose_prefixes),
	               NULL))
		return 1;
	/* "public/cleanup socket: wanted attribute: status" */
	if (!pfi_scan_starts(c, PFI_LIT("public/")) &&
	    !pfi_scan_starts(c, PFI_LIT("private/")))
		return 0;
	return pfi_scan_find(c, PFI_LIT(" socket: wanted attribute: ")) != NULL;
}

static enum pfi_ev parse_text(const struct daemon *d, struct pfi_scan *c,
                              struct pfi_event *ev)
{
	struct pfi_scan q = *c;

	if (d != NULL && d->noise)
		return PFI_EV_NOISE;
	if (cur_level(c))
		return level_parse(c, ev);
	if (is_table_restart(c) || is_verbose(c))
		return PFI_EV_NOISE;
	if (cur_qid(&q, &ev->qid))
		return qid_line(d, &q, ev);
	if (d != NULL && d->plain != NULL)
		return d->plain(c, ev);
	return PFI_EV_UNPARSED;
}

/* Whether the first component of the program starts with "postfix". */
static int is_postfix_program(struct pfi_slice prog)
{
	return prog.p != NULL && prog.n >= 7 && memcmp(prog.p, "postfix", 7) == 0;
}

static struct pfi_slice program_daemon(struct pfi_slice prog)
{
	struct pfi_scan t = pfi_scan_of(prog.p, prog.n);
	const char *slash = pfi_scan_rfind(&t, PFI_LIT("/"));

	if (slash == NULL)
		return prog;
	return slice(slash + 1, (size_t)(prog.p + prog.n - slash - 1));
}

enum pfi_ev pfi_postfix_parse(const struct pfi_envelope *env,
                              struct pfi_event *ev)
{
	struct pfi_slice daemon;
	struct pfi_scan c;

	event_reset(ev);
	if (!is_postfix_program(env->program))
		return ev->kind = PFI_EV_FOREIGN;
	daemon = program_daemon(env->program);
	ev->daemon = daemon;
	if (env->text.p == NULL)
		return ev->kind = PFI_EV_UNPARSED;
	c.p = env->text.p;
	c.end = env->text.p + env->text.n;
	ev->kind = parse_text(daemon_find(daemon), &c, ev);
	if (ev->kind == PFI_EV_UNPARSED) {
		event_reset(ev);
		ev->daemon = daemon;
	}
	return ev->kind;
}

static const char *const ev_names[PFI_EV__COUNT] = {
	[PFI_EV_UNPARSED] = "unparsed",
	[PFI_EV_FOREIGN] = "foreign",
	[PFI_EV_NOISE] = "noise",
	[PFI_EV_CONNECT] = "connect",
	[PFI_EV_DISCONNECT] = "disconnect",
	[PFI_EV_TLS_IN] = "tls_in",
	[PFI_EV_TLS_OUT] = "tls_out",
	[PFI_EV_SASL_FAIL] = "sasl_fail",
	[PFI_EV_CLIENT] = "client",
	[PFI_EV_PICKUP] = "pickup",
	[PFI_EV_MESSAGE_ID] = "message_id",
	[PFI_EV_HEADER] = "header",
	[PFI_EV_QUEUED] = "queued",
	[PFI_EV_EXPIRED] = "expired",
	[PFI_EV_REMOVED] = "removed",
	[PFI_EV_DELIVERY] = "delivery",
	[PFI_EV_REJECT] = "reject",
	[PFI_EV_NOTIFY] = "notify",
	[PFI_EV_POSTSUPER] = "postsuper",
	[PFI_EV_QID_WARNING] = "qid_warning",
	[PFI_EV_CLIENT_LOST] = "client_lost",
	[PFI_EV_ATTEMPT_LINE] = "attempt_line",
	[PFI_EV_VERDICT] = "verdict",
};

const char *pfi_ev_name(enum pfi_ev kind)
{
	if ((unsigned)kind >= PFI_EV__COUNT || ev_names[kind] == NULL)
		return "unknown";
	return ev_names[kind];
}
