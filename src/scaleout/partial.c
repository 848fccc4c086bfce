/*
 * partial.c
 *		aisec's aggregates as Citus partial aggregates, without Citus's
 *		per-row wrapper.
 *
 * Citus runs a custom aggregate on the workers as
 *		worker_partial_agg('<aggregate>'::regprocedure, ROW(<arguments>))
 * whose transition function, for every row, looks the aggregate up in the
 * catalog, prepares a call of its transition function and takes the ROW
 * apart again: on aisec's statistics that costs three times the
 * aggregate's own work.  Its result is the state in text form (the state
 * type's output function), which the coordinator reads back with the
 * type's input function and combines (coord_combine_agg).
 *
 * On the node that plans such a shard query, aisec's planner hook replaces
 * worker_partial_agg('aisec.<aggregate>(...)', ROW(<arguments>)) with
 * aisec.<aggregate>_partial(<arguments>): an aggregate with the same
 * transition function and state, whose final function is the state type's
 * output function.  It returns the same text, at the aggregate's own speed.
 * Anything else is left to Citus as it is: another aggregate, arguments of
 * other types than the aggregate's, DISTINCT, ORDER BY.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parse_func.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "core/core.h"
#include "scaleout.h"

static planner_hook_type prev_planner = NULL;

/* aisec.citus_partial_aggregates: whether the rewrite is on (default). */
static bool partial_rewrite = true;

/* What the rewrite needs while it walks a query. */
typedef struct PartialRewrite
{
	Oid			worker_partial_agg; /* Citus's pg_catalog.worker_partial_agg(oid, anyelement) */
	Oid			schema;			/* aisec's schema */
	int			replaced;
} PartialRewrite;

/* The OID of Citus's worker_partial_agg(oid, anyelement), or InvalidOid. */
static Oid
WorkerPartialAgg(void)
{
	Oid			argtypes[2] = {OIDOID, ANYELEMENTOID};

	return LookupFuncName(list_make2(makeString("pg_catalog"), makeString("worker_partial_agg")),
						  2, argtypes, true);
}

/*
 * The aisec aggregate a worker_partial_agg call names, or InvalidOid: its
 * first argument is a constant OID (or regprocedure) of an aggregate in
 * aisec's schema.
 */
static Oid
NamedAggregate(Node *arg, Oid schema)
{
	Const	   *c;
	Oid			agg;

	while (IsA(arg, RelabelType))
		arg = (Node *) ((RelabelType *) arg)->arg;
	if (!IsA(arg, Const))
		return InvalidOid;
	c = (Const *) arg;
	if (c->constisnull || (c->consttype != OIDOID && c->consttype != REGPROCEDUREOID))
		return InvalidOid;
	agg = DatumGetObjectId(c->constvalue);
	if (get_func_namespace(agg) != schema || get_func_prokind(agg) != PROKIND_AGGREGATE)
		return InvalidOid;
	return agg;
}

/*
 * Replace the worker_partial_agg call a with aisec.<agg>_partial over the
 * same arguments, if there is one taking exactly their types.
 */
static void
ReplaceCall(Aggref *a, PartialRewrite *rw)
{
	Oid			agg;
	Oid		   *argtypes;
	int			nargs;
	Node	   *packed;
	List	   *exprs;
	List	   *args = NIL;
	List	   *types = NIL;
	Oid			partial;
	Oid			collation = InvalidOid;
	ListCell   *lc;

	if (list_length(a->args) != 2 || a->aggorder != NIL || a->aggdistinct != NIL ||
		a->aggstar || a->aggvariadic || a->aggdirectargs != NIL || a->aggkind != AGGKIND_NORMAL)
		return;
	agg = NamedAggregate((Node *) ((TargetEntry *) linitial(a->args))->expr, rw->schema);
	if (!OidIsValid(agg))
		return;
	(void) get_func_signature(agg, &argtypes, &nargs);
	partial = LookupFuncName(list_make2(makeString(AISEC_SCHEMA),
										makeString(psprintf("%s_partial", get_func_name(agg)))),
							 nargs, argtypes, true);
	if (!OidIsValid(partial) || get_func_prokind(partial) != PROKIND_AGGREGATE ||
		get_func_rettype(partial) != CSTRINGOID)
		return;

	/* One argument goes as it is, several in a ROW(...). */
	packed = (Node *) ((TargetEntry *) lsecond(a->args))->expr;
	if (nargs == 1)
		exprs = list_make1(packed);
	else if (IsA(packed, RowExpr) && list_length(((RowExpr *) packed)->args) == nargs)
		exprs = ((RowExpr *) packed)->args;
	else
		return;
	foreach(lc, exprs)
	{
		Node	   *e = lfirst(lc);
		int			i = foreach_current_index(lc);

		if (exprType(e) != argtypes[i])
			return;
		if (!OidIsValid(collation))
			collation = exprCollation(e);
		args = lappend(args, makeTargetEntry((Expr *) e, (AttrNumber) (i + 1), NULL, false));
		types = lappend_oid(types, argtypes[i]);
	}

	a->aggfnoid = partial;
	a->aggtype = CSTRINGOID;
	a->aggcollid = InvalidOid;
	a->inputcollid = collation;
	a->aggtranstype = InvalidOid;
	a->aggargtypes = types;
	a->args = args;
	rw->replaced++;
}

/* Walk a query's expressions and subqueries, replacing calls in place. */
static bool
ReplaceCalls(Node *node, PartialRewrite *rw)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref) && ((Aggref *) node)->aggfnoid == rw->worker_partial_agg)
		ReplaceCall((Aggref *) node, rw);
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ReplaceCalls, rw, 0);
	return expression_tree_walker(node, ReplaceCalls, rw);
}

/* Walk a query's expressions and subqueries for a worker_partial_agg call. */
static bool
CallsWorkerPartialAgg(Node *node, PartialRewrite *rw)
{
	if (node == NULL)
		return false;
	if (IsA(node, Aggref) && ((Aggref *) node)->aggfnoid == rw->worker_partial_agg)
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, CallsWorkerPartialAgg, rw, 0);
	return expression_tree_walker(node, CallsWorkerPartialAgg, rw);
}

/* planner_hook: see the file header. */
static PlannedStmt *
PartialPlanner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	if (partial_rewrite && parse->hasAggs && parse->commandType == CMD_SELECT)
	{
		PartialRewrite rw;

		rw.worker_partial_agg = WorkerPartialAgg();
		rw.schema = get_namespace_oid(AISEC_SCHEMA, true);
		rw.replaced = 0;
		/* Copy the query only when it holds a call to replace. */
		if (OidIsValid(rw.worker_partial_agg) && OidIsValid(rw.schema) &&
			query_tree_walker(parse, CallsWorkerPartialAgg, &rw, 0))
		{
			Query	   *copy = copyObject(parse);

			(void) query_tree_walker(copy, ReplaceCalls, &rw, 0);
			if (rw.replaced > 0)
				parse = copy;
		}
	}
	return prev_planner ? prev_planner(parse, query_string, cursorOptions, boundParams) :
		standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* _PG_init: define aisec.citus_partial_aggregates, install the planner hook. */
void
aisec_scaleout_init(void)
{
	DefineCustomBoolVariable("aisec.citus_partial_aggregates",
							 "Run aisec's aggregates in Citus shard queries without Citus's per-row wrapper.",
							 "Off leaves worker_partial_agg() as Citus plans it: the same results, slower.",
							 &partial_rewrite,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	prev_planner = planner_hook;
	planner_hook = PartialPlanner;
}
