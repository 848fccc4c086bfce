/*
 * commit.c
 *		aisec.commit(): recording a new version of a dataset, and the commit
 *		hash that chains its versions.
 *
 * A version is a marker over the history that capture writes; nothing is
 * copied.  Commit gives the rows written since the last commit their
 * history records (pending.c), then sums the pending deltas of the
 * dataset's tables (O(change)) under AISEC_LOCK_VERSION_COMMIT taken
 * exclusively, which waits for in-flight writers; every read it makes
 * after taking the lock uses the latest snapshot, so it sees what those
 * writers committed even when called in REPEATABLE READ.  History records
 * are never modified by a commit.  The commit hash encoding is specified
 * in doc/versioning.md ("How to check a fingerprint yourself").
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "version.h"

#define COMMIT_ENCODING_TAG	"aisec.commit.v1"

/* Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch). */
#define UNIX_EPOCH_OFFSET_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* Compute a commit hash (doc/versioning.md, "commit hash"). */
void
version_commit_hash(const uint8 *parent_hash, const char *dataset, int64 version,
		   int64 parent, TimestampTz at, const char *by, const char *message,
		   VersionTable *tables, int ntables, uint8 *out)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, COMMIT_ENCODING_TAG, strlen(COMMIT_ENCODING_TAG));
	encode_field(&buf, dataset, strlen(dataset));
	encode_int64(&buf, version);
	encode_int64(&buf, parent);
	encode_int64(&buf, (int64) at + UNIX_EPOCH_OFFSET_US);
	encode_field(&buf, by, strlen(by));
	encode_field(&buf, message, message ? strlen(message) : 0);
	encode_int64(&buf, ntables);
	for (int i = 0; i < ntables; i++)
	{
		encode_int64(&buf, tables[i].table_no);
		encode_field(&buf, tables[i].name, strlen(tables[i].name));
		encode_int64(&buf, tables[i].rows);
		appendBinaryStringInfo(&buf, (char *) tables[i].fp.b, SHA256_LEN);
		encode_field(&buf, tables[i].columns, strlen(tables[i].columns));
	}
	crypto_sha256_2(parent_hash, SHA256_LEN, (uint8 *) buf.data, buf.len, out);
	pfree(buf.data);
}

/*
 * The current columns of a table and the masking rule in force on each, as
 * jsonb text [{"name":..,"type":..[,"mask":..]},..]; the mask is the rule's
 * canonical text (masking_rules.c), which names keys but holds none.
 */
static char *
TableColumns(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	bool		isnull;
	Datum		d;

	(void) aisec_spi_run("SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
						 "'name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod)) "
						 "OPERATOR(pg_catalog.||) COALESCE("
						 "  (SELECT pg_catalog.jsonb_build_object('mask', m.rule) FROM aisec.mask_rule m"
						 "   WHERE m.rel OPERATOR(pg_catalog.=) a.attrelid::pg_catalog.regclass"
						 "     AND m.attnum OPERATOR(pg_catalog.=) a.attnum),"
						 "  '{}'::pg_catalog.jsonb) "
						 "ORDER BY a.attnum) "
						 "FROM pg_catalog.pg_attribute a "
						 "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped",
						 true, 1, types, values, NULL, NULL);
	d = aisec_spi_value(0, 0, &isnull);
	if (isnull)
		return pstrdup("[]");
	return JsonbToCString(NULL, &DatumGetJsonbP(d)->root, VARSIZE(DatumGetJsonbP(d)));
}

/* Sum the pending deltas of one table; return how many there were. */
static int
SumPending(const TrackedTable *tt, VersionTable *vt, Snapshot snap)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(tt->table_no), Int64GetDatum(tt->pending)};
	int			n = aisec_spi_run("SELECT rows, fingerprint FROM aisec.pending_delta "
								  "WHERE table_no = $1 AND version = $2",
								  true, 2, types, values, NULL, snap);

	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		uint8		h[SHA256_LEN];

		vt->rows += DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		version_read_hash(aisec_spi_value(i, 1, &isnull), h, "pending_delta", "fingerprint");
		fingerprint_add(&vt->fp, h);
	}
	return n;
}

