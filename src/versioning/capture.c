/*
 * capture.c
 *		Change capture: the statement triggers on a tracked table
 *		(aisec.capture()) that turn its transition tables into history and
 *		ended records, and the buffered writes behind them.
 *
 * The design is in doc/versioning.md ("Design note").  Invariants:
 *
 * - Capture writes history through heap_multi_insert and the index access
 *   methods directly, so no trigger fires on history tables and their
 *   statement triggers can refuse every direct write, for every role.
 *   Records are never updated: a record's end is an appended ended record,
 *   and a record of the still-open pending version that changes again is
 *   deleted.
 * - A capturing statement holds AISEC_LOCK_VERSION_COMMIT in share mode
 *   until its transaction ends and only then reads the pending version
 *   number, with the latest snapshot; aisec.commit() takes the lock
 *   exclusively.  A committed version can therefore never change.
 * - Each capturing statement appends its net change (rows and fingerprint)
 *   to aisec.pending_delta, so a commit costs O(change).
 * - Inserted rows are only noted here (notes.c); the next commit gives
 *   them their records (pending.c).  An UPDATE's old and new rows come in
 *   the same order in its transition tables, with the same row id.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_am.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "capture.h"
#include "notes.h"

/* Columns of aisec.pending_delta. */
enum
{
	PD_TABLE_NO = 0,
	PD_VERSION,
	PD_ROWS,
	PD_FINGERPRINT,
	PD_NCOLS
};

/* Random bytes handed out as row salts, refilled in blocks. */
static uint8 salt_pool[ROW_SALT_LEN * 256];
static int	salt_pos = sizeof(salt_pool);

/* Return the next unused ROW_SALT_LEN random bytes. */
static const uint8 *
NextSalt(void)
{
	if (salt_pos + ROW_SALT_LEN > (int) sizeof(salt_pool))
	{
		crypto_random_bytes(salt_pool, sizeof(salt_pool));
		salt_pos = 0;
	}
	salt_pos += ROW_SALT_LEN;
	return salt_pool + salt_pos - ROW_SALT_LEN;
}

/* ---------------------------------------------------------------------
 * Writing history
 * ---------------------------------------------------------------------
 */

/* Open the history of a tracked table for writing. */
void
capture_begin(Capture *c, Relation rel, const TrackedTable *tt)
{
	memset(c, 0, sizeof(*c));
	c->tt = *tt;
	c->rel = rel;
	c->desc = RelationGetDescr(rel);
	c->ridatt = history_rid_attnum(rel);
	c->hrel = table_open(tt->history, RowExclusiveLock);
	c->hind = CatalogOpenIndexes(c->hrel);
	for (int i = 0; i < c->hind->ri_NumIndices; i++)
		if (c->hind->ri_IndexRelationDescs[i]->rd_rel->relam == BTREE_AM_OID &&
			c->hind->ri_IndexRelationInfo[i]->ii_IndexAttrNumbers[0] == HC_RID + 1)
			c->ridx = c->hind->ri_IndexRelationDescs[i];
	if (c->ridx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("history table of tracked table \"%s\" has no index on column \"rid\"",
						RelationGetRelationName(rel))));
	c->erel = table_open(tt->ended, RowExclusiveLock);
	c->eind = CatalogOpenIndexes(c->erel);
	c->snap = RegisterSnapshot(GetLatestSnapshot());
	c->hslot = table_slot_create(c->hrel, NULL);
	c->enc = history_encoder(c->desc, history_hash_numbers(tt->table_no, c->desc));
	c->stmtcxt = CurrentMemoryContext;
	c->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec capture row",
									  ALLOCSET_DEFAULT_SIZES);
	c->batchcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec capture batch",
										ALLOCSET_DEFAULT_SIZES);
}

/*
 * Whether ii is an erasure subject index (doc/erasure.md): a btree with one
 * key, a field of the history's row data column, ((data).col); if so, set
 * *field to the field's number.
 */
static bool
SubjectIndex(Relation irel, IndexInfo *ii, AttrNumber *field)
{
	FieldSelect *fs;

	if (irel->rd_rel->relam != BTREE_AM_OID || ii->ii_NumIndexAttrs != 1 ||
		ii->ii_IndexAttrNumbers[0] != 0 || ii->ii_Predicate != NIL ||
		list_length(ii->ii_Expressions) != 1)
		return false;
	fs = (FieldSelect *) linitial(ii->ii_Expressions);
	if (!IsA(fs, FieldSelect) || !IsA(fs->arg, Var) ||
		((Var *) fs->arg)->varattno != HC_DATA + 1)
		return false;
	*field = fs->fieldnum;
	return true;
}

