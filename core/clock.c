/* clock.c - vector clocks: compare, merge, tick, binary and text forms. */
#include <stdlib.h>
#include <string.h>
#include "vv_int.h"

#define CLOCK_FORMAT 0x01   /* first byte of an encoded clock */

int vvi_node_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c) return c;
    return alen < blen ? -1 : alen > blen;
}

void vv_clock_init(vv_clock *c)
{
    c->e = c->ie;
    c->n = 0;
    c->cap = VV_CLOCK_INLINE;
}

int vv_clock_new(vv_clock **out)
{
    vv_clock *c = vv_malloc(sizeof *c);
    *out = NULL;
    if (!c) return VV_ENOMEM;
    vv_clock_init(c);
    *out = c;
    return VV_OK;
}

/* ---- entries and their order ------------------------------------- */
/* (the keys' inline compares are in vv_int.h, shared with actors.c) */

/* Past equal keys: names longer than the key go on to their tails; else
 * one is a prefix of the other (zero padding and zero bytes look alike
 * in keys) and the shorter comes first. */
int vvi_cent_tail(const vv_centry *a, const vv_centry *b)
{
    if (a->len > VV_CLOCK_KEY && b->len > VV_CLOCK_KEY)
        return vvi_node_cmp(a->heap + VV_CLOCK_KEY, a->len - VV_CLOCK_KEY,
                            b->heap + VV_CLOCK_KEY, b->len - VV_CLOCK_KEY);
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Fill e's key and length from name (not its counter or heap copy). */
void vvi_cent_key(vv_centry *e, const char *name, size_t len)
{
    memset(e->inl, 0, VV_CLOCK_KEY);
    memcpy(e->inl, name, len < VV_CLOCK_KEY ? len : VV_CLOCK_KEY);
    e->len = (uint32_t)len;
    e->hint = 0;
}

/* Give entry e a copy of name.  @return VV_OK or VV_ENOMEM. */
static int cent_set(vv_centry *e, const char *name, size_t len, uint64_t n)
{
    vvi_cent_key(e, name, len);
    e->n = n;
    e->heap = NULL;
    if (len > VV_CLOCK_INL) {
        if (!(e->heap = vv_malloc(len))) return VV_ENOMEM;
        memcpy(e->heap, name, len);
    }
    return VV_OK;
}

static void cent_free(vv_centry *e)
{
    if (e->len > VV_CLOCK_INL) vv_free(e->heap);
}

static void clock_clear(vv_clock *c)
{
    size_t i;
    for (i = 0; i < c->n; i++) cent_free(&c->e[i]);
    c->n = 0;
}

void vv_clock_clear(vv_clock *c)
{
    clock_clear(c);
    if (c->e != c->ie) vv_free(c->e);
    vv_clock_init(c);
}

int vv_clock_heap(const vv_clock *c)
{
    size_t i;
    if (c->e != c->ie) return 1;
    for (i = 0; i < c->n; i++)
        if (c->e[i].len > VV_CLOCK_INL) return 1;
    return 0;
}

size_t vv_clock_room(const vv_clock *src)
{
    return src->e == src->ie ? src->n : 0;
}

/* A clock with room for cap entries inside itself works like any other:
 * every change goes through clock_reserve, which moves the entries onto
 * the heap past cap. */
void vv_clock_take_room(vv_clock *dst, size_t room, vv_clock *src)
{
    if (src->e == src->ie) {
        memcpy(dst->ie, src->ie, src->n * sizeof *src->e);
        dst->e = dst->ie;
        dst->cap = room;
    } else {
        dst->e = src->e;                 /* the heap array moves along */
        dst->cap = src->cap;
    }
    dst->n = src->n;
    vv_clock_init(src);
}

void vv_clock_take(vv_clock *dst, vv_clock *src)
{
    vv_clock_take_room(dst, VV_CLOCK_INLINE, src);
}

void vv_clock_move(vv_clock *dst, vv_clock *src)
{
    vv_clock_take(dst, src);
    vv_free(src);
}

void vv_clock_free(vv_clock *c)
{
    if (!c) return;
    clock_clear(c);
    if (c->e != c->ie) vv_free(c->e);
    vv_free(c);
}

/* Grow the entry array to hold at least n entries. */
static int clock_reserve(vv_clock *c, size_t n)
{
    vv_centry *e;
    size_t cap;
    if (n <= c->cap) return VV_OK;
    cap = c->cap * 2;
    if (cap < n) cap = n;
    if (c->e == c->ie) {
        if ((e = vv_malloc(cap * sizeof *e)) != NULL)
            memcpy(e, c->ie, c->n * sizeof *e);
    } else e = vv_realloc(c->e, cap * sizeof *e);
    if (!e) return VV_ENOMEM;
    c->e = e;
    c->cap = cap;
    return VV_OK;
}

int vvi_clock_reserve(vv_clock *c, size_t n)
{
    return clock_reserve(c, n);
}

/* Binary search: index of node, or -(insertion point) - 1. */
static long clock_find(const vv_clock *c, const char *node, size_t len)
{
    size_t lo = 0, hi = c->n;
    vv_centry probe;
    vvi_cent_key(&probe, node, len);
    probe.heap = (char *)node;                  /* read only, for the tail */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = vvi_cent_cmp(&c->e[mid], &probe);
        if (r == 0) return (long)mid;
        if (r < 0) lo = mid + 1; else hi = mid;
    }
    return -(long)lo - 1;
}

