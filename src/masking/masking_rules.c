/*
 * masking_rules.c
 *		The masking rule catalog: the rule language, aisec.set_mask and
 *		aisec.drop_mask, and keeping stored rules in step with renames and
 *		restores.  masked_view.c turns the stored rules into masked views.
 *
 * A rule is a small language (doc/masking.md), parsed here into a closed
 * set of transforms (MaskKind) with typed, range-checked arguments, and
 * checked against the column's type and the key store when it is set.  It
 * is stored in canonical form (aisec.mask_rule) and never executed: the
 * masked view is generated from the parsed structure (masked_view.c).  No
 * text a user typed reaches the SQL parser as SQL.
 *
 * Lookups made while changing rules run with SPI's read_only = false, so
 * they see this transaction's own changes.
 *
 * Rules survive renames (the relation is a regclass, the column an attnum
 * whose current name is read from the catalog) and dump/restore (regclass
 * and column name are dumped as names; a trigger on insert re-resolves the
 * attnum from the name, since restored tables renumber their columns).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "core/core.h"
#include "audit/audit.h"
#include "keys/keys.h"
#include "masking.h"
#include "masking_internal.h"

#define RULE_MAX_LEN		256
#define RULE_MAX_STRING		100

static const char *const kind_names[] = {
	"partial", "email", "digits", "pseudonym", "ff1", "generalize", "noise", "null", "redact"
};

#define RULE_HINT \
	"Rules are: partial(keep_prefix, keep_suffix[, 'pad']), email, " \
	"digits([keep_last[, 'pad']]), pseudonym(key), ff1(key[, 'alphabet']), " \
	"generalize(step) or generalize('unit'), noise(key, ratio), null, redact."

/* What a rule argument must be; each has its own error detail. */
typedef enum ArgWant
{
	WANT_CHAR_COUNT,
	WANT_DIGIT_COUNT,
	WANT_PAD,
	WANT_KEY,
	WANT_ALPHABET,
	WANT_TIME_UNIT,
	WANT_INT2_STEP,
	WANT_INT4_STEP,
	WANT_INT8_STEP,
	WANT_NUMERIC_STEP,
	WANT_RATIO
} ArgWant;

/* Which column types a transform works on; each has its own error detail. */
typedef enum TypeWant
{
	FITS_TEXT,
	FITS_TEXT_OR_NULL,
	FITS_GENERALIZE,
	FITS_NOISE
} TypeWant;

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
			 errdetail_internal("%s", detail),
			 errhint(RULE_HINT)));
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
				ReportBadRule(_("A quoted string is not closed."));
			if (*p == '\'' && p[1] == '\'')
				p++;
			else if (*p == '\'')
				break;
			appendStringInfoChar(&buf, *p);
			if (buf.len > RULE_MAX_STRING)
				ReportBadRule(psprintf(_("A quoted string is longer than %d bytes."), RULE_MAX_STRING));
		}
		p++;
	}
	else if ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+')
	{
		arg->kind = ARG_INT;
		if (*p == '-' || *p == '+')
			appendStringInfoChar(&buf, *p++);
		if (!(*p >= '0' && *p <= '9'))
			ReportBadRule(_("A number has no digits."));
		while ((*p >= '0' && *p <= '9') || *p == '.')
		{
			if (*p == '.')
			{
				if (arg->kind == ARG_NUM || !(p[1] >= '0' && p[1] <= '9'))
					ReportBadRule(_("A number is malformed."));
				arg->kind = ARG_NUM;
			}
			appendStringInfoChar(&buf, *p++);
			if (buf.len > 30)
				ReportBadRule(_("A number has more than 30 characters."));
		}
	}
	else if ((*p >= 'a' && *p <= 'z') || *p == '_')
	{
		arg->kind = ARG_IDENT;
		while ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')
		{
			appendStringInfoChar(&buf, *p++);
			if (buf.len > AISEC_KEY_NAME_MAX)
				ReportBadRule(psprintf(_("A key name is longer than %d characters."), AISEC_KEY_NAME_MAX));
		}
	}
	else
		ReportBadRule(_("An argument must be a number, a 'quoted string' or a key name."));
	arg->val = buf.data;
	return p;
}

