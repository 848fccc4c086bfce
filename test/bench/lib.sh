# shellcheck shell=bash disable=SC2034 # ms and tps: the scripts read them
# The bench library: every test/bench/*.sh sources it for timing, best-of
# rounds, ratios and printing.  The harness (test/run.sh bench) exports
# PGHOST, PGPORT, PGDATABASE and AISEC_BINDIR for a throwaway cluster, and
# runs `bash lib.sh header` once for the table's header.
#
# Timing method, one for every figure: psql's \timing, in milliseconds.
# psql starts its clock when it sends a statement and stops it when the
# whole result is in: the server's work plus, for a query returning rows,
# every row sent to the client and parsed by libpq.  Session start-up,
# connecting and psql's printing of the rows are not counted: they are the
# same on both sides whatever aisec does, and for a statement of a few
# milliseconds (a commit) they would outweigh it.  So a "rows to the
# client" workload is timed like every other one: its figure includes the
# rows' trip to the client, not psql's formatting of them.
#
# The one exception is throughput under concurrent sessions (appends per
# second with 1 and 8 sessions): no statement's time gives it, so rates()
# asks pgbench, which counts the transactions that complete in a fixed
# time (its "tps", connection time excluded).  It is here, not in a script.
#
# Best of rounds, in turns.  turns() and rates() run every workload of a
# comparison once per round, in the order given, then the next round, and
# keep each one's best figure: the workloads, aisec's and the baselines',
# take turns, so that a change in the machine's load meets them alike.
#
# Unless SETTINGS are given the server's defaults apply (parallel query
# included).  A QUERY may hold several statements: it is sent as one query
# string (psql -c) and timed as a whole.

PSQL="psql -X -q -v ON_ERROR_STOP=1"

# Figures by workload name, each set by the latest turns() or rates() call
# that names it: ms[NAME] in ms, tps[NAME] in transactions per second.
declare -A ms=() tps=()

# Run SQL quietly (unaligned, tuples only): the argument, or stdin if none.
sql() {
	if [ $# -gt 0 ]; then
		$PSQL -At -c "$1"
	else
		$PSQL -At
	fi
}

# run_ms SETTINGS QUERY WARMUPS: in a session of its own, SETTINGS (untimed,
# may be empty), WARMUPS untimed runs of QUERY, then one timed run; prints
# the timed run's figure.
run_ms() {
	local args=() i
	if [ -n "$1" ]; then args+=(-c "$1"); fi
	args+=(-c '\timing on')
	for ((i = 0; i <= $3; i++)); do args+=(-c "$2"); done
	$PSQL -o /dev/null "${args[@]}" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' |
		awk -v n="$(($3 + 1))" '{ t = $1 }
			END { if (NR != n) { print "bench: expected " n " timings, got " NR > "/dev/stderr"; exit 1 } print t }'
}

# turns [OPTIONS] NAME QUERY [[-s SETTINGS] NAME QUERY ...]
# Best figure of each QUERY over ROUNDS rounds, the workloads taking turns
# (see above); each run is a session of its own.  Sets ms[NAME].
#   -r ROUNDS    rounds (default 3); 1 for a statement that cannot repeat
#   -w WARMUPS   untimed runs of QUERY before the timed one, in the same
#                session (default 0: the timed run fills the session's
#                caches, catalog, keys, libraries, itself)
#   -c           a CHECKPOINT before each run, for writes: no run pays for
#                the dirty buffers and WAL an earlier one left behind, nor
#                for a checkpoint starting in the middle of it
#   -b FUNCTION  called (untimed) with the round's number before each round,
#                e.g. to give each round fresh tables
#   -p ARRAY     the name of an array with one word per round: in round N,
#                %R in every QUERY is replaced by the array's Nth word (and
#                ROUNDS is the array's length)
#   -s SETTINGS  SQL run first in the session, untimed; applies to the
#                workloads named after it, and may be given again between
#                them (e.g. serial, then parallel)
turns() {
	local rounds=3 warm=0 ckpt=0 hook="" per="" settings="" r i q t
	local names=() queries=() sets=() best=()
	while [ $# -gt 0 ]; do
		case $1 in
		-r) rounds=$2; shift 2 ;;
		-w) warm=$2; shift 2 ;;
		-c) ckpt=1; shift ;;
		-b) hook=$2; shift 2 ;;
		-p) per=$2; shift 2 ;;
		-s) settings=$2; shift 2 ;;
		-*) echo "turns: unknown option $1" >&2; return 2 ;;
		*)
			[ $# -ge 2 ] || { echo "turns: $1 has no query" >&2; return 2; }
			names+=("$1"); queries+=("$2"); sets+=("$settings"); shift 2 ;;
		esac
	done
	if [ -n "$per" ]; then
		local -n _turns_words=$per
		rounds=${#_turns_words[@]}
	fi
	for ((r = 1; r <= rounds; r++)); do
		if [ -n "$hook" ]; then "$hook" "$r"; fi
		for i in "${!names[@]}"; do
			q=${queries[i]}
			if [ -n "$per" ]; then q=${q//"%R"/${_turns_words[r - 1]}}; fi
			if [ $ckpt = 1 ]; then sql "CHECKPOINT"; fi
			t=$(run_ms "${sets[i]}" "$q" "$warm")
			best[i]=$(least "${best[i]:-}" "$t")
		done
	done
	for i in "${!names[@]}"; do ms[${names[i]}]=${best[i]}; done
}

# rates [OPTIONS] NAME FILE [NAME FILE ...]
# Transactions per second of pgbench script FILE (the exception above),
# CLIENTS sessions for SECONDS, the workloads taking turns over ROUNDS
# rounds; keeps each one's highest figure (whole numbers).  Sets tps[NAME].
#   -r ROUNDS    rounds (default 1)
#   -c CLIENTS   concurrent sessions, one pgbench thread each (default 1)
#   -T SECONDS   length of each run (default 10)
#   -o OPTIONS   server options for every session (PGOPTIONS)
rates() {
	local rounds=1 clients=1 secs=10 opts="" r i t OPTIND=1 OPTARG opt
	while getopts r:c:T:o: opt; do
		case $opt in
		r) rounds=$OPTARG ;;
		c) clients=$OPTARG ;;
		T) secs=$OPTARG ;;
		o) opts=$OPTARG ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	local names=() files=() best=()
	while [ $# -ge 2 ]; do names+=("$1"); files+=("$2"); shift 2; done
	[ $# = 0 ] || { echo "rates: $1 has no file" >&2; return 2; }
	for ((r = 1; r <= rounds; r++)); do
		for i in "${!names[@]}"; do
			t=$(PGOPTIONS=$opts "$AISEC_BINDIR/pgbench" -n -T "$secs" -c "$clients" -j "$clients" \
				-f "${files[i]}" 2>/dev/null | sed -n 's/^tps = \([0-9]*\).*/\1/p')
			[ -n "$t" ] || { echo "rates: pgbench gave no tps for ${names[i]}" >&2; return 1; }
			best[i]=$(most "${best[i]:-}" "$t")
		done
	done
	for i in "${!names[@]}"; do tps[${names[i]}]=${best[i]}; done
}

# The smaller / larger of two figures; an empty first one is no figure yet.
least() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
most() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 > a + 0) ? b : a }'; }

