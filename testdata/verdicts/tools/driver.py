#!/usr/bin/python3
"""Traffic driver for the pfi verdicts corpus.

Sends every case once into the loopback Postfix (through the listener that has the programs the
case is about), records what was sent, the SMTP replies, and the verdicts each program must reach
by its configuration (tools/setup.sh) -- the "expected" half of the ground truth -- one JSON object
per message in $RUN/records.jsonl. tools/groundtruth.py then finds each message in mail.log, reads
what every program logged about it, and cross-checks.

Every message has a unique Message-ID <CASE.RUNTAG@pfi.test>, a Subject starting with [CASE], and
recipients with the case in the address extension (alice+case@a.test), so each log line and each
search row belongs to one case.
"""
import base64, json, os, smtplib, socket, sys, threading, time, glob
import dkim

RUN = os.environ.get("RUN", "/tmp/pfverdicts")
REC_PATH = f"{RUN}/records.jsonl"
KEYS = os.environ.get("KEYS", "/var/lib/pfi-verdicts/keys")
T0 = time.time()
RUNTAG = time.strftime("%Y%m%d%H%M%S", time.gmtime())

EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
GTUBE = b"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
EICAR_NAME = "Win.Test.EICAR_HDB-1.UNOFFICIAL"  # local-eicar.hdb names it Win.Test.EICAR_HDB-1; clamd adds .UNOFFICIAL

PY, PERL = "policyd-spf", "postfix/policy-spf"   # syslog idents of the two SPF policy servers


def log(*a):
    print(f"[{time.time()-T0:6.1f}s]", *a, flush=True)


# ------------------------------------------------------------------------------------------
# What the DNS data of setup.sh says (the truth for SPF): result of check_host(ip, domain)
# ------------------------------------------------------------------------------------------
def spf_result(domain, ip):
    d = domain.lower()
    if d == "b.test":
        return "pass" if ip == "127.0.0.2" else "fail"
    if d == "mail.b.test":                       # "v=spf1 a -all", A 127.0.0.2
        return "pass" if ip == "127.0.0.2" else "fail"
    if d == "c.test":
        return "pass" if ip == "127.0.0.4" else "softfail"
    if d == "d.test":
        return "neutral"
    if d == "f.test":
        return "permerror"
    if d == "g.test":
        return "temperror"
    if d == "q.test":
        return "pass" if ip == "127.0.0.4" else "fail"
    if d == "esp.test":
        return "pass" if ip == "127.0.0.3" else "fail"
    if d == "a.test":
        return "pass" if ip == "127.0.0.1" else "fail"
    return "none"                                 # e.test, relay.elsewhere.test, ...


DMARC_POLICY = {"a.test": "none", "b.test": "none", "c.test": "reject", "q.test": "quarantine"}
# g.test: every query REFUSED


def V(program, kind, result, domain=None, score=None, detail=None, logged=True, **kw):
    v = {"program": program, "kind": kind, "result": result, "domain": domain, "score": score,
         "detail": detail, "logged": logged}
    v.update(kw)
    return v


# ------------------------------------------------------------------------------------------
# message construction
# ------------------------------------------------------------------------------------------
def headers_block(h):
    return b"".join(f"{k}: {v}\r\n".encode() for k, v in h)


def build(case, from_hdr, subject, body, extra_headers=(), attach=None, raw_subject=None):
    mid = f"<{case}.{RUNTAG}@pfi.test>"
    h = [("From", from_hdr), ("To", "Alice <alice@a.test>"),
         ("Subject", f"[{case}] {subject}"),
         ("Date", time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())),
         ("Message-ID", mid)] + list(extra_headers)
    if raw_subject is not None:
        h[2] = ("Subject", None)
    if attach:
        fname, ctype, data = attach
        bnd = f"=_pfi_{case}_boundary"
        h += [("MIME-Version", "1.0"), ("Content-Type", f'multipart/mixed; boundary="{bnd}"')]
        b64 = base64.encodebytes(data).replace(b"\n", b"\r\n")
        payload = (f"--{bnd}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n").encode() + body + b"\r\n" + \
                  (f"--{bnd}\r\nContent-Type: {ctype}; name=\"{fname}\"\r\n"
                   f"Content-Disposition: attachment; filename=\"{fname}\"\r\n"
                   f"Content-Transfer-Encoding: base64\r\n\r\n").encode() + b64 + f"--{bnd}--\r\n".encode()
    else:
        h += [("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=us-ascii")]
        payload = body
    hb = b""
    for k, v in h:
        if k == "Subject" and v is None:
            hb += b"Subject: [" + case.encode() + b"] " + raw_subject + b"\r\n"
        else:
            hb += f"{k}: {v}\r\n".encode()
    return mid, hb + b"\r\n" + payload


