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
 *   partial.  What to change is decided in C: only rows with history
 *   records begun or ended after the version, or noted for the next
 *   commit, can differ from it (FindCandidates); one scan of the live
 *   table finds them, and a rid index probe each reads them at the
 *   version.  The statements address live rows by ctid, so they scan no
 *   more than the rows they change.
 * - All of a table's ctids are taken under the EXCLUSIVE lock and used
 *   before it ends; a statement that changed other rows than it was
 *   given (a trigger moved one) is caught by the count check below.
 * - The tables are locked in EXCLUSIVE mode, in table_no order, before
 *   anything is read, and the commit lock is then held in share mode: no
 *   other writer changes them until the caller's transaction ends, and
 *   every change lands in one pending version.  A concurrent writer's
 *   change is therefore either reverted (it committed first) or kept (it
 *   waited).  Under REPEATABLE READ or SERIALIZABLE the statements would
 *   not see what a writer committed meanwhile, so revert refuses them.
 * - Rows deleted since the version come back with their row ids: their
 *   INSERT runs between notes_restore_begin/_end, which lets in those
 *   ids (and no others) if their history records have all ended, and
 *   records those rows at once (history_capture_restored).  Unchanged rows are not touched.
 * - Each statement must change exactly the rows it was given; anything
 *   else (a trigger that skipped or moved a row) is an error, so a revert
 *   is whole or not at all.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "notes.h"
#include "version.h"

/* Rows per DELETE, UPDATE or INSERT statement. */
#define REVERT_BATCH		10000

/* A row id revert looks at: where its live row is, whether the version has it. */
typedef struct LiveRow
{
	int64		rid;
	ItemPointerData tid;
	bool		present;		/* the live table has it (at tid) */
	bool		seen;			/* the version has it */
	char		status;			/* simplehash's */
} LiveRow;

#define SH_PREFIX		liverow
#define SH_ELEMENT_TYPE LiveRow
#define SH_KEY_TYPE		int64
#define SH_KEY			rid
#define SH_HASH_KEY(tb, key) HISTORY_RID_HASH(key)
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

/* Order row ids. */
static int
CompareRids(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Run the INSERT that brings rows back, letting their old row ids in. */
static int64
RunRestoringInsert(Oid relid, const int64 *rids, int nrids, const char *sql, Oid *types,
				   Datum *values)
{
	volatile int64 n = 0;

	notes_restore_begin(relid, rids, nrids);
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
		int64	   *rids = palloc(sizeof(int64) * part);

		for (int i = 0; i < part; i++)
		{
			bool		isnull;

			rids[i] = DatumGetInt64(heap_getattr(rows[done + i], t->ridatt,
												 RelationGetDescr(t->rel), &isnull));
		}
		qsort(rids, part, sizeof(int64), CompareRids);
		values[0] = RowArray(t, rows + done, part);
		CheckChanged(t, "inserted", part,
					 RunRestoringInsert(RelationGetRelid(t->rel), rids, part, sql, types, values));
		pfree(DatumGetPointer(values[0]));
		pfree(rids);
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
 * Put into live the row ids that may differ between the live table and
 * version: those with a history record that began after it, or an ended
 * record that ended after it (found through the BRIN indexes on
 * valid_from and valid_to, as diff finds them), and those noted for the
 * next commit (rows inserted since the last one, or whose ending it
 * owes).  Any other row has had the same open record since version, and
 * the live row is that record's row.
 */
static void
FindCandidates(TableRevert *t, int64 version, Snapshot snap, liverow_hash *live)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(version)};
	const char *queries[2];
	int64	   *noted;
	int			nnoted;
	bool		found;

	queries[0] = psprintf("SELECT rid FROM %s WHERE valid_from > $1",
						  aisec_qualified_name(t->tt.history));
	queries[1] = psprintf("SELECT rid FROM %s WHERE valid_to > $1",
						  aisec_qualified_name(t->tt.ended));
	for (int q = 0; q < 2; q++)
	{
		int			n = aisec_spi_run(queries[q], true, 1, types, values, NULL, snap);

		for (int i = 0; i < n; i++)
		{
			bool		isnull;
			LiveRow    *lr = liverow_insert(live, DatumGetInt64(aisec_spi_value(i, 0, &isnull)),
											&found);

			if (!found)
				lr->present = lr->seen = false;
		}
	}
	noted = notes_pending_rids(t->tt.table_no, 0, &nnoted);
	for (int i = 0; i < nnoted; i++)
	{
		LiveRow    *lr = liverow_insert(live, noted[i], &found);

		if (!found)
			lr->present = lr->seen = false;
	}
	pfree(noted);
}

/*
 * The row of record id rid at version, as values/nulls of the table's
 * columns: its record that began by then and had not ended (checkout's
 * rule; ended holds the records that ended by version).  False if the
 * row was not in the version (or its record is redacted).
 */
