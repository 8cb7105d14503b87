/*
 * metrics.c - `pfi metrics`: the index as a Prometheus text exposition,
 * printed, written atomically to a file (node_exporter's textfile
 * collector), or served over HTTP by GNU libmicrohttpd.  With --follow the
 * same process indexes the live logs, so one service is both indexer and
 * exporter.  Reads the index; writes it only with --follow.
 */
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <netdb.h>
#include <zlib.h>

#include "pfi.h"

enum { OPT_LISTEN = 'l', OPT_OUTPUT = 'o', OPT_FOLLOW = 'f', OPT_TOP = 1 };

static const struct cli_opt metrics_opts[] = {
	{ "listen", 0, CLI_ARG_TEXT, "ADDR:PORT", OPT_LISTEN,
	  CLI_OPT_OPTIONAL_VALUE, NULL,
	  "serve GET /metrics (default 127.0.0.1:9154)", NULL },
	{ "output", 'o', CLI_ARG_FILE, "FILE", OPT_OUTPUT, 0, NULL,
	  "write the metrics to FILE (temp file + rename)", NULL },
	{ "top", 0, CLI_ARG_NUMBER, "N", OPT_TOP, 0, NULL,
	  "recipient domains with series of their own (default 20; the rest "
	  "are \"other\")", NULL },
	{ "follow", 'f', CLI_ARG_NONE, NULL, OPT_FOLLOW, 0, NULL,
	  "index PATH... (default /var/log/mail.log*, /var/log/maillog*) as "
	  "they grow, in this process", "[--follow [PATH ...]]" },
	{ NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL }
};

#define METRICS_DEFAULT_LISTEN "127.0.0.1:9154"
/* Seconds between two renderings of a changing index, at least; and at
 * least METRICS_COST_FACTOR times what the last one took, so that
 * rendering a large index for a busy log takes at most 5% of a core. */
#define METRICS_MIN_AGE 10
#define METRICS_COST_FACTOR 20
/* Seconds after which an unchanged index is rendered again all the same,
 * for what does not live in it: the mtime of the logs, which shows an
 * indexer that stopped. */
#define METRICS_MAX_AGE 300
#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"

static volatile sig_atomic_t metrics_stop;

struct metrics_args {
	const char *listen;        /* --listen, NULL when not given */
	const char *output;        /* --output */
	int follow, help;
	size_t top;
};

/* What the HTTP thread and the main thread share. */
struct metrics_srv {
	pthread_mutex_t lock;
	pfi_store *st;             /* read handle, used under lock */
	struct pfi_metrics_opts opts;
	uint64_t stamp;            /* of the cached rendering */
	int have;                  /* text and gz hold a rendering */
	pfi_metrics *rendering;    /* owns text */
	const char *text;
	size_t len;
	unsigned char *gz;
	size_t gzlen;
	uint64_t gen;              /* renderings made, from 1 */
	struct timespec rendered;  /* when the last one began (monotonic) */
	double cost;               /* seconds the last one took */
};

static void metrics_on_signal(int sig)
{
	(void)sig;
	metrics_stop = 1;
}

/* gzip of the n bytes at p into a new buffer; NULL when zlib fails. */
static unsigned char *metrics_gzip(const char *p, size_t n, size_t *out)
{
	z_stream z;
	unsigned char *buf;
	uLong cap;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return NULL;
	cap = deflateBound(&z, (uLong)n) + 32;
	buf = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)p;
	z.avail_in = (uInt)n;
	z.next_out = buf;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		free(buf);
		buf = NULL;
	}
	*out = z.total_out;
	deflateEnd(&z);
	return buf;
}

/*
 * Renders again when the index changed (or a run of this process ended,
 * which clears `have`, or METRICS_MAX_AGE passed) and the last rendering
 * is old enough (see METRICS_MIN_AGE), then swaps it in under the lock,
 * so a scrape never waits for a rendering.  Main thread only.
 */
