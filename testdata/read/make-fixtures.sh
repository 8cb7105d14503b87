#!/bin/sh
# make-fixtures.sh - regenerates the fixtures of tests/test_read.c with the
# gzip, zstd, xz and bzip2 command-line tools.  Everything here is synthetic.
# Run from anywhere: ./make-fixtures.sh
#
#   sample.txt             40 Postfix-like lines, LF, final newline
#   sample.txt.{gz,zst,xz,bz2}  the same, compressed
#   zstd-named.gz          sample.txt as zstd under a gzip name (magic wins)
#   two-members.gz         lines 1-20 and 21-40 as two gzip members
#   two-frames.zst         ... as two zstd frames
#   two-streams.xz         ... as two xz streams
#   two-streams.bz2        ... as two bzip2 streams
#   truncated.{gz,zst,xz,bz2}  lines 1-20 complete, then lines 21-40 cut
#                          to half their compressed size
#   truncated-member.gz    sample.txt.gz cut to 60% (one damaged member)
#   garbage.gz             gzip magic followed by text
#   crlf.txt               CRLF line ends
#   no-final-newline.txt   last line without "\n"
#   nul.txt                a line holding a NUL byte
#   empty.txt, empty.gz    no content
#
# Not made here: corrupt-block.bz2, concatenated bzip2 streams with a
# damaged block (3,000 bytes found by tests/fuzz/fuzz_read), kept as found.
set -eu
cd "$(dirname "$0")"

i=1
: > sample.txt
while [ "$i" -le 40 ]; do
	printf 'Nov  2 03:04:%02d mx1 postfix/smtp[%d]: 4Q%04dAB: to=<user%d@example.org>, relay=mx.example.org[192.0.2.%d]:25, delay=0.%d, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %05d)\n' \
		$((i % 60)) $((1000 + i)) "$i" "$i" "$i" "$i" $((i * 37)) >> sample.txt
	i=$((i + 1))
done
head -n 20 sample.txt > part1.tmp
tail -n 20 sample.txt > part2.tmp

gzip -n -c sample.txt > sample.txt.gz
zstd -q -f -c sample.txt > sample.txt.zst
xz -c sample.txt > sample.txt.xz
bzip2 -c sample.txt > sample.txt.bz2
cp sample.txt.zst zstd-named.gz

{ gzip -n -c part1.tmp; gzip -n -c part2.tmp; } > two-members.gz
{ zstd -q -c part1.tmp; zstd -q -c part2.tmp; } > two-frames.zst
{ xz -c part1.tmp; xz -c part2.tmp; } > two-streams.xz
{ bzip2 -c part1.tmp; bzip2 -c part2.tmp; } > two-streams.bz2

# cut_half TOOL EXT: part1 whole, then part2 compressed and cut in half.
cut_half() {
	$1 -c part1.tmp > "truncated.$2"
	$1 -c part2.tmp > part2.cmp.tmp
	size=$(wc -c < part2.cmp.tmp)
	head -c $((size / 2)) part2.cmp.tmp >> "truncated.$2"
}
cut_half "gzip -n" gz
cut_half "zstd -q" zst
cut_half xz xz
cut_half bzip2 bz2

size=$(wc -c < sample.txt.gz)
head -c $((size * 6 / 10)) sample.txt.gz > truncated-member.gz

printf '\037\213this is not gzip data at all\n' > garbage.gz
printf 'first line\r\nsecond line\r\nthird line\r\n' > crlf.txt
printf 'first line\nsecond line\nlast line without newline' > no-final-newline.txt
printf 'before\nnul\000inside\nafter\n' > nul.txt
: > empty.txt
gzip -n -c empty.txt > empty.gz

rm -f ./*.tmp
