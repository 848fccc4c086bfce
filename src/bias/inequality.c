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
 *
 * The state is the SQL type aisec.inequality_stats, a fixed 32-byte struct
 * (not internal), so that parallel and Citus workers hand partial states
 * over as values of the type: bytes, or the JSON text form
 * {"alpha": 1, "counts": [n0, n1, n2]}.  Inside an aggregate the transition
 * and combine functions update the aggregate's own copy in place, as
 * PostgreSQL's float8_accum does; outside one they work on a copy.  The
 * binary form (send/recv, the bytea casts) is the serialization of 0.1.0's
 * partial states: version 1, kind 'G', two zero bytes, the three counts
 * and alpha, big-endian.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/float.h"
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

#include "core/core.h"

#define INEQ_TYPE_NAME			"aisec.inequality_stats"
#define INEQ_FORMAT_VERSION		1
#define INEQ_KIND				'G'
#define INEQ_SERIAL_LEN			(4 + 3 * 8 + 8)

/*
 * Row counts per benefit value, and the alpha the index is computed for:
 * the bytes of an aisec.inequality_stats value (INTERNALLENGTH 32,
 * ALIGNMENT double).
 */
typedef struct IneqState
{
	int64		count[3];		/* rows with b = 0, 1, 2 */
	double		alpha;
} IneqState;

StaticAssertDecl(sizeof(IneqState) == 32, "aisec.inequality_stats is 32 bytes");

/* Check the state's invariants (assert-enabled builds only). */
static void
AssertCheckIneqState(const IneqState *st)
{
#ifdef USE_ASSERT_CHECKING
	Assert(st->count[0] >= 0 && st->count[1] >= 0 && st->count[2] >= 0);
	Assert(!isnan(st->alpha) && !isinf(st->alpha));
	Assert(st->alpha != 0 || !signbit(st->alpha));
#endif
}

/* Reject an alpha that is NULL, NaN or infinite; -0 becomes 0. */
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
	/* -0 and 0 are the same alpha; keep +0, the one JSON text can carry. */
	return alpha == 0 ? 0.0 : alpha;
}

/* Refuse to merge states computed for different alphas. */
static void
CheckSameAlpha(double a1, double a2)
{
	if (a1 != a2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("alpha must be the same for every row of aisec.generalized_entropy_index")));
}

/*
 * Return the state in argument 0 for the caller to change: inside an
 * aggregate the aggregate's own copy (changed in place), outside one a
 * copy.  The argument must not be NULL.
 */
static IneqState *
StateForUpdate(FunctionCallInfo fcinfo)
{
	IneqState  *st = (IneqState *) PG_GETARG_POINTER(0);
	IneqState  *copy;

	if (AggCheckCallContext(fcinfo, NULL))
		return st;
	copy = palloc(sizeof(IneqState));
	memcpy(copy, st, sizeof(IneqState));
	return copy;
}

/*
 * Shared body of the transition functions; alpha from argument 3 or fixed.
 * A new state is made in the current memory context: nodeAgg copies a new
 * state into the aggregate context, then hands that copy back row by row.
 */
static Datum
AccumulateBenefit(FunctionCallInfo fcinfo, bool has_alpha, double fixed_alpha)
{
	double		alpha = has_alpha ? CheckAlpha(fcinfo, 3) : fixed_alpha;
	IneqState  *st;
	int			b;

	if (PG_ARGISNULL(0))
	{
		st = palloc0(sizeof(IneqState));
		st->alpha = alpha;
	}
	else
	{
		st = StateForUpdate(fcinfo);
		CheckSameAlpha(st->alpha, alpha);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_POINTER(st);
	b = (int) PG_GETARG_BOOL(2) - (int) PG_GETARG_BOOL(1) + 1;
	if (unlikely(pg_add_s64_overflow(st->count[b], 1, &st->count[b])))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("row count is out of range for aisec.generalized_entropy_index")));
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

/* Add the second partial state's counts to the first (the second is only read). */
PG_FUNCTION_INFO_V1(aisec_inequality_combinefn);
Datum
aisec_inequality_combinefn(PG_FUNCTION_ARGS)
{
	const IneqState *st2;
	IneqState  *st1;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	st2 = (const IneqState *) PG_GETARG_POINTER(1);
	if (PG_ARGISNULL(0))
	{
		st1 = palloc(sizeof(IneqState));
		memcpy(st1, st2, sizeof(IneqState));
		PG_RETURN_POINTER(st1);
	}
	st1 = StateForUpdate(fcinfo);
	CheckSameAlpha(st1->alpha, st2->alpha);
	for (int b = 0; b < 3; b++)
	{
		int64		c = st2->count[b];	/* st2 may be st1 itself */

		if (pg_add_s64_overflow(st1->count[b], c, &st1->count[b]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("row count is out of range for aisec.generalized_entropy_index")));
	}
	AssertCheckIneqState(st1);
	PG_RETURN_POINTER(st1);
}

