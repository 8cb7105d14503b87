/*
 * read-journal.c - the systemd journal as an input: pfi_journal, a set of
 * journal sources (the system journal, directories and files of copied or
 * exported journals), read through libsystemd's sd-journal.
 *
 * Each source is its own sd_journal, so that each keeps its own cursor in
 * the index: a source is a place ("system", a directory, a file), and a
 * directory's files are merged in time order by sd-journal itself.  An
 * entry's fields are read in one pass over its data
 * (sd_journal_enumerate_available_data), not one sd_journal_get_data()
 * each, which scans the entry's fields again every time.
 *
 * Cursors: sd_journal_test_cursor() also compares the file's sequence
 * number ID, which a copy of a journal re-imported (systemd-journal-remote,
 * journalctl -o export | ...) does not keep.  An entry is taken for the
 * cursor's when the cursor's boot ID, monotonic and realtime clocks and
 * content hash ("b=", "m=", "t=", "x=") all match: the same entry, in
 * whichever file.
 *
 * Built without libsystemd (configure --without-systemd), a pfi_journal
 * can be made but no source added: pfi_journal_add() says why.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "read-journal.h"

#define SOURCES_MAX 64      /* sources of one pfi_journal */

struct pfi_jsource {
#ifdef HAVE_SYSTEMD
	sd_journal *sd;         /* the open journal */
	int fd;                 /* sd_journal_get_fd(), -1 until waited on */
	struct pfi_buf fields;  /* the values of the entry handed out */
#endif
	char *name;             /* "system", or the path as given */
};

struct pfi_journal {
	struct pfi_jsource *src[SOURCES_MAX];
	size_t n;
	struct pfi_err err;     /* the last failure */
};

int pfi_journal_new(pfi_journal **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? PFI_OK : PFI_ENOMEM;
}

const char *pfi_journal_errmsg(const pfi_journal *j)
{
	return j && j->err.msg[0] ? j->err.msg : "no error";
}

size_t pfi_journal_nsources(const pfi_journal *j)
{
	return j->n;
}

struct pfi_jsource *pfi_journal_source(pfi_journal *j, size_t i)
{
	return i < j->n ? j->src[i] : NULL;
}

const char *pfi_jsource_name(const struct pfi_jsource *s)
{
	return s->name;
}

#ifdef HAVE_SYSTEMD

int pfi_journal_supported(void)
{
	return 1;
}

/* The name of a source in messages: "the system journal", "'PATH'". */
static const char *shown(enum pfi_journal_kind kind)
{
	return kind == PFI_JOURNAL_SYSTEM ? "the system journal"
	       : kind == PFI_JOURNAL_DIR ? "journal directory" : "journal file";
}

static int open_sd(sd_journal **sd, enum pfi_journal_kind kind,
                   const char *path)
{
	const char *files[2] = { path, NULL };

	if (kind == PFI_JOURNAL_SYSTEM)
		return sd_journal_open(sd, SD_JOURNAL_SYSTEM);
	if (kind == PFI_JOURNAL_DIR)
		return sd_journal_open_directory(sd, path, 0);
	return sd_journal_open_files(sd, files, 0);
}

/* Opens one source; *s is NULL on failure, with the message on err. */
static int source_open(struct pfi_jsource **out, enum pfi_journal_kind kind,
                       const char *path, struct pfi_err *err)
{
	struct pfi_jsource *s = calloc(1, sizeof(*s));
	const char *name = kind == PFI_JOURNAL_SYSTEM ? "system" : path;
	uint64_t bytes;
	int r;

	*out = NULL;
	if (s == NULL || (s->name = strdup(name)) == NULL) {
		free(s);
		return pfi_err_set(err, PFI_ENOMEM, "out of memory");
	}
	s->fd = -1;
	/* A field is read up to a line's length, a whole entry's up to a few. */
	pfi_buf_init(&s->fields, 8 * PFI_LINE_MAX);
	r = open_sd(&s->sd, kind, path);
	if (r < 0) {
		pfi_err_set(err, PFI_EIO, "cannot open %s%s%s%s: %s", shown(kind),
		            path ? " '" : "", path ? path : "", path ? "'" : "",
		            r == -EBADMSG ? "not a journal file" : strerror(-r));
		goto fail;
	}
	/* Only a line's length of a field is used: decompress no more. */
	sd_journal_set_data_threshold(s->sd, PFI_LINE_MAX + 32);
	/* sd-journal skips what it cannot read: say so when that is all. */
	if (sd_journal_get_usage(s->sd, &bytes) < 0 || bytes == 0) {
		if (kind == PFI_JOURNAL_SYSTEM)
			pfi_err_set(err, PFI_EIO, "no systemd journal files in"
			            " /var/log/journal or /run/log/journal%s",
			            geteuid() == 0 ? "" : " that this user can read"
			            " (is it in group 'systemd-journal' or 'adm'?)");
		else
			pfi_err_set(err, PFI_EIO, "%s '%s' holds no journal files%s",
			            shown(kind), path, geteuid() == 0 ? ""
			            : " that this user can read");
		goto fail;
	}
	*out = s;
	return PFI_OK;
fail:
	sd_journal_close(s->sd);
	pfi_buf_release(&s->fields);
	free(s->name);
	free(s);
	return err->code;
}

