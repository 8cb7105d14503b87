#!/bin/bash
# bench/run.sh - times pfi next to pflogsumm and `zstdcat | wc -l` on one
# generated Postfix log and prints absolute figures and ratios.
#
#   bench/run.sh /abs/path/to/pfi          (what `make bench` runs)
#
# Environment: BENCH_LINES (default 5000000), BENCH_PROFILES (the
# generator's profiles to run, one after the other; default "default
# fleet"), BENCH_DIR (default ./bench/out when run from a build directory,
# else /tmp/pfi-bench), BENCH_RUNS (repetitions of the short commands,
# best is kept; default 3).  The log is generated once per (profile,
# lines, generator source) and reused.
# See bench/README.
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

PFI=${1:?usage: bench/run.sh /abs/path/to/pfi}
HERE=$(cd "$(dirname "$0")" && pwd)
LINES=${BENCH_LINES:-5000000}
RUNS=${BENCH_RUNS:-3}
PROFILES=${BENCH_PROFILES:-default fleet}
if [ -z "${BENCH_DIR:-}" ]; then
	if [ -f Makefile ] && [ -w . ]; then BENCH_DIR=$PWD/bench/out
	else BENCH_DIR=/tmp/pfi-bench; fi
fi
export TZ=UTC LC_ALL=C BENCH_DIR
mkdir -p "$BENCH_DIR"

# Several profiles: one whole run each, then their tables in results.md.
read -r -a PROFILE_LIST <<<"$PROFILES"
for p in "${PROFILE_LIST[@]}"; do
	case $p in default|fleet) ;;
	*) printf 'bench: unknown profile %s (default, fleet)\n' "$p" >&2; exit 2;;
	esac
