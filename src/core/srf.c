/*
 * srf.c
 *		Set up a materialized set-returning function call.
 *
 * Every aisec function that returns rows fills a tuplestore in the
 * per-query context and hands it to the executor; this is the one place
 * that prepares it (what InitMaterializedSRF does on PostgreSQL 15+, written
 * out so it compiles on 14 too).
 */
#include "postgres.h"

#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"

#include "srf.h"

/* Check the call accepts a materialized set; return its tuplestore and row type. */
Tuplestorestate *
aisec_begin_srf(FunctionCallInfo fcinfo, TupleDesc *desc)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	Tuplestorestate *ts;
	TupleDesc	td;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &td) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("function returning a set of rows called with a non-row type"),
				 errhint("For a polymorphic function such as aisec.checkout, pass NULL "
						 "cast to the table's row type, as in NULL::loans.")));
	td = CreateTupleDescCopy(td);
	ts = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
							   false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = ts;
	rsinfo->setDesc = td;
	MemoryContextSwitchTo(oldcxt);
	*desc = td;
	return ts;
}
