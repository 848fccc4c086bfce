#!/bin/bash
# GDPR erasure benchmarks (doc/erasure.md, "Measured"): aisec.erase() of one
# data subject from a tracked table with an indexed subject column, 20
# versions and two derived tables, against the plain DELETE of the
# subject's live rows by the same index; and the same at 10 times the rows
# (AISEC_BENCH_ERASE_10M=0 skips it), whose time must stay within 1.5x:
# erase finds the subject by index, in the live table and in its history.
#
# The data: a table of ROWS people (id, e-mail, name, income, region), its
# e-mail column indexed and declared a subject column; SUBJECTS subjects
# (subject<k>@<scale>.example.com) have 3 rows each among them.  Two derived tables,
# tracked, filled by INSERT ... SELECT (so automatic lineage links their
# rows to their sources'): features (every 10th person and the subjects'
# rows) and scores (from features).  Versions: the first, then 19 commits
# of small changes (1,000 people's income, and every subject row's, so each
# subject row has 20 history records).  Both scales are built first, then
# take turns (lib.sh's turns), best of 5: round R erases subject R at each
# scale (request_erasure untimed, erase timed, each in a session of its
# own) and, as the baseline, deletes subject R's rows from an untracked
# copy of the people (same rows, same index).  Both scales' tables are
# declared, so each erase also probes the other scale's table and history
# (finding nothing there).  Also: the subject index's
# build, size and cost on capture, at 1M rows.
#
# Uses PGHOST/PGPORT/PGDATABASE from test/run.sh.  Prints one line per
# workload: workload, aisec figure, baseline figure, ratio, target.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${AISEC_BENCH_ERASE_ROWS:-1000000}
BIG=${AISEC_BENCH_ERASE_10M:-1}
SUBJECTS=8

# N rows as "1M" or "100k".
label() { if [ $(($1 % 1000000)) = 0 ]; then echo "$(($1 / 1000000))M"; else echo "$(($1 / 1000))k"; fi; }

sql "CREATE EXTENSION IF NOT EXISTS aisec"

# build T N: dataset be_T of tables be_T_people (N rows), be_T_features and
# be_T_scores, 20 versions, the e-mail column declared; be_T_plain, an
# untracked copy of the people with the same index.
build() {
	local t=$1 n=$2 v
	sql <<-SQL >/dev/null
	SET client_min_messages = warning;
	CREATE TABLE be_${t}_people (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL,
	                             income numeric(12,2) NOT NULL, region text NOT NULL);
	INSERT INTO be_${t}_people
	SELECT g, CASE WHEN g > $n - 3 * $SUBJECTS THEN 'subject' || ($n - g) / 3 + 1 || '@$t.example.com'
	               ELSE 'person' || g || '@example.com' END,
	       'Name ' || g, round((18000 + (g * 7919 % 90000))::numeric, 2),
	       (ARRAY['north','south','east','west'])[1 + g % 4]
	FROM generate_series(1::bigint, $n) g;
	CREATE INDEX ON be_${t}_people (email);
	CREATE TABLE be_${t}_plain AS SELECT id, email, name, income, region FROM be_${t}_people;
	CREATE INDEX ON be_${t}_plain (email);
	SELECT aisec.track('be_${t}_people');
	CREATE TABLE be_${t}_features (person_id bigint, income_band int, region text);
	CREATE TABLE be_${t}_scores (person_id bigint, score numeric);
	SELECT aisec.track('be_${t}_features');
	SELECT aisec.track('be_${t}_scores');
	INSERT INTO be_${t}_features
	SELECT id, (income / 10000)::int, region FROM be_${t}_people
	WHERE id % 10 = 0 OR id > $n - 3 * $SUBJECTS;
	INSERT INTO be_${t}_scores SELECT person_id, income_band * 0.1 FROM be_${t}_features;
	SELECT aisec.create_dataset('be_$t', ARRAY['be_${t}_people', 'be_${t}_features', 'be_${t}_scores']::regclass[]);
	SELECT aisec.commit('be_$t', 'v1');
	SQL
	for ((v = 2; v <= 20; v++)); do
		sql "UPDATE be_${t}_people SET income = income + 1
		     WHERE id BETWEEN $((v * 1000)) AND $((v * 1000 + 999)) OR id > $n - 3 * $SUBJECTS;
		     SELECT aisec.commit('be_$t', 'v$v')" >/dev/null
	done
	for tb in people plain features scores; do sql "VACUUM ANALYZE be_${t}_$tb"; done
	hist[$t]=$(sql "SELECT history::regclass FROM aisec.tracked WHERE rel = 'be_${t}_people'::regclass")
	sql "VACUUM ANALYZE ${hist[$t]}"
}

# The scales measured, and a fresh request for subject K at each (the
# hook of turns -b).
declare -A hist=()
scales=(1m)
request() {
	local t
	for t in "${scales[@]}"; do
		sql "SET client_min_messages = warning;
		     SELECT aisec.request_erasure('subject$1@$t.example.com', 'BE-$t-$1')" >/dev/null
	done
}

# Wait (at most 2 minutes) until no autovacuum worker runs, after a
# CHECKPOINT: a build leaves the server busy with its tables for a while.
quiesce() {
	local i
	sql "CHECKPOINT"
	for ((i = 0; i < 120; i++)); do
		[ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")" = 0 ] && return 0
		sleep 1
	done
}