/*
 * Insert n buffered tuples into rel with one heap multi-insert, then their
 * index entries.  The entries point at each slot's tts_tid, which
 * heap_multi_insert sets even when it had to TOAST a tuple (then the
 * slot's own tuple is not the one stored).  aisec's history indexes are on
 * plain columns, which are never TOASTed, and erasure's subject indexes on
 * one field of the record's row (NULL once redacted), read here from the
 * slot's row value (not the stored tuple) without the executor.
 */
static void
MultiInsert(Relation rel, CatalogIndexState ind, TupleTableSlot **slots, int n)
{
	if (n == 0)
		return;
	heap_multi_insert(rel, slots, n, GetCurrentCommandId(true), 0, NULL);
	for (int i = 0; i < ind->ri_NumIndices; i++)
	{
		Relation	irel = ind->ri_IndexRelationDescs[i];
		IndexInfo  *ii = ind->ri_IndexRelationInfo[i];
		bool		brin = irel->rd_rel->relam == BRIN_AM_OID;
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];
		Datum		last = (Datum) 0;
		BlockNumber lastblock = InvalidBlockNumber;
		AttrNumber	field = 0;

		if (!SubjectIndex(irel, ii, &field) &&
			(ii->ii_Expressions != NIL || ii->ii_Predicate != NIL ||
			 (brin && ii->ii_NumIndexAttrs != 1)))
			elog(ERROR, "aisec history index \"%s\" is not as aisec made it",
				 RelationGetRelationName(irel));
		for (int t = 0; t < n; t++)
		{
			if (field > 0)
			{
				Datum		row = slot_getattr(slots[t], HC_DATA + 1, &isnull[0]);

				if (!isnull[0])
					values[0] = GetAttributeByNum(DatumGetHeapTupleHeader(row), field,
												  &isnull[0]);
			}
			else
				for (int k = 0; k < ii->ii_NumIndexAttrs; k++)
					values[k] = slot_getattr(slots[t], ii->ii_IndexAttrNumbers[k], &isnull[k]);

			/*
			 * A BRIN summary covers every row of its block range once it
			 * has taken one row's value; the rows of one batch mostly share
			 * their version (a bigint, passed by value), so one entry per
			 * block and value is enough.
			 */
			if (brin && !isnull[0] && values[0] == last &&
				ItemPointerGetBlockNumber(&slots[t]->tts_tid) == lastblock)
				continue;
			(void) index_insert(irel, values, isnull, &slots[t]->tts_tid, rel,
								UNIQUE_CHECK_NO, false, ii);
			if (brin)
			{
				last = isnull[0] ? (Datum) 0 : values[0];
				lastblock = isnull[0] ? InvalidBlockNumber :
					ItemPointerGetBlockNumber(&slots[t]->tts_tid);
			}
		}
	}
}

/* Write the buffered history and ended records. */
static void
CaptureFlush(Capture *c)
{
	MultiInsert(c->hrel, c->hind, c->hbuf, c->nh);
	MultiInsert(c->erel, c->eind, c->ebuf, c->ne);
	for (int i = 0; i < c->nh; i++)
		ExecClearTuple(c->hbuf[i]);
	for (int i = 0; i < c->ne; i++)
		ExecClearTuple(c->ebuf[i]);
	c->nh = c->ne = 0;
	MemoryContextReset(c->batchcxt);
}

/* Buffer one tuple for rel's multi-insert; flush when a buffer is full. */
static void
CaptureBuffer(Capture *c, TupleTableSlot **buf, int *n, Relation rel,
			  Datum *values, bool *nulls)
{
	MemoryContext old;

	/* Slots live as long as the statement; their tuples, until a flush. */
	if (buf[*n] == NULL)
	{
		/*
		 * An unpinned copy of the descriptor: a thousand slots pinning the
		 * relation's own would make every pin in the resource owner slow.
		 */
		old = MemoryContextSwitchTo(c->stmtcxt);
		if (buf == c->hbuf && c->hdesc == NULL)
			c->hdesc = CreateTupleDescCopy(RelationGetDescr(rel));
		if (buf == c->ebuf && c->edesc == NULL)
			c->edesc = CreateTupleDescCopy(RelationGetDescr(rel));
		buf[*n] = MakeSingleTupleTableSlot(buf == c->hbuf ? c->hdesc : c->edesc,
										   &TTSOpsHeapTuple);
		MemoryContextSwitchTo(old);
	}
	old = MemoryContextSwitchTo(c->batchcxt);
	ExecStoreHeapTuple(heap_form_tuple(RelationGetDescr(rel), values, nulls),
					   buf[*n], false);
	buf[*n]->tts_tableOid = RelationGetRelid(rel);
	(*n)++;
	MemoryContextSwitchTo(old);
	if (*n == CAPTURE_BATCH ||
		MemoryContextMemAllocated(c->batchcxt, false) > CAPTURE_BATCH_BYTES)
		CaptureFlush(c);
}

