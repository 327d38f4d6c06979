#!/usr/bin/env bash
# bench/peers.sh: the scheduler against the runtimes one would pick
# instead, the same measures for each, in one run:
#
#   ours-asm, ours-ucontext  bench/sched --json (release builds)
#   boost                    bench/peers/boost.cpp: Boost.Context
#                            continuation (switch), Boost.Fiber (yield,
#                            spawn + join)
#   stackless                bench/peers/stackless.cpp: C++20 coroutines,
#                            symmetric transfer (the floor of a stackless
#                            await)
#   swapcontext              bench/peers/swapcontext.c: a bare glibc
#                            swapcontext pair (the ucontext backend's floor)
#   epoll                    bench/peers/epoll.c: a bare epoll loop (the
#                            floor of an fd wake)
#   go                       bench/peers/peers.go, GOMAXPROCS=1
#   asyncio, uvloop          bench/peers/peers.py
#
# Measures (unit: one one-way hand-off, in ns; a round trip counts two):
# one-way switch, yield between two through a scheduler, spawn + join, fd
# wake one way (pipe write -> the parked reader runs), and 1M parked
# (creation time and RSS per parked one, against the page-fault floor of
# 1M fresh pages measured by bench/sched --million in the same run).
#
#   bench/peers.sh           about 3 minutes on a 2-core VM
#   bench/peers.sh --quick   seconds: tiny counts, one round, no million;
#                            a smoke test (scripts/test), peers that are
#                            not installed are skipped, and said so
#
# Each program runs once per round, the programs taking turns (each round
# starts one later), every program pinned to the same core; each program
# keeps the median of its own inner rounds, and the report the median of
# the rounds.  Writes bench/results/PEERS.md, PEERS.json and PEERS.svg
# (--quick writes them to /tmp/bareawait-peers-quick/ instead).
# Knobs: BA_BENCH_ROUNDS (default 3).
set -uo pipefail
quick=0
case "${1:-}" in
  "") ;;
  --quick) quick=1 ;;
  *) echo "usage: bench/peers.sh [--quick]" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.." || exit 1
