#!/usr/bin/env bash
# Checks deploy/kubernetes/fetch-server.yaml against the fetch_server it deploys: every flag in
# the container's args exists (fetch_server refuses unknown flags with exit 2), and the file is
# valid YAML with the expected objects (when PyYAML is available).
set -euo pipefail
server="$1"
manifest="$2"
status=0
flags=$(grep -oE '^\s*- --[a-z_]+(=[^ #]*)?' "$manifest" | sed -E 's/^\s*- //')
[ -n "$flags" ] || { echo "no fetch_server flags found in $manifest" >&2; exit 1; }
help=$("$server" --help)
while read -r flag; do
  name=${flag%%=*}
  if ! grep -q -- "  ${name} " <<<"$help"; then
    echo "manifest uses $name, which fetch_server does not have" >&2
    status=1
  fi
done <<<"$flags"
# The flags (values included) parse: fetch_server --help after them still exits 0, while a
# value that does not parse is a usage error (exit 2) before --help is reached.
# shellcheck disable=SC2086
if ! "$server" $(grep -v -- '--bearer_token_file' <<<"$flags" | tr '\n' ' ') --help >/dev/null; then
  echo "fetch_server refuses the manifest's flags" >&2
  status=1
fi
if python3 -c 'import yaml' 2>/dev/null; then
  python3 - "$manifest" <<'PY' || status=1
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted(d["kind"] for d in docs)
assert kinds == ["Deployment", "Namespace", "PodDisruptionBudget", "Secret", "Service"], kinds
svc = next(d for d in docs if d["kind"] == "Service")
assert svc["spec"]["clusterIP"] == "None", "the Service must be headless"
dep = next(d for d in docs if d["kind"] == "Deployment")
c = dep["spec"]["template"]["spec"]["containers"][0]
assert c["readinessProbe"]["grpc"]["port"] == 50051, "readiness on the gRPC health service"
assert c["readinessProbe"]["grpc"].get("service") == "corio.fetch.v1.FetchService", \
    "readiness asks for the fetch service by name"
assert dep["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 20
PY
fi
[ $status -eq 0 ] && echo "manifest ok: $(wc -l <<<"$flags") fetch_server flags checked"
exit $status