done
if [ ${#PROFILE_LIST[@]} -gt 1 ]; then
	for p in "${PROFILE_LIST[@]}"; do
		BENCH_PROFILES=$p bash "$0" "$@"
	done
	for p in "${PROFILE_LIST[@]}"; do
		cat "$BENCH_DIR/results-$p.md"; echo
	done >"$BENCH_DIR/results.md"
	exit 0
fi
PROFILE=${PROFILE_LIST[0]:-default}
TMP=$(mktemp -d "$BENCH_DIR/tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

say() { printf '%s\n' "$*" >&2; }

# ---- tools ------------------------------------------------------------------
need_tools() {
	local missing=() pkgs=()
	command -v zstd >/dev/null || { missing+=(zstd); pkgs+=(zstd); }
	command -v pflogsumm >/dev/null || [ -x /usr/sbin/pflogsumm ] ||
		{ missing+=(pflogsumm); pkgs+=(pflogsumm); }
	[ -x /usr/bin/time ] || { missing+=(/usr/bin/time); pkgs+=(time); }
	command -v cc >/dev/null || { missing+=(cc); pkgs+=(gcc); }
	command -v curl >/dev/null || { missing+=(curl); pkgs+=(curl); }
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing ${pkgs[*]} ..."
		apt-get install -y "${pkgs[@]}" >/dev/null 2>&1 ||
			{ apt-get update >/dev/null 2>&1 &&
			  apt-get install -y "${pkgs[@]}" >/dev/null 2>&1; }
	else
		say "bench: missing ${missing[*]}; install: apt-get install ${pkgs[*]}"
		exit 1
	fi
}
need_tools
PFLOGSUMM=$(command -v pflogsumm || echo /usr/sbin/pflogsumm)
[ -x "$PFI" ] || { say "bench: $PFI is not executable"; exit 1; }
# A libtool wrapper script costs ~0.2 s a run: time the real binary.
if grep -q "temporary wrapper script" "$PFI" 2>/dev/null; then
	d=$(cd "$(dirname "$PFI")" && pwd)
	for real in "$d/.libs/lt-pfi" "$d/.libs/pfi"; do
		if [ -x "$real" ] && LD_LIBRARY_PATH="$d/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
			"$real" --version >/dev/null 2>&1; then
			export LD_LIBRARY_PATH="$d/lib/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
			PFI=$real
			break
		fi
	done
fi

# ---- the log ----------------------------------------------------------------
GEN=$BENCH_DIR/gen
if [ ! -x "$GEN" ] || [ "$HERE/gen.c" -nt "$GEN" ]; then
	cc -O2 -o "$GEN" "$HERE/gen.c" -lm
fi
KEY=$(cat "$HERE/gen.c" | md5sum | cut -c1-8)
LOG=$BENCH_DIR/postfix-$PROFILE-$LINES-$KEY.log
GEN_S=cached
if [ ! -f "$LOG.meta" ] || [ ! -f "$LOG.zst" ]; then
	rm -f "$BENCH_DIR"/postfix-"$PROFILE"-*.log "$BENCH_DIR"/postfix-"$PROFILE"-*.log.* \
		"$BENCH_DIR"/postfix-[0-9]*.log "$BENCH_DIR"/postfix-[0-9]*.log.*
	say "generating $LINES lines ($PROFILE profile) into $LOG ..."
	t0=$EPOCHREALTIME
	"$GEN" --profile "$PROFILE" "$LINES" "$LOG"
	t1=$EPOCHREALTIME
	zstd -q -T2 -3 -f "$LOG" -o "$LOG.zst"
	touch -r "$LOG" "$LOG.zst"
	t2=$EPOCHREALTIME
	GEN_S=$(awk -v a="$t0" -v b="$t1" -v c="$t2" \
		'BEGIN { printf "%.1f s + zstd %.1f s", b - a, c - b }')
fi
# 1,000 lines that continue the log (the generator is deterministic: the
# first LINES lines of a longer run are the log itself).
if [ ! -f "$LOG.more" ]; then
	"$GEN" --profile "$PROFILE" $((LINES + 1000)) "$TMP/longer.log" >/dev/null
	tail -n 1000 "$TMP/longer.log" >"$LOG.more"
	rm -f "$TMP/longer.log"
fi
meta() { sed -n "s/^$1=//p" "$LOG.meta"; }
LOG_BYTES=$(stat -L -c %s "$LOG")
ZST_BYTES=$(stat -L -c %s "$LOG.zst")

# ---- measuring --------------------------------------------------------------
# measure N CMD...: best wall time and best CPU time (user + sys, which
# other load on the machine disturbs less) of N runs and the max RSS; sets
# W, C, R (KiB), RC, NOUT (output lines); NA=1 when pfi does not know the
# command yet, NA=2 when it failed.
run_once() {
	local t0 t1
	t0=$EPOCHREALTIME
	set +e
	/usr/bin/time -f '%M %U %S' -o "$TMP/rss" "$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
	set -e
	t1=$EPOCHREALTIME
	W1=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	read -r R1 U1 S1 < <(tail -n 1 "$TMP/rss")
	C1=$(awk -v u="$U1" -v s="$S1" 'BEGIN { printf "%.2f", u + s }')
}
measure() {
	local n=$1 i
	shift
	W=; C=; R=0; NA=0
	for ((i = 0; i < n; i++)); do
		run_once "$@"
		if grep -q "is not a pfi command\|unknown command" "$TMP/err"; then
			NA=1; return 0
		fi
		if [ "$RC" -gt 1 ]; then
			say "bench: '$*' failed ($RC):"; head -5 "$TMP/err" >&2
			NA=2; return 0
		fi
		if [ -z "$W" ] || awk -v a="$W1" -v b="$W" 'BEGIN{exit !(a<b)}'
		then W=$W1; fi
		if [ -z "$C" ] || awk -v a="$C1" -v b="$C" 'BEGIN{exit !(a<b)}'
		then C=$C1; fi
		[ "$R1" -gt "$R" ] && R=$R1
	done
	NOUT=$(wc -l <"$TMP/out")
}
# measure_on_copy N SRC DB CMD...: like measure, with DB a fresh copy of
# the index SRC before every run (the command changes it).
measure_on_copy() {
	local n=$1 src=$2 db=$3 i w=
	shift 3
	for ((i = 0; i < n; i++)); do
		rm -f "$db" "$db-wal" "$db-shm"
		cp "$src" "$db"
		# Else the run's commit (fdatasync) writes back the whole copy.
		sync "$db"
		measure 1 "$@"
		[ "$NA" = 0 ] || return 0
		if [ -z "$w" ] || awk -v a="$W" -v b="$w" 'BEGIN{exit !(a<b)}'
		then w=$W; fi
	done
	W=$w
}
# measure_scrape: starts `pfi metrics --listen` on a free loopback port,
# waits for its first rendering, then times RUNS plain and RUNS gzip GETs
# of /metrics with curl; W is the best, R the server's peak RSS.
measure_scrape() {
	local pid t0 t1 i port w ready n=0
	W=; C=-; R=0; NA=0; SCRAPE_NOTE=
	"$PFI" --db "$DB" metrics --listen 127.0.0.1:0 2>"$TMP/srv.err" &
	pid=$!
	t0=$EPOCHREALTIME
	while ! grep -q 'serving metrics' "$TMP/srv.err" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null || [ $n -gt 2400 ]; then
			if grep -q "is not a pfi command" "$TMP/srv.err"; then NA=1
			else NA=2; RC=1; fi
			kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
			return 0
		fi
		sleep 0.05; n=$((n + 1))
	done
	t1=$EPOCHREALTIME
	ready=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$TMP/srv.err")
	for ((i = 0; i < 2 * RUNS; i++)); do
		if [ $((i % 2)) = 0 ]; then
			w=$(curl -s -o "$TMP/out" -w '%{time_total}' "http://127.0.0.1:$port/metrics")
		else
			w=$(curl -s --compressed -o "$TMP/out" -w '%{time_total}' "http://127.0.0.1:$port/metrics")
		fi
		w=$(awk -v a="$w" 'BEGIN { printf "%.4f", a }')
		if [ -z "$W" ] || awk -v a="$w" -v b="$W" 'BEGIN{exit !(a<b)}'
		then W=$w; fi
	done
	R=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
	kill "$pid"; wait "$pid" 2>/dev/null || true
	NOUT=$(wc -l <"$TMP/out")
	SCRAPE_NOTE="GET /metrics (plain, gzip), from the rendering cached ${ready} s after start: $NOUT lines"
}
declare -A SEC CPU RSS NOTE
record() {	# KEY NOTE
	if [ "$NA" = 1 ]; then SEC[$1]=n/a; CPU[$1]=n/a; RSS[$1]=-; NOTE[$1]="not a pfi command yet"
	elif [ "$NA" = 2 ]; then SEC[$1]=fail; CPU[$1]=fail; RSS[$1]=-; NOTE[$1]="exit $RC"
	else SEC[$1]=$W; CPU[$1]=$C; RSS[$1]=$R; NOTE[$1]=$2; fi
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
DB=$BENCH_DIR/index.db
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB-journal"

say "1/9 zstdcat | wc -l"
measure 1 bash -c 'zstdcat "$1" | wc -l' sh "$LOG.zst"
got=$(cat "$TMP/out")
[ "$got" = "$LINES" ] || { say "bench: log has $got lines, not $LINES"; exit 1; }
record zcat "$got lines"

say "2/9 pflogsumm (this is the slow one)"
measure 1 "$PFLOGSUMM" "$LOG"
record pflogsumm "$NOUT report lines"

say "3/9 pfi index (fresh)"
measure 1 "$PFI" --db "$DB" index "$LOG.zst"
record index "$(tail -n 1 "$TMP/err" | sed 's/^indexed //' | cut -c1-90)"

# The floor: the same reading, parsing and correlation, nothing stored
# (bench/floor.c; make bench builds it and sets BENCH_FLOOR).
if [ -n "${BENCH_FLOOR:-}" ] && [ -x "$BENCH_FLOOR" ]; then
	say "3/9 floor: read, parse, correlate, nothing stored"
	measure 1 "$BENCH_FLOOR" "$LOG.zst"
	record floor "$(head -n 1 "$TMP/out" | cut -c1-90)"
else
	SEC[floor]=n/a; CPU[floor]=n/a; RSS[floor]=-
	NOTE[floor]="bench/floor not built (make bench builds it)"
fi

say "4/9 pfi index (nothing new)"
measure "$RUNS" "$PFI" --db "$DB" index "$LOG.zst"
record index2 "same file again"

QID=$(meta trace_qid)
TO=$(meta search_to)
MID=$(meta middle)
LASTDAY=$(meta last_day)
say "5/9 pfi trace / search"
measure "$RUNS" "$PFI" --db "$DB" trace "$QID"
record trace "$QID: $NOUT lines"
measure "$RUNS" "$PFI" --db "$DB" search --to "$TO" --since "$MID"
record search_sel "--to $TO --since $MID: $NOUT lines"
measure "$RUNS" "$PFI" --db "$DB" search --limit 10
record search_all "--limit 10: $NOUT lines"
say "6/9 pfi stats"
measure "$RUNS" "$PFI" --db "$DB" stats
record stats_all "everything: $NOUT lines"
measure "$RUNS" "$PFI" --db "$DB" stats --since "$LASTDAY"
record stats_day "--since $LASTDAY: $NOUT lines"

say "6/9 pfi metrics (a rendering, and a scrape of --listen)"
measure "$RUNS" "$PFI" --db "$DB" metrics
record metrics "one-shot render: $NOUT lines"
measure_scrape
record scrape "$SCRAPE_NOTE"

say "7/9 sizes"
DB_BYTES=0
for f in "$DB" "$DB-wal"; do
	[ -f "$f" ] && DB_BYTES=$((DB_BYTES + $(stat -c %s "$f")))
done

# Appending must cost what the new lines cost, whatever the index holds:
# the same kind of 1,000-line continuation goes on top of the full index
# and on top of an index of the log's first tenth.
say "8/9 pfi index (1,000 lines appended)"
SMALL=$BENCH_DIR/tenth.log
SMALL_LINES=$((LINES / 10))
head -n "$SMALL_LINES" "$LOG" >"$SMALL"
sed -n "$((SMALL_LINES + 1)),$((SMALL_LINES + 1000))p" "$LOG" >"$SMALL.more"
rm -f "$TMP/small.db"*
"$PFI" --db "$TMP/small.db" index "$SMALL" 2>/dev/null
measure_on_copy "$RUNS" "$TMP/small.db" "$TMP/append.db" \
	"$PFI" --db "$TMP/append.db" index "$SMALL.more"
record append_small "on an index of $SMALL_LINES lines"
measure_on_copy "$RUNS" "$DB" "$TMP/append.db" \
	"$PFI" --db "$TMP/append.db" index "$LOG.more"
record append "on the index of $LINES lines"
rm -f "$TMP/append.db"* "$TMP/small.db"* "$SMALL" "$SMALL.more"

# ---- report -----------------------------------------------------------------
say "9/9 report"
ratio() {	# A B -> A/B or n/a
	awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0)
		printf "%.3f", a / b; else printf "n/a" }'
}
mib() { awk -v a="$1" 'BEGIN { printf "%.1f MiB", a / 1048576 }'; }
verdict() {	# VALUE OP LIMIT
	awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { if (v !~ /^[0-9.]+$/) print "-";
		else if ((op == "<" && v < l) || (op == "<=" && v <= l)) print "ok";
		else print "MISSED" }'
}
row() {	# LABEL KEY
	local r=${RSS[$2]}
	[ "$r" != - ] && r=$(awk -v k="$r" 'BEGIN { printf "%.0f", k / 1024 }')
	printf '| %-34s | %8s | %8s | %7s | %s |\n' "$1" "${SEC[$2]}" "${CPU[$2]}" "$r" "${NOTE[$2]}"
}
R_SUMM=$(ratio "${SEC[index]}" "${SEC[pflogsumm]}")
R_ZCAT=$(ratio "${SEC[index]}" "${SEC[zcat]}")
C_SUMM=$(ratio "${CPU[index]}" "${CPU[pflogsumm]}")
C_ZCAT=$(ratio "${CPU[index]}" "${CPU[zcat]}")
R_FLOOR=$(ratio "${SEC[index]}" "${SEC[floor]}")
C_FLOOR=$(ratio "${CPU[index]}" "${CPU[floor]}")
R_SIZE=$(ratio "$DB_BYTES" "$LOG_BYTES")
R_APPEND=$(ratio "${SEC[append]}" "${SEC[append_small]}")
R_RSS=$(awk -v k="${RSS[index]}" 'BEGIN { if (k ~ /^[0-9]+$/) printf "%.0f", k/1024; else print "n/a" }')
{
	echo "## pfi benchmark, profile $PROFILE"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- load average at start: $LOAD0 (other work on the machine inflates wall times; cpu = user + sys)"
	echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
	echo "- pfi: $("$PFI" --version 2>/dev/null | head -n 1 || echo '?'); pflogsumm $(dpkg-query -W -f '${Version}' pflogsumm 2>/dev/null || echo '?'); zstd $(zstd -V | grep -o 'v[0-9.]*' | head -n 1)"
	echo "- log: $LINES lines, $(mib "$LOG_BYTES") ($(mib "$ZST_BYTES") as .zst), $(meta first) .. $(meta last) UTC, $(meta hosts) hosts; $(meta received) messages received, $(meta filtered) through the content filter; generated: $GEN_S"
	echo
	echo "| step                               |   wall s |    cpu s | RSS MiB | note |"
	echo "|------------------------------------|----------|----------|---------|------|"
	row "zstdcat FILE.zst \| wc -l (baseline)" zcat
	row "pflogsumm FILE (incumbent)" pflogsumm
	row "pfi index FILE.zst (fresh)" index
	row "floor: read, parse, correlate" floor
	row "pfi index FILE.zst (nothing new)" index2
	row "pfi trace QID" trace
	row "pfi search (selective)" search_sel
	row "pfi search --limit 10" search_all
	row "pfi stats (everything)" stats_all
	row "pfi stats --since (last day)" stats_day
	row "pfi metrics (render)" metrics
	row "pfi metrics --listen, one scrape" scrape
	row "pfi index +1,000 lines (small)" append_small
	row "pfi index +1,000 lines (full)" append
	echo
	echo "| ratio                          |  value | target | verdict |"
	echo "|--------------------------------|--------|--------|---------|"
	printf '| %-30s | %6s | %6s | %7s |\n' "pfi index / pflogsumm (wall)" "$R_SUMM" "<=0.25" "$(verdict "$R_SUMM" "<=" 0.25)"
	printf '| %-30s | %6s | %6s | %7s |\n' "pfi index / pflogsumm (cpu)" "$C_SUMM" "<=0.45" "$(verdict "$C_SUMM" "<=" 0.45)"
	printf '| %-30s | %6s | %6s | %7s |\n' "pfi index / zstdcat\|wc (wall)" "$R_ZCAT" "<=6" "$(verdict "$R_ZCAT" "<=" 6)"
	printf '| %-30s | %6s | %6s | %7s |\n' "pfi index / zstdcat\|wc (cpu)" "$C_ZCAT" "<=6" "$(verdict "$C_ZCAT" "<=" 6)"
	printf '| %-30s | %6s | %6s | %7s |\n' "pfi index / floor (wall)" "$R_FLOOR" "-" "-"
	printf '| %-30s | %6s | %6s | %7s |\n' "pfi index / floor (cpu)" "$C_FLOOR" "-" "-"
	printf '| %-30s | %6s | %6s | %7s |\n' "index bytes / log bytes" "$R_SIZE" "<=0.40" "$(verdict "$R_SIZE" "<=" 0.40)"
	printf '| %-30s | %6s | %6s | %7s |\n' "pfi index peak RSS (MiB)" "$R_RSS" "<=150" "$(verdict "$R_RSS" "<=" 150)"
	printf '| %-30s | %6s | %6s | %7s |\n' "nothing-new index (s)" "${SEC[index2]}" "<0.1" "$(verdict "${SEC[index2]}" "<" 0.1)"
	printf '| %-30s | %6s | %6s | %7s |\n' "+1,000 lines, full index (s)" "${SEC[append]}" "<=0.05" "$(verdict "${SEC[append]}" "<=" 0.05)"
	printf '| %-30s | %6s | %6s | %7s |\n' "append: full / tenth index" "$R_APPEND" "<=1.5" "$(verdict "$R_APPEND" "<=" 1.5)"
	printf '| %-30s | %6s | %6s | %7s |\n' "trace (s)" "${SEC[trace]}" "<0.02" "$(verdict "${SEC[trace]}" "<" 0.02)"
	printf '| %-30s | %6s | %6s | %7s |\n' "selective search (s)" "${SEC[search_sel]}" "<0.02" "$(verdict "${SEC[search_sel]}" "<" 0.02)"
	printf '| %-30s | %6s | %6s | %7s |\n' "stats, all time (s)" "${SEC[stats_all]}" "<0.15" "$(verdict "${SEC[stats_all]}" "<" 0.15)"
	printf '| %-30s | %6s | %6s | %7s |\n' "metrics scrape (s)" "${SEC[scrape]}" "<0.1" "$(verdict "${SEC[scrape]}" "<" 0.1)"
	echo
	echo "targets: issue 20 (trace, search and stats: on a 20M-line index); zstdcat, nothing new, append ratio: issue 6; scrape: issue 16"
	echo
	echo "index: $(mib "$DB_BYTES") for a $(mib "$LOG_BYTES") log; timed binary: $PFI"
} | tee "$BENCH_DIR/results-$PROFILE.md"
cp "$BENCH_DIR/results-$PROFILE.md" "$BENCH_DIR/results.md"
