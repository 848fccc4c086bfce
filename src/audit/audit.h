/*
 * audit.h
 *		The door of src/audit/: what other aisec folders call to record a
 *		governance action in the hash-chained audit log, or a refusal
 *		outside the refused transaction (refusal.c).
 */
#ifndef AISEC_AUDIT_H
#define AISEC_AUDIT_H

#include "postgres.h"

#include "fmgr.h"
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

/*
 * Record that this session's write of kind op (INSERT, UPDATE, DELETE,
 * TRUNCATE, DROP) on aisec.<relname> is being refused.  Call just before
 * raising the refusal's error; never raises one itself for want of a
 * worker (refusal.c).
 */
extern void aisec_audit_refusal(const char *op, const char *relname);

/*
 * The body of a trigger that refuses direct writes to an aisec table (for
 * every role but aisec's own writes, aisec_spi_owner_writing): records the
 * refusal (aisec_audit_refusal) and raises insufficient_privilege with
 * detail and hint.  Returns only for aisec's own writes.
 */
extern void aisec_audit_refuse_write(FunctionCallInfo fcinfo, const char *function_name,
									 const char *detail, const char *hint);

/*
 * Redact entry seq of the log (for aisec.redact_audit, src/erasure/): its
 * detail becomes NULL, its detail_sha256 and hash stay, so the chain and
 * earlier digests still verify; an audit.redact entry records seq and
 * reason (never the removed text), and the entry's redacted_in names it.
 * Errors: no such entry (42704); already redacted, written under encoding
 * v1 (before 0.2.0), or an audit.*, version.* or erasure.* entry (55000); an
 * entry that does not match its hash (XX001).  The caller checks roles and
 * reason.  Returns the audit.redact entry's seq.
 */
extern int64 aisec_audit_redact(int64 seq, const char *reason);

/* Entry point of the background worker that writes the entry. */
extern PGDLLEXPORT void aisec_refusal_worker_main(Datum main_arg);

/*
 * Read the log: walk the whole chain, checking it as aisec.audit_verify()
 * does, and hand every entry with the given object whose action starts with
 * action_prefix to visit (detail and action live until visit returns).
 * Returns NULL if the chain is intact, else the text audit_verify() gives
 * for its first bad entry.  aisec.verify() uses it to check dataset
 * versions against the version.* entries that recorded them.
 */
typedef void (*AisecAuditVisitor) (int64 seq, const char *action, Jsonb *detail,
								   void *arg);

extern char *aisec_audit_walk(const char *object, const char *action_prefix,
							  AisecAuditVisitor visit, void *arg);

/*
 * Who signs audit digests.  The signing key belongs to src/keys/, which
 * depends on the audit log (it records key changes); so keys hands its
 * signer to the audit log at load time instead of the audit log calling
 * into keys.  public_key fills pub and returns false if no signing key
 * exists yet; sign creates the key on first need.
 */
typedef struct AisecAuditSigner
{
	bool		(*public_key) (uint8 *pub);
	void		(*sign) (const uint8 *msg, size_t msglen, uint8 *sig);
} AisecAuditSigner;

extern void aisec_audit_set_signer(const AisecAuditSigner *signer);

#endif							/* AISEC_AUDIT_H */
