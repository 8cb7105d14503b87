#!/usr/bin/python3
"""Traffic driver for the pfi real-Postfix corpus.

Sends hand-made cases and bulk mail into the loopback Postfix, and records what was sent
and what outcome each recipient must have (derived from the configuration in setup.sh and
the behaviour of the test peers), one JSON object per submission, in $RUN/records.jsonl.

Schedule (wall clock, relative to start):
  phase 1  (short queue IDs):  hand cases, bulk (python + smtp-source), postsuper ops
  reload with enable_long_queue_ids=yes
  phase 2  (long queue IDs):   hand cases, bulk, postsuper ops
  wait for expiry of everything deferred in phases 1-2
  late cases: deferrals that must still be in the queue (deferred) when Postfix is stopped
"""
import json, os, random, re, smtplib, socket, ssl, subprocess, sys, threading, time, uuid

RUN = os.environ.get("RUN", "/tmp/pfcorpus2")
REC_PATH = f"{RUN}/records.jsonl"
LIFETIME = 180          # maximal_queue_lifetime / bounce_queue_lifetime (s)
T0 = time.time()
_lock = threading.Lock()
RNG = random.Random(20261122)
PHASE = "P1"
EVENTS = []             # postsuper / reload / late markers


def log(*a):
    print(f"[{time.time()-T0:7.1f}s]", *a, flush=True)


def record(rec):
    rec.setdefault("phase", PHASE)
    rec.setdefault("t_submit", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))
    rec.setdefault("t_rel", round(time.time() - T0, 1))
    with _lock:
        with open(REC_PATH, "a") as f:
            f.write(json.dumps(rec) + "\n")


def event(kind, **kw):
    kw.update(kind=kind, t_rel=round(time.time() - T0, 1), phase=PHASE,
              t=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))
    with _lock:
        with open(f"{RUN}/events.jsonl", "a") as f:
            f.write(json.dumps(kw) + "\n")


# ---------------------------------------------------------------------------------
# expected routing outcome for one envelope recipient that Postfix accepted
# returns list of (final_recipient, outcome, dsn_prefix, via)
# outcome: sent | bounced | expired | discarded | deferred (only for 'late' cases)
# ---------------------------------------------------------------------------------
LOCAL_USERS = {"alice", "bob", "carol"}
ALIASES = {
    "postmaster": [("alice@mx1.example.test", "sent", "2.0.0", "local")],   # postmaster -> root -> alice
    "root": [("alice@mx1.example.test", "sent", "2.0.0", "local")],
    "quarantine": [("carol@mx1.example.test", "sent", "2.0.0", "local")],
    "audit": [("alice@mx1.example.test", "sent", "2.0.0", "local")],
    "fwd": [("fwd@local.test", "sent", "2.0.0", "local:forwarded"),
            ("remote.fwd@ok.test", "sent", "2.0.0", "smtp")],
    "team": [("alice@mx1.example.test", "sent", "2.0.0", "local"),
             ("bob@mx1.example.test", "sent", "2.0.0", "local"),
             ("carol@partner.test", "sent", "2.0.0", "smtp")],
    "pipe": [("pipe@local.test", "sent", "2.0.0", "local:command")],
    "filedrop": [("filedrop@local.test", "sent", "2.0.0", "local:file")],
}
VALIAS = {
    "info": ["alice@local.test"],
    "sales": ["bob@local.test", "carol@local.test"],
    "ext": ["someone@ok.test"],
    "mixed": ["alice@local.test", "user1@partner.test", "gone@hardfail.test"],
}
DEFER_OUTCOME = "expired"   # deferral-bound recipients; 'late' cases override with 'deferred'


def route(addr, defer_outcome=None):
    defer_outcome = defer_outcome or DEFER_OUTCOME
    local, dom = addr.lower().rsplit("@", 1)
    base = local.split("+")[0]
    if dom in ("local.test", "mx1.example.test", "localhost"):
        if base in LOCAL_USERS:
            return [(addr, "sent", "2.0.0", "local")]
        if base == "dave":
            return [(addr, "bounced", "5.2.2", "local")]
        if base in ALIASES:
            return list(ALIASES[base])
        return [(addr, "bounced", "5.1.1", "local")]     # only reachable via pickup
    if dom == "valias.test":
        out = []
        for t in VALIAS.get(base, []):
            out += [(t if r[0] == t else r[0], r[1], r[2], r[3]) for r in route(t, defer_outcome)]
        return out
    if dom == "vmail.test":
        return [(addr, "sent", "2.0.0", "virtual")]
    if dom == "ok.test":
        return [(addr, "sent", "2.0.0", "smtp")]
    if dom == "partner.test":
        if base.startswith("rej"):
            return [(addr, "bounced", "5.1.1", "smtp")]
        if base.startswith("quota"):
            return [(addr, "bounced", "5.2.2", "smtp")]
        if base.startswith("tmp"):
            return [(addr, defer_outcome, "4.2.0", "smtp")]
        return [(addr, "sent", "2.0.0", "smtp")]
    if dom == "hardfail.test":
        return [(addr, "bounced", "5.1.1", "smtp")]
    if dom == "softfail.test":
        return [(addr, defer_outcome, "4.7.1", "smtp")]
    if dom == "datafail.test":
        return [(addr, "bounced", "5.7.1", "smtp")]
    if dom == "refused.test":
        return [(addr, defer_outcome, "4.4.1", "smtp")]
    if dom == "greet421.test":
        return [(addr, defer_outcome, "4.0.0", "smtp")]
    if dom == "dropconn.test":
        return [(addr, defer_outcome, "4.4.2", "relay")]
    if dom == "secure.test":
        return [(addr, "sent", "2.0.0", "securesmtp(verified TLS)")]
    if dom == "badtls.test":
        return [(addr, defer_outcome, "4.7.5", "securesmtp(TLS verify fails)")]
    if dom == "store.test":
        return [(addr, "sent", "2.2.0", "lmtp")]
    if dom == "errdom.test":
        return [(addr, "bounced", "5.1.2", "error")]
    if dom == "retrydom.test":
        return [(addr, defer_outcome, "4.3.2", "retry")]
    if dom == "discard.test":
        return [(addr, "discarded", "2.0.0", "discard")]
    return [(addr, "sent", "2.0.0", "smtp(relayhost)")]


def smtp_rcpt_expect(addr, trusted, sasl=False):
    """Expected SMTP-level answer to RCPT: None (accepted) or (code, dsn, reason)."""
    local, dom = addr.lower().rsplit("@", 1)
    base = local.split("+")[0]
    if addr.lower() == "blocked@local.test":
        return ("554", "5.7.1", "Mailbox disabled for policy reasons")
    if dom in ("local.test", "mx1.example.test", "localhost"):
        if base in LOCAL_USERS or base == "dave" or base in ALIASES or base in ("audit", "holdrcpt"):
            return None
        return ("550", "5.1.1", "User unknown in local recipient table")
    if dom == "valias.test":
        return None if base in VALIAS else ("550", "5.1.1", "User unknown in virtual alias table")
    if dom == "vmail.test":
        return None if base in ("v1", "v2") else ("550", "5.1.1", "User unknown in virtual mailbox table")
    if not trusted and not sasl:
        return ("554", "5.7.1", "Relay access denied")
    return None


