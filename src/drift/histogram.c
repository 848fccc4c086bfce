/*
 * histogram.c
 *		The fixed-bin histogram aggregate aisec.histogram(value, lower, upper,
 *		bins) and its state type aisec.histogram_stats.
 *
 * Bins are equal-width over [lower, upper) and numbered like width_bucket():
 * slot 0 counts values below lower, slots 1..bins the bins, slot bins + 1
 * values at or above upper; NaN goes to slot bins + 1, as PostgreSQL sorts
 * NaN above every number.  NULL values are skipped.  lower, upper and bins
 * must be the same for every row (and for every partial state merged).
 *
 * The aggregates' transition type is aisec.histogram_stats: the state lives
 * in an expanded object (core/aggbox.c), updated in place, and is flattened
 * to the type's bytes only when a partial state leaves its aggregate
 * (parallel workers, Citus workers).  A state exists only once a value has
 * been counted, so every state flattens to a valid value (n > 0).
 *
 * Invariants (AssertCheckHistogramState): lower < upper, both finite;
 * 1 <= bins <= HISTOGRAM_MAX_BINS; every count >= 0; n is their sum.
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "histogram.h"
#include "core/core.h"

/* The in-memory aggregate state. */
typedef struct HistogramState
{
	double		lower;
	double		upper;
	int32		bins;
	int64		n;
	int64		counts[FLEXIBLE_ARRAY_MEMBER];	/* bins + 2 slots */
} HistogramState;

/* Check the state's invariants under USE_ASSERT_CHECKING. */
static void
AssertCheckHistogramState(const HistogramState *st, bool full)
{
#ifdef USE_ASSERT_CHECKING
	Assert(isfinite(st->lower) && isfinite(st->upper) && st->lower < st->upper);
	Assert(st->bins >= 1 && st->bins <= HISTOGRAM_MAX_BINS);
	Assert(st->n >= 0);
	if (full)
	{
		int64		total = 0;

		for (int32 i = 0; i < st->bins + 2; i++)
		{
			Assert(st->counts[i] >= 0);
			total += st->counts[i];
		}
		Assert(total == st->n);
	}
#endif
}

/* Refuse bounds or a bin count that cannot define a histogram. */
static void
CheckHistogramShape(double lower, double upper, int32 bins)
{
	if (!isfinite(lower) || !isfinite(upper))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram bounds must be finite numbers")));
	if (!(lower < upper))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram lower bound must be less than its upper bound"),
				 errdetail("The bounds given were %g and %g.", lower, upper)));
	if (bins < 1 || bins > HISTOGRAM_MAX_BINS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histogram bin count must be between 1 and %d", HISTOGRAM_MAX_BINS),
				 errdetail("The value given was %d.", bins)));
}

/* Create an empty state in cxt. */
static HistogramState *
CreateHistogramState(MemoryContext cxt, double lower, double upper, int32 bins)
{
	HistogramState *st;

	CheckHistogramShape(lower, upper, bins);
	st = MemoryContextAllocZero(cxt, offsetof(HistogramState, counts) +
								(Size) (bins + 2) * sizeof(int64));
	/* -0 and 0 are the same bound; keep +0, the one JSON text can carry. */
	st->lower = lower == 0.0 ? 0.0 : lower;
	st->upper = upper == 0.0 ? 0.0 : upper;
	st->bins = bins;
	return st;
}

/* Refuse to merge histograms with different bins. */
static void
CheckSameShape(double lower1, double upper1, int32 bins1,
			   double lower2, double upper2, int32 bins2)
{
	if (lower1 != lower2 || upper1 != upper2 || bins1 != bins2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("histograms have different bins"),
				 errdetail("One covers [%g, %g) with bin count %d; the other covers [%g, %g) with bin count %d.",
						   lower1, upper1, bins1, lower2, upper2, bins2),
				 errhint("Build every histogram with the same lower bound, upper bound and bin count.")));
}

/* Add counts (bins + 2 slots) into the state, refusing overflow. */
static void
AddCounts(HistogramState *st, const int64 *counts)
{
	for (int32 i = 0; i < st->bins + 2; i++)
	{
		int64		c = counts[i];	/* counts may be st->counts itself */

		if (pg_add_s64_overflow(st->counts[i], c, &st->counts[i]) ||
			pg_add_s64_overflow(st->n, c, &st->n))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("histogram count is out of range")));
	}
}

/* Encode a state as a varlena (the serialized and stored form). */
static struct varlena *
EncodeHistogram(const HistogramState *st)
{
	StringInfoData buf;

	state_write_begin(&buf, STATE_KIND_HISTOGRAM);
	state_write_f64(&buf, st->lower);
	state_write_f64(&buf, st->upper);
	state_write_u32(&buf, (uint32) st->bins);
	for (int32 i = 0; i < st->bins + 2; i++)
		state_write_i64(&buf, st->counts[i]);
	return state_write_end(&buf);
}

