/*
 * erasure_derived.c
 *		The rows derived from a subject's rows (issue 18 item 5): found
 *		through lineage for the preview and erase alike, and erased by
 *		erase under each table's erasure policy (erasure_policy.c).
 *
 * From the subject's row ids (every tracked declared table's), lineage is
 * followed down one level at a time (aisec.lineage_down(ids, 1)), each row
 * once, the subject's own rows never counted as derived.  A derived row
 * of a table whose policy is keep_aggregate is kept when it has at least
 * min_parents distinct parent rows one level up (aisec.lineage_up(rid,
 * 1)): an aggregate does not identify a person, and lineage is not
 * followed below it (what was computed from the aggregate is not the
 * person's either).  Every other derived row is erased, and lineage is
 * followed below it.  A row whose table is no longer tracked has no row
 * id to erase by: it is passed through (lineage below it is followed) but
 * neither erased nor counted.  A derived row is counted (and erased) only
 * while some history record of it still holds data: one an earlier
 * erasure erased already is not erased twice.
 *
 * Derived rows are counted in the table they are in: a table holding
 * derived rows but no subject column gets a target of its own, after the
 * declared ones (in schema and name order), locked like them.  Erase
 * deletes a derived row's live row (by row id, as the extension owner with
 * row security off, so capture records it like any delete: DELETE
 * triggers and rules were checked first, as for the subject's own rows),
 * redacts every history record of it in every version through
 * versioning's door, and keeps its row id in aisec.erasure_row, so verify
 * accepts the redaction and a restore can re-erase it.
 *
 * Not locked against: a statement that derives new rows from the
 * subject's rows after the lineage was read (it reads them with an older
 * snapshot; the declared tables' lock keeps writers out, not readers).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/lsyscache.h"

#include "erasure_internal.h"

/* What a row reached through lineage is to erasure. */
typedef enum DerivedFate
{
	FATE_OWN,					/* one of the subject's own rows */
	FATE_ERASE,					/* derived: erased */
	FATE_KEEP,					/* derived: kept by keep_aggregate */
	FATE_PASS					/* derived, in a table no longer tracked */
} DerivedFate;

/* A row seen by the walk (hash entry, keyed by rid). */
typedef struct SeenRow
{
	int64		rid;
	DerivedFate fate;
} SeenRow;

/* A kept row: its id and number of distinct parent rows. */
typedef struct KeptRow
{
	int64		rid;
	int64		parents;
} KeptRow;

/* A table derived rows were found in, with its policy and rows. */
typedef struct DerivedTable
{
	Oid			relid;
	bool		keep_aggregate;
	int32		min_parents;
	ArrayBuildState *erase;		/* int8: rows to erase */
	KeptRow    *kept;
	int			nkept;
	int			maxkept;
} DerivedTable;

/* The walk's state. */
typedef struct Walk
{
	HTAB	   *seen;
	DerivedTable **tables;		/* each allocated apart: pointers stay valid */
	int			ntables;
	int			maxtables;
	int64	   *next;			/* the next level's frontier */
	int			nnext;
	int			maxnext;
} Walk;

/* The table entry of relid, made (with its policy) on first sight. */
static DerivedTable *
TableOf(Walk *w, Oid relid)
{
	DerivedTable *t;

	for (int i = 0; i < w->ntables; i++)
		if (w->tables[i]->relid == relid)
			return w->tables[i];
	if (w->ntables == w->maxtables)
	{
		w->maxtables *= 2;
		w->tables = repalloc(w->tables, sizeof(DerivedTable *) * w->maxtables);
	}
	t = palloc0(sizeof(DerivedTable));
	w->tables[w->ntables++] = t;
	t->relid = relid;
	t->keep_aggregate = erasure_policy_of(relid, &t->min_parents);
	t->erase = initArrayResult(INT8OID, CurrentMemoryContext, false);
	return t;
}

/* Add rid to the next level's frontier. */
static void
Follow(Walk *w, int64 rid)
{
	if (w->nnext == w->maxnext)
	{
		w->maxnext *= 2;
		w->next = repalloc(w->next, sizeof(int64) * w->maxnext);
	}
	w->next[w->nnext++] = rid;
}