int vvi_clock_push(vv_clock *c, const char *node, size_t len, uint64_t n)
{
    if (clock_reserve(c, c->n + 1)) return VV_ENOMEM;
    if (cent_set(&c->e[c->n], node, len, n)) return VV_ENOMEM;
    c->n++;
    return VV_OK;
}

int vvi_clock_push_ent(vv_clock *c, const vv_centry *k, uint64_t n)
{
    vv_centry *e;
    if (clock_reserve(c, c->n + 1)) return VV_ENOMEM;
    e = &c->e[c->n];
    memcpy(e->inl, k->inl, VV_CLOCK_KEY);
    e->len = k->len;
    e->hint = k->hint;
    e->n = n;
    e->heap = NULL;
    if (k->len > VV_CLOCK_INL) {
        if (!(e->heap = vv_malloc(k->len))) return VV_ENOMEM;
        memcpy(e->heap, k->heap, k->len);
    }
    c->n++;
    return VV_OK;
}

int vv_clock_copy(const vv_clock *c, vv_clock **out)
{
    vv_clock *d;
    size_t i;
    int rc;
    *out = NULL;
    if (!c) return VV_EINVAL;
    if ((rc = vv_clock_new(&d))) return rc;
    if (clock_reserve(d, c->n)) { vv_clock_free(d); return VV_ENOMEM; }
    for (i = 0; i < c->n; i++, d->n++) {
        d->e[i] = c->e[i];                       /* inline names come along */
        if (c->e[i].len > VV_CLOCK_INL &&
            cent_set(&d->e[i], c->e[i].heap, c->e[i].len, c->e[i].n)) {
            vv_clock_free(d);
            return VV_ENOMEM;
        }
    }
    *out = d;
    return VV_OK;
}

uint64_t vv_clock_get(const vv_clock *c, const char *node, size_t len)
{
    long i;
    if (!c || !node) return 0;
    i = clock_find(c, node, len);
    return i >= 0 ? c->e[i].n : 0;
}

static int node_ok(const char *node, size_t len)
{
    return node && len >= 1 && len <= VV_NODE_MAX;
}

/* Insert node at its sorted place (i = -(insertion point) - 1). */
static int clock_insert(vv_clock *c, long i, const char *node, size_t len,
                        uint64_t n)
{
    size_t at = (size_t)(-i - 1);
    vv_centry e;
    if (clock_reserve(c, c->n + 1)) return VV_ENOMEM;
    if (cent_set(&e, node, len, n)) return VV_ENOMEM;
    memmove(c->e + at + 1, c->e + at, (c->n - at) * sizeof *c->e);
    c->e[at] = e;
    c->n++;
    return VV_OK;
}

int vv_clock_set(vv_clock *c, const char *node, size_t len, uint64_t n)
{
    long i;
    if (!c || !node_ok(node, len)) return VV_EINVAL;
    i = clock_find(c, node, len);
    if (i >= 0) {
        if (n) { c->e[i].n = n; return VV_OK; }
        cent_free(&c->e[i]);                       /* 0 removes the node */
        memmove(c->e + i, c->e + i + 1, (c->n - (size_t)i - 1) * sizeof *c->e);
        c->n--;
        return VV_OK;
    }
    return n ? clock_insert(c, i, node, len, n) : VV_OK;
}

int vv_clock_tick(vv_clock *c, const char *node, size_t len)
{
    uint64_t n;
    if (!c || !node_ok(node, len)) return VV_EINVAL;
    n = vv_clock_get(c, node, len);
    if (n == UINT64_MAX) return VV_EOVERFLOW;
    return vv_clock_set(c, node, len, n + 1);
}

#define MERGE_UNDO 32        /* counters a merge raises before it knows */

