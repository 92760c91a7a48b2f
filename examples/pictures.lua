-- pictures.lua - draw the seed scenarios as Graphviz pictures (make demo).
--
-- Replays "three replicas" (examples/01) and "eggs, milk, bacon"
-- (examples/05) with causal history on, and writes what vv.dot gives at
-- the interesting moments to DIR/<name>.dot, then DIR/<name>.svg and
-- DIR/<name>.png when Graphviz's `dot` is installed (Debian: graphviz;
-- `make deps-all` installs it).
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/pictures.lua [DIR]
local vv = require "vv"

local DIR = arg and arg[1] or "build"
local pictures = {}

-- Keep the picture of ks/key as db knows it now.
local function picture(name, db, ks, key, what)
  pictures[#pictures + 1] = { name = name, text = vv.dot(db, ks, key),
    what = what }
end

-- ---- three replicas: a conflict, then a write-back ---------------------
do
  local KS, KEY = "demo", "key1"
  local s0 = vv.open { node = "s0" }
  local s1 = vv.open { node = "s1" }
  local s2 = vv.open { node = "s2" }
  for _, db in ipairs { s0, s1, s2 } do db:keyspace(KS, { history = 16 }) end
  local function send(from, to) to:merge(KS, KEY, from:export(KS, KEY)) end

  s0:put(KS, KEY, 10)                 -- client A at s0
  s1:put(KS, KEY, 20)                 -- client B at s1, concurrently
  send(s0, s2)
  send(s1, s2)
  picture("three_replicas_conflict", s2, KS, KEY,
    "s2 holds both concurrent writes as siblings")
  local r = s2:get(KS, KEY)
  local best = math.max(r.values[1], r.values[2])
  s2:put(KS, KEY, best, r.context)    -- the client's write-back
  send(s2, s0)
  send(s2, s1)
  picture("three_replicas_resolved", s2, KS, KEY,
    "the write-back at s2 replaced both")
  picture("three_replicas_at_s0", s0, KS, KEY,
    "s0 learnt of the write-back by a merge")
  s0:close(); s1:close(); s2:close()
end

-- ---- eggs, milk, bacon: one server, writes with and without context ----
do
  local KS, KEY = "shopping", "cart"
  local db = vv.open { node = "server" }
  db:keyspace(KS, { history = 16 })
  local seen_by_1 = db:put(KS, KEY, { "eggs" })
  db:put(KS, KEY, { "milk" })
  db:put(KS, KEY, { "eggs", "bacon" }, seen_by_1)
  picture("eggs_milk_bacon", db, KS, KEY,
    "[eggs, bacon] replaced [eggs] only; [milk] stays a sibling")
  local r = db:get(KS, KEY)
  local merged = {}
  for _, v in ipairs(r.values) do
    for _, item in ipairs(v) do merged[#merged + 1] = item end
  end
  db:put(KS, KEY, merged, r.context)
  picture("eggs_milk_bacon_merged", db, KS, KEY,
    "a merged cart written with the read's context replaced both")
  db:close()
end

-- ---- write them out ------------------------------------------------------
local function run(cmd)
  local ok, how, code = os.execute(cmd)
  if type(ok) == "number" then return ok == 0 end   -- Lua 5.1
  return ok == true and (how ~= "exit" or code == 0)
end

local have_dot = run("command -v dot >/dev/null 2>&1")
if not have_dot then
  print("Graphviz 'dot' is not installed: writing the .dot files only "
    .. "(Debian: apt-get install graphviz, or make deps-all)")
end
local failed = false
for _, p in ipairs(pictures) do
  local base = DIR .. "/" .. p.name
  local f = assert(io.open(base .. ".dot", "w"))
  f:write(p.text)
  f:close()
  local made = { base .. ".dot" }
  if have_dot then
    for _, fmt in ipairs { "svg", "png" } do
      if run(string.format("dot -T%s -o '%s.%s' '%s.dot'", fmt, base, fmt,
        base)) then
        made[#made + 1] = base .. "." .. fmt
      else
        failed = true
        print("dot failed on " .. base .. ".dot")
      end
    end
  end
  print(string.format("%-28s %s\n  %s", p.name, p.what,
    table.concat(made, "  ")))
end
if failed then os.exit(1) end
