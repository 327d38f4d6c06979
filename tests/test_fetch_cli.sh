#!/usr/bin/env bash
# test_fetch_cli.sh - fetch's command line as curl users rely on it, one
# row per behaviour, against fetch_testserver.
#
#     test_fetch_cli.sh FETCH SERVER SANITIZE
#
# A row is
#
#     row NAME EXIT CHECK... -- FETCH-ARGUMENTS...
#
# A CHECK is one of
#     out=TEXT   stdout is TEXT             out:TEXT   stdout contains TEXT
#     !out:TEXT  stdout lacks TEXT          size=N     stdout is N bytes
#     err=TEXT   stderr is TEXT ("err=" : empty)
#     err:TEXT   stderr contains TEXT       !err:TEXT  stderr lacks TEXT
#     file:PATH|TEXT  PATH holds TEXT      nofile:PATH  PATH does not exist
#     in:TEXT    (not a check) TEXT is fetch's stdin
#     env:NAME=VALUE  (not a check) fetch runs with this in its environment
# A failed check prints the row and both sides.  Exit 0 when every row
# passed.
set -u

# Absolute: the rows run fetch in a directory of their own (for -O).
FETCH=$(realpath "$1") SERVER=$(realpath "$2") SANITIZE=$3
echo "   (build with sanitizer: $SANITIZE)"
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}halt_on_error=1:print_stacktrace=1"
# No proxy from the machine's environment may bend the rows.
unset http_proxy HTTP_PROXY https_proxy no_proxy NO_PROXY all_proxy ALL_PROXY
WORK=$(mktemp -d)
failures=0 rows=0

. "$(dirname "${BASH_SOURCE[0]}")/fetch_server.sh" # start_server, cleanup at exit

# ---- running fetch ----

show() { head -c 800 "$1" | cat -v; }

# run_fetch STDIN ENV... -- ARGS: fetch in $WORK/cwd; $rc, $WORK/out, $WORK/err.
run_fetch() {
    local input=$1 envs=()
    shift
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    (cd "$WORK/cwd" && printf '%s' "$input" | env "${envs[@]}" "$FETCH" "$@" \
        >"$WORK/out" 2>"$WORK/err")
    rc=$?
    sed -i "/^==[0-9]*==WARNING: ASan doesn't fully support makecontext/d" "$WORK/err"
}

# ---- one row ----

bad() {
    echo "FAIL $name: $*" >&2
    echo "     fetch ${args[*]}" >&2
    failures=$((failures + 1))
}

# check SPEC: one CHECK of the row against what fetch did.
check() {
    local spec=$1 got path text
    case "$spec" in
        out=*) got=$(cat "$WORK/out")
               [ "$got" = "${spec#out=}" ] || bad "stdout: got [$(show "$WORK/out")], want [${spec#out=}]" ;;
        out:*) grep -qF -- "${spec#out:}" "$WORK/out" ||
               bad "stdout lacks [${spec#out:}]; stdout: [$(show "$WORK/out")]" ;;
        '!out:'*) ! grep -qF -- "${spec#!out:}" "$WORK/out" ||
               bad "stdout has [${spec#!out:}]; stdout: [$(show "$WORK/out")]" ;;
        size=*) got=$(wc -c <"$WORK/out")
               [ "$got" = "${spec#size=}" ] || bad "stdout: got $got bytes, want ${spec#size=}" ;;
        err=*) got=$(cat "$WORK/err")
               [ "$got" = "${spec#err=}" ] || bad "stderr: got [$(show "$WORK/err")], want [${spec#err=}]" ;;
        err:*) grep -qF -- "${spec#err:}" "$WORK/err" ||
               bad "stderr lacks [${spec#err:}]; stderr: [$(show "$WORK/err")]" ;;
        '!err:'*) ! grep -qF -- "${spec#!err:}" "$WORK/err" ||
               bad "stderr has [${spec#!err:}]; stderr: [$(show "$WORK/err")]" ;;
        file:*) path=${spec#file:}; text=${path#*|}; path=${path%%|*}
               got=$(cat "$path" 2>&1)
               [ "$got" = "$text" ] || bad "$path: got [$got], want [$text]" ;;
        nofile:*) [ ! -e "${spec#nofile:}" ] || bad "${spec#nofile:} exists" ;;
        in:*|env:*) ;;
        *) echo "bad CHECK [$spec] in $name" >&2; exit 2 ;;
    esac
}

