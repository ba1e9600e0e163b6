# corio's build dependencies on Debian 12, and the installer tools/bazel runs before Bazel.
# Sourced (bash), it only defines things:
#   CORIO_PACKAGES           what corio's build needs (Debian 12 bookworm package names)
#   corio_missing_packages   prints those not fully installed, one a line, in CORIO_PACKAGES order
#   corio_install_deps       installs them with apt; when nothing is missing it costs one
#                            dpkg-query. On failure it names the package(s) and why, shows the
#                            tail of the apt log and returns 1.
# The functions check every status themselves: they work with or without `set -e` (which bash
# ignores inside a function called from a condition) and never let an expected non-zero exit of
# dpkg-query or apt-cache end them early. tools/install_deps_test.sh runs them against stubs.

CORIO_PACKAGES=(
  bazel-bootstrap bazel-rules-java g++ pkg-config
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev
  libc-ares-dev libssl-dev zlib1g-dev liburing-dev libidn2-dev
  clang libclang-rt-14-dev
  ca-certificates
)

# "<package> <dpkg status abbreviation>" for each package dpkg knows, one a line. dpkg-query exits
# 1 when some package is unknown to it (a fresh machine): that is an answer, not an error; the
# unknown ones are simply absent from the output.
_corio_dpkg_status() {
  dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null
  return 0
}

# Reads _corio_dpkg_status output on stdin; prints the arguments that are not installed.
# Installed means status "i" and no error flag ("ii ", or "hi " when held); "iU" (unpacked),
# "iF" (half-configured), "iH" (half-installed), "rc" (config files only), "un", a reinstall-
# required flag, or no line at all mean it still has to be installed.
_corio_not_installed() {
  awk -v want="$*" '
    substr($2, 2, 1) == "i" && length($2) == 2 { ok[$1] = 1 }
    END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) print w[i] }'
}

corio_missing_packages() {
  _corio_dpkg_status "${CORIO_PACKAGES[@]}" | _corio_not_installed "${CORIO_PACKAGES[@]}"
}

# Prints the arguments apt has no installation candidate for: unknown to apt-cache, as on a
# fresh root whose package lists are empty, or gone from stale lists.
_corio_without_candidate() {
  { apt-cache policy "$@" 2>/dev/null || true; } | awk -v want="$*" '
    /^[^ ].*:$/ { name = substr($0, 1, length($0) - 1); sub(/:.*/, "", name); next }
    $1 == "Candidate:" && $2 != "(none)" { ok[name] = 1 }
    END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) print w[i] }'
}

