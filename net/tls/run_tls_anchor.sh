#!/usr/bin/env bash
# The TLS handshake anchor: OpenSSL's own client (`openssl s_time -new`) and corio's
# (BM_TlsClientOnly of //net/tls:tls_benchmark) make full TLS 1.3 handshakes with the same
# `openssl s_server` on loopback, one after the other in one run; both report the client's
# user CPU per connection. Usage: net/tls/run_tls_anchor.sh [seconds per run, default 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-5}
dir=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$dir"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 1 \
  2>/dev/null
port=$((20000 + RANDOM % 20000))
openssl s_server -cert "$dir/cert.pem" -key "$dir/key.pem" -accept "127.0.0.1:$port" -quiet \
  -naccept 100000000 >/dev/null 2>&1 &
server=$!
sleep 0.5
tools/bazel build -c opt //net/tls:tls_benchmark >/dev/null 2>&1
echo "== openssl s_time -new (OpenSSL's client), ${secs}s"
openssl s_time -connect "127.0.0.1:$port" -new -time "$secs" -CAfile "$dir/cert.pem" 2>&1 |
  grep "connections/user sec"
echo "== corio TlsStream::Connect (BM_TlsClientOnly), ${secs}s"
CORIO_TLS_ANCHOR_SERVER="127.0.0.1:$port" CORIO_TLS_ANCHOR_CA="$dir/cert.pem" \
  bazel-bin/net/tls/tls_benchmark --benchmark_filter=BM_TlsClientOnly \
  --benchmark_min_time="$secs" 2>/dev/null | grep BM_TlsClientOnly
