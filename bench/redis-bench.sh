#!/usr/bin/env bash
# redis-benchmark SET/GET with 1 KiB values and 50 clients against a 3-node elastickv cluster and against a
# local redis-server with appendfsync always, in the same run; prints requests/s and the ratios.
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-20000}"
workdir="$(mktemp -d)"
trap 'scripts/local-cluster.sh stop --dir "$workdir/cluster" >/dev/null; redis-cli -p 6390 shutdown nosave >/dev/null 2>&1 || true; rm -rf "$workdir"' EXIT
scripts/local-cluster.sh start --release --dir "$workdir/cluster"
redis-server --port 6390 --appendonly yes --appendfsync always --dir "$workdir" --daemonize yes >/dev/null
for _ in $(seq 1 150); do [ "$(redis-cli -p 6381 SET ready 1 2>/dev/null)" = "OK" ] && break; sleep 0.2; done

# Benchmark the leader's Redis port (n1..n3 serve 6381..6383): through a follower every write takes one more
# gRPC round trip (forwarding), which would make the numbers depend on who won the election.
admin="$(swift build -c "${ELASTICKV_BUILD:-release}" --show-bin-path)/elastickv-admin"
leader=""
for _ in $(seq 1 50); do
    leader="$("$admin" --addr 127.0.0.1:6481 --json cluster status 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin).get("leader") or "")' 2>/dev/null || true)"
    [ -n "$leader" ] && break
    sleep 0.2
done
port=$((6380 + ${leader#n}))
echo "leader: ${leader:-unknown} (redis port $port)"

run() { redis-benchmark -p "$1" -t set,get -d 1024 -c 50 -n "$requests" --csv 2>/dev/null; }
ours="$(run "$port")"
peer="$(run 6390)"
python3 - "$ours" "$peer" <<'PY'
import csv, io, sys
def rates(text):
    return {row[0]: float(row[1]) for row in csv.reader(io.StringIO(text)) if row and row[0] in ("SET", "GET")}
ours, peer = rates(sys.argv[1]), rates(sys.argv[2])
print("redis-benchmark -t set,get -d 1024 -c 50: requests per second")
print(f"{'test':<6}{'elastickv (3 nodes)':>22}{'redis-server (fsync always)':>30}{'ratio':>8}")
for test in ("SET", "GET"):
    print(f"{test:<6}{ours[test]:>22.0f}{peer[test]:>30.0f}{ours[test] / peer[test]:>8.3f}")
PY
