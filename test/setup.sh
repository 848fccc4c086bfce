#!/bin/sh
# Install what aisec's build, tests, demo and benchmarks need, if missing.
#
# Debian 12 (and derivatives): PostgreSQL 15 server and server headers,
# OpenSSL headers, Perl's IPC::Run for the TAP tests, valgrind for
# `make test-valgrind`, sqlsmith for `make fuzz`.  Uses apt-get after an `apt-get update`, through sudo
# when not run as root.  Does nothing when everything is already there.
set -eu

PGV=${AISEC_PG_VERSION:-15}
missing=""

need_pkg() {
	# $1: package, $2: a test that succeeds when it is already usable
	if ! sh -c "$2" >/dev/null 2>&1; then
		missing="$missing $1"
	fi
}

need_pkg "postgresql-$PGV" "test -x /usr/lib/postgresql/$PGV/bin/initdb"
need_pkg "postgresql-contrib" "test -f /usr/share/postgresql/$PGV/extension/pgcrypto.control"
# pgxs.mk alone is not enough: postgresql-client ships it, without the
# server headers.
need_pkg "postgresql-server-dev-$PGV" "test -f /usr/include/postgresql/$PGV/server/postgres.h && test -f /usr/lib/postgresql/$PGV/lib/pgxs/src/makefiles/pgxs.mk"
need_pkg "libssl-dev" "test -f /usr/include/openssl/evp.h"
need_pkg "libipc-run-perl" "perl -MIPC::Run -e 1"
need_pkg "openssl" "command -v openssl"
need_pkg "python3" "command -v python3"
need_pkg "make" "command -v make"
need_pkg "gcc" "command -v gcc"
if [ "${AISEC_NEED_VALGRIND:-0}" = 1 ]; then
	need_pkg "valgrind" "command -v valgrind"
fi
if [ "${AISEC_NEED_SQLSMITH:-0}" = 1 ]; then
	need_pkg "sqlsmith" "command -v sqlsmith"
fi

[ -z "$missing" ] && exit 0

echo "aisec: installing missing packages:$missing"
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "aisec: need root or sudo to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# The postgresql-common package would create a default cluster on install;
# aisec's harness runs its own throwaway clusters instead.
if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
	$SUDO mkdir -p /etc/postgresql-common/createcluster.d
	echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.d/aisec.conf >/dev/null
fi
$SUDO apt-get install -y -q --no-install-recommends $missing
