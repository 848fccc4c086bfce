#!/bin/bash
# aisec test, demo and benchmark driver: build, install, run on a throwaway
# cluster, tear it down.
#
#   test/run.sh test       pg_regress + isolation + TAP suites
#   test/run.sh demo       narrated walkthrough (test/demo/*.sql)
#   test/run.sh bench      benchmarks (test/bench/*.sh; AISEC_BENCH=<prefix>
#                          runs only the matching ones)
#   test/run.sh valgrind   pg_regress + isolation suites with every backend
#                          under valgrind memcheck
#
# PostgreSQL refuses to run as root: as root, the cluster and the TAP tests
# run as the "postgres" system user (created by the postgresql package) in a
# private temporary directory; otherwise they run as the invoking user.
set -euo pipefail

mode=${1:-test}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Serialize install + run: several checkouts on one machine share the
# installed extension.  flock -o holds the lock in the flock process itself,
# so nothing this script starts (servers above all) inherits it.
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

# --- throwaway cluster ------------------------------------------------------
tmp=$(mktemp -d /tmp/aisec-$mode.XXXXXX)
chmod 755 "$tmp"
[ "$(id -u)" = 0 ] && chown postgres: "$tmp"
as() { "${RUNAS[@]}" "$@"; }

PGDATA=$tmp/data
port=$(( 20000 + RANDOM % 20000 ))
export PGHOST=$tmp PGPORT=$port PGDATABASE=postgres
if [ "$(id -u)" = 0 ]; then export PGUSER=postgres; else export PGUSER=$(id -un); fi
server_pid=""

cleanup() {
	rc=$?
	if [ -f "$PGDATA/postmaster.pid" ]; then
		as "$bindir/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 || true
	fi
	[ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
	if [ $rc -ne 0 ] && [ -f "$tmp/server.log" ]; then
		echo "--- server log tail ($tmp/server.log)"; tail -n 40 "$tmp/server.log"
	fi
	[ $rc -eq 0 ] && [ "${AISEC_KEEP_TMP:-0}" != 1 ] && rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT

say "throwaway cluster in $tmp (port $port)"
as "$bindir/initdb" -D "$PGDATA" -A trust -U "$PGUSER" --no-sync -E UTF8 --locale=C >"$tmp/initdb.log"
# The master key lives outside the data directory, readable only by the
# server's user (doc/keys.md).
as sh -c "umask 077 && openssl rand -out '$tmp/master.key' 32"
cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$tmp'
port = $port
shared_preload_libraries = 'aisec'
aisec.master_key_file = '$tmp/master.key'
max_connections = 40
max_worker_processes = 8
max_parallel_workers_per_gather = 2
CONF
case $mode in
test) echo "fsync = off" >>"$PGDATA/postgresql.conf" ;;
valgrind) printf 'fsync = off\njit = off\n' >>"$PGDATA/postgresql.conf" ;;
esac

start_server() {
	if [ "$mode" = valgrind ]; then
		as valgrind --trace-children=yes --track-origins=yes \
			--num-callers=30 --leak-check=no \
			--suppressions="$top/test/valgrind.supp" \
			--log-file="$tmp/valgrind.%p.log" \
			"$bindir/postgres" -D "$PGDATA" >"$tmp/server.log" 2>&1 &
		server_pid=$!
		for _ in $(seq 1 120); do
			"$bindir/pg_isready" -q && return 0; sleep 1
		done
		echo "server did not start under valgrind" >&2; return 1
	else
		as "$bindir/pg_ctl" -D "$PGDATA" -l "$tmp/server.log" -w start >/dev/null
	fi
}
start_server

# --- modes ------------------------------------------------------------------
regress() {
	local rc=0
	make -s PG_CONFIG="$PG_CONFIG" installcheck || rc=$?
	if [ $rc -ne 0 ]; then
		for d in regression.diffs output_iso/regression.diffs; do
			[ -s "$d" ] && { echo "--- $d"; cat "$d"; }
		done
	fi
	return $rc
}

tap() {
	# TAP tests start their own clusters, which must not run as root: give
	# them a private copy of test/ owned by the server's user.
	ls test/t/*.pl >/dev/null 2>&1 || return 0
	say "TAP tests"
	mkdir -p "$tmp/tap"
	cp -r test "$tmp/tap/"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$tmp/tap"
	local rc=0
	# TESTDATADIR/TESTLOGDIR: where PostgreSQL 16+'s TAP library puts its
	# files (14 and 15 use TESTDIR).
	(cd "$tmp/tap/test" && as env PATH="$bindir:$PATH" TESTDIR="$tmp/tap" \
		TESTDATADIR="$tmp/tap/tmp_check" TESTLOGDIR="$tmp/tap/tmp_check/log" \
		PG_REGRESS="$pgxs/src/test/regress/pg_regress" PGHOST= PGPORT= \
		prove -I "$pgxs/src/test/perl" -I t t/*.pl) || rc=$?
	if [ $rc -ne 0 ]; then
		for f in "$tmp"/tap/tmp_check/log/regress_log_*; do
			[ -f "$f" ] && { echo "--- tail of $f"; tail -n 25 "$f"; }
		done
	fi
	return $rc
}

case $mode in
test)
	say "META.json"
	python3 test/check_meta.py
	say "pg_regress and isolation tests"
	regress
	tap
	say "all tests passed"
	;;
valgrind)
	say "pg_regress and isolation tests under valgrind"
	rc=0
	regress || rc=$?
	as "$bindir/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
	errs=$(grep -l 'ERROR SUMMARY: [1-9]' "$tmp"/valgrind.*.log 2>/dev/null || true)
	if [ -n "$errs" ]; then
		for f in $errs; do echo "--- $f"; cat "$f"; done
		echo "valgrind reported errors" >&2
		rc=1
	fi
	[ $rc -eq 0 ] && say "valgrind: clean ($(ls "$tmp"/valgrind.*.log | wc -l) processes checked)"
	exit $rc
	;;
demo)
	say "demo database"
	psql -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE aisec_demo"
	for f in test/demo/*.sql; do
		psql -X -v ON_ERROR_STOP=1 -d aisec_demo -f "$f"
	done
	say "demo finished"
	;;
bench)
	psql -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE aisec_bench"
	export PGDATABASE=aisec_bench AISEC_BINDIR=$bindir
	bash test/bench/lib.sh header
	# AISEC_BENCH=<prefix> runs only the matching scripts (e.g. 50_versioning).
	for f in test/bench/${AISEC_BENCH:-}*.sh; do
		bash "$f"
	done
	;;
*)
	echo "usage: $0 test|demo|bench|valgrind" >&2; exit 2 ;;
esac
