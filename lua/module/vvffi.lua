-- vvffi.lua - on LuaJIT: the hot calls of require "vv" through ffi.
--
-- luaopen_vv runs this chunk once on LuaJIT (lvv_ffi.c), with the module
-- table, the store methods, the keyspace handle methods, the address of
-- struct vvf_api (the C entry points) and X, the C API helpers and the
-- metatables.  It replaces db:get, put, delete, update, export, merge,
-- put_state, delete_state, get_state, the same calls of keyspace
-- handles, vv.merge_states and vv.state_key with Lua functions that call
-- C through ffi, so that a loop of them compiles.  Unless VV_FFI=0.
--
-- Each function gives what the C API function gives, with the same
-- errors: whenever its arguments are not the plain case (a wrong type, a
-- table value, a closed store, a value the keyspace's codec stores
-- differently) it hands the call, with the very same arguments, to the C
-- API function, which then raises as the store always did.  A tail call
-- keeps the caller's frame, so even the argument numbers and the
-- function's name in a message stay the same.  Results are built here: a
-- read of one sibling whose value is a string, number, boolean or nil
-- (decoded below), and the values written that are such (encoded below,
-- in vv's canonical MessagePack: lua/common/lcodec.c, docs/lua-api.md).
-- Tables, and reads of several siblings (resolvers), stay with C.
--
-- A read's context is a clock userdata, as on every host, so it works
-- with everything that takes a clock; new clocks come in batches from
-- one small C API helper (X.newclocks), and entry points fill them.  Errors raised here
-- use level 2 inside the replaced function itself, so the position they
-- name is the caller's, as for an error raised by C.  Nothing here walks
-- a table with next or pairs: some LuaJIT 2.1 builds miscompile next()
-- in traces (see lua/crdt/crdt.lua).
local vv, M, HM, apiud, X = ...
if os and os.getenv and os.getenv("VV_FFI") == "0" then return end
local has, ffi = pcall(require, "ffi")
if not has or type(ffi) ~= "table" then return end
local okbit, bit = pcall(require, "bit")
if not okbit then return end

local type, getmetatable, error, tonumber, ipairs = type, getmetatable,
  error, tonumber, ipairs
local floor = math.floor
local band, rshift = bit.band, bit.rshift
local cast, fstring = ffi.cast, ffi.string

if not pcall(ffi.typeof, "struct vv_ffi_api3") then
  ffi.cdef [[
struct vv_ffi_res3 {
  const uint8_t *p; size_t len;
  const char *actor; size_t actor_len, node_len;
  double counter, timestamp;
  int count, codec, heap, room, busy;
  const char *msg;
  void *mem;
};
struct vv_ffi_api3 {
  int version, res_size;
  int (*open)(void *, const char *);
  int (*get)(void *, const char *, size_t, const char *, size_t,
             struct vv_ffi_res3 *);
  int (*context)(void *, struct vv_ffi_res3 *);
  int (*readctx)(struct vv_ffi_res3 *);
  int (*take)(void *, struct vv_ffi_res3 *);
  int (*write)(void *, const char *, size_t, const char *, size_t, int,
               const uint8_t *, size_t, const char *, size_t, void *, int,
               struct vv_ffi_res3 *);
  int (*export_)(void *, const char *, size_t, const char *, size_t,
                 struct vv_ffi_res3 *);
  int (*merge)(void *, const char *, size_t, const char *, size_t,
               const char *, size_t, struct vv_ffi_res3 *);
  int (*merge_states)(const char *, size_t, const char *, size_t,
                      struct vv_ffi_res3 *);
  int (*state_key)(const char *, size_t, struct vv_ffi_res3 *);
  int (*state_put)(void *, const char *, size_t, const char *, size_t,
                   const char *, size_t, int, const uint8_t *, size_t,
                   const char *, size_t, void *, struct vv_ffi_res3 *);
  int (*state_get)(void *, const char *, size_t, const char *, size_t,
                   struct vv_ffi_res3 *);
  void (*release)(struct vv_ffi_res3 *);
  void (*clear)(void *);
};
]]
end

local api = cast("const struct vv_ffi_api3 *", apiud)
if api.version ~= 3 or api.res_size ~= ffi.sizeof("struct vv_ffi_res3") then
  return                                -- another vv's layout: keep C
end

local C_open, C_get, C_context, C_write = api.open, api.get, api.context,
  api.write
local C_readctx, C_take = api.readctx, api.take
local C_export, C_merge, C_merge_states = api.export_, api.merge,
  api.merge_states
local C_state_key, C_state_put, C_state_get, C_release = api.state_key,
  api.state_put, api.state_get, api.release
local C_clear = api.clear
local STORE, CLOCK0, CLOCK, HANDLE = X.STORE, X.CLOCK0, X.CLOCK, X.HANDLE
local newclocks, settle, readrest, decsib, encval, newres = X.newclocks,
  X.settle, X.readrest, X.decsib, X.encval, X.newres
local pcall = pcall

-- ==== the calls' slots ================================================
-- An entry point leaves its results in a slot (struct vv_ffi_res3 at the
-- head of a userdata of lvv_ffi.c): what a read found points into the
-- slot's own read, a clock made waits in its spare, bytes vv made stay
-- until released.  Reading them allocates (strings, tables, clocks), and
-- an allocation may run a finalizer that calls the store again, so each
-- call takes a slot that no other call uses (take: the one kept here,
-- unless busy) and gives it back at its end (give; readrest gives back
-- the slot it is passed).  A call inside another finds the slot busy and
-- makes one; the last one given back is kept.  A slot an error takes
-- away stays busy: the next call makes a new one, which is kept from then
-- on, and the lost one is collected (its __gc frees what it holds).
local RESP = ffi.typeof("struct vv_ffi_res3 *")
local home_u = newres()                 -- the slot kept, and its address
local home_o = cast(RESP, home_u)

local function take()
  local u, o = home_u, home_o
  if o.busy ~= 0 then
    u = newres()
    o = cast(RESP, u)
  end
  o.busy = 1
  return u, o
end

local function give(u, o)
  o.busy = 0
  home_u, home_o = u, o
end

-- pre is filled by enc() and read by the next entry point, with nothing
-- allocated between (so no other call runs between).
local pre = ffi.new("uint8_t[16]")      -- an encoded scalar, or a header
local u = ffi.new("union { double d; float f; int64_t i; uint8_t b[8]; }")
local LE = ffi.abi("le")

local NOTFOUND, CHECK, CODEC = -30901, -1, -2
local STR, VAL, ENC, DEL = 0, 1, 2, 3   -- how a write gives its value
local RAW = 1                           -- the raw codec (VVL_RAW)
local OK, FALLBACK, RAISE, REST, THROW = 0, 1, 2, 3, 4  -- a core's answer
local MAXINT = 9007199254740992         -- 2^53: whole numbers are ints

-- ==== values: vv's canonical MessagePack for strings, numbers, booleans

-- Big-endian bytes into pre at i: 16 and 32 bits of x, 64 bits of u.
local function be16(i, x)
  pre[i] = rshift(x, 8); pre[i + 1] = band(x, 255)
end
local function be32(i, x)
  pre[i] = rshift(x, 24); pre[i + 1] = band(rshift(x, 16), 255)
  pre[i + 2] = band(rshift(x, 8), 255); pre[i + 3] = band(x, 255)
end
local function be64(i)
  if LE then
    for k = 0, 7 do pre[i + k] = u.b[7 - k] end
  else
    for k = 0, 7 do pre[i + k] = u.b[k] end
  end
end

-- Encode the number x into pre; returns the length.  Whole numbers
-- within 2^53 are ints in their shortest form (as msgpack-c writes an
-- int64), the rest doubles, every NaN as one NaN.
local function encnum(x)
  if x == x and x >= -MAXINT and x <= MAXINT and floor(x) == x then
    if x >= 0 then
      if x < 128 then pre[0] = x; return 1 end
      if x < 256 then pre[0] = 0xcc; pre[1] = x; return 2 end
      if x < 65536 then pre[0] = 0xcd; be16(1, x); return 3 end
      if x < 4294967296 then pre[0] = 0xce; be32(1, x); return 5 end
      pre[0] = 0xcf; u.i = x; be64(1); return 9
    end
    if x >= -32 then pre[0] = x + 256; return 1 end
    if x >= -128 then pre[0] = 0xd0; pre[1] = x + 256; return 2 end
    if x >= -32768 then pre[0] = 0xd1; be16(1, x + 65536); return 3 end
    if x >= -2147483648 then pre[0] = 0xd2; be32(1, x + 4294967296)
      return 5 end
    pre[0] = 0xd3; u.i = x; be64(1); return 9
  end
  pre[0] = 0xcb
  if x ~= x then
    pre[1] = 0x7f; pre[2] = 0xf8
    for k = 3, 8 do pre[k] = 0 end
  else
    u.d = x; be64(1)
  end
  return 9
end

-- How a write gives value v, and the length of what it put in pre: a
-- string as header (pre) and bytes; a number or boolean in pre; nil for
-- what only the C encoder does (tables, and what it refuses).
local function enc(v)
  local t = type(v)
  if t == "string" then
    local n = #v
    if n < 32 then pre[0] = 0xa0 + n; return STR, 1 end
    if n < 256 then pre[0] = 0xd9; pre[1] = n; return STR, 2 end
    if n < 65536 then pre[0] = 0xda; be16(1, n); return STR, 3 end
    if n < 4294967296 then pre[0] = 0xdb; be32(1, n); return STR, 5 end
    return nil, 0
  elseif t == "number" then
    return VAL, encnum(v)
  elseif t == "boolean" then
    pre[0] = v and 0xc3 or 0xc2
    return VAL, 1
  end
  return nil, 0
end

-- An unsigned big-endian 32-bit number at p[i].
local function rd32(p, i)
  return ((p[i] * 256 + p[i + 1]) * 256 + p[i + 2]) * 256 + p[i + 3]
end

-- A float (n 4) or double (n 8) at p[1].
local function rdfloat(p, n)
  if LE then
    for k = 0, n - 1 do u.b[n - 1 - k] = p[1 + k] end
  else
    for k = 0, n - 1 do u.b[k] = p[1 + k] end
  end
  if n == 4 then return u.f end
  return u.d
end

-- Decode exactly n bytes at p holding one scalar: value, true; or nil,
-- false for anything else (tables, bytes the decoder refuses), which C
-- then decodes or refuses with its message.
local function dec(p, n)
  local b = p[0]
  if b < 0x80 then
    if n == 1 then return b, true end
  elseif b >= 0xe0 then
    if n == 1 then return b - 256, true end
  elseif b >= 0xa0 and b < 0xc0 then
    if n == b - 0x9f then return fstring(p + 1, n - 1), true end
  elseif b == 0xc2 or b == 0xc3 then
    if n == 1 then return b == 0xc3, true end
  elseif b == 0xc0 then
    if n == 1 then return nil, true end
  elseif b == 0xcc then
    if n == 2 then return p[1], true end
  elseif b == 0xcd then
    if n == 3 then return p[1] * 256 + p[2], true end
  elseif b == 0xce then
    if n == 5 then return rd32(p, 1), true end
  elseif b == 0xcf then
    if n == 9 then return rd32(p, 1) * 4294967296 + rd32(p, 5), true end
  elseif b == 0xd0 then
    if n == 2 then local x = p[1]; return x < 128 and x or x - 256, true end
  elseif b == 0xd1 then
    if n == 3 then
      local x = p[1] * 256 + p[2]
      return x < 32768 and x or x - 65536, true
    end
  elseif b == 0xd2 then
    if n == 5 then
      local x = rd32(p, 1)
      return x < 2147483648 and x or x - 4294967296, true
    end
  elseif b == 0xd3 then
    if n == 9 then
      local hi = rd32(p, 1)
      if hi >= 2147483648 then hi = hi - 4294967296 end
      return hi * 4294967296 + rd32(p, 5), true
    end
  elseif b == 0xca then
    if n == 5 then return rdfloat(p, 4), true end
  elseif b == 0xcb then
    if n == 9 then return rdfloat(p, 8), true end
  elseif b == 0xd9 or b == 0xc4 then
    if n >= 2 and n == 2 + p[1] then return fstring(p + 2, n - 2), true end
  elseif b == 0xda or b == 0xc5 then
    if n >= 3 and n == 3 + p[1] * 256 + p[2] then
      return fstring(p + 3, n - 3), true
    end
  elseif b == 0xdb or b == 0xc6 then
    if n >= 5 and n == 5 + rd32(p, 1) then
      return fstring(p + 5, n - 5), true
    end
  end
  return nil, false
end

-- ==== clocks ==========================================================
-- A clock an entry point makes (a read's context, a write's new one) is
-- made in the slot's spare clock and then moved (C_take) into a new
-- clock userdata with room for just its entries: pools[r] holds new
-- empty clocks of room r, which one C call makes 32 at a time (a call of
-- a C function ends a trace; taking from a table does not).  ready()
-- fills every pool before such an entry point runs, so that the clocks
-- are at hand.  Making them allocates, and a finalizer may then take
-- clocks from the same pool (a call inside this one): so a pool is
-- filled as a new table, which replaces the old one only when full.
-- update's context clock (room 4, the most) never reaches the caller: it
-- is emptied and goes back to its pool.
local ROOMS = 4                         -- VV_CLOCK_INLINE
local pools, npools = {}, {}
for r = 1, ROOMS do pools[r], npools[r] = {}, 0 end

-- A full pool of room r: its count.
local function refill(r)
  local t = {}
  local n = newclocks(t, 32, r)
  pools[r], npools[r] = t, n
  return n
end

local function ready()                  -- unrolled: a loop here would
  if npools[1] == 0 then refill(1) end
  if npools[2] == 0 then refill(2) end
  if npools[3] == 0 then refill(3) end
  if npools[4] == 0 then refill(4) end
end                                     -- be a trace of its own

-- A new empty clock with room for r entries (r 0: the entries are on the
-- heap and any room does).
local function newclock(r)
  if r < 1 then r = 1 end
  local n = npools[r]
  if n == 0 then n = refill(r) end
  local p = pools[r]
  local c = p[n]
  p[n] = nil
  npools[r] = n - 1
  return c
end

local function recycle(c)
  C_clear(c)
  local n = npools[ROOMS] + 1
  pools[ROOMS][n] = c
  npools[ROOMS] = n
end

-- ==== the calls' cores ================================================
-- obj is the store (ks its keyspace's name) or a keyspace handle (ks
-- nil), passed to every entry point as it is: an argument keeps a
-- userdata alive for the call, a pointer made from it would not.  Each
-- returns OK and the results, FALLBACK (the C API function takes the
-- call), RAISE and a message, REST and the slot (readrest builds the read
-- from it in C), or THROW and what update's function raised.

-- Is ctx nil or a clock?
local function isclock(ctx)
  if ctx == nil then return true end
  local mt = getmetatable(ctx)
  return mt == CLOCK0 or mt == CLOCK
end

-- The value of the read the entry point left in slot o: value, true; or
-- nil, false when C must decode it.
local function readvalue(o)
  local n = tonumber(o.len)
  if o.codec == RAW then return fstring(o.p, n), true end
  return dec(o.p, n)
end

-- The clock slot o's spare holds, after an entry point that made one: its
-- userdata, or nil when out of memory.
local function spareclock(o)
  local c = newclock(o.room)
  if C_take(c, o) ~= 0 then return nil end
  if o.heap ~= 0 then settle(c) end
  return c
end

-- The read the entry point left in slot o, as get gives it (REST: C
-- builds it).
local function readres(o)
  if o.count ~= 1 then return REST end
  local v, ok = readvalue(o)
  if not ok then return REST end
  local node = fstring(o.actor, tonumber(o.node_len))
  local actor = fstring(o.actor, tonumber(o.actor_len))
  local counter, ts = o.counter, o.timestamp
  ready()
  local rc = C_readctx(o)
  if rc == CHECK then return REST end
  local c = rc == 0 and spareclock(o)
  if not c then return RAISE, "get: not enough memory" end
  return OK, { siblings = { { value = v, node = node, actor = actor,
                              counter = counter, timestamp = ts } },
               values = { v }, context = c, value = v }
end

local function get_core(obj, ks, kslen, key)
  local u, o = take()
  local rc = C_get(obj, ks, kslen, key, #key, o)
  local st, r
  if rc == 0 then
    st, r = readres(o)
    if st == REST then return REST, u end -- readrest gives it back
  elseif rc == NOTFOUND then
    st = OK
  elseif rc == CHECK then
    st = FALLBACK
  else
    st, r = RAISE, "get: " .. fstring(o.msg)
  end
  give(u, o)
  return st, r
end

-- How a write gives value v (tomb: a delete): DEL; a string, number or
-- boolean as header or bytes in pre (STR or VAL, and their length); a
-- table encoded into the store's buffer (ENC, and the number of that
-- encoding, for the write to name: it fails with CHECK if a finalizer
-- filled the buffer again meanwhile); nil for the rest (a store closed,
-- a value the codec refuses), which the C API call does, saying why in
-- its own words.
local function writing(obj, ks, v, tomb)
  if tomb then return DEL, 0 end
  local how, n = enc(v)
  if how ~= nil or type(v) ~= "table" or C_open(obj, ks) == 0 then
    return how, n
  end
  local g = encval(obj, ks, v)
  if g == nil then return nil, 0 end
  return ENC, g
end

-- put (tomb false) and delete (tomb true).
local function write_core(obj, ks, kslen, key, v, ctx, tomb)
  if not isclock(ctx) then return FALLBACK end
  local u, o = take()
  ready()                               -- nothing allocates after enc
  local how, n = writing(obj, ks, v, tomb)
  if how == nil then give(u, o); return FALLBACK end
  local rc = C_write(obj, ks, kslen, key, #key, how, pre, n,
                     how == STR and v or nil, how == STR and #v or 0, ctx, 1,
                     o)
  local st, r = RAISE, nil
  if rc == 0 then
    r = spareclock(o)
    if r then st = OK else r = "not enough memory" end
  elseif rc == CHECK or rc == CODEC then
    st = FALLBACK
  else
    r = fstring(o.msg)
  end
  give(u, o)
  if st == RAISE then r = (tomb and "delete: " or "put: ") .. r end
  return st, r
end

-- The write of update: result with the read's context ctx (nil: the key
-- was not there).
local function update_write(obj, ks, kslen, key, result, ctx)
  local u, o = take()
  if C_open(obj, ks) == 0 then
    give(u, o)
    return RAISE, "update: the store was closed"
  end
  local how, n = enc(result)
  local rc = CODEC
  if how ~= nil then
    rc = C_write(obj, ks, kslen, key, #key, how, pre, n,
                 how == STR and result or nil, how == STR and #result or 0,
                 ctx, 0, o)
  end
  if rc == CODEC then                   -- a table, or not for this codec
    for _ = 1, 3 do                     -- again if a finalizer took the
      local g, msg = encval(obj, ks, result)      -- buffer meanwhile
      if g == nil then give(u, o); return RAISE, msg end
      rc = C_write(obj, ks, kslen, key, #key, ENC, nil, g, nil, 0, ctx, 0,
                   o)
      if rc ~= CHECK or C_open(obj, ks) == 0 then break end
    end
  end
  if rc ~= 0 then
    local msg = rc ~= CHECK and fstring(o.msg)
      or C_open(obj, ks) == 0 and "the store was closed"
      or "the encoded value was taken by a nested call, three times"
    give(u, o)
    return RAISE, "update: " .. msg
  end
  give(u, o)
  return OK, result
