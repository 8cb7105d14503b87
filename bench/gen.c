/*
 * bench/gen.c - deterministic generator of realistic Postfix 3.7 logs for
 * pfi's benchmark (see bench/README).  Not part of the build: bench/run.sh
 * compiles it with cc -O2.
 *
 *     gen [--profile default|fleet] LINES OUT.log
 *                              writes exactly LINES lines to OUT.log and a
 *                              few facts about them to OUT.log.meta
 *
 * Fixed seed, fixed start (2026-11-16 00:00:00 UTC), fixed traffic rate of
 * about 1.5 million lines a day: the same arguments give the same bytes.
 * The line formats are those of the real Postfix 3.7 corpus
 * (LINE_TYPES.md) and of testdata/gen-logs.py.
 *
 * Model.  A discrete-event simulation of three hosts logging into one file:
 * mx1 and mx2 are the public MX (postscreen in front of smtpd), mx1 keeps
 * the example.com mailboxes (lmtp to dovecot), mx3 keeps example.org
 * (virtual) and takes SASL submissions and the web servers' mail.  Every
 * received message has a 30% chance to go through amavis (smtp to
 * 127.0.0.1:10024, reinject smtpd with orig_queue_id, delivery of the
 * child); mail for the other host's domain is relayed between the indexed
 * hosts; remote destinations greylist, bounce (NDR delivered) or are dead
 * (retries with Postfix's backoff, delay warning, expiry after 1 day).
 * Sessions arrive as a Poisson process with a daily rhythm; lines are
 * kept in a heap and written in time order, so sessions interleave.
 *
 * --profile fleet: four hosts in the layout of a larger site, where most
 * messages make several hops.  mx1 and mx2 (postscreen) pass every
 * received message through amavis and relay the filtered child to
 * store1, which keeps both domains (lmtp, virtual) and relays everything
 * else to out1; out1 takes the SASL submissions and the web servers' mail
 * (through amavis as well) and is the only host that delivers to the
 * Internet.  Queues live 5 days (Postfix's default), dead and slow
 * destinations are more common and some servers defer before they bounce,
 * so about 1.5% of the messages are still queued when the log ends.  The
 * default profile's bytes do not depend on this code.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define SEED 0x20261116ULL
#define START_S 1794787200LL		/* 2026-11-16 00:00:00 UTC */
#define US 1000000LL
#define SESSIONS_PER_S 1.0		/* ~1.5e6 lines a day */
#define LIFETIME (86400 * US)		/* maximal_queue_lifetime=1d */
#define DELAY_WARN (4 * 3600 * US)	/* delay_warning_time=4h */
#define MAXR 8
#define PMAX 100
#define NHOST 4				/* the most hosts of a profile */
#define FLEET_LIFETIME (5 * 86400 * US)	/* Postfix's default */
#define FLEET_DEAD 0.150		/* share of recipients never delivered */
#define FLEET_DEAD_MOD 29		/* one tail domain in 29 is dead */

enum { D_LOCAL, D_LMTP, D_VIRTUAL, D_RELAY, D_REMOTE };
enum { F_OK, F_BOUNCE, F_GREY, F_DEAD, F_FULL, F_SLOWBOUNCE };
enum { K_NORMAL, K_FILTERED, K_RELAYED, K_NDR };
enum { EV_DELIVER, EV_RETRY, EV_HOUSE, EV_CRON, EV_IMAP, EV_RELOAD };

/* ------------------------------------------------------------ randomness */

static uint64_t rng_state = SEED;

