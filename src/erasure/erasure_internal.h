/*
 * erasure_internal.h
 *		What the files of src/erasure/ share: the keyed subject hash, the
 *		lookup of a request in the register, and what a request reaches.
 */
#ifndef AISEC_ERASURE_INTERNAL_H
#define AISEC_ERASURE_INTERNAL_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"

#include "nodes/pg_list.h"
#include "storage/lockdefs.h"
#include "utils/jsonb.h"

#include "core/core.h"
#include "versioning/versioning.h"

/* aisec's reserved HMAC key for subject hashes (src/keys/, keys.h). */
#define ERASURE_KEY_NAME	"$erasure"

/* One request of aisec.erasure_request, as the functions need it. */
typedef struct ErasureRequest
{
	int64		id;
	char	   *reference;
	uint8		subject_hash[HMAC_SHA256_LEN];
	int32		key_version;
	char	   *requested_by;
	bool		approved;
	char	   *approved_by;
	bool		executed;
} ErasureRequest;

/*
 * What erasing a subject reaches in one declared table (erasure_collect.c).
 * Counts are what erase does: live rows it deletes, history records it
 * redacts, committed versions whose records include the subject's rows,
 * rows of this table derived from them through lineage (not the subject's
 * own) that erase erases under the table's policy.  A table holding
 * derived rows but no subject column gets a target of its own, with no
 * subject rows (erasure_collect_derived).
 */
typedef struct ErasureTarget
{
	Oid			relid;
	bool		tracked;
	TrackedTable tt;			/* if tracked */
	Datum		rids;			/* int8[]: the subject's row ids (tracked) */
	int			nrids;
	Datum		live_rids;		/* int8[]: live rows holding the subject */
	Datum		changed_rids;	/* int8[]: live rows that held it before */
	int64		live_rows;
	int64		history_records;
	Datum		versions;		/* int8[] (tracked), else 0 */
	int64		derived_rows;	/* of derived_rids */
	/* rows of this table derived from the subject's (erasure_derived.c) */
	Datum		derived_rids;	/* int8[]: derived rows erase erases, ascending */
	int64		derived_kept;	/* derived rows the table's policy keeps */
	char	   *derived_kept_json;	/* JSON array of the kept: rid, parents, reason */
	bool		keep_aggregate; /* the table's policy (else delete) */
	int32		min_parents;	/* keep_aggregate's threshold */
	/* the match condition over the live table (alias t) and its $n */
	char	   *match;
	int			nargs;
	Oid		   *types;
	Datum	   *values;
} ErasureTarget;

/* erasure_versions.c: what versioning reads about erased rows */
extern void erasure_versions_init(void);

/* erasure_collect.c */
extern int	erasure_collect(const char *subject, LOCKMODE lockmode, bool fresh,
							ErasureTarget **out);

/* erasure_collect.c, for erasure_derived.c */
extern int	erasure_run_as_owner(const char *sql, int nargs, Oid *types, Datum *values);

/* erasure_derived.c */
extern int	erasure_collect_derived(ErasureTarget **targets, int n, LOCKMODE lockmode);
extern int64 erasure_erase_derived(int64 request_id, ErasureTarget *t, StringInfo json,
								   StringInfo ridbytes);

/* erasure_policy.c */
extern bool erasure_policy_of(Oid relid, int32 *min_parents);
/* erasure_execute.c: shared with erasure_reapply.c */
extern void erasure_check_delete_runs(Oid relid);
/* erasure_index.c */
extern int	erasure_history_sync(Oid relid, const TrackedTable *tt);
extern void erasure_history_tracked(Oid relid, const TrackedTable *tt);

/* erasure_subject.c */
extern Oid	erasure_eq_operator(Oid typid, const char *col);

/* erasure_request.c */
extern char *erasure_text_arg(FunctionCallInfo fcinfo, int argno, const char *what,
							  int max_len);
extern int32 erasure_subject_hash(const char *subject, size_t len, int32 version,
								  bool create, uint8 *out);
extern bool erasure_lookup_request(const char *reference, bool latest,
								   ErasureRequest *req);
extern void erasure_report_no_request(const char *reference);
extern void erasure_check_subject(const ErasureRequest *req, text *subject);
extern char *erasure_hex(const uint8 *bytes, size_t len);
extern void erasure_lock_register(void);
extern bool erasure_approval_required(Snapshot snap);

/*
 * One row of the post-check (erasure_verify.c): a table (relid invalid if
 * it is no longer tracked) or, with summary, the request as a whole.
 * state: 1 ok, 0 a problem, -1 not checked.
 */
typedef struct ErasureCheckRow
{
	Oid			relid;
	char	   *name;
	bool		summary;
	int			state;
	char	   *detail;
} ErasureCheckRow;

/* erasure_verify.c */
extern List *erasure_post_check(const ErasureRequest *req, const char *subject,
								bool fresh, Jsonb *summary, bool later);

/* erasure_certificate.c */
extern void erasure_sort_rowid_bytes(char *bytes, int len);
extern Datum erasure_certificate_issue(const ErasureRequest *req, const char *subject,
									   const char *summary_json, int64 execute_seq);
extern bool erasure_certificate_valid(Jsonb *cert, bool notice);
extern Jsonb *erasure_stored_certificate(int64 id);

#endif							/* AISEC_ERASURE_INTERNAL_H */
