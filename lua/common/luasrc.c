/* luasrc.c - finding and loading the Lua source files compiled into vv. */
#include <string.h>
#include "lua.h"
#include "lauxlib.h"
#include "luasrc.h"

/* A linear search: the lists hold a handful of files. */
const vvl_luasrc *vvl_luasrc_find(const vvl_luasrc *list, const char *name)
{
    for (; list->name != NULL; list++)
        if (strcmp(list->name, name) == 0) return list;
    return NULL;
}

/* luaL_loadbuffer on every host; the chunk name keeps the file's path. */
void vvl_luasrc_load(lua_State *L, const vvl_luasrc *src)
{
    if (luaL_loadbuffer(L, (const char *)src->text, src->len,
                        src->chunkname) != 0)
        lua_error(L);
}
