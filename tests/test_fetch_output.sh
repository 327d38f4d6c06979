# test_fetch_output.sh - fetch's running and output side, as curl users
# rely on it: ordered output in bounded memory, binary bodies kept off a
# terminal, every hop's head, error lines that say what failed, -f/-i,
# --fail-with-body, --retry, -O, the new exit codes.
#
# Sourced by test_fetch.sh (which runs fetch_testserver and holds the
# helpers: fetch, expect_*, fail); its t_* are in the light group, its h_*
# in the heavy one.  Rows marked "needs BRANCH" pass once that branch's
# work is merged (client: on_redirect, the new error codes; fetchcli: the
# options and test routes; url: specific malformed-URL messages).

# on_tty ARGS...: runs fetch with stdout on a pseudo-terminal; its stdout
# (as the terminal showed it) in $WORK/out, stderr in $WORK/err, $rc.
# Returns 1 (after saying why) when there is no way to make a terminal.
on_tty() {
    local cmd
    cmd=$(printf '%q ' "$FETCH" "$@")
    if command -v script >/dev/null; then
        script -qefc "$cmd 2>'$WORK/err'" /dev/null >"$WORK/out" </dev/null
        rc=$?
    elif command -v python3 >/dev/null; then
        python3 -c 'import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    err = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(err, 2)
    os.execv(sys.argv[2], sys.argv[2:])
out = b""
while True:
    try:
        d = os.read(fd, 65536)
    except OSError:
        break
    if not d:
        break
    out += d
_, st = os.waitpid(pid, 0)
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(st))' "$WORK/err" "$FETCH" "$@" >"$WORK/out"
        rc=$?
    else
        echo "   (neither script(1) nor python3: no terminal to test with)"
        return 1
    fi
    strip_asan_note "$WORK/err"
    return 0
}

BINARY_WARNING='the body is binary (it has NUL bytes) and stdout is a terminal: not written; -o FILE saves it, -o - writes it here anyway'

# ---- light: ordered output through the temporary file ----

t_order_spills_past_the_window() { # 1 MiB waits behind a slow URL: out whole, in order
    mkdir -p "$WORK/tmp"
    "$FETCH" -s -o "$WORK/big1" "$BASE/big/1" 2>"$WORK/err" # needs fetchcli (/big/N)
    { echo slow; cat "$WORK/big1"; echo "$OK_BODY"; } >"$WORK/want"
    TMPDIR="$WORK/tmp" fetch "$BASE/slow/300" "$BASE/big/1" "$BASE/ok"
    expect_rc 0; expect_err_empty
    cmp -s "$WORK/out" "$WORK/want" ||
        fail "stdout differs from slow + /big/1 + /ok: $(cmp "$WORK/out" "$WORK/want" 2>&1); sizes $(wc -c <"$WORK/out") vs $(wc -c <"$WORK/want")"
    [ -z "$(ls -A "$WORK/tmp")" ] || fail "temporary files left in \$TMPDIR: [$(ls -A "$WORK/tmp")]"
}

t_order_spill_without_tmpdir() { # no temporary file: a clear write error, never a cut body
    TMPDIR="$WORK/no-such-dir" fetch "$BASE/slow/300" "$BASE/big/1" "$BASE/ok"
    expect_rc 23; expect_out_has "slow"; expect_out_has "$OK_BODY"
    expect_error_line "$BASE/big/1" "could not keep the body for its turn in a temporary file in $WORK/no-such-dir: No such file or directory"
    fetch "$BASE/slow/100" "$BASE/ok" # a small body never needs the file
    expect_rc 0
}

# ---- light: a binary body and a terminal ----

t_binary_refused_on_a_terminal() { # needs fetchcli (/binary)
    on_tty "$BASE/binary" || return
    expect_rc 23; expect_error_line "$BASE/binary" "$BINARY_WARNING"
    expect_out_lacks "ary"
    on_tty -o - "$BASE/binary" || return
    expect_rc 0; expect_out_has "ary"
    on_tty "$BASE/ok" || return
    expect_rc 0; expect_out_has "$OK_BODY"
    fetch "$BASE/binary" # not a terminal: written as is
    expect_rc 0
    [ "$(tr -d '\000' <"$WORK/out" | wc -c)" -lt "$(wc -c <"$WORK/out")" ] ||
        fail "stdout has no NUL byte: [$(od -c "$WORK/out" | head -3)]"
}

# ---- light: every hop ----

t_include_every_hop() { # needs client (on_redirect)
    fetch -L -i "$BASE/r/2"
    expect_rc 0
    local got
    got=$(grep -a '^HTTP/1' "$WORK/out" | tr -d '\r' | tr '\n' '|')
    [ "$got" = "HTTP/1.1 302 Found|HTTP/1.1 302 Found|HTTP/1.1 200 OK|" ] ||
        fail "-L -i heads: got [$got], want the two 302s then the 200"
    [ "$(tail -n 1 "$WORK/out")" = "arrived" ] || fail "-L -i body: [$(show "$WORK/out")]"
    expect_out_lacks "redirecting"
}