static int metrics_refresh(struct metrics_srv *s)
{
	uint64_t stamp = 0;
	struct timespec now, done;
	unsigned char *gz;
	size_t len, gzlen = 0;
	double age, min_age = METRICS_COST_FACTOR * s->cost;
	pfi_metrics *r;
	const char *text;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (pfi_metrics_stamp(s->st, &stamp) != PFI_OK)
		return PFI_ERROR;
	age = (double)(now.tv_sec - s->rendered.tv_sec) +
	      (double)(now.tv_nsec - s->rendered.tv_nsec) / 1e9;
	if (s->gen > 0 && ((s->have && stamp == s->stamp &&
	                    age < METRICS_MAX_AGE) ||
	                   age < (min_age > METRICS_MIN_AGE ? min_age
	                          : METRICS_MIN_AGE)))
		return PFI_OK;
	if (pfi_metrics_new(&r, s->st, &s->opts) != PFI_OK)
		return PFI_ERROR;
	text = pfi_metrics_text(r, &len);
	clock_gettime(CLOCK_MONOTONIC, &done);
	s->cost = (double)(done.tv_sec - now.tv_sec) +
	          (double)(done.tv_nsec - now.tv_nsec) / 1e9;
	gz = metrics_gzip(text, len, &gzlen);
	pthread_mutex_lock(&s->lock);
	pfi_metrics_free(s->rendering);
	free(s->gz);
	s->rendering = r;
	s->text = text;
	s->len = len;
	s->gz = gz;
	s->gzlen = gzlen;
	s->stamp = stamp;
	s->have = 1;
	s->gen++;
	s->rendered = now;
	pthread_mutex_unlock(&s->lock);
	return PFI_OK;
}

/* Whether Accept-Encoding asks for gzip (and not with q=0). */
static int metrics_wants_gzip(const char *ae)
{
	const char *g = ae ? strstr(ae, "gzip") : NULL;

	if (g == NULL)
		return 0;
	g += 4;
	while (*g == ' ')
		g++;
	return !(strncmp(g, ";q=0", 4) == 0 && (g[4] == '\0' || g[4] == ',' ||
	         strspn(g + 4, ".0") == strcspn(g + 4, ",")));
}

static enum MHD_Result metrics_reply(struct MHD_Connection *c, unsigned code,
                                     const void *body, size_t n,
                                     const char *ctype, int gz)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(n, (void *)body,
	                                        MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ok = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result metrics_scrape(struct metrics_srv *s,
                                      struct MHD_Connection *c)
{
	const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	                                     MHD_HTTP_HEADER_ACCEPT_ENCODING);
	enum MHD_Result ok;

	pthread_mutex_lock(&s->lock);
	if (s->gz && metrics_wants_gzip(ae))
		ok = metrics_reply(c, MHD_HTTP_OK, s->gz, s->gzlen, METRICS_CTYPE, 1);
	else
		ok = metrics_reply(c, MHD_HTTP_OK, s->text, s->len, METRICS_CTYPE, 0);
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static enum MHD_Result metrics_answer(void *cls, struct MHD_Connection *c,
                                      const char *url, const char *method,
                                      const char *version, const char *data,
                                      size_t *size, void **req)
{
	static const char root[] = "<html><head><title>pfi</title></head><body>"
		"<h1>pfi metrics</h1><p><a href=\"/metrics\">/metrics</a></p>"
		"</body></html>\n";
	static const char none[] = "not found\n", bad[] = "method not allowed\n";

	(void)version; (void)data; (void)size; (void)req;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return metrics_reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, bad,
		                     sizeof(bad) - 1, "text/plain", 0);
	if (strcmp(url, "/metrics") == 0)
		return metrics_scrape(cls, c);
	if (strcmp(url, "/") == 0)
		return metrics_reply(c, MHD_HTTP_OK, root, sizeof(root) - 1,
		                     "text/html; charset=utf-8", 0);
	return metrics_reply(c, MHD_HTTP_NOT_FOUND, none, sizeof(none) - 1,
	                     "text/plain", 0);
}

