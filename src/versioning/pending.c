/*
 * pending.c
 *		Commit-time capture: the rows of a tracked table written since the
 *		last commit, as noted in aisec.pending_row (notes.c), get their
 *		history records in the pending version; the committed records that
 *		a large UPDATE left open (DeferEnding, capture.c) are ended.
 *
 * Called by aisec.commit() with AISEC_LOCK_VERSION_COMMIT held exclusively,
 * so no writer adds notes meanwhile.  A noted ctid can go stale (the row
 * was updated again, or the table rewritten): the commit follows update
 * chains, and scans the table for any row it still cannot find.  A row id
 * is found at most once among the table's current rows; a second row with
 * the same explicit id is refused.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "capture.h"
#include "notes.h"

/* Order notes by row id, then in the order they were written. */
static int
CompareNotes(const void *a, const void *b)
{
	const PendingNote *x = a;
	const PendingNote *y = b;

	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Where commit looks for the rows noted in aisec.pending_row. */
typedef struct PendingScan
{
	Capture    *c;
	Relation	rel;
	BlockNumber nblocks;
	IndexFetchTableData *fetch;
	TableScanDesc tidscan;
	TupleTableSlot *slot;
	int64		maxrid;			/* rows above have no history record */
	EndedMap   *ended;			/* built when first needed */
} PendingScan;

/*
 * Find the current version of a row noted at tid: along its HOT chain,
 * else along its update links.  True, with the tuple in ps->slot, if that
 * version is visible to the commit and still has row id rid.
 */
static bool
FindNoted(PendingScan *ps, int64 rid, ItemPointer tid)
{
	ItemPointerData t = *tid;
	bool		call_again = false;
	bool		all_dead = false;
	bool		isnull;

	if (!ItemPointerIsValid(&t) || ItemPointerGetBlockNumber(&t) >= ps->nblocks)
		return false;
	if (table_index_fetch_tuple(ps->fetch, &t, ps->c->snap, ps->slot, &call_again, &all_dead) &&
		DatumGetInt64(slot_getattr(ps->slot, ps->c->ridatt, &isnull)) == rid && !isnull)
		return true;
	t = *tid;
	if (!table_tuple_tid_valid(ps->tidscan, &t))
		return false;
	table_tuple_get_latest_tid(ps->tidscan, &t);
	return table_tuple_fetch_row_version(ps->rel, &t, ps->c->snap, ps->slot) &&
		DatumGetInt64(slot_getattr(ps->slot, ps->c->ridatt, &isnull)) == rid && !isnull;
}

/* Refuse a second row with the same row id. */
static void
DuplicateRid(Relation rel, int64 rid)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("row id %lld is used by two rows of tracked table \"%s\"",
					(long long) rid, RelationGetRelationName(rel)),
			 errdetail("A row was inserted with an explicit \"%s\" (OVERRIDING SYSTEM VALUE or COPY) that another row has.",
					   RID_COLUMN),
			 errhint("Delete one of the two rows, then commit again.")));
}

/* Give a row written since the last commit its history record. */
static void
CaptureNoted(PendingScan *ps, TupleTableSlot *slot, int64 rid)
{
	Capture    *c = ps->c;

	if (rid <= ps->maxrid)
	{
		int64		from = 0;
		ItemPointerData htid;
		uint8		hash[SHA256_LEN];

		/*
		 * An explicit row id naming a recorded row was refused when written
		 * (RefuseRecordedRids); a row that got past that (its notes written
		 * by an earlier aisec, or restored) may still twin a current row.
		 */
		if (open_records_latest(c, rid, PG_INT64_MAX, &from, &htid, hash))
		{
			if (ps->ended == NULL)
				ps->ended = history_ended_map(&c->tt, c->tt.pending, c->snap);
			if (history_ended_at(ps->ended, rid, from) == 0)
				DuplicateRid(ps->rel, rid);
		}
	}
	capture_insert(c, slot);
}

/*
 * End the open committed records of the n rows (rids, in any order) whose
 * UPDATE left that to this commit (DeferEnding, capture.c): for each, its
 * latest record from before the pending version.  Like capture, many rows
 * are found with passes over the history, a few by index probes.
 */
static void
EndDeferred(Capture *c, int64 *rids, int64 n)
{
	int64		repeated = history_repeated_rid(rids, n);

	if (repeated != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("table \"aisec.pending_row\" notes row %lld of tracked table \"%s\" as updated twice",
						(long long) repeated, RelationGetRelationName(c->rel))));
	for (int64 done = 0; done < n;)
	{
		int64		part = Min(n - done, open_records_max());
		bool		pass = open_records_by_scan(c, part);

		if (pass)
		{
			open_records_look_up(c, NULL, 0, NULL, rids + done, part);
			open_records_find(c, c->tt.pending);
		}
		for (int64 i = done; i < done + part; i++)
		{
			int64		from = 0;

			CHECK_FOR_INTERRUPTS();
			if (pass)
				from = open_records_found(c, rids[i], NULL);
			else
			{
				ItemPointerData tid;
				uint8		hash[SHA256_LEN];

				if (open_records_latest(c, rids[i], c->tt.pending, &from, &tid, hash))
					fingerprint_sub(&c->delta, hash);
			}
			if (from == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("history of tracked table \"%s\" has no committed record of updated row %lld",
								RelationGetRelationName(c->rel), (long long) rids[i]),
						 errhint("Run aisec.verify() on the table's dataset.")));
			capture_end_record(c, rids[i], from);
			c->rows--;
		}
		open_records_forget(c);
		done += part;
	}
}

