#!/bin/sh
# run.sh - run each benchmark binary given as an argument (make bench),
# then the Lua benchmarks on each host and the Tarantool one.
# Every figure is a ratio against a baseline measured in the same run.
#
# The summary: each bench appends one line per figure with a goal to the
# file VV_BENCH_SUMMARY names, tab-separated:
#   figure<TAB>now<TAB>goal<TAB>met|missed<TAB>reason when missed
# (C: bench_summary in bench/benchutil.h).  At the end the lines are
# printed as one table: first the figures of the list below, in its
# order ("not measured" when no bench reported one, so that a bench that
# did not run shows), then any other figure reported.
echo "vv benchmarks on $(uname -m), $(nproc 2>/dev/null || echo ?) cores, $(date -u +%Y-%m-%d)"
VV_BENCH_SUMMARY=$(mktemp "${TMPDIR:-/tmp}/vv-bench-summary.XXXXXX") || exit 1
export VV_BENCH_SUMMARY
trap 'rm -f "$VV_BENCH_SUMMARY"' EXIT
trap 'exit 1' INT TERM HUP
status=0
for b in "$@"; do
    echo
    "$b" || { echo "bench: $b failed"; status=1; }
done
for s in bench/*.lua; do
    [ -f "$s" ] || continue
    echo
    LUA_CPATH="${B:-build}/?.so" lua5.4 "$s" || { echo "bench: $s failed"; status=1; }
    if command -v luajit >/dev/null 2>&1 && [ -f "${B:-build}/luajit/vv.so" ]; then
        echo
        LUA_CPATH="${B:-build}/luajit/?.so" luajit "$s" ||
            { echo "bench: $s (LuaJIT) failed"; status=1; }
    fi
done
echo
sh bench/bench_tarantool.sh || { echo "bench: bench_tarantool.sh failed"; status=1; }

# The figures of issue 17, each with its goal, in the order of its table.
figures='LuaJIT get+put vs pure-Lua store	>= 3x
LuaJIT db:update vs pure-Lua update	>= 6x
LuaJIT db:get of one sibling vs C vv_get	<= 2x
Lua 5.4 get+put vs pure-Lua store	>= 4x
Lua 5.4 db:update vs pure-Lua update	>= 8x
Tarantool db:put vs replace, autocommit, 20 fibers	>= 0.8x
Tarantool db:put vs replace, transactions of 100	>= 0.7x
Tarantool replicated rows applied, trigger vs none	>= 0.7x
core put, 3-node context, vs plain map	<= 1.3x
core get vs plain map	<= 1.3x
LMDB warm gets vs raw mdb_get	<= 1.3x'
echo
echo "== summary: the figures of issue 17 (and any other a bench reported)"
printf '%s\n' "$figures" | awk -F '\t' '
    BEGIN { n = 0 }
    FNR == NR { fixed[++nf] = $1; fgoal[$1] = $2; next }
    { line[++n] = $0; seen[$1] = 1 }
    function add(f, now, goal, st, why) {
        rows++; c1[rows] = f; c2[rows] = now; c3[rows] = goal; c4[rows] = st
        c5[rows] = why
        if (length(f) > w1) w1 = length(f)
        if (length(now) > w2) w2 = length(now)
        if (length(goal) > w3) w3 = length(goal)
        if (length(st) > w4) w4 = length(st)
    }
    END {
        w1 = length("figure"); w2 = length("now"); w3 = length("goal")
        w4 = length("result")
        for (i = 1; i <= nf; i++) {
            f = fixed[i]
            if (!(f in seen)) {
                add(f, "-", fgoal[f], "not measured", "")
                continue
            }
            for (j = 1; j <= n; j++) {
                split(line[j], x, "\t")
                if (x[1] == f) add(x[1], x[2], x[3], x[4], x[5])
            }
        }
        for (j = 1; j <= n; j++) {
            split(line[j], x, "\t")
            if (!(x[1] in fgoal)) add(x[1], x[2], x[3], x[4], x[5])
        }
        fmt = "%-" w1 "s  %" w2 "s  %-" w3 "s  %-" w4 "s  %s\n"
        printf fmt, "figure", "now", "goal", "result", "why (when missed)"
        for (r = 1; r <= rows; r++)
            printf fmt, c1[r], c2[r], c3[r], c4[r], c5[r]
    }' - "$VV_BENCH_SUMMARY"
exit $status
