-- vvrepl_start.lua - what build/vv does with its command line (Lua 5.4).
--
-- lua/repl/vvrepl.c calls this chunk with con (the C primitives: the
-- console, run, version; lua/repl/vvrepl.h), format (vvrepl_pp.lua),
-- the chunk of vvrepl_prompt.lua and the command line as a table
-- (argv[0] at [0]).  It returns true for exit status 0.  Everything it
-- uses is taken from the libraries here, before any user code runs, so
-- a chunk that changes the globals cannot break the program.
local con, format, promptchunk, argv = ...
local G, vv = _ENV, vv
local type, tostring, pcall, rawget, error = type, tostring, pcall, rawget,
  error
local load, loadfile, ipairs = load, loadfile, ipairs
local byte, find, match = string.byte, string.find, string.match
local gsub, fmt = string.gsub, string.format
local unpack = table.unpack
local getmetatable = debug.getmetatable
local stdout, stderr, write, flush = io.stdout, io.stderr, io.stdout.write,
  io.stdout.flush

local NODE = 'repl'             -- the store's node when none is named
local DASH = byte('-')
local progname = argv[0] ~= nil and argv[0] ~= '' and argv[0] or 'vv'

-- Write to f at once (stdout may be a pipe, read as we go).
local function say(f, ...) write(f, ...); flush(f) end

-- Report a failure on stderr, after the program's name; returns false.
local function complain(msg)
  say(stderr, progname, ': ', msg, '\n')
  return false
end

-- The text of an error: a string or number as it is, a value with
-- __tostring in its text form, any other value shown as the prompt
-- shows results; then the traceback, when there is one.
local function failure(err, trace)
  local t, text = type(err), nil
  if t == 'string' or t == 'number' then
    text = tostring(err)
  else
    local mt = getmetatable(err)
    local ok, s = pcall(format, err)
    if not ok then
      text = 'error object: a ' .. t .. ' value that cannot be shown'
    elseif type(mt) == 'table' and rawget(mt, '__tostring') ~= nil then
      text = s
    else
      text = 'error object: ' .. s
    end
  end
  if trace then return text .. '\n' .. trace end
  return text
end

