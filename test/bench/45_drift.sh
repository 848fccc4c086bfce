#!/bin/bash
# Benchmark: drift and contingency aggregates (doc/drift.md) against a scan
# that reads the same columns and against the plain-SQL formulation, on
# the same 10M-row table in the same run.  Serial plans unless stated; each
# figure is the best of three runs, each a fresh session, the workloads
# taking turns (lib.sh: turns).  Prints lines in the harness format.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
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

hist="SELECT aisec.histogram(x, 0, 100, 20), aisec.category_counts(region) FROM drift_bench"
turns -s "SET max_parallel_workers_per_gather = 0" \
	scan "SELECT count(x), count(region) FROM drift_bench" \
	aisec "$hist" \
	plain "SELECT width_bucket(x, 0, 100, 20), region, count(*) FROM drift_bench GROUP BY GROUPING SETS ((1), (2))" \
	scan2 "SELECT count(region), count(approved) FROM drift_bench" \
	ct "SELECT * FROM aisec.chi2_test((SELECT aisec.contingency(region, approved) FROM drift_bench))" \
	ctplain "SELECT region, approved, count(*) FROM drift_bench GROUP BY 1, 2" \
	-s "SET max_parallel_workers_per_gather = 2" par "$hist"
line "histogram+category_counts vs scan ($((rows / 1000000))M rows)" "${ms[aisec]}" "${ms[scan]}" "<= 1.5x"
line -i "histogram+category_counts vs plain SQL" "${ms[aisec]}" "${ms[plain]}" ">= 1.5x faster"
line "contingency+chi2_test vs scan" "${ms[ct]}" "${ms[scan2]}" "<= 1.5x"
line -i "contingency+chi2_test vs plain GROUP BY" "${ms[ct]}" "${ms[ctplain]}" ">= 1.5x faster"
line -i "histogram+category_counts 2 workers vs 0" "${ms[par]}" "${ms[aisec]}" ">= 1.6x faster"

sql "DROP TABLE drift_bench"
