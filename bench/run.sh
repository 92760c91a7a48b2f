#!/bin/sh
# run.sh - run each benchmark binary given as an argument (make bench).
# Every figure is a ratio against a baseline measured in the same run.
echo "vv benchmarks on $(uname -m), $(nproc 2>/dev/null || echo ?) cores, $(date -u +%Y-%m-%d)"
status=0
for b in "$@"; do
    echo
    "$b" || { echo "bench: $b failed"; status=1; }
done
for s in bench/*.lua; do
    [ -f "$s" ] || continue
    echo
    LUA_CPATH="${B:-build}/?.so" lua5.4 "$s" || { echo "bench: $s failed"; status=1; }
    if command -v luajit >/dev/null 2>&1 && [ -f "${B:-build}/luajit/vv.so" ]; then
        echo
        LUA_CPATH="${B:-build}/luajit/?.so" luajit "$s" ||
            { echo "bench: $s (LuaJIT) failed"; status=1; }
    fi
done
echo
sh bench/bench_tarantool.sh || { echo "bench: bench_tarantool.sh failed"; status=1; }
exit $status
