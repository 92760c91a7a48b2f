/* vv_int.h - internals shared across core/ files (not installed).  The
 * Lua side and other bindings use vv.h and vv_bind.h only. */
#ifndef VV_INT_H
#define VV_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "vv.h"
#include "vv_bind.h"

/* ---- test hooks ------------------------------------------------------ */
/* All memory comes from vv_malloc and vv_realloc (vv_bind.h), so that
 * tests can fail the Nth call.  Test hook: make the nth allocation from
 * now fail (0: never). */
void  vvi_fail_alloc_after(long n);
/* Test hook: make db write as of's actor, from of's counter and clock on,
 * so that two handles of one identity can be compared (a stored and a
 * detached write path).  Never for real use: two handles giving out one
 * actor's dots is the very reuse fresh actors prevent (node.c). */
int   vvi_db_twin(vv_db *db, const vv_db *of);

/* Test hook: when set, puts, deletes and reads take the full path
 * (decode into a dvv, change it, encode it; a read built from the dvv)
 * instead of working on the stored bytes, so that tests can compare the
 * two byte for byte.  0 by default. */
extern int vvi_full_path;

/* Internal invariant check; compiles away unless VV_DEBUG. */
#ifdef VV_DEBUG
#include <assert.h>
#define vvi_assert(c) assert(c)
#else
#define vvi_assert(c) ((void)0)
#endif

/* ---- growable byte buffer: vv_buf (vv_bind.h) ------------------------ */
/* Start in the caller's memory (e.g. the stack); moves to the heap when it
 * outgrows it.  Do not take ownership of p from such a buffer. */
void vvi_buf_init_fixed(vv_buf *b, void *mem, size_t cap);
void vvi_buf_byte(vv_buf *b, unsigned c);
void vvi_buf_varint_slow(vv_buf *b, uint64_t v);
/* LEB128 varint; one-byte values take the inline path. */
static inline void vvi_buf_varint(vv_buf *b, uint64_t v)
{
    if (v < 0x80 && b->len < b->cap) b->p[b->len++] = (unsigned char)v;
    else vvi_buf_varint_slow(b, v);
}
void vvi_buf_u64le(vv_buf *b, uint64_t v);

/* ---- bounded reader ------------------------------------------------- */
typedef struct vvi_rd {
    const unsigned char *p, *end;
    int err;                  /* sticky: VV_ECORRUPT once anything failed */
} vvi_rd;

void     vvi_rd_init(vvi_rd *r, const void *p, size_t n);
uint64_t vvi_rd_varint_slow(vvi_rd *r);
/* LEB128, canonical, <= 10 bytes; one-byte values take the inline path. */
static inline uint64_t vvi_rd_varint(vvi_rd *r)
{
    if (!r->err && r->p < r->end && *r->p < 0x80) return *r->p++;
    return vvi_rd_varint_slow(r);
}
unsigned vvi_rd_byte(vvi_rd *r);
const unsigned char *vvi_rd_bytes(vvi_rd *r, size_t n);
uint64_t vvi_rd_u64le(vvi_rd *r);
size_t   vvi_varint_len(uint64_t v);

/* ---- change log keys: a seq as 8 big-endian bytes ------------------- */
/* A word as stored in memory read as a big-endian number (and back):
 * bytewise order. */
static inline uint64_t vvi_word_be(uint64_t x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return x;
#elif defined(__GNUC__)
    return __builtin_bswap64(x);
#else
    unsigned char b[8];
    uint64_t v = 0;
    int i;
    memcpy(b, &x, 8);
    for (i = 0; i < 8; i++) v = v << 8 | b[i];
    return v;
#endif
}

/* Byte order equals number order, so a range scan walks seqs in order. */
static inline void vvi_seq_key(uint64_t seq, unsigned char k[8])
{
    seq = vvi_word_be(seq);
    memcpy(k, &seq, 8);
}

static inline uint64_t vvi_seq_of(const unsigned char k[8])
{
    uint64_t v;
    memcpy(&v, k, 8);
    return vvi_word_be(v);
}

/* ---- checksums (xxh64 of the payload) ------------------------------- */
uint64_t vvi_hash64(const void *p, size_t n, uint64_t seed);
/* Exported states and sync messages end in xxh64 of what precedes it,
 * 8 bytes little-endian.  Append it for b->p[start..len): */
