/*
 * lineage_rewrite.c
 *		Row lineage by query rewriting (doc/lineage.md "Automatic
 *		capture"): before a statement that writes a tracked table is
 *		planned, every tracked table it reads gives each row it
 *		contributes an extra column, its aisec_rid, carried up through
 *		subqueries, joins, CTEs, UNION ALL and grouping to the row written.
 *
 * The rewrite runs from the planner hook (lineage_capture.c), on a copy
 * of the rewritten query (views expanded, row-level security applied);
 * if any part of the statement is a shape it does not trace, the copy is
 * dropped and the statement planned as written, and lineage_capture.c
 * records it at table level.  The columns it adds:
 *
 * - in each query level, one visible column per tracked table row that
 *   can contribute to a result row: the table's aisec_rid (int8), or,
 *   where the level groups rows (GROUP BY, aggregates, DISTINCT), the set
 *   of them, collected by aisec.lineage_collect() (int8[]).  Each column
 *   comes from one table reference, so all its row ids are of one table.
 *   UNION ALL gives each branch its own columns (NULL in the others).
 * - in the writing statement, resjunk columns reading them
 *   (LINEAGE_PARENT_COLUMN, LINEAGE_PARENTS_COLUMN) and, for UPDATE, the
 *   row written (LINEAGE_CHILD_COLUMN); no user can write a resjunk
 *   column, so a plan carrying them was made here.
 *
 * Nothing here widens access: the columns are read by aisec's executor
 * hook only, never returned, and the statement's privileges and
 * row-level security are checked as before (an aisec_rid column read
 * this way is not added to the columns a privilege check covers, as the
 * value goes to lineage only).
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "core/core.h"
#include "scaleout/scaleout.h"
#include "lineage_internal.h"

/* A CTE of a query level, traced. */
typedef struct CteTrace
{
	const char *name;
	bool		ok;
	List	   *types;			/* its added columns' types */
	int			base;			/* its columns before them */
} CteTrace;

/* A query level being traced, and the levels around it. */
typedef struct Level
{
	Query	   *q;
	CteTrace   *ctes;
	int			nctes;
	struct Level *up;
} Level;

/* One rewrite. */
typedef struct Trace
{
	Index		skip;			/* the written table's range table index */
	Oid			collect[2];		/* aisec.lineage_collect(int8), (int8[]) */
	const char *why;			/* the shape that stopped it */
} Trace;

static bool TraceQuery(Trace *tr, Level *up, Query *q, List **types);

/* Stop the trace: why names the shape (for the NOTICE). */
static bool
Fail(Trace *tr, const char *why)
{
	if (tr->why == NULL)
		tr->why = why;
	return false;
}

/*
 * The attnum of relid's aisec_rid if relid may be a tracked table (a plain
 * table whose aisec_rid is an identity column), else InvalidAttrNumber.
 */
AttrNumber
lineage_rid_column(Oid relid)
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

/* Whether aisec's registry exists in this database (cheap: catalog caches). */
bool
lineage_installed(void)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("tracked", nsp));
}

/* Whether relid is tracked (only asks the registry when it may be). */
bool
lineage_is_tracked(Oid relid, TrackedTable *tt)
{
	return lineage_rid_column(relid) != InvalidAttrNumber && lineage_installed() &&
		history_lookup(relid, tt);
}

/* ---------------------------------------------------------------------
 * Shapes not traced
 * ---------------------------------------------------------------------
 */

/*
 * PostgreSQL's functions that run a query or read a table they are given
 * (the XML exports, ts_stat, ts_rewrite with a query).
 */
static const char *const builtin_readers[] = {
	"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
	"cursor_to_xml", "cursor_to_xmlschema",
	"table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
	"schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
	"database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
	"ts_stat", "ts_rewrite",
};

/*
 * check_functions_in_node callback: a function that may read tables
 * itself (one in a procedural or SQL language, or one of
 * builtin_readers; other functions of PostgreSQL and C functions are
 * taken not to).
 */
static bool
ReadsTables(Oid fn, void *context)
{
	HeapTuple	tup;
	Oid			lang;

	if (fn < FirstNormalObjectId)
	{
		char	   *name = get_func_name(fn);
		bool		reads = false;

		for (int i = 0; name != NULL && i < lengthof(builtin_readers); i++)
			reads |= strcmp(name, builtin_readers[i]) == 0;
		if (name != NULL)
			pfree(name);
		return reads;
	}
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
	if (!HeapTupleIsValid(tup))
		return true;
	lang = ((Form_pg_proc) GETSTRUCT(tup))->prolang;
	ReleaseSysCache(tup);
	return lang != ClanguageId && lang != INTERNALlanguageId;
}

