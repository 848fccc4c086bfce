/*
 * keys_internal.h
 *		What keys.c and keys_sync.c (the key store's copies on Citus
 *		workers) share; private to src/keys/.
 */
#ifndef AISEC_KEYS_INTERNAL_H
#define AISEC_KEYS_INTERNAL_H

#include "postgres.h"

/* keys.c */
extern bool aisec_key_purpose_known(const char *purpose);
extern bool aisec_key_master_configured(void);
extern void aisec_key_check_wrapped(const char *name, int32 version,
									const char *purpose, bytea *wrapped);

/* keys_sync.c */
extern void aisec_keys_sync_init(void);
extern void aisec_keys_sync_note(const char *name);
extern bool aisec_keys_on_worker(void);

#endif							/* AISEC_KEYS_INTERNAL_H */
