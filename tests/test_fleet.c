/*
 * test_fleet.c - a fleet's central log, end to end through real rsyslog.
 *
 * Two MTAs, edge1 (the MX, which relays inbound mail to the hub) and hub
 * (which delivers it, and sends mail of its own), each hand their Postfix
 * lines to an rsyslogd of their own on its unix socket, exactly as
 * Postfix's syslog(3) does; each rsyslogd forwards the mail facility over
 * TCP to a central rsyslogd, which writes every line in three templates.
 * `pfi index --follow` reads one central file while the lines arrive, the
 * other two are indexed after, and each index must answer alike: `pfi
 * trace` of the edge's queue ID is one chain across the hosts, `pfi search
 * --host` and `pfi stats --by host` count exactly what each host logged.
 * The answers are computed from the lines sent (see the known answers
 * section), not taken from pfi.  Once with classic forwarding, once with
 * RFC 5424 (RSYSLOG_SyslogProtocol23Format).
 *
 * Everything runs unprivileged on loopback: own configurations, pid files
 * and work directories in a temporary directory, ports the kernel picks,
 * no /dev/log, no imklog.  Without rsyslogd the tests are skipped.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define DEADLINE_S 15           /* for anything the test waits for */
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define TEMPLATES 3

/* One line as an MTA hands it to syslog(3). */
struct fleet_line {
	const char *host;       /* the MTA: its rsyslogd's localHostname */
	const char *prog;       /* syslog tag */
	long pid;
	const char *text;
};

/*
 * The lines, in the order the MTAs log them: real lines of the Postfix
 * 3.7 corpus (testdata/realpostfix/mail.log) with hosts, addresses and
 * queue IDs made those of a fleet.  edge1 receives 7D3F2108A41 from the
 * Internet and relays it to hub, whose smtpd queues it as B52C41A0F37
 * (logged before edge1's smtp gets the "250 ... queued as"); edge1
 * rejects a relay attempt; hub sends a message of its own (pickup) with
 * one recipient bounced and a notification to the sender; edge1 takes a
 * submission under the same short queue ID, 3C026108018, which names a
 * message on each host.
 */
