#!/bin/sh
# seed.sh - builds the seed corpus of each fuzz target from testdata/ and,
# when it is there, ../shared/corpus/realpostfix (real Postfix logs).
# Nothing it makes is committed: the seeds live in the build directory.
#
#   sh tests/fuzz/seed.sh SRCDIR OUTDIR [REALPOSTFIX_DIR]
#
# OUTDIR/<target>/ gets, for
#   syslog, postfix  single lines, three of each kind (timestamp style,
#                    program, first word of the text), and every line of
#                    testdata/central
#   correlate        slices of 40 consecutive lines of whole logs
#   read             testdata/read (plain, gzip, zstd, xz, bzip2, truncated,
#                    multi-member; xz and bzip2 made again, smaller), and
#                    cut prefixes of real rotated logs
#   time             --since/--until values and stats durations
#   filter           filter fields, one per line (see fuzz_filter.c)
#   output           small pfi_out_* programs, one per format
#   words            pfi repl lines: quotes, escapes, #N, sql
set -eu

src=${1:?usage: seed.sh SRCDIR OUTDIR [REALPOSTFIX_DIR]}
out=${2:?usage: seed.sh SRCDIR OUTDIR [REALPOSTFIX_DIR]}
real=${3:-$src/../shared/corpus/realpostfix}
td=$src/testdata

rm -rf "$out"
for t in syslog postfix correlate read time filter output words; do
	mkdir -p "$out/$t"
done

# The log files whose lines seed the line parsers and the correlator.
logs="$td/logs/sample.log $td/logs/sample-rfc3339.log $td/logs/rollover.log
$td/logs/longids.log $td/requeue/mail.log $td/lines/*.log
$td/verdicts/mail.log"
if [ -d "$real" ]; then
	logs="$logs $real/mail.log $real/mail-rfc3339.log"
else
	echo "seed.sh: no '$real': seeding from testdata/ only" >&2
fi

# Up to three lines of each kind: the timestamp style, the program (the
# first field ending in ':', pid dropped) and the word after the queue ID
# up to its '=', '<', '[', '(' or ','.
# shellcheck disable=SC2086
cat $logs | awk -v dir="$out/syslog" '
	{
		for (i = 1; i <= NF && $i !~ /:$/; i++)
			;
		prog = $i
		sub(/\[[0-9]+\]/, "", prog)
		w = $(i + 1)
		if (w ~ /^[0-9A-Za-z]+:$/ && length(w) > 8)
			w = $(i + 2) " " $(i + 3)
		sub(/[=<[(,].*/, "", w)
		key = ($1 ~ /^[0-9][0-9][0-9][0-9]-/) " " prog " " w
		gsub(/[0-9]+/, "N", key)
		if (seen[key]++ < 3) {
			f = dir "/line-" ++n
			print > f
			close(f)
		}
	}'
# Every line a central rsyslogd wrote (testdata/central): RFC 5424 and
# colon-less tags, which the logs above do not have.
n=0
for f in "$td"/central/*.log; do
	while IFS= read -r line; do
		n=$((n + 1))
		printf '%s\n' "$line" > "$out/syslog/central-$n"
	done < "$f"
done
cp "$out/syslog/"* "$out/postfix/"

# Slices of 40 lines, every 400th line of the big logs.
n=0
# shellcheck disable=SC2086
for f in $logs; do
	total=$(wc -l < "$f")
	start=1
	while [ "$start" -le "$total" ]; do
		n=$((n + 1))
		sed -n "${start},$((start + 39))p" "$f" > "$out/correlate/slice-$n"
		start=$((start + 400))
	done
done

# xz and bzip2 as the fixtures have them (8 MiB dictionary, 900k blocks)
# cost the decoder megabytes per run: their seeds are made again with a
# 4 KiB dictionary and 100k blocks, whole, in two streams and cut short.
for f in "$td"/read/*; do
	case $f in
	*.sh) continue ;;
	*.xz) command -v xz > /dev/null && continue ;;
	*.bz2) command -v bzip2 > /dev/null && continue ;;
	esac
	cp "$f" "$out/read/"
done
small_seeds() {
	name=$1
	shift
	"$@" < "$td/read/sample.txt" > "$out/read/small.$name"
	head -n 20 "$td/read/sample.txt" | "$@" > "$out/read/small-two.$name"
	tail -n 20 "$td/read/sample.txt" | "$@" >> "$out/read/small-two.$name"
	size=$(wc -c < "$out/read/small.$name")
	head -c $((size / 2)) "$out/read/small.$name" > \
		"$out/read/small-truncated.$name"
}
if command -v xz > /dev/null; then
	small_seeds xz xz -c --lzma2=preset=0,dict=4KiB
fi
if command -v bzip2 > /dev/null; then
	small_seeds bz2 bzip2 -c -1
fi
if [ -d "$real/rotated" ]; then
	for f in "$real"/rotated/*; do
		head -c 8192 "$f" > "$out/read/real-${f##*/}"
	done
