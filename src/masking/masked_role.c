/*
 * masked_role.c
 *		Masked roles: aisec.mask_role() and aisec.unmask_role(), and who may
 *		use the keyed masking functions.
 *
 * mask_role() revokes every privilege the role holds on governed tables
 * and then proves that none remains (through PUBLIC or role membership
 * either), since any privilege on a table can leak its values: SELECT
 * directly, INSERT and REFERENCES through unique and foreign-key
 * violations, UPDATE and DELETE through WHERE clauses and RETURNING.  The
 * same holds for every relation sharing a governed table's rows: its
 * partitions and inheritance children, recursively, and the tables it is
 * a partition or child of.  Relations that join that set later (ATTACH
 * PARTITION, INHERIT, CREATE TABLE ... PARTITION OF / INHERITS) are
 * checked by the event trigger (masking_rules.c).  The role then reads the
 * masked views (masked_view.c) and nothing else.
 *
 * mask_require_keyed_use runs inside masked queries and parallel workers,
 * so its lookup is read-only.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "core/core.h"
#include "audit/audit.h"
#include "masking_internal.h"

/*
 * What a masked role reads masked views with comes from its membership in
 * aisec_masked_reader, which the install script grants USAGE on schema
 * aisec_masked and EXECUTE on the functions the views call.  Granting
 * those to each masked role directly, as aisec 0.1.0 did, would make them
 * part of the extension's initial privileges when an update script calls
 * mask_role, which pg_dump then leaves out; a role membership is not an
 * object privilege.  These are the direct grants 0.1.0 made, which
 * mask_role and unmask_role take back.
 */
#define MASKED_READER_ROLE	"aisec_masked_reader"
static const char *const direct_reading_functions =
"aisec.mask_partial(text, integer, integer, text), aisec.mask_email(text), "
"aisec.mask_digits(text, integer, text), aisec.generalize(smallint, smallint), "
"aisec.generalize(integer, integer), aisec.generalize(bigint, bigint), "
"aisec.generalize(numeric, numeric), aisec.generalize(date, text), "
"aisec.generalize(timestamp, text), aisec.generalize(timestamptz, text), "
"aisec.pseudonymize(text, text), aisec.ff1_encrypt(text, text, text, bytea), "
"aisec.sticky_noise(double precision, text, double precision)";

/* Return the OIDs of the masked roles. */
List *
mask_masked_roles(void)
{
	return mask_owner_oids("SELECT role::pg_catalog.oid FROM aisec.masked_role ORDER BY 1");
}

/* Quoted name of a role. */
static const char *
QuotedRole(Oid roleid)
{
	return quote_identifier(GetUserNameFromId(roleid, false));
}

/* The tables relid inherits from, directly or not (partitioned parents too). */
static List *
AncestorsOf(Oid relid)
{
	List	   *result = NIL;
	List	   *todo = list_make1_oid(relid);
	Relation	inh = table_open(InheritsRelationId, AccessShareLock);

	while (todo != NIL)
	{
		Oid			child = linitial_oid(todo);
		ScanKeyData key;
		SysScanDesc scan;
		HeapTuple	tup;

		todo = list_delete_first(todo);
		ScanKeyInit(&key, Anum_pg_inherits_inhrelid, BTEqualStrategyNumber,
					F_OIDEQ, ObjectIdGetDatum(child));
		scan = systable_beginscan(inh, InheritsRelidSeqnoIndexId, true, NULL, 1, &key);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			Oid			parent = ((Form_pg_inherits) GETSTRUCT(tup))->inhparent;

			if (!list_member_oid(result, parent))
			{
				result = lappend_oid(result, parent);
				todo = lappend_oid(todo, parent);
			}
		}
		systable_endscan(scan);
	}
	table_close(inh, AccessShareLock);
	return result;
}

/*
 * relid and every relation that holds or shows its rows: its partitions and
 * inheritance children, recursively (a partitioned table's rows live in
 * its partitions; a parent's SELECT shows its children's rows), and the
 * tables it is a partition or child of (reading them reads its rows).  Any
 * privilege on one of these reaches the table's data.
 */
static List *
SharingRows(Oid relid)
{
	return list_concat_unique_oid(find_all_inheritors(relid, NoLock, NULL), AncestorsOf(relid));
}

/*
 * Revoke every privilege roleid holds on relid, a relation sharing the rows
 * of governed table governed (or governed itself), then prove none is left.
 */