# row NAME EXIT CHECK... -- ARGS...
row() {
    name=$1
    local want=$2 checks=() input="" envs=() c
    shift 2
    while [ "$1" != -- ]; do checks+=("$1"); shift; done
    shift
    args=("$@")
    rows=$((rows + 1))
    for c in "${checks[@]}"; do
        case "$c" in in:*) input=${c#in:} ;; env:*) envs+=("${c#env:}") ;; esac
    done
    rm -rf "$WORK/cwd" && mkdir "$WORK/cwd"
    run_fetch "$input" "${envs[@]}" -- "$@"
    [ "$rc" = "$want" ] || bad "exit code: got $rc, want $want; stderr: [$(show "$WORK/err")]"
    for c in "${checks[@]}"; do check "$c"; done
}

OK="hello from fetch_testserver"

# ---- the rows ----

rows_options() {
    local W=$WORK
    row "bundled -sSo FILE" 0 "out=" "err=" "file:$W/o1|$OK" -- -sSo "$W/o1" "$BASE/ok"
    row "bundled -sSoFILE" 0 "file:$W/o2|$OK" -- -sSo"$W/o2" "$BASE/ok"
    row "bundled -Lo-" 0 "out=$OK" -- -Lo- "$BASE/redirect-to-ok"
    row "bundled -fsSL" 0 "out=$OK" -- -fsSL "$BASE/redirect-to-ok"
    row "bundled -sSfL on a 404" 22 "out=" "err:404" -- -sSfL "$BASE/404"
    row "-S alone" 0 "out=$OK" -- -S "$BASE/ok"
    row "--show-error" 0 "out=$OK" -- --show-error "$BASE/ok"
    row "-Z / --parallel" 0 "out:$OK" "out:hello chunked" -- -Z "$BASE/ok" --parallel "$BASE/chunked"
    row "--url" 0 "out=$OK" -- --url "$BASE/ok"
    row "unknown long option" 2 "err:unknown option --bogus" -- --bogus "$BASE/ok"
    row "unknown short option" 2 "err:unknown option -q" -- -q "$BASE/ok"
    row "unknown option in a bundle" 2 "err:unknown option -j" -- -sjL "$BASE/ok"
    row "value missing at the end of a bundle" 2 "err:-o needs a value" -- -sSo
    row "-h lists the new options" 0 "out:--data-binary" "out:--write-out" "out:--globoff" \
        "out:--noproxy" "out:--fail-with-body" "out:--remote-name" "out:HTTP_PROXY" -- -h
    row "schemeless URL is http://" 0 "out=$OK" -- "127.0.0.1:$PORT/ok"
    row "--max-redirs -1 is no limit" 0 "out=arrived" -- -L --max-redirs -1 "$BASE/r/25"
    row "--max-redirs -2 is bad" 2 "err:--max-redirs" -- --max-redirs -2 "$BASE/ok"
    row "--retry bad" 2 "err:--retry" -- --retry many "$BASE/ok"
    row "-f with --fail-with-body" 2 "err:--fail-with-body" -- -f --fail-with-body "$BASE/ok"
    row "a body with NUL bytes" 0 size=263 -- "$BASE/binary"
}

rows_no_url() {
    row "no URL with -f -o" 2 "err:no URL specified" "out=" -- -f -o "$WORK/never"
    row "an empty URL (unset \$URL)" 2 "err:no URL specified" -- -fsS ""
    row "no URL with --parallel-max" 2 "err:no URL specified" -- --parallel-max 3
    row "no URL with -L" 2 "err:no URL specified" -- -L
    row "the demo with -s" 0 "out:Hello from the demo server" -- -s
    row "the demo with -v -s --trace" 0 "out:Hello from the demo server" "err:step 7" -- -v -s --trace
    row "the demo with -S" 0 "out:Hello from the demo server" -- -S
    # (what the files hold: test_fetch_trace.py)
    row "the demo with --timeline and --trace-json" 0 "out:Hello from the demo server" \
        "err:step 7" -- --timeline "$WORK/t.svg" --trace-json "$WORK/t.json"
    row "--timeline into a missing directory" 23 "err:--timeline $WORK/none/t.svg: cannot open" \
        "out=" -- --timeline "$WORK/none/t.svg"
    row "--trace-json into a missing directory" 23 \
        "err:--trace-json $WORK/none/t.json: cannot open" "out=" -- --trace-json "$WORK/none/t.json"
    row "--timeline needs a value" 2 "err:--timeline needs a value" -- --timeline
}