/* Compute GE(alpha) from the benefit counts (reads the state only). */
PG_FUNCTION_INFO_V1(aisec_generalized_entropy_finalfn);
Datum
aisec_generalized_entropy_finalfn(PG_FUNCTION_ARGS)
{
	const IneqState *st;
	double		n,
				mu,
				alpha,
				sum = 0;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (const IneqState *) PG_GETARG_POINTER(0);
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

/* Raise the error for binary input that is not an inequality state. */
static void
IneqCorrupt(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid %s value", INEQ_TYPE_NAME),
			 errdetail("%s", detail),
			 errhint("Rebuild the value with aisec.generalized_entropy_index() or aisec.theil_index().")));
}

/* Decode and validate the binary form (len bytes at data) into a new value. */
static IneqState *
IneqDecodeBinary(const char *data, int len)
{
	StringInfoData buf;
	IneqState  *st;

	if (len != INEQ_SERIAL_LEN)
		IneqCorrupt(psprintf("The value is %d bytes long; the format has %d.",
							 len, INEQ_SERIAL_LEN));
	buf.data = unconstify(char *, data);
	buf.len = len;
	buf.maxlen = len;
	buf.cursor = 0;
	if (pq_getmsgbyte(&buf) != INEQ_FORMAT_VERSION || pq_getmsgbyte(&buf) != INEQ_KIND ||
		pq_getmsgint(&buf, 2) != 0)
		IneqCorrupt("The format version or kind is unknown.");
	st = palloc(sizeof(IneqState));
	for (int i = 0; i < 3; i++)
		st->count[i] = pq_getmsgint64(&buf);
	st->alpha = pq_getmsgfloat8(&buf);
	if (st->count[0] < 0 || st->count[1] < 0 || st->count[2] < 0)
		IneqCorrupt("A count is negative.");
	if (isnan(st->alpha) || isinf(st->alpha))
		IneqCorrupt("Alpha is not a finite number.");
	if (st->alpha == 0)
		st->alpha = 0.0;		/* -0 is 0 */
	return st;
}

/* Read the binary form: version, kind, two zero bytes, counts, alpha. */
PG_FUNCTION_INFO_V1(aisec_inequality_stats_recv);
Datum
aisec_inequality_stats_recv(PG_FUNCTION_ARGS)
{
	StringInfo	msg = (StringInfo) PG_GETARG_POINTER(0);
	int			len = msg->len - msg->cursor;

	PG_RETURN_POINTER(IneqDecodeBinary(pq_getmsgbytes(msg, len), len));
}

/* Write the binary form (0.1.0's serialized partial state). */
PG_FUNCTION_INFO_V1(aisec_inequality_stats_send);
Datum
aisec_inequality_stats_send(PG_FUNCTION_ARGS)
{
	const IneqState *st = (const IneqState *) PG_GETARG_POINTER(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, INEQ_FORMAT_VERSION);
	pq_sendbyte(&buf, INEQ_KIND);
	pq_sendint16(&buf, 0);
	for (int b = 0; b < 3; b++)
		pq_sendint64(&buf, st->count[b]);
	pq_sendfloat8(&buf, st->alpha);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Cast bytea (the binary form) to aisec.inequality_stats, validating it. */
PG_FUNCTION_INFO_V1(aisec_inequality_stats_from_bytea);
Datum
aisec_inequality_stats_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);

	PG_RETURN_POINTER(IneqDecodeBinary(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b)));
}

/* Print the JSON text form: alpha in shortest round-trip form, the counts. */
PG_FUNCTION_INFO_V1(aisec_inequality_stats_out);
Datum
aisec_inequality_stats_out(PG_FUNCTION_ARGS)
{
	const IneqState *st = (const IneqState *) PG_GETARG_POINTER(0);
	char		alpha[DOUBLE_SHORTEST_DECIMAL_LEN];

	double_to_shortest_decimal_buf(st->alpha, alpha);
	PG_RETURN_CSTRING(psprintf("{\"alpha\": %s, \"counts\": [" INT64_FORMAT ", "
							   INT64_FORMAT ", " INT64_FORMAT "]}",
							   alpha, st->count[0], st->count[1], st->count[2]));
}

/* Read the JSON text form, validating it like the binary form. */
PG_FUNCTION_INFO_V1(aisec_inequality_stats_in);
Datum
aisec_inequality_stats_in(PG_FUNCTION_ARGS)
{
	const char *tn = INEQ_TYPE_NAME;
	JsonbContainer *obj = state_json_parse(PG_GETARG_CSTRING(0), tn);
	double		alpha = state_json_f64(state_json_field(obj, "alpha", jbvNumeric, tn), tn, "alpha");
	JsonbValue *counts = state_json_field(obj, "counts", jbvBinary, tn);
	IneqState  *st = palloc(sizeof(IneqState));

	if (state_json_length(counts) != 3)
		state_json_bad_input(tn, "\"counts\" must be an array of three counts: rows with benefit 0, 1 and 2.");
	for (int b = 0; b < 3; b++)
		st->count[b] = state_json_count(state_json_element(counts, b, jbvNumeric, tn, "counts"),
										tn, "counts");
	st->alpha = alpha == 0 ? 0.0 : alpha;
	AssertCheckIneqState(st);
	PG_RETURN_POINTER(st);
}
