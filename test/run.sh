#!/bin/bash
# aisec test, demo and benchmark driver: build, install, run on a throwaway
# cluster, tear it down.
#
#   test/run.sh test       pg_regress + isolation + TAP suites, then the
#                          upgrade from the previous release (test/upgrade/)
#   test/run.sh demo       narrated walkthrough (test/demo/*.sql)
#   test/run.sh bench      benchmarks (test/bench/*.sh; AISEC_BENCH=<prefix>
#                          runs only the matching ones)
#   test/run.sh valgrind   pg_regress + isolation suites with every backend
#                          under valgrind memcheck
#   test/run.sh fuzz       the bounded fuzz test, a longer randomized one and
#                          sqlsmith; fails on any crash (test/fuzz/run.sh)
#
# While working on one thing, test mode can run a part of the suite:
# AISEC_REGRESS="a b" (those pg_regress tests), AISEC_ISOLATION="x" (those
# specs; empty: none), AISEC_TAP="05*" (TAP files t/<glob>.pl; "none": none),
# AISEC_SKIP_UPGRADE=1 (AISEC_REGRESS and AISEC_ISOLATION also in valgrind
# mode).  `make test` and `make test-valgrind` set none of them.
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
as() { "${RUNAS[@]}" "$@"; }

PGDATA=$tmp/data
port=$(( 20000 + RANDOM % 20000 ))
export PGHOST=$tmp PGPORT=$port PGDATABASE=postgres
if [ "$(id -u)" = 0 ]; then export PGUSER=postgres; else export PGUSER=$(id -un); fi
server_pid=""
# Set while the upgrade test's library with 0.1.0's symbols is installed.
legacy_installed=""

cleanup() {
	rc=$?
	for dir in "$tmp" "$tmp/upgrade"; do
		if [ -f "$dir/data/postmaster.pid" ]; then
			as "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
		fi
	done
	[ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null || true
	if [ -n "$legacy_installed" ]; then
		echo "--- putting the normal aisec.so back into $pkglibdir"
		$SUDO make -s PG_CONFIG="$PG_CONFIG" install || true
	fi
	for log in "$tmp/server.log" "$tmp/upgrade/server.log"; do
		if [ $rc -ne 0 ] && [ -f "$log" ]; then
			echo "--- server log tail ($log)"; tail -n 40 "$log"
		fi
	done
	[ $rc -eq 0 ] && [ "${AISEC_KEEP_TMP:-0}" != 1 ] && rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT

# new_cluster DIR PORT: a cluster in DIR/data with aisec preloaded, listening
# on a socket in DIR.  The master key lives outside the data directory,
# readable only by the server's user (doc/keys.md).
new_cluster() {
	local dir=$1 port=$2
	mkdir -p "$dir"
	chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	as "$bindir/initdb" -D "$dir/data" -A trust -U "$PGUSER" --no-sync -E UTF8 --locale=C >"$dir/initdb.log"
	as sh -c "umask 077 && openssl rand -out '$dir/master.key' 32"
	cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$dir'
port = $port
shared_preload_libraries = 'aisec'
aisec.master_key_file = '$dir/master.key'
max_connections = 40
max_worker_processes = 8
max_parallel_workers_per_gather = 2
CONF
	case $mode in
	test|fuzz) echo "fsync = off" >>"$dir/data/postgresql.conf" ;;
	valgrind) printf 'fsync = off\njit = off\n' >>"$dir/data/postgresql.conf" ;;
	esac
}

say "throwaway cluster in $tmp (port $port)"
new_cluster "$tmp" "$port"

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
	make -s PG_CONFIG="$PG_CONFIG" installcheck "$@" || rc=$?
	if [ $rc -ne 0 ]; then
		for d in regression.diffs output_iso/regression.diffs; do
			[ -s "$d" ] && { echo "--- $d"; cat "$d"; }
		done
	fi
	return $rc
}