t_verbose_every_hop() { # needs client (on_redirect)
    fetch -L -v "$BASE/r/1"
    expect_rc 0; expect_out "arrived"
    local got
    got=$(grep '^< HTTP/1' "$WORK/err" | tr '\n' '|')
    [ "$got" = $'< HTTP/1.1 302 Found\r|< HTTP/1.1 200 OK\r|' ] ||
        fail "-L -v heads, with their CR LF as sent: got [$got]"
    # each hop in order: its head's "<" lines, then its body's "*" line
    got=$(grep -E '^< HTTP/1|^\* Body complete' "$WORK/err" | cut -c1-16 | tr '\n' '|')
    [ "$got" = "< HTTP/1.1 302 F|* Body complete:|< HTTP/1.1 200 O|* Body complete:|" ] ||
        fail "-L -v order: got [$got], want each head before its body's line"
    # a hop not followed (too many redirects) still shows its head
    fetch -L -v --max-redirs 1 "$BASE/r/3"
    expect_rc 47
    got=$(grep -c '^< HTTP/1.1 302' "$WORK/err")
    [ "$got" = 2 ] || fail "-L -v --max-redirs 1: $got heads of 302 shown, want 2"
}

t_verbose_tags_each_url() {
    fetch -v "$BASE/ok" "$BASE/chunked"
    expect_rc 0
    expect_err_has "[#1] > GET /ok HTTP/1.1"; expect_err_has "[#2] > GET /chunked HTTP/1.1"
    expect_err_has "[#1] < HTTP/1.1 200 OK"; expect_err_has "[#2] < Transfer-Encoding: chunked"
    expect_err_has "[#2] * "
    fetch -v "$BASE/ok" # one URL: no tags
    expect_err_lacks "[#1]"
}

# ---- light: error lines ----

t_error_names_the_hop_that_failed() { # needs fetchcli (/redirect-to)
    local from="$BASE/redirect-to?status=302&url=https://127.0.0.1:1/x"
    fetch -L "$from"
    expect_rc 1; expect_error_line "$from -> https://127.0.0.1:1/x" "unsupported protocol"
    fetch -L "$BASE/redirect-to-ok" # no failure, no line
    expect_rc 0; expect_err_empty
}

t_error_malformed_url_says_why() {
    fetch "http://:80/"
    expect_rc 3; expect_error_line "http://:80/" "malformed URL"
    local why
    why=$(sed 's/^fetch: http:\/\/:80\/: //' "$WORK/err")
    [ -n "$why" ] && [ "$why" != "malformed URL" ] || fail "no reason why the URL is malformed: [$why]"
}

t_error_shortens_a_long_url() {
    local long
    long="http://127.0.0.1:$REFUSED/$(head -c 100000 /dev/zero | tr '\0' a)"
    fetch "$long"
    [ "$rc" != 0 ] || fail "a 100 KB URL to a refused port succeeded"
    local n
    n=$(wc -c <"$WORK/err")
    [ "$n" -lt 600 ] || fail "error line of $n bytes for a 100 KB URL: [$(show "$WORK/err")]"
    expect_err_has "fetch: http://127.0.0.1:$REFUSED/aaaa"; expect_err_has "bytes left out]...aaaa"
}

t_timeout_says_what_timed_out() {
    fetch -m 0.2 "$BASE/hang"
    expect_rc 28; expect_error_line "$BASE/hang" "timed out after 0.2 s (-m 0.2) while waiting for the head"
    fetch -m 0.3 "$BASE/slow-body" -o "$WORK/slow.bin"
    expect_rc 28; expect_error_line "$BASE/slow-body" "(-m 0.3) while receiving the body, "
    expect_err_has " bytes in"
    fetch --connect-timeout 0.2 "http://127.0.0.1:$BLACKHOLE/"
    expect_rc 28; expect_error_line "http://127.0.0.1:$BLACKHOLE/" "(--connect-timeout 0.2) while connecting"
}

# ---- light: -f, --fail-with-body, --max-redirs -1 ----

t_fail_include_writes_the_head() {
    fetch -f -i "$BASE/404"
    expect_rc 22; expect_out_has "HTTP/1.1 404 Not Found"; expect_out_lacks "not found"
    expect_error_line "$BASE/404" "404"
    fetch -f -I "$BASE/404"
    expect_rc 22; expect_out_has "HTTP/1.1 404 Not Found"
}

t_fail_with_body() { # needs fetchcli (--fail-with-body)
    fetch --fail-with-body "$BASE/404"
    expect_rc 22; expect_out "not found"; expect_error_line "$BASE/404" "404"
    fetch --fail-with-body "$BASE/ok"
    expect_rc 0; expect_out "$OK_BODY"
}

