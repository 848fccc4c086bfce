/*
 * keys.c
 *		The key store: secrets wrapped by a master key that is not in the
 *		database, and the per-database Ed25519 signing key.
 *
 * Secrets live in aisec.key_store, readable only by the extension owner,
 * each wrapped with AES-256-GCM under the master key.  The associated data
 * of each wrap names the key, its version and purpose, so a wrapped blob
 * moved to another row does not unwrap.  The master key is read from the
 * file named by the postmaster-level setting aisec.master_key_file, kept in
 * this backend's memory only, and wiped at backend exit.  No key ever goes
 * into a setting, a query text, a catalog others can read or a message.
 *
 * User keys (aisec.create_key and friends) have names matching
 * ^[a-z_][a-z0-9_]{0,62}$, so they never collide with the reserved names
 * that start with '$' (the signing key).  A key has versions 1, 2, ...; the
 * highest is current, older ones stay for decryption until the key is
 * dropped.  Changes take the key-store lock and then read the store with
 * the latest snapshot, so concurrent changes to one key serialize cleanly.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "core/core.h"
#include "audit/audit.h"
#include "keys.h"
#include "keys_internal.h"

#define SIGNING_KEY_NAME	"$signing"
#define SIGNING_PURPOSE		"ed25519"

static char *master_key_file = NULL;
static uint8 master_key[AEAD_KEY_LEN];
static bool master_key_loaded = false;

/* Wipe the cached master key; registered to run at backend exit. */
static void
WipeMasterKey(int code, Datum arg)
{
	crypto_cleanse(master_key, sizeof(master_key));
	master_key_loaded = false;
}

static bool SigningPublic(uint8 *pub);
static void SignMessage(const uint8 *msg, size_t msglen, uint8 *sig);

/* The signer of audit digests, handed to the audit log at load. */
static const AisecAuditSigner digest_signer = {SigningPublic, SignMessage};

/* What asks whether a key is still in use (src/masking/ registers it). */
static AisecKeyUseCheck key_use_check = NULL;

/* Register the check drop_key runs before dropping a key. */
void
aisec_keys_set_use_check(AisecKeyUseCheck check)
{
	key_use_check = check;
}

/*
 * Define aisec.master_key_file and hand the audit log its digest signer;
 * called from _PG_init.
 *
 * Preloaded (shared_preload_libraries), it is a postmaster setting, fixed
 * until restart.  A postmaster setting cannot be defined by a library loaded
 * later, so when aisec is loaded on first use it is defined as a sighup
 * setting instead: still settable only in the server's configuration, never
 * by a session.
 */
void
aisec_keys_init(void)
{
	DefineCustomStringVariable("aisec.master_key_file",
							   "File holding aisec's master key (32 random bytes, or 64 hex digits).",
							   "Must be outside the database, readable only by the server's user. "
							   "The key itself never appears in a setting.",
							   &master_key_file,
							   "",
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY,
							   NULL, NULL, NULL);
	aisec_audit_set_signer(&digest_signer);
	aisec_keys_sync_init();
}

/* What is wrong with a master key file. */
typedef enum MasterKeyProblem
{
	MKP_UNREADABLE,
	MKP_NOT_REGULAR,
	MKP_EXPOSED,
	MKP_WRONG_OWNER,
	MKP_NOT_HEX,
	MKP_WRONG_LENGTH
} MasterKeyProblem;

/*
 * Raise the error for an unusable master key file.  Never names its
 * contents, nor its path (the setting is visible to superusers only).
 */
static void
ReportBadMasterKey(MasterKeyProblem problem)
{
	int			save_errno = errno;
	char	   *detail = NULL;

	switch (problem)
	{
		case MKP_UNREADABLE:
			detail = psprintf(_("The file cannot be read: %s."), strerror(save_errno));
			break;
		case MKP_NOT_REGULAR:
			detail = pstrdup(_("The file is not a regular file."));
			break;
		case MKP_EXPOSED:
			detail = pstrdup(_("The file is accessible to group or others."));
			break;
		case MKP_WRONG_OWNER:
			detail = pstrdup(_("The file is not owned by the server's user or root."));
			break;
		case MKP_NOT_HEX:
			detail = pstrdup(_("The file holds 64 characters that are not all hexadecimal digits."));
			break;
		case MKP_WRONG_LENGTH:
			detail = pstrdup(_("The file does not hold exactly 32 bytes or 64 hexadecimal digits."));
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_CONFIG_FILE_ERROR),
			 errmsg("aisec master key file is unusable"),
			 errdetail_internal("%s", detail),
			 errhint("\"aisec.master_key_file\" must name a file of exactly 32 random bytes "
					 "(or 64 hexadecimal digits), owned by the server's user with mode 0600; "
					 "for example: openssl rand -out /etc/aisec/master.key 32")));
}

