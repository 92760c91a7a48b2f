/* vvrepl.h - the parts of the vv command (lua/repl/vvrepl*.c), for each other. */
#ifndef VV_VVREPL_H
#define VV_VVREPL_H
#include <signal.h>
#include <stdio.h>
#include "lua.h"

#if LUA_VERSION_NUM < 504
#error "the vv REPL is built against Lua 5.4"
#endif

#define REPL_NODE        "repl"
#define REPL_HISTFILE    ".vv_history"

/* The name messages start with ("vv", or argv[0]); NULL at the prompt. */
extern const char *repl_progname;

/* ---- vvrepl.c: the usual run ---------------------------------------- */

/* What the command line asks for (vvrepl_args.c reads it). */
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

/* Load the libraries, vv (global and in package.loaded) and pp. */
void repl_openlibs(lua_State *L);

/* db = vv.open{node = NODE, path = PATH} as a global; returns the status
 * (a failure is reported). */
int repl_opendb(lua_State *L, const repl_opts *o);

/* ---- vvrepl_args.c: the command line -------------------------------- */

/* Print the usage text to f. */
void repl_usage(FILE *f);

/* The value of option name at argv[*i] ("--node NAME" or "--node=NAME"),
 * moving *i past it; NULL when argv[*i] is not that option. */
const char *repl_optvalue(char **argv, int *i, const char *name);

/* Scan the options (without running anything) up to the script name. */
void repl_collect(int argc, char **argv, repl_opts *o);

/* ---- vvrepl_cmd.c: `vv NAME args...` ---------------------------------- */

typedef struct repl_cmd {
    const char *name;
    lua_CFunction run;       /* gets argc, argv; returns success */
} repl_cmd;

/* The command named by argv[1], or NULL. */
const repl_cmd *repl_findcmd(int argc, char **argv);

/* lua_CFunction(argc, argv, cmd): run cmd with vv loaded. */
int repl_pcmd(lua_State *L);

/* ---- vvrepl_run.c: running chunks ------------------------------------ */

/* Print a message prefixed with pname (when not NULL), on stderr. */
void repl_message(const char *pname, const char *msg);

/* Report a failed call (message on the stack top) and pop it. */
int repl_report(lua_State *L, int status);

/* lua_pcall with a traceback handler, SIGINT stopping the call. */
int repl_docall(lua_State *L, int narg, int nres);

/* Run a chunk from a string (-e); reports a failure. */
int repl_dostring(lua_State *L, const char *s, const char *name);

/* Run a script file (NULL or "-": stdin) with its arguments as `...`;
 * reports a failure. */
int repl_doscript(lua_State *L, const char *fname);

/* ---- vvrepl_pp.c: showing values -------------------------------------- */

/* lua_CFunction: load vvrepl_pp.lua; the global pp prints with it. */
int repl_loadpp(lua_State *L);

/* Push the function that gives the text of its arguments. */
void repl_pushformat(lua_State *L);

/* Show the values on the stack, on stdout. */
void repl_print(lua_State *L);

/* ---- vvrepl_loop.c: the prompt ---------------------------------------- */

/* The read-eval-print loop, until end of input. */
void repl_loop(lua_State *L);

/* ---- vvrepl_line.c: reading lines ------------------------------------- */

/* Set up line editing and history for L's prompt; release it. */
void repl_initreadline(lua_State *L);
void repl_donereadline(void);

/* Show prompt, read a line into *line (release it with repl_freeline).
 * Returns 1 for a line, 0 at end of input, -1 when Ctrl-C dropped it. */
int repl_readline(char **line, const char *prompt);
void repl_freeline(char *line);

/* Add a line to the history. */
void repl_saveline(const char *line);

/* Ctrl-C at the prompt: on, drop the line being typed; off, the default. */
void repl_promptsignal(int on);

/* Install handler h for sig (reads it interrupts fail with EINTR rather
 * than restart); the previous disposition goes to *old when not NULL. */
void repl_signal(int sig, void (*h)(int), int flags, struct sigaction *old);

/* ---- vvrepl_complete.c: completing Lua names ------------------------ */

/* Complete names from L's globals at the prompt (NULL: stop). */
void repl_initcomplete(lua_State *L);

#endif