/* Record the statement's net change and close the history. */
void
capture_end(Capture *c)
{
	CaptureFlush(c);
	for (int i = 0; i < CAPTURE_BATCH; i++)
	{
		if (c->hbuf[i])
			ExecDropSingleTupleTableSlot(c->hbuf[i]);
		if (c->ebuf[i])
			ExecDropSingleTupleTableSlot(c->ebuf[i]);
	}
	if (c->scan)
		index_endscan(c->scan);
	ExecDropSingleTupleTableSlot(c->hslot);
	UnregisterSnapshot(c->snap);
	history_encoder_done(c->enc);
	MemoryContextDelete(c->rowcxt);
	MemoryContextDelete(c->batchcxt);
	CatalogCloseIndexes(c->hind);
	CatalogCloseIndexes(c->eind);
	table_close(c->hrel, NoLock);
	table_close(c->erel, NoLock);

	if (c->changed || c->rows != 0 ||
		memcmp(c->delta.b, (uint8[SHA256_LEN]) {0}, SHA256_LEN) != 0)
	{
		Relation	drel = table_open(aisec_relid("pending_delta"), RowExclusiveLock);
		Datum		values[PD_NCOLS];
		bool		nulls[PD_NCOLS] = {0};
		bytea	   *fp = palloc(VARHDRSZ + SHA256_LEN);
		HeapTuple	tup;

		SET_VARSIZE(fp, VARHDRSZ + SHA256_LEN);
		memcpy(VARDATA(fp), c->delta.b, SHA256_LEN);
		values[PD_TABLE_NO] = Int32GetDatum(c->tt.table_no);
		values[PD_VERSION] = Int64GetDatum(c->tt.pending);
		values[PD_ROWS] = Int64GetDatum(c->rows);
		values[PD_FINGERPRINT] = PointerGetDatum(fp);
		tup = heap_form_tuple(RelationGetDescr(drel), values, nulls);
		CatalogTupleInsert(drel, tup);
		heap_freetuple(tup);
		table_close(drel, NoLock);
	}
}

/* Read a captured row's aisec_rid, checking it. */
int64
capture_row_rid(Capture *c, TupleTableSlot *slot)
{
	return history_slot_rid(c->rel, c->tt.table_no, c->ridatt, slot);
}

/* Add an open history record for a new row (slot holds a row of rel). */
void
capture_insert(Capture *c, TupleTableSlot *slot)
{
	MemoryContext old = MemoryContextSwitchTo(c->rowcxt);
	Datum		values[HC_NCOLS];
	bool		nulls[HC_NCOLS] = {0};
	const uint8 *salt = NextSalt();
	uint8		hash[SHA256_LEN];
	HeapTuple	row;

	values[HC_RID] = Int64GetDatum(capture_row_rid(c, slot));
	slot_getallattrs(slot);
	history_row_hash(c->enc, slot->tts_values, slot->tts_isnull, salt, hash);
	row = heap_form_tuple(c->desc, slot->tts_values, slot->tts_isnull);

	values[HC_VALID_FROM] = Int64GetDatum(c->tt.pending);
	values[HC_SALT] = history_bytea(salt, ROW_SALT_LEN);
	values[HC_HASH] = history_bytea(hash, SHA256_LEN);
	values[HC_DATA] = heap_copy_tuple_as_datum(row, c->desc);
	CaptureBuffer(c, c->hbuf, &c->nh, c->hrel, values, nulls);

	fingerprint_add(&c->delta, hash);
	c->rows++;
	MemoryContextSwitchTo(old);
	MemoryContextReset(c->rowcxt);
}

/* Record that rid's record (rid, from) ended in the pending version. */
void
capture_end_record(Capture *c, int64 rid, int64 from)
{
	Datum		values[EC_NCOLS];
	bool		nulls[EC_NCOLS] = {0};

	values[EC_RID] = Int64GetDatum(rid);
	values[EC_VALID_FROM] = Int64GetDatum(from);
	values[EC_VALID_TO] = Int64GetDatum(c->tt.pending);
	CaptureBuffer(c, c->ebuf, &c->ne, c->erel, values, nulls);
}

