#!/usr/bin/env python3
"""Issue #14's features measured from outside, elastickv and redis-server in the same run (bench/features-bench.sh
starts both): PUBLISH fan-out to 10 subscribers, MULTI/EXEC of 5 SETs, XREADGROUP + XACK, XADD. Prints rates and ratios; not a
test (nothing is asserted)."""
import argparse
import threading
import time

import redis


def publish_fan_out(publish_port, subscriber_ports, password, messages):
    """Messages per second published (one publisher, one at a time) while 10 subscribers receive every one;
    the clock stops when the last subscriber has the last message."""
    received = [0] * len(subscriber_ports)
    ready = threading.Barrier(len(subscriber_ports) + 1)
    done = threading.Event()

    def subscribe(index, port):
        pubsub = redis.Redis(port=port, password=password).pubsub()
        pubsub.subscribe("bench:fanout")
        while pubsub.get_message(timeout=5) is None:
            pass
        ready.wait()
        while received[index] < messages:
            message = pubsub.get_message(timeout=10)
            if message is None:
                break
            if message["type"] == "message":
                received[index] += 1
        pubsub.close()

    threads = [threading.Thread(target=subscribe, args=(i, port)) for i, port in enumerate(subscriber_ports)]
    for thread in threads:
        thread.start()
    ready.wait()
    publisher = redis.Redis(port=publish_port, password=password)
    started = time.monotonic()
    receivers = 0
    for i in range(messages):
        receivers = publisher.publish("bench:fanout", f"message {i}")
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - started
    done.set()
    return messages / elapsed, receivers, min(received)


def calls_per_second(clients, seconds, call):
    """Runs `call(index, round)` in a loop on `clients` threads for `seconds`; the calls completed per second."""
    counts = [0] * clients
    deadline = time.monotonic() + seconds

    def run(index):
        while time.monotonic() < deadline:
            call(index, counts[index])
            counts[index] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def transactions(port, password, seconds, clients=10):
    """MULTI/EXEC of 5 SETs per second, `clients` connections in parallel."""
    connections = [redis.Redis(port=port, password=password) for _ in range(clients)]

    def call(index, round_number):
        pipe = connections[index].pipeline(transaction=True)
        for j in range(5):
            pipe.set(f"bench:tx:{index}:{j}", round_number)
        pipe.execute()

    return calls_per_second(clients, seconds, call)


THREE_COMMAND_SCRIPT = "redis.call('incr', KEYS[1]); redis.call('set', KEYS[2], ARGV[1]); return redis.call('get', KEYS[2])"


def evalsha(port, password, seconds, clients=10):
    """EVALSHA of a 3-command script (INCR, SET, GET) per second, `clients` connections in parallel."""
    sha = redis.Redis(port=port, password=password).script_load(THREE_COMMAND_SCRIPT)
    connections = [redis.Redis(port=port, password=password) for _ in range(clients)]

    def call(index, round_number):
        value = str(round_number).encode()
        reply = connections[index].evalsha(sha, 2, f"bench:script:{index}:n", f"bench:script:{index}:v", value)
        if reply != value:
            raise AssertionError(f"EVALSHA answered {reply!r}, wanted {value!r}")

    return calls_per_second(clients, seconds, call)


def consume_group(port, password, entries=5000, consumers=10, batch=10):
    """Entries per second read with XREADGROUP (COUNT `batch`) and acknowledged with XACK by `consumers`
    clients of one group, from a stream filled beforehand."""
    client = redis.Redis(port=port, password=password)
    client.delete("bench:group")
    pipe = client.pipeline(transaction=False)
    for i in range(entries):
        pipe.xadd("bench:group", {"field": f"value {i}"}, id=f"{i + 1}-0")
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    client.xgroup_create("bench:group", "g", id="0")
    done = [0] * consumers

    def run(index):
        reader = redis.Redis(port=port, password=password)
        while True:
            reply = reader.xreadgroup("g", f"c{index}", {"bench:group": ">"}, count=batch)
            if not reply:
                return
            ids = [entry_id for entry_id, _ in reply[0][1]]
            reader.xack("bench:group", "g", *ids)
            done[index] += len(ids)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(consumers)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started), sum(done)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--elastickv-ports", required=True, help="comma-separated Redis ports; the first is the leader")
    parser.add_argument("--elastickv-password", default=None)
    parser.add_argument("--redis-port", type=int, required=True)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    ports = [int(p) for p in args.elastickv_ports.split(",")]
    # Subscribers spread over every member (a message reaches all of them), the publisher on the leader.
    ours = publish_fan_out(ports[0], [ports[i % len(ports)] for i in range(10)], args.elastickv_password, args.messages)
    peer = publish_fan_out(args.redis_port, [args.redis_port] * 10, None, args.messages)
    print("PUBLISH to 10 subscribers (messages/s, each received by all 10)")
    print(f"  elastickv {ours[0]:10.0f}   redis-server {peer[0]:10.0f}   ratio {ours[0] / peer[0]:.3f}"
          f"   (receivers per message {ours[1]} / {peer[1]}; fewest received {ours[2]} / {peer[2]})")
    ours_tx = transactions(ports[0], args.elastickv_password, args.seconds)
    peer_tx = transactions(args.redis_port, None, args.seconds)
    print("MULTI/EXEC of 5 SETs, 10 clients (transactions/s)")
    print(f"  elastickv {ours_tx:10.0f}   redis-server {peer_tx:10.0f}   ratio {ours_tx / peer_tx:.3f}")
    ours_script = evalsha(ports[0], args.elastickv_password, args.seconds)
    peer_script = evalsha(args.redis_port, None, args.seconds)
    print("EVALSHA of a 3-command script (INCR, SET, GET), 10 clients (calls/s)")
    print(f"  elastickv {ours_script:10.0f}   redis-server {peer_script:10.0f}   ratio {ours_script / peer_script:.3f}")
    ours_group = consume_group(ports[0], args.elastickv_password)
    peer_group = consume_group(args.redis_port, None)
    print("XREADGROUP COUNT 10 + XACK, 10 consumers of one group (entries/s)")
    print(f"  elastickv {ours_group[0]:10.0f}   redis-server {peer_group[0]:10.0f}   ratio {ours_group[0] / peer_group[0]:.3f}"
          f"   (entries consumed {ours_group[1]} / {peer_group[1]})")


if __name__ == "__main__":
    main()
