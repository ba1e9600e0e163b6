#!/usr/bin/env bash
# Tests tools/bazel's dependency installer (tools/install_deps.sh) on fake Debian machines: stub
# dpkg-query, dpkg, apt-get, apt-cache, sudo and id on PATH over a fake dpkg database and a fake
# archive, and a stub Bazel as BAZEL_REAL. Each case runs the real tools/bazel end to end and
# checks what it asked apt to install, what it said, and whether it went on to run Bazel.
#
#   tools/install_deps_test.sh [path/to/tools/bazel]     # default: the one beside this file
#
# The stubs behave like Debian 12's tools where the installer can tell: dpkg-query -W prints a
# line per package it knows (in the given format) and, for unknown ones, "no packages found
# matching X" on stderr and exit status 1; apt-cache policy prints nothing for a package its
# lists lack; apt-get fails with apt's messages and exit status 100.
set -uo pipefail

BAZEL_SCRIPT=$(readlink -f "${1:-$(dirname "$0")/bazel}")
WORK=$(mktemp -d "${TEST_TMPDIR:-/tmp}/install_deps_test.XXXXXX")
failures=0
case_name=

fail() {
  echo "FAIL [$case_name]: $*"
  failures=$((failures + 1))
}

# new_machine NAME: a fake machine in $F. Every package the installer asks about is installed
# ("ii ") unless $F/status says otherwise ("<package> <status abbreviation>", or "<package>
# unknown" for a package dpkg has never heard of). Everything is in the archive and, unless
# a case empties it, in the local apt lists.
new_machine() {
  case_name=$1
  F=$WORK/$1
  mkdir -p "$F/bin" "$F/tmp"
  : >"$F/status"
  : >"$F/calls"
  : >"$F/fails"
  : >"$F/broken"
  : >"$F/not_in_archive"
  echo all >"$F/lists"

  cat >"$F/bin/dpkg-query" <<EOF
#!/bin/bash
F=$F
EOF
  cat >>"$F/bin/dpkg-query" <<'EOF'
echo "dpkg-query $*" >>"$F/calls"
fmt='${binary:Package}\t${Version}\n'
pkgs=()
while [ $# -gt 0 ]; do
  case $1 in
    -W | --show) ;;
    -f | --showformat) fmt=$2; shift ;;
    -f=* | --showformat=*) fmt=${1#*=} ;;
    -*) echo "dpkg-query: unsupported option $1" >&2; exit 2 ;;
    *) pkgs+=("$1") ;;
  esac
  shift
done
rc=0
errors=()
for p in "${pkgs[@]}"; do
  abbrev=$(awk -v p="$p" '$1 == p { print $2 }' "$F/status")
  [ -n "$abbrev" ] || abbrev=ii
  if [ "$abbrev" = unknown ]; then
    errors+=("dpkg-query: no packages found matching $p")
    rc=1
    continue
  fi
  abbrev=$(printf '%-3s' "$abbrev")
  version=1.0
  [ "${abbrev:1:1}" = n ] && version=
  out=${fmt//'${Package}'/$p}
  out=${out//'${binary:Package}'/$p}
  out=${out//'${db:Status-Abbrev}'/$abbrev}
  out=${out//'${Version}'/$version}
  printf '%b' "$out"
done
for e in "${errors[@]}"; do echo "$e" >&2; done
exit $rc
EOF

  cat >"$F/bin/apt-cache" <<EOF
#!/bin/bash
F=$F
EOF
  cat >>"$F/bin/apt-cache" <<'EOF'
echo "apt-cache $*" >>"$F/calls"
[ "$1" = policy ] || { echo "E: apt-cache stub: unsupported $1" >&2; exit 100; }
shift
for p; do
  # Known to apt when the lists are there and the archive has it.
  grep -qx all "$F/lists" || continue
  grep -qx -- "$p" "$F/not_in_archive" && continue
  printf '%s:\n  Installed: (none)\n  Candidate: 1.0\n  Version table:\n     1.0 500\n' "$p"
done
exit 0
EOF

  cat >"$F/bin/apt-get" <<EOF
#!/bin/bash
F=$F
EOF
  cat >>"$F/bin/apt-get" <<'EOF'
echo "apt-get $* [DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-} ${SUDO_STUB:+via sudo}]" >>"$F/calls"
cmd= fix=0 pkgs=()
while [ $# -gt 0 ]; do
  case $1 in
    -o) shift ;;
    -f | --fix-broken) fix=1 ;;
    -*) ;;
    *) if [ -z "$cmd" ]; then cmd=$1; else pkgs+=("$1"); fi ;;
  esac
  shift
done
set_status() { # package abbrev
  { grep -v "^$1 " "$F/status"; echo "$1 $2"; } >"$F/status.new"
  mv "$F/status.new" "$F/status"
}
case $cmd in
  update)
    if [ -e "$F/update_fails" ]; then
      echo "Err:1 http://deb.debian.org/debian bookworm InRelease"
      echo "  Could not connect to deb.debian.org:80 (151.101.2.132). - connect (111: ...)"
      echo "E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease" \
        " Could not connect" >&2
      exit 100
    fi
    echo "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]"
    echo all >"$F/lists"
    echo "Reading package lists..."
    exit 0 ;;
  install)
    echo "Reading package lists..."
    for p in "${pkgs[@]}"; do
      if ! grep -qx all "$F/lists" || grep -qx -- "$p" "$F/not_in_archive"; then
        echo "E: Unable to locate package $p" >&2
        exit 100
      fi
    done
    if [ "$fix" = 1 ]; then
      while read -r p; do
        [ -n "$p" ] || continue
        echo "Setting up $p (1.0) ..."
        set_status "$p" ii
      done <"$F/broken"
      : >"$F/broken"
    elif [ -s "$F/broken" ]; then
      echo "The following packages have unmet dependencies:"
      echo " $(head -n 1 "$F/broken") : Depends: libfoo (>= 1.0) but it is not going to be" \
        "installed"
      echo "E: Unmet dependencies. Try 'apt --fix-broken install' with no packages (or specify" \
        "a solution)." >&2
      exit 100
    fi
    for p in "${pkgs[@]}"; do
      if grep -qx -- "$p" "$F/fails"; then
        echo "Get:1 http://deb.debian.org/debian bookworm/main amd64 $p amd64 1.0 [100 kB]"
        echo "E: Failed to fetch http://deb.debian.org/debian/pool/main/x/$p/${p}_1.0_amd64.deb" \
          " 404  Not Found [IP: 151.101.2.132 80]" >&2
        echo "E: Unable to fetch some archives, maybe run apt-get update or try with" \
          "--fix-missing?" >&2
        exit 100
      fi
    done
    [ -e "$F/lies" ] && exit 0
    for p in "${pkgs[@]}"; do
      echo "Setting up $p (1.0) ..."
      set_status "$p" ii
    done
    exit 0 ;;
  *) echo "E: apt-get stub: unsupported command $cmd" >&2; exit 100 ;;
