#!/bin/sh
# bench_tarantool.sh - vv on Tarantool: the merge trigger's cost per row
# on one instance (bench/tarantool/trigger.lua); then writes/s through one
# of three instances against plain replaces of the same rows, how soon a
# write is visible (merged) on the other instances, and the rate at which
# an instance applies replicated rows with the trigger against without it
# (bench/tarantool/bench.lua, on lua/tarantool/cluster.sh's instances,
# stopped and removed at the end).  make bench-tarantool; make bench runs
# it when tarantool is there.
B=${B:-build}
if ! command -v tarantool >/dev/null 2>&1; then
    echo "tarantool is not installed: the Tarantool benchmark is skipped"
    exit 0
fi
root=$(pwd)
VVT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vv-bench-tarantool.XXXXXX") || exit 1
export VVT_DIR B VVT_INIT= VVT_MEMTX=512
cleanup() {
    sh "$root/lua/tarantool/cluster.sh" stop >/dev/null 2>&1
    rm -rf "$VVT_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "== Tarantool (bench/bench_tarantool.sh)"
mkdir -p "$VVT_DIR/one"
tarantool bench/tarantool/trigger.lua "$(cd "$B" && pwd)" "$VVT_DIR/one" &
pid=$!
wait $pid || exit 1
echo
echo "three local instances, full mesh:"
sh lua/tarantool/cluster.sh start 3 > "$VVT_DIR/start.log" 2>&1 ||
    { cat "$VVT_DIR/start.log"; exit 1; }
VVT_PORT=$(cat "$VVT_DIR/port") tarantool bench/tarantool/bench.lua &
pid=$!
wait $pid
