/*
 * correlate.h - the correlator's records and its sink.
 *
 * The correlator turns parsed events into messages (one per host and queue
 * ID lifetime) with per-recipient outcomes, NOQUEUE rejects and links
 * between messages.  It owns no storage: finished and still-open messages
 * go to a sink (the store, or a test's recorder).
 */
#ifndef PFI_CORRELATE_H
#define PFI_CORRELATE_H

#include "pfi-int.h"
#include "htab.h"

/* One recipient of a message and its latest outcome. */
struct pfi_rcpt {
	char *to;            /* recipient address, "" for a reject without to= */
	char *orig_to;       /* original recipient (alias expansion), or NULL */
	char *status;        /* SPEC vocabulary, NULL before any outcome */
	char *dsn;
	char *relay;
	char *response;      /* server reply or reject reason */
	char *child_qid;     /* "queued as X" / "forwarded as X" */
	char *stage;         /* reject stage (RCPT, DATA ...) */
	char *code;          /* reject SMTP code */
	char *tls_protocol;  /* TLS of the delivering connection, or NULL */
	double delay;
	double delays[4];
	int64_t time;        /* time of the latest attempt */
	int attempts;        /* deferred attempts */
	int final;           /* status is final: no later attempt changes it */
	int relation;        /* enum pfi_link_rel of child_qid */
	int filtered;        /* handed to a content filter whose re-injected
	                        copy was found open: outcome "filtered" */
};

enum pfi_msg_flag {
	PFI_MSG_QUEUED = 1 << 0,     /* qmgr took it (from=, size=, nrcpt=) */
	PFI_MSG_CLEANUP = 1 << 1,    /* cleanup saw it (message-id) */
	PFI_MSG_HELD = 1 << 2,       /* on hold now */
	PFI_MSG_EXPIRED = 1 << 3,    /* qmgr expired it */
	PFI_MSG_DELETED = 1 << 4,    /* postsuper -d */
	PFI_MSG_DISCARDED = 1 << 5,  /* header/body or smtpd DISCARD */
	PFI_MSG_REJECTED = 1 << 6,   /* rejected in cleanup or at DATA */
	PFI_MSG_CLOSED = 1 << 7,     /* lifetime over: removed or aborted */
	PFI_MSG_REQUEUED = 1 << 8,   /* postsuper -r: continues as a new ID */
	PFI_MSG_ORPHAN = 1 << 9,     /* its smtpd session ended before cleanup
	                                or qmgr saw it */
	PFI_MSG_DIRTY = 1 << 10,     /* changed since it was last written */
	PFI_MSG_STORED = 1 << 11,    /* a version of it is in the index */
	PFI_MSG_LOST = 1 << 12,      /* closed by the open-state limits: its
	                                pending recipients are "unknown" */
	PFI_MSG_LINGER = 1 << 13,    /* closed by a reject and written, but
	                                kept a while for the lines syslog
	                                brings late; a write with this flag
	                                rewrites a closed message */
	PFI_MSG_PROBE = 1 << 14,     /* an address probe (verify(8), sendmail
	                                -bv): its recipients were tested, not
	                                delivered (deliverable, undeliverable) */
};

enum pfi_link_rel {
	PFI_REL_NONE = 0,
	PFI_REL_QUEUED,   /* "queued as": a content filter (same host) or relay */
	PFI_REL_FORWARD,  /* local(8) "forwarded as" */
	PFI_REL_BOUNCE,   /* a notification sent by bounce(8) */
	PFI_REL_REQUEUE,  /* pickup orig_id= after postsuper -r */
	PFI_REL_DELAY,    /* a delay warning sent by bounce(8) */
};

/* A link from this message to another, by the other's queue ID. */
struct pfi_mlink {
	char *qid;        /* the other message's queue ID */
	char *hint;       /* relay host name for PFI_REL_QUEUED, else NULL */
	int relation;     /* enum pfi_link_rel */
	int64_t time;
	size_t rcpt;      /* index of the recipient it came from, or SIZE_MAX */
	int64_t other;    /* the other message's id when it was found open on
	                     the same host as the link was made; else 0, and
	                     pfi_store_resolve_links looks for it */
};

