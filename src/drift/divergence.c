/*
 * divergence.c
 *		Drift measures between two distributions, each given as an
 *		aisec.histogram_stats (same bins) or an aisec.category_stats
 *		(categories aligned by value): the population stability index, the
 *		Kullback-Leibler and Jensen-Shannon divergences, the two-sample
 *		Kolmogorov-Smirnov statistic; and class imbalance of one
 *		distribution.  Formulas and conventions: doc/drift.md.
 *
 * Proportions are count / total.  Bins empty in both distributions are
 * dropped first.  PSI and KL are infinite when a bin is empty on one side
 * only; by default such bins are smoothed: every proportion below epsilon
 * (1e-4) is raised to epsilon and each distribution is renormalized to sum
 * to 1, so the results are the textbook formulas whenever no bin is empty on
 * one side only.  With epsilon = 0 no smoothing is done
 * and an infinite result is returned as SQL NULL.  Natural logarithms.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"

#include "category.h"
#include "divergence.h"
#include "histogram.h"
#include "core/core.h"

/* Two count vectors over the same bins (categories aligned by label). */
typedef struct AlignedCounts
{
	int			k;				/* bins */
	const int64 *a;				/* first distribution's counts */
	const int64 *b;				/* second distribution's counts */
	int64		na;				/* sum of a, > 0 */
	int64		nb;				/* sum of b, > 0 */
} AlignedCounts;

/* Refuse a smoothing epsilon outside [0, 1). */
static double
CheckEpsilon(double eps)
{
	if (isnan(eps) || eps < 0.0 || eps >= 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("smoothing epsilon must be at least 0 and less than 1"),
				 errdetail("The value given was %g.", eps)));
	return eps;
}

/* The kind tag of a statistics-state argument (0 if too short to have one). */
static char
StateKind(const struct varlena *v)
{
	return VARSIZE_ANY_EXHDR(v) >= 2 ? VARDATA_ANY(v)[1] : 0;
}

/* Align two category counts by value: the union of categories, in byte order. */
static void
AlignCategories(const CategoryView *p, const CategoryView *q, AlignedCounts *out)
{
	int64	   *a = palloc((Size) (p->k + q->k) * sizeof(int64));
	int64	   *b = palloc((Size) (p->k + q->k) * sizeof(int64));
	uint32		i = 0;
	uint32		j = 0;
	int			k = 0;

	while (i < p->k || j < q->k)
	{
		int			c;

		if (i == p->k)
			c = 1;
		else if (j == q->k)
			c = -1;
		else
			c = label_cmp(p->labels[i], p->lens[i], q->labels[j], q->lens[j]);
		a[k] = (c <= 0) ? p->counts[i++] : 0;
		b[k] = (c >= 0) ? q->counts[j++] : 0;
		k++;
	}
	out->k = k;
	out->a = a;
	out->b = b;
	out->na = p->n;
	out->nb = q->n;
}

/*
 * Drop bins empty in both distributions: they carry no information, change
 * no measure, and must not receive smoothing mass (a histogram's underflow
 * and overflow bins are usually empty on both sides).
 */
static void
DropEmptyBins(AlignedCounts *ac)
{
	int64	   *a = palloc(ac->k * sizeof(int64));
	int64	   *b = palloc(ac->k * sizeof(int64));
	int			k = 0;

	for (int i = 0; i < ac->k; i++)
		if (ac->a[i] != 0 || ac->b[i] != 0)
		{
			a[k] = ac->a[i];
			b[k] = ac->b[i];
			k++;
		}
	ac->k = k;
	ac->a = a;
	ac->b = b;
}

/*
 * Decode two distribution arguments (both histograms with the same bins, or
 * both category counts) into aligned count vectors.
 */
