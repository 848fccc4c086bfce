/*
 * fairness_report.c
 *		aisec.fairness_report(): one row per group with every rate, Wilson
 *		intervals, the selection-rate ratio to a reference group with its
 *		interval, and a four-fifths-rule verdict; aisec.fairness_svg(): the
 *		same selection rates drawn as an SVG chart.
 *
 * The ratio's interval is MOVER-R (Donner and Zou, "Closed-form confidence
 * intervals for functions of the normal mean and standard deviation",
 * Stat Methods Med Res 2012; Newcombe, "Confidence Intervals for
 * Proportions and Related Measures of Effect Size", 2012, ch. 10), built
 * from the two groups' Wilson intervals.  The verdict is "fail" when the
 * whole interval is below 0.8, "pass" when it is at or above 0.8, and
 * "insufficient data" when it straddles 0.8 or the ratio is undefined.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "fairness.h"
#include "core/core.h"

#define FOUR_FIFTHS		0.8

/* Everything the report says about one group. */
typedef struct ReportRow
{
	const FairGroup *g;
	FairRateValue rate[FAIR_NRATES];
	bool		ci_valid[FAIR_NRATES];
	double		low[FAIR_NRATES];
	double		high[FAIR_NRATES];
	bool		is_reference;
	bool		ratio_valid;
	double		ratio;
	double		ratio_low;
	double		ratio_high;
	const char *verdict;
} ReportRow;

/* A computed report: rows in canonical group order, and the reference. */
typedef struct Report
{
	int			nrows;
	ReportRow  *rows;
	int			reference;
	double		confidence;
} Report;

/*
 * Interval for p1 / p2 from the Wilson intervals (l1, u1) and (l2, u2);
 * p2 > 0.  See the file header.
 */
static void
RatioInterval(double p1, double l1, double u1, double p2, double l2, double u2,
			  double *low, double *high)
{
	double		pp = p1 * p2;
	double		a = u2 * (2 * p2 - u2);
	double		c = l1 * (2 * p1 - l1);
	double		d = Max(0.0, pp * pp - a * c);

	if (a != 0)
		*low = (pp - sqrt(d)) / a;
	else
		*low = pp > 0 ? c / (2 * pp) : 0;
	*low = Max(0.0, *low);

	a = l2 * (2 * p2 - l2);		/* > 0: 0 < l2 <= p2 */
	c = u1 * (2 * p1 - u1);
	d = Max(0.0, pp * pp - a * c);
	*high = (pp + sqrt(d)) / a;
}

/* Pick the default reference: the largest group by weight, then rows. */
static int
LargestGroup(const FairStats *stats)
{
	int			best = 0;

	for (int i = 1; i < stats->ngroups; i++)
	{
		double		wi = fair_group_weight(&stats->groups[i]);
		double		wb = fair_group_weight(&stats->groups[best]);

		if (wi > wb || (wi == wb && fair_group_rows(&stats->groups[i]) >
						fair_group_rows(&stats->groups[best])))
			best = i;
	}
	return best;
}

/*
 * Compute the report for arguments (s, reference, confidence); NULL when s
 * is NULL.
 */