/*
 * Give the rows of a tracked table written since the last commit, as noted
 * in aisec.pending_row, their history records in the pending version, and
 * append the change to aisec.pending_delta.  Called by commit, which holds
 * the commit lock exclusively: no writer adds notes meanwhile.  Returns
 * the number of rows captured.
 */
int64
history_capture_pending(const TrackedTable *tt)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec pending rows",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	AisecSpi	spi;
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(tt->table_no)};
	PendingNote *notes;
	int			n = 0;
	int			size = 1024;
	int			nrows;
	int64		captured;
	Capture		c;
	PendingScan ps;
	int64	   *lost;
	int			nlost = 0;

	old = MemoryContextSwitchTo(cxt);
	notes = palloc(sizeof(PendingNote) * size);
	MemoryContextSwitchTo(old);
	aisec_spi_begin(&spi);
	nrows = aisec_spi_run("SELECT entries FROM aisec.pending_row WHERE table_no = $1 ORDER BY seq",
						  true, 1, types, values, NULL, snap);
	old = MemoryContextSwitchTo(cxt);
	for (int i = 0; i < nrows; i++)
	{
		bool		isnull;

		notes_read_pending(DatumGetByteaPP(aisec_spi_value(i, 0, &isnull)), &notes, &n, &size);
	}
	MemoryContextSwitchTo(old);
	if (nrows > 0)
		(void) aisec_spi_run("DELETE FROM aisec.pending_row WHERE table_no = $1",
							 true, 1, types, values, NULL, snap);
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);
	if (n == 0)
	{
		MemoryContextDelete(cxt);
		return 0;
	}

	memset(&ps, 0, sizeof(ps));
	ps.c = &c;
	ps.rel = table_open(tt->relid, AccessShareLock);
	capture_begin(&c, ps.rel, tt);
	ps.nblocks = RelationGetNumberOfBlocks(ps.rel);
	ps.fetch = table_index_fetch_begin(ps.rel);
	ps.tidscan = table_beginscan_tid(ps.rel, c.snap);
	ps.slot = table_slot_create(ps.rel, NULL);
	ps.maxrid = history_max_recorded_rid(c.hrel, c.ridx, c.snap, c.hslot);
	lost = MemoryContextAllocHuge(cxt, sizeof(int64) * n);

	/* Updated rows whose open records end now; the rest are new rows. */
	{
		int			kept = 0;
		int			nends = 0;

		for (int i = 0; i < n; i++)
		{
			if (notes[i].kind == PENDING_ENDS)
				lost[nends++] = notes[i].rid;
			else
				notes[kept++] = notes[i];
		}
		n = kept;
		if (nends > 0)
			EndDeferred(&c, lost, nends);
	}

	/* Each row id's notes in the order written: the last says what it is. */
	qsort(notes, n, sizeof(PendingNote), CompareNotes);
	for (int i = 0; i < n;)
	{
		int			j = i;
		int64		rid = notes[i].rid;
		bool		found = false;
		ItemPointerData at;

		CHECK_FOR_INTERRUPTS();
		while (j < n && notes[j].rid == rid)
			j++;

		/*
		 * Whatever the last note says, a noted tuple that is still there
		 * counts (a deleted twin with the same explicit id leaves a "deleted"
		 * note).  If none is, only a row not deleted last needs the scan.
		 */
		for (int k = i; k < j; k++)
		{
			if (notes[k].kind != PENDING_AT || !FindNoted(&ps, rid, &notes[k].tid))
				continue;
			if (found && ItemPointerEquals(&at, &ps.slot->tts_tid))
				continue;
			if (found)
				DuplicateRid(ps.rel, rid);
			at = ps.slot->tts_tid;
			found = true;
			CaptureNoted(&ps, ps.slot, rid);
		}
		if (!found && notes[j - 1].kind != PENDING_GONE)
			lost[nlost++] = rid;
		i = j;
	}

	/* Rows whose noted ctids led nowhere (the table was rewritten): scan. */
	if (nlost > 0)
	{
		TableScanDesc scan = table_beginscan(ps.rel, c.snap, 0, NULL);
		bool	   *seen = MemoryContextAllocHuge(cxt, sizeof(bool) * nlost);

		memset(seen, 0, sizeof(bool) * nlost);
		qsort(lost, nlost, sizeof(int64), history_compare_rids);
		while (table_scan_getnextslot(scan, ForwardScanDirection, ps.slot))
		{
			bool		isnull;
			int64		rid = DatumGetInt64(slot_getattr(ps.slot, c.ridatt, &isnull));
			int64	   *hit;

			CHECK_FOR_INTERRUPTS();
			if (isnull)
				continue;
			hit = bsearch(&rid, lost, nlost, sizeof(int64), history_compare_rids);
			if (hit == NULL)
				continue;
			if (seen[hit - lost])
				DuplicateRid(ps.rel, rid);
			seen[hit - lost] = true;
			CaptureNoted(&ps, ps.slot, rid);
		}
		table_endscan(scan);
	}

	/* Rows inserted and deleted again are a change too (no new records). */
	c.changed = true;
	captured = c.rows;
	if (ps.ended)
		history_ended_map_free(ps.ended);
	ExecDropSingleTupleTableSlot(ps.slot);
	table_endscan(ps.tidscan);
	table_index_fetch_end(ps.fetch);
	capture_end(&c);
	table_close(ps.rel, NoLock);
	MemoryContextDelete(cxt);
	return captured;
}
