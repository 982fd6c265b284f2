"""Mutual TLS on gRPC (DESIGN §11): a 3-node cluster whose Raft traffic, forwarding and admin calls all use
certificates of one CA (scripts/make-test-certs.sh).

Usage: grpc_tls_test.py --bin DIR --workdir DIR

Checks, against real processes: the cluster elects a leader and turns both encryption envelopes on through
elastickv-admin with the admin certificate (OU=admin); writes sent to a follower are forwarded and read on
every member; a client certificate without the admin role reads status but is refused rotate-dek, retire-dek
and membership changes with PERMISSION_DENIED naming the role; an admin without certificates cannot connect;
after a SIGKILL of the leader a new leader takes writes and the restarted member catches up; a node whose
certificate comes from another CA cannot be added (the leader cannot reach it) and never receives an entry;
after every node's certificate files are replaced and SIGHUP is sent, new connections get the new
certificates and the cluster keeps serving. Every process is stopped.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
from harness import check, run_main, stop_processes  # noqa: E402
from ports import free_ports  # noqa: E402
from tls_helpers import presented_certificate, renew  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_CERTS = os.path.join(HERE, "..", "..", "..", "scripts", "make-test-certs.sh")
DEADLINE_SECONDS = 60


class Cluster:
    def __init__(self, bin_dir, workdir):
        self.bin = os.path.join(bin_dir, "elastickv")
        self.admin_bin = os.path.join(bin_dir, "elastickv-admin")
        self.workdir = workdir
        self.certs = os.path.join(workdir, "certs")
        self.other = os.path.join(workdir, "other-ca")
        subprocess.run([MAKE_CERTS, self.certs, "n1", "n2", "n3"], check=True, capture_output=True)
        subprocess.run([MAKE_CERTS, self.other, "n4"], check=True, capture_output=True)
        names = ["n1", "n2", "n3", "n4"]
        ports = free_ports(8)
        self.grpc = dict(zip(names, ports[:4]))
        self.redis = dict(zip(names, ports[4:]))
        self.names = names[:3]
        self.processes = {}
        self.kek = os.path.join(workdir, "kek")
        with open(self.kek, "wb") as handle:
            handle.write(os.urandom(32))
        os.chmod(self.kek, 0o600)

    def start(self, name, certs=None, join=False):
        certs = certs or self.certs
        initial = ",".join(f"{member}=127.0.0.1:{self.grpc[member]}" for member in self.names)
        log = open(os.path.join(self.workdir, f"{name}.log"), "a")
        self.processes[name] = subprocess.Popen(
            [self.bin, "--node-id", name, "--data-dir", os.path.join(self.workdir, name),
             "--grpc-addr", f"127.0.0.1:{self.grpc[name]}", "--redis-addr", f"127.0.0.1:{self.redis[name]}",
             "--metrics-addr", "", "--initial-cluster", initial, "--encryption-enabled", "--kek-file", self.kek,
             "--tls-cert-file", f"{certs}/{name}.pem", "--tls-key-file", f"{certs}/{name}.key",
             "--tls-ca-file", f"{certs}/ca.pem"] + (["--join"] if join else []),
            stdout=log, stderr=log)

    def stop_all(self):
        stop_processes(self.processes.values())

    def client(self, name):
        return redis.Redis(host="127.0.0.1", port=self.redis[name], socket_timeout=30)

    def info(self, name):
        try:
            return self.client(name).info()
        except redis.RedisError:
            return {}

    def leader(self, excluding=None):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            for name in self.names:
                if name != excluding and self.info(name).get("elastickv_raft_role") == "leader":
                    return name
            time.sleep(0.2)
        raise AssertionError("no leader elected")

    def admin(self, name, *arguments, identity="admin", tls=True):
        flags = ["--tls-cert-file", f"{self.certs}/{identity}.pem", "--tls-key-file", f"{self.certs}/{identity}.key",
                 "--tls-ca-file", f"{self.certs}/ca.pem"] if tls else []
        return subprocess.run([self.admin_bin, "--addr", f"127.0.0.1:{self.grpc[name]}", "--timeout", "10", *flags,
                               *arguments], capture_output=True, text=True, timeout=60)

    def admin_on_leader(self, *arguments):
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            result = self.admin(self.leader(), *arguments)
            if result.returncode == 0:
                return result
            check(result.returncode in (69, 75) and time.monotonic() < deadline,
                  f"elastickv-admin {' '.join(arguments)} exited {result.returncode}: {result.stderr}")
            time.sleep(0.5)


def retrying(operation, what):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:
            return operation()
        except redis.RedisError as error:
            check(time.monotonic() < deadline, f"{what}: {error}")
            time.sleep(0.3)


def wait_for(condition, what):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        check(time.monotonic() < deadline, what)
        time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    cluster = Cluster(args.bin, args.workdir)
    try:
        for name in cluster.names:
            cluster.start(name)
        leader = cluster.leader()
        cluster.admin_on_leader("encryption", "enable-storage-envelope")
        cluster.admin_on_leader("encryption", "enable-raft-envelope")
        follower = next(name for name in cluster.names if name != leader)
        for i in range(20):
            check(retrying(lambda: cluster.client(follower).set(f"tls:{i}", f"v{i}"), "SET via a follower"),
                  "SET via a follower")
        for name in cluster.names:
            wait_for(lambda: cluster.client(name).get("tls:19") == b"v19", f"{name} never read the forwarded write")

        status = cluster.admin(follower, "encryption", "status", identity="client")
        check(status.returncode == 0 and "raft envelope" in status.stdout,
              f"status with a certificate but no admin role: {status.returncode} {status.stderr}")
        for arguments in (["encryption", "rotate-dek", "--purpose", "storage"],
                          ["encryption", "retire-dek", "--key-id", "1"],
                          ["cluster", "remove", "--node-id", "n3"]):
            refused = cluster.admin(cluster.leader(), *arguments, identity="client")
            check(refused.returncode != 0 and "PERMISSION_DENIED" in refused.stderr
                  and "admin role" in refused.stderr, f"{arguments} without the admin role: {refused.stderr}")
        plain = cluster.admin(leader, "cluster", "status", tls=False)
        check(plain.returncode != 0, f"a plaintext admin was answered: {plain.stdout}")
        cluster.admin_on_leader("encryption", "rotate-dek", "--purpose", "storage")

        cluster.processes[leader].kill()
        cluster.processes[leader].wait()
        successor = cluster.leader(excluding=leader)
        survivor = next(name for name in cluster.names if name not in (leader, successor))
        check(retrying(lambda: cluster.client(survivor).set("tls:after", "kill"), "SET after the SIGKILL"),
              "SET after the leader's SIGKILL")
        cluster.start(leader)
        wait_for(lambda: cluster.info(leader).get("elastickv_raft_role") is not None
                 and retrying(lambda: cluster.client(leader).get("tls:after"), "GET") == b"kill",
                 f"the restarted {leader} did not catch up")

        cluster.start("n4", certs=cluster.other, join=True)
        wait_for(lambda: cluster.info("n4").get("elastickv_raft_role") is not None, "n4 did not start")
        # The leader cannot reach n4 over mTLS (n4's certificate is of another CA), so the capability check
        # of add-learner fails and n4 is never added; n4 receives nothing either way.
        added = cluster.admin(cluster.leader(), "cluster", "add-learner", "--node-id", "n4",
                              "--addr", f"127.0.0.1:{cluster.grpc['n4']}")
        check(added.returncode != 0 and "n4" in added.stderr, f"add-learner of a node of another CA: {added.stdout}")
        time.sleep(3)
        applied = cluster.info("n4").get("elastickv_raft_applied_index", -1)
        check(applied == 0, f"a node with another CA's certificate received entries (applied index {applied})")
        members = cluster.admin(cluster.leader(), "cluster", "status")
        check(members.returncode == 0 and "n4" not in members.stdout, f"n4 became a member: {members.stdout}")
        # Certificate rotation: every node's files replaced, SIGHUP; new connections get the new certificates
        # and the cluster keeps serving (the old connections stay up until they end).
        old = {name: presented_certificate(cluster.grpc[name], cluster.certs, alpn=["h2"]) for name in cluster.names}
        for name in cluster.names:
            renew(cluster.certs, name, os.path.join(args.workdir, "renewal"))
        for name in cluster.names:
            cluster.processes[name].send_signal(signal.SIGHUP)
        for name in cluster.names:
            wait_for(lambda: presented_certificate(cluster.grpc[name], cluster.certs, alpn=["h2"]) != old[name],
                     f"{name} still presents its old certificate after SIGHUP")
        check(retrying(lambda: cluster.client(follower).set("tls:rotated", "yes"), "SET after rotation"),
              "SET after the certificate rotation")
        for name in cluster.names:
            wait_for(lambda: cluster.client(name).get("tls:rotated") == b"yes", f"{name} after the rotation")
        check(cluster.admin(cluster.leader(), "cluster", "status").returncode == 0, "admin after the rotation")
        print(f"ok: mTLS cluster: envelopes on, writes through {follower}, admin role enforced, plaintext admin "
              f"refused, SIGKILL of {leader} survived, a node of another CA never joined, certificates rotated")
    finally:
        cluster.stop_all()


if __name__ == "__main__":
    run_main(main)