static const struct fleet_line lines[] = {
	{"edge1", "postfix/smtpd", 29071, "connect from mail.partner.test[192.0.2.10]"},
	{"edge1", "postfix/smtpd", 29071, "7D3F2108A41: client=mail.partner.test[192.0.2.10]"},
	{"edge1", "postfix/cleanup", 29187, "7D3F2108A41: message-id=<F1-relay.9e52cb3e5674@partner.test>"},
	{"edge1", "postfix/qmgr", 28621, "7D3F2108A41: from=<carol@partner.test>, size=534, nrcpt=1 (queue active)"},
	{"edge1", "postfix/smtpd", 29071, "disconnect from mail.partner.test[192.0.2.10] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"},
	{"hub", "postfix/smtpd", 4120, "connect from edge1.example.test[10.0.0.1]"},
	{"hub", "postfix/smtpd", 4120, "B52C41A0F37: client=edge1.example.test[10.0.0.1]"},
	{"hub", "postfix/cleanup", 4122, "B52C41A0F37: message-id=<F1-relay.9e52cb3e5674@partner.test>"},
	{"hub", "postfix/qmgr", 3990, "B52C41A0F37: from=<carol@partner.test>, size=781, nrcpt=1 (queue active)"},
	{"edge1", "postfix/smtp", 29255, "7D3F2108A41: to=<bob@local.test>, relay=hub.example.test[10.0.0.2]:25, delay=0.21, delays=0.03/0.01/0.08/0.09, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as B52C41A0F37)"},
	{"edge1", "postfix/qmgr", 28621, "7D3F2108A41: removed"},
	{"hub", "postfix/smtpd", 4120, "disconnect from edge1.example.test[10.0.0.1] ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5"},
	{"hub", "postfix/local", 4130, "B52C41A0F37: to=<bob@local.test>, relay=local, delay=0.12, delays=0.05/0.02/0/0.05, dsn=2.0.0, status=sent (delivered to mailbox)"},
	{"hub", "postfix/qmgr", 3990, "B52C41A0F37: removed"},
	{"edge1", "postfix/smtpd", 29071, "connect from client2.external.test[198.51.100.2]"},
	{"edge1", "postfix/smtpd", 29071, "NOQUEUE: reject: RCPT from client2.external.test[198.51.100.2]: 554 5.7.1 <victim@partner.test>: Relay access denied; from=<someone@external.test> to=<victim@partner.test> proto=ESMTP helo=<client2.external.test>"},
	{"edge1", "postfix/smtpd", 29071, "disconnect from client2.external.test[198.51.100.2] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4"},
	{"hub", "postfix/pickup", 3989, "3C026108018: uid=1000 from=<alice@local.test>"},
	{"hub", "postfix/cleanup", 4122, "3C026108018: message-id=<20261207061001.3C026108018@hub.example.test>"},
	{"hub", "postfix/qmgr", 3990, "3C026108018: from=<alice@local.test>, size=703, nrcpt=2 (queue active)"},
	{"hub", "postfix/smtp", 4140, "3C026108018: to=<x1@hardfail.test>, relay=mx.hardfail.test[203.0.113.12]:25, delay=0.87, delays=0.03/0.33/0.03/0.48, dsn=5.1.1, status=bounced (host mx.hardfail.test[203.0.113.12] said: 550 5.1.1 Recipient address rejected: User unknown in relay recipient table (in reply to RCPT TO command))"},
	{"hub", "postfix/smtp", 4141, "3C026108018: to=<z1@ok.test>, relay=mx.ok.test[203.0.113.11]:25, delay=0.9, delays=0.03/0.8/0.02/0.05, dsn=2.0.0, status=sent (250 2.0.0 Ok)"},
	{"hub", "postfix/cleanup", 4122, "71070108293: message-id=<20261207061002.71070108293@hub.example.test>"},
	{"hub", "postfix/qmgr", 3990, "71070108293: from=<>, size=3708, nrcpt=1 (queue active)"},
	{"hub", "postfix/bounce", 4150, "3C026108018: sender non-delivery notification: 71070108293"},
	{"hub", "postfix/qmgr", 3990, "3C026108018: removed"},
	{"hub", "postfix/local", 4130, "71070108293: to=<alice@local.test>, relay=local, delay=0.23, delays=0.12/0.05/0/0.06, dsn=2.0.0, status=sent (delivered to mailbox)"},
	{"hub", "postfix/qmgr", 3990, "71070108293: removed"},
	{"edge1", "postfix/submission/smtpd", 30001, "connect from laptop.local.test[10.0.5.7]"},
	{"edge1", "postfix/submission/smtpd", 30001, "3C026108018: client=laptop.local.test[10.0.5.7], sasl_method=PLAIN, sasl_username=dave"},
	{"edge1", "postfix/cleanup", 29187, "3C026108018: message-id=<P1-H02.62f334b838ea@laptop.local.test>"},
	{"edge1", "postfix/qmgr", 28621, "3C026108018: from=<dave@local.test>, size=912, nrcpt=1 (queue active)"},
	{"edge1", "postfix/submission/smtpd", 30001, "disconnect from laptop.local.test[10.0.5.7] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8"},
	{"edge1", "postfix/smtp", 29288, "3C026108018: to=<user1@partner.test>, relay=mx.partner.test[203.0.113.10]:25, delay=2.1, delays=0.03/0.87/0.46/0.73, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 93FAB5487D)"},
	{"edge1", "postfix/qmgr", 28621, "3C026108018: removed"},
};
#define NLINES NELEMS(lines)
/* pfi starts following after this many lines: the hub has queued the
 * relayed copy, the edge has not logged the 250 yet, so the relay link
 * is made by a later pass than the one that saw the copy. */
#define FIRST_PART 9
static const char *const hosts[] = { "edge1", "hub" };
#define EDGE_QID "7D3F2108A41"

