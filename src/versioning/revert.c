/*
 * revert.c
 *		aisec.revert(): writing the live tables of a dataset back to a
 *		committed version, as ordinary captured changes, and the note that
 *		makes the next commit say so.
 *
 * The design is in doc/versioning.md ("aisec.revert").  Invariants:
 *
 * - Every change is made by a plain DELETE, UPDATE or INSERT run as the
 *   caller through SPI, so the caller's table privileges, the table's
 *   triggers and capture all apply; row-level security must not apply to
 *   the caller at all (version_require_select), so the revert is never
 *   partial.  What to change is decided in C, from one scan of the live
 *   table and one read of the version; the statements address live rows
 *   by ctid, so they scan no more than the rows they change.
 * - The tables are locked in EXCLUSIVE mode, in table_no order, before
 *   anything is read, and the commit lock is then held in share mode: no
 *   other writer changes them until the caller's transaction ends, and
 *   every change lands in one pending version.  A concurrent writer's
 *   change is therefore either reverted (it committed first) or kept (it
 *   waited).  Under REPEATABLE READ or SERIALIZABLE the statements would
 *   not see what a writer committed meanwhile, so revert refuses them.
 * - Rows deleted since the version come back with their row ids: their
 *   INSERT runs between notes_restore_begin/_end, which lets in ids whose
 *   history records have all ended and records those rows at once
 *   (history_capture_restored).  Unchanged rows are not touched.
 * - Each statement must change exactly the rows it was given; anything
 *   else (a trigger that skipped or moved a row) is an error, so a revert
 *   is whole or not at all.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "notes.h"
#include "version.h"

/* Rows per DELETE, UPDATE or INSERT statement. */
#define REVERT_BATCH		10000

/* A live row: its id, where it is, and whether the version has it. */
typedef struct LiveRow
{
	int64		rid;
	ItemPointerData tid;
	bool		seen;
	char		status;			/* simplehash's */
} LiveRow;

#define SH_PREFIX		liverow
#define SH_ELEMENT_TYPE LiveRow
#define SH_KEY_TYPE		int64
#define SH_KEY			rid
#define SH_HASH_KEY(tb, key) hash_combine(murmurhash32((uint32) (key)), \
										  murmurhash32((uint32) ((uint64) (key) >> 32)))
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* What reverting one table takes and did. */
typedef struct TableRevert
{
	TrackedTable tt;
	Relation	rel;
	char	   *qname;			/* schema.table, quoted */
	AttrNumber	ridatt;
	int			ncols;			/* columns written: not dropped, generated or aisec_rid */
	AttrNumber *cols;
	char	   *collist;		/* "a", "b", ... quoted */
	char	   *rcollist;		/* r."a", r."b", ... */
	int64		inserted;
	int64		updated;
	int64		deleted;
} TableRevert;

/* ---------------------------------------------------------------------
 * Statements, run as the caller
 * ---------------------------------------------------------------------
 */

/* Refuse a statement that changed other than the rows it was given. */
static void
CheckChanged(TableRevert *t, const char *what, int64 expected, int64 done)
{
	if (done != expected)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aisec.revert() %s " INT64_FORMAT " rows of table \"%s\" where " INT64_FORMAT " were to be %s",
						what, done, RelationGetRelationName(t->rel), expected, what),
				 errdetail("A trigger on the table skipped or changed rows while they were reverted."),
				 errhint("Disable the table's own triggers for the revert, or revert by hand.")));
}

/* An array datum of n datums of type elemtype. */
static Datum
ArrayOf(Datum *elems, int n, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elems, n, elemtype, typlen, typbyval, typalign));
}

/* The rows as an array of the table's row type. */
static Datum
RowArray(TableRevert *t, HeapTuple *rows, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	TupleDesc	desc = RelationGetDescr(t->rel);
	Datum		d;

	for (int i = 0; i < n; i++)
		elems[i] = heap_copy_tuple_as_datum(rows[i], desc);
	d = ArrayOf(elems, n, desc->tdtypeid);
	for (int i = 0; i < n; i++)
		pfree(DatumGetPointer(elems[i]));
	pfree(elems);
	return d;
}

