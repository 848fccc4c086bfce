/*
 * aggscan.c
 *		The aggregate scan: aisec's aggregates over a whole plain table in
 *		one tight loop over its heap pages.
 *
 * Why.  A statistics aggregate such as aisec.fairness() does little per
 * row: find the group, bump a counter.  Run as PostgreSQL runs any
 * aggregate, each row also pays for the executor around it: the sequential
 * scan stores the row in a slot (pinning its buffer), the Agg node deforms
 * it, evaluates the arguments and calls the transition function through
 * the function-call interface, and resets a memory context.  For the
 * fairness aggregate over three columns that plumbing costs more than the
 * aggregate itself (about twice a count(*) of the same table).  This scan
 * reads each page's visible tuples as heap_getnext returns them, deforms
 * only the columns up to the last one it needs, and hands the arguments
 * straight to the aggregate's row function (AggScanKind, aggscan.h).  On
 * Citus, where the shard queries are exactly such queries, it is what
 * makes a distributed aisec.fairness() cost about what a distributed
 * count(*) does.
 *
 * When.  A create_upper_paths hook offers the scan, as a path of the
 * aggregation step, for a query that is nothing but aggregates over one
 * table:
 *	- one plain table or materialized view (not a partitioned or inheritance
 *	  parent, not TABLESAMPLE, no table access method but heap), with no
 *	  conditions at all: no WHERE, no row-level security policy, nothing
 *	  that becomes a condition on the scan;
 *	- no GROUP BY, grouping sets, HAVING, window functions or set-returning
 *	  functions in the select list;
 *	- every aggregate one the scan knows (its transition function is
 *	  registered, and it has no initial value), called plainly (no
 *	  DISTINCT, ORDER BY or FILTER) on plain columns of the table (a
 *	  binary-compatible relabeling, such as varchar as text, allowed).
 * The select list may compute anything from the aggregates' results.  The
 * path is costed as the sequential scan alone plus a fraction of the
 * aggregates' cost, so it wins against the serial Agg plan.  Where the
 * planner considers a parallel plan, the hook also offers the scan
 * parallel-aware under a Gather and a Finalize Aggregate (each participant
 * scans a share of the pages and returns its partial state), costed the
 * same way, and the planner picks on cost.
 * aisec.aggregate_scan = off never offers it.
 *
 * Semantics are the Agg node's: one row, each aggregate's final function
 * applied to its state (to NULL, or not called if strict, when no row
 * counted: see AggScanKind.add_row);
 * the same snapshot, the same serializable predicate lock on the table
 * (table_beginscan as nodeSeqscan.c calls it), the same errors from the
 * same row.  Privileges are checked when the scan starts, under the role
 * executing it, as ExecInitAgg does: EXECUTE on each aggregate, and the
 * aggregate's owner's EXECUTE on its transition and final functions.  The
 * table's column privileges are the executor's (the range table is
 * unchanged).
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "storage/bufmgr.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "aggscan.h"

#define AGGSCAN_NAME		"aisec_aggregate_scan"
#define AGGSCAN_MAX_KINDS	16
#define AGGSCAN_PREFETCH	4	/* tuples ahead (PrefetchAhead) */

/* The registered kinds (aggscan_register, from _PG_init). */
static const AggScanKind *kinds[AGGSCAN_MAX_KINDS];
static int	nkinds = 0;

static bool aggscan_enabled = true;
static create_upper_paths_hook_type prev_upper_paths = NULL;

/* One aggregate of a running scan. */
typedef struct AggScanAgg
{
	const AggScanKind *kind;
	int			argidx[AGGSCAN_MAX_ARGS];	/* deformed column of each argument */
	FmgrInfo	finalfn;		/* fn_oid InvalidOid: none */
	Oid			collation;
	bool		partial;		/* the result is the state (parallel plan) */
	AggBox	   *box;			/* made by the scan */
	bool		counted;		/* a row counted (the state is not NULL) */
} AggScanAgg;

