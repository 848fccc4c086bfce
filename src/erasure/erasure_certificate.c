/*
 * erasure_certificate.c
 *		The signed erasure certificate (issue 18 item 6): what aisec.erase()
 *		returns, aisec.erasure_certificate(reference) fetches again and
 *		aisec.verify_certificate(jsonb) checks.
 *
 * A certificate is erase's summary (every key it holds, per table what the
 * summary's tables hold) plus the register's facts (legal basis, requester,
 * approver, times), the executor (session user and login), the range of
 * audit entries the erasure's transaction wrote, the post-check's result
 * (erasure_verify.c, run at the end of erase), whether VACUUM has run since
 * (never, at erase time) and a "signature" object.
 *
 * The signed bytes (the canonical form, doc/erasure.md) are PostgreSQL's
 * jsonb text of the certificate without its "signature" key, UTF-8: jsonb
 * keeps one value per key, orders each object's keys by byte length, then
 * bytewise, and prints ", " between members and ": " after keys, so any
 * JSON text with the same content gives the same bytes, whatever its key
 * order or spacing.  (Every number in a certificate is an integer, which
 * jsonb prints as given.)  The signature is Ed25519 under the database's
 * signing key, the one audit digests use (src/keys/, no other key).
 *
 * The certificate is kept, whole, in aisec.erasure_certificate_store (it
 * holds the keyed subject hash, never the subject).
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"

#include "keys/keys.h"
#include "erasure_internal.h"

#define CERTIFICATE_FORMAT	"aisec-erasure-certificate-v1"
#define SIGNATURE_ALGORITHM	"ed25519"

/* A timestamptz column as UTC text, as audit digests print times. */
#define UTC(col) "pg_catalog.to_char(pg_catalog.timezone('UTC', " col "), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* Order two 8-byte big-endian row ids. */
static int
CompareRowIds(const void *a, const void *b)
{
	return memcmp(a, b, 8);
}

/*
 * Sort the erased row ids (8-byte big-endian each, as erase feeds them to
 * the SHA-256 of its audit entry) ascending, so the digest covers the set
 * in one order verify_erasure can rebuild from aisec.erasure_row.  Row ids
 * are positive, so bytewise order is numeric order.
 */
void
erasure_sort_rowid_bytes(char *bytes, int len)
{
	if (len >= 16)
		qsort(bytes, len / 8, 8, CompareRowIds);
}

/* The jsonb a || b. */
static Jsonb *
Concat(Jsonb *a, Jsonb *b)
{
	return DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(a),
											  JsonbPGetDatum(b)));
}

/* The jsonb of JSON text built here. */
static Jsonb *
JsonbOf(const char *text)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

/* The signed bytes of cert: its jsonb text without "signature" (see above). */
static char *
CanonicalText(Jsonb *cert)
{
	Jsonb	   *unsigned_cert = DatumGetJsonbP(DirectFunctionCall2(jsonb_delete,
																   JsonbPGetDatum(cert),
																   CStringGetTextDatum("signature")));

	return JsonbToCString(NULL, &unsigned_cert->root, VARSIZE(unsigned_cert));
}

/* Field key of object container c, or NULL. */
static JsonbValue *
Field(JsonbContainer *c, const char *key)
{
	JsonbValue	k;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	return findJsonbValueFromContainer(c, JB_FOBJECT, &k);
}

/*
 * The first seq of the audit entries this transaction wrote, up to last
 * (an entry of it): appends hold the audit log's lock until commit, so the
 * transaction's entries are consecutive.
 */
static int64
AuditFirstSeq(int64 last)
{
	AisecSpi	spi;
	Oid			argtype = INT8OID;
	Datum		arg = Int64GetDatum(last);
	int64		first = last;
	int			n;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT seq, xmin FROM aisec.audit_log "
					  "WHERE seq OPERATOR(pg_catalog.<=) $1 ORDER BY seq DESC LIMIT 10000",
					  true, 1, &argtype, &arg, NULL, NULL);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		seq = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		TransactionId xmin = DatumGetTransactionId(aisec_spi_value(i, 1, &isnull));

		if (!TransactionIdIsCurrentTransactionId(xmin))
			break;
		first = seq;
	}
	aisec_spi_end(&spi);
	return first;
}

/* The register's facts of request id, and who executes it, as jsonb. */
static Jsonb *
RegisterFields(int64 id)
{
	AisecSpi	spi;
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	Jsonb	   *out;
	bool		isnull;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(CERTIFICATE_FORMAT);
	values[2] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	values[3] = CStringGetTextDatum(GetUserNameFromId(GetAuthenticatedUserId(), false));
	aisec_spi_begin(&spi);
	if (aisec_spi_run("SELECT pg_catalog.jsonb_build_object("
					  " 'format', $2, 'legal_basis', r.legal_basis,"
					  " 'requested_by', r.requested_by, 'requested_at', " UTC("r.requested_at") ","
					  " 'due', " UTC("r.due") ","
					  " 'approved_by', r.approved_by, 'approved_at', " UTC("r.approved_at") ","
					  " 'executed_at', " UTC("r.executed_at") ","
					  " 'executed_by', pg_catalog.jsonb_build_object('session_user', $3, 'login', $4)) "
					  "FROM aisec.erasure_request r WHERE r.id OPERATOR(pg_catalog.=) $1",
					  true, 4, types, values, NULL, NULL) != 1)
		elog(ERROR, "erasure request " INT64_FORMAT " vanished", id);
	out = DatumGetJsonbPCopy(aisec_spi_value(0, 0, &isnull));
	aisec_spi_end(&spi);
	return out;
}

