/*
 * correlate.c - from parsed Postfix events to messages and outcomes.
 *
 * Model (Postfix 3.x logging, see postconf(5) and the daemons' manuals):
 * - A message is keyed by (host, queue ID) and lives from the first line
 *   naming that ID until qmgr's or postsuper's "QID: removed".  Short queue
 *   IDs are reused, so a line after "removed" starts a new message.
 * - smtpd logs per process; a session (host, program, pid) runs from
 *   "connect from" to "disconnect from".  Its TLS line and its NOQUEUE
 *   filter/hold/discard actions come before the "QID: client=" line of the
 *   message they belong to, so the session keeps them until then.  A
 *   checkpoint hands live sessions to the sink, for the next run.
 * - Each recipient keeps its latest delivery attempt; "deferred" attempts
 *   are counted.  qmgr's "status=expired" is message-level: recipients
 *   still deferred then are expired.  postsuper -d deletes, -h holds.
 * - "queued as X", "forwarded as X" and bounce(8) notifications become
 *   links by queue ID; the store resolves them to messages (the child may
 *   be on another host, in a file indexed later).
 * Deliberate deviations:
 * - A message that smtpd created but cleanup never saw (client dropped,
 *   rejected at DATA) gets no "removed" line.  When its session ends it
 *   is marked an orphan, and a checkpoint closes orphans that stayed
 *   quiet for ORPHAN_QUIET of log time (cleanup's lines may still come
 *   after smtpd's disconnect, as syslog does not order processes).
 * - A message rejected by cleanup (header/body/milter reject) or smtpd
 *   (DATA, END-OF-MESSAGE) is closed and written at the reject line, but
 *   lingers for ORPHAN_QUIET of log time: syslog may deliver cleanup's
 *   lines for it after smtpd's reject, and they join it (and rewrite it)
 *   instead of opening a phantom.  A client= or pickup line for the same
 *   queue ID starts a new lifetime at once.
 * - "message repeated N times" lines are fed N times by the caller.
 * - Open state is bounded (pfi_corr_set_limits): a message no line has
 *   named for longer than Postfix's queue lifetime plus a margin cannot
 *   still be queued unless lines were lost, and is closed with its pending
 *   recipients "unknown"; past a cap on open messages, the longest silent
 *   are closed so.  Held messages wait for their release however long.
 *   Sessions are capped alike (the least recent are forgotten).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "correlate.h"
#include "hash.h"

/* How far a process's line may come before its session's latest line
 * (syslog delivers a little out of order) and still be of that session. */
#define SESSION_BACK_US INT64_C(60000000)

/* How long (microseconds of log time) an orphan waits for late lines. */
#define ORPHAN_QUIET (300 * INT64_C(1000000))
/* How long a session with no line is kept. */
#define SESSION_QUIET (86400 * INT64_C(1000000))

/* ---- small string helpers --------------------------------------------------- */

/* A C string as a slice (NULL: absent). */
static struct pfi_slice cstr_slice(const char *s)
{
	struct pfi_slice sl = { s, s ? strlen(s) : 0 };

	return sl;
}

/* Replaces *dst with a copy of the slice (absent leaves *dst alone). */
static int set_str(char **dst, struct pfi_slice s)
{
	char *p;

	if (!PFI_SLICE_PRESENT(s))
		return PFI_OK;
	p = pfi_slice_dup(s);
	if (p == NULL)
		return PFI_ENOMEM;
	free(*dst);
	*dst = p;
	return PFI_OK;
}

/* Sets *dst from the slice only when *dst is still unset. */
static int set_once(char **dst, struct pfi_slice s)
{
	return *dst ? PFI_OK : set_str(dst, s);
}

static int set_cstr(char **dst, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		return PFI_ENOMEM;
	free(*dst);
	*dst = p;
	return PFI_OK;
}

static int streq_slice(const char *s, struct pfi_slice sl)
{
	if (s == NULL || sl.p == NULL)
		return s == NULL && sl.p == NULL;
	return strlen(s) == sl.n && memcmp(s, sl.p, sl.n) == 0;
}

/* ---- messages ------------------------------------------------------------- */

struct pfi_msg *pfi_msg_new(int64_t id, const char *host, const char *qid)
{
	struct pfi_msg *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->id = id;
	m->size = -1;
	m->nrcpt = -1;
	m->host = strdup(host);
	m->qid = strdup(qid);
	if (m->host == NULL || m->qid == NULL) {
		pfi_msg_free(m);
		return NULL;
	}
	return m;
}

static void rcpt_release(struct pfi_rcpt *r)
{
	free(r->to);
	free(r->orig_to);
	free(r->status);
	free(r->dsn);
	free(r->relay);
	free(r->response);
	free(r->child_qid);
	free(r->stage);
	free(r->code);
	free(r->tls_protocol);
}

void pfi_msg_free(struct pfi_msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nrcpts; i++)
		rcpt_release(&m->rcpts[i]);
	for (i = 0; i < m->nlinks; i++) {
		free(m->links[i].qid);
		free(m->links[i].hint);
	}
	free(m->rcpts);
	free(m->links);
	free(m->lines);
	free(m->host);
	free(m->qid);
	free(m->message_id);
	free(m->sender);
	free(m->client);
	free(m->client_ip);
	free(m->sasl_method);
	free(m->sasl_username);
	free(m->subject);
	free(m->tls_protocol);
	free(m->tls_cipher);
	free(m->origin);
	free(m->orig_qid);
	free(m->cleanup_to);
	free(m);
}

struct pfi_rcpt *pfi_msg_add_rcpt(struct pfi_msg *m, const char *to,
                                  const char *orig_to)
{
	struct pfi_rcpt *r;

	if (pfi_array_reserve((void **)&m->rcpts, &m->rcap, m->nrcpts,
	                  sizeof(*r), 4) != PFI_OK)
		return NULL;
	r = &m->rcpts[m->nrcpts];
	memset(r, 0, sizeof(*r));
	r->delay = -1;
	r->delays[0] = r->delays[1] = r->delays[2] = r->delays[3] = -1;
	r->to = strdup(to);
	r->orig_to = orig_to ? strdup(orig_to) : NULL;
	if (r->to == NULL || (orig_to && r->orig_to == NULL)) {
		rcpt_release(r);
		return NULL;
	}
	m->nrcpts++;
	return r;
}

int pfi_msg_add_link(struct pfi_msg *m, const char *qid, const char *hint,
                     int relation, int64_t time, size_t rcpt)
{
	struct pfi_mlink *l;

	if (pfi_array_reserve((void **)&m->links, &m->lcap, m->nlinks, sizeof(*l),
	                  2) != PFI_OK)
		return PFI_ENOMEM;
	l = &m->links[m->nlinks];
	l->qid = strdup(qid);
	l->hint = hint ? strdup(hint) : NULL;
	if (l->qid == NULL || (hint && l->hint == NULL)) {
		free(l->qid);
		free(l->hint);
		return PFI_ENOMEM;
	}
	l->relation = relation;
	l->time = time;
	l->rcpt = rcpt;
	l->other = 0;
	m->nlinks++;
	return PFI_OK;
}

/* Lines mostly arrive in order; a session's lines reach the message
 * after its "QID: client=" line and go in their place. */
int pfi_msg_add_line(struct pfi_msg *m, int64_t line_id)
{
	size_t at = m->nlines;

	while (at > 0 && m->lines[at - 1] > line_id)
		at--;
	if (at > 0 && m->lines[at - 1] == line_id)
		return PFI_OK;
	if (pfi_array_reserve((void **)&m->lines, &m->lncap, m->nlines,
	                  sizeof(*m->lines), 8) != PFI_OK)
		return PFI_ENOMEM;
	memmove(m->lines + at + 1, m->lines + at,
	        (m->nlines - at) * sizeof(*m->lines));
	m->lines[at] = line_id;
	m->nlines++;
	return PFI_OK;
}

const char *pfi_rcpt_outcome(const struct pfi_msg *m, const struct pfi_rcpt *r,
                             int open)
{
	if (r->final && r->status)
		return r->filtered && strcmp(r->status, "sent") == 0 ? "filtered"
		                                                   : r->status;
	if (m->flags & PFI_MSG_DELETED)
		return "deleted";
	if (m->flags & PFI_MSG_EXPIRED)
		return "expired";
	if (m->flags & PFI_MSG_DISCARDED)
		return "discarded";
	if (m->flags & PFI_MSG_HELD)
		return "held";
	if (m->flags & PFI_MSG_REJECTED)
		return "rejected";
	if (!open && (m->flags & PFI_MSG_REQUEUED))
		return "filtered";
	if (m->flags & PFI_MSG_LOST)
		return "unknown";
	return "deferred";
}

/* ---- the correlator state ---------------------------------------------------- */

/* An smtpd process's session, from connect to disconnect (correlate.h,
 * struct pfi_session_rec, is what a checkpoint saves of it). */
