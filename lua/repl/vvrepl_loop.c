/* vvrepl_loop.c - the vv prompt: read a statement, run it, show results. */
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "vvrepl.h"

#define REPL_PROMPT      "vv> "
#define REPL_PROMPT2     "vv>> "
#define REPL_CHUNKNAME   "=stdin"
#define REPL_EOFMARK     "<eof>"
#define REPL_EOFLEN      (sizeof(REPL_EOFMARK) - 1)

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
    char *b = NULL;
    size_t l;
    int got = repl_readline(&b, repl_getprompt(L, firstline));
    lua_pop(L, 1);                         /* prompt */
    if (got < 0)
        return -1;                         /* Ctrl-C dropped the line */
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

/* The read-eval-print loop, until end of input. */
void repl_loop(lua_State *L) {
    int status;
    const char *oldprogname = repl_progname;
    repl_progname = NULL;                  /* no "vv: " on REPL errors */
    repl_initreadline(L);
    repl_promptsignal(1);                  /* Ctrl-C never kills */
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
    repl_promptsignal(0);
    lua_settop(L, 0);
    fputc('\n', stdout);
    fflush(stdout);
    repl_donereadline();
    repl_progname = oldprogname;
}
