#!/usr/bin/python3
"""Build ground_truth.json / GROUND_TRUTH.md for the pfi real-Postfix corpus.

Inputs ($RUN): records.jsonl (what the driver sent + expected outcome per recipient,
derived from the configuration), events.jsonl (postsuper/reload markers),
final-queue.jsonl (postqueue -j just before 'postfix stop'), mail.log (format a).

The expected outcomes are then CROSS-CHECKED against the log with an independent,
deliberately simple correlator (this file) - it is not the pfi implementation.
"""
import collections, json, os, re, sys

RUN = os.environ.get("RUN", "/tmp/pfcorpus2")
OUT = sys.argv[1] if len(sys.argv) > 1 else "."

QID_RE = r"(?:[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,})"
LINE_RE = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\[:]+)(?:\[(\d+)\])?: (.*)$")
QLINE_RE = re.compile(rf"^({QID_RE}): (.*)$")
DELIV_RE = re.compile(r"^to=<([^>]*)>, (?:orig_to=<([^>]*)>, )?relay=([^,]+), (?:conn_use=\d+, )?delay=([^,]+), "
                      r"delays=([^,]+), dsn=([^,]+), status=(\w+) \((.*)\)$")


class Msg:
    def __init__(self, qid):
        self.qid = qid
        self.origin = None         # smtpd service name / pickup
        self.client = None
        self.orig_queue_id = None
        self.msgid = None
        self.sender = None
        self.subject = None
        self.deliv = []            # dicts
        self.removed = False
        self.expired = False
        self.cleanup = []          # (action, text)
        self.smtpd_actions = []    # reject/hold/discard/filter lines with this qid
        self.postsuper = []
        self.notifications = []    # (kind, newqid)
        self.parent = None
        self.first_ts = None
        self.requeued_from = None


