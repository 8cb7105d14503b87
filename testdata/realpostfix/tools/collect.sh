#!/bin/bash
# Copy logs/config into $OUT, build the rotated set, run pflogsumm and the ground-truth check.
set -euo pipefail
RUN=${RUN:-/tmp/pfcorpus2}
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$HERE}
mkdir -p "$OUT/conf" "$OUT/rotated" "$OUT/rotated-rfc3339" "$OUT/run"
cp "$RUN/mail.log" "$OUT/mail.log"
cp "$RUN/mail-rfc3339.log" "$OUT/mail-rfc3339.log"
cp /etc/postfix/main.cf /etc/postfix/master.cf "$OUT/conf/"
for m in transport virtual vmailbox client_access.cidr postscreen_access.cidr helo_access sender_access \
         recipient_access eod_sender_access header_checks body_checks warn_access tls_policy \
         tls_policy_out sasl_passwd; do cp /etc/postfix/$m "$OUT/conf/$m"; done
cp /etc/aliases "$OUT/conf/aliases"; cp "$RUN/rsyslog.conf" "$OUT/conf/rsyslog.conf"
cp "$RUN/records.jsonl" "$RUN/events.jsonl" "$RUN/final-queue.jsonl" "$RUN/final-queue.txt" "$RUN/driver.log" "$OUT/run/"
cp "$RUN/milter.log" "$OUT/run/milter.log" 2>/dev/null || true
cp "$RUN/peers.log" "$OUT/run/peers.log" 2>/dev/null || true
# rotated set, the way logrotate (compress + delaycompress, mixed compressors) would leave it:
# oldest quarter -> mail.log.3.zst, then mail.log.2.gz, mail.log.1 (plain), newest -> mail.log
split_rotate() { # src dstdir
  local src=$1 dst=$2 n q
  n=$(wc -l < "$src"); q=$(( (n + 3) / 4 ))
  rm -f "$dst"/mail.log*
  sed -n "1,${q}p" "$src" > "$dst/mail.log.3"
  sed -n "$((q+1)),$((2*q))p" "$src" > "$dst/mail.log.2"
  sed -n "$((2*q+1)),$((3*q))p" "$src" > "$dst/mail.log.1"
  sed -n "$((3*q+1)),\$p" "$src" > "$dst/mail.log"
  zstd -q --rm -19 "$dst/mail.log.3"
  gzip -9 "$dst/mail.log.2"
}
split_rotate "$OUT/mail.log" "$OUT/rotated"
split_rotate "$OUT/mail-rfc3339.log" "$OUT/rotated-rfc3339"
# verify that the rotated set reassembles to the original
( zstdcat "$OUT/rotated/mail.log.3.zst"; zcat "$OUT/rotated/mail.log.2.gz"; cat "$OUT/rotated/mail.log.1" "$OUT/rotated/mail.log" ) | cmp - "$OUT/mail.log"
( zstdcat "$OUT/rotated-rfc3339/mail.log.3.zst"; zcat "$OUT/rotated-rfc3339/mail.log.2.gz"; cat "$OUT/rotated-rfc3339/mail.log.1" "$OUT/rotated-rfc3339/mail.log" ) | cmp - "$OUT/mail-rfc3339.log"
pflogsumm "$OUT/mail.log" > "$OUT/pflogsumm.txt" 2>&1 || true
pflogsumm "$OUT/mail-rfc3339.log" > "$OUT/pflogsumm-rfc3339.txt" 2>&1 || true
RUN=$RUN /usr/bin/python3 "$HERE/tools/groundtruth.py" "$OUT" > "$RUN/groundtruth.out"
tail -50 "$RUN/groundtruth.out"
/usr/bin/python3 "$HERE/tools/report.py" "$OUT" | tee "$RUN/report.out"
/usr/bin/python3 "$HERE/tools/classes.py" "$OUT" > "$OUT/CLASS_COUNTS.md"
tail -1 "$OUT/CLASS_COUNTS.md"