static bool
CallsReader(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, ReadsTables, context))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, CallsReader, context, 0);
	return expression_tree_walker(node, CallsReader, context);
}

/* query_tree_walker callback: a relation in the query is a Citus table. */
static bool
ReadsCitusTable(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		return rte->rtekind == RTE_RELATION && aisec_citus_table(rte->relid);
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, ReadsCitusTable, context,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, ReadsCitusTable, context);
}

/* The jointree's join conditions hold a subquery expression. */
static bool
JoinHasSubLink(Node *jt)
{
	ListCell   *lc;

	if (jt == NULL || IsA(jt, RangeTblRef))
		return false;
	if (IsA(jt, FromExpr))
	{
		if (checkExprHasSubLink(((FromExpr *) jt)->quals))
			return true;
		foreach(lc, ((FromExpr *) jt)->fromlist)
			if (JoinHasSubLink(lfirst(lc)))
				return true;
		return false;
	}
	if (IsA(jt, JoinExpr))
		return checkExprHasSubLink(((JoinExpr *) jt)->quals) ||
			JoinHasSubLink(((JoinExpr *) jt)->larg) ||
			JoinHasSubLink(((JoinExpr *) jt)->rarg);
	return true;
}

/*
 * Whether a query level uses a subquery expression (EXISTS, IN, a scalar
 * subquery) outside the row-level security quals PostgreSQL added.
 */
static bool
LevelHasSubLink(Query *q)
{
	ListCell   *lc;

	if (checkExprHasSubLink((Node *) q->targetList) ||
		checkExprHasSubLink(q->havingQual) ||
		checkExprHasSubLink(q->limitCount) ||
		checkExprHasSubLink(q->limitOffset) ||
		checkExprHasSubLink((Node *) q->returningList) ||
		JoinHasSubLink((Node *) q->jointree))
		return true;
	/* VALUES, functions and XMLTABLE in FROM compute values too. */
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if ((rte->rtekind == RTE_VALUES && checkExprHasSubLink((Node *) rte->values_lists)) ||
			(rte->rtekind == RTE_FUNCTION && checkExprHasSubLink((Node *) rte->functions)) ||
			(rte->rtekind == RTE_TABLEFUNC && checkExprHasSubLink((Node *) rte->tablefunc)))
			return true;
	}
	return false;
}

/* What WholeRowUsed looks for. */
typedef struct WholeRow
{
	Index		rti;
	int			sublevels_up;
} WholeRow;

static bool
WholeRowWalker(Node *node, WholeRow *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		return v->varattno == InvalidAttrNumber && v->varno == w->rti &&
			(int) v->varlevelsup == w->sublevels_up;
	}
	if (IsA(node, Query))
	{
		bool		found;

		w->sublevels_up++;
		found = query_tree_walker((Query *) node, WholeRowWalker, w, 0);
		w->sublevels_up--;
		return found;
	}
	return expression_tree_walker(node, WholeRowWalker, w);
}

/*
 * Whether q reads range table entry rti as a whole row (s, s::text,
 * to_jsonb(s), s IS NULL, DISTINCT s, ...): the columns added to a
 * subquery or CTE would then be part of that row value, and change what
 * the statement computes.
 */
static bool
WholeRowUsed(Query *q, Index rti)
{
	WholeRow	w = {rti, 0};

	return query_tree_walker(q, WholeRowWalker, &w, 0);
}

/* ---------------------------------------------------------------------
 * Adding columns
 * ---------------------------------------------------------------------
 */

/* The number of visible columns of q, or -1 if a resjunk one precedes one. */
static int
Visible(Query *q)
{
	int			n = 0;
	bool		junk = false;
	ListCell   *lc;

	foreach(lc, q->targetList)
	{
		if (((TargetEntry *) lfirst(lc))->resjunk)
			junk = true;
		else if (junk)
			return -1;
		else
			n++;
	}
	return n;
}

/* Insert a visible column expr as column pos of q (resjunk ones move up). */
static void
InsertColumn(Query *q, int pos, Expr *expr, const char *name)
{
	ListCell   *lc;

	foreach(lc, q->targetList)
	{
		TargetEntry *te = lfirst(lc);

		if (te->resno >= pos)
			te->resno++;
	}
	q->targetList = list_insert_nth(q->targetList, pos - 1,
									makeTargetEntry(expr, pos, pstrdup(name), false));
}