# ---------------------------------------------------------------------------------
# SMTP client helpers
# ---------------------------------------------------------------------------------
def tls_ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def build_msg(sender, rcpts, subject, msgid, body=None, extra=None, size=0):
    hdr = [f"From: {sender or 'MAILER-DAEMON@external.test'}",
           f"To: {', '.join(rcpts[:3])}{' ...' if len(rcpts) > 3 else ''}",
           f"Subject: {subject}",
           f"Message-ID: {msgid}",
           f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S +0000', time.gmtime())}"]
    hdr += extra or []
    body = body or f"Test message {msgid}\r\nfor the pfi corpus.\r\n"
    if size:
        line = "x" * 76 + "\r\n"
        body += line * (size // len(line) + 1)
    return ("\r\n".join(hdr) + "\r\n\r\n" + body).encode()


def smtp_send(case, desc, sender, rcpts, subject=None, port=25, src="127.0.0.1",
              helo="client.example.test", tls=False, auth=None, smtps=False,
              expect=None, body=None, extra=None, size=0, mail_opts=(), rcpt_opts=(),
              trusted=None, note=None, quiet=False, defer_outcome=None, meta=None):
    """Send one message; record per-recipient SMTP replies and the expected outcome."""
    msgid = f"<{case}.{uuid.uuid4().hex[:12]}@driver.example.test>"
    subject = subject if subject is not None else f"{case} {desc}"
    if trusted is None:
        trusted = src == "127.0.0.1"
    rec = dict(case=case, kind="smtp", t_start=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
               desc=desc, port=port, client_ip=src, helo=helo,
               sender=sender, msgid=msgid, subject=subject, tls=tls or smtps,
               sasl_user=auth[0] if auth else None, rcpts=[], note=note)
    try:
        if smtps:
            s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname=helo, source_address=(src, 0),
                                 timeout=60, context=tls_ctx())
        else:
            s = smtplib.SMTP("127.0.0.1", port, local_hostname=helo, source_address=(src, 0), timeout=60)
        s.ehlo()
        if tls:
            s.starttls(context=tls_ctx())
            s.ehlo()
        if auth:
            s.login(*auth)
        code, msg = s.mail(sender, list(mail_opts))
        rec["mail_reply"] = f"{code} {msg.decode(errors='replace')}"
        accepted = []
        for r in rcpts:
            if code == 250:
                c2, m2 = s.rcpt(r, list(rcpt_opts))
                reply = f"{c2} {m2.decode(errors='replace')}"
            else:
                c2, reply = None, None
            ent = dict(addr=r, rcpt_reply=reply)
            if c2 == 250:
                accepted.append(r)
            rec["rcpts"].append(ent)
        if accepted:
            try:
                c3, m3 = s.data(build_msg(sender, rcpts, subject, msgid, body, extra, size))
                rec["data_reply"] = f"{c3} {m3.decode(errors='replace')}"
            except smtplib.SMTPDataError as e:
                rec["data_reply"] = f"{e.smtp_code} {e.smtp_error.decode(errors='replace')}"
            except smtplib.SMTPServerDisconnected as e:
                rec["data_reply"] = f"disconnected {e}"
            m = re.search(r"queued as (\S+)", rec.get("data_reply", ""))
            rec["qid"] = m.group(1) if m else None
        else:
            s.rset()
        try:
            s.quit()
        except Exception:
            pass
    except Exception as e:  # noqa
        rec["error"] = repr(e)
        done = {x["addr"] for x in rec["rcpts"]}
        for r in rcpts:
            if r not in done:
                rec["rcpts"].append(dict(addr=r, rcpt_reply=None))
    # expectations
    data_ok = rec.get("data_reply", "").startswith("250")
    for ent in rec["rcpts"]:
        a = ent["addr"]
        if expect and a in expect:
            ent["expect"] = expect[a]
        elif ent["rcpt_reply"] and not ent["rcpt_reply"].startswith("250"):
            ent["expect"] = [[a, "rejected", ent["rcpt_reply"].split()[1] if len(ent["rcpt_reply"].split()) > 1 else "", "smtpd"]]
        elif ent["rcpt_reply"] is None:
            mr = rec.get("mail_reply") or ""
            m = re.search(r"SMTP\w*Error\((\d+), b'(\d\.\d\.\d+)", rec.get("error", ""))
            dsn = mr.split()[1] if len(mr.split()) > 1 else (m.group(2) if m else "")
            ent["expect"] = [[a, "rejected", dsn, "smtpd(before RCPT)"]]
        elif not data_ok:
            ent["expect"] = [[a, "rejected", "", "smtpd(DATA)"]]
        else:
            ent["expect"] = [list(x) for x in route(a, defer_outcome)]
        pre = smtp_rcpt_expect(a, trusted, bool(auth))
        ent["expect_rcpt"] = "accept" if pre is None else f"{pre[0]} {pre[1]} {pre[2]}"
        add_meta(ent, meta)
    record(rec)
    if not quiet:
        log(case, desc, "qid=", rec.get("qid"), "data=", rec.get("data_reply", "")[:60], rec.get("error", ""))
    return rec


def add_meta(ent, meta):
    """Second corpus: per-recipient line class, evidence regexes ({qid} = this message's queue ID)
    and the per-attempt error the log should show."""
    if not meta:
        return
    m = meta.get(ent["addr"]) or meta.get("*")
    if m:
        ent.update({k: v for k, v in m.items()})


def pickup(case, desc, sender, rcpts, subject=None, opts=(), expect=None, body=None, defer_outcome=None,
           meta=None, total_size=0):
    msgid = f"<{case}.{uuid.uuid4().hex[:12]}@driver.example.test>"
    subject = subject if subject is not None else f"{case} {desc}"
    msg = build_msg(sender, rcpts, subject, msgid, body).replace(b"\r\n", b"\n")
    if total_size:   # pad the body with 76-byte lines so that the whole message has total_size bytes
        pad = total_size - len(msg)
        msg += b"y" * (pad % 76) + (b"x" * 75 + b"\n") * (pad // 76)
    cmd = ["/usr/sbin/sendmail", "-f", sender or "<>"] + list(opts) + ["--"] + list(rcpts)
    t_start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    p = subprocess.run(cmd, input=msg, capture_output=True)
    rec = dict(case=case, kind="pickup", t_start=t_start, desc=desc, sender=sender, msgid=msgid, subject=subject,
               cmd=" ".join(cmd), rc=p.returncode, rcpts=[])
    for a in rcpts:
        rec["rcpts"].append(dict(addr=a, expect=(expect or {}).get(a) or [list(x) for x in route(a, defer_outcome)]))
        add_meta(rec["rcpts"][-1], meta)
    rec["stderr"] = p.stderr.decode(errors="replace").strip()[-300:]
    record(rec)
    log(case, desc, "sendmail rc=", p.returncode)
    return rec


# raw SMTP sessions for protocol-level cases ---------------------------------------
def recv_reply(s, timeout=15):
    s.settimeout(timeout)
    buf = b""
    while True:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            return buf.decode(errors="replace")
        if not chunk:
            return buf.decode(errors="replace")
        buf += chunk
        lines = buf.split(b"\r\n")
        for ln in lines[:-1]:
            if len(ln) >= 4 and ln[3:4] == b" ":
                return buf.decode(errors="replace")


def raw(case, desc, port, src, steps, expect_log=None, log_regex=None, line_class=None):
    out = []
    t_start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    try:
        s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0), timeout=30)
        for st in steps:
            if st[0] == "recv":
                out.append("<" + recv_reply(s, *(st[1:] or [15])).strip())
            elif st[0] == "send":
                s.sendall(st[1])
                out.append(">" + st[1].decode(errors="replace").strip())
            elif st[0] == "sleep":
                time.sleep(st[1])
            elif st[0] == "peek":          # read whatever arrives within n seconds
                s.settimeout(st[1])
                try:
                    out.append("<" + s.recv(4096).decode(errors="replace").strip())
                except socket.timeout:
                    out.append("<(nothing)")
            elif st[0] == "close":
                break
        s.close()
    except Exception as e:  # noqa
        out.append(f"error {e!r}")
    record(dict(case=case, kind="raw", t_start=t_start, desc=desc, port=port, client_ip=src, transcript=out,
                expect_log=expect_log, log_regex=log_regex, line_class=line_class, rcpts=[]))
    log(case, desc, "|", " / ".join(o[:50] for o in out)[:200])


def sh(*cmd, check=False):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode:
        log("command failed", cmd, p.stderr)
    return p


def postsuper(op, qid, case, why):
    p = sh("postsuper", op, qid)
    event("postsuper", op=op, qid=qid, case=case, why=why, rc=p.returncode, stderr=p.stderr.strip())
    log("postsuper", op, qid, p.stderr.strip())


def queue_ids():
    p = sh("postqueue", "-j")
    out = {}
    for ln in p.stdout.splitlines():
        try:
            j = json.loads(ln)
            out[j["queue_id"]] = j
        except Exception:
            pass
    return out


