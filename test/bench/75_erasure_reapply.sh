#!/bin/bash
# aisec.reapply_erasures() after a restore (issue 18, doc/erasure.md "After
# a restore"): 1,000 executed requests, one row each, over a tracked table
# of 1M rows with two versions.  The state a restore leaves is played by
# loading the register's row ids next to rows that still hold data (as the
# newer register loaded over an older backup does): reapply then deletes
# the 1,000 live rows and redacts their history records.  Baseline: the
# same DELETE and history UPDATE in plain SQL on untracked copies, joined
# with the register's row ids (the history copy with an index on rid, as
# aisec's history has).  Then the idempotent second call, which finds
# nothing, against one scan of the copy by those row ids.
#
# Uses PGHOST/PGPORT/PGDATABASE from test/run.sh.  Prints one line per
# workload: workload, aisec figure, baseline figure, ratio, target.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROWS=${AISEC_BENCH_REAPPLY_ROWS:-1000000}
REQ=1000
STEP=$((ROWS / REQ))

sql "CREATE EXTENSION IF NOT EXISTS aisec"
sql "SET client_min_messages = warning; DROP TABLE IF EXISTS br, br_plain, br_hist_plain"
sql "CREATE TABLE br (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL)"
sql "INSERT INTO br SELECT g, 'p' || g || '@example.com', 'Name ' || g FROM generate_series(1, $ROWS) g"
sql "CREATE INDEX ON br (email)"
sql "SELECT aisec.track('br')" >/dev/null
sql "SELECT aisec.create_dataset('br_ds', ARRAY['br'::regclass])" >/dev/null
sql "SELECT aisec.commit('br_ds', 'v1')" >/dev/null
sql "UPDATE br SET name = name || ' (2)' WHERE id % 100 = 0" >/dev/null
sql "SELECT aisec.commit('br_ds', 'v2')" >/dev/null
sql "SELECT aisec.declare_subject('br', 'email')" >/dev/null
sql "VACUUM ANALYZE br"
hist=$(sql "SELECT history FROM aisec.tracked WHERE rel = 'br'::regclass")

# The baseline's copies, and the ids both erase.
sql "CREATE TABLE br_plain AS SELECT * FROM br"
sql "CREATE TABLE br_hist_plain AS SELECT * FROM $hist"
sql "CREATE INDEX ON br_hist_plain (rid)"
sql "VACUUM ANALYZE br_plain, br_hist_plain, $hist"

# 1,000 requests, and the row id each erased, as the newer register holds
# them (request_erasure as a superuser; the rows keep their data).
sql "SELECT count(aisec.request_erasure('p' || (g * $STEP) || '@example.com', 'BR-' || g)) FROM generate_series(1, $REQ) g" >/dev/null
sql "INSERT INTO aisec.erasure_row (rid, request_id)
     SELECT b.aisec_rid, r.id FROM aisec.erasure_request r
     JOIN br b ON b.id = substr(r.reference, 4)::int * $STEP WHERE r.reference LIKE 'BR-%'"

turns -r 1 -c reapply "SELECT count(*) FROM aisec.reapply_erasures()" \
	plain "DELETE FROM br_plain p USING aisec.erasure_row e WHERE p.aisec_rid = e.rid;
	       UPDATE br_hist_plain h SET data = NULL, salt = NULL
	       FROM aisec.erasure_row e WHERE h.rid = e.rid AND h.data IS NOT NULL"
done_rows=$(sql "SELECT count(*) FROM br WHERE aisec_rid IN (SELECT rid FROM aisec.erasure_row)")
[ "$done_rows" = 0 ] || { echo "bench: reapply left $done_rows rows" >&2; exit 1; }
line "reapply_erasures, $REQ requests, $ROWS rows, vs DELETE+UPDATE" "${ms[reapply]}" "${ms[plain]}" "< 10 s"
turns -r 3 again "SELECT count(*) FROM aisec.reapply_erasures()" \
	scan "SELECT count(*) FROM br_plain p WHERE p.aisec_rid IN (SELECT rid FROM aisec.erasure_row)"
line "reapply_erasures again (finds nothing) vs a scan by rid" "${ms[again]}" "${ms[scan]}" "(reference)"

sql "SELECT aisec.undeclare_subject('br', 'email')" >/dev/null
sql "SELECT aisec.drop_dataset('br_ds', keep_history => false)" >/dev/null
sql "DROP TABLE br, br_plain, br_hist_plain"
