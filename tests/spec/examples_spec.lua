-- examples_spec.lua - every example in examples/ runs and tells its story:
-- each is run in a subprocess on this host and its output is checked.
local SRC = debug.getinfo(1, "S").source:match("^@(.*)$") or ""
local ROOT = SRC:match("^(.*)/tests/spec/[^/]*$") or "."
local LUA = os.getenv("VV_HOST") or (arg and arg[-1]) or "lua5.4"
local B = os.getenv("B") or "build"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Run a shell command in the source tree; input (optional) is its stdin.
-- Returns everything it printed (stdout and stderr) and its exit status.
local function run(cmd, input)
  local tmp
  cmd = "cd " .. q(ROOT) .. " && " .. cmd
  if input then
    tmp = os.tmpname()
    local f = assert(io.open(tmp, "w"))
    f:write(input); f:close()
    cmd = cmd .. " < " .. q(tmp)
  end
  local p = assert(io.popen(cmd .. " 2>&1; echo \"[exit $?]\""))
  local out = p:read("*a")
  p:close()
  if tmp then os.remove(tmp) end
  local code = tonumber(out:match("%[exit (%d+)%]%s*$"))
  return out:gsub("%[exit %d+%]%s*$", ""), code
end

local function example(name, input, args)
  local out, code = run(LUA .. " examples/" .. name .. (args or ""), input)
  eq(code, 0, name .. " exit status; output:\n" .. out)
  return out
end

-- has(out, text): out contains text literally (a readable failure if not).
local function has(out, text)
  if not out:find(text, 1, true) then
    error("expected the output to contain " .. string.format("%q", text) ..
      "; output:\n" .. out, 2)
  end
end

