# lib.sh - reporting for vv's shell tests, sourced by tests/t_*.sh.
# Lines are cmocka-style so tests/check.sh can add them up.  Set
# T_PREFIX to put a word before each test name.
passed=0; failed=0
ok() { echo "[       OK ] ${T_PREFIX:-}$1"; passed=$((passed + 1)); }
bad() {
    echo "[  ERROR   ] ${T_PREFIX:-}$1"
    [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/    | /'
    failed=$((failed + 1))
}
# expect NAME ACTUAL PATTERN: ACTUAL has a line matching the grep -E PATTERN
expect() {
    if printf '%s\n' "$2" | grep -Eq -- "$3"; then ok "$1"
    else bad "$1" "$2"; fi
}
finish() {
    echo "[  PASSED  ] $passed test(s)."
    if [ "$failed" -gt 0 ]; then
        echo "[  FAILED  ] $failed test(s)"
        exit 1
    fi
    exit 0
}
