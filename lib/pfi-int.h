/*
 * pfi-int.h - libpfi's private structures and cross-file interfaces.
 *
 * Nothing here is installed or visible to cmd/.  Sections follow the
 * pipeline: buffers and errors, read -> syslog envelope -> Postfix line ->
 * correlate -> store -> query.  Internal functions also carry the pfi_
 * prefix but are not exported: the library is built with
 * -fvisibility=hidden and only PFI_EXTERN functions of pfi.h are visible.
 */
#ifndef PFI_INT_H
#define PFI_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "pfi.h"

/* ---- banned functions: use the bounded or reentrant alternatives --------- */
#undef sscanf
#define sscanf(...) BANNED_use_the_scan_cursor
#undef atoi
#define atoi(x) BANNED_use_strtol_with_range_checks
#undef atol
#define atol(x) BANNED_use_strtol_with_range_checks
#undef strtok
#define strtok(a, b) BANNED_use_strtok_r_or_a_cursor
#undef sprintf
#define sprintf(...) BANNED_use_snprintf
#undef strcpy
#define strcpy(a, b) BANNED_use_memcpy_with_a_length
#undef strcat
#define strcat(a, b) BANNED_use_pfi_buf
#undef gmtime
#define gmtime(t) BANNED_use_gmtime_r
#undef localtime
#define localtime(t) BANNED_use_localtime_r

#define PFI_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- error.c --------------------------------------------------------------- */

/* A failure code and its message, kept on every handle that can fail. */
struct pfi_err {
	int code;        /* last status code, PFI_OK when clear */
	char msg[512];   /* readable text for it, "" when clear */
};

/*
 * Records `code` and a printf-style message on `err` and returns `code`,
 * so a failure is reported in one statement:
 *     return pfi_err_set(err, PFI_EIO, "cannot read '%s': %s", p, strerror(e));
 * `err` may be NULL (the message is dropped, the code still returned).
 */
