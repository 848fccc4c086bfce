#!/bin/bash
# Row lineage benchmarks (doc/lineage.md): recording edges explicitly, and
# walking lineage up and down through three levels, each against the
# cheapest PostgreSQL baseline on the same data in the same run: a plain
# (child, parent) table with a btree on each side, walked by a recursive
# CTE; and automatic capture of INSERT ... SELECT (1:1 with a filter)
# against the same statement with aisec.lineage = off.
#
# Uses PGHOST/PGPORT/PGDATABASE from test/run.sh.  Prints one line per
# workload: workload, aisec figure, baseline figure, ratio, target.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${AISEC_BENCH_LINEAGE_ROWS:-100000}

sql "CREATE EXTENSION IF NOT EXISTS aisec"

# Four tracked tables of n rows, l0 <- l1 <- l2 <- l3, row i of each made
# from row i of the one before (record_lineage, one call per level), and
# the same edges in a plain table.  $1: suffix, $2: rows.
build() {
	local s=$1 n=$2 k
	for k in 0 1 2 3; do
		sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bl${s}_$k"
		sql "CREATE TABLE bl${s}_$k (id int, v int)"
		sql "INSERT INTO bl${s}_$k SELECT g, g FROM generate_series(1, $n) g"
		sql "SELECT aisec.track('bl${s}_$k')" >/dev/null
	done
	sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bl${s}_plain"
	sql "CREATE TABLE bl${s}_plain (child bigint NOT NULL, parent bigint NOT NULL)"
	for k in 1 2 3; do
		sql "SELECT aisec.record_lineage(array_agg(c.aisec_rid ORDER BY c.id), array_agg(p.aisec_rid ORDER BY c.id), 'bench')
		     FROM bl${s}_$k c JOIN bl${s}_$((k - 1)) p USING (id)" >/dev/null
		sql "INSERT INTO bl${s}_plain SELECT c.aisec_rid, p.aisec_rid FROM bl${s}_$k c JOIN bl${s}_$((k - 1)) p USING (id)"
	done
	sql "CREATE INDEX ON bl${s}_plain (child); CREATE INDEX ON bl${s}_plain (parent)"
	sql "VACUUM ANALYZE bl${s}_plain"
	sql "VACUUM ANALYZE aisec.lineage_edge"
}

# The recursive CTE that a plain edge table needs, 3 levels up or down.
cte() {
	local s=$1 from=$2 to=$3 rid=$4
	echo "WITH RECURSIVE w(rid, depth) AS (SELECT $rid::bigint, 0
	      UNION SELECT e.$to, w.depth + 1 FROM w JOIN bl${s}_plain e ON e.$from = w.rid WHERE w.depth < 3)
	      SELECT count(*) FROM w WHERE depth > 0"
}

build s "$ROWS"
build b $((ROWS * 10))

for s in s b; do
	top=$(sql "SELECT aisec_rid FROM bl${s}_3 WHERE id = $((ROWS / 2))")
	bottom=$(sql "SELECT aisec_rid FROM bl${s}_0 WHERE id = $((ROWS / 2))")
	turns -r 5 -w 3 "up$s" "SELECT count(*) FROM aisec.lineage_up($top)" "cteup$s" "$(cte "$s" child parent "$top")" \
		"down$s" "SELECT count(*) FROM aisec.lineage_down($bottom)" "ctedown$s" "$(cte "$s" parent child "$bottom")"
done
line "lineage_up, one row, 3 levels, vs recursive CTE" "${ms[ups]}" "${ms[cteups]}" "< 1 ms"
line "lineage_down, one row, 3 levels, vs recursive CTE" "${ms[downs]}" "${ms[ctedowns]}" "< 1 ms"
line "lineage_up at 10x the data vs 1x" "${ms[upb]}" "${ms[ups]}" "<= 2x"
line "lineage_down at 10x the data vs 1x" "${ms[downb]}" "${ms[downs]}" "<= 2x"

