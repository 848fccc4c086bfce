/*
 * lifecycle.c
 *		A tracked table's life at its edges: what aisec.track() checks
 *		before it changes anything, the table numbers it may take, the
 *		checks that come before PostgreSQL's own errors (ADD COLUMN with a
 *		default, DROP TABLE of a tracked table), and what DROP EXTENSION
 *		aisec does to tracked tables.
 *
 * History tables are created at track() time and are not extension
 * members (pg_dump must dump them with their rows), so PostgreSQL would
 * leave them, with every row version of every tracked table, behind a
 * DROP EXTENSION aisec CASCADE, together with the aisec_rid columns.  The
 * event trigger aisec_drop_extension (ddl_command_start, ENABLE ALWAYS)
 * therefore acts first when a DROP EXTENSION names aisec, or a DROP
 * SCHEMA ... CASCADE names schema aisec, and the caller owns it: without
 * CASCADE it refuses while tables are tracked, naming them and what
 * CASCADE drops; with CASCADE it drops every history table (also one an
 * earlier aisec left behind), every aisec_rid column and every capture
 * trigger, as object deletions in the dropping transaction, so a rollback
 * loses nothing.  The sql_drop guard (guard.c) lets them through because
 * the extension is gone by the time it would look.
 *
 * Invariant: every precondition of track() is checked before it takes a
 * table number (nextval is not transactional, so a failed attempt would
 * leave a gap) or changes anything.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_type.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "audit/audit.h"
#include "notes.h"
#include "version.h"

/* The capture triggers track() installs on a tracked table. */
static const char *const capture_triggers[] = {
	"aisec_capture_insert_begin", "aisec_capture_insert",
	"aisec_capture_insert_row", "aisec_capture_update",
	"aisec_capture_delete", "aisec_capture_truncate",
};

/* Does the current user own (have the privileges of the owner of) an object? */
static bool
OwnsObject(Oid classid, Oid objid)
{
#if PG_VERSION_NUM >= 160000
	return object_ownercheck(classid, objid, GetUserId());
#else
	if (classid == RelationRelationId)
		return pg_class_ownercheck(objid, GetUserId());
	if (classid == ExtensionRelationId)
		return pg_extension_ownercheck(objid, GetUserId());
	return pg_namespace_ownercheck(objid, GetUserId());
#endif
}

/* The qualified name of a relation as an SQL string literal, for hints. */
static char *
RelationLiteral(Oid relid)
{
	return quote_literal_cstr(aisec_qualified_name(relid));
}

/* ---------------------------------------------------------------------
 * Before track() changes anything
 * ---------------------------------------------------------------------
 */

/*
 * Find a column of a table other than rel itself whose type is rel's row
 * type or an array of it; set *attnum.  PostgreSQL refuses to add a column
 * with a default (as track() adds aisec_rid) while another table stores
 * rel's rows as values, as an earlier aisec's leftover history does.
 */
static Oid
RowTypeUser(Relation rel, AttrNumber *attnum)
{
	Oid			types[2];
	Oid			found = InvalidOid;
	Relation	dep = table_open(DependRelationId, AccessShareLock);

	types[0] = rel->rd_rel->reltype;
	types[1] = get_array_type(types[0]);
	for (int i = 0; i < 2 && !OidIsValid(found); i++)
	{
		ScanKeyData keys[2];
		SysScanDesc scan;
		HeapTuple	tup;

		if (!OidIsValid(types[i]))
			continue;
		ScanKeyInit(&keys[0], Anum_pg_depend_refclassid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(TypeRelationId));
		ScanKeyInit(&keys[1], Anum_pg_depend_refobjid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(types[i]));
		scan = systable_beginscan(dep, DependReferenceIndexId, true, NULL, 2, keys);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Form_pg_depend d = (Form_pg_depend) GETSTRUCT(tup);
			char		kind;

			if (d->classid != RelationRelationId || d->objsubid <= 0 ||
				d->objid == RelationGetRelid(rel))
				continue;
			kind = get_rel_relkind(d->objid);
			if (kind != RELKIND_RELATION && kind != RELKIND_MATVIEW &&
				kind != RELKIND_PARTITIONED_TABLE)
				continue;
			found = d->objid;
			*attnum = (AttrNumber) d->objsubid;
			break;
		}
		systable_endscan(scan);
	}
	table_close(dep, AccessShareLock);
	return found;
}

