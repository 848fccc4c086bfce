/*
 * lineage_capture.c
 *		Automatic capture of row lineage, first shape (doc/lineage.md
 *		"Automatic capture"): INSERT INTO t ... SELECT ... FROM s, t and s
 *		tracked, one source, filters and projections.  Every other
 *		statement that writes a tracked table while reading tracked
 *		tables is recorded at table level, with one NOTICE.
 *
 * Four pieces:
 *
 * - Analysis (post_parse_analyze_hook): for the first shape, add s's
 *   aisec_rid as one more column of the SELECT and a resjunk column
 *   AISEC_PARENT_COLUMN reading it to the INSERT's target list.  Being
 *   part of the analysed query, the column is in every plan cached from
 *   it (PREPARE, PL/pgSQL); the settings are read when the statement
 *   runs, never here.  No user can write a resjunk column into an INSERT,
 *   so a plan carrying it was made here.
 * - Planning (planner_hook): the executor's INSERT never gets resjunk
 *   columns from PostgreSQL and does not drop them, so a Result node
 *   between the ModifyTable and its subplan passes on t's columns only.
 * - Collection (ExecutorStart_hook): the subplan under that Result gets a
 *   wrapper around its ExecProcNode that, per row, appends (child,
 *   parent) -- the new row's aisec_rid, which the identity default
 *   computes in the subplan, and the resjunk column -- to a buffer in the
 *   statement's memory.  Nothing else runs per row.
 * - Writing (ExecutorFinish_hook, after the standard one, so after the
 *   capture's AFTER statement trigger): one transform and its edges, as
 *   runs of consecutive children (lineage_write_runs), as the extension
 *   owner, in the statement's (sub)transaction.  A statement that fails
 *   writes nothing; a rolled-back one takes its edges along.
 *
 * Every row buffered was written: the shape excludes ON CONFLICT, rules,
 * BEFORE ROW INSERT triggers on t (which could drop or change a row) and
 * a user-supplied aisec_rid, and any error ends the statement.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/analyze.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "audit/audit.h"
#include "core/core.h"
#include "versioning/versioning.h"
#include "lineage_internal.h"

#define AISEC_PARENT_COLUMN		"aisec_lineage_parent"

/* One capturing statement's collector. */
typedef struct Capture
{
	EState	   *estate;
	PlanState  *sub;			/* the ModifyTable's subplan */
	ExecProcNodeMtd real;		/* its own ExecProcNodeReal */
	AttrNumber	child_att;		/* t's aisec_rid in the subplan's output */
	AttrNumber	parent_att;		/* the resjunk parent column */
	int64	   *pairs;			/* child, parent, child, parent, ... */
	Size		n;				/* pairs */
	Size		cap;
	bool		on;				/* aisec.lineage = on when it started */
	struct Capture *next;
} Capture;

static Capture *captures = NULL;

static post_parse_analyze_hook_type prev_analyze = NULL;
static planner_hook_type prev_planner = NULL;
static ExecutorStart_hook_type prev_start = NULL;
static ExecutorFinish_hook_type prev_finish = NULL;

/* ---------------------------------------------------------------------
 * Analysis
 * ---------------------------------------------------------------------
 */

/* Whether aisec's registry exists in this database (cheap: catalog caches). */
static bool
AisecInstalled(void)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("tracked", nsp));
}

/*
 * The attnum of relid's aisec_rid if relid may be a tracked table (a plain
 * table whose aisec_rid is an identity column), else InvalidAttrNumber.
 */
static AttrNumber
RidColumn(Oid relid)
{
	AttrNumber	att = InvalidAttrNumber;
	HeapTuple	tup;

	if (get_rel_relkind(relid) != RELKIND_RELATION)
		return InvalidAttrNumber;
	tup = SearchSysCacheAttName(relid, RID_COLUMN);
	if (!HeapTupleIsValid(tup))
		return InvalidAttrNumber;
	if (((Form_pg_attribute) GETSTRUCT(tup))->attidentity != '\0')
		att = ((Form_pg_attribute) GETSTRUCT(tup))->attnum;
	ReleaseSysCache(tup);
	return att;
}

/* Whether relid is tracked (only asks the registry when it may be). */
static bool
IsTracked(Oid relid, TrackedTable *tt)
{
	return RidColumn(relid) != InvalidAttrNumber && AisecInstalled() &&
		history_lookup(relid, tt);
}

/* Whether relation relid has triggers or rules that may change an inserted row. */
static bool
RewritesInserts(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	bool		yes = rel->rd_rules != NULL ||
		(rel->trigdesc != NULL && rel->trigdesc->trig_insert_before_row);

	table_close(rel, AccessShareLock);
	return yes;
}