/* The central rsyslogd writes DIR/NAME.log with each template. */
static const char *const templates[TEMPLATES][2] = {
	{ "traditional", "RSYSLOG_TraditionalFileFormat" },
	{ "file", "RSYSLOG_FileFormat" },
	{ "protocol23", "RSYSLOG_SyslogProtocol23Format" },
};

static const char *dir;
static pid_t daemons[3];         /* central, edge1, hub; 0 when not running */

static void fleet_fini(void)
{
	for (size_t i = 0; i < NELEMS(daemons); i++) {
		if (daemons[i] > 0 && kill(daemons[i], SIGTERM) == 0)
			waitpid(daemons[i], NULL, 0);
		daemons[i] = 0;
	}
	tmpdir_cleanup();
}

TestSuite(fleet, .fini = fleet_fini, .timeout = SUITE_TIMEOUT(60));

/* ---- waiting with a deadline ---------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A daemon that died is a failure now, not a timeout later. */
static void assert_daemons_alive(void)
{
	for (size_t i = 0; i < NELEMS(daemons); i++) {
		int status;

		if (daemons[i] > 0 && waitpid(daemons[i], &status, WNOHANG) == daemons[i]) {
			daemons[i] = 0;
			cr_assert_fail("rsyslogd %zu ended (status %d); its output is in"
			               " %s/rsyslogd-*.out", i, status, dir);
		}
	}
}

/* Polls ready(arg) every few milliseconds until it holds; fails with
 * `what` at the deadline. */
static void wait_until(int (*ready)(const void *), const void *arg,
                       const char *what)
{
	double end = now_s() + DEADLINE_S;

	while (!ready(arg)) {
		assert_daemons_alive();
		cr_assert(now_s() < end, "waited %d s for %s", DEADLINE_S, what);
		nap_ms(5);
	}
}

/* ---- the rsyslog daemons ---------------------------------------------------------- */

