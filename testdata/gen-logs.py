#!/usr/bin/env python3
"""gen-logs.py - writes pfi's sample maillogs and their exact expected answers.

Deterministic (fixed seed, fixed start time), python3 standard library only.
It runs on developer machines, not in CI: its outputs under testdata/logs/
are committed.  Run it from anywhere:

    python3 testdata/gen-logs.py            # writes testdata/logs/
    python3 testdata/gen-logs.py --check    # regenerates in memory, compares

Model.  Every scenario is a function that drives a small simulation of two
Postfix 3.7 hosts (mx1, mx2): it opens smtpd sessions, receives messages,
delivers, defers, bounces, expires ... through helpers that at the same time
(a) emit log lines whose text is copied from the real Postfix 3.7 corpus
(/work/shared/corpus/realpostfix/LINE_TYPES.md) and (b) update the model
(messages, recipients, their status/dsn/attempts, parent links).  The
expected files are written from the model.  Then an independent mini
correlator (crosscheck(), written from the log lines only) re-derives every
recipient row and every total from the generated log and must agree with the
model exactly, otherwise nothing is written.

Outputs (see testdata/README and testdata/logs/EXPECTED.md):
  sample.log, sample-rfc3339.log, rotated/, rollover.log, longids.log,
  expected.tsv, expected-summary.txt, expected-messages.tsv,
  rollover-expected.tsv, rollover-summary.txt,
  longids-expected.tsv, longids-summary.txt, EXPECTED.md
"""

import bz2
import datetime
import gzip
import lzma
import os
import random
import re
import shutil
import subprocess
import sys

SEED = 20261102
UTC = datetime.timezone.utc
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

TLS13 = ("TLSv1.3", "TLS_AES_256_GCM_SHA384",
         "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) "
         "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
         "server-digest SHA256")
TLS12 = ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384",
         "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)")

# Hosts: syslog name -> (myhostname, address)
HOSTS = {"mx1": ("mx1.example.com", "192.0.2.11"),
         "mx2": ("mx2.example.com", "192.0.2.12")}

# SMTP clients: (name, ip, helo)
C_SENDER = ("mail.sender.example", "203.0.113.5", "mail.sender.example")
C_PARTNER = ("smtp.partner.example", "198.51.100.25", "smtp.partner.example")
C_NEWS = ("out.news.example", "203.0.113.80", "out.news.example")
C_UNKNOWN = ("unknown", "198.51.100.77", "friendly.host.example")
C_SPAM = ("unknown", "203.0.113.66", "ylmf-pc")
C_WEB1 = ("web1.example.com", "10.0.0.5", "web1.example.com")
C_WEB2 = ("web2.example.org", "10.0.1.6", "web2.example.org")
C_LAPTOP = ("dsl-140.isp.example", "198.51.100.140", "laptop.home")
C_LOCALHOST = ("localhost", "127.0.0.1", "localhost")
C_MX1 = ("mx1.example.com", "192.0.2.11", "mx1.example.com")

# Remote servers: (relay name, ip, port)
R_PARTNER = ("mx.partner.example", "198.51.100.25", 25)
R_GOOGLE = ("gmail-smtp-in.l.google.com", "142.250.27.26", 25)
R_GREY = ("mx.greylist.example", "203.0.113.40", 25)
R_DEAD = ("mx.dead.example", "203.0.113.99", 25)
R_PIX = ("mail.oldpix.example", "198.51.100.30", 25)
R_MX2 = ("mx2.example.com", "192.0.2.12", 25)
R_AMAVIS = ("127.0.0.1", "127.0.0.1", 10024)

LONG_ALPHA = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz"


# ---------------------------------------------------------------- formatting

def fmt_delay(x):
    """Postfix's delay format: 0.01 steps below 1 s, 0.1 below 10 s."""
    if x < 1:
        s = "%.2f" % x
    elif x < 10:
        s = "%.1f" % x
    else:
        return "%d" % int(x)
    s = s.rstrip("0").rstrip(".")
    return s if s else "0"


