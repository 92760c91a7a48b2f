-- check_report.lua - the text of vv.check_resolver's report: one line per
-- check, the failing examples, the budget used (Lua 5.1 to 5.4, LuaJIT).
local _, T = ...
local ipairs, pairs, tostring = ipairs, pairs, tostring
local concat, format = table.concat, string.format
local show = T.need("show").show

local function sibtext(S)
  local t = {}
  for i, s in ipairs(S) do
    t[i] = s.node .. ":" .. tostring(s.counter) .. "=" .. show(s.value, 30)
  end
  return "[" .. concat(t, ", ") .. "]"
end

local function restext(res)
  if res.ok then return show(res.value, 60) end
  return "error: " .. res.err
end

-- One line of a failing example: "[siblings] -> result".
local function example(S, res)
  return sibtext(S) .. " -> " .. restext(res)
end

-- Size in words: "2.1 KiB".
local function kib(n)
  if n < 1024 then return n .. " bytes" end
  if n < 1048576 then return format("%.1f KiB", n / 1024) end
  return format("%.1f MiB", n / 1048576)
end

local TITLES = {
  load = "the script does not load",
  order = "the result depends on the order of the siblings",
  idempotence = "resolving a result with itself changes it",
  determinism = "the same siblings gave different results",
  returns = "the script returned a value vv cannot store",
  budget = "a call ran out of its budget",
  errors = "the script raised errors",
  replicas = "three replicas with the same conflict resolved it differently",
}
local CHECKS = { "load", "order", "idempotence", "determinism",
  "returns", "errors", "replicas" }
local OKTEXT = {
  order = "the result does not depend on the order of the siblings",
  idempotence = "resolving a result with itself gives it back",
  determinism = "same siblings, same result (twice, and in another sandbox)",
  returns = "every result can be stored",
  replicas = "three replicas with real conflicts agree",
}

local function report_text(rep)
  local L = {}
  L[#L + 1] = "check-resolver " .. rep.script
  if rep.cases > 0 then
    L[#L + 1] = format("  checked %d sibling lists (%s), %d calls",
      rep.cases, concat(rep.families, ", "), rep.calls)
  end
  for _, c in ipairs(CHECKS) do
    local p = rep.problems[c]
    if p then
      L[#L + 1] = "  FAIL " .. c .. ": " .. p.message
      for _, x in ipairs(p.example) do L[#L + 1] = "         " .. x end
    elseif rep.ran[c] then
      L[#L + 1] = "  ok   " .. c .. ": " .. (OKTEXT[c] or rep.ran[c])
    end
  end
  local b, bp = rep.budget, rep.problems.budget
  if b.instructions then
    L[#L + 1] = format("  %s budget: at most %d of %d instructions, "
      .. "%s of %s memory per call", bp and "FAIL" or "ok  ",
      b.instructions, b.max_instructions, kib(b.memory),
      kib(b.max_memory))
  end
  if bp then
    if not b.instructions then L[#L + 1] = "  FAIL budget: " .. bp.message end
    for _, x in ipairs(bp.example) do L[#L + 1] = "         " .. x end
  end
  for _, n in ipairs(rep.notes) do L[#L + 1] = "  note " .. n end
  local np = 0
  for _ in pairs(rep.problems) do np = np + 1 end
  L[#L + 1] = rep.ok and "result: ok" or format("result: FAIL (%d problem%s)",
    np, np == 1 and "" or "s")
  return concat(L, "\n")
end

return { sibtext = sibtext, restext = restext, example = example,
  text = report_text, TITLES = TITLES }
