/*
 * masked_view.c
 *		Masked views: aisec.masked_view() and the generation of
 *		aisec_masked.<table> from a table's stored masking rules.
 *
 * The view is generated from parsed, checked rules (masking_rules.c):
 * every identifier comes from the catalog through quote_identifier, every
 * string argument goes through quote_literal, numbers are printed from
 * parsed integers, and every function, type and cast is schema-qualified.
 * Views are created and owned by the extension owner, so a masked role
 * reads them without any privilege on the base table; a view is re-created
 * whenever its table's rules change, and dropped with the last rule.
 *
 * Citus tables (distributed, reference, Citus local; issue 19).  Citus
 * plans a query on a view on the coordinator and sends the shards' queries
 * to the workers as the reading user, who must then hold privileges on the
 * shards: a masked role, which holds none, cannot read a plain masked view
 * of a distributed table (Citus issues 1683 and 6161).  So the masked view
 * of a Citus table reads its rows through a function,
 * aisec_masked.<table>(), SECURITY DEFINER and owned by the table's owner
 * (the rights a plain masked view reads with), whose body is the masking
 * query: Citus runs it on the workers, the masks included, as the owner,
 * and only masked values leave them.  EXECUTE on it goes to exactly the
 * roles the view is for.  A table with row-level security keeps its
 * security_invoker view: its readers need their own privileges anyway.
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "core/core.h"
#include "audit/audit.h"
#include "scaleout/scaleout.h"
#include "masking_internal.h"

#define REDACTED_TEXT		"[redacted]"

/* ----------------------------------------------------------------
 * Building the masked expression for one column
 * ----------------------------------------------------------------
 */

/* Append a schema-qualified cast target for the column's (base) type. */
static void
AppendType(StringInfo buf, const ColumnInfo *col)
{
	appendStringInfoString(buf, format_type_extended(col->basetype, col->typmod,
													 FORMAT_TYPE_FORCE_QUALIFY |
													 FORMAT_TYPE_TYPEMOD_GIVEN));
}

/*
 * Append CAST(col AS pg_catalog.text): for the text rules, whose columns
 * are text, varchar or char (or domains over them), a built-in cast.
 */
static void
AppendColumnAsText(StringInfo buf, const char *qcol)
{
	appendStringInfo(buf, "CAST(%s AS pg_catalog.text)", qcol);
}

/*
 * Append col's text form for a rule that takes any type (pseudonym).  A
 * cast between two built-in types is built in (only their owner, the
 * bootstrap superuser, can create one); a type made after initdb may have
 * a cast to text that its owner created, and a cast runs its function with
 * the rights of whoever reads the view, so those go through their type's
 * output function instead (aisec.output_text).  Domains count as their
 * base type, as casts do.
 */
static void
AppendAnyAsText(StringInfo buf, const char *qcol, const ColumnInfo *col)
{
	if (col->basetype < FirstNormalObjectId)
		AppendColumnAsText(buf, qcol);
	else
		appendStringInfo(buf, "aisec.output_text(%s)", qcol);
}

