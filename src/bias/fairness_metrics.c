/*
 * fairness_metrics.c
 *		Rates and fairness metrics derived from an aisec.fairness_stats value:
 *		per-group confusion-matrix rates, Fairlearn-style between-group
 *		differences and ratios, AIF360-style unprivileged-vs-privileged
 *		metrics, and Wilson score intervals.
 *
 * Every rate is a ratio of weight sums over some of a group's nine cells
 * (see rate_cells); a rate whose denominator weight is 0 is "invalid" and
 * reaches SQL as NULL, as does every metric built on an invalid rate.  The
 * formulas are listed in doc/bias.md.
 *
 * Conventions.  Fairlearn (no privileged group): difference = max - min over
 * all groups (>= 0), ratio = min / max (<= 1).  AIF360 (signed): the
 * unprivileged group's value minus (or over) the privileged group's.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"

#include "fairness.h"

#define BIT(t, p)	(1 << FAIR_CELL(FAIR_##t, FAIR_##p))
#define KNOWN4		(BIT(TRUE, TRUE) | BIT(TRUE, FALSE) | BIT(FALSE, TRUE) | BIT(FALSE, FALSE))

/* Numerator and denominator cells of each rate. */
static const struct
{
	uint16		num;
	uint16		den;
}			rate_cells[] =
{
	[FAIR_SELECTION_RATE] = {
		BIT(FALSE, TRUE) | BIT(TRUE, TRUE) | BIT(UNKNOWN, TRUE),
		BIT(FALSE, TRUE) | BIT(TRUE, TRUE) | BIT(UNKNOWN, TRUE) |
		BIT(FALSE, FALSE) | BIT(TRUE, FALSE) | BIT(UNKNOWN, FALSE)
	},
	[FAIR_BASE_RATE] = {
		BIT(TRUE, FALSE) | BIT(TRUE, TRUE) | BIT(TRUE, UNKNOWN),
		BIT(TRUE, FALSE) | BIT(TRUE, TRUE) | BIT(TRUE, UNKNOWN) |
		BIT(FALSE, FALSE) | BIT(FALSE, TRUE) | BIT(FALSE, UNKNOWN)
	},
	[FAIR_TPR] = {BIT(TRUE, TRUE), BIT(TRUE, TRUE) | BIT(TRUE, FALSE)},
	[FAIR_FPR] = {BIT(FALSE, TRUE), BIT(FALSE, TRUE) | BIT(FALSE, FALSE)},
	[FAIR_FNR] = {BIT(TRUE, FALSE), BIT(TRUE, TRUE) | BIT(TRUE, FALSE)},
	[FAIR_TNR] = {BIT(FALSE, FALSE), BIT(FALSE, TRUE) | BIT(FALSE, FALSE)},
	[FAIR_PPV] = {BIT(TRUE, TRUE), BIT(TRUE, TRUE) | BIT(FALSE, TRUE)},
	[FAIR_NPV] = {BIT(FALSE, FALSE), BIT(FALSE, FALSE) | BIT(TRUE, FALSE)},
	[FAIR_FDR] = {BIT(FALSE, TRUE), BIT(TRUE, TRUE) | BIT(FALSE, TRUE)},
	[FAIR_FOR] = {BIT(TRUE, FALSE), BIT(FALSE, FALSE) | BIT(TRUE, FALSE)},
	[FAIR_ACCURACY] = {BIT(TRUE, TRUE) | BIT(FALSE, FALSE), KNOWN4},
	[FAIR_ERROR_RATE] = {BIT(TRUE, FALSE) | BIT(FALSE, TRUE), KNOWN4},
};

/* Compute one rate of a group, with the effective size of its denominator. */
FairRateValue
fair_rate(const FairGroup *g, FairRate which)
{
	FairRateValue r = {false, 0, 0};
	double		num = 0,
				den = 0,
				den2 = 0;

	for (int c = 0; c < FAIR_NCELLS; c++)
	{
		if (rate_cells[which].num & (1 << c))
			num += g->cell[c].w;
		if (rate_cells[which].den & (1 << c))
		{
			den += g->cell[c].w;
			den2 += g->cell[c].w2;
		}
	}
	if (den > 0)
	{
		r.valid = true;
		r.rate = num / den;
		/* Kish: (sum w)^2 / sum w^2; equals the row count when unweighted */
		r.n_eff = den2 > 0 ? den * den / den2 : 0;
	}
	return r;
}

