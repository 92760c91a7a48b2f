#!/bin/sh
# t_tools.sh - vv check-resolver on every shipped and known-bad script, vv dot
# and the seed pictures through Graphviz, the REPL's ':' commands.
# Prints cmocka-style lines; exits non-zero when a check fails.
B=${B:-build}
VV=${VV:-$B/vv}
LUA=${LUA:-lua5.4}
case $VV in /*) ;; *) VV=$(pwd)/$VV ;; esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vv_tools.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

. tests/lib.sh

if [ ! -x "$VV" ]; then
    bad "binary $VV is built"
    finish
fi

# ---- the resolver checker -----------------------------------------------
for s in scripts/*.lua; do
    out=$("$VV" check-resolver "$s" 2>&1); rc=$?
    if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q '^result: ok$'; then
        ok "check-resolver passes $s"
    else
        bad "check-resolver passes $s" "rc=$rc $out"
    fi
done

# known-bad script, the problem the checker must name
while read -r name problem; do
    out=$("$VV" check-resolver "tests/bad_resolvers/$name" 2>&1); rc=$?
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "^  FAIL $problem:" &&
       printf '%s' "$out" | grep -q '^result: FAIL'; then
        ok "check-resolver flags $name: $problem (status $rc)"
    else
        bad "check-resolver flags $name: $problem" "rc=$rc $out"
    fi
done <<'EOF'
first.lua order
sum.lua idempotence
pick.lua determinism
loop.lua budget
badreturn.lua returns
EOF

# the broken variant of each vv.crdt type script (one line changed)
mkdir -p "$tmp/crdt"
if ! $LUA tests/bad_resolvers/crdt_patches.lua "$tmp/crdt" > "$tmp/crdt.list" \
     2>&1 || [ ! -s "$tmp/crdt.list" ]; then
    bad "the broken crdt variants are written" "$(cat "$tmp/crdt.list")"
fi
while read -r file problem; do
    out=$("$VV" check-resolver "$file" 2>&1); rc=$?
    name=$(basename "$file")
    if [ $rc -ne 0 ] && printf '%s' "$out" | grep -q "^  FAIL $problem:" &&
       printf '%s' "$out" | grep -q '^result: FAIL'; then
        ok "check-resolver flags crdt variant $name: $problem (status $rc)"
    else
        bad "check-resolver flags crdt variant $name: $problem" "rc=$rc $out"
    fi
done < "$tmp/crdt.list"

"$VV" check-resolver >/dev/null 2>&1; rc=$?
if [ $rc -ne 0 ]; then ok "check-resolver without a script: status $rc"
else bad "check-resolver without a script fails"; fi

# ---- vv dot on a durable store ------------------------------------------
"$VV" --node shop1 --path "$tmp/db" -e '
db:keyspace("shop", { history = 8 })
local c1 = db:put("shop", "cart", { "eggs" })
db:put("shop", "cart", { "milk" })
db:put("shop", "cart", { "eggs", "bacon" }, c1)
print(db:actor())' > "$tmp/actor" 2>&1
actor=$(cat "$tmp/actor")
out=$("$VV" dot shop cart --path "$tmp/db" 2>&1); rc=$?
printf '%s\n' "$out" > "$tmp/cart.dot"
expect "vv dot: status 0, a digraph" "rc=$rc
$out" '^digraph vv \{$'
[ $rc -eq 0 ] || bad "vv dot: status 0" "rc=$rc"
expect "vv dot: the write with a context replaced what it saw" "$out" \
    "^  \"$actor:3\" -> \"$actor:1\" \[label=\"replaced\"\];$"
n=$(printf '%s\n' "$out" | grep -c -- ' -> ')
if [ "$n" -eq 1 ]; then ok "vv dot: exactly one replaced edge"
else bad "vv dot: exactly one replaced edge" "$out"; fi
n=$(printf '%s\n' "$out" | grep -c 'label="sibling')
if [ "$n" -eq 2 ]; then ok "vv dot: two current siblings highlighted"
else bad "vv dot: two current siblings highlighted" "$out"; fi

# ---- Graphviz: the DOT parses; the seed scenarios render ------------------
if command -v dot >/dev/null 2>&1; then
    if dot -Tsvg "$tmp/cart.dot" > "$tmp/cart.svg" 2> "$tmp/err" &&
       grep -q '<svg' "$tmp/cart.svg"; then
        ok "dot -Tsvg parses vv dot's output"
    else
        bad "dot -Tsvg parses vv dot's output" "$(cat "$tmp/err")"
    fi
    out=$(LUA_CPATH="$B/?.so" $LUA examples/pictures.lua "$tmp" 2>&1); rc=$?
    for p in three_replicas_conflict three_replicas_resolved \
             three_replicas_at_s0 eggs_milk_bacon eggs_milk_bacon_merged; do
        if [ $rc -eq 0 ] && dot -Tsvg "$tmp/$p.dot" >/dev/null 2>"$tmp/err" &&
           [ -s "$tmp/$p.svg" ] && [ -s "$tmp/$p.png" ]; then
            ok "seed picture $p: DOT parses, SVG and PNG drawn"
        else
            bad "seed picture $p" "rc=$rc $out $(cat "$tmp/err")"
        fi
    done
    n=$(grep -c ' -> ' "$tmp/three_replicas_resolved.dot")
    m=$(grep -c 'arrived by merge' "$tmp/three_replicas_resolved.dot")
    if [ "$n" -eq 2 ] && [ "$m" -eq 2 ]; then
        ok "three replicas: two merged versions, both replaced"
    else
        bad "three replicas: two merged versions, both replaced" \
            "$(cat "$tmp/three_replicas_resolved.dot")"
    fi
    n=$(grep -c ' -> ' "$tmp/eggs_milk_bacon_merged.dot")
    if [ "$n" -eq 3 ]; then ok "eggs, milk, bacon: three replaced edges"
    else bad "eggs, milk, bacon: three replaced edges" \
        "$(cat "$tmp/eggs_milk_bacon_merged.dot")"; fi
else
    echo "t_tools: Graphviz 'dot' is not installed; picture checks skipped"
fi

# ---- REPL commands ----------------------------------------------------------
out=$(printf '%s\n' ':help' 'db:put("ks", "k", "apple")' \
    'db:put("ks", "k", "pear")' ':siblings ks k' ':stats' ':keyspaces' \
    ":dot ks k $tmp/k.dot" ':nope' 'print("still here")' |
    VV_HISTORY= "$VV" -i 2>&1)
expect ":help lists the commands" "$out" '^  :siblings KS KEY'
expect ":siblings shows a table" "$out" '^  2  repl  repl:2  .*"pear"$'
expect ":siblings says there is no single value" "$out" '^no single value'
expect ":stats shows the histogram" "$out" '^keys by sibling count: 2: 1$'
expect ":keyspaces lists ks" "$out" '^  ks +siblings +msgpack +1 +25/100 +off$'
expect ":dot writes the file" "$out" "^wrote $tmp/k.dot"
expect "an unknown command is an error, the prompt goes on" "$out" \
    "unknown command ':nope'"
expect "Lua lines still run" "$out" '^still here$'
if grep -q '^digraph vv' "$tmp/k.dot" 2>/dev/null; then ok ":dot file is DOT"
else bad ":dot file is DOT"; fi

finish
