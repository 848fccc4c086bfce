/*
 * erasure_verify.c
 *		The post-check of an executed erasure request (issue 18 item 7):
 *		run at the end of aisec.erase() (its result goes into the
 *		certificate) and any time later by aisec.verify_erasure(reference,
 *		subject).
 *
 * Per table, as the extension owner with row security off, reading with
 * the statement's snapshot (erase: a new one per query, after its own
 * changes):
 *
 * - the erased row ids (aisec.erasure_row): no live row has one again (a
 *   scan, since aisec_rid has no index: not at erase time, whose DELETE
 *   just removed them under its lock), no history record of one still
 *   holds data or salt;
 * - rows derived from them through lineage (aisec.lineage_down, the
 *   subject's own rows left out): no more of them still hold data (live or
 *   in the history) than the certificate says were kept by policy (its
 *   tables' "derived_rows_kept", 0 where absent: without a policy every
 *   derived row must be gone);
 * - with the subject (its keyed hash checked against the request's first):
 *   no declared table has a row that holds it, live or in the history, as
 *   the preview counts them (this catches a row inserted after the
 *   erasure).  Without it, an untracked declared table cannot be checked
 *   (it has no row ids): state "not checked".
 *
 * And once for the request: aisec.erasure_row must hold exactly the row
 * ids erase recorded: their number and SHA-256 (ascending, 8-byte
 * big-endian) equal the erasure.execute audit entry's (read through the
 * hash-chained log, whose chain must be intact), and the stored
 * certificate must verify.  A superuser who adds row ids there (which
 * would make aisec.verify accept records blanked behind aisec's back) is
 * detected.  Later checks also say whether VACUUM has run on the table and
 * its history since the erasure (pg_stat's last vacuum times).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "audit/audit.h"
#include "erasure_internal.h"

/* What the check finds in one table. */
typedef struct TableCheck
{
	Oid			relid;			/* InvalidOid: no longer tracked */
	int32		table_no;		/* 0: not from the row ids */
	char	   *name;
	bool		tracked;
	TrackedTable tt;
	Datum		rids;			/* erased row ids here (int8[]), or 0 */
	int64		nrids;
	Datum		derived;		/* derived row ids here (int8[]), or 0 */
	bool		declared;
	bool		subject_checked;
	int64		subj_live;
	int64		subj_hist;
	bool		subj_tracked;
} TableCheck;

typedef struct CheckState
{
	TableCheck *tables;
	int			n;
	int			max;
	bool		fresh;
	int64		derived_untracked;	/* derived rows in tables no longer tracked */
} CheckState;