/* Append the SQL expression that masks column col under rule r. */
static void
AppendMaskExpr(StringInfo buf, const MaskRule *r, const ColumnInfo *col)
{
	const char *qcol = quote_identifier(col->name);

	switch (r->kind)
	{
		case MK_PARTIAL:
			appendStringInfoString(buf, "aisec.mask_partial(");
			AppendColumnAsText(buf, qcol);
			appendStringInfo(buf, ", %d, %d, %s)",
							 (int) mask_rule_int(r, 0),
							 (int) mask_rule_int(r, 1),
							 quote_literal_cstr(r->nargs == 3 ? r->args[2].val : "*"));
			break;
		case MK_EMAIL:
			appendStringInfoString(buf, "aisec.mask_email(");
			AppendColumnAsText(buf, qcol);
			appendStringInfoChar(buf, ')');
			break;
		case MK_DIGITS:
			appendStringInfoString(buf, "aisec.mask_digits(");
			AppendColumnAsText(buf, qcol);
			appendStringInfo(buf, ", %d, %s)",
							 r->nargs >= 1 ? (int) mask_rule_int(r, 0) : 4,
							 quote_literal_cstr(r->nargs == 2 ? r->args[1].val : "*"));
			break;
		case MK_PSEUDONYM:
			appendStringInfoString(buf, "aisec.pseudonymize(");
			AppendAnyAsText(buf, qcol, col);
			appendStringInfo(buf, ", %s)", quote_literal_cstr(r->args[0].val));
			break;
		case MK_FF1:
			appendStringInfoString(buf, "aisec.mask_ff1(");
			AppendColumnAsText(buf, qcol);
			appendStringInfo(buf, ", %s, %s)",
							 quote_literal_cstr(r->args[0].val),
							 quote_literal_cstr(r->nargs == 2 ? r->args[1].val : "0123456789"));
			break;
		case MK_GENERALIZE:
			appendStringInfo(buf, "aisec.generalize(%s, CAST(%s AS ", qcol,
							 quote_literal_cstr(r->args[0].val));
			if (r->args[0].kind == ARG_STR)
				appendStringInfoString(buf, "pg_catalog.text");
			else
				appendStringInfoString(buf, format_type_extended(col->basetype, -1,
																 FORMAT_TYPE_FORCE_QUALIFY));
			appendStringInfoString(buf, "))");
			break;
		case MK_NOISE:
			/* mask_noise returns the base type and fits the typmod: the cast cannot fail. */
			appendStringInfo(buf, "CAST(aisec.mask_noise(%s, %s, CAST(%s AS pg_catalog.float8), %d) AS ",
							 qcol, quote_literal_cstr(r->args[0].val), quote_literal_cstr(r->args[1].val),
							 (int) col->typmod);
			AppendType(buf, col);
			appendStringInfoChar(buf, ')');
			break;
		case MK_NULL:
			appendStringInfoString(buf, "CAST(NULL AS ");
			AppendType(buf, col);
			appendStringInfoChar(buf, ')');
			break;
		case MK_REDACT:
			appendStringInfo(buf, "CAST(%s AS pg_catalog.text)", quote_literal_cstr(REDACTED_TEXT));
			break;
	}
}

/*
 * The SQL expression that masks column col under rule r, as masked views
 * write it (for masked reads of versions, masked_version.c).
 */
char *
mask_expr_sql(const MaskRule *r, const ColumnInfo *col)
{
	StringInfoData buf;

	initStringInfo(&buf);
	AppendMaskExpr(&buf, r, col);
	return buf.data;
}

/* ----------------------------------------------------------------
 * Masked views
 * ----------------------------------------------------------------
 */

/*
 * Return the masked view registered for relid (named after the table when
 * it was made, so possibly under an older name), or InvalidOid.
 */
Oid
mask_view_of(Oid relid)
{
	Oid			nsp = get_namespace_oid(MASKED_SCHEMA, false);
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	Oid			viewid = InvalidOid;

	aisec_spi_begin(&spi);
	if (aisec_spi_run("SELECT view_name FROM aisec.mask_view "
					  "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
					  true, 1, &argtype, &arg, NULL, NULL) == 1)
	{
		bool		isnull;
		Datum		name = aisec_spi_value(0, 0, &isnull);

		if (!isnull)
			viewid = get_relname_relid(NameStr(*DatumGetName(name)), nsp);
	}
	aisec_spi_end(&spi);
	return viewid;
}

/* Load relid's rules: attnums and canonical rule texts, as the owner. */
static int
LoadRules(Oid relid, AttrNumber **attnums, char ***rules)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	int			n;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT attnum, rule FROM aisec.mask_rule "
					  "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass ORDER BY attnum",
					  true, 1, &argtype, &arg, NULL, NULL);
	*attnums = palloc(sizeof(AttrNumber) * (n + 1));
	*rules = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		(*attnums)[i] = DatumGetInt16(aisec_spi_value(i, 0, &isnull));
		/* Copied into the caller's context, which outlives aisec_spi_end. */
		(*rules)[i] = TextDatumGetCString(aisec_spi_value(i, 1, &isnull));
	}
	aisec_spi_end(&spi);
	return n;
}