root=$PWD
started=$(date +%s)
rounds=${BA_BENCH_ROUNDS:-3}
[ "$quick" = 1 ] && rounds=1
tmp=$(mktemp -d /tmp/bareawait-peers.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
. bench/common.sh # say, ensure_pkg, busy_pct, release_builds
no_install=$quick
out=$root/bench/results
if [ "$quick" = 1 ]; then out=/tmp/bareawait-peers-quick; fi
mkdir -p "$out"

# ---- tools --------------------------------------------------------------

scripts/ensure-tools meson ninja || exit 1
ensure_pkg 'command -v g++' g++
# The headers alone do not say: libboost-context-dev brings every Boost
# header, libboost_fiber.so comes with libboost-fiber-dev.  Ask the linker.
have_lib() { [ "$(g++ -print-file-name="$1" 2>/dev/null)" != "$1" ]; }
ensure_pkg 'have_lib libboost_context.so' libboost-context-dev
ensure_pkg 'have_lib libboost_fiber.so' libboost-fiber-dev
ensure_pkg 'command -v go' golang-go
ensure_pkg '/usr/bin/python3 -c "import uvloop"' python3-uvloop

# ---- builds -------------------------------------------------------------

release_builds bench/sched

# The peers' builds: the flags are stated in the report.
cflags="-O2 -march=x86-64 -Wall -Wextra -Werror"
[ "$(uname -m)" = x86_64 ] || cflags="-O2 -Wall -Wextra -Werror"
cxxflags="$cflags"
bin=$tmp/bin
mkdir -p "$bin"
skipped=()
programs=()
for sw in "${backends[@]}"; do programs+=("ours-$sw"); done
build_peer() { # build_peer NAME COMMAND...: adds NAME to programs if it builds
  local name=$1; shift
  if "$@" >"$tmp/build-$name.log" 2>&1; then programs+=("$name")
  else skipped+=("$name (did not build: $(head -1 "$tmp/build-$name.log"))"); fi
}
p=bench/peers
if command -v g++ >/dev/null && have_lib libboost_fiber.so && have_lib libboost_context.so; then
  build_peer boost g++ -std=c++17 $cxxflags -o "$bin/boost" $p/boost.cpp -lboost_fiber -lboost_context
else
  skipped+=("boost (g++, libboost-context-dev or libboost-fiber-dev not installed)")
fi
if command -v g++ >/dev/null; then
  build_peer stackless g++ -std=c++20 $cxxflags -o "$bin/stackless" $p/stackless.cpp
else
  skipped+=("stackless (no g++)")
fi
build_peer swapcontext cc $cflags -o "$bin/swapcontext" $p/swapcontext.c
build_peer epoll cc $cflags -o "$bin/epoll" $p/epoll.c
go_version=  # set below if Go is there; its rows are left out if not
if command -v go >/dev/null; then
  mkdir -p "$tmp/go"
  cp $p/peers.go "$tmp/go/"
  build_peer go env GO111MODULE=off GOCACHE="$tmp/gocache" go build -o "$bin/go" "$tmp/go/peers.go"
  go_version=$(go version | awk '{print $3}')
else
  skipped+=("go (golang-go not installed)")
fi
programs+=(asyncio)
if /usr/bin/python3 -c 'import uvloop' 2>/dev/null; then programs+=(uvloop)
else skipped+=("uvloop (python3-uvloop not installed)"); fi
for s in "${skipped[@]}"; do say "skipped: $s"; done

# ---- the machine --------------------------------------------------------

pin=()
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then pin=(taskset -c 1); fi
cpu_model=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
machine="${cpu_model:-unknown CPU}, $ncpu cores, Linux $(uname -r)"
when=$(date -u '+%Y-%m-%d %H:%M UTC')
say "machine: $machine"
busy_before=$(busy_pct)
[ "$busy_before" -gt 10 ] &&
  say "the CPUs are ${busy_before}% busy before the runs: other work is running, the figures will be noisy"

# ---- running ------------------------------------------------------------

# Every figure is one line of $tmp/runs.tsv: program  key  round  value.
: >"$tmp/runs.tsv"
q=(); [ "$quick" = 1 ] && q=(--quick)
# run_program NAME ROUND [--million]: runs it, appends its "key value" lines.
run_program() {
  local name=$1 round=$2 extra=${3:-} o=$tmp/out-$1-$2${3:+-m}
  local cmd=()
  case $name in
    ours-*) cmd=("build-bench-${name#ours-}/bench/sched" "${q[@]}" --json ${extra:+--million}) ;;
    boost | stackless) cmd=("$bin/$name" "${q[@]}") ;;
    swapcontext) cmd=("$bin/swapcontext" $([ "$quick" = 1 ] && echo 10000 || echo 500000)) ;;
    epoll) cmd=("$bin/epoll" $([ "$quick" = 1 ] && echo 500 || echo 100000)) ;;
    go) cmd=(env GOMAXPROCS=1 "$bin/go" ${q:+-quick} ${extra:+-million}) ;;
    asyncio) cmd=(/usr/bin/python3 bench/peers/peers.py "${q[@]}" $extra) ;;
    uvloop) cmd=(/usr/bin/python3 bench/peers/peers.py --uvloop "${q[@]}" $extra) ;;
  esac
  # The million runs unpinned: coro_reserve's point is using every core.
  local how=("${pin[@]}")
  [ -n "$extra" ] && how=()
  if ! timeout 300 "${how[@]}" "${cmd[@]}" >"$o" 2>"$o.err"; then
    say "$name failed: $(head -3 "$o.err")"
    return 1
  fi
  case $name in # bench/sched prints JSON: "key": value -> key value
    ours-*) grep -oE '"[a-z_]+": *[-0-9.e+]+' "$o" | tr -d '":' ;;
    *) cat "$o" ;;
  esac | awk -v p="$name" -v r="$round" 'NF == 2 {printf "%s\t%s\t%s\t%s\n", p, $1, r, $2}' \
    >>"$tmp/runs.tsv"
}