/* What deforming needs of a column, in a compact array. */
typedef struct AggScanAtt
{
	int16		len;			/* attlen */
	uint8		align;			/* the alignment attalign stands for */
	bool		byval;
	bool		needed;			/* an aggregate's argument */
} AggScanAtt;

/* Executor state of one aggregate scan. */
typedef struct AggScanState
{
	CustomScanState css;
	int			naggs;
	AggScanAgg *aggs;
	int			natts;			/* columns to deform: 1 .. natts */
	AggScanAtt *atts;
	Datum	   *values;
	bool	   *isnull;
	MemoryContext statecxt;		/* the states; reset by a rescan */
	MemoryContext rowcxt;		/* what a row's arguments need (detoasting) */
	ParallelTableScanDesc pscan;	/* the shared scan of a parallel plan */
	bool		done;
	uint64		rows;			/* rows read, for EXPLAIN ANALYZE */
} AggScanState;

static Plan *PlanAggScan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
						 List *tlist, List *clauses, List *custom_plans);
static Node *CreateAggScanState(CustomScan *cscan);
static void BeginAggScan(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecAggScan(CustomScanState *node);
static void EndAggScan(CustomScanState *node);
static void ReScanAggScan(CustomScanState *node);
static void ExplainAggScan(CustomScanState *node, List *ancestors, ExplainState *es);
static Size EstimateAggScan(CustomScanState *node, ParallelContext *pcxt);
static void InitializeAggScan(CustomScanState *node, ParallelContext *pcxt,
							  void *coordinate);
static void ReInitializeAggScan(CustomScanState *node, ParallelContext *pcxt,
								void *coordinate);
static void InitializeWorkerAggScan(CustomScanState *node, shm_toc *toc,
									void *coordinate);

static const CustomPathMethods aggscan_path_methods = {
	.CustomName = AGGSCAN_NAME,
	.PlanCustomPath = PlanAggScan,
};

static const CustomScanMethods aggscan_scan_methods = {
	.CustomName = AGGSCAN_NAME,
	.CreateCustomScanState = CreateAggScanState,
};

static const CustomExecMethods aggscan_exec_methods = {
	.CustomName = AGGSCAN_NAME,
	.BeginCustomScan = BeginAggScan,
	.ExecCustomScan = ExecAggScan,
	.EndCustomScan = EndAggScan,
	.ReScanCustomScan = ReScanAggScan,
	.ExplainCustomScan = ExplainAggScan,
	.EstimateDSMCustomScan = EstimateAggScan,
	.InitializeDSMCustomScan = InitializeAggScan,
	.ReInitializeDSMCustomScan = ReInitializeAggScan,
	.InitializeWorkerCustomScan = InitializeWorkerAggScan,
};

/* Offer the aggregate behind a transition function to the scan. */
void
aggscan_register(const AggScanKind *kind)
{
	if (nkinds >= AGGSCAN_MAX_KINDS || kind->nargs < 1 || kind->nargs > AGGSCAN_MAX_ARGS ||
		kind->box->create == NULL)
		elog(ERROR, "cannot register aisec aggregate scan kind");
	kinds[nkinds++] = kind;
}

/*
 * The kind of an aggregate, from its pg_aggregate row (NULL if the scan
 * does not know it or cannot run it), and its final function.
 */
static const AggScanKind *
KindOf(Oid aggfnoid, int nargs, Oid *transfn, Oid *finalfn)
{
	HeapTuple	tp = SearchSysCache1(AGGFNOID, ObjectIdGetDatum(aggfnoid));
	Form_pg_aggregate agg;
	const AggScanKind *result = NULL;
	FmgrInfo	flinfo;

	if (!HeapTupleIsValid(tp))
		return NULL;
	agg = (Form_pg_aggregate) GETSTRUCT(tp);
	*transfn = agg->aggtransfn;
	*finalfn = agg->aggfinalfn;
	/*
	 * An initial value would be the Agg node's starting state; the scan
	 * starts from an empty one, so an aggregate declared with INITCOND over
	 * a known transition function is not the scan's.
	 */
	if (agg->aggkind == AGGKIND_NORMAL && !agg->aggfinalextra &&
		OidIsValid(agg->aggtransfn) &&
		heap_attisnull(tp, Anum_pg_aggregate_agginitval, NULL))
	{
		/* the C function behind the transition function, by its address */
		fmgr_info(agg->aggtransfn, &flinfo);
		for (int i = 0; i < nkinds; i++)
			if (kinds[i]->transfn == flinfo.fn_addr && kinds[i]->nargs == nargs)
				result = kinds[i];
	}
	ReleaseSysCache(tp);
	return result;
}

/* ---------------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------------
 */

/*
 * The column an aggregate argument is, or NULL: a Var, possibly relabeled
 * to a binary-compatible type (varchar or a domain as text), which changes
 * nothing in the datum.
 */
static Var *
ArgVar(TargetEntry *tle)
{
	Node	   *expr = (Node *) tle->expr;

	while (IsA(expr, RelabelType))
		expr = (Node *) ((RelabelType *) expr)->arg;
	return IsA(expr, Var) ? (Var *) expr : NULL;
}

/*
 * Whether an aggregate call is one the scan can compute over relation
 * relid: a known kind, called plainly on plain columns (for a parallel
 * plan's partial aggregation, partially: its state is the result).
 */
static bool
ScannableAggref(Aggref *aggref, Index relid, bool partial)
{
	ListCell   *lc;
	Oid			transfn;
	Oid			finalfn;

	if (aggref->agglevelsup != 0 || aggref->aggfilter != NULL ||
		aggref->aggdistinct != NIL || aggref->aggorder != NIL ||
		aggref->aggstar || aggref->aggvariadic ||
		aggref->aggkind != AGGKIND_NORMAL ||
		aggref->aggsplit != (partial ? AGGSPLIT_INITIAL_SERIAL : AGGSPLIT_SIMPLE) ||
		aggref->aggdirectargs != NIL)
		return false;
	foreach(lc, aggref->args)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Var		   *var = ArgVar(tle);

		if (tle->resjunk || var == NULL || var->varno != relid ||
			var->varlevelsup != 0 || var->varattno <= 0)
			return false;
	}
	return KindOf(aggref->aggfnoid, list_length(aggref->args), &transfn, &finalfn) != NULL;
}

