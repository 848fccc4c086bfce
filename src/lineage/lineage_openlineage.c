/*
 * lineage_openlineage.c
 *		Lineage for other tools: aisec.openlineage_events() exports each
 *		transform as an OpenLineage RunEvent, and the "upstream" part of
 *		aisec.manifest() (a callback versioning calls) lists, for each
 *		table of a version, the transforms and source versions its rows
 *		derive from.  See doc/lineage.md "OpenLineage" and "Manifest".
 *
 * The events follow the OpenLineage 2-0-2 specification,
 * https://openlineage.io/spec/2-0-2/OpenLineage.json: a RunEvent is a
 * BaseEvent (required: eventTime, date-time; producer, uri; schemaURL,
 * uri) with eventType (COMPLETE here), run (required: runId, uuid) and job
 * (required: namespace, name); inputs and outputs are Datasets (required:
 * namespace, name) whose facets each carry _producer and _schemaURL (the
 * BaseFacet's required fields).  Datasets get the standard schema facet
 * (https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json) and
 * aisec's own facet with the dataset version and commit hash.
 *
 * Invariants: only names (database, schema, table, column, type),
 * numbers and hashes leave here, never row data or masked values.  Every
 * piece of JSON is built with jsonb functions from $n parameters and
 * catalog columns, so a hostile table or column name is only ever a JSON
 * string.  The run id is a name-based (version 5, SHA-1) UUID of the
 * database system identifier, database OID and transform id: stable
 * across calls, different across clusters and databases.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "core/core.h"
#include "versioning/versioning.h"
#include "lineage_internal.h"

/* aisec.openlineage_namespace: the datasets' namespace, if set. */
static char *openlineage_namespace = NULL;

#define OL_NAMESPACE_MAX	200

/* The RFC 4122 URL namespace UUID, under which run ids are named. */
static const uint8 url_namespace[16] = {
	0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
	0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
};

/* GUC check: a namespace is scheme://..., printable, at most 200 bytes. */
static bool
CheckNamespace(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;

	if (s == NULL || s[0] == '\0')
		return true;
	if (strlen(s) > OL_NAMESPACE_MAX)
	{
		GUC_check_errdetail("A namespace is at most %d bytes.", OL_NAMESPACE_MAX);
		return false;
	}
	for (const char *p = s; *p; p++)
		if ((unsigned char) *p <= 0x20 || *p == 0x7f)
		{
			GUC_check_errdetail("A namespace holds no spaces or control characters.");
			return false;
		}
	if (strstr(s, "://") == NULL || strstr(s, "://") == s)
	{
		GUC_check_errdetail("A namespace is a URI such as postgres://db.example.com:5432.");
		return false;
	}
	return true;
}

/*
 * The datasets' namespace, postgres://host:port (OpenLineage's naming of
 * PostgreSQL datasets): aisec.openlineage_namespace if set; else the first
 * host of listen_addresses that is not a wildcard; else the address this
 * session's TCP connection reached (inet_server_addr); else localhost
 * (unix sockets only).  Inside aisec_spi_begin/_end.
 */
static char *
DatasetNamespace(void)
{
	const char *listen = GetConfigOption("listen_addresses", true, false);
	const char *port = GetConfigOption("port", true, false);
	char	   *host = NULL;

	if (openlineage_namespace != NULL && openlineage_namespace[0] != '\0')
		return pstrdup(openlineage_namespace);
	if (listen != NULL)
	{
		char	   *copy = pstrdup(listen);
		char	   *tok = strtok(copy, ", \t");

		if (tok != NULL && strcmp(tok, "*") != 0 && strcmp(tok, "0.0.0.0") != 0 &&
			strcmp(tok, "::") != 0)
			host = tok;
	}
	if (host == NULL)
	{
		bool		isnull;

		(void) aisec_spi_run("SELECT pg_catalog.host(pg_catalog.inet_server_addr())",
							 false, 0, NULL, NULL, NULL, NULL);
		(void) aisec_spi_value(0, 0, &isnull);
		host = isnull ? "localhost" : TextDatumGetCString(aisec_spi_value(0, 0, &isnull));
	}
	return psprintf(strchr(host, ':') ? "postgres://[%s]:%s" : "postgres://%s:%s",
					host, port ? port : "5432");
}

/*
 * Turn JIT off until aisec_spi_end restores the settings.  The queries here
 * are estimated expensive (a subquery per dataset and source) though they
 * read few rows through indexes, and compiling them cost 0.8 s per 1,000
 * events, 15 times the query's own time.
 */
