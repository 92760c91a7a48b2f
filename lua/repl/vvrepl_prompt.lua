-- vvrepl_prompt.lua - the vv prompt (Lua 5.4): read a statement, run
-- it, show what it gave, until the input ends.
--
-- Loaded by vvrepl_start.lua, before any user code runs, with con (the
-- C primitives, lua/repl/vvrepl.h), format (vvrepl_pp.lua) and failure
-- (the text of an error); returns the function that holds a session.
-- What the session needs from the libraries is taken here, so a chunk
-- that changes the globals cannot break the prompt.
local con, format, failure = ...
local G = _ENV
local load, pcall, select, tostring, type = load, pcall, select, tostring,
  type
local byte, sub = string.byte, string.sub
local getenv = os.getenv
local stdout, stderr, write, flush = io.stdout, io.stderr, io.stdout.write,
  io.stdout.flush

local CHUNKNAME = '=stdin'      -- messages say "stdin:LINE:"
local PROMPT, PROMPT2 = 'vv> ', 'vv>> '
local HISTFILE = '.vv_history'  -- in $HOME, unless $VV_HISTORY says
local EOF = '<eof>'
local COLON, EQUALS = byte(':'), byte('=')

-- Write to f at once: results and errors appear before the next prompt.
local function say(f, ...) write(f, ...); flush(f) end

-- The history file: $VV_HISTORY; when unset, ~/.vv_history; when
-- empty, none (nil).
local function historyfile()
  local path = getenv('VV_HISTORY')
  if path == nil then
    local home = getenv('HOME')
    if home == nil or home == '' then return nil end
    path = home .. '/' .. HISTFILE
  end
  if path ~= '' then return path end
  return nil
end

-- The prompt: the global `name` (_PROMPT, or _PROMPT2 for the lines that
-- continue a statement) in its text form, when it is set and has one.
local function prompt(name, default)
  local ok, text = pcall(function()
    local v = G[name]
    if v ~= nil then return tostring(v) end
  end)
  if ok and type(text) == 'string' then return text end
  return default
end

-- Keep a typed line in the history (empty lines are not worth an Up).
local function remember(line)
  if line ~= '' then con.remember(line) end
end

-- Whether a load failed for want of more text: Lua's parser ends the
-- message with "<eof>" when the input ran out before the chunk did.
local function unfinished(msg)
  return type(msg) == 'string' and sub(msg, -#EOF) == EOF
end

-- Compile the text typed so far: as an expression first, so that its
-- values are shown, then as statements.  Returns the function; or nil,
-- the message, and whether more lines could finish the text.
local function compile(text)
  local f, experr = load('return ' .. text, CHUNKNAME, 't')
  if f then return f end
  local g, err = load(text, CHUNKNAME, 't')
  if g then return g end
  if unfinished(err) then return nil, err, true end
  if unfinished(experr) then return nil, experr, true end
  return nil, err, false
end

-- A line ":name args" is a command for people (:help lists them),
-- answered by vv.command on the global db.
local function command(words)
  return function() return G.vv.command(G.db, words) end
end

-- Read one statement, with the second prompt while it is unfinished.
-- Returns a function to run; a string, the message of text that does
-- not compile; false when Ctrl-C dropped it; nil at the end of input.
-- Every line goes to the history as typed.
local function statement()
  local line = con.read(prompt('_PROMPT', PROMPT))
  if not line then return line end
  remember(line)
  if byte(line) == COLON then return command(sub(line, 2)) end
  local text = byte(line) == EQUALS and 'return ' .. sub(line, 2) or line
  while true do
    local f, err, more = compile(text)
    if f or not more then return f or err end
    line = con.read(prompt('_PROMPT2', PROMPT2))
    if line == nil then return err end   -- what was missing
    if line == false then return false end
    remember(line)
    text = text .. '\n' .. line
  end
end

-- Show what a run gave: its values on stdout, or its error on stderr.
local function answer(ok, ...)
  if not ok then return say(stderr, failure(...), '\n') end
  if select('#', ...) == 0 then return end
  local shown, text = pcall(format, ...)
  if shown then return say(stdout, text, '\n') end
  say(stderr, 'error showing a value (', failure(text), ')\n')
end

-- A session: statements until the end of input (Ctrl-D).
return function()
  con.open(historyfile())
  while true do
    local s = statement()
    if s == nil then break end
    if type(s) == 'function' then
      answer(con.run(s))
    elseif s then
      say(stderr, s, '\n')
    end
  end
  say(stdout, '\n')
  con.close()
end
