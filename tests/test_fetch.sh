#!/usr/bin/env bash
# test_fetch.sh - drives the built fetch binary against fetch_testserver.
#
#     test_fetch.sh FETCH SERVER RSS SANITIZE GROUP
#
# FETCH, SERVER, RSS: paths of the built fetch, fetch_testserver, fetch_rss.
# SANITIZE: meson's b_sanitize; the memory figure is only checked when it
#   is "none" (ASan's shadow memory counts as resident).
# GROUP: "light" runs the t_* tests: every option and every exit code, each
#   a few milliseconds; "heavy" runs the h_* tests: 64 MiB and 100 URLs
#   (suite no-valgrind).
#
# The output side's tests (ordered output, every hop, error lines, --retry,
# -O...) are in test_fetch_output.sh, sourced below.
#
# Each test is independent; a failed check prints the test, the line and
# both sides, and the run goes on.  Loopback only: 127.0.0.1, plus a host
# name that cannot resolve without the network (the resolver refuses a
# 70-byte DNS label before sending anything).  Exit 0 when all passed.
set -u

FETCH=$1 SERVER=$2 RSS=$3 SANITIZE=$4 GROUP=$5

# In sanitizer builds: LeakSanitizer's exit code would be 23, fetch's own
# "write error"; make it 99.  UBSan only warns by default; make it stop.
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
WORK=$(mktemp -d)
failures=0
current=

. "$(dirname "${BASH_SOURCE[0]}")/fetch_server.sh" # start_server, cleanup at exit

# ---- running fetch and checking what it did ----

