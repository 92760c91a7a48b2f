/* resolver_sort.c - table.sort in the sandbox: stable, bytewise, charged. */
/*
 * The stock table.sort is a quicksort with random pivots: equal elements
 * may end in any order, so two replicas could store different results.
 * This one is stable (insertion for short lists, bottom-up merge sort
 * otherwise), compares strings bytewise when no comparator is given, and
 * charges every comparison to the call's instruction budget.
 */
#include <stdint.h>
#include <string.h>
#include "resolver_int.h"

#define RS_SHORT_SORT 12        /* sort shorter lists by insertion */

/* Is the value at a less than the one at b, by the comparator at 2?
 * Without one, two strings compare bytewise (stock '<' follows the C
 * library's collation, which the host program's locale may change). */
static int rs_sort_less(lua_State *L, int a, int b)
{
    int res;
    if (lua_isnil(L, 2)) {
        if (lua_type(L, a) == LUA_TSTRING && lua_type(L, b) == LUA_TSTRING) {
            size_t la, lb;
            const char *sa = lua_tolstring(L, a, &la);
            const char *sb = lua_tolstring(L, b, &lb);
            res = memcmp(sa, sb, la < lb ? la : lb);
            return res < 0 || (res == 0 && la < lb);
        }
        return vvc_lessthan(L, a, b);
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, a);
    lua_pushvalue(L, b);
    lua_call(L, 2, 1);
    res = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return res;
}

/* Merge src[lo..mid] and src[mid+1..hi] into dst[lo..hi], stably. */
static void rs_merge(lua_State *L, void *meter, int src, int dst,
                     lua_Integer lo, lua_Integer mid, lua_Integer hi)
{
    lua_Integer i = lo, j = mid + 1, k = lo;
    while (i <= mid && j <= hi) {
        int top;
        vvc_rawgeti(L, src, i);
        vvc_rawgeti(L, src, j);
        top = lua_gettop(L);
        vvl_rs_charge(L, meter, 1);
        if (rs_sort_less(L, top, top - 1)) {    /* right < left */
            vvc_rawseti(L, dst, k++);
            lua_pop(L, 1);
            j++;
        } else {
            lua_pop(L, 1);
            vvc_rawseti(L, dst, k++);
            i++;
        }
    }
    for (; i <= mid; i++) {
        vvc_rawgeti(L, src, i);
        vvc_rawseti(L, dst, k++);
    }
    for (; j <= hi; j++) {
        vvc_rawgeti(L, src, j);
        vvc_rawseti(L, dst, k++);
    }
}

/* Stable insertion sort of list[1..n] in place (short lists: no scratch
 * table, few moves). */
static void rs_insertion(lua_State *L, void *meter, lua_Integer n)
{
    lua_Integer i, j;
    for (i = 2; i <= n; i++) {
        int key;
        vvc_rawgeti(L, 1, i);
        key = lua_gettop(L);
        for (j = i - 1; j >= 1; j--) {
            vvc_rawgeti(L, 1, j);
            vvl_rs_charge(L, meter, 1);
            if (!rs_sort_less(L, key, key + 1)) {
                lua_pop(L, 1);
                break;
            }
            vvc_rawseti(L, 1, j + 1);               /* shift a[j] up */
        }
        vvc_rawseti(L, 1, j + 1);                   /* the key */
    }
}

/* table.sort(list [, less]): a stable sort of a plain table (insertion
 * up to RS_SHORT_SORT elements, else bottom-up merge sort).  Unlike the
 * stock quicksort (random pivots, unstable), equal elements keep their
 * order, so the result is the same on every replica; every comparison is
 * charged, whatever the comparator does. */
int vvl_rs_sort(lua_State *L)
{
    void *meter = lua_touserdata(L, lua_upvalueindex(1));
    lua_Integer n, w, lo;
    int src = 1, dst = 3;
    luaL_checktype(L, 1, LUA_TTABLE);
    vvl_rs_plain(L, 1);
    if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    n = (lua_Integer)vvc_rawlen(L, 1);
    if (n < 2) return 0;
    luaL_argcheck(L, n < INT32_MAX, 1, "array too big");
    if (n <= RS_SHORT_SORT) {
        rs_insertion(L, meter, n);
        return 0;
    }
    lua_createtable(L, (int)n, 0);              /* 3: scratch */
    for (w = 1; w < n; w *= 2) {
        for (lo = 1; lo <= n; lo += 2 * w) {
            lua_Integer mid = lo + w - 1, hi = lo + 2 * w - 1;
            if (mid > n) mid = n;
            if (hi > n) hi = n;
            rs_merge(L, meter, src, dst, lo, mid, hi);
        }
        src = 4 - src;                          /* swap 1 and 3 */
        dst = 4 - dst;
    }
    if (src != 1)
        for (lo = 1; lo <= n; lo++) {
            vvc_rawgeti(L, 3, lo);
            vvc_rawseti(L, 1, lo);
        }
    return 0;
}