fi

n=0
while IFS= read -r spec; do
	n=$((n + 1))
	printf '%s' "$spec" > "$out/time/spec-$n"
done <<'SPECS'
90s
15m
2h
3d
1w
300
1.5m
0.25h
today
yesterday
yesterday 14:00
2026-11-02
2026-11-02T10:00
2026-11-02 10:00:00
2026-11-02T10:00:00.123456+01:00
2026-11-02T10:00:00Z
2026-11-02T10:00:00-0930
2026-03-29 02:30
2026-10-25 02:30
2024-02-29T23:59:59.999999Z
9999-12-31T23:59:59Z
@1793491200
@0
now
-1h
1h ago
2 hours ago
1 week ago
13:40
9:05:30
00:00
today 23:59
Nov 22
Nov  2 13:40
february 29
Dec 31 23:59:59
SPECS

# Fields: from, to, domain, sender-domain, subject, status list, dsn,
# client, relay, host, message-id, sasl-user, grep, since, until.
n=0
while IFS= read -r rec; do
	n=$((n + 1))
	printf '%s' "$rec" | tr '~' '\n' > "$out/filter/filter-$n"
done <<'FILTERS'
alice@example.com~~~~~~~~~~~~~~
~bob@example.org~*.example.org~~~sent|bounced~5.*~~~~~~~~
<>~~~sender.example~new year~deferred,expired~5.1.1~203.0.113.0/24~~mx1~~~~2026-01-01~1d
~~~~~rejected~~2001:db8::/32~mx.example.org[192.0.2.1]:25~~<id@example>~user~~~
~~~~~~4.7.*~mail.sender.example~~~~~removed|queued~2h~@1793491200
~~example.com~~%_\~~~10.0.0.1~~~20261231235702.29810b38@partner.example~~(?i)happy.*year~yesterday~today
FILTERS

# Output programs: byte 0 the format (table, json, ndjson, csv, tsv) and
# flags, byte 1 the width, then ops (see fuzz_output.c): record_begin,
# from="a,b", to="q\"", delays {to: 1.5}, to ["x", null], status=42,
# record_end.
rec='\000\022\003a,b\042\004"q\134"\112\046\077\370\000\000\000\000\000\000'
rec=$rec'\013\054\222\001x\230\015\065\000\000\000\000\000\000\000\052\001'
for b0 in 0 1 2 3 4 13 20 46 81; do
	# shellcheck disable=SC2059
	printf "\\$(printf '%03o' "$b0")\\120$rec$rec" > "$out/output/prog-$b0"
done
# Lines typed into pfi repl.
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" > "$out/words/line-$n"
done <<'LINES'
search --domain example.com --since 2h
search --subject 'new year' --from "a\"b@example.org" --format=json
trace #3
raw #12
set since "yesterday 14:00"
sql SELECT 'it''s', "x" FROM deliveries WHERE recipient LIKE '%\_%'
stats --by domain --top 5	--compare 1w
search --grep 'a b\' "unterminated
search --to a\ b@example.com \\ '' ""
LINES

echo "seed.sh: seeds in $out: $(find "$out" -type f | wc -l) files"