def sign(msg, domain, selector, keydomain=None, keysel=None):
    key = open(f"{KEYS}/{keydomain or domain}/{keysel or selector}.private", "rb").read()
    sig = dkim.sign(msg, selector.encode(), domain.encode(), key,
                    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])
    return sig + msg


def default_body(case, extra=b""):
    return (f"Hello,\r\n\r\nthis is pfi verdicts corpus case {case}.\r\n".encode() + extra +
            b"\r\nRegards,\r\nthe pfi test driver\r\n")


# ------------------------------------------------------------------------------------------
# SMTP submission; records every reply
# ------------------------------------------------------------------------------------------
def submit(rec, port, src, helo, mail_from, rcpts, data):
    replies = {}
    qid = None
    try:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname=helo, source_address=(src, 0), timeout=120)
        replies["banner"] = None
        code, msg = s.ehlo(helo)
        replies["ehlo"] = code
        code, msg = s.mail(mail_from)
        replies["mail"] = [code, msg.decode(errors="replace")]
        ok = 0
        replies["rcpt"] = []
        if code == 250:
            for r in rcpts:
                code, msg = s.rcpt(r)
                replies["rcpt"].append([r, code, msg.decode(errors="replace")])
                ok += code == 250
        if ok:
            code, msg = s.data(data) if True else (None, b"")
            replies["data"] = [code, msg.decode(errors="replace")]
            m = msg.decode(errors="replace")
            if code == 250 and "queued as " in m:
                qid = m.split("queued as ", 1)[1].split()[0]
        s.quit()
    except smtplib.SMTPDataError as e:
        replies["data"] = [e.smtp_code, e.smtp_error.decode(errors="replace")]
        try:
            s.quit()
        except Exception:
            pass
    except smtplib.SMTPResponseException as e:
        replies["error"] = [e.smtp_code, e.smtp_error.decode(errors="replace")]
    rec["smtp"] = replies
    rec["queue_id_reply"] = qid
    return qid


_lock = threading.Lock()


def record(rec):
    rec.setdefault("t_submit", time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))
    with _lock, open(REC_PATH, "a") as f:
        f.write(json.dumps(rec) + "\n")


def amavis_verdicts(category, virus=None):
    """The verdicts an amavis 'Passed/Blocked CATEGORY' decision stands for (see README):
    every category but INFECTED also means 'no virus found' (clamd was asked); INFECTED skips
    SpamAssassin. The score is what amavis logged as Hits (filled in by groundtruth.py)."""
    out = []
    if category == "INFECTED":
        out.append(V("amavis", "virus", "infected", detail=virus))
        return out
    spam = {"CLEAN": "clean", "SPAMMY": "spammy", "SPAM": "spam", "BAD-HEADER": "bad-header",
            "BANNED": "banned"}[category]
    out.append(V("amavis", "spam", spam, score="from-log"))
    out.append(V("amavis", "virus", "clean"))
    return out


