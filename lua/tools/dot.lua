-- dot.lua - vv.dot(db, ks, key): a key's versions and what replaced what,
-- as a Graphviz picture (Lua 5.1 to 5.4, LuaJIT).
local vv, T = ...
local type, ipairs, tostring, error = type, ipairs, tostring, error
local concat, sort = table.concat, table.sort
local format, byte, char = string.format, string.byte, string.char
local S = T.need "show"
local show, preview, stamp, shortdot = S.show, S.preview, S.stamp, S.shortdot

-- Text inside a DOT "..." string: \ and " escaped, other bytes ASCII.
local function dq(s)
  local out = {}
  for i = 1, #s do
    local b = byte(s, i)
    if b == 34 or b == 92 then out[#out + 1] = "\\" .. char(b)
    elseif b == 10 then out[#out + 1] = "\\n"
    elseif b >= 32 and b < 127 then out[#out + 1] = char(b)
    else out[#out + 1] = format("\\\\x%02x", b) end
  end
  return '"' .. concat(out) .. '"'
end

-- Raise unless db is an open store.
local function checkdb(fn, db)
  local open = T.isstore(db)
  if open == nil then
    error(fn .. ": bad argument #1 (store expected, got " .. type(db)
      .. ")", 3)
  elseif not open then
    error(fn .. ": attempt to use a closed store", 3)
  end
end

local function checkks(fn, ks, key)
  if type(ks) ~= "string" then
    error(fn .. ": bad argument #2 (keyspace name expected, got "
      .. type(ks) .. ")", 3)
  end
  if type(key) ~= "string" then
    error(fn .. ": bad argument #3 (key expected, got " .. type(key) .. ")", 3)
  end
end

-- The graph of a key as db knows it: its history entries (when its
-- keyspace keeps them) and its current versions.
local function graph(db, ks, key)
  local cfg = db:keyspace(ks) or {}
  local codec = cfg.codec or "msgpack"
  local state = T.state(db, ks, key)
  local hist = db:history(ks, key)
  local nodes, byid, edges = {}, {}, {}
  local function node(d)
    local id = d.actor and (d.actor .. ":" .. tostring(d.counter))
    local n = byid[id]
    if not n then
      n = { id = id, actor = d.actor, node = d.node, counter = d.counter }
      byid[id] = n
      nodes[#nodes + 1] = n
    end
    return n
  end
  for i, e in ipairs(hist) do
    local n
    if e.actor then
      n = node(e)
    else                                  -- a merge that only removed
      n = { id = "merge#" .. i, merge = true }
      nodes[#nodes + 1] = n
    end
    n.known, n.timestamp, n.tombstone, n.how = true, e.timestamp,
      e.tombstone, e.how
    n.text = e.tombstone and "(deleted)"
      or preview(e.preview, e.value_len, codec, true)
    for _, r in ipairs(e.replaced) do
      edges[#edges + 1] = { from = n, to = node(r), how = e.how }
    end
  end
  if state then
    for _, v in ipairs(state.versions) do
      local n = node(v)
      n.known, n.current, n.timestamp, n.tombstone = true, true,
        v.timestamp, v.tombstone
      n.text = v.tombstone and "(deleted)"
        or preview(v.value, #v.value, codec, true)
    end
  end
  return { nodes = nodes, edges = edges, state = state, history = hist,
    config = cfg }
end

-- Order nodes by time, then dot, so the text is the same every time.
local function nodeless(a, b)
  local ta, tb = a.timestamp or -1, b.timestamp or -1
  if ta ~= tb then return ta < tb end
  return tostring(a.id) < tostring(b.id)
end

local function ctxtext(state)
  if not state then return "{}" end
  local t = {}
  for i, c in ipairs(state.context) do t[i] = shortdot(c) end
  return "{" .. concat(t, ", ") .. "}"
end

function vv.dot(db, ks, key)
  checkdb("dot", db)
  checkks("dot", ks, key)
  local g = graph(db, ks, key)
  local out = {}
  local function w(...) out[#out + 1] = concat({ ... }) end
  local live = 0
  if g.state then
    for _, v in ipairs(g.state.versions) do
      if not v.tombstone then live = live + 1 end
    end
  end
  local title = format("keyspace %s, key %s at %s\ncontext %s; %d sibling%s",
    show(ks, 40, true), show(key, 40, true), db:actor(), ctxtext(g.state),
    live, live == 1 and "" or "s")
  if #g.history == 0 then
    title = title .. ((g.config.history or 0) > 0
      and "; no history kept yet" or "; history off: current versions only")
  end
  w("digraph vv {")
  w("  graph [rankdir=BT, labelloc=t, fontname=\"Helvetica\", fontsize=12,",
    " label=", dq(title), "];")
  w("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];")
  w("  edge [fontname=\"Helvetica\", fontsize=9];")
  sort(g.nodes, nodeless)
  for _, n in ipairs(g.nodes) do
    local attrs
    if n.merge then
      attrs = "shape=ellipse, style=dashed, label=" ..
        dq("merge\nremoved versions\n" .. stamp(n.timestamp))
    elseif not n.known then
      attrs = "style=dotted, fontcolor=\"#777777\", label=" ..
        dq(shortdot(n) .. "\n(not in the kept history)")
    else
      local lines = { n.text, shortdot(n) .. "  " .. n.actor }
      if n.how then
        lines[#lines + 1] = n.how == "merge" and "arrived by merge"
          or "written here"
      end
      lines[#lines + 1] = stamp(n.timestamp)
      if n.current and not n.tombstone then
        attrs = "style=\"rounded,filled,bold\", fillcolor=\"#ffe9a8\", " ..
          "penwidth=2, label=" .. dq("sibling\n" .. concat(lines, "\n"))
      elseif n.current then
        attrs = "style=\"rounded,dashed,filled\", fillcolor=\"#e8e8e8\", " ..
          "label=" .. dq("tombstone\n" .. concat(lines, "\n"))
      elseif n.tombstone then
        attrs = "style=\"rounded,dashed\", color=\"#888888\", " ..
          "fontcolor=\"#555555\", label=" .. dq(concat(lines, "\n"))
      else
        attrs = "color=\"#888888\", fontcolor=\"#555555\", label=" ..
          dq(concat(lines, "\n"))
      end
    end
    w("  ", dq(n.id), " [", attrs, "];")
  end
  for _, e in ipairs(g.edges) do
    w("  ", dq(e.from.id), " -> ", dq(e.to.id), e.how == "merge"
      and " [label=\"replaced (merge)\", style=dashed];"
      or " [label=\"replaced\"];")
  end
  w("}")
  return concat(out, "\n") .. "\n"
end
