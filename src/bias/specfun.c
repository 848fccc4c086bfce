/*
 * specfun.c
 *		Special functions for aisec's statistical tests: the regularized
 *		upper incomplete gamma function Q(a, x) and, from it, the upper tail
 *		of the chi-square distribution.
 *
 * Q(a, x) = Gamma(a, x) / Gamma(a) is computed as in Numerical Recipes
 * (section 6.2): for x < a + 1 from the power series of P(a, x) = 1 - Q,
 * otherwise from the continued fraction for Q evaluated with the modified
 * Lentz method.  Each branch is used where it converges fast and where the
 * quantity it returns is not the small difference of two large ones, so the
 * relative error of Q stays near machine precision in the far tail (p-values
 * like 1e-300 are returned, not rounded to 0), and within about 1e-13 for
 * a up to 1e4 (the prefactor exp(a log x - x - lgamma(a)) loses about
 * log10(a) digits for large a).  The regression tests compare it with the
 * closed forms for even degrees of freedom and with published tables.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "specfun.h"

#define GAMMA_EPS		(DBL_EPSILON / 2)
#define GAMMA_TINY		(DBL_MIN / DBL_EPSILON)

/* Iteration cap: both expansions need O(sqrt(a)) terms near x = a. */
static int
MaxIterations(double a)
{
	return 1000 + (int) (100.0 * sqrt(a));
}

/* exp(a log x - x - lgamma(a)), the factor common to both expansions. */
static double
GammaPrefactor(double a, double x)
{
	return exp(a * log(x) - x - lgamma(a));
}

/* P(a, x) by its power series; converges for every x, fast for x < a + 1. */
static double
GammaPSeries(double a, double x)
{
	double		ap = a;
	double		term = 1.0 / a;
	double		sum = term;
	int			limit = MaxIterations(a);

	for (int n = 0; n < limit; n++)
	{
		ap += 1.0;
		term *= x / ap;
		sum += term;
		if (fabs(term) < fabs(sum) * GAMMA_EPS)
			break;
	}
	return sum * GammaPrefactor(a, x);
}

/* Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1. */
static double
GammaQContinuedFraction(double a, double x)
{
	double		b = x + 1.0 - a;
	double		c = 1.0 / GAMMA_TINY;
	double		d = 1.0 / b;
	double		h = d;
	int			limit = MaxIterations(a);

	for (int i = 1; i <= limit; i++)
	{
		double		an = -i * (i - a);
		double		del;

		b += 2.0;
		d = an * d + b;
		if (fabs(d) < GAMMA_TINY)
			d = GAMMA_TINY;
		c = b + an / c;
		if (fabs(c) < GAMMA_TINY)
			c = GAMMA_TINY;
		d = 1.0 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1.0) <= GAMMA_EPS)
			break;
	}
	return GammaPrefactor(a, x) * h;
}

/* Regularized upper incomplete gamma function Q(a, x), a > 0, x >= 0. */
double
gamma_q(double a, double x)
{
	Assert(a > 0.0);
	if (isnan(x))
		return x;
	if (x <= 0.0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	if (x < a + 1.0)
		return 1.0 - GammaPSeries(a, x);
	return GammaQContinuedFraction(a, x);
}

/* P(X >= x) for X chi-square distributed with dof > 0 degrees of freedom. */
double
chi2_upper_tail(double x, double dof)
{
	return gamma_q(dof / 2.0, x / 2.0);
}
