#!/usr/bin/python3
"""Build ground_truth.json and GROUND_TRUTH.md for the verdicts corpus.

For every message the driver sent ($RUN/records.jsonl, copied to run/records.jsonl):
  1. find it in mail.log: its queue IDs (the smtpd one, then amavis' re-injection), its smtpd
     session, its outcome;
  2. read what each program logged about it (the verdict lines, by queue ID, and for the SPF
     policy servers, which log no queue ID, by content inside the smtpd session);
  3. compare with what the program had to decide by its configuration (the driver's "expected");
  4. cross-check with the headers the programs added to the delivered copy (mailboxes).
The truth recorded is the program's actual decision as logged; where the configuration says
otherwise, or the headers disagree, that is listed under findings.

usage: groundtruth.py OUTDIR   (reads OUTDIR/mail.log, OUTDIR/run/records.jsonl, $RUN/mailboxes)
"""
import collections, json, mailbox, os, re, sys, urllib.parse

OUT = sys.argv[1]
RUN = os.environ.get("RUN", "/tmp/pfverdicts")
LINE_RE = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\[:]+)(?:\[(\d+)\])?: (.*)$")
Q = r"[0-9A-F]{8,12}"


def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


lines = open(os.path.join(OUT, "mail.log"), encoding="utf-8", errors="replace").read().splitlines()
L = []      # (lineno, ts, prog, pid, text)
for i, ln in enumerate(lines, 1):
    m = LINE_RE.match(ln)
    if m:
        L.append((i, m.group(1), m.group(3), m.group(4), m.group(5)))

by_qid = collections.defaultdict(list)      # qid -> [entries]   (lines that start with QID: / name it)
msgid_of = {}                               # qid -> message-id (cleanup)
qids_of_msgid = collections.defaultdict(list)
child_of = {}                               # qid1 -> qid2 (re-injection)
parent_of = {}
for e in L:
    i, ts, prog, pid, text = e
    m = re.match(rf"^({Q}): ", text)
    if m:
        by_qid[m.group(1)].append(e)
    for rx in (rf"Queue-ID: ({Q}),", rf"qid: <({Q})>", rf"^(?:Clean message|Message) ({Q}) from"):
        mm = re.search(rx, text)
        if mm and not (m and m.group(1) == mm.group(1)):
            by_qid[mm.group(1)].append(e)
    if prog == "postfix/cleanup":
        mm = re.match(rf"^({Q}): message-id=(<[^>]*>)", text)
        if mm:
            msgid_of[mm.group(1)] = mm.group(2)
            qids_of_msgid[mm.group(2)].append(mm.group(1))
    mm = re.match(rf"^({Q}): client=.*, orig_queue_id=({Q}),", text)
    if mm:
        child_of[mm.group(2)] = mm.group(1)
        parent_of[mm.group(1)] = mm.group(2)

# smtpd sessions: (prog, pid) -> list of [start_index, end_index] over L positions
sessions = []
open_s = {}
for pos, (i, ts, prog, pid, text) in enumerate(L):
    if not prog.endswith("smtpd"):
        continue
    if text.startswith("connect from "):
        open_s[(prog, pid)] = [pos, None, prog, pid, text[len("connect from "):]]
        sessions.append(open_s[(prog, pid)])
    elif text.startswith("disconnect from ") and (prog, pid) in open_s:
        open_s.pop((prog, pid))[1] = pos
for s in sessions:
    if s[1] is None:
        s[1] = len(L) - 1

# ------------------------------------------------------------------------------------------
# verdict extraction
# ------------------------------------------------------------------------------------------
def V(program, kind, result, domain=None, score=None, detail=None, line=None, queue_id=None):
    return {"program": program, "kind": kind, "result": result, "domain": domain, "score": score,
            "detail": detail, "logged": True, "line": line, "queue_id": queue_id}


