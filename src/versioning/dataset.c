/*
 * dataset.c
 *		Datasets and tags: aisec.create_dataset(), aisec.tag() and
 *		aisec.manifest(), and what every version function shares: reading a
 *		dataset, resolving a version number or tag, checking names and
 *		arguments.  Removing tables and datasets is in housekeeping.c.
 *
 * A dataset is a set of tracked tables (a table is in one at most) whose
 * versions are committed together.  A tag names one committed version and
 * never moves (aisec.untag() can only remove it).  The committed versions
 * of at most one dataset include a table's history, since history records
 * are stamped with that dataset's version numbers: a table removed from a
 * dataset (aisec.remove_table) keeps its place in the versions that
 * included it, and joins no other dataset while they exist.  Readers (manifest here; checkout, diff and verify) use the
 * statement's snapshot for everything they read, so a version they can see
 * is complete in the history they scan.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "audit/audit.h"
#include "version.h"

/* Lowercase hex of len bytes (palloc'd). */
char *
version_hex(const uint8 *data, size_t len)
{
	char	   *out = palloc(len * 2 + 1);

	hex_encode((const char *) data, len, out);
	out[len * 2] = '\0';
	return out;
}

/*
 * Copy a 32-byte bytea datum, read from column column of aisec table
 * table, into out, or raise a corruption error.
 */
void
version_read_hash(Datum d, uint8 *out, const char *table, const char *column)
{
	bytea	   *b = DatumGetByteaPP(d);

	if (VARSIZE_ANY_EXHDR(b) != SHA256_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("column \"%s\" of table \"%s.%s\" holds a value that is not 32 bytes long",
						column, AISEC_SCHEMA, table),
				 errhint("Run aisec.verify() to find what was changed.")));
	memcpy(out, VARDATA_ANY(b), SHA256_LEN);
}

/* The dataset name in text argument n, which must not be NULL. */
char *
version_dataset_name(FunctionCallInfo fcinfo, int n)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dataset name must not be NULL")));
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

/* Refuse empty, overlong or control-character names of datasets (or tags). */
void
version_check_name(const char *name, bool tag)
{
	size_t		len = strlen(name);

	if (len == 0 || len > MAX_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 tag ?
				 errmsg("tag name must be 1 to %d bytes long", MAX_NAME_LEN) :
				 errmsg("dataset name must be 1 to %d bytes long", MAX_NAME_LEN)));
	for (const char *p = name; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 tag ?
					 errmsg("tag name must not contain control characters") :
					 errmsg("dataset name must not contain control characters")));
}

/* JSON string literal for text (escaped). */
char *
version_json_string(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	escape_json(&buf, s);
	return buf.data;
}

/* Read a dataset by name through snap; error if there is none. */
Dataset
version_load_dataset(const char *name, Snapshot snap)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	Dataset		ds;
	bool		isnull;

	version_check_name(name, false);	/* so that an error never echoes a huge name */
	if (aisec_spi_run("SELECT id, head FROM aisec.dataset WHERE name = $1",
					  true, 1, types, values, NULL, snap) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("dataset \"%s\" does not exist", name),
				 errhint("See aisec.datasets for the datasets there are.")));
	ds.id = DatumGetInt32(aisec_spi_value(0, 0, &isnull));
	ds.head = DatumGetInt64(aisec_spi_value(0, 1, &isnull));
	ds.name = pstrdup(name);
	ds.removed = false;
	return ds;
}

/* Refuse a version number that is not committed in the dataset. */
void
version_check(const Dataset *ds, int64 version, bool allow_zero)
{
	if (ds->removed && version > ds->head)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version " INT64_FORMAT " of dataset \"%s\" does not include the table",
						version, ds->name),
				 errdetail("The table was removed from the dataset after version " INT64_FORMAT
						   "; versions 1 to " INT64_FORMAT " include it.", ds->head, ds->head)));
	if (version < (allow_zero ? 0 : 1) || version > ds->head)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("version " INT64_FORMAT " of dataset \"%s\" does not exist",
						version, ds->name),
				 ds->head == 0 ?
				 errdetail("Nothing has been committed yet.") :
				 allow_zero ?
				 errdetail("Committed versions are 1 to " INT64_FORMAT " (0 is the empty version).",
						   ds->head) :
				 errdetail("Committed versions are 1 to " INT64_FORMAT ".", ds->head)));
}

