/*
 * lineage_audit.c
 *		Lineage in the audit log (doc/lineage.md "Audit"): one entry per
 *		transaction, action and transform name, written when the
 *		transaction commits; and an entry for every SET, ALTER ROLE,
 *		ALTER DATABASE or ALTER SYSTEM that sets aisec.lineage to off.
 *
 * Transforms (lineage.capture, lineage.record, lineage.materialize,
 * lineage.track_copy) and captures skipped under aisec.lineage = off
 * (lineage.off) are not audited one by one: each is added to a group,
 * kept in the transaction's memory, keyed by action, transform name and
 * subtransaction.  A subtransaction that commits hands its groups to its
 * parent (merged with the parent's group of the same action and name);
 * one that rolls back drops them, as its transforms were rolled back with
 * it.  At XACT_EVENT_PRE_COMMIT (and PRE_PREPARE) each group left becomes
 * one audit entry, in the order the groups began, in the committing
 * transaction: if the entry cannot be written, the transaction fails and
 * its lineage with it.  An entry holds totals (transforms, edges, kinds,
 * levels, tables) and the first AUDIT_IDS transform ids.
 *
 * The SET hook (ProcessUtility) queues lineage.off_set the same way (an
 * entry of its own, never merged), before the statement runs, in its
 * (sub)transaction: a statement that fails, or a (sub)transaction rolled
 * back, takes the entry with it, and no lock on the audit log is held
 * before commit.  It queues only where aisec is installed and a write is
 * possible (not in recovery, not in a read-only transaction); a setting
 * it cannot see (set_config(), a function's SET clause, the server
 * configuration, connection options) is accounted for by the lineage.off
 * entries of the captures it skips.
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "audit/audit.h"
#include "core/core.h"
#include "lineage_internal.h"

/* Transform ids an entry lists; past that it gives the count only. */
#define AUDIT_IDS		100
/* Tables an entry names; past that it counts the others. */
#define AUDIT_TABLES	100

/* The transforms (or skips) of one action and name in one subtransaction. */
typedef struct AuditGroup
{
	const char *action;
	char	   *name;			/* transform name, or NULL */
	SubTransactionId subid;
	int64		order;			/* when the group began */
	int64		count;
	int64		edges;
	int64		ids[AUDIT_IDS];
	int			nids;
	List	   *kinds;			/* distinct, char * */
	List	   *levels;
	List	   *tables;			/* distinct qualified names */
	int64		more_tables;
	bool		no_object;		/* some transform named no single table */
	char	   *detail;			/* an entry of its own (lineage.off_set), or NULL */
	char	   *object;			/* its object */
	struct AuditGroup *next;
} AuditGroup;

static AuditGroup *groups = NULL;	/* in TopTransactionContext */
static int64 group_order = 0;

static ProcessUtility_hook_type prev_utility = NULL;

/* Add s to a list of distinct strings, copied. */
static List *
AddDistinct(List *l, const char *s)
{
	ListCell   *lc;

	foreach(lc, l)
	{
		if (strcmp(lfirst(lc), s) == 0)
			return l;
	}
	return lappend(l, pstrdup(s));
}

/* Whether two transform names (either may be NULL) are the same. */
static bool
SameName(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The group of action and name in subtransaction subid, created if need be. */
static AuditGroup *
GroupOf(const char *action, const char *name, SubTransactionId subid)
{
	AuditGroup *g;
	AuditGroup **tail = &groups;

	for (g = groups; g != NULL; g = g->next)
	{
		if (g->detail == NULL && g->subid == subid && strcmp(g->action, action) == 0 &&
			SameName(g->name, name))
			return g;
		tail = &g->next;
	}
	g = MemoryContextAllocZero(TopTransactionContext, sizeof(AuditGroup));
	g->action = MemoryContextStrdup(TopTransactionContext, action);
	g->name = name ? MemoryContextStrdup(TopTransactionContext, name) : NULL;
	g->subid = subid;
	g->order = ++group_order;
	*tail = g;
	return g;
}

/* Queue an entry of its own, written at commit as the groups are. */
static void
QueueEntry(const char *action, const char *object, const char *detail)
{
	AuditGroup *g = MemoryContextAllocZero(TopTransactionContext, sizeof(AuditGroup));
	AuditGroup **tail = &groups;

	while (*tail != NULL)
		tail = &(*tail)->next;
	g->action = MemoryContextStrdup(TopTransactionContext, action);
	g->object = object ? MemoryContextStrdup(TopTransactionContext, object) : NULL;
	g->detail = MemoryContextStrdup(TopTransactionContext, detail);
	g->subid = GetCurrentSubTransactionId();
	g->order = ++group_order;
	*tail = g;
}

/* Add a table (qualified name, or NULL: none or several) to g. */
static void
AddTable(AuditGroup *g, const char *object)
{
	ListCell   *lc;

	if (object == NULL)
	{
		g->no_object = true;
		return;
	}
	foreach(lc, g->tables)
	{
		if (strcmp(lfirst(lc), object) == 0)
			return;
	}
	if (list_length(g->tables) < AUDIT_TABLES)
		g->tables = lappend(g->tables, pstrdup(object));
	else
		g->more_tables++;
}

/* Note one event in the current subtransaction's group of action and name. */
static void
Note(const char *action, const char *name, const char *object, int64 id,
	 const char *kind, const char *level, int64 edges)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	AuditGroup *g = GroupOf(action, name, GetCurrentSubTransactionId());

	g->count++;
	g->edges += edges;
	if (id > 0 && g->nids < AUDIT_IDS)
		g->ids[g->nids++] = id;
	if (kind != NULL)
		g->kinds = AddDistinct(g->kinds, kind);
	if (level != NULL)
		g->levels = AddDistinct(g->levels, level);
	AddTable(g, object);
	MemoryContextSwitchTo(old);
}