/* The name of an added column of type typid. */
static const char *
ColumnName(Oid typid)
{
	return typid == INT8ARRAYOID ? LINEAGE_PARENTS_COLUMN : LINEAGE_PARENT_COLUMN;
}

/* Append one name per added column to a range table entry's column names. */
static void
AddNames(RangeTblEntry *rte, List *types)
{
	ListCell   *lc;

	foreach(lc, types)
		rte->eref->colnames = lappend(rte->eref->colnames,
									  makeString(pstrdup(ColumnName(lfirst_oid(lc)))));
}

#if PG_VERSION_NUM >= 160000
/*
 * The outer joins of jt that can null rti's rows (PostgreSQL 16 marks a
 * Var read above them with them), added to above; found says rti is in jt.
 */
static Bitmapset *
Nulling(Node *jt, Index rti, Bitmapset *above, bool *found)
{
	ListCell   *lc;

	if (IsA(jt, RangeTblRef))
	{
		*found = ((RangeTblRef *) jt)->rtindex == (int) rti;
		return *found ? above : NULL;
	}
	if (IsA(jt, FromExpr))
	{
		foreach(lc, ((FromExpr *) jt)->fromlist)
		{
			Bitmapset  *r = Nulling(lfirst(lc), rti, above, found);

			if (*found)
				return r;
		}
		return NULL;
	}
	if (IsA(jt, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jt;
		Bitmapset  *l = above;
		Bitmapset  *r = above;
		Bitmapset  *res;

		if (j->jointype == JOIN_RIGHT || j->jointype == JOIN_FULL)
			l = bms_add_member(bms_copy(above), j->rtindex);
		if (j->jointype == JOIN_LEFT || j->jointype == JOIN_FULL)
			r = bms_add_member(bms_copy(above), j->rtindex);
		res = Nulling(j->larg, rti, l, found);
		if (*found)
			return res;
		return Nulling(j->rarg, rti, r, found);
	}
	return NULL;
}
#endif

/* A Var of q's level reading column att (of type typid) of range table entry rti. */
static Var *
LevelVar(Query *q, Index rti, AttrNumber att, Oid typid)
{
	Var		   *v = makeVar(rti, att, typid, -1, InvalidOid, 0);

#if PG_VERSION_NUM >= 160000
	{
		bool		found = false;

		v->varnullingrels = Nulling((Node *) q->jointree, rti, NULL, &found);
	}
#endif
	return v;
}

/* ---------------------------------------------------------------------
 * Tracing
 * ---------------------------------------------------------------------
 */

/* Whether the query is SELECT of UNION ALL only (leaves: subqueries). */
static bool
UnionAllOnly(Node *n)
{
	SetOperationStmt *s;

	if (IsA(n, RangeTblRef))
		return true;
	if (!IsA(n, SetOperationStmt))
		return false;
	s = (SetOperationStmt *) n;
	return s->op == SETOP_UNION && s->all && UnionAllOnly(s->larg) && UnionAllOnly(s->rarg);
}

/* The leaves of a UNION ALL tree, left to right (range table indexes). */
static List *
Leaves(Node *n, List *acc)
{
	if (IsA(n, RangeTblRef))
		return lappend_int(acc, ((RangeTblRef *) n)->rtindex);
	acc = Leaves(((SetOperationStmt *) n)->larg, acc);
	return Leaves(((SetOperationStmt *) n)->rarg, acc);
}

/* Add the added columns' types to every node of a UNION ALL tree. */
static void
ExtendSetOp(Node *n, List *types)
{
	SetOperationStmt *s;
	ListCell   *lc;

	if (!IsA(n, SetOperationStmt))
		return;
	s = (SetOperationStmt *) n;
	foreach(lc, types)
	{
		s->colTypes = lappend_oid(s->colTypes, lfirst_oid(lc));
		s->colTypmods = lappend_int(s->colTypmods, -1);
		s->colCollations = lappend_oid(s->colCollations, InvalidOid);
	}
	ExtendSetOp(s->larg, types);
	ExtendSetOp(s->rarg, types);
}

/*
 * A UNION ALL: each branch gets the columns of every branch, its own
 * where they are and typed NULLs for the others'.
 */
static bool
TraceUnion(Trace *tr, Level *lv, Query *q, List **types)
{
	List	   *leaves;
	List	   *all = NIL;
	List	   *own = NIL;
	int			nvis = Visible(q);
	int			off = 0;
	ListCell   *lc;
	ListCell   *lt;
	SetOperationStmt *top = (SetOperationStmt *) q->setOperations;

	if (!UnionAllOnly(q->setOperations))
		return Fail(tr, "UNION (without ALL), INTERSECT or EXCEPT");
	leaves = Leaves(q->setOperations, NIL);
	foreach(lc, leaves)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), q->rtable);
		List	   *t;

		if (rte->rtekind != RTE_SUBQUERY || Visible(rte->subquery) != nvis)
			return Fail(tr, "a UNION ALL branch of an unexpected form");
		if (!TraceQuery(tr, lv, rte->subquery, &t))
			return false;
		own = lappend(own, t);
		all = list_concat(all, t);
	}
	if (all == NIL)
		return true;
	forboth(lc, leaves, lt, own)
	{
		RangeTblEntry *rte = rt_fetch(lfirst_int(lc), q->rtable);
		Query	   *sub = rte->subquery;
		int			mine = list_length((List *) lfirst(lt));
		int			k = 0;
		ListCell   *la;

		/* Its own columns are at nvis + 1 ...; NULLs go before and after. */
		foreach(la, all)
		{
			Oid			typid = lfirst_oid(la);

			if (k < off || k >= off + mine)
				InsertColumn(sub, nvis + 1 + k,
							 (Expr *) makeNullConst(typid, -1, InvalidOid), ColumnName(typid));
			k++;
		}
		AddNames(rte, all);
		off += mine;
	}
	ExtendSetOp((Node *) top, all);
	{
		int			k = 0;

		foreach(lc, all)
		{
			Oid			typid = lfirst_oid(lc);

			InsertColumn(q, nvis + 1 + k,
						 (Expr *) makeVar(linitial_int(leaves), nvis + 1 + k, typid, -1,
										  InvalidOid, 0),
						 ColumnName(typid));
			k++;
		}
	}
	*types = all;
	return true;
}