def spf_from_line(e):
    i, ts, prog, pid, text = e
    if prog == "policyd-spf":
        m = re.match(r"^(\S*): prepend Received-SPF: (\w+) \(([^)]*)\) identity=(\w+); client-ip=(\S+); "
                     r"helo=(\S*); envelope-from=(\S*); receiver=(\S+)", text)
        if m:
            ident = m.group(4)
            dom = m.group(7).rsplit("@", 1)[1] if ident == "mailfrom" else m.group(6)
            return V(prog, "spf", m.group(2).lower(), dom, detail=f"identity={ident}", line=i,
                     queue_id=m.group(1) or None), {"ip": m.group(5), "helo": m.group(6), "from": m.group(7)}
        m = re.match(r"^(\S*): 550 5\.7\.23 Message rejected due to: SPF fail - not authorized\. Please see "
                     r"\S+\?s=(\w+);id=([^;]+);ip=([^;]+);r=", text)
        if m:
            ident = "mailfrom" if m.group(2) == "mfrom" else m.group(2)
            idv = urllib.parse.unquote(m.group(3))
            dom = idv.rsplit("@", 1)[1] if ident == "mailfrom" else idv
            return V(prog, "spf", "fail", dom, detail=f"identity={ident}; rejected", line=i,
                     queue_id=m.group(1) or None), {"ip": m.group(4), "helo": None if ident == "mailfrom" else idv,
                                                    "from": idv if ident == "mailfrom" else None}
    if prog == "postfix/policy-spf":
        m = re.match(r"^Policy action=PREPEND Received-SPF: (\w+) \((.*)\) receiver=\S+; identity=(\w+); "
                     r"(?:envelope-from=\"([^\"]*)\"; )?helo=(\S*); client-ip=(\S+)$", text)
        if m:
            ident = m.group(3)
            dom = m.group(4).rsplit("@", 1)[1] if ident == "mailfrom" else m.group(5)
            return V(prog, "spf", m.group(1).lower(), dom, detail=f"identity={ident}", line=i), \
                {"ip": m.group(6), "helo": m.group(5), "from": m.group(4) or ""}
        m = re.match(r"^Policy action=550 Please see \S+\?s=(\w+);id=([^;]+);ip=([^;]+);r=", text)
        if m:
            ident = "mailfrom" if m.group(1) == "mfrom" else m.group(1)
            idv = urllib.parse.unquote(m.group(2))
            dom = idv.rsplit("@", 1)[1] if ident == "mailfrom" else idv
            return V(prog, "spf", "fail", dom, detail=f"identity={ident}; rejected", line=i), \
                {"ip": m.group(3), "from": idv if ident == "mailfrom" else None}
        m = re.match(r"^Policy action=DEFER_IF_PERMIT SPF-Result=([^:]+): (.*)$", text)
        if m:
            return V(prog, "spf", "temperror", m.group(1), detail="deferred: " + m.group(2), line=i), \
                {"domain": m.group(1)}
    return None, None


DKIM_RESULT = {"no signature error": "pass", "signature verification failed": "fail",
               "key not found in DNS": "fail", "key DNS query failed": "error"}


def milter_verdicts(qid):
    out = []
    for (i, ts, prog, pid, text) in by_qid.get(qid, []):
        if prog == "opendkim":
            m = re.match(rf"^{qid}: DKIM-Signature field added \(s=(\S+), d=(\S+)\)$", text)
            if m:
                out.append(V(prog, "dkim", "signed", m.group(2), detail=f"s={m.group(1)}", line=i, queue_id=qid))
            for m in re.finditer(r"signature=(\S+) domain=(\S+) selector=(\S+) result=\"([^\"]*)\"", text):
                res = DKIM_RESULT.get(m.group(4), "error")
                det = f"s={m.group(3)}" + ("" if res == "pass" else f"; {m.group(4)}")
                out.append(V(prog, "dkim", res, m.group(2), detail=det, line=i, queue_id=qid))
        elif prog == "opendmarc":
            m = re.match(rf"^{qid}: (\S+) (\w+)$", text)
            if m:
                out.append(V(prog, "dmarc", m.group(2), m.group(1), line=i, queue_id=qid))
        elif prog == "amavis":
            m = re.match(r"^\(\S+\) (Passed|Blocked) ([A-Z]+(?:-[A-Z]+)?)(?:-\d+)? (?:\((.*?)\) )?\{", text)
            if m and f"Queue-ID: {qid}," in text:
                act, cat, why = m.group(1), m.group(2), m.group(3)
                hits = re.search(r"Hits: (\S+),", text)
                score = num(hits.group(1)) if hits else None
                if cat == "INFECTED":
                    out.append(V(prog, "virus", "infected", detail=why, line=i, queue_id=qid))
                else:
                    spam = {"CLEAN": "clean", "SPAMMY": "spammy", "SPAM": "spam", "BAD-HEADER": "bad-header",
                            "BANNED": "banned"}.get(cat, cat.lower())
                    out.append(V(prog, "spam", spam, score=score,
                                 detail=f"{act} {cat}" + (f" ({why})" if why else ""), line=i, queue_id=qid))
                    out.append(V(prog, "virus", "clean", detail=f"{act} {cat}", line=i, queue_id=qid))
        elif prog == "clamav-milter":
            if re.match(rf"^Clean message {qid} from", text):
                out.append(V(prog, "virus", "clean", line=i, queue_id=qid))
            m = re.match(rf"^Message {qid} from .* infected by (\S+)$", text)
            if m:
                out.append(V(prog, "virus", "infected", detail=m.group(1), line=i, queue_id=qid))
        elif prog == "rspamd" and "rspamd_task_write_log" in text:
            m = re.search(r"\(default: (\w) \(([^)]*)\): \[([-\d.]+)/([-\d.]+)\]", text)
            if m:
                act = m.group(2)
                res = {"no action": "clean", "greylist": "clean", "add header": "spammy",
                       "rewrite subject": "spammy", "soft reject": "spammy", "reject": "spam"}.get(act, act)
                out.append(V(prog, "spam", res, score=num(m.group(3)), detail=act, line=i, queue_id=qid))
    return out


