#!/usr/bin/env bash
# test_exit_code.sh WANT PROGRAM ARGS...: runs PROGRAM and passes only if it
# exits with status WANT (and prints a line on stderr when WANT is not 0).
# For failure paths that must fail in one documented way: meson's
# should_fail would also take a crash or a sanitizer's report as the
# expected failure.  Sanitizers report with status 99 here, never WANT.
set -u
want=$1; shift
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=99"
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$@" >/dev/null 2>"$err"
rc=$?
cat "$err" >&2
if [ "$rc" -ne "$want" ]; then
  echo "FAIL: $* exited $rc, want $want" >&2; exit 1
fi
if [ "$want" -ne 0 ] && [ ! -s "$err" ]; then
  echo "FAIL: $* exited $rc without a word on stderr" >&2; exit 1
fi
echo "ok: $* exited $rc"
