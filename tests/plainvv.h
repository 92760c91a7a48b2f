/* plainvv.h - a reference store with plain version vectors (one clock for
 * a key's whole sibling set, the server as the only actor), the way
 * stores did it before dotted version vectors.  Used to show sibling
 * explosion next to vv in tests and benchmarks. */
#ifndef VV_PLAINVV_H
#define VV_PLAINVV_H
#include <stdint.h>
#include <string.h>

#define PLAIN_MAX 512

typedef struct plain_key {
    uint64_t clock;                 /* the server's counter for this key */
    int nsib;
    int sib[PLAIN_MAX];             /* sibling values (ids) */
} plain_key;

/* A put carrying ctx (the clock the client last got back).  When ctx has
 * seen the key's whole clock the new value replaces every sibling; when
 * it has not, nothing can be told apart, so it is added as one more. */
static inline uint64_t plain_put(plain_key *k, uint64_t ctx, int value)
{
    if (ctx >= k->clock) k->nsib = 0;
    if (k->nsib < PLAIN_MAX) k->sib[k->nsib++] = value;
    return ++k->clock;              /* the context handed back */
}
#endif