static const char *rsyslogd_path(void)
{
	static const char *const where[] = { "/usr/sbin/rsyslogd", "/sbin/rsyslogd" };

	for (size_t i = 0; i < NELEMS(where); i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

/* A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	          getsockname(fd, (struct sockaddr *)&a, &n) == 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

/* Starts `rsyslogd -n -f DIR/NAME.conf -i DIR/NAME.pid` with its work
 * directory DIR/NAME and its output in DIR/rsyslogd-NAME.out; it dies
 * with the test. */
static pid_t rsyslogd_start(const char *name, const char *conf)
{
	char path[4096], pidf[4096], out[4096];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
	write_file(path, conf);
	snprintf(pidf, sizeof(pidf), "%s/%s.pid", dir, name);
	snprintf(out, sizeof(out), "%s/rsyslogd-%s.out", dir, name);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fd, 1);
		dup2(fd, 2);
		execl(rsyslogd_path(), "rsyslogd", "-n", "-f", path, "-i", pidf,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int port_listens(const void *arg)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_port = htons((uint16_t)*(const int *)arg);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static int is_socket(const void *arg)
{
	struct stat sb;

	return stat(arg, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* DIR/NAME.log, the central file of template k. */
static char *central_path(int k)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.log", templates[k][0]);
	return path_join(dir, name);
}

/* The central rsyslogd: what its TCP input gets is written in every
 * template, and nothing else is (its own messages go elsewhere). */
static void start_central(int port)
{
	char conf[8192], *p[TEMPLATES];
	int k;

	for (k = 0; k < TEMPLATES; k++)
		p[k] = central_path(k);
	snprintf(conf, sizeof(conf),
	         "global(workDirectory=\"%s/central\""
	         " parser.permitSlashInProgramName=\"on\")\n"
	         "module(load=\"imtcp\")\n"
	         "ruleset(name=\"fleet\") {\n"
	         "  action(type=\"omfile\" file=\"%s\" template=\"%s\")\n"
	         "  action(type=\"omfile\" file=\"%s\" template=\"%s\")\n"
	         "  action(type=\"omfile\" file=\"%s\" template=\"%s\")\n"
	         "}\n"
	         "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\""
	         " ruleset=\"fleet\")\n",
	         dir, p[0], templates[0][1], p[1], templates[1][1], p[2],
	         templates[2][1], port);
	for (k = 0; k < TEMPLATES; k++)
		free(p[k]);
	daemons[0] = rsyslogd_start("central", conf);
	wait_until(port_listens, &port, "the central rsyslogd to listen");
}

/* The rsyslogd of an MTA: its unix socket DIR/HOST.sock stands for
 * /dev/log; the mail facility goes to the central one, through a queue
 * kept on disk while the central one cannot be reached (README's
 * configuration). */
static void start_sender(int i, int port, const char *fwd_template)
{
	char conf[8192], sock[256], tpl[128] = "";

	snprintf(sock, sizeof(sock), "%s/%s.sock", dir, hosts[i]);
	if (fwd_template)
		snprintf(tpl, sizeof(tpl), " template=\"%s\"", fwd_template);
	snprintf(conf, sizeof(conf),
	         "global(workDirectory=\"%s/%s\" localHostname=\"%s\""
	         " parser.permitSlashInProgramName=\"on\")\n"
	         "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
	         "input(type=\"imuxsock\" Socket=\"%s\" RateLimit.Interval=\"0\")\n"
	         "mail.* action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%d\""
	         " protocol=\"tcp\"%s queue.type=\"LinkedList\""
	         " queue.filename=\"fwd-mail\" queue.saveOnShutdown=\"on\""
	         " action.resumeRetryCount=\"-1\")\n",
	         dir, hosts[i], hosts[i], sock, port, tpl);
	daemons[1 + i] = rsyslogd_start(hosts[i], conf);
	wait_until(is_socket, sock, "an MTA's rsyslogd socket");
}

/* A fleet of three rsyslogd; the senders forward with fwd_template
 * (NULL: omfwd's default, RSYSLOG_TraditionalForwardFormat). */
static void start_fleet(const char *fwd_template)
{
	int port = free_port();

	start_central(port);
	for (int i = 0; i < 2; i++)
		start_sender(i, port, fwd_template);
}

/* ---- sending lines ---------------------------------------------------------------- */

/* Lines in the central file of template k; 0 while there is none. */
static size_t central_lines(int k)
{
	char *path = central_path(k), *text = slurp(path, NULL);
	size_t n = 0;

	for (char *p = text; p && (p = strchr(p, '\n')) != NULL; p++)
		n++;
	free(text);
	free(path);
	return n;
}

/* The arg of central_has: every file has `want` lines. */
static int central_has(const void *arg)
{
	size_t want = *(const size_t *)arg;

	for (int k = 0; k < TEMPLATES; k++)
		if (central_lines(k) < want)
			return 0;
	return 1;
}

/* Hands line l to its MTA's rsyslogd as glibc's syslog(3) does: one
 * datagram "<22>Mmm dd hh:mm:ss prog[pid]: text" (mail.info). */
static void send_line(const struct fleet_line *l)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char msg[1024], stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0), n;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/%s.sock", dir, l->host);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", localtime_r(&t, &tm));
	n = snprintf(msg, sizeof(msg), "<22>%s %s[%ld]: %s", stamp, l->prog,
	             l->pid, l->text);
	cr_assert(fd >= 0 && n > 0 && (size_t)n < sizeof(msg));
	cr_assert_eq(sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&a,
	                    sizeof(a)), n, "sendto: %s", strerror(errno));
	close(fd);
}

/* Sends lines [from, to), each once the one before is in the central
 * files: two rsyslogd forward independently, and the test wants the
 * order the MTAs logged in. */
static void send_lines(size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		size_t want = i + 1;

		send_line(&lines[i]);
		wait_until(central_has, &want, "a line in the central files");
	}
}

/* ---- known answers, from the lines ------------------------------------------------ */

/* The lines of text (malloc'd, freed here) sorted, in a malloc'd string. */
static char *sorted_text(char *text)
{
	char *s = sorted_lines(text);

	free(text);
	return s;
}