static void
ShieldRoleFromRelation(Oid roleid, Oid relid, Oid governed)
{
	const char *qrole = QuotedRole(roleid);
	char	   *qrel = aisec_qualified_name(relid);
	char	   *nspname = get_namespace_name(get_rel_namespace(relid));
	char	   *relname = get_rel_name(relid);
	AisecSpi	spi;

	if (has_privs_of_role(roleid, mask_relation_owner(relid)))
	{
		if (relid == governed)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_GRANT_OPERATION),
					 errmsg("role \"%s\" owns governed table \"%s.%s\" and cannot be masked",
							GetUserNameFromId(roleid, false), nspname, relname),
					 errdetail("A table's owner can always read it.")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" owns table \"%s.%s\", which shares rows with governed table %s, and cannot be masked",
						GetUserNameFromId(roleid, false), nspname, relname,
						aisec_qualified_name(governed)),
				 errdetail("Partitions, inheritance children and parents of a governed table hold or show its rows; their owner can always read them.")));
	}
	aisec_spi_begin(&spi);
	aisec_spi_ddl(true, "REVOKE ALL ON TABLE %s FROM %s", qrel, qrole);
	aisec_spi_end(&spi);
	CommandCounterIncrement();
	if (pg_class_aclmask(relid, roleid, ACL_ALL_RIGHTS_RELATION, ACLMASK_ANY) != 0 ||
		pg_attribute_aclcheck_all(relid, roleid, ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_REFERENCES,
								  ACLMASK_ANY) == ACLCHECK_OK)
	{
		if (relid == governed)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_GRANT_OPERATION),
					 errmsg("role \"%s\" still holds privileges on governed table \"%s.%s\"",
							GetUserNameFromId(roleid, false), nspname, relname),
					 errdetail("They come from PUBLIC or from a role it is a member of; any privilege on the "
							   "table can leak its values (through SELECT, RETURNING, WHERE, or unique "
							   "and foreign-key violations)."),
					 errhint("REVOKE them from PUBLIC or from that role, then call aisec.mask_role() again.")));
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" still holds privileges on table \"%s.%s\", which shares rows with governed table %s",
						GetUserNameFromId(roleid, false), nspname, relname, aisec_qualified_name(governed)),
				 errdetail("They come from PUBLIC or from a role it is a member of; partitions, inheritance "
						   "children and parents of a governed table hold or show its rows."),
				 errhint("REVOKE them from PUBLIC or from that role, then try again.")));
	}
}

/* Shield roleid from governed table relid and every relation sharing its rows. */
static void
ShieldRoleFromTable(Oid roleid, Oid relid)
{
	List	   *rels = SharingRows(relid);
	ListCell   *lc;

	foreach(lc, rels)
		ShieldRoleFromRelation(roleid, lfirst_oid(lc), relid);
}

/* Grant or revoke what a masked role reads masked views with. */
static void
GrantMaskedReading(const char *qrole, bool grant)
{
	StringInfoData sql;
	List	   *rels = mask_ruled_tables();
	ListCell   *lc;
	const char *verb = grant ? "GRANT" : "REVOKE";
	const char *prep = grant ? "TO" : "FROM";
	AisecSpi	spi;

	initStringInfo(&sql);
	appendStringInfo(&sql, "%s " MASKED_READER_ROLE " %s %s; ", verb, prep, qrole);
	appendStringInfo(&sql, "REVOKE USAGE ON SCHEMA " MASKED_SCHEMA " FROM %s; ", qrole);
	appendStringInfo(&sql, "REVOKE EXECUTE ON FUNCTION %s FROM %s; ", direct_reading_functions, qrole);
	foreach(lc, rels)
	{
		Oid			view = mask_view_of(lfirst_oid(lc));

		if (OidIsValid(view))
			appendStringInfo(&sql, "%s SELECT ON %s %s %s; ", verb,
							 quote_qualified_identifier(MASKED_SCHEMA, get_rel_name(view)), prep, qrole);
	}
	aisec_spi_begin(&spi);
	aisec_spi_ddl(true, "%s", sql.data);
	aisec_spi_end(&spi);
}

/* Shield every masked role from relid (called when relid gets its first rule). */
void
mask_shield_masked_roles(Oid relid)
{
	List	   *roles = mask_masked_roles();
	ListCell   *lc;

	foreach(lc, roles)
		ShieldRoleFromTable(lfirst_oid(lc), relid);
}