static void
NoJit(void)
{
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

/* Write the version 5 UUID of transform id (this database) into out[37]. */
static void
RunId(int64 id, char *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA1);
	char	   *name = psprintf("aisec:" UINT64_FORMAT ":%u:" INT64_FORMAT,
								GetSystemIdentifier(), MyDatabaseId, id);
	uint8		hash[20];

	if (ctx == NULL ||
		pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, url_namespace, sizeof(url_namespace)) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) name, strlen(name)) < 0 ||
		pg_cryptohash_final(ctx, hash, sizeof(hash)) < 0)
		elog(ERROR, "aisec: could not compute a SHA-1 hash");
	pg_cryptohash_free(ctx);
	hash[6] = (hash[6] & 0x0f) | 0x50;	/* version 5 */
	hash[8] = (hash[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7],
			 hash[8], hash[9], hash[10], hash[11], hash[12], hash[13], hash[14], hash[15]);
	pfree(name);
}

/*
 * One event per transform of $1 (ids) with run ids $2, in id order.
 * $3 producer, $4 job namespace (the database), $5 dataset namespace, $6
 * the database name in dataset names, $7 aisec's facet schema URL.
 * Datasets: inputs are the transform's sources, then its untracked
 * sources (by the name recorded, resolved again for the schema facet);
 * outputs its targets and its untracked target (materialize).  A table
 * no longer there is named by the name recorded (untracked sources) or
 * aisec.dropped_table_<n>, and has no schema facet.  aisec's facet gives
 * the version read (inputs) or written (outputs: the dataset's pending
 * version when the transform ran) and the last commit at or below it.
 */