t_max_redirs_unlimited() { # needs fetchcli (--max-redirs -1)
    fetch -L --max-redirs -1 "$BASE/r/30"
    expect_rc 0; expect_out "arrived"
}

# ---- light: --retry ----

t_retry_transient_status() { # needs fetchcli (--retry, /retry/N/ID); waits 1 s
    local id=$RANDOM
    fetch --retry 1 -f "$BASE/retry/1/$id"
    expect_rc 0; expect_err_has "trying again in 1 s (1 retry left)" # counted as curl
    fetch -f "$BASE/retry/1/$((id + 1))" # no --retry: the 503 stands
    expect_rc 22
    fetch -s --retry 1 -f "$BASE/retry/1/$((id + 2))" # -s: no retry line
    expect_rc 0; expect_err_empty
}

t_retry_not_connection_refused() { # needs fetchcli (--retry)
    fetch --retry 3 "http://127.0.0.1:$REFUSED/"
    expect_rc 7; expect_error_line "http://127.0.0.1:$REFUSED/" "Connection refused"
}

t_retry_cannot_take_back_stdout() { # needs fetchcli (--retry); the body was already out
    fetch --retry 1 -m 0.3 "$BASE/slow-body"
    expect_rc 28; expect_err_has "not retried: "; expect_err_lacks "trying again"
}

t_retry_cuts_the_file_back() { # needs fetchcli (--retry); two tries of a timeout, 1 s apart
    fetch --retry 1 -m 0.3 -o "$WORK/part.bin" "$BASE/slow-body"
    expect_rc 28; expect_err_has "trying again in 1 s"
    local size
    size=$(stat -c %s "$WORK/part.bin")
    [ "$size" -lt 1638400 ] || fail "-o after two cut tries: $size bytes, want less than one body"
}

# ---- light: -O and the new exit codes ----

t_remote_name() { # needs fetchcli (-O)
    local abs
    abs=$(cd "$(dirname "$FETCH")" && pwd)/$(basename "$FETCH")
    mkdir -p "$WORK/dl"
    (cd "$WORK/dl" && "$abs" -O "$BASE/r/0?x=1#f" 2>"$WORK/err")
    rc=$?
    strip_asan_note "$WORK/err"
    expect_rc 0; expect_file "$WORK/dl/0" "arrived"
    (cd "$WORK/dl" && "$abs" -O "$BASE/" 2>"$WORK/err")
    rc=$?
    strip_asan_note "$WORK/err"
    expect_rc 23; expect_error_line "$BASE/" "no file name"
}

t_exit_61_unsupported_coding() { # needs client (HTTP_E_UNSUPPORTED_CODING) and url (parse.c: http_framing_of says -2 for gzip)
    fetch "$BASE/te-gzip"
    expect_rc 61; expect_error_line "$BASE/te-gzip" "Transfer-Encoding"
}

t_exit_26_unreadable_upload() { # fetchcli's -T says so before any request
    fetch -T "$WORK/no-such-file" "$BASE/echo-headers"
    expect_rc 26; expect_err_has "$WORK/no-such-file"
}

# ---- heavy: two 300 MB bodies behind a slow URL ----

h_two_big_bodies_wait_in_little_memory() { # needs fetchcli (/big/N, /slow/MS)
    local want got kib size
    "$FETCH" -s -o "$WORK/big300" "$BASE/big/300" 2>"$WORK/err"
    size=$(stat -c %s "$WORK/big300" 2>/dev/null || echo 0)
    [ "$size" = 314572800 ] || { fail "/big/300 with -o: $size bytes, want 314572800"; return; }
    want=$({ echo slow; cat "$WORK/big300"; echo "$OK_BODY"; cat "$WORK/big300"; } | sha256sum)
    rm -f "$WORK/big300"
    got=$("$RSS" "$FETCH" -s "$BASE/slow/1500" "$BASE/big/300" "$BASE/ok" "$BASE/big/300" \
          2>"$WORK/err" | sha256sum)
    strip_asan_note "$WORK/err"
    [ "$got" = "$want" ] ||
        fail "stdout is not slow + 300 MB + ok + 300 MB in order: sha256 [$got], want [$want]; stderr: [$(show "$WORK/err")]"
    kib=$(sed -n 's/^maxrss_kib //p' "$WORK/err")
    echo "   figure: 2 x 300 MB behind /slow/1500 to a pipe: peak RSS ${kib} KiB"
    # Under ASan the shadow memory and the quarantine of freed blocks count
    # as resident: the bound says nothing there, only the bytes are checked.
    if [ "$SANITIZE" = none ]; then
        [ "${kib:-999999}" -le 32768 ] || fail "peak RSS ${kib} KiB, want <= 32768 KiB"
    fi
}
