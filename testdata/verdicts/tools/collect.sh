#!/bin/bash
# Copy logs and every config used into $OUT, then build ground_truth.json, GROUND_TRUTH.md, LINE_TYPES.md.
set -euo pipefail
RUN=${RUN:-/tmp/pfverdicts}
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$HERE}
KEYS=${KEYS:-/var/lib/pfi-verdicts/keys}
mkdir -p "$OUT/conf" "$OUT/run"
cp "$RUN/mail.log" "$OUT/mail.log"
cp "$RUN/mail-rfc3339.log" "$OUT/mail-rfc3339.log"
C=$OUT/conf
rm -rf "$C"; mkdir -p "$C/postfix" "$C/dkim-public-keys" "$C/opendkim" "$C/opendmarc" "$C/policyd-spf" \
   "$C/clamav" "$C/amavis/conf.d" "$C/amavis/sa-site" "$C/rspamd/local.d"
cp /etc/postfix/main.cf /etc/postfix/master.cf /etc/postfix/transport "$C/postfix/"
cp /etc/aliases "$C/postfix/aliases"
cp "$RUN/rsyslog.conf" "$RUN/unbound.conf" "$C/"
for f in "$KEYS"/*/*.txt; do d=$(basename "$(dirname "$f")"); cp "$f" "$C/dkim-public-keys/$d-$(basename "$f")"; done
cp "$RUN"/opendkim/opendkim.conf "$RUN"/opendkim/KeyTable "$RUN"/opendkim/SigningTable "$RUN"/opendkim/libunbound.conf "$C/opendkim/"
cp "$RUN"/opendmarc/opendmarc.conf "$C/opendmarc/"
cp "$RUN"/policyd-spf/reject.conf "$RUN"/policyd-spf/norej.conf "$C/policyd-spf/"
diff -u /usr/sbin/postfix-policyd-spf-perl "$RUN/policyd-spf/postfix-policyd-spf-perl" \
   > "$C/policyd-spf/postfix-policyd-spf-perl.diff" || true
cp "$RUN"/clamav/clamd.conf "$RUN"/clamav/clamav-milter.conf "$RUN"/clamav/db/local-eicar.hdb "$C/clamav/"
cp "$RUN"/amavis/conf.d/* "$C/amavis/conf.d/"
cp "$RUN"/amavis/sa-site/60-pfi.cf "$C/amavis/sa-site/"
cp "$RUN"/rspamd/local.d/* "$C/rspamd/local.d/"
cp "$RUN/records.jsonl" "$RUN/driver.log" "$RUN/final-queue.jsonl" "$RUN/walltime.txt" "$OUT/run/"
/usr/bin/python3 "$HERE/tools/groundtruth.py" "$OUT"
/usr/bin/python3 "$HERE/tools/linetypes.py" "$OUT"
dpkg-query -W -f='${Package} ${Version}\n' postfix rsyslog unbound opendkim opendkim-tools libopendkim11 opendmarc \
   libopendmarc2 postfix-policyd-spf-python python3-spf postfix-policyd-spf-perl libmail-spf-perl amavisd-new \
   spamassassin clamav-daemon clamav-milter libclamav12 rspamd python3-dkim > "$OUT/run/versions.txt" 2>/dev/null || true
cat "$OUT/run/versions.txt"