/* DELETE the live rows at tids (n of them), as the caller. */
static void
DeleteRows(TableRevert *t, ItemPointerData *tids, int64 n)
{
	char	   *sql = psprintf("DELETE FROM %s WHERE ctid OPERATOR(pg_catalog.=) "
							   "ANY ($1::pg_catalog.tid[])", t->qname);

	for (int64 done = 0; done < n; done += REVERT_BATCH)
	{
		int			part = (int) Min(n - done, REVERT_BATCH);
		Datum	   *elems = palloc(sizeof(Datum) * part);
		Oid			types[1] = {TIDARRAYOID};
		Datum		values[1];

		for (int i = 0; i < part; i++)
			elems[i] = PointerGetDatum(&tids[done + i]);
		values[0] = ArrayOf(elems, part, TIDOID);
		CheckChanged(t, "deleted", part,
					 aisec_spi_run(sql, false, 1, types, values, NULL, NULL));
		pfree(DatumGetPointer(values[0]));
		pfree(elems);
	}
	t->deleted = n;
}

/* UPDATE the live rows at tids to rows (matched by row id), as the caller. */
static void
UpdateRows(TableRevert *t, ItemPointerData *tids, HeapTuple *rows, int64 n)
{
	char	   *sql;

	if (n == 0)
		return;
	sql = psprintf("UPDATE %s t SET (%s) = ROW(%s) FROM pg_catalog.unnest($2) r "
				   "WHERE t.ctid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.tid[]) "
				   "AND t.%s OPERATOR(pg_catalog.=) r.%s",
				   t->qname, t->collist, t->rcollist, RID_COLUMN, RID_COLUMN);
	for (int64 done = 0; done < n; done += REVERT_BATCH)
	{
		int			part = (int) Min(n - done, REVERT_BATCH);
		Datum	   *elems = palloc(sizeof(Datum) * part);
		Oid			types[2] = {TIDARRAYOID, get_array_type(RelationGetDescr(t->rel)->tdtypeid)};
		Datum		values[2];

		for (int i = 0; i < part; i++)
			elems[i] = PointerGetDatum(&tids[done + i]);
		values[0] = ArrayOf(elems, part, TIDOID);
		values[1] = RowArray(t, rows + done, part);
		CheckChanged(t, "updated", part,
					 aisec_spi_run(sql, false, 2, types, values, NULL, NULL));
		pfree(DatumGetPointer(values[0]));
		pfree(DatumGetPointer(values[1]));
		pfree(elems);
	}
	t->updated = n;
}

/* Run the INSERT that brings rows back, letting their old row ids in. */
static int64
RunRestoringInsert(Oid relid, const char *sql, Oid *types, Datum *values)
{
	volatile int64 n = 0;

	notes_restore_begin(relid);
	PG_TRY();
	{
		n = aisec_spi_run(sql, false, 1, types, values, NULL, NULL);
	}
	PG_FINALLY();
	{
		notes_restore_end();
	}
	PG_END_TRY();
	return n;
}

/* INSERT rows with the row ids they had, as the caller. */
static void
InsertRows(TableRevert *t, HeapTuple *rows, int64 n)
{
	char	   *sql;

	if (n == 0)
		return;
	sql = psprintf("INSERT INTO %s (%s%s%s) OVERRIDING SYSTEM VALUE "
				   "SELECT r.%s%s%s FROM pg_catalog.unnest($1) r",
				   t->qname, RID_COLUMN, t->ncols > 0 ? ", " : "", t->collist,
				   RID_COLUMN, t->ncols > 0 ? ", " : "", t->rcollist);
	for (int64 done = 0; done < n; done += REVERT_BATCH)
	{
		int			part = (int) Min(n - done, REVERT_BATCH);
		Oid			types[1] = {get_array_type(RelationGetDescr(t->rel)->tdtypeid)};
		Datum		values[1];

		values[0] = RowArray(t, rows + done, part);
		CheckChanged(t, "inserted", part,
					 RunRestoringInsert(RelationGetRelid(t->rel), sql, types, values));
		pfree(DatumGetPointer(values[0]));
	}
	t->inserted = n;
}

