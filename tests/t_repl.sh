#!/bin/sh
# t_repl.sh - the vv REPL: batch modes, then a real terminal driven by tmux.
# Prints cmocka-style lines; exits non-zero when a check fails.
B=${B:-build}
VV=${VV:-$B/vv}
case $VV in /*) ;; *) VV=$(pwd)/$VV ;; esac
TMO=${TMO:-50}                 # polls of 0.1 s before a wait gives up

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vv_repl.XXXXXX") || exit 1
sock="vvtest$$"
cleanup() {
    command -v tmux >/dev/null 2>&1 && tmux -L "$sock" kill-server 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

. tests/lib.sh

if [ ! -x "$VV" ]; then
    bad "repl binary $VV is built"
    finish
fi
export VV_HISTORY="$tmp/hist" INPUTRC=/dev/null

# ---- batch modes (no terminal) ------------------------------------------
out=$("$VV" -e 'print(vv.clock{s0 = 1})' 2>&1)
expect "-e prints a clock" "$out" '^\{s0:1\}$'

out=$("$VV" -e 'db:put("ks", "k", 10)' -e 'print(db:get("ks", "k").value)' 2>&1)
expect "-e chunks share the store db, in order" "$out" '^10$'

out=$("$VV" --node s7 -e 'db:put("ks", "k", 1)
print(db:get("ks", "k").siblings[1].node)' 2>&1)
expect "--node names the store" "$out" '^s7$'

out=$("$VV" -e 'error("boom")' 2>&1); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q boom; then
    ok "-e error: message shown, status non-zero"
else
    bad "-e error: message shown, status non-zero" "rc=$rc $out"
fi

cat > "$tmp/args.lua" <<'EOF'
local a, b = ...
print(select("#", ...), a, b, arg[0]:match("[^/]*$"), arg[1], arg[2],
      type(vv.open), type(db), require("vv") == vv)
EOF
out=$("$VV" "$tmp/args.lua" x "y z" 2>&1)
expect "script gets ... and arg, vv and db" "$out" \
    '^2	x	y z	args.lua	x	y z	function	userdata	true$'

out=$(printf 'print(6 * 7)\n' | "$VV" 2>&1)
expect "standard input runs as a script" "$out" '^42$'

out=$("$VV" --help 2>&1); rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q -- '--path DIR'; then
    ok "--help shows usage"
else
    bad "--help shows usage" "rc=$rc $out"
fi

out=$("$VV" -v 2>&1)
expect "-v shows the version" "$out" '^vv [0-9]+\.[0-9]+\.[0-9]+ \(Lua 5\.4'

out=$("$VV" --bogus 2>&1); rc=$?
if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "usage"; then
    ok "unknown option: usage, status non-zero"
else
    bad "unknown option: usage, status non-zero" "rc=$rc $out"
fi

"$VV" --path "$tmp/db" -e 'db:put("ks", "k", "kept")' >/dev/null 2>&1
out=$("$VV" --path "$tmp/db" -e 'print(db:get("ks", "k").value)' 2>&1)
expect "--path keeps data across runs" "$out" '^kept$'

# ---- a real terminal ----------------------------------------------------
if ! command -v tmux >/dev/null 2>&1; then
    echo "t_repl: tmux is not installed; terminal checks skipped"
    finish
fi

T="tmux -L $sock -f /dev/null"
screen() { $T capture-pane -p -J -S -300 -t vv 2>/dev/null; }
# wait_for PATTERN [COUNT]: until the screen has COUNT lines matching
wait_for() {
    i=0
    while [ $i -lt "$TMO" ]; do
        n=$(screen | grep -Ec -- "$1")
        [ "$n" -ge "${2:-1}" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}
# step NAME PATTERN [COUNT]: check the screen after the keys just sent
step() {
    if wait_for "$2" "${3:-1}"; then ok "$1"; else bad "$1" "$(screen)"; fi
}
# ready: wait until the last line of the screen is an empty prompt, so the
# keys sent next reach readline (not the terminal's line mode)
ready() {
    i=0
    while [ $i -lt "$TMO" ]; do
        screen | sed '/^$/d' | tail -n 1 | grep -Eq '^vv>>? $' && return 0
        sleep 0.05; i=$((i + 1))
    done
    return 1
}
send() { $T send-keys -t vv "$@"; }
line() { ready; $T send-keys -t vv -l "$1"; $T send-keys -t vv Enter; }
# start: the REPL in a new tmux session.  The shell around it records its
# exit status in $tmp/rc; it traps SIGINT so Ctrl-C only reaches the REPL.
start() {
    rm -f "$tmp/rc"
    cmd="trap : INT; env VV_HISTORY='$VV_HISTORY' INPUTRC=/dev/null '$VV'"
    cmd="$cmd; echo \$? > '$tmp/rc'; sleep 30"
    SHELL=/bin/sh $T new-session -d -s vv -x 110 -y 50 "$cmd" || return 1
    wait_for '^vv> $'
}
dead() { # the REPL exited with status 0 (the shell around it wrote it)
    i=0
    while [ $i -lt "$TMO" ]; do
        [ "$(cat "$tmp/rc" 2>/dev/null)" = 0 ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

if ! start; then
    bad "the prompt appears in a terminal" "$(screen)"
    finish
fi
ok "the prompt appears in a terminal"

line '1 + 2'
step "an expression prints its value" '^3$'

line 'vv.clock{s0 = 1}'
step "a clock prints in text form" '^\{s0:1\}$'

line '=math.max(4, 9)'
step "=expr prints" '^9$'

line 'function sq(x)'
step "an unfinished statement gets the secondary prompt" '^vv>> $'
line 'return x * x'
line 'end'
line 'sq(12)'
step "a multi-line function is defined and callable" '^144$'

line 'db:put("carts", "alice", {"apple"})'
line 'db:get("carts", "alice")'
step "a read result is pretty-printed" '^  siblings = \{$'

line 'error("kaboom")'
step "an error is shown" 'kaboom'
line '40 + 2'
step "the prompt goes on after an error" '^42$'

line 'local t = nil; return t.x'
step "a runtime error is shown" 'attempt to index a nil value'

line '"hist" .. "ory"'
wait_for '^history$'
ready
send Up
step "Up recalls the previous line" '^vv> "hist" \.\. "ory"$' 2
send Enter
step "the recalled line runs" '^history$' 2

ready
send -l 'this line is dropped'
send C-c
line '5 * 5'
step "Ctrl-C drops the line being typed" '^25$'

line 'while true do end'
n=0
while [ $n -lt 3 ]; do      # a Ctrl-C before the loop starts is dropped
    sleep 0.3
    send C-c
    TMO=10 wait_for 'interrupted!' && break
    n=$((n + 1))
done
step "Ctrl-C stops a running chunk" 'interrupted!'
line '6 * 6'
step "the prompt goes on after Ctrl-C" '^36$'

ready
send C-d
if dead || { send C-d; dead; }; then
    ok "Ctrl-D leaves with status 0"
else
    bad "Ctrl-D leaves with status 0" "$(screen; cat "$tmp/rc" 2>&1)"
fi
$T kill-session -t vv 2>/dev/null

if grep -q '^"hist" \.\. "ory"$' "$VV_HISTORY" 2>/dev/null; then
    ok "history is saved in \$VV_HISTORY"
else
    bad "history is saved in \$VV_HISTORY" "$(cat "$VV_HISTORY" 2>&1)"
fi

if start; then
    ready
    send Up
    step "history comes back in a new session" '^vv> 6 \* 6$'
    send C-u C-d
    dead
else
    bad "history comes back in a new session" "$(screen)"
fi
finish
