#!/bin/bash
# Citus benchmark (issue 19, item 6), run by test/citus/run.sh bench
# (`make bench-citus`) against the coordinator of its throwaway cluster:
# aisec.fairness(grp, y, p) over N rows (default 10M) of a table distributed
# in 32 shards over two workers, against, measured in the same run on the
# same data:
#   (a) distributed count(*), and count(grp), count(y), count(p): the
#       cheapest scans of the same shards, also pushed down;
#   (b) the raw-row pull aisec's aggregates did before they had a state
#       type Citus can ship: bench.fairness_rows, an aggregate with
#       fairness's own transition and final functions (read from the
#       catalog) and no combine function, which Citus cannot run on the
#       workers, so every row travels to the coordinator.
# Each figure is the best of $AISEC_BENCH_REPEAT rounds (default 3), in ms,
# the workloads taking turns, each run after one warm-up in its session
# (test/bench/lib.sh: turns, the timing method of every aisec benchmark).
# The plans are checked: (a) must be partial aggregates on the workers,
# (b) must not; the figures are printed either way, the check's outcome
# with them.  A last line, for context, is what Citus's path for custom
# aggregates costs by itself (bench.count_wrapped against count).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../bench/lib.sh
. "$(dirname "$0")/../bench/lib.sh"

rows=${AISEC_BENCH_ROWS:-10000000}
repeat=${AISEC_BENCH_REPEAT:-3}

# Data as in test/bench/40_fairness.sh: 8 groups of unequal size,
# interleaved, labels and predictions whose rates differ by group.  The
# rows are generated on the coordinator and copied into the shards once;
# then frozen and analyzed, so every run reads the same all-visible pages.
echo "loading $rows rows into 32 shards ..."
sql <<SQL
SET citus.shard_count = 32;
CREATE TABLE fair_dist (id bigint, grp text, y boolean, p boolean);
SELECT create_distributed_table('fair_dist', 'id');
INSERT INTO fair_dist
SELECT i, 'group_' || (ARRAY[0,1,2,3,4,5,6,7,0,1,2,3,0,1,0,0])[1 + (i * 7) % 16],
       random() < 0.30 + 0.02 * (i % 8),
       random() < 0.25 + 0.04 * (i % 8)
FROM generate_series(1, $rows) i;
VACUUM (FREEZE, ANALYZE) fair_dist;

CREATE SCHEMA bench;
-- What Citus's path for any custom aggregate costs by itself: count(y)
-- made of PostgreSQL's own C functions, but declared as an aggregate of
-- ours, which Citus runs through worker_partial_agg / coord_combine_agg
-- as it does aisec's (built-in count is rewritten natively instead).
CREATE AGGREGATE bench.count_wrapped(boolean) (
    SFUNC = int8inc_any, STYPE = int8, COMBINEFUNC = int8pl, INITCOND = '0');
-- The raw-row baseline: fairness's transition and final functions, no
-- combine function (whatever its state type is).
DO \$\$
DECLARE
    a pg_aggregate;
BEGIN
    SELECT * INTO a FROM pg_aggregate
    WHERE aggfnoid = 'aisec.fairness(text, boolean, boolean)'::regprocedure;
    EXECUTE format('CREATE AGGREGATE bench.fairness_rows(text, boolean, boolean) '
                   '(SFUNC = %s, STYPE = %s, FINALFUNC = %s)',
                   a.aggtransfn::regproc::text, a.aggtranstype::regtype::text,
                   a.aggfinalfn::regproc::text);
END
\$\$;
SQL

q_count="SELECT count(*) FROM fair_dist;"
q_count3="SELECT count(grp), count(y), count(p) FROM fair_dist;"
q_aisec="SELECT aisec.fairness(grp, y, p) FROM fair_dist;"
q_rows="SELECT bench.fairness_rows(grp, y, p) FROM fair_dist;"
q_count1="SELECT count(y) FROM fair_dist;"
q_wrapped="SELECT bench.count_wrapped(y) FROM fair_dist;"

# Both give the same state: the baseline computes what aisec computes.
same=$(sql "SELECT (SELECT aisec.fairness(grp, y, p) FROM fair_dist)::text = (SELECT bench.fairness_rows(grp, y, p) FROM fair_dist)::text")
[ "$same" = t ] || { echo "bench-citus: bench.fairness_rows and aisec.fairness disagree" >&2; exit 1; }

