#!/bin/sh
# t_packaging.sh - the rockspec lists every library source, LuaRocks builds
# the module from a copy of the tree, and `make install` gives a working
# pkg-config file.  Prints cmocka-style lines; exits non-zero on a failure.
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

# 1. every core/*.c and lua/*.c but the REPL is in the rockspec, and
#    nothing else
spec=rockspecs/vv-scm-1.rockspec
want=$(ls core/*.c lua/*.c | grep -v '^lua/vvrepl\.c$' | sort)
have=$(sed -n 's/^ *"\(\(core\|lua\)\/[^"]*\.c\)",*$/\1/p' "$spec" | sort)
if [ "$want" = "$have" ]; then
    ok "rockspec lists every library source"
else
    bad "rockspec lists every library source" \
        "$(printf 'tree:\n%s\nrockspec:\n%s' "$want" "$have")"
fi

# 2. luarocks make, from a copy so no objects land in the tree
if command -v luarocks >/dev/null 2>&1; then
    mkdir -p "$tmp/src"
    tar cf - core lua docs rockspecs | tar xf - -C "$tmp/src"
    for v in 5.1 5.4; do
        lua=lua$v
        command -v $lua >/dev/null 2>&1 || continue
        out=$(cd "$tmp/src" && luarocks --lua-version $v make \
              rockspecs/vv-scm-1.rockspec --tree "$tmp/rocks" 2>&1)
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
            print("ok " .. vv._VERSION)' 2>&1)
        case $out in
            ok*) ok "luarocks make for Lua $v builds a working module" ;;
            *) bad "luarocks make for Lua $v builds a working module" "$out" ;;
        esac
    done
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