def parse_log(path):
    msgs = {}
    noqueue = []
    pending = {}
    global illegal, reused
    illegal = []
    reused = []
    other = collections.Counter()
    lines = 0
    cur = {}            # queue ID -> key of the message currently using it (IDs can be reused)
    def M(q, new_origin=False):
        k = cur.get(q)
        if k is not None and new_origin and msgs[k].removed:
            n = sum(1 for x in msgs if x.split("#")[0] == q)
            k = f"{q}#{n+1}"
            reused.append(q)
        elif k is None:
            k = q
        if k not in msgs:
            msgs[k] = Msg(k)
            cur[q] = k
        return msgs[k]
    with open(path, errors="replace") as f:
        for ln in f:
            lines += 1
            m = LINE_RE.match(ln.rstrip("\n"))
            if not m:
                other["unparsed"] += 1
                continue
            ts, host, prog, pid, rest = m.groups()
            daemon = prog.split("/")[-1]
            qm = QLINE_RE.match(rest)
            if rest.startswith("NOQUEUE: "):
                body = rest[9:]
                noqueue.append(dict(ts=ts, prog=prog, text=body))
                am = re.match(r"(?:milter-)?(discard|hold|filter): ", body)
                if am:
                    pending[(prog, pid)] = pending.get((prog, pid), []) + [(am.group(1), body)]
                continue
            wm = re.match(r"warning: Illegal address syntax from (\S+) in (\w+) command: <(.*)>$", rest)
            if wm:
                illegal.append(dict(ts=ts, client=wm.group(1), cmd=wm.group(2), addr=wm.group(3)))
                continue
            if not qm:
                continue
            qid, body = qm.groups()
            msg = M(qid, new_origin=(body.startswith("client=") or body.startswith("uid=") or body.startswith("sender=")))
            if msg.first_ts is None:
                msg.first_ts = ts
            if daemon in ("smtpd",) and body.startswith("client="):
                for act, txt in pending.pop((prog, pid), []):
                    msg.smtpd_actions.append((act, "RCPT(NOQUEUE)", txt))
                msg.origin = prog
                msg.client = body.split(",")[0][7:]
                om = re.search(rf"orig_queue_id=({QID_RE})", body)
                if om:
                    msg.orig_queue_id = cur.get(om.group(1), om.group(1))
            elif daemon == "pickup" and ("uid=" in body or "sender=" in body):
                msg.origin = prog
                om = re.search(rf"orig_id=({QID_RE})", body)
                if om:
                    msg.requeued_from = cur.get(om.group(1), om.group(1))
            elif daemon == "cleanup":
                if body.startswith("message-id="):
                    msg.msgid = body[len("message-id="):]
                else:
                    am = re.match(r"(hold|discard|reject|redirect|warning|info|filter|replace|prepend): (header|body) (.*)$", body)
                    mm = re.match(r"milter-(hold|discard|reject): (\S+ from .*)$", body)
                    if mm:   # second corpus: milter actions applied by cleanup
                        msg.cleanup.append((mm.group(1), mm.group(2)))
                    if am:
                        act, where, txt = am.groups()
                        if where == "header" and txt.startswith("Subject: ") and act in ("warning", "hold", "discard", "reject", "redirect"):
                            sm = re.match(r"Subject: (.*?) from \S+; from=<", txt)
                            if sm:
                                msg.subject = sm.group(1)
                        if act in ("hold", "discard", "reject", "redirect"):
                            msg.cleanup.append((act, txt))
            elif daemon == "qmgr":
                fm = re.match(r"from=<([^>]*)>, (size=|status=expired)", body)
                if fm:
                    msg.sender = fm.group(1)
                    if "status=expired" in body:
                        msg.expired = True
                elif body == "removed":
                    msg.removed = True
            elif daemon == "bounce":
                bm = re.match(rf"(sender non-delivery notification|sender delay notification|sender delivery status notification|postmaster non-delivery notification): ({QID_RE})", body)
                if bm:
                    # NB: this line may come AFTER the notification's own lifecycle (even after its
                    # "removed"), so it must refer to the most recent message with that ID
                    child = M(bm.group(2), new_origin=False)
                    msg.notifications.append((bm.group(1), child.qid))
                    child.parent = (msg.qid, bm.group(1))
            elif daemon == "postsuper":
                msg.postsuper.append(body)
            elif daemon == "smtpd" or daemon == "postscreen":
                am = re.match(r"(?:milter-)?(reject|hold|discard|filter|redirect): (\S+) from (.*)$", body)
                if am:
                    msg.smtpd_actions.append((am.group(1), am.group(2), body))
            dm = DELIV_RE.match(body)
            if dm:
                to, orig_to, relay, delay, delays, dsn, status, text = dm.groups()
                d = dict(ts=ts, daemon=prog, to=to, orig_to=orig_to, relay=relay, dsn=dsn, status=status, text=text)
                cm = re.search(rf"(?:queued as|forwarded as) ({QID_RE})\)?$", text)
                d["child"] = cur.get(cm.group(1), cm.group(1)) if cm else None
                msg.deliv.append(d)
    # children discovered via "queued as"/"forwarded as" exist only if the new QID is in our log
    for msg in msgs.values():
        for d in msg.deliv:
            if d["child"] and d["child"] in msgs:
                msgs[d["child"]].parent = msgs[d["child"]].parent or (msg.qid, "forwarded" if "forwarded as" in d["text"] else "content-filter")
            elif d["child"]:
                d["child"] = None
    return msgs, noqueue, lines


LOGLINES = []   # (datetime, line) of mail.log, filled by main()


def load_loglines(path, year):
    import datetime
    out = []
    for ln in open(path, errors="replace"):
        ln = ln.rstrip("\n")
        try:
            dt = datetime.datetime.strptime(f"{year} {ln[:15]}", "%Y %b %d %H:%M:%S")
        except ValueError:
            dt = None
        out.append((dt, ln))
    return out


