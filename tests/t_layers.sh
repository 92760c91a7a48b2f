#!/bin/sh
# t_layers.sh - the core stands alone: nothing under core/ includes or
# calls anything of lua/, and `make -C core` builds libvv's core with no
# Lua header or library anywhere on its command lines.  Each folder of
# lua/ includes what docs/layout.md allows; the compiled-in Lua of
# lua/crdt requires nothing.
# Prints cmocka-style lines; exits non-zero when a check fails.
B=${B:-build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vv_layers.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

. tests/lib.sh

# ---- includes -----------------------------------------------------------
# A header of the Lua side, or of Lua itself, named by a core file.
lua_headers="lua.h lauxlib.h lualib.h luaconf.h $(cd lua && ls */*.h) $(cd lua && ls */*.h | sed 's|.*/||')"
found=""
for f in core/*.c core/*.h; do
    for h in $lua_headers; do
        grep -Hn "^#[[:space:]]*include[[:space:]]*[<\"]$h[>\"]" "$f" \
            >> "$tmp/inc"
    done
done
if [ -s "$tmp/inc" ]; then bad "core/ includes no Lua header" "$(cat "$tmp/inc")"
else ok "core/ includes no Lua header"; fi

# ---- the binding's headers ----------------------------------------------
# lua/ reaches the engine through core/vv.h and core/vv_bind.h only, never
# through the core's internal headers (vv_int.h, db_int.h, lmdb_int.h).
: > "$tmp/bind"
for f in lua/*/*.c lua/*/*.h; do
    for h in $(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $h in
            vv.h|vv_bind.h) ;;
            */*) ;;
            *) [ -f "core/$h" ] && echo "$f includes core/$h" >> "$tmp/bind" ;;
        esac
    done
done
if [ -s "$tmp/bind" ]; then
    bad "lua/ includes core/vv.h and core/vv_bind.h only" "$(cat "$tmp/bind")"
else
    ok "lua/ includes core/vv.h and core/vv_bind.h only"
fi
# The two headers stand alone as installed: side by side, nothing else.
mkdir -p "$tmp/inc.d"
cp core/vv.h core/vv_bind.h "$tmp/inc.d/"
cat > "$tmp/bind.c" <<'EOF'
#include <vv_bind.h>
/* a binding keeps a clock in its own memory: the type is complete */
struct box { vv_clock c; vv_buf b; };
int main(void) { struct box x; vv_clock_init(&x.c); return 0; }
EOF
if ${CC:-cc} -std=c11 -Wall -Wextra -pedantic -Werror -I"$tmp/inc.d" \
        -c -o "$tmp/bind.o" "$tmp/bind.c" 2> "$tmp/bind.log"; then
    ok "vv_bind.h compiles with vv.h beside it and nothing else"
else
    bad "vv_bind.h compiles with vv.h beside it and nothing else" \
        "$(head -5 "$tmp/bind.log")"
fi
# and the check can fail: lua/ does include the binding header
if grep -q '^#include "vv_bind.h"' lua/common/lcodec.h; then
    ok "the binding check sees lua/'s core includes"
else
    bad "the binding check sees lua/'s core includes"
fi

# ---- products -----------------------------------------------------------
# Each folder of lua/ includes only the folders docs/layout.md allows.
allowed() {
    case $1 in
        common) echo "" ;;
        sandbox) echo "common" ;;
        tools) echo "common sandbox" ;;
        module) echo "common sandbox tools" ;;
        repl) echo "common" ;;
        *) echo "-" ;;
    esac
}
: > "$tmp/prod"
for f in lua/*/*.c lua/*/*.h; do
    p=$(basename "$(dirname "$f")")
    for d in $(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' "$f"); do
        case " $(allowed "$p") " in
            *" $d "*) ;;
            *) echo "$f includes $d/" >> "$tmp/prod" ;;
        esac
    done
done
if [ -s "$tmp/prod" ]; then
    bad "lua/ folders include what docs/layout.md allows" "$(cat "$tmp/prod")"
else
    ok "lua/ folders include what docs/layout.md allows"