/* Starts the server on ADDR:PORT ("[::1]:9154" for IPv6; port 0 picks
 * one); NULL after reporting. */
static struct MHD_Daemon *metrics_listen(const char *spec,
                                         struct metrics_srv *s)
{
	char host[256];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints, *ai = NULL;
	struct MHD_Daemon *d = NULL;
	size_t hl;

	if (colon == NULL || colon == spec || colon[1] == '\0' ||
	    (hl = (size_t)(colon - spec)) >= sizeof(host)) {
		cli_usage_error("metrics", "invalid --listen '%s': want ADDR:PORT",
		                spec);
		return NULL;
	}
	if (spec[0] == '[' && colon[-1] == ']')
		memcpy(host, spec + 1, hl -= 2);
	else
		memcpy(host, spec, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || ai == NULL) {
		cli_usage_error("metrics", "invalid --listen '%s': cannot resolve"
		                " it", spec);
		return NULL;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	                     (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	                     0, NULL, NULL, metrics_answer, s,
	                     MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	                     MHD_OPTION_CONNECTION_LIMIT, 64u,
	                     MHD_OPTION_PER_IP_CONNECTION_LIMIT, 16u,
	                     MHD_OPTION_CONNECTION_TIMEOUT, 10u,
	                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
	                     MHD_OPTION_END);
	freeaddrinfo(ai);
	if (d == NULL)
		cli_warn("cannot listen on '%s': %s", spec, strerror(errno));
	return d;
}

/* Writes text to path through a temporary file in the same directory. */
static int metrics_write_file(const char *path, const char *text, size_t n)
{
	size_t pl = strlen(path);
	char *tmp = xmalloc(pl + 16);
	FILE *fp = NULL;
	int fd, rc = PFI_EXIT_OK;

	snprintf(tmp, pl + 16, "%s.tmp.XXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0 || fchmod(fd, 0644) != 0 ||
	    (fp = fdopen(fd, "w")) == NULL || fwrite(text, 1, n, fp) != n ||
	    fflush(fp) != 0 || fsync(fd) != 0)
		rc = cli_error("cannot write '%s': %s", tmp, strerror(errno));
	if (fp ? fclose(fp) != 0 && rc == PFI_EXIT_OK : fd >= 0 && close(fd))
		rc = cli_error("cannot write '%s': %s", tmp, strerror(errno));
	if (rc == PFI_EXIT_OK && rename(tmp, path) != 0)
		rc = cli_error("cannot rename '%s' to '%s': %s", tmp, path,
		               strerror(errno));
	if (rc != PFI_EXIT_OK && fd >= 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Renders once from st to --output or stdout. */
static int metrics_once(pfi_store *st, const struct metrics_args *a,
                        const struct pfi_metrics_opts *o)
{
	pfi_metrics *r;
	const char *text;
	size_t n;
	int rc;

	if (pfi_metrics_new(&r, st, o) != PFI_OK)
		return cli_error("cannot read metrics: %s", pfi_errmsg(st));
	text = pfi_metrics_text(r, &n);
	if (a->output)
		rc = metrics_write_file(a->output, text, n);
	else if (fwrite(text, 1, n, stdout) != n && !cli_stdout_closed())
		rc = cli_error("cannot write to standard output: %s",
		               strerror(errno));
	else
		rc = PFI_EXIT_OK;
	pfi_metrics_free(r);
	return rc;
}

/* ---- --follow: the indexer in the same process ---------------------------------- */

static void metrics_warn(void *ctx, const char *msg)
{
	(void)ctx;
	cli_warn("%s", msg);
}

static int64_t metrics_now_us(struct timespec *mono)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, mono);
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* One pass of the indexer when the files changed; 1 when it ran. */
static int metrics_index_pass(pfi_store *w, char **paths, size_t n,
                              uint64_t *last, struct metrics_srv *s)
{
	struct pfi_index_opts opts;
	struct timespec t0, t1;
	glob_t gl = { 0 };
	uint64_t sig = cli_follow_files(paths, n, &gl);
	int64_t end;
	int rc;

	if (sig == *last) {
		globfree(&gl);
		return 0;
	}
	memset(&opts, 0, sizeof(opts));
	opts.version = PFI_INDEX_OPTIONS_VERSION;
	opts.warn = metrics_warn;
	opts.stop = &metrics_stop;
	opts.follow = 1;
	metrics_now_us(&t0);
	rc = pfi_index_paths(w, (const char *const *)gl.gl_pathv, gl.gl_pathc,
	                     &opts, NULL);
	end = metrics_now_us(&t1);
	globfree(&gl);
	if (rc != PFI_OK && rc != PFI_EIO)
		cli_warn("cannot index: %s", pfi_errmsg(w));
	*last = sig;
	pthread_mutex_lock(&s->lock);
	s->opts.run_end = end;
	s->opts.run_seconds = (double)(t1.tv_sec - t0.tv_sec) +
	                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	s->have = 0;   /* the run families changed even when no data did */
	pthread_mutex_unlock(&s->lock);
	return 1;
}

/* ---- serving ------------------------------------------------------------------------ */

/* --output while serving or following: rewrites FILE after each new
 * rendering. */
static int metrics_update_file(struct metrics_srv *s, const char *path,
                               uint64_t *written)
{
	if (s->gen == *written)
		return PFI_EXIT_OK;
	*written = s->gen;
	return metrics_write_file(path, s->text, s->len);
}

static int metrics_loop(struct metrics_srv *s, pfi_store *w,
                        const struct metrics_args *a, char **paths, size_t n,
                        uint64_t last)
{
	uint64_t written = 0;
	int rc = PFI_EXIT_OK;

	while (!metrics_stop && rc == PFI_EXIT_OK) {
		if (w)
			metrics_index_pass(w, paths, n, &last, s);
		if (metrics_refresh(s) != PFI_OK)
			cli_warn("cannot read metrics: %s", pfi_errmsg(s->st));
		if (a->output && s->gen > 0)
			rc = metrics_update_file(s, a->output, &written);
		cli_nap(500, &metrics_stop);
	}
	return rc;
}

static int metrics_serve(struct pfi_globals *g, const struct metrics_args *a,
                         char **paths, size_t n)
{
	struct metrics_srv s;
	struct MHD_Daemon *d = NULL;
	struct sigaction sa, old_int, old_term;
	const char *path = cli_db_path(g);
	pfi_store *w = NULL;
	uint64_t last = 0;
	int rc = PFI_EXIT_FAILURE;

	memset(&s, 0, sizeof(s));
	pthread_mutex_init(&s.lock, NULL);
	s.opts.version = PFI_METRICS_OPTIONS_VERSION;
	s.opts.top = a->top;
	if (path == NULL)
		goto done;
	if (a->follow && pfi_store_open(&w, path, PFI_OPEN_WRITE) != PFI_OK) {
		cli_warn("cannot open index '%s': %s", path, pfi_errmsg(w));
		goto done;
	}
	if ((s.st = cli_store(g)) == NULL)
		goto done;
	g->store = NULL;   /* s.st is closed here, not by pfi_main */
	if (w)
		metrics_index_pass(w, paths, n, &last, &s);
	if (metrics_refresh(&s) != PFI_OK) {
		cli_warn("cannot read metrics: %s", pfi_errmsg(s.st));
		goto done;
	}
	if (a->listen && (d = metrics_listen(a->listen, &s)) == NULL)
		goto done;
	if (d)
		fprintf(stderr, "pfi: serving metrics on http://%.*s:%u/metrics\n",
		        (int)(strrchr(a->listen, ':') - a->listen), a->listen,
		        (unsigned)MHD_get_daemon_info(d,
		        MHD_DAEMON_INFO_BIND_PORT)->port);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = metrics_on_signal;
	sigemptyset(&sa.sa_mask);
	metrics_stop = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	rc = metrics_loop(&s, w, a, paths, n, last);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
done:
	if (d)
		MHD_stop_daemon(d);
	pfi_store_close(s.st);
	pfi_store_close(w);
	pfi_metrics_free(s.rendering);
	free(s.gz);
	pthread_mutex_destroy(&s.lock);
	return rc;
}

/* ---- the command line ------------------------------------------------------------ */

/* --listen takes its value after '=', or as the next word when that
 * looks like ADDR:PORT, so that `--listen 0.0.0.0:9154` works too. */
static const char *metrics_listen_arg(struct cli_parse *p)
{
	const char *next = cli_parse_peek(p);

	if (p->value)
		return p->value;
	if (next && next[0] != '-' && strchr(next, ':') &&
	    strspn(strrchr(next, ':') + 1, "0123456789") ==
	    strlen(strrchr(next, ':') + 1)) {
		cli_parse_skip(p);
		return next;
	}
	return METRICS_DEFAULT_LISTEN;
}

static int metrics_top(const char *v, struct metrics_args *a)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 1000)
		return cli_usage_error("metrics", "invalid --top '%s':"
		                       " want 1 to 1000", v);
	a->top = (size_t)n;
	return -1;
}

