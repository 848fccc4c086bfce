/*
 * version.h
 *		Private to src/versioning/: datasets and their versions, as the
 *		version files (dataset.c, commit.c, checkout.c, diff.c, verify.c)
 *		and checkout_scan.c, checkout_masked.c share them.
 */
#ifndef AISEC_VERSION_H
#define AISEC_VERSION_H

#include "postgres.h"

#include "access/htup.h"
#include "fmgr.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "history.h"

/* Longest dataset or tag name, and longest commit message or description. */
#define MAX_NAME_LEN		100
#define MAX_MESSAGE_LEN		10000

/* A dataset, as read from aisec.dataset. */
typedef struct Dataset
{
	int32		id;
	int64		head;
	char	   *name;
	bool		removed;		/* read for a table removed from it: head is
								 * the last version that includes the table */
} Dataset;

/* One table of a version, as committed or recomputed. */
typedef struct VersionTable
{
	int32		table_no;
	Oid			relid;
	char	   *name;
	int64		rows;
	Fingerprint fp;
	char	   *columns;		/* jsonb text */
} VersionTable;

/* dataset.c */
extern char *version_hex(const uint8 *data, size_t len);
extern void version_read_hash(Datum d, uint8 *out, const char *table, const char *column);
extern char *version_dataset_name(FunctionCallInfo fcinfo, int n);
extern void version_check_name(const char *name, bool tag);
extern char *version_json_string(const char *s);
extern Dataset version_load_dataset(const char *name, Snapshot snap);
extern Dataset version_load_dataset_by_id(int32 id, Snapshot snap);
extern void version_check(const Dataset *ds, int64 version, bool allow_zero);
extern Dataset version_table_dataset(Oid relid, TrackedTable *tt, Snapshot snap);
extern void version_require_select(Oid relid);
extern void version_require_no_rls(Oid relid);
extern TrackedTable *version_dataset_tables(int32 dataset_id, int *ntables, Snapshot snap);
extern TrackedTable *version_tables_of(const char *query, int32 dataset_id, int *ntables,
									   Snapshot snap);
extern int64 version_of_tag(const Dataset *ds, const char *tag, Snapshot snap);
extern bool version_including_table(int32 table_no, int32 *dataset_id, int64 *last,
									Snapshot snap);

/* status.c: rows changed since the last commit (aisec.status) */
typedef struct PendingCounts
{
	int64		inserted;
	int64		updated;
	int64		deleted;
} PendingCounts;

extern void version_pending_counts(const TrackedTable *tt, int64 pending, Snapshot snap,
								   PendingCounts *out);

/* commit.c */
extern void version_commit_hash(const uint8 *parent_hash, const char *dataset,
								int64 version, int64 parent, TimestampTz at,
								const char *by, const char *message,
								VersionTable *tables, int ntables, uint8 *out);

/* redact.c: the rows of a committed version whose records are redacted */
extern int64 version_redacted_rows(const TrackedTable *tt, int64 version, Snapshot snap);

/* checkout.c: reading a committed version of a tracked table */
typedef struct CheckoutReader CheckoutReader;

extern CheckoutReader *version_checkout_begin(Oid rowtype, Oid versiontype, Datum version,
											  bool isnull, Snapshot snap);
extern HeapTuple version_checkout_next(CheckoutReader *r);
extern void version_checkout_rescan(CheckoutReader *r);
extern void version_checkout_end(CheckoutReader *r);

/* checkout_masked.c: who reads versions raw, who masked; masked rows */
typedef struct MaskedRows MaskedRows;

extern bool version_masked_user(void);
extern Oid	version_masked_view_of(Oid relid);
extern Oid	version_masked_table_of(Oid view);
extern void version_require_reader(const char *function_name);
extern void version_require_masked_select(Oid view, Oid relid);
extern MaskedRows *version_masked_begin(Oid view, Oid relid, const char *recorded);
extern HeapTuple version_masked_row(MaskedRows *m, HeapTuple row);
extern void version_masked_end(MaskedRows *m);

#endif							/* AISEC_VERSION_H */