/* Standard normal distribution function. */
static double
NormalCdf(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/*
 * Return the standard normal quantile of p in (0, 1): an Abramowitz-Stegun
 * 26.2.23 start (error < 4.5e-4), polished by Newton steps on erfc.
 */
double
fair_normal_quantile(double p)
{
	double		q = p < 0.5 ? p : 1 - p;
	double		t = sqrt(-2 * log(q));
	double		x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
		(1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);

	/* x is now the upper quantile of q; iterate on Phi(-x) = q */
	x = -x;
	for (int i = 0; i < 8; i++)
	{
		double		pdf = exp(-0.5 * x * x) / sqrt(2 * M_PI);
		double		step = (NormalCdf(x) - q) / pdf;

		x -= step;
		if (fabs(step) < 1e-15 * Max(1.0, fabs(x)))
			break;
	}
	return p < 0.5 ? x : -x;
}

/* Wilson score interval for a valid rate at normal quantile z. */
void
fair_wilson(const FairRateValue *r, double z, double *low, double *high)
{
	double		n = r->n_eff,
				p = r->rate,
				z2 = z * z,
				denom = 1 + z2 / n,
				center = (p + z2 / (2 * n)) / denom,
				half = z * sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom;

	*low = p <= 0 ? 0 : Max(0.0, center - half);
	*high = p >= 1 ? 1 : Min(1.0, center + half);
}

/* Return one rate of the group named by argument 1 (shared SQL body). */
static Datum
GroupRate(FunctionCallInfo fcinfo, FairRate which)
{
	FairStats  *stats;
	FairRateValue r;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	stats = fair_stats_arg(fcinfo, 0);
	r = fair_rate(fair_find_group(stats, fcinfo, 1), which);
	if (!r.valid)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r.rate);
}

/* P(y_pred) in a group. */
PG_FUNCTION_INFO_V1(aisec_selection_rate);
Datum
aisec_selection_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_SELECTION_RATE);
}

/* P(y_true) in a group. */
PG_FUNCTION_INFO_V1(aisec_base_rate);
Datum
aisec_base_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_BASE_RATE);
}

/* TP / (TP + FN) in a group. */
PG_FUNCTION_INFO_V1(aisec_true_positive_rate);
Datum
aisec_true_positive_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_TPR);
}

/* FP / (FP + TN) in a group. */
PG_FUNCTION_INFO_V1(aisec_false_positive_rate);
Datum
aisec_false_positive_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_FPR);
}

/* FN / (TP + FN) in a group. */
PG_FUNCTION_INFO_V1(aisec_false_negative_rate);
Datum
aisec_false_negative_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_FNR);
}

/* TN / (FP + TN) in a group. */
PG_FUNCTION_INFO_V1(aisec_true_negative_rate);
Datum
aisec_true_negative_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_TNR);
}

/* TP / (TP + FP) in a group. */
PG_FUNCTION_INFO_V1(aisec_positive_predictive_value);
Datum
aisec_positive_predictive_value(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_PPV);
}

/* TN / (TN + FN) in a group. */
PG_FUNCTION_INFO_V1(aisec_negative_predictive_value);
Datum
aisec_negative_predictive_value(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_NPV);
}

/* FP / (TP + FP) in a group. */
PG_FUNCTION_INFO_V1(aisec_false_discovery_rate);
Datum
aisec_false_discovery_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_FDR);
}

/* FN / (TN + FN) in a group. */
PG_FUNCTION_INFO_V1(aisec_false_omission_rate);
Datum
aisec_false_omission_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_FOR);
}

/* (TP + TN) / (TP + FP + FN + TN) in a group. */
PG_FUNCTION_INFO_V1(aisec_accuracy);
Datum
aisec_accuracy(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_ACCURACY);
}

/* (FP + FN) / (TP + FP + FN + TN) in a group. */
PG_FUNCTION_INFO_V1(aisec_error_rate);
Datum
aisec_error_rate(PG_FUNCTION_ARGS)
{
	return GroupRate(fcinfo, FAIR_ERROR_RATE);
}

