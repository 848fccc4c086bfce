/*
 * notes.c
 *		Rows not yet in history: the notes that inserted (and then updated
 *		or deleted) rows leave for the next commit, how they are buffered,
 *		encoded and written to aisec.pending_row, and the row trigger
 *		(aisec.capture_row()) and its WHEN condition that take them.
 *
 * An inserted row gets its history record from the next commit, not when
 * it is written: a row trigger notes its row id and ctid in memory, the
 * statement's AFTER trigger writes the notes to aisec.pending_row, and
 * commit hashes the rows found there (history_capture_pending).  UPDATE
 * and DELETE of such a row note that too.  A ctid can go stale (the row
 * is updated again, or the table is rewritten): commit follows update
 * chains, and scans the table for any row it still cannot find.
 *
 * Invariants: notes live in memory per table and (sub)transaction until
 * the statement that made them ends (or NOTES_MAX of them pile up); an
 * aborted subtransaction's notes are dropped with it, a committed one's
 * pass to its parent, and whatever is left is written before the
 * transaction commits.  Writing notes takes AISEC_LOCK_VERSION_COMMIT in
 * share mode, like every capture, and first refuses an explicit row id
 * that names a row the history holds.  The one exception is
 * aisec.revert() (revert.c) bringing deleted rows back with their old
 * ids: while its INSERT into a table runs (notes_restore_begin), such a
 * row is not noted but recorded at once (history_capture_restored), if
 * every history record of its id has ended.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "history.h"
#include "notes.h"

/* Columns of aisec.pending_row. */
enum
{
	PR_TABLE_NO = 0,
	PR_SEQ,
	PR_ENTRIES,
	PR_NCOLS
};

/*
 * An entry list (aisec.pending_row.entries) is written in one of two forms:
 * - fixed (earlier aisec): 15 bytes per note, kind (1), row id (8),
 *   block (4), offset (2), big-endian;
 * - delta: NOTES_DELTA, the number of notes (4 bytes, big-endian), then
 *   per note its kind (1 byte) and, as unsigned LEB128 varints, the
 *   zigzag-encoded differences of its row id and block number from the
 *   previous note's (0 before the first) and its offset.  Rows inserted
 *   one after another take 4 bytes each.
 * A note without a ctid has block InvalidBlockNumber and offset 0.
 */
#define PENDING_ENTRY_LEN	15
#define NOTES_DELTA		0x01
#define NOTES_HEADER	(VARHDRSZ + 1 + 4)

/* Notes held in memory before they are written, per buffer. */
#define NOTES_MAX		(1 << 20)

/*
 * Notes on one tracked table from one (sub)transaction, not yet written:
 * an entry list in the delta form, built in place (data; its first
 * NOTES_HEADER bytes are filled in when it is written).
 */
typedef struct NoteBuffer
{
	struct NoteBuffer *next;
	Oid			relid;
	int32		table_no;
	Oid			history;		/* history_<n> */
	AttrNumber	ridatt;
	SubTransactionId subid;
	int			n;				/* notes */
	Size		len;			/* bytes used in data */
	Size		size;			/* bytes allocated */
	uint8	   *data;
	int64		last_rid;		/* the last note's, for the next delta */
	int64		last_block;
} NoteBuffer;

/* Drop the notes of a buffer (written or forgotten). */
static void
ForgetBuffer(NoteBuffer *nb)
{
	nb->n = 0;
	nb->len = NOTES_HEADER;
	nb->last_rid = 0;
	nb->last_block = 0;
}

/* Fill in the header of nb's entry list (a bytea), so it can be read or written. */
static void
SealNotes(NoteBuffer *nb)
{
	SET_VARSIZE(nb->data, nb->len);
	nb->data[VARHDRSZ] = NOTES_DELTA;
	for (int b = 0; b < 4; b++)
		nb->data[VARHDRSZ + 1 + b] = (uint8) ((uint32) nb->n >> (24 - 8 * b));
}

/* Reads the notes of an entry list in either form, in order. */
typedef struct NoteReader
{
	const uint8 *p;
	const uint8 *end;
	bool		delta;
	int64		left;
	int64		rid;
	int64		block;
} NoteReader;