/* The queue ID a text starts with ("7D3F2108A41: ..."), or "". */
static void qid_of(const char *text, char *qid, size_t size)
{
	size_t n = strspn(text, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                        "abcdefghijklmnopqrstuvwxyz");

	qid[0] = '\0';
	if (n >= 8 && n < size && strncmp(text + n, ": ", 2) == 0) {
		memcpy(qid, text, n);
		qid[n] = '\0';
	}
}

/* The text after `key` up to the first byte of `stop`, into buf. */
static const char *field_of(const char *text, const char *key,
                            const char *stop, char *buf, size_t size)
{
	const char *p = strstr(text, key);
	size_t n;

	cr_assert_not_null(p, "no '%s' in '%s'", key, text);
	p += strlen(key);
	n = strcspn(p, stop);
	cr_assert_lt(n, size);
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* Whether a line of `host` (or, far, of another host) has `what`. */
static int some_line(const char *host, int far, const char *what)
{
	for (size_t i = 0; i < NLINES; i++)
		if ((strcmp(lines[i].host, host) != 0) == far &&
		    strstr(lines[i].text, what) != NULL)
			return 1;
	return 0;
}

/* Whether message qid on host counts as received with its recipients:
 * neither a copy another host relayed to it ("queued as QID)" there) nor
 * a bounce notification of its own host. */
static int is_original(const char *host, const char *qid)
{
	char what[64];

	snprintf(what, sizeof(what), "queued as %s)", qid);
	if (some_line(host, 1, what))
		return 0;
	snprintf(what, sizeof(what), "notification: %s", qid);
	return !some_line(host, 0, what);
}

/* What pfi stats --by host says of a host. */
struct host_counts {
	long received, notifications, recipients, delivered, bounced, rejected;
};

/* A host's counts as SPEC and `pfi stats --help` define them: messages
 * received (smtpd client= or pickup uid=), notifications, and each
 * original recipient once (a relay copy's delivery is the hop's). */
static struct host_counts expected_counts(const char *host)
{
	struct host_counts c = { 0 };
	char qid[32];

	for (size_t i = 0; i < NLINES; i++) {
		const char *t = lines[i].text;
		int orig;

		if (strcmp(lines[i].host, host) != 0)
			continue;
		qid_of(t, qid, sizeof(qid));
		orig = qid[0] && is_original(host, qid);
		c.received += orig && (strstr(t, ": client=") || strstr(t, ": uid="));
		c.notifications += strstr(t, " notification: ") != NULL;
		c.delivered += orig && strstr(t, " status=sent ") != NULL;
		c.bounced += orig && strstr(t, " status=bounced ") != NULL;
		c.rejected += strstr(t, "NOQUEUE: reject: ") != NULL;
	}
	c.recipients = c.delivered + c.bounced + c.rejected;
	return c;
}

/* The rows pfi search --host should give, "queue_id\tto\tstatus" each:
 * every recipient's delivery line on the host and its NOQUEUE rejects. */
static char *expected_rows(const char *host)
{
	char *buf = NULL, qid[32], to[128], status[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < NLINES; i++) {
		const char *t = lines[i].text;

		if (strcmp(lines[i].host, host) != 0)
			continue;
		qid_of(t, qid, sizeof(qid));
		if (strstr(t, " status=") != NULL)
			fprintf(f, "%s\t%s\t%s\n", qid, field_of(t, "to=<", ">", to, sizeof(to)),
			        field_of(t, " status=", " ", status, sizeof(status)));
		else if (strstr(t, "NOQUEUE: reject: ") != NULL)
			fprintf(f, "\t%s\trejected\n", field_of(t, " to=<", ">", to, sizeof(to)));
	}
	fclose(f);
	return sorted_text(buf);
}

/* The queue ID the edge's relay to the hub was queued as there. */
static const char *relay_child(char *buf, size_t size)
{
	for (size_t i = 0; i < NLINES; i++)
		if (strncmp(lines[i].text, EDGE_QID ": ", strlen(EDGE_QID) + 2) == 0 &&
		    strstr(lines[i].text, " relay=hub.") != NULL)
			return field_of(lines[i].text, "queued as ", ")", buf, size);
	cr_assert_fail("no relay of " EDGE_QID " to the hub");
	return NULL;
}

/* ---- what pfi says ------------------------------------------------------------------ */

/* The stdout of `pfi --db DB ARGS...`, which must exit 0 and say
 * nothing on stderr (malloc'd). */
static char *answer_of(const char *db, const char *const *args)
{
	const char *argv[16] = { "--db", db };
	char *out, *err;
	size_t n = 2;
	int rc;

	while (*args && n < NELEMS(argv) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	rc = run_pfi(argv, NULL, &out, &err);
	cr_assert_eq(rc, 0, "pfi %s: exit %d: %s", argv[2], rc, err);
	cr_assert_str_empty(err, "pfi %s: %s", argv[2], err);
	free(err);
	return out;
}

/* The tab-separated fields of line, cut in place; at most max. */
static size_t tsv_fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		f[n++] = line;
		line = strchr(line, '\t');
		if (line == NULL)
			break;
		*line++ = '\0';
	}
	return n;
}