/* Whether relation rte, read by rel, is a plain heap table the scan can read. */
static bool
ScannableTable(RelOptInfo *rel, RangeTblEntry *rte)
{
	Relation	r;
	bool		heap;

	if (rel->reloptkind != RELOPT_BASEREL || rel->rtekind != RTE_RELATION ||
		rte->rtekind != RTE_RELATION || rte->inh || rte->tablesample != NULL ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_MATVIEW) ||
		rel->baserestrictinfo != NIL || IS_DUMMY_REL(rel))
		return false;
	r = table_open(rte->relid, NoLock);
	heap = r->rd_tableam == GetHeapamTableAmRoutine();
	table_close(r, NoLock);
	return heap;
}

/*
 * The aggregates of target if the scan can compute them all over input_rel
 * (partially, for a parallel plan), each once; NIL otherwise.
 */
static List *
ScannableAggrefs(PathTarget *target, RelOptInfo *input_rel, bool partial)
{
	List	   *found = pull_var_clause((Node *) target->exprs,
										PVC_INCLUDE_AGGREGATES | PVC_INCLUDE_WINDOWFUNCS |
										PVC_INCLUDE_PLACEHOLDERS);
	List	   *aggrefs = NIL;
	ListCell   *lc;

	foreach(lc, found)
	{
		Aggref	   *aggref = (Aggref *) lfirst(lc);

		/* anything else of the table's (a Var, say) rules the scan out */
		if (!IsA(aggref, Aggref) || !ScannableAggref(aggref, input_rel->relid, partial))
			return NIL;
		aggrefs = list_append_unique(aggrefs, aggref);
	}
	return aggrefs;
}

/*
 * A path of the scan computing aggrefs over input_rel for rel and target:
 * whole, or (workers > 0) a parallel-aware partial path.  Its cost is a
 * sequential scan's (of a participant's share, for a partial path) plus
 * half a transition call per row and aggregate.
 */