static Report *
BuildReport(FunctionCallInfo fcinfo)
{
	FairStats  *stats;
	Report	   *rep;
	double		z;
	ReportRow  *ref;

	if (PG_ARGISNULL(0))
		return NULL;
	if (PG_ARGISNULL(2) || !(PG_GETARG_FLOAT8(2) > 0 && PG_GETARG_FLOAT8(2) < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("confidence must be between 0 and 1, exclusive"),
				 errhint("Use 0.95 for 95%% intervals.")));
	stats = fair_stats_arg(fcinfo, 0);
	rep = palloc0(sizeof(Report));
	rep->confidence = PG_GETARG_FLOAT8(2);
	rep->nrows = stats->ngroups;
	rep->rows = palloc0(sizeof(ReportRow) * stats->ngroups);
	if (PG_ARGISNULL(1))
		rep->reference = LargestGroup(stats);
	else
		rep->reference = fair_find_group(stats, fcinfo, 1) - stats->groups;

	/* two-sided: z is the (1 + confidence) / 2 quantile */
	z = -fair_normal_quantile((1 - rep->confidence) / 2);
	for (int i = 0; i < rep->nrows; i++)
	{
		ReportRow  *row = &rep->rows[i];

		row->g = &stats->groups[i];
		row->is_reference = (i == rep->reference);
		for (int r = 0; r < FAIR_NRATES; r++)
		{
			row->rate[r] = fair_rate(row->g, (FairRate) r);
			row->ci_valid[r] = row->rate[r].valid && row->rate[r].n_eff > 0;
			if (row->ci_valid[r])
				fair_wilson(&row->rate[r], z, &row->low[r], &row->high[r]);
		}
	}

	ref = &rep->rows[rep->reference];
	for (int i = 0; i < rep->nrows; i++)
	{
		ReportRow  *row = &rep->rows[i];
		const int	S = FAIR_SELECTION_RATE;

		row->verdict = "insufficient data";
		if (row->is_reference && row->rate[S].valid && row->rate[S].rate > 0)
		{
			row->ratio_valid = true;
			row->ratio = row->ratio_low = row->ratio_high = 1;
		}
		else if (row->ci_valid[S] && ref->ci_valid[S] && ref->rate[S].rate > 0)
		{
			row->ratio_valid = true;
			row->ratio = row->rate[S].rate / ref->rate[S].rate;
			RatioInterval(row->rate[S].rate, row->low[S], row->high[S],
						  ref->rate[S].rate, ref->low[S], ref->high[S],
						  &row->ratio_low, &row->ratio_high);
		}
		if (row->ratio_valid)
		{
			if (row->ratio_high < FOUR_FIFTHS)
				row->verdict = "fail";
			else if (row->ratio_low >= FOUR_FIFTHS)
				row->verdict = "pass";
		}
	}
	return rep;
}

/* Store a rate (or NULL) in values/nulls at column col. */
static void
PutRate(Datum *values, bool *nulls, int col, bool valid, double v)
{
	nulls[col] = !valid;
	values[col] = valid ? Float8GetDatum(v) : (Datum) 0;
}

/* Output columns of aisec.fairness_report, in order. */
enum
{
	R_GRP, R_IS_REFERENCE, R_N, R_WEIGHT, R_BASE_RATE,
	R_SELECTION_RATE, R_SELECTION_LOW, R_SELECTION_HIGH,
	R_TPR, R_TPR_LOW, R_TPR_HIGH, R_FPR, R_FPR_LOW, R_FPR_HIGH,
	R_FNR, R_TNR, R_PPV, R_NPV, R_ACCURACY,
	R_RATIO, R_RATIO_LOW, R_RATIO_HIGH, R_FOUR_FIFTHS,
	R_NCOLS
};

/* Return one row per group: rates, intervals, ratio to the reference, verdict. */
PG_FUNCTION_INFO_V1(aisec_fairness_report);
Datum
aisec_fairness_report(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Tuplestorestate *ts = aisec_begin_srf(fcinfo, &desc);
	Report	   *rep = BuildReport(fcinfo);

	if (desc->natts != R_NCOLS)
		elog(ERROR, "aisec.fairness_report: expected %d result columns, got %d",
			 R_NCOLS, desc->natts);
	for (int i = 0; rep != NULL && i < rep->nrows; i++)
	{
		ReportRow  *row = &rep->rows[i];
		Datum		values[R_NCOLS];
		bool		nulls[R_NCOLS];
		static const struct
		{
			int			col;
			FairRate	rate;
			bool		ci;
		}			cols[] =
		{
			{R_BASE_RATE, FAIR_BASE_RATE, false},
			{R_SELECTION_RATE, FAIR_SELECTION_RATE, true},
			{R_TPR, FAIR_TPR, true},
			{R_FPR, FAIR_FPR, true},
			{R_FNR, FAIR_FNR, false},
			{R_TNR, FAIR_TNR, false},
			{R_PPV, FAIR_PPV, false},
			{R_NPV, FAIR_NPV, false},
			{R_ACCURACY, FAIR_ACCURACY, false},
		};

		memset(nulls, 0, sizeof(nulls));
		nulls[R_GRP] = row->g->isnull;
		values[R_GRP] = row->g->isnull ? (Datum) 0 :
			PointerGetDatum(cstring_to_text_with_len(row->g->name, row->g->len));
		values[R_IS_REFERENCE] = BoolGetDatum(row->is_reference);
		values[R_N] = Int64GetDatum(fair_group_rows(row->g));
		values[R_WEIGHT] = Float8GetDatum(fair_group_weight(row->g));
		for (int c = 0; c < lengthof(cols); c++)
		{
			FairRate	r = cols[c].rate;

			PutRate(values, nulls, cols[c].col, row->rate[r].valid, row->rate[r].rate);
			if (cols[c].ci)
			{
				PutRate(values, nulls, cols[c].col + 1, row->ci_valid[r], row->low[r]);
				PutRate(values, nulls, cols[c].col + 2, row->ci_valid[r], row->high[r]);
			}
		}
		PutRate(values, nulls, R_RATIO, row->ratio_valid, row->ratio);
		PutRate(values, nulls, R_RATIO_LOW, row->ratio_valid, row->ratio_low);
		PutRate(values, nulls, R_RATIO_HIGH, row->ratio_valid, row->ratio_high);
		values[R_FOUR_FIFTHS] = CStringGetTextDatum(row->verdict);
		tuplestore_putvalues(ts, desc, values, nulls);
	}
	return (Datum) 0;
}