int pfi_err_set(struct pfi_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void pfi_err_clear(struct pfi_err *err);

/* Checks the version of a public options struct (pfi.h): PFI_OK, or
 * PFI_EINVAL with a message on err naming `what`. */
int pfi_opts_version(struct pfi_err *err, unsigned int version,
                     unsigned int known, const char *what);

/* ---- buf.c: a growable byte buffer with a hard maximum ----------------- */

struct pfi_buf {
	char *data;   /* always NUL-terminated when non-NULL */
	size_t len;   /* bytes used, not counting the NUL */
	size_t cap;   /* bytes allocated */
	size_t max;   /* hard limit on len; appends past it fail */
};

#define PFI_BUF_DEFAULT_MAX ((size_t)1 << 30)

void pfi_buf_init(struct pfi_buf *b, size_t max);
/* PFI_OK, PFI_ENOMEM, or PFI_EINVAL when len would pass b->max. */
int pfi_buf_append(struct pfi_buf *b, const void *p, size_t n);
int pfi_buf_appends(struct pfi_buf *b, const char *s);
int pfi_buf_appendc(struct pfi_buf *b, char c);
int pfi_buf_printf(struct pfi_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Makes room in *arr (of elements `elem` bytes, *cap allocated) for one
 * more after `n`, doubling from `first`.  PFI_OK or PFI_ENOMEM. */
int pfi_array_reserve(void **arr, size_t *cap, size_t n, size_t elem,
                      size_t first);
/* Writes the decimal digits of v (with "-" when negative) at p, at most
 * PFI_INT_DIGITS bytes, no NUL; returns their count.  For keys built on
 * every line, where snprintf shows in profiles. */
#define PFI_INT_DIGITS 20
size_t pfi_put_int(char *p, int64_t v);
/* Appends v as a varint: 7 bits a byte, lowest first, high bit "more". */
int pfi_buf_put_varint(struct pfi_buf *b, uint64_t v);
/* Reads a varint at *p, moving *p past it; PFI_EPARSE when it does not
 * end before `end`. */
int pfi_varint_get(const unsigned char **p, const unsigned char *end,
                   uint64_t *v);
void pfi_buf_reset(struct pfi_buf *b);      /* len = 0, keeps memory */
void pfi_buf_release(struct pfi_buf *b);    /* frees memory, len = cap = 0 */
/* Hands the data over to the caller (who frees it with free()); b is reset. */
char *pfi_buf_detach(struct pfi_buf *b);

/* ---- slices: (pointer, length) views into the current line -------------- */

/* p == NULL: absent.  p != NULL && n == 0: present but empty (e.g. <>). */
struct pfi_slice {
	const char *p;
	size_t n;
};

#define PFI_SLICE_PRESENT(s) ((s).p != NULL)
int pfi_slice_eq(struct pfi_slice s, const char *lit);     /* exact match */
/* A NUL-terminated copy (malloc), a NUL inside the slice turned into '?';
 * NULL if absent or out of memory. */
char *pfi_slice_dup(struct pfi_slice s);
/* The same into buf (cap > 0 bytes): at most cap - 1 bytes of s, then a
 * NUL; an absent slice gives "".  Returns buf. */
char *pfi_slice_copy(char *buf, size_t cap, struct pfi_slice s);

/* ---- read.c: lines from plain, gzip, zstd, xz, bzip2 files or stdin ------- */

enum pfi_compression {
	PFI_COMP_NONE,
	PFI_COMP_GZIP,
	PFI_COMP_ZSTD,
	PFI_COMP_XZ,
	PFI_COMP_BZIP2
};

/* Longest line handed out; longer lines are cut there and flagged. */
#define PFI_LINE_MAX (64 * 1024)

struct pfi_reader;

/*
 * Opens `path` ("-" is standard input), detects compression from the magic
 * bytes (never the name) and prepares to hand out lines.
 * Returns PFI_OK, PFI_EIO (cannot open: message names the file and errno
 * text), PFI_ENOMEM.  On failure *out is NULL and `err` has the message.
 */
int pfi_reader_open(struct pfi_reader **out, const char *path,
                    struct pfi_err *err);
/*
 * The next line, without its "\n" or "\r\n", in line and len (borrowed until
 * the next call).  A missing final newline still yields the last line.
 * Returns PFI_OK, PFI_EOF at the clean end, PFI_EIO for a read error or a
 * truncated/corrupt compressed stream (message "'PATH': truncated input
 * after line N" or similar on the reader's err; the complete lines before
 * it have been handed out), PFI_ENOMEM.
 */
int pfi_reader_next(struct pfi_reader *r, const char **line, size_t *len);
/*
 * The first `want` bytes of decompressed content, without consuming them:
 * *got < want only at end of input.  Call before the first _next().
 * Returns PFI_OK, PFI_EIO, PFI_ENOMEM.
 */
int pfi_reader_peek(struct pfi_reader *r, size_t want, const char **data,
                    size_t *got);
/* Skips `offset` decompressed bytes from the start (a line boundary);
 * call before the first _next().  PFI_OK, PFI_EOF (input is shorter), PFI_EIO. */
int pfi_reader_skip(struct pfi_reader *r, uint64_t offset);
/* Like pfi_reader_skip() when the line number at `offset` is known: a
 * plain file is positioned at once, without reading what it skips. */
int pfi_reader_seek(struct pfi_reader *r, uint64_t offset, uint64_t lineno);
/* The last line handed out had no newline: the input ended inside it
 * (a live log may still be writing it). */
int pfi_reader_unterminated(const struct pfi_reader *r);
uint64_t pfi_reader_lineno(const struct pfi_reader *r);   /* of the last line */
uint64_t pfi_reader_offset(const struct pfi_reader *r);   /* decompressed bytes consumed */
uint64_t pfi_reader_raw_offset(const struct pfi_reader *r); /* compressed bytes consumed */
int pfi_reader_truncated(const struct pfi_reader *r);  /* last line was cut */
enum pfi_compression pfi_reader_compression(const struct pfi_reader *r);
const char *pfi_reader_path(const struct pfi_reader *r);
/* File identity and size on disk (0 for a pipe). */
void pfi_reader_stat(const struct pfi_reader *r, uint64_t *dev, uint64_t *ino,
                     uint64_t *size, time_t *mtime);
const struct pfi_err *pfi_reader_err(const struct pfi_reader *r);
void pfi_reader_close(struct pfi_reader *r);

/* ---- syslog.c: the syslog envelope --------------------------------------- */

/* What the syslog layer tells about one line. */
struct pfi_envelope {
	int64_t time;              /* microseconds since the epoch, UTC */
	struct pfi_slice host;
	struct pfi_slice program;  /* e.g. "postfix/submission/smtpd" */
	long pid;                  /* -1 when the line has none */
	struct pfi_slice text;     /* the message after "program[pid]: " */
	int repeat;                /* 1, or N for "message repeated N times: [..]" */
};

/* Per-file state for year inference of classic timestamps, and what the
 * file's stamps needed (for pfi info). */
struct pfi_syslog_ctx {
	time_t ref;        /* file mtime (stdin: now): no line is later */
	int year;          /* year of the current line, 0 before the first */
	int64_t last;      /* time of the previous classic line */
	int first_year;    /* given (--year): the first classic line's year */
	int year0;         /* the year the first classic line got; 0: none */
	uint64_t unzoned;  /* lines stamped in local time (no offset) */
};

void pfi_syslog_init(struct pfi_syslog_ctx *ctx, time_t ref);
/* Starts ctx in `year` (pfi_syslog_init first): the first classic line
 * takes it whatever ref says; rollovers still step it. */
void pfi_syslog_set_year(struct pfi_syslog_ctx *ctx, int year);
/* Continues ctx after a classic line at `last` (a file read before):
 * the next line takes its year, or the next one past a rollover. */
void pfi_syslog_resume(struct pfi_syslog_ctx *ctx, int64_t last);
/*
 * Parses the envelope of `line`.  Formats: classic "Nov  2 03:04:05 host
 * prog[pid]: text" (also with a leading year, fractional seconds), RFC3339
 * "2026-11-02T03:04:05.123456+01:00 host prog[pid]: text", journalctl
 * short-iso "2026-11-02T03:04:05+0100 host prog[pid]: text", each maybe
 * with a "<PRI>" before it and "prog[pid] text" without the colon; RFC 5424
 * "<22>1 2026-11-02T03:04:05.123456+01:00 host prog pid - - text" (the
 * <PRI> optional, structured data skipped; "-" for the pid gives -1); a
 * Solaris "[ID n facility.level]" tag after the program and a BOM before
 * the text are skipped.
 * Classic years: the first line takes the year of ctx->ref, one less if
 * that would put it after ref; a later line whose time runs back by more
 * than half a year has moved into the next year.
 * Returns PFI_OK or PFI_EPARSE (not a syslog line: *env is unspecified).
 */
int pfi_syslog_parse(struct pfi_syslog_ctx *ctx, const char *line, size_t len,
                     struct pfi_envelope *env);

/* ---- time.c ----------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (no time zone). */
int64_t pfi_days_from_civil(int y, unsigned m, unsigned d);
/* Days in month m (1-12) of year y; y == 0 means a year not yet known,
 * for which February has 29. */
int pfi_days_in_month(int y, int m);
/* Seconds since the epoch of a local wall-clock time (uses TZ, mktime). */
int64_t pfi_local_to_epoch(int y, int mo, int d, int h, int mi, int s);

/* ---- postfix.c: the Postfix line ------------------------------------------- */

/* Longest queue ID taken: Postfix's longest are about 25 characters. */
#define PFI_QID_MAX 63

enum pfi_ev {
	PFI_EV_UNPARSED = 0, /* a Postfix line pfi does not understand */
	PFI_EV_FOREIGN,      /* a line of another program */
	PFI_EV_NOISE,        /* understood, nothing to correlate (statistics,
	                        master, postscreen, warnings, anvil ...) */
	PFI_EV_CONNECT,      /* smtpd: connect from NAME[IP] */
	PFI_EV_DISCONNECT,   /* smtpd: disconnect from NAME[IP] ... */
	PFI_EV_TLS_IN,       /* smtpd: TRUST TLS connection established from NAME[IP]: PROTO with cipher C ... */
	PFI_EV_TLS_OUT,      /* smtp/lmtp: TRUST TLS connection established to NAME[IP]:PORT: PROTO with cipher C ... */
	PFI_EV_SASL_FAIL,    /* smtpd: warning: NAME[IP]: SASL M authentication failed ... */
	PFI_EV_CLIENT,       /* smtpd: QID: client=NAME[IP][, sasl_method=M, sasl_username=U][, orig_queue_id=Q, orig_client=C] */
	PFI_EV_PICKUP,       /* pickup: QID: uid=N from=<S> [orig_id=Q] */
	PFI_EV_MESSAGE_ID,   /* cleanup: QID: message-id=<ID> (ID may be empty) */
	PFI_EV_HEADER,       /* cleanup: QID: ACTION: header NAME: VALUE from ...; from=<S> to=<R> ...[: DETAIL] (also "body") */
	PFI_EV_QUEUED,       /* qmgr: QID: from=<S>, size=N, nrcpt=N (queue active) */
	PFI_EV_EXPIRED,      /* qmgr: QID: from=<S>, status=expired, returned to sender */
	PFI_EV_REMOVED,      /* qmgr: QID: removed */
	PFI_EV_DELIVERY,     /* smtp|lmtp|local|virtual|pipe|error|discard|...: QID: to=<R>, [orig_to=<O>,] relay=..., delay=, delays=, dsn=, status=S (RESPONSE) */
	PFI_EV_REJECT,       /* smtpd/postscreen/cleanup: NOQUEUE|QID: ACTION: STAGE from NAME[IP]: CODE DSN REASON; from=<S> to=<R> proto=P helo=<H> */
	PFI_EV_NOTIFY,       /* bounce: QID: sender non-delivery notification: NEWQID */
	PFI_EV_POSTSUPER,    /* postsuper: QID: removed | placed on hold | released from hold | requeued */
	PFI_EV_QID_WARNING,  /* any daemon: warning: QID: text (kept with the message) */
	PFI_EV_CLIENT_LOST,  /* smtpd: lost connection|timeout after CMD [(N bytes)] from NAME[IP] */
	PFI_EV_ATTEMPT_LINE, /* smtp/lmtp: about the connection of the delivery under way, no queue ID ("connect to X: Connection refused") */
	PFI_EV_VERDICT,      /* a milter's or filter's verdict (verdict.c), qid
	                        from it; the event holds no fields but the qid */
	PFI_EV__COUNT
};

/*
 * One parsed Postfix line.  Slices point into the line (see struct
 * pfi_slice for absent vs empty); numbers are -1 when absent.  Addresses
 * are given without their angle brackets: from=<> is present and empty.
 */
struct pfi_event {
	enum pfi_ev kind;
	const char *postscreen;       /* postscreen's action, as a metrics label
	                                 ("pass_new", "dnsbl" ...); else NULL */
	struct pfi_slice daemon;      /* last component of the program: "smtpd" */
	struct pfi_slice qid;         /* queue ID; absent for NOQUEUE */
	struct pfi_slice from, to, orig_to;
	struct pfi_slice relay;       /* "none", "local", "host[addr]:port" */
	struct pfi_slice status;      /* sent, deferred, bounced, expired, deliverable ... */
	struct pfi_slice dsn;         /* "2.0.0" */
	struct pfi_slice response;    /* text inside status=...(TEXT) */
	double delay;
	double delays[4];             /* before_qmgr, in_qmgr, conn_setup, transmission */
	int conn_use;
	struct pfi_slice client_name, client_ip;  /* from NAME[IP] */
	struct pfi_slice sasl_method, sasl_username;
	struct pfi_slice orig_queue_id;   /* client=..., orig_queue_id= (XFORWARD) or pickup orig_id= */
	struct pfi_slice message_id;      /* without angle brackets */
	struct pfi_slice action;      /* REJECT: reject, reject_warning, hold, discard,
	                                 filter, redirect, milter-reject ...
	                                 HEADER: warning, info, hold, discard, reject,
	                                 redirect, replace, prepend, filter
	                                 NOTIFY: "sender non-delivery", "sender delay",
	                                 "sender delivery status", "postmaster non-delivery"
	                                 POSTSUPER: removed, hold, release, requeue */
	struct pfi_slice stage;       /* CONNECT, EHLO, HELO, MAIL, RCPT, DATA,
	                                 END-OF-MESSAGE, header, body */
	struct pfi_slice code;        /* SMTP reply code "550" */
	struct pfi_slice reason;      /* reject text after code and DSN; header detail */
	struct pfi_slice helo, proto;
	struct pfi_slice header_name, header_value;
	struct pfi_slice new_qid;     /* "queued as X", "forwarded as X", notification X */
	struct pfi_slice tls_trust;   /* Anonymous, Untrusted, Verified, Trusted */
	struct pfi_slice tls_protocol, tls_cipher;
	struct pfi_slice uid;         /* pickup uid= */
	int64_t size, nrcpt;
};

/*
 * Interprets a line whose envelope is `env`.  Fills *ev (all of it: fields
 * not set are absent/-1) and returns ev->kind.  A program whose first
 * component does not start with "postfix" gives PFI_EV_FOREIGN.
 */
enum pfi_ev pfi_postfix_parse(const struct pfi_envelope *env,
                              struct pfi_event *ev);
/*
 * What a Postfix line says is wrong (problems.c): its level, "warning",
 * "error", "fatal", "panic" or "reject_warning", with the kind of problem
 * (its text, numbers, addresses and hosts folded) in kind, a string of at
 * most cap - 1 bytes; NULL when the line reports no problem.
 */
const char *pfi_problem_of(const struct pfi_envelope *env,
                           const struct pfi_event *ev, char *kind, size_t cap);
#define PFI_PROBLEM_KIND_MAX 161

/* Whether the n bytes at p have the shape of a queue ID (see postfix.c). */
int pfi_qid_shape(const char *p, size_t n);
/* "12", "0.03", "1.5": digits with an optional fraction filling all of s. */
int pfi_parse_decimal(struct pfi_slice s, double *out);

/* ---- verdict.c: the milters and filters beside Postfix ------------------ */

/* How long a verdict logged before its message had a queue ID (an SPF
 * check at RCPT) waits for the message or NOQUEUE reject it belongs to
 * (correlate.c); the read side finds the reject within it too. */
#define PFI_VERDICT_HOLD_US (60 * INT64_C(1000000))
#define PFI_VERDICT_HOLD_SQL "60000000"     /* the same, in SQL text */

enum pfi_verdict_line {
	PFI_VL_OTHER = 0,    /* not a program verdict.c reads */
	PFI_VL_NONE,         /* a line of one that decides nothing (start-up ...) */
	PFI_VL_VERDICT,      /* a verdict, read into *v */
	PFI_VL_UNREADABLE,   /* starts like a verdict, but cannot be read */
};
/* PFI_VL_NONE lines that name a message still give v->qid, so the line
 * joins it; opendkim's per-signature lines also give v->domain and
 * v->detail with v->detail_only set. */

/*
 * One verdict.  kind and result are static strings of SPEC's vocabulary
 * (kind dkim, spf, dmarc, spam, virus); the slices point into the line and
 * are absent when the line does not say.
 */
struct pfi_verdict_read {
	struct pfi_slice program;     /* the line's program */
	const char *kind, *result;
	struct pfi_slice qid;         /* the message it is about */
	struct pfi_slice domain;      /* signing or checked domain, identity */
	struct pfi_slice detail;      /* selector, virus names, SPF scope ... */
	double score;
	int has_score;
	struct pfi_slice client_ip;   /* SPF: the client checked */
	struct pfi_slice reply;       /* SPF: the reject or defer text, which
	                                 Postfix's reject line quotes */
	int virus_clean;              /* amavis: the line also says no virus
	                                 was found (a second verdict) */
	int detail_only;              /* opendkim: a signature's domain and
	                                 selector, for the verdict of the
	                                 same message (no verdict itself) */
	int per_signature;            /* opendkim: one signature's result of
	                                 its LogResults line, which lists all */
	size_t nmore;                 /* of v[0]: verdicts in v[1..nmore] */
};

/* The most verdicts one line gives (opendkim lists each signature). */
#define PFI_VERDICTS_PER_LINE 8

/* Whether the program (its last component) is one verdict.c reads. */
int pfi_verdict_program(struct pfi_slice program);
/* Reads the line of envelope env into v[0] (v has PFI_VERDICTS_PER_LINE
 * places); a line with several verdicts puts the others in v[1..] and
 * their number in v[0].nmore. */
enum pfi_verdict_line pfi_verdict_parse(const struct pfi_envelope *env,
                                        struct pfi_verdict_read *v);

/* A static lower-case name for an event kind ("delivery", "reject" ...). */
const char *pfi_ev_name(enum pfi_ev kind);

/*
 * Parses Postfix's "key=value, key=<value>, key=value (text)" lists.
 * Cursor over [*p, end): on success stores the key and value, advances *p
 * past the separator and returns 1; returns 0 at the end or on malformed
 * input (then *p is unchanged).  `<...>` values are unwrapped.
 */
int pfi_kv_next(const char **p, const char *end, struct pfi_slice *key,
                struct pfi_slice *val);

/* ---- addr.c ----------------------------------------------------------------- */

/* The domain of an address, lower-cased into buf; NULL when it has none. */
const char *pfi_addr_domain(const char *addr, char *buf, size_t size);

/* ---- filter.c: a struct pfi_filter compiled to SQL ------------------------ */

struct sqlite3_stmt;
struct pfi_where;

/*
 * Checks and compiles filter `f` (CIDR, DSN pattern, statuses, the PCRE2
 * regex, JIT-compiled once) into an SQL condition over the aliases
 * `d` (deliveries) and `m` (messages, LEFT JOINed on m.id = d.message),
 * with its own bound parameters.  Time bounds apply to d.time.
 * Returns PFI_OK, PFI_EINVAL (message on st naming the bad value), or
 * PFI_ENOMEM.  `st` is also where --grep's SQL function is registered.
 */
int pfi_where_new(struct pfi_where **out, pfi_store *st,
                  const struct pfi_filter *f);
/* Registers pfi's SQL functions (pfi_domain, pfi_inet_in, pfi_grep) on
 * st's connection unless already there; for queries that use them
 * outside a filter.  PFI_OK or PFI_ERROR (message on st). */
int pfi_where_functions(pfi_store *st);
/* The condition, e.g. "d.recipient = ?7 AND ...", or "1" when empty.
 * Parameters are numbered from the `first` given to pfi_where_bind. */
const char *pfi_where_sql(const struct pfi_where *w);
/* Binds the condition's parameters as ?first, ?first+1 ...; returns the
 * next free index. */
int pfi_where_bind(const struct pfi_where *w, struct sqlite3_stmt *s,
                   int first);
void pfi_where_free(struct pfi_where *w);
/* Whether the filter selects more than a period (then the stats cells,
 * which know only hours, cannot answer).  f may be NULL. */
int pfi_filter_narrows(const struct pfi_filter *f);
/* Prepares head + the condition of w + tail, binding w's values from
 * ?first.  PFI_OK, PFI_ENOMEM or PFI_ERROR (message on st). */
int pfi_where_prepare(pfi_store *st, const char *head,
                      const struct pfi_where *w, const char *tail, int first,
                      struct sqlite3_stmt **out);

#endif /* PFI_INT_H */
