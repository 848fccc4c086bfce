/*
 * checkout.c
 *		Reading a committed version of a tracked table: the reader that
 *		aisec.checkout() and its custom scan (checkout_scan.c) share, and
 *		aisec.materialize(), which copies a version into a new table.
 *
 * Committed version v of a table is the set of its history records with
 * valid_from <= v and no ended record with valid_to <= v; a redacted
 * record (no row) is left out.  The reader uses the caller's snapshot, and
 * checks the caller's role, SELECT privilege on the table and that its
 * row-level security does not apply to the caller (version_require_select)
 * first: aisec shows no more of a table than the table itself would.  Read
 * through the row type of the table's masked view, it returns the rows
 * masked as the view masks them, and checks what reading the view needs
 * (checkout_masked.c); a role that may read the table only masked gets
 * only that form.  Every way of reading a version (the function, its
 * custom scan, materialize) goes through this reader.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "audit/audit.h"
#include "version.h"

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
	MaskedRows *masked;			/* the masked form: rows masked as the view */
};

/* The version's recorded column list of a table (jsonb text), or NULL. */
static char *
RecordedColumns(const Dataset *ds, const TrackedTable *tt, int64 version, Snapshot snap)
{
	Oid			types[3] = {INT4OID, INT8OID, INT4OID};
	Datum		values[3] = {Int32GetDatum(ds->id), Int64GetDatum(version),
	Int32GetDatum(tt->table_no)};
	bool		isnull;
	Datum		d;

	if (aisec_spi_run("SELECT columns::pg_catalog.text FROM aisec.version_table "
					  "WHERE dataset_id = $1 AND version = $2 AND table_no = $3",
					  true, 3, types, values, NULL, snap) != 1)
		return NULL;
	d = aisec_spi_value(0, 0, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Start reading the rows of a tracked table at a committed version, for
 * aisec.checkout(NULL::t, version or tag): rowtype is the first argument's
 * type, versiontype the second's (bigint or text), and version its value.
 * Check the caller (role and SELECT on the table) and the version first.
 * If rowtype is the row type of t's masked view (NULL::aisec_masked.t),
 * the rows are t's, masked as the view masks them (checkout_masked.c),
 * and the caller needs what reading the view needs instead.
 */
CheckoutReader *
version_checkout_begin(Oid rowtype, Oid versiontype, Datum version, bool isnull,
					   Snapshot snap)
{
	Oid			relid = OidIsValid(rowtype) ? get_typ_typrelid(rowtype) : InvalidOid;
	Oid			view = InvalidOid;
	CheckoutReader *r = palloc0(sizeof(CheckoutReader));
	TrackedTable tt;
	Dataset		ds;
	AisecSpi	spi;
	char	   *recorded = NULL;

	version_require_reader("aisec.checkout()");
	if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_VIEW)
	{
		view = relid;
		relid = version_masked_table_of(view);
	}
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aisec.checkout() needs a tracked table's row type"),
				 errhint("Pass NULL cast to the table's type, as in aisec.checkout(NULL::loans, 3).")));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("version or tag must not be NULL")));
	if (OidIsValid(view))
		version_require_masked_select(view, relid);
	else
		version_require_select(relid);

	aisec_spi_begin(&spi);
	ds = version_table_dataset(relid, &tt, snap);
	if (versiontype == INT8OID)
		r->version = DatumGetInt64(version);
	else
		r->version = version_of_tag(&ds, TextDatumGetCString(version), snap);
	version_check(&ds, r->version, false);
	if (OidIsValid(view))
		recorded = RecordedColumns(&ds, &tt, r->version, snap);
	aisec_spi_end(&spi);

	if (OidIsValid(view))
		r->masked = version_masked_begin(view, relid, recorded);
	/* Records that ended by then are left out (a hash of the ended ones). */
	r->ended = history_ended_map(&tt, r->version, snap);
	r->hrel = table_open(tt.history, AccessShareLock);
	r->scan = table_beginscan(r->hrel, snap, 0, NULL);
	return r;
}

/*
 * The next row of the version, as a tuple of the table's row type (the
 * layout it had when the row was captured), or of its masked view's for
 * the masked form, or NULL at the end.  It stays valid until the next
 * call.
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
		if (r->masked)
			return version_masked_row(r->masked, &r->row);
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
	if (r->masked)
		version_masked_end(r->masked);
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

/*
 * SQL: aisec.checkout('t', version or tag), with the table's name instead
 * of its row type.  Only there to say how to write it: without this
 * overload, PostgreSQL cannot resolve the polymorphic result of
 * aisec.checkout(anyelement, ...) from a string literal and says only
 * that.  A literal (type unknown) prefers this text form; NULL::t and
 * NULL::aisec_masked.t cannot become text, so they keep the real one.
 */
/*
 * The relation name (a table name, possibly schema-qualified) names, or
 * InvalidOid; never an error of its own (not for a schema the caller may
 * not use, nor for a name of three parts), since it only serves a hint.
 */
static Oid
NamedRelation(char *name)
{
	List	   *names;
	Oid			nsp;
	AclResult	acl;

	if (!SplitIdentifierString(name, '.', &names) || list_length(names) < 1)
		return InvalidOid;
	if (list_length(names) == 1)
		return RelnameGetRelid(linitial(names));
	if (list_length(names) != 2)
		return InvalidOid;
	nsp = get_namespace_oid(linitial(names), true);
	if (!OidIsValid(nsp))
		return InvalidOid;
#if PG_VERSION_NUM >= 160000
	acl = object_aclcheck(NamespaceRelationId, nsp, GetUserId(), ACL_USAGE);
#else
	acl = pg_namespace_aclcheck(nsp, GetUserId(), ACL_USAGE);
#endif
	return acl == ACLCHECK_OK ? get_relname_relid(lsecond(names), nsp) : InvalidOid;
}