n=${#programs[@]}
for round in $(seq "$rounds"); do
  say "round $round of $rounds: ${programs[*]}"
  for i in $(seq 0 $((n - 1))); do
    run_program "${programs[$(((i + round) % n))]}" "$round"
  done
done
if [ "$quick" = 0 ]; then # the million: once each, ours (asm), Go, asyncio
  for name in "ours-${backends[0]}" go asyncio; do
    case " ${programs[*]} " in *" $name "*) ;; *) continue ;; esac
    say "1M parked: $name"
    run_program "$name" M --million
  done
fi
elapsed=$(($(date +%s) - started))
busy_after=$(busy_pct)

# ---- the figures --------------------------------------------------------

# $tmp/median.tsv: program key median (million rounds "M" on their own).
awk -F'\t' '
  { k = $1 "\t" $2; n[k]++; v[k, n[k]] = $4 + 0 }
  END { for (k in n) { m = n[k]
          for (i = 1; i <= m; i++) a[i] = v[k, i]
          for (i = 2; i <= m; i++) for (j = i; j > 1 && a[j] < a[j-1]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
          printf "%s\t%s\n", k, m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 } }
' "$tmp/runs.tsv" | sort >"$tmp/median.tsv"
fig() { awk -F'\t' -v p="$1" -v k="$2" '$1 == p && $2 == k {print $3}' "$tmp/median.tsv"; }

# The table: measure, who, what exactly, value, unit.
: >"$tmp/table.tsv"
row() { # row MEASURE WHO WHAT PROGRAM KEY UNIT
  local v; v=$(fig "$4" "$5")
  [ -n "$v" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$v" "$6" >>"$tmp/table.tsv"
}
row switch "bareawait asm" "ba_switch_jump pair" ours-asm raw_switch_ns ns
row switch "bareawait ucontext" "ba_switch_jump pair" ours-ucontext raw_switch_ns ns
row switch "Boost.Context" "continuation::resume" boost switch_ns ns
row switch "swapcontext" "bare glibc pair" swapcontext switch_ns ns
row yield "bareawait asm" "coro_yield, two" ours-asm yield_ns ns
row yield "bareawait ucontext" "coro_yield, two" ours-ucontext yield_ns ns
row yield "Boost.Fiber" "this_fiber::yield" boost yield_ns ns
row yield "Go $go_version" "runtime.Gosched" go yield_ns ns
row yield "Go $go_version" "unbuffered chan, one way" go chan_ns ns
row yield "asyncio" "sleep(0)" asyncio yield_ns ns
row yield "uvloop" "sleep(0)" uvloop yield_ns ns
row yield "C++20 stackless" "symmetric transfer" stackless yield_ns ns
row spawn_join "bareawait asm" "coro_spawn + coro_join" ours-asm spawn_join_ns ns
row spawn_join "bareawait ucontext" "coro_spawn + coro_join" ours-ucontext spawn_join_ns ns
row spawn_join "Boost.Fiber" "fiber + join" boost spawn_join_ns ns
row spawn_join "Go $go_version" "go f() + chan receive" go spawn_join_ns ns
row spawn_join "asyncio" "await create_task" asyncio spawn_join_ns ns
row spawn_join "uvloop" "await create_task" uvloop spawn_join_ns ns
row spawn_join "C++20 stackless" "co_await a new task" stackless spawn_join_ns ns
row fd_wake "bareawait asm" "io_read parked, io_write" ours-asm fd_wake_ns ns
row fd_wake "bareawait ucontext" "io_read parked, io_write" ours-ucontext fd_wake_ns ns
row fd_wake "bareawait asm" "reads of exactly 1 byte" ours-asm fd_wake_exact_ns ns
row fd_wake "Go $go_version" "os.Pipe read parked" go fd_wake_ns ns
row fd_wake "asyncio" "add_reader future" asyncio fd_wake_ns ns
row fd_wake "uvloop" "add_reader future" uvloop fd_wake_ns ns
row fd_wake "bare epoll loop" "write, epoll_wait, read" epoll fd_wake_ns ns
ma=ours-${backends[0]}
row million_create "bareawait ${backends[0]}" "1M coro_spawn, each parks" "$ma" million_create_s s
row million_create "bareawait ${backends[0]}" "coro_reserve(1M) first" "$ma" million_reserved_create_s s
row million_create "Go $go_version" "1M goroutines on a chan" go million_create_s s
row million_create "asyncio" "1M tasks on a future" asyncio million_create_s s
row million_create "page-fault floor" "1M fresh pages touched" "$ma" million_floor_s s
mrss=$(fig "$ma" million_rss_bytes)
[ -n "$mrss" ] && printf 'parked_bytes\tbareawait %s\t1M parked, RSS each\t%.0f\tbytes\n' \
  "${backends[0]}" "$(awk -v b="$mrss" 'BEGIN{print b / 1e6}')" >>"$tmp/table.tsv"
row parked_bytes "bareawait ${backends[0]}" "100k parked, RSS each" "$ma" bytes_per_parked bytes
row parked_bytes "Go $go_version" "1M parked, RSS each" go million_bytes bytes
row parked_bytes "asyncio" "1M parked, RSS each" asyncio million_bytes bytes

boost_switch=$(fig boost switch_ns)
# Each row's ratio: to Boost.Context's raw switch for the ns rows, to the
# page-fault floor for the million, none for bytes.
floor=$(fig "$ma" million_floor_s)
print_table() { # print_table md|text
  awk -F'\t' -v md="$1" -v bs="$boost_switch" -v fl="$floor" '
    function ratio(u, x) { if (u == "ns" && bs + 0 > 0) return sprintf("%.2f", x / bs)
                           if (u == "s" && fl + 0 > 0) return sprintf("%.2f", x / fl); return "-" }
    BEGIN { if (md) { print "| measure | who | what | value | unit | / Boost.Context switch (ns rows), / page-fault floor (s rows) |"
                      print "|---|---|---|--:|---|--:|" }
            else printf "%-15s %-20s %-27s %10s %-5s %7s\n", "measure", "who", "what", "value", "unit", "ratio" }
    { if (md) printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, ratio($5, $4)
      else printf "%-15s %-20s %-27s %10s %-5s %7s\n", $1, $2, $3, $4, $5, ratio($5, $4) }' "$tmp/table.tsv"
}

# ---- the targets (issue 15) ----------------------------------------------

verdict() { # verdict OURS BASE FACTOR: "met (R x)" if OURS <= FACTOR * BASE
  awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN {
    if (a == "" || b == "" || b + 0 == 0) { print "not measured"; exit }
    printf "%s (%.2fx, target <= %sx)", a + 0 <= f * b ? "met" : "MISSED", a / b, f }'
}
{
  echo "- raw one-way switch (asm) <= 1.0x Boost.Context's: $(verdict "$(fig ours-asm raw_switch_ns)" "$boost_switch" 1.0)"
  echo "- yield (asm) <= 1.3x Boost.Context's raw switch: $(verdict "$(fig ours-asm yield_ns)" "$boost_switch" 1.3)"
  echo "- spawn + join (asm, pooled stack) <= 5x Boost.Context's raw switch: $(verdict "$(fig ours-asm spawn_join_ns)" "$boost_switch" 5)"
  echo "- fd wake (asm) <= 1.15x the bare epoll loop: $(verdict "$(fig ours-asm fd_wake_ns)" "$(fig epoll fd_wake_ns)" 1.15)"
  echo "- yield (ucontext) <= 1.1x the bare swapcontext pair: $(verdict "$(fig ours-ucontext yield_ns)" "$(fig swapcontext switch_ns)" 1.1)"
  if [ -n "$floor" ]; then
    echo "- 1M parked, one thread, <= 1.1x the page-fault floor: $(verdict "$(fig "$ma" million_create_s)" "$floor" 1.1)"
    echo "- 1M parked after coro_reserve on $(fig "$ma" reserve_cores) cores <= 0.7x the floor: $(verdict "$(fig "$ma" million_reserved_create_s)" "$floor" 0.7)"
    echo "- memory per parked <= 4.2 KiB: $(verdict "$(awk -v b="$mrss" 'BEGIN{print b / 1e6}')" 4300.8 1)"
  fi
} >"$tmp/targets.txt"

# ---- PEERS.json -----------------------------------------------------------

{
  printf '{"date": "%s", "machine": "%s", "busy_before_pct": %s, "busy_after_pct": %s,\n' \
    "$when" "$machine" "$busy_before" "$busy_after"
  printf ' "rounds": %s, "quick": %s, "seconds": %s, "pinning": "%s",\n' "$rounds" \
    "$([ "$quick" = 1 ] && echo true || echo false)" "$elapsed" "${pin[*]:-none}"
  printf ' "rows": [\n'
  awk -F'\t' '{ printf "%s  {\"measure\": \"%s\", \"who\": \"%s\", \"what\": \"%s\", \"value\": %s, \"unit\": \"%s\"}",
                (NR > 1 ? ",\n" : ""), $1, $2, $3, $4, $5 } END { print "" }' "$tmp/table.tsv"
  printf ' ],\n "runs": [\n'
  awk -F'\t' '{ printf "%s  {\"program\": \"%s\", \"key\": \"%s\", \"round\": \"%s\", \"value\": %s}",
                (NR > 1 ? ",\n" : ""), $1, $2, $3, $4 } END { print "" }' "$tmp/runs.tsv"
  printf ' ]}\n'
} >"$out/PEERS.json"