/* The int8[] of n row ids. */
static Datum
RidArray(const int64 *rids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * (n + 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(rids[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL,
										   TYPALIGN_DOUBLE));
}

/*
 * Decide the fate of the candidates (rows of keep_aggregate tables, tab[i]
 * the table of rids[i]): kept with at least min_parents distinct parent
 * rows one level up, else erased and followed.
 */
static void
DecideAggregates(Walk *w, int64 *rids, DerivedTable **tab, int n)
{
	AisecSpi	spi;
	Oid			argtype = INT8ARRAYOID;
	Datum		arg = RidArray(rids, n);
	int64	   *parents = palloc(sizeof(int64) * (n + 1));
	int			rows;

	aisec_spi_begin(&spi);
	rows = erasure_run_as_owner("SELECT c.rid, (SELECT pg_catalog.count(DISTINCT u.rid) "
								"               FROM aisec.lineage_up(c.rid, 1) u) "
								"FROM pg_catalog.unnest($1) WITH ORDINALITY AS c(rid, i) "
								"ORDER BY c.i",
								1, &argtype, &arg);
	if (rows != n)
		elog(ERROR, "aisec: parent count of %d derived rows returned %d", n, rows);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		parents[i] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
	}
	aisec_spi_end(&spi);

	for (int i = 0; i < n; i++)
	{
		DerivedTable *t = tab[i];
		SeenRow    *s = hash_search(w->seen, &rids[i], HASH_FIND, NULL);

		if (parents[i] >= t->min_parents)
		{
			s->fate = FATE_KEEP;
			if (t->nkept == t->maxkept)
			{
				t->maxkept = t->maxkept > 0 ? t->maxkept * 2 : 8;
				t->kept = t->kept ? repalloc(t->kept, sizeof(KeptRow) * t->maxkept)
					: palloc(sizeof(KeptRow) * t->maxkept);
			}
			t->kept[t->nkept].rid = rids[i];
			t->kept[t->nkept].parents = parents[i];
			t->nkept++;
		}
		else
		{
			s->fate = FATE_ERASE;
			accumArrayResult(t->erase, Int64GetDatum(rids[i]), false, INT8OID,
							 CurrentMemoryContext);
			Follow(w, rids[i]);
		}
	}
}

/*
 * Walk one level down from the frontier (n row ids): give each row not
 * seen before its fate, and fill the next frontier.
 */
static void
WalkLevel(Walk *w, const int64 *frontier, int n)
{
	AisecSpi	spi;
	Oid			argtype = INT8ARRAYOID;
	Datum		arg = RidArray(frontier, n);
	int			rows;
	int64	   *rids;
	Oid		   *rels;
	int64	   *cand;
	DerivedTable **candtab;
	int			ncand = 0;

	aisec_spi_begin(&spi);
	rows = erasure_run_as_owner("SELECT d.rid, d.rel::pg_catalog.oid FROM aisec.lineage_down($1, 1) d",
								1, &argtype, &arg);
	rids = palloc(sizeof(int64) * (rows + 1));
	rels = palloc(sizeof(Oid) * (rows + 1));
	for (int i = 0; i < rows; i++)
	{
		bool		isnull;
		Datum		rel;

		rids[i] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		rel = aisec_spi_value(i, 1, &isnull);
		rels[i] = isnull ? InvalidOid : DatumGetObjectId(rel);
	}
	aisec_spi_end(&spi);

	cand = palloc(sizeof(int64) * (rows + 1));
	candtab = palloc(sizeof(DerivedTable *) * (rows + 1));
	for (int i = 0; i < rows; i++)
	{
		bool		found;
		SeenRow    *s = hash_search(w->seen, &rids[i], HASH_ENTER, &found);
		DerivedTable *t;

		if (found)
			continue;
		if (!OidIsValid(rels[i]))
		{
			s->fate = FATE_PASS;
			Follow(w, rids[i]);
			continue;
		}
		t = TableOf(w, rels[i]);
		if (t->keep_aggregate)
		{
			cand[ncand] = rids[i];
			candtab[ncand++] = t;
			continue;
		}
		s->fate = FATE_ERASE;
		accumArrayResult(t->erase, Int64GetDatum(rids[i]), false, INT8OID, CurrentMemoryContext);
		Follow(w, rids[i]);
	}
	if (ncand > 0)
		DecideAggregates(w, cand, candtab, ncand);
}