PG_FUNCTION_INFO_V1(aisec_checkout_by_name);
Datum
aisec_checkout_by_name(PG_FUNCTION_ARGS)
{
	char	   *example;
	char	   *rowtype = "my_table";
	char	   *masked = "aisec_masked.my_table";
	Oid			relid = InvalidOid;

	version_require_reader("aisec.checkout()");
	if (PG_ARGISNULL(1))
		example = "3";
	else if (get_fn_expr_argtype(fcinfo->flinfo, 1) == INT8OID)
		example = psprintf(INT64_FORMAT, PG_GETARG_INT64(1));
	else
		example = quote_literal_cstr(text_to_cstring(PG_GETARG_TEXT_PP(1)));
	if (!PG_ARGISNULL(0))
		relid = NamedRelation(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_RELATION)
	{
		Oid			view = version_masked_view_of(relid);

		rowtype = format_type_be(get_rel_type_id(relid));
		masked = OidIsValid(view) ? format_type_be_qualified(get_rel_type_id(view)) : NULL;
		/* A role that may read it only masked is shown only that form. */
		if (masked && (version_masked_user() ||
					   pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK))
			rowtype = NULL;
	}
	else if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_VIEW &&
			 OidIsValid(version_masked_table_of(relid)))
	{
		/* A masked view's name: its row type is the masked form. */
		rowtype = format_type_be_qualified(get_rel_type_id(relid));
		masked = NULL;
	}
	if (masked == NULL && version_masked_user())
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aisec.checkout() takes the table's row type, not its name"),
				 errdetail("The rows it returns have the type of its first argument, and a name has none."),
				 errhint("A masked role reads versions only of tables with a masked view, masked: aisec.checkout(NULL::aisec_masked.<table>, %s).", example)));
	if (rowtype == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("aisec.checkout() takes the table's row type, not its name"),
				 errdetail("The rows it returns have the type of its first argument, and a name has none."),
				 errhint("Write aisec.checkout(NULL::%s, %s): you read this table masked.", masked, example)));
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("aisec.checkout() takes the table's row type, not its name"),
			 errdetail("The rows it returns have the type of its first argument, and a name has none."),
			 masked ?
			 errhint("Write aisec.checkout(NULL::%s, %s), or aisec.checkout(NULL::%s, %s) to read it masked.",
					 rowtype, example, masked, example) :
			 errhint("Write aisec.checkout(NULL::%s, %s).", rowtype, example)));
	PG_RETURN_NULL();			/* keep compiler quiet */
}

/*
 * SQL: aisec.materialize(t, version, target) copies a version to a table;
 * given t's masked view aisec_masked.t, it copies the version's masked
 * form (checkout_masked.c), with the view's columns.
 */
PG_FUNCTION_INFO_V1(aisec_materialize);
Datum
aisec_materialize(PG_FUNCTION_ARGS)
{
	Oid			relid;
	Oid			view = InvalidOid;
	Oid			source;
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
	if (get_rel_relkind(relid) == RELKIND_VIEW && OidIsValid(version_masked_table_of(relid)))
	{
		view = relid;
		relid = version_masked_table_of(view);
	}
	if (get_rel_relkind(relid) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errhint("Pass a tracked table, or its masked view aisec_masked.<table> for a masked copy.")));
	/* Checkout checks again; checked here, nothing is created first. */
	if (OidIsValid(view))
		version_require_masked_select(view, relid);
	else
		version_require_select(relid);
	source = OidIsValid(view) ? view : relid;

	/* The new table goes where CREATE TABLE would put it for the caller. */
	nsp = RangeVarGetCreationNamespace(makeRangeVar(NULL, target, -1));
	qtarget = quote_qualified_identifier(get_namespace_name(nsp), target);
	qrel = aisec_qualified_name(relid);

	aisec_spi_begin(&spi);
	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (LIKE %s)", qtarget, aisec_qualified_name(source));
	(void) aisec_spi_run(sql.data, false, 0, NULL, NULL, NULL, NULL);
	resetStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s SELECT * FROM aisec.checkout(NULL::%s, $1)",
					 qtarget, format_type_be_qualified(get_rel_type_id(source)));
	values[0] = Int64GetDatum(version);
	rows = aisec_spi_run(sql.data, false, 1, types, values, NULL, NULL);
	aisec_spi_end(&spi);
	if (history_lineage() != NULL)
	{
		TrackedTable tt;

		CommandCounterIncrement();
		if (history_lookup(relid, &tt))
			history_lineage()->materialized(relid, tt.table_no, version,
											get_relname_relid(target, nsp));
	}

	initStringInfo(&detail);
	appendStringInfo(&detail, "{\"table\": %s, \"version\": " INT64_FORMAT
					 ", \"rows\": " INT64_FORMAT "%s}",
					 version_json_string(qrel), version, rows,
					 OidIsValid(view) ? ", \"masked\": true" : "");
	aisec_audit_log("version.materialize", qtarget, detail.data);
	PG_RETURN_INT64(rows);
}
