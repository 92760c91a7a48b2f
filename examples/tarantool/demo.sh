#!/bin/sh
# demo.sh - the seed stories on three Tarantool instances (make
# tarantool-demo): lua/tarantool/cluster.sh starts a local full-mesh set on
# 127.0.0.1, examples/tarantool/stories.lua plays the stories through it,
# then examples/tarantool/crdt_cart.lua the cart of vv.crdt.
# From the top of the source tree, after make hosts.  Env: B (build dir),
# VVT_DIR (use this directory; default a temporary one, removed at the
# end).  Prints "ok - ..." / "not ok - ..." for each check; exit status 1
# when one fails.  Every instance it starts is stopped when it ends.
B=${B:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if ! command -v tarantool >/dev/null 2>&1; then
    echo "tarantool is not installed (mk/deps.sh all installs it): skipped"
    exit 0
fi
if [ -n "${VVT_DIR:-}" ]; then keep=1
else VVT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vv-tarantool-demo.XXXXXX") || exit 1
     keep=0
fi
export VVT_DIR VVT_ROOT="$root" B VVT_INIT="$here/init.lua"
cleanup() {
    sh "$root/lua/tarantool/cluster.sh" stop >/dev/null 2>&1
    [ "$keep" = 1 ] || rm -rf "$VVT_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "== starting three instances (lua/tarantool/cluster.sh start 3, in $VVT_DIR)"
sh "$root/lua/tarantool/cluster.sh" start 3 || exit 1
VVT_PORT=$(cat "$VVT_DIR/port")
export VVT_PORT
sh "$root/lua/tarantool/cluster.sh" status
echo
CLUSTER="sh $root/lua/tarantool/cluster.sh" tarantool "$here/stories.lua" &
pid=$!
wait $pid; status=$?
# the cart of vv.crdt on the same instances (crdt_cart.lua)
tarantool "$here/crdt_cart.lua" &
pid=$!
wait $pid || status=1
exit $status