/* Order kept rows by row id. */
static int
CompareKept(const void *a, const void *b)
{
	int64		x = ((const KeptRow *) a)->rid;
	int64		y = ((const KeptRow *) b)->rid;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/* Order derived tables by schema and name, as the declared ones are. */
static int
CompareTables(const void *a, const void *b)
{
	Oid			x = (*(DerivedTable *const *) a)->relid;
	Oid			y = (*(DerivedTable *const *) b)->relid;
	int			c = strcmp(get_namespace_name(get_rel_namespace(x)),
						   get_namespace_name(get_rel_namespace(y)));

	return c != 0 ? c : strcmp(get_rel_name(x), get_rel_name(y));
}

/* Run a query of one int8[] column as the owner; the array, copied (NULL: empty). */
static Datum
QueryRids(const char *sql, int nargs, Oid *types, Datum *values)
{
	bool		isnull;
	Datum		d;

	(void) erasure_run_as_owner(sql, nargs, types, values);
	d = aisec_spi_value(0, 0, &isnull);
	if (isnull)
		return PointerGetDatum(construct_empty_array(INT8OID));
	return PointerGetDatum(DatumGetArrayTypePCopy(d));
}

/*
 * Fill target t's derived rows from the walk's table d (NULL: none): the
 * rows to erase that still hold data (a history record with data, or a
 * live row inserted since the last commit), ascending, and the kept ones
 * as JSON.
 */
static void
FillTarget(ErasureTarget *t, DerivedTable *d)
{
	t->derived_rids = PointerGetDatum(construct_empty_array(INT8OID));
	t->derived_rows = 0;
	t->derived_kept = 0;
	t->derived_kept_json = NULL;
	if (d == NULL)
		return;
	t->keep_aggregate = d->keep_aggregate;
	t->min_parents = d->min_parents;
	if (d->erase->nelems > 0)
	{
		AisecSpi	spi;
		Oid			types[2] = {INT8ARRAYOID, INT8ARRAYOID};
		Datum		args[2];
		Datum		held;
		Datum		a;

		args[0] = makeArrayResult(d->erase, CurrentMemoryContext);
		aisec_spi_begin(&spi);
		/* Rows whose history still holds data (by the history's rid index)... */
		held = QueryRids(psprintf("SELECT pg_catalog.array_agg(DISTINCT h.rid ORDER BY h.rid) "
								  "FROM %s h WHERE h.rid OPERATOR(pg_catalog.=) ANY ($1) "
								  "  AND (h.data IS NOT NULL OR h.salt IS NOT NULL)",
								  aisec_qualified_name(t->tt.history)),
						 1, types, args);
		/*
		 * ... and live rows with none: inserted since the last commit, which
		 * gives them their first record (a scan: aisec_rid has no index;
		 * only when there are such candidates).
		 */
		args[1] = held;
		a = QueryRids("SELECT pg_catalog.array_agg(r ORDER BY r) FROM pg_catalog.unnest($1) r "
					  "WHERE r OPERATOR(pg_catalog.<>) ALL ($2)",
					  2, types, args);
		if (ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(a)), ARR_DIMS(DatumGetArrayTypeP(a))) > 0)
		{
			args[0] = a;
			a = QueryRids(psprintf("SELECT pg_catalog.array_agg(t.%s) FROM ONLY %s t "
								   "WHERE t.%s OPERATOR(pg_catalog.=) ANY ($1)",
								   RID_COLUMN, aisec_qualified_name(t->relid), RID_COLUMN),
						  1, types, args);
			args[0] = held;
			args[1] = a;
			held = QueryRids("SELECT pg_catalog.array_agg(DISTINCT r ORDER BY r) "
							 "FROM pg_catalog.unnest($1 OPERATOR(pg_catalog.||) $2) r",
							 2, types, args);
		}
		aisec_spi_end(&spi);
		t->derived_rids = held;
		t->derived_rows = ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(held)),
										 ARR_DIMS(DatumGetArrayTypeP(held)));
	}
	if (d->nkept > 0)
	{
		StringInfoData json;

		qsort(d->kept, d->nkept, sizeof(KeptRow), CompareKept);
		initStringInfo(&json);
		appendStringInfoChar(&json, '[');
		for (int i = 0; i < d->nkept; i++)
			appendStringInfo(&json, "%s{\"rid\": " INT64_FORMAT ", \"parents\": " INT64_FORMAT
							 ", \"reason\": \"keep_aggregate: " INT64_FORMAT
							 " distinct parent rows, at least min_parents (%d)\"}",
							 i > 0 ? ", " : "", d->kept[i].rid, d->kept[i].parents,
							 d->kept[i].parents, d->min_parents);
		appendStringInfoChar(&json, ']');
		t->derived_kept = d->nkept;
		t->derived_kept_json = json.data;
	}
}