/* Run a query as the extension owner with row security off. */
static int
Run(CheckState *st, const char *sql, int nargs, Oid *types, Datum *values)
{
	(void) set_config_option("row_security", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (st->fresh)
		return aisec_spi_run(sql, true, nargs, types, values, NULL, NULL);
	return aisec_spi_read(sql, true, nargs, types, values, NULL, NULL);
}

/* The single bigint a query returns (0 for NULL). */
static int64
RunCount(CheckState *st, const char *sql, int nargs, Oid *types, Datum *values)
{
	AisecSpi	spi;
	bool		isnull;
	int64		v = 0;

	aisec_spi_begin(&spi);
	if (Run(st, sql, nargs, types, values) == 1)
	{
		Datum		d = aisec_spi_value(0, 0, &isnull);

		v = isnull ? 0 : DatumGetInt64(d);
	}
	aisec_spi_end(&spi);
	return v;
}

/* The entry of relation relid (or, for a gone table, table_no), made if new. */
static TableCheck *
TableFor(CheckState *st, Oid relid, int32 table_no)
{
	TableCheck *t;

	for (int i = 0; i < st->n; i++)
		if (OidIsValid(relid) ? st->tables[i].relid == relid
			: (!OidIsValid(st->tables[i].relid) && st->tables[i].table_no == table_no))
			return &st->tables[i];
	if (st->n == st->max)
	{
		st->max *= 2;
		st->tables = repalloc(st->tables, sizeof(TableCheck) * st->max);
	}
	t = &st->tables[st->n++];
	memset(t, 0, sizeof(TableCheck));
	t->relid = relid;
	t->table_no = table_no;
	if (OidIsValid(relid))
	{
		t->name = aisec_qualified_name(relid);
		t->tracked = history_lookup(relid, &t->tt);
	}
	return t;
}

/* Number of elements of the int8[] a. */
static int64
Length(Datum a)
{
	ArrayType  *arr = DatumGetArrayTypeP(a);

	return ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
}

/*
 * Read the request's erased row ids, per table number (ascending); feed
 * them, ascending, into ridbytes as erase hashes them.
 */
static void
ReadErasedRows(CheckState *st, int64 id, StringInfo ridbytes)
{
	AisecSpi	spi;
	Oid			argtype = INT8OID;
	Datum		arg = Int64GetDatum(id);
	int			n;

	aisec_spi_begin(&spi);
	n = Run(st, "SELECT (rid OPERATOR(pg_catalog.>>) " CppAsString2(RID_TABLE_SHIFT) ")::pg_catalog.int4, "
			"pg_catalog.array_agg(rid ORDER BY rid) FROM aisec.erasure_row "
			"WHERE request_id OPERATOR(pg_catalog.=) $1 GROUP BY 1 ORDER BY 1",
			1, &argtype, &arg);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int32		table_no = DatumGetInt32(aisec_spi_value(i, 0, &isnull));
		Datum		rids = PointerGetDatum(DatumGetArrayTypePCopy(aisec_spi_value(i, 1, &isnull)));
		TrackedTable tt;
		TableCheck *t;
		Datum	   *elems;
		int			nelems;

		if (history_lookup_no(table_no, &tt))
			t = TableFor(st, tt.relid, table_no);
		else
			t = TableFor(st, InvalidOid, table_no);
		t->table_no = table_no;
		t->rids = rids;
		t->nrids = Length(rids);
		deconstruct_array(DatumGetArrayTypeP(rids), INT8OID, 8, FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, NULL, &nelems);
		for (int k = 0; k < nelems; k++)
		{
			uint64		v = (uint64) DatumGetInt64(elems[k]);
			uint8		be[8];

			for (int b = 0; b < 8; b++)
				be[b] = (uint8) (v >> (56 - 8 * b));
			appendBinaryStringInfo(ridbytes, (const char *) be, 8);
		}
	}
	aisec_spi_end(&spi);
}

/* Mark every declared table that exists (their rows are checked by subject). */
static void
ReadDeclaredTables(CheckState *st)
{
	AisecSpi	spi;
	int			n;
	Oid		   *rels;

	aisec_spi_begin(&spi);
	n = Run(st, "SELECT DISTINCT s.rel::pg_catalog.oid FROM aisec.erasure_subject s "
			"JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) s.rel::pg_catalog.oid",
			0, NULL, NULL);
	rels = palloc(sizeof(Oid) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		rels[i] = DatumGetObjectId(aisec_spi_value(i, 0, &isnull));
	}
	aisec_spi_end(&spi);
	for (int i = 0; i < n; i++)
		TableFor(st, rels[i], 0)->declared = true;
}

/*
 * Find the rows derived from all erased row ids, per table, as erase's
 * walk does (erasure_derived.c): level by level through lineage, each row
 * once, not below a row erase kept (summary's tables[].kept[].rid), which
 * counts itself (KeptByPolicy subtracts it).
 */
static void
ReadDerived(CheckState *st, Datum all, Jsonb *summary)
{
	AisecSpi	spi;
	Oid			argtypes[2] = {INT8ARRAYOID, JSONBOID};
	Datum		args[2];
	int			n;
	Oid		   *rels;
	Datum	   *ids;

	args[0] = all;
	args[1] = summary != NULL ? JsonbPGetDatum(summary) :
		DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"));
	aisec_spi_begin(&spi);
	n = Run(st, "WITH RECURSIVE kept(rids) AS ("
			"  SELECT pg_catalog.array_agg((k.value OPERATOR(pg_catalog.->>) 'rid')::pg_catalog.int8) "
			"  FROM pg_catalog.jsonb_array_elements(COALESCE($2 OPERATOR(pg_catalog.->) 'tables', '[]'::pg_catalog.jsonb)) t, "
			"       pg_catalog.jsonb_array_elements(COALESCE(t.value OPERATOR(pg_catalog.->) 'kept', '[]'::pg_catalog.jsonb)) k), "
			"w(rid, rel, derived) AS ("
			"  SELECT r, NULL::pg_catalog.regclass, false FROM pg_catalog.unnest($1) r "
			"  UNION "
			"  SELECT d.rid, d.rel, true FROM w, kept, aisec.lineage_down(w.rid, 1) d "
			"  WHERE w.rid OPERATOR(pg_catalog.<>) ALL (COALESCE(kept.rids, '{}'::pg_catalog.int8[]))) "
			"SELECT w.rel::pg_catalog.oid, pg_catalog.array_agg(DISTINCT w.rid) "
			"FROM w WHERE w.derived AND w.rid OPERATOR(pg_catalog.<>) ALL ($1) GROUP BY 1",
			2, argtypes, args);
	rels = palloc(sizeof(Oid) * (n + 1));
	ids = palloc(sizeof(Datum) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		d = aisec_spi_value(i, 0, &isnull);

		rels[i] = isnull ? InvalidOid : DatumGetObjectId(d);
		ids[i] = PointerGetDatum(DatumGetArrayTypePCopy(aisec_spi_value(i, 1, &isnull)));
	}
	aisec_spi_end(&spi);
	for (int i = 0; i < n; i++)
	{
		TrackedTable tt;

		/* A table no longer tracked has no row ids: its rows cannot be named. */
		if (!OidIsValid(rels[i]) || get_rel_name(rels[i]) == NULL ||
			!history_lookup(rels[i], &tt))
			st->derived_untracked += Length(ids[i]);
		else
			TableFor(st, rels[i], 0)->derived = ids[i];
	}
}

