"""One maximum value size, end to end: a 3-node cluster with both envelopes on and --max-value-bytes LIMIT.

Usage: value_limit_test.py --bin DIR --workdir DIR
A value of LIMIT bytes (above the Raft defaults of 4 MiB, so the derived limits are exercised) written
through a follower is readable on every node; LIMIT + 1 bytes is answered with Redis's own error and proposes
nothing (the leader's commit index does not move). Every process is stopped at the end.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
from ports import free_ports  # noqa: E402

LIMIT = 6 * 1024 * 1024
DEADLINE_SECONDS = 60
TOO_LARGE = "string exceeds maximum allowed size (proto-max-bulk-len)"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


class Cluster:
    def __init__(self, bin_dir, workdir):
        self.bin = os.path.join(bin_dir, "elastickv")
        self.admin = os.path.join(bin_dir, "elastickv-admin")
        self.workdir = workdir
        ports = free_ports(6)
        self.names = ["n1", "n2", "n3"]
        self.grpc = dict(zip(self.names, ports[:3]))
        self.redis = dict(zip(self.names, ports[3:]))
        self.processes = {}
        self.kek = os.path.join(workdir, "kek")
        with open(self.kek, "wb") as handle:
            handle.write(os.urandom(32))
        os.chmod(self.kek, 0o600)

    def start_all(self):
        initial = ",".join(f"{name}=127.0.0.1:{port}" for name, port in self.grpc.items())
        for name in self.names:
            log = open(os.path.join(self.workdir, f"{name}.log"), "a")
            self.processes[name] = subprocess.Popen(
                [self.bin, "--node-id", name, "--data-dir", os.path.join(self.workdir, name),
                 "--grpc-addr", f"127.0.0.1:{self.grpc[name]}", "--redis-addr", f"127.0.0.1:{self.redis[name]}",
                 "--metrics-addr", "", "--initial-cluster", initial, "--encryption-enabled", "--kek-file", self.kek,
                 "--max-value-bytes", str(LIMIT)],
                stdout=log, stderr=log)

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def client(self, name):
        return redis.Redis(host="127.0.0.1", port=self.redis[name], socket_timeout=30)

    def info(self, name):
        try:
            return self.client(name).info()
        except redis.RedisError:
            return {}

    def leader(self):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            for name in self.names:
                if self.info(name).get("elastickv_raft_role") == "leader":
                    return name
            time.sleep(0.2)
        raise AssertionError("no leader elected")

    def admin_on_leader(self, *arguments):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            leader = self.leader()
            result = subprocess.run([self.admin, "--addr", f"127.0.0.1:{self.grpc[leader]}", *arguments],
                                    capture_output=True, text=True, timeout=60)
            if result.returncode == 0:
                return
            check(result.returncode in (69, 75) and time.monotonic() < deadline,
                  f"elastickv-admin {' '.join(arguments)} exited {result.returncode}: {result.stderr}")
            time.sleep(0.5)


def set_as_section9_says(cluster, name, key, value):
    """SET through `name` as a careful client does under DESIGN §9: an AMBIGUOUS answer (a large entry can
    outlast an election timeout on a loaded machine) is followed by a read, and the write is retried only
    when the read shows it did not apply; TRYAGAIN and CLUSTERDOWN are retried. Bounded in time."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:
            return cluster.client(name).set(key, value)
        except redis.ResponseError as error:
            text = str(error)
            if not text.startswith(("AMBIGUOUS", "TRYAGAIN", "CLUSTERDOWN")) or time.monotonic() > deadline:
                raise
            print(f"note: SET through {name} answered {text[:60]}…; reading before retrying", flush=True)
            if text.startswith("AMBIGUOUS"):
                try:
                    if cluster.client(name).get(key) == value:
                        return True
                except redis.ResponseError:
                    pass
            time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    options = parser.parse_args()
    cluster = Cluster(options.bin, options.workdir)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        cluster.start_all()
        cluster.admin_on_leader("encryption", "enable-storage-envelope")
        cluster.admin_on_leader("encryption", "enable-raft-envelope")
        leader = cluster.leader()
        follower = next(name for name in cluster.names if name != leader)
        value = os.urandom(LIMIT)
        check(set_as_section9_says(cluster, follower, "big", value) is True, "a value at the limit was refused")
        for name in cluster.names:
            deadline = time.monotonic() + DEADLINE_SECONDS
            while cluster.client(name).get("big") != value:
                check(time.monotonic() < deadline, f"{name} does not serve the value at the limit")
                time.sleep(0.2)
        print(f"ok: a {LIMIT}-byte value written through follower {follower} reads back on every node")
        before = cluster.info(leader)["elastickv_raft_commit_index"]
        for name in (follower, leader):
            try:
                cluster.client(name).set("too-big", value + b"x")
                raise AssertionError(f"{name} accepted a value above the limit")
            except redis.ResponseError as error:
                check(str(error) == TOO_LARGE, f"{name} answered {error!r}")
        time.sleep(1)
        after = cluster.info(leader)["elastickv_raft_commit_index"]
        check(after == before, f"the refused writes moved the commit index from {before} to {after}")
        check(cluster.client(leader).exists("too-big") == 0, "the refused value was stored")
        print(f"ok: {LIMIT + 1} bytes answered '-ERR {TOO_LARGE}' and proposed nothing (commit index {after})")
    except Exception:
        for name in cluster.names:
            path = os.path.join(options.workdir, f"{name}.log")
            if os.path.exists(path):
                print(f"--- {name}.log (tail)")
                print("".join(open(path, errors="replace").readlines()[-30:]))
        raise
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    main()
