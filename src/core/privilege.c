/*
 * privilege.c
 *		Role checks, locks and catalog lookups shared by every aisec entry
 *		point.
 *
 * SQL-level GRANTs are the first gate; every privileged C entry point also
 * calls aisec_require_role() itself, so a stray GRANT EXECUTE to the wrong
 * role does not open it (DESIGN.md, principle 4).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "core.h"

static const struct
{
	AisecRole	role;
	const char *name;
}			aisec_roles[] =
{
	{AISEC_ROLE_ADMIN, "aisec_admin"},
	{AISEC_ROLE_ENGINEER, "aisec_engineer"},
	{AISEC_ROLE_DPO, "aisec_dpo"},
	{AISEC_ROLE_AUDITOR, "aisec_auditor"},
};

#define N_ROLES lengthof(aisec_roles)

/* Return true if the current user has the privileges of any role in roles. */
bool
aisec_has_role(int roles)
{
	Oid			user = GetUserId();

	if (superuser_arg(user))
		return true;
	for (int i = 0; i < N_ROLES; i++)
	{
		Oid			roleid;

		if (!(roles & aisec_roles[i].role))
			continue;
		roleid = get_role_oid(aisec_roles[i].name, true);
		if (OidIsValid(roleid) && has_privs_of_role(user, roleid))
			return true;
	}
	return false;
}

/* Raise insufficient_privilege unless the current user holds one of roles. */
void
aisec_require_role(int roles, const char *function_name)
{
	StringInfoData names;
	int			nroles = 0;

	if (aisec_has_role(roles))
		return;

	/* A list of quoted role names, not words: it needs no translation. */
	initStringInfo(&names);
	for (int i = 0; i < N_ROLES; i++)
	{
		if (!(roles & aisec_roles[i].role))
			continue;
		if (nroles++ > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfo(&names, "\"%s\"", aisec_roles[i].name);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for function %s", function_name),
			 errdetail_plural("Only members of role %s may call it.",
							  "Only members of one of the roles %s may call it.",
							  nroles, names.data),
			 nroles == 1 ?
			 errhint("Ask an administrator to GRANT that role to you.") :
			 errhint("Ask an administrator to GRANT one of those roles to you.")));
}

/* Return the OID of the role that owns the aisec extension. */
Oid
aisec_extension_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum(AISEC_EXTENSION));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"aisec\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION aisec.")));
	return owner;
}

/* Return the OID of one of aisec's own relations, by name. */
Oid
aisec_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid(relname, nsp) : InvalidOid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aisec relation \"%s.%s\" does not exist", AISEC_SCHEMA, relname),
				 errhint("Is the aisec extension installed in this database?")));
	return relid;
}

/*
 * A registered snapshot to read aisec's registry with: the latest one (a
 * writer sees what a commit that finished before it wrote), or, in
 * parallel mode, where PostgreSQL takes no new snapshot, the active one
 * (a query run in parallel only reads).  The caller unregisters it.
 */
Snapshot
aisec_registry_snapshot(void)
{
	if (IsInParallelMode())
		return RegisterSnapshot(GetActiveSnapshot());
	return RegisterSnapshot(GetLatestSnapshot());
}

/* Fill in the lock tag of one of aisec's private locks (see LockAisecTag). */
static void
SetAisecTag(LOCKTAG *tag, AisecLock which)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, 0x61697365, 0, 0x41 + (int) which);
}

/*
 * Take one of aisec's private transaction-level locks in the given mode,
 * waiting as needed.
 *
 * The tag lives in the advisory-lock space but with a field4 value that the
 * SQL-level pg_advisory_* functions never use (they use 1 and 2), so no
 * user's advisory lock can collide with it.  It shows in pg_locks as an
 * advisory lock with objsubid = 0x41 + which.
 */
static void
LockAisecTag(AisecLock which, LOCKMODE mode)
{
	LOCKTAG		tag;

	SetAisecTag(&tag, which);
	(void) LockAcquire(&tag, mode, false, false);
}

/* Take one of aisec's private locks exclusively (see LockAisecTag). */
void
aisec_lock(AisecLock which)
{
	LockAisecTag(which, ExclusiveLock);
}

/*
 * Take one of aisec's private locks in share mode: holders of the share lock
 * do not wait for each other, but aisec_lock() on the same tag waits for all
 * of them, and they wait for it.
 */
void
aisec_lock_shared(AisecLock which)
{
	LockAisecTag(which, ShareLock);
}

/* Return true if this transaction holds one of aisec's locks exclusively. */
bool
aisec_lock_held(AisecLock which)
{
	LOCKTAG		tag;

	SetAisecTag(&tag, which);
#if PG_VERSION_NUM >= 170000
	return LockHeldByMe(&tag, ExclusiveLock, false);
#else
	return LockHeldByMe(&tag, ExclusiveLock);
#endif
}

/* Refuse to write in read-only transactions, recovery and parallel mode. */
void
aisec_prevent_if_read_only(const char *function_name)
{
	PreventCommandIfReadOnly(function_name);
	PreventCommandIfParallelMode(function_name);
	PreventCommandDuringRecovery(function_name);
}

/*
 * Act as the extension owner until aisec_restore_user(), so fixed,
 * schema-qualified SPI queries can reach aisec's owner-only tables.  The
 * caller has already passed aisec_require_role().  Runs as a restricted
 * operation (no temp objects, no deferred user code); an error before the
 * restore is undone by transaction abort, which resets the user id.
 */
void
aisec_become_owner(AisecSavedUser *saved)
{
	Oid			owner = aisec_extension_owner();

	GetUserIdAndSecContext(&saved->userid, &saved->sec_context);
	SetUserIdAndSecContext(owner, saved->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
}

/* Return to the identity saved by aisec_become_owner(). */
void
aisec_restore_user(const AisecSavedUser *saved)
{
	SetUserIdAndSecContext(saved->userid, saved->sec_context);
}
