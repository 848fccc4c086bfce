/*
 * masking_rules.c
 *		Masking rules per column, the masked views that apply them, masked
 *		roles, and statically masked exports.
 *
 * A rule is a small language (doc/masking.md), parsed here into a closed
 * set of transforms (MaskKind) with typed, range-checked arguments, and
 * checked against the column's type and the key store when it is set.  It
 * is stored in canonical form (aisec.mask_rule) and never executed: the
 * masked view aisec_masked.<table> is generated from the parsed structure,
 * where every identifier comes from the catalog through quote_identifier,
 * every string argument goes through quote_literal, numbers are printed
 * from parsed integers, and every function, type and cast is schema-
 * qualified.  No text a user typed reaches the SQL parser as SQL.
 *
 * Views are created and owned by the extension owner, so a masked role
 * reads them without any privilege on the base table.  mask_role() revokes
 * every privilege the role holds on governed tables and then proves that
 * none remains (through PUBLIC or role membership either), since any
 * privilege on a table can leak its values: SELECT directly, INSERT and
 * REFERENCES through unique and foreign-key violations, UPDATE and DELETE
 * through WHERE clauses and RETURNING.
 *
 * Lookups made while changing rules run with read_only = false, so they
 * see this transaction's own changes; aisec_require_keyed_use, which runs
 * inside masked queries and parallel workers, reads only.
 *
 * Rules survive renames (the relation is a regclass, the column an attnum
 * whose current name is read from the catalog) and dump/restore (regclass
 * and column name are dumped as names; a trigger on insert re-resolves the
 * attnum from the name, since restored tables renumber their columns).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "core/core.h"
#include "audit/audit.h"
#include "keys/keys.h"
#include "masking.h"

#define MASKED_SCHEMA		"aisec_masked"
#define RULE_MAX_LEN		256
#define RULE_MAX_ARGS		3
#define RULE_MAX_STRING		100
#define REDACTED_TEXT		"[redacted]"

/* The closed set of transforms a rule can name. */
typedef enum MaskKind
{
	MK_PARTIAL,
	MK_EMAIL,
	MK_DIGITS,
	MK_PSEUDONYM,
	MK_FF1,
	MK_GENERALIZE,
	MK_NOISE,
	MK_NULL,
	MK_REDACT
} MaskKind;

static const char *const kind_names[] = {
	"partial", "email", "digits", "pseudonym", "ff1", "generalize", "noise", "null", "redact"
};

/* Lexical kinds of rule arguments. */
typedef enum ArgKind
{
	ARG_INT,					/* [+-]digits */
	ARG_NUM,					/* [+-]digits.digits */
	ARG_STR,					/* 'quoted', '' for a quote */
	ARG_IDENT					/* key name */
} ArgKind;

typedef struct RuleArg
{
	ArgKind		kind;
	char	   *val;			/* digits, unquoted string or identifier */
} RuleArg;

/* A parsed rule. */
typedef struct MaskRule
{
	MaskKind	kind;
	int			nargs;
	RuleArg		args[RULE_MAX_ARGS];
} MaskRule;

/* What the rule will be applied to. */
typedef struct ColumnInfo
{
	Oid			relid;
	AttrNumber	attnum;
	const char *name;
	Oid			basetype;		/* domain resolved to its base type */
	int32		typmod;
} ColumnInfo;

/* ----------------------------------------------------------------
 * Parsing and checking rules
 * ----------------------------------------------------------------
 */

/* Raise the error for a rule that does not parse or fit; never runs it. */
static void
ReportBadRule(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid masking rule"),
			 errdetail("%s", detail),
			 errhint("Rules are: partial(keep_prefix, keep_suffix[, 'pad']), email, "
					 "digits([keep_last[, 'pad']]), pseudonym(key), ff1(key[, 'alphabet']), "
					 "generalize(step) or generalize('unit'), noise(key, ratio), null, redact.")));
}

/* Skip blanks (space, tab, newline) in the rule text. */
static const char *
SkipBlanks(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Parse one argument at p into arg; returns the position after it. */
static const char *
ParseArg(const char *p, RuleArg *arg)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (*p == '\'')
	{
		arg->kind = ARG_STR;
		for (p++;; p++)
		{
			if (*p == '\0')
				ReportBadRule("A quoted string is not closed.");
			if (*p == '\'' && p[1] == '\'')
				p++;
			else if (*p == '\'')
				break;
			appendStringInfoChar(&buf, *p);
			if (buf.len > RULE_MAX_STRING)
				ReportBadRule("A quoted string is longer than 100 bytes.");
		}
		p++;
	}
	else if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+')
	{
		arg->kind = ARG_INT;
		if (*p == '-' || *p == '+')
			appendStringInfoChar(&buf, *p++);
		if (!(*p >= '0' && *p <= '9'))
			ReportBadRule("A number has no digits.");
		while ((*p >= '0' && *p <= '9') || *p == '.')
		{
			if (*p == '.')
			{
				if (arg->kind == ARG_NUM || !(p[1] >= '0' && p[1] <= '9'))
					ReportBadRule("A number is malformed.");
				arg->kind = ARG_NUM;
			}
			appendStringInfoChar(&buf, *p++);
			if (buf.len > 30)
				ReportBadRule("A number has more than 30 characters.");
		}
	}
	else if ((*p >= 'a' && *p <= 'z') || *p == '_')
	{
		arg->kind = ARG_IDENT;
		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
		{
			appendStringInfoChar(&buf, *p++);
			if (buf.len > AISEC_KEY_NAME_MAX)
				ReportBadRule("A key name is longer than 63 characters.");
		}
	}
	else
		ReportBadRule("An argument must be a number, a 'quoted string' or a key name.");
	arg->val = buf.data;
	return p;
}

