#!/usr/bin/env bash
# bench/gateway.sh: the seed's endpoint -- GET /path awaits GET
# UPSTREAM/path through one shared client -- in five programs, in one run:
#
#   gateway-asm, gateway-ucontext   examples/gateway, release builds
#   nginx-proxy                     nginx proxy_pass, upstream keepalive
#   go                              bench/gateway/peer.go, GOMAXPROCS=1
#   fastapi                         bench/gateway/peer_fastapi.py on uvicorn
#                                   + httpx (the seed's own stack)
#
# All in front of the same upstream (nginx, one worker: 13-byte and 16 KiB
# files), loaded with wrk -t1 at -c64 and -c1.  With two cores or more the
# program measured gets CPU 0 to itself; the upstream and wrk share CPU 1
# (as bench/compare pins).  Server CPU per request is the measured
# program's user + system time over the run (/proc/PID/stat) divided by
# the requests wrk completed.  Writes bench/results/GATEWAY.md.
#
# `bench/gateway.sh --soak [SECONDS]` instead runs gateway-asm alone under
# wrk -c64 for SECONDS (default 60), sampling its RSS every 5 s and counting
# its fds before the load, and after it once idle connections have closed:
# writes bench/results/GATEWAY_SOAK.md.
#
# Knobs: BA_BENCH_SECONDS per run (default 3), BA_BENCH_ROUNDS (default
# 3): the table holds each figure's median over the rounds.  Installs wrk, nginx,
# golang-go, python3-fastapi, python3-uvicorn and python3-httpx from
# Debian when missing; a peer that cannot be had is skipped, and said so.
set -uo pipefail
soak=0 soak_secs=60
if [ "${1:-}" = --soak ]; then
  soak=1
  soak_secs=${2:-60}
  case $soak_secs in ''|*[!0-9]*) echo "gateway.sh: --soak SECONDS: a whole number" >&2; exit 2;; esac
elif [ $# -gt 0 ]; then
  echo "usage: bench/gateway.sh [--soak [SECONDS]]" >&2; exit 2
fi
cd "$(dirname "$0")/.." || exit 1
root=$PWD
secs=${BA_BENCH_SECONDS:-3}
rounds=${BA_BENCH_ROUNDS:-3}
tmp=$(mktemp -d /tmp/bareawait-gateway.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
. bench/common.sh # say, ensure_pkg, busy_pct, release_builds

scripts/ensure-tools meson ninja curl || exit 1
ensure_pkg 'command -v wrk' wrk || exit 1
ensure_pkg 'command -v nginx' nginx-light || exit 1
have_go=1 have_fastapi=1
ensure_pkg 'command -v go' golang-go || have_go=0
for p in fastapi uvicorn httpx; do
  ensure_pkg "/usr/bin/python3 -c 'import $p'" "python3-$p" || have_fastapi=0
done

# ---- builds -------------------------------------------------------------
release_builds examples/gateway
if [ "$have_go" = 1 ]; then
  say "building bench/gateway/peer.go"
  (cd bench/gateway && HOME=$tmp GOCACHE=$tmp/gocache GOFLAGS=-mod=mod \
     go build -o "$tmp/peer-go" peer.go) >"$tmp/go.log" 2>&1 ||
    { say "go build failed: $(tail -3 "$tmp/go.log")"; have_go=0; }
fi

# ---- placement ----------------------------------------------------------
ncpu=$(nproc)
srv_pin=() other_pin=()
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
  srv_pin=(taskset -c 0) other_pin=(taskset -c 1)
fi
cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
machine="${cpu_model:-unknown CPU}, $ncpu cores, Linux $(uname -r)"
busy_before=$(busy_pct)

wait_up() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; return 1; }

# nginx_conf DIR PORT BODY: one worker, no master, the http block BODY.
nginx_conf() {
  mkdir -p "$1/body" "$1/proxy"
  cat >"$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  $3
}
EOF
}