/*
 * End the open history record of a row that is going away: the row's
 * latest record (highest valid_from) is its open one.  Record that it ended
 * in the pending version, or delete it if it appeared in the pending
 * version itself (it was never part of a committed version).  History
 * records themselves are never updated, so this is an index lookup and an
 * append to the narrow ended-records table.  Return false if the row has
 * no record: it was inserted since the last commit, which will give it one.
 */
static bool
CaptureRemove(Capture *c, int64 rid)
{
	int64		from = 0;
	ItemPointerData tid;

	/*
	 * A row aisec.revert() is bringing back has no open record until its
	 * INSERT ends: its latest record is an ended one, which must not be
	 * ended again (a trigger of that INSERT would get here).
	 */
	if (notes_restoring(RelationGetRelid(c->rel)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot update or delete rows of tracked table \"%s\" while aisec.revert() restores rows to it",
						RelationGetRelationName(c->rel)),
				 errhint("A trigger on the table changed rows during aisec.revert(); disable it for the revert.")));
	if (c->passed)
	{
		/* Found by open_records_find, its hash already taken off. */
		from = open_records_found(c, rid, &tid);
		if (from == 0)
			return false;
	}
	else
	{
		uint8		hash[SHA256_LEN];

		if (!open_records_latest(c, rid, PG_INT64_MAX, &from, &tid, hash))
			return false;
		fingerprint_sub(&c->delta, hash);
	}
	if (from >= c->tt.pending)
		CatalogTupleDelete(c->hrel, &tid);
	else
		capture_end_record(c, rid, from);
	c->rows--;
	return true;
}

/* ---------------------------------------------------------------------
 * Transition tables and the capture trigger
 * ---------------------------------------------------------------------
 */

/* Position a private read pointer at the start of a transition table. */
static int
OpenTransition(Tuplestorestate *ts)
{
	int			ptr = tuplestore_alloc_read_pointer(ts, EXEC_FLAG_REWIND);

	tuplestore_select_read_pointer(ts, ptr);
	tuplestore_rescan(ts);
	return ptr;
}

/* Read the next row of a transition table into slot. */
bool
capture_next_transition(Tuplestorestate *ts, int ptr, TupleTableSlot *slot)
{
	tuplestore_select_read_pointer(ts, ptr);
	return tuplestore_gettupleslot(ts, true, false, slot);
}

/* Whether index indexname on aisec table relname has a row with these keys. */
static bool
AisecRowExists(const char *relname, const char *indexname, Snapshot snap,
			   ScanKey keys, int nkeys)
{
	Relation	rel = table_open(aisec_relid(relname), AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, aisec_relid(indexname), true,
										  snap, nkeys, keys);
	bool		found = HeapTupleIsValid(systable_getnext(scan));

	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Whether an UPDATE of n rows may leave ending its rows' open records to
 * the next commit.  Ending a record needs its valid_from and hash, which
 * a large statement finds with a pass over the whole history; the commit
 * can make that pass once for all such statements instead.  Deferring is
 * right only if every row the statement updated has an open record from a
 * committed version and none in the pending version: then its new record
 * is the only one of the pending version, and the record to end is its
 * latest committed one, whatever later statements do to the row.  That
 * holds when no statement has changed this table since the last commit
 * (no pending_delta row for the pending version, which every statement
 * that writes a history record adds) and no row inserted since then waits
 * for its record (no pending_row entry, no unwritten note).  Rows changed
 * by transactions still in progress are not visible to this statement, so
 * it did not update them.  Kept for statements big enough to make a pass
 * (open_records_by_scan), so that a commit after small changes stays small;
 * and not under SERIALIZABLE, where no pass is made.
 */
static bool
DeferEnding(Capture *c, int64 n)
{
	ScanKeyData keys[2];

	if (IsolationIsSerializable() ||
		n < (int64) RelationGetNumberOfBlocks(c->hrel))
		return false;
	if (notes_unwritten(RelationGetRelid(c->rel)))
		return false;
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ,
				Int32GetDatum(c->tt.table_no));
	if (AisecRowExists("pending_row", "pending_row_table", c->snap, keys, 1))
		return false;
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_INT8EQ,
				Int64GetDatum(c->tt.pending));
	if (AisecRowExists("pending_delta", "pending_delta_version", c->snap, keys, 2))
		return false;
	return true;
}