rows_globs() {
    local W=$WORK P=$BASE/p
    row "glob [1-3]" 0 $'out=1\n2\n3' -- "$P/[1-3]"
    row "glob [01-10] pads" 0 $'out=01\n02\n03\n04\n05\n06\n07\n08\n09\n10' -- "$P/[01-10]"
    row "glob [a-c]" 0 $'out=a\nb\nc' -- "$P/[a-c]"
    row "glob [1-10:4] steps" 0 $'out=1\n5\n9' -- "$P/[1-10:4]"
    row "glob {x,y}" 0 $'out=x\ny' -- "$P/{x,y}"
    row "two globs: rightmost fastest" 0 $'out=a1\na2\nb1\nb2' -- "$P/{a,b}[1-2]"
    row "-g: brackets are plain" 0 "out=[1-3]" -- -g "$P/[1-3]"
    row "--globoff: braces are plain" 0 "out={x,y}" -- --globoff "$P/{x,y}"
    row "escaped bracket" 0 "out=[1]" -- "$P/\\[1\\]"
    row "-o '#1' per URL" 0 "out=" "file:$W/g_1.txt|1" "file:$W/g_2.txt|2" -- \
        -o "$W/g_#1.txt" "$P/[1-2]"
    row "-o '#2-#1'" 0 "file:$W/h_x-1|1x" "file:$W/h_y-2|2y" "file:$W/h_x-2|2x" \
        "nofile:$W/h_1-x" -- -o "$W/h_#2-#1" "$P/[1-2]{x,y}"
    row "glob and a plain URL" 0 $'out=1\n2\n'"$OK" -- "$P/[1-2]" "$BASE/ok"
    row "bad glob: position" 3 "err:bad range in URL position" "err:$P/[1-" "err:^" -- "$P/[1-"
    row "bad glob: backwards range" 3 "err:bad range" -- "$P/[3-1]"
    row "bad glob: unmatched brace" 3 "err:unmatched brace" -- "$P/{a,b"
    row "bad glob: empty braces" 3 "err:empty braces {}" "err:position $((${#P} + 3))" -- "$P/{}"
    row "glob {a,} has an empty item" 0 "out=$P/a|$P/|" -- -s \
        -o "$W/empty-item#1" -w '%{url}|' "$P/{a,}"
    row "bad glob: nested" 3 "err:nested brace" -- "$P/{a,{b}}"
    row "glob cap" 3 "err:expands to more than 100000 URLs" -- "$P/[1-200000]"
    row "glob cap over two globs" 3 "err:expands to more than" -- "$P/[1-1000][1-1000]"
    row "IPv6 address is not a glob" 7 "!err:bad range" -- "http://[::1]:$REFUSED/"
}