static void
NoteCorrupt(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("table \"aisec.pending_row\" holds a malformed entry list")));
}

/* Start reading an entry list of len bytes at p. */
static void
NoteReaderInit(NoteReader *r, const uint8 *p, Size len)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->end = p + len;
	if (len > 0 && p[0] == NOTES_DELTA)
	{
		if (len < 5)
			NoteCorrupt();
		r->delta = true;
		r->left = ((int64) p[1] << 24) | (p[2] << 16) | (p[3] << 8) | p[4];
		r->p += 5;
	}
	else if (len % PENDING_ENTRY_LEN != 0)
		NoteCorrupt();
}

/* Read an unsigned LEB128 varint. */
static uint64
NoteVarint(NoteReader *r)
{
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8		b;

		if (r->p >= r->end)
			NoteCorrupt();
		b = *r->p++;
		v |= (uint64) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	NoteCorrupt();
	return 0;					/* keep the compiler quiet */
}

/* The next note into *note (not its order); false at the end. */
static bool
NoteNext(NoteReader *r, PendingNote *note)
{
	uint64		block;
	uint64		off;

	if (r->delta)
	{
		uint64		d;

		if (r->left == 0)
		{
			if (r->p != r->end)
				NoteCorrupt();
			return false;
		}
		r->left--;
		if (r->p >= r->end)
			NoteCorrupt();
		note->kind = (char) *r->p++;
		d = NoteVarint(r);
		r->rid += (int64) ((d >> 1) ^ -(d & 1));
		d = NoteVarint(r);
		r->block += (int64) ((d >> 1) ^ -(d & 1));
		off = NoteVarint(r);
		block = (uint64) r->block;
		note->rid = r->rid;
	}
	else
	{
		uint64		rid = 0;

		if (r->p == r->end)
			return false;
		for (int b = 0; b < 8; b++)
			rid = (rid << 8) | r->p[1 + b];
		block = 0;
		for (int b = 0; b < 4; b++)
			block = (block << 8) | r->p[9 + b];
		off = (r->p[13] << 8) | r->p[14];
		note->kind = (char) r->p[0];
		note->rid = (int64) rid;
		r->p += PENDING_ENTRY_LEN;
	}
	if (block > PG_UINT32_MAX || off > PG_UINT16_MAX ||
		(note->kind != PENDING_AT && note->kind != PENDING_MOVED &&
		 note->kind != PENDING_GONE && note->kind != PENDING_ENDS))
		NoteCorrupt();
	ItemPointerSet(&note->tid, (BlockNumber) block, (OffsetNumber) off);
	return true;
}

/* The transaction's note buffers (in TopTransactionContext). */
static NoteBuffer *note_buffers = NULL;
static NoteBuffer *note_last = NULL;	/* the one used last */
static bool note_callbacks = false;

/*
 * The size of a tracked table when an INSERT (or COPY) into it started,
 * for each such statement under way, innermost first (in
 * TopTransactionContext).  See notes_new_blocks.
 */
typedef struct InsertStart
{
	struct InsertStart *next;
	Oid			relid;
	BlockNumber nblocks;
	SubTransactionId subid;
} InsertStart;

static InsertStart *insert_starts = NULL;

/*
 * The table aisec.revert() is restoring rows to, while its INSERT runs
 * (InvalidOid otherwise), and the row ids of deleted rows it brings back
 * (sorted): only those ids are let in.
 */
static Oid	restore_relid = InvalidOid;
static const int64 *restore_rids = NULL;
static int	restore_nrids = 0;

/* Write the notes of nb as one row of aisec.pending_row. */
static void
WritePending(NoteBuffer *nb)
{
	Relation	rel;
	Datum		values[PR_NCOLS];
	bool		nulls[PR_NCOLS] = {0};
	HeapTuple	tup;

	if (nb->n == 0)
		return;
	SealNotes(nb);

	rel = table_open(aisec_relid("pending_row"), RowExclusiveLock);
	values[PR_TABLE_NO] = Int32GetDatum(nb->table_no);
	values[PR_SEQ] = Int64GetDatum(nextval_internal(aisec_relid("pending_row_seq"), false));
	values[PR_ENTRIES] = PointerGetDatum(nb->data);
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	CatalogTupleInsert(rel, tup);
	heap_freetuple(tup);
	table_close(rel, NoLock);
}

