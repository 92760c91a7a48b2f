/* ltools.c - vv.dot, vv.check_resolver, vv.command: seeing conflicts. */

/* The tools are Lua code (tools_source below, kept to what Lua 5.1 to 5.4
 * and LuaJIT all run) over a few C primitives, handed to it as a table T:
 *
 *   T.state(db, ks, key)    the key's whole state, tombstones too (from
 *                           vv_export), or nil when the key is unknown
 *   T.load(path, codec, instructions, memory)
 *                           a resolver script in its own sandbox (as a
 *                           keyspace would run it), or nil, message
 *   T.resolve(r, siblings, key)
 *                           ok, result bytes or message, instructions
 *                           and bytes of memory the call used
 *   T.exact(r), T.limits(r) count every instruction; r's budgets
 *   T.isstore(v)            is v an open store
 *
 * Stores are lvv.c's "vv.store" userdata, whose block starts with the
 * store's vv_db pointer (NULL once closed).  C memory held while Lua may
 * raise lives in a "vv.toolsbuf" userdata, so an error never leaks it. */

#include <stdlib.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "vv.h"
#include "lcodec.h"
#include "compat.h"
#include "resolver.h"
#include "ltools.h"

#define STORE   "vv.store"
#define TBUF    "vv.toolsbuf"
#define CHECKER "vv.checker"

/* The head of lvv.c's store userdata. */
typedef struct tstore {
    vv_db *db;
} tstore;

/* The open store at argument i. */
static vv_db *tl_checkdb(lua_State *L, int i)
{
    tstore *s = (tstore *)vvc_testudata(L, i, STORE);
    if (s == NULL) vvc_typeerror(L, i, "store");
    if (s->db == NULL) luaL_error(L, "attempt to use a closed store");
    return s->db;
}

/* T.isstore(v) -> true for an open store, false for a closed one, nil
 * for anything else. */
static int tl_isstore(lua_State *L)
{
    tstore *s = (tstore *)vvc_testudata(L, 1, STORE);
    if (s == NULL) lua_pushnil(L);
    else lua_pushboolean(L, s->db != NULL);
    return 1;
}

/* A string argument without NUL bytes (keyspace names). */
static const char *tl_checkks(lua_State *L, int i)
{
    size_t n;
    const char *s = luaL_checklstring(L, i, &n);
    if (strlen(s) != n) luaL_argerror(L, i, "keyspace name contains a NUL");
    return s;
}

/* Raise with the store's message. */
static int tl_fail(lua_State *L, vv_db *db, const char *fn, int rc)
{
    const char *m = vv_errmsg(db);
    return luaL_error(L, "%s: %s", fn, m && *m ? m : vv_strerror(rc));
}

/* ---- buffers owned by the Lua GC -------------------------------------- */

/* Push a new, empty buffer userdata. */
static vvi_buf *tl_newbuf(lua_State *L)
{
    vvi_buf *b = (vvi_buf *)lua_newuserdata(L, sizeof *b);
    vvi_buf_init(b);
    vvc_setmetatable(L, TBUF);
    return b;
}

/* __gc of a buffer; safe twice. */
static int tl_buf_gc(lua_State *L)
{
    vvi_buf *b = (vvi_buf *)luaL_checkudata(L, 1, TBUF);
    vvi_buf_free(b);
    return 0;
}

/* Push the node part of an actor name ("s0" of "s0.abcdefgh"). */
static void tl_pushnode(lua_State *L, const char *a, size_t n)
{
    size_t k;
    for (k = n; k > 0; k--)
        if (a[k - 1] == '.') { n = k - 1; break; }
    lua_pushlstring(L, a, n);
}

/* Set t.actor, t.node, t.counter of the table on top. */
static void tl_setdot(lua_State *L, const char *a, size_t alen,
                      uint64_t n)
{
    if (a != NULL) {
        lua_pushlstring(L, a, alen);
        lua_setfield(L, -2, "actor");
        tl_pushnode(L, a, alen);
        lua_setfield(L, -2, "node");
    }
    vvc_pushuint64(L, n);
    lua_setfield(L, -2, "counter");
}

/* ---- T.state --------------------------------------------------------- */

/* Read a name (varint length, bytes) of 1..VV_NODE_MAX bytes. */
static const char *tl_name(vvi_rd *r, size_t *len)
{
    uint64_t n = vvi_rd_varint(r);
    if (r->err || n < 1 || n > VV_NODE_MAX) {
        r->err = VV_ECORRUPT;
        return NULL;
    }
    *len = (size_t)n;
    return (const char *)vvi_rd_bytes(r, (size_t)n);
}

/* T.state(db, ks, key) -> {context={dots}, versions={ {actor=, node=,
 * counter=, timestamp=, tombstone=, value=bytes} }}, or nil. */
static int tl_state(lua_State *L)
{
    vv_db *db = tl_checkdb(L, 1);
    const char *ks = tl_checkks(L, 2);
    size_t klen, len = 0, alen = 0;
    const char *key = luaL_checklstring(L, 3, &klen);
    void *out = NULL;
    const char *s, *a;
    uint64_t n, i;
    vvi_rd r;
    int rc = vv_export(db, ks, key, klen, &out, &len);
    if (rc == VV_ENOTFOUND) {
        lua_pushnil(L);
        return 1;
    }
    if (rc) return tl_fail(L, db, "state", rc);
    lua_pushlstring(L, (const char *)out, len);     /* the bytes, kept */
    vv_free(out);
    s = lua_tolstring(L, -1, &len);
    if (len < 12) return luaL_error(L, "state: export too short");
    vvi_rd_init(&r, s + 4, len - 12);               /* magic .. checksum */
    n = vvi_rd_varint(&r);
    vvi_rd_bytes(&r, (size_t)n);                    /* the key */
    lua_createtable(L, 0, 2);
    n = vvi_rd_varint(&r);
    lua_createtable(L, n < 64 ? (int)n : 64, 0);
    for (i = 0; i < n && !r.err; i++) {
        a = tl_name(&r, &alen);
        lua_createtable(L, 0, 3);
        tl_setdot(L, a, a ? alen : 0, vvi_rd_varint(&r));
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "context");
    n = vvi_rd_varint(&r);
    lua_createtable(L, n < 64 ? (int)n : 64, 0);
    for (i = 0; i < n && !r.err; i++) {
        uint64_t c, ts, lt;
        const unsigned char *v;
        a = tl_name(&r, &alen);
        c = vvi_rd_varint(&r);
        ts = vvi_rd_varint(&r);
        lt = vvi_rd_varint(&r);
        v = vvi_rd_bytes(&r, (size_t)(lt >> 1));
        if (r.err) break;
        lua_createtable(L, 0, 6);
        tl_setdot(L, a, alen, c);
        vvc_pushuint64(L, ts);
        lua_setfield(L, -2, "timestamp");
        lua_pushboolean(L, (int)(lt & 1));
        lua_setfield(L, -2, "tombstone");
        lua_pushlstring(L, (const char *)v, (size_t)(lt >> 1));
        lua_setfield(L, -2, "value");
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "versions");
    if (r.err) return luaL_error(L, "state: the export is unreadable");
    return 1;
}

/* ---- the resolver checker's sandboxes -------------------------------- */

/* A "vv.checker" userdata: a loaded script and the budgets it runs under. */
typedef struct tl_checker {
    vvl_resolver *r;            /* NULL once collected */
    uint64_t instructions, memory;
} tl_checker;

/* The loaded resolver at argument i. */
static tl_checker *tl_tochecker(lua_State *L, int i)
{
    tl_checker *c = (tl_checker *)luaL_checkudata(L, i, CHECKER);
    if (c->r == NULL) luaL_error(L, "the resolver was freed");
    return c;
}

/* __gc of a loaded resolver; safe twice. */
static int tl_checker_gc(lua_State *L)
{
    tl_checker *c = (tl_checker *)luaL_checkudata(L, 1, CHECKER);
    vvl_resolver_free(c->r);
    c->r = NULL;
    return 0;
}

/* An optional whole-number argument >= 0 (0 when absent). */
static uint64_t tl_optu64(lua_State *L, int i)
{
    uint64_t v = 0;
    if (!lua_isnoneornil(L, i) && vvc_touint64(L, i, &v) != 0)
        luaL_argerror(L, i, "non-negative whole number expected");
    return v;
}