/* Parse rule text into r (syntax only; CheckRule checks the meaning). */
static void
ParseRule(const char *text, MaskRule *r)
{
	const char *p = SkipBlanks(text);
	char		name[16];
	int			n = 0;
	bool		found = false;

	if (strlen(text) > RULE_MAX_LEN)
		ReportBadRule("The rule is longer than 256 bytes.");
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
	{
		if (n >= (int) sizeof(name) - 1)
			ReportBadRule("Unknown transform.");
		name[n++] = pg_ascii_tolower(*p++);
	}
	name[n] = '\0';
	for (int i = 0; i < lengthof(kind_names); i++)
		if (strcmp(name, kind_names[i]) == 0)
		{
			r->kind = (MaskKind) i;
			found = true;
		}
	if (!found)
		ReportBadRule("Unknown transform.");
	r->nargs = 0;
	p = SkipBlanks(p);
	if (*p == '(')
	{
		p = SkipBlanks(p + 1);
		if (*p != ')')
			for (;;)
			{
				if (r->nargs >= RULE_MAX_ARGS)
					ReportBadRule("Too many arguments.");
				p = SkipBlanks(ParseArg(p, &r->args[r->nargs++]));
				if (*p == ',')
					p = SkipBlanks(p + 1);
				else if (*p == ')')
					break;
				else
					ReportBadRule("Expected ',' or ')' after an argument.");
			}
		p = SkipBlanks(p + 1);
	}
	if (*p != '\0')
		ReportBadRule("Unexpected text after the rule.");
}

/* Require between min and max arguments. */
static void
ExpectArgs(const MaskRule *r, int min, int max)
{
	if (r->nargs < min || r->nargs > max)
	{
		if (min == max)
			ReportBadRule(psprintf("%s takes %d argument%s, not %d.", kind_names[r->kind],
								   max, max == 1 ? "" : "s", r->nargs));
		ReportBadRule(psprintf("%s takes %d to %d arguments, not %d.", kind_names[r->kind],
							   min, max, r->nargs));
	}
}

/* Require argument i to be of kind k. */
static void
ExpectKind(const MaskRule *r, int i, ArgKind k, const char *what)
{
	if (r->args[i].kind != k && !(k == ARG_NUM && r->args[i].kind == ARG_INT))
		ReportBadRule(psprintf("Argument %d of %s must be %s.", i + 1, kind_names[r->kind], what));
}

/* Return integer argument i, which must lie in [min, max]. */
static int64
IntArg(const MaskRule *r, int i, int64 min, int64 max, const char *what)
{
	char	   *end;
	long long	v;

	ExpectKind(r, i, ARG_INT, what);
	errno = 0;
	v = strtoll(r->args[i].val, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		ReportBadRule(psprintf("Argument %d of %s must be %s.", i + 1, kind_names[r->kind], what));
	return (int64) v;
}

/* True for the text-like types masks work on. */
static bool
IsTextType(Oid t)
{
	return t == TEXTOID || t == VARCHAROID || t == BPCHAROID;
}

/* Raise the error for a rule that does not fit its column's type. */
static void
ReportTypeMismatch(const MaskRule *r, const ColumnInfo *col, const char *wants)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("masking rule %s does not fit column \"%s\" of type %s",
					kind_names[r->kind], col->name, format_type_be(col->basetype)),
			 errdetail("%s works on %s.", kind_names[r->kind], wants)));
}

/* Check that the key a rule names exists with the right purpose. */
static void
CheckRuleKey(const char *name, AisecKeyPurpose purpose)
{
	if (!aisec_key_exists(name, purpose))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("aisec key \"%s\" does not exist", name),
				 errhint("Create it first with aisec.create_key('%s', '%s').", name,
						 purpose == AISEC_KEY_HMAC ? "hmac" : "ff1")));
}