/* Parse rule text into r (syntax only; mask_rule_check checks the meaning). */
void
mask_rule_parse(const char *text, MaskRule *r)
{
	const char *p = SkipBlanks(text);
	char		name[16];
	int			n = 0;
	bool		found = false;

	if (strlen(text) > RULE_MAX_LEN)
		ReportBadRule(psprintf(_("The rule is longer than %d bytes."), RULE_MAX_LEN));
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
	{
		if (n >= (int) sizeof(name) - 1)
			ReportBadRule(_("Unknown transform."));
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
		ReportBadRule(_("Unknown transform."));
	r->nargs = 0;
	p = SkipBlanks(p);
	if (*p == '(')
	{
		p = SkipBlanks(p + 1);
		if (*p != ')')
			for (;;)
			{
				if (r->nargs >= RULE_MAX_ARGS)
					ReportBadRule(_("Too many arguments."));
				p = SkipBlanks(ParseArg(p, &r->args[r->nargs++]));
				if (*p == ',')
					p = SkipBlanks(p + 1);
				else if (*p == ')')
					break;
				else
					ReportBadRule(_("Expected ',' or ')' after an argument."));
			}
		p = SkipBlanks(p + 1);
	}
	if (*p != '\0')
		ReportBadRule(_("Unexpected text after the rule."));
}

/* Require between min and max arguments. */
static void
ExpectArgs(const MaskRule *r, int min, int max)
{
	const char *kind = kind_names[r->kind];

	if (r->nargs >= min && r->nargs <= max)
		return;
	if (min == max)
		ReportBadRule(psprintf(ngettext("Transform \"%s\" takes %d argument, not %d.",
										"Transform \"%s\" takes %d arguments, not %d.",
										max),
							   kind, max, r->nargs));
	ReportBadRule(psprintf(_("Transform \"%s\" takes %d to %d arguments, not %d."),
						   kind, min, max, r->nargs));
}

/* Raise the error for argument i of r, which is not what want says. */
static void
ReportBadArg(const MaskRule *r, int i, ArgWant want)
{
	const char *kind = kind_names[r->kind];
	int			argno = i + 1;

	switch (want)
	{
		case WANT_CHAR_COUNT:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a number of characters >= 0."),
								   argno, kind));
			break;
		case WANT_DIGIT_COUNT:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a number of digits >= 0."),
								   argno, kind));
			break;
		case WANT_PAD:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a 'quoted' pad string."),
								   argno, kind));
			break;
		case WANT_KEY:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a key name."),
								   argno, kind));
			break;
		case WANT_ALPHABET:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a 'quoted' alphabet."),
								   argno, kind));
			break;
		case WANT_TIME_UNIT:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a 'quoted' unit for a date or time column."),
								   argno, kind));
			break;
		case WANT_INT2_STEP:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a positive smallint step."),
								   argno, kind));
			break;
		case WANT_INT4_STEP:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a positive integer step."),
								   argno, kind));
			break;
		case WANT_INT8_STEP:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a positive bigint step."),
								   argno, kind));
			break;
		case WANT_NUMERIC_STEP:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a positive number."),
								   argno, kind));
			break;
		case WANT_RATIO:
			ReportBadRule(psprintf(_("Argument %d of \"%s\" must be a ratio >= 0."),
								   argno, kind));
			break;
	}
}

/* Require argument i to be of kind k (an integer also counts as a number). */
static void
ExpectKind(const MaskRule *r, int i, ArgKind k, ArgWant want)
{
	if (r->args[i].kind != k && !(k == ARG_NUM && r->args[i].kind == ARG_INT))
		ReportBadArg(r, i, want);
}