# ---------------------------------------------------------------------------------
# hand-made cases
# ---------------------------------------------------------------------------------
def hand_cases(P):
    """P: 'P1' or 'P2'. Returns dict of case -> qid needed for postsuper operations."""
    q = {}
    c = lambda n: f"{P}-{n}"
    X = lambda a, o, d, v: [[a, o, d, v]]
    smtp_send(c("H01"), "local delivery, two users (X-Priority: 1 -> header_checks INFO)", "carol@local.test",
              ["alice@local.test", "bob@local.test"], extra=["X-Priority: 1 (Highest)"])
    r = smtp_send(c("H02"), "one message, mixed per-recipient outcomes", "carol@local.test",
                  ["user1@partner.test", "rej1@partner.test", "quota1@partner.test", "tmp1@partner.test",
                   "x1@hardfail.test", "y1@softfail.test", "z1@ok.test", "alice@local.test"], tls=True)
    smtp_send(c("H03"), "virtual alias expansion", "newsletter@ok.test",
              ["info@valias.test", "sales@valias.test", "ext@valias.test"])
    smtp_send(c("H04"), "local aliases: list, forward, pipe, file, postmaster", "bob@local.test",
              ["team@local.test", "fwd@local.test", "pipe@local.test", "filedrop@local.test",
               "postmaster@local.test"])
    smtp_send(c("H05"), "virtual mailbox via amavis-style content filter", "partner-news@partner.test",
              ["v1@vmail.test", "v2@vmail.test"], tls=True)
    smtp_send(c("H06"), "LMTP delivery", "alice@local.test", ["a@store.test", "b@store.test"])
    smtp_send(c("H07"), "error transport domain via SMTP (smtpd rejects 550 at RCPT)", "alice@local.test", ["x@errdom.test"])
    q["H08"] = smtp_send(c("H08"), "retry transport domain via SMTP (smtpd rejects 450 at RCPT)", "alice@local.test",
                         ["x@retrydom.test"]).get("qid")
    pickup(c("H07p"), "sendmail to error transport (bounced by postfix/error)", "alice@local.test", ["y@errdom.test"])
    q["H08p"] = pickup(c("H08p"), "sendmail to retry transport (deferred, expires)", "alice@local.test",
                       ["y@retrydom.test"])
    smtp_send(c("H09"), "discard transport", "alice@local.test", ["x@discard.test"])
    smtp_send(c("H10"), "remote rejects end of DATA (bounce)", "bob@local.test", ["x@datafail.test"])
    q["H11"] = smtp_send(c("H11"), "connection refused (deferred, expires)", "bob@local.test",
                         ["x@refused.test"]).get("qid")
    smtp_send(c("H12"), "421 at greeting (deferred, expires)", "bob@local.test", ["x@greet421.test"])
    smtp_send(c("H13"), "connection dropped after end of DATA (deferred, expires)", "bob@local.test",
              ["x@dropconn.test"])
    smtp_send(c("H14"), "null sender to local user", "", ["alice@local.test"])
    smtp_send(c("H15"), "local mailbox over size limit (bounce)", "bob@local.test", ["dave@local.test"])
    q["H16"] = smtp_send(c("H16"), "header_checks HOLD, released later with postsuper -H", "alice@local.test",
                         ["held1@ok.test"], subject=f"{P}-H16 HOLDME please",
                         expect={"held1@ok.test": X("held1@ok.test", "sent", "2.0.0", "smtp")}).get("qid")
    q["H17"] = smtp_send(c("H17"), "header_checks HOLD, stays on hold", "alice@local.test",
                         ["held2@ok.test"], subject=f"{P}-H17 HOLDME forever",
                         expect={"held2@ok.test": X("held2@ok.test", "held", "", "cleanup")}).get("qid")
    smtp_send(c("H18"), "header_checks DISCARD", "alice@local.test", ["gone@ok.test"],
              subject=f"{P}-H18 DISCARDME", expect={"gone@ok.test": X("gone@ok.test", "discarded", "", "cleanup")})
    smtp_send(c("H19"), "header_checks REJECT", "alice@local.test", ["nope@ok.test"],
              subject=f"{P}-H19 REJECTME")
    smtp_send(c("H20"), "header_checks REDIRECT to quarantine", "alice@local.test", ["orig@ok.test"],
              subject=f"{P}-H20 REDIRECTME",
              expect={"orig@ok.test": X("carol@mx1.example.test", "sent", "2.0.0", "local(redirect->quarantine->carol)")})
    smtp_send(c("H21"), "body_checks REJECT", "alice@local.test", ["nope@ok.test"],
              body="line one\r\nFORBIDDEN-BODY-TOKEN\r\n")
    smtp_send(c("H22a"), "oversized message, SIZE declared", "alice@local.test", ["big@ok.test"],
              mail_opts=["SIZE=2000000"])
    smtp_send(c("H22b"), "oversized message, no SIZE", "alice@local.test", ["big@ok.test"], size=1100000)
    smtp_send(c("H23"), "relay attempt from untrusted client", "someone@external.test",
              ["victim@partner.test"], src="127.0.0.2", helo="client2.external.test")
    smtp_send(c("H24"), "inbound from untrusted client, some recipients unknown", "friend@external.test",
              ["alice@local.test", "nosuch@local.test", "bad@valias.test", "blocked@local.test",
               "victim@partner.test"], src="127.0.0.2", helo="client2.external.test", tls=True)
    smtp_send(c("H25"), "unknown virtual mailbox", "friend@external.test", ["nouser@vmail.test"],
              src="127.0.0.2", helo="client2.external.test")
    smtp_send(c("H26"), "blocked client (reject at RCPT, delayed)", "x26@external.test", ["alice@local.test"],
              src="127.0.0.5", helo="blocked.external.test")
    smtp_send(c("H27"), "bad HELO (reject at RCPT, delayed)", "x27@external.test", ["alice@local.test"],
              src="127.0.0.3", helo="bad.helo.test")
    smtp_send(c("H28"), "blacklisted sender (reject at RCPT, delayed)", "spammer@spam.test",
              ["alice@local.test"], src="127.0.0.3", helo="mail3.external.test")
    smtp_send(c("H29"), "blocked client on :2500 (reject at CONNECT)", "x29@external.test",
              ["alice@local.test"], port=2500, src="127.0.0.5", helo="blocked.external.test")
    smtp_send(c("H30"), "bad HELO on :2500 (reject at HELO)", "x30@external.test", ["alice@local.test"],
              port=2500, src="127.0.0.3", helo="bad.helo.test",
              expect={"alice@local.test": X("alice@local.test", "rejected", "5.7.1", "smtpd(EHLO)")})
    smtp_send(c("H31"), "blacklisted sender on :2500 (reject at MAIL)", "spammer@spam.test",
              ["alice@local.test"], port=2500, src="127.0.0.3", helo="mail3.external.test")
    q["H32"] = smtp_send(c("H32"), "sender access HOLD, deleted later with postsuper -d", "holdme@external.test",
                         ["bob@local.test"], src="127.0.0.3", helo="mail3.external.test",
                         expect={"bob@local.test": X("bob@local.test", "deleted", "", "postsuper")}).get("qid")
    smtp_send(c("H33"), "sender access DISCARD", "dropme@external.test", ["bob@local.test"],
              src="127.0.0.3", helo="mail3.external.test",
              expect={"bob@local.test": X("bob@local.test", "discarded", "", "smtpd")})
    smtp_send(c("H34"), "end-of-data restriction REJECT", "eodreject@external.test", ["bob@local.test"],
              src="127.0.0.3", helo="mail3.external.test")
    smtp_send(c("H35"), "multi-recipient bounce rejected at DATA", "", ["alice@local.test", "bob@local.test"],
              src="127.0.0.3", helo="mail3.external.test")
    raw(c("H36"), "unauthorized pipelining after HELO", 25, "127.0.0.3",
        [("recv",), ("send", b"HELO pipeliner.external.test\r\n"), ("recv",),
         ("send", b"MAIL FROM:<pipe@external.test>\r\nRCPT TO:<alice@local.test>\r\nDATA\r\n"),
         ("peek", 3), ("send", b"QUIT\r\n"), ("peek", 2)],
        expect_log="reject: DATA ... Improper use of SMTP command pipelining")
    raw(c("H37"), "HTTP request to SMTP port (non-SMTP command)", 25, "127.0.0.3",
        [("recv",), ("send", b"GET / HTTP/1.0\r\nHost: mx1\r\n\r\n"), ("peek", 3)],
        expect_log="warning: non-SMTP command")
    raw(c("H38"), "client drops connection after RCPT", 25, "127.0.0.3",
        [("recv",), ("send", b"EHLO dropper.external.test\r\n"), ("recv",),
         ("send", b"MAIL FROM:<drop@external.test>\r\n"), ("recv",),
         ("send", b"RCPT TO:<alice@local.test>\r\n"), ("recv",), ("close",)],
        expect_log="lost connection after RCPT")
    th = threading.Thread(target=raw, args=(c("H39"), "idle client times out on :2500", 2500, "127.0.0.3",
                          [("recv",), ("send", b"EHLO sleepy.external.test\r\n"), ("recv",), ("sleep", 12),
                           ("peek", 2)], "timeout after EHLO"))
    th.start()
    raw(c("H40"), "too many errors on :2500", 2500, "127.0.0.3",
        [("recv",), ("send", b"EHLO noisy.external.test\r\n"), ("recv",)] +
        [x for _ in range(4) for x in (("send", b"BOGUS command\r\n"), ("recv",))] + [("peek", 2)],
        expect_log="too many errors after UNKNOWN")
    smtp_send(c("H41"), "illegal recipient address syntax", "alice@local.test",
              ["bad address@@local.test", "bob@local.test"])
    try:
        s = smtplib.SMTP("127.0.0.1", 587, local_hostname="laptop.example.test", timeout=30)
        s.starttls(context=tls_ctx()); s.ehlo()
        try:
            s.login("alice", "wrong-password")
            res = "login ok?!"
        except smtplib.SMTPAuthenticationError as e:
            res = f"{e.smtp_code} {e.smtp_error.decode()}"
        s.quit()
    except Exception as e:  # noqa
        res = repr(e)
    record(dict(case=c("H42"), kind="raw", desc="SASL authentication failure on submission", port=587,
                client_ip="127.0.0.1", transcript=[res], expect_log="SASL PLAIN authentication failed", rcpts=[]))
    log(c("H42"), res)
    smtp_send(c("H43"), "authenticated submission, content_filter re-injection", "alice@local.test",
              ["user2@partner.test", "bob@local.test"], port=587, tls=True, auth=("alice", "alicepw"),
              helo="laptop.example.test")
    smtp_send(c("H44"), "authenticated SMTPS (wrapper mode)", "bob@local.test", ["someone@ok.test"],
              port=2465, smtps=True, auth=("bob", "bobpw"), helo="phone.example.test")
    smtp_send(c("H45"), "postscreen, allowlisted client", "alice@local.test", ["bob@local.test"],
              port=2552, helo="client.example.test")
    smtp_send(c("H46"), "postscreen, new client passes greet test", "newcomer@external.test",
              ["bob@local.test"], port=2552, src="127.0.0.2", helo="client2.external.test")
    raw(c("H47"), "postscreen PREGREET (talks before greeting)", 2552, "127.0.0.3",
        [("peek", 1), ("send", b"EHLO pregreet.external.test\r\n"), ("recv", 10),
         ("send", b"MAIL FROM:<pregreet@external.test>\r\n"), ("recv",),
         ("send", b"RCPT TO:<alice@local.test>\r\n"), ("recv",), ("send", b"QUIT\r\n"), ("peek", 2)],
        expect_log="PREGREET ... ; NOQUEUE: reject: RCPT ... 550 5.5.1 Protocol error")
    raw(c("H48"), "postscreen denylisted client", 2552, "127.0.0.6",
        [("peek", 5)], expect_log="DENYLISTED")
    raw(c("H49"), "TLS handshake failure (garbage after STARTTLS)", 25, "127.0.0.3",
        [("recv",), ("send", b"EHLO tlsfail.external.test\r\n"), ("recv",), ("send", b"STARTTLS\r\n"),
         ("recv",), ("send", b"this is not a TLS ClientHello\r\n\r\n"), ("peek", 3)],
        expect_log="SSL_accept error / warning: TLS library problem")
    pickup(c("H50"), "sendmail to local user and unknown local user", "bob@local.test",
           ["alice@local.test", "nosuch@local.test"])
    pickup(c("H51"), "sendmail with DSN NOTIFY=SUCCESS", "carol@local.test", ["alice@local.test"],
           opts=["-N", "success,delay,failure"])
    for a, ok in (("alice@local.test", True), ("nosuch@local.test", False)):
        p = sh("/usr/sbin/sendmail", "-bv", "-f", "bob@local.test", a)
        record(dict(case=c("H52"), kind="verify", desc=f"sendmail -bv {a}", sender="bob@local.test",
                    rcpts=[dict(addr=a, expect=[[a, "deliverable" if ok else "undeliverable",
                                                   "2.0.0" if ok else "5.1.1", "local(probe)"]])],
                    note="address verification probe; a report is mailed to the sender"))
    log(c("H52"), "sendmail -bv x2")
    q["H53"] = smtp_send(c("H53"), "deferred message deleted with postsuper -d", "alice@local.test",
                         ["victim@refused.test"],
                         expect={"victim@refused.test": X("victim@refused.test", "deleted", "4.4.1", "postsuper")}).get("qid")
    q["H54"] = smtp_send(c("H54"), "deferred message put on hold with postsuper -h", "alice@local.test",
                         ["parked@softfail.test"],
                         expect={"parked@softfail.test": X("parked@softfail.test", "held", "4.7.1", "postsuper")}).get("qid")
    q["H55"] = smtp_send(c("H55"), "deferred message requeued with postsuper -r", "alice@local.test",
                         ["again@refused.test"]).get("qid")
    smtp_send(c("H56"), "double bounce: NDR to a sender whose domain defers", "y2@softfail.test",
              ["x2@hardfail.test"])
    smtp_send(c("H57"), "myhostname domain and address extension", "alice@local.test",
              ["bob@mx1.example.test", "alice+tag@local.test"])
    smtp_send(c("H58"), "virtual alias with mixed outcomes", "bob@local.test", ["mixed@valias.test"])
    pickup(c("H59"), "sendmail to remote and virtual alias", "alice@local.test",
           ["remote2@partner.test", "info@valias.test"])
    smtp_send(c("H60"), "verified TLS to secure.test, failed TLS verification for badtls.test", "carol@local.test",
              ["someone@secure.test", "someone@badtls.test"])
    smtp_send(c("H61"), "warn_if_reject: reject_warning logged, mail delivered", "friend@external.test",
              ["audit@local.test"], src="127.0.0.2", helo="client2.external.test")
    smtp_send(c("H62"), "recipient HOLD action on 2nd recipient (QID: hold: RCPT), stays held", "carol@local.test",
              ["alice@local.test", "holdrcpt@local.test"],
              expect={"alice@local.test": X("alice@local.test", "held", "", "smtpd"),
                      "holdrcpt@local.test": X("holdrcpt@local.test", "held", "", "smtpd")})
    th.join()
    return q


