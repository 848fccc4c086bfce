/*
 * history.h
 *		Tracked tables, row ids, row hashes and fingerprints: what the
 *		version code (version.c) and later lineage and erasure build on.
 *		The design is in doc/versioning.md ("Design note").
 */
#ifndef AISEC_HISTORY_H
#define AISEC_HISTORY_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/snapshot.h"

#include "crypto.h"

/* aisec_rid = table_no << RID_TABLE_SHIFT | n */
#define RID_TABLE_SHIFT		40
#define RID_TABLE_MAX		((1 << 23) - 1)
#define RID_COLUMN			"aisec_rid"
#define ROW_SALT_LEN		16

/* Columns of every history table, in table order. */
enum
{
	HC_RID = 0,
	HC_VALID_FROM,
	HC_VALID_TO,
	HC_SALT,
	HC_HASH,
	HC_DATA,
	HC_NCOLS
};

/* One row of aisec.tracked. */
typedef struct TrackedTable
{
	int32		table_no;
	Oid			relid;
	Oid			history;
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

extern RowEncoder *history_encoder(TupleDesc desc);
extern void history_encoder_done(RowEncoder *enc);
extern void history_row_hash(RowEncoder *enc, Datum *values, bool *nulls,
							 const uint8 *salt, uint8 *hash);

extern void fingerprint_add(Fingerprint *acc, const uint8 *h);
extern void fingerprint_sub(Fingerprint *acc, const uint8 *h);

/* SPI helpers for aisec's own fixed queries (history.c). */
typedef struct AisecSpi
{
	int			guc_nest;
} AisecSpi;

extern void aisec_spi_begin(AisecSpi *s);
extern void aisec_spi_end(AisecSpi *s);
extern int	aisec_spi_run(const char *sql, bool as_owner, int nargs,
						  Oid *types, Datum *values, const char *nulls,
						  Snapshot snap);
extern Datum aisec_spi_value(int row, int col, bool *isnull);
extern char *aisec_qualified_name(Oid relid);

#endif							/* AISEC_HISTORY_H */
