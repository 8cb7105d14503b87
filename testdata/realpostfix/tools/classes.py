#!/usr/bin/python3
"""Count the line classes this (second) corpus was made for, in both log formats, with one real
example each. Usage: classes.py OUTDIR  -> prints a markdown table (collect.sh writes CLASS_COUNTS.md)."""
import os, re, sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
Q = r"(?:[0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,})"
CLASSES = [  # (case group, class, regex over the whole line)
    ("1 milter", "smtpd NOQUEUE: milter-reject: CONNECT", r"smtpd\[\d+\]: NOQUEUE: milter-reject: CONNECT "),
    ("1 milter", "smtpd NOQUEUE: milter-reject: EHLO", r"smtpd\[\d+\]: NOQUEUE: milter-reject: EHLO "),
    ("1 milter", "smtpd NOQUEUE: milter-reject: MAIL", r"smtpd\[\d+\]: NOQUEUE: milter-reject: MAIL "),
    ("1 milter", "smtpd NOQUEUE|QID: milter-reject: RCPT", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): milter-reject: RCPT "),
    ("1 milter", "smtpd QID: milter-reject: DATA", rf"smtpd\[\d+\]: {Q}: milter-reject: DATA "),
    ("1 milter", "cleanup QID: milter-reject: END-OF-MESSAGE (smtpd mail)", rf"cleanup\[\d+\]: {Q}: milter-reject: END-OF-MESSAGE .*proto="),
    ("1 milter", "cleanup QID: milter-reject: END-OF-MESSAGE (sendmail mail, milter's own reply)", rf"cleanup\[\d+\]: {Q}: milter-reject: END-OF-MESSAGE (?!.*proto=)(?!.*Message file too big)"),
    ("1 milter", "cleanup QID: milter-reject: MAIL (sendmail mail)", rf"cleanup\[\d+\]: {Q}: milter-reject: MAIL "),
    ("1 milter", "cleanup QID: milter-reject: RCPT (sendmail mail)", rf"cleanup\[\d+\]: {Q}: milter-reject: RCPT "),
    ("1 milter", "cleanup warning: QID: milter configuration error: can't reject recipient in non-smtpd(8) submission", rf"cleanup\[\d+\]: warning: {Q}: milter configuration error"),
    ("1 milter", "cleanup warning: QID: message not accepted, try again later", rf"cleanup\[\d+\]: warning: {Q}: message not accepted, try again later"),
    ("1 milter", "cleanup QID: to=... relay=none ... status=bounced (sendmail mail rejected by cleanup)", rf"cleanup\[\d+\]: {Q}: to=<[^>]*>, relay=none, .*status=bounced"),
    ("1 milter", "cleanup QID: milter-hold: END-OF-MESSAGE (smtpd mail)", rf"cleanup\[\d+\]: {Q}: milter-hold: END-OF-MESSAGE .*proto="),
    ("1 milter", "cleanup QID: milter-hold: END-OF-MESSAGE (sendmail mail)", rf"cleanup\[\d+\]: {Q}: milter-hold: END-OF-MESSAGE (?!.*proto=)"),
    ("1 milter", "smtpd NOQUEUE: milter-discard: MAIL", r"smtpd\[\d+\]: NOQUEUE: milter-discard: MAIL "),
    ("1 milter", "cleanup QID: milter-discard: MAIL", rf"cleanup\[\d+\]: {Q}: milter-discard: MAIL "),
    ("1 milter", "smtpd QID: milter-discard: RCPT", rf"smtpd\[\d+\]: {Q}: milter-discard: RCPT "),
    ("1 milter", "smtpd QID: milter-discard: DATA", rf"smtpd\[\d+\]: {Q}: milter-discard: DATA "),
    ("1 milter", "cleanup QID: milter-discard: END-OF-MESSAGE (smtpd mail)", rf"cleanup\[\d+\]: {Q}: milter-discard: END-OF-MESSAGE .*proto="),
    ("1 milter", "cleanup QID: milter-discard: END-OF-MESSAGE (sendmail mail)", rf"cleanup\[\d+\]: {Q}: milter-discard: END-OF-MESSAGE (?!.*proto=)"),
    ("1 milter", "smtpd warning: milter ...: DISCARD action is not allowed for connect or helo", r"smtpd\[\d+\]: warning: milter \S+ DISCARD action is not allowed for connect or helo"),
    ("2 proxy", "smtpd NOQUEUE: client= (before-queue filter session)", r"smtpd\[\d+\]: NOQUEUE: client="),
    ("2 proxy", "smtpd proxy-accept: END-OF-MESSAGE: 250 ... queued as QID", r"smtpd\[\d+\]: proxy-accept: END-OF-MESSAGE: 250 "),
    ("2 proxy", "smtpd proxy-reject: END-OF-MESSAGE: 5xx with text", r"smtpd\[\d+\]: proxy-reject: END-OF-MESSAGE: 5\d\d [^;]+;"),
    ("2 proxy", "smtpd proxy-reject: END-OF-MESSAGE: bare code without text", r"smtpd\[\d+\]: proxy-reject: END-OF-MESSAGE: \d\d\d;"),
    ("2 proxy", "smtpd proxy-reject: END-OF-MESSAGE: 4xx", r"smtpd\[\d+\]: proxy-reject: END-OF-MESSAGE: 4\d\d "),
    ("2 proxy", "smtpd warning: proxy ... rejected \"rcpt TO:<...>\"", r"smtpd\[\d+\]: warning: proxy \S+ rejected \"rcpt TO:"),
    ("3 size", "smtpd warning: QID: queue file size limit exceeded", rf"smtpd\[\d+\]: warning: {Q}: queue file size limit exceeded"),
    ("3 size", "cleanup warning: QID: queue file size limit exceeded", rf"cleanup\[\d+\]: warning: {Q}: queue file size limit exceeded"),
    ("3 size", "cleanup QID: milter-reject: END-OF-MESSAGE ... 5.3.4 Message file too big", rf"cleanup\[\d+\]: {Q}: milter-reject: END-OF-MESSAGE .*5\.3\.4 Message file too big"),
    ("3 size", "cleanup warning: milter8_message: vstream_fseek incoming/QID: File too large", r"cleanup\[\d+\]: warning: milter8_message: vstream_fseek .*File too large"),
    ("3 size", "cleanup warning: incoming/QID: unexpected EOF in data", r"cleanup\[\d+\]: warning: incoming/\S+: unexpected EOF in data"),
    ("3 size", "postdrop warning: uid=N: File too large", r"postdrop\[\d+\]: warning: uid=\d+: File too large"),
    ("3 size", "sendmail fatal: USER(UID): message file too big", r"sendmail\[\d+\]: fatal: .*message file too big"),
    ("3 checks", "cleanup QID: reject: header (smtpd mail)", rf"cleanup\[\d+\]: {Q}: reject: header .*proto="),
    ("3 checks", "cleanup QID: reject: header (sendmail mail, 'from local')", rf"cleanup\[\d+\]: {Q}: reject: header .* from local;"),
    ("3 checks", "cleanup QID: hold: header (smtpd mail)", rf"cleanup\[\d+\]: {Q}: hold: header .*proto="),
    ("3 checks", "cleanup QID: hold: header (sendmail mail)", rf"cleanup\[\d+\]: {Q}: hold: header .* from local;"),
    ("3 checks", "cleanup QID: discard: header (smtpd mail)", rf"cleanup\[\d+\]: {Q}: discard: header .*proto="),
    ("3 checks", "cleanup QID: discard: header (sendmail mail)", rf"cleanup\[\d+\]: {Q}: discard: header .* from local;"),
    ("3 checks", "cleanup QID: reject: body", rf"cleanup\[\d+\]: {Q}: reject: body "),
    ("3 checks", "cleanup QID: hold: body", rf"cleanup\[\d+\]: {Q}: hold: body "),
    ("3 checks", "cleanup QID: discard: body", rf"cleanup\[\d+\]: {Q}: discard: body "),
    ("3 access", "smtpd NOQUEUE|QID: hold: RCPT (access map HOLD)", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): hold: RCPT .*(?:held by (?:sender|recipient) policy|quarantined by sender policy)"),
    ("3 access", "smtpd NOQUEUE|QID: discard: RCPT (access map DISCARD)", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): discard: RCPT .*(?:by sender policy|by recipient policy)"),
    ("3 policy", "smtpd reject: RCPT ... (policy REJECT)", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): reject: RCPT .*554 5\.7\.1 .*Blocked by pfi policy service"),
    ("3 policy", "smtpd reject: RCPT ... 450 (policy 4xx)", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): reject: RCPT .*450 4\.7\.1 .*pfi policy service"),
    ("3 policy", "smtpd hold: RCPT ... (policy HOLD)", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): hold: RCPT .*held by pfi policy service"),
    ("3 policy", "smtpd discard: RCPT ... (policy DISCARD)", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): discard: RCPT .*discarded by pfi policy service"),
    ("3 policy", "smtpd warn: RCPT ... (policy WARN)", rf"smtpd\[\d+\]: (?:NOQUEUE|{Q}): warn: RCPT .*pfi policy service warning"),
    ("4 smtp", "smtp deferred (TLS is required, but was not offered by host ...)", r"smtp\[\d+\]: .*status=deferred \(TLS is required, but was not offered by host"),
    ("4 smtp", "smtp SSL_connect error to HOST: lost connection", r"smtp\[\d+\]: SSL_connect error to "),
    ("4 smtp", "smtp deferred (Cannot start TLS: handshake failure)", r"smtp\[\d+\]: .*status=deferred \(Cannot start TLS: handshake failure"),
    ("4 smtp", "smtp deferred (host ... refused to talk to me: 554 ...)", r"smtp\[\d+\]: .*status=deferred \(host \S+ refused to talk to me: 554"),
    ("4 smtp", "smtp deferred (lost connection with ... while performing the EHLO handshake)", r"smtp\[\d+\]: .*status=deferred \(lost connection with \S+ while performing the EHLO handshake"),
    ("4 smtp", "smtp deferred (lost connection with ... while sending DATA command)", r"smtp\[\d+\]: .*status=deferred \(lost connection with \S+ while sending DATA command"),
    ("4 smtp", "smtp deferred (lost connection ... while sending end of data -- message may be sent more than once)", r"smtp\[\d+\]: .*status=deferred \(lost connection with \S+ while sending end of data"),
    ("4 smtp", "smtp deferred (conversation with ... timed out while performing the EHLO handshake)", r"smtp\[\d+\]: .*status=deferred \(conversation with \S+ timed out while performing the EHLO handshake"),
    ("4 smtp", "smtp deferred (conversation with ... timed out while receiving the initial server greeting)", r"smtp\[\d+\]: .*status=deferred \(conversation with \S+ timed out while receiving the initial server greeting"),
    ("4 smtp", "smtp deferred (conversation with ... timed out while sending end of data ...)", r"smtp\[\d+\]: .*status=deferred \(conversation with \S+ timed out while sending end of data"),
    ("4 smtp", "smtp deferred (SASL authentication failed; server ... said: 535 ...)", r"smtp\[\d+\]: .*status=deferred \(SASL authentication failed; server \S+ said: 535"),
    ("4 smtp", "smtp QID: Cannot start TLS: handshake failure (info line on the retry, before the plaintext fallback)", rf"smtp\[\d+\]: {Q}: Cannot start TLS: handshake failure$"),
    ("4 smtp", "smtp warning: TLS library problem", r"smtp\[\d+\]: warning: TLS library problem"),
    ("4 smtp", "smtp sent after an earlier TLS handshake failure (tlsmay.test, plaintext)", r"smtp\[\d+\]: .*to=<s03\.p\d@tlsmay\.test>.*status=sent"),
    ("5 misc", "postsuper: QID: requeued", rf"postsuper\[\d+\]: {Q}: requeued"),
    ("5 misc", "pickup: QID: uid= from= orig_id=QID (requeued message)", rf"pickup\[\d+\]: {Q}: uid=\d+ from=<[^>]*> orig_id="),
    ("5 misc", "bounce: QID: sender delay notification: QID", rf"bounce\[\d+\]: {Q}: sender delay notification: {Q}"),
    ("5 misc", "local: status=deliverable (sendmail -bv)", r"local\[\d+\]: .*status=deliverable"),
    ("5 misc", "local: status=undeliverable (sendmail -bv)", r"local\[\d+\]: .*status=undeliverable"),
    ("5 misc", "bounce: sender delivery status notification (the -bv report)", rf"bounce\[\d+\]: {Q}: sender delivery status notification: {Q}"),
    ("5 misc", "smtp: status=deliverable (verify(8) probe for reject_unverified_recipient)", r"smtp\[\d+\]: .*status=deliverable"),
    ("5 misc", "smtp: status=undeliverable (verify(8) probe)", r"smtp\[\d+\]: .*status=undeliverable"),
    ("5 misc", "smtpd reject: RCPT ... undeliverable address (reject_unverified_recipient)", r"smtpd\[\d+\]: .*reject: RCPT .*Recipient address rejected: undeliverable address"),
    ("5 misc", "smtpd NOQUEUE: reject: VRFY", r"smtpd\[\d+\]: NOQUEUE: reject: VRFY "),
    ("5 misc", "smtpd disconnect ... vrfy=0/N (VRFY disabled: 502, no reject line)", r"smtpd\[\d+\]: disconnect from .* vrfy=0/\d"),
    ("5 misc", "smtpd NOQUEUE: reject: ETRN", r"smtpd\[\d+\]: NOQUEUE: reject: ETRN "),
    ("5 misc", "smtpd warning: reject: ETRN DOMAIN... from CLIENT", r"smtpd\[\d+\]: warning: reject: ETRN "),
    ("5 misc", "smtpd lost connection after DATA (N bytes)", r"smtpd\[\d+\]: lost connection after DATA \(\d+ bytes\)"),
]


def main():
    logs = {f: open(os.path.join(OUT, f), errors="replace").read().splitlines()
            for f in ("mail.log", "mail-rfc3339.log")}
    print("| group | line class | mail.log | mail-rfc3339.log | first example (mail.log) |")
    print("|---|---|---|---|---|")
    missing = []
    for grp, name, rx in CLASSES:
        c = re.compile(rx)
        n = {}
        ex = None
        for f, lines in logs.items():
            hits = [l for l in lines if c.search(l)]
            n[f] = len(hits)
            if f == "mail.log" and hits:
                ex = hits[0]
        if not n["mail.log"]:
            missing.append(name)
        exs = (ex or "NOT PRESENT").replace("|", "\\|")
        print(f"| {grp} | {name.replace('|', '/')} | {n['mail.log']} | {n['mail-rfc3339.log']} | `{exs}` |")
    print()
    print(f"classes: {len(CLASSES)}, present: {len(CLASSES) - len(missing)}, missing: {missing}")


if __name__ == "__main__":
    main()
