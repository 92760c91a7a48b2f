/* pattern.c - Lua 5.4 patterns compiled to a program, run on a stack. */
/*
 * A pattern (Lua 5.4 manual, 6.4.1) is a sequence of items, so it
 * compiles to a straight line of instructions: a run of literal bytes, a
 * single-byte item (a byte, '.', a class, a set) with its repetition, a
 * capture's start or end, a position capture, %b, %f, a back-reference,
 * the end anchor, and PAT_DONE.  Classes and sets become 256-bit maps
 * when compiled, so a run tests a byte with one shift, and the classes
 * are ASCII ones, the same on every replica whatever the C locale.
 *
 * A run moves forward through the program and the subject; where an item
 * may take more or fewer bytes it pushes a choice (pat_choice) and takes
 * the first alternative Lua 5.4 would take: the longest run for '*' and
 * '+', the shortest for '-', the byte for '?'.  A failure resumes the
 * newest choice with its next alternative.  A choice is only ever made
 * by an instruction after those of the choices below it, so the stack
 * holds at most one choice per instruction, and Lua 5.4's nesting limit
 * (PAT_MAXNEST) bounds it too: its size is fixed when the pattern is
 * compiled.  Every instruction, every byte scanned and every resumed
 * choice counts as a step, and the steps go to the sandbox's budget.
 *
 * Lua 5.4 reads a pattern as it matches, so a malformed part raises only
 * when a match reaches it; here it compiles to PAT_TRAP, which raises the
 * same message at the same moment.
 */
#include <assert.h>
#include <string.h>
#include "lauxlib.h"
#include "pattern.h"

#define PAT_FLUSH   1024            /* steps counted before charging */
#define PAT_MAXLEN  (UINT32_MAX / 2)    /* longest pattern, bytes */

/* Instruction codes. */
enum {
    PAT_STR,        /* the bytes lit[a .. a + b) */
    PAT_BYTE,       /* one byte equal to a, repeated by rep */
    PAT_ANY,        /* any byte ('.'), repeated by rep */
    PAT_SET,        /* a byte in map (a class or a set), repeated by rep */
    PAT_OPEN,       /* capture a starts */
    PAT_POS,        /* position capture a */
    PAT_CLOSE,      /* capture a ends */
    PAT_BAL,        /* %b: a balanced run from byte a to byte b */
    PAT_FRONT,      /* %f: the previous byte is not in map, the next is */
    PAT_BACK,       /* %1-%9: the text of capture a again */
    PAT_EOS,        /* '$' at the end of the pattern: the subject's end */
    PAT_DONE,       /* a match */
    PAT_TRAP        /* a malformed part: raise pat_traps[a] (number b) */
};

/* Repetitions of a single-byte item. */
enum { REP_ONE, REP_OPT, REP_STAR, REP_PLUS, REP_LAZY };

/* The messages of PAT_TRAP, as Lua 5.4 words them. */
enum { TRAP_END, TRAP_SET, TRAP_BAL, TRAP_FRONT, TRAP_INDEX, TRAP_CLOSE,
       TRAP_CAPS };
static const char *const pat_traps[] = {
    "malformed pattern (ends with '%%')",
    "malformed pattern (missing ']')",
    "malformed pattern (missing arguments to '%%b')",
    "missing '[' after '%%f' in pattern",
    "invalid capture index %%%d",
    "invalid pattern capture",
    "too many captures",
};

/* ---- ASCII classes as byte maps ---------------------------------------- */

/* A map holds byte c in bit c % 64 of word c / 64.  BITS(a, b) is bits a
 * to b of a word; LO and HI place the bytes a..b of 0-63 and 64-127. */
#define ALL        (~(uint64_t)0)
#define BITS(a, b) ((ALL >> (63 - (b))) & (ALL << (a)))
#define LO(a, b)   BITS(a, b)
#define HI(a, b)   BITS((a) - 64, (b) - 64)
#define NONE       ((uint64_t)0)

#define UPPER      HI('A', 'Z')
#define LOWER      HI('a', 'z')
#define DIGIT      LO('0', '9')

/* A class and its complement (the upper-case letter). */
#define CLASS(w0, w1)  {(w0), (w1), NONE, NONE}, {~(w0), ~(w1), ALL, ALL}

