#!/usr/bin/env python3
"""Compare pfi's per-recipient outcomes with a corpus's ground truth.

usage: corpus-check.py PFI_BIN CORPUS_DIR [LOG]

Indexes CORPUS_DIR/LOG (default mail.log) into a temporary index with the
given pfi binary, then looks up every recipient of ground_truth.json:
by its observed queue ID (or the queue IDs whose lines carry the case's
Message-ID or Subject), else (NOQUEUE rejects, -bv probes) by recipient,
status and time, never taking a row of another client or sender.  A
recipient pfi gets wrong is a mismatch unless no line of its case names
it (Postfix names no recipient when it rejects at CONNECT, HELO, MAIL or
DATA) or its fate was an action Postfix does not log (a maildrop file
removed by hand): those are counted apart.  Exits 1 on any mismatch. Developer tool: the corpus is
not part of the repository, so the test suite does not run this.
"""
import collections
import datetime
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile


def us(iso):
    t = datetime.datetime.fromisoformat(iso).replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000000)


def lookup_queued(db, rcpt, qids):
    rows = []
    for qid in qids:
        rows += db.execute(
            "SELECT d.status, coalesce(d.dsn, '') FROM deliveries d"
            " JOIN messages m ON m.id = d.message"
            " WHERE m.queue_id = ? AND d.recipient = ?",
            (qid, rcpt["final_rcpt"])).fetchall()
    return rows


def lookup_unqueued(db, case, rcpt, used):
    """Rows without a queue ID; each row answers one recipient only, and
    a row of another client or sender answers none of the case's."""
    t = us(case["t_submit"])
    # A reject answers the SMTP command at once; other outcomes may come
    # later, within the corpus' queue lifetime.
    late = 15000000 if rcpt["expect"] == "rejected" else 120000000
    rows = db.execute(
        "SELECT d.id, d.status, coalesce(d.dsn, ''), d.line,"
        " coalesce(d.client_ip, m.client_ip, ''),"
        " coalesce(d.sender, m.sender, '') FROM deliveries d"
        " LEFT JOIN messages m ON m.id = d.message"
        " WHERE d.recipient = ? AND d.status = ? AND d.time BETWEEN ? AND ?"
        " ORDER BY d.time", (rcpt["final_rcpt"], rcpt["expect"],
                            t - 5000000, t + late)).fetchall()
    def other_case(row):
        return any(row[i] and case.get(k) and row[i] != case[k]
                   for i, k in ((3, "client_ip"), (4, "sender")))
    for rid, status, dsn, line, ip, sender in rows:
        if rid not in used and not other_case((rid, status, dsn, ip, sender)):
            used.add(rid)
            if line:
                used.add(("line", line - 1))
            return [(status, dsn)]
    return []


class Log:
    """The corpus log's lines with their times, for named_in_log."""
    def __init__(self, path):
        self.lines, self.by_qid = [], {}
        with open(path, encoding="utf-8", errors="replace") as f:
            for text in f:
                self.lines.append((stamp_us(text), text))

    def index_qids(self, qids):
        for q in qids:
            if q not in self.by_qid:
                self.by_qid[q] = [t for _, t in self.lines if q in t]


def stamp_us(text):
    """Microseconds of a classic or RFC 3339 stamp (UTC, as the corpus)."""
    try:
        if text[:1].isdigit():
            return us(text.split(" ", 1)[0][:19])
        t = datetime.datetime.strptime(text[:15], "%b %d %H:%M:%S")
        return us(t.replace(year=2026).isoformat())
    except ValueError:
        return 0


def qids_of(rcpt):
    qids = rcpt.get("observed_qid") or []
    return qids if isinstance(qids, list) else [qids]


def silent_fates(truth):
    """Cases whose end the driver made without Postfix logging it: a
    maildrop file removed by hand (pickup had retried it under a new
    queue ID each time).  The log's last word on them is pfi's answer."""
    cases = set()
    for ev in truth.get("events", []):
        if ev.get("kind") == "maildrop-remove":
            cases.add(ev.get("marker", "").split(" ")[0])
    return cases


