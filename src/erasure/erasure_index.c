/*
 * erasure_index.c
 *		The subject indexes on history: one btree per subject column of a
 *		tracked table, over that column of the history's row data, so that
 *		erasure finds the history records naming a subject by index.
 *
 * A history record's row data is a value of the tracked table's row type
 * (doc/versioning.md, "History layout"), so the subject column of a record
 * is a field of it: the index is an ordinary expression index,
 * CREATE INDEX ON aisec.history_<n> (((data).col)), with the column type's
 * default btree operator class.  Field selection is immutable, and the
 * planner matches erasure_collect.c's condition (h.data).col = $k to it, as
 * it matches the live table's col = $k to the column's index; a redacted
 * record (data NULL) has a NULL key.
 *
 * The set of indexes follows the declarations (erasure_history_sync): a
 * declared column of a tracked table gets its index when it is declared,
 * or when its table is tracked after (versioning calls back,
 * erasure_history_tracked); erase builds one that is missing all the same
 * (dropped by hand); an index whose column is no longer declared is
 * dropped (by undeclare_subject).  An index is recognized by its
 * definition, not its name (PostgreSQL names it history_<n>_<col>_idx): a
 * single key that is field number attnum of the history's data column,
 * btree, valid, not partial.  A column whose type has equality but no
 * btree operator class gets none: its history is searched by a scan.  The
 * history tables are no extension members, so pg_dump dumps these indexes
 * with them, and pg_restore builds them again (by column name: a restored
 * table renumbered after dropped columns is no matter).
 *
 * The index depends on the tracked table's column (PostgreSQL records
 * that for a field selection): DROP COLUMN of a declared column of a
 * tracked table is refused until the column is undeclared (or with
 * CASCADE, which drops the index; the stale declaration then makes the
 * preview fail, as for any dropped subject column).  Built as the
 * extension owner, who owns the history; the builds and drops are audited
 * by the declaration changes or the erasure that made them.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "catalog/pg_am.h"
#include "nodes/primnodes.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "erasure_internal.h"

/* The history's row data column (history_<n>.data, see track.c). */
#define HISTORY_DATA_COLUMN		"data"

/*
 * Field number of the history's data column (attribute dataatt of the
 * history) that index indexoid indexes, if it is a subject index (see
 * above); else 0.
 */
static AttrNumber
SubjectIndexField(Oid indexoid, AttrNumber dataatt)
{
	Relation	ind = index_open(indexoid, AccessShareLock);
	AttrNumber	field = 0;

	if (ind->rd_rel->relam == BTREE_AM_OID &&
		ind->rd_index->indisvalid &&
		ind->rd_index->indnatts == 1 &&
		ind->rd_index->indkey.values[0] == 0 &&
		RelationGetIndexPredicate(ind) == NIL)
	{
		List	   *exprs = RelationGetIndexExpressions(ind);
		Node	   *e = list_length(exprs) == 1 ? linitial(exprs) : NULL;

		if (e != NULL && IsA(e, FieldSelect) &&
			IsA(((FieldSelect *) e)->arg, Var) &&
			((Var *) ((FieldSelect *) e)->arg)->varattno == dataatt)
			field = ((FieldSelect *) e)->fieldnum;
	}
	index_close(ind, AccessShareLock);
	return field;
}

/*
 * The subject indexes of history hist: sets *fields and *oids to arrays of
 * their field numbers and OIDs, returns how many.
 */
static int
SubjectIndexes(Oid hist, AttrNumber **fields, Oid **oids)
{
	Relation	rel = relation_open(hist, AccessShareLock);
	AttrNumber	dataatt = get_attnum(hist, HISTORY_DATA_COLUMN);
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	int			n = 0;

	*fields = palloc0(sizeof(AttrNumber) * (list_length(indexes) + 1));
	*oids = palloc0(sizeof(Oid) * (list_length(indexes) + 1));
	foreach(lc, indexes)
	{
		AttrNumber	f = SubjectIndexField(lfirst_oid(lc), dataatt);

		if (f > 0)
		{
			(*fields)[n] = f;
			(*oids)[n++] = lfirst_oid(lc);
		}
	}
	list_free(indexes);
	relation_close(rel, AccessShareLock);
	return n;
}

/* The declared columns of relid, as attnums (columns that exist); how many. */
static int
DeclaredAttnums(Oid relid, AttrNumber **out)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	int			n;
	int			k = 0;
	AttrNumber *a;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT attname::pg_catalog.text FROM aisec.erasure_subject "
					  "WHERE rel OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
					  true, 1, &argtype, &arg, NULL, NULL);
	a = palloc0(sizeof(AttrNumber) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *name = TextDatumGetCString(aisec_spi_value(i, 0, &isnull));
		AttrNumber	attnum = get_attnum(relid, name);

		if (attnum > 0)
			a[k++] = attnum;
	}
	aisec_spi_end(&spi);
	*out = a;
	return k;
}

/* Whether attnum is among the n attnums of a. */
static bool
HasAttnum(const AttrNumber *a, int n, AttrNumber attnum)
{
	for (int i = 0; i < n; i++)
		if (a[i] == attnum)
			return true;
	return false;
}

/*
 * Make the subject indexes of tracked table tt (relation relid) follow its
 * declarations: build the missing ones (then ANALYZE the history, so the
 * planner knows the new expressions' values), drop those of columns no
 * longer declared.  Returns how many indexes were built.  The caller
 * holds a lock on relid that keeps its columns as they are.
 */
int
erasure_history_sync(Oid relid, const TrackedTable *tt)
{
	AttrNumber *declared;
	int			ndeclared = DeclaredAttnums(relid, &declared);
	AttrNumber *fields;
	Oid		   *oids;
	int			nindexes = SubjectIndexes(tt->history, &fields, &oids);
	char	   *hist = aisec_qualified_name(tt->history);
	int			built = 0;
	AisecSpi	spi;

	aisec_spi_begin(&spi);
	for (int i = 0; i < nindexes; i++)
		if (!HasAttnum(declared, ndeclared, fields[i]))
			aisec_spi_ddl(true, "DROP INDEX %s", aisec_qualified_name(oids[i]));
	for (int i = 0; i < ndeclared; i++)
	{
		Oid			base = getBaseType(get_atttype(relid, declared[i]));

		/* A type with no btree class (hash equality only): no index, a scan. */
		if (HasAttnum(fields, nindexes, declared[i]) ||
			!OidIsValid(lookup_type_cache(base, TYPECACHE_BTREE_OPFAMILY)->btree_opf))
			continue;
		aisec_spi_ddl(true, "CREATE INDEX ON %s (((%s).%s))", hist, HISTORY_DATA_COLUMN,
					  quote_identifier(get_attname(relid, declared[i], false)));
		built++;
	}
	if (built > 0)
		aisec_spi_ddl(true, "ANALYZE %s", hist);
	aisec_spi_end(&spi);
	return built;
}

/*
 * Versioning's callback (registered by aisec_erasure_init): a table just
 * tracked gets the subject indexes of its declared columns.
 */
void
erasure_history_tracked(Oid relid, const TrackedTable *tt)
{
	(void) erasure_history_sync(relid, tt);
}
