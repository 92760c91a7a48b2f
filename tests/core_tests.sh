#!/bin/sh
# core_tests.sh - print the tests/test_*.c files (given as arguments) that
# reach no Lua header through their local includes: the core's own tests,
# which core/Makefile builds without Lua.  Headers are looked up next to
# the test, then in ../core of the test directory; a header under a folder
# ("sandbox/resolver.h") counts by its base name.
lua_headers='lua|lauxlib|lualib|luaconf|luajit|compat|lcodec|lvv|resolver|vvlua|ltools'
needs_lua() { # file [seen...]
    f=$1
    dir=$(dirname "$f")
    for h in $(sed -n 's/^#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        base=${h%.h}; base=${base##*/}
        if printf '%s\n' "$base" | grep -Eqx "$lua_headers"; then return 0; fi
        if [ -f "$dir/$h" ] && needs_lua "$dir/$h"; then return 0; fi
    done
    return 1
}
for t in "$@"; do
    needs_lua "$t" || echo "$t"
done