# ------------------------------------------------------------------------------------------
# mailboxes: headers the programs added (cross-check)
# ------------------------------------------------------------------------------------------
delivered = collections.defaultdict(list)     # recipient address (with extension) -> [message]
mbdir = os.path.join(RUN, "mailboxes")
if os.path.isdir(mbdir):
    for u in os.listdir(mbdir):
        for msg in mailbox.mbox(os.path.join(mbdir, u)):
            to = (msg.get("Delivered-To") or msg.get("X-Original-To") or "").strip().lower()
            delivered[to].append(msg)


def header_evidence(msg):
    ev = {}
    ars = [re.sub(r"\s+", " ", str(a)) for a in (msg.get_all("Authentication-Results") or [])]
    ev["authentication_results"] = ars
    ev["received_spf"] = [re.sub(r"\s+", " ", str(h)) for h in (msg.get_all("Received-SPF") or [])]
    for h in ("X-Spam-Flag", "X-Spam-Score", "X-Spam-Level", "X-Spam-Status", "X-Virus-Scanned",
              "X-Virus-Status", "X-Spamd-Result", "X-Rspamd-Action", "X-Spam"):
        if msg.get(h) is not None:
            ev[h] = re.sub(r"\s+", " ", str(msg.get(h)))
    return ev


def crosscheck_headers(truth, ev):
    """compare dkim/dmarc/spf verdicts with the A-R / Received-SPF headers; return findings"""
    f = []
    ar = " ".join(ev.get("authentication_results", []))
    for v in truth:
        if v["kind"] == "dkim" and v["result"] in ("pass", "fail", "error") and v["domain"]:
            got = None
            for seg in ar.split("dkim=")[1:]:
                mm = re.match(r"(\w+)\b.*?header\.d=(\S+?);?\s", seg + " ")
                if mm and mm.group(2) == v["domain"]:
                    got = mm.group(1)
                    break
            want = {"error": "temperror"}.get(v["result"], v["result"])
            if got != want:
                f.append(f"dkim {v['domain']}: log says {v['result']}, Authentication-Results says {got}")
        if v["kind"] == "dkim" and v["result"] == "none":
            if "dkim=none" not in ar:
                f.append("dkim none: no 'dkim=none' in Authentication-Results")
        if v["kind"] == "dmarc":
            m = re.search(r"dmarc=(\w+) \(p=(\w+)", ar)
            if not m or m.group(1) != v["result"]:
                f.append(f"dmarc: log says {v['result']}, Authentication-Results says {m.group(1) if m else None}")
            elif m:
                v["detail"] = f"p={m.group(2)}"
        if v["kind"] == "spf" and ev.get("received_spf"):
            got = ev["received_spf"][0].split()[0].lower()
            if got != v["result"]:
                f.append(f"spf: log says {v['result']}, Received-SPF says {got}")
    return f