/*
 * Audit transform id (t) written by action (lineage.capture, .record,
 * .materialize, .track_copy) into the ntables tables named (qualified).
 * The entry is written when the transaction commits.
 */
void
lineage_audit_transform_into(const char *action, const char *const *tables, int ntables,
							 int64 id, const LineageTransform *t)
{
	Note(action, lineage_name(t->name), ntables == 1 ? tables[0] : NULL, id, t->kind,
		 t->table_level ? "table" : "row", t->edges);
	if (ntables > 1)
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
		AuditGroup *g = GroupOf(action, lineage_name(t->name), GetCurrentSubTransactionId());

		for (int i = 0; i < ntables; i++)
			AddTable(g, tables[i]);
		MemoryContextSwitchTo(old);
	}
}

/* The same, for a transform that wrote one table (object), or none (NULL). */
void
lineage_audit_transform(const char *action, const char *object, int64 id,
						const LineageTransform *t)
{
	lineage_audit_transform_into(action, &object, object != NULL ? 1 : 0, id, t);
}

/* Audit that aisec.lineage = off skipped the capture what of object. */
void
lineage_audit_skip(const char *what, const char *object)
{
	Note("lineage.off", lineage_name(NULL), object, 0, what, NULL, 0);
}

/* Append a JSON array of the strings of l. */
static void
AppendStrings(StringInfo buf, List *l)
{
	ListCell   *lc;

	appendStringInfoChar(buf, '[');
	foreach(lc, l)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoString(buf, ", ");
		escape_json(buf, lfirst(lc));
	}
	appendStringInfoChar(buf, ']');
}

