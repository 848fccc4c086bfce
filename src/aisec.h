/*
 * aisec.h
 *		Declarations shared by every aisec source file: roles, privilege
 *		checks, the extension's own objects, and the module's GUCs.
 */
#ifndef AISEC_H
#define AISEC_H

#include "postgres.h"

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

/* keys.c */
extern void aisec_keys_init(void);
extern void aisec_sign(const uint8 *msg, size_t msglen, uint8 *sig);
extern bool aisec_signing_public(uint8 *pub);

#endif							/* AISEC_H */