# ------------------------------------------------------------------------------------------
records = [json.loads(l) for l in open(os.path.join(OUT, "run", "records.jsonl"))]
claimed = set()
messages, findings = [], []
for rec in records:
    cid = rec["case"]
    q1 = rec.get("queue_id_reply")
    if not q1:
        cands = [q for q in qids_of_msgid.get(rec["message_id"], []) if q not in parent_of and q not in claimed]
        # the message must have come from this case's client and carry its recipients
        for q in cands:
            txt = " ".join(e[4] for e in by_qid[q])
            if any(f"to=<{r}>" in txt for r in rec["rcpts"]):
                q1 = q
                break
    if q1:
        claimed.add(q1)
    chain = [q for q in [q1, child_of.get(q1)] if q]

    # smtpd session of this message
    sess = None
    if q1:
        for s in sessions:
            if any(L[p][4].startswith(f"{q1}: client=") for p in range(s[0], s[1] + 1)
                   if L[p][2] == s[2] and L[p][3] == s[3]):
                sess = s
                break
    else:
        for s in sessions:
            if s[2].endswith("smtpd") and "reinject" not in s[2] and any(
                    L[p][2] == s[2] and L[p][3] == s[3] and L[p][4].startswith("NOQUEUE: reject: RCPT")
                    and f"to=<{rec['rcpts'][0]}>" in L[p][4] for p in range(s[0], s[1] + 1)):
                sess = s
                break

    logged = []
    # SPF: no queue ID on these lines (the python server prints an empty one before the first accepted RCPT)
    if sess:
        end = sess[1]
        for p in range(sess[0], sess[1] + 1):  # the policy lookup happens before "QID: client=" / the reject
            if L[p][2] == sess[2] and L[p][3] == sess[3] and (
                    L[p][4].startswith(f"{q1}: client=") if q1 else L[p][4].startswith("NOQUEUE: reject: RCPT")):
                end = p
                break
        for p in range(sess[0], end + 1):
            v, key = spf_from_line(L[p])
            if not v:
                continue
            ok = key.get("ip", rec["client_ip"]) == rec["client_ip"]
            if "from" in key and key["from"] is not None:
                ok = ok and (key["from"] in (rec["mail_from"], "<>" if rec["mail_from"] == "" else None)
                             or (rec["mail_from"] == "" and key["from"] in ("", "<>")))
            if "domain" in key:
                ok = ok and rec["mail_from"].endswith("@" + key["domain"])
            if ok and not any(x["line"] == v["line"] for m2 in messages for x in m2["verdicts"]):
                logged.append(v)
                break
    for q in chain:
        logged += milter_verdicts(q)

    # outcome from the log
    outcome, outcome_lines = None, []
    txt_all = [(e[0], e[2], e[4]) for q in chain for e in by_qid[q]]
    if not q1 and sess:
        rej = [L[p] for p in range(sess[0], sess[1] + 1) if L[p][2] == sess[2] and L[p][3] == sess[3]
               and L[p][4].startswith("NOQUEUE: reject: RCPT")]
        if rej:
            code = re.search(r": (\d)\d\d ", rej[0][4]).group(1)
            outcome = "rejected" if code == "5" else "tempfailed"
            outcome_lines = [r[0] for r in rej]
    for (i, prog, t) in txt_all:
        if "milter-reject: END-OF-MESSAGE" in t:
            outcome = "rejected" if re.search(r": 5\.\d+\.\d+ ", t) else "tempfailed"
            outcome_lines.append(i)
        elif "milter-hold: END-OF-MESSAGE" in t:
            outcome = "held"
            outcome_lines.append(i)
    if outcome is None and chain:
        last = chain[-1]
        st = [(i, t) for (i, prog, t) in txt_all if t.startswith(f"{last}: to=<") and "status=" in t]
        if any("discarded, id=" in t for i, t in st):
            outcome = "discarded"
        elif st and all("status=sent" in t and "relay=local" in t for i, t in st):
            outcome = "delivered"
        elif st and all("status=sent" in t for i, t in st):
            outcome = "sent"
        elif st:
            outcome = "other"
        outcome_lines = [i for i, t in st]
    if outcome is None:
        d = rec["smtp"].get("data")
        if d and str(d[0]).startswith("4"):
            outcome = "tempfailed"

    # compare with the configuration's expectation
    exp = rec["expected"]["verdicts"]
    used = set()
    truth, mfind = [], []
    for e in exp:
        match = None
        for k, l in enumerate(logged):
            if k in used:
                continue
            if l["program"] == e["program"] and l["kind"] == e["kind"] and \
                    (l["domain"] or None) == (e["domain"] or None):
                match = k
                break
        if match is None and e["logged"]:
            for k, l in enumerate(logged):   # same program/kind, other domain
                if k not in used and l["program"] == e["program"] and l["kind"] == e["kind"]:
                    match = k
                    break
        if not e["logged"]:
            if match is not None:
                mfind.append(f"{e['program']} {e['kind']}: expected no log line, but logged {logged[match]['result']}")
            t = dict(e)
            t.update(line=None, queue_id=None)
            truth.append(t)
            if match is not None:
                used.add(match)
            continue
        if match is None:
            mfind.append(f"{e['program']} {e['kind']} {e['result']} {e['domain']}: expected by the configuration, "
                         f"nothing logged")
            t = dict(e)
            t.update(logged=False, line=None, queue_id=None)
            truth.append(t)
            continue
        used.add(match)
        l = dict(logged[match])
        if l["result"] != e["result"] or (l["domain"] or None) != (e["domain"] or None):
            mfind.append(f"{e['program']} {e['kind']}: the configuration says {e['result']} ({e['domain']}), "
                         f"the program logged {l['result']} ({l['domain']})")
            l["expected_by_config"] = {"result": e["result"], "domain": e["domain"]}
        if e.get("detail") and not l.get("detail"):
            l["detail"] = e["detail"]
        if e.get("score") != "from-log" and e.get("score") is not None:
            l["score"] = e["score"]
        truth.append(l)
    for k, l in enumerate(logged):
        if k not in used:
            mfind.append(f"{l['program']} {l['kind']} {l['result']} {l['domain']}: logged, not expected")
            truth.append(l)
    if outcome != rec["expected"]["outcome"]:
        mfind.append(f"outcome: expected {rec['expected']['outcome']}, log shows {outcome}")

    # amavis: is the category consistent with the score and the thresholds (tag2 5.0, kill 10.0)?
    for v in truth:
        if v["program"] == "amavis" and v["kind"] == "spam" and v["score"] is not None and \
                v["result"] in ("clean", "spammy", "spam"):
            s = v["score"]
            want = "spam" if s >= 10 else "spammy" if s >= 5 else "clean"
            if want != v["result"]:
                mfind.append(f"amavis: score {s} is {want} by the thresholds, logged {v['result']}")

    # headers of the delivered copies
    hdr = {}
    for r in rec["rcpts"]:
        got = delivered.get(r.lower(), [])
        got = [g for g in got if (g.get("Message-ID") or "").strip() == rec["message_id"]]
        if got:
            hdr[r] = header_evidence(got[-1])
    if hdr:
        first = next(iter(hdr.values()))
        mfind += ["headers: " + x for x in crosscheck_headers(truth, first)]

    msg = {
        "case": cid, "port": rec["port"], "client_ip": rec["client_ip"], "helo": rec["helo"],
        "mail_from": rec["mail_from"], "from_header": rec.get("from_header"), "rcpts": rec["rcpts"],
        "message_id": rec["message_id"], "subject": rec["subject"],
        "dkim_signatures_sent": rec.get("dkim_signatures"), "tampered_after_signing": rec.get("tampered_after_signing"),
        "attachment": rec.get("attachment"),
        "queue_ids": chain,
        "queue_id_hops": ([{"queue_id": chain[0], "role": "smtpd (first hop)"}] if chain else []) +
                         ([{"queue_id": chain[1], "role": "amavis re-injection (127.0.0.1:10025)", "parent": chain[0]}]
                          if len(chain) > 1 else []),
        "smtpd_session_lines": [L[sess[0]][0], L[sess[1]][0]] if sess else None,
        "smtp_reply": rec["smtp"].get("data") or (rec["smtp"].get("rcpt") or [None])[-1],
        "outcome": outcome, "outcome_lines": outcome_lines,
        "verdicts": truth,
        "headers": hdr,
        "notes": rec.get("notes", ""),
        "findings": mfind,
    }
    messages.append(msg)
    for x in mfind:
        findings.append(f"{cid}: {x}")