/* Decode the entries of one aisec.pending_row row, appending to *notes. */
void
notes_read_pending(bytea *entries, PendingNote **notes, int *n, int *size)
{
	NoteReader r;
	PendingNote note;

	NoteReaderInit(&r, (const uint8 *) VARDATA_ANY(entries), VARSIZE_ANY_EXHDR(entries));
	while (NoteNext(&r, &note))
	{
		if (*n == *size)
		{
			*size = Max(*size * 2, 1024);
			if ((Size) *size > MaxAllocHugeSize / sizeof(PendingNote))
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("too many rows written to one tracked table since the last commit"),
						 errhint("Commit more often.")));
			*notes = repalloc_huge(*notes, sizeof(PendingNote) * *size);
		}
		note.order = *n;
		(*notes)[(*n)++] = note;
	}
}

/* Order row ids. */
static int
CompareRids(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * Refuse an inserted row whose id names a row the table's history holds,
 * current or deleted: a row id names one row for the life of the table.
 * Only an explicit id (OVERRIDING SYSTEM VALUE, COPY) or a reset identity
 * sequence can do that, so only ids up to the highest recorded one are
 * looked up.  Called with the commit lock held (no commit adds records
 * meanwhile) and before any later statement can update or delete the row:
 * capture would otherwise take the history of the row the id named for
 * this row's.  Except for the ids aisec.revert() brings back (see
 * notes_restore_begin): return those, with their ctids, and how many.
 */
static int
RefuseRecordedRids(NoteBuffer *nb, int64 **restored, ItemPointerData **restored_tids)
{
	Relation	hrel = NULL;
	Relation	ridx = NULL;
	Snapshot	snap = NULL;
	IndexScanDesc scan = NULL;
	TupleTableSlot *slot = NULL;
	int64		maxrid = 0;
	NoteReader r;
	PendingNote notebuf;
	PendingNote *note = &notebuf;
	int			nrestored = 0;
	int			size = 0;

	*restored = NULL;
	*restored_tids = NULL;
	SealNotes(nb);
	NoteReaderInit(&r, nb->data + VARHDRSZ, nb->len - VARHDRSZ);
	while (NoteNext(&r, note))
	{
		ScanKeyData key;

		if (note->kind != PENDING_AT)
			continue;
		if (hrel == NULL)
		{
			hrel = table_open(nb->history, AccessShareLock);
			ridx = history_open_rid_index(hrel);
			snap = RegisterSnapshot(GetLatestSnapshot());
			slot = table_slot_create(hrel, NULL);
			maxrid = history_max_recorded_rid(hrel, ridx, snap, slot);
			scan = index_beginscan(hrel, ridx, snap, 1, 0);
		}
		if (note->rid > maxrid)
			continue;
		ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(note->rid));
		index_rescan(scan, &key, 1, NULL, 0);
		if (!index_getnext_slot(scan, ForwardScanDirection, slot))
			continue;
		if (nb->relid == restore_relid &&
			bsearch(&note->rid, restore_rids, restore_nrids, sizeof(int64), CompareRids) != NULL)
		{
			/* aisec.revert() brings a row back: recorded at once, if dead. */
			if (nrestored == size)
			{
				size = Max(size * 2, 64);
				*restored = *restored ? repalloc(*restored, sizeof(int64) * size)
					: palloc(sizeof(int64) * size);
				*restored_tids = *restored_tids
					? repalloc(*restored_tids, sizeof(ItemPointerData) * size)
					: palloc(sizeof(ItemPointerData) * size);
			}
			(*restored)[nrestored] = note->rid;
			(*restored_tids)[nrestored] = note->tid;
			nrestored++;
			continue;
		}
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("row id %lld of tracked table \"%s\" already names a row in its history",
						(long long) note->rid, get_rel_name(nb->relid)),
				 errdetail("A row id names one row for the life of the table: it is not given to another row, even after that row is deleted."),
				 errhint("Insert the row without \"%s\" and aisec assigns a new one.",
						 RID_COLUMN)));
	}
	if (hrel == NULL)
		return 0;
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	UnregisterSnapshot(snap);
	index_close(ridx, AccessShareLock);
	table_close(hrel, AccessShareLock);
	return nrestored;
}

