#!/bin/sh
# t_tarantool.sh - vv on Tarantool: require "vv.tarantool" on one
# instance (tests/tarantool/solo.lua); then three instances of
# lua/tarantool/cluster.sh on 127.0.0.1 driven by tests/tarantool/model.lua
# (concurrent writes through all three, a replication cut, a SIGKILL and
# restart, checked against a model of causality; a resolver script; bad
# states refused; rows replicated during box.cfg merged); then the demo.
# Turns their "ok - " lines into cmocka-style lines.  Every instance and
# directory it made is gone when it ends.
B=${B:-build}
T_PREFIX="tarantool "
. tests/lib.sh

if ! command -v tarantool >/dev/null 2>&1; then
    echo "tarantool is not installed (mk/deps.sh all installs it): skipped"
    finish
fi
if [ ! -f "$B/luajit/vv.so" ] || [ ! -f "$B/luajit/vv/tarantool.lua" ]; then
    bad "needs $B/luajit/vv.so and $B/luajit/vv/tarantool.lua (make hosts)"
    finish
fi

root=$(pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/vv_tarantool_test.XXXXXX") || exit 1
export VVT_DIR="$dir/set" VVT_ROOT="$root" B VVT_REAP=0.2
export VVT_INIT="$root/tests/tarantool/init.lua"
drv=""
src=""
cleanup() {
    [ -n "$drv" ] && kill "$drv" 2>/dev/null
    [ -n "$src" ] && kill -KILL "$src" 2>/dev/null
    sh lua/tarantool/cluster.sh stop >/dev/null 2>&1
    VVT_DIR="$dir/demo" sh lua/tarantool/cluster.sh stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# part NAME MIN SECS CMD...: run CMD (in the background, so that a signal
# to this script ends it at once) with a time limit; its "ok - " and
# "not ok - " lines become this test's; it must exit 0 after at least MIN
# of them
part() {
    name=$1; min=$2; secs=$3; shift 3
    T_PREFIX="tarantool $name"
    timeout "$secs" "$@" > "$dir/part.out" 2>&1 &
    drv=$!
    wait "$drv"
    rc=$?
    drv=""
    sed -n 's/^ok - \(.*\)/\1/p' "$dir/part.out" > "$dir/ok.txt"
    sed -n 's/^not ok - \(.*\)/\1/p' "$dir/part.out" > "$dir/notok.txt"
    while IFS= read -r line; do ok "$line"; done < "$dir/ok.txt"
    while IFS= read -r line; do bad "$line"; done < "$dir/notok.txt"
    n=$(wc -l < "$dir/ok.txt")
    if [ "$rc" -ne 0 ] || [ "$n" -lt "$min" ]; then
        bad "${name}ended with status $rc after $n checks" \
            "$(tail -30 "$dir/part.out")"
    fi
    T_PREFIX="tarantool "
}

t0=$(date +%s)
BABS=$(cd "$B" && pwd)
# one instance: the store's calls, their errors, the trigger on raw writes
mkdir -p "$dir/solo"
part "solo " 20 60 env B="$BABS" tarantool tests/tarantool/solo.lua "$dir/solo"

# memory: a replica takes in ~100 MB of large rows under memtx_memory =
# 48 MB; the writer is SIGKILLed and its WAL recovers under 48 MB, by
# plain Tarantool and with vv (tests/tarantool/memory.lua)
mem="$dir/mem"
mkdir -p "$mem"
B=$BABS timeout 60 tarantool tests/tarantool/memory.lua source "$mem" \
    > "$mem/source.out" 2>&1 &
src=$!
part "memory " 2 60 env B="$BABS" tarantool tests/tarantool/memory.lua \
    replica "$mem"
wait "$src"
src=""
T_PREFIX="tarantool memory "
if grep -q '^ok - ' "$mem/source.out"; then
    ok "$(sed -n 's/^ok - //p' "$mem/source.out")"
else
    bad "the writer did not finish" "$(tail -20 "$mem/source.out")"
fi
part "memory " 1 60 env B="$BABS" tarantool tests/tarantool/memory.lua recover \
    "$mem" plain
part "memory " 1 60 env B="$BABS" tarantool tests/tarantool/memory.lua recover \
    "$mem" vv
rm -rf "$mem"

# from an installed copy: make install, then Tarantool with only the
# installed module paths (tests/tarantool/installed.lua)
T_PREFIX="tarantool installed "
if out=$(make -s --no-print-directory B="$B" install PREFIX="$dir/inst" 2>&1)
then
    mkdir -p "$dir/inst-run"
    part "installed " 2 60 tarantool tests/tarantool/installed.lua \
        "$dir/inst" "$dir/inst-run"
else
    bad "make install" "$out"
fi
T_PREFIX="tarantool "

if out=$(sh lua/tarantool/cluster.sh start 3 2>&1); then
    ok "three instances in a full mesh ($(printf '%s' "$out" | tail -1))"
else
    bad "the set did not start" "$out"
    for i in 1 2 3; do
        [ -f "$VVT_DIR/i$i/tarantool.log" ] &&
            tail -20 "$VVT_DIR/i$i/tarantool.log" | sed "s/^/i$i: /"
    done
    finish
fi
export VVT_PORT
VVT_PORT=$(cat "$VVT_DIR/port")

part "" 15 120 env CLUSTER="sh $root/lua/tarantool/cluster.sh" \
    tarantool tests/tarantool/model.lua
model_rc=$rc
# one keyspace configuration for the set, on the same three instances
part "keyspaces " 6 60 tarantool tests/tarantool/keyspaces.lua
model_rc=$((model_rc + rc))
# tombstones reaped when safe (the set's reapers run every 0.2 s)
part "reap " 5 120 tarantool tests/tarantool/reap.lua
if [ "$rc" -ne 0 ] || [ "$model_rc" -ne 0 ]; then
    for i in 1 2 3; do
        grep -E ' (E|W|F)> ' "$VVT_DIR/i$i/tarantool.log" 2>/dev/null |
            tail -15 | sed "s/^/i$i: /"
    done
fi

sh lua/tarantool/cluster.sh stop >/dev/null 2>&1

# the demo (make tarantool-demo): the seed stories on a set of its own
part "demo " 17 120 env VVT_DIR="$dir/demo" sh examples/tarantool/demo.sh
VVT_DIR="$dir/demo" sh lua/tarantool/cluster.sh stop >/dev/null 2>&1
T_PREFIX="tarantool "
left=""
for d in "$VVT_DIR" "$dir/demo"; do
    for i in 1 2 3; do
        p=$(cat "$d/i$i/tarantool.pid" 2>/dev/null)
        [ -n "$p" ] && kill -0 "$p" 2>/dev/null &&
            [ "$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)" != Z ] &&
            left="$left $d/i$i"
    done
done
if [ -z "$left" ]; then ok "left no instance behind ($(($(date +%s) - t0)) s)"
else bad "instances left running:$left"; fi
finish