void vvi_buf_sum(vv_buf *b, size_t start);
/* Do the last 8 of n bytes (n >= 8) hold the sum of the rest? */
int  vvi_sum_ok(const void *p, size_t n);
/* Write the sum into the last 8 of n bytes (tests forge frames with it). */
void vvi_sum_set(void *p, size_t n);

/* ---- clocks: internal access (the layout is in vv_bind.h) ---------- */
/* The entry's name (len bytes, not NUL-terminated). */
static inline const char *vvi_cname(const vv_centry *e)
{
    return e->len > VV_CLOCK_INL ? e->heap : e->inl;
}

/* An entry's key: its name's first VV_CLOCK_KEY bytes, zero padded, read
 * as three words.  Word k (0..2) as stored (native byte order): */
static inline uint64_t vvi_cent_word(const vv_centry *e, int k)
{
    uint64_t x;
    memcpy(&x, e->inl + 8 * k, 8);
    return x;
}

/* Fill e's key and length from name (not its counter or heap copy). */
void vvi_cent_key(vv_centry *e, const char *name, size_t len);
/* Order of two entries whose keys are equal: by the names' tails past
 * the key (heap), else the shorter first.  Rarely reached. */
int  vvi_cent_tail(const vv_centry *a, const vv_centry *b);

/* Bytewise order of two entries' names (shorter prefix first), the same
 * as vvi_node_cmp on the names: three word compares for most pairs. */
static inline int vvi_cent_cmp(const vv_centry *a, const vv_centry *b)
{
    uint64_t x = vvi_cent_word(a, 0), y = vvi_cent_word(b, 0);
    if (x == y) {
        x = vvi_cent_word(a, 1);
        y = vvi_cent_word(b, 1);
        if (x == y) {
            x = vvi_cent_word(a, 2);
            y = vvi_cent_word(b, 2);
            if (x == y) return vvi_cent_tail(a, b);
        }
    }
    return vvi_word_be(x) < vvi_word_be(y) ? -1 : 1;
}

/* Do two entries carry the same name?  One branch for most pairs. */
static inline int vvi_cent_eq(const vv_centry *a, const vv_centry *b)
{
    uint64_t d = (vvi_cent_word(a, 0) ^ vvi_cent_word(b, 0))
               | (vvi_cent_word(a, 1) ^ vvi_cent_word(b, 1))
               | (vvi_cent_word(a, 2) ^ vvi_cent_word(b, 2))
               | (a->len ^ b->len);
    return !d && (a->len <= VV_CLOCK_KEY || vvi_cent_tail(a, b) == 0);
}

/* Compare two node names bytewise (shorter prefix first). */
int vvi_node_cmp(const char *a, size_t alen, const char *b, size_t blen);
/* Room for n entries in c (VV_OK or VV_ENOMEM; c unchanged then). */
int vvi_clock_reserve(vv_clock *c, size_t n);
/* Append entries without the sort check (decoder use); takes a copy. */
int vvi_clock_push(vv_clock *c, const char *node, size_t len, uint64_t n);
/* The same for the name of entry k (its key, and heap when long), with
 * counter n. */
int vvi_clock_push_ent(vv_clock *c, const vv_centry *k, uint64_t n);
/* Encode/decode clock body (without the format byte) into/from streams. */
void vvi_clock_put(vv_buf *b, const vv_clock *c);
int  vvi_clock_get(vvi_rd *r, vv_clock *c);

/* ---- storage backends ---------------------------------------------- */
/* A backend stores opaque byte values under (keyspace id, key) plus a few
 * named meta records.  All calls happen inside a transaction the store
 * opened with begin(); reads may use a read-only one (write == 0).
 * Pointers a get returns are valid until the next write or txn end.
 * Return VV_OK, VV_ENOTFOUND (get/meta_get), or an error (with a message
 * through errmsg). */