/* Pointwise max.  The entries both clocks hold in the same places at the
 * start (often all of them) take their maxima at once, their old counters
 * kept.  A walk over the rest finds the nodes c lacks and whether any
 * counter of c must rise.  With no new node the rest of the maxima are
 * taken in place; otherwise the union is built in one new array, and c
 * is as it was should that fail. */
int vv_clock_merge(vv_clock *c, const vv_clock *o)
{
    size_t i, j, extra = 0, ours = 0, k = 0, m, done = 0;
    vv_centry *res, *x, *xend, *rise = NULL;
    const vv_centry *y, *yend, *rise_o = NULL;
    unsigned char *isnew;
    uint64_t undo[MERGE_UNDO];
    if (!c || !o) return VV_EINVAL;
    m = c->n < o->n ? c->n : o->n;
    if (m > MERGE_UNDO) m = MERGE_UNDO;
    for (x = c->e, y = o->e; done < m && vvi_cent_eq(x, y); done++, x++, y++) {
        undo[done] = x->n;
        if (y->n > x->n) x->n = y->n;
    }
    xend = c->e + c->n;
    yend = o->e + o->n;
    while (x != xend && y != yend) {             /* count new nodes */
        if (vvi_cent_eq(x, y)) {
            if (y->n > x->n && !rise) { rise = x; rise_o = y; }
            x++;
            y++;
        } else if (vvi_cent_cmp(x, y) < 0) { ours++; x++; }
        else { extra++; y++; }
    }
    extra += (size_t)(yend - y);
    if (extra == 0) {                            /* o's nodes are all in c */
        if (!rise) return VV_OK;
        if (!ours) {                     /* o's entries line up with c's */
            for (x = rise, y = rise_o; y < yend; y++, x++)
                if (y->n > x->n) x->n = y->n;
            return VV_OK;
        }
        for (x = rise, y = rise_o; y < yend; y++, x++) {
            while (!vvi_cent_eq(x, y)) x++;
            if (y->n > x->n) x->n = y->n;
        }
        return VV_OK;
    }
    /* one block: the entries, then a flag per entry for "name is new" */
    res = vv_malloc((c->n + extra) * (sizeof *res + 1));
    if (!res) {
        for (i = 0; i < done; i++) c->e[i].n = undo[i];
        return VV_ENOMEM;
    }
    isnew = (unsigned char *)(res + c->n + extra);
    for (i = 0, j = 0; i < c->n || j < o->n; k++) {
        int r = i == c->n ? 1 : j == o->n ? -1
              : vvi_cent_cmp(&c->e[i], &o->e[j]);
        isnew[k] = r > 0;
        if (r <= 0) {
            res[k] = c->e[i++];                  /* moves c's name */
            if (r == 0 && o->e[j].n > res[k].n) res[k].n = o->e[j].n;
            if (r == 0) j++;
        } else {
            res[k] = o->e[j];                    /* inline names come along */
            if (o->e[j].len > VV_CLOCK_INL &&
                cent_set(&res[k], o->e[j].heap, o->e[j].len, o->e[j].n)) {
                while (k-- > 0) if (isnew[k]) cent_free(&res[k]);
                vv_free(res);                    /* c still owns its names */
                for (i = 0; i < done; i++) c->e[i].n = undo[i];
                return VV_ENOMEM;
            }
            j++;
        }
    }
    if (c->e != c->ie) vv_free(c->e);
    c->e = res;
    c->n = c->cap = k;
    return VV_OK;
}

/* One walk over both clocks in name order. */
int vv_clock_compare(const vv_clock *a, const vv_clock *b)
{
    const vv_centry *x = a->e, *xend = x + a->n, *y = b->e, *yend = y + b->n;
    int less = 0, more = 0;     /* a has something smaller / greater */
    while (x != xend && y != yend) {
        if (vvi_cent_eq(x, y)) {
            if (x->n != y->n) {
                if (x->n < y->n) less = 1; else more = 1;
                if (less & more) return VV_CONCURRENT;
            }
            x++;
            y++;
        } else if (vvi_cent_cmp(x, y) < 0) {
            more = 1;
            x++;
            if (less) return VV_CONCURRENT;
        } else {
            less = 1;
            y++;
            if (more) return VV_CONCURRENT;
        }
    }
    more |= x < xend;
    less |= y < yend;
    if (less && more) return VV_CONCURRENT;
    if (less) return VV_BEFORE;
    if (more) return VV_AFTER;
    return VV_EQUAL;
}

size_t vv_clock_size(const vv_clock *c) { return c ? c->n : 0; }

