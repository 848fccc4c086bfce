/*
 * notes.h
 *		Private to src/versioning/: the notes that rows written since the
 *		last commit leave for it (notes.c), as capture.c makes them and
 *		pending.c reads them.
 */
#ifndef AISEC_NOTES_H
#define AISEC_NOTES_H

#include "postgres.h"

#include "storage/itemptr.h"
#include "utils/relcache.h"

/* What an entry of aisec.pending_row says about a row id. */
#define PENDING_AT		'i'		/* inserted; its tuple was at tid */
#define PENDING_MOVED	'u'		/* updated; where to, not noted */
#define PENDING_GONE	'd'		/* deleted */
#define PENDING_ENDS	'e'		/* updated, new record written; the open
								 * committed record ends at commit */

/* One note, as read back from aisec.pending_row. */
typedef struct PendingNote
{
	int64		rid;
	ItemPointerData tid;
	char		kind;
	int32		order;			/* position among a commit's entries */
} PendingNote;

/* The unwritten notes on one tracked table from one (sub)transaction. */
typedef struct NoteBuffer NoteBuffer;

extern NoteBuffer *notes_buffer_for(Relation rel);
extern void notes_add(NoteBuffer *nb, int64 rid, ItemPointer tid, char kind);
extern void notes_flush(Oid relid, SubTransactionId subid);
extern bool notes_unwritten(Oid relid);
extern void notes_forget(Oid relid);
extern void notes_insert_starts(Relation rel);
extern void notes_new_blocks(Relation rel, bool scan);
extern void notes_read_pending(bytea *entries, PendingNote **notes, int *n, int *size);

/* aisec.revert() bringing rows back with their old row ids (revert.c). */
extern void notes_restore_begin(Oid relid, const int64 *rids, int n);
extern void notes_restore_end(void);
extern bool notes_restoring(Oid relid);
extern int64 *notes_pending_rids(int32 table_no, char kind, int *n);

#endif							/* AISEC_NOTES_H */