/* Returns -1 with the operands in p->args, or an exit code. */
static int metrics_parse(struct cli_parse *p, struct metrics_args *a)
{
	int c, rc = -1;

	while (rc < 0 && (c = cli_parse_next(p)) != 0) {
		switch (c) {
		case -1: rc = p->rc; break;
		case OPT_LISTEN: a->listen = metrics_listen_arg(p); break;
		case OPT_OUTPUT: a->output = p->value; break;
		case OPT_FOLLOW: a->follow = 1; break;
		case OPT_TOP: rc = metrics_top(p->value, a); break;
		}
	}
	if (rc >= 0)
		return rc;
	if (p->nargs > 0 && !a->follow)
		return cli_usage_error("metrics", "unexpected argument '%s'; log"
		                       " files go with --follow", p->args[0]);
	if (a->follow && !a->listen && !a->output)
		return cli_usage_error("metrics", "--follow needs --listen or"
		                       " --output");
	return -1;
}

/* The paths to follow: the operands, or the default logs that exist. */
static int metrics_run(struct pfi_globals *g, struct metrics_args *a,
                       struct cli_parse *p)
{
	static char *defaults[] = { "/var/log/mail.log", "/var/log/maillog" };
	char *found[2];
	size_t nfound = 0, i;
	struct pfi_metrics_opts o;
	pfi_store *st;