static const uint64_t pat_classes[22][4] = {
    CLASS(NONE, UPPER | LOWER),                             /* %a */
    CLASS(LO(0, 31), HI(127, 127)),                         /* %c */
    CLASS(DIGIT, NONE),                                     /* %d */
    CLASS(LO(33, 63), HI(64, 126)),                         /* %g */
    CLASS(NONE, LOWER),                                     /* %l */
    CLASS(LO(33, 47) | LO(58, 63),
          HI(64, 64) | HI(91, 96) | HI(123, 126)),          /* %p */
    CLASS(LO(9, 13) | LO(32, 32), NONE),                    /* %s */
    CLASS(NONE, UPPER),                                     /* %u */
    CLASS(DIGIT, UPPER | LOWER),                            /* %w */
    CLASS(DIGIT, HI('A', 'F') | HI('a', 'f')),              /* %x */
    CLASS(LO(0, 0), NONE),                                  /* %z, \0 */
};

/* The row of each class letter in pat_classes, plus one (0: none). */
static const unsigned char pat_class_row[128] = {
    ['a'] = 1, ['A'] = 2, ['c'] = 3, ['C'] = 4, ['d'] = 5, ['D'] = 6,
    ['g'] = 7, ['G'] = 8, ['l'] = 9, ['L'] = 10, ['p'] = 11, ['P'] = 12,
    ['s'] = 13, ['S'] = 14, ['u'] = 15, ['U'] = 16, ['w'] = 17, ['W'] = 18,
    ['x'] = 19, ['X'] = 20, ['z'] = 21, ['Z'] = 22,
};

/* The map of class %c, or NULL when c names no class (%c is then the
 * byte c itself). */
static const uint64_t *pat_class(unsigned c)
{
    return c < 128 && pat_class_row[c] ? pat_classes[pat_class_row[c] - 1]
                                       : NULL;
}

/* Is byte c in map m? */
static int map_has(const uint64_t *m, unsigned c)
{
    return (int)((m[c >> 6] >> (c & 63)) & 1);
}

/* Add the bytes lo..hi (none when lo > hi) to map m. */
static void map_span(uint64_t *m, unsigned lo, unsigned hi)
{
    unsigned w;
    if (lo > hi) return;
    for (w = lo >> 6; w <= hi >> 6; w++)
        m[w] |= BITS(w == lo >> 6 ? lo & 63 : 0, w == hi >> 6 ? hi & 63 : 63);
}

/* ---- the compiler ------------------------------------------------------ */

/* A compilation: one pass over the pattern writes the program into g
 * as far as there is room, and counts what it needs; what does not fit
 * goes to scratch, and then a second pass fills a program of the counted
 * size. */
typedef struct pat_build {
    const unsigned char *p, *pe;    /* the rest of the pattern */
    pat_prog *g;                    /* the program being filled */
    uint32_t rop, rmap, rlit;       /* the room in g */
    pat_op scratch;
    uint64_t scratch_map[4];
    uint32_t nop, nmap, nlit, nchoice;
    int run;                        /* the last instruction is a PAT_STR
                                       that the next literal extends */
    int ncap;
    unsigned char closed[PAT_MAXCAP];   /* capture i has ended */
} pat_build;

/* Append an instruction. */
static pat_op *bd_op(pat_build *b, int code, uint32_t x, uint32_t y)
{
    pat_op *op = b->nop < b->rop ? &b->g->op[b->nop] : &b->scratch;
    b->nop++;
    b->run = 0;
    op->code = (uint8_t)code;
    op->rep = REP_ONE;
    op->a = x;
    op->b = y;
    op->map = NULL;
    return op;
}

/* A new, empty byte map. */
static uint64_t *bd_map(pat_build *b)
{
    uint64_t *m = b->nmap < b->rmap ? b->g->map[b->nmap] : b->scratch_map;
    b->nmap++;
    memset(m, 0, 4 * sizeof *m);
    return m;
}

/* A literal byte with no repetition: joins the literal run before it. */
static void bd_byte(pat_build *b, unsigned c)
{
    if (!b->run) {
        bd_op(b, PAT_STR, b->nlit, 0);
        b->run = 1;
    }
    if (b->nlit < b->rlit) b->g->lit[b->nlit] = (unsigned char)c;
    b->nlit++;
    (b->nop <= b->rop ? &b->g->op[b->nop - 1] : &b->scratch)->b++;
}

