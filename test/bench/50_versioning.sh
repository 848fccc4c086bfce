#!/bin/bash
# Dataset versioning benchmarks: write overhead of tracking, commit, storage,
# checkout and diff, each against the cheapest PostgreSQL baseline on the
# same data in the same run (doc/versioning.md, "Performance").
#
# Uses PGHOST/PGPORT/PGDATABASE from test/run.sh.  Prints one line per
# workload: workload, aisec figure, baseline figure, ratio, target.
set -euo pipefail

ROWS=${AISEC_BENCH_ROWS:-1000000}
VERSIONS=${AISEC_BENCH_VERSIONS:-100}

q() { psql -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

# Run SQL and print its wall time in milliseconds (server-side \timing).
ms() {
	psql -qAtX -v ON_ERROR_STOP=1 -c '\timing on' -c "$1" |
		sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n 1
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", (b > 0 ? a / b : 0) }'; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", (b > 0 ? 100 * a / b : 0) }'; }
row() { printf '%-46s %14s %14s %9s  %s\n' "$1" "$2" "$3" "$4" "$5"; }

q "CREATE EXTENSION IF NOT EXISTS aisec"
for t in bv_plain bv_tracked; do
	q "DROP TABLE IF EXISTS $t"
	q "CREATE TABLE $t (
	    id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL,
	    income numeric(12,2) NOT NULL, sex text NOT NULL, age_band text NOT NULL,
	    region text NOT NULL, approved boolean NOT NULL, repaid boolean NOT NULL,
	    applied_on date NOT NULL)"
done
q "SELECT aisec.track('bv_tracked')" >/dev/null
q "SELECT aisec.create_dataset('bench', ARRAY['bv_tracked'::regclass])" >/dev/null

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

# Time a write after a checkpoint, so that neither side pays for the dirty
# buffers and WAL the other one left behind.
wms() { q "CHECKPOINT"; ms "$1"; }

# 1. Write overhead: the same statements on a plain and a tracked table.
b=$(wms "$(fill bv_plain)"); a=$(wms "$(fill bv_tracked)")
row "INSERT $ROWS rows, tracked vs plain" "${a} ms" "${b} ms" "$(ratio "$a" "$b")" "<= 1.3x"
q "VACUUM ANALYZE bv_plain"; q "VACUUM ANALYZE bv_tracked"
v1=$(q "SELECT aisec.commit('bench', 'v1')")

b=$(wms "UPDATE bv_plain SET income = income + 1 WHERE id % 10 = 0")
a=$(wms "UPDATE bv_tracked SET income = income + 1 WHERE id % 10 = 0")
row "UPDATE 10% of rows, tracked vs plain" "${a} ms" "${b} ms" "$(ratio "$a" "$b")" "<= 2x"
b=$(wms "DELETE FROM bv_plain WHERE id % 100 = 1")
a=$(wms "DELETE FROM bv_tracked WHERE id % 100 = 1")
row "DELETE 1% of rows, tracked vs plain" "${a} ms" "${b} ms" "$(ratio "$a" "$b")" "<= 2x"
v2=$(q "SELECT aisec.commit('bench', 'v2')")
q "VACUUM ANALYZE bv_tracked"; q "VACUUM ANALYZE bv_plain"

# 2. Commit after changing 1% of rows vs copying the table; storage added.
hist=$(q "SELECT history FROM aisec.tracked WHERE rel = 'bv_tracked'::regclass")
ended=$(q "SELECT ended FROM aisec.tracked WHERE rel = 'bv_tracked'::regclass")
hsize() { q "SELECT pg_total_relation_size('$hist') + pg_total_relation_size('$ended')"; }
size0=$(hsize)
q "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 2"
a=$(ms "SELECT aisec.commit('bench', 'one percent')")
v3=$(q "SELECT max(version) FROM aisec.versions WHERE dataset = 'bench'")
b=$(ms "CREATE TABLE bv_copy AS SELECT * FROM bv_plain")
row "commit after 1% change vs CREATE TABLE AS" "${a} ms" "${b} ms" "$(pct "$a" "$b")" "<= 5%"
size1=$(hsize)
tsize=$(q "SELECT pg_total_relation_size('bv_plain')")
row "storage added by that version vs table size" "$(( (size1 - size0) / 1024 )) kB" "$(( tsize / 1024 )) kB" "$(pct $((size1 - size0)) "$tsize")" "<= 3%"