# fail MESSAGE: one failed check, with the test and the line that checked.
fail() {
    echo "FAIL $current (${BASH_SOURCE[2]##*/}:${BASH_LINENO[1]}): $*" >&2
    failures=$((failures + 1))
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ASan says once, on stderr, that it does not fully support swapcontext
# (the ucontext backend).  That line, and only it, is not fetch's output.
strip_asan_note() {
    sed -i "/^==[0-9]*==WARNING: ASan doesn't fully support makecontext/d" "$1"
}

# fetch ARGS...: runs fetch; sets $rc and $ms; output in $WORK/out, $WORK/err.
fetch() {
    local t0
    t0=$(now_ms)
    "$FETCH" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    ms=$(($(now_ms) - t0))
    strip_asan_note "$WORK/err"
}

show() { head -c 600 "$1"; }

expect_rc() {
    [ "$rc" = "$1" ] || fail "exit code: got $rc, want $1; stderr: [$(show "$WORK/err")]"
}
expect_out() {
    local got
    got=$(cat "$WORK/out")
    [ "$got" = "$1" ] || fail "stdout: got [$(show "$WORK/out")], want [$1]"
}
expect_out_has() {
    grep -qF -- "$1" "$WORK/out" || fail "stdout lacks [$1]; stdout: [$(show "$WORK/out")]"
}
expect_out_lacks() {
    ! grep -qF -- "$1" "$WORK/out" || fail "stdout has [$1]; stdout: [$(show "$WORK/out")]"
}
expect_err_has() {
    grep -qF -- "$1" "$WORK/err" || fail "stderr lacks [$1]; stderr: [$(show "$WORK/err")]"
}
expect_err_lacks() {
    ! grep -qF -- "$1" "$WORK/err" || fail "stderr has [$1]; stderr: [$(show "$WORK/err")]"
}
expect_err_empty() {
    [ ! -s "$WORK/err" ] || fail "stderr: got [$(show "$WORK/err")], want nothing"
}
# expect_error_line URL TEXT: stderr is one line, "fetch: URL: ...TEXT...".
expect_error_line() {
    local n
    n=$(wc -l <"$WORK/err")
    [ "$n" -eq 1 ] || fail "stderr: got $n lines, want 1: [$(show "$WORK/err")]"
    grep -qF -- "fetch: $1: " "$WORK/err" || fail "stderr lacks [fetch: $1: ]; stderr: [$(show "$WORK/err")]"
    grep -qF -- "$2" "$WORK/err" || fail "stderr lacks [$2]; stderr: [$(show "$WORK/err")]"
}
expect_faster() {
    [ "$ms" -lt "$1" ] || fail "took $ms ms, want < $1 ms"
}
# expect_steps: the seven "step N:" lines of --trace, in order.
expect_steps() {
    local got
    got=$(sed -n 's/^step \([0-9]\):.*/\1/p' "$WORK/err" | tr -d '\n')
    [ "$got" = "1234567" ] || fail "trace steps: got [$got], want [1234567]; stderr: [$(show "$WORK/err")]"
}
expect_file() { # expect_file PATH CONTENT
    local got
    got=$(cat "$1" 2>&1)
    [ "$got" = "$2" ] || fail "$1: got [$got], want [$2]"
}

OK_BODY="hello from fetch_testserver"

# ---- light: options ----

t_get() {
    fetch "$BASE/ok"
    expect_rc 0; expect_out "$OK_BODY"; expect_err_empty
}

t_output_file() {
    fetch -o "$WORK/ok.txt" "$BASE/ok"
    expect_rc 0; expect_out ""; expect_err_empty
    expect_file "$WORK/ok.txt" "$OK_BODY"
}

t_output_pairs_with_urls() { # the 1st -o is the 1st URL's; the 2nd URL goes to stdout
    fetch -o "$WORK/first.txt" "$BASE/ok" "$BASE/chunked"
    expect_rc 0; expect_out "hello chunked"
    expect_file "$WORK/first.txt" "$OK_BODY"
}

t_output_dash_is_stdout() {
    fetch -o - "$BASE/ok"
    expect_rc 0; expect_out "$OK_BODY"
}

t_output_more_than_urls() {
    fetch -o "$WORK/a" -o "$WORK/b" "$BASE/ok"
    expect_rc 2; expect_err_has "one -o per URL"
}

t_output_not_created_on_failure() {
    fetch -o "$WORK/never.txt" "http://127.0.0.1:$REFUSED/"
    expect_rc 7
    [ ! -e "$WORK/never.txt" ] || fail "-o file created for a refused connection"
}

t_include() {
    fetch -i "$BASE/ok"
    expect_rc 0
    [ "$(head -n 1 "$WORK/out")" = $'HTTP/1.1 200 OK\r' ] || fail "-i first line: [$(head -n 1 "$WORK/out")]"
    expect_out_has $'Content-Length: 28\r'
    [ "$(tail -n 1 "$WORK/out")" = "$OK_BODY" ] || fail "-i last line: [$(tail -n 1 "$WORK/out")]"
}

t_head() {
    fetch -I "$BASE/ok"
    expect_rc 0; expect_out_has "HTTP/1.1 200 OK"; expect_out_has "Content-Length: 28"
    expect_out_lacks "$OK_BODY"
}

t_location() {
    fetch "$BASE/redirect-to-ok"
    expect_rc 0; expect_out "redirecting"
    fetch -L "$BASE/redirect-to-ok"
    expect_rc 0; expect_out "$OK_BODY"
}

t_max_redirs() {
    fetch -L --max-redirs 3 "$BASE/r/3"
    expect_rc 0; expect_out "arrived"
    fetch -L --max-redirs 2 "$BASE/r/3"
    expect_rc 47; expect_error_line "$BASE/r/3 -> $BASE/r/1" "redirect"
    fetch -L --max-redirs 0 "$BASE/r/1"
    expect_rc 47; expect_error_line "$BASE/r/1" "redirect"
}

t_max_time_fraction() {
    fetch -m 0.2 "$BASE/hang"
    expect_rc 28; expect_error_line "$BASE/hang" "(-m 0.2) while waiting for the head"; expect_faster 1000
    fetch --max-time 2.5 "$BASE/slow300"
    expect_rc 0; expect_out "slow"
}

t_connect_timeout() {
    fetch --connect-timeout 0.2 "http://127.0.0.1:$BLACKHOLE/"
    expect_rc 28; expect_error_line "http://127.0.0.1:$BLACKHOLE/" "(--connect-timeout 0.2) while connecting"
    expect_faster 1000
}

t_header_repeatable() {
    fetch -H 'X-One: 1' --header 'X-Two: two words' "$BASE/echo-headers"
    expect_rc 0; expect_out_has "X-One: 1"; expect_out_has "X-Two: two words"
    expect_out_has "Host: 127.0.0.1:$PORT"
}

t_header_replaces_default() {
    fetch -H 'User-Agent: test-agent/1' "$BASE/echo-headers"
    expect_rc 0; expect_out_has "User-Agent: test-agent/1"
    [ "$(grep -ci '^user-agent:' "$WORK/out")" = 1 ] || fail "User-Agent sent more than once: [$(show "$WORK/out")]"
}

t_header_bad() {
    fetch -H 'no colon here' "$BASE/ok"
    expect_rc 2; expect_err_has "-H wants"
}

t_fail() {
    fetch -f "$BASE/404"
    expect_rc 22; expect_out ""; expect_error_line "$BASE/404" "404"
    fetch "$BASE/404"
    expect_rc 0; expect_out "not found"; expect_err_empty
    fetch --fail "$BASE/status/500"
    expect_rc 22; expect_error_line "$BASE/status/500" "500"
}

t_silent() { # -s hides progress only: the error line stays (curl's -sS)
    fetch -s "$BASE/ok"
    expect_rc 0; expect_out "$OK_BODY"; expect_err_empty
    fetch --silent "http://127.0.0.1:$REFUSED/"
    expect_rc 7; expect_error_line "http://127.0.0.1:$REFUSED/" "could not connect"
}

t_verbose() {
    fetch -v "$BASE/ok"
    expect_rc 0; expect_out "$OK_BODY"
    expect_err_has "> GET /ok HTTP/1.1"; expect_err_has "> Host: 127.0.0.1:$PORT"
    expect_err_has "< HTTP/1.1 200 OK"; expect_err_has "< Content-Length: 28"
}

t_parallel_max_one_connection() { # 5 sequential GETs share one kept-alive connection
    fetch --parallel-max 1 "$BASE/conn" "$BASE/conn" "$BASE/conn" "$BASE/conn" "$BASE/conn"
    expect_rc 0
    local lines distinct
    lines=$(wc -l <"$WORK/out")
    distinct=$(sort -u "$WORK/out" | wc -l)
    [ "$lines" = 5 ] && [ "$distinct" = 1 ] ||
        fail "--parallel-max 1: got $lines responses on $distinct connections, want 5 on 1: [$(show "$WORK/out")]"
}

t_parallel_max_bad() {
    fetch --parallel-max 0 "$BASE/ok"
    expect_rc 2; expect_err_has "--parallel-max"
}

t_trace() {
    fetch --trace "$BASE/ok"
    expect_rc 0; expect_out "$OK_BODY"; expect_steps
    expect_err_has "fetch (1) parks: waits for fd"; expect_err_has "thread sleeps in epoll_wait"
    expect_err_has "-> fetch (1) made ready"; expect_err_has "cpu -> fetch (1): resumes"
}

t_trace_no_colour_when_piped() {
    fetch --trace "$BASE/ok"
    ! grep -q $'\033' "$WORK/err" || fail "escape codes in a piped trace"
}

t_help() {
    fetch -h
    expect_rc 0; expect_out_has "Usage: fetch [options] URL..."
    fetch --help
    expect_rc 0; expect_out_has "--parallel-max"
}

t_version() {
    fetch -V
    expect_rc 0; expect_out_has "fetch 0."
    fetch --version
    expect_rc 0; expect_out_has "Protocols: http"
}

t_bad_usage() {
    fetch --bogus "$BASE/ok"
    expect_rc 2; expect_err_has "unknown option --bogus"
    fetch -q "$BASE/ok"
    expect_rc 2; expect_err_has "unknown option -q"
    fetch "$BASE/ok" -m
    expect_rc 2; expect_err_has "-m needs a value"
    fetch -m soon "$BASE/ok"
    expect_rc 2; expect_err_has "wants seconds"
}

t_combined_short_flags() {
    fetch -sLi "$BASE/redirect-to-ok"
    expect_rc 0; expect_out_has "HTTP/1.1 200 OK"; expect_out_has "$OK_BODY"
    fetch -m0.2 "$BASE/hang"
    expect_rc 28
}

t_demo() { # no URL: a server in the same process, traced
    fetch
    expect_rc 0; expect_out_has "Hello from the demo server"; expect_steps
    expect_err_has "demo-server (2)"
    expect_err_has "thread sleeps in epoll_wait, at most 100.0 ms: the timer of demo-conn (4)"
}

t_several_urls_in_order() { # the slow one first: later bodies wait for it
    fetch "$BASE/slow300" "$BASE/ok" "$BASE/chunked"
    expect_rc 0; expect_out "slow
$OK_BODY
hello chunked"
    expect_faster 2000
}

t_first_failure_wins() {
    fetch "$BASE/ok" "http://127.0.0.1:$REFUSED/" -m 0.3 "$BASE/hang"
    expect_rc 7; expect_out "$OK_BODY"
    local first second
    first=$(sed -n 1p "$WORK/err")
    second=$(sed -n 2p "$WORK/err")
    [[ "$first" == "fetch: http://127.0.0.1:$REFUSED/: "* ]] || fail "1st error line: [$first]"
    [[ "$second" == "fetch: $BASE/hang: "* ]] || fail "2nd error line: [$second]"
}

t_ipv6_loopback() {
    if [ "$PORT6" = 0 ]; then
        echo "   (no ::1 here: IPv6 not checked)"
        return
    fi
    fetch -v "http://[::1]:$PORT6/ok"
    expect_rc 0; expect_out "$OK_BODY"; expect_err_has "> Host: [::1]:$PORT6"
}

t_progress_bar() { # only on a terminal: `script` gives fetch one
    if ! command -v script >/dev/null; then
        echo "   (no script(1): progress bar not checked)"
        return
    fi
    script -qefc "'$FETCH' -o '$WORK/slow.bin' '$BASE/slow-body'" /dev/null >"$WORK/tty" </dev/null
    grep -q '100%' "$WORK/tty" || fail "no progress bar on a terminal: [$(show "$WORK/tty" | tr '\r' '|')]"
    script -qefc "'$FETCH' -s -o '$WORK/slow.bin' '$BASE/slow-body'" /dev/null >"$WORK/tty" </dev/null
    strip_asan_note "$WORK/tty"
    ! grep -q '%' "$WORK/tty" || fail "progress bar despite -s: [$(show "$WORK/tty" | tr '\r' '|')]"
    fetch -o "$WORK/slow.bin" "$BASE/slow-body" # stderr not a terminal: no bar
    expect_rc 0; expect_err_empty
}

# ---- light: every exit code ----

t_exit_1_unsupported_protocol() {
    fetch "https://127.0.0.1:$PORT/"
    expect_rc 1; expect_error_line "https://127.0.0.1:$PORT/" "TLS is out of scope"
    fetch "ftp://127.0.0.1/"
    expect_rc 1
}

t_exit_3_malformed_url() {
    fetch "http://:80/"
    expect_rc 3; expect_error_line "http://:80/" ""
    fetch "http://[::1/"
    expect_rc 3
}

t_exit_6_resolve() {
    local host
    host=$(printf 'a%.0s' $(seq 70)).invalid
    fetch "http://$host/"
    expect_rc 6; expect_error_line "http://$host/" ""
}

t_exit_7_connect() {
    fetch "http://127.0.0.1:$REFUSED/"
    expect_rc 7; expect_error_line "http://127.0.0.1:$REFUSED/" "Connection refused"
}

t_exit_8_malformed_response() {
    local route
    for route in chunked-bad nothttp cl-negative headers-huge; do
        fetch "$BASE/$route"
        expect_rc 8; expect_error_line "$BASE/$route" ""
    done
}

t_exit_18_truncated() {
    fetch "$BASE/truncated"
    expect_rc 18; expect_error_line "$BASE/truncated" ""
}

t_exit_22_fail() {
    fetch -f "$BASE/status/403"
    expect_rc 22
}

t_exit_23_write() {
    fetch -o "$WORK/no/such/dir/x" "$BASE/ok"
    expect_rc 23; expect_error_line "$BASE/ok" "could not write to $WORK/no/such/dir/x"
    "$FETCH" "$BASE/ok" >&- 2>"$WORK/err"
    rc=$?
    strip_asan_note "$WORK/err"
    expect_rc 23; expect_error_line "$BASE/ok" "could not write to stdout"
    "$FETCH" "$BASE/big64m" 2>"$WORK/err" | head -c 100 >/dev/null
    rc=${PIPESTATUS[0]}
    strip_asan_note "$WORK/err"
    expect_rc 23; expect_error_line "$BASE/big64m" "Broken pipe"
}

t_exit_28_timeout() {
    fetch -m 0.2 "$BASE/slow300"
    expect_rc 28
}

t_exit_47_redirects() { # -m: a default without a limit must fail, not hang
    fetch -L -m 20 "$BASE/redirect-loop"
    expect_rc 47; expect_error_line "$BASE/redirect-loop -> $BASE/redirect-loop" "redirect"
}

t_exit_52_empty_reply() {
    fetch "$BASE/empty"
    expect_rc 52; expect_error_line "$BASE/empty" ""
}

t_exit_56_reset() {
    fetch "$BASE/reset"
    expect_rc 56; expect_error_line "$BASE/reset" ""
    fetch "$BASE/reset-early"
    expect_rc 56; expect_error_line "$BASE/reset-early" ""
}

# ---- heavy (suite no-valgrind) ----

h_hundred_urls_at_once() { # 100 x 300 ms: concurrency makes it well under 1 s
    local urls=() i
    for i in $(seq 100); do urls+=("$BASE/slow300"); done
    fetch "${urls[@]}"
    expect_rc 0; expect_faster 2500
    [ "$(grep -c '^slow$' "$WORK/out")" = 100 ] || fail "got $(grep -c '^slow$' "$WORK/out") bodies, want 100"
    echo "   figure: 100 x /slow300, --parallel-max 50 (default): $ms ms"
    fetch --parallel-max 100 "${urls[@]}"
    expect_rc 0; expect_faster 2500
    echo "   figure: 100 x /slow300, --parallel-max 100: $ms ms"
}

h_big_body_small_memory() { # 64 MiB through -o in little memory
    local t0 kib size
    t0=$(now_ms)
    "$RSS" "$FETCH" -s -o "$WORK/big.bin" "$BASE/big64m" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    ms=$(($(now_ms) - t0))
    expect_rc 0
    size=$(stat -c %s "$WORK/big.bin" 2>/dev/null || echo 0)
    [ "$size" = 67108864 ] || fail "-o file: got $size bytes, want 67108864"
    kib=$(sed -n 's/^maxrss_kib //p' "$WORK/err")
    echo "   figure: 64 MiB with -o: peak RSS ${kib} KiB, $ms ms"
    if [ "$SANITIZE" = none ]; then
        [ "${kib:-999999}" -lt 16384 ] || fail "peak RSS ${kib} KiB, want < 16384 KiB"
    fi
    rm -f "$WORK/big.bin"
}

h_big_body_to_stdout() {
    local n kib
    n=$("$RSS" "$FETCH" "$BASE/big64m" 2>"$WORK/err" | wc -c)
    [ "$n" = 67108864 ] || fail "stdout: got $n bytes, want 67108864; stderr: [$(show "$WORK/err")]"
    kib=$(sed -n 's/^maxrss_kib //p' "$WORK/err")
    echo "   figure: 64 MiB to a pipe: peak RSS ${kib} KiB"
    if [ "$SANITIZE" = none ]; then
        [ "${kib:-999999}" -lt 16384 ] || fail "peak RSS ${kib} KiB, want < 16384 KiB"
    fi
}

# ---- the output side's own tests (ordered output, hops, errors, retry) ----

. "$(dirname "${BASH_SOURCE[0]}")/test_fetch_output.sh"

# ---- run them ----

case "$GROUP" in
    light) prefix=t_ ;;
    heavy) prefix=h_ ;;
    *) echo "usage: test_fetch.sh FETCH SERVER RSS SANITIZE light|heavy" >&2; exit 2 ;;
esac
start_server
count=0
for current in $(declare -F | awk '{print $3}' | grep "^$prefix"); do
    echo "-- $current"
    "$current"
    count=$((count + 1))
done
current=server
kill -0 "$server_pid" 2>/dev/null || fail "fetch_testserver died: $(cat "$WORK/server.err")"
echo "$count tests, $failures failed check(s)"
[ "$failures" -eq 0 ]
