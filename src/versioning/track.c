/*
 * track.c
 *		Tracked tables: the registry (aisec.tracked) and its lookups, row
 *		ids, aisec.track() and aisec.rid_table(), and what untracking
 *		drops (aisec.untrack() itself is in housekeeping.c).
 *
 * The design is in doc/versioning.md ("Design note").  Invariants:
 *
 * - A tracked table has a column aisec_rid, GENERATED ALWAYS AS IDENTITY,
 *   whose values are table_no << RID_TABLE_SHIFT | n: a row id names one
 *   row of one table for the life of the table, and tells the table.
 *   A BRIN index on it leads from a row id to the live row.
 * - Each tracked table has two tables in schema aisec, owned by the
 *   extension owner: its history (history_<n>) and its ended records
 *   (history_<n>_ended).  Both are heap tables whatever
 *   default_table_access_method names, because capture writes them with
 *   heap functions; their statement triggers refuse every direct write.
 * - Tracking gives every existing row an open history record in the
 *   first pending version; untracking, possible once the table is in no
 *   dataset and no committed version includes its history, removes
 *   the registry row before it drops anything.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "scaleout/scaleout.h"
#include "history.h"
#include "notes.h"

/* What erasure registered (NULL: nothing; see versioning.h). */
static AisecVersionTracked tracked_hook = NULL;

/* Register erasure's callback for a table just tracked (at load time). */
void
aisec_versioning_set_tracked(AisecVersionTracked tracked)
{
	tracked_hook = tracked;
}

/* What lineage registered (NULL: nothing; see versioning.h). */
static const AisecVersionLineage *lineage = NULL;

/* Register lineage's callbacks (at load time). */
void
aisec_versioning_set_lineage(const AisecVersionLineage *l)
{
	lineage = l;
}

/* Lineage's callbacks, or NULL. */
const AisecVersionLineage *
history_lineage(void)
{
	return lineage;
}

/* ---------------------------------------------------------------------
 * The registry
 * ---------------------------------------------------------------------
 */

/* Fill out from a tuple of aisec.tracked. */
static void
ReadTracked(TupleTableSlot *slot, TrackedTable *out)
{
	slot_getallattrs(slot);
	out->table_no = DatumGetInt32(slot->tts_values[TR_TABLE_NO]);
	out->relid = DatumGetObjectId(slot->tts_values[TR_REL]);
	out->history = DatumGetObjectId(slot->tts_values[TR_HISTORY]);
	out->ended = DatumGetObjectId(slot->tts_values[TR_ENDED]);
	out->pending = DatumGetInt64(slot->tts_values[TR_PENDING]);
	out->dataset_id = slot->tts_isnull[TR_DATASET] ? 0 :
		DatumGetInt32(slot->tts_values[TR_DATASET]);
}

/*
 * Look up aisec.tracked by one indexed key, with the latest snapshot
 * (aisec_registry_snapshot); if
 * hashcols is not NULL, also set it to a copy of the row's hash_columns
 * (NULL if it has none).
 */
