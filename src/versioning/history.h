/*
 * history.h
 *		Private to src/versioning/: history tables, the registry's columns,
 *		fingerprints, and what the files that keep history (rowhash.c,
 *		track.c, openrecords.c, capture.c, notes.c, pending.c, guard.c,
 *		lifecycle.c)
 *		share with each other and with the version files.  Other folders
 *		include versioning/versioning.h instead.  The design is in
 *		doc/versioning.md ("Design note").
 */
#ifndef AISEC_HISTORY_H
#define AISEC_HISTORY_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"
#include "utils/snapshot.h"

#include "core/core.h"
#include "versioning.h"

/* The hash of a row id, for simplehash tables keyed by aisec_rid. */
#define HISTORY_RID_HASH(rid) \
	hash_combine(murmurhash32((uint32) (rid)), murmurhash32((uint32) ((uint64) (rid) >> 32)))

/* Row ids a backend takes from the table's sequence at a time (gaps ok). */
#define RID_CACHE			1000

/* Columns of aisec.tracked, in table order. */
enum
{
	TR_TABLE_NO = 0,
	TR_REL,
	TR_HISTORY,
	TR_PENDING,
	TR_DATASET,
	TR_COLUMNS,
	TR_TRACKED_AT,
	TR_TRACKED_BY,
	TR_ENDED,
	TR_HASH_COLUMNS,
	TR_NCOLS
};

/* Columns of every history table, in table order. */
enum
{
	HC_RID = 0,
	HC_VALID_FROM,
	HC_SALT,
	HC_HASH,
	HC_DATA,
	HC_NCOLS
};

/* Columns of every ended-records table (history_<n>_ended), in order. */
enum
{
	EC_RID = 0,
	EC_VALID_FROM,
	EC_VALID_TO,
	EC_NCOLS
};

/* A 256-bit fingerprint: row hashes summed mod 2^256, big-endian. */
typedef struct Fingerprint
{
	uint8		b[SHA256_LEN];
} Fingerprint;

/* rowhash.c */
extern void fingerprint_add(Fingerprint *acc, const uint8 *h);
extern void fingerprint_sub(Fingerprint *acc, const uint8 *h);
extern void history_check_encodable(Relation rel, Form_pg_attribute att);
extern void history_check_heap(Relation rel);
extern bool history_type_holds(Oid typid, Oid scalar);
extern Datum history_bytea(const uint8 *data, size_t len);

/* track.c */
extern void history_require_tracked(Relation rel, TrackedTable *out);
extern AttrNumber history_rid_attnum(Relation rel);
extern int64 history_check_rid(Relation rel, int32 table_no, int64 rid, bool isnull);
extern int64 history_slot_rid(Relation rel, int32 table_no, AttrNumber ridatt,
							  TupleTableSlot *slot);
extern Datum history_live_attnums(TupleDesc desc);
extern int16 *history_hash_numbers(int32 table_no, TupleDesc desc);
extern void history_untrack(Oid relid, const TrackedTable *tt);
extern const AisecVersionLineage *history_lineage(void);

/* lifecycle.c: what track() checks before it changes anything */
extern void history_track_precheck(Relation rel);
extern bool history_table_no_taken(int32 table_no);

/* openrecords.c: where history records ended, (rid, valid_from) -> valid_to */
typedef struct EndedMap EndedMap;

extern EndedMap *history_ended_map(const TrackedTable *tt, int64 upto, Snapshot snap);
extern int64 history_ended_at(EndedMap *map, int64 rid, int64 valid_from);
extern void history_ended_map_free(EndedMap *map);
extern Relation history_open_rid_index(Relation hrel);
extern int64 history_max_recorded_rid(Relation hrel, Relation ridx, Snapshot snap,
									  TupleTableSlot *slot);

/* capture.c */
extern int64 history_capture_existing(Relation rel, const TrackedTable *tt);
extern void history_capture_restored(Relation rel, const int64 *rids,
									 const ItemPointerData *tids, int n);

/* pending.c */
extern int64 history_capture_pending(const TrackedTable *tt);

#endif							/* AISEC_HISTORY_H */