# ------------------------------------------------------------------------------------------
count = collections.Counter()
count_logged = collections.Counter()
for m in messages:
    for v in m["verdicts"]:
        count[f"{v['kind']}={v['result']}"] += 1
        if v["logged"]:
            count_logged[f"{v['kind']}={v['result']}"] += 1
nverd = sum(len(m["verdicts"]) for m in messages)
nlogged = sum(1 for m in messages for v in m["verdicts"] if v["logged"])
summary = {
    "messages": len(messages),
    "messages_with_queue_id": sum(1 for m in messages if m["queue_ids"]),
    "queue_ids": sum(len(m["queue_ids"]) for m in messages),
    "verdicts": nverd, "verdicts_logged": nlogged, "verdicts_not_logged": nverd - nlogged,
    "by_kind_result_logged": dict(sorted(count_logged.items())),
    "by_kind_result_all": dict(sorted(count.items())),
    "outcomes": dict(collections.Counter(m["outcome"] for m in messages)),
    "findings": len(findings),
    "log_lines": len(lines),
    "year": int(records[0]["t_submit"][:4]) if records else None,
    "first_line": lines[0][:15] if lines else None, "last_line": lines[-1][:15] if lines else None,
}
doc = {
    "about": "pfi verdicts corpus ground truth (issue 17). One entry per message the driver sent. "
             "verdicts[]: program = syslog tag of the line (without PID); kind/result in SPEC vocabulary; "
             "domain = signing/checked domain or SPF identity; score = number the program logged (amavis Hits, "
             "rspamd score) or null; logged=false: decided by the program (visible in the headers it added) "
             "but not written to the log, so no log parser can see it; line = 1-based line in mail.log of "
             "the evidence; queue_id = the queue ID the line names (null for the SPF policy servers). "
             "expected_by_config appears where the program's configuration says otherwise than its log.",
    "summary": summary, "findings": findings, "messages": messages}