corio_install_deps() {
  local missing=()
  mapfile -t missing < <(corio_missing_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0

  if ! command -v apt-get >/dev/null; then
    echo "tools/bazel: missing packages: ${missing[*]}; there is no apt-get here:" \
      "corio builds on Debian 12, install the equivalents by hand" >&2
    return 1
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      echo "tools/bazel: missing packages: ${missing[*]}" >&2
      echo "tools/bazel: run as root, or: sudo apt-get install --no-install-recommends" \
        "${missing[*]}" >&2
      return 1
    fi
  fi

  local log
  if ! log=$(mktemp "${TMPDIR:-/tmp}/corio-apt.XXXXXX"); then
    echo "tools/bazel: missing ${missing[*]}, and cannot create a log in ${TMPDIR:-/tmp}" >&2
    return 1
  fi
  echo "tools/bazel: installing ${missing[*]} (once; log: $log)" >&2
  local started=$SECONDS
  # sudo resets the environment, hence env. The lock timeout makes two first runs at once (two
  # worktrees, or tools/bazel next to a manual apt-get) queue instead of failing.
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
    apt-get -q -y -o DPkg::Lock::Timeout=600)
  local install=(install --no-install-recommends "${missing[@]}")

  local updated=0 unknown=()
  mapfile -t unknown < <(_corio_without_candidate "${missing[@]}")
  if [ "${#unknown[@]}" -ne 0 ]; then
    echo "+ apt-get update (apt knows no ${unknown[*]})" >>"$log"
    if ! "${apt[@]}" update >>"$log" 2>&1; then
      _corio_install_failed "$log" "they are not in apt's lists and apt-get update failed" \
        "${unknown[@]}"
      return 1
    fi
    updated=1
    mapfile -t unknown < <(_corio_without_candidate "${missing[@]}")
    if [ "${#unknown[@]}" -ne 0 ]; then
      _corio_install_failed "$log" "no installation candidate even after apt-get update (the apt \
sources need Debian 12 bookworm main)" "${unknown[@]}"
      return 1
    fi
  fi

  echo "+ apt-get ${install[*]}" >>"$log"
  if ! "${apt[@]}" "${install[@]}" >>"$log" 2>&1; then
    # Two ways a retry can succeed. A package left half-installed (unpacked, half-configured:
    # an interrupted apt) blocks apt until dpkg finishes configuring and apt fixes the
    # dependencies. Stale lists name files the mirror no longer has: refresh them.
    local ok=0
    if _corio_has_broken "$log" "${missing[@]}"; then
      echo "+ dpkg --configure -a; apt-get --fix-broken install (half-installed packages)" >>"$log"
      "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --configure -a >>"$log" 2>&1 || true
      "${apt[@]}" --fix-broken --no-install-recommends install >>"$log" 2>&1 || true
      echo "+ apt-get ${install[*]}" >>"$log"
      "${apt[@]}" "${install[@]}" >>"$log" 2>&1 && ok=1
    fi
    if [ "$ok" = 0 ] && [ "$updated" = 0 ]; then
      echo "+ apt-get update (the install failed; retrying with fresh lists)" >>"$log"
      if "${apt[@]}" update >>"$log" 2>&1; then
        echo "+ apt-get ${install[*]}" >>"$log"
        "${apt[@]}" "${install[@]}" >>"$log" 2>&1 && ok=1
      fi
    fi
    if [ "$ok" = 0 ]; then
      local failed=()
      mapfile -t failed < <(corio_missing_packages)
      [ "${#failed[@]}" -ne 0 ] || failed=("${missing[@]}")
      _corio_install_failed "$log" "apt-get install failed" "${failed[@]}"
      return 1
    fi
  fi

  # apt succeeding is not the goal; every package being installed is.
  local still=()
  mapfile -t still < <(corio_missing_packages)
  if [ "${#still[@]}" -ne 0 ]; then
    _corio_install_failed "$log" "apt-get reported success, but dpkg does not have them installed" \
      "${still[@]}"
    return 1
  fi
  rm -f "$log"
  echo "tools/bazel: installed ${missing[*]} in $((SECONDS - started)) s" >&2
}

# True when dpkg holds one of the packages half-installed (known to dpkg, neither installed nor
# only not-installed / config-files), or apt said it needs dpkg or --fix-broken to repair things.
_corio_has_broken() {
  local log=$1
  shift
  _corio_dpkg_status "$@" | awk '{ s = substr($2, 2, 1) } s != "n" && s != "c" { b = 1 }
    END { exit !b }' && return 0
  grep -qE "dpkg --configure -a|--fix-broken|Unmet dependencies" "$log"
}

# _corio_install_failed LOG REASON PACKAGE...: says which packages failed and why (their dpkg
# status and what apt said about each), then the tail of the apt log, which is kept.
_corio_install_failed() {
  local log=$1 reason=$2
  shift 2
  echo "tools/bazel: could not install $*: $reason" >&2
  local status p state said
  status=$(_corio_dpkg_status "$@")
  for p in "$@"; do
    state=$(awk -v p="$p" '$1 == p { print "dpkg status \"" $2 "\""; exit }' <<<"$status")
    said=$(grep -E '^(E:|W:|dpkg:|Err:)' "$log" | grep -F -- "$p" | awk '!seen[$0]++' |
      tail -n 2 | paste -sd ' ' || true)
    echo "  $p: ${state:-not installed}${said:+; apt: $said}" >&2
  done
  echo "--- last 20 lines of $log:" >&2
  tail -n 20 "$log" >&2
  echo "---" >&2
}