static void
GetAlignedArgs(FunctionCallInfo fcinfo, AlignedCounts *out)
{
	struct varlena *v1 = PG_GETARG_VARLENA_PP(0);
	struct varlena *v2 = PG_GETARG_VARLENA_PP(1);

	if (StateKind(v1) == STATE_KIND_CATEGORIES)
	{
		CategoryView p;
		CategoryView q;

		category_decode(v1, &p);
		category_decode(v2, &q);
		AlignCategories(&p, &q, out);
	}
	else
	{
		HistogramView p;
		HistogramView q;

		histogram_decode(v1, &p);
		histogram_decode(v2, &q);
		if (p.lower != q.lower || p.upper != q.upper || p.bins != q.bins)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("histograms have different bins"),
					 errdetail("The first covers [%g, %g) with bin count %d; the second covers [%g, %g) with bin count %d.",
							   p.lower, p.upper, p.bins, q.lower, q.upper, q.bins),
					 errhint("Build both histograms with the same lower bound, upper bound and bin count.")));
		out->k = p.bins + 2;
		out->a = p.counts;
		out->b = q.counts;
		out->na = p.n;
		out->nb = q.n;
	}
	DropEmptyBins(out);
}

/* Proportions of counts, smoothed when eps > 0 (raised to eps, renormalized). */
static double *
Proportions(const int64 *counts, int64 n, int k, double eps)
{
	double	   *p = palloc(k * sizeof(double));
	double		sum = 0.0;

	for (int i = 0; i < k; i++)
	{
		p[i] = (double) counts[i] / (double) n;
		if (eps > 0.0)
		{
			p[i] = Max(p[i], eps);
			sum += p[i];
		}
	}
	if (eps > 0.0)
		for (int i = 0; i < k; i++)
			p[i] /= sum;
	return p;
}

/* Population stability index: sum of (actual - expected) ln(actual / expected). */
PG_FUNCTION_INFO_V1(aisec_psi);
Datum
aisec_psi(PG_FUNCTION_ARGS)
{
	double		eps = CheckEpsilon(PG_GETARG_FLOAT8(2));
	AlignedCounts ac;
	double	   *e;
	double	   *a;
	double		sum = 0.0;

	GetAlignedArgs(fcinfo, &ac);
	e = Proportions(ac.a, ac.na, ac.k, eps);
	a = Proportions(ac.b, ac.nb, ac.k, eps);
	for (int i = 0; i < ac.k; i++)
	{
		if (e[i] == a[i])
			continue;
		if (e[i] == 0.0 || a[i] == 0.0)
			PG_RETURN_NULL();	/* infinite: empty on one side, no smoothing */
		sum += (a[i] - e[i]) * log(a[i] / e[i]);
	}
	PG_RETURN_FLOAT8(Max(sum, 0.0));
}

/* Kullback-Leibler divergence D(p || q) = sum of p ln(p / q). */
PG_FUNCTION_INFO_V1(aisec_kl_divergence);
Datum
aisec_kl_divergence(PG_FUNCTION_ARGS)
{
	double		eps = CheckEpsilon(PG_GETARG_FLOAT8(2));
	AlignedCounts ac;
	double	   *p;
	double	   *q;
	double		sum = 0.0;

	GetAlignedArgs(fcinfo, &ac);
	p = Proportions(ac.a, ac.na, ac.k, eps);
	q = Proportions(ac.b, ac.nb, ac.k, eps);
	for (int i = 0; i < ac.k; i++)
	{
		if (p[i] == 0.0)
			continue;			/* 0 ln 0 = 0 */
		if (q[i] == 0.0)
			PG_RETURN_NULL();	/* infinite: q empty where p is not */
		sum += p[i] * log(p[i] / q[i]);
	}
	PG_RETURN_FLOAT8(Max(sum, 0.0));
}

/* Jensen-Shannon divergence: (D(p || m) + D(q || m)) / 2, m = (p + q) / 2. */
PG_FUNCTION_INFO_V1(aisec_js_divergence);
Datum
aisec_js_divergence(PG_FUNCTION_ARGS)
{
	AlignedCounts ac;
	double	   *p;
	double	   *q;
	double		sum = 0.0;

	GetAlignedArgs(fcinfo, &ac);
	p = Proportions(ac.a, ac.na, ac.k, 0.0);
	q = Proportions(ac.b, ac.nb, ac.k, 0.0);
	for (int i = 0; i < ac.k; i++)
	{
		double		m = (p[i] + q[i]) / 2.0;

		if (p[i] > 0.0)
			sum += p[i] * log(p[i] / m);
		if (q[i] > 0.0)
			sum += q[i] * log(q[i] / m);
	}
	PG_RETURN_FLOAT8(Min(Max(sum / 2.0, 0.0), M_LN2));
}