/* Decode and validate a serialized histogram. */
void
histogram_decode(const struct varlena *v, HistogramView *h)
{
	StateReader r;
	uint32		bins;

	state_read_begin(&r, v, STATE_KIND_HISTOGRAM, HISTOGRAM_TYPE_NAME);
	h->lower = state_read_f64(&r);
	h->upper = state_read_f64(&r);
	bins = state_read_u32(&r);
	if (!isfinite(h->lower) || !isfinite(h->upper) || !(h->lower < h->upper))
		state_corrupt(r.type_name, "The bounds are not finite and increasing.");
	if (bins < 1 || bins > HISTOGRAM_MAX_BINS)
		state_corrupt(r.type_name, "The bin count is out of range.");
	h->bins = (int32) bins;
	if (state_read_left(&r) != (Size) (bins + 2) * sizeof(int64))
		state_corrupt(r.type_name, "The number of counts does not match the bin count.");
	h->counts = palloc((Size) (bins + 2) * sizeof(int64));
	h->n = 0;
	for (uint32 i = 0; i < bins + 2; i++)
	{
		h->counts[i] = state_read_count(&r);
		if (pg_add_s64_overflow(h->n, h->counts[i], &h->n))
			state_corrupt(r.type_name, "The total count is out of range.");
	}
	state_read_end(&r);
	if (h->n == 0)
		state_corrupt(r.type_name, "The value counts no values.");
}

/* Build a state in cxt from a decoded histogram. */
static HistogramState *
StateFromView(const HistogramView *h, MemoryContext cxt)
{
	HistogramState *st = CreateHistogramState(cxt, h->lower, h->upper, h->bins);

	AddCounts(st, h->counts);
	AssertCheckHistogramState(st, true);
	return st;
}

/* The slot (0 .. bins + 1) of a value, by width_bucket()'s rule. */
static inline int32
SlotOf(const HistogramState *st, double v)
{
	double		b;

	if (isnan(v))
		return st->bins + 1;
	if (v < st->lower)
		return 0;
	if (v >= st->upper)
		return st->bins + 1;
	b = (double) st->bins * (v - st->lower) / (st->upper - st->lower);

	/*
	 * Near the ends of the double range the product or the differences
	 * overflow (bins * 9e307, or 1e308 - -1.7e308): compute the same
	 * fraction from halves, which cannot overflow for finite bounds.
	 */
	if (!isfinite(b))
		b = (double) st->bins *
			((v / 2 - st->lower / 2) / (st->upper / 2 - st->lower / 2));

	/*
	 * lower <= v < upper puts b in [0, bins]; rounding can reach bins just
	 * below upper, which stays in the last bin.  Compare before converting:
	 * a double outside int32's range must never reach the cast.
	 */
	if (!(b >= 0.0))
		return 1;
	if (b >= (double) st->bins)
		return st->bins;
	return (int32) b + 1;
}

/* AggBox method: a state from a value's bytes, validated. */
static void *
HistogramBoxDecode(MemoryContext cxt, const struct varlena *flat)
{
	HistogramView h;

	histogram_decode(flat, &h);
	return StateFromView(&h, cxt);
}

/* AggBox method: the value's bytes of a state. */
static struct varlena *
HistogramBoxEncode(const void *state)
{
	AssertCheckHistogramState((const HistogramState *) state, true);
	return EncodeHistogram((const HistogramState *) state);
}

/* No create method: a histogram's state needs its bins, made by the caller. */
static const AggBoxMethods HistogramBoxMethods = {
	HISTOGRAM_TYPE_NAME,
	NULL,
	HistogramBoxDecode,
	HistogramBoxEncode
};

/*
 * The transition function's general case: a first row, a state that is not
 * yet this aggregate's box, NULL bounds, or bounds that differ from the
 * state's.  Kept out of line so that the per-row path below stays small.
 */
static pg_noinline Datum
HistogramTransfnSlow(FunctionCallInfo fcinfo)
{
	AggBox	   *box;
	HistogramState *st;
	double		lower;
	double		upper;
	int32		bins;

	if (PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("histogram bounds and bin count must not be null")));
	lower = PG_GETARG_FLOAT8(2);
	upper = PG_GETARG_FLOAT8(3);
	bins = PG_GETARG_INT32(4);
	if (PG_ARGISNULL(0))
	{
		CheckHistogramShape(lower, upper, bins);
		if (PG_ARGISNULL(1))
			PG_RETURN_NULL();
	}
	box = aggbox_for_update(fcinfo, 0, &HistogramBoxMethods);
	if (box->state == NULL)
		box->state = CreateHistogramState(aggbox_context(box), lower, upper, bins);
	st = (HistogramState *) box->state;
	if (lower != st->lower || upper != st->upper || bins != st->bins)
		CheckSameShape(st->lower, st->upper, st->bins, lower, upper, bins);
	if (!PG_ARGISNULL(1))
	{
		st->counts[SlotOf(st, PG_GETARG_FLOAT8(1))]++;
		st->n++;
	}
	AssertCheckHistogramState(st, false);
	PG_RETURN_DATUM(aggbox_result(box));
}

