#!/bin/bash
# Reproduce the pfi VERDICTS corpus (issue 17): real Postfix 3.7 plus the real programs beside it
# (opendkim, opendmarc, policyd-spf python and perl, amavisd-new + SpamAssassin + clamd,
# clamav-milter, rspamd) on loopback, logging through our own rsyslogd; see README.md.
# Needs root and apt access to Debian's archive (packages only). Takes ~2-3 minutes.
#   RUN=/tmp/pfverdicts (scratch)   OUT=<dir of this script> (results)   WITH_RSPAMD=1
# Side effects while running: installs packages, writes /etc/postfix/{main,master}.cf,
# /etc/postfix/transport, /etc/aliases, creates users alice bob carol, DKIM keys under
# /var/lib/pfi-verdicts/keys, mailboxes under /var/spool/pfi-verdicts-mail, temporarily rewrites
# /etc/hosts and /etc/resolv.conf (restored on exit), runs rsyslogd, unbound, clamd, clamav-milter,
# opendkim, opendmarc, amavisd, rspamd and smtp-sink with configs under $RUN, all bound to 127.0.0.0/8,
# and stops exactly those processes (by PID) at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export RUN=${RUN:-/tmp/pfverdicts}
export OUT=${OUT:-$HERE}
export WITH_RSPAMD=${WITH_RSPAMD:-1}
T_START=$(date +%s)

if [ -f "$RUN/pids" ]; then RUN=$RUN bash "$HERE/tools/services.sh" stop || true; fi
postfix stop >/dev/null 2>&1 || true
for f in hosts.orig resolv.conf.orig; do [ -f "$RUN/$f" ] && cp "$RUN/$f" /tmp/.pfv-$f; done
rm -rf "$RUN"; mkdir -p "$RUN"
for f in hosts.orig resolv.conf.orig; do [ -f /tmp/.pfv-$f ] && mv /tmp/.pfv-$f "$RUN/$f"; done

restore() {
  [ -f "$RUN/hosts.orig" ] && cp "$RUN/hosts.orig" /etc/hosts
  [ -f "$RUN/resolv.conf.orig" ] && cp "$RUN/resolv.conf.orig" /etc/resolv.conf
  return 0
}
stop_all() {
  [ -f "$RUN/pids" ] && RUN=$RUN bash "$HERE/tools/services.sh" stop >/dev/null 2>&1 || true
  restore
}
trap stop_all EXIT

bash "$HERE/tools/setup.sh"
postsuper -d ALL >/dev/null 2>&1 || true
find /var/spool/postfix/maildrop -type f -delete 2>/dev/null || true
bash "$HERE/tools/services.sh" start
/usr/bin/python3 "$HERE/tools/driver.py" 2>&1 | tee "$RUN/driver.log"
# wait until the queue holds nothing but the held message(s)
for i in $(seq 1 120); do
  n=$(postqueue -j | /usr/bin/python3 -c 'import sys,json; print(sum(1 for l in sys.stdin if json.loads(l)["queue_name"]!="hold"))')
  [ "$n" = 0 ] && break; sleep 1
done
sleep 2
postqueue -j > "$RUN/final-queue.jsonl" || true
cp -r /var/spool/pfi-verdicts-mail "$RUN/mailboxes"
ls "$RUN"/sink > "$RUN/sink-files.txt" 2>/dev/null || true
bash "$HERE/tools/services.sh" stop
trap - EXIT
restore
T_END=$(date +%s)
echo "make-corpus wall time (services and traffic): $((T_END - T_START)) s" | tee "$RUN/walltime.txt"
bash "$HERE/tools/collect.sh"