/* Read a dataset by id through snap. */
Dataset
version_load_dataset_by_id(int32 id, Snapshot snap)
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
	ds.removed = false;
	return ds;
}

/*
 * The dataset whose committed versions include tracked table table_no (at
 * most one does, see the file header), and the last of them; false if no
 * committed version includes it.
 */
bool
version_including_table(int32 table_no, int32 *dataset_id, int64 *last, Snapshot snap)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(table_no)};
	bool		isnull;

	if (aisec_spi_run("SELECT dataset_id, pg_catalog.max(version) FROM aisec.version_table "
					  "WHERE table_no = $1 GROUP BY dataset_id ORDER BY dataset_id LIMIT 1",
					  true, 1, types, values, NULL, snap) != 1)
		return false;
	*dataset_id = DatumGetInt32(aisec_spi_value(0, 0, &isnull));
	*last = DatumGetInt64(aisec_spi_value(0, 1, &isnull));
	return true;
}

/*
 * The tracked table relid, which must be in a dataset or in committed
 * versions of one it was removed from; load both.  For a removed table,
 * the dataset's head is the last version that includes the table.
 */
Dataset
version_table_dataset(Oid relid, TrackedTable *tt, Snapshot snap)
{
	int32		dataset_id;
	int64		last;

	if (!history_lookup(relid, tt))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is not tracked", get_rel_name(relid)),
				 errhint("Call aisec.track() and add it to a dataset first.")));
	if (tt->dataset_id == 0 &&
		version_including_table(tt->table_no, &dataset_id, &last, snap))
	{
		Dataset		ds = version_load_dataset_by_id(dataset_id, snap);

		ds.head = Min(ds.head, last);
		ds.removed = true;
		return ds;
	}
	if (tt->dataset_id == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" is in no dataset, so it has no versions",
						get_rel_name(relid)),
				 errhint("Use aisec.create_dataset() and aisec.commit().")));
	return version_load_dataset_by_id(tt->dataset_id, snap);
}

/* The hint that names the masked form of a version of relid, read through view. */
static int
MaskedFormHint(Oid view)
{
	return errhint("Read the version masked, through the masked view's row type: "
				   "SELECT * FROM aisec.checkout(NULL::%s, <version or tag>).",
				   format_type_be_qualified(get_rel_type_id(view)));
}

/*
 * Refuse to show a table's raw rows to a caller who may not read them all:
 * a masked role (aisec.mask_role, or a member of one), which reads
 * governed tables only masked whatever privileges it holds; one without
 * SELECT on the table; or one that the table's row-level security applies
 * to.  The first two are pointed to the masked form of a version, if the
 * table has a masked view (checkout_masked.c).
 */
void
version_require_select(Oid relid)
{
	AclResult	acl;
	Oid			view;

	if (version_masked_user())
	{
		view = version_masked_view_of(relid);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read raw versions of table \"%s\"",
						get_rel_name(relid)),
				 errdetail("Role \"%s\" is a masked role (aisec.mask_role): it reads governed tables only masked.",
						   GetUserNameFromId(GetUserId(), false)),
				 OidIsValid(view) ? MaskedFormHint(view) :
				 errhint("A masked role reads versions only of tables with a masked view, masked.")));
	}
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);
	if (acl != ACLCHECK_OK)
	{
		view = version_masked_view_of(relid);
		if (OidIsValid(view) && pg_class_aclcheck(view, GetUserId(), ACL_SELECT) == ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied for table %s", get_rel_name(relid)),
					 errdetail("Role \"%s\" may read table \"%s\" only through its masked view, so it reads its versions only masked.",
							   GetUserNameFromId(GetUserId(), false), get_rel_name(relid)),
					 MaskedFormHint(view)));
		aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
	}
	version_require_no_rls(relid);
}

/*
 * Refuse a caller that the table's row-level security applies to.
 * History holds whole rows, and aisec does not apply a table's policies
 * to them (they may depend on the present, not on the version), so a role
 * subject to them reads no version through aisec: not with row_security =
 * off either, where PostgreSQL would refuse its SELECT too.  The table's
 * owner (unless FORCE ROW LEVEL SECURITY), superusers and BYPASSRLS roles
 * are not subject to them.
 */
