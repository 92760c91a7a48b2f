#!/bin/sh
# demo.sh - three vv replica processes on 127.0.0.1, each with its own
# LMDB directory, kept in step by keyspace sync over TCP (LuaSocket).
# Writes go through different replicas; one replica is killed with
# SIGKILL, restarted on the same directory, and catches up.
#
#   sh examples/cluster/demo.sh        (from the top of the source tree,
#                                       after make; make demo runs it)
# Env: B (build dir, default build), LUA (lua5.4), WAIT (seconds a
# convergence may take, 20), CLUSTER_DIR (use this empty directory instead
# of a temporary one; it is left in place).
# Prints "ok - ..." / "not ok - ..." for each check; exit status 1 when
# one fails.  Every process it starts is gone when it ends (they also end
# by themselves after --lifetime).
B=${B:-build}
LUA=${LUA:-lua5.4}
WAIT=${WAIT:-20}
here=$(dirname "$0")
export LUA_CPATH="$B/?.so;;"

if [ -n "${CLUSTER_DIR:-}" ]; then dir=$CLUSTER_DIR; keep=1
else dir=$(mktemp -d "${TMPDIR:-/tmp}/vv-cluster.XXXXXX") || exit 1; keep=0
fi
pids=""
cleanup() {
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    [ "$keep" = 1 ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

failed=0
ok() { echo "ok - $1"; }
notok() { echo "not ok - $1"; failed=1; }

start() { # name peers
    rm -f "$dir/$1.port"
    $LUA "$here/replica.lua" --name "$1" --cluster "$dir" --peers "$2" \
        --interval 0.25 --lifetime 180 >> "$dir/$1.log" 2>&1 &
    eval "pid_$1=$!"
    pids="$pids $!"
    i=0
    while [ ! -f "$dir/$1.port" ] && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ -f "$dir/$1.port" ]
}

client() { $LUA "$here/client.lua" "$dir" "$@"; }

# wait_for REPLICA KEY WANT: poll until a read at REPLICA shows WANT.
wait_for() {
    t=0
    while [ $t -lt $((WAIT * 5)) ]; do
        got=$(client "$1" get "$2" 2>/dev/null)
        [ "$got" = "$3" ] && return 0
        sleep 0.2
        t=$((t + 1))
    done
    echo "    $1 $2: shows '$got', want '$3'"
    return 1
}

# converged KEY WANT: every replica shows WANT for KEY.
converged() {
    for r in r1 r2 r3; do wait_for $r "$1" "$2" || return 1; done
}

echo "== three replicas on 127.0.0.1, stores under $dir"
if start r1 r2,r3 && start r2 r1,r3 && start r3 r1,r2; then
    ok "three replica processes started"
else
    notok "three replica processes started"; exit 1
fi
for r in r1 r2 r3; do echo "   $r: 127.0.0.1:$(cat "$dir/$r.port")"; done

echo
echo "== each client writes through a different replica"
client r1 put user:alice apple
client r2 put user:bob bread
client r3 put user:carol cheese
echo "   r1: alice=apple   r2: bob=bread   r3: carol=cheese"
if converged user:alice apple && converged user:bob bread &&
   converged user:carol cheese; then
    ok "writes through different replicas reach all three"
else notok "writes through different replicas reach all three"; fi

echo
echo "== two clients add to the same cart at r1 and r2 at the same time"
client r1 add cart eggs
client r2 add cart milk
t=0
while [ $t -lt $((WAIT * 5)) ]; do               # until r1 has both
    want=$(client r1 get cart)
    case $want in *" | "*) break ;; esac
    sleep 0.2
    t=$((t + 1))
done
echo "   r1 shows: $want"
what="concurrent writes are kept as siblings, in the same order everywhere"
if converged cart "$want" && [ "$(echo "$want" | grep -c eggs)" = 1 ] &&
   [ "$(echo "$want" | grep -c milk)" = 1 ]; then ok "$what"
else notok "$what"; fi

echo
echo "== r3 is killed (SIGKILL); r1 and r2 go on"
eval "kill -9 \$pid_r3"
eval "wait \$pid_r3 2>/dev/null"
client r1 put user:alice apricot
client r2 del user:bob
client r1 put cart "eggs, milk"
if client r3 get user:alice >/dev/null 2>&1; then notok "r3 is down"
else ok "r3 is down"; fi
if wait_for r2 user:alice apricot && wait_for r1 user:bob "(nothing)"; then
    ok "r1 and r2 keep syncing without r3"
else notok "r1 and r2 keep syncing without r3"; fi

echo
echo "== r3 restarts on its own directory"
if start r3 r1,r2; then ok "r3 restarted"; else notok "r3 restarted"; fi
echo "   r3 right after the restart: carol=$(client r3 get user:carol)" \
     "(from its disk)"
what="the restarted replica catches up (a change, a delete, a resolved cart)"
if wait_for r3 user:alice apricot && wait_for r3 user:bob "(nothing)" &&
   wait_for r3 cart "eggs, milk"; then ok "$what"
else notok "$what"; fi
client r3 put user:carol camembert
if converged user:carol camembert; then
    ok "a write through the restarted replica reaches the others"
else notok "a write through the restarted replica reaches the others"; fi

echo
echo "== what every replica shows"
for r in r1 r2 r3; do
    printf '   %s:' "$r"
    for k in user:alice user:bob user:carol cart; do
        printf ' %s=%s;' "$k" "$(client $r get $k)"
    done
    echo
done
echo "   deltas applied: r1 $(client r1 syncs), r2 $(client r2 syncs)," \
     "r3 $(client r3 syncs) (since its restart)"

for r in r1 r2 r3; do client $r quit >/dev/null 2>&1; done
sleep 0.3
left=0
for p in $pids; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
if [ $left = 0 ]; then ok "every replica process has ended"
else notok "every replica process has ended ($left left)"; fi
[ $failed = 0 ] || { echo "see the logs in $dir"; keep=1; }
exit $failed