def case(cid, *, port=25, src="127.0.0.2", helo=None, mail_from, rcpts=None, from_hdr=None,
         subject="test", body=None, sigs=(), tamper=False, attach=None, raw_subject=None,
         extra_headers=(), expect_verdicts, outcome, notes="", spf_program=PY, msg=None):
    rcpts = rcpts or [f"alice+{cid.lower()}@a.test"]
    helo = helo or {"127.0.0.2": "mail.b.test", "127.0.0.3": "relay.elsewhere.test",
                    "127.0.0.4": "mail.c.test", "127.0.0.1": "mx1.a.test"}[src]
    if msg is None:
        if from_hdr is None:
            from_hdr = mail_from if mail_from else "postmaster@b.test"
        mid, m = build(cid, from_hdr, subject, body if body is not None else default_body(cid),
                       extra_headers=extra_headers, attach=attach, raw_subject=raw_subject)
        for (d, s, kd, ks) in sigs:
            m = sign(m, d, s, kd, ks)
        if tamper:
            m = m + b"This line was added after the message was signed.\r\n"
    else:
        mid, m = msg
    rec = {"case": cid, "port": port, "client_ip": src, "helo": helo, "mail_from": mail_from,
           "rcpts": rcpts, "message_id": mid, "from_header": from_hdr,
           "subject": f"[{cid}] {subject}", "dkim_signatures": [{"d": d, "s": s} for d, s, _, _ in sigs],
           "tampered_after_signing": tamper,
           "attachment": attach[0] if attach else None,
           "expected": {"outcome": outcome, "verdicts": expect_verdicts}, "notes": notes}
    qid = submit(rec, port, src, helo, mail_from, rcpts, m)
    log(cid, "port", port, "src", src, "->", rec["smtp"].get("data") or rec["smtp"].get("rcpt") or rec["smtp"])
    record(rec)
    return rec


# ------------------------------------------------------------------------------------------
# verdict shorthands (what the configuration makes each program decide)
# ------------------------------------------------------------------------------------------
def spf(prog, mail_from, ip, helo=None):
    if mail_from:
        dom = mail_from.rsplit("@", 1)[1]
        return V(prog, "spf", spf_result(dom, ip), dom, detail="identity=mailfrom")
    return V(prog, "spf", spf_result(helo, ip), helo, detail="identity=helo")


def dk(result, domain=None, sel=None, detail=None, logged=True):
    return V("opendkim", "dkim", result, domain, detail=detail or (f"s={sel}" if sel else None), logged=logged)


def dm(result, domain, logged=True):
    pol = DMARC_POLICY.get(domain)
    return V("opendmarc", "dmarc", result, domain, detail=f"p={pol}" if pol else None, logged=logged)


B_SIG = ("b.test", "s2026", None, None)
C_SIG = ("c.test", "k1", None, None)
ESP_SIG = ("esp.test", "esp1", None, None)
GONE_SIG = ("b.test", "gone", None, None)        # private key exists, public key not in DNS
G_SIG = ("g.test", "sel", None, None)            # g.test: DNS REFUSED


