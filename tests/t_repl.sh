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

# ---- the prompt on piped input (-i) -------------------------------------
# session LINE...: what the prompt prints for these lines typed (readline
# echoes each after its prompt); stderr too
session() { printf '%s\n' "$@" | VV_HISTORY= "$VV" -i 2>&1; }

out=$(session 'for i = 1, 2 do' 'x = = 1' 'print("after")' \
    'print("went" .. " on")')
expect "a syntax error inside a multi-line statement is shown" "$out" \
    "^stdin:2: unexpected symbol near '='$"
n=$(printf '%s\n' "$out" | grep -c '^after$')
if [ "$n" -eq 1 ] && printf '%s\n' "$out" | grep -q '^went on$'; then
    ok "the broken statement is dropped, the next lines run alone"
else
    bad "the broken statement is dropped, the next lines run alone" "$out"
fi

out=$(session 'return' 'return nil' 'local a = 6; return a * 7' \
    'do return "from a block" end' 2>/dev/null)
want=$(printf '%s\n' 'vv> return' 'vv> return nil' 'nil' \
    'vv> local a = 6; return a * 7' '42' 'vv> do return "from a block" end' \
    'from a block' 'vv> ')
if [ "$out" = "$want" ]; then
    ok "return statements show what they return, a bare return nothing"
else
    bad "return statements show what they return, a bare return nothing" "$out"
fi

out=$(session 'return 1, nil, 3' '=nil, nil' 'return nil, "x"' \
    'select(2, 1, nil)' 'table.unpack({1, 2, nil, 4}, 1, 4)')
expect "several values, nil in the middle" "$out" '^1	nil	3$'
expect "=expr with several nils" "$out" '^nil	nil$'
expect "nil first, then a string shown raw" "$out" '^nil	x$'
expect "a single nil result is shown" "$out" '^nil$'
expect "four values from table.unpack" "$out" '^1	2	nil	4$'

out=$(session 'error({code = 7})' 'print("next")')
expect "an error object that is a table is reported" "$out" 'error object'
expect "... and the prompt goes on" "$out" '^next$'
out=$(session 'mt = {__tostring = function() return "my own words" end}' \
    'error(setmetatable({}, mt))' 'print("next")')
expect "an error object with __tostring shows its text" "$out" '^my own words$'
expect "... and the prompt goes on" "$out" '^next$'

out=$(printf 'for i = 1, 2 do\n' | VV_HISTORY= "$VV" -i 2>&1); rc=$?
if [ $rc -eq 0 ] &&
   printf '%s\n' "$out" | grep -q "'end' expected near <eof>$"; then
    ok "input ending inside a statement: what is missing, status 0"
else
    bad "input ending inside a statement: what is missing, status 0" \
        "rc=$rc $out"
fi

out=$(session '_PROMPT = "P> "' '_PROMPT2 = "PP> "' 'if true then' 'end' \
    '_PROMPT, _PROMPT2 = nil' '1')
expect "_PROMPT sets the prompt" "$out" '^P> if true then$'
expect "_PROMPT2 sets the second prompt" "$out" '^PP> end$'
expect "unset, the usual prompt is back" "$out" '^vv> 1$'

out=$(session 'string, table, load, select, tostring, pcall, io, os = nil' \
    '6 * 7' 'error("still " .. "here")' 'vv.clock{a = 2}')
expect "a chunk that removes the libraries: results still shown" "$out" '^42$'
expect "... errors still shown" "$out" '^stdin:1: still here$'
expect "... clocks still in text form" "$out" '^\{a:2\}$'

long=$(printf '%03000d' 0)
out=$(session "#\"$long\"" "=\"$long\" == string.rep(\"0\", 3000)" 2>/dev/null)
expect "a 3000-byte line is read whole" "$out" '^3000$'
expect "... and its text arrives intact" "$out" '^true$'

cat > "$tmp/spin.lua" <<EOF
io.open("$tmp/spinning", "w"):close()
while true do end
EOF
# spin SCRIPT: run it in the background, send SIGINT once it runs; prints
# "rc=STATUS" and its output (a script still running 5 s later is killed)
spin() {
    rm -f "$tmp/spinning"
    "$VV" "$1" > "$tmp/spin.out" 2>&1 &
    pid=$!
    i=0
    while [ ! -f "$tmp/spinning" ] && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill -INT $pid 2>/dev/null
    i=0
    while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1; i=$((i + 1))
    done
    kill -KILL $pid 2>/dev/null
    wait $pid
    echo "rc=$?"
    cat "$tmp/spin.out"
}
out=$(spin "$tmp/spin.lua")
if printf '%s\n' "$out" | grep -q '^rc=1$' &&
   printf '%s\n' "$out" | grep -q 'interrupted!'; then
    ok "SIGINT stops a script: message, status 1"
else
    bad "SIGINT stops a script: message, status 1" "$out"
fi