fi
# and the check can fail: the module does include other folders
if grep -q '^#include "sandbox/' lua/module/*.c; then
    ok "the product check sees the module's includes"
else
    bad "the product check sees the module's includes"
fi

# ---- compiled-in Lua ----------------------------------------------------
# lua/crdt and the type scripts it runs are plain Lua for every host and
# the sandbox: no require, no C of their own; each compiled-in part has
# its own name (parts are found by base name).
crdt_lua="lua/crdt/*.lua scripts/counter.lua scripts/set.lua \
scripts/lww_register.lua scripts/mv_register.lua scripts/map.lua"
if grep -n 'require' $crdt_lua > "$tmp/req"; then
    bad "lua/crdt and the type scripts require nothing" "$(cat "$tmp/req")"
else
    ok "lua/crdt and the type scripts require nothing"
fi
if ls lua/crdt/*.c lua/crdt/*.h >/dev/null 2>&1; then
    bad "lua/crdt has no C"
else
    ok "lua/crdt has no C"
fi
if [ -f "$B/gen/tools_lua.c" ]; then
    dup=$(sed -n 's/^ *{"\([^"]*\)", "@.*/\1/p' "$B/gen/tools_lua.c" |
          sort | uniq -d)
    n=$(sed -n 's/^ *{"\([^"]*\)", "@.*/\1/p' "$B/gen/tools_lua.c" | wc -l)
    if [ -z "$dup" ] && [ "$n" -gt 10 ]; then
        ok "the compiled-in Lua parts have distinct names ($n)"
    else
        bad "the compiled-in Lua parts have distinct names" "$n parts; $dup"
    fi
else
    bad "$B/gen/tools_lua.c is built (make)"
fi

# ---- calls --------------------------------------------------------------
# Undefined symbols of the core's objects that lua/'s objects define.
if ! command -v nm >/dev/null 2>&1; then
    bad "nm is installed (binutils)"
else
    # the objects of today's sources (a build dir may hold older ones)
    core_o=""; lua_o=""; missing=""
    for f in core/*.c; do
        o="$B/obj/${f%.c}.o"; [ -f "$o" ] && core_o="$core_o $o" || missing=1
    done
    for f in lua/*/*.c; do
        o="$B/obj/${f%.c}.o"; [ -f "$o" ] && lua_o="$lua_o $o"
    done
    [ -n "$missing" ] && bad "the objects under $B/obj are built (make)"
    nm -u $core_o | awk 'NF == 2 { print $2 }' | sort -u > "$tmp/core_undef"
    nm --defined-only $lua_o | awk 'NF == 3 { print $3 }' | sort -u \
        > "$tmp/lua_def"
    calls=$(comm -12 "$tmp/core_undef" "$tmp/lua_def")
    if [ -n "$calls" ]; then bad "core/ calls nothing defined in lua/" "$calls"
    else ok "core/ calls nothing defined in lua/"; fi
    # and the check itself can fail: lua/ does call into the core
    back=$(nm -u $lua_o | awk 'NF == 2 { print $2 }' | sort -u |
           grep -c '^vv_')
    if [ "$back" -gt 0 ]; then ok "the symbol check sees lua/ calling the core"
    else bad "the symbol check sees lua/ calling the core" "no vv_ symbol"; fi

    # The core's files call each other in layers, without a circle
    # (db_int.h lists them; the LMDB backend's lmdb*.c count as one):
    # "caller callee" for each symbol a file uses that another defines.
    for o in $core_o; do
        f=$(basename "$o" .o)
        case $f in lmdb*) f=lmdb ;; esac
        nm --defined-only "$o" | awk -v f="$f" 'NF == 3 { print $3, f }'
    done | sort -k1,1 > "$tmp/defs"
    for o in $core_o; do
        f=$(basename "$o" .o)
        case $f in lmdb*) f=lmdb ;; esac
        nm -u "$o" | awk -v f="$f" 'NF == 2 { print $2, f }'
    done | sort -k1,1 > "$tmp/uses"
    join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3 }' |
        sort -u > "$tmp/edges"
    if tsort "$tmp/edges" > /dev/null 2> "$tmp/loop"; then
        ok "the core's files call each other without a circle"
    else
        bad "the core's files call each other without a circle" \
            "$(cat "$tmp/loop")"
    fi
    # and the check sees the layers: transactions call keyspace configs
    if grep -q '^txn ksconfig$' "$tmp/edges"; then
        ok "the circle check sees txn.c calling ksconfig.c"
    else
        bad "the circle check sees txn.c calling ksconfig.c"
    fi
fi

# ---- the core alone -----------------------------------------------------
if make -C core core B="$tmp/b" > "$tmp/make.log" 2>&1; then
    ok "make -C core builds the core library"
else
    bad "make -C core builds the core library" "$(tail -20 "$tmp/make.log")"
fi
if grep -qi 'lua' "$tmp/make.log"; then
    bad "the core's build names no Lua path or library" \
        "$(grep -i lua "$tmp/make.log" | head -5)"
else
    ok "the core's build names no Lua path or library"
fi
if [ -f "$tmp/b/core/libvv.a" ] && [ -f "$tmp/b/core/libvv.so" ]; then
    undef=$(nm -u "$tmp/b/core/libvv.so" | grep -i 'lua' | head -5)
    if [ -z "$undef" ]; then ok "core libvv.so needs no Lua symbol"
    else bad "core libvv.so needs no Lua symbol" "$undef"; fi
else
    bad "make -C core leaves core/libvv.a and core/libvv.so"
fi

finish
