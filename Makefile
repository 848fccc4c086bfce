# aisec: PGXS build, plus the test, demo and bench entry points.
#
# `make demo` and `make test` install what is missing (test/setup.sh), build,
# install, and run on a throwaway cluster (test/run.sh). `make installcheck`
# runs the pg_regress and isolation suites against an existing server
# (PG* environment variables), as with any PGXS extension.

EXTENSION	= aisec
EXTVERSION	= 0.2.0

MODULE_big	= aisec
# One folder per capability under src/ (doc/architecture.md): its C files,
# its headers (<folder>/<folder>.h is the door other folders include) and
# the SQL that declares it.
OBJS		= $(patsubst %.c,%.o,$(sort $(wildcard src/*/*.c)))
DATA_built	= src/$(EXTENSION)--$(EXTVERSION).sql
# Earlier releases' install scripts, frozen as they shipped, and the update
# scripts between releases (doc/upgrading.md): installed as they are.
DATA		= $(sort $(wildcard src/upgrade/*.sql))

# The install script is assembled from the SQL beside the C files:
# src/core/schema.sql (schema, roles, shared objects) first, then every
# other src/*/*.sql ordered by file name (not by folder), which keeps the
# objects in the order every earlier release created them.  src/upgrade/
# holds the scripts above, not parts of this one.
SQL_FILES	= $(filter-out src/core/schema.sql src/upgrade/%,$(wildcard src/*/*.sql))
SQL_SOURCES	= src/core/schema.sql $(foreach f,$(sort $(notdir $(SQL_FILES))),$(filter %/$(f),$(SQL_FILES)))
PG_CPPFLAGS	+= -I$(srcdir)/src

# pg_regress runs sql/<name>.sql in name order.
REGRESS		= $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS	= --load-extension=$(EXTENSION)

ISOLATION	= $(sort $(basename $(notdir $(wildcard test/isolation/specs/*.spec))))
ISOLATION_OPTS	= --inputdir=test/isolation --load-extension=$(EXTENSION)

# OpenSSL: only src/core/crypto.c calls it.
SHLIB_LINK	+= -lcrypto
# Export only aisec_* entry points (src/module/exports.map; GNU ld).
SHLIB_LINK	+= -Wl,--version-script=$(srcdir)/src/module/exports.map

# Warning-free under -Wall -Wextra.  PostgreSQL's own headers and calling
# convention (PG_FUNCTION_ARGS, unused fcinfo) trip three -Wextra warnings
# that PostgreSQL itself disables; we do the same and keep the rest.
PG_CFLAGS	+= -Wall -Wextra -Wno-unused-parameter \
		   -Wno-sign-compare -Wno-missing-field-initializers
# Warnings are errors only when asked (CI: .ci/run sets AISEC_WERROR=1), so
# that a newer compiler's new warnings never stop a user's `make install`.
ifeq ($(AISEC_WERROR),1)
PG_CFLAGS	+= -Werror
endif
# Each object's header dependencies (src/*/*.d), so that changing a header
# rebuilds every file that includes it.
# (included at the end, so that the default goal stays PGXS's).
PG_CFLAGS	+= -MMD -MP

PG_CONFIG	?= $(shell test -x /usr/lib/postgresql/15/bin/pg_config && echo /usr/lib/postgresql/15/bin/pg_config || echo pg_config)
PGXS		:= $(wildcard $(shell $(PG_CONFIG) --pgxs 2>/dev/null))

EXTRA_CLEAN	= output_iso results regression.diffs regression.out tmp_check $(OBJS:.o=.d)

ifneq ($(PGXS),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server development files were not found (pg_config: $(PG_CONFIG))."
	@echo "Run 'make deps' (or 'make demo' / 'make test', which run it) to install them."
	@exit 1
endif

$(DATA_built): $(SQL_SOURCES) aisec.control Makefile
	@echo "-- aisec $(EXTVERSION): generated from src/*/*.sql by the Makefile; edit those files." > $@
	@printf '%s\n' '\echo Use "CREATE EXTENSION aisec" to load this file. \quit' >> $@
	@for f in $(SQL_SOURCES); do echo; echo "-- ==== $$f ===="; cat $$f; done >> $@

.PHONY: deps demo test bench test-valgrind fuzz test-citus bench-citus

# Install what is missing on Debian/Ubuntu (apt-get, via sudo when not root).
deps:
	@test/setup.sh

demo: deps
	@test/run.sh demo

test: deps
	@test/run.sh test

bench: deps
	@test/run.sh bench

test-valgrind:
	@AISEC_NEED_VALGRIND=1 test/setup.sh
	@test/run.sh valgrind

# The bounded fuzz test, a longer randomized one and sqlsmith (test/fuzz/);
# AISEC_FUZZ_SECONDS (default 420), AISEC_FUZZ_SEED to replay a run.
fuzz:
	@AISEC_NEED_SQLSMITH=1 test/setup.sh
	@test/run.sh fuzz

# aisec on Citus (test/citus/run.sh): the Citus suite (test/citus/sql/) and
# benchmark on a throwaway coordinator + 2 workers on loopback; both say
# plainly that they skipped when Citus is not installed for the server.
test-citus: deps
	@test/citus/run.sh test

bench-citus: deps
	@test/citus/run.sh bench

# The pg_regress tests, for test/run.sh (test-valgrind leaves one out).
.PHONY: print-regress
print-regress:
	@echo $(REGRESS)

# Header dependencies written by the last build (see PG_CFLAGS above).
-include $(OBJS:.o=.d)