/*
 * Live rows of tracked table t with one of the ids (int8[]), if live (a
 * scan: aisec_rid has no index); and in *hist its history records of them
 * still holding data or salt (index probes).
 */
static int64
CountHolding(CheckState *st, TableCheck *t, Datum ids, bool live, int64 *hist)
{
	Oid			argtype = INT8ARRAYOID;
	int64		nlive = 0;

	if (live)
		nlive = RunCount(st, psprintf("SELECT pg_catalog.count(*) FROM ONLY %s t "
									  "WHERE t.%s OPERATOR(pg_catalog.=) ANY ($1)",
									  t->name, RID_COLUMN),
						 1, &argtype, &ids);
	*hist = 0;
	if (t->tracked)
		*hist = RunCount(st, psprintf("SELECT pg_catalog.count(*) FROM %s h "
									  "WHERE h.rid OPERATOR(pg_catalog.=) ANY ($1) "
									  "  AND (h.data IS NOT NULL OR h.salt IS NOT NULL)",
									  aisec_qualified_name(t->tt.history)),
						 1, &argtype, &ids);
	return nlive;
}

/* Distinct derived rows of t still holding data, live or in the history. */
static int64
CountDerivedHolding(CheckState *st, TableCheck *t)
{
	Oid			argtype = INT8ARRAYOID;
	Datum		ids = t->derived;

	return RunCount(st, psprintf("SELECT pg_catalog.count(DISTINCT x) FROM ("
								 " SELECT t.%s AS x FROM ONLY %s t WHERE t.%s OPERATOR(pg_catalog.=) ANY ($1)"
								 " UNION ALL"
								 " SELECT h.rid FROM %s h WHERE h.rid OPERATOR(pg_catalog.=) ANY ($1)"
								 "   AND (h.data IS NOT NULL OR h.salt IS NOT NULL)) s",
								 RID_COLUMN, t->name, RID_COLUMN,
								 aisec_qualified_name(t->tt.history)),
					1, &argtype, &ids);
}

/* The certificate's derived_rows_kept for table name (0 if none). */
static int64
KeptByPolicy(Jsonb *summary, const char *name)
{
	JsonbValue	k;
	JsonbValue *tables;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int64		kept = 0;

	if (summary == NULL || name == NULL)
		return 0;
	k.type = jbvString;
	k.val.string.val = "tables";
	k.val.string.len = strlen("tables");
	tables = findJsonbValueFromContainer(&summary->root, JB_FOBJECT, &k);
	if (tables == NULL || tables->type != jbvBinary)
		return 0;
	it = JsonbIteratorInit(tables->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		JsonbValue *tv;
		JsonbValue *kv;

		if (tok != WJB_ELEM || v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data))
			continue;
		k.val.string.val = "table";
		k.val.string.len = strlen("table");
		tv = findJsonbValueFromContainer(v.val.binary.data, JB_FOBJECT, &k);
		if (tv == NULL || tv->type != jbvString || tv->val.string.len != strlen(name) ||
			memcmp(tv->val.string.val, name, tv->val.string.len) != 0)
			continue;
		k.val.string.val = "derived_rows_kept";
		k.val.string.len = strlen("derived_rows_kept");
		kv = findJsonbValueFromContainer(v.val.binary.data, JB_FOBJECT, &k);
		if (kv != NULL && kv->type == jbvNumeric)
			kept = DatumGetInt64(DirectFunctionCall1(numeric_int8, NumericGetDatum(kv->val.numeric)));
	}
	return kept;
}

