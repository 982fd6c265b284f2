#!/usr/bin/env bash
# Issue #14's features against redis-server (appendfsync always) in the same run, on a 3-node release cluster
# (bench/cluster-and-peer.sh): PUBLISH fan-out to 10 subscribers spread over the members, MULTI/EXEC of 5 SETs,
# EVALSHA of a 3-command script, XREADGROUP + XACK, and redis-benchmark XADD. Needs python3 with the `redis`
# package (scripts/test.sh's venv has it).
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-.build/test-venv/bin/python3}"
requests="${REQUESTS:-5000}"
clients="${CLIENTS:-50}"
# shellcheck source=cluster-and-peer.sh
. bench/cluster-and-peer.sh
others=""
for n in 1 2 3; do [ "$((6380 + n))" = "$port" ] || others="$others,$((6380 + n))"; done
"$python" bench/features-bench.py --elastickv-ports "$port$others" --redis-port 6390
xadd() {
    redis-benchmark -p "$1" -c "$clients" -n "$requests" --csv XADD bench:stream '*' field value 2>/dev/null |
        python3 -c 'import csv, sys; rows = [r for r in csv.reader(sys.stdin) if len(r) > 1 and r[0] != "test"]; print(rows[-1][1])'
}
ours="$(xadd "$port")"
peer="$(xadd 6390)"
echo "XADD, redis-benchmark -c $clients (requests/s)"
python3 -c "print(f'  elastickv {float($ours):10.0f}   redis-server {float($peer):10.0f}   ratio {float($ours) / float($peer):.3f}')"
