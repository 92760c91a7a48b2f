/* vvrepl.c - the vv command: a Lua prompt with vv loaded and a store ready. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "vv.h"

#if LUA_VERSION_NUM < 504
#error "the vv REPL is built against Lua 5.4"
#endif

int luaopen_vv(lua_State *L);   /* lua/lvv.c */

#define REPL_PROMPT      "vv> "
#define REPL_PROMPT2     "vv>> "
#define REPL_NODE        "repl"
#define REPL_HISTFILE    ".vv_history"
#define REPL_HISTMAX     1000
#define REPL_MAXINPUT    512      /* line buffer of the fgets fallback */
#define REPL_CHUNKNAME   "=stdin"
#define REPL_EOFMARK     "<eof>"
#define REPL_EOFLEN      (sizeof(REPL_EOFMARK) - 1)

static const char *progname = "vv";
static lua_State *globalL = NULL;          /* for the SIGINT handler */
static volatile sig_atomic_t prompt_interrupted = 0;


/*
** {==================================================================
** Line input: GNU readline, or plain fgets when built with VV_NO_READLINE.
** ===================================================================
*/
#ifndef VV_NO_READLINE

#include <readline/readline.h>
#include <readline/history.h>

#define repl_readline(b, p)    ((void)b, ((b) = readline(p)) != NULL)
#define repl_freeline(b)       free(b)

static char *histpath = NULL;              /* NULL: no history file */

/*
** Add a line to the in-memory history and append it to the history file
** at once, so the history survives os.exit() or a killed terminal.
*/
static void repl_saveline(const char *line) {
    add_history(line);
    if (histpath != NULL)
        append_history(1, histpath);
}

/*
** Readline's input function: read() a byte, and when SIGINT interrupts it
** at the prompt, end the line so readline returns (the caller drops it).
*/
static int prompt_getc(FILE *f) {
    for (;;) {
        unsigned char c;
        ssize_t n = read(fileno(f), &c, 1);
        if (n == 1)
            return c;
        if (n == 0)
            return EOF;
        if (errno != EINTR)
            return EOF;
        if (prompt_interrupted)
            return '\n';
    }
}

/*
** Completion of Lua names: "db:pu", "vv.cl", "pri" are completed from the
** tables they name (globals, fields, and the methods behind __index
** tables).  Nothing is called: __index functions are not followed.
*/
static lua_State *complete_L = NULL;

/* Push the __index table of the value at the top, or the value itself. */
static int complete_fields(lua_State *L) {
    if (lua_type(L, -1) != LUA_TTABLE) {
        if (!luaL_getmetafield(L, -1, "__index"))
            return 0;
        lua_remove(L, -2);
        if (lua_type(L, -1) != LUA_TTABLE)
            return 0;
    }
    return 1;
}

/*
** Walk "a.b.c" (the part of the word before its last '.' or ':') from the
** globals; leaves the table to complete from on the stack, or returns 0.
*/
static int complete_walk(lua_State *L, const char *word, size_t len) {
    size_t i = 0;
    lua_pushglobaltable(L);
    while (i < len) {
        size_t j = i;
        while (j < len && word[j] != '.' && word[j] != ':')
            j++;
        if (!complete_fields(L))
            return 0;
        lua_pushlstring(L, word + i, j - i);
        lua_rawget(L, -2);
        lua_remove(L, -2);
        i = j + 1;
    }
    return complete_fields(L);
}

/* Readline generator: one match per call, then NULL. */
static char *complete_next(const char *text, int state) {
    static int top;
    lua_State *L = complete_L;
    const char *name;
    size_t plen, nlen;
    if (L == NULL)
        return NULL;
    plen = strlen(text);                   /* the prefix: up to a '.' or ':' */
    while (plen > 0 && text[plen - 1] != '.' && text[plen - 1] != ':')
        plen--;
    if (state == 0) {
        top = lua_gettop(L);
        if (!lua_checkstack(L, 8))
            return NULL;
        if (!complete_walk(L, text, plen ? plen - 1 : 0)) {
            lua_settop(L, top);
            return NULL;
        }
        lua_pushnil(L);                    /* first key */
    }
    else if (lua_gettop(L) != top + 2)
        return NULL;
    nlen = strlen(text + plen);
    while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);                     /* keep the key */
        if (lua_type(L, -1) != LUA_TSTRING)
            continue;
        name = lua_tostring(L, -1);
        if ((name[0] != '_' || nlen > 0) &&   /* _G, _VERSION: on "_" */
                strncmp(name, text + plen, nlen) == 0) {
            char *m = malloc(plen + strlen(name) + 1);
            if (m == NULL)
                break;
            memcpy(m, text, plen);
            strcpy(m + plen, name);
            return m;
        }
    }
    lua_settop(L, top);
    return NULL;
}

