/*
 * erasure_audit.c
 *		aisec.redact_audit(seq, reason): a DPO removes the detail of an audit
 *		log entry that names a person (issue 18 item 10; doc/erasure.md).
 *		The log itself (src/audit/) does the redaction, keeping the chain
 *		and earlier digests valid; this is the SQL entry point: roles and
 *		arguments.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

#include "audit/audit.h"
#include "core/core.h"

/* A reason is a sentence or a ticket reference, not a document. */
#define MAX_REASON_LEN	1000

/* SQL: aisec.redact_audit(seq, reason): redact one entry's detail. */
PG_FUNCTION_INFO_V1(aisec_redact_audit);
Datum
aisec_redact_audit(PG_FUNCTION_ARGS)
{
	char	   *reason;
	size_t		len;
	bool		blank = true;

	aisec_require_role(AISEC_ROLE_DPO, "aisec.redact_audit()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("audit entry seq must not be NULL")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("redaction reason must not be NULL")));
	reason = text_to_cstring(PG_GETARG_TEXT_PP(1));
	len = strlen(reason);
	for (const char *p = reason; *p; p++)
		if (!isspace((unsigned char) *p))
			blank = false;
	if (blank)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("redaction reason must not be empty"),
				 errhint("Give the request's reference, e.g. the ticket number.")));
	if (len > MAX_REASON_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("redaction reason is too long"),
				 errdetail("It is %zu bytes; the limit is %d.", len, MAX_REASON_LEN)));

	(void) aisec_audit_redact(PG_GETARG_INT64(0), reason);
	PG_RETURN_VOID();
}