/* ---------------------------------------------------------------------
 * Deciding what changes
 * ---------------------------------------------------------------------
 */

/* Whether two values of a column differ (binary, after detoasting). */
static bool
ValuesDiffer(Form_pg_attribute att, Datum a, bool anull, Datum b, bool bnull)
{
	if (anull || bnull)
		return anull != bnull;
	if (att->attlen == -1)
	{
		struct varlena *x = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
		struct varlena *y = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));
		bool		differ = VARSIZE_ANY_EXHDR(x) != VARSIZE_ANY_EXHDR(y) ||
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) != 0;

		if ((Pointer) x != DatumGetPointer(a))
			pfree(x);
		if ((Pointer) y != DatumGetPointer(b))
			pfree(y);
		return differ;
	}
	return !datumIsEqual(a, b, att->attbyval, att->attlen);
}

/* Name the columns revert writes: every live one but aisec_rid and generated ones. */
static void
PrepareColumns(TableRevert *t)
{
	TupleDesc	desc = RelationGetDescr(t->rel);
	StringInfoData cols;
	StringInfoData rcols;

	initStringInfo(&cols);
	initStringInfo(&rcols);
	t->cols = palloc(sizeof(AttrNumber) * Max(desc->natts, 1));
	t->ncols = 0;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *q;

		if (att->attisdropped || att->attgenerated || att->attnum == t->ridatt)
			continue;
		q = quote_identifier(NameStr(att->attname));
		appendStringInfo(&cols, "%s%s", t->ncols > 0 ? ", " : "", q);
		appendStringInfo(&rcols, "%sr.%s", t->ncols > 0 ? ", " : "", q);
		t->cols[t->ncols++] = att->attnum;
	}
	t->collist = cols.data;
	t->rcollist = rcols.data;
}

/* Grow a palloc'd array of n elements of size sz to hold one more. */
static void *
Grow(void *arr, int64 n, int64 *size, Size sz)
{
	if (n < *size)
		return arr;
	*size = Max(*size * 2, 1024);
	if ((Size) *size > MaxAllocHugeSize / sz)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many rows to revert in one table")));
	return arr ? repalloc_huge(arr, sz * *size) : MemoryContextAllocHuge(CurrentMemoryContext, sz * *size);
}

/*
 * Write table t back to version (0: empty it): find the live rows (one
 * scan), read the version, compare, then delete, update and insert.
 */
