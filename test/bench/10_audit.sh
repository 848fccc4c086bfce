#!/bin/bash
# Audit log benchmarks (issue 2, section 7).
#
# 1. Appends per second, 1 and 8 sessions (pgbench, 10 s each): chained
#    aisec.audit() vs a plain INSERT of the same shape into an unchained
#    table.  Run with synchronous_commit = off for both, so the figures show
#    the cost of the chain, not of the disk's flush latency.
# 2. audit_verify() over 100k entries: entries/s, against recomputing the
#    same hashes in SQL with PostgreSQL's own sha256() (what an auditor would
#    do without aisec).  Best of three rounds, the two taking turns, each
#    run after one warm-up in its session (lib.sh: turns).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sql "CREATE EXTENSION IF NOT EXISTS aisec"
sql "CREATE TABLE bench_plain_log (seq bigserial PRIMARY KEY, at timestamptz NOT NULL,
     actor text NOT NULL, login text NOT NULL, action text NOT NULL, object text,
     detail jsonb, prev_hash bytea NOT NULL, hash bytea NOT NULL,
     detail_sha256 bytea, redacted_in bigint)"

cat >"$tmp/chained.sql" <<'SQL'
SELECT aisec.audit('bench.append', 'public.loans', '{"rows": 1, "client": 1}');
SQL
cat >"$tmp/plain.sql" <<'SQL'
INSERT INTO bench_plain_log (at, actor, login, action, object, detail, prev_hash, hash, detail_sha256)
VALUES (clock_timestamp(), session_user, session_user, 'bench.append', 'public.loans',
        '{"rows": 1, "client": 1}', '\x0000000000000000000000000000000000000000000000000000000000000000',
        '\x0000000000000000000000000000000000000000000000000000000000000000',
        '\x0000000000000000000000000000000000000000000000000000000000000000');
SQL

# Exactly 100k entries to verify (the append runs come after).
sql "SELECT count(aisec.audit('bench.bulk', 'public.loans', jsonb_build_object('n', g))) FROM generate_series(1, 100000) g" >/dev/null
n=$(sql "SELECT count(*) FROM aisec.audit_log")
turns -w 1 verify "SELECT * FROM aisec.audit_verify()" \
	recomputed "SELECT count(*) FILTER (WHERE hash = sha256(prev_hash || convert_to('aisec.audit.v2', 'UTF8')
        || int8send(seq) || int8send((extract(epoch FROM at) * 1000000)::bigint)
        || int4send(octet_length(convert_to(actor, 'UTF8'))) || convert_to(actor, 'UTF8')
        || int4send(octet_length(convert_to(login, 'UTF8'))) || convert_to(login, 'UTF8')
        || int4send(octet_length(convert_to(action, 'UTF8'))) || convert_to(action, 'UTF8')
        || CASE WHEN object IS NULL THEN '\xffffffff'::bytea
                ELSE int4send(octet_length(convert_to(object, 'UTF8'))) || convert_to(object, 'UTF8') END
        || sha256(convert_to(detail::text, 'UTF8'))))
        FROM aisec.audit_log"
line -u rate "audit_verify() over $n entries, entries/s" \
	"$(per_s "$n" "${ms[verify]}")" "$(per_s "$n" "${ms[recomputed]}")" ">= 500000/s"

for clients in 1 8; do
	rates -c $clients -o "-c synchronous_commit=off" plain "$tmp/plain.sql" chained "$tmp/chained.sql"
	target="chained >= 0.50x plain"
	[ $clients = 8 ] && target="(report)"
	line -u rate "audit append/s, $clients session(s)" "${tps[chained]}" "${tps[plain]}" "$target"
done
