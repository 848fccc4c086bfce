# shellcheck shell=bash
# Shared helpers for test/bench/*.sh (sourced, not run).
# The harness (test/run.sh bench) exports PGHOST, PGPORT, PGDATABASE and
# AISEC_BINDIR for a throwaway cluster.
#
# Timing.  Figures are in milliseconds.  All but client_ms are server-side
# wall times as psql's \timing prints them (client start-up, connection and
# printing not counted):
#   once_ms    one run, for statements that cannot be repeated
#   write_ms   one run right after a CHECKPOINT, for writes
#   time_ms    the best of N runs
#   client_ms  the best of N runs timed around the whole psql, rows to the
#              client included: what a client reading the rows sees
# A QUERY may hold several statements: it is sent as one query string
# (psql -c) and timed as a whole.  Unless SETTINGS are given the server's
# defaults apply (parallel query included).

PSQL="psql -X -q -v ON_ERROR_STOP=1"

# Run SQL quietly (unaligned, tuples only): the argument, or stdin if none.
sql() {
	if [ $# -gt 0 ]; then
		$PSQL -At -c "$1"
	else
		$PSQL -At
	fi
}

# Print psql's \timing figure for each of RUNS runs of QUERY in one session,
# after SETTINGS (untimed, may be empty).
timings() {
	local settings=$1 query=$2 runs=$3 args=() i
	if [ -n "$settings" ]; then args+=(-c "$settings"); fi
	args+=(-c '\timing on')
	for ((i = 0; i < runs; i++)); do args+=(-c "$query"); done
	$PSQL -o /dev/null "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
}

# Print the smallest of exactly N figures read from stdin; fail on fewer.
least() {
	awk -v n="$1" 'NR == 1 || $1 < m { m = $1 }
		END { if (NR != n) { print "bench: expected " n " timings, got " NR > "/dev/stderr"; exit 1 } print m }'
}

# Wall time of one run of QUERY, in a session of its own.
once_ms() { timings "" "$1" 1 | least 1; }

# Wall time of one run of a write, right after a CHECKPOINT, so that it
# pays neither for the dirty buffers and WAL a previous statement left
# behind nor for a checkpoint starting in the middle of it.
write_ms() { sql "CHECKPOINT"; once_ms "$1"; }

# time_ms [-s SETTINGS] [-w WARMUPS] [-f] QUERY [REPS]
# Best wall time of QUERY over REPS runs (default 3), all in one session.
#   -s SETTINGS  SQL run first in each session, untimed (e.g. SET ...)
#   -w WARMUPS   untimed runs of QUERY before the timed ones (default 0)
#   -f           a fresh session per run, so that no run profits from the
#                caches (catalog, keys, libraries) an earlier one filled
time_ms() {
	local settings="" warm=0 fresh=0 opt OPTIND=1 OPTARG i
	while getopts s:w:f opt; do
		case $opt in
		s) settings=$OPTARG ;;
		w) warm=$OPTARG ;;
		f) fresh=1 ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	local query=$1 reps=${2:-3}
	if [ $fresh = 1 ]; then
		for ((i = 0; i < reps; i++)); do
			timings "$settings" "$query" $((warm + 1)) | tail -n +$((warm + 1))
		done
	else
		timings "$settings" "$query" $((warm + reps)) | tail -n +$((warm + 1))
	fi | least "$reps"
}

# client_ms [-s SETTINGS] QUERY [REPS]
# Best wall time of QUERY over REPS runs (default 3) measured around psql
# itself, each run a fresh session (SETTINGS first) whose rows are sent to
# the client and discarded.  Whole milliseconds.
client_ms() {
	local settings="" opt OPTIND=1 OPTARG i s e
	while getopts s: opt; do
		case $opt in
		s) settings=$OPTARG ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	local query=$1 reps=${2:-3} args=()
	if [ -n "$settings" ]; then args+=(-c "$settings"); fi
	for ((i = 0; i < reps; i++)); do
		s=$(date +%s%N)
		$PSQL "${args[@]}" -c "$query" >/dev/null
		e=$(date +%s%N)
		echo $(((e - s) / 1000000))
	done | least "$reps"
}

# A time in ms as a figure: "1234.5 ms".
ms() { awk -v t="$1" 'BEGIN { printf "%.1f ms", t }'; }

# a / b as "1.23x" ("n/a" only if b is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2fx", a / b }'; }

# a as a percentage of b, "1.2%" ("n/a" only if b is 0).
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.1f%%", 100 * a / b }'; }

# Print one result line: workload, aisec figure, baseline figure, ratio, target.
report() {
	printf '%-46s %14s %14s %9s  %s\n' "$1" "$2" "$3" "$4" "$5"
}

# Print one result line for two times in ms: workload, aisec ms, baseline
# ms, target; the ratio is aisec / baseline.
report_ms() { report "$1" "$(ms "$2")" "$(ms "$3")" "$(ratio "$2" "$3")" "$4"; }
