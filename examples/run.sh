#!/bin/sh
# run.sh - run every example (make demo), from the top of the source tree.
B=${B:-build}
LUA=${LUA:-lua5.4}
export LUA_CPATH="$B/?.so;;"
status=0

banner() { printf '\n======== %s\n\n' "$1"; }

for f in examples/0[1-6]_*.lua examples/0[89]_*.lua; do
    banner "$f"
    $LUA "$f" || status=1
done

banner "examples/07_cart_service.lua (commands from a here-doc)"
$LUA examples/07_cart_service.lua --echo <<'CMDS' || status=1
# Alice fills her cart at two replicas while they cannot talk.
add east alice apple
add west alice banana
show east alice
show west alice
# The network heals: the replicas exchange carts.
sync
show east alice
show west alice
# Alice removes the apple at west; the change reaches east at the next sync.
remove west alice apple
sync
show east alice
quit
CMDS

banner "$B/embed (examples/embed.c, linked with libvv)"
"$B/embed" scripts/union.lua || status=1

banner "examples/pictures.lua (Graphviz pictures of the scenarios in $B/)"
$LUA examples/pictures.lua "$B" || status=1

banner "examples/sim.lua (replicas, partitions and a lossy network, checked against a model)"
$LUA examples/sim.lua || status=1

banner "examples/cluster/demo.sh (three replica processes syncing over TCP)"
B=$B LUA=$LUA sh examples/cluster/demo.sh || status=1

banner "examples/tarantool/demo.sh (the stories on three Tarantool instances)"
B=$B sh examples/tarantool/demo.sh || status=1

[ $status -eq 0 ] || echo "run.sh: an example failed" >&2
exit $status