/* The column of a header's fields named `name`. */
static size_t column(char *const *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i], name) == 0)
			return i;
	cr_assert_fail("no column '%s' in the header", name);
	return 0;
}

#define MAXCOLS 64

/* pfi search --host: exactly the host's rows, all of them its own. */
static void check_search(const char *db, const char *host)
{
	const char *args[] = { "search", "--host", host, "--format", "tsv", NULL };
	char *out = answer_of(db, args), *want = expected_rows(host), *buf = NULL,
	     *save = NULL, *row, *got, *h[MAXCOLS], *f[MAXCOLS];
	size_t len = 0, nh = tsv_fields(strtok_r(out, "\n", &save), h, MAXCOLS);
	size_t ih = column(h, nh, "host"), iq = column(h, nh, "queue_id"),
	       it = column(h, nh, "to"), is = column(h, nh, "status");
	FILE *g = open_memstream(&buf, &len);

	while ((row = strtok_r(NULL, "\n", &save)) != NULL) {
		cr_assert_eq(tsv_fields(row, f, MAXCOLS), nh);
		cr_assert_str_eq(f[ih], host);
		fprintf(g, "%s\t%s\t%s\n", f[iq], f[it], f[is]);
	}
	fclose(g);
	got = sorted_text(buf);
	cr_assert_str_eq(got, want, "pfi search --host %s gives\n%sinstead of\n%s",
	                 host, got, want);
	free(got);
	free(want);
	free(out);
}

/* pfi stats --by host: one row per host, each with the host's counts. */
static void check_stats(const char *db)
{
	static const char *const names[] = { "received", "notifications",
		"recipients", "delivered", "bounced", "rejected" };
	const char *args[] = { "stats", "--by", "host", "--format", "tsv", NULL };
	char *out = answer_of(db, args), *save = NULL, *row, *h[MAXCOLS], *f[MAXCOLS];
	size_t nh = tsv_fields(strtok_r(out, "\n", &save), h, MAXCOLS), rows = 0;

	while ((row = strtok_r(NULL, "\n", &save)) != NULL) {
		cr_assert_eq(tsv_fields(row, f, MAXCOLS), nh);
		struct host_counts c = expected_counts(f[column(h, nh, "key")]);
		long want[] = { c.received, c.notifications, c.recipients,
		                c.delivered, c.bounced, c.rejected };

		for (size_t i = 0; i < NELEMS(names); i++)
			cr_assert_eq(strtol(f[column(h, nh, names[i])], NULL, 10), want[i],
			             "%s: %s is %s, not %ld", f[0], names[i],
			             f[column(h, nh, names[i])], want[i]);
		rows++;
	}
	cr_assert_eq(rows, NELEMS(hosts), "%zu hosts in\n%s", rows, out);
	free(out);
}

