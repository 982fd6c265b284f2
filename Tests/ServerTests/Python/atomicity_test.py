"""Atomicity of MULTI/EXEC and scripts across a leader crash, and WATCH races, on a 3-node elastickv cluster.

Usage: atomicity_test.py --bin DIR --workdir DIR

1. Writers on every member run, round after round, a MULTI/EXEC that sets five keys to the round number and an
   EVAL of a script that does the same for five other keys; the leader is SIGKILLed midway and restarted. After
   recovery every member holds, for each group of five keys, one round number in all five (an EXEC or a script
   is applied entirely or not at all), at least the last round acknowledged to the writer, and the members'
   states are identical.
2. Two clients on two different members WATCH the same key, queue a SET and send EXEC at the same moment:
   exactly one EXEC succeeds in every round.
Every process is stopped at the end.
"""
import argparse
import os
import sys
import threading
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import DEADLINE_SECONDS, Cluster, check, retrying  # noqa: E402

GROUP_KEYS = 5
SCRIPT = "for i = 1, #KEYS do redis.call('set', KEYS[i], ARGV[1]) end return #KEYS"
RACE_ROUNDS = 20
UNKNOWN_OUTCOME = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError)


def group_keys(kind, writer):
    return [f"atom:{kind}:{writer}:{i}" for i in range(GROUP_KEYS)]


def writer(cluster, name, stop, acknowledged):
    """Alternates an EXEC and a script; records the last round each was acknowledged for."""
    client = cluster.client(name)
    tx_keys, script_keys = group_keys("tx", name), group_keys("script", name)
    round_number = 0
    while not stop.is_set():
        round_number += 1
        try:
            pipe = client.pipeline(transaction=True)
            for key in tx_keys:
                pipe.set(key, round_number)
            if pipe.execute() == [True] * GROUP_KEYS:
                acknowledged[("tx", name)] = round_number
        except UNKNOWN_OUTCOME:
            time.sleep(0.05)
        try:
            if client.eval(SCRIPT, GROUP_KEYS, *script_keys, round_number) == GROUP_KEYS:
                acknowledged[("script", name)] = round_number
        except UNKNOWN_OUTCOME:
            time.sleep(0.05)


def state(cluster, name):
    """Every atom:* key and its value, read through `name` (linearizable reads)."""
    client = cluster.client(name)
    keys = sorted(retrying(lambda: client.keys("atom:*"), f"KEYS through {name}"))
    values = retrying(lambda: client.mget(keys), f"MGET through {name}") if keys else []
    return dict(zip(keys, values))


def crash_while_writing(cluster):
    leader = cluster.leader()
    stop = threading.Event()
    acknowledged = {}
    threads = [threading.Thread(target=writer, args=(cluster, name, stop, acknowledged)) for name in cluster.grpc]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    cluster.kill(leader)
    time.sleep(3.0)
    cluster.start(leader)
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    check(len(acknowledged) >= 4, f"too few groups acknowledged: {acknowledged}")
    # Every member has applied everything: one more write through each, read back everywhere.
    for name in cluster.grpc:
        retrying(lambda: cluster.client(name).set("atom-barrier", name), f"barrier write through {name}")
    states = {}
    for name in cluster.grpc:
        deadline = time.time() + DEADLINE_SECONDS
        while True:
            states[name] = state(cluster, name)
            if all(states[name] == states[other] for other in states) or time.time() > deadline:
                break
            time.sleep(0.2)
    first = next(iter(states))
    for name, found in states.items():
        check(found == states[first], f"{name} and {first} hold different states after recovery")
        for (kind, writer_name), last in acknowledged.items():
            values = [found.get(key.encode()) for key in group_keys(kind, writer_name)]
            check(len(set(values)) == 1, f"{name}: {kind} group of {writer_name} is half applied: {values}")
            check(values[0] is not None and int(values[0]) >= last,
                  f"{name}: {kind} group of {writer_name} holds round {values[0]!r}, {last} was acknowledged")
    return leader, sum(acknowledged.values())


def watch_race(cluster):
    """Two members, one watched key, two EXECs released together: exactly one applies per round."""
    names = list(cluster.grpc)[:2]
    clients = [cluster.client(name) for name in names]
    key = "race:key"
    for round_number in range(RACE_ROUNDS):
        retrying(lambda: clients[0].set(key, "start"), "reset the raced key")
        pipes = [client.pipeline(transaction=True) for client in clients]
        for pipe in pipes:
            pipe.watch(key)
            check(pipe.get(key) == b"start", "both clients read the key before queueing")
            pipe.multi()
        for pipe, name in zip(pipes, names):
            pipe.set(key, name)
        barrier = threading.Barrier(2)
        outcomes = [None, None]

        def execute(index):
            barrier.wait(timeout=30)
            try:
                outcomes[index] = pipes[index].execute()
            except redis.exceptions.WatchError:
                outcomes[index] = "aborted"
            finally:
                pipes[index].reset()

        threads = [threading.Thread(target=execute, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        applied = [i for i, outcome in enumerate(outcomes) if outcome == [True]]
        check(len(applied) == 1 and outcomes[1 - applied[0]] == "aborted",
              f"round {round_number}: EXEC outcomes {outcomes}, exactly one must apply")
        winner = names[applied[0]].encode()
        for name in cluster.grpc:
            check(retrying(lambda: cluster.client(name).get(key), f"GET through {name}") == winner,
                  f"round {round_number}: {name} does not read the winner's value")
    return RACE_ROUNDS


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    cluster = Cluster(args.bin, args.workdir)
    try:
        for name in cluster.grpc:
            cluster.start(name)
        cluster.leader()
        rounds = watch_race(cluster)
        killed, acknowledged = crash_while_writing(cluster)
        print(f"ok: {rounds} WATCH races with exactly one EXEC applied each; EXECs and scripts all-or-nothing "
              f"across the SIGKILL of leader {killed} ({acknowledged} rounds acknowledged), members identical")
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