/* Read and check the master key file once per backend. */
static void
LoadMasterKey(void)
{
	struct stat st;
	FILE	   *f;
	uint8		buf[130];
	size_t		n;

	if (master_key_loaded)
		return;
	if (master_key_file == NULL || master_key_file[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("aisec master key is not configured"),
				 errdetail("Parameter \"aisec.master_key_file\" is not set."),
				 errhint("Create a key file outside the data directory "
						 "(openssl rand -out /etc/aisec/master.key 32; chmod 600 it; "
						 "chown it to the server's user), set aisec.master_key_file "
						 "to its path in postgresql.conf, and restart the server.")));

	if (stat(master_key_file, &st) != 0)
		ReportBadMasterKey(MKP_UNREADABLE);
	if (!S_ISREG(st.st_mode))
		ReportBadMasterKey(MKP_NOT_REGULAR);
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		ReportBadMasterKey(MKP_EXPOSED);
	if (st.st_uid != geteuid() && st.st_uid != 0)
		ReportBadMasterKey(MKP_WRONG_OWNER);

	f = AllocateFile(master_key_file, PG_BINARY_R);
	if (f == NULL)
		ReportBadMasterKey(MKP_UNREADABLE);
	n = fread(buf, 1, sizeof(buf), f);
	FreeFile(f);

	/* Strip trailing whitespace only from a hex-encoded key. */
	if (n > AEAD_KEY_LEN)
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
						 buf[n - 1] == ' ' || buf[n - 1] == '\t'))
			n--;

	if (n == AEAD_KEY_LEN)
		memcpy(master_key, buf, AEAD_KEY_LEN);
	else if (n == 2 * AEAD_KEY_LEN)
	{
		if (!crypto_hex_decode((const char *) buf, n, master_key, AEAD_KEY_LEN))
		{
			crypto_cleanse(buf, sizeof(buf));
			crypto_cleanse(master_key, sizeof(master_key));
			ReportBadMasterKey(MKP_NOT_HEX);
		}
	}
	else
	{
		crypto_cleanse(buf, sizeof(buf));
		ReportBadMasterKey(MKP_WRONG_LENGTH);
	}
	crypto_cleanse(buf, sizeof(buf));

	before_shmem_exit(WipeMasterKey, (Datum) 0);
	master_key_loaded = true;
}

/* Build the associated data that binds a wrapped secret to its row. */
static char *
WrapContext(const char *name, int32 version, const char *purpose)
{
	return psprintf("aisec-key-v1|%s|%d|%s", name, version, purpose);
}

/* Wrap secret under the master key; returns a palloc'd bytea. */
static bytea *
WrapSecret(const char *name, int32 version, const char *purpose,
		   const uint8 *secret, size_t len)
{
	char	   *aad = WrapContext(name, version, purpose);
	bytea	   *out = (bytea *) palloc(VARHDRSZ + len + AEAD_OVERHEAD);

	LoadMasterKey();
	SET_VARSIZE(out, VARHDRSZ + len + AEAD_OVERHEAD);
	crypto_aead_seal(master_key, (const uint8 *) aad, strlen(aad),
					 secret, len, (uint8 *) VARDATA(out));
	pfree(aad);
	return out;
}

/* Unwrap a stored secret into out (len bytes); error if it does not verify. */
static void
UnwrapSecret(const char *name, int32 version, const char *purpose,
			 bytea *wrapped, uint8 *out, size_t len)
{
	char	   *aad = WrapContext(name, version, purpose);
	bool		ok;

	LoadMasterKey();
	ok = VARSIZE_ANY_EXHDR(wrapped) == len + AEAD_OVERHEAD &&
		crypto_aead_open(master_key, (const uint8 *) aad, strlen(aad),
						 (const uint8 *) VARDATA_ANY(wrapped),
						 VARSIZE_ANY_EXHDR(wrapped), out);
	pfree(aad);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec key \"%s\" version %d cannot be unwrapped", name, version),
				 errdetail("The master key is not the one it was wrapped with, or the stored key was altered."),
				 errhint("Check that aisec.master_key_file names the right file.")));
}

