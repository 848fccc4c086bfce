/*
 * lineage_capture.c
 *		Automatic capture of row lineage (doc/lineage.md "Automatic
 *		capture"): a statement that writes a tracked table while reading
 *		tracked tables records one transform, and, for the shapes
 *		lineage_rewrite.c traces, each written row's parents.  Other
 *		shapes are recorded at table level, with one NOTICE.
 *
 * Four pieces:
 *
 * - Planning (planner_hook): while aisec.lineage is on, lineage_rewrite.c
 *   adds the lineage columns to a copy of the query (INSERT ... SELECT,
 *   UPDATE ... FROM, MERGE), so every plan made of the statement has
 *   them (PREPARE, PL/pgSQL); a change of the setting to or from on
 *   makes the session's cached plans be made again (lineage_store.c), and
 *   a plan without them that runs while it is on records table level.
 *   Under an INSERT that has them, a Result node between the ModifyTable
 *   and its subplan passes on t's columns only.
 * - Collection (ExecutorStart_hook): the ModifyTable's subplan (under
 *   that Result) gets a wrapper around its ExecProcNode that, per row,
 *   appends the row written (INSERT: its new aisec_rid, which the
 *   identity default computes in the subplan; UPDATE: its aisec_rid;
 *   MERGE: the row id its action marked, noted when the next row is
 *   pulled) and each non-NULL parent column to a buffer in the
 *   statement's memory.  Nothing else runs per row.
 * - Writing (ExecutorFinish_hook, after the standard one, so after the
 *   capture's AFTER statement trigger): one transform and its edges, as
 *   runs of consecutive children (lineage_write_runs) or sets
 *   (lineage_write_sets), as the extension owner, in the statement's
 *   (sub)transaction.  A statement that fails writes nothing; a
 *   rolled-back one takes its edges along.
 *
 * Only rows written keep their edges: the ModifyTable counts each row it
 * writes in es_processed and processes each row it pulls before pulling
 * the next, so a row whose count did not grow was skipped (a concurrent
 * change made it fail its recheck, or an UPDATE ... FROM already updated
 * it from an earlier source row, the one its new version is made of).
 * The shapes traced exclude ON CONFLICT, rules and BEFORE ROW triggers on
 * t (which could change a row) and a user-supplied aisec_rid, and any
 * error ends the statement.
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
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "utils/array.h"
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

/* One parent column of a capturing statement, and what it collected. */
typedef struct Column
{
	AttrNumber	att;			/* in the subplan's output */
	bool		set;			/* int8[] (a group's parents), else int8 */
	int64	   *buf;			/* int8: child, parent, ...; int8[]: child, n, parents */
	Size		n;				/* words used */
	Size		cap;
	Size		held;			/* n before the row last pulled (not MERGE) */
} Column;

/* One capturing statement's collector. */
typedef struct Capture
{
	EState	   *estate;
	PlanState  *sub;			/* the ModifyTable's subplan */
	ExecProcNodeMtd real;		/* its own ExecProcNodeReal */
	AttrNumber	child_att;		/* the row written: its aisec_rid */
	int			ncols;
	Column	   *cols;
	bool		on;				/* aisec.lineage = on when it started */
	bool		overflow;		/* its edges outgrew aisec.lineage_memory */
	bool		merge;			/* MERGE: the child comes from a mark */
	bool		marked;			/* an action wrote the row last pulled, as mark */
	int64		mark;
	TupleTableSlot *last;		/* MERGE: the row last pulled */
	bool		held;			/* the row last pulled was noted (not MERGE) */
	uint64		processed;		/* es_processed when the last row was pulled */
	struct Capture *next;
} Capture;

static Capture *captures = NULL;

/* The last plan made of a statement not traced row by row, and why. */
static PlannedStmt *untraced_plan = NULL;
static const char *untraced_why = NULL;

static planner_hook_type prev_planner = NULL;
static ExecutorStart_hook_type prev_start = NULL;
static ExecutorFinish_hook_type prev_finish = NULL;

