#!/usr/bin/env python3
"""Check pfi's verdicts against the ground truth of the verdicts corpus (issue 17).

usage: check.py PFI [DIR] [-v]
  PFI  the pfi binary;  DIR  this directory (default: the directory of this script)

1. indexes DIR/mail.log into a temporary index:  PFI --db DB index mail.log
2. trace: for every message of ground_truth.json that has a queue ID:
     PFI --db DB trace --format json QID
   and compares the verdicts of every message of the chain it prints (the smtpd hop and amavis'
   re-injection) with the message's logged verdicts in the ground truth, as multisets of
   (program, kind, result, domain), plus the score where the ground truth has one (|diff| <= 0.01).
   Verdicts the programs decided but did not log (logged=false, e.g. opendkim's dkim=none) are not
   expected from pfi. Messages rejected before they had a queue ID (NOQUEUE) are checked by search only.
3. search: for every kind=result of the ground truth (and of the SPEC vocabulary):
     PFI --db DB search --verdict KIND=RESULT --format json
   rows are per recipient; each row's to/orig_to carries the case in its address extension
   (alice+d01@a.test -> D01). The set of cases found is compared with the cases that have a
   logged verdict KIND=RESULT (NOQUEUE rejects included: pfi lists rejects as rows, and a
   message on hold as a row of status held).
4. stats: PFI --db DB stats --format json; for every kind=result, the messages with that verdict
   (verdicts{KIND}{RESULT}.messages) equal the ground truth's messages with it logged.
   Then PFI --db DB stats --by KEY --format json for KEY domain, sender-domain, client and
   status: each by[] row's verdicts{} count the messages with that verdict logged whose
   recipients have that key (a message counts under each of its keys once).  Statuses as
   Postfix logs them: a message amavis discarded was handed to it (sent), a 4xx NOQUEUE
   reject is a reject.
Prints every mismatch and a summary line "N messages, M verdicts, K mismatches"; exit 1 on any
mismatch, 2 on a usage error or when pfi cannot be run.
"""
import json, os, re, subprocess, sys, tempfile

VOCAB = {"dkim": ["signed", "pass", "fail", "none", "error"],
         "spf": ["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"],
         "dmarc": ["pass", "fail", "none"],
         "spam": ["clean", "spam", "spammy", "banned", "bad-header"],
         "virus": ["clean", "infected"]}


def norm_dom(d):
    return (d or "").strip().lower() or None


def vkey(v):
    return (v.get("program") or "", v.get("kind") or "", v.get("result") or "", norm_dom(v.get("domain")))


