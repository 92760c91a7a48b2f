#!/bin/sh
# cluster.sh - a local full-mesh Tarantool replica set running vv, on
# 127.0.0.1 (docs/tarantool.md).  From the top of the source tree, after
# `make hosts`:
#
#   lua/tarantool/cluster.sh start [N]     start N instances (default 3) and
#                                      wait until each replicates from and
#                                      to every other
#   lua/tarantool/cluster.sh stop          stop them all (SIGTERM; SIGKILL
#                                      after 10 s)
#   lua/tarantool/cluster.sh clean         stop, then remove the directory
#   lua/tarantool/cluster.sh kill I        SIGKILL instance I
#   lua/tarantool/cluster.sh restart I     start instance I again on its own
#                                      directory, wait for the mesh
#   lua/tarantool/cluster.sh wait          wait for the mesh
#   lua/tarantool/cluster.sh eval I CODE   run Lua CODE on instance I, print
#                                      what it returns as JSON
#   lua/tarantool/cluster.sh status        pid, port and state of each
#
# Environment: VVT_DIR (the set's directory, default /tmp/vv-tarantool),
# VVT_PORT (first port; default: the first free block from 3301), B (the
# build directory, default build), VVT_INIT (a Lua file each instance runs
# after opening its store, e.g. keyspace configs), VVT_REAP (seconds
# between the tombstone reaper's rounds, default 1), VVT_MEMTX
# (memtx_memory in MB, default 64).  Instance I works in
# $VVT_DIR/iI (tarantool.log, tarantool.pid, admin.sock) and listens on
# 127.0.0.1:$VVT_PORT+I-1; its vv node is tI, its store the global DB.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
B=${B:-build}
BUILD=$(cd "$B" 2>/dev/null && pwd) || { echo "cluster.sh: no $B" >&2; exit 1; }
DIR=${VVT_DIR:-/tmp/vv-tarantool}
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
WAIT=${VVT_WAIT:-60}

die() { echo "cluster.sh: $*" >&2; exit 1; }
command -v tarantool >/dev/null 2>&1 ||
    die "tarantool is not installed (mk/deps.sh all installs it)"
[ -f "$BUILD/luajit/vv.so" ] && [ -f "$BUILD/luajit/vv/tarantool.lua" ] ||
    die "$BUILD/luajit/vv.so or vv/tarantool.lua missing: run make hosts"

n_of() { cat "$DIR/n" 2>/dev/null || echo 3; }
port0() { cat "$DIR/port" 2>/dev/null || echo "${VVT_PORT:-3301}"; }
pid_of() { cat "$DIR/i$1/tarantool.pid" 2>/dev/null; }

# alive I: the process exists and is no zombie (a daemon is reparented
# to PID 1, which may reap it late: kill -0 alone is not enough)
alive() {
    p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
    st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -c1)
    [ "$st" != Z ]
}

# free_block N: the first port P from 3301 with P..P+N-1 not listening
free_block() {
    p=3301
    command -v ss >/dev/null 2>&1 || { echo $p; return; }
    used=$(ss -ltnH 2>/dev/null | awk '{print $4}' | sed 's/.*://')
    while [ $p -lt 60000 ]; do
        ok=1; i=0
        while [ $i -lt "$1" ]; do
            if printf '%s\n' "$used" | grep -qx "$((p + i))"; then ok=0; break; fi
            i=$((i + 1))
        done
        [ $ok = 1 ] && { echo $p; return; }
        p=$((p + $1))
    done
    echo 3301
}

start_one() { # I
    d="$DIR/i$1"
    mkdir -p "$d"
    alive "$1" && { echo "instance $1 is already running"; return 0; }
    rm -f "$d/tarantool.pid" "$d/admin.sock"
    # where this start's log lines begin (wait_up looks for F> after it)
    if [ -f "$d/tarantool.log" ]; then wc -l < "$d/tarantool.log" > "$d/log.mark"
    else echo 0 > "$d/log.mark"; fi
    # box.cfg{background = true} daemonizes once box.cfg is done; what is
    # printed before that goes to start.out
    (cd "$d" && VVT_ID=$1 VVT_N=$(n_of) VVT_DIR="$DIR" VVT_PORT=$(port0) \
        VVT_BUILD="$BUILD" VVT_INIT="${VVT_INIT:-}" \
        VVT_REAP="${VVT_REAP:-}" VVT_MEMTX="${VVT_MEMTX:-}" \
        tarantool "$HERE/instance.lua" >> "$d/start.out" 2>&1 &)
}

