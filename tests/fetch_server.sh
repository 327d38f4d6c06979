# fetch_server.sh - sourced by test_fetch.sh and test_fetch_cli.sh: starts
# fetch_testserver ($SERVER) for the run and stops it, with $WORK, at exit.
# Sets PORT REFUSED BLACKHOLE PORT6 (see fetch_testserver.c) and BASE.
server_pid=

cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
    "$SERVER" 120 >"$WORK/ports" 2>"$WORK/server.err" &
    server_pid=$!
    for _ in $(seq 100); do
        [ -s "$WORK/ports" ] && break
        sleep 0.05
    done
    if ! read -r PORT REFUSED BLACKHOLE PORT6 <"$WORK/ports"; then
        echo "fetch_testserver did not start: $(cat "$WORK/server.err")" >&2
        exit 1
    fi
    BASE=http://127.0.0.1:$PORT
}
