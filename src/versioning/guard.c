/*
 * guard.c
 *		What keeps history complete and unchanged: the trigger that refuses
 *		direct writes to history and version records, and the event
 *		triggers that refuse schema changes history cannot follow (dropping
 *		or adding a column with a default, inheritance and partitioning,
 *		renaming an enum label a tracked table holds, disabling, renaming,
 *		replacing or dropping a capture trigger, dropping a tracked table or
 *		its history).
 *
 * Invariant: committed versions never change, so whatever would change
 * what a committed version holds, or let a change go unrecorded, is
 * refused with an error; a refused write to history is audited (by
 * another process, since the error rolls back our own writes).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "history.h"

/* Trigger: refuse direct writes to history and version records. */
PG_FUNCTION_INFO_V1(aisec_history_refuse_change);
Datum
aisec_history_refuse_change(PG_FUNCTION_ARGS)
{
	aisec_audit_refuse_write(fcinfo, "aisec.history_refuse_change",
							 "aisec history and version records change only through aisec's functions, for every role including their owner.",
							 "Change the tracked table itself, or use aisec.commit() and aisec.tag().");
	return PointerGetDatum(NULL);
}

/* ---------------------------------------------------------------------
 * Schema changes
 * ---------------------------------------------------------------------
 */

/* Refuse column changes history cannot follow; record added columns. */
static void
CheckTrackedColumns(Oid relid, int32 table_no, ArrayType *recorded)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	TupleDesc	desc;
	Datum	   *elems;
	int			nelems;
	int16		maxatt = 0;
	bool		added = false;

	if (rel == NULL)
		return;					/* dropped: nothing to check */
	desc = RelationGetDescr(rel);
	deconstruct_array(recorded, INT2OID, 2, true, TYPALIGN_SHORT, &elems, NULL, &nelems);
	for (int i = 0; i < nelems; i++)
	{
		int16		attnum = DatumGetInt16(elems[i]);

		maxatt = Max(maxatt, attnum);
		if (attnum > desc->natts || TupleDescAttr(desc, attnum - 1)->attisdropped)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot drop a column of tracked table \"%s\"",
							RelationGetRelationName(rel)),
					 errdetail("Versions in its history hold values of column number %d.", attnum),
					 errhint("Leave the column in place (set it to NULL with UPDATE if it must be emptied).")));
	}
	for (int i = maxatt; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		if (att->atthasdef || att->atthasmissing || att->attgenerated || att->attidentity)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot add column \"%s\" with a default to tracked table \"%s\"",
							NameStr(att->attname), RelationGetRelationName(rel)),
					 errdetail("Existing rows would get values that their history does not record."),
					 errhint("Add the column without a default, then fill it with UPDATE, which aisec records.")));
		history_check_encodable(rel, att);
		added = true;
	}
	{
		AttrNumber	ridatt = get_attnum(relid, RID_COLUMN);

		if (ridatt == InvalidAttrNumber ||
			TupleDescAttr(desc, ridatt - 1)->attidentity != ATTRIBUTE_IDENTITY_ALWAYS)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of tracked table \"%s\" must stay GENERATED ALWAYS AS IDENTITY",
							RID_COLUMN, RelationGetRelationName(rel)),
					 errdetail("aisec gives every new row its id from that identity column.")));
	}
	if (added)
	{
		Oid			types[2] = {INT2ARRAYOID, INT4OID};
		Datum		values[2];
		AisecSpi	spi;

		values[0] = history_live_attnums(desc);
		values[1] = Int32GetDatum(table_no);
		aisec_spi_begin(&spi);
		(void) aisec_spi_run("UPDATE aisec.tracked SET columns = $1 WHERE table_no = $2",
							 true, 2, types, values, NULL, NULL);
		aisec_spi_end(&spi);
	}
	relation_close(rel, AccessShareLock);
}

/* Is name that of one of the capture triggers track() installs? */
static bool
IsCaptureTrigger(const char *name)
{
	return strncmp(name, "aisec_capture_", strlen("aisec_capture_")) == 0;
}

/* A change to a trigger that RefuseCaptureTriggerChange refuses. */
typedef enum TriggerChange
{
	TRIGGER_CHANGE_DISABLE,
	TRIGGER_CHANGE_RENAME,
	TRIGGER_CHANGE_REPLACE
} TriggerChange;

