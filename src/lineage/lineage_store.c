/*
 * lineage_store.c
 *		Writing lineage: transforms (aisec.lineage_transform) and edges
 *		(aisec.lineage_edge, grouped per child and parent block and
 *		encoded by lineage_codec.c); the row version a row id names; the
 *		settings aisec.lineage and aisec.transform; the trigger that
 *		refuses direct changes to lineage; the module's load-time call.
 *
 * Invariants (doc/lineage.md "Storage"): lineage holds row ids, version
 * numbers and transform ids only, never row data; it is written in the
 * caller's transaction, so a rolled-back statement leaves nothing; its
 * tables change only through aisec's functions (SPI as the extension
 * owner), and rows are never updated or deleted.
 */
#include "postgres.h"

#include "catalog/catalog.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"

#include "audit/audit.h"
#include "core/core.h"
#include "versioning/versioning.h"
#include "lineage.h"
#include "lineage_internal.h"

int			lineage_mode = LINEAGE_ON;
int			lineage_memory_kb = 1024 * 1024;
char	   *lineage_transform_name = NULL;

static const struct config_enum_entry lineage_mode_options[] = {
	{"on", LINEAGE_ON, false},
	{"table", LINEAGE_TABLE, false},
	{"off", LINEAGE_OFF, false},
	{NULL, 0, false}
};

/* Edge rows per INSERT statement when writing many. */
#define EDGE_BATCH		10000

/*
 * GUC assign hook of aisec.lineage: a statement on a tracked table is
 * planned with the lineage columns only while it is on
 * (lineage_capture.c), so a change to or from on makes the session's
 * cached plans (PREPARE, PL/pgSQL) be made again.  Called before the
 * new value is set.
 */
static void
AssignLineageMode(int newval, void *extra)
{
	if ((newval == LINEAGE_ON) != (lineage_mode == LINEAGE_ON))
		ResetPlanCache();
}

/* GUC check: a transform name is at most LINEAGE_NAME_MAX bytes. */
static bool
CheckTransformName(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) > LINEAGE_NAME_MAX)
	{
		GUC_check_errdetail("A transform name is at most %d bytes.", LINEAGE_NAME_MAX);
		return false;
	}
	return true;
}

/* The transform name to record: given, else aisec.transform, else NULL. */
const char *
lineage_name(const char *given)
{
	if (given != NULL)
	{
		if (strlen(given) > LINEAGE_NAME_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("transform name is longer than %d bytes", LINEAGE_NAME_MAX)));
		if (given[0] != '\0')
			return given;
	}
	if (lineage_transform_name != NULL && lineage_transform_name[0] != '\0')
		return lineage_transform_name;
	return NULL;
}

/*
 * Add relid, an untracked relation the transform read, to t's untracked
 * sources (once; only tables, partitioned tables, views, materialized
 * views and foreign tables, and no system catalog).
 */
void
lineage_add_untracked(LineageTransform *t, Oid relid)
{
	char		kind = get_rel_relkind(relid);

	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE &&
		kind != RELKIND_VIEW && kind != RELKIND_MATVIEW && kind != RELKIND_FOREIGN_TABLE)
		return;
	if (IsCatalogRelationOid(relid))
		return;
	for (int i = 0; i < t->nuntracked; i++)
		if (t->untracked[i] == relid)
			return;
	if (t->nuntracked % 8 == 0)
		t->untracked = t->nuntracked == 0 ? palloc(sizeof(Oid) * 8) :
			repalloc(t->untracked, sizeof(Oid) * (t->nuntracked + 8));
	t->untracked[t->nuntracked++] = relid;
}

/*
 * Add the untracked relations the executed statement ps reads to t
 * (lineage_add_untracked): its range table's relations and views, but
 * not the partitions or inheritance children the planner expanded a
 * table into (the table read is the parent), and not tracked tables.
 */