int vv_clock_entry(const vv_clock *c, size_t i, const char **node,
                   size_t *len, uint64_t *n)
{
    if (!c || i >= c->n) return VV_EINVAL;
    if (node) *node = vvi_cname(&c->e[i]);
    if (len) *len = c->e[i].len;
    if (n) *n = c->e[i].n;
    return VV_OK;
}

/* ---- binary form ----------------------------------------------------- */
void vvi_clock_put(vv_buf *b, const vv_clock *c)
{
    size_t i;
    vvi_buf_varint(b, c->n);
    for (i = 0; i < c->n; i++) {
        vvi_buf_varint(b, c->e[i].len);
        vv_buf_add(b, vvi_cname(&c->e[i]), c->e[i].len);
        vvi_buf_varint(b, c->e[i].n);
    }
}

/* Read a clock body into the empty clock c; names strictly increasing,
 * counters non-zero, so each clock has exactly one encoding. */
int vvi_clock_get(vvi_rd *r, vv_clock *c)
{
    uint64_t n = vvi_rd_varint(r), i;
    if (r->err) return VV_ECORRUPT;
    if (n > (uint64_t)(r->end - r->p) / 3) return r->err = VV_ECORRUPT;
    if (clock_reserve(c, (size_t)n)) return VV_ENOMEM;
    for (i = 0; i < n; i++) {
        uint64_t len = vvi_rd_varint(r), cnt;
        const unsigned char *name;
        if (r->err || len < 1 || len > VV_NODE_MAX) return r->err = VV_ECORRUPT;
        name = vvi_rd_bytes(r, (size_t)len);
        cnt = vvi_rd_varint(r);
        if (r->err || cnt == 0) return r->err = VV_ECORRUPT;
        if (vvi_clock_push(c, (const char *)name, (size_t)len, cnt)) return VV_ENOMEM;
        if (c->n > 1 && vvi_cent_cmp(&c->e[c->n - 2], &c->e[c->n - 1]) >= 0)
            return r->err = VV_ECORRUPT;
    }
    return VV_OK;
}

int vv_clock_encode(const vv_clock *c, void **out, size_t *len)
{
    vv_buf b;
    *out = NULL;
    *len = 0;
    if (!c) return VV_EINVAL;
    vv_buf_init(&b);
    vvi_buf_byte(&b, CLOCK_FORMAT);
    vvi_clock_put(&b, c);
    if (b.oom) { vv_buf_free(&b); return VV_ENOMEM; }
    *out = b.p;
    *len = b.len;
    return VV_OK;
}

int vv_clock_decode(const void *buf, size_t len, vv_clock **out)
{
    vvi_rd r;
    vv_clock *c;
    int rc;
    *out = NULL;
    if (!buf && len) return VV_EINVAL;
    vvi_rd_init(&r, buf, len);
    if (len == 0) return VV_ECORRUPT;
    if (vvi_rd_byte(&r) != CLOCK_FORMAT) return VV_EVERSION;
    if ((rc = vv_clock_new(&c))) return rc;
    rc = vvi_clock_get(&r, c);
    if (rc == VV_OK && r.p != r.end) rc = VV_ECORRUPT;   /* trailing bytes */
    if (rc) { vv_clock_free(c); return rc; }
    *out = c;
    return VV_OK;
}

/* ---- text form --------------------------------------------------------- */
static int bare_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("_.@#/+-", ch));
}

static void put_name(vv_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    int bare = 1;
    for (i = 0; i < len; i++) if (!bare_char((unsigned char)s[i])) bare = 0;
    if (bare) { vv_buf_add(b, s, len); return; }
    vvi_buf_byte(b, '"');
    for (i = 0; i < len; i++) {
        unsigned ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') { vvi_buf_byte(b, '\\'); vvi_buf_byte(b, ch); }
        else if (ch < 0x20 || ch >= 0x7f) {
            vv_buf_add(b, "\\x", 2);
            vvi_buf_byte(b, hex[ch >> 4]);
            vvi_buf_byte(b, hex[ch & 15]);
        } else vvi_buf_byte(b, ch);
    }
    vvi_buf_byte(b, '"');
}