struct session {
	char *key;                 /* host NUL program NUL pid */
	size_t keylen;
	long pid;
	char *client, *client_ip;
	char *tls_protocol, *tls_cipher;
	char *tls_relay;           /* smtp/lmtp: the peer TLS was set up with */
	char *last_qid;            /* the latest message of this session */
	int64_t last_id;
	struct pfi_pending *pend;  /* NOQUEUE actions seen before the ID */
	size_t npend;
	int64_t seen;              /* log time of its latest line */
	int64_t *lines;            /* lines waiting for a message */
	size_t nlines, lcap;
	struct pfi_hnode node;     /* in the correlator's table */
};

/* A verdict waiting for the message its client queues next (SPF). */
struct held_verdict {
	char *host, *client_ip, *program;
	char *reply;         /* the text a reject quotes, or NULL */
	char *qid;           /* logged before its message's first line: the
	                        message of this queue ID takes it; or NULL */
	int64_t time, line, id;
};

/* At most this many held at once: a flood of policy checks without a
 * message (rejected clients) drops the oldest. */
#define HELD_VERDICTS_MAX 4096

struct pfi_corr {
	struct pfi_sink sink;
	int64_t next_id;
	struct pfi_htab msgs;      /* open messages by (host, qid) */
	struct pfi_htab sessions;  /* processes' sessions by session_key() */
	int64_t latest;            /* latest log time fed */
	int64_t stale_after;       /* log time after which a silent message
	                              is lost; 0: never */
	size_t max_open;           /* cap on open messages; 0: none */
	struct pfi_corr_lost lost; /* what the limits closed so far */
	size_t nlinger;            /* of msgs, closed messages lingering */
	struct held_verdict *held; /* verdicts waiting for their message, */
	size_t nheld, heldcap;     /* oldest first */
};

int pfi_corr_new(struct pfi_corr **out, const struct pfi_sink *sink,
                 int64_t next_id)
{
	struct pfi_corr *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return PFI_ENOMEM;
	c->sink = *sink;
	c->next_id = next_id > 0 ? next_id : 1;
	if (pfi_htab_init(&c->msgs, 1024) != PFI_OK ||
	    pfi_htab_init(&c->sessions, 256) != PFI_OK) {
		pfi_corr_free(c);
		return PFI_ENOMEM;
	}
	*out = c;
	return PFI_OK;
}

size_t pfi_corr_open_count(const struct pfi_corr *c)
{
	return c->msgs.count - c->nlinger;
}

/* ---- the open-message table ------------------------------------------------------ */

/* The key of a message: (host, queue ID). */
struct msg_key {
	struct pfi_slice host, qid;
};

static uint64_t msg_hash(const struct msg_key *k)
{
	uint64_t h = pfi_hash_bytes(PFI_HASH_INIT, k->host.p, k->host.n);

	return pfi_hash_bytes(h ^ 0xff, k->qid.p, k->qid.n);
}

static struct pfi_msg *msg_of(const struct pfi_hnode *n)
{
	return PFI_HTAB_ENTRY(n, struct pfi_msg, node);
}

static int msg_eq(const struct pfi_hnode *n, const void *key)
{
	const struct msg_key *k = key;

	return streq_slice(msg_of(n)->host, k->host) &&
	       streq_slice(msg_of(n)->qid, k->qid);
}

static int msg_insert(struct pfi_corr *c, struct pfi_msg *m)
{
	struct msg_key k = { cstr_slice(m->host), cstr_slice(m->qid) };
	uint64_t h = msg_hash(&k);

	if (pfi_htab_reserve(&c->msgs) != PFI_OK)
		return PFI_ENOMEM;
	pfi_htab_link(&c->msgs, pfi_htab_find(&c->msgs, h, msg_eq, &k),
	              &m->node, h);
	return PFI_OK;
}

static struct pfi_msg *msg_find(struct pfi_corr *c, struct pfi_slice host,
                                struct pfi_slice qid)
{
	struct msg_key k = { host, qid };
	struct pfi_hnode *n = *pfi_htab_find(&c->msgs, msg_hash(&k), msg_eq, &k);

	return n ? msg_of(n) : NULL;
}

/* The open message (host, qid), created at `t` if there is none. */
static int held_by_qid(struct pfi_corr *c, struct pfi_msg *m);

static int msg_get(struct pfi_corr *c, const struct pfi_envelope *env,
                   struct pfi_slice qid, struct pfi_msg **out)
{
	struct pfi_msg *m = msg_find(c, env->host, qid);
	char host[256], id[PFI_QID_MAX + 1];

	if (m == NULL) {
		/* A key must survive as a C string: cut at a NUL, it would
		 * name another message than the one it was filed under. */
		if (env->host.n >= sizeof(host) || qid.n >= sizeof(id) ||
		    memchr(env->host.p, '\0', env->host.n) != NULL ||
		    memchr(qid.p, '\0', qid.n) != NULL)
			return PFI_EPARSE;
		memcpy(host, env->host.p, env->host.n);
		host[env->host.n] = '\0';
		memcpy(id, qid.p, qid.n);
		id[qid.n] = '\0';
		m = pfi_msg_new(c->next_id, host, id);
		if (m == NULL || msg_insert(c, m) != PFI_OK) {
			pfi_msg_free(m);
			return PFI_ENOMEM;
		}
		c->next_id++;
		m->first = env->time;
		m->received = env->time;
		if (c->nheld > 0 && held_by_qid(c, m) != PFI_OK)
			return PFI_ENOMEM;
	}
	m->last = env->time;
	m->flags |= PFI_MSG_DIRTY;
	*out = m;
	return PFI_OK;
}

/* Unlinks m itself from its hash chain.  By identity, not by key: two
 * entries with equal keys must never let the wrong one go. */
static void msg_unlink(struct pfi_corr *c, struct pfi_msg *m)
{
	if (pfi_htab_unlink(&c->msgs, &m->node))
		c->nlinger -= (m->flags & PFI_MSG_LINGER) != 0;
}

/* Hands a finished message to the sink and forgets it. */
static int msg_close(struct pfi_corr *c, struct pfi_msg *m)
{
	int rc;

	m->flags |= PFI_MSG_CLOSED;
	rc = c->sink.message(c->sink.ctx, m, 0);
	msg_unlink(c, m);
	pfi_msg_free(m);
	return rc;
}

/* Writes a message a reject or discard ended, and keeps it for late lines. */
static int msg_linger(struct pfi_corr *c, struct pfi_msg *m)
{
	int rc;

	m->flags |= PFI_MSG_CLOSED;
	rc = c->sink.message(c->sink.ctx, m, 0);
	m->flags &= ~(unsigned)PFI_MSG_DIRTY;
	if (!(m->flags & PFI_MSG_LINGER))
		c->nlinger++;
	m->flags |= PFI_MSG_STORED | PFI_MSG_LINGER;
	return rc;
}

/* Forgets a lingering message, written again if late lines changed it. */
static int msg_unlinger(struct pfi_corr *c, struct pfi_msg *m)
{
	int rc = PFI_OK;

	if (m->flags & PFI_MSG_DIRTY)
		rc = c->sink.message(c->sink.ctx, m, 0);
	msg_unlink(c, m);
	pfi_msg_free(m);
	return rc;
}

int pfi_corr_adopt(struct pfi_corr *c, struct pfi_msg *m)
{
	m->flags &= ~(unsigned)PFI_MSG_DIRTY;
	m->flags |= PFI_MSG_STORED;
	if (m->id >= c->next_id)
		c->next_id = m->id + 1;
	return msg_insert(c, m);
}


/* ---- sessions ----------------------------------------------------------------------- */

/* The key of a process's session: host NUL program NUL pid. */
static int session_key(struct pfi_slice host, struct pfi_slice program,
                       long pid, char *buf, size_t size, size_t *len)
{
	char *p = buf;

	if (host.n + program.n + 24 > size)
		return PFI_EPARSE;
	memcpy(p, host.p, host.n);
	p += host.n;
	*p++ = '\0';
	memcpy(p, program.p, program.n);
	p += program.n;
	*p++ = '\0';
	p += pfi_put_int(p, pid);
	*p = '\0';
	*len = (size_t)(p - buf);
	return PFI_OK;
}

static struct session *session_of(const struct pfi_hnode *n)
{
	return PFI_HTAB_ENTRY(n, struct session, node);
}

/* A session key and its length, as pfi_htab_find() compares it. */
struct session_key {
	const char *p;
	size_t len;
};

static int session_eq(const struct pfi_hnode *n, const void *key)
{
	const struct session *s = session_of(n);
	const struct session_key *k = key;

	return s->keylen == k->len && memcmp(s->key, k->p, k->len) == 0;
}

static void session_clear(struct session *s)
{
	size_t i;

	for (i = 0; i < s->npend; i++) {
		free(s->pend[i].action);
		free(s->pend[i].to);
	}
	free(s->pend);
	s->pend = NULL;
	s->npend = 0;
	free(s->client);
	free(s->client_ip);
	free(s->tls_protocol);
	free(s->tls_cipher);
	free(s->tls_relay);
	free(s->last_qid);
	s->client = s->client_ip = s->tls_protocol = s->tls_cipher = NULL;
	s->tls_relay = NULL;
	s->last_qid = NULL;
	s->last_id = 0;
	s->nlines = 0;
}

