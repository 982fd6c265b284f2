"""End-to-end test of scripts/local-cluster.sh with the built binaries.

Usage: local_cluster_test.py --repo DIR --bin DIR --workdir DIR

A 3-node cluster on a free base port in a temporary --dir: `start` prints how to connect, `status` shows the
members, a SET through one member is read back through another, a second `start` leaves the running members
alone, a cluster asked for on a port already in use is refused naming that port, and `stop` ends every
process. Then a 1-node `--encrypted` cluster: the KEK file is 0600 and both envelopes are on. One `ok:` line
per item; whatever the script started is stopped at the end, also on failure.
"""
import argparse
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time

import redis

sys.dont_write_bytecode = True  # importing the helpers must not leave __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_test import check  # noqa: E402
from ports import bindable, reserve  # noqa: E402

SCRIPT_SECONDS = 120
PORT_OFFSETS = (0, 100, 200)  # Redis, gRPC, metrics: node i listens on base + offset + i


def free_base_port(nodes):
    """A base port whose Redis, gRPC and metrics ports for `nodes` nodes are all free now.

    Drawn below Linux's ephemeral range (32768 on), where other tests' port-0 binds and outgoing connections
    land, so those cannot take a port between this check and the nodes' binds; each port is reserved
    (ports.reserve) so no other test process draws it meanwhile.
    """
    for _ in range(200):
        base = random.randrange(10000, 32000)
        ports = [base + offset + i for offset in PORT_OFFSETS for i in range(1, nodes + 1)]
        if all(bindable(port) for port in ports) and all(reserve(port) for port in ports):
            return base
    raise AssertionError("no free base port found")


