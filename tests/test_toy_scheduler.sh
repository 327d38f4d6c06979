#!/usr/bin/env bash
# test_toy_scheduler.sh TOY EXPECTED: examples/00_toy_scheduler prints
# exactly the steps in EXPECTED (its run is deterministic: one thread, and
# the only timed wait is the server's 50 ms timer, which nothing races).
set -u
toy=$1 expected=$2
out=$("$toy") || { echo "FAIL: $toy exited $?"; exit 1; }
if ! diff -u "$expected" <(printf '%s\n' "$out"); then
    echo "FAIL: $toy's steps differ from $expected (above: - expected, + got)"
    exit 1
fi
echo "ok: $(printf '%s\n' "$out" | wc -l) lines as expected"
