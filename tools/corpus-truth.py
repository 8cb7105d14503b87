#!/usr/bin/env python3
"""Write a corpus's ground truth as a table the C tests read.

usage: corpus-truth.py CORPUS_DIR [LOG] > CORPUS_DIR/expected-outcomes.tsv

Reads CORPUS_DIR/ground_truth.json and the log only (never pfi's answer)
and prints one row per recipient the log names (as corpus-check.py
decides it, but that a line with a queue ID names only the recipients of
that queue ID), tab-separated, after a header line:

  kind     q: a queued recipient, r: a rejected one without a queue ID
  case     the corpus case
  qids     its queue IDs, comma-separated ("-" for kind r); a probe
           (sendmail -bv) has two, the test and its report
  rcpt     the final recipient
  expect   its outcome
  dsn      its DSN, "-" when the truth gives none
  time     kind r: the case's submission, microseconds since the epoch
  client   kind r: the client IP of the case, "-" when none

Recipients whose fate Postfix does not log (a maildrop file removed by
hand) and those no line of their case names are left out.
"""
import importlib.util
import json
import os
import re
import sys


def load_check():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "corpus_check", os.path.join(here, "corpus-check.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    cc = load_check()
    corpus = sys.argv[1]
    logname = sys.argv[2] if len(sys.argv) > 2 else "mail.log"
    truth = json.load(open(os.path.join(corpus, "ground_truth.json")))
    log = cc.Log(os.path.join(corpus, logname))
    silent = cc.silent_fates(truth)
    print("kind\tcase\tqids\trcpt\texpect\tdsn\ttime\tclient")
    claimed = set()
    for case in truth["cases"]:
        if case["case"] in silent:
            continue
        for rcpt in case.get("recipients", []):
            addr = rcpt["final_rcpt"]
            dsn = rcpt.get("expect_dsn") or "-"
            evidence = any(addr in ev["first"] for ev in rcpt.get("evidence", ()))
            # Its queue IDs: observed; else those of its evidence lines or
            # of the lines with its Message-ID or Subject, when a line of
            # them names it.
            observed = cc.qids_of(rcpt)
            qids = observed
            if qids:
                named = evidence or names(log, qids, addr)
            else:
                qids = evidence_qids(rcpt) or cc.case_qids(log, case)
                named = names(log, qids, addr)
            if qids and named:
                print("q\t%s\t%s\t%s\t%s\t%s\t-\t-" % (
                    case["case"], ",".join(qids), addr, rcpt["expect"], dsn))
            elif not observed and rcpt["expect"] == "rejected" and \
                    noqueue_named(cc, log, case, rcpt, claimed):
                print("r\t%s\t-\t%s\t%s\t%s\t%d\t%s" % (
                    case["case"], addr, rcpt["expect"], dsn,
                    cc.us(case["t_submit"]), case.get("client_ip") or "-"))


# A queue ID after the program, as "QID: " or "warning: QID: " (with a
# digit, so that no word such as "warning" passes for one).
QID_RE = re.compile(r"\]: (?:warning: )?(?=[0-9A-Za-z]*[0-9])([0-9A-Za-z]{6,}): ")


def names(log, qids, addr):
    log.index_qids(qids)
    return any(addr in text for q in qids for text in log.by_qid.get(q, ()))


def evidence_qids(rcpt):
    qids = []
    for ev in rcpt.get("evidence", ()):
        m = QID_RE.search(ev["first"])
        if m and m.group(1) not in qids:
            qids.append(m.group(1))
    return qids


def noqueue_named(cc, log, case, rcpt, claimed):
    """Whether a line without a queue ID names the rejected recipient: one
    of its evidence lines, else a line of its time window with its sender
    (or client) that names it and that no earlier case claimed."""
    addr = rcpt["final_rcpt"]
    if any(addr in ev["first"] for ev in rcpt.get("evidence", ())):
        return True
    t = cc.us(case["t_submit"])
    key = case.get("sender") or case.get("client_ip")
    for i, (when, text) in enumerate(log.lines):
        if i in claimed or QID_RE.search(text):
            continue
        if t - 5000000 <= when <= t + 15000000 and addr in text and \
                (not key or key in text):
            claimed.add(i)
            return True
    return False


if __name__ == "__main__":
    main()
