/*
 * erasure_request.c
 *		The erasure register: aisec.request_erasure, the four-eyes rule
 *		(aisec.require_erasure_approval, aisec.approve_erasure) and what
 *		the other files share: the keyed subject hash and request lookup.
 *
 * The register never holds a subject's identifier.  A request keeps
 * HMAC-SHA-256(subject) under aisec's reserved key "$erasure" (created on
 * first need, in the key store, wrapped by the master key like every key)
 * and the key's version.  The key is reserved ('$' names are no user's),
 * so no SQL function such as aisec.pseudonymize can compute the same hash
 * and no admin can drop or rotate it through the key API: without the key
 * the hashes cannot be tested against guessed identifiers.  The subject
 * is never written to an error, a notice or the audit log; the reference
 * (a ticket number) is, as the request's public name.
 *
 * Requests, approvals and the setting change only through these
 * functions, which write as the extension owner; a trigger refuses every
 * other UPDATE, DELETE or TRUNCATE (erasure_subject.c).  Changes to the
 * register serialize on a SHARE ROW EXCLUSIVE lock of its table.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "keys/keys.h"
#include "erasure_internal.h"

#define REFERENCE_MAX	200		/* characters of a request's reference */
#define BASIS_MAX		1000	/* characters of a legal basis */

/*
 * Argument argno as a C string; NULL and '' are errors naming what.  With
 * max_len > 0, so is a value longer than max_len characters.  The value
 * itself never appears in a message.
 */
char *
erasure_text_arg(FunctionCallInfo fcinfo, int argno, const char *what, int max_len)
{
	text	   *t;
	char	   *s;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", what)));
	t = PG_GETARG_TEXT_PP(argno);
	if (VARSIZE_ANY_EXHDR(t) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", what)));
	s = text_to_cstring(t);
	if (max_len > 0 && pg_mbstrlen(s) > max_len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is longer than %d characters", what, max_len)));
	return s;
}

/*
 * HMAC-SHA-256 of subject under version (0 = current) of "$erasure" into
 * out; with create, the key is made on first need.  Returns the version
 * used.  The keyed state lives in a context of its own, deleted (and so
 * wiped) before returning.
 */
int32
erasure_subject_hash(const char *subject, size_t len, int32 version, bool create,
					 uint8 *out)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "aisec erasure key",
											  ALLOCSET_SMALL_SIZES);
	struct CryptoHmac *h;
	int32		used = 0;

	h = aisec_key_prepare_reserved_hmac(ERASURE_KEY_NAME, version, create, cxt, &used);
	if (h == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec key \"%s\" version %d does not exist", ERASURE_KEY_NAME, version),
				 errdetail("The erasure register's subject hashes were made with it."),
				 errhint("Restore the key store from the backup the register came from.")));
	crypto_hmac(h, (const uint8 *) subject, len, out);
	MemoryContextDelete(cxt);
	return used;
}

/* Lower-case hex of bytes, palloc'd. */
char *
erasure_hex(const uint8 *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char	   *s = palloc(len * 2 + 1);

	for (size_t i = 0; i < len; i++)
	{
		s[2 * i] = digits[bytes[i] >> 4];
		s[2 * i + 1] = digits[bytes[i] & 0x0F];
	}
	s[len * 2] = '\0';
	return s;
}

/*
 * Find the request named reference; false if there is none.  With latest,
 * read with the latest snapshot (after taking the register's lock).
 */
bool
erasure_lookup_request(const char *reference, bool latest, ErasureRequest *req)
{
	AisecSpi	spi;
	Oid			argtype = TEXTOID;
	Datum		arg = CStringGetTextDatum(reference);
	bool		found = false;

	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT id, subject_hash, key_version, requested_by, approved_by, "
					   "executed_at IS NOT NULL "
					   "FROM aisec.erasure_request WHERE reference OPERATOR(pg_catalog.=) $1",
					   true, 1, &argtype, &arg, NULL,
					   latest ? GetLatestSnapshot() : NULL) == 1)
	{
		bool		isnull;
		bytea	   *hash;

		req->id = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
		req->reference = pstrdup(reference);
		hash = DatumGetByteaPP(aisec_spi_value(0, 1, &isnull));
		if (VARSIZE_ANY_EXHDR(hash) != HMAC_SHA256_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("erasure request \"%s\" has a malformed subject hash", reference)));
		memcpy(req->subject_hash, VARDATA_ANY(hash), HMAC_SHA256_LEN);
		req->key_version = DatumGetInt32(aisec_spi_value(0, 2, &isnull));
		req->requested_by = TextDatumGetCString(aisec_spi_value(0, 3, &isnull));
		{
			Datum		d = aisec_spi_value(0, 4, &isnull);

			req->approved = !isnull;
			req->approved_by = isnull ? NULL : TextDatumGetCString(d);
		}
		req->executed = DatumGetBool(aisec_spi_value(0, 5, &isnull));
		found = true;
	}
	aisec_spi_end(&spi);
	return found;
}