/* Append text escaped for XML character data and attribute values. */
static void
AppendXmlEscaped(StringInfo buf, const char *s, int len)
{
	for (int i = 0; i < len; i++)
	{
		unsigned char ch = (unsigned char) s[i];

		switch (ch)
		{
			case '&':
				appendStringInfoString(buf, "&amp;");
				break;
			case '<':
				appendStringInfoString(buf, "&lt;");
				break;
			case '>':
				appendStringInfoString(buf, "&gt;");
				break;
			case '"':
				appendStringInfoString(buf, "&quot;");
				break;
			case '\'':
				appendStringInfoString(buf, "&apos;");
				break;
			default:
				/* XML 1.0 forbids control characters other than tab, LF, CR */
				if (ch < 0x20)
					appendStringInfoChar(buf, '?');
				else
					appendStringInfoChar(buf, (char) ch);
		}
	}
}

/* Append a group's label, shortened to at most 40 bytes at a character boundary. */
static void
AppendGroupLabel(StringInfo buf, const FairGroup *g)
{
	int			len;

	if (g->isnull)
	{
		appendStringInfoString(buf, "(NULL group)");
		return;
	}
	len = pg_mbcliplen(g->name, g->len, 40);
	AppendXmlEscaped(buf, g->name, len);
	if (len < g->len)
		appendStringInfoString(buf, "...");
}

/* Chart geometry, in SVG user units. */
#define SVG_WIDTH		760
#define SVG_LEFT		190
#define SVG_PLOT		400
#define SVG_TOP			56
#define SVG_ROW			30
#define SVG_BAR			16
#define SVG_X(v)		(SVG_LEFT + (v) * SVG_PLOT)

