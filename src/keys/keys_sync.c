/*
 * keys_sync.c
 *		Keys on every Citus node: the coordinator's key store copied to its
 *		workers, wrapped as it is.
 *
 * On Citus, keyed masks (pseudonymize, ff1_encrypt, sticky_noise) run on
 * the workers, each of which reads its own aisec.key_store.  All nodes
 * share the master key file, so the coordinator sends its rows as they are
 * stored (wrapped with AES-256-GCM, bound to name, version and purpose):
 * no secret leaves a node in the clear.
 *
 * When: a transaction that created, imported, rotated or dropped a key on
 * the coordinator sends, just before it commits, the rows of each key it
 * changed (all its versions, or none for a dropped key) to every active
 * worker; if a worker cannot take them, the commit fails and nothing
 * changes on the coordinator.  A rolled-back transaction sends nothing.
 * aisec.citus_sync_keys() sends every user key, to every worker or to one
 * (a worker added later), and removes user keys the coordinator does not
 * have.  On a worker, key changes are refused: keys are managed on the
 * coordinator.  The reserved keys ('$signing', '$erasure') stay per node.
 *
 * What travels: a JSON array of the rows, UTF-8, hex-encoded into the
 * command text ("SELECT aisec.citus_receive_keys('\x...'::bytea, ...)"),
 * so no text of any user becomes SQL.  The wrapped blobs in it are the
 * bytes pg_dump writes for aisec.key_store.  The worker checks every row
 * (names, purposes, versions) and, when its master key is configured,
 * that every secret unwraps under it.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "core/core.h"
#include "audit/audit.h"
#include "scaleout/scaleout.h"
#include "keys.h"
#include "keys_internal.h"

/* Names of the keys this transaction changed (in TopTransactionContext). */
static List *changed_keys = NIL;

static void SyncAtCommit(XactEvent event, void *arg);

/* Register the pre-commit sender; called from _PG_init (aisec_keys_init). */
void
aisec_keys_sync_init(void)
{
	RegisterXactCallback(SyncAtCommit, NULL);
}

/* True if this database is a Citus worker. */
bool
aisec_keys_on_worker(void)
{
	return aisec_citus_node() == AISEC_CITUS_WORKER;
}

/*
 * Before a key change: refuse it on a Citus worker; on a coordinator,
 * remember the key so its rows go to the workers at commit.
 */
void
aisec_keys_sync_note(const char *name)
{
	AisecCitusNode node = aisec_citus_node();
	MemoryContext old;

	if (node == AISEC_CITUS_NONE)
		return;
	if (node == AISEC_CITUS_WORKER)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aisec keys cannot be changed on a Citus worker"),
				 errdetail("A worker's keys are copies of the coordinator's."),
				 errhint("Create, import, rotate and drop keys on the coordinator; they reach every worker.")));
	old = MemoryContextSwitchTo(TopTransactionContext);
	changed_keys = list_append_unique_ptr(changed_keys, pstrdup(name));
	MemoryContextSwitchTo(old);
}

/*
 * The rows of key name (every user key if name is NULL), as the command
 * that installs them on a worker: the JSON built here, hex-encoded.
 */
static char *
ReceiveCommand(const char *name)
{
	AisecSpi	spi;
	Oid			argtype = TEXTOID;
	Datum		arg = name ? CStringGetTextDatum(name) : (Datum) 0;
	bytea	   *json = NULL;
	StringInfoData cmd;
	bool		isnull;
	size_t		len;

	aisec_spi_begin(&spi);
	(void) aisec_spi_run("SELECT pg_catalog.convert_to(COALESCE(pg_catalog.jsonb_agg("
						 "pg_catalog.jsonb_build_object('name', name, 'version', version, "
						 "'purpose', purpose, 'created', created, 'created_by', created_by, "
						 "'public_key', pg_catalog.encode(public_key, 'hex'), "
						 "'wrapped', pg_catalog.encode(wrapped, 'hex')) ORDER BY name, version), "
						 "'[]'::pg_catalog.jsonb)::pg_catalog.text, 'UTF8') "
						 "FROM aisec.key_store "
						 "WHERE pg_catalog.left(name, 1) OPERATOR(pg_catalog.<>) '$' "
						 "AND ($1 IS NULL OR name OPERATOR(pg_catalog.=) $1)",
						 true, 1, &argtype, &arg, name ? " " : "n", NULL);
	json = DatumGetByteaPP(aisec_spi_value(0, 0, &isnull));
	len = VARSIZE_ANY_EXHDR(json);

	initStringInfo(&cmd);
	appendStringInfoString(&cmd, "SELECT aisec.citus_receive_keys('\\x");
	enlargeStringInfo(&cmd, len * 2 + 64);
	cmd.len += hex_encode(VARDATA_ANY(json), len, cmd.data + cmd.len);
	cmd.data[cmd.len] = '\0';
	aisec_spi_end(&spi);
	/* The name was checked by aisec_key_check_name: [a-z_][a-z0-9_]*. */
	if (name)
		appendStringInfo(&cmd, "'::pg_catalog.bytea, '%s')", name);
	else
		appendStringInfoString(&cmd, "'::pg_catalog.bytea, NULL)");
	return cmd.data;
}