def ev_find(rx, qid, t_submit):
    """Lines matching rx at or after t_submit (-2 s); '{qid}' = the message's QID (any QID if unknown).
    Returns [(qid_or_None, line)]."""
    import datetime
    if "{qid}" in rx:
        if qid:
            rx2 = rx.replace("{qid}", re.escape(qid.split("#")[0]))
        else:
            rx2 = rx.replace("{qid}", f"(?P<q>{QID_RE})", 1).replace("{qid}", "(?P=q)")
    else:
        rx2 = rx
    t0 = None
    if t_submit:
        t0 = datetime.datetime.strptime(t_submit, "%Y-%m-%dT%H:%M:%S") - datetime.timedelta(seconds=2)
    cre = re.compile(rx2)
    out = []
    for dt, ln in LOGLINES:
        if t0 and dt and dt < t0:
            continue
        m = cre.search(ln)
        if m:
            q = m.groupdict().get("q") if "(?P<q>" in rx2 else (qid.split("#")[0] if qid and "{qid}" in rx else None)
            out.append((q, ln))
    return out


CUR = {}


def cur_key(q):
    return CUR.get(q, q)


def load_jsonl(p):
    if not os.path.exists(p):
        return []
    return [json.loads(l) for l in open(p) if l.strip()]


def final_states(msgs, qid, final_queue, seen=None):
    """Per-recipient final outcome of a message chain: list of dicts."""
    seen = seen or set()
    if qid in seen or qid not in msgs:
        return []
    seen.add(qid)
    m = msgs[qid]
    out = []
    last = collections.OrderedDict()
    for d in m.deliv:
        if d["status"] in ("deliverable", "undeliverable"):
            last[(d["to"], d["orig_to"], "probe")] = d
        else:
            last[(d["to"], d["orig_to"])] = d
    fq = final_queue.get(qid)
    deleted = any(p == "removed" for p in m.postsuper)
    held_now = fq is not None and fq.get("queue_name") == "hold"
    children = []
    requeue_children = [q2 for q2, m2 in msgs.items() if m2.requeued_from == qid]
    for key, d in last.items():
        # an intermediate content-filter hop (status=sent ... queued as NEWQID): the recipient's
        # outcome is decided under the new queue ID, so do not report the hop itself
        if d["child"] and "forwarded as" not in d["text"]:
            if d["child"] not in children:
                children.append(d["child"])
            continue
        if requeue_children and d["status"] == "deferred":
            continue
        st = d["status"]
        if st == "deferred":
            if m.expired:
                st = "expired"
            elif deleted:
                st = "deleted"
            elif held_now:
                st = "held"
            elif fq is not None:
                st = "deferred"
            elif any(p == "requeued" for p in m.postsuper):
                st = "requeued"
            else:
                st = "deferred(unknown-end)"
        out.append(dict(to=d["to"], orig_to=d["orig_to"], status=st, dsn=d["dsn"], qid=qid,
                        relay=d["relay"], daemon=d["daemon"], text=d["text"][:160],
                        forwarded="forwarded as" in d["text"]))
        if d["child"] and d["child"] not in children:
            children.append(d["child"])
    for c in children:
        out += final_states(msgs, c, final_queue, seen)
    # requeued message continues under a new queue ID (pickup ... orig_id=)
    for q2 in requeue_children:
        out += final_states(msgs, q2, final_queue, seen)
    if not m.deliv and not requeue_children:
        acts = [a for a, _ in m.cleanup] + [a for a, _, _ in m.smtpd_actions]
        if deleted:
            st = "deleted"
        elif "discard" in acts:
            st = "discarded"
        elif "reject" in [a for a, _ in m.cleanup] or any(a == "reject" and w in ("END-OF-MESSAGE", "DATA") for a, w, _ in m.smtpd_actions):
            st = "rejected"
        elif held_now or "hold" in acts:
            st = "held" if held_now else "held(released?)"
        elif fq is not None:
            st = "deferred" if fq.get("queue_name") == "deferred" else fq.get("queue_name")
        else:
            st = "no-delivery-logged"
        out.append(dict(to="*", orig_to=None, status=st, dsn="", qid=qid, relay=None, daemon=None, text="",
                        forwarded=False))
    return out


