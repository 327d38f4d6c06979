#!/usr/bin/env bash
# test_symbols.sh LIB.a... : the libraries define no global symbol outside
# the public prefixes.  A user's own `resolve()` or `int sched` must neither
# replace the library's nor clash with it, so every name a static library
# exports is coro_, io_, http_ (the API) or ba_ (internals shared between
# the library's files).  Prints each offending name with its object file.
set -uo pipefail
nm_tool=${NM:-nm}
command -v "$nm_tool" >/dev/null || { echo "no nm: skipped"; exit 77; }
bad=0
for lib in "$@"; do
  # nm -A: "lib.a:obj.o: 0000 T name"; only defined globals (upper case)
  while read -r where type name; do
    case "$name" in
      coro_*|io_*|http_*|ba_*) ;;
      # what a sanitizer's instrumentation adds (ASan's one-definition-rule
      # markers, TSan's and UBSan's hooks) is the compiler's, not ours
      __odr_asan.*|__asan_*|__tsan_*|__ubsan_*|__sanitizer_*) ;;
      *) echo "$lib: ${where%:} defines $type $name, outside coro_ io_ http_ ba_"; bad=1 ;;
    esac
  done < <("$nm_tool" -A -g --defined-only "$lib" | awk 'NF >= 3 && $(NF-1) ~ /^[A-Z]$/ {print $1, $(NF-1), $NF}')
  n=$("$nm_tool" -g --defined-only "$lib" | awk 'NF >= 3 && $(NF-1) ~ /^[A-Z]$/' | wc -l)
  echo "$lib: $n global symbols"
  [ "$n" -gt 0 ] || { echo "$lib: no symbols at all: not the library?"; bad=1; }
done
exit $bad