/* The post-check's rows as the certificate's "post_check" object. */
static char *
PostCheckJson(List *rows)
{
	StringInfoData buf;
	bool		ok = true;
	int			tables = 0;
	int			problems = 0;
	ListCell   *lc;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"post_check\": {\"problems\": [");
	foreach(lc, rows)
	{
		ErasureCheckRow *r = lfirst(lc);

		if (r->summary)
		{
			ok = (r->state == 1);
			continue;
		}
		tables++;
		if (r->state != 0)
			continue;
		appendStringInfo(&buf, "%s{\"table\": ", problems++ > 0 ? ", " : "");
		if (r->name)
			escape_json(&buf, r->name);
		else
			appendStringInfoString(&buf, "null");
		appendStringInfoString(&buf, ", \"detail\": ");
		escape_json(&buf, r->detail);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfo(&buf, "], \"ok\": %s, \"tables_checked\": %d}}",
					 ok ? "true" : "false", tables);
	return buf.data;
}

/* Keep cert as request id's certificate. */
static void
StoreCertificate(int64 id, Jsonb *cert)
{
	AisecSpi	spi;
	Oid			types[2] = {INT8OID, JSONBOID};
	Datum		values[2];

	values[0] = Int64GetDatum(id);
	values[1] = JsonbPGetDatum(cert);
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.erasure_certificate_store (request_id, certificate) "
						 "VALUES ($1, $2)",
						 true, 2, types, values, NULL, NULL);
	aisec_spi_end(&spi);
}

/*
 * Make, sign and keep the certificate of request req, just executed:
 * summary_json is erase's summary (also the detail of its erasure.execute
 * audit entry, seq execute_seq).  Runs the post-check with the subject.
 * Returns the certificate.
 */
Datum
erasure_certificate_issue(const ErasureRequest *req, const char *subject,
						  const char *summary_json, int64 execute_seq)
{
	Jsonb	   *cert = JsonbOf(summary_json);
	uint8		pub[ED25519_KEY_LEN];
	uint8		sig[ED25519_SIG_LEN];
	StringInfoData buf;
	List	   *rows;
	char	   *msg;

	/* The key first: creating it writes an audit entry the range covers. */
	aisec_signing_sign((const uint8 *) "", 0, sig, pub);
	CommandCounterIncrement();

	rows = erasure_post_check(req, subject, true, cert, false);

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"audit\": {\"first_seq\": " INT64_FORMAT ", \"last_seq\": " INT64_FORMAT "}, "
					 "\"vacuum\": {\"run_since\": false, \"note\": \"deleted rows and redacted history records "
					 "keep their bytes in the data files until VACUUM of the tables and their history; "
					 "aisec.verify_erasure() tells whether it has run since\"}}",
					 AuditFirstSeq(execute_seq), execute_seq);
	cert = Concat(cert, RegisterFields(req->id));
	cert = Concat(cert, JsonbOf(buf.data));
	cert = Concat(cert, JsonbOf(PostCheckJson(rows)));

	msg = CanonicalText(cert);
	aisec_signing_sign((const uint8 *) msg, strlen(msg), sig, pub);
	resetStringInfo(&buf);
	appendStringInfo(&buf, "{\"signature\": {\"algorithm\": \"" SIGNATURE_ALGORITHM "\", "
					 "\"public_key\": \"%s\", \"value\": \"%s\"}}",
					 erasure_hex(pub, ED25519_KEY_LEN), erasure_hex(sig, ED25519_SIG_LEN));
	cert = Concat(cert, JsonbOf(buf.data));
	StoreCertificate(req->id, cert);
	return JsonbPGetDatum(cert);
}

/* Raise invalid_parameter_value for a malformed certificate. */
static void
ReportMalformed(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid erasure certificate"),
			 errdetail("%s", what),
			 errhint("Pass a certificate returned by aisec.erase() or aisec.erasure_certificate(), its content unchanged.")));
}

/* String field key of object c, or a malformed-certificate error naming it. */
static JsonbValue *
RequireString(JsonbContainer *c, const char *key, const char *path)
{
	JsonbValue *v = Field(c, key);

	if (v == NULL || v->type != jbvString)
		ReportMalformed(psprintf("Field \"%s\" is missing or not a JSON string.", path));
	return v;
}

/*
 * Is cert signed under its own public key, and is that key this database's
 * signing key?  A malformed certificate is an error (naming what is
 * missing).  With notice, a NOTICE says why a certificate is not valid.
 */
