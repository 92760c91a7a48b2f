-- 03_reconciliation.lua - ways to reconcile concurrent versions, side by
-- side: last write wins, merging shopping carts, and application logic
-- (priority-based, user-based, a domain rule).
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/03_reconciliation.lua
local vv = require "vv"

-- Where this file is, to find the resolver scripts in ../scripts.
local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]") or "."
local SCRIPTS = here .. "/../scripts/"

-- Wait a few milliseconds (so two writes get different timestamps).
local function pause(ms)
  local t = os.clock() + ms / 1000
  while os.clock() < t do end
end

local function list(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = tostring(v) end
  table.sort(c)
  return table.concat(c, ", ")
end

-- Two replicas write the same key without seeing each other, then
-- exchange their states: both now hold the two concurrent versions.
local function conflict(ks, key, value0, value1, setup)
  local s0, s1 = vv.open { node = "s0" }, vv.open { node = "s1" }
  if setup then setup(s0); setup(s1) end
  s0:put(ks, key, value0)
  pause(5)
  s1:put(ks, key, value1)
  s0:merge(ks, key, s1:export(ks, key))
  s1:merge(ks, key, s0:export(ks, key))
  return s0, s1
end

print("Every strategy below starts from the same situation: two replicas,")
print("s0 and s1, take a write for the same key at the same time, then")
print("exchange states. Each keyspace has a resolver: it turns the")
print("concurrent versions (siblings) into the one value r.value on a read.")
print("The siblings themselves stay stored until a client writes with the")
print("read's context, so no strategy can lose data by itself.")

------------------------------------------------------------------------
print()
print("1. Last write wins (resolver \"lww\")")
print("   s0 sets theme = \"dark\"; a moment later s1 sets theme = \"light\".")
local lww = function(db) db:keyspace("prefs", { resolver = "lww" }) end
local a, b = conflict("prefs", "theme", "dark", "light", lww)
local ra, rb = a:get("prefs", "theme"), b:get("prefs", "theme")
print(string.format("   siblings stored: %d; timestamps %s ms and %s ms",
  #ra.siblings, tostring(ra.siblings[1].timestamp),
  tostring(ra.siblings[2].timestamp)))
print("   lww picks: " .. tostring(ra.value) .. " at s0, " ..
  tostring(rb.value) .. " at s1")
print("   (the latest timestamp wins, and every replica picks the same one)")
print("   Simple, but \"dark\" is silently lost once someone writes back.")

------------------------------------------------------------------------
print()
print("2. Merging values: shopping carts (resolver script scripts/union.lua)")
print("   At s0 the cart is {apple}; at s1, concurrently, {banana}.")
local union = function(db)
  db:keyspace("carts", { resolver = SCRIPTS .. "union.lua" })
end
a, b = conflict("carts", "cart:42", { "apple" }, { "banana" }, union)
local r = a:get("carts", "cart:42")
print(string.format("   siblings: {%s} and {%s}", list(r.values[1]),
  list(r.values[2])))
if r.error then print("   resolver error: " .. r.error) end
print("   merged cart = {" .. list(r.value or {}) .. "}")
print("   Nothing is lost: every item from every version is kept. The script")
print("   runs sandboxed inside vv, so every replica merges the same way.")
a:put("carts", "cart:42", r.value, r.context)
print("   Written back with the context: " ..
  #a:get("carts", "cart:42").siblings ..
  " version left.")

------------------------------------------------------------------------
print()
print("3. Application logic: the application's own rules decide, as")
print("   resolver scripts (they run sandboxed in vv) or as Lua functions")
print("   given to the keyspace (they run in this program).")

print()
print("3a. Priority-based (scripts/priority.lua): the version with the")
print("    highest `priority` field wins.")
local by_priority = function(db)
  db:keyspace("tickets", { resolver = SCRIPTS .. "priority.lua" })
end
a = conflict("tickets", "T-7",
  { status = "waiting for customer", priority = 1, by = "support agent" },
  { status = "escalated", priority = 3, by = "on-call manager" }, by_priority)
r = a:get("tickets", "T-7")
for _, s in ipairs(r.siblings) do
  print(string.format("    %-16s sets \"%s\" (priority %d)", s.value.by,
    s.value.status, s.value.priority))
end
if r.error then print("    resolver error: " .. r.error) end
print("    priority rule picks: " .. tostring(r.value and r.value.status) ..
  " (by " .. tostring(r.value and r.value.by) .. ")")

print()
print("3b. User-based, two ways.")
print("    A chosen user's version wins (scripts/user.lua trusts \"admin\"")
print("    first): the admin's edit beats a customer's concurrent one.")
local by_user = function(db)
  db:keyspace("pages", { resolver = SCRIPTS .. "user.lua" })
end
a = conflict("pages", "faq", { user = "carol", text = "Returns: 90 days!" },
  { user = "admin", text = "Returns: 30 days" }, by_user)
r = a:get("pages", "faq")
if r.error then print("    resolver error: " .. r.error) end
print("    user rule picks: " .. tostring(r.value and r.value.text) ..
  " (by " .. tostring(r.value and r.value.user) .. ")")
print("    Or the application shows both versions to the user, who chooses.")
print("    This keyspace keeps siblings (the default resolver).")
a = conflict("profiles", "ann", "Loves hiking", "Loves hiking and chess")
r = a:get("profiles", "ann")
print("    r.value = " .. tostring(r.value) .. "; the app asks Ann:")
local choice
for i, v in ipairs(r.values) do
  print(string.format("      [%d] %s", i, v))
  if v:find("chess") then choice = i end
end
print(string.format("    Ann picks [%d]; the app writes it with the read's" ..
  " context.", choice))
a:put("profiles", "ann", r.values[choice], r.context)
r = a:get("profiles", "ann")
print("    user chose: " .. r.value .. " (" .. #r.siblings .. " version left)")

print()
print("3c. A domain rule, as a function of this program: an order's status")
print("    only moves forward, and a cancellation wins over anything but")
print("    delivery.")
local rank = { placed = 1, paid = 2, shipped = 3, cancelled = 4, delivered = 5 }
local order_rule = function(db)
  db:keyspace("orders", { resolver = function(siblings)
    local best = siblings[1].value
    for _, s in ipairs(siblings) do
      if rank[s.value] > rank[best] then best = s.value end
    end
    return best
  end })
end
a = conflict("orders", "order-1001", "shipped", "cancelled", order_rule)
r = a:get("orders", "order-1001")
print("    the warehouse says \"shipped\"; the customer's cancel says" ..
  " \"cancelled\"")
print("    order status: " .. r.value)