void
lineage_add_untracked_plan(LineageTransform *t, PlannedStmt *ps)
{
	Bitmapset  *children = NULL;
	ListCell   *lc;

	foreach(lc, ps->appendRelations)
		children = bms_add_member(children, (int) ((AppendRelInfo *) lfirst(lc))->child_relid);
	foreach(lc, ps->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		TrackedTable tt;

		if (bms_is_member(foreach_current_index(lc) + 1, children) || !OidIsValid(rte->relid) ||
			(rte->rtekind != RTE_RELATION && rte->rtekind != RTE_SUBQUERY))
			continue;
		if (rte->relkind == RELKIND_RELATION && history_lookup(rte->relid, &tt))
			continue;
		lineage_add_untracked(t, rte->relid);
	}
}

/*
 * With aisec.lineage = off, audit that the capture what (of object) was
 * skipped and return true; else false.
 */
bool
lineage_skipped(const char *what, const char *object)
{
	if (lineage_mode != LINEAGE_OFF)
		return false;
	lineage_audit_skip(what, object);
	return true;
}

/* Build an int4[] or int8[] datum of n values. */
static Datum
IntArray(const void *vals, int n, bool wide)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		d[i] = wide ? Int64GetDatum(((const int64 *) vals)[i]) :
			Int32GetDatum(((const int32 *) vals)[i]);
	return PointerGetDatum(wide ?
						   construct_array(d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE) :
						   construct_array(d, n, INT4OID, 4, true, TYPALIGN_INT));
}

/* Draw a new transform id.  Inside aisec_spi_begin/_end. */
int64
lineage_next_transform(void)
{
	bool		isnull;

	(void) aisec_spi_run("SELECT pg_catalog.nextval('aisec.lineage_transform_seq')",
						 true, 0, NULL, NULL, NULL, NULL);
	return DatumGetInt64(aisec_spi_value(0, 0, &isnull));
}

/* Write transform row id; returns id.  Inside aisec_spi_begin/_end. */
int64
lineage_write_transform(int64 id, const LineageTransform *t)
{
	Oid			types[11] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, INT4ARRAYOID,
	INT8ARRAYOID, INT4ARRAYOID, OIDOID, INT8OID, INT8OID, TEXTARRAYOID};
	Datum		values[11];
	char		nulls[11] = "           ";
	const char *name = lineage_name(t->name);
	Datum	   *untracked = palloc(sizeof(Datum) * Max(t->nuntracked, 1));

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(t->kind);
	if (name != NULL)
		values[2] = CStringGetTextDatum(name);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(t->table_level ? "table" : "row");
	values[4] = IntArray(t->sources, t->nsources, false);
	values[5] = IntArray(t->source_versions, t->nsources, true);
	values[6] = IntArray(t->targets, t->ntargets, false);
	if (OidIsValid(t->target_rel))
		values[7] = ObjectIdGetDatum(t->target_rel);
	else
		nulls[7] = 'n';
	values[8] = Int64GetDatum(t->edges);
	values[9] = Int64GetDatum(t->fingerprint);
	if (t->fingerprint == 0)
		nulls[9] = 'n';
	for (int i = 0; i < t->nuntracked; i++)
		untracked[i] = CStringGetTextDatum(aisec_qualified_name(t->untracked[i]));
	values[10] = PointerGetDatum(construct_array(untracked, t->nuntracked, TEXTOID, -1,
												 false, TYPALIGN_INT));
	(void) aisec_spi_run("INSERT INTO aisec.lineage_transform (id, kind, name, level, sources, "
						 "source_versions, targets, target_rel, edges, fingerprint, role, xact, at, "
						 "untracked_sources) "
						 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::pg_catalog.regclass, $9, $10, "
						 "SESSION_USER, pg_catalog.txid_current(), pg_catalog.now(), $11)",
						 true, 11, types, values, nulls, NULL);
	return id;
}

/* qsort order of edges: child version, then parent block, rid, version. */
static int
CompareEdges(const void *a, const void *b)
{
	const LineageEdge *x = a;
	const LineageEdge *y = b;

#define CMP(f) if (x->f != y->f) return x->f < y->f ? -1 : 1
	CMP(child);
	CMP(child_from);
	CMP(parent);
	CMP(parent_from);
#undef CMP
	return 0;
}

