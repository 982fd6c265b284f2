#!/usr/bin/env bash
# redis-benchmark SET/GET with 1 KiB values and 50 clients against a 3-node elastickv cluster and against a
# local redis-server with appendfsync always, in the same run; prints requests/s and the ratios.
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-20000}"
export ELASTICKV_CLUSTER_DIR="$(mktemp -d)"
trap 'scripts/local-cluster.sh stop >/dev/null; redis-cli -p 6390 shutdown nosave >/dev/null 2>&1 || true; rm -rf "$ELASTICKV_CLUSTER_DIR"' EXIT
scripts/local-cluster.sh start
redis-server --port 6390 --appendonly yes --appendfsync always --dir "$ELASTICKV_CLUSTER_DIR" --daemonize yes >/dev/null
for _ in $(seq 1 100); do redis-cli -p 6381 SET ready 1 >/dev/null 2>&1 && break; sleep 0.2; done

run() { redis-benchmark -p "$1" -t set,get -d 1024 -c 50 -n "$requests" -q | tr -d '\r'; }
ours="$(run 6381)"
peer="$(run 6390)"
echo "elastickv (3 nodes, via n1):"; echo "$ours"
echo "redis-server (appendfsync always):"; echo "$peer"
for test in SET GET; do
    a=$(echo "$ours" | awk -v t="$test:" '$1==t {print $2}')
    b=$(echo "$peer" | awk -v t="$test:" '$1==t {print $2}')
    python3 -c "print('$test ratio elastickv/redis: %.2f' % ($a / $b))"
done