/*
 * Find the rows derived from the subject's rows of the n targets in
 * *targets, under the tables' policies (see the file header), and fill
 * each target's derived rows; tables holding derived rows but no subject
 * column get targets of their own after the others, each locked in
 * lockmode.  Returns the new number of targets (*targets may move).
 */
int
erasure_collect_derived(ErasureTarget **targets, int n, LOCKMODE lockmode)
{
	ErasureTarget *ts = *targets;
	Walk		w;
	HASHCTL		ctl;
	int64	   *frontier;
	int			nfrontier = 0;
	int			maxfrontier = 16;
	int			nextra = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(SeenRow);
	ctl.hcxt = CurrentMemoryContext;
	w.seen = hash_create("aisec erasure derived rows", 1024, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	w.maxtables = 8;
	w.ntables = 0;
	w.tables = palloc(sizeof(DerivedTable *) * w.maxtables);
	w.maxnext = 16;
	w.nnext = 0;
	w.next = palloc(sizeof(int64) * w.maxnext);

	/* The subject's own rows: the start, never derived. */
	frontier = palloc(sizeof(int64) * maxfrontier);
	for (int i = 0; i < n; i++)
	{
		Datum	   *elems;
		int			nelems;

		if (!ts[i].tracked || ts[i].nrids == 0)
			continue;
		deconstruct_array(DatumGetArrayTypeP(ts[i].rids), INT8OID, 8, FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, NULL, &nelems);
		for (int k = 0; k < nelems; k++)
		{
			int64		rid = DatumGetInt64(elems[k]);
			bool		found;
			SeenRow    *s = hash_search(w.seen, &rid, HASH_ENTER, &found);

			if (found)
				continue;
			s->fate = FATE_OWN;
			if (nfrontier == maxfrontier)
			{
				maxfrontier *= 2;
				frontier = repalloc(frontier, sizeof(int64) * maxfrontier);
			}
			frontier[nfrontier++] = rid;
		}
	}

	/* Breadth first, one level at a time, until no row is new. */
	while (nfrontier > 0)
	{
		int64	   *swap = frontier;
		int			maxswap = maxfrontier;

		CHECK_FOR_INTERRUPTS();
		WalkLevel(&w, frontier, nfrontier);
		frontier = w.next;
		nfrontier = w.nnext;
		maxfrontier = w.maxnext;
		w.next = swap;
		w.maxnext = maxswap;
		w.nnext = 0;
	}

	/* Tables with no subject column that hold derived rows: targets of their own. */
	if (w.ntables > 1)
		qsort(w.tables, w.ntables, sizeof(DerivedTable *), CompareTables);
	for (int i = 0; i < w.ntables; i++)
	{
		bool		declared = false;

		for (int k = 0; k < n && !declared; k++)
			declared = ts[k].relid == w.tables[i]->relid;
		if (!declared)
			nextra++;
	}
	if (nextra > 0)
	{
		ts = repalloc(ts, sizeof(ErasureTarget) * (n + nextra + 1));
		memset(ts + n, 0, sizeof(ErasureTarget) * (nextra + 1));
	}
	for (int i = 0; i < n; i++)
	{
		DerivedTable *d = NULL;

		for (int k = 0; k < w.ntables && d == NULL; k++)
			if (w.tables[k]->relid == ts[i].relid)
				d = w.tables[k];
		FillTarget(&ts[i], ts[i].tracked ? d : NULL);
	}
	for (int i = 0, ndecl = n; i < w.ntables; i++)
	{
		DerivedTable *d = w.tables[i];
		ErasureTarget *t = &ts[n];
		bool		declared = false;

		for (int k = 0; k < ndecl && !declared; k++)
			declared = ts[k].relid == d->relid;
		if (declared)
			continue;
		/* Locked before its history is read, as the declared tables are. */
		LockRelationOid(d->relid, lockmode);
		memset(t, 0, sizeof(ErasureTarget));
		t->relid = d->relid;
		t->tracked = history_lookup(d->relid, &t->tt);
		if (!t->tracked)
			continue;			/* untracked meanwhile: no row ids to erase */
		t->rids = t->live_rids = t->changed_rids = t->versions =
			PointerGetDatum(construct_empty_array(INT8OID));
		t->match = "";
		FillTarget(t, d);
		if (t->derived_rows > 0 || t->derived_kept > 0)
			n++;
	}
	*targets = ts;
	return n;
}

/*
 * Erase the derived rows of target t for request request_id (see the file
 * header): delete the live ones, redact their history, keep their ids in
 * aisec.erasure_row and feed them (ascending, 8-byte big-endian) into
 * ridbytes.  Appends the table's derived counts, and for kept rows the
 * policy and the kept list, to the summary's table entry json (nothing
 * for an untracked table).  Returns the number of row ids kept.
 */
int64
erasure_erase_derived(int64 request_id, ErasureTarget *t, StringInfo json,
					  StringInfo ridbytes)
{
	int64		live = 0;
	int64		redacted = 0;

	if (!t->tracked)
		return 0;				/* no lineage: nothing derived */
	if (t->derived_rows > 0)
	{
		AisecSpi	spi;
		Oid			types[2] = {INT8ARRAYOID, INT8OID};
		Datum		values[2];
		Datum	   *elems;
		int			nelems;

		values[0] = t->derived_rids;
		values[1] = Int64GetDatum(request_id);
		aisec_spi_begin(&spi);
		live = erasure_run_as_owner(psprintf("DELETE FROM ONLY %s WHERE %s OPERATOR(pg_catalog.=) ANY ($1)",
											 aisec_qualified_name(t->relid), RID_COLUMN),
									1, types, values);
		aisec_spi_end(&spi);
		redacted = aisec_history_redact(&t->tt, t->derived_rids);
		aisec_spi_begin(&spi);
		(void) aisec_spi_run("INSERT INTO aisec.erasure_row (rid, request_id) "
							 "SELECT r, $2 FROM pg_catalog.unnest($1) r",
							 true, 2, types, values, NULL, NULL);
		aisec_spi_end(&spi);

		deconstruct_array(DatumGetArrayTypeP(t->derived_rids), INT8OID, 8, FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, NULL, &nelems);
		for (int i = 0; i < nelems; i++)
		{
			uint64		v = (uint64) DatumGetInt64(elems[i]);
			uint8		be[8];

			for (int k = 0; k < 8; k++)
				be[k] = (uint8) (v >> (56 - 8 * k));
			appendBinaryStringInfo(ridbytes, (const char *) be, 8);
		}
	}
	appendStringInfo(json, ", \"derived_rows_deleted\": " INT64_FORMAT
					 ", \"derived_live_rows_deleted\": " INT64_FORMAT
					 ", \"derived_history_records_redacted\": " INT64_FORMAT
					 ", \"derived_rows_kept\": " INT64_FORMAT,
					 t->derived_rows, live, redacted, t->derived_kept);
	if (t->derived_kept > 0)
		appendStringInfo(json, ", \"policy\": \"keep_aggregate\", \"min_parents\": %d, \"kept\": %s",
						 t->min_parents, t->derived_kept_json);
	return t->derived_rows;
}