/* True if aisec.master_key_file is set (whether or not the file is usable). */
bool
aisec_key_master_configured(void)
{
	return master_key_file != NULL && master_key_file[0] != '\0';
}

/*
 * Check that a stored wrapped secret unwraps under this server's master key
 * (a copy received from a Citus coordinator); errors as a failed unwrap does.
 */
void
aisec_key_check_wrapped(const char *name, int32 version, const char *purpose,
						bytea *wrapped)
{
	uint8		secret[AISEC_KEY_MAX_LEN];
	size_t		len = VARSIZE_ANY_EXHDR(wrapped);

	if (len <= AEAD_OVERHEAD || len - AEAD_OVERHEAD > sizeof(secret))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec key \"%s\" version %d cannot be unwrapped", name, version),
				 errdetail("The stored key has an impossible length.")));
	UnwrapSecret(name, version, purpose, wrapped, secret, len - AEAD_OVERHEAD);
	crypto_cleanse(secret, sizeof(secret));
}

/*
 * Look up the current version of the signing key.  With latest = true the
 * lookup sees rows committed after this transaction's snapshot (used after
 * taking the key-store lock).  Returns false if there is none; otherwise
 * fills pub and, if wrapped is not NULL, a copy of the wrapped secret.
 */
static bool
FetchSigningKey(bool latest, int32 *version, uint8 *pub, bytea **wrapped)
{
	AisecSpi	spi;
	Datum		arg = CStringGetTextDatum(SIGNING_KEY_NAME);
	Oid			argtype = TEXTOID;
	bool		found = false;

	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT version, public_key, wrapped FROM aisec.key_store "
					   "WHERE name OPERATOR(pg_catalog.=) $1 "
					   "ORDER BY version DESC LIMIT 1",
					   true, 1, &argtype, &arg, NULL,
					   latest ? GetLatestSnapshot() : NULL) == 1)
	{
		bool		isnull;
		bytea	   *p;
		Datum		d;

		*version = DatumGetInt32(aisec_spi_value(0, 0, &isnull));
		d = aisec_spi_value(0, 1, &isnull);
		p = isnull ? NULL : DatumGetByteaPP(d);
		if (p == NULL || VARSIZE_ANY_EXHDR(p) != ED25519_KEY_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("aisec signing key has a malformed public key")));
		memcpy(pub, VARDATA_ANY(p), ED25519_KEY_LEN);
		/* Copied into the caller's context, which outlives aisec_spi_end. */
		if (wrapped != NULL)
			*wrapped = DatumGetByteaPP(datumCopy(aisec_spi_value(0, 2, &isnull), false, -1));
		found = true;
	}
	aisec_spi_end(&spi);
	return found;
}

/* Create the database's signing key (the key-store lock is held). */
static void
CreateSigningKey(uint8 *pub)
{
	AisecSpi	spi;
	uint8		priv[ED25519_KEY_LEN];
	bytea	   *wrapped;
	Oid			argtypes[3] = {TEXTOID, BYTEAOID, BYTEAOID};
	Datum		args[3];
	char	   *creator = GetUserNameFromId(GetUserId(), false);

	crypto_random_bytes(priv, sizeof(priv));
	crypto_ed25519_public(priv, pub);
	wrapped = WrapSecret(SIGNING_KEY_NAME, 1, SIGNING_PURPOSE, priv, sizeof(priv));
	crypto_cleanse(priv, sizeof(priv));

	args[0] = CStringGetTextDatum(creator);
	args[1] = PointerGetDatum(cstring_to_text_with_len((char *) pub, ED25519_KEY_LEN));
	args[2] = PointerGetDatum(wrapped);

	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.key_store "
						 "(name, version, purpose, created_by, public_key, wrapped) "
						 "VALUES ('" SIGNING_KEY_NAME "', 1, '" SIGNING_PURPOSE "', $1, $2, $3)",
						 true, 3, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);

	aisec_audit_log("key.create", SIGNING_KEY_NAME,
					"{\"purpose\": \"" SIGNING_PURPOSE "\", \"version\": 1}");
}

