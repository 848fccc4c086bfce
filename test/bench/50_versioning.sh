#!/bin/bash
# Dataset versioning benchmarks: write overhead of tracking, commit, storage,
# checkout and diff, each against the cheapest PostgreSQL baseline on the
# same data in the same run (doc/versioning.md, "Performance").
#
# Uses PGHOST/PGPORT/PGDATABASE from test/run.sh.  Prints one line per
# workload: workload, aisec figure, baseline figure, ratio, target.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

ROWS=${AISEC_BENCH_ROWS:-1000000}
VERSIONS=${AISEC_BENCH_VERSIONS:-100}

sql "CREATE EXTENSION IF NOT EXISTS aisec"

# A fresh pair of empty tables, the second one tracked.
fresh_tables() {
	if [ "$(sql "SELECT count(*) FROM aisec.tracked WHERE rel = to_regclass('bv_tracked')")" = 1 ]; then
		sql "SELECT aisec.untrack('bv_tracked')" >/dev/null
	fi
	for t in bv_plain bv_tracked; do
		sql "DROP TABLE IF EXISTS $t"
		sql "CREATE TABLE $t (
		    id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL,
		    income numeric(12,2) NOT NULL, sex text NOT NULL, age_band text NOT NULL,
		    region text NOT NULL, approved boolean NOT NULL, repaid boolean NOT NULL,
		    applied_on date NOT NULL)"
	done
	sql "SELECT aisec.track('bv_tracked')" >/dev/null
}

# The smaller of two figures.
least2() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }

fill() {
	echo "INSERT INTO $1
	SELECT g, 'Name ' || g, 'person' || g || '@example.com',
	       round((18000 + (g * 7919 % 90000))::numeric, 2),
	       CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END,
	       (ARRAY['18-25','26-40','41-60','61+'])[1 + g % 4],
	       (ARRAY['north','south','east','west'])[1 + g % 4],
	       g % 3 = 0, g % 5 <> 0, date '2025-01-01' + (g % 365)::int
	FROM generate_series(1::bigint, $ROWS) g"
}

# Figures use the server's default settings (parallel query allowed).
# Writes on both sides are timed right after a CHECKPOINT (write_ms), so
# that neither side pays for the dirty buffers and WAL the other one left
# behind.  Single rounds move by 30% on a shared machine, so each write is
# the best of several rounds per side: the INSERT of five, each into a
# fresh pair of tables; the UPDATE and the DELETE of three, each on its
# own pair of tables in the same state (loaded, committed, vacuumed).

# 1. Write overhead: the same statements on a plain and a tracked table.
# Inserted rows get their history records at the next commit, so the
# INSERT is also shown together with that commit, for reference.
a=""; b=""
for round in 1 2 3 4 5; do
	fresh_tables
	b=$(least2 "$b" "$(write_ms "$(fill bv_plain)")")
	a=$(least2 "$a" "$(write_ms "$(fill bv_tracked)")")
