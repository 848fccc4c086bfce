/*
 * erasure_execute.c
 *		aisec.erase(reference, subject): execute an erasure request, in one
 *		transaction, all or nothing; and the check, registered with
 *		versioning at load time, that authorizes the history records an
 *		erasure redacted.
 *
 * What a request reaches is found by erasure_collect.c, exactly as the
 * preview finds it, with every declared table locked in SHARE ROW
 * EXCLUSIVE mode first (no writer can add the subject meanwhile; readers
 * and commits go on) and each search reading with a snapshot taken after
 * the lock.  Hence erase runs only at READ COMMITTED: a transaction
 * snapshot would miss rows committed before the lock was granted.  Then, per table:
 *
 * - the live rows are deleted by a plain DELETE run as the extension owner
 *   with row security off, so capture records the deletion like any other
 *   (the next commit leaves the rows out) and rows inserted since the last
 *   commit go too.  Triggers and rules run in the DELETE: a table with an
 *   enabled DELETE trigger whose function is neither aisec's nor owned by
 *   a superuser, or with a DELETE rule, is refused before anything is
 *   changed, since its code would run with the extension owner's rights;
 * - every history record of the subject's row ids, in every version, is
 *   redacted (data and salt NULL, hash kept) through versioning's door
 *   (aisec_history_redact);
 * - the rows derived from the subject's through lineage are erased the
 *   same way, except aggregates a table's keep_aggregate policy keeps
 *   (erasure_derived.c, which erasure_collect found them with).
 *
 * The erased row ids are kept in aisec.erasure_row (row ids are not
 * personal data without the rows): aisec.verify accepts a redacted record
 * exactly when its row id is there (ErasureAuthorizes), and a later slice
 * re-erases them after a backup is restored.  The request is marked
 * executed and one audit entry (erasure.execute) records the keyed subject
 * hash, the counts per table and a SHA-256 over the erased row ids, never
 * the subject.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/xact.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "erasure.h"
#include "erasure_internal.h"

/*
 * The redaction check (see versioning.h): a redacted history record is
 * authorized when its row id is one an executed erasure erased.  Read
 * through the rid index of aisec.erasure_row with the active snapshot,
 * as verify reads the history.  Without the table (a database not yet
 * updated), no record is authorized.
 */
static bool
ErasureAuthorizes(int32 table_no, int64 rid, int64 valid_from)
{
	Oid			nsp = get_namespace_oid(AISEC_SCHEMA, true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("erasure_row", nsp) : InvalidOid;
	Oid			indexid = OidIsValid(nsp) ? get_relname_relid("erasure_row_pkey", nsp) : InvalidOid;
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	bool		found;

	if (!OidIsValid(relid) || !OidIsValid(indexid) ||
		(rid >> RID_TABLE_SHIFT) != table_no)
		return false;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(rid));
	scan = systable_beginscan(rel, indexid, true,
							  ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot(),
							  1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/* Register erasure's redaction check with versioning (at load time). */
void
aisec_erasure_init(void)
{
	aisec_versioning_set_redaction_check(ErasureAuthorizes);
	erasure_versions_init();	/* manifest's redacted rows (erasure_versions.c) */
	aisec_versioning_set_tracked(erasure_history_tracked);	/* erasure_index.c */
}

/*
 * Refuse to delete from relid when a DELETE would run code a table owner
 * planted (see the file header).  Nothing has been changed yet.
 */
void
erasure_check_delete_runs(Oid relid)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	int			n;

	aisec_spi_begin(&spi);
	n = aisec_spi_read("SELECT 'trigger ' || pg_catalog.quote_ident(t.tgname) "
					   "FROM pg_catalog.pg_trigger t "
					   "JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) t.tgfoid "
					   "JOIN pg_catalog.pg_authid a ON a.oid OPERATOR(pg_catalog.=) p.proowner "
					   "WHERE t.tgrelid OPERATOR(pg_catalog.=) $1 AND NOT t.tgisinternal "
					   "  AND t.tgenabled OPERATOR(pg_catalog.<>) 'D' "
					   "  AND (t.tgtype::pg_catalog.int4 OPERATOR(pg_catalog.&) 8) OPERATOR(pg_catalog.<>) 0 "
					   "  AND p.pronamespace OPERATOR(pg_catalog.<>) "
					   "      (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname OPERATOR(pg_catalog.=) 'aisec') "
					   "  AND NOT a.rolsuper "
					   "UNION ALL "
					   "SELECT 'rule ' || pg_catalog.quote_ident(r.rulename) "
					   "FROM pg_catalog.pg_rewrite r "
					   "WHERE r.ev_class OPERATOR(pg_catalog.=) $1 AND r.ev_type OPERATOR(pg_catalog.=) '4' "
					   "ORDER BY 1 LIMIT 1",
					   true, 1, &argtype, &arg, NULL, NULL);
	if (n > 0)
	{
		bool		isnull;
		char	   *what = TextDatumGetCString(aisec_spi_value(0, 0, &isnull));

		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot erase from table %s: %s would run in the DELETE",
						aisec_qualified_name(relid), what),
				 errdetail("Erasure deletes as the extension owner; a DELETE trigger whose function no superuser owns, or a DELETE rule, would run a table owner's code with its rights."),
				 errhint("Disable the trigger or drop the rule for the erasure, or have a superuser own the trigger function.")));
	}
	aisec_spi_end(&spi);
}