/* How often needle stands in haystack. */
static size_t occurrences(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *p = haystack; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* pfi trace of either end: the edge's message and the hub's copy, one
 * chain (relation relay), with every line each host logged of them. */
static void check_trace(const char *db)
{
	char child[32], want[256], qid[32], *out[2];
	const char *ids[2] = { EDGE_QID, relay_child(child, sizeof(child)) };

	for (int i = 0; i < 2; i++) {
		const char *args[] = { "trace", "--format", "json", ids[i], NULL };

		out[i] = answer_of(db, args);
		cr_assert_eq(occurrences(out[i], "\"lines\":["), 2, "%s", out[i]);
		snprintf(want, sizeof(want), "\"children\":[{\"queue_id\":\"%s\","
		         "\"host\":\"hub\",\"relation\":\"relay\"}]", child);
		cr_assert_not_null(strstr(out[i], want), "no %s in %s", want, out[i]);
		snprintf(want, sizeof(want), "\"parent\":{\"queue_id\":\"%s\","
		         "\"host\":\"edge1\",\"relation\":\"relay\"}", EDGE_QID);
		cr_assert_not_null(strstr(out[i], want), "no %s in %s", want, out[i]);
	}
	cr_assert_str_eq(out[0], out[1]);
	for (size_t i = 0; i < NLINES; i++) {
		qid_of(lines[i].text, qid, sizeof(qid));
		if (strcmp(qid, ids[strcmp(lines[i].host, "hub") == 0]) == 0)
			cr_assert_not_null(strstr(out[0], lines[i].text),
			                   "the trace lacks '%s'", lines[i].text);
	}
	free(out[0]);
	free(out[1]);
}

static void check_answers(const char *db)
{
	check_trace(db);
	for (size_t i = 0; i < NELEMS(hosts); i++)
		check_search(db, hosts[i]);
	check_stats(db);
}

/* ---- the tests ---------------------------------------------------------------------- */

static void need_rsyslogd(void)
{
	if (rsyslogd_path() == NULL)
		cr_skip_test("rsyslogd is not installed (Debian package rsyslog,"
		             " in .ci/run's DEPS)");
}

struct index_count {
	const char *db;
	int64_t lines;
};

static int index_has(const void *arg)
{
	const struct index_count *c = arg;

	return index_lines_now(c->db) == c->lines;
}

/* pfi follows the central file of template k into db, from before the
 * edge's relay line until the last line. */
static void follow_traffic(const char *db, int k)
{
	char *path = central_path(k);
	const char *argv[] = { "--db", db, "index", "--quiet", "--follow", path, NULL };
	struct index_count first = { db, FIRST_PART }, all = { db, NLINES };
	pid_t pid;

	send_lines(0, FIRST_PART);
	pid = start_pfi(argv);
	wait_until(index_has, &first, "pfi index --follow to read the first lines");
	send_lines(FIRST_PART, NLINES);
	wait_until(index_has, &all, "pfi index --follow to read every line");
	cr_assert_eq(stop_pfi(pid, SIGTERM), 0);
	free(path);
}

/* DIR/NAME.db, the index of the central file of template k. */
static char *index_path(int k)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.db", templates[k][0]);
	return path_join(dir, name);
}

/* The whole story with the senders' forwarding template fwd (NULL:
 * omfwd's default): pfi follows the central file of template `follow`
 * while the MTAs log, the other two files are indexed after; every
 * index gives the known answers. */
static void fleet_story(const char *fwd, int follow)
{
	char *db, *path, *err;

	need_rsyslogd();
	dir = tmpdir_make();
	start_fleet(fwd);
	db = index_path(follow);
	follow_traffic(db, follow);
	free(db);
	for (int k = 0; k < TEMPLATES; k++) {
		db = index_path(k);
		path = central_path(k);
		cr_assert_eq(central_lines(k), NLINES, "%s holds other lines", path);
		if (k != follow) {
			cr_assert_eq(run_pfi_index(db, path, &err), 0, "%s", err);
			free(err);
		}
		check_answers(db);
		free(path);
		free(db);
	}
}

Test(fleet, classic_forwarding_gives_one_index_of_the_central_log)
{
	fleet_story(NULL, 0);
}

Test(fleet, rfc5424_forwarding_gives_one_index_of_the_central_log)
{
	fleet_story("RSYSLOG_SyslogProtocol23Format", 1);
}