# Where each runs, from EXPLAIN VERBOSE: (a) worker_partial_agg in the
# worker query and coord_combine_agg on the coordinator; (b) neither.
pushed() {
	local plan
	plan=$(sql "EXPLAIN (VERBOSE, COSTS OFF) $1")
	if grep -q 'Query: SELECT .*worker_partial_agg(' <<<"$plan" && grep -q 'coord_combine_agg(' <<<"$plan"; then
		echo yes
	else
		echo no
	fi
}
echo
echo "EXPLAIN (VERBOSE, COSTS OFF) $q_aisec"
sql "EXPLAIN (VERBOSE, COSTS OFF) $q_aisec" | sed -E 's/port=[0-9]+/port=.../; s/^/    /'
echo "EXPLAIN (VERBOSE, COSTS OFF) $q_rows"
sql "EXPLAIN (VERBOSE, COSTS OFF) $q_rows" | sed -E 's/port=[0-9]+/port=.../; s/^/    /'
p_aisec=$(pushed "$q_aisec")
p_rows=$(pushed "$q_rows")
echo "partial aggregates on the workers: aisec.fairness $p_aisec (must be yes), bench.fairness_rows $p_rows (must be no)"

p_wrapped=$(pushed "$q_wrapped")

turns -r "$repeat" -w 1 count "$q_count" count3 "$q_count3" aisec "$q_aisec" rows "$q_rows" \
	count1 "$q_count1" wrapped "$q_wrapped"

# Two settings of the workers, each turned off for one timed workload of
# the same query: aisec.citus_partial_aggregates (Citus's own
# worker_partial_agg wrapper instead of aisec.fairness_partial,
# doc/scale-out.md) and aisec.aggregate_scan (the Agg node instead of the
# aggregate scan, src/core/aggscan.c).
workers_set() {
	sql "SELECT bool_and(success) FROM run_command_on_workers('ALTER SYSTEM $1')" >/dev/null
	sql "SELECT bool_and(success) FROM run_command_on_workers('SELECT pg_reload_conf()')" >/dev/null
	sleep 1
}
plan_has() {
	sql "EXPLAIN (VERBOSE, COSTS OFF) $q_aisec" | grep -q "$1" && echo yes || echo no
}
# off_on_workers NAME SETTING PATTERN: time $q_aisec as NAME with SETTING
# off on the workers; set plan_on/plan_off to whether the plan has PATTERN
# by default and with the setting off.
off_on_workers() {
	plan_on=$(plan_has "$3")
	workers_set "SET $2 = off"
	plan_off=$(plan_has "$3")
	turns -r "$repeat" -w 1 "$1" "$q_aisec"
	workers_set "RESET $2"
	echo "$3 in the plan: by default $plan_on (must be yes), $2 off $plan_off (must be no)"
}
off_on_workers wrapper aisec.citus_partial_aggregates 'aisec\.fairness_partial('
p_partial=$plan_on p_wrapper=$plan_off
off_on_workers noscan aisec.aggregate_scan 'Custom Scan (aisec_aggregate_scan)'
p_scan=$plan_on p_noscan=$plan_off

label=$(awk -v r="$rows" 'BEGIN { if (r >= 1e6) printf "%gM", r / 1e6; else printf "%d", r }')
header
line "Citus fairness vs count(*), $label, 32 shards" "${ms[aisec]}" "${ms[count]}" "<= 1.5x (aisec / count)"
line "Citus fairness vs count(g),count(y),count(p)" "${ms[aisec]}" "${ms[count3]}" "(aisec / counts)"
line -i "Citus fairness vs raw-row pull, $label" "${ms[aisec]}" "${ms[rows]}" ">= 4x (rows / aisec)"
line -i "Citus fairness: aisec's shard plan vs Citus's wrapper" "${ms[aisec]}" "${ms[wrapper]}" "(wrapper / aisec)"
line -i "Citus fairness: aggregate scan vs Agg node on shards" "${ms[aisec]}" "${ms[noscan]}" "(Agg node / scan)"
line "Citus's custom-aggregate path: count(y) as ours" "${ms[wrapped]}" "${ms[count1]}" "(context: wrapped / built-in)"

if [ "$p_aisec" != yes ] || [ "$p_rows" != no ] || [ "$p_wrapped" != yes ] ||
	[ "$p_partial" != yes ] || [ "$p_wrapper" != no ] || [ "$p_scan" != yes ] ||
	[ "$p_noscan" != no ]; then
	echo "bench-citus: the plans are not as the comparison needs (see above)" >&2
	exit 1
fi
