/* ltools.h - vv.dot, vv.check_resolver, vv.command: seeing conflicts. */
#ifndef VV_LTOOLS_H
#define VV_LTOOLS_H
#include "lua.h"

/** @brief Add dot, check_resolver and command to the module table on top
 *  of the stack (called by luaopen_vv).  Raises on a memory error. */
void vvl_open_tools(lua_State *L);

#endif