/* Has VACUUM run on relation relid since ts?  "yes", "no". */
static const char *
VacuumedSince(CheckState *st, Oid relid, TimestampTz ts)
{
	Oid			types[2] = {OIDOID, TIMESTAMPTZOID};
	Datum		values[2] = {ObjectIdGetDatum(relid), TimestampTzGetDatum(ts)};

	return RunCount(st, "SELECT CASE WHEN GREATEST(pg_catalog.pg_stat_get_last_vacuum_time($1), "
					"pg_catalog.pg_stat_get_last_autovacuum_time($1)) OPERATOR(pg_catalog.>=) $2 "
					"THEN 1::pg_catalog.int8 ELSE 0::pg_catalog.int8 END",
					2, types, values) > 0 ? "yes" : "no";
}

/* What erase recorded in its audit entry: row id count and SHA-256. */
typedef struct AuditedRows
{
	int64		id;
	bool		found;
	int64		seq;
	int64		nrids;
	char	   *sha;			/* in cxt: the walk frees each entry's memory */
	MemoryContext cxt;
} AuditedRows;

/* Field key of object c as a C string (strings and numbers), or NULL. */
static char *
FieldText(JsonbContainer *c, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(c, JB_FOBJECT, &k);
	if (v == NULL)
		return NULL;
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvNumeric)
		return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	return NULL;
}

/* Audit visitor: keep the erasure.execute entry of request a->id. */
static void
VisitExecute(int64 seq, const char *action, Jsonb *detail, void *arg)
{
	AuditedRows *a = arg;
	char	   *id;
	char	   *n;

	if (strcmp(action, "erasure.execute") != 0)
		return;
	id = FieldText(&detail->root, "id");
	if (id == NULL || strtoi64(id, NULL, 10) != a->id)
		return;
	n = FieldText(&detail->root, "row_ids");
	a->found = true;
	a->seq = seq;
	a->nrids = n ? strtoi64(n, NULL, 10) : -1;
	n = FieldText(&detail->root, "row_ids_sha256");
	a->sha = n ? MemoryContextStrdup(a->cxt, n) : NULL;
}

/* Order checks by table name, gone tables last. */
static int
CompareRows(const void *a, const void *b)
{
	const ErasureCheckRow *x = *(ErasureCheckRow *const *) a;
	const ErasureCheckRow *y = *(ErasureCheckRow *const *) b;

	if (x->name == NULL || y->name == NULL)
		return (x->name == NULL) - (y->name == NULL);
	return strcmp(x->name, y->name);
}

/*
 * Check executed request req (see the file header); subject may be NULL.
 * fresh: at the end of erase (new snapshots, after its changes); summary:
 * erase's summary or the certificate (its row ids' SHA-256 is what erase
 * audited; its tables' derived_rows_kept).  later: verify_erasure, which
 * also reads the audit log, the stored certificate and VACUUM times.
 * Returns ErasureCheckRow pointers, one per table, the summary row last.
 */