/* A malformed part: the trap, and nothing after it. */
static void bd_trap(pat_build *b, int what, int n)
{
    bd_op(b, PAT_TRAP, (uint32_t)what, (uint32_t)n);
    b->p = b->pe;
}

/* Read the set that starts at p ('[') into map m; returns the byte after
 * its ']', or NULL when there is none.  The first byte of the set (after
 * a '^') is taken as it is, so "[]]" holds ']'; '%' quotes the next byte
 * or names a class; "x-y" is a range unless the '-' is last. */
static const unsigned char *bd_set(const unsigned char *p,
                                   const unsigned char *pe, uint64_t *m)
{
    const unsigned char *q, *end;
    const uint64_t *k;
    int neg = 0, i;
    if (++p < pe && *p == '^') {
        neg = 1;
        p++;
    }
    q = p;
    do {                                /* find the closing ']' */
        if (q >= pe) return NULL;
        if (*q++ == '%' && q < pe) q++;
    } while (q >= pe || *q != ']');
    end = q;
    for (q = p; q < end; q++) {
        if (*q == '%') {
            q++;
            if ((k = pat_class(*q)) != NULL)
                for (i = 0; i < 4; i++) m[i] |= k[i];
            else
                map_span(m, *q, *q);
        } else if (q + 2 < end && q[1] == '-') {
            map_span(m, q[0], q[2]);
            q += 2;
        } else {
            map_span(m, *q, *q);
        }
    }
    if (neg)
        for (i = 0; i < 4; i++) m[i] = ~m[i];
    return end + 1;
}

/* A single-byte item ('.', %x, [set] or a byte) and its repetition. */
static void bd_single(pat_build *b)
{
    const unsigned char *p = b->p, *q = p + 1;
    const uint64_t *map = NULL;
    int code = PAT_BYTE, rep = REP_ONE;
    pat_op *op;
    if (*p == '.') {
        code = PAT_ANY;
    } else if (*p == '%') {
        if (q >= b->pe) {
            bd_trap(b, TRAP_END, 0);
            return;
        }
        if ((map = pat_class(*q)) != NULL) code = PAT_SET;
        p = q++;
    } else if (*p == '[') {
        uint64_t *m = bd_map(b);
        if ((q = bd_set(p, b->pe, m)) == NULL) {
            bd_trap(b, TRAP_SET, 0);
            return;
        }
        code = PAT_SET;
        map = m;
    }
    if (q < b->pe) {
        switch (*q) {
        case '?': rep = REP_OPT; break;
        case '*': rep = REP_STAR; break;
        case '+': rep = REP_PLUS; break;
        case '-': rep = REP_LAZY; break;
        }
        if (rep != REP_ONE) q++;
    }
    b->p = q;
    if (code == PAT_BYTE && rep == REP_ONE) {
        bd_byte(b, *p);
        return;
    }
    op = bd_op(b, code, *p, 0);
    op->rep = (uint8_t)rep;
    op->map = map;
    if (rep != REP_ONE) b->nchoice++;
}

/* '(' starts a capture, "()" is a position capture. */
static void bd_open(pat_build *b)
{
    int pos = b->p + 1 < b->pe && b->p[1] == ')';
    if (b->ncap >= PAT_MAXCAP) {
        bd_trap(b, TRAP_CAPS, 0);
        return;
    }
    bd_op(b, pos ? PAT_POS : PAT_OPEN, (uint32_t)b->ncap, 0);
    b->closed[b->ncap++] = (unsigned char)pos;
    b->p += pos ? 2 : 1;
}

/* ')' ends the innermost capture still open. */
static void bd_close(pat_build *b)
{
    int l = b->ncap - 1;
    while (l >= 0 && b->closed[l]) l--;
    if (l < 0) {
        bd_trap(b, TRAP_CLOSE, 0);
        return;
    }
    bd_op(b, PAT_CLOSE, (uint32_t)l, 0);
    b->closed[l] = 1;
    b->p++;
}

/* The items that start with '%' and are not single-byte ones: %bxy,
 * %f[set] and %1-%9.  Returns 0 for any other '%' item. */