static bool
LookupTrackedAt(const char *index, RegProcedure eqproc, Datum key, TrackedTable *out,
				ArrayType **hashcols, Snapshot given)
{
	Relation	rel = table_open(aisec_relid("tracked"), AccessShareLock);
	Relation	idx = index_open(aisec_relid(index), AccessShareLock);
	Snapshot	snap = given ? RegisterSnapshot(given) : aisec_registry_snapshot();
	IndexScanDesc scan = index_beginscan(rel, idx, snap, 1, 0);
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData skey;
	bool		found;

	ScanKeyInit(&skey, 1, BTEqualStrategyNumber, eqproc, key);
	index_rescan(scan, &skey, 1, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
		ReadTracked(slot, out);
	if (found && hashcols != NULL)
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, TR_HASH_COLUMNS + 1, &isnull);

		*hashcols = isnull ? NULL : DatumGetArrayTypePCopy(d);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

static bool
LookupTracked(const char *index, RegProcedure eqproc, Datum key, TrackedTable *out,
			  ArrayType **hashcols)
{
	return LookupTrackedAt(index, eqproc, key, out, hashcols, NULL);
}

/*
 * Find a tracked table by relation OID as snapshot snap sees the
 * registry: its pending version then is the version a statement with
 * that snapshot read (lineage).
 */
bool
history_lookup_at(Oid relid, Snapshot snap, TrackedTable *out)
{
	return LookupTrackedAt("tracked_rel_key", F_OIDEQ, ObjectIdGetDatum(relid), out, NULL, snap);
}

/*
 * Whether tracked table table_no had changes in its pending version
 * version, as snapshot snap sees aisec.pending_delta (every capturing
 * statement appends a row there; a commit removes its version's).
 */
bool
history_pending_changed(int32 table_no, int64 version, Snapshot snap)
{
	Relation	rel = table_open(aisec_relid("pending_delta"), AccessShareLock);
	Relation	idx = index_open(aisec_relid("pending_delta_version"), AccessShareLock);
	IndexScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);
	ScanKeyData skey[2];
	bool		found;

	snap = RegisterSnapshot(snap);
	scan = index_beginscan(rel, idx, snap, 2, 0);
	ScanKeyInit(&skey[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(table_no));
	ScanKeyInit(&skey[1], 2, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(version));
	index_rescan(scan, skey, 2, NULL, 0);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/* Find a tracked table by relation OID (latest snapshot). */
bool
history_lookup(Oid relid, TrackedTable *out)
{
	return LookupTracked("tracked_rel_key", F_OIDEQ, ObjectIdGetDatum(relid), out, NULL);
}

/* Find a tracked table by table number (latest snapshot). */
bool
history_lookup_no(int32 table_no, TrackedTable *out)
{
	return LookupTracked("tracked_pkey", F_INT4EQ, Int32GetDatum(table_no), out, NULL);
}

/*
 * The numbers that row hashes give the live columns of tracked table
 * table_no (desc: its descriptor), indexed by attnum - 1, or NULL when
 * they are the attnums.  They are the attnums the table had where it was
 * tracked: a table restored by pg_restore has no dropped columns, so its
 * columns may have other attnums there, and aisec.tracked.hash_columns
 * then keeps the old ones (aisec_tracked_restore).  A column added since
 * gets the next number after the highest, as its attnum was and would
 * have been where the table was tracked (columns are only ever added).
 */
int16 *
history_hash_numbers(int32 table_no, TupleDesc desc)
{
	TrackedTable tt;
	ArrayType  *arr = NULL;
	Datum	   *elems;
	int			n;
	int16		max = 0;
	int			k = 0;
	int16	   *numbers;

	if (!LookupTracked("tracked_pkey", F_INT4EQ, Int32GetDatum(table_no), &tt, &arr) ||
		arr == NULL)
		return NULL;
	deconstruct_array(arr, INT2OID, 2, true, TYPALIGN_SHORT, &elems, NULL, &n);
	for (int i = 0; i < n; i++)
		max = Max(max, DatumGetInt16(elems[i]));
	numbers = palloc0(sizeof(int16) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		if (TupleDescAttr(desc, i)->attisdropped)
			continue;
		numbers[i] = k < n ? DatumGetInt16(elems[k]) : max + (k - n + 1);
		k++;
	}
	return numbers;
}

/*
 * Find rel, whose capture triggers fired, in the registry: an error if it
 * is not tracked (the triggers were left behind).
 */
void
history_require_tracked(Relation rel, TrackedTable *out)
{
	if (!history_lookup(RelationGetRelid(rel), out))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not tracked by aisec", RelationGetRelationName(rel)),
				 errhint("Drop the leftover aisec_capture_* triggers or call aisec.track().")));
}

/* ---------------------------------------------------------------------
 * Row ids
 * ---------------------------------------------------------------------
 */

/* The attnum of tracked table rel's aisec_rid column. */
AttrNumber
history_rid_attnum(Relation rel)
{
	AttrNumber	ridatt = get_attnum(RelationGetRelid(rel), RID_COLUMN);

	if (ridatt == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("tracked table \"%s\" has no column \"%s\"",
						RelationGetRelationName(rel), RID_COLUMN)));
	return ridatt;
}

/* Check that a row id (NULL if isnull) read from rel belongs to rel. */
int64
history_check_rid(Relation rel, int32 table_no, int64 rid, bool isnull)
{
	if (isnull || rid <= 0 || (rid >> RID_TABLE_SHIFT) != table_no)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid row id in column \"%s\" of tracked table \"%s\"",
						RID_COLUMN, RelationGetRelationName(rel)),
				 errdetail("Row ids of this table lie between %lld and %lld.",
						   (long long) ((int64) table_no << RID_TABLE_SHIFT) + 1,
						   (long long) (((int64) table_no + 1) << RID_TABLE_SHIFT) - 1),
				 errhint("Let aisec assign \"%s\": do not use OVERRIDING SYSTEM VALUE.",
						 RID_COLUMN)));
	return rid;
}

