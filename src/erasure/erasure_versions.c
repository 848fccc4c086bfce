/*
 * erasure_versions.c
 *		What erasure tells versioning about the rows it erased, so that
 *		versioning's functions can say what an erasure left of a version:
 *		the row ids of one tracked table an executed erasure erased, for
 *		aisec.manifest()'s per-table redacted_rows (doc/erasure.md,
 *		"Versions after an erasure").
 *
 * Registered at load time next to the redaction check, so versioning never
 * includes erasure.  A row id names its table (rid >> RID_TABLE_SHIFT is
 * the table number), so one table's row ids are a range of the primary key
 * of aisec.erasure_row, read with the caller's snapshot.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "erasure_internal.h"

/*
 * The row ids of tracked table table_no that executed erasures erased,
 * ascending and distinct (a row erased by two requests once), *n of them;
 * NULL and 0 if none or the register is missing (a database not yet
 * updated).
 */
static int64 *
ErasedRids(int32 table_no, Snapshot snap, int *n)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("erasure_row", nsp) : InvalidOid;
	Oid			indexid = OidIsValid(nsp) ? get_relname_relid("erasure_row_pkey", nsp) : InvalidOid;
	int64		first = (int64) table_no << RID_TABLE_SHIFT;
	int64		last = first + (((int64) 1 << RID_TABLE_SHIFT) - 1);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	int64	   *rids = NULL;
	int			max = 0;

	*n = 0;
	if (!OidIsValid(relid) || !OidIsValid(indexid) || table_no <= 0)
		return NULL;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&keys[0], 1, BTGreaterEqualStrategyNumber, F_INT8GE, Int64GetDatum(first));
	ScanKeyInit(&keys[1], 1, BTLessEqualStrategyNumber, F_INT8LE, Int64GetDatum(last));
	scan = systable_beginscan(rel, indexid, true, snap, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		int64		rid = DatumGetInt64(heap_getattr(tup, 1, RelationGetDescr(rel), &isnull));

		if (isnull || (*n > 0 && rids[*n - 1] == rid))
			continue;
		if (*n == max)
		{
			max = Max(max * 2, 64);
			rids = rids == NULL ? palloc(sizeof(int64) * max) :
				repalloc_huge(rids, sizeof(int64) * max);
		}
		rids[(*n)++] = rid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return rids;
}

/* Register with versioning what it reads about erased rows (at load time). */
void
erasure_versions_init(void)
{
	aisec_versioning_set_erased_rids(ErasedRids);
}