/* Refuse a change to a capture trigger of a tracked table. */
static void
RefuseCaptureTriggerChange(Oid relid, const char *trigger, TriggerChange change)
{
	const char *rel = get_rel_name(relid);

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 change == TRIGGER_CHANGE_DISABLE ?
			 errmsg("cannot disable trigger \"%s\" of tracked table \"%s\"", trigger, rel) :
			 change == TRIGGER_CHANGE_RENAME ?
			 errmsg("cannot rename trigger \"%s\" of tracked table \"%s\"", trigger, rel) :
			 errmsg("cannot replace trigger \"%s\" of tracked table \"%s\"", trigger, rel),
			 errdetail("aisec records the table's changes through this trigger; without it the next version would not hold the table's rows."),
			 errhint("To stop recording changes, untrack the table with aisec.untrack() (once it is in no dataset, see aisec.remove_table(), and no committed version includes it).")));
}

/* Is relid a tracked table (latest snapshot)? */
static bool
IsTracked(Oid relid)
{
	TrackedTable tt;

	return OidIsValid(relid) && history_lookup(relid, &tt);
}

/*
 * After ALTER TABLE on a tracked table: its capture triggers must still
 * fire (DISABLE TRIGGER, by name, ALL or USER, and ENABLE REPLICA would
 * let changes go unrecorded).  A missing one is left to the commands that
 * drop triggers: pg_restore creates them one by one.
 */
static void
CheckCaptureTriggersFire(Oid relid)
{
	Relation	rel = try_relation_open(relid, AccessShareLock);
	TriggerDesc *td;

	if (rel == NULL)
		return;
	td = rel->trigdesc;
	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (IsCaptureTrigger(t->tgname) &&
			(t->tgenabled == TRIGGER_DISABLED || t->tgenabled == TRIGGER_FIRES_ON_REPLICA))
			RefuseCaptureTriggerChange(relid, t->tgname, TRIGGER_CHANGE_DISABLE);
	}
	relation_close(rel, AccessShareLock);
}

/*
 * Refuse renaming a value of an enum type that a tracked table's column
 * holds: row hashes encode the label (its binary send form), so every
 * committed version holding it would fail verify.
 */
static void
CheckEnumRename(AlterEnumStmt *stmt)
{
	Oid			enumid = typenameTypeId(NULL, makeTypeNameFromNameList(stmt->typeName));
	Relation	reg = table_open(aisec_relid("tracked"), AccessShareLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(reg, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(reg, NULL);

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(slot_getattr(slot, TR_REL + 1, &isnull));
		Relation	rel = try_relation_open(relid, AccessShareLock);
		TupleDesc	desc;

		if (rel == NULL)
			continue;
		desc = RelationGetDescr(rel);
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped &&
				history_type_holds(att->atttypid, enumid))
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot rename a value of enum type \"%s\": column \"%s\" of tracked table \"%s\" holds it",
								format_type_be(enumid), NameStr(att->attname),
								RelationGetRelationName(rel)),
						 errdetail("Row hashes in the table's history encode the label; the committed versions would no longer verify."),
						 errhint("Add a new value with ALTER TYPE ... ADD VALUE and UPDATE the rows to it, which aisec records.")));
		}
		relation_close(rel, AccessShareLock);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(reg, AccessShareLock);
}

/*
 * Refuse renaming aisec_rid or a capture trigger of a tracked table,
 * replacing a capture trigger, and renaming an enum value a tracked table
 * holds.
 */
static void
CheckCommand(Node *parsetree)
{
	if (IsA(parsetree, AlterEnumStmt) && ((AlterEnumStmt *) parsetree)->oldVal != NULL)
		CheckEnumRename((AlterEnumStmt *) parsetree);
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_COLUMN &&
			 strcmp(((RenameStmt *) parsetree)->subname, RID_COLUMN) == 0)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (IsTracked(relid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot rename column \"%s\" of tracked table \"%s\"",
							RID_COLUMN, get_rel_name(relid)),
					 errdetail("aisec finds each row's id by that name.")));
	}
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_TRIGGER)
	{
		RenameStmt *stmt = (RenameStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (IsCaptureTrigger(stmt->subname) && IsTracked(relid))
			RefuseCaptureTriggerChange(relid, stmt->subname, TRIGGER_CHANGE_RENAME);
	}
	else if (IsA(parsetree, CreateTrigStmt) && ((CreateTrigStmt *) parsetree)->replace)
	{
		CreateTrigStmt *stmt = (CreateTrigStmt *) parsetree;
		Oid			relid = RangeVarGetRelid(stmt->relation, NoLock, true);

		if (IsCaptureTrigger(stmt->trigname) && IsTracked(relid))
			RefuseCaptureTriggerChange(relid, stmt->trigname, TRIGGER_CHANGE_REPLACE);
	}
}

