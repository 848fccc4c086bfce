/*
 * erasure_subject.c
 *		Subject columns: aisec.declare_subject and aisec.undeclare_subject,
 *		and the trigger that guards the erasure register.
 *
 * A subject column is a column of an ordinary or partitioned user table
 * that identifies a person (customer id, e-mail, national id).  Erasure
 * finds a subject's rows by comparing the column with the identifier,
 * with the column type's default equality operator (so an index on the
 * column serves the lookup), which is why declaring checks that the type
 * has one and warns when no index leads with the column on a large table.
 * Declaring needs SELECT on the column: a declared column becomes one a
 * DPO may count rows of by value (aisec.erasure_preview), and aisec never
 * widens access.  Declarations are kept by column name (see
 * zzz_erasure.sql); declaring one twice is an error, not a no-op, so a
 * setup script that declares the wrong table learns so.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "access/transam.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "audit/audit.h"
#include "scaleout/scaleout.h"
#include "erasure_internal.h"

/* Tables with more rows than this (pg_class.reltuples) want an index. */
#define LARGE_TABLE_ROWS	10000

/* Raise wrong_object_type unless rel is a user table erasure can serve. */
static void
CheckSubjectTable(Relation rel)
{
	const char *name = RelationGetRelationName(rel);
	Oid			nsp = RelationGetNamespace(rel);

	if (IsCatalogRelation(rel) || IsSystemRelation(rel) ||
		IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
		strcmp(get_namespace_name(nsp), "information_schema") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a system catalog", name),
				 errdetail("Subject columns are declared on user tables.")));
	if (strcmp(get_namespace_name(nsp), AISEC_SCHEMA) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is one of aisec's own tables", name),
				 errdetail("aisec's history and records are reached by erasure itself, not through subject columns.")));
	if (rel->rd_rel->relkind != RELKIND_RELATION &&
		rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", name),
				 errdetail("Subject columns are declared on ordinary or partitioned tables, whose rows erasure can delete."),
				 errhint("Declare the column on the table the view, materialized view or foreign table reads.")));
	if (rel->rd_rel->relispartition)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a partition", name),
				 errhint("Declare the column on its partitioned table %s, which covers every partition.",
						 aisec_qualified_name(get_partition_parent(RelationGetRelid(rel), false)))));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a temporary table", name),
				 errdetail("A temporary table ends with its session; the declaration would outlive it.")));
}

/* True if a valid, non-partial index of rel has attnum as its first key. */
static bool
HasLeadingIndex(Relation rel, AttrNumber attnum)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, indexes)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index ind;

		if (!HeapTupleIsValid(tup))
			continue;
		ind = (Form_pg_index) GETSTRUCT(tup);
		if (ind->indnatts > 0 && ind->indkey.values[0] == attnum && ind->indisvalid &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL))
			found = true;
		ReleaseSysCache(tup);
		if (found)
			break;
	}
	list_free(indexes);
	return found;
}

/*
 * The equality operator erasure compares a column of type typid with:
 * the default one of its base type (a domain's checks need not run: a
 * value that violates them is in no row).  It must be built in, since a
 * preview runs it as the extension owner: a type or operator a table
 * owner made never runs with more rights than its owner's.
 */
Oid
erasure_eq_operator(Oid typid, const char *col)
{
	Oid			base = getBaseType(typid);
	TypeCacheEntry *tce = lookup_type_cache(base, TYPECACHE_EQ_OPR);

	if (!OidIsValid(tce->eq_opr))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("column \"%s\" has type %s, which has no default equality operator",
						col, format_type_be(typid)),
				 errdetail("Erasure finds a subject's rows by equality with the identifier.")));
	if (tce->eq_opr >= FirstNormalObjectId)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("column \"%s\" has type %s, whose equality operator is not built in",
						col, format_type_be(typid)),
				 errdetail("Erasure compares subject columns as the extension owner, so only with PostgreSQL's own operators."),
				 errhint("Declare a column of a built-in type (text, integer, uuid, ...) or of a domain over one.")));
	return tce->eq_opr;
}

/* Is (relid, col) declared, reading with the latest snapshot? */
static bool
IsDeclared(Oid relid, const char *col)
{
	AisecSpi	spi;
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		args[2];
	NameData	attname;
	int			n;

	namestrcpy(&attname, col);
	args[0] = ObjectIdGetDatum(relid);
	args[1] = NameGetDatum(&attname);
	aisec_spi_begin(&spi);
	n = aisec_spi_read("SELECT 1 FROM aisec.erasure_subject "
					   "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
					   "AND attname OPERATOR(pg_catalog.=) $2",
					   true, 2, argtypes, args, NULL, GetLatestSnapshot());
	aisec_spi_end(&spi);
	return n > 0;
}

/* NULL arguments of declare_subject/undeclare_subject are errors. */
static void
RequireArgs(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("column must not be null")));
}

/* Audit a declaration change of column col of the table named object. */
static void
AuditSubject(const char *action, const char *object, const char *col,
			 const char *type, int indexed)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"column\": ");
	escape_json(&detail, col);
	if (type != NULL)
	{
		appendStringInfoString(&detail, ", \"type\": ");
		escape_json(&detail, type);
		appendStringInfo(&detail, ", \"indexed\": %s", indexed ? "true" : "false");
	}
	appendStringInfoChar(&detail, '}');
	(void) aisec_audit_log(action, object, detail.data);
}