/* Read a row's aisec_rid (column ridatt), checking that it belongs to rel. */
int64
history_slot_rid(Relation rel, int32 table_no, AttrNumber ridatt, TupleTableSlot *slot)
{
	bool		isnull;
	int64		rid = DatumGetInt64(slot_getattr(slot, ridatt, &isnull));

	return history_check_rid(rel, table_no, rid, isnull);
}

/* ---------------------------------------------------------------------
 * track / untrack
 * ---------------------------------------------------------------------
 */

/*
 * Does rel arrive with row ids copied from tracked tables, which track()
 * replaces while lineage records where each row came from?  Only with
 * lineage registered, and only a plain bigint aisec_rid (no identity,
 * generation or default; CREATE TABLE ... AS SELECT * FROM tracked, or a
 * materialize target) of which at least one value lies in the row-id range
 * of a tracked table: a column of the user's own that happens to have
 * that name and type holds other numbers, and is refused as before rather
 * than overwritten.  Reads the table as the caller (who owns it).
 */
static bool
CarriesRowIds(Relation rel)
{
	AttrNumber	att = get_attnum(RelationGetRelid(rel), RID_COLUMN);
	Form_pg_attribute a;
	AisecSpi	spi;
	int			n;
	Datum	   *nos;
	Oid			types[1] = {INT8ARRAYOID};
	Datum		values[1];
	bool		isnull;
	bool		found;

	if (lineage == NULL || att <= 0)
		return false;
	a = TupleDescAttr(RelationGetDescr(rel), att - 1);
	if (a->atttypid != INT8OID || a->attidentity != '\0' || a->attgenerated != '\0' ||
		a->atthasdef ||
		pg_class_aclcheck(RelationGetRelid(rel), GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		return false;
	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT table_no::pg_catalog.int8 FROM aisec.tracked",
					  true, 0, NULL, NULL, NULL, NULL);
	nos = palloc(sizeof(Datum) * Max(n, 1));
	for (int i = 0; i < n; i++)
		nos[i] = aisec_spi_value(i, 0, &isnull);
	values[0] = PointerGetDatum(construct_array(nos, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	(void) aisec_spi_run(psprintf("SELECT EXISTS (SELECT FROM %s WHERE " RID_COLUMN
								  " OPERATOR(pg_catalog.>) 0 AND (" RID_COLUMN
								  " OPERATOR(pg_catalog.>>) " CppAsString2(RID_TABLE_SHIFT)
								  ") OPERATOR(pg_catalog.=) ANY ($1))",
								  aisec_qualified_name(RelationGetRelid(rel))),
						 false, 1, types, values, NULL, NULL);
	found = DatumGetBool(aisec_spi_value(0, 0, &isnull));
	aisec_spi_end(&spi);
	return found;
}

/*
 * Turn the plain aisec_rid column of a copy (CarriesRowIds) into the row id
 * identity, give every row a new id, and hand lineage each row's new id
 * with the id it carried (0 for none).  The column stays where it is, and
 * no column is dropped: a dropped column would not come back through
 * pg_dump, and the attnums aisec.tracked records would no longer match.
 * Costs one UPDATE of every row (the table's old row versions stay until
 * VACUUM).
 */
static void
GiveNewRowIds(Oid relid, const char *qrel, int32 table_no, int64 first)
{
	int			rows;
	int64	   *rids;
	int64	   *carried;

	aisec_spi_ddl(false, "UPDATE %s SET " RID_COLUMN " = 0 WHERE " RID_COLUMN " IS NULL", qrel);
	aisec_spi_ddl(false,
		   "ALTER TABLE %s ALTER COLUMN " RID_COLUMN " SET NOT NULL, "
		   "ALTER COLUMN " RID_COLUMN " ADD GENERATED ALWAYS AS IDENTITY "
		   "(START WITH " INT64_FORMAT " MINVALUE " INT64_FORMAT " MAXVALUE " INT64_FORMAT
		   " CACHE " CppAsString2(RID_CACHE) ")",
		   qrel, first, first, first + ((int64) 1 << RID_TABLE_SHIFT) - 2);
	rows = aisec_spi_run(psprintf("UPDATE %s t SET " RID_COLUMN " = DEFAULT "
								  "FROM (SELECT ctid AS aisec_ctid, " RID_COLUMN " AS aisec_carried FROM %s) o "
								  "WHERE t.ctid OPERATOR(pg_catalog.=) o.aisec_ctid "
								  "RETURNING t." RID_COLUMN ", o.aisec_carried", qrel, qrel),
						 false, 0, NULL, NULL, NULL, NULL);
	rids = palloc(sizeof(int64) * Max(rows, 1));
	carried = palloc(sizeof(int64) * Max(rows, 1));
	for (int r = 0; r < rows; r++)
	{
		bool		isnull;

		rids[r] = DatumGetInt64(aisec_spi_value(r, 0, &isnull));
		carried[r] = DatumGetInt64(aisec_spi_value(r, 1, &isnull));
	}
	lineage->copy_tracked(relid, table_no, rows, rids, carried);
}

/* Refuse relations that cannot be tracked, with a reason. */
static void
CheckTrackable(Relation rel, bool *carried)
{
	const char *name = RelationGetRelationName(rel);
	Oid			relid = RelationGetRelid(rel);

	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE || rel->rd_rel->relispartition)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track partitioned table or partition \"%s\"", name),
				 errhint("Track a plain table; aisec does not version partitioned tables yet.")));
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("cannot track \"%s\": it is not a table", name)));
	if (has_subclass(relid) || has_superclass(relid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track table \"%s\": it takes part in table inheritance", name)));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot track temporary table \"%s\"", name)));
	if (IsCatalogRelation(rel) ||
		RelationGetNamespace(rel) == get_namespace_oid(AISEC_SCHEMA, false))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot track system or aisec table \"%s\"", name)));
	aisec_citus_refuse_table(relid, "aisec.track()");
	*carried = false;
	if (get_attnum(relid, RID_COLUMN) != InvalidAttrNumber && !(*carried = CarriesRowIds(rel)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_COLUMN),
				 errmsg("table \"%s\" already has a column named \"%s\"", name, RID_COLUMN),
				 errhint("aisec adds that column itself: rename yours first, or, if an earlier aisec left it behind, drop it with ALTER TABLE %s DROP COLUMN %s.",
						 aisec_qualified_name(relid), RID_COLUMN)));
	history_check_heap(rel);
	for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
		if (!TupleDescAttr(RelationGetDescr(rel), i)->attisdropped)
			history_check_encodable(rel, TupleDescAttr(RelationGetDescr(rel), i));
}

