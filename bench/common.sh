# bench/common.sh - what the bench scripts share (sourced by gateway.sh and
# peers.sh): messages, installing a Debian package when missing, how busy
# the machine is, and the release builds.  The caller sets $tmp (a
# temporary directory, for logs) before using them.

say() { printf '== %s\n' "$*" >&2; }

# ensure_pkg CHECK PACKAGE: 0 if the shell command CHECK succeeds, else
# installs PACKAGE from Debian (apt-get update once first) and says so; 1
# if that fails, or if $no_install is 1 (peers.sh --quick: CI has what it
# has).
apt_updated=0
ensure_pkg() {
  eval "$1" >/dev/null 2>&1 && return 0
  [ "${no_install:-0}" = 1 ] && return 1
  say "installing $2 from Debian (apt-get)"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then
    $sudo apt-get update -qq >>"$tmp/apt.log" 2>&1 && apt_updated=1
  fi
  $sudo apt-get install -y -qq --no-install-recommends "$2" >>"$tmp/apt.log" 2>&1 ||
    { say "could not install $2 (apt-get failed); going on without it"; return 1; }
}

# busy_pct: how busy all CPUs are over one second, in percent.  Other work
# on the machine skews every figure: the scripts say it before and after.
busy_pct() {
  local a b
  a=$(head -1 /proc/stat); sleep 1; b=$(head -1 /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { n = split(a, x, " "); split(b, y, " ")
    for (i = 2; i <= n; i++) { d = y[i] - x[i]; t += d; if (i == 5 || i == 6) idle += d }
    printf "%.0f", t ? 100 * (t - idle) / t : 0 }'
}

# release_builds TARGET: TARGET built in build-bench-SWITCH (release) for
# each backend of this machine (both on x86_64); sets ${backends[@]}.
# Exits the script, showing the logs, if a build fails.
release_builds() {
  backends=(asm ucontext)
  [ "$(uname -m)" = x86_64 ] || backends=(ucontext)
  local sw dir
  for sw in "${backends[@]}"; do
    dir=build-bench-$sw
    say "building $dir/$1 (release)"
    if [ -d "$dir" ]; then meson setup --reconfigure "$dir" -Dswitch="$sw" --buildtype=release
    else meson setup "$dir" -Dswitch="$sw" --buildtype=release; fi >"$tmp/setup-$sw.log" 2>&1 &&
      ninja -C "$dir" "$1" >"$tmp/build-$sw.log" 2>&1 ||
      { tail -30 "$tmp/setup-$sw.log" "$tmp/build-$sw.log" >&2; exit 1; }
  done
}
