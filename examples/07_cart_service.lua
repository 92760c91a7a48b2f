-- 07_cart_service.lua - a small shopping-cart service that embeds vv: two
-- replicas in one process, commands on standard input, answers on
-- standard output.
--
-- Run from the top of the source tree, and type commands (or pipe them):
--   LUA_CPATH='build/?.so' lua5.4 examples/07_cart_service.lua [--echo]
--
-- Commands, one per line (# starts a comment):
--   add REPLICA USER ITEM      put ITEM in USER's cart, at REPLICA
--   remove REPLICA USER ITEM   take ITEM out of USER's cart, at REPLICA
--   show REPLICA USER          the cart as REPLICA sees it
--   sync                       the replicas exchange every cart they hold
--   help                       this list
--   quit                       leave (so does the end of the input)
-- --echo repeats each command before its answer, for transcripts.
local vv = require "vv"

local KS = "carts"
local echo = arg and arg[1] == "--echo"

-- A cart is a sorted list of distinct items.  Concurrent versions of a
-- cart are merged by taking every item of every version (a union): an
-- item added anywhere is never lost.
local function union(siblings)
  local set, items = {}, {}
  for _, s in ipairs(siblings) do
    for _, item in ipairs(s.value) do
      if not set[item] then set[item] = true; items[#items + 1] = item end
    end
  end
  table.sort(items)
  return items
end

-- Each replica is a store; the service works on one keyspace of it, so
-- it keeps a keyspace handle: carts:get(user) is db:get(KS, user).
local stores, replicas, names = {}, {}, { "east", "west" }
for _, name in ipairs(names) do
  local db = vv.open { node = name }
  db:keyspace(KS, { resolver = union })
  stores[name], replicas[name] = db, db:keyspace_handle(KS)
end
local users = {}          -- every cart key seen, for sync

-- The cart of user at a replica: items (a list), the read (or nil).
local function cart(carts, user)
  local r = carts:get(user)
  if not r then return {}, nil end
  if r.error then error("cannot merge the cart: " .. r.error, 0) end
  return r.value, r
end

local commands = {}

function commands.add(carts, user, item)
  local items, r = cart(carts, user)
  for _, it in ipairs(items) do
    if it == item then return "already in the cart" end
  end
  local new = { item }
  for _, it in ipairs(items) do new[#new + 1] = it end
  table.sort(new)
  carts:put(user, new, r and r.context)
  users[user] = true
  return "added " .. item
end

function commands.remove(carts, user, item)
  local items, r = cart(carts, user)
  local new, found = {}, false
  for _, it in ipairs(items) do
    if it == item then found = true else new[#new + 1] = it end
  end
  if not found then return item .. " is not in the cart" end
  carts:put(user, new, r.context)
  return "removed " .. item
end

function commands.show(carts, user)
  local items, r = cart(carts, user)
  local text = #items > 0 and table.concat(items, ", ") or "(empty)"
  if r and #r.siblings > 1 then
    text = text .. "   (merged from " .. #r.siblings .. " concurrent versions)"
  end
  return user .. "'s cart: " .. text
end

local usage = {
  add = "add REPLICA USER ITEM", remove = "remove REPLICA USER ITEM",
  show = "show REPLICA USER",
}
local nargs = { add = 3, remove = 3, show = 2 }

-- Every cart goes both ways; merging is safe to repeat.
local function sync()
  local n = 0
  for user in pairs(users) do
    for _, from in ipairs(names) do
      for _, to in ipairs(names) do
        local state = from ~= to and replicas[from]:export(user)
        if state then replicas[to]:merge(user, state) end
      end
    end
    n = n + 1
  end
  return "synced " .. n .. " cart(s) between east and west"
end

local function help()
  return "commands: add REPLICA USER ITEM | remove REPLICA USER ITEM |\n" ..
    "  show REPLICA USER | sync | help | quit   (replicas: east, west)"
end

-- Run one command line; returns the answer, or nil to stop.
local function run(line)
  local words = {}
  for w in line:gmatch("%S+") do words[#words + 1] = w end
  local cmd = words[1]
  if cmd == "quit" then return nil end
  if cmd == "help" then return help() end
  if cmd == "sync" then return sync() end
  if not commands[cmd] then
    return "error: unknown command '" .. cmd .. "' (try help)"
  end
  if #words - 1 ~= nargs[cmd] then return "usage: " .. usage[cmd] end
  local carts = replicas[words[2]]
  if not carts then
    return "error: no replica '" .. words[2] .. "' (east, west)"
  end
  local ok, answer = pcall(commands[cmd], carts, words[3], words[4])
  if not ok then return "error: " .. tostring(answer) end
  return words[2] .. ": " .. answer
end

for line in io.lines() do
  line = line:gsub("#.*", "")
  if line:find("%S") then
    if echo then print("> " .. line:gsub("^%s+", ""):gsub("%s+$", "")) end
    local answer = run(line)
    if not answer then break end
    print(answer)
  end
end
for _, name in ipairs(names) do stores[name]:close() end