/* Check a parsed rule's arguments against its transform and the column. */
static void
CheckRule(const MaskRule *r, const ColumnInfo *col, bool check_keys)
{
	Oid			t = col->basetype;

	switch (r->kind)
	{
		case MK_PARTIAL:
			ExpectArgs(r, 2, 3);
			(void) IntArg(r, 0, 0, PG_INT32_MAX, "a number of characters >= 0");
			(void) IntArg(r, 1, 0, PG_INT32_MAX, "a number of characters >= 0");
			if (r->nargs == 3)
				ExpectKind(r, 2, ARG_STR, "a 'quoted' pad string");
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, "text, varchar and char");
			break;
		case MK_EMAIL:
			ExpectArgs(r, 0, 0);
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, "text, varchar and char");
			break;
		case MK_DIGITS:
			ExpectArgs(r, 0, 2);
			if (r->nargs >= 1)
				(void) IntArg(r, 0, 0, PG_INT32_MAX, "a number of digits >= 0");
			if (r->nargs == 2)
				ExpectKind(r, 1, ARG_STR, "a 'quoted' pad string");
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, "text, varchar and char");
			break;
		case MK_PSEUDONYM:
			ExpectArgs(r, 1, 1);
			ExpectKind(r, 0, ARG_IDENT, "a key name");
			if (check_keys)
				CheckRuleKey(r->args[0].val, AISEC_KEY_HMAC);
			break;
		case MK_FF1:
			ExpectArgs(r, 1, 2);
			ExpectKind(r, 0, ARG_IDENT, "a key name");
			if (r->nargs == 2)
			{
				ExpectKind(r, 1, ARG_STR, "a 'quoted' alphabet");
				if (pg_mbstrlen(r->args[1].val) < 2)
					ReportBadRule("An FF1 alphabet needs at least 2 characters.");
			}
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, "text, varchar and char");
			if (check_keys)
				CheckRuleKey(r->args[0].val, AISEC_KEY_FF1);
			break;
		case MK_GENERALIZE:
			ExpectArgs(r, 1, 1);
			if (t == DATEOID || t == TIMESTAMPOID || t == TIMESTAMPTZOID)
			{
				ExpectKind(r, 0, ARG_STR, "a 'quoted' unit for a date or time column");
				if (aisec_time_unit(r->args[0].val, t == DATEOID) == NULL)
					ReportBadRule("Unknown unit: use 'minute', 'hour' (not for dates), 'day', "
								  "'week', 'month', 'quarter', 'year', 'decade' or 'century'.");
			}
			else if (t == INT2OID)
				(void) IntArg(r, 0, 1, PG_INT16_MAX, "a positive smallint step");
			else if (t == INT4OID)
				(void) IntArg(r, 0, 1, PG_INT32_MAX, "a positive integer step");
			else if (t == INT8OID)
				(void) IntArg(r, 0, 1, PG_INT64_MAX, "a positive bigint step");
			else if (t == NUMERICOID)
			{
				ExpectKind(r, 0, ARG_NUM, "a positive number");
				if (r->args[0].val[0] == '-' || strspn(r->args[0].val, "+0.") == strlen(r->args[0].val))
					ReportBadRule("The generalization step must be positive.");
			}
			else
				ReportTypeMismatch(r, col, "smallint, integer, bigint, numeric, date, timestamp and timestamptz");
			break;
		case MK_NOISE:
			ExpectArgs(r, 2, 2);
			ExpectKind(r, 0, ARG_IDENT, "a key name");
			ExpectKind(r, 1, ARG_NUM, "a ratio >= 0");
			if (r->args[1].val[0] == '-')
				ReportBadRule("The noise ratio must not be negative.");
			if (!(t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID ||
				  t == FLOAT8OID || t == NUMERICOID))
				ReportTypeMismatch(r, col, "numeric and floating-point and integer types");
			if (check_keys)
				CheckRuleKey(r->args[0].val, AISEC_KEY_HMAC);
			break;
		case MK_NULL:
			ExpectArgs(r, 0, 0);
			break;
		case MK_REDACT:
			ExpectArgs(r, 0, 0);
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, "text, varchar and char (use null for other types)");
			break;
	}
}

/* Append argument i in canonical rule syntax. */
static void
AppendRuleArg(StringInfo buf, const RuleArg *a)
{
	if (a->kind == ARG_STR)
		appendStringInfoString(buf, quote_literal_cstr(a->val));
	else
		appendStringInfoString(buf, a->val);
}

/* Return the canonical text of a parsed rule, e.g. partial(1, 2, '*'). */
static char *
CanonicalRule(const MaskRule *r)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, kind_names[r->kind]);
	if (r->nargs > 0)
	{
		appendStringInfoChar(&buf, '(');
		for (int i = 0; i < r->nargs; i++)
		{
			if (i > 0)
				appendStringInfoString(&buf, ", ");
			AppendRuleArg(&buf, &r->args[i]);
		}
		appendStringInfoChar(&buf, ')');
	}
	return buf.data;
}

/* Name of the key a rule uses, or NULL. */
static const char *
RuleKey(const MaskRule *r)
{
	if (r->kind == MK_PSEUDONYM || r->kind == MK_FF1 || r->kind == MK_NOISE)
		return r->args[0].val;
	return NULL;
}

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

/* Append CAST(col AS pg_catalog.text). */
static void
AppendColumnAsText(StringInfo buf, const char *qcol)
{
	appendStringInfo(buf, "CAST(%s AS pg_catalog.text)", qcol);
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
							 (int) IntArg(r, 0, 0, PG_INT32_MAX, ""),
							 (int) IntArg(r, 1, 0, PG_INT32_MAX, ""),
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
							 r->nargs >= 1 ? (int) IntArg(r, 0, 0, PG_INT32_MAX, "") : 4,
							 quote_literal_cstr(r->nargs == 2 ? r->args[1].val : "*"));
			break;
		case MK_PSEUDONYM:
			appendStringInfoString(buf, "aisec.pseudonymize(");
			AppendColumnAsText(buf, qcol);
			appendStringInfo(buf, ", %s)", quote_literal_cstr(r->args[0].val));
			break;
		case MK_FF1:
			appendStringInfoString(buf, "aisec.ff1_encrypt(");
			AppendColumnAsText(buf, qcol);
			appendStringInfo(buf, ", %s, %s, ''::pg_catalog.bytea)",
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
			appendStringInfo(buf, "CAST(aisec.sticky_noise(CAST(%s AS pg_catalog.float8), %s, "
							 "CAST(%s AS pg_catalog.float8)) AS ", qcol,
							 quote_literal_cstr(r->args[0].val), quote_literal_cstr(r->args[1].val));
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

/* ----------------------------------------------------------------
 * Catalog helpers
 * ----------------------------------------------------------------
 */

/* Describe column attnum of relid (which must be a live user column). */
static void
GetColumnInfo(Oid relid, AttrNumber attnum, ColumnInfo *col)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid), Int16GetDatum(attnum));
	Form_pg_attribute att;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column %d of relation \"%s\" does not exist", attnum, get_rel_name(relid))));
	att = (Form_pg_attribute) GETSTRUCT(tup);
	if (att->attisdropped)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("a masked column of relation \"%s\" was dropped", get_rel_name(relid))));
	col->relid = relid;
	col->attnum = attnum;
	col->name = pstrdup(NameStr(att->attname));
	col->typmod = att->atttypmod;
	col->basetype = getBaseTypeAndTypmod(att->atttypid, &col->typmod);
	ReleaseSysCache(tup);
}