esac
EOF

  cat >"$F/bin/dpkg" <<EOF
#!/bin/bash
echo "dpkg \$*" >>"$F/calls"
exit 0
EOF

  cat >"$F/bin/sudo" <<EOF
#!/bin/bash
echo "sudo \$*" >>"$F/calls"
[ -e "$F/sudo_needs_password" ] && { echo "sudo: a password is required" >&2; exit 1; }
[ "\$1" = -n ] && shift
# Like sudo's env_reset: the caller's environment does not get through (PATH does, for the stubs).
exec env -i PATH="\$PATH" SUDO_STUB=1 "\$@"
EOF

  cat >"$F/bazel-real" <<EOF
#!/bin/bash
printf '%s\n' "\$@" >"$F/bazel_args"
EOF
  chmod +x "$F"/bin/* "$F/bazel-real"
}

# not_root: the id stub says uid 1000, so the installer has to go through sudo.
not_root() {
  cat >"$F/bin/id" <<'EOF'
#!/bin/bash
if [ "${1:-}" = -u ]; then echo 1000; else exec /usr/bin/id "$@"; fi
EOF
  chmod +x "$F/bin/id"
}

# run_bazel ARGS...: runs tools/bazel as Debian's /usr/bin/bazel launcher does (BAZEL_REAL
# set) in a clean environment whose PATH starts with the stubs; sets $rc, $F/out, $F/err.
run_bazel() {
  (cd "$F" && env -i PATH="$F/bin:/usr/bin:/bin" HOME="$F" TMPDIR="$F/tmp" \
    BAZEL_REAL="$F/bazel-real" "$BAZEL_SCRIPT" "$@") >"$F/out" 2>"$F/err"
  rc=$?
}

# The packages the (last) apt-get install was asked for, sorted, space-separated.
installed_by_apt() {
  grep -E '^apt-get( .*)? install ' "$F/calls" | grep -v -- --fix-broken | tail -n 1 |
    sed 's/ \[.*//' | tr ' ' '\n' | awk 'f && !/^-/ { print } $0 == "install" { f = 1 }' |
    sort | paste -sd ' '
}

