#!/usr/bin/env bash
# What TLS costs: redis-benchmark SET/GET (1 KiB values, 50 clients) against a 3-node cluster without TLS and
# against one with --tls (mutual TLS on gRPC between the nodes, Redis over TLS with client certificates), one
# after the other in the same run, to the leader and through a follower (whose writes are forwarded over gRPC).
# Prints requests/s and TLS ÷ plaintext. Release build unless ELASTICKV_BUILD=debug.
# Needs redis-server's redis-benchmark (Debian: redis-tools, built with TLS) and openssl.
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-20000}"
build="${ELASTICKV_BUILD:-release}"
workdir="$(mktemp -d)"
trap 'for c in plain tls; do scripts/local-cluster.sh stop --dir "$workdir/$c" >/dev/null 2>&1 || true; done; rm -rf "$workdir"' EXIT
flags=()
[ "$build" = release ] && flags+=(--release)
admin="$(swift build -c "$build" --show-bin-path)/elastickv-admin"

# measure NAME BASE_PORT [--tls]: prints "NAME leader|follower SET|GET rate" lines.
measure() {
    local name="$1" base="$2" tls="${3:-}" dir="$workdir/$1" leader follower tls_args=() admin_tls=()
    scripts/local-cluster.sh start "${flags[@]}" --base-port "$base" --dir "$dir" ${tls:+--tls} >/dev/null
    [ -n "$tls" ] && admin_tls=(--tls-cert-file "$dir/certs/admin.pem" --tls-key-file "$dir/certs/admin.key"
        --tls-ca-file "$dir/certs/ca.pem")
    leader="$("$admin" --addr "127.0.0.1:$((base + 101))" "${admin_tls[@]}" --json cluster status |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["leader"])')"
    leader="${leader#n}"
    follower=$(( leader % 3 + 1 ))
    for role in leader follower; do
        local node port
        node=$([ "$role" = leader ] && echo "$leader" || echo "$follower")
        port=$((base + node))
        if [ -n "$tls" ]; then
            port=$((base + 300 + node))
            tls_args=(--tls --cacert "$dir/certs/ca.pem" --cert "$dir/certs/client.pem" --key "$dir/certs/client.key")
        fi
        redis-benchmark -p "$port" "${tls_args[@]}" -t set,get -d 1024 -c 50 -n "$requests" --csv 2>/dev/null |
            python3 -c 'import csv, sys
for row in csv.reader(sys.stdin):
    if row and row[0] in ("SET", "GET"): print(sys.argv[1], sys.argv[2], row[0], row[1])' "$name" "$role"
    done
    scripts/local-cluster.sh stop --dir "$dir" >/dev/null
}

{ measure plain 41000; measure tls 42000 --tls; } > "$workdir/rates"
python3 - "$workdir/rates" <<'PY'
import sys
rates = {}
for line in open(sys.argv[1]):
    name, role, test, rate = line.split()
    rates[(name, role, test)] = float(rate)
print("redis-benchmark -t set,get -d 1024 -c 50: requests per second, 3 nodes")
print(f"{'path':<10}{'test':<6}{'plaintext':>12}{'TLS':>12}{'TLS / plain':>14}")
for role in ("leader", "follower"):
    for test in ("SET", "GET"):
        plain, tls = rates[("plain", role, test)], rates[("tls", role, test)]
        print(f"{role:<10}{test:<6}{plain:>12.0f}{tls:>12.0f}{tls / plain:>14.2f}")
PY