/* Trigger: record a statement's inserted, updated and deleted rows. */
PG_FUNCTION_INFO_V1(aisec_capture);
Datum
aisec_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TrackedTable tt;
	Capture		c;
	TupleTableSlot *oldslot = NULL;
	TupleTableSlot *newslot = NULL;
	int			oldptr = 0;
	int			newptr = 0;
	NoteBuffer *notes;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager",
						"aisec.capture")));
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot truncate tracked table \"%s\"",
						RelationGetRelationName(td->tg_relation)),
				 errdetail("TRUNCATE leaves no record of the removed rows in the table's history."),
				 errhint("Use DELETE, which aisec records, or aisec.untrack() the table first.")));
	if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired FOR EACH STATEMENT",
						"aisec.capture")));
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && TRIGGER_FIRED_BEFORE(td->tg_event))
	{
		notes_insert_starts(td->tg_relation);
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired AFTER UPDATE or DELETE, or BEFORE or AFTER INSERT",
						"aisec.capture")));

	/*
	 * INSERT: note the rows in the blocks the statement added, write the
	 * notes; the next commit does the rest.  (A trigger created by an
	 * earlier aisec, with a transition table, still records inserted rows
	 * at once, below.)
	 */
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		notes_new_blocks(td->tg_relation, td->tg_newtable == NULL);
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event) && td->tg_newtable == NULL)
	{
		notes_flush(RelationGetRelid(td->tg_relation), GetCurrentSubTransactionId());
		return PointerGetDatum(NULL);
	}

	/* Hold the commit lock until the transaction ends; then read pending. */
	aisec_lock_shared(AISEC_LOCK_VERSION_COMMIT);
	history_require_tracked(td->tg_relation, &tt);

	capture_begin(&c, td->tg_relation, &tt);
	notes = notes_buffer_for(td->tg_relation);
	if (td->tg_oldtable)
	{
		oldptr = OpenTransition(td->tg_oldtable);
		oldslot = MakeSingleTupleTableSlot(c.desc, &TTSOpsMinimalTuple);
	}
	if (td->tg_newtable)
	{
		newptr = OpenTransition(td->tg_newtable);
		newslot = MakeSingleTupleTableSlot(c.desc, &TTSOpsMinimalTuple);
	}

	if (oldslot)
	{
		/*
		 * UPDATE and DELETE, in parts of at most open_records_max() rows.  The
		 * old rows are read once: by open_records_look_up, which keeps their ids, or
		 * here (and once before, by open_records_refuse_repeated, for an UPDATE of
		 * more than one part).  A large UPDATE may leave ending the old
		 * records to the next commit (DeferEnding).
		 */
		int64		left = tuplestore_tuple_count(td->tg_oldtable);
		bool		defer = newslot && DeferEnding(&c, left);

		if (newslot && left > open_records_max())
			open_records_refuse_repeated(&c, td->tg_oldtable, oldptr, oldslot, left);
		while (left > 0)
		{
			int64		part = Min(left, open_records_max());
			bool		pass = !defer && open_records_by_scan(&c, part);

			/* An UPDATE's ids are always taken first (open_records_look_up on repeats). */
			if (newslot || pass)
				open_records_look_up(&c, td->tg_oldtable, oldptr, oldslot, NULL, part);
			if (pass)
				open_records_find(&c, PG_INT64_MAX);
			for (int64 i = 0; i < part; i++)
			{
				int64		rid;

				if (c.rids)
					rid = c.rids[i];
				else
				{
					if (!capture_next_transition(td->tg_oldtable, oldptr, oldslot))
						elog(ERROR, "aisec.capture: transition table ended early");
					rid = capture_row_rid(&c, oldslot);
				}
				if (newslot)
				{
					/* UPDATE: old and new rows come in the same order. */
					if (!capture_next_transition(td->tg_newtable, newptr, newslot))
						elog(ERROR, "aisec.capture: transition tables differ in length");
					if (capture_row_rid(&c, newslot) != rid)
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("cannot change column \"%s\" of tracked table \"%s\"",
										RID_COLUMN, RelationGetRelationName(c.rel)),
								 errdetail("A row id is stable for the life of the row.")));
					if (c.skip && c.skip[i])
						continue;	/* the row changes again later */
					if (defer)
					{
						capture_insert(&c, newslot);
						notes_add(notes, rid, NULL, PENDING_ENDS);
					}
					else if (CaptureRemove(&c, rid))
						capture_insert(&c, newslot);
					else
						notes_add(notes, rid, NULL, PENDING_MOVED);
				}
				else if (!CaptureRemove(&c, rid))
					notes_add(notes, rid, NULL, PENDING_GONE);
			}
			open_records_forget(&c);
			left -= part;
		}
		if (newslot && capture_next_transition(td->tg_newtable, newptr, newslot))
			elog(ERROR, "aisec.capture: transition tables differ in length");
	}
	else if (newslot)
	{
		while (capture_next_transition(td->tg_newtable, newptr, newslot))
			capture_insert(&c, newslot);
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired with a transition table (REFERENCING OLD TABLE or NEW TABLE)",
						"aisec.capture")));

	if (oldslot)
		ExecDropSingleTupleTableSlot(oldslot);
	if (newslot)
		ExecDropSingleTupleTableSlot(newslot);
	capture_end(&c);
	notes_flush(RelationGetRelid(td->tg_relation), GetCurrentSubTransactionId());
	return PointerGetDatum(NULL);
}

