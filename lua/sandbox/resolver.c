/* resolver.c - loading resolver scripts, one lua_State per keyspace. */
/*
 * A keyspace with a script resolver owns a private lua_State: made here
 * with the counting allocator (resolver_budget.c), given its sandbox
 * (resolver_sandbox.c) and what calls need (resolver_call.c), then the
 * script is compiled, text only (binary chunks can crash the VM and are
 * refused before and by the loader), and run once to check that it gives
 * a resolve function.  resolver_int.h lists the files of the host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"                     /* LUA_JITLIBNAME under LuaJIT */
#if defined(LUA_JITLIBNAME)
#include "luajit.h"
#endif
#include "resolver_int.h"

/* Does the host refuse states with a custom allocator?  Set once per
 * process, before any script loads (vvl_resolver_host), or when a
 * lua_newstate fails under LuaJIT; then every sandbox is a state the
 * host makes, its allocator wrapped (rs_newstate). */
static int rs_host_own;

void vvl_resolver_host_alloc(int own)
{
    rs_host_own = own;
}

#if defined(LUA_JITLIBNAME)
/* Protected: does this LuaJIT refuse custom allocators?  Those without
 * GC64 on a 64-bit target do (ffi.abi("gc64") is false). */
static int rs_probe_host(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "ffi");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "abi");
    lua_pushliteral(L, "gc64");
    lua_call(L, 1, 1);
    lua_pushboolean(L, sizeof(void *) == 8 && !lua_toboolean(L, -1));
    return 1;
}
#endif

void vvl_resolver_host(lua_State *L)
{
#if defined(LUA_JITLIBNAME)
    lua_pushcfunction(L, rs_probe_host);
    if (lua_pcall(L, 0, 1, 0) == LUA_OK && lua_toboolean(L, -1))
        rs_host_own = 1;
    lua_pop(L, 1);
#else
    (void)L;
#endif
}

/* The sandbox's state, its bytes counted by vvl_rs_alloc: made with it,
 * or, when the host refuses custom allocators, made by the host with its
 * own allocator, which vvl_rs_alloc then wraps (r->inner).  NULL when
 * the host cannot make a state. */
