/*
 * history.h
 *		Tracked tables, row ids, row hashes and fingerprints: what the
 *		version code (version.c) and later lineage and erasure build on.
 *		The design is in doc/versioning.md ("Design note").
 */
#ifndef AISEC_HISTORY_H
#define AISEC_HISTORY_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/snapshot.h"

#include "core/core.h"

/* aisec_rid = table_no << RID_TABLE_SHIFT | n */
#define RID_TABLE_SHIFT		40
#define RID_TABLE_MAX		((1 << 23) - 1)
#define RID_COLUMN			"aisec_rid"
#define ROW_SALT_LEN		16
/* Row ids a backend takes from the table's sequence at a time (gaps ok). */
#define RID_CACHE			1000

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

/* One row of aisec.tracked. */
typedef struct TrackedTable
{
	int32		table_no;
	Oid			relid;
	Oid			history;
	Oid			ended;			/* history_<n>_ended */
	int64		pending;
	int32		dataset_id;		/* 0 if in no dataset */
} TrackedTable;

/* How to encode a table's rows canonically (history.c, EncodeRow). */
typedef struct RowEncoder RowEncoder;

/* A 256-bit fingerprint: row hashes summed mod 2^256, big-endian. */
typedef struct Fingerprint
{
	uint8		b[SHA256_LEN];
} Fingerprint;

extern bool history_lookup(Oid relid, TrackedTable *out);
extern bool history_lookup_no(int32 table_no, TrackedTable *out);

extern int64 history_capture_pending(const TrackedTable *tt);
extern Relation history_open_rid_index(Relation hrel);

extern RowEncoder *history_encoder(TupleDesc desc);
extern void history_encoder_done(RowEncoder *enc);
extern void history_row_hash(RowEncoder *enc, Datum *values, bool *nulls,
							 const uint8 *salt, uint8 *hash);

/* Where history records ended: (rid, valid_from) -> valid_to (history.c). */
typedef struct EndedMap EndedMap;

extern EndedMap *history_ended_map(const TrackedTable *tt, int64 upto, Snapshot snap);
extern int64 history_ended_at(EndedMap *map, int64 rid, int64 valid_from);
extern void history_ended_map_free(EndedMap *map);

extern void fingerprint_add(Fingerprint *acc, const uint8 *h);
extern void fingerprint_sub(Fingerprint *acc, const uint8 *h);

/* Reading a committed version of a tracked table (version.c). */
typedef struct CheckoutReader CheckoutReader;

extern CheckoutReader *version_checkout_begin(Oid rowtype, Oid versiontype, Datum version,
											  bool isnull, Snapshot snap);
extern HeapTuple version_checkout_next(CheckoutReader *r);
extern void version_checkout_rescan(CheckoutReader *r);
extern void version_checkout_end(CheckoutReader *r);

/* The planner hook that reads aisec.checkout() without a tuplestore. */
extern void aisec_checkout_scan_init(void);

#endif							/* AISEC_HISTORY_H */
