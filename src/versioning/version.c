/*
 * version.c
 *		Datasets and their versions: create_dataset, commit, tag, checkout,
 *		materialize, manifest, diff and verify.
 *
 * A version is a marker over the history that history.c captures; nothing
 * is copied.  Commit sums the pending deltas of the dataset's tables
 * (O(change)) under AISEC_LOCK_VERSION_COMMIT taken exclusively, which
 * waits for in-flight writers; every read it makes after taking the lock
 * uses the latest snapshot, so it sees what those writers committed even
 * when called in REPEATABLE READ.  History is never modified by a commit.
 *
 * Readers (checkout, diff, manifest, verify) use the statement's snapshot
 * for everything they read, so a version they can see is complete in the
 * history they scan.  The commit hash encoding is specified in
 * doc/versioning.md ("How to check a fingerprint yourself").
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"

#include "core/core.h"
#include "audit/audit.h"
#include "history.h"

#define COMMIT_ENCODING_TAG	"aisec.commit.v1"
#define MAX_NAME_LEN		100
#define MAX_MESSAGE_LEN		10000

/* Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch). */
#define UNIX_EPOCH_OFFSET_US \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* A dataset, as read from aisec.dataset. */
typedef struct Dataset
{
	int32		id;
	int64		head;
	char	   *name;
} Dataset;

/* One table of a version, as committed or recomputed. */
typedef struct VersionTable
{
	int32		table_no;
	Oid			relid;
	char	   *name;
	int64		rows;
	Fingerprint fp;
	char	   *columns;		/* jsonb text */
} VersionTable;

/* ---------------------------------------------------------------------
 * Helpers
 * ---------------------------------------------------------------------
 */

/* Compute a commit hash (doc/versioning.md, "commit hash"). */
static void
CommitHash(const uint8 *parent_hash, const char *dataset, int64 version,
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

/* Lowercase hex of len bytes (palloc'd). */
static char *
Hex(const uint8 *data, size_t len)
{
	char	   *out = palloc(len * 2 + 1);

	hex_encode((const char *) data, len, out);
	out[len * 2] = '\0';
	return out;
}

/* Wrap raw bytes as a bytea datum. */
static Datum
ByteaDatum(const uint8 *data, size_t len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}

/* Copy a 32-byte bytea datum into out, or raise a corruption error. */
static void
ReadHash(Datum d, uint8 *out, const char *what)
{
	bytea	   *b = DatumGetByteaPP(d);

	if (VARSIZE_ANY_EXHDR(b) != SHA256_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec %s is not 32 bytes long", what),
				 errhint("Run aisec.verify() to find what was changed.")));
	memcpy(out, VARDATA_ANY(b), SHA256_LEN);
}

/* Text argument n, or an error naming what must not be NULL. */
static char *
RequiredText(FunctionCallInfo fcinfo, int n, const char *what)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", what)));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* Refuse empty, overlong or control-character names of datasets and tags. */
static void
CheckName(const char *what, const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len > MAX_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s name must be 1 to %d bytes long", what, MAX_NAME_LEN)));
	for (const char *p = name; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s name must not contain control characters", what)));
}

/* JSON string literal for text (escaped). */
static char *
JsonString(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

/* Read a dataset by name through snap; error if there is none. */
static Dataset
LoadDataset(const char *name, Snapshot snap)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	Dataset		ds;
	bool		isnull;

	CheckName("dataset", name);	/* so that an error never echoes a huge name */
	if (aisec_spi_run("SELECT id, head FROM aisec.dataset WHERE name = $1",
					  true, 1, types, values, NULL, snap) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("dataset \"%s\" does not exist", name),
				 errhint("See aisec.datasets for the datasets there are.")));
	ds.id = DatumGetInt32(aisec_spi_value(0, 0, &isnull));
	ds.head = DatumGetInt64(aisec_spi_value(0, 1, &isnull));
	ds.name = pstrdup(name);
	return ds;
}

/* Refuse a version number that is not committed in the dataset. */
static void
CheckVersion(const Dataset *ds, int64 version, bool allow_zero)
{
	if (version < (allow_zero ? 0 : 1) || version > ds->head)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version " INT64_FORMAT " of dataset \"%s\" does not exist",
						version, ds->name),
				 ds->head > 0 ?
				 errdetail("Committed versions are 1 to " INT64_FORMAT "%s.", ds->head,
						   allow_zero ? " (0 is the empty version)" : "") :
				 errdetail("Nothing has been committed yet.")));
}

/* Read a dataset by id through snap. */
static Dataset
LoadDatasetById(int32 id, Snapshot snap)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(id)};
	Dataset		ds;
	bool		isnull;

	if (aisec_spi_run("SELECT name, head FROM aisec.dataset WHERE id = $1",
					  true, 1, types, values, NULL, snap) != 1)
		elog(ERROR, "aisec dataset %d not found", id);
	ds.id = id;
	ds.name = TextDatumGetCString(aisec_spi_value(0, 0, &isnull));
	ds.head = DatumGetInt64(aisec_spi_value(0, 1, &isnull));
	return ds;
}

/* The tracked table relid, which must be in a dataset; load both. */
static Dataset
TableDataset(Oid relid, TrackedTable *tt, Snapshot snap)
{
	if (!history_lookup(relid, tt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is not tracked", get_rel_name(relid)),
				 errhint("Call aisec.track() and add it to a dataset first.")));
	if (tt->dataset_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table %s is in no dataset, so it has no versions",
						get_rel_name(relid)),
				 errhint("Use aisec.create_dataset() and aisec.commit().")));
	return LoadDatasetById(tt->dataset_id, snap);
}