# 3. Reading an old version vs scanning a plain table of the same size.
# The fair baseline is the same rows delivered to the same sink: COPY of
# the plain table to /dev/null vs COPY of the checkout (the 1M rows of
# version 1 vs the plain table's 990k).  A bare count(*), which forms no
# rows at all, is shown for reference.
q "VACUUM ANALYZE $hist"; q "VACUUM ANALYZE $ended"
a=$(ms "COPY (SELECT * FROM aisec.checkout(NULL::bv_tracked, $v1)) TO '/dev/null'")
b=$(ms "COPY (SELECT * FROM bv_plain) TO '/dev/null'")
row "checkout v1 vs seq scan, both COPY to /dev/null" "${a} ms" "${b} ms" "$(ratio "$a" "$b")" "<= 1.5x"
a=$(ms "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)")
b=$(ms "SELECT count(*) FROM bv_plain")
row "checkout v1 count(*) vs plain count(*)" "${a} ms" "${b} ms" "$(ratio "$a" "$b")" "(reference)"

# 4. Diff of two versions 1% apart vs a full scan: against a scan that
# forms the diff's output (jsonb) for every row, and against count(*) for
# reference; and the diff of versions 11% apart, to show it grows with the
# change.
d=$(ms "SELECT count(*) FROM aisec.diff('bv_tracked', $v2, $v3)")
s1=$(ms "SELECT count(*) FROM bv_plain p WHERE pg_catalog.to_jsonb(p) IS NOT NULL")
row "diff 1% apart vs full scan forming jsonb" "${d} ms" "${s1} ms" "$(pct "$d" "$s1")" "<= 10%"
row "diff 1% apart vs count(*) seq scan" "${d} ms" "${b} ms" "$(pct "$d" "$b")" "(reference)"
d11=$(ms "SELECT count(*) FROM aisec.diff('bv_tracked', $v1, $v2)")
row "diff 1% apart vs diff 11% apart" "${d} ms" "${d11} ms" "$(ratio "$d" "$d11")" "~0.09x"

# 5. Commit (after a 1% change) and checkout with few vs $VERSIONS more
# earlier versions; checkout is timed twice and the faster run kept.
mins() { awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; }
q "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 3"
c1=$(ms "SELECT aisec.commit('bench', 'small')")
k1=$(mins "$(ms "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)")" \
	"$(ms "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)")")
for i in $(seq 1 "$VERSIONS"); do
	q "UPDATE bv_tracked SET income = income + 1 WHERE id BETWEEN $((i * 10)) AND $((i * 10 + 9)); SELECT aisec.commit('bench', 'tiny $i')" >/dev/null
done
q "VACUUM ANALYZE $hist"; q "VACUUM ANALYZE $ended"
q "UPDATE bv_tracked SET repaid = NOT repaid WHERE id % 100 = 4"
cN=$(ms "SELECT aisec.commit('bench', 'small again')")
kN=$(mins "$(ms "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)")" \
	"$(ms "SELECT count(*) FROM aisec.checkout(NULL::bv_tracked, $v1)")")
row "commit after 1% change, $VERSIONS more versions vs few" "${cN} ms" "${c1} ms" "$(ratio "$cN" "$c1")" "~1x"
row "checkout v1, $VERSIONS more versions vs few" "${kN} ms" "${k1} ms" "$(ratio "$kN" "$k1")" "~1x"

q "SELECT bool_and(ok) FROM aisec.verify('bench')" | grep -q t ||
	{ echo "aisec.verify('bench') failed" >&2; exit 1; }
q "DROP TABLE bv_copy"