/* Order (row id, ctid) pairs by row id; ctids move with them. */
typedef struct RestoredNote
{
	int64		rid;
	ItemPointerData tid;
} RestoredNote;

static int
CompareRestored(const void *a, const void *b)
{
	const RestoredNote *x = a;
	const RestoredNote *y = b;

	if (x->rid != y->rid)
		return x->rid < y->rid ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &x->tid, (ItemPointer) &y->tid);
}

/*
 * Take the rows aisec.revert() brought back out of nb's notes and give
 * them their history records now (history_capture_restored), so that no
 * later statement can find one of their ended records as the open one.
 */
static void
CaptureRestored(NoteBuffer *nb, int64 *rids, ItemPointerData *tids, int n)
{
	RestoredNote *rs = palloc(sizeof(RestoredNote) * n);
	uint8	   *copy;
	Size		len;
	NoteReader	r;
	PendingNote note;
	Relation	rel;

	for (int i = 0; i < n; i++)
	{
		rs[i].rid = rids[i];
		rs[i].tid = tids[i];
	}
	qsort(rs, n, sizeof(RestoredNote), CompareRestored);
	for (int i = 0; i < n; i++)
	{
		rids[i] = rs[i].rid;
		tids[i] = rs[i].tid;
	}

	/* Keep the other notes: rebuild the buffer without these rows' "i" notes. */
	SealNotes(nb);
	len = nb->len - VARHDRSZ;
	copy = palloc(len);
	memcpy(copy, nb->data + VARHDRSZ, len);
	ForgetBuffer(nb);
	NoteReaderInit(&r, copy, len);
	while (NoteNext(&r, &note))
	{
		RestoredNote key;

		key.rid = note.rid;
		key.tid = note.tid;
		if (note.kind == PENDING_AT &&
			bsearch(&key, rs, n, sizeof(RestoredNote), CompareRestored) != NULL)
			continue;
		notes_add(nb, note.rid, &note.tid, note.kind);
	}
	pfree(copy);
	pfree(rs);

	rel = table_open(nb->relid, AccessShareLock);
	history_capture_restored(rel, rids, tids, n);
	table_close(rel, AccessShareLock);
}

/* Write the notes of one table (or all, InvalidOid) from one subtransaction (or all). */
void
notes_flush(Oid relid, SubTransactionId subid)
{
	for (NoteBuffer *nb = note_buffers; nb != NULL; nb = nb->next)
	{
		int64	   *restored;
		ItemPointerData *restored_tids;
		int			nrestored;

		if (nb->n == 0 ||
			(OidIsValid(relid) && nb->relid != relid) ||
			(subid != InvalidSubTransactionId && nb->subid != subid))
			continue;
		/* Like every capture, hold the commit lock until the end. */
		aisec_lock_shared(AISEC_LOCK_VERSION_COMMIT);
		nrestored = RefuseRecordedRids(nb, &restored, &restored_tids);
		if (nrestored > 0)
			CaptureRestored(nb, restored, restored_tids, nrestored);
		WritePending(nb);
		ForgetBuffer(nb);
	}
}

/*
 * Drop the buffers of an aborted subtransaction (and of its children) with
 * their notes; hand a committed one's notes up to its parent.  Empty
 * buffers go too, so a loop of many subtransactions does not pile them up.
 */
static void
NotesSubXact(SubXactEvent event, SubTransactionId mySubid,
			 SubTransactionId parentSubid, void *arg)
{
	NoteBuffer **link = &note_buffers;

	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	/* Statements that started in an aborted subtransaction have ended. */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		InsertStart **s = &insert_starts;

		while (*s != NULL)
		{
			InsertStart *start = *s;

			if (start->subid >= mySubid)
			{
				*s = start->next;
				pfree(start);
			}
			else
				s = &start->next;
		}
	}
	while (*link != NULL)
	{
		NoteBuffer *nb = *link;
		bool		drop = false;

		if (event == SUBXACT_EVENT_ABORT_SUB)
			drop = nb->subid >= mySubid;
		else if (nb->subid == mySubid)
		{
			drop = nb->n == 0;
			nb->subid = parentSubid;
		}
		if (drop)
		{
			*link = nb->next;
			if (nb->data)
				pfree(nb->data);
			pfree(nb);
		}
		else
			link = &nb->next;
	}
	note_last = NULL;
}