/* Refuse to show a table's rows to a caller who may not read it. */
static void
RequireSelect(Oid relid)
{
	AclResult	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
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

/* ---------------------------------------------------------------------
 * create_dataset, commit, tag
 * ---------------------------------------------------------------------
 */

/* SQL: aisec.create_dataset(name, tables, description) declares a dataset. */
PG_FUNCTION_INFO_V1(aisec_create_dataset);
Datum
aisec_create_dataset(PG_FUNCTION_ARGS)
{
	char	   *name;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *elnulls;
	int			n;
	char	   *description;
	AisecSpi	spi;
	Snapshot	snap;
	Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, INT4OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int32		id;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.create_dataset()");
	aisec_prevent_if_read_only("aisec.create_dataset()");
	name = RequiredText(fcinfo, 0, "dataset name");
	CheckName("dataset", name);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dataset tables must not be NULL")));
	arr = PG_GETARG_ARRAYTYPE_P(1);
	deconstruct_array(arr, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT,
					  &elems, &elnulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a dataset needs at least one table")));
	description = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (description && strlen(description) > MAX_MESSAGE_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("dataset description is too long"),
				 errdetail("The limit is %d bytes.", MAX_MESSAGE_LEN)));

	/* Serialize with commits and writers; read the registry as it is now. */
	aisec_lock(AISEC_LOCK_VERSION_COMMIT);
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);

	values[0] = CStringGetTextDatum(name);
	if (aisec_spi_run("SELECT 1 FROM aisec.dataset WHERE name = $1", true, 1, types,
					  values, NULL, snap) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("dataset \"%s\" already exists", name)));

	for (int i = 0; i < n; i++)
	{
		TrackedTable tt;

		if (elnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("dataset tables must not contain NULL")));
		for (int j = 0; j < i; j++)
			if (DatumGetObjectId(elems[j]) == DatumGetObjectId(elems[i]))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("table %s is listed twice",
								get_rel_name(DatumGetObjectId(elems[i])))));
		if (!history_lookup(DatumGetObjectId(elems[i]), &tt))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s is not tracked",
							get_rel_name(DatumGetObjectId(elems[i]))),
					 errhint("Call aisec.track() on it first.")));
		if (tt.dataset_id != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table %s already belongs to dataset \"%s\"",
							get_rel_name(tt.relid), LoadDatasetById(tt.dataset_id, snap).name),
					 errdetail("A table belongs to at most one dataset.")));
	}

	values[1] = description ? CStringGetTextDatum(description) : (Datum) 0;
	nulls[1] = description ? ' ' : 'n';
	values[2] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	(void) aisec_spi_run("INSERT INTO aisec.dataset (name, description, created_at, created_by) "
						 "VALUES ($1, $2, pg_catalog.now(), $3) RETURNING id",
						 true, 3, types, values, nulls, snap);
	id = DatumGetInt32(aisec_spi_value(0, 0, &isnull));

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"dataset_id\": %d, \"tables\": [", id);
	for (int i = 0; i < n; i++)
	{
		Oid			t2[2] = {INT4OID, OIDOID};
		Datum		v2[2] = {Int32GetDatum(id), elems[i]};

		(void) aisec_spi_run("UPDATE aisec.tracked SET dataset_id = $1 WHERE rel = $2",
							 true, 2, t2, v2, NULL, snap);
		appendStringInfo(&detail, "%s%s", i ? ", " : "",
						 JsonString(aisec_qualified_name(DatumGetObjectId(elems[i]))));
	}
	appendStringInfoString(&detail, "]}");
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);

	aisec_audit_log("version.create_dataset", name, detail.data);
	PG_RETURN_INT32(id);
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
		ReadHash(aisec_spi_value(i, 1, &isnull), h, "pending fingerprint delta");
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
				 errmsg("version " INT64_FORMAT " has no record of table %s",
						version, vt->name),
				 errhint("Run aisec.verify() to find what was changed.")));
	vt->rows = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
	ReadHash(aisec_spi_value(0, 1, &isnull), vt->fp.b, "version fingerprint");
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
	ReadHash(aisec_spi_value(0, 0, &isnull), out, "commit hash");
}

/* The tracked tables of a dataset, in table_no order (palloc'd array). */
static TrackedTable *
DatasetTables(int32 dataset_id, int *ntables, Snapshot snap)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(dataset_id)};
	int			n = aisec_spi_run("SELECT table_no FROM aisec.tracked "
								  "WHERE dataset_id = $1 ORDER BY table_no",
								  true, 1, types, values, NULL, snap);
	TrackedTable *tables = palloc0(sizeof(TrackedTable) * Max(n, 1));
	int32	   *nos = palloc(sizeof(int32) * Max(n, 1));
	bool		isnull;

	for (int i = 0; i < n; i++)
		nos[i] = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
	for (int i = 0; i < n; i++)
		if (!history_lookup_no(nos[i], &tables[i]))
			elog(ERROR, "aisec tracked table %d vanished", nos[i]);
	*ntables = n;
	return tables;
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
	name = RequiredText(fcinfo, 0, "dataset name");
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
	ds = LoadDataset(name, snap);
	version = ds.head + 1;
	tables = DatasetTables(ds.id, &ntables, snap);
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
					 errmsg("table %s is at pending version " INT64_FORMAT
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

	/* Nothing captured since the last commit: no new version. */
	if (deltas == 0 && ds.head > 0)
	{
		aisec_spi_end(&spi);
		UnregisterSnapshot(snap);
		ereport(NOTICE,
				(errmsg("nothing to commit: dataset \"%s\" is unchanged since version " INT64_FORMAT,
						ds.name, ds.head)));
		PG_RETURN_INT64(ds.head);
	}

	LoadCommitHash(ds.id, ds.head, parent_hash, snap);
	at = GetCurrentTimestamp();
	by = GetUserNameFromId(GetUserId(), false);
	CommitHash(parent_hash, ds.name, version, ds.head, at, by, message,
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
		values[7] = ByteaDatum(total.b, SHA256_LEN);
		values[8] = ByteaDatum(hash, SHA256_LEN);
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
		values[5] = ByteaDatum(vts[i].fp.b, SHA256_LEN);
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
							 version, ntables, rows, Hex(hash, SHA256_LEN)));
	PG_RETURN_INT64(version);
}

/* SQL: aisec.tag(dataset, version, tag) names a committed version. */
PG_FUNCTION_INFO_V1(aisec_version_tag);
Datum
aisec_version_tag(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *tag;
	int64		version;
	Snapshot	snap;
	AisecSpi	spi;
	Dataset		ds;
	Oid			types[4] = {INT4OID, TEXTOID, INT8OID, TEXTOID};
	Datum		values[4];

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.tag()");
	aisec_prevent_if_read_only("aisec.tag()");
	name = RequiredText(fcinfo, 0, "dataset name");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version must not be NULL")));
	version = PG_GETARG_INT64(1);
	tag = RequiredText(fcinfo, 2, "tag");
	CheckName("tag", tag);

	aisec_lock(AISEC_LOCK_VERSION_COMMIT);
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = LoadDataset(name, snap);
	CheckVersion(&ds, version, false);
	values[0] = Int32GetDatum(ds.id);
	values[1] = CStringGetTextDatum(tag);
	if (aisec_spi_run("SELECT version FROM aisec.tag WHERE dataset_id = $1 AND tag = $2",
					  true, 2, types, values, NULL, snap) > 0)
	{
		bool		isnull;

		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("tag \"%s\" already exists in dataset \"%s\"", tag, ds.name),
				 errdetail("It names version " INT64_FORMAT "; tags never move.",
						   DatumGetInt64(aisec_spi_value(0, 0, &isnull))),
				 errhint("Choose another tag name.")));
	}
	values[2] = Int64GetDatum(version);
	values[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	(void) aisec_spi_run("INSERT INTO aisec.tag VALUES ($1, $2, $3, pg_catalog.now(), $4)",
						 true, 4, types, values, NULL, snap);
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);

	aisec_audit_log("version.tag", ds.name,
					psprintf("{\"version\": " INT64_FORMAT ", \"tag\": %s}",
							 version, JsonString(tag)));
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * Reading versions
 * ---------------------------------------------------------------------
 */

