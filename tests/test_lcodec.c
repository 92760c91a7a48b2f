/* test_lcodec.c - the Lua value codec: round trips, canonical bytes,
 * refusals, corrupt input, agreement with msgpack-c, allocation failure. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <msgpack.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "common/lcodec.h"
#include "vv_int.h"                 /* vvi_fail_alloc_after */

/* enc(v [, "raw"]) -> bytes | nil, message */
static int l_enc(lua_State *L)
{
    int codec = vvl_codec(luaL_optstring(L, 2, "msgpack"));
    vv_buf b;
    char err[256];
    int rc;
    vv_buf_init(&b);
    rc = vvl_encode(L, 1, codec, &b, err, sizeof err);
    if (rc) {
        vv_buf_free(&b);
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushlstring(L, (const char *)b.p, b.len);
    vv_buf_free(&b);
    return 1;
}

/* dec(bytes [, "raw"]) -> true, value | false, message */
static int l_dec(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int codec = vvl_codec(luaL_optstring(L, 2, "msgpack"));
    char err[256];
    int top = lua_gettop(L);
    int rc = vvl_decode(L, s, n, codec, err, sizeof err);
    if (rc) {
        assert_int_equal(rc, VV_ECORRUPT);
        assert_int_equal(lua_gettop(L), top);
        lua_pushboolean(L, 0);
        lua_pushstring(L, err);
        return 2;
    }
    assert_int_equal(lua_gettop(L), top + 1);
    lua_pushboolean(L, 1);
    lua_insert(L, -2);
    return 2;
}

/* A fresh state with enc/dec and a deep-equality helper. */
static lua_State *newstate(void)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    lua_register(L, "enc", l_enc);
    lua_register(L, "dec", l_dec);
    assert_int_equal(luaL_dostring(L,
        "function deq(a, b)\n"
        "  if a == b then return true end\n"
        "  if type(a) ~= 'table' or type(b) ~= 'table' then\n"
        "    return a ~= a and b ~= b end\n"
        "  for k, v in pairs(a) do\n"
        "    if not deq(v, b[k]) then return false end\n"
        "  end\n"
        "  for k in pairs(b) do if a[k] == nil then return false end end\n"
        "  return true\n"
        "end\n"
        "function hex(s) return (s:gsub('.', function(c)\n"
        "  return string.format('%02x', c:byte()) end)) end\n"), 0);
    return L;
}

/* Run a chunk that asserts; fail the test with its message. */
static void run(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) != 0) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        fail();
    }
}

/* Run a chunk that asserts in a fresh state (see newstate). */
static void run_fresh(const char *code)
{
    lua_State *L = newstate();
    run(L, code);
    lua_close(L);
}

static void test_roundtrip(void **state)
{
    (void)state;
    run_fresh(
        "local vals = { true, false, 0, 1, -1, 127, 128, -32, -33, 255, 256,\n"
        "  65535, 65536, 2^31, -2^31, 2^40, -2^40, 0.5, -1.25, 1e300,\n"
        "  -1e-300,\n"
        "  1/0, -1/0, '', 'a', ('x'):rep(31), ('y'):rep(32), ('z'):rep(300),\n"
        "  ('w'):rep(70000), 'nul\\0byte\\255',\n"
        "  {}, {1, 2, 3}, {a = 1, b = {c = {d = 'e'}}},\n"
        "  {[1] = 'a', [3] = 'c'},\n"
        "  {[true] = 1, [false] = 0, [2.5] = 'f', [-7] = 'n', s = {}},\n"
        "  {{}, {{}}, {x = {1, {2, {3}}}}} }\n"
        "for i, v in ipairs(vals) do\n"
        "  local s = assert(enc(v))\n"
        "  local ok, w = dec(s)\n"
        "  assert(ok, w)\n"
        "  assert(deq(v, w), 'round trip of value ' .. i)\n"
        "  assert(enc(w) == s, 'stable bytes of value ' .. i)\n"
        "end\n"
        "local ok, w = dec(assert(enc(0/0)))\n"
        "assert(ok and w ~= w, 'NaN')\n");
}

