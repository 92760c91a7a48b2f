-- drive.lua - what the Tarantool test drivers share (tests/tarantool/*):
-- the "ok - " / "not ok - " report that tests/t_tarantool.sh reads, and,
-- for the drivers of a set of lua/tarantool/cluster.sh, its connections.
--
--   local drive = dofile(os.getenv("VVT_ROOT") .. "/tests/tarantool/drive.lua")
--   local ok = drive.ok
--   local set = drive.set(port0)      -- set.C[i], set.call(i, fn, args), ...
--   drive.exit()                      -- status 1 when a check failed
local M = { failed = 0 }

--- Report a check; detail is printed (indented) when it failed.
function M.ok(cond, what, detail)
  if cond then print("ok - " .. what)
  else
    M.failed = M.failed + 1
    print("not ok - " .. what)
    if detail then print("    " .. tostring(detail):gsub("\n", "\n    ")) end
  end
  return cond
end

function M.exit()
  os.exit(M.failed == 0 and 0 or 1)
end

--- Wait until fn() is true, at most secs seconds: whether it became so (a
-- call that raises counts as false), and the second result of its last
-- call.
function M.wait_for(secs, fn)
  local fiber, clock = require "fiber", require "clock"
  local t0 = clock.monotonic()
  while true do
    local good, v, detail = pcall(fn)
    if good and v then return true, detail end
    if clock.monotonic() - t0 >= secs then
      return false, good and detail or v
    end
    fiber.sleep(0.05)
  end
end

--- Run a shell command (its output appended to log) without blocking the
-- other fibers; its exit code.
function M.sh(cmd, log)
  local popen = require "popen"
  local p = popen.shell(cmd .. " >> '" .. log .. "' 2>&1")
  local st = p:wait()
  p:close()
  return st.exit_code
end

--- The three instances listening from port0: {C = connections, peers =
-- URIs, call(i, fn, args), eval(i, code, args), links(i, list)} where
-- links makes instance i pull from exactly the instances in list.
function M.set(port0, n)
  local netbox = require "net.box"
  local OPT = { timeout = 30 }
  local s = { C = {}, peers = {} }
  for i = 1, n or 3 do
    s.peers[i] = "vv:vv@127.0.0.1:" .. (port0 + i - 1)
    s.C[i] = netbox.connect(s.peers[i], { wait_connected = 30,
                                          reconnect_after = 0.1 })
  end
  function s.call(i, fn, args) return s.C[i]:call(fn, args or {}, OPT) end
  function s.eval(i, code, args) return s.C[i]:eval(code, args or {}, OPT) end
  function s.links(i, list)
    local uris = {}
    for _, j in ipairs(list) do uris[#uris + 1] = s.peers[j] end
    s.C[i]:eval("box.cfg{replication = ...}", { uris }, OPT)
  end
  return s
end

return M