/* Resolve a tag of a dataset to its version, through snap. */
static int64
TagVersion(const Dataset *ds, const char *tag, Snapshot snap)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2] = {Int32GetDatum(ds->id), CStringGetTextDatum(tag)};
	bool		isnull;

	CheckName("tag", tag);
	if (aisec_spi_run("SELECT version FROM aisec.tag WHERE dataset_id = $1 AND tag = $2",
					  true, 2, types, values, NULL, snap) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tag \"%s\" does not exist in dataset \"%s\"", tag, ds->name),
				 errhint("See the tags column of aisec.versions.")));
	return DatumGetInt64(aisec_spi_value(0, 0, &isnull));
}

/* A row stored in history as a short varlena, unpacked with its 4-byte header. */
typedef union ShortRow
{
	char		data[VARHDRSZ + VARATT_SHORT_MAX];
	double		force_align_d;
	int64		force_align_i64;
} ShortRow;

/*
 * Return a history row's value as a tuple header: a short varlena (the
 * usual case, rows under 127 bytes) is unpacked into buf, saving a palloc
 * per row (an external toast pointer also has a 1-byte header, so it is
 * excluded); a compressed or external one is detoasted (palloc'd); an
 * aligned one is returned in place.
 */
static HeapTupleHeader
RowHeader(Datum data, ShortRow *buf)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(data);

	if (VARATT_IS_SHORT(v) && !VARATT_IS_EXTERNAL(v))
	{
		Size		len = VARSIZE_SHORT(v) - VARHDRSZ_SHORT;

		SET_VARSIZE(buf->data, len + VARHDRSZ);
		memcpy(buf->data + VARHDRSZ, VARDATA_SHORT(v), len);
		return (HeapTupleHeader) buf->data;
	}
	return DatumGetHeapTupleHeader(data);
}

/* An open read of one committed version of a tracked table. */
struct CheckoutReader
{
	int64		version;
	Relation	hrel;
	TableScanDesc scan;
	EndedMap   *ended;
	bool		done;			/* the scan has ended (heap_getnext would restart) */
	HeapTupleData row;			/* the row last returned */
	Pointer		copied;			/* its palloc'd detoasted value, if any */
	ShortRow	shortrow;		/* or its unpacked short value */
};

/*
 * Start reading the rows of a tracked table at a committed version, for
 * aisec.checkout(NULL::t, version or tag): rowtype is the first argument's
 * type, versiontype the second's (bigint or text), and version its value.
 * Check the caller (role and SELECT on the table) and the version first.
 */
CheckoutReader *
version_checkout_begin(Oid rowtype, Oid versiontype, Datum version, bool isnull,
					   Snapshot snap)
{
	Oid			relid = OidIsValid(rowtype) ? get_typ_typrelid(rowtype) : InvalidOid;
	CheckoutReader *r = palloc0(sizeof(CheckoutReader));
	TrackedTable tt;
	Dataset		ds;
	AisecSpi	spi;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.checkout()");
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aisec.checkout() needs a tracked table's row type"),
				 errhint("Pass NULL cast to the table's type, as in aisec.checkout(NULL::loans, 3).")));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version or tag must not be NULL")));
	RequireSelect(relid);

	aisec_spi_begin(&spi);
	ds = TableDataset(relid, &tt, snap);
	if (versiontype == INT8OID)
		r->version = DatumGetInt64(version);
	else
		r->version = TagVersion(&ds, TextDatumGetCString(version), snap);
	CheckVersion(&ds, r->version, false);
	aisec_spi_end(&spi);

	/* Records that ended by then are left out (a hash of the ended ones). */
	r->ended = history_ended_map(&tt, r->version, snap);
	r->hrel = table_open(tt.history, AccessShareLock);
	r->scan = table_beginscan(r->hrel, snap, 0, NULL);
	return r;
}

/*
 * The next row of the version, as a tuple of the table's row type (the
 * layout it had when the row was captured), or NULL at the end.  It stays
 * valid until the next call.
 */
HeapTuple
version_checkout_next(CheckoutReader *r)
{
	TupleDesc	hdesc = RelationGetDescr(r->hrel);
	HeapTuple	tup;

	if (r->copied)
	{
		pfree(r->copied);
		r->copied = NULL;
	}
	if (r->done)
		return NULL;
	while ((tup = heap_getnext(r->scan, ForwardScanDirection)) != NULL)
	{
		bool		isnull;
		int64		from;
		Datum		data;

		CHECK_FOR_INTERRUPTS();
		from = DatumGetInt64(heap_getattr(tup, HC_VALID_FROM + 1, hdesc, &isnull));
		if (from > r->version)
			continue;
		if (history_ended_at(r->ended, DatumGetInt64(heap_getattr(tup, HC_RID + 1, hdesc, &isnull)),
							 from) != 0)
			continue;
		data = heap_getattr(tup, HC_DATA + 1, hdesc, &isnull);
		if (isnull)
			continue;			/* redacted */
		r->row.t_data = RowHeader(data, &r->shortrow);
		r->row.t_len = HeapTupleHeaderGetDatumLength(r->row.t_data);
		ItemPointerSetInvalid(&r->row.t_self);
		r->row.t_tableOid = InvalidOid;
		if ((Pointer) r->row.t_data != DatumGetPointer(data) &&
			(Pointer) r->row.t_data != r->shortrow.data)
			r->copied = (Pointer) r->row.t_data;
		return &r->row;
	}
	r->done = true;
	return NULL;
}

/* Read the version again from its first row. */
void
version_checkout_rescan(CheckoutReader *r)
{
	table_rescan(r->scan, NULL);
	r->done = false;
}

