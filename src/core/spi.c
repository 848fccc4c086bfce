/*
 * spi.c
 *		The one door to SPI for aisec's own fixed statements and generated
 *		DDL, and the one way to name a relation in them.
 *
 * Every connection pins search_path to pg_catalog, pg_temp, so nothing a
 * user plants in another schema is resolved by aisec's statements; every
 * statement is prepared with $n parameters (values never become SQL text);
 * a statement run as the extension owner gives the caller's identity back
 * in PG_FINALLY, however it ends.  While such a statement runs,
 * aisec_spi_owner_writing() is true: the triggers that refuse direct
 * writes to aisec's records let exactly those writes through.
 */
#include "postgres.h"

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "core.h"

/* True while aisec_spi_run executes a statement as the extension owner. */
static bool owner_writing = false;

/*
 * Connect to SPI with search_path pinned to pg_catalog, pg_temp.  The
 * caller's memory context stays current (SPI_connect would make SPI's own
 * current, which SPI_finish destroys): what the caller copies out of a
 * result, such as a name it reports after aisec_spi_end, stays valid.
 */
void
aisec_spi_begin(AisecSpi *s)
{
	MemoryContext caller = CurrentMemoryContext;

	s->guc_nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	MemoryContextSwitchTo(caller);
}

/* Disconnect from SPI and restore search_path. */
void
aisec_spi_end(AisecSpi *s)
{
	SPI_finish();
	AtEOXact_GUC(true, s->guc_nest);
}

/*
 * Prepare and run one statement, as the extension owner if as_owner,
 * read-only or not (see aisec_spi_run and aisec_spi_read).
 */
static int
RunStatement(const char *sql, bool as_owner, bool read_only, int nargs,
			 Oid *types, Datum *values, const char *nulls, Snapshot snap)
{
	MemoryContext caller = CurrentMemoryContext;
	SPIPlanPtr	plan;
	AisecSavedUser saved;
	bool		was_writing = owner_writing;
	int			rc;

	if (as_owner)
	{
		aisec_become_owner(&saved);
		owner_writing = true;
	}
	PG_TRY();
	{
		plan = SPI_prepare(sql, nargs, types);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s", sql,
				 SPI_result_code_string(SPI_result));
		rc = SPI_execute_snapshot(plan, values, nulls,
								  snap ? snap : InvalidSnapshot,
								  InvalidSnapshot, read_only, true, 0);
		if (rc < 0)
			elog(ERROR, "SPI_execute failed for \"%s\": %s", sql,
				 SPI_result_code_string(rc));
		SPI_freeplan(plan);
	}
	PG_FINALLY();
	{
		if (as_owner)
		{
			owner_writing = was_writing;
			aisec_restore_user(&saved);
		}
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	return (int) SPI_processed;
}

/*
 * Run one fixed statement with $n parameters; return SPI_processed.  With
 * as_owner, it runs as the extension owner and may write aisec's registry
 * and version tables.  With a valid snap, it reads through that snapshot.
 * The result rows stay valid until the next run or aisec_spi_end; the
 * caller's memory context is current again on return.
 */
int
aisec_spi_run(const char *sql, bool as_owner, int nargs, Oid *types,
			  Datum *values, const char *nulls, Snapshot snap)
{
	return RunStatement(sql, as_owner, false, nargs, types, values, nulls, snap);
}

/*
 * Run one fixed read-only query like aisec_spi_run, but in SPI's read-only
 * mode: no command counter increment and no new snapshot, so it reads with
 * the calling query's snapshot (or snap, if valid) and also works inside a
 * parallel worker, as the keyed masking functions need.
 */
int
aisec_spi_read(const char *sql, bool as_owner, int nargs, Oid *types,
			   Datum *values, const char *nulls, Snapshot snap)
{
	return RunStatement(sql, as_owner, true, nargs, types, values, nulls, snap);
}

/*
 * Run one generated DDL statement (or several, separated by semicolons),
 * built by the caller only from quoted identifiers, numbers and aisec's own
 * keywords, with printf-style formatting; inside aisec_spi_begin/_end.
 */
void
aisec_spi_ddl(bool as_owner, const char *fmt,...)
{
	StringInfoData sql;

	initStringInfo(&sql);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&sql, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&sql, needed);
	}
	(void) aisec_spi_run(sql.data, as_owner, 0, NULL, NULL, NULL, NULL);
	pfree(sql.data);
}

/* Column col (0-based) of result row row of the last aisec_spi_run. */
Datum
aisec_spi_value(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						 col + 1, isnull);
}

/* Is a statement of aisec_spi_run running as the extension owner now? */
bool
aisec_spi_owner_writing(void)
{
	return owner_writing;
}

/* schema.name of a relation, each part quoted as needed. */
char *
aisec_qualified_name(Oid relid)
{
	char	   *rel = get_rel_name(relid);

	if (rel == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), rel);
}