static void session_free(struct session *s)
{
	session_clear(s);
	free(s->lines);
	free(s->key);
	free(s);
}

/* The session of `key` (process `pid`); created when `create` is set. */
static int session_lookup(struct pfi_corr *c, const char *key, size_t len,
                          long pid, int create, struct session **out)
{
	struct session_key k = { key, len };
	uint64_t h = pfi_hash_bytes(PFI_HASH_INIT, key, len);
	struct pfi_hnode *n = *pfi_htab_find(&c->sessions, h, session_eq, &k);
	struct session *s;

	*out = n ? session_of(n) : NULL;
	if (n || !create)
		return PFI_OK;
	if (pfi_htab_reserve(&c->sessions) != PFI_OK)
		return PFI_ENOMEM;
	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->key = malloc(len)) == NULL) {
		free(s);
		return PFI_ENOMEM;
	}
	memcpy(s->key, key, len);
	s->keylen = len;
	s->pid = pid;
	pfi_htab_link(&c->sessions, pfi_htab_find(&c->sessions, h, session_eq, &k),
	              &s->node, h);
	*out = s;
	return PFI_OK;
}

/* The session of the line's process; created when `create` is set. */
static int session_get(struct pfi_corr *c, const struct pfi_envelope *env,
                       int create, struct session **out)
{
	char key[512];
	size_t len;
	int rc;

	*out = NULL;
	if (session_key(env->host, env->program, env->pid, key, sizeof(key),
	                &len) != PFI_OK)
		return PFI_OK;
	rc = session_lookup(c, key, len, env->pid, create, out);
	/* A session whose latest line is well after this one holds what
	 * later lines said (a run that read a later stretch of the log
	 * first): none of it is this line's. */
	if (*out && (*out)->seen - env->time > SESSION_BACK_US)
		session_clear(*out);
	if (*out)
		(*out)->seen = env->time;
	return rc;
}

static void session_remove(struct pfi_corr *c, struct session *s)
{
	pfi_htab_unlink(&c->sessions, &s->node);
	session_free(s);
}

static int session_add_line(struct session *s, int64_t line_id)
{
	if (pfi_array_reserve((void **)&s->lines, &s->lcap, s->nlines,
	                  sizeof(*s->lines), 4) != PFI_OK)
		return PFI_ENOMEM;
	s->lines[s->nlines++] = line_id;
	return PFI_OK;
}

static int session_add_pending(struct session *s, struct pfi_slice action,
                               struct pfi_slice to)
{
	struct pfi_pending *p = realloc(s->pend, (s->npend + 1) * sizeof(*p));

	if (p == NULL)
		return PFI_ENOMEM;
	s->pend = p;
	p = &s->pend[s->npend];
	p->action = pfi_slice_dup(action);
	p->to = pfi_slice_dup(to);
	if (p->action == NULL || (to.p && p->to == NULL)) {
		free(p->action);
		free(p->to);
		return PFI_ENOMEM;
	}
	s->npend++;
	return PFI_OK;
}

/* What a checkpoint saves of a session (pointers into it). */
static void session_record(const struct session *s, struct pfi_session_rec *r)
{
	r->host = s->key;
	r->program = s->key + strlen(s->key) + 1;
	r->pid = s->pid;
	r->seen = s->seen;
	r->client = s->client;
	r->client_ip = s->client_ip;
	r->tls_protocol = s->tls_protocol;
	r->tls_cipher = s->tls_cipher;
	r->tls_relay = s->tls_relay;
	r->last_qid = s->last_qid;
	r->last_id = s->last_id;
	r->pend = s->pend;
	r->npend = s->npend;
	r->lines = s->lines;
	r->nlines = s->nlines;
}

/* Copies a string that may be absent (NULL stays NULL). */
static int copy_opt(char **dst, const char *s)
{
	return s ? set_cstr(dst, s) : PFI_OK;
}

static int session_restore_strings(struct session *s,
                                   const struct pfi_session_rec *r)
{
	int rc = copy_opt(&s->client, r->client);

	if (rc == PFI_OK)
		rc = copy_opt(&s->client_ip, r->client_ip);
	if (rc == PFI_OK)
		rc = copy_opt(&s->tls_protocol, r->tls_protocol);
	if (rc == PFI_OK)
		rc = copy_opt(&s->tls_cipher, r->tls_cipher);
	if (rc == PFI_OK)
		rc = copy_opt(&s->tls_relay, r->tls_relay);
	if (rc == PFI_OK)
		rc = copy_opt(&s->last_qid, r->last_qid);
	return rc;
}

int pfi_corr_restore_session(struct pfi_corr *c,
                             const struct pfi_session_rec *r)
{
	char key[512];
	size_t i, len;
	struct session *s;
	int rc;

	/* A key this build cannot hold is not one its checkpoint saved. */
	if (r->host == NULL || r->program == NULL ||
	    session_key(cstr_slice(r->host), cstr_slice(r->program), r->pid, key,
	                sizeof(key), &len) != PFI_OK)
		return PFI_OK;
	rc = session_lookup(c, key, len, r->pid, 1, &s);
	if (rc != PFI_OK)
		return rc;
	session_clear(s);
	s->seen = r->seen;
	s->last_id = r->last_id;
	rc = session_restore_strings(s, r);
	for (i = 0; i < r->npend && rc == PFI_OK; i++)
		if (r->pend[i].action)
			rc = session_add_pending(s, cstr_slice(r->pend[i].action),
			                         cstr_slice(r->pend[i].to));
	for (i = 0; i < r->nlines && rc == PFI_OK; i++)
		rc = session_add_line(s, r->lines[i]);
	return rc;
}

/* ---- recipients ---------------------------------------------------------------------- */

static int rcpt_match(const struct pfi_rcpt *r, struct pfi_slice to,
                      struct pfi_slice orig_to)
{
	if (!streq_slice(r->to, to))
		return 0;
	if (!orig_to.p || !r->orig_to)
		return 1;
	return streq_slice(r->orig_to, orig_to);
}

/* The message's first recipient `to`, or NULL. */
static struct pfi_rcpt *rcpt_find(struct pfi_msg *m, struct pfi_slice to)
{
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (streq_slice(m->rcpts[i].to, to))
			return &m->rcpts[i];
	return NULL;
}

/* The message's recipient `to` (with orig_to), added if new. */
static struct pfi_rcpt *rcpt_get(struct pfi_msg *m, struct pfi_slice to,
                                 struct pfi_slice orig_to)
{
	char *t, *o;
	struct pfi_rcpt *r;
	size_t i;

	for (i = 0; i < m->nrcpts; i++)
		if (rcpt_match(&m->rcpts[i], to, orig_to)) {
			r = &m->rcpts[i];
			if (orig_to.p && !r->orig_to)
				r->orig_to = pfi_slice_dup(orig_to);
			return r;
		}
	t = to.p ? pfi_slice_dup(to) : strdup("");
	o = pfi_slice_dup(orig_to);
	r = (t && (o || !orig_to.p)) ? pfi_msg_add_rcpt(m, t, o) : NULL;
	free(t);
	free(o);
	return r;
}

/* Sets a recipient's outcome to `status`, final unless deferred. */
static int rcpt_set_status(struct pfi_rcpt *r, const char *status, int64_t t)
{
	if (r->final && strcmp(status, "deferred") == 0)
		return PFI_OK;
	r->final = strcmp(status, "deferred") != 0;
	r->time = t;
	return set_cstr(&r->status, status);
}

/* ---- event handlers ------------------------------------------------------------------------ */

struct feed {
	struct pfi_corr *c;
	const struct pfi_envelope *env;
	const struct pfi_event *ev;
	int64_t line_id;
	int64_t owner;       /* out: the message the line belongs to */
};

/* The line being fed belongs to message m (which a checkpoint must write
 * again: a session's disconnect may be all that a run adds to it). */
static int own(struct feed *f, struct pfi_msg *m)
{
	f->owner = m->id;
	m->flags |= PFI_MSG_DIRTY;
	return pfi_msg_add_line(m, f->line_id);
}

static int apply_pending(struct pfi_msg *m, struct session *s, int64_t t)
{
	size_t i;

	for (i = 0; i < s->npend; i++) {
		struct pfi_pending *p = &s->pend[i];
		struct pfi_slice to = cstr_slice(p->to);
		struct pfi_slice none = { NULL, 0 };
		struct pfi_rcpt *r;

		if (strcmp(p->action, "hold") == 0)
			m->flags |= PFI_MSG_HELD;
		else if (strcmp(p->action, "discard") == 0)
			m->flags |= PFI_MSG_DISCARDED;
		else
			continue;
		if (p->to && (r = rcpt_get(m, to, none)) == NULL)
			return PFI_ENOMEM;
	}
	for (i = 0; i < s->npend; i++) {
		free(s->pend[i].action);
		free(s->pend[i].to);
	}
	s->npend = 0;
	(void)t;
	return PFI_OK;
}

