/*
 * refusal.h
 *		Audited refusals: record a refused direct write to aisec's history or
 *		version records in the audit log, outside the refused transaction.
 */
#ifndef AISEC_REFUSAL_H
#define AISEC_REFUSAL_H

#include "postgres.h"

/*
 * Record that this session's write of kind op (INSERT, UPDATE, DELETE,
 * TRUNCATE, DROP) on aisec.<relname> is being refused.  Call just before
 * raising the refusal's error; never raises one itself for want of a
 * worker.
 */
extern void aisec_audit_refusal(const char *op, const char *relname);

/* Entry point of the background worker that writes the entry. */
extern PGDLLEXPORT void aisec_refusal_worker_main(Datum main_arg);

#endif							/* AISEC_REFUSAL_H */
