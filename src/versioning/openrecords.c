/*
 * openrecords.c
 *		Finding history records: a row's open record by index probe or, for
 *		many rows at once, by one pass over the history; the ended records
 *		of a table as a map (rid, valid_from) -> valid_to; the rid index.
 *
 * The design is in doc/versioning.md ("Design note").  Invariants:
 *
 * - Every row of a tracked table that has a history record has exactly one
 *   open record: its latest, with no ended record.  A row inserted since the
 *   last commit has none yet; the commit writes it.  A large UPDATE that is
 *   the table's first change since the last commit writes its rows' new
 *   records and leaves ending their committed ones to the next commit
 *   (DeferEnding, capture.c); until then a row's latest record is its new
 *   one, and its latest committed record is the one the commit ends.
 *   Committed version v is the set of records with valid_from <= v and no
 *   ended record with valid_to <= v.
 * - A row id has at most one record per version, so (rid, valid_from)
 *   names a record.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "capture.h"

/* ---------------------------------------------------------------------
 * Ended records: (rid, valid_from) -> valid_to
 * ---------------------------------------------------------------------
 */

/* A history record's identity: a row id has one record per version. */
typedef struct EndedKey
{
	int64		rid;
	int64		valid_from;
} EndedKey;

/* One ended history record, as a hash table entry. */
typedef struct EndedEntry
{
	EndedKey	key;
	int64		valid_to;
	char		status;			/* simplehash's */
} EndedEntry;

/* Hash a (rid, valid_from) pair. */
static inline uint32
HashEndedKey(int64 rid, int64 valid_from)
{
	return hash_combine(murmurhash32((uint32) rid),
						murmurhash32((uint32) (rid >> 32) ^ (uint32) valid_from * 0x9e3779b9));
}

#define SH_PREFIX		ended
#define SH_ELEMENT_TYPE EndedEntry
#define SH_KEY_TYPE		EndedKey
#define SH_KEY			key
#define SH_HASH_KEY(tb, key) HashEndedKey((key).rid, (key).valid_from)
#define SH_EQUAL(tb, a, b) ((a).rid == (b).rid && (a).valid_from == (b).valid_from)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

struct EndedMap
{
	ended_hash *tab;
	MemoryContext cxt;
};

/*
 * Load the ended records of a tracked table whose valid_to <= upto (all of
 * them if upto <= 0) into a hash table: what checkout and verify need to
 * tell, for each history record, when it ended.  Memory grows with the
 * number of ended records, i.e. with update and delete churn.
 */
EndedMap *
history_ended_map(const TrackedTable *tt, int64 upto, Snapshot snap)
{
	EndedMap   *map = palloc(sizeof(EndedMap));
	Relation	erel = table_open(tt->ended, AccessShareLock);
	TableScanDesc scan = table_beginscan(erel, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(erel, NULL);
	BlockNumber nblocks = RelationGetNumberOfBlocks(erel);

	map->cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec ended records",
									 ALLOCSET_DEFAULT_SIZES);
	map->tab = ended_create(map->cxt, Max(nblocks, 1) * 64, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		EndedKey	key;
		EndedEntry *e;
		bool		found;
		int64		to;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(slot);
		to = DatumGetInt64(slot->tts_values[EC_VALID_TO]);
		if (upto > 0 && to > upto)
			continue;
		key.rid = DatumGetInt64(slot->tts_values[EC_RID]);
		key.valid_from = DatumGetInt64(slot->tts_values[EC_VALID_FROM]);
		e = ended_insert(map->tab, key, &found);
		e->valid_to = found ? Min(e->valid_to, to) : to;
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(erel, AccessShareLock);
	return map;
}

/* The version in which record (rid, valid_from) ended, or 0 if it is open. */
int64
history_ended_at(EndedMap *map, int64 rid, int64 valid_from)
{
	EndedKey	key;
	EndedEntry *e;

	if (map->tab->members == 0)
		return 0;
	key.rid = rid;
	key.valid_from = valid_from;
	e = ended_lookup(map->tab, key);
	return e ? e->valid_to : 0;
}

/* Release an ended-records map. */
void
history_ended_map_free(EndedMap *map)
{
	MemoryContextDelete(map->cxt);
	pfree(map);
}

/* ---------------------------------------------------------------------
 * The rid index
 * ---------------------------------------------------------------------
 */

/* Open the btree on a history table's rid column (AccessShareLock). */
Relation
history_open_rid_index(Relation hrel)
{
	List	   *indexes = RelationGetIndexList(hrel);
	ListCell   *lc;

	foreach(lc, indexes)
	{
		Relation	idx = index_open(lfirst_oid(lc), AccessShareLock);

		if (idx->rd_rel->relam == BTREE_AM_OID &&
			idx->rd_index->indkey.values[0] == HC_RID + 1)
			return idx;
		index_close(idx, AccessShareLock);
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("history table \"%s\" has no index on column \"rid\"",
					RelationGetRelationName(hrel))));
	return NULL;				/* keep the compiler quiet */
}

