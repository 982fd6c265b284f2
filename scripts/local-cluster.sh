#!/usr/bin/env bash
# Runs an elastickv cluster on loopback from already-built binaries.
#
#   scripts/local-cluster.sh start  [--nodes N] [--base-port P] [--dir DIR] [--encrypted] [--tls]
#                                   [--release] [--build] [--bin DIR]
#   scripts/local-cluster.sh stop   [--dir DIR]
#   scripts/local-cluster.sh status [--dir DIR]
#
# Node i (1…N, N ≤ 99) listens on Redis P+i, gRPC P+100+i and metrics P+200+i (P defaults to 6380: Redis
# 6381-6383, gRPC 6481-6483, metrics 6581-6583). Data, logs, pid files and the KEK live in DIR (default
# ${TMPDIR:-/tmp}/elastickv-local-cluster), outside the repository. The binaries come from --bin DIR, else
# .build/debug (.build/release with --release); they are built only when missing or with --build.
#
# `start` refuses a port that is already in use, waits until a leader is known, and with --encrypted (a fresh
# 32-byte KEK file, mode 0600, shared by every node) switches on the storage and the Raft envelope. With --tls,
# a throw-away CA and node certificates are made in DIR/certs (scripts/make-test-certs.sh): gRPC between the
# nodes and for elastickv-admin is mutual TLS (the admin certificate is DIR/certs/admin.pem, OU=admin), and
# node i also serves Redis over TLS on P+300+i, requiring a client certificate of that CA (DIR/certs/client.pem). A second
# `start` on the same DIR restarts the stopped members with the settings DIR was created with. `stop` sends
# SIGTERM, waits, then SIGKILLs what is left. `status` is `elastickv-admin cluster status` on a live member.
#
# Exit codes: 0 done, 64 usage error, 69 no leader in time or no member answers, 73 DIR cannot be created,
# 75 a port is in use or DIR belongs to another cluster, 1 anything else.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
start_timeout_seconds="${ELASTICKV_START_TIMEOUT:-60}"
stop_timeout_seconds="${ELASTICKV_STOP_TIMEOUT:-30}"
admin_timeout_seconds=10
max_nodes=99

usage() {
    sed -n '4,7p' "$0" | sed 's/^# //' >&2
    exit 64
}
die() { echo "local-cluster: $2" >&2; exit "$1"; }

command="${1:-}"
[ $# -gt 0 ] && shift
nodes="" base_port="" dir="${TMPDIR:-/tmp}/elastickv-local-cluster" encrypted="" tls="" mode="debug" build=0 bin=""
while [ $# -gt 0 ]; do
    case "$1" in
        --nodes) [ $# -ge 2 ] || usage; nodes="$2"; shift 2 ;;
        --base-port) [ $# -ge 2 ] || usage; base_port="$2"; shift 2 ;;
        --dir) [ $# -ge 2 ] || usage; dir="$2"; shift 2 ;;
        --bin) [ $# -ge 2 ] || usage; bin="$2"; shift 2 ;;
        --encrypted) encrypted=1; shift ;;
        --tls) tls=1; shift ;;
        --release) mode="release"; shift ;;
        --build) build=1; shift ;;
        -h|--help) usage ;;
        *) echo "local-cluster: unknown argument $1" >&2; usage ;;
    esac
done
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
state="$dir/cluster.env"

is_number() { [[ "$1" =~ ^[0-9]+$ ]]; }
redis_port() { echo $((base_port + $1)); }
grpc_port() { echo $((base_port + 100 + $1)); }
metrics_port() { echo $((base_port + 200 + $1)); }
redis_tls_port() { echo $((base_port + 300 + $1)); }

# The settings DIR was started with: NODES, BASE_PORT, ENCRYPTED, TLS, BIN.
load_state() {
    [ -f "$state" ] || die 69 "no cluster in $dir (run: $0 start --dir $dir)"
    # shellcheck disable=SC1090
    . "$state"
    nodes="$NODES" base_port="$BASE_PORT" encrypted="$ENCRYPTED" tls="${TLS:-0}" bin="$BIN"
}

