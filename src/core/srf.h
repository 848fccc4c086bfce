/*
 * srf.h
 *		Materialized set-returning functions: one setup for every aisec
 *		function that returns rows.
 */
#ifndef AISEC_SRF_H
#define AISEC_SRF_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/tuplestore.h"

extern Tuplestorestate *aisec_begin_srf(FunctionCallInfo fcinfo, TupleDesc *desc);

#endif							/* AISEC_SRF_H */
