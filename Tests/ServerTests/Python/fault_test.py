"""Fault suite: a 3-node elastickv cluster under real faults while clients read and write, histories recorded.

Usage: fault_test.py --bin DIR --workdir DIR

Runs twice, first in cleartext, then with encryption on (both envelopes enabled on the live cluster before
the workload). Each run starts n1, n2, n3 on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (Linux routes all of 127/8
to lo) and runs several client threads doing SETs of unique values and GETs on a few keys, while twice in a
row it SIGKILLs the leader and restarts it, SIGSTOPs the leader for longer than the election timeout and
then SIGCONTs it, and cuts the leader off from the two others with iptables and then heals. Each fault lasts
until the two other members have elected a new leader (bounded), so a fault that did not take hold fails
the run. Then it waits for the replicas to converge, reads every key through every node, and writes the
history as JSON (`history-<run>.json` in the workdir) for FaultSuiteTests.swift to check for
linearizability.

Outcomes are read strictly per DESIGN §9: a success reply is applied; an error reply whose code is
`AMBIGUOUS` is unknown; any other error reply is not applied; a connection that could not be opened means
the request was never sent (not applied); a timeout or a lost connection once the request started to be
written is unknown (part of it may have left). Failed reads are recorded as failed and are left out of the
checked history.

The partition needs root and iptables: each node then runs with its own group id (setpriv), because every
process on lo sends from 127.0.0.1 whatever address it listens on, so only the sending process tells one
node's packets from another's. A chain `EKV-FAULT-<pid>`, jumped to from OUTPUT (the owner match is only
valid there, and every packet on lo passes OUTPUT), drops the packets the isolated node's process sends to
the other nodes' gRPC listeners, its gRPC server's answers, and the packets the others send to its gRPC
listener. The chain and its jump are removed in a `finally`; a stale chain of the same name, and chains left
by runs whose process is gone, are removed first. Without iptables or root the partition is skipped with
one `skip: iptables partitions: <reason>` line and the rest runs.

The script checks, and exits 1 on failure: each key reads the same through every node; that value was
written by a write not answered as failed, and no acknowledged write began after that write returned; no
read returned a value whose write was answered as not applied; no non-AMBIGUOUS error reply says the
outcome is unknown; with encryption on no value written is on disk in cleartext (in cleartext some are, so
the search is not blind). Every process it starts is stopped at the end (SIGTERM, then SIGKILL), also on
failure or SIGTERM.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
from ports import free_ports  # noqa: E402

PASSWORD = "s3cret"
NODES = ("n1", "n2", "n3")
ADDRESSES = {"n1": "127.0.0.1", "n2": "127.0.0.2", "n3": "127.0.0.3"}
KEYS = tuple(f"fault:k{i}" for i in range(5))
CLIENTS = 8
# Longer than the server's 10 s request deadline, so a writer sees the server's own answer when there is one.
SOCKET_TIMEOUT_SECONDS = 12.0
# A read given up is only left out of the history, so readers give up sooner and keep the workload going.
READ_TIMEOUT_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 2.0
PAUSE_BETWEEN_OPERATIONS_SECONDS = 0.002
MAX_OPERATIONS_PER_CLIENT = 6000
# The election timeout is 10 ticks of 100 ms.
ELECTION_TIMEOUT_SECONDS = 1.0
PAUSE_SECONDS = 3.0
PARTITION_SECONDS = 4.0
# The longest a fault is held while waiting for the other members to elect a leader.
MAX_FAULT_SECONDS = 10.0
SETTLE_SECONDS = 3.0
FAULT_ROUNDS = 2
DEADLINE_SECONDS = 30
STOP_GRACE_SECONDS = 10
SNAPSHOT_EVERY_ENTRIES = 1000
CHAIN = f"EKV-FAULT-{os.getpid()}"
# Each node's processes run with their own group id (for the iptables owner match).
GROUP_ID_BASE = 200_000 + (os.getpid() % 100_000) * 4
# Every value starts with MAGIC; keys never contain it, so MAGIC in a file is a value stored in cleartext.
MAGIC = "EKV-FAULT-VALUE-"
NOT_APPLIED_BUT_UNSURE = re.compile(r"may (still )?(take effect|have (been )?applied|commit|apply)", re.IGNORECASE)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_until(condition, what, seconds=DEADLINE_SECONDS, interval=0.2):
    """Polls `condition` until it returns a true value, which it returns; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(interval)


