#!/bin/sh
# soak.sh - make soak-tarantool: three local Tarantool instances running
# vv for SOAK_SECONDS (default 300) under a mix of writes, with random
# cuts, SIGKILLs and restarts (tests/tarantool/soak.lua), then the
# verdict.  Not part of make check.  Environment: SOAK_SECONDS, SOAK_RATE
# (operations a second, default 2000), VVT_PORT (first port), VVT_SEED,
# B (the build directory).  Every instance and directory it made is gone
# when it ends; the instances' logs are kept in SOAK_LOGS when set.
B=${B:-build}
if ! command -v tarantool >/dev/null 2>&1; then
    echo "tarantool is not installed: the soak is skipped"
    exit 0
fi
root=$(pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/vv_tarantool_soak.XXXXXX") || exit 1
export VVT_DIR="$dir/set" VVT_ROOT="$root" B VVT_REAP=${VVT_REAP:-1}
export VVT_INIT="$root/tests/tarantool/init.lua"
drv=""
cleanup() {
    [ -n "$drv" ] && kill "$drv" 2>/dev/null
    sh lua/tarantool/cluster.sh stop >/dev/null 2>&1
    if [ -n "${SOAK_LOGS:-}" ]; then
        mkdir -p "$SOAK_LOGS"
        for i in 1 2 3; do
            cp "$VVT_DIR/i$i/tarantool.log" "$SOAK_LOGS/i$i.log" 2>/dev/null
        done
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "== vv on Tarantool: a soak of ${SOAK_SECONDS:-300} s on three instances"
sh lua/tarantool/cluster.sh start 3 || exit 1
VVT_PORT=$(cat "$VVT_DIR/port")
export VVT_PORT
CLUSTER="sh $root/lua/tarantool/cluster.sh" tarantool tests/tarantool/soak.lua &
drv=$!
wait "$drv"
rc=$?
drv=""
if [ "$rc" -ne 0 ]; then
    for i in 1 2 3; do
        grep -E ' (E|F)> ' "$VVT_DIR/i$i/tarantool.log" 2>/dev/null |
            grep -v 'ER_LOADING\|refused a state' | tail -5 | sed "s/^/i$i: /"
    done
fi
exit "$rc"
