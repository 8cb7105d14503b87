#!/usr/bin/python3
"""Test milter for the pfi real-Postfix corpus (Debian python3-milter, i.e. libmilter).

Listens on inet:8891@127.0.0.1. Postfix uses it as smtpd_milters on the 127.0.0.1:2526
listener and as non_smtpd_milters (sendmail/pickup). It writes nothing to syslog: every
milter-* line in the corpus is Postfix's own.

The action is chosen by a marker; ACT is one of reject | tempfail | discard | hold(EOM only)
  CONNECT  client address 127.0.0.31 reject, 127.0.0.32 tempfail, 127.0.0.33 discard
  HELO     HELO name containing "m<ACT>-helo"           e.g. EHLO mreject-helo.external.test
  MAIL     sender local part starting with "m<ACT>-mail"
  RCPT     recipient local part starting with "m<ACT>-rcpt"
  DATA     any recipient local part starting with "m<ACT>-data"
  header   Subject containing "M<ACT>-HDR"              (decided in the header callback)
  EOH      Subject containing "M<ACT>-EOH"              (decided in the eoh callback)
  body     body containing "M<ACT>-BODY"                (decided in the body callback)
  EOM      Subject containing "M<ACT>-EOM"; MREJECT-EOM-DEFAULT rejects without setreply,
           MHOLD-EOM quarantines (Postfix: milter-hold)
Reject replies carry text via setreply (550 5.7.1 ... / 451 4.7.1 ...) unless noted.
"""
import os, re, sys, time
import Milter

LOG = os.environ.get("MILTER_LOG", "/tmp/pfcorpus2/milter.log")
ACTS = ("reject", "tempfail", "discard", "hold")


def note(*a):
    with open(LOG, "a") as f:
        f.write(time.strftime("%H:%M:%S ") + " ".join(str(x) for x in a) + "\n")


class PfiMilter(Milter.Base):
    def __init__(self):
        self.id = Milter.uniqueID()
        self.rcpts = []
        self.subject = ""

    def act(self, what, stage):
        note(self.id, stage, what)
        if what == "reject":
            self.setreply("550", "5.7.1", f"Rejected by pfi test milter at {stage}")
            return Milter.REJECT
        if what == "reject-default":
            return Milter.REJECT
        if what == "tempfail":
            self.setreply("451", "4.7.1", f"Try again later (pfi test milter at {stage})")
            return Milter.TEMPFAIL
        if what == "discard":
            return Milter.DISCARD
        if what == "hold":
            self.quarantine(f"held by pfi test milter at {stage}")
            return Milter.ACCEPT
        return Milter.CONTINUE

    @staticmethod
    def marker(text, stage, upper=False):
        for a in ACTS:
            m = f"m{a}-{stage}"
            if (m.upper() if upper else m) in text:
                return a
        return None

    def connect(self, hostname, family, hostaddr):
        ip = hostaddr[0] if isinstance(hostaddr, tuple) and hostaddr else str(hostaddr)
        what = {"127.0.0.31": "reject", "127.0.0.32": "tempfail", "127.0.0.33": "discard"}.get(ip)
        note(self.id, "connect", hostname, ip)
        return self.act(what, "CONNECT") if what else Milter.CONTINUE

    def hello(self, heloname):
        what = self.marker(heloname.lower(), "helo")
        return self.act(what, "HELO") if what else Milter.CONTINUE

    def envfrom(self, f, *args):
        self.rcpts, self.subject = [], ""
        local = f.strip("<>").split("@")[0].lower()
        what = next((a for a in ACTS if local.startswith(f"m{a}-mail")), None)
        return self.act(what, "MAIL") if what else Milter.CONTINUE

    def envrcpt(self, to, *args):
        local = to.strip("<>").split("@")[0].lower()
        self.rcpts.append(local)
        what = next((a for a in ACTS if local.startswith(f"m{a}-rcpt")), None)
        return self.act(what, "RCPT") if what else Milter.CONTINUE

    def data(self):
        for local in self.rcpts:
            what = next((a for a in ACTS if local.startswith(f"m{a}-data")), None)
            if what:
                return self.act(what, "DATA")
        return Milter.CONTINUE

    def header(self, name, val):
        if name.lower() == "subject":
            self.subject = val
            what = self.marker(val, "HDR", upper=True)
            if what:
                return self.act(what, "HEADER")
        return Milter.CONTINUE

    def eoh(self):
        what = self.marker(self.subject, "EOH", upper=True)
        return self.act(what, "EOH") if what else Milter.CONTINUE

    def body(self, chunk):
        text = chunk.decode("latin-1") if isinstance(chunk, bytes) else chunk
        what = self.marker(text, "BODY", upper=True)
        return self.act(what, "BODY") if what else Milter.CONTINUE

    def eom(self):
        if "MREJECT-EOM-DEFAULT" in self.subject:
            return self.act("reject-default", "EOM")
        what = self.marker(self.subject, "EOM", upper=True)
        return self.act(what, "END-OF-MESSAGE") if what else Milter.ACCEPT

    def close(self):
        return Milter.CONTINUE

    def abort(self):
        return Milter.CONTINUE


def main():
    Milter.factory = PfiMilter
    Milter.set_flags(Milter.QUARANTINE | Milter.ADDHDRS)
    sock = sys.argv[1] if len(sys.argv) > 1 else "inet:8891@127.0.0.1"
    note("starting", sock)
    Milter.runmilter("pfimilter", sock, 60)


if __name__ == "__main__":
    main()