-- The help text (vv -h), naming the program as it was called.
local function usage()
  local text = [==[
usage: %s [options] [script.lua [args]]
       %s COMMAND [args]
Starts a Lua prompt with the module 'vv' loaded and a store 'db'
opened (vv.open{node=NAME}); expressions typed alone show their
value, pp(...) shows any value the same way.
Options:
  --node NAME  name of the store's node (default "repl", or the one a ]==]
    .. [==[--path directory records)
  --path DIR   open a durable store in DIR (default: in memory)
  -e CODE      run CODE (several -e run in order)
  -i           enter the prompt after the script or -e
  -v           show the version
  -h, --help   show this help
  --           stop handling options
  -            run standard input as a script
Commands:
  check-resolver SCRIPT.lua       check a resolver script
  dot KS KEY [--path DIR]         Graphviz view of a key
Environment: VV_HISTORY names the history file (default
~/.vv_history; empty: no history).  _PROMPT and _PROMPT2 set
the prompts.
]==]
  return (gsub(text, '%%s', (gsub(progname, '%%', '%%%%'))))
end

-- An option with a value at argv[i]: "--node NAME" or "--node=NAME".
-- Returns the option's field (node, path), its value and the index of
-- the last word it took; nil when argv[i] is not one.
local VALUED = { ['--node'] = 'node', ['--path'] = 'path' }
local function valued(i)
  local a = argv[i]
  local name, value = match(a, '^(%-%-[^=]*)=(.*)$')
  if name and VALUED[name] then return VALUED[name], value, i end
  if VALUED[a] and argv[i + 1] ~= nil then
    return VALUED[a], argv[i + 1], i + 1
  end
end

-- The options before the script: a table (node, path, chunks: the -e
-- texts in order, script: the script's index in argv, interactive,
-- version, help); or nil and the option that is wrong.
local FLAGS = { ['-i'] = 'interactive', ['-v'] = 'version',
  ['--version'] = 'version', ['-h'] = 'help', ['--help'] = 'help' }
local function options()
  local o, i = { chunks = {} }, 1
  while argv[i] ~= nil do
    local a = argv[i]
    local field, value, last = valued(i)
    if a == '--' then
      if argv[i + 1] ~= nil then o.script = i + 1 end
      return o
    elseif a == '-' or byte(a) ~= DASH then
      o.script = i
      return o
    elseif field then
      o[field], i = value, last
    elseif a == '-e' and argv[i + 1] ~= nil then
      o.chunks[#o.chunks + 1], i = argv[i + 1], i + 1
    elseif FLAGS[a] then
      o[FLAGS[a]] = true
    else
      return nil, a
    end
    i = i + 1
  end
  return o
end

-- The global arg: the script at [0], its arguments from [1], the
-- program and its options at negative indices (all of them when there
-- is no script).
local function setarg(script)
  local t = {}
  for i = 0, #argv do t[i - script] = argv[i] end
  G.arg = t
end

-- vv.open{node = ..., path = ...}; reports a failure.  Without a node
-- the store is "repl" in memory; with --path, the node the directory
-- records, or "repl" when it holds no store yet.
local function opendb(o)
  local spec = { node = o.node, path = o.path }
  if not o.node and not o.path then spec.node = NODE end
  local ok, db, trace = con.run(vv.open, spec)
  if not ok and not o.node and type(db) == 'string'
     and find(db, 'node name is required', 1, true) then
    spec.node = NODE
    ok, db, trace = con.run(vv.open, spec)
  end
  if not ok then return complain(failure(db, trace)) end
  return db
end

-- Run f (a chunk, or nil and the message of one that did not load)
-- with the arguments; reports a failure, returns whether it went well.
local function runchunk(f, err, ...)
  if not f then return complain(err) end
  local ok, e, trace = con.run(f, ...)
  if not ok then return complain(failure(e, trace)) end
  return true
end

-- `vv NAME args...`: commands with vv loaded; each returns the exit
-- status, or raises a message for people.
local commands = {}

-- The vv function a command needs, or a clear error.
local function need(fn, cmd)
  if type(vv[fn]) ~= 'function' then
    error(fmt("'%s' is not available in this build (no vv.%s)", cmd, fn), 0)
  end
  return vv[fn]
end

-- vv check-resolver SCRIPT: the checker's report; status 0 when it passes.
commands['check-resolver'] = function()
  if #argv ~= 2 then
    error('usage: ' .. progname .. ' check-resolver SCRIPT.lua', 0)
  end
  local ok, report = need('check_resolver', 'check-resolver')(argv[2])
  say(stdout, format(report), '\n')
  return not not ok
end

-- vv dot KS KEY [--path DIR] [--node NAME]: the key's picture, as DOT.
commands.dot = function()
  local o, words, i, wrong = {}, {}, 2, false
  while argv[i] ~= nil do
    local field, value, last = valued(i)
    if field then
      o[field], i = value, last
    elseif byte(argv[i]) ~= DASH and #words < 2 then
      words[#words + 1] = argv[i]
    else
      wrong = true
    end
    i = i + 1
  end
  if wrong or #words ~= 2 then
    error('usage: ' .. progname .. ' dot KS KEY [--path DIR] [--node NAME]', 0)
  end
  local dot = need('dot', 'dot')
  local db = opendb(o)
  if not db then error('cannot open the store', 0) end
  say(stdout, tostring(dot(db, words[1], words[2])))
  return true
end

-- The usual run: options, the store, -e chunks, the script, the prompt
-- (or standard input as a script when it is not a terminal).
local function main()
  local cmd = commands[argv[1]]
  if cmd then
    local ok, res = pcall(cmd)
    if not ok then return complain(failure(res)) end
    return res
  end
  local o, wrong = options()
  if not o then
    complain("unknown or incomplete option '" .. wrong .. "'")
    say(stderr, usage())
    return false
  end
  if o.help then
    say(stdout, usage())
    return true
  end
  if o.version then say(stdout, con.version, '\n') end
  local prompt = promptchunk(con, format, failure)
  setarg(o.script or #argv + 1)
  local db = opendb(o)
  if not db then return false end
  G.db = db
  for _, text in ipairs(o.chunks) do
    if not runchunk(load(text, '=(command line)')) then return false end
  end
  if o.script then
    local name = argv[o.script]
    local f, err = loadfile(name ~= '-' and name or nil)
    if not runchunk(f, err, unpack(argv, o.script + 1)) then return false end
  end
  local alone = not o.script and #o.chunks == 0 and not o.version
  local tty = con.tty()
  if o.interactive or (alone and tty) then
    if tty then
      say(stdout, con.version, '\n', fmt('store \'db\': node "%s", %s%s.  '
        .. ':help lists commands; Ctrl-D leaves.\n',
        o.node or (o.path and "(the directory's)") or NODE,
        o.path and 'durable in ' or 'in memory', o.path or ''))
    end
    prompt()
  elseif alone then
    return runchunk(loadfile(nil))
  end
  return true
end

return main()