rows_request() {
    local W=$WORK E=$BASE/echo
    printf 'a=1\r\nb=2\n' >"$W/form.txt"
    printf 'line1\r\nline2\n' >"$W/raw.txt"
    printf 'uploaded bytes\n' >"$W/up.txt"
    row "-A is User-Agent" 0 "out:User-Agent: agent/1.0" "!out:bareawait/" -- -A agent/1.0 "$E"
    row "-H User-Agent wins over -A" 0 "out:User-Agent: from-H" "!out:from-A" -- \
        -A from-A -H "User-Agent: from-H" "$E"
    row "-e is Referer" 0 "out:Referer: http://example.com/page" -- -e http://example.com/page "$E"
    row "-e 'URL;auto' is refused" 2 "err:fetch has no ';auto'" -- -e "http://x/;auto" "$E"
    row "-e ';auto' is refused" 2 "err:fetch has no ';auto'" -- -e ";auto" "$E"
    row "-H bad" 2 "err:-H wants" -- -H "no colon" "$E"
    row "-H with CR LF" 2 "err:-H wants" -- -H $'X-A: 1\r\nX-B: 2' "$E"
    row "-H 'Name:' removes a default" 0 "!out:Accept:" -- -H "Accept:" "$E"
    row "-H 'Name;' sends it empty" 0 "out:X-Empty:" -- -H "X-Empty;" "$E"
    row "-H 'Name; x' is bad" 2 "err:-H wants" -- -H "X-Empty; x" "$E"
    row "-X token" 0 "out:PATCH /echo HTTP/1.1" -- -X PATCH "$E"
    row "-X not a token" 2 "err:-X wants a method" -- -X "GE T" "$E"
    row "-X wins over -d" 0 "out:PUT /echo" "out:k=v" -- -X PUT -d k=v "$E"
    row "-I is HEAD" 0 "out:HTTP/1.1 200 OK" "!out:GET" -- -I "$E"
    row "-I with -d" 2 "err:-I with -d" -- -I -d x=1 "$E"
    row "-d with -T" 2 "err:-d with -T" -- -d x=1 -T "$W/up.txt" "$E"
    row "-d is a form POST" 0 "out:POST /echo HTTP/1.1" "out:Content-Length: 7" \
        "out:Content-Type: application/x-www-form-urlencoded" "out:a=1&b=2" -- -d a=1 --data b=2 "$E"
    row "-d with -H Content-Type" 0 "out:Content-Type: text/plain" \
        "!out:x-www-form-urlencoded" -- -H "Content-Type: text/plain" -d hi "$E"
    row "-d's type goes with the body on a 303" 0 "out:GET /echo HTTP/1.1" \
        "!out:Content-Type" "!out:a=1" -- -L -d a=1 "$BASE/redirect-to?status=303&url=/echo"
    row "-d's type stays on a 307" 0 "out:POST /echo HTTP/1.1" \
        "out:Content-Type: application/x-www-form-urlencoded" "out:a=1" -- \
        -L -d a=1 "$BASE/redirect-to?status=307&url=/echo"
    row "-H Content-Type stays on a 303, as curl" 0 "out:GET /echo HTTP/1.1" \
        "out:Content-Type: text/plain" -- -L -H "Content-Type: text/plain" -d a=1 \
        "$BASE/redirect-to?status=303&url=/echo"
    row "-H Content-Length is refused" 2 "err:-H Content-Length: fetch frames the request body" \
        -- -H "Content-Length: 5" -d hello "$E"
    row "-H transfer-encoding is refused" 2 "err:-H Transfer-Encoding" -- \
        -H "transfer-encoding: chunked" "$E"
    row "-H 'Content-Length:' is refused" 2 "err:-H Content-Length" -- -H "Content-Length:" "$E"
    row "-d @FILE drops CR and LF" 0 "out:a=1b=2" "out:Content-Length: 6" -- -d "@$W/form.txt" "$E"
    row "-d @- reads stdin" 0 "in:from=stdin" "out:from=stdin" -- -d @- "$E"
    row "-d @missing" 26 "err:cannot read $W/missing" -- -d "@$W/missing" "$E"
    row "--data-binary @FILE as it is" 0 "out:Content-Length: 13" "out:line1"$'\r' -- \
        --data-binary "@$W/raw.txt" "$E"
    row "--data-raw keeps @" 0 "out:@not-a-file" -- --data-raw @not-a-file "$E"
    row "-d '' is an empty POST" 0 "out:POST /echo" "out:Content-Length: 0" -- -d "" "$E"
    row "-T FILE is a PUT of it" 0 "out:PUT /echo HTTP/1.1" "out:Content-Length: 15" \
        "out:uploaded bytes" -- -T "$W/up.txt" "$E"
    printf 'x' >"$W/a b%.bin"
    row "-T FILE to a URL ending in / adds its name" 0 "out:PUT /echo/up.txt HTTP/1.1" -- \
        -T "$W/up.txt" "$E/"
    row "-T FILE: the name is percent-encoded, before the query" 0 \
        "out:PUT /echo/a%20b%25.bin?q=1 HTTP/1.1" -- -T "$W/a b%.bin" "$E/?q=1"
    row "-T FILE to a URL with no path" 0 "err:> PUT http://far.invalid/up.txt HTTP/1.1" -- \
        -v -o /dev/null -x "127.0.0.1:$PORT" -T "$W/up.txt" "http://far.invalid"
    row "-T FILE to a named path stays" 0 "out:PUT /echo/x HTTP/1.1" -- -T "$W/up.txt" "$E/x"
    local s
    for s in 307 308 301 302; do
        row "-T FILE -L across a $s sends it again" 0 "out:PUT /echo HTTP/1.1" \
            "out:uploaded bytes" -- -L -T "$W/up.txt" "$BASE/redirect-to?status=$s&url=/echo"
    done
    row "-T - -L across a 307: exit 65, the real status and URL" 65 "in:piped" \
        "err:the 307 redirect wants the request body again" "err: -> $BASE/echo:" -- \
        -sS -L -T - "$BASE/redirect-to?status=307&url=/echo"
    row "-T - reads stdin, chunked" 0 "in:piped in" "out:PUT /echo" \
        "out:Transfer-Encoding: chunked" "out:piped in" -- -T - "$E"
    row "-T missing" 26 "err:cannot read $W/nope" -- -T "$W/nope" "$E"
    row "-T a directory" 26 "err:Is a directory" -- -T "$W" "$E"
    row "-T - with two URLs" 2 "err:one URL only" -- -T - "$E" "$E"
    row "-u user:pass is Basic" 0 "out:Authorization: Basic dXNlcjpwYXNz" -- -u user:pass "$E"
    row "-u without a password" 2 "err:does not prompt" -- -u user "$E"
}