/*
 * The options of relid's masked view.  Always security_barrier.  For a
 * table with row-level security, also security_invoker (PostgreSQL 15+):
 * the view is owned by the table's owner, whom RLS does not restrict
 * (unless forced) and whose policies are not the reader's, so a plain view
 * would show rows the reader's own SELECT would not; an invoker view
 * applies the reader's own privileges and policies instead.  A masked role
 * holds no privilege on the table, so it cannot read such a view: that is
 * the safe answer, and the documented one.  PostgreSQL 14 has no invoker
 * views, so there such tables are refused.
 */
static const char *
MaskedViewOptions(Oid relid)
{
	if (!mask_relation_rls(relid))
		return "security_barrier";
#if PG_VERSION_NUM >= 150000
	return "security_barrier, security_invoker = true";
#else
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("masked view of table \"%s\" with row-level security needs PostgreSQL 15 or later",
					get_rel_name(relid)),
			 errdetail("A masked view must apply the reader's own row-level security policies, which needs a security_invoker view."),
			 errhint("Disable row-level security on the table, or upgrade PostgreSQL.")));
	return NULL;				/* keep compiler quiet */
#endif
}

/*
 * True if relid's masked view reads through aisec_masked.<table>(), as
 * its owner (a Citus table without row-level security; see the file
 * header).
 */
static bool
ReadsThroughFunction(Oid relid)
{
	return aisec_citus_table(relid) && !mask_relation_rls(relid);
}

/*
 * Before aisec changes a Citus table's masked view in this transaction:
 * run Citus's multi-shard commands of the rest of the transaction over one
 * connection per node (citus.multi_shard_modify_mode = sequential, as SET
 * LOCAL), since Citus creates and drops aisec_masked.<table>() on the
 * workers only over such connections, and refuses to after a parallel
 * command on the table (the REVOKE of set_mask's first rule, the ALTER
 * TABLE whose event trigger rebuilds the view).
 */
void
mask_citus_sequential(Oid relid)
{
	if (aisec_citus_table(relid))
		(void) set_config_option("citus.multi_shard_modify_mode", "sequential",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
								 true, 0, false);
}

/*
 * The OID of aisec_masked.<name>(), or InvalidOid (from the catalog: the
 * caller may have no USAGE on aisec_masked).
 */
static Oid
RowsFunction(const char *name)
{
	return GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid, CStringGetDatum(name),
						   PointerGetDatum(buildoidvector(NULL, 0)),
						   ObjectIdGetDatum(get_namespace_oid(MASKED_SCHEMA, false)));
}

/*
 * Raise insufficient_privilege unless relid's owner may run the masks
 * aisec_masked.<table>() runs as that owner: EXECUTE on them and keyed
 * masks need aisec_admin or aisec_engineer (or a superuser).
 */
static void
RequireOwnerMayMask(Oid relid)
{
	Oid			owner = mask_relation_owner(relid);
	const char *roles[] = {"aisec_admin", "aisec_engineer"};

	if (superuser_arg(owner))
		return;
	for (int i = 0; i < lengthof(roles); i++)
	{
		Oid			role = get_role_oid(roles[i], true);

		if (OidIsValid(role) && has_privs_of_role(owner, role))
			return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("the owner of Citus table \"%s\" must be a member of \"aisec_admin\" or \"aisec_engineer\" for its masked view",
					get_rel_name(relid)),
			 errdetail("On Citus the masked view reads the table through aisec_masked.%s(), which runs the masks on the workers as the table's owner.",
					   quote_identifier(get_rel_name(relid))),
			 errhint("GRANT aisec_engineer TO %s, or give the table to a role that has it.",
					 quote_identifier(GetUserNameFromId(owner, false)))));
}