/* One message: a (host, queue ID) lifetime. */
struct pfi_msg {
	int64_t id;              /* messages.id, fixed when first seen */
	char *host;
	char *qid;
	int64_t first, last;     /* first and last line */
	int64_t received;        /* arrival (client=, pickup, first line) */
	int64_t removed;
	char *message_id;
	char *sender;            /* "" null sender, NULL unknown */
	char *client, *client_ip;
	char *sasl_method, *sasl_username;
	char *subject;
	char *tls_protocol, *tls_cipher;
	char *origin;            /* smtpd, pickup, local, bounce ... */
	char *orig_qid;          /* XFORWARD orig_queue_id or pickup orig_id */
	char *cleanup_to;        /* the recipient cleanup named in a header
	                            or body check line */
	int64_t size, nrcpt;
	unsigned flags;          /* enum pfi_msg_flag */
	struct pfi_rcpt *rcpts;
	size_t nrcpts, rcap;
	struct pfi_mlink *links;
	size_t nlinks, lcap;
	int64_t parent;          /* the message whose filter hand-off or
	                            notification made this one, or that
	                            postsuper -r requeued as this one, when
	                            found while both were open; else 0 */
	int parent_rel;          /* its enum pfi_link_rel */
	int64_t *lines;          /* ids of its log lines, ascending */
	size_t nlines, lncap;
	struct pfi_hnode node;   /* in the correlator's table */
};

/* A NOQUEUE action (hold, discard, filter ...) that a session keeps for
 * the message it queues next. */
struct pfi_pending {
	char *action;
	char *to;            /* its recipient, or NULL */
};

/*
 * A live session: one process (host, program, pid), an smtpd from "connect
 * from" to "disconnect from", or an smtp/lmtp client with its TLS peer.
 * Lines, TLS and NOQUEUE actions logged before "QID: client=" join that
 * message through it, so a checkpoint hands each live session to the sink
 * and the next run restores it (pfi_corr_restore_session).  The pointers
 * belong to whoever made the record, and hold only during the call.
 */
struct pfi_session_rec {
	const char *host, *program;
	long pid;                     /* -1 when the lines have none */
	int64_t seen;                 /* log time of its latest line */
	const char *client, *client_ip;
	const char *tls_protocol, *tls_cipher;
	const char *tls_relay;        /* smtp/lmtp: the peer TLS was set up with */
	const char *last_qid;         /* its latest message, or NULL */
	int64_t last_id;              /* that message's id */
	const struct pfi_pending *pend;
	size_t npend;
	const int64_t *lines;         /* lines waiting for a message, ascending */
	size_t nlines;
};

/* Where the correlator's results go.  Each callback returns PFI_OK or an
 * error that stops the run. */
struct pfi_sink {
	void *ctx;
	/* A message, finished (open == 0) or still open at a checkpoint. */
	int (*message)(void *ctx, const struct pfi_msg *m, int open);
	/* A rejected recipient without a queue ID (NOQUEUE, postscreen). */
	int (*reject)(void *ctx, const struct pfi_envelope *env,
	              const struct pfi_event *ev);
	/* A line belongs to message msg_id, which was written already (a
	 * session's disconnect after the message was removed). */
	int (*late_line)(void *ctx, int64_t line_id, int64_t msg_id);
	/* A failed SASL login (smtpd's warning). */
	int (*sasl_failure)(void *ctx, const struct pfi_envelope *env,
	                    const struct pfi_event *ev);
	/* A session still live at a checkpoint (may be NULL: not saved). */
	int (*session)(void *ctx, const struct pfi_session_rec *s);
	/* A held verdict (pfi_corr_hold_verdict) joined message msg_id, whose
	 * lines now hold the verdict's line (may be NULL). */
	int (*verdict_joined)(void *ctx, int64_t verdict_id, int64_t msg_id);
	/* A held verdict led to the NOQUEUE reject on line line_id (may be
	 * NULL). */
	int (*verdict_rejected)(void *ctx, int64_t verdict_id, int64_t line_id);
};