/* The highest row id with a record visible to snap in history hrel (0 if none). */
int64
history_max_recorded_rid(Relation hrel, Relation ridx, Snapshot snap, TupleTableSlot *slot)
{
	IndexScanDesc scan = index_beginscan(hrel, ridx, snap, 0, 0);
	int64		max = 0;

	index_rescan(scan, NULL, 0, NULL, 0);
	if (index_getnext_slot(scan, BackwardScanDirection, slot))
	{
		bool		isnull;

		max = DatumGetInt64(slot_getattr(slot, HC_RID + 1, &isnull));
	}
	index_endscan(scan);
	return max;
}

/* ---------------------------------------------------------------------
 * One row's open record, by index probe
 * ---------------------------------------------------------------------
 */

/* Copy the hash column of rid's history record (d, isnull), checking its form. */
static void
CopyHash(Capture *c, Datum d, bool isnull, int64 rid, uint8 *hash)
{
	bytea	   *h = isnull ? NULL : DatumGetByteaPP(d);

	if (isnull || VARSIZE_ANY_EXHDR(h) != SHA256_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("history of tracked table \"%s\" holds a malformed hash for row %lld",
						RelationGetRelationName(c->rel), (long long) rid),
				 errhint("Run aisec.verify() on the table's dataset.")));
	memcpy(hash, VARDATA_ANY(h), SHA256_LEN);
}

/* Copy the hash of rid's history record in slot. */
static void
RecordHash(Capture *c, TupleTableSlot *slot, int64 rid, uint8 *hash)
{
	bool		isnull;
	Datum		d = slot_getattr(slot, HC_HASH + 1, &isnull);

	CopyHash(c, d, isnull, rid, hash);
}

/*
 * Find rid's latest history record with valid_from below "below": its
 * valid_from, where it is, its hash.
 */
bool
open_records_latest(Capture *c, int64 rid, int64 below, int64 *from, ItemPointer tid,
			 uint8 *hash)
{
	ScanKeyData key;
	bool		found = false;

	/* The scan's own memory lives in the statement's context, not rowcxt. */
	if (c->scan == NULL)
		c->scan = index_beginscan(c->hrel, c->ridx, c->snap, 1, 0);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rid));
	index_rescan(c->scan, &key, 1, NULL, 0);
	while (index_getnext_slot(c->scan, ForwardScanDirection, c->hslot))
	{
		bool		isnull;
		int64		f = DatumGetInt64(slot_getattr(c->hslot, HC_VALID_FROM + 1, &isnull));

		if ((found && f <= *from) || f >= below)
			continue;
		RecordHash(c, c->hslot, rid, hash);
		*from = f;
		*tid = c->hslot->tts_tid;
		found = true;
	}
	return found;
}

/* ---------------------------------------------------------------------
 * Open records of many rows at once
 *
 * Ending a row's open record needs its valid_from and hash.  One row is
 * found through the rid index: a descent and a heap fetch.  When a
 * statement changes about as many rows as the history has pages, one
 * pass over the history (through a small ring of buffers, as any large
 * sequential scan) is cheaper than that many probes, as a hash join is
 * cheaper than a nested loop over many rows: the statement's row ids go
 * into a hash table, and the pass keeps, for each, its latest visible
 * record.  The table holds at most hash_mem's worth of ids; a larger
 * statement is done in parts.
 * ---------------------------------------------------------------------
 */

/* A row id whose open record is looked for; from = 0 until one is found. */
typedef struct OpenEntry
{
	int64		rid;
	int64		from;
	ItemPointerData tid;
	char		status;			/* simplehash's */
} OpenEntry;

#define SH_PREFIX		openrec
#define SH_ELEMENT_TYPE OpenEntry
#define SH_KEY_TYPE		int64
#define SH_KEY			rid
#define SH_HASH_KEY(tb, key) HISTORY_RID_HASH(key)
#define SH_EQUAL(tb, a, b) ((a) == (b))
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