/*
 * Refuse, before anything is changed or a table number taken, what would
 * make track() fail half-way: a caller who does not own the table, capture
 * triggers or a history left over from an earlier aisec, and another
 * table storing the table's rows as values.
 */
void
history_track_precheck(Relation rel)
{
	Oid			relid = RelationGetRelid(rel);
	const char *name = RelationGetRelationName(rel);
	AttrNumber	attnum = 0;

	if (!OwnsObject(RelationRelationId, relid))
	{
		char	   *owner = GetUserNameFromId(rel->rd_rel->relowner, false);
		char	   *me = GetUserNameFromId(GetUserId(), false);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot track table \"%s\": it is owned by role \"%s\"", name, owner),
				 errdetail("aisec.track() adds a column and triggers to the table, which only its owner may do."),
				 errhint("Have the table's owner or a superuser run ALTER TABLE %s OWNER TO %s; or call aisec.track() as a member of role \"%s\".",
						 aisec_qualified_name(relid), quote_identifier(me), owner)));
	}
	for (int i = 0; i < lengthof(capture_triggers); i++)
		if (OidIsValid(get_trigger_oid(relid, capture_triggers[i], true)))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("cannot track table \"%s\": it already has a trigger named \"%s\"",
							name, capture_triggers[i]),
					 errdetail("aisec installs its capture triggers under that name; this one is left over from an earlier aisec or is someone else's."),
					 errhint("Drop it first: DROP TRIGGER %s ON %s;",
							 capture_triggers[i], aisec_qualified_name(relid))));
	{
		Oid			user_rel = RowTypeUser(rel, &attnum);

		if (OidIsValid(user_rel))
		{
			char	   *uname = get_rel_name(user_rel);
			bool		leftover = get_rel_namespace(user_rel) ==
				get_namespace_oid(AISEC_SCHEMA, false) &&
				strncmp(uname, "history_", strlen("history_")) == 0;

			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot track table \"%s\": column \"%s\" of table %s stores its rows",
							name, get_attname(user_rel, attnum, false),
							aisec_qualified_name(user_rel)),
					 errdetail("aisec.track() adds an identity column, which PostgreSQL refuses while another table holds the table's row type."),
					 leftover ?
					 errhint("It is the history of a table an earlier aisec tracked, left behind by DROP EXTENSION: drop it with DROP TABLE %s, %s.%s;",
							 aisec_qualified_name(user_rel), AISEC_SCHEMA,
							 quote_identifier(psprintf("%s_ended", uname))) :
					 errhint("Drop that column or change its type first.")));
		}
	}
}

/* Is table number table_no's history or ended-records name taken? */
bool
history_table_no_taken(int32 table_no)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, false);
	char		name[NAMEDATALEN];

	snprintf(name, sizeof(name), "history_%d", table_no);
	if (OidIsValid(get_relname_relid(name, nsp)))
		return true;
	snprintf(name, sizeof(name), "history_%d_ended", table_no);
	return OidIsValid(get_relname_relid(name, nsp));
}

/* ---------------------------------------------------------------------
 * ALTER TABLE and DROP TABLE of a tracked table
 * ---------------------------------------------------------------------
 */

/* How a column added by ALTER TABLE ... ADD COLUMN gets values in existing rows. */
typedef enum AddedValue
{
	ADDED_NULL,					/* none: every existing row gets NULL */
	ADDED_DEFAULT,				/* a default, its own or its domain's */
	ADDED_IDENTITY,				/* identity or serial */
	ADDED_GENERATED				/* a stored generated column */
} AddedValue;

