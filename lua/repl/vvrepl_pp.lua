-- vvrepl_pp.lua - the REPL's pretty printer (Lua 5.4).  Returns format,
-- which gives the text of its arguments, and pp, which prints it.  Strings
-- given directly are shown raw; nested strings quoted; clocks (and
-- anything with __tostring) in their text form; tables indented with
-- sorted keys, on one line when they fit.  Tables are read raw: no
-- metamethod runs while showing (read results from db:get have their
-- fields built first).  Run with the tools' key order
-- (lua/tools/keyorder.lua).
local before = ...
local type, tostring, ipairs, next = type, tostring, ipairs, next
local concat, sort, mathtype = table.concat, table.sort, math.type
local getmetatable, select, rawget = getmetatable, select, rawget
local WIDTH, MAXDEPTH, MAXITEMS = 76, 16, 200
local keywords = {}
for w in ('and break do else elseif end false for function goto if '
  .. 'in local nil not or repeat return then true until while')
  :gmatch('%a+') do keywords[w] = true end
local esc = { ['\n'] = '\\n', ['\t'] = '\\t', ['\r'] = '\\r',
  ['"'] = '\\"', ['\\'] = '\\\\' }
local function quote(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return esc[c] or ('\\%03d'):format(c:byte())
  end) .. '"'
end
local show
local function showkey(k, seen, depth)
  if type(k) == 'string' and k:match('^[%a_][%w_]*$')
     and not keywords[k] then return k end
  return '[' .. show(k, '', seen, depth, 0) .. ']'
end
function show(v, indent, seen, depth, lead)
  local t = type(v)
  if t == 'string' then return quote(v) end
  if t ~= 'table' then return tostring(v) end
  local mt = getmetatable(v)
  if type(mt) == 'table' and mt.__tostring then return tostring(v) end
  if type(mt) == 'table' and mt.__name == 'vv.read' and mt.materialize then
    mt.materialize(v)        -- a read result: build its lazy fields first
  end
  if seen[v] then return '<cycle>' end
  if next(v) == nil then return '{}' end
  if depth >= MAXDEPTH then return '{...}' end
  seen[v] = true
  local items, keys, n = {}, {}, 0
  while rawget(v, n + 1) ~= nil do n = n + 1 end
  for k in next, v do
    if not (mathtype(k) == 'integer' and k >= 1 and k <= n) then
      keys[#keys + 1] = k
    end
  end
  sort(keys, before)
  local inner, total, multi = indent .. '  ', 0, false
  local count = n + #keys
  for i = 1, n do
    if #items >= MAXITEMS then break end
    items[#items + 1] = show(rawget(v, i), inner, seen, depth + 1, 0)
  end
  for _, k in ipairs(keys) do
    if #items >= MAXITEMS then break end
    local ks = showkey(k, seen, depth + 1) .. ' = '
    items[#items + 1] = ks ..
      show(rawget(v, k), inner, seen, depth + 1, #ks)
  end
  if count > #items then
    items[#items + 1] = '... (' .. (count - #items) .. ' more)'
  end
  seen[v] = nil
  for _, s in ipairs(items) do
    total = total + #s + 2
    if s:find('\n') then multi = true end
  end
  if not multi and #indent + lead + total + 1 <= WIDTH then
    return '{' .. concat(items, ', ') .. '}'
  end
  return '{\n' .. inner .. concat(items, ',\n' .. inner)
    .. ',\n' .. indent .. '}'
end
local function format(...)
  local out, multi = {}, false
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    out[i] = type(v) == 'string' and v or show(v, '', {}, 0, 0)
    if out[i]:find('\n') then multi = true end
  end
  return concat(out, multi and '\n' or '\t')
end
local write = io.write
return format, function(...) write(format(...), '\n') end