/* The CTE named by a CTE reference rte of level lv. */
static CteTrace *
FindCte(Level *lv, RangeTblEntry *rte)
{
	for (Index k = 0; k < rte->ctelevelsup && lv != NULL; k++)
		lv = lv->up;
	if (lv == NULL)
		return NULL;
	for (int i = 0; i < lv->nctes; i++)
		if (strcmp(lv->ctes[i].name, rte->ctename) == 0)
			return &lv->ctes[i];
	return NULL;
}

/* Trace the CTEs of level lv, in order (one may read the ones before). */
static bool
TraceCtes(Trace *tr, Level *lv)
{
	ListCell   *lc;

	lv->nctes = 0;
	lv->ctes = palloc0(sizeof(CteTrace) * Max(list_length(lv->q->cteList), 1));
	foreach(lc, lv->q->cteList)
	{
		CommonTableExpr *cte = lfirst(lc);
		CteTrace   *ct = &lv->ctes[lv->nctes++];
		Query	   *cq = (Query *) cte->ctequery;
		ListCell   *lt;

		ct->name = cte->ctename;
		if (cte->cterecursive)
			return Fail(tr, "a recursive CTE");
		if (!IsA(cq, Query) || cq->commandType != CMD_SELECT)
			return Fail(tr, "a data-modifying CTE");
		ct->base = list_length(cte->ctecoltypes);
		if (!TraceQuery(tr, lv, cq, &ct->types))
			return false;
		foreach(lt, ct->types)
		{
			cte->ctecolnames = lappend(cte->ctecolnames,
									   makeString(pstrdup(ColumnName(lfirst_oid(lt)))));
			cte->ctecoltypes = lappend_oid(cte->ctecoltypes, lfirst_oid(lt));
			cte->ctecoltypmods = lappend_int(cte->ctecoltypmods, -1);
			cte->ctecolcollations = lappend_oid(cte->ctecolcollations, InvalidOid);
		}
		ct->ok = true;
	}
	return true;
}

/*
 * Collect into *exprs (and their types into *types) the parent columns
 * of the rows of the FROM item jt of level lv.
 */
