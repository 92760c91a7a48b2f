/* pattern.h - the sandbox's pattern matcher: programs and runs (internal). */
#ifndef VV_PATTERN_H
#define VV_PATTERN_H
/*
 * The resolver sandbox speaks the pattern language of Lua 5.4 (reference
 * manual, section 6.4.1) with a matcher of its own, in two files:
 *
 *   pattern.c      a pattern compiled into a program; a run of the
 *                  program over a subject (backtracking on a stack)
 *   pattern_lib.c  string.find, match, gmatch and gsub on top of it
 *
 * A program is a straight line of instructions; a run walks it forward
 * from the first to PAT_DONE and keeps the alternatives it has not tried
 * yet (how many bytes a repetition takes, whether an optional item is
 * skipped) on an explicit stack, never by C recursion.  Lua 5.4 raises
 * "pattern too complex" once a path through the pattern nests 200 deep
 * (each repetition that took a byte and each capture start and end nest
 * once); a run counts the same nesting and raises the same error at the
 * same point, which also bounds the stack to PAT_MAXNEST - 1 entries.
 */
#include <stddef.h>
#include <stdint.h>
#include "lua.h"
#include "resolver.h"

#define PAT_MAXCAP   32     /* captures in one pattern (Lua 5.4's limit) */
#define PAT_MAXNEST  200    /* nesting that raises "pattern too complex" */

/* Room on the C stack for a small program (pat_compile). */
#define PAT_SPACE_OPS    24
#define PAT_SPACE_MAPS   4
#define PAT_SPACE_LIT    48
#define PAT_SPACE_STACK  12

/* What a capture's len holds besides a length. */
#define PAT_CAP_OPEN (-1)   /* opened, not closed: "unfinished capture" */
#define PAT_CAP_POS  (-2)   /* a position capture "()" */

/* The charge function of a sandbox and its argument (vvl_open_match). */
typedef struct pat_meter {
    vvl_charge_fn charge;
    void *ud;
} pat_meter;

/* One instruction (pattern.c says what each code does). */
typedef struct pat_op {
    uint8_t code;           /* PAT_STR, PAT_BYTE, ... */
    uint8_t rep;            /* single-byte items: REP_ONE, REP_STAR, ... */
    uint32_t a, b;          /* operands: a byte, an offset and a length,
                               a capture, the two bytes of %b */
    const uint64_t *map;    /* PAT_SET, PAT_FRONT: the bytes, as 256 bits */
} pat_op;

/* An alternative not yet tried: retry op pc from subject offset at with
 * n repetitions; nest is the nesting of the path when it was made. */
typedef struct pat_choice {
    size_t at, n;
    uint32_t pc, nest;
} pat_choice;

/* A compiled pattern: its instructions, the byte maps of its sets, the
 * bytes of its literal runs and room for the choices of a run. */
typedef struct pat_prog {
    pat_op *op;
    uint64_t (*map)[4];
    unsigned char *lit;
    pat_choice *stack;
    uint32_t nop, nmap, nlit, nstack;
    int ncap;               /* captures the pattern opens */
} pat_prog;

/* Storage for a small program, so most calls allocate nothing. */
typedef struct pat_space {
    pat_prog prog;
    pat_op op[PAT_SPACE_OPS];
    uint64_t map[PAT_SPACE_MAPS][4];
    pat_choice stack[PAT_SPACE_STACK];
    unsigned char lit[PAT_SPACE_LIT];
} pat_space;

/* One use of a program on one subject: the captures of the last match. */
typedef struct pat_run {
    lua_State *L;
    const pat_meter *meter;
    pat_prog *prog;
    const char *s0, *end;   /* the subject [s0, end) */
    uint64_t steps;         /* counted, not yet charged */
    struct {
        const char *at;
        ptrdiff_t len;      /* or PAT_CAP_OPEN, PAT_CAP_POS */
    } cap[PAT_MAXCAP];
} pat_run;

/* Start a run of the program g (NULL: set by pat_compile) over the
 * subject s[0..ls); its steps go to m. */
void pat_start(pat_run *r, lua_State *L, const pat_meter *m, pat_prog *g,
               const char *s, size_t ls);

/* Compile the pattern p[0..lp) as r's program, counting its length as
 * steps.  Pushes one value: the userdata that holds the program, or nil
 * when it fits in sp (sp NULL: always a userdata).  The program is valid
 * while that value is reachable.  Malformed parts do not raise here: they
 * become a trap that raises when a run reaches it, where Lua 5.4 would
 * raise. */
pat_prog *pat_compile(pat_run *r, pat_space *sp, const char *p, size_t lp);

/* The first match that starts at or after s (only at s when anchored)
 * and does not end at avoid (NULL: any end): returns its start and sets
 * *e to its end, or returns NULL.  The captures are left in r. */
const char *pat_find(pat_run *r, const char *s, int anchored,
                     const char *avoid, const char **e);

/* Count n steps of work; charge them once enough are counted. */
void pat_count(pat_run *r, uint64_t n);

/* Charge the steps counted so far (may raise: a spent budget). */
void pat_flush(pat_run *r);

#endif /* VV_PATTERN_H */