def reply_text(error):
    """The error line as the server sent it (redis-py strips a known code such as TRYAGAIN into status_code)."""
    code = getattr(error, "status_code", None)
    return f"{code} {error}" if code else str(error)


class Cluster:
    """Three elastickv processes, one per loopback address, plus the admin CLI."""

    def __init__(self, bin_dir, workdir, encrypted, group_ids):
        self.elastickv = os.path.join(bin_dir, "elastickv")
        self.admin_binary = os.path.join(bin_dir, "elastickv-admin")
        self.workdir = workdir
        self.encrypted = encrypted
        self.grpc = {name: free_ports(1, ADDRESSES[name])[0] for name in NODES}
        self.redis = {name: free_ports(1, ADDRESSES[name])[0] for name in NODES}
        self.initial = ",".join(f"{name}={ADDRESSES[name]}:{self.grpc[name]}" for name in NODES)
        self.group_ids = {name: GROUP_ID_BASE + i for i, name in enumerate(NODES)} if group_ids else None
        self.processes = {}
        self.paused = set()
        self.kek = None
        if encrypted:
            self.kek = os.path.join(workdir, "kek")
            descriptor = os.open(self.kek, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(descriptor, os.urandom(32))
            os.close(descriptor)
            os.chmod(self.kek, 0o600)

    def data_dir(self, name):
        return os.path.join(self.workdir, "data", name)

    def log_path(self, name):
        return os.path.join(self.workdir, f"{name}.log")

    def start(self, name):
        arguments = [self.elastickv, "--node-id", name, "--data-dir", self.data_dir(name),
                     "--grpc-addr", f"{ADDRESSES[name]}:{self.grpc[name]}",
                     "--redis-addr", f"{ADDRESSES[name]}:{self.redis[name]}",
                     "--metrics-addr", "", "--initial-cluster", self.initial, "--redis-password", PASSWORD,
                     "--snapshot-every-entries", str(SNAPSHOT_EVERY_ENTRIES)]
        if self.encrypted:
            arguments += ["--encryption-enabled", "--kek-file", self.kek]
        launcher = []
        if shutil.which("setpriv"):
            # The node dies with this script even if the script is SIGKILLed.
            launcher = ["setpriv", "--pdeathsig", "KILL"]
            if self.group_ids:
                launcher += ["--regid", str(self.group_ids[name]), "--clear-groups"]
            launcher.append("--")
        with open(self.log_path(name), "ab") as log:
            self.processes[name] = subprocess.Popen(launcher + arguments, stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name):
        process = self.processes.pop(name)
        process.kill()
        process.wait(timeout=STOP_GRACE_SECONDS)
        self.paused.discard(name)

    def pause(self, name):
        self.processes[name].send_signal(signal.SIGSTOP)
        self.paused.add(name)

    def resume(self, name):
        if name in self.processes:
            self.processes[name].send_signal(signal.SIGCONT)
        self.paused.discard(name)

    def stop_all(self):
        """SIGCONT and SIGTERM to every process, SIGKILL to those still running after the grace period."""
        for name, process in list(self.processes.items()):
            try:
                process.send_signal(signal.SIGCONT)
                process.send_signal(signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, process in list(self.processes.items()):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"# {name} ignored SIGTERM for {STOP_GRACE_SECONDS} s; SIGKILL", flush=True)
                process.kill()
                process.wait()
        self.processes.clear()
        self.paused.clear()

    def admin(self, name, *arguments, timeout=20):
        """Runs `elastickv-admin --addr <name> --json …`; a timeout is reported as exit status 4 (retryable)."""
        command = [self.admin_binary, "--addr", f"{ADDRESSES[name]}:{self.grpc[name]}", "--json", *arguments]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(command, 4, "", f"timed out after {timeout} s")

    def status(self, name):
        result = self.admin(name, "cluster", "status", timeout=3)
        if result.returncode != 0:
            return None
        try:
            return json.loads(result.stdout)
        except ValueError:
            return None

    def wait_all_up(self):
        """Waits (bounded) until every member answers status and knows the same leader; a member that exited
        fails at once, naming it (its log is printed with the failure)."""
        def up():
            exited = [name for name, process in self.processes.items() if process.poll() is not None]
            check(not exited, f"{', '.join(exited)} exited during start-up (see the log below)")
            statuses = [self.status(name) for name in NODES]
            leaders = {status.get("leader") for status in statuses if status}
            return all(statuses) and len(leaders) == 1 and None not in leaders
        wait_until(up, "every member to be up and agree on a leader")

    def leader(self):
        """The running, unpaused member that reports itself as leader."""
        def find():
            for name in list(self.processes):
                if name in self.paused:
                    continue
                status = self.status(name)
                if status and status.get("leader") == name:
                    return name
            return None
        return wait_until(find, "a leader")

    def on_leader(self, *arguments):
        """Runs an admin mutator on the leader, retrying while the leader moves (exit 3) or is busy (exit 4)."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            leader = self.leader()
            result = self.admin(leader, *arguments)
            if result.returncode == 0:
                return json.loads(result.stdout)
            text = (result.stdout + result.stderr).strip()
            if result.returncode not in (3, 4) or time.monotonic() > deadline:
                raise AssertionError(f"elastickv-admin {' '.join(arguments)} on {leader} exited "
                                     f"{result.returncode}: {text}")
            time.sleep(0.3)

    def connection(self, name):
        """One redis-py connection, without redis-py's own retries (a resent write would blur its outcome)."""
        return redis.Connection(host=ADDRESSES[name], port=self.redis[name], password=PASSWORD,
                                socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                retry=Retry(NoBackoff(), 0), health_check_interval=0)


class Partitions:
    """Isolates one node from the others with iptables rules in this script's own chain."""

    def __init__(self, cluster, unavailable):
        self.cluster = cluster
        # Why partitions cannot be made here (see probe()), or None.
        self.unavailable = unavailable

    @staticmethod
    def iptables(*arguments):
        return subprocess.run(["iptables", "-w", "5", *arguments], capture_output=True, text=True, timeout=30)

    @classmethod
    def probe(cls):
        """Why partitions cannot be made here, or None; removes a stale chain of this name either way."""
        if shutil.which("iptables") is None:
            return "iptables is not installed"
        if os.geteuid() != 0:
            return "not running as root"
        if not shutil.which("setpriv"):
            return "setpriv is missing, so nodes cannot be told apart by group id"
        cls.remove_chain()
        cls.remove_abandoned_chains()
        for arguments in (("-N", CHAIN), ("-A", CHAIN, "-m", "owner", "--gid-owner", "1", "-j", "RETURN"),
                          ("-I", "OUTPUT", "1", "-j", CHAIN)):
            result = cls.iptables(*arguments)
            if result.returncode != 0:
                cls.remove_chain()
                return f"`iptables {' '.join(arguments)}` failed: {(result.stderr or result.stdout).strip()}"
        cls.remove_chain()
        return None

    @classmethod
    def remove_chain(cls, chain=CHAIN):
        """Removes every jump to `chain`, then the chain; a missing chain is not an error."""
        for _ in range(10):
            if cls.iptables("-D", "OUTPUT", "-j", chain).returncode != 0:
                break
        cls.iptables("-F", chain)
        cls.iptables("-X", chain)

    @classmethod
    def remove_abandoned_chains(cls):
        """Removes the chains of earlier runs of this script whose process is gone (it was SIGKILLed)."""
        listing = cls.iptables("-S").stdout
        for pid in sorted(set(re.findall(r"^-N EKV-FAULT-(\d+)$", listing, re.MULTILINE)))[:20]:
            if int(pid) != os.getpid() and not os.path.exists(f"/proc/{pid}"):
                print(f"# removing the iptables chain EKV-FAULT-{pid} left by a run that is gone", flush=True)
                cls.remove_chain(f"EKV-FAULT-{pid}")

    def isolate(self, name):
        """Drops the traffic between `name`'s process and the other nodes' processes, both ways."""
        cluster = self.cluster
        rules = []
        for other in NODES:
            if other == name:
                continue
            rules.append(("-m", "owner", "--gid-owner", str(cluster.group_ids[name]), "-p", "tcp",
                          "-d", ADDRESSES[other], "--dport", str(cluster.grpc[other]), "-j", "DROP"))
            rules.append(("-m", "owner", "--gid-owner", str(cluster.group_ids[other]), "-p", "tcp",
                          "-d", ADDRESSES[name], "--dport", str(cluster.grpc[name]), "-j", "DROP"))
        # Answers of its gRPC server to requests already received (the admin CLI to it is cut too).
        rules.append(("-m", "owner", "--gid-owner", str(cluster.group_ids[name]), "-p", "tcp",
                      "-s", ADDRESSES[name], "--sport", str(cluster.grpc[name]), "-j", "DROP"))
        self.remove_chain()
        commands = [("-N", CHAIN)] + [("-A", CHAIN, *rule) for rule in rules] + [("-I", "OUTPUT", "1", "-j", CHAIN)]
        for arguments in commands:
            result = self.iptables(*arguments)
            check(result.returncode == 0, f"iptables {' '.join(arguments)}: {(result.stderr or result.stdout).strip()}")

    def heal(self):
        self.remove_chain()
        leftover = self.iptables("-S", CHAIN)
        check(leftover.returncode != 0, f"the chain {CHAIN} is still there after healing: {leftover.stdout}")


class History:
    """Every operation of one run, with times in microseconds since the run began (time.monotonic)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.origin = time.monotonic()
        self.operations = []
        self.faults = []
        self.skipped = []

    def now(self):
        return int((time.monotonic() - self.origin) * 1_000_000)

    def record(self, operation):
        with self.lock:
            self.operations.append(operation)

    def fault(self, kind, node, start, **details):
        with self.lock:
            self.faults.append({"kind": kind, "node": node, "start": start, "end": self.now(), **details})
            print(f"# fault {len(self.faults)}: {kind} {node} {details or ''}", flush=True)

    def snapshot(self):
        with self.lock:
            return list(self.operations), list(self.faults)


def perform(connection_holder, cluster, name, client, kind, key, value, history):
    """Runs one SET or GET through `name` and records it with its §9 outcome; returns the recorded operation."""
    operation = {"client": client, "node": name, "kind": kind, "key": key, "value": value,
                 "call": history.now(), "return": None}
    sent = False
    try:
        if connection_holder[0] is None:
            connection = cluster.connection(name)
            connection.connect()
            connection_holder[0] = connection
        connection = connection_holder[0]
        sent = True
        if kind == "put":
            connection.send_command("SET", key, value)
            reply = connection.read_response()
        else:
            connection.send_command("GET", key)
            reply = connection.read_response(timeout=READ_TIMEOUT_SECONDS)
        operation["return"] = history.now()
        if kind == "put":
            check(reply in (b"OK", "OK", True), f"SET {key} through {name} replied {reply!r}")
            operation.update(outcome="ok", reply="OK")
        else:
            operation.update(outcome="ok", reply="value", value=None if reply is None else reply.decode())
    except redis.exceptions.ResponseError as error:
        # An error reply: only AMBIGUOUS leaves the outcome open.
        operation["return"] = history.now()
        text = reply_text(error)
        outcome = "unknown" if text.split(" ", 1)[0] == "AMBIGUOUS" else "failed"
        operation.update(outcome=outcome, reply=text)
        if outcome == "unknown":
            # Pending for the checker: it may take effect at any time after its call, or never.
            operation["answered"], operation["return"] = operation["return"], None
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as error:
        if connection_holder[0] is not None:
            connection_holder[0].disconnect()
        connection_holder[0] = None
        if sent:
            operation.update(outcome="unknown", reply=f"{type(error).__name__} after sending: {error}")
        else:
            operation.update(outcome="failed", reply=f"{type(error).__name__} before sending: {error}",
                             **{"return": history.now()})
    if kind == "get" and operation["outcome"] != "ok":
        operation["outcome"] = "failed"
        operation["value"] = None
    history.record(operation)
    return operation


class Client(threading.Thread):
    """One client with its own connection: SETs of unique values and GETs on KEYS until stopped."""

    def __init__(self, index, cluster, history, stopping):
        super().__init__(daemon=True)
        self.index = index
        self.cluster = cluster
        self.history = history
        self.stopping = stopping
        self.random = random.Random(index)
        self.node = NODES[index % len(NODES)]
        self.failure = None

    def run(self):
        try:
            self.work()
        except BaseException as error:
            self.failure = error

    def work(self):
        holder = [None]
        for number in range(MAX_OPERATIONS_PER_CLIENT):
            if self.stopping.is_set():
                break
            key = self.random.choice(KEYS)
            if self.random.random() < 0.5:
                value = f"{MAGIC}c{self.index}-{number}-{self.random.getrandbits(32):08x}"
                done = perform(holder, self.cluster, self.node, self.index, "put", key, value, self.history)
            else:
                done = perform(holder, self.cluster, self.node, self.index, "get", key, None, self.history)
            if holder[0] is None:
                # Connection gone: try the next node.
                self.node = NODES[(NODES.index(self.node) + 1) % len(NODES)]
                time.sleep(0.05)
            elif done["outcome"] != "ok":
                time.sleep(0.05)
            time.sleep(PAUSE_BETWEEN_OPERATIONS_SECONDS)
        if holder[0] is not None:
            holder[0].disconnect()


def leader_elected_without(cluster, name, history):
    """Waits (bounded) until the members other than `name` agree on a leader other than `name`; returns it."""
    def elected():
        statuses = [cluster.status(other) for other in NODES if other != name and other in cluster.processes]
        leaders = {status["leader"] for status in statuses if status}
        return len(statuses) == 2 and len(leaders) == 1 and None not in leaders and name not in leaders \
            and leaders.pop()
    began = history.now()
    leader = wait_until(elected, f"the members other than {name} to elect a leader", seconds=MAX_FAULT_SECONDS)
    return leader, round((history.now() - began) / 1e6, 1)


def inject_faults(cluster, partitions, history):
    """The fault schedule, FAULT_ROUNDS times: leader SIGKILL and restart, leader SIGSTOP and SIGCONT, leader
    partition and heal.

    Each fault is held until the other two members have elected a new leader (at most MAX_FAULT_SECONDS),
    which also shows the fault took hold.
    """
    if partitions.unavailable:
        history.skipped.append(f"iptables partitions: {partitions.unavailable}")
    for _ in range(FAULT_ROUNDS):
        time.sleep(SETTLE_SECONDS)
        leader = cluster.leader()
        start = history.now()
        cluster.kill(leader)
        time.sleep(ELECTION_TIMEOUT_SECONDS)
        successor, elected_in = leader_elected_without(cluster, leader, history)
        cluster.start(leader)
        history.fault("kill", leader, start, successor=successor, elected_within_seconds=elected_in)

        time.sleep(SETTLE_SECONDS)
        leader = cluster.leader()
        start = history.now()
        cluster.pause(leader)
        try:
            time.sleep(PAUSE_SECONDS)
            successor, elected_in = leader_elected_without(cluster, leader, history)
        finally:
            cluster.resume(leader)
        history.fault("pause", leader, start, seconds=PAUSE_SECONDS, successor=successor,
                      elected_within_seconds=elected_in)

        if partitions.unavailable:
            continue
        time.sleep(SETTLE_SECONDS)
        leader = cluster.leader()
        start = history.now()
        try:
            partitions.isolate(leader)
            time.sleep(PARTITION_SECONDS)
            successor, elected_in = leader_elected_without(cluster, leader, history)
        finally:
            partitions.heal()
        history.fault("partition", leader, start, seconds=PARTITION_SECONDS, successor=successor,
                      elected_within_seconds=elected_in)
    time.sleep(SETTLE_SECONDS)


def converge(cluster):
    """Waits until every member has applied what the leader had committed when the workload ended."""
    leader = cluster.leader()
    target = wait_until(lambda: cluster.status(leader), f"status of {leader}")["commit_index"]

    def caught_up():
        statuses = {name: cluster.status(name) for name in NODES}
        return all(status and status["applied_index"] >= target for status in statuses.values())
    wait_until(caught_up, f"every member to apply index {target}")


def final_reads(cluster, history):
    """Reads every key through every node (a client per node, ids 100+), retrying reads that fail."""
    values = {}
    for offset, name in enumerate(NODES):
        holder = [None]
        for key in KEYS:
            def read_once():
                done = perform(holder, cluster, name, 100 + offset, "get", key, None, history)
                return done if done["outcome"] == "ok" else None
            values[(name, key)] = wait_until(read_once, f"a read of {key} through {name}", interval=0.3)["value"]
        if holder[0] is not None:
            holder[0].disconnect()
    return values


def judge(operations, values):
    """The script's own checks on a finished history; returns the list of findings (empty when fine)."""
    findings = []
    writes = {op["value"]: op for op in operations if op["kind"] == "put"}
    for op in operations:
        if op["outcome"] == "failed" and NOT_APPLIED_BUT_UNSURE.search(op.get("reply", "")) \
                and not op["reply"].startswith(("ConnectionError", "TimeoutError")):
            findings.append(f"§9: a {op['kind']} of {op['key']} through {op['node']} got the non-AMBIGUOUS reply "
                            f"{op['reply']!r}, which says the outcome is unknown")
    for op in operations:
        if op["kind"] != "get" or op["outcome"] != "ok" or op["value"] is None:
            continue
        write = writes.get(op["value"])
        if write is None:
            findings.append(f"a get of {op['key']} through {op['node']} read {op['value']!r}, which nobody wrote")
        elif write["outcome"] == "failed":
            findings.append(f"§9: a get of {op['key']} through {op['node']} at {op['call']}..{op['return']} µs read "
                            f"{op['value']!r}, written by client {write['client']} through {write['node']} at "
                            f"{write['call']}..{write['return']} µs and answered {write['reply']!r} (not applied)")
    for key in KEYS:
        seen = {name: values[(name, key)] for name in NODES}
        if len(set(seen.values())) != 1:
            findings.append(f"the nodes disagree on {key}: {seen}")
            continue
        final = seen[NODES[0]]
        acknowledged = [op for op in operations if op["kind"] == "put" and op["key"] == key and op["outcome"] == "ok"]
        if final is None:
            if acknowledged:
                findings.append(f"{key} reads as absent on every node, yet {len(acknowledged)} writes of it were "
                                f"acknowledged, e.g. {acknowledged[-1]['value']!r}")
            continue
        write = writes.get(final)
        if write is None or write["outcome"] == "failed":
            continue  # already reported above
        if write["return"] is not None:
            later = [op for op in acknowledged if op["call"] > write["return"]]
            if later:
                findings.append(f"{key} ends as {final!r} (written {write['call']}..{write['return']} µs), losing "
                                f"the acknowledged {later[-1]['value']!r} written "
                                f"{later[-1]['call']}..{later[-1]['return']} µs")
    return findings


def plaintext_on_disk(cluster, values):
    """The written values found in cleartext in any file under the data dirs."""
    pattern = re.compile(re.escape(MAGIC.encode()) + rb"c\d+-\d+-[0-9a-f]{8}")
    found = set()
    for root, _, files in os.walk(os.path.join(cluster.workdir, "data")):
        for file in files:
            with open(os.path.join(root, file), "rb") as handle:
                found.update(match.group().decode() for match in pattern.finditer(handle.read()))
    return found & values


def summary(operations, faults):
    counts = {}
    for op in operations:
        counts[(op["kind"], op["outcome"])] = counts.get((op["kind"], op["outcome"]), 0) + 1
    replies = {}
    for op in operations:
        if op["outcome"] != "ok":
            text = re.sub(r"\d+", "N", op["reply"])[:120]
            replies[text] = replies.get(text, 0) + 1
    parts = ", ".join(f"{kind} {outcome} {count}" for (kind, outcome), count in sorted(counts.items()))
    top = "; ".join(f"{count}× {text}" for text, count in sorted(replies.items(), key=lambda kv: -kv[1])[:8])
    return f"{len(operations)} operations ({parts}); {len(faults)} faults; replies other than success: {top or 'none'}"


def run(name, bin_dir, workdir, encrypted, partitions_unavailable):
    """One run: cluster up, (encryption on), workload under faults, convergence, final reads, history file."""
    run_dir = os.path.join(workdir, name)
    os.makedirs(run_dir)
    began = time.monotonic()
    cluster = Cluster(bin_dir, run_dir, encrypted, group_ids=partitions_unavailable is None)
    partitions = Partitions(cluster, partitions_unavailable)
    history = History()
    stopping = threading.Event()
    clients = []
    findings = []
    try:
        for node in NODES:
            cluster.start(node)
        cluster.wait_all_up()
        if encrypted:
            phase1 = cluster.on_leader("encryption", "enable-storage-envelope")
            phase2 = cluster.on_leader("encryption", "enable-raft-envelope")
            print(f"# {name}: storage envelope at index {phase1.get('index')}, raft envelope cut-over at "
                  f"{phase2.get('index')}", flush=True)
        clients = [Client(i, cluster, history, stopping) for i in range(CLIENTS)]
        for client in clients:
            client.start()
        try:
            inject_faults(cluster, partitions, history)
        finally:
            stopping.set()
            for client in clients:
                client.join(timeout=SOCKET_TIMEOUT_SECONDS + 5)
            if not partitions.unavailable:
                partitions.heal()
            for node in list(cluster.paused):
                cluster.resume(node)
        check(not any(client.is_alive() for client in clients), "a client thread did not stop")
        failures = [client.failure for client in clients if client.failure]
        check(not failures, f"client failures: {failures[:3]}")
        for node in NODES:
            if node not in cluster.processes:
                cluster.start(node)
        converge(cluster)
        values = final_reads(cluster, history)
        operations, faults = history.snapshot()
        findings = judge(operations, values)
        cluster.stop_all()
        written = {op["value"] for op in operations if op["kind"] == "put"}
        on_disk = plaintext_on_disk(cluster, written)
        if encrypted and on_disk:
            findings.append(f"{len(on_disk)} values written with both envelopes on are on disk in cleartext, "
                            f"e.g. {sorted(on_disk)[:3]}")
        if not encrypted and not on_disk:
            findings.append("no value written in cleartext was found on disk: the search for cleartext is blind")
    finally:
        stopping.set()
        cluster.stop_all()
        if not partitions.unavailable:
            partitions.remove_chain()
        operations, faults = history.snapshot()
        path = os.path.join(workdir, f"history-{name}.json")
        with open(path, "w") as out:
            json.dump({"run": name, "encrypted": encrypted, "faults": faults, "skipped": history.skipped,
                       "operations": operations}, out)
        print(f"# {name}: history written to {path}", flush=True)
    print(f"# {name}: {summary(operations, faults)}", flush=True)
    for finding in findings:
        print(f"FINDING ({name}): {finding}", flush=True)
    check(not findings, f"{len(findings)} finding(s) in the {name} run")
    print(f"ok: {name} run: {len(operations)} operations under {len(faults)} faults "
          f"({', '.join(f['kind'] for f in faults)}), every key agrees on every node, "
          f"{time.monotonic() - began:.0f} s", flush=True)


def print_log_tails(workdir, lines=15):
    for root, _, files in os.walk(workdir):
        for file in sorted(files):
            if file.endswith(".log"):
                with open(os.path.join(root, file), errors="replace") as log:
                    tail = log.read().splitlines()[-lines:]
                print(f"--- last lines of {os.path.join(root, file)}\n" + "\n".join(tail), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.monotonic()
    partitions_unavailable = Partitions.probe()
    if partitions_unavailable:
        print(f"skip: iptables partitions: {partitions_unavailable}", flush=True)
    failures = []
    for name, encrypted in (("cleartext", False), ("encrypted", True)):
        try:
            run(name, args.bin, args.workdir, encrypted, partitions_unavailable)
        except AssertionError as error:
            failures.append(f"{name}: {error}")
            print(f"FAILED: {name}: {error}", flush=True)
            print_log_tails(os.path.join(args.workdir, name))
    check(not failures, "; ".join(failures))
    print(f"ok: fault suite, both runs, {time.monotonic() - began:.0f} s", flush=True)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}", flush=True)
        sys.exit(1)