# Every erased subject's (1-5) rows went, in table set T and its history.
check_erased() {
	local t=$1
	[ "$(sql "SELECT count(*) FROM be_${t}_people WHERE email BETWEEN 'subject1@' AND 'subject5@~'")" = 0 ] ||
		{ echo "70_erasure: erase left live rows" >&2; exit 1; }
	[ "$(sql "SET enable_seqscan = off; SELECT count(*) FROM ${hist[$t]} h
	          WHERE (h.data).email IN (SELECT 'subject' || k || '@$t.example.com' FROM generate_series(1, 5) k)")" = 0 ] ||
		{ echo "70_erasure: erase left history records" >&2; exit 1; }
}

# --- 1M rows ------------------------------------------------------------------
build 1m "$ROWS"

# The subject index: its build (declare_subject on the tracked table) and
# size, against the history it indexes.
turns -r 1 -c declare "SELECT aisec.declare_subject('be_1m_people', 'email')" \
	plainidx "CREATE INDEX be_1m_plain_email2 ON be_1m_plain (email)"
sql "DROP INDEX be_1m_plain_email2"
hsize=$(sql "SELECT pg_relation_size('${hist[1m]}')")
isize=$(sql "SELECT pg_relation_size(i.indexrelid) FROM pg_index i
             WHERE i.indrelid = '${hist[1m]}'::regclass AND pg_get_indexdef(i.indexrelid) LIKE '%(data).email%'")
hrows=$(sql "SELECT count(*) FROM ${hist[1m]}")
# The plan erase's history search gets: by the subject index, no scan.
plan=$(sql "EXPLAIN (COSTS OFF) SELECT h.rid FROM ${hist[1m]} h WHERE (h.data).email OPERATOR(pg_catalog.=) 'subject1@1m.example.com'")
case $plan in
*"Seq Scan"*) echo "70_erasure: the history search scans: $plan" >&2; exit 1 ;;
esac

# Capture with the subject index vs without: an UPDATE of a tenth of the rows
# (each writes a history record), the declaration taken back in between
# (undeclare drops the index) and made again after.
upd="UPDATE be_1m_people SET income = income + 1 WHERE id BETWEEN $((ROWS / 10 + 1)) AND $((ROWS / 5))"
turns -c idx "$upd"
sql "SELECT aisec.undeclare_subject('be_1m_people', 'email')" >/dev/null
turns -c noidx "$upd"
sql "SELECT aisec.declare_subject('be_1m_people', 'email')" >/dev/null

# --- 10 times the rows ------------------------------------------------------
if [ "$BIG" != 0 ]; then
	build 10m "$((ROWS * 10))"
	sql "SELECT aisec.declare_subject('be_10m_people', 'email')" >/dev/null
	scales+=(10m)
fi

# --- erase: both scales taking turns, best of 5 ------------------------------
# Round R erases subject R at each scale (request_erasure untimed, erase
# timed, a session each) and deletes subject R's rows from each untracked
# copy (the baseline): the scales meet the machine's load alike.
# shellcheck disable=SC2034 # turns -p reads it by name
subjects=(1 2 3 4 5)
work=()
for t in "${scales[@]}"; do
	work+=("erase_$t" "SELECT aisec.erase('BE-$t-%R', 'subject%R@$t.example.com')"
	       "delete_$t" "DELETE FROM be_${t}_plain WHERE email = 'subject%R@$t.example.com'")
done
quiesce
turns -c -b request -p subjects "${work[@]}"
for t in "${scales[@]}"; do check_erased "$t"; done

line "erase 1 subject, $(label "$ROWS") rows + 2 derived + 20 versions, vs DELETE" "${ms[erase_1m]}" "${ms[delete_1m]}" "< 50 ms"
if [ "$BIG" != 0 ]; then
	line "erase 1 subject at $(label $((ROWS * 10))) rows, vs DELETE" "${ms[erase_10m]}" "${ms[delete_10m]}" "(reference)"
	line "erase at 10x the rows vs 1x" "${ms[erase_10m]}" "${ms[erase_1m]}" "<= 1.5x"
fi
line "declare_subject (index on $hrows history records) vs CREATE INDEX, live" "${ms[declare]}" "${ms[plainidx]}" "(reference)"
line -u bytes "subject index size vs its history" "$isize" "$hsize" "(reference)"
line "UPDATE $(label $((ROWS / 10))) tracked rows, subject index vs none" "${ms[idx]}" "${ms[noidx]}" "(reference)"

# reapply_erasures (another part of issue 18): 1,000 requests over the rows.
if [ "$(sql "SELECT to_regprocedure('aisec.reapply_erasures()') IS NOT NULL")" = t ]; then
	sql "SET client_min_messages = warning;
	     DO \$\$ BEGIN FOR k IN 1..1000 LOOP
	       PERFORM aisec.request_erasure('person' || k * 7 || '@example.com', 'BE-bulk-' || k);
	       PERFORM aisec.erase('BE-bulk-' || k, 'person' || k * 7 || '@example.com');
	     END LOOP; END \$\$" >/dev/null
	turns -r 1 -c reapply "SELECT aisec.reapply_erasures()" count "SELECT count(*) FROM aisec.erasure_row"
	line "reapply_erasures(), 1,000 requests, $(label "$ROWS") rows" "${ms[reapply]}" "${ms[count]}" "< 10 s"
else
	# shellcheck disable=SC2059 # the format is LINE_FORMAT
	printf "$LINE_FORMAT" "reapply_erasures(), 1,000 requests" "not measured" "" "" "< 10 s (not built)"
fi