/*
 * The types of the result columns of a SELECT, in order, as "type" names
 * for a RETURNS TABLE list (typmods are not kept by function results).
 * Parse analysis only: nothing is planned or run.
 */
static List *
SelectResultTypes(const char *select)
{
	AisecSpi	spi;
	RawStmt    *raw;
	Query	   *query;
	List	   *types = NIL;
	ListCell   *lc;

	/* aisec_spi_begin pins search_path; every name in select is qualified. */
	aisec_spi_begin(&spi);
	raw = linitial_node(RawStmt, pg_parse_query(select));
#if PG_VERSION_NUM >= 150000
	query = parse_analyze_fixedparams(raw, select, NULL, 0, NULL);
#else
	query = parse_analyze(raw, select, NULL, 0, NULL);
#endif
	foreach(lc, query->targetList)
	{
		TargetEntry *te = lfirst_node(TargetEntry, lc);

		if (!te->resjunk)
			types = lappend(types, format_type_extended(exprType((Node *) te->expr), -1,
														FORMAT_TYPE_FORCE_QUALIFY));
	}
	aisec_spi_end(&spi);
	return types;
}

/*
 * Append the DDL of aisec_masked.<relname>(), which returns the masking
 * query's rows as the table's owner, and of the masked view qview over it
 * (a Citus table; see the file header).  cols are the view's quoted column
 * names.
 */
static void
AppendRowsFunctionView(StringInfo sql, Oid relid, const char *relname, const char *qview,
					   const char *select, List *cols)
{
	char	   *qfunc = quote_qualified_identifier(MASKED_SCHEMA, relname);
	List	   *types = SelectResultTypes(select);
	ListCell   *lc;
	ListCell   *lt;
	bool		first = true;

	RequireOwnerMayMask(relid);
	appendStringInfo(sql, "CREATE FUNCTION %s() RETURNS TABLE (", qfunc);
	forboth(lc, cols, lt, types)
	{
		appendStringInfo(sql, "%s%s %s", first ? "" : ", ", (char *) lfirst(lc), (char *) lfirst(lt));
		first = false;
	}
	appendStringInfo(sql, ") LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp "
					 "BEGIN ATOMIC %s; END; ", select);
	appendStringInfo(sql, "ALTER FUNCTION %s() OWNER TO %s; ", qfunc,
					 quote_identifier(GetUserNameFromId(mask_relation_owner(relid), false)));
	appendStringInfo(sql, "REVOKE ALL ON FUNCTION %s() FROM PUBLIC; ", qfunc);
	appendStringInfo(sql, "GRANT EXECUTE ON FUNCTION %s() TO aisec_admin, aisec_engineer, aisec_masked_reader; ",
					 qfunc);
	appendStringInfo(sql, "COMMENT ON FUNCTION %s() IS %s; ", qfunc,
					 quote_literal_cstr(psprintf("aisec: the rows of masked view %s of Citus table %s, masked on the workers "
												 "as the table's owner (generated by aisec.masked_view)",
												 qview, aisec_qualified_name(relid))));
	appendStringInfo(sql, "CREATE VIEW %s WITH (security_barrier) AS SELECT ", qview);
	first = true;
	foreach(lc, cols)
	{
		appendStringInfo(sql, "%sm.%s", first ? "" : ", ", (char *) lfirst(lc));
		first = false;
	}
	appendStringInfo(sql, " FROM %s() m; ", qfunc);
}

/*
 * True if relid's masked view has the owner, options and form (through
 * aisec_masked.<table>() or not) mask_build_view gives it.
 */
static bool
ViewIsCurrent(Oid relid, Oid view)
{
	Relation	vrel = relation_open(view, AccessShareLock);
	bool		current = vrel->rd_rel->relowner == mask_relation_owner(relid);

#if PG_VERSION_NUM >= 150000
	current = current && RelationHasSecurityInvoker(vrel) == mask_relation_rls(relid);
#else
	current = current && !mask_relation_rls(relid);
#endif
	current = current &&
		OidIsValid(RowsFunction(RelationGetRelationName(vrel))) == ReadsThroughFunction(relid);
	relation_close(vrel, AccessShareLock);
	return current;
}