/* Close a read of a version. */
void
version_checkout_end(CheckoutReader *r)
{
	if (r->copied)
		pfree(r->copied);
	table_endscan(r->scan);
	table_close(r->hrel, AccessShareLock);
	history_ended_map_free(r->ended);
	pfree(r);
}

/*
 * SQL: aisec.checkout(NULL::t, version or tag) returns t's rows then.  A
 * query that reads it as the only function of a FROM item runs the custom
 * scan of checkout_scan.c instead, which reads the same rows through the
 * same reader without this tuplestore.
 */
PG_FUNCTION_INFO_V1(aisec_checkout);
Datum
aisec_checkout(PG_FUNCTION_ARGS)
{
	CheckoutReader *r;
	Tuplestorestate *ts;
	TupleDesc	desc;
	HeapTuple	tup;

	r = version_checkout_begin(get_fn_expr_argtype(fcinfo->flinfo, 0),
							   get_fn_expr_argtype(fcinfo->flinfo, 1),
							   PG_GETARG_DATUM(1), PG_ARGISNULL(1), GetActiveSnapshot());
	ts = aisec_begin_srf(fcinfo, &desc);
	while ((tup = version_checkout_next(r)) != NULL)
		tuplestore_puttuple(ts, tup);
	version_checkout_end(r);
	return (Datum) 0;
}

/* SQL: aisec.materialize(t, version, target) copies a version to a table. */
PG_FUNCTION_INFO_V1(aisec_materialize);
Datum
aisec_materialize(PG_FUNCTION_ARGS)
{
	Oid			relid;
	int64		version;
	char	   *target;
	Oid			nsp;
	char	   *qtarget;
	char	   *qrel;
	AisecSpi	spi;
	StringInfoData sql;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	int64		rows;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.materialize()");
	aisec_prevent_if_read_only("aisec.materialize()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table, version and target must not be NULL")));
	relid = PG_GETARG_OID(0);
	version = PG_GETARG_INT64(1);
	target = NameStr(*PG_GETARG_NAME(2));
	if (target[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("target table name must not be empty")));
	if (get_rel_relkind(relid) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", get_rel_name(relid))));

	/* The new table goes where CREATE TABLE would put it for the caller. */
	nsp = RangeVarGetCreationNamespace(makeRangeVar(NULL, target, -1));
	qtarget = quote_qualified_identifier(get_namespace_name(nsp), target);
	qrel = aisec_qualified_name(relid);

	aisec_spi_begin(&spi);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (LIKE %s)", qtarget, qrel);
	(void) aisec_spi_run(sql.data, false, 0, NULL, NULL, NULL, NULL);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s SELECT * FROM aisec.checkout(NULL::%s, $1)",
					 qtarget, format_type_be_qualified(get_rel_type_id(relid)));
	values[0] = Int64GetDatum(version);
	rows = aisec_spi_run(sql.data, false, 1, types, values, NULL, NULL);
	aisec_spi_end(&spi);

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"table\": %s, \"version\": " INT64_FORMAT
					 ", \"rows\": " INT64_FORMAT "}",
					 JsonString(qrel), version, rows);
	aisec_audit_log("version.materialize", qtarget, detail.data);
	PG_RETURN_INT64(rows);
}

/* SQL: aisec.manifest(dataset, version) describes a version as jsonb. */
PG_FUNCTION_INFO_V1(aisec_manifest);
Datum
aisec_manifest(PG_FUNCTION_ARGS)
{
	char	   *name;
	int64		version;
	Snapshot	snap = GetActiveSnapshot();
	AisecSpi	spi;
	Dataset		ds;
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2];
	bool		isnull;
	Datum		result;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, "aisec.manifest()");
	name = RequiredText(fcinfo, 0, "dataset name");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version must not be NULL")));
	version = PG_GETARG_INT64(1);

	aisec_spi_begin(&spi);
	ds = LoadDataset(name, snap);
	CheckVersion(&ds, version, false);
	values[0] = Int32GetDatum(ds.id);
	values[1] = Int64GetDatum(version);
	(void) aisec_spi_run(
						 "SELECT pg_catalog.jsonb_build_object("
						 " 'format', 'aisec-manifest-v1',"
						 " 'dataset', d.name,"
						 " 'version', v.version,"
						 " 'parent', v.parent,"
						 " 'committed_at', v.committed_at,"
						 " 'committed_by', v.committed_by,"
						 " 'message', v.message,"
						 " 'rows', v.rows,"
						 " 'fingerprint', pg_catalog.encode(v.fingerprint, 'hex'),"
						 " 'commit_hash', pg_catalog.encode(v.commit_hash, 'hex'),"
						 " 'tags', ARRAY(SELECT g.tag FROM aisec.tag g"
						 "   WHERE g.dataset_id = v.dataset_id AND g.version = v.version ORDER BY g.tag),"
						 " 'tables', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
						 "     'table', t.table_name, 'table_no', t.table_no, 'rows', t.rows,"
						 "     'fingerprint', pg_catalog.encode(t.fingerprint, 'hex'),"
						 "     'columns', t.columns) ORDER BY t.table_no)"
						 "   FROM aisec.version_table t"
						 "   WHERE t.dataset_id = v.dataset_id AND t.version = v.version),"
						 " 'masking_rules', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
						 "     'table', t.table_name, 'column', c.col OPERATOR(pg_catalog.->>) 'name',"
						 "     'rule', c.col OPERATOR(pg_catalog.->>) 'mask') ORDER BY t.table_no, c.n),"
						 "     '[]'::pg_catalog.jsonb)"
						 "   FROM aisec.version_table t,"
						 "     pg_catalog.jsonb_array_elements(t.columns) WITH ORDINALITY AS c(col, n)"
						 "   WHERE t.dataset_id = v.dataset_id AND t.version = v.version"
						 "     AND c.col OPERATOR(pg_catalog.?) 'mask'))"
						 " FROM aisec.version v JOIN aisec.dataset d ON d.id = v.dataset_id"
						 " WHERE v.dataset_id = $1 AND v.version = $2",
						 true, 2, types, values, NULL, snap);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("version " INT64_FORMAT " of dataset \"%s\" is missing", version, ds.name),
				 errhint("Run aisec.verify() to find what was changed.")));
	result = SPI_datumTransfer(aisec_spi_value(0, 0, &isnull), false, -1);
	aisec_spi_end(&spi);
	PG_RETURN_DATUM(result);
}