tap() {
	# TAP tests start their own clusters, which must not run as root: give
	# them a private copy of test/ owned by the server's user (and of doc/:
	# a test runs a doc's procedure as written).
	[ "${AISEC_TAP:-}" = none ] && return 0
	ls test/t/*.pl >/dev/null 2>&1 || return 0
	say "TAP tests"
	mkdir -p "$tmp/tap"
	cp -r test doc "$tmp/tap/"
	[ "$(id -u)" = 0 ] && chown -R postgres: "$tmp/tap"
	local rc=0
	# TESTDATADIR/TESTLOGDIR: where PostgreSQL 16+'s TAP library puts its
	# files (14 and 15 use TESTDIR).
	(cd "$tmp/tap/test" && as env PATH="$bindir:$PATH" TESTDIR="$tmp/tap" \
		TESTDATADIR="$tmp/tap/tmp_check" TESTLOGDIR="$tmp/tap/tmp_check/log" \
		PG_REGRESS="$pgxs/src/test/regress/pg_regress" PGHOST= PGPORT= \
		prove -I "$pgxs/src/test/perl" -I t t/${AISEC_TAP:-*}.pl) || rc=$?
	if [ $rc -ne 0 ]; then
		for f in "$tmp"/tap/tmp_check/log/regress_log_*; do
			[ -f "$f" ] && { echo "--- tail of $f"; tail -n 25 "$f"; }
		done
	fi
	return $rc
}

upgrade() {
	# A database made by 0.1.0, updated in place with today's library
	# (test/upgrade/; doc/upgrading.md).  A cluster of its own, since the
	# library it starts with is 0.1.0's.
	say "upgrade from 0.1.0"
	local dir=$tmp/upgrade uport=$((port + 1))
	local regress_up=("$pgxs/src/test/regress/pg_regress" --use-existing --bindir="$bindir"
		--host="$dir" --port="$uport" --dbname=aisec_upgraded
		--inputdir=test/upgrade --outputdir="$dir")
	local psql_up=(psql -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$uport")

	# 1. 0.1.0: its install script (installed with today's) and its own
	#    library, built from the release's source in git history.
	local lrc=0
	test/upgrade/legacy_library.sh "$dir/legacy" || lrc=$?
	if [ $lrc = 3 ]; then
		echo "upgrade test SKIPPED: it needs the 0.1.0 release's source from git history (a full clone)" >&2
		return 0
	fi
	[ $lrc = 0 ] || return $lrc
	legacy_installed=1
	$SUDO install -m 755 "$dir/legacy/aisec.so" "$pkglibdir/aisec.so"
	new_cluster "$dir" "$uport"
	as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
	"${psql_up[@]}" -c "CREATE DATABASE aisec_upgraded"
	"${regress_up[@]}" before || { cat "$dir/regression.diffs"; return 1; }

	# 2. Today's library, then ALTER EXTENSION aisec UPDATE (in after.sql).
	as "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	$SUDO make -s PG_CONFIG="$PG_CONFIG" install
	legacy_installed=""
	as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
	"${regress_up[@]}" after || { cat "$dir/regression.diffs"; return 1; }

	# 3. The updated catalog is what a fresh install declares.
	"${psql_up[@]}" -c "CREATE DATABASE aisec_fresh"
	# Under another default table access method, which aisec's own tables
	# must not follow (the comparison shows each table's access method).
	"${psql_up[@]}" -d aisec_fresh \
		-c "CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler" \
		-c "SET default_table_access_method = heap2" -c "CREATE EXTENSION aisec"
	for db in aisec_upgraded aisec_fresh; do
		"${psql_up[@]}" -At -d "$db" -f test/upgrade/catalog.sql >"$dir/catalog.$db"
	done
	if ! diff -u "$dir/catalog.aisec_fresh" "$dir/catalog.aisec_upgraded"; then
		echo "the updated database's aisec objects differ from a fresh install's (- fresh, + updated)" >&2
		return 1
	fi
	echo "catalog: $(grep -c . "$dir/catalog.aisec_fresh") lines, the same after the update as on a fresh install"
	as "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
}

case $mode in
test)
	say "META.json and source layout"
	python3 test/check_meta.py
	python3 test/check_layout.py
	say "pg_regress and isolation tests"
	regress ${AISEC_REGRESS:+REGRESS="$AISEC_REGRESS"} \
		${AISEC_ISOLATION+ISOLATION="$AISEC_ISOLATION"}
	tap
	[ -n "${AISEC_SKIP_UPGRADE:-}" ] || upgrade
	say "all tests passed"
	;;
valgrind)
	say "pg_regress and isolation tests under valgrind"
	rc=0
	# All but the bounded fuzz: its 48,000 cases take well over ten minutes
	# under valgrind (run it there by hand with REGRESS=fuzz if needed).
	regress REGRESS="${AISEC_REGRESS:-$(make -s --no-print-directory print-regress | sed 's/\bfuzz\b//')}" \
		${AISEC_ISOLATION+ISOLATION="$AISEC_ISOLATION"} || rc=$?
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
	# AISEC_BENCH=<prefix> runs only the matching scripts (e.g. 50_versioning);
	# lib.sh is the library they source, not a benchmark.
	for f in test/bench/${AISEC_BENCH:-}*.sh; do
		[ "$(basename "$f")" = lib.sh ] && continue
		bash "$f"
	done
	;;
fuzz)
	AISEC_SERVER_LOG=$tmp/server.log test/fuzz/run.sh
	;;
*)
	echo "usage: $0 test|demo|bench|valgrind|fuzz" >&2; exit 2 ;;
esac