/* The tables relid inherits from or is inherited by (pg_inherits). */
static List *
InheritanceNeighbours(Oid relid)
{
	Relation	inh = table_open(InheritsRelationId, AccessShareLock);
	SysScanDesc scan = systable_beginscan(inh, InvalidOid, false, NULL, 0, NULL);
	HeapTuple	tup;
	List	   *related = NIL;

	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_inherits form = (Form_pg_inherits) GETSTRUCT(tup);

		if (form->inhrelid == relid)
			related = lappend_oid(related, form->inhparent);
		else if (form->inhparent == relid)
			related = lappend_oid(related, form->inhrelid);
	}
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	return related;
}

/*
 * After CREATE TABLE or ALTER TABLE of relid: refuse table inheritance or
 * partitioning that involves a tracked table.  An UPDATE or DELETE through
 * a parent changes a child's rows without firing the child's statement
 * triggers, so capture would miss it (and a tracked parent's scans would
 * include rows its history does not hold).
 */
static void
CheckInheritance(Oid relid)
{
	List	   *related = InheritanceNeighbours(relid);
	ListCell   *lc;
	Oid			tracked = InvalidOid;

	if (related != NIL && IsTracked(relid))
		tracked = relid;
	foreach(lc, related)
		if (!OidIsValid(tracked) && IsTracked(lfirst_oid(lc)))
			tracked = lfirst_oid(lc);
	if (OidIsValid(tracked))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tracked table \"%s\" cannot take part in table inheritance or partitioning",
						get_rel_name(tracked)),
				 errdetail("An UPDATE or DELETE through a parent table changes its children's rows without aisec recording it.")));
	list_free(related);
}

/*
 * Event trigger (ddl_command_end): after ALTER TABLE on a tracked table,
 * check its columns and that its capture triggers still fire; after
 * CREATE TABLE or ALTER TABLE of any table, refuse inheritance or
 * partitioning involving a tracked table; refuse renaming or replacing a
 * capture trigger.
 */
PG_FUNCTION_INFO_V1(aisec_track_ddl_check);
Datum
aisec_track_ddl_check(PG_FUNCTION_ARGS)
{
	EventTriggerData *ev;
	AlterTableStmt *stmt;
	Oid			relid;
	Relation	rel;
	Snapshot	snap;
	TableScanDesc scan;
	TupleTableSlot *slot;
	int32		table_no = 0;
	ArrayType  *columns = NULL;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by event trigger manager",
						"aisec.track_ddl_check")));
	ev = (EventTriggerData *) fcinfo->context;

	if (ev->parsetree == NULL)
		PG_RETURN_VOID();
	CheckCommand(ev->parsetree);
	if (IsA(ev->parsetree, CreateStmt) || IsA(ev->parsetree, CreateForeignTableStmt))
	{
		relid = RangeVarGetRelid(((CreateStmt *) ev->parsetree)->relation, NoLock, true);
		if (OidIsValid(relid))
			CheckInheritance(relid);
		PG_RETURN_VOID();
	}

	/* Only ALTER TABLE proper changes columns (not RENAME, SET SCHEMA). */
	if (!IsA(ev->parsetree, AlterTableStmt))
		PG_RETURN_VOID();
	stmt = (AlterTableStmt *) ev->parsetree;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		PG_RETURN_VOID();
	CheckInheritance(relid);

	rel = table_open(aisec_relid("tracked"), AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snap, 0, NULL);
	slot = table_slot_create(rel, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;

		slot_getallattrs(slot);
		if (DatumGetObjectId(slot->tts_values[TR_REL]) != relid)
			continue;
		table_no = DatumGetInt32(slot->tts_values[TR_TABLE_NO]);
		columns = DatumGetArrayTypePCopy(slot_getattr(slot, TR_COLUMNS + 1, &isnull));
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);

	if (columns != NULL)
	{
		Relation	tracked = table_open(relid, AccessShareLock);

		history_check_heap(tracked);	/* ALTER TABLE ... SET ACCESS METHOD */
		table_close(tracked, AccessShareLock);
		CheckTrackedColumns(relid, table_no, columns);
		CheckCaptureTriggersFire(relid);
	}
	PG_RETURN_VOID();
}