/* Readline completion entry: Lua names only, never file names. */
static char **complete_lua(const char *text, int start, int end) {
    (void)start; (void)end;
    rl_attempted_completion_over = 1;
    rl_completion_append_character = '\0';
    return rl_completion_matches(text, complete_next);
}

/*
** Set up readline for the prompt: name, completion, an input function
** that gives way to SIGINT, and the history file ($VV_HISTORY, else
** ~/.vv_history; an empty $VV_HISTORY keeps no file).
*/
static void repl_initreadline(lua_State *L) {
    const char *env = getenv("VV_HISTORY");
    rl_readline_name = "vv";
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^#~";
    rl_attempted_completion_function = complete_lua;
    rl_getc_function = prompt_getc;
    rl_catch_signals = 0;                  /* SIGINT is ours (repl_loop) */
    complete_L = L;
    stifle_history(REPL_HISTMAX);
    if (env == NULL) {
        const char *home = getenv("HOME");
        if (home != NULL && home[0] != '\0') {
            size_t n = strlen(home) + sizeof(REPL_HISTFILE) + 1;
            histpath = malloc(n);
            if (histpath != NULL)
                snprintf(histpath, n, "%s/%s", home, REPL_HISTFILE);
        }
    }
    else if (env[0] != '\0')
        histpath = strdup(env);
    if (histpath != NULL) {
        FILE *f = fopen(histpath, "a");   /* create it if missing */
        if (f == NULL) {
            free(histpath);
            histpath = NULL;
            return;
        }
        fclose(f);
        read_history(histpath);
        history_truncate_file(histpath, REPL_HISTMAX);
    }
}

/* Release what repl_initreadline set up. */
static void repl_donereadline(void) {
    complete_L = NULL;
    free(histpath);
    histpath = NULL;
}

#else /* VV_NO_READLINE */

#define repl_readline(b, p) \
    (fputs(p, stdout), fflush(stdout), \
     fgets(b, REPL_MAXINPUT, stdin) != NULL)
#define repl_freeline(b)       ((void)b)
#define repl_saveline(line)    ((void)line)
#define repl_initreadline(L)   ((void)L)
#define repl_donereadline()    ((void)0)

#endif

/*
** SIGINT at the prompt: remember it.  The read it interrupts fails with
** EINTR (the handler is installed without SA_RESTART), and the line being
** typed is dropped.
*/
static void prompt_sigint(int sig) {
    (void)sig;
    prompt_interrupted = 1;
}

/*
** Install handler h for sig (reads it interrupts fail with EINTR rather
** than restart); the previous disposition goes to *old when not NULL.
*/
static void repl_signal(int sig, void (*h)(int), int flags,
                        struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, old);
}
/* }================================================================== */


/*
** {==================================================================
** Showing values: a pretty printer written in Lua, kept in the registry.
** It gives the text of its arguments: strings given directly are shown
** raw; nested strings quoted; clocks (and anything with __tostring) in
** their text form; tables indented with sorted keys, on one line when
** they fit.  Tables are read raw: no metamethod runs while showing.
** ===================================================================
*/
#define REPL_PPKEY  "vv.repl.pp"