/* T.load(path, codec, instructions, memory) -> resolver, or nil, msg. */
static int tl_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    vv_ks_config cfg;
    tl_checker *c;
    char *err = NULL;
    int rc;
    memset(&cfg, 0, sizeof cfg);
    cfg.codec = luaL_optstring(L, 2, "msgpack");
    cfg.budget_instructions = tl_optu64(L, 3);
    cfg.budget_memory = tl_optu64(L, 4);
    c = (tl_checker *)lua_newuserdata(L, sizeof *c);
    memset(c, 0, sizeof *c);
    vvc_setmetatable(L, CHECKER);
    rc = vvl_resolver_load_file("check", path, &cfg, &c->r, &err);
    if (rc != VV_OK) {
        lua_pushnil(L);
        lua_pushstring(L, err ? err : vv_strerror(rc));
        free(err);
        return 2;
    }
    c->instructions = cfg.budget_instructions ? cfg.budget_instructions
                      : VVL_BUDGET_INSTRUCTIONS;
    c->memory = cfg.budget_memory ? cfg.budget_memory : VVL_BUDGET_MEMORY;
    return 1;
}

/* T.exact(r): count every instruction of r's calls. */
static int tl_exact(lua_State *L)
{
    vvl_resolver_exact(tl_tochecker(L, 1)->r);
    return 0;
}

/* T.limits(r) -> instruction budget, memory budget. */
static int tl_limits(lua_State *L)
{
    tl_checker *c = tl_tochecker(L, 1);
    vvc_pushuint64(L, c->instructions);
    vvc_pushuint64(L, c->memory);
    return 2;
}

/* Read field name of the table at t as a 64-bit whole number. */
static uint64_t tl_field_u64(lua_State *L, int t, const char *name)
{
    uint64_t v = 0;
    lua_getfield(L, t, name);
    if (vvc_touint64(L, -1, &v) != 0)
        luaL_error(L, "resolve: sibling field '%s' must be a whole number",
                   name);
    lua_pop(L, 1);
    return v;
}

/* T.resolve(r, siblings, key) -> ok, bytes or message, instructions,
 * memory.  Each sibling is {bytes=, actor=, counter=, timestamp=}, bytes
 * already encoded with the codec r was loaded with. */
static int tl_resolve(lua_State *L)
{
    tl_checker *c = tl_tochecker(L, 1);
    size_t n, i, klen, outlen = 0;
    const char *key;
    vv_sibling *sibs;
    vvi_buf *ob, *eb;
    void *out = NULL;
    char *err = NULL;
    uint64_t steps = 0;
    size_t mem = 0;
    int rc;
    luaL_checktype(L, 2, LUA_TTABLE);
    key = luaL_checklstring(L, 3, &klen);
    lua_settop(L, 3);
    n = vvc_rawlen(L, 2);
    luaL_argcheck(L, n >= 1 && n <= 100000, 2, "1 to 100000 siblings");
    sibs = (vv_sibling *)lua_newuserdata(L, n * sizeof *sibs);   /* 4 */
    luaL_checkstack(L, 4, NULL);
    for (i = 0; i < n; i++) {
        vv_sibling *s = &sibs[i];
        size_t k;
        lua_rawgeti(L, 2, (int)i + 1);
        if (!lua_istable(L, -1))
            return luaL_error(L, "resolve: sibling %d is not a table",
                              (int)i + 1);
        lua_getfield(L, -1, "bytes");
        lua_getfield(L, -2, "actor");
        if (!lua_isstring(L, -2) || !lua_isstring(L, -1))
            return luaL_error(L, "resolve: sibling %d needs bytes and actor",
                              (int)i + 1);
        /* the strings stay referenced by the siblings table (argument 2) */
        s->value = lua_tolstring(L, -2, &s->len);
        s->actor = lua_tolstring(L, -1, &s->actor_len);
        s->node_len = s->actor_len;
        for (k = s->actor_len; k > 0; k--)
            if (s->actor[k - 1] == '.') { s->node_len = k - 1; break; }
        lua_pop(L, 2);
        s->counter = tl_field_u64(L, lua_gettop(L), "counter");
        s->timestamp = tl_field_u64(L, lua_gettop(L), "timestamp");
        lua_pop(L, 1);
    }
    ob = tl_newbuf(L);                  /* own the result and the message */
    eb = tl_newbuf(L);
    rc = vvl_resolve(c->r, "check", key, klen, sibs, n, &out, &outlen, &err);
    ob->p = (unsigned char *)out;
    ob->len = ob->cap = outlen;
    eb->p = (unsigned char *)err;
    vvl_resolver_usage(c->r, &steps, &mem);
    lua_pushboolean(L, rc == VV_OK);
    if (rc == VV_OK) lua_pushlstring(L, (const char *)out, outlen);
    else lua_pushstring(L, err ? err : vv_strerror(rc));
    vvi_buf_free(ob);
    vvi_buf_free(eb);
    vvc_pushuint64(L, steps);
    vvc_pushuint64(L, (uint64_t)mem);
    return 4;
}

/* ---- the tools, in Lua ------------------------------------------------ */
/* Run with the module table and T; it sets vv.dot, vv.check_resolver and
 * vv.command.  One Lua line per entry; long lines are split in pieces. */
