/*
 * checkout_scan.c
 *		SELECT ... FROM aisec.checkout(NULL::t, version) without a
 *		tuplestore.
 *
 * A set-returning function in FROM hands its rows to the executor through
 * a tuplestore, which spills to a temporary file beyond work_mem: for a
 * whole table, every row is written out and read back.  When the planner
 * meets aisec.checkout() as the only function of a FROM item (no WITH
 * ORDINALITY, no column definition list) in a query without row marks
 * (FOR UPDATE, or the other FROM items of an UPDATE or DELETE, which
 * EvalPlanQual may recheck), a set_rel_pathlist hook replaces the
 * function scan with this custom scan, which reads the history through
 * the function's own reader (version_checkout_*, checkout.c) one row at a
 * time.  The rows are the same; every other use of the function keeps the
 * function scan.  Arguments that refer to other FROM items (LATERAL)
 * become parameters, and the scan starts over when they change, as the
 * function scan would call the function again.
 *
 * The scan checks what calling the function would check, under the role
 * executing it: EXECUTE on the function when the scan starts, then
 * version_checkout_begin's role, SELECT privilege, row-level security and
 * version checks at the first row (at execution, never at planning, so a
 * plan prepared by one role and executed by another is checked for the
 * latter).  The planner hook is installed when the library is
 * loaded; the function's support function (checkout_support) loads it
 * while the first query that calls aisec.checkout() is being planned, and
 * estimates its rows.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_class.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "core/core.h"
#include "version.h"

#define CHECKOUT_SCAN_NAME	"aisec_checkout"

/* Executor state of one checkout scan. */
typedef struct CheckoutScanState
{
	CustomScanState css;
	Oid			rowtype;		/* the table's row type (first argument's) */
	Oid			versiontype;	/* bigint or text (second argument's) */
	ExprState  *version;
	int			natts;			/* columns of the scan tuple */
	AttrNumber *attnums;		/* the row column behind each; 0: the row */
	TupleDesc	rowdesc;
	Datum	   *values;			/* a row, deformed */
	bool	   *nulls;
	CheckoutReader *reader;		/* NULL until the first row is asked for */
} CheckoutScanState;

static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;

static Plan *PlanCheckoutScan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
							  List *tlist, List *clauses, List *custom_plans);
