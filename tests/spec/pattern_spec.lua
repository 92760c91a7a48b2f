-- pattern_spec.lua - string.find/match/gmatch/gsub in resolver scripts
-- speak Lua 5.4's pattern language on every host (vv's own matcher, also
-- on Lua 5.1 and LuaJIT): each case is run in a resolver and must give
-- what Lua 5.4 gives, recorded below; on Lua 5.4 the record is checked
-- against the host itself (tests/test_pattern.c compares far more cases).
local vv = require "vv"

-- { expression, what Lua 5.4 returns for it, written by show() }
local cases = {
  { "('hello world'):find('o', 5)",
    "ok #2 5 5" },
  { "('hello world'):find('o', -3)",
    "ok #1 nil" },
  { "('hello'):find('l', 10)",
    "ok #1 nil" },
  { "('hello'):find('', 6)",
    "ok #2 6 5" },
  { "('hello'):find('', 7)",
    "ok #1 nil" },
  { "('a.b'):find('.', 1, true)",
    "ok #2 2 2" },
  { "('a+b'):find('+', 1)",
    "ok #2 2 2" },
  { "('key = val'):match('^(%w+)%s*=%s*(%w+)$')",
    "ok #2 \"key\" \"val\"" },
  { "('  trim  '):match('^%s*(.-)%s*$')",
    "ok #1 \"trim\"" },
  { "('f(a(b)c)d'):match('%b()')",
    "ok #1 \"(a(b)c)\"" },
  { "('THE (quick) fox'):find('%f[%a]%a+', 5)",
    "ok #2 6 10" },
  { "('abc'):match('()b()')",
    "ok #2 2 3" },
  { "('hello hello'):match('(h%a+) %1')",
    "ok #1 \"hello\"" },
  { "('x=1, y=22'):gsub('(%w+)=(%w+)', '%2=%1')",
    "ok #2 \"1=x, 22=y\" 2" },
  { "('abc'):gsub('%w*', '-')",
    "ok #2 \"-\" 1" },
  { "('abc'):gsub('', '-')",
    "ok #2 \"-a-b-c-\" 4" },
  { "('a,b,,c'):gsub('[^,]*', '<%0>')",
    "ok #2 \"<a>,<b>,<>,<c>\" 4" },
  { "('hello'):gsub('l', { l = 'L' })",
    "ok #2 \"heLLo\" 2" },
  { "('hello'):gsub('(l)(l)', function(a, b) return b .. a .. '!' end)",
    "ok #2 \"hell!o\" 1" },
  { "('abc'):gsub('%w', '%0%0', 2)",
    "ok #2 \"aabbc\" 2" },
  { "('abc'):gsub('b', '%%')",
    "ok #2 \"a%c\" 1" },
  { "('abc'):gsub('(b)', '%2')",
    "error #1 \"invalid capture index %2\"" },
  { "('abc'):gsub('b', '%x')",
    "error #1 \"invalid use of '%' in replacement string\"" },
  { "('abc'):gsub('()', '%1')",
    "ok #2 \"1a2b3c4\" 4" },
  { "('a b'):gsub('%g', '.')",
    "ok #2 \". .\" 2" },
  { "('a\\0b'):gsub('%z', '0')",
    "ok #2 \"a0b\" 1" },
  { "('tab\\there'):match('%c')",
    "ok #1 \"\\9\"" },
  { "('caps CAPS'):match('%u+')",
    "ok #1 \"CAPS\"" },
  { "('0x1F'):match('^0x(%x+)$')",
    "ok #1 \"1F\"" },
  { "('a.b-c'):gsub('%p', '')",
    "ok #2 \"abc\" 2" },
  { "('\\200a'):match('%a+')",
    "ok #1 \"a\"" },
  { "('\\200a'):match('[%w\\128-\\255]+')",
    "ok #1 \"\\200a\"" },
  { "each('a=1, b=2', '(%w+)=(%w+)')",
    "ok #1 \"<a,1><b,2>\"" },
  { "each('one two three', '%a+', 5)",
    "ok #1 \"<two><three>\"" },
  { "each('^a^a', '^a')",
    "ok #1 \"<^a><^a>\"" },
  { "each('abc', '%w*')",
    "ok #1 \"<abc>\"" },
  { "each('abc', '()', -1)",
    "ok #1 \"<3><4>\"" },
  { "('[x]'):match('%[(.)%]')",
    "ok #1 \"x\"" },
  { "('x'):find('[]]')",
    "ok #1 nil" },
  { "('a]'):find('[]a]+')",
    "ok #2 1 2" },
  { "('^a'):find('^^a')",
    "ok #2 1 2" },
  { "('a$b'):find('$b')",
    "ok #2 2 3" },
  { "('aaa'):match('a-$')",
    "ok #1 \"aaa\"" },
  { "('aaa'):match('(a)%1')",
    "ok #1 \"a\"" },
  { "('abc'):find('[a-')",
    "error #1 \"malformed pattern (missing ']')\"" },
  { "('abc'):find('x[')",
    "ok #1 nil" },
  { "('abc'):find('%')",
    "error #1 \"malformed pattern (ends with '%')\"" },
  { "('abc'):find('(()')",
    "error #1 \"unfinished capture\"" },
  { "('abc'):match('%1')",
    "error #1 \"invalid capture index %1\"" },
  { "('abc'):match('a)')",
    "error #1 \"invalid pattern capture\"" },
  { "('abc'):match('%b')",
    "error #1 \"malformed pattern (missing arguments to '%b')\"" },
  { "('abc'):match('%f')",
    "error #1 \"missing '[' after '%f' in pattern\"" },
  { "('abc'):match('(a)%0')",
    "error #1 \"invalid capture index %0\"" },
  { "(('a'):rep(300)):find(('a?'):rep(199))",
    "ok #2 1 199" },
  { "(('a'):rep(300)):find(('a?'):rep(200))",
    "error #1 \"pattern too complex\"" },
  { "(('a'):rep(40)):match(('(a)'):rep(33))",
    "error #1 \"too many captures\"" },
  { "('abc'):gsub('%w', { a = 1, b = true })",
    "error #1 \"invalid replacement value (a boolean)\"" },
  { "('abc'):gsub('%w', function(c) if c == 'b' then return {} end end)",
    "error #1 \"invalid replacement value (a table)\"" },
}

