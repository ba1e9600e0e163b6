#!/bin/bash
# Runs a command in its own network namespace (only loopback exists: nothing this audit does
# can reach another host, even when a fetch_server under test is loosened or has a bug) and
# its own mount namespace (so /etc/resolv.conf can point at a fake DNS server on 127.0.0.1:53).
# Extra loopback-only addresses stand in for private networks: 10.9.9.9, 192.168.77.1,
# fd00:9::9. Needs root (or user namespaces).
#   svcaudit/py/isolated.sh /usr/bin/python3 svcaudit/py/audit.py
set -euo pipefail
if [[ "${SVCAUDIT_ISOLATED:-}" != 1 ]]; then
  exec unshare -n -m --propagation private env SVCAUDIT_ISOLATED=1 "$0" "$@"
fi
ip link set lo up
ip addr add 10.9.9.9/32 dev lo
ip addr add 192.168.77.1/32 dev lo
ip -6 addr add fd00:9::9/128 dev lo
resolv="$(mktemp)"
echo "nameserver 127.0.0.1" >"$resolv"
mount --bind "$resolv" /etc/resolv.conf
exec "$@"
