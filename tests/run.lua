-- run.lua - a small spec runner for vv's Lua tests, on any Lua host.
-- Usage: lua tests/run.lua tests/spec/a_spec.lua ...
-- A spec file calls the globals describe(name, fn) / it(name, fn) and
-- asserts with assert / eq / raises.  Prints cmocka-style summary lines.
local passed, failed, failures = 0, 0, {}
local prefix = {}

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

function describe(name, fn)
  prefix[#prefix + 1] = name
  fn()
  prefix[#prefix] = nil
end

function it(name, fn)
  local full = table.concat(prefix, " ") .. (#prefix > 0 and " " or "") .. name
  local tb
  local ok, err = xpcall(fn, function(e)
    tb = debug.traceback(tostring(e), 2); return e end)
  if ok then
    passed = passed + 1
    print("[       OK ] " .. full)
  else
    failed = failed + 1
    failures[#failures + 1] = full
    print("[  ERROR   ] " .. full .. "\n" .. (tb or tostring(err)))
  end
end

-- deq(a, b): are a and b equal, tables deeply (NaN equals NaN)?
function deq(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    return a ~= a and b ~= b -- NaN
  end
  for k, v in pairs(a) do if not deq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- eq(a, b [, msg]): deep equality with a readable message.
function eq(a, b, msg)
  if not deq(a, b) then
    error((msg and msg .. ": " or "") .. "expected " .. fmt(b) .. ", got " .. fmt(a), 2)
  end
end

-- raises(pattern, fn, ...): fn must raise an error whose text matches.
function raises(pat, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error matching " .. fmt(pat), 2) end
  if pat and not tostring(err):find(pat) then
    error("error " .. fmt(tostring(err)) .. " does not match " .. fmt(pat), 2)
  end
  return err
end

-- tmpdir(): a fresh directory name for a durable store (the store
-- creates it); rmdir(p) removes it and everything in it.
function tmpdir()
  local p = os.tmpname()
  os.remove(p)
  return p
end

function rmdir(p)
  os.execute("rm -rf '" .. p .. "'")
end

HOST = os.getenv("VV_HOST") or _VERSION
-- LuaJIT runs the specs twice: through ffi, and with VV_FFI=0 through the
-- C API alone; the header of each file says which.
local shown = HOST
if rawget(_G, "jit") then
  shown = HOST .. (os.getenv("VV_FFI") == "0" and ", VV_FFI=0: C API"
                   or ", ffi")
end
for i = 1, #arg do
  local f = arg[i]
  print("[==========] " .. f .. " (" .. shown .. ")")
  local chunk, err = loadfile(f)
  if not chunk then
    failed = failed + 1; failures[#failures + 1] = f
    print("[  ERROR   ] " .. err)
  else
    local ok, e = xpcall(chunk, debug.traceback)
    if not ok then
      failed = failed + 1; failures[#failures + 1] = f
      print("[  ERROR   ] " .. f .. ": " .. tostring(e))
    end
  end
end
collectgarbage()
print("[  PASSED  ] " .. passed .. " test(s).")
if failed > 0 then
  print("[  FAILED  ] " .. failed .. " test(s), listed below:")
  for _, n in ipairs(failures) do print("[  FAILED  ] " .. n) end
  os.exit(1)
end