/* Order row ids. */
int
history_compare_rids(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/* Sort n row ids; return one that occurs twice, or 0 if none does. */
int64
history_repeated_rid(int64 *rids, int64 n)
{
	qsort(rids, n, sizeof(int64), history_compare_rids);
	for (int64 i = 1; i < n; i++)
		if (rids[i] == rids[i - 1])
			return rids[i];
	return 0;
}

/* Row ids looked up in one pass at most: hash_mem, as a hash join. */
int64
open_records_max(void)
{
	return Max((int64) (get_hash_memory_limit() / (2 * sizeof(OpenEntry))), 1024);
}

/*
 * Whether n rows' open records are cheaper to find with one pass over the
 * history than with n index probes.  Measured on a 1M-row table whose
 * history did not fit in shared_buffers: a probe cost about as much as
 * reading one history page in a sequential pass (3.2 and 3.3 us).  Under
 * SERIALIZABLE a pass would take a predicate lock on the whole history,
 * making concurrent writers of other rows conflict, so probes are kept.
 */
bool
open_records_by_scan(Capture *c, int64 n)
{
	return !IsolationIsSerializable() &&
		n >= (int64) RelationGetNumberOfBlocks(c->hrel);
}

/*
 * The pass meets every record of the history, most of them of rows the
 * statement did not change.  A lookup in the open-records table misses
 * the CPU cache (the table is megabytes), so a bit array in front of it,
 * 16 bits per id looked up (hashed by Fibonacci hashing), turns away about
 * 94% of the other rows' records with one cached read.
 */
static inline uint64
FilterBit(const Capture *c, int64 rid)
{
	return ((uint64) rid * UINT64CONST(0x9E3779B97F4A7C15)) >> c->filter_shift;
}

static inline bool
FilterHas(const Capture *c, int64 rid)
{
	uint64		b = FilterBit(c, rid);

	return (c->filter[b / 64] >> (b % 64)) & 1;
}

/*
 * Take n row ids to look up: rids, or else the ids of the next n rows of
 * transition table ts (read through read pointer ptr into slot).  Keep
 * them in c->rids, in order, and in the open-records table and its filter.
 * An UPDATE changes a row twice when a foreign-key cascade it sets off
 * comes back to the row (a self-referencing ON UPDATE CASCADE), and its
 * transition tables then hold the row twice, in the order of the changes:
 * c->skip marks each occurrence but the last, so that the row's open
 * record is ended once and its last version recorded.
 */
void
open_records_look_up(Capture *c, Tuplestorestate *ts, int ptr, TupleTableSlot *slot,
		   const int64 *rids, int64 n)
{
	MemoryContext old;
	int			bits = 10;

	if (c->opencxt == NULL)
		c->opencxt = AllocSetContextCreate(c->stmtcxt, "aisec open records",
										   ALLOCSET_DEFAULT_SIZES);
	/* At most 2^29 bits (64 MB): more would only cut false positives. */
	while (bits < 29 && ((int64) 1 << bits) < 16 * n)
		bits++;
	old = MemoryContextSwitchTo(c->opencxt);
	c->open = openrec_create(c->opencxt, n, NULL);
	c->rids = palloc(n * sizeof(int64));
	c->filter = palloc0(((Size) 1 << bits) / 8);
	c->filter_shift = 64 - bits;
	MemoryContextSwitchTo(old);
	for (int64 i = 0; i < n; i++)
	{
		OpenEntry  *e;
		bool		found;
		uint64		b;

		if (rids)
			c->rids[i] = rids[i];
		else
		{
			if (!capture_next_transition(ts, ptr, slot))
				elog(ERROR, "aisec.capture: transition table ended early");
			c->rids[i] = capture_row_rid(c, slot);
		}
		e = openrec_insert(c->open, c->rids[i], &found);
		if (found)
		{
			if (c->skip == NULL)
				c->skip = MemoryContextAllocZero(c->opencxt, n * sizeof(bool));
			continue;
		}
		e->from = 0;
		b = FilterBit(c, c->rids[i]);
		c->filter[b / 64] |= UINT64CONST(1) << (b % 64);
	}
	if (c->skip)
	{
		/* Mark every occurrence that a later one of the same id follows. */
		struct openrec_hash *later = openrec_create(c->opencxt, n, NULL);

		for (int64 i = n - 1; i >= 0; i--)
		{
			bool		found;

			(void) openrec_insert(later, c->rids[i], &found);
			c->skip[i] = found;
		}
		openrec_destroy(later);
	}
}

/*
 * Refuse an UPDATE of more rows than one part (open_records_max) that
 * changed a row twice: open_records_look_up sees one part at a time.  Reads all n
 * old rows of ts, then rewinds its read pointer.
 */
void
open_records_refuse_repeated(Capture *c, Tuplestorestate *ts, int ptr, TupleTableSlot *slot, int64 n)
{
	int64	   *all = MemoryContextAllocHuge(c->stmtcxt, n * sizeof(int64));
	int64		repeated;

	for (int64 i = 0; i < n; i++)
	{
		if (!capture_next_transition(ts, ptr, slot))
			elog(ERROR, "aisec.capture: transition table ended early");
		all[i] = capture_row_rid(c, slot);
	}
	repeated = history_repeated_rid(all, n);
	if (repeated != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot record an UPDATE of more than %lld rows that changes a row of tracked table \"%s\" twice",
						(long long) open_records_max(), RelationGetRelationName(c->rel)),
				 errdetail("A foreign-key cascade changed row id %lld again.",
						   (long long) repeated),
				 errhint("Raise work_mem, or update fewer rows at a time.")));
	pfree(all);
	tuplestore_select_read_pointer(ts, ptr);
	tuplestore_rescan(ts);
}

