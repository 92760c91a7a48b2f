/* vvrepl.h - the C parts of the vv command, for each other. */
#ifndef VV_VVREPL_H
#define VV_VVREPL_H
#include "lua.h"

#if LUA_VERSION_NUM < 504
#error "the vv REPL is built against Lua 5.4"
#endif

/*
** build/vv is written in Lua: vvrepl_start.lua reads the command line,
** vvrepl_prompt.lua is the prompt, vvrepl_pp.lua shows values.  C does
** what Lua cannot: vvrepl.c starts the program and hands the Lua parts
** a table of primitives, the console (vvrepl_console.c reads lines with
** readline, keeps the history, hears Ctrl-C at the prompt;
** vvrepl_complete.c completes names) and the guarded call
** (vvrepl_interrupt.c: a chunk that Ctrl-C stops).
*/

/* ---- vvrepl_console.c: the terminal ---------------------------------- */

/* Add the console's functions to the table on the top of the stack:
 * open, close, read, remember, tty (vvrepl_console.c says what each does). */
void repl_console(lua_State *L);

/* ---- vvrepl_interrupt.c: chunks that Ctrl-C stops ------------------ */

/* lua_CFunction run(f, ...): call f with the arguments so that Ctrl-C
 * stops it.  Returns true and f's results; or false, the error object
 * and the traceback of f's own frames (nil when there is none). */
int repl_run(lua_State *L);

/* ---- vvrepl_complete.c: completing Lua names ------------------------ */

/* Have readline complete Lua names (once, when the prompt opens). */
void repl_completion(void);

/* Complete from L's globals while L waits for a line; NULL afterwards. */
void repl_complete_from(lua_State *L);

#endif