/* Load one table's row count and fingerprint at a committed version. */
static void
LoadVersionTable(int32 dataset_id, int64 version, VersionTable *vt, Snapshot snap)
{
	Oid			types[3] = {INT4OID, INT8OID, INT4OID};
	Datum		values[3] = {Int32GetDatum(dataset_id), Int64GetDatum(version),
	Int32GetDatum(vt->table_no)};
	bool		isnull;

	if (aisec_spi_run("SELECT rows, fingerprint FROM aisec.version_table "
					  "WHERE dataset_id = $1 AND version = $2 AND table_no = $3",
					  true, 3, types, values, NULL, snap) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("version " INT64_FORMAT " has no record of table \"%s\"",
						version, vt->name),
				 errhint("Run aisec.verify() to find what was changed.")));
	vt->rows = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	version_read_hash(aisec_spi_value(0, 1, &isnull), vt->fp.b, "version_table", "fingerprint");
}

/* Load the commit hash of a version (32 zero bytes for version 0). */
static void
LoadCommitHash(int32 dataset_id, int64 version, uint8 *out, Snapshot snap)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(dataset_id), Int64GetDatum(version)};
	bool		isnull;

	memset(out, 0, SHA256_LEN);
	if (version == 0)
		return;
	if (aisec_spi_run("SELECT commit_hash FROM aisec.version "
					  "WHERE dataset_id = $1 AND version = $2",
					  true, 2, types, values, NULL, snap) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("version " INT64_FORMAT " is missing", version),
				 errhint("Run aisec.verify() to find what was changed.")));
	version_read_hash(aisec_spi_value(0, 0, &isnull), out, "version", "commit_hash");
}

/* The number of tables version records (0 for version 0). */
static int64
VersionTableCount(int32 dataset_id, int64 version, Snapshot snap)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(dataset_id), Int64GetDatum(version)};
	bool		isnull;

	(void) aisec_spi_run("SELECT pg_catalog.count(*) FROM aisec.version_table "
						 "WHERE dataset_id = $1 AND version = $2",
						 true, 2, types, values, NULL, snap);
	return DatumGetInt64(aisec_spi_value(0, 0, &isnull));
}

/*
 * The message of the commit of version: the caller's, with "reverted to
 * version N" appended (or alone) if aisec.revert() left a note for it
 * (revert.c).  The note is used up either way.
 */
static char *
RevertedMessage(int32 dataset_id, int64 version, char *message, Snapshot snap)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(dataset_id), Int64GetDatum(version)};
	char	   *note = NULL;
	bool		isnull;

	if (aisec_spi_run("SELECT reverted_to FROM aisec.pending_note "
					  "WHERE dataset_id = $1 AND version = $2",
					  true, 2, types, values, NULL, snap) == 1)
		note = psprintf("reverted to version " INT64_FORMAT,
						DatumGetInt64(aisec_spi_value(0, 0, &isnull)));
	(void) aisec_spi_run("DELETE FROM aisec.pending_note WHERE dataset_id = $1",
						 true, 1, types, values, NULL, snap);
	if (note == NULL)
		return message;
	return message ? psprintf("%s (%s)", message, note) : note;
}