static void source_close(struct pfi_jsource *s)
{
	if (s == NULL)
		return;
	sd_journal_close(s->sd);
	pfi_buf_release(&s->fields);
	free(s->name);
	free(s);
}

int pfi_journal_add(pfi_journal *j, enum pfi_journal_kind kind,
                    const char *path)
{
	struct pfi_jsource *s;
	int rc;

	pfi_err_clear(&j->err);
	if ((kind == PFI_JOURNAL_SYSTEM) != (path == NULL) ||
	    kind > PFI_JOURNAL_FILE)
		return pfi_err_set(&j->err, PFI_EINVAL, "a journal directory or"
		                   " file needs a path, the system journal none");
	if (j->n == SOURCES_MAX)
		return pfi_err_set(&j->err, PFI_EINVAL, "more than %d journal"
		                   " sources", SOURCES_MAX);
	rc = source_open(&s, kind, path, &j->err);
	if (rc == PFI_OK)
		j->src[j->n++] = s;
	return rc;
}

/* ---- entries -------------------------------------------------------------- */

/* A decimal number of at most 10 digits, else -1. */
static long number_of(struct pfi_slice v)
{
	long x = 0;
	size_t i;

	if (v.p == NULL || v.n == 0 || v.n > 10)
		return -1;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		x = x * 10 + (v.p[i] - '0');
	}
	return x;
}

/* The fields pfi reads. */
enum field {
	F_HOST, F_IDENT, F_COMM, F_SPID, F_PID, F_FACILITY, F_TEXT, F__COUNT
};

static const struct {
	const char *name;   /* with its '=' */
	size_t len;
} field_names[F__COUNT] = {
	[F_HOST] = { "_HOSTNAME=", 10 },
	[F_IDENT] = { "SYSLOG_IDENTIFIER=", 18 },
	[F_COMM] = { "_COMM=", 6 },
	[F_SPID] = { "SYSLOG_PID=", 11 },
	[F_PID] = { "_PID=", 5 },
	[F_FACILITY] = { "SYSLOG_FACILITY=", 16 },
	[F_TEXT] = { "MESSAGE=", 8 },
};

/* Which field "NAME=value" (n bytes) is, or F__COUNT for none. */
static enum field field_of(const char *d, size_t n)
{
	int f;

	for (f = 0; f < F__COUNT; f++)
		if (n >= field_names[f].len && d[0] == field_names[f].name[0] &&
		    memcmp(d, field_names[f].name, field_names[f].len) == 0)
			return (enum field)f;
	return F__COUNT;
}

/*
 * The values of an entry's fields, copied into s->fields: a field that
 * sd-journal had to decompress lives in a buffer of its own that the
 * next compressed field reuses, so pointers into the journal would not
 * survive the pass over the entry.  val[f] is absent for a field the
 * entry lacks.
 */
static int copy_fields(struct pfi_jsource *s, struct pfi_slice val[F__COUNT],
                       struct pfi_err *err)
{
	size_t off[F__COUNT], len[F__COUNT];
	const void *data;
	size_t n;
	int r, f, have = 0;

	pfi_buf_reset(&s->fields);
	sd_journal_restart_data(s->sd);
	while ((r = sd_journal_enumerate_available_data(s->sd, &data, &n)) > 0) {
		if (n == 0 || (f = field_of(data, n)) == F__COUNT)
			continue;
		off[f] = s->fields.len;
		len[f] = n - field_names[f].len;
		if (len[f] > PFI_LINE_MAX)   /* a line longer is cut anyway */
			len[f] = PFI_LINE_MAX;
		have |= 1 << f;
		if (pfi_buf_append(&s->fields, (const char *)data +
		                   field_names[f].len, len[f]) != PFI_OK)
			return pfi_err_set(err, PFI_ENOMEM, "out of memory");
	}
	if (r < 0)
		return pfi_err_set(err, PFI_EIO, "'%s': cannot read an entry: %s",
		                   s->name, strerror(-r));
	for (f = 0; f < F__COUNT; f++) {
		val[f].p = have & (1 << f) ? s->fields.data + off[f] : NULL;
		val[f].n = have & (1 << f) ? len[f] : 0;
	}
	return PFI_OK;
}