/* Would a column added by def get values in existing rows, and how? */
static AddedValue
AddedColumnValue(ColumnDef *def)
{
	ListCell   *lc;
	AddedValue	v = ADDED_NULL;

	if (def->generated != '\0')
		return ADDED_GENERATED;
	if (def->identity != '\0')
		return ADDED_IDENTITY;
	if (def->raw_default != NULL || def->cooked_default != NULL)
		v = ADDED_DEFAULT;
	foreach(lc, def->constraints)
	{
		Constraint *c = (Constraint *) lfirst(lc);

		if (!IsA(c, Constraint))
			continue;
		if (c->contype == CONSTR_GENERATED)
			return ADDED_GENERATED;
		if (c->contype == CONSTR_IDENTITY)
			return ADDED_IDENTITY;
		if (c->contype == CONSTR_DEFAULT)
			v = ADDED_DEFAULT;
	}
	if (def->typeName == NULL)
		return v;
	if (list_length(def->typeName->names) == 1 && def->typeName->arrayBounds == NIL)
	{
		static const char *const serials[] = {
			"smallserial", "serial2", "serial", "serial4", "bigserial", "serial8",
		};
		const char *tname = strVal(linitial(def->typeName->names));

		for (int i = 0; i < lengthof(serials); i++)
			if (strcmp(tname, serials[i]) == 0)
				return ADDED_IDENTITY;
	}
	if (v == ADDED_NULL)
	{
		Oid			typid = LookupTypeNameOid(NULL, def->typeName, true);

		if (OidIsValid(typid) && get_typtype(typid) == TYPTYPE_DOMAIN &&
			get_typdefault(typid) != NULL)
			v = ADDED_DEFAULT;
	}
	return v;
}

/*
 * Refuse ADD COLUMN with a default, and a column type change, on a tracked
 * table, before PostgreSQL does (its error names the history's column).
 */
static void
CheckAlterTable(AlterTableStmt *stmt)
{
	Oid			relid;
	TrackedTable tt;
	ListCell   *lc;

	if (stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid) || !history_lookup(relid, &tt))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);
		ColumnDef  *def;
		AddedValue	value;
		char	   *qrel;
		char	   *qcol;

		if (IsA(cmd, AlterTableCmd) && cmd->subtype == AT_AlterColumnType &&
			OwnsObject(RelationRelationId, relid))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot change the type of column \"%s\" of tracked table \"%s\"",
							cmd->name, get_rel_name(relid)),
					 errdetail("The table's history holds every row version with the types it was written with, and committed versions must stay readable."),
					 errhint("Add a column of the new type, fill it with UPDATE (which aisec records) and use it instead: ALTER TABLE %s ADD COLUMN <new column> <type>; UPDATE %s SET <new column> = %s::<type>;",
							 aisec_qualified_name(relid), aisec_qualified_name(relid),
							 quote_identifier(cmd->name))));
		if (!IsA(cmd, AlterTableCmd) || cmd->subtype != AT_AddColumn ||
			cmd->def == NULL || !IsA(cmd->def, ColumnDef))
			continue;
		def = (ColumnDef *) cmd->def;
		value = AddedColumnValue(def);
		if (value == ADDED_NULL)
			continue;
		qrel = aisec_qualified_name(relid);
		qcol = pstrdup(quote_identifier(def->colname));
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot add column \"%s\" with a default to tracked table \"%s\"",
						def->colname, get_rel_name(relid)),
				 errdetail("Existing rows would get values that their history does not record."),
				 value == ADDED_GENERATED ?
				 errhint("A generated column cannot be added to a tracked table: add a plain column with ALTER TABLE %s ADD COLUMN %s <type>, and fill it with UPDATE, which aisec records.",
						 qrel, qcol) :
				 value == ADDED_IDENTITY ?
				 errhint("Add the column without it, fill it with UPDATE (which aisec records), then make it an identity column: ALTER TABLE %s ADD COLUMN %s <type>; UPDATE %s SET %s = <value>; ALTER TABLE %s ALTER COLUMN %s SET NOT NULL, ALTER COLUMN %s ADD GENERATED BY DEFAULT AS IDENTITY (START WITH <a value above the others>);",
						 qrel, qcol, qrel, qcol, qrel, qcol, qcol) :
				 errhint("Add the column without a default, fill it with UPDATE (which aisec records), then set the default: ALTER TABLE %s ADD COLUMN %s <type>; UPDATE %s SET %s = <value>; ALTER TABLE %s ALTER COLUMN %s SET DEFAULT <value>;",
						 qrel, qcol, qrel, qcol, qrel, qcol)));
	}
}

