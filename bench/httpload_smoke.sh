#!/usr/bin/env bash
# httpload_smoke.sh HTTPLOAD SERVE: the CI smoke test of bench/httpload and
# bench/serve.  Only checks that they run without error: serve on an
# ephemeral port, httpload -d 1 against it (text and JSON), the exit codes
# of a bad flag (2) and of a URL nobody answers (1), and a clean stop of
# serve on SIGTERM; then both with -t 2 (two threads, a runtime each):
# the header says so, -n counts the same requests as with one thread, no
# errors, and a bad -t, -c below -t or a bad --cpus each get their own
# message and exit 2.  Prints no figures worth reading: benchmarks are
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

stop_serve() { # stop_serve LABEL: SIGTERM, and serve must exit 0
  kill -TERM "$serve_pid"
  rc=0; wait "$serve_pid" || rc=$?
  serve_pid=
  [ "$rc" -eq 0 ] || fail "$1 exited $rc on SIGTERM"
}
stop_serve serve

# ---- -t 2: two threads, each its own runtime --------------------------

rm -f "$tmp/port"
"$serve" -t 2 -p 0 --port-file "$tmp/port" >"$tmp/serve.out" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
[ -s "$tmp/port" ] || fail "serve -t 2 wrote no port file"
url="http://127.0.0.1:$(cat "$tmp/port")/"
grep -q "^listening on 127.0.0.1:.* (2 threads)" "$tmp/serve.out" ||
  fail "serve -t 2 did not say so: $(cat "$tmp/serve.out")"
# SO_REUSEPORT must not let a second serve -t 2 share the port.
rc=0; timeout 5 "$serve" -t 2 -p "$(cat "$tmp/port")" >/dev/null 2>"$tmp/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "Address already in use" "$tmp/err" ||
  fail "a second serve -t 2 on the port: exit $rc, '$(cat "$tmp/err")'"

"$httpload" -t 2 -c 4 -d 1 --latency "$url" >"$tmp/text2" || fail "httpload -t 2 -d 1 exited $?"
grep -q '^  2 threads and 4 connections' "$tmp/text2" || fail "no '2 threads' header: $(cat "$tmp/text2")"
grep -q '^Requests/sec:' "$tmp/text2" || fail "-t 2: no Requests/sec line"
! grep -q 'Errors:\|Non-2xx' "$tmp/text2" || fail "-t 2: errors in a clean run: $(cat "$tmp/text2")"
# -n 200: the first 5% (10) are the warm-up, the 10th of them opening the
# window, whichever thread finishes it: 191 counted, as with one thread.
for t in 1 2; do
  "$httpload" -t $t -c 4 -n 200 --json "$url" >"$tmp/json$t" || fail "httpload -t $t -n exited $?"
  grep -q "\"threads\":$t,\"connections\":4," "$tmp/json$t" || fail "-t $t JSON: $(cat "$tmp/json$t")"
  grep -q '"requests":191,' "$tmp/json$t" || fail "-t $t -n 200 did not count 191: $(cat "$tmp/json$t")"
  grep -q '"errors":0,' "$tmp/json$t" || fail "-t $t: errors in a clean run: $(cat "$tmp/json$t")"
done
# --cpus: the first CPU this process may use, for both threads.
cpu=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*\([0-9]*\).*/\1/p' /proc/self/status)
"$httpload" -t 2 -c 2 -n 100 --cpus "$cpu,$cpu" --json "$url" >"$tmp/json-cpus" ||
  fail "httpload -t 2 --cpus $cpu,$cpu exited $?"
grep -q '"errors":0,' "$tmp/json-cpus" || fail "--cpus: errors: $(cat "$tmp/json-cpus")"

# bad_args EXPECTED-MESSAGE COMMAND...: exit 2 and the message on stderr.
bad_args() {
  local want=$1; shift
  rc=0; "$@" >/dev/null 2>"$tmp/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "'${*:2}' exited $rc, not 2"
  grep -q -- "$want" "$tmp/err" || fail "'${*:2}' said '$(cat "$tmp/err")', not '$want'"
}
bad_args "-t wants a number of threads" "$httpload" -t 0 "$url"
bad_args "-t wants a number of threads" "$httpload" -t two "$url"
bad_args "number of connections (1) must be >= threads (2)" "$httpload" -t 2 -c 1 "$url"
bad_args "is not a CPU list" "$httpload" --cpus 0-x "$url"
bad_args "is not a CPU list" "$httpload" --cpus 1-0 "$url"
bad_args "CPU 1000000 is not one this process may run on" "$httpload" --cpus 1000000 "$url"
bad_args "names 1 CPU for 2 threads" "$httpload" -t 2 -c 2 --cpus "$cpu" "$url"
bad_args "-t wants a number of threads" "$serve" -t 0 -p 0
bad_args "is not a CPU list" "$serve" --cpus , -p 0
bad_args "names 1 CPU for 2 threads" "$serve" -t 2 --cpus "$cpu" -p 0

stop_serve "serve -t 2"
grep -q "^serve: [0-9]* requests on [0-9]* connections" "$tmp/serve.out" ||
  fail "serve -t 2 gave no totals: $(cat "$tmp/serve.out")"
echo "httpload and serve: ok"