static const char *const events_sql =
"WITH t AS ("
"  SELECT t.*, u.run_id FROM ROWS FROM (pg_catalog.unnest($1::pg_catalog.int8[]), pg_catalog.unnest($2::pg_catalog.text[])) AS u(id, run_id)"
"  JOIN aisec.lineage_transform t ON t.id OPERATOR(pg_catalog.=) u.id),"
" ds AS ("
"  SELECT t.id, true AS input, s.ord, s.no, s.ver, NULL::pg_catalog.oid AS relid, NULL::pg_catalog.text AS uname"
"  FROM t, ROWS FROM (pg_catalog.unnest(t.sources), pg_catalog.unnest(t.source_versions)) WITH ORDINALITY AS s(no, ver, ord)"
"  UNION ALL"
"  SELECT t.id, true, pg_catalog.cardinality(t.sources) OPERATOR(pg_catalog.+) u.ord, NULL, NULL,"
"    pg_catalog.to_regclass(u.name)::pg_catalog.oid, u.name"
"  FROM t, pg_catalog.unnest(t.untracked_sources) WITH ORDINALITY AS u(name, ord)"
"  UNION ALL"
"  SELECT t.id, false, o.ord, o.no, NULL, NULL, NULL"
"  FROM t, pg_catalog.unnest(t.targets) WITH ORDINALITY AS o(no, ord)"
"  UNION ALL"
"  SELECT t.id, false, 2147483647, NULL, NULL, t.target_rel::pg_catalog.oid, NULL"
"  FROM t WHERE t.target_rel IS NOT NULL),"
" dj AS ("
"  SELECT ds.id, ds.input, ds.ord, pg_catalog.jsonb_build_object("
"    'namespace', $5::pg_catalog.text,"
"    'name', $6::pg_catalog.text OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||)"
"      coalesce(n.nspname::pg_catalog.text OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) c.relname::pg_catalog.text,"
"               pg_catalog.array_to_string(pg_catalog.parse_ident(ds.uname), '.'),"
"               'aisec.dropped_table_' OPERATOR(pg_catalog.||) coalesce(ds.no, ds.relid::pg_catalog.int8)),"
"    'facets', CASE WHEN c.oid IS NULL THEN '{}'::pg_catalog.jsonb ELSE pg_catalog.jsonb_build_object('schema',"
"      pg_catalog.jsonb_build_object('_producer', $3::pg_catalog.text,"
"        '_schemaURL', 'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',"
"        'fields', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
"            'name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod)) ORDER BY a.attnum),"
"            '[]'::pg_catalog.jsonb)"
"          FROM pg_catalog.pg_attribute a WHERE a.attrelid OPERATOR(pg_catalog.=) c.oid"
"          AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped))) END"
"    OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('aisec_version', pg_catalog.jsonb_build_object("
"      '_producer', $3::pg_catalog.text, '_schemaURL', $7::pg_catalog.text,"
"      'tracked', ds.no IS NOT NULL, 'table_no', ds.no, 'dataset', d.name,"
"      'version', vv.ver, 'committed', coalesce(v.version OPERATOR(pg_catalog.=) vv.ver, false),"
"      'commit_version', v.version, 'commit_hash', pg_catalog.encode(v.commit_hash, 'hex')))) AS dataset"
"  FROM ds JOIN t ON t.id OPERATOR(pg_catalog.=) ds.id"
"  LEFT JOIN aisec.tracked tr ON tr.table_no OPERATOR(pg_catalog.=) ds.no"
"  LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) coalesce(tr.rel::pg_catalog.oid, ds.relid)"
"  LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
"  LEFT JOIN LATERAL (SELECT coalesce(tr.dataset_id, (SELECT vt.dataset_id FROM aisec.version_table vt"
"     WHERE vt.table_no OPERATOR(pg_catalog.=) ds.no ORDER BY vt.dataset_id LIMIT 1)) AS id) di ON true"
"  LEFT JOIN aisec.dataset d ON d.id OPERATOR(pg_catalog.=) di.id"
"  LEFT JOIN LATERAL (SELECT CASE WHEN d.id IS NULL THEN NULL WHEN ds.input THEN ds.ver"
"     ELSE (SELECT coalesce(pg_catalog.max(x.version), 0) OPERATOR(pg_catalog.+) 1 FROM aisec.version x"
"           WHERE x.dataset_id OPERATOR(pg_catalog.=) d.id AND x.committed_at OPERATOR(pg_catalog.<) t.at) END AS ver) vv ON true"
"  LEFT JOIN LATERAL (SELECT x.version, x.commit_hash FROM aisec.version x"
"     WHERE x.dataset_id OPERATOR(pg_catalog.=) d.id AND x.version OPERATOR(pg_catalog.<=) vv.ver"
"     ORDER BY x.version DESC LIMIT 1) v ON true),"
" agg AS ("
"  SELECT dj.id, pg_catalog.jsonb_agg(dj.dataset ORDER BY dj.ord) FILTER (WHERE dj.input) AS inputs,"
"    pg_catalog.jsonb_agg(dj.dataset ORDER BY dj.ord) FILTER (WHERE NOT dj.input) AS outputs"
"  FROM dj GROUP BY dj.id)"
" SELECT pg_catalog.jsonb_build_object("
"  'eventType', 'COMPLETE',"
"  'eventTime', pg_catalog.to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
"  'producer', $3::pg_catalog.text,"
"  'schemaURL', 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',"
"  'run', pg_catalog.jsonb_build_object('runId', t.run_id, 'facets', pg_catalog.jsonb_build_object("
"    'aisec_transform', pg_catalog.jsonb_build_object('_producer', $3::pg_catalog.text,"
"      '_schemaURL', $7::pg_catalog.text, 'transform', t.id, 'kind', t.kind, 'level', t.level,"
"      'fingerprint', t.fingerprint, 'edges', t.edges, 'role', t.role, 'xact', t.xact))),"
"  'job', pg_catalog.jsonb_build_object('namespace', $4::pg_catalog.text, 'name',"
"    coalesce(t.name, 'aisec.' OPERATOR(pg_catalog.||) t.kind OPERATOR(pg_catalog.||)"
"      coalesce('.' OPERATOR(pg_catalog.||) t.fingerprint, ''))),"
"  'inputs', coalesce(agg.inputs, '[]'::pg_catalog.jsonb),"
"  'outputs', coalesce(agg.outputs, '[]'::pg_catalog.jsonb))"
" FROM t LEFT JOIN agg ON agg.id OPERATOR(pg_catalog.=) t.id ORDER BY t.id";

/* Transforms per events query, so that no query holds them all. */
#define EVENT_BATCH		1000

/*
 * SQL: aisec.openlineage_events(since) returns one OpenLineage RunEvent
 * (COMPLETE) per transform recorded at or after since, in id order.
 */