bool
erasure_certificate_valid(Jsonb *cert, bool notice)
{
	JsonbValue *sigv;
	JsonbValue *v;
	JsonbContainer *sigc;
	uint8		pub[ED25519_KEY_LEN];
	uint8		sig[ED25519_SIG_LEN];
	uint8		ours[ED25519_KEY_LEN];
	char	   *msg;

	if (!JB_ROOT_IS_OBJECT(cert) || JB_ROOT_IS_SCALAR(cert))
		ReportMalformed("A certificate is a JSON object.");
	v = RequireString(&cert->root, "format", "format");
	if (v->val.string.len != strlen(CERTIFICATE_FORMAT) ||
		memcmp(v->val.string.val, CERTIFICATE_FORMAT, v->val.string.len) != 0)
		ReportMalformed("Field \"format\" is not \"" CERTIFICATE_FORMAT "\".");
	(void) RequireString(&cert->root, "reference", "reference");
	(void) RequireString(&cert->root, "subject_hash", "subject_hash");
	sigv = Field(&cert->root, "signature");
	if (sigv == NULL || sigv->type != jbvBinary ||
		!JsonContainerIsObject(sigv->val.binary.data))
		ReportMalformed("Field \"signature\" is missing or not a JSON object.");
	sigc = sigv->val.binary.data;
	v = RequireString(sigc, "algorithm", "signature.algorithm");
	if (v->val.string.len != strlen(SIGNATURE_ALGORITHM) ||
		memcmp(v->val.string.val, SIGNATURE_ALGORITHM, v->val.string.len) != 0)
		ReportMalformed("Field \"signature.algorithm\" is not \"" SIGNATURE_ALGORITHM "\".");
	v = RequireString(sigc, "public_key", "signature.public_key");
	if (!crypto_hex_decode(v->val.string.val, v->val.string.len, pub, ED25519_KEY_LEN))
		ReportMalformed("Field \"signature.public_key\" is not 64 hexadecimal digits.");
	v = RequireString(sigc, "value", "signature.value");
	if (!crypto_hex_decode(v->val.string.val, v->val.string.len, sig, ED25519_SIG_LEN))
		ReportMalformed("Field \"signature.value\" is not 128 hexadecimal digits.");

	msg = CanonicalText(cert);
	if (!crypto_ed25519_verify(pub, (const uint8 *) msg, strlen(msg), sig))
	{
		if (notice)
			ereport(NOTICE,
					(errmsg("the erasure certificate's signature does not verify"),
					 errdetail("Its content or its signature was changed after signing.")));
		return false;
	}
	if (!aisec_signing_public(ours) || memcmp(ours, pub, ED25519_KEY_LEN) != 0)
	{
		if (notice)
			ereport(NOTICE,
					(errmsg("the erasure certificate is signed with another key than this database's signing key"),
					 errdetail("Its signature verifies under the public key it carries, which is not aisec.signing_public_key()."),
					 errhint("A certificate issued by another database verifies only there.")));
		return false;
	}
	return true;
}

/* SQL: aisec.verify_certificate(jsonb): signed by this database's key? */
PG_FUNCTION_INFO_V1(aisec_verify_certificate);
Datum
aisec_verify_certificate(PG_FUNCTION_ARGS)
{
	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR,
					   "aisec.verify_certificate()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("erasure certificate must not be NULL")));
	PG_RETURN_BOOL(erasure_certificate_valid(PG_GETARG_JSONB_P(0), true));
}

/* The stored certificate of request id, or NULL. */
Jsonb *
erasure_stored_certificate(int64 id)
{
	AisecSpi	spi;
	Oid			argtype = INT8OID;
	Datum		arg = Int64GetDatum(id);
	Jsonb	   *cert = NULL;

	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT certificate FROM aisec.erasure_certificate_store "
					   "WHERE request_id OPERATOR(pg_catalog.=) $1",
					   true, 1, &argtype, &arg, NULL, NULL) == 1)
	{
		bool		isnull;
		Datum		d = aisec_spi_value(0, 0, &isnull);

		if (!isnull)
			cert = DatumGetJsonbPCopy(d);
	}
	aisec_spi_end(&spi);
	return cert;
}

/* SQL: aisec.erasure_certificate(reference): the request's certificate. */
PG_FUNCTION_INFO_V1(aisec_erasure_certificate);
Datum
aisec_erasure_certificate(PG_FUNCTION_ARGS)
{
	char	   *reference;
	ErasureRequest req;
	Jsonb	   *cert;

	aisec_require_role(AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR, "aisec.erasure_certificate()");
	reference = erasure_text_arg(fcinfo, 0, "erasure reference", 0);
	if (!erasure_lookup_request(reference, false, &req))
		erasure_report_no_request(reference);
	cert = erasure_stored_certificate(req.id);
	if (cert == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("erasure request \"%s\" has no certificate", reference),
				 errdetail(req.executed ? "It was executed before erase issued certificates."
						   : "It has not been executed."),
				 errhint("aisec.erase() issues the certificate.")));
	PG_RETURN_JSONB_P(cert);
}