/* Edge rows collected for one INSERT each EDGE_BATCH rows. */
typedef struct EdgeBatch
{
	int64		transform;
	int			n;
	Datum		child[EDGE_BATCH];
	Datum		from[EDGE_BATCH];
	Datum		lo[EDGE_BATCH];
	Datum		hi[EDGE_BATCH];
	Datum		sets[EDGE_BATCH];
} EdgeBatch;

static EdgeBatch *
BatchStart(int64 transform)
{
	EdgeBatch  *b = palloc(sizeof(EdgeBatch));

	b->transform = transform;
	b->n = 0;
	return b;
}

/* Write the rows collected with one INSERT. */
static void
BatchFlush(EdgeBatch *b)
{
	Oid			types[6] = {INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID, INT8ARRAYOID,
	BYTEAARRAYOID, INT8OID};
	Datum		values[6];

	if (b->n == 0)
		return;
	values[0] = PointerGetDatum(construct_array(b->child, b->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[1] = PointerGetDatum(construct_array(b->from, b->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[2] = PointerGetDatum(construct_array(b->lo, b->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[3] = PointerGetDatum(construct_array(b->hi, b->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	values[4] = PointerGetDatum(construct_array(b->sets, b->n, BYTEAOID, -1, false, TYPALIGN_INT));
	values[5] = Int64GetDatum(b->transform);
	(void) aisec_spi_run("INSERT INTO aisec.lineage_edge (child, child_from, parent_lo, parent_hi, parents, transform) "
						 "SELECT c, f, l, h, p, $6 FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
						 "pg_catalog.unnest($3), pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(c, f, l, h, p)",
						 true, 6, types, values, NULL, NULL);
	for (int k = 0; k < b->n; k++)
		pfree(DatumGetPointer(b->sets[k]));
	b->n = 0;
}

/* Add an edge row, its parents encoded in buf (freed here). */
static void
BatchAdd(EdgeBatch *b, int64 child, int64 child_from, int64 lo, int64 hi, StringInfo buf)
{
	bytea	   *set = palloc(VARHDRSZ + buf->len);

	SET_VARSIZE(set, VARHDRSZ + buf->len);
	memcpy(VARDATA(set), buf->data, buf->len);
	pfree(buf->data);
	b->child[b->n] = Int64GetDatum(child);
	b->from[b->n] = Int64GetDatum(child_from);
	b->lo[b->n] = Int64GetDatum(lo);
	b->hi[b->n] = Int64GetDatum(hi);
	b->sets[b->n] = PointerGetDatum(set);
	if (++b->n == EDGE_BATCH)
		BatchFlush(b);
}

/* Add the edge row of a child and ng parents of one block (format 1). */
static void
BatchAddSet(EdgeBatch *b, int64 child, int64 child_from, const LineageParent *group, int ng)
{
	StringInfoData buf;

	initStringInfo(&buf);
	lineage_encode(&buf, group, ng);
	BatchAdd(b, child, child_from, group[0].rid, group[ng - 1].rid, &buf);
}

/*
 * Write edges (sorted here, duplicates dropped) for transform: one row per
 * child version and parent block.  Returns the distinct edges written.
 * Inside aisec_spi_begin/_end.
 */
int64
lineage_write_edges(int64 transform, LineageEdge *edges, int nedges)
{
	EdgeBatch  *batch = BatchStart(transform);
	LineageParent *group = palloc(sizeof(LineageParent) * Max(nedges, 1));
	int64		written = 0;
	int			i = 0;

	if (nedges > 1)
		qsort(edges, nedges, sizeof(LineageEdge), CompareEdges);
	while (i < nedges)
	{
		const LineageEdge *first = &edges[i];
		int64		blk = first->parent >> LINEAGE_BLOCK_SHIFT;
		int			ng = 0;

		for (; i < nedges && edges[i].child == first->child &&
			 edges[i].child_from == first->child_from &&
			 (edges[i].parent >> LINEAGE_BLOCK_SHIFT) == blk; i++)
		{
			if (ng > 0 && group[ng - 1].rid == edges[i].parent &&
				group[ng - 1].valid_from == edges[i].parent_from)
				continue;		/* a duplicate edge */
			group[ng].rid = edges[i].parent;
			group[ng].valid_from = edges[i].parent_from;
			ng++;
		}
		BatchAddSet(batch, first->child, first->child_from, group, ng);
		written += ng;
	}
	BatchFlush(batch);
	return written;
}

/*
 * Write runs of pairs (child, parent) in the order given: a run is cut
 * where the next child is not the previous one plus one, at
 * LINEAGE_RUN_MAX children, or, if span, where its parents would span
 * more than LINEAGE_RUN_SPAN ids.  Returns the runs written, or, if
 * count_only, the runs it would write.
 */
static int64
Runs(EdgeBatch *batch, const int64 *pairs, int64 npairs, int64 child_from,
	 int64 parent_from, bool span, bool count_only)
{
	int64	   *run = count_only ? NULL : palloc(sizeof(int64) * LINEAGE_RUN_MAX);
	int64		i = 0;
	int64		runs = 0;

	while (i < npairs)
	{
		int64		first = pairs[2 * i];
		int64		l = pairs[2 * i + 1];
		int64		h = l;
		int			n = 0;
		StringInfoData buf;

		while (i < npairs && n < LINEAGE_RUN_MAX && pairs[2 * i] == first + n)
		{
			int64		p = pairs[2 * i + 1];

			if (span && Max(h, p) - Min(l, p) > LINEAGE_RUN_SPAN)
				break;
			l = Min(l, p);
			h = Max(h, p);
			if (run)
				run[n] = p;
			n++;
			i++;
		}
		runs++;
		if (count_only)
			continue;
		initStringInfo(&buf);
		lineage_encode_run(&buf, span ? LINEAGE_FORMAT_RUN : LINEAGE_FORMAT_UP_RUN,
						   run, n, parent_from, l);
		/* a run's child column: its first child, negated */
		BatchAdd(batch, -first, child_from, l, h, &buf);
	}
	return runs;
}

/* qsort order of (child, parent) pairs: parent, then child. */
static int
CompareByParent(const void *a, const void *b)
{
	const int64 *x = a;
	const int64 *y = b;

	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * Write pairs as down runs (format 5): sorted by parent, cut at
 * LINEAGE_RUN_MAX edges or where the parents would span more than
 * LINEAGE_RUN_SPAN ids; the child column 0 (no child's row: lineage_up
 * never finds them).
 */
static void
DownRuns(EdgeBatch *batch, const int64 *pairs, int64 npairs, int64 child_from,
		 int64 parent_from)
{
	int64	   *sorted = palloc_extended(sizeof(int64) * 2 * Max(npairs, 1), MCXT_ALLOC_HUGE);
	int64		i = 0;

	memcpy(sorted, pairs, sizeof(int64) * 2 * npairs);
	qsort(sorted, npairs, sizeof(int64) * 2, CompareByParent);
	while (i < npairs)
	{
		int64		start = i;
		int64		l = sorted[2 * i + 1];
		StringInfoData buf;

		while (i < npairs && i - start < LINEAGE_RUN_MAX && sorted[2 * i + 1] - l <= LINEAGE_RUN_SPAN)
			i++;
		initStringInfo(&buf);
		lineage_encode_down_run(&buf, sorted + 2 * start, (int) (i - start), parent_from, l);
		BatchAdd(batch, 0, child_from, l, sorted[2 * (i - 1) + 1], &buf);
	}
	pfree(sorted);
}

/*
 * Write npairs (child, parent) pairs, in the order collected, as runs
 * (doc/lineage.md "Runs").  Every child version is child_from, every
 * parent version parent_from.  When the parents come in an order far
 * from their ids (a join's other side stored in another order), runs cut
 * at LINEAGE_RUN_SPAN would hold a few edges each: the pairs are then
 * written twice, as runs of consecutive children whatever their parents'
 * span (format 4, for lineage_up; not in the down index) and as runs in
 * parent order (format 5, for lineage_down).  Returns the edges written.
 * Inside aisec_spi_begin/_end.
 */
int64
lineage_write_runs(int64 transform, const int64 *pairs, int64 npairs,
				   int64 child_from, int64 parent_from)
{
	EdgeBatch  *batch = BatchStart(transform);

	if (npairs >= 64 &&
		Runs(NULL, pairs, npairs, child_from, parent_from, true, true) * 16 > npairs)
	{
		(void) Runs(batch, pairs, npairs, child_from, parent_from, false, false);
		DownRuns(batch, pairs, npairs, child_from, parent_from);
	}
	else
		(void) Runs(batch, pairs, npairs, child_from, parent_from, true, false);
	BatchFlush(batch);
	return npairs;
}

/*
 * The version a parent row was read at: the pending version of its table
 * when the statement ran (doc/lineage.md "Versions").  Its table is one
 * of t's sources.
 */
int64
lineage_version_read(const LineageTransform *t, int64 parent)
{
	int32		table_no = (int32) (parent >> RID_TABLE_SHIFT);

	for (int i = 0; i < t->nsources; i++)
		if (t->sources[i] == table_no)
			return t->source_versions[i];
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("row id " INT64_FORMAT " read as a parent belongs to no table the statement read",
					parent)));
	return 0;					/* keep compiler quiet */
}

/*
 * Write the parent sets of a statement's children (a GROUP BY's groups):
 * recs holds nwords words, records (child, n, parent_1 .. parent_n), each
 * record's parents ascending and distinct.  One edge row per child and
 * parent block.  Every child version is child_from; a parent's version is
 * the one t read its table at.  Returns the edges written.  Inside
 * aisec_spi_begin/_end.
 */
int64
lineage_write_sets(int64 transform, const int64 *recs, int64 nwords, int64 child_from,
				   const LineageTransform *t)
{
	EdgeBatch  *batch = BatchStart(transform);
	LineageParent *group = NULL;
	int64		cap = 0;
	int64		written = 0;
	int64		w = 0;
	int64		vtable = -1;	/* the table of the last version read */
	int64		version = 0;

	while (w + 2 <= nwords)
	{
		int64		c = recs[w];
		int64		n = recs[w + 1];
		const int64 *p = recs + w + 2;
		int64		i = 0;

		w += 2 + n;
		if (n > cap)
		{
			cap = n;
			group = group ? repalloc_huge(group, sizeof(LineageParent) * cap) :
				palloc_extended(sizeof(LineageParent) * cap, MCXT_ALLOC_HUGE);
		}
		while (i < n)
		{
			int64		blk = p[i] >> LINEAGE_BLOCK_SHIFT;
			int			ng = 0;

			for (; i < n && (p[i] >> LINEAGE_BLOCK_SHIFT) == blk; i++)
			{
				if ((p[i] >> RID_TABLE_SHIFT) != vtable)
				{
					vtable = p[i] >> RID_TABLE_SHIFT;
					version = lineage_version_read(t, p[i]);
				}
				group[ng].rid = p[i];
				group[ng].valid_from = version;
				ng++;
			}
			BatchAddSet(batch, c, child_from, group, ng);
			written += ng;
		}
	}
	BatchFlush(batch);
	return written;
}

/* A row id and the version found for it. */
typedef struct RidVersion
{
	int64		rid;
	int64		version;
} RidVersion;

/*
 * For rids[0..n-1], all of tracked table tt, set versions[i] to the row
 * version each names: its latest history record with valid_from <=
 * at_most, or, if it has none and live, the table's pending version when
 * the caller can see it as a live row; -1 if neither.  Inside
 * aisec_spi_begin/_end.  The history is read as the extension owner (it
 * is the owner's), the live table as the caller (its privileges and
 * row-level security hold).
 */
void
lineage_row_versions(const TrackedTable *tt, const int64 *rids, int n,
					 int64 at_most, bool live, int64 *versions)
{
	HASHCTL		ctl;
	HTAB	   *found;
	Oid			types[2] = {INT8ARRAYOID, INT8OID};
	Datum		values[2];
	char	   *sql;
	int			rows;
	int64	   *missing = palloc(sizeof(int64) * Max(n, 1));
	int			nmissing = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(RidVersion);
	ctl.hcxt = CurrentMemoryContext;
	found = hash_create("aisec lineage row versions", Max(n, 16), &ctl,
						HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

	values[0] = IntArray(rids, n, true);
	values[1] = Int64GetDatum(at_most);
	sql = psprintf("SELECT rid, pg_catalog.max(valid_from) FROM %s "
				   "WHERE rid OPERATOR(pg_catalog.=) ANY ($1) "
				   "AND valid_from OPERATOR(pg_catalog.<=) $2 GROUP BY rid",
				   aisec_qualified_name(tt->history));
	rows = aisec_spi_run(sql, true, 2, types, values, NULL, NULL);
	for (int r = 0; r < rows; r++)
	{
		bool		isnull;
		int64		rid = DatumGetInt64(aisec_spi_value(r, 0, &isnull));
		RidVersion *e = hash_search(found, &rid, HASH_ENTER, NULL);

		e->version = DatumGetInt64(aisec_spi_value(r, 1, &isnull));
	}
	for (int i = 0; i < n; i++)
	{
		RidVersion *e = hash_search(found, &rids[i], HASH_FIND, NULL);

		versions[i] = e ? e->version : -1;
		if (e == NULL)
			missing[nmissing++] = rids[i];
	}
	if (nmissing == 0 || !live)
		return;

	/* Rows written since the last commit have no record yet: look live. */
	values[0] = IntArray(missing, nmissing, true);
	sql = psprintf("SELECT " RID_COLUMN " FROM %s WHERE " RID_COLUMN
				   " OPERATOR(pg_catalog.=) ANY ($1)",
				   aisec_qualified_name(tt->relid));
	rows = aisec_spi_run(sql, false, 1, types, values, NULL, NULL);
	for (int r = 0; r < rows; r++)
	{
		bool		isnull;
		int64		rid = DatumGetInt64(aisec_spi_value(r, 0, &isnull));
		RidVersion *e = hash_search(found, &rid, HASH_ENTER, NULL);

		e->version = tt->pending;
	}
	for (int i = 0; i < n; i++)
	{
		RidVersion *e;

		if (versions[i] >= 0)
			continue;
		e = hash_search(found, &rids[i], HASH_FIND, NULL);
		if (e != NULL)
			versions[i] = e->version;
	}
}

/* Trigger: refuse direct changes to lineage records. */
PG_FUNCTION_INFO_V1(aisec_lineage_refuse_change);
Datum
aisec_lineage_refuse_change(PG_FUNCTION_ARGS)
{
	aisec_audit_refuse_write(fcinfo, "aisec.lineage_refuse_change",
							 "aisec lineage records change only through aisec's functions, for every role including their owner.",
							 "Record lineage with aisec.record_lineage().");
	return PointerGetDatum(NULL);
}

/* Define the settings; register lineage's hooks with versioning. */
void
aisec_lineage_init(void)
{
	DefineCustomEnumVariable("aisec.lineage",
							 "Row lineage capture: on, table (table level only) or off.",
							 "Every capture that off skips is recorded in the audit log.",
							 &lineage_mode, LINEAGE_ON, lineage_mode_options,
							 PGC_USERSET, 0, NULL, AssignLineageMode, NULL);
	DefineCustomIntVariable("aisec.lineage_memory",
							"Memory one statement's automatic capture may use for its edges.",
							"A statement whose edges need more is recorded at table level, with a NOTICE.",
							&lineage_memory_kb, 1024 * 1024, 1024, MAX_KILOBYTES,
							PGC_USERSET, GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomStringVariable("aisec.transform",
							   "Name of the transforms this session records in row lineage.",
							   NULL, &lineage_transform_name, "",
							   PGC_USERSET, 0, CheckTransformName, NULL, NULL);
	lineage_copy_init();
	lineage_openlineage_init();
	lineage_audit_init();
	lineage_capture_init();
}
