/*
 * lineage_collect.c
 *		aisec.lineage_collect(bigint) and aisec.lineage_collect(bigint[]):
 *		the aggregate that gives a group of rows its parents, the row ids
 *		of every row in the group, ascending and distinct (doc/lineage.md
 *		"Automatic capture").  lineage_rewrite.c adds it to statements
 *		that group rows while writing a tracked table.
 *
 * The state is a growing array of row ids in the aggregate's memory
 * context; the final function sorts it and drops repeats in place,
 * which gives the same result when called again on the same state.
 * NULLs (a row with no tracked parent) add nothing.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/qunique.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "lineage_internal.h"

typedef struct CollectState
{
	int64	   *ids;
	int64		n;
	int64		cap;
} CollectState;

/* The state, made in the aggregate's context on the first row. */
static CollectState *
State(FunctionCallInfo fcinfo)
{
	MemoryContext agg;
	CollectState *s;

	if (!AggCheckCallContext(fcinfo, &agg))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("function \"%s\" can only be called as an aggregate", "aisec.lineage_collect")));
	if (!PG_ARGISNULL(0))
		return (CollectState *) PG_GETARG_POINTER(0);
	s = MemoryContextAllocZero(agg, sizeof(CollectState));
	s->cap = 16;
	s->ids = MemoryContextAlloc(agg, sizeof(int64) * s->cap);
	return s;
}

/* Make room for more ids. */
static void
Reserve(CollectState *s, int64 more)
{
	if (s->n + more <= s->cap)
		return;
	while (s->n + more > s->cap)
		s->cap *= 2;
	s->ids = repalloc_huge(s->ids, sizeof(int64) * s->cap);
}

/* Transition function of lineage_collect(bigint). */
PG_FUNCTION_INFO_V1(aisec_lineage_collect_step);
Datum
aisec_lineage_collect_step(PG_FUNCTION_ARGS)
{
	CollectState *s = State(fcinfo);

	if (!PG_ARGISNULL(1))
	{
		Reserve(s, 1);
		s->ids[s->n++] = PG_GETARG_INT64(1);
	}
	PG_RETURN_POINTER(s);
}

/* Transition function of lineage_collect(bigint[]): a nested group's ids. */
PG_FUNCTION_INFO_V1(aisec_lineage_collect_step_array);
Datum
aisec_lineage_collect_step_array(PG_FUNCTION_ARGS)
{
	CollectState *s = State(fcinfo);
	ArrayType  *a;
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(s);
	a = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_ELEMTYPE(a) != INT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aisec.lineage_collect expects an array of bigint")));
	deconstruct_array(a, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &elems, &nulls, &n);
	Reserve(s, n);
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			s->ids[s->n++] = DatumGetInt64(elems[i]);
	pfree(elems);
	pfree(nulls);
	PG_RETURN_POINTER(s);
}

static int
CompareId(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Final function: the ids ascending and distinct; NULL for none. */
PG_FUNCTION_INFO_V1(aisec_lineage_collect_final);
Datum
aisec_lineage_collect_final(PG_FUNCTION_ARGS)
{
	CollectState *s;
	Datum	   *d;
	ArrayType  *a;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (CollectState *) PG_GETARG_POINTER(0);
	if (s->n == 0)
		PG_RETURN_NULL();
	if (s->n > 1)
	{
		qsort(s->ids, s->n, sizeof(int64), CompareId);
		s->n = qunique(s->ids, s->n, sizeof(int64), CompareId);
	}
	if (s->n > (int64) MaxArraySize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a group of more than %d rows cannot have its row lineage recorded",
						(int) MaxArraySize),
				 errhint("Set aisec.lineage = table for this statement.")));
	d = palloc(sizeof(Datum) * s->n);
	for (int64 i = 0; i < s->n; i++)
		d[i] = Int64GetDatum(s->ids[i]);
	a = construct_array(d, (int) s->n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	pfree(d);
	PG_RETURN_ARRAYTYPE_P(a);
}
