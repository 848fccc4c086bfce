/*
 * specfun.h
 *		Special functions for aisec's statistical tests.
 */
#ifndef AISEC_SPECFUN_H
#define AISEC_SPECFUN_H

#include "postgres.h"

extern double gamma_q(double a, double x);
extern double chi2_upper_tail(double x, double dof);

#endif							/* AISEC_SPECFUN_H */