static const char pp_source[] =
    "local type, tostring, ipairs, next = type, tostring, ipairs, next\n"
    "local concat, sort, mathtype = table.concat, table.sort, math.type\n"
    "local getmetatable, select, rawget = getmetatable, select, rawget\n"
    "local WIDTH, MAXDEPTH, MAXITEMS = 76, 16, 200\n"
    "local keywords = {}\n"
    "for w in ('and break do else elseif end false for function goto if '\n"
    "  .. 'in local nil not or repeat return then true until while')\n"
    "  :gmatch('%a+') do keywords[w] = true end\n"
    "local esc = { ['\\n'] = '\\\\n', ['\\t'] = '\\\\t', ['\\r'] = '\\\\r',\n"
    "  ['\"'] = '\\\\\"', ['\\\\'] = '\\\\\\\\' }\n"
    "local function quote(s)\n"
    "  return '\"' .. s:gsub('[%c\"\\\\]', function(c)\n"
    "    return esc[c] or ('\\\\%03d'):format(c:byte())\n"
    "  end) .. '\"'\n"
    "end\n"
    "local rank = { number = 1, string = 2, boolean = 3 }\n"
    "local function before(a, b)\n"
    "  local ta, tb = type(a), type(b)\n"
    "  if ta ~= tb then return (rank[ta] or 4) < (rank[tb] or 4) end\n"
    "  if ta == 'number' or ta == 'string' then return a < b end\n"
    "  return tostring(a) < tostring(b)\n"
    "end\n"
    "local show\n"
    "local function showkey(k, seen, depth)\n"
    "  if type(k) == 'string' and k:match('^[%a_][%w_]*$')\n"
    "     and not keywords[k] then return k end\n"
    "  return '[' .. show(k, '', seen, depth, 0) .. ']'\n"
    "end\n"
    "function show(v, indent, seen, depth, lead)\n"
    "  local t = type(v)\n"
    "  if t == 'string' then return quote(v) end\n"
    "  if t ~= 'table' then return tostring(v) end\n"
    "  local mt = getmetatable(v)\n"
    "  if type(mt) == 'table' and mt.__tostring then return tostring(v) end\n"
    "  if seen[v] then return '<cycle>' end\n"
    "  if next(v) == nil then return '{}' end\n"
    "  if depth >= MAXDEPTH then return '{...}' end\n"
    "  seen[v] = true\n"
    "  local items, keys, n = {}, {}, 0\n"
    "  while rawget(v, n + 1) ~= nil do n = n + 1 end\n"
    "  for k in next, v do\n"
    "    if not (mathtype(k) == 'integer' and k >= 1 and k <= n) then\n"
    "      keys[#keys + 1] = k\n"
    "    end\n"
    "  end\n"
    "  sort(keys, before)\n"
    "  local inner, total, multi = indent .. '  ', 0, false\n"
    "  local count = n + #keys\n"
    "  for i = 1, n do\n"
    "    if #items >= MAXITEMS then break end\n"
    "    items[#items + 1] = show(rawget(v, i), inner, seen, depth + 1, 0)\n"
    "  end\n"
    "  for _, k in ipairs(keys) do\n"
    "    if #items >= MAXITEMS then break end\n"
    "    local ks = showkey(k, seen, depth + 1) .. ' = '\n"
    "    items[#items + 1] = ks ..\n"
    "      show(rawget(v, k), inner, seen, depth + 1, #ks)\n"
    "  end\n"
    "  if count > #items then\n"
    "    items[#items + 1] = '... (' .. (count - #items) .. ' more)'\n"
    "  end\n"
    "  seen[v] = nil\n"
    "  for _, s in ipairs(items) do\n"
    "    total = total + #s + 2\n"
    "    if s:find('\\n') then multi = true end\n"
    "  end\n"
    "  if not multi and #indent + lead + total + 1 <= WIDTH then\n"
    "    return '{' .. concat(items, ', ') .. '}'\n"
    "  end\n"
    "  return '{\\n' .. inner .. concat(items, ',\\n' .. inner)\n"
    "    .. ',\\n' .. indent .. '}'\n"
    "end\n"
    "local function format(...)\n"
    "  local out, multi = {}, false\n"
    "  for i = 1, select('#', ...) do\n"
    "    local v = select(i, ...)\n"
    "    out[i] = type(v) == 'string' and v or show(v, '', {}, 0, 0)\n"
    "    if out[i]:find('\\n') then multi = true end\n"
    "  end\n"
    "  return concat(out, multi and '\\n' or '\\t')\n"
    "end\n"
    "local write = io.write\n"
    "return format, function(...) write(format(...), '\\n') end\n";