# ---------------------------------------------------------------------------------
# second corpus: milter, before-queue proxy filter, cleanup/access/policy actions,
# smtp client per-attempt errors, address verification, VRFY/ETRN, client gone in DATA
# ---------------------------------------------------------------------------------
QRX = r"(?:[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,})"
e = re.escape


def M(cls, *evidence, attempt=None):
    """meta for one recipient: line class, evidence regexes, expected per-attempt error"""
    d = dict(line_class=cls, evidence=list(evidence))
    if attempt:
        d["attempt_error"] = attempt
    return d


def remove_maildrop(marker, case):
    """pickup keeps retrying a maildrop file whose cleanup answered 'try again later': remove it."""
    removed = []
    d = "/var/spool/postfix/maildrop"
    for fn in os.listdir(d):
        try:
            with open(os.path.join(d, fn), "rb") as f:
                if marker.encode() in f.read():
                    os.unlink(os.path.join(d, fn))
                    removed.append(fn)
        except OSError:
            pass
    event("maildrop-remove", case=case, marker=marker, files=removed)
    log(case, "removed maildrop files", removed)


def new_cases(P):
    p = P.lower()
    c = lambda n: f"{P}-{n}"
    X = lambda a, o, d, v: [[a, o, d, v]]
    q = {}
    MR = "Rejected by pfi test milter at"
    MT = r"Try again later \(pfi test milter at"
    # ---------------- 1. milter on smtpd (127.0.0.1:2526) ----------------
    smtp_send(c("M00"), "milter listener, milter passes the message", "alice@local.test", [f"m00.{p}@ok.test"],
              port=2526, meta={"*": M("sent (milter CONTINUE/ACCEPT)", rf"{{qid}}: to=<{e(f'm00.{p}@ok.test')}>.*status=sent")})
    for ip, act, code in (("127.0.0.31", "reject", "550 5.7.1"), ("127.0.0.32", "tempfail", "451 4.7.1"),
                          ("127.0.0.33", "discard", None)):
        snd = f"m-conn-{act}.{p}@external.test"
        if act == "reject":
            meta = {"*": M("milter-reject CONNECT (smtpd, NOQUEUE; client sees 554 greeting)",
                           rf"NOQUEUE: milter-reject: CONNECT from unknown\[{e(ip)}\]: 550 5\.7\.1 {MR} CONNECT; proto=SMTP")}
            exp = {"bob@local.test": X("bob@local.test", "rejected", "5.7.1", "smtpd(CONNECT) milter")}
        elif act == "tempfail":
            meta = {"*": M("milter-reject CONNECT 4xx (smtpd, NOQUEUE; repeated at EHLO and MAIL)",
                           rf"NOQUEUE: milter-reject: CONNECT from unknown\[{e(ip)}\]: 451 4\.7\.1 {MT} CONNECT\); proto=SMTP",
                           rf"NOQUEUE: milter-reject: MAIL from unknown\[{e(ip)}\]: 451 4\.7\.1 {MT} CONNECT\); from=<{e(snd)}>")}
            exp = {"bob@local.test": X("bob@local.test", "rejected", "4.7.1", "smtpd(MAIL) milter")}
        else:
            meta = {"*": M("milter DISCARD at CONNECT is ignored by Postfix (warning), message delivered",
                           r"warning: milter inet:127\.0\.0\.1:8891: DISCARD action is not allowed for connect or helo",
                           r"{qid}: to=<bob@local\.test>.*status=sent")}
            exp = None
        smtp_send(c(f"M01{act[0]}"), f"milter {act} at CONNECT (client {ip})", snd, ["bob@local.test"],
                  port=2526, src=ip, helo="mconn.external.test", expect=exp, meta=meta)
    for act, code in (("reject", "550 5.7.1"), ("tempfail", "451 4.7.1"), ("discard", None)):
        helo = f"m{act}-helo.{p}.example.test"
        snd = f"m-helo-{act}.{p}@local.test"
        if code:
            rx = MR if act == "reject" else MT
            meta = {"*": M(f"milter-reject HELO{' 4xx' if act == 'tempfail' else ''} (smtpd NOQUEUE at EHLO, repeated at MAIL)",
                           rf"NOQUEUE: milter-reject: EHLO from localhost\[127\.0\.0\.1\]: {e(code)} {rx} HELO\)?; proto=SMTP helo=<{e(helo)}>",
                           rf"NOQUEUE: milter-reject: MAIL from localhost\[127\.0\.0\.1\]: {e(code)} {rx} HELO\)?; from=<{e(snd)}>")}
            exp = {"bob@local.test": X("bob@local.test", "rejected", code.split()[1], "smtpd(MAIL) milter")}
        else:
            meta = {"*": M("milter DISCARD at HELO is ignored by Postfix (warning), message delivered",
                           r"warning: milter inet:127\.0\.0\.1:8891: DISCARD action is not allowed for connect or helo",
                           r"{qid}: to=<bob@local\.test>.*status=sent")}
            exp = None
        smtp_send(c(f"M02{act[0]}"), f"milter {act} at HELO", snd, ["bob@local.test"], port=2526, helo=helo,
                  expect=exp, meta=meta)
    for act, code in (("reject", "550 5.7.1"), ("tempfail", "451 4.7.1"), ("discard", None)):
        snd = f"m{act}-mail.{p}@ok.test"
        if code:
            rx = MR if act == "reject" else MT
            meta = {"*": M(f"milter-reject MAIL{' 4xx' if act == 'tempfail' else ''} (smtpd NOQUEUE)",
                           rf"NOQUEUE: milter-reject: MAIL from localhost\[127\.0\.0\.1\]: {e(code)} {rx} MAIL\)?; from=<{e(snd)}>")}
            exp = None
        else:
            meta = {"*": M("milter-discard MAIL (smtpd NOQUEUE + cleanup QID line)",
                           rf"NOQUEUE: milter-discard: MAIL from localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; from=<{e(snd)}>",
                           rf"{{qid}}: milter-discard: MAIL from localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; from=<{e(snd)}>")}
            exp = {"bob@local.test": X("bob@local.test", "discarded", "", "smtpd milter(MAIL)")}
        smtp_send(c(f"M03{act[0]}"), f"milter {act} at MAIL FROM", snd, ["bob@local.test"], port=2526,
                  expect=exp, meta=meta)
    r1, r2 = f"mreject-rcpt.{p}@ok.test", f"mtempfail-rcpt.{p}@ok.test"
    smtp_send(c("M04"), "milter reject at RCPT (before any accepted recipient: NOQUEUE), tempfail at RCPT (after one: QID)",
              "alice@local.test", [r1, "alice@local.test", r2], port=2526,
              meta={r1: M("milter-reject RCPT (smtpd NOQUEUE)",
                          rf"NOQUEUE: milter-reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.7\.1 {MR} RCPT; from=<alice@local\.test> to=<{e(r1)}>"),
                    r2: M("milter-reject RCPT 4xx (smtpd, QID line: a recipient was already accepted)",
                          rf"{{qid}}: milter-reject: RCPT from localhost\[127\.0\.0\.1\]: 451 4\.7\.1 {MT} RCPT\); from=<alice@local\.test> to=<{e(r2)}>"),
                    "alice@local.test": M("sent", r"{qid}: to=<alice@local\.test>.*status=sent")})
    r3 = f"mdiscard-rcpt.{p}@ok.test"
    smtp_send(c("M05"), "milter discard at RCPT (whole message discarded)", "alice@local.test",
              ["bob@local.test", r3], port=2526,
              expect={"bob@local.test": X("bob@local.test", "discarded", "", "smtpd milter(RCPT)"),
                      r3: X(r3, "discarded", "", "smtpd milter(RCPT)")},
              meta={"*": M("milter-discard RCPT (smtpd, QID line)",
                           rf"{{qid}}: milter-discard: RCPT from localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; from=<alice@local\.test> to=<{e(r3)}>")})
    for act, code in (("reject", "550 5.7.1"), ("tempfail", "451 4.7.1"), ("discard", None)):
        r = f"m{act}-data.{p}@ok.test"
        if code:
            rx = MR if act == "reject" else MT
            meta = {"*": M(f"milter-reject DATA{' 4xx' if act == 'tempfail' else ''} (smtpd, QID line)",
                           rf"{QRX}: milter-reject: DATA from localhost\[127\.0\.0\.1\]: {e(code)} {rx} DATA\)?; from=<alice@local\.test> to=<{e(r)}>")}
            exp = None
        else:
            meta = {"*": M("milter-discard DATA (smtpd, QID line)",
                           rf"{{qid}}: milter-discard: DATA from localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; from=<alice@local\.test> to=<{e(r)}>")}
            exp = {r: X(r, "discarded", "", "smtpd milter(DATA)")}
        smtp_send(c(f"M06{act[0]}"), f"milter {act} at DATA", "alice@local.test", [r], port=2526, expect=exp, meta=meta)
    # header / end-of-header / body / end-of-message: evaluated by cleanup, logged as END-OF-MESSAGE
    for stage, where, label in (("HDR", "subject", "HEADER"), ("EOH", "subject", "EOH"), ("BODY", "body", "BODY"),
                                ("EOM", "subject", "END-OF-MESSAGE")):
        acts = [("reject", "5.7.1"), ("tempfail", "4.7.1"), ("discard", None)] + ([("hold", None)] if stage == "EOM" else [])
        for act, dsn in acts:
            r = f"m{act.lower()}-{stage.lower()}.{p}@ok.test"
            tok = f"M{act.upper()}-{stage}"
            subj = f"{c('M07')} {tok if where == 'subject' else 'body marker'}"
            body = f"line one\r\n{tok}\r\n" if where == "body" else None
            rx = MR if act == "reject" else MT
            if dsn:
                meta = {"*": M(f"milter-reject END-OF-MESSAGE{' 4xx' if act == 'tempfail' else ''} (cleanup, milter acted in {label} callback)",
                               rf"{QRX}: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: {e(dsn)} {rx} {label}\)?; from=<alice@local\.test> to=<{e(r)}>")}
                exp = None
            elif act == "discard":
                meta = {"*": M(f"milter-discard END-OF-MESSAGE (cleanup, milter acted in {label} callback)",
                               rf"{{qid}}: milter-discard: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; from=<alice@local\.test> to=<{e(r)}>")}
                exp = {r: X(r, "discarded", "", "cleanup milter")}
            else:
                meta = {"*": M("milter-hold END-OF-MESSAGE (cleanup; stays in the hold queue)",
                               rf"{{qid}}: milter-hold: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: milter triggers HOLD action; from=<alice@local\.test> to=<{e(r)}>")}
                exp = {r: X(r, "held", "", "cleanup milter")}
            smtp_send(c(f"M07{ {'HDR': 'H', 'EOH': 'O', 'BODY': 'B', 'EOM': 'M'}[stage]}{act[0]}"), f"milter {act} in {label} callback", "alice@local.test", [r],
                      port=2526, subject=subj, body=body, expect=exp, meta=meta)
    r = f"mreject-eom-default.{p}@ok.test"
    smtp_send(c("M08"), "milter reject at END-OF-MESSAGE without setreply (default text)", "alice@local.test", [r],
              port=2526, subject=f"{c('M08')} MREJECT-EOM-DEFAULT",
              meta={"*": M("milter-reject END-OF-MESSAGE (cleanup, default reply 'Command rejected')",
                           rf"{QRX}: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: 5\.7\.1 Command rejected; from=<alice@local\.test> to=<{e(r)}>")})
    # ---------------- 1b. non_smtpd_milters: sendmail -> pickup -> cleanup ----------------
    for act, outcome, dsn in (("reject", "bounced", "5.7.1"), ("hold", "held", ""), ("discard", "discarded", "")):
        r = f"mp-{act}-eom.{p}@ok.test"
        tok = f"M{act.upper()}-EOM"
        if act == "reject":
            meta = {"*": M("milter-reject END-OF-MESSAGE via sendmail (cleanup; then cleanup status=bounced + NDR)",
                           rf"{{qid}}: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: 5\.7\.1 {MR} END-OF-MESSAGE; from=<alice@local\.test> to=<{e(r)}>$",
                           rf"postfix/cleanup\[\d+\]: {{qid}}: to=<{e(r)}>, relay=none, .*dsn=5\.7\.1, status=bounced \({MR} END-OF-MESSAGE\)")}
        elif act == "hold":
            meta = {"*": M("milter-hold END-OF-MESSAGE via sendmail (cleanup)",
                           rf"{{qid}}: milter-hold: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: milter triggers HOLD action; from=<alice@local\.test> to=<{e(r)}>$")}
        else:
            meta = {"*": M("milter-discard END-OF-MESSAGE via sendmail (cleanup)",
                           rf"{{qid}}: milter-discard: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: milter triggers DISCARD action; from=<alice@local\.test> to=<{e(r)}>$")}
        pickup(c(f"M10{act[0]}"), f"sendmail, milter {act} at END-OF-MESSAGE", "alice@local.test", [r],
               subject=f"{c('M10')} {tok}", expect={r: X(r, outcome, dsn, "cleanup milter (non_smtpd_milters)")}, meta=meta)
    snd = f"mreject-mail.{p}@ok.test"
    r = f"mp-mail.{p}@ok.test"
    pickup(c("M11"), "sendmail, milter reject at MAIL FROM (cleanup emulates MAIL)", snd, [r],
           expect={r: X(r, "bounced", "5.7.1", "cleanup milter (non_smtpd_milters)")},
           meta={"*": M("milter-reject MAIL via sendmail (cleanup, QID line; then status=bounced + NDR to the sender)",
                        rf"{{qid}}: milter-reject: MAIL from localhost\[127\.0\.0\.1\]: 5\.7\.1 {MR} MAIL; from=<{e(snd)}>$",
                        rf"postfix/cleanup\[\d+\]: {{qid}}: to=<{e(r)}>, relay=none, .*status=bounced")})
    r = f"mp-hdr.{p}@ok.test"
    pickup(c("M12"), "sendmail, milter reject in header callback", "alice@local.test", [r],
           subject=f"{c('M12')} MREJECT-HDR", expect={r: X(r, "bounced", "5.7.1", "cleanup milter (non_smtpd_milters)")},
           meta={"*": M("milter-reject END-OF-MESSAGE via sendmail (cleanup, header callback)",
                        rf"{{qid}}: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: 5\.7\.1 {MR} HEADER; from=<alice@local\.test> to=<{e(r)}>$")})
    if P in ("P1", "T"):
        # pickup cannot reject a single recipient, nor tempfail: cleanup answers "try again later" and
        # pickup retries the maildrop file (new queue ID each time) until the operator removes it
        r = f"mreject-rcpt.{p}@ok.test"
        pickup(c("M13"), "sendmail, milter rejects a RCPT: milter configuration error, pickup retries; maildrop file removed",
               "alice@local.test", [r, "bob@local.test"], subject=f"{c('M13')} pickup-rcpt-loop",
               expect={r: X(r, "deleted", "", "cleanup milter, never queued"),
                       "bob@local.test": X("bob@local.test", "deleted", "", "cleanup milter, never queued")},
               meta={"*": M("milter-reject RCPT via sendmail + warning: milter configuration error (retried by pickup)",
                            rf"{QRX}: milter-reject: RCPT from localhost\[127\.0\.0\.1\]: 5\.7\.1 {MR} RCPT; from=<alice@local\.test> to=<{e(r)}>",
                            rf"warning: {QRX}: milter configuration error: can't reject recipient in non-smtpd\(8\) submission",
                            rf"warning: {QRX}: message not accepted, try again later")})
        r = f"mp-tempfail-eom.{p}@ok.test"
        pickup(c("M14"), "sendmail, milter tempfail at END-OF-MESSAGE: pickup retries; maildrop file removed",
               "alice@local.test", [r], subject=f"{c('M14')} MTEMPFAIL-EOM",
               expect={r: X(r, "deleted", "", "cleanup milter, never queued")},
               meta={"*": M("milter-reject END-OF-MESSAGE 4xx via sendmail (retried by pickup, new QID each time)",
                            rf"{QRX}: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: 4\.7\.1 {MT} END-OF-MESSAGE\); from=<alice@local\.test> to=<{e(r)}>")})
        threading.Thread(target=maildrop_cleanup, args=([f"{c('M13')} pickup-rcpt-loop", f"{c('M14')} MTEMPFAIL-EOM"],
                                                        f"{P}-M13/M14", 3)).start()
    # ---------------- 2. before-queue proxy filter (127.0.0.1:2527) ----------------
    r = f"x01.{p}@ok.test"
    smtp_send(c("X01"), "before-queue filter accepts (proxy-accept, queued by the re-injection smtpd)", "alice@local.test",
              [r], port=2527, meta={"*": M("proxy-accept END-OF-MESSAGE (smtpd NOQUEUE) -> reinject QID sent",
                                          rf"proxy-accept: END-OF-MESSAGE: 250 2\.0\.0 Ok: queued as {{qid}}; from=<alice@local\.test> to=<{e(r)}>",
                                          rf"{{qid}}: to=<{e(r)}>.*status=sent")})
    r = f"x02.{p}@ok.test"
    smtp_send(c("X02"), "before-queue filter rejects at end of data, with text", "alice@local.test", [r], port=2527,
              subject=f"{c('X02')} PROXYREJECT-TEXT",
              meta={"*": M("proxy-reject END-OF-MESSAGE (smtpd, 5xx with text)",
                           rf"proxy-reject: END-OF-MESSAGE: 550 5\.7\.1 Message content rejected by before-queue filter \(spam score 12\.5\); from=<alice@local\.test> to=<{e(r)}>")})
    r = f"x03.{p}@ok.test"
    smtp_send(c("X03"), "before-queue filter rejects at end of data, bare '550' without text", "alice@local.test", [r],
              port=2527, subject=f"{c('X03')} PROXYREJECT-NOTEXT",
              expect={r: X(r, "rejected", "", "smtpd proxy (no DSN, no text)")},
              meta={"*": M("proxy-reject END-OF-MESSAGE (smtpd, bare code, no text)",
                           rf"proxy-reject: END-OF-MESSAGE: 550; from=<alice@local\.test> to=<{e(r)}>")})
    r, rr = f"x04.{p}@ok.test", f"proxyrej-rcpt.{p}@ok.test"
    smtp_send(c("X04"), "before-queue filter rejects a RCPT, then tempfails at end of data", "alice@local.test", [r, rr],
              port=2527, subject=f"{c('X04')} PROXYTEMPFAIL",
              meta={r: M("proxy-reject END-OF-MESSAGE 4xx (smtpd)",
                         rf"proxy-reject: END-OF-MESSAGE: 451 4\.3\.0 Before-queue filter temporarily unavailable; from=<alice@local\.test> to=<{e(r)}>"),
                    rr: M("RCPT rejected by the proxy: only 'warning: proxy ... rejected \"rcpt TO:<...>\"' (no NOQUEUE line)",
                          rf'warning: proxy 127\.0\.0\.1:10030 rejected "rcpt TO:<{e(rr)}>": "550 5\.1\.1 <{e(rr)}>: Recipient rejected by before-queue filter"')})
    # ---------------- 3. size limit, header/body checks, access HOLD/DISCARD, policy ----------------
    r = f"c01.{p}@ok.test"
    smtp_send(c("C01"), "body_checks HOLD", "alice@local.test", [r], body="line one\r\nHOLD-BODY-TOKEN\r\n",
              expect={r: X(r, "held", "", "cleanup body_checks")},
              meta={"*": M("cleanup hold: body", rf"{{qid}}: hold: body HOLD-BODY-TOKEN from localhost\[127\.0\.0\.1\]; from=<alice@local\.test> to=<{e(r)}>")})
    r = f"c02.{p}@ok.test"
    smtp_send(c("C02"), "body_checks DISCARD", "alice@local.test", [r], body="line one\r\nDISCARD-BODY-TOKEN\r\n",
              expect={r: X(r, "discarded", "", "cleanup body_checks")},
              meta={"*": M("cleanup discard: body", rf"{{qid}}: discard: body DISCARD-BODY-TOKEN from localhost\[127\.0\.0\.1\]; from=<alice@local\.test> to=<{e(r)}>")})
    smtp_send(c("C03"), "recipient access DISCARD", f"c03.{p}@external.test", ["discardrcpt@local.test"],
              src="127.0.0.2", helo="client2.external.test",
              expect={"discardrcpt@local.test": X("discardrcpt@local.test", "discarded", "", "smtpd access")},
              meta={"*": M("smtpd NOQUEUE: discard: RCPT (access map)",
                           rf"NOQUEUE: discard: RCPT from client2\.external\.test\[127\.0\.0\.2\]: <discardrcpt@local\.test>: Recipient address discarded by recipient policy; from=<{e(f'c03.{p}@external.test')}>")})
    r1, r2 = f"policy-reject.{p}@ok.test", f"policy-hold.{p}@ok.test"
    smtp_send(c("C04"), "policy service REJECT for one recipient, HOLD for the other", "alice@local.test", [r1, r2],
              expect={r2: X(r2, "held", "", "smtpd policy HOLD")},
              meta={r1: M("policy REJECT -> smtpd NOQUEUE: reject: RCPT",
                          rf"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 554 5\.7\.1 <{e(r1)}>: Recipient address rejected: Blocked by pfi policy service; from=<alice@local\.test> to=<{e(r1)}>"),
                    r2: M("policy HOLD -> smtpd NOQUEUE: hold: RCPT",
                          rf"NOQUEUE: hold: RCPT from localhost\[127\.0\.0\.1\]: <{e(r2)}>: Recipient address held by pfi policy service; from=<alice@local\.test> to=<{e(r2)}>")})
    r1, r2 = f"policy-defer.{p}@ok.test", f"policy-warn.{p}@ok.test"
    smtp_send(c("C05"), "policy service 450 (defer) for one recipient, WARN for the other", "alice@local.test", [r1, r2],
              meta={r1: M("policy 450 -> smtpd NOQUEUE: reject: RCPT 4xx",
                          rf"NOQUEUE: reject: RCPT from localhost\[127\.0\.0\.1\]: 450 4\.7\.1 <{e(r1)}>: Recipient address rejected: Greylisted by pfi policy service"),
                    r2: M("policy WARN -> smtpd NOQUEUE: warn: RCPT, then sent",
                          rf"NOQUEUE: warn: RCPT from localhost\[127\.0\.0\.1\]: pfi policy service warning; from=<alice@local\.test> to=<{e(r2)}>",
                          rf"{{qid}}: to=<{e(r2)}>.*status=sent")})
    r1 = f"policy-discard.{p}@ok.test"
    smtp_send(c("C06"), "policy service DISCARD on the 2nd recipient (QID: discard: RCPT)", "alice@local.test",
              ["bob@local.test", r1],
              expect={"bob@local.test": X("bob@local.test", "discarded", "", "smtpd policy DISCARD"),
                      r1: X(r1, "discarded", "", "smtpd policy DISCARD")},
              meta={"*": M("policy DISCARD -> smtpd QID: discard: RCPT",
                           rf"{{qid}}: discard: RCPT from localhost\[127\.0\.0\.1\]: <{e(r1)}>: Recipient address discarded by pfi policy service")})
    for tag, subj, act, outcome, dsn, rx in (
            ("C07", "REJECTME", "reject", "bounced", "5.7.1", r"reject: header Subject: .* from local; from=<alice@local\.test> to=<{r}>: 5\.7\.1 Subject rejected by header_checks"),
            ("C08", "HOLDME", "hold", "held", "", r"hold: header Subject: .* from local; from=<alice@local\.test> to=<{r}>: held by header_checks"),
            ("C09", "DISCARDME", "discard", "discarded", "", r"discard: header Subject: .* from local; from=<alice@local\.test> to=<{r}>: discarded by header_checks")):
        r = f"{tag.lower()}.{p}@ok.test"
        ev = ["{qid}: " + rx.replace("{r}", e(r))]
        if act == "reject":
            ev.append(rf"postfix/cleanup\[\d+\]: {{qid}}: to=<{e(r)}>, relay=none, .*dsn=5\.7\.1, status=bounced \(Subject rejected by header_checks\)")
        pickup(c(tag), f"sendmail, header_checks {act.upper()} (cleanup side)", "alice@local.test", [r],
               subject=f"{c(tag)} {subj}", expect={r: X(r, outcome, dsn, "cleanup header_checks (pickup)")},
               meta={"*": M(f"cleanup {act}: header (pickup mail{'; then status=bounced + NDR' if act == 'reject' else ''})", *ev)})
    r = f"c10.{p}@ok.test"
    pickup(c("C10"), "sendmail, message just over message_size_limit after cleanup adds headers", "alice@local.test", [r],
           total_size=986650, expect={r: X(r, "bounced", "5.3.4", "cleanup size limit (pickup)")},
           meta={"*": M("cleanup warning: queue file size limit exceeded (logged with milter-reject 5.3.4; then status=bounced + NDR)",
                        r"warning: {qid}: queue file size limit exceeded",
                        rf"{{qid}}: milter-reject: END-OF-MESSAGE from localhost\[127\.0\.0\.1\]: 5\.3\.4 Message file too big; from=<alice@local\.test> to=<{e(r)}>",
                        rf"postfix/cleanup\[\d+\]: {{qid}}: to=<{e(r)}>, relay=none, .*dsn=5\.3\.4, status=bounced \(Message file too big\)")})
    r = f"c11.{p}@ok.test"
    pickup(c("C11"), "sendmail, message far over message_size_limit (refused by sendmail/postdrop)", "alice@local.test", [r],
           total_size=1100000, expect={r: X(r, "rejected", "", "sendmail/postdrop (never queued)")},
           meta={"*": M("postdrop warning: File too large + sendmail fatal: message file too big (no queue ID)",
                        r"postfix/postdrop\[\d+\]: warning: uid=0: File too large",
                        r"postfix/sendmail\[\d+\]: fatal: alice@local\.test\(0\): message file too big")})
    # ---------------- 4. smtp client per-attempt errors ----------------
    for tag, dom, outcome, dsn, attempt, cls in (
            ("S01", "notls.test", "expired", "4.7.4", r"TLS is required, but was not offered by host mx\.notls\.test\[127\.0\.0\.20\]", "smtp deferred: TLS required but not offered (policy encrypt)"),
            ("S02", "tlsfail.test", "expired", "4.7.5", r"Cannot start TLS: handshake failure", "smtp SSL_connect error + deferred: Cannot start TLS (policy encrypt)"),
            ("S03", "tlsmay.test", "sent", "2.0.0", r"Cannot start TLS: handshake failure", "smtp TLS handshake failure at level may: deferred once, then sent in plaintext"),
            ("S04", "greet554.test", "expired", "4.7.1", r"host mx\.greet554\.test\[127\.0\.0\.24\] refused to talk to me: 554 5\.7\.1 mx\.greet554\.test ESMTP service not available to you", "smtp deferred: refused to talk to me (554 greeting)"),
            ("S05", "dropehlo.test", "expired", "4.4.2", r"lost connection with mx\.dropehlo\.test\[127\.0\.0\.21\] while performing the EHLO handshake", "smtp deferred: lost connection while performing the EHLO handshake"),
            ("S06", "dropdata.test", "expired", "4.4.2", r"lost connection with mx\.dropdata\.test\[127\.0\.0\.22\] while sending DATA command", "smtp deferred: lost connection while sending DATA command"),
            ("S07", "slowehlo.test", "expired", "4.4.2", r"conversation with mx\.slowehlo\.test\[127\.0\.0\.23\] timed out while performing the EHLO handshake", "smtp deferred: timed out while performing the EHLO handshake"),
            ("S08", "silent.test", "expired", "4.4.2", r"conversation with mx\.silent\.test\[127\.0\.0\.27\] timed out while receiving the initial server greeting", "smtp deferred: timed out while receiving the initial server greeting"),
            ("S09", "slowdata.test", "expired", "4.4.2", r"conversation with mx\.slowdata\.test\[127\.0\.0\.28\] timed out while sending end of data -- message may be sent more than once", "smtp deferred: timed out while sending end of data"),
            ("S10", "authfail.test", "expired", "4.7.8", r"SASL authentication failed; server mx\.authfail\.test\[127\.0\.0\.26\] said: 535 5\.7\.8 Error: authentication failed: authentication failure", "smtp deferred: SASL authentication failed (535)")):
        r = f"{tag.lower()}.{p}@{dom}"
        ev = [rf"{{qid}}: to=<{e(r)}>, relay=[^,]+, .*status=deferred \({attempt}"]
        if tag in ("S02", "S03"):
            ev.append(rf"SSL_connect error to mx\.{e(dom)}\[127\.0\.0\.\d+\]:25: lost connection")
        if tag == "S03":
            ev.append(rf"{{qid}}: to=<{e(r)}>, relay=mx\.tlsmay\.test\[127\.0\.0\.29\]:25, .*status=sent \(250 2\.0\.0 Ok: queued as PEER")
        else:
            ev.append(r"{qid}: from=<alice@local\.test>, status=expired, returned to sender")
        smtp_send(c(tag), cls, "alice@local.test", [r], expect={r: X(r, outcome, dsn, "smtp")},
                  meta={"*": M(cls, *ev, attempt=attempt)})
    # ---------------- 5. address verification, VRFY / ETRN, client gone during DATA ----------------
    ok, bad = f"v01ok.{p}@verify.test", f"rej-v01.{p}@verify.test"
    smtp_send(c("V01"), "reject_unverified_recipient: one verifiable, one not (verify(8) probes)", "alice@local.test",
              [ok, bad], expect={ok: X(ok, "sent", "2.0.0", "smtp (after a deliverable probe)")},
              meta={ok: M("verify probe status=deliverable, then the message is sent",
                          rf"{QRX}: to=<{e(ok)}>, relay=mx\.partner\.test\[127\.0\.0\.10\]:25, .*status=deliverable \(250 2\.1\.5 Ok\)",
                          rf"{{qid}}: to=<{e(ok)}>.*status=sent"),
                    bad: M("verify probe status=undeliverable, smtpd reject: RCPT (unverified_recipient_reject_code 550)",
                           rf"{QRX}: to=<{e(bad)}>, relay=mx\.partner\.test\[127\.0\.0\.10\]:25, .*status=undeliverable \(host mx\.partner\.test",
                           rf"reject: RCPT from localhost\[127\.0\.0\.1\]: 550 5\.1\.1 <{e(bad)}>: Recipient address rejected: undeliverable address: host mx\.partner\.test")})
    raw(c("R01"), "VRFY (disabled) and ETRN (etrn restrictions) from an untrusted client on :25", 25, "127.0.0.3",
        [("recv",), ("send", b"VRFY alice\r\n"), ("recv",), ("send", b"ETRN ok.test\r\n"), ("recv",),
         ("send", f"EHLO vrfy-{p}.external.test\r\n".encode()), ("recv",), ("send", b"VRFY alice@local.test\r\n"), ("recv",),
         ("send", b"ETRN ok.test\r\n"), ("recv",), ("send", b"QUIT\r\n"), ("peek", 2)],
        expect_log="NOQUEUE: reject: ETRN ... Etrn command rejected; VRFY disabled (502) shows only as vrfy=0/2",
        log_regex=rf"NOQUEUE: reject: ETRN from unknown\[127\.0\.0\.3\]: 554 5\.7\.1 <ok\.test>: Etrn command rejected: Access denied; proto=ESMTP helo=<vrfy-{p}\.external\.test>",
        line_class="smtpd NOQUEUE: reject: ETRN")
    raw(c("R02"), "VRFY allowed on :2500: unknown user rejected, known user 252", 2500, "127.0.0.3",
        [("recv",), ("send", f"EHLO vrfy2-{p}.external.test\r\n".encode()), ("recv",),
         ("send", f"VRFY nosuch-{p}@local.test\r\n".encode()), ("recv",),
         ("send", b"VRFY alice@local.test\r\n"), ("recv",), ("send", b"QUIT\r\n"), ("peek", 2)],
        expect_log="NOQUEUE: reject: VRFY ... User unknown in local recipient table",
        log_regex=rf"NOQUEUE: reject: VRFY from unknown\[127\.0\.0\.3\]: 550 5\.1\.1 <nosuch-{p}@local\.test>: Recipient address rejected: User unknown in local recipient table; to=<nosuch-{p}@local\.test>",
        line_class="smtpd NOQUEUE: reject: VRFY")
    raw(c("R03"), "ETRN from a trusted client for a domain without fast flush", 25, "127.0.0.1",
        [("recv",), ("send", f"EHLO etrn-{p}.example.test\r\n".encode()), ("recv",),
         ("send", f"ETRN etrn-{p}.example.test\r\n".encode()), ("recv",), ("send", b"QUIT\r\n"), ("peek", 2)],
        expect_log="warning: reject: ETRN DOMAIN... from localhost[127.0.0.1] (459 service unavailable)",
        log_regex=rf"warning: reject: ETRN etrn-{p}\.example\.test\.\.\. from localhost\[127\.0\.0\.1\]",
        line_class="smtpd warning: reject: ETRN")
    raw(c("R04"), "client disconnects in the middle of DATA", 25, "127.0.0.3",
        [("recv",), ("send", f"EHLO gone-{p}.external.test\r\n".encode()), ("recv",),
         ("send", f"MAIL FROM:<gone.{p}@external.test>\r\n".encode()), ("recv",),
         ("send", b"RCPT TO:<alice@local.test>\r\n"), ("recv",), ("send", b"DATA\r\n"), ("recv",),
         ("send", b"Subject: half a message\r\n\r\nsome text\r\n"), ("sleep", 1), ("close",)],
        expect_log="lost connection after DATA (N bytes) from unknown[127.0.0.3]; the QID has only client=",
        log_regex=r"lost connection after DATA \(\d+ bytes\) from unknown\[127\.0\.0\.3\]",
        line_class="smtpd lost connection after DATA")
    return q