/* qsort order of transform ids. */
static int
CompareIds(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/* Write g's audit entry. */
static void
WriteGroup(AuditGroup *g, uint64 xact)
{
	StringInfoData d;
	bool		skips = strcmp(g->action, "lineage.off") == 0;
	const char *object = NULL;

	if (g->detail != NULL)
	{
		aisec_audit_log(g->action, g->object, g->detail);
		return;
	}
	if (!g->no_object && list_length(g->tables) == 1 && g->more_tables == 0)
		object = linitial(g->tables);
	initStringInfo(&d);
	appendStringInfoString(&d, "{\"name\": ");
	if (g->name != NULL)
		escape_json(&d, g->name);
	else
		appendStringInfoString(&d, "null");
	appendStringInfo(&d, ", \"xact\": " UINT64_FORMAT, xact);
	if (skips)
	{
		appendStringInfo(&d, ", \"setting\": \"off\", \"skipped\": " INT64_FORMAT
						 ", \"kinds\": ", g->count);
		AppendStrings(&d, g->kinds);
	}
	else
	{
		qsort(g->ids, g->nids, sizeof(int64), CompareIds);
		appendStringInfo(&d, ", \"transforms\": " INT64_FORMAT ", \"ids\": [", g->count);
		for (int i = 0; i < g->nids; i++)
			appendStringInfo(&d, "%s" INT64_FORMAT, i > 0 ? ", " : "", g->ids[i]);
		appendStringInfo(&d, "], \"edges\": " INT64_FORMAT ", \"kinds\": ", g->edges);
		AppendStrings(&d, g->kinds);
		appendStringInfoString(&d, ", \"levels\": ");
		AppendStrings(&d, g->levels);
	}
	appendStringInfoString(&d, ", \"tables\": ");
	AppendStrings(&d, g->tables);
	if (g->more_tables > 0)
		appendStringInfo(&d, ", \"more_tables\": " INT64_FORMAT, g->more_tables);
	appendStringInfoChar(&d, '}');
	aisec_audit_log(g->action, object, d.data);
}

/* qsort order of groups: the order they began in. */
static int
CompareGroups(const void *a, const void *b)
{
	const AuditGroup *x = *(AuditGroup *const *) a;
	const AuditGroup *y = *(AuditGroup *const *) b;

	return x->order < y->order ? -1 : x->order > y->order;
}

/* Write the entries of groups all[0..n-1], read-only mode lifted. */
static void
WriteSorted(AuditGroup **all, int n)
{
	bool		read_only = XactReadOnly;
	uint64		xact = U64FromFullTransactionId(GetTopFullTransactionId());

	XactReadOnly = false;
	PG_TRY();
	{
		for (int i = 0; i < n; i++)
			WriteGroup(all[i], xact);
	}
	PG_FINALLY();
	{
		XactReadOnly = read_only;
	}
	PG_END_TRY();
}

/*
 * Write an entry per group left, in the order the groups began.  The
 * groups were noted in read-write mode (lineage is written only there,
 * and a SET is queued only there); a transaction that turned read-only
 * afterwards (SET TRANSACTION READ ONLY) still accounts for what it did:
 * read-only mode is lifted while the entries are written, so that its
 * COMMIT does not fail.
 */
static void
WriteGroups(void)
{
	AuditGroup *g = groups;
	AuditGroup **all;
	int			n = 0;
	int			i = 0;

	groups = NULL;
	if (g == NULL)
		return;
	/* DROP EXTENSION in this transaction took the audit log with it. */
	if (!OidIsValid(get_extension_oid(AISEC_EXTENSION, true)))
		return;
	for (AuditGroup *x = g; x != NULL; x = x->next)
		n++;
	all = palloc(sizeof(AuditGroup *) * n);
	for (AuditGroup *x = g; x != NULL; x = x->next)
		all[i++] = x;
	qsort(all, n, sizeof(AuditGroup *), CompareGroups);
	if (RecoveryInProgress())
		return;					/* cannot happen: nothing was written */
	WriteSorted(all, n);
}

/* Transaction callback: write the entries before commit; forget on end. */
static void
AuditXact(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			WriteGroups();
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_PARALLEL_ABORT:
			groups = NULL;
			group_order = 0;
			break;
		default:
			break;
	}
}

/* Merge group from into into. */
static void
MergeGroup(AuditGroup *into, AuditGroup *from)
{
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
	ListCell   *lc;

	into->count += from->count;
	into->edges += from->edges;
	into->order = Min(into->order, from->order);
	for (int i = 0; i < from->nids; i++)
	{
		if (into->nids < AUDIT_IDS)
			into->ids[into->nids++] = from->ids[i];
		else
		{
			/* Keep the lowest ids: the first ones recorded. */
			int			hi = 0;

			for (int k = 1; k < into->nids; k++)
				if (into->ids[k] > into->ids[hi])
					hi = k;
			if (from->ids[i] < into->ids[hi])
				into->ids[hi] = from->ids[i];
		}
	}
	foreach(lc, from->kinds)
		into->kinds = AddDistinct(into->kinds, lfirst(lc));
	foreach(lc, from->levels)
		into->levels = AddDistinct(into->levels, lfirst(lc));
	foreach(lc, from->tables)
		AddTable(into, lfirst(lc));
	into->more_tables += from->more_tables;
	into->no_object |= from->no_object;
	MemoryContextSwitchTo(old);
}

/*
 * Subtransaction callback: a committed subtransaction's groups become its
 * parent's; a rolled-back one's are dropped.
 */
static void
AuditSubXact(SubXactEvent event, SubTransactionId mySubid,
			 SubTransactionId parentSubid, void *arg)
{
	AuditGroup **p = &groups;

	if (event != SUBXACT_EVENT_COMMIT_SUB && event != SUBXACT_EVENT_ABORT_SUB)
		return;
	while (*p != NULL)
	{
		AuditGroup *g = *p;

		if (g->subid != mySubid)
		{
			p = &g->next;
			continue;
		}
		if (event == SUBXACT_EVENT_COMMIT_SUB)
		{
			AuditGroup *into = NULL;

			for (AuditGroup *x = groups; x != NULL && g->detail == NULL; x = x->next)
				if (x->detail == NULL && x->subid == parentSubid &&
					strcmp(x->action, g->action) == 0 && SameName(x->name, g->name))
					into = x;
			if (into == NULL)
			{
				g->subid = parentSubid;
				p = &g->next;
				continue;
			}
			MergeGroup(into, g);
		}
		*p = g->next;			/* merged or rolled back: unlink */
	}
}