List *
erasure_post_check(const ErasureRequest *req, const char *subject, bool fresh,
				   Jsonb *summary, bool later)
{
	CheckState	st;
	StringInfoData ridbytes;
	StringInfoData detail;
	uint8		digest[SHA256_LEN];
	ArrayBuildState *all = initArrayResult(INT8OID, CurrentMemoryContext, false);
	int64		total_rids = 0;
	int			problems = 0;
	int			table_problems = 0;
	int			unchecked = 0;
	ErasureCheckRow **rows;
	ErasureCheckRow *sum;
	List	   *out = NIL;
	TimestampTz executed_at = 0;

	st.max = 8;
	st.n = 0;
	st.tables = palloc(sizeof(TableCheck) * st.max);
	st.fresh = fresh;
	st.derived_untracked = 0;
	initStringInfo(&ridbytes);
	ReadErasedRows(&st, req->id, &ridbytes);
	ReadDeclaredTables(&st);
	for (int i = 0; i < st.n; i++)
	{
		Datum	   *elems;
		int			nelems;

		if (st.tables[i].rids == (Datum) 0)
			continue;
		deconstruct_array(DatumGetArrayTypeP(st.tables[i].rids), INT8OID, 8, FLOAT8PASSBYVAL,
						  TYPALIGN_DOUBLE, &elems, NULL, &nelems);
		for (int k = 0; k < nelems; k++)
			accumArrayResult(all, elems[k], false, INT8OID, CurrentMemoryContext);
		total_rids += nelems;
	}
	if (total_rids > 0)
		ReadDerived(&st, makeArrayResult(all, CurrentMemoryContext), summary);
	if (subject != NULL)
	{
		ErasureTarget *targets;
		int			n = erasure_collect(subject, AccessShareLock, fresh, &targets);

		for (int i = 0; i < n; i++)
		{
			TableCheck *t = TableFor(&st, targets[i].relid, 0);

			t->subject_checked = true;
			t->subj_live = targets[i].live_rows;
			t->subj_tracked = targets[i].tracked;
			t->subj_hist = targets[i].tracked ? targets[i].history_records : 0;
		}
	}
	if (later)
	{
		AisecSpi	spi;
		Oid			argtype = INT8OID;
		Datum		arg = Int64GetDatum(req->id);
		bool		isnull;

		aisec_spi_begin(&spi);
		if (Run(&st, "SELECT executed_at FROM aisec.erasure_request WHERE id OPERATOR(pg_catalog.=) $1",
				1, &argtype, &arg) == 1)
		{
			Datum		d = aisec_spi_value(0, 0, &isnull);

			executed_at = isnull ? 0 : DatumGetTimestampTz(d);
		}
		aisec_spi_end(&spi);
	}

	rows = palloc(sizeof(ErasureCheckRow *) * (st.n + 1));
	for (int i = 0; i < st.n; i++)
	{
		TableCheck *t = &st.tables[i];
		ErasureCheckRow *r = palloc0(sizeof(ErasureCheckRow));
		bool		bad = false;
		bool		any = false;

		initStringInfo(&detail);
		r->relid = t->relid;
		r->name = t->name;
		if (!OidIsValid(t->relid))
		{
			appendStringInfo(&detail, "table number %d is no longer tracked: its %lld erased rows' "
							 "history went with it", t->table_no, (long long) t->nrids);
			r->state = 1;
			r->detail = detail.data;
			rows[i] = r;
			continue;
		}
		if (t->rids != (Datum) 0)
		{
			int64		hist;
			int64		live = CountHolding(&st, t, t->rids, later, &hist);

			if (later)
				appendStringInfo(&detail, "erased row ids: %lld, live again: %lld, history records holding data: %lld",
								 (long long) t->nrids, (long long) live, (long long) hist);
			else
				appendStringInfo(&detail, "erased row ids: %lld, history records holding data: %lld",
								 (long long) t->nrids, (long long) hist);
			bad |= (live > 0 || hist > 0);
			any = true;
		}
		if (t->derived != (Datum) 0)
		{
			int64		holding = CountDerivedHolding(&st, t);
			int64		kept = KeptByPolicy(summary, t->name);

			appendStringInfo(&detail, "%sderived rows still holding data: %lld, kept by policy: %lld",
							 any ? "; " : "", (long long) holding, (long long) kept);
			bad |= (holding > kept);
			any = true;
		}
		if (t->subject_checked)
		{
			if (t->subj_tracked)
				appendStringInfo(&detail, "%srows of the subject: %lld live, %lld history records",
								 any ? "; " : "", (long long) t->subj_live, (long long) t->subj_hist);
			else
				appendStringInfo(&detail, "%srows of the subject: %lld live (untracked: no history)",
								 any ? "; " : "", (long long) t->subj_live);
			bad |= (t->subj_live > 0 || t->subj_hist > 0);
			any = true;
		}
		if (!any)
			appendStringInfoString(&detail, t->tracked
								   ? "no erased row ids here; rows of the subject checked only when the subject is given"
								   : "untracked: rows of the subject checked only when the subject is given");
		if (later && executed_at != 0)
		{
			appendStringInfo(&detail, "; VACUUM since the erasure: %s", VacuumedSince(&st, t->relid, executed_at));
			if (t->tracked)
				appendStringInfo(&detail, ", of its history: %s", VacuumedSince(&st, t->tt.history, executed_at));
		}
		r->state = bad ? 0 : any ? 1 : -1;
		table_problems += bad;
		unchecked += (r->state == -1);
		r->detail = detail.data;
		rows[i] = r;
	}
	qsort(rows, st.n, sizeof(ErasureCheckRow *), CompareRows);
	for (int i = 0; i < st.n; i++)
		out = lappend(out, rows[i]);

	/* The request: erasure_row against what erase audited, the certificate. */
	sum = palloc0(sizeof(ErasureCheckRow));
	sum->summary = true;
	initStringInfo(&detail);
	erasure_sort_rowid_bytes(ridbytes.data, ridbytes.len);
	crypto_sha256((const uint8 *) ridbytes.data, ridbytes.len, digest);
	if (later)
	{
		AuditedRows a = {0};
		char	   *damage;

		a.id = req->id;
		a.cxt = CurrentMemoryContext;
		damage = aisec_audit_walk(req->reference, "erasure.execute", VisitExecute, &a);
		if (damage != NULL)
		{
			appendStringInfo(&detail, "the audit log is damaged (%s); ", damage);
			problems++;
		}
		if (!a.found)
		{
			appendStringInfoString(&detail, "no erasure.execute audit entry of the request; ");
			problems++;
		}
		else if (a.sha == NULL || strcmp(a.sha, erasure_hex(digest, SHA256_LEN)) != 0 ||
				 a.nrids != total_rids)
		{
			appendStringInfo(&detail, "aisec.erasure_row holds %lld row ids of the request, "
							 "not the %lld the erasure.execute audit entry (seq %lld) records; ",
							 (long long) total_rids, (long long) a.nrids, (long long) a.seq);
			problems++;
		}
		else
			appendStringInfo(&detail, "aisec.erasure_row matches the erasure.execute audit entry "
							 "(seq %lld, %lld row ids); ", (long long) a.seq, (long long) total_rids);
		{
			Jsonb	   *cert = erasure_stored_certificate(req->id);

			if (cert == NULL)
			{
				appendStringInfoString(&detail, "no certificate stored; ");
				problems++;
			}
			else if (!erasure_certificate_valid(cert, false))
			{
				appendStringInfoString(&detail, "the stored certificate does not verify; ");
				problems++;
			}
			else
				appendStringInfoString(&detail, "certificate verifies; ");
		}
	}
	else
	{
		char	   *sha = summary ? FieldText(&summary->root, "row_ids_sha256") : NULL;

		if (sha == NULL || strcmp(sha, erasure_hex(digest, SHA256_LEN)) != 0)
		{
			appendStringInfoString(&detail, "aisec.erasure_row does not hold the row ids erase recorded; ");
			problems++;
		}
	}
	if (st.derived_untracked > 0)
		appendStringInfo(&detail, "%lld derived rows in tables no longer tracked cannot be named; ",
						 (long long) st.derived_untracked);
	appendStringInfo(&detail, "%d tables: %d with problems, %d not checked",
					 st.n, table_problems, unchecked);
	sum->state = (problems > 0 || table_problems > 0) ? 0 : 1;
	sum->detail = detail.data;
	return lappend(out, sum);
}