def run(pfi, db, args):
    p = subprocess.run([pfi, "--db", db] + args, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def case_of(addr):
    m = re.match(r"^[^+@]+\+([A-Za-z0-9]+)@", addr or "")
    return m.group(1).upper() if m else None


STATUS = {"delivered": "sent", "sent": "sent", "discarded": "sent",
          "rejected": "rejected", "tempfailed": "rejected", "held": "held"}


def keys_of(m, by):
    """The --by keys of ground-truth message m (None: no value)."""
    if by == "domain":
        return {r.rsplit("@", 1)[1].lower() for r in m["rcpts"]}
    if by == "sender-domain":
        return {m["mail_from"].rsplit("@", 1)[1].lower() if m["mail_from"] else None}
    if by == "client":
        return {m["client_ip"]}
    return {STATUS[m["outcome"]]}


def check_stats_by(pfi, db, msgs, mismatches, verbose):
    for by in ("domain", "sender-domain", "client", "status"):
        want = {}
        for m in msgs:
            for kr in {f"{v['kind']}={v['result']}" for v in m["verdicts"] if v.get("logged")}:
                for k in keys_of(m, by):
                    want[(k, kr)] = want.get((k, kr), 0) + 1
        rc, out, err = run(pfi, db, ["stats", "--by", by, "--format", "json"])
        try:
            got = {((row["key"] or None), f"{k}={r}"): v["messages"]
                   for row in json.loads(out)["by"]
                   for k, rs in row["verdicts"].items() for r, v in rs.items()}
        except (ValueError, KeyError, TypeError):
            mismatches.append(f"stats --by {by}: pfi exit {rc}, no by[] verdicts")
            continue
        for key in sorted(set(want) | set(got), key=str):
            if got.get(key, 0) != want.get(key, 0):
                mismatches.append(f"stats --by {by} {key[0]} {key[1]}: pfi {got.get(key, 0)},"
                                  f" ground truth {want.get(key, 0)} messages")
        if verbose:
            print(f"stats --by {by}: {len(got)} key/verdict cells, {len(want)} expected")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    verbose = "-v" in sys.argv[1:]
    if not args:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    pfi = os.path.abspath(args[0])
    d = os.path.abspath(args[1]) if len(args) > 1 else os.path.dirname(os.path.abspath(__file__))
    gt = json.load(open(os.path.join(d, "ground_truth.json")))
    msgs = gt["messages"]
    year = gt.get("summary", {}).get("year")
    mismatches = []

    with tempfile.TemporaryDirectory(prefix="pfi-verdicts-") as tmp:
        db = os.path.join(tmp, "index.db")
        # the log has classic time stamps; --year (SPEC) pins their year when this pfi knows it
        idx = ["index", "--quiet", os.path.join(d, "mail.log")]
        rc, out, err = run(pfi, db, idx[:1] + ["--year", str(year)] + idx[1:]) if year else (2, "", "")
        if rc != 0:
            rc, out, err = run(pfi, db, idx)
        if rc != 0:
            print(f"pfi index failed (exit {rc}): {err.strip()}", file=sys.stderr)
            return 2

        nverd = 0
        # ---------------- trace ----------------
        for m in msgs:
            want = [v for v in m["verdicts"] if v.get("logged")]
            nverd += len(want)
            if not m["queue_ids"]:
                continue
            q = m["queue_ids"][0]
            rc, out, err = run(pfi, db, ["trace", "--format", "json", q])
            got = []
            if rc not in (0, 1):
                mismatches.append(f"{m['case']} {q}: pfi trace exit {rc}: {' '.join(err.split())[:200]}")
                continue
            try:
                doc = json.loads(out) if out.strip() else {"messages": []}
            except ValueError:
                mismatches.append(f"{m['case']} {q}: pfi trace printed no JSON")
                continue
            for tm in doc.get("messages", []):
                if tm.get("queue_id") in m["queue_ids"]:
                    got += tm.get("verdicts") or []
            left = list(got)
            for v in want:
                hit = None
                for k, g in enumerate(left):
                    if vkey(g) == vkey(v):
                        if isinstance(v.get("score"), (int, float)):
                            gs = g.get("score")
                            if not isinstance(gs, (int, float)) or abs(gs - v["score"]) > 0.01:
                                continue
                        hit = k
                        break
                if hit is None:
                    near = [g for g in left if g.get("kind") == v["kind"] and g.get("program") == v["program"]]
                    mismatches.append(
                        f"{m['case']} {q}: missing {v['program']} {v['kind']}={v['result']} "
                        f"domain={v.get('domain')} score={v.get('score')}"
                        + (f" (pfi has: {', '.join(str(vkey(g)) + ' score=' + str(g.get('score')) for g in near)})" if near else ""))
                else:
                    left.pop(hit)
            for g in left:
                mismatches.append(f"{m['case']} {q}: unexpected {g.get('program')} {g.get('kind')}={g.get('result')} "
                                  f"domain={g.get('domain')} score={g.get('score')}")
            if verbose:
                print(f"{m['case']} {q}: {len(want)} expected, {len(got)} from pfi")

        # ---------------- search ----------------
        expected = {}
        for m in msgs:
            for v in m["verdicts"]:
                if v.get("logged"):
                    expected.setdefault(f"{v['kind']}={v['result']}", set()).add(m["case"])
        kinds = sorted(set(expected) | {f"{k}={r}" for k, rs in VOCAB.items() for r in rs})
        for kr in kinds:
            rc, out, err = run(pfi, db, ["search", "--verdict", kr, "--format", "json"])
            if rc not in (0, 1):
                mismatches.append(f"search --verdict {kr}: pfi exit {rc}: {' '.join(err.split())[:200]}")
                continue
            try:
                rows = (json.loads(out) if out.strip() else {}).get("deliveries", [])
            except ValueError:
                mismatches.append(f"search --verdict {kr}: no JSON")
                continue
            found = set()
            for r in rows:
                c = case_of(r.get("orig_to")) or case_of(r.get("to"))
                if c:
                    found.add(c)
            want = expected.get(kr, set())
            for c in sorted(want - found):
                mismatches.append(f"search --verdict {kr}: case {c} missing")
            for c in sorted(found - want):
                mismatches.append(f"search --verdict {kr}: case {c} not expected")
            if verbose:
                print(f"search --verdict {kr}: {len(rows)} rows, {len(found)} cases, {len(want)} expected")

        # ---------------- stats ----------------
        # messages with each logged verdict (a message once per kind=result)
        want_stats = {}
        for m in msgs:
            for kr in {f"{v['kind']}={v['result']}" for v in m["verdicts"] if v.get("logged")}:
                want_stats[kr] = want_stats.get(kr, 0) + 1
        rc, out, err = run(pfi, db, ["stats", "--format", "json"])
        try:
            got_stats = {f"{k}={r}": v["messages"]
                         for k, rs in json.loads(out).get("verdicts", {}).items()
                         for r, v in rs.items()}
        except (ValueError, AttributeError):
            got_stats = None
            mismatches.append(f"stats: pfi exit {rc}, no JSON verdicts")
        for kr in sorted(set(want_stats) | set(got_stats or {})):
            if got_stats is not None and got_stats.get(kr, 0) != want_stats.get(kr, 0):
                mismatches.append(f"stats verdicts {kr}: pfi {got_stats.get(kr, 0)},"
                                  f" ground truth {want_stats.get(kr, 0)} messages")

        check_stats_by(pfi, db, msgs, mismatches, verbose)

    for x in mismatches:
        print("MISMATCH", x)
    print(f"{len(msgs)} messages, {nverd} verdicts, {len(mismatches)} mismatches")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
