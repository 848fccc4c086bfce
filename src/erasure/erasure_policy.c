/*
 * erasure_policy.c
 *		Erasure policies for derived rows: aisec.set_erasure_policy, and
 *		the lookup aisec.erase and the preview make of a table's policy.
 *
 * A row derived from a subject's row (found through lineage, doc/
 * lineage.md) is erased with it by default ('delete').  A table whose
 * rows are aggregates may say 'keep_aggregate': a derived row computed
 * from at least min_parents distinct parent rows (one level up the
 * lineage) is kept, since it does not identify one person, and erasure
 * does not follow lineage below it (erasure_derived.c).  The policy is
 * kept per table in aisec.erasure_policy (a regclass, dumped by name, as
 * aisec.erasure_subject is); a table with no row there is 'delete'.  The
 * table changes only through set_erasure_policy, which writes as the
 * extension owner; the register's trigger refuses every other UPDATE,
 * DELETE or TRUNCATE.  Setting a policy is audited (erasure.policy).
 */
#include "postgres.h"

#include "access/relation.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "scaleout/scaleout.h"
#include "erasure_internal.h"

/* Raise wrong_object_type unless rel is a user table that can hold derived rows. */
static void
CheckPolicyTable(Relation rel)
{
	const char *name = RelationGetRelationName(rel);
	Oid			nsp = RelationGetNamespace(rel);

	if (IsCatalogRelation(rel) || IsSystemRelation(rel) ||
		IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
		strcmp(get_namespace_name(nsp), "information_schema") == 0 ||
		strcmp(get_namespace_name(nsp), AISEC_SCHEMA) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a system or aisec table", name),
				 errdetail("Erasure policies are set on the user tables rows are derived into.")));
	if (rel->rd_rel->relkind != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", name),
				 errdetail("Derived rows are rows of tracked tables, which are ordinary tables.")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a temporary table", name),
				 errdetail("A temporary table ends with its session; the policy would outlive it.")));
}

/*
 * The policy of table relid, read with the latest snapshot: true for
 * keep_aggregate (its threshold in *min_parents), false for delete.
 */
bool
erasure_policy_of(Oid relid, int32 *min_parents)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	bool		keep = false;

	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT min_parents FROM aisec.erasure_policy "
					   "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
					   "  AND policy OPERATOR(pg_catalog.=) 'keep_aggregate'",
					   true, 1, &argtype, &arg, NULL, GetLatestSnapshot()) > 0)
	{
		bool		isnull;

		*min_parents = DatumGetInt32(aisec_spi_value(0, 0, &isnull));
		keep = true;
	}
	aisec_spi_end(&spi);
	return keep;
}

/*
 * Remove the policy of relid, a table that no longer exists; false if it
 * has none.  Audited like a change.
 */
static bool
ForgetDroppedTable(Oid relid)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	int			n;

	LockRelationOid(aisec_relid("erasure_policy"), ShareRowExclusiveLock);
	aisec_spi_begin(&spi);
	n = aisec_spi_run("DELETE FROM aisec.erasure_policy "
					  "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
					  true, 1, &argtype, &arg, NULL, NULL);
	aisec_spi_end(&spi);
	if (n > 0)
		(void) aisec_audit_log("erasure.policy", psprintf("%u", relid),
							   "{\"policy\": \"delete\", \"dropped_table\": true}");
	return n > 0;
}

/*
 * SQL: aisec.set_erasure_policy(rel, policy, min_parents): set what erase
 * does with the rows of rel derived from a subject's rows.
 */
PG_FUNCTION_INFO_V1(aisec_set_erasure_policy);
Datum
aisec_set_erasure_policy(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *policy;
	int32		min_parents;
	Relation	rel;
	char	   *name;
	AisecSpi	spi;
	Oid			argtypes[4] = {OIDOID, TEXTOID, INT4OID, TEXTOID};
	Datum		args[4];
	char	   *before = NULL;
	int32		before_min = 0;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_DPO, "aisec.set_erasure_policy()");
	aisec_prevent_if_read_only("aisec.set_erasure_policy()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("erasure policy must not be null"),
				 errhint("The policy is 'delete' or 'keep_aggregate'.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("min_parents must not be null")));
	relid = PG_GETARG_OID(0);
	policy = text_to_cstring(PG_GETARG_TEXT_PP(1));
	min_parents = PG_GETARG_INT32(2);
	if (strcmp(policy, "delete") != 0 && strcmp(policy, "keep_aggregate") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown erasure policy"),
				 errhint("The policy is 'delete' or 'keep_aggregate'.")));
	if (min_parents < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_parents must be at least 2, not %d", min_parents),
				 errdetail("A row computed from one parent row identifies that row's person.")));

	/* Held to the end of the transaction: the table cannot go meanwhile. */
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
	{
		/* A dropped table's policy is taken back by its OID with 'delete'. */
		if (strcmp(policy, "delete") == 0 && ForgetDroppedTable(relid))
			PG_RETURN_VOID();
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	}
	CheckPolicyTable(rel);
	aisec_citus_refuse_table(relid, "aisec.set_erasure_policy()");
	name = aisec_qualified_name(relid);

	/* Changes serialize on the table's lock; the previous policy is audited. */
	LockRelationOid(aisec_relid("erasure_policy"), ShareRowExclusiveLock);
	args[0] = ObjectIdGetDatum(relid);
	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT policy, min_parents FROM aisec.erasure_policy "
					   "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
					   true, 1, argtypes, args, NULL, GetLatestSnapshot()) > 0)
	{
		bool		isnull;

		before = TextDatumGetCString(aisec_spi_value(0, 0, &isnull));
		before_min = DatumGetInt32(aisec_spi_value(0, 1, &isnull));
	}
	args[1] = CStringGetTextDatum(policy);
	args[2] = Int32GetDatum(min_parents);
	args[3] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	(void) aisec_spi_run("INSERT INTO aisec.erasure_policy AS p (rel, policy, min_parents, set_by, set_at) "
						 "VALUES ($1::pg_catalog.regclass, $2, $3, $4, pg_catalog.now()) "
						 "ON CONFLICT (rel) DO UPDATE SET policy = EXCLUDED.policy, "
						 "  min_parents = EXCLUDED.min_parents, set_by = EXCLUDED.set_by, "
						 "  set_at = EXCLUDED.set_at",
						 true, 4, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"policy\": \"%s\", \"min_parents\": %d, \"before\": ",
					 policy, min_parents);
	if (before != NULL)
		appendStringInfo(&detail, "{\"policy\": \"%s\", \"min_parents\": %d}}",
						 strcmp(before, "keep_aggregate") == 0 ? "keep_aggregate" : "delete",
						 before_min);
	else
		appendStringInfoString(&detail, "null}");
	(void) aisec_audit_log("erasure.policy", name, detail.data);
	relation_close(rel, NoLock);
	PG_RETURN_VOID();
}