static Path *
AggScanPath(PlannerInfo *root, RelOptInfo *input_rel, RelOptInfo *rel,
			PathTarget *target, List *aggrefs, int workers)
{
	CustomPath *cp = makeNode(CustomPath);
	Path		seqscan;

	memset(&seqscan, 0, sizeof(seqscan));
	seqscan.type = T_Path;
	seqscan.pathtype = T_SeqScan;
	seqscan.parent = input_rel;
	seqscan.pathtarget = input_rel->reltarget;
	seqscan.parallel_aware = workers > 0;
	seqscan.parallel_workers = workers;
	cost_seqscan(&seqscan, root, input_rel, NULL);

	cp->path.pathtype = T_CustomScan;
	cp->path.parent = rel;
	cp->path.pathtarget = target;
	cp->path.param_info = NULL;
	cp->path.parallel_aware = workers > 0;
	cp->path.parallel_safe = workers > 0;
	cp->path.parallel_workers = workers;
	cp->path.rows = 1;
	cp->path.startup_cost = seqscan.total_cost + 0.5 * cpu_operator_cost *
		seqscan.rows * list_length(aggrefs);
	cp->path.total_cost = cp->path.startup_cost + cpu_tuple_cost;
	cp->path.pathkeys = NIL;
	cp->flags = 0;
	cp->custom_paths = NIL;
	cp->custom_private = list_make2(makeInteger(input_rel->relid), aggrefs);
	cp->methods = &aggscan_path_methods;
	return (Path *) cp;
}

/*
 * The planner's partially grouped relation for rel, if it made one (for a
 * parallel plan, with the partial aggregates in its target).
 */
static RelOptInfo *
PartialGroupRel(PlannerInfo *root, RelOptInfo *rel)
{
	ListCell   *lc;

	foreach(lc, root->upper_rels[UPPERREL_PARTIAL_GROUP_AGG])
	{
		RelOptInfo *prel = (RelOptInfo *) lfirst(lc);

		if (bms_equal(prel->relids, rel->relids))
			return prel;
	}
	return NULL;
}

/*
 * create_upper_paths hook: offer the aggregate scan for the aggregation
 * step of a query it can compute (see the head comment): a path that does
 * it all and, where the planner considers a parallel plan, the same
 * parallel: a Finalize Aggregate over a Gather over a parallel-aware scan
 * whose participants each read a share of the pages and return their
 * states, which the Finalize Aggregate combines.  (PostgreSQL has no hook
 * at the partial aggregation step, so the parallel path is built whole
 * here, as the planner builds its own.)
 */
static void
AggScanUpperPaths(PlannerInfo *root, UpperRelationKind stage,
				  RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra)
{
	Query	   *parse = root->parse;
	GroupPathExtraData *gextra = (GroupPathExtraData *) extra;
	List	   *aggrefs;
	RelOptInfo *prel;
	int			workers;
	double		rows;

	if (prev_upper_paths)
		prev_upper_paths(root, stage, input_rel, output_rel, extra);

	if (stage != UPPERREL_GROUP_AGG || !aggscan_enabled || nkinds == 0 ||
		parse->commandType != CMD_SELECT || !parse->hasAggs ||
		parse->groupClause != NIL || parse->groupingSets != NIL ||
		parse->havingQual != NULL || parse->hasWindowFuncs ||
		parse->hasTargetSRFs || parse->rowMarks != NIL ||
		output_rel->reltarget == NULL)
		return;
	aggrefs = ScannableAggrefs(output_rel->reltarget, input_rel, false);
	if (aggrefs == NIL ||
		!ScannableTable(input_rel, planner_rt_fetch(input_rel->relid, root)))
		return;
	add_path(output_rel, AggScanPath(root, input_rel, output_rel,
									 output_rel->reltarget, aggrefs, 0));

	/* the parallel plan */
	if (!output_rel->consider_parallel || !input_rel->consider_parallel ||
		max_parallel_workers_per_gather <= 0 || gextra == NULL ||
		(gextra->flags & GROUPING_CAN_PARTIAL_AGG) == 0 || !gextra->partial_costs_set)
		return;
	prel = PartialGroupRel(root, output_rel);
	if (prel == NULL || !prel->consider_parallel || prel->reltarget == NULL)
		return;
	workers = compute_parallel_worker(input_rel, input_rel->pages, -1,
									  max_parallel_workers_per_gather);
	if (workers <= 0)
		return;
	aggrefs = ScannableAggrefs(prel->reltarget, input_rel, true);
	if (aggrefs == NIL)
		return;
	rows = workers + 1;			/* a state from each worker and the leader */
	add_path(output_rel, (Path *)
			 create_agg_path(root, output_rel,
							 (Path *) create_gather_path(root, prel,
														 AggScanPath(root, input_rel, prel,
																	 prel->reltarget,
																	 aggrefs, workers),
														 prel->reltarget, NULL, &rows),
							 output_rel->reltarget, AGG_PLAIN, AGGSPLIT_FINAL_DESERIAL,
							 NIL, NIL, &gextra->agg_final_costs, 1));
}