/*
 * If query is the first shape, add the parent column (see the file's
 * comment).  Anything else is left alone: the finish hook records it at
 * table level if it writes a tracked table from tracked ones.
 */
static void
AddParentColumn(Query *query)
{
	RangeTblEntry *target;
	RangeTblEntry *srte = NULL;
	Index		srti = 0;
	Query	   *sq;
	RangeTblEntry *src;
	RangeTblRef *ref;
	AttrNumber	tatt;
	AttrNumber	satt;
	TrackedTable tt;
	ListCell   *lc;
	int			nvisible = 0;
	int			pos;
	List	   *tl = NIL;
	Var		   *var;
	TargetEntry *te;

	if (query->commandType != CMD_INSERT || query->onConflict != NULL ||
		query->cteList != NIL || query->hasSubLinks || query->hasModifyingCTE ||
		query->hasTargetSRFs || query->setOperations != NULL)
		return;
	target = rt_fetch(query->resultRelation, query->rtable);
	tatt = RidColumn(target->relid);
	if (tatt == InvalidAttrNumber)
		return;
	/* The INSERT's source: one subquery (INSERT ... SELECT). */
	foreach(lc, query->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (foreach_current_index(lc) + 1 == query->resultRelation)
			continue;
		if (rte->rtekind != RTE_SUBQUERY || srte != NULL)
			return;
		srte = rte;
		srti = foreach_current_index(lc) + 1;
	}
	if (srte == NULL || list_length(query->jointree->fromlist) != 1)
		return;
	/* aisec_rid not supplied by the statement. */
	foreach(lc, query->targetList)
		if (((TargetEntry *) lfirst(lc))->resno == tatt || ((TargetEntry *) lfirst(lc))->resjunk)
			return;
	sq = srte->subquery;
	if (sq->commandType != CMD_SELECT || sq->setOperations != NULL || sq->cteList != NIL ||
		sq->hasAggs || sq->groupClause != NIL || sq->groupingSets != NIL ||
		sq->havingQual != NULL || sq->distinctClause != NIL || sq->hasDistinctOn ||
		sq->hasWindowFuncs || sq->hasTargetSRFs || sq->hasSubLinks || sq->hasRecursive ||
		sq->hasModifyingCTE || list_length(sq->rtable) != 1 ||
		list_length(sq->jointree->fromlist) != 1)
		return;
	ref = linitial(sq->jointree->fromlist);
	if (!IsA(ref, RangeTblRef) || ref->rtindex != 1)
		return;
	src = linitial(sq->rtable);
	if (src->rtekind != RTE_RELATION || src->tablesample != NULL)
		return;
	satt = RidColumn(src->relid);
	if (satt == InvalidAttrNumber || !AisecInstalled() ||
		!history_lookup(target->relid, &tt) || !history_lookup(src->relid, &tt) ||
		RewritesInserts(target->relid))
		return;

	/*
	 * s.aisec_rid becomes the SELECT's last visible column (resjunk entries
	 * of an ORDER BY stay after it, renumbered), and the INSERT reads it
	 * into a resjunk column of its own.
	 */
	foreach(lc, sq->targetList)
		if (!((TargetEntry *) lfirst(lc))->resjunk)
			nvisible++;
	pos = nvisible + 1;
	var = makeVar(1, satt, INT8OID, -1, InvalidOid, 0);
	te = makeTargetEntry((Expr *) var, pos, pstrdup(AISEC_PARENT_COLUMN), false);
	foreach(lc, sq->targetList)
	{
		TargetEntry *e = lfirst(lc);

		if (e->resjunk)
			e->resno++;
		if (foreach_current_index(lc) == nvisible)
			tl = lappend(tl, te);
		tl = lappend(tl, e);
	}
	if (list_length(tl) == list_length(sq->targetList))
		tl = lappend(tl, te);
	sq->targetList = tl;
	srte->eref->colnames = lappend(srte->eref->colnames, makeString(pstrdup(AISEC_PARENT_COLUMN)));
	var = makeVar(srti, pos, INT8OID, -1, InvalidOid, 0);
	query->targetList = lappend(query->targetList,
								makeTargetEntry((Expr *) var,
												list_length(query->targetList) + 1,
												pstrdup(AISEC_PARENT_COLUMN), true));
}