/*
 * Refuse a table whose access method does not store heap pages: capture
 * reads the blocks an INSERT added as heap pages (notes.c), so a tracked
 * table must stay heap (an access method with heap's handler, such as one
 * made with CREATE ACCESS METHOD ... HANDLER heap_tableam_handler, is heap).
 */
void
history_check_heap(Relation rel)
{
	if (rel->rd_tableam != GetHeapamTableAmRoutine())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("table \"%s\" uses access method \"%s\", which aisec cannot track",
						RelationGetRelationName(rel), get_am_name(rel->rd_rel->relam)),
				 errdetail("aisec reads a tracked table's pages as heap pages."),
				 errhint("Keep tracked tables in the heap access method.")));
}

/* The live attnums of a relation, as an int2[] datum. */
Datum
history_live_attnums(TupleDesc desc)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(desc->natts, 1));
	int			n = 0;

	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			elems[n++] = Int16GetDatum(TupleDescAttr(desc, i)->attnum);
	return PointerGetDatum(construct_array(elems, n, INT2OID, 2, true, TYPALIGN_SHORT));
}

/* Make a history or ended-records table refuse direct writes; no grants. */
static void
ProtectHistory(const char *qname)
{
	aisec_spi_ddl(true, "REVOKE ALL ON %s FROM PUBLIC", qname);
	aisec_spi_ddl(true,
		   "CREATE TRIGGER refuse_change BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
		   "ON %s FOR EACH STATEMENT EXECUTE FUNCTION aisec.history_refuse_change()",
		   qname);
	aisec_spi_ddl(true, "ALTER TABLE %s ENABLE ALWAYS TRIGGER refuse_change", qname);
}

/*
 * Create the history table of a tracked table and its ended-records table
 * (as the extension owner); set *ended to the latter.  History records are
 * never updated: when a row version ends, a narrow (rid, valid_from,
 * valid_to) record is appended to history_<n>_ended instead.  Both are
 * heap tables whatever default_table_access_method says: capture writes
 * them with heap_multi_insert and reads their pages as heap pages.
 */