/* A message smtpd started but cleanup never saw may be over: mark it. */
static void mark_if_orphan(struct pfi_corr *c, struct session *s,
                           struct pfi_slice host)
{
	struct pfi_msg *m;

	if (s->last_qid == NULL)
		return;
	m = msg_find(c, host, cstr_slice(s->last_qid));
	if (m != NULL && m->id == s->last_id)
		m->flags |= PFI_MSG_ORPHAN | PFI_MSG_DIRTY;
}

/* An orphan nobody wrote about for a while is closed as rejected. */
static int is_stale_orphan(const struct pfi_corr *c, const struct pfi_msg *m)
{
	if (!(m->flags & PFI_MSG_ORPHAN))
		return 0;
	if (m->flags & (PFI_MSG_CLEANUP | PFI_MSG_QUEUED | PFI_MSG_HELD |
	                PFI_MSG_DISCARDED))
		return 0;
	return m->last + ORPHAN_QUIET < c->latest;
}

/* Forgets the sessions whose latest line is older than t. */
static void forget_sessions_before(struct pfi_corr *c, int64_t t)
{
	struct pfi_hnode *n, *next;

	for (n = pfi_htab_first(&c->sessions); n != NULL; n = next) {
		next = pfi_htab_next(&c->sessions, n);
		if (session_of(n)->seen < t)
			session_remove(c, session_of(n));
	}
}

static int by_time_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x > y ? -1 : x < y;
}

/* The time of the max_open-th most recent session: those older go. */
static int64_t session_cutoff(const struct pfi_corr *c)
{
	const struct pfi_hnode *s;
	int64_t *seen, t = INT64_MIN;
	size_t n = 0;

	if ((seen = malloc(c->sessions.count * sizeof(*seen))) == NULL)
		return t;   /* keep them all rather than fail the run */
	for (s = pfi_htab_first(&c->sessions); s != NULL;
	     s = pfi_htab_next(&c->sessions, s))
		seen[n++] = session_of(s)->seen;
	qsort(seen, n, sizeof(*seen), by_time_desc);
	t = seen[c->max_open - 1];
	free(seen);
	return t;
}

/* Forgets sessions quiet for a day of log time: a process that logged no
 * disconnect (smtp clients never do) must not hold memory forever; past
 * the cap on open state, the least recent go too. */
static void sweep_sessions(struct pfi_corr *c)
{
	forget_sessions_before(c, c->latest - SESSION_QUIET);
	if (c->max_open > 0 && c->sessions.count > c->max_open)
		forget_sessions_before(c, session_cutoff(c));
}

/* Silent for longer than any message can stay queued, and not on hold. */
static int is_lost(const struct pfi_corr *c, const struct pfi_msg *m)
{
	return c->stale_after > 0 && !(m->flags & PFI_MSG_HELD) &&
	       m->last + c->stale_after < c->latest;
}

static int close_lost(struct pfi_corr *c, struct pfi_msg *m)
{
	m->flags |= PFI_MSG_LOST;
	return msg_close(c, m);
}