static const char *const tools_source[] = {
    "-- vv.dot, vv.check_resolver, vv.command (Lua 5.1 to 5.4, LuaJIT)\n",
    "local vv, T = ...\n",
    "local type, pairs, ipairs, tostring, error, pcall =\n",
    "  type, pairs, ipairs, tostring, error, pcall\n",
    "local setmetatable, next = setmetatable, next\n",
    "local concat, sort = table.concat, table.sort\n",
    "local format, byte, char = string.format, string.byte, string.char\n",
    "local sub, floor, io = string.sub, math.floor, io\n",
    "\n",
    "-- ==== showing values ===========================================\n",
    "\n",
    "-- s as a quoted string; with ascii, bytes outside ASCII as \\xNN.\n",
    "local function quote(s, ascii)\n",
    "  local out = { '\"' }\n",
    "  for i = 1, #s do\n",
    "    local b = byte(s, i)\n",
    "    local c\n",
    "    if b == 34 then c = '\\\\\"'\n",
    "    elseif b == 92 then c = '\\\\\\\\'\n",
    "    elseif b == 10 then c = '\\\\n'\n",
    "    elseif b >= 32 and b < 127 then c = char(b)\n",
    "    elseif b >= 128 and not ascii then c = char(b)\n",
    "    else c = format('\\\\x%02x', b) end\n",
    "    out[#out + 1] = c\n",
    "  end\n",
    "  out[#out + 1] = '\"'\n",
    "  return concat(out)\n",
    "end\n",
    "\n",
    "local rank = { number = 1, string = 2, boolean = 3 }\n",
    "\n",
    "-- A total order over table keys, for a stable display.\n",
    "local function keyless(a, b)\n",
    "  local ta, tb = type(a), type(b)\n",
    "  if ta ~= tb then return (rank[ta] or 4) < (rank[tb] or 4) end\n",
    "  if ta == \"number\" or ta == \"string\" then return a < b end\n",
    "  return tostring(a) < tostring(b)\n",
    "end\n",
    "\n",
    "-- Is t a list (keys exactly 1..#t)?\n",
    "local function islist(t)\n",
    "  local n = 0\n",
    "  for _ in pairs(t) do n = n + 1 end\n",
    "  return n == #t\n",
    "end\n",
    "\n",
    "-- A short text for a value: strings quoted, lists [..], records "
    "{k=..}.\n",
    "-- Longer than max: cut, with \"...\".\n",
    "local function show(v, max, ascii)\n",
    "  max = max or 40\n",
    "  local parts, len = {}, 0\n",
    "  local function put(s)\n",
    "    parts[#parts + 1] = s\n",
    "    len = len + #s\n",
    "  end\n",
    "  local function walk(x, depth)\n",
    "    if len > max then return end\n",
    "    local t = type(x)\n",
    "    if t == \"string\" then\n",
    "      put(quote(x, ascii))\n",
    "    elseif t ~= \"table\" then\n",
    "      put(tostring(x))\n",
    "    elseif depth > 4 then\n",
    "      put(\"{...}\")\n",
    "    elseif islist(x) then\n",
    "      put(\"[\")\n",
    "      for i = 1, #x do\n",
    "        if i > 1 then put(\", \") end\n",
    "        walk(x[i], depth + 1)\n",
    "        if len > max then return end\n",
    "      end\n",
    "      put(\"]\")\n",
    "    else\n",
    "      local keys = {}\n",
    "      for k in pairs(x) do keys[#keys + 1] = k end\n",
    "      sort(keys, keyless)\n",
    "      put(\"{\")\n",
    "      for i, k in ipairs(keys) do\n",
    "        if i > 1 then put(\", \") end\n",
    "        if type(k) == \"string\" and k:match(\"^[%a_][%w_]*$\") "
    "then put(k)\n",
    "        else put(\"[\"); walk(k, depth + 1); put(\"]\") end\n",
    "        put(\"=\")\n",
    "        walk(x[k], depth + 1)\n",
    "        if len > max then return end\n",
    "      end\n",
    "      put(\"}\")\n",
    "    end\n",
    "  end\n",
    "  walk(v, 0)\n",
    "  local s = concat(parts)\n",
    "  if #s > max then s = sub(s, 1, max) .. \"...\" end\n",
    "  return s\n",
    "end\n",
    "\n",
    "-- The first bytes of a stored value (encoded with codec) as text; "
    "len is\n",
    "-- the whole value's length.\n",
    "local function preview(bytes, len, codec, ascii)\n",
    "  if codec == \"raw\" then\n",
    "    local s = quote(bytes, ascii)\n",
    "    if len > #bytes then s = sub(s, 1, -2) .. '...\"' end\n",
    "    return s\n",
    "  end\n",
    "  if #bytes >= len then\n",
    "    local ok, v = pcall(vv.decode, bytes)\n",
    "    if ok then return show(v, 36, ascii) end\n",
    "  end\n",
    "  local b = byte(bytes, 1) or 0\n",
    "  local start\n",
    "  if b >= 0xa0 and b <= 0xbf then start = 2\n",
    "  elseif b == 0xd9 then start = 3\n",
    "  elseif b == 0xda then start = 4\n",
    "  elseif b == 0xdb then start = 6 end\n",
    "  if start then return sub(quote(sub(bytes, start), ascii), 1, -2) "
    ".. '...\"' end\n",
    "  if (b >= 0x90 and b <= 0x9f) or b == 0xdc or b == 0xdd then\n",
    "    return \"[...] (\" .. len .. \" bytes)\"\n",
    "  end\n",
    "  if (b >= 0x80 and b <= 0x8f) or b == 0xde or b == 0xdf then\n",
    "    return \"{...} (\" .. len .. \" bytes)\"\n",
    "  end\n",
    "  return \"(\" .. len .. \" bytes)\"\n",
    "end\n",
    "\n",
    "-- Days since 1970-01-01 to a civil date (proleptic Gregorian).\n",
    "local function civil(days)\n",
    "  local z = days + 719468\n",
    "  local era = floor(z / 146097)\n",
    "  local doe = z - era * 146097\n",
    "  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524)\n",
    "    - floor(doe / 146096)) / 365)\n",
    "  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))\n",
    "  local mp = floor((5 * doy + 2) / 153)\n",
    "  local d = doy - floor((153 * mp + 2) / 5) + 1\n",
    "  local m = mp < 10 and mp + 3 or mp - 9\n",
    "  local y = yoe + era * 400\n",
    "  if m <= 2 then y = y + 1 end\n",
    "  return y, m, d\n",
    "end\n",
    "\n",
    "-- Milliseconds since the epoch as \"2024-05-01 12:00:00.123\" "
    "(UTC).\n",
    "local function stamp(ms)\n",
    "  local s = floor(ms / 1000)\n",
    "  local days = floor(s / 86400)\n",
    "  local sec = s - days * 86400\n",
    "  local y, m, d = civil(days)\n",
    "  return format(\"%04d-%02d-%02d %02d:%02d:%02d.%03d\", y, m, d,\n",
    "    floor(sec / 3600), floor(sec % 3600 / 60), sec % 60, ms - s * "
    "1000)\n",
    "end\n",
    "\n",
    "-- \"node:counter\" of a dot.\n",
    "local function shortdot(d)\n",
    "  return (d.node or \"?\") .. \":\" .. tostring(d.counter)\n",
    "end\n",
    "\n",
    "-- ==== vv.dot ===================================================\n",
    "\n",
    "-- Text inside a DOT \"...\" string: \\ and \" escaped, other bytes "
    "ASCII.\n",
    "local function dq(s)\n",
    "  local out = {}\n",
    "  for i = 1, #s do\n",
    "    local b = byte(s, i)\n",
    "    if b == 34 or b == 92 then out[#out + 1] = \"\\\\\" .. char(b)\n",
    "    elseif b == 10 then out[#out + 1] = \"\\\\n\"\n",
    "    elseif b >= 32 and b < 127 then out[#out + 1] = char(b)\n",
    "    else out[#out + 1] = format(\"\\\\\\\\x%02x\", b) end\n",
    "  end\n",
    "  return '\"' .. concat(out) .. '\"'\n",
    "end\n",
    "\n",
    "-- Raise unless db is an open store.\n",
    "local function checkdb(fn, db)\n",
    "  local open = T.isstore(db)\n",
    "  if open == nil then\n",
    "    error(fn .. \": bad argument #1 (store expected, got \" .. "
    "type(db)\n",
    "      .. \")\", 3)\n",
    "  elseif not open then\n",
    "    error(fn .. \": attempt to use a closed store\", 3)\n",
    "  end\n",
    "end\n",
    "\n",
    "local function checkks(fn, ks, key)\n",
    "  if type(ks) ~= \"string\" then\n",
    "    error(fn .. \": bad argument #2 (keyspace name expected, got \"\n",
    "      .. type(ks) .. \")\", 3)\n",
    "  end\n",
    "  if type(key) ~= \"string\" then\n",
    "    error(fn .. \": bad argument #3 (key expected, got \" .. "
    "type(key) .. \")\", 3)\n",
    "  end\n",
    "end\n",
    "\n",
    "-- The graph of a key as db knows it: its history entries (when its\n",
    "-- keyspace keeps them) and its current versions.\n",
    "local function graph(db, ks, key)\n",
    "  local cfg = db:keyspace(ks) or {}\n",
    "  local codec = cfg.codec or \"msgpack\"\n",
    "  local state = T.state(db, ks, key)\n",
    "  local hist = db:history(ks, key)\n",
    "  local nodes, byid, edges = {}, {}, {}\n",
    "  local function node(d)\n",
    "    local id = d.actor and (d.actor .. \":\" .. tostring(d.counter))\n",
    "    local n = byid[id]\n",
    "    if not n then\n",
    "      n = { id = id, actor = d.actor, node = d.node, counter = "
    "d.counter }\n",
    "      byid[id] = n\n",
    "      nodes[#nodes + 1] = n\n",
    "    end\n",
    "    return n\n",
    "  end\n",
    "  for i, e in ipairs(hist) do\n",
    "    local n\n",
    "    if e.actor then\n",
    "      n = node(e)\n",
    "    else                                  -- a merge that only "
    "removed\n",
    "      n = { id = \"merge#\" .. i, merge = true }\n",
    "      nodes[#nodes + 1] = n\n",
    "    end\n",
    "    n.known, n.timestamp, n.tombstone, n.how = true, e.timestamp,\n",
    "      e.tombstone, e.how\n",
    "    n.text = e.tombstone and \"(deleted)\"\n",
    "      or preview(e.preview, e.value_len, codec, true)\n",
    "    for _, r in ipairs(e.replaced) do\n",
    "      edges[#edges + 1] = { from = n, to = node(r), how = e.how }\n",
    "    end\n",
    "  end\n",
    "  if state then\n",
    "    for _, v in ipairs(state.versions) do\n",
    "      local n = node(v)\n",
    "      n.known, n.current, n.timestamp, n.tombstone = true, true,\n",
    "        v.timestamp, v.tombstone\n",
    "      n.text = v.tombstone and \"(deleted)\"\n",
    "        or preview(v.value, #v.value, codec, true)\n",
    "    end\n",
    "  end\n",
    "  return { nodes = nodes, edges = edges, state = state, history = "
    "hist,\n",
    "    config = cfg }\n",
    "end\n",
    "\n",
    "-- Order nodes by time, then dot, so the text is the same every "
    "time.\n",
    "local function nodeless(a, b)\n",
    "  local ta, tb = a.timestamp or -1, b.timestamp or -1\n",
    "  if ta ~= tb then return ta < tb end\n",
    "  return tostring(a.id) < tostring(b.id)\n",
    "end\n",
    "\n",
    "local function ctxtext(state)\n",
    "  if not state then return \"{}\" end\n",
    "  local t = {}\n",
    "  for i, c in ipairs(state.context) do t[i] = shortdot(c) end\n",
    "  return \"{\" .. concat(t, \", \") .. \"}\"\n",
    "end\n",
    "\n",
    "function vv.dot(db, ks, key)\n",
    "  checkdb(\"dot\", db)\n",
    "  checkks(\"dot\", ks, key)\n",
    "  local g = graph(db, ks, key)\n",
    "  local out = {}\n",
    "  local function w(...) out[#out + 1] = concat({ ... }) end\n",
    "  local live = 0\n",
    "  if g.state then\n",
    "    for _, v in ipairs(g.state.versions) do\n",
    "      if not v.tombstone then live = live + 1 end\n",
    "    end\n",
    "  end\n",
    "  local title = format(\"keyspace %s, key %s at %s\\ncontext %s; %d "
    "sibling%s\",\n",
    "    show(ks, 40, true), show(key, 40, true), db:actor(), "
    "ctxtext(g.state),\n",
    "    live, live == 1 and \"\" or \"s\")\n",
    "  if #g.history == 0 then\n",
    "    title = title .. ((g.config.history or 0) > 0\n",
    "      and \"; no history kept yet\" or \"; history off: current "
    "versions only\")\n",
    "  end\n",
    "  w(\"digraph vv {\")\n",
    "  w(\"  graph [rankdir=BT, labelloc=t, fontname=\\\"Helvetica\\\", "
    "fontsize=12,\",\n",
    "    \" label=\", dq(title), \"];\")\n",
    "  w(\"  node [shape=box, style=rounded, fontname=\\\"Helvetica\\\", "
    "fontsize=10];\")\n",
    "  w(\"  edge [fontname=\\\"Helvetica\\\", fontsize=9];\")\n",
    "  sort(g.nodes, nodeless)\n",
    "  for _, n in ipairs(g.nodes) do\n",
    "    local attrs\n",
    "    if n.merge then\n",
    "      attrs = \"shape=ellipse, style=dashed, label=\" ..\n",
    "        dq(\"merge\\nremoved versions\\n\" .. stamp(n.timestamp))\n",
    "    elseif not n.known then\n",
    "      attrs = \"style=dotted, fontcolor=\\\"#777777\\\", label=\" ..\n",
    "        dq(shortdot(n) .. \"\\n(not in the kept history)\")\n",
    "    else\n",
    "      local lines = { n.text, shortdot(n) .. \"  \" .. n.actor }\n",
    "      if n.how then\n",
    "        lines[#lines + 1] = n.how == \"merge\" and \"arrived by "
    "merge\"\n",
    "          or \"written here\"\n",
    "      end\n",
    "      lines[#lines + 1] = stamp(n.timestamp)\n",
    "      if n.current and not n.tombstone then\n",
    "        attrs = \"style=\\\"rounded,filled,bold\\\", "
    "fillcolor=\\\"#ffe9a8\\\", \" ..\n",
    "          \"penwidth=2, label=\" .. dq(\"sibling\\n\" .. "
    "concat(lines, \"\\n\"))\n",
    "      elseif n.current then\n",
    "        attrs = \"style=\\\"rounded,dashed,filled\\\", "
    "fillcolor=\\\"#e8e8e8\\\", \" ..\n",
    "          \"label=\" .. dq(\"tombstone\\n\" .. concat(lines, "
    "\"\\n\"))\n",
    "      elseif n.tombstone then\n",
    "        attrs = \"style=\\\"rounded,dashed\\\", "
    "color=\\\"#888888\\\", \" ..\n",
    "          \"fontcolor=\\\"#555555\\\", label=\" .. dq(concat(lines, "
    "\"\\n\"))\n",
    "      else\n",
    "        attrs = \"color=\\\"#888888\\\", fontcolor=\\\"#555555\\\", "
    "label=\" ..\n",
    "          dq(concat(lines, \"\\n\"))\n",
    "      end\n",
    "    end\n",
    "    w(\"  \", dq(n.id), \" [\", attrs, \"];\")\n",
    "  end\n",
    "  for _, e in ipairs(g.edges) do\n",
    "    w(\"  \", dq(e.from.id), \" -> \", dq(e.to.id), e.how == "
    "\"merge\"\n",
    "      and \" [label=\\\"replaced (merge)\\\", style=dashed];\"\n",
    "      or \" [label=\\\"replaced\\\"];\")\n",
    "  end\n",
    "  w(\"}\")\n",
    "  return concat(out, \"\\n\") .. \"\\n\"\n",
    "end\n",
    "\n",
    "-- ==== vv.check_resolver ========================================\n",
    "\n",
    "-- Park-Miller: the same cases on every host and every run.\n",
    "local function prng(seed)\n",
    "  local x = seed % 2147483646 + 1\n",
    "  return function(n)\n",
    "    x = (x * 16807) % 2147483647\n",
    "    return x % n + 1\n",
    "  end\n",
    "end\n",
    "\n",
    "local WORDS = { \"\", \"a\", \"eggs\", \"milk\", \"bacon\", "
    "\"bread\", \"x y\", \"\\\"q\\\"\",\n",
    "  \"caf\\195\\169\" }\n",
    "local FIELDS = { \"name\", \"email\", \"n\", \"tags\", "
    "\"priority\", \"user\" }\n",
    "\n",
    "local function gen_number(r)\n",
    "  local k = r(6)\n",
    "  if k == 1 then return 0 end\n",
    "  if k == 2 then return -r(1000) end\n",
    "  if k == 3 then return r(100) + 0.5 end\n",
    "  return r(1000)\n",
    "end\n",
    "\n",
    "local function gen_string(r)\n",
    "  if r(2) == 1 then return WORDS[r(#WORDS)] end\n",
    "  local t = {}\n",
    "  for i = 1, r(8) - 1 do t[i] = char(96 + r(26)) end\n",
    "  return concat(t)\n",
    "end\n",
    "\n",
    "local function gen_item(r)\n",
    "  local k = r(3)\n",
    "  if k == 1 then return r(20) end\n",
    "  if k == 2 then return WORDS[1 + r(#WORDS - 1)] end\n",
    "  return r(2) == 1\n",
    "end\n",
    "\n",
    "local function gen_list(r)\n",
    "  local t = {}\n",
    "  for i = 1, r(5) - 1 do t[i] = gen_item(r) end\n",
    "  return t\n",
    "end\n",
    "\n",
    "local function gen_record(r)\n",
    "  local t = {}\n",
    "  for _ = 1, r(4) do\n",
    "    local f = FIELDS[r(#FIELDS)]\n",
    "    if f == \"n\" or f == \"priority\" then t[f] = r(10)\n",
    "    elseif f == \"tags\" then t[f] = gen_list(r)\n",
    "    elseif f == \"user\" then t[f] = ({ \"admin\", \"bob\", "
    "\"carol\" })[r(3)]\n",
    "    else t[f] = gen_string(r) end\n",
    "  end\n",
    "  return t\n",
    "end\n",
    "\n",
    "local KINDS = { gen_number, gen_string, gen_list, gen_record,\n",
    "  function(r) return r(2) == 1 end }\n",
    "\n",
    "local function gen_mixed(r, i, first)\n",
    "  local k = r(#KINDS)\n",
    "  if i == 2 and k == first then k = k % #KINDS + 1 end\n",
    "  return KINDS[k](r), k\n",
    "end\n",
    "\n",
    "local function copy(v)\n",
    "  if type(v) ~= \"table\" then return v end\n",
    "  local t = {}\n",
    "  for k, x in pairs(v) do t[copy(k)] = copy(x) end\n",
    "  return t\n",
    "end\n",
    "\n",
    "local ACTORS = { s0 = \"s0.aaaaaaaa\", s1 = \"s1.bbbbbbbb\", s2 = "
    "\"s2.cccccccc\",\n",
    "  s3 = \"s3.dddddddd\" }\n",
    "\n",
    "-- A sibling list as a store would give it: 2..4 versions with "
    "distinct\n",
    "-- dots, in (actor, counter) order; timestamps sometimes equal; "
    "values\n",
    "-- sometimes repeated.\n",
    "local function make_case(r, fam)\n",
    "  local n = 1 + r(3)\n",
    "  local sibs, counters, ts, first = {}, {}, 1700000000000 + "
    "r(100000), nil\n",
    "  for i = 1, n do\n",
    "    local node = \"s\" .. (r(4) - 1)\n",
    "    local actor = ACTORS[node]\n",
    "    counters[actor] = (counters[actor] or r(5)) + r(3)\n",
    "    if r(4) ~= 1 then ts = ts + r(5000) end\n",
    "    local v\n",
    "    if i >= (fam.mixed and 3 or 2) and r(4) == 1 then\n",
    "      v = copy(sibs[r(i - 1)].value)\n",
    "    elseif fam.mixed then\n",
    "      local k\n",
    "      v, k = gen_mixed(r, i, first)\n",
    "      first = first or k\n",
    "    else\n",
    "      v = fam.gen(r)\n",
    "    end\n",
    "    sibs[i] = { value = v, node = node, actor = actor,\n",
    "      counter = counters[actor], timestamp = ts }\n",
    "  end\n",
    "  sort(sibs, function(a, b)\n",
    "    if a.actor ~= b.actor then return a.actor < b.actor end\n",
    "    return a.counter < b.counter\n",
    "  end)\n",
    "  return sibs\n",
    "end\n",
    "\n",
    "-- Other orders of a list: every one for up to 3 siblings, else a "
    "few.\n",
    "local function permutations(S, r)\n",
    "  local n, out = #S, {}\n",
    "  local function make(idx)\n",
    "    local t = {}\n",
    "    for i, j in ipairs(idx) do t[i] = S[j] end\n",
    "    return t\n",
    "  end\n",
    "  if n == 2 then\n",
    "    out[1] = make({ 2, 1 })\n",
    "  elseif n == 3 then\n",
    "    local all = { { 1, 3, 2 }, { 2, 1, 3 }, { 2, 3, 1 }, { 3, 1, 2 "
    "},\n",
    "      { 3, 2, 1 } }\n",
    "    for i, idx in ipairs(all) do out[i] = make(idx) end\n",
    "  elseif n >= 4 then\n",
    "    local rev, rot = {}, {}\n",
    "    for i = 1, n do rev[i] = n + 1 - i; rot[i] = i % n + 1 end\n",
    "    out[1], out[2] = make(rev), make(rot)\n",
    "    local sh = {}\n",
    "    for i = 1, n do sh[i] = i end\n",
    "    for i = n, 2, -1 do\n",
    "      local j = r(i)\n",
    "      sh[i], sh[j] = sh[j], sh[i]\n",
    "    end\n",
    "    out[3] = make(sh)\n",
    "  end\n",
    "  return out\n",
    "end\n",
    "\n",
    "-- Strip the \"resolver for keyspace '...' (path): \" prefix and "
    "tracebacks.\n",
    "local function short_err(msg)\n",
    "  msg = tostring(msg)\n",
    "  msg = msg:gsub(\"^resolver for keyspace '[^']*' %b(): \", \"\")\n",
    "  msg = msg:gsub(\"\\nstack traceback:.*$\", \"\")\n",
    "  if #msg > 160 then msg = sub(msg, 1, 160) .. \"...\" end\n",
    "  return msg\n",
    "end\n",
    "\n",
    "local function classify(msg)\n",
    "  if msg:find(\"budget exceeded\", 1, true) then return \"budget\" "
    "end\n",
    "  if msg:find(\"unsupported return value\", 1, true)\n",
    "    or msg:find(\"the script returned nil\", 1, true) then\n",
    "    return \"returns\"\n",
    "  end\n",
    "  return \"error\"\n",
    "end\n",
    "\n",
    "local function sibtext(S)\n",
    "  local t = {}\n",
    "  for i, s in ipairs(S) do\n",
    "    t[i] = s.node .. \":\" .. tostring(s.counter) .. \"=\" .. "
    "show(s.value, 30)\n",
    "  end\n",
    "  return \"[\" .. concat(t, \", \") .. \"]\"\n",
    "end\n",
    "\n",
    "local function restext(res)\n",
    "  if res.ok then return show(res.value, 60) end\n",
    "  return \"error: \" .. res.err\n",
    "end\n",
    "\n",
    "local function same(a, b)\n",
    "  if a.ok ~= b.ok then return false end\n",
    "  return not a.ok or a.bytes == b.bytes\n",
    "end\n",
    "\n",
    "-- Size in words: \"2.1 KiB\".\n",
    "local function kib(n)\n",
    "  if n < 1024 then return n .. \" bytes\" end\n",
    "  if n < 1048576 then return format(\"%.1f KiB\", n / 1024) end\n",
    "  return format(\"%.1f MiB\", n / 1048576)\n",
    "end\n",
    "\n",
    "local TITLES = {\n",
    "  load = \"the script does not load\",\n",
    "  order = \"the result depends on the order of the siblings\",\n",
    "  idempotence = \"resolving a result with itself changes it\",\n",
    "  determinism = \"the same siblings gave different results\",\n",
    "  returns = \"the script returned a value vv cannot store\",\n",
    "  budget = \"a call ran out of its budget\",\n",
    "  errors = \"the script raised errors\",\n",
    "  replicas = \"three replicas with the same conflict resolved it "
    "differently\",\n",
    "}\n",
    "local CHECKS = { \"load\", \"order\", \"idempotence\", "
    "\"determinism\",\n",
    "  \"returns\", \"errors\", \"replicas\" }\n",
    "local OKTEXT = {\n",
    "  order = \"the result does not depend on the order of the "
    "siblings\",\n",
    "  idempotence = \"resolving a result with itself gives it back\",\n",
    "  determinism = \"same siblings, same result (twice, and in another "
    "sandbox)\",\n",
    "  returns = \"every result can be stored\",\n",
    "  replicas = \"three replicas with real conflicts agree\",\n",
    "}\n",
    "\n",
    "local OPTS = { samples = true, codec = true, cases = true, seed = "
    "true,\n",
    "  budget = true, key = true, replicas = true }\n",
    "\n",
    "local function argfail(msg) error(\"check_resolver: \" .. msg, 3) "
    "end\n",
    "\n",
    "-- Read and check the options.\n",
    "local function options(script, opts)\n",
    "  local ts = type(script)\n",
    "  if ts ~= \"string\" and ts ~= \"function\" then\n",
    "    argfail(\"bad argument #1 (script path or function expected, "
    "got \"\n",
    "      .. ts .. \")\")\n",
    "  end\n",
    "  if opts ~= nil and type(opts) ~= \"table\" then\n",
    "    argfail(\"bad argument #2 (table expected, got \" .. type(opts) "
    ".. \")\")\n",
    "  end\n",
    "  opts = opts or {}\n",
    "  for k in pairs(opts) do\n",
    "    if not OPTS[k] then argfail(\"unknown option '\" .. tostring(k) "
    ".. \"'\") end\n",
    "  end\n",
    "  local o = { codec = opts.codec or \"msgpack\", cases = opts.cases "
    "or 40,\n",
    "    seed = opts.seed or 1, key = opts.key or \"key\",\n",
    "    replicas = opts.replicas ~= false, samples = opts.samples,\n",
    "    budget = opts.budget or {} }\n",
    "  if o.codec ~= \"msgpack\" and o.codec ~= \"raw\" then\n",
    "    argfail(\"option 'codec' must be \\\"msgpack\\\" or "
    "\\\"raw\\\"\")\n",
    "  end\n",
    "  if type(o.cases) ~= \"number\" or o.cases < 1 or o.cases > 100000\n",
    "    or o.cases ~= floor(o.cases) then\n",
    "    argfail(\"option 'cases' must be a whole number from 1 to "
    "100000\")\n",
    "  end\n",
    "  if type(o.seed) ~= \"number\" or o.seed ~= floor(o.seed) or "
    "o.seed < 0 then\n",
    "    argfail(\"option 'seed' must be a non-negative whole number\")\n",
    "  end\n",
    "  if type(o.key) ~= \"string\" then argfail(\"option 'key' must be "
    "a string\") end\n",
    "  if type(o.budget) ~= \"table\" then\n",
    "    argfail(\"option 'budget' must be a table {instructions=, "
    "memory=}\")\n",
    "  end\n",
    "  for k, v in pairs(o.budget) do\n",
    "    if (k ~= \"instructions\" and k ~= \"memory\") or type(v) ~= "
    "\"number\"\n",
    "      or v < 0 or v ~= floor(v) then\n",
    "      argfail(\"option 'budget' takes whole numbers 'instructions' "
    "and \"\n",
    "        .. \"'memory'\")\n",
    "    end\n",
    "  end\n",
    "  if o.samples ~= nil then\n",
    "    if type(o.samples) ~= \"table\" or #o.samples == 0 then\n",
    "      argfail(\"option 'samples' must be a non-empty list of "
    "values\")\n",
    "    end\n",
    "    for i, v in ipairs(o.samples) do\n",
    "      local ok, err = pcall(vv.encode, v, o.codec)\n",
    "      if not ok then\n",
    "        argfail(\"sample \" .. i .. \" cannot be stored: \" .. "
    "short_err(err))\n",
    "      end\n",
    "    end\n",
    "  end\n",
    "  return o\n",
    "end\n",
    "\n",
    "-- A caller of the resolver: call(instance, siblings) -> result\n",
    "-- {ok=, value=, bytes=} or {ok=false, err=, kind=}.\n",
    "local function caller(script, o, usage)\n",
    "  local key, codec = o.key, o.codec\n",
    "  if type(script) == \"function\" then\n",
    "    return function(_, S)\n",
    "      local list = {}\n",
    "      for i, s in ipairs(S) do\n",
    "        list[i] = { value = copy(s.value), node = s.node, actor = "
    "s.actor,\n",
    "          counter = s.counter, timestamp = s.timestamp }\n",
    "      end\n",
    "      local ok, res = pcall(script, list, key)\n",
    "      if not ok then\n",
    "        return { ok = false, err = short_err(res), kind = \"error\" "
    "}\n",
    "      end\n",
    "      if res == nil then\n",
    "        return { ok = false, err = \"the function returned nil\",\n",
    "          kind = \"returns\" }\n",
    "      end\n",
    "      local eok, bytes = pcall(vv.encode, res, codec)\n",
    "      if not eok then\n",
    "        return { ok = false, kind = \"returns\",\n",
    "          err = \"unsupported return value: \" .. short_err(bytes) }\n",
    "      end\n",
    "      return { ok = true, bytes = bytes, value = vv.decode(bytes, "
    "codec) }\n",
    "    end\n",
    "  end\n",
    "  return function(inst, S)\n",
    "    for _, s in ipairs(S) do\n",
    "      if not s.bytes then s.bytes = vv.encode(s.value, codec) end\n",
    "    end\n",
    "    local ok, out, steps, mem = T.resolve(inst, S, key)\n",
    "    if inst == usage.inst then\n",
    "      if steps > usage.instructions then usage.instructions = steps "
    "end\n",
    "      if mem > usage.memory then usage.memory = mem end\n",
    "    end\n",
    "    if not ok then\n",
    "      local msg = short_err(out)\n",
    "      return { ok = false, err = msg, kind = classify(msg) }\n",
    "    end\n",
    "    return { ok = true, bytes = out, value = vv.decode(out, codec) }\n",
    "  end\n",
    "end\n",
    "\n",
    "-- Resolve S on three in-memory replicas through the store itself: "
    "each\n",
    "-- writes one sibling concurrently, they exchange states, each "
    "reads.\n",
    "local function replica_run(script, o, S)\n",
    "  local dbs, KS = {}, \"check\"\n",
    "  local cfg = { codec = o.codec }\n",
    "  if type(script) == \"string\" then\n",
    "    cfg.resolver = script:find(\"/\", 1, true) and script or \"./\" "
    ".. script\n",
    "    if next(o.budget) then cfg.budget = o.budget end\n",
    "  else\n",
    "    cfg.resolver = script\n",
    "  end\n",
    "  for i = 1, 3 do\n",
    "    dbs[i] = vv.open { node = \"r\" .. i }\n",
    "    dbs[i]:keyspace(KS, cfg)\n",
    "  end\n",
    "  for i, s in ipairs(S) do dbs[(i - 1) % 3 + 1]:put(KS, o.key, "
    "s.value) end\n",
    "  for i = 1, 3 do\n",
    "    local st = dbs[i]:export(KS, o.key)\n",
    "    if st then\n",
    "      for j = 1, 3 do if j ~= i then dbs[j]:merge(KS, o.key, st) "
    "end end\n",
    "    end\n",
    "  end\n",
    "  local out = {}\n",
    "  for i = 1, 3 do\n",
    "    local r = dbs[i]:get(KS, o.key)\n",
    "    if r.error then\n",
    "      out[i] = { ok = false, err = short_err(r.error) }\n",
    "    else\n",
    "      local bytes = vv.encode(r.value, o.codec)\n",
    "      out[i] = { ok = true, value = r.value, bytes = bytes }\n",
    "    end\n",
    "    out[i].n = #r.siblings\n",
    "    dbs[i]:close()\n",
    "  end\n",
    "  return out\n",
    "end\n",
    "\n",
    "local function report_text(rep)\n",
    "  local L = {}\n",
    "  L[#L + 1] = \"check-resolver \" .. rep.script\n",
    "  if rep.cases > 0 then\n",
    "    L[#L + 1] = format(\"  checked %d sibling lists (%s), %d "
    "calls\",\n",
    "      rep.cases, concat(rep.families, \", \"), rep.calls)\n",
    "  end\n",
    "  for _, c in ipairs(CHECKS) do\n",
    "    local p = rep.problems[c]\n",
    "    if p then\n",
    "      L[#L + 1] = \"  FAIL \" .. c .. \": \" .. p.message\n",
    "      for _, x in ipairs(p.example) do L[#L + 1] = \"         \" .. "
    "x end\n",
    "    elseif rep.ran[c] then\n",
    "      L[#L + 1] = \"  ok   \" .. c .. \": \" .. (OKTEXT[c] or "
    "rep.ran[c])\n",
    "    end\n",
    "  end\n",
    "  local b, bp = rep.budget, rep.problems.budget\n",
    "  if b.instructions then\n",
    "    L[#L + 1] = format(\"  %s budget: at most %d of %d "
    "instructions, \"\n",
    "      .. \"%s of %s memory per call\", bp and \"FAIL\" or \"ok  \",\n",
    "      b.instructions, b.max_instructions, kib(b.memory),\n",
    "      kib(b.max_memory))\n",
    "  end\n",
    "  if bp then\n",
    "    if not b.instructions then L[#L + 1] = \"  FAIL budget: \" .. "
    "bp.message end\n",
    "    for _, x in ipairs(bp.example) do L[#L + 1] = \"         \" .. "
    "x end\n",
    "  end\n",
    "  for _, n in ipairs(rep.notes) do L[#L + 1] = \"  note \" .. n end\n",
    "  local np = 0\n",
    "  for _ in pairs(rep.problems) do np = np + 1 end\n",
    "  L[#L + 1] = rep.ok and \"result: ok\" or format(\"result: FAIL "
    "(%d problem%s)\",\n",
    "    np, np == 1 and \"\" or \"s\")\n",
    "  return concat(L, \"\\n\")\n",
    "end\n",
    "\n",
    "local REPORT_MT = { __tostring = function(r) return r.text end }\n",
    "\n",
    "function vv.check_resolver(script, opts)\n",
    "  local o = options(script, opts)\n",
    "  local rep = { script = type(script) == \"string\" and script or "
    "\"(function)\",\n",
    "    cases = 0, calls = 0, families = {}, problems = {}, notes = {},\n",
    "    ran = {}, budget = {} }\n",
    "  local function fail(check, example)\n",
    "    if not rep.problems[check] then\n",
    "      rep.problems[check] = { check = check, message = "
    "TITLES[check],\n",
    "        example = example }\n",
    "    end\n",
    "  end\n",
    "  local function finish()\n",
    "    local n = 0\n",
    "    for _ in pairs(rep.problems) do n = n + 1 end\n",
    "    rep.ok = n == 0\n",
    "    rep.text = report_text(rep)\n",
    "    return rep.ok, setmetatable(rep, REPORT_MT)\n",
    "  end\n",
    "\n",
    "  local usage = { instructions = 0, memory = 0 }\n",
    "  local A, B\n",
    "  if type(script) == \"string\" then\n",
    "    local bi, bm = o.budget.instructions or 0, o.budget.memory or 0\n",
    "    local err\n",
    "    A, err = T.load(script, o.codec, bi, bm)\n",
    "    if not A then\n",
    "      fail(\"load\", { short_err(err) })\n",
    "      return finish()\n",
    "    end\n",
    "    B = T.load(script, o.codec, bi, bm)\n",
    "    T.exact(A)\n",
    "    usage.inst = A\n",
    "    local li, lm = T.limits(A)\n",
    "    rep.budget.max_instructions, rep.budget.max_memory = li, lm\n",
    "  end\n",
    "  local call0 = caller(script, o, usage)\n",
    "  local function call(inst, S)\n",
    "    rep.calls = rep.calls + 1\n",
    "    return call0(inst, S)\n",
    "  end\n",
    "\n",
    "  local fams\n",
    "  if o.samples then\n",
    "    local samples = o.samples\n",
    "    fams = { { name = \"samples\", gen = function(r)\n",
    "      return copy(samples[r(#samples)])\n",
    "    end } }\n",
    "  elseif o.codec == \"raw\" then\n",
    "    fams = { { name = \"strings\", gen = gen_string } }\n",
    "  else\n",
    "    fams = { { name = \"numbers\", gen = gen_number },\n",
    "      { name = \"strings\", gen = gen_string },\n",
    "      { name = \"lists\", gen = gen_list },\n",
    "      { name = \"records\", gen = gen_record },\n",
    "      { name = \"mixed\", mixed = true } }\n",
    "  end\n",
    "  if o.codec == \"raw\" then\n",
    "    for _, f in ipairs(fams) do\n",
    "      if f.name == \"samples\" then\n",
    "        for _, v in ipairs(o.samples) do\n",
    "          if type(v) ~= \"string\" then\n",
    "            argfail(\"codec \\\"raw\\\" takes string samples only\")\n",
    "          end\n",
    "        end\n",
    "      end\n",
    "    end\n",
    "  end\n",
    "\n",
    "  local accepted, okcount, errcount, stop = {}, 0, 0, false\n",
    "  rep.ran.order, rep.ran.idempotence, rep.ran.determinism = true, "
    "true, true\n",
    "  rep.ran.returns = true\n",
    "  for fi, fam in ipairs(fams) do\n",
    "    local r = prng(o.seed * 7919 + fi)\n",
    "    local fok, ferr, firsterr = 0, 0, nil\n",
    "    if stop then break end\n",
    "    rep.families[#rep.families + 1] = fam.name\n",
    "    for _ = 1, o.cases do\n",
    "      if stop then break end\n",
    "      local S = make_case(r, fam)\n",
    "      rep.cases = rep.cases + 1\n",
    "      local res = call(A, S)\n",
    "      if res.kind == \"budget\" then\n",
    "        stop = true                 -- the rest would only spend "
    "budgets\n",
    "        rep.notes[#rep.notes + 1] = \"stopped at the first call "
    "that ran \"\n",
    "          .. \"out of its budget\"\n",
    "      end\n",
    "      if res.ok then\n",
    "        fok = fok + 1\n",
    "        if #S <= 3 and #accepted < 4 and fok % 3 == 1 then\n",
    "          accepted[#accepted + 1] = S\n",
    "        end\n",
    "      elseif res.kind == \"error\" then\n",
    "        ferr = ferr + 1\n",
    "        firsterr = firsterr or { S, res }\n",
    "      else\n",
    "        fail(res.kind, { sibtext(S) .. \" -> \" .. restext(res) })\n",
    "      end\n",
    "      local again = call(A, S)\n",
    "      if not same(res, again) then\n",
    "        fail(\"determinism\", { sibtext(S) .. \" -> \" .. "
    "restext(res),\n",
    "          \"the same again -> \" .. restext(again) })\n",
    "      elseif B then\n",
    "        local other = call(B, S)\n",
    "        if not same(res, other) then\n",
    "          fail(\"determinism\", { sibtext(S) .. \" -> \" .. "
    "restext(res),\n",
    "            \"in another sandbox -> \" .. restext(other) })\n",
    "        end\n",
    "      end\n",
    "      for _, P in ipairs(permutations(S, r)) do\n",
    "        local rp = call(A, P)\n",
    "        if not same(res, rp) then\n",
    "          fail(\"order\", { sibtext(S) .. \" -> \" .. restext(res),\n",
    "            sibtext(P) .. \" -> \" .. restext(rp) })\n",
    "          break\n",
    "        end\n",
    "      end\n",
    "      if res.ok then\n",
    "        local top, ts = 0, 0\n",
    "        for _, s in ipairs(S) do\n",
    "          if s.timestamp > ts then ts = s.timestamp end\n",
    "          if s.counter > top then top = s.counter end\n",
    "        end\n",
    "        local pair = {\n",
    "          { value = copy(res.value), bytes = res.bytes, node = "
    "\"s0\",\n",
    "            actor = ACTORS.s0, counter = top + 1, timestamp = ts + "
    "1 },\n",
    "          { value = copy(res.value), bytes = res.bytes, node = "
    "\"s1\",\n",
    "            actor = ACTORS.s1, counter = top + 1, timestamp = ts + "
    "2 } }\n",
    "        local ri = call(A, pair)\n",
    "        if not (ri.ok and ri.bytes == res.bytes) then\n",
    "          fail(\"idempotence\", { sibtext(S) .. \" -> \" .. "
    "restext(res),\n",
    "            sibtext(pair) .. \" -> \" .. restext(ri) })\n",
    "        end\n",
    "      end\n",
    "    end\n",
    "    okcount, errcount = okcount + fok, errcount + ferr\n",
    "    if ferr > 0 then\n",
    "      local ex = firsterr\n",
    "      if o.samples then\n",
    "        fail(\"errors\", { sibtext(ex[1]) .. \" -> \" .. "
    "restext(ex[2]) })\n",
    "      else\n",
    "        rep.notes[#rep.notes + 1] = format(\"raised an error for %d "
    "of %d \"\n",
    "          .. \"'%s' lists, e.g. %s -> %s\", ferr, o.cases, fam.name,\n",
    "          sibtext(ex[1]), ex[2].err)\n",
    "      end\n",
    "    end\n",
    "  end\n",
    "  if stop then                      -- too few cases to tell\n",
    "    rep.ran.order, rep.ran.idempotence, rep.ran.determinism = nil, "
    "nil, nil\n",
    "    rep.ran.returns = nil\n",
    "  end\n",
    "  if not stop then\n",
    "    rep.ran.errors = errcount == 0 and \"no errors\" or format(\"%d "
    "of %d \"\n",
    "      .. \"lists raised an error (notes below)\", errcount, "
    "rep.cases)\n",
    "  end\n",
    "  if okcount == 0 and errcount > 0 and not o.samples then\n",
    "    fail(\"errors\", { \"no generated sibling list was resolved; "
    "pass your \"\n",
    "      .. \"own values with opts.samples\" })\n",
    "  end\n",
    "  if errcount > 0 and not o.samples then\n",
    "    rep.notes[#rep.notes + 1] = \"errors leave the siblings in "
    "place and \"\n",
    "      .. \"show as the read's error; pass the values you store as \"\n",
    "      .. \"opts.samples to check them alone\"\n",
    "  end\n",
    "\n",
    "  if o.replicas and #accepted > 0 then\n",
    "    rep.ran.replicas = true\n",
    "    for _, S in ipairs(accepted) do\n",
    "      local ok, out = pcall(replica_run, script, o, S)\n",
    "      if not ok then\n",
    "        fail(\"replicas\", { \"the replicas could not be set up: \"\n",
    "          .. short_err(out) })\n",
    "        break\n",
    "      end\n",
    "      if not (same(out[1], out[2]) and same(out[1], out[3])) then\n",
    "        local ex = { \"values written on r1, r2, r3: \" .. "
    "sibtext(S) }\n",
    "        for i = 1, 3 do\n",
    "          ex[#ex + 1] = \"r\" .. i .. \" (\" .. out[i].n .. \" "
    "siblings) -> \"\n",
    "            .. restext(out[i])\n",
    "        end\n",
    "        fail(\"replicas\", ex)\n",
    "        break\n",
    "      end\n",
    "    end\n",
    "  end\n",
    "  if A then\n",
    "    rep.budget.instructions, rep.budget.memory = usage.instructions,\n",
    "      usage.memory\n",
    "    if usage.instructions * 2 > rep.budget.max_instructions then\n",
    "      rep.notes[#rep.notes + 1] = \"a call used more than half of "
    "its \"\n",
    "        .. \"instruction budget\"\n",
    "    end\n",
    "  end\n",
    "  return finish()\n",
    "end\n",
    "\n",
    "-- ==== vv.command: the REPL's ':' commands ======================\n",
    "\n",
    "-- Split a command line into words; \"double quotes\" keep spaces.\n",
    "local function words(line)\n",
    "  local out, i, n = {}, 1, #line\n",
    "  while i <= n do\n",
    "    local c = sub(line, i, i)\n",
    "    if c:match(\"%s\") then\n",
    "      i = i + 1\n",
    "    elseif c == '\"' then\n",
    "      local j = line:find('\"', i + 1, true)\n",
    "      if not j then error(\"unfinished \\\"quoted\\\" word\", 0) end\n",
    "      out[#out + 1] = sub(line, i + 1, j - 1)\n",
    "      i = j + 1\n",
    "    else\n",
    "      local j = line:find(\"%s\", i) or n + 1\n",
    "      out[#out + 1] = sub(line, i, j - 1)\n",
    "      i = j\n",
    "    end\n",
    "  end\n",
    "  return out\n",
    "end\n",
    "\n",
    "local HELP = [[\n",
    "commands (type them at the prompt; other lines are Lua):\n",
    "  :help                  this list\n",
    "  :keyspaces             the store's keyspaces and their settings\n",
    "  :stats [KS]            keys, tombstones, sibling histogram (of KS "
    "or all)\n",
    "  :siblings KS KEY       the key's versions as a table, and its "
    "value\n",
    "  :dot KS KEY FILE       write a Graphviz picture of the key to FILE\n",
    "                         (.dot: the text; .svg/.png/.pdf: drawn "
    "with dot)\n",
    "Words with spaces go in \"double quotes\".  The commands work on "
    "the store\n",
    "in the global 'db'; in Lua they are vv.command(db, \"siblings ks "
    "key\").]]\n",
    "\n",
    "local BUCKETS = { \"1\", \"2\", \"3\", \"4\", \"5-8\", \"9-16\", "
    "\"17-64\", \">64\" }\n",
    "\n",
    "local function statstext(st)\n",
    "  local h = {}\n",
    "  for i, name in ipairs(BUCKETS) do\n",
    "    if (st.siblings[i] or 0) > 0 then\n",
    "      h[#h + 1] = name .. \": \" .. tostring(st.siblings[i])\n",
    "    end\n",
    "  end\n",
    "  return format(\"keys %s, tombstones %s, most siblings %s, "
    "warnings %s, \"\n",
    "    .. \"bytes %s\\nkeys by sibling count: %s\", tostring(st.keys),\n",
    "    tostring(st.tombstones), tostring(st.max_siblings),\n",
    "    tostring(st.warnings), tostring(st.bytes),\n",
    "    #h > 0 and concat(h, \", \") or \"(none)\")\n",
    "end\n",
    "\n",
    "-- Columns of strings, left-aligned.\n",
    "local function columns(rows)\n",
    "  local width = {}\n",
    "  for _, row in ipairs(rows) do\n",
    "    for i, c in ipairs(row) do\n",
    "      if #c > (width[i] or 0) then width[i] = #c end\n",
    "    end\n",
    "  end\n",
    "  local out = {}\n",
    "  for r, row in ipairs(rows) do\n",
    "    local t = {}\n",
    "    for i, c in ipairs(row) do\n",
    "      t[i] = i < #row and c .. (\" \"):rep(width[i] - #c) or c\n",
    "    end\n",
    "    out[r] = \"  \" .. concat(t, \"  \")\n",
    "  end\n",
    "  return concat(out, \"\\n\")\n",
    "end\n",
    "\n",
    "local commands = {}\n",
    "\n",
    "function commands.help() return HELP end\n",
    "\n",
    "function commands.keyspaces(db)\n",
    "  local names = db:keyspaces()\n",
    "  if #names == 0 then return \"no keyspaces yet\" end\n",
    "  local rows = { { \"keyspace\", \"resolver\", \"codec\", \"keys\", "
    "\"warn/max\",\n",
    "    \"history\" } }\n",
    "  for _, ks in ipairs(names) do\n",
    "    local c = db:keyspace(ks) or {}\n",
    "    local st = db:stats(ks)\n",
    "    local res = c.resolver\n",
    "    if type(res) ~= \"string\" then res = \"function\" end\n",
    "    rows[#rows + 1] = { ks, res, tostring(c.codec),\n",
    "      tostring(st.keys), format(\"%s/%s\", (c.warn_siblings or 0) > "
    "0\n",
    "        and tostring(c.warn_siblings) or \"25\", (c.max_siblings or "
    "0) > 0\n",
    "        and tostring(c.max_siblings) or \"100\"),\n",
    "      (c.history or 0) > 0 and tostring(c.history) or \"off\" }\n",
    "  end\n",
    "  return columns(rows)\n",
    "end\n",
    "\n",
    "function commands.stats(db, ks)\n",
    "  if ks then return \"keyspace \" .. ks .. \": \" .. "
    "statstext(db:stats(ks)) end\n",
    "  return \"all keyspaces: \" .. statstext(db:stats())\n",
    "end\n",
    "\n",
    "function commands.siblings(db, ks, key)\n",
    "  if not key then error(\"usage: :siblings KS KEY\", 0) end\n",
    "  local r = db:get(ks, key)\n",
    "  if not r then return format(\"%s in %s: not found\", show(key), "
    "show(ks)) end\n",
    "  local rows = { { \"#\", \"node\", \"dot\", \"timestamp (UTC)\", "
    "\"value\" } }\n",
    "  for i, s in ipairs(r.siblings) do\n",
    "    rows[#rows + 1] = { tostring(i), s.node, shortdot(s), "
    "stamp(s.timestamp),\n",
    "      show(s.value, 60) }\n",
    "  end\n",
    "  local head = format(\"%s in %s: %d sibling%s, context %s\", "
    "show(key),\n",
    "    show(ks), #r.siblings, #r.siblings == 1 and \"\" or \"s\",\n",
    "    tostring(r.context))\n",
    "  local tail\n",
    "  if r.error then tail = \"resolver error: \" .. r.error\n",
    "  elseif r.value ~= nil then tail = \"value: \" .. show(r.value, "
    "200)\n",
    "  else tail = \"no single value: the keyspace keeps siblings\" end\n",
    "  return head .. \"\\n\" .. columns(rows) .. \"\\n\" .. tail\n",
    "end\n",
    "\n",
    "function commands.dot(db, ks, key, file)\n",
    "  if not file then error(\"usage: :dot KS KEY FILE\", 0) end\n",
    "  local text = vv.dot(db, ks, key)\n",
    "  local ext = file:match(\"%.(%a+)$\")\n",
    "  if ext == \"svg\" or ext == \"png\" or ext == \"pdf\" then\n",
    "    if not (io and io.popen) then\n",
    "      error(\"cannot run Graphviz here (no io.popen); write a .dot "
    "file\", 0)\n",
    "    end\n",
    "    local p = io.popen(\"dot -T\" .. ext .. \" -o '\" ..\n",
    "      file:gsub(\"'\", \"'\\\\''\") .. \"'\", \"w\")\n",
    "    if not p then error(\"cannot run Graphviz 'dot'\", 0) end\n",
    "    p:write(text)\n",
    "    local ok = p:close()\n",
    "    if not ok then\n",
    "      error(\"Graphviz 'dot' failed (is it installed? Debian: "
    "graphviz)\", 0)\n",
    "    end\n",
    "    return \"drew \" .. file\n",
    "  end\n",
    "  if not io then error(\"cannot write files here (no io library)\", "
    "0) end\n",
    "  local f, err = io.open(file, \"w\")\n",
    "  if not f then error(err, 0) end\n",
    "  f:write(text)\n",
    "  f:close()\n",
    "  return format(\"wrote %s (%d bytes); draw it with: dot -Tsvg -o "
    "%s.svg %s\",\n",
    "    file, #text, file:gsub(\"%.dot$\", \"\"), file)\n",
    "end\n",
    "\n",
    "function vv.command(db, line)\n",
    "  if type(line) ~= \"string\" then\n",
    "    error(\"command: bad argument #2 (string expected, got \" .. "
    "type(line)\n",
    "      .. \")\", 2)\n",
    "  end\n",
    "  local w = words((line:gsub(\"^%s*:\", \"\")))\n",
    "  local name = w[1]\n",
    "  if not name then return HELP end\n",
    "  local fn = commands[name]\n",
    "  if not fn then\n",
    "    error(\"unknown command ':\" .. name .. \"' (:help lists "
    "them)\", 0)\n",
    "  end\n",
    "  if name ~= \"help\" and not T.isstore(db) then\n",
    "    error(\"command: 'db' is not an open store\", 0)\n",
    "  end\n",
    "  return fn(db, w[2], w[3], w[4])\n",
    "end\n",
    NULL
};