/*
** Load the pretty printer: its formatting function goes in the registry
** for repl_print, the printing one becomes the global `pp` for users.
*/
static int repl_loadpp(lua_State *L) {
    if (luaL_loadbufferx(L, pp_source, sizeof(pp_source) - 1, "=vv.pp", "t")
            != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 2);
    lua_setglobal(L, "pp");
    lua_setfield(L, LUA_REGISTRYINDEX, REPL_PPKEY);
    return 0;
}
/* }================================================================== */


/*
** {==================================================================
** Running chunks: message handler, SIGINT, reporting.
** ===================================================================
*/

/* Print a message prefixed with the program name, on stderr. */
static void repl_message(const char *pname, const char *msg) {
    if (pname)
        fprintf(stderr, "%s: ", pname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

/* Report a failed call (message on the stack top) and pop it. */
static int repl_report(lua_State *L, int status) {
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        repl_message(progname, msg ? msg : "(error without a message)");
        lua_pop(L, 1);
    }
    return status;
}

/*
** Message handler of every protected call: turn the error into a string
** (using __tostring when the object has one) and add a traceback.
*/
static int repl_msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") &&
                lua_type(L, -1) == LUA_TSTRING)
            return 1;                      /* that is the message */
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Hook set by a SIGINT during a call: clear itself and stop the chunk. */
static void repl_stop(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/*
** SIGINT while Lua runs: only a hook can be set safely from here; it fires
** at the next instruction and raises.  The handler is installed with
** SA_RESETHAND, so a second Ctrl-C kills the process (code stuck in C).
*/
static void repl_action(int sig) {
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    (void)sig;
    lua_sethook(globalL, repl_stop, mask, 1);
}

/*
** Call the function below narg arguments with a traceback handler, and
** SIGINT stopping it; then SIGINT does what it did before.
*/
static int repl_docall(lua_State *L, int narg, int nres) {
    int status;
    int base = lua_gettop(L) - narg;
    struct sigaction old;
    lua_pushcfunction(L, repl_msghandler);
    lua_insert(L, base);
    globalL = L;
    repl_signal(SIGINT, repl_action, SA_RESETHAND, &old);
    status = lua_pcall(L, narg, nres, base);
    sigaction(SIGINT, &old, NULL);
    lua_remove(L, base);
    return status;
}

/* Run a chunk from a string (-e). */
static int repl_dostring(lua_State *L, const char *s, const char *name) {
    int status = luaL_loadbuffer(L, s, strlen(s), name);
    if (status == LUA_OK)
        status = repl_docall(L, 0, 0);
    return repl_report(L, status);
}

/* Push arg[1..#arg] (the script's arguments) and return how many. */
static int repl_pushargs(lua_State *L) {
    int i, n;
    if (lua_getglobal(L, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

/* Run a script file (NULL or "-": stdin) with its arguments as `...`. */
static int repl_doscript(lua_State *L, const char *fname) {
    int status;
    if (fname != NULL && strcmp(fname, "-") == 0)
        fname = NULL;
    status = luaL_loadfile(L, fname);
    if (status == LUA_OK) {
        int n = repl_pushargs(L);
        status = repl_docall(L, n, LUA_MULTRET);
    }
    return repl_report(L, status);
}
/* }================================================================== */


/*
** {==================================================================
** The interactive loop.
** ===================================================================
*/

/* The prompt: _PROMPT / _PROMPT2 when set (any value tostring-able). */
static const char *repl_getprompt(lua_State *L, int firstline) {
    if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL)
        return firstline ? REPL_PROMPT : REPL_PROMPT2;
    else {
        const char *p = luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
        return p;
    }
}

/*
** A line ":name args" typed at the prompt is a command for people (:help
** lists them): push "return vv.command(db, "name args")", every byte
** but letters, digits and spaces written as a \ddd escape.
*/
static void repl_pushcommand(lua_State *L, const char *s, size_t n) {
    luaL_Buffer b;
    size_t i;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "return vv.command(db, \"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == ' ')
            luaL_addchar(&b, (char)c);
        else {
            char esc[8];
            snprintf(esc, sizeof esc, "\\%03u", (unsigned)c);
            luaL_addstring(&b, esc);
        }
    }
    luaL_addstring(&b, "\")");
    luaL_pushresult(&b);
}

/*
** Read a line and push it (without its newline).  On the first line of a
** statement "=expr" becomes "return expr".  Returns 1 for a line, 0 at
** end of input, -1 when Ctrl-C dropped the line.
*/
static int repl_pushline(lua_State *L, int firstline) {
#ifdef VV_NO_READLINE
    char buffer[REPL_MAXINPUT];
    char *b = buffer;
#else
    char *b = NULL;
#endif
    size_t l;
    int got;
    const char *prompt = repl_getprompt(L, firstline);
    prompt_interrupted = 0;
    got = repl_readline(b, prompt);
    lua_pop(L, 1);                         /* prompt */
    if (prompt_interrupted) {              /* Ctrl-C: drop the line */
        prompt_interrupted = 0;
        if (got)
            repl_freeline(b);
        else {
            clearerr(stdin);
            fputc('\n', stdout);
            fflush(stdout);
        }
        return -1;
    }
    if (!got)
        return 0;
    l = strlen(b);
    if (l > 0 && b[l - 1] == '\n')
        b[--l] = '\0';
    if (firstline && b[0] == '=')
        lua_pushfstring(L, "return %s", b + 1);
    else if (firstline && b[0] == ':')
        repl_pushcommand(L, b + 1, l - 1);
    else
        lua_pushlstring(L, b, l);
    if (l > 0)
        repl_saveline(b);
    repl_freeline(b);
    return 1;
}

/*
** Try the line as an expression: compile "return <line>;".  On success the
** function is pushed above the line's text; on failure nothing is.
*/
static int repl_addreturn(lua_State *L) {
    const char *line = lua_tostring(L, -1);
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbufferx(L, retline, strlen(retline), REPL_CHUNKNAME,
                                  "t");
    lua_remove(L, -2);                     /* the "return" text */
    if (status != LUA_OK)
        lua_pop(L, 1);                     /* its error */
    return status;
}

/*
** A syntax error ending in "<eof>" means the chunk is unfinished: pop the
** message and return 1.  Anything else is a real result.
*/
static int repl_incomplete(lua_State *L, int status) {
    if (status == LUA_ERRSYNTAX) {
        size_t lmsg;
        const char *msg = lua_tolstring(L, -1, &lmsg);
        if (lmsg >= REPL_EOFLEN &&
                strcmp(msg + lmsg - REPL_EOFLEN, REPL_EOFMARK) == 0) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

/*
** Compile the text on the stack as a statement, reading more lines with
** the secondary prompt while it is incomplete.  Typed text is loaded as
** text only: a line starting with ESC is not taken for a binary chunk.
** Leaves the function or the error message on top of the text.  Returns
** the load status, or -1 when Ctrl-C dropped the statement (nothing
** pushed).
*/
static int repl_multiline(lua_State *L) {
    for (;;) {
        size_t len;
        const char *chunk = lua_tolstring(L, 1, &len);
        int status = luaL_loadbufferx(L, chunk, len, REPL_CHUNKNAME, "t");
        int more;
        if (!repl_incomplete(L, status))
            return status;
        more = repl_pushline(L, 0);
        if (more == 0) {                   /* end of input mid-statement */
            return luaL_loadbufferx(L, chunk, len, REPL_CHUNKNAME, "t");
        }
        if (more < 0)
            return -1;
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);                  /* text .. "\n" .. line */
    }
}

/*
** Read one statement: leaves a function (status LUA_OK) or an error
** message on the stack.  Returns -1 at end of input, -2 on Ctrl-C.
*/
static int repl_loadline(lua_State *L) {
    int status;
    lua_settop(L, 0);
    status = repl_pushline(L, 1);
    if (status == 0)
        return -1;
    if (status < 0)
        return -2;
    if ((status = repl_addreturn(L)) != LUA_OK) {
        status = repl_multiline(L);
        if (status == -1) {
            lua_settop(L, 0);
            return -2;
        }
    }
    lua_remove(L, 1);                      /* the text */
    return status;
}

/* Show the values on the stack through the pretty printer. */
static void repl_print(lua_State *L) {
    int n = lua_gettop(L);
    if (n > 0) {
        luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
        lua_getfield(L, LUA_REGISTRYINDEX, REPL_PPKEY);
        lua_insert(L, 1);
        if (lua_pcall(L, n, 1, 0) != LUA_OK)
            repl_message(progname, lua_pushfstring(L,
                "error showing a value (%s)", lua_tostring(L, -1)));
        else {
            size_t len;
            const char *s = lua_tolstring(L, -1, &len);
            fwrite(s, 1, len, stdout);
            fputc('\n', stdout);
            fflush(stdout);
        }
    }
}

/* The read-eval-print loop, until end of input. */
static void repl_loop(lua_State *L) {
    int status;
    const char *oldprogname = progname;
    progname = NULL;                       /* no "vv: " on REPL errors */
    repl_initreadline(L);
    repl_signal(SIGINT, prompt_sigint, 0, NULL);  /* Ctrl-C never kills */
    while ((status = repl_loadline(L)) != -1) {
        if (status == -2)
            continue;                      /* Ctrl-C: a fresh prompt */
        if (status == LUA_OK)
            status = repl_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            repl_print(L);
        else
            repl_report(L, status);
    }
    repl_signal(SIGINT, SIG_DFL, 0, NULL);
    lua_settop(L, 0);
    fputc('\n', stdout);
    fflush(stdout);
    repl_donereadline();
    progname = oldprogname;
}
/* }================================================================== */


/*
** {==================================================================
** Command line.
** ===================================================================
*/
typedef struct repl_opts {
    const char *node;        /* --node, default "repl" */
    const char *path;        /* --path: a durable store */
    int script;              /* argv index of the script, 0 when none */
    int has_e;               /* at least one -e */
    int interactive;         /* -i */
    int version;             /* -v */
    int help;                /* -h, --help */
    const char *bad;         /* the option that was wrong, or NULL */
} repl_opts;

/* Print the usage text to f. */
static void repl_usage(FILE *f) {
    fprintf(f,
        "usage: %s [options] [script.lua [args]]\n"
        "       %s COMMAND [args]\n"
        "Starts a Lua prompt with the module 'vv' loaded and a store 'db'\n"
        "opened (vv.open{node=NAME}); expressions typed alone show their\n"
        "value, pp(...) shows any value the same way.\n"
        "Options:\n"
        "  --node NAME  name of the store's node (default \"" REPL_NODE
        "\", or the one a --path directory records)\n"
        "  --path DIR   open a durable store in DIR (default: in memory)\n"
        "  -e CODE      run CODE (several -e run in order)\n"
        "  -i           enter the prompt after the script or -e\n"
        "  -v           show the version\n"
        "  -h, --help   show this help\n"
        "  --           stop handling options\n"
        "  -            run standard input as a script\n"
        "Commands:\n"
        "  check-resolver SCRIPT.lua       check a resolver script\n"
        "  dot KS KEY [--path DIR]         Graphviz view of a key\n"
        "Environment: VV_HISTORY names the history file (default\n"
        "~/" REPL_HISTFILE "; empty: no history).  _PROMPT and _PROMPT2 set\n"
        "the prompts.\n",
        progname, progname);
}

/* Option with a value: "--node NAME" or "--node=NAME". */
static const char *repl_optvalue(char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && argv[*i + 1] != NULL)
        return argv[++*i];
    return NULL;
}

/* Scan the options (without running anything) up to the script name. */
static void repl_collect(int argc, char **argv, repl_opts *o) {
    int i;
    memset(o, 0, sizeof *o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            o->script = i;
            return;
        }
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc)
                o->script = i + 1;
            return;
        }
        if ((v = repl_optvalue(argv, &i, "--node")) != NULL)
            o->node = v;
        else if ((v = repl_optvalue(argv, &i, "--path")) != NULL)
            o->path = v;
        else if (strcmp(a, "-e") == 0) {
            if (argv[i + 1] == NULL) {
                o->bad = a;
                return;
            }
            i++;
            o->has_e = 1;
        }
        else if (strcmp(a, "-i") == 0)
            o->interactive = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0)
            o->version = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            o->help = 1;
        else {
            o->bad = a;
            return;
        }
    }
}