json.dump(doc, open(os.path.join(OUT, "ground_truth.json"), "w"), indent=1)

# ------------------------------------------------------------------------------------------
md = ["# Ground truth (generated by tools/groundtruth.py from mail.log, run/records.jsonl and the delivered mailboxes)", ""]
md.append(f"{summary['messages']} messages ({summary['messages_with_queue_id']} with a queue ID, "
          f"{summary['queue_ids']} queue IDs in all), {summary['verdicts']} verdicts "
          f"({summary['verdicts_logged']} logged, {summary['verdicts_not_logged']} not logged), "
          f"{summary['findings']} findings. Outcomes: " +
          ", ".join(f"{k} {v}" for k, v in sorted(summary["outcomes"].items(), key=lambda x: str(x[0]))) + ".")
md += ["", "## Logged verdicts by kind and result", "", "| kind=result | messages-verdicts |", "|---|---:|"]
for k, v in sorted(count_logged.items()):
    md.append(f"| {k} | {v} |")
md += ["", "## Findings (the configuration or the headers disagree with the log)", ""]
md += [f"- {f}" for f in findings] or ["- none"]
md += ["", "## Messages", "",
       "Verdicts: `program kind=result domain [score]`; *italic* = not logged (decided, visible in the "
       "headers, but no log line). Listener: 25 python SPF (rejects Fail) + opendkim + opendmarc + amavis; "
       "2525 perl SPF + same; 2527 python SPF (header only) + same; 2526 clamav-milter; 2528 rspamd; "
       "587 submission (opendkim signs).", "",
       "| case | port | client | queue IDs | outcome | verdicts | notes |", "|---|---|---|---|---|---|---|"]
for m in messages:
    vs = []
    for v in m["verdicts"]:
        s = f"{v['program']} {v['kind']}={v['result']}" + (f" {v['domain']}" if v["domain"] else "") + \
            (f" {v['score']:g}" if isinstance(v["score"], (int, float)) else "")
        vs.append(s if v["logged"] else f"*{s}*")
    note = m["notes"] + ("" if not m["findings"] else (" **finding:** " + "; ".join(m["findings"])))
    md.append(f"| {m['case']} | {m['port']} | {m['client_ip']} | {' → '.join(m['queue_ids']) or 'NOQUEUE'} | "
              f"{m['outcome']} | {'<br>'.join(vs)} | {note.replace('|', '/')} |")
open(os.path.join(OUT, "GROUND_TRUTH.md"), "w").write("\n".join(md) + "\n")
print(json.dumps(summary, indent=1))
for f in findings:
    print("FINDING", f)
