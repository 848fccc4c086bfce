/*
 * erasure_reapply.c
 *		aisec.reapply_erasures(): after a restore of an older backup,
 *		re-erase every executed erasure request from the row ids the
 *		register keeps (aisec.erasure_row), without the subjects.
 *
 * A backup taken before an erasure brings the erased rows back: live rows
 * and history records with their data.  The register (loaded from a newer
 * state, doc/erasure.md "After a restore") keeps the row ids each erasure
 * erased; row ids are not personal data without the rows.  Per tracked
 * table, in table-number order, this deletes the live rows with those ids
 * (one DELETE, a scan: aisec_rid has no index) and redacts every history
 * record of them in every version (aisec_history_redact, index probes),
 * exactly as aisec.erase does: as the extension owner with row security
 * off, captured like any delete, refused (0A000) where a DELETE would run
 * a table owner's trigger or rule.  What is already gone is not counted,
 * so a second call finds nothing.
 *
 * Rows of untracked tables have no ids: reapply cannot find them without
 * the subject.  It reports, per executed request, every declared untracked
 * table declared by the time the request was executed (counts NULL): the
 * rows erase deleted there come back with an older backup, and need a new
 * request erased with the subject.  Row ids of a table not tracked in this
 * database (a backup older than its tracking, or a table dropped since)
 * are counted in a NOTICE.
 *
 * A request whose row ids are in aisec.erasure_row but that the register
 * shows as not executed (its executed row lost to the backup's older one
 * when the newer register was merged in) is marked executed now.
 *
 * Serialized with erase on the register's lock; READ COMMITTED only, as
 * erase.  One audit entry, erasure.reapply: counts per table, never rows.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "audit/audit.h"
#include "erasure_internal.h"

/* The row ids one request erased in one table. */
typedef struct ReapplyGroup
{
	int32		table_no;
	int64		request_id;
	char	   *reference;
	Datum		rids;			/* int8[] */
	int64		deleted;
	int64		redacted;
} ReapplyGroup;

/* Read the register's row ids, grouped by table and request. */
static int
ReadGroups(ReapplyGroup **out)
{
	AisecSpi	spi;
	int			n;
	ReapplyGroup *g;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT (e.rid OPERATOR(pg_catalog.>>) " CppAsString2(RID_TABLE_SHIFT) ")::pg_catalog.int4, "
					  "       e.request_id, "
					  "       COALESCE(r.reference, '#' OPERATOR(pg_catalog.||) e.request_id::pg_catalog.text), "
					  "       pg_catalog.array_agg(e.rid ORDER BY e.rid) "
					  "FROM aisec.erasure_row e "
					  "LEFT JOIN aisec.erasure_request r ON r.id OPERATOR(pg_catalog.=) e.request_id "
					  "GROUP BY 1, 2, 3 ORDER BY 1, 2",
					  true, 0, NULL, NULL, NULL, NULL);
	g = palloc0(sizeof(ReapplyGroup) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		g[i].table_no = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
		g[i].request_id = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		g[i].reference = TextDatumGetCString(aisec_spi_value(i, 2, &isnull));
		g[i].rids = PointerGetDatum(DatumGetArrayTypePCopy(aisec_spi_value(i, 3, &isnull)));
	}
	aisec_spi_end(&spi);
	*out = g;
	return n;
}

/* Mark executed now the requests with erased row ids the register shows open. */
static int64
MarkExecuted(void)
{
	AisecSpi	spi;
	int64		n;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("UPDATE aisec.erasure_request r SET executed_at = pg_catalog.now() "
					  "WHERE r.executed_at IS NULL AND EXISTS "
					  "(SELECT FROM aisec.erasure_row e WHERE e.request_id OPERATOR(pg_catalog.=) r.id)",
					  true, 0, NULL, NULL, NULL, NULL);
	aisec_spi_end(&spi);
	return n;
}

/* The elements of the int8[] arrays of groups g[from..to), as one int8[]. */
static Datum
AllRids(ReapplyGroup *g, int from, int to)
{
	ArrayBuildState *all = initArrayResult(INT8OID, CurrentMemoryContext, false);

	for (int i = from; i < to; i++)
	{
		Datum	   *elems;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(g[i].rids), INT8OID, 8, FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, NULL, &n);
		for (int k = 0; k < n; k++)
			accumArrayResult(all, elems[k], false, INT8OID, CurrentMemoryContext);
	}
	return makeArrayResult(all, CurrentMemoryContext);
}