up_port=18561 gw_port=18562
up=$tmp/upstream
mkdir -p "$up/www"
printf 'Hello, World!' >"$up/www/13"
head -c 16384 /dev/zero | tr '\0' 'x' >"$up/www/16k"
nginx_conf "$up" $up_port "server { listen 127.0.0.1:$up_port; root $up/www; location / { } }"
"${other_pin[@]}" nginx -p "$up" -c "$up/nginx.conf" -e "$up/error.log" >/dev/null 2>&1 &
pids+=($!)
wait_up "http://127.0.0.1:$up_port/13" || { say "the upstream nginx did not start"; exit 1; }
upstream=http://127.0.0.1:$up_port

# start_peer NAME: starts it on $gw_port, pinned; its pid in $peer_pid.
start_peer() {
  local d=$tmp/$1
  mkdir -p "$d"
  case $1 in
    gateway-*)
      "${srv_pin[@]}" "build-bench-${1#gateway-}/examples/gateway" --upstream "$upstream" \
        --listen 127.0.0.1:$gw_port >"$d/out" 2>&1 & ;;
    nginx-proxy)
      nginx_conf "$d" $gw_port "upstream up { server 127.0.0.1:$up_port; keepalive 64; }
  server { listen 127.0.0.1:$gw_port; location / { proxy_pass http://up;
    proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
      "${srv_pin[@]}" nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" >"$d/out" 2>&1 & ;;
    go)
      GOMAXPROCS=1 "${srv_pin[@]}" "$tmp/peer-go" -upstream "$upstream" \
        -listen 127.0.0.1:$gw_port >"$d/out" 2>&1 & ;;
    fastapi)
      (cd bench/gateway && UPSTREAM=$upstream exec "${srv_pin[@]}" /usr/bin/python3 -m uvicorn \
         peer_fastapi:app --host 127.0.0.1 --port $gw_port --log-level warning \
         --no-access-log) >"$d/out" 2>&1 & ;;
  esac
  peer_pid=$!
  pids+=("$peer_pid")
  wait_up "http://127.0.0.1:$gw_port/13"
}

stop_peer() {
  kill "$peer_pid" 2>/dev/null
  wait "$peer_pid" 2>/dev/null
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$gw_port") 2>/dev/null || return 0; sleep 0.05; done
}

# The process's user + system CPU time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

to_us() { awk -v t="$1" 'BEGIN{v=t+0; if (t~/us$/) print v; else if (t~/ms$/) print v*1000;
                          else if (t~/s$/) print v*1e6; else print ""}'; }

