/*
 * crypto.h
 *		The small cryptographic toolkit aisec uses.  crypto.c is the only
 *		file that talks to OpenSSL; everything else goes through here.
 */
#ifndef AISEC_CRYPTO_H
#define AISEC_CRYPTO_H

#include "postgres.h"

#define SHA256_LEN			32
#define AEAD_KEY_LEN		32	/* AES-256-GCM */
#define AEAD_NONCE_LEN		12
#define AEAD_TAG_LEN		16
#define AEAD_OVERHEAD		(AEAD_NONCE_LEN + AEAD_TAG_LEN)
#define ED25519_KEY_LEN		32
#define ED25519_SIG_LEN		64

extern void crypto_random_bytes(uint8 *buf, size_t len);
extern void crypto_cleanse(void *buf, size_t len);
extern bool crypto_hex_decode(const char *hex, size_t hexlen, uint8 *out, size_t len);

extern void crypto_sha256(const uint8 *data, size_t len, uint8 *out);
extern void crypto_sha256_2(const uint8 *a, size_t alen,
							const uint8 *b, size_t blen, uint8 *out);

extern void crypto_aead_seal(const uint8 *key, const uint8 *aad, size_t aadlen,
							 const uint8 *plain, size_t plainlen, uint8 *out);
extern bool crypto_aead_open(const uint8 *key, const uint8 *aad, size_t aadlen,
							 const uint8 *sealed, size_t sealedlen, uint8 *out);

extern void crypto_ed25519_public(const uint8 *priv, uint8 *pub);
extern void crypto_ed25519_sign(const uint8 *priv, const uint8 *msg,
								size_t msglen, uint8 *sig);
extern bool crypto_ed25519_verify(const uint8 *pub, const uint8 *msg,
								  size_t msglen, const uint8 *sig);
extern char *crypto_ed25519_public_pem(const uint8 *pub);

/*
 * Prepared keyed primitives.  The key is expanded once into OpenSSL state
 * owned by a memory context: resetting or deleting that context frees and
 * wipes the state, so nothing keyed outlives the query that prepared it.
 */
#define HMAC_SHA256_LEN		SHA256_LEN
#define AES_BLOCK_LEN		16

typedef struct CryptoHmac CryptoHmac;
typedef struct CryptoAes CryptoAes;

extern CryptoHmac *crypto_hmac_prepare(const uint8 *key, size_t keylen,
									   MemoryContext mcxt);
extern void crypto_hmac(CryptoHmac *h, const uint8 *data, size_t len,
						uint8 *out);
extern CryptoAes *crypto_aes_prepare(const uint8 *key, size_t keylen,
									 MemoryContext mcxt);
extern void crypto_aes_encrypt_blocks(CryptoAes *a, const uint8 *in,
									  uint8 *out, size_t nblocks);

#endif							/* AISEC_CRYPTO_H */
