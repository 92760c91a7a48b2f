/* lcodec.h - Lua values <-> stored bytes (MessagePack, or raw strings).
 * Shared by the module (lvv*.c) and the resolver (resolver_call.c). */
#ifndef VV_LCODEC_H
#define VV_LCODEC_H
#include <stddef.h>
#include "lua.h"
#include "vv_bind.h"

#define VVL_MSGPACK 0
#define VVL_RAW     1

/* Codec id from a keyspace codec name (NULL/"msgpack" or "raw"); -1 if unknown. */
int vvl_codec(const char *name);

/* Encode the value at idx into out.  Refuses functions, userdata, threads,
 * nil inside tables, NaN keys, cycles and nesting deeper than 64 (and, with
 * VVL_RAW, anything but a string).  Integers stay integers on 5.3+.  Table
 * keys are written in one canonical order, so equal tables give equal bytes.
 * Returns VV_OK, or VV_EINVAL with a message in err[errlen]. */
int vvl_encode(lua_State *L, int idx, int codec, vv_buf *out,
               char *err, size_t errlen);

/* Decode exactly n bytes and push one value.  Returns VV_OK, or
 * VV_ECORRUPT (nothing pushed) with a message in err[errlen]. */
int vvl_decode(lua_State *L, const void *p, size_t n, int codec,
               char *err, size_t errlen);
#endif