static Oid
CreateHistory(int32 table_no, Oid relid, Oid *ended)
{
	char		name[NAMEDATALEN];
	char		ename[NAMEDATALEN];
	char	   *qname;
	char	   *qename;
	char	   *qtype = format_type_be_qualified(get_rel_type_id(relid));
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, false);

	snprintf(name, sizeof(name), "history_%d", table_no);
	snprintf(ename, sizeof(ename), "history_%d_ended", table_no);
	qname = quote_qualified_identifier(AISEC_SCHEMA, name);
	qename = quote_qualified_identifier(AISEC_SCHEMA, ename);
	aisec_spi_ddl(true,
		   "CREATE TABLE %s (rid bigint NOT NULL, valid_from bigint NOT NULL, "
		   "salt bytea, hash bytea NOT NULL, data %s) USING heap",
		   qname, qtype);
	aisec_spi_ddl(true, "CREATE INDEX ON %s (rid)", qname);
	aisec_spi_ddl(true, "CREATE INDEX ON %s USING brin (valid_from) WITH (autosummarize = on)", qname);
	ProtectHistory(qname);
	aisec_spi_ddl(true,
		   "COMMENT ON TABLE %s IS 'aisec history of table number %d: every row version "
		   "with valid_from, salt, hash and the row (doc/versioning.md)'",
		   qname, table_no);
	aisec_spi_ddl(true,
		   "CREATE TABLE %s (rid bigint NOT NULL, valid_from bigint NOT NULL, "
		   "valid_to bigint NOT NULL) USING heap", qename);
	aisec_spi_ddl(true, "CREATE INDEX ON %s USING brin (valid_to) WITH (autosummarize = on)", qename);
	ProtectHistory(qename);
	aisec_spi_ddl(true,
		   "COMMENT ON TABLE %s IS 'aisec history of table number %d: the version "
		   "(valid_to) in which each ended row version (rid, valid_from) disappeared'",
		   qename, table_no);
	*ended = get_relname_relid(ename, nsp);
	return get_relname_relid(name, nsp);
}

/* Install the capture triggers on a tracked table (as the caller). */
static void
CreateCaptureTriggers(const char *qrel)
{
	static const char *const triggers[] = {
		"CREATE TRIGGER aisec_capture_insert_begin BEFORE INSERT ON %s "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_insert AFTER INSERT ON %s "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_insert_row AFTER INSERT ON %s "
		"FOR EACH ROW WHEN (aisec.capture_row_needed(NEW.tableoid, NEW.ctid)) "
		"EXECUTE FUNCTION aisec.capture_row()",
		"CREATE TRIGGER aisec_capture_update AFTER UPDATE ON %s "
		"REFERENCING OLD TABLE AS aisec_old NEW TABLE AS aisec_new "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_delete AFTER DELETE ON %s "
		"REFERENCING OLD TABLE AS aisec_old "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
		"CREATE TRIGGER aisec_capture_truncate BEFORE TRUNCATE ON %s "
		"FOR EACH STATEMENT EXECUTE FUNCTION aisec.capture()",
	};
	static const char *const names[] = {
		"aisec_capture_insert_begin", "aisec_capture_insert",
		"aisec_capture_insert_row", "aisec_capture_update",
		"aisec_capture_delete", "aisec_capture_truncate",
	};

	for (int i = 0; i < lengthof(triggers); i++)
	{
		aisec_spi_ddl(false, triggers[i], qrel);
		aisec_spi_ddl(false, "ALTER TABLE %s ENABLE ALWAYS TRIGGER %s", qrel, names[i]);
	}
}

