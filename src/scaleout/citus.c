/*
 * citus.c
 *		Citus awareness: this node's role, Citus tables, commands to workers.
 *
 * Everything is read from Citus's own catalogs (pg_dist_local_group,
 * pg_dist_partition, pg_dist_node) through SPI, and only after checking
 * that the citus extension exists in this database, so a plain PostgreSQL
 * server never looks for them.  Commands reach the workers through
 * pg_catalog.master_run_on_worker(), which opens a connection per node with
 * Citus's own connection settings and authentication (pg_dist_authinfo).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "core/core.h"
#include "scaleout.h"

/* True if the citus extension is installed in this database. */
bool
aisec_citus_installed(void)
{
	return OidIsValid(get_extension_oid("citus", true));
}

/* Return this node's role in a Citus cluster. */
AisecCitusNode
aisec_citus_node(void)
{
	AisecSpi	spi;
	AisecCitusNode node = AISEC_CITUS_COORDINATOR;

	if (!aisec_citus_installed())
		return AISEC_CITUS_NONE;
	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT groupid FROM pg_catalog.pg_dist_local_group",
					   true, 0, NULL, NULL, NULL, NULL) == 1)
	{
		bool		isnull;
		Datum		group = aisec_spi_value(0, 0, &isnull);

		if (!isnull && DatumGetInt32(group) != 0)
			node = AISEC_CITUS_WORKER;
	}
	aisec_spi_end(&spi);
	return node;
}

/* Return true if relid is in Citus's table catalog. */
bool
aisec_citus_table(Oid relid)
{
	AisecSpi	spi;
	Oid			argtype = OIDOID;
	Datum		arg = ObjectIdGetDatum(relid);
	bool		found;

	if (!aisec_citus_installed())
		return false;
	aisec_spi_begin(&spi);
	found = aisec_spi_read("SELECT 1 FROM pg_catalog.pg_dist_partition "
						   "WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass",
						   true, 1, &argtype, &arg, NULL, NULL) > 0;
	aisec_spi_end(&spi);
	return found;
}

/* Refuse a Citus table for function_name. */
void
aisec_citus_refuse_table(Oid relid, const char *function_name)
{
	if (!aisec_citus_table(relid))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s does not support Citus table \"%s\"",
					function_name, get_rel_name(relid)),
			 errdetail("aisec keeps row ids, history, lineage and erasure records on one node; "
					   "a Citus table's rows live in shards on the workers."),
			 errhint("Version, trace or erase a local (not distributed) table; "
					 "doc/scale-out.md says what runs on Citus.")));
}

/* Run command on the workers through master_run_on_worker(). */
int
aisec_citus_run_on_workers(const char *command, const char *node_name, int32 node_port)
{
	AisecSpi	spi;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, INT4OID};
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	int			n;

	args[0] = CStringGetTextDatum(command);
	args[1] = node_name ? CStringGetTextDatum(node_name) : (Datum) 0;
	args[2] = Int32GetDatum(node_port);
	if (node_name == NULL)
		nulls[1] = nulls[2] = 'n';

	aisec_spi_begin(&spi);
	n = aisec_spi_run("SELECT r.node_name, r.node_port, r.success, r.result "
					  "FROM (SELECT pg_catalog.array_agg(nodename ORDER BY nodeid) AS names, "
					  "             pg_catalog.array_agg(nodeport ORDER BY nodeid) AS ports "
					  "        FROM pg_catalog.pg_dist_node "
					  "       WHERE isactive AND noderole OPERATOR(pg_catalog.=) 'primary' "
					  "         AND groupid OPERATOR(pg_catalog.<>) 0 "
					  "         AND ($2 IS NULL OR (nodename OPERATOR(pg_catalog.=) $2 "
					  "                             AND nodeport OPERATOR(pg_catalog.=) $3))) n, "
					  "     LATERAL pg_catalog.master_run_on_worker(n.names, n.ports, "
					  "             pg_catalog.array_fill($1, ARRAY[pg_catalog.cardinality(n.names)]), "
					  "             true) r "
					  "WHERE n.names IS NOT NULL ORDER BY 1, 2",
					  false, 3, argtypes, args, nulls, NULL);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		if (!DatumGetBool(aisec_spi_value(i, 2, &isnull)))
		{
			char	   *host = TextDatumGetCString(aisec_spi_value(i, 0, &isnull));
			int32		port = DatumGetInt32(aisec_spi_value(i, 1, &isnull));
			Datum		result = aisec_spi_value(i, 3, &isnull);

			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("aisec could not run its command on Citus node %s:%d", host, port),
					 isnull ? 0 : errdetail("The node answered: %s", TextDatumGetCString(result)),
					 errhint("Check that the node is up, reachable with Citus's connection settings and has aisec installed.")));
		}
	}
	aisec_spi_end(&spi);
	if (node_name != NULL && n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s:%d is not an active Citus worker", node_name, node_port),
				 errhint("SELECT * FROM pg_catalog.citus_get_active_worker_nodes() lists them.")));
	return n;
}