static void test_integers(void **state)
{
    (void)state;
    run_fresh(
        "if math.type then\n"
        "  local big = math.maxinteger\n"
        "  for _, v in ipairs({0, 1, -1, big, math.mininteger, 2^53 + 1}) do\n"
        "    local ok, w = dec(enc(v))\n"
        "    assert(w == v and math.type(w) == math.type(v), tostring(v))\n"
        "  end\n"
        "  local ok, w = dec(enc(3.0))\n"
        "  assert(math.type(w) == 'float', 'a float stays a float')\n"
        "  local ok, w = dec(enc({n = 9007199254740993}))\n"
        "  assert(w.n == 9007199254740993, 'integers beyond 2^53 are exact')\n"
        "end\n"
        /* whole numbers are msgpack ints on every host */
        "assert(hex(enc(5)) == '05')\n"
        "assert(hex(enc(-1)) == 'ff')\n"
        "assert(hex(enc(300)) == 'cd012c')\n"
        "assert(hex(enc(0.5)) == 'cb3fe0000000000000')\n"
        /* canonical NaN */
        "assert(hex(enc(0/0)) == hex(enc(-(0/0))))\n"
        "assert(hex(enc(0/0)) == 'cb7ff8000000000000')\n");
}

static void test_canonical(void **state)
{
    (void)state;
    run_fresh(
        "local a, b = {}, {}\n"
        "local keys = {}\n"
        "for i = 1, 200 do keys[i] = 'k' .. i end\n"
        "for i = 1, 200 do a[keys[i]] = i end\n"
        "for i = 200, 1, -1 do b[keys[i]] = i end\n"
        "a[7.5], b[7.5] = true, true\n"
        "a[true], b[true] = 'x', 'x'\n"
        "assert(enc(a) == enc(b), 'insertion order does not matter')\n"
        /* a table built with holes filled later is still the same bytes */
        "local c, d = {}, {1, 2, 3, 4}\n"
        "c[4] = 4; c[2] = 2; c[3] = 3; c[1] = 1\n"
        "assert(enc(c) == enc(d))\n"
        "assert(hex(enc(d)) == '9401020304', 'a sequence is an array')\n"
        /* sparse: a map with keys in numeric order */
        "assert(hex(enc({[1] = 1, [3] = 3})) == '8201010303')\n"
        "assert(hex(enc({[1] = 'a', [200] = 'b', [2] = 'c'})) ==\n"
        "  '8301a16102a163ccc8a162')\n"
        /* nested maps are sorted too */
        "local e1 = {x = {b = 1, a = 2}, y = {1, 2}}\n"
        "local e2 = {y = {1, 2}, x = {a = 2, b = 1}}\n"
        "assert(enc(e1) == enc(e2))\n"
        "assert(hex(enc({b = 1, a = 2})) == '82a16102a16201')\n"
        /* maps inside arrays inside maps, each level's scratch reused */
        "local m = {{k = {{a = 1, b = {2}}, {c = 3}}}, {d = {e = 'f'}}}\n"
        "assert(hex(enc(m)) == '9281a16b9282a16101a1629102' ..\n"
        "  '81a1630381a16481a165a166')\n"
        "local ok, back = dec(enc(m))\n"
        "assert(ok and back[1].k[1].b[1] == 2 and back[2].d.e == 'f')\n"
        /* 20 entries: sorted past the few that the stack holds */
        "local big, keys = {}, {}\n"
        "for i = 1, 20 do big['k' .. i] = i; keys[i] = 'k' .. i end\n"
        "table.sort(keys)\n"
        "local ok2, b2 = dec(enc(big))\n"
        "assert(ok2 and b2.k20 == 20)\n"
        "assert(hex(enc(big)):sub(1, 10) == 'de0014a26b')\n");
}

static void test_refusals(void **state)
{
    (void)state;
    run_fresh(
        "local function refuse(v, pat)\n"
        "  local s, err = enc(v)\n"
        "  assert(s == nil, 'should refuse ' .. tostring(v))\n"
        "  assert(err:find(pat), err .. ' !~ ' .. pat)\n"
        "end\n"
        "refuse(print, 'cannot encode a function')\n"
        "refuse(io.stdout, 'cannot encode a userdata')\n"
        "refuse(coroutine.create(function() end), 'cannot encode a thread')\n"
        "refuse(nil, 'cannot encode nil')\n"
        "refuse({a = {b = {print}}}, 'function %(at %.a%.b%[1%]%)')\n"
        "refuse({['x y'] = print}, '%[\"x y\"%]')\n"
        "refuse({[{}] = 1}, 'table key of type table')\n"
        "local t = {}; t.self = t\n"
        "refuse(t, 'cycle %(at %.self%)')\n"
        "local u = {a = {}}; u.a.b = {u}\n"
        "refuse(u, 'cycle')\n"
        /* a table seen twice, but not inside itself, is fine */
        "local shared = {1}\n"
        "assert(enc({shared, shared}))\n"
        "local deep = 'x'\n"
        "for i = 1, 64 do deep = {deep} end\n"
        "assert(enc(deep), '64 levels are fine')\n"
        "local ok, w = dec(enc(deep))\n"
        "assert(ok, w)\n"
        "refuse({deep}, 'nested deeper than 64')\n");
}

