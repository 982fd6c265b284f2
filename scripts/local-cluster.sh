#!/usr/bin/env bash
# Runs a 3-node elastickv cluster on loopback: start | stop | status.
# Data and logs under ${ELASTICKV_CLUSTER_DIR:-./local-cluster}; Redis on 6381-6383, gRPC on 50061-50063,
# metrics on 9091-9093. Builds the binaries in release mode first (set ELASTICKV_BUILD=debug for debug).
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${ELASTICKV_CLUSTER_DIR:-./local-cluster}"
mode="${ELASTICKV_BUILD:-release}"
bin="$(swift build -c "$mode" --show-bin-path)"
cluster="n1=127.0.0.1:50061,n2=127.0.0.1:50062,n3=127.0.0.1:50063"

start() {
    swift build -c "$mode" --product elastickv >/dev/null
    swift build -c "$mode" --product elastickv-admin >/dev/null
    mkdir -p "$dir"
    for i in 1 2 3; do
        if [ -f "$dir/n$i.pid" ] && kill -0 "$(cat "$dir/n$i.pid")" 2>/dev/null; then
            echo "n$i already running"; continue
        fi
        "$bin/elastickv" --node-id "n$i" --data-dir "$dir/n$i" --grpc-addr "127.0.0.1:5006$i" \
            --redis-addr "127.0.0.1:638$i" --metrics-addr "127.0.0.1:909$i" --initial-cluster "$cluster" \
            >"$dir/n$i.log" 2>&1 &
        echo $! >"$dir/n$i.pid"
        echo "n$i started (redis 127.0.0.1:638$i, pid $!)"
    done
}

stop() {
    for i in 1 2 3; do
        [ -f "$dir/n$i.pid" ] || continue
        pid="$(cat "$dir/n$i.pid")"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$dir/n$i.pid"
        echo "n$i stopped"
    done
}

status() {
    "$bin/elastickv-admin" --addr 127.0.0.1:50061 cluster status || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
