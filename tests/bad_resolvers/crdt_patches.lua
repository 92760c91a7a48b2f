-- crdt_patches.lua - KNOWN BAD: one broken variant of each type script of
-- vv.crdt, made by changing one line of the shipped script, and the check
-- of vv check-resolver that must flag it.  tests/spec/crdt_spec.lua runs
-- the checker and the random model test on each; tests/t_tools.sh runs
-- `vv check-resolver` on each.
--   lua tests/bad_resolvers/crdt_patches.lua DIR
-- writes DIR/<script>_<name>.lua for each and prints "<file> <check>".
local PATCHES = {
  { script = "counter", name = "sum", check = "idempotence",
    what = "adds up each writer's entries instead of taking the greater",
    find = "if m == nil or n > m then out[a] = n end",
    replace = "out[a] = (m or 0) + n" },
  { script = "set", name = "noclock", check = "order",
    what = "merges elements without the clocks: removes come back",
    find = "e = join_keys(a.e, b.e, a.c, b.c, join_dots) or {}",
    replace = "e = join_keys(a.e, b.e, {}, {}, join_dots) or {}" },
  { script = "lww_register", name = "tie", check = "order",
    what = "equal stamps keep the first state instead of the greater writer",
    find = "  return bytes_before(b, a)\nend",
    replace = "  return false\nend" },
  { script = "mv_register", name = "noclock", check = "order",
    what = "merges values without the clocks: replaced values come back",
    find = "v = join_keys(x.v, y.v, x.c, y.c, join_entry) or {}",
    replace = "v = join_keys(x.v, y.v, {}, {}, join_entry) or {}" },
  { script = "map", name = "clock", check = "order",
    what = "keeps the first state's clock instead of joining both",
    find = "return { c = join_max(a.c, b.c),\n           f =",
    replace = "return { c = a.c,\n           f =" },
}

-- The text of patch p applied to scripts/<p.script>.lua under root.
local function text(root, p)
  local f = assert(io.open(root .. "/scripts/" .. p.script .. ".lua", "rb"))
  local src = f:read("*a")
  f:close()
  local i, j = src:find(p.find, 1, true)
  assert(i, "crdt_patches: scripts/" .. p.script .. ".lua no longer has "
    .. string.format("%q", p.find))
  assert(not src:find(p.find, j + 1, true), "crdt_patches: " .. p.find
    .. " is in scripts/" .. p.script .. ".lua twice")
  return src:sub(1, i - 1) .. p.replace .. src:sub(j + 1)
end

-- Write patch p into dir; returns the file's path.
local function write(root, p, dir)
  local path = dir .. "/" .. p.script .. "_" .. p.name .. ".lua"
  local f = assert(io.open(path, "wb"))
  f:write(text(root, p))
  f:close()
  return path
end

local M = { patches = PATCHES, text = text, write = write }
if arg and arg[0] and arg[0]:match("crdt_patches%.lua$") and arg[1] then
  local root = arg[0]:match("^(.*)/tests/bad_resolvers/") or "."
  for _, p in ipairs(PATCHES) do
    print(write(root, p, arg[1]) .. " " .. p.check)
  end
end
return M
