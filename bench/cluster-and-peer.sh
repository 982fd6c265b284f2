# Sourced by the redis-benchmark scripts of bench/: starts a 3-node elastickv cluster (scripts/local-cluster.sh,
# release build unless ELASTICKV_BUILD=debug) and one redis-server on port 6390 with appendfsync always, in a
# temporary directory removed on exit with both, and sets `port` to the leader's Redis port: through a
# follower every write takes one more gRPC round trip (forwarding), which would make the numbers depend on who
# won the election. Needs redis-server, redis-cli and redis-benchmark (Debian: redis-server, redis-tools).
workdir="$(mktemp -d)"
trap 'scripts/local-cluster.sh stop --dir "$workdir/cluster" >/dev/null; redis-cli -p 6390 shutdown nosave >/dev/null 2>&1 || true; rm -rf "$workdir"' EXIT
build="${ELASTICKV_BUILD:-release}"
if [ "$build" = release ]; then
    scripts/local-cluster.sh start --release --dir "$workdir/cluster"
else
    scripts/local-cluster.sh start --dir "$workdir/cluster"
fi
redis-server --port 6390 --appendonly yes --appendfsync always --dir "$workdir" --daemonize yes >/dev/null
for _ in $(seq 1 150); do [ "$(redis-cli -p 6381 SET ready 1 2>/dev/null)" = "OK" ] && break; sleep 0.2; done
admin="$(swift build -c "$build" --show-bin-path)/elastickv-admin"
leader=""
for _ in $(seq 1 50); do
    leader="$("$admin" --addr 127.0.0.1:6481 --json cluster status 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin).get("leader") or "")' 2>/dev/null || true)"
    [ -n "$leader" ] && break
    sleep 0.2
done
[ -n "$leader" ] || { echo "no leader was elected" >&2; exit 69; }
port=$((6380 + ${leader#n}))