/* One row of a diff: its images at the lower and the higher version. */
typedef struct DiffRow
{
	int64		rid;
	Datum		lo;				/* row at the lower version, if in it */
	Datum		hi;				/* row at the higher version, if in it */
	bool		has_lo;
	bool		has_hi;
	bool		lo_null;		/* redacted image */
	bool		hi_null;
} DiffRow;

/* Order diff rows by row id. */
static int
CompareDiffRows(const void *a, const void *b)
{
	int64		x = (*(DiffRow *const *) a)->rid;
	int64		y = (*(DiffRow *const *) b)->rid;

	return (x > y) - (x < y);
}

/* The entry of rid in rows (created empty if new). */
static DiffRow *
DiffEntry(HTAB *rows, int64 rid)
{
	bool		found;
	DiffRow    *r = hash_search(rows, &rid, HASH_ENTER, &found);

	if (!found)
	{
		memset(r, 0, sizeof(*r));
		r->rid = rid;
	}
	return r;
}

/*
 * Fetch into r->lo the history record (rid, valid_from) through the rid
 * index (a row has one record per version, so the pair names it).
 */
static void
FetchLoImage(IndexScanDesc scan, TupleTableSlot *slot, DiffRow *r, int64 valid_from)
{
	ScanKeyData key;

	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(r->rid));
	index_rescan(scan, &key, 1, NULL, 0);
	while (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;

		if (DatumGetInt64(slot_getattr(slot, HC_VALID_FROM + 1, &isnull)) != valid_from)
			continue;
		r->lo = slot_getattr(slot, HC_DATA + 1, &r->lo_null);
		if (!r->lo_null)
			r->lo = datumCopy(r->lo, false, -1);
		r->has_lo = true;
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("history has an ended record for row %lld but not the record itself",
					(long long) r->rid),
			 errhint("Run aisec.verify() to find what was changed.")));
}

/*
 * Forming a row's jsonb as to_jsonb(row) does, faster.  to_jsonb looks up
 * each column's type category and prints every number to parse it back,
 * per row; for the common built-in types the category is fixed here once
 * and the value converted directly.  The result is the same jsonb: object
 * keys are the column names (jsonb orders them), NULLs are nulls, numbers
 * are numerics (NaN and infinities strings, as to_jsonb makes them), dates
 * and times use to_jsonb's own encoder, text is the string.  A table with
 * any other column type (floats, arrays, json, domains, ...) goes through
 * to_jsonb itself.
 */
typedef enum RowJsonbKind
{
	RJ_OTHER = 0,				/* not handled here: use to_jsonb */
	RJ_BOOL,
	RJ_INT2,
	RJ_INT4,
	RJ_INT8,
	RJ_NUMERIC,
	RJ_TEXT,
	RJ_DATETIME
} RowJsonbKind;

/* Longest text value formed here; longer ones go through to_jsonb. */
#define ROW_JSONB_MAX_TEXT	(1024 * 1024)

typedef struct RowJsonb
{
	TupleDesc	desc;			/* the table's row type */
	bool		fast;			/* every live column has a kind */
	RowJsonbKind *kinds;
	Datum	   *values;
	bool	   *nulls;
	FmgrInfo	to_jsonb;		/* to_jsonb(row), with its argument type */
} RowJsonb;

/* Prepare to form jsonb for rows of relation relid. */
static void
RowJsonbInit(RowJsonb *rj, Oid relid)
{
	Oid			rowtype = get_rel_type_id(relid);

	rj->desc = lookup_rowtype_tupdesc_copy(rowtype, -1);
	rj->kinds = palloc0(sizeof(RowJsonbKind) * Max(rj->desc->natts, 1));
	rj->values = palloc(sizeof(Datum) * Max(rj->desc->natts, 1));
	rj->nulls = palloc(sizeof(bool) * Max(rj->desc->natts, 1));
	rj->fast = true;
	for (int i = 0; i < rj->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rj->desc, i);

		if (att->attisdropped)
			continue;
		switch (att->atttypid)
		{
			case BOOLOID:
				rj->kinds[i] = RJ_BOOL;
				break;
			case INT2OID:
				rj->kinds[i] = RJ_INT2;
				break;
			case INT4OID:
				rj->kinds[i] = RJ_INT4;
				break;
			case INT8OID:
				rj->kinds[i] = RJ_INT8;
				break;
			case NUMERICOID:
				rj->kinds[i] = RJ_NUMERIC;
				break;
			case TEXTOID:
			case VARCHAROID:
			case BPCHAROID:
				rj->kinds[i] = RJ_TEXT;
				break;
			case DATEOID:
			case TIMESTAMPOID:
			case TIMESTAMPTZOID:
				rj->kinds[i] = RJ_DATETIME;
				break;
			default:
				rj->fast = false;
		}
	}

	/* to_jsonb(anyelement) reads its argument's type from its call expression. */
	fmgr_info(F_TO_JSONB, &rj->to_jsonb);
	rj->to_jsonb.fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
												 list_make1(makeNullConst(rowtype, -1, InvalidOid)),
												 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
}

/* Set v to a column value as to_jsonb would convert it; false if it cannot. */
static bool
ColumnJsonb(RowJsonbKind kind, Oid type, Datum d, JsonbValue *v)
{
	switch (kind)
	{
		case RJ_BOOL:
			v->type = jbvBool;
			v->val.boolean = DatumGetBool(d);
			return true;
		case RJ_INT2:
			v->type = jbvNumeric;
			v->val.numeric = int64_to_numeric(DatumGetInt16(d));
			return true;
		case RJ_INT4:
			v->type = jbvNumeric;
			v->val.numeric = int64_to_numeric(DatumGetInt32(d));
			return true;
		case RJ_INT8:
			v->type = jbvNumeric;
			v->val.numeric = int64_to_numeric(DatumGetInt64(d));
			return true;
		case RJ_NUMERIC:
			{
				Numeric		n = DatumGetNumeric(d);

				if (numeric_is_nan(n) || numeric_is_inf(n))
				{
					v->type = jbvString;
					v->val.string.val = DatumGetCString(DirectFunctionCall1(numeric_out, d));
					v->val.string.len = strlen(v->val.string.val);
				}
				else
				{
					v->type = jbvNumeric;
					v->val.numeric = n;
				}
				return true;
			}
		case RJ_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				if (VARSIZE_ANY_EXHDR(t) > ROW_JSONB_MAX_TEXT)
					return false;
				v->type = jbvString;
				v->val.string.val = VARDATA_ANY(t);
				v->val.string.len = VARSIZE_ANY_EXHDR(t);
				return true;
			}
		case RJ_DATETIME:
			v->type = jbvString;
			v->val.string.val = JsonEncodeDateTime(NULL, d, type, NULL);
			v->val.string.len = strlen(v->val.string.val);
			return true;
		case RJ_OTHER:
			break;
	}
	return false;
}

