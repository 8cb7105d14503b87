#!/bin/sh
# unparsed-report.sh - how much of a set of Postfix logs pfi leaves unparsed.
#
# Usage: tools/unparsed-report.sh [-s] PFI LOG...
#
# Indexes the LOGs into a temporary database with the pfi binary PFI, prints
# the summary of 'pfi info' (lines, unparsed lines by program), then every
# unparsed line grouped by shape: envelope dropped, queue IDs, numbers,
# addresses and [IP]s folded, most frequent shape first, with one example.
# With -s, also one line per LOG: postfix lines, unparsed lines and percent
# (each LOG indexed on its own).  Needs sqlite3 and zstd.
set -eu

each=0
if [ "${1:-}" = "-s" ]; then
	each=1
	shift
fi
if [ $# -lt 2 ]; then
	echo "usage: $0 [-s] PFI LOG..." >&2
	exit 2
fi
pfi=$1
shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/unparsed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# index DB LOG...: a fresh index of the LOGs (classic stamps take the year
# of the file's mtime, which is fine for counting).
index() {
	idx=$1
	shift
	"$pfi" --db "$idx" index --quiet "$@"
}

# unparsed_lines DB: the raw text of every unparsed line, from the chunks.
unparsed_lines() {
	src=$1
	mkdir -p "$tmp/chunks"
	rm -f "$tmp/chunks/"*
	sqlite3 "$src" "SELECT writefile('$tmp/chunks/' || first || '.zst', data)
	               FROM chunks;" >/dev/null
	sqlite3 "$src" "SELECT line FROM unparsed ORDER BY line;" >"$tmp/ids"
	for f in "$tmp/chunks/"*.zst; do
		[ -e "$f" ] || continue
		first=$(basename "$f" .zst)
		zstd -dcq "$f" | awk -v first="$first" '{ print first + NR - 1 "\t" $0 }'
	done | awk -F '\t' 'NR == FNR { want[$1] = 1; next }
	                    ($1 in want) { sub(/^[^\t]*\t/, ""); print }' \
		"$tmp/ids" -
}

# shapes: fold each unparsed line into its shape (queue IDs -> QID, <...>
# -> <A>, [...] -> [X], digits -> N), count the shapes, most frequent first.
shapes() {
	sed -E 's/^.*(postfix[^ []*)(\[[0-9]+\])?: /\1: /' |
	awk -v OFS='\t' '
	function is_qid(w) {
		if (w ~ /^[0-9A-F]+:?$/ && length(w) >= 5)
			return 1
		return w ~ /^[0-9A-Za-z]+z[0-9A-Za-z]+:?$/ && length(w) >= 12 &&
		       w !~ /[aeiouAEIOU]/
	}
	{
		k = split($0, w, " ")
		s = ""
		for (i = 1; i <= k; i++)
			s = s (i > 1 ? " " : "") (is_qid(w[i]) ? "QID" : w[i])
		gsub(/<[^>]*>/, "<A>", s)
		gsub(/\[[^]]*\]/, "[X]", s)
		gsub(/[0-9]+/, "N", s)
		n[s]++
		if (!(s in ex))
			ex[s] = $0
	}
	END {
		for (s in n)
			print n[s], s, ex[s]
	}' | sort -t "$(printf '\t')" -k1,1nr -k2,2 |
	awk -F '\t' '{ printf "%6d  %s\n        e.g. %s\n", $1, $2, $3 }'
}

db=$tmp/all.db
index "$db" "$@"
"$pfi" --db "$db" info | sed -n '/^lines:/,/^$/p'
if [ "$each" -eq 1 ]; then
	echo
	printf '%-40s %8s %8s %7s\n' source postfix unparsed percent
	i=0
	for log in "$@"; do
		i=$((i + 1))
		one=$tmp/one$i.db
		index "$one" "$log"
		"$pfi" --db "$one" info |
		awk -v name="$(basename "$log")" '/^lines:/ {
			gsub(/[(),]/, " ")
			for (k = 1; k <= NF; k++) {
				if ($k == "postfix") p = $(k + 1)
				if ($k == "unparsed") u = $(k + 1)
			}
			printf "%-40s %8d %8d %6.2f%%\n", name, p, u,
			       p ? 100 * u / p : 0
		}'
	done
fi
echo
echo "unparsed lines by shape:"
unparsed_lines "$db" | shapes
