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
if [ "${1:-}" = "all" ]; then
    command -v dot >/dev/null 2>&1         || need="$need graphviz"
    check /usr/share/lua/5.1/socket.lua   lua-socket
    command -v luarocks >/dev/null 2>&1    || need="$need luarocks"
fi
[ -z "$need" ] && exit 0
echo "vv: installing missing Debian packages:$need" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $need
