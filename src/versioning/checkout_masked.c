/*
 * checkout_masked.c
 *		Who reads versions raw and who masked, and the masked form of a
 *		version: aisec.checkout(NULL::aisec_masked.t, v).
 *
 * The rule is the live table's.  A role with SELECT on t that is not a
 * masked role reads t raw, and so its versions; a masked role
 * (aisec.mask_role, or a member of one), or a role without SELECT on t,
 * reads t only through its masked view aisec_masked.t, and so reads its
 * versions only through the view's row type: checkout(NULL::aisec_masked.t,
 * v) returns the version's rows with the view's columns, each computed by
 * the view's own expression (the table's current rules) from the version's
 * row, and, for a column without a rule now that had one when the version
 * was committed, by that recorded rule.  Every raw read (checkout of
 * NULL::t, its custom scan, diff, materialize of t) refuses masked roles
 * (version_require_select, dataset.c).
 *
 * Masking knows the views and rules; it registers what versioning needs
 * (AisecVersionMasking, versioning.h) at load time, so this folder never
 * includes masking's.  The masking expressions it hands over are
 * evaluated here, one row at a time, as the role reading: EXECUTE on the
 * masking functions and their keyed-use check apply as for the view.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "version.h"

static const AisecVersionMasking *masking = NULL;

/* Register masking's callbacks (masking's _PG_init part). */
void
aisec_versioning_set_masking(const AisecVersionMasking *m)
{
	masking = m;
}

/* Whether the current user reads governed tables only masked. */
bool
version_masked_user(void)
{
	return masking != NULL && masking->masked_user();
}

/* relid's masked view, or InvalidOid. */
Oid
version_masked_view_of(Oid relid)
{
	return masking != NULL ? masking->view_of(relid) : InvalidOid;
}

/* The table masked view view masks, or InvalidOid if view is none. */
Oid
version_masked_table_of(Oid view)
{
	return masking != NULL ? masking->table_of(view) : InvalidOid;
}

/*
 * Raise insufficient_privilege unless the current user may read versions
 * at all: aisec_admin, aisec_engineer, or a masked role (which reads them
 * masked).
 */
void
version_require_reader(const char *function_name)
{
	if (aisec_has_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER) || version_masked_user())
		return;
	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, function_name);
}

/*
 * Check that the current user may read table relid's versions through its
 * masked view view, as it may read the view: SELECT on the view; and for
 * a table with row-level security, whose view applies the reader's own
 * privileges and policies (security_invoker), SELECT on the table and no
 * policy that applies to it, as for a raw read (aisec applies no policies
 * to versions).
 */
void
version_require_masked_select(Oid view, Oid relid)
{
	AclResult	acl = pg_class_aclcheck(view, GetUserId(), ACL_SELECT);
	HeapTuple	tp;
	bool		rls;

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_VIEW, get_rel_name(view));
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	rls = ((Form_pg_class) GETSTRUCT(tp))->relrowsecurity;
	ReleaseSysCache(tp);
	if (!rls)
		return;
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(relid)),
				 errdetail("Table \"%s\" has row-level security: its masked view, and so its masked versions, apply the reader's own privileges on the table.",
						   get_rel_name(relid))));
	version_require_no_rls(relid);
}

/* ---------------------------------------------------------------------
 * Masking the rows of a version
 * ---------------------------------------------------------------------
 */

/* Rows of a version masked as the masked view masks them. */
struct MaskedRows
{
	MemoryContext cxt;			/* holds everything below */
	TupleDesc	viewdesc;		/* the result: the view's row type */
	TupleTableSlot *slot;		/* the version's row (the table's row type) */
	ExprContext *econtext;
	int			ncols;
	ExprState **cols;			/* one per view column */
	Datum	   *values;
	bool	   *nulls;
};

/*
 * Prepare to mask rows of table relid as masked view view does, with the
 * rules recorded in the version (recorded: its aisec.version_table.columns,
 * or NULL) for the columns the view leaves unmasked.
 */
MaskedRows *
version_masked_begin(Oid view, Oid relid, const char *recorded)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "aisec masked checkout",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	MaskedRows *m = palloc0(sizeof(MaskedRows));
	List	   *exprs = masking->columns(view, relid, recorded);
	ListCell   *lc;
	int			i = 0;

	m->cxt = cxt;
	m->viewdesc = lookup_rowtype_tupdesc_copy(get_rel_type_id(view), -1);
	m->ncols = m->viewdesc->natts;
	if (list_length(exprs) != m->ncols)
		elog(ERROR, "aisec: masked view \"%s\" has %d columns but %d masking expressions",
			 get_rel_name(view), m->ncols, list_length(exprs));
	m->slot = MakeSingleTupleTableSlot(lookup_rowtype_tupdesc_copy(get_rel_type_id(relid), -1),
									   &TTSOpsHeapTuple);
	m->econtext = CreateStandaloneExprContext();
	m->cols = palloc(sizeof(ExprState *) * Max(m->ncols, 1));
	m->values = palloc(sizeof(Datum) * Max(m->ncols, 1));
	m->nulls = palloc(sizeof(bool) * Max(m->ncols, 1));
	foreach(lc, exprs)
	{
		Expr	   *expr = expression_planner((Expr *) lfirst(lc));

		/* Fail closed: a value of another type would be misread. */
		if (exprType((Node *) expr) != TupleDescAttr(m->viewdesc, i)->atttypid)
			elog(ERROR, "aisec: masking expression %d of \"%s\" does not have the column's type",
				 i + 1, get_rel_name(view));
		m->cols[i++] = ExecInitExpr(expr, NULL);
	}
	MemoryContextSwitchTo(old);
	return m;
}

/*
 * The masked form of row (a row of the table's type): a tuple of the view's
 * row type, valid until the next call.
 */
HeapTuple
version_masked_row(MaskedRows *m, HeapTuple row)
{
	MemoryContext old;
	HeapTuple	result;

	ResetExprContext(m->econtext);
	ExecStoreHeapTuple(row, m->slot, false);
	m->econtext->ecxt_scantuple = m->slot;
	for (int i = 0; i < m->ncols; i++)
		m->values[i] = ExecEvalExprSwitchContext(m->cols[i], m->econtext, &m->nulls[i]);
	old = MemoryContextSwitchTo(m->econtext->ecxt_per_tuple_memory);
	result = heap_form_tuple(m->viewdesc, m->values, m->nulls);
	MemoryContextSwitchTo(old);
	ExecClearTuple(m->slot);
	return result;
}

/* Release what version_masked_begin set up. */
void
version_masked_end(MaskedRows *m)
{
	FreeExprContext(m->econtext, true);
	ExecDropSingleTupleTableSlot(m->slot);
	MemoryContextDelete(m->cxt);
}
