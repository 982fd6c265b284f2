"""End-to-end test of a 3-node elastickv cluster started from the built binaries, with redis-py.

Usage: cluster_test.py --bin DIR --workdir DIR
Exercises every Redis command the node supports (through the leader and through followers), pipelining,
TTLs and AUTH; then SIGKILLs the leader while a client writes, restarts it, and checks that every
acknowledged write is readable everywhere (the restarted node catches up through the log, and a node
started after many more writes catches up through a snapshot). Every process is stopped at the end.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
from ports import free_ports  # noqa: E402

PASSWORD = "s3cret"
DEADLINE_SECONDS = 60


class Cluster:
    def __init__(self, bin_dir, workdir):
        self.bin = os.path.join(bin_dir, "elastickv")
        self.workdir = workdir
        ports = free_ports(6)
        self.grpc = {f"n{i + 1}": ports[i] for i in range(3)}
        self.redis = {f"n{i + 1}": ports[3 + i] for i in range(3)}
        self.processes = {}
        self.initial = ",".join(f"{name}=127.0.0.1:{port}" for name, port in self.grpc.items())

    def start(self, name):
        log = open(os.path.join(self.workdir, f"{name}.log"), "a")
        self.processes[name] = subprocess.Popen(
            [self.bin, "--node-id", name, "--data-dir", os.path.join(self.workdir, name),
             "--grpc-addr", f"127.0.0.1:{self.grpc[name]}", "--redis-addr", f"127.0.0.1:{self.redis[name]}",
             "--metrics-addr", "", "--initial-cluster", self.initial, "--redis-password", PASSWORD,
             "--snapshot-every-entries", "300"],
            stdout=log, stderr=log)

    def kill(self, name, sig=signal.SIGKILL):
        process = self.processes.pop(name)
        process.send_signal(sig)
        process.wait(timeout=30)

    def stop_all(self):
        for name in list(self.processes):
            try:
                self.kill(name, signal.SIGTERM)
            except Exception:
                self.processes.get(name, None) and self.processes[name].kill()

    def client(self, name, **options):
        return redis.Redis(host="127.0.0.1", port=self.redis[name], password=PASSWORD, socket_timeout=15,
                           **options)

    def leader(self):
        info = {}
        deadline = time.time() + DEADLINE_SECONDS
        while time.time() < deadline:
            for name in self.processes:
                try:
                    info[name] = self.client(name).info()
                except Exception:
                    pass
            statuses = [self.role(name) for name in self.processes]
            leaders = [name for name, role in zip(self.processes, statuses) if role == "leader"]
            if leaders:
                return leaders[0]
            time.sleep(0.2)
        raise AssertionError("no leader elected")

    def role(self, name):
        try:
            out = subprocess.run([os.path.join(os.path.dirname(self.bin), "elastickv-admin"), "--addr",
                                  f"127.0.0.1:{self.grpc[name]}", "--json", "cluster", "status"],
                                 capture_output=True, text=True, timeout=10)
            import json
            status = json.loads(out.stdout)
            return "leader" if status.get("leader") == name else "follower"
        except Exception:
            return "unknown"


def retrying(operation, what):
    deadline = time.time() + DEADLINE_SECONDS
    while True:
        try:
            return operation()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.ResponseError) as error:
            text = str(error)
            retryable = isinstance(error, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)) \
                or text.startswith(("TRYAGAIN", "CLUSTERDOWN", "node unavailable")) or "retry" in text
            if not retryable or time.time() > deadline:
                raise AssertionError(f"{what}: {error}")
            time.sleep(0.1)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def exercise_strings(r, tag):
    k = f"{tag}:s"
    check(r.set(k, "v") is True, "SET")
    check(r.get(k) == b"v", "GET")
    check(r.set(k, "w", nx=True) is None, "SET NX on existing")
    check(r.set(f"{k}:new", "x", xx=True) is None, "SET XX on missing")
    check(r.set(k, "w", get=True) == b"v", "SET GET")
    check(r.set(k, "t", ex=100) is True and 95 <= r.ttl(k) <= 100, "SET EX / TTL")
    check(r.set(k, "t", px=100000) and 95000 <= r.pttl(k) <= 100000, "SET PX / PTTL")
    check(r.set(k, "t", exat=int(time.time()) + 100) and 90 <= r.ttl(k) <= 100, "SET EXAT")
    check(r.set(k, "t", pxat=int(time.time() * 1000) + 100000) and r.pttl(k) > 90000, "SET PXAT")
    check(r.set(k, "u", keepttl=True) and r.ttl(k) > 90, "SET KEEPTTL")
    check(r.setnx(f"{k}:nx", "1") is True and r.setnx(f"{k}:nx", "2") is False, "SETNX")
    check(r.setex(f"{k}:ex", 50, "v") and 45 <= r.ttl(f"{k}:ex") <= 50, "SETEX")
    check(r.psetex(f"{k}:px", 50000, "v") and r.pttl(f"{k}:px") > 45000, "PSETEX")
    check(r.getset(k, "g") == b"u", "GETSET")
    check(r.getdel(k) == b"g" and r.get(k) is None, "GETDEL")
    r.set(k, "e")
    check(r.getex(k, ex=30) == b"e" and 25 <= r.ttl(k) <= 30, "GETEX EX")
    check(r.getex(k, persist=True) == b"e" and r.ttl(k) == -1, "GETEX PERSIST")
    check(r.mset({f"{k}:a": "1", f"{k}:b": "2"}) is True, "MSET")
    check(r.mget(f"{k}:a", f"{k}:b", f"{k}:none") == [b"1", b"2", None], "MGET")
    check(r.msetnx({f"{k}:a": "9", f"{k}:c": "3"}) is False and r.get(f"{k}:c") is None, "MSETNX")
    check(r.exists(f"{k}:a", f"{k}:b", f"{k}:none") == 2, "EXISTS")
    check(r.delete(f"{k}:a") == 1 and r.unlink(f"{k}:b") == 1, "DEL / UNLINK")
    check(r.incr(f"{k}:n") == 1 and r.incrby(f"{k}:n", 10) == 11, "INCR / INCRBY")
    check(r.decr(f"{k}:n") == 10 and r.decrby(f"{k}:n", 4) == 6, "DECR / DECRBY")
    check(abs(r.incrbyfloat(f"{k}:f", 10.5) - 10.5) < 1e-9 and r.incrbyfloat(f"{k}:f", 0.1) == 10.6,
          "INCRBYFLOAT")
    check(r.append(f"{k}:ap", "Hello") == 5 and r.append(f"{k}:ap", " World") == 11, "APPEND")
    check(r.strlen(f"{k}:ap") == 11 and r.getrange(f"{k}:ap", 0, 4) == b"Hello", "STRLEN / GETRANGE")
    check(r.setrange(f"{k}:ap", 6, "Redis") == 11 and r.get(f"{k}:ap") == b"Hello Redis", "SETRANGE")
    try:
        r.incr(f"{k}:ap")
        check(False, "INCR on a non-number must fail")
    except redis.exceptions.ResponseError as error:
        check("not an integer" in str(error), "INCR error text")


def exercise_keys_and_hashes(r, tag):
    k = f"{tag}:k"
    r.set(k, "v")
    check(r.expire(k, 100) is True and r.ttl(k) > 90, "EXPIRE")
    check(r.pexpire(k, 100000) is True and r.pttl(k) > 90000, "PEXPIRE")
    check(r.expireat(k, int(time.time()) + 100) and r.ttl(k) > 90, "EXPIREAT")
    check(r.pexpireat(k, int(time.time() * 1000) + 100000) and r.pttl(k) > 90000, "PEXPIREAT")
    check(r.persist(k) is True and r.ttl(k) == -1, "PERSIST")
    check(r.type(k) == b"string" and r.type(f"{k}:none") == b"none", "TYPE")
    h = f"{tag}:h"
    check(r.hset(h, mapping={"a": "1", "b": "2"}) == 2, "HSET")
    check(r.hget(h, "a") == b"1" and r.hmget(h, ["a", "zz"]) == [b"1", None], "HGET / HMGET")
    check(r.hgetall(h) == {b"a": b"1", b"b": b"2"}, "HGETALL")
    check(r.hlen(h) == 2 and r.hexists(h, "a") and not r.hexists(h, "c"), "HLEN / HEXISTS")
    check(sorted(r.hkeys(h)) == [b"a", b"b"] and sorted(r.hvals(h)) == [b"1", b"2"], "HKEYS / HVALS")
    check(r.hincrby(h, "a", 41) == 42, "HINCRBY")
    check(r.hdel(h, "a", "zz") == 1, "HDEL")
    check(r.type(h) == b"hash", "TYPE hash")
    try:
        r.get(h)
        check(False, "GET on a hash must fail")
    except redis.exceptions.ResponseError as error:
        check(str(error).startswith("WRONGTYPE"), "WRONGTYPE text")
    for i in range(15):
        r.set(f"{tag}:scan:{i}", i)
    check(len(r.keys(f"{tag}:scan:*")) == 15, "KEYS")
    check(len(set(r.scan_iter(match=f"{tag}:scan:*", count=4))) == 15, "SCAN MATCH COUNT")
    check(r.dbsize() >= 15, "DBSIZE")


def exercise_connection(cluster, name):
    r = cluster.client(name)
    check(r.ping() is True and r.echo("hi") == b"hi", "PING / ECHO")
    check(r.client_setname("tester") and r.client_getname() == "tester", "CLIENT SETNAME / GETNAME")
    check(isinstance(r.client_id(), int), "CLIENT ID")
    check(r.execute_command("CLIENT", "SETINFO", "LIB-NAME", "test") in (b"OK", "OK", True), "CLIENT SETINFO")
    check(r.execute_command("SELECT", 0) in (b"OK", "OK", True), "SELECT 0")
    check(r.command_count() > 40, "COMMAND COUNT")
    check("redis_version" in r.info(), "INFO")
    r3 = cluster.client(name, protocol=3)
    check(r3.ping() is True and r3.set("resp3", "x") and r3.get("resp3") == b"x", "HELLO 3")
    try:
        redis.Redis(host="127.0.0.1", port=cluster.redis[name], password="wrong").ping()
        check(False, "a wrong password must be refused")
    except redis.exceptions.AuthenticationError:
        pass
    try:
        redis.Redis(host="127.0.0.1", port=cluster.redis[name]).get("x")
        check(False, "a client without AUTH must be refused")
    except (redis.exceptions.AuthenticationError, redis.exceptions.ResponseError):
        pass


def exercise_server_commands(cluster, leader, follower, tag):
    """WAIT, SAVE/LASTSAVE, INFO's sections as redis-py parses them, MONITOR through redis-py's parser."""
    rl, rf = cluster.client(leader), cluster.client(follower)
    check(rl.set(f"{tag}:w", "1") and rl.execute_command("WAIT", 2, 10000) == 2, "WAIT 2 on the leader")
    check(rf.set(f"{tag}:f", "1") and rf.execute_command("WAIT", 1, 10000) == 1, "WAIT on a follower counts itself")
    before = rl.execute_command("LASTSAVE")
    check(rl.execute_command("SAVE") in (b"OK", "OK", True), "SAVE")
    persistence = rl.info("persistence")
    check(persistence["elastickv_snapshot_index"] > 0 and rl.execute_command("LASTSAVE") >= before,
          f"SAVE took a snapshot: {persistence}")
    bgsave = rl.execute_command("BGSAVE")
    check(bgsave in (b"Background saving started", "Background saving started", True), f"BGSAVE: {bgsave!r}")
    everything = rl.info("everything")
    for field in ("redis_version", "connected_clients", "used_memory", "total_commands_processed", "role",
                  "used_cpu_user", "cluster_enabled", "cmdstat_set", "uptime_in_seconds", "rdb_last_save_time"):
        check(field in everything, f"INFO everything has {field}")
    check(everything["role"] == "master" and everything["connected_slaves"] == 2, f"leader's replication: {everything}")
    check(rf.info("replication")["master_link_status"] == "up", "a follower in touch with its leader")
    deadline = time.monotonic() + 30
    while True:
        counts = [cluster.client(name).info("keyspace").get("db0", {}).get("keys") for name in cluster.grpc]
        if len(set(counts)) == 1 and counts[0]:
            break
        check(time.monotonic() < deadline, f"INFO keyspace never agreed across members: {counts}")
        time.sleep(0.2)
    watcher = cluster.client(follower)
    with watcher.monitor() as monitor:
        cluster.client(follower).set(f"{tag}:mon", "a b")
        seen = monitor.next_command()
        check(seen["command"] == f"SET {tag}:mon a b" and seen["db"] == 0, f"MONITOR line as redis-py reads it: {seen}")


def exercise_acl(cluster, leader, follower, tag):
    """ACL users are replicated: made through a follower, they authenticate on every member; their key and
    command limits hold everywhere; once deleted, no member accepts them."""
    admin = cluster.client(follower)
    check(admin.execute_command("ACL", "SETUSER", f"{tag}:u", "on", ">pw", f"~{tag}:*", f"&{tag}:*", "+get", "+set",
                                "+subscribe") in (b"OK", "OK", True), "ACL SETUSER through a follower")
    for name in cluster.grpc:
        def authenticated():
            try:
                user = redis.Redis(host="127.0.0.1", port=cluster.redis[name], username=f"{tag}:u", password="pw",
                                   socket_timeout=15)
                return user.set(f"{tag}:k", name) and user
            except redis.exceptions.AuthenticationError:
                return None
        deadline = time.monotonic() + 30
        user = None
        while user is None:
            user = retrying(authenticated, f"AUTH as the new user on {name}")
            check(user is not None or time.monotonic() < deadline,
                  f"the user made through {follower} cannot AUTH on {name}")
            if user is None:
                time.sleep(0.2)
        try:
            user.get("elsewhere")
            check(False, f"{name}: a key outside the user's pattern was readable")
        except redis.exceptions.NoPermissionError:
            pass
        try:
            user.delete(f"{tag}:k")
            check(False, f"{name}: DEL is not among the user's commands")
        except redis.exceptions.NoPermissionError:
            pass
    # A subscriber whose user loses the channel is disconnected, on another member than the one changed.
    subscriber = socket.create_connection(("127.0.0.1", cluster.redis[leader]), timeout=15)
    subscriber.sendall(f"AUTH {tag}:u pw\r\nSUBSCRIBE {tag}:ch\r\n".encode())
    received = b""
    while b"subscribe" not in received:
        chunk = subscriber.recv(4096)
        check(chunk, f"the subscriber was refused: {received!r}")
        received += chunk
    check(admin.execute_command("ACL", "SETUSER", f"{tag}:u", "resetchannels") in (b"OK", "OK", True),
          "ACL SETUSER resetchannels")
    try:
        closed = subscriber.recv(4096) == b""
    except OSError:
        closed = True
    check(closed, "a subscriber that lost its channel was not disconnected")
    subscriber.close()
    check(cluster.client(leader).execute_command("ACL", "DELUSER", f"{tag}:u") == 1, "ACL DELUSER")
    for name in cluster.grpc:
        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis(host="127.0.0.1", port=cluster.redis[name], username=f"{tag}:u", password="pw",
                            socket_timeout=15).ping()
            except redis.exceptions.AuthenticationError:
                break
            check(time.monotonic() < deadline, f"{name} still accepts the deleted user")
            time.sleep(0.2)


def exercise_pipeline_and_ttl(r, tag):
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.set(f"{tag}:p:{i}", i)
    for i in range(100):
        pipe.get(f"{tag}:p:{i}")
    replies = pipe.execute()
    check(replies[:100] == [True] * 100 and replies[100:] == [str(i).encode() for i in range(100)], "pipelining")
    r.set(f"{tag}:ttl", "v", px=300)
    check(r.get(f"{tag}:ttl") == b"v", "value before expiry")
    time.sleep(0.6)
    check(r.get(f"{tag}:ttl") is None and r.ttl(f"{tag}:ttl") == -2, "value after expiry")


def exercise_transactions(cluster, tag):
    """MULTI/EXEC through redis-py on every member; WATCH sees writes made through another member; concurrent
    optimistic increments (WATCH, GET, MULTI, SET, EXEC, retry on abort) through all members lose none."""
    names = list(cluster.grpc)
    clients = {name: cluster.client(name) for name in names}
    for name, r in clients.items():
        pipe = r.pipeline(transaction=True)
        pipe.set(f"{tag}:tx:{name}", "1").incr(f"{tag}:tx:{name}").get(f"{tag}:tx:{name}")
        check(pipe.execute() == [True, 2, b"2"], f"MULTI/EXEC through {name}")
    first, second = clients[names[0]], clients[names[1]]
    key = f"{tag}:watched"
    first.set(key, "0")
    with first.pipeline(transaction=True) as pipe:
        pipe.watch(key)
        second.set(key, "changed elsewhere")
        pipe.multi()
        pipe.set(key, "mine")
        try:
            pipe.execute()
            raise AssertionError("EXEC applied although the watched key changed through another member")
        except redis.exceptions.WatchError:
            pass
    check(first.get(key) == b"changed elsewhere", "an aborted EXEC applied nothing")

    counter = f"{tag}:counter"
    first.set(counter, "0")
    per_worker, failures = 25, []

    def worker(r):
        done, deadline = 0, time.monotonic() + 60
        with r.pipeline(transaction=True) as pipe:
            while done < per_worker and time.monotonic() < deadline:
                try:
                    pipe.watch(counter)
                    value = int(pipe.get(counter))
                    pipe.multi()
                    pipe.set(counter, value + 1)
                    pipe.execute()
                    done += 1
                except redis.exceptions.WatchError:
                    continue
                finally:
                    pipe.reset()
        if done < per_worker:
            failures.append(f"a worker finished {done} of {per_worker} increments in time")

    threads = [threading.Thread(target=worker, args=(cluster.client(name),)) for name in names for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    check(not failures, "; ".join(failures))
    total = per_worker * len(threads)
    for name, r in clients.items():
        check(r.get(counter) == str(total).encode(), f"{name} reads {r.get(counter)!r}, not {total} increments")


def crash_test(cluster):
    leader = cluster.leader()
    writer_node = next(name for name in cluster.processes if name != leader)
    acknowledged = []
    stop = threading.Event()

    def writer():
        r = cluster.client(writer_node)
        i = 0
        while not stop.is_set():
            key = f"crash:{i}"
            try:
                if r.set(key, i):
                    acknowledged.append(key)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    redis.exceptions.ResponseError):
                time.sleep(0.05)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(1.0)
    cluster.kill(leader)
    time.sleep(3.0)
    stop.set()
    thread.join(timeout=60)
    check(len(acknowledged) > 20, f"too few writes acknowledged ({len(acknowledged)})")
    cluster.start(leader)
    for name in cluster.processes:
        r = cluster.client(name)
        missing = retrying(lambda: [k for k in acknowledged if r.get(k) is None], f"read back on {name}")
        deadline = time.time() + DEADLINE_SECONDS
        while missing and time.time() < deadline:
            time.sleep(0.2)
            missing = [k for k in missing if r.get(k) is None]
        check(not missing, f"{name} lost acknowledged writes: {missing[:5]}")
    return leader, len(acknowledged)


def snapshot_catch_up(cluster):
    victim = next(name for name in cluster.processes if cluster.role(name) != "leader")
    cluster.kill(victim)
    r = cluster.client(next(name for name in cluster.processes))
    for i in range(700):
        retrying(lambda: r.set(f"snap:{i}", i), "write while a member is down")
    # Databases and a sorted set travel in the snapshot too: db 3's keys end up in db 4 by SWAPDB, db 5 is
    # flushed.
    live = next(name for name in cluster.processes if name != victim)
    db3, db5 = cluster.client(live, db=3), cluster.client(live, db=5)
    retrying(lambda: db3.set("snapdb", "three") and db3.zadd("snapz", {"a": 1, "b": 2.5}), "writes in db 3")
    retrying(lambda: db5.set("gone", "x") and db5.flushdb(), "FLUSHDB in db 5")
    retrying(lambda: db3.swapdb(3, 4), "SWAPDB 3 4")
    cluster.start(victim)
    rv = cluster.client(victim)
    deadline = time.time() + DEADLINE_SECONDS
    while time.time() < deadline:
        try:
            if rv.get("snap:699") == b"699":
                break
        except Exception:
            pass
        time.sleep(0.2)
    check(rv.get("snap:699") == b"699" and rv.get("snap:0") == b"0", f"{victim} did not catch up")
    rv4 = cluster.client(victim, db=4)
    check(rv4.get("snapdb") == b"three" and rv4.zrange("snapz", 0, -1, withscores=True) == [(b"a", 1.0), (b"b", 2.5)],
          f"{victim} lacks db 4 after SWAPDB")
    check(cluster.client(victim, db=3).dbsize() == 0 and cluster.client(victim, db=5).dbsize() == 0,
          f"{victim} still holds keys in db 3 or the flushed db 5")
    log = open(os.path.join(cluster.workdir, f"{victim}.log")).read()
    check("installed snapshot" in log, f"{victim} caught up without installing a snapshot")


def exercise_blocking_pops(cluster, tag):
    """A client blocked in BLPOP (or BZPOPMIN) on one member wakes when a push commits through another member,
    the clients blocked on one member are served in the order they blocked, and a timeout answers nil."""
    names = list(cluster.grpc)
    waiting_on, pushing_through = names[0], names[1]
    key = f"{tag}:queue"
    replies, threads = {}, []

    def pop(label, client):
        replies[label] = client.blpop([key], timeout=30)

    for label in ("first", "second"):
        client = cluster.client(waiting_on)
        thread = threading.Thread(target=pop, args=(label, client))
        thread.start()
        threads.append(thread)
        # Both block on the same member, the first one first (CLIENT LIST is not served: poll INFO's count).
        deadline = time.monotonic() + DEADLINE_SECONDS
        while cluster.client(waiting_on).info("clients").get("blocked_clients", 0) < len(threads):
            check(time.monotonic() < deadline, f"{label} BLPOP never blocked on {waiting_on}")
            time.sleep(0.05)
    pusher = cluster.client(pushing_through)
    check(pusher.rpush(key, "one") == 1, "RPUSH through another member")
    deadline = time.monotonic() + DEADLINE_SECONDS
    while "first" not in replies and time.monotonic() < deadline:
        time.sleep(0.05)
    check(pusher.rpush(key, "two") >= 1, "second RPUSH")
    for thread in threads:
        thread.join(timeout=40)
    check(replies.get("first") == (key.encode(), b"one"), f"the first blocked client got {replies.get('first')!r}")
    check(replies.get("second") == (key.encode(), b"two"), f"the second blocked client got {replies.get('second')!r}")
    started = time.monotonic()
    check(cluster.client(names[2]).blpop([f"{tag}:empty"], timeout=0.3) is None, "a BLPOP that times out")
    check(time.monotonic() - started >= 0.3, "the BLPOP timeout was not waited for")

    # Sorted sets block the same way: BZPOPMIN on one member wakes on a ZADD through another.
    zkey = f"{tag}:zqueue"
    popped = {}
    blocked_before = cluster.client(waiting_on).info("clients").get("blocked_clients", 0)
    thread = threading.Thread(target=lambda: popped.update(reply=cluster.client(waiting_on).bzpopmin([zkey], timeout=30)))
    thread.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while cluster.client(waiting_on).info("clients").get("blocked_clients", 0) <= blocked_before:
        check(time.monotonic() < deadline, f"BZPOPMIN never blocked on {waiting_on}")
        time.sleep(0.05)
    check(pusher.zadd(zkey, {"high": 9, "low": 1.5}) == 2, "ZADD through another member")
    thread.join(timeout=40)
    check(popped.get("reply") == (zkey.encode(), b"low", 1.5), f"the BZPOPMIN client got {popped.get('reply')!r}")
    check(pusher.zrange(zkey, 0, -1, withscores=True) == [(b"high", 9.0)], "BZPOPMIN took only the lowest member")
    started = time.monotonic()
    check(cluster.client(names[2]).bzpopmax([f"{tag}:zempty"], timeout=0.3) is None, "a BZPOPMAX that times out")
    check(time.monotonic() - started >= 0.3, "the BZPOPMAX timeout was not waited for")

    # A blocking stream read on one member wakes on an XADD through another.
    skey = f"{tag}:stream"
    pusher.xadd(skey, {"old": "entry"}, id="1-1")
    read = {}
    blocked_before = cluster.client(waiting_on).info("clients").get("blocked_clients", 0)
    thread = threading.Thread(target=lambda: read.update(
        reply=cluster.client(waiting_on).xread({skey: "$"}, block=30000)))
    thread.start()
    deadline = time.monotonic() + DEADLINE_SECONDS
    while cluster.client(waiting_on).info("clients").get("blocked_clients", 0) <= blocked_before:
        check(time.monotonic() < deadline, f"XREAD BLOCK never blocked on {waiting_on}")
        time.sleep(0.05)
    pusher.xadd(skey, {"new": "entry"}, id="2-1")
    thread.join(timeout=40)
    check(read.get("reply") == [[skey.encode(), [(b"2-1", {b"new": b"entry"})]]],
          f"the XREAD BLOCK client got {read.get('reply')!r}")
    started = time.monotonic()
    check(cluster.client(names[2]).xread({skey: "$"}, block=300) in (None, []), "an XREAD BLOCK that times out")
    check(time.monotonic() - started >= 0.3, "the XREAD BLOCK timeout was not waited for")


def exercise_pubsub(cluster, tag):
    """A message published through any member reaches the subscribers of every member, in publish order;
    PUBLISH counts receivers cluster-wide, PUBSUB sees every member; a subscriber that stops reading is
    closed once its output limit is reached, while the member keeps answering."""
    names = list(cluster.grpc)
    channel = f"{tag}:news"
    subscribers = {}
    for name in names:
        pubsub = cluster.client(name).pubsub()
        pubsub.subscribe(channel)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            message = pubsub.get_message(timeout=1)
            if message and message["type"] == "subscribe":
                break
            check(time.monotonic() < deadline, f"no SUBSCRIBE confirmation on {name}")
        subscribers[name] = pubsub
    publisher_counts = {}
    for name in names:
        r = cluster.client(name)
        publisher_counts[name] = [r.publish(channel, f"{name}-{i}") for i in range(5)]
    check(all(counts == [len(names)] * 5 for counts in publisher_counts.values()),
          f"PUBLISH counts every member's subscriber: {publisher_counts}")
    for name, pubsub in subscribers.items():
        received = []
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(received) < 5 * len(names) and time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1)
            if message and message["type"] == "message":
                received.append(message["data"].decode())
        for publisher in names:
            mine = [m for m in received if m.startswith(publisher + "-")]
            check(mine == [f"{publisher}-{i}" for i in range(5)],
                  f"{name} received {publisher}'s messages out of order or not at all: {mine}")
    r = cluster.client(names[0])
    check(r.pubsub_numsub(channel) == [(channel.encode(), len(names))], "PUBSUB NUMSUB over every member")
    check(channel.encode() in r.pubsub_channels(f"{tag}:*"), "PUBSUB CHANNELS over every member")
    for pubsub in subscribers.values():
        pubsub.close()

    # A subscriber that never reads: the member closes it past 32 MiB and stays responsive.
    import socket
    slow = socket.create_connection(("127.0.0.1", cluster.redis[names[1]]))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(f"AUTH {PASSWORD}\r\nSUBSCRIBE {tag}:flood\r\n".encode())
    time.sleep(0.5)
    flood = cluster.client(names[2])
    payload = "x" * (1 << 20)
    started = time.monotonic()
    for _ in range(48):
        flood.publish(f"{tag}:flood", payload)
        ping_started = time.monotonic()
        check(cluster.client(names[1]).ping() is True, "the member answers while a subscriber is flooded")
        check(time.monotonic() - ping_started < 5, "a PING waited on a slow subscriber")
    # The member closed it: no connection of that member is left in SUBSCRIBE (what the kernel had
    # buffered may still trickle to the socket; that is not the member's doing).
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        listing = cluster.client(names[1]).client_list()
        if not any(client.get("cmd") == "subscribe" for client in listing):
            break
        check(time.monotonic() < deadline, f"the slow subscriber was not closed: {listing}")
        time.sleep(0.2)
    slow.close()
    check(time.monotonic() - started < DEADLINE_SECONDS, "flooding took too long")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    cluster = Cluster(args.bin, args.workdir)
    try:
        for name in cluster.grpc:
            cluster.start(name)
        leader = cluster.leader()
        follower = next(name for name in cluster.grpc if name != leader)
        exercise_connection(cluster, follower)
        for name, tag in [(leader, "L"), (follower, "F")]:
            r = cluster.client(name)
            retrying(lambda: r.ping(), "first ping")
            exercise_strings(r, tag)
            exercise_keys_and_hashes(r, tag)
            exercise_pipeline_and_ttl(r, tag)
        exercise_transactions(cluster, "T")
        exercise_blocking_pops(cluster, "B")
        exercise_pubsub(cluster, "P")
        exercise_server_commands(cluster, leader, follower, "S")
        exercise_acl(cluster, leader, follower, "A")
        killed, count = crash_test(cluster)
        snapshot_catch_up(cluster)
        print(f"ok: commands through {leader} and {follower}, transactions through every member; crash of {killed} with {count} acknowledged writes")
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        sys.exit(1)