/*
 * Find the smallest and largest value of a rate over all groups; false if
 * any group's rate is invalid.
 */
static bool
RateRange(const FairStats *stats, FairRate which, double *min, double *max)
{
	for (int i = 0; i < stats->ngroups; i++)
	{
		FairRateValue r = fair_rate(&stats->groups[i], which);

		if (!r.valid)
			return false;
		if (i == 0 || r.rate < *min)
			*min = r.rate;
		if (i == 0 || r.rate > *max)
			*max = r.rate;
	}
	return true;
}

/* max - min of a rate over groups; false when undefined. */
static bool
RateDifference(const FairStats *stats, FairRate which, double *result)
{
	double		min,
				max;

	if (!RateRange(stats, which, &min, &max))
		return false;
	*result = max - min;
	return true;
}

/* min / max of a rate over groups; false when undefined (max = 0). */
static bool
RateRatio(const FairStats *stats, FairRate which, double *result)
{
	double		min,
				max;

	if (!RateRange(stats, which, &min, &max) || max <= 0)
		return false;
	*result = min / max;
	return true;
}

/* Shared body of the Fairlearn-style metrics over one or two rates. */
static Datum
BetweenGroups(FunctionCallInfo fcinfo, FairRate a, FairRate b, bool ratio)
{
	FairStats  *stats;
	double		x,
				y;
	bool		ok;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	stats = fair_stats_arg(fcinfo, 0);
	ok = ratio ? RateRatio(stats, a, &x) : RateDifference(stats, a, &x);
	if (ok && a != b)
	{
		/* worst case of the two: the larger difference, the smaller ratio */
		ok = ratio ? RateRatio(stats, b, &y) : RateDifference(stats, b, &y);
		x = ratio ? Min(x, y) : Max(x, y);
	}
	if (!ok)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(x);
}

/* Largest minus smallest selection rate over groups (Fairlearn). */
PG_FUNCTION_INFO_V1(aisec_demographic_parity_difference);
Datum
aisec_demographic_parity_difference(PG_FUNCTION_ARGS)
{
	return BetweenGroups(fcinfo, FAIR_SELECTION_RATE, FAIR_SELECTION_RATE, false);
}

/* Smallest over largest selection rate over groups (Fairlearn). */
PG_FUNCTION_INFO_V1(aisec_demographic_parity_ratio);
Datum
aisec_demographic_parity_ratio(PG_FUNCTION_ARGS)
{
	return BetweenGroups(fcinfo, FAIR_SELECTION_RATE, FAIR_SELECTION_RATE, true);
}

/* The larger of the TPR and FPR differences (Fairlearn). */
PG_FUNCTION_INFO_V1(aisec_equalized_odds_difference);
Datum
aisec_equalized_odds_difference(PG_FUNCTION_ARGS)
{
	return BetweenGroups(fcinfo, FAIR_TPR, FAIR_FPR, false);
}

/* The smaller of the TPR and FPR ratios (Fairlearn). */
PG_FUNCTION_INFO_V1(aisec_equalized_odds_ratio);
Datum
aisec_equalized_odds_ratio(PG_FUNCTION_ARGS)
{
	return BetweenGroups(fcinfo, FAIR_TPR, FAIR_FPR, true);
}

/* Largest minus smallest TPR over groups (Fairlearn). */
PG_FUNCTION_INFO_V1(aisec_equal_opportunity_difference);
Datum
aisec_equal_opportunity_difference(PG_FUNCTION_ARGS)
{
	return BetweenGroups(fcinfo, FAIR_TPR, FAIR_TPR, false);
}

/* Smallest over largest TPR over groups (Fairlearn). */
PG_FUNCTION_INFO_V1(aisec_equal_opportunity_ratio);
Datum
aisec_equal_opportunity_ratio(PG_FUNCTION_ARGS)
{
	return BetweenGroups(fcinfo, FAIR_TPR, FAIR_TPR, true);
}

/* The AIF360 comparisons of an unprivileged with a privileged group. */
typedef enum PairMetric
{
	PAIR_DISPARATE_IMPACT,
	PAIR_STATISTICAL_PARITY,
	PAIR_AVERAGE_ODDS,
	PAIR_AVERAGE_ABS_ODDS,
	PAIR_EQUAL_OPPORTUNITY
} PairMetric;

