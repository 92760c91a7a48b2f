-- client.lua - talk to one replica of examples/cluster.
--
--   lua5.4 examples/cluster/client.lua DIR REPLICA put KEY VALUE
--                                     ... add KEY VALUE   (a sibling)
--                                     ... del KEY
--                                     ... get KEY         (prints "a | b")
--                                     ... syncs | quit
-- Exit status 1 when the replica cannot be reached.
local socket = require "socket"

local dir, name, cmd, key, value = arg[1], arg[2], arg[3], arg[4], arg[5]
if not (dir and name and cmd) then
  io.stderr:write("usage: client.lua DIR REPLICA put|add|del|get|syncs|quit"
                  .. " [KEY [VALUE]]\n")
  os.exit(2)
end

local function fail(msg)
  io.stderr:write("client: " .. name .. ": " .. msg .. "\n")
  os.exit(1)
end

local f = io.open(dir .. "/" .. name .. ".port")
if not f then fail("no port file (not started?)") end
local port = tonumber(f:read("*l"))
f:close()

local c = socket.tcp()
c:settimeout(3)
local ok, err = c:connect("127.0.0.1", port)
if not ok then fail("cannot connect: " .. tostring(err)) end

local function expect_ok()
  local line = c:receive("*l")
  if line ~= "OK" then fail("answer: " .. tostring(line)) end
end

cmd = cmd:upper()
if cmd == "PUT" or cmd == "ADD" then
  value = value or ""
  c:send(string.format("%s %s %d\n%s", cmd, key, #value, value))
  expect_ok()
elseif cmd == "DEL" then
  c:send("DEL " .. key .. "\n")
  expect_ok()
elseif cmd == "GET" then
  c:send("GET " .. key .. "\n")
  local n = tonumber((c:receive("*l") or ""):match("^SIBS (%d+)$"))
  if not n then fail("bad answer to GET") end
  local vals = {}
  for i = 1, n do
    local head = c:receive("*l") or ""
    local len = tonumber(head:match(" (%d+)$"))
    if not len then fail("bad sibling header") end
    vals[i] = len > 0 and c:receive(len) or ""
  end
  print(n == 0 and "(nothing)" or table.concat(vals, " | "))
elseif cmd == "SYNCS" or cmd == "QUIT" then
  c:send(cmd .. "\n")
  print((c:receive("*l")))
else
  fail("unknown command " .. cmd)
end
c:close()