static bool
TraceFrom(Trace *tr, Level *lv, Node *jt, List **exprs, List **types)
{
	Query	   *q = lv->q;
	ListCell   *lc;

	if (jt == NULL)
		return true;
	if (IsA(jt, FromExpr))
	{
		foreach(lc, ((FromExpr *) jt)->fromlist)
			if (!TraceFrom(tr, lv, lfirst(lc), exprs, types))
				return false;
		return true;
	}
	if (IsA(jt, JoinExpr))
		return TraceFrom(tr, lv, ((JoinExpr *) jt)->larg, exprs, types) &&
			TraceFrom(tr, lv, ((JoinExpr *) jt)->rarg, exprs, types);
	if (IsA(jt, RangeTblRef))
	{
		Index		rti = ((RangeTblRef *) jt)->rtindex;
		RangeTblEntry *rte = rt_fetch(rti, q->rtable);

		if (lv->up == NULL && rti == tr->skip)
			return true;		/* the table UPDATE writes */
		switch (rte->rtekind)
		{
			case RTE_RELATION:
				{
					AttrNumber	att = lineage_rid_column(rte->relid);
					TrackedTable tt;

					if (att == InvalidAttrNumber || !history_lookup(rte->relid, &tt))
						return true;	/* not tracked: table level */
					if (rte->inh && has_subclass(rte->relid))
						return Fail(tr, "a tracked table with inheritance children");
					*exprs = lappend(*exprs, LevelVar(q, rti, att, INT8OID));
					*types = lappend_oid(*types, INT8OID);
					return true;
				}
			case RTE_SUBQUERY:
				if (WholeRowUsed(q, rti))
					return Fail(tr, "a whole-row reference to a subquery, view or CTE");
				{
					List	   *t;
					int			nvis = Visible(rte->subquery);
					int			k = 0;

					if (nvis < 0)
						return Fail(tr, "a subquery of an unexpected form");
					if (!TraceQuery(tr, lv, rte->subquery, &t))
						return false;
					AddNames(rte, t);
					foreach(lc, t)
					{
						*exprs = lappend(*exprs, LevelVar(q, rti, nvis + 1 + k, lfirst_oid(lc)));
						*types = lappend_oid(*types, lfirst_oid(lc));
						k++;
					}
					return true;
				}
			case RTE_CTE:
				if (WholeRowUsed(q, rti))
					return Fail(tr, "a whole-row reference to a subquery, view or CTE");
				{
					CteTrace   *ct = FindCte(lv, rte);
					int			k = 0;

					if (ct == NULL || !ct->ok)
						return Fail(tr, "a CTE of an unexpected form");
					AddNames(rte, ct->types);
					foreach(lc, ct->types)
					{
						rte->coltypes = lappend_oid(rte->coltypes, lfirst_oid(lc));
						rte->coltypmods = lappend_int(rte->coltypmods, -1);
						rte->colcollations = lappend_oid(rte->colcollations, InvalidOid);
						*exprs = lappend(*exprs, LevelVar(q, rti, ct->base + 1 + k, lfirst_oid(lc)));
						*types = lappend_oid(*types, lfirst_oid(lc));
						k++;
					}
					return true;
				}
			case RTE_FUNCTION:
				foreach(lc, rte->functions)
					if (CallsReader(((RangeTblFunction *) lfirst(lc))->funcexpr, NULL))
						return Fail(tr, "a function in FROM that may read tables");
				return true;
			case RTE_VALUES:
			case RTE_RESULT:
			case RTE_TABLEFUNC:
			case RTE_NAMEDTUPLESTORE:
				return true;	/* no tracked rows */
			default:
				return Fail(tr, "a FROM item of an unexpected kind");
		}
	}
	return Fail(tr, "a FROM item of an unexpected kind");
}

/*
 * The function aisec.name(argtypes), or InvalidOid.  Found in the catalog
 * directly: the statement's role need not have USAGE on schema aisec
 * (the executor checks EXECUTE on the function itself).
 */
static Oid
AisecFunction(const char *name, Oid *argtypes, int nargs)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name),
						   PointerGetDatum(buildoidvector(argtypes, nargs)),
						   ObjectIdGetDatum(nsp));
}

/* aisec.lineage_collect(typid) */
static Oid
CollectFunction(Trace *tr, Oid typid)
{
	int			i = typid == INT8ARRAYOID ? 1 : 0;

	if (!OidIsValid(tr->collect[i]))
		tr->collect[i] = AisecFunction("lineage_collect", &typid, 1);
	return tr->collect[i];
}