# Checks the flags given to `start` against a DIR that already holds a cluster.
reconcile_state() {
    local given_nodes="$nodes" given_port="$base_port" given_encrypted="$encrypted" given_tls="$tls" given_bin="$bin"
    load_state
    [ -z "$given_nodes" ] || [ "$given_nodes" = "$nodes" ] ||
        die 75 "$dir holds a $nodes-node cluster, not $given_nodes (use another --dir, or remove $dir)"
    [ -z "$given_port" ] || [ "$given_port" = "$base_port" ] ||
        die 75 "$dir holds a cluster on base port $base_port, not $given_port (use another --dir, or remove $dir)"
    [ -z "$given_encrypted" ] || [ "$given_encrypted" = "$encrypted" ] ||
        die 75 "$dir holds a cleartext cluster; --encrypted needs a new --dir"
    [ -z "$given_tls" ] || [ "$given_tls" = "$tls" ] ||
        die 75 "$dir holds a cluster without Redis TLS; --tls needs a new --dir"
    [ -z "$given_bin" ] || bin="$given_bin"
}

# Sets `bin` to a directory holding both executables, building them when missing or asked to.
resolve_binaries() {
    if [ -n "$bin" ]; then
        case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
        for product in elastickv elastickv-admin; do
            [ -x "$bin/$product" ] || die 1 "$bin/$product is not an executable (--bin)"
        done
        return
    fi
    bin="$repo/.build/$mode"
    if [ "$build" = 1 ] || [ ! -x "$bin/elastickv" ] || [ ! -x "$bin/elastickv-admin" ]; then
        echo "building elastickv and elastickv-admin ($mode)"
        for product in elastickv elastickv-admin; do
            (cd "$repo" && swift build -c "$mode" --product "$product") >/dev/null
        done
        bin="$(cd "$repo" && swift build -c "$mode" --show-bin-path)"
    fi
}

validate_layout() {
    is_number "$nodes" && [ "$nodes" -ge 1 ] && [ "$nodes" -le "$max_nodes" ] ||
        die 64 "--nodes must be 1…$max_nodes, not $nodes"
    is_number "$base_port" && [ "$base_port" -ge 1 ] && [ "$((base_port + 300 + nodes))" -le 65535 ] ||
        die 64 "--base-port must be 1…$((65535 - 300 - nodes)) for $nodes nodes, not $base_port"
}

pid_file() { echo "$dir/n$1.pid"; }

# Whether node i runs: its pid file names a live process started on this cluster's data dir.
running_pid() {
    local file pid arguments
    file="$(pid_file "$1")"
    [ -f "$file" ] || return 1
    pid="$(cat "$file")"
    is_number "$pid" && kill -0 "$pid" 2>/dev/null || return 1
    arguments="$(command_line "$pid")"
    [[ "$arguments" == *"--data-dir $dir/n$1 "* ]] || return 1
    echo "$pid"
}

