#!/bin/bash
# Benchmark: drift and contingency aggregates (doc/drift.md) against a scan
# that reads the same columns and against the plain-SQL formulation, on
# the same 10M-row table in the same run.  Serial plans unless stated; each
# figure is the best of three runs.  Prints lines in the harness format.
set -euo pipefail

rows=${AISEC_BENCH_ROWS:-10000000}
psql -qX -v ON_ERROR_STOP=1 <<SQL
CREATE EXTENSION IF NOT EXISTS aisec;
DROP TABLE IF EXISTS drift_bench;
CREATE TABLE drift_bench AS
SELECT i,
       ((i * 7919) % 100000) / 1000.0::float8 AS x,
       (ARRAY['north','south','east','west','centre','coast','hills','city'])[1 + (i * 31) % 8] AS region,
       CASE WHEN (i * 104729) % 100 < 40 + i % 8 * 3 THEN 'yes' ELSE 'no' END AS approved
  FROM generate_series(1, $rows::bigint) i;
VACUUM ANALYZE drift_bench;
SQL

# Best-of-three wall time (ms) of a query; $2: parallel workers allowed.
best_ms() {
	local q=$1 workers=${2:-0} best=""
	for _ in 1 2 3; do
		t=$(psql -qX -v ON_ERROR_STOP=1 \
			-c "SET max_parallel_workers_per_gather = $workers" \
			-c '\timing on' -c "$q" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
	done
	echo "$best"
}

line() {	# workload, aisec ms, baseline ms, target, how to read the ratio
	local ratio
	ratio=$(awk -v a="$2" -v b="$3" -v m="$5" 'BEGIN{ if (m == "speedup") printf "%.2fx", b / a; else printf "%.2fx", a / b }')
	printf '%-46s %14s %14s %9s  %s\n' "$1" "$2 ms" "$3 ms" "$ratio" "$4"
}

scan=$(best_ms "SELECT count(x), count(region) FROM drift_bench")
aisec=$(best_ms "SELECT aisec.histogram(x, 0, 100, 20), aisec.category_counts(region) FROM drift_bench")
plain=$(best_ms "SELECT width_bucket(x, 0, 100, 20), region, count(*) FROM drift_bench GROUP BY GROUPING SETS ((1), (2))")
line "histogram+category_counts vs scan ($((rows / 1000000))M rows)" "$aisec" "$scan" "<= 1.5x" ratio
line "histogram+category_counts vs plain SQL" "$aisec" "$plain" ">= 1.5x faster" speedup

scan2=$(best_ms "SELECT count(region), count(approved) FROM drift_bench")
ct=$(best_ms "SELECT * FROM aisec.chi2_test((SELECT aisec.contingency(region, approved) FROM drift_bench))")
ctplain=$(best_ms "SELECT region, approved, count(*) FROM drift_bench GROUP BY 1, 2")
line "contingency+chi2_test vs scan" "$ct" "$scan2" "<= 1.5x" ratio
line "contingency+chi2_test vs plain GROUP BY" "$ct" "$ctplain" ">= 1.5x faster" speedup

par=$(best_ms "SELECT aisec.histogram(x, 0, 100, 20), aisec.category_counts(region) FROM drift_bench" 2)
line "histogram+category_counts 2 workers vs 0" "$par" "$aisec" ">= 1.6x faster" speedup

psql -qX -c "DROP TABLE drift_bench"