/*
 * The plan: a scan of the table whose scan tuple is the aggregates' results
 * (custom_scan_tlist); setrefs.c turns the aggregates in the select list
 * into references to it.
 */
static Plan *
PlanAggScan(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
			List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = makeNode(CustomScan);
	Index		relid = intVal(linitial(best_path->custom_private));
	List	   *aggrefs = lsecond(best_path->custom_private);
	List	   *scan_tlist = NIL;
	ListCell   *lc;

	Assert(clauses == NIL && custom_plans == NIL);
	foreach(lc, aggrefs)
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry((Expr *) copyObject(lfirst(lc)),
											 list_length(scan_tlist) + 1, NULL, false));
	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = relid;
	cscan->flags = best_path->flags;
	cscan->custom_plans = NIL;
	cscan->custom_exprs = NIL;
	cscan->custom_private = NIL;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->methods = &aggscan_scan_methods;
	return (Plan *) cscan;
}

/* ---------------------------------------------------------------------
 * Execution
 * ---------------------------------------------------------------------
 */

static Node *
CreateAggScanState(CustomScan *cscan)
{
	AggScanState *s = (AggScanState *) newNode(sizeof(AggScanState), T_CustomScanState);

	s->css.methods = &aggscan_exec_methods;
	return (Node *) s;
}

/* Raise the error ExecInitAgg raises when role may not execute funcid. */
static void
CheckExecute(Oid funcid, Oid roleid, ObjectType objtype)
{
	AclResult	acl;

#if PG_VERSION_NUM >= 160000
	acl = object_aclcheck(ProcedureRelationId, funcid, roleid, ACL_EXECUTE);
#else
	acl = pg_proc_aclcheck(funcid, roleid, ACL_EXECUTE);
#endif
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, objtype, get_func_name(funcid));
	InvokeFunctionExecuteHook(funcid);
}