/* jsonb of a row of the table, equal to to_jsonb(row). */
static Datum
RowJsonbMake(RowJsonb *rj, Datum row)
{
	HeapTupleHeader td;
	HeapTupleData tmp;
	JsonbParseState *state = NULL;
	JsonbValue *result;

	if (!rj->fast)
		return FunctionCall1(&rj->to_jsonb, row);
	td = DatumGetHeapTupleHeader(row);
	tmp.t_len = HeapTupleHeaderGetDatumLength(td);
	ItemPointerSetInvalid(&tmp.t_self);
	tmp.t_tableOid = InvalidOid;
	tmp.t_data = td;
	heap_deform_tuple(&tmp, rj->desc, rj->values, rj->nulls);

	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < rj->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rj->desc, i);
		JsonbValue	key;
		JsonbValue	v;

		if (att->attisdropped)
			continue;
		if (rj->nulls[i])
			v.type = jbvNull;
		else if (!ColumnJsonb(rj->kinds[i], att->atttypid, rj->values[i], &v))
			return FunctionCall1(&rj->to_jsonb, row);
		key.type = jbvString;
		key.val.string.val = NameStr(att->attname);
		key.val.string.len = strlen(NameStr(att->attname));
		(void) pushJsonbValue(&state, WJB_KEY, &key);
		(void) pushJsonbValue(&state, WJB_VALUE, &v);
	}
	result = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return JsonbPGetDatum(JsonbValueToJsonb(result));
}