# wait_up I: until its console socket exists; fail at once on a fatal
# log line (F>) of this start, e.g. a bootstrap that found no peers
wait_up() {
    d="$DIR/i$1"; t=0
    while [ ! -S "$d/admin.sock" ]; do
        sleep 0.05; t=$((t + 1))
        mark=$(cat "$d/log.mark" 2>/dev/null || echo 0)
        if tail -n +"$((mark + 1))" "$d/tarantool.log" 2>/dev/null |
               grep -q ' F> '; then
            echo "instance $1 failed to start:" >&2
            grep ' F> ' "$d/tarantool.log" | tail -1 >&2
            return 1
        fi
        if [ $t -gt $((WAIT * 20)) ]; then
            echo "instance $1 did not come up in $WAIT s" >&2
            tail -5 "$d/tarantool.log" "$d/start.out" 2>/dev/null >&2
            return 1
        fi
    done
}

wait_mesh() {
    tarantool "$HERE/ctl.lua" mesh "$(port0)" "$(n_of)" "$WAIT"
}

# pids of processes working in the set's directories (an instance whose
# pid file is gone, e.g. one a cut-short restart left behind)
strays() {
    for c in /proc/[0-9]*/cwd; do
        case $(readlink "$c" 2>/dev/null) in
        "$DIR"/i[0-9]*) p=${c#/proc/}; echo "${p%/cwd}" ;;
        esac
    done
}

stop_all() {
    n=$(n_of); i=1
    while [ $i -le "$n" ]; do
        p=$(pid_of $i) && [ -n "$p" ] && kill -TERM "$p" 2>/dev/null
        i=$((i + 1))
    done
    i=1
    while [ $i -le "$n" ]; do
        t=0
        while alive $i && [ $t -lt 100 ]; do sleep 0.1; t=$((t + 1)); done
        alive $i && kill -KILL "$(pid_of $i)" 2>/dev/null
        i=$((i + 1))
    done
    for p in $(strays); do kill -KILL "$p" 2>/dev/null; done
    return 0
}

case "${1:-}" in
start)
    n=${2:-3}
    mkdir -p "$DIR" || die "cannot make $DIR"
    i=1
    while [ $i -le "$(n_of)" ]; do
        alive $i && die "instance $i of $DIR is running: stop it first"
        i=$((i + 1))
    done
    echo "$n" > "$DIR/n"
    [ -f "$DIR/port" ] || echo "${VVT_PORT:-$(free_block "$n")}" > "$DIR/port"
    i=1
    while [ $i -le "$n" ]; do start_one $i; i=$((i + 1)); done
    i=1
    while [ $i -le "$n" ]; do wait_up $i || exit 1; i=$((i + 1)); done
    wait_mesh ;;
stop) stop_all; echo stopped ;;
clean) stop_all; rm -rf "$DIR"; echo "stopped, $DIR removed" ;;
kill)
    [ -n "${2:-}" ] || die "kill: which instance?"
    p=$(pid_of "$2") && kill -KILL "$p" || die "instance $2 has no pid"
    t=0
    while alive "$2" && [ $t -lt 100 ]; do sleep 0.05; t=$((t + 1)); done ;;
restart)
    [ -n "${2:-}" ] || die "restart: which instance?"
    start_one "$2"
    wait_up "$2" && wait_mesh ;;
wait) wait_mesh ;;
eval)
    [ -n "${2:-}" ] && [ -n "${3:-}" ] || die "eval: instance and code?"
    i=$2; shift 2
    tarantool "$HERE/ctl.lua" eval "$(($(port0) + i - 1))" "$*" ;;
status)
    n=$(n_of); i=1
    while [ $i -le "$n" ]; do
        if alive $i; then s=running; else s=down; fi
        echo "instance $i: port $(($(port0) + i - 1)), pid $(pid_of $i), $s"
        i=$((i + 1))
    done ;;
*) sed -n '2,25p' "$0"; exit 2 ;;
esac