def maildrop_cleanup(markers, case, delay=15):
    time.sleep(delay)
    for m in markers:
        remove_maildrop(m, case)



def postsuper_ops(P, q):
    time.sleep(20)   # let first delivery attempts happen
    if q.get("H16"):
        postsuper("-H", q["H16"], f"{P}-H16", "release header_checks HOLD")
    if q.get("H32"):
        postsuper("-d", q["H32"], f"{P}-H32", "delete sender-access HOLD")
    if q.get("H53"):
        postsuper("-d", q["H53"], f"{P}-H53", "delete deferred")
    if q.get("H54"):
        postsuper("-h", q["H54"], f"{P}-H54", "hold deferred")
    if q.get("H55"):
        postsuper("-r", q["H55"], f"{P}-H55", "requeue deferred")


# ---------------------------------------------------------------------------------
# bulk
# ---------------------------------------------------------------------------------
POOL = [  # (weight, generator)
    (40, lambda r: f"user{r.randint(1, 400)}@ok.test"),
    (6, lambda r: r.choice(["alice", "bob", "carol"]) + "@local.test"),
    (10, lambda r: f"user{r.randint(1, 200)}@partner.test"),
    (2, lambda r: f"rej{r.randint(1, 50)}@partner.test"),
    (0.6, lambda r: f"tmp{r.randint(1, 50)}@partner.test"),
    (4, lambda r: r.choice(["info", "sales", "ext"]) + "@valias.test"),
    (2, lambda r: r.choice(["v1", "v2"]) + "@vmail.test"),
    (5, lambda r: f"box{r.randint(1, 100)}@store.test"),
    (3, lambda r: f"u{r.randint(1, 100)}@hardfail.test"),
    (1, lambda r: f"u{r.randint(1, 100)}@datafail.test"),
    (0.5, lambda r: f"u{r.randint(1, 100)}@softfail.test"),
    (0.5, lambda r: f"u{r.randint(1, 100)}@refused.test"),
    (2, lambda r: f"nobody{r.randint(1, 30)}@local.test"),
    (1, lambda r: f"u{r.randint(1, 100)}@discard.test"),
]
SENDERS = ["alice@local.test", "bob@local.test", "newsletter@ok.test", "noreply@partner.test",
           "billing@ok.test", "carol@local.test"]