/* The group's parents: aisec.lineage_collect(expr). */
static Expr *
Collect(Trace *tr, Expr *expr, Oid typid)
{
	Aggref	   *a = makeNode(Aggref);

	a->aggfnoid = CollectFunction(tr, typid);
	a->aggtype = INT8ARRAYOID;
	a->aggcollid = InvalidOid;
	a->inputcollid = InvalidOid;
	a->aggtranstype = InvalidOid;	/* the planner fills it in */
	a->aggargtypes = list_make1_oid(typid);
	a->args = list_make1(makeTargetEntry(expr, 1, NULL, false));
	a->aggkind = AGGKIND_NORMAL;
	a->aggsplit = AGGSPLIT_SIMPLE;
	a->aggno = -1;
	a->aggtransno = -1;
	a->location = -1;
	return (Expr *) a;
}

/*
 * Trace one SELECT level: append its parent columns as visible columns of
 * q, their types in *types.  False (tr->why set) for a shape not traced.
 */
static bool
TraceQuery(Trace *tr, Level *up, Query *q, List **types)
{
	Level		lv = {q, NULL, 0, up};
	List	   *exprs = NIL;
	List	   *etypes = NIL;
	bool		grouped;
	int			nvis;
	ListCell   *lc;
	ListCell   *lt;
	int			k = 0;

	*types = NIL;
	check_stack_depth();
	if (q->commandType != CMD_SELECT || q->utilityStmt != NULL)
		return Fail(tr, "a subquery of an unexpected form");
	if (q->hasRecursive)
		return Fail(tr, "a recursive CTE");
	if (q->hasModifyingCTE)
		return Fail(tr, "a data-modifying CTE");
	if (q->hasWindowFuncs)
		return Fail(tr, "a window function");
	if (q->hasTargetSRFs)
		return Fail(tr, "a set-returning function in a select list");
	if (q->groupingSets != NIL)
		return Fail(tr, "GROUPING SETS, ROLLUP or CUBE");
	if (LevelHasSubLink(q))
		return Fail(tr, "a subquery expression (EXISTS, IN, ANY, a scalar subquery)");
	nvis = Visible(q);
	if (nvis < 0)
		return Fail(tr, "a subquery of an unexpected form");
	if (!TraceCtes(tr, &lv))
		return false;
	if (q->setOperations != NULL)
		return TraceUnion(tr, &lv, q, types);
	if (!TraceFrom(tr, &lv, (Node *) q->jointree, &exprs, &etypes))
		return false;
	if (exprs == NIL)
		return true;

	/* A level that groups rows: each group's parents as a set. */
	grouped = q->hasAggs || q->groupClause != NIL || q->havingQual != NULL;
	if (q->distinctClause != NIL && !q->hasDistinctOn)
	{
		if (grouped)
			return Fail(tr, "DISTINCT over grouped rows");
		/* SELECT DISTINCT a, b is SELECT a, b ... GROUP BY a, b. */
		q->groupClause = q->distinctClause;
		q->distinctClause = NIL;
		grouped = true;
	}
	forboth(lc, exprs, lt, etypes)
	{
		Expr	   *e = lfirst(lc);
		Oid			typid = lfirst_oid(lt);

		if (grouped)
		{
			if (!OidIsValid(CollectFunction(tr, typid)))
				return Fail(tr, "grouping (aisec.lineage_collect is missing)");
			e = Collect(tr, e, typid);
			typid = INT8ARRAYOID;
		}
		InsertColumn(q, nvis + 1 + k, e, ColumnName(typid));
		*types = lappend_oid(*types, typid);
		k++;
	}
	if (grouped)
		q->hasAggs = true;
	return true;
}

/* Append a resjunk column to the writing statement q. */
static void
AddJunk(Query *q, Expr *e, const char *name)
{
	q->targetList = lappend(q->targetList,
							makeTargetEntry(e, list_length(q->targetList) + 1,
											pstrdup(name), true));
}

/* Whether relid has rules, or BEFORE ROW triggers for cmd (which can change or drop a row). */
static bool
ChangesRows(Oid relid, CmdType cmd)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TriggerDesc *td = rel->trigdesc;
	bool		yes = rel->rd_rules != NULL ||
		(td != NULL && ((cmd == CMD_INSERT && td->trig_insert_before_row) ||
						(cmd == CMD_UPDATE && td->trig_update_before_row)));

	table_close(rel, AccessShareLock);
	return yes;
}

/*
 * What every writing statement traced must not have: false (tr->why set)
 * for a shape not traced.  inserts, updates: whether it inserts or
 * updates rows (BEFORE ROW triggers for either may change or drop one).
 */