/* Two-sample Kolmogorov-Smirnov D between histograms, at the bin edges. */
PG_FUNCTION_INFO_V1(aisec_ks_statistic);
Datum
aisec_ks_statistic(PG_FUNCTION_ARGS)
{
	AlignedCounts ac;
	int64		ca = 0;
	int64		cb = 0;
	double		d = 0.0;

	GetAlignedArgs(fcinfo, &ac);
	for (int i = 0; i < ac.k; i++)
	{
		ca += ac.a[i];
		cb += ac.b[i];
		d = Max(d, fabs((double) ca / (double) ac.na - (double) cb / (double) ac.nb));
	}
	PG_RETURN_FLOAT8(d);
}

/* qsort comparator: doubles in PostgreSQL's order (NaN last). */
static int
CompareFloat8(const void *a, const void *b)
{
	return float8_cmp_internal(*(const double *) a, *(const double *) b);
}

/* The non-NULL elements of a float8[] argument, sorted; *n is their number. */
static double *
SortedValues(ArrayType *arr, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	double	   *v;

	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &nelems);
	v = palloc(Max(nelems, 1) * sizeof(double));
	*n = 0;
	for (int i = 0; i < nelems; i++)
		if (!nulls[i])
			v[(*n)++] = DatumGetFloat8(elems[i]);
	qsort(v, *n, sizeof(double), CompareFloat8);
	return v;
}

/* Exact two-sample Kolmogorov-Smirnov D = max |F1(x) - F2(x)| over raw values. */
PG_FUNCTION_INFO_V1(aisec_ks_statistic_values);
Datum
aisec_ks_statistic_values(PG_FUNCTION_ARGS)
{
	int			n1;
	int			n2;
	double	   *x = SortedValues(PG_GETARG_ARRAYTYPE_P(0), &n1);
	double	   *y = SortedValues(PG_GETARG_ARRAYTYPE_P(1), &n2);
	int			i = 0;
	int			j = 0;
	double		d = 0.0;

	if (n1 == 0 || n2 == 0)
		PG_RETURN_NULL();
	while (i < n1 && j < n2)
	{
		/* Step both empirical CDFs past the next distinct value. */
		double		v = (float8_cmp_internal(x[i], y[j]) <= 0) ? x[i] : y[j];

		while (i < n1 && float8_cmp_internal(x[i], v) == 0)
			i++;
		while (j < n2 && float8_cmp_internal(y[j], v) == 0)
			j++;
		d = Max(d, fabs((double) i / n1 - (double) j / n2));
	}
	PG_RETURN_FLOAT8(d);
}

/* Class imbalance of a label distribution (see doc/drift.md). */
PG_FUNCTION_INFO_V1(aisec_class_imbalance);
Datum
aisec_class_imbalance(PG_FUNCTION_ARGS)
{
	CategoryView c;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {false, false, false, false, false, false};
	uint32		imax = 0;
	uint32		imin = 0;
	double		h = 0.0;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	category_decode(PG_GETARG_VARLENA_PP(0), &c);
	for (uint32 i = 0; i < c.k; i++)
	{
		double		p = (double) c.counts[i] / (double) c.n;

		if (c.counts[i] > c.counts[imax])
			imax = i;
		if (c.counts[i] < c.counts[imin])
			imin = i;
		h -= p * log(p);
	}
	values[0] = Int32GetDatum((int32) c.k);
	values[1] = PointerGetDatum(cstring_to_text_with_len(c.labels[imax], c.lens[imax]));
	values[2] = PointerGetDatum(cstring_to_text_with_len(c.labels[imin], c.lens[imin]));
	if (c.k >= 2)
	{
		double		big = (double) c.counts[imax];
		double		small = (double) c.counts[imin];

		values[3] = Float8GetDatum(big / small);
		values[4] = Float8GetDatum((big - small) / (big + small));
		values[5] = Float8GetDatum(Min(Max(h / log((double) c.k), 0.0), 1.0));
	}
	else
		nulls[3] = nulls[4] = nulls[5] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
