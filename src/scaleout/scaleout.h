/*
 * scaleout.h
 *		The door of src/scaleout/: what aisec knows about running on Citus.
 *
 * aisec does not distribute anything itself; on a Citus cluster it asks
 * Citus's catalogs what this node is (coordinator or worker) and whether a
 * table is a Citus table, and sends commands to the workers through
 * Citus's master_run_on_worker().  Every function here is a no-op answer
 * ("not Citus") in a database without the citus extension.
 */
#ifndef AISEC_SCALEOUT_H
#define AISEC_SCALEOUT_H

#include "postgres.h"

/* What this database is in a Citus cluster. */
typedef enum AisecCitusNode
{
	AISEC_CITUS_NONE,			/* no citus extension here */
	AISEC_CITUS_COORDINATOR,	/* citus, local group 0 */
	AISEC_CITUS_WORKER			/* citus, any other group */
} AisecCitusNode;

extern AisecCitusNode aisec_citus_node(void);

/* True if the citus extension is installed in this database. */
extern bool aisec_citus_installed(void);

/* True if relid is a Citus table (distributed, reference or Citus local). */
extern bool aisec_citus_table(Oid relid);

/*
 * Raise feature_not_supported (0A000) if relid is a Citus table:
 * function_name cannot work on it (doc/scale-out.md says why).
 */
extern void aisec_citus_refuse_table(Oid relid, const char *function_name);

/*
 * Run command (built by the caller from constants and hex digits only) on
 * every active primary worker, or on the one named by node_name/node_port
 * when node_name is not NULL, as the current user, each in its own
 * connection and transaction (not this one's).  Errors naming the first
 * node that failed; returns how many nodes ran it.
 */
extern int	aisec_citus_run_on_workers(const char *command, const char *node_name,
									   int32 node_port);

/*
 * _PG_init: the planner hook that runs aisec's aggregates in Citus's shard
 * queries at their own speed (partial.c).
 */
extern void aisec_scaleout_init(void);

#endif							/* AISEC_SCALEOUT_H */