static bool
RowAtVersion(TableRevert *t, IndexScanDesc scan, TupleTableSlot *hslot, EndedMap *ended,
			 int64 rid, int64 version, MemoryContext rowcxt, Datum *values, bool *nulls)
{
	ScanKeyData key;
	MemoryContext old;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rid));
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, hslot))
	{
		bool		isnull;
		int64		from = DatumGetInt64(slot_getattr(hslot, HC_VALID_FROM + 1, &isnull));
		Datum		data;
		HeapTupleData row;

		if (from > version || history_ended_at(ended, rid, from) != 0)
			continue;
		data = slot_getattr(hslot, HC_DATA + 1, &isnull);
		if (isnull)
			return false;		/* redacted: checkout leaves it out too */
		/* The row (detoasted) lives in rowcxt; the scan's own memory must not. */
		old = MemoryContextSwitchTo(rowcxt);
		row.t_data = DatumGetHeapTupleHeader(data);
		row.t_len = HeapTupleHeaderGetDatumLength(row.t_data);
		ItemPointerSetInvalid(&row.t_self);
		row.t_tableOid = InvalidOid;
		heap_deform_tuple(&row, RelationGetDescr(t->rel), values, nulls);
		MemoryContextSwitchTo(old);
		return true;
	}
	return false;
}

/* The lists of what to delete, update and insert. */
typedef struct Changes
{
	ItemPointerData *deltids;
	ItemPointerData *updtids;
	HeapTuple  *updrows;
	HeapTuple  *insrows;
	int64		ndel,
				nupd,
				nins;
	int64		sdel,
				supd,
				supdrows,
				sins;
} Changes;

/*
 * Decide what one row of the version (values, nulls) needs: an INSERT if
 * it has no live row (lr NULL or not present), an UPDATE if the live row
 * differs in a written column, nothing otherwise.
 */
static void
CompareRow(TableRevert *t, LiveRow *lr, Datum *values, bool *nulls, Snapshot snap,
		   TupleTableSlot *slot, Changes *ch)
{
	TupleDesc	desc = RelationGetDescr(t->rel);

	if (lr == NULL || !lr->present)
	{
		ch->insrows = Grow(ch->insrows, ch->nins, &ch->sins, sizeof(HeapTuple));
		ch->insrows[ch->nins++] = heap_form_tuple(desc, values, nulls);
		return;
	}
	lr->seen = true;
	if (!table_tuple_fetch_row_version(t->rel, &lr->tid, snap, slot))
		elog(ERROR, "aisec.revert: live row %lld of \"%s\" vanished",
			 (long long) lr->rid, RelationGetRelationName(t->rel));
	slot_getallattrs(slot);
	for (int i = 0; i < t->ncols; i++)
	{
		int			a = t->cols[i] - 1;

		if (ValuesDiffer(TupleDescAttr(desc, a), values[a], nulls[a],
						 slot->tts_values[a], slot->tts_isnull[a]))
		{
			ch->updtids = Grow(ch->updtids, ch->nupd, &ch->supd, sizeof(ItemPointerData));
			ch->updrows = Grow(ch->updrows, ch->nupd, &ch->supdrows, sizeof(HeapTuple));
			ch->updtids[ch->nupd] = lr->tid;
			ch->updrows[ch->nupd++] = heap_form_tuple(desc, values, nulls);
			return;
		}
	}
}

/*
 * Write table t back to version (0: empty it).  Only the rows that may
 * have changed since (FindCandidates) are looked at: the live table is
 * scanned once for them, and each one's row at the version is a rid
 * index probe.  For version 0 every live row goes.  Then delete, update
 * and insert.
 */
