#!/bin/sh
# bench_tarantool.sh - vv on Tarantool: writes/s through one instance
# against plain replaces of the same rows, and how soon a write is visible
# (merged) on the other instances.  Starts three local instances
# (lua/tarantool/cluster.sh), runs bench/tarantool/bench.lua, stops and removes
# them.  make bench-tarantool; make bench runs it when tarantool is there.
B=${B:-build}
if ! command -v tarantool >/dev/null 2>&1; then
    echo "tarantool is not installed: the Tarantool benchmark is skipped"
    exit 0
fi
root=$(pwd)
VVT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vv-bench-tarantool.XXXXXX") || exit 1
export VVT_DIR B VVT_INIT=
cleanup() {
    sh "$root/lua/tarantool/cluster.sh" stop >/dev/null 2>&1
    rm -rf "$VVT_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "== Tarantool (bench/bench_tarantool.sh): three local instances, full mesh"
sh lua/tarantool/cluster.sh start 3 > "$VVT_DIR/start.log" 2>&1 ||
    { cat "$VVT_DIR/start.log"; exit 1; }
VVT_PORT=$(cat "$VVT_DIR/port") tarantool bench/tarantool/bench.lua &
pid=$!
wait $pid
