#!/usr/bin/python3
"""Loopback peers added for the second pfi real-Postfix corpus. None of them writes to syslog.

1. Misbehaving "remote MX" servers (raw sockets, one per address, port 25), so that the
   Postfix smtp client logs its per-attempt errors:
     127.0.0.20 mx.notls.test     normal ESMTP, no STARTTLS (Postfix policy: encrypt)
     127.0.0.21 mx.dropehlo.test  greets, closes the connection when EHLO arrives
     127.0.0.22 mx.dropdata.test  accepts MAIL/RCPT, closes the connection on DATA
     127.0.0.23 mx.slowehlo.test  greets, never answers EHLO (Postfix smtp_helo_timeout 5s)
     127.0.0.24 mx.greet554.test  greets with 554 5.7.1
     127.0.0.25 mx.tlsfail.test   offers STARTTLS, answers 220, then sends garbage (policy: encrypt)
     127.0.0.26 mx.authfail.test  offers AUTH PLAIN LOGIN, answers every AUTH with 535 5.7.8
     127.0.0.27 mx.silent.test    accepts the TCP connection, never greets
     127.0.0.28 mx.slowdata.test  never answers the end of DATA (smtp_data_done_timeout 5s)
     127.0.0.29 mx.tlsmay.test    like tlsfail, but Postfix uses the default "may" level
2. A before-queue content filter (smtpd_proxy_filter) on 127.0.0.1:10030 (aiosmtpd): it relays
   each accepted message to Postfix's re-injection smtpd on 127.0.0.1:10025 and passes that
   server's answer back. Markers: recipient local part "proxyrej-rcpt" -> 550 at RCPT;
   Subject "PROXYREJECT-TEXT" -> "550 5.7.1 ..." at end of data; "PROXYREJECT-NOTEXT" -> bare
   "550"; "PROXYTEMPFAIL" -> "451 4.3.0 ...".
3. A policy server (check_policy_service inet:127.0.0.1:10040). Recipient local part prefix:
   policy-reject -> REJECT, policy-hold -> HOLD, policy-discard -> DISCARD, policy-defer ->
   "450 4.7.1 ...", policy-warn -> WARN; anything else DUNNO.
"""
import asyncio, os, re, smtplib, socket, socketserver, sys, threading, time
from aiosmtpd.controller import Controller

RUN = os.environ.get("RUN", "/tmp/pfcorpus2")
LOGF = f"{RUN}/peers.log"
_l = threading.Lock()


def note(*a):
    with _l, open(LOGF, "a") as f:
        f.write(time.strftime("%H:%M:%S ") + " ".join(str(x) for x in a) + "\n")


# ------------------------------------------------------------------ misbehaving MX servers
MODES = {
    "127.0.0.20": ("mx.notls.test", "notls"),
    "127.0.0.21": ("mx.dropehlo.test", "dropehlo"),
    "127.0.0.22": ("mx.dropdata.test", "dropdata"),
    "127.0.0.23": ("mx.slowehlo.test", "slowehlo"),
    "127.0.0.24": ("mx.greet554.test", "greet554"),
    "127.0.0.25": ("mx.tlsfail.test", "tlsfail"),
    "127.0.0.26": ("mx.authfail.test", "authfail"),
    "127.0.0.27": ("mx.silent.test", "silent"),
    "127.0.0.28": ("mx.slowdata.test", "slowdata"),
    "127.0.0.29": ("mx.tlsmay.test", "tlsfail"),
}


