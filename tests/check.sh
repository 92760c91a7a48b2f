#!/bin/sh
# check.sh - run every test and end with one line "N passed, N failed".
#   C tests (cmocka, ASan/UBSan)  : the binaries given as arguments
#   Lua specs                      : tests/spec/*_spec.lua on each built host,
#                                    LuaJIT twice: through ffi (spec-luajit)
#                                    and with VV_FFI=0 through the C API only
#                                    (spec-luajit-capi)
#   shell tests                    : tests/t_*.sh
# With VV_CHECK=c only the binaries run (make -C core check).
# Each prints cmocka-style "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)"
# lines; this script adds them up.
B=${B:-build}
LOG=$B/check
rm -rf "$LOG"; mkdir -p "$LOG"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
crashed=0

run() { # name, command...
    name=$1; shift
    echo "== $name"
    "$@" > "$LOG/$name.log" 2>&1
    rc=$?
    cat "$LOG/$name.log"
    if [ $rc -ne 0 ] && ! grep -q '^\[  FAILED  \]' "$LOG/$name.log"; then
        echo "[  FAILED  ] 1 test(s): $name exited with status $rc"
        echo "[  FAILED  ] 1 test(s)" >> "$LOG/$name.log"
    fi
}

for t in "$@"; do run "$(basename "$t")" "$t"; done

[ "${VV_CHECK:-}" = c ] && SKIP_LUA=1
for h in lua5.4 lua5.3 lua5.1 luajit; do
    [ -n "${SKIP_LUA:-}" ] && break
    if [ "$h" = lua5.4 ]; then mod=$B/vv.so; else mod=$B/$h/vv.so; fi
    command -v $h >/dev/null 2>&1 || { echo "== $h: not installed, skipped"; continue; }
    [ -f "$mod" ] || { echo "== $h: $mod not built, skipped"; continue; }
    run "spec-$h" env LUA_CPATH="$(dirname "$mod")/?.so" VV_HOST=$h \
        $h tests/run.lua tests/spec/*_spec.lua
    [ "$h" = luajit ] &&
        run "spec-$h-capi" env LUA_CPATH="$(dirname "$mod")/?.so" \
            VV_HOST=$h VV_FFI=0 $h tests/run.lua tests/spec/*_spec.lua
done

for t in tests/t_*.sh; do
    [ -n "${SKIP_LUA:-}" ] && break
    [ -f "$t" ] || continue
    run "$(basename "$t" .sh)" sh "$t"
done

passed=0; failed=0
for f in "$LOG"/*.log; do
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$f" | awk '{s+=$1} END {print s+0}')
    q=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$f" | awk '{s+=$1} END {print s+0}')
    passed=$((passed + p)); failed=$((failed + q))
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