/* Return the signing key's public half, creating the key on first need. */
static int32
EnsureSigningKey(uint8 *pub)
{
	int32		version;

	if (FetchSigningKey(false, &version, pub, NULL))
		return version;
	aisec_prevent_if_read_only("aisec signing key creation");
	aisec_lock(AISEC_LOCK_KEY_STORE);
	if (FetchSigningKey(true, &version, pub, NULL))
		return version;
	CreateSigningKey(pub);
	CommandCounterIncrement();
	return 1;
}

/* Fill pub with the signing key's public half; false if none exists yet. */
static bool
SigningPublic(uint8 *pub)
{
	int32		version;

	return FetchSigningKey(false, &version, pub, NULL);
}

/* Sign msg with the database's signing key (created on first need). */
static void
SignMessage(const uint8 *msg, size_t msglen, uint8 *sig)
{
	uint8		pub[ED25519_KEY_LEN];
	uint8		priv[ED25519_KEY_LEN];
	int32		version;
	bytea	   *wrapped = NULL;

	EnsureSigningKey(pub);
	if (!FetchSigningKey(false, &version, pub, &wrapped))
		(void) FetchSigningKey(true, &version, pub, &wrapped);
	if (wrapped == NULL)
		elog(ERROR, "aisec signing key vanished");
	UnwrapSecret(SIGNING_KEY_NAME, version, SIGNING_PURPOSE, wrapped,
				 priv, sizeof(priv));
	crypto_ed25519_sign(priv, msg, msglen, sig);
	crypto_cleanse(priv, sizeof(priv));
}

/* The signing key's public half, for erasure certificates (keys.h). */
bool
aisec_signing_public(uint8 *pub)
{
	return SigningPublic(pub);
}

/* Sign msg with the signing key, for erasure certificates (keys.h). */
void
aisec_signing_sign(const uint8 *msg, size_t msglen, uint8 *sig, uint8 *pub)
{
	(void) EnsureSigningKey(pub);
	SignMessage(msg, msglen, sig);
}

/* Return the database's Ed25519 public key as PEM, creating it if needed. */
PG_FUNCTION_INFO_V1(aisec_signing_public_key);
Datum
aisec_signing_public_key(PG_FUNCTION_ARGS)
{
	uint8		pub[ED25519_KEY_LEN];

	aisec_require_role(AISEC_ROLE_ADMIN | AISEC_ROLE_ENGINEER |
					   AISEC_ROLE_DPO | AISEC_ROLE_AUDITOR,
					   "aisec.signing_public_key()");
	EnsureSigningKey(pub);
	PG_RETURN_TEXT_P(cstring_to_text(crypto_ed25519_public_pem(pub)));
}

/* ---------------------------------------------------------------------
 * User keys: aisec.create_key, import_key, rotate_key, drop_key and the
 * internal aisec_key_fetch() used by the masking functions.
 * ---------------------------------------------------------------------
 */

static const char *const purpose_names[] = {"hmac", "ff1"};

/* What one lookup in aisec.key_store found. */
typedef struct KeyRow
{
	int32		version;		/* the version found (current unless asked) */
	AisecKeyPurpose purpose;
	bytea	   *wrapped;		/* wrapped secret, in the caller's context */
} KeyRow;

/* Raise invalid_name unless name is a valid user key name. */
void
aisec_key_check_name(const char *name)
{
	size_t		len = strlen(name);
	bool		ok = len >= 1 && len <= AISEC_KEY_NAME_MAX &&
		((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_');

	for (size_t i = 1; ok && i < len; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') ||
			(name[i] >= '0' && name[i] <= '9') || name[i] == '_';
	/* The name is not repeated: a value passed by mistake in its place would be. */
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid aisec key name"),
				 errdetail("A key name is 1 to %d characters: lowercase ASCII letters, digits and "
						   "underscores, not starting with a digit.", AISEC_KEY_NAME_MAX)));
}

/* True if purpose names a user key purpose. */
bool
aisec_key_purpose_known(const char *purpose)
{
	for (int i = 0; i < lengthof(purpose_names); i++)
		if (strcmp(purpose, purpose_names[i]) == 0)
			return true;
	return false;
}

/* Map a purpose's text to its enum; error for anything else. */
static AisecKeyPurpose
ParsePurpose(const char *purpose)
{
	for (int i = 0; i < lengthof(purpose_names); i++)
		if (strcmp(purpose, purpose_names[i]) == 0)
			return (AisecKeyPurpose) i;
	/* Not repeated either: a secret passed by mistake in its place would be. */
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown aisec key purpose"),
			 errhint("Use 'hmac' (pseudonyms, sticky noise) or 'ff1' (format-preserving tokens).")));
	return AISEC_KEY_HMAC;		/* keep compiler quiet */
}

