/*
 * inequality.c
 *		Individual-fairness inequality indices as aggregates, with AIF360's
 *		definitions: the benefit of a row is b = y_pred - y_true + 1, in
 *		{0, 1, 2}, and
 *			GE(alpha) = 1 / (n alpha (alpha - 1)) * sum((b / mu)^alpha - 1)
 *			GE(1) = Theil = 1/n * sum((b / mu) ln(b / mu))	(0 ln 0 = 0)
 *			GE(0) = -1/n * sum(ln(b / mu))
 *		with mu the mean benefit.
 *
 * Because b takes only three values, the state is three row counts (plus
 * alpha), so the result is exact and independent of row order, partial
 * aggregation and merge order.  Rows with a NULL label are skipped.  An
 * empty input or mu = 0 gives NULL; GE(alpha <= 0) with some b = 0 is
 * +Infinity, as in AIF360.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/float.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#define INEQ_FORMAT_VERSION		1
#define INEQ_KIND				'G'
#define INEQ_SERIAL_LEN			(4 + 3 * 8 + 8)

/* Row counts per benefit value, and the alpha the index is computed for. */
typedef struct IneqState
{
	int64		count[3];		/* rows with b = 0, 1, 2 */
	double		alpha;
} IneqState;

/* Check the state's invariants (assert-enabled builds only). */
static void
AssertCheckIneqState(const IneqState *st)
{
#ifdef USE_ASSERT_CHECKING
	Assert(st->count[0] >= 0 && st->count[1] >= 0 && st->count[2] >= 0);
	Assert(!isnan(st->alpha) && !isinf(st->alpha));
#endif
}

/* Reject an alpha that is NULL, NaN or infinite. */
static double
CheckAlpha(FunctionCallInfo fcinfo, int argno)
{
	double		alpha;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("alpha must not be null in aisec.generalized_entropy_index")));
	alpha = PG_GETARG_FLOAT8(argno);
	if (isnan(alpha) || isinf(alpha))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be a finite number in aisec.generalized_entropy_index")));
	return alpha;
}

/* Return the aggregate context, or fail when not called as an aggregate. */
static MemoryContext
IneqAggContext(FunctionCallInfo fcinfo)
{
	MemoryContext aggctx;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aisec inequality aggregate support function called in non-aggregate context")));
	return aggctx;
}

/* Shared body of the transition functions; alpha from argument 3 or fixed. */
static Datum
AccumulateBenefit(FunctionCallInfo fcinfo, bool has_alpha, double fixed_alpha)
{
	MemoryContext aggctx = IneqAggContext(fcinfo);
	IneqState  *st = PG_ARGISNULL(0) ? NULL : (IneqState *) PG_GETARG_POINTER(0);
	double		alpha = has_alpha ? CheckAlpha(fcinfo, 3) : fixed_alpha;
	int			b;

	if (st == NULL)
	{
		st = MemoryContextAllocZero(aggctx, sizeof(IneqState));
		st->alpha = alpha;
	}
	else if (st->alpha != alpha)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be the same for every row of aisec.generalized_entropy_index")));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	b = (int) PG_GETARG_BOOL(2) - (int) PG_GETARG_BOOL(1) + 1;
	st->count[b]++;
	AssertCheckIneqState(st);
	PG_RETURN_POINTER(st);
}

/* Count one row's benefit for aisec.generalized_entropy_index. */
PG_FUNCTION_INFO_V1(aisec_generalized_entropy_transfn);
Datum
aisec_generalized_entropy_transfn(PG_FUNCTION_ARGS)
{
	return AccumulateBenefit(fcinfo, true, 0);
}

/* Count one row's benefit for aisec.theil_index (alpha = 1). */
PG_FUNCTION_INFO_V1(aisec_theil_transfn);
Datum
aisec_theil_transfn(PG_FUNCTION_ARGS)
{
	return AccumulateBenefit(fcinfo, false, 1);
}