# Recording: one call of ROWS edges (1:1) against inserting the same pairs
# into the plain table (which has its two indexes).
sql "CREATE TABLE IF NOT EXISTS bl_pairs (child bigint NOT NULL, parent bigint NOT NULL)"
sql "CREATE INDEX IF NOT EXISTS bl_pairs_child ON bl_pairs (child); CREATE INDEX IF NOT EXISTS bl_pairs_parent ON bl_pairs (parent)"
turns -r 3 -c record "SELECT aisec.record_lineage(array_agg(c.aisec_rid), array_agg(p.aisec_rid), 'bench')
                      FROM bls_2 c JOIN bls_1 p USING (id)" \
	plain "INSERT INTO bl_pairs SELECT c.aisec_rid, p.aisec_rid FROM bls_2 c JOIN bls_1 p USING (id)"
line "record_lineage $ROWS edges 1:1 vs INSERT of the pairs" "${ms[record]}" "${ms[plain]}" "(reference)"
# Storage: every edge recorded above (3 x 11 x ROWS by build, 3 x ROWS by
# the timed calls) against the plain tables holding the same pairs.
ls=$(sql "SELECT pg_total_relation_size('aisec.lineage_edge')")
ps=$(sql "SELECT pg_total_relation_size('bls_plain') + pg_total_relation_size('blb_plain') + pg_total_relation_size('bl_pairs')")
line -u bytes "lineage storage, 1:1 edges, vs plain pairs" "$ls" "$ps" "(reference)"

# Automatic capture (doc/lineage.md "Automatic capture"): INSERT ... SELECT
# of CAP rows 1:1 with a filter from a tracked source into a tracked
# target, capture on vs aisec.lineage = off: same source, same statement,
# same run, a fresh empty tracked target each run.
CAP=${AISEC_BENCH_CAPTURE_ROWS:-1000000}
sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bc_src"
sql "CREATE TABLE bc_src (id int, v text, n int)"
sql "INSERT INTO bc_src SELECT g, md5(g::text), g % 97 FROM generate_series(1, $((CAP * 11 / 10))) g"
sql "SELECT aisec.track('bc_src')" >/dev/null
sql "VACUUM ANALYZE bc_src"
# shellcheck disable=SC2034 # read by turns -p
capture_rounds=(1 2 3 4 5)
# Fresh empty tracked tables PREFIX_on_R and PREFIX_off_R (COLUMNS) for
# each round R.
round_tables() {
	local prefix=$1 cols=$2 r m
	for r in "${capture_rounds[@]}"; do
		for m in on off; do
			sql "SET client_min_messages = warning; DROP TABLE IF EXISTS ${prefix}_${m}_$r"
			sql "CREATE TABLE ${prefix}_${m}_$r ($cols)"
			sql "SELECT aisec.track('${prefix}_${m}_$r')" >/dev/null
		done
	done
}
round_tables bc "src int, v text, n int"
turns -c -p capture_rounds \
	capon "INSERT INTO bc_on_%R (src, v, n) SELECT id, upper(v), n FROM bc_src WHERE id % 11 <> 0" \
	-s "SET aisec.lineage = off" \
	capoff "INSERT INTO bc_off_%R (src, v, n) SELECT id, upper(v), n FROM bc_src WHERE id % 11 <> 0"