/* Write any notes left at commit; forget them when the transaction ends. */
static void
NotesXact(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			notes_flush(InvalidOid, InvalidSubTransactionId);
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			note_buffers = NULL;
			note_last = NULL;
			insert_starts = NULL;
			notes_restore_end();
			break;
		default:
			break;
	}
}

/* Register the transaction callbacks that keep notes (once). */
static void
NoteCallbacks(void)
{
	if (note_callbacks)
		return;
	RegisterXactCallback(NotesXact, NULL);
	RegisterSubXactCallback(NotesSubXact, NULL);
	note_callbacks = true;
}

/* The buffer for notes on relid in the current subtransaction. */
NoteBuffer *
notes_buffer_for(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	SubTransactionId subid = GetCurrentSubTransactionId();
	NoteBuffer *nb;
	TrackedTable tt;
	AttrNumber	ridatt;

	if (note_last && note_last->relid == relid && note_last->subid == subid)
		return note_last;
	for (nb = note_buffers; nb != NULL; nb = nb->next)
		if (nb->relid == relid && nb->subid == subid)
			return note_last = nb;

	NoteCallbacks();
	history_require_tracked(rel, &tt);
	ridatt = history_rid_attnum(rel);
	nb = MemoryContextAllocZero(TopTransactionContext, sizeof(NoteBuffer));
	nb->relid = relid;
	nb->table_no = tt.table_no;
	nb->history = tt.history;
	nb->ridatt = ridatt;
	nb->subid = subid;
	nb->next = note_buffers;
	note_buffers = nb;
	return note_last = nb;
}

/* Append v to nb as an unsigned LEB128 varint. */
static inline void
NoteAppendVarint(NoteBuffer *nb, uint64 v)
{
	while (v >= 0x80)
	{
		nb->data[nb->len++] = (uint8) (v | 0x80);
		v >>= 7;
	}
	nb->data[nb->len++] = (uint8) v;
}

/* Add a note to a buffer, writing the buffer out when it is full. */
void
notes_add(NoteBuffer *nb, int64 rid, ItemPointer tid, char kind)
{
	int64		block = tid ? ItemPointerGetBlockNumberNoCheck(tid) : InvalidBlockNumber;
	uint64		d;

	if (nb->n == NOTES_MAX)
		notes_flush(nb->relid, nb->subid);
	/* kind, and up to 10, 10 and 3 bytes of varints */
	if (nb->data == NULL || nb->size - nb->len < 24)
	{
		Size		size = Max(nb->size * 2, 1024);

		nb->data = nb->data
			? repalloc(nb->data, size)
			: MemoryContextAlloc(TopTransactionContext, size);
		nb->size = size;
		if (nb->len < NOTES_HEADER)
			nb->len = NOTES_HEADER;
	}
	nb->data[nb->len++] = (uint8) kind;
	d = (uint64) rid - (uint64) nb->last_rid;
	NoteAppendVarint(nb, (d << 1) ^ (uint64) ((int64) d >> 63));
	d = (uint64) block - (uint64) nb->last_block;
	NoteAppendVarint(nb, (d << 1) ^ (uint64) ((int64) d >> 63));
	NoteAppendVarint(nb, tid ? ItemPointerGetOffsetNumberNoCheck(tid) : 0);
	nb->last_rid = rid;
	nb->last_block = block;
	nb->n++;
}

/*
 * Forget the unwritten notes on a table (it is being untracked), with
 * their buffers: these hold its table number, history and aisec_rid
 * column, which a track() later in the transaction gives anew.
 */
void
notes_forget(Oid relid)
{
	NoteBuffer **link = &note_buffers;

	while (*link != NULL)
	{
		NoteBuffer *nb = *link;

		if (nb->relid == relid)
		{
			*link = nb->next;
			if (nb->data)
				pfree(nb->data);
			pfree(nb);
		}
		else
			link = &nb->next;
	}
	note_last = NULL;
}