PG_FUNCTION_INFO_V1(aisec_openlineage_events);
Datum
aisec_openlineage_events(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	Tuplestorestate *out;
	TupleDesc	desc;
	AisecSpi	spi;
	Oid			types[7] = {INT8ARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID};
	Datum		values[7];
	char	   *dbname;
	char	   *producer;
	int64		after = 0;
	bool		isnull;

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER | AISEC_ROLE_DPO |
					   AISEC_ROLE_AUDITOR, "aisec.openlineage_events()");
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(desc, (AttrNumber) 1, "openlineage_events", JSONBOID, -1, 0);
	out = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
								false, work_mem);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = out;
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(oldcxt);
	if (PG_ARGISNULL(0))
		return (Datum) 0;

	aisec_spi_begin(&spi);
	NoJit();
	dbname = get_database_name(MyDatabaseId);
	(void) aisec_spi_run("SELECT extversion FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'aisec'",
						 false, 0, NULL, NULL, NULL, NULL);
	producer = psprintf("https://pgxn.org/dist/aisec/%s/",
						SPI_processed == 1 ? TextDatumGetCString(aisec_spi_value(0, 0, &isnull)) : "0");
	values[2] = CStringGetTextDatum(producer);
	values[3] = CStringGetTextDatum(dbname);
	values[4] = CStringGetTextDatum(DatasetNamespace());
	values[5] = CStringGetTextDatum(dbname);
	values[6] = CStringGetTextDatum(psprintf("%sdoc/lineage.md#openlineage", producer));

	/* Batches of transforms, in id order. */
	for (;;)
	{
		Oid			t2[2] = {TIMESTAMPTZOID, INT8OID};
		Datum		v2[2] = {PG_GETARG_DATUM(0), Int64GetDatum(after)};
		int			n = aisec_spi_run("SELECT id FROM aisec.lineage_transform "
									  "WHERE at OPERATOR(pg_catalog.>=) $1 AND id OPERATOR(pg_catalog.>) $2 "
									  "ORDER BY id LIMIT " CppAsString2(EVENT_BATCH),
									  true, 2, t2, v2, NULL, NULL);
		Datum	   *ids;
		Datum	   *runs;
		int			rows;

		if (n == 0)
			break;
		ids = palloc(sizeof(Datum) * n);
		runs = palloc(sizeof(Datum) * n);
		for (int i = 0; i < n; i++)
		{
			char		uuid[37];
			int64		id = DatumGetInt64(aisec_spi_value(i, 0, &isnull));

			RunId(id, uuid);
			ids[i] = Int64GetDatum(id);
			runs[i] = CStringGetTextDatum(uuid);
			after = id;
		}
		values[0] = PointerGetDatum(construct_array(ids, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		values[1] = PointerGetDatum(construct_array(runs, n, TEXTOID, -1, false, TYPALIGN_INT));
		rows = aisec_spi_run(events_sql, true, 7, types, values, NULL, NULL);
		for (int r = 0; r < rows; r++)
		{
			Datum		event = aisec_spi_value(r, 0, &isnull);

			tuplestore_putvalues(out, desc, &event, &isnull);
		}
		if (n < EVENT_BATCH)
			break;
	}
	aisec_spi_end(&spi);
	return (Datum) 0;
}

/*
 * manifest()'s "upstream" for version $2 of dataset $1: per table of the
 * version, the transforms that made row versions of it up to that version
 * (edges whose child is a row id of the table, or a run row of the
 * capture whose first child, stored negated, is, and whose child version
 * is at most $2), and the table-level transforms into it recorded by the
 * version's commit, each with its source tables, datasets, the versions
 * read (a table's pending version, or the version materialize copied)
 * and the last commit at or below each (its version and hash).
 */
static const char *const upstream_sql =
"WITH tabs AS ("
"  SELECT vt.table_no, vt.table_name FROM aisec.version_table vt"
"  WHERE vt.dataset_id OPERATOR(pg_catalog.=) $1 AND vt.version OPERATOR(pg_catalog.=) $2),"
" tr AS ("
"  SELECT DISTINCT tb.table_no, e.transform AS id FROM tabs tb JOIN aisec.lineage_edge e"
"   ON ((e.child OPERATOR(pg_catalog.>=) (tb.table_no::pg_catalog.int8 OPERATOR(pg_catalog.<<) " CppAsString2(RID_TABLE_SHIFT) ")"
"        AND e.child OPERATOR(pg_catalog.<) ((tb.table_no::pg_catalog.int8 OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.<<) " CppAsString2(RID_TABLE_SHIFT) "))"
"       OR (e.child OPERATOR(pg_catalog.<=) (OPERATOR(pg_catalog.-) (tb.table_no::pg_catalog.int8 OPERATOR(pg_catalog.<<) " CppAsString2(RID_TABLE_SHIFT) "))"
"        AND e.child OPERATOR(pg_catalog.>) (OPERATOR(pg_catalog.-) ((tb.table_no::pg_catalog.int8 OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.<<) " CppAsString2(RID_TABLE_SHIFT) "))))"
"   AND e.child_from OPERATOR(pg_catalog.<=) $2"
"  UNION"
"  SELECT tb.table_no, t.id FROM tabs tb JOIN aisec.lineage_transform t"
"   ON tb.table_no OPERATOR(pg_catalog.=) ANY (t.targets) AND t.level OPERATOR(pg_catalog.=) 'table'"
"   AND t.at OPERATOR(pg_catalog.<=) (SELECT v.committed_at FROM aisec.version v"
"     WHERE v.dataset_id OPERATOR(pg_catalog.=) $1 AND v.version OPERATOR(pg_catalog.=) $2))"
" SELECT pg_catalog.jsonb_build_object('upstream', coalesce(pg_catalog.jsonb_agg("
"   pg_catalog.jsonb_build_object('table', tb.table_name, 'table_no', tb.table_no,"
"     'transforms', x.transforms) ORDER BY tb.table_no), '[]'::pg_catalog.jsonb))"
" FROM tabs tb CROSS JOIN LATERAL ("
"  SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
"    'transform', t.id, 'name', t.name, 'kind', t.kind, 'level', t.level, 'at', t.at,"
"    'sources', (SELECT coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object("
"        'table', CASE WHEN c.oid IS NOT NULL THEN pg_catalog.quote_ident(n.nspname::pg_catalog.text)"
"          OPERATOR(pg_catalog.||) '.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname::pg_catalog.text) END,"
"        'table_no', s.no, 'dataset', d.name, 'version', s.ver,"
"        'committed', coalesce(v.version OPERATOR(pg_catalog.=) s.ver, false), 'commit_version', v.version,"
"        'commit_hash', pg_catalog.encode(v.commit_hash, 'hex')) ORDER BY s.ord), '[]'::pg_catalog.jsonb)"
"      FROM ROWS FROM (pg_catalog.unnest(t.sources), pg_catalog.unnest(t.source_versions)) WITH ORDINALITY AS s(no, ver, ord)"
"      LEFT JOIN aisec.tracked st ON st.table_no OPERATOR(pg_catalog.=) s.no"
"      LEFT JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) st.rel::pg_catalog.oid"
"      LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
"      LEFT JOIN LATERAL (SELECT coalesce(st.dataset_id, (SELECT vt.dataset_id FROM aisec.version_table vt"
"         WHERE vt.table_no OPERATOR(pg_catalog.=) s.no ORDER BY vt.dataset_id LIMIT 1)) AS id) di ON true"
"      LEFT JOIN aisec.dataset d ON d.id OPERATOR(pg_catalog.=) di.id"
"      LEFT JOIN LATERAL (SELECT x.version, x.commit_hash FROM aisec.version x"
"        WHERE x.dataset_id OPERATOR(pg_catalog.=) d.id AND x.version OPERATOR(pg_catalog.<=) s.ver"
"        ORDER BY x.version DESC LIMIT 1) v ON true)"
"    ) ORDER BY t.id), '[]'::pg_catalog.jsonb) AS transforms"
"  FROM tr JOIN aisec.lineage_transform t ON t.id OPERATOR(pg_catalog.=) tr.id"
"  WHERE tr.table_no OPERATOR(pg_catalog.=) tb.table_no) x";

/*
 * Versioning's callback: {"upstream": [...]} for version version of
 * dataset dataset_id, read through snap, palloc'd in the caller's memory
 * context.  Inside aisec_spi_begin/_end.
 */
static Datum
LineageUpstream(int32 dataset_id, int64 version, Snapshot snap)
{
	Oid			types[2] = {INT4OID, INT8OID};
	Datum		values[2] = {Int32GetDatum(dataset_id), Int64GetDatum(version)};
	bool		isnull;

	NoJit();
	(void) aisec_spi_run(upstream_sql, true, 2, types, values, NULL, snap);
	return SPI_datumTransfer(aisec_spi_value(0, 0, &isnull), false, -1);
}

/* Define aisec.openlineage_namespace; register the manifest's upstream. */
void
lineage_openlineage_init(void)
{
	DefineCustomStringVariable("aisec.openlineage_namespace",
							   "Namespace of the datasets in aisec.openlineage_events(), such as postgres://db.example.com:5432.",
							   "Empty: postgres://host:port from listen_addresses, the server address or localhost, and port.",
							   &openlineage_namespace, "",
							   PGC_USERSET, 0, CheckNamespace, NULL, NULL);
	aisec_versioning_set_upstream(LineageUpstream);
}
