#!/bin/sh
# t_packaging.sh - LuaRocks builds a working module from a copy of the tree,
# with every library source and tools part in it, and `make install` gives
# a working pkg-config file.  Prints cmocka-style lines; exits non-zero on a
# failure.
B=${B:-build}
passed=0; failed=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vv_pkg.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

ok() { echo "[       OK ] $1"; passed=$((passed + 1)); }
bad() {
    echo "[  ERROR   ] $1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | tail -20 | sed 's/^/    | /'
    failed=$((failed + 1))
}

# 1. luarocks make for Lua 5.1 and 5.4, from a copy of the files git
#    tracks or would add (never a build); the module works, tools included
spec=rockspecs/vv-scm-1.rockspec
rockfiles="core lua mk scripts docs rockspecs Makefile"
if command -v luarocks >/dev/null 2>&1; then
    mkdir -p "$tmp/src"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -co --exclude-standard $rockfiles | tar cf - -T -
    else
        tar cf - $rockfiles
    fi | tar xf - -C "$tmp/src"
    for v in 5.1 5.4; do
        lua=lua$v
        command -v $lua >/dev/null 2>&1 || continue
        out=$(cd "$tmp/src" && luarocks --lua-version $v make "$spec" \
              --tree "$tmp/rocks" 2>&1)
        if [ $? -ne 0 ]; then
            bad "luarocks make for Lua $v" "$out"
            continue
        fi
        out=$(LUA_CPATH="$tmp/rocks/lib/lua/$v/?.so" $lua -e '
            local vv = require "vv"
            local db = vv.open { node = "r" }
            db:put("ks", "k", { 1, 2 })
            assert(db:get("ks", "k").value[2] == 2)
            assert(tostring(vv.clock { a = 1 }) == "{a:1}")
            assert(vv.dot(db, "ks", "k"):find("^digraph"))
            assert(vv.command(db, "help"):find(":siblings", 1, true))
            vv.crdt.set.add(db, "s", "k", "eggs")
            assert(vv.crdt.set.get(db, "s", "k")[1] == "eggs")
            assert(vv.check_resolver(function(s) return s[1].value end,
                { cases = 2, replicas = false }) == false)
            print("ok " .. vv._VERSION)' 2>&1)
        case $out in
            ok*) ok "luarocks make for Lua $v builds a working module" ;;
            *) bad "luarocks make for Lua $v builds a working module" "$out" ;;
        esac
    done

    # 2. the rock compiled every library source (core/*.c, lua/*/*.c but
    #    the REPL's, and the Lua parts compiled in) and embedded every
    #    lua/tools/*.lua and lua/crdt/*.lua with the type scripts vv.crdt
    #    runs, and nothing else; and the module's own Lua part
    rb=$tmp/src/build/luarocks
    want=$(cd "$tmp/src" && ls core/*.c lua/*/*.c | grep -v '^lua/repl/' |
           sed 's/\.c$//'; echo gen/tools_lua; echo gen/module_lua)
    have=$(cd "$rb/obj" 2>/dev/null && find . -name '*.o' |
           sed 's|^\./||; s/\.o$//')
    if [ "$(printf '%s\n' "$want" | LC_ALL=C sort)" = \
         "$(printf '%s\n' "$have" | LC_ALL=C sort)" ]; then
        ok "the rock compiles every library source"
    else
        bad "the rock compiles every library source" \
            "$(printf 'tree:\n%s\nrock:\n%s' "$want" "$have")"
    fi
    # embeds NAME GEN 'PATTERN...': build/gen/GEN.c holds exactly the
    # files the patterns name in the copy of the tree
    embeds() {
        what=$1; gen=$2; shift 2
        want=$(cd "$tmp/src" && ls $* | LC_ALL=C sort)
        have=$(sed -n 's/^ *{"[^"]*", "@\([^"]*\)",.*/\1/p' \
               "$rb/gen/$gen.c" 2>/dev/null | LC_ALL=C sort)
        if [ -n "$want" ] && [ "$want" = "$have" ]; then
            ok "the rock embeds $what"
        else
            bad "the rock embeds $what" \
                "$(printf 'tree:\n%s\nrock:\n%s' "$want" "$have")"
        fi
    }
    embeds "every tools part" tools_lua 'lua/tools/*.lua lua/crdt/*.lua
        scripts/counter.lua scripts/set.lua scripts/lww_register.lua
        scripts/mv_register.lua scripts/map.lua'
    embeds "the module's Lua part" module_lua 'lua/module/*.lua'
else
    echo "== luarocks not installed: rock build skipped"
fi

# 3. make install into a prefix; a C program builds with pkg-config
if [ -f "$B/libvv.a" ] && [ -f "$B/vv.so" ] && [ -x "$B/vv" ]; then
    out=$(make --no-print-directory B="$B" install PREFIX="$tmp/inst" 2>&1)
    if [ $? -ne 0 ]; then
        bad "make install" "$out"
    else
        ok "make install"
        cat > "$tmp/pc.c" <<'EOF'
#include <stdio.h>
#include <vv.h>
int main(void)
{
    vv_clock *c = NULL;
    char *s = NULL;
    size_t n;
    if (vv_clock_parse("{a:1}", 5, &c) || vv_clock_tick(c, "b", 1) ||
        vv_clock_format(c, &s, &n))
        return 1;
    puts(s);
    vv_free(s);
    vv_clock_free(c);
    return 0;
}
EOF
        export PKG_CONFIG_PATH="$tmp/inst/lib/pkgconfig"
        out=$(cc $(pkg-config --cflags vv) -o "$tmp/pc" "$tmp/pc.c" \
              $(pkg-config --libs vv) -Wl,-rpath,"$tmp/inst/lib" 2>&1 &&
              "$tmp/pc" 2>&1)
        if [ "$out" = "{a:1, b:1}" ]; then
            ok "pkg-config vv links a C program"
        else
            bad "pkg-config vv links a C program" "$out"
        fi
        [ "$(pkg-config --modversion vv)" = "$(sed -n \
            's/^#define VV_VERSION *"\(.*\)"/\1/p' core/vv.h)" ] &&
            ok "vv.pc carries the version" ||
            bad "vv.pc carries the version" "$(pkg-config --modversion vv)"
        [ "$(pkg-config --variable=license vv)" = MIT ] &&
        grep -q '^MIT License' LICENSE &&
        grep -q 'license = "MIT"' rockspecs/vv-scm-1.rockspec &&
            ok "vv.pc, the rockspec and LICENSE name the MIT license" ||
            bad "vv.pc, the rockspec and LICENSE name the MIT license" \
                "$(pkg-config --variable=license vv)"
        out=$(LUA_CPATH="$tmp/inst/lib/lua/5.4/?.so" lua5.4 -e \
              'print(require("vv")._VERSION)' 2>&1)
        [ -n "$out" ] && [ "$out" = "$(pkg-config --modversion vv)" ] &&
            ok "installed module loads" ||
            bad "installed module loads" "$out"
    fi
else
    echo "== $B not built: make install skipped"
fi

echo "[  PASSED  ] $passed test(s)."
if [ "$failed" -gt 0 ]; then
    echo "[  FAILED  ] $failed test(s)"
    exit 1
fi