# The process's arguments, space-separated (a pid reused by another program does not name our data dir).
command_line() {
    if [ -r "/proc/$1/cmdline" ]; then tr '\0' ' ' <"/proc/$1/cmdline"; echo; else ps -o args= -p "$1"; echo; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() {
    local i taken=()
    for i in $(seq 1 "$nodes"); do
        running_pid "$i" >/dev/null && continue
        port_in_use "$(redis_port "$i")" && taken+=("$(redis_port "$i") (n$i --redis-addr)")
        port_in_use "$(grpc_port "$i")" && taken+=("$(grpc_port "$i") (n$i --grpc-addr)")
        port_in_use "$(metrics_port "$i")" && taken+=("$(metrics_port "$i") (n$i --metrics-addr)")
        [ "$tls" = 1 ] && port_in_use "$(redis_tls_port "$i")" && taken+=("$(redis_tls_port "$i") (n$i --redis-tls-addr)")
    done
    [ ${#taken[@]} -eq 0 ] || die 75 "port(s) in use on 127.0.0.1: ${taken[*]}; choose another --base-port"
}

initial_cluster() {
    local i members=()
    for i in $(seq 1 "$nodes"); do members+=("n$i=127.0.0.1:$(grpc_port "$i")"); done
    (IFS=,; echo "${members[*]}")
}

make_kek() {
    [ -f "$dir/kek" ] && return
    (umask 077 && head -c 32 /dev/urandom >"$dir/kek.tmp")
    chmod 600 "$dir/kek.tmp"
    mv "$dir/kek.tmp" "$dir/kek"
}

start_node() {
    local i="$1" flags=()
    [ "$encrypted" = 1 ] && flags+=(--encryption-enabled --kek-file "$dir/kek")
    [ "$tls" = 1 ] && flags+=(--redis-tls-addr "127.0.0.1:$(redis_tls_port "$i")" --tls-cert-file "$dir/certs/n$i.pem"
        --tls-key-file "$dir/certs/n$i.key" --tls-ca-file "$dir/certs/ca.pem")
    nohup "$bin/elastickv" --node-id "n$i" --data-dir "$dir/n$i" --grpc-addr "127.0.0.1:$(grpc_port "$i")" \
        --redis-addr "127.0.0.1:$(redis_port "$i")" --metrics-addr "127.0.0.1:$(metrics_port "$i")" \
        --initial-cluster "$(initial_cluster)" "${flags[@]}" </dev/null >>"$dir/n$i.log" 2>&1 &
    echo $! >"$(pid_file "$i")"
}

admin() {
    local tls_flags=()
    [ "$tls" = 1 ] && tls_flags=(--tls-cert-file "$dir/certs/admin.pem" --tls-key-file "$dir/certs/admin.key"
        --tls-ca-file "$dir/certs/ca.pem")
    "$bin/elastickv-admin" --timeout "$admin_timeout_seconds" "${tls_flags[@]}" "$@"
}

# The leader's gRPC address as some live member reports it, or nothing.
leader_addr() {
    local i status addr
    for i in $(seq 1 "$nodes"); do
        running_pid "$i" >/dev/null || continue
        status="$(admin --addr "127.0.0.1:$(grpc_port "$i")" --json cluster status 2>/dev/null)" || continue
        addr="$(printf '%s\n' "$status" | sed -n 's/^ *"leader_addr" *: *"\([^"]*\)".*/\1/p')"
        [ -n "$addr" ] && { echo "$addr"; return 0; }
    done
    return 1
}

wait_for_leader() {
    local deadline=$((SECONDS + start_timeout_seconds)) addr i
    while [ "$SECONDS" -lt "$deadline" ]; do
        addr="$(leader_addr)" && { echo "$addr"; return 0; }
        for i in $(seq 1 "$nodes"); do
            running_pid "$i" >/dev/null && continue
            echo "local-cluster: n$i exited; the end of $dir/n$i.log:" >&2
            tail -n 20 "$dir/n$i.log" >&2
            return 1
        done
        sleep 0.3
    done
    echo "local-cluster: no leader within $start_timeout_seconds s (logs: $dir/n*.log)" >&2
    return 1
}

# Runs an encryption mutator on the leader, asking again for the leader while it moves or is busy.
on_leader() {
    local deadline=$((SECONDS + start_timeout_seconds)) addr output status
    while :; do
        addr="$(leader_addr)" || addr=""
        if [ -n "$addr" ]; then
            status=0
            output="$(admin --addr "$addr" encryption "$@" 2>&1)" || status=$?
            if [ "$status" -eq 0 ]; then echo "  $* on $addr: $output"; return 0; fi
            [ "$status" -ne 64 ] || { echo "$output" >&2; return 1; }
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "local-cluster: encryption $* did not succeed within $start_timeout_seconds s:" \
                "${output:-no leader}" >&2
            return 1
        fi
        sleep 0.5
    done
}

print_connect() {
    local leader="$1" i
    echo
    echo "cluster of $nodes in $dir; leader at $leader (gRPC)"
    for i in $(seq 1 "$nodes"); do
        echo "  n$i  redis-cli -p $(redis_port "$i")   metrics http://127.0.0.1:$(metrics_port "$i")/metrics" \
            "  log $dir/n$i.log"
    done
    if [ "$tls" = 1 ]; then
        echo "  admin: $bin/elastickv-admin --addr $leader --tls-cert-file $dir/certs/admin.pem" \
            "--tls-key-file $dir/certs/admin.key --tls-ca-file $dir/certs/ca.pem cluster status"
    else
        echo "  admin: $bin/elastickv-admin --addr $leader cluster status"
    fi
    [ "$encrypted" = 1 ] && echo "  encryption: $bin/elastickv-admin --addr $leader encryption status (KEK $dir/kek)"
    [ "$tls" = 1 ] && echo "  redis over TLS: redis-cli --tls -p $(redis_tls_port 1) --cacert $dir/certs/ca.pem" \
        "--cert $dir/certs/client.pem --key $dir/certs/client.key"
    echo "  stop:  $0 stop --dir $dir"
}

start() {
    if [ -f "$state" ]; then
        reconcile_state
    else
        nodes="${nodes:-3}" base_port="${base_port:-6380}" encrypted="${encrypted:-0}" tls="${tls:-0}"
    fi
    validate_layout
    resolve_binaries
    check_ports_free
    [ -d "$dir" ] || mkdir -p -m 700 "$dir" 2>/dev/null || die 73 "cannot create $dir"
    printf 'NODES=%s\nBASE_PORT=%s\nENCRYPTED=%s\nTLS=%s\nBIN=%q\n' "$nodes" "$base_port" "$encrypted" "$tls" "$bin" \
        >"$state"
    [ "$encrypted" = 1 ] && make_kek
    if [ "$tls" = 1 ] && [ ! -f "$dir/certs/ca.pem" ]; then
        "$repo/scripts/make-test-certs.sh" "$dir/certs" $(for i in $(seq 1 "$nodes"); do echo "n$i"; done) >/dev/null ||
            die 1 "could not make the test certificates in $dir/certs (is openssl installed?)"
    fi
    local i leader
    for i in $(seq 1 "$nodes"); do
        if running_pid "$i" >/dev/null; then echo "n$i already running (pid $(running_pid "$i"))"; continue; fi
        start_node "$i"
        echo "n$i started (pid $(cat "$(pid_file "$i")"), redis 127.0.0.1:$(redis_port "$i"))"
    done
    leader="$(wait_for_leader)" || { stop_nodes; exit 69; }
    if [ "$encrypted" = 1 ]; then
        echo "switching on encryption at rest"
        on_leader enable-storage-envelope && on_leader enable-raft-envelope || { stop_nodes; exit 69; }
    fi
    print_connect "$leader"
}

stop_nodes() {
    local i pid pids=() names=()
    for i in $(seq 1 "$nodes"); do
        if pid="$(running_pid "$i")"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid") names+=("n$i")
        fi
        rm -f "$(pid_file "$i")"
    done
    local deadline=$((SECONDS + stop_timeout_seconds)) index alive
    while :; do
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] || [ "$SECONDS" -ge "$deadline" ] && break
        sleep 0.1
    done
    for index in "${!pids[@]}"; do
        if kill -0 "${pids[$index]}" 2>/dev/null; then
            kill -KILL "${pids[$index]}" 2>/dev/null || true
            echo "${names[$index]} killed (no exit within $stop_timeout_seconds s of SIGTERM)"
        else
            echo "${names[$index]} stopped"
        fi
    done
    [ ${#pids[@]} -gt 0 ] || echo "no member of the cluster in $dir was running"
}

stop() {
    load_state
    stop_nodes
}

status() {
    load_state
    local i pid live=""
    for i in $(seq 1 "$nodes"); do
        if pid="$(running_pid "$i")"; then
            echo "n$i running (pid $pid): redis 127.0.0.1:$(redis_port "$i"), gRPC 127.0.0.1:$(grpc_port "$i")"
            [ -n "$live" ] || live="$i"
        else
            echo "n$i not running"
        fi
    done
    [ -n "$live" ] || die 69 "no member of the cluster in $dir is running"
    echo
    admin --addr "127.0.0.1:$(grpc_port "$live")" cluster status
}

case "$command" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) usage ;;
esac
