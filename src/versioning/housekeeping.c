/*
 * housekeeping.c
 *		Taking things out of versioning: aisec.remove_table() (a table
 *		leaves its dataset), aisec.drop_dataset(), aisec.untrack() and
 *		aisec.untag().
 *
 * Invariant: committed versions never change.  So a table removed from a
 * dataset stays in the versions that included it (their history, records
 * and tags stay readable, and verify still checks them), and its history
 * can go only with those versions: untrack refuses while a committed
 * version includes it, and drop_dataset, which removes a dataset's
 * versions and tags, either keeps its tables' history (they stay tracked
 * in no dataset) or untracks them all.  Each takes AISEC_LOCK_VERSION_COMMIT
 * (exclusively, as commit does, or shared for untrack), so it serializes
 * with commits and with each other.  The design is in doc/versioning.md
 * ("Housekeeping").
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "audit/audit.h"
#include "version.h"

/* Refuse a NULL argument n, named what. */
static void
RequireArg(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
}

/*
 * Refuse to untrack a table the caller does not own: untracking drops its
 * aisec_rid column and capture triggers as the caller (keep is the
 * hint's alternative).  Checked before anything changes.
 */
static void
RequireOwner(Oid relid, const char *alternative)
{
#if PG_VERSION_NUM >= 160000
	bool		owner = object_ownercheck(RelationRelationId, relid, GetUserId());
#else
	bool		owner = pg_class_ownercheck(relid, GetUserId());
#endif

	if (!owner)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
		Oid			owner_id;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for relation %u", relid);
		owner_id = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot untrack table \"%s\": role \"%s\" does not own it",
						get_rel_name(relid), GetUserNameFromId(GetUserId(), false)),
				 errdetail("Untracking drops the table's column \"%s\" and its capture triggers, which only its owner may do.",
						   RID_COLUMN),
				 errhint("Run this as the table's owner (or a member of the owning role %s)%s.",
						 quote_identifier(GetUserNameFromId(owner_id, false)),
						 alternative)));
	}
}

/*
 * The tracked tables whose history dataset ds holds: its tables and those
 * removed from it that its committed versions include (in no dataset
 * now), in table_no order (palloc'd).
 */
static TrackedTable *
DatasetHistories(const Dataset *ds, int *n, Snapshot snap)
{
	return version_tables_of("SELECT t.table_no FROM aisec.tracked t "
							 "WHERE t.dataset_id = $1 OR (t.dataset_id IS NULL AND EXISTS "
							 "(SELECT FROM aisec.version_table v "
							 " WHERE v.dataset_id = $1 AND v.table_no = t.table_no)) "
							 "ORDER BY t.table_no",
							 ds->id, n, snap);
}

/* A JSON array of the tables' qualified names. */
static char *
TableList(const TrackedTable *tables, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '[');
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "",
						 version_json_string(aisec_qualified_name(tables[i].relid)));
	appendStringInfoChar(&buf, ']');
	return buf.data;
}

/* SQL: aisec.remove_table(dataset, rel): the table leaves the dataset. */
PG_FUNCTION_INFO_V1(aisec_remove_table);
Datum
aisec_remove_table(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			relid;
	Snapshot	snap;
	AisecSpi	spi;
	Dataset		ds;
	TrackedTable tt;
	int			ntables;
	char	   *qrel;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.remove_table()");
	aisec_prevent_if_read_only("aisec.remove_table()");
	name = version_dataset_name(fcinfo, 0);
	version_check_name(name, false);
	RequireArg(fcinfo, 1, "table to remove");
	relid = PG_GETARG_OID(1);

	/* Serialize with commits (and wait for writers), then read the latest. */
	aisec_lock(AISEC_LOCK_VERSION_COMMIT);
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	if (!history_lookup(relid, &tt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not tracked", get_rel_name(relid))));
	if (tt.dataset_id != ds.id)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not in dataset \"%s\"", get_rel_name(relid), ds.name),
				 tt.dataset_id == 0 ?
				 errdetail("It is in no dataset.") :
				 errdetail("It is in dataset \"%s\".",
						   version_load_dataset_by_id(tt.dataset_id, snap).name)));
	(void) version_dataset_tables(ds.id, &ntables, snap);
	if (ntables == 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot remove table \"%s\": it is the last table of dataset \"%s\"",
						get_rel_name(relid), ds.name),
				 errhint("Drop the dataset with aisec.drop_dataset() instead.")));
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1] = {Int32GetDatum(tt.table_no)};

		(void) aisec_spi_run("UPDATE aisec.tracked SET dataset_id = NULL WHERE table_no = $1",
							 true, 1, types, values, NULL, snap);
	}
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);

	qrel = aisec_qualified_name(relid);
	aisec_audit_log("version.remove_table", ds.name,
					psprintf("{\"dataset_id\": %d, \"table\": %s, \"table_no\": %d, "
							 "\"head\": " INT64_FORMAT "}",
							 ds.id, version_json_string(qrel), tt.table_no, ds.head));
	PG_RETURN_VOID();
}

