-- 09_page_views.lua - a page-view counter at three replicas, each
-- counting the views it serves, the counts merged by exchanging states in
-- any order: every view counted once (vv.crdt.counter,
-- scripts/counter.lua).  Then what goes wrong with a plain number.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/09_page_views.lua
local vv = require "vv"
local counter = vv.crdt.counter

local s = {}
for i = 0, 2 do
  s[i] = vv.open { node = "s" .. i }
  s[i]:keyspace("views", { resolver = "scripts/counter.lua" })
  s[i]:keyspace("plain", { resolver = "scripts/max.lua" })
end

local served = 0
-- Replica i serves n views of the home page.
local function views(i, n)
  for _ = 1, n do counter.add(s[i], "views", "home", 1) end
  served = served + n
end

local function send(i, j)
  s[j]:merge("views", "home", s[i]:export("views", "home"))
end

local function show(what)
  print(what)
  for i = 0, 2 do
    local r = s[i]:get("views", "home")
    print(string.format("  s%d: %d views (%d version%s)", i,
      counter.value(r), #r.siblings, #r.siblings > 1 and "s" or ""))
  end
end

views(0, 5); views(1, 3); views(2, 2)
show("Each replica counts the views it serves: 5 at s0, 3 at s1, 2 at s2.")

print()
send(0, 1)
send(1, 2)
views(1, 4)               -- s1 goes on counting while states travel
send(2, 0)
send(0, 1)
show("States travel s0 -> s1 -> s2 -> s0 -> s1 while s1 serves 4 more:")

print()
for _ = 1, 2 do           -- the same states again, in another order
  for i = 2, 0, -1 do
    for j = 0, 2 do if i ~= j then send(i, j) end end
  end
end
show(string.format("Every replica sends to every other, twice; %d views "
  .. "were served:", served))

print()
local st = counter.state(s[0]:get("views", "home"))
local parts = {}
for actor, n in pairs(st.p) do
  parts[#parts + 1] = actor:sub(1, 2) .. "=" .. n
end
table.sort(parts)
print("The state keeps one count per writer, whatever the number of views:")
print("  p = {" .. table.concat(parts, ", ") .. "}, " .. #vv.encode(st)
  .. " bytes")

print()
print("With a plain number instead, each replica writes the total it")
print("knows; two replicas that both saw 10 and served one more write 11")
print("and 11:")
s[0]:put("plain", "home", 10)
s[1]:merge("plain", "home", s[0]:export("plain", "home"))
for i = 0, 1 do
  s[i]:update("plain", "home", function(n) return n + 1 end)
end
s[0]:merge("plain", "home", s[1]:export("plain", "home"))
local r = s[0]:get("plain", "home")
print(string.format("  max.lua shows %d: a view is lost.  The sum of the "
  .. "siblings is %d:", r.value, r.values[1] + r.values[2]))
print("  the 10 counted twice.")
print("The counter, in the same story: s0 and s1 each add 1 to their own "
  .. "entry.")
counter.add(s[0], "views", "page", 10)
s[1]:merge("views", "page", s[0]:export("views", "page"))
counter.add(s[0], "views", "page", 1)
counter.add(s[1], "views", "page", 1)
s[0]:merge("views", "page", s[1]:export("views", "page"))
print(string.format("  counter: %d", counter.get(s[0], "views", "page")))
for i = 0, 2 do s[i]:close() end