def chain(msgs, qid):
    res, todo = [], [qid]
    while todo:
        q = todo.pop(0)
        if q in res or q not in msgs:
            continue
        res.append(q)
        for d in msgs[q].deliv:
            if d["child"]:
                todo.append(d["child"])
        for q2, m2 in msgs.items():
            if m2.requeued_from == q:
                todo.append(q2)
    return res


def norm_outcome(st):
    return {"deferred(unknown-end)": "deferred"}.get(st, st)


def main():
    recs = load_jsonl(f"{RUN}/records.jsonl")
    events = load_jsonl(f"{RUN}/events.jsonl")
    fq = {j["queue_id"]: j for j in load_jsonl(f"{RUN}/final-queue.jsonl")}
    msgs, noqueue, nlines = parse_log(f"{RUN}/mail.log")
    year = (recs[0].get("t_submit") or "2026")[:4] if recs else "2026"
    LOGLINES[:] = load_loglines(f"{RUN}/mail.log", int(year))
    for k in msgs:          # latest lifetime of each queue ID
        CUR[k.split("#")[0]] = k
    by_msgid = collections.defaultdict(list)
    for q, m in msgs.items():
        if m.msgid:
            by_msgid[m.msgid].append(q)
    rejects = []
    def parse_action(text, qid, ts):
        rm = re.match(r"(reject|hold|discard|filter|redirect|warn): (\S+) from (\S+?): (.*?)(?:; |$)", text)
        if not rm:
            return None
        fm = re.search(r"from=<([^>]*)>", text)
        tm = re.search(r"to=<([^>]*)>", text)
        ipm = re.search(r"\[([0-9.]+)\]", rm.group(3))
        return dict(action=rm.group(1), stage=rm.group(2), client=rm.group(3), client_ip=ipm.group(1) if ipm else None,
                    reply=rm.group(4), sender=fm.group(1) if fm else None, to=tm.group(1) if tm else None,
                    ts=ts, qid=qid)
    for nq in noqueue:
        r = parse_action(nq["text"], None, nq["ts"])
        if r:
            rejects.append(r)
    for q, m in msgs.items():
        for act, stage, body in m.smtpd_actions:
            if stage == "RCPT(NOQUEUE)":
                continue
            r = parse_action(body, q, m.first_ts)
            if r:
                rejects.append(r)

    def find_rejects(addr, sender, client_ip, via):
        want_stage = re.search(r"smtpd\((\w+)", via or "")
        want_stage = want_stage.group(1) if want_stage else None
        before_rcpt = want_stage in ("before", "CONNECT", "EHLO", "HELO", "MAIL", "DATA", "END")
        c = [r for r in rejects if r["action"] == "reject" and r["client_ip"] == client_ip
             and ((r["to"] is None and before_rcpt) or (r["to"] or "").lower() == addr.lower())
             and (r["sender"] is None or r["sender"].lower() == (sender or "").lower())]
        if want_stage:
            c2 = [r for r in c if r["stage"] == want_stage or (want_stage == "EHLO" and r["stage"] == "HELO")]
            c = c2 or c
        c.sort(key=lambda r: (r["to"] is None, r["sender"] is None))
        return c

    cases, bulk_stats, mismatches = [], collections.Counter(), []
    bulk_obs = collections.Counter()
    ndr_expected = delay_expected = 0
    raw_patterns = {
        "H36": r"reject: DATA from unknown\[127\.0\.0\.3\]: 503 5\.5\.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining",
        "H37": r"warning: non-SMTP command from unknown\[127\.0\.0\.3\]: GET / HTTP/1\.0",
        "H38": r"lost connection after RCPT from unknown\[127\.0\.0\.3\]",
        "H39": r"timeout after EHLO from unknown\[127\.0\.0\.3\]",
        "H40": r"too many errors after UNKNOWN from unknown\[127\.0\.0\.3\]",
        "H42": r"warning: localhost\[127\.0\.0\.1\]: SASL PLAIN authentication failed",
        "H47": r"PREGREET \d+ after \S+ from \[127\.0\.0\.3\]:\d+: EHLO pregreet",
        "H48": r"DENYLISTED \[127\.0\.0\.6\]:\d+",
        "H49": r"SSL_accept error from unknown\[127\.0\.0\.3\]",
    }
    logtext = open(f"{RUN}/mail.log", errors="replace").read()
    used_msgids = set()
    for rec in recs:
        case = rec["case"]
        kind = rec["kind"]
        is_bulk = "-B" in case
        entry = dict(case=case, phase=rec.get("phase"), kind=kind, desc=rec.get("desc"),
                     sender=rec.get("sender"), t_submit=rec.get("t_submit"))
        if kind == "raw":
            key = case.split("-")[-1]
            pat = rec.get("log_regex") or raw_patterns.get(key)
            n = len(re.findall(pat, logtext)) if pat else None
            if rec.get("log_regex"):
                hits = ev_find(rec["log_regex"], None, rec.get("t_start") or rec.get("t_submit"))
                entry.update(line_class=rec.get("line_class"), observed_line=hits[0][1] if hits else None)
            entry.update(expect_log=rec.get("expect_log"), log_regex=pat, log_matches_total=n,
                         transcript=rec.get("transcript"), check="ok" if (n or 0) >= 1 else "MISSING")
            if entry["check"] != "ok":
                mismatches.append(dict(case=case, problem="expected log line not found", regex=pat))
            cases.append(entry)
            continue
        if kind == "smtp-source":
            if rec["expect_outcome"] == "bounced" and rec.get("sender"):
                ndr_expected += rec["messages"]
            entry.update(messages=rec["messages"], rcpts_per_msg=rec["rcpts_per_msg"],
                         recipient_pattern=rec["recipient"], expect_outcome=rec["expect_outcome"])
            subj = rec["desc"].split("-S ")[1].split(" -R")[0]
            qids = [q for q, m in msgs.items() if m.subject == subj and m.origin and m.origin.endswith("smtpd")]
            obs = collections.Counter()
            for q in qids:
                for f in final_states(msgs, q, fq):
                    obs[norm_outcome(f["status"])] += 1
            entry.update(observed_messages=len(qids), observed_recipient_outcomes=dict(obs),
                         expected_recipient_outcomes={rec["expect_outcome"]: rec["messages"] * rec["rcpts_per_msg"]})
            entry["check"] = "ok" if (len(qids) == rec["messages"] and
                                      obs.get(rec["expect_outcome"], 0) == rec["messages"] * rec["rcpts_per_msg"]) else "MISMATCH"
            if entry["check"] != "ok":
                mismatches.append(dict(case=case, problem="smtp-source counts differ", observed=dict(obs),
                                       observed_messages=len(qids)))
            cases.append(entry)
            continue
        # smtp / pickup / verify
        qid = rec.get("qid")
        if kind == "pickup" and rec.get("msgid"):
            cand = by_msgid.get(rec["msgid"], [])
            # first QID carrying this Message-ID that came in via pickup
            cand = [q for q in cand if msgs[q].origin and msgs[q].origin.endswith("pickup")]
            qid = cand[0] if cand else None
        if qid is None and kind == "pickup":
            # e.g. a message rejected by cleanup before its message-id= line: take the QID from the evidence
            for r in rec["rcpts"]:
                for rx in r.get("evidence") or []:
                    if "{qid}" in rx:
                        hits = ev_find(rx, None, rec.get("t_start") or rec.get("t_submit"))
                        if hits and hits[0][0]:
                            qid = cur_key(hits[0][0])
                            break
                if qid:
                    break
        entry.update(qid=qid, msgid=rec.get("msgid"), client_ip=rec.get("client_ip"), port=rec.get("port"),
                     subject=rec.get("subject"), data_reply=rec.get("data_reply"), note=rec.get("note"))
        fs = final_states(msgs, qid, fq) if qid else []
        entry["qid_chain"] = chain(msgs, qid) if qid else []
        if qid and qid in msgs:
            m = msgs[qid]
            entry["notifications"] = [dict(kind=k, qid=n) for k, n in m.notifications]
        rcpt_out = []
        for r in rec["rcpts"]:
            for exp in r.get("expect", []):
                addr, outcome, dsn, via = exp
                o = dict(rcpt=r["addr"], final_rcpt=addr, expect=outcome, expect_dsn=dsn, via=via,
                         smtp_rcpt_reply=r.get("rcpt_reply"))
                dr = rec.get("data_reply") or ""
                if outcome == "rejected" and dr and not dr.startswith("250") and (r.get("rcpt_reply") or "").startswith("250"):
                    # rejected after RCPT: DATA / END-OF-MESSAGE restriction or cleanup header/body/size check.
                    # Expected DSN: from the configuration where the driver recorded it, else the SMTP reply.
                    if not dsn:
                        dsn = (dr.split() + ["", ""])[1]
                        o["expect_dsn"] = dsn
                        o["expect_dsn_source"] = "SMTP reply seen by the client"
                    snd = rec.get("sender") or ""
                    cip = rec.get("client_ip") or "127.0.0.1"
                    ev = None
                    for q2, m2 in msgs.items():
                        for act, txt in m2.cleanup:
                            if act == "reject" and f"to=<{r['addr']}>" in txt and f"from=<{snd}>" in txt and f"[{cip}]" in txt:
                                dm2 = re.search(r": (\d\.\d\.\d+) [^:]*$", txt)
                                ev = ("cleanup " + txt.split(" ")[0], dm2.group(1) if dm2 else "", q2)
                        for act, stage, body in m2.smtpd_actions:
                            if (act == "reject" and stage in ("DATA", "END-OF-MESSAGE") and f"from=<{snd}>" in body
                                    and f"[{cip}]" in body and (f"to=<{r['addr']}>" in body or " to=<" not in body)):
                                dm2 = re.search(r": \d{3} (\d\.\d\.\d+) ", body)
                                ev = ("smtpd " + stage, dm2.group(1) if dm2 else "", q2)
                    if ev is None and "too big" in dr and "queue file size limit exceeded" in logtext:
                        ev = ("smtpd warning: queue file size limit exceeded (no reject line)", (dr.split() + ["", ""])[1], None)
                    if ev:
                        o.update(observed="rejected", observed_stage=ev[0], observed_dsn=ev[1], observed_qid=ev[2])
                    else:
                        o.update(observed="(no log evidence)")
                elif outcome == "rejected":
                    hits = find_rejects(r["addr"], rec.get("sender"), rec.get("client_ip") or "127.0.0.1", via)
                    ill = [x for x in illegal if x["addr"] == r["addr"]]
                    if ill and not hits:
                        o.update(observed="rejected", observed_stage="RCPT (logged as 'warning: Illegal address syntax')",
                                 observed_dsn=(r.get("rcpt_reply") or " ").split()[1])
                    elif hits:
                        o.update(observed="rejected", observed_dsn=hits[0]["reply"].split()[1] if len(hits[0]["reply"].split()) > 1 else "",
                                 observed_stage=hits[0]["stage"], observed_qid=hits[0]["qid"])
                    elif rec.get("data_reply") and not rec["data_reply"].startswith("250"):
                        o.update(observed="rejected", observed_stage="DATA/END-OF-MESSAGE(cleanup or smtpd)",
                                 observed_dsn=(rec["data_reply"].split() + ["", ""])[1])
                    elif rec.get("mail_reply") and not rec["mail_reply"].startswith("250"):
                        o.update(observed="rejected", observed_stage="MAIL/CONNECT",
                                 observed_dsn=(rec["mail_reply"].split() + ["", ""])[1])
                    elif r.get("rcpt_reply") is None and rec.get("error"):
                        o.update(observed="rejected", observed_stage="CONNECT", observed_dsn="5.7.1")
                    else:
                        o.update(observed="(no reject line)")
                elif kind == "verify":
                    hits = [d for q2, m2 in msgs.items() for d in m2.deliv
                            if d["to"].lower() == addr.lower() and d["status"] == outcome]
                    o.update(observed=outcome if hits else "(missing)", observed_dsn=hits[0]["dsn"] if hits else "",
                             observed_qid=[q2 for q2, m2 in msgs.items() for d in m2.deliv
                                           if d["to"].lower() == addr.lower() and d["status"] in ("deliverable", "undeliverable")][:2])
                else:
                    cand = [f for f in fs if f["to"].lower() == addr.lower()]
                    if len(cand) > 1:
                        c2 = [f for f in cand if (f["orig_to"] or "").lower() == r["addr"].lower()]
                        cand = c2 or cand
                    if not cand:
                        cand = [f for f in fs if f["to"] == "*"]
                    if cand:
                        f = cand[0]
                        st = norm_outcome(f["status"])
                        if st == "sent" and f["daemon"] and f["daemon"].endswith("discard"):
                            st = "discarded"
                        o.update(observed=st, observed_dsn=f["dsn"], observed_qid=f["qid"],
                                 observed_relay=f["relay"], observed_text=f["text"])
                    else:
                        o.update(observed="(not found)")
                ok = o.get("observed") == outcome and (not dsn or not o.get("observed_dsn") or
                                                       o["observed_dsn"].startswith(dsn) or outcome in ("rejected",))
                # rejected: compare DSN too when we have it
                if outcome == "rejected" and dsn and o.get("observed_dsn") and not o["observed_dsn"].startswith(dsn):
                    ok = False
                if r.get("evidence") is not None:
                    # second corpus: every evidence regex must match a line at/after submission
                    evs = []
                    for rx in r["evidence"]:
                        hits = ev_find(rx, qid, rec.get("t_start") or rec.get("t_submit"))
                        evs.append(dict(regex=rx, matches=len(hits), first=hits[0][1] if hits else None))
                    allm = all(x["matches"] for x in evs)
                    o.update(line_class=r.get("line_class"), evidence=evs)
                    if r.get("attempt_error"):   # the driver records it as a regex; keep both forms
                        o["attempt_error"] = re.sub(r"\\(.)", r"\1", r["attempt_error"])
                        o["attempt_error_regex"] = r["attempt_error"]
                    obs_q = sorted({q for rx in r["evidence"] for q, _ in ev_find(rx, qid, rec.get("t_start") or rec.get("t_submit"))[:1] if q})
                    if obs_q:
                        o["observed_qids"] = obs_q
                    if outcome in ("rejected", "deleted") or (outcome == "discarded" and not qid):
                        if allm:
                            dm3 = re.search(r"(?:\b[245]\d\d |dsn=|: )([245]\.\d\.\d{1,3})\b", evs[0]["first"] or "")
                            o.update(observed=outcome, observed_dsn=(dm3.group(1) if dm3 else "") or o.get("observed_dsn") or "")
                            ok = not dsn or not o["observed_dsn"] or o["observed_dsn"].startswith(dsn)
                        else:
                            o["observed"] = "(evidence missing)"
                            ok = False
                    else:
                        ok = ok and allm
                    if not ok:
                        mismatches.append(dict(case=case, rcpt=addr, problem="evidence/outcome",
                                               evidence=[(x["regex"], x["matches"]) for x in evs], observed=o.get("observed")))
                o["check"] = "ok" if ok else "MISMATCH"
                if not ok:
                    mismatches.append(dict(case=case, rcpt=addr, expect=outcome, expect_dsn=dsn,
                                           observed=o.get("observed"), observed_dsn=o.get("observed_dsn"),
                                           qid=qid))
                rcpt_out.append(o)
                if is_bulk:
                    bulk_stats[outcome] += 1
                    bulk_obs[o.get("observed")] += 1
        entry["recipients"] = rcpt_out
        # derived notification expectations (non-null sender, message accepted)
        if qid and rec.get("sender") and kind in ("smtp", "pickup"):
            outs = [o["expect"] for o in rcpt_out]
            ndr = int("bounced" in outs) + int("expired" in outs)
            dly = int("expired" in outs or "deferred" in outs)
            entry["expected_ndr_count"] = ndr
            entry["expected_delay_notice"] = dly
            ndr_expected += ndr
            delay_expected += dly
        if not is_bulk:
            cases.append(entry)
        else:
            cases.append(entry)

    # global observed counts from the log
    ndr_obs = sum(1 for m in msgs.values() for k, _ in m.notifications if k == "sender non-delivery notification")
    dly_obs = sum(1 for m in msgs.values() for k, _ in m.notifications if k == "sender delay notification")
    dsn_obs = sum(1 for m in msgs.values() for k, _ in m.notifications if k == "sender delivery status notification")
    pm_obs = sum(1 for m in msgs.values() for k, _ in m.notifications if k == "postmaster non-delivery notification")
    status_counts = collections.Counter(d["status"] for m in msgs.values() for d in m.deliv)
    daemon_counts = collections.Counter(d["daemon"] for m in msgs.values() for d in m.deliv)
    summary = dict(
        log_lines=nlines,
        queue_ids_in_log=len(msgs),
        queue_id_reuse=sorted(set(reused)),
        queue_ids_short=sum(1 for q in msgs if re.fullmatch(r"[0-9A-F]+", q)),
        queue_ids_long=sum(1 for q in msgs if not re.fullmatch(r"[0-9A-F]+", q)),
        messages_received_smtpd=sum(1 for m in msgs.values() if m.origin and m.origin.endswith("smtpd")),
        messages_received_pickup=sum(1 for m in msgs.values() if m.origin and m.origin.endswith("pickup")),
        messages_expired=sum(1 for m in msgs.values() if m.expired),
        delivery_status_lines=dict(status_counts),
        delivery_lines_by_daemon=dict(daemon_counts),
        noqueue_lines=len(noqueue),
        noqueue_rejects=sum(1 for r in rejects if r["action"] == "reject" and r["qid"] is None),
        qid_rejects=sum(1 for r in rejects if r["action"] == "reject" and r["qid"] is not None),
        ndr_sender_nondelivery=dict(expected_for_driver_messages=ndr_expected, observed_total=ndr_obs),
        sender_delay_notifications=dict(expected_for_driver_messages=delay_expected, observed_total=dly_obs),
        sender_delivery_status_notifications=dsn_obs,
        postmaster_nondelivery_notifications=pm_obs,
        final_queue=dict(collections.Counter(j.get("queue_name") for j in fq.values())),
        final_queue_ids=sorted(fq.keys()),
        bulk_expected_recipient_outcomes=dict(bulk_stats),
        bulk_observed_recipient_outcomes=dict(bulk_obs),
        mismatch_count=len(mismatches),
    )
    gt = dict(summary=summary, events=events, cases=cases, mismatches=mismatches)
    with open(os.path.join(OUT, "ground_truth.json"), "w") as f:
        json.dump(gt, f, indent=1)
    print(json.dumps(summary, indent=1))
    print("mismatches:", len(mismatches))
    for mm in mismatches[:40]:
        print("  ", mm)


if __name__ == "__main__":
    main()