/* ---------------------------------------------------------------------
 * Collection
 * ---------------------------------------------------------------------
 */

/*
 * Room for more words in a column's buffer; false, with every buffer of c
 * freed and c->overflow set, when c would hold more than aisec.lineage_memory.
 */
static bool
Reserve(Capture *c, Column *col, Size more)
{
	Size		cap = col->cap;
	Size		total = 0;

	if (col->n + more <= col->cap)
		return true;
	while (col->n + more > cap)
		cap *= 2;
	for (int i = 0; i < c->ncols; i++)
		total += (&c->cols[i] == col ? cap : c->cols[i].cap) * sizeof(int64);
	if (total / 1024 > (Size) lineage_memory_kb)
	{
		for (int i = 0; i < c->ncols; i++)
		{
			pfree(c->cols[i].buf);
			c->cols[i].buf = NULL;
			c->cols[i].n = c->cols[i].cap = 0;
		}
		c->overflow = true;
		c->on = false;
		return false;
	}
	col->buf = repalloc_huge(col->buf, sizeof(int64) * cap);
	col->cap = cap;
	return true;
}

/* Note the parents of the row in slot, written as child. */
static void
Note(Capture *c, TupleTableSlot *slot, int64 child)
{
	for (int i = 0; i < c->ncols; i++)
	{
		Column	   *col = &c->cols[i];
		bool		isnull;
		Datum		d = slot_getattr(slot, col->att, &isnull);

		if (isnull)
			continue;			/* no tracked row on this side */
		if (!col->set)
		{
			if (!Reserve(c, col, 2))
				return;
			col->buf[col->n++] = child;
			col->buf[col->n++] = DatumGetInt64(d);
		}
		else
		{
			ArrayType  *a = DatumGetArrayTypeP(d);
			int			n = ArrayGetNItems(ARR_NDIM(a), ARR_DIMS(a));

			/* aisec.lineage_collect's arrays: no NULLs, ascending, distinct */
			if (n == 0 || ARR_HASNULL(a))
				continue;
			if (!Reserve(c, col, 2 + n))
			{
				if ((Pointer) a != DatumGetPointer(d))
					pfree(a);
				return;
			}
			col->buf[col->n++] = child;
			col->buf[col->n++] = n;
			memcpy(col->buf + col->n, ARR_DATA_PTR(a), sizeof(int64) * n);
			col->n += n;
			if ((Pointer) a != DatumGetPointer(d))
				pfree(a);
		}
	}
}

/*
 * Whether the ModifyTable wrote the row pulled last: it counts each row
 * an UPDATE, INSERT or DELETE (MERGE's actions too) actually writes in
 * es_processed, and not a row it skips, such as a row another
 * transaction changed so that it no longer qualifies (EvalPlanQual) or
 * one an UPDATE ... FROM already updated from another source row.
 */
static bool
Written(Capture *c)
{
	return c->estate->es_processed > c->processed;
}

/* Settle the row pulled last (not MERGE): its edges go if it was not written. */
static void
Settle(Capture *c)
{
	if (c->held && c->on && !Written(c))
		for (int i = 0; i < c->ncols; i++)
			c->cols[i].n = c->cols[i].held;
	c->held = false;
}

/*
 * The subplan's ExecProcNode: pass each row up, noting its parents, and
 * keep them only if the row was written (Written), which is known when
 * the next row is pulled (the ModifyTable processes each row it pulls
 * before it pulls another) or at the end.
 */