edges=$(sql "SELECT t.edges || ' edges, ' || (SELECT count(*) FROM aisec.lineage_edge e WHERE e.transform = t.id) || ' rows'
             FROM aisec.lineage_transform t JOIN aisec.tracked g ON g.table_no = t.targets[1]
             WHERE g.rel = 'bc_on_1'::regclass AND t.kind = 'insert_select'")
line "INSERT ... SELECT $CAP rows 1:1 + filter, capture on vs off ($edges)" "${ms[capon]}" "${ms[capoff]}" "<= 1.3x"

# A 2-way join, CAP x CAP rows on the key, into a tracked target: each
# written row has two parents (one per side), capture on vs off.
sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bc_side"
sql "CREATE TABLE bc_side (id int, w text)"
sql "INSERT INTO bc_side SELECT g, md5((g * 7)::text) FROM generate_series(1, $CAP) g"
sql "SELECT aisec.track('bc_side')" >/dev/null
sql "VACUUM ANALYZE bc_side"
round_tables bj "src int, v text, w text"
turns -c -p capture_rounds \
	joinon "INSERT INTO bj_on_%R (src, v, w) SELECT s.id, s.v, d.w FROM bc_src s JOIN bc_side d ON d.id = s.id" \
	-s "SET aisec.lineage = off" \
	joinoff "INSERT INTO bj_off_%R (src, v, w) SELECT s.id, s.v, d.w FROM bc_src s JOIN bc_side d ON d.id = s.id"
edges=$(sql "SELECT t.edges || ' edges, ' || (SELECT count(*) FROM aisec.lineage_edge e WHERE e.transform = t.id) || ' rows'
             FROM aisec.lineage_transform t JOIN aisec.tracked g ON g.table_no = t.targets[1]
             WHERE g.rel = 'bj_on_1'::regclass AND t.level = 'row'")
line "2-way join $CAP x $CAP rows, capture on vs off ($edges)" "${ms[joinon]}" "${ms[joinoff]}" "<= 1.5x"

# The same join with the other side stored in random order: its parents
# come in an order far from their ids, and are written twice (runs of
# children for lineage_up, runs of parents for lineage_down).
sql "SET client_min_messages = warning; DROP TABLE IF EXISTS bc_shuffled"
sql "CREATE TABLE bc_shuffled (id int, w text)"
sql "INSERT INTO bc_shuffled SELECT id, w FROM bc_side ORDER BY md5(id::text)"
sql "SELECT aisec.track('bc_shuffled')" >/dev/null
sql "VACUUM ANALYZE bc_shuffled"
round_tables bk "src int, v text, w text"
turns -c -p capture_rounds \
	shufon "INSERT INTO bk_on_%R (src, v, w) SELECT s.id, s.v, d.w FROM bc_src s JOIN bc_shuffled d ON d.id = s.id" \
	-s "SET aisec.lineage = off" \
	shufoff "INSERT INTO bk_off_%R (src, v, w) SELECT s.id, s.v, d.w FROM bc_src s JOIN bc_shuffled d ON d.id = s.id"
edges=$(sql "SELECT t.edges || ' edges, ' || (SELECT count(*) FROM aisec.lineage_edge e WHERE e.transform = t.id) || ' rows'
             FROM aisec.lineage_transform t JOIN aisec.tracked g ON g.table_no = t.targets[1]
             WHERE g.rel = 'bk_on_1'::regclass AND t.level = 'row'")
line "2-way join, one side in random order, capture on vs off ($edges)" "${ms[shufon]}" "${ms[shufoff]}" "<= 1.5x"

# GROUP BY into 1,000 groups over the CAP-row source: each group's parents
# are a set of ~CAP/1000 rows; capture on vs off, and the lineage storage
# one such statement adds (edge table and its indexes) against the
# source table's size.
round_tables bg "k int, n bigint, s bigint"
sql "CHECKPOINT"
before=$(sql "SELECT pg_total_relation_size('aisec.lineage_edge')")
turns -c -p capture_rounds \
	groupon "INSERT INTO bg_on_%R SELECT id % 1000, count(*), sum(n) FROM bc_src WHERE id <= $CAP GROUP BY id % 1000" \
	-s "SET aisec.lineage = off" \
	groupoff "INSERT INTO bg_off_%R SELECT id % 1000, count(*), sum(n) FROM bc_src WHERE id <= $CAP GROUP BY id % 1000"
after=$(sql "SELECT pg_total_relation_size('aisec.lineage_edge')")
edges=$(sql "SELECT t.edges || ' edges, ' || (SELECT count(*) FROM aisec.lineage_edge e WHERE e.transform = t.id) || ' rows'
             FROM aisec.lineage_transform t JOIN aisec.tracked g ON g.table_no = t.targets[1]
             WHERE g.rel = 'bg_on_1'::regclass AND t.level = 'row'")
line "GROUP BY 1,000 groups over $CAP rows, capture on vs off ($edges)" "${ms[groupon]}" "${ms[groupoff]}" "<= 1.5x"
src=$(sql "SELECT pg_total_relation_size('bc_src')")
line -u bytes "lineage storage of that GROUP BY vs the source table" "$(( (after - before) / ${#capture_rounds[@]} ))" "$src" "<= 0.10x"