-- The lines under a heading, up to the next line that is not indented
-- (blank lines between are left out).
local function section(out, heading)
  local i = out:find(heading, 1, true)
  assert(i, "no section " .. heading .. " in:\n" .. out)
  local body = (out:sub(i + #heading) .. "\nEND"):match("^\n(.-)\n+%S") or ""
  return body
end

describe("examples", function()
  it("01 three replicas: 10/20/10, a conflict read with both, convergence",
  function()
    local out = example("01_three_replicas.lua")
    local diverged = section(out, "What each replica holds now:")
    eq(diverged, "  s0 = 10\n  s1 = 20\n  s2 = 10")
    has(out, "compare(A's version, B's version) = concurrent")
    has(out, "gets 2 versions:")
    assert(out:find("value%d = 10   %(written at s0%)"), out)
    assert(out:find("value%d = 20   %(written at s1%)"), out)
    has(out, "r.value is nil")
    eq(section(out, "Every replica now holds:"),
       "  s0 = 20\n  s1 = 20\n  s2 = 20")
    has(out, "converged: yes")
    assert(out:find("arriving late, changes\n.-\n  s0 = 20\n"), out)
  end)

  it("02 a newer version replaces an older one, also on replication",
  function()
    local out = example("02_newer_replaces_older.lua")
    has(out, "compare(v1, v2) = before")
    has(out, "  s0 = 20   (versions: 1)")
    eq(section(out,
         "s1 sees that v2 comes after the v1 it holds, and drops v1:"),
       "  s1 = 20   (versions: 1)")
    eq(section(out, "It is older than what s1 holds, so nothing changes:"),
       "  s1 = 20   (versions: 1)")
    has(out, "  s1 = 20 | 30   (versions: 2)")
  end)

  it("03 reconciliation: lww, cart union, priority, user, domain rule",
  function()
    local out = example("03_reconciliation.lua")
    has(out, "siblings stored: 2")
    has(out, "lww picks: light at s0, light at s1")
    has(out, "siblings: {apple} and {banana}")
    has(out, "merged cart = {apple, banana}")
    has(out, "1 version left.")
    has(out, "priority rule picks: escalated (by on-call manager)")
    has(out, "user rule picks: Returns: 30 days (by admin)")
    has(out, "user chose: Loves hiking and chess (1 version left)")
    has(out, "order status: cancelled")
    assert(not out:find("resolver error"), out)
  end)

  it("04 vector clocks: message passing, {s0:1} and {s1:1} concurrent",
  function()
    local out = example("04_vector_clocks.lua")
    has(out, "A = {A:1}")
    has(out, "B = {A:1, B:1}")
    has(out, "compare(message, B) = before")
    has(out, "message < B is true")
    has(out, "A = {A:2, B:1}")
    has(out, "compare(B, A) = before")
    has(out, "v1 = {s0:1}")
    has(out, "v2 = {s1:1}")
    has(out, "compare(v1, v2) = concurrent")
    has(out, "v1 < v2 is false, v2 < v1 is false")
    has(out, "v3 = {s0:2, s1:1}")
    has(out, "compare(v1, v3) = before, compare(v2, v3) = before")
    has(out, "(equal: true)")
  end)

  it("05 eggs, milk, bacon: v3 = [eggs, bacon] and [milk]", function()
    local out = example("05_eggs_milk_bacon.lua")
    has(out, "version 1 = [eggs]\n")
    has(out, "version 2 = [eggs] and [milk]\n")
    has(out, "version 3 = [eggs, bacon] and [milk]\n")
    assert(out:find("%[milk%]%s+written by server, counter 2"), out)
    assert(out:find("%[eggs, bacon%]%s+written by server, counter 3"), out)
    has(out, "version 4 = [milk, eggs, bacon]\n")
  end)

  it("06 update: bids written only when higher, concurrent ones kept, replaced together",
  function()
    local out = example("06_update.lua")
    has(out, "bob bids 90 at east: too low, nothing written\n")
    has(out, "  east: highest 120, from 1 version(s)\n")
    has(out, "eve bids 140 at west: written")
    has(out, "  east: highest 150, from 2 version(s)\n")
    has(out, "  west: highest 150, from 2 version(s)\n")
    has(out, "  east: highest 160, from 1 version(s)\n")
    has(out, "  west: highest 160, from 1 version(s)\n")
    has(out, "  east: versions 165 and 170, highest 170\n")
    has(out, "  east: 2 version(s) of the count\n")
    has(out, "  east: 6 bids taken, in 1 version(s)\n")
  end)

  it("08 cart: union brings the removed milk back, the set type does not",
  function()
    local out = example("08_cart_set.lua")
    local healed = section(out, "The network heals: every replica sends "
      .. "its carts to every other.")
    for i = 0, 2 do
      assert((healed .. "\n"):find("s" .. i .. "   union.lua: %[bacon, butter, eggs, "
        .. "milk%] %(2 versions%) +set.lua: %[bacon, butter, eggs%]\n"),
        healed)
    end
    local late = section(out, "of them, removes the eggs.")
    eq(late, "  s0   set.lua: [bacon, butter, eggs, milk]\n"
      .. "  s1   set.lua: [bacon, butter, eggs, milk]\n"
      .. "  s2   set.lua: [bacon, butter, eggs, milk]")
    has(out, "no trace of the removed items.")
  end)

  it("09 page views: three replicas count 14 views, each counted once",
  function()
    local out = example("09_page_views.lua")
    eq(section(out, "Each replica counts the views it serves: 5 at s0, 3 at "
      .. "s1, 2 at s2."), "  s0: 5 views (1 version)\n"
      .. "  s1: 3 views (1 version)\n  s2: 2 views (1 version)")
    local final = section(out, "Every replica sends to every other, twice; "
      .. "14 views were served:")
    for i = 0, 2 do
      assert(final:find("s" .. i .. ": 14 views", 1, true), final)
    end
    has(out, "p = {s0=5, s1=7, s2=2}")
    has(out, "max.lua shows 11: a view is lost.  The sum of the siblings "
      .. "is 22")
    has(out, "  counter: 12\n")
  end)

  it("07 cart service: two replicas diverge, sync merges, removal travels",
  function()
    local out = example("07_cart_service.lua", table.concat({
      "add east alice apple", "add west alice banana",
      "show east alice", "show west alice", "sync",
      "show east alice", "show west alice",
      "remove west alice apple", "sync", "show east alice",
      "# a comment, then bad input", "bogus", "add north alice pear",
      "add east alice", "remove east alice kiwi", "add east alice banana",
      "show east bob", "quit", "show east alice",
    }, "\n") .. "\n")
    local want = {
      "east: added apple", "west: added banana",
      "east: alice's cart: apple", "west: alice's cart: banana",
      "synced 1 cart(s) between east and west",
      "east: alice's cart: apple, banana   (merged from 2 concurrent versions)",
      "west: alice's cart: apple, banana   (merged from 2 concurrent versions)",
      "west: removed apple", "synced 1 cart(s) between east and west",
      "east: alice's cart: banana",
      "error: unknown command 'bogus' (try help)",
      "error: no replica 'north' (east, west)",
      "usage: add REPLICA USER ITEM",
      "east: kiwi is not in the cart",
      "east: already in the cart",
      "east: bob's cart: (empty)",
    }
    eq(out, table.concat(want, "\n") .. "\n")
    has(example("07_cart_service.lua", "help\n"), "commands: add REPLICA")
  end)

  it("07 cart service --echo repeats the commands", function()
    local out = example("07_cart_service.lua", "add east bob tea\n", " --echo")
    eq(out, "> add east bob tea\neast: added tea\n")
  end)

  -- A C program: checked once, with the default host (Lua 5.4).
  if not tostring(HOST):find("5%.4") then return end
  it("embed.c: a C program with a Lua resolver script converges", function()
    local bin = B .. "/embed"
    local out, code = run(q(bin) .. " scripts/union.lua")
    eq(code, 0, "embed exit status (make " .. bin .. "); output:\n" .. out)
    has(out, "s0: 1 version: {apple} from s0")
    has(out, "s1: 1 version: {banana} from s1")
    has(out, "s0: 2 versions: {apple} from s0 {banana} from s1")
    has(out, "merged cart = {apple, banana}")
    local last = out:match("replaces both versions.-\n(  s0: .-\n  s1: .-)\n")
    eq(last, "  s0: 1 version: {apple, banana} from s0\n" ..
             "  s1: 1 version: {apple, banana} from s0")
  end)
end)