def main():
    global RUNTAG
    only = sys.argv[1:]  # optional case-id prefixes
    open(REC_PATH, "a").close()

    def want(cid):
        return not only or any(cid.startswith(p) for p in only)

    A_CLEAN = amavis_verdicts("CLEAN")
    # ---------------- DKIM / DMARC (port 25: python policyd-spf, opendkim, opendmarc, amavis) ----------
    if want("D01"):
        case("D01", mail_from="bob@b.test", subject="good b.test signature", sigs=[B_SIG],
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.2"), dk("pass", "b.test", "s2026"),
                              dm("pass", "b.test")] + A_CLEAN, outcome="delivered")
    if want("D02"):
        case("D02", mail_from="bob@b.test", subject="b.test signature, body altered after signing",
             sigs=[B_SIG], tamper=True,
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.2"), dk("fail", "b.test", "s2026"),
                              dm("pass", "b.test")] + A_CLEAN, outcome="delivered",
             notes="DMARC passes through aligned SPF")
    if want("D03"):
        case("D03", mail_from="bob@b.test", subject="signature with a selector not in DNS",
             sigs=[GONE_SIG],
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.2"),
                              dk("fail", "b.test", "gone", detail="s=gone; key not found in DNS"),
                              dm("pass", "b.test")] + A_CLEAN, outcome="delivered",
             notes="opendkim reports a missing key as dkim=fail reason=\"key not found in DNS\" (A-R header)")
    if want("D04"):
        case("D04", mail_from="bob@b.test", subject="unsigned b.test message",
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.2"), dk("none", logged=False),
                              dm("pass", "b.test")] + A_CLEAN, outcome="delivered")
    if want("D05"):
        case("D05", src="127.0.0.3", mail_from="carl@c.test", subject="c.test signed, sent from an unlisted host",
             sigs=[C_SIG],
             expect_verdicts=[spf(PY, "carl@c.test", "127.0.0.3"), dk("pass", "c.test", "k1"),
                              dm("pass", "c.test")] + A_CLEAN, outcome="delivered",
             notes="SPF softfail, DMARC passes through the aligned DKIM signature")
    if want("D06"):
        case("D06", src="127.0.0.3", mail_from="carl@c.test", subject="c.test unsigned from an unlisted host",
             expect_verdicts=[spf(PY, "carl@c.test", "127.0.0.3"), dk("none", logged=False),
                              dm("fail", "c.test")], outcome="rejected",
             notes="p=reject + RejectFailures: opendmarc rejects at end of message; never reaches amavis")
    if want("D07"):
        case("D07", mail_from="bob@b.test", subject="two signatures: b.test and esp.test",
             sigs=[ESP_SIG, B_SIG],
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.2"), dk("pass", "b.test", "s2026"),
                              dk("pass", "esp.test", "esp1"), dm("pass", "b.test")] + A_CLEAN,
             outcome="delivered")
    if want("D08"):
        case("D08", port=2527, src="127.0.0.3", mail_from="bob@b.test",
             subject="b.test From, only a third-party esp.test signature, SPF fail", sigs=[ESP_SIG],
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.3"), dk("pass", "esp.test", "esp1"),
                              dm("fail", "b.test")] + A_CLEAN, outcome="delivered",
             notes="port 2527: policyd-spf never rejects; DMARC fails (no aligned pass), p=none so accepted")
    if want("D09"):
        case("D09", port=2527, src="127.0.0.3", mail_from="quinn@q.test", subject="q.test DMARC failure",
             expect_verdicts=[spf(PY, "quinn@q.test", "127.0.0.3"), dk("none", logged=False),
                              dm("fail", "q.test")], outcome="held",
             notes="p=quarantine + HoldQuarantinedMessages: opendmarc quarantines, Postfix puts it on hold")
    if want("D10"):
        case("D10", mail_from="gina@g.test", subject="g.test signature, DNS REFUSED", sigs=[G_SIG],
             expect_verdicts=[spf(PY, "gina@g.test", "127.0.0.2"), dk("error", "g.test", "sel"),
                              dm("none", "g.test")] + A_CLEAN,
             outcome="tempfailed",
             notes="the key lookup gets REFUSED; man opendkim.conf: On-DNSError (default tempfail) should make "
                   "Postfix answer 451 at end of message. Verdicts listed as if accepted (SPF temperror, "
                   "DMARC none: _dmarc.g.test REFUSED too)")
    if want("D12"):
        case("D12", port=2527, src="127.0.0.3", mail_from="bob@b.test", subject="b.test unsigned, SPF fail",
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.3"), dk("none", logged=False),
                              dm("fail", "b.test")] + A_CLEAN, outcome="delivered",
             notes="port 2527: policyd-spf never rejects; DMARC fails, p=none so accepted")
    if want("D11"):
        case("D11", mail_from="bob@b.test", subject="good b.test signature, two recipients",
             rcpts=["alice+d11@a.test", "bob+d11@a.test"], sigs=[B_SIG],
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.2"), dk("pass", "b.test", "s2026"),
                              dm("pass", "b.test")] + A_CLEAN, outcome="delivered",
             notes="two recipients: one policy request per RCPT")

    # ---------------- SPF, python policyd-spf (port 25, rejects Fail) -------------------------------
    if want("S01"):
        case("S01", src="127.0.0.3", mail_from="bob@b.test", subject="b.test from an unlisted host",
             expect_verdicts=[spf(PY, "bob@b.test", "127.0.0.3")], outcome="rejected",
             notes="Mail_From_reject = Fail: 550 at RCPT, NOQUEUE; no queue ID")
    if want("S02"):
        case("S02", src="127.0.0.3", mail_from="dan@d.test", subject="d.test ?all",
             expect_verdicts=[spf(PY, "dan@d.test", "127.0.0.3"), dk("none", logged=False),
                              dm("none", "d.test")] + A_CLEAN, outcome="delivered")
    if want("S03"):
        case("S03", src="127.0.0.3", mail_from="eve@e.test", subject="e.test has no SPF record",
             expect_verdicts=[spf(PY, "eve@e.test", "127.0.0.3"), dk("none", logged=False),
                              dm("none", "e.test")] + A_CLEAN, outcome="delivered")
    if want("S04"):
        case("S04", src="127.0.0.3", mail_from="fay@f.test", subject="f.test broken SPF record",
             expect_verdicts=[spf(PY, "fay@f.test", "127.0.0.3"), dk("none", logged=False),
                              dm("none", "f.test")] + A_CLEAN, outcome="delivered",
             notes="PermError_reject = False")
    if want("S05"):
        case("S05", src="127.0.0.3", mail_from="gus@g.test", subject="g.test DNS REFUSED, unsigned",
             expect_verdicts=[spf(PY, "gus@g.test", "127.0.0.3"), dk("none", logged=False),
                              dm("none", "g.test")] + A_CLEAN, outcome="delivered",
             notes="TempError_Defer = False")
    if want("S06"):
        case("S06", src="127.0.0.2", mail_from="", from_hdr="MAILER-DAEMON@mail.b.test",
             subject="null sender, HELO mail.b.test", rcpts=["alice+s06@a.test"],
             expect_verdicts=[spf(PY, "", "127.0.0.2", helo="mail.b.test"), dk("none", logged=False),
                              dm("none", "mail.b.test")] + A_CLEAN, outcome="delivered",
             notes="null sender: SPF checks the HELO identity. DMARC: From domain mail.b.test has no _dmarc "
                   "record, and the public suffix list has no 'test', so opendmarc cannot find the "
                   "organizational domain b.test (man opendmarc.conf, PublicSuffixList): none")
    if want("S07"):
        case("S07", src="127.0.0.3", helo="mail.b.test", mail_from="eve@e.test",
             subject="HELO mail.b.test from the wrong address",
             expect_verdicts=[spf(PY, "", "127.0.0.3", helo="mail.b.test")], outcome="rejected",
             notes="HELO_reject = Fail: the HELO check fails first, 550 at RCPT, NOQUEUE")
    if want("S08"):
        case("S08", src="127.0.0.4", mail_from="carl@c.test", subject="c.test from its listed host",
             expect_verdicts=[spf(PY, "carl@c.test", "127.0.0.4"), dk("none", logged=False),
                              dm("pass", "c.test")] + A_CLEAN, outcome="delivered")

    # ---------------- SPF, perl postfix-policyd-spf-perl (port 2525) -------------------------------
    if want("P01"):
        case("P01", port=2525, mail_from="bob@b.test", subject="perl: pass", sigs=[B_SIG],
             expect_verdicts=[spf(PERL, "bob@b.test", "127.0.0.2"), dk("pass", "b.test", "s2026"),
                              dm("pass", "b.test")] + A_CLEAN, outcome="delivered")
    if want("P02"):
        case("P02", port=2525, src="127.0.0.3", mail_from="bob@b.test", subject="perl: fail",
             expect_verdicts=[spf(PERL, "bob@b.test", "127.0.0.3")], outcome="rejected",
             notes="the perl server always rejects Fail: 550 at RCPT, NOQUEUE")
    if want("P03"):
        case("P03", port=2525, src="127.0.0.3", mail_from="carl@c.test", subject="perl: softfail", sigs=[C_SIG],
             expect_verdicts=[spf(PERL, "carl@c.test", "127.0.0.3"), dk("pass", "c.test", "k1"),
                              dm("pass", "c.test")] + A_CLEAN, outcome="delivered")
    if want("P04"):
        case("P04", port=2525, src="127.0.0.3", mail_from="dan@d.test", subject="perl: neutral",
             expect_verdicts=[spf(PERL, "dan@d.test", "127.0.0.3"), dk("none", logged=False),
                              dm("none", "d.test")] + A_CLEAN, outcome="delivered")
    if want("P05"):
        case("P05", port=2525, src="127.0.0.3", mail_from="eve@e.test", subject="perl: none",
             expect_verdicts=[spf(PERL, "eve@e.test", "127.0.0.3"), dk("none", logged=False),
                              dm("none", "e.test")] + A_CLEAN, outcome="delivered")
    if want("P06"):
        case("P06", port=2525, src="127.0.0.3", mail_from="fay@f.test", subject="perl: permerror",
             expect_verdicts=[spf(PERL, "fay@f.test", "127.0.0.3"), dk("none", logged=False),
                              dm("none", "f.test")] + A_CLEAN, outcome="delivered")
    if want("P07"):
        case("P07", port=2525, src="127.0.0.2", mail_from="", from_hdr="MAILER-DAEMON@mail.b.test",
             subject="perl: null sender", expect_verdicts=[spf(PERL, "", "127.0.0.2", helo="mail.b.test"),
                                                          dk("none", logged=False), dm("none", "mail.b.test")] + A_CLEAN,
             outcome="delivered")
    if want("P08"):
        case("P08", port=2525, src="127.0.0.3", mail_from="gus@g.test", subject="perl: temperror",
             expect_verdicts=[spf(PERL, "gus@g.test", "127.0.0.3")], outcome="tempfailed",
             notes="the perl server answers DEFER_IF_PERMIT on temperror: 450 at RCPT, NOQUEUE")

    if want("P09"):
        case("P09", port=2525, mail_from="bob@b.test", subject="perl: pass, two recipients",
             rcpts=["alice+p09@a.test", "bob+p09@a.test"],
             expect_verdicts=[spf(PERL, "bob@b.test", "127.0.0.2"), dk("none", logged=False),
                              dm("pass", "b.test")] + A_CLEAN, outcome="delivered",
             notes="two recipients: the perl server prepends its header for the first RCPT only")

    # ---------------- amavisd-new + SpamAssassin + clamd (port 25, unsigned b.test from .2) ---------
    base = lambda: [spf(PY, "bob@b.test", "127.0.0.2"), dk("none", logged=False), dm("pass", "b.test")]
    if want("A01"):
        case("A01", mail_from="bob@b.test", subject="GTUBE", body=default_body("A01", GTUBE + b"\r\n"),
             expect_verdicts=base() + amavis_verdicts("SPAM"), outcome="delivered",
             notes="final_spam_destiny D_PASS (Debian): delivered with ***SPAM*** subject tag")
    if want("A02"):
        case("A02", mail_from="bob@b.test", subject="spammy token",
             body=default_body("A02", b"PFI-SPAMMY-TOKEN\r\n"),
             expect_verdicts=base() + amavis_verdicts("SPAMMY"), outcome="delivered",
             notes="local SA rule PFI_SPAMMY_TOKEN scores 7.0: between tag2 (5.0) and kill (10.0)")
    if want("A03"):
        case("A03", mail_from="bob@b.test", subject="EICAR attachment",
             attach=("eicar.com", "application/octet-stream", EICAR),
             expect_verdicts=base() + amavis_verdicts("INFECTED", EICAR_NAME), outcome="discarded",
             notes="final_virus_destiny D_DISCARD (Debian): amavis answers 250 and drops it")
    if want("A04"):
        case("A04", mail_from="bob@b.test", subject="banned attachment name",
             attach=("invoice.pdf.exe", "application/octet-stream", b"MZ\x90\x00pfi corpus: not a program\r\n" * 4),
             expect_verdicts=base() + amavis_verdicts("BANNED"), outcome="discarded",
             notes="banned_filename_re double extension; final_banned_destiny D_DISCARD (Debian)")
    if want("A05"):
        case("A05", mail_from="bob@b.test", subject="x", raw_subject="8-bit header \xe9t\xe9".encode("latin-1"),
             expect_verdicts=base() + amavis_verdicts("BAD-HEADER"), outcome="delivered",
             notes="unencoded 8-bit characters in the Subject; final_bad_header_destiny D_PASS (Debian)")
    if want("A06"):
        case("A06", mail_from="bob@b.test", subject="clean, three recipients",
             rcpts=["alice+a06@a.test", "bob+a06@a.test", "carol+a06@a.test"],
             expect_verdicts=base() + A_CLEAN, outcome="delivered")
    if want("A07"):
        case("A07", mail_from="bob@b.test", subject="spammy token, two recipients",
             rcpts=["alice+a07@a.test", "bob+a07@a.test"], body=default_body("A07", b"PFI-SPAMMY-TOKEN\r\n"),
             expect_verdicts=base() + amavis_verdicts("SPAMMY"), outcome="delivered")

    # ---------------- clamav-milter (port 2526, nothing else) ---------------------------------------
    if want("C01"):
        case("C01", port=2526, mail_from="bob@b.test", subject="clamav-milter clean",
             expect_verdicts=[V("clamav-milter", "virus", "clean")], outcome="delivered")
    if want("C02"):
        case("C02", port=2526, mail_from="bob@b.test", subject="clamav-milter EICAR",
             attach=("eicar.com", "application/octet-stream", EICAR),
             expect_verdicts=[V("clamav-milter", "virus", "infected", detail=EICAR_NAME)], outcome="rejected",
             notes="OnInfected Reject")
    if want("C03"):
        case("C03", port=2526, mail_from="bob@b.test", subject="clamav-milter EICAR, two recipients",
             rcpts=["alice+c03@a.test", "bob+c03@a.test"],
             attach=("eicar.com", "application/octet-stream", EICAR),
             expect_verdicts=[V("clamav-milter", "virus", "infected", detail=EICAR_NAME)], outcome="rejected")

    # ---------------- rspamd (port 2528) -------------------------------------------------------------
    if os.environ.get("WITH_RSPAMD", "1") == "1":
        if want("R01"):
            case("R01", port=2528, mail_from="bob@b.test", subject="rspamd clean", sigs=[B_SIG],
                 expect_verdicts=[V("rspamd", "spam", "clean", score="from-log", detail="no action")],
                 outcome="delivered")
        if want("R02"):
            case("R02", port=2528, mail_from="bob@b.test", subject="rspamd GTUBE",
                 body=default_body("R02", GTUBE + b"\r\n"),
                 expect_verdicts=[V("rspamd", "spam", "spam", score="from-log", detail="reject")],
                 outcome="rejected")

    # ---------------- outbound signing (submission from 127.0.0.1) ----------------------------------
    if want("O01"):
        case("O01", port=587, src="127.0.0.1", mail_from="alice@a.test", from_hdr="Alice <alice@a.test>",
             rcpts=["dest+o01@r.test"], subject="outbound, signed by opendkim",
             expect_verdicts=[dk("signed", "a.test", "mail")], outcome="sent",
             notes="relayed to the smtp-sink at mx.r.test, which keeps the signed message")
    if want("O02"):
        case("O02", port=587, src="127.0.0.1", mail_from="alice@a.test", from_hdr="Alice <alice@a.test>",
             rcpts=["bob+o02@a.test"], subject="internal, signed by opendkim",
             expect_verdicts=[dk("signed", "a.test", "mail")], outcome="delivered")
    if want("O03"):
        case("O03", port=587, src="127.0.0.1", mail_from="eve@e.test", from_hdr="eve@e.test",
             rcpts=["dest+o03@r.test"], subject="outbound, From domain not in the SigningTable",
             expect_verdicts=[], outcome="sent", notes="opendkim neither signs nor verifies")
    if want("O04"):
        # the message O01 left at the sink, sent back in from 127.0.0.3 (port 2527: header-only SPF)
        time.sleep(3)
        dumps = sorted(glob.glob(f"{RUN}/sink/*"), key=os.path.getmtime)
        signed = None
        for f in dumps:
            raw = open(f, "rb").read()
            if b"[O01]" in raw and b"DKIM-Signature" in raw:
                signed = raw
        if signed is None:
            log("O04: no signed O01 message at the sink; skipped")
        else:
            # smtp-sink prefixes its own X-Client-*/X-Helo-*/X-Mail-*/X-Rcpt-* lines: drop them
            lines = signed.split(b"\n")
            while lines and (lines[0].startswith(b"X-Client-") or lines[0].startswith(b"X-Helo-")
                             or lines[0].startswith(b"X-Mail-") or lines[0].startswith(b"X-Rcpt-")):
                lines.pop(0)
            raw = b"\n".join(lines).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            mid = [l for l in raw.split(b"\r\n") if l.lower().startswith(b"message-id:")][0].split(b":", 1)[1].strip().decode()
            case("O04", port=2527, src="127.0.0.3", mail_from="alice@a.test", from_hdr="Alice <alice@a.test>",
                 rcpts=["carol+o04@a.test"], subject="O01's signed message, sent back in",
                 msg=(mid, raw),
                 expect_verdicts=[spf(PY, "alice@a.test", "127.0.0.3"), dk("pass", "a.test", "mail"),
                                  dm("pass", "a.test")] + A_CLEAN, outcome="delivered",
                 notes="same Message-ID as O01: the signature opendkim made is verified by opendkim")
    if want("M"):
        mix()
    log("driver done")


