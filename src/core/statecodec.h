/*
 * statecodec.h
 *		Binary and JSON encoding shared by aisec's statistics states
 *		(contingency, histogram and category counts).
 *
 * A serialized state is a varlena whose first two payload bytes are a
 * format version and a kind tag; every multi-byte field after them is
 * little-endian, so a state moves between machines (or Citus nodes)
 * unchanged.  Readers check every length before trusting it and raise a
 * clear error, never crash, on truncated, oversized or unknown input.
 */
#ifndef AISEC_STATECODEC_H
#define AISEC_STATECODEC_H

#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#define STATE_FORMAT_VERSION	1

/* Kind tags: the second byte of every serialized state. */
#define STATE_KIND_CONTINGENCY	'C'
#define STATE_KIND_HISTOGRAM	'H'
#define STATE_KIND_CATEGORIES	'K'

/* A bounds-checked cursor over a serialized state. */
typedef struct StateReader
{
	const char *pos;			/* next byte to read */
	const char *end;			/* one past the last byte */
	const char *type_name;		/* SQL type named in errors */
} StateReader;

/* Writing: the buffer starts with room for the varlena header. */
extern void state_write_begin(StringInfo buf, char kind);
extern void state_write_u32(StringInfo buf, uint32 v);
extern void state_write_i64(StringInfo buf, int64 v);
extern void state_write_f64(StringInfo buf, double v);
extern void state_write_label(StringInfo buf, const char *data, uint32 len);
extern struct varlena *state_write_end(StringInfo buf);

/* Reading: begin checks the version and kind bytes. */
extern void state_read_begin(StateReader *r, const struct varlena *v,
							 char kind, const char *type_name);
extern uint32 state_read_u32(StateReader *r);
extern int64 state_read_count(StateReader *r);
extern double state_read_f64(StateReader *r);
extern const char *state_read_label(StateReader *r, uint32 *len);
extern void state_read_end(StateReader *r);
extern size_t state_read_left(const StateReader *r);
extern void state_corrupt(const char *type_name, const char *detail) pg_attribute_noreturn();

/* Labels are compared as bytes: shorter prefix first. */
extern int	label_cmp(const char *a, uint32 alen, const char *b, uint32 blen);
extern void check_label(const char *type_name, const char *data, uint32 len);

/* JSON text form: output helpers and a checked reader for input. */
extern void state_json_label(StringInfo buf, const char *data, uint32 len);
extern void state_json_append_f64(StringInfo buf, double v);
extern JsonbContainer *state_json_parse(const char *text, const char *type_name);
extern JsonbValue *state_json_field(JsonbContainer *obj, const char *key,
								  enum jbvType type, const char *type_name);
extern int64 state_json_count(JsonbValue *v, const char *type_name, const char *what);
extern double state_json_f64(JsonbValue *v, const char *type_name, const char *what);
extern int	state_json_length(JsonbValue *v);
extern JsonbValue *state_json_element(JsonbValue *v, int i, enum jbvType type,
									  const char *type_name, const char *what);
extern void state_json_bad_input(const char *type_name, const char *detail) pg_attribute_noreturn();

/* Aggregate support: the aggregate's memory context, or an error. */
extern MemoryContext state_agg_context(FunctionCallInfo fcinfo, const char *fn);
/* Binary receive: the rest of the message as a varlena (not yet validated). */
extern struct varlena *state_recv_bytes(StringInfo msg);


#endif							/* AISEC_STATECODEC_H */