/* post_parse_analyze_hook */
static void
CaptureAnalyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	if (prev_analyze)
		prev_analyze(pstate, query, jstate);
	if (query->commandType == CMD_UTILITY && query->utilityStmt != NULL &&
		IsA(query->utilityStmt, ExplainStmt) &&
		IsA(((ExplainStmt *) query->utilityStmt)->query, Query))
		query = (Query *) ((ExplainStmt *) query->utilityStmt)->query;
	if (query->commandType == CMD_INSERT && !IsBinaryUpgrade)
		AddParentColumn(query);
}

/* ---------------------------------------------------------------------
 * Collection
 * ---------------------------------------------------------------------
 */

/* The subplan's ExecProcNode: pass each row up, noting (child, parent). */
static TupleTableSlot *
CaptureNext(PlanState *ps)
{
	Capture    *c = captures;
	TupleTableSlot *slot;

	while (c->sub != ps)
		c = c->next;
	slot = c->real(ps);
	if (!TupIsNull(slot) && c->on)
	{
		bool		cnull;
		bool		pnull;
		Datum		child = slot_getattr(slot, c->child_att, &cnull);
		Datum		parent = slot_getattr(slot, c->parent_att, &pnull);

		if (!cnull && !pnull)
		{
			if (c->n == c->cap)
			{
				c->cap *= 2;
				c->pairs = repalloc_huge(c->pairs, sizeof(int64) * 2 * c->cap);
			}
			c->pairs[2 * c->n] = DatumGetInt64(child);
			c->pairs[2 * c->n + 1] = DatumGetInt64(parent);
			c->n++;
		}
	}
	return slot;
}

/* Forget a capture when its statement's memory goes (end or error). */
static void
CaptureGone(void *arg)
{
	Capture   **p = &captures;

	while (*p != NULL && *p != arg)
		p = &(*p)->next;
	if (*p != NULL)
		*p = (*p)->next;
}

/* The capture of estate, or NULL. */
static Capture *
CaptureOf(EState *estate)
{
	for (Capture *c = captures; c != NULL; c = c->next)
		if (c->estate == estate)
			return c;
	return NULL;
}

/* The resno of the parent column in plan's target list, or 0. */
static AttrNumber
ParentColumn(Plan *plan)
{
	ListCell   *lc;

	foreach(lc, plan->targetlist)
	{
		TargetEntry *te = lfirst(lc);

		if (te->resjunk && te->resname != NULL && strcmp(te->resname, AISEC_PARENT_COLUMN) == 0)
			return te->resno;
	}
	return InvalidAttrNumber;
}

/* The highest plan_node_id under plan (the plans a first-shape INSERT has). */
static int
MaxNodeId(Plan *plan)
{
	int			m;
	ListCell   *lc;

	if (plan == NULL)
		return 0;
	m = Max(plan->plan_node_id, Max(MaxNodeId(plan->lefttree), MaxNodeId(plan->righttree)));
	if (IsA(plan, Append))
		foreach(lc, ((Append *) plan)->appendplans)
			m = Max(m, MaxNodeId(lfirst(lc)));
	if (IsA(plan, SubqueryScan))
		m = Max(m, MaxNodeId(((SubqueryScan *) plan)->subplan));
	return m;
}

/*
 * planner_hook: the executor's INSERT does not project away resjunk
 * columns of its subplan (PostgreSQL never gives it any), so a Result node
 * between the ModifyTable and its subplan passes on the table's columns
 * only; the collector reads the parent column below it.
 */
static PlannedStmt *
CapturePlanner(Query *parse, const char *query_string, int cursorOptions,
			   ParamListInfo boundParams)
{
	PlannedStmt *ps;
	ModifyTable *mt;
	Plan	   *sub;
	Result	   *res;
	List	   *tl = NIL;
	ListCell   *lc;

	ps = prev_planner ? prev_planner(parse, query_string, cursorOptions, boundParams) :
		standard_planner(parse, query_string, cursorOptions, boundParams);
	if (ps->commandType != CMD_INSERT || !IsA(ps->planTree, ModifyTable))
		return ps;
	mt = (ModifyTable *) ps->planTree;
	sub = outerPlan(mt);
	if (sub == NULL || ParentColumn(sub) == InvalidAttrNumber)
		return ps;
	foreach(lc, sub->targetlist)
	{
		TargetEntry *te = lfirst(lc);
		Var		   *v;

		if (te->resjunk)
			continue;
		v = makeVar(OUTER_VAR, te->resno, exprType((Node *) te->expr),
					exprTypmod((Node *) te->expr), exprCollation((Node *) te->expr), 0);
		tl = lappend(tl, makeTargetEntry((Expr *) v, te->resno, te->resname, false));
	}
	res = makeNode(Result);
	res->plan.targetlist = tl;
	res->plan.lefttree = sub;
	res->plan.startup_cost = sub->startup_cost;
	res->plan.total_cost = sub->total_cost;
	res->plan.plan_rows = sub->plan_rows;
	res->plan.plan_width = sub->plan_width;
	res->plan.parallel_safe = false;
	res->plan.plan_node_id = MaxNodeId(ps->planTree);
	foreach(lc, ps->subplans)
		res->plan.plan_node_id = Max(res->plan.plan_node_id, MaxNodeId(lfirst(lc)));
	res->plan.plan_node_id++;
	outerPlan(mt) = (Plan *) res;
	return ps;
}

