/*
 * reweighing.c
 *		aisec.reweighing(): Kamiran-Calders reweighing, as AIF360's
 *		Reweighing pre-processor, generalised to any number of groups.
 *
 * With W(g, y) the weight of group g's rows whose y_true is y (rows with
 * an unknown y_true take no part), W(g) and W(y) its margins and W the
 * total, each (group, label) gets
 *		weight(g, y) = W(g) W(y) / (W W(g, y)),
 * so that in the reweighted data group and label are independent: every
 * group's weighted base rate is W(true) / W.  The total weight is kept:
 * sum over (g, y) of W(g, y) weight(g, y) = W.  A combination without
 * rows has no weight (NULL).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"

#include "fairness.h"
#include "core/core.h"

/* Sum the weights of a group's rows with y_true = t (any y_pred). */
static double
LabelWeight(const FairGroup *g, int t)
{
	return g->cell[FAIR_CELL(t, FAIR_FALSE)].w +
		g->cell[FAIR_CELL(t, FAIR_TRUE)].w +
		g->cell[FAIR_CELL(t, FAIR_UNKNOWN)].w;
}

/* Return (grp, label, weight) for every group and both labels. */
PG_FUNCTION_INFO_V1(aisec_reweighing);
Datum
aisec_reweighing(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Tuplestorestate *ts = aisec_begin_srf(fcinfo, &desc);
	FairStats  *stats;
	double		w_label[2] = {0, 0};
	double		w_total;

	if (PG_ARGISNULL(0))
		return (Datum) 0;
	stats = fair_stats_arg(fcinfo, 0);
	for (int i = 0; i < stats->ngroups; i++)
		for (int t = FAIR_FALSE; t <= FAIR_TRUE; t++)
			w_label[t] += LabelWeight(&stats->groups[i], t);
	w_total = w_label[FAIR_FALSE] + w_label[FAIR_TRUE];

	for (int i = 0; i < stats->ngroups; i++)
	{
		const FairGroup *g = &stats->groups[i];
		double		w_group = LabelWeight(g, FAIR_FALSE) + LabelWeight(g, FAIR_TRUE);

		for (int t = FAIR_FALSE; t <= FAIR_TRUE; t++)
		{
			double		w_gy = LabelWeight(g, t);
			Datum		values[3];
			bool		nulls[3] = {g->isnull, false, false};

			values[0] = g->isnull ? (Datum) 0 :
				PointerGetDatum(cstring_to_text_with_len(g->name, g->len));
			values[1] = BoolGetDatum(t == FAIR_TRUE);
			if (w_gy > 0)
				values[2] = Float8GetDatum((w_group * w_label[t]) / (w_total * w_gy));
			else
			{
				values[2] = (Datum) 0;
				nulls[2] = true;
			}
			tuplestore_putvalues(ts, desc, values, nulls);
		}
	}
	return (Datum) 0;
}
