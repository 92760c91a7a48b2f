-- replica.lua - one vv replica process: a durable store (LMDB), a TCP
-- server on 127.0.0.1, and anti-entropy with its peers by keyspace sync.
--
--   lua5.4 examples/cluster/replica.lua --name r1 --cluster DIR
--          --peers r2,r3 [--interval 0.3] [--lifetime 300]
--
-- The store lives in DIR/<name>/; the port the server got is written to
-- DIR/<name>.port, where peers and clients look it up (a restarted
-- replica may get another port).  Only the loopback interface is used.
--
-- Sync is message passing, one short connection per message, so a lost
-- message (a peer down, a timeout) costs nothing but a retry later:
--   every interval, to each peer:  DIGEST <me> <n>\n<my digest>
--   a peer answers with its delta:  DELTA <peer> <n>\n<delta>  (applied)
-- Client commands (one per connection, answered on it):
--   PUT <key> <n>\n<value>  replace what this replica shows -> OK
--   ADD <key> <n>\n<value>  write without a context (a sibling) -> OK
--   DEL <key>               delete what this replica shows -> OK
--   GET <key>               -> SIBS <count>\n then count lines
--                              "<node> <counter> <n>\n<value>"
--   SYNCS                   -> the number of deltas applied so far
--   QUIT                    -> BYE, and the process ends
local vv = require "vv"
local socket = require "socket"

local KS = "cluster"

local opt = { interval = 0.3, lifetime = 300 }
do
  local i = 1
  while arg[i] do
    local k = arg[i]:match("^%-%-(.+)$")
    if not k or arg[i + 1] == nil then
      io.stderr:write("usage: replica.lua --name N --cluster DIR --peers A,B"
                      .. " [--interval S] [--lifetime S]\n")
      os.exit(2)
    end
    opt[k] = arg[i + 1]
    i = i + 2
  end
end
assert(opt.name and opt.cluster, "--name and --cluster are required")
local NAME, DIR = opt.name, opt.cluster
local INTERVAL, LIFETIME = tonumber(opt.interval), tonumber(opt.lifetime)
local peers = {}
for p in (opt.peers or ""):gmatch("[^,]+") do peers[#peers + 1] = p end

local function log(fmt, ...)
  io.stdout:write(string.format("[%s] " .. fmt .. "\n", NAME, ...))
  io.stdout:flush()
end

-- ---- the store -----------------------------------------------------------
local db = vv.open { node = NAME, path = DIR .. "/" .. NAME }
db:keyspace(KS, { resolver = "siblings" })
local syncs = 0

-- ---- the server ------------------------------------------------------------
local server = assert(socket.bind("127.0.0.1", 0))
server:settimeout(0.05)
do
  local _, port = server:getsockname()
  local tmp = DIR .. "/" .. NAME .. ".port.tmp"
  local f = assert(io.open(tmp, "w"))
  f:write(port, "\n")
  f:close()
  assert(os.rename(tmp, DIR .. "/" .. NAME .. ".port"))
  log("up on 127.0.0.1:%d, store %s/%s", port, DIR, NAME)
end

local function port_of(name)
  local f = io.open(DIR .. "/" .. name .. ".port")
  if not f then return nil end
  local p = tonumber(f:read("*l"))
  f:close()
  return p
end

-- Send one message to a peer; failures are fine (it will be sent again).
local function send(peer, kind, payload)
  local port = port_of(peer)
  if not port then return false end
  local c = socket.tcp()
  c:settimeout(1)
  local ok = c:connect("127.0.0.1", port)
  if ok then
    ok = c:send(string.format("%s %s %d\n", kind, NAME, #payload) .. payload)
  end
  c:close()
  return ok ~= nil
end

local function read_payload(c, n)
  n = tonumber(n)
  if not n then return nil end
  if n == 0 then return "" end
  return c:receive(n)
end

local function handle(c)
  local line = c:receive("*l")
  if not line then return end
  local cmd, a, b = line:match("^(%u+)%s*(%S*)%s*(%S*)$")
  if cmd == "DIGEST" then                 -- a peer asks: answer with a delta
    local d = read_payload(c, b)
    if not d then return end
    c:close()
    local ok, x = pcall(db.delta, db, KS, d)
    if ok then send(a, "DELTA", x) else log("bad digest from %s: %s", a, x) end
  elseif cmd == "DELTA" then              -- our pull comes back
    local x = read_payload(c, b)
    if not x then return end
    c:close()
    local ok, n = pcall(db.apply, db, KS, x)
    if ok then
      syncs = syncs + 1
      if n > 0 then log("applied a delta from %s: %d key(s) changed", a, n) end
    else
      log("refused a delta from %s: %s", a, n)
    end
  elseif cmd == "PUT" or cmd == "ADD" then
    local v = read_payload(c, b)
    if not v then return end
    local r = cmd == "PUT" and db:get(KS, a) or nil
    db:put(KS, a, v, r and r.context or nil)
    c:send("OK\n")
  elseif cmd == "DEL" then
    local r = db:get(KS, a)
    db:delete(KS, a, r and r.context or nil)
    c:send("OK\n")
  elseif cmd == "GET" then
    local r = db:get(KS, a)
    local out = { "SIBS " .. (r and #r.siblings or 0) .. "\n" }
    for _, s in ipairs(r and r.siblings or {}) do
      local v = tostring(s.value)
      out[#out + 1] = string.format("%s %s %d\n%s", s.node,
                                    tostring(s.counter), #v, v)
    end
    c:send(table.concat(out))
  elseif cmd == "SYNCS" then
    c:send(syncs .. "\n")
  elseif cmd == "QUIT" then
    c:send("BYE\n")
    c:close()
    db:close()
    log("bye")
    os.exit(0)
  else
    c:send("ERR unknown command\n")
  end
end

-- ---- the loop: serve, and pull from every peer each interval --------------
local start = socket.gettime()
local next_pull = start
math.randomseed(os.time() + #NAME)
while socket.gettime() - start < LIFETIME do
  local c = server:accept()
  if c then
    c:settimeout(2)
    local ok, err = pcall(handle, c)
    if not ok then log("error: %s", tostring(err)) end
    c:close()
  end
  if socket.gettime() >= next_pull then
    local d = db:digest(KS)
    for _, p in ipairs(peers) do send(p, "DIGEST", d) end
    next_pull = socket.gettime() + INTERVAL * (0.75 + math.random() / 2)
  end
end
log("lifetime of %d s is over", LIFETIME)
db:close()
