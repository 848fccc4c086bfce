#!/bin/bash
# Build, into DIR, the aisec.so of the 0.1.0 release itself, from its
# source in this repository's history: the library a 0.1.0 database was
# made with.  Test only: test/run.sh's upgrade step installs it for a
# moment to create a database at 0.1.0, then puts today's library back and
# runs ALTER EXTENSION aisec UPDATE.  Never committed, never installed by
# `make install`.
#
#   test/upgrade/legacy_library.sh DIR    (PG_CONFIG honoured)
#
# Exit status 3: the release's source is not in this checkout's history
# (a shallow clone or an exported tree); the caller says so and skips.
#
# Built from the release's own files with its own Makefile, but without
# -Werror (PG_CFLAGS given on the command line replaces the Makefile's), so
# that a newer compiler's new warnings cannot stop an old release's build.
set -euo pipefail

# The commit 0.1.0 was released from (CHANGELOG.md, doc/upgrading.md).
release=2e66ab082a02d3bf670be6bffdab6bb81469b9b3

dir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
pg_config=${PG_CONFIG:-pg_config}

if ! git -C "$top" cat-file -e "$release^{commit}" 2>/dev/null; then
	echo "the 0.1.0 release (commit $release) is not in this checkout's git history" >&2
	exit 3
fi

rm -rf "$dir/src"
mkdir -p "$dir/src"
git -C "$top" archive "$release" | tar -x -C "$dir/src"
make -s -C "$dir/src" -j2 PG_CONFIG="$pg_config" PG_CFLAGS="-Wall -Wno-unused-parameter" aisec.so
cp "$dir/src/aisec.so" "$dir/aisec.so"
echo "$dir/aisec.so: the 0.1.0 release's library (commit $release)"
