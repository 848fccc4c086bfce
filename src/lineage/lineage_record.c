/*
 * lineage_record.c
 *		Recording lineage that is not captured from a statement:
 *		aisec.record_lineage() for pipelines outside SQL, and the two
 *		callbacks versioning calls (materialize() into a new table, and
 *		track() of a copy whose rows carry the row ids they were copied
 *		from).  See doc/lineage.md "Explicit lineage" and "Copies".
 *
 * Every check comes before anything is written, and everything is
 * written in the caller's transaction: a failed call leaves nothing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "audit/audit.h"
#include "core/core.h"
#include "versioning/versioning.h"
#include "lineage_internal.h"

/* The rows of one tracked table a call names, with their versions. */
typedef struct TableRids
{
	TrackedTable tt;
	int64	   *rids;			/* sorted, distinct */
	int64	   *versions;
	int			n;
	int			cap;
} TableRids;

/* The tables a call names (few: a linear search is the fastest). */
typedef struct TableList
{
	TableRids  *tabs;
	int			n;
	int			cap;
} TableList;

/* Find or add the entry of table_no in l. */
static TableRids *
TableOf(TableList *l, int32 table_no)
{
	for (int i = 0; i < l->n; i++)
		if (l->tabs[i].tt.table_no == table_no)
			return &l->tabs[i];
	if (l->n == l->cap)
	{
		l->cap = Max(8, 2 * l->cap);
		l->tabs = l->tabs ? repalloc(l->tabs, sizeof(TableRids) * l->cap) :
			palloc(sizeof(TableRids) * l->cap);
	}
	memset(&l->tabs[l->n], 0, sizeof(TableRids));
	l->tabs[l->n].tt.table_no = table_no;
	l->tabs[l->n].cap = 16;
	l->tabs[l->n].rids = palloc(sizeof(int64) * 16);
	return &l->tabs[l->n++];
}

static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Sort and deduplicate t->rids. */
static void
SortRids(TableRids *t)
{
	int			k = 0;

	qsort(t->rids, t->n, sizeof(int64), CompareInt64);
	for (int i = 0; i < t->n; i++)
		if (k == 0 || t->rids[k - 1] != t->rids[i])
			t->rids[k++] = t->rids[i];
	t->n = k;
}

/* The version found for rid in t (which holds it). */
static int64
VersionOf(const TableRids *t, int64 rid)
{
	int64	   *hit = bsearch(&rid, t->rids, t->n, sizeof(int64), CompareInt64);

	Assert(hit != NULL);
	return t->versions[hit - t->rids];
}

/* Append rid to t. */
static void
AddRid(TableRids *t, int64 rid)
{
	if (t->n == t->cap)
	{
		t->cap *= 2;
		t->rids = repalloc(t->rids, sizeof(int64) * t->cap);
	}
	t->rids[t->n++] = rid;
}

/* Read a bigint[] argument: one-dimensional (or empty), no NULLs. */
static int64 *
ReadRids(ArrayType *a, const char *what, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int64	   *out;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", what)));
	if (array_contains_nulls(a))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not contain NULL", what)));
	deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, n);
	out = palloc(sizeof(int64) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		out[i] = DatumGetInt64(elems[i]);
	return out;
}

/* The tracked table a row id names, or an error naming the id. */
static int32
TableNoOf(int64 rid)
{
	if (rid <= 0 || (rid >> RID_TABLE_SHIFT) > RID_TABLE_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("row id " INT64_FORMAT " is not an aisec row id", rid),
				 errhint("Row ids are the aisec_rid values of tracked tables.")));
	return (int32) (rid >> RID_TABLE_SHIFT);
}

/*
 * SQL: aisec.record_lineage(child_rids, parent_rids, transform) records
 * edge i from child_rids[i] to parent_rids[i]; returns the transform id.
 */