/* The text arguments of the key functions that must not be NULL. */
typedef enum KeyTextArg
{
	KEY_ARG_NAME,
	KEY_ARG_PURPOSE
} KeyTextArg;

/* Return the text argument argno (a which) as a C string; error if it is NULL. */
static char *
RequireTextArg(FunctionCallInfo fcinfo, int argno, KeyTextArg which)
{
	if (PG_ARGISNULL(argno))
	{
		if (which == KEY_ARG_NAME)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("key name must not be null")));
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key purpose must not be null")));
	}
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * Look up key name at version (0 = current).  With latest, read the store
 * with the latest snapshot (after taking the key-store lock).  Returns false
 * if there is no such key or version.  User key names only: a name starting
 * with '$' never gets here, since every caller validates it first.
 */
static bool
LookupKey(const char *name, int32 version, bool latest, KeyRow *row)
{
	AisecSpi	spi;
	Oid			argtypes[2] = {TEXTOID, INT4OID};
	Datum		args[2];
	bool		found = false;

	args[0] = CStringGetTextDatum(name);
	args[1] = Int32GetDatum(version);
	aisec_spi_begin(&spi);
	if (aisec_spi_read("SELECT version, purpose, wrapped FROM aisec.key_store "
					   "WHERE name OPERATOR(pg_catalog.=) $1 AND "
					   "($2 OPERATOR(pg_catalog.=) 0 OR version OPERATOR(pg_catalog.=) $2) "
					   "ORDER BY version DESC LIMIT 1",
					   true, 2, argtypes, args, NULL,
					   latest ? GetLatestSnapshot() : NULL) == 1)
	{
		bool		isnull;

		row->version = DatumGetInt32(aisec_spi_value(0, 0, &isnull));
		row->purpose = ParsePurpose(TextDatumGetCString(aisec_spi_value(0, 1, &isnull)));
		/* Copied into the caller's context, which outlives aisec_spi_end. */
		row->wrapped = DatumGetByteaPP(datumCopy(aisec_spi_value(0, 2, &isnull), false, -1));
		found = true;
	}
	aisec_spi_end(&spi);
	return found;
}

/* Raise undefined_object for a key that does not exist. */
static void
ReportNoSuchKey(const char *name, int32 version)
{
	if (version > 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("aisec key \"%s\" has no version %d", name, version),
				 errhint("SELECT * FROM aisec.keys lists the versions that exist.")));
	if (aisec_keys_on_worker())
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("aisec key \"%s\" does not exist", name),
				 errdetail("This is a Citus worker: its keys are copies of the coordinator's."),
				 errhint("If the coordinator has the key, run SELECT aisec.citus_sync_keys() there.")));
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("aisec key \"%s\" does not exist", name),
			 errhint("An administrator creates keys with aisec.create_key(name, purpose).")));
}

/* Raise wrong_object_type for a key used for the wrong purpose. */
static void
ReportWrongPurpose(const char *name, AisecKeyPurpose has, AisecKeyPurpose wanted)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("aisec key \"%s\" has purpose \"%s\", not \"%s\"",
					name, purpose_names[has], purpose_names[wanted]),
			 errhint("Create a separate key with purpose '%s'.", purpose_names[wanted])));
}

/* Check a secret's length against what its purpose allows. */
static void
CheckSecretLength(AisecKeyPurpose purpose, size_t len)
{
	if (purpose == AISEC_KEY_FF1 && len != 16 && len != 24 && len != 32)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an \"ff1\" key must be 16, 24 or 32 bytes (AES-128, AES-192 or AES-256), not %zu", len)));
	if (purpose == AISEC_KEY_HMAC && (len < 16 || len > AISEC_KEY_MAX_LEN))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("an \"hmac\" key must be 16 to %d bytes, not %zu", AISEC_KEY_MAX_LEN, len)));
}