/* Refuse anything but ordinary and partitioned tables as governed tables. */
static void
CheckMaskableRelation(Oid relid)
{
	char		kind = get_rel_relkind(relid);

	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", get_rel_name(relid)),
				 errdetail("Masking rules apply to ordinary and partitioned tables.")));
	if (get_rel_namespace(relid) == get_namespace_oid(AISEC_SCHEMA, false) ||
		get_rel_namespace(relid) == get_namespace_oid(MASKED_SCHEMA, false) ||
		IsCatalogNamespace(get_rel_namespace(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" cannot be masked", get_rel_name(relid)),
				 errdetail("Tables of aisec and of the system catalogs are not governed tables.")));
}

/* Run a fixed, parameterized statement as the extension owner. */
static uint64
RunAsOwner(const char *sql, int nargs, Oid *types, Datum *values, int expected)
{
	AisecSavedUser saved;
	int			rc;
	uint64		n;

	aisec_become_owner(&saved);
	SPI_connect();
	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, false, 0);
	if (rc != expected)
		elog(ERROR, "aisec statement failed: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	SPI_finish();
	aisec_restore_user(&saved);
	return n;
}

/* Run generated DDL (built only from quoted, validated parts) as the owner. */
static void
RunDdlAsOwner(const char *sql)
{
	AisecSavedUser saved;
	int			rc;

	aisec_become_owner(&saved);
	SPI_connect();
	rc = SPI_execute(sql, false, 0);
	if (rc < 0)
		elog(ERROR, "aisec statement failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	aisec_restore_user(&saved);
}

/* Run a fixed query returning one oid column as the owner; return the OIDs. */
static List *
OidsAsOwner(const char *sql)
{
	MemoryContext caller = CurrentMemoryContext;
	AisecSavedUser saved;
	List	   *oids = NIL;
	int			rc;

	aisec_become_owner(&saved);
	SPI_connect();
	rc = SPI_execute(sql, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "aisec lookup failed: %s", SPI_result_code_string(rc));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		Oid			oid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1, &isnull));
		MemoryContext old = MemoryContextSwitchTo(caller);

		oids = lappend_oid(oids, oid);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	aisec_restore_user(&saved);
	return oids;
}

/* Return the OIDs of the masked roles. */
static List *
MaskedRoles(void)
{
	return OidsAsOwner("SELECT role::pg_catalog.oid FROM aisec.masked_role ORDER BY 1");
}

/* Quoted name of a role. */
static const char *
QuotedRole(Oid roleid)
{
	return quote_identifier(GetUserNameFromId(roleid, false));
}

/* Owner of a relation. */
static Oid
RelationOwner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/* Return the OIDs of all tables that have masking rules. */
static List *
MaskedTables(void)
{
	return OidsAsOwner("SELECT DISTINCT rel::pg_catalog.oid FROM aisec.mask_rule");
}

/*
 * Return the masked view registered for relid (named after the table when
 * it was made, so possibly under an older name), or InvalidOid.
 */
