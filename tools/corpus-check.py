#!/usr/bin/env python3
"""Compare pfi's per-recipient outcomes with a corpus's ground truth.

usage: corpus-check.py PFI_BIN CORPUS_DIR [LOG]

Indexes CORPUS_DIR/LOG (default mail.log) into a temporary index with the
given pfi binary, then looks up every recipient of ground_truth.json:
by its observed queue ID when it has one, else (NOQUEUE rejects, -bv
probes) by recipient, status and time. Prints each mismatch and a
summary; exits 1 if any recipient differs. Developer tool: the corpus is
not part of the repository, so the test suite does not run this.
"""
import collections
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import tempfile


def us(iso):
    t = datetime.datetime.fromisoformat(iso).replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000000)


def lookup_queued(db, rcpt):
    qids = rcpt["observed_qid"]
    rows = []
    for qid in qids if isinstance(qids, list) else [qids]:
        rows += db.execute(
            "SELECT d.status, coalesce(d.dsn, '') FROM deliveries d"
            " JOIN messages m ON m.id = d.message"
            " WHERE m.queue_id = ? AND d.recipient = ?",
            (qid, rcpt["final_rcpt"])).fetchall()
    return rows


def lookup_unqueued(db, case, rcpt, used):
    """Rows without a queue ID; each row answers one recipient only."""
    t = us(case["t_submit"])
    for rid, status, dsn in db.execute(
            "SELECT id, status, coalesce(dsn, '') FROM deliveries"
            " WHERE recipient = ? AND status = ? AND time BETWEEN ? AND ?"
            " ORDER BY time", (rcpt["final_rcpt"], rcpt["expect"],
                                t - 5000000, t + 120000000)):
        if rid not in used:
            used.add(rid)
            return [(status, dsn)]
    return []


def check(db, case, rcpt, used):
    rows = (lookup_queued(db, rcpt) if rcpt.get("observed_qid")
            else lookup_unqueued(db, case, rcpt, used))
    want = (rcpt["expect"], rcpt.get("expect_dsn") or "")
    if want in rows or (want[1] == "" and any(r[0] == want[0] for r in rows)):
        return None
    return "%s %s %s: want %s (%s), got %s" % (
        case["case"], rcpt.get("observed_qid") or "NOQUEUE",
        rcpt["final_rcpt"], want[0], want[1] or "-", rows or "nothing")


def main():
    pfi, corpus = sys.argv[1], sys.argv[2]
    log = sys.argv[3] if len(sys.argv) > 3 else "mail.log"
    truth = json.load(open(os.path.join(corpus, "ground_truth.json")))
    with tempfile.TemporaryDirectory() as tmp:
        dbpath = os.path.join(tmp, "index.db")
        subprocess.run([pfi, "--db", dbpath, "index", "--quiet",
                        os.path.join(corpus, log)], check=True)
        db = sqlite3.connect(dbpath)
        tally, bad, used = collections.Counter(), [], set()
        for case in truth["cases"]:
            for rcpt in case.get("recipients", []):
                err = check(db, case, rcpt, used)
                tally[(rcpt["expect"], err is None)] += 1
                if err:
                    bad.append(err)
        info = subprocess.run([pfi, "--db", dbpath, "info", "--json"],
                              capture_output=True, text=True).stdout
    for line in bad:
        print("MISMATCH", line)
    for (status, ok), n in sorted(tally.items()):
        print("%-13s %-8s %d" % (status, "ok" if ok else "MISMATCH", n))
    print("recipients: %d, mismatches: %d" % (sum(tally.values()), len(bad)))
    print("info:", info.strip())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