# a + b, for a figure made of two timed statements.
plus() { awk -v a="$1" -v b="$2" 'BEGIN { print a + b }'; }

# Items per second: N items in MS milliseconds, a whole number.
per_s() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%d", n / (t / 1000) }'; }

# a / b as "1.23x" ("n/a" only if b is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2fx", a / b }'; }

# a as a percentage of b, "1.2%" ("n/a" only if b is 0).
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.1f%%", 100 * a / b }'; }

# A figure in its unit: ms "1234.5 ms", rate "1234/s", bytes "1234 kB".
fig() {
	case $1 in
	ms) awk -v t="$2" 'BEGIN { printf "%.1f ms", t }' ;;
	rate) echo "$2/s" ;;
	bytes) echo "$(($2 / 1024)) kB" ;;
	*) echo "bench: unknown unit $1" >&2; return 2 ;;
	esac
}

# The table's columns: workload, aisec figure, baseline figure, ratio, target.
LINE_FORMAT='%-46s %14s %14s %9s  %s\n'
# shellcheck disable=SC2059 # the format is LINE_FORMAT
header() { printf "\n$LINE_FORMAT" "workload" "aisec" "baseline" "ratio" "target"; }

# line [-u UNIT] [-i | -p] WORKLOAD A B TARGET
# Print one result line: A is aisec's figure, B the baseline's, both
# measured in this run on the same data.  The ratio is A / B, or
#   -i  B / A, for targets that say how many times faster aisec is
#   -p  A as a percentage of B
#   -u UNIT  the figures' unit: ms (default), rate (per second), bytes
line() {
	local unit=ms how=x opt OPTIND=1 OPTARG r
	while getopts u:ip opt; do
		case $opt in
		u) unit=$OPTARG ;;
		i) how=i ;;
		p) how=p ;;
		*) return 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	case $how in
	x) r=$(ratio "$2" "$3") ;;
	i) r=$(ratio "$3" "$2") ;;
	p) r=$(pct "$2" "$3") ;;
	esac
	# shellcheck disable=SC2059 # the format is LINE_FORMAT
	printf "$LINE_FORMAT" "$1" "$(fig "$unit" "$2")" "$(fig "$unit" "$3")" "$r" "$4"
}

# `bash lib.sh header` (test/run.sh) prints the header; run without
# arguments (the harness's loop over test/bench/*.sh) it does nothing.
if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = header ]; then header; fi