/* ExecutorStart_hook: wrap the subplan of a statement planned above. */
static void
CaptureStart(QueryDesc *qd, int eflags)
{
	PlannedStmt *ps = qd->plannedstmt;
	Plan	   *sub;
	AttrNumber	parent_att;
	AttrNumber	child_att;
	RangeTblEntry *target;
	Capture    *c;
	MemoryContext old;
	MemoryContextCallback *cb;
	PlanState  *rs;

	if (prev_start)
		prev_start(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) || ps->commandType != CMD_INSERT ||
		!IsA(ps->planTree, ModifyTable) || outerPlan(ps->planTree) == NULL ||
		!IsA(outerPlan(ps->planTree), Result) ||
		outerPlan(outerPlan(ps->planTree)) == NULL)
		return;
	sub = outerPlan(outerPlan(ps->planTree));
	parent_att = ParentColumn(sub);
	if (parent_att == InvalidAttrNumber || list_length(ps->resultRelations) != 1)
		return;
	target = rt_fetch(linitial_int(ps->resultRelations), ps->rtable);
	child_att = RidColumn(target->relid);
	if (child_att == InvalidAttrNumber)
		return;
	rs = outerPlanState((ModifyTableState *) qd->planstate);
	if (rs == NULL || outerPlanState(rs) == NULL)
		return;
	old = MemoryContextSwitchTo(qd->estate->es_query_cxt);
	c = palloc0(sizeof(Capture));
	c->estate = qd->estate;
	c->sub = outerPlanState(rs);
	c->real = c->sub->ExecProcNodeReal;
	c->child_att = child_att;
	c->parent_att = parent_att;
	c->cap = 1024;
	c->pairs = palloc(sizeof(int64) * 2 * c->cap);
	c->on = (lineage_mode == LINEAGE_ON);
	cb = palloc0(sizeof(MemoryContextCallback));
	cb->func = CaptureGone;
	cb->arg = c;
	MemoryContextRegisterResetCallback(qd->estate->es_query_cxt, cb);
	MemoryContextSwitchTo(old);
	c->next = captures;
	captures = c;
	c->sub->ExecProcNodeReal = CaptureNext;
}

/* ---------------------------------------------------------------------
 * Writing
 * ---------------------------------------------------------------------
 */

/* Add table_no to a list of distinct table numbers (and its version). */
static void
AddTable(LineageTransform *t, const TrackedTable *tt, bool source)
{
	int32	   *list = source ? t->sources : t->targets;
	int		   *n = source ? &t->nsources : &t->ntargets;

	for (int i = 0; i < *n; i++)
		if (list[i] == tt->table_no)
			return;
	if (source)
		t->source_versions[*n] = tt->pending;
	list[(*n)++] = tt->table_no;
}

/*
 * The version a parent row was read at: the pending version of its table
 * when the statement ran (doc/lineage.md "Versions").  Its table is one
 * of t's sources (the first shape's s; others may be read by row-level
 * security policies).
 */
static int64
VersionRead(const LineageTransform *t, int64 parent)
{
	int32		table_no = (int32) (parent >> RID_TABLE_SHIFT);

	if (parent == 0)
		return 0;				/* no edges */
	for (int i = 0; i < t->nsources; i++)
		if (t->sources[i] == table_no)
			return t->source_versions[i];
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("row id " INT64_FORMAT " read as a parent belongs to no table the statement read",
					parent)));
	return 0;					/* keep compiler quiet */
}

/* The root of the statement's result relations (its table, if inherited). */
static Index
RootResult(PlannedStmt *ps)
{
	if (IsA(ps->planTree, ModifyTable) && ((ModifyTable *) ps->planTree)->rootRelation != 0)
		return ((ModifyTable *) ps->planTree)->rootRelation;
	return linitial_int(ps->resultRelations);
}

/*
 * Whether rtindex is one of the statement's result relations, or ON
 * CONFLICT's EXCLUDED (a range table entry of the target that reads
 * nothing).
 */