/* Run a DELETE as the extension owner with row security off; rows deleted. */
static int64
DeleteAsOwner(const char *sql, int nargs, Oid *types, Datum *values)
{
	AisecSpi	spi;
	int64		n;

	aisec_spi_begin(&spi);
	(void) set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	n = aisec_spi_run(sql, true, nargs, types, values, NULL, NULL);
	aisec_spi_end(&spi);
	return n;
}

/*
 * Delete the live rows of target t; return how many.  A tracked table's
 * rows that hold the subject are deleted through the subject columns'
 * index (and their row ids), those that held it before by row id (a scan:
 * aisec_rid has no index).
 */
static int64
DeleteLiveRows(const ErasureTarget *t)
{
	char	   *rel = aisec_qualified_name(t->relid);
	int64		n = 0;

	if (t->tracked)
	{
		Oid		   *types = palloc(sizeof(Oid) * (t->nargs + 1));
		Datum	   *values = palloc(sizeof(Datum) * (t->nargs + 1));

		if (t->nargs > 0)
		{
			memcpy(types, t->types, sizeof(Oid) * t->nargs);
			memcpy(values, t->values, sizeof(Datum) * t->nargs);
		}
		types[t->nargs] = INT8ARRAYOID;
		values[t->nargs] = t->live_rids;
		if (ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(t->live_rids)),
						   ARR_DIMS(DatumGetArrayTypeP(t->live_rids))) > 0)
			n += DeleteAsOwner(psprintf("DELETE FROM ONLY %s t WHERE %s AND t.%s OPERATOR(pg_catalog.=) ANY ($%d)",
										rel, t->match, RID_COLUMN, t->nargs + 1),
							   t->nargs + 1, types, values);
		if (ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(t->changed_rids)),
						   ARR_DIMS(DatumGetArrayTypeP(t->changed_rids))) > 0)
		{
			types[0] = INT8ARRAYOID;
			values[0] = t->changed_rids;
			n += DeleteAsOwner(psprintf("DELETE FROM ONLY %s WHERE %s OPERATOR(pg_catalog.=) ANY ($1)",
										rel, RID_COLUMN),
							   1, types, values);
		}
		return n;
	}
	if (t->nargs == 0)
		return 0;
	return DeleteAsOwner(psprintf("DELETE FROM %s%s t WHERE %s",
								  get_rel_relkind(t->relid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
								  rel, t->match),
						 t->nargs, t->types, t->values);
}

/* Keep the erased row ids of target t in aisec.erasure_row. */
static void
KeepRowIds(int64 request_id, const ErasureTarget *t)
{
	AisecSpi	spi;
	Oid			types[2] = {INT8OID, INT8ARRAYOID};
	Datum		values[2];

	values[0] = Int64GetDatum(request_id);
	values[1] = t->rids;
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.erasure_row (rid, request_id) "
						 "SELECT r, $1 FROM pg_catalog.unnest($2) r",
						 true, 2, types, values, NULL, NULL);
	aisec_spi_end(&spi);
}

/* Mark request id executed now. */
static void
MarkExecuted(int64 id)
{
	AisecSpi	spi;
	Oid			argtype = INT8OID;
	Datum		arg = Int64GetDatum(id);

	aisec_spi_begin(&spi);
	(void) aisec_spi_run("UPDATE aisec.erasure_request SET executed_at = pg_catalog.now() "
						 "WHERE id OPERATOR(pg_catalog.=) $1",
						 true, 1, &argtype, &arg, NULL, NULL);
	aisec_spi_end(&spi);
}

/* Append the int8[] a as a JSON array. */
static void
AppendInt8Array(StringInfo buf, Datum a)
{
	Datum	   *elems;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(a), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, NULL, &n);
	appendStringInfoChar(buf, '[');
	for (int i = 0; i < n; i++)
		appendStringInfo(buf, "%s" INT64_FORMAT, i > 0 ? ", " : "", DatumGetInt64(elems[i]));
	appendStringInfoChar(buf, ']');
}

/* Feed target t's row ids (ascending) into the SHA-256 input buf. */
static void
AppendRowIdBytes(StringInfo buf, const ErasureTarget *t)
{
	Datum	   *elems;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(t->rids), INT8OID, 8, FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, NULL, &n);
	for (int i = 0; i < n; i++)
	{
		uint64		v = (uint64) DatumGetInt64(elems[i]);
		uint8		be[8];

		for (int k = 0; k < 8; k++)
			be[k] = (uint8) (v >> (56 - 8 * k));
		appendBinaryStringInfo(buf, (const char *) be, 8);
	}
}