def pick_rcpt(r):
    tot = sum(w for w, _ in POOL)
    x = r.uniform(0, tot)
    for w, g in POOL:
        x -= w
        if x <= 0:
            return g(r)
    return POOL[0][1](r)


def bulk_worker(P, wid, n, rate):
    r = random.Random(f"{P}-{wid}")
    for i in range(n):
        nrc = r.choices([1, 2, 3, 4], [70, 15, 10, 5])[0]
        rcpts = list(dict.fromkeys(pick_rcpt(r) for _ in range(nrc)))
        mode = r.choices(["trusted", "trusted_tls", "untrusted", "submission", "postscreen"], [45, 30, 15, 5, 5])[0]
        sender = r.choice(SENDERS)
        kw = {}
        if mode == "trusted_tls":
            kw = dict(tls=True)
        elif mode == "untrusted":
            kw = dict(src=r.choice(["127.0.0.2", "127.0.0.4"]), helo="client-bulk.external.test",
                      tls=r.random() < 0.5)
            sender = r.choice(["friend@external.test", "shop@external.test", "noreply@partner.test"])
        elif mode == "submission":
            kw = dict(port=587, tls=True, auth=("alice", "alicepw"), helo="laptop.example.test")
            sender = "alice@local.test"
        elif mode == "postscreen":
            kw = dict(port=2552)
        if r.random() < 0.02:
            sender, rcpts = "", rcpts[:1]
        if r.random() < 0.05:
            kw["extra"] = ["X-Priority: 1 (Highest)"]
        smtp_send(f"{P}-B{wid}-{i:04d}", f"bulk {mode}", sender, rcpts,
                  subject=f"{P} bulk {wid}/{i} " + r.choice(["Invoice", "Newsletter", "Meeting notes", "Re: hello",
                                                             "Your order", "Weekly report", "Fwd: photos"]),
                  quiet=True, **kw)
        time.sleep(r.expovariate(rate))


