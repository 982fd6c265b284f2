#!/usr/bin/env bash
# redis-benchmark SET/GET with 1 KiB values and 50 clients against a 3-node elastickv cluster and against a
# local redis-server with appendfsync always, in the same run; prints requests/s and the ratios.
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-20000}"
# shellcheck source=cluster-and-peer.sh
. bench/cluster-and-peer.sh
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