/* Look the aggregates up again, check privileges, and get ready to read. */
static void
BeginAggScan(CustomScanState *node, EState *estate, int eflags)
{
	AggScanState *s = (AggScanState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	ListCell   *lc;
	int			i = 0;

	if (rel == NULL || rel->rd_tableam != GetHeapamTableAmRoutine())
		elog(ERROR, "aisec aggregate scan needs a heap table");
	s->naggs = list_length(cscan->custom_scan_tlist);
	s->aggs = palloc0(sizeof(AggScanAgg) * s->naggs);
	s->natts = 0;
	foreach(lc, cscan->custom_scan_tlist)
	{
		Aggref	   *aggref = (Aggref *) lfirst_node(TargetEntry, lc)->expr;
		AggScanAgg *a = &s->aggs[i++];
		Oid			transfn = InvalidOid;
		Oid			finalfn = InvalidOid;
		HeapTuple	tp;
		Oid			owner;
		int			j = 0;
		ListCell   *lc2;

		Assert(IsA(aggref, Aggref));
		CheckExecute(aggref->aggfnoid, GetUserId(), OBJECT_AGGREGATE);
		a->kind = KindOf(aggref->aggfnoid, list_length(aggref->args), &transfn, &finalfn);
		if (a->kind == NULL)
			elog(ERROR, "aggregate %u changed since the aisec aggregate scan was planned",
				 aggref->aggfnoid);
		tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(aggref->aggfnoid));
		if (!HeapTupleIsValid(tp))
			elog(ERROR, "cache lookup failed for function %u", aggref->aggfnoid);
		owner = ((Form_pg_proc) GETSTRUCT(tp))->proowner;
		ReleaseSysCache(tp);
		CheckExecute(transfn, owner, OBJECT_FUNCTION);
		if (OidIsValid(finalfn))
		{
			CheckExecute(finalfn, owner, OBJECT_FUNCTION);
			fmgr_info(finalfn, &a->finalfn);
		}
		a->collation = aggref->inputcollid;
		a->partial = DO_AGGSPLIT_SKIPFINAL(aggref->aggsplit);
		foreach(lc2, aggref->args)
		{
			Var		   *var = ArgVar(lfirst_node(TargetEntry, lc2));

			if (var == NULL || var->varattno <= 0)
				elog(ERROR, "aisec aggregate scan: an argument is not a column");
			if (var->varattno > RelationGetNumberOfAttributes(rel))
				elog(ERROR, "aisec aggregate scan: column %d out of range", var->varattno);
			a->argidx[j++] = var->varattno - 1;
			s->natts = Max(s->natts, var->varattno);
		}
	}
	s->values = palloc(sizeof(Datum) * s->natts);
	s->isnull = palloc(sizeof(bool) * s->natts);
	s->atts = palloc(sizeof(AggScanAtt) * s->natts);
	for (int k = 0; k < s->natts; k++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), k);

		s->atts[k].len = att->attlen;
		s->atts[k].align = att->attalign == TYPALIGN_DOUBLE ? ALIGNOF_DOUBLE :
			att->attalign == TYPALIGN_INT ? ALIGNOF_INT :
			att->attalign == TYPALIGN_SHORT ? ALIGNOF_SHORT : 1;
		s->atts[k].byval = att->attbyval;
		s->atts[k].needed = false;
	}
	for (int k = 0; k < s->naggs; k++)
		for (int j = 0; j < s->aggs[k].kind->nargs; j++)
			s->atts[s->aggs[k].argidx[j]].needed = true;
	s->statecxt = AllocSetContextCreate(CurrentMemoryContext, "aisec aggregate scan",
										ALLOCSET_DEFAULT_SIZES);
	s->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec aggregate scan row",
									  ALLOCSET_DEFAULT_SIZES);
	s->done = false;
}

/*
 * Deform attributes 1 .. natts of a tuple into values and isnull: those the
 * tuple stores, walking from the first (the columns' lengths and alignments
 * read from atts, a value fetched only where needed), then the table's
 * missing values for those it predates (ALTER TABLE ADD COLUMN).
 */
static inline void
DeformPrefix(HeapTuple tuple, TupleDesc desc, const AggScanAtt *atts, int natts,
			 Datum *values, bool *isnull)
{
	HeapTupleHeader tup = tuple->t_data;
	bool		hasnulls = HeapTupleHasNulls(tuple);
	bits8	   *bp = tup->t_bits;
	char	   *tp = (char *) tup + tup->t_hoff;
	int			stored = Min(natts, (int) HeapTupleHeaderGetNatts(tup));
	uintptr_t	off = 0;
	int			attnum;

	for (attnum = 0; attnum < stored; attnum++)
	{
		const AggScanAtt *att = &atts[attnum];
		char	   *p;

		if (hasnulls && att_isnull(attnum, bp))
		{
			values[attnum] = (Datum) 0;
			isnull[attnum] = true;
			continue;
		}
		isnull[attnum] = false;
		/* a varlena with a 1-byte header is not aligned; pad bytes are 0 */
		if (att->len != -1 || !VARATT_NOT_PAD_BYTE(tp + off))
			off = TYPEALIGN(att->align, off);
		p = tp + off;
		if (att->needed)
			values[attnum] = fetch_att(p, att->byval, att->len);
		if (att->len > 0)
			off += att->len;
		else if (att->len == -1)
			off += VARSIZE_ANY(p);
		else
			off += strlen(p) + 1;
	}
	for (; attnum < natts; attnum++)
		values[attnum] = getmissingattr(desc, attnum + 1, &isnull[attnum]);
}