/* Raise undefined_object for a reference the register does not hold. */
void
erasure_report_no_request(const char *reference)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("erasure request \"%s\" does not exist", reference),
			 errhint("SELECT reference FROM aisec.erasure_requests lists the requests.")));
}

/*
 * Check that subject is the one req was registered for: its keyed hash,
 * under the key version the request used, equals the register's (compared
 * in constant time).  The subject never appears in the error.
 */
void
erasure_check_subject(const ErasureRequest *req, text *subject)
{
	uint8		mac[HMAC_SHA256_LEN];
	uint8		diff = 0;

	(void) erasure_subject_hash(VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject),
								req->key_version, false, mac);
	for (int i = 0; i < HMAC_SHA256_LEN; i++)
		diff |= mac[i] ^ req->subject_hash[i];
	crypto_cleanse(mac, sizeof(mac));
	if (diff != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the subject does not match erasure request \"%s\"", req->reference),
				 errdetail("Its keyed hash differs from the one the request registered."),
				 errhint("Pass the identifier exactly as it was given to aisec.request_erasure().")));
}

/* Serialize changes to the register (see the file header). */
void
erasure_lock_register(void)
{
	LockRelationOid(aisec_relid("erasure_request"), ShareRowExclusiveLock);
}

/* session_user's name: who requests, approves (never SET ROLE's role). */
static char *
SessionUserName(void)
{
	return GetUserNameFromId(GetSessionUserId(), false);
}

/* Tell the DPO about other open requests for the same subject, by reference. */
static void
NoteOtherRequests(const uint8 *hash)
{
	AisecSpi	spi;
	Oid			argtype = BYTEAOID;
	Datum		arg = PointerGetDatum(cstring_to_text_with_len((const char *) hash,
															   HMAC_SHA256_LEN));
	int			n;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT reference FROM aisec.erasure_request "
					  "WHERE subject_hash OPERATOR(pg_catalog.=) $1 AND executed_at IS NULL "
					  "ORDER BY id",
					  true, 1, &argtype, &arg, NULL, GetLatestSnapshot());
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		ereport(NOTICE,
				(errmsg("erasure request \"%s\" for the same subject is still open",
						TextDatumGetCString(aisec_spi_value(i, 0, &isnull)))));
	}
	aisec_spi_end(&spi);
}

/*
 * SQL: aisec.request_erasure(subject, reference, legal_basis) registers a
 * request due in one month (Art. 12(3)); returns its id.
 */
PG_FUNCTION_INFO_V1(aisec_request_erasure);
Datum
aisec_request_erasure(PG_FUNCTION_ARGS)
{
	text	   *subject;
	char	   *reference;
	char	   *basis;
	char	   *requester;
	uint8		hash[HMAC_SHA256_LEN];
	int32		version;
	ErasureRequest other;
	AisecSpi	spi;
	Oid			argtypes[5] = {TEXTOID, BYTEAOID, INT4OID, TEXTOID, TEXTOID};
	Datum		args[5];
	bool		isnull;
	int64		id;
	StringInfoData detail;
	char	   *hex;

	aisec_require_role(AISEC_ROLE_DPO, "aisec.request_erasure()");
	aisec_prevent_if_read_only("aisec.request_erasure()");
	(void) erasure_text_arg(fcinfo, 0, "erasure subject", 0);
	subject = PG_GETARG_TEXT_PP(0);
	reference = erasure_text_arg(fcinfo, 1, "erasure reference", REFERENCE_MAX);
	basis = erasure_text_arg(fcinfo, 2, "legal basis", BASIS_MAX);
	requester = SessionUserName();

	erasure_lock_register();
	if (erasure_lookup_request(reference, true, &other))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("erasure request \"%s\" already exists", reference),
				 errhint("Each request needs its own reference, such as its ticket number.")));
	version = erasure_subject_hash(VARDATA_ANY(subject), VARSIZE_ANY_EXHDR(subject),
								   0, true, hash);
	NoteOtherRequests(hash);

	args[0] = CStringGetTextDatum(reference);
	args[1] = PointerGetDatum(cstring_to_text_with_len((const char *) hash, HMAC_SHA256_LEN));
	args[2] = Int32GetDatum(version);
	args[3] = CStringGetTextDatum(basis);
	args[4] = CStringGetTextDatum(requester);
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.erasure_request "
						 "(id, reference, subject_hash, key_version, legal_basis, "
						 " requested_by, requested_at, due) "
						 "VALUES (pg_catalog.nextval('aisec.erasure_request_seq'), $1, $2, $3, $4, $5, "
						 " pg_catalog.now(), "
						 " pg_catalog.now() OPERATOR(pg_catalog.+) '1 month'::pg_catalog.interval) "
						 "RETURNING id",
						 true, 5, argtypes, args, NULL, NULL);
	id = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	aisec_spi_end(&spi);

	hex = erasure_hex(hash, sizeof(hash));
	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"id\": " INT64_FORMAT ", \"reference\": ", id);
	escape_json(&detail, reference);
	appendStringInfo(&detail, ", \"subject_hash\": \"%s\", \"key_version\": %d, \"legal_basis\": ",
					 hex, version);
	escape_json(&detail, basis);
	appendStringInfoChar(&detail, '}');
	(void) aisec_audit_log("erasure.request", reference, detail.data);
	crypto_cleanse(hash, sizeof(hash));
	PG_RETURN_INT64(id);
}