-- show(pcall(f)): "ok #n v1 v2..." or "error #1 message" (the message
-- without its chunk and line), strings with \ddd for other bytes; each(s,
-- p, init): every step of gmatch.  Free of patterns but for the steps
-- under test: it runs in the sandbox too.
local HELPERS = [[
local function quote(s)
  local out = {}
  for i = 1, #s do
    local b = s:byte(i)
    if b < 32 or b > 126 or b == 34 or b == 92 then
      out[#out + 1] = '\\' .. b
    else
      out[#out + 1] = string.char(b)
    end
  end
  return '"' .. table.concat(out) .. '"'
end
local function show(ok, ...)
  local out = { (ok and 'ok' or 'error') .. ' #' .. select('#', ...) }
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    if type(v) == 'string' then
      if not ok then
        local at = v:find(': ', 1, true)
        if at then v = v:sub(at + 2) end
      end
      v = quote(v)
    end
    out[#out + 1] = tostring(v)
  end
  return table.concat(out, ' ')
end
local function each(s, p, init)
  local out = {}
  for a, b in s:gmatch(p, init) do
    out[#out + 1] = '<' .. a .. (b and ',' .. b or '') .. '>'
  end
  return table.concat(out)
end
]]

local function script(text)
  local p = os.tmpname()
  local f = assert(io.open(p, "wb"))
  f:write(text)
  f:close()
  return p
end

describe("patterns in resolvers", function()
  it("give Lua 5.4's results on " .. _VERSION, function()
    local src = { HELPERS, "return function()\n  local r = {}\n" }
    for i, c in ipairs(cases) do
      src[#src + 1] = ("  r[%d] = show(pcall(function() return %s end))\n")
        :format(i, c[1])
    end
    src[#src + 1] = "  return r\nend\n"
    local path = script(table.concat(src))
    local a, b = vv.open { node = "s0" }, vv.open { node = "s1" }
    a:keyspace("p", { resolver = path })
    b:keyspace("p", { resolver = path })
    a:put("p", "k", 1)
    b:put("p", "k", 2)
    a:merge("p", "k", b:export("p", "k"))
    local r = a:get("p", "k")
    eq(r.error, nil)
    for i, c in ipairs(cases) do eq(r.value[i], c[2], c[1]) end
    eq(#r.value, #cases)
    a:close()
    b:close()
    os.remove(path)
  end)

  it("the record is what this Lua 5.4 host gives", function()
    if _VERSION ~= "Lua 5.4" then return end
    local show, each = assert(load(HELPERS .. "return show, each"))()
    local env = setmetatable({ each = each }, { __index = _G })
    for _, c in ipairs(cases) do
      local f = assert(load("return " .. c[1], "=case", "t", env))
      eq(show(pcall(f)), c[2], c[1])
    end
  end)
end)