# measure NAME BODY CONNS: one wrk run, one line of $tmp/runs.tsv:
#   name body conns req/s p50_us p99_us cpu_us/req errors round
measure() {
  local out=$tmp/wrk-$1-$2-$3 t0 t1
  t0=$(cpu_ticks "$peer_pid")
  "${other_pin[@]}" wrk -t1 -c"$3" -d"${secs}s" --latency "http://127.0.0.1:$gw_port/$2" \
    >"$out" 2>&1
  t1=$(cpu_ticks "$peer_pid")
  local rps req p50 p99 err cpu
  rps=$(awk '/^Requests\/sec:/{print $2}' "$out")
  req=$(awk '/requests in/{print $1}' "$out")
  p50=$(to_us "$(awk '$1=="50%"{print $2}' "$out")")
  p99=$(to_us "$(awk '$1=="99%"{print $2}' "$out")")
  err=$(awk '/Socket errors/{gsub(/[^0-9 ]/," "); n=0; for(i=1;i<=NF;i++) n+=$i; print n}
             /Non-2xx/{print $NF}' "$out" | awk '{n+=$1} END{print n+0}')
  cpu=$(awk -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$req" \
        'BEGIN{printf "%.1f", n ? d / hz * 1e6 / n : 0}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$rps" "$p50" "$p99" "$cpu" \
    "$err" "${round:-1}" >>"$tmp/runs.tsv"
  say "$1 $2 c=$3: $rps req/s, p99 $p99 us, $cpu us CPU/request, $err errors"
}

rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }

# The soak: RSS samples under load, fds before and after.
if [ "$soak" = 1 ]; then
  start_peer "gateway-${backends[0]}" || { say "the gateway did not start"; exit 1; }
  fd0=$(fds "$peer_pid")
  "${other_pin[@]}" wrk -t1 -c64 -d"${soak_secs}s" --latency "http://127.0.0.1:$gw_port/16k" \
    >"$tmp/soak-wrk" 2>&1 &
  wrk_pid=$!
  samples=()
  for ((t = 0; t <= soak_secs; t += 5)); do
    samples+=("$t $(rss_kib "$peer_pid") $(fds "$peer_pid")")
    sleep 5
  done
  wait "$wrk_pid"
  fd_loaded=$(awk '{print $3}' <<<"${samples[2]}")
  # The gateway's connections close when wrk's do; its upstream pool's
  # idle connections when the client's idle timeout (5 s by default, see
  # http/client.h) runs out: wait up to 15 s for the count to come back.
  fd1=$(fds "$peer_pid") waited=0
  while [ "$fd1" -gt "$fd0" ] && [ "$waited" -lt 15 ]; do sleep 1; waited=$((waited + 1)); fd1=$(fds "$peer_pid"); done
  rss_end=$(rss_kib "$peer_pid")
  stop_peer
  out=$root/bench/results/GATEWAY_SOAK.md
  warm=$(awk '{print $2}' <<<"${samples[2]}")  # at 10 s: past warm-up
  peak=$(printf '%s\n' "${samples[@]:2}" | awk 'BEGIN{m=0} $2>m{m=$2} END{print m}')
  {
    echo "# The gateway under ${soak_secs} s of load: RSS and fds"
    echo
    echo "Made by \`bench/gateway.sh --soak $soak_secs\` on $(date -u '+%Y-%m-%d %H:%M UTC'): $machine."
    echo "gateway-${backends[0]} (release) in front of nginx (16 KiB body), wrk -t1 -c64 -d${soak_secs}s."
    echo "CPUs busy with other work before the run: ${busy_before}%."
    echo
    errs=$(awk '/Socket errors|Non-2xx/' "$tmp/soak-wrk" | sed 's/^ *//' | tr '\n' ' ')
    echo "wrk: $(awk '/requests in/' "$tmp/soak-wrk" | sed 's/^ *//'); ${errs:-no socket errors, no non-2xx answers}."
    echo
    echo "| s | RSS KiB | fds |"
    echo "|---|---|---|"
    printf '%s\n' "${samples[@]}" | awk '{printf "| %s | %s | %s |\n", $1, $2, $3}'
    echo
    echo "RSS at 10 s (past warm-up) ${warm} KiB, highest after it ${peak} KiB, after the load ${rss_end} KiB."
    echo "fds: ${fd0} before the load, ${fd_loaded} under it, ${fd1} ${waited} s after it ended."
  } >"$out"
  cat "$out"
  exit 0
fi

peers=()
for sw in "${backends[@]}"; do peers+=("gateway-$sw"); done
peers+=(nginx-proxy)
[ "$have_go" = 1 ] && peers+=(go)
[ "$have_fastapi" = 1 ] && peers+=(fastapi)
: >"$tmp/runs.tsv"
# Every peer runs at once, each on a port of its own (idle ones cost
# nothing), and the measures go round: each round takes every cell (body,
# C) of every peer in turn, so a moment of other load on this shared VM
# hits one round of each peer alike instead of one peer's whole series.
declare -A pid_of port_of
started=()
port=$gw_port
for p in "${peers[@]}"; do
  gw_port=$port
  if start_peer "$p"; then
    pid_of[$p]=$peer_pid port_of[$p]=$port
    started+=("$p")
  else
    say "$p did not start: $(tail -3 "$tmp/$p/out")"
    kill "$peer_pid" 2>/dev/null
  fi
  port=$((port + 1))
done
for p in "${started[@]}"; do
  for body in 13 16k; do # warm-up
    "${other_pin[@]}" wrk -t1 -c64 -d1s "http://127.0.0.1:${port_of[$p]}/$body" >/dev/null 2>&1
  done
done
for ((round = 1; round <= rounds; round++)); do
  say "round $round of $rounds"
  for body in 13 16k; do
    for c in 64 1; do
      for p in "${started[@]}"; do
        gw_port=${port_of[$p]} peer_pid=${pid_of[$p]}
        measure "$p" "$body" "$c"
      done
    done
  done
done

busy_after=$(busy_pct)

# ---- the report ---------------------------------------------------------
out=$root/bench/results/GATEWAY.md
mkdir -p "${out%/*}"
{
  echo "# The seed's endpoint, five ways: req/s, latency, server CPU"
  echo
  echo "Made by \`bench/gateway.sh\` (BA_BENCH_SECONDS=$secs) on $(date -u '+%Y-%m-%d %H:%M UTC'):"
  echo "$machine.  Upstream: nginx $(nginx -v 2>&1 | sed 's|.*/||'), one worker."
  echo "Load: wrk -t1 -cC -d${secs}s.  Pinned: the program measured on CPU 0;"
  echo "upstream and wrk on CPU 1 (nothing pinned on a 1-core machine)."
  echo "All peers up at once, each on its own port; $rounds rounds, each measuring every"
  echo "program at every body and C in turn.  Each figure is the median over the rounds;"
  echo "ratio = req/s over nginx-proxy's at the same body and C in the same round (median, and"
  echo "the lowest and highest of the rounds); errors are summed."
  echo "CPUs busy with other work: ${busy_before}% before the runs, ${busy_after}% after"
  echo "(above ~10%, the figures are noisy: compare ratios, not absolute values)."
  echo
  python3 - "$tmp/runs.tsv" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
ref = {(r[1], r[2], r[8]): float(r[3] or 0) for r in rows if r[0] == "nginx-proxy"}
cells = {}
for name, body, c, rps, p50, p99, cpu, err, rnd in rows:
    cells.setdefault((name, body, c), []).append((float(rps or 0), p50, p99, cpu, err, rnd))
def med(xs):
    xs = [float(x) for x in xs if x not in ("", None)]
    return statistics.median(xs) if xs else float("nan")
print("| program | body | C | req/s | ratio (lowest-highest) | p50 µs | p99 µs | CPU µs/req | errors |")
print("|---|---|---|---|---|---|---|---|---|")
for (name, body, c), ms in cells.items():
    ratios = [m[0] / ref[(body, c, m[5])] for m in ms if ref.get((body, c, m[5]))]
    ratio = "%.2f (%.2f-%.2f)" % (statistics.median(ratios), min(ratios), max(ratios)) if ratios else "-"
    print("| %s | %s | %s | %.0f | %s | %.0f | %.0f | %.1f | %d |" % (
        name, body, c, med([m[0] for m in ms]), ratio, med([m[1] for m in ms]),
        med([m[2] for m in ms]), med([m[3] for m in ms]), sum(int(m[4] or 0) for m in ms)))
PY
  echo
  echo "Peers: bench/gateway/peer.go (Go $(go version 2>/dev/null | awk '{print $3}'),"
  echo "GOMAXPROCS=1), bench/gateway/peer_fastapi.py (FastAPI"
  echo "$(/usr/bin/python3 -c 'import fastapi; print(fastapi.__version__)' 2>/dev/null), uvicorn, httpx),"
  echo "nginx proxy_pass with \`keepalive 64\` to the upstream."
} >"$out"
cat "$out"