static void
RevertTable(TableRevert *t, int64 version, Snapshot snap)
{
	TupleDesc	desc = RelationGetDescr(t->rel);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec revert",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	bool		all = version == 0;
	liverow_hash *live = liverow_create(cxt, all ? Max(RelationGetNumberOfBlocks(t->rel), 1) * 32
										: 1024, NULL);
	TupleTableSlot *slot = table_slot_create(t->rel, NULL);
	Datum	   *values = palloc(sizeof(Datum) * desc->natts);
	bool	   *nulls = palloc(sizeof(bool) * desc->natts);
	TableScanDesc scan;
	Changes		ch;
	liverow_iterator it;
	LiveRow    *lr;

	memset(&ch, 0, sizeof(ch));

	/*
	 * Notes not written yet would name rows FindCandidates cannot see; a
	 * statement writing the table would have to be under way, which
	 * aisec_revert refused (pending trigger events).
	 */
	if (notes_unwritten(RelationGetRelid(t->rel)))
		elog(ERROR, "aisec.revert: table \"%s\" has notes not written yet",
			 RelationGetRelationName(t->rel));
	if (!all)
		FindCandidates(t, version, snap, live);

	/* The live rows (all, or the candidates), by row id. */
	scan = table_beginscan(t->rel, snap, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		int64		rid = history_slot_rid(t->rel, t->tt.table_no, t->ridatt, slot);
		bool		found;

		CHECK_FOR_INTERRUPTS();
		if (all)
		{
			lr = liverow_insert(live, rid, &found);
			if (!found)
				lr->present = false;
		}
		else if ((lr = liverow_lookup(live, rid)) == NULL)
			continue;
		if (lr->present)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("row id %lld is used by two rows of tracked table \"%s\"",
							(long long) rid, RelationGetRelationName(t->rel)),
					 errhint("Delete one of the two rows, then revert again.")));
		lr->tid = slot->tts_tid;
		lr->present = true;
		lr->seen = false;
	}
	table_endscan(scan);

	if (!all)
	{
		/* Each candidate's row at the version, as checkout would read it. */
		EndedMap   *ended = history_ended_map(&t->tt, version, snap);
		Relation	hrel = table_open(t->tt.history, AccessShareLock);
		Relation	ridx = history_open_rid_index(hrel);
		IndexScanDesc iscan = index_beginscan(hrel, ridx, snap, 1, 0);
		TupleTableSlot *hslot = table_slot_create(hrel, NULL);
		MemoryContext rowcxt = AllocSetContextCreate(cxt, "aisec revert row",
													 ALLOCSET_DEFAULT_SIZES);

		liverow_start_iterate(live, &it);
		while ((lr = liverow_iterate(live, &it)) != NULL)
		{
			bool		in;

			CHECK_FOR_INTERRUPTS();
			/*
			 * Not in rowcxt: the index scan keeps memory across calls (btree
			 * allocates its killed-items array on first use).
			 */
			in = RowAtVersion(t, iscan, hslot, ended, lr->rid, version, rowcxt, values, nulls);
			if (in)
				CompareRow(t, lr, values, nulls, snap, slot, &ch);
			MemoryContextReset(rowcxt);
		}
		ExecDropSingleTupleTableSlot(hslot);
		index_endscan(iscan);
		index_close(ridx, AccessShareLock);
		table_close(hrel, AccessShareLock);
		history_ended_map_free(ended);
	}
	ExecDropSingleTupleTableSlot(slot);

	/* Live rows the version does not have go. */
	liverow_start_iterate(live, &it);
	while ((lr = liverow_iterate(live, &it)) != NULL)
		if (lr->present && !lr->seen)
		{
			ch.deltids = Grow(ch.deltids, ch.ndel, &ch.sdel, sizeof(ItemPointerData));
			ch.deltids[ch.ndel++] = lr->tid;
		}

	DeleteRows(t, ch.deltids, ch.ndel);
	UpdateRows(t, ch.updtids, ch.updrows, ch.nupd);
	InsertRows(t, ch.insrows, ch.nins);
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

/*
 * Refuse a caller without INSERT, UPDATE and DELETE on the table, before
 * any lock is taken: the statements would check them only when there is
 * something to write, and the EXCLUSIVE lock alone needs one of them (as
 * LOCK TABLE does).
 */
static void
RequireWrite(Oid relid)
{
	static const AclMode modes[3] = {ACL_INSERT, ACL_UPDATE, ACL_DELETE};
	static const char *const names[3] = {"INSERT", "UPDATE", "DELETE"};

	for (int i = 0; i < 3; i++)
		if (pg_class_aclcheck(relid, GetUserId(), modes[i]) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(relid)),
					 errdetail("aisec.revert() writes the table as the caller and needs SELECT, INSERT, UPDATE and DELETE on it; role \"%s\" lacks %s.",
							   GetUserNameFromId(GetUserId(), false), names[i])));
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
		RequireWrite(tables[i].relid);
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

		/*
		 * A statement writing the table is still under way (revert called
		 * from its trigger or function), or deferred trigger events wait:
		 * its rows are not all in history or notes yet (PostgreSQL's own
		 * rule for TRUNCATE).
		 */
		if (AfterTriggerPendingOnRel(t->tt.relid))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_IN_USE),
					 errmsg("cannot revert table \"%s\" because it has pending trigger events",
							get_rel_name(t->tt.relid)),
					 errhint("Run aisec.revert() in a transaction of its own, not from a trigger or a statement that writes the table.")));
		t->rel = table_open(t->tt.relid, NoLock);
		t->qname = aisec_qualified_name(t->tt.relid);
		t->ridatt = history_rid_attnum(t->rel);
		PrepareColumns(t);
	}
	for (int i = 0; i < ntables; i++)
	{
		TableRevert *t = &ts[i];

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