/* Wrap secret and insert it as (name, version); the key-store lock is held. */
static void
StoreKey(const char *name, int32 version, AisecKeyPurpose purpose,
		 const uint8 *secret, size_t len)
{
	AisecSpi	spi;
	const char *purpose_name = purpose_names[purpose];
	bytea	   *wrapped = WrapSecret(name, version, purpose_name, secret, len);
	Oid			argtypes[5] = {TEXTOID, INT4OID, TEXTOID, TEXTOID, BYTEAOID};
	Datum		args[5];

	args[0] = CStringGetTextDatum(name);
	args[1] = Int32GetDatum(version);
	args[2] = CStringGetTextDatum(purpose_name);
	args[3] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	args[4] = PointerGetDatum(wrapped);

	aisec_spi_begin(&spi);
	(void) aisec_spi_run("INSERT INTO aisec.key_store "
						 "(name, version, purpose, created_by, wrapped) "
						 "VALUES ($1, $2, $3, $4, $5)",
						 true, 5, argtypes, args, NULL, NULL);
	aisec_spi_end(&spi);
}

/* Audit one key change; name and purpose are validated, so safe in JSON. */
static void
AuditKeyChange(const char *action, const char *name, AisecKeyPurpose purpose,
			   int32 version, const char *source, size_t len)
{
	char	   *detail = psprintf("{\"purpose\": \"%s\", \"version\": %d, "
								  "\"source\": \"%s\", \"bits\": %zu}",
								  purpose_names[purpose], version, source, len * 8);

	aisec_audit_log(action, name, detail);
	pfree(detail);
}

/* Common start of every key change (role already checked): read-only check, name, lock. */
static void
BeginKeyChange(const char *name, const char *function_name)
{
	aisec_prevent_if_read_only(function_name);
	aisec_key_check_name(name);
	aisec_lock(AISEC_LOCK_KEY_STORE);
	aisec_keys_sync_note(name);
}

/* Create version 1 of a new key holding secret; error if the name is taken. */
static void
CreateKey(const char *name, AisecKeyPurpose purpose, const uint8 *secret,
		  size_t len, const char *source)
{
	KeyRow		row;

	if (LookupKey(name, 0, true, &row))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("aisec key \"%s\" already exists", name),
				 errhint("Use aisec.rotate_key(name) for a new version, or pick another name.")));
	StoreKey(name, 1, purpose, secret, len);
	AuditKeyChange("key.create", name, purpose, 1, source, len);
}

/* SQL: aisec.create_key(name, purpose) makes a random key; returns its version (1). */
PG_FUNCTION_INFO_V1(aisec_create_key);
Datum
aisec_create_key(PG_FUNCTION_ARGS)
{
	char	   *name;
	AisecKeyPurpose purpose;
	uint8		secret[32];

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.create_key()");
	name = RequireTextArg(fcinfo, 0, KEY_ARG_NAME);
	purpose = ParsePurpose(RequireTextArg(fcinfo, 1, KEY_ARG_PURPOSE));
	BeginKeyChange(name, "aisec.create_key()");
	crypto_random_bytes(secret, sizeof(secret));
	PG_TRY();
	{
		CreateKey(name, purpose, secret, sizeof(secret), "generated");
	}
	PG_FINALLY();
	{
		crypto_cleanse(secret, sizeof(secret));
	}
	PG_END_TRY();
	PG_RETURN_INT32(1);
}

/* SQL: aisec.import_key(name, secret, purpose) stores a given secret as version 1. */
PG_FUNCTION_INFO_V1(aisec_import_key);
Datum
aisec_import_key(PG_FUNCTION_ARGS)
{
	char	   *name;
	AisecKeyPurpose purpose;
	bytea	   *secret;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.import_key()");
	name = RequireTextArg(fcinfo, 0, KEY_ARG_NAME);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("key secret must not be null")));
	purpose = ParsePurpose(RequireTextArg(fcinfo, 2, KEY_ARG_PURPOSE));
	secret = PG_GETARG_BYTEA_PP(1);
	BeginKeyChange(name, "aisec.import_key()");
	CheckSecretLength(purpose, VARSIZE_ANY_EXHDR(secret));
	CreateKey(name, purpose, (const uint8 *) VARDATA_ANY(secret),
			  VARSIZE_ANY_EXHDR(secret), "imported");
	PG_RETURN_INT32(1);
}