/*
 * Count one value; NULL values are skipped, NULL bounds are an error.  The
 * per-row path: the state is this aggregate's box and the bounds are the
 * state's; everything else is HistogramTransfnSlow's.
 */
PG_FUNCTION_INFO_V1(aisec_histogram_transfn);
Datum
aisec_histogram_transfn(PG_FUNCTION_ARGS)
{
	AggBox	   *box = aggbox_if_writable(fcinfo, 0, &HistogramBoxMethods);
	HistogramState *st;

	if (unlikely(box == NULL || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4)))
		return HistogramTransfnSlow(fcinfo);
	st = (HistogramState *) box->state;
	if (unlikely(PG_GETARG_FLOAT8(2) != st->lower || PG_GETARG_FLOAT8(3) != st->upper ||
				 PG_GETARG_INT32(4) != st->bins))
		return HistogramTransfnSlow(fcinfo);
	if (!PG_ARGISNULL(1))
	{
		st->counts[SlotOf(st, PG_GETARG_FLOAT8(1))]++;
		st->n++;
	}
	AssertCheckHistogramState(st, false);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Add a stored aisec.histogram_stats value to the state. */
PG_FUNCTION_INFO_V1(aisec_histogram_merge_transfn);
Datum
aisec_histogram_merge_transfn(PG_FUNCTION_ARGS)
{
	AggBox	   *box;
	HistogramState *st;
	HistogramView h;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	histogram_decode(PG_GETARG_VARLENA_PP(1), &h);
	box = aggbox_for_update(fcinfo, 0, &HistogramBoxMethods);
	if (box->state == NULL)
		box->state = CreateHistogramState(aggbox_context(box), h.lower, h.upper, h.bins);
	st = (HistogramState *) box->state;
	CheckSameShape(st->lower, st->upper, st->bins, h.lower, h.upper, h.bins);
	AddCounts(st, h.counts);
	AssertCheckHistogramState(st, true);
	PG_RETURN_DATUM(aggbox_result(box));
}

/* Merge two partial states, whose bins must be the same (the second is only read). */
PG_FUNCTION_INFO_V1(aisec_histogram_combinefn);
Datum
aisec_histogram_combinefn(PG_FUNCTION_ARGS)
{
	const HistogramState *s2;
	AggBox	   *box;
	HistogramState *s1;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	s2 = (const HistogramState *) aggbox_read(fcinfo, 1, &HistogramBoxMethods);
	box = aggbox_for_update(fcinfo, 0, &HistogramBoxMethods);
	if (box->state == NULL)
		box->state = CreateHistogramState(aggbox_context(box), s2->lower, s2->upper, s2->bins);
	s1 = (HistogramState *) box->state;
	CheckSameShape(s1->lower, s1->upper, s1->bins, s2->lower, s2->upper, s2->bins);
	AddCounts(s1, s2->counts);
	AssertCheckHistogramState(s1, true);
	PG_RETURN_DATUM(aggbox_result(box));
}

/*
 * Return the histogram as a plain aisec.histogram_stats; NULL when no
 * non-NULL value was seen.  Reads the state only (window aggregates call it
 * again after later rows).
 */
PG_FUNCTION_INFO_V1(aisec_histogram_finalfn);
Datum
aisec_histogram_finalfn(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_POINTER(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(0)));
}

