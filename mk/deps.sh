#!/bin/sh
# deps.sh - install the Debian packages vv needs, only when one is missing.
# One list: "file-that-proves-it-is-installed package".  Run by make;
# "core" checks only what the core needs, "hosts" and "all" add more.
set -e
need=""
check() { [ -e "$1" ] || need="$need $2"; }
# the core (make -C core): no Lua
check /usr/include/cmocka.h               libcmocka-dev
check /usr/include/lmdb.h                 liblmdb-dev
check /usr/include/xxhash.h               libxxhash-dev
command -v cc >/dev/null 2>&1          || need="$need build-essential"
if [ "${1:-}" != "core" ]; then
    check /usr/include/lua5.4/lua.h       liblua5.4-dev
    check /usr/bin/lua5.4                 lua5.4
    check /usr/include/readline/readline.h libreadline-dev
    check /usr/include/msgpack.h          libmsgpack-dev
    command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
    command -v tmux >/dev/null 2>&1       || need="$need tmux"
fi
if [ "${1:-}" = "hosts" ] || [ "${1:-}" = "all" ]; then
    check /usr/include/lua5.1/lua.h       liblua5.1-0-dev
    check /usr/bin/lua5.1                 lua5.1
    check /usr/include/lua5.3/lua.h       liblua5.3-dev
    check /usr/bin/lua5.3                 lua5.3
    check /usr/include/luajit-2.1/lua.h   libluajit-5.1-dev
    check /usr/bin/luajit                 luajit
fi
# optional: wanted by "all", but a machine without them still builds and
# tests everything else (the Tarantool tests then say they are skipped)
opt=""
if [ "${1:-}" = "all" ]; then
    command -v dot >/dev/null 2>&1         || need="$need graphviz"
    check /usr/share/lua/5.1/socket.lua   lua-socket
    command -v luarocks >/dev/null 2>&1    || need="$need luarocks"
    command -v tarantool >/dev/null 2>&1   || opt="$opt tarantool"
    [ -e /usr/include/tarantool/module.h ] || opt="$opt tarantool-dev"
fi
[ -z "$need$opt" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "vv: installing missing Debian packages:$need$opt" >&2
$SUDO apt-get update -qq
[ -z "$need" ] || $SUDO apt-get install -y -qq --no-install-recommends $need
if [ -n "$opt" ]; then
    $SUDO apt-get install -y -qq --no-install-recommends $opt ||
        echo "vv: could not install$opt; the Tarantool tests and demo" \
             "will be skipped" >&2
fi
exit 0