/* At pre-commit on a coordinator, send the changed keys to every worker. */
static void
SyncAtCommit(XactEvent event, void *arg)
{
	List	   *names = changed_keys;
	ListCell   *lc;

	if (event == XACT_EVENT_PRE_PREPARE && changed_keys != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot prepare a transaction that changed aisec keys on a Citus coordinator"),
				 errhint("Change keys in a transaction that commits directly.")));
	if (event != XACT_EVENT_PRE_COMMIT)
	{
		if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
			event == XACT_EVENT_PREPARE)
			changed_keys = NIL;
		return;
	}
	if (names == NIL)
		return;
	changed_keys = NIL;
	/* The statements have ended: SPI needs a snapshot of its own here. */
	PushActiveSnapshot(GetTransactionSnapshot());
	foreach(lc, names)
	{
		char	   *command = ReceiveCommand((const char *) lfirst(lc));

		(void) aisec_citus_run_on_workers(command, NULL, 0);
		pfree(command);
	}
	PopActiveSnapshot();
}

/* Check every received row before any is stored; count keys and rows. */
static void
CheckReceivedRows(bytea *payload, const char *scope, int *nkeys, int *nrows)
{
	AisecSpi	spi;
	Oid			argtype = BYTEAOID;
	Datum		arg = PointerGetDatum(payload);
	int			n;
	char	   *last = NULL;

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT r.name, r.version, r.purpose, pg_catalog.decode(r.wrapped, 'hex') "
					  "FROM pg_catalog.jsonb_to_recordset(pg_catalog.convert_from($1, 'UTF8')::pg_catalog.jsonb) "
					  "AS r(name text, version integer, purpose text, wrapped text) "
					  "ORDER BY 1, 2",
					  false, 1, &argtype, &arg, NULL, NULL);
	*nkeys = 0;
	for (int i = 0; i < n; i++)
	{
		bool		n1,
					n2,
					n3,
					n4;
		Datum		name = aisec_spi_value(i, 0, &n1);
		Datum		version = aisec_spi_value(i, 1, &n2);
		Datum		purpose = aisec_spi_value(i, 2, &n3);
		Datum		wrapped = aisec_spi_value(i, 3, &n4);
		char	   *cname;
		char	   *cpurpose;

		if (n1 || n2 || n3 || n4)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("received aisec key rows are incomplete")));
		cname = TextDatumGetCString(name);
		cpurpose = TextDatumGetCString(purpose);
		aisec_key_check_name(cname);
		if (scope != NULL && strcmp(cname, scope) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("received aisec key rows hold a key other than \"%s\"", scope)));
		if (!aisec_key_purpose_known(cpurpose))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("received aisec key \"%s\" has an unknown purpose", cname)));
		if (DatumGetInt32(version) < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("received aisec key \"%s\" has an invalid version", cname)));
		if (aisec_key_master_configured())
			aisec_key_check_wrapped(cname, DatumGetInt32(version), cpurpose,
									DatumGetByteaPP(wrapped));
		if (last == NULL || strcmp(last, cname) != 0)
			(*nkeys)++;
		last = cname;
	}
	aisec_spi_end(&spi);
	*nrows = n;
}

