/*
 * lineage_internal.h
 *		What the files of src/lineage/ share: the edge encoding
 *		(lineage_codec.c), writing transforms and edges and finding row
 *		versions (lineage_store.c), auditing them (lineage_audit.c), the
 *		settings.  See doc/lineage.md.
 */
#ifndef AISEC_LINEAGE_INTERNAL_H
#define AISEC_LINEAGE_INTERNAL_H

#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

#include "versioning/versioning.h"

/* A parent rid's block: rid >> LINEAGE_BLOCK_SHIFT (doc/lineage.md). */
#define LINEAGE_BLOCK_SHIFT		18
#define LINEAGE_BLOCK_MASK		((INT64CONST(1) << LINEAGE_BLOCK_SHIFT) - 1)
#define LINEAGE_FORMAT			1
#define LINEAGE_FORMAT_RUN		2	/* a run of consecutive children */
#define LINEAGE_FORMAT_UP_RUN	4	/* the same, parents far apart: up only */
#define LINEAGE_FORMAT_DOWN_RUN	5	/* edges in parent order: down only */
#define LINEAGE_RUN_MAX			1024	/* children in one run row */
#define LINEAGE_RUN_SPAN		(4 * LINEAGE_RUN_MAX)	/* hi - lo of a run, at most */
#define LINEAGE_NAME_MAX		200
/* Width classes of the down index: point, up to LINEAGE_RUN_SPAN, a block. */
#define LINEAGE_WIDTH_CLASSES	3

/* One edge: child row version <- parent row version. */
typedef struct LineageEdge
{
	int64		child;
	int64		child_from;
	int64		parent;
	int64		parent_from;
} LineageEdge;

/* One parent row version, decoded. */
typedef struct LineageParent
{
	int64		rid;
	int64		valid_from;
} LineageParent;

/* aisec.lineage */
typedef enum LineageMode
{
	LINEAGE_ON,
	LINEAGE_TABLE,
	LINEAGE_OFF
} LineageMode;

extern int	lineage_mode;
extern int	lineage_memory_kb;		/* aisec.lineage_memory */
extern char *lineage_transform_name;

/* lineage_codec.c */
extern void lineage_encode(StringInfo buf, const LineageParent *parents, int n);
extern LineageParent *lineage_decode(const char *data, int len, int64 block, int *n);
extern void lineage_encode_run(StringInfo buf, int format, const int64 *parents, int n,
							   int64 valid_from, int64 lo);
extern void lineage_encode_down_run(StringInfo buf, const int64 *edges, int n,
									int64 valid_from, int64 lo);
extern bool lineage_is_down_run(const char *data, int len);
extern int64 *lineage_decode_down_run(const char *data, int len, int64 lo, int64 hi, int *n,
									  int64 *valid_from);
extern bool lineage_is_run(const char *data, int len);
extern int64 *lineage_decode_run(const char *data, int len, int64 lo, int64 hi, int *n,
								 int64 *valid_from);

/* lineage_store.c */
typedef struct LineageTransform
{
	const char *kind;
	const char *name;			/* NULL: aisec.transform, or none */
	int			nsources;
	int32	   *sources;
	int64	   *source_versions;
	int			ntargets;
	int32	   *targets;
	Oid			target_rel;		/* an untracked relation written, or InvalidOid */
	int			nuntracked;		/* untracked relations read (lineage_add_untracked) */
	Oid		   *untracked;
	bool		table_level;
	int64		edges;
	int64		fingerprint;	/* statement's query id; 0: none */
} LineageTransform;

extern int64 lineage_write_transform(int64 id, const LineageTransform *t);
extern void lineage_add_untracked(LineageTransform *t, Oid relid);
extern void lineage_add_untracked_plan(LineageTransform *t, PlannedStmt *ps);
extern int64 lineage_next_transform(void);
extern int64 lineage_write_edges(int64 transform, LineageEdge *edges, int nedges);
extern int64 lineage_write_runs(int64 transform, const int64 *pairs, int64 npairs,
								int64 child_from, int64 parent_from);
extern int64 lineage_write_sets(int64 transform, const int64 *recs, int64 nwords,
								int64 child_from, const LineageTransform *t);
extern int64 lineage_version_read(const LineageTransform *t, int64 parent);
extern const char *lineage_name(const char *given);
extern bool lineage_skipped(const char *what, const char *object);
extern void lineage_row_versions(const TrackedTable *tt, const int64 *rids, int n,
								 int64 at_most, bool live, int64 *versions);

/* lineage_record.c */
extern void lineage_copy_init(void);

/* lineage_openlineage.c */
extern void lineage_openlineage_init(void);

/*
 * lineage_audit.c: transforms and skips are audited as one entry per
 * transaction, action and transform name, written at commit; object is
 * the table written, or NULL.
 */
extern void lineage_audit_transform(const char *action, const char *object, int64 id,
									const LineageTransform *t);
extern void lineage_audit_transform_into(const char *action, const char *const *tables,
										 int ntables, int64 id, const LineageTransform *t);
extern void lineage_audit_skip(const char *what, const char *object);
extern void lineage_audit_init(void);

/* lineage_capture.c */
extern void lineage_capture_init(void);

/* lineage_rewrite.c: the columns it adds (doc/lineage.md "Automatic capture") */
#define LINEAGE_PARENT_COLUMN	"aisec_lineage_parent"	/* int8: a parent */
#define LINEAGE_PARENTS_COLUMN	"aisec_lineage_parents" /* int8[]: a group's */
#define LINEAGE_CHILD_COLUMN	"aisec_lineage_child"	/* int8: the row UPDATE writes */

extern bool lineage_rewrite(Query *q, const char **why);
extern AttrNumber lineage_rid_column(Oid relid);
extern bool lineage_installed(void);
extern bool lineage_is_tracked(Oid relid, TrackedTable *tt);

#endif							/* AISEC_LINEAGE_INTERNAL_H */
