/*
 * lineage_collect.c
 *		aisec.lineage_collect(bigint) and aisec.lineage_collect(bigint[]):
 *		the aggregate that gives a group of rows its parents, the row ids
 *		of every row in the group, ascending and distinct (doc/lineage.md
 *		"Automatic capture").  lineage_rewrite.c adds it to statements
 *		that group rows while writing a tracked table.
 *
 * The state is a byte buffer of row ids (below) in the aggregate's memory
 * context; the final function decodes it into a new array, sorted and
 * without repeats, leaving the state as it was.  NULLs (a row with no
 * tracked parent) add nothing.  SSPACE (256 bytes) tells the planner
 * what a group's state costs a hash aggregate, about 2 bytes a row.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/qunique.h"
#include "utils/array.h"
#include "utils/memutils.h"

#include "lineage_internal.h"

/*
 * The ids collected, as zigzag varint differences from the one before:
 * rows read in table order have ids close together, 1-2 bytes each, so a
 * group of a million rows holds about 2 MB (a hash aggregate keeps every
 * group's state in memory at once, within hash_mem).
 */
typedef struct CollectState
{
	uint8	   *buf;
	Size		len;
	Size		cap;
	int64		n;
	int64		last;
	bool		sorted;			/* ascending so far */
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
	s->cap = 32;
	s->buf = MemoryContextAlloc(agg, s->cap);
	s->sorted = true;
	return s;
}

/* Append one id. */
static inline void
Add(CollectState *s, int64 id)
{
	uint64		z;

	if (s->len + 10 > s->cap)
	{
		s->cap *= 2;
		s->buf = repalloc_huge(s->buf, s->cap);
	}
	if (id < s->last)
		s->sorted = false;
	z = ((uint64) (id - s->last) << 1) ^ (uint64) ((id - s->last) >> 63);
	s->last = id;
	while (z >= 0x80)
	{
		s->buf[s->len++] = (uint8) (z | 0x80);
		z >>= 7;
	}
	s->buf[s->len++] = (uint8) z;
	s->n++;
}

/* Transition function of lineage_collect(bigint). */
PG_FUNCTION_INFO_V1(aisec_lineage_collect_step);
Datum
aisec_lineage_collect_step(PG_FUNCTION_ARGS)
{
	CollectState *s = State(fcinfo);

	if (!PG_ARGISNULL(1))
		Add(s, PG_GETARG_INT64(1));
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
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			Add(s, DatumGetInt64(elems[i]));
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

/*
 * Final function: the ids ascending and distinct; NULL for none.  Reads
 * the state without changing it; decodes straight into the array.
 */
PG_FUNCTION_INFO_V1(aisec_lineage_collect_final);
Datum
aisec_lineage_collect_final(PG_FUNCTION_ARGS)
{
	CollectState *s;
	int64	   *d;
	int64		n = 0;
	int64		id = 0;
	Size		pos = 0;
	ArrayType  *a;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = (CollectState *) PG_GETARG_POINTER(0);
	if (s->n == 0)
		PG_RETURN_NULL();
	if (s->n > (int64) MaxArraySize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a group of more than %d rows cannot have its row lineage recorded",
						(int) MaxArraySize),
				 errhint("Set aisec.lineage = table for this statement.")));
	a = palloc_extended(ARR_OVERHEAD_NONULLS(1) + sizeof(int64) * s->n, MCXT_ALLOC_HUGE);
	a->ndim = 1;
	a->dataoffset = 0;
	a->elemtype = INT8OID;
	ARR_LBOUND(a)[0] = 1;
	d = (int64 *) ARR_DATA_PTR(a);
	while (pos < s->len)
	{
		uint64		z = 0;
		int			shift = 0;

		while (s->buf[pos] & 0x80)
		{
			z |= (uint64) (s->buf[pos++] & 0x7F) << shift;
			shift += 7;
		}
		z |= (uint64) s->buf[pos++] << shift;
		id += (int64) ((z >> 1) ^ -(z & 1));
		d[n++] = id;
	}
	Assert(n == s->n);
	if (!s->sorted)
		qsort(d, n, sizeof(int64), CompareId);
	if (n > 1)
		n = qunique(d, n, sizeof(int64), CompareId);
	ARR_DIMS(a)[0] = (int) n;
	SET_VARSIZE(a, ARR_OVERHEAD_NONULLS(1) + sizeof(int64) * n);
	PG_RETURN_ARRAYTYPE_P(a);
}