/*
 * Shield every masked role from every governed table and the relations
 * sharing its rows: after a partition is attached or created, or a table
 * starts inheriting, anywhere (called by the ALTER/CREATE TABLE event
 * trigger).
 */
void
mask_shield_all(void)
{
	List	   *roles = mask_masked_roles();
	List	   *rels;
	ListCell   *lr;
	ListCell   *lt;

	if (roles == NIL)
		return;
	rels = mask_ruled_tables();
	foreach(lt, rels)
		foreach(lr, roles)
			ShieldRoleFromTable(lfirst_oid(lr), lfirst_oid(lt));
}

/* Look up a role for mask_role; error if it cannot be masked. */
static Oid
MaskableRole(Name role)
{
	Oid			roleid = get_role_oid(NameStr(*role), false);

	if (superuser_arg(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" is a superuser and cannot be masked", NameStr(*role)),
				 errdetail("Superusers bypass every privilege check.")));
	if (has_privs_of_role(roleid, get_role_oid("aisec_admin", false)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" has the privileges of role \"%s\" and cannot be masked",
						NameStr(*role), "aisec_admin")));
	return roleid;
}

/* SQL: aisec.mask_role(role) makes role read governed tables only through masked views. */
PG_FUNCTION_INFO_V1(aisec_mask_role);
Datum
aisec_mask_role(PG_FUNCTION_ARGS)
{
	Name		role = PG_GETARG_NAME(0);
	Oid			roleid;
	List	   *rels;
	ListCell   *lc;
	Oid			argtype = OIDOID;
	Datum		arg;
	AisecSpi	spi;
	char	   *detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.mask_role()");
	aisec_prevent_if_read_only("aisec.mask_role()");
	roleid = MaskableRole(role);
	arg = ObjectIdGetDatum(roleid);
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.masked_role (role, masked_by) "
						 "VALUES ($1::pg_catalog.regrole, pg_catalog.session_user()) ON CONFLICT (role) DO NOTHING",
						 true, 1, &argtype, &arg, NULL, NULL);
	aisec_spi_end(&spi);
	CommandCounterIncrement();
	rels = mask_ruled_tables();
	foreach(lc, rels)
	{
		LockRelationOid(lfirst_oid(lc), ShareUpdateExclusiveLock);
		ShieldRoleFromTable(roleid, lfirst_oid(lc));
	}
	GrantMaskedReading(quote_identifier(NameStr(*role)), true);
	detail = psprintf("{\"tables\": %d}", list_length(rels));
	aisec_audit_log("mask.role", NameStr(*role), detail);
	PG_RETURN_INT32(list_length(rels));
}

/* SQL: aisec.unmask_role(role) removes the role from masking; true if it was masked. */
PG_FUNCTION_INFO_V1(aisec_unmask_role);
Datum
aisec_unmask_role(PG_FUNCTION_ARGS)
{
	Name		role = PG_GETARG_NAME(0);
	Oid			roleid;
	Oid			argtype = OIDOID;
	Datum		arg;
	AisecSpi	spi;
	int			n;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.unmask_role()");
	aisec_prevent_if_read_only("aisec.unmask_role()");
	roleid = get_role_oid(NameStr(*role), false);
	arg = ObjectIdGetDatum(roleid);
	aisec_spi_begin(&spi);
	n = aisec_spi_run("DELETE FROM aisec.masked_role WHERE role OPERATOR(pg_catalog.=) $1::pg_catalog.regrole",
					  true, 1, &argtype, &arg, NULL, NULL);
	aisec_spi_end(&spi);
	if (n == 0)
		PG_RETURN_BOOL(false);
	GrantMaskedReading(quote_identifier(NameStr(*role)), false);
	aisec_audit_log("mask.unrole", NameStr(*role), "{}");
	PG_RETURN_BOOL(true);
}

/* Allow keyed masks to aisec_admin, aisec_engineer and masked roles. */
void
mask_require_keyed_use(const char *function_name)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(GetUserId());
	bool		masked;

	if (aisec_has_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER))
		return;
	aisec_spi_begin(&spi);
	masked = aisec_spi_read("SELECT 1 FROM aisec.masked_role r "
							"WHERE pg_catalog.pg_has_role($1, r.role::pg_catalog.oid, 'USAGE') LIMIT 1",
							true, 1, &argtype, &arg, NULL, NULL) == 1;
	aisec_spi_end(&spi);
	if (!masked)
		aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, function_name);
}
