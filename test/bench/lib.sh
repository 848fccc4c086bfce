# Shared helpers for test/bench/*.sh (sourced, not run).
# The harness (test/run.sh bench) exports PGHOST, PGPORT, PGDATABASE and
# AISEC_BINDIR for a throwaway cluster.

PSQL="psql -X -q -v ON_ERROR_STOP=1"

# Run SQL quietly.
sql() { $PSQL -At -c "$1"; }

# Best wall time in ms of a statement over N runs (default 3), from psql's
# \timing, so client start-up is not counted.
time_ms() {
	local query=$1 reps=${2:-3}
	{
		echo '\timing on'
		for _ in $(seq 1 "$reps"); do echo "$query;"; done
	} | $PSQL -o /dev/null 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -g | head -1
}

# Print one result line: workload, aisec figure, baseline figure, ratio, target.
report() {
	printf '%-46s %14s %14s %9s  %s\n' "$1" "$2" "$3" "$4" "$5"
}

# a / b to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