static Oid
MaskedViewOf(Oid relid)
{
	Oid			nsp = get_namespace_oid(MASKED_SCHEMA, false);
	AisecSavedUser saved;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	Oid			viewid = InvalidOid;

	aisec_become_owner(&saved);
	SPI_connect();
	if (SPI_execute_with_args("SELECT view_name FROM aisec.mask_view "
							  "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
							  1, &argtype, &arg, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		viewid = get_relname_relid(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), nsp);
	SPI_finish();
	aisec_restore_user(&saved);
	return viewid;
}

/* ----------------------------------------------------------------
 * Masked views
 * ----------------------------------------------------------------
 */

/* Load relid's rules: attnums and canonical rule texts, as the owner. */
static int
LoadRules(Oid relid, AttrNumber **attnums, char ***rules)
{
	MemoryContext caller;
	AisecSavedUser saved;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	int			n;
	int			rc;

	caller = CurrentMemoryContext;
	aisec_become_owner(&saved);
	SPI_connect();
	rc = SPI_execute_with_args("SELECT attnum, rule FROM aisec.mask_rule "
							   "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass ORDER BY attnum",
							   1, &argtype, &arg, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "mask rule lookup failed: %s", SPI_result_code_string(rc));
	n = (int) SPI_processed;
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		*attnums = palloc(sizeof(AttrNumber) * (n + 1));
		*rules = palloc(sizeof(char *) * (n + 1));
		for (int i = 0; i < n; i++)
		{
			bool		isnull;

			(*attnums)[i] = DatumGetInt16(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			(*rules)[i] = pstrdup(SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2));
		}
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	aisec_restore_user(&saved);
	return n;
}

/*
 * Create or re-create aisec_masked.<table> for relid from its rules, or
 * drop it if relid has none left.  Returns the view's OID (or InvalidOid).
 */
static Oid
BuildMaskedView(Oid relid)
{
	char	   *relname = get_rel_name(relid);
	char	   *qview = quote_qualified_identifier(MASKED_SCHEMA, relname);
	Oid			nsp = get_namespace_oid(MASKED_SCHEMA, false);
	Oid			existing = get_relname_relid(relname, nsp);
	Oid			registered = MaskedViewOf(relid);
	AttrNumber *attnums;
	char	  **rules;
	int			nrules = LoadRules(relid, &attnums, &rules);
	StringInfoData sql;
	Relation	rel;
	TupleDesc	desc;
	Oid			argtypes[2] = {OIDOID, NAMEOID};
	Datum		args[2];
	List	   *roles;
	ListCell   *lc;
	bool		first = true;
	int			applied = 0;

	if (OidIsValid(existing) && existing != registered)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("masked view %s already exists for another table", qview),
				 errhint("Masked views are named after their table; rename one of the two tables.")));

	/* Drop the current view, which has the table's old name after a rename. */
	initStringInfo(&sql);
	if (OidIsValid(registered))
		appendStringInfo(&sql, "DROP VIEW %s; ",
						 quote_qualified_identifier(MASKED_SCHEMA, get_rel_name(registered)));
	args[0] = ObjectIdGetDatum(relid);
	args[1] = DirectFunctionCall1(namein, CStringGetDatum(relname));
	if (nrules == 0)
	{
		if (OidIsValid(registered))
			RunDdlAsOwner(sql.data);
		RunAsOwner("DELETE FROM aisec.mask_view WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
				   1, argtypes, args, SPI_OK_DELETE);
		return InvalidOid;
	}

	appendStringInfo(&sql, "CREATE VIEW %s WITH (security_barrier) AS SELECT ", qview);
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
		if (!first)
			appendStringInfoString(&sql, ", ");
		first = false;
		for (r = 0; r < nrules && attnums[r] != att->attnum; r++)
			;
		if (r < nrules)
		{
			MaskRule	rule;
			ColumnInfo	col;

			ParseRule(rules[r], &rule);
			GetColumnInfo(relid, att->attnum, &col);
			CheckRule(&rule, &col, true);
			AppendMaskExpr(&sql, &rule, &col);
			appendStringInfo(&sql, " AS %s", qcol);
			applied++;
		}
		else
			appendStringInfoString(&sql, qcol);
	}
	table_close(rel, AccessShareLock);
	/* Fail closed: every stored rule must have found its column. */
	if (applied != nrules)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("a masking rule of \"%s\" names a column that no longer exists", relname),
				 errhint("See aisec.mask_rule; drop the rule with aisec.drop_mask or re-set it.")));
	appendStringInfo(&sql, " FROM ONLY %s; ", aisec_qualified_relname(relid));
	if (get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE)
	{
		/* ONLY would hide every row of a partitioned table. */
		char	   *only = strstr(sql.data, " FROM ONLY ");

		memmove(only + 5, only + 10, strlen(only + 10) + 1);
		sql.len -= 5;
	}
	appendStringInfo(&sql, "COMMENT ON VIEW %s IS %s; ", qview,
					 quote_literal_cstr(psprintf("aisec masked view of %s (generated by aisec.masked_view)",
												 aisec_qualified_relname(relid))));
	appendStringInfo(&sql, "GRANT SELECT ON %s TO aisec_admin, aisec_engineer", qview);
	roles = MaskedRoles();
	foreach(lc, roles)
		appendStringInfo(&sql, ", %s", QuotedRole(lfirst_oid(lc)));
	RunDdlAsOwner(sql.data);

	RunAsOwner("INSERT INTO aisec.mask_view (rel, view_name) VALUES ($1::pg_catalog.regclass, $2) "
			   "ON CONFLICT (rel) DO UPDATE SET view_name = EXCLUDED.view_name, refreshed = pg_catalog.now()",
			   2, argtypes, args, SPI_OK_INSERT);
	CommandCounterIncrement();
	return get_relname_relid(relname, nsp);
}

/* ----------------------------------------------------------------
 * Masked roles
 * ----------------------------------------------------------------
 */

/* Revoke every privilege roleid holds on relid, then prove none is left. */
static void
ShieldRoleFromTable(Oid roleid, Oid relid)
{
	const char *qrole = QuotedRole(roleid);
	char	   *qrel = aisec_qualified_relname(relid);

	if (has_privs_of_role(roleid, RelationOwner(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" owns governed table %s and cannot be masked",
						GetUserNameFromId(roleid, false), qrel),
				 errdetail("A table's owner can always read it.")));
	RunDdlAsOwner(psprintf("REVOKE ALL ON TABLE %s FROM %s", qrel, qrole));
	CommandCounterIncrement();
	if (pg_class_aclmask(relid, roleid, ACL_ALL_RIGHTS_RELATION, ACLMASK_ANY) != 0 ||
		pg_attribute_aclcheck_all(relid, roleid, ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_REFERENCES,
								  ACLMASK_ANY) == ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" still holds privileges on governed table %s",
						GetUserNameFromId(roleid, false), qrel),
				 errdetail("They come from PUBLIC or from a role it is a member of; any privilege on the "
						   "table can leak its values (through SELECT, RETURNING, WHERE, or unique "
						   "and foreign-key violations)."),
				 errhint("REVOKE them from PUBLIC or from that role, then call aisec.mask_role() again.")));
}

/* Functions a masked role needs to read masked views (all but ff1_decrypt). */
static const char *const masked_role_functions =
"aisec.mask_partial(text, integer, integer, text), aisec.mask_email(text), "
"aisec.mask_digits(text, integer, text), aisec.generalize(smallint, smallint), "
"aisec.generalize(integer, integer), aisec.generalize(bigint, bigint), "
"aisec.generalize(numeric, numeric), aisec.generalize(date, text), "
"aisec.generalize(timestamp, text), aisec.generalize(timestamptz, text), "
"aisec.pseudonymize(text, text), aisec.ff1_encrypt(text, text, text, bytea), "
"aisec.sticky_noise(double precision, text, double precision)";

/* Grant or revoke what a masked role reads masked views with. */
static void
GrantMaskedReading(const char *qrole, bool grant)
{
	StringInfoData sql;
	List	   *rels = MaskedTables();
	ListCell   *lc;
	const char *verb = grant ? "GRANT" : "REVOKE";
	const char *prep = grant ? "TO" : "FROM";

	initStringInfo(&sql);
	appendStringInfo(&sql, "%s USAGE ON SCHEMA " MASKED_SCHEMA " %s %s; ", verb, prep, qrole);
	appendStringInfo(&sql, "%s EXECUTE ON FUNCTION %s %s %s; ", verb, masked_role_functions, prep, qrole);
	foreach(lc, rels)
	{
		Oid			view = MaskedViewOf(lfirst_oid(lc));

		if (OidIsValid(view))
			appendStringInfo(&sql, "%s SELECT ON %s %s %s; ", verb,
							 quote_qualified_identifier(MASKED_SCHEMA, get_rel_name(view)), prep, qrole);
	}
	RunDdlAsOwner(sql.data);
}

