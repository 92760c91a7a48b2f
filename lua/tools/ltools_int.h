/* ltools_int.h - the C primitives the tools' Lua parts get as T. */
#ifndef VV_LTOOLS_INT_H
#define VV_LTOOLS_INT_H
#include "lua.h"

/* Each adds its primitives to the table T on top of the stack. */

/** T.state, T.isstore (ltools_state.c). */
void vvl_tools_state(lua_State *L);

/** T.load, T.resolve, T.exact, T.limits, and the metatables of their
 *  userdata (ltools_checker.c). */
void vvl_tools_checker(lua_State *L);

#endif