static int read_entry(struct pfi_jsource *s, struct pfi_jentry *e,
                      struct pfi_err *err)
{
	struct pfi_slice v[F__COUNT];
	uint64_t usec;
	int r = sd_journal_get_realtime_usec(s->sd, &usec);

	if (r < 0)
		return pfi_err_set(err, PFI_EIO, "'%s': cannot read an entry's"
		                   " time: %s", s->name, strerror(-r));
	if ((r = copy_fields(s, v, err)) != PFI_OK)
		return r;
	e->time = usec > INT64_MAX ? INT64_MAX : (int64_t)usec;
	e->host = v[F_HOST];
	e->program = v[F_IDENT].p ? v[F_IDENT] : v[F_COMM];
	e->pid = number_of(v[F_SPID]);
	if (e->pid < 0)
		e->pid = number_of(v[F_PID]);
	e->facility = (int)number_of(v[F_FACILITY]);
	e->text = v[F_TEXT];
	return PFI_OK;
}

int pfi_jsource_next(struct pfi_jsource *s, struct pfi_jentry *e,
                     struct pfi_err *err)
{
	int r = sd_journal_next(s->sd);

	if (r < 0)
		return pfi_err_set(err, PFI_EIO, "'%s': cannot read the next"
		                   " entry: %s", s->name, strerror(-r));
	if (r == 0)
		return PFI_EOF;
	return read_entry(s, e, err);
}

int pfi_jsource_cursor(struct pfi_jsource *s, char **out,
                       struct pfi_err *err)
{
	int r = sd_journal_get_cursor(s->sd, out);

	if (r == -ENOMEM)
		return pfi_err_set(err, PFI_ENOMEM, "out of memory");
	if (r < 0)
		return pfi_err_set(err, PFI_EIO, "'%s': cannot get the journal"
		                   " cursor: %s", s->name, strerror(-r));
	return PFI_OK;
}

/* ---- cursors ---------------------------------------------------------------- */

/* The value of item `key` ('b', 'm', 't' or 'x') of a cursor
 * "s=...;i=...;b=...;m=...;t=...;x=...", or an absent slice. */
static struct pfi_slice cursor_item(const char *c, char key)
{
	struct pfi_slice v = { NULL, 0 };
	const char *end;

	for (; c && *c; c = end + (*end == ';')) {
		end = c + strcspn(c, ";");
		if (c[0] == key && c[1] == '=') {
			v.p = c + 2;
			v.n = (size_t)(end - c - 2);
			return v;
		}
	}
	return v;
}

/* Whether two cursors name the same entry, whatever file holds it. */
static int same_entry(const char *a, const char *b)
{
	static const char keys[] = "bmtx";
	size_t i;

	for (i = 0; keys[i]; i++) {
		struct pfi_slice x = cursor_item(a, keys[i]);
		struct pfi_slice y = cursor_item(b, keys[i]);
		if (x.p == NULL || y.p == NULL || x.n != y.n ||
		    memcmp(x.p, y.p, x.n) != 0)
			return 0;
	}
	return 1;
}

/* After sd_journal_seek_cursor() the next entry is the cursor's, when the
 * journal still has it, or the first one after where it was. */
static int skip_cursor_entry(struct pfi_jsource *s, const char *cursor,
                             struct pfi_err *err)
{
	char *here = NULL;
	int r = sd_journal_next(s->sd), same;

	if (r <= 0)
		return r < 0 ? pfi_err_set(err, PFI_EIO, "'%s': cannot read"
		                           " the journal: %s", s->name,
		                           strerror(-r)) : PFI_OK;
	r = sd_journal_get_cursor(s->sd, &here);
	if (r < 0)
		return pfi_err_set(err, PFI_EIO, "'%s': cannot get the journal"
		                   " cursor: %s", s->name, strerror(-r));
	same = same_entry(here, cursor);
	free(here);
	/* Not the cursor's entry: step back, so that next() hands it out. */
	r = same ? 0 : sd_journal_previous(s->sd);
	if (r < 0)
		return pfi_err_set(err, PFI_EIO, "'%s': cannot read the journal:"
		                   " %s", s->name, strerror(-r));
	if (!same && r == 0)   /* it was the first entry: from the head */
		r = sd_journal_seek_head(s->sd);
	return r < 0 ? pfi_err_set(err, PFI_EIO, "'%s': cannot seek: %s",
	                           s->name, strerror(-r)) : PFI_OK;
}