static void
RevertTable(TableRevert *t, int64 version, Snapshot snap)
{
	TupleDesc	desc = RelationGetDescr(t->rel);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec revert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	liverow_hash *live = liverow_create(cxt, Max(RelationGetNumberOfBlocks(t->rel), 1) * 32, NULL);
	TupleTableSlot *slot = table_slot_create(t->rel, NULL);
	TableScanDesc scan;
	ItemPointerData *deltids = NULL;
	ItemPointerData *updtids = NULL;
	HeapTuple  *updrows = NULL;
	HeapTuple  *insrows = NULL;
	int64		ndel = 0,
				nupd = 0,
				nins = 0;
	int64		sdel = 0,
				supd = 0,
				sins = 0;
	liverow_iterator it;
	LiveRow    *lr;

	/* The live rows, by row id. */
	scan = table_beginscan(t->rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		int64		rid = history_slot_rid(t->rel, t->tt.table_no, t->ridatt, slot);
		bool		found;

		CHECK_FOR_INTERRUPTS();
		lr = liverow_insert(live, rid, &found);
		if (found)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("row id %lld is used by two rows of tracked table \"%s\"",
							(long long) rid, RelationGetRelationName(t->rel)),
					 errhint("Delete one of the two rows, then revert again.")));
		lr->tid = slot->tts_tid;
		lr->seen = false;
	}
	table_endscan(scan);

	/* The version's rows: back if gone, written back if changed. */
	if (version > 0)
	{
		CheckoutReader *r = version_checkout_begin(desc->tdtypeid, INT8OID,
												   Int64GetDatum(version), false, snap);
		HeapTuple	tup;
		Datum	   *values = palloc(sizeof(Datum) * desc->natts);
		bool	   *nulls = palloc(sizeof(bool) * desc->natts);

		while ((tup = version_checkout_next(r)) != NULL)
		{
			int64		rid;

			CHECK_FOR_INTERRUPTS();
			heap_deform_tuple(tup, desc, values, nulls);
			rid = history_check_rid(t->rel, t->tt.table_no,
									DatumGetInt64(values[t->ridatt - 1]), nulls[t->ridatt - 1]);
			lr = liverow_lookup(live, rid);
			if (lr == NULL)
			{
				insrows = Grow(insrows, nins, &sins, sizeof(HeapTuple));
				insrows[nins++] = heap_form_tuple(desc, values, nulls);
				continue;
			}
			lr->seen = true;
			if (!table_tuple_fetch_row_version(t->rel, &lr->tid, snap, slot))
				elog(ERROR, "aisec.revert: live row %lld of \"%s\" vanished",
					 (long long) rid, RelationGetRelationName(t->rel));
			slot_getallattrs(slot);
			for (int i = 0; i < t->ncols; i++)
			{
				int			a = t->cols[i] - 1;

				if (ValuesDiffer(TupleDescAttr(desc, a), values[a], nulls[a],
								 slot->tts_values[a], slot->tts_isnull[a]))
				{
					int64		size = supd;

					updtids = Grow(updtids, nupd, &supd, sizeof(ItemPointerData));
					updrows = Grow(updrows, nupd, &size, sizeof(HeapTuple));
					updtids[nupd] = lr->tid;
					updrows[nupd++] = heap_form_tuple(desc, values, nulls);
					break;
				}
			}
		}
		version_checkout_end(r);
	}
	ExecDropSingleTupleTableSlot(slot);

	/* Live rows the version does not have go. */
	liverow_start_iterate(live, &it);
	while ((lr = liverow_iterate(live, &it)) != NULL)
		if (!lr->seen)
		{
			deltids = Grow(deltids, ndel, &sdel, sizeof(ItemPointerData));
			deltids[ndel++] = lr->tid;
		}

	DeleteRows(t, deltids, ndel);
	UpdateRows(t, updtids, updrows, nupd);
	InsertRows(t, insrows, nins);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/* ---------------------------------------------------------------------
 * aisec.revert
 * ---------------------------------------------------------------------
 */

/*
 * Refuse a table of the dataset that has no record in version (it joined
 * the dataset later): revert does not guess whether to empty it.
 */
static void
RequireTableInVersion(const Dataset *ds, const TrackedTable *tt, int64 version, Snapshot snap)
{
	Oid			types[3] = {INT4OID, INT8OID, INT4OID};
	Datum		values[3] = {Int32GetDatum(ds->id), Int64GetDatum(version),
	Int32GetDatum(tt->table_no)};

	if (version > 0 &&
		aisec_spi_run("SELECT 1 FROM aisec.version_table "
					  "WHERE dataset_id = $1 AND version = $2 AND table_no = $3",
					  true, 3, types, values, NULL, snap) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot revert table \"%s\" to version " INT64_FORMAT " of dataset \"%s\"",
						get_rel_name(tt->relid), version, ds->name),
				 errdetail("The table was not part of the dataset at that version."),
				 errhint("Remove the table from the dataset, or revert it by hand.")));
}

