#!/bin/sh
# lua_instructions.sh - instructions per call of the Lua module, counted
# with valgrind's callgrind (the same count run after run, unlike times):
# each loop of bench/lib/loop.lua runs twice, with N1 and N2 iterations,
# and the difference divided by N2 - N1 leaves the setup out.  The C
# loops (vv._bench) over the same keys give the engine's own share.
#   sh bench/lua_instructions.sh [hosts...]   (default: lua5.4 luajit)
# LuaJIT runs through ffi and, as "luajit-capi", with VV_FFI=0.
B=${B:-build}
N1=${N1:-20000}
N2=${N2:-120000}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed"; exit 1; }

count() { # host n mode -> instructions of the whole run
    h=$1; shift
    case $h in
        lua5.4) exe=lua5.4; cp="$B/?.so"; ffi= ;;
        luajit) exe=luajit; cp="$B/luajit/?.so"; ffi= ;;
        luajit-capi) exe=luajit; cp="$B/luajit/?.so"; ffi=0 ;;
        *) exe=$h; cp="$B/$h/?.so"; ffi= ;;
    esac
    out=$(env ${ffi:+VV_FFI=$ffi} LUA_CPATH="$cp" valgrind --tool=callgrind \
        --smc-check=all --callgrind-out-file=/dev/null \
        "$exe" bench/lib/loop.lua "$@" 2>&1 >/dev/null) || return
    printf '%s\n' "$out" | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

echo "== instructions per call (callgrind, 1000 keys, bench/lib/loop.lua)"
printf '%-12s %9s %9s %9s %9s %9s %9s\n' host get+put handle update get \
    "C get+put" "C get"
for h in ${@:-lua5.4 luajit luajit-capi}; do
    line=$(printf '%-12s' "$h")
    for m in getput hgetput update get cgetput cget; do
        a=$(count "$h" "$N1" "$m"); b=$(count "$h" "$N2" "$m")
        if [ -n "$a" ] && [ -n "$b" ]; then
            line="$line $(printf '%9d' $(( (b - a) / (N2 - N1) )))"
        else
            line="$line $(printf '%9s' -)"
        fi
    done
    echo "$line"
done
