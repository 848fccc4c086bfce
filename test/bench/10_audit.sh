#!/bin/bash
# Audit log benchmarks (issue 2, section 7).
#
# 1. Appends per second, 1 and 8 sessions (pgbench, 10 s each): chained
#    aisec.audit() vs a plain INSERT of the same shape into an unchained
#    table.  Run with synchronous_commit = off for both, so the figures show
#    the cost of the chain, not of the disk's flush latency.
# 2. audit_verify() over 100k entries: entries/s, against recomputing the
#    same hashes in SQL with PostgreSQL's own sha256() (what an auditor would
#    do without aisec).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
PGBENCH="$AISEC_BINDIR/pgbench"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sql "CREATE EXTENSION IF NOT EXISTS aisec"
sql "CREATE TABLE bench_plain_log (seq bigserial PRIMARY KEY, at timestamptz NOT NULL,
     actor text NOT NULL, login text NOT NULL, action text NOT NULL, object text,
     detail jsonb NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL)"

cat >"$tmp/chained.sql" <<'SQL'
SELECT aisec.audit('bench.append', 'public.loans', '{"rows": 1, "client": 1}');
SQL
cat >"$tmp/plain.sql" <<'SQL'
INSERT INTO bench_plain_log (at, actor, login, action, object, detail, prev_hash, hash)
VALUES (clock_timestamp(), session_user, session_user, 'bench.append', 'public.loans',
        '{"rows": 1, "client": 1}', '\x0000000000000000000000000000000000000000000000000000000000000000',
        '\x0000000000000000000000000000000000000000000000000000000000000000');
SQL

tps() {
	# $1 script, $2 clients
	PGOPTIONS="-c synchronous_commit=off" "$PGBENCH" -n -T 10 -c "$2" -j "$2" -f "$1" 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p' | cut -d. -f1
}

# Exactly 100k entries to verify (the append runs come after).
sql "SELECT count(aisec.audit('bench.bulk', 'public.loans', jsonb_build_object('n', g))) FROM generate_series(1, 100000) g" >/dev/null
n=$(sql "SELECT count(*) FROM aisec.audit_log")
verify_ms=$(time_ms "SELECT * FROM aisec.audit_verify()" 3)
sql_ms=$(time_ms "SELECT count(*) FILTER (WHERE hash = sha256(prev_hash || convert_to('aisec.audit.v1', 'UTF8')
        || int8send(seq) || int8send((extract(epoch FROM at) * 1000000)::bigint)
        || int4send(octet_length(convert_to(actor, 'UTF8'))) || convert_to(actor, 'UTF8')
        || int4send(octet_length(convert_to(login, 'UTF8'))) || convert_to(login, 'UTF8')
        || int4send(octet_length(convert_to(action, 'UTF8'))) || convert_to(action, 'UTF8')
        || CASE WHEN object IS NULL THEN '\xffffffff'::bytea
                ELSE int4send(octet_length(convert_to(object, 'UTF8'))) || convert_to(object, 'UTF8') END
        || int4send(octet_length(convert_to(detail::text, 'UTF8'))) || convert_to(detail::text, 'UTF8')))
        FROM aisec.audit_log" 3)
verify_rate=$(awk -v n="$n" -v ms="$verify_ms" 'BEGIN { printf "%d", n / (ms / 1000) }')
sql_rate=$(awk -v n="$n" -v ms="$sql_ms" 'BEGIN { printf "%d", n / (ms / 1000) }')
report "audit_verify() over $n entries, entries/s" "$verify_rate/s" "$sql_rate/s" "$(ratio "$verify_rate" "$sql_rate")" ">= 500000/s"

for clients in 1 8; do
	plain=$(tps "$tmp/plain.sql" $clients)
	chained=$(tps "$tmp/chained.sql" $clients)
	target=""
	[ $clients = 1 ] && target="chained >= 0.50x plain"
	[ $clients = 8 ] && target="(report)"
	report "audit append/s, $clients session(s)" "$chained/s" "$plain/s" "$(ratio "$chained" "$plain")" "$target"
done