/* Add the second partial state's counts to the first. */
PG_FUNCTION_INFO_V1(aisec_inequality_combinefn);
Datum
aisec_inequality_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = IneqAggContext(fcinfo);
	IneqState  *st1 = PG_ARGISNULL(0) ? NULL : (IneqState *) PG_GETARG_POINTER(0);
	IneqState  *st2 = PG_ARGISNULL(1) ? NULL : (IneqState *) PG_GETARG_POINTER(1);

	if (st2 == NULL)
	{
		if (st1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st1);
	}
	if (st1 == NULL)
	{
		st1 = MemoryContextAlloc(aggctx, sizeof(IneqState));
		*st1 = *st2;
		PG_RETURN_POINTER(st1);
	}
	if (st1->alpha != st2->alpha)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be the same for every row of aisec.generalized_entropy_index")));
	for (int b = 0; b < 3; b++)
		if (pg_add_s64_overflow(st1->count[b], st2->count[b], &st1->count[b]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("row count is out of range for aisec.generalized_entropy_index")));
	AssertCheckIneqState(st1);
	PG_RETURN_POINTER(st1);
}

/* Serialize: version, kind, two zero bytes, three int64 counts, alpha. */
PG_FUNCTION_INFO_V1(aisec_inequality_serialfn);
Datum
aisec_inequality_serialfn(PG_FUNCTION_ARGS)
{
	IneqState  *st = (IneqState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	IneqAggContext(fcinfo);
	pq_begintypsend(&buf);
	pq_sendbyte(&buf, INEQ_FORMAT_VERSION);
	pq_sendbyte(&buf, INEQ_KIND);
	pq_sendint16(&buf, 0);
	for (int b = 0; b < 3; b++)
		pq_sendint64(&buf, st->count[b]);
	pq_sendfloat8(&buf, st->alpha);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Rebuild a partial state, validating length, version and counts. */
PG_FUNCTION_INFO_V1(aisec_inequality_deserialfn);
Datum
aisec_inequality_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx = IneqAggContext(fcinfo);
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	IneqState  *st;

	if (VARSIZE_ANY_EXHDR(b) != INEQ_SERIAL_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("corrupt inequality aggregate state"),
				 errdetail_plural("The state is %zu byte long, but %d bytes were expected.",
								  "The state is %zu bytes long, but %d bytes were expected.",
								  (unsigned long) VARSIZE_ANY_EXHDR(b),
								  (Size) VARSIZE_ANY_EXHDR(b), INEQ_SERIAL_LEN)));
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	if (pq_getmsgbyte(&buf) != INEQ_FORMAT_VERSION || pq_getmsgbyte(&buf) != INEQ_KIND ||
		pq_getmsgint(&buf, 2) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("corrupt inequality aggregate state"),
				 errdetail("The format version or kind is unknown.")));
	st = MemoryContextAlloc(aggctx, sizeof(IneqState));
	for (int i = 0; i < 3; i++)
		st->count[i] = pq_getmsgint64(&buf);
	st->alpha = pq_getmsgfloat8(&buf);
	if (st->count[0] < 0 || st->count[1] < 0 || st->count[2] < 0 ||
		isnan(st->alpha) || isinf(st->alpha))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("corrupt inequality aggregate state"),
				 errdetail("A count is negative or alpha is not finite.")));
	PG_RETURN_POINTER(st);
}

/* Compute GE(alpha) from the benefit counts. */
PG_FUNCTION_INFO_V1(aisec_generalized_entropy_finalfn);
Datum
aisec_generalized_entropy_finalfn(PG_FUNCTION_ARGS)
{
	IneqState  *st;
	double		n,
				mu,
				alpha,
				sum = 0;

	IneqAggContext(fcinfo);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (IneqState *) PG_GETARG_POINTER(0);
	n = (double) st->count[0] + (double) st->count[1] + (double) st->count[2];
	if (n == 0)
		PG_RETURN_NULL();
	mu = ((double) st->count[1] + 2.0 * (double) st->count[2]) / n;
	if (mu == 0)
		PG_RETURN_NULL();
	alpha = st->alpha;
	for (int b = 0; b < 3; b++)
	{
		double		x = b / mu;
		double		term;

		if (st->count[b] == 0)
			continue;
		if (alpha == 1)
			term = b == 0 ? 0 : x * log(x);
		else if (alpha == 0)
			term = b == 0 ? get_float8_infinity() : -log(x);
		else if (b == 0)
			term = alpha > 0 ? -1 : get_float8_infinity();
		else
			term = pow(x, alpha) - 1;
		sum += (double) st->count[b] * term;
	}
	if (alpha == 0 || alpha == 1)
		PG_RETURN_FLOAT8(sum / n);
	PG_RETURN_FLOAT8(sum / (n * alpha * (alpha - 1)));
}