int pfi_jsource_seek(struct pfi_jsource *s, const char *cursor,
                     struct pfi_err *err)
{
	int r;

	if (cursor == NULL) {
		r = sd_journal_seek_head(s->sd);
		return r < 0 ? pfi_err_set(err, PFI_EIO, "'%s': cannot seek: %s",
		                           s->name, strerror(-r)) : PFI_OK;
	}
	r = sd_journal_seek_cursor(s->sd, cursor);
	if (r < 0)
		return pfi_err_set(err, PFI_EIO, "'%s': cannot seek to the stored"
		                   " journal cursor: %s", s->name, strerror(-r));
	return skip_cursor_entry(s, cursor, err);
}

/* ---- waiting ------------------------------------------------------------------ */

/* Sets up change notification for every source; 1 when it was not set up
 * before (changes until now are unknown), 0 when it was. */
static int watch(pfi_journal *j)
{
	size_t i;
	int fresh = 0;

	for (i = 0; i < j->n; i++) {
		struct pfi_jsource *s = j->src[i];
		if (s->fd >= 0)
			continue;
		s->fd = sd_journal_get_fd(s->sd);
		if (s->fd < 0)
			return pfi_err_set(&j->err, PFI_EIO, "cannot watch '%s': %s",
			                   s->name, strerror(-s->fd));
		fresh = 1;
	}
	return fresh;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The poll timeout: timeout_ms, or sooner when a journal asks for it. */
static int poll_timeout(pfi_journal *j, int timeout_ms)
{
	uint64_t t, now_ms;
	size_t i;

	for (i = 0; i < j->n; i++) {
		if (sd_journal_get_timeout(j->src[i]->sd, &t) < 0 ||
		    t == (uint64_t)-1)
			continue;
		/* t is an absolute CLOCK_MONOTONIC time; 0: at once. */
		if (t == 0)
			return 0;
		now_ms = monotonic_ms();
		t /= 1000;
		if (t <= now_ms)
			return 0;
		if (timeout_ms < 0 || t - now_ms < (uint64_t)timeout_ms)
			timeout_ms = (int)(t - now_ms);
	}
	return timeout_ms;
}

int pfi_journal_wait(pfi_journal *j, int timeout_ms)
{
	struct pollfd pfd[SOURCES_MAX];
	size_t i;
	int r, changed = 0;

	if ((r = watch(j)) != 0)
		return r;   /* 1: set up just now, so look; or the failure */
	for (i = 0; i < j->n; i++) {
		pfd[i].fd = j->src[i]->fd;
		pfd[i].events = (short)sd_journal_get_events(j->src[i]->sd);
		pfd[i].revents = 0;
	}
	r = poll(pfd, j->n, poll_timeout(j, timeout_ms));
	if (r < 0 && errno != EINTR)
		return pfi_err_set(&j->err, PFI_EIO, "cannot wait on the journal:"
		                   " %s", strerror(errno));
	for (i = 0; i < j->n; i++) {
		r = sd_journal_process(j->src[i]->sd);
		if (r < 0)
			return pfi_err_set(&j->err, PFI_EIO, "'%s': %s",
			                   j->src[i]->name, strerror(-r));
		changed |= r != SD_JOURNAL_NOP;
	}
	return changed;
}

#else /* !HAVE_SYSTEMD */

int pfi_journal_supported(void)
{
	return 0;
}

static void source_close(struct pfi_jsource *s)
{
	free(s);
}

int pfi_journal_add(pfi_journal *j, enum pfi_journal_kind kind,
                    const char *path)
{
	return pfi_err_set(&j->err, PFI_EINVAL, "this pfi was built without"
	                   " systemd journal support (configure --with-systemd,"
	                   " with libsystemd-dev installed)");
}

int pfi_journal_wait(pfi_journal *j, int timeout_ms)
{
	return pfi_err_set(&j->err, PFI_EINVAL, "no journal to wait on");
}

int pfi_jsource_seek(struct pfi_jsource *s, const char *cursor,
                     struct pfi_err *err)
{
	return pfi_err_set(err, PFI_EINVAL, "no journal support");
}

int pfi_jsource_next(struct pfi_jsource *s, struct pfi_jentry *e,
                     struct pfi_err *err)
{
	return PFI_EOF;
}

int pfi_jsource_cursor(struct pfi_jsource *s, char **out,
                       struct pfi_err *err)
{
	*out = NULL;
	return pfi_err_set(err, PFI_EINVAL, "no journal support");
}

#endif /* HAVE_SYSTEMD */

void pfi_journal_free(pfi_journal *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++)
		source_close(j->src[i]);
	free(j);
}
