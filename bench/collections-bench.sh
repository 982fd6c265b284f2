#!/usr/bin/env bash
# Collections, measured from outside (issue #13): redis-benchmark LPUSH, LRANGE 0 99, SADD, SISMEMBER, HSET, ZADD
# and ZRANGE 0 99 WITHSCORES against a 3-node elastickv cluster and a local redis-server (appendfsync always) in
# the same run, and the cost of LPUSH / SADD / HSET / ZADD into a collection of 100k elements against one of 1k
# elements (elastickv only; no operation should grow with the collection: the ratio should stay below 2).
# Needs redis-server, redis-benchmark and redis-cli (Debian: redis-server, redis-tools) and a release build
# (ELASTICKV_BUILD=debug to use the debug one). REQUESTS (default 5000) per test, CLIENTS (default 50).
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${REQUESTS:-5000}"
clients="${CLIENTS:-50}"
# shellcheck source=cluster-and-peer.sh
. bench/cluster-and-peer.sh
echo "leader: ${leader:-unknown} (redis port $port); $requests requests per test, $clients clients"

# Fills `key` on `port` with `count` elements through `command` (RPUSH, SADD, HSET or ZADD), 1,000 per command.
# ZADD's scores are spread evenly over 0 … 10^8, the range of redis-benchmark's __rand_int__ below (-r), so a
# ZADD of a random score lands anywhere in the sorted set, not always after its last member.
fill() {
    python3 - "$1" "$2" "$3" "$4" <<'PY' | redis-cli -p "$1" --pipe >/dev/null
import sys
port, command, key, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def resp(words):
    return "*%d\r\n" % len(words) + "".join("$%d\r\n%s\r\n" % (len(w.encode()), w) for w in words)
for start in range(0, count, 1000):
    words = [command, key]
    for i in range(start, min(start + 1000, count)):
        if command == "HSET":
            words += [f"f{i}", "v"]
        elif command == "ZADD":
            words += [str(i * (100000000 // count)), f"e{i}"]
        else:
            words += [f"e{i}"]
    sys.stdout.write(resp(words))
PY
}

# Requests per second of one command line on `port`.
rate() {
    local port="$1"; shift
    redis-benchmark -p "$port" -c "$clients" -n "$requests" -r 100000000 --csv "$@" 2>/dev/null |
        python3 -c 'import csv, sys; rows = [r for r in csv.reader(sys.stdin) if len(r) > 1 and r[0] != "test"]; print(rows[-1][1])'
}

for target in "$port" 6390; do
    fill "$target" RPUSH bench:range 200
    fill "$target" SADD bench:member 1000
    fill "$target" ZADD bench:zrange 200
done
results=()
while IFS='|' read -r name command; do
    # shellcheck disable=SC2086
    ours="$(rate "$port" $command)"
    # shellcheck disable=SC2086
    peer="$(rate 6390 $command)"
    results+=("$name|$ours|$peer")
done <<'TESTS'
LPUSH|LPUSH bench:list e:__rand_int__
LRANGE 0 99|LRANGE bench:range 0 99
SADD|SADD bench:set m:__rand_int__
SISMEMBER|SISMEMBER bench:member e500
HSET|HSET bench:hash f:__rand_int__ v
ZADD|ZADD bench:zset __rand_int__ m:__rand_int__
ZRANGE 0 99 WITHSCORES|ZRANGE bench:zrange 0 99 WITHSCORES
TESTS

for kind in "RPUSH list" "SADD set" "HSET hash" "ZADD zset"; do
    set -- $kind
    fill "$port" "$1" "grow:$2:small" 1000
    fill "$port" "$1" "grow:$2:big" 100000
done
growth=()
while IFS='|' read -r name small big; do
    # shellcheck disable=SC2086
    small_rate="$(rate "$port" $small)"
    # shellcheck disable=SC2086
    big_rate="$(rate "$port" $big)"
    growth+=("$name|$small_rate|$big_rate")
done <<'TESTS'
LPUSH|LPUSH grow:list:small e:__rand_int__|LPUSH grow:list:big e:__rand_int__
SADD|SADD grow:set:small n:__rand_int__|SADD grow:set:big n:__rand_int__
HSET|HSET grow:hash:small n:__rand_int__ v|HSET grow:hash:big n:__rand_int__ v
ZADD|ZADD grow:zset:small __rand_int__ n:__rand_int__|ZADD grow:zset:big __rand_int__ n:__rand_int__
TESTS

python3 - "${results[@]}" -- "${growth[@]}" <<'PY'
import sys
arguments = sys.argv[1:]
split = arguments.index("--")
print("redis-benchmark -c CLIENTS, requests per second")
print(f"{'command':<24}{'elastickv (3 nodes)':>22}{'redis-server (fsync always)':>30}{'ratio':>8}")
for line in arguments[:split]:
    name, ours, peer = line.split("|")
    print(f"{name:<24}{float(ours):>22.0f}{float(peer):>30.0f}{float(ours) / float(peer):>8.3f}")
print()
print("elastickv: adding to a collection of 100k elements vs one of 1k (cost ratio = rate at 1k / rate at 100k)")
print(f"{'command':<12}{'1k elements':>14}{'100k elements':>16}{'cost ratio':>12}")
for line in arguments[split + 1:]:
    name, small, big = line.split("|")
    print(f"{name:<12}{float(small):>14.0f}{float(big):>16.0f}{float(small) / float(big):>12.2f}")
PY
