#!/bin/bash
# aisec on Citus: build, install, start a throwaway Citus cluster on
# loopback TCP, run the Citus suite or benchmark, tear the cluster down.
#
#   test/citus/run.sh test    pg_regress over test/citus/sql/*.sql against
#                             the coordinator (expected: test/citus/expected/)
#                             (`make test-citus`; AISEC_CITUS_REGRESS="a b"
#                             runs only those files)
#   test/citus/run.sh bench   test/citus/bench.sh (`make bench-citus`)
#
# Without Citus installed for the server ($pkglibdir/citus.so) it says that
# it skipped, and why, and exits 0: Citus is not in Debian's archive;
# doc/scale-out.md says how to build it from source.
#
# The cluster, every node its own data directory under one temporary
# directory, listening on 127.0.0.1 only, trust for 127.0.0.1:
#   coordinator, worker1, worker2   the cluster: citus_set_coordinator_host
#                                   and citus_add_node, then CREATE
#                                   EXTENSION aisec on the coordinator
#                                   (Citus propagates it to the workers)
#   worker3                         started with the extension citus and
#                                   the same master key, but out of the
#                                   cluster: a test adds it ("a worker
#                                   added later")
#   nokey                           the same, without aisec.master_key_file
#                                   ("a worker without the master key")
# All nodes but nokey read the same master key file (one `openssl rand`).
# The suite finds the nodes in environment variables, read with psql's
# \getenv (psql 15+, as Citus 13 needs PostgreSQL 15+):
#   AISEC_CITUS_HOST (127.0.0.1), AISEC_CITUS_DB (aisec_citus),
#   AISEC_CITUS_<NODE>_PORT for COORDINATOR, WORKER1, WORKER2, WORKER3, NOKEY.
#
# Like test/run.sh: it holds /tmp/aisec-harness.lock (one install at a
# time on this machine), runs the servers as "postgres" when root, keeps
# the temporary directory when something fails (AISEC_KEEP_TMP=1: always).
set -euo pipefail

mode=${1:-test}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

# The harness lock, as in test/run.sh.
if [ -z "${AISEC_HARNESS_LOCKED:-}" ]; then
	AISEC_HARNESS_LOCKED=1 exec flock -o /tmp/aisec-harness.lock "$0" "$@"
fi

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/${AISEC_PG_VERSION:-15}/bin/pg_config}
[ -x "$PG_CONFIG" ] || PG_CONFIG=$(command -v pg_config)
export PG_CONFIG
bindir=$("$PG_CONFIG" --bindir)
pkglibdir=$("$PG_CONFIG" --pkglibdir)
sharedir=$("$PG_CONFIG" --sharedir)
pgxs=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/../.." && pwd)

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

case $mode in
test|bench) ;;
*) echo "usage: $0 test|bench" >&2; exit 2 ;;
esac

# --- build and install ------------------------------------------------------
say "build"
make -s PG_CONFIG="$PG_CONFIG"

if [ "$(id -u)" = 0 ]; then
	SUDO=""
	RUNAS=(runuser -u postgres --)
else
	SUDO=""
	[ -w "$pkglibdir" ] && [ -w "$sharedir/extension" ] || SUDO="sudo"
	RUNAS=()
fi

say "install into $pkglibdir"
$SUDO make -s PG_CONFIG="$PG_CONFIG" install

if [ ! -f "$pkglibdir/citus.so" ]; then
	if [ "$mode" = test ]; then what="suite"; else what="benchmark"; fi
	say "Citus $what SKIPPED"
	echo "Citus is not installed for this PostgreSQL server: $pkglibdir/citus.so is missing."
	echo "Citus is not in Debian's archive; doc/scale-out.md says how to build Citus 13.x"
	echo "from source for PostgreSQL 15.  Nothing was run; this is not a failure."
	exit 0
fi

