#!/bin/bash
# make fuzz (test/run.sh fuzz, on its throwaway cluster): the bounded fuzz
# test, then for AISEC_FUZZ_SECONDS in all (default 420):
#   1. the fuzz engine (test/fuzz/lib.sql) with more random mutations, new
#      seeds each round and the slow cases, for half the time;
#   2. sqlsmith against a database with aisec objects
#      (test/fuzz/smith_setup.sql), for the other half, as a role that holds
#      every aisec role (as the superuser with AISEC_FUZZ_SUPERUSER=1).
# Fails on any unexpected SQLSTATE, on a lost connection, and on any server
# crash (a backend "terminated by signal" in the server log, a restarted
# postmaster).  AISEC_FUZZ_SEED=<n> replays a run; the seed is printed.
#
# Needs PGHOST/PGPORT/PGUSER of a running server and AISEC_SERVER_LOG, its
# log file.
set -euo pipefail

cd "$(dirname "$0")/../.."
seconds=${AISEC_FUZZ_SECONDS:-420}
seed=${AISEC_FUZZ_SEED:-$(( (RANDOM << 15 | RANDOM) % 1000000 ))}
log=${AISEC_SERVER_LOG:?AISEC_SERVER_LOG must name the server log}
psql=(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=terse)
bindir=$("${PG_CONFIG:-pg_config}" --bindir)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

echo "fuzz seed: $seed (replay: AISEC_FUZZ_SEED=$seed AISEC_FUZZ_SECONDS=$seconds make fuzz)"
started=$("${psql[@]}" -At -c "SELECT pg_postmaster_start_time()")

# crashed: the server restarted, or is down, or a backend died of a signal.
crashed() {
	local now
	if ! "$bindir/pg_isready" -q; then
		echo "server is not accepting connections" >&2; return 0
	fi
	now=$("${psql[@]}" -At -c "SELECT pg_postmaster_start_time()")
	if [ "$now" != "$started" ]; then
		echo "the postmaster restarted (was $started, now $now)" >&2; return 0
	fi
	if grep -E "terminated by signal|was terminated by exception|server process .* exited with exit code [^01]" "$log" >&2; then
		return 0
	fi
	return 1
}

say "bounded fuzz (sql/fuzz.sql)"
make -s installcheck REGRESS=fuzz ISOLATION= || { cat regression.diffs 2>/dev/null || true; exit 1; }

say "randomized fuzz, seed $seed, $((seconds / 2)) s"
"${psql[@]}" -c "CREATE DATABASE aisec_fuzz"
export PGDATABASE=aisec_fuzz
"${psql[@]}" -c "CREATE EXTENSION aisec"
"${psql[@]}" -f test/fuzz/lib.sql -c "SELECT aisec_fuzz.setup()" >/dev/null
deadline=$((SECONDS + seconds / 2))
round=0
while :; do
	round=$((round + 1))
	s=$(awk -v s="$seed" -v r="$round" 'BEGIN { printf "%.6f", ((s * 7919 + r * 104729) % 1000003) / 1000003 }')
	steps="SELECT aisec_fuzz.states($s, 3000); SELECT aisec_fuzz.rules($s, 2000);
	       SELECT aisec_fuzz.recv($s, 500, '/tmp/aisec_fuzz_recv.$$.bin');"
	# the fixed families (every extreme, the slow FF1 alphabet) once
	[ $round = 1 ] && steps="$steps SELECT aisec_fuzz.aggregates(); SELECT aisec_fuzz.masks(true); SELECT aisec_fuzz.keys();"
	if ! "${psql[@]}" -c "$steps" >/dev/null; then
		crashed || true
		echo "round $round (setseed($s)) failed: lost connection or an error outside a case" >&2
		exit 1
	fi
	echo "round $round: setseed($s), $("${psql[@]}" -At -c "SELECT count(*) FROM aisec_fuzz.result") cases so far"
	[ $SECONDS -ge $deadline ] && break
done
"${psql[@]}" -c "SELECT count(DISTINCT family) AS families, count(*) AS cases,
                        count(*) FILTER (WHERE state = 'ok') AS accepted,
                        count(*) FILTER (WHERE state = 'XF002') AS known_round_trip_changes,
                        count(*) FILTER (WHERE NOT aisec_fuzz.expected(family, state)) AS unexpected
                   FROM aisec_fuzz.result"
unexpected=$("${psql[@]}" -At -c "SELECT count(*) FROM aisec_fuzz.unexpected()")
if [ "$unexpected" != 0 ]; then
	"${psql[@]}" -c "SELECT * FROM aisec_fuzz.unexpected()"
	echo "randomized fuzz: unexpected errors (seed $seed)" >&2
	exit 1
fi
crashed && { echo "randomized fuzz crashed the server (seed $seed)" >&2; exit 1; }
rm -f "/tmp/aisec_fuzz_recv.$$.bin"

smith_user=aisec_fuzz_smith
[ "${AISEC_FUZZ_SUPERUSER:-0}" = 1 ] && smith_user=$PGUSER
say "sqlsmith, seed $seed, $((seconds / 2)) s, as $smith_user"
"${psql[@]}" -d postgres -c "CREATE DATABASE aisec_smith"
"${psql[@]}" -d aisec_smith -f test/fuzz/smith_setup.sql >/dev/null
out=${TMPDIR:-/tmp}/aisec-sqlsmith.$$
# Every query is printed (--dump-all-queries); awk counts those that name
# an aisec object and keeps the last 20, to replay a crash.
# timeout ends sqlsmith with SIGINT (status 124): the normal end; a crash
# is found by crashed() below, not by the status.
timeout --signal=INT "$((seconds / 2))" sqlsmith --verbose --dump-all-queries --seed="$seed" \
	--target="host=$PGHOST port=$PGPORT user=$smith_user dbname=aisec_smith" 2>"$out.log" |
	awk -v last="$out.last.sql" 'BEGIN { RS = ";\n" }
		{ n++; if ($0 ~ /aisec[._]/) a++; q[n % 20] = $0 }
		END { for (i = n - 19; i <= n; i++) if (i > 0) print q[i % 20] ";" > last
		      printf "%d queries, %d of them name an aisec object\n", n, a }' || true
# --verbose repeats its report; the last one counts errors by message
echo "sqlsmith's last report: $(grep '^error rate' "$out.log" | tail -n 1); the most frequent errors that name aisec's objects:"
tac "$out.log" | awk '/^error rate/ { on = 1; next } on && /^[0-9]+\t/ { print; next } on { exit }' |
	sort -rn | grep -iE 'aisec|fairness|histogram|categor|contingency|mask|key|ff1|rule|dataset|version' | head -n 15 || true
if crashed; then
	echo "sqlsmith crashed the server (seed $seed); its last queries: $out.last.sql, its log: $out.log" >&2
	exit 1
fi
rm -f "$out.log" "$out.last.sql"
say "fuzz: no crash (seed $seed)"