/* Read the JSON text form. */
PG_FUNCTION_INFO_V1(aisec_histogram_stats_in);
Datum
aisec_histogram_stats_in(PG_FUNCTION_ARGS)
{
	const char *tn = HISTOGRAM_TYPE_NAME;
	JsonbContainer *obj = state_json_parse(PG_GETARG_CSTRING(0), tn);
	double		lower = state_json_f64(state_json_field(obj, "lower", jbvNumeric, tn), tn, "lower");
	double		upper = state_json_f64(state_json_field(obj, "upper", jbvNumeric, tn), tn, "upper");
	int64		bins = state_json_count(state_json_field(obj, "bins", jbvNumeric, tn), tn, "bins");
	int64		n = state_json_count(state_json_field(obj, "n", jbvNumeric, tn), tn, "n");
	JsonbValue *counts = state_json_field(obj, "counts", jbvBinary, tn);
	HistogramState *st;
	HistogramView h;
	struct varlena *v;

	if (!(lower < upper) || bins < 1 || bins > HISTOGRAM_MAX_BINS)
		state_json_bad_input(tn, psprintf("\"lower\" must be less than \"upper\" and \"bins\" between 1 and %d.",
									HISTOGRAM_MAX_BINS));
	if (state_json_length(counts) != bins)
		state_json_bad_input(tn, "\"counts\" must have one count per bin.");
	st = CreateHistogramState(CurrentMemoryContext, lower, upper, (int32) bins);
	st->counts[0] = state_json_count(state_json_field(obj, "underflow", jbvNumeric, tn), tn, "underflow");
	st->counts[bins + 1] = state_json_count(state_json_field(obj, "overflow", jbvNumeric, tn), tn, "overflow");
	for (int32 i = 0; i < bins; i++)
		st->counts[i + 1] = state_json_count(state_json_element(counts, i, jbvNumeric, tn, "counts"),
										   tn, "counts");
	st->n = 0;
	for (int32 i = 0; i < bins + 2; i++)
		if (pg_add_s64_overflow(st->n, st->counts[i], &st->n))
			state_json_bad_input(tn, "The total count is out of range.");
	if (st->n != n)
		state_json_bad_input(tn, "\"n\" is not the sum of the counts.");
	v = EncodeHistogram(st);
	histogram_decode(v, &h);
	PG_RETURN_POINTER(v);
}

/* Print a histogram as JSON. */
PG_FUNCTION_INFO_V1(aisec_histogram_stats_out);
Datum
aisec_histogram_stats_out(PG_FUNCTION_ARGS)
{
	HistogramView h;
	StringInfoData buf;

	histogram_decode(PG_GETARG_VARLENA_PP(0), &h);
	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"n\": " INT64_FORMAT ", \"lower\": ", h.n);
	state_json_append_f64(&buf, h.lower);
	appendStringInfoString(&buf, ", \"upper\": ");
	state_json_append_f64(&buf, h.upper);
	appendStringInfo(&buf, ", \"bins\": %d, \"underflow\": " INT64_FORMAT ", \"counts\": [",
					 h.bins, h.counts[0]);
	for (int32 i = 1; i <= h.bins; i++)
		appendStringInfo(&buf, i > 1 ? ", " INT64_FORMAT : INT64_FORMAT, h.counts[i]);
	appendStringInfo(&buf, "], \"overflow\": " INT64_FORMAT "}", h.counts[h.bins + 1]);
	PG_RETURN_CSTRING(buf.data);
}

/* Read the binary form (the serialized state), validating it. */
PG_FUNCTION_INFO_V1(aisec_histogram_stats_recv);
Datum
aisec_histogram_stats_recv(PG_FUNCTION_ARGS)
{
	struct varlena *v = state_recv_bytes((StringInfo) PG_GETARG_POINTER(0));
	HistogramView	h;

	histogram_decode(v, &h);
	PG_RETURN_POINTER(v);
}

/* Write the binary form (the serialized state). */
PG_FUNCTION_INFO_V1(aisec_histogram_stats_send);
Datum
aisec_histogram_stats_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_VARLENA_P(0);
	HistogramView h;

	histogram_decode(v, &h);
	PG_RETURN_BYTEA_P(v);
}

/* List the slots: bin number, its bounds, count and proportion. */
PG_FUNCTION_INFO_V1(aisec_histogram_bins);
Datum
aisec_histogram_bins(PG_FUNCTION_ARGS)
{
	TupleDesc	srfdesc;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HistogramView h;
	double		width;

	(void) aisec_begin_srf(fcinfo, &srfdesc);
	histogram_decode(PG_GETARG_VARLENA_PP(0), &h);
	width = (h.upper - h.lower) / h.bins;
	for (int32 i = 0; i <= h.bins + 1; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = Int32GetDatum(i);
		values[1] = Float8GetDatum(i == 0 ? -get_float8_infinity() :
								   i == h.bins + 1 ? h.upper : h.lower + (i - 1) * width);
		values[2] = Float8GetDatum(i == 0 ? h.lower :
								   i == h.bins + 1 ? get_float8_infinity() :
								   i == h.bins ? h.upper : h.lower + i * width);
		values[3] = Int64GetDatum(h.counts[i]);
		values[4] = Float8GetDatum((double) h.counts[i] / (double) h.n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* Cast bytea (the binary form) to aisec.histogram_stats, validating it. */
PG_FUNCTION_INFO_V1(aisec_histogram_stats_from_bytea);
Datum
aisec_histogram_stats_from_bytea(PG_FUNCTION_ARGS)
{
	bytea	   *v = PG_GETARG_BYTEA_P_COPY(0);
	HistogramView	view;

	histogram_decode((struct varlena *) v, &view);
	PG_RETURN_POINTER(v);
}