/* Give every existing row an open history record in the pending version. */
int64
history_capture_existing(Relation rel, const TrackedTable *tt)
{
	Capture		c;
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;
	int64		n = 0;

	CommandCounterIncrement();
	capture_begin(&c, rel, tt);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		CHECK_FOR_INTERRUPTS();
		capture_insert(&c, slot);
		n++;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	capture_end(&c);
	return n;
}

/* Refuse bringing back a row whose id names a row that is still live. */
static void
RefuseLiveRid(Relation rel, int64 rid)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("row id %lld of tracked table \"%s\" already names a live row in its history",
					(long long) rid, RelationGetRelationName(rel)),
			 errdetail("Only a row whose every history record has ended can be brought back with its row id."),
			 errhint("Run aisec.verify() on the table's dataset.")));
}

/*
 * Give rows that aisec.revert() brought back with their old row ids (the
 * n rows rids[i] at tids[i], sorted by id; inserted by the current
 * statement) their history records in the pending version now, instead of
 * at the next commit: each id's latest record must have ended (or be
 * ended by the next commit, for a row a large UPDATE changed and a DELETE
 * then removed), and the new record becomes the row's open one, so later
 * updates and deletes find it as for any row.  A row thus has records
 * (rid, v1), ..., (rid, vk) ended, then (rid, pending): still at most
 * one per version.
 */
void
history_capture_restored(Relation rel, const int64 *rids, const ItemPointerData *tids, int n)
{
	TrackedTable tt;
	Capture		c;
	EndedMap   *ended = NULL;
	int64	   *ends = NULL;
	int			nends = 0;
	TupleTableSlot *slot;

	history_require_tracked(rel, &tt);
	capture_begin(&c, rel, &tt);
	slot = table_slot_create(rel, NULL);
	for (int i = 0; i < n; i++)
	{
		int64		rid = rids[i];
		int64		from = 0;
		ItemPointerData htid;
		ItemPointerData tid = tids[i];
		uint8		hash[SHA256_LEN];

		CHECK_FOR_INTERRUPTS();
		if (i > 0 && rid == rids[i - 1])
		{
			if (ItemPointerEquals(&tid, (ItemPointer) &tids[i - 1]))
				continue;		/* noted twice, by a nested INSERT too */
			RefuseLiveRid(rel, rid);
		}
		if (open_records_latest(&c, rid, PG_INT64_MAX, &from, &htid, hash))
		{
			if (ended == NULL)
				ended = history_ended_map(&tt, 0, c.snap);
			if (history_ended_at(ended, rid, from) == 0)
			{
				if (from >= tt.pending)
					RefuseLiveRid(rel, rid);
				if (ends == NULL)
					ends = notes_pending_rids(tt.table_no, PENDING_ENDS, &nends);
				if (bsearch(&rid, ends, nends, sizeof(int64), history_compare_rids) == NULL)
					RefuseLiveRid(rel, rid);
			}
		}
		if (!table_tuple_fetch_row_version(rel, &tid, SnapshotSelf, slot) ||
			capture_row_rid(&c, slot) != rid)
			elog(ERROR, "aisec: restored row %lld of \"%s\" is not where it was noted",
				 (long long) rid, RelationGetRelationName(rel));
		capture_insert(&c, slot);
	}
	ExecDropSingleTupleTableSlot(slot);
	if (ended)
		history_ended_map_free(ended);
	capture_end(&c);
}
