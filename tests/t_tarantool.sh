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
export VVT_DIR="$dir/set" VVT_ROOT="$root" B
export VVT_INIT="$root/tests/tarantool/init.lua"
drv=""
cleanup() {
    [ -n "$drv" ] && kill "$drv" 2>/dev/null
    sh lua/tarantool/cluster.sh stop >/dev/null 2>&1
    VVT_DIR="$dir/demo" sh lua/tarantool/cluster.sh stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

t0=$(date +%s)
# one instance: the store's calls, their errors, the trigger on raw writes
mkdir -p "$dir/solo"
B=$(cd "$B" && pwd) timeout 60 tarantool tests/tarantool/solo.lua \
    "$dir/solo" > "$dir/solo.out" 2>&1 &
drv=$!
wait "$drv"
rc=$?
drv=""
T_PREFIX="tarantool solo "
sed -n 's/^ok - \(.*\)/\1/p' "$dir/solo.out" > "$dir/ok.txt"
sed -n 's/^not ok - \(.*\)/\1/p' "$dir/solo.out" > "$dir/notok.txt"
while IFS= read -r line; do ok "$line"; done < "$dir/ok.txt"
while IFS= read -r line; do bad "$line"; done < "$dir/notok.txt"
if [ "$rc" -ne 0 ] || [ "$(wc -l < "$dir/ok.txt")" -lt 18 ]; then
    bad "the one-instance script ended with status $rc" "$(cat "$dir/solo.out")"
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

# in the background, so that a signal to this script ends it at once
CLUSTER="sh $root/lua/tarantool/cluster.sh" timeout 120 \
    tarantool tests/tarantool/model.lua > "$dir/driver.out" 2>&1 &
drv=$!
wait "$drv"
rc=$?
drv=""
out=$(cat "$dir/driver.out")
printf '%s\n' "$out" | sed -n 's/^ok - \(.*\)/\1/p' > "$dir/ok.txt"
printf '%s\n' "$out" | sed -n 's/^not ok - \(.*\)/\1/p' > "$dir/notok.txt"
while IFS= read -r line; do ok "$line"; done < "$dir/ok.txt"
while IFS= read -r line; do bad "$line"; done < "$dir/notok.txt"
n=$(wc -l < "$dir/ok.txt")
if [ "$rc" -ne 0 ] || [ "$n" -lt 15 ]; then
    bad "the driver ended with status $rc after $n checks" "$out"
    for i in 1 2 3; do
        grep -E ' (E|W|F)> ' "$VVT_DIR/i$i/tarantool.log" 2>/dev/null |
            tail -15 | sed "s/^/i$i: /"
    done
fi

sh lua/tarantool/cluster.sh stop >/dev/null 2>&1

# the demo (make tarantool-demo): the seed stories on a set of its own
T_PREFIX="tarantool demo "
VVT_DIR="$dir/demo" timeout 120 sh examples/tarantool/demo.sh \
    > "$dir/demo.out" 2>&1 &
drv=$!
wait "$drv"
rc=$?
drv=""
sed -n 's/^ok - \(.*\)/\1/p' "$dir/demo.out" > "$dir/ok.txt"
sed -n 's/^not ok - \(.*\)/\1/p' "$dir/demo.out" > "$dir/notok.txt"
while IFS= read -r line; do ok "$line"; done < "$dir/ok.txt"
while IFS= read -r line; do bad "$line"; done < "$dir/notok.txt"
n=$(wc -l < "$dir/ok.txt")
if [ "$rc" -ne 0 ] || [ "$n" -lt 17 ]; then
    bad "the demo ended with status $rc after $n checks" "$(cat "$dir/demo.out")"
fi
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