static bool
WriterChecks(Trace *tr, Query *q, bool inserts, bool updates)
{
	Oid			relid = rt_fetch(q->resultRelation, q->rtable)->relid;

	if (q->hasRecursive)
		return Fail(tr, "a recursive CTE");
	if (q->hasModifyingCTE)
		return Fail(tr, "a data-modifying CTE");
	if (q->commandType != CMD_INSERT && LevelHasSubLink(q))
		return Fail(tr, "a subquery expression (EXISTS, IN, ANY, a scalar subquery)");
	if ((inserts && ChangesRows(relid, CMD_INSERT)) || (updates && ChangesRows(relid, CMD_UPDATE)))
		return Fail(tr, "a rule or BEFORE ROW trigger on the table written");
	return true;
}

/* UPDATE, MERGE: the parent columns of the FROM items but the table written. */
static bool
TraceSources(Trace *tr, Query *q, List **exprs, List **types)
{
	Level		top = {q, NULL, 0, NULL};

	tr->skip = q->resultRelation;
	return TraceCtes(tr, &top) && TraceFrom(tr, &top, (Node *) q->jointree, exprs, types);
}

/* INSERT INTO t SELECT ...: the parents of each new row. */
static bool
RewriteInsert(Trace *tr, Query *q, AttrNumber tatt)
{
	Level		top = {q, NULL, 0, NULL};
	RangeTblRef *ref;
	RangeTblEntry *src;
	List	   *types;
	int			nvis;
	int			k = 0;
	ListCell   *lc;

	if (q->onConflict != NULL)
		return Fail(tr, "ON CONFLICT");
	foreach(lc, q->targetList)
	{
		TargetEntry *te = lfirst(lc);

		if (te->resno == tatt && !IsA(te->expr, NextValueExpr))
			return Fail(tr, "a supplied aisec_rid");
	}
	if (list_length(q->jointree->fromlist) != 1 ||
		!IsA(linitial(q->jointree->fromlist), RangeTblRef))
		return false;			/* INSERT ... VALUES: no source */
	ref = linitial(q->jointree->fromlist);
	src = rt_fetch(ref->rtindex, q->rtable);
	if (src->rtekind != RTE_SUBQUERY)
		return false;
	if (!WriterChecks(tr, q, true, false))
		return false;
	nvis = Visible(src->subquery);
	if (nvis < 0)
		return Fail(tr, "a subquery of an unexpected form");
	if (!TraceCtes(tr, &top) || !TraceQuery(tr, &top, src->subquery, &types))
		return false;
	if (types == NIL)
		return false;
	AddNames(src, types);
	foreach(lc, types)
	{
		Oid			typid = lfirst_oid(lc);

		AddJunk(q, (Expr *) makeVar(ref->rtindex, nvis + 1 + k, typid, -1, InvalidOid, 0),
				ColumnName(typid));
		k++;
	}
	return true;
}

/* UPDATE t ... FROM ...: the rows each updated row was joined with. */
static bool
RewriteUpdate(Trace *tr, Query *q, AttrNumber tatt)
{
	List	   *exprs = NIL;
	List	   *types = NIL;
	ListCell   *lc;
	ListCell   *lt;

	if (list_length(q->jointree->fromlist) < 2)
		return false;			/* no FROM: the history links the versions */
	if (!WriterChecks(tr, q, false, true) || !TraceSources(tr, q, &exprs, &types))
		return false;
	if (exprs == NIL)
		return false;
	AddJunk(q, (Expr *) LevelVar(q, q->resultRelation, tatt, INT8OID), LINEAGE_CHILD_COLUMN);
	forboth(lc, exprs, lt, types)
		AddJunk(q, lfirst(lc), ColumnName(lfirst_oid(lt)));
	return true;
}

#if PG_VERSION_NUM >= 150000
/*
 * aisec.lineage_mark(rid, NULL::internal) around e: reports the row an
 * action writes to the collector (lineage_capture.c) when the action's
 * projection runs, i.e. when the action is taken.
 */
static Oid
MarkFunction(void)
{
	Oid			argtypes[2] = {INT8OID, INTERNALOID};

	return AisecFunction("lineage_mark", argtypes, 2);
}