# ---- PEERS.svg: one panel per ns measure, log-scale horizontal bars ----

awk -F'\t' -v title="bareawait bench/peers.sh, $when" -v sub_="$machine" '
  function lg(x) { return log(x) / log(10) }
  $5 == "ns" { if (!($1 in seen)) { seen[$1] = 1; order[++np] = $1 }
               nr[$1]++; who[$1, nr[$1]] = $2 " (" $3 ")"; val[$1, nr[$1]] = $4 + 0
               if (!lo || $4 + 0 < lo) lo = $4 + 0; if ($4 + 0 > hi) hi = $4 + 0 }
  END {
    name["switch"] = "one-way switch"; name["yield"] = "yield between two, one way"
    name["spawn_join"] = "spawn + join"; name["fd_wake"] = "fd wake, one way"
    L = int(lg(lo)); if (L > lg(lo)) L--; H = int(lg(hi)) + 1
    W = 960; x0 = 330; PW = W - x0 - 80; bh = 16; y = 70
    for (p = 1; p <= np; p++) y += 30 + nr[order[p]] * (bh + 4)
    printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">\n", W, y + 30
    printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
    printf "<text x=\"10\" y=\"22\" font-size=\"16\" font-weight=\"bold\">%s</text>\n", title
    printf "<text x=\"10\" y=\"40\" fill=\"#444\">%s; ns per one-way hand-off, log scale, lower is better</text>\n", sub_
    for (d = L; d <= H; d++) {
      gx = x0 + (d - L) / (H - L) * PW
      printf "<line x1=\"%.1f\" y1=\"50\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>", gx, gx, y
      printf "<text x=\"%.1f\" y=\"62\" text-anchor=\"middle\" fill=\"#666\">%s ns</text>\n", gx, 10 ^ d }
    y = 70
    for (p = 1; p <= np; p++) {
      m = order[p]; y += 20
      printf "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>\n", y, name[m]; y += 6
      for (i = 1; i <= nr[m]; i++) {
        v = val[m, i]; w = (lg(v) - L) / (H - L) * PW
        c = index(who[m, i], "bareawait") == 1 ? "#1f77b4" : "#999999"
        printf "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>", x0 - 6, y + 12, who[m, i]
        printf "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>", x0, y, w, bh, c
        printf "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%.1f</text>\n", x0 + w + 4, y + 12, v
        y += bh + 4 } }
    print "</svg>" }' "$tmp/table.tsv" >"$out/PEERS.svg"