/* SQL: aisec.diff(t, from, to) lists rows added, removed and changed. */
PG_FUNCTION_INFO_V1(aisec_diff);
Datum
aisec_diff(PG_FUNCTION_ARGS)
{
	static const char *const kinds[2][3] = {
		/* from < to: rows only in the higher version were added */
		{"added", "removed", "changed"},
		/* from > to: rows only in the higher version were removed */
		{"removed", "added", "changed"},
	};
	Oid			relid;
	int64		from;
	int64		to;
	int64		lo;
	int64		hi;
	Snapshot	snap = GetActiveSnapshot();
	TrackedTable tt;
	Dataset		ds;
	AisecSpi	spi;
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];
	Tuplestorestate *ts;
	TupleDesc	desc;
	HASHCTL		ctl;
	HTAB	   *rows;
	HTAB	   *ended;
	int			n;
	int64	   *lo_from;
	DiffRow   **lo_rows;
	int			nlo = 0;
	HASH_SEQ_STATUS seq;
	DiffRow    *r;
	DiffRow   **out;
	int			nout = 0;
	FmgrInfo	eqfn;
	RowJsonb	rj;
	MemoryContext rowcxt;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.diff()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table and versions must not be NULL")));
	relid = PG_GETARG_OID(0);
	from = PG_GETARG_INT64(1);
	to = PG_GETARG_INT64(2);
	RequireSelect(relid);

	ts = aisec_begin_srf(fcinfo, &desc);
	aisec_spi_begin(&spi);
	ds = TableDataset(relid, &tt, snap);
	CheckVersion(&ds, from, true);
	CheckVersion(&ds, to, true);
	lo = Min(from, to);
	hi = Max(from, to);
	if (lo == hi)
	{
		aisec_spi_end(&spi);
		return (Datum) 0;
	}

	/*
	 * Only records that ended or appeared in (lo, hi] are read, through the
	 * BRIN indexes on the append-only ended records' valid_to and history's
	 * valid_from (they sit in the tables' last pages); a row's image at lo,
	 * if it changed, is one rid index probe.  Neither the table nor the
	 * rest of its history is read.
	 */
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(int64) * 2;
	ctl.entrysize = sizeof(int64) * 2;
	ctl.hcxt = CurrentMemoryContext;
	ended = hash_create("aisec diff ended", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	ctl.keysize = sizeof(int64);
	ctl.entrysize = sizeof(DiffRow);
	rows = hash_create("aisec diff rows", 1024, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	values[0] = Int64GetDatum(lo);
	values[1] = Int64GetDatum(hi);

	/* Row versions that ended in (lo, hi]; those that began by lo were in lo. */
	n = aisec_spi_run(psprintf("SELECT rid, valid_from FROM %s WHERE valid_to > $1 AND valid_to <= $2",
							   aisec_qualified_name(tt.ended)),
					  true, 2, types, values, NULL, snap);
	lo_from = palloc(sizeof(int64) * Max(n, 1));
	lo_rows = palloc(sizeof(DiffRow *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		key[2];

		key[0] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		key[1] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		(void) hash_search(ended, key, HASH_ENTER, NULL);
		if (key[1] <= lo)
		{
			lo_rows[nlo] = DiffEntry(rows, key[0]);
			lo_from[nlo++] = key[1];
		}
	}

	/* Row versions that began in (lo, hi] and had not ended by hi are in hi. */
	n = aisec_spi_run(psprintf("SELECT rid, valid_from, data FROM %s WHERE valid_from > $1 AND valid_from <= $2",
							   aisec_qualified_name(tt.history)),
					  true, 2, types, values, NULL, snap);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		key[2];

		key[0] = DatumGetInt64(aisec_spi_value(i, 0, &isnull));
		key[1] = DatumGetInt64(aisec_spi_value(i, 1, &isnull));
		if (hash_search(ended, key, HASH_FIND, NULL) != NULL)
			continue;
		r = DiffEntry(rows, key[0]);
		r->hi = aisec_spi_value(i, 2, &r->hi_null);
		r->has_hi = true;
	}

	/* The images at lo of the rows that changed, in rid order. */
	if (nlo > 0)
	{
		Relation	hrel = table_open(tt.history, AccessShareLock);
		Relation	ridx = history_open_rid_index(hrel);
		IndexScanDesc scan = index_beginscan(hrel, ridx, snap, 1, 0);
		TupleTableSlot *slot = table_slot_create(hrel, NULL);

		for (int i = 0; i < nlo; i++)
		{
			CHECK_FOR_INTERRUPTS();
			FetchLoImage(scan, slot, lo_rows[i], lo_from[i]);
		}
		ExecDropSingleTupleTableSlot(slot);
		index_endscan(scan);
		index_close(ridx, AccessShareLock);
		table_close(hrel, AccessShareLock);
	}

	/* Rows in both versions with identical images did not change. */
	fmgr_info(F_RECORD_IMAGE_EQ, &eqfn);
	out = palloc(sizeof(DiffRow *) * Max(hash_get_num_entries(rows), 1));
	hash_seq_init(&seq, rows);
	while ((r = hash_seq_search(&seq)) != NULL)
	{
		if (r->has_lo && r->has_hi &&
			(r->lo_null || r->hi_null ||
			 DatumGetBool(FunctionCall2(&eqfn, r->lo, r->hi))))
			continue;
		out[nout++] = r;
	}
	qsort(out, nout, sizeof(DiffRow *), CompareDiffRows);

	RowJsonbInit(&rj, relid);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec diff row",
								   ALLOCSET_DEFAULT_SIZES);
	for (int i = 0; i < nout; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		Datum		row[4];
		bool		rownull[4] = {0};
		int			kind = out[i]->has_lo ? (out[i]->has_hi ? 2 : 1) : 0;
		bool		lo_isnull = !out[i]->has_lo || out[i]->lo_null;
		bool		hi_isnull = !out[i]->has_hi || out[i]->hi_null;
		Datum		lo_j = lo_isnull ? (Datum) 0 : RowJsonbMake(&rj, out[i]->lo);
		Datum		hi_j = hi_isnull ? (Datum) 0 : RowJsonbMake(&rj, out[i]->hi);

		/* before is the row at from_version, after the row at to_version */
		row[0] = CStringGetTextDatum(kinds[from > to][kind]);
		row[1] = Int64GetDatum(out[i]->rid);
		row[2] = from < to ? lo_j : hi_j;
		rownull[2] = from < to ? lo_isnull : hi_isnull;
		row[3] = from < to ? hi_j : lo_j;
		rownull[3] = from < to ? hi_isnull : lo_isnull;
		tuplestore_putvalues(ts, desc, row, rownull);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	aisec_spi_end(&spi);
	return (Datum) 0;
}

/* ---------------------------------------------------------------------
 * verify
 * ---------------------------------------------------------------------
 */

/*
 * Recompute one table's fingerprint and row count at every version 1..head
 * from its history, in one scan: each row version adds its hash at
 * valid_from and subtracts it at valid_to, looked up in a hash of the
 * table's ended records (difference arrays, then prefix
 * sums).  The hash is recomputed from the stored salt and row; a redacted
 * row version (no salt, no row) contributes its stored hash.
 */
static void
RecomputeTable(const TrackedTable *tt, int64 head, Fingerprint *fps, int64 *rows,
			   Snapshot snap)
{
	Relation	rel = table_open(tt->relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	Relation	hrel = table_open(tt->history, AccessShareLock);
	TableScanDesc scan = table_beginscan(hrel, snap, 0, NULL);
	TupleTableSlot *slot = table_slot_create(hrel, NULL);
	RowEncoder *enc = history_encoder(desc);
	EndedMap   *ended = history_ended_map(tt, 0, snap);
	Fingerprint *add = palloc0(sizeof(Fingerprint) * (head + 2));
	Fingerprint *sub = palloc0(sizeof(Fingerprint) * (head + 2));
	int64	   *dn = palloc0(sizeof(int64) * (head + 2));
	Datum	   *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(desc->natts, 1));
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "aisec verify row",
												 ALLOCSET_DEFAULT_SIZES);
	Fingerprint acc = {{0}};
	int64		n = 0;

	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		MemoryContext old;
		bool		isnull;
		bool		to_null;
		bool		data_null;
		bool		salt_null;
		int64		from;
		int64		to;
		Datum		data;
		Datum		salt;
		uint8		hash[SHA256_LEN];

		CHECK_FOR_INTERRUPTS();
		from = DatumGetInt64(slot_getattr(slot, HC_VALID_FROM + 1, &isnull));
		to = history_ended_at(ended, DatumGetInt64(slot_getattr(slot, HC_RID + 1, &isnull)),
							  from);
		to_null = (to == 0);
		if (from > head || from < 1 || (!to_null && to <= from))
			continue;			/* pending, or never in a version */
		old = MemoryContextSwitchTo(rowcxt);
		data = slot_getattr(slot, HC_DATA + 1, &data_null);
		salt = slot_getattr(slot, HC_SALT + 1, &salt_null);
		if (data_null || salt_null)
		{
			Datum		h = slot_getattr(slot, HC_HASH + 1, &isnull);

			memset(hash, 0, SHA256_LEN);
			if (!isnull && VARSIZE_ANY_EXHDR(DatumGetByteaPP(h)) == SHA256_LEN)
				memcpy(hash, VARDATA_ANY(DatumGetByteaPP(h)), SHA256_LEN);
		}
		else
		{
			HeapTupleHeader hdr = DatumGetHeapTupleHeader(data);
			HeapTupleData row;
			bytea	   *s = DatumGetByteaPP(salt);
			uint8		saltbuf[ROW_SALT_LEN] = {0};

			row.t_len = HeapTupleHeaderGetDatumLength(hdr);
			ItemPointerSetInvalid(&row.t_self);
			row.t_tableOid = InvalidOid;
			row.t_data = hdr;
			heap_deform_tuple(&row, desc, values, nulls);
			memcpy(saltbuf, VARDATA_ANY(s), Min(VARSIZE_ANY_EXHDR(s), ROW_SALT_LEN));
			history_row_hash(enc, values, nulls, saltbuf, hash);
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);

		fingerprint_add(&add[from], hash);
		dn[from]++;
		if (!to_null && to <= head)
		{
			fingerprint_add(&sub[to], hash);
			dn[to]--;
		}
	}
	for (int64 v = 1; v <= head; v++)
	{
		fingerprint_add(&acc, add[v].b);
		fingerprint_sub(&acc, sub[v].b);
		n += dn[v];
		fps[v] = acc;
		rows[v] = n;
	}
	MemoryContextDelete(rowcxt);
	history_ended_map_free(ended);
	history_encoder_done(enc);
	ExecDropSingleTupleTableSlot(slot);
	table_endscan(scan);
	table_close(hrel, AccessShareLock);
	table_close(rel, AccessShareLock);
	pfree(add);
	pfree(sub);
	pfree(dn);
}

