#!/usr/bin/env bash
# Runs the README's quick start on a fresh, minimal Debian 12 machine, as a new user would: a
# throwaway root made by debootstrap (--variant=minbase bookworm: no compiler, no Bazel, no CA
# certificates, no /etc/hosts), a clean `git archive HEAD` of this repository in /root/corio, and
# each quick-start command run there by chroot in a clean environment (env -i: HOME=/root, a
# plain PATH), so everything the commands need has to come from the project's own files
# (tools/bazel installs the packages). Prints each command's wall time; exits non-zero when one
# fails. Needs root on Debian (debootstrap is installed with apt when missing), a reachable
# Debian mirror, ~5 GB in /var/tmp, and several minutes: not a CI step. Run it before resolving
# an issue that changes the quick start or the dependencies.
#
#   sudo tools/check_fresh_machine.sh                # the commands of README.md's quick start
#   sudo tools/check_fresh_machine.sh 'CMD' ...      # these instead (each run by bash -c)
#
# Environment:
#   CORIO_FRESH_CACHE    the pristine root is cached here (default /var/cache/corio-fresh-root);
#                        each run copies it, so only the first run pays for debootstrap
#   CORIO_FRESH_REFRESH  1: debootstrap a new pristine root (e.g. after a Debian point release)
#   CORIO_FRESH_MIRROR   Debian mirror (default http://deb.debian.org/debian)
#   CORIO_FRESH_WORKDIR  where the per-run roots go (default /var/tmp)
#   CORIO_FRESH_KEEP     1: keep the run's root afterwards for a look inside (unmounted)
#
# The script only sets up the chroot: the pristine root, the sources, /etc/resolv.conf (the
# host's, for the mirror), and proc, sys and dev, which are unmounted on every way out.
set -euo pipefail

me=tools/check_fresh_machine.sh
die() {
  echo "$me: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount): sudo $me"
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)

# --- The commands: the arguments, or the lines of the README's quick-start code block.
commands=("$@")
if [ "${#commands[@]}" -eq 0 ]; then
  mapfile -t commands < <(awk '
    /^## / { in_section = ($0 == "## Quick start") }
    in_section && /^```/ { if (in_block) exit; in_block = 1; next }
    in_block && NF && $1 !~ /^#/ { print }
  ' "$repo/README.md")
  [ "${#commands[@]}" -ne 0 ] ||
    die "found no commands in the first code block under README.md's '## Quick start'"
fi
shown() { sed -E 's/[[:space:]]+#.*$//' <<<"$1"; } # a command without its trailing comment

arch=$(dpkg --print-architecture)
cache=${CORIO_FRESH_CACHE:-/var/cache/corio-fresh-root}
pristine=$cache/bookworm-minbase-$arch
mirror=${CORIO_FRESH_MIRROR:-http://deb.debian.org/debian}
workdir=${CORIO_FRESH_WORKDIR:-/var/tmp}

run_root=
mounted=()
building=

# Leaves no process, mount or half-made root behind, whichever way the script ends.
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [ -n "$building" ] && [ -d "$building" ]; then
    rm -rf --one-file-system "$building"
  fi
  if [ -n "$run_root" ] && [ -d "$run_root" ]; then
    if [ -x "$run_root/usr/bin/bazel-4" ] && [ -d "$run_root/root/corio" ]; then
      env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/chroot "$run_root" \
        /bin/bash -c 'cd /root/corio && /usr/bin/bazel-4 shutdown' >/dev/null 2>&1 || true
    fi
    # Whatever still runs inside the root (a test the command left behind) is ours to end.
    local pid procs=()
    for pid in /proc/[0-9]*; do
      if [ "$(readlink "$pid/root" 2>/dev/null)" = "$run_root" ]; then procs+=("${pid#/proc/}"); fi
    done
    if [ "${#procs[@]}" -ne 0 ]; then
      echo "$me: ending processes left in the root: ${procs[*]}" >&2
      kill -KILL "${procs[@]}" 2>/dev/null || true
      sleep 1
    fi
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
      umount -R "${mounted[i]}" 2>/dev/null || umount -R -l "${mounted[i]}" ||
        echo "$me: could not unmount ${mounted[i]}" >&2
    done
    mounted=()
    if grep -qF " $run_root/" /proc/self/mounts; then
      echo "$me: something is still mounted under $run_root; leaving it in place" >&2
      rc=1
    elif [ "${CORIO_FRESH_KEEP:-0}" = 1 ]; then
      echo "$me: kept the root: $run_root" >&2
    else
      rm -rf --one-file-system "$run_root"
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- The pristine root: debootstrap once, into a temporary directory, renamed when complete.
if ! command -v debootstrap >/dev/null; then
  echo "$me: installing debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap \
    >/dev/null || die "could not install debootstrap (apt-get install debootstrap)"
fi
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one debootstrap at a time; concurrent runs share the result
if [ "${CORIO_FRESH_REFRESH:-0}" = 1 ] && [ -d "$pristine" ]; then
  rm -rf --one-file-system "$pristine"
fi
if [ ! -d "$pristine" ]; then
  building=$(mktemp -d "$cache/.building.XXXXXX")
  echo "$me: debootstrap --variant=minbase bookworm into $pristine (once)" >&2
  start=$(date +%s)
  if ! debootstrap --variant=minbase bookworm "$building" "$mirror" >"$cache/debootstrap.log" 2>&1
  then
    tail -n 20 "$cache/debootstrap.log" >&2
    die "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  chmod 755 "$building"
  mv "$building" "$pristine"
  building=
  echo "$me: pristine root ready in $(($(date +%s) - start)) s" >&2
fi

# --- This run's root: a copy of the pristine one, with a clean export of HEAD.
run_root=$(mktemp -d "$workdir/corio-fresh.XXXXXX")
cp -a "$pristine/." "$run_root/"
flock -u 9
chmod 755 "$run_root"
mkdir -p "$run_root/root/corio"
git -C "$repo" archive --format=tar HEAD | tar -x -C "$run_root/root/corio"
head=$(git -C "$repo" log -1 --format='%h (%cs)')
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  echo "$me: note: uncommitted changes in $repo are not part of the check (it uses HEAD)" >&2
fi
[ -r /etc/resolv.conf ] && cp -L /etc/resolv.conf "$run_root/etc/resolv.conf"

mount -t proc proc "$run_root/proc"
mounted+=("$run_root/proc")
for fs in sys dev; do
  mount --rbind "/$fs" "$run_root/$fs"
  mounted+=("$run_root/$fs")
  mount --make-rslave "$run_root/$fs" # so unmounting our copy never reaches the host's mounts
done

# --- The quick start.
echo "$me: $run_root, HEAD $head"
times=()
failed=0
n=${#commands[@]}
for ((i = 0; i < n; i++)); do
  cmd=${commands[i]}
  echo
  echo "=== [$((i + 1))/$n] $(shown "$cmd")"
  start=$(date +%s.%N)
  set +e
  env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb /usr/sbin/chroot "$run_root" /bin/bash -c "cd /root/corio && $cmd"
  rc=$?
  set -e
  secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
  verdict=ok
  if [ "$rc" -ne 0 ]; then
    verdict="FAILED (exit status $rc)"
    failed=1
  fi
  times+=("$(printf '%6s s  %-22s %s' "$secs" "$verdict" "$(shown "$cmd")")")
  echo "=== [$((i + 1))/$n] $verdict in $secs s"
done

echo
echo "Fresh Debian 12 (minbase) root, HEAD $head, $(nproc) cores:"
printf '  %s\n' "${times[@]}"
exit "$failed"