static TupleTableSlot *
CaptureNext(PlanState *ps)
{
	Capture    *c = captures;
	TupleTableSlot *slot;

	while (c->sub != ps)
		c = c->next;
	if (c->merge)
	{
		/* Note the row pulled last if an action wrote it, as its mark. */
		if (c->marked && c->on && Written(c) && c->last != NULL && !TupIsNull(c->last))
			Note(c, c->last, c->mark);
		c->marked = false;
		c->processed = c->estate->es_processed;
		c->last = slot = c->real(ps);
		return slot;
	}
	Settle(c);
	c->processed = c->estate->es_processed;
	slot = c->real(ps);
	if (!TupIsNull(slot) && c->on)
	{
		bool		isnull;
		Datum		child = slot_getattr(slot, c->child_att, &isnull);

		if (!isnull)
		{
			c->held = true;
			for (int i = 0; i < c->ncols; i++)
				c->cols[i].held = c->cols[i].n;
			Note(c, slot, DatumGetInt64(child));
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

/*
 * SQL: aisec.lineage_mark(rid, internal) returns rid, and tells the
 * innermost MERGE being captured that its current source row was written
 * as row rid, or, given NULL, that no row is (a DELETE action is taken).
 * lineage_rewrite.c puts it around the aisec_rid of MERGE's INSERT and
 * UPDATE actions and in DELETE actions' conditions; its internal
 * argument keeps it from being called from SQL.  Not strict: that NULL
 * argument must not make it return NULL.
 */
PG_FUNCTION_INFO_V1(aisec_lineage_mark);
Datum
aisec_lineage_mark(PG_FUNCTION_ARGS)
{
	for (Capture *c = captures; c != NULL; c = c->next)
		if (c->merge)
		{
			/* NULL: a DELETE action was taken, no row is written */
			c->marked = !PG_ARGISNULL(0);
			if (c->marked)
				c->mark = PG_GETARG_INT64(0);
			break;
		}
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}

/* Whether te is a column lineage_rewrite.c added (of the kind name). */
static bool
IsLineageColumn(TargetEntry *te, const char *name)
{
	return te->resjunk && te->resname != NULL && strcmp(te->resname, name) == 0;
}

/* The number of parent columns in plan's target list. */
static int
ParentColumns(Plan *plan)
{
	ListCell   *lc;
	int			n = 0;

	foreach(lc, plan->targetlist)
		if (IsLineageColumn(lfirst(lc), LINEAGE_PARENT_COLUMN) ||
			IsLineageColumn(lfirst(lc), LINEAGE_PARENTS_COLUMN))
			n++;
	return n;
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
	if (IsA(plan, MergeAppend))
		foreach(lc, ((MergeAppend *) plan)->mergeplans)
			m = Max(m, MaxNodeId(lfirst(lc)));
	if (IsA(plan, SubqueryScan))
		m = Max(m, MaxNodeId(((SubqueryScan *) plan)->subplan));
	return m;
}

/*
 * The result of a statement that writes a tracked table, with its
 * lineage columns (lineage_rewrite.c) when aisec.lineage is on and it
 * has a shape traced row by row; the statement as written otherwise.
 */
static PlannedStmt *
PlanWithLineage(Query *parse, const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	Query	   *copy = NULL;
	const char *why = NULL;
	PlannedStmt *ps;

	if ((parse->commandType == CMD_INSERT || parse->commandType == CMD_UPDATE
#if PG_VERSION_NUM >= 150000
		 || parse->commandType == CMD_MERGE
#endif
		 ) && parse->resultRelation > 0 && !IsBinaryUpgrade && lineage_mode == LINEAGE_ON &&
		lineage_rid_column(rt_fetch(parse->resultRelation, parse->rtable)->relid) != InvalidAttrNumber)
	{
		copy = copyObject(parse);
		if (!lineage_rewrite(copy, &why))
			copy = NULL;
	}
	if (copy != NULL)
		parse = copy;
	ps = prev_planner ? prev_planner(parse, query_string, cursorOptions, boundParams) :
		standard_planner(parse, query_string, cursorOptions, boundParams);
	if (why != NULL)
	{
		untraced_plan = ps;
		untraced_why = why;
	}
	return ps;
}

/*
 * planner_hook: add the lineage columns (PlanWithLineage), and under an
 * INSERT that has them a Result node that passes on the table's columns
 * only (the executor's INSERT does not project away resjunk columns of
 * its subplan on every supported version); the collector reads the
 * parent columns below it.
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

	ps = PlanWithLineage(parse, query_string, cursorOptions, boundParams);
	if (ps->commandType != CMD_INSERT || !IsA(ps->planTree, ModifyTable))
		return ps;
	mt = (ModifyTable *) ps->planTree;
	sub = outerPlan(mt);
	if (sub == NULL || ParentColumns(sub) == 0)
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
	PlanState  *sps;
	AttrNumber	child_att = InvalidAttrNumber;
	RangeTblEntry *target;
	Capture    *c;
	MemoryContext old;
	MemoryContextCallback *cb;
	ListCell   *lc;
	int			ncols;

	if (prev_start)
		prev_start(qd, eflags);
	else
		standard_ExecutorStart(qd, eflags);
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) ||
		(ps->commandType != CMD_INSERT && ps->commandType != CMD_UPDATE
#if PG_VERSION_NUM >= 150000
		 && ps->commandType != CMD_MERGE
#endif
		 ) ||
		!IsA(ps->planTree, ModifyTable) || outerPlan(ps->planTree) == NULL ||
		list_length(ps->resultRelations) != 1)
		return;
	sub = outerPlan(ps->planTree);
	sps = outerPlanState((ModifyTableState *) qd->planstate);
	if (ps->commandType == CMD_INSERT)
	{
		/* INSERT: the Result added above; the new row's aisec_rid below it */
		if (!IsA(sub, Result) || outerPlan(sub) == NULL || sps == NULL)
			return;
		sub = outerPlan(sub);
		sps = outerPlanState(sps);
		target = rt_fetch(linitial_int(ps->resultRelations), ps->rtable);
		child_att = lineage_rid_column(target->relid);
	}
	else if (ps->commandType == CMD_UPDATE)
	{
		foreach(lc, sub->targetlist)
			if (IsLineageColumn(lfirst(lc), LINEAGE_CHILD_COLUMN))
				child_att = ((TargetEntry *) lfirst(lc))->resno;
	}
	else
		child_att = -1;			/* MERGE: marks name the child */
	ncols = ParentColumns(sub);
	if (ncols == 0 || child_att == InvalidAttrNumber || sps == NULL)
		return;
	old = MemoryContextSwitchTo(qd->estate->es_query_cxt);
	c = palloc0(sizeof(Capture));
	c->estate = qd->estate;
	c->sub = sps;
	c->real = c->sub->ExecProcNodeReal;
	c->child_att = child_att;
	c->merge = (child_att == -1);
	c->cols = palloc0(sizeof(Column) * ncols);
	foreach(lc, sub->targetlist)
	{
		TargetEntry *te = lfirst(lc);
		bool		set = IsLineageColumn(te, LINEAGE_PARENTS_COLUMN);

		if (!set && !IsLineageColumn(te, LINEAGE_PARENT_COLUMN))
			continue;
		c->cols[c->ncols].att = te->resno;
		c->cols[c->ncols].set = set;
		c->cols[c->ncols].cap = 1024;
		c->cols[c->ncols].buf = palloc(sizeof(int64) * 1024);
		c->ncols++;
	}
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
 * The version a statement with snapshot snap read tracked table tt at
 * (tt as snap sees the registry; doc/lineage.md "Versions"): the last
 * committed version if the table had no change in its pending version
 * then (every row read is that version's), else the pending version (an
 * "as of" version: a row may have changed in it, before or after it was
 * read).
 */
static int64
VersionRead(const TrackedTable *tt, Snapshot snap)
{
	if (tt->pending > 1 && !history_pending_changed(tt->table_no, tt->pending, snap))
		return tt->pending - 1;
	return tt->pending;
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

/*
 * The kind of transform a statement records: an INSERT ... SELECT is one
 * whose rows come from a plan reading rows (not VALUES, nor one SELECT
 * without FROM), whatever level it records at.
 */
static const char *
KindOf(PlannedStmt *ps)
{
	Plan	   *sub;

	switch (ps->commandType)
	{
		case CMD_INSERT:
			sub = IsA(ps->planTree, ModifyTable) ? outerPlan(ps->planTree) : NULL;
			if (sub == NULL || IsA(sub, ValuesScan) ||
				(IsA(sub, Result) && outerPlan(sub) == NULL))
				return "insert";
			return "insert_select";
		case CMD_UPDATE:
			return "update";
		default:
			return "merge";
	}
}

/*
 * Write what c collected as transform id's edges; children's version
 * child_from.  A int8 column's pairs go as runs (lineage_write_runs), cut
 * where the parent's table changes (it cannot within a column, which
 * reads one table reference; this keeps each run's version right
 * regardless); a set column's records as sets.
 */
static int64
WriteColumns(int64 id, Capture *c, const LineageTransform *t, int64 child_from)
{
	int64		edges = 0;

	for (int i = 0; i < c->ncols; i++)
	{
		Column	   *col = &c->cols[i];
		int64		npairs = (int64) col->n / 2;
		int64		from = 0;

		if (col->set)
		{
			edges += lineage_write_sets(id, col->buf, (int64) col->n, child_from, t);
			continue;
		}
		for (int64 k = 1; k <= npairs; k++)
			if (k == npairs ||
				(col->buf[2 * k + 1] >> RID_TABLE_SHIFT) != (col->buf[2 * from + 1] >> RID_TABLE_SHIFT))
			{
				edges += lineage_write_runs(id, col->buf + 2 * from, k - from, child_from,
											lineage_version_read(t, col->buf[2 * from + 1]));
				from = k;
			}
	}
	return edges;
}

/*
 * True if plan, or a plan below it, is one of Citus's scans: the
 * statement reads a Citus table, whose rows aisec does not trace.
 */
static bool
RunsCitusScan(Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	if (IsA(plan, CustomScan) &&
		strncmp(((CustomScan *) plan)->methods->CustomName, "Citus", 5) == 0)
		return true;
	if (RunsCitusScan(plan->lefttree) || RunsCitusScan(plan->righttree))
		return true;
	if (IsA(plan, Append))
		foreach(lc, ((Append *) plan)->appendplans)
			if (RunsCitusScan(lfirst(lc)))
				return true;
	if (IsA(plan, MergeAppend))
		foreach(lc, ((MergeAppend *) plan)->mergeplans)
			if (RunsCitusScan(lfirst(lc)))
				return true;
	if (IsA(plan, SubqueryScan))
		return RunsCitusScan(((SubqueryScan *) plan)->subplan);
	if (IsA(plan, CustomScan))
		foreach(lc, ((CustomScan *) plan)->custom_plans)
			if (RunsCitusScan(lfirst(lc)))
				return true;
	return false;
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

	bool		cte_write = ps->commandType == CMD_SELECT && ps->hasModifyingCTE;
	bool		citus;

	if (ps->commandType != CMD_INSERT && ps->commandType != CMD_UPDATE
#if PG_VERSION_NUM >= 150000
		&& ps->commandType != CMD_MERGE
#endif
		&& !cte_write)
		return;
	if (ps->resultRelations == NIL)
		return;
	trte = NULL;
	if (!cte_write)
		trte = rt_fetch(RootResult(ps), ps->rtable);
	else
	{
		/* WITH w AS (INSERT INTO t ...) SELECT ...: the first tracked table written */
		foreach(lc, ps->resultRelations)
		{
			RangeTblEntry *rte = rt_fetch(lfirst_int(lc), ps->rtable);

			if (lineage_rid_column(rte->relid) != InvalidAttrNumber)
			{
				trte = rte;
				break;
			}
		}
	}
	if (trte == NULL || lineage_rid_column(trte->relid) == InvalidAttrNumber)
		return;

	/*
	 * A statement reading a Citus table is traced at table level.  Citus
	 * adds a second entry for the table an INSERT ... SELECT writes, which
	 * is not read: under Citus the target is not taken as a source.
	 */
	citus = RunsCitusScan(ps->planTree);
	foreach(lc, ps->subplans)
		citus |= RunsCitusScan(lfirst(lc));

	/* The tracked tables read (none: nothing to record), then the target. */
	nrte = list_length(ps->rtable);
	memset(&t, 0, sizeof(t));
	t.sources = palloc(sizeof(int32) * nrte);
	t.source_versions = palloc(sizeof(int64) * nrte);
	t.targets = palloc(sizeof(int32) * (list_length(ps->resultRelations) + 1));
	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		TrackedTable tt;

		if (rte->rtekind == RTE_RELATION && !IsResult(ps, foreach_current_index(lc) + 1) &&
			!(citus && rte->relid == trte->relid) &&
			lineage_rid_column(rte->relid) != InvalidAttrNumber && lineage_installed() &&
			history_lookup_at(rte->relid, qd->snapshot, &tt))
		{
			tt.pending = VersionRead(&tt, qd->snapshot);
			AddTable(&t, &tt, true);
		}
	}
	if (t.nsources == 0 || !lineage_is_tracked(trte->relid, &target))
		return;
	c = CaptureOf(qd->estate);
	/* The row pulled last, if the subplan's end was not pulled after it. */
	if (c != NULL && c->merge && c->marked && c->on && Written(c) && c->last != NULL && !TupIsNull(c->last))
		Note(c, c->last, c->mark);
	else if (c != NULL && !c->merge)
		Settle(c);
	if (c != NULL)
		c->marked = c->held = false;
	AddTable(&t, &target, false);
	/* Other tracked tables the statement writes (in data-modifying CTEs). */
	foreach(lc, ps->resultRelations)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), ps->rtable);
		TrackedTable tt;

		if (lineage_is_tracked(rte->relid, &tt))
			AddTable(&t, &tt, false);
	}
	lineage_add_untracked_plan(&t, ps);
	t.kind = cte_write ? "cte" : KindOf(ps);
	qrel = aisec_qualified_name(trte->relid);
	if (lineage_skipped(t.kind, qrel))
		return;
	t.table_level = (c == NULL || lineage_mode == LINEAGE_TABLE || !c->on);
	if (c != NULL && c->overflow)
		ereport(NOTICE,
				(errmsg("row lineage of this statement into \"%s\" is recorded at table level only",
						get_rel_name(trte->relid)),
				 errdetail("Its edges needed more memory than aisec.lineage_memory (%d kB) allows.",
						   lineage_memory_kb),
				 errhint("Raise aisec.lineage_memory for the statement to record them row by row.")));
	else if (c == NULL && lineage_mode == LINEAGE_ON)
		ereport(NOTICE,
				(errmsg("row lineage of this statement into \"%s\" is recorded at table level only",
						get_rel_name(trte->relid)),
				 cte_write ?
				 errdetail("aisec does not trace rows one by one through %s (doc/lineage.md lists the shapes).",
						   "a data-modifying CTE") :
				 ps == untraced_plan && untraced_why != NULL ?
				 errdetail("aisec does not trace rows one by one through %s (doc/lineage.md lists the shapes).",
						   untraced_why) :
				 errdetail("aisec traces rows one by one through filters, projections, joins, subqueries and CTEs in FROM, UNION ALL, DISTINCT and GROUP BY; the statement has another shape (doc/lineage.md lists them).")));

	aisec_spi_begin(&spi);
	id = lineage_next_transform();
	if (!t.table_level)
		t.edges = WriteColumns(id, c, &t, target.pending);
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
	prev_planner = planner_hook;
	planner_hook = CapturePlanner;
	prev_start = ExecutorStart_hook;
	ExecutorStart_hook = CaptureStart;
	prev_finish = ExecutorFinish_hook;
	ExecutorFinish_hook = CaptureExecutorFinish;
}