typedef struct vvi_backend {
    const char *name;
    int  (*begin)(void *h, int write);
    int  (*commit)(void *h);
    void (*abort)(void *h);
    int  (*get)(void *h, uint32_t ks, const void *key, size_t klen,
                const void **val, size_t *vlen);
    int  (*put)(void *h, uint32_t ks, const void *key, size_t klen,
                const void *val, size_t vlen);
    int  (*del)(void *h, uint32_t ks, const void *key, size_t klen);
    /* in bytewise key order; a non-zero return from fn stops the scan */
    int  (*scan)(void *h, uint32_t ks,
                 int (*fn)(void *ud, const void *key, size_t klen,
                           const void *val, size_t vlen), void *ud);
    int  (*meta_get)(void *h, const char *name, const void **val, size_t *vlen);
    int  (*meta_put)(void *h, const char *name, const void *val, size_t vlen);
    int  (*bytes)(void *h, uint64_t *out);
    const char *(*errmsg)(void *h);
    void (*close)(void *h);
    /* like scan, from the first key >= start (bytewise) onwards */
    int  (*scan_from)(void *h, uint32_t ks, const void *start, size_t slen,
                      int (*fn)(void *ud, const void *key, size_t klen,
                                const void *val, size_t vlen), void *ud);
} vvi_backend;

int vvi_mem_open(void **h, const vvi_backend **ops);
/* path: directory (created if missing).  *err gets a malloc'd message. */
int vvi_lmdb_open(const vv_options *o, void **h, const vvi_backend **ops,
                  char **err);
/* The snapshot the LMDB store's open read transaction sees (LMDB's txn
 * id; 0 when none is open).  Two reads with one id see the same bytes. */
size_t vvi_lmdb_snapshot(void *h);

/* ---- keyspace sync: what sync.c needs of the store ------------------- */
/* Every change to a key's stored state gives the key its keyspace's next
 * sequence number (kept in the state: vvi_dvv.seq).  The backend
 * keyspace VVI_LOG_KS | id is the change log: 8-byte big-endian seq ->
 * key, one entry per key (its latest seq), so "what changed after seq x"
 * is one scan_from.  Keyspace ids stay below VVI_LOG_KS. */
#define VVI_LOG_KS 0x40000000u
/* Keyspace VVI_HIST_KS | id holds each key's opt-in causal history. */
#define VVI_HIST_KS 0x80000000u
typedef struct vvi_ks vvi_ks;

/* Begin a transaction (mode 0: read, 1: write, 2: write and create the
 * keyspace) and find keyspace name: *k is NULL when it does not exist. */
int  vvi_sync_begin(vv_db *db, const char *name, int mode, vvi_ks **k);
/* End it: commit when rc is VV_OK and it writes, else abort.  Returns rc
 * or the commit's failure. */
int  vvi_sync_end(vv_db *db, int rc);
/* The keyspace's backend id and its last seq. */
int  vvi_ks_info(vv_db *db, vvi_ks *k, uint32_t *id, uint64_t *seq);
/* After vvi_ks_info: the i-th recent writing session of a durable store
 * (its actor name) and the last seq it gave out, which this directory's
 * history holds; 0 when there is no i-th. */
int  vvi_ks_session(vv_db *db, vvi_ks *k, unsigned i, const char **name,
                    size_t *len, uint64_t *seq);
const vvi_backend *vvi_db_backend(vv_db *db, void **h);
/* Number of actor name; added when add is set, else VV_ENOTFOUND. */
int  vvi_actor_num(vv_db *db, const char *name, size_t len, int add,
                   uint32_t *a);
/* Name of actor number a (NULL when there is none); *len when len. */
const char *vvi_actor_name(const vv_db *db, uint32_t a, size_t *len);
/* Append key's state as vv_export makes it; VV_ENOTFOUND when absent. */
int  vvi_key_export(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                    vv_buf *out);
/* Check an exported state completely (full) or only find its key (a
 * state checked before); *key points into it. */
int  vvi_export_check(const void *state, size_t len, int full,
                      const void **key, size_t *klen);
/* Merge an exported state into key (vv_merge inside the open write
 * transaction); *changed tells whether the stored state changed. */
int  vvi_key_merge(vv_db *db, vvi_ks *k, const void *key, size_t klen,
                   const void *state, size_t len, int *changed);


/* ---- a key's state in memory: a dvv (dvv.c) ----------------------------- */
/* A dvv (dotted version vector set) is a key's state decoded: its
 * versions with their dots and its causal context (docs/layout.md's
 * glossary tells it from an exported state and a parsed one, a vvi_xview).
 * Actors are numbered per store (the actor table in actors.c); a dvv
 * refers to them by number.  The key's causal context is a version vector
 * ctx (sorted by actor number); each version carries its dot (a, n). */
typedef struct vvi_ent {
    uint32_t a;
    uint64_t n;
} vvi_ent;