# ---- PEERS.md -------------------------------------------------------------

print_table text >&2
echo >&2
cat "$tmp/targets.txt" >&2
{
  echo "# bench/peers.sh: the scheduler against its peers"
  echo
  echo "- date: $when"
  echo "- machine: $machine"
  echo "- CPU busy with other work (over 1 s, all cores) before the runs: ${busy_before}%; after: ${busy_after}%$([ "$busy_before" -gt 10 ] && echo " -- the machine was loaded: compare ratios, not absolute figures")"
  echo "- $rounds rounds; in each every program runs once, taking turns (each round starts one later); each program keeps the median of its own inner rounds (bench/sched 5, the peers 5, peers.py 3), this table the median of the rounds. The million: one run each, bench/sched's the median of its own 3"
  echo "- pinning: $([ ${#pin[@]} -gt 0 ] && echo "every program on core 1 (${pin[*]}), but the million runs (unpinned: coro_reserve uses every core); Go with GOMAXPROCS=1" || echo "none (one core); Go with GOMAXPROCS=1")"
  echo "- unit: one one-way hand-off (a round trip counts two: switch, Go's channel, fd wake); yield: per coro_yield / Gosched / sleep(0) with two taking turns; spawn + join: per task"
  echo "- fd wake: a one-byte write to a pipe, and every reader's read asks for 64 bytes and gets that byte; a short read tells bareawait's io_read the pipe is empty, so its next read waits for epoll first instead of trying. The row \"reads of exactly 1 byte\" asks for the one byte (a full read says nothing: io_read tries first and gets EAGAIN, a fourth system call per wake)"
  echo "- the timing loop's own cost (a counted loop, under a nanosecond) is not subtracted, for anyone"
  echo "- builds: bareawait meson --buildtype=release (build-bench-asm, build-bench-ucontext: gcc -O3); peers: cc/g++ $cflags (C++17 Boost, C++20 stackless), Go ${go_version:-absent} go build, /usr/bin/python3 $(/usr/bin/python3 -V 2>&1 | awk '{print $2}')"
  echo "- bench/peers.sh took ${elapsed}s"
  [ ${#skipped[@]} -gt 0 ] && printf -- '- skipped: %s\n' "${skipped[@]}"
  echo
  print_table md
  echo
  echo "The page-fault floor: bench/sched --million touching one fresh page in each of a million (spaced a default 64 KiB stack and its guard page apart, in one mapping), in the same process as the million parked."
  echo
  echo "## Targets (issue 15)"
  echo
  cat "$tmp/targets.txt"
  echo
  echo "![chart](PEERS.svg)"
  echo
  echo "## Commands"
  echo
  echo '```'
  echo "bench/peers.sh$([ "$quick" = 1 ] && echo " --quick")"
  echo "${pin[*]} build-bench-{asm,ucontext}/bench/sched --json     (and, unpinned, build-bench-${backends[0]}/bench/sched --json --million)"
  echo "${pin[*]} boost; stackless; swapcontext 500000; epoll 100000   # bench/peers/*.c*, built as above"
  echo "GOMAXPROCS=1 ${pin[*]} go          (and, unpinned, -million)   # bench/peers/peers.go"
  echo "${pin[*]} /usr/bin/python3 bench/peers/peers.py [--uvloop]   (and, unpinned, --million)"
  echo '```'
  echo
  echo "## Every run"
  echo
  echo "| program | key | round | value |"
  echo "|---|---|---|--:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4}' "$tmp/runs.tsv"
} >"$out/PEERS.md"
say "bench/peers.sh took ${elapsed}s; wrote $out/PEERS.md, PEERS.json and PEERS.svg"
[ "$quick" = 1 ] && [ ! -s "$tmp/table.tsv" ] && { say "--quick: no figures"; exit 1; }
exit 0