/* SQL: aisec.track(rel) starts governing a table; returns its number. */
PG_FUNCTION_INFO_V1(aisec_track);
Datum
aisec_track(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Relation	rel;
	TrackedTable tt;
	AisecSpi	spi;
	char	   *qrel;
	int64		first;
	int64		rows;
	bool		isnull;
	char	   *who = GetUserNameFromId(GetUserId(), false);
	bool		carried;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.track()");
	aisec_prevent_if_read_only("aisec.track()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table to track must not be NULL")));
	relid = PG_GETARG_OID(0);

	/* ALTER TABLE below refuses a table this backend holds open. */
	LockRelationOid(relid, AccessExclusiveLock);
	rel = table_open(relid, NoLock);
	if (history_lookup(relid, &tt))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" is already tracked", RelationGetRelationName(rel))));
	CheckTrackable(rel, &carried);
	history_track_precheck(rel);
	table_close(rel, NoLock);
	qrel = aisec_qualified_name(relid);

	aisec_spi_begin(&spi);
	memset(&tt, 0, sizeof(tt));

	/*
	 * Every precondition is checked: only now take a number (nextval is not
	 * transactional), skipping one whose history name an earlier aisec left
	 * taken.
	 */
	do
	{
		(void) aisec_spi_run("SELECT pg_catalog.nextval('aisec.table_no_seq')",
							 true, 0, NULL, NULL, NULL, NULL);
		tt.table_no = (int32) DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	} while (history_table_no_taken(tt.table_no));
	tt.relid = relid;
	tt.pending = 1;
	first = ((int64) tt.table_no << RID_TABLE_SHIFT) + 1;

	/* As the caller, who owns the table (checked above). */
	if (carried)
		GiveNewRowIds(relid, qrel, tt.table_no, first);
	else
		aisec_spi_ddl(false,
			   "ALTER TABLE %s ADD COLUMN " RID_COLUMN " bigint GENERATED ALWAYS AS IDENTITY "
			   "(START WITH " INT64_FORMAT " MINVALUE " INT64_FORMAT " MAXVALUE " INT64_FORMAT
			   " CACHE " CppAsString2(RID_CACHE) ")",
			   qrel, first, first, first + ((int64) 1 << RID_TABLE_SHIFT) - 2);
	/*
	 * A BRIN index on the row ids: ids are given in insertion order, so a
	 * row id leads to its live row through a few block ranges, for
	 * erasure and anything else that looks a row up by id; cheap to keep.
	 */
	aisec_spi_ddl(false, "CREATE INDEX ON %s USING brin (" RID_COLUMN ") WITH (autosummarize = on)",
				  qrel);
	CreateCaptureTriggers(qrel);

	/* As the extension owner: the history table and the registry row. */
	tt.history = CreateHistory(tt.table_no, relid, &tt.ended);
	{
		Oid			types[6] = {INT4OID, OIDOID, OIDOID, INT2ARRAYOID, TEXTOID, OIDOID};
		Datum		values[6];

		CommandCounterIncrement();
		rel = table_open(relid, NoLock);
		values[0] = Int32GetDatum(tt.table_no);
		values[1] = ObjectIdGetDatum(relid);
		values[2] = ObjectIdGetDatum(tt.history);
		values[3] = history_live_attnums(RelationGetDescr(rel));
		values[4] = CStringGetTextDatum(who);
		values[5] = ObjectIdGetDatum(tt.ended);
		(void) aisec_spi_run("INSERT INTO aisec.tracked (table_no, rel, history, columns, "
							 "tracked_at, tracked_by, ended) "
							 "VALUES ($1, $2::pg_catalog.regclass, $3::pg_catalog.regclass, $4, "
							 "pg_catalog.now(), $5, $6::pg_catalog.regclass)",
							 true, 6, types, values, NULL, NULL);
	}
	aisec_spi_end(&spi);

	rows = history_capture_existing(rel, &tt);
	if (tracked_hook != NULL)
		tracked_hook(relid, &tt);
	aisec_audit_log("version.track", qrel,
					psprintf("{\"table_no\": %d, \"rows\": " INT64_FORMAT "}",
							 tt.table_no, rows));
	table_close(rel, NoLock);
	PG_RETURN_INT32(tt.table_no);
}

/*
 * Stop governing a tracked table (the caller has checked that no dataset
 * holds it and no committed version includes its history, and holds an
 * AccessExclusiveLock on it): remove its registry row first, then its
 * pending deltas and notes, its history and ended records, its capture
 * triggers and its aisec_rid column.  aisec.untrack() and
 * aisec.drop_dataset() (housekeeping.c) call it.
 */