void
version_require_no_rls(Oid relid)
{
	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read versions of table \"%s\"",
						get_rel_name(relid)),
				 errdetail("Row-level security of the table applies to role \"%s\", and aisec does not apply row-level security policies to the rows of a version.",
						   GetUserNameFromId(GetUserId(), false)),
				 errhint("Read versions as a role that row-level security does not apply to: the table's owner (unless the table forces row-level security), or a role with BYPASSRLS.")));
}

/*
 * The tracked tables whose numbers query (one int4 parameter, the dataset
 * id; one column, table_no) returns, in its order (palloc'd array).
 */
TrackedTable *
version_tables_of(const char *query, int32 dataset_id, int *ntables, Snapshot snap)
{
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(dataset_id)};
	int			n = aisec_spi_run(query, true, 1, types, values, NULL, snap);
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

/* The tracked tables of a dataset, in table_no order (palloc'd array). */
TrackedTable *
version_dataset_tables(int32 dataset_id, int *ntables, Snapshot snap)
{
	return version_tables_of("SELECT table_no FROM aisec.tracked "
							 "WHERE dataset_id = $1 ORDER BY table_no",
							 dataset_id, ntables, snap);
}

/* ---------------------------------------------------------------------
 * create_dataset, tag, manifest
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
	name = version_dataset_name(fcinfo, 0);
	version_check_name(name, false);
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
						 errmsg("table \"%s\" is listed twice",
								get_rel_name(DatumGetObjectId(elems[i])))));
		if (!history_lookup(DatumGetObjectId(elems[i]), &tt))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" is not tracked",
							get_rel_name(DatumGetObjectId(elems[i]))),
					 errhint("Call aisec.track() on it first.")));
		if (tt.dataset_id != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" already belongs to dataset \"%s\"",
							get_rel_name(tt.relid), version_load_dataset_by_id(tt.dataset_id, snap).name),
					 errdetail("A table belongs to at most one dataset.")));
		if (tt.pending != 1)
		{
			int32		other;
			int64		last;
			bool		included = version_including_table(tt.table_no, &other, &last, snap);

			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"%s\" cannot join a new dataset: its history is numbered by the versions of another",
							get_rel_name(tt.relid)),
					 included ?
					 errdetail("Versions 1 to " INT64_FORMAT " of dataset \"%s\" include its history.",
							   last, version_load_dataset_by_id(other, snap).name) :
					 errdetail("Its history was kept when its dataset was dropped."),
					 errhint("A new history starts when the table is untracked and tracked again, which is possible once no committed version includes it.")));
		}
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
						 version_json_string(aisec_qualified_name(DatumGetObjectId(elems[i]))));
	}
	appendStringInfoString(&detail, "]}");
	aisec_spi_end(&spi);
	UnregisterSnapshot(snap);

	aisec_audit_log("version.create_dataset", name, detail.data);
	PG_RETURN_INT32(id);
}

/* SQL: aisec.tag(dataset, version, tag) names a committed version; returns it. */
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
	name = version_dataset_name(fcinfo, 0);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version must not be NULL")));
	version = PG_GETARG_INT64(1);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tag must not be NULL")));
	tag = text_to_cstring(PG_GETARG_TEXT_PP(2));
	version_check_name(tag, true);

	aisec_lock(AISEC_LOCK_VERSION_COMMIT);
	snap = RegisterSnapshot(GetLatestSnapshot());
	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	version_check(&ds, version, false);
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
							 version, version_json_string(tag)));
	PG_RETURN_INT64(version);
}

/* Resolve a tag of a dataset to its version, through snap. */
int64
version_of_tag(const Dataset *ds, const char *tag, Snapshot snap)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2] = {Int32GetDatum(ds->id), CStringGetTextDatum(tag)};
	bool		isnull;

	version_check_name(tag, true);
	if (aisec_spi_run("SELECT version FROM aisec.tag WHERE dataset_id = $1 AND tag = $2",
					  true, 2, types, values, NULL, snap) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("tag \"%s\" does not exist in dataset \"%s\"", tag, ds->name),
				 errhint("See the tags column of aisec.versions.")));
	return DatumGetInt64(aisec_spi_value(0, 0, &isnull));
}

/* What lineage registered for the manifest's upstream (versioning.h). */
static AisecVersionUpstream upstream_of = NULL;

