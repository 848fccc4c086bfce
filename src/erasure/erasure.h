/*
 * erasure.h
 *		The door of src/erasure/: GDPR erasure (doc/erasure.md).  No other
 *		room calls into erasure today: its SQL functions are its only
 *		entry points.  A later slice registers the check that authorizes
 *		redacted history records with versioning through this room's
 *		load-time call (aisec_versioning_set_redaction_check).
 */
#ifndef AISEC_ERASURE_H
#define AISEC_ERASURE_H

#include "postgres.h"

#endif							/* AISEC_ERASURE_H */
