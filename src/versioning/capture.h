/*
 * capture.h
 *		Private to the capture files of src/versioning/ (capture.c,
 *		openrecords.c, pending.c): one capturing statement's state and the
 *		functions that write history records and find open ones.
 */
#ifndef AISEC_CAPTURE_H
#define AISEC_CAPTURE_H

#include "postgres.h"

#include "access/genam.h"
#include "catalog/indexing.h"
#include "utils/tuplestore.h"

#include "history.h"

/* History records buffered before a multi-insert (or until capture_end). */
#define CAPTURE_BATCH		1000
#define CAPTURE_BATCH_BYTES	(4 * 1024 * 1024)

/* What one capturing statement needs while it walks its rows. */
typedef struct Capture
{
	TrackedTable tt;
	Relation	rel;
	TupleDesc	desc;
	AttrNumber	ridatt;
	Relation	hrel;			/* history_<n> */
	CatalogIndexState hind;
	Relation	ridx;			/* btree on history.rid */
	Relation	erel;			/* history_<n>_ended */
	CatalogIndexState eind;
	IndexScanDesc scan;
	TupleTableSlot *hslot;
	Snapshot	snap;
	RowEncoder *enc;
	MemoryContext stmtcxt;		/* the statement's: slots, scan */
	MemoryContext rowcxt;		/* reset per row */
	MemoryContext batchcxt;		/* buffered tuples; reset per flush */
	TupleDesc	hdesc;			/* unpinned copies for the buffer slots */
	TupleDesc	edesc;
	TupleTableSlot *hbuf[CAPTURE_BATCH];
	int			nh;
	TupleTableSlot *ebuf[CAPTURE_BATCH];
	int			ne;
	Fingerprint delta;
	int64		rows;
	bool		changed;		/* record the change even if it nets to zero */
	struct openrec_hash *open;	/* open records looked up in one pass */
	uint64	   *filter;			/* bits set for the ids looked up */
	int			filter_shift;	/* 64 - log2(bits in filter) */
	int64	   *rids;			/* the ids looked up, in the rows' order */
	bool	   *skip;			/* NULL, or rids[i] comes again later */
	bool		passed;			/* open records found by open_records_find */
	MemoryContext opencxt;
} Capture;

/* capture.c */
extern void capture_begin(Capture *c, Relation rel, const TrackedTable *tt);
extern void capture_end(Capture *c);
extern void capture_insert(Capture *c, TupleTableSlot *slot);
extern void capture_end_record(Capture *c, int64 rid, int64 from);
extern int64 capture_row_rid(Capture *c, TupleTableSlot *slot);
extern bool capture_next_transition(Tuplestorestate *ts, int ptr, TupleTableSlot *slot);

/* openrecords.c */
extern bool open_records_latest(Capture *c, int64 rid, int64 below, int64 *from,
								ItemPointer tid, uint8 *hash);
extern int64 open_records_max(void);
extern bool open_records_by_scan(Capture *c, int64 n);
extern void open_records_look_up(Capture *c, Tuplestorestate *ts, int ptr,
								 TupleTableSlot *slot, const int64 *rids, int64 n);
extern void open_records_refuse_repeated(Capture *c, Tuplestorestate *ts, int ptr,
										 TupleTableSlot *slot, int64 n);
extern void open_records_find(Capture *c, int64 below);
extern int64 open_records_found(Capture *c, int64 rid, ItemPointer tid);
extern void open_records_forget(Capture *c);
extern int	history_compare_rids(const void *a, const void *b);
extern int64 history_repeated_rid(int64 *rids, int64 n);

#endif							/* AISEC_CAPTURE_H */