/*
 * SQL: aisec.verify_erasure(reference, subject DEFAULT NULL): re-run the
 * post-check of an executed request; see the file header.
 */
PG_FUNCTION_INFO_V1(aisec_verify_erasure);
Datum
aisec_verify_erasure(PG_FUNCTION_ARGS)
{
	char	   *reference;
	char	   *subject = NULL;
	ErasureRequest req;
	TupleDesc	desc;
	Tuplestorestate *ts;
	List	   *rows;
	ListCell   *lc;

	aisec_require_role(AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR, "aisec.verify_erasure()");
	reference = erasure_text_arg(fcinfo, 0, "erasure reference", 0);
	if (!PG_ARGISNULL(1))
		subject = erasure_text_arg(fcinfo, 1, "erasure subject", 0);
	if (!erasure_lookup_request(reference, false, &req))
		erasure_report_no_request(reference);
	if (subject != NULL)
		erasure_check_subject(&req, PG_GETARG_TEXT_PP(1));
	if (!req.executed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("erasure request \"%s\" has not been executed", reference),
				 errhint("aisec.erase() executes it.")));

	ts = aisec_begin_srf(fcinfo, &desc);
	rows = erasure_post_check(&req, subject, false, erasure_stored_certificate(req.id), true);
	foreach(lc, rows)
	{
		ErasureCheckRow *r = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {r->state == -1, !OidIsValid(r->relid), false};

		values[0] = BoolGetDatum(r->state == 1);
		values[1] = ObjectIdGetDatum(r->relid);
		values[2] = CStringGetTextDatum(r->detail);
		tuplestore_putvalues(ts, desc, values, nulls);
	}
	return (Datum) 0;
}
