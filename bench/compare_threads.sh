# bench/compare_threads.sh: `bench/compare --threads`, sourced by
# bench/compare once its tools, build (the default backend, release),
# server and helpers are ready: the server has 2 workers (nginx) or 2
# threads (bench/serve -t 2), and nothing is pinned.
#
# Four clients at 64 connections on the 13-byte body, taking turns (one
# later each round) for BA_BENCH_ROUNDS rounds of BA_BENCH_SECONDS:
#   wrk -t1 -c64, wrk -t2 -c64, httpload -t 1 -c 64, httpload -t 2 -c 64.
# CPU per request: wrk's from the kernel's rusage of the child (cpu_run,
# over its whole run), httpload's own getrusage over its measured window.
# Prints the medians and ratios and writes bench/results/THREADS.md.
# Not a file to run by itself: it uses bench/compare's variables and
# functions (record_wrk, record_httpload, medians, fig, verdict, say).

[ "$have_wrk" = 1 ] || { say "--threads needs wrk"; exit 1; }
sw=${backends[0]}
conns=64
tclients=(wrk-t1 wrk-t2 "httpload-$sw-t1" "httpload-$sw-t2")
say "threads: ${tclients[*]}, $conns connections, $rounds rounds of ${secs}s, nothing pinned"
for round in $(seq "$rounds"); do
  n=${#tclients[@]}
  for i in $(seq 0 $((n - 1))); do
    client=${tclients[$(((i + round) % n))]}
    t=${client##*-t}
    case $client in
      wrk-*) record_wrk 13 "$conns" "$round" "$url13" "$t" ;;
      httpload-*) record_httpload "$sw" 13 "$conns" "$round" "$url13" "$t" ;;
    esac
  done
done
medians

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# One row per thread count: wrk's and ours, req/s and CPU us/request.
: >"$tmp/threads-table.tsv"
for t in 1 2; do
  w_rps=$(fig wrk-t$t 13 $conns rps) h_rps=$(fig "httpload-$sw-t$t" 13 $conns rps)
  w_cpu=$(fig wrk-t$t 13 $conns cpu) h_cpu=$(fig "httpload-$sw-t$t" 13 $conns cpu)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$w_rps" "$h_rps" "$(ratio "$h_rps" "$w_rps")" \
    "$w_cpu" "$h_cpu" "$(ratio "$h_cpu" "$w_cpu")" >>"$tmp/threads-table.tsv"
done
print_threads_table() { # $1 = md for Markdown
  awk -F'\t' -v md="$1" -v sw="$sw" '
    BEGIN { if (md) { print "| threads | wrk req/s | httpload req/s | ours / wrk | wrk CPU us/req | httpload CPU us/req | ours / wrk |"
                      print "|--:|--:|--:|--:|--:|--:|--:|" }
            else printf "%-8s %10s %14s %10s %12s %15s %10s\n", "threads", "wrk req/s",
                        "httpload req/s", "ours/wrk", "wrk CPU/req", "httpload CPU/req", "ours/wrk" }
    { if (md) printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7
      else printf "%-8s %10s %14s %10s %12s %15s %10s\n", $1, $2, $3, $4, $5, $6, $7 }
  ' "$tmp/threads-table.tsv"
}
{
  echo "- httpload -t 2, req/s >= wrk -t2's: $(verdict "$(fig "httpload-$sw-t2" 13 $conns rps)" "$(fig wrk-t2 13 $conns rps)" 1)"
  echo "- httpload -t 2, CPU/req <= wrk -t2's: $(verdict "$(fig "httpload-$sw-t2" 13 $conns cpu)" "$(fig wrk-t2 13 $conns cpu)" 1 le)"
  echo "- httpload -t 1 / wrk -t1, req/s: $(ratio "$(fig "httpload-$sw-t1" 13 $conns rps)" "$(fig wrk-t1 13 $conns rps)")x;" \
       "CPU/req: $(ratio "$(fig "httpload-$sw-t1" 13 $conns cpu)" "$(fig wrk-t1 13 $conns cpu)")x"
  echo "- -t 2 / -t 1, req/s: httpload $(ratio "$(fig "httpload-$sw-t2" 13 $conns rps)" "$(fig "httpload-$sw-t1" 13 $conns rps)")x," \
       "wrk $(ratio "$(fig wrk-t2 13 $conns rps)" "$(fig wrk-t1 13 $conns rps)")x"
} >"$tmp/threads-targets.txt"

elapsed=$(($(date +%s) - started))
busy_after=$(busy_pct)
print_threads_table "" >&2
echo >&2
cat "$tmp/threads-targets.txt" >&2
say "bench/compare --threads took ${elapsed}s; wrote bench/results/THREADS.md"
{
  echo "# bench/compare --threads: latest results"
  echo
  echo "- date: $when"
  echo "- machine: $machine"
  echo "- pinning: none (the kernel places server and client threads)"
  echo "- server: $server"
  echo "- each client run: ${secs}s, $rounds rounds taking turns, median kept"
  echo "- build: build-bench-$sw, meson --buildtype=release"
  echo "- CPU busy with other work (over 1 s, all cores) before the runs: ${busy_before}%; after: ${busy_after}%"
  echo "- took ${elapsed}s"
  echo
  echo "Ratios are httpload / wrk, measured in this one run, $conns connections,"
  echo "13-byte body.  CPU per request: wrk's from the kernel's rusage of the"
  echo "child over its whole run (the shell's \`times\`), httpload's own"
  echo "getrusage over its measured window (after the warm-up)."
  echo
  print_threads_table md
  echo
  echo "## Targets"
  echo
  cat "$tmp/threads-targets.txt"
  echo
  echo "## Commands"
  echo
  echo '```'
  echo "nginx -p DIR -c DIR/nginx.conf   # worker_processes $server_threads; access_log off; keepalive_requests 1000000000"
  echo "wrk -t{1,2} -c$conns -d${secs}s --latency $url13"
  echo "build-bench-$sw/bench/httpload -t {1,2} -c $conns -d $secs --json $url13"
  echo '```'
  echo
  echo "## Every run"
  echo
  echo "| client | body | conns | round | req/s | CPU us/req | p50 us | p99 us | errors |"
  echo "|---|---|--:|--:|--:|--:|--:|--:|--:|"
  awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1,$2,$3,$4,$5,$6,$7,$8,$9}' "$tmp/runs.tsv"
} >"$results/THREADS.md"