static Node *CreateCheckoutScanState(CustomScan *cscan);
static void BeginCheckoutScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecCheckoutScan(CustomScanState *node);
static void EndCheckoutScan(CustomScanState *node);
static void ReScanCheckoutScan(CustomScanState *node);
static void ExplainCheckoutScan(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomPathMethods checkout_path_methods = {
	.CustomName = CHECKOUT_SCAN_NAME,
	.PlanCustomPath = PlanCheckoutScan,
};

static const CustomScanMethods checkout_scan_methods = {
	.CustomName = CHECKOUT_SCAN_NAME,
	.CreateCustomScanState = CreateCheckoutScanState,
};

static const CustomExecMethods checkout_exec_methods = {
	.CustomName = CHECKOUT_SCAN_NAME,
	.BeginCustomScan = BeginCheckoutScan,
	.ExecCustomScan = ExecCheckoutScan,
	.EndCustomScan = EndCheckoutScan,
	.ReScanCustomScan = ReScanCheckoutScan,
	.ExplainCustomScan = ExplainCheckoutScan,
};

/* ---------------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------------
 */

/*
 * Whether funcid is one of aisec.checkout()'s two forms: the C function
 * "aisec_checkout" of this library, as aisec's schema declares it.
 */
static bool
IsCheckout(Oid funcid)
{
	HeapTuple	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;
	bool		result = false;

	if (!HeapTupleIsValid(tp))
		return false;
	proc = (Form_pg_proc) GETSTRUCT(tp);
	if (proc->prolang == ClanguageId && proc->proretset &&
		strcmp(NameStr(proc->proname), "checkout") == 0 &&
		proc->pronamespace == get_namespace_oid(AISEC_SCHEMA, true))
	{
		bool		srcnull;
		bool		binnull;
		Datum		src = SysCacheGetAttr(PROCOID, tp, Anum_pg_proc_prosrc, &srcnull);
		Datum		bin = SysCacheGetAttr(PROCOID, tp, Anum_pg_proc_probin, &binnull);

		result = !srcnull && !binnull &&
			strcmp(TextDatumGetCString(src), "aisec_checkout") == 0 &&
			strcmp(TextDatumGetCString(bin), "$libdir/aisec") == 0;
	}
	ReleaseSysCache(tp);
	return result;
}

/*
 * The call of aisec.checkout() that a FROM item consists of, if this scan
 * can read it: a table's row type as the first argument, nothing that
 * needs the function scan's own features.
 */
static FuncExpr *
CheckoutCall(RelOptInfo *rel, RangeTblEntry *rte)
{
	RangeTblFunction *rtfunc;
	FuncExpr   *fexpr;

	if (rte->rtekind != RTE_FUNCTION || rte->funcordinality ||
		list_length(rte->functions) != 1 || rel->reloptkind != RELOPT_BASEREL ||
		IS_DUMMY_REL(rel))
		return NULL;
	rtfunc = linitial_node(RangeTblFunction, rte->functions);
	if (rtfunc->funccolnames != NIL || !IsA(rtfunc->funcexpr, FuncExpr))
		return NULL;
	fexpr = (FuncExpr *) rtfunc->funcexpr;
	if (!fexpr->funcretset || list_length(fexpr->args) != 2 ||
		!OidIsValid(get_typ_typrelid(fexpr->funcresulttype)) ||
		exprType(linitial(fexpr->args)) != fexpr->funcresulttype ||
		!IsCheckout(fexpr->funcid))
		return NULL;
	return fexpr;
}

/*
 * set_rel_pathlist hook: replace the function scan of aisec.checkout() by
 * the custom scan.  It produces the same rows, so it is the only path;
 * it costs what the function scan does, but starts at once.  Like the
 * function scan, it is parameterized by the FROM items that the arguments
 * refer to.
 */
static void
CheckoutPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	FuncExpr   *fexpr;
	CustomPath *path;
	Cost		total;

	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);

	/*
	 * Row marks (FOR UPDATE or SHARE, or the other FROM items of an
	 * UPDATE, DELETE or MERGE) mean EvalPlanQual may recheck a row; a scan
	 * with no relation of its own would have to hand back the row that was
	 * joined, which the function scan does for itself.  Keep it there.
	 */
	if (root->rowMarks != NIL)
		return;
	if ((fexpr = CheckoutCall(rel, rte)) == NULL || rel->pathlist == NIL)
		return;

	total = ((Path *) linitial(rel->pathlist))->total_cost;
	path = makeNode(CustomPath);
	path->path.pathtype = T_CustomScan;
	path->path.parent = rel;
	path->path.pathtarget = rel->reltarget;
	path->path.param_info = get_baserel_parampathinfo(root, rel, rel->lateral_relids);
	path->path.parallel_aware = false;
	path->path.parallel_safe = false;
	path->path.parallel_workers = 0;
	path->path.rows = path->path.param_info ? path->path.param_info->ppi_rows : rel->rows;
	path->path.startup_cost = 0;
	path->path.total_cost = total;
	path->path.pathkeys = NIL;
#ifdef CUSTOMPATH_SUPPORT_PROJECTION
	path->flags = CUSTOMPATH_SUPPORT_PROJECTION;
#endif
	path->custom_private = list_make1(fexpr);
	path->methods = &checkout_path_methods;

	rel->pathlist = NIL;
	rel->partial_pathlist = NIL;
	add_path(rel, &path->path);
}

/*
 * Make the plan.  The scan tuple holds the row columns that the rel's
 * output and quals use (custom_scan_tlist: the planner may give this node
 * another target list later, computed from the same columns, when it
 * pushes a projection down); the call itself rides in
 * custom_exprs, so that its arguments are fixed up like any expression and
 * the plan depends on the function.  Columns of other FROM items (LATERAL)
 * stay out of the scan tuple: the planner turns them into parameters.  The
 * plan also depends on the table, so a cached plan is made again when its
 * columns change.
 */