int vv_clock_format(const vv_clock *c, char **out, size_t *len)
{
    vv_buf b;
    size_t i;
    *out = NULL;
    if (len) *len = 0;
    if (!c) return VV_EINVAL;
    vv_buf_init(&b);
    vvi_buf_byte(&b, '{');
    for (i = 0; i < c->n; i++) {
        char num[24];
        int k = 0;
        uint64_t v = c->e[i].n;
        char rev[24];
        if (i) vv_buf_add(&b, ", ", 2);
        put_name(&b, vvi_cname(&c->e[i]), c->e[i].len);
        vvi_buf_byte(&b, ':');
        do { rev[k++] = (char)('0' + v % 10); v /= 10; } while (v);
        for (int m = 0; m < k; m++) num[m] = rev[k - 1 - m];
        vv_buf_add(&b, num, (size_t)k);
    }
    vvi_buf_byte(&b, '}');
    vvi_buf_byte(&b, 0);
    if (b.oom) { vv_buf_free(&b); return VV_ENOMEM; }
    *out = (char *)b.p;
    if (len) *len = b.len - 1;
    return VV_OK;
}

typedef struct parser {
    const char *s, *end;
} parser;

static void skip_ws(parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' ||
                             *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Parse a bare or quoted node name into name[VV_NODE_MAX]. */
static int parse_name(parser *p, char *name, size_t *len)
{
    size_t n = 0;
    if (p->s < p->end && *p->s == '"') {
        p->s++;
        for (;;) {
            int ch;
            if (p->s >= p->end) return VV_EINVAL;
            ch = (unsigned char)*p->s++;
            if (ch == '"') break;
            if (ch < 0x20 || ch >= 0x7f) return VV_EINVAL;
            if (ch == '\\') {
                if (p->s >= p->end) return VV_EINVAL;
                ch = (unsigned char)*p->s++;
                if (ch == 'x') {
                    int h, l;
                    if (p->end - p->s < 2) return VV_EINVAL;
                    h = hexval(p->s[0]); l = hexval(p->s[1]);
                    if (h < 0 || l < 0) return VV_EINVAL;
                    ch = h * 16 + l;
                    p->s += 2;
                } else if (ch != '"' && ch != '\\') return VV_EINVAL;
            }
            if (n >= VV_NODE_MAX) return VV_EINVAL;
            name[n++] = (char)ch;
        }
    } else {
        while (p->s < p->end && bare_char((unsigned char)*p->s)) {
            if (n >= VV_NODE_MAX) return VV_EINVAL;
            name[n++] = *p->s++;
        }
    }
    if (n == 0) return VV_EINVAL;
    *len = n;
    return VV_OK;
}

/* Decimal, no sign, no leading zeros (but "0"), at most 2^64-1. */
static int parse_count(parser *p, uint64_t *out)
{
    uint64_t v = 0;
    const char *start = p->s;
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
        unsigned d = (unsigned)(*p->s - '0');
        if (p->s > start && *start == '0') return VV_EINVAL;
        if (v > (UINT64_MAX - d) / 10) return VV_EOVERFLOW;
        v = v * 10 + d;
        p->s++;
    }
    if (p->s == start) return VV_EINVAL;
    *out = v;
    return VV_OK;
}

int vv_clock_parse(const char *text, size_t len, vv_clock **out)
{
    parser p;
    vv_clock *c;
    char name[VV_NODE_MAX];
    int rc;
    *out = NULL;
    if (!text) return VV_EINVAL;
    p.s = text;
    p.end = text + len;
    if ((rc = vv_clock_new(&c))) return rc;
    skip_ws(&p);
    if (p.s >= p.end || *p.s++ != '{') goto bad;
    skip_ws(&p);
    if (p.s < p.end && *p.s == '}') p.s++;
    else for (;;) {
        size_t nlen;
        uint64_t n;
        skip_ws(&p);
        if ((rc = parse_name(&p, name, &nlen))) goto fail;
        skip_ws(&p);
        if (p.s >= p.end || *p.s++ != ':') goto bad;
        skip_ws(&p);
        if ((rc = parse_count(&p, &n))) goto fail;
        {   /* zero counters are kept until the end for the duplicate check */
            long i = clock_find(c, name, nlen);
            if (i >= 0) goto bad;                      /* duplicate node */
            if ((rc = clock_insert(c, i, name, nlen, n))) goto fail;
        }
        skip_ws(&p);
        if (p.s < p.end && *p.s == ',') { p.s++; continue; }
        if (p.s < p.end && *p.s == '}') { p.s++; break; }
        goto bad;
    }
    skip_ws(&p);
    if (p.s != p.end) goto bad;
    {   /* drop the zero markers */
        size_t i, k = 0;
        for (i = 0; i < c->n; i++) {
            if (c->e[i].n == 0) cent_free(&c->e[i]);
            else c->e[k++] = c->e[i];
        }
        c->n = k;
    }
    *out = c;
    return VV_OK;
bad:
    rc = VV_EINVAL;
fail:
    vv_clock_free(c);
    return rc;
}
