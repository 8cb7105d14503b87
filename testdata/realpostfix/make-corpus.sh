#!/bin/bash
# Reproduce the SECOND pfi real-Postfix maillog corpus (Debian 12, Postfix 3.7, loopback only):
# the first corpus' hand cases plus milter, before-queue proxy filter, policy service, cleanup
# size/checks, smtp client per-attempt errors, address verification, VRFY/ETRN (see README.md).
# Needs root and apt access to Debian's archive. Takes ~8-9 minutes of wall time.
#   RUN=/tmp/pfcorpus2 (scratch)   OUT=<dir of this script> (results)
#   BULK_PER_WORKER=300 SOURCE_SCALE=1 would add the first corpus' bulk phase back (off by default).
# Side effects while running: installs packages, writes /etc/postfix/*, /etc/aliases,
# creates users alice bob carol dave vmail, temporarily rewrites /etc/hosts and
# /etc/resolv.conf (restored on exit), runs rsyslogd with its own config (not the
# system one), smtp-sink peers on 127.0.0.11-18, python peers on 127.0.0.10/:10024
# (tools/remote_mx.py), 127.0.0.20-29/:10030/:10040 (tools/peers.py) and a milter on
# 127.0.0.1:8891 (tools/pfi_milter.py).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export RUN=${RUN:-/tmp/pfcorpus2}
export OUT=${OUT:-$HERE}

if [ -f "$RUN/pids" ]; then RUN=$RUN bash "$HERE/tools/services.sh" stop || true; fi
postfix stop >/dev/null 2>&1 || true
for f in hosts.orig resolv.conf.orig; do [ -f "$RUN/$f" ] && cp "$RUN/$f" /tmp/.pfc-$f; done
rm -rf "$RUN"; mkdir -p "$RUN"
for f in hosts.orig resolv.conf.orig; do [ -f /tmp/.pfc-$f ] && mv /tmp/.pfc-$f "$RUN/$f"; done

restore() {
  [ -f "$RUN/hosts.orig" ] && cp "$RUN/hosts.orig" /etc/hosts
  [ -f "$RUN/resolv.conf.orig" ] && cp "$RUN/resolv.conf.orig" /etc/resolv.conf
}
trap restore EXIT

bash "$HERE/tools/setup.sh"
# clean state: empty queue, no postscreen/TLS/verify caches, empty mailboxes
postsuper -d ALL >/dev/null 2>&1 || true
find /var/spool/postfix/maildrop -type f -delete 2>/dev/null || true   # left-over pickup retry loops (cases M13/M14)
rm -f /var/lib/postfix/*.db /var/lib/postfix/*.lock 2>/dev/null || true
rm -rf /var/mail/vhosts/vmail.test/*
bash "$HERE/tools/services.sh" start
/usr/bin/python3 "$HERE/tools/driver.py" 2>&1 | tee "$RUN/driver.log"
postqueue -j > "$RUN/final-queue.jsonl" || true
postqueue -p > "$RUN/final-queue.txt" || true
bash "$HERE/tools/services.sh" stop
restore
bash "$HERE/tools/collect.sh"
