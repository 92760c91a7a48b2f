/* vv_bind.h - what a language binding needs of vv beyond vv.h.
 *
 * vv.h is the API for C programs.  A binding (vv's Lua module is one)
 * keeps vv's objects inside its own (a clock inside a Lua userdata),
 * reuses memory across calls on its hot paths, and reports errors through
 * a store from callbacks vv makes (a script host).  This header holds the
 * calls for that, under vv.h's conventions: an int return is VV_OK, a
 * negative VV_E* code or a positive errno value; nothing aborts on bad
 * input.
 *
 * What it adds:
 *   memory      vv_malloc, vv_realloc, vv_strndup (released with vv_free)
 *   errors      vv_db_fail: set a store's message from a callback
 *   buffers     vv_buf: a growable byte buffer (encoders write into one)
 *   clocks      struct vv_clock's layout and vv_clock_init/clear/heap/
 *               take/move/room/take_room, to keep a clock in the
 *               binding's own memory, sized to its entries
 *   hot paths   vv_write, vv_read_context_into: a write and a read's
 *               context without a new clock each time
 *   lookups     vv_keyspace_seen, vv_state_key: without a transaction or
 *               a second check
 *
 * The layout of struct vv_clock is here only so that a binding can
 * reserve room for one; its fields are vv's, read a clock through
 * vv_clock_entry.  The layout can change between versions (VV_VERSION):
 * build a binding against the vv it runs with.
 */
#ifndef VV_BIND_H
#define VV_BIND_H