static bool
IsResult(PlannedStmt *ps, int rtindex)
{
	return list_member_int(ps->resultRelations, rtindex) ||
		(Index) rtindex == RootResult(ps) ||
		(IsA(ps->planTree, ModifyTable) &&
		 (Index) rtindex == ((ModifyTable *) ps->planTree)->exclRelRTI);
}

/* Audit a captured transform. */
static void
AuditCapture(Oid target, int64 id, const LineageTransform *t)
{
	lineage_audit_transform("lineage.capture", aisec_qualified_name(target), id, t);
}

/* The kind of transform a statement records. */
static const char *
KindOf(CmdType cmd, bool row)
{
	if (row)
		return "insert_select";
	switch (cmd)
	{
		case CMD_INSERT:
			return "insert";
		case CMD_UPDATE:
			return "update";
		default:
			return "merge";
	}
}

/*
 * After a statement writing a tracked table: record its transform (and,
 * for the first shape, its edges) if it read tracked tables.
 */
static void
CaptureFinish(QueryDesc *qd)
{
	PlannedStmt *ps = qd->plannedstmt;
	Capture    *c;
	RangeTblEntry *trte;
	TrackedTable target;
	LineageTransform t;
	int			nrte;
	ListCell   *lc;
	AisecSpi	spi;
	int64		id;
	char	   *qrel;

	if (ps->commandType != CMD_INSERT && ps->commandType != CMD_UPDATE
#if PG_VERSION_NUM >= 150000
		&& ps->commandType != CMD_MERGE
#endif
		)
		return;
	if (ps->resultRelations == NIL)
		return;
	trte = rt_fetch(RootResult(ps), ps->rtable);
	if (RidColumn(trte->relid) == InvalidAttrNumber)
		return;

	/* The tracked tables read (none: nothing to record), then the target. */
	nrte = list_length(ps->rtable);
	memset(&t, 0, sizeof(t));
	t.sources = palloc(sizeof(int32) * nrte);
	t.source_versions = palloc(sizeof(int64) * nrte);
	t.targets = palloc(sizeof(int32));
	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		TrackedTable tt;

		if (rte->rtekind == RTE_RELATION && !IsResult(ps, foreach_current_index(lc) + 1) &&
			IsTracked(rte->relid, &tt))
			AddTable(&t, &tt, true);
	}
	if (t.nsources == 0 || !IsTracked(trte->relid, &target))
		return;
	c = CaptureOf(qd->estate);
	AddTable(&t, &target, false);
	lineage_add_untracked_plan(&t, ps);
	t.kind = KindOf(ps->commandType, c != NULL);
	qrel = aisec_qualified_name(trte->relid);
	if (lineage_skipped(t.kind, qrel))
		return;
	t.table_level = (c == NULL || lineage_mode == LINEAGE_TABLE || !c->on);
	if (c == NULL && lineage_mode == LINEAGE_ON)
		ereport(NOTICE,
				(errmsg("row lineage of this statement into \"%s\" is recorded at table level only",
						get_rel_name(trte->relid)),
				 errdetail("aisec traces rows one by one for INSERT INTO t ... SELECT ... FROM s (one tracked source, filters and projections); joins, aggregates, DISTINCT, UNION, subqueries, CTEs, ON CONFLICT, UPDATE, MERGE, a supplied aisec_rid, rules and BEFORE ROW triggers on t are recorded at table level (doc/lineage.md).")));

	aisec_spi_begin(&spi);
	id = lineage_next_transform();
	if (!t.table_level)
		t.edges = lineage_write_runs(id, c->pairs, (int64) c->n, target.pending,
									 VersionRead(&t, c->n > 0 ? c->pairs[1] : 0));
	t.fingerprint = (int64) ps->queryId;
	(void) lineage_write_transform(id, &t);
	aisec_spi_end(&spi);
	AuditCapture(trte->relid, id, &t);
}

/* ExecutorFinish_hook */
static void
CaptureExecutorFinish(QueryDesc *qd)
{
	if (prev_finish)
		prev_finish(qd);
	else
		standard_ExecutorFinish(qd);
	CaptureFinish(qd);
}

/* Install the capture hooks (from _PG_init, through aisec_lineage_init). */
void
lineage_capture_init(void)
{
	prev_analyze = post_parse_analyze_hook;
	post_parse_analyze_hook = CaptureAnalyze;
	prev_planner = planner_hook;
	planner_hook = CapturePlanner;
	prev_start = ExecutorStart_hook;
	ExecutorStart_hook = CaptureStart;
	prev_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = CaptureExecutorFinish;
}