static uint64_t rnd64(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint32_t rnd(uint32_t n)
{
	return (uint32_t)(((rnd64() >> 32) * n) >> 32);
}

static double rndf(void)
{
	return (double)(rnd64() >> 11) * 0x1p-53;
}

static int chance(double p)
{
	return rndf() < p;
}

/* skewed index in [0, n): a few popular entries, a long tail */
static uint32_t skew(uint32_t n)
{
	double u = rndf();

	return (uint32_t)(n * u * u * u);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* ----------------------------------------------------------------- data */

struct host {
	const char *name, *fqdn, *ip;
	int postscreen;
	uint32_t inode;
	int nextpid;
	int qmgr, pickup, ps, anvil, scache, amavis, master, dkim;
	int amavis_n;
};

static struct host hosts_default[NHOST] = {
	{ .name = "mx1", .fqdn = "mx1.example.com", .ip = "192.0.2.11", .postscreen = 1,
	  .inode = 0x1161A0, .nextpid = 2200 },
	{ .name = "mx2", .fqdn = "mx2.example.com", .ip = "192.0.2.12", .postscreen = 1,
	  .inode = 0x2A0F30, .nextpid = 3100 },
	{ .name = "mx3", .fqdn = "mail.example.com", .ip = "192.0.2.20", .postscreen = 0,
	  .inode = 0x3B5E10, .nextpid = 1800 },
};

/* --profile fleet: 0, 1 inbound MX; 2 mailbox store; 3 outbound relay */
static struct host hosts_fleet[NHOST] = {
	{ .name = "mx1", .fqdn = "mx1.example.com", .ip = "192.0.2.11", .postscreen = 1,
	  .inode = 0x1161A0, .nextpid = 2200 },
	{ .name = "mx2", .fqdn = "mx2.example.com", .ip = "192.0.2.12", .postscreen = 1,
	  .inode = 0x2A0F30, .nextpid = 3100 },
	{ .name = "store1", .fqdn = "store1.example.com", .ip = "192.0.2.30",
	  .postscreen = 0, .inode = 0x3B5E10, .nextpid = 1800 },
	{ .name = "out1", .fqdn = "out1.example.com", .ip = "192.0.2.40",
	  .postscreen = 0, .inode = 0x4C7A20, .nextpid = 2600 },
};

static struct host *hosts = hosts_default;
static int fleet;			/* --profile fleet */
static int nhost = 3;
static int h_submit = 2;		/* takes submissions, signs DKIM */
static int64_t lifetime = LIFETIME;

static const char *first[32] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "nina", "oscar", "peggy", "quentin",
	"rupert", "sybil", "trent", "ursula", "victor", "walter", "xena",
	"yvonne", "zoe", "liam", "emma", "noah", "olivia", "mia", "lucas",
	"sofia", "hugo",
};

static const char *last[32] = {
	"smith", "jones", "garcia", "miller", "davis", "lopez", "wilson",
	"moore", "taylor", "clark", "lewis", "walker", "hall", "young",
	"king", "wright", "scott", "green", "baker", "adams", "nelson", "hill",
	"campbell", "mitchell", "roberts", "carter", "phillips", "evans",
	"turner", "torres", "parker", "collins",
};

static const char *roles[8] = {
	"info", "sales", "support", "noreply", "billing", "newsletter",
	"orders", "hr",
};

struct domain {
	const char *name, *mx, *ip;
	int tls, grey;
};

static const struct domain remotes[] = {
	{ "gmail.com", "gmail-smtp-in.l.google.com", "203.0.113.26", 2, 0 },
	{ "outlook.com", "outlook-com.olc.protection.outlook.com",
	  "203.0.113.33", 2, 0 },
	{ "yahoo.com", "mta6.am0.yahoodns.net", "203.0.113.41", 1, 0 },
	{ "gmx.net", "mx00.emig.gmx.net", "203.0.113.52", 2, 0 },
	{ "web.de", "mx-ha03.web.de", "203.0.113.53", 2, 0 },
	{ "icloud.com", "mx01.mail.icloud.com", "203.0.113.60", 1, 0 },
	{ "partner.example", "mx.partner.example", "198.51.100.25", 2, 0 },
	{ "supplier.example", "mail.supplier.example", "198.51.100.31", 1, 1 },
	{ "customer-corp.example", "mx1.customer-corp.example",
	  "198.51.100.44", 1, 0 },
	{ "university.example", "smtp.university.example", "198.51.100.58",
	  1, 1 },
	{ "isp.example", "mx.isp.example", "198.51.100.70", 0, 1 },
	{ "oldpix.example", "mail.oldpix.example", "198.51.100.90", 0, 0 },
};
#define NREMOTE (sizeof remotes / sizeof remotes[0])
#define NTAIL 4000			/* d0000.example ... d3999.example */

static const char *subjects[] = {
	"Quarterly report Q3", "Re: lunch on Friday?",
	"Your order #20417 has shipped", "Meeting notes", "Fwd: slides",
	"Password reset requested", "Build failed: main #8812",
	"Re: invoice 4471", "Welcome aboard", "November newsletter",
	"Re: Re: contract draft v3", "Weekly digest",
	"Server maintenance window", "Photos", "Re: travel plans",
	"Your account statement", "Action required: verify your mailbox",
	"Invitation: team sync", "Re: quote request", "Delivery delayed",
};
#define NSUBJ (sizeof subjects / sizeof subjects[0])

static const char *tls13 = "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
	"(256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 "
	"bits) server-digest SHA256";
static const char *tls12 = "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 "
	"(256/256 bits)";

struct rcpt {
	char addr[72];
	unsigned char dest, fate, left, done, target, bounced;
	int dom;			/* remote domain, -1 if none */
};

struct msg {
	int host, kind, nr, filter, warned, expired, retry;
	uint64_t qid;
	int64_t arrival, active;
	int size;
	char sender[72], mid[96], client[128];
	struct rcpt r[MAXR];
};

/* ------------------------------------------------------------ line heap */

struct line {
	int64_t t;
	uint64_t seq;
	char *s;
};

struct ev {
	int64_t t;
	uint64_t seq;
	int kind, arg;
	struct msg *m;
};

static struct line *lh;
static size_t lh_n, lh_cap;
static struct ev *eh;
static size_t eh_n, eh_cap;
static uint64_t seqno;
static int64_t now_floor;

static int line_lt(const struct line *a, const struct line *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void line_push(int64_t t, char *s)
{
	size_t i;

	if (lh_n == lh_cap) {
		lh_cap = lh_cap ? lh_cap * 2 : 4096;
		lh = realloc(lh, lh_cap * sizeof *lh);
		if (!lh)
			die("realloc");
	}
	i = lh_n++;
	lh[i] = (struct line){ t, seqno++, s };
	while (i && line_lt(&lh[i], &lh[(i - 1) / 2])) {
		struct line x = lh[i];

		lh[i] = lh[(i - 1) / 2];
		lh[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
}

static struct line line_pop(void)
{
	struct line top = lh[0];
	size_t i = 0;

	lh[0] = lh[--lh_n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct line x;

		if (l < lh_n && line_lt(&lh[l], &lh[m]))
			m = l;
		if (l + 1 < lh_n && line_lt(&lh[l + 1], &lh[m]))
			m = l + 1;
		if (m == i)
			break;
		x = lh[i];
		lh[i] = lh[m];
		lh[m] = x;
		i = m;
	}
	return top;
}

static int ev_lt(const struct ev *a, const struct ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void ev_push(int64_t t, int kind, int arg, struct msg *m)
{
	size_t i;

	if (eh_n == eh_cap) {
		eh_cap = eh_cap ? eh_cap * 2 : 1024;
		eh = realloc(eh, eh_cap * sizeof *eh);
		if (!eh)
			die("realloc");
	}
	i = eh_n++;
	eh[i] = (struct ev){ t, seqno++, kind, arg, m };
	while (i && ev_lt(&eh[i], &eh[(i - 1) / 2])) {
		struct ev x = eh[i];

		eh[i] = eh[(i - 1) / 2];
		eh[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
}

static struct ev ev_pop(void)
{
	struct ev top = eh[0];
	size_t i = 0;

	eh[0] = eh[--eh_n];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct ev x;

		if (l < eh_n && ev_lt(&eh[l], &eh[m]))
			m = l;
		if (l + 1 < eh_n && ev_lt(&eh[l + 1], &eh[m]))
			m = l + 1;
		if (m == i)
			break;
		x = eh[i];
		eh[i] = eh[m];
		eh[m] = x;
		i = m;
	}
	return top;
}

/* ---------------------------------------------------------- emit, write */

/*
 * One log line "HOST PROG[PID]: TEXT" at time t (never before the event
 * being handled).  pid < 0: no [pid] (dovecot).
 */
static void emit(int64_t t, int h, const char *prog, int pid,
		 const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;
	char *s;

	if (pid >= 0)
		n = snprintf(buf, sizeof buf, "%s %s[%d]: ", hosts[h].name,
			     prog, pid);
	else
		n = snprintf(buf, sizeof buf, "%s %s: ", hosts[h].name, prog);
	va_start(ap, fmt);
	vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
	va_end(ap);
	s = strdup(buf);
	if (!s)
		die("strdup");
	line_push(t < now_floor ? now_floor : t, s);
}

static const char *mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
			       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* days since 1970-01-01 -> civil date (H. Hinnant's algorithm) */
static void civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* "Nov 16 09:00:01" or, iso != 0, "2026-11-16T09:00:01" */
static void stamp(char *b, size_t n, int64_t t_us, int iso)
{
	int64_t s = t_us / US;
	int y, m, d;

	civil(s / 86400, &y, &m, &d);
	s %= 86400;
	if (iso)
		snprintf(b, n, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d,
			 (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
	else
		snprintf(b, n, "%s %2d %02d:%02d:%02d", mon[m - 1], d,
			 (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
}

static FILE *out;
static long long written, target;
static int64_t last_t;

/* write every pending line earlier than t, up to the target count */
static void flush_before(int64_t t)
{
	static int64_t cached = -1;
	static char st[32];

	while (lh_n && lh[0].t < t && written < target) {
		struct line l = line_pop();

		if (l.t / US != cached) {
			cached = l.t / US;
			stamp(st, sizeof st, l.t, 0);
		}
		fputs(st, out);
		putc(' ', out);
		fputs(l.s, out);
		putc('\n', out);
		free(l.s);
		last_t = l.t;
		written++;
	}
}

/* --------------------------------------------------------- pids, ids */

struct pool {
	int n, cap;
	int pid[PMAX];
	int64_t busy[PMAX];
	int uses[PMAX];
};

enum { P_SMTPD, P_SUB, P_REINJ, P_SMTP, P_LOCAL, P_LMTP, P_VIRT,
       P_CLEANUP, P_BOUNCE, P_ERROR, NPOOL };
static const int pool_cap[NPOOL] = { 100, 20, 10, 60, 10, 20, 10, 20, 4, 4 };
static struct pool pools[NHOST][NPOOL];

static int newpid(int h)
{
	hosts[h].nextpid += 1 + (int)rnd(29);
	if (hosts[h].nextpid > 4190000)
		hosts[h].nextpid = 1000;
	return hosts[h].nextpid;
}

/*
 * A process of pool p on host h free at t0, kept busy until t1.  A
 * process retires after 100 uses (max_use) and a new pid takes its place.
 */
static int acquire(int h, int p, int64_t t0, int64_t t1)
{
	struct pool *pl = &pools[h][p];
	int i, best = 0;

	for (i = 0; i < pl->n; i++) {
		if (pl->busy[i] <= t0)
			break;
		if (pl->busy[i] < pl->busy[best])
			best = i;
	}
	if (i == pl->n && pl->n < pool_cap[p]) {
		pl->n++;
		pl->pid[i] = newpid(h);
		pl->uses[i] = 0;
		pl->busy[i] = 0;
	} else if (i == pl->n) {
		i = best;
	}
	if (++pl->uses[i] > 100) {
		pl->pid[i] = newpid(h);
		pl->uses[i] = 1;
	}
	if (pl->busy[i] < t1)
		pl->busy[i] = t1;
	return pl->pid[i];
}

#define RING 1024
static uint64_t removed_q[NHOST][RING];
static int64_t removed_t[NHOST][RING];
static unsigned removed_n[NHOST];

/*
 * A short queue id as Postfix makes them: 5 hex digits of microseconds and
 * the queue file's inode.  Now and then an id removed long ago comes back.
 */
static uint64_t new_qid(int h, int64_t t)
{
	unsigned n = removed_n[h];

	if (n > RING && chance(1.0 / 3000)) {
		unsigned k = (n - 1 - RING / 2 - rnd(RING / 2)) % RING;

		if (t - removed_t[h][k] > 600 * US)
			return removed_q[h][k];
	}
	hosts[h].inode += 1 + rnd(9);
	if (hosts[h].inode >= (0x100000u | (hosts[h].inode & 0xF00000u)) +
	    0x8000u)
		hosts[h].inode -= 0x8000u;
	return ((uint64_t)(t % US) << 24) | hosts[h].inode;
}

static const char *qs(uint64_t q, char *b)
{
	snprintf(b, 16, "%05X%06X", (unsigned)(q >> 24),
		 (unsigned)(q & 0xFFFFFF));
	return b;
}

/* ------------------------------------------------------------ addresses */

static void local_user(char *b, size_t n, const char *dom, uint32_t i)
{
	snprintf(b, n, "%s.%s@%s", first[i % 32], last[i / 32 % 32], dom);
}

static void remote_addr(char *b, size_t n, int *dom)
{
	char d[40];
	int k = chance(0.6) ? (int)skew(NREMOTE) : (int)(NREMOTE +
							  skew(NTAIL));

	*dom = k;
	if (k < (int)NREMOTE)
		snprintf(d, sizeof d, "%s", remotes[k].name);
	else
		snprintf(d, sizeof d, "d%04d.example", k - (int)NREMOTE);
	if (chance(0.25))
		snprintf(b, n, "%s@%s", roles[rnd(8)], d);
	else
		snprintf(b, n, "%s%s%u@%s", first[rnd(32)],
			 chance(0.5) ? "." : "", rnd(100), d);
}

static void dom_mx(int k, char *mx, size_t n, char *ip, size_t ni)
{
	if (k < (int)NREMOTE) {
		snprintf(mx, n, "%s", remotes[k].mx);
		snprintf(ip, ni, "%s", remotes[k].ip);
	} else {
		k -= (int)NREMOTE;
		snprintf(mx, n, "mx%d.d%04d.example", k % 3, k);
		snprintf(ip, ni, "198.18.%d.%d", 100 + k / 250, k % 250 + 2);
	}
}

static int dom_tls(int k)
{
	return k < (int)NREMOTE ? remotes[k].tls : (k % 10 < 6);
}

/*
 * --profile fleet: store1 keeps both domains, the MX relay them to it;
 * only out1 delivers to the Internet, the others relay such mail to it.
 */
static void route_fleet(int h, struct rcpt *r, const char *at)
{
	int com = !strcmp(at, "example.com");

	r->target = (unsigned char)h;
	if (com || !strcmp(at, "example.org")) {
		r->dest = h != 2 ? D_RELAY : com ? D_LMTP : D_VIRTUAL;
		r->target = 2;
	} else if (strstr(at, "example.com")) {
		r->dest = D_LOCAL;
	} else {
		r->dest = h == 3 ? D_REMOTE : D_RELAY;
		r->target = 3;
	}
}

/* where host h sends addr: its own mailboxes, the other host, remote */
static void route(int h, struct rcpt *r)
{
	const char *at = strchr(r->addr, '@') + 1;

	if (fleet) {
		route_fleet(h, r, at);
		return;
	}
	r->target = (unsigned char)h;
	if (!strcmp(at, "example.com")) {
		r->dest = h == 0 ? D_LMTP : D_RELAY;
		r->target = 0;
	} else if (!strcmp(at, "example.org")) {
		r->dest = h == 2 ? D_VIRTUAL : D_RELAY;
		r->target = 2;
	} else if (strstr(at, "example.com")) {
		r->dest = D_LOCAL;
	} else {
		r->dest = D_REMOTE;
	}
}

/*
 * --profile fleet: more greylisting, servers that defer (452 4.2.2) before
 * they bounce, destinations down for a few hours (F_DEAD with left > 0:
 * deferred that many times, then sent) and dead ones (until expiry).
 */
static void fate_fleet(struct rcpt *r)
{
	double u = rndf();
	int g = r->dom >= 0 && r->dom < (int)NREMOTE ? remotes[r->dom].grey : 0;

	r->fate = F_OK;
	r->left = 0;
	if (r->dest == D_LMTP) {
		if (u < 0.004)
			r->fate = F_FULL;
		return;
	}
	if (r->dest != D_REMOTE)
		return;
	if (u < 0.012)
		r->fate = F_BOUNCE;
	else if (u < 0.030 + 0.2 * g)
		r->fate = F_GREY, r->left = (unsigned char)(1 + rnd(3));
	else if (u < 0.036 + 0.2 * g)
		r->fate = F_SLOWBOUNCE, r->left = (unsigned char)(1 + rnd(4));
	else if (u < 0.046 + 0.2 * g)
		r->fate = F_DEAD, r->left = (unsigned char)(1 + rnd(8));
	else if (u < FLEET_DEAD + 0.2 * g || (r->dom >= (int)NREMOTE &&
		 (r->dom - NREMOTE) % FLEET_DEAD_MOD == 5))
		r->fate = F_DEAD, r->left = 255;
}

/* the fate of a recipient, decided once */
static void fate(struct rcpt *r)
{
	double u;

	if (fleet) {
		fate_fleet(r);
		return;
	}
	u = rndf();
	r->fate = F_OK;
	r->left = 0;
	if (r->dest == D_REMOTE) {
		int g = r->dom < (int)NREMOTE ? remotes[r->dom].grey : 0;

		if (u < 0.015)
			r->fate = F_BOUNCE;
		else if (u < 0.020 + 0.15 * g)
			r->fate = F_GREY, r->left = (unsigned char)(1 + rnd(3));
		else if (u < 0.025 + 0.15 * g || (r->dom >= (int)NREMOTE &&
						   (r->dom - NREMOTE) % 97 == 5))
			r->fate = F_DEAD;
	} else if (r->dest == D_LMTP && u < 0.004) {
		r->fate = F_FULL;
	}
}

/* -------------------------------------------------------------- messages */

static struct msg *msg_new(int h, int64_t t, int kind, const char *sender)
{
	struct msg *m = calloc(1, sizeof *m);

	if (!m)
		die("calloc");
	m->host = h;
	m->kind = kind;
	m->arrival = t;
	m->qid = new_qid(h, t);
	snprintf(m->sender, sizeof m->sender, "%s", sender);
	return m;
}

static void msg_mid(struct msg *m, int64_t t, const char *dom)
{
	char st[32];
	int64_t s = t / US;
	int y, mo, d;

	civil(s / 86400, &y, &mo, &d);
	stamp(st, sizeof st, t, 1);
	snprintf(m->mid, sizeof m->mid, "%04d%02d%02d%02d%02d%02d.%08x@%s",
		 y, mo, d, (int)(s % 86400 / 3600), (int)(s % 3600 / 60),
		 (int)(s % 60), (unsigned)rnd64(), dom);
}

static void add_rcpt(struct msg *m, const char *addr, int dom)
{
	struct rcpt *r = &m->r[m->nr++];

	snprintf(r->addr, sizeof r->addr, "%s", addr);
	r->dom = dom;
	route(m->host, r);
	fate(r);
}

static void activate(struct msg *m, int64_t t)
{
	char q[16];
	int n = 0, i;

	for (i = 0; i < m->nr; i++)
		n += !m->r[i].done;
	m->active = t;
	emit(t, m->host, "postfix/qmgr", hosts[m->host].qmgr,
	     "%s: from=<%s>, size=%d, nrcpt=%d (queue active)",
	     qs(m->qid, q), m->sender, m->size, n);
}

static void msg_removed(struct msg *m, int64_t t)
{
	char q[16];
	unsigned k = removed_n[m->host]++ % RING;

	emit(t, m->host, "postfix/qmgr", hosts[m->host].qmgr, "%s: removed",
	     qs(m->qid, q));
	removed_q[m->host][k] = m->qid;
	removed_t[m->host][k] = t;
	free(m);
}

/* cleanup's lines and qmgr's pickup of a new message */
static void cleanup(struct msg *m, int64_t t, const char *helo, int hdr)
{
	char q[16];
	int h = m->host;
	int pid = acquire(h, P_CLEANUP, t, t + 50000);

	qs(m->qid, q);
	if (hdr && helo && chance(0.25))
		emit(t, h, "postfix/cleanup", pid,
		     "%s: warning: header Subject: %s from %s; from=<%s> "
		     "to=<%s> proto=ESMTP helo=<%s>", q, subjects[skew(NSUBJ)],
		     m->client, m->sender, m->r[m->nr - 1].addr, helo);
	else if (hdr && !helo)
		emit(t, h, "postfix/cleanup", pid,
		     "%s: warning: header Subject: %s from local; from=<%s> "
		     "to=<%s>", q, subjects[skew(NSUBJ)], m->sender,
		     m->r[m->nr - 1].addr);
	emit(t + 3000, h, "postfix/cleanup", pid, "%s: message-id=<%s>", q,
	     m->mid);
	if (h == h_submit && m->kind == K_NORMAL && hdr)
		emit(t + 9000, h, "opendkim", hosts[h].dkim,
		     "%s: DKIM-Signature field added (s=mail, d=%s)", q,
		     strchr(m->sender, '@') ? strchr(m->sender, '@') + 1 :
		     "example.com");
	else if (hdr && m->kind == K_NORMAL && chance(0.5))
		emit(t + 9000, h, "opendkim", hosts[h].dkim,
		     "%s: DKIM verification successful", q);
	activate(m, t + 20000 + rnd(30000));
	ev_push(m->active + 5000 + rnd(200000), EV_DELIVER, 0, m);
}

/* ---------------------------------------------------------- delivery */

static void fmt_delay(char *b, size_t n, int64_t us)
{
	size_t k;

	if (us < 0)
		us = 0;
	if (us >= 10 * US) {
		snprintf(b, n, "%lld", (long long)(us / US));
		return;
	}
	if (us < US)
		snprintf(b, n, "%d.%02d", (int)(us / US),
			 (int)((us % US) / 10000));
	else
		snprintf(b, n, "%d.%d", (int)(us / US),
			 (int)((us % US) / 100000));
	k = strlen(b);
	while (k && b[k - 1] == '0')
		b[--k] = 0;
	if (k && b[k - 1] == '.')
		b[--k] = 0;
	if (!k)
		snprintf(b, n, "0");
}

static void dline(struct msg *m, struct rcpt *r, int64_t t, const char *prog,
		  int pid, const char *relay, const char *dsn,
		  const char *status, const char *resp, int64_t conn)
{
	char q[16], d[16], a[16], b[16], c[16], x[16];
	int64_t before = m->active - m->arrival, total = t - m->arrival;
	int64_t xmit = 10000 * rnd(3), inq = total - before - conn - xmit;

	fmt_delay(d, sizeof d, total);
	fmt_delay(a, sizeof a, before);
	fmt_delay(b, sizeof b, inq);
	fmt_delay(c, sizeof c, conn);
	fmt_delay(x, sizeof x, xmit);
	emit(t, m->host, prog, pid, "%s: to=<%s>, relay=%s, delay=%s, "
	     "delays=%s/%s/%s/%s, dsn=%s, status=%s (%s)", qs(m->qid, q),
	     r->addr, relay, d, a, b, c, x, dsn, status, resp);
}

static void local_side(struct msg *m, struct rcpt *r, int64_t t)
{
	int h = m->host, pid;
	char relay[64], resp[256];

	if (r->dest == D_LOCAL) {
		pid = acquire(h, P_LOCAL, t - 20000, t);
		dline(m, r, t, "postfix/local", pid, "local", "2.0.0", "sent",
		      "delivered to mailbox", 0);
	} else if (r->dest == D_VIRTUAL) {
		pid = acquire(h, P_VIRT, t - 20000, t);
		dline(m, r, t, "postfix/virtual", pid, "virtual", "2.0.0",
		      "sent", "delivered to maildir", 0);
	} else {
		pid = acquire(h, P_LMTP, t - 30000, t);
		snprintf(relay, sizeof relay, "%s[private/dovecot-lmtp]",
			 hosts[h].fqdn);
		if (r->fate == F_FULL) {
			snprintf(resp, sizeof resp, "host %s said: 552 5.2.2 "
				 "<%s> Quota exceeded (mailbox for user is "
				 "full) (in reply to end of DATA command)",
				 relay, r->addr);
			dline(m, r, t, "postfix/lmtp", pid, relay, "5.2.2",
			      "bounced", resp, 0);
			r->bounced = 1;
		} else {
			emit(t - 2000, h, "dovecot", -1, "lmtp(%s)<%d><%08x>: "
			     "msgid=<%s>: saved mail to INBOX", r->addr,
			     10000 + pid % 5000, (unsigned)rnd64(), m->mid);
			dline(m, r, t, "postfix/lmtp", pid, relay, "2.0.0",
			      "sent", "250 2.0.0 <x> Saved", 0);
		}
	}
	r->done = 1;
}

static void remote_rcpt(struct msg *m, struct rcpt *r, int64_t t, int pid,
			const char *relay)
{
	char resp[256], said[128], *p;

	/* "host mx.example[192.0.2.1] said:" (the fleet has it right) */
	snprintf(said, sizeof said, "%s", relay);
	if (fleet && (p = strrchr(said, ':')))
		*p = 0;
	if (r->fate == F_GREY && r->left) {
		r->left--;
		snprintf(resp, sizeof resp, "host %s said: 450 4.2.0 <%s>: "
			 "Recipient address rejected: Greylisted, see "
			 "http://postgrey.example/ (in reply to RCPT TO "
			 "command)", said, r->addr);
		dline(m, r, t, "postfix/smtp", pid, relay, "4.2.0",
		      "deferred", resp, 30000);
		return;
	}
	if (r->fate == F_SLOWBOUNCE) {
		r->done = !r->left;
		r->bounced = !r->left;
		snprintf(resp, sizeof resp, "host %s said: %s <%s>: Mailbox "
			 "full, %s (in reply to RCPT TO command)", said,
			 r->left ? "452 4.2.2" : "552 5.2.2", r->addr,
			 r->left ? "try again later" : "quota exceeded");
		dline(m, r, t, "postfix/smtp", pid, relay, r->left ? "4.2.2" :
		      "5.2.2", r->left ? "deferred" : "bounced", resp, 30000);
		if (r->left)
			r->left--;
		return;
	}
	if (r->fate == F_BOUNCE) {
		snprintf(resp, sizeof resp, "host %s said: 550 5.1.1 <%s>: "
			 "Recipient address rejected: User unknown in virtual "
			 "mailbox table (in reply to RCPT TO command)", said,
			 r->addr);
		dline(m, r, t, "postfix/smtp", pid, relay, "5.1.1",
		      "bounced", resp, 30000);
		r->bounced = 1;
	} else {
		snprintf(resp, sizeof resp, "250 2.0.0 Ok: queued as %010llX",
			 (unsigned long long)(rnd64() >> 24));
		if (r->dom == 0)
			snprintf(resp, sizeof resp, "250 2.0.0 OK  %lld "
				 "a640c23a62f3a-%08x.%d - gsmtp",
				 (long long)(t / US), (unsigned)rnd64(),
				 (int)rnd(500));
		dline(m, r, t, "postfix/smtp", pid, relay, "2.0.0", "sent",
		      resp, 30000);
	}
	r->done = 1;
}

/*
 * --profile fleet, a destination that does not answer: the first attempt
 * is smtp's, later ones are mostly qmgr's, which hands the recipients to
 * the retry service while the destination is still marked dead.
 */
static int64_t dead_fleet(struct msg *m, int *g, int n, int64_t t,
			  const char *why)
{
	char b[240];
	int h = m->host, i, pid, err = m->retry && chance(0.7);

	for (i = 0; i < n; i++)
		if (m->r[g[i]].fate == F_DEAD && m->r[g[i]].left < 255)
			m->r[g[i]].left--;
	if (err) {
		pid = acquire(h, P_ERROR, t, t + 10000);
		snprintf(b, sizeof b, "delivery temporarily suspended: %s", why);
		for (i = 0; i < n; i++)
			dline(m, &m->r[g[i]], t + 1000 * i, "postfix/error",
			      pid, "none", "4.4.1", "deferred", b, 0);
		return t + 1000 * n;
	}
	pid = acquire(h, P_SMTP, t, t + 400000 + 20000 * n);
	t += strstr(why, "refused") ? 40000 : 30 * US;
	emit(t, h, "postfix/smtp", pid, "%s", why);
	for (i = 0; i < n; i++)
		dline(m, &m->r[g[i]], t + 1000 * i, "postfix/smtp", pid,
		      "none", "4.4.1", "deferred", why, 0);
	return t + 1000 * n;
}

/* one smtp connection to a remote domain for the group g[0..n) */
static int64_t remote_group(struct msg *m, int *g, int n, int64_t t)
{
	char mx[64], ip[32], relay[128], why[200];
	int h = m->host, k = m->r[g[0]].dom, i, tls = dom_tls(k);
	int pid = acquire(h, P_SMTP, t, t + 400000 + 20000 * n);

	dom_mx(k, mx, sizeof mx, ip, sizeof ip);
	snprintf(relay, sizeof relay, "%s[%s]:25", mx, ip);
	if (m->r[g[0]].fate == F_DEAD && (!fleet || m->r[g[0]].left)) {
		snprintf(why, sizeof why, "connect to %s: Connection %s",
			 relay, k % 2 ? "refused" : "timed out");
		if (fleet)
			return dead_fleet(m, g, n, t, why);
		t += k % 2 ? 40000 : 30 * US;
		emit(t, h, "postfix/smtp", pid, "%s", why);
		for (i = 0; i < n; i++)
			dline(m, &m->r[g[i]], t + 1000 * i, "postfix/smtp",
			      pid, "none", "4.4.1", "deferred", why, 0);
		return t + 1000 * n;
	}
	t += 150000 + rnd(300000);
	if (tls)
		emit(t, h, "postfix/smtp", pid, "%s TLS connection "
		     "established to %s: %s", tls == 2 ? "Verified" :
		     "Untrusted", relay, k % 3 ? tls13 : tls12);
	for (i = 0; i < n; i++)
		remote_rcpt(m, &m->r[g[i]], t + 40000 + 15000 * i, pid, relay);
	return t + 40000 + 15000 * n;
}

static int64_t session_open(int h, int64_t t, const char *name,
			    const char *ip, int pid, const char *prog, int tls,
			    int ps);
static void disconnect(int h, int64_t t, const char *prog, int pid,
		       const char *name, const char *ip, const char *cmds);

/*
 * Relay the group to the other indexed host: its smtpd receives a child
 * (postscreen ALLOWLISTED, TLS), the parent's smtp line says "queued as
 * CHILD".
 */
static int64_t relay_group(struct msg *m, int *g, int n, int64_t t)
{
	int h = m->host, k = m->r[g[0]].target, i, spid, pid;
	char relay[96], resp[96], q[16], cmds[96];
	struct msg *c = msg_new(k, t + 60000, K_RELAYED, m->sender);

	spid = acquire(h, P_SMTP, t, t + 300000);
	pid = acquire(k, P_SMTPD, t, t + 400000);
	snprintf(relay, sizeof relay, "%s[%s]:25", hosts[k].fqdn, hosts[k].ip);
	t = session_open(k, t, hosts[h].fqdn, hosts[h].ip, pid,
			 "postfix/smtpd", 1, 2);
	emit(t + 40000, h, "postfix/smtp", spid, "Verified TLS connection "
	     "established to %s: %s", relay, tls13);
	memcpy(c->mid, m->mid, sizeof c->mid);
	snprintf(c->client, sizeof c->client, "%s[%s]", hosts[h].fqdn,
		 hosts[h].ip);
	c->size = m->size + 600;
	for (i = 0; i < n; i++)
		add_rcpt(c, m->r[g[i]].addr, fleet ? m->r[g[i]].dom : -1);
	emit(t + 60000, k, "postfix/smtpd", pid, "%s: client=%s[%s]",
	     qs(c->qid, q), hosts[h].fqdn, hosts[h].ip);
	snprintf(resp, sizeof resp, "250 2.0.0 Ok: queued as %s", q);
	cleanup(c, t + 70000, hosts[h].fqdn, 0);
	for (i = 0; i < n; i++) {
		dline(m, &m->r[g[i]], t + 200000 + 1000 * i, "postfix/smtp",
		      spid, relay, "2.0.0", "sent", resp, 40000);
		m->r[g[i]].done = 1;
	}
	snprintf(cmds, sizeof cmds, "ehlo=2 starttls=1 mail=1 rcpt=%d data=1 "
		 "quit=1 commands=%d", n, n + 6);
	disconnect(k, t + 220000, "postfix/smtpd", pid, hosts[h].fqdn,
		   hosts[h].ip, cmds);
	return t + 230000;
}

static struct msg *ndr_new(struct msg *m, int64_t t, const char *what)
{
	char q[16], q2[16];
	struct msg *n = msg_new(m->host, t, K_NDR, "");
	int h = m->host;
	int bpid = acquire(h, P_BOUNCE, t, t + 10000);

	snprintf(n->mid, sizeof n->mid, "%lld.%s@%s", (long long)(t / US),
		 qs(n->qid, q), hosts[h].fqdn);
	n->size = 2400 + (int)rnd(4000);
	add_rcpt(n, m->sender, -1);
	if (n->r[0].dest == D_REMOTE || (fleet && n->r[0].dest == D_RELAY &&
					   n->r[0].target == 3)) {
		n->r[0].dom = (int)(NREMOTE + skew(NTAIL));
		fate(&n->r[0]);
	}
	emit(t + 4000, h, "postfix/bounce", bpid, "%s: sender %s "
	     "notification: %s", qs(m->qid, q2), what, q);
	cleanup(n, t, NULL, 0);
	return n;
}

/* the content filter hop: amavis re-injects a child (or drops spam) */
static void filter_hop(struct msg *m, int64_t t)
{
	int h = m->host, i, spid, rpid;
	char q[16], cq[16], resp[160], rcpts[600] = "", cmds[96];
	struct msg *c = NULL;
	int spam = chance(0.04);
	int apid = hosts[h].amavis, an = ++hosts[h].amavis_n;

	spid = acquire(h, P_SMTP, t, t + 700000);
	for (i = 0; i < m->nr; i++)
		snprintf(rcpts + strlen(rcpts), sizeof rcpts - strlen(rcpts),
			 "%s<%s>", i ? "," : "", m->r[i].addr);
	qs(m->qid, q);
	if (!spam) {
		c = msg_new(h, t + 250000, K_FILTERED, m->sender);
		rpid = acquire(h, P_REINJ, t + 200000, t + 300000);
		memcpy(c->mid, m->mid, sizeof c->mid);
		snprintf(c->client, sizeof c->client, "localhost[127.0.0.1]");
		c->size = m->size + 900;
		for (i = 0; i < m->nr; i++)
			add_rcpt(c, m->r[i].addr, m->r[i].dom);
		emit(t + 200000, h, "postfix/reinject/smtpd", rpid,
		     "connect from localhost[127.0.0.1]");
		emit(t + 250000, h, "postfix/reinject/smtpd", rpid,
		     "%s: client=localhost[127.0.0.1], orig_queue_id=%s, "
		     "orig_client=%s", qs(c->qid, cq), q, m->client);
		cleanup(c, t + 260000, "localhost", 0);
		snprintf(cmds, sizeof cmds, "ehlo=1 xforward=1 mail=1 rcpt=%d "
			 "data=1 quit=1 commands=%d", m->nr, m->nr + 5);
		disconnect(h, t + 290000, "postfix/reinject/smtpd", rpid,
			   "localhost", "127.0.0.1", cmds);
		emit(t + 300000, h, "amavis", apid, "(%05d-%02d) Passed CLEAN "
		     "{Relayed%s}, [%s] <%s> -> %s, Queue-ID: %s, "
		     "Message-ID: <%s>, mail_id: %08x, Hits: -%d.%d, size: %d, "
		     "queued_as: %s, %d ms", apid, an % 100,
		     fleet && h == h_submit ? "Outbound" : "Inbound", "127.0.0.1",
		     m->sender, rcpts, q, m->mid, (unsigned)rnd64(), rnd(3),
		     rnd(10), m->size, cq, 100 + rnd(900));
		snprintf(resp, sizeof resp, "250 2.0.0 from MTA(smtp:[127.0.0.1]"
			 ":10025): 250 2.0.0 Ok: queued as %s", cq);
	} else {
		emit(t + 300000, h, "amavis", apid, "(%05d-%02d) Blocked SPAM "
		     "{DiscardedInbound}, <%s> -> %s, Queue-ID: %s, Message-ID: "
		     "<%s>, mail_id: %08x, Hits: %d.%d, size: %d, %d ms", apid,
		     an % 100, m->sender, rcpts, q, m->mid, (unsigned)rnd64(),
		     6 + rnd(20), rnd(10), m->size, 300 + rnd(2000));
		snprintf(resp, sizeof resp, "250 2.7.0 Ok, discarded, "
			 "id=%05d-%02d - spam", apid, an % 100);
	}
	for (i = 0; i < m->nr; i++)
		dline(m, &m->r[i], t + 310000 + 1000 * i, "postfix/smtp", spid,
		      "127.0.0.1[127.0.0.1]:10024", "2.0.0", "sent", resp, 0);
	msg_removed(m, t + 320000 + 1000 * m->nr);
}

static int same_group(const struct rcpt *a, const struct rcpt *b)
{
	if (a->dest != b->dest)
		return 0;
	if (a->dest == D_REMOTE)
		return a->dom == b->dom;
	if (a->dest == D_RELAY)
		return a->target == b->target;
	return 0;
}

/* after a pass: notify bounces, finish, expire or schedule a retry */
static void after_pass(struct msg *m, int64_t t)
{
	int i, pend = 0, bounced = 0;
	char q[16];

	for (i = 0; i < m->nr; i++) {
		pend += !m->r[i].done;
		bounced += m->r[i].bounced == 1;
		if (m->r[i].bounced == 1)
			m->r[i].bounced = 2;
	}
	if (pend && t - m->arrival >= lifetime) {
		emit(t + 2000, m->host, "postfix/qmgr", hosts[m->host].qmgr,
		     "%s: from=<%s>, status=expired, returned to sender",
		     qs(m->qid, q), m->sender);
		bounced += pend;
		pend = 0;
	}
	if (bounced && m->sender[0])
		ndr_new(m, t + 5000, "non-delivery");
	if (!pend) {
		msg_removed(m, t + 30000);
		return;
	}
	if (!m->warned && m->sender[0] && t - m->arrival > DELAY_WARN) {
		m->warned = 1;
		ndr_new(m, t + 5000, "delay");
	}
	m->retry++;
	{
		int64_t b = 300 * US << (m->retry > 4 ? 4 : m->retry - 1);

		if (b > 4000 * US)
			b = 4000 * US;
		ev_push(t + b + rnd(60) * US, EV_RETRY, 0, m);
	}
}

static void deliver(struct msg *m, int64_t t)
{
	int i, j, g[MAXR], n, seen[MAXR] = { 0 };
	int64_t tt = t, end = t, e;

	if (m->filter) {
		m->filter = 0;
		filter_hop(m, t);
		return;
	}
	for (i = 0; i < m->nr; i++) {
		struct rcpt *r = &m->r[i];

		if (r->done || seen[i])
			continue;
		if (r->dest != D_REMOTE && r->dest != D_RELAY) {
			tt += 3000 + rnd(30000);
			local_side(m, r, tt);
			end = tt > end ? tt : end;
			continue;
		}
		n = 0;
		for (j = i; j < m->nr; j++) {
			if (!m->r[j].done && !seen[j] &&
			    same_group(r, &m->r[j])) {
				g[n++] = j;
				seen[j] = 1;
			}
		}
		e = r->dest == D_REMOTE ? remote_group(m, g, n, t + rnd(50000))
					: relay_group(m, g, n, t + rnd(50000));
		end = e > end ? e : end;
	}
	after_pass(m, end);
}

/* ------------------------------------------------------------- sessions */

struct cmds {
	int ehlo, starttls, auth_ok, auth, mail, rcpt_ok, rcpt, data, rset;
	int quit, unknown;
};

static void put_cmd(char *b, size_t n, const char *name, int ok, int tot)
{
	size_t k = strlen(b);

	if (!tot)
		return;
	if (ok == tot)
		snprintf(b + k, n - k, "%s=%d ", name, ok);
	else
		snprintf(b + k, n - k, "%s=%d/%d ", name, ok, tot);
}

/* smtpd's "ehlo=2 starttls=1 mail=1 rcpt=0/1 quit=1 commands=5/6" */
static void fmt_cmds(char *b, size_t n, const struct cmds *c)
{
	int ok = c->ehlo + c->starttls + c->auth_ok + c->mail + c->rcpt_ok +
		 c->data + c->rset + c->quit;
	int tot = ok + (c->auth - c->auth_ok) + (c->rcpt - c->rcpt_ok) +
		  c->unknown;
	size_t k;

	b[0] = 0;
	put_cmd(b, n, "ehlo", c->ehlo, c->ehlo);
	put_cmd(b, n, "starttls", c->starttls, c->starttls);
	put_cmd(b, n, "auth", c->auth_ok, c->auth);
	put_cmd(b, n, "mail", c->mail, c->mail);
	put_cmd(b, n, "rcpt", c->rcpt_ok, c->rcpt);
	put_cmd(b, n, "data", c->data, c->data);
	put_cmd(b, n, "rset", c->rset, c->rset);
	put_cmd(b, n, "unknown", 0, c->unknown);
	put_cmd(b, n, "quit", c->quit, c->quit);
	k = strlen(b);
	if (ok == tot)
		snprintf(b + k, n - k, "commands=%d", ok);
	else
		snprintf(b + k, n - k, "commands=%d/%d", ok, tot);
}

static void disconnect(int h, int64_t t, const char *prog, int pid,
		       const char *name, const char *ip, const char *cmds)
{
	emit(t, h, prog, pid, "disconnect from %s[%s] %s", name, ip, cmds);
}

/* postscreen (ps: 1 screened, 2 allowlisted), connect, STARTTLS */
static int64_t session_open(int h, int64_t t, const char *name,
			    const char *ip, int pid, const char *prog, int tls,
			    int ps)
{
	if (ps && hosts[h].postscreen) {
		int port = 1024 + (int)rnd(64000), p = hosts[h].ps;

		emit(t, h, "postfix/postscreen", p,
		     "CONNECT from [%s]:%d to [%s]:25", ip, port, hosts[h].ip);
		if (ps == 2) {
			emit(t + 1000, h, "postfix/postscreen", p,
			     "ALLOWLISTED [%s]:%d", ip, port);
			t += 3000;
		} else if (chance(0.9)) {
			emit(t + 2000, h, "postfix/postscreen", p,
			     "PASS OLD [%s]:%d", ip, port);
			t += 4000;
		} else {
			emit(t + 6 * US, h, "postfix/postscreen", p,
			     "PASS NEW [%s]:%d", ip, port);
			t += 6 * US + 2000;
		}
	}
	emit(t, h, prog, pid, "connect from %s[%s]", name, ip);
	if (tls) {
		t += 30000;
		emit(t, h, prog, pid, "Anonymous TLS connection established "
		     "from %s[%s]: %s", name, ip, chance(0.7) ? tls13 : tls12);
	}
	return t;
}

struct sess {
	int h, pid;
	const char *prog;
	char name[64], ip[32], helo[64];
	struct cmds c;
};

static long long n_received, n_filtered, n_sessions;
static char meta_qid[16], meta_host[8];

/*
 * MAIL, RCPT (rejecting the recipients flagged in rej), DATA: returns
 * nothing when every recipient was rejected.
 */
static void receive(struct sess *s, int64_t t, const char *sender,
		    char (*to)[72], const int *dom, const int *rej, int n,
		    const char *sasl, double pfilter)
{
	struct msg *m = NULL;
	char q[16];
	int i;

	s->c.mail++;
	for (i = 0; i < n; i++, t += 2000 + rnd(20000)) {
		s->c.rcpt++;
		if (rej[i]) {
			emit(t, s->h, s->prog, s->pid, "%s: reject: RCPT from "
			     "%s[%s]: 550 5.1.1 <%s>: Recipient address "
			     "rejected: User unknown in virtual mailbox table; "
			     "from=<%s> to=<%s> proto=ESMTP helo=<%s>",
			     m ? qs(m->qid, q) : "NOQUEUE", s->name, s->ip,
			     to[i], sender, to[i], s->helo);
			continue;
		}
		s->c.rcpt_ok++;
		if (!m) {
			m = msg_new(s->h, t, K_NORMAL, sender);
			snprintf(m->client, sizeof m->client, "%s[%s]",
				 s->name, s->ip);
			if (sasl)
				emit(t, s->h, s->prog, s->pid, "%s: client=%s, "
				     "sasl_method=PLAIN, sasl_username=%s",
				     qs(m->qid, q), m->client, sasl);
			else
				emit(t, s->h, s->prog, s->pid, "%s: client=%s",
				     qs(m->qid, q), m->client);
		}
		add_rcpt(m, to[i], dom[i]);
	}
	if (!m) {
		s->c.rset++;
		return;
	}
	s->c.data++;
	n_received++;
	m->size = 1500 + (int)(rndf() * rndf() * rndf() * 4000000);
	msg_mid(m, t, chance(0.5) ? strchr(sender, '@') ? strchr(sender, '@')
		+ 1 : "example.net" : "mail.gmail.com");
	m->filter = chance(pfilter);
	n_filtered += m->filter;
	if (m->filter && !meta_qid[0] && written >= target / 2 &&
	    (!fleet || s->h < 2)) {
		qs(m->qid, meta_qid);
		snprintf(meta_host, sizeof meta_host, "%s", hosts[s->h].name);
	}
	cleanup(m, t + 50000 + m->size / 20, s->helo, 1);
}

static void local_rcpts(char (*to)[72], int *dom, int *rej, int n,
			double p_org, double p_rej)
{
	int i;

	for (i = 0; i < n; i++) {
		dom[i] = -1;
		rej[i] = chance(p_rej);
		if (rej[i])
			snprintf(to[i], 72, "nosuch%u@example.com", rnd(500));
		else
			local_user(to[i], 72, chance(p_org) ? "example.org" :
				   "example.com", skew(1024));
	}
}

static int nrcpts(void)
{
	double u = rndf();

	return u < 0.7 ? 1 : u < 0.95 ? 2 + (int)rnd(3) : 5 + (int)rnd(4);
}

/* an Internet MTA delivering to mx1 or mx2 */
static void sess_inbound(int64_t t)
{
	struct sess s = { .h = chance(0.6) ? 0 : 1, .prog = "postfix/smtpd" };
	char sender[72], to[MAXR][72], mx[64];
	int dom[MAXR], rej[MAXR], k, i, n, nm;
	double u = rndf(), slow = chance(0.08) ? 20 : 1;
	int64_t dur;

	remote_addr(sender, sizeof sender, &k);
	dom_mx(k, mx, sizeof mx, s.ip, sizeof s.ip);
	snprintf(s.name, sizeof s.name, "%s", chance(0.07) ? "unknown" :
		 mx);
	snprintf(s.helo, sizeof s.helo, "%s", mx);
	if (chance(0.03))
		sender[0] = 0;
	if (fleet)	/* big senders keep the connection for more mail */
		nm = u < 0.5 ? 1 : u < 0.8 ? 2 : 3 + (int)rnd(4);
	else
		nm = u < 0.85 ? 1 : u < 0.95 ? 2 : 3 + (int)rnd(3);
	dur = (int64_t)((800000 + rnd(6000000)) * nm * slow);
	s.pid = acquire(s.h, P_SMTPD, t, t + dur + 7 * US);
	s.c.ehlo = 1;
	if (chance(0.65)) {
		s.c.ehlo = 2;
		s.c.starttls = 1;
	}
	t = session_open(s.h, t, s.name, s.ip, s.pid, s.prog, s.c.starttls,
			 k == 6 ? 2 : 1);
	for (i = 0; i < nm; i++) {
		n = nrcpts();
		local_rcpts(to, dom, rej, n, 0.3, 0.03);
		receive(&s, t + dur * i / nm + 100000, sender, to, dom, rej, n,
			NULL, fleet ? 1.0 : 0.3);
	}
	s.c.quit = 1;
	fmt_cmds(mx, sizeof mx, &s.c);
	disconnect(s.h, t + dur, s.prog, s.pid, s.name, s.ip, mx);
}

static const char *bad_helo[] = { "ylmf-pc", "User", "WIN-3KD9F2QX", "localhost",
				  "mail.example.com", "[127.0.0.1]" };

/* postscreen's verdict on a bot, without smtpd */
static void screen_out(int h, int64_t t, const char *ip)
{
	int port = 1024 + (int)rnd(64000), p = hosts[h].ps;
	double u = rndf();
	char to[72];

	emit(t, h, "postfix/postscreen", p, "CONNECT from [%s]:%d to [%s]:25",
	     ip, port, hosts[h].ip);
	if (u < 0.4) {
		emit(t + 120000, h, "postfix/postscreen", p, "PREGREET 11 "
		     "after 0.12 from [%s]:%d: EHLO %s\\r\\n", ip, port,
		     bad_helo[rnd(6)]);
	} else if (u < 0.8) {
		local_user(to, sizeof to, "example.com", skew(1024));
		emit(t + 10000, h, "postfix/postscreen", p,
		     "DNSBL rank %d for [%s]:%d", 3 + (int)rnd(5), ip, port);
		emit(t + 6 * US, h, "postfix/postscreen", p, "NOQUEUE: reject: "
		     "RCPT from [%s]:%d: 550 5.7.1 Service unavailable; client "
		     "[%s] blocked using zen.spamhaus.org; from=<%s>, to=<%s>, "
		     "proto=ESMTP, helo=<%s>", ip, port, ip, "promo@deals.example",
		     to, bad_helo[rnd(6)]);
	} else {
		emit(t + 3 * US, h, "postfix/postscreen", p, "HANGUP after "
		     "%d.%d from [%s]:%d in tests before SMTP handshake",
		     2 + (int)rnd(4), (int)rnd(10), ip, port);
	}
	emit(t + 6 * US + 10000, h, "postfix/postscreen", p,
	     "DISCONNECT [%s]:%d", ip, port);
}

/* one NOQUEUE reject of kind k */
static void noqueue(struct sess *s, int64_t t, int k)
{
	char to[72], why[200], from[72];
	int d;

	snprintf(from, sizeof from, "%s%u@%s", first[rnd(32)], rnd(999),
		 k == 3 ? "nx-domain.invalid" : "deals.example");
	if (k == 0)
		remote_addr(to, sizeof to, &d);
	else if (k == 1)
		snprintf(to, sizeof to, "nosuch%u@example.com", rnd(500));
	else
		local_user(to, sizeof to, "example.com", skew(1024));
	if (k == 0)
		snprintf(why, sizeof why, "554 5.7.1 <%s>: Relay access denied",
			 to);
	else if (k == 1)
		snprintf(why, sizeof why, "550 5.1.1 <%s>: Recipient address "
			 "rejected: User unknown in virtual mailbox table", to);
	else if (k == 2)
		snprintf(why, sizeof why, "554 5.7.1 Service unavailable; "
			 "Client host [%s] blocked using zen.spamhaus.org; "
			 "https://www.spamhaus.org/query/ip/%s", s->ip, s->ip);
	else if (k == 3)
		snprintf(why, sizeof why, "450 4.1.8 <%s>: Sender address "
			 "rejected: Domain not found", from);
	else if (k == 4)
		snprintf(why, sizeof why, "504 5.5.2 <%s>: Helo command "
			 "rejected: need fully-qualified hostname", s->helo);
	else
		snprintf(why, sizeof why, "450 4.2.0 <%s>: Recipient address "
			 "rejected: Greylisted, see http://postgrey.example/",
			 to);
	s->c.rcpt++;
	emit(t, s->h, s->prog, s->pid, "NOQUEUE: reject: RCPT from %s[%s]: "
	     "%s; from=<%s> to=<%s> proto=ESMTP helo=<%s>", s->name, s->ip,
	     why, from, to, s->helo);
}

/* bots and scanners at mx1/mx2 */
static void sess_spam(int64_t t)
{
	struct sess s = { .h = chance(0.6) ? 0 : 1, .prog = "postfix/smtpd" };
	double u = rndf();
	char b[160];
	int i, n, k;

	snprintf(s.ip, sizeof s.ip, "198.19.%u.%u", rnd(256), 1 + rnd(254));
	if (u < 0.4) {
		screen_out(s.h, t, s.ip);
		return;
	}
	snprintf(s.name, sizeof s.name, "unknown");
	snprintf(s.helo, sizeof s.helo, "%s", bad_helo[rnd(6)]);
	s.pid = acquire(s.h, P_SMTPD, t, t + 40 * US);
	if (chance(0.3)) {
		snprintf(b, sizeof b, "host-%s.dyn.example", s.ip);
		emit(t + 20000, s.h, s.prog, s.pid, "warning: hostname %s "
		     "does not resolve to address %s: Name or service not "
		     "known", b, s.ip);
	}
	t = session_open(s.h, t, s.name, s.ip, s.pid, s.prog, 0, 1) + 200000;
	s.c.ehlo = 1;
	if (u < 0.85) {
		n = 1 + (int)rnd(3);
		k = (int)rnd(6);
		s.c.mail = 1;
		for (i = 0; i < n; i++)
			noqueue(&s, t + i * 1500000, k);
		s.c.quit = chance(0.7);
		fmt_cmds(b, sizeof b, &s.c);
		disconnect(s.h, t + n * 1500000 + 100000, s.prog, s.pid,
			   s.name, s.ip, b);
		return;
	}
	k = (int)rnd(4);
	if (k == 0)
		emit(t, s.h, s.prog, s.pid, "lost connection after EHLO from "
		     "%s[%s]", s.name, s.ip);
	else if (k == 1)
		emit(t + 30 * US, s.h, s.prog, s.pid, "timeout after EHLO from "
		     "%s[%s]", s.name, s.ip);
	else if (k == 2)
		emit(t, s.h, s.prog, s.pid, "improper command pipelining after "
		     "EHLO from %s[%s]: QUIT\\r\\n", s.name, s.ip);
	else
		emit(t, s.h, s.prog, s.pid, "warning: non-SMTP command from "
		     "%s[%s]: GET / HTTP/1.1", s.name, s.ip);
	s.c.unknown = k == 3;
	s.c.quit = k == 2;
	fmt_cmds(b, sizeof b, &s.c);
	disconnect(s.h, t + (k == 1 ? 30 : 2) * US + 1000, s.prog, s.pid,
		   s.name, s.ip, b);
}

/* a user submitting on mx3's port 587 with STARTTLS and AUTH PLAIN */
static void sess_submit(int64_t t)
{
	struct sess s = { .h = h_submit, .prog = "postfix/submission/smtpd" };
	char user[72], to[MAXR][72], b[160];
	int dom[MAXR], rej[MAXR] = { 0 }, i, n;
	uint32_t a = rnd(250);

	snprintf(s.ip, sizeof s.ip, "198.51.100.%u", 1 + a);
	snprintf(s.name, sizeof s.name, "dsl-%u.isp.example", 1 + a);
	snprintf(s.helo, sizeof s.helo, "[192.168.1.%u]", 2 + rnd(200));
	local_user(user, sizeof user, chance(0.6) ? "example.org" :
		   "example.com", skew(1024));
	s.pid = acquire(s.h, P_SUB, t, t + 4 * US);
	t = session_open(s.h, t, s.name, s.ip, s.pid, s.prog, 1, 0);
	s.c.ehlo = 2;
	s.c.starttls = 1;
	s.c.auth = 1;
	if (chance(0.03)) {
		emit(t + 2 * US, s.h, s.prog, s.pid, "warning: %s[%s]: SASL "
		     "LOGIN authentication failed: UGFzc3dvcmQ6", s.name, s.ip);
		emit(t + 2 * US + 5000, s.h, s.prog, s.pid, "lost connection "
		     "after AUTH from %s[%s]", s.name, s.ip);
		fmt_cmds(b, sizeof b, &s.c);
		disconnect(s.h, t + 2 * US + 6000, s.prog, s.pid, s.name, s.ip,
			   b);
		return;
	}
	s.c.auth_ok = 1;
	n = nrcpts();
	for (i = 0; i < n; i++) {
		if (chance(0.7))
			remote_addr(to[i], 72, &dom[i]);
		else
			local_rcpts(to + i, dom + i, rej + i, 1, 0.5, 0);
	}
	receive(&s, t + 300000, user, to, dom, rej, n, user,
		fleet ? 1.0 : 0.3);
	s.c.quit = 1;
	fmt_cmds(b, sizeof b, &s.c);
	disconnect(s.h, t + 1500000 + rnd(2000000), s.prog, s.pid, s.name, s.ip,
		   b);
}

/* a web server in mynetworks relaying notifications through mx3 */
static void sess_app(int64_t t)
{
	static const char *senders[3] = { "noreply@example.com",
		"alerts@example.org", "newsletter@example.com" };
	struct sess s = { .h = h_submit, .prog = "postfix/smtpd" };
	char to[MAXR][72], b[160];
	int dom[MAXR], rej[MAXR] = { 0 }, i, n, w = (int)rnd(3);

	snprintf(s.ip, sizeof s.ip, "10.0.%d.%d", w, 5 + w);
	snprintf(s.name, sizeof s.name, "web%d.example.com", w + 1);
	snprintf(s.helo, sizeof s.helo, "%s", s.name);
	s.pid = acquire(s.h, P_SMTPD, t, t + 2 * US);
	s.c.ehlo = 1;
	if (w == 0) {
		s.c.ehlo = 2;
		s.c.starttls = 1;
	}
	t = session_open(s.h, t, s.name, s.ip, s.pid, s.prog, w == 0, 0);
	n = w == 2 ? 1 + (int)rnd(MAXR) : 1;
	for (i = 0; i < n; i++)
		remote_addr(to[i], 72, &dom[i]);
	receive(&s, t + 50000, senders[w], to, dom, rej, n, NULL,
		fleet ? 1.0 : 0.3);
	s.c.quit = 1;
	fmt_cmds(b, sizeof b, &s.c);
	disconnect(s.h, t + 500000 + rnd(1000000), s.prog, s.pid, s.name, s.ip,
		   b);
}

static void session(int64_t t)
{
	double u = rndf();

	n_sessions++;
	if (fleet)	/* 50% inbound, 14% bots, 21% submissions, 15% apps */
		u = u < 0.50 ? u * 0.94 : u < 0.64 ? 0.47 + (u - 0.50) * 23 / 14 :
		    u < 0.85 ? 0.70 + (u - 0.64) * 18 / 21 :
		    0.88 + (u - 0.85) * 12 / 15;
	if (u < 0.47)
		sess_inbound(t);
	else if (u < 0.70)
		sess_spam(t);
	else if (u < 0.88)
		sess_submit(t);
	else
		sess_app(t);
}

/* ---------------------------------------------------- periodic events */

static void at_stamp(char *b, size_t n, int64_t t)
{
	stamp(b, n, t, 0);
}

static void house(int h, int64_t t)
{
	char st[32];

	at_stamp(st, sizeof st, t - rnd(600) * US);
	emit(t, h, "postfix/anvil", hosts[h].anvil, "statistics: max "
	     "connection rate %d/60s for (smtp:198.19.%u.%u) at %s",
	     1 + (int)rnd(6), rnd(256), 1 + rnd(254), st);
	emit(t, h, "postfix/anvil", hosts[h].anvil, "statistics: max "
	     "connection count %d for (smtp:198.19.%u.%u) at %s",
	     1 + (int)rnd(3), rnd(256), 1 + rnd(254), st);
	emit(t, h, "postfix/anvil", hosts[h].anvil, "statistics: max cache "
	     "size %d at %s", 5 + (int)rnd(40), st);
	if (h == h_submit) {
		at_stamp(st, sizeof st, t - 600 * US);
		emit(t + 1000, h, "postfix/scache", hosts[h].scache,
		     "statistics: start interval %s", st);
		emit(t + 1000, h, "postfix/scache", hosts[h].scache,
		     "statistics: domain lookup hits=%u miss=%u success=%u%%",
		     rnd(20), 1 + rnd(30), rnd(60));
	}
	ev_push(t + 600 * US, EV_HOUSE, h, NULL);
}

/* cron every 5 minutes; root's mail on the hour (pickup, local) */
static void cron(int h, int64_t t)
{
	char from[72];
	struct msg *m;
	int pid = newpid(h);

	emit(t, h, "CRON", pid, "(root) CMD (command -v debian-sa1 > "
	     "/dev/null && debian-sa1 1 1)");
	if (t / US % 3600 < 300) {
		snprintf(from, sizeof from, "root@%s", hosts[h].fqdn);
		m = msg_new(h, t + 900000, K_NORMAL, from);
		snprintf(m->client, sizeof m->client, "local");
		m->size = 900 + (int)rnd(3000);
		add_rcpt(m, from, -1);
		msg_mid(m, t, hosts[h].fqdn);
		emit(t + 900000, h, "postfix/pickup", hosts[h].pickup,
		     "%s: uid=0 from=<%s>", qs(m->qid, from), m->sender);
		n_received++;
		cleanup(m, t + 950000, NULL, 1);
	}
	ev_push(t + 300 * US, EV_CRON, h, NULL);
}

static void imap(int h, int64_t t)
{
	char user[72];
	int mpid = 20000 + (int)rnd(40000);
	unsigned sess = (unsigned)rnd64();

	local_user(user, sizeof user, (fleet ? chance(0.4) : h) ?
		   "example.org" : "example.com", skew(1024));
	emit(t, h, "dovecot", -1, "imap-login: Login: user=<%s>, method=PLAIN,"
	     " rip=198.51.100.%u, lip=%s, mpid=%d, TLS, session=<%08x>", user,
	     1 + rnd(250), hosts[h].ip, mpid, sess);
	emit(t + (int64_t)rnd(600) * US, h, "dovecot", -1, "imap(%s)<%d><%08x>: "
	     "Logged out in=%u out=%u deleted=0 expunged=0 trashed=0 "
	     "hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0", user, mpid,
	     sess, 50 + rnd(900), 400 + rnd(90000));
	ev_push(t + (int64_t)(rndf() * 120 * US), EV_IMAP, h, NULL);
}

static void reload(int h, int64_t t)
{
	emit(t, h, "postfix/postfix-script", newpid(h), "refreshing the "
	     "Postfix mail system");
	emit(t + 20000, h, "postfix/master", hosts[h].master, "reload -- "
	     "version 3.7.11, configuration /etc/postfix");
	ev_push(t + 86400 * US, EV_RELOAD, h, NULL);
}

static void handle(struct ev *e)
{
	switch (e->kind) {
	case EV_DELIVER:
		deliver(e->m, e->t);
		break;
	case EV_RETRY:
		activate(e->m, e->t);
		deliver(e->m, e->t + 20000 + rnd(100000));
		break;
	case EV_HOUSE:
		house(e->arg, e->t);
		break;
	case EV_CRON:
		cron(e->arg, e->t);
		break;
	case EV_IMAP:
		imap(e->arg, e->t);
		break;
	default:
		reload(e->arg, e->t);
	}
}

/* ------------------------------------------------------------------ main */

/* relative traffic at second s of the day: quiet nights, busy afternoons */
static double rhythm(int64_t s)
{
	double x = (double)(s % 86400) / 3600.0 - 14.0;

	return 0.25 + exp(-x * x / 30.0);
}

static double max_rate;

static void rate_init(void)
{
	double sum = 0;
	int i;

	for (i = 0; i < 1440; i++)
		sum += rhythm(i * 60);
	max_rate = SESSIONS_PER_S * 1.25 / (sum / 1440);
}

/* the next session arrival after t (thinned Poisson process) */
static int64_t next_arrival(int64_t t)
{
	for (;;) {
		t += (int64_t)(-log(1.0 - rndf()) / max_rate * US) + 1;
		if (rndf() * 1.25 < rhythm(t / US))
			return t;
	}
}

static void hosts_init(int64_t t)
{
	int h;

	for (h = 0; h < nhost; h++) {
		struct host *x = &hosts[h];

		x->master = newpid(h);
		x->qmgr = newpid(h);
		x->pickup = newpid(h);
		x->ps = newpid(h);
		x->anvil = newpid(h);
		x->scache = newpid(h);
		x->amavis = 3000 + h * 17;
		x->dkim = 800 + h * 3;
		ev_push(t + (100 + h * 7) * US, EV_HOUSE, h, NULL);
		ev_push(t + (60 + h) * US, EV_CRON, h, NULL);
		ev_push(t + 6 * 3600 * US + 25 * 60 * US + h * US, EV_RELOAD, h,
			NULL);
		if (fleet ? h == 2 : h != 1)
			ev_push(t + (5 + h) * US, EV_IMAP, h, NULL);
	}
}

static void write_meta(const char *path, int64_t t0)
{
	char p[4096], a[32], b[32], c[32], d[32], to[72];
	FILE *f;

	snprintf(p, sizeof p, "%s.meta", path);
	f = fopen(p, "w");
	if (!f)
		die(p);
	stamp(a, sizeof a, t0, 1);
	stamp(b, sizeof b, last_t, 1);
	stamp(c, sizeof c, t0 + (last_t - t0) / 2, 1);
	stamp(d, sizeof d, last_t - 86400 * US, 1);
	local_user(to, sizeof to, "example.com", 37);
	fprintf(f, "lines=%lld\nfirst=%s\nlast=%s\nmiddle=%s\nlast_day=%s\n"
		"trace_qid=%s\ntrace_host=%s\nsearch_to=%s\nsessions=%lld\n"
		"received=%lld\nfiltered=%lld\nprofile=%s\nhosts=%d\n", written,
		a, b, c, d, meta_qid, meta_host, to, n_sessions, n_received,
		n_filtered, fleet ? "fleet" : "default", nhost);
	if (fclose(f))
		die(p);
}

int main(int argc, char **argv)
{
	int64_t t = START_S * US, t0 = t;
	struct timeval tv[2];
	static char obuf[1 << 20];

	if (argc == 5 && !strcmp(argv[1], "--profile")) {
		if (!strcmp(argv[2], "fleet")) {
			fleet = 1;
			hosts = hosts_fleet;
			nhost = 4;
			h_submit = 3;
			lifetime = FLEET_LIFETIME;
		} else if (strcmp(argv[2], "default")) {
			argc = 0;
		}
		argv += 2;
		argc -= 2;
	}
	if (argc != 3 || (target = strtoll(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: gen [--profile default|fleet] LINES "
			"OUT.log\n");
		return 2;
	}
	out = fopen(argv[2], "w");
	if (!out)
		die(argv[2]);
	setvbuf(out, obuf, _IOFBF, sizeof obuf);
	rate_init();
	hosts_init(t);
	t = next_arrival(t);
	while (written < target) {
		if (eh_n && eh[0].t <= t) {
			struct ev e = ev_pop();

			now_floor = e.t;
			flush_before(e.t);
			handle(&e);
			continue;
		}
		now_floor = t;
		flush_before(t);
		session(t);
		t = next_arrival(t);
	}
	if (fclose(out))
		die(argv[2]);
	tv[0].tv_sec = tv[1].tv_sec = (time_t)(last_t / US + 60);
	tv[0].tv_usec = tv[1].tv_usec = 0;
	if (utimes(argv[2], tv))
		die("utimes");
	write_meta(argv[2], t0);
	return 0;
}