/* Return integer argument i, which must lie in [min, max]. */
static int64
IntArg(const MaskRule *r, int i, int64 min, int64 max, ArgWant want)
{
	char	   *end;
	long long	v;

	ExpectKind(r, i, ARG_INT, want);
	errno = 0;
	v = strtoll(r->args[i].val, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		ReportBadArg(r, i, want);
	return (int64) v;
}

/* Integer argument i of a rule mask_rule_check has accepted. */
int64
mask_rule_int(const MaskRule *r, int i)
{
	return IntArg(r, i, PG_INT64_MIN, PG_INT64_MAX, WANT_INT8_STEP);
}

/* True for the text-like types masks work on. */
static bool
IsTextType(Oid t)
{
	return t == TEXTOID || t == VARCHAROID || t == BPCHAROID;
}

/* Raise the error for a rule that does not fit its column's type. */
static void
ReportTypeMismatch(const MaskRule *r, const ColumnInfo *col, TypeWant fits)
{
	const char *kind = kind_names[r->kind];
	char	   *detail = NULL;

	switch (fits)
	{
		case FITS_TEXT:
			detail = psprintf(_("Transform \"%s\" works on text, varchar and char."), kind);
			break;
		case FITS_TEXT_OR_NULL:
			detail = psprintf(_("Transform \"%s\" works on text, varchar and char; use \"null\" for other types."),
							  kind);
			break;
		case FITS_GENERALIZE:
			detail = psprintf(_("Transform \"%s\" works on smallint, integer, bigint, numeric, date, timestamp and timestamptz."),
							  kind);
			break;
		case FITS_NOISE:
			detail = psprintf(_("Transform \"%s\" works on integer, floating-point and numeric types."),
							  kind);
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("masking rule \"%s\" does not fit column \"%s\" of type %s",
					kind, col->name, format_type_be(col->basetype)),
			 errdetail_internal("%s", detail)));
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

/* True if alphabet (a rule's quoted string, at most 100 bytes) repeats a character. */
static bool
HasRepeatedChar(const char *alphabet)
{
	for (const char *p = alphabet; *p; p += pg_mblen(p))
		for (const char *q = alphabet; q < p; q += pg_mblen(q))
			if (pg_mblen(q) == pg_mblen(p) && memcmp(q, p, pg_mblen(p)) == 0)
				return true;
	return false;
}

/* Check a parsed rule's arguments against its transform and the column. */
void
mask_rule_check(const MaskRule *r, const ColumnInfo *col, bool check_keys)
{
	Oid			t = col->basetype;

	switch (r->kind)
	{
		case MK_PARTIAL:
			ExpectArgs(r, 2, 3);
			(void) IntArg(r, 0, 0, PG_INT32_MAX, WANT_CHAR_COUNT);
			(void) IntArg(r, 1, 0, PG_INT32_MAX, WANT_CHAR_COUNT);
			if (r->nargs == 3)
				ExpectKind(r, 2, ARG_STR, WANT_PAD);
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, FITS_TEXT);
			break;
		case MK_EMAIL:
			ExpectArgs(r, 0, 0);
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, FITS_TEXT);
			break;
		case MK_DIGITS:
			ExpectArgs(r, 0, 2);
			if (r->nargs >= 1)
				(void) IntArg(r, 0, 0, PG_INT32_MAX, WANT_DIGIT_COUNT);
			if (r->nargs == 2)
				ExpectKind(r, 1, ARG_STR, WANT_PAD);
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, FITS_TEXT);
			break;
		case MK_PSEUDONYM:
			ExpectArgs(r, 1, 1);
			ExpectKind(r, 0, ARG_IDENT, WANT_KEY);
			if (check_keys)
				CheckRuleKey(r->args[0].val, AISEC_KEY_HMAC);
			break;
		case MK_FF1:
			ExpectArgs(r, 1, 2);
			ExpectKind(r, 0, ARG_IDENT, WANT_KEY);
			if (r->nargs == 2)
			{
				ExpectKind(r, 1, ARG_STR, WANT_ALPHABET);
				if (pg_mbstrlen(r->args[1].val) < 2)
					ReportBadRule(_("An FF1 alphabet needs at least 2 characters."));
				/* Refused here, not on every row of the view. */
				if (HasRepeatedChar(r->args[1].val))
					ReportBadRule(_("An FF1 alphabet must not repeat a character."));
			}
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, FITS_TEXT);
			if (check_keys)
				CheckRuleKey(r->args[0].val, AISEC_KEY_FF1);
			break;
		case MK_GENERALIZE:
			ExpectArgs(r, 1, 1);
			if (t == DATEOID || t == TIMESTAMPOID || t == TIMESTAMPTZOID)
			{
				ExpectKind(r, 0, ARG_STR, WANT_TIME_UNIT);
				if (mask_time_unit(r->args[0].val, t == DATEOID) == NULL)
					ReportBadRule(_("Unknown unit: use 'minute', 'hour' (not for dates), 'day', "
									"'week', 'month', 'quarter', 'year', 'decade' or 'century'."));
			}
			else if (t == INT2OID)
				(void) IntArg(r, 0, 1, PG_INT16_MAX, WANT_INT2_STEP);
			else if (t == INT4OID)
				(void) IntArg(r, 0, 1, PG_INT32_MAX, WANT_INT4_STEP);
			else if (t == INT8OID)
				(void) IntArg(r, 0, 1, PG_INT64_MAX, WANT_INT8_STEP);
			else if (t == NUMERICOID)
			{
				ExpectKind(r, 0, ARG_NUM, WANT_NUMERIC_STEP);
				if (r->args[0].val[0] == '-' || strspn(r->args[0].val, "+0.") == strlen(r->args[0].val))
					ReportBadRule(_("The generalization step must be positive."));
			}
			else
				ReportTypeMismatch(r, col, FITS_GENERALIZE);
			break;
		case MK_NOISE:
			ExpectArgs(r, 2, 2);
			ExpectKind(r, 0, ARG_IDENT, WANT_KEY);
			ExpectKind(r, 1, ARG_NUM, WANT_RATIO);
			if (r->args[1].val[0] == '-')
				ReportBadRule(_("The noise ratio must not be negative."));
			if (!(t == INT2OID || t == INT4OID || t == INT8OID || t == FLOAT4OID ||
				  t == FLOAT8OID || t == NUMERICOID))
				ReportTypeMismatch(r, col, FITS_NOISE);
			if (check_keys)
				CheckRuleKey(r->args[0].val, AISEC_KEY_HMAC);
			break;
		case MK_NULL:
			ExpectArgs(r, 0, 0);
			break;
		case MK_REDACT:
			ExpectArgs(r, 0, 0);
			if (!IsTextType(t))
				ReportTypeMismatch(r, col, FITS_TEXT_OR_NULL);
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
 * Catalog helpers
 * ----------------------------------------------------------------
 */