/* Whether notes on relid wait in memory, not yet written. */
bool
notes_unwritten(Oid relid)
{
	for (NoteBuffer *nb = note_buffers; nb != NULL; nb = nb->next)
		if (nb->relid == relid && nb->n > 0)
			return true;
	return false;
}

/*
 * aisec.revert() is about to INSERT rows of relid with the row ids they
 * had, rids (n of them, sorted; the array must outlive the INSERT): let
 * in those ids if their history records have all ended, and record those
 * rows at once (see notes_flush).  Until notes_restore_end, capture
 * refuses to update or delete rows of relid (notes_restoring).
 */
void
notes_restore_begin(Oid relid, const int64 *rids, int n)
{
	NoteCallbacks();
	restore_relid = relid;
	restore_rids = rids;
	restore_nrids = n;
}

/* aisec.revert()'s INSERT has ended (or failed). */
void
notes_restore_end(void)
{
	restore_relid = InvalidOid;
	restore_rids = NULL;
	restore_nrids = 0;
}

/* Whether aisec.revert() is restoring rows to relid right now. */
bool
notes_restoring(Oid relid)
{
	return OidIsValid(restore_relid) && restore_relid == relid;
}

/*
 * The row ids that aisec.pending_row holds notes of kind "kind" on (any
 * kind if 0) for a table, sorted (an id may come more than once); their
 * number in *n.  With PENDING_ENDS: the rows a large UPDATE changed whose
 * open committed records the next commit ends.
 */
int64 *
notes_pending_rids(int32 table_no, char kind, int *n)
{
	AisecSpi	spi;
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(table_no)};
	PendingNote *notes = palloc(sizeof(PendingNote) * 1024);
	int			nnotes = 0;
	int			size = 1024;
	int			nrows;
	int64	   *rids;

	aisec_spi_begin(&spi);
	nrows = aisec_spi_run("SELECT entries FROM aisec.pending_row WHERE table_no = $1 ORDER BY seq",
						  true, 1, types, values, NULL, NULL);
	for (int i = 0; i < nrows; i++)
	{
		bool		isnull;

		notes_read_pending(DatumGetByteaPP(aisec_spi_value(i, 0, &isnull)),
						   &notes, &nnotes, &size);
	}
	aisec_spi_end(&spi);
	rids = palloc(sizeof(int64) * Max(nnotes, 1));
	*n = 0;
	for (int i = 0; i < nnotes; i++)
		if (kind == 0 || notes[i].kind == kind)
			rids[(*n)++] = notes[i].rid;
	pfree(notes);
	qsort(rids, *n, sizeof(int64), CompareRids);
	return rids;
}

/* Trigger: note where an inserted row is, for the next commit. */
PG_FUNCTION_INFO_V1(aisec_capture_row);
Datum
aisec_capture_row(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	NoteBuffer *nb;
	int64		rid;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by trigger manager",
						"aisec.capture_row")));
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_AFTER(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired AFTER INSERT FOR EACH ROW",
						"aisec.capture_row")));
	nb = notes_buffer_for(td->tg_relation);
	rid = history_slot_rid(td->tg_relation, nb->table_no, nb->ridatt, td->tg_trigslot);
	notes_add(nb, rid, &td->tg_trigslot->tts_tid, PENDING_AT);
	return PointerGetDatum(NULL);
}

/* ---------------------------------------------------------------------
 * Inserted rows in new blocks
 *
 * The row trigger costs each inserted row an event in the after-trigger
 * queue, a fetch of the row when the event fires and a function call,
 * about as much as the rest of capture together.  Most rows an INSERT or
 * COPY writes go into blocks it adds to the table.  So the statement's
 * BEFORE trigger records the table's size; the row trigger's WHEN
 * condition, capture_row_needed(), lets through only rows written into
 * older blocks (with room to spare); and the statement's AFTER trigger
 * notes the rows in the blocks added since: those the transaction
 * inserted and has not deleted again (not new versions made by an
 * UPDATE).  Rows another statement of the transaction wrote there (one
 * nested in this one) may be noted twice, at the same place, which the
 * commit takes as one.
 * ---------------------------------------------------------------------
 */

