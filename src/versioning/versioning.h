/*
 * versioning.h
 *		The door of src/versioning/: what other folders may use.  Row ids
 *		and the tracked table a row id or a relation names (for lineage and
 *		erasure, which speak in row ids), row hashing, and the planner hook
 *		the module installs at load time.  Everything else of the folder
 *		(history records, capture, datasets and versions) is private to it
 *		and declared in its own headers (history.h, ...).
 */
#ifndef AISEC_VERSIONING_H
#define AISEC_VERSIONING_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "nodes/pg_list.h"
#include "utils/snapshot.h"

/* aisec_rid = table_no << RID_TABLE_SHIFT | n, with n >= 1 */
#define RID_TABLE_SHIFT		40
#define RID_TABLE_MAX		((1 << 23) - 1)
#define RID_COLUMN			"aisec_rid"

/* One row of aisec.tracked. */
typedef struct TrackedTable
{
	int32		table_no;
	Oid			relid;
	Oid			history;		/* history_<n> */
	Oid			ended;			/* history_<n>_ended */
	int64		pending;		/* the pending version */
	int32		dataset_id;		/* 0 if in no dataset */
} TrackedTable;

/* track.c: find a tracked table by relation or table number (latest snapshot). */
extern bool history_lookup(Oid relid, TrackedTable *out);
extern bool history_lookup_at(Oid relid, Snapshot snap, TrackedTable *out);
extern bool history_pending_changed(int32 table_no, int64 version, Snapshot snap);
extern bool history_lookup_no(int32 table_no, TrackedTable *out);

/* rowhash.c: hash = SHA-256(salt || canonical encoding of the row). */
#define ROW_SALT_LEN		16

typedef struct RowEncoder RowEncoder;

extern RowEncoder *history_encoder(TupleDesc desc, const int16 *numbers);
extern void history_encoder_done(RowEncoder *enc);
extern void history_row_hash(RowEncoder *enc, Datum *values, bool *nulls,
							 const uint8 *salt, uint8 *hash);

/*
 * verify.c: which redacted history records a recorded erasure authorizes.
 * aisec.verify() accepts a history record without salt or row (its hash
 * kept) only if the registered check says a recorded erasure removed them;
 * with none registered, none.  Erasure registers its check at load time
 * (aisec_erasure_init), as keys registers the digest signer with the
 * audit log, so versioning never includes erasure.
 */
typedef bool (*AisecRedactionCheck) (int32 table_no, int64 rid, int64 valid_from);

extern void aisec_versioning_set_redaction_check(AisecRedactionCheck check);

/*
 * track.c: what versioning tells erasure when aisec.track() of relid has
 * made its history (tt) and recorded its rows there, holding a lock on
 * relid that keeps its columns as they are: erasure builds the history's
 * subject indexes (doc/erasure.md).  Erasure registers it at load time
 * (aisec_erasure_init), so versioning never includes erasure; with none
 * registered, nothing is called.
 */
typedef void (*AisecVersionTracked) (Oid relid, const TrackedTable *tt);

extern void aisec_versioning_set_tracked(AisecVersionTracked tracked);

/*
 * redact.c: erasure's redaction of the history records of some rows
 * (rids: an int8[] Datum) of a tracked table: data and salt set to NULL,
 * hash kept.  Returns the number of records redacted.
 */
extern int64 aisec_history_redact(const TrackedTable *tt, Datum rids);

/*
 * redact.c: the row ids of a tracked table whose history a recorded
 * erasure redacted, for aisec.manifest()'s redacted_rows: *n row ids in a
 * palloc'd array (NULL if none), read with snap.  Erasure registers it at
 * load time with its redaction check; with none registered, manifest
 * counts no redacted rows.
 */
typedef int64 *(*AisecErasedRids) (int32 table_no, Snapshot snap, int *n);

extern void aisec_versioning_set_erased_rids(AisecErasedRids erased);

/*
 * checkout_masked.c: reading versions masked.  A role that may not read a
 * table's raw rows (a masked role, or one without SELECT on the table
 * that may read its masked view) reads its versions through the masked
 * view's row type, aisec.checkout(NULL::aisec_masked.t, v), masked as the
 * view masks the live rows.  What versioning needs to know of masking
 * comes from these callbacks, which masking registers at load time (as
 * keys registers the digest signer with the audit log), so versioning
 * never includes masking.  With none registered, nothing is masked and no
 * relation is a masked view.
 */
typedef struct AisecVersionMasking
{
	/* Whether the current user reads governed tables only masked. */
	bool		(*masked_user) (void);
	/* The masked view of table relid, or InvalidOid. */
	Oid			(*view_of) (Oid relid);
	/* The table that masked view view masks, or InvalidOid. */
	Oid			(*table_of) (Oid view);

	/*
	 * One expression per column of masked view view, in order, over a row
	 * of table relid (its Vars read the scan tuple, whatever their varno):
	 * the view's own expression, except that a column the view passes
	 * through unmasked is masked with the rule recorded in the version
	 * (recorded: the version's aisec.version_table.columns, jsonb text), or
	 * NULL of the column's type where that rule cannot give its type.
	 */
	List	   *(*columns) (Oid view, Oid relid, const char *recorded);
} AisecVersionMasking;

extern void aisec_versioning_set_masking(const AisecVersionMasking *masking);

/*
 * track.c: what versioning tells row lineage.  Lineage registers these at
 * load time (as masking registers the callbacks above), so versioning
 * never includes lineage; with none registered, a table that already has
 * an aisec_rid column cannot be tracked and materialize records nothing.
 *
 * materialized: aisec.materialize() copied version `version` of tracked
 * table relid (number table_no) into the new table target.
 *
 * copy_tracked: aisec.track() of relid, which arrived with a plain bigint
 * aisec_rid column (a copy of a tracked table's rows), has made that
 * column its row id and given its n rows new ids, rids[i] in table number
 * table_no, each having carried the id carried[i] (0: none).
 */
typedef struct AisecVersionLineage
{
	void		(*materialized) (Oid relid, int32 table_no, int64 version, Oid target);
	void		(*copy_tracked) (Oid relid, int32 table_no, int n,
								 const int64 *rids, const int64 *carried);
} AisecVersionLineage;

extern void aisec_versioning_set_lineage(const AisecVersionLineage *lineage);

/*
 * dataset.c: aisec.manifest()'s "upstream", which lineage registers at load
 * time: a jsonb object {"upstream": [...]} for a version of a dataset, read
 * through snap (called inside aisec_spi_begin/_end).  With none registered
 * the manifest's upstream is an empty array.
 */
typedef Datum (*AisecVersionUpstream) (int32 dataset_id, int64 version, Snapshot snap);

extern void aisec_versioning_set_upstream(AisecVersionUpstream upstream);

/* checkout_scan.c: the planner hook that reads aisec.checkout() without a tuplestore. */
extern void aisec_checkout_scan_init(void);

#endif							/* AISEC_VERSIONING_H */
