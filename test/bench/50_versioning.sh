#!/bin/bash
# Dataset versioning benchmarks: write overhead of tracking, commit, storage,
# checkout and diff, each against the cheapest PostgreSQL baseline on the
# same data in the same run (doc/versioning.md, "Performance").
#
# Uses PGHOST/PGPORT/PGDATABASE from test/run.sh.  Prints one line per
# workload: workload, aisec figure, baseline figure, ratio, target.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
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
# Writes on both sides are timed right after a CHECKPOINT (turns -c), so
# that neither side pays for the dirty buffers and WAL the other one left
# behind.  Single rounds move by 30% on a shared machine, so each write is
# the best of several rounds per side, the two sides taking turns: the
# INSERT of five, each into a fresh pair of tables; the UPDATE and the
# DELETE of three, each on its own pair of tables in the same state
# (loaded, committed, vacuumed).

# 1. Write overhead: the same statements on a plain and a tracked table.
# Inserted rows get their history records at the next commit, so the
# INSERT is also shown together with that commit, for reference.
turns -r 5 -c -b fresh_tables plain "$(fill bv_plain)" tracked "$(fill bv_tracked)"
ia=${ms[tracked]} ib=${ms[plain]}
sql "SELECT aisec.create_dataset('bench', ARRAY['bv_tracked'::regclass])" >/dev/null
line "INSERT $ROWS rows, tracked vs plain (best of 5)" "$ia" "$ib" "<= 1.3x"
turns -r 1 -c commit "SELECT aisec.commit('bench', 'v1')"
v1=$(sql "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
line "INSERT and the commit recording it, vs plain" "$(plus "$ia" "${ms[commit]}")" "$ib" "(reference)"
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

# The three pairs of tables, one per round.
# shellcheck disable=SC2034 # read by turns -p
pairs=(_1 _2 "")
turns -c -p pairs plain "UPDATE bv_plain%R SET income = income + 1 WHERE id % 10 = 0" \
	tracked "UPDATE bv_tracked%R SET income = income + 1 WHERE id % 10 = 0"
ua=${ms[tracked]} ub=${ms[plain]}
line "UPDATE 10% of rows, tracked vs plain (best of 3)" "$ua" "$ub" "<= 2x"
turns -c -p pairs plain "DELETE FROM bv_plain%R WHERE id % 100 = 1" \
	tracked "DELETE FROM bv_tracked%R WHERE id % 100 = 1"
line "DELETE 1% of rows, tracked vs plain (best of 3)" "${ms[tracked]}" "${ms[plain]}" "<= 2x"
# The UPDATE was the table's first change since its commit, so it left
# ending its rows' old records to the next commit, timed here (it also
# records the DELETE, which ended its records itself).
turns -r 1 -c commit "SELECT aisec.commit('bench', 'v2')"
v2=$(sql "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
line "UPDATE and the commit ending its old records, vs plain" "$(plus "$ua" "${ms[commit]}")" "$ub" "(reference)"
sql "VACUUM ANALYZE bv_tracked"; sql "VACUUM ANALYZE bv_plain"

# 2. Commit after changing 1% of rows vs copying the table; storage added.
hist=$(sql "SELECT history FROM aisec.tracked WHERE rel = 'bv_tracked'::regclass")
ended=$(sql "SELECT ended FROM aisec.tracked WHERE rel = 'bv_tracked'::regclass")
hsize() { sql "SELECT pg_total_relation_size('$hist') + pg_total_relation_size('$ended')"; }
size0=$(hsize)
sql "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 2"
turns -r 1 commit "SELECT aisec.commit('bench', 'one percent')" ctas "CREATE TABLE bv_copy AS SELECT * FROM bv_plain"
v3=$(sql "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
line -p "commit after 1% change vs CREATE TABLE AS" "${ms[commit]}" "${ms[ctas]}" "<= 5%"
size1=$(hsize)
line -u bytes -p "storage added by that version vs table size" "$((size1 - size0))" "$tsize" "<= 3%"

# Reads (sections 3 and 4) do not change anything, so each side, aisec and
# baseline alike, is the best of three rounds, the sides taking turns, each
# run in a session of its own after one warm-up run.
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
turns -w 1 checkout "COPY (SELECT * FROM aisec.checkout(NULL::bv_tracked, $v1)) TO '/dev/null'" \
	plain "COPY (SELECT * FROM bv_v1) TO '/dev/null'"
line "checkout v1 vs seq scan, both COPY to /dev/null" "${ms[checkout]}" "${ms[plain]}" "<= 1.5x"
turns -w 1 checkout "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)" \
	plain "SELECT count(*) FROM bv_v1"
count=${ms[plain]}
line "checkout v1 count(*) vs plain count(*)" "${ms[checkout]}" "$count" "(reference)"

# 4. Diff of two versions 1% apart vs a full scan: against a scan that
# forms the diff's output (jsonb) for every row, and against count(*) for
# reference; and the diff of versions 11% apart, to show it grows with the
# change.
turns -w 1 diff "SELECT count(*) FROM aisec.diff('bv_tracked', $v2, $v3)" \
	jsonb "SELECT count(*) FROM bv_plain p WHERE pg_catalog.to_jsonb(p) IS NOT NULL" \
	diff11 "SELECT count(*) FROM aisec.diff('bv_tracked', $v1, $v2)"
line -p "diff 1% apart vs full scan forming jsonb" "${ms[diff]}" "${ms[jsonb]}" "<= 10%"
line -p "diff 1% apart vs count(*) seq scan" "${ms[diff]}" "$count" "(reference)"
line "diff 1% apart vs diff 11% apart" "${ms[diff]}" "${ms[diff11]}" "~0.09x"

# Keyed diff (rows matched by id, not by row id) of the same two versions
# vs the plain SQL that does the same: a FULL JOIN of the two checkouts on
# the key, keeping the rows in one version only or with a different value
# in another column.  Both have to read both versions whole.
cols="name, email, income, sex, age_band, region, approved, repaid, applied_on"
turns -w 1 keyed "SELECT count(*) FROM aisec.diff('bv_tracked', $v2, $v3, ARRAY['id'])" \
	join "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v2) a
	      FULL JOIN aisec.checkout(NULL::bv_tracked, $v3) b ON a.id = b.id
	      WHERE a.id IS NULL OR b.id IS NULL
	         OR (a.${cols//, /, a.}) IS DISTINCT FROM (b.${cols//, /, b.})"
[ "$(sql "SELECT count(*) FROM aisec.diff('bv_tracked', $v2, $v3, ARRAY['id'])")" = \
  "$(sql "SELECT count(*) FROM aisec.diff('bv_tracked', $v2, $v3)")" ] ||
	{ echo "keyed diff and diff by row id differ on bv_tracked" >&2; exit 1; }
line "keyed diff 1% apart vs FULL JOIN of 2 checkouts" "${ms[keyed]}" "${ms[join]}" "<= 1x"
line "keyed diff 1% apart vs diff by row id" "${ms[keyed]}" "${ms[diff]}" "(reference)"

# 5. Commit (after a 1% change) and checkout with few vs $VERSIONS more
# earlier versions.  Both sides start the same way (history vacuumed, a 1%
# change committed, a CHECKPOINT before the checkout), so that they differ
# only in the number of versions; checkout is timed three times, each in a
# session of its own, and the fastest run kept.  The two sides cannot take
# turns: the second needs the versions committed after the first.
sql "VACUUM ANALYZE $hist"; sql "VACUUM ANALYZE $ended"
sql "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 3"
turns -r 1 commit "SELECT aisec.commit('bench', 'small')"
c1=${ms[commit]}
sql "CHECKPOINT"
turns checkout "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)"
k1=${ms[checkout]}
for i in $(seq 1 "$VERSIONS"); do
	sql "UPDATE bv_tracked SET income = income + 1 WHERE id BETWEEN $((i * 10)) AND $((i * 10 + 9)); SELECT aisec.commit('bench', 'tiny $i')" >/dev/null
done
sql "VACUUM ANALYZE $hist"; sql "VACUUM ANALYZE $ended"
sql "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 4"
turns -r 1 commit "SELECT aisec.commit('bench', 'small again')"
sql "CHECKPOINT"
turns checkout "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)"
line "commit after 1% change, $VERSIONS more versions vs few" "${ms[commit]}" "$c1" "~1x"
line "checkout v1, $VERSIONS more versions vs few" "${ms[checkout]}" "$k1" "~1x"

# 6. Revert of a 1% change vs the same change written back by plain SQL,
# both on the tracked table (both captured): revert reads the table and
# the version once each, compares, and then updates the same rows.
sql "UPDATE bv_tracked SET income = income + 1 WHERE id % 100 = 5"
sql "SELECT aisec.commit('bench', 'one percent more')" >/dev/null
vr=$(sql "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
sql "VACUUM ANALYZE bv_tracked"
turns -r 1 -c revert "SELECT count(*) FROM aisec.revert('bench', $((vr - 1)))"
rv=${ms[revert]}
sql "SELECT aisec.commit('bench', 'reverted')" >/dev/null
sql "UPDATE bv_tracked SET income = income + 1 WHERE id % 100 = 5"
sql "SELECT aisec.commit('bench', 'one percent more again')" >/dev/null
sql "VACUUM ANALYZE bv_tracked"
turns -r 1 -c plain "UPDATE bv_tracked SET income = income - 1 WHERE id % 100 = 5"
sql "SELECT aisec.commit('bench', 'undone by hand')" >/dev/null
line "revert of a 1% change vs the same UPDATE by hand" "$rv" "${ms[plain]}" "(reference)"

sql "SELECT bool_and(ok) FROM aisec.verify('bench')" | grep -q t ||
	{ echo "aisec.verify('bench') failed" >&2; exit 1; }
sql "DROP TABLE bv_copy, bv_v1"