/* Shield every masked role from relid (called when relid gets its first rule). */
static void
ShieldMaskedRoles(Oid relid)
{
	List	   *roles = MaskedRoles();
	ListCell   *lc;

	foreach(lc, roles)
		ShieldRoleFromTable(lfirst_oid(lc), relid);
}

/* Look up a role for mask_role/unmask_role; error if it cannot be masked. */
static Oid
MaskableRole(Name role)
{
	Oid			roleid = get_role_oid(NameStr(*role), false);

	if (superuser_arg(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" is a superuser and cannot be masked", NameStr(*role)),
				 errdetail("Superusers bypass every privilege check.")));
	if (has_privs_of_role(roleid, get_role_oid("aisec_admin", false)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_GRANT_OPERATION),
				 errmsg("role \"%s\" has the privileges of aisec_admin and cannot be masked",
						NameStr(*role))));
	return roleid;
}

/* ----------------------------------------------------------------
 * SQL-callable functions
 * ----------------------------------------------------------------
 */

/* SQL: aisec.set_mask(rel, col, rule) checks, stores and applies a rule. */
PG_FUNCTION_INFO_V1(aisec_set_mask);
Datum
aisec_set_mask(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *colname;
	char	   *ruletext;
	MaskRule	rule;
	ColumnInfo	col;
	char	   *canonical;
	const char *key;
	Oid			argtypes[6] = {OIDOID, INT2OID, NAMEOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	bool		first_rule;
	AisecSavedUser saved;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.set_mask()");
	aisec_prevent_if_read_only("aisec.set_mask()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation, column and rule must not be null")));
	relid = PG_GETARG_OID(0);
	colname = NameStr(*PG_GETARG_NAME(1));
	ruletext = text_to_cstring(PG_GETARG_TEXT_PP(2));

	LockRelationOid(relid, ShareUpdateExclusiveLock);
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	CheckMaskableRelation(relid);
	GetColumnInfo(relid, aisec_column_attnum(relid, colname), &col);
	ParseRule(ruletext, &rule);
	CheckRule(&rule, &col, true);
	canonical = CanonicalRule(&rule);
	key = RuleKey(&rule);
	first_rule = !list_member_oid(MaskedTables(), relid);

	args[0] = ObjectIdGetDatum(relid);
	args[1] = Int16GetDatum(col.attnum);
	args[2] = DirectFunctionCall1(namein, CStringGetDatum(col.name));
	args[3] = CStringGetTextDatum(kind_names[rule.kind]);
	args[4] = CStringGetTextDatum(canonical);
	if (key != NULL)
		args[5] = CStringGetTextDatum(key);
	else
		nulls[5] = 'n';
	aisec_become_owner(&saved);
	SPI_connect();
	if (SPI_execute_with_args("INSERT INTO aisec.mask_rule (rel, attnum, col, kind, rule, key_name, set_by) "
							  "VALUES ($1::pg_catalog.regclass, $2, $3, $4, $5, $6, pg_catalog.session_user()) "
							  "ON CONFLICT (rel, attnum) DO UPDATE SET col = EXCLUDED.col, kind = EXCLUDED.kind, "
							  "rule = EXCLUDED.rule, key_name = EXCLUDED.key_name, set_by = EXCLUDED.set_by, "
							  "set_at = pg_catalog.now()",
							  6, argtypes, args, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "mask rule insert failed");
	SPI_finish();
	aisec_restore_user(&saved);
	CommandCounterIncrement();

	if (first_rule)
		ShieldMaskedRoles(relid);
	(void) BuildMaskedView(relid);

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"column\": ");
	escape_json(&detail, col.name);
	appendStringInfoString(&detail, ", \"rule\": ");
	escape_json(&detail, canonical);
	appendStringInfoChar(&detail, '}');
	aisec_audit_log("mask.set", aisec_qualified_relname(relid), detail.data);
	PG_RETURN_TEXT_P(cstring_to_text(canonical));
}

/* SQL: aisec.drop_mask(rel, col) removes a column's rule; true if there was one. */
PG_FUNCTION_INFO_V1(aisec_drop_mask);
Datum
aisec_drop_mask(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *colname = NameStr(*PG_GETARG_NAME(1));
	AttrNumber	attnum;
	Oid			argtypes[2] = {OIDOID, INT2OID};
	Datum		args[2];
	uint64		n;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.drop_mask()");
	aisec_prevent_if_read_only("aisec.drop_mask()");
	LockRelationOid(relid, ShareUpdateExclusiveLock);
	attnum = aisec_column_attnum(relid, colname);
	args[0] = ObjectIdGetDatum(relid);
	args[1] = Int16GetDatum(attnum);
	n = RunAsOwner("DELETE FROM aisec.mask_rule WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
				   "AND attnum OPERATOR(pg_catalog.=) $2", 2, argtypes, args, SPI_OK_DELETE);
	if (n == 0)
		PG_RETURN_BOOL(false);
	CommandCounterIncrement();
	(void) BuildMaskedView(relid);
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"column\": ");
	escape_json(&detail, colname);
	appendStringInfoChar(&detail, '}');
	aisec_audit_log("mask.drop", aisec_qualified_relname(relid), detail.data);
	PG_RETURN_BOOL(true);
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
	CheckMaskableRelation(relid);
	view = BuildMaskedView(relid);
	if (!OidIsValid(view))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no masking rules", get_rel_name(relid)),
				 errhint("Add one with aisec.set_mask(table, column, rule).")));
	aisec_audit_log("mask.view", aisec_qualified_relname(relid), "{}");
	PG_RETURN_OID(view);
}