/* Run the -e chunks in order (options before the script only). */
static int repl_runargs(lua_State *L, char **argv, int last) {
    int i;
    for (i = 1; i < last; i++) {
        if (strcmp(argv[i], "--node") == 0 || strcmp(argv[i], "--path") == 0)
            i++;
        else if (strcmp(argv[i], "-e") == 0) {
            if (repl_dostring(L, argv[++i], "=(command line)") != LUA_OK)
                return 0;
        }
    }
    return 1;
}

/*
** The global `arg`, as the lua command makes it: arg[0] is the script,
** arg[1..] its arguments, negative indices the interpreter and options.
*/
static void repl_createargtable(lua_State *L, char **argv, int argc,
                                int script) {
    int i, narg;
    if (script == 0)
        script = argc;                     /* no script: all negative */
    narg = argc - (script + 1);
    lua_createtable(L, narg > 0 ? narg : 0, script + 1);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* db = vv.open{node = NODE, path = PATH} as a global. */
static int repl_opendb(lua_State *L, const repl_opts *o) {
    int status, attempt;
    /* no --node: "repl" in memory; with --path, the node the directory
     * records, or "repl" when the directory holds no store yet */
    for (attempt = 0; attempt < 2; attempt++) {
        const char *node = o->node != NULL ? o->node
                         : (o->path == NULL || attempt) ? REPL_NODE : NULL;
        lua_getglobal(L, "vv");
        lua_getfield(L, -1, "open");
        lua_remove(L, -2);
        lua_createtable(L, 0, 2);
        if (node != NULL) {
            lua_pushstring(L, node);
            lua_setfield(L, -2, "node");
        }
        if (o->path != NULL) {
            lua_pushstring(L, o->path);
            lua_setfield(L, -2, "path");
        }
        status = repl_docall(L, 1, 1);
        if (status == LUA_OK || node != NULL) break;
        if (!strstr(lua_tostring(L, -1) ? lua_tostring(L, -1) : "",
                    "node name is required"))
            break;
        lua_pop(L, 1);                  /* a new directory: use the default */
    }
    if (status == LUA_OK)
        lua_setglobal(L, "db");
    return repl_report(L, status);
}

/* Load the libraries, vv (global and in package.loaded) and pp. */
static void repl_openlibs(lua_State *L) {
    luaL_openlibs(L);
    luaL_requiref(L, "vv", luaopen_vv, 1);
    lua_pop(L, 1);
    lua_pushcfunction(L, repl_loadpp);
    lua_call(L, 0, 0);
}

/* Show the version line. */
static void repl_version(void) {
    printf("vv %s (%s)\n", VV_VERSION, LUA_RELEASE);
    fflush(stdout);
}

/* The usual run: options, -e chunks, script, and/or the prompt. */
static int repl_pmain(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    repl_opts o;
    int tty;
    repl_collect(argc, argv, &o);
    if (o.bad != NULL) {
        fprintf(stderr, "%s: unknown or incomplete option '%s'\n",
                progname, o.bad);
        repl_usage(stderr);
        return 0;
    }
    if (o.help) {
        repl_usage(stdout);
        lua_pushboolean(L, 1);
        return 1;
    }
    if (o.version)
        repl_version();
    repl_openlibs(L);
    repl_createargtable(L, argv, argc, o.script);
    if (repl_opendb(L, &o) != LUA_OK)
        return 0;
    if (!repl_runargs(L, argv, o.script ? o.script : argc))
        return 0;
    if (o.script && repl_doscript(L, argv[o.script]) != LUA_OK)
        return 0;
    tty = isatty(0);
    if (o.interactive || (!o.script && !o.has_e && !o.version && tty)) {
        if (tty) {
            repl_version();
            printf("store 'db': node \"%s\", %s%s.  :help lists "
                   "commands; Ctrl-D leaves.\n",
                   o.node ? o.node : o.path ? "(the directory's)" : REPL_NODE,
                   o.path ? "durable in " : "in memory",
                   o.path ? o.path : "");
        }
        repl_loop(L);
    }
    else if (!o.script && !o.has_e && !o.version) {
        if (repl_doscript(L, NULL) != LUA_OK)   /* vv < file */
            return 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}
/* }================================================================== */


/*
** {==================================================================
** Commands: `vv NAME args...`.  Each runs in a protected call with vv
** loaded; add one by writing its function and a line in repl_cmds.
** ===================================================================
*/

/* Look up vv.<fn>; raise a clear error when this build lacks it. */
static void cmd_getfn(lua_State *L, const char *fn, const char *cmd) {
    lua_getglobal(L, "vv");
    if (lua_getfield(L, -1, fn) != LUA_TFUNCTION)
        luaL_error(L, "'%s' is not available in this build (no vv.%s)",
                   cmd, fn);
    lua_remove(L, -2);
}

/* vv check-resolver SCRIPT: vv.check_resolver(path) -> ok, report. */
static int cmd_check_resolver(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    if (argc != 3)
        return luaL_error(L, "usage: %s check-resolver SCRIPT.lua", progname);
    cmd_getfn(L, "check_resolver", "check-resolver");
    lua_pushstring(L, argv[2]);
    lua_call(L, 1, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, REPL_PPKEY);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 1);
    puts(lua_tostring(L, -1));
    lua_pop(L, 2);
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
}

/* vv dot KS KEY [--path DIR] [--node NAME]: vv.dot(db, ks, key). */
static int cmd_dot(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    repl_opts o;
    const char *pos[2];
    int i, npos = 0;
    memset(&o, 0, sizeof o);
    for (i = 2; i < argc; i++) {
        const char *v;
        if ((v = repl_optvalue(argv, &i, "--path")) != NULL)
            o.path = v;
        else if ((v = repl_optvalue(argv, &i, "--node")) != NULL)
            o.node = v;
        else if (argv[i][0] != '-' && npos < 2)
            pos[npos++] = argv[i];
        else
            npos = 3;
    }
    if (npos != 2)
        return luaL_error(L, "usage: %s dot KS KEY [--path DIR] [--node NAME]",
                          progname);
    cmd_getfn(L, "dot", "dot");
    if (repl_opendb(L, &o) != LUA_OK)
        return luaL_error(L, "cannot open the store");
    lua_getglobal(L, "db");
    lua_pushstring(L, pos[0]);
    lua_pushstring(L, pos[1]);
    lua_call(L, 3, 1);
    fputs(luaL_tolstring(L, -1, NULL), stdout);
    lua_pushboolean(L, 1);
    return 1;
}

static const struct repl_cmd {
    const char *name;
    lua_CFunction run;       /* gets argc, argv; returns success */
} repl_cmds[] = {
    {"check-resolver", cmd_check_resolver},
    {"dot", cmd_dot},
    {NULL, NULL}
};

/* The command named by argv[1], or NULL. */
static const struct repl_cmd *repl_findcmd(int argc, char **argv) {
    const struct repl_cmd *cmd;
    if (argc < 2)
        return NULL;
    for (cmd = repl_cmds; cmd->name != NULL; cmd++)
        if (strcmp(argv[1], cmd->name) == 0)
            return cmd;
    return NULL;
}

/* Run a command with vv loaded: the libraries first, then the command. */
static int repl_pcmd(lua_State *L) {
    const struct repl_cmd *cmd = (const struct repl_cmd *)lua_touserdata(L, 3);
    repl_openlibs(L);
    lua_settop(L, 2);
    return cmd->run(L);
}
/* }================================================================== */


int main(int argc, char **argv) {
    int status, ok;
    const struct repl_cmd *cmd = repl_findcmd(argc, argv);
    lua_State *L = luaL_newstate();
    if (argv[0] && argv[0][0])
        progname = argv[0];
    if (L == NULL) {
        repl_message(progname, "cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_pushcfunction(L, cmd ? repl_pcmd : repl_pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    if (cmd != NULL)
        lua_pushlightuserdata(L, (void *)cmd);
    if (cmd != NULL)                       /* plain messages, no traceback */
        status = lua_pcall(L, 3, 1, 0);
    else
        status = repl_docall(L, 2, 1);
    ok = status == LUA_OK && lua_toboolean(L, -1);
    repl_report(L, status);
    lua_close(L);
    return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