static Plan *
PlanCheckoutScan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
				 List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	FuncExpr   *fexpr = linitial_node(FuncExpr, best_path->custom_private);
	List	   *quals = extract_actual_clauses(clauses, false);
	List	   *vars = NIL;
	ListCell   *lc;

	foreach(lc, list_concat(pull_var_clause((Node *) rel->reltarget->exprs,
											PVC_RECURSE_PLACEHOLDERS),
							pull_var_clause((Node *) list_make2(tlist, quals),
											PVC_RECURSE_PLACEHOLDERS)))
		if (((Var *) lfirst(lc))->varno == rel->relid)
			vars = lappend(vars, lfirst(lc));
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = quals;
	cscan->scan.scanrelid = 0;	/* not a table: the tuple is custom_scan_tlist */
	cscan->flags = best_path->flags;
	cscan->custom_scan_tlist = add_to_flat_tlist(NIL, vars);
	cscan->custom_exprs = list_make1(fexpr);
	cscan->custom_private = NIL;
	cscan->methods = &checkout_scan_methods;
	root->glob->relationOids = lappend_oid(root->glob->relationOids,
										   get_typ_typrelid(fexpr->funcresulttype));
	return &cscan->scan.plan;
}

/* ---------------------------------------------------------------------
 * Execution
 * ---------------------------------------------------------------------
 */

static Node *
CreateCheckoutScanState(CustomScan *cscan)
{
	CheckoutScanState *s = palloc0(sizeof(CheckoutScanState));

	NodeSetTag(s, T_CustomScanState);
	s->css.methods = &checkout_exec_methods;
	return (Node *) s;
}

/*
 * Set up the scan.  As for a function scan, EXECUTE on the function is
 * checked here, even for EXPLAIN; the rest waits for the first row.
 */
static void
BeginCheckoutScan(CustomScanState *node, EState *estate, int eflags)
{
	CheckoutScanState *s = (CheckoutScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	FuncExpr   *fexpr = linitial_node(FuncExpr, cscan->custom_exprs);
	ListCell   *lc;
	int			i = 0;
	AclResult	acl;

#if PG_VERSION_NUM >= 160000
	acl = object_aclcheck(ProcedureRelationId, fexpr->funcid, GetUserId(), ACL_EXECUTE);
#else
	acl = pg_proc_aclcheck(fexpr->funcid, GetUserId(), ACL_EXECUTE);
#endif
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_FUNCTION, get_func_name(fexpr->funcid));
	InvokeFunctionExecuteHook(fexpr->funcid);

	s->rowtype = exprType(linitial(fexpr->args));
	s->versiontype = exprType(lsecond(fexpr->args));
	s->version = ExecInitExpr(lsecond(fexpr->args), &node->ss.ps);
	s->natts = list_length(cscan->custom_scan_tlist);
	s->attnums = palloc(sizeof(AttrNumber) * Max(s->natts, 1));
	foreach(lc, cscan->custom_scan_tlist)
	{
		Var		   *var = (Var *) lfirst_node(TargetEntry, lc)->expr;

		if (!IsA(var, Var) || var->varattno < 0)
			elog(ERROR, "aisec checkout scan: unexpected scan column");
		s->attnums[i++] = var->varattno;
	}
}

/*
 * Check the caller and start reading, as a call of the function would.
 * The row type is the table's now; a plan made before its columns changed
 * is made again (PlanCheckoutScan), so the columns the plan reads are
 * still there with their types.
 */
static void
StartCheckout(CheckoutScanState *s)
{
	EState	   *estate = s->css.ss.ps.state;
	ExprContext *econtext = s->css.ss.ps.ps_ExprContext;
	TupleDesc	scandesc = s->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);
	Datum		version;
	bool		isnull;

	version = ExecEvalExpr(s->version, econtext, &isnull);
	s->reader = version_checkout_begin(s->rowtype, s->versiontype, version, isnull,
									   estate->es_snapshot);
	if (s->rowdesc == NULL)
	{
		s->rowdesc = lookup_rowtype_tupdesc_copy(s->rowtype, -1);
		s->values = palloc(sizeof(Datum) * s->rowdesc->natts);
		s->nulls = palloc(sizeof(bool) * s->rowdesc->natts);
		for (int i = 0; i < s->natts; i++)
		{
			AttrNumber	a = s->attnums[i];

			if (a > s->rowdesc->natts ||
				(a > 0 && (TupleDescAttr(s->rowdesc, a - 1)->attisdropped ||
						   TupleDescAttr(s->rowdesc, a - 1)->atttypid !=
						   TupleDescAttr(scandesc, i)->atttypid)))
				elog(ERROR, "aisec checkout scan: the row type changed after planning");
		}
	}
	MemoryContextSwitchTo(old);
}

