#!/usr/bin/python3
"""Write LINE_TYPES.md: every distinct line shape per program in mail.log, with a count and the
first real example. Shapes of the programs beside Postfix are named by hand (SHAPES below, first
match wins); a line of those programs that no hand pattern matches is still listed, under a
shape made by masking queue IDs, addresses and numbers (marked "unnamed"), so nothing is left out.
Postfix's own lines are listed by masked shape only (the realpostfix corpus covers Postfix).

usage: linetypes.py DIR  (reads DIR/mail.log and DIR/ground_truth.json if present; writes DIR/LINE_TYPES.md)
"""
import collections, json, os, re, sys

QID = r"[0-9A-F]{8,12}"
# (program, shape name, regex on the message text after "program[pid]: ", verdict kind or "")
SHAPES = [
    # ---------------- opendkim ----------------
    ("opendkim", "start-up", r"^OpenDKIM Filter v\S+ starting \(args: .*\)$", ""),
    ("opendkim", "terminating", r"^OpenDKIM Filter v\S+ terminating with status \S+, errno = \S+$", ""),
    ("opendkim", "signature added (signing)", rf"^{QID}: DKIM-Signature field added \(s=\S+, d=\S+\)$", "dkim signed"),
    ("opendkim", "per-signature result summary (LogResults)", rf"^{QID}: signature=\S+ domain=\S+ selector=\S+ result=\"[^\"]*\"(; signature=\S+ domain=\S+ selector=\S+ result=\"[^\"]*\")*$", "dkim"),
    ("opendkim", "several signatures", rf"^{QID}: message has signatures from \S+(, \S+)*$", ""),
    ("opendkim", "verification successful", rf"^{QID}: DKIM verification successful$", "dkim pass"),
    ("opendkim", "verified signature detail (s= d= a= SSL)", rf"^{QID}: s=\S+ d=\S+ a=\S+ SSL ?.*$", "dkim"),
    ("opendkim", "bad signature", rf"^{QID}: bad signature data$", "dkim fail"),
    ("opendkim", "key retrieval failed", rf"^{QID}: key retrieval failed \(s=\S+, d=\S+\): .*$", "dkim fail/error"),
    ("opendkim", "no signing table match", rf"^{QID}: no signing table match for '.*'$", ""),
    ("opendkim", "key not secure", r"^\S+: key data is not secure: .*$", ""),
    ("opendkim", "error loading key", rf"^{QID}: error loading key '.*'$", ""),
    ("opendkim", "external host (LogWhy)", rf"^{QID}: \S+ \[\S+\] not internal$", ""),
    ("opendkim", "not authenticated (LogWhy)", rf"^{QID}: not authenticated$", ""),
    # ---------------- opendmarc ----------------
    ("opendmarc", "start-up", r"^OpenDMARC Filter v\S+ starting \(args: .*\)$", ""),
    ("opendmarc", "trusted authserv-ids", r"^additional trusted authentication services: .*$", ""),
    ("opendmarc", "terminating", r"^OpenDMARC Filter v\S+ terminating with status \S+, errno = \S+$", ""),
    ("opendmarc", "DMARC result (domain result)", rf"^{QID}: \S+ (pass|fail|none|bestguesspass|temperror|permerror)$", "dmarc"),
    ("opendmarc", "ignoring A-R header", rf"^{QID}: ignoring Authentication-Results at \d+ from \S+$", ""),
    # ---------------- policyd-spf (python) ----------------
    ("policyd-spf", "prepend Received-SPF (QueueID option: empty queue id before the first accepted RCPT)", r"^(\S*): prepend Received-SPF: \S+ \(.*\) identity=\S+; client-ip=\S+; helo=\S*; envelope-from=\S*; receiver=\S+ ?$", "spf"),
    ("policyd-spf", "reject (Fail)", r"^(\S*): 550 5\.7\.23 Message rejected due to: SPF fail - not authorized\. Please see \S+$", "spf fail"),
    ("policyd-spf", "defer (temperror, TempError_Defer)", r"^(\S*): 451 4\.4\.3 .*$", "spf temperror"),
    ("policyd-spf", "header not prepended", r"^(\S*): Header field not prepended: .*$", "spf"),
    ("policyd-spf", "error/other", r"^(ERROR|WARNING|Ouch).*$", ""),
    # ---------------- postfix-policyd-spf-perl (syslog ident postfix/policy-spf) ----------------
    ("postfix/policy-spf", "Policy action=PREPEND Received-SPF", r"^Policy action=PREPEND Received-SPF: \S+ \(.*\) receiver=\S+; identity=\S+; (envelope-from=\"[^\"]*\"; )?helo=\S*; client-ip=\S+$", "spf"),
    ("postfix/policy-spf", "Policy action=550 (Fail)", r"^Policy action=550 .*$", "spf fail"),
    ("postfix/policy-spf", "Policy action=DEFER_IF_PERMIT (temperror)", r"^Policy action=DEFER_IF_PERMIT SPF-Result=.*$", "spf temperror"),
    ("postfix/policy-spf", "Policy action=PREPEND Authentication-Results (exempt)", r"^Policy action=PREPEND Authentication-Results: .*$", ""),
    ("postfix/policy-spf", "Policy action=DUNNO", r"^Policy action=DUNNO$", ""),
    # ---------------- amavis ----------------
    ("amavis", "verdict: Passed CLEAN", r"^\(\S+\) Passed CLEAN \{[^}]*\}, .*$", "spam clean + virus clean"),
    ("amavis", "verdict: Passed SPAMMY", r"^\(\S+\) Passed SPAMMY \{[^}]*\}, .*$", "spam spammy"),
    ("amavis", "verdict: Passed SPAM", r"^\(\S+\) Passed SPAM \{[^}]*\}, .*$", "spam spam"),
    ("amavis", "verdict: Passed BAD-HEADER-n", r"^\(\S+\) Passed BAD-HEADER-\d+ \{[^}]*\}, .*$", "spam bad-header"),
    ("amavis", "verdict: Blocked BANNED", r"^\(\S+\) Blocked BANNED \(.*\) \{[^}]*\}, .*$", "spam banned"),
    ("amavis", "verdict: Blocked INFECTED", r"^\(\S+\) Blocked INFECTED \(.*\) \{[^}]*\}, .*$", "virus infected"),
    ("amavis", "verdict: Blocked/Passed other", r"^\(\S+\) (Passed|Blocked) .*$", "spam/virus"),
    ("amavis", "start-up: starting", r"^starting\. \S+ at \S+ amavis-\S+ .*$", ""),
    ("amavis", "start-up: perl/user", r"^perl=\S+, user=.*$", ""),
    ("amavis", "start-up: Net::Server", r"^Net::Server: .*$", ""),
    ("amavis", "start-up: module versions", r"^(Module|Amavis::\S+|SpamControl|ANOMY|Found myself|Found \$\S+|Lookup::|Internal decoder|No ext program|No decoder|Using primary|Found secondary|Creating db|Found decoder|Ignoring|No \$)", ""),
    ("amavis", "start-up: other", r"^(initializing|SpamAssassin|config files read|Unicode|user=|Deleting|Requesting|Net::Server|TIMING|ALERT|extra modules loaded|loaded|\s+)", ""),
    ("amavis", "shutdown", r"^(Server closing|Shutting down|Process Backgrounded|Binding|Setting|Starting \"\d+\" children|Child Preforking|\d+ children|Beginning prefork|Received|SIG|master|Group Not Defined|User Not Defined).*$", ""),
    # ---------------- clamd ----------------
    ("clamd", "detection, amavis CONTSCAN of a temp file (no queue ID; path has amavis' pid)", r"^/\S+/amavis-\d+T\d+-(\d+)-\S+: \S+\(\S+\) FOUND$", "virus (no QID)"),
    ("clamd", "detection, INSTREAM from clamav-milter (no queue ID)", r"^instream\(\S+\): \S+ FOUND$", "virus (no QID)"),
    ("clamd", "start-up: version", r"^clamd daemon \S+ \(OS: .*\)$", ""),
    ("clamd", "start-up: database", r"^(Reading databases from .*|Loaded \d+ signatures\.|Not loading PUA signatures\.|Bytecode: .*)$", ""),
    ("clamd", "start-up: sockets", r"^(TCP: .*|LOCAL: .*|Received \d+ file descriptor\(s\) from systemd\.)$", ""),
    ("clamd", "start-up: limits", r"^Limits: .*$", ""),
    ("clamd", "start-up: features", r"^(.* support enabled\.|.* detection disabled\.|Heuristic alerts enabled\.|Detection using .*|Self checking every \d+ seconds\.|Log file size limited to .*)$", ""),
    ("clamd", "shutdown", r"^(Pid file removed\.|--- Stopped at .*|Socket file removed\.|Waiting for all threads to finish|Terminating.*|SIGTERM.*|Shutting down.*)$", ""),
    # ---------------- clamav-milter ----------------
    ("clamav-milter", "verdict: clean (LogClean Full)", rf"^Clean message {QID} from <[^>]*> to <[^>]*> with subject '.*' message-id '.*' date '.*'$", "virus clean"),
    ("clamav-milter", "verdict: infected (LogInfected Full)", rf"^Message {QID} from <[^>]*> to <[^>]*> with subject '.*' message-id '.*' date '.*' infected by \S+$", "virus infected"),
    ("clamav-milter", "start", r"^\+\+\+ Started at .*$", ""),
    ("clamav-milter", "stop", r"^(---|\+\+\+) Stopped at .*$", ""),
    # ---------------- rspamd ----------------
    ("rspamd", "verdict: rspamd_task_write_log (id, qid, action, [score/required], symbols)", r"^<\w+>; (proxy|task|normal); rspamd_task_write_log: id: <[^>]*>, qid: <[^>]*>, .*\(default: [A-Z] \([^)]*\): \[[-0-9.]+/[-0-9.]+\] \[.*$", "spam"),
    ("rspamd", "regexp statistics (after every scan)", r"^<\w+>; \w+; rspamd_protocol_http_reply: regexp statistics: .*$", ""),
    ("rspamd", "start-up: loading configuration", r"^<\w+>; main; main: rspamd \S+ is loading configuration, build id: .*$", ""),
    ("rspamd", "start-up/runtime: DNS of rspamd.com hosts fails (offline)", r"^<\w+>; \w+; (rspamd_resolve_addrs: address resolution for \S+ failed: .*|rspamd_map_dns_callback: cannot resolve \S+: .*|fuzzy_parse_rule: cannot read servers definition)$", ""),
    ("rspamd", "start-up: no redis (statistics)", r"^<\w+>; cfg; (rspamd_redis_init|rspamd_stat_cache_redis_init|rspamd_stat_init): .*$", ""),
    ("rspamd", "start-up: controller warnings", r"^<\w+>; (controller|cfg); rspamd_controller_\w+: .*$", ""),
    ("rspamd", "shutdown: symbols cache not saved", r"^<\w+>; symcache; save_items: .*$", ""),
    ("rspamd", "dkim signing key missing", r"^<\w+>; \w+; dkim_module_load_key_format: .*$", ""),
]
COMPILED = [(p, n, re.compile(r), k) for p, n, r, k in SHAPES]
# verdict shapes: the part of the line that tells one result from another; each distinct value is
# listed under its shape with a count and its first real line
VARIANTS = {
    ("opendkim", "per-signature result summary (LogResults)"): r"(result=\"[^\"]*\")",
    ("opendkim", "key retrieval failed"): r"\): (.*?)(?:'[^']*')? *(record not found|unexpected reply.*)$",
    ("opendmarc", "DMARC result (domain result)"): r" (\w+)$",
    ("policyd-spf", "prepend Received-SPF (QueueID option: empty queue id before the first accepted RCPT)"):
        r"Received-SPF: (\w+ \([^)]*\)) identity=(\w+)",
    ("policyd-spf", "reject (Fail)"): r"Why\?s=(\w+)",
    ("postfix/policy-spf", "Policy action=PREPEND Received-SPF"): r"Received-SPF: (\w+) .* identity=(\w+);",
    ("amavis", "verdict: Passed CLEAN"): r"(\{[^}]*\})",
    ("amavis", "verdict: Passed SPAMMY"): r"(\{[^}]*\})",
    ("amavis", "verdict: Passed SPAM"): r"(\{[^}]*\})",
    ("rspamd", "verdict: rspamd_task_write_log (id, qid, action, [score/required], symbols)"): r"\(default: (\w \([^)]*\))",
}
LINE_RE = re.compile(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ([^\[:]+)(?:\[(\d+)\])?: (.*)$")
OURS = {p for p, _, _, _ in SHAPES}


def mask(text):
    t = re.sub(rf"\b{QID}\b", "QID", text)
    t = re.sub(r"<[^<>\s]*@[^<>\s]*>", "<ADDR>", t)
    t = re.sub(r"\b\d{1,3}(\.\d{1,3}){3}\b", "IP", t)
    t = re.sub(r"\[IP\]:\d+", "[IP]:PORT", t)
    t = re.sub(r"[\w.-]+\[IP\]", "HOST[IP]", t)
    t = re.sub(r"helo=<[^>]*>", "helo=<HELO>", t)
    t = re.sub(r"\b[0-9a-f]{16,}\b", "HEX", t)
    t = re.sub(r"\d+(\.\d+)?", "N", t)
    t = re.sub(r"(message-id|Message-ID)=<[^>]*>", r"\1=<MSGID>", t)
    return t


def main():
    d = sys.argv[1]
    lines = open(os.path.join(d, "mail.log"), encoding="utf-8", errors="replace").read().splitlines()
    shapes = collections.OrderedDict()    # (program, shape) -> [count, example, kind, named]
    progs = collections.Counter()
    for ln in lines:
        m = LINE_RE.match(ln)
        if not m:
            key = ("(unparsed)", "line without program tag")
            shapes.setdefault(key, [0, ln, "", True, {}])[0] += 1
            continue
        prog, text = m.group(3), m.group(5)
        progs[prog] += 1
        hit = None
        if prog in OURS:
            for p, n, rx, k in COMPILED:
                if p == prog and rx.search(text):
                    hit = (n, k, True)
                    break
        if hit is None:
            hit = (mask(text), "", False)
        key = (prog, hit[0])
        if key not in shapes:
            shapes[key] = [0, ln, hit[1], hit[2], collections.OrderedDict()]
        shapes[key][0] += 1
        vr = VARIANTS.get(key)
        if vr:
            vm = re.search(vr, text)
            vk = " ".join(g for g in vm.groups() if g) if vm else "(other)"
            vv = shapes[key][4].setdefault(vk, [0, ln])
            vv[0] += 1

    out = ["# Line types in mail.log (generated by tools/linetypes.py)", "",
           f"{len(lines)} lines. Programs (syslog tag without PID), lines each:", ""]
    out += ["| program | lines |", "|---|---:|"]
    for p, c in progs.most_common():
        out.append(f"| `{p}` | {c} |")
    out.append("")
    out.append("Below, per program: each shape with its count, the verdict it carries (if any) and the first real "
               "line of that shape, verbatim. Shapes of the programs beside Postfix are named by hand; a shape "
               "shown as a masked text (QID, ADDR, IP, N) is one no hand pattern matched. The programs beside "
               "Postfix come first, then Postfix' own lines (masked shapes). How the lines of one message "
               "relate (which carry a queue ID, which must be joined by session or by time) is in README.md, "
               "section 'What the programs log'; the verdict each line stands for is in ground_truth.json "
               "(verdicts[].line is the line number in mail.log).")
    order = [p for p in ["opendkim", "opendmarc", "policyd-spf", "postfix/policy-spf", "amavis", "clamd",
                         "clamav-milter", "rspamd"] if p in progs]
    order += sorted(p for p in progs if p not in order)
    for p in order:
        items = [(k, v) for k, v in shapes.items() if k[0] == p]
        if not items:
            continue
        out += ["", f"## `{p}` ({progs[p]} lines, {len(items)} shapes)", ""]
        for (prog, name), (cnt, ex, kind, named, variants) in items:
            title = name if named else f"unnamed: `{name[:200]}`"
            out.append(f"- **{title}** — {cnt} line{'s' if cnt != 1 else ''}" + (f"; verdict: {kind}" if kind else ""))
            out.append("")
            if len(variants) > 1:
                for vk, (vc, vex) in variants.items():
                    out.append(f"  - `{vk}` — {vc}")
                    out.append("")
                    out.append("    ```")
                    out.append("    " + vex)
                    out.append("    ```")
            else:
                out.append("  ```")
                out.append("  " + ex)
                out.append("  ```")
    if ("(unparsed)", "line without program tag") in shapes:
        c, ex, _, _, _ = shapes[("(unparsed)", "line without program tag")]
        out += ["", f"## lines without a `program[pid]:` tag ({c})", "", "  ```", "  " + ex, "  ```"]
    open(os.path.join(d, "LINE_TYPES.md"), "w").write("\n".join(out) + "\n")
    print(f"LINE_TYPES.md: {len(lines)} lines, {len(shapes)} shapes, "
          f"{sum(1 for k, v in shapes.items() if not v[3] and k[0] in OURS)} unnamed shapes of non-Postfix programs")


if __name__ == "__main__":
    main()