/*
 * Find the open records of the ids open_records_look_up took with one pass over the
 * history: for each, its latest record with valid_from below "below".
 * The pass reads each page (a large history through a small ring of
 * buffers, as a sequential scan does) and reads the row id of each record
 * in place: only the records of rows looked up are checked for visibility
 * and taken apart.
 * Each record found has its hash taken from the statement's fingerprint
 * delta at once (every one will be ended or deleted), so the table keeps
 * no hashes; when a later record of the same row turns up, the earlier
 * one is fetched again to give its hash back.
 */
void
open_records_find(Capture *c, int64 below)
{
	TupleDesc	hdesc = RelationGetDescr(c->hrel);
	BufferAccessStrategy ring;
	BlockNumber nblocks;
	TupleTableSlot *prev;

	/* rid is the history's first column, a bigint that is never NULL. */
	if (TupleDescAttr(hdesc, HC_RID)->atttypid != INT8OID ||
		!TupleDescAttr(hdesc, HC_RID)->attnotnull)
		elog(ERROR, "aisec history \"%s\" is not as aisec made it",
			 RelationGetRelationName(c->hrel));

	prev = table_slot_create(c->hrel, NULL);
	pgstat_count_heap_scan(c->hrel);
	/* A ring of buffers when the history is large, as for a seq scan. */
	nblocks = RelationGetNumberOfBlocks(c->hrel);
	ring = nblocks > (BlockNumber) (NBuffers / 4) ? GetAccessStrategy(BAS_BULKREAD) : NULL;
	for (BlockNumber blk = 0; blk < nblocks; blk++)
	{
		Buffer		buf;
		Page		page;
		bool		all_visible;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBufferExtended(c->hrel, MAIN_FORKNUM, blk, RBM_NORMAL, ring);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		all_visible = PageIsAllVisible(page) && !c->snap->takenDuringRecovery;
		maxoff = PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		lp = PageGetItemId(page, off);
			HeapTupleData tup;
			OpenEntry  *e;
			int64		rid;
			int64		f;
			Datum		d;
			bool		isnull;
			uint8		hash[SHA256_LEN];

			if (!ItemIdIsNormal(lp))
				continue;
			tup.t_data = (HeapTupleHeader) PageGetItem(page, lp);
			tup.t_len = ItemIdGetLength(lp);
			tup.t_tableOid = RelationGetRelid(c->hrel);
			ItemPointerSet(&tup.t_self, blk, off);
			rid = DatumGetInt64(heap_getattr(&tup, HC_RID + 1, hdesc, &isnull));
			if (isnull || !FilterHas(c, rid))
				continue;
			e = openrec_lookup(c->open, rid);
			if (e == NULL)
				continue;
			if (!all_visible && !HeapTupleSatisfiesVisibility(&tup, c->snap, buf))
				continue;
			f = DatumGetInt64(heap_getattr(&tup, HC_VALID_FROM + 1, hdesc, &isnull));
			if ((e->from != 0 && f <= e->from) || f >= below)
				continue;
			d = heap_getattr(&tup, HC_HASH + 1, hdesc, &isnull);
			CopyHash(c, d, isnull, rid, hash);
			fingerprint_sub(&c->delta, hash);
			if (e->from != 0)
			{
				if (!table_tuple_fetch_row_version(c->hrel, &e->tid, c->snap, prev))
					elog(ERROR, "aisec.capture: history record of row %lld vanished",
						 (long long) rid);
				RecordHash(c, prev, rid, hash);
				fingerprint_add(&c->delta, hash);
			}
			e->from = f;
			e->tid = tup.t_self;
		}
		UnlockReleaseBuffer(buf);
	}
	if (ring)
		FreeAccessStrategy(ring);
	ExecDropSingleTupleTableSlot(prev);
	c->passed = true;
}

/* Drop the open records found by open_records_find. */
void
open_records_forget(Capture *c)
{
	if (c->open == NULL)
		return;
	c->open = NULL;
	c->rids = NULL;
	c->filter = NULL;
	c->skip = NULL;
	c->passed = false;
	MemoryContextReset(c->opencxt);
}

/*
 * The open record open_records_find found for rid: its valid_from (0 if
 * the row has none) and, if tid is not NULL, where it is.
 */
int64
open_records_found(Capture *c, int64 rid, ItemPointer tid)
{
	OpenEntry  *e = openrec_lookup(c->open, rid);

	if (e == NULL)
		elog(ERROR, "aisec.capture: row id %lld was not looked up", (long long) rid);
	if (tid != NULL)
		*tid = e->tid;
	return e->from;
}