/*
 * SQL: aisec.citus_receive_keys(payload, key) replaces, on a Citus worker,
 * key `key` (every user key if NULL) with the coordinator's rows; returns
 * how many rows it stored.  Sent by the coordinator, not called by hand.
 */
PG_FUNCTION_INFO_V1(aisec_citus_receive_keys);
Datum
aisec_citus_receive_keys(PG_FUNCTION_ARGS)
{
	bytea	   *payload;
	char	   *scope = NULL;
	AisecSpi	spi;
	Oid			argtypes[2] = {BYTEAOID, TEXTOID};
	Datum		args[2];
	int			nkeys;
	int			nrows;
	char	   *detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.citus_receive_keys()");
	aisec_prevent_if_read_only("aisec.citus_receive_keys()");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key rows must not be null")));
	if (aisec_citus_node() != AISEC_CITUS_WORKER)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aisec.citus_receive_keys() runs only on a Citus worker"),
				 errhint("On the coordinator, aisec.citus_sync_keys() sends the keys to the workers.")));
	payload = PG_GETARG_BYTEA_PP(0);
	if (!PG_ARGISNULL(1))
	{
		scope = text_to_cstring(PG_GETARG_TEXT_PP(1));
		aisec_key_check_name(scope);
	}
	aisec_lock(AISEC_LOCK_KEY_STORE);
	CheckReceivedRows(payload, scope, &nkeys, &nrows);

	args[0] = PointerGetDatum(payload);
	args[1] = scope ? CStringGetTextDatum(scope) : (Datum) 0;
	aisec_spi_begin(&spi);
	(void) aisec_spi_run("DELETE FROM aisec.key_store "
						 "WHERE pg_catalog.left(name, 1) OPERATOR(pg_catalog.<>) '$' "
						 "AND ($2 IS NULL OR name OPERATOR(pg_catalog.=) $2)",
						 true, 2, argtypes, args, scope ? "  " : " n", NULL);
	(void) aisec_spi_run("INSERT INTO aisec.key_store "
						 "(name, version, purpose, created, created_by, public_key, wrapped) "
						 "SELECT r.name, r.version, r.purpose, r.created, r.created_by, "
						 "pg_catalog.decode(r.public_key, 'hex'), pg_catalog.decode(r.wrapped, 'hex') "
						 "FROM pg_catalog.jsonb_to_recordset(pg_catalog.convert_from($1, 'UTF8')::pg_catalog.jsonb) "
						 "AS r(name text, version integer, purpose text, created timestamptz, "
						 "created_by text, public_key text, wrapped text)",
						 true, 1, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);

	detail = psprintf("{\"keys\": %d, \"versions\": %d, \"scope\": %s}",
					  nkeys, nrows, scope ? psprintf("\"%s\"", scope) : "\"all\"");
	aisec_audit_log("key.sync", scope ? scope : "*", detail);
	PG_RETURN_INT32(nrows);
}

/*
 * SQL: aisec.citus_sync_keys(node_name, node_port) sends every user key to
 * every active Citus worker, or to the one named; returns how many nodes
 * took them.  Run it after adding a worker (citus_add_node).
 */
PG_FUNCTION_INFO_V1(aisec_citus_sync_keys);
Datum
aisec_citus_sync_keys(PG_FUNCTION_ARGS)
{
	char	   *node_name = NULL;
	int32		node_port = 0;
	char	   *command;
	int			n;
	char	   *detail;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.citus_sync_keys()");
	aisec_prevent_if_read_only("aisec.citus_sync_keys()");
	if (PG_ARGISNULL(0) != PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("give both node_name and node_port, or neither")));
	if (aisec_citus_node() != AISEC_CITUS_COORDINATOR)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("aisec.citus_sync_keys() runs only on a Citus coordinator"),
				 errhint("CREATE EXTENSION citus and add workers first; on a worker, run it on the coordinator.")));
	if (!PG_ARGISNULL(0))
	{
		node_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
		node_port = PG_GETARG_INT32(1);
	}
	aisec_lock(AISEC_LOCK_KEY_STORE);
	command = ReceiveCommand(NULL);
	n = aisec_citus_run_on_workers(command, node_name, node_port);
	detail = psprintf("{\"nodes\": %d}", n);
	aisec_audit_log("key.sync", "*", detail);
	PG_RETURN_INT32(n);
}