/* Refuse DROP TABLE of a tracked table the caller owns, naming the way out. */
static void
CheckDropTable(DropStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		TrackedTable tt;
		char	   *lit;

		if (!OidIsValid(relid) || !OwnsObject(RelationRelationId, relid) ||
			!history_lookup(relid, &tt))
			continue;
		lit = RelationLiteral(relid);
		/* As the sql_drop guard does: the drop would have taken history. */
		aisec_audit_refusal("DROP", psprintf("history_%d", tt.table_no));
		if (tt.dataset_id == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop table \"%s\": it is tracked by aisec", get_rel_name(relid)),
					 errdetail("aisec keeps its history until it is untracked."),
					 errhint("Stop tracking it first: SELECT aisec.untrack(%s); then DROP TABLE %s;",
							 lit, aisec_qualified_name(relid))));
		else
		{
			AisecSpi	spi;
			Dataset		ds;

			aisec_spi_begin(&spi);
			ds = version_load_dataset_by_id(tt.dataset_id, InvalidSnapshot);
			aisec_spi_end(&spi);
			ereport(ERROR,
					(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
					 errmsg("cannot drop table \"%s\": it is tracked by aisec and belongs to dataset \"%s\"",
							get_rel_name(relid), ds.name),
					 errdetail("Its history holds the dataset's committed versions, which never change."),
					 errhint("Take it out of the dataset and stop tracking it first: SELECT aisec.remove_table(%s, %s); SELECT aisec.untrack(%s); then DROP TABLE %s;",
							 quote_literal_cstr(ds.name), lit, lit,
							 aisec_qualified_name(relid))));
		}
	}
}

/*
 * Event trigger (ddl_command_start): refuse ALTER TABLE ... ADD COLUMN
 * with a default and DROP TABLE of a tracked table, saying what to run
 * instead, before PostgreSQL's own errors (which name aisec's history
 * table or hint at a CASCADE aisec refuses).
 */
PG_FUNCTION_INFO_V1(aisec_track_ddl_start_check);
Datum
aisec_track_ddl_start_check(PG_FUNCTION_ARGS)
{
	EventTriggerData *ev;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by event trigger manager",
						"aisec.track_ddl_start_check")));
	ev = (EventTriggerData *) fcinfo->context;
	if (ev->parsetree == NULL)
		PG_RETURN_VOID();
	if (IsA(ev->parsetree, AlterTableStmt))
		CheckAlterTable((AlterTableStmt *) ev->parsetree);
	else if (IsA(ev->parsetree, DropStmt) &&
			 ((DropStmt *) ev->parsetree)->removeType == OBJECT_TABLE)
		CheckDropTable((DropStmt *) ev->parsetree);
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * DROP EXTENSION aisec
 * ---------------------------------------------------------------------
 */

/*
 * Does stmt drop extension aisec, or schema aisec with CASCADE, as a
 * caller who owns it?  (If not, PostgreSQL refuses it or drops nothing of
 * aisec's.)
 */
static bool
DropsAisec(DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_EXTENSION &&
		!(stmt->removeType == OBJECT_SCHEMA && stmt->behavior == DROP_CASCADE))
		return false;
	foreach(lc, stmt->objects)
	{
		Node	   *obj = (Node *) lfirst(lc);
		Oid			oid;

		if (!IsA(obj, String) || strcmp(strVal(obj), stmt->removeType == OBJECT_EXTENSION ?
										AISEC_EXTENSION : AISEC_SCHEMA) != 0)
			continue;
		if (stmt->removeType == OBJECT_EXTENSION)
		{
			oid = get_extension_oid(AISEC_EXTENSION, true);
			return OidIsValid(oid) && OwnsObject(ExtensionRelationId, oid);
		}
		oid = get_namespace_oid(AISEC_SCHEMA, true);
		return OidIsValid(oid) && OidIsValid(get_extension_oid(AISEC_EXTENSION, true)) &&
			OwnsObject(NamespaceRelationId, oid);
	}
	return false;
}

