/*
 * core.h
 *		The door of src/core/: what every other aisec folder may use.
 *		Roles and privilege checks, the extension owner, aisec's private
 *		locks and the SPI door are declared here; the OpenSSL wrapper, the
 *		canonical encodings, the SRF helper, the statistics state codec,
 *		aggregate states as expanded objects, the aggregate scan and the
 *		label sets have a header each, included below.
 */
#ifndef AISEC_CORE_H
#define AISEC_CORE_H

#include "postgres.h"

#include "utils/snapshot.h"

#include "aggbox.h"
#include "aggscan.h"
#include "crypto.h"
#include "encode.h"
#include "labelset.h"
#include "srf.h"
#include "statecodec.h"

/* PG 15 added strtoi64() to c.h; PG 14 gets an equivalent (long long >= 64 bits). */
#if PG_VERSION_NUM < 150000 && !defined(strtoi64)
#define strtoi64(str, endptr, base) ((int64) strtoll(str, endptr, base))
#endif

#define AISEC_SCHEMA		"aisec"
#define AISEC_EXTENSION		"aisec"

/* The four governance roles, as bits so a check can accept several. */
typedef enum AisecRole
{
	AISEC_ROLE_ADMIN = 1 << 0,
	AISEC_ROLE_ENGINEER = 1 << 1,
	AISEC_ROLE_DPO = 1 << 2,
	AISEC_ROLE_AUDITOR = 1 << 3
} AisecRole;

/* Private lock tags (see aisec_lock); each serializes one kind of change. */
typedef enum AisecLock
{
	AISEC_LOCK_AUDIT_APPEND = 1,
	AISEC_LOCK_KEY_STORE = 2,
	AISEC_LOCK_VERSION_COMMIT = 3	/* writers of tracked tables share it,
									 * aisec.commit() takes it alone */
} AisecLock;

/* privilege.c */
extern void aisec_require_role(int roles, const char *function_name);
extern bool aisec_has_role(int roles);
extern Oid	aisec_extension_owner(void);
extern Oid	aisec_relid(const char *relname);
extern Snapshot aisec_registry_snapshot(void);
extern void aisec_lock(AisecLock which);
extern void aisec_lock_shared(AisecLock which);
extern bool aisec_lock_held(AisecLock which);
extern void aisec_prevent_if_read_only(const char *function_name);

/* Saved identity while C code acts as the extension owner (see privilege.c). */
typedef struct AisecSavedUser
{
	Oid			userid;
	int			sec_context;
} AisecSavedUser;

extern void aisec_become_owner(AisecSavedUser *saved);
extern void aisec_restore_user(const AisecSavedUser *saved);

/*
 * spi.c: the one door to SPI.  Every statement aisec runs through SPI goes
 * through these: search_path is pinned to pg_catalog, pg_temp for the whole
 * connection, and a statement run as the extension owner restores the
 * caller's identity however it ends.  aisec_spi_read is aisec_spi_run in
 * SPI's read-only mode, for lookups that may run in a parallel worker.
 */
typedef struct AisecSpi
{
	int			guc_nest;
} AisecSpi;

extern void aisec_spi_begin(AisecSpi *s);
extern void aisec_spi_end(AisecSpi *s);
extern int	aisec_spi_run(const char *sql, bool as_owner, int nargs,
						  Oid *types, Datum *values, const char *nulls,
						  Snapshot snap);
extern int	aisec_spi_read(const char *sql, bool as_owner, int nargs,
						   Oid *types, Datum *values, const char *nulls,
						   Snapshot snap);
extern void aisec_spi_ddl(bool as_owner, const char *fmt,...) pg_attribute_printf(2, 3);
extern Datum aisec_spi_value(int row, int col, bool *isnull);
extern bool aisec_spi_owner_writing(void);
extern char *aisec_qualified_name(Oid relid);

#endif							/* AISEC_CORE_H */