static Expr *
Mark(Oid fn, Expr *e)
{
	return (Expr *) makeFuncExpr(fn, INT8OID,
								 list_make2(e, makeConst(INTERNALOID, -1, InvalidOid, SIZEOF_DATUM,
														 (Datum) 0, true, true)),
								 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/*
 * MERGE: the rows each source row was made from are its parents; the row
 * an INSERT or UPDATE action writes for it is the child, which the
 * action reports through aisec.lineage_mark (a DELETE action taken
 * reports none).
 */
static bool
RewriteMerge(Trace *tr, Query *q, AttrNumber tatt)
{
	List	   *exprs = NIL;
	List	   *types = NIL;
	ListCell   *lc;
	ListCell   *lt;
	Oid			mark = MarkFunction();
	bool		inserts = false;
	bool		updates = false;

	if (!OidIsValid(mark))
		return false;			/* an aisec older than the library */
	foreach(lc, q->mergeActionList)
	{
		MergeAction *a = lfirst(lc);

		if (checkExprHasSubLink(a->qual) || checkExprHasSubLink((Node *) a->targetList))
			return Fail(tr, "a subquery expression (EXISTS, IN, ANY, a scalar subquery)");
		inserts |= a->commandType == CMD_INSERT;
		updates |= a->commandType == CMD_UPDATE;
	}
	if (!WriterChecks(tr, q, inserts, updates) || !TraceSources(tr, q, &exprs, &types))
		return false;
	if (exprs == NIL)
		return false;
	foreach(lc, q->mergeActionList)
	{
		MergeAction *a = lfirst(lc);
		bool		found = false;

		if (a->commandType == CMD_INSERT)
		{
			foreach(lt, a->targetList)
			{
				TargetEntry *te = lfirst(lt);

				if (te->resno != tatt)
					continue;
				if (!IsA(te->expr, NextValueExpr))
					return Fail(tr, "a supplied aisec_rid");
				te->expr = Mark(mark, te->expr);
				found = true;
			}
			if (!found)
				return Fail(tr, "an INSERT action of an unexpected form");
		}
		else if (a->commandType == CMD_DELETE)
		{
			/*
			 * Taken: clear a mark an UPDATE action made before a concurrent
			 * change sent the row here (EvalPlanQual).  The test is ANDed
			 * last, so it runs only when the action is taken.
			 */
			NullTest   *nt = makeNode(NullTest);

			nt->arg = Mark(mark, (Expr *) makeNullConst(INT8OID, -1, InvalidOid));
			nt->nulltesttype = IS_NULL;
			nt->argisrow = false;
			nt->location = -1;
			a->qual = make_and_qual(a->qual, (Node *) nt);
		}
		else if (a->commandType == CMD_UPDATE)
		{
			foreach(lt, a->targetList)
				if (((TargetEntry *) lfirst(lt))->resno == tatt)
					return Fail(tr, "a supplied aisec_rid");
			a->targetList = lappend(a->targetList,
									makeTargetEntry(Mark(mark, (Expr *) makeVar(q->resultRelation, tatt,
																				INT8OID, -1, InvalidOid, 0)),
													tatt, pstrdup(RID_COLUMN), false));
		}
	}
	forboth(lc, exprs, lt, types)
		AddJunk(q, lfirst(lc), ColumnName(lfirst_oid(lt)));
	return true;
}
#endif

/*
 * Add lineage columns to q, a statement that writes a tracked table (a
 * copy the caller may throw away: on a shape not traced, q may be half
 * changed).  Returns true if q now carries them; otherwise *why names
 * the shape not traced, or is NULL when q reads no tracked row to trace.
 */
bool
lineage_rewrite(Query *q, const char **why)
{
	Trace		tr;
	RangeTblEntry *target;
	AttrNumber	tatt;
	TrackedTable tt;
	bool		ok = false;

	memset(&tr, 0, sizeof(tr));
	*why = NULL;
	if (q->resultRelation <= 0)
		return false;
	target = rt_fetch(q->resultRelation, q->rtable);
	tatt = lineage_rid_column(target->relid);
	if (tatt == InvalidAttrNumber || !lineage_installed() || !history_lookup(target->relid, &tt))
		return false;
	if (query_tree_walker(q, CallsReader, NULL, 0))
		tr.why = "a function that may read tables (SQL or procedural language, or one such as query_to_xml)";
	else if (aisec_citus_installed() &&
			 query_tree_walker(q, ReadsCitusTable, NULL, QTW_EXAMINE_RTES_BEFORE))
		tr.why = "a Citus table";
	else if (q->commandType == CMD_INSERT)
		ok = RewriteInsert(&tr, q, tatt);
	else if (q->commandType == CMD_UPDATE)
		ok = RewriteUpdate(&tr, q, tatt);
#if PG_VERSION_NUM >= 150000
	else if (q->commandType == CMD_MERGE)
		ok = RewriteMerge(&tr, q, tatt);
#endif
	*why = tr.why;
	return ok && tr.why == NULL;
}