typedef struct vvi_ver {
    uint32_t a;              /* dot: actor number ... */
    uint64_t n;              /* ... and counter */
    uint64_t ts;             /* wall-clock ms */
    int tomb;                /* a delete */
    const unsigned char *val;/* borrowed: decoded bytes or the caller's */
    size_t len;
} vvi_ver;

#define VVI_ICTX 6            /* context entries kept inline */
#define VVI_IVER 3            /* versions kept inline */
typedef struct vvi_dvv {
    vvi_ent *ctx;             /* ictx or the heap */
    size_t nctx, capctx;
    vvi_ver *v;               /* iv or the heap */
    size_t nv, capv;
    vvi_ent ictx[VVI_ICTX];
    vvi_ver iv[VVI_IVER];
    uint64_t seq;             /* change log seq of the key (0: none yet) */
} vvi_dvv;
/* A dvv refers to its own inline arrays: move it only with this. */
void     vvi_dvv_move(vvi_dvv *dst, vvi_dvv *src);

void     vvi_dvv_init(vvi_dvv *s);
void     vvi_dvv_free(vvi_dvv *s);
uint64_t vvi_ctx_get(const vvi_ent *ctx, size_t n, uint32_t a);
int      vvi_ctx_max(vvi_dvv *s, uint32_t a, uint64_t n);
int      vvi_dvv_add(vvi_dvv *s, const vvi_ver *v);
/* Local storage format (actor numbers).  Values stay borrowed from p. */
int      vvi_dvv_decode(vvi_dvv *s, const void *p, size_t n);
void     vvi_dvv_encode(const vvi_dvv *s, vv_buf *b);
/* A write: drop what cc covers, add the version, ctx := ctx ⊔ cc ⊔ dot. */
int      vvi_dvv_write(vvi_dvv *s, const vvi_ent *cc, size_t ncc,
                       const vvi_ver *v);
/* The stored state at buf (n bytes) parsed into the caller's arrays,
 * without a dvv: its context into ctx (room for capctx) and its live
 * versions, values borrowed from buf, into live (room for caplive): what
 * a read needs.  Checked as vvi_dvv_decode checks, actor numbers below
 * na.  VV_OK; VV_ECORRUPT; VV_ELIMIT (more than the arrays hold: the
 * caller decodes into a dvv instead). */
int      vvi_dvv_view(const void *buf, size_t n, uint32_t na, vvi_ent *ctx,
                      size_t capctx, size_t *nctx, vvi_ver *live,
                      size_t caplive, size_t *nlive);
/* What vvi_dvv_patch tells of the state it wrote. */
typedef struct vvi_patch {
    vvi_ent *ctx;            /* the new context (the caller's room) ... */
    size_t nctx, cap;        /* ... of cap entries */
    size_t before, after;    /* live versions before and after */
    uint64_t seq;            /* the stored state's change log seq (0: none) */
} vvi_patch;
/* vvi_dvv_write on the stored state old (n bytes; old NULL: none),
 * written straight into b (without the seq, which the caller appends
 * once the change is logged), without a dvv: what a put costs near a
 * plain map.  The bytes are checked as vvi_dvv_decode checks them, and
 * actor numbers must be below na.  VV_OK; VV_ECORRUPT (unreadable),
 * VV_ELIMIT (beyond what a patch handles: 127 versions, 64 incoming or
 * cap context entries), VV_ENOMEM: then b holds garbage and the caller
 * takes the full path, which gives the same bytes. */
int      vvi_dvv_patch(const void *old, size_t n, uint32_t na,
                       const vvi_ent *cc, size_t ncc, const vvi_ver *v,
                       vvi_patch *pt, vv_buf *b);
/* s := merge(s, o) of two dvvs (vv_state_merge merges exported states,
 * vv_merge an exported state into a stored key).  Commutative,
 * associative, idempotent. */
int      vvi_dvv_merge(vvi_dvv *s, const vvi_dvv *o);
size_t   vvi_dvv_live(const vvi_dvv *s);
/* The live versions of s in the order a read shows them -- actor name
 * (an[a], al[a] bytes), then counter -- as pointers into s, into out
 * (room for s->nv).  Returns how many. */
size_t   vvi_dvv_values(const vvi_dvv *s, char *const *an,
                        const uint8_t *al, const vvi_ver **out);

#endif /* VV_INT_H */