expect_eq() { # what got want
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

expect_bazel_ran() {
  if [ ! -e "$F/bazel_args" ]; then
    fail "Bazel (BAZEL_REAL) did not run; rc=$rc; stderr: $(cat "$F/err")"
    return
  fi
  expect_eq "Bazel's arguments" "$(paste -sd '|' "$F/bazel_args")" "build|//a b|--x"
}

expect_bazel_not_run() {
  [ ! -e "$F/bazel_args" ] || fail "Bazel ran although the install failed"
  [ "$rc" -ne 0 ] || fail "exit status 0 although the install failed"
}

expect_status() { # package abbrev (in the fake dpkg database after the run)
  local got
  got=$(awk -v p="$1" '$1 == p { print $2 }' "$F/status")
  expect_eq "dpkg status of $1 after the run" "${got:-ii}" "$2"
}

# expect_err_line REGEX...: some stderr line matches every REGEX (grep -E, case-insensitive).
expect_err_line() {
  local lines
  lines=$(cat "$F/err")
  local re
  for re; do lines=$(grep -iE -- "$re" <<<"$lines"); done
  [ -n "$lines" ] || fail "no stderr line matches all of: $*; stderr was:
$(cat "$F/err")"
}

# --- Unknown to dpkg, half-installed and removed packages are installed; held ones are not.
new_machine unknown_and_half_installed
cat >"$F/status" <<'EOF'
bazel-bootstrap unknown
liburing-dev unknown
protobuf-compiler-grpc unknown
g++ iU
libgtest-dev iF
clang rc
libssl-dev iHR
libidn2-dev un
libabsl-dev hi
EOF
run_bazel build "//a b" --x
expect_eq "exit status" "$rc" 0
expect_eq "packages given to apt-get install" "$(installed_by_apt)" \
  "bazel-bootstrap clang g++ libgtest-dev libidn2-dev libssl-dev liburing-dev \
protobuf-compiler-grpc"
expect_bazel_ran
for p in bazel-bootstrap liburing-dev g++ clang libssl-dev; do expect_status "$p" ii; done
grep -q 'DEBIAN_FRONTEND=noninteractive' "$F/calls" ||
  fail "apt-get ran without DEBIAN_FRONTEND=noninteractive: $(grep apt-get "$F/calls")"

# --- Nothing missing: one dpkg-query, no apt at all, straight to Bazel.
new_machine nothing_missing
run_bazel build "//a b" --x
expect_eq "exit status" "$rc" 0
expect_eq "tools run" "$(cut -d' ' -f1 "$F/calls" | paste -sd ' ')" "dpkg-query"
expect_bazel_ran

# --- A failed install names the package and apt's reason, shows the log, exits non-zero.
new_machine install_fails
printf '%s\n' "liburing-dev unknown" "g++ unknown" >"$F/status"
echo liburing-dev >"$F/fails"
run_bazel build "//a b" --x
expect_bazel_not_run
expect_err_line "liburing-dev" "404 +Not Found"
expect_err_line "Unable to fetch some archives"

# --- A fresh root's empty apt lists: apt-get update before installing.
new_machine empty_lists
echo "libc-ares-dev unknown" >"$F/status"
: >"$F/lists"
run_bazel build "//a b" --x
expect_eq "exit status" "$rc" 0
expect_eq "apt-get commands" "$(grep '^apt-get' "$F/calls" | grep -oE ' (update|install) ' |
  paste -sd '|')" " update | install "
expect_eq "packages given to apt-get install" "$(installed_by_apt)" "libc-ares-dev"
expect_bazel_ran

# --- A package apt cannot find even after apt-get update: named, with the reason.
new_machine not_in_archive
printf '%s\n' "libidn2-dev unknown" "zlib1g-dev unknown" >"$F/status"
echo libidn2-dev >"$F/not_in_archive"
run_bazel build "//a b" --x
expect_bazel_not_run
expect_err_line "libidn2-dev" "candidate|unable to locate"
grep -qE '^apt-get( .*)? update' "$F/calls" || fail "no apt-get update before giving up"

# --- apt-get update fails (no network): named, with apt's error.
new_machine update_fails
echo "libidn2-dev unknown" >"$F/status"
: >"$F/lists"
touch "$F/update_fails"
run_bazel build "//a b" --x
expect_bazel_not_run
expect_err_line "libidn2-dev"
expect_err_line "Could not connect"

# --- Unpacked with unmet dependencies (an interrupted apt): repaired, then installed.
new_machine broken_half_installed
echo "g++ iU" >"$F/status"
echo g++ >"$F/broken"
run_bazel build "//a b" --x
expect_eq "exit status" "$rc" 0
expect_status g++ ii
grep -q -- '--fix-broken' "$F/calls" || fail "no apt-get --fix-broken install: $(cat "$F/calls")"
expect_bazel_ran

# --- apt-get says it worked but the package is still not installed: that is a failure.
new_machine apt_lies
echo "pkg-config unknown" >"$F/status"
touch "$F/lies"
run_bazel build "//a b" --x
expect_bazel_not_run
expect_err_line "pkg-config"

# --- Not root: apt goes through sudo -n, with the frontend still non-interactive.
new_machine not_root_sudo
not_root
echo "libabsl-dev unknown" >"$F/status"
run_bazel build "//a b" --x
expect_eq "exit status" "$rc" 0
sudo_apt='^apt-get( .*)? install .*libabsl-dev.*DEBIAN_FRONTEND=noninteractive via sudo'
grep -qE "$sudo_apt" "$F/calls" ||
  fail "apt-get install did not run through sudo, non-interactively: $(cat "$F/calls")"
expect_bazel_ran

# --- Not root and sudo needs a password: says what to install, installs nothing.
new_machine not_root_no_sudo
not_root
touch "$F/sudo_needs_password"
echo "libabsl-dev unknown" >"$F/status"
run_bazel build "//a b" --x
expect_bazel_not_run
expect_err_line "libabsl-dev"
! grep -q '^apt-get' "$F/calls" || fail "apt-get ran without root: $(cat "$F/calls")"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s); the fake machines are in $WORK"
  exit 1
fi
rm -rf "$WORK"
echo "install_deps_test: all cases passed ($BAZEL_SCRIPT)"
