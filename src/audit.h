/*
 * audit.h
 *		The hash-chained audit log: what other aisec files call to record a
 *		governance action.
 */
#ifndef AISEC_AUDIT_H
#define AISEC_AUDIT_H

#include "postgres.h"
#include "utils/jsonb.h"

/* Append an entry; detail must be a JSON object.  Returns its seq. */
extern int64 aisec_audit_append(const char *action, const char *object,
								Jsonb *detail);

/* Same, with detail given as JSON text (built by the caller, no user data). */
extern int64 aisec_audit_log(const char *action, const char *object,
							 const char *detail_json);

/*
 * Same as aisec_audit_log, recorded as done by the given session user
 * (actor) and login instead of this session's (for the refusal worker).
 */
extern int64 aisec_audit_log_as(const char *actor, const char *login,
								const char *action, const char *object,
								const char *detail_json);

#endif							/* AISEC_AUDIT_H */