/* ExecScan's access method: the next row of the version into the scan slot. */
static TupleTableSlot *
CheckoutNext(ScanState *ss)
{
	CheckoutScanState *s = (CheckoutScanState *) ss;
	TupleTableSlot *slot = ss->ss_ScanTupleSlot;
	HeapTuple	tup;

	if (s->reader == NULL)
		StartCheckout(s);
	ExecClearTuple(slot);
	if ((tup = version_checkout_next(s->reader)) == NULL)
		return slot;
	if (s->natts > 0)
		heap_deform_tuple(tup, s->rowdesc, s->values, s->nulls);
	for (int i = 0; i < s->natts; i++)
	{
		AttrNumber	a = s->attnums[i];

		if (a == 0)
		{
			/* The whole row: formed afresh, as a function scan would. */
			MemoryContext old =
				MemoryContextSwitchTo(ss->ps.ps_ExprContext->ecxt_per_tuple_memory);

			slot->tts_values[i] =
				HeapTupleGetDatum(heap_form_tuple(s->rowdesc, s->values, s->nulls));
			slot->tts_isnull[i] = false;
			MemoryContextSwitchTo(old);
		}
		else
		{
			slot->tts_values[i] = s->values[a - 1];
			slot->tts_isnull[i] = s->nulls[a - 1];
		}
	}
	return ExecStoreVirtualTuple(slot);
}

/* ExecScan's recheck method: rows are never rechecked (no EvalPlanQual). */
static bool
CheckoutRecheck(ScanState *ss, TupleTableSlot *slot)
{
	return true;
}

static TupleTableSlot *
ExecCheckoutScan(CustomScanState *node)
{
	return ExecScan(&node->ss, CheckoutNext, CheckoutRecheck);
}

static void
EndCheckoutScan(CustomScanState *node)
{
	CheckoutScanState *s = (CheckoutScanState *) node;

	if (s->reader)
		version_checkout_end(s->reader);
	s->reader = NULL;
}

/* Read again: the same version from the start, or anew if it may differ. */
static void
ReScanCheckoutScan(CustomScanState *node)
{
	CheckoutScanState *s = (CheckoutScanState *) node;

	if (s->reader == NULL)
		return;
	if (node->ss.ps.chgParam == NULL)
		version_checkout_rescan(s->reader);
	else
	{
		version_checkout_end(s->reader);
		s->reader = NULL;
	}
}

/* EXPLAIN VERBOSE shows the call, as it does for a function scan. */
static void
ExplainCheckoutScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	List	   *context;

	if (!es->verbose)
		return;
	context = set_deparse_context_plan(es->deparse_cxt, (Plan *) cscan, ancestors);
	ExplainPropertyText("Function Call",
						deparse_expression(linitial(cscan->custom_exprs), context,
										   list_length(es->rtable) > 1, false),
						es);
}

/* ---------------------------------------------------------------------
 * Support function and set-up
 * ---------------------------------------------------------------------
 */

/*
 * Support function of aisec.checkout(): estimate its rows as the table's
 * (the planner otherwise assumes 1000).  Being called while the query is
 * planned, it also loads this library, and with it the planner hook.
 */
PG_FUNCTION_INFO_V1(aisec_checkout_support);
Datum
aisec_checkout_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestRows *req;
	FuncExpr   *fexpr;
	Oid			relid;
	HeapTuple	tp;
	float4		reltuples = -1;

	if (!IsA(rawreq, SupportRequestRows))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestRows *) rawreq;
	if (req->node == NULL || !IsA(req->node, FuncExpr))
		PG_RETURN_POINTER(NULL);
	fexpr = (FuncExpr *) req->node;
	if (list_length(fexpr->args) != 2)
		PG_RETURN_POINTER(NULL);
	relid = get_typ_typrelid(exprType(linitial(fexpr->args)));
	if (!OidIsValid(relid))
		PG_RETURN_POINTER(NULL);
	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (HeapTupleIsValid(tp))
	{
		reltuples = ((Form_pg_class) GETSTRUCT(tp))->reltuples;
		ReleaseSysCache(tp);
	}
	if (reltuples < 0)
		PG_RETURN_POINTER(NULL);	/* never analyzed: keep the default */
	req->rows = Max(reltuples, 1);
	PG_RETURN_POINTER(req);
}

/* Install the planner hook (from _PG_init). */
void
aisec_checkout_scan_init(void)
{
	RegisterCustomScanMethods(&checkout_scan_methods);
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = CheckoutPathlist;
}