/* ---------------------------------------------------------------------
 * SET aisec.lineage = off
 * ---------------------------------------------------------------------
 */

/* Whether setstmt sets aisec.lineage to off. */
static bool
SetsLineageOff(VariableSetStmt *setstmt)
{
	char	   *value;

	if (setstmt == NULL || setstmt->name == NULL ||
		pg_strcasecmp(setstmt->name, "aisec.lineage") != 0)
		return false;
	if (setstmt->kind != VAR_SET_VALUE && setstmt->kind != VAR_SET_CURRENT)
		return false;
	value = ExtractSetVariableArgs(setstmt);
	return value != NULL && pg_strcasecmp(value, "off") == 0;
}

/*
 * Write lineage.off_set: scope, the current role (the entry's actor is
 * the session user), and the role and database named.
 */
static void
AuditOffSet(const char *scope, const char *role, const char *database)
{
	StringInfoData d;

	if (RecoveryInProgress() || XactReadOnly || IsBinaryUpgrade || creating_extension ||
		!IsTransactionState() ||
		!OidIsValid(get_extension_oid(AISEC_EXTENSION, true)))
		return;
	initStringInfo(&d);
	appendStringInfoString(&d, "{\"setting\": \"aisec.lineage\", \"value\": \"off\", \"scope\": ");
	escape_json(&d, scope);
	appendStringInfoString(&d, ", \"by\": ");
	escape_json(&d, GetUserNameFromId(GetUserId(), false));
	appendStringInfoString(&d, ", \"role\": ");
	if (role != NULL)
		escape_json(&d, role);
	else
		appendStringInfoString(&d, "null");
	appendStringInfoString(&d, ", \"database\": ");
	if (database != NULL)
		escape_json(&d, database);
	else
		appendStringInfoString(&d, "null");
	appendStringInfoChar(&d, '}');
	QueueEntry("lineage.off_set", role != NULL ? role : database, d.data);
}

/* The name a role specification gives (NULL: ALL). */
static const char *
RoleName(RoleSpec *role)
{
	if (role == NULL)
		return NULL;
	switch (role->roletype)
	{
		case ROLESPEC_CSTRING:
			return role->rolename;
		case ROLESPEC_CURRENT_USER:
			return GetUserNameFromId(GetUserId(), false);
		case ROLESPEC_SESSION_USER:
			return GetUserNameFromId(GetSessionUserId(), false);
		case ROLESPEC_CURRENT_ROLE:
			return GetUserNameFromId(GetUserId(), false);
		default:
			return "public";
	}
}

/* Audit a statement that sets aisec.lineage to off (before it runs). */
static void
AuditUtility(Node *stmt)
{
	if (IsA(stmt, VariableSetStmt))
	{
		VariableSetStmt *s = (VariableSetStmt *) stmt;

		/* SET LOCAL outside a transaction block does nothing. */
		if (SetsLineageOff(s) && (!s->is_local || IsTransactionBlock()))
			AuditOffSet(s->is_local ? "local" : "session", NULL, NULL);
	}
	else if (IsA(stmt, AlterRoleSetStmt))
	{
		AlterRoleSetStmt *s = (AlterRoleSetStmt *) stmt;

		if (SetsLineageOff(s->setstmt))
			AuditOffSet(s->role == NULL ? "all roles" : "role", RoleName(s->role),
						s->database);
	}
	else if (IsA(stmt, AlterDatabaseSetStmt))
	{
		AlterDatabaseSetStmt *s = (AlterDatabaseSetStmt *) stmt;

		if (SetsLineageOff(s->setstmt))
			AuditOffSet("database", NULL, s->dbname);
	}
	else if (IsA(stmt, AlterSystemStmt))
	{
		AlterSystemStmt *s = (AlterSystemStmt *) stmt;

		if (SetsLineageOff(s->setstmt))
			AuditOffSet("system", NULL, NULL);
	}
}

/* ProcessUtility_hook: audit SET aisec.lineage = off, then run it. */
static void
LineageUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
			   ProcessUtilityContext context, ParamListInfo params,
			   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (stmt != NULL && (IsA(stmt, VariableSetStmt) || IsA(stmt, AlterRoleSetStmt) ||
						 IsA(stmt, AlterDatabaseSetStmt) || IsA(stmt, AlterSystemStmt)))
		AuditUtility(stmt);
	if (prev_utility)
		prev_utility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

/* Register the transaction callbacks and the SET hook (at load). */
void
lineage_audit_init(void)
{
	RegisterXactCallback(AuditXact, NULL);
	RegisterSubXactCallback(AuditSubXact, NULL);
	prev_utility = ProcessUtility_hook;
	ProcessUtility_hook = LineageUtility;
}