rows_output() {
    local W=$WORK
    printf '%s' '%{http_code} %{method}\n' >"$W/format.txt"
    row "-w variables" 0 "out=200 GET 6 $BASE/type 0 text/plain; charset=utf-8" -- \
        -s -o /dev/null -w '%{http_code} %{method} %{size_download} %{url_effective} %{num_redirects} %{content_type}' \
        "$BASE/type"
    row "-w after redirects" 0 "out=2 $BASE/r/0 200" -- \
        -sL -o /dev/null -w '%{num_redirects} %{url_effective} %{http_code}' "$BASE/r/2"
    row "-w the last one wins" 0 "out=second" -- -s -o /dev/null -w first -w second "$BASE/ok"
    row "-w after each URL" 0 $'out=[200]\n[404]' -- -s -o /dev/null -o /dev/null \
        -w '[%{http_code}]\n' "$BASE/ok" "$BASE/404"
    row "-w times" 0 "out:0." -- -s -o /dev/null -w '%{time_total}' "$BASE/ok"
    row "-w @FILE" 0 "out=200 GET" -- -s -o /dev/null -w "@$W/format.txt" "$BASE/ok"
    row "-w unknown variable" 0 "err:unknown --write-out variable: 'nope'" -- \
        -s -o /dev/null -w '%{nope}' "$BASE/ok"
    row "-w every unknown variable named" 0 "err:variable: 'nope'" "err:variable: 'nope2'" -- \
        -s -o /dev/null -w '%{nope}%{nope2}%{nope}' "$BASE/ok"
    row "-w after --max-redirs stops" 47 "out=302 1 $BASE/r/1" -- \
        -s -o /dev/null -L --max-redirs 1 -w '%{http_code} %{num_redirects} %{redirect_url}' "$BASE/r/3"
    row "-w %{method} is the last request's" 0 "out=GET 0" -- -s -o /dev/null -L -d a=1 \
        -w '%{method} %{size_upload}' "$BASE/redirect-to?status=303&url=/echo"
    row "-w %{redirect_url} without -L" 0 "out=$BASE/ok" -- -s -o /dev/null \
        -w '%{redirect_url}' "$BASE/redirect-to-ok"
    row "-w the connection" 0 "out=127.0.0.1 $PORT 1.1 HTTP 1" -- -s -o /dev/null \
        -w '%{remote_ip} %{remote_port} %{http_version} %{scheme} %{num_connects}' "$BASE/ok"
    row "-w per URL" 0 "out=0 $BASE/ok|1 $BASE/type|" -- -s -o /dev/null -o /dev/null \
        -w '%{urlnum} %{url}|' "$BASE/ok" "$BASE/type"
    row "-w %{filename_effective} and sizes" 0 "out=$W/wo.txt 15 2" -- -s -o "$W/wo.txt" \
        -T "$W/up.txt" -w '%{filename_effective} %{size_upload} %{size_download}' "$BASE/p/x"
    row "-w %header{name}" 0 "out=[text/plain; charset=utf-8][]" -- -s -o /dev/null \
        -w '[%header{content-type}][%header{x-none}]' "$BASE/type"
    # /echo's body is the request head as the server read it
    local head_size
    head_size=$("$FETCH" -s -A wo "$BASE/echo" | wc -c)
    row "-w %{size_request} is the head sent" 0 "out=$head_size" -- -s -o /dev/null -A wo \
        -w '%{size_request}' "$BASE/echo"
    row "-w a backslash stays, as curl 7.88" 0 'out=a\\b' -- -s -o /dev/null -w 'a\\b' "$BASE/ok"
    row "-w %{exitcode} on failure" 7 "out:7" -- -w '%{exitcode}' "http://127.0.0.1:$REFUSED/"
    row "-w @missing" 26 "err:cannot read $W/nope" -- -w "@$W/nope" "$BASE/ok"
    row "--fail-with-body writes the body" 22 "out:not found" -- --fail-with-body "$BASE/404"
    row "--retry 2 rides out two 503s" 0 "out=ok after 2" -- --retry 2 "$BASE/retry/2/cli-a"
    row "-O writes the URL's file name" 0 "file:$W/cwd/hello.txt|hello.txt" -- -O "$BASE/p/hello.txt"
    row "-O without a file name" 23 "err:its path ends in /" -- -O "$BASE/"
    row "-O on a URL with no path" 23 "err:-O: the URL has no file name to save to (it has no path)" \
        -- -O "$BASE"
    row "a head too large names the limit" 8 "err:over 64 KiB" "err:max_head_bytes" -- \
        "$BASE/headers-huge"
}