def mix():
    """Two concurrent senders, so that the sessions, policy lookups, milter and amavis lines
    interleave as on a real server. Sender 1: port 25 from 127.0.0.2 (b.test); sender 2: port 2525
    (perl SPF) from 127.0.0.4 (c.test, SPF pass) and 127.0.0.3 (d.test/e.test). The client
    addresses differ between the two, so the SPF lines can still be told apart."""
    def s1():
        for i in range(1, 16):
            cid = f"M1{i:02d}"
            kind = i % 3
            sigs = [B_SIG] if kind == 0 else []
            body = default_body(cid, b"PFI-SPAMMY-TOKEN\r\n" if kind == 2 else b"")
            exp = [spf(PY, "bob@b.test", "127.0.0.2"),
                   dk("pass", "b.test", "s2026") if sigs else dk("none", logged=False), dm("pass", "b.test")]
            exp += amavis_verdicts("SPAMMY" if kind == 2 else "CLEAN")
            case(cid, mail_from="bob@b.test", subject=f"mix 1/{i}", sigs=sigs, body=body,
                 rcpts=[f"alice+{cid.lower()}@a.test"] + ([f"bob+{cid.lower()}@a.test"] if i % 4 == 0 else []),
                 expect_verdicts=exp, outcome="delivered")

    def s2():
        for i in range(1, 16):
            cid = f"M2{i:02d}"
            if i % 3 == 0:
                src, mf, dmarc = "127.0.0.4", "carl@c.test", dm("pass", "c.test")
                sigs = [C_SIG] if i % 2 else []
            elif i % 3 == 1:
                src, mf, dmarc, sigs = "127.0.0.3", "dan@d.test", dm("none", "d.test"), []
            else:
                src, mf, dmarc, sigs = "127.0.0.3", "eve@e.test", dm("none", "e.test"), []
            exp = [spf(PERL, mf, src), dk("pass", "c.test", "k1") if sigs else dk("none", logged=False), dmarc]
            exp += amavis_verdicts("CLEAN")
            case(cid, port=2525, src=src, mail_from=mf, subject=f"mix 2/{i}", sigs=sigs,
                 expect_verdicts=exp, outcome="delivered")

    ts = [threading.Thread(target=s1), threading.Thread(target=s2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


if __name__ == "__main__":
    main()