struct pfi_corr;

/* A correlator writing to `sink`; message ids start at `next_id`. */
int pfi_corr_new(struct pfi_corr **out, const struct pfi_sink *sink,
                 int64_t next_id);
/*
 * Takes one parsed line (line_id is its row id in the store).  Sets
 * *owner to the id of the message the line belongs to, or 0.
 * Returns PFI_OK, PFI_ENOMEM or a sink error.
 */
int pfi_corr_feed(struct pfi_corr *c, const struct pfi_envelope *env,
                  const struct pfi_event *ev, int64_t line_id,
                  int64_t *owner);
/* Adopts a message left open by an earlier run (takes ownership). */
int pfi_corr_adopt(struct pfi_corr *c, struct pfi_msg *m);
/* Closes orphans that stayed quiet and forgets long-idle sessions, so that
 * memory holds only what is still in flight.  PFI_OK or a sink error. */
int pfi_corr_sweep(struct pfi_corr *c);
/* Moves the log time the correlator has reached on to `time` (the latest
 * line the index holds, when an earlier run read a later stretch of the
 * log) and sweeps, so what waits on log time ends as it would have had
 * the lines come in order.  PFI_OK or an error of the sink. */
int pfi_corr_advance(struct pfi_corr *c, int64_t time);
/*
 * Holds a verdict logged before its message had a queue ID (an SPF policy
 * check runs at RCPT, before smtpd queues the message), for the next
 * message that smtpd on `host` queues from `client_ip` within
 * PFI_VERDICT_HOLD_US after `time`: that message, or a NOQUEUE reject of
 * that client, takes the oldest held verdict of each program for its
 * client, and the sink hears of it.
 * Strings are copied.  PFI_OK or PFI_ENOMEM.
 */
int pfi_corr_hold_verdict(struct pfi_corr *c, const char *host,
                          const char *qid, const char *client_ip,
                          const char *program, const char *reply,
                          int64_t time, int64_t line_id, int64_t verdict_id);

/* Hands every open message to the sink as open (they stay open here),
 * then every live session. */
int pfi_corr_checkpoint(struct pfi_corr *c);
/* Takes back a session an earlier run's checkpoint handed out (copies it;
 * replaces a session of the same process).  PFI_OK or PFI_ENOMEM. */
int pfi_corr_restore_session(struct pfi_corr *c,
                             const struct pfi_session_rec *s);
/* Bounds the open state: a message (not on hold) that no line named for
 * `stale_after` microseconds of log time is closed as lost (0: never),
 * and past `max_open` open messages the longest silent are (0: no cap).
 * Both apply at each sweep and checkpoint. */
void pfi_corr_set_limits(struct pfi_corr *c, int64_t stale_after,
                         size_t max_open);
/* Messages the limits closed so far. */
struct pfi_corr_lost {
	uint64_t stale;    /* silent past stale_after */
	uint64_t capped;   /* over max_open */
};
struct pfi_corr_lost pfi_corr_lost(const struct pfi_corr *c);
size_t pfi_corr_open_count(const struct pfi_corr *c);
void pfi_corr_free(struct pfi_corr *c);

/* Message helpers shared with the store (which rebuilds open messages). */
struct pfi_msg *pfi_msg_new(int64_t id, const char *host, const char *qid);
struct pfi_rcpt *pfi_msg_add_rcpt(struct pfi_msg *m, const char *to,
                                  const char *orig_to);
int pfi_msg_add_link(struct pfi_msg *m, const char *qid, const char *hint,
                     int relation, int64_t time, size_t rcpt);
/* Adds a line id in its place among the ascending ids (a repeat is
 * ignored). */
int pfi_msg_add_line(struct pfi_msg *m, int64_t line_id);
void pfi_msg_free(struct pfi_msg *m);
/* The SPEC outcome of recipient r of message m now ("deferred" if none). */
const char *pfi_rcpt_outcome(const struct pfi_msg *m, const struct pfi_rcpt *r,
                             int open);

#endif /* PFI_CORRELATE_H */