rows_proxy() {
    local W=$WORK far=http://far.invalid/echo
    local refused=127.0.0.1:$REFUSED
    row "-x host:port" 0 "out:GET $far HTTP/1.1" -- -x "127.0.0.1:$PORT" "$far"
    row "-x http://host:port" 0 "out:GET $far HTTP/1.1" -- -x "http://127.0.0.1:$PORT" "$far"
    row "http_proxy from the environment" 0 "env:http_proxy=127.0.0.1:$PORT" \
        "out:GET $far HTTP/1.1" -- "$far"
    row "HTTP_PROXY is ignored (httpoxy)" 0 "env:HTTP_PROXY=$refused" "out=$OK" -- "$BASE/ok"
    row "no_proxy bypasses http_proxy" 0 "env:http_proxy=$refused" "env:no_proxy=127.0.0.1" \
        "out=$OK" -- "$BASE/ok"
    row "NO_PROXY bypasses http_proxy" 0 "env:http_proxy=$refused" "env:NO_PROXY=127.0.0.1" \
        "out=$OK" -- "$BASE/ok"
    row "--noproxy '*'" 0 "env:http_proxy=$refused" "out=$OK" -- --noproxy '*' "$BASE/ok"
    row "-x '' overrides http_proxy" 0 "env:http_proxy=$refused" "out=$OK" -- -x "" "$BASE/ok"
    row "http_proxy is used" 7 "env:http_proxy=$refused" -- "$BASE/ok"
    local p
    for p in 127.0.0.1: :28189 http:// 127.0.0.1:99999 127.0.0.1:abc 'a b:1'; do
        row "-x '$p' is a bad proxy" 5 "err:-x: bad proxy URL '$p'" "!err:out of memory" -- \
            -x "$p" "$BASE/ok"
        row "http_proxy='$p' is a bad proxy" 5 "env:http_proxy=$p" \
            "err:http_proxy: bad proxy URL '$p'" -- "$BASE/ok"
    done
    row "bad proxy: password masked" 5 "!err:SECRET" "err:'http://u:***@:1'" -- \
        -x "http://u:SECRET@:1" "$BASE/ok"
    row "-x with a path is fine" 0 "out:GET $far HTTP/1.1" -- -x "127.0.0.1:$PORT/ignored" "$far"
    row "all_proxy after http_proxy" 0 "env:all_proxy=127.0.0.1:$PORT" \
        "out:GET $far HTTP/1.1" -- "$far"
    row "ALL_PROXY too" 0 "env:ALL_PROXY=127.0.0.1:$PORT" "out:GET $far HTTP/1.1" -- "$far"
    row "http_proxy wins over all_proxy" 0 "env:http_proxy=127.0.0.1:$PORT" \
        "env:all_proxy=$refused" "out:GET $far HTTP/1.1" -- "$far"
    row "-x wins over all_proxy" 0 "env:all_proxy=$refused" "out:GET $far HTTP/1.1" -- \
        -x "127.0.0.1:$PORT" "$far"
    row "no_proxy bypasses all_proxy" 0 "env:all_proxy=$refused" "env:no_proxy=127.0.0.1" \
        "out=$OK" -- "$BASE/ok"
    row "all_proxy is used" 7 "env:ALL_PROXY=$refused" -- "$BASE/ok"
    row "bad all_proxy" 5 "env:all_proxy=h:0" "err:all_proxy: bad proxy URL 'h:0'" -- "$BASE/ok"
    row "a refusing proxy is named" 7 "err:could not connect to proxy $refused: Connection refused" \
        -- -sS -x "$refused" "$far"
    row "an unknown proxy is exit 5" 5 "err:could not resolve proxy no-such-proxy.invalid:1" \
        -- -sS -x "no-such-proxy.invalid:1" "$far"
    row "an origin reached directly is not the proxy" 7 "err:could not connect: Connection refused" \
        "!err:proxy" -- -sS -x "127.0.0.1:$PORT" --noproxy 127.0.0.1 "http://$refused/"
    row "-x socks5:// is refused" 2 "err:plain http:// proxies only" -- -x socks5://h:1 "$BASE/ok"
}

