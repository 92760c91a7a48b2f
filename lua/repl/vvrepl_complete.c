/* vvrepl_complete.c - Tab completion of Lua names at the vv prompt. */
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "vvrepl.h"

#ifndef VV_NO_READLINE

#include <stdio.h>
#include <readline/readline.h>

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

/* Have readline complete Lua names (once, when the prompt opens). */
void repl_completion(void) {
    rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{}()[],+-*/%^#~";
    rl_attempted_completion_function = complete_lua;
}

/* Complete from L's globals while L waits for a line; NULL afterwards. */
void repl_complete_from(lua_State *L) {
    complete_L = L;
}

#else /* VV_NO_READLINE: nothing to complete with */

void repl_completion(void) { }
void repl_complete_from(lua_State *L) { (void)L; }

#endif
