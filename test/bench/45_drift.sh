#!/bin/bash
# Benchmark: drift and contingency aggregates (doc/drift.md) against a scan
# that reads the same columns and against the plain-SQL formulation, on
# the same 10M-row table in the same run.  Serial plans unless stated; each
# figure is the best of three runs.  Prints lines in the harness format.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rows=${AISEC_BENCH_ROWS:-10000000}
sql <<SQL
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

# Best of three runs of a query, each a fresh session; $2: parallel workers
# allowed (default 0).
best_ms() { time_ms -f -s "SET max_parallel_workers_per_gather = ${2:-0}" "$1" 3; }

scan=$(best_ms "SELECT count(x), count(region) FROM drift_bench")
aisec=$(best_ms "SELECT aisec.histogram(x, 0, 100, 20), aisec.category_counts(region) FROM drift_bench")
plain=$(best_ms "SELECT width_bucket(x, 0, 100, 20), region, count(*) FROM drift_bench GROUP BY GROUPING SETS ((1), (2))")
report_ms "histogram+category_counts vs scan ($((rows / 1000000))M rows)" "$aisec" "$scan" "<= 1.5x"
report "histogram+category_counts vs plain SQL" "$(ms "$aisec")" "$(ms "$plain")" "$(ratio "$plain" "$aisec")" ">= 1.5x faster"

scan2=$(best_ms "SELECT count(region), count(approved) FROM drift_bench")
ct=$(best_ms "SELECT * FROM aisec.chi2_test((SELECT aisec.contingency(region, approved) FROM drift_bench))")
ctplain=$(best_ms "SELECT region, approved, count(*) FROM drift_bench GROUP BY 1, 2")
report_ms "contingency+chi2_test vs scan" "$ct" "$scan2" "<= 1.5x"
report "contingency+chi2_test vs plain GROUP BY" "$(ms "$ct")" "$(ms "$ctplain")" "$(ratio "$ctplain" "$ct")" ">= 1.5x faster"

par=$(best_ms "SELECT aisec.histogram(x, 0, 100, 20), aisec.category_counts(region) FROM drift_bench" 2)
report "histogram+category_counts 2 workers vs 0" "$(ms "$par")" "$(ms "$aisec")" "$(ratio "$aisec" "$par")" ">= 1.6x faster"

sql "DROP TABLE drift_bench"