/* list_sort comparator: tracked tables by table number. */
static int
CompareTableNo(const ListCell *a, const ListCell *b)
{
	int32		x = ((const TrackedTable *) lfirst(a))->table_no;
	int32		y = ((const TrackedTable *) lfirst(b))->table_no;

	return (x > y) - (x < y);
}

/* Every tracked table whose relation exists, in table number order. */
static List *
TrackedTables(void)
{
	Relation	reg = table_open(aisec_relid("tracked"), AccessShareLock);
	Snapshot	snap = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(reg, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(reg, NULL);
	List	   *out = NIL;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		TrackedTable *tt = palloc0(sizeof(TrackedTable));

		slot_getallattrs(slot);
		tt->table_no = DatumGetInt32(slot->tts_values[TR_TABLE_NO]);
		tt->relid = DatumGetObjectId(slot->tts_values[TR_REL]);
		tt->history = DatumGetObjectId(slot->tts_values[TR_HISTORY]);
		tt->ended = DatumGetObjectId(slot->tts_values[TR_ENDED]);
		tt->dataset_id = slot->tts_isnull[TR_DATASET] ? 0 :
			DatumGetInt32(slot->tts_values[TR_DATASET]);
		if (get_rel_name(tt->relid) != NULL)
			out = lappend(out, tt);
	}
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(reg, AccessShareLock);
	list_sort(out, CompareTableNo);
	return out;
}

/* Refuse DROP EXTENSION aisec (no CASCADE) while tables are tracked. */
static void
RefuseDrop(List *tables)
{
	StringInfoData names;
	ListCell   *lc;
	int			n = list_length(tables);
	int			shown = 0;
	int64		versions = 0;
	AisecSpi	spi;
	bool		isnull;

	initStringInfo(&names);
	foreach(lc, tables)
	{
		TrackedTable *tt = (TrackedTable *) lfirst(lc);

		if (shown++ == 10)
		{
			appendStringInfo(&names, " and %d more", n - 10);
			break;
		}
		appendStringInfo(&names, "%s%s", shown > 1 ? ", " : "",
						 aisec_qualified_name(tt->relid));
	}
	aisec_spi_begin(&spi);
	if (aisec_spi_run("SELECT pg_catalog.count(*) FROM aisec.version",
					  true, 0, NULL, NULL, NULL, NULL) == 1)
		versions = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	aisec_spi_end(&spi);
	ereport(ERROR,
			(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
			 errmsg_plural("cannot drop extension \"%s\": %d table is tracked",
						   "cannot drop extension \"%s\": %d tables are tracked",
						   n, AISEC_EXTENSION, n),
			 errdetail("Tracked: %s.  DROP EXTENSION %s CASCADE would also drop the history of %s (every row version, those of all " INT64_FORMAT " committed versions included), %s aisec_rid column%s and capture triggers, and the masked views.",
					   names.data, AISEC_EXTENSION,
					   n == 1 ? "this table" : psprintf("these %d tables", n),
					   versions, n == 1 ? "its" : "their", n == 1 ? "" : "s"),
			 errhint("Copy out what must be kept first (aisec.materialize() copies a version into a plain table), then run DROP EXTENSION %s CASCADE.",
					 AISEC_EXTENSION)));
}

/*
 * Add to objs every relation in schema aisec named like a history table
 * (history_<n>, history_<n>_ended) that is not an extension member, is
 * owned by the extension owner and is not in objs yet: those an earlier
 * aisec left behind.  Return how many were added.
 */
