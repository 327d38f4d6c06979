#!/usr/bin/env bash
# test_tutorial_trace.sh TUTORIAL: with --trace, a tutorial prints the same
# stdout as without, and on stderr one line per scheduler event: at least a
# spawn, run, park, ready, exit and poll line, each coroutine with its id
# and name, and every poll followed by how long epoll_wait took.
set -u
exe=$1 tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$exe" >"$tmp/plain" 2>/dev/null || { echo "FAIL: $exe exited $?"; exit 1; }
"$exe" --trace >"$tmp/out" 2>"$tmp/err" || { echo "FAIL: $exe --trace exited $?"; exit 1; }
fail=0
# Pointers, times, ports and 03's count of ticks (its third tick races the
# 300 ms answer) differ between runs: compare the rest.
norm() { sed -E 's/0x[0-9a-f]+/PTR/g; s/[0-9]+ ms/N ms/g; s/127.0.0.1:[0-9]+/127.0.0.1:PORT/g; /^tick [0-9]+/d; s/[0-9]+ ticks/N ticks/' "$1"; }
if ! diff -u <(norm "$tmp/plain") <(norm "$tmp/out"); then
    echo "FAIL: stdout differs with --trace (above: - without, + with)"; fail=1
fi
for word in spawn run park ready exit poll; do
    if ! grep -Eq "^ *\+[0-9]+\.[0-9]{3} ms  $word " "$tmp/err"; then
        echo "FAIL: no \"$word\" line on stderr"; fail=1
    fi
done
if ! grep -Eq 'spawn  [0-9]+ "main"' "$tmp/err"; then
    echo "FAIL: the main coroutine is not named with its id"; fail=1
fi
polls=$(grep -c '  poll  ' "$tmp/err"); returns=$(grep -c 'epoll_wait returned after' "$tmp/err")
if [ "$polls" -ne "$returns" ]; then
    echo "FAIL: $polls poll lines but $returns 'epoll_wait returned after' lines"; fail=1
fi
[ "$fail" = 0 ] || { echo "--- stderr ---"; cat "$tmp/err"; exit 1; }
echo "ok: $(wc -l <"$tmp/err") trace lines, stdout unchanged"