void
history_untrack(Oid relid, const TrackedTable *tt)
{
	AisecSpi	spi;
	char	   *qrel = aisec_qualified_name(relid);
	Oid			types[1] = {INT4OID};
	Datum		values[1];

	aisec_spi_begin(&spi);
	values[0] = Int32GetDatum(tt->table_no);
	(void) aisec_spi_run("DELETE FROM aisec.tracked WHERE table_no = $1",
						 true, 1, types, values, NULL, NULL);
	(void) aisec_spi_run("DELETE FROM aisec.pending_delta WHERE table_no = $1",
						 true, 1, types, values, NULL, NULL);
	(void) aisec_spi_run("DELETE FROM aisec.pending_row WHERE table_no = $1",
						 true, 1, types, values, NULL, NULL);
	notes_forget(relid);
	aisec_spi_ddl(true, "DROP TABLE %s", aisec_qualified_name(tt->history));
	aisec_spi_ddl(true, "DROP TABLE %s", aisec_qualified_name(tt->ended));
	if (OidIsValid(get_trigger_oid(relid, "aisec_capture_insert_begin", true)))
		aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_insert_begin ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_insert ON %s", qrel);
	if (OidIsValid(get_trigger_oid(relid, "aisec_capture_insert_row", true)))
		aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_insert_row ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_update ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_delete ON %s", qrel);
	aisec_spi_ddl(false, "DROP TRIGGER aisec_capture_truncate ON %s", qrel);
	aisec_spi_ddl(false, "ALTER TABLE %s DROP COLUMN " RID_COLUMN, qrel);
	aisec_spi_end(&spi);
}

/* Whether two int2[] values hold the same numbers in the same order. */
static bool
array_eq_int2(Datum a, Datum b)
{
	Datum	   *ea;
	Datum	   *eb;
	int			na;
	int			nb;

	deconstruct_array(DatumGetArrayTypeP(a), INT2OID, 2, true, TYPALIGN_SHORT, &ea, NULL, &na);
	deconstruct_array(DatumGetArrayTypeP(b), INT2OID, 2, true, TYPALIGN_SHORT, &eb, NULL, &nb);
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (DatumGetInt16(ea[i]) != DatumGetInt16(eb[i]))
			return false;
	return true;
}

/*
 * Trigger on aisec.tracked, BEFORE INSERT FOR EACH ROW.  A registry row
 * aisec does not write itself is one pg_restore puts back (or a superuser
 * forges; verify judges those).  Its columns are the attnums the table had
 * where it was dumped; a restored table has no dropped columns, so its
 * live columns (the same, in the same order) may have other attnums here.
 * The row then takes the new attnums as its columns, and keeps the old
 * ones as hash_columns (unless it has them already, from an earlier
 * restore): the numbers its row hashes were made with.
 */
PG_FUNCTION_INFO_V1(aisec_tracked_restore);
Datum
aisec_tracked_restore(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tuple;
	Relation	rel;
	bool		isnull;
	Datum		recorded;
	Datum		live;
	int			cols[2] = {TR_COLUMNS + 1, TR_HASH_COLUMNS + 1};
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired for INSERT, for each row",
						"aisec.tracked_restore")));
	tuple = td->tg_trigtuple;
	if (aisec_spi_owner_writing())
		return PointerGetDatum(tuple);
	desc = RelationGetDescr(td->tg_relation);
	recorded = heap_getattr(tuple, TR_COLUMNS + 1, desc, &isnull);
	if (isnull)
		return PointerGetDatum(tuple);
	rel = try_relation_open(DatumGetObjectId(heap_getattr(tuple, TR_REL + 1, desc, &isnull)),
							AccessShareLock);
	if (isnull || rel == NULL)
		return PointerGetDatum(tuple);
	live = history_live_attnums(RelationGetDescr(rel));
	relation_close(rel, AccessShareLock);
	if (array_eq_int2(recorded, live))
		return PointerGetDatum(tuple);
	values[0] = live;
	values[1] = heap_getattr(tuple, TR_HASH_COLUMNS + 1, desc, &isnull);
	if (isnull)
		values[1] = recorded;
	return PointerGetDatum(heap_modify_tuple_by_cols(tuple, desc, 2, cols, values, nulls));
}

/* SQL: aisec.rid_table(rid) names the tracked table a row id belongs to. */
PG_FUNCTION_INFO_V1(aisec_rid_table);
Datum
aisec_rid_table(PG_FUNCTION_ARGS)
{
	int64		rid = PG_GETARG_INT64(0);
	TrackedTable tt;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, "aisec.rid_table()");
	if (rid <= 0 || (rid >> RID_TABLE_SHIFT) > RID_TABLE_MAX ||
		!history_lookup_no((int32) (rid >> RID_TABLE_SHIFT), &tt))
		PG_RETURN_NULL();
	PG_RETURN_OID(tt.relid);
}