/*
 * SQL: aisec.approve_erasure(reference): a DPO other than the requester
 * (by session user) approves a request not yet approved or executed.
 */
PG_FUNCTION_INFO_V1(aisec_approve_erasure);
Datum
aisec_approve_erasure(PG_FUNCTION_ARGS)
{
	char	   *reference;
	char	   *approver;
	ErasureRequest req;
	AisecSpi	spi;
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_DPO, "aisec.approve_erasure()");
	aisec_prevent_if_read_only("aisec.approve_erasure()");
	reference = erasure_text_arg(fcinfo, 0, "erasure reference", 0);
	approver = SessionUserName();

	erasure_lock_register();
	if (!erasure_lookup_request(reference, true, &req))
		erasure_report_no_request(reference);
	if (req.executed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("erasure request \"%s\" has already been executed", reference)));
	if (req.approved)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("erasure request \"%s\" has already been approved by \"%s\"",
						reference, req.approved_by)));
	if (strcmp(req.requested_by, approver) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("erasure request \"%s\" cannot be approved by its requester \"%s\"",
						reference, approver),
				 errdetail("Approval is the second pair of eyes on a request."),
				 errhint("Another member of aisec_dpo, logged in as themselves, must approve it.")));

	args[0] = Int64GetDatum(req.id);
	args[1] = CStringGetTextDatum(approver);
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("UPDATE aisec.erasure_request "
						 "SET approved_by = $2, approved_at = pg_catalog.now() "
						 "WHERE id OPERATOR(pg_catalog.=) $1",
						 true, 2, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"id\": " INT64_FORMAT ", \"reference\": ", req.id);
	escape_json(&detail, reference);
	appendStringInfo(&detail, ", \"subject_hash\": \"%s\", \"requested_by\": ",
					 erasure_hex(req.subject_hash, HMAC_SHA256_LEN));
	escape_json(&detail, req.requested_by);
	appendStringInfoChar(&detail, '}');
	(void) aisec_audit_log("erasure.approve", reference, detail.data);
	PG_RETURN_VOID();
}

/* Whether approval is required now, reading with snap (NULL: the query's). */
bool
erasure_approval_required(Snapshot snap)
{
	AisecSpi	spi;
	bool		required = false;

	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT approval_required FROM aisec.erasure_setting",
					   true, 0, NULL, NULL, NULL, snap) == 1)
	{
		bool		isnull;

		required = DatumGetBool(aisec_spi_value(0, 0, &isnull));
	}
	aisec_spi_end(&spi);
	return required;
}

/*
 * SQL: aisec.require_erasure_approval(required) turns the four-eyes rule
 * on or off; returns the setting before the call.
 */
PG_FUNCTION_INFO_V1(aisec_require_erasure_approval);
Datum
aisec_require_erasure_approval(PG_FUNCTION_ARGS)
{
	bool		required;
	bool		previous;
	AisecSpi	spi;
	Oid			argtypes[2] = {BOOLOID, TEXTOID};
	Datum		args[2];

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.require_erasure_approval()");
	aisec_prevent_if_read_only("aisec.require_erasure_approval()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("whether erasure approval is required must not be null"),
				 errhint("Pass true or false.")));
	required = PG_GETARG_BOOL(0);

	LockRelationOid(aisec_relid("erasure_setting"), ShareRowExclusiveLock);
	previous = erasure_approval_required(GetLatestSnapshot());
	args[0] = BoolGetDatum(required);
	args[1] = CStringGetTextDatum(SessionUserName());
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.erasure_setting "
						 "(singleton, approval_required, changed_by, changed_at) "
						 "VALUES (true, $1, $2, pg_catalog.now()) "
						 "ON CONFLICT (singleton) DO UPDATE "
						 "SET approval_required = excluded.approval_required, "
						 "    changed_by = excluded.changed_by, changed_at = excluded.changed_at",
						 true, 2, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);

	(void) aisec_audit_log("erasure.require_approval", "aisec.erasure_setting",
						   psprintf("{\"required\": %s, \"previous\": %s}",
									required ? "true" : "false",
									previous ? "true" : "false"));
	PG_RETURN_BOOL(previous);
}
