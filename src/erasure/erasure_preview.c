/*
 * erasure_preview.c
 *		aisec.erasure_preview(reference, subject): the dry run of an
 *		erasure request: per declared table, what aisec.erase would do.
 *
 * The register holds only the subject's keyed hash, so the DPO gives the
 * subject again; it is used only after its keyed hash matches the
 * request's, so a preview answers only for a subject a request was
 * registered (and audited) for, never for an arbitrary value.  What the
 * request reaches is found by erasure_collect.c, as erase finds it; the
 * preview returns counts and version numbers, never row data.
 */
#include "postgres.h"

#include "funcapi.h"
#include "storage/lockdefs.h"
#include "utils/builtins.h"

#include "erasure_internal.h"

/* SQL: aisec.erasure_preview(reference, subject): the dry run; see the file header. */
PG_FUNCTION_INFO_V1(aisec_erasure_preview);
Datum
aisec_erasure_preview(PG_FUNCTION_ARGS)
{
	char	   *reference;
	char	   *subject;
	ErasureRequest req;
	ErasureTarget *targets;
	int			n;
	TupleDesc	desc;
	Tuplestorestate *ts;

	aisec_require_role(AISEC_ROLE_DPO, "aisec.erasure_preview()");
	reference = erasure_text_arg(fcinfo, 0, "erasure reference", 0);
	subject = erasure_text_arg(fcinfo, 1, "erasure subject", 0);
	if (!erasure_lookup_request(reference, false, &req))
		erasure_report_no_request(reference);
	erasure_check_subject(&req, PG_GETARG_TEXT_PP(1));

	ts = aisec_begin_srf(fcinfo, &desc);
	n = erasure_collect(subject, AccessShareLock, false, &targets);
	for (int i = 0; i < n; i++)
	{
		ErasureTarget *t = &targets[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, !t->tracked, !t->tracked, !t->tracked};

		values[0] = ObjectIdGetDatum(t->relid);
		values[1] = Int64GetDatum(t->live_rows);
		values[2] = Int64GetDatum(t->history_records);
		values[3] = t->tracked ? t->versions : (Datum) 0;
		values[4] = Int64GetDatum(t->derived_rows);
		tuplestore_putvalues(ts, desc, values, nulls);
	}
	return (Datum) 0;
}