def case_qids(log, case):
    """Queue IDs whose lines carry the case's Message-ID or Subject."""
    marks = [m for m in (case.get("msgid"), case.get("subject")) if m]
    qids = set()
    for _, text in log.lines:
        if any(m in text for m in marks):
            m = QID_RE.search(text)
            if m:
                qids.add(m.group(1))
    return sorted(qids)


QID_RE = re.compile(r"\]: (?:warning: )?([0-9A-Za-z]{5,}): ")


def named_in_log(log, case, rcpt, claimed):
    """Whether a line of the case names the recipient: one of its
    evidence lines, a line of one of its queue IDs (observed, or found by
    its Message-ID or Subject), else a line of its time window that also
    carries its sender (or client IP) and no earlier case claimed.
    Postfix names no recipient when it rejects at CONNECT, HELO, MAIL or
    DATA, nor the recipients of a message it never hands to qmgr (held,
    discarded) besides the one the action names."""
    addr = rcpt["final_rcpt"]
    if any(addr in ev["first"] for ev in rcpt.get("evidence", ())):
        return True
    qids = qids_of(rcpt) or case_qids(log, case)
    if qids:
        log.index_qids(qids)
        return any(addr in text for q in qids for text in log.by_qid.get(q, ()))
    t = us(case["t_submit"])
    key = case.get("sender") or case.get("client_ip")
    for i, (when, text) in enumerate(log.lines):
        if ("line", i) not in claimed and t - 5000000 <= when <= t + 15000000 and \
                addr in text and (not key or key in text):
            claimed.add(("line", i))
            return True
    return False


def check(db, case, rcpt, used, log):
    qids = qids_of(rcpt)
    rows = lookup_queued(db, rcpt, qids or case_qids(log, case))
    if not rows and not qids:
        rows = lookup_unqueued(db, case, rcpt, used)
    want = (rcpt["expect"], rcpt.get("expect_dsn") or "")
    if want in rows or (want[1] == "" and any(r[0] == want[0] for r in rows)):
        return None
    return "%s %s %s: want %s (%s), got %s" % (
        case["case"], rcpt.get("observed_qid") or "NOQUEUE",
        rcpt["final_rcpt"], want[0], want[1] or "-", rows or "nothing")


def main():
    pfi, corpus = sys.argv[1], sys.argv[2]
    logname = sys.argv[3] if len(sys.argv) > 3 else "mail.log"
    truth = json.load(open(os.path.join(corpus, "ground_truth.json")))
    with tempfile.TemporaryDirectory() as tmp:
        dbpath = os.path.join(tmp, "index.db")
        subprocess.run([pfi, "--db", dbpath, "index", "--quiet",
                        os.path.join(corpus, logname)], check=True)
        db = sqlite3.connect(dbpath)
        log = Log(os.path.join(corpus, logname))
        tally, bad, used = collections.Counter(), [], set()
        unnamed, failed, unlogged = [], [], []
        silent = silent_fates(truth)
        for case in truth["cases"]:
            for rcpt in case.get("recipients", []):
                err = check(db, case, rcpt, used, log)
                if err:
                    failed.append((case, rcpt, err))
                else:
                    tally[(rcpt["expect"], True)] += 1
        # Lines that answered a recipient (in used) name no other one.
        for case, rcpt, err in failed:
            if case["case"] in silent:
                unlogged.append(err)
                continue
            if not named_in_log(log, case, rcpt, used):
                unnamed.append("%s %s" % (case["case"], rcpt["final_rcpt"]))
                continue
            tally[(rcpt["expect"], False)] += 1
            bad.append(err)
        info = subprocess.run([pfi, "--db", dbpath, "info", "--json"],
                              capture_output=True, text=True).stdout
    for line in bad:
        print("MISMATCH", line)
    for (status, ok), n in sorted(tally.items()):
        print("%-13s %-8s %d" % (status, "ok" if ok else "MISMATCH", n))
    for line in unnamed:
        print("UNNAMED", line)
    for line in unlogged:
        print("UNLOGGED", line)
    print("recipients: %d, mismatches: %d, not named by the log: %d,"
          " fate not logged: %d" % (
              sum(tally.values()) + len(unnamed) + len(unlogged), len(bad),
              len(unnamed), len(unlogged)))
    print("info:", info.strip())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
