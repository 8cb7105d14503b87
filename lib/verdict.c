/*
 * verdict.c - what the milters and filters beside Postfix decided about a
 * message, read from their own log lines: opendkim, opendmarc, the SPF
 * policy servers (postfix-policyd-spf-python and -perl), amavisd-new,
 * rspamd and clamav-milter.
 *
 * Each reader knows one program's verdict lines (their shapes come from
 * the programs' sources and from lines they wrote here, see
 * testdata/verdicts) and maps its words onto SPEC's vocabulary.  A line of
 * one of these programs that carries no verdict (start-up, key loading,
 * signing decisions) is PFI_VL_NONE and stays a foreign line; one that
 * starts like a verdict but cannot be read is PFI_VL_UNREADABLE.
 *
 * All text is the SMTP client's to choose (addresses, Message-IDs,
 * subjects): fields are found by the program's fixed words around them,
 * searched from the side the free text cannot reach where that matters.
 */
#include <string.h>
#include <strings.h>

#include "scan.h"

/* ---- SPEC's vocabulary ------------------------------------------------- */

static const char *const kinds[] = {
	"dkim", "spf", "dmarc", "spam", "virus", NULL
};
static const char *const dkim_results[] = {
	"signed", "pass", "fail", "none", "error", NULL
};
static const char *const spf_results[] = {
	"pass", "fail", "softfail", "neutral", "none", "temperror",
	"permerror", NULL
};
static const char *const dmarc_spec_results[] = { "pass", "fail", "none", NULL };
static const char *const spam_results[] = {
	"clean", "spam", "spammy", "banned", "bad-header", NULL
};
static const char *const virus_results[] = { "clean", "infected", NULL };

const char *const *pfi_verdict_kinds(void)
{
	return kinds;
}

const char *const *pfi_verdict_results(const char *kind)
{
	static const char *const *const results[] = {
		dkim_results, spf_results, dmarc_spec_results, spam_results,
		virus_results
	};
	size_t i;

	for (i = 0; kind != NULL && kinds[i] != NULL; i++)
		if (strcmp(kind, kinds[i]) == 0)
			return results[i];
	return NULL;
}

static struct pfi_slice slice(const char *p, size_t n)
{
	struct pfi_slice s = { p, n };

	return s;
}

static int is_token_char(char c)
{
	return c > ' ' && c != ',' && c != ';' && c != ')' && c != '(' &&
	       c != '>' && c != '<';
}

static int is_word_char(char c)
{
	return pfi_is_alnum(c) || c == '-' || c == '_';
}

/* The last component of env's program ("postfix/policy-spf" ->
 * "policy-spf"). */
static struct pfi_slice program_name(struct pfi_slice prog)
{
	size_t i = prog.n;

	while (i > 0 && prog.p[i - 1] != '/')
		i--;
	return slice(prog.p + i, prog.n - i);
}

/* How many of the n bytes at p come before one of `stops`. */
static size_t strcspn_n(const char *p, size_t n, const char *stops)
{
	size_t i;

	for (i = 0; i < n && strchr(stops, p[i]) == NULL; i++)
		;
	return i;
}

/* A score: pfi_parse_decimal with an optional '-'. */
static int signed_decimal(struct pfi_slice s, double *out)
{
	int neg = s.n > 0 && s.p[0] == '-';

	if (!pfi_parse_decimal(slice(s.p + neg, s.n - (size_t)neg), out))
		return 0;
	if (neg)
		*out = -*out;
	return 1;
}

