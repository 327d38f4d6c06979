#!/usr/bin/env bash
# httpload_smoke.sh HTTPLOAD SERVE: the CI smoke test of bench/httpload and
# bench/serve.  Only checks that they run without error: serve on an
# ephemeral port, httpload -d 1 against it (text and JSON), the exit codes
# of a bad flag (2) and of a URL nobody answers (1), and a clean stop of
# serve on SIGTERM.  Prints no figures worth reading: benchmarks are
# bench/compare's business, never a test's.
set -euo pipefail
httpload=$1 serve=$2
tmp=$(mktemp -d)
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$serve" -p 0 -b 16384 --port-file "$tmp/port" >"$tmp/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || fail "serve wrote no port file"
url="http://127.0.0.1:$(cat "$tmp/port")/"
grep -q "^listening on 127.0.0.1:" "$tmp/serve.out" || fail "serve did not say where it listens"

"$httpload" -c 4 -d 1 --latency "$url" >"$tmp/text" || fail "httpload -d 1 exited $?"
grep -q '^Requests/sec:' "$tmp/text" || fail "no Requests/sec line"
grep -q 'Latency Distribution' "$tmp/text" || fail "no Latency Distribution"
"$httpload" -c 2 -n 200 --json "$url" >"$tmp/json" || fail "httpload -n --json exited $?"
grep -q '"requests_per_sec":' "$tmp/json" || fail "no requests_per_sec in JSON"
grep -q '"errors":0,' "$tmp/json" || fail "errors in a clean run: $(cat "$tmp/json")"

rc=0; "$httpload" --no-such-flag "$url" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "a bad flag exited $rc, not 2"
rc=0; "$httpload" -d 1 "http://127.0.0.1:1/" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "an unreachable URL exited $rc, not 1"

kill -TERM "$serve_pid"
rc=0; wait "$serve_pid" || rc=$?
serve_pid=
[ "$rc" -eq 0 ] || fail "serve exited $rc on SIGTERM"
echo "httpload and serve: ok"
