-- ctl.lua - the client half of lua/tarantool/cluster.sh, run by tarantool:
--
--   tarantool ctl.lua eval PORT CODE      run CODE on the instance at
--                                         127.0.0.1:PORT, print the
--                                         results as JSON (one line)
--   tarantool ctl.lua mesh PORT0 N SECS   wait until each of the N
--                                         instances replicates from and to
--                                         every other ("follow" both ways)
--
-- Exit status 0 on success, 1 on an error or a timeout (message on stderr).
local netbox = require "net.box"
local json = require "json"
local fiber = require "fiber"
local clock = require "clock"

io.stdout:setvbuf("no")

local function connect(port, wait)
  return netbox.connect("vv:vv@127.0.0.1:" .. port,
                        { wait_connected = wait or 5 })
end

local cmd = arg[1]
if cmd == "eval" then
  local c = connect(arg[2])
  if not c:is_connected() then
    io.stderr:write("ctl: no connection to port ", arg[2], "\n")
    os.exit(1)
  end
  local res = { pcall(c.eval, c, arg[3]) }
  if not res[1] then
    io.stderr:write("ctl: ", tostring(res[2]), "\n")
    os.exit(1)
  end
  table.remove(res, 1)
  print(json.encode(res))
  os.exit(0)
elseif cmd == "mesh" then
  local port0, n, secs = tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])
  local code = [[
    local n = 0
    for _, r in pairs(box.info.replication) do
      if r.id ~= box.info.id and r.upstream and r.upstream.status == "follow"
         and r.downstream and r.downstream.status == "follow" then
        n = n + 1
      end
    end
    return n]]
  local t0 = clock.monotonic()
  local conns = {}
  while true do
    local good = 0
    for i = 1, n do
      if conns[i] == nil or not conns[i]:is_connected() then
        conns[i] = connect(port0 + i - 1, 0.2)
      end
      local ok, k = pcall(conns[i].eval, conns[i], code, {},
                          { timeout = 1 })
      if ok and k == n - 1 then good = good + 1 end
    end
    if good == n then
      print(string.format("mesh ready: %d instances (%.2f s)", n,
                          clock.monotonic() - t0))
      os.exit(0)
    end
    if clock.monotonic() - t0 > secs then
      io.stderr:write("ctl: mesh not ready after ", secs, " s\n")
      os.exit(1)
    end
    fiber.sleep(0.05)
  end
else
  io.stderr:write("usage: tarantool ctl.lua eval PORT CODE | mesh PORT0 N SECS\n")
  os.exit(2)
end