/*
 * SQL: aisec.drop_dataset(name, keep_history) removes a dataset, its
 * versions and its tags; its tables stay tracked in no dataset with their
 * history, or (keep_history false) are untracked and their history dropped.
 */
PG_FUNCTION_INFO_V1(aisec_drop_dataset);
Datum
aisec_drop_dataset(PG_FUNCTION_ARGS)
{
	char	   *name;
	bool		keep;
	Snapshot	snap;
	AisecSpi	spi;
	Dataset		ds;
	TrackedTable *tables;
	int			ntables;
	char	   *hash = NULL;
	char	   *listed;
	Oid			types[1] = {INT4OID};
	Datum		values[1];

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.drop_dataset()");
	aisec_prevent_if_read_only("aisec.drop_dataset()");
	name = version_dataset_name(fcinfo, 0);
	version_check_name(name, false);
	RequireArg(fcinfo, 1, "keep_history");
	keep = PG_GETARG_BOOL(1);

	/*
	 * Untracking changes the tables themselves.  Lock them first against
	 * writers (ShareRowExclusiveLock waits for statements writing them and
	 * keeps new ones out before they take the commit lock, lets commits
	 * read them, and serializes two drops), then take the commit lock.
	 */
	if (!keep)
	{
		aisec_spi_begin(&spi);
		snap = RegisterSnapshot(GetLatestSnapshot());
		ds = version_load_dataset(name, snap);
		tables = DatasetHistories(&ds, &ntables, snap);
		UnregisterSnapshot(snap);
		aisec_spi_end(&spi);
		for (int i = 0; i < ntables; i++)
		{
			RequireOwner(tables[i].relid, ", or keep the history with keep_history => true");
			LockRelationOid(tables[i].relid, ShareRowExclusiveLock);
		}
	}
	aisec_lock(AISEC_LOCK_VERSION_COMMIT);
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	tables = DatasetHistories(&ds, &ntables, snap);
	values[0] = Int32GetDatum(ds.id);
	if (ds.head > 0)
	{
		Oid			t2[2] = {INT4OID, INT8OID};
		Datum		v2[2] = {Int32GetDatum(ds.id), Int64GetDatum(ds.head)};
		bool		isnull;

		if (aisec_spi_run("SELECT pg_catalog.encode(commit_hash, 'hex') FROM aisec.version "
						  "WHERE dataset_id = $1 AND version = $2",
						  true, 2, t2, v2, NULL, snap) == 1)
			hash = TextDatumGetCString(aisec_spi_value(0, 0, &isnull));
	}
	(void) aisec_spi_run("DELETE FROM aisec.tag WHERE dataset_id = $1",
						 true, 1, types, values, NULL, snap);
	(void) aisec_spi_run("DELETE FROM aisec.version_table WHERE dataset_id = $1",
						 true, 1, types, values, NULL, snap);
	(void) aisec_spi_run("DELETE FROM aisec.version WHERE dataset_id = $1",
						 true, 1, types, values, NULL, snap);
	/* A revert's note for the next commit, which will not come. */
	(void) aisec_spi_run("DELETE FROM aisec.pending_note WHERE dataset_id = $1",
						 true, 1, types, values, NULL, snap);
	(void) aisec_spi_run("UPDATE aisec.tracked SET dataset_id = NULL WHERE dataset_id = $1",
						 true, 1, types, values, NULL, snap);
	(void) aisec_spi_run("DELETE FROM aisec.dataset WHERE id = $1",
						 true, 1, types, values, NULL, snap);
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);
	listed = TableList(tables, ntables);

	/* No committed version includes them any more: untrack them. */
	if (!keep)
	{
		CommandCounterIncrement();
		for (int i = 0; i < ntables; i++)
		{
			RequireOwner(tables[i].relid, ", or keep the history with keep_history => true");
			LockRelationOid(tables[i].relid, AccessExclusiveLock);
			history_untrack(tables[i].relid, &tables[i]);
			CommandCounterIncrement();
		}
	}

	aisec_audit_log("version.drop_dataset", ds.name,
					psprintf("{\"dataset_id\": %d, \"head\": " INT64_FORMAT ", \"commit_hash\": %s, "
							 "\"keep_history\": %s, \"tables\": %s}",
							 ds.id, ds.head, hash ? version_json_string(hash) : "null",
							 keep ? "true" : "false", listed));
	PG_RETURN_VOID();
}