static int by_last_seen(const void *a, const void *b)
{
	const struct pfi_msg *x = *(struct pfi_msg *const *)a;
	const struct pfi_msg *y = *(struct pfi_msg *const *)b;

	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Past the cap, closes the open messages silent the longest. */
static int enforce_cap(struct pfi_corr *c)
{
	struct pfi_msg **v;
	struct pfi_hnode *m;
	size_t i, n = 0, over;
	int rc = PFI_OK;

	if (c->max_open == 0 || pfi_corr_open_count(c) <= c->max_open)
		return PFI_OK;
	over = pfi_corr_open_count(c) - c->max_open;
	if ((v = malloc(c->msgs.count * sizeof(*v))) == NULL)
		return PFI_ENOMEM;
	for (m = pfi_htab_first(&c->msgs); m != NULL;
	     m = pfi_htab_next(&c->msgs, m))
		if (!(msg_of(m)->flags & PFI_MSG_LINGER))
			v[n++] = msg_of(m);
	qsort(v, n, sizeof(*v), by_last_seen);
	for (i = 0; i < over && rc == PFI_OK; i++)
		rc = close_lost(c, v[i]);
	c->lost.capped += i;
	free(v);
	return rc;
}

int pfi_corr_sweep(struct pfi_corr *c)
{
	struct pfi_hnode *n, *next;
	int rc = PFI_OK;

	for (n = pfi_htab_first(&c->msgs); n != NULL && rc == PFI_OK; n = next) {
		struct pfi_msg *m = msg_of(n);

		next = pfi_htab_next(&c->msgs, n);
		if (m->flags & PFI_MSG_LINGER) {
			if (m->last + ORPHAN_QUIET < c->latest)
				rc = msg_unlinger(c, m);
		} else if (is_stale_orphan(c, m)) {
			m->flags |= PFI_MSG_REJECTED;
			rc = msg_close(c, m);
		} else if (is_lost(c, m)) {
			c->lost.stale++;
			rc = close_lost(c, m);
		}
	}
	if (rc == PFI_OK)
		rc = enforce_cap(c);
	sweep_sessions(c);
	return rc;
}

int pfi_corr_advance(struct pfi_corr *c, int64_t time)
{
	if (time <= c->latest)
		return PFI_OK;
	c->latest = time;
	return pfi_corr_sweep(c);
}

void pfi_corr_set_limits(struct pfi_corr *c, int64_t stale_after,
                         size_t max_open)
{
	c->stale_after = stale_after;
	c->max_open = max_open;
}

struct pfi_corr_lost pfi_corr_lost(const struct pfi_corr *c)
{
	return c->lost;
}

/* Hands the live sessions to the sink, for the next run to restore. */
static int save_sessions(struct pfi_corr *c)
{
	struct pfi_session_rec rec;
	const struct pfi_hnode *n;
	int rc = PFI_OK;

	if (c->sink.session == NULL)
		return PFI_OK;
	for (n = pfi_htab_first(&c->sessions); n != NULL && rc == PFI_OK;
	     n = pfi_htab_next(&c->sessions, n)) {
		session_record(session_of(n), &rec);
		rc = c->sink.session(c->sink.ctx, &rec);
	}
	return rc;
}

int pfi_corr_checkpoint(struct pfi_corr *c)
{
	struct pfi_hnode *n;
	int rc = pfi_corr_sweep(c);

	for (n = pfi_htab_first(&c->msgs); n != NULL && rc == PFI_OK;
	     n = pfi_htab_next(&c->msgs, n)) {
		struct pfi_msg *m = msg_of(n);

		/* Unchanged open messages are stored already; a lingering
		 * one is closed. */
		if (!(m->flags & PFI_MSG_DIRTY))
			continue;
		rc = c->sink.message(c->sink.ctx, m, !(m->flags & PFI_MSG_LINGER));
		m->flags &= ~(unsigned)PFI_MSG_DIRTY;
		m->flags |= PFI_MSG_STORED;
	}
	return rc == PFI_OK ? save_sessions(c) : rc;
}

static int reject_rcpts(struct feed *f, struct pfi_msg *m);

static int on_connect(struct feed *f)
{
	struct session *s;
	int rc = session_get(f->c, f->env, 1, &s);

	if (rc != PFI_OK || s == NULL)
		return rc;
	mark_if_orphan(f->c, s, f->env->host);
	session_clear(s);
	rc = set_str(&s->client, f->ev->client_name);
	if (rc == PFI_OK)
		rc = set_str(&s->client_ip, f->ev->client_ip);
	return rc == PFI_OK ? session_add_line(s, f->line_id) : rc;
}

static int on_tls_in(struct feed *f)
{
	struct session *s;
	int rc = session_get(f->c, f->env, 1, &s);

	if (rc != PFI_OK || s == NULL)
		return rc;
	rc = set_str(&s->tls_protocol, f->ev->tls_protocol);
	if (rc == PFI_OK)
		rc = set_str(&s->tls_cipher, f->ev->tls_cipher);
	return rc == PFI_OK ? session_add_line(s, f->line_id) : rc;
}

/* A disconnect line belongs to the session's last message, open or not. */
static int disconnect_owner(struct feed *f, struct session *s)
{
	struct pfi_slice qid;
	struct pfi_msg *m;

	if (s->last_qid == NULL)
		return PFI_OK;   /* a session that queued nothing */
	qid.p = s->last_qid;
	qid.n = strlen(s->last_qid);
	m = msg_find(f->c, f->env->host, qid);
	if (m != NULL && m->id == s->last_id)
		return own(f, m);
	f->owner = s->last_id;
	return f->c->sink.late_line(f->c->sink.ctx, f->line_id, s->last_id);
}

/* smtp/lmtp set up TLS with a peer: its deliveries to that relay use it
 * (a cached connection keeps it; another peer starts a new connection). */
static int on_tls_out(struct feed *f)
{
	struct session *s;
	int rc = session_get(f->c, f->env, 1, &s);

	if (rc != PFI_OK || s == NULL)
		return rc;
	rc = set_str(&s->tls_relay, f->ev->relay);
	if (rc == PFI_OK)
		rc = set_str(&s->tls_protocol, f->ev->tls_protocol);
	return rc == PFI_OK ? session_add_line(s, f->line_id) : rc;
}

/* The TLS protocol of the connection a delivery line was made over. */
static int delivery_tls(struct feed *f, struct pfi_rcpt *r)
{
	struct session *s;
	int rc = session_get(f->c, f->env, 0, &s);

	free(r->tls_protocol);
	r->tls_protocol = NULL;
	if (rc != PFI_OK || s == NULL || s->tls_relay == NULL ||
	    !streq_slice(s->tls_relay, f->ev->relay) || s->tls_protocol == NULL)
		return rc;
	r->tls_protocol = strdup(s->tls_protocol);
	return r->tls_protocol ? PFI_OK : PFI_ENOMEM;
}

/* smtp/lmtp: a line about the connection of the delivery under way, or
 * its TLS: it waits in the process's session for the line that names the
 * message (take_attempt_lines). */
static int on_attempt_line(struct feed *f)
{
	struct session *s;
	int rc = session_get(f->c, f->env, 1, &s);

	if (rc != PFI_OK || s == NULL)
		return rc;
	return session_add_line(s, f->line_id);
}

/* The lines the delivering process logged before naming message m. */
static int take_attempt_lines(struct feed *f, struct pfi_msg *m)
{
	struct session *s;
	size_t i;
	int rc = session_get(f->c, f->env, 0, &s);

	if (rc != PFI_OK || s == NULL)
		return rc;
	for (i = 0; i < s->nlines && rc == PFI_OK; i++)
		rc = pfi_msg_add_line(m, s->lines[i]);
	s->nlines = 0;
	return rc;
}

static int on_disconnect(struct feed *f)
{
	struct session *s;
	int rc = session_get(f->c, f->env, 0, &s);

	if (rc != PFI_OK || s == NULL)
		return rc;
	rc = disconnect_owner(f, s);
	mark_if_orphan(f->c, s, f->env->host);
	session_remove(f->c, s);
	return rc;
}

/*
 * smtpd lost its client (or timed out) after DATA or BDAT: the message the
 * client was sending is abandoned; cleanup drops its queue file and no
 * line says so.  Its recipients are rejected at DATA with smtpd's words
 * as the reason (no reply code: the client got none).  After other
 * commands nothing was queued, and the line is noise.
 */
static int on_client_lost(struct feed *f)
{
	struct pfi_event ev = *f->ev;
	struct session *s;
	struct pfi_msg *m;
	struct feed lost = *f;
	int rc = session_get(f->c, f->env, 0, &s);

	if (rc != PFI_OK || s == NULL || s->last_qid == NULL ||
	    !(pfi_slice_eq(ev.stage, "DATA") || pfi_slice_eq(ev.stage, "BDAT")))
		return rc;
	m = msg_find(f->c, f->env->host, cstr_slice(s->last_qid));
	if (m == NULL || m->id != s->last_id ||
	    (m->flags & (PFI_MSG_QUEUED | PFI_MSG_LINGER | PFI_MSG_CLOSED)))
		return PFI_OK;
	if ((rc = own(f, m)) != PFI_OK)
		return rc;
	ev.action = cstr_slice("reject");
	ev.stage = cstr_slice("DATA");
	lost.ev = &ev;
	return reject_rcpts(&lost, m);
}

/* Gives the session's waiting lines and TLS state to its new message. */
static int session_adopt(struct pfi_corr *c, struct session *s, struct pfi_msg *m)
{
	size_t i;
	int rc = PFI_OK;

	for (i = 0; i < s->nlines && rc == PFI_OK; i++)
		rc = pfi_msg_add_line(m, s->lines[i]);
	s->nlines = 0;
	if (rc == PFI_OK && s->tls_protocol && !m->tls_protocol)
		rc = set_cstr(&m->tls_protocol, s->tls_protocol);
	if (rc == PFI_OK && s->tls_cipher && !m->tls_cipher)
		rc = set_cstr(&m->tls_cipher, s->tls_cipher);
	if (rc == PFI_OK)
		rc = set_cstr(&s->last_qid, m->qid);
	s->last_id = m->id;
	return rc;
}

/* ---- verdicts held for the next message of a client -------------------- */

static void held_drop(struct pfi_corr *c, size_t i)
{
	struct held_verdict *h = &c->held[i];

	free(h->host);
	free(h->client_ip);
	free(h->program);
	free(h->reply);
	free(h->qid);
	memmove(h, h + 1, (c->nheld - i - 1) * sizeof(*h));
	c->nheld--;
}

/* Forgets held verdicts older than the hold allows at log time `now`. */
static void held_expire(struct pfi_corr *c, int64_t now)
{
	size_t n = 0, i;

	while (n < c->nheld && c->held[n].time < now - PFI_VERDICT_HOLD_US)
		n++;
	if (n == 0)
		return;   /* c->held may be NULL: memmove must not see it */
	for (i = 0; i < n; i++) {
		free(c->held[i].host);
		free(c->held[i].client_ip);
		free(c->held[i].program);
		free(c->held[i].reply);
		free(c->held[i].qid);
	}
	memmove(c->held, c->held + n, (c->nheld - n) * sizeof(*c->held));
	c->nheld -= n;
}

int pfi_corr_hold_verdict(struct pfi_corr *c, const char *host,
                          const char *qid, const char *client_ip,
                          const char *program, const char *reply,
                          int64_t time, int64_t line_id, int64_t verdict_id)
{
	struct held_verdict h;

	held_expire(c, time);
	if (c->nheld == HELD_VERDICTS_MAX)
		held_drop(c, 0);
	if (pfi_array_reserve((void **)&c->held, &c->heldcap, c->nheld,
	                      sizeof(*c->held), 16) != PFI_OK)
		return PFI_ENOMEM;
	h.host = strdup(host);
	h.client_ip = strdup(client_ip);
	h.program = strdup(program);
	h.reply = reply ? strdup(reply) : NULL;
	h.qid = qid ? strdup(qid) : NULL;
	h.time = time;
	h.line = line_id;
	h.id = verdict_id;
	if (h.host == NULL || h.client_ip == NULL || h.program == NULL ||
	    (reply && h.reply == NULL) || (qid && h.qid == NULL)) {
		free(h.host);
		free(h.client_ip);
		free(h.program);
		free(h.reply);
		free(h.qid);
		return PFI_ENOMEM;
	}
	c->held[c->nheld++] = h;
	return PFI_OK;
}

/* A new message takes the verdicts logged about its queue ID on its host
 * before its first line (syslog does not keep the order of lines of
 * different programs). */
static int held_by_qid(struct pfi_corr *c, struct pfi_msg *m)
{
	size_t i = 0;
	int rc = PFI_OK;

	while (i < c->nheld && rc == PFI_OK) {
		struct held_verdict *h = &c->held[i];

		if (h->qid == NULL || strcmp(h->qid, m->qid) != 0 ||
		    strcmp(h->host, m->host) != 0) {
			i++;
			continue;
		}
		rc = pfi_msg_add_line(m, h->line);
		if (rc == PFI_OK && c->sink.verdict_joined)
			rc = c->sink.verdict_joined(c->sink.ctx, h->id, m->id);
		held_drop(c, i);
	}
	return rc;
}

/* A held check is the client's (by address), or, naming none, the one
 * whose reply this reject quotes. */
static int held_matches(const struct held_verdict *h, const char *client_ip,
                        struct pfi_slice reason,
                        const struct pfi_envelope *env)
{
	if (h->qid != NULL || !pfi_slice_eq(env->host, h->host) ||
	    h->time > env->time)
		return 0;
	if (h->client_ip[0] != '\0')
		return client_ip != NULL && strcmp(h->client_ip, client_ip) == 0;
	return h->reply != NULL && reason.p != NULL && h->reply[0] != '\0' &&
	       memmem(reason.p, reason.n, h->reply, strlen(h->reply)) != NULL;
}

/* What a client's next message or NOQUEUE reject takes: of each program,
 * the oldest verdict held for the client (the check of its own first
 * recipient; later checks are for what follows).  With m, the verdicts'
 * lines join m; without, they led to the reject on this line. */
#define CLAIM_MAX 8
static int claim_held(struct feed *f, const char *client_ip,
                      struct pfi_slice reason, struct pfi_msg *m)
{
	struct pfi_corr *c = f->c;
	size_t pick[CLAIM_MAX], n = 0, i, k;
	int rc = PFI_OK, seen;

	held_expire(c, f->env->time);
	for (i = 0; i < c->nheld && n < CLAIM_MAX; i++) {
		if (!held_matches(&c->held[i], client_ip, reason, f->env))
			continue;
		for (seen = 0, k = 0; k < n && !seen; k++)
			seen = strcmp(c->held[pick[k]].program, c->held[i].program) == 0;
		if (!seen)
			pick[n++] = i;
	}
	while (n-- > 0 && rc == PFI_OK) {   /* from the back: indices hold */
		struct held_verdict *h = &c->held[pick[n]];

		if (m != NULL) {
			rc = pfi_msg_add_line(m, h->line);
			if (rc == PFI_OK && c->sink.verdict_joined)
				rc = c->sink.verdict_joined(c->sink.ctx, h->id, m->id);
		} else if (c->sink.verdict_rejected)
			rc = c->sink.verdict_rejected(c->sink.ctx, h->id, f->line_id);
		held_drop(c, pick[n]);
	}
	return rc;
}

static int on_client(struct feed *f, struct pfi_msg *m)
{
	const struct pfi_event *ev = f->ev;
	struct session *s;
	int rc;

	m->received = f->env->time;
	rc = set_str(&m->client, ev->client_name);
	if (rc == PFI_OK)
		rc = set_str(&m->client_ip, ev->client_ip);
	if (rc == PFI_OK)
		rc = set_str(&m->sasl_method, ev->sasl_method);
	if (rc == PFI_OK)
		rc = set_str(&m->sasl_username, ev->sasl_username);
	if (rc == PFI_OK)
		rc = set_str(&m->orig_qid, ev->orig_queue_id);
	if (rc == PFI_OK && !m->origin)
		rc = set_cstr(&m->origin, "smtpd");
	if (rc != PFI_OK)
		return rc;
	rc = session_get(f->c, f->env, 1, &s);
	if (rc != PFI_OK || s == NULL)
		return rc;
	if (s->last_id != m->id) {
		mark_if_orphan(f->c, s, f->env->host);
		rc = session_adopt(f->c, s, m);
	}
	if (rc == PFI_OK)
		rc = apply_pending(m, s, f->env->time);
	if (rc == PFI_OK)
		rc = claim_held(f, m->client_ip, (struct pfi_slice){ NULL, 0 }, m);
	if (rc == PFI_OK && (m->flags & PFI_MSG_DISCARDED))
		rc = msg_linger(f->c, m);
	return rc;
}

/* The other side of m's newest link when it is open on this host (not m
 * itself): the link is resolved to it at once. */
static struct pfi_msg *link_to_open(struct feed *f, struct pfi_msg *m)
{
	struct pfi_mlink *l = &m->links[m->nlinks - 1];
	struct pfi_msg *o = msg_find(f->c, f->env->host, cstr_slice(l->qid));

	if (o == NULL || o == m)
		return NULL;
	l->other = o->id;
	return o;
}

/*
 * pickup's orig_id= names the message that postsuper -r requeued: its
 * queue file went back through the maildrop and continues as m.  A
 * requeue is a hop, like a content filter's: when the old message is
 * open here, m becomes its child at once and the old lifetime ends now
 * (Postfix logs no "removed" for it), so its pending recipients are
 * "filtered" and m carries their outcome.  The orig_id line alone is
 * enough: a missing postsuper line does not keep the old message open.
 * Otherwise pfi_store_resolve_links finds the old message.
 */
/* The pending recipients of a message postsuper -r requeued go on in its
 * copy: they say so, with its queue ID, instead of their last deferral
 * (links.c does the same for a copy indexed before its original). */
static int requeued_rcpts(struct pfi_msg *o, const char *copy)
{
	static const char as[] = "requeued as ";
	size_t i, n = strlen(copy);

	for (i = 0; i < o->nrcpts; i++) {
		struct pfi_rcpt *r = &o->rcpts[i];
		char *resp, *child;

		if (r->final)
			continue;
		resp = malloc(sizeof(as) + n);
		child = strdup(copy);
		if (resp == NULL || child == NULL) {
			free(resp);
			free(child);
			return PFI_ENOMEM;
		}
		memcpy(resp, as, sizeof(as) - 1);
		memcpy(resp + sizeof(as) - 1, copy, n + 1);
		free(r->response);
		free(r->child_qid);
		free(r->dsn);
		r->response = resp;
		r->child_qid = child;
		r->dsn = NULL;
	}
	return PFI_OK;
}

static int requeue_hop(struct feed *f, struct pfi_msg *m)
{
	struct pfi_msg *o = link_to_open(f, m);
	int rc;

	if (o == NULL)
		return PFI_OK;
	if (m->parent == 0) {
		m->parent = o->id;
		m->parent_rel = PFI_REL_REQUEUE;
		m->flags |= PFI_MSG_DIRTY;
	}
	/* Requeued from the hold queue, it is no longer held. */
	o->flags |= PFI_MSG_REQUEUED;
	o->flags &= ~(unsigned)PFI_MSG_HELD;
	rc = requeued_rcpts(o, m->qid);
	return rc == PFI_OK ? msg_close(f->c, o) : rc;
}

static int on_pickup(struct feed *f, struct pfi_msg *m)
{
	int rc;

	m->received = f->env->time;
	rc = set_str(&m->sender, f->ev->from);
	if (rc == PFI_OK)
		rc = set_str(&m->orig_qid, f->ev->orig_queue_id);
	if (rc == PFI_OK)
		rc = set_cstr(&m->origin, "pickup");
	if (rc == PFI_OK && f->ev->orig_queue_id.p)
		rc = pfi_msg_add_link(m, m->orig_qid, NULL, PFI_REL_REQUEUE,
		                      f->env->time, SIZE_MAX);
	if (rc == PFI_OK && f->ev->orig_queue_id.p)
		rc = requeue_hop(f, m);
	return rc;
}

/* A message rejected before any line named a recipient has one record
 * without an address; the first recipient cleanup names is its address. */
static int name_unnamed_rcpt(struct pfi_msg *m, struct pfi_slice to)
{
	size_t i;
	char *t;

	if (!to.p || to.n == 0 || rcpt_find(m, to) != NULL)
		return PFI_OK;
	for (i = 0; i < m->nrcpts; i++) {
		if (m->rcpts[i].to[0] != '\0')
			continue;
		if ((t = pfi_slice_dup(to)) == NULL)
			return PFI_ENOMEM;
		free(m->rcpts[i].to);
		m->rcpts[i].to = t;
		return PFI_OK;
	}
	return PFI_OK;
}

/* header_checks / body_checks actions in cleanup. */
static int on_header(struct feed *f, struct pfi_msg *m)
{
	const struct pfi_event *ev = f->ev;
	struct pfi_rcpt *r;
	int rc = PFI_OK;

	m->flags |= PFI_MSG_CLEANUP;
	/* The envelope sender, for a message qmgr may never name. */
	if (set_str(&m->cleanup_to, ev->to) != PFI_OK ||
	    set_once(&m->sender, ev->from) != PFI_OK ||
	    name_unnamed_rcpt(m, ev->to) != PFI_OK)
		return PFI_ENOMEM;
	if (ev->header_name.p && ev->header_name.n == 7 &&
	    strncasecmp(ev->header_name.p, "Subject", 7) == 0)
		rc = set_once(&m->subject, ev->header_value);
	if (rc != PFI_OK || !ev->action.p)
		return rc;
	if (pfi_slice_eq(ev->action, "hold")) {
		m->flags |= PFI_MSG_HELD;
	} else if (pfi_slice_eq(ev->action, "discard")) {
		m->flags |= PFI_MSG_DISCARDED;
	} else if (pfi_slice_eq(ev->action, "reject")) {
		m->flags |= PFI_MSG_REJECTED;
	} else {
		return PFI_OK;
	}
	if (ev->to.p && (r = rcpt_get(m, ev->to, ev->orig_to)) == NULL)
		return PFI_ENOMEM;
	if (m->flags & PFI_MSG_REJECTED) {
		size_t i;
		for (i = 0; i < m->nrcpts && rc == PFI_OK; i++) {
			r = &m->rcpts[i];
			rc = rcpt_set_status(r, "rejected", f->env->time);
			if (rc == PFI_OK)
				rc = set_str(&r->dsn, ev->dsn);
			if (rc == PFI_OK)
				rc = set_str(&r->response, ev->reason);
			if (rc == PFI_OK)
				rc = set_str(&r->stage, ev->stage);
		}
	}
	/* cleanup removes a rejected or discarded message's queue file (a
	 * local submission's rejected recipients are bounced first). */
	if (rc == PFI_OK && (m->flags & (PFI_MSG_REJECTED | PFI_MSG_DISCARDED)))
		rc = msg_linger(f->c, m);
	return rc;
}

static int on_queued(struct feed *f, struct pfi_msg *m)
{
	m->flags |= PFI_MSG_QUEUED;
	if (f->ev->size >= 0)
		m->size = f->ev->size;
	if (f->ev->nrcpt >= 0)
		m->nrcpt = f->ev->nrcpt;
	return set_str(&m->sender, f->ev->from);
}

static int on_expired(struct feed *f, struct pfi_msg *m)
{
	m->flags |= PFI_MSG_EXPIRED;
	return set_str(&m->sender, f->ev->from);
}

/* The SPEC outcome of a delivery line's status= word. */
static const char *delivery_outcome(const struct pfi_event *ev)
{
	if (pfi_slice_eq(ev->daemon, "discard") && pfi_slice_eq(ev->status, "sent"))
		return "discarded";
	if (pfi_slice_eq(ev->status, "expired"))
		return "expired";
	return NULL;
}

/* Copies a delivery line's fields into the recipient. */
static int rcpt_update(struct pfi_rcpt *r, const struct pfi_event *ev, int64_t t)
{
	char status[32];
	const char *st = delivery_outcome(ev);
	int rc;

	if (st == NULL) {
		if (!ev->status.p || ev->status.n >= sizeof(status))
			return PFI_OK;
		memcpy(status, ev->status.p, ev->status.n);
		status[ev->status.n] = '\0';
		st = status;
	}
	if (strcmp(st, "deferred") == 0)
		r->attempts += r->attempts < INT_MAX;   /* saturates */
	if (r->final && strcmp(st, "deferred") == 0)
		return PFI_OK;
	rc = rcpt_set_status(r, st, t);
	if (rc == PFI_OK)
		rc = set_str(&r->dsn, ev->dsn);
	if (rc == PFI_OK)
		rc = set_str(&r->relay, ev->relay);
	if (rc == PFI_OK)
		rc = set_str(&r->response, ev->response);
	if (rc == PFI_OK)
		rc = set_str(&r->child_qid, ev->new_qid);
	r->delay = ev->delay;
	memcpy(r->delays, ev->delays, sizeof(r->delays));
	return rc;
}

/* The host name of a relay "name[addr]:port", for linking relays. */
static char *relay_host(struct pfi_slice relay)
{
	size_t n = 0;

	while (n < relay.n && relay.p[n] != '[')
		n++;
	relay.n = n;
	return pfi_slice_dup(relay);
}

/*
 * Resolves m's newest link at once when its other side is open on the
 * same host: a content filter's re-injection and a notification are
 * logged just before the line that names them, so the open message is
 * the one nearest in time, as pfi_store_resolve_links would choose.
 * Links it does not find (relays, closed messages) are left to that.
 */
static void link_open_other(struct feed *f, struct pfi_msg *m,
                             struct pfi_rcpt *r)
{
	struct pfi_msg *o = link_to_open(f, m);
	int rel = m->links[m->nlinks - 1].relation;

	if (o == NULL)
		return;
	if ((rel == PFI_REL_QUEUED || rel == PFI_REL_BOUNCE ||
	     rel == PFI_REL_DELAY) && o->parent == 0) {
		o->parent = m->id;
		o->parent_rel = rel;
		o->flags |= PFI_MSG_DIRTY;
	}
	if (rel == PFI_REL_QUEUED && r != NULL)
		r->filtered = 1;
	/* The report of a sendmail -bv test is part of the test. */
	if (rel == PFI_REL_BOUNCE && (m->flags & PFI_MSG_PROBE)) {
		o->flags |= PFI_MSG_PROBE | PFI_MSG_DIRTY;
	}
}

static int on_delivery(struct feed *f, struct pfi_msg *m)
{
	const struct pfi_event *ev = f->ev;
	struct pfi_rcpt *r = rcpt_get(m, ev->to, ev->orig_to);
	char *hint;
	int rc, forward, ignored;

	if (r == NULL || take_attempt_lines(f, m) != PFI_OK)
		return PFI_ENOMEM;
	/* Postfix logs these two statuses for address tests only. */
	if (pfi_slice_eq(ev->status, "deliverable") ||
	    pfi_slice_eq(ev->status, "undeliverable"))
		m->flags |= PFI_MSG_PROBE;
	/* A deferral logged after a final outcome changes nothing. */
	ignored = r->final && pfi_slice_eq(ev->status, "deferred");
	rc = rcpt_update(r, ev, f->env->time);
	if (rc == PFI_OK && !ignored)
		rc = delivery_tls(f, r);
	if (rc != PFI_OK || !ev->new_qid.p || !r->child_qid || r->relation)
		return rc;
	forward = pfi_slice_eq(ev->daemon, "local");
	r->relation = forward ? PFI_REL_FORWARD : PFI_REL_QUEUED;
	/* A line without relay= (odd, or hostile) gives a link with no hint;
	 * only a failed copy of a relay that is there is out of memory. */
	hint = forward || !PFI_SLICE_PRESENT(ev->relay) ? NULL
	                                               : relay_host(ev->relay);
	if (hint == NULL && !forward && PFI_SLICE_PRESENT(ev->relay))
		return PFI_ENOMEM;
	rc = pfi_msg_add_link(m, r->child_qid, hint, r->relation, f->env->time,
	                      (size_t)(r - m->rcpts));
	free(hint);
	if (rc == PFI_OK)
		link_open_other(f, m, r);
	return rc;
}

/* Whole-message reject stages: nothing of the message is queued. */
static int reject_is_final(const struct pfi_event *ev)
{
	return pfi_slice_eq(ev->stage, "DATA") ||
	       pfi_slice_eq(ev->stage, "END-OF-MESSAGE") ||
	       (pfi_slice_eq(ev->action, "milter-reject") &&
	        !pfi_slice_eq(ev->stage, "RCPT"));
}

static int rcpt_reject(struct pfi_rcpt *r, const struct pfi_event *ev,
                       int64_t t)
{
	int rc = rcpt_set_status(r, "rejected", t);

	if (rc == PFI_OK)
		rc = set_str(&r->dsn, ev->dsn);
	if (rc == PFI_OK)
		rc = set_str(&r->response, ev->reason);
	if (rc == PFI_OK)
		rc = set_str(&r->stage, ev->stage);
	if (rc == PFI_OK)
		rc = set_str(&r->code, ev->code);
	return rc;
}

/* What an access-map, milter, policy or before-queue filter action does:
 * Postfix logs the same verdicts under several names. */
enum action { ACT_OTHER, ACT_REJECT, ACT_HOLD, ACT_DISCARD };

static enum action action_of(struct pfi_slice a)
{
	if (pfi_slice_eq(a, "reject") || pfi_slice_eq(a, "milter-reject") ||
	    pfi_slice_eq(a, "proxy-reject"))
		return ACT_REJECT;
	if (pfi_slice_eq(a, "hold") || pfi_slice_eq(a, "milter-hold"))
		return ACT_HOLD;
	if (pfi_slice_eq(a, "discard") || pfi_slice_eq(a, "milter-discard"))
		return ACT_DISCARD;
	return ACT_OTHER;
}

/* A reject that left no queue file (reject, milter-reject, proxy-reject):
 * a record of its own.  proxy-reject names no client: the session's. */
static int noqueue_reject(struct feed *f)
{
	struct pfi_event ev = *f->ev;
	struct session *s = NULL;

	if (!PFI_SLICE_PRESENT(ev.client_ip) &&
	    session_get(f->c, f->env, 0, &s) == PFI_OK && s != NULL) {
		ev.client_name = cstr_slice(s->client);
		ev.client_ip = cstr_slice(s->client_ip);
	}
	if (f->c->nheld > 0 && ev.client_ip.n < 64) {
		char ip[64];
		int rc;

		pfi_slice_copy(ip, sizeof(ip), ev.client_ip);
		rc = claim_held(f, ev.client_ip.p ? ip : NULL, ev.reason, NULL);
		if (rc != PFI_OK)
			return rc;
	}
	return f->c->sink.reject(f->c->sink.ctx, f->env, &ev);
}

/* A NOQUEUE hold, discard or filter action: the session keeps it for the
 * message it queues next. */
static int session_action(struct feed *f)
{
	enum action act = action_of(f->ev->action);
	struct pfi_slice name = f->ev->action;
	struct session *s;
	int rc = session_get(f->c, f->env, 1, &s);

	if (act == ACT_HOLD)
		name = cstr_slice("hold");
	else if (act == ACT_DISCARD)
		name = cstr_slice("discard");
	if (rc == PFI_OK && s)
		rc = session_add_pending(s, name, f->ev->to);
	if (rc == PFI_OK && s)
		rc = session_add_line(s, f->line_id);
	return rc;
}

/* A reject naming a queue ID: one recipient, or the whole message. */
static int reject_rcpts(struct feed *f, struct pfi_msg *m)
{
	const struct pfi_event *ev = f->ev;
	struct pfi_rcpt *r;
	size_t i;
	int rc = PFI_OK;

	/* smtpd does not log accepted recipients: when a whole message is
	 * rejected, the one cleanup named is all the log tells of them; with
	 * none named yet, the reject is a record without an address (cleanup
	 * may name it later: name_unnamed_rcpt). */
	if (!ev->to.p && reject_is_final(ev) && m->nrcpts == 0) {
		struct pfi_slice none = { NULL, 0 };
		struct pfi_slice to = m->cleanup_to ? cstr_slice(m->cleanup_to) : none;
		if (rcpt_get(m, to, none) == NULL)
			return PFI_ENOMEM;
	}
	if (ev->to.p || !reject_is_final(ev)) {
		r = rcpt_get(m, ev->to, ev->orig_to);
		if (r == NULL)
			return PFI_ENOMEM;
		rc = rcpt_reject(r, ev, f->env->time);
	}
	if (rc != PFI_OK || !reject_is_final(ev))
		return rc;
	for (i = 0; i < m->nrcpts && rc == PFI_OK; i++)
		if (!m->rcpts[i].final)
			rc = rcpt_reject(&m->rcpts[i], ev, f->env->time);
	m->flags |= PFI_MSG_REJECTED;
	return rc == PFI_OK ? msg_linger(f->c, m) : rc;
}

/* Another reject line of a message a reject ended (cleanup's after
 * smtpd's): its recipient joins, and the message is written again. */
static int rejected_again(struct feed *f, struct pfi_msg *m)
{
	if (action_of(f->ev->action) != ACT_REJECT)
		return PFI_OK;
	return reject_rcpts(f, m);
}

/* A reject (or hold/discard/filter action) of smtpd, postscreen, cleanup. */
static int on_reject(struct feed *f)
{
	const struct pfi_event *ev = f->ev;
	enum action act = action_of(ev->action);
	struct pfi_msg *m;
	struct pfi_rcpt *r;
	int rc;

	if (pfi_slice_eq(ev->action, "reject_warning"))
		return PFI_OK;
	if (!ev->qid.p)
		return act == ACT_REJECT ? noqueue_reject(f) : session_action(f);
	rc = msg_get(f->c, f->env, ev->qid, &m);
	if (rc == PFI_OK)
		rc = own(f, m);
	/* A message rejected in smtpd or cleanup never reaches qmgr: the
	 * from= of the verdict is all the log says of its sender. */
	if (rc == PFI_OK)
		rc = set_once(&m->sender, ev->from);
	if (rc != PFI_OK)
		return rc;
	if (m->flags & PFI_MSG_LINGER)
		return rejected_again(f, m);
	if (act == ACT_HOLD)
		m->flags |= PFI_MSG_HELD;
	if (act != ACT_REJECT) {
		r = ev->to.p ? rcpt_get(m, ev->to, ev->orig_to) : NULL;
		if (ev->to.p && r == NULL)
			return PFI_ENOMEM;
	}
	/* A DISCARD at any stage discards the whole message: cleanup takes
	 * the rest and drops it without another line. */
	if (act == ACT_DISCARD) {
		m->flags |= PFI_MSG_DISCARDED;
		return msg_linger(f->c, m);
	}
	return act == ACT_REJECT ? reject_rcpts(f, m) : PFI_OK;
}

static int on_notify(struct feed *f, struct pfi_msg *m)
{
	char *q;
	int rc;

	if (!f->ev->new_qid.p)
		return PFI_OK;
	q = pfi_slice_dup(f->ev->new_qid);
	if (q == NULL)
		return PFI_ENOMEM;
	/* "sender delay notification" warns that mail is still queued; the
	 * others (non-delivery, delivery status, postmaster) are bounces. */
	rc = pfi_msg_add_link(m, q, NULL,
	                      pfi_slice_eq(f->ev->action, "sender delay")
	                          ? PFI_REL_DELAY : PFI_REL_BOUNCE,
	                      f->env->time, SIZE_MAX);
	free(q);
	if (rc == PFI_OK)
		link_open_other(f, m, NULL);
	return rc;
}

static int on_postsuper(struct feed *f, struct pfi_msg *m)
{
	const struct pfi_slice a = f->ev->action;

	if (pfi_slice_eq(a, "hold")) {
		m->flags |= PFI_MSG_HELD;
	} else if (pfi_slice_eq(a, "release")) {
		m->flags &= ~(unsigned)PFI_MSG_HELD;
	} else if (pfi_slice_eq(a, "requeue")) {
		/* Its queue file leaves this ID now, for the maildrop; the
		 * message stays open until pickup names it (requeue_hop). */
		m->flags |= PFI_MSG_REQUEUED;
		m->removed = f->env->time;
	} else if (pfi_slice_eq(a, "removed")) {
		if (!(m->flags & PFI_MSG_REQUEUED))
			m->flags |= PFI_MSG_DELETED;
		m->removed = f->env->time;
		return msg_close(f->c, m);
	}
	return PFI_OK;
}

static int on_removed(struct feed *f, struct pfi_msg *m)
{
	m->removed = f->env->time;
	return msg_close(f->c, m);
}

/* smtpd's client= or pickup's uid= starts a new lifetime of the queue ID:
 * a message lingering under it after a reject is over. */
static int end_linger_on_new_lifetime(struct feed *f)
{
	struct pfi_msg *m;

	if (f->ev->kind != PFI_EV_CLIENT && f->ev->kind != PFI_EV_PICKUP)
		return PFI_OK;
	m = msg_find(f->c, f->env->host, f->ev->qid);
	return m && (m->flags & PFI_MSG_LINGER) ? msg_unlinger(f->c, m) : PFI_OK;
}

/* Events about one message (they carry its queue ID). */
static int on_message_event(struct feed *f)
{
	const struct pfi_event *ev = f->ev;
	struct pfi_msg *m;
	int rc = end_linger_on_new_lifetime(f);

	if (rc == PFI_OK)
		rc = msg_get(f->c, f->env, ev->qid, &m);
	if (rc == PFI_OK)
		rc = own(f, m);
	if (rc != PFI_OK)
		return rc;
	switch (ev->kind) {
	case PFI_EV_CLIENT: return on_client(f, m);
	case PFI_EV_PICKUP: return on_pickup(f, m);
	case PFI_EV_MESSAGE_ID:
		m->flags |= PFI_MSG_CLEANUP;
		return set_str(&m->message_id, ev->message_id);
	case PFI_EV_HEADER: return on_header(f, m);
	case PFI_EV_QUEUED: return on_queued(f, m);
	case PFI_EV_EXPIRED: return on_expired(f, m);
	case PFI_EV_REMOVED: return on_removed(f, m);
	case PFI_EV_DELIVERY: return on_delivery(f, m);
	case PFI_EV_NOTIFY: return on_notify(f, m);
	case PFI_EV_POSTSUPER: return on_postsuper(f, m);
	default: return PFI_OK;
	}
}

/* Other lines: those naming an open message's queue ID belong to it. */
static int on_other(struct feed *f)
{
	struct pfi_msg *m;

	if (!f->ev->qid.p)
		return PFI_OK;
	m = msg_find(f->c, f->env->host, f->ev->qid);
	if (m == NULL)
		return PFI_OK;
	m->last = f->env->time;
	if (take_attempt_lines(f, m) != PFI_OK)
		return PFI_ENOMEM;
	return own(f, m);   /* a lingering message is written again */
}

int pfi_corr_feed(struct pfi_corr *c, const struct pfi_envelope *env,
                  const struct pfi_event *ev, int64_t line_id, int64_t *owner)
{
	struct feed f = { c, env, ev, line_id, 0 };
	int rc = PFI_OK;

	if (env->time > c->latest)
		c->latest = env->time;

	switch (ev->kind) {
	case PFI_EV_CONNECT: rc = on_connect(&f); break;
	case PFI_EV_TLS_IN: rc = on_tls_in(&f); break;
	case PFI_EV_DISCONNECT: rc = on_disconnect(&f); break;
	case PFI_EV_CLIENT_LOST: rc = on_client_lost(&f); break;
	case PFI_EV_ATTEMPT_LINE: rc = on_attempt_line(&f); break;
	case PFI_EV_TLS_OUT: rc = on_tls_out(&f); break;
	case PFI_EV_SASL_FAIL: rc = c->sink.sasl_failure(c->sink.ctx, env, ev); break;
	case PFI_EV_REJECT: rc = on_reject(&f); break;
	case PFI_EV_CLIENT:
	case PFI_EV_PICKUP:
	case PFI_EV_MESSAGE_ID:
	case PFI_EV_HEADER:
	case PFI_EV_QUEUED:
	case PFI_EV_EXPIRED:
	case PFI_EV_REMOVED:
	case PFI_EV_DELIVERY:
	case PFI_EV_NOTIFY:
	case PFI_EV_POSTSUPER:
		if (ev->qid.p)
			rc = on_message_event(&f);
		break;
	default:
		rc = on_other(&f);
		break;
	}
	*owner = f.owner;
	return rc == PFI_EPARSE ? PFI_OK : rc;
}

void pfi_corr_free(struct pfi_corr *c)
{
	struct pfi_hnode *n, *next;

	if (c == NULL)
		return;
	for (n = pfi_htab_first(&c->msgs); n != NULL; n = next) {
		next = pfi_htab_next(&c->msgs, n);
		pfi_msg_free(msg_of(n));
	}
	for (n = pfi_htab_first(&c->sessions); n != NULL; n = next) {
		next = pfi_htab_next(&c->sessions, n);
		session_free(session_of(n));
	}
	pfi_htab_release(&c->msgs);
	pfi_htab_release(&c->sessions);
	while (c->nheld > 0)
		held_drop(c, 0);
	free(c->held);
	free(c);
}