# A password in a URL never reaches stderr, whatever prints the URL.
rows_secrets() {
    local S=u:SECRET@127.0.0.1 M='u:***@127.0.0.1'
    row "password masked: refused" 7 "!err:SECRET" "err:http://$M:$REFUSED/" -- \
        -sS "http://$S:$REFUSED/"
    row "password masked: -f 404" 22 "!err:SECRET" "err:http://$M:$PORT/404" -- \
        -sSf "http://$S:$PORT/404"
    row "password masked: redirect chain" 22 "!err:SECRET" "err: -> " "err:$M" -- \
        -sSfL "http://$S:$PORT/redirect-to?url=/404"
    row "password masked: -v" 0 "!err:SECRET" "err:Following the redirect" -- \
        -v -o /dev/null -L "http://$S:$PORT/redirect-to-ok"
    row "password masked: --trace" 0 "!err:SECRET" "err:http_send(GET http://$M" -- \
        --trace -o /dev/null -L "http://$S:$PORT/redirect-to-ok"
    row "password masked: -v through a proxy" 0 "!err:SECRET" "err:> GET http://127.0.0.1" -- \
        -v -o /dev/null -x "127.0.0.1:$PORT" "http://$S:$PORT/ok"
    row "password masked: schemeless glob error" 3 "!err:SECRET" "err:$M" -- \
        -sS "$S:1/[1-"
    row "password masked: --retry, counted as curl" 0 "!err:SECRET" "err:(2 retries left)" \
        "err:$M" -- --retry 2 -f "http://$S:$PORT/retry/1/mask"
    row "user name alone is kept" 7 "err:http://user@127.0.0.1" -- -sS "http://user@127.0.0.1:$REFUSED/"
}

# -m bounds a -T - whose pipe never ends: fetch's stdin is a FIFO it
# holds the write end of itself, so no end of file ever comes.
upload_pipe_never_ends() {
    name="-T - from an endless pipe stops at -m" args=(-sS -m 0.5 -T - "$BASE/echo")
    rows=$((rows + 1))
    mkfifo "$WORK/fifo"
    "$FETCH" "${args[@]}" <>"$WORK/fifo" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ "$rc" = 28 ] || bad "exit code: got $rc, want 28; stderr: [$(show "$WORK/err")]"
    check "err:timed out after"
}

start_server
mkdir "$WORK/cwd"
upload_pipe_never_ends
for group in rows_options rows_no_url rows_globs rows_request rows_output rows_proxy rows_secrets; do
    echo "-- $group"
    "$group"
done
name=server
args=()
kill -0 "$server_pid" 2>/dev/null || bad "fetch_testserver died: $(cat "$WORK/server.err")"
echo "$rows rows run, $failures failed check(s)"
[ "$failures" -eq 0 ]