/*
 * SQL: aisec.erase(reference, subject): execute the request; returns its
 * signed certificate.  See the file header.
 */
PG_FUNCTION_INFO_V1(aisec_erase);
Datum
aisec_erase(PG_FUNCTION_ARGS)
{
	char	   *reference;
	char	   *subject;
	ErasureRequest req;
	ErasureTarget *targets;
	int			n;
	StringInfoData tables;
	StringInfoData ridbytes;
	StringInfoData out;
	int64		total_live = 0;
	int64		total_redacted = 0;
	int64		total_rids = 0;
	uint8		digest[SHA256_LEN];
	char	   *hash_hex;

	aisec_require_role(AISEC_ROLE_DPO, "aisec.erase()");
	aisec_prevent_if_read_only("aisec.erase()");
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aisec.erase() must run at READ COMMITTED isolation"),
				 errdetail("At REPEATABLE READ or SERIALIZABLE, rows of the subject committed after the transaction's snapshot would be missed."),
				 errhint("Run it in a transaction of its own, or SET TRANSACTION ISOLATION LEVEL READ COMMITTED.")));
	reference = erasure_text_arg(fcinfo, 0, "erasure reference", 0);
	subject = erasure_text_arg(fcinfo, 1, "erasure subject", 0);

	erasure_lock_register();
	if (!erasure_lookup_request(reference, true, &req))
		erasure_report_no_request(reference);
	erasure_check_subject(&req, PG_GETARG_TEXT_PP(1));
	if (req.executed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("erasure request \"%s\" has already been executed", reference),
				 errhint("SELECT * FROM aisec.erasure_requests shows when.")));
	if (!req.approved && erasure_approval_required(GetLatestSnapshot()))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("erasure request \"%s\" has not been approved", reference),
				 errdetail("aisec.require_erasure_approval is on: a second DPO must approve each request."),
				 errhint("Another member of aisec_dpo runs aisec.approve_erasure('%s').", reference)));

	n = erasure_collect(subject, ShareRowExclusiveLock, true, &targets);
	for (int i = 0; i < n; i++)
		if (targets[i].live_rows > 0 || targets[i].derived_rows > 0)
			erasure_check_delete_runs(targets[i].relid);

	initStringInfo(&tables);
	initStringInfo(&ridbytes);
	for (int i = 0; i < n; i++)
	{
		ErasureTarget *t = &targets[i];
		int64		deleted = DeleteLiveRows(t);
		int64		redacted = 0;

		if (t->tracked && t->nrids > 0)
		{
			redacted = aisec_history_redact(&t->tt, t->rids);
			KeepRowIds(req.id, t);
			AppendRowIdBytes(&ridbytes, t);
			total_rids += t->nrids;
		}
		total_live += deleted;
		total_redacted += redacted;
		appendStringInfo(&tables, "%s{\"table\": ", i > 0 ? ", " : "");
		escape_json(&tables, aisec_qualified_name(t->relid));
		appendStringInfo(&tables, ", \"tracked\": %s, \"live_rows_deleted\": " INT64_FORMAT
						 ", \"history_records_redacted\": " INT64_FORMAT ", \"versions\": ",
						 t->tracked ? "true" : "false", deleted, redacted);
		if (t->tracked)
			AppendInt8Array(&tables, t->versions);
		else
			appendStringInfoString(&tables, "null");
		/* The rows derived from the subject's in this table (erasure_derived.c). */
		total_rids += erasure_erase_derived(req.id, t, &tables, &ridbytes);
		appendStringInfoChar(&tables, '}');
	}
	MarkExecuted(req.id);

	erasure_sort_rowid_bytes(ridbytes.data, ridbytes.len);	/* ascending */
	crypto_sha256((const uint8 *) ridbytes.data, ridbytes.len, digest);
	hash_hex = erasure_hex(req.subject_hash, HMAC_SHA256_LEN);
	initStringInfo(&out);
	appendStringInfo(&out, "{\"id\": " INT64_FORMAT ", \"reference\": ", req.id);
	escape_json(&out, reference);
	appendStringInfo(&out, ", \"subject_hash\": \"%s\", \"key_version\": %d"
					 ", \"live_rows_deleted\": " INT64_FORMAT
					 ", \"history_records_redacted\": " INT64_FORMAT
					 ", \"row_ids\": " INT64_FORMAT ", \"row_ids_sha256\": \"%s\""
					 ", \"tables\": [%s]}",
					 hash_hex, req.key_version, total_live, total_redacted, total_rids,
					 erasure_hex(digest, SHA256_LEN), tables.data);
	/* The signed certificate (erasure_certificate.c) is what erase returns. */
	PG_RETURN_DATUM(erasure_certificate_issue(&req, subject, out.data,
											  aisec_audit_log("erasure.execute", reference, out.data)));
}
