/* util.c - error names, allocation, byte buffers, varints and checksums. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "vv_int.h"

/* Names of vv's own codes; errno values go to strerror. */
const char *vv_strerror(int rc)
{
    switch (rc) {
    case VV_OK:        return "ok";
    case VV_EINVAL:    return "invalid argument";
    case VV_ENOTFOUND: return "not found";
    case VV_ECORRUPT:  return "corrupt or truncated data";
    case VV_EVERSION:  return "unsupported format version";
    case VV_EOVERFLOW: return "counter or size overflow";
    case VV_ENOMEM:    return "out of memory";
    case VV_ERESOLVER: return "resolver failed";
    case VV_ELIMIT:    return "limit exceeded";
    case VV_ESTORAGE:  return "storage error";
    case VV_EMAPFULL:  return "storage map full";
    case VV_EREADONLY: return "read-only store";
    case VV_EBUSY:     return "transaction state does not allow this";
    case VV_EFOREIGN:  return "data belongs to another key or keyspace";
    default: break;
    }
    if (rc > 0) return strerror(rc);
    return "unknown error";
}

void vv_free(void *p) { free(p); }

/* ---- allocation with a failure hook for tests ------------------------ */
/* The countdown is process-wide by design: it exists only so tests can
 * make the Nth allocation fail; it is 0 (off) in normal use. */
static long alloc_countdown;

void vvi_fail_alloc_after(long n) { alloc_countdown = n; }

int vvi_full_path;

static int alloc_fails(void)
{
    if (alloc_countdown <= 0) return 0;
    return --alloc_countdown == 0;
}

void *vv_malloc(size_t n)
{
    if (alloc_fails()) return NULL;
    return malloc(n ? n : 1);
}

void *vv_realloc(void *p, size_t n)
{
    if (alloc_fails()) return NULL;
    return realloc(p, n ? n : 1);
}

char *vv_strndup(const char *s, size_t n)
{
    char *d = vv_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* ---- buffers ---------------------------------------------------------- */
void vv_buf_init(vv_buf *b) { memset(b, 0, sizeof *b); }

void vvi_buf_init_fixed(vv_buf *b, void *mem, size_t cap)
{
    memset(b, 0, sizeof *b);
    b->p = mem;
    b->cap = cap;
    b->fixed = 1;
}

void vv_buf_free(vv_buf *b)
{
    if (!b->fixed) vv_free(b->p);
    vv_buf_init(b);
}

/* Make room for extra more bytes; sets the sticky oom flag on failure. */
int vv_buf_reserve(vv_buf *b, size_t extra)
{
    size_t cap;
    unsigned char *p;
    if (b->oom) return VV_ENOMEM;
    if (b->cap - b->len >= extra) return VV_OK;
    if (extra > SIZE_MAX / 2 - b->len) { b->oom = 1; return VV_ENOMEM; }
    cap = b->cap ? b->cap : 64;
    while (cap - b->len < extra) cap *= 2;
    if (b->fixed) {                       /* leave the caller's memory */
        p = vv_malloc(cap);
        if (p && b->len) memcpy(p, b->p, b->len);
    } else p = vv_realloc(b->p, cap);
    if (!p) { b->oom = 1; return VV_ENOMEM; }
    b->fixed = 0;
    b->p = p;
    b->cap = cap;
    return VV_OK;
}

void vv_buf_add(vv_buf *b, const void *p, size_t n)
{
    if (n == 0 || vv_buf_reserve(b, n)) return;
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void vvi_buf_byte(vv_buf *b, unsigned c)
{
    if (vv_buf_reserve(b, 1)) return;
    b->p[b->len++] = (unsigned char)c;
}

/* LEB128: 7 bits a byte, low first, high bit = more. */
void vvi_buf_varint_slow(vv_buf *b, uint64_t v)
{
    unsigned char *p;
    if (b->cap - b->len < 10 && vv_buf_reserve(b, 10)) return;
    p = b->p + b->len;                  /* a local cursor: no reloads */
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    b->len = (size_t)(p - b->p);
}

void vvi_buf_u64le(vv_buf *b, uint64_t v)
{
    int i;
    if (vv_buf_reserve(b, 8)) return;
    for (i = 0; i < 8; i++) b->p[b->len++] = (unsigned char)(v >> (8 * i));
}

size_t vvi_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

/* ---- reader ------------------------------------------------------------ */
void vvi_rd_init(vvi_rd *r, const void *p, size_t n)
{
    r->p = p;
    r->end = r->p + n;
    r->err = 0;
}

/* Read a canonical varint: no redundant high zero groups, fits 64 bits. */
uint64_t vvi_rd_varint_slow(vvi_rd *r)
{
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
        unsigned c;
        if (r->err || r->p >= r->end) { r->err = VV_ECORRUPT; return 0; }
        c = *r->p++;
        if (shift == 63 && c > 1) { r->err = VV_ECORRUPT; return 0; }
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            if (c == 0 && shift > 0) { r->err = VV_ECORRUPT; return 0; }
            return v;
        }
        shift += 7;
        if (shift > 63) { r->err = VV_ECORRUPT; return 0; }
    }
}

unsigned vvi_rd_byte(vvi_rd *r)
{
    if (r->err || r->p >= r->end) { r->err = VV_ECORRUPT; return 0; }
    return *r->p++;
}

const unsigned char *vvi_rd_bytes(vvi_rd *r, size_t n)
{
    const unsigned char *p = r->p;
    if (r->err || (size_t)(r->end - r->p) < n) { r->err = VV_ECORRUPT; return NULL; }
    r->p += n;
    return p;
}

uint64_t vvi_rd_u64le(vvi_rd *r)
{
    const unsigned char *p = vvi_rd_bytes(r, 8);
    uint64_t v = 0;
    int i;
    if (!p) return 0;
    for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

uint64_t vvi_hash64(const void *p, size_t n, uint64_t seed)
{
    return (uint64_t)XXH64(p, n, (XXH64_hash_t)seed);
}

void vvi_buf_sum(vv_buf *b, size_t start)
{
    if (!b->oom) vvi_buf_u64le(b, vvi_hash64(b->p + start, b->len - start, 0));
}

int vvi_sum_ok(const void *p, size_t n)
{
    vvi_rd r;
    vvi_rd_init(&r, (const unsigned char *)p + n - 8, 8);
    return vvi_hash64(p, n - 8, 0) == vvi_rd_u64le(&r);
}

void vvi_sum_set(void *p, size_t n)
{
    unsigned char *q = (unsigned char *)p + n - 8;
    uint64_t h = vvi_hash64(p, n - 8, 0);
    int i;
    for (i = 0; i < 8; i++) q[i] = (unsigned char)(h >> (8 * i));
}