/*
 * Ask the CPU for a tuple a few ahead on the current page: the tuples of a
 * page lie from its end backwards, an order the hardware does not always
 * guess, and reading a tuple's header is otherwise this loop's one wait.
 * (A pure hint: heap_getnext in page mode has listed the page's visible
 * tuples in rs_vistuples, and rs_cindex is the one just returned.)
 */
static inline void
PrefetchAhead(HeapScanDesc h)
{
#if defined(__GNUC__) || defined(__clang__)
	int			next = h->rs_cindex + AGGSCAN_PREFETCH;

	if (next < h->rs_ntuples)
	{
		Page		page = BufferGetPage(h->rs_cbuf);
		ItemId		lp = PageGetItemId(page, h->rs_vistuples[next]);

		__builtin_prefetch((char *) page + ItemIdGetOffset(lp));
	}
#endif
}

/* Read the whole table into the aggregates' states. */
static void
RunScan(AggScanState *s)
{
	EState	   *estate = s->css.ss.ps.state;
	Relation	rel = s->css.ss.ss_currentRelation;
	TupleDesc	desc = RelationGetDescr(rel);
	TableScanDesc scan;
	HeapTuple	tuple;
	MemoryContext old;
	Size		rowbase;
	Datum		args[AGGSCAN_MAX_ARGS];
	bool		argnull[AGGSCAN_MAX_ARGS];

	for (int i = 0; i < s->naggs; i++)
	{
		AggScanAgg *a = &s->aggs[i];

		a->box = aggbox_create(s->statecxt, a->kind->box);
		a->counted = false;
	}
	s->rows = 0;
	rowbase = MemoryContextMemAllocated(s->rowcxt, false);
	if (s->pscan != NULL)
		scan = table_beginscan_parallel(rel, s->pscan);
	else
		scan = table_beginscan(rel, estate->es_snapshot, 0, NULL);
	while ((tuple = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		PrefetchAhead((HeapScanDesc) scan);
		/* the scan's own memory stays outside the context reset below */
		old = MemoryContextSwitchTo(s->rowcxt);
		DeformPrefix(tuple, desc, s->atts, s->natts, s->values, s->isnull);
		for (int i = 0; i < s->naggs; i++)
		{
			AggScanAgg *a = &s->aggs[i];

			for (int j = 0; j < a->kind->nargs; j++)
			{
				args[j] = s->values[a->argidx[j]];
				argnull[j] = s->isnull[a->argidx[j]];
			}
			a->counted |= a->kind->add_row(a->box->state, args, argnull);
		}
		MemoryContextSwitchTo(old);
		s->rows++;
		/* a row's detoasted arguments live until a block fills up */
		if (unlikely(s->rowcxt->mem_allocated != rowbase))
		{
			MemoryContextReset(s->rowcxt);
			rowbase = MemoryContextMemAllocated(s->rowcxt, false);
		}
	}
	table_endscan(scan);
	MemoryContextReset(s->rowcxt);
}

/* The aggregates' results, as one row, through the select list. */
static TupleTableSlot *
ExecAggScan(CustomScanState *node)
{
	AggScanState *s = (AggScanState *) node;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;

	if (s->done)
		return NULL;
	s->done = true;
	RunScan(s);

	ExecClearTuple(slot);
	for (int i = 0; i < s->naggs; i++)
	{
		AggScanAgg *a = &s->aggs[i];
		/* no row counted: the state is NULL, as the Agg node's would be */
		bool		empty = !a->counted;
		Datum		state = empty ? (Datum) 0 : EOHPGetRODatum(&a->box->hdr);

		if (a->partial || !OidIsValid(a->finalfn.fn_oid))
		{
			/* the state itself, flat (a partial state crosses processes) */
			slot->tts_isnull[i] = empty;
			slot->tts_values[i] = empty ? (Datum) 0 :
				PointerGetDatum(PG_DETOAST_DATUM_COPY(state));
		}
		else if (empty && a->finalfn.fn_strict)
		{
			slot->tts_isnull[i] = true;
			slot->tts_values[i] = (Datum) 0;
		}
		else
		{
			LOCAL_FCINFO(fcinfo, 1);

			InitFunctionCallInfoData(*fcinfo, &a->finalfn, 1, a->collation, NULL, NULL);
			fcinfo->args[0].value = state;
			fcinfo->args[0].isnull = empty;
			slot->tts_values[i] = FunctionCallInvoke(fcinfo);
			slot->tts_isnull[i] = fcinfo->isnull;
		}
	}
	ExecStoreVirtualTuple(slot);
	if (node->ss.ps.ps_ProjInfo == NULL)
		return slot;
	ResetExprContext(econtext);
	econtext->ecxt_scantuple = slot;
	return ExecProject(node->ss.ps.ps_ProjInfo);
}

static void
EndAggScan(CustomScanState *node)
{
	AggScanState *s = (AggScanState *) node;

	if (s->statecxt != NULL)
		MemoryContextDelete(s->statecxt);
	if (s->rowcxt != NULL)
		MemoryContextDelete(s->rowcxt);
}

/* Start over: the states are made again by the next scan. */
static void
ReScanAggScan(CustomScanState *node)
{
	AggScanState *s = (AggScanState *) node;

	ExecClearTuple(node->ss.ss_ScanTupleSlot);
	MemoryContextReset(s->statecxt);
	s->done = false;
}

/* EXPLAIN ANALYZE: the rows read (by the whole scan, not by one participant). */
static void
ExplainAggScan(CustomScanState *node, List *ancestors, ExplainState *es)
{
	AggScanState *s = (AggScanState *) node;

	if (es->analyze && !node->ss.ps.plan->parallel_aware)
		ExplainPropertyUInteger("Rows Aggregated", NULL, s->rows, es);
}

/*
 * A parallel plan's shared scan, as nodeSeqscan.c sets it up: the leader
 * sizes and initializes it in the plan's shared memory, a rescan resets it,
 * each worker attaches to it.  Every participant then scans its share of
 * the pages into states of its own.
 */
static Size
EstimateAggScan(CustomScanState *node, ParallelContext *pcxt)
{
	return table_parallelscan_estimate(node->ss.ss_currentRelation,
									   node->ss.ps.state->es_snapshot);
}

static void
InitializeAggScan(CustomScanState *node, ParallelContext *pcxt, void *coordinate)
{
	AggScanState *s = (AggScanState *) node;

	s->pscan = (ParallelTableScanDesc) coordinate;
	table_parallelscan_initialize(node->ss.ss_currentRelation, s->pscan,
								  node->ss.ps.state->es_snapshot);
}

static void
ReInitializeAggScan(CustomScanState *node, ParallelContext *pcxt, void *coordinate)
{
	AggScanState *s = (AggScanState *) node;

	table_parallelscan_reinitialize(node->ss.ss_currentRelation, s->pscan);
}

static void
InitializeWorkerAggScan(CustomScanState *node, shm_toc *toc, void *coordinate)
{
	AggScanState *s = (AggScanState *) node;

	s->pscan = (ParallelTableScanDesc) coordinate;
}

/* ---------------------------------------------------------------------
 * Set-up
 * ---------------------------------------------------------------------
 */

/* Define the setting and install the planner hook (from _PG_init). */
void
aisec_aggscan_init(void)
{
	DefineCustomBoolVariable("aisec.aggregate_scan",
							 "Compute aisec's aggregates over a whole table in one tight loop over its pages.",
							 "Off plans them as any aggregate: the same results, slower.",
							 &aggscan_enabled,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	RegisterCustomScanMethods(&aggscan_scan_methods);
	prev_upper_paths = create_upper_paths_hook;
	create_upper_paths_hook = AggScanUpperPaths;
}