/* BEFORE INSERT statement trigger: remember the table's size. */
void
notes_insert_starts(Relation rel)
{
	InsertStart *start = MemoryContextAlloc(TopTransactionContext, sizeof(InsertStart));

	NoteCallbacks();
	start->relid = RelationGetRelid(rel);
	start->nblocks = RelationGetNumberOfBlocks(rel);
	start->subid = GetCurrentSubTransactionId();
	start->next = insert_starts;
	insert_starts = start;
}

/*
 * WHEN condition of the row trigger: whether an inserted row (its table,
 * its ctid) lies in a block the table had when the statement started, so
 * that the row trigger must note it.  True if no statement start is known
 * (rows applied by logical replication fire no statement trigger).
 */
PG_FUNCTION_INFO_V1(aisec_capture_row_needed);
Datum
aisec_capture_row_needed(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	ItemPointer tid = (ItemPointer) PG_GETARG_POINTER(1);

	for (InsertStart *start = insert_starts; start != NULL; start = start->next)
		if (start->relid == relid)
			PG_RETURN_BOOL(ItemPointerGetBlockNumberNoCheck(tid) < start->nblocks);
	PG_RETURN_BOOL(true);
}

/*
 * AFTER INSERT statement trigger: forget the statement's start and, if
 * scan, note the rows it (or one it ran) inserted into the blocks it added
 * to rel.
 */
void
notes_new_blocks(Relation rel, bool scan)
{
	Oid			relid = RelationGetRelid(rel);
	InsertStart **link = &insert_starts;
	BlockNumber from;
	BlockNumber to;
	NoteBuffer *nb;
	TupleDesc	desc = RelationGetDescr(rel);

	while (*link != NULL && (*link)->relid != relid)
		link = &(*link)->next;
	if (*link == NULL)
		return;
	{
		InsertStart *start = *link;

		from = start->nblocks;
		*link = start->next;
		pfree(start);
	}
	to = RelationGetNumberOfBlocks(rel);
	if (!scan || from >= to)
		return;
	nb = notes_buffer_for(rel);
	for (BlockNumber blk = from; blk < to; blk++)
	{
		Buffer		buf;
		Page		page;
		OffsetNumber maxoff;
		int			n = 0;
		OffsetNumber offs[MaxHeapTuplesPerPage];
		int64		rids[MaxHeapTuplesPerPage];
		bool		nulls[MaxHeapTuplesPerPage];

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(rel, blk);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageIsNew(page) ? InvalidOffsetNumber : PageGetMaxOffsetNumber(page);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		lp = PageGetItemId(page, off);
			HeapTupleData tup;
			HeapTupleHeader h;

			if (!ItemIdIsNormal(lp))
				continue;
			h = (HeapTupleHeader) PageGetItem(page, lp);
			ItemPointerSet(&tup.t_self, blk, off);

			/* Inserted by this transaction, not by an UPDATE. */
			if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmin(h)) ||
				(h->t_infomask & HEAP_UPDATED))
				continue;
			/* Deleted again (not updated: its update chain leads on). */
			if (!(h->t_infomask & HEAP_XMAX_INVALID) &&
				!HEAP_XMAX_IS_LOCKED_ONLY(h->t_infomask) &&
				!(h->t_infomask & HEAP_XMAX_IS_MULTI) &&
				TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetRawXmax(h)) &&
				ItemPointerEquals(&h->t_ctid, &tup.t_self))
				continue;
			tup.t_data = h;
			tup.t_len = ItemIdGetLength(lp);
			tup.t_tableOid = relid;
			offs[n] = off;
			rids[n] = DatumGetInt64(heap_getattr(&tup, nb->ridatt, desc, &nulls[n]));
			n++;
		}
		UnlockReleaseBuffer(buf);
		for (int i = 0; i < n; i++)
		{
			ItemPointerData tid;

			ItemPointerSet(&tid, blk, offs[i]);
			notes_add(nb, history_check_rid(rel, nb->table_no, rids[i], nulls[i]), &tid, PENDING_AT);
		}
	}
}