static int bd_escape(pat_build *b)
{
    const unsigned char *p = b->p;
    int l;
    if (p + 1 >= b->pe) return 0;
    if (p[1] == 'b') {
        if (b->pe - p < 4) {
            bd_trap(b, TRAP_BAL, 0);
        } else {
            bd_op(b, PAT_BAL, p[2], p[3]);
            b->p += 4;
        }
    } else if (p[1] == 'f') {
        uint64_t *m;
        p += 2;
        if (p >= b->pe || *p != '[') {
            bd_trap(b, TRAP_FRONT, 0);
            return 1;
        }
        m = bd_map(b);
        if ((b->p = bd_set(p, b->pe, m)) == NULL) bd_trap(b, TRAP_SET, 0);
        else bd_op(b, PAT_FRONT, 0, 0)->map = m;
    } else if (p[1] >= '0' && p[1] <= '9') {
        l = p[1] - '1';
        if (l < 0 || l >= b->ncap || !b->closed[l]) {
            bd_trap(b, TRAP_INDEX, l + 1);
        } else {
            bd_op(b, PAT_BACK, (uint32_t)l, 0);
            b->p += 2;
        }
    } else {
        return 0;
    }
    return 1;
}

/* One pass over the pattern p[0..lp) into g, which has room for rop
 * instructions, rmap maps and rlit literal bytes. */
static void bd_pass(pat_build *b, const char *p, size_t lp, pat_prog *g,
                    uint32_t rop, uint32_t rmap, uint32_t rlit)
{
    b->p = (const unsigned char *)p;
    b->pe = b->p + lp;
    b->g = g;
    b->rop = rop;
    b->rmap = rmap;
    b->rlit = rlit;
    b->nop = b->nmap = b->nlit = b->nchoice = 0;
    b->run = b->ncap = 0;                   /* closed[i] is set as i opens */
    while (b->p < b->pe) {
        switch (*b->p) {
        case '(':
            bd_open(b);
            break;
        case ')':
            bd_close(b);
            break;
        case '$':
            if (b->p + 1 == b->pe) {
                bd_op(b, PAT_EOS, 0, 0);
                b->p++;
            } else {
                bd_single(b);
            }
            break;
        case '%':
            if (!bd_escape(b)) bd_single(b);
            break;
        default:
            bd_single(b);
        }
    }
    bd_op(b, PAT_DONE, 0, 0);
}

/* Compile p[0..lp): into sp when it fits, else (after counting what it
 * needs) into a new userdata of that size. */
pat_prog *pat_compile(pat_run *r, pat_space *sp, const char *p, size_t lp)
{
    pat_build b;
    pat_prog *g = sp ? &sp->prog : NULL;
    uint32_t nstack;
    if (lp > PAT_MAXLEN) luaL_error(r->L, "pattern too long");
    pat_count(r, 1 + lp / 4);
    if (sp) {
        g->op = sp->op;
        g->map = sp->map;
        g->stack = sp->stack;
        g->lit = sp->lit;
        bd_pass(&b, p, lp, g, PAT_SPACE_OPS, PAT_SPACE_MAPS, PAT_SPACE_LIT);
    } else {
        bd_pass(&b, p, lp, NULL, 0, 0, 0);
    }
    nstack = b.nchoice < PAT_MAXNEST - 1 ? b.nchoice : PAT_MAXNEST - 1;
    if (sp && b.nop <= PAT_SPACE_OPS && b.nmap <= PAT_SPACE_MAPS &&
        b.nlit <= PAT_SPACE_LIT && nstack <= PAT_SPACE_STACK) {
        lua_pushnil(r->L);
    } else {
        /* one block: the header, then arrays of 8-byte aligned items */
        size_t n = sizeof *g + b.nop * sizeof *g->op +
                   b.nmap * sizeof *g->map + nstack * sizeof *g->stack +
                   b.nlit;
        char *u = (char *)lua_newuserdata(r->L, n);
        g = (pat_prog *)(void *)u;
        u += sizeof *g;
        g->op = (pat_op *)(void *)u;
        u += b.nop * sizeof *g->op;
        g->map = (uint64_t (*)[4])(void *)u;
        u += b.nmap * sizeof *g->map;
        g->stack = (pat_choice *)(void *)u;
        u += nstack * sizeof *g->stack;
        g->lit = (unsigned char *)u;
        bd_pass(&b, p, lp, g, b.nop, b.nmap, b.nlit);
    }
    g->nop = b.nop;
    g->nmap = b.nmap;
    g->nlit = b.nlit;
    g->nstack = nstack;
    g->ncap = b.ncap;
    r->prog = g;
    return g;
}