	memset(&o, 0, sizeof(o));
	o.version = PFI_METRICS_OPTIONS_VERSION;
	if ((a->listen || a->follow) && p->nargs > 0)
		return metrics_serve(g, a, p->args, (size_t)p->nargs);
	for (i = 0; a->follow && i < 2; i++)
		if (access(defaults[i], F_OK) == 0)
			found[nfound++] = defaults[i];
	if (a->follow && nfound == 0)
		return cli_error("no logs found at '%s' or '%s'; name the files"
		                 " to follow", defaults[0], defaults[1]);
	if (a->listen || a->follow)
		return metrics_serve(g, a, found, nfound);
	if ((st = cli_store(g)) == NULL)
		return PFI_EXIT_FAILURE;
	o.top = a->top;
	return metrics_once(st, a, &o);
}

static int cmd_metrics(struct pfi_globals *g, int argc, char **argv)
{
	struct metrics_args a;
	struct cli_parse p;
	int rc;

	memset(&a, 0, sizeof(a));
	cli_parse_init(&p, &cmd_metrics_entry, argc, argv);
	rc = metrics_parse(&p, &a);
	if (rc < 0)
		rc = metrics_run(g, &a, &p);
	cli_parse_release(&p);
	return rc;
}

const struct pfi_cmd cmd_metrics_entry = {
	"metrics", "print or serve Prometheus metrics from the index",
	"Print the index as Prometheus metrics, write them to a file, or serve\n"
	"them over HTTP.",
	metrics_opts, NULL, CLI_ARG_FILE, CMD_NEEDS_DB, cmd_metrics
};