static void test_refusals2(void **state)
{
    (void)state;
    run_fresh(
        "local s, err = enc(42, 'raw')\n"
        "assert(s == nil and err:find('strings only, got number'), err)\n"
        "assert(enc('\\0\\1\\2', 'raw') == '\\0\\1\\2')\n"
        "local ok, v = dec('\\193', 'raw')\n"
        "assert(ok and v == '\\193')\n");
}

static void test_corrupt(void **state)
{
    (void)state;
    run_fresh(
        "local function bad(s, pat)\n"
        "  local ok, err = dec(s)\n"
        "  assert(not ok, 'should refuse ' .. hex(s))\n"
        "  assert(err:find(pat), err .. ' !~ ' .. pat)\n"
        "end\n"
        "bad('', 'truncated')\n"
        "bad('\\193', 'reserved')\n"
        "bad('\\212\\1\\2', 'extension')\n"
        "bad('\\5\\5', 'trailing')\n"
        "bad('\\146\\1', 'truncated')\n"
        "bad('\\221\\255\\255\\255\\255', 'truncated')\n"
        "bad('\\223\\255\\255\\255\\255\\1', 'truncated')\n"
        "bad('\\219\\0\\0\\1\\0abc', 'truncated')\n"
        "bad('\\203\\0\\0', 'truncated')\n"
        "bad('\\130\\1\\1\\1\\2', 'duplicate')\n"
        "bad('\\129\\192\\1', 'map key')\n"
        "bad('\\129\\144\\1', 'map key')\n"
        "bad('\\129\\203\\127\\248\\0\\0\\0\\0\\0\\0\\1', 'NaN')\n"
        "local deep = ('\\145'):rep(65) .. '\\1'\n"
        "bad(deep, 'deeper')\n"
        "assert(dec(('\\145'):rep(64) .. '\\1'))\n"
        /* foreign but valid forms are read */
        "local ok, v = dec('\\196\\2hi')\n"
        "assert(ok and v == 'hi', 'bin8')\n"
        "ok, v = dec('\\202\\63\\192\\0\\0')\n"
        "assert(ok and v == 1.5, 'float32')\n"
        "ok, v = dec('\\208\\255')\n"
        "assert(ok and v == -1, 'int8')\n"
        "ok, v = dec('\\209\\128\\0')\n"
        "assert(ok and v == -32768, 'int16')\n"
        "ok, v = dec('\\206\\255\\255\\255\\255')\n"
        "assert(ok and v == 4294967295, 'uint32')\n"
        "ok, v = dec('\\207\\255\\255\\255\\255\\255\\255\\255\\255')\n"
        "assert(ok and v == 2^64, 'uint64 beyond lua_Integer reads as float')\n"
        "ok, v = dec('\\147\\1\\192\\3')\n"
        "assert(ok and v[1] == 1 and v[2] == nil and v[3] == 3, 'nil hole')\n"
        "ok, v = dec('\\130\\1\\192\\2\\2')\n"
        "assert(ok and v[1] == nil and v[2] == 2, 'nil map value')\n"
        "ok, v = dec('\\192')\n"
        "assert(ok and v == nil, 'top-level nil')\n");
}

/* Random bytes and every truncation of a valid encoding: never a crash,
 * always exactly one value or a clean refusal. */
static void test_fuzz(void **state)
{
    (void)state;
    run_fresh(
        "math.randomseed(7)\n"
        "local v = {a = {1, 2, {b = 'c', [9] = 2.5}}, d = ('q'):rep(40),\n"
        "  e = {true, false, -70000, 2^40}}\n"
        "local s = enc(v)\n"
        "for i = 0, #s - 1 do assert(not dec(s:sub(1, i)), i) end\n"
        "for n = 1, 3000 do\n"
        "  local t = {}\n"
        "  for i = 1, math.random(1, 24) do\n"
        "    t[i] = string.char(math.random(0, 255))\n"
        "  end\n"
        "  dec(table.concat(t))\n"
        "  local p = math.random(1, #s)\n"
        "  local m = s:sub(1, p - 1) .. string.char(math.random(0, 255))\n"
        "    .. s:sub(p + 1)\n"
        "  local ok, w = dec(m)\n"
        "  if ok then assert(enc(w) or true) end\n"
        "end\n");
}

