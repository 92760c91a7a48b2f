#!/bin/sh
# t_cluster.sh - the multi-process example: three replica processes on
# 127.0.0.1 syncing over TCP, one killed with SIGKILL and restarted.
# Runs examples/cluster/demo.sh and turns its "ok - " lines into
# cmocka-style lines; also checks that no replica process is left.
B=${B:-build}
LUA=${LUA:-lua5.4}
T_PREFIX="cluster "
. tests/lib.sh

if ! LUA_CPATH="$B/?.so;;" $LUA -e 'require "vv"; require "socket"' 2>/dev/null
then
    bad "needs $B/vv.so and LuaSocket (Debian lua-socket) for $LUA"
    finish
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/vv_cluster_test.XXXXXX") || exit 1
out=$(B=$B LUA=$LUA WAIT=15 CLUSTER_DIR="$dir" timeout 150 \
      sh examples/cluster/demo.sh 2>&1)
rc=$?
printf '%s\n' "$out" | sed -n 's/^ok - \(.*\)/\1/p' > "$dir/ok.txt"
printf '%s\n' "$out" | sed -n 's/^not ok - \(.*\)/\1/p' > "$dir/notok.txt"
while IFS= read -r line; do ok "$line"; done < "$dir/ok.txt"
while IFS= read -r line; do bad "$line"; done < "$dir/notok.txt"
n=$(wc -l < "$dir/ok.txt")
if [ "$rc" -ne 0 ] || [ "$n" -lt 8 ]; then
    bad "demo finished with status $rc after $n checks"
    printf '%s\n' "$out" | sed 's/^/    | /'
    for f in "$dir"/r*.log; do [ -f "$f" ] && sed 's/^/    | /' "$f"; done
fi
# no replica process of this run may be left (they would hold the dir)
if ps -eo args 2>/dev/null | grep -v grep | grep -q "replica.lua.*$dir"; then
    bad "a replica process was left running"
    for p in $(ps -eo pid,args | grep -v grep | grep "replica.lua.*$dir" |
               awk '{print $1}'); do kill -9 "$p" 2>/dev/null; done
else
    ok "left no process behind"
fi
rm -rf "$dir"
finish