static lua_State *rs_newstate(vvl_resolver *r)
{
    lua_State *L;
    if (!rs_host_own) {
        L = lua_newstate(vvl_rs_alloc, r);
#if defined(LUA_JITLIBNAME)
        if (!L) rs_host_own = 1;            /* LuaJIT refused: remember */
#endif
        if (L || !rs_host_own) return L;
    }
    if (!(L = luaL_newstate())) return NULL;
    r->inner = lua_getallocf(L, &r->inner_ud);
    r->mem_used = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 +
                  (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
    lua_setallocf(L, vvl_rs_alloc, r);
    return L;
}

/* What rs_setup needs: the resolver and the script text. */
typedef struct rs_load {
    vvl_resolver *r;
    const char *src;
    size_t len;
} rs_load;

/* Protected: build the sandbox and what calls need, compile the script
 * (text only) and keep it in the registry. */
static int rs_setup(lua_State *L)
{
    rs_load *ld = (rs_load *)lua_touserdata(L, 1);
    vvl_resolver *r = ld->r;
    int st;
    const char *src = ld->src;
    size_t len = ld->len;
    lua_settop(L, 0);
    vvl_rs_sandbox(L, r);
    vvl_rs_prepare(L, r);

    if (len > 0 && src[0] == '#') {             /* skip a "#!" line */
        const char *nl = memchr(src, '\n', len);
        len = nl ? len - (size_t)(nl - src) : 0;
        src = nl ? nl : src + ld->len;
    }
    if (len > 0 && src[0] == LUA_SIGNATURE[0])
        return luaL_error(L, "binary chunks are not accepted");
    lua_pushfstring(L, "@%s", r->path);
#if LUA_VERSION_NUM >= 502 || defined(LUA_JITLIBNAME)
    st = luaL_loadbufferx(L, src, len, lua_tostring(L, -1), "t");
#else
    st = luaL_loadbuffer(L, src, len, lua_tostring(L, -1));
#endif
    if (st == LUA_ERRSYNTAX) {
        lua_pushfstring(L, "syntax error: %s", lua_tostring(L, -1));
        return lua_error(L);
    }
    if (st != LUA_OK) return lua_error(L);
#if LUA_VERSION_NUM < 502
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
    lua_setfenv(L, -2);
#endif
    r->chunk_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* Close the state and free the resolver; NULL is a no-op. */
void vvl_resolver_free(void *ud)
{
    vvl_resolver *r = (vvl_resolver *)ud;
    if (!r) return;
    if (r->L && r->inner)               /* the host frees its own */
        lua_setallocf(r->L, r->inner, r->inner_ud);
    if (r->L) lua_close(r->L);
    free(r->ks);
    free(r->path);
    free(r);
}

/* Build the state and its sandbox, compile src and check that it gives a
 * resolve function; on failure *err explains (lua/sandbox/resolver.h). */
int vvl_resolver_load(const char *ks, const char *path, const char *src,
                      size_t len, const vv_ks_config *cfg,
                      vvl_resolver **out, char **err)
{
    vvl_resolver *r;
    rs_load ld;
    char msg[256];
    int codec, st;
    if (err) *err = NULL;
    if (!out) return VV_EINVAL;
    *out = NULL;
    if (!ks || !path || (!src && len > 0)) return VV_EINVAL;
    codec = vvl_codec(cfg ? cfg->codec : NULL);
    if (codec < 0) {
        if (err) *err = vvl_rs_errtext(ks, path, "unknown codec");
        return VV_EINVAL;
    }
    r = (vvl_resolver *)calloc(1, sizeof *r);
    if (!r) return VV_ENOMEM;
    r->codec = codec;
    vvl_rs_budgets(r, cfg);
    r->ks = vv_strndup(ks, strlen(ks));
    r->path = vv_strndup(path, strlen(path));
    if (!r->ks || !r->path) {
        vvl_resolver_free(r);
        if (err) *err = vvl_rs_errtext(ks, path, "out of memory");
        return VV_ENOMEM;
    }
    if (!(r->L = rs_newstate(r))) {
        vvl_resolver_free(r);
        if (err) *err = vvl_rs_errtext(ks, path, "sandbox unavailable (the "
                                       "Lua host could not make a state)");
        return VV_ENOMEM;
    }
#if defined(LUA_JITLIBNAME)
    luaJIT_setmode(r->L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
#endif
    ld.r = r;
    ld.src = src ? src : "";
    ld.len = len;
    msg[0] = 0;
    if (!lua_checkstack(r->L, 4)) st = LUA_ERRMEM;
    else {
        lua_pushcfunction(r->L, rs_setup);
        lua_pushlightuserdata(r->L, &ld);
        st = lua_pcall(r->L, 1, 0, 0);
    }
    if (st == LUA_OK) st = vvl_rs_probe(r, msg, sizeof msg);
    if (st != LUA_OK || msg[0]) {
        int rc = st == LUA_ERRMEM && !r->refused ? VV_ENOMEM : VV_ERESOLVER;
        if (err) *err = vvl_rs_message(r, st, msg);
        vvl_resolver_free(r);
        return rc;
    }
    lua_settop(r->L, 0);
    lua_gc(r->L, LUA_GCCOLLECT, 0);
    *out = r;
    return VV_OK;
}

/* Read at most VVL_SCRIPT_MAX bytes from path and load them. */
int vvl_resolver_load_file(const char *ks, const char *path,
                           const vv_ks_config *cfg, vvl_resolver **out,
                           char **err)
{
    FILE *f;
    char *buf, why[160];
    size_t n;
    int rc;
    if (err) *err = NULL;
    if (!out) return VV_EINVAL;
    *out = NULL;
    if (!ks || !path) return VV_EINVAL;
    f = fopen(path, "rb");
    if (!f) {
        snprintf(why, sizeof why, "cannot open the script: %s",
                 strerror(errno));
        if (err) *err = vvl_rs_errtext(ks, path, why);
        return VV_ERESOLVER;
    }
    buf = (char *)malloc(VVL_SCRIPT_MAX + 1);
    if (!buf) {
        fclose(f);
        return VV_ENOMEM;
    }
    n = fread(buf, 1, VVL_SCRIPT_MAX + 1, f);
    if (ferror(f) || n > VVL_SCRIPT_MAX) {
        snprintf(why, sizeof why, ferror(f) ? "cannot read the script: %s"
                 : "the script is larger than %s", ferror(f)
                 ? strerror(errno) : "1 MiB");
        if (err) *err = vvl_rs_errtext(ks, path, why);
        fclose(f);
        free(buf);
        return VV_ERESOLVER;
    }
    fclose(f);
    rc = vvl_resolver_load(ks, path, buf, n, cfg, out, err);
    free(buf);
    return rc;
}

/* ---- the public entry point ---------------------------------------------- */

/* Load the script at path and make it ks's resolver; on failure the
 * keyspace keeps its resolver and vv_errmsg(db) says why (core/vv.h). */
int vv_keyspace_script(vv_db *db, const char *ks, const char *path,
                       const vv_ks_config *cfg)
{
    vv_ks_config c;
    vvl_resolver *r = NULL;
    char *err = NULL, *codec = NULL;
    int rc;
    if (!db) return VV_EINVAL;
    if (!ks || !*ks || !path || !*path)
        return vv_db_fail(db, VV_EINVAL, "vv_keyspace_script: a keyspace "
                          "name and a script path are required");
    if (cfg) {
        c = *cfg;
    } else if (vv_keyspace_config(db, ks, &c) == VV_OK) {
        /* keep the keyspace's codec and limits; the strings are the
         * store's, so hold a copy of the codec across vv_keyspace */
        if (c.codec) {
            codec = vv_strndup(c.codec, strlen(c.codec));
            if (!codec)
                return vv_db_fail(db, VV_ENOMEM, "out of memory");
        }
        c.codec = codec;
    } else {
        memset(&c, 0, sizeof c);
    }
    rc = vvl_resolver_load_file(ks, path, &c, &r, &err);
    if (rc != VV_OK) {
        rc = vv_db_fail(db, rc, "%s", err ? err : vv_strerror(rc));
        free(err);
        free(codec);
        return rc;
    }
    c.resolver = VV_RESOLVE_CUSTOM;
    c.resolver_name = path;
    c.script = path;
    c.resolve = vvl_resolve;
    c.resolve_ud = r;
    c.resolve_free = vvl_resolver_free;
    rc = vv_keyspace(db, ks, &c);
    if (rc != VV_OK) vvl_resolver_free(r);
    free(codec);
    return rc;
}