#include <stddef.h>
#include <stdint.h>
#include "vv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/** @defgroup bind_mem Memory
 *  All of vv's memory comes from these (tests make the Nth allocation
 *  fail through them); vv_free releases it.  A binding that hands memory
 *  to vv (a resolver's result, vv_resolve_fn) or allocates on vv's behalf
 *  (a script's Lua state) uses them too.
 *  @{ */
/** @brief malloc; a request of 0 bytes gets 1.  @return NULL when out
 *  of memory. */
void *vv_malloc(size_t n);
/** @brief realloc (p NULL: a new block; n 0 keeps 1 byte).  @return NULL
 *  when out of memory, p then stays valid. */
void *vv_realloc(void *p, size_t n);
/** @brief A NUL-terminated copy of the n bytes at s (NUL bytes among
 *  them are copied too).  @return NULL when out of memory. */
char *vv_strndup(const char *s, size_t n);
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup bind_err Errors
 *  @{ */
/** @brief Set db's message (vv_errmsg) from a printf format and return
 *  rc, so that a callback vv makes (a vv_script_fn) can fail with a
 *  message: `return vv_db_fail(db, VV_EINVAL, "no such file: %s", p);`.
 *  The message is cut at 511 bytes.
 *  @param[in] db  the store (NULL: nothing is set)
 *  @param[in] rc  the code to return
 *  @return rc. */
int vv_db_fail(vv_db *db, int rc, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup bind_buf Byte buffers
 *  A growable byte buffer.  Appends never fail loudly: when memory runs
 *  out the buffer keeps what it had and sets oom, which stays set (check
 *  it once, after the last append).  Read p[0..len); p is NULL until the
 *  first append, and moves when the buffer grows.
 *  @{ */
typedef struct vv_buf {
    unsigned char *p;        /**< the bytes (vv_malloc'd, owned) */
    size_t len;              /**< bytes in use */
    size_t cap;              /**< bytes p has room for */
    int oom;                 /**< sticky: an append ran out of memory */
    int fixed;               /**< vv's: p is not the heap's */
} vv_buf;

/** @brief Make b empty (no memory yet). */
void vv_buf_init(vv_buf *b);
/** @brief Release b's memory and make it empty again (oom cleared). */
void vv_buf_free(vv_buf *b);
/** @brief Make room for extra more bytes after len, so that the caller
 *  may write p[len..len+extra) and then add to len.
 *  @return VV_OK; VV_ENOMEM (oom is set; also when it was set before). */
int vv_buf_reserve(vv_buf *b, size_t extra);
/** @brief Append n bytes (n 0: nothing; p may be NULL then).  When out of
 *  memory nothing is appended and oom is set. */
void vv_buf_add(vv_buf *b, const void *p, size_t n);
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup bind_clock Clocks in the caller's memory
 *  A vv_clock keeps its first VV_CLOCK_INLINE entries, and names of up to
 *  VV_CLOCK_INL bytes, inside itself, so a clock that lives in a
 *  binding's object (a Lua userdata) costs no allocation until it grows.
 *  Such a clock is made with vv_clock_init, never with vv_clock_new, and
 *  released with vv_clock_clear, never with vv_clock_free.  Every other
 *  clock call takes it as it takes any clock.
 *  @{ */
#define VV_CLOCK_INL    23   /**< names up to this long live in the entry */
#define VV_CLOCK_KEY    24   /**< name bytes every entry keeps in inl */
#define VV_CLOCK_INLINE 4    /**< entries a clock keeps inside itself */

/** An entry of a clock (vv's: read clocks with vv_clock_entry).  inl
 *  holds the name's first VV_CLOCK_KEY bytes, zero padded: the whole name
 *  when it fits (len <= VV_CLOCK_INL), else a prefix of the heap copy.
 *  Read as three big-endian words it orders entries like the bytes do,
 *  so a walk compares integers and looks at longer names only on a tie. */
typedef struct vv_centry {
    char inl[VV_CLOCK_KEY];
    uint64_t n;
    uint32_t len;
    uint32_t hint;           /* a store's actor number for the name, a
                                guess it checks before use (0: none) */
    char *heap;              /* owned name when len > VV_CLOCK_INL */
} vv_centry;

/** A clock (vv's fields: see above). */
struct vv_clock {
    vv_centry *e;            /* ie or the heap; sorted by (bytes, length) */
    size_t n, cap;
    vv_centry ie[VV_CLOCK_INLINE];
};

/** @brief Make the clock at c (memory of the caller's) empty.  Nothing to
 *  release afterwards until it holds heap memory (vv_clock_heap). */
void vv_clock_init(vv_clock *c);
/** @brief Free what c holds on the heap and make it empty again; c's own
 *  memory stays the caller's.  A clock from vv_clock_init only. */
void vv_clock_clear(vv_clock *c);
/** @brief Does c hold heap memory now (more than VV_CLOCK_INLINE entries,
 *  or a name longer than VV_CLOCK_INL bytes)?  Only then must its owner
 *  call vv_clock_clear before dropping it.  @return 1 or 0. */
int vv_clock_heap(const vv_clock *c);
/** @brief Give the empty clock dst (from vv_clock_init) src's entries,
 *  without copying heap memory: src is left empty (an empty clock of the
 *  caller's memory, as vv_clock_init makes). */
void vv_clock_take(vv_clock *dst, vv_clock *src);

/** Bytes of a clock that keeps room entries inside itself (0 <= room <=
 *  VV_CLOCK_INLINE): a binding that sizes its objects to the clock they
 *  hold reserves this many (see vv_clock_take_room). */
#define VV_CLOCK_SIZE(room) \
    (offsetof(vv_clock, ie) + (size_t)(room) * sizeof(vv_centry))

/** @brief The entries a clock must keep inside itself to take src's as
 *  they are: their number while src keeps them inside itself, 0 once they
 *  are on the heap (the array then moves along).
 *  @return 0..VV_CLOCK_INLINE. */
size_t vv_clock_room(const vv_clock *src);
/** @brief vv_clock_take into dst, memory of the caller's of
 *  VV_CLOCK_SIZE(room) bytes, room >= vv_clock_room(src) (any room takes
 *  an empty src: a new empty clock of that size).  dst then works with
 *  every clock call that reads or changes a clock (it moves its entries
 *  onto the heap when they outgrow room), but it is not a clock from
 *  vv_clock_init: never pass it as vv_clock_take's or vv_clock_take_room's
 *  dst, vv_write's into or vv_read_context_into's clock, and vv_clock_clear
 *  it only to drop it.  src is left empty. */
void vv_clock_take_room(vv_clock *dst, size_t room, vv_clock *src);
/** @brief vv_clock_take, then release src itself: for a src from
 *  vv_clock_new (or another call that returns a new clock), which is gone
 *  afterwards. */
void vv_clock_move(vv_clock *dst, vv_clock *src);
/** @} */

/* ------------------------------------------------------------------ */
/** @defgroup bind_hot Reads and writes into memory already held
 *  @{ */
/** @brief Append the context of read r (what vv_read_context gives) to
 *  c, an empty clock, in c's order, without building the read's own.
 *  @return VV_OK; VV_ENOMEM (c then holds part of it: clear it). */
int vv_read_context_into(const vv_read *r, vv_clock *c);
/** @brief vv_put (tomb 0) or vv_delete (tomb 1; value ignored), with the
 *  key's context afterwards written into the clock into (emptied first)
 *  rather than into a new clock.
 *  @param[in]  ctx   a read's context, or NULL (as for vv_put)
 *  @param[out] into  NULL (no context wanted) or an initialised clock,
 *                    which is empty after a failure; it must not be ctx
 *  @return what vv_put returns: VV_OK; VV_EINVAL (db NULL, a bad
 *  keyspace name or key, value NULL with vlen > 0, a ctx claiming dots of
 *  db's actor that it never gave out); VV_EREADONLY; VV_ELIMIT
 *  (max_siblings); VV_EOVERFLOW; VV_ENOMEM; a storage error (vv.h).
 *  vv_errmsg(db) says why. */
int vv_write(vv_db *db, const char *ks, const void *key, size_t klen,
             const void *value, size_t vlen, int tomb, const vv_clock *ctx,
             vv_clock *into);
/** @brief The config of keyspace name as this handle last read it,
 *  without a transaction, for lookups on every call (codec, resolver):
 *  another process's change reaches it with this handle's next
 *  transaction.  @return the config (borrowed from db: valid until its
 *  next call), or NULL when db does not know the keyspace (or name is
 *  NULL). */
const vv_ks_config *vv_keyspace_seen(vv_db *db, const char *name);
/** @brief The key an exported state names, from a state checked before
 *  (vv_state_check, or vv_state_get / vv_state_put / vv_merge that
 *  accepted it): only the key's bytes are read, no checksum.
 *  @param[out] key, klen  the key (borrowed from state; either may be
 *  NULL)
 *  @return VV_OK; VV_ECORRUPT (too short to name a key: *key NULL). */
int vv_state_key(const void *state, size_t len, const void **key,
                 size_t *klen);
/** @} */

#ifdef __cplusplus
}
#endif
#endif /* VV_BIND_H */
