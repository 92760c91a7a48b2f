/* vvrepl_console.c - the vv prompt's terminal: lines, history, Ctrl-C. */

/*
** The prompt (vvrepl_prompt.lua) sees the terminal through five
** functions:
**   open(history)   start a session: Ctrl-C no longer ends the program,
**                   readline completes names, the history file (a path,
**                   or nil for none) is read
**   close()         end it: Ctrl-C and the terminal as they were
**   read(prompt)    the next line, without its newline; nil at end of
**                   input; false when Ctrl-C dropped the line being typed
**   remember(line)  add a line to the history (and to its file at once,
**                   so it survives os.exit or a closed terminal)
**   tty()           whether standard input is a terminal
** GNU readline does the editing; built with VV_NO_READLINE, lines are
** read with fgets (no editing, no history).
*/
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "vvrepl.h"

#define CON_HISTMAX  1000         /* lines kept in the history file */

/* Set by SIGINT during a session; read() drops its line when it is set. */
static volatile sig_atomic_t con_interrupted = 0;
static int con_wake[2] = {-1, -1};        /* SIGINT writes a byte here */
static struct sigaction con_oldint;       /* SIGINT before open() */
static int con_opened = 0;

/*
** SIGINT during a session: remember it, and write a byte to con_wake so
** that a wait for input (con_getc) ends even when the signal comes just
** before it starts.  Between reads the flag is cleared unused.
*/
static void con_sigint(int sig) {
    int saved = errno;
    (void)sig;
    con_interrupted = 1;
    if (con_wake[1] >= 0) {
        ssize_t n = write(con_wake[1], "", 1);
        (void)n;                           /* a full pipe wakes anyway */
    }
    errno = saved;
}

#ifndef VV_NO_READLINE

#include <poll.h>
#include <readline/readline.h>
#include <readline/history.h>

static char *con_histpath = NULL;          /* NULL: no history file */