/* Draw per-group selection rates, their intervals and the four-fifths band. */
PG_FUNCTION_INFO_V1(aisec_fairness_svg);
Datum
aisec_fairness_svg(PG_FUNCTION_ARGS)
{
	Report	   *rep = BuildReport(fcinfo);
	StringInfoData buf;
	ReportRow  *ref;
	int			height;
	double		ref_rate;
	bool		have_ref;

	if (rep == NULL)
		PG_RETURN_NULL();
	ref = &rep->rows[rep->reference];
	have_ref = ref->rate[FAIR_SELECTION_RATE].valid;
	ref_rate = have_ref ? ref->rate[FAIR_SELECTION_RATE].rate : 0;
	height = SVG_TOP + rep->nrows * SVG_ROW + 60;

	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
					 "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
					 SVG_WIDTH, height, SVG_WIDTH, height);
	appendStringInfoString(&buf, "<title>Selection rate by group</title>\n");
	appendStringInfo(&buf, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
					 SVG_WIDTH, height);
	appendStringInfo(&buf,
					 "<text x=\"10\" y=\"20\" font-size=\"14\" font-weight=\"bold\">"
					 "Selection rate by group, %g%% Wilson intervals</text>\n",
					 rep->confidence * 100);
	appendStringInfoString(&buf, "<text x=\"10\" y=\"38\">Reference group: ");
	AppendGroupLabel(&buf, ref->g);
	appendStringInfoString(&buf, "; shaded: below four fifths of its selection rate</text>\n");

	/* the four-fifths band and the reference line */
	if (have_ref)
	{
		double		cut = FOUR_FIFTHS * ref_rate;

		appendStringInfo(&buf,
						 "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#fde0dd\"/>\n",
						 SVG_LEFT, SVG_TOP - 6, SVG_X(cut) - SVG_LEFT, rep->nrows * SVG_ROW + 6);
		appendStringInfo(&buf,
						 "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c51b8a\" "
						 "stroke-dasharray=\"4 3\"/>\n",
						 SVG_X(cut), SVG_TOP - 6, SVG_X(cut), SVG_TOP + rep->nrows * SVG_ROW);
		appendStringInfo(&buf,
						 "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\" "
						 "stroke-dasharray=\"2 2\"/>\n",
						 SVG_X(ref_rate), SVG_TOP - 6, SVG_X(ref_rate), SVG_TOP + rep->nrows * SVG_ROW);
	}

	for (int i = 0; i < rep->nrows; i++)
	{
		ReportRow  *row = &rep->rows[i];
		FairRateValue *sr = &row->rate[FAIR_SELECTION_RATE];
		int			y = SVG_TOP + i * SVG_ROW;
		double		cy = y + SVG_BAR / 2.0;
		const char *fill = strcmp(row->verdict, "pass") == 0 ? "#4575b4" :
			strcmp(row->verdict, "fail") == 0 ? "#d73027" : "#999999";

		appendStringInfo(&buf, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
						 SVG_LEFT - 8, cy + 4);
		AppendGroupLabel(&buf, row->g);
		appendStringInfoString(&buf, "</text>\n");
		if (!sr->valid)
		{
			appendStringInfo(&buf, "<text x=\"%d\" y=\"%.1f\" fill=\"#666\">no predictions</text>\n",
							 SVG_LEFT + 4, cy + 4);
			continue;
		}
		appendStringInfo(&buf,
						 "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\">"
						 "<title>selection rate %.4f, %s</title></rect>\n",
						 SVG_LEFT, y, SVG_X(sr->rate) - SVG_LEFT, SVG_BAR, fill,
						 sr->rate, row->verdict);
		if (row->ci_valid[FAIR_SELECTION_RATE])
		{
			double		lo = SVG_X(row->low[FAIR_SELECTION_RATE]);
			double		hi = SVG_X(row->high[FAIR_SELECTION_RATE]);

			appendStringInfo(&buf,
							 "<path d=\"M%.1f %.1fV%.1fM%.1f %.1fH%.1fM%.1f %.1fV%.1f\" "
							 "stroke=\"black\" fill=\"none\"/>\n",
							 lo, cy - 5, cy + 5, lo, cy, hi, hi, cy - 5, cy + 5);
		}
		appendStringInfo(&buf, "<text x=\"%d\" y=\"%.1f\">%.3f",
						 SVG_LEFT + SVG_PLOT + 12, cy + 4, sr->rate);
		if (row->ratio_valid)
			appendStringInfo(&buf, " (ratio %.2f, %s)", row->ratio, row->verdict);
		else
			appendStringInfo(&buf, " (%s)", row->verdict);
		appendStringInfoString(&buf, "</text>\n");
	}

	/* the x axis */
	{
		int			ay = SVG_TOP + rep->nrows * SVG_ROW + 4;

		appendStringInfo(&buf, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n",
						 SVG_LEFT, ay, SVG_LEFT + SVG_PLOT, ay);
		for (int t = 0; t <= 5; t++)
			appendStringInfo(&buf,
							 "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>"
							 "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1f</text>\n",
							 SVG_X(t / 5.0), ay, SVG_X(t / 5.0), ay + 4,
							 SVG_X(t / 5.0), ay + 17, t / 5.0);
		appendStringInfo(&buf, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">selection rate</text>\n",
						 SVG_LEFT + SVG_PLOT / 2, ay + 34);
	}
	appendStringInfoString(&buf, "</svg>\n");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
