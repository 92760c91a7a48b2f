-- command.lua - vv.command(db, line): the REPL's ':' commands (:help,
-- :keyspaces, :stats, :siblings, :dot) as text (Lua 5.1 to 5.4, LuaJIT).
local vv, T = ...
local type, ipairs, tostring, error = type, ipairs, tostring, error
local concat, format, sub = table.concat, string.format, string.sub
local io = io
local S = T.need "show"
local show, stamp, shortdot = S.show, S.stamp, S.shortdot

-- Split a command line into words; "double quotes" keep spaces.
local function words(line)
  local out, i, n = {}, 1, #line
  while i <= n do
    local c = sub(line, i, i)
    if c:match("%s") then
      i = i + 1
    elseif c == '"' then
      local j = line:find('"', i + 1, true)
      if not j then error("unfinished \"quoted\" word", 0) end
      out[#out + 1] = sub(line, i + 1, j - 1)
      i = j + 1
    else
      local j = line:find("%s", i) or n + 1
      out[#out + 1] = sub(line, i, j - 1)
      i = j
    end
  end
  return out
end

local HELP = [[
commands (type them at the prompt; other lines are Lua):
  :help                  this list
  :keyspaces             the store's keyspaces and their settings
  :stats [KS]            keys, tombstones, sibling histogram (of KS or all)
  :siblings KS KEY       the key's versions as a table, and its value
  :dot KS KEY FILE       write a Graphviz picture of the key to FILE
                         (.dot: the text; .svg/.png/.pdf: drawn with dot)
Words with spaces go in "double quotes".  The commands work on the store
in the global 'db'; in Lua they are vv.command(db, "siblings ks key").]]

local BUCKETS = { "1", "2", "3", "4", "5-8", "9-16", "17-64", ">64" }

local function statstext(st)
  local h = {}
  for i, name in ipairs(BUCKETS) do
    if (st.siblings[i] or 0) > 0 then
      h[#h + 1] = name .. ": " .. tostring(st.siblings[i])
    end
  end
  return format("keys %s, tombstones %s, most siblings %s, warnings %s, "
    .. "bytes %s\nkeys by sibling count: %s", tostring(st.keys),
    tostring(st.tombstones), tostring(st.max_siblings),
    tostring(st.warnings), tostring(st.bytes),
    #h > 0 and concat(h, ", ") or "(none)")
end

-- Columns of strings, left-aligned.
local function columns(rows)
  local width = {}
  for _, row in ipairs(rows) do
    for i, c in ipairs(row) do
      if #c > (width[i] or 0) then width[i] = #c end
    end
  end
  local out = {}
  for r, row in ipairs(rows) do
    local t = {}
    for i, c in ipairs(row) do
      t[i] = i < #row and c .. (" "):rep(width[i] - #c) or c
    end
    out[r] = "  " .. concat(t, "  ")
  end
  return concat(out, "\n")
end

local commands = {}

function commands.help() return HELP end

function commands.keyspaces(db)
  local names = db:keyspaces()
  if #names == 0 then return "no keyspaces yet" end
  local rows = { { "keyspace", "resolver", "codec", "keys", "warn/max",
    "history" } }
  for _, ks in ipairs(names) do
    local c = db:keyspace(ks) or {}
    local st = db:stats(ks)
    local res = c.resolver
    if type(res) ~= "string" then res = "function" end
    rows[#rows + 1] = { ks, res, tostring(c.codec),
      tostring(st.keys), format("%s/%s", (c.warn_siblings or 0) > 0
        and tostring(c.warn_siblings) or "25", (c.max_siblings or 0) > 0
        and tostring(c.max_siblings) or "100"),
      (c.history or 0) > 0 and tostring(c.history) or "off" }
  end
  return columns(rows)
end

function commands.stats(db, ks)
  if ks then return "keyspace " .. ks .. ": " .. statstext(db:stats(ks)) end
  return "all keyspaces: " .. statstext(db:stats())
end

function commands.siblings(db, ks, key)
  if not key then error("usage: :siblings KS KEY", 0) end
  local r = db:get(ks, key)
  if not r then return format("%s in %s: not found", show(key), show(ks)) end
  local rows = { { "#", "node", "dot", "timestamp (UTC)", "value" } }
  for i, s in ipairs(r.siblings) do
    rows[#rows + 1] = { tostring(i), s.node, shortdot(s), stamp(s.timestamp),
      show(s.value, 60) }
  end
  local head = format("%s in %s: %d sibling%s, context %s", show(key),
    show(ks), #r.siblings, #r.siblings == 1 and "" or "s",
    tostring(r.context))
  local tail
  if r.error then tail = "resolver error: " .. r.error
  elseif r.value ~= nil then tail = "value: " .. show(r.value, 200)
  else tail = "no single value: the keyspace keeps siblings" end
  return head .. "\n" .. columns(rows) .. "\n" .. tail
end

function commands.dot(db, ks, key, file)
  if not file then error("usage: :dot KS KEY FILE", 0) end
  local text = vv.dot(db, ks, key)
  local ext = file:match("%.(%a+)$")
  if ext == "svg" or ext == "png" or ext == "pdf" then
    if not (io and io.popen) then
      error("cannot run Graphviz here (no io.popen); write a .dot file", 0)
    end
    local p = io.popen("dot -T" .. ext .. " -o '" ..
      file:gsub("'", "'\\''") .. "'", "w")
    if not p then error("cannot run Graphviz 'dot'", 0) end
    p:write(text)
    local ok = p:close()
    if not ok then
      error("Graphviz 'dot' failed (is it installed? Debian: graphviz)", 0)
    end
    return "drew " .. file
  end
  if not io then error("cannot write files here (no io library)", 0) end
  local f, err = io.open(file, "w")
  if not f then error(err, 0) end
  f:write(text)
  f:close()
  return format("wrote %s (%d bytes); draw it with: dot -Tsvg -o %s.svg %s",
    file, #text, file:gsub("%.dot$", ""), file)
end

function vv.command(db, line)
  if type(line) ~= "string" then
    error("command: bad argument #2 (string expected, got " .. type(line)
      .. ")", 2)
  end
  local w = words((line:gsub("^%s*:", "")))
  local name = w[1]
  if not name then return HELP end
  local fn = commands[name]
  if not fn then
    error("unknown command ':" .. name .. "' (:help lists them)", 0)
  end
  if name ~= "help" and not T.isstore(db) then
    error("command: 'db' is not an open store", 0)
  end
  return fn(db, w[2], w[3], w[4])
end
