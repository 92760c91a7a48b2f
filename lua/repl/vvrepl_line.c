/* vvrepl_line.c - the vv prompt's line input: readline, history, Ctrl-C. */

/* GNU readline, or plain fgets when built with VV_NO_READLINE. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "vvrepl.h"

#define REPL_HISTMAX     1000
#define REPL_MAXINPUT    512      /* line buffer of the fgets fallback */

static volatile sig_atomic_t prompt_interrupted = 0;

#ifndef VV_NO_READLINE

#include <readline/readline.h>
#include <readline/history.h>

static char *histpath = NULL;              /* NULL: no history file */

/*
** Add a line to the in-memory history and append it to the history file
** at once, so the history survives os.exit() or a killed terminal.
*/
void repl_saveline(const char *line) {
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
** Set up readline for the prompt: name, completion, an input function
** that gives way to SIGINT, and the history file ($VV_HISTORY, else
** ~/.vv_history; an empty $VV_HISTORY keeps no file).
*/
void repl_initreadline(lua_State *L) {
    const char *env = getenv("VV_HISTORY");
    rl_readline_name = "vv";
    rl_getc_function = prompt_getc;
    rl_catch_signals = 0;                  /* SIGINT is ours (repl_loop) */
    repl_initcomplete(L);
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
void repl_donereadline(void) {
    repl_initcomplete(NULL);
    free(histpath);
    histpath = NULL;
}

/* Show the prompt and read a line: 1, or 0 at end of input. */
static int line_read(char **line, const char *prompt) {
    return (*line = readline(prompt)) != NULL;
}

/* Release a line line_read gave. */
void repl_freeline(char *line) {
    free(line);
}

#else /* VV_NO_READLINE */

static char line_buffer[REPL_MAXINPUT];

void repl_saveline(const char *line) { (void)line; }
void repl_initreadline(lua_State *L) { (void)L; }
void repl_donereadline(void) { }
void repl_freeline(char *line) { (void)line; }

/* Show the prompt and read a line: 1, or 0 at end of input. */
static int line_read(char **line, const char *prompt) {
    fputs(prompt, stdout);
    fflush(stdout);
    *line = line_buffer;
    return fgets(line_buffer, REPL_MAXINPUT, stdin) != NULL;
}

#endif

/*
** Show prompt and read a line into *line.  When Ctrl-C interrupts the
** read, the line being typed is dropped: returns -1.
*/
int repl_readline(char **line, const char *prompt) {
    int got;
    prompt_interrupted = 0;
    got = line_read(line, prompt);
    if (prompt_interrupted) {              /* Ctrl-C: drop the line */
        prompt_interrupted = 0;
        if (got)
            repl_freeline(*line);
        else {
            clearerr(stdin);
            fputc('\n', stdout);
            fflush(stdout);
        }
        return -1;
    }
    return got;
}

/*
** SIGINT at the prompt: remember it.  The read it interrupts fails with
** EINTR (the handler is installed without SA_RESTART), and the line being
** typed is dropped.
*/
static void prompt_sigint(int sig) {
    (void)sig;
    prompt_interrupted = 1;
}

/* Ctrl-C at the prompt drops the line (on), or does the default (off). */
void repl_promptsignal(int on) {
    repl_signal(SIGINT, on ? prompt_sigint : SIG_DFL, 0, NULL);
}

/*
** Install handler h for sig (reads it interrupts fail with EINTR rather
** than restart); the previous disposition goes to *old when not NULL.
*/
void repl_signal(int sig, void (*h)(int), int flags, struct sigaction *old) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, old);
}