static int slice_is(struct pfi_slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* Maps `word` (any case) to the first entry of `names` it equals, else
 * NULL.  The table's own string is returned, so it outlives the line. */
static const char *one_of(struct pfi_slice word, const char *const *names)
{
	for (; *names != NULL; names++)
		if (strlen(*names) == word.n &&
		    strncasecmp(word.p, *names, word.n) == 0)
			return *names;
	return NULL;
}

/* "QID: " at the start of the text, when the word is a queue ID. */
static int job_qid(struct pfi_scan *c, struct pfi_slice *qid)
{
	struct pfi_scan t = *c;
	struct pfi_slice w;

	if (!pfi_scan_word(&t, pfi_is_alnum, &w) ||
	    !pfi_scan_skip(&t, PFI_LIT(": ")) || !pfi_qid_shape(w.p, w.n))
		return 0;
	*qid = w;
	*c = t;
	return 1;
}

/* The value after the last `key` (e.g. "client-ip=") in [p, end): the
 * token up to a blank, ';', ',' or ')'; a value in double quotes without
 * them.  Absent when there is no such key. */
static struct pfi_slice value_after(struct pfi_scan all, const char *key,
                                    size_t klen)
{
	struct pfi_slice none = { NULL, 0 }, v;
	const char *at = pfi_scan_rfind(&all, key, klen);
	struct pfi_scan t;

	if (at == NULL)
		return none;
	t.p = at + klen;
	t.end = all.end;
	if (pfi_scan_char(&t, '"'))
		return pfi_scan_until(&t, '"', &v) ? v : none;
	pfi_scan_char(&t, '<');
	v = pfi_scan_span(&t, is_token_char);
	return v;
}

/* The domain of an address ("a@b.test" -> "b.test"), or the whole
 * identity when it has no '@' (a HELO name). */
static struct pfi_slice domain_of(struct pfi_slice addr)
{
	size_t i = addr.n;

	while (i > 0 && addr.p[i - 1] != '@')
		i--;
	return i == 0 ? addr : slice(addr.p + i, addr.n - i);
}

static void verdict_reset(struct pfi_verdict_read *v, const struct pfi_envelope *env)
{
	memset(v, 0, sizeof(*v));
	v->program = env->program;
}

/* ---- opendkim --------------------------------------------------------- */

/* "(s=SEL, d=DOM" at the cursor (the rest may follow). */
static int dkim_selector_domain(struct pfi_scan *c, struct pfi_verdict_read *v)
{
	struct pfi_slice sel, dom;

	if (!pfi_scan_skip(c, PFI_LIT("(s=")) || !pfi_scan_until(c, ',', &sel) ||
	    !pfi_scan_skip(c, PFI_LIT(", d=")))
		return 0;
	dom = pfi_scan_span(c, is_token_char);
	if (sel.n == 0 || dom.n == 0)
		return 0;
	v->domain = dom;
	v->detail = slice(sel.p - 2, sel.n + 2);   /* "s=SEL" */
	return 1;
}

/* "key retrieval failed", "key revoked", "signature processing failed":
 * a key that is not published (or is revoked) fails the signature, as
 * opendkim's own Authentication-Results header says; one that could not
 * be looked up (a DNS error) or used leaves it unchecked: error. */
static const char *dkim_key_problem(struct pfi_scan *c)
{
	if (pfi_scan_skip(c, PFI_LIT("key revoked")))
		return "fail";
	if (pfi_scan_skip(c, PFI_LIT("key retrieval failed")))
		return pfi_scan_find(c, PFI_LIT("record not found")) ? "fail"
		                                                     : "error";
	if (pfi_scan_skip(c, PFI_LIT("signature processing failed")))
		return "error";
	return NULL;
}

/* A LogResults result text as SPEC's word: "no signature error" is a
 * good signature; a key not in DNS fails it, as with key retrieval. */
static const char *dkim_result_text(struct pfi_slice r)
{
	if (slice_is(r, "no signature error"))
		return "pass";
	if (slice_is(r, "signature verification failed") ||
	    slice_is(r, "bad signature") || slice_is(r, "key not found in DNS") ||
	    slice_is(r, "body hash mismatch") || slice_is(r, "key revoked"))
		return "fail";
	return "error";
}

/* LogResults: "signature=B domain=DOM selector=SEL result="TEXT"", one
 * segment per signature joined by "; ": a verdict for each. */
static enum pfi_verdict_line dkim_log_results(struct pfi_scan c,
                                              struct pfi_verdict_read *v)
{
	struct pfi_slice qid = v->qid, dom, sel, res;
	struct pfi_scan seg;
	const char *next;
	size_t n = 0;

	while (pfi_scan_len(&c) > 0 && n < PFI_VERDICTS_PER_LINE) {
		seg = c;
		next = pfi_scan_find(&c, PFI_LIT("; signature="));
		if (next != NULL)
			seg.end = next;
		dom = value_after(seg, PFI_LIT(" domain="));
		sel = value_after(seg, PFI_LIT(" selector="));
		res = value_after(seg, PFI_LIT(" result="));
		if (!PFI_SLICE_PRESENT(dom) || !PFI_SLICE_PRESENT(sel) ||
		    !PFI_SLICE_PRESENT(res))
			return PFI_VL_UNREADABLE;
		if (n > 0)
			v[n] = v[0];
		v[n].qid = qid;
		v[n].kind = "dkim";
		v[n].result = dkim_result_text(res);
		v[n].domain = dom;
		v[n].detail = slice(sel.p - 9, sel.n + 9);   /* "selector=" */
		v[n].per_signature = 1;
		n++;
		if (next == NULL)
			break;
		c.p = next + 2;
	}
	v[0].nmore = n - 1;
	return PFI_VL_VERDICT;
}

static enum pfi_verdict_line opendkim(struct pfi_scan c, struct pfi_verdict_read *v)
{
	struct pfi_scan t;

	job_qid(&c, &v->qid);
	v->kind = "dkim";
	if (pfi_scan_skip(&c, PFI_LIT("DKIM-Signature field added "))) {
		v->result = "signed";
		return dkim_selector_domain(&c, v) ? PFI_VL_VERDICT
		                                   : PFI_VL_UNREADABLE;
	}
	if (pfi_scan_skip(&c, PFI_LIT("s="))) {
		/* "s=SEL d=DOM a=ALG SSL ERR": the signature checked */
		struct pfi_slice sel, dom;

		t = c;
		if (pfi_scan_word(&t, is_token_char, &sel) &&
		    pfi_scan_skip(&t, PFI_LIT(" d=")) &&
		    pfi_scan_word(&t, is_token_char, &dom)) {
			v->domain = dom;
			v->detail = slice(sel.p - 2, sel.n + 2);
			v->detail_only = 1;
		}
		return PFI_VL_NONE;
	}
	if (pfi_scan_starts(&c, PFI_LIT("signature=")))
		return dkim_log_results(c, v);
	if (pfi_scan_equals(&c, PFI_LIT("DKIM verification successful")))
		v->result = "pass";
	else if (pfi_scan_equals(&c, PFI_LIT("bad signature data")))
		v->result = "fail";
	else if (pfi_scan_equals(&c, PFI_LIT("no signature data")))
		v->result = "none";
	else if ((v->result = dkim_key_problem(&c)) != NULL) {
		t = c;
		pfi_scan_char(&t, ' ');
		if (pfi_scan_peek(&t, '('))
			dkim_selector_domain(&t, v);
		else if (pfi_scan_char(&t, ':') && pfi_scan_spaces(&t))
			v->detail = pfi_scan_rest(&t);
	} else
		return PFI_VL_NONE;
	return PFI_VL_VERDICT;
}

/* ---- opendmarc -------------------------------------------------------- */

/* opendmarc's results beyond SPEC's pass, fail and none: no policy to
 * judge by ("bestguesspass": there is no DMARC record), or a record that
 * could not be had or read.  Each counts as none, its word kept in
 * detail. */
static const char *const dmarc_results[] = {
	"pass", "fail", "none", "bestguesspass", "permerror", "temperror", NULL
};

static enum pfi_verdict_line opendmarc(struct pfi_scan c, struct pfi_verdict_read *v)
{
	struct pfi_slice scope, dom, word;
	const char *r;

	if (!job_qid(&c, &v->qid))
		return PFI_VL_NONE;
	if (pfi_scan_skip(&c, PFI_LIT("SPF("))) {
		/* "QID: SPF(mailfrom): DOMAIN RESULT": its own SPF check */
		if (!pfi_scan_until(&c, ')', &scope) ||
		    !pfi_scan_skip(&c, PFI_LIT("): ")) ||
		    !pfi_scan_word(&c, is_token_char, &dom) ||
		    !pfi_scan_char(&c, ' ') ||
		    !pfi_scan_word(&c, pfi_is_alpha, &word) || pfi_scan_len(&c) ||
		    (r = one_of(word, spf_results)) == NULL)
			return PFI_VL_UNREADABLE;
		v->kind = "spf";
		v->result = r;
		v->domain = dom;
		v->detail = scope;
		return PFI_VL_VERDICT;
	}
	/* "QID: DOMAIN RESULT" */
	if (!pfi_scan_word(&c, is_token_char, &dom) || !pfi_scan_char(&c, ' ') ||
	    !pfi_scan_word(&c, pfi_is_alpha, &word) || pfi_scan_len(&c) ||
	    memchr(dom.p, '.', dom.n) == NULL)
		return PFI_VL_NONE;
	r = one_of(word, dmarc_results);
	if (r == NULL)
		return PFI_VL_UNREADABLE;
	v->kind = "dmarc";
	v->domain = dom;
	v->result = r;
	if (strcmp(r, "pass") != 0 && strcmp(r, "fail") != 0) {
		v->result = "none";
		v->detail = word;
	}
	return PFI_VL_VERDICT;
}

/* ---- SPF policy servers ----------------------------------------------- */

/* The identity a Received-SPF or Authentication-Results text checked:
 * envelope-from for mailfrom, else the HELO name. */
static void spf_identity(struct pfi_scan all, struct pfi_verdict_read *v)
{
	struct pfi_slice id = value_after(all, PFI_LIT("identity="));
	struct pfi_slice from = value_after(all, PFI_LIT("envelope-from="));
	struct pfi_slice helo = value_after(all, PFI_LIT("helo="));

	if (!PFI_SLICE_PRESENT(from))
		from = value_after(all, PFI_LIT("smtp.mailfrom="));
	v->client_ip = value_after(all, PFI_LIT("client-ip="));
	if (PFI_SLICE_PRESENT(id) && slice_is(id, "helo"))
		v->domain = helo;
	else if (PFI_SLICE_PRESENT(from) && from.n > 0 && !slice_is(from, "<>"))
		v->domain = domain_of(from);
	else
		v->domain = helo;
	if (PFI_SLICE_PRESENT(id))
		v->detail = slice(id.p - 9, id.n + 9);   /* "identity=..." */
}

/* "Received-SPF: RESULT (...) key=value; ..." at the cursor, or an
 * Authentication-Results header with "spf=RESULT". */
static enum pfi_verdict_line spf_header(struct pfi_scan c, struct pfi_verdict_read *v)
{
	struct pfi_scan all = c;
	struct pfi_slice word;
	const char *at;

	if (pfi_scan_skip(&c, PFI_LIT("Received-SPF: "))) {
		if (!pfi_scan_word(&c, pfi_is_alpha, &word))
			return PFI_VL_UNREADABLE;
	} else if (pfi_scan_starts(&c, PFI_LIT("Authentication-Results: ")) &&
	           (at = pfi_scan_find(&c, PFI_LIT("spf="))) != NULL) {
		c.p = at + 4;
		if (!pfi_scan_word(&c, pfi_is_alpha, &word))
			return PFI_VL_UNREADABLE;
	} else
		return PFI_VL_UNREADABLE;
	v->result = one_of(word, spf_results);
	if (v->result == NULL)
		return PFI_VL_UNREADABLE;
	v->kind = "spf";
	spf_identity(all, v);
	return PFI_VL_VERDICT;
}

/* A reject or defer of the check: "550 5.7.23 Message rejected due to: SPF
 * fail - not authorized. Please see http://...?s=mfrom;id=S;ip=IP;r=R",
 * "defer_if_permit 4.7.24 SPF temperror; ...". The result is the word
 * after "SPF " (fail when only the URL of a failure is given). */
static enum pfi_verdict_line spf_action(struct pfi_scan c, int reject,
                                        struct pfi_verdict_read *v)
{
	struct pfi_slice word = { NULL, 0 }, ip, id, scope;
	const char *at = pfi_scan_find(&c, PFI_LIT("SPF "));
	struct pfi_scan t = c;

	if (at == NULL)
		at = pfi_scan_find(&c, PFI_LIT("SPF-Result="));
	if (at != NULL) {
		t.p = at + (at[3] == ' ' ? 4 : 11);
		pfi_scan_word(&t, pfi_is_alpha, &word);
	}
	v->reply = pfi_scan_rest(&c);
	v->result = PFI_SLICE_PRESENT(word) ? one_of(word, spf_results) : NULL;
	if (v->result == NULL && reject)
		v->result = "fail";     /* Mail::SPF's own explanation text */
	if (v->result == NULL && !reject)
		v->result = "temperror";
	v->kind = "spf";
	ip = value_after(c, PFI_LIT(";ip="));
	if (!PFI_SLICE_PRESENT(ip))
		ip = value_after(c, PFI_LIT("&ip="));
	id = value_after(c, PFI_LIT(";id="));
	if (!PFI_SLICE_PRESENT(id))
		id = value_after(c, PFI_LIT("?sender="));
	scope = value_after(c, PFI_LIT("?s="));
	if (PFI_SLICE_PRESENT(ip))
		v->client_ip = slice(ip.p, strcspn_n(ip.p, ip.n, ";&"));
	if (PFI_SLICE_PRESENT(id)) {
		const char *enc;
		struct pfi_scan idc;

		id.n = strcspn_n(id.p, id.n, ";&");
		v->domain = domain_of(id);
		idc = pfi_scan_of(id.p, id.n);
		if (v->domain.n == id.n &&      /* "bob%40b.test": URL-encoded */
		    (enc = pfi_scan_rfind(&idc, PFI_LIT("%40"))) != NULL)
			v->domain = slice(enc + 3, (size_t)(id.p + id.n - enc - 3));
	}
	if (PFI_SLICE_PRESENT(scope))
		v->detail = slice(scope.p, strcspn_n(scope.p, scope.n, ";&"));
	return PFI_VL_VERDICT;
}

/* Past an enhanced status code "5.7.23 " at the cursor, if any. */
static struct pfi_scan skip_dsn(struct pfi_scan c)
{
	struct pfi_scan t = c;
	struct pfi_slice w;

	if (pfi_scan_word(&t, is_token_char, &w) && w.n >= 5 &&
	    pfi_is_digit(w.p[0]) && w.p[1] == '.' && pfi_scan_char(&t, ' '))
		return t;
	return c;
}

/* postfix-policyd-spf-python: "[QID: ]prepend Received-SPF: ...",
 * "[QID: ]Header field not prepended: Received-SPF: ...",
 * "[QID: ]550 5.7.23 ...", "[QID: ]defer_if_permit 4.7.24 ...".  Its
 * debug lines ("Pass; identity=...") repeat the prepend and are not
 * counted again. */
static enum pfi_verdict_line policyd_spf(struct pfi_scan c, struct pfi_verdict_read *v)
{
	struct pfi_slice code;
	struct pfi_scan t;

	/* With QueueID set, the line starts "QID: ", or ": " before smtpd
	 * has queued the message (the check of the first recipient). */
	if (!job_qid(&c, &v->qid))
		pfi_scan_skip(&c, PFI_LIT(": "));
	if (pfi_scan_skip(&c, PFI_LIT("prepend ")) ||
	    pfi_scan_skip(&c, PFI_LIT("Header field not prepended: ")) ||
	    pfi_scan_skip(&c, PFI_LIT("result_only ")))
		return spf_header(c, v);
	if (pfi_scan_skip(&c, PFI_LIT("defer_if_permit ")))
		return spf_action(skip_dsn(c), 0, v);
	t = c;
	if (pfi_scan_word(&t, pfi_is_digit, &code) && code.n == 3 &&
	    code.p[0] == '5' && pfi_scan_char(&t, ' ') &&
	    pfi_scan_find(&t, PFI_LIT("SPF")) != NULL)
		return spf_action(skip_dsn(t), 1, v);
	return PFI_VL_NONE;
}

/* postfix-policyd-spf-perl (ident postfix/policy-spf): "Policy
 * action=PREPEND Received-SPF: ...", "Policy action=550 ...", "Policy
 * action=DEFER_IF_PERMIT SPF-Result=...".  DUNNO and the rest decide
 * nothing. */
static enum pfi_verdict_line policy_spf_perl(struct pfi_scan c,
                                             struct pfi_verdict_read *v)
{
	struct pfi_slice code;
	struct pfi_scan t;

	if (!pfi_scan_skip(&c, PFI_LIT("Policy action=")))
		return PFI_VL_NONE;
	if (pfi_scan_skip(&c, PFI_LIT("PREPEND ")))
		return spf_header(c, v);
	if (pfi_scan_skip(&c, PFI_LIT("DEFER_IF_PERMIT ")))
		return spf_action(c, 0, v);
	t = c;
	if (pfi_scan_word(&t, pfi_is_digit, &code) && code.n == 3 &&
	    code.p[0] == '5')
		return spf_action(t, 1, v);
	return PFI_VL_NONE;
}

/* ---- amavisd-new ------------------------------------------------------ */

/* Its contents categories, as the main log line names them (amavisd-new's
 * $log_short_templ): "Passed CLEAN", "Blocked SPAM", "Passed SPAMMY",
 * "Blocked BANNED (NAMES)", "Passed BAD-HEADER-N", "Blocked INFECTED
 * (NAMES)".  OTHER, MTA-BLOCKED, OVERSIZED and UNCHECKED are no verdict
 * about the content. */
struct amavis_ccat {
	const char *word;
	size_t len;
	int prefix;          /* BAD-HEADER-N: a minor category follows */
	const char *kind, *result;
};

static const struct amavis_ccat amavis_ccats[] = {
	{ PFI_LIT("CLEAN"), 0, "spam", "clean" },
	{ PFI_LIT("SPAMMY"), 0, "spam", "spammy" },
	{ PFI_LIT("SPAM"), 0, "spam", "spam" },
	{ PFI_LIT("BANNED"), 0, "spam", "banned" },
	{ PFI_LIT("BAD-HEADER"), 1, "spam", "bad-header" },
	{ PFI_LIT("INFECTED"), 0, "virus", "infected" },
	{ NULL, 0, 0, NULL, NULL }
};

static const struct amavis_ccat *amavis_ccat(struct pfi_slice word)
{
	const struct amavis_ccat *k;

	for (k = amavis_ccats; k->word != NULL; k++)
		if (word.n == k->len ? memcmp(word.p, k->word, k->len) == 0
		                     : k->prefix && word.n > k->len &&
		                       memcmp(word.p, k->word, k->len) == 0 &&
		                       word.p[k->len] == '-')
			return k;
	return NULL;
}

/* ", NAME: VALUE" fields of the line: the value after the last
 * ", Queue-ID: " that the fixed fields after it follow, so an address or
 * Message-ID holding that text cannot pose as one. */
static struct pfi_slice amavis_field(struct pfi_scan all, const char *key,
                                     size_t klen, int (*ok)(char))
{
	struct pfi_slice none = { NULL, 0 }, v;
	const char *at;
	struct pfi_scan t;

	while ((at = pfi_scan_rfind(&all, key, klen)) != NULL) {
		t.p = at + klen;
		t.end = all.end;
		v = pfi_scan_span(&t, ok);
		if (v.n > 0 && pfi_scan_starts(&t, PFI_LIT(", ")))
			return v;
		all.end = at;
	}
	return none;
}

/* The queue ID: the first ", Queue-ID: " followed by the field amavis
 * writes next, so a Message-ID (which comes after it) that holds such
 * text cannot pose as it. */
static struct pfi_slice amavis_queue_id(struct pfi_scan all)
{
	static const char *const next[] = {
		", Message-ID: ", ", Resent-Message-ID: ", ", mail_id: ",
		", Hits: ", NULL
	};
	struct pfi_slice none = { NULL, 0 }, v;
	const char *at;
	size_t i;

	while ((at = pfi_scan_find(&all, PFI_LIT(", Queue-ID: "))) != NULL) {
		all.p = at + 12;
		v = pfi_scan_span(&all, pfi_is_alnum);
		for (i = 0; v.n > 0 && next[i] != NULL; i++)
			if (pfi_scan_starts(&all, next[i], strlen(next[i])))
				return v;
	}
	return none;
}

static int is_score_char(char c)
{
	return pfi_is_digit(c) || c == '.' || c == '-';
}

static enum pfi_verdict_line amavis(struct pfi_scan c, struct pfi_verdict_read *v)
{
	const struct amavis_ccat *k;
	struct pfi_slice word, hits, procid;
	struct pfi_scan all;

	/* "(01234-01) " or "(01234-01-2) " */
	if (pfi_scan_char(&c, '(') &&
	    (!pfi_scan_until(&c, ')', &procid) || !pfi_scan_skip(&c, PFI_LIT(") "))))
		return PFI_VL_NONE;
	if (!pfi_scan_skip(&c, PFI_LIT("Passed ")) &&
	    !pfi_scan_skip(&c, PFI_LIT("Blocked ")))
		return PFI_VL_NONE;
	all = c;
	if (!pfi_scan_word(&c, is_word_char, &word))
		return PFI_VL_UNREADABLE;
	k = amavis_ccat(word);
	if (k == NULL)
		return pfi_scan_starts(&c, PFI_LIT(" {")) || pfi_scan_peek(&c, ',') ||
		       pfi_scan_peek(&c, ' ') ? PFI_VL_NONE : PFI_VL_UNREADABLE;
	v->kind = k->kind;
	v->result = k->result;
	/* INFECTED goes first in amavis' order of categories: any other
	 * says the virus scanners found nothing. */
	v->virus_clean = strcmp(k->kind, "spam") == 0;
	if (pfi_scan_skip(&c, PFI_LIT(" ("))) {
		/* banned names or virus names, up to the ") {actions}" */
		const char *end = pfi_scan_find(&c, PFI_LIT(") {"));

		if (end == NULL)
			end = pfi_scan_find(&c, PFI_LIT("),"));
		if (end == NULL)
			return PFI_VL_UNREADABLE;
		v->detail = slice(c.p, (size_t)(end - c.p));
	}
	v->qid = amavis_queue_id(all);
	if (PFI_SLICE_PRESENT(v->qid) && !pfi_qid_shape(v->qid.p, v->qid.n))
		v->qid.p = NULL, v->qid.n = 0;
	hits = amavis_field(all, PFI_LIT(", Hits: "), is_score_char);
	if (PFI_SLICE_PRESENT(hits) && signed_decimal(hits, &v->score))
		v->has_score = 1;
	return PFI_VL_VERDICT;
}

/* ---- rspamd ----------------------------------------------------------- */

/* rspamd's actions, most severe first, as spam results: what it would
 * reject is spam, what it would mark (a header, the subject) or delay is
 * spammy, the rest clean. */
static const char *rspamd_result(struct pfi_slice action)
{
	if (slice_is(action, "reject"))
		return "spam";
	if (slice_is(action, "add header") || slice_is(action, "rewrite subject") ||
	    slice_is(action, "soft reject") || slice_is(action, "greylist"))
		return "spammy";
	if (slice_is(action, "no action"))
		return "clean";
	return NULL;
}

/* The task's summary ("rspamd_task_write_log: id: <MID>, qid: <QID>, ip:
 * IP, from: <S>, (default: F (no action): [0.50/15.00] [SYMBOLS]), len:
 * ..."), and the same from the milter proxy ("rspamd_protocol_http_reply"
 * is not a verdict line). */
static enum pfi_verdict_line rspamd(struct pfi_scan c, struct pfi_verdict_read *v)
{
	struct pfi_slice action, score;
	const char *at = pfi_scan_find(&c, PFI_LIT("rspamd_task_write_log: "));
	struct pfi_scan t;

	if (at == NULL)
		return PFI_VL_NONE;
	c.p = at;
	at = pfi_scan_find(&c, PFI_LIT(", (default: "));
	if (at == NULL)
		return PFI_VL_UNREADABLE;
	t.p = at + 12;
	t.end = c.end;
	/* T or F (is spam), S when a rule forced the action (GTUBE) */
	if (!pfi_scan_word(&t, pfi_is_alpha, &action) || action.n != 1 ||
	    !pfi_scan_skip(&t, PFI_LIT(" (")) || !pfi_scan_until(&t, ')', &action) ||
	    !pfi_scan_skip(&t, PFI_LIT("): [")) ||
	    !pfi_scan_word(&t, is_score_char, &score) ||
	    (v->result = rspamd_result(action)) == NULL)
		return PFI_VL_UNREADABLE;
	v->kind = "spam";
	v->detail = action;
	v->has_score = signed_decimal(score, &v->score);
	/* The qid: field comes before the verdict, after the Message-ID a
	 * client chose: the last one before "(default: " is the real one. */
	c.end = at;
	v->qid = amavis_field(c, PFI_LIT("qid: <"), pfi_is_alnum);
	if (!PFI_SLICE_PRESENT(v->qid)) {
		t = c;
		at = pfi_scan_rfind(&t, PFI_LIT("qid: <"));
		if (at != NULL) {
			t.p = at + 6;
			v->qid = pfi_scan_span(&t, pfi_is_alnum);
		}
	}
	if (PFI_SLICE_PRESENT(v->qid) && !pfi_qid_shape(v->qid.p, v->qid.n))
		v->qid.p = NULL, v->qid.n = 0;
	v->client_ip = value_after(c, PFI_LIT(", ip: "));
	return PFI_VL_VERDICT;
}

/* ---- clamav-milter ---------------------------------------------------- */

/* "Message QID from <S> to <R> with subject '...' message-id '...' date
 * '...' infected by NAME" (LogInfected Full), "Message from <S> to <R>
 * infected by NAME" (Basic), "Clean message QID from <S> ..." (LogClean
 * Full) and "Clean message from <S> to <R>" (Basic).  The virus name is
 * after the last " infected by ": the subject before it is the
 * client's. */
static enum pfi_verdict_line clamav_milter(struct pfi_scan c,
                                           struct pfi_verdict_read *v)
{
	struct pfi_scan t;
	const char *at;
	int clean = pfi_scan_skip(&c, PFI_LIT("Clean message "));

	if (!clean && !pfi_scan_skip(&c, PFI_LIT("Message ")))
		return PFI_VL_NONE;
	v->kind = "virus";
	if (!pfi_scan_starts(&c, PFI_LIT("from <"))) {
		t = c;
		if (!pfi_scan_word(&t, pfi_is_alnum, &v->qid) ||
		    !pfi_qid_shape(v->qid.p, v->qid.n) ||
		    !pfi_scan_skip(&t, PFI_LIT(" from <")))
			return PFI_VL_UNREADABLE;
		c = t;
	} else
		c.p += 6;
	if (clean) {
		v->result = "clean";
		return PFI_VL_VERDICT;
	}
	at = pfi_scan_rfind(&c, PFI_LIT(" infected by "));
	if (at == NULL)
		return PFI_VL_UNREADABLE;
	v->result = "infected";
	v->detail = slice(at + 13, (size_t)(c.end - at - 13));
	return PFI_VL_VERDICT;
}

/* ---- which program ---------------------------------------------------- */

struct verdict_program {
	const char *name;   /* last component of the syslog program */
	enum pfi_verdict_line (*read)(struct pfi_scan, struct pfi_verdict_read *);
};

static const struct verdict_program programs[] = {
	{ "opendkim", opendkim },
	{ "opendmarc", opendmarc },
	{ "policyd-spf", policyd_spf },
	{ "policy-spf", policy_spf_perl },
	{ "amavis", amavis },
	{ "amavisd", amavis },
	{ "rspamd", rspamd },
	{ "clamav-milter", clamav_milter },
	{ NULL, NULL }
};

int pfi_verdict_program(struct pfi_slice program)
{
	struct pfi_slice name = program_name(program);
	const struct verdict_program *vp;

	for (vp = programs; vp->name != NULL; vp++)
		if (slice_is(name, vp->name))
			return 1;
	return 0;
}

enum pfi_verdict_line pfi_verdict_parse(const struct pfi_envelope *env,
                                        struct pfi_verdict_read *v)
{
	struct pfi_slice name = program_name(env->program);
	const struct verdict_program *vp;
	enum pfi_verdict_line r;

	verdict_reset(v, env);
	if (env->program.p == NULL)
		return PFI_VL_OTHER;
	for (vp = programs; vp->name != NULL; vp++) {
		if (!slice_is(name, vp->name))
			continue;
		if (env->text.p == NULL)
			return PFI_VL_NONE;
		r = vp->read(pfi_scan_of(env->text.p, env->text.n), v);
		if (r == PFI_VL_UNREADABLE)
			verdict_reset(v, env);
		if (r == PFI_VL_VERDICT && v->virus_clean) {
			v[1] = v[0];
			v[1].kind = "virus";
			v[1].result = "clean";
			v[1].has_score = 0;
			v[0].nmore = 1;
		}
		return r;
	}
	return PFI_VL_OTHER;
}
