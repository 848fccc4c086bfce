/*
 * erasure.h
 *		The door of src/erasure/: GDPR erasure (doc/erasure.md).  No other
 *		room calls into erasure: its SQL functions are its entry points,
 *		and the module's load-time call registers with versioning the check
 *		that authorizes the history records an erasure redacted
 *		(aisec_versioning_set_redaction_check) and the list of a table's
 *		erased row ids that aisec.manifest() counts
 *		(aisec_versioning_set_erased_rids, erasure_versions.c).
 */
#ifndef AISEC_ERASURE_H
#define AISEC_ERASURE_H

#include "postgres.h"

/* Register erasure's redaction check and erased row ids with versioning (erasure_execute.c). */
extern void aisec_erasure_init(void);

#endif							/* AISEC_ERASURE_H */