/* Describe column attnum of relid (which must be a live user column). */
void
mask_column_info(Oid relid, AttrNumber attnum, ColumnInfo *col)
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
void
mask_check_relation(Oid relid)
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

/* Copy relid's pg_class row (its fixed-size part) into *form. */
static void
ReadClass(Oid relid, FormData_pg_class *form)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	memcpy(form, GETSTRUCT(tup), sizeof(FormData_pg_class));
	ReleaseSysCache(tup);
}

/* Owner of a relation. */
Oid
mask_relation_owner(Oid relid)
{
	FormData_pg_class form;

	ReadClass(relid, &form);
	return form.relowner;
}

/* True if relid has row-level security enabled (forced or not). */
bool
mask_relation_rls(Oid relid)
{
	FormData_pg_class form;

	ReadClass(relid, &form);
	return form.relrowsecurity;
}

/*
 * Raise insufficient_privilege unless the current user owns relid (or has
 * the privileges of its owner).  A masked view reads with its table's
 * owner's rights and is readable by every aisec_admin, aisec_engineer and
 * masked role, so publishing one is the owner's decision, as GRANT is.
 */
void
mask_require_owner(Oid relid)
{
	if (!has_privs_of_role(GetUserId(), mask_relation_owner(relid)))
		aclcheck_error(ACLCHECK_NOT_OWNER, get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
}

/*
 * Run a fixed query returning one oid column as the extension owner;
 * return the OIDs.
 */
List *
mask_owner_oids(const char *sql)
{
	AisecSpi	spi;
	List	   *oids = NIL;
	int			n;

	aisec_spi_begin(&spi);
	n = aisec_spi_run(sql, true, 0, NULL, NULL, NULL, NULL);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		oids = lappend_oid(oids, DatumGetObjectId(aisec_spi_value(i, 0, &isnull)));
	}
	aisec_spi_end(&spi);
	return oids;
}