end

local function update_core(obj, ks, kslen, key, fn)
  local u, o = take()
  local rc = C_get(obj, ks, kslen, key, #key, o)
  if rc == NOTFOUND then
    give(u, o)
    local ok, result = pcall(fn, nil, nil)  -- (value, values), as C
    if not ok then return THROW, result end
    if result == nil then return OK, nil end
    return update_write(obj, ks, kslen, key, result, nil)
  end
  if rc ~= 0 then
    local msg = rc ~= CHECK and fstring(o.msg)
    give(u, o)
    if not msg then return FALLBACK end
    return RAISE, "update: " .. msg
  end
  if o.count ~= 1 then                  -- a resolver: C runs it
    give(u, o)
    return FALLBACK
  end
  local v, ok = readvalue(o)
  local ctx = newclock(ROOMS)
  rc = C_context(ctx, o)
  if o.heap ~= 0 then settle(ctx) end
  if rc ~= 0 then
    give(u, o)
    return RAISE, "update: not enough memory"
  end
  if not ok then
    ok, v = decsib(obj, ks, u)
    if not ok then give(u, o); return RAISE, v end
  end
  give(u, o)                            -- fn may call the store
  local result
  ok, result = pcall(fn, v, nil)        -- one sibling: no list of values
  if not ok then return THROW, result end
  if result == nil then
    recycle(ctx)
    return OK, nil
  end
  local st, r = update_write(obj, ks, kslen, key, result, ctx)
  recycle(ctx)
  return st, r
end

local function export_core(obj, ks, kslen, key)
  local u, o = take()
  local rc = C_export(obj, ks, kslen, key, #key, o)
  local st, r = OK, nil
  if rc == 0 then
    r = fstring(o.p, tonumber(o.len))
    C_release(o)
  elseif rc == CHECK then
    st = FALLBACK
  elseif rc ~= NOTFOUND then
    st, r = RAISE, "export: " .. fstring(o.msg)
  end
  give(u, o)
  return st, r
end

local function merge_core(obj, ks, kslen, key, state)
  local u, o = take()
  local rc = C_merge(obj, ks, kslen, key, #key, state, #state, o)
  local st, r = OK, true
  if rc == CHECK then
    st = FALLBACK
  elseif rc ~= 0 then
    st, r = RAISE, "merge: " .. fstring(o.msg)
  end
  give(u, o)
  return st, r
end

-- put_state (tomb false) and delete_state: the new state and its context.
local function state_write(db, ks, key, state, v, ctx, tomb)
  if not isclock(ctx) then return FALLBACK end
  local u, o = take()
  ready()                               -- nothing allocates after enc
  local how, n = writing(db, ks, v, tomb)
  if how == nil then give(u, o); return FALLBACK end
  local rc = C_state_put(db, ks, #ks, key, #key, state,
                         state and #state or 0, how, pre, n,
                         how == STR and v or nil, how == STR and #v or 0, ctx,
                         o)
  if rc == CHECK or rc == CODEC then give(u, o); return FALLBACK end
  local fn = tomb and "delete_state: " or "put_state: "
  if rc ~= 0 then
    local msg = fstring(o.msg)
    give(u, o)
    return RAISE, fn .. msg
  end
  local c = spareclock(o)
  if not c then
    C_release(o)
    give(u, o)
    return RAISE, fn .. "not enough memory"
  end
  local new = fstring(o.p, tonumber(o.len))
  C_release(o)
  give(u, o)
  return OK, new, c
end

-- ==== the methods =====================================================
-- method(c_fn, core, ok, handle) is a store's method db:op(ks, key, a, b)
-- or, with handle, a keyspace handle's h:op(key, a, b): when its
-- arguments are the plain case (ok(a, b) says so for the arguments after
-- the key) it runs core(obj, ks, kslen, key, a, b), else, and when the
-- core says FALLBACK, it hands the very same arguments to c_fn, the C API
-- function, with a tail call.
local function method(c_fn, core, ok, handle)
  local mt = handle and HANDLE or STORE
  return function(obj, ...)
    local ks, key, a, b
    if handle then key, a, b = ... else ks, key, a, b = ... end
    if getmetatable(obj) == mt and (handle or type(ks) == "string")
      and type(key) == "string" and ok(a, b) then
      local st, r = core(obj, ks, handle and 0 or #ks, key, a, b)
      if st == OK then return r end
      if st == REST then return readrest(obj, ks, key, r) end
      if st == THROW then error(r, 0) end
      if st == RAISE then error(r, 2) end
    end
    return c_fn(obj, ...)
  end
end

local function any() return true end
local function has_value(v) return v ~= nil end
local function is_fn(fn) return type(fn) == "function" end
local function is_state(st) return type(st) == "string" end
local function put_core(obj, ks, kslen, key, v, ctx)
  return write_core(obj, ks, kslen, key, v, ctx, false)
end
local function delete_core(obj, ks, kslen, key, ctx)
  return write_core(obj, ks, kslen, key, nil, ctx, true)
end

for _, m in ipairs {
  { "get", get_core, any }, { "put", put_core, has_value },
  { "delete", delete_core, any }, { "update", update_core, is_fn },
  { "export", export_core, any }, { "merge", merge_core, is_state },
} do
  local name, core, ok = m[1], m[2], m[3]
  M[name] = method(M[name], core, ok, false)
  HM[name] = method(HM[name], core, ok, true)
end

-- The detached-state methods of the store.
local c_put_state, c_delete_state, c_get_state = M.put_state,
  M.delete_state, M.get_state

-- Is db a store, ks a keyspace name and key a key?  (The entry points
-- check that the store is open and that the name has no NUL byte.)
local function plain(db, ks, key)
  return getmetatable(db) == STORE and type(ks) == "string"
    and type(key) == "string"
end

function M.put_state(db, ...)
  local ks, key, state, v, ctx = ...
  if plain(db, ks, key) and (state == nil or type(state) == "string")
    and v ~= nil then
    local st, a, b = state_write(db, ks, key, state, v, ctx, false)
    if st == OK then return a, b end
    if st == RAISE then error(a, 2) end
  end
  return c_put_state(db, ...)
end

function M.delete_state(db, ...)
  local ks, key, state, ctx = ...
  if plain(db, ks, key) and (state == nil or type(state) == "string") then
    local st, a, b = state_write(db, ks, key, state, nil, ctx, true)
    if st == OK then return a, b end
    if st == RAISE then error(a, 2) end
  end
  return c_delete_state(db, ...)
end

function M.get_state(db, ...)
  local ks, state = ...
  if plain(db, ks, state) then
    local u, o = take()
    local rc = C_state_get(db, ks, #ks, state, #state, o)
    local st, r = FALLBACK, nil
    if rc == NOTFOUND then
      st = OK
    elseif rc == 0 then
      st, r = readres(o)                -- REST: C reads it again
    elseif rc ~= CHECK then
      st, r = RAISE, "get_state: " .. fstring(o.msg)
    end
    give(u, o)
    if st == OK then return r end
    if st == RAISE then error(r, 2) end
  end
  return c_get_state(db, ...)
end

-- ==== detached states without a store =================================
local c_merge_states, c_state_key = vv.merge_states, vv.state_key

function vv.merge_states(...)
  local a, b = ...
  if type(a) == "string" and type(b) == "string" then
    local u, o = take()
    if C_merge_states(a, #a, b, #b, o) == 0 then
      local m = fstring(o.p, tonumber(o.len))
      C_release(o)
      give(u, o)
      return m
    end
    give(u, o)
  end
  return c_merge_states(...)           -- its message, or its result
end

function vv.state_key(...)
  local st = ...
  if type(st) == "string" then
    local u, o = take()
    if C_state_key(st, #st, o) == 0 then
      local k = fstring(o.p, tonumber(o.len))
      give(u, o)
      return k
    end
    give(u, o)
  end
  return c_state_key(...)
end

vv._ffi = true