class MXHandler(socketserver.StreamRequestHandler):
    timeout = 60

    def send(self, s):
        self.wfile.write(s.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        name, mode = self.server.mxname, self.server.mode
        note(name, mode, "connection from", self.client_address)
        try:
            if mode == "silent":
                time.sleep(20)
                return
            if mode == "greet554":
                self.send(f"554 5.7.1 {name} ESMTP service not available to you")
            else:
                self.send(f"220 {name} ESMTP pfi-test-peer")
            in_data = False
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                cmd = line.decode(errors="replace").rstrip("\r\n")
                if in_data:
                    if cmd == ".":
                        in_data = False
                        if mode == "slowdata":
                            time.sleep(20)
                            return
                        self.send("250 2.0.0 Ok: queued as PEER%06d" % (int(time.time() * 1000) % 1000000))
                    continue
                verb = cmd.split(" ")[0].upper()
                note(name, "<", cmd[:80])
                if verb in ("EHLO", "HELO"):
                    if mode == "dropehlo":
                        return
                    if mode == "slowehlo":
                        time.sleep(20)
                        return
                    ext = ["8BITMIME"]
                    if mode == "tlsfail":
                        ext.append("STARTTLS")
                    if mode == "authfail":
                        ext.append("AUTH PLAIN LOGIN")
                    lines = [name] + ext
                    for i, e in enumerate(lines):
                        self.send(("250 " if i == len(lines) - 1 else "250-") + e)
                elif verb == "STARTTLS":
                    self.send("220 2.0.0 Ready to start TLS")
                    self.wfile.write(b"this is not a TLS ServerHello\r\n" * 4)
                    self.wfile.flush()
                    return
                elif verb == "AUTH":
                    if mode == "authfail" and len(cmd.split()) == 2 and cmd.split()[1].upper() == "LOGIN":
                        self.send("334 VXNlcm5hbWU6")
                        self.rfile.readline()
                        self.send("334 UGFzc3dvcmQ6")
                        self.rfile.readline()
                    self.send("535 5.7.8 Error: authentication failed: authentication failure")
                elif verb == "MAIL":
                    self.send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    self.send("250 2.1.5 Ok")
                elif verb == "DATA":
                    if mode == "dropdata":
                        return
                    self.send("354 End data with <CR><LF>.<CR><LF>")
                    in_data = True
                elif verb == "QUIT":
                    self.send("221 2.0.0 Bye")
                    return
                elif verb in ("RSET", "NOOP"):
                    self.send("250 2.0.0 Ok")
                else:
                    self.send("502 5.5.2 Error: command not recognized")
        except (ConnectionError, OSError) as e:
            note(name, "conn error", e)


class MXServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


# ------------------------------------------------------------------ before-queue proxy filter
class ProxyHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].lower().startswith("proxyrej-rcpt"):
            return "550 5.1.1 <%s>: Recipient rejected by before-queue filter" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        m = re.search(rb"^Subject:(.*)$", content, re.M | re.I)
        subj = m.group(1).decode(errors="replace") if m else ""
        note("proxy DATA", envelope.mail_from, envelope.rcpt_tos, subj.strip())
        if "PROXYREJECT-TEXT" in subj:
            return "550 5.7.1 Message content rejected by before-queue filter (spam score 12.5)"
        if "PROXYREJECT-NOTEXT" in subj:
            return "550"
        if "PROXYTEMPFAIL" in subj:
            return "451 4.3.0 Before-queue filter temporarily unavailable"
        loop = asyncio.get_running_loop()
        try:
            code, text = await loop.run_in_executor(None, self.reinject, envelope, content)
        except Exception as e:  # noqa
            return f"451 4.3.0 Re-injection failed: {e}"
        return f"{code} {text}"

    @staticmethod
    def reinject(envelope, content):
        with smtplib.SMTP("127.0.0.1", 10025, local_hostname="localhost", timeout=60) as s:
            s.ehlo()
            s.mail(envelope.mail_from or "")
            for r in envelope.rcpt_tos:
                s.rcpt(r)
            code, resp = s.data(content)
            return code, resp.decode(errors="replace")


# ------------------------------------------------------------------ policy server
class PolicyHandler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            attrs = {}
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                line = line.decode(errors="replace").rstrip("\n")
                if line == "":
                    break
                k, _, v = line.partition("=")
                attrs[k] = v
            rcpt = attrs.get("recipient", "").lower()
            local = rcpt.split("@")[0]
            action = "DUNNO"
            if local.startswith("policy-reject"):
                action = "REJECT Blocked by pfi policy service"
            elif local.startswith("policy-hold"):
                action = "HOLD held by pfi policy service"
            elif local.startswith("policy-discard"):
                action = "DISCARD discarded by pfi policy service"
            elif local.startswith("policy-defer"):
                action = "450 4.7.1 Greylisted by pfi policy service, try again later"
            elif local.startswith("policy-warn"):
                action = "WARN pfi policy service warning"
            if action != "DUNNO":
                note("policy", attrs.get("protocol_state"), rcpt, "->", action)
            self.wfile.write(f"action={action}\n\n".encode())
            self.wfile.flush()


class PolicyServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    servers = []
    for addr, (name, mode) in MODES.items():
        srv = MXServer((addr, 25), MXHandler)
        srv.mxname, srv.mode = name, mode
        servers.append(srv)
    servers.append(PolicyServer(("127.0.0.1", 10040), PolicyHandler))
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    proxy = Controller(ProxyHandler(), hostname="127.0.0.1", port=10030,
                       server_hostname="bqfilter.example.test", ident="pfi before-queue filter")
    proxy.start()
    with open(f"{RUN}/peers.ready", "w") as f:
        f.write(str(os.getpid()))
    note("peers ready")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