PG_FUNCTION_INFO_V1(aisec_record_lineage);
Datum
aisec_record_lineage(PG_FUNCTION_ARGS)
{
	int64	   *child;
	int64	   *parent;
	int			nchild;
	int			nparent;
	char	   *name = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	TableList	tl = {NULL, 0, 0};
	TableRids  *tabs;
	int			ntabs;
	LineageEdge *edges;
	LineageTransform t;
	AisecSpi	spi;
	int64		id;
	const char *object = "aisec.lineage_edge";
	const char **tables;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.record_lineage()");
	aisec_prevent_if_read_only("aisec.record_lineage()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("child_rids and parent_rids must not be NULL")));
	child = ReadRids(PG_GETARG_ARRAYTYPE_P(0), "child_rids", &nchild);
	parent = ReadRids(PG_GETARG_ARRAYTYPE_P(1), "parent_rids", &nparent);
	if (nchild != nparent)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("child_rids has %d elements and parent_rids %d", nchild, nparent),
				 errdetail("Edge i links child_rids[i] to parent_rids[i]: both arrays need the same length.")));
	if (nchild == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no edge to record: child_rids and parent_rids are empty")));
	(void) lineage_name(name);	/* checks its length */
	if (lineage_skipped("record_lineage", object))
	{
		ereport(NOTICE,
				(errmsg("aisec.lineage is off: no lineage recorded")));
		PG_RETURN_NULL();
	}

	/* Every rid names a row of a tracked table the caller may read. */
	for (int i = 0; i < nchild; i++)
	{
		if (child[i] == parent[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("edge %d links row id " INT64_FORMAT " to itself", i + 1, child[i])));
		AddRid(TableOf(&tl, TableNoOf(child[i])), child[i]);
		AddRid(TableOf(&tl, TableNoOf(parent[i])), parent[i]);
	}
	tabs = tl.tabs;
	ntabs = tl.n;
	for (int k = 0; k < ntabs; k++)
	{
		TableRids  *tr = &tabs[k];
		int64		example = tr->rids[0];

		if (!history_lookup_no(tr->tt.table_no, &tr->tt))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("row id " INT64_FORMAT " names no tracked table", example),
					 errdetail("Its table number %d is not tracked (any more).", tr->tt.table_no)));
		if (pg_class_aclcheck(tr->tt.relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(tr->tt.relid)),
					 errdetail("Recording lineage of a table's rows needs SELECT on it.")));
		SortRids(tr);
	}
	aisec_spi_begin(&spi);
	for (int k = 0; k < ntabs; k++)
	{
		TableRids  *tr = &tabs[k];

		tr->versions = palloc(sizeof(int64) * tr->n);
		lineage_row_versions(&tr->tt, tr->rids, tr->n, PG_INT64_MAX, true, tr->versions);
		for (int i = 0; i < tr->n; i++)
			if (tr->versions[i] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("row id " INT64_FORMAT " names no row of table \"%s\"",
								tr->rids[i], get_rel_name(tr->tt.relid)),
						 errdetail("Neither the table (as you may read it) nor its history holds that row.")));
	}

	/* Checked: write. */
	edges = palloc(sizeof(LineageEdge) * nchild);
	memset(&t, 0, sizeof(t));
	t.kind = "record";
	t.name = name;
	t.sources = palloc(sizeof(int32) * ntabs);
	t.source_versions = palloc(sizeof(int64) * ntabs);
	t.targets = palloc(sizeof(int32) * ntabs);
	for (int i = 0; i < nchild; i++)
	{
		TableRids  *c = TableOf(&tl, TableNoOf(child[i]));
		TableRids  *p = TableOf(&tl, TableNoOf(parent[i]));
		bool		seen_c = false;
		bool		seen_p = false;

		edges[i].child = child[i];
		edges[i].child_from = VersionOf(c, child[i]);
		edges[i].parent = parent[i];
		edges[i].parent_from = VersionOf(p, parent[i]);
		for (int k = 0; k < t.ntargets; k++)
			seen_c |= t.targets[k] == c->tt.table_no;
		if (!seen_c)
			t.targets[t.ntargets++] = c->tt.table_no;
		for (int k = 0; k < t.nsources; k++)
			seen_p |= t.sources[k] == p->tt.table_no;
		if (!seen_p)
		{
			t.source_versions[t.nsources] = p->tt.pending;
			t.sources[t.nsources++] = p->tt.table_no;
		}
	}
	t.table_level = (lineage_mode == LINEAGE_TABLE);
	id = lineage_next_transform();
	if (!t.table_level)
		t.edges = lineage_write_edges(id, edges, nchild);
	(void) lineage_write_transform(id, &t);
	aisec_spi_end(&spi);

	tables = palloc(sizeof(char *) * Max(t.ntargets, 1));
	for (int k = 0; k < t.ntargets; k++)
		tables[k] = aisec_qualified_name(TableOf(&tl, t.targets[k])->tt.relid);
	lineage_audit_transform_into("lineage.record", tables, t.ntargets, id, &t);
	PG_RETURN_INT64(id);
}

/* ---------------------------------------------------------------------
 * Copies (versioning's callbacks)
 * ---------------------------------------------------------------------
 */

/* materialize() copied version version of table relid into target. */
static void
LineageMaterialized(Oid relid, int32 table_no, int64 version, Oid target)
{
	LineageTransform t;
	AisecSpi	spi;
	int64		id;

	if (lineage_skipped("materialize", aisec_qualified_name(target)))
		return;
	memset(&t, 0, sizeof(t));
	t.kind = "materialize";
	t.nsources = 1;
	t.sources = &table_no;
	t.source_versions = &version;
	t.target_rel = target;
	t.table_level = (lineage_mode == LINEAGE_TABLE);
	aisec_spi_begin(&spi);
	id = lineage_next_transform();
	(void) lineage_write_transform(id, &t);
	aisec_spi_end(&spi);
	lineage_audit_transform("lineage.materialize", aisec_qualified_name(target), id, &t);
}

/*
 * The version materialize copied into relid from table table_no, if the
 * latest materialize into relid did; else -1.  Inside aisec_spi_begin/_end.
 */