/* Emit one verify row. */
static void
VerifyRow(Tuplestorestate *ts, TupleDesc desc, int64 version, Oid relid,
		  bool ok, const char *expected, const char *actual)
{
	Datum		v[5];
	bool		n[5] = {0};

	v[0] = Int64GetDatum(version);
	v[1] = ObjectIdGetDatum(relid);
	n[1] = !OidIsValid(relid);
	v[2] = BoolGetDatum(ok);
	v[3] = CStringGetTextDatum(expected);
	v[4] = CStringGetTextDatum(actual);
	tuplestore_putvalues(ts, desc, v, n);
}

/* "rows=N fingerprint=hex", as verify reports a table's state. */
static char *
TableState(int64 rows, const Fingerprint *fp)
{
	return psprintf("rows=" INT64_FORMAT " fingerprint=%s", rows, Hex(fp->b, SHA256_LEN));
}

/* SQL: aisec.verify(dataset, version) recomputes fingerprints and hashes. */
PG_FUNCTION_INFO_V1(aisec_verify);
Datum
aisec_verify(PG_FUNCTION_ARGS)
{
	char	   *name;
	Snapshot	snap = GetActiveSnapshot();
	AisecSpi	spi;
	Dataset		ds;
	TrackedTable *tables;
	int			ntables;
	int64		only = 0;
	Fingerprint **fps;
	int64	  **rows;
	Tuplestorestate *ts;
	TupleDesc	desc;
	uint8		prev_stored[SHA256_LEN] = {0};

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, "aisec.verify()");
	name = RequiredText(fcinfo, 0, "dataset name");

	aisec_spi_begin(&spi);
	ds = LoadDataset(name, snap);
	if (!PG_ARGISNULL(1))
	{
		only = PG_GETARG_INT64(1);
		CheckVersion(&ds, only, false);
	}
	tables = DatasetTables(ds.id, &ntables, snap);
	fps = palloc(sizeof(Fingerprint *) * Max(ntables, 1));
	rows = palloc(sizeof(int64 *) * Max(ntables, 1));
	for (int i = 0; i < ntables; i++)
	{
		fps[i] = palloc0(sizeof(Fingerprint) * (ds.head + 1));
		rows[i] = palloc0(sizeof(int64) * (ds.head + 1));
		RecomputeTable(&tables[i], ds.head, fps[i], rows[i], snap);
	}

	ts = aisec_begin_srf(fcinfo, &desc);
	for (int64 v = 1; v <= ds.head; v++)
	{
		Oid			types[2] = {INT4OID, INT8OID};
		Datum		values[2] = {Int32GetDatum(ds.id), Int64GetDatum(v)};
		VersionTable *vts = palloc0(sizeof(VersionTable) * Max(ntables, 1));
		int			nvt;
		bool		isnull;
		int64		parent;
		TimestampTz at;
		char	   *by;
		char	   *message;
		Datum		msgdatum;
		int64		vrows;
		Fingerprint vfp;
		Fingerprint sum = {{0}};
		int64		sumrows = 0;
		uint8		stored_hash[SHA256_LEN];
		uint8		hash[SHA256_LEN];

		/* What was committed for each table (in table_no order). */
		nvt = aisec_spi_run("SELECT table_no, table_name, rows, fingerprint, columns::text "
							"FROM aisec.version_table WHERE dataset_id = $1 AND version = $2 "
							"ORDER BY table_no",
							true, 2, types, values, NULL, snap);
		if (nvt > ntables)
			nvt = ntables;
		for (int i = 0; i < nvt; i++)
		{
			vts[i].table_no = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
			vts[i].name = TextDatumGetCString(aisec_spi_value(i, 1, &isnull));
			vts[i].rows = DatumGetInt64(aisec_spi_value(i, 2, &isnull));
			ReadHash(aisec_spi_value(i, 3, &isnull), vts[i].fp.b, "version fingerprint");
			vts[i].columns = TextDatumGetCString(aisec_spi_value(i, 4, &isnull));
			fingerprint_add(&sum, vts[i].fp.b);
			sumrows += vts[i].rows;
		}

		for (int i = 0; i < ntables; i++)
		{
			VersionTable *vt = NULL;
			bool		ok;

			for (int j = 0; j < nvt; j++)
				if (vts[j].table_no == tables[i].table_no)
					vt = &vts[j];
			ok = vt != NULL && vt->rows == rows[i][v] &&
				memcmp(vt->fp.b, fps[i][v].b, SHA256_LEN) == 0;
			if (only == 0 || only == v)
				VerifyRow(ts, desc, v, tables[i].relid, ok,
						  vt ? TableState(vt->rows, &vt->fp) : "(no record)",
						  TableState(rows[i][v], &fps[i][v]));
		}

		/* The commit: recompute its hash from what is stored. */
		if (aisec_spi_run("SELECT parent, committed_at, committed_by, message, rows, "
						  "fingerprint, commit_hash FROM aisec.version "
						  "WHERE dataset_id = $1 AND version = $2",
						  true, 2, types, values, NULL, snap) != 1)
		{
			if (only == 0 || only == v)
				VerifyRow(ts, desc, v, InvalidOid, false, "a commit record", "(missing)");
			memset(prev_stored, 0, SHA256_LEN);
			continue;
		}
		parent = DatumGetInt64(aisec_spi_value(0, 0, &isnull));
		if (isnull)
			parent = 0;
		at = DatumGetTimestampTz(aisec_spi_value(0, 1, &isnull));
		by = TextDatumGetCString(aisec_spi_value(0, 2, &isnull));
		msgdatum = aisec_spi_value(0, 3, &isnull);
		message = isnull ? NULL : TextDatumGetCString(msgdatum);
		vrows = DatumGetInt64(aisec_spi_value(0, 4, &isnull));
		ReadHash(aisec_spi_value(0, 5, &isnull), vfp.b, "version fingerprint");
		ReadHash(aisec_spi_value(0, 6, &isnull), stored_hash, "commit hash");

		CommitHash(prev_stored, ds.name, v, parent, at, by, message, vts, nvt, hash);
		if (only == 0 || only == v)
		{
			bool		ok = memcmp(hash, stored_hash, SHA256_LEN) == 0 &&
				parent == v - 1 && vrows == sumrows &&
				memcmp(vfp.b, sum.b, SHA256_LEN) == 0;

			VerifyRow(ts, desc, v, InvalidOid, ok,
					  psprintf("commit_hash=%s", Hex(stored_hash, SHA256_LEN)),
					  psprintf("commit_hash=%s", Hex(hash, SHA256_LEN)));
		}
		memcpy(prev_stored, stored_hash, SHA256_LEN);
	}
	aisec_spi_end(&spi);
	return (Datum) 0;
}