/* SQL: aisec.rotate_key(name) adds a random new current version; returns it. */
PG_FUNCTION_INFO_V1(aisec_rotate_key);
Datum
aisec_rotate_key(PG_FUNCTION_ARGS)
{
	char	   *name;
	KeyRow		row;
	uint8		secret[32];
	int32		version;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.rotate_key()");
	name = RequireTextArg(fcinfo, 0, KEY_ARG_NAME);
	BeginKeyChange(name, "aisec.rotate_key()");
	if (!LookupKey(name, 0, true, &row))
		ReportNoSuchKey(name, 0);
	if (row.version == PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("aisec key \"%s\" cannot be rotated any further", name)));
	version = row.version + 1;
	crypto_random_bytes(secret, sizeof(secret));
	PG_TRY();
	{
		StoreKey(name, version, row.purpose, secret, sizeof(secret));
	}
	PG_FINALLY();
	{
		crypto_cleanse(secret, sizeof(secret));
	}
	PG_END_TRY();
	AuditKeyChange("key.rotate", name, row.purpose, version, "generated", sizeof(secret));
	PG_RETURN_INT32(version);
}

/* SQL: aisec.drop_key(name) destroys every version; returns how many. */
PG_FUNCTION_INFO_V1(aisec_drop_key);
Datum
aisec_drop_key(PG_FUNCTION_ARGS)
{
	char	   *name;
	AisecSpi	spi;
	KeyRow		row;
	Oid			argtype = TEXTOID;
	Datum		arg;
	char	   *user;
	char	   *detail;
	int			n;

	aisec_require_role(AISEC_ROLE_ADMIN, "aisec.drop_key()");
	name = RequireTextArg(fcinfo, 0, KEY_ARG_NAME);
	BeginKeyChange(name, "aisec.drop_key()");
	if (!LookupKey(name, 0, true, &row))
		ReportNoSuchKey(name, 0);
	user = key_use_check ? key_use_check(name) : NULL;
	if (user != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("aisec key \"%s\" is used by the masking rule on column \"%s\"", name, user),
				 errhint("Drop or change that rule first (aisec.drop_mask or aisec.set_mask).")));

	arg = CStringGetTextDatum(name);
	aisec_spi_begin(&spi);
	n = aisec_spi_run("DELETE FROM aisec.key_store WHERE name OPERATOR(pg_catalog.=) $1",
					  true, 1, &argtype, &arg, NULL, NULL);
	aisec_spi_end(&spi);

	detail = psprintf("{\"purpose\": \"%s\", \"versions\": %d}",
					  purpose_names[row.purpose], n);
	aisec_audit_log("key.drop", name, detail);
	PG_RETURN_INT32(n);
}

/* Copy a key's secret (version 0 = current) into secret; see keys.h. */
int32
aisec_key_fetch(const char *name, AisecKeyPurpose purpose, int32 version,
				uint8 *secret, size_t *len)
{
	KeyRow		row;
	size_t		wlen;

	aisec_key_check_name(name);
	if (!LookupKey(name, version, false, &row))
		ReportNoSuchKey(name, version);
	if (row.purpose != purpose)
		ReportWrongPurpose(name, row.purpose, purpose);
	wlen = VARSIZE_ANY_EXHDR(row.wrapped);
	if (wlen < AEAD_OVERHEAD || wlen - AEAD_OVERHEAD > AISEC_KEY_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec key \"%s\" version %d is malformed", name, row.version)));
	*len = wlen - AEAD_OVERHEAD;
	UnwrapSecret(name, row.version, purpose_names[purpose], row.wrapped,
				 secret, *len);
	return row.version;
}

/* True if key name exists with that purpose; error if with another. */
bool
aisec_key_exists(const char *name, AisecKeyPurpose purpose)
{
	KeyRow		row;

	aisec_key_check_name(name);
	if (!LookupKey(name, 0, false, &row))
		return false;
	if (row.purpose != purpose)
		ReportWrongPurpose(name, row.purpose, purpose);
	return true;
}