/* Leave the note that the next commit of the dataset records the revert by. */
static void
NoteRevert(const Dataset *ds, int64 pending, int64 version)
{
	Oid			types[4] = {INT4OID, INT8OID, INT8OID, TEXTOID};
	Datum		values[4];

	values[0] = Int32GetDatum(ds->id);
	values[1] = Int64GetDatum(pending);
	values[2] = Int64GetDatum(version);
	values[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	(void) aisec_spi_run("DELETE FROM aisec.pending_note WHERE dataset_id = $1",
						 true, 1, types, values, NULL, NULL);
	(void) aisec_spi_run("INSERT INTO aisec.pending_note (dataset_id, version, reverted_to, "
						 "noted_at, noted_by) VALUES ($1, $2, $3, pg_catalog.now(), $4)",
						 true, 4, types, values, NULL, NULL);
}

/*
 * SQL: aisec.revert(dataset, to_version) writes every table of the dataset
 * back to that version; one row per table with the rows it inserted,
 * updated and deleted.
 */
PG_FUNCTION_INFO_V1(aisec_revert);
Datum
aisec_revert(PG_FUNCTION_ARGS)
{
	char	   *name;
	int64		version;
	Snapshot	snap;
	AisecSpi	spi;
	Dataset		ds;
	TrackedTable *tables;
	TableRevert *ts;
	int			ntables;
	int64		pending = 0;
	int64		changed = 0;
	Tuplestorestate *out;
	TupleDesc	desc;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.revert()");
	aisec_prevent_if_read_only("aisec.revert()");
	name = version_dataset_name(fcinfo, 0);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version to revert to must not be NULL")));
	version = PG_GETARG_INT64(1);
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("aisec.revert() must run in a READ COMMITTED transaction"),
				 errdetail("Under REPEATABLE READ or SERIALIZABLE its statements would not see rows other transactions committed while it waited for its locks."),
				 errhint("Run it in a transaction of its own, or SET TRANSACTION ISOLATION LEVEL READ COMMITTED first.")));
	out = aisec_begin_srf(fcinfo, &desc);

	/* Check the dataset, the version and the caller's right to read it. */
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	version_check(&ds, version, true);
	tables = version_dataset_tables(ds.id, &ntables, snap);
	for (int i = 0; i < ntables; i++)
	{
		version_require_select(tables[i].relid);
		RequireTableInVersion(&ds, &tables[i], version, snap);
	}
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);

	/*
	 * Keep writers out (in table_no order, as version_dataset_tables
	 * returns them), then hold the commit lock, so that every change below
	 * lands in one pending version; read the latest state from then on.
	 */
	for (int i = 0; i < ntables; i++)
		LockRelationOid(tables[i].relid, ExclusiveLock);
	aisec_lock_shared(AISEC_LOCK_VERSION_COMMIT);
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	version_check(&ds, version, true);
	UnregisterSnapshot(snap);

	ts = palloc0(sizeof(TableRevert) * Max(ntables, 1));
	for (int i = 0; i < ntables; i++)
	{
		TableRevert *t = &ts[i];

		if (!history_lookup(tables[i].relid, &t->tt) || t->tt.dataset_id != ds.id)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" left dataset \"%s\" while aisec.revert() waited for it",
							get_rel_name(tables[i].relid), ds.name)));
		pending = t->tt.pending;
		version_require_select(t->tt.relid);
		t->rel = table_open(t->tt.relid, NoLock);
		t->qname = aisec_qualified_name(t->tt.relid);
		t->ridatt = history_rid_attnum(t->rel);
		PrepareColumns(t);

		/* Each table's statements see the ones before (and their capture). */
		CommandCounterIncrement();
		snap = RegisterSnapshot(GetLatestSnapshot());
		RevertTable(t, version, snap);
		UnregisterSnapshot(snap);
		changed += t->inserted + t->updated + t->deleted;
	}
	if (changed > 0)
		NoteRevert(&ds, pending, version);
	aisec_spi_end(&spi);

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"to_version\": " INT64_FORMAT ", \"version\": " INT64_FORMAT
					 ", \"tables\": [", version, pending);
	for (int i = 0; i < ntables; i++)
	{
		TableRevert *t = &ts[i];
		Datum		values[4];
		bool		nulls[4] = {0};

		appendStringInfo(&detail, "%s{\"table\": %s, \"inserted\": " INT64_FORMAT
						 ", \"updated\": " INT64_FORMAT ", \"deleted\": " INT64_FORMAT "}",
						 i > 0 ? ", " : "", version_json_string(t->qname),
						 t->inserted, t->updated, t->deleted);
		values[0] = ObjectIdGetDatum(t->tt.relid);
		values[1] = Int64GetDatum(t->inserted);
		values[2] = Int64GetDatum(t->updated);
		values[3] = Int64GetDatum(t->deleted);
		tuplestore_putvalues(out, desc, values, nulls);
		table_close(t->rel, NoLock);
	}
	appendStringInfoString(&detail, "]}");
	aisec_audit_log("version.revert", ds.name, detail.data);
	return (Datum) 0;
}