/* Bytes from vvl_encode read back with msgpack-c's own unpacker, and
 * bytes from msgpack-c's packer read with vvl_decode. */
static void test_msgpack_c(void **state)
{
    lua_State *L = newstate();
    vv_buf b;
    char err[128];
    msgpack_unpacked u;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    size_t off = 0;
    (void)state;

    run(L, "v = {name = 'cart', items = {'apple', 'pear'}, n = -3, f = 0.25}");
    lua_getglobal(L, "v");
    vv_buf_init(&b);
    assert_int_equal(vvl_encode(L, -1, VVL_MSGPACK, &b, err, sizeof err),
                     VV_OK);
    lua_pop(L, 1);
    msgpack_unpacked_init(&u);
    assert_int_equal(msgpack_unpack_next(&u, (const char *)b.p, b.len, &off),
                     MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, b.len);
    assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
    assert_int_equal(u.data.via.map.size, 4);
    /* keys sorted by their encoded bytes (length first): f, n, name, items */
    assert_memory_equal(u.data.via.map.ptr[0].key.via.str.ptr, "f", 1);
    assert_int_equal(u.data.via.map.ptr[0].val.type, MSGPACK_OBJECT_FLOAT64);
    assert_memory_equal(u.data.via.map.ptr[1].key.via.str.ptr, "n", 1);
    assert_int_equal(u.data.via.map.ptr[1].val.type,
                     MSGPACK_OBJECT_NEGATIVE_INTEGER);
    assert_int_equal(u.data.via.map.ptr[1].val.via.i64, -3);
    assert_memory_equal(u.data.via.map.ptr[2].key.via.str.ptr, "name", 4);
    assert_memory_equal(u.data.via.map.ptr[3].key.via.str.ptr, "items", 5);
    assert_int_equal(u.data.via.map.ptr[3].val.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(u.data.via.map.ptr[3].val.via.array.size, 2);
    msgpack_unpacked_destroy(&u);
    vv_buf_free(&b);

    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "k", 1);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint64(&pk, 1);
    msgpack_pack_int32(&pk, -100000);
    msgpack_pack_bin_with_body(&pk, "\0b", 2);
    msgpack_pack_true(&pk);
    msgpack_pack_float(&pk, 2.5f);
    assert_int_equal(vvl_decode(L, sb.data, sb.size, VVL_MSGPACK, err,
                                sizeof err), VV_OK);
    lua_setglobal(L, "w");
    msgpack_sbuffer_destroy(&sb);
    run(L, "assert(deq(w, {k = {1, -100000, '\\0b'}, [true] = 2.5}))");
    lua_close(L);
}

/* Every allocation of an encode failing in turn: VV_ENOMEM, the output
 * buffer as it was, nothing leaked (ASan checks the last part). */
static void test_nomem(void **state)
{
    lua_State *L = newstate();
    vv_buf b;
    char err[128];
    long n;
    int ok = 0;
    (void)state;
    run(L, "v = {}\n"
           "for i = 1, 40 do v['k' .. i] = {i, {s = ('x'):rep(i * 9)}} end");
    lua_getglobal(L, "v");
    for (n = 1; n < 10000 && !ok; n++) {
        int rc;
        vv_buf_init(&b);
        vv_buf_add(&b, "pre", 3);
        vvi_fail_alloc_after(n);
        rc = vvl_encode(L, -1, VVL_MSGPACK, &b, err, sizeof err);
        vvi_fail_alloc_after(0);
        if (rc == VV_OK) {
            ok = 1;
        } else {
            assert_int_equal(rc, VV_ENOMEM);
            assert_string_equal(err, "out of memory");
            assert_int_equal(b.len, 3);
        }
        vv_buf_free(&b);
    }
    assert_true(ok);
    assert_true(n > 5);
    lua_close(L);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_canonical),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refusals2),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_msgpack_c),
        cmocka_unit_test(test_nomem),
    };
    return cmocka_run_group_tests_name("lcodec", tests, NULL, NULL);
}
