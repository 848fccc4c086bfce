/*
 * masked_version.c
 *		What versioning asks of masking to read a version masked: who must
 *		read masked, which table a masked view masks, and the view's masking
 *		expressions, to apply to the rows of a version instead of the live
 *		table's.
 *
 * A version read masked has the masked view's row type and its columns:
 * each is computed by the view's own expression (the table's current
 * rule), over the version's row instead of the live one.  A column the
 * view passes through unmasked, but which had a rule when the version was
 * committed (recorded in aisec.version_table.columns), is masked with
 * that recorded rule; if the rule's result does not have the view
 * column's type, or its key is gone, the column is NULL instead (never
 * the raw value).  The expressions are taken from the view's stored query
 * and, for recorded rules, parsed from the SQL a masked view would hold
 * for them (mask_expr_sql), with search_path pinned: every function, type
 * and cast in it is schema-qualified, as in the views.  They are handed
 * to versioning as expression trees, which it evaluates as the reader, so
 * EXECUTE on the masking functions and their keyed-use check apply as they
 * do to the view.  Versioning never includes masking; masking registers
 * these functions at load time (aisec_versioning_set_masking).
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "keys/keys.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parse_coerce.h"
#include "parser/parser.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "core/core.h"
#include "versioning/versioning.h"
#include "masking_internal.h"

/*
 * Whether the current user reads governed tables only masked: a role
 * registered with aisec.mask_role(), or one that has its privileges
 * (a member).  Superusers never are (they have every role's privileges).
 */
static bool
MaskedUser(void)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(GetUserId());
	bool		masked;

	if (superuser())
		return false;
	aisec_spi_begin(&spi);
	masked = aisec_spi_read("SELECT 1 FROM aisec.masked_role r "
							"WHERE pg_catalog.pg_has_role($1, r.role::pg_catalog.oid, 'USAGE') LIMIT 1",
							true, 1, &argtype, &arg, NULL, NULL) == 1;
	aisec_spi_end(&spi);
	return masked;
}

/*
 * The table whose masked view view is, or InvalidOid: view must be in
 * aisec_masked and be the view aisec.mask_view registers for its table.
 */
static Oid
TableOfView(Oid view)
{
	Oid			nsp = get_namespace_oid(MASKED_SCHEMA, true);
	char	   *name = get_rel_name(view);
	AisecSpi	spi;
	Oid			argtype = NAMEOID;
	Datum		arg;
	Oid			relid = InvalidOid;

	if (!OidIsValid(nsp) || name == NULL || get_rel_namespace(view) != nsp ||
		get_rel_relkind(view) != RELKIND_VIEW)
		return InvalidOid;
	arg = DirectFunctionCall1(namein, CStringGetDatum(name));
	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT rel::pg_catalog.oid FROM aisec.mask_view "
					   "WHERE view_name OPERATOR(pg_catalog.=) $1",
					   true, 1, &argtype, &arg, NULL, NULL) == 1)
	{
		bool		isnull;

		relid = DatumGetObjectId(aisec_spi_value(0, 0, &isnull));
	}
	aisec_spi_end(&spi);
	if (OidIsValid(relid) && mask_view_of(relid) != view)
		relid = InvalidOid;
	return relid;
}

/*
 * The rule recorded for each column of relid in a version's column list
 * (jsonb text, [{"name", "type"[, "mask"]}, ...] in attnum order, without
 * dropped columns): masks[attnum] is the rule's text, or NULL.  Columns
 * are matched by position, since names may have changed since; a column
 * whose recorded type is not its type now gets "" (no rule can be
 * trusted for it: it is masked as NULL).
 */
static char **
RecordedMasks(Oid relid, const char *recorded, int natts)
{
	char	  **masks = palloc0(sizeof(char *) * (natts + 1));
	AisecSpi	spi;
	Oid			argtype = TEXTOID;
	Datum		arg;
	int			n;
	int			pos = 0;
	Relation	rel;
	TupleDesc	desc;

	if (recorded == NULL)
		return masks;
	arg = CStringGetTextDatum(recorded);
	rel = relation_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	aisec_spi_begin(&spi);
	n = aisec_spi_read("SELECT e.c OPERATOR(pg_catalog.->>) 'type', e.c OPERATOR(pg_catalog.->>) 'mask' "
					   "FROM pg_catalog.jsonb_array_elements($1::pg_catalog.jsonb) WITH ORDINALITY AS e(c, i) "
					   "ORDER BY e.i",
					   true, 1, &argtype, &arg, NULL, NULL);
	for (int a = 0; a < desc->natts && pos < n; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a);
		bool		typenull;
		bool		masknull;
		Datum		type;
		Datum		mask;

		if (att->attisdropped)
			continue;
		type = aisec_spi_value(pos, 0, &typenull);
		mask = aisec_spi_value(pos, 1, &masknull);
		pos++;
		if (typenull ||
			strcmp(TextDatumGetCString(type), format_type_with_typemod(att->atttypid, att->atttypmod)) != 0)
			masks[att->attnum] = "";
		else if (!masknull)
			masks[att->attnum] = TextDatumGetCString(mask);
	}
	aisec_spi_end(&spi);
	relation_close(rel, AccessShareLock);
	return masks;
}