/* Shared body of the AIF360-style metrics: (s, unprivileged, privileged). */
static Datum
UnprivilegedVsPrivileged(FunctionCallInfo fcinfo, PairMetric metric)
{
	FairStats  *stats;
	const FairGroup *u,
			   *p;
	FairRateValue ru,
				rp,
				fu,
				fp;
	double		result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	stats = fair_stats_arg(fcinfo, 0);
	u = fair_find_group(stats, fcinfo, 1);
	p = fair_find_group(stats, fcinfo, 2);
	switch (metric)
	{
		case PAIR_DISPARATE_IMPACT:
		case PAIR_STATISTICAL_PARITY:
			ru = fair_rate(u, FAIR_SELECTION_RATE);
			rp = fair_rate(p, FAIR_SELECTION_RATE);
			if (!ru.valid || !rp.valid)
				PG_RETURN_NULL();
			if (metric == PAIR_STATISTICAL_PARITY)
				result = ru.rate - rp.rate;
			else if (rp.rate <= 0)
				PG_RETURN_NULL();
			else
				result = ru.rate / rp.rate;
			break;
		case PAIR_EQUAL_OPPORTUNITY:
			ru = fair_rate(u, FAIR_TPR);
			rp = fair_rate(p, FAIR_TPR);
			if (!ru.valid || !rp.valid)
				PG_RETURN_NULL();
			result = ru.rate - rp.rate;
			break;
		case PAIR_AVERAGE_ODDS:
		case PAIR_AVERAGE_ABS_ODDS:
			ru = fair_rate(u, FAIR_TPR);
			rp = fair_rate(p, FAIR_TPR);
			fu = fair_rate(u, FAIR_FPR);
			fp = fair_rate(p, FAIR_FPR);
			if (!ru.valid || !rp.valid || !fu.valid || !fp.valid)
				PG_RETURN_NULL();
			if (metric == PAIR_AVERAGE_ODDS)
				result = 0.5 * ((fu.rate - fp.rate) + (ru.rate - rp.rate));
			else
				result = 0.5 * (fabs(fu.rate - fp.rate) + fabs(ru.rate - rp.rate));
			break;
		default:
			elog(ERROR, "unknown fairness pair metric %d", (int) metric);
	}
	PG_RETURN_FLOAT8(result);
}

/* Selection rate of the unprivileged group over the privileged group's. */
PG_FUNCTION_INFO_V1(aisec_disparate_impact);
Datum
aisec_disparate_impact(PG_FUNCTION_ARGS)
{
	return UnprivilegedVsPrivileged(fcinfo, PAIR_DISPARATE_IMPACT);
}

/* Selection rate of the unprivileged group minus the privileged group's. */
PG_FUNCTION_INFO_V1(aisec_statistical_parity_difference);
Datum
aisec_statistical_parity_difference(PG_FUNCTION_ARGS)
{
	return UnprivilegedVsPrivileged(fcinfo, PAIR_STATISTICAL_PARITY);
}

/* Mean of the FPR and TPR differences, unprivileged minus privileged. */
PG_FUNCTION_INFO_V1(aisec_average_odds_difference);
Datum
aisec_average_odds_difference(PG_FUNCTION_ARGS)
{
	return UnprivilegedVsPrivileged(fcinfo, PAIR_AVERAGE_ODDS);
}

/* Mean of the absolute FPR and TPR differences. */
PG_FUNCTION_INFO_V1(aisec_average_abs_odds_difference);
Datum
aisec_average_abs_odds_difference(PG_FUNCTION_ARGS)
{
	return UnprivilegedVsPrivileged(fcinfo, PAIR_AVERAGE_ABS_ODDS);
}

/* TPR of the unprivileged group minus the privileged group's (AIF360). */
PG_FUNCTION_INFO_V1(aisec_equal_opportunity_difference_pair);
Datum
aisec_equal_opportunity_difference_pair(PG_FUNCTION_ARGS)
{
	return UnprivilegedVsPrivileged(fcinfo, PAIR_EQUAL_OPPORTUNITY);
}