/* Return the OIDs of all tables that have masking rules. */
List *
mask_ruled_tables(void)
{
	return mask_owner_oids("SELECT DISTINCT rel::pg_catalog.oid FROM aisec.mask_rule");
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
	AisecSpi	spi;
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
	mask_check_relation(relid);
	mask_require_owner(relid);
	mask_column_info(relid, mask_column_attnum(relid, colname), &col);
	mask_rule_parse(ruletext, &rule);
	mask_rule_check(&rule, &col, true);
	canonical = CanonicalRule(&rule);
	key = RuleKey(&rule);
	first_rule = !list_member_oid(mask_ruled_tables(), relid);

	args[0] = ObjectIdGetDatum(relid);
	args[1] = Int16GetDatum(col.attnum);
	args[2] = DirectFunctionCall1(namein, CStringGetDatum(col.name));
	args[3] = CStringGetTextDatum(kind_names[rule.kind]);
	args[4] = CStringGetTextDatum(canonical);
	if (key != NULL)
		args[5] = CStringGetTextDatum(key);
	else
		nulls[5] = 'n';
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.mask_rule (rel, attnum, col, kind, rule, key_name, set_by) "
						 "VALUES ($1::pg_catalog.regclass, $2, $3, $4, $5, $6, pg_catalog.session_user()) "
						 "ON CONFLICT (rel, attnum) DO UPDATE SET col = EXCLUDED.col, kind = EXCLUDED.kind, "
						 "rule = EXCLUDED.rule, key_name = EXCLUDED.key_name, set_by = EXCLUDED.set_by, "
						 "set_at = pg_catalog.now()",
						 true, 6, argtypes, args, nulls, NULL);
	aisec_spi_end(&spi);
	CommandCounterIncrement();

	/* Before the REVOKE of mask_shield_masked_roles, on Citus. */
	mask_citus_sequential(relid);
	if (first_rule)
		mask_shield_masked_roles(relid);
	(void) mask_build_view(relid);

	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"column\": ");
	escape_json(&detail, col.name);
	appendStringInfoString(&detail, ", \"rule\": ");
	escape_json(&detail, canonical);
	appendStringInfoChar(&detail, '}');
	aisec_audit_log("mask.set", aisec_qualified_name(relid), detail.data);
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
	AisecSpi	spi;
	int			n;
	StringInfoData detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.drop_mask()");
	aisec_prevent_if_read_only("aisec.drop_mask()");
	LockRelationOid(relid, ShareUpdateExclusiveLock);
	if (get_rel_name(relid) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	mask_require_owner(relid);
	attnum = mask_column_attnum(relid, colname);
	args[0] = ObjectIdGetDatum(relid);
	args[1] = Int16GetDatum(attnum);
	aisec_spi_begin(&spi);
	n = aisec_spi_run("DELETE FROM aisec.mask_rule WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass "
					  "AND attnum OPERATOR(pg_catalog.=) $2", true, 2, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);
	if (n == 0)
		PG_RETURN_BOOL(false);
	CommandCounterIncrement();
	(void) mask_build_view(relid);
	initStringInfo(&detail);
	appendStringInfoString(&detail, "{\"column\": ");
	escape_json(&detail, colname);
	appendStringInfoChar(&detail, '}');
	aisec_audit_log("mask.drop", aisec_qualified_name(relid), detail.data);
	PG_RETURN_BOOL(true);
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
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function \"%s\" must be fired as a BEFORE ROW trigger",
						"aisec.mask_rule_resolve")));
	desc = trigdata->tg_relation->rd_att;
	tup = trigdata->tg_trigtuple;
	relid = DatumGetObjectId(heap_getattr(tup, SPI_fnumber(desc, "rel"), desc, &isnull));

	/*
	 * The trigger runs before the NOT NULL constraints are checked: a NULL
	 * here (a superuser's direct INSERT) is refused as they would refuse it.
	 */
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
						"rel", "mask_rule")));
	value = heap_getattr(tup, SPI_fnumber(desc, "col"), desc, &isnull);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
						"col", "mask_rule")));
	col = NameStr(*DatumGetName(value));
	attnum = mask_column_attnum(relid, col);
	attcol = SPI_fnumber(desc, "attnum");
	value = Int16GetDatum(attnum);
	return PointerGetDatum(heap_modify_tuple_by_cols(tup, desc, 1, &attcol, &value, &replace_null));
}

