/* luasrc.h - Lua source files compiled into vv (by mk/lua2c.c). */
#ifndef VV_LUASRC_H
#define VV_LUASRC_H
#include <stddef.h>
#include "lua.h"

/** One embedded .lua file; a list of them ends with a NULL name. */
typedef struct vvl_luasrc {
    const char *name;           /**< "dot" for lua/tools/dot.lua */
    const char *chunkname;      /**< "@lua/tools/dot.lua": for messages */
    const unsigned char *text;  /**< the file's bytes */
    size_t len;
} vvl_luasrc;

/** The .lua files in lua/tools: the tools' parts (build/gen/tools_lua.c). */
extern const vvl_luasrc vvl_tools_lua[];

/** The module's Lua part on LuaJIT, lua/module/vvffi.lua (build/gen/module_lua.c). */
extern const vvl_luasrc vvl_module_lua[];

/** The files lua/repl/vvrepl_*.lua: the REPL's parts (build/gen/vvrepl_lua.c). */
extern const vvl_luasrc vvl_repl_lua[];

/** @brief The entry of list named name, or NULL. */
const vvl_luasrc *vvl_luasrc_find(const vvl_luasrc *list, const char *name);

/** @brief Push the compiled chunk of src; raises on a syntax error (a
 *  build problem: the tests load every part). */
void vvl_luasrc_load(lua_State *L, const vvl_luasrc *src);

#endif
