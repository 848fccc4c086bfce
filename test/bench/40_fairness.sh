#!/bin/bash
# Bias statistics benchmark (issue 4, section 8): aisec.fairness() plus the
# report over N rows (default 10M) in 8 groups, against the baselines named
# in the issue, measured in the same run on the same data:
#   1. a scan reading the same columns: count(grp), count(y), count(p)
#   2. the plain-SQL confusion matrix: GROUP BY grp with four FILTERed counts
#   3. aisec.fairness() with 2 parallel workers against 0
# and, for context, the same aisec.fairness() computed by the Agg node
# (aisec.aggregate_scan = off) instead of the aggregate scan
# (src/core/aggscan.c), and count(*) of the same table.
# Each figure is the best of $AISEC_BENCH_REPEAT rounds (default 3), in ms,
# the workloads taking turns, each run after one warm-up in its session
# (lib.sh: turns).
# Uses psql with PGHOST/PGPORT/PGDATABASE from test/run.sh.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

rows=${AISEC_BENCH_ROWS:-10000000}
repeat=${AISEC_BENCH_REPEAT:-3}

# Data, generated once: 8 groups of unequal size, interleaved (no two
# neighbouring rows share a group, the worst case for a group cache), labels
# and predictions whose rates differ by group.  Frozen and vacuumed so every
# measurement reads the same all-visible pages.
sql <<SQL
CREATE EXTENSION IF NOT EXISTS aisec;
DROP TABLE IF EXISTS fair_bench;
CREATE TABLE fair_bench (grp text, y boolean, p boolean);
INSERT INTO fair_bench
SELECT 'group_' || (ARRAY[0,1,2,3,4,5,6,7,0,1,2,3,0,1,0,0])[1 + (i * 7) % 16],
       random() < 0.30 + 0.02 * (i % 8),
       random() < 0.25 + 0.04 * (i % 8)
FROM generate_series(1, $rows) i;
VACUUM (FREEZE, ANALYZE) fair_bench;
SQL

serial="SET max_parallel_workers_per_gather = 0;"
parallel="SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"

q_scan="SELECT count(grp), count(y), count(p) FROM fair_bench;"
q_plain="SELECT grp, count(*) FILTER (WHERE y AND p), count(*) FILTER (WHERE NOT y AND p), count(*) FILTER (WHERE y AND NOT p), count(*) FILTER (WHERE NOT y AND NOT p) FROM fair_bench GROUP BY grp;"
q_aisec="SELECT * FROM aisec.fairness_report((SELECT aisec.fairness(grp, y, p) FROM fair_bench));"
q_count="SELECT count(*) FROM fair_bench;"

turns -r "$repeat" -w 1 -s "$serial" scan "$q_scan" plain "$q_plain" aisec "$q_aisec" count "$q_count" \
	-s "$serial SET aisec.aggregate_scan = off;" aisec_agg "$q_aisec" \
	-s "$parallel" aisec_par "$q_aisec"

# Check the plans: serial, the aggregate scan; with 2 workers, a parallel
# aggregate scan whose partial states a Finalize Aggregate combines; with
# the aggregate scan off, the Agg node.
check_plan() {
	if ! sql "$1 EXPLAIN (COSTS OFF) $q_aisec" | grep -q "$2"; then
		echo "40_fairness: the plan for '$1' has no '$2'" >&2
		exit 1
	fi
}
check_plan "$serial" 'Custom Scan (aisec_aggregate_scan)'
check_plan "$parallel" 'Parallel Custom Scan (aisec_aggregate_scan)'
check_plan "$serial SET aisec.aggregate_scan = off;" 'Aggregate'

label=$(awk -v r="$rows" 'BEGIN { if (r >= 1e6) printf "%gM", r / 1e6; else printf "%d", r }')

line "fairness+report vs same-column scan, $label" "${ms[aisec]}" "${ms[scan]}" "<= 1.5x (aisec / scan)"
line -i "fairness+report vs plain-SQL matrix, $label" "${ms[aisec]}" "${ms[plain]}" ">= 1.5x (plain / aisec)"
line -i "fairness parallel 2 workers vs 0, $label" "${ms[aisec_par]}" "${ms[aisec]}" ">= 1.6x (0 / 2 workers)"
line -i "fairness: aggregate scan vs Agg node, $label" "${ms[aisec]}" "${ms[aisec_agg]}" "(context: Agg node / scan)"
line "fairness+report vs count(*), $label" "${ms[aisec]}" "${ms[count]}" "(context: aisec / count)"