static int64
MaterializedVersion(Oid relid, int32 table_no)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;
	int32		source;

	if (aisec_spi_run("SELECT sources[1], source_versions[1] FROM aisec.lineage_transform "
					  "WHERE kind OPERATOR(pg_catalog.=) 'materialize' "
					  "AND target_rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
					  "ORDER BY id DESC LIMIT 1",
					  true, 1, types, values, NULL, NULL) == 0)
		return -1;
	source = DatumGetInt32(aisec_spi_value(0, 0, &isnull));
	if (isnull || source != table_no)
		return -1;
	return DatumGetInt64(aisec_spi_value(0, 1, &isnull));
}

/*
 * track() gave the rows of relid new ids, rids[i] having carried the id
 * carried[i]: link each row to the row whose id it carried.
 */
static void
LineageCopyTracked(Oid relid, int32 table_no, int rows, const int64 *rids,
				   const int64 *carried)
{
	char	   *qrel = aisec_qualified_name(relid);
	AisecSpi	spi;
	const int64 *child = rids;
	int64	   *parent;
	TableList	tl = {NULL, 0, 0};
	TableRids  *tabs;
	int			ntabs;
	LineageEdge *edges;
	int			nedges = 0;
	int64		unmatched = 0;
	LineageTransform t;
	int64		id;

	if (lineage_skipped("track_copy", qrel))
		return;
	aisec_spi_begin(&spi);
	parent = palloc(sizeof(int64) * Max(rows, 1));
	for (int r = 0; r < rows; r++)
	{
		parent[r] = carried[r];
		if (parent[r] <= 0 || (parent[r] >> RID_TABLE_SHIFT) > RID_TABLE_MAX)
			parent[r] = -1;
		else
			AddRid(TableOf(&tl, (int32) (parent[r] >> RID_TABLE_SHIFT)), parent[r]);
	}
	tabs = tl.tabs;
	ntabs = tl.n;

	/* Each parent's version: the one materialize copied, else its current one. */
	for (int k = 0; k < ntabs; k++)
	{
		TableRids  *tr = &tabs[k];
		int64		at;

		SortRids(tr);
		tr->versions = palloc(sizeof(int64) * tr->n);
		if (!history_lookup_no(tr->tt.table_no, &tr->tt) ||
			pg_class_aclcheck(tr->tt.relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		{
			for (int i = 0; i < tr->n; i++)
				tr->versions[i] = -1;
			continue;
		}
		at = MaterializedVersion(relid, tr->tt.table_no);
		lineage_row_versions(&tr->tt, tr->rids, tr->n, at >= 0 ? at : PG_INT64_MAX,
							 at < 0, tr->versions);
	}
	edges = palloc(sizeof(LineageEdge) * Max(rows, 1));
	memset(&t, 0, sizeof(t));
	t.sources = palloc(sizeof(int32) * Max(ntabs, 1));
	t.source_versions = palloc(sizeof(int64) * Max(ntabs, 1));
	for (int k = 0; k < ntabs; k++)
	{
		int64		at;

		if (!OidIsValid(tabs[k].tt.relid))
			continue;
		at = MaterializedVersion(relid, tabs[k].tt.table_no);
		t.sources[t.nsources] = tabs[k].tt.table_no;
		t.source_versions[t.nsources++] = at >= 0 ? at : tabs[k].tt.pending;
	}
	for (int r = 0; r < rows; r++)
	{
		int64		v = -1;

		if (parent[r] > 0)
			v = VersionOf(TableOf(&tl, (int32) (parent[r] >> RID_TABLE_SHIFT)), parent[r]);
		if (v < 0)
		{
			unmatched++;
			continue;
		}
		edges[nedges].child = child[r];
		edges[nedges].child_from = 1;	/* a new table's first pending version */
		edges[nedges].parent = parent[r];
		edges[nedges].parent_from = v;
		nedges++;
	}
	t.kind = "track_copy";
	t.ntargets = 1;
	t.targets = &table_no;
	t.table_level = (lineage_mode == LINEAGE_TABLE);
	id = lineage_next_transform();
	if (!t.table_level)
		t.edges = lineage_write_edges(id, edges, nedges);
	(void) lineage_write_transform(id, &t);
	aisec_spi_end(&spi);

	ereport(NOTICE,
			(errmsg("table \"%s\" carried row ids of tracked rows: its %d rows got new row ids, and lineage links each to the row whose id it carried",
					get_rel_name(relid), rows),
			 errdetail(INT64_FORMAT " edges%s; " INT64_FORMAT " rows carried an id of no row of a tracked table you may read and have no parent.",
					   t.edges, t.table_level ? " (none recorded: aisec.lineage = table)" : "",
					   unmatched)));
	lineage_audit_transform("lineage.track_copy", qrel, id, &t);
}

static const AisecVersionLineage copy_callbacks = {
	LineageMaterialized,
	LineageCopyTracked,
};

/* Register the copy callbacks with versioning. */
void
lineage_copy_init(void)
{
	aisec_versioning_set_lineage(&copy_callbacks);
}