/* True if a DDL statement makes a table a partition or inheritance child. */
static bool
LinksTables(Node *parsetree)
{
	ListCell   *lc;

	if (parsetree == NULL)
		return false;
	if (IsA(parsetree, CreateStmt))
		return ((CreateStmt *) parsetree)->inhRelations != NIL ||
			((CreateStmt *) parsetree)->partbound != NULL;
	if (!IsA(parsetree, AlterTableStmt))
		return false;
	foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		if (cmd->subtype == AT_AttachPartition || cmd->subtype == AT_AddInherit)
			return true;
	}
	return false;
}

/*
 * Event trigger (ddl_command_end, ALTER TABLE and CREATE TABLE):
 *	- keep each rule's stored column name equal to the current name of its
 *	  attnum, so a renamed column's rule is dumped under the new name;
 *	- rebuild the masked views of tables that changed owner or row-level
 *	  security (masked_view.c);
 *	- when a table becomes a partition or inheritance child, shield the
 *	  masked roles from every relation sharing a governed table's rows
 *	  (masked_role.c): their privileges on it are revoked, and the command
 *	  fails if one remains through PUBLIC or a role.
 */
PG_FUNCTION_INFO_V1(aisec_mask_rule_sync);
Datum
aisec_mask_rule_sync(PG_FUNCTION_ARGS)
{
	Node	   *parsetree = NULL;
	AisecSpi	spi;

	if (CALLED_AS_EVENT_TRIGGER(fcinfo))
		parsetree = ((EventTriggerData *) fcinfo->context)->parsetree;
	if (parsetree == NULL || !IsA(parsetree, CreateStmt))
	{
		aisec_spi_begin(&spi);
		(void) aisec_spi_run("UPDATE aisec.mask_rule m SET col = a.attname FROM pg_catalog.pg_attribute a "
							 "WHERE a.attrelid OPERATOR(pg_catalog.=) m.rel::pg_catalog.oid "
							 "AND a.attnum OPERATOR(pg_catalog.=) m.attnum AND NOT a.attisdropped "
							 "AND a.attname OPERATOR(pg_catalog.<>) m.col",
							 true, 0, NULL, NULL, NULL, NULL);
		aisec_spi_end(&spi);
		CommandCounterIncrement();
		mask_refresh_stale_views();
	}
	if (LinksTables(parsetree))
		mask_shield_all();
	PG_RETURN_NULL();
}

/* Name "table.column" of a masking rule that uses key name, or NULL. */
static char *
MaskRuleUsingKey(const char *name)
{
	AisecSpi	spi;
	Oid			argtype = TEXTOID;
	Datum		arg = CStringGetTextDatum(name);
	char	   *where = NULL;

	aisec_spi_begin(&spi);
	if (aisec_spi_run("SELECT m.rel::pg_catalog.oid, m.col FROM aisec.mask_rule m "
					  "WHERE m.key_name OPERATOR(pg_catalog.=) $1 LIMIT 1",
					  true, 1, &argtype, &arg, NULL, NULL) == 1)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(aisec_spi_value(0, 0, &isnull));
		Name		col = DatumGetName(aisec_spi_value(0, 1, &isnull));

		where = psprintf("%s.%s", get_rel_name(relid), NameStr(*col));
	}
	aisec_spi_end(&spi);
	return where;
}

/*
 * _PG_init: tell keys how to ask whether a masking rule uses a key, and
 * versioning how to read versions masked.
 */
void
aisec_masking_init(void)
{
	aisec_keys_set_use_check(MaskRuleUsingKey);
	mask_register_versions();
}