/* Register lineage's upstream callback (at load time). */
void
aisec_versioning_set_upstream(AisecVersionUpstream upstream)
{
	upstream_of = upstream;
}

/*
 * SQL: aisec.manifest(dataset, version) describes a version as jsonb.  The
 * "upstream" key comes from lineage; no commit hash covers the manifest
 * (commit.c hashes the version's own records), so it may grow keys.
 */
PG_FUNCTION_INFO_V1(aisec_manifest);
Datum
aisec_manifest(PG_FUNCTION_ARGS)
{
	char	   *name;
	int64		version;
	Snapshot	snap = GetActiveSnapshot();
	AisecSpi	spi;
	Dataset		ds;
	Oid			types[4] = {INT4OID, INT8OID, INT4ARRAYOID, INT8ARRAYOID};
	Datum		values[4];
	bool		isnull;
	Datum		result;
	Datum		upstream;
	int			ntables;
	Datum	   *table_nos;
	Datum	   *redacted;
	bool	   *redacted_null;
	int			dims[1];
	int			lbs[1] = {1};

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, "aisec.manifest()");
	name = version_dataset_name(fcinfo, 0);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version must not be NULL")));
	version = PG_GETARG_INT64(1);

	aisec_spi_begin(&spi);
	ds = version_load_dataset(name, snap);
	version_check(&ds, version, false);
	values[0] = Int32GetDatum(ds.id);
	values[1] = Int64GetDatum(version);

	/*
	 * Per table of the version, its rows whose records are redacted (NULL
	 * for a table no longer tracked, its history gone): counted, not
	 * covered by any hash, so a committed version stays as it was.
	 */
	ntables = aisec_spi_run("SELECT table_no FROM aisec.version_table"
							" WHERE dataset_id = $1 AND version = $2 ORDER BY table_no",
							true, 2, types, values, NULL, snap);
	table_nos = palloc(sizeof(Datum) * Max(ntables, 1));
	redacted = palloc(sizeof(Datum) * Max(ntables, 1));
	redacted_null = palloc(sizeof(bool) * Max(ntables, 1));
	for (int i = 0; i < ntables; i++)
		table_nos[i] = aisec_spi_value(i, 0, &isnull);
	for (int i = 0; i < ntables; i++)
	{
		TrackedTable tt;

		redacted_null[i] = !history_lookup_no(DatumGetInt32(table_nos[i]), &tt);
		redacted[i] = redacted_null[i] ? (Datum) 0 :
			Int64GetDatum(version_redacted_rows(&tt, version, snap));
	}
	dims[0] = ntables;
	values[2] = PointerGetDatum(construct_md_array(table_nos, NULL, 1, dims, lbs, INT4OID,
												   sizeof(int32), true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_md_array(redacted, redacted_null, 1, dims, lbs,
												   INT8OID, sizeof(int64), FLOAT8PASSBYVAL,
												   TYPALIGN_DOUBLE));
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
						 " 'redacted_rows', (SELECT pg_catalog.sum(r) FROM pg_catalog.unnest($4) AS u(r)),"
						 " 'fingerprint', pg_catalog.encode(v.fingerprint, 'hex'),"
						 " 'commit_hash', pg_catalog.encode(v.commit_hash, 'hex'),"
						 " 'tags', ARRAY(SELECT g.tag FROM aisec.tag g"
						 "   WHERE g.dataset_id = v.dataset_id AND g.version = v.version ORDER BY g.tag),"
						 " 'tables', (SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
						 "     'table', t.table_name, 'table_no', t.table_no, 'rows', t.rows,"
						 "     'redacted_rows', (SELECT u.r FROM ROWS FROM (pg_catalog.unnest($3),"
						 "       pg_catalog.unnest($4)) AS u(n, r) WHERE u.n = t.table_no),"
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
						 true, 4, types, values, NULL, snap);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("version " INT64_FORMAT " of dataset \"%s\" is missing", version, ds.name),
				 errhint("Run aisec.verify() to find what was changed.")));
	result = SPI_datumTransfer(aisec_spi_value(0, 0, &isnull), false, -1);
	upstream = upstream_of != NULL ? upstream_of(ds.id, version, snap) :
		DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"upstream\": []}"));
	aisec_spi_end(&spi);
	PG_RETURN_DATUM(DirectFunctionCall2(jsonb_concat, result, upstream));
}