/*
 * Re-erase groups g[from..to), all of tracked table tt: delete the live
 * rows with their ids (counted per request), then redact their history.
 */
static bool
ReapplyTable(const TrackedTable *tt, ReapplyGroup *g, int from, int to)
{
	char	   *rel;
	Oid			argtype = INT8ARRAYOID;
	Datum		rids;
	AisecSpi	spi;
	int			n;
	bool		isnull;

	/* No writer meanwhile (as erase); readers and commits go on. */
	LockRelationOid(tt->relid, ShareRowExclusiveLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(tt->relid)))
	{
		UnlockRelationOid(tt->relid, ShareRowExclusiveLock);
		return false;			/* dropped meanwhile */
	}
	rel = aisec_qualified_name(tt->relid);
	rids = AllRids(g, from, to);

	aisec_spi_begin(&spi);
	(void) set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) aisec_spi_run(psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t "
								  "WHERE t.%s OPERATOR(pg_catalog.=) ANY ($1)",
								  rel, RID_COLUMN),
						 true, 1, &argtype, &rids, NULL, NULL);
	if (DatumGetInt64(aisec_spi_value(0, 0, &isnull)) > 0)
	{
		erasure_check_delete_runs(tt->relid);
		n = aisec_spi_run(psprintf("WITH d AS (DELETE FROM ONLY %s t "
								   "  WHERE t.%s OPERATOR(pg_catalog.=) ANY ($1) RETURNING t.%s) "
								   "SELECT e.request_id, pg_catalog.count(*) FROM d "
								   "JOIN aisec.erasure_row e ON e.rid OPERATOR(pg_catalog.=) d.%s "
								   "GROUP BY 1",
								   rel, RID_COLUMN, RID_COLUMN, RID_COLUMN),
						  true, 1, &argtype, &rids, NULL, NULL);
		for (int r = 0; r < n; r++)
		{
			int64		request_id = DatumGetInt64(aisec_spi_value(r, 0, &isnull));
			int64		count = DatumGetInt64(aisec_spi_value(r, 1, &isnull));

			for (int i = from; i < to; i++)
				if (g[i].request_id == request_id)
					g[i].deleted = count;
		}
	}
	aisec_spi_end(&spi);

	/* After the deletes: a pending record of a live row went with it. */
	for (int i = from; i < to; i++)
		g[i].redacted = aisec_history_redact(tt, g[i].rids);
	return true;
}

/*
 * Report the untracked declared tables each executed request's erase went
 * over (declared by the time it was executed): reference, table.
 */
static void
ReportUntracked(Tuplestorestate *ts, TupleDesc desc, StringInfo audit)
{
	AisecSpi	spi;
	int			n;
	int			nreported = 0;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT r.reference, s.rel::pg_catalog.oid "
					  "FROM aisec.erasure_request r "
					  "JOIN (SELECT rel, pg_catalog.min(declared_at) AS declared_at "
					  "      FROM aisec.erasure_subject GROUP BY rel) s "
					  "  ON s.declared_at OPERATOR(pg_catalog.<=) r.executed_at "
					  "JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid "
					  "JOIN pg_catalog.pg_namespace ns ON ns.oid OPERATOR(pg_catalog.=) c.relnamespace "
					  "WHERE r.executed_at IS NOT NULL "
					  "  AND NOT EXISTS (SELECT FROM aisec.tracked t "
					  "                  WHERE t.rel OPERATOR(pg_catalog.=) s.rel) "
					  "ORDER BY r.id, ns.nspname, c.relname",
					  true, 0, NULL, NULL, NULL, NULL);
	for (int i = 0; i < n; i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, true, true};
		bool		isnull;

		values[0] = PointerGetDatum(DatumGetTextPCopy(aisec_spi_value(i, 0, &isnull)));
		values[1] = aisec_spi_value(i, 1, &isnull);
		tuplestore_putvalues(ts, desc, values, nulls);
		nreported++;
	}
	aisec_spi_end(&spi);
	appendStringInfo(audit, ", \"untracked_reported\": %d", nreported);
}

/* qsort: groups by request id, then table number. */
static int
CompareGroups(const void *a, const void *b)
{
	const ReapplyGroup *x = *(ReapplyGroup *const *) a;
	const ReapplyGroup *y = *(ReapplyGroup *const *) b;

	if (x->request_id != y->request_id)
		return x->request_id < y->request_id ? -1 : 1;
	return x->table_no < y->table_no ? -1 : (x->table_no > y->table_no);
}

