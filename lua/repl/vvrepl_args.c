/* vvrepl_args.c - the vv command's options and usage text. */
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "vvrepl.h"

/* Print the usage text to f. */
void repl_usage(FILE *f) {
    fprintf(f,
        "usage: %s [options] [script.lua [args]]\n"
        "       %s COMMAND [args]\n"
        "Starts a Lua prompt with the module 'vv' loaded and a store 'db'\n"
        "opened (vv.open{node=NAME}); expressions typed alone show their\n"
        "value, pp(...) shows any value the same way.\n"
        "Options:\n"
        "  --node NAME  name of the store's node (default \"" REPL_NODE
        "\", or the one a --path directory records)\n"
        "  --path DIR   open a durable store in DIR (default: in memory)\n"
        "  -e CODE      run CODE (several -e run in order)\n"
        "  -i           enter the prompt after the script or -e\n"
        "  -v           show the version\n"
        "  -h, --help   show this help\n"
        "  --           stop handling options\n"
        "  -            run standard input as a script\n"
        "Commands:\n"
        "  check-resolver SCRIPT.lua       check a resolver script\n"
        "  dot KS KEY [--path DIR]         Graphviz view of a key\n"
        "Environment: VV_HISTORY names the history file (default\n"
        "~/" REPL_HISTFILE "; empty: no history).  _PROMPT and _PROMPT2 set\n"
        "the prompts.\n",
        repl_progname, repl_progname);
}

/* Option with a value: "--node NAME" or "--node=NAME". */
const char *repl_optvalue(char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] == '\0' && argv[*i + 1] != NULL)
        return argv[++*i];
    return NULL;
}

/* Scan the options (without running anything) up to the script name. */
void repl_collect(int argc, char **argv, repl_opts *o) {
    int i;
    memset(o, 0, sizeof *o);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            o->script = i;
            return;
        }
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc)
                o->script = i + 1;
            return;
        }
        if ((v = repl_optvalue(argv, &i, "--node")) != NULL)
            o->node = v;
        else if ((v = repl_optvalue(argv, &i, "--path")) != NULL)
            o->path = v;
        else if (strcmp(a, "-e") == 0) {
            if (argv[i + 1] == NULL) {
                o->bad = a;
                return;
            }
            i++;
            o->has_e = 1;
        }
        else if (strcmp(a, "-i") == 0)
            o->interactive = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0)
            o->version = 1;
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
            o->help = 1;
        else {
            o->bad = a;
            return;
        }
    }
}