/* ---- registration ------------------------------------------------------ */

/* lua_Reader over tools_source: one line at a time (one long literal
 * would pass the 4095 bytes ISO C promises). */
static const char *tl_reader(lua_State *L, void *ud, size_t *size)
{
    const char *const **line = (const char *const **)ud;
    const char *s = **line;
    (void)L;
    if (s == NULL) {
        *size = 0;
        return NULL;
    }
    (*line)++;
    *size = strlen(s);
    return s;
}

/* The primitives the Lua part gets as T. */
static const luaL_Reg tools_prim[] = {
    {"state", tl_state},
    {"load", tl_load},
    {"resolve", tl_resolve},
    {"exact", tl_exact},
    {"limits", tl_limits},
    {"isstore", tl_isstore},
    {NULL, NULL}
};

/* Make the metatables, then run the Lua part with the module and T. */
void vvl_open_tools(lua_State *L)
{
    int mod = lua_gettop(L);
    const char *const *line = tools_source;
    int rc;
    luaL_newmetatable(L, TBUF);
    lua_pushcfunction(L, tl_buf_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, CHECKER);
    lua_pushcfunction(L, tl_checker_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushstring(L, CHECKER);
    lua_setfield(L, -2, "__name");
    lua_pop(L, 1);
#if LUA_VERSION_NUM >= 502
    rc = lua_load(L, tl_reader, &line, "=vv.tools", "t");
#else
    rc = lua_load(L, tl_reader, &line, "=vv.tools");
#endif
    if (rc != 0) lua_error(L);
    lua_pushvalue(L, mod);
    lua_createtable(L, 0, 8);
    vvc_setfuncs(L, tools_prim, 0);
    lua_call(L, 2, 0);
}
