/*
 * masking_internal.h
 *		Private to src/masking/: the parsed form of a masking rule and what
 *		the folder's files share.  Other folders include masking.h only.
 *
 * Who does what:
 *		masking_rules.c  the rule catalog: the rule language (parse, check,
 *						 canonical text), set_mask, drop_mask, and keeping
 *						 stored rules in step with renames and restores
 *		masked_view.c	 generating aisec_masked.<table> from its rules
 *		masked_role.c	 mask_role, unmask_role, who may use keyed masks
 *		masked_export.c  export_masked: statically masked copies
 *		masked_version.c what versioning asks to read versions masked
 *		anonymity.c		 k_anonymity and checked quasi-identifier lists
 *		mask.c, fpe.c, pseudonym.c  the masking functions themselves
 */
#ifndef AISEC_MASKING_INTERNAL_H
#define AISEC_MASKING_INTERNAL_H

#include "postgres.h"

#include "access/attnum.h"
#include "nodes/pg_list.h"
#include "utils/array.h"

#define MASKED_SCHEMA		"aisec_masked"
#define RULE_MAX_ARGS		3

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

/* What a rule is applied to. */
typedef struct ColumnInfo
{
	Oid			relid;
	AttrNumber	attnum;
	const char *name;
	Oid			basetype;		/* domain resolved to its base type */
	int32		typmod;
} ColumnInfo;

/* masking_rules.c */
extern void mask_rule_parse(const char *text, MaskRule *r);
extern void mask_rule_check(const MaskRule *r, const ColumnInfo *col, bool check_keys);
extern int64 mask_rule_int(const MaskRule *r, int i);
extern void mask_column_info(Oid relid, AttrNumber attnum, ColumnInfo *col);
extern void mask_check_relation(Oid relid);
extern List *mask_owner_oids(const char *sql);
extern List *mask_ruled_tables(void);
extern Oid	mask_relation_owner(Oid relid);
extern bool mask_relation_rls(Oid relid);
extern void mask_require_owner(Oid relid);

/* masked_view.c */
extern char *mask_expr_sql(const MaskRule *r, const ColumnInfo *col);
extern Oid	mask_view_of(Oid relid);
extern Oid	mask_build_view(Oid relid);
extern void mask_refresh_stale_views(void);
extern void mask_citus_sequential(Oid relid);

/* masked_role.c */
extern List *mask_masked_roles(void);
extern void mask_shield_masked_roles(Oid relid);
extern void mask_shield_all(void);

/*
 * masked_role.c: raise insufficient_privilege unless the current user may
 * use keyed masks (pseudonymize, ff1_encrypt, sticky_noise): aisec_admin,
 * aisec_engineer, or a role registered with aisec.mask_role().
 */
extern void mask_require_keyed_use(const char *function_name);

/* masked_version.c: register masked reads of versions with versioning. */
extern void mask_register_versions(void);

/* mask.c: canonical name of a generalize() time unit, or NULL. */
extern const char *mask_time_unit(const char *unit, bool for_date);

/* anonymity.c: catalog-checked, quoted names for building queries. */
extern AttrNumber mask_column_attnum(Oid relid, const char *colname);
extern char *mask_quasi_identifier_list(Oid relid, ArrayType *qis);

#endif							/* AISEC_MASKING_INTERNAL_H */