/* SQL: aisec.commit(dataset, message) records a new version. */
PG_FUNCTION_INFO_V1(aisec_version_commit);
Datum
aisec_version_commit(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *message;
	Snapshot	snap;
	AisecSpi	spi;
	Dataset		ds;
	TrackedTable *tables;
	VersionTable *vts;
	int			ntables;
	int			deltas = 0;
	int64		version;
	int64		rows = 0;
	Fingerprint total = {{0}};
	uint8		parent_hash[SHA256_LEN];
	uint8		hash[SHA256_LEN];
	TimestampTz at;
	char	   *by;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.commit()");
	aisec_prevent_if_read_only("aisec.commit()");
	name = version_dataset_name(fcinfo, 0);
	message = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (message && strlen(message) > MAX_MESSAGE_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("commit message is too long"),
				 errdetail("The limit is %d bytes.", MAX_MESSAGE_LEN)));

	/* Wait for in-flight writers; from here on, read the latest state. */
	aisec_lock(AISEC_LOCK_VERSION_COMMIT);
	CommandCounterIncrement();
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	version = ds.head + 1;
	tables = version_dataset_tables(ds.id, &ntables, snap);
	vts = palloc0(sizeof(VersionTable) * Max(ntables, 1));

	/* Rows written since the last commit get their history records now. */
	for (int i = 0; i < ntables; i++)
		if (tables[i].pending == version)
			(void) history_capture_pending(&tables[i]);
	CommandCounterIncrement();
	UnregisterSnapshot(snap);
	snap = RegisterSnapshot(GetLatestSnapshot());

	for (int i = 0; i < ntables; i++)
	{
		VersionTable *vt = &vts[i];

		if (tables[i].pending != version)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("table \"%s\" is at pending version " INT64_FORMAT
							", but dataset \"%s\" is at " INT64_FORMAT,
							get_rel_name(tables[i].relid), tables[i].pending,
							ds.name, ds.head)));
		vt->table_no = tables[i].table_no;
		vt->relid = tables[i].relid;
		vt->name = aisec_qualified_name(tables[i].relid);
		vt->columns = TableColumns(tables[i].relid);
		if (ds.head > 0)
			LoadVersionTable(ds.id, ds.head, vt, snap);
		deltas += SumPending(&tables[i], vt, snap);
		rows += vt->rows;
		fingerprint_add(&total, vt->fp.b);
	}

	/*
	 * Nothing captured since the last commit, and no table removed from the
	 * dataset (aisec.remove_table): no new version.
	 */
	if (deltas == 0 && ds.head > 0 &&
		VersionTableCount(ds.id, ds.head, snap) == ntables)
	{
		aisec_spi_end(&spi);
		UnregisterSnapshot(snap);
		ereport(NOTICE,
				(errmsg("nothing to commit: dataset \"%s\" is unchanged since version " INT64_FORMAT,
						ds.name, ds.head)));
		PG_RETURN_INT64(ds.head);
	}

	message = RevertedMessage(ds.id, version, message, snap);
	LoadCommitHash(ds.id, ds.head, parent_hash, snap);
	at = GetCurrentTimestamp();
	by = GetUserNameFromId(GetUserId(), false);
	version_commit_hash(parent_hash, ds.name, version, ds.head, at, by, message,
			   vts, ntables, hash);

	{
		Oid			types[9] = {INT4OID, INT8OID, INT8OID, TIMESTAMPTZOID, TEXTOID,
		TEXTOID, INT8OID, BYTEAOID, BYTEAOID};
		Datum		values[9];
		char		nulls[9] = "         ";

		values[0] = Int32GetDatum(ds.id);
		values[1] = Int64GetDatum(version);
		values[2] = Int64GetDatum(ds.head);
		nulls[2] = ds.head > 0 ? ' ' : 'n';
		values[3] = TimestampTzGetDatum(at);
		values[4] = CStringGetTextDatum(by);
		values[5] = message ? CStringGetTextDatum(message) : (Datum) 0;
		nulls[5] = message ? ' ' : 'n';
		values[6] = Int64GetDatum(rows);
		values[7] = history_bytea(total.b, SHA256_LEN);
		values[8] = history_bytea(hash, SHA256_LEN);
		(void) aisec_spi_run("INSERT INTO aisec.version VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
							 true, 9, types, values, nulls, snap);
	}
	for (int i = 0; i < ntables; i++)
	{
		Oid			types[7] = {INT4OID, INT8OID, INT4OID, TEXTOID, INT8OID, BYTEAOID, TEXTOID};
		Datum		values[7];

		values[0] = Int32GetDatum(ds.id);
		values[1] = Int64GetDatum(version);
		values[2] = Int32GetDatum(vts[i].table_no);
		values[3] = CStringGetTextDatum(vts[i].name);
		values[4] = Int64GetDatum(vts[i].rows);
		values[5] = history_bytea(vts[i].fp.b, SHA256_LEN);
		values[6] = CStringGetTextDatum(vts[i].columns);
		(void) aisec_spi_run("INSERT INTO aisec.version_table "
							 "VALUES ($1, $2, $3, $4, $5, $6, $7::pg_catalog.jsonb)",
							 true, 7, types, values, NULL, snap);
	}
	{
		Oid			types[2] = {INT4OID, INT8OID};
		Datum		values[2] = {Int32GetDatum(ds.id), Int64GetDatum(version)};

		(void) aisec_spi_run("UPDATE aisec.dataset SET head = $2 WHERE id = $1",
							 true, 2, types, values, NULL, snap);
		(void) aisec_spi_run("UPDATE aisec.tracked SET pending_version = $2 + 1 "
							 "WHERE dataset_id = $1",
							 true, 2, types, values, NULL, snap);
		(void) aisec_spi_run("DELETE FROM aisec.pending_delta d USING aisec.tracked t "
							 "WHERE t.dataset_id = $1 AND d.table_no = t.table_no "
							 "AND d.version = $2",
							 true, 2, types, values, NULL, snap);
	}
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);

	aisec_audit_log("version.commit", ds.name,
					psprintf("{\"version\": " INT64_FORMAT ", \"tables\": %d, \"rows\": " INT64_FORMAT
							 ", \"commit_hash\": \"%s\"}",
							 version, ntables, rows, version_hex(hash, SHA256_LEN)));
	PG_RETURN_INT64(version);
}
