#!/usr/bin/env bash
# The write latency cost of `encryption rewrite` at its default rate, measured in one run: a 3-node release
# cluster with both envelopes on (scripts/local-cluster.sh --encrypted) holds ROWS 1 KiB values sealed under a
# storage DEK that is then rotated; `redis-benchmark -c 16 -d 1024` SET runs against the leader once with no
# rewrite and once while a rewrite re-seals every value under the new DEK. Prints the SET throughput and latency percentiles of both runs
# and their ratios. Usage: bench/rewrite-bench.sh [ROWS] (default 20000). Needs release builds of elastickv and
# elastickv-admin and redis-benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-20000}"
dir="$(mktemp -d)"
base=$((20000 + RANDOM % 20000))
admin=".build/release/elastickv-admin"
trap 'scripts/local-cluster.sh stop --dir "$dir/cluster" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
leader_port() {
    for i in 1 2 3; do
        if "$admin" --addr "127.0.0.1:$((base + 100 + i))" --json cluster status 2>/dev/null | grep -q "\"leader\" *: *\"n$i\""; then
            echo "$i"; return
        fi
    done
    echo 1
}
scripts/local-cluster.sh start --nodes 3 --base-port "$base" --dir "$dir/cluster" --release --encrypted >/dev/null
n="$(leader_port)"
redis="$((base + n))"
grpc="127.0.0.1:$((base + 100 + n))"
redis-benchmark -p "$redis" -t set -n "$rows" -r "$rows" -d 1024 -c 16 -q >/dev/null
"$admin" --addr "$grpc" encryption rotate-dek --purpose storage >/dev/null
measure() {  # prints requests/s and p50/p95/p99 ms of 10,000 SETs
    redis-benchmark -p "$redis" -t set -n 10000 -r "$rows" -d 1024 -c 16 --csv | tail -1 | tr -d '"' |
        awk -F, '{ printf "%s %s %s %s\n", $2, $5, $6, $7 }'
}
read -r base_rps base_p50 base_p95 base_p99 <<<"$(measure)"
"$admin" --addr "$grpc" encryption rewrite >/dev/null
read -r rw_rps rw_p50 rw_p95 rw_p99 <<<"$(measure)"
status="$("$admin" --addr "$grpc" --json encryption rewrite-status)"
echo "rewrite at the default rate ($(echo "$status" | sed 's/.*"rows_per_second":\([0-9]*\).*/\1/') rows/s), $rows stored values under the old DEK, 3 nodes, SET -c 16 -d 1024"
printf "%-16s %10s %8s %8s %8s\n" "run" "req/s" "p50 ms" "p95 ms" "p99 ms"
printf "%-16s %10s %8s %8s %8s\n" "no rewrite" "$base_rps" "$base_p50" "$base_p95" "$base_p99"
printf "%-16s %10s %8s %8s %8s\n" "during rewrite" "$rw_rps" "$rw_p50" "$rw_p95" "$rw_p99"
awk -v a="$base_rps" -v b="$rw_rps" -v c="$base_p99" -v d="$rw_p99" \
    'BEGIN { printf "ratios (during / without): throughput %.2f, p99 %.2f\n", b / a, d / c }'
echo "rewrite after the measurement: $status"