/* Fetch a key and prepare keyed state from it; the secret is wiped here. */
static void *
PrepareKeyed(const char *name, AisecKeyPurpose purpose, int32 version,
			 MemoryContext mcxt, int32 *used)
{
	uint8		secret[AISEC_KEY_MAX_LEN];
	size_t		len = 0;
	void	   *volatile state = NULL;

	PG_TRY();
	{
		*used = aisec_key_fetch(name, purpose, version, secret, &len);
		if (purpose == AISEC_KEY_HMAC)
			state = crypto_hmac_prepare(secret, len, mcxt);
		else
			state = crypto_aes_prepare(secret, len, mcxt);
	}
	PG_CATCH();
	{
		crypto_cleanse(secret, sizeof(secret));
		PG_RE_THROW();
	}
	PG_END_TRY();
	crypto_cleanse(secret, sizeof(secret));
	return state;
}

/* Prepared HMAC-SHA-256 under an 'hmac' key; see keys.h. */
CryptoHmac *
aisec_key_prepare_hmac(const char *name, int32 version, MemoryContext mcxt,
					   int32 *used)
{
	return (CryptoHmac *) PrepareKeyed(name, AISEC_KEY_HMAC, version, mcxt, used);
}

/* Prepared AES under an 'ff1' key; see keys.h. */
CryptoAes *
aisec_key_prepare_aes(const char *name, int32 version, MemoryContext mcxt,
					  int32 *used)
{
	return (CryptoAes *) PrepareKeyed(name, AISEC_KEY_FF1, version, mcxt, used);
}

/* Create version 1 of reserved hmac key name (the key-store lock is held). */
static void
CreateReservedHmacKey(const char *name)
{
	uint8		fresh[32];

	crypto_random_bytes(fresh, sizeof(fresh));
	PG_TRY();
	{
		StoreKey(name, 1, AISEC_KEY_HMAC, fresh, sizeof(fresh));
	}
	PG_FINALLY();
	{
		crypto_cleanse(fresh, sizeof(fresh));
	}
	PG_END_TRY();
	AuditKeyChange("key.create", name, AISEC_KEY_HMAC, 1, "generated", sizeof(fresh));
	CommandCounterIncrement();
}

/*
 * Prepared HMAC under a reserved '$' key, created on first need; see
 * keys.h.  The reserved names are aisec's own (erasure's register key),
 * never a user's, so only aisec's C code reaches them.
 */
CryptoHmac *
aisec_key_prepare_reserved_hmac(const char *name, int32 version, bool create,
								MemoryContext mcxt, int32 *used)
{
	KeyRow		row;
	uint8		secret[AISEC_KEY_MAX_LEN];
	size_t		wlen;
	CryptoHmac *volatile state = NULL;

	if (name[0] != '$' || strcmp(name, SIGNING_KEY_NAME) == 0 ||
		strlen(name) > AISEC_KEY_NAME_MAX + 1)
		elog(ERROR, "\"%s\" is not a reserved aisec hmac key name", name);
	if (!LookupKey(name, version, false, &row))
	{
		if (!create || version > 0)
			return NULL;
		aisec_prevent_if_read_only("aisec reserved key creation");
		aisec_lock(AISEC_LOCK_KEY_STORE);
		if (!LookupKey(name, 0, true, &row))
		{
			CreateReservedHmacKey(name);
			if (!LookupKey(name, 0, true, &row))
				elog(ERROR, "aisec key \"%s\" vanished", name);
		}
	}
	if (row.purpose != AISEC_KEY_HMAC)
		ReportWrongPurpose(name, row.purpose, AISEC_KEY_HMAC);
	wlen = VARSIZE_ANY_EXHDR(row.wrapped);
	if (wlen < AEAD_OVERHEAD || wlen - AEAD_OVERHEAD > AISEC_KEY_MAX_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("aisec key \"%s\" version %d is malformed", name, row.version)));
	wlen -= AEAD_OVERHEAD;
	PG_TRY();
	{
		UnwrapSecret(name, row.version, purpose_names[AISEC_KEY_HMAC], row.wrapped,
					 secret, wlen);
		state = crypto_hmac_prepare(secret, wlen, mcxt);
	}
	PG_FINALLY();
	{
		crypto_cleanse(secret, sizeof(secret));
	}
	PG_END_TRY();
	*used = row.version;
	return state;
}