class LocalCluster:
    def __init__(self, repo, bin_dir, directory):
        self.script = os.path.join(repo, "scripts", "local-cluster.sh")
        self.bin = bin_dir
        self.dir = directory

    def run(self, *arguments, expect=0):
        command = [self.script, *arguments, "--dir", self.dir]
        result = subprocess.run(command, capture_output=True, text=True, timeout=SCRIPT_SECONDS,
                                stdin=subprocess.DEVNULL)
        output = result.stdout + result.stderr
        if expect is not None:
            check(result.returncode == expect,
                  f"{' '.join(arguments)} exited {result.returncode}, not {expect}:\n{output}{self.logs()}")
        return result.returncode, output

    def start(self, *arguments, expect=0):
        return self.run("start", "--bin", self.bin, *arguments, expect=expect)

    def pids(self):
        found = {}
        for name in sorted(os.listdir(self.dir)) if os.path.isdir(self.dir) else []:
            if name.endswith(".pid"):
                with open(os.path.join(self.dir, name)) as file:
                    found[name[:-4]] = int(file.read().strip())
        return found

    def logs(self):
        text = ""
        for name in sorted(os.listdir(self.dir)) if os.path.isdir(self.dir) else []:
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), errors="replace") as file:
                    text += f"\n--- {name} (end)\n" + file.read()[-1500:]
        return text

    def admin(self, port, *arguments):
        result = subprocess.run([os.path.join(self.bin, "elastickv-admin"), "--addr", f"127.0.0.1:{port}",
                                 "--json", *arguments], capture_output=True, text=True, timeout=30)
        check(result.returncode == 0, f"elastickv-admin {' '.join(arguments)}: {result.stdout}{result.stderr}")
        return json.loads(result.stdout)

    def cleanup(self):
        """Stops what the script may have left running, through the script and then directly."""
        if os.path.exists(os.path.join(self.dir, "cluster.env")):
            self.run("stop", expect=None)
        for pid in self.pids().values():
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def write_through(client, key, value):
    """SET, retrying while an election settles (TRYAGAIN / CLUSTERDOWN)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            check(client.set(key, value) is True, "SET did not answer OK")
            return
        except redis.exceptions.RedisError as error:
            check(time.monotonic() < deadline, f"SET kept failing: {error}")
            time.sleep(0.2)


def three_nodes(repo, bin_dir, workdir):
    cluster = LocalCluster(repo, bin_dir, os.path.join(workdir, "plain"))
    base = free_base_port(3)
    try:
        _, output = cluster.start("--nodes", "3", "--base-port", str(base))
        for i in (1, 2, 3):
            check(f"redis-cli -p {base + i}" in output, f"start does not say how to reach n{i}:\n{output}")
            check(f"http://127.0.0.1:{base + 200 + i}/metrics" in output, f"no metrics URL of n{i}:\n{output}")
        check("elastickv-admin --addr 127.0.0.1:" in output, f"start prints no admin line:\n{output}")
        pids = cluster.pids()
        check(sorted(pids) == ["n1", "n2", "n3"] and all(alive(pid) for pid in pids.values()),
              f"pid files {pids} after start")
        print(f"ok: start --nodes 3 --base-port {base}: three members, a leader, how to connect")

        _, output = cluster.run("status")
        check("leader" in output and all(f"n{i} running" in output for i in (1, 2, 3)), f"status:\n{output}")
        status = cluster.admin(base + 101, "cluster", "status")
        check(len(status["members"]) == 3 and status["leader"], f"cluster status {status}")
        print("ok: status shows every member and the leader")

        write_through(redis.Redis(host="127.0.0.1", port=base + 2, socket_timeout=10), "local-cluster", "works")
        value = redis.Redis(host="127.0.0.1", port=base + 3, socket_timeout=10).get("local-cluster")
        check(value == b"works", f"GET through n3 read {value!r}")
        print("ok: SET through n2, GET through n3")

        _, output = cluster.start()
        check(output.count("already running") == 3 and cluster.pids() == pids, f"a second start:\n{output}")
        print("ok: a second start leaves the running members alone")

        other = LocalCluster(repo, bin_dir, os.path.join(workdir, "clash"))
        status, output = other.start("--nodes", "1", "--base-port", str(base), expect=None)
        check(status == 75 and f"{base + 1} (n1 --redis-addr)" in output, f"start on taken ports: {status}\n{output}")
        check(not other.pids(), "a refused start left a process")
        print(f"ok: a start on ports in use is refused naming them: {output.strip().splitlines()[-1]}")

        _, output = cluster.run("stop")
        check(all(f"n{i} stopped" in output for i in (1, 2, 3)), f"stop:\n{output}")
        check(not any(alive(pid) for pid in pids.values()), f"processes left after stop: {pids}")
        check(not cluster.pids(), "stop left pid files")
        _, output = cluster.run("stop")
        check("no member" in output, f"a second stop:\n{output}")
        print("ok: stop ends every member (SIGTERM), and a second stop is harmless")
    finally:
        cluster.cleanup()


def one_encrypted_node(repo, bin_dir, workdir):
    cluster = LocalCluster(repo, bin_dir, os.path.join(workdir, "encrypted"))
    base = free_base_port(1)
    try:
        _, output = cluster.start("--nodes", "1", "--base-port", str(base), "--encrypted")
        mode = stat.S_IMODE(os.stat(os.path.join(cluster.dir, "kek")).st_mode)
        check(mode == 0o600 and os.path.getsize(os.path.join(cluster.dir, "kek")) == 32, f"KEK file mode {mode:o}")
        status = cluster.admin(base + 101, "encryption", "status")
        check(status["storage_envelope_active"] and status["raft_envelope_cutover_index"] > 0,
              f"encryption status after start --encrypted: {status}\n{output}")
        write_through(redis.Redis(host="127.0.0.1", port=base + 1, socket_timeout=10), "sealed", "value")
        print("ok: start --encrypted: a 0600 KEK, storage and raft envelopes on, writes work")
        cluster.run("stop")
    finally:
        cluster.cleanup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--workdir", required=True)
    arguments = parser.parse_args()
    # ScriptRun sends SIGTERM at its time limit: exit through the `finally` blocks that stop the clusters.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    three_nodes(arguments.repo, arguments.bin, arguments.workdir)
    one_encrypted_node(arguments.repo, arguments.bin, arguments.workdir)
    print("ok: local-cluster.sh start, status, stop")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as error:
        print(f"FAILED: {error}")
        sys.exit(1)