/* SQL: aisec.mask_role(role) makes role read governed tables only through masked views. */
PG_FUNCTION_INFO_V1(aisec_mask_role);
Datum
aisec_mask_role(PG_FUNCTION_ARGS)
{
	Name		role = PG_GETARG_NAME(0);
	Oid			roleid;
	List	   *rels;
	ListCell   *lc;
	Oid			argtype = OIDOID;
	Datum		arg;
	char	   *detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.mask_role()");
	aisec_prevent_if_read_only("aisec.mask_role()");
	roleid = MaskableRole(role);
	arg = ObjectIdGetDatum(roleid);
	RunAsOwner("INSERT INTO aisec.masked_role (role, masked_by) "
			   "VALUES ($1::pg_catalog.regrole, pg_catalog.session_user()) ON CONFLICT (role) DO NOTHING",
			   1, &argtype, &arg, SPI_OK_INSERT);
	CommandCounterIncrement();
	rels = MaskedTables();
	foreach(lc, rels)
	{
		LockRelationOid(lfirst_oid(lc), ShareUpdateExclusiveLock);
		ShieldRoleFromTable(roleid, lfirst_oid(lc));
	}
	GrantMaskedReading(quote_identifier(NameStr(*role)), true);
	detail = psprintf("{\"tables\": %d}", list_length(rels));
	aisec_audit_log("mask.role", NameStr(*role), detail);
	PG_RETURN_INT32(list_length(rels));
}

/* SQL: aisec.unmask_role(role) removes the role from masking; true if it was masked. */
PG_FUNCTION_INFO_V1(aisec_unmask_role);
Datum
aisec_unmask_role(PG_FUNCTION_ARGS)
{
	Name		role = PG_GETARG_NAME(0);
	Oid			roleid;
	Oid			argtype = OIDOID;
	Datum		arg;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.unmask_role()");
	aisec_prevent_if_read_only("aisec.unmask_role()");
	roleid = get_role_oid(NameStr(*role), false);
	arg = ObjectIdGetDatum(roleid);
	if (RunAsOwner("DELETE FROM aisec.masked_role WHERE role OPERATOR(pg_catalog.=) $1::pg_catalog.regrole",
				   1, &argtype, &arg, SPI_OK_DELETE) == 0)
		PG_RETURN_BOOL(false);
	GrantMaskedReading(quote_identifier(NameStr(*role)), false);
	aisec_audit_log("mask.unrole", NameStr(*role), "{}");
	PG_RETURN_BOOL(true);
}

/*
 * SQL: aisec.export_masked(rel, target, min_k, quasi_identifiers) copies the
 * masked view into a new table; with min_k, rows whose quasi-identifier
 * class (over the masked values) is smaller than min_k are left out.
 */
PG_FUNCTION_INFO_V1(aisec_export_masked);
Datum
aisec_export_masked(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *target;
	Oid			view;
	StringInfoData sql;
	StringInfoData cols;
	char	   *qview;
	int64		total;
	int64		exported;
	int32		min_k = 0;
	char	   *qis = NULL;
	Relation	vrel;
	TupleDesc	desc;
	TupleDesc	rdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};
	char	   *detail;
	int			rc;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, "aisec.export_masked()");
	aisec_prevent_if_read_only("aisec.export_masked()");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("relation and target must not be null")));
	relid = PG_GETARG_OID(0);
	target = NameStr(*PG_GETARG_NAME(1));
	if (!PG_ARGISNULL(2))
	{
		min_k = PG_GETARG_INT32(2);
		if (min_k < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("min_k must be at least 1")));
		if (PG_ARGISNULL(3))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("min_k needs quasi_identifiers"),
					 errhint("Name the columns whose combination could identify a person.")));
	}
	else if (!PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quasi_identifiers needs min_k")));
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	view = MaskedViewOf(relid);
	if (!OidIsValid(view))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no masked view", get_rel_name(relid)),
				 errhint("An administrator sets masking rules with aisec.set_mask(table, column, rule).")));
	if (min_k > 0)
		qis = aisec_quasi_identifier_list(view, PG_GETARG_ARRAYTYPE_P(3));

	/* The masked view's columns, quoted from the catalog. */
	qview = quote_qualified_identifier(MASKED_SCHEMA, get_rel_name(view));
	initStringInfo(&cols);
	vrel = relation_open(view, AccessShareLock);
	desc = RelationGetDescr(vrel);
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			appendStringInfo(&cols, "%s%s", cols.len > 0 ? ", " : "",
							 quote_identifier(NameStr(TupleDescAttr(desc, i)->attname)));
	relation_close(vrel, AccessShareLock);

	/* Runs as the caller: the new table is theirs, reading needs their rights. */
	initStringInfo(&sql);
	if (min_k > 0)
		appendStringInfo(&sql,
						 "CREATE TABLE %s AS SELECT %s FROM (SELECT v.*, pg_catalog.count(*) OVER "
						 "(PARTITION BY %s) AS \"aisec class size\" FROM %s v) s "
						 "WHERE s.\"aisec class size\" OPERATOR(pg_catalog.>=) $1",
						 quote_identifier(target), cols.data, qis, qview);
	else
		appendStringInfo(&sql, "CREATE TABLE %s AS SELECT %s FROM %s",
						 quote_identifier(target), cols.data, qview);
	SPI_connect();
	rc = SPI_execute(psprintf("SELECT pg_catalog.count(*) FROM %s", qview), true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "masked row count failed: %s", SPI_result_code_string(rc));
	{
		bool		isnull;

		total = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	{
		Oid			argtype = INT8OID;
		Datum		arg = Int64GetDatum((int64) min_k);

		/* min_k goes in as a parameter; only quoted identifiers are in the text. */
		rc = SPI_execute_with_args(sql.data, min_k > 0 ? 1 : 0, &argtype, &arg,
								   NULL, false, 0);
	}
	if (rc != SPI_OK_UTILITY && rc != SPI_OK_SELINTO)
		elog(ERROR, "masked export failed: %s", SPI_result_code_string(rc));
	exported = (int64) SPI_processed;
	SPI_finish();

	{
		StringInfoData d;

		initStringInfo(&d);
		appendStringInfoString(&d, "{\"target\": ");
		escape_json(&d, target);
		appendStringInfo(&d, ", \"rows\": " INT64_FORMAT ", \"suppressed\": " INT64_FORMAT ", \"min_k\": %d}",
						 exported, total - exported, min_k);
		detail = d.data;
	}
	aisec_audit_log("mask.export", aisec_qualified_relname(relid), detail);

	if (get_call_result_type(fcinfo, NULL, &rdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "export_masked must return a record");
	rdesc = BlessTupleDesc(rdesc);
	values[0] = Int64GetDatum(exported);
	values[1] = Int64GetDatum(total - exported);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rdesc, values, nulls)));
}