out=$(session 'error({code = 7})' 'error()' 'error(true)')
expect "an error object that is a table is shown like a result" "$out" \
    '^error object: \{code = 7\}$'
expect "an error object nil is named" "$out" '^error object: nil$'
expect "an error object true is shown" "$out" '^error object: true$'

out=$(session 'error("where")' 'local function f() error("deep") end f()')
if printf '%s\n' "$out" | grep -q '^	stdin:1: in main chunk$' &&
   printf '%s\n' "$out" | grep -q "^	stdin:1: in local 'f'$" &&
   ! printf '%s\n' "$out" | grep -q 'vvrepl\|in ?$\|in function .run'; then
    ok "a traceback shows the chunk's frames, none of the prompt's"
else
    bad "a traceback shows the chunk's frames, none of the prompt's" "$out"
fi

out=$(session '{1,' '2}' 'math.max(3,' '5)' 'x = 1 +' '2' 'x')
expect "an expression over two lines shows its value" "$out" '^\{1, 2\}$'
expect "a call over two lines shows its value" "$out" '^5$'
expect "a statement over two lines runs" "$out" '^3$'

out=$(session 'mt = {__tostring = function() error("no text") end}' \
    '_PROMPT = setmetatable({}, mt)' '2 + 2')
expect "a _PROMPT that cannot be shown: the usual prompt" "$out" '^vv> 2 \+ 2$'
expect "... and the prompt goes on" "$out" '^4$'

out=$(session 'function strict(_, k) error("no global " .. k, 2) end' \
    '_ = setmetatable(_G, {__index = strict})' '3 * 3' 'undefined_name')
expect "globals that raise when missing: the prompt goes on" "$out" '^9$'
expect "... and the chunk's own error is shown" "$out" \
    'no global undefined_name$'

out=$(spin "$tmp/spin.lua")
expect "SIGINT names the line the script was stopped at" "$out" \
    'spin\.lua:2: interrupted!$'
cat > "$tmp/spin_pcall.lua" <<EOF
io.open("$tmp/spinning", "w"):close()
while true do pcall(function() while true do end end) end
EOF
out=$(spin "$tmp/spin_pcall.lua")
expect "SIGINT stops a script that catches errors with pcall" "$out" '^rc=1$'
expect "... and says so" "$out" 'spin_pcall\.lua:2: interrupted!$'

# ---- the REPL without readline (make check builds it) --------------------
PLAIN=${VV_PLAIN:-$B/vv-plain}
if [ -x "$PLAIN" ]; then
    out=$(printf '%s\n' "#\"$long\"" 'for i = 1, 2 do' 'print(i * 10)' 'end' \
        '=nil, 1' 'x = ' | VV_HISTORY= "$PLAIN" -i 2>&1); rc=$?
    expect "without readline: a 3000-byte line is read whole" "$out" \
        '^vv> 3000$'
    expect "without readline: the second prompt, the statement runs" "$out" \
        '^vv> vv>> vv>> 10$'
    expect "without readline: values shown" "$out" '^vv> nil	1$'
    expect "without readline: input ending inside a statement" "$out" \
        'unexpected symbol near <eof>$'
    [ $rc -eq 0 ] && ok "without readline: status 0 at the end" ||
        bad "without readline: status 0 at the end" "rc=$rc"
else
    echo "t_repl: $PLAIN is not built; the checks without readline skipped"
fi

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

# ---- a third session: completion, Ctrl-D and Ctrl-C inside a statement ---
# (the server ends with its last session: wait until it has, then start)
$T kill-server 2>/dev/null
tries=0
while $T has-session -t vv 2>/dev/null && [ $tries -lt 50 ]; do
    sleep 0.1; tries=$((tries + 1))
done
if start || { sleep 0.5; start; }; then
    ready
    send -l 'vv.clo'
    send Tab
    step "Tab completes a name" '^vv> vv\.clock$'
    send C-u

    line 'for i = 1, 2 do'
    ready
    send C-d
    step "Ctrl-D inside a statement shows what is missing" \
        "'end' expected near <eof>$"
    line '7 * 7'
    step "... and the prompt goes on" '^49$'

    line 'function g('
    ready
    send C-c
    line 'g == nil'
    step "Ctrl-C at the second prompt drops the statement" '^true$'

    line 'debug.sethook(function() end, "", 1000000)'
    line 'while true do pcall(function() while true do end end) end'
    for pause in 0.3 0.3 0.3; do   # a Ctrl-C before the loop starts is dropped
        sleep $pause; send C-c
        TMO=10 wait_for 'interrupted!' && break
    done
    step "Ctrl-C stops a chunk that catches errors with pcall" 'interrupted!'
    line '=select(3, debug.gethook())'
    step "... the prompt goes on, the user's debug hook is back" '^1000000$'

    ready
    send C-d
    if dead; then ok "the third session leaves with status 0"
    else bad "the third session leaves with status 0" "$(screen)"; fi
else
    bad "a third session starts" "$(screen)"
fi
finish