# --- throwaway cluster ------------------------------------------------------
tmp=$(mktemp -d /tmp/aisec-citus-$mode.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" = 0 ] && chown postgres: "$tmp"
as() { "${RUNAS[@]}" "$@"; }
if [ "$(id -u)" = 0 ]; then PGUSER=postgres; else PGUSER=$(id -un); fi
host=127.0.0.1
db=aisec_citus
export PGUSER PGHOST=$host PGDATABASE=$db
export AISEC_CITUS_HOST=$host AISEC_CITUS_DB=$db

nodes=(coordinator worker1 worker2 worker3 nokey)
declare -A port=()

cleanup() {
	rc=$?
	for n in "${nodes[@]}"; do
		if [ -f "$tmp/$n/data/postmaster.pid" ]; then
			as "$bindir/pg_ctl" -D "$tmp/$n/data" -m immediate -w stop >/dev/null 2>&1 || true
		fi
	done
	if [ $rc -ne 0 ]; then
		for n in "${nodes[@]}"; do
			[ -f "$tmp/$n/server.log" ] || continue
			echo "--- server log tail ($tmp/$n/server.log)"; tail -n 30 "$tmp/$n/server.log"
		done
		echo "--- kept $tmp"
	elif [ "${AISEC_KEEP_TMP:-0}" = 1 ]; then
		echo "--- kept $tmp"
	else
		rm -rf "$tmp"
	fi
	exit $rc
}
trap cleanup EXIT

# A TCP port on 127.0.0.1 that nothing listens on and no other node took.
free_port() {
	local p n taken
	while :; do
		p=$((20000 + RANDOM % 20000))
		taken=""
		for n in "${!port[@]}"; do [ "${port[$n]}" = "$p" ] && taken=1; done
		[ -n "$taken" ] && continue
		(echo >"/dev/tcp/$host/$p") 2>/dev/null && continue
		echo "$p"; return 0
	done
}

# The one master key every node but nokey reads: 32 random bytes, mode 600,
# the servers' user's, outside every data directory (doc/keys.md).
as sh -c "umask 077 && openssl rand -out '$tmp/master.key' 32"

# new_node NAME: initdb, settings, start.
new_node() {
	local n=$1 dir=$tmp/$1 p
	p=$(free_port)
	port[$n]=$p
	mkdir -p "$dir"
	chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	as "$bindir/initdb" -D "$dir/data" -A trust -U "$PGUSER" --no-sync -E UTF8 --locale=C >"$dir/initdb.log"
	cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '$host'
unix_socket_directories = '$dir'
port = $p
shared_preload_libraries = 'citus,aisec'
max_connections = 100
max_worker_processes = 16
fsync = off
citus.node_conninfo = 'sslmode=disable'
synchronous_commit = off
full_page_writes = off
CONF
	if [ "$n" != nokey ]; then
		echo "aisec.master_key_file = '$tmp/master.key'" >>"$dir/data/postgresql.conf"
	fi
	if [ "$mode" = bench ]; then
		echo "shared_buffers = '1GB'" >>"$dir/data/postgresql.conf"
	fi
	as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
	export "AISEC_CITUS_${n^^}_PORT=$p"
}

psql_on() {
	local n=$1; shift
	psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "${port[$n]}" "$@"
}

say "throwaway Citus cluster in $tmp"
for n in "${nodes[@]}"; do
	new_node "$n"
	psql_on "$n" -d postgres -c "CREATE DATABASE $db"
	psql_on "$n" -c "CREATE EXTENSION citus"
	echo "$n: port ${port[$n]}"
done
psql_on coordinator \
	-c "SELECT citus_set_coordinator_host('$host', ${port[coordinator]})" \
	-c "SELECT citus_add_node('$host', ${port[worker1]})" \
	-c "SELECT citus_add_node('$host', ${port[worker2]})" >/dev/null
psql_on coordinator -c "CREATE EXTENSION aisec"

# Citus propagates CREATE EXTENSION to the workers in the cluster: check it
# did, with the coordinator's version.
want=$(psql_on coordinator -At -c "SELECT extversion FROM pg_extension WHERE extname = 'aisec'")
for n in worker1 worker2; do
	got=$(psql_on "$n" -At -c "SELECT extversion FROM pg_extension WHERE extname = 'aisec'")
	if [ "$got" != "$want" ]; then
		echo "CREATE EXTENSION aisec did not reach $n (aisec '$got' there, '$want' on the coordinator)" >&2
		exit 1
	fi
done
echo "aisec $want on the coordinator, worker1 and worker2"

# --- modes ------------------------------------------------------------------
case $mode in
test)
	say "Citus suite (test/citus/sql)"
	if [ -n "${AISEC_CITUS_REGRESS:-}" ]; then
		read -r -a tests <<<"$AISEC_CITUS_REGRESS"
		# 00_setup makes the helpers every other file uses.
		[[ " ${tests[*]} " == *" 00_setup "* ]] || tests=(00_setup "${tests[@]}")
	else
		tests=()
		for f in test/citus/sql/*.sql; do tests+=("$(basename "$f" .sql)"); done
	fi
	mkdir -p "$tmp/regress"
	rc=0
	"$pgxs/src/test/regress/pg_regress" --use-existing --bindir="$bindir" \
		--host="$host" --port="${port[coordinator]}" --dbname="$db" \
		--inputdir=test/citus --outputdir="$tmp/regress" "${tests[@]}" || rc=$?
	if [ $rc -ne 0 ]; then
		[ -s "$tmp/regress/regression.diffs" ] && { echo "--- $tmp/regress/regression.diffs"; cat "$tmp/regress/regression.diffs"; }
		exit $rc
	fi
	say "Citus suite passed"
	;;
bench)
	export AISEC_BINDIR=$bindir PGPORT=${port[coordinator]}
	bash test/citus/bench.sh
	;;
esac
