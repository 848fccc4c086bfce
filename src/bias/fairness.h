/*
 * fairness.h
 *		The fairness state: per group, a weighted confusion matrix over
 *		y_true x y_pred, each of which may be false, true or unknown (NULL).
 *
 * fairness.c owns the state (aggregates, type I/O, the serialized format);
 * fairness_metrics.c, fairness_report.c and reweighing.c read decoded
 * states through the functions declared here.
 */
#ifndef AISEC_FAIRNESS_H
#define AISEC_FAIRNESS_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/tuplestore.h"

/* A label's state; a cell is FAIR_CELL(y_true state, y_pred state). */
#define FAIR_FALSE			0
#define FAIR_TRUE			1
#define FAIR_UNKNOWN		2
#define FAIR_NCELLS			9
#define FAIR_CELL(t, p)		((t) * 3 + (p))

/* Rows in one cell: count, sum of weights, sum of squared weights. */
typedef struct FairCell
{
	int64		n;
	double		w;
	double		w2;
} FairCell;

/*
 * One group.  name is not NUL-terminated and is NULL for the NULL group;
 * in a decoded value it points into the value's bytes.
 */
typedef struct FairGroup
{
	const char *name;
	int32		len;
	bool		isnull;
	uint32		hash;
	FairCell	cell[FAIR_NCELLS];
} FairGroup;

/* A decoded aisec.fairness_stats: groups in canonical order (see fairness.c). */
typedef struct FairStats
{
	int			ngroups;
	FairGroup  *groups;
} FairStats;

/* The rates derivable from one group's cells (fairness_metrics.c). */
typedef enum FairRate
{
	FAIR_SELECTION_RATE,
	FAIR_BASE_RATE,
	FAIR_TPR,
	FAIR_FPR,
	FAIR_FNR,
	FAIR_TNR,
	FAIR_PPV,
	FAIR_NPV,
	FAIR_FDR,
	FAIR_FOR,
	FAIR_ACCURACY,
	FAIR_ERROR_RATE,
	FAIR_NRATES
} FairRate;

/* A rate with what a confidence interval needs. */
typedef struct FairRateValue
{
	bool		valid;			/* false when the denominator weight is 0 */
	double		rate;
	double		n_eff;			/* Kish effective sample size of the denominator */
} FairRateValue;

/* fairness.c */
extern FairStats *fair_decode(const char *data, Size len);
extern FairStats *fair_stats_arg(FunctionCallInfo fcinfo, int argno);
extern const FairGroup *fair_find_group(const FairStats *stats,
										FunctionCallInfo fcinfo, int argno);
extern int64 fair_group_rows(const FairGroup *g);
extern double fair_group_weight(const FairGroup *g);
extern char *fair_group_name(const FairGroup *g);

/* fairness_metrics.c */
extern FairRateValue fair_rate(const FairGroup *g, FairRate which);
extern double fair_normal_quantile(double p);
extern void fair_wilson(const FairRateValue *r, double z, double *low, double *high);

/* Offer the fairness aggregates to the aggregate scan (fairness.c). */
extern void aisec_fairness_scan_init(void);

#endif							/* AISEC_FAIRNESS_H */