static int
AddHistoryTables(ObjectAddresses *objs)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, false);
	Oid			owner = aisec_extension_owner();
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	int			n = 0;

	ScanKeyInit(&key, Anum_pg_class_relnamespace, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(nsp));
	scan = systable_beginscan(rel, ClassNameNspIndexId, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class c = (Form_pg_class) GETSTRUCT(tup);
		const char *name = NameStr(c->relname);
		const char *p = name + strlen("history_");
		ObjectAddress addr;

		if (c->relkind != RELKIND_RELATION || c->relowner != owner ||
			strncmp(name, "history_", strlen("history_")) != 0 || !isdigit((unsigned char) *p))
			continue;
		while (isdigit((unsigned char) *p))
			p++;
		if (*p != '\0' && strcmp(p, "_ended") != 0)
			continue;
		if (OidIsValid(getExtensionOfObject(RelationRelationId, c->oid)))
			continue;
		ObjectAddressSet(addr, RelationRelationId, c->oid);
		if (!object_address_present(&addr, objs))
		{
			add_exact_object_address(&addr, objs);
			n++;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return n;
}

/*
 * With DROP EXTENSION aisec CASCADE: drop every history table, and the
 * aisec_rid column and capture triggers of every tracked table, in this
 * transaction.  Deleted as objects (as a CASCADE deletes a column whose
 * type is dropped), so no ALTER TABLE runs, no event trigger fires for
 * them and no ownership of the tracked tables is needed.
 */
static void
DropTracking(List *tables)
{
	ObjectAddresses *objs = new_object_addresses();
	ListCell   *lc;
	int			nhist = 0;

	foreach(lc, tables)
	{
		TrackedTable *tt = (TrackedTable *) lfirst(lc);
		AttrNumber	ridatt;
		ObjectAddress addr;

		LockRelationOid(tt->relid, AccessExclusiveLock);
		notes_forget(tt->relid);
		for (int i = 0; i < lengthof(capture_triggers); i++)
		{
			Oid			trig = get_trigger_oid(tt->relid, capture_triggers[i], true);

			if (OidIsValid(trig))
			{
				ObjectAddressSet(addr, TriggerRelationId, trig);
				add_exact_object_address(&addr, objs);
			}
		}
		ridatt = get_attnum(tt->relid, RID_COLUMN);
		if (ridatt != InvalidAttrNumber)
		{
			ObjectAddressSubSet(addr, RelationRelationId, tt->relid, ridatt);
			add_exact_object_address(&addr, objs);
		}
		for (int i = 0; i < 2; i++)
		{
			Oid			hist = i == 0 ? tt->history : tt->ended;

			if (get_rel_name(hist) == NULL)
				continue;
			ObjectAddressSet(addr, RelationRelationId, hist);
			add_exact_object_address(&addr, objs);
			nhist++;
		}
	}
	nhist += AddHistoryTables(objs);
	if (tables == NIL && nhist == 0)
		return;
	performMultipleDeletions(objs, DROP_CASCADE, 0);
	CommandCounterIncrement();
	if (tables == NIL)
		ereport(NOTICE,
				(errmsg("dropped %d history table%s an earlier aisec left behind",
						nhist, nhist == 1 ? "" : "s")));
	else
		ereport(NOTICE,
				(errmsg("dropped the history of %d tracked table%s (%d history table%s), %s aisec_rid column%s and capture triggers",
						list_length(tables), list_length(tables) == 1 ? "" : "s",
						nhist, nhist == 1 ? "" : "s",
						list_length(tables) == 1 ? "its" : "their",
						list_length(tables) == 1 ? "" : "s")));
}

/*
 * Event trigger (ddl_command_start of DROP EXTENSION and DROP SCHEMA):
 * when extension aisec, or schema aisec with CASCADE, is dropped by its
 * owner, refuse without CASCADE while tables are tracked; with CASCADE,
 * drop what PostgreSQL would leave behind: every history table (raw rows),
 * the aisec_rid columns and the capture triggers.
 */
PG_FUNCTION_INFO_V1(aisec_drop_extension_check);
Datum
aisec_drop_extension_check(PG_FUNCTION_ARGS)
{
	EventTriggerData *ev;
	DropStmt   *stmt;
	List	   *tables;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" was not called by event trigger manager",
						"aisec.drop_extension_check")));
	ev = (EventTriggerData *) fcinfo->context;
	if (ev->parsetree == NULL || !IsA(ev->parsetree, DropStmt))
		PG_RETURN_VOID();
	stmt = (DropStmt *) ev->parsetree;
	if (!DropsAisec(stmt))
		PG_RETURN_VOID();
	tables = TrackedTables();
	if (stmt->behavior != DROP_CASCADE)
	{
		if (tables != NIL)
			RefuseDrop(tables);
		PG_RETURN_VOID();
	}
	DropTracking(tables);
	PG_RETURN_VOID();
}