/*
 * Refuse to untrack a table that is not tracked, is in a dataset, or whose
 * history committed versions include; otherwise fill tt.
 */
static void
CheckUntrackable(Oid relid, TrackedTable *tt)
{
	AisecSpi	spi;
	Snapshot	snap;
	int32		dataset_id;
	int64		last;

	if (!history_lookup(relid, tt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not tracked", get_rel_name(relid))));
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	if (tt->dataset_id != 0)
	{
		Dataset		ds = version_load_dataset_by_id(tt->dataset_id, snap);

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot untrack table \"%s\": it belongs to dataset \"%s\"",
						get_rel_name(relid), ds.name),
				 ds.head > 0 ?
				 errdetail("Versions 1 to " INT64_FORMAT " of the dataset include its history, so once removed from the dataset it stays tracked as long as they exist.",
						   ds.head) : 0,
				 errhint("Remove it from the dataset first: SELECT aisec.remove_table(%s, %s);",
						 quote_literal_cstr(ds.name),
						 quote_literal_cstr(aisec_qualified_name(relid)))));
	}
	if (version_including_table(tt->table_no, &dataset_id, &last, snap))
	{
		Dataset		ds = version_load_dataset_by_id(dataset_id, snap);

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot untrack table \"%s\": committed versions include its history",
						get_rel_name(relid)),
				 errdetail("Versions 1 to " INT64_FORMAT " of dataset \"%s\" include it, and committed versions never change.",
						   last, ds.name),
				 errhint("Copy what you need with aisec.materialize(), then SELECT aisec.drop_dataset(%s, keep_history => false); or keep the table tracked.",
						 quote_literal_cstr(ds.name))));
	}
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);
}

/*
 * SQL: aisec.untrack(rel) stops governing a table that is in no dataset
 * and whose history no committed version includes.
 */
PG_FUNCTION_INFO_V1(aisec_untrack);
Datum
aisec_untrack(PG_FUNCTION_ARGS)
{
	Oid			relid;
	TrackedTable tt;
	char	   *qrel;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.untrack()");
	aisec_prevent_if_read_only("aisec.untrack()");
	RequireArg(fcinfo, 0, "table to untrack");
	relid = PG_GETARG_OID(0);

	/*
	 * Refuse at once what is refused anyway (without waiting for a lock a
	 * commit of the table's dataset may need).  Then the table (ALTER TABLE
	 * below refuses a table this backend holds open), then the commit lock
	 * shared: no dataset change (create, remove_table, drop, commit) runs
	 * meanwhile, while writers of other tables, who share it too, go on;
	 * and check again.
	 */
	CheckUntrackable(relid, &tt);
	RequireOwner(relid, "");
	LockRelationOid(relid, AccessExclusiveLock);
	aisec_lock_shared(AISEC_LOCK_VERSION_COMMIT);
	CheckUntrackable(relid, &tt);
	qrel = aisec_qualified_name(relid);

	history_untrack(relid, &tt);
	aisec_audit_log("version.untrack", qrel,
					psprintf("{\"table_no\": %d}", tt.table_no));
	PG_RETURN_VOID();
}

/* SQL: aisec.untag(dataset, tag) removes a tag; returns the version it named. */
PG_FUNCTION_INFO_V1(aisec_untag);
Datum
aisec_untag(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *tag;
	int64		version;
	Snapshot	snap;
	AisecSpi	spi;
	Dataset		ds;
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2];

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.untag()");
	aisec_prevent_if_read_only("aisec.untag()");
	name = version_dataset_name(fcinfo, 0);
	version_check_name(name, false);
	RequireArg(fcinfo, 1, "tag");
	tag = text_to_cstring(PG_GETARG_TEXT_PP(1));
	version_check_name(tag, true);

	aisec_lock(AISEC_LOCK_VERSION_COMMIT);
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	version = version_of_tag(&ds, tag, snap);
	values[0] = Int32GetDatum(ds.id);
	values[1] = CStringGetTextDatum(tag);
	(void) aisec_spi_run("DELETE FROM aisec.tag WHERE dataset_id = $1 AND tag = $2",
						 true, 2, types, values, NULL, snap);
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);

	aisec_audit_log("version.untag", ds.name,
					psprintf("{\"version\": " INT64_FORMAT ", \"tag\": %s}",
							 version, version_json_string(tag)));
	PG_RETURN_INT64(version);
}