/* SQL: aisec.reapply_erasures(): see the file header. */
PG_FUNCTION_INFO_V1(aisec_reapply_erasures);
Datum
aisec_reapply_erasures(PG_FUNCTION_ARGS)
{
	ReapplyGroup *g;
	int			ngroups;
	int64		marked;
	int64		total_deleted = 0;
	int64		total_redacted = 0;
	int64		unknown = 0;
	int			nrequests = 0;
	int			ntables = 0;
	StringInfoData tables;
	StringInfoData audit;
	TupleDesc	desc;
	Tuplestorestate *ts;

	aisec_require_role(AISEC_ROLE_DPO, "aisec.reapply_erasures()");
	aisec_prevent_if_read_only("aisec.reapply_erasures()");
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aisec.reapply_erasures() must run at READ COMMITTED isolation"),
				 errdetail("At REPEATABLE READ or SERIALIZABLE, rows changed after the transaction's snapshot could not be erased."),
				 errhint("Run it in a transaction of its own, or SET TRANSACTION ISOLATION LEVEL READ COMMITTED.")));

	ts = aisec_begin_srf(fcinfo, &desc);
	erasure_lock_register();
	marked = MarkExecuted();
	ngroups = ReadGroups(&g);

	initStringInfo(&tables);
	for (int from = 0, to; from < ngroups; from = to)
	{
		TrackedTable tt;
		int64		deleted = 0;
		int64		redacted = 0;

		for (to = from; to < ngroups && g[to].table_no == g[from].table_no; to++)
			;
		if (!history_lookup_no(g[from].table_no, &tt) || !ReapplyTable(&tt, g, from, to))
		{
			for (int i = from; i < to; i++)
				unknown += ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(g[i].rids)),
										  ARR_DIMS(DatumGetArrayTypeP(g[i].rids)));
			continue;
		}
		for (int i = from; i < to; i++)
		{
			deleted += g[i].deleted;
			redacted += g[i].redacted;
		}
		total_deleted += deleted;
		total_redacted += redacted;
		if (deleted + redacted == 0)
			continue;
		appendStringInfo(&tables, "%s{\"table\": ", ntables++ > 0 ? ", " : "");
		escape_json(&tables, aisec_qualified_name(tt.relid));
		appendStringInfo(&tables, ", \"live_rows_deleted\": " INT64_FORMAT
						 ", \"history_records_redacted\": " INT64_FORMAT "}",
						 deleted, redacted);
	}

	/* The rows found, by request, then table (number). */
	{
		ReapplyGroup **order = palloc(sizeof(ReapplyGroup *) * (ngroups + 1));
		int64		last = -1;

		for (int i = 0; i < ngroups; i++)
			order[i] = &g[i];
		qsort(order, ngroups, sizeof(ReapplyGroup *), CompareGroups);
		for (int i = 0; i < ngroups; i++)
		{
			ReapplyGroup *r = order[i];
			TrackedTable tt;
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			if (r->deleted + r->redacted == 0 || !history_lookup_no(r->table_no, &tt))
				continue;
			if (r->request_id != last)
				nrequests++;
			last = r->request_id;
			values[0] = CStringGetTextDatum(r->reference);
			values[1] = ObjectIdGetDatum(tt.relid);
			values[2] = Int64GetDatum(r->deleted);
			values[3] = Int64GetDatum(r->redacted);
			tuplestore_putvalues(ts, desc, values, nulls);
		}
	}

	if (unknown > 0)
		ereport(NOTICE,
				(errmsg(INT64_FORMAT " erased row ids belong to tables not tracked in this database", unknown),
				 errdetail("A backup taken before a table was tracked has no row ids for its rows."),
				 errhint("Such rows need a new erasure request, executed with the subject.")));

	initStringInfo(&audit);
	appendStringInfo(&audit, "{\"requests\": %d, \"marked_executed\": " INT64_FORMAT
					 ", \"live_rows_deleted\": " INT64_FORMAT
					 ", \"history_records_redacted\": " INT64_FORMAT
					 ", \"row_ids_untracked\": " INT64_FORMAT ", \"tables\": [%s]",
					 nrequests, marked, total_deleted, total_redacted, unknown, tables.data);
	ReportUntracked(ts, desc, &audit);
	appendStringInfoChar(&audit, '}');
	(void) aisec_audit_log("erasure.reapply", NULL, audit.data);
	return (Datum) 0;
}