/* SQL: aisec.declare_subject(rel, col) declares a subject column. */
PG_FUNCTION_INFO_V1(aisec_declare_subject);
Datum
aisec_declare_subject(PG_FUNCTION_ARGS)
{
	Oid			relid;
	const char *col;
	Relation	rel;
	AttrNumber	attnum;
	Oid			typid;
	bool		indexed;
	AisecSpi	spi;
	Oid			argtypes[3] = {OIDOID, NAMEOID, TEXTOID};
	Datum		args[3];
	TrackedTable tt;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_DPO, "aisec.declare_subject()");
	aisec_prevent_if_read_only("aisec.declare_subject()");
	RequireArgs(fcinfo);
	relid = PG_GETARG_OID(0);
	col = NameStr(*PG_GETARG_NAME(1));

	/* Held to the end of the transaction: the table cannot go meanwhile. */
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	CheckSubjectTable(rel);
	aisec_citus_refuse_table(relid, "aisec.declare_subject()");

	attnum = get_attnum(relid, col);
	if (attnum == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						col, RelationGetRelationName(rel))));
	if (attnum < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("column \"%s\" of relation \"%s\" is a system column",
						col, RelationGetRelationName(rel))));
	if (strcmp(col, "aisec_rid") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_COLUMN_REFERENCE),
				 errmsg("column \"aisec_rid\" is aisec's row id, not a subject's identifier"),
				 errhint("Declare the column that names the person, such as a customer id or an e-mail address.")));
	typid = get_atttype(relid, attnum);
	(void) erasure_eq_operator(typid, col);
	if (pg_attribute_aclcheck(relid, attnum, GetUserId(), ACL_SELECT) != ACLCHECK_OK &&
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for column \"%s\" of relation \"%s\"",
						col, RelationGetRelationName(rel)),
				 errdetail("A subject column's rows can be counted by value by every DPO; declaring one needs SELECT on it."),
				 errhint("The table's owner, or a role with SELECT on the column, declares it.")));

	LockRelationOid(aisec_relid("erasure_subject"), ShareRowExclusiveLock);
	if (IsDeclared(relid, col))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("column \"%s\" of relation \"%s\" is already a subject column",
						col, RelationGetRelationName(rel)),
				 errhint("SELECT * FROM aisec.subject_columns lists the declared columns.")));

	args[0] = ObjectIdGetDatum(relid);
	args[1] = PG_GETARG_DATUM(1);
	args[2] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.erasure_subject (rel, attname, declared_by, declared_at) "
						 "VALUES ($1::pg_catalog.regclass, $2, $3, pg_catalog.now())",
						 true, 3, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);

	/* A tracked table's history gets the column's subject index. */
	if (history_lookup(relid, &tt))
		(void) erasure_history_sync(relid, &tt);
	indexed = HasLeadingIndex(rel, attnum);
	if (!indexed && rel->rd_rel->reltuples > LARGE_TABLE_ROWS)
		ereport(WARNING,
				(errmsg("no index of \"%s\" starts with subject column \"%s\"",
						RelationGetRelationName(rel), col),
				 errdetail("The table has about %.0f rows; finding a subject's rows will scan them all.",
						   (double) rel->rd_rel->reltuples),
				 errhint("CREATE INDEX ON %s (%s);", aisec_qualified_name(relid),
						 quote_identifier(col))));
	AuditSubject("erasure.declare_subject", aisec_qualified_name(relid), col,
				 format_type_be(typid), indexed);
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}

/* SQL: aisec.undeclare_subject(rel, col) takes a declaration back. */
PG_FUNCTION_INFO_V1(aisec_undeclare_subject);
Datum
aisec_undeclare_subject(PG_FUNCTION_ARGS)
{
	Oid			relid;
	const char *col;
	char	   *name;
	AisecSpi	spi;
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		args[2];
	TrackedTable tt;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_DPO, "aisec.undeclare_subject()");
	aisec_prevent_if_read_only("aisec.undeclare_subject()");
	RequireArgs(fcinfo);
	relid = PG_GETARG_OID(0);
	col = NameStr(*PG_GETARG_NAME(1));
	/* A dropped table's declaration can be taken back by its OID. */
	name = get_rel_name(relid) ? aisec_qualified_name(relid) : psprintf("%u", relid);

	LockRelationOid(aisec_relid("erasure_subject"), ShareRowExclusiveLock);
	if (!IsDeclared(relid, col))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("column \"%s\" of relation %s is not a subject column", col, name),
				 errhint("SELECT * FROM aisec.subject_columns lists the declared columns.")));
	args[0] = ObjectIdGetDatum(relid);
	args[1] = PG_GETARG_DATUM(1);
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("DELETE FROM aisec.erasure_subject "
						 "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
						 "AND attname OPERATOR(pg_catalog.=) $2",
						 true, 2, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);
	/* The history's subject index of the column goes with it. */
	if (history_lookup(relid, &tt))
	{
		LockRelationOid(relid, AccessShareLock);
		(void) erasure_history_sync(relid, &tt);
	}
	AuditSubject("erasure.undeclare_subject", name, col, NULL, 0);
	PG_RETURN_VOID();
}

/* Trigger: refuse direct changes to the erasure register (see audit.h). */
PG_FUNCTION_INFO_V1(aisec_erasure_refuse_change);
Datum
aisec_erasure_refuse_change(PG_FUNCTION_ARGS)
{
	aisec_audit_refuse_write(fcinfo, "aisec.erasure_refuse_change",
							 "aisec's erasure register changes only through aisec's functions, for every role including its owner.",
							 "Use aisec.declare_subject, aisec.request_erasure or aisec.approve_erasure.");
	return PointerGetDatum(NULL);
}