/* ---- runs -------------------------------------------------------------- */

/* A run over s[0..ls) with program g (pattern.h). */
void pat_start(pat_run *r, lua_State *L, const pat_meter *m, pat_prog *g,
               const char *s, size_t ls)
{
    r->L = L;
    r->meter = m;
    r->prog = g;
    r->s0 = s;
    r->end = s + ls;
    r->steps = 0;
}

/* Hand the counted steps to the meter, which raises once the budget is
 * spent. */
void pat_flush(pat_run *r)
{
    uint64_t n = r->steps;
    r->steps = 0;
    if (n > 0) r->meter->charge(r->L, r->meter->ud, n);
}

/* Count n steps; charge them in batches of PAT_FLUSH, so a long match is
 * stopped soon after its budget is spent. */
void pat_count(pat_run *r, uint64_t n)
{
    if ((r->steps += n) >= PAT_FLUSH) pat_flush(r);
}

/* Raise the message of a trap, or "pattern too complex" (op NULL). */
static void pat_raise(pat_run *r, const pat_op *op)
{
    pat_flush(r);
    if (op) luaL_error(r->L, pat_traps[op->a], (int)op->b);
    luaL_error(r->L, "pattern too complex");
}

/* Does the single-byte item op take byte c? */
static int pat_takes(const pat_op *op, unsigned c)
{
    switch (op->code) {
    case PAT_BYTE: return c == op->a;
    case PAT_ANY: return 1;
    default: return map_has(op->map, c);
    }
}

/* How many bytes from s on the item op takes in a row (s[0] is one). */
static size_t pat_span(pat_run *r, const pat_op *op,
                       const unsigned char *s, const unsigned char *end)
{
    const unsigned char *t = s + 1;
    if (op->code == PAT_ANY) return (size_t)(end - s);
    if (op->code == PAT_BYTE)
        while (t < end && *t == op->a) t++;
    else
        while (t < end && map_has(op->map, *t)) t++;
    pat_count(r, (uint64_t)(t - s));
    return (size_t)(t - s);
}

/* %b: the end of the balanced run from op->a to op->b at s, or NULL. */
static const unsigned char *pat_balance(pat_run *r, const pat_op *op,
                                        const unsigned char *s,
                                        const unsigned char *end)
{
    const unsigned char *t;
    size_t open = 1;
    if (s >= end || *s != op->a) return NULL;
    for (t = s + 1; t < end; t++) {
        if (*t == op->b) {
            if (--open == 0) break;
        } else if (*t == op->a) {
            open++;
        }
    }
    pat_count(r, (uint64_t)(t - s));
    return t < end ? t + 1 : NULL;
}

/* Run the program on the subject from s: the end of the match, or NULL.
 * nest follows the nesting Lua 5.4 would have (a capture's start or end,
 * a repetition that took a byte): past PAT_MAXNEST - 1 it raises. */
