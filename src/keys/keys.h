/*
 * keys.h
 *		The key store's internal API for other aisec files: fetch a key's
 *		secret into a caller's buffer, checking its purpose.
 *
 * The caller checks the user's role first, uses the secret at once (usually
 * to prepare keyed state, see crypto.h) and wipes the buffer with
 * crypto_cleanse().  Secrets never leave C memory.
 */
#ifndef AISEC_KEYS_H
#define AISEC_KEYS_H

#include "postgres.h"

#define AISEC_KEY_MAX_LEN	64		/* largest secret a user key may hold */
#define AISEC_KEY_NAME_MAX	63		/* longest user key name */

/* What a user key is for; stored as text in aisec.key_store.purpose. */
typedef enum AisecKeyPurpose
{
	AISEC_KEY_HMAC,				/* HMAC-SHA-256: pseudonyms, sticky noise */
	AISEC_KEY_FF1				/* AES-128/192/256: FF1 tokens */
} AisecKeyPurpose;

/*
 * Copy version `version` (0 = current) of key `name` into secret (at least
 * AISEC_KEY_MAX_LEN bytes); sets *len and returns the version.  Errors for
 * an unknown key or version, or one whose purpose is not `purpose`.
 */
extern int32 aisec_key_fetch(const char *name, AisecKeyPurpose purpose,
							 int32 version, uint8 *secret, size_t *len);

/*
 * Fetch a key (version 0 = current) and expand it straight into prepared
 * keyed state living in mcxt, wiping the secret before returning (see
 * crypto.h).  Return the state; *version receives the version used.
 */
struct CryptoHmac;
struct CryptoAes;
extern struct CryptoHmac *aisec_key_prepare_hmac(const char *name, int32 version,
												 MemoryContext mcxt, int32 *used);
extern struct CryptoAes *aisec_key_prepare_aes(const char *name, int32 version,
											   MemoryContext mcxt, int32 *used);

/*
 * Prepared HMAC-SHA-256 state under one of aisec's own reserved HMAC keys
 * (a name starting with '$', which no user key has, so no SQL function
 * such as aisec.pseudonymize can use it and no admin can drop or rotate
 * it through the key API).  Version 0 = current; with create, version 1 is
 * generated on first need (and audited as key.create).  Returns NULL if
 * the key does not exist and create is false.  The caller checks the
 * user's role first.
 */
extern struct CryptoHmac *aisec_key_prepare_reserved_hmac(const char *name, int32 version,
														  bool create, MemoryContext mcxt,
														  int32 *used);

/* Raise invalid_name unless name is a valid user key name. */
extern void aisec_key_check_name(const char *name);

/* True if key `name` exists with that purpose (no secret is read). */
extern bool aisec_key_exists(const char *name, AisecKeyPurpose purpose);

/*
 * The database's Ed25519 signing key, the one audit digests use (no other
 * key signs): aisec_signing_public fills pub (ED25519_KEY_LEN bytes) and
 * returns false if the key does not exist yet (as the statement's snapshot
 * sees it); aisec_signing_sign signs msg (creating the key on first need,
 * audited as key.create) and fills sig (ED25519_SIG_LEN bytes) and pub.  Erasure certificates use them.  The
 * caller checks the user's role first.
 */
extern bool aisec_signing_public(uint8 *pub);
extern void aisec_signing_sign(const uint8 *msg, size_t msglen, uint8 *sig, uint8 *pub);

/* _PG_init: define the master key setting, register the digest signer. */
extern void aisec_keys_init(void);

/*
 * A check that names what still uses key name ("table.column" of a
 * masking rule), or returns NULL.  src/masking/ registers it, so keys
 * never calls into masking (masking depends on keys, not the reverse).
 */
typedef char *(*AisecKeyUseCheck) (const char *name);
extern void aisec_keys_set_use_check(AisecKeyUseCheck check);

#endif							/* AISEC_KEYS_H */