def classic_stamp(t_us):
    d = datetime.datetime.fromtimestamp(t_us // 1000000, UTC)
    return "%s %2d %02d:%02d:%02d" % (MONTHS[d.month - 1], d.day, d.hour,
                                      d.minute, d.second)


def rfc_stamp(t_us):
    d = datetime.datetime.fromtimestamp(t_us // 1000000, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%06d+00:00" % (t_us % 1000000)


def iso(t_us):
    d = datetime.datetime.fromtimestamp(t_us // 1000000, UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_us(y, mo, d, h, mi, s):
    return int(datetime.datetime(y, mo, d, h, mi, s, tzinfo=UTC)
               .timestamp()) * 1000000


def enc_long(n, base, pad):
    s = ""
    while n:
        s = LONG_ALPHA[n % base] + s
        n //= base
    return s.rjust(pad, "0")


# --------------------------------------------------------------------- model

class Line:
    def __init__(self, t, seq, host, prog, pid, text, kind):
        self.t, self.seq, self.host = t, seq, host
        self.prog, self.pid, self.text, self.kind = prog, pid, text, kind

    def render(self, rfc=False):
        stamp = rfc_stamp(self.t) if rfc else classic_stamp(self.t)
        tag = self.prog if self.pid is None else "%s[%d]" % (self.prog,
                                                             self.pid)
        return "%s %s %s: %s" % (stamp, self.host, tag, self.text)


class Rcpt:
    def __init__(self, msg, to, orig_to=None):
        self.msg, self.to, self.orig_to = msg, to, orig_to
        self.status, self.dsn, self.attempts, self.t = None, None, 0, None


class Msg:
    """One (host, queue id) lifetime."""

    def __init__(self, host, qid, kind, sender, t):
        self.host, self.qid, self.kind, self.sender = host, qid, kind, sender
        self.arrival = t
        self.active = t
        self.removed = None
        self.held = False
        self.mid = self.subject = self.client = self.client_ip = None
        self.sasl = None
        self.tls = None
        self.size = None
        self.rcpts = []
        self.relation, self.parent = "-", None
        self.scenario = None

    def rcpt(self, to):
        for r in self.rcpts:
            if r.to == to:
                return r
        raise KeyError(to)

    @property
    def received(self):
        return self.kind in ("smtpd", "pickup")


class Reject:
    """A NOQUEUE reject row (queue id "-")."""

    def __init__(self, host, to, dsn, t, scenario):
        self.host, self.to, self.dsn, self.t = host, to, dsn, t
        self.scenario = scenario


class Session:
    """One smtpd (or postscreen-fronted smtpd) connection."""

    def __init__(self, w, host, pid, client, prog, t, tls):
        self.w, self.host, self.pid, self.client = w, host, pid, client
        self.prog, self.t0, self.tls = prog, t, tls
        self.cmds = {"ehlo": [1, 1]}
        if tls:
            self.cmds["ehlo"] = [2, 2]
            self.cmds["starttls"] = [1, 1]

    def count(self, cmd, ok):
        c = self.cmds.setdefault(cmd, [0, 0])
        c[0] += 1 if ok else 0
        c[1] += 1

    def close(self, t):
        if "rcpt" in self.cmds and self.cmds["rcpt"][0] > 0:
            self.count("data", True)
        elif "mail" in self.cmds:
            self.count("rset", True)
        self.count("quit", True)
        parts, ok, tot = [], 0, 0
        for name, (a, b) in self.cmds.items():
            parts.append("%s=%d" % (name, a) if a == b else
                         "%s=%d/%d" % (name, a, b))
            ok, tot = ok + a, tot + b
        parts.append("commands=%d" % ok if ok == tot else
                     "commands=%d/%d" % (ok, tot))
        name, ip, _ = self.client
        self.w.emit(t, self.host, self.prog, self.pid,
                    "disconnect from %s[%s] %s" % (name, ip, " ".join(parts)))
        self.w.sessions.setdefault((self.host, self.prog, self.pid),
                                   []).append((self.t0, t))


class World:
    def __init__(self, name, seed, start, long_ids=False):
        self.name = name
        self.rng = random.Random(seed)
        self.start = start
        self.long_ids = long_ids
        self.lines, self.msgs, self.rejects = [], [], []
        self.seq = 0
        self.intervals = {}
        self.sessions = {}
        self.inode = {"mx1": 0x1161A0, "mx2": 0x2A0F30}
        self.used_qids = set()
        self.scenarios = []
        self.cur = None
        self.facts = {}

    # -- scenario bookkeeping
    def scenario(self, key, title, text):
        self.cur = {"key": key, "title": title, "text": text, "msgs": [],
                    "rejects": []}
        self.scenarios.append(self.cur)

    def fact(self, key, value):
        self.facts[key] = value

    # -- raw lines
    def emit(self, t, host, prog, pid, text, kind="postfix"):
        self.seq += 1
        self.lines.append(Line(t, self.seq, host, prog, pid, text, kind))

    def at(self, offset_s):
        return self.start + int(round(offset_s * 1000000))

    def busy(self, host, prog, pid, t0, t1):
        self.intervals.setdefault((host, prog, pid), []).append((t0, t1))

    def pid(self, host, prog, t0, t1, pool):
        """The first pid of `pool` that is free during [t0, t1]."""
        for p in pool:
            iv = self.intervals.get((host, prog, p), [])
            if all(t1 < a or t0 > b for a, b in iv):
                self.busy(host, prog, p, t0, t1)
                return p
        raise RuntimeError("no free %s pid on %s" % (prog, host))

    def new_qid(self, host, t):
        self.inode[host] += self.rng.randint(1, 9)
        if self.long_ids:
            sec, usec = t // 1000000, t % 1000000
            q = (enc_long(sec, 52, 6) + enc_long(usec, 52, 4) + "z" +
                 enc_long(self.inode[host], 51, 4))
        else:
            q = "%05X%X" % (self.rng.randrange(1000000), self.inode[host])
        assert q not in self.used_qids, q
        self.used_qids.add(q)
        return q

    def ext_qid(self):
        """A queue id answered by a server whose log is not indexed."""
        while True:
            q = "%010X" % self.rng.getrandbits(40)
            if q not in self.used_qids:
                self.used_qids.add(q)
                return q

    def sorted_lines(self):
        return sorted(self.lines, key=lambda ln: (ln.t, ln.seq))

    # -- message bookkeeping
    def add_msg(self, m):
        m.scenario = self.cur["key"] if self.cur else None
        self.msgs.append(m)
        if self.cur:
            self.cur["msgs"].append(m)
        return m

    def add_reject(self, rj):
        self.rejects.append(rj)
        if self.cur:
            self.cur["rejects"].append(rj)


# ------------------------------------------------------------- smtpd helpers

PID_SMTPD = [2101, 2102, 2103, 2104, 2105, 2106, 2107, 2108]
PID_SMTP = [1401, 1402, 1403, 1404, 1405, 1406]
PID_LOCAL = [1301, 1302, 1303]
PID_CLEANUP = [1211, 1212, 1213, 1214, 1215]
QMGR = {"mx1": 1102, "mx2": 1102}
PICKUP = {"mx1": 1101, "mx2": 1101}
BOUNCE = {"mx1": 1501, "mx2": 1507}
POSTSCREEN = {"mx2": 1620}


def open_session(w, host, t, client, tls=None, prog="postfix/smtpd",
                 pid=None, dur=3.0):
    """connect (+ postscreen on mx2) (+ TLS). dur: planned session length."""
    name, ip, _ = client
    if pid is None:
        pid = w.pid(host, prog, t, t + int(dur * 1e6), PID_SMTPD)
    if host == "mx2" and prog == "postfix/smtpd" and ip != "127.0.0.1":
        port = w.rng.randint(33000, 60999)
        w.emit(t - 9000, host, "postfix/postscreen", POSTSCREEN[host],
               "CONNECT from [%s]:%d to [%s]:25" % (ip, port, HOSTS[host][1]))
        verdict = ("ALLOWLISTED" if ip.startswith(("192.0.2.", "10."))
                   else "PASS OLD")
        w.emit(t - 4000, host, "postfix/postscreen", POSTSCREEN[host],
               "%s [%s]:%d" % (verdict, ip, port))
    w.emit(t, host, prog, pid, "connect from %s[%s]" % (name, ip))
    s = Session(w, host, pid, client, prog, t, tls)
    if tls:
        w.emit(t + 30000, host, prog, pid,
               "Anonymous TLS connection established from %s[%s]: %s"
               % (name, ip, tls[2]))
    return s


def rcpt_reject(w, s, t, sender, to, code, dsn, reason, qid=None,
                msg=None):
    name, ip, helo = s.client
    s.count("mail", True) if "mail" not in s.cmds else None
    s.count("rcpt", False)
    head = "%s: reject: RCPT from %s[%s]: %s %s " % (qid or "NOQUEUE", name,
                                                       ip, code, dsn)
    w.emit(t, s.host, s.prog, s.pid,
           head + "%s; from=<%s> to=<%s> proto=ESMTP helo=<%s>"
           % (reason, sender, to, helo))
    if msg is None:
        w.add_reject(Reject(s.host, to, dsn, t, w.cur["key"]))
    else:
        r = Rcpt(msg, to)
        r.status, r.dsn, r.t = "rejected", dsn, t
        msg.rcpts.append(r)


def receive(w, s, t, sender, rcpts, subject, size, sasl=None,
            header_action="warning", filter_rcpts=(), qid=None,
            extra=None, kind="smtpd", mid=None):
    """MAIL/RCPT/DATA of one message in session s; returns the Msg.

    header_action: warning (header_checks WARN), hold, discard, none.
    filter_rcpts: recipients that trigger FILTER smtp-amavis (access map).
    extra: callable(msg, t) emitting lines between client= and cleanup.
    """
    host = s.host
    name, ip, helo = s.client
    if "mail" not in s.cmds:
        s.count("mail", True)
    if sasl:
        s.count("auth", True)
        s.cmds = {k: s.cmds[k] for k in
                  ["ehlo", "starttls", "auth", "mail"] if k in s.cmds}
    q = qid or w.new_qid(host, t)
    m = w.add_msg(Msg(host, q, kind, sender, t))
    m.client, m.client_ip, m.sasl, m.tls = name, ip, sasl, s.tls
    m.size = size
    for i, to in enumerate(rcpts):
        if to in filter_rcpts:
            who = "NOQUEUE" if i == 0 else q
            w.emit(t - 2000 if i == 0 else t + 1000 + i, host, s.prog, s.pid,
                   "%s: filter: RCPT from %s[%s]: <%s>: Recipient address "
                   "triggers FILTER smtp-amavis:[127.0.0.1]:10024; from=<%s> "
                   "to=<%s> proto=ESMTP helo=<%s>"
                   % (who, name, ip, to, sender, to, helo))
    text = "%s: client=%s[%s]" % (q, name, ip)
    if sasl:
        text += ", sasl_method=PLAIN, sasl_username=%s" % sasl
    if kind == "filter":
        text += ", orig_queue_id=%s, orig_client=%s" % extra
        extra = None
    w.emit(t, host, s.prog, s.pid, text)
    for to in rcpts:
        s.count("rcpt", True)
        m.rcpts.append(Rcpt(m, to))
    if kind == "filter":
        s.cmds = {"ehlo": [1, 1], "xforward": [1, 1], "mail": [1, 1],
                  "rcpt": s.cmds["rcpt"]}
    if extra:
        extra(m, t + 5000)
    cpid = w.pid(host, "postfix/cleanup", t, t + 200000, PID_CLEANUP)
    tc = t + 60000
    last = rcpts[-1]
    m.subject = subject
    ctext = "%s[%s]; from=<%s> to=<%s> proto=ESMTP helo=<%s>" % (
        name, ip, sender, last, helo)
    if header_action == "warning":
        w.emit(tc, host, "postfix/cleanup", cpid,
               "%s: warning: header Subject: %s from %s" % (q, subject, ctext))
    elif header_action == "hold":
        w.emit(tc, host, "postfix/cleanup", cpid,
               "%s: hold: header Subject: %s from %s: held by header_checks"
               % (q, subject, ctext))
    elif header_action == "discard":
        w.emit(tc, host, "postfix/cleanup", cpid,
               "%s: discard: header Subject: %s from %s: discarded by "
               "header_checks" % (q, subject, ctext))
        for r in m.rcpts:
            r.status, r.t = "discarded", tc
        return m
    m.mid = mid or mid_for(w, host, t)
    w.emit(tc + 3000, host, "postfix/cleanup", cpid,
           "%s: message-id=<%s>" % (q, m.mid))
    if header_action == "hold":
        m.held = True
        for r in m.rcpts:
            r.status, r.t = "held", tc
        return m
    activate(w, m, tc + 20000)
    return m


def mid_for(w, host, t):
    d = datetime.datetime.fromtimestamp(t // 1000000, UTC)
    return "%s.%08x@%s" % (d.strftime("%Y%m%d%H%M%S"), w.rng.getrandbits(32),
                           w.rng.choice(["mail.sender.example",
                                         "partner.example", "example.com",
                                         "example.org", "news.example"]))


def activate(w, m, t):
    m.active = t
    w.emit(t, m.host, "postfix/qmgr", QMGR[m.host],
           "%s: from=<%s>, size=%d, nrcpt=%d (queue active)"
           % (m.qid, m.sender, m.size, len([r for r in m.rcpts
                                              if r.status != "rejected"])))


def remove(w, m, t):
    m.removed = t
    w.emit(t, m.host, "postfix/qmgr", QMGR[m.host], "%s: removed" % m.qid)


def pickup(w, host, t, uid, sender, rcpts, subject, size):
    q = w.new_qid(host, t)
    m = w.add_msg(Msg(host, q, "pickup", sender, t))
    m.size, m.subject = size, subject
    w.emit(t, host, "postfix/pickup", PICKUP[host],
           "%s: uid=%d from=<%s>" % (q, uid, sender))
    cpid = w.pid(host, "postfix/cleanup", t, t + 200000, PID_CLEANUP)
    w.emit(t + 40000, host, "postfix/cleanup", cpid,
           "%s: warning: header Subject: %s from local; from=<%s> to=<%s>"
           % (q, subject, sender, rcpts[-1]))
    m.mid = mid_for(w, host, t)
    w.emit(t + 43000, host, "postfix/cleanup", cpid,
           "%s: message-id=<%s>" % (q, m.mid))
    for to in rcpts:
        m.rcpts.append(Rcpt(m, to))
    activate(w, m, t + 60000)
    return m


# ---------------------------------------------------------- delivery helpers

def delivery_text(w, m, r, t, relay, dsn, status, resp, conn=0.0,
                  conn_use=None):
    d = (t - m.arrival) / 1e6
    before = (m.active - m.arrival) / 1e6
    xmit = max(0.0, min(d - before - conn, w.rng.choice([0, 0.01, 0.02])))
    inq = max(0.0, d - before - conn - xmit)
    delays = "/".join(fmt_delay(x) for x in (before, inq, conn, xmit))
    text = "%s: to=<%s>, " % (m.qid, r.to)
    if r.orig_to:
        text += "orig_to=<%s>, " % r.orig_to
    text += "relay=%s, " % relay
    if conn_use:
        text += "conn_use=%d, " % conn_use
    text += "delay=%s, delays=%s, dsn=%s, status=%s (%s)" % (
        fmt_delay(d), delays, dsn, status, resp)
    return text


def record(r, t, status, dsn):
    if status == "deferred":
        r.attempts += 1
    r.status, r.dsn, r.t = status, dsn, t


def local(w, m, to, t, resp="delivered to mailbox"):
    r = m.rcpt(to)
    pid = w.pid(m.host, "postfix/local", t - 10000, t, PID_LOCAL)
    w.emit(t, m.host, "postfix/local", pid,
           delivery_text(w, m, r, t, "local", "2.0.0", "sent", resp))
    record(r, t, "sent", "2.0.0")


def smtp(w, m, tos, t, server, outcomes, tls=TLS13, prog="postfix/smtp",
         conn_use=None, before=None):
    """One smtp client connection delivering `tos` (same destination).

    outcomes: list, per recipient, of (status, dsn, response); a response
    "QUEUED" becomes "250 2.0.0 Ok: queued as <external id>".
    """
    name, ip, port = server
    relay = "%s[%s]:%d" % (name, ip, port)
    pid = w.pid(m.host, prog, t - 300000, t + 10000 * len(tos), PID_SMTP)
    if before:
        before(pid, t - 250000)
    if tls:
        w.emit(t - 200000, m.host, prog, pid,
               "Untrusted TLS connection established to %s: %s"
               % (relay, tls[2]))
    for i, (to, (status, dsn, resp)) in enumerate(zip(tos, outcomes)):
        r = m.rcpt(to)
        if resp == "QUEUED":
            resp = "250 2.0.0 Ok: queued as %s" % w.ext_qid()
        ti = t + i * 2000
        w.emit(ti, m.host, prog, pid,
               delivery_text(w, m, r, ti, relay, dsn, status, resp,
                             conn=0.01 if tls else 0, conn_use=conn_use))
        record(r, ti, status, dsn)
    return pid


def smtp_refused(w, m, tos, t, server):
    name, ip, port = server
    pid = w.pid(m.host, "postfix/smtp", t - 100000, t + 5000, PID_SMTP)
    why = "connect to %s[%s]:%d: Connection refused" % (name, ip, port)
    w.emit(t - 1000, m.host, "postfix/smtp", pid, why)
    for i, to in enumerate(tos):
        r = m.rcpt(to)
        ti = t + i * 1000
        w.emit(ti, m.host, "postfix/smtp", pid,
               delivery_text(w, m, r, ti, "none", "4.4.1", "deferred", why))
        record(r, ti, "deferred", "4.4.1")


def bounce_ndr(w, m, t, to_local=True):
    """bounce(8): sender non-delivery notification; the NDR is delivered."""
    q = w.new_qid(m.host, t)
    ndr = w.add_msg(Msg(m.host, q, "bounce", "", t))
    ndr.relation, ndr.parent = "bounce", m
    ndr.size = w.rng.randint(2400, 4200)
    d = datetime.datetime.fromtimestamp(t // 1000000, UTC)
    ndr.mid = "%s.%s@%s" % (d.strftime("%Y%m%d%H%M%S"), q, HOSTS[m.host][0])
    cpid = w.pid(m.host, "postfix/cleanup", t, t + 30000, PID_CLEANUP)
    w.emit(t, m.host, "postfix/cleanup", cpid, "%s: message-id=<%s>"
           % (q, ndr.mid))
    w.emit(t + 4000, m.host, "postfix/bounce", BOUNCE[m.host],
           "%s: sender non-delivery notification: %s" % (m.qid, q))
    ndr.rcpts.append(Rcpt(ndr, m.sender))
    activate(w, ndr, t + 8000)
    if to_local:
        local(w, ndr, m.sender, t + 25000)
    else:
        smtp(w, ndr, [m.sender], t + 180000, R_PARTNER,
             [("sent", "2.0.0", "QUEUED")])
    remove(w, ndr, t + 200000 if not to_local else t + 30000)
    return ndr


def expire(w, m, t):
    w.emit(t, m.host, "postfix/qmgr", QMGR[m.host],
           "%s: from=<%s>, status=expired, returned to sender"
           % (m.qid, m.sender))
    for r in m.rcpts:
        if r.status == "deferred":
            r.status, r.t = "expired", t


# ------------------------------------------------------------ sample scenarios

SUBJECTS = [
    "Quarterly report Q3", "Re: lunch on Friday?",
    "Your order #20417 has shipped",
    "Meeting notes 2026-10-30", "Fwd: slides", "Password reset requested",
    "Build failed: main #8812", "Re: invoice 4471", "Welcome aboard",
    "November newsletter", "Re: Re: contract draft v3", "Weekly digest",
    "Server maintenance window", "Photos", "Re: travel plans",
]


def subj(w):
    return w.rng.choice(SUBJECTS)


def sc_inbound_tls(w, t):
    w.scenario("inbound-tls", "Inbound SMTP with TLS, local delivery (mx1)",
               "An Internet client connects to mx1 with STARTTLS (Anonymous "
               "TLS connection established from ...), sends one message to "
               "alice@example.com, delivered by local(8). The subject "
               "contains \" from \".")
    s = open_session(w, "mx1", t, C_SENDER, TLS13)
    m = receive(w, s, t + 200000, "news@mail.sender.example",
                ["alice@example.com"], "Greetings from Lisbon, see you soon",
                4211)
    local(w, m, "alice@example.com", t + 400000)
    remove(w, m, t + 410000)
    s.close(t + 300000)
    w.fact("inbound_tls", m)


def sc_outbound_tls(w, t):
    w.scenario("outbound-tls", "Outbound smtp with TLS (mx1)",
               "web1 (in mynetworks) submits a message on port 25 without "
               "TLS; smtp(8) sends it to Google with an Untrusted TLS "
               "session; the remote answer carries Google's own id, which "
               "must not link to anything.")
    s = open_session(w, "mx1", t, C_WEB1)
    m = receive(w, s, t + 100000, "noreply@example.com",
                ["customer@gmail.example"], "Your order #20417 has shipped",
                6120)
    s.close(t + 200000)
    smtp(w, m, ["customer@gmail.example"], t + 1100000, R_GOOGLE,
         [("sent", "2.0.0", "250 2.0.0 OK  1793610005 "
           "a640c23a62f3a-7c4e2f1d9b8sor12345668b.41 - gsmtp")])
    remove(w, m, t + 1110000)


def sc_mixed(w, t):
    w.scenario("mixed", "Multi-recipient, mixed outcomes (mx1)",
               "carol@example.com (from web1) sends one message to five "
               "recipients: two local (sent), ann@partner.example (sent over "
               "TLS), full@partner.example (bounced 5.2.2, which makes a "
               "non-delivery notification to carol, delivered locally) and "
               "slow@partner.example (deferred 4.2.0 once, sent on the "
               "retry: attempts=1).")
    s = open_session(w, "mx1", t, C_WEB1)
    tos = ["alice@example.com", "bob@example.com", "ann@partner.example",
           "full@partner.example", "slow@partner.example"]
    m = receive(w, s, t + 100000, "carol@example.com", tos,
                "Re: contract draft v3", 18234)
    s.close(t + 300000)
    local(w, m, "bob@example.com", t + 350000)
    local(w, m, "alice@example.com", t + 360000)
    smtp(w, m, ["ann@partner.example", "full@partner.example",
                "slow@partner.example"], t + 900000, R_PARTNER,
         [("sent", "2.0.0", "QUEUED"),
          ("bounced", "5.2.2", "host mx.partner.example[198.51.100.25] said: "
           "552 5.2.2 <full@partner.example>: Recipient address rejected: "
           "Mailbox full (in reply to RCPT TO command)"),
          ("deferred", "4.2.0", "host mx.partner.example[198.51.100.25] said: "
           "450 4.2.0 <slow@partner.example>: Recipient address rejected: "
           "Greylisted, see http://postgrey.example/ (in reply to RCPT TO "
           "command)")])
    ndr = bounce_ndr(w, m, t + 960000)
    t2 = t + 301 * 1000000
    activate(w, m, t2)
    smtp(w, m, ["slow@partner.example"], t2 + 400000, R_PARTNER,
         [("sent", "2.0.0", "QUEUED")])
    remove(w, m, t2 + 410000)
    w.fact("mixed", m)
    w.fact("mixed_ndr", ndr)


def sc_bounce(w, t):
    w.scenario("bounce", "Bounce 5.1.1 and its delivered non-delivery "
               "notification (mx1)",
               "bob@example.com sends to nobody@partner.example; the remote "
               "server answers 550 5.1.1; bounce(8) logs \"sender "
               "non-delivery notification: NDR\"; the NDR (from=<>) is "
               "delivered to bob's mailbox. Rows: the bounced recipient on "
               "the parent, the NDR's recipient with relation bounce.")
    s = open_session(w, "mx1", t, C_WEB1)
    m = receive(w, s, t + 100000, "bob@example.com",
                ["nobody@partner.example"], "Re: invoice 4471", 3320)
    s.close(t + 200000)
    smtp(w, m, ["nobody@partner.example"], t + 700000, R_PARTNER,
         [("bounced", "5.1.1", "host mx.partner.example[198.51.100.25] said: "
           "550 5.1.1 <nobody@partner.example>: Recipient address rejected: "
           "User unknown in virtual mailbox table (in reply to RCPT TO "
           "command)")])
    ndr = bounce_ndr(w, m, t + 740000)
    remove(w, m, t + 780000)
    w.fact("bounce_parent", m)
    w.fact("bounce_ndr", ndr)


def sc_expired(w, t, retries):
    w.scenario("expired", "Deferred recipients, message expired (mx1)",
               "alice@example.com sends to two recipients at dead.example, "
               "whose MX refuses connections. Both are deferred (4.4.1) on "
               "every attempt; at the last one qmgr logs \"status=expired, "
               "returned to sender\" (mx1 runs with maximal_queue_lifetime="
               "1h) and bounce(8) returns it to alice (NDR delivered "
               "locally). Both recipients end expired with attempts = the "
               "number of deferred lines.")
    s = open_session(w, "mx1", t, C_WEB1)
    tos = ["ops@dead.example", "info@dead.example"]
    m = receive(w, s, t + 200000, "alice@example.com", tos,
                "Server maintenance window", 2890)
    s.close(t + 300000)
    for i, off in enumerate(retries):
        tt = t + int(off * 1e6)
        if i:
            activate(w, m, tt - 50000)
        smtp_refused(w, m, tos, tt, R_DEAD)
    tl = t + int(retries[-1] * 1e6)
    expire(w, m, tl + 10000)
    ndr = bounce_ndr(w, m, tl + 20000)
    remove(w, m, tl + 60000)
    w.fact("expired", m)
    w.fact("expired_ndr", ndr)


def sc_filter(w, t):
    w.scenario("filter", "Content filter hop (mx1)",
               "An inbound message for carol and dave hits the access-map "
               "FILTER action (\"NOQUEUE: filter: RCPT ... triggers FILTER "
               "smtp-amavis:[127.0.0.1]:10024\", then \"QID: filter: RCPT\" "
               "for the second recipient; these are NOT rejects). qmgr hands "
               "it to the filter: smtp to 127.0.0.1:10024 \"250 2.0.0 from "
               "MTA(...): 250 2.0.0 Ok: queued as CHILD\" (parent rows: "
               "filtered). The reinject smtpd logs \"CHILD: client=localhost"
               "[127.0.0.1], orig_queue_id=PARENT, ...\" and the child is "
               "delivered locally (child rows: sent, relation filter). An "
               "amavis line (foreign) names both ids.")
    s = open_session(w, "mx1", t, C_PARTNER, TLS12)
    tos = ["carol@example.com", "dave@example.com"]
    p = receive(w, s, t + 200000, "billing@partner.example", tos,
                "Invoice 2026-117 from ACME from your account manager", 25310,
                filter_rcpts=tos)
    s.close(t + 320000)
    tf = t + 700000
    sr = open_session(w, "mx1", tf - 50000, C_LOCALHOST,
                      prog="postfix/reinject/smtpd", pid=2301)
    c = receive(w, sr, tf, "billing@partner.example", tos, None, 25760,
                header_action="none", kind="filter", mid=p.mid,
                extra=(p.qid, "%s[%s]" % C_PARTNER[:2]))
    c.relation, c.parent, c.subject = "filter", p, None
    sr.close(tf + 40000)
    w.emit(tf + 45000, "mx1", "amavis", 3021,
           "(03021-07) Passed CLEAN {RelayedInbound}, [%s]:41522 "
           "[%s] <billing@partner.example> -> <carol@example.com>,"
           "<dave@example.com>, Queue-ID: %s, Message-ID: <%s>, mail_id: "
           "q7Yd2KfLw0Pa, Hits: -1.7, size: 25310, queued_as: %s, 312 ms"
           % (C_PARTNER[1], C_PARTNER[1], p.qid, p.mid, c.qid),
           kind="foreign")
    resp = ("250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: "
            "queued as %s" % c.qid)
    smtp(w, p, tos, tf + 50000, R_AMAVIS,
         [("sent", "2.0.0", resp), ("sent", "2.0.0", resp)], tls=None)
    for rr in p.rcpts:
        rr.status = "filtered"
    remove(w, p, tf + 60000)
    local(w, c, "carol@example.com", tf + 120000)
    local(w, c, "dave@example.com", tf + 125000)
    remove(w, c, tf + 130000)
    w.fact("filter_parent", p)
    w.fact("filter_child", c)


def sc_relay(w, t):
    w.scenario("relay", "Relay from mx1 to mx2",
               "mx1 is a backup MX for example.org: it accepts a message "
               "for frank@example.org and relays it to mx2.example.com "
               "(Untrusted TLS), which answers \"250 2.0.0 Ok: queued as "
               "MX2QID\". mx2's smtpd logs \"MX2QID: client=mx1.example.com"
               "[192.0.2.11]\" (after postscreen ALLOWLISTED) and delivers it "
               "locally. Parent row on mx1: sent; child row on mx2: sent, "
               "relation relay, parent = the mx1 id. The mx2 copy is not "
               "counted as received.")
    s = open_session(w, "mx1", t, C_NEWS)
    p = receive(w, s, t + 100000, "bounces+frank=example.org@news.example",
                ["frank@example.org"], "November newsletter", 40233)
    s.close(t + 200000)
    tr = t + 800000
    s2 = open_session(w, "mx2", tr - 150000, C_MX1, TLS13)
    c = receive(w, s2, tr - 80000, p.sender, ["frank@example.org"],
                "November newsletter", 41020, kind="relay", mid=p.mid)
    c.kind = "relay"
    c.relation, c.parent = "relay", p
    smtp(w, p, ["frank@example.org"], tr, R_MX2,
         [("sent", "2.0.0", "250 2.0.0 Ok: queued as %s" % c.qid)])
    remove(w, p, tr + 10000)
    s2.close(tr + 20000)
    local(w, c, "frank@example.org", tr + 90000)
    remove(w, c, tr + 100000)
    w.fact("relay_parent", p)
    w.fact("relay_child", c)


def sc_rejects_mx1(w, t):
    w.scenario("noqueue-mx1", "NOQUEUE rejects at RCPT (mx1)",
               "An unknown client tries to relay (554 5.7.1 Relay access "
               "denied); another session names an unknown local user (550 "
               "5.1.1 User unknown in local recipient table). Neither gets "
               "a queue id: rows with queue_id \"-\".")
    s = open_session(w, "mx1", t, C_SPAM)
    rcpt_reject(w, s, t + 300000, "promo@deals.example",
                "victim@partner.example", "554", "5.7.1",
                "<victim@partner.example>: Relay access denied")
    s.close(t + 500000)
    t2 = t + 2200000
    s = open_session(w, "mx1", t2, C_UNKNOWN)
    rcpt_reject(w, s, t2 + 200000, "someone@friendly.example",
                "nosuch@example.com", "550", "5.1.1",
                "<nosuch@example.com>: Recipient address rejected: User "
                "unknown in local recipient table")
    s.close(t2 + 400000)


def sc_pickup(w, t):
    w.scenario("pickup", "sendmail(1) submission via pickup (mx1)",
               "dave runs sendmail on mx1: pickup logs \"uid=1004 from=<...>\""
               ", header_checks logs \"from local\", smtp sends it without "
               "TLS.")
    m = pickup(w, "mx1", t, 1004, "dave@example.com",
               ["reports@partner.example"], "Build failed: main #8812", 1733)
    smtp(w, m, ["reports@partner.example"], t + 600000, R_PARTNER,
         [("sent", "2.0.0", "QUEUED")], tls=None)
    remove(w, m, t + 610000)
    w.fact("pickup", m)


def sc_sasl(w, t):
    w.scenario("sasl", "SASL-authenticated submission (mx1)",
               "alice connects to the submission port (postfix/submission/"
               "smtpd), STARTTLS, AUTH PLAIN: \"client=..., sasl_method="
               "PLAIN, sasl_username=alice\"; sent to partner.example over "
               "TLS.")
    s = open_session(w, "mx1", t, C_LAPTOP, TLS13,
                     prog="postfix/submission/smtpd", pid=2201)
    m = receive(w, s, t + 400000, "alice@example.com",
                ["ann@partner.example"], "Re: travel plans", 5012,
                sasl="alice")
    s.close(t + 500000)
    smtp(w, m, ["ann@partner.example"], t + 900000, R_PARTNER,
         [("sent", "2.0.0", "QUEUED")])
    remove(w, m, t + 910000)
    w.fact("sasl", m)


def sc_hold(w, t):
    w.scenario("hold", "header_checks HOLD that stays held (mx1)",
               "cleanup logs \"QID: hold: header Subject: ... held by "
               "header_checks\" and the message never reaches qmgr: the "
               "recipient is held at the end (no removed line).")
    s = open_session(w, "mx1", t, C_UNKNOWN)
    m = receive(w, s, t + 200000, "winner@lottery.example",
                ["bob@example.com"], "You have won from the lottery: claim "
                "now", 9811, header_action="hold")
    s.close(t + 300000)
    w.fact("held", m)


def sc_postsuper(w, t, retries, t_del):
    w.scenario("postsuper-delete", "Deferred message deleted with "
               "postsuper -d (mx1)",
               "bob writes to sales@dead.example (connection refused, "
               "deferred twice); the admin runs postsuper -d: \"postsuper"
               "[PID]: QID: removed\" + \"Deleted: 1 message\". Row: deleted "
               "(dsn 4.4.1, attempts 2). The postsuper pid is a pid an "
               "earlier smtpd had on this host.")
    s = open_session(w, "mx1", t, C_WEB1)
    m = receive(w, s, t + 100000, "bob@example.com", ["sales@dead.example"],
                "Quote request", 2202)
    s.close(t + 200000)
    for i, off in enumerate(retries):
        tt = t + int(off * 1e6)
        if i:
            activate(w, m, tt - 50000)
        smtp_refused(w, m, ["sales@dead.example"], tt, R_DEAD)
    td = t + int(t_del * 1e6)
    w.emit(td, "mx1", "postfix/postsuper", 2105, "%s: removed" % m.qid)
    w.emit(td + 200, "mx1", "postfix/postsuper", 2105, "Deleted: 1 message")
    m.removed = td
    for r in m.rcpts:
        r.status, r.t = "deleted", td
    w.fact("deleted", m)


def sc_forward(w, t):
    w.scenario("forward", "Local alias forwarding (mx1)",
               "A message to fwd@example.com, an alias for "
               "eve@partner.example: local(8) logs \"status=sent (forwarded "
               "as NEWQID)\"; the new message (same Message-ID, no client= "
               "line) is sent by smtp with orig_to=<fwd@example.com>. There "
               "is no SPEC relation for this link: the child has relation "
               "\"-\" and is neither received nor a notification.")
    s = open_session(w, "mx1", t, C_SENDER, TLS13)
    m = receive(w, s, t + 200000, "news@mail.sender.example",
                ["fwd@example.com"], "Photos", 733120)
    s.close(t + 600000)
    tl = t + 700000
    q = w.new_qid("mx1", tl - 5000)
    c = w.add_msg(Msg("mx1", q, "forward", m.sender, tl - 5000))
    c.mid, c.size = m.mid, 733400
    cpid = w.pid("mx1", "postfix/cleanup", tl - 5000, tl, PID_CLEANUP)
    w.emit(tl - 5000, "mx1", "postfix/cleanup", cpid,
           "%s: message-id=<%s>" % (q, c.mid))
    local(w, m, "fwd@example.com", tl, resp="forwarded as %s" % q)
    remove(w, m, tl + 10000)
    r = Rcpt(c, "eve@partner.example", "fwd@example.com")
    c.rcpts.append(r)
    activate(w, c, tl + 15000)
    smtp(w, c, ["eve@partner.example"], tl + 900000, R_PARTNER,
         [("sent", "2.0.0", "QUEUED")])
    remove(w, c, tl + 910000)
    w.fact("forward_parent", m)
    w.fact("forward_child", c)


def sc_reuse(w, ta, tb):
    w.scenario("qid-reuse", "Short queue id reused on mx1",
               "Message A gets a short id, is delivered and removed; later "
               "an unrelated message B gets the SAME id on the same host. "
               "They are two messages (two lifetimes): A to alice, B to "
               "dave.")
    s = open_session(w, "mx1", ta, C_PARTNER)
    a = receive(w, s, ta + 100000, "hr@partner.example",
                ["alice@example.com"], "Welcome aboard", 8100)
    s.close(ta + 200000)
    local(w, a, "alice@example.com", ta + 300000)
    remove(w, a, ta + 310000)
    s = open_session(w, "mx1", tb, C_SENDER, TLS13)
    b = receive(w, s, tb + 200000, "news@mail.sender.example",
                ["dave@example.com"], "Weekly digest", 12044, qid=a.qid)
    s.close(tb + 300000)
    local(w, b, "dave@example.com", tb + 400000)
    remove(w, b, tb + 410000)
    w.fact("reuse_a", a)
    w.fact("reuse_b", b)


def sc_greylist(w, t):
    w.scenario("deferred-twice", "Deferred twice, then sent (mx2)",
               "erin@example.org (web2, mynetworks) writes to "
               "pat@greylist.example: 450 4.2.0 greylisted twice, accepted "
               "on the third attempt. Row: sent, attempts=2.")
    s = open_session(w, "mx2", t, C_WEB2)
    m = receive(w, s, t + 100000, "erin@example.org",
                ["pat@greylist.example"], "Re: lunch from 12:00; bring "
                "snacks", 1990)
    s.close(t + 200000)
    grey = ("host mx.greylist.example[203.0.113.40] said: 450 4.2.0 "
            "<pat@greylist.example>: Recipient address rejected: Greylisted, "
            "see http://postgrey.example/ (in reply to RCPT TO command)")
    for i, off in enumerate([0.8, 305.0]):
        tt = t + int(off * 1e6)
        if i:
            activate(w, m, tt - 60000)
        smtp(w, m, ["pat@greylist.example"], tt, R_GREY,
             [("deferred", "4.2.0", grey)], tls=None)
    tt = t + 920 * 1000000
    activate(w, m, tt - 60000)
    smtp(w, m, ["pat@greylist.example"], tt, R_GREY,
         [("sent", "2.0.0", "QUEUED")], tls=None)
    remove(w, m, tt + 10000)
    w.fact("deferred_twice", m)


def sc_rejects_mx2(w, t):
    w.scenario("noqueue-mx2", "NOQUEUE rejects at RCPT (mx2)",
               "An unknown recipient (550 5.1.1) and a client without "
               "reverse DNS (450 4.7.25 Client host rejected: cannot find "
               "your hostname; a temporary reject is still a rejected row).")
    s = open_session(w, "mx2", t, C_PARTNER)
    rcpt_reject(w, s, t + 200000, "hr@partner.example",
                "olduser@example.org", "550", "5.1.1",
                "<olduser@example.org>: Recipient address rejected: User "
                "unknown in local recipient table")
    s.close(t + 300000)
    t2 = t + 14 * 1000000
    s = open_session(w, "mx2", t2, C_SPAM)
    rcpt_reject(w, s, t2 + 300000, "info@cheap.example",
                "grace@example.org", "450", "4.7.25",
                "Client host rejected: cannot find your hostname, "
                "[203.0.113.66]")
    s.close(t2 + 500000)


def sc_qid_reject(w, t):
    w.scenario("qid-reject", "Reject after a valid RCPT (mx2)",
               "A client names grace@example.org (accepted, a queue id is "
               "assigned) then typo@example.org, rejected with \"QID: "
               "reject: RCPT ... 550 5.1.1\". Rows: grace sent, typo "
               "rejected with the message's queue id.")
    s = open_session(w, "mx2", t, C_SENDER, TLS13)
    m = receive(w, s, t + 200000, "news@mail.sender.example",
                ["grace@example.org"], "Meeting notes 2026-10-30", 6400,
                extra=lambda msg, tt: rcpt_reject(
                    w, s, tt, "news@mail.sender.example", "typo@example.org",
                    "550", "5.1.1", "<typo@example.org>: Recipient address "
                    "rejected: User unknown in local recipient table",
                    qid=msg.qid, msg=msg))
    s.close(t + 300000)
    local(w, m, "grace@example.org", t + 500000)
    remove(w, m, t + 510000)
    w.fact("qid_reject", m)


def sc_postscreen(w, t):
    w.scenario("postscreen", "postscreen reject (mx2)",
               "A bot talks before the greeting (PREGREET); postscreen "
               "rejects its RCPT itself: \"NOQUEUE: reject: RCPT from "
               "[IP]:PORT: 550 5.5.1 Protocol error; from=<...>, to=<...>, "
               "proto=ESMTP, helo=<...>\" (comma-separated fields). One row, "
               "queue_id \"-\". A dnsblog line (understood, nothing to "
               "correlate) comes "
               "with it.")
    ip, port = "203.0.113.201", 50122
    w.emit(t, "mx2", "postfix/postscreen", POSTSCREEN["mx2"],
           "CONNECT from [%s]:%d to [192.0.2.12]:25" % (ip, port))
    w.emit(t + 40000, "mx2", "postfix/dnsblog", 1688,
           "addr %s listed by domain zen.spamhaus.org as 127.0.0.4" % ip)
    w.emit(t + 90000, "mx2", "postfix/postscreen", POSTSCREEN["mx2"],
           "PREGREET 22 after 0.09 from [%s]:%d: EHLO bot.example\\r\\n"
           % (ip, port))
    tr = t + 6100000
    w.emit(tr, "mx2", "postfix/postscreen", POSTSCREEN["mx2"],
           "NOQUEUE: reject: RCPT from [%s]:%d: 550 5.5.1 Protocol error; "
           "from=<bulk@bot.example>, to=<erin@example.org>, proto=ESMTP, "
           "helo=<bot.example>" % (ip, port))
    w.add_reject(Reject("mx2", "erin@example.org", "5.5.1", tr, w.cur["key"]))
    w.emit(tr + 30000, "mx2", "postfix/postscreen", POSTSCREEN["mx2"],
           "DISCONNECT [%s]:%d" % (ip, port))


def sc_discard(w, t):
    w.scenario("discard", "header_checks DISCARD (mx2)",
               "cleanup logs \"QID: discard: header Subject: ... discarded "
               "by header_checks\": no message-id, no qmgr, no removed line. "
               "Row: discarded, dsn \"-\".")
    s = open_session(w, "mx2", t, C_UNKNOWN)
    m = receive(w, s, t + 200000, "sales@cheap.example",
                ["heidi@example.org"], "CHEAP WATCHES from 9.99", 3300,
                header_action="discard")
    s.close(t + 300000)
    w.fact("discarded", m)


def sc_open(w, t, retries):
    w.scenario("open", "Deferred and still queued at the end (mx2)",
               "frank@example.org writes to ceo@dead.example; every attempt "
               "is refused; the log ends before the message expires (no "
               "removed line). Row: deferred, attempts = deferred lines.")
    s = open_session(w, "mx2", t, C_WEB2)
    m = receive(w, s, t + 100000, "frank@example.org", ["ceo@dead.example"],
                "Re: Re: contract draft v3", 4410)
    s.close(t + 200000)
    for i, off in enumerate(retries):
        tt = t + int(off * 1e6)
        if i:
            activate(w, m, tt - 50000)
        smtp_refused(w, m, ["ceo@dead.example"], tt, R_DEAD)
    w.fact("open", m)


def sc_pix(w, t):
    w.scenario("pix", "Outbound with a rare smtp line (mx2)",
               "grace@example.org writes to an old server; smtp(8) logs "
               "\"QID: enabling PIX workarounds: disable_esmtp delay_dotcrlf "
               "for ...\" (a rare Postfix line pfi understands) and "
               "then sends it.")
    s = open_session(w, "mx2", t, C_WEB2)
    m = receive(w, s, t + 100000, "grace@example.org",
                ["office@oldpix.example"], "Fwd: slides", 88211)
    s.close(t + 200000)
    smtp(w, m, ["office@oldpix.example"], t + 1300000, R_PIX,
         [("sent", "2.0.0", "250 ok 1793610899 qp 2291")], tls=None,
         before=lambda pid, tt: w.emit(
             tt, "mx2", "postfix/smtp", pid,
             "%s: enabling PIX workarounds: disable_esmtp delay_dotcrlf for "
             "mail.oldpix.example[198.51.100.30]:25" % m.qid))
    remove(w, m, t + 1310000)


def sc_filler(w, t):
    """Ordinary traffic on either host, chosen with the seeded rng.

    Sessions last 0.4-2.8 s so that concurrent ones overlap."""
    dur = int(w.rng.uniform(0.4, 2.8) * 1e6)
    host = w.rng.choice(["mx1", "mx2"])
    users = {"mx1": ["alice", "bob", "carol", "dave"],
             "mx2": ["erin", "frank", "grace", "heidi"]}[host]
    dom = {"mx1": "example.com", "mx2": "example.org"}[host]
    kind = w.rng.choice(["in", "in", "in", "out", "out"])
    if kind == "in":
        client = w.rng.choice([C_SENDER, C_PARTNER, C_NEWS])
        tls = w.rng.choice([TLS13, TLS13, TLS12, None])
        n = w.rng.choice([1, 1, 1, 2, 3])
        tos = ["%s@%s" % u for u in zip(w.rng.sample(users, n), [dom] * n)]
        s = open_session(w, host, t, client, tls)
        m = receive(w, s, t + dur - 100000, "%s@%s" % (
            w.rng.choice(["info", "news", "jane", "tom"]),
            client[0].split(".", 1)[1]), tos, subj(w),
            w.rng.randint(1200, 90000))
        s.close(t + dur)
        for i, to in enumerate(tos):
            local(w, m, to, t + dur + 100000 + i * 7000)
        remove(w, m, t + dur + 100000 + len(tos) * 7000 + 3000)
        if host == "mx1" and w.rng.random() < 0.5:
            w.emit(t + 250000, "mx1", "opendkim", 812,
                   "%s: %s [%s] not internal" % (m.qid, client[0], client[1]),
                   kind="foreign")
            w.emit(t + 260000, "mx1", "opendkim", 812,
                   "%s: DKIM verification successful" % m.qid,
                   kind="foreign")
    else:
        client = C_WEB1 if host == "mx1" else C_WEB2
        s = open_session(w, host, t, client)
        m = receive(w, s, t + dur - 100000,
                    "%s@%s" % (w.rng.choice(users), dom),
                    ["%s@partner.example" % w.rng.choice(
                        ["ann", "ben", "sales", "support"])],
                    subj(w), w.rng.randint(900, 40000))
        s.close(t + dur)
        t = t + dur - 200000
        if host == "mx1":
            w.emit(t + 150000, "mx1", "opendkim", 812,
                   "%s: DKIM-Signature field added (s=mail, d=example.com)"
                   % m.qid, kind="foreign")
        smtp(w, m, [m.rcpts[0].to], t + 700000, R_PARTNER,
             [("sent", "2.0.0", "QUEUED")],
             conn_use=w.rng.choice([None, None, 2]))
        remove(w, m, t + 710000)


def noise(w, end):
    """Postfix lines with nothing to correlate, and foreign lines."""
    for host in ("mx1", "mx2"):
        t = w.at(1800 if host == "mx1" else 1815)
        w.emit(t, host, "postfix/anvil", 1650,
               "statistics: max connection rate 2/60s for "
               "(smtp:203.0.113.5) at %s" % classic_stamp(w.at(301)))
        w.emit(t + 100, host, "postfix/anvil", 1650,
               "statistics: max connection count 1 for (smtp:203.0.113.5) "
               "at %s" % classic_stamp(w.at(301)))
        w.emit(t + 200, host, "postfix/anvil", 1650,
               "statistics: max cache size 3 at %s" % classic_stamp(w.at(611)))
    t = w.at(1205)
    w.emit(t, "mx1", "postfix/scache", 1666,
           "statistics: start interval %s" % classic_stamp(w.at(905)))
    w.emit(t + 100, "mx1", "postfix/scache", 1666,
           "statistics: domain lookup hits=2 miss=5 success=28%")
    w.emit(t + 200, "mx1", "postfix/scache", 1666,
           "statistics: address lookup hits=0 miss=5 success=0%")
    w.emit(t + 300, "mx1", "postfix/scache", 1666,
           "statistics: max simultaneous domains=1 addresses=1 connection=2")
    for off, host, text in [
            (2.4, "mx1", "imap-login: Login: user=<alice>, method=PLAIN, "
             "rip=198.51.100.140, lip=192.0.2.11, mpid=23011, TLS, "
             "session=<Xy3kq2bZTz9abcQ1>"),
            (1461.7, "mx1", "imap(alice)<23011><Xy3kq2bZTz9abcQ1>: "
             "Disconnected: Logged out in=512 out=20480 deleted=0 expunged=0 "
             "trashed=0 hdr_count=3 hdr_bytes=1411 body_count=1 "
             "body_bytes=4211"),
            (2390.2, "mx2", "imap-login: Login: user=<grace>, method=PLAIN, "
             "rip=10.0.1.6, lip=192.0.2.12, mpid=30877, TLS, "
             "session=<pQ9s0LmN8vR2uT4w>")]:
        w.emit(w.at(off), host, "dovecot", None, text, kind="foreign")
    w.emit(w.at(1020.0), "mx1", "CRON", 5123,
           "(root) CMD (   cd / && run-parts --report /etc/cron.hourly)",
           kind="foreign")
    # Lines of Postfix programs in no format pfi knows: they must be
    # counted as unparsed (per program) and kept, never dropped.
    w.emit(w.at(1500.1), "mx1", "postfix/smtpd", 2999,
           "frobnicating the widget cache: 17 entries")
    w.emit(w.at(1500.2), "mx2", "postfix/qmgr", QMGR["mx2"],
           "queue scan: transport table reloaded in 3 ms")
    w.emit(w.at(1500.3), "mx2", "postfix-new/teleport", 4242,
           "beamed 3 messages to orbit")
    w.emit(w.at(1020.3), "mx2", "CRON", 6011,
           "(root) CMD (test -x /usr/sbin/pflogsumm && /usr/local/bin/"
           "mailstats >/dev/null)", kind="foreign")
    w.scenario("ehlo-keywords", "A rare smtpd line in a normal "
               "session (mx1)",
               "smtpd logs \"discarding EHLO keywords: CHUNKING\" (a "
               "rare line pfi understands) in a session that delivers "
               "one message to carol.")
    s = open_session(w, "mx1", w.at(2601.0), C_PARTNER)
    w.emit(w.at(2601.05), "mx1", "postfix/smtpd", s.pid,
           "discarding EHLO keywords: CHUNKING")
    m = receive(w, s, w.at(2601.2), "support@partner.example",
                ["carol@example.com"], "Re: lunch on Friday?", 2044)
    s.close(w.at(2601.3))
    local(w, m, "carol@example.com", w.at(2601.5))
    remove(w, m, w.at(2601.51))
    w.cur = None


def build_sample():
    w = World("sample", SEED, epoch_us(2026, 11, 2, 9, 0, 0))
    plan = [
        (1.0, lambda t: sc_inbound_tls(w, t)),
        (4.2, lambda t: sc_reuse(w, t, w.at(2710.3))),
        (7.5, lambda t: sc_pickup(w, t)),
        (12.0, lambda t: sc_expired(w, t, [0.9, 600.4, 1801.2, 3601.6])),
        (31.0, lambda t: sc_rejects_mx1(w, t)),
        (44.0, lambda t: sc_filter(w, t)),
        (61.3, lambda t: sc_relay(w, t)),
        (78.0, lambda t: sc_mixed(w, t)),
        (95.5, lambda t: sc_bounce(w, t)),
        (122.0, lambda t: sc_greylist(w, t)),
        (150.2, lambda t: sc_rejects_mx2(w, t)),
        (180.7, lambda t: sc_qid_reject(w, t)),
        (211.0, lambda t: sc_postscreen(w, t)),
        (243.4, lambda t: sc_sasl(w, t)),
        (290.0, lambda t: sc_hold(w, t)),
        (331.9, lambda t: sc_discard(w, t)),
        (402.0, lambda t: sc_postsuper(w, t, [0.7, 900.3], 2999.0)),
        (487.0, lambda t: sc_forward(w, t)),
        (633.0, lambda t: sc_outbound_tls(w, t)),
        (1502.0, lambda t: sc_pix(w, t)),
        (3021.0, lambda t: sc_open(w, t, [0.8, 601.1, 1202.9])),
    ]
    starts = []
    for off, fn in plan:
        starts.append(w.at(off) + w.rng.randrange(1000000))
        fn(starts[-1])
    w.cur = None
    w.scenarios.append({"key": "filler", "title": "Ordinary traffic",
                        "text": "Seeded random inbound (local delivery, with "
                        "or without TLS, 1-3 recipients) and outbound (sent "
                        "over TLS, sometimes conn_use=2) messages on both "
                        "hosts, to make the log interleave.",
                        "msgs": [], "rejects": []})
    w.cur = w.scenarios[-1]
    t = 20.0
    while t < 4150:
        t += w.rng.uniform(100, 220)
        if 2690 < t < 2730:
            continue
        sc_filler(w, w.at(t))
    for st in starts[::2]:
        # bursts: two more sessions around a scenario's own session
        for _ in range(2):
            sc_filler(w, st + int(w.rng.uniform(-1.5, 1.5) * 1e6))
    w.cur = None
    noise(w, None)
    return w


# ---------------------------------------------------- rollover, long ids

def build_rollover():
    w = World("rollover", SEED + 1, epoch_us(2026, 12, 31, 23, 57, 0))
    w.scenario("rollover-local", "Local delivery before midnight",
               "Dec 31 23:57: an inbound message to alice, delivered.")
    s = open_session(w, "mx1", w.at(2.0), C_SENDER, TLS13)
    m = receive(w, s, w.at(2.2), "news@mail.sender.example",
                ["alice@example.com"], "Happy new year from Porto", 3100)
    s.close(w.at(2.3))
    local(w, m, "alice@example.com", w.at(2.5))
    remove(w, m, w.at(2.51))
    w.scenario("rollover-span", "A message spanning midnight",
               "Received Dec 31 23:59:41, deferred (greylisted), sent on "
               "the retry at Jan  1 00:00:42 (attempts=1).")
    s = open_session(w, "mx1", w.at(161.0), C_WEB1)
    m = receive(w, s, w.at(161.1), "bob@example.com", ["pat@greylist.example"],
                "Year-end figures", 2400)
    s.close(w.at(161.2))
    grey = ("host mx.greylist.example[203.0.113.40] said: 450 4.2.0 "
            "<pat@greylist.example>: Recipient address rejected: Greylisted, "
            "see http://postgrey.example/ (in reply to RCPT TO command)")
    smtp(w, m, ["pat@greylist.example"], w.at(161.9), R_GREY,
         [("deferred", "4.2.0", grey)], tls=None)
    activate(w, m, w.at(222.0))
    smtp(w, m, ["pat@greylist.example"], w.at(222.4), R_GREY,
         [("sent", "2.0.0", "QUEUED")], tls=None)
    remove(w, m, w.at(222.41))
    w.scenario("rollover-reject", "NOQUEUE reject after midnight",
               "Jan  1 00:01:30: relay access denied.")
    s = open_session(w, "mx1", w.at(269.7), C_SPAM)
    rcpt_reject(w, s, w.at(270.0), "promo@deals.example",
                "victim@partner.example", "554", "5.7.1",
                "<victim@partner.example>: Relay access denied")
    s.close(w.at(270.2))
    w.scenario("rollover-after", "Outbound after midnight",
               "Jan  1 00:02:10: dave sends to partner.example over TLS.")
    s = open_session(w, "mx1", w.at(310.0), C_WEB1)
    m = receive(w, s, w.at(310.1), "dave@example.com", ["ann@partner.example"],
                "Re: Happy new year", 1800)
    s.close(w.at(310.2))
    smtp(w, m, ["ann@partner.example"], w.at(310.9), R_PARTNER,
         [("sent", "2.0.0", "QUEUED")])
    remove(w, m, w.at(310.91))
    w.cur = None
    return w


def build_longids():
    w = World("longids", SEED + 2, epoch_us(2026, 11, 2, 14, 10, 0))
    w.scenario("short-before-reload", "Short id queued before the reload",
               "A message queued with a short id before \"postfix reload\" "
               "(enable_long_queue_ids=yes) is deferred, then sent after the "
               "reload: both id styles interleave.")
    s = open_session(w, "mx1", w.at(1.0), C_WEB1)
    old = receive(w, s, w.at(1.1), "bob@example.com", ["pat@greylist.example"],
                  "Quote request", 2100)
    s.close(w.at(1.2))
    grey = ("host mx.greylist.example[203.0.113.40] said: 450 4.2.0 "
            "<pat@greylist.example>: Recipient address rejected: Greylisted, "
            "see http://postgrey.example/ (in reply to RCPT TO command)")
    smtp(w, old, ["pat@greylist.example"], w.at(1.8), R_GREY,
         [("deferred", "4.2.0", grey)], tls=None)
    w.emit(w.at(20.0), "mx1", "postfix/master", 1001,
           "reload -- version 3.7.11, configuration /etc/postfix")
    w.long_ids = True
    w.scenario("long-local", "Long ids: inbound TLS, two local recipients",
               "Inbound TLS message to alice and bob, delivered.")
    s = open_session(w, "mx1", w.at(31.0), C_SENDER, TLS13)
    m = receive(w, s, w.at(31.2), "news@mail.sender.example",
                ["alice@example.com", "bob@example.com"],
                "Notes from the meeting", 5100)
    s.close(w.at(31.3))
    local(w, m, "alice@example.com", w.at(31.5))
    local(w, m, "bob@example.com", w.at(31.52))
    remove(w, m, w.at(31.53))
    w.scenario("long-bounce", "Long ids: bounce and NDR",
               "carol writes to nobody@partner.example: bounced 5.1.1, NDR "
               "delivered to carol.")
    s = open_session(w, "mx1", w.at(47.0), C_WEB1)
    m = receive(w, s, w.at(47.1), "carol@example.com",
                ["nobody@partner.example"], "Re: invoice 4471", 3000)
    s.close(w.at(47.2))
    smtp(w, m, ["nobody@partner.example"], w.at(47.9), R_PARTNER,
         [("bounced", "5.1.1", "host mx.partner.example[198.51.100.25] said: "
           "550 5.1.1 <nobody@partner.example>: Recipient address rejected: "
           "User unknown in virtual mailbox table (in reply to RCPT TO "
           "command)")])
    ndr = bounce_ndr(w, m, w.at(47.95))
    remove(w, m, w.at(48.0))
    w.fact("bounce_parent", m)
    w.fact("bounce_ndr", ndr)
    w.scenario("long-retry", "Short id retried after the reload",
               "The short-id message from before the reload is sent on its "
               "retry (attempts=1).")
    activate(w, old, w.at(301.5))
    smtp(w, old, ["pat@greylist.example"], w.at(301.9), R_GREY,
         [("sent", "2.0.0", "QUEUED")], tls=None)
    remove(w, old, w.at(301.91))
    w.scenario("long-sasl", "Long ids: SASL submission",
               "alice submits via postfix/submission/smtpd with SASL PLAIN; "
               "sent over TLS.")
    s = open_session(w, "mx1", w.at(330.0), C_LAPTOP, TLS13,
                     prog="postfix/submission/smtpd", pid=2201)
    m = receive(w, s, w.at(330.4), "alice@example.com",
                ["ben@partner.example"], "Slides from today", 7001,
                sasl="alice")
    s.close(w.at(330.5))
    smtp(w, m, ["ben@partner.example"], w.at(330.9), R_PARTNER,
         [("sent", "2.0.0", "QUEUED")])
    remove(w, m, w.at(330.91))
    w.fact("sasl", m)
    w.cur = None
    return w


# ------------------------------------------------------------ expected output

def rows_of(w):
    """(time, seq, row) for every recipient outcome and reject."""
    rows = []
    for m in w.msgs:
        for r in m.rcpts:
            status = r.status or "deferred"
            rows.append((r.t, [m.host, m.qid, r.to, r.orig_to or "-", status,
                               r.dsn or "-", str(r.attempts), m.relation,
                               m.parent.qid if m.parent else "-"]))
    for rj in w.rejects:
        rows.append((rj.t, [rj.host, "-", rj.to, "-", "rejected", rj.dsn, "0",
                            "-", "-"]))
    rows.sort(key=lambda x: (x[0], x[1]))
    return [r for _, r in rows]


HEADER = ["host", "queue_id", "to", "orig_to", "status", "dsn", "attempts",
          "relation_to_parent", "parent_queue_id"]


def tsv(rows, header):
    out = ["\t".join(header)]
    out += ["\t".join(r) for r in rows]
    return "\n".join(out) + "\n"


def summary(w, lines):
    rows = rows_of(w)
    kinds = [ln.kind for ln in lines]
    s = {
        "lines": len(lines),
        "postfix_lines": kinds.count("postfix") + kinds.count("unparsed"),
        "foreign_lines": kinds.count("foreign"),
        "unparsed_lines": kinds.count("unparsed"),
        "messages": len(w.msgs),
        "deliveries": len(rows),
        "rejects": sum(1 for r in rows if r[4] == "rejected"),
        "received": sum(1 for m in w.msgs if m.received),
        "notifications": sum(1 for m in w.msgs if m.kind == "bounce"),
        "noqueue_rejects": len(w.rejects),
        "first": iso(lines[0].t),
        "last": iso(lines[-1].t),
    }
    for st in ["sent", "deferred", "bounced", "expired", "rejected",
               "discarded", "held", "deleted", "filtered"]:
        s["status_" + st] = sum(1 for r in rows if r[4] == st)
    f = w.facts
    pairs = [("reused_queue_id", "reuse_a"), ("open_queue_id", "open"),
             ("filter_parent", "filter_parent"),
             ("filter_child", "filter_child"),
             ("relay_parent", "relay_parent"), ("relay_child", "relay_child"),
             ("bounce_parent", "bounce_parent"), ("bounce_ndr", "bounce_ndr"),
             ("expired_queue_id", "expired"), ("held_queue_id", "held"),
             ("deleted_queue_id", "deleted"),
             ("discarded_queue_id", "discarded"),
             ("deferred_twice_queue_id", "deferred_twice"),
             ("qid_reject_queue_id", "qid_reject"),
             ("sasl_queue_id", "sasl"), ("pickup_queue_id", "pickup"),
             ("forward_parent", "forward_parent"),
             ("forward_child", "forward_child")]
    for key, fk in pairs:
        if fk in f:
            s[key] = f[fk].qid
            s[key + "_host"] = f[fk].host
    return s


def fmt_summary(s):
    return "".join("%s=%s\n" % (k, v) for k, v in s.items())


MSG_HEADER = ["host", "queue_id", "kind", "from", "message_id", "subject",
              "client", "client_ip", "sasl_username", "tls_protocol",
              "tls_cipher", "size", "nrcpt_rows", "received", "removed",
              "relation", "parent_host", "parent_queue_id"]


def messages_tsv(w):
    rows = []
    for m in sorted(w.msgs, key=lambda m: m.arrival):
        rows.append([m.host, m.qid, m.kind, m.sender, m.mid or "-",
                     m.subject or "-", m.client or "-", m.client_ip or "-",
                     m.sasl or "-", m.tls[0] if m.tls else "-",
                     m.tls[1] if m.tls else "-", str(m.size),
                     str(len(m.rcpts)), iso(m.arrival),
                     iso(m.removed) if m.removed else "-", m.relation,
                     m.parent.host if m.parent else "-",
                     m.parent.qid if m.parent else "-"])
    return tsv(rows, MSG_HEADER)


# ----------------------------------------------------------------- crosscheck

ENV = re.compile(r"^(\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d) (\S+) "
                 r"([^\s\[:]+)(?:\[(\d+)\])?: (.*)$")
QID = r"([0-9A-F]{6,12}|[0-9A-Za-z]{13,16})"


def crosscheck(text):
    """Re-derives rows and totals from the log text alone."""
    msgs, order, rows_rej = {}, [], []
    counts = {"lines": 0, "postfix": 0, "foreign": 0}
    known = [
        r"connect from ", r"disconnect from ", r"Anonymous TLS connection",
        r"Untrusted TLS connection", r"statistics: ", r"CONNECT from ",
        r"PASS OLD ", r"ALLOWLISTED ", r"PREGREET ", r"DISCONNECT ",
        r"Deleted: \d+ message", r"reload -- ", r"connect to \S+: Connection",
        r"NOQUEUE: filter: RCPT", r"discarding EHLO keywords",
        r"addr \S+ listed by domain"]

    def cur(host, q, create=True):
        key = (host, q)
        if key in msgs and not msgs[key]["closed"]:
            return msgs[key]
        if not create:
            return None
        m = {"host": host, "qid": q, "rcpts": {}, "closed": False,
             "client": False, "pickup": False, "orig_q": None,
             "parent": None, "rel": "-", "ndr": False}
        msgs[key] = m
        order.append(m)
        return m

    queued_as = []
    for line in text.splitlines():
        counts["lines"] += 1
        mt = ENV.match(line)
        assert mt, line
        host, prog, body = mt.group(6), mt.group(7), mt.group(9)
        if not prog.startswith("postfix"):
            counts["foreign"] += 1
            continue
        counts["postfix"] += 1
        daemon = prog.split("/")[-1]
        mm = re.match(r"NOQUEUE: reject: RCPT from .*?: \d{3} (\d\.\d+\.\d+) "
                      r".*?to=<([^>]*)>", body)
        if mm:
            rows_rej.append([host, "-", mm.group(2), "-", "rejected",
                             mm.group(1), "0", "-", "-"])
            continue
        mm = re.match(QID + r": (.*)$", body)
        if not mm:
            if not any(re.match(k, body) for k in known) and \
                    not body.startswith("statistics"):
                counts.setdefault("unparsed", []).append(line)
            continue
        q, rest = mm.group(1), mm.group(2)
        if daemon == "smtpd" and rest.startswith("client="):
            m = cur(host, q)
            m["client"] = True
            o = re.search(r"orig_queue_id=(\S+?),", rest)
            if o:
                m["parent"], m["rel"] = (host, o.group(1)), "filter"
        elif daemon == "pickup":
            cur(host, q)["pickup"] = True
        elif daemon == "smtpd" and rest.startswith("filter: RCPT"):
            cur(host, q)
        elif daemon == "smtpd" and rest.startswith("reject: RCPT"):
            r = re.search(r": \d{3} (\d\.\d+\.\d+) .*to=<([^>]*)>", rest)
            cur(host, q)["rcpts"][r.group(2)] = ["-", "rejected", r.group(1),
                                                 0]
        elif daemon == "cleanup":
            m = cur(host, q)
            h = re.match(r"(hold|discard): header .* to=<([^>]*)>", rest)
            if h:
                st = "held" if h.group(1) == "hold" else "discarded"
                m["rcpts"][h.group(2)] = ["-", st, "-", 0]
                if st == "discarded":
                    m["closed"] = True
        elif daemon == "qmgr" and rest == "removed":
            m = cur(host, q, False)
            m["closed"] = True
        elif daemon == "qmgr" and "status=expired" in rest:
            for r in cur(host, q, False)["rcpts"].values():
                if r[1] == "deferred":
                    r[1] = "expired"
        elif daemon == "postsuper" and rest == "removed":
            m = cur(host, q, False)
            for r in m["rcpts"].values():
                if r[1] == "deferred":
                    r[1] = "deleted"
            m["closed"] = True
        elif daemon == "bounce":
            n = re.match(r"sender non-delivery notification: (\S+)", rest)
            ndr = cur(host, n.group(1))
            ndr["parent"], ndr["rel"], ndr["ndr"] = (host, q), "bounce", True
        elif rest.startswith("to=<"):
            d = re.match(r"to=<([^>]*)>, (?:orig_to=<([^>]*)>, )?"
                         r"relay=(\S+?), .*dsn=(\S+), status=(\w+) \((.*)\)$", rest)
            to, orig, relay, dsn, st, resp = d.groups()
            m = cur(host, q, False)
            r = m["rcpts"].setdefault(to, [orig or "-", None, None, 0])
            if st == "deferred":
                r[3] += 1
            qa = re.search(r"queued as (\S+)$", resp)
            if st == "sent" and relay.endswith(":10024"):
                st = "filtered"
            elif st == "sent" and qa:
                queued_as.append((host, q, qa.group(1)))
            r[1], r[2] = st, dsn
        elif daemon in ("qmgr",) or rest.startswith("message-id=") or \
                rest.startswith("enabling PIX workarounds"):
            cur(host, q)
        else:
            counts.setdefault("unparsed", []).append(line)
    # relay links: "queued as X" where X is a message on another host
    for host, q, x in queued_as:
        for m in order:
            if m["qid"] == x and m["host"] != host and m["client"]:
                m["parent"], m["rel"] = (host, q), "relay"
    rows = []
    for m in order:
        for to, (orig, st, dsn, att) in m["rcpts"].items():
            rows.append([m["host"], m["qid"], to, orig, st or "deferred",
                         dsn or "-", str(att), m["rel"],
                         m["parent"][1] if m["parent"] else "-"])
    rows += rows_rej
    received = sum(1 for m in order if (m["client"] or m["pickup"])
                   and m["rel"] == "-")
    return {"rows": rows, "messages": len(order), "received": received,
            "notifications": sum(1 for m in order if m["ndr"]),
            "lines": counts["lines"], "postfix_lines": counts["postfix"],
            "foreign_lines": counts["foreign"],
            "unparsed": counts.get("unparsed", [])}


def verify(w, text, s):
    c = crosscheck(text)
    mine = sorted(map(tuple, rows_of(w)))
    theirs = sorted(map(tuple, c["rows"]))
    if mine != theirs:
        for r in sorted(set(mine) ^ set(theirs)):
            print("MISMATCH", "model" if r in mine else "log", r,
                  file=sys.stderr)
        raise SystemExit("%s: model and log disagree" % w.name)
    for k in ("messages", "received", "notifications", "lines",
              "postfix_lines", "foreign_lines"):
        if c[k] != s[k]:
            raise SystemExit("%s: %s model=%s log=%s" % (w.name, k, s[k],
                                                         c[k]))
    if len(c["unparsed"]) != s["unparsed_lines"]:
        raise SystemExit("%s: unparsed %r" % (w.name, c["unparsed"]))


def check_pids(w):
    """No two sessions of one (host, program, pid) overlap in time."""
    for key, iv in w.sessions.items():
        iv = sorted(iv)
        for (a0, a1), (b0, b1) in zip(iv, iv[1:]):
            if b0 <= a1:
                raise SystemExit("overlapping smtpd sessions %r" % (key,))


def mark_unparsed(w):
    pats = ["frobnicating the widget cache", "transport table reloaded",
            "beamed 3 messages to orbit"]
    for ln in w.lines:
        if ln.kind == "postfix" and any(p in ln.text for p in pats):
            ln.kind = "unparsed"


# ------------------------------------------------------------------ rotation

def zstd_compress(data):
    if shutil.which("zstd"):
        return subprocess.run(["zstd", "-q", "-19", "-c"], input=data,
                              stdout=subprocess.PIPE, check=True).stdout
    out = bytearray(b"\x28\xb5\x2f\xfd\x00\x38")   # raw blocks, 128 KiB window
    for i in range(0, len(data), 131072):
        chunk = data[i:i + 131072]
        last = 1 if i + 131072 >= len(data) else 0
        out += (last | (len(chunk) << 3)).to_bytes(3, "little") + chunk
    return bytes(out)


def zstd_decompress(data):
    if shutil.which("zstd"):
        return subprocess.run(["zstd", "-q", "-d", "-c"], input=data,
                              stdout=subprocess.PIPE, check=True).stdout
    raise SystemExit("zstd(1) is needed to verify mail.log.3.zst")


def rotate(text, outdir, t_of_line):
    lines = text.splitlines(keepends=True)
    n = len(lines)
    cuts = [0] + [n * k // 6 + (k * 7) % 11 for k in range(1, 6)] + [n]
    pieces = ["".join(lines[a:b]).encode() for a, b in zip(cuts, cuts[1:])]
    names = ["mail.log.5.bz2", "mail.log.4.xz", "mail.log.3.zst",
             "mail.log.2.gz", "mail.log.1", "mail.log"]
    half = pieces[3].find(b"\n", len(pieces[3]) // 2) + 1
    blobs = [bz2.compress(pieces[0], 9),
             lzma.compress(pieces[1], preset=6),
             zstd_compress(pieces[2]),
             gzip.compress(pieces[3][:half], 9, mtime=0) +
             gzip.compress(pieces[3][half:], 9, mtime=0),
             pieces[4], pieces[5]]
    back = [bz2.decompress(blobs[0]), lzma.decompress(blobs[1]),
            zstd_decompress(blobs[2]), gzip.decompress(blobs[3]),
            blobs[4], blobs[5]]
    assert b"".join(back) == text.encode(), "rotated set != sample.log"
    assert blobs[3].count(b"\x1f\x8b\x08") >= 2
    out = {}
    for name, blob, (a, b) in zip(names, blobs, zip(cuts, cuts[1:])):
        out[os.path.join(outdir, name)] = (blob, t_of_line[b - 1])
    return out, cuts


# ------------------------------------------------------------ EXPECTED.md

def expected_md(worlds):
    w = worlds["sample"]
    s = summary(w, w.sorted_lines())
    out = ["# Expected answers for testdata/logs",
           "",
           "Generated by `testdata/gen-logs.py` (do not edit by hand; "
           "regenerate). The machine-readable answers are `expected.tsv`, "
           "`expected-summary.txt`, `expected-messages.tsv` (sample.log), "
           "`rollover-*` and `longids-*`. Every line has the shape of a real "
           "Postfix 3.7 line (formats copied from the real corpus); ids, "
           "hosts and times are invented. Times are UTC.",
           "",
           "## Conventions used by the expected files",
           "",
           "* One row per recipient outcome (the final one) plus one row per "
           "rejected recipient. NOQUEUE rejects (smtpd and postscreen) have "
           "queue_id `-`. Absent values are `-`.",
           "* `status` is the SPEC vocabulary: `deferred` only for a "
           "recipient still pending at the end of the log; `filtered` only "
           "for the hop into the content filter (127.0.0.1:10024); a relay "
           "hop to mx2 is `sent` on the mx1 parent, the mx2 child carries "
           "the rest.",
           "* `attempts` = number of `status=deferred` lines for that "
           "recipient (for `deferred`/`expired`/`deleted` rows this "
           "includes the last attempt).",
           "* `dsn`: the dsn of the last delivery line; `expired` and "
           "`deleted` keep the dsn of the last deferral; held/discarded "
           "recipients never had a delivery line: `-`. Rejects: the reject's "
           "DSN.",
           "* `relation_to_parent` / `parent_queue_id` describe the message "
           "the row belongs to: `filter` (parent on the same host), `relay` "
           "(parent is on mx1, child on mx2), `bounce` (the NDR's parent on "
           "the same host).",
           "* `messages` counts every (host, queue id) lifetime: the reused "
           "id counts twice; filter and relay children, NDRs and the "
           "alias-forward copy count. NOQUEUE sessions do not.",
           "* `received` counts messages that have an smtpd `client=` line "
           "or a pickup `uid=` line and are not a filter re-injection or a "
           "relay child: held, discarded, deleted, expired and still-open "
           "messages count; NDRs (`notifications`) and the local-forward "
           "copy (no client= line) do not.",
           "* `postfix_lines` counts lines whose program starts with "
           "`postfix` (including the unparsed ones); `foreign_lines` counts "
           "dovecot, opendkim, CRON and amavis lines; `lines` = both.",
           "* `NOQUEUE: filter: RCPT` / `QID: filter: RCPT` (FILTER access "
           "action) are not rejects and make no row.",
           "",
           "## sample.log totals", "", "```"]
    out += ["%s=%s" % kv for kv in s.items()]
    out += ["```", "",
            "Unparsed Postfix lines (pfi is not expected to understand them; "
            "they must be counted as `unparsed_lines`, by program):", ""]
    for ln in w.sorted_lines():
        if ln.kind == "unparsed":
            out.append("* `%s`" % ln.render())
    progs = {}
    for ln in w.lines:
        if ln.kind == "foreign":
            progs[ln.prog] = progs.get(ln.prog, 0) + 1
    out += ["", "Foreign lines: " + ", ".join(
        "%s (%d)" % kv for kv in sorted(progs.items())) +
        ". The opendkim lines name Postfix queue ids but are not Postfix "
        "lines; the amavis line names the filter parent and child.", ""]
    out += ["## Scenarios in sample.log", ""]
    rows = rows_of(w)
    for sc in w.scenarios:
        if sc["key"] == "filler":
            continue
        out += scenario_md(sc, rows)
    fill = [sc for sc in w.scenarios if sc["key"] == "filler"][0]
    out += ["### Ordinary traffic (filler)", "", fill["text"],
            "Messages: " + ", ".join("%s:%s" % (m.host, m.qid)
                                     for m in fill["msgs"]) + ".", ""]
    out += ["## Interleaving, pids, TLS", "",
            "* Both hosts log into the one file, interleaved by time; "
            "sessions on one host overlap (different smtpd pids).",
            "* smtpd pids are reused: one process serves consecutive "
            "sessions, some with STARTTLS and some without - a message "
            "received in a plain session must not inherit the TLS of an "
            "earlier session of the same pid. mx1 and mx2 use the same pid "
            "numbers (smtpd[2101], qmgr[1102] ...) at the same time: key "
            "by host and pid.",
            "* postsuper[2105] on mx1 has the pid an earlier smtpd had.",
            "* mx2's smtpd sits behind postscreen (CONNECT / PASS OLD / "
            "ALLOWLISTED lines before each smtpd connect).",
            "* Per-message TLS, client, SASL user and subject are in "
            "`expected-messages.tsv`.", ""]
    rw = worlds["rollover"]
    rl = rw.sorted_lines()
    out += ["## rollover.log", "",
            "Classic timestamps from `%s` to `%s`, "
            "host mx1. Tests set the file's mtime to a January 2027 date "
            "(e.g. 2027-01-01 12:00 UTC): lines before midnight are in "
            "2026, the rest in 2027. Answers: `rollover-expected.tsv`, "
            "`rollover-summary.txt` (first/last are the true UTC times)."
            % (classic_stamp(rl[0].t), classic_stamp(rl[-1].t)), ""]
    rrows = rows_of(rw)
    for sc in rw.scenarios:
        out += scenario_md(sc, rrows)
    out += ["## longids.log", "",
            "Host mx1, 2026-11-02 14:10 UTC. One short-id message is queued "
            "before `postfix reload` with enable_long_queue_ids=yes, the "
            "rest have long ids (e.g. `4jXVQ51ggdz8Z5d` style: 10 characters "
            "of time, `z`, inode). Answers: `longids-expected.tsv`, "
            "`longids-summary.txt`.", ""]
    lw = worlds["longids"]
    lrows = rows_of(lw)
    for sc in lw.scenarios:
        out += scenario_md(sc, lrows)
    return "\n".join(out).rstrip() + "\n"


def scenario_md(sc, rows):
    out = ["### %s" % sc["title"], "", sc["text"], ""]
    ids = [(m.host, m.qid) for m in sc["msgs"]]
    rj = sc["rejects"]
    if ids:
        out.append("Queue ids: " + ", ".join(
            "%s `%s` (%s .. %s)" % (m.host, m.qid, classic_stamp(m.arrival),
                                    classic_stamp(m.removed) if m.removed
                                    else "still queued")
            for m in sc["msgs"]) + ".")
        out.append("")
    mine = [r for r in rows if (r[0], r[1]) in ids]
    mine += [[x.host, "-", x.to, "-", "rejected", x.dsn, "0", "-", "-"]
             for x in rj]
    seen, uniq = set(), []
    for r in mine:
        if tuple(r) not in seen:
            seen.add(tuple(r))
            uniq.append(r)
    if uniq:
        out.append("| " + " | ".join(HEADER) + " |")
        out.append("|" + "---|" * len(HEADER))
        for r in uniq:
            out.append("| " + " | ".join(r) + " |")
        out.append("")
    return out


# ---------------------------------------------------------------------- main

def render_world(w, rfc=False):
    return "".join(ln.render(rfc) + "\n" for ln in w.sorted_lines())


def outputs(base):
    files = {}
    worlds = {"sample": build_sample(), "rollover": build_rollover(),
              "longids": build_longids()}
    for w in worlds.values():
        mark_unparsed(w)
        check_pids(w)
    w = worlds["sample"]
    lines = w.sorted_lines()
    text = render_world(w)
    s = summary(w, lines)
    verify(w, text, s)
    files["sample.log"] = (text.encode(), lines[-1].t)
    files["sample-rfc3339.log"] = (render_world(w, True).encode(),
                                   lines[-1].t)
    files["expected.tsv"] = (tsv(rows_of(w), HEADER).encode(), None)
    files["expected-summary.txt"] = (fmt_summary(s).encode(), None)
    files["expected-messages.tsv"] = (messages_tsv(w).encode(), None)
    rot, cuts = rotate(text, "rotated", [ln.t for ln in lines])
    files.update(rot)
    for name in ("rollover", "longids"):
        x = worlds[name]
        xl = x.sorted_lines()
        xt = render_world(x)
        xs = summary(x, xl)
        verify(x, xt, xs)
        files[name + ".log"] = (xt.encode(), xl[-1].t)
        files[name + "-expected.tsv"] = (tsv(rows_of(x), HEADER).encode(),
                                         None)
        files[name + "-summary.txt"] = (fmt_summary(xs).encode(), None)
    files["EXPECTED.md"] = (expected_md(worlds).encode(), None)
    check_cuts(w, lines, cuts)
    return files


def check_cuts(w, lines, cuts):
    """Each rotation cut falls inside at least one message's lifetime."""
    for c in cuts[1:-1]:
        tc = lines[c].t
        if not any(m.arrival < tc and (m.removed or 1 << 62) > tc
                   for m in w.msgs):
            raise SystemExit("cut at line %d splits no message" % c)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    outdir = os.path.join(here, "logs")
    files = outputs(outdir)
    if "--check" in sys.argv:
        bad = 0
        for name, (data, _) in files.items():
            p = os.path.join(outdir, name)
            if not os.path.exists(p) or open(p, "rb").read() != data:
                print("differs:", p)
                bad += 1
        sys.exit(1 if bad else 0)
    os.makedirs(os.path.join(outdir, "rotated"), exist_ok=True)
    for name, (data, t) in files.items():
        p = os.path.join(outdir, name)
        with open(p, "wb") as f:
            f.write(data)
        if t is not None:
            os.utime(p, (t // 1000000 + 1, t // 1000000 + 1))
    n = len(files)
    print("wrote %d files under %s" % (n, outdir))


if __name__ == "__main__":
    main()