/*
 * Rebuild every masked view whose table changed owner or row-level
 * security since it was built (called after ALTER TABLE).  On PostgreSQL
 * 14, enabling row-level security on a masked table fails here.
 */
void
mask_refresh_stale_views(void)
{
	List	   *rels = mask_ruled_tables();
	ListCell   *lc;

	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		Oid			view = mask_view_of(relid);

		if (OidIsValid(view) && !ViewIsCurrent(relid, view))
			(void) mask_build_view(relid);
	}
}

/*
 * Create or re-create aisec_masked.<table> for relid from its rules, or
 * drop it if relid has none left.  Returns the view's OID (or InvalidOid).
 */
Oid
mask_build_view(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	char	   *qview = quote_qualified_identifier(MASKED_SCHEMA, relname);
	Oid			nsp = get_namespace_oid(MASKED_SCHEMA, false);
	Oid			existing = get_relname_relid(relname, nsp);
	Oid			registered = mask_view_of(relid);
	AttrNumber *attnums;
	char	  **rules;
	int			nrules = LoadRules(relid, &attnums, &rules);
	bool		through_function;
	StringInfoData sql;
	StringInfoData select;
	List	   *cols = NIL;
	Relation	rel;
	TupleDesc	desc;
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		args[2];
	List	   *roles;
	ListCell   *lc;
	AisecSpi	spi;
	int			applied = 0;
	int			guc_nest = -1;

	mask_citus_sequential(relid);
	if (OidIsValid(existing) && existing != registered)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("masked view \"%s.%s\" already exists for another table",
						MASKED_SCHEMA, relname),
				 errhint("Masked views are named after their table; rename one of the two tables.")));

	/*
	 * Drop the current view, and the function a Citus table's view reads
	 * through, which have the table's old name after a rename.
	 */
	initStringInfo(&sql);
	if (OidIsValid(registered))
	{
		char	   *oldname = get_rel_name(registered);

		appendStringInfo(&sql, "DROP VIEW %s; ", quote_qualified_identifier(MASKED_SCHEMA, oldname));
		if (OidIsValid(RowsFunction(oldname)))
			appendStringInfo(&sql, "DROP FUNCTION %s(); ", quote_qualified_identifier(MASKED_SCHEMA, oldname));
	}
	args[0] = ObjectIdGetDatum(relid);
	args[1] = DirectFunctionCall1(namein, CStringGetDatum(relname));
	if (nrules == 0)
	{
		aisec_spi_begin(&spi);
		if (OidIsValid(registered))
			aisec_spi_ddl(true, "%s", sql.data);
		(void) aisec_spi_run("DELETE FROM aisec.mask_view WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
							 true, 1, argtypes, args, NULL, NULL);
		aisec_spi_end(&spi);
		return InvalidOid;
	}

	/* The masking query: every column, masked by its rule or as it is. */
	initStringInfo(&select);
	appendStringInfoString(&select, "SELECT ");
	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		const char *qcol;
		int			r;

		if (att->attisdropped)
			continue;
		qcol = quote_identifier(NameStr(att->attname));
		if (cols != NIL)
			appendStringInfoString(&select, ", ");
		cols = lappend(cols, (char *) qcol);
		for (r = 0; r < nrules && attnums[r] != att->attnum; r++)
			;
		if (r < nrules)
		{
			MaskRule	rule;
			ColumnInfo	col;

			mask_rule_parse(rules[r], &rule);
			mask_column_info(relid, att->attnum, &col);
			mask_rule_check(&rule, &col, true);
			AppendMaskExpr(&select, &rule, &col);
			appendStringInfo(&select, " AS %s", qcol);
			applied++;
		}
		else
			appendStringInfoString(&select, qcol);
	}
	table_close(rel, AccessShareLock);
	/* Fail closed: every stored rule must have found its column. */
	if (applied != nrules)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a masking rule of \"%s\" names a column that no longer exists", relname),
				 errhint("See aisec.mask_rule; drop the rule with aisec.drop_mask or re-set it.")));
	/* ONLY would hide every row of a partitioned table. */
	appendStringInfo(&select, " FROM %s%s",
					 get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ? "" : "ONLY ",
					 aisec_qualified_name(relid));

	through_function = ReadsThroughFunction(relid);
	if (through_function)
		AppendRowsFunctionView(&sql, relid, relname, qview, select.data, cols);
	else
		appendStringInfo(&sql, "CREATE VIEW %s WITH (%s) AS %s; ", qview, MaskedViewOptions(relid),
						 select.data);
	/* The table's owner owns the view: it reads with the owner's rights. */
	appendStringInfo(&sql, "ALTER VIEW %s OWNER TO %s; ", qview,
					 quote_identifier(GetUserNameFromId(mask_relation_owner(relid), false)));
	appendStringInfo(&sql, "COMMENT ON VIEW %s IS %s; ", qview,
					 quote_literal_cstr(psprintf("aisec masked view of %s (generated by aisec.masked_view)",
												 aisec_qualified_name(relid))));
	appendStringInfo(&sql, "GRANT SELECT ON %s TO aisec_admin, aisec_engineer", qview);
	roles = mask_masked_roles();
	foreach(lc, roles)
		appendStringInfo(&sql, ", %s", quote_identifier(GetUserNameFromId(lfirst_oid(lc), false)));
	/*
	 * Called from an update script of aisec (a release regenerating the
	 * views): what that script creates becomes part of the extension, which
	 * pg_dump would then leave out.  A masked view is the table's, not
	 * aisec's.
	 */
	if (creating_extension && CurrentExtensionObject == get_extension_oid(AISEC_EXTENSION, true))
	{
		appendStringInfo(&sql, "; ALTER EXTENSION %s DROP VIEW %s", AISEC_EXTENSION, qview);
		if (through_function)
			appendStringInfo(&sql, "; ALTER EXTENSION %s DROP FUNCTION %s()", AISEC_EXTENSION,
							 quote_qualified_identifier(MASKED_SCHEMA, relname));
	}

	/*
	 * The masked view of a local table in a Citus cluster stays local: say
	 * so to Citus, which would otherwise warn that it cannot propagate it.
	 */
	if (aisec_citus_installed() && !aisec_citus_table(relid))
	{
		guc_nest = NewGUCNestLevel();
		(void) set_config_option("citus.enable_ddl_propagation", "off",
								 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
								 true, 0, false);
	}
	aisec_spi_begin(&spi);
	aisec_spi_ddl(true, "%s", sql.data);
	if (guc_nest >= 0)
		AtEOXact_GUC(true, guc_nest);
	(void) aisec_spi_run("INSERT INTO aisec.mask_view (rel, view_name) VALUES ($1::pg_catalog.regclass, $2) "
						 "ON CONFLICT (rel) DO UPDATE SET view_name = EXCLUDED.view_name, refreshed = pg_catalog.now()",
						 true, 2, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);
	CommandCounterIncrement();
	return get_relname_relid(relname, nsp);
}

/* SQL: aisec.masked_view(rel) (re)creates aisec_masked.<table>; returns it. */
PG_FUNCTION_INFO_V1(aisec_masked_view);
Datum
aisec_masked_view(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	Oid			view;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.masked_view()");
	aisec_prevent_if_read_only("aisec.masked_view()");
	LockRelationOid(relid, ShareUpdateExclusiveLock);
	mask_check_relation(relid);
	mask_require_owner(relid);
	view = mask_build_view(relid);
	if (!OidIsValid(view))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no masking rules", get_rel_name(relid)),
				 errhint("Add one with aisec.set_mask(table, column, rule).")));
	aisec_audit_log("mask.view", aisec_qualified_name(relid), "{}");
	PG_RETURN_OID(view);
}
