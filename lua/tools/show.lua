-- show.lua - values as short text for the tools: vv.dot's labels, the
-- checker's examples, the REPL's ':' commands (Lua 5.1 to 5.4, LuaJIT).
local vv, T = ...
local type, pairs, ipairs, tostring, pcall =
  type, pairs, ipairs, tostring, pcall
local concat, sort = table.concat, table.sort
local format, byte, char = string.format, string.byte, string.char
local sub, floor = string.sub, math.floor
local keyless = T.need "keyorder"       -- a total order over table keys

-- s as a quoted string; with ascii, bytes outside ASCII as \xNN.
local function quote(s, ascii)
  local out = { '"' }
  for i = 1, #s do
    local b = byte(s, i)
    local c
    if b == 34 then c = '\\"'
    elseif b == 92 then c = '\\\\'
    elseif b == 10 then c = '\\n'
    elseif b >= 32 and b < 127 then c = char(b)
    elseif b >= 128 and not ascii then c = char(b)
    else c = format('\\x%02x', b) end
    out[#out + 1] = c
  end
  out[#out + 1] = '"'
  return concat(out)
end

-- Is t a list (keys exactly 1..#t)?
local function islist(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

-- A short text for a value: strings quoted, lists [..], records {k=..}.
-- Longer than max: cut, with "...".
local function show(v, max, ascii)
  max = max or 40
  local parts, len = {}, 0
  local function put(s)
    parts[#parts + 1] = s
    len = len + #s
  end
  local function walk(x, depth)
    if len > max then return end
    local t = type(x)
    if t == "string" then
      put(quote(x, ascii))
    elseif t ~= "table" then
      put(tostring(x))
    elseif depth > 4 then
      put("{...}")
    elseif islist(x) then
      put("[")
      for i = 1, #x do
        if i > 1 then put(", ") end
        walk(x[i], depth + 1)
        if len > max then return end
      end
      put("]")
    else
      local keys = {}
      for k in pairs(x) do keys[#keys + 1] = k end
      sort(keys, keyless)
      put("{")
      for i, k in ipairs(keys) do
        if i > 1 then put(", ") end
        if type(k) == "string" and k:match("^[%a_][%w_]*$") then put(k)
        else put("["); walk(k, depth + 1); put("]") end
        put("=")
        walk(x[k], depth + 1)
        if len > max then return end
      end
      put("}")
    end
  end
  walk(v, 0)
  local s = concat(parts)
  if #s > max then s = sub(s, 1, max) .. "..." end
  return s
end

-- The first bytes of a stored value (encoded with codec) as text; len is
-- the whole value's length.
local function preview(bytes, len, codec, ascii)
  if codec == "raw" then
    local s = quote(bytes, ascii)
    if len > #bytes then s = sub(s, 1, -2) .. '..."' end
    return s
  end
  if #bytes >= len then
    local ok, v = pcall(vv.decode, bytes)
    if ok then return show(v, 36, ascii) end
  end
  local b = byte(bytes, 1) or 0
  local start
  if b >= 0xa0 and b <= 0xbf then start = 2
  elseif b == 0xd9 then start = 3
  elseif b == 0xda then start = 4
  elseif b == 0xdb then start = 6 end
  if start then return sub(quote(sub(bytes, start), ascii), 1, -2) .. '..."' end
  if (b >= 0x90 and b <= 0x9f) or b == 0xdc or b == 0xdd then
    return "[...] (" .. len .. " bytes)"
  end
  if (b >= 0x80 and b <= 0x8f) or b == 0xde or b == 0xdf then
    return "{...} (" .. len .. " bytes)"
  end
  return "(" .. len .. " bytes)"
end

-- Days since 1970-01-01 to a civil date (proleptic Gregorian).
local function civil(days)
  local z = days + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524)
    - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local d = doy - floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m, d
end

-- Milliseconds since the epoch as "2024-05-01 12:00:00.123" (UTC).
local function stamp(ms)
  local s = floor(ms / 1000)
  local days = floor(s / 86400)
  local sec = s - days * 86400
  local y, m, d = civil(days)
  return format("%04d-%02d-%02d %02d:%02d:%02d.%03d", y, m, d,
    floor(sec / 3600), floor(sec % 3600 / 60), sec % 60, ms - s * 1000)
end

-- "node:counter" of a dot.
local function shortdot(d)
  return (d.node or "?") .. ":" .. tostring(d.counter)
end

return { show = show, preview = preview, stamp = stamp, shortdot = shortdot }