def smtp_source_runs(P, scale):
    runs = [
        ("S1", dict(m=300 * scale, r=2, s=3, t="bulk@ok.test", f="sender@ok.test", S="smtp-source to ok.test"), "sent"),
        ("S2", dict(m=100 * scale, r=1, s=2, t="box@store.test", f="sender@ok.test", S="smtp-source to lmtp"), "sent"),
        ("S3", dict(m=60 * scale, r=1, s=2, t="gone@hardfail.test", f="sender@ok.test", S="smtp-source to hardfail"), "bounced"),
        ("S4", dict(m=60 * scale, r=1, s=2, t="alice@local.test", f="sender@ok.test", S="smtp-source to alice", noN=True), "sent"),
    ]
    procs = []
    for name, o, outcome in runs:
        cmd = ["smtp-source", "-c", "-M", "smtp-source.example.test"] + ([] if o.get("noN") else ["-N"]) + ["-l", "1500",
               "-m", str(o["m"]), "-r", str(o["r"]), "-s", str(o["s"]), "-t", o["t"], "-f", o["f"],
               "-S", f"{P} {o['S']}", "-R", "1", "127.0.0.1:25"]
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(f"{RUN}/smtp-source-{P}-{name}.err", "w"))
        procs.append((name, o, outcome, cmd, p))
    return procs