done
sql "SELECT aisec.create_dataset('bench', ARRAY['bv_tracked'::regclass])" >/dev/null
report_ms "INSERT $ROWS rows, tracked vs plain (best of 5)" "$a" "$b" "<= 1.3x"
c=$(write_ms "SELECT aisec.commit('bench', 'v1')")
v1=$(sql "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
report_ms "INSERT and the commit recording it, vs plain" "$(awk -v a="$a" -v c="$c" 'BEGIN { print a + c }')" "$b" "(reference)"
sql "VACUUM ANALYZE bv_plain"; sql "VACUUM ANALYZE bv_tracked"
# The table's size, for the storage figure: freshly loaded, before the
# writes below leave dead row versions in it.
tsize=$(sql "SELECT pg_total_relation_size('bv_plain')")

# Two more pairs of tables, loaded, committed and vacuumed like the first,
# for the first two rounds of UPDATE and DELETE; the third is the first
# pair's, whose versions the rest of this benchmark reads.
for k in 1 2; do
	for t in bv_plain_$k bv_tracked_$k; do
		sql "CREATE TABLE $t (LIKE bv_plain INCLUDING ALL)"
	done
	sql "SELECT aisec.track('bv_tracked_$k')" >/dev/null
	sql "$(fill bv_plain_$k)"; sql "$(fill bv_tracked_$k)"
	sql "SELECT aisec.create_dataset('bench_$k', ARRAY['bv_tracked_$k'::regclass])" >/dev/null
	sql "SELECT aisec.commit('bench_$k', 'v1')" >/dev/null
	sql "VACUUM ANALYZE bv_plain_$k"; sql "VACUUM ANALYZE bv_tracked_$k"
done

# alt_ms QUERY_A QUERY_B [ROUNDS]: the best of ROUNDS (default 3) rounds
# per side, the two sides taking turns, so that a change in the machine's
# load meets both alike; in each round each side runs in a session of its
# own, once to warm its caches and once timed.  Prints "a b".
alt_ms() {
	local a="" b="" r
	for ((r = 0; r < ${3:-3}; r++)); do
		a=$(least2 "$a" "$(time_ms -w 1 "$1" 1)")
		b=$(least2 "$b" "$(time_ms -w 1 "$2" 1)")
	done
	echo "$a $b"
}

# best3 STATEMENT-TEMPLATE: the best of three rounds per side, one per pair
# of tables (%T is replaced by the table's name); prints "tracked plain".
best3() {
	local a="" b="" sfx
	for sfx in _1 _2 ""; do
		b=$(least2 "$b" "$(write_ms "${1//%T/bv_plain$sfx}")")
		a=$(least2 "$a" "$(write_ms "${1//%T/bv_tracked$sfx}")")
	done
	echo "$a $b"
}
read -r ua ub <<<"$(best3 "UPDATE %T SET income = income + 1 WHERE id % 10 = 0")"
report_ms "UPDATE 10% of rows, tracked vs plain (best of 3)" "$ua" "$ub" "<= 2x"
read -r a b <<<"$(best3 "DELETE FROM %T WHERE id % 100 = 1")"
report_ms "DELETE 1% of rows, tracked vs plain (best of 3)" "$a" "$b" "<= 2x"
# The UPDATE was the table's first change since its commit, so it left
# ending its rows' old records to the next commit, timed here (it also
# records the DELETE, which ended its records itself).
c=$(write_ms "SELECT aisec.commit('bench', 'v2')")
v2=$(sql "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
report_ms "UPDATE and the commit ending its old records, vs plain" "$(awk -v a="$ua" -v c="$c" 'BEGIN { print a + c }')" "$ub" "(reference)"
sql "VACUUM ANALYZE bv_tracked"; sql "VACUUM ANALYZE bv_plain"

# 2. Commit after changing 1% of rows vs copying the table; storage added.
hist=$(sql "SELECT history FROM aisec.tracked WHERE rel = 'bv_tracked'::regclass")
ended=$(sql "SELECT ended FROM aisec.tracked WHERE rel = 'bv_tracked'::regclass")
hsize() { sql "SELECT pg_total_relation_size('$hist') + pg_total_relation_size('$ended')"; }
size0=$(hsize)
sql "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 2"
a=$(once_ms "SELECT aisec.commit('bench', 'one percent')")
v3=$(sql "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
b=$(once_ms "CREATE TABLE bv_copy AS SELECT * FROM bv_plain")
report "commit after 1% change vs CREATE TABLE AS" "$(ms "$a")" "$(ms "$b")" "$(pct "$a" "$b")" "<= 5%"
size1=$(hsize)
report "storage added by that version vs table size" "$(( (size1 - size0) / 1024 )) kB" "$(( tsize / 1024 )) kB" "$(pct $((size1 - size0)) "$tsize")" "<= 3%"

# Reads (sections 3 and 4) do not change anything, so each side, aisec and
# baseline alike, is the best of three runs: checkout and its baseline
# take turns (alt_ms), diff and its baselines run three times in a
# session each.
#
# 3. Reading an old version vs scanning a plain table of the same size.
# The plain table of the same size is version 1 itself, copied into a
# plain table (same rows, same columns, aisec_rid included).  The fair
# baseline is the same rows delivered to the same sink: COPY of that table
# to /dev/null vs COPY of the checkout.  A bare count(*), which forms no
# rows at all, is shown for reference.
sql "DROP TABLE IF EXISTS bv_v1"
sql "CREATE TABLE bv_v1 AS SELECT * FROM aisec.checkout(NULL::bv_tracked, $v1)"
sql "VACUUM ANALYZE bv_v1"; sql "VACUUM ANALYZE $hist"; sql "VACUUM ANALYZE $ended"
read -r a b <<<"$(alt_ms "COPY (SELECT * FROM aisec.checkout(NULL::bv_tracked, $v1)) TO '/dev/null'" \
	"COPY (SELECT * FROM bv_v1) TO '/dev/null'")"
report_ms "checkout v1 vs seq scan, both COPY to /dev/null" "$a" "$b" "<= 1.5x"
read -r a b <<<"$(alt_ms "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)" \
	"SELECT count(*) FROM bv_v1")"
report_ms "checkout v1 count(*) vs plain count(*)" "$a" "$b" "(reference)"

# 4. Diff of two versions 1% apart vs a full scan: against a scan that
# forms the diff's output (jsonb) for every row, and against count(*) for
# reference; and the diff of versions 11% apart, to show it grows with the
# change.
d=$(time_ms "SELECT count(*) FROM aisec.diff('bv_tracked', $v2, $v3)" 3)
s1=$(time_ms "SELECT count(*) FROM bv_plain p WHERE pg_catalog.to_jsonb(p) IS NOT NULL" 3)
report "diff 1% apart vs full scan forming jsonb" "$(ms "$d")" "$(ms "$s1")" "$(pct "$d" "$s1")" "<= 10%"
report "diff 1% apart vs count(*) seq scan" "$(ms "$d")" "$(ms "$b")" "$(pct "$d" "$b")" "(reference)"
d11=$(time_ms "SELECT count(*) FROM aisec.diff('bv_tracked', $v1, $v2)" 3)
report_ms "diff 1% apart vs diff 11% apart" "$d" "$d11" "~0.09x"

# 5. Commit (after a 1% change) and checkout with few vs $VERSIONS more
# earlier versions.  Both sides start the same way (history vacuumed, a 1%
# change committed, a CHECKPOINT before the checkout), so that they differ
# only in the number of versions; checkout is timed three times, each in a
# session of its own, and the fastest run kept.
sql "VACUUM ANALYZE $hist"; sql "VACUUM ANALYZE $ended"
sql "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 3"
c1=$(once_ms "SELECT aisec.commit('bench', 'small')")
sql "CHECKPOINT"
k1=$(time_ms -f "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)" 3)
for i in $(seq 1 "$VERSIONS"); do
	sql "UPDATE bv_tracked SET income = income + 1 WHERE id BETWEEN $((i * 10)) AND $((i * 10 + 9)); SELECT aisec.commit('bench', 'tiny $i')" >/dev/null
done
sql "VACUUM ANALYZE $hist"; sql "VACUUM ANALYZE $ended"
sql "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 4"
cN=$(once_ms "SELECT aisec.commit('bench', 'small again')")
sql "CHECKPOINT"
kN=$(time_ms -f "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)" 3)
report_ms "commit after 1% change, $VERSIONS more versions vs few" "$cN" "$c1" "~1x"
report_ms "checkout v1, $VERSIONS more versions vs few" "$kN" "$k1" "~1x"

sql "SELECT bool_and(ok) FROM aisec.verify('bench')" | grep -q t ||
	{ echo "aisec.verify('bench') failed" >&2; exit 1; }
sql "DROP TABLE bv_copy, bv_v1"