/* Whether the key rule r names exists with the purpose r needs (or r needs none). */
static bool
RuleKeyExists(const MaskRule *r)
{
	switch (r->kind)
	{
		case MK_PSEUDONYM:
		case MK_NOISE:
			return aisec_key_exists(r->args[0].val, AISEC_KEY_HMAC);
		case MK_FF1:
			return aisec_key_exists(r->args[0].val, AISEC_KEY_FF1);
		default:
			return true;
	}
}

/*
 * Parse the masking expression sql over relid's row, as SELECT sql FROM
 * ONLY relid, with search_path pinned; return its expression (its Vars
 * name relid's columns, varno 1).
 */
static Node *
ParseMaskExpr(Oid relid, const char *expr)
{
	char	   *sql = psprintf("SELECT %s FROM ONLY %s", expr, aisec_qualified_name(relid));
	AisecSpi	spi;
	List	   *raw;
	Query	   *q;

	aisec_spi_begin(&spi);
	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	if (list_length(raw) != 1)
		elog(ERROR, "aisec: a masking expression did not parse as one statement");
#if PG_VERSION_NUM >= 150000
	q = parse_analyze_fixedparams(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
#else
	q = parse_analyze(linitial_node(RawStmt, raw), sql, NULL, 0, NULL);
#endif
	aisec_spi_end(&spi);
	if (q->commandType != CMD_SELECT || list_length(q->targetList) != 1)
		elog(ERROR, "aisec: a masking expression did not parse as one column");
	return (Node *) linitial_node(TargetEntry, q->targetList)->expr;
}

/*
 * The expression masking column attnum of relid with recorded rule text,
 * as a value of the view column's type (type, typmod, collation): the
 * rule's expression if it has that type, cast if both are strings (text
 * to varchar or char: a cast that never fails), otherwise NULL.  NULL
 * too if the rule's key no longer exists.
 */
static Node *
RecordedRuleExpr(Oid relid, AttrNumber attnum, const char *text,
				 Oid type, int32 typmod, Oid collation)
{
	Node	   *null = (Node *) makeNullConst(type, typmod, collation);
	MaskRule	rule;
	ColumnInfo	col;
	Node	   *expr;
	Oid			etype;

	if (text[0] == '\0')
		return null;
	mask_rule_parse(text, &rule);
	mask_column_info(relid, attnum, &col);
	if (!RuleKeyExists(&rule))
		return null;
	mask_rule_check(&rule, &col, false);
	expr = ParseMaskExpr(relid, mask_expr_sql(&rule, &col));
	etype = exprType(expr);
	if (etype == type)
		return expr;
	if (etype == TEXTOID && (type == VARCHAROID || type == BPCHAROID))
		return coerce_to_target_type(NULL, expr, etype, type, typmod, COERCION_EXPLICIT,
									 COERCE_EXPLICIT_CAST, -1);
	return null;
}

/* Context of CheckVars: the view query's range table and the table. */
typedef struct VarCheck
{
	List	   *rtable;
	Oid			relid;
} VarCheck;

/* Refuse a view expression that reads anything but relid's own columns. */
static bool
CheckVars(Node *node, VarCheck *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *var = (Var *) node;
		RangeTblEntry *rte;

		if (var->varlevelsup != 0 || var->varno < 1 || var->varno > list_length(ctx->rtable) ||
			var->varattno <= 0)
			elog(ERROR, "aisec: masked view reads something other than its table's columns");
		rte = rt_fetch(var->varno, ctx->rtable);
		if (rte->rtekind != RTE_RELATION || rte->relid != ctx->relid)
			elog(ERROR, "aisec: masked view reads something other than its table's columns");
		return false;
	}
	if (IsA(node, SubLink) || IsA(node, Query))
		elog(ERROR, "aisec: masked view has a subquery");
	return expression_tree_walker(node, CheckVars, (void *) ctx);
}

/*
 * One expression per column of masked view view over a row of relid: the
 * view's own, or for a column it passes through, the recorded rule's
 * (see RecordedRuleExpr).
 */
static List *
MaskedColumns(Oid view, Oid relid, const char *recorded)
{
	Relation	vrel = relation_open(view, AccessShareLock);
	Query	   *q = copyObject(get_view_query(vrel));
	Relation	rel = relation_open(relid, AccessShareLock);
	int			natts = RelationGetNumberOfAttributes(rel);
	char	  **masks;
	VarCheck	ctx = {q->rtable, relid};
	List	   *result = NIL;
	ListCell   *lc;

	relation_close(vrel, AccessShareLock);
	relation_close(rel, AccessShareLock);
	masks = RecordedMasks(relid, recorded, natts);
	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Node	   *expr = (Node *) tle->expr;

		if (tle->resjunk)
			continue;
		(void) CheckVars(expr, &ctx);
		if (IsA(expr, Var) && ((Var *) expr)->varattno <= natts &&
			masks[((Var *) expr)->varattno] != NULL)
			expr = RecordedRuleExpr(relid, ((Var *) expr)->varattno, masks[((Var *) expr)->varattno],
									exprType(expr), exprTypmod(expr), exprCollation(expr));
		result = lappend(result, expr);
	}
	return result;
}

static const AisecVersionMasking version_masking = {
	.masked_user = MaskedUser,
	.view_of = mask_view_of,
	.table_of = TableOfView,
	.columns = MaskedColumns,
};

/* _PG_init (through aisec_masking_init): register with versioning. */
void
mask_register_versions(void)
{
	aisec_versioning_set_masking(&version_masking);
}