/*
 * Trigger (BEFORE INSERT on aisec.mask_rule): set attnum from the column
 * name, so rules restored from a dump find their column even if the
 * restored table numbers its columns differently.
 */
PG_FUNCTION_INFO_V1(aisec_mask_rule_resolve);
Datum
aisec_mask_rule_resolve(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	bool		isnull;
	Oid			relid;
	char	   *col;
	AttrNumber	attnum;
	int			attcol;
	Datum		value;
	bool		replace_null = false;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		elog(ERROR, "mask_rule_resolve must run as a BEFORE ROW trigger");
	desc = trigdata->tg_relation->rd_att;
	tup = trigdata->tg_trigtuple;
	relid = DatumGetObjectId(heap_getattr(tup, SPI_fnumber(desc, "rel"), desc, &isnull));
	col = NameStr(*DatumGetName(heap_getattr(tup, SPI_fnumber(desc, "col"), desc, &isnull)));
	attnum = aisec_column_attnum(relid, col);
	attcol = SPI_fnumber(desc, "attnum");
	value = Int16GetDatum(attnum);
	return PointerGetDatum(heap_modify_tuple_by_cols(tup, desc, 1, &attcol, &value, &replace_null));
}

/*
 * Event trigger (ddl_command_end, ALTER TABLE): keep each rule's stored
 * column name equal to the current name of its attnum, so a renamed
 * column's rule is dumped under the new name.
 */
PG_FUNCTION_INFO_V1(aisec_mask_rule_sync);
Datum
aisec_mask_rule_sync(PG_FUNCTION_ARGS)
{
	AisecSavedUser saved;

	aisec_become_owner(&saved);
	SPI_connect();
	if (SPI_execute("UPDATE aisec.mask_rule m SET col = a.attname FROM pg_catalog.pg_attribute a "
					"WHERE a.attrelid OPERATOR(pg_catalog.=) m.rel::pg_catalog.oid "
					"AND a.attnum OPERATOR(pg_catalog.=) m.attnum AND NOT a.attisdropped "
					"AND a.attname OPERATOR(pg_catalog.<>) m.col", false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "mask rule sync failed");
	SPI_finish();
	aisec_restore_user(&saved);
	PG_RETURN_NULL();
}

/* Name "table.column" of a masking rule that uses key name, or NULL. */
static char *
MaskRuleUsingKey(const char *name)
{
	MemoryContext caller;
	AisecSavedUser saved;
	Oid			argtype = TEXTOID;
	Datum		arg = CStringGetTextDatum(name);
	char	   *where = NULL;

	caller = CurrentMemoryContext;
	aisec_become_owner(&saved);
	SPI_connect();
	if (SPI_execute_with_args("SELECT m.rel::pg_catalog.text OPERATOR(pg_catalog.||) '.' "
							  "OPERATOR(pg_catalog.||) m.col::pg_catalog.text FROM aisec.mask_rule m "
							  "WHERE m.key_name OPERATOR(pg_catalog.=) $1 LIMIT 1",
							  1, &argtype, &arg, NULL, false, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
		where = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	if (where != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		where = pstrdup(where);
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	aisec_restore_user(&saved);
	return where;
}

/* Allow keyed masks to aisec_admin, aisec_engineer and masked roles. */
void
aisec_require_keyed_use(const char *function_name)
{
	AisecSavedUser saved;
	Oid			user = GetUserId();
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(user);
	bool		masked = false;

	if (aisec_has_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER))
		return;
	aisec_become_owner(&saved);
	SPI_connect();
	if (SPI_execute_with_args("SELECT 1 FROM aisec.masked_role r "
							  "WHERE pg_catalog.pg_has_role($1, r.role::pg_catalog.oid, 'USAGE') LIMIT 1",
							  1, &argtype, &arg, NULL, true, 1) == SPI_OK_SELECT)
		masked = SPI_processed == 1;
	SPI_finish();
	aisec_restore_user(&saved);
	if (!masked)
		aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER, function_name);
}

/* _PG_init: tell keys how to ask whether a masking rule uses a key. */
void
aisec_masking_init(void)
{
	aisec_keys_set_use_check(MaskRuleUsingKey);
}