def run_bulk(P, workers=4, per_worker=300, rate=3.0, scale=1):
    log(P, "bulk start")
    procs = smtp_source_runs(P, scale)
    ths = [threading.Thread(target=bulk_worker, args=(P, w, per_worker, rate)) for w in range(workers)]
    [t.start() for t in ths]
    [t.join() for t in ths]
    for name, o, outcome, cmd, p in procs:
        p.wait()
        record(dict(case=f"{P}-{name}", kind="smtp-source", desc=" ".join(cmd), messages=o["m"],
                    rcpts_per_msg=o["r"], recipient=o["t"], sender=o["f"], expect_outcome=outcome,
                    rc=p.returncode, rcpts=[]))
    log(P, "bulk done")


# ---------------------------------------------------------------------------------
def main():
    global PHASE, DEFER_OUTCOME
    os.makedirs(RUN, exist_ok=True)
    # second corpus: no bulk by default (BULK_PER_WORKER=300 SOURCE_SCALE=1 restores the first corpus' bulk)
    per_worker = int(os.environ.get("BULK_PER_WORKER", "0"))
    scale = int(os.environ.get("SOURCE_SCALE", "0"))
    event("start")
    PHASE = "P1"
    q = hand_cases("P1")
    threading.Thread(target=postsuper_ops, args=("P1", q)).start()
    new_cases("P1")
    if per_worker:
        run_bulk("P1", per_worker=per_worker, scale=scale)
    time.sleep(25)
    # ---- phase 2: long queue IDs
    sh("postconf", "-e", "enable_long_queue_ids=yes")
    sh("postfix", "reload")
    event("reload", what="enable_long_queue_ids=yes")
    log("reloaded with enable_long_queue_ids=yes")
    time.sleep(3)
    PHASE = "P2"
    q2 = hand_cases("P2")
    t2 = threading.Thread(target=postsuper_ops, args=("P2", q2))
    t2.start()
    new_cases("P2")
    if per_worker:
        run_bulk("P2", per_worker=per_worker, scale=scale)
    t2.join()
    t_last_defer = time.time()
    event("last_expiring_submission")
    # ---- wait so that everything deferred so far expires (lifetime + max backoff + margin)
    wait_until = t_last_defer + LIFETIME + 150
    late_at = wait_until - 150
    while time.time() < late_at:
        time.sleep(5)
    # ---- late cases: must still be deferred when Postfix is stopped
    PHASE = "P3"
    DEFER_OUTCOME = "deferred"
    event("late_cases")
    smtp_send("P3-L01", "late: remote greylists (still deferred at end)", "alice@local.test",
              ["tmp-late@partner.test", "ok-late@partner.test"], tls=True, defer_outcome="deferred")
    smtp_send("P3-L02", "late: connection refused (still deferred at end)", "bob@local.test",
              ["late@refused.test"], defer_outcome="deferred")
    smtp_send("P3-L03", "late: softfail (still deferred at end)", "", ["late@softfail.test"],
              defer_outcome="deferred")
    pickup("P3-L04", "late: sendmail to retry transport (still deferred at end)", "carol@local.test",
           ["late@retrydom.test"], defer_outcome="deferred")
    r = "late-auth@authfail.test"
    smtp_send("P3-L05", "late: smtp SASL authentication failure (still deferred at end)", "carol@local.test", [r],
              expect={r: [[r, "deferred", "4.7.8", "authsmtp"]]},
              meta={"*": dict(line_class="smtp deferred: SASL authentication failed (535)",
                              evidence=[rf"{{qid}}: to=<{re.escape(r)}>, relay=mx\.authfail\.test\[127\.0\.0\.26\]:25, .*status=deferred \(SASL authentication failed"],
                              attempt_error="SASL authentication failed; server mx.authfail.test[127.0.0.26] said: 535 5.7.8 ...")})
    while time.time() < wait_until:
        time.sleep(5)
    event("end")
    log("driver done")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "test-hand":
        PHASE = "T"
        qq = hand_cases("T")
        postsuper_ops("T", qq)
    elif len(sys.argv) > 1 and sys.argv[1] == "test-new":
        PHASE = "T"
        new_cases("T")
    else:
        main()