static const char *pat_exec(pat_run *r, const char *from)
{
    pat_prog *g = r->prog;
    const unsigned char *s0 = (const unsigned char *)r->s0;
    const unsigned char *end = (const unsigned char *)r->end;
    const unsigned char *s = (const unsigned char *)from, *t;
    const pat_op *op = g->op;
    pat_choice *c;
    uint32_t top = 0, nest = 0;
    size_t n;
    for (;;) {
        if (++r->steps >= PAT_FLUSH) pat_flush(r);
        switch (op->code) {
        case PAT_STR:                   /* a long compare costs more */
            if ((size_t)(end - s) < op->b || *s != g->lit[op->a]) break;
            pat_count(r, op->b / 32);
            if (memcmp(s, g->lit + op->a, op->b) != 0) break;
            s += op->b;
            op++;
            continue;
        case PAT_BYTE:
        case PAT_ANY:
        case PAT_SET:
            if (s == end || !pat_takes(op, *s)) {
                if (op->rep == REP_ONE || op->rep == REP_PLUS) break;
                op++;                   /* none taken: no choice */
                continue;
            }
            if (op->rep == REP_ONE) {
                s++;
                op++;
                continue;
            }
            if (++nest >= PAT_MAXNEST) pat_raise(r, NULL);
            n = op->rep == REP_OPT ? 1 : op->rep == REP_LAZY ? 0
                : pat_span(r, op, s, end);
            assert(top < g->nstack);
            c = &g->stack[top++];
            c->pc = (uint32_t)(op - g->op);
            c->at = (size_t)(s - s0);
            c->n = n;
            c->nest = nest - 1;
            s += n;
            op++;
            continue;
        case PAT_OPEN:
        case PAT_POS:
            if (++nest >= PAT_MAXNEST) pat_raise(r, NULL);
            r->cap[op->a].at = (const char *)s;
            r->cap[op->a].len = op->code == PAT_POS ? PAT_CAP_POS
                                                    : PAT_CAP_OPEN;
            op++;
            continue;
        case PAT_CLOSE:
            if (++nest >= PAT_MAXNEST) pat_raise(r, NULL);
            r->cap[op->a].len = (const char *)s - r->cap[op->a].at;
            op++;
            continue;
        case PAT_BAL:
            if ((t = pat_balance(r, op, s, end)) == NULL) break;
            s = t;
            op++;
            continue;
        case PAT_FRONT:
            if (map_has(op->map, s == s0 ? 0 : s[-1]) ||
                !map_has(op->map, s == end ? 0 : *s))
                break;
            op++;
            continue;
        case PAT_BACK:                  /* a position never matches */
            n = (size_t)r->cap[op->a].len;
            if (r->cap[op->a].len < 0 || (size_t)(end - s) < n) break;
            pat_count(r, n / 32);
            if (memcmp(s, r->cap[op->a].at, n) != 0) break;
            s += n;
            op++;
            continue;
        case PAT_EOS:
            if (s != end) break;
            op++;
            continue;
        case PAT_DONE:
            return (const char *)s;
        default:
            pat_raise(r, op);
        }
        /* a failure: the newest choice's next alternative, if any */
        for (;;) {
            int more;
            if (top == 0) return NULL;
            c = &g->stack[top - 1];
            op = g->op + c->pc;
            pat_count(r, 1);
            if (op->rep == REP_OPT) {           /* now skip the item */
                top--;
                nest = c->nest;
                s = s0 + c->at;
                break;
            }
            if (op->rep == REP_LAZY) {          /* one byte more */
                t = s0 + c->at + c->n;
                more = t < end && pat_takes(op, *t);
                c->n += (size_t)more;
            } else {                            /* one byte less */
                more = c->n > (size_t)(op->rep == REP_PLUS);
                c->n -= (size_t)more;
            }
            if (more) {
                nest = c->nest + 1;
                s = s0 + c->at + c->n;
                break;
            }
            top--;
        }
        op++;
    }
}

/* Where a match may start at or after s, by the first instruction when it
 * needs a given byte or a byte of a set there (NULL: nowhere); the bytes
 * skipped cost a step per 16. */
static const char *pat_skip(pat_run *r, const char *s)
{
    const pat_op *op = r->prog->op;
    const unsigned char *p = (const unsigned char *)s;
    const unsigned char *end = (const unsigned char *)r->end;
    const void *q;
    int c;
    if (op->rep != REP_ONE && op->rep != REP_PLUS) return s;
    if (op->code == PAT_STR) {
        c = r->prog->lit[op->a];
    } else if (op->code == PAT_BYTE) {
        c = (int)op->a;
    } else if (op->code == PAT_SET) {
        while (p < end && !map_has(op->map, *p)) p++;
        pat_count(r, (uint64_t)(p - (const unsigned char *)s) / 16);
        return p < end ? (const char *)p : NULL;
    } else {
        return s;
    }
    q = memchr(p, c, (size_t)(end - p));
    pat_count(r, (uint64_t)((q ? (const unsigned char *)q : end) - p) / 16);
    return (const char *)q;
}

/* Try each start from s on (skipping those the first instruction rules
 * out) until a match does not end at avoid. */
const char *pat_find(pat_run *r, const char *s, int anchored,
                     const char *avoid, const char **e)
{
    const char *m;
    if (s > r->end) return NULL;
    for (;;) {
        if (!anchored && (s = pat_skip(r, s)) == NULL) return NULL;
        m = pat_exec(r, s);
        if (m != NULL && m != avoid) {
            *e = m;
            return s;
        }
        if (anchored || s == r->end) return NULL;
        s++;
    }
}