/*
 * Event trigger (sql_drop): refuse dropping a tracked table or its history,
 * as DROP ... CASCADE, DROP SCHEMA ... CASCADE or DROP OWNED would (the
 * history's row column depends on the table's row type), and dropping a
 * capture trigger of a tracked table.  Committed versions never change;
 * untrack() is the way out for a table in no dataset, and it removes the
 * registry row before it drops anything.
 */
PG_FUNCTION_INFO_V1(aisec_track_drop_check);
Datum
aisec_track_drop_check(PG_FUNCTION_ARGS)
{
	AisecSpi	spi;
	char	   *names[3] = {"", "", ""};	/* the dropped object's address */
	int32		kind = 0;
	int32		table_no = 0;
	bool		isnull;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by event trigger manager",
						"aisec.track_drop_check")));

	/*
	 * DROP EXTENSION aisec CASCADE (or DROP SCHEMA aisec CASCADE): the
	 * histories, aisec_rid columns and capture triggers went with it, as
	 * aisec_drop_extension_check (lifecycle.c) meant them to.
	 */
	if (!OidIsValid(get_extension_oid(AISEC_EXTENSION, true)))
		PG_RETURN_VOID();

	aisec_spi_begin(&spi);
	/*
	 * address_names: schema and table (and column or trigger); kind: 1 a
	 * tracked table, 2 a history table, 3 a column of a history table, 4 a
	 * capture trigger.
	 */
	if (aisec_spi_run("SELECT d.address_names[1], d.address_names[2], d.address_names[3], "
					  "CASE WHEN d.object_type = 'trigger' THEN 4 "
					  "WHEN d.objid = t.rel THEN 1 WHEN d.objsubid = 0 THEN 2 ELSE 3 END AS kind, "
					  "t.table_no "
					  "FROM pg_catalog.pg_event_trigger_dropped_objects() d "
					  "JOIN aisec.tracked t ON "
					  "(d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass "
					  " AND ((d.objid = t.rel AND d.objsubid = 0) "
					  "      OR d.objid IN (t.history, t.ended))) "
					  "OR (d.object_type = 'trigger' "
					  " AND d.address_names[3] LIKE 'aisec\\_capture\\_%' "
					  " AND t.rel = pg_catalog.to_regclass(pg_catalog.quote_ident(d.address_names[1]) "
					  "     OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) "
					  "     pg_catalog.quote_ident(d.address_names[2]))) "
					  "ORDER BY kind LIMIT 1",
					  true, 0, NULL, NULL, NULL, NULL) > 0)
	{
		for (int i = 0; i < 3; i++)
		{
			Datum		name = aisec_spi_value(0, i, &isnull);

			if (!isnull)
				names[i] = TextDatumGetCString(name);
		}
		kind = DatumGetInt32(aisec_spi_value(0, 3, &isnull));
		table_no = DatumGetInt32(aisec_spi_value(0, 4, &isnull));
	}
	aisec_spi_end(&spi);
	if (kind == 4)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot drop trigger \"%s\" of tracked table \"%s.%s\"",
						names[2], names[0], names[1]),
				 errdetail("aisec records the table's changes through this trigger; without it the next version would not hold the table's rows."),
				 errhint("To stop recording changes, untrack the table with aisec.untrack() (once it is in no dataset, see aisec.remove_table(), and no committed version includes it).")));
	if (kind != 0)
	{
		/* The drop would have taken history with it: a refused write. */
		aisec_audit_refusal("DROP", psprintf("history_%d", table_no));
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 kind == 1 ?
				 errmsg("cannot drop tracked table \"%s.%s\"", names[0], names[1]) :
				 kind == 2 ?
				 errmsg("cannot drop history table \"%s.%s\"", names[0], names[1]) :
				 errmsg("cannot drop column \"%s\" of history table \"%s.%s\"",
						names[2], names[0], names[1]),
				 errdetail("The history of a tracked table holds its committed versions, which never change."),
				 errhint("Untrack the table with aisec.untrack() first (once it is in no dataset, see aisec.remove_table(), and no committed version includes it).")));
	}
	PG_RETURN_VOID();
}