/*
** Readline's input: one byte from the file descriptor.  After a Ctrl-C
** it ends the line instead, so readline returns and read() drops the
** line; the wait watches con_wake too, so a Ctrl-C that comes between
** the check and the wait is not missed.
*/
static int con_getc(FILE *f) {
    for (;;) {
        struct pollfd p[2];
        unsigned char c;
        ssize_t n;
        if (con_interrupted)
            return '\n';
        p[0].fd = fileno(f);
        p[1].fd = con_wake[0];
        p[0].events = p[1].events = POLLIN;
        p[0].revents = p[1].revents = 0;
        if (poll(p, con_wake[0] >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return EOF;
        }
        if (p[1].revents & POLLIN) {       /* drain; the flag decides */
            char drain[16];
            while (read(con_wake[0], drain, sizeof drain) > 0)
                ;
            continue;
        }
        n = read(fileno(f), &c, 1);
        if (n == 1)
            return c;
        if (n < 0 && errno == EINTR)
            continue;
        return EOF;
    }
}

/* Readline set up for vv, and the history file (when path is not NULL,
 * created when missing; a file that cannot be written keeps none). */
static void con_begin(const char *path) {
    rl_readline_name = "vv";
    rl_getc_function = con_getc;
    rl_catch_signals = 0;                  /* SIGINT is ours */
    repl_completion();
    stifle_history(CON_HISTMAX);
    free(con_histpath);
    con_histpath = NULL;
    if (path != NULL) {
        FILE *f = fopen(path, "a");
        if (f == NULL || (con_histpath = strdup(path)) == NULL) {
            if (f != NULL)
                fclose(f);
            return;
        }
        fclose(f);
        read_history(con_histpath);
        history_truncate_file(con_histpath, CON_HISTMAX);
    }
}

/* Release what con_begin took. */
static void con_end(void) {
    free(con_histpath);
    con_histpath = NULL;
}

/*
** Show the prompt and push the line read (readline gives it without its
** newline and in memory of its own); returns 0 at end of input, with
** nothing pushed.  Names are completed from L's globals meanwhile.
*/
static int con_line(lua_State *L, const char *prompt) {
    char *line;
    repl_complete_from(L);
    line = readline(prompt);
    repl_complete_from(NULL);
    if (line == NULL)
        return 0;
    lua_pushstring(L, line);
    free(line);
    return 1;
}

/* remember(line): the history, and the history file at once. */
static int con_remember(lua_State *L) {
    add_history(luaL_checkstring(L, 1));
    if (con_histpath != NULL)
        append_history(1, con_histpath);
    return 0;
}

#else /* VV_NO_READLINE: fgets, no history */

static void con_begin(const char *path) { (void)path; }
static void con_end(void) { }
static int con_remember(lua_State *L) { (void)L; return 0; }

/*
** Show the prompt and push the line read from standard input, however
** long, without its newline; returns 0 at end of input (nothing pushed).
*/
static int con_line(lua_State *L, const char *prompt) {
    luaL_Buffer b;
    int got = 0;
    fputs(prompt, stdout);
    fflush(stdout);
    luaL_buffinit(L, &b);
    for (;;) {
        char *p = luaL_prepbuffer(&b);
        size_t n;
        if (fgets(p, LUAL_BUFFERSIZE, stdin) == NULL)
            break;
        n = strlen(p);
        got = 1;
        if (n > 0 && p[n - 1] == '\n') {
            luaL_addsize(&b, n - 1);
            break;
        }
        luaL_addsize(&b, n);
    }
    luaL_pushresult(&b);
    if (!got || con_interrupted) {
        lua_pop(L, 1);
        clearerr(stdin);
        return 0;
    }
    return 1;
}

#endif

/* open([history]): start a session; see the top of this file. */
static int con_open(lua_State *L) {
    const char *path = luaL_optstring(L, 1, NULL);
    struct sigaction sa;
    if (!con_opened) {
        int i;
        if (pipe(con_wake) == 0) {
            for (i = 0; i < 2; i++) {
                fcntl(con_wake[i], F_SETFL, O_NONBLOCK);
                fcntl(con_wake[i], F_SETFD, FD_CLOEXEC);
            }
        }
        else
            con_wake[0] = con_wake[1] = -1;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = con_sigint;        /* no SA_RESTART: reads fail */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &con_oldint);
        con_opened = 1;
    }
    con_begin(path);
    return 0;
}

/* close(): end the session; Ctrl-C does what it did before open(). */
static int con_close(lua_State *L) {
    (void)L;
    if (con_opened) {
        sigaction(SIGINT, &con_oldint, NULL);
        if (con_wake[0] >= 0) {
            close(con_wake[0]);
            close(con_wake[1]);
            con_wake[0] = con_wake[1] = -1;
        }
        con_opened = 0;
    }
    con_end();
    return 0;
}

/*
** read(prompt): the next line; nil at end of input; false when Ctrl-C
** came while it was typed (the line is dropped, the cursor moves to a
** fresh line).
*/
static int con_read(lua_State *L) {
    const char *prompt = luaL_checkstring(L, 1);
    int got;
    con_interrupted = 0;
    got = con_line(L, prompt);
    if (con_interrupted) {
        con_interrupted = 0;
        if (got)
            lua_pop(L, 1);
        else {
            clearerr(stdin);
            fputc('\n', stdout);
            fflush(stdout);
        }
        lua_pushboolean(L, 0);
    }
    else if (!got)
        lua_pushnil(L);
    return 1;
}

/* tty(): whether standard input is a terminal. */
static int con_tty(lua_State *L) {
    lua_pushboolean(L, isatty(0));
    return 1;
}

/* Add the console's functions to the table on the top of the stack. */
void repl_console(lua_State *L) {
    static const luaL_Reg con_funcs[] = {
        {"open", con_open},
        {"close", con_close},
        {"read", con_read},
        {"remember", con_remember},
        {"tty", con_tty},
        {NULL, NULL}
    };
    luaL_setfuncs(L, con_funcs, 0);
}
