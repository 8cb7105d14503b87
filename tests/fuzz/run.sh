#!/bin/sh
# run.sh - runs each fuzz target for a while with its seeds (make fuzz-run).
#
#   sh tests/fuzz/run.sh SRCDIR DIR SECONDS 'LIBFUZZER FLAGS' TARGET...
#
# DIR is tests/fuzz of the build directory: it holds the fuzz_TARGET
# programs and seeds/TARGET (seed.sh).  New inputs go to corpus/TARGET,
# each target's output to TARGET.log, and a crashing input to
# findings/TARGET-crash-... .  Prints libFuzzer's closing "Done N runs"
# line per target, then "fuzz: N passed, N failed" (a target passes when
# it found nothing); exits 1 if any target crashed, leaked, ran out of
# memory or timed out.
set -u

src=${1:?}
dir=${2:?}
secs=${3:?}
flags=${4:-}
shift 4

# The dictionary of a target, if it has one.
dict() {
	case $1 in
	syslog | postfix | correlate) d=postfix ;;
	time | filter | read) d=$1 ;;
	*) return 0 ;;
	esac
	echo "-dict=$src/tests/fuzz/$d.dict"
}

failed=
nfailed=0
for t in "$@"; do
	mkdir -p "$dir/corpus/$t" "$dir/findings" "$dir/seeds/$t"
	printf 'fuzz_%-10s %s s: ' "$t" "$secs"
	# shellcheck disable=SC2046,SC2086
	if "$dir/fuzz_$t" -max_total_time="$secs" $flags $(dict "$t") \
	    -artifact_prefix="$dir/findings/$t-" \
	    "$dir/corpus/$t" "$dir/seeds/$t" > "$dir/$t.log" 2>&1; then
		grep '^Done ' "$dir/$t.log" || echo "(no Done line)"
	else
		echo "FAILED (see $dir/$t.log)"
		tail -n 60 "$dir/$t.log"
		failed="$failed $t"
		nfailed=$((nfailed + 1))
	fi
done
[ -z "$failed" ] || echo "fuzz: findings in:$failed (inputs in $dir/findings)"
echo "fuzz: $(($# - nfailed)) passed, $nfailed failed"
[ -z "$failed" ]
